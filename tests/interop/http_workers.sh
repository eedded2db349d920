#!/usr/bin/env bash
# http_workers.sh: with worker loops (--workers 2), file bodies are sent by
# a worker (http_bulk.c) and the connection goes back to the owner loop:
# whole files, ranges and small files mixed on one kept-alive connection;
# 20 downloads at once; a client that leaves mid-body is closed and the
# server goes on; a client that stops reading is dropped at the idle
# timeout; and a stop (SIGTERM) with bodies out on the workers exits 0,
# with nothing leaked (the sanitizer build reports leaks at exit).
set -uo pipefail
. "$(dirname "$0")/http_common.bash"

http_port=$(free_port)
tftp_port=$(free_port)
root=$work/root
mkdir -p "$root"
head -c 24M /dev/urandom >"$root/initrd"
head -c 3M /dev/urandom >"$root/kernel"
echo "#!ipxe" >"$root/small.ipxe"
nb_start --workers 2 --root "$root" --dhcp off --listen 127.0.0.1 \
	--http-port "$http_port" --tftp-port "$tftp_port" \
	--http-idle-timeout 2
base=http://127.0.0.1:$http_port
metric() { # NAME: its value on /metrics
	curl -s "$base/metrics" | sed -n "s/^metalboot_$1 //p"
}

# One connection: body, small file, body, range, body (--next: the range
# applies to its URL alone; curl keeps the connection across).
w='%{num_connects}\n'
curl -fsS -w "$w" -o "$work/a1" "$base/files/initrd" \
	-o "$work/a2" "$base/files/small.ipxe" -o "$work/a3" "$base/files/kernel" \
	--next -fsS -w "$w" -r 1000-2000999 -o "$work/a4" "$base/files/initrd" \
	--next -fsS -w "$w" -o "$work/a5" "$base/files/initrd" \
	>"$work/connects" 2>"$work/curl.err"
check "kept-alive downloads" 0 $?
check "one connection for five requests" "1 0 0 0 0" \
	"$(tr '\n' ' ' <"$work/connects" | sed 's/ $//')"
cmp -s "$root/initrd" "$work/a1"
check "initrd whole" 0 $?
cmp -s "$root/small.ipxe" "$work/a2"
check "small file" 0 $?
cmp -s "$root/kernel" "$work/a3"
check "kernel whole" 0 $?
tail -c +1001 "$root/initrd" | head -c 2000000 >"$work/want4"
cmp -s "$work/want4" "$work/a4"
check "range from a worker" 0 $?
cmp -s "$root/initrd" "$work/a5"
check "initrd again" 0 $?
check "bodies sent by workers" 4 "$(metric http_worker_bodies_total)"

# 20 at once.
pids=()
for i in $(seq 20); do
	curl -fsS -o "$work/p$i" "$base/files/initrd" &
	pids+=($!)
done
bad=0
for i in $(seq 20); do
	wait "${pids[$((i - 1))]}" || bad=$((bad + 1))
	cmp -s "$root/initrd" "$work/p$i" || bad=$((bad + 1))
done
check "20 parallel downloads whole" 0 "$bad"
check "bodies sent by workers" 24 "$(metric http_worker_bodies_total)"

# A client that leaves after 1 MiB, and one that stops reading: both
# closed, the server answers on.
python3 - "$http_port" <<'PY'
import socket, sys
s = socket.socket()
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /files/initrd HTTP/1.1\r\nHost: x\r\n\r\n")
got = 0
while got < 1 << 20:
    got += len(s.recv(65536))
s.close()
PY
check "a client left mid-body" 0 $?
stalled_reader "$http_port" /files/initrd $((24 << 20))
check "a stalled reader is dropped" 0 $?
for _ in $(seq 50); do
	[[ $(metric http_connections_open) == 1 ]] && break
	sleep 0.1
done
check "only the /metrics connection open" 1 "$(metric http_connections_open)"
curl -fsS -o "$work/after" "$base/files/kernel"
cmp -s "$root/kernel" "$work/after"
check "served after the clients left" 0 $?

# Stop with bodies out on the workers.
for i in 1 2 3; do
	curl -s --limit-rate 1M -o /dev/null "$base/files/initrd" &
done
sleep 1
kill -TERM "$nb_pid"
wait "$nb_pid"
check "exit status with bodies out" 0 $?
nb_pid=
if grep -q -E "Sanitizer|runtime error" "$nb_log"; then
	check "no sanitizer report" "" "$(grep -E 'Sanitizer|runtime error' "$nb_log" | head -3)"
fi
wait
finish
