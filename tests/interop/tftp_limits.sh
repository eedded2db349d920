#!/usr/bin/env bash
# tftp_limits.sh - the caps on concurrent transfers (total and per client
# address) drop requests past them, and transfers whose client vanished are
# freed after the bounded retries, so the server serves again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tftp_lib.bash"
tftp_setup

root=$TFTP_WORK/root
mkdir -p "$root"
tftp_mkfile "$root/good" 5000
port=$(tftp_free_port)
tftp_start "$root" "$port" --tftp-max-transfers 3 --tftp-max-per-client 2
status=0
python3 "$here/tftp_hostile.py" 127.0.0.1 "$port" "$root" limits || status=1
tftp_stop
for want in "request dropped: too many transfers for this client" \
	"request dropped: too many transfers" "giving up"; do
	if grep -q "$want" "$TFTP_WORK/server.log"; then
		echo "ok   log: $want"
	else
		echo "FAIL log: $want"
		status=1
	fi
done
if ((status != 0)); then
	tail -30 "$TFTP_WORK/server.log"
fi
exit $status
