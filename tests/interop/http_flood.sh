#!/usr/bin/env bash
# http_flood.sh: one address cannot take every HTTP slot. 1,100 idle
# connections from 127.0.0.2 (more than the global cap of 1,024): past the
# per-address cap (32) each is closed as soon as it is accepted, so a
# client from another address is still served at once, and the server
# holds no more than the cap for the flooder.
set -uo pipefail
. "$(dirname "$0")/http_common.bash"
if ! curl -s -o /dev/null --interface 127.0.0.2 --connect-timeout 1 \
	http://127.0.0.1:9/ 2>/dev/null && [[ $? == 45 ]]; then
	echo "skip: cannot bind 127.0.0.2"; exit 77
fi

http_port=$(free_port)
tftp_port=$(free_port)
root=$work/root
mkdir -p "$root"
echo hello >"$root/hello"
nb_start --root "$root" --dhcp off --listen 127.0.0.1 \
	--http-port "$http_port" --tftp-port "$tftp_port"
base=http://127.0.0.1:$http_port

python3 - "$http_port" >"$work/flood.out" 2>&1 <<'PY' &
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
port = int(sys.argv[1])
socks = []
for i in range(1100):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        print("connect failed:", e, flush=True)
        break
    socks.append(s)
print("open", len(socks), flush=True)
time.sleep(12)
PY
flood_pid=$!
for _ in $(seq 300); do
	grep -q '^open' "$work/flood.out" && break
	sleep 0.1
done
check "flood connected" "open 1100" "$(cat "$work/flood.out")"
sleep 1
check "another address served" 200 "$(code --max-time 3 "$base/files/hello")"
check "and again" hello "$(curl -s --max-time 3 "$base/files/hello")"
metrics=$(curl -s --max-time 3 "$base/metrics")
open_now=$(sed -n 's/^metalboot_http_connections_open //p' <<<"$metrics")
if [[ -n $open_now ]] && ((open_now <= 34)); then
	echo "ok: $open_now connections open during the flood"
else
	echo "FAIL: ${open_now:-?} connections open during the flood"; fails=$((fails + 1))
fi
refused=$(sed -n 's/^metalboot_http_connections_rejected_total{limit="per_ip"} //p' <<<"$metrics")
if [[ -n $refused ]] && ((refused >= 1100 - 32)); then
	echo "ok: $refused refused past the per-address cap"
else
	echo "FAIL: ${refused:-?} refused past the per-address cap"
	grep rejected <<<"$metrics"
	fails=$((fails + 1))
fi
kill "$flood_pid" 2>/dev/null
wait "$flood_pid" 2>/dev/null
finish
