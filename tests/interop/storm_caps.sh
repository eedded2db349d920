#!/usr/bin/env bash
# storm_caps.sh: the per-file transfer caps (tftp.max_per_file,
# http.max_per_file; issue 18). Two holders take both slots of a file and
# pause mid-transfer; 20 more clients ask for it. TFTP: their requests are
# dropped at the cap (counted) and they retransmit; HTTP: their requests
# are held, none answered with an error. TFTP runs on two worker loops
# (workers: 2), so the cap is kept across them. Once the holders go on, every
# client finishes with the whole file: 0 failures.
set -euo pipefail
. "$(dirname "$0")/tftp_lib.bash"
tftp_setup
tftp_need curl
here=$MB_SOURCE_DIR/tests/interop
N=20

out=$TFTP_WORK/out
mkdir -p "$out/public" "$out/state" "$TFTP_WORK/got"
# Larger than the socket buffers: a paused HTTP holder keeps its slot.
tftp_mkfile "$out/public/kernel" $((16 * 1024 * 1024))
tftp_mkfile "$out/public/loader" $((2 * 1024 * 1024))
tport=$(tftp_free_port)
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$out/netboot.yaml" <<YAML
version: 1
listen: 127.0.0.1
dhcp: { mode: off }
tftp: { port: $tport, max_per_file: 2 }
http: { port: $hport, max_per_file: 2 }
paths: { public: public, state: state }
workers: 2
YAML
"$NETBOOT" --user root --config "$out/netboot.yaml" --https-port 0 \
	--tftp-max-per-client 64 --http-idle-timeout 120 \
	>>"$TFTP_WORK/server.log" 2>&1 &
SERVER_PID=$!
TFTP_PIDS+=("$SERVER_PID")
base=http://127.0.0.1:$hport
for _ in $(seq 100); do
	curl -s -o /dev/null "$base/metrics" && break
	sleep 0.1
done
metric() {
	curl -s --max-time 5 "$base/metrics" | sed -n "s/^metalboot_$1 //p"
}
# wait_metric NAME MIN: until the metric reaches MIN (60 s at most).
wait_metric() {
	local v
	for _ in $(seq 600); do
		v=$(metric "$1")
		[[ -n $v ]] && ((v >= $2)) && return 0
		sleep 0.1
	done
	echo "FAIL: $1 stayed at ${v:-?}, below $2"
	tail -20 "$TFTP_WORK/server.log"
	exit 1
}
fails=0
verdict() {
	if [[ $2 == "$3" ]]; then
		echo "ok   $1"
	else
		echo "FAIL $1: want $2, got $3"
		fails=$((fails + 1))
	fi
}

# --- TFTP: holders take DATA 1 and wait for the release file.
cat >"$TFTP_WORK/tftp_hold.py" <<'PY'
import os, socket, struct, sys, time
port, release, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
s.sendto(b"\0\1loader\0octet\0", ("127.0.0.1", port))
data, want, peer = bytearray(), 1, None
while True:
    try:
        pkt, addr = s.recvfrom(1024)
    except socket.timeout:
        if peer is None:
            s.sendto(b"\0\1loader\0octet\0", ("127.0.0.1", port))
        continue
    blk = struct.unpack("!H", pkt[2:4])[0]
    if pkt[1] != 3:
        sys.exit("holder: not DATA")
    peer = addr
    if want == 2:
        open(out + ".held", "w").close()
        while not os.path.exists(release):
            time.sleep(0.05)
            # Drain the server's retransmissions of block 1.
            try:
                s.recvfrom(1024)
            except socket.timeout:
                pass
    if blk == (want - 1) & 0xFFFF and want > 1:
        s.sendto(struct.pack("!HH", 4, blk), peer)  # a resend
        continue
    if blk != want & 0xFFFF:
        continue
    data += pkt[4:]
    s.sendto(struct.pack("!HH", 4, blk), peer)
    want += 1
    if len(pkt) < 516:
        break
open(out, "wb").write(data)
PY
# The holders keep block 1 unacknowledged until released.
for i in 1 2; do
	python3 "$TFTP_WORK/tftp_hold.py" "$tport" "$TFTP_WORK/release-tftp" \
		"$TFTP_WORK/got/thold$i" &
	TFTP_PIDS+=($!)
	hold[$i]=$!
done
for _ in $(seq 200); do
	[[ -f $TFTP_WORK/got/thold1.held && -f $TFTP_WORK/got/thold2.held ]] &&
		break
	sleep 0.05
done
pids=()
for i in $(seq $N); do
	python3 "$here/tftp_get.py" 127.0.0.1 "$tport" loader \
		"$TFTP_WORK/got/t$i" 1468 &
	pids+=($!)
done
# Every client was turned away at least once while the slots are taken.
wait_metric tftp_file_capped_total $N
echo "ok   TFTP: $(metric tftp_file_capped_total) requests dropped at the cap"
touch "$TFTP_WORK/release-tftp"
tfail=0
for p in "${pids[@]}" "${hold[1]}" "${hold[2]}"; do
	wait "$p" || tfail=$((tfail + 1))
done
verdict "TFTP: clients that failed" 0 $tfail
for f in $(seq $N) hold1 hold2; do
	tftp_same "$out/public/loader" "$TFTP_WORK/got/t$f" "TFTP $f" \
		>"$TFTP_WORK/same.out"
	grep FAIL "$TFTP_WORK/same.out" || true
done
verdict "TFTP: files not whole" 0 $TFTP_FAILS
verdict "TFTP: transfers completed" $((N + 2)) \
	"$(metric tftp_transfers_completed_total)"
verdict "TFTP: transfers failed" 0 "$(metric tftp_transfers_failed_total)"

# --- HTTP: holders read the headers and a little, then stop reading.
cat >"$TFTP_WORK/http_hold.py" <<'PY'
import os, socket, sys, time
port, release, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(b"GET /files/kernel HTTP/1.1\r\nHost: x\r\n\r\n")
buf = bytearray()
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
open(out + ".held", "w").close()
while not os.path.exists(release):
    time.sleep(0.05)
head, body = bytes(buf).split(b"\r\n\r\n", 1)
if not head.startswith(b"HTTP/1.1 200"):
    sys.exit("holder: %r" % head[:40])
size = 0
for line in head.split(b"\r\n"):
    if line.lower().startswith(b"content-length:"):
        size = int(line.split(b":")[1])
body = bytearray(body)
while len(body) < size:
    d = s.recv(1 << 16)
    if not d:
        break
    body += d
open(out, "wb").write(body)
PY
for i in 1 2; do
	python3 "$TFTP_WORK/http_hold.py" "$hport" "$TFTP_WORK/release-http" \
		"$TFTP_WORK/got/hhold$i" &
	TFTP_PIDS+=($!)
	hold[$i]=$!
done
for _ in $(seq 200); do
	[[ -f $TFTP_WORK/got/hhold1.held && -f $TFTP_WORK/got/hhold2.held ]] &&
		break
	sleep 0.05
done
pids=()
for i in $(seq $N); do
	curl -s -f -o "$TFTP_WORK/got/h$i" -w '%{http_code}\n' \
		"$base/files/kernel" >"$TFTP_WORK/got/h$i.code" &
	pids+=($!)
done
# All of them wait, none is refused.
wait_metric http_transfers_waiting $N
echo "ok   HTTP: $(metric http_transfers_waiting) requests held at the cap"
touch "$TFTP_WORK/release-http"
hfail=0
for p in "${pids[@]}" "${hold[1]}" "${hold[2]}"; do
	wait "$p" || hfail=$((hfail + 1))
done
verdict "HTTP: clients that failed" 0 $hfail
TFTP_FAILS=0
for i in $(seq $N); do
	tftp_same "$out/public/kernel" "$TFTP_WORK/got/h$i" "HTTP $i" \
		>"$TFTP_WORK/same.out"
	grep FAIL "$TFTP_WORK/same.out" || true
	[[ $(cat "$TFTP_WORK/got/h$i.code") == 200 ]] || { echo "FAIL HTTP $i: $(cat "$TFTP_WORK/got/h$i.code")"; TFTP_FAILS=$((TFTP_FAILS + 1)); }
done
tftp_same "$out/public/kernel" "$TFTP_WORK/got/hhold1" "HTTP holder 1"
tftp_same "$out/public/kernel" "$TFTP_WORK/got/hhold2" "HTTP holder 2"
verdict "HTTP: answers not 200 with the whole file" 0 $TFTP_FAILS
verdict "HTTP: held now" 0 "$(metric http_transfers_waiting)"
q=$(metric http_transfers_queued_total)
((q >= N)) && echo "ok   HTTP: $q requests queued in all" ||
	{ echo "FAIL HTTP: $q queued"; fails=$((fails + 1)); }
tftp_stop
if ((fails > 0)); then
	tail -30 "$TFTP_WORK/server.log"
	exit 1
fi
echo "all checks passed"
