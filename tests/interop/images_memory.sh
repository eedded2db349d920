#!/usr/bin/env bash
# images_memory.sh: the initramfs writer streams, so its peak memory does
# not grow with the base. Peak RSS (/usr/bin/time) for a 16 MiB base and
# for a 256 MiB one (as a directory and as a tar.zst) must stay within
# MB_RSS_SLACK_KB (default 16 MiB) of each other. Single-threaded and
# short; 1 GiB figures are in the closing report.
set -euo pipefail
b=${MB_BUILD_DIR:?}
mb=$b/builder/metalboot-build
slack=${MB_RSS_SLACK_KB:-16384}
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "SKIP: /usr/bin/time missing" >&2; exit 77; }
work=$(mktemp -d /tmp/mbimgmem.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

mktree() { # mktree DIR MIB: files of 1 MiB, half random, half text
	local i
	mkdir -p "$1/bin" "$1/share"
	for ((i = 0; i < $2; i += 2)); do
		head -c 1048576 /dev/urandom >"$1/bin/blob$i"
		{ yes "line $i of a compressible file" || true; } |
			head -c 1048576 >"$1/share/text$i"
	done
}
rss() { # rss ARGS...: peak RSS in KiB of metalboot-build ARGS
	/usr/bin/time -f '%M' -o rss.out "$mb" "$@" -q
	cat rss.out
}
mktree small 16
mktree large 256
tar -C large --zstd -cf large.tar.zst .

s=$(rss initramfs --base small -o small.img)
l=$(rss initramfs --base large -o large.img)
t=$(rss initramfs --base large.tar.zst -o tar.img)
echo "peak RSS: 16 MiB dir ${s} KiB, 256 MiB dir ${l} KiB," \
	"256 MiB tar.zst ${t} KiB" >&2
((l - s < slack)) || fail "RSS grew by $((l - s)) KiB for a 16x larger base"
((t - s < slack)) || fail "RSS grew by $((t - s)) KiB reading a tarball"
echo "images_memory: ok"
