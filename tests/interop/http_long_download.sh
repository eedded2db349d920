#!/usr/bin/env bash
# http_long_download.sh: a download that takes longer than the idle
# timeout, data flowing all along (a machine on a slow link fetching its
# initrd), arrives whole: the idle timeout counts time without progress,
# not the length of a response. A client that stops reading is still
# dropped once the idle timeout passes without progress.
set -uo pipefail
. "$(dirname "$0")/http_common.bash"
fail() { echo "http_long_download: FAIL: $*" >&2; exit 1; }

http_port=$(free_port)
tftp_port=$(free_port)
root=$work/root
mkdir -p "$root"
# Much larger than the loopback socket buffers, so that the server is
# still writing when the idle timeout passes.
head -c 48M /dev/urandom >"$root/initrd"
nb_start --root "$root" --dhcp off --listen 127.0.0.1 \
	--http-port "$http_port" --tftp-port "$tftp_port" \
	--http-idle-timeout 2
base=http://127.0.0.1:$http_port

# About 6 s each at 8 MiB/s, three times the idle timeout; twice on one
# kept-alive connection (the second response must not get evhttp's
# timeouts back).
curl -fsS --limit-rate 8M -o "$work/got1" "$base/files/initrd" \
	-o "$work/got2" "$base/files/initrd" ||
	fail "the slow download failed (curl exit $?)"
for g in got1 got2; do
	cmp -s "$root/initrd" "$work/$g" ||
		fail "the slow download is cut: $(stat -c %s "$work/$g") of $((48 << 20)) bytes"
done

# A client that reads nothing after its request: closed, not kept.
stalled_reader "$http_port" /files/initrd $((48 << 20)) ||
	fail "a stalled reader was kept open"
echo "http_long_download: ok"
