#!/usr/bin/env bash
# tftp_hostile.sh - hostile input against metalboot-netboot: malformed and
# oversized requests, bad modes and options, traversal and symlinks out of
# the root, WRQ, wrong TIDs, duplicate ACKs, the EDK II ERROR 8 probe
# (tftp_hostile.py); then, in a private network namespace when we may
# create one, the MTU clamp and the reply source address. The server must
# keep serving and exit cleanly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tftp_lib.bash"
tftp_setup

root=$TFTP_WORK/root
mkdir -p "$root/sub" "$TFTP_WORK/outside"
tftp_mkfile "$root/good" 5000
tftp_mkfile "$root/big" $((512 * 300 + 7))
tftp_mkfile "$root/sub/inner" 777
echo secret >"$TFTP_WORK/outside/passwd"
ln -s /etc/passwd "$root/escape"
ln -s "$TFTP_WORK/outside" "$root/sub/escape-dir"
ln -s good "$root/alias"
mkfifo "$root/fifo"
port=$(tftp_free_port)
tftp_start "$root" "$port"
status=0
python3 "$here/tftp_hostile.py" 127.0.0.1 "$port" "$root" || status=1
tftp_stop

# The namespace part: lo with MTU 9000, the server on every address.
ns=mbtftp$$
if [[ $(id -u) == 0 ]] && ip netns add "$ns" 2>/dev/null; then
	trap 'ip netns del "$ns" 2>/dev/null; tftp_cleanup' EXIT
	ip -n "$ns" link set lo up
	ip -n "$ns" link set lo mtu 9000
	ip netns exec "$ns" "$NETBOOT" --user root --root "$root" --tftp-port "$port" \
		--http-port 0 >>"$TFTP_WORK/server.log" 2>&1 &
	SERVER_PID=$!
	TFTP_PIDS+=("$SERVER_PID")
	sleep 0.5
	ip netns exec "$ns" python3 "$here/tftp_hostile.py" 127.0.0.1 \
		"$port" "$root" netns || status=1
	tftp_stop
else
	echo "skip netns checks (not root or no ip netns)"
fi
if ((status != 0)); then
	tail -40 "$TFTP_WORK/server.log"
fi
exit $status
