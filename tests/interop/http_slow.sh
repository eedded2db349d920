#!/usr/bin/env bash
# http_slow.sh: 200 slow clients (one byte of a request every 2 s, spread
# over 100 loopback addresses so that the per-address cap does not hide
# them) do not stop a normal client from being served promptly; the
# request deadline then closes every one of them. A burst past the
# per-address cap from one address gets 503.
set -uo pipefail
. "$(dirname "$0")/http_common.bash"

http_port=$(free_port)
tftp_port=$(free_port)
root=$work/root
mkdir -p "$root"
head -c 1000000 /dev/urandom >"$root/blob"
nb_start --root "$root" --dhcp off --listen 127.0.0.1 \
	--http-port "$http_port" --tftp-port "$tftp_port"
base=http://127.0.0.1:$http_port

python3 - "$http_port" >"$work/slow.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(200):
    s = socket.socket()
    s.bind(("127.0.0.%d" % (10 + i % 100), 0))
    s.connect(("127.0.0.1", port))
    socks.append(s)
print("open", len(socks), flush=True)
req = b"GET /files/blob HTTP/1.1\r\nHost: x\r\n\r\n"
closed = set()
start = time.time()
pos = 0
while time.time() - start < 25 and len(closed) < len(socks):
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            s.sendall(req[pos:pos + 1])
        except OSError:
            closed.add(i)
    pos = min(pos + 1, len(req) - 3)  # never finish the request
    time.sleep(2)
    for i, s in enumerate(socks):
        if i in closed:
            continue
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed.add(i)
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
        s.setblocking(True)
print("closed", len(closed), "after", int(time.time() - start), flush=True)
PY
slow_pid=$!
for _ in $(seq 50); do
	grep -q open "$work/slow.out" && break
	sleep 0.1
done
sleep 1
open_now=$(curl -s "$base/metrics" | sed -n 's/^metalboot_http_connections_open //p')
if ((open_now >= 200)); then
	echo "ok: $open_now connections open"
else
	echo "FAIL: only $open_now connections open"; fails=$((fails + 1))
fi
t=$(curl -s -o "$work/got" -w '%{time_total}' "$base/files/blob")
check "normal client served" "$(sha256sum <"$root/blob")" "$(sha256sum <"$work/got")"
if python3 -c "import sys; sys.exit(0 if float('$t') < 2 else 1)"; then
	echo "ok: served in ${t}s"
else
	echo "FAIL: normal client took ${t}s"; fails=$((fails + 1))
fi

# A burst from one address past the per-address cap (32): the extra ones
# get 503, the first ones are served.
python3 - "$http_port" >"$work/burst.out" <<'PY'
import socket, sys
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
codes = []
for s in socks:
    s.sendall(b"GET /files/blob HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0\r\n\r\n")
for s in socks:
    s.settimeout(5)
    try:
        codes.append(s.recv(64).split(b" ")[1].decode())
    except Exception as e:
        codes.append("err")
print(codes.count("206"), codes.count("503"))
PY
read -r ok206 got503 <"$work/burst.out"
check "burst: served up to the cap" 32 "$ok206"
check "burst: 503 past the cap" 8 "$got503"

wait "$slow_pid"
read -r _ nclosed _ secs < <(grep closed "$work/slow.out")
check "slow clients all closed by the deadline" 200 "$nclosed"
timeouts=$(curl -s "$base/metrics" | sed -n 's/^metalboot_http_request_timeouts_total //p')
if ((timeouts >= 200)); then
	echo "ok: $timeouts deadline closes (after ${secs}s)"
else
	echo "FAIL: $timeouts deadline closes"; fails=$((fails + 1))
fi
check "normal client after" 200 "$(code "$base/files/blob")"

# The total cap, lowered by flag: connections past it get a raw 503.
nb_stop
nb_start --root "$root" --dhcp off --listen 127.0.0.1 --http-port "$http_port" \
	--tftp-port "$tftp_port" --http-max-conns 5 --http-header-timeout 2
python3 - "$http_port" >"$work/cap.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
socks = []
for _ in range(8):
    socks.append(socket.create_connection(("127.0.0.1", port)))
    time.sleep(0.05)
time.sleep(0.3)
got = []
for s in socks:
    s.settimeout(1)
    try:
        got.append(s.recv(64).split(b" ")[1].decode())
    except Exception:
        got.append("open")
print(got.count("open"), got.count("503"))
PY
read -r still refused <"$work/cap.out"
check "total cap: kept" 5 "$still"
check "total cap: 503" 3 "$refused"
sleep 2.5
check "served once the idle ones timed out" 200 "$(code "$base/files/blob")"
check "bad flag" 1 "$("$nb_bin" --root "$root" --http-max-conns 0 2>/dev/null; echo $?)"
finish
