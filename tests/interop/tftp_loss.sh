#!/usr/bin/env bash
# tftp_loss.sh - 20 transfers of a 16 MiB file (TFTP_LOSS_MB to change it)
# at once through 10% packet loss and reordering in both directions: half
# curl (lockstep, blksize 1468), half an RFC 7440 client (tftp_get.py,
# blksize 1468, windowsize 8). All must complete with the right sha256, and
# the server must exit cleanly. The loss comes from tftp_lossy_proxy.py
# (the test kernel may lack sch_netem, so tc netem is not used).
#
# atftp is not used here: under loss it aborts on a resent OACK ("unexpected
# OACK") when its ACK 0 was lost, whoever the server is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tftp_lib.bash"
tftp_setup
tftp_need curl

mb=${TFTP_LOSS_MB:-16}
root=$TFTP_WORK/root
out=$TFTP_WORK/out
mkdir -p "$root" "$out"
tftp_mkfile "$root/f" $((mb * 1024 * 1024))
port=$(tftp_free_port)
tftp_start "$root" "$port" --tftp-max-per-client 64
pport=$(tftp_free_port)
python3 "$here/tftp_lossy_proxy.py" "$pport" "$port" 0.10 0.05 42 \
	>"$TFTP_WORK/proxy.log" 2>&1 &
TFTP_PIDS+=($!)
sleep 0.5

start=$(date +%s)
pids=()
for i in $(seq 1 10); do
	curl -s --tftp-blksize 1468 --max-time 540 -o "$out/curl.$i" \
		"tftp://127.0.0.1:$pport/f" &
	pids+=($!)
	python3 "$here/tftp_get.py" 127.0.0.1 "$pport" f "$out/win.$i" 1468 8 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || true
done
echo "20 transfers through the lossy relay took $(($(date +%s) - start)) s"
for i in $(seq 1 10); do
	tftp_same "$root/f" "$out/curl.$i" "curl #$i (lockstep)"
	tftp_same "$root/f" "$out/win.$i" "tftp_get.py #$i (windowsize 8)"
done
grep -c "sent 'f'" "$TFTP_WORK/server.log" || true
tftp_stop
if ((TFTP_FAILS > 0)); then
	tail -30 "$TFTP_WORK/server.log"
	exit 1
fi
