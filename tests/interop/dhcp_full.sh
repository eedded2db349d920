#!/usr/bin/env bash
# dhcp_full.sh: metalboot-netboot --dhcp full in a private network
# namespace pair (server <-> client over a veth). busybox udhcpc gets the
# reserved address, an unknown machine gets a pool address, the server is
# killed with -9 and restarted and hands out the same addresses, never one
# address twice; 500 simulated clients get 500 distinct addresses;
# --check-dhcp lists the server; hostile packets do not kill it; boot files
# fetched over TFTP mark the node booting.
# Needs root (ip netns), busybox and python3; exit 77 (skip) otherwise.
set -euo pipefail
build=${MB_BUILD_DIR:-$(pwd)}
src=${MB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$build/netboot/metalboot-netboot
here=$src/tests/interop
if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null ||
	! command -v busybox >/dev/null || ! command -v python3 >/dev/null; then
	echo "skip: needs root, ip, busybox, python3"
	exit 77
fi
[[ -x $bin ]] || { echo "no $bin"; exit 1; }
s=mbdhcp-$$-s
c=mbdhcp-$$-c
work=$(mktemp -d)
spid=
cleanup() {
	[[ -n $spid ]] && kill -9 "$spid" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$s" 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- server log"
	cat "$work"/server*.log
	exit 1
}

ip netns add "$s"
ip netns add "$c"
ip -n "$s" link add srv0 type veth peer name cli0 netns "$c"
ip -n "$s" addr add 10.77.0.1/22 dev srv0
ip -n "$s" link set srv0 up
ip -n "$s" link set lo up
ip -n "$c" link set lo up
ip -n "$c" link set cli0 address 02:00:00:00:01:01
ip -n "$c" link set cli0 up

mkdir -p "$work/out/public/ipxe" "$work/out/public/images/worker" \
	"$work/out/state"
head -c 70000 /dev/urandom >"$work/out/public/ipxe/undionly.kpxe"
head -c 300000 /dev/urandom >"$work/out/public/images/worker/vmlinuz"
cat >"$work/out/netboot.yaml" <<EOF
version: 1
cluster: test
listen: 10.77.0.1
interface: srv0
dhcp:
  mode: full
  subnet: 10.77.0.0/22
  gateway: 10.77.0.1
  dns: [10.77.0.1]
  pool: 10.77.0.100-10.77.3.200
  lease_time: 600
  unknown: discover
tftp: { port: 69 }
http: { port: 8080 }
paths: { public: public, boot: boot, nodes: nodes, state: state }
nodes:
  - { name: cp1, mac: "02:00:00:00:01:01", ip: 10.77.0.11, role: control-plane }
  - { name: w1, mac: "02:00:00:00:02:01", ip: 10.77.0.21, role: worker }
EOF

n=0
start_server() {
	n=$((n + 1))
	# The first start listens the default 4 s for other servers; the
	# restarts only 300 ms (nobody else is on this veth).
	ip netns exec "$s" "$bin" --user root --config "$work/out/netboot.yaml" \
		--https-port 0 ${check_ms:+--dhcp-check-ms "$check_ms"} \
		>"$work/server$n.log" 2>&1 &
	spid=$!
	for _ in $(seq 50); do
		grep -q 'dhcp: full mode' "$work/server$n.log" && return 0
		kill -0 "$spid" 2>/dev/null || fail "server exited"
		sleep 0.2
	done
	fail "server did not start"
}

cat >"$work/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] && echo "$ip" >"$OUT"
exit 0
EOF
chmod +x "$work/udhcpc.sh"
# udhcpc_ip MAC: the address udhcpc obtains with that MAC.
udhcpc_ip() {
	rm -f "$work/ip"
	ip -n "$c" link set cli0 down
	ip -n "$c" link set cli0 address "$1"
	ip -n "$c" link set cli0 up
	OUT=$work/ip ip netns exec "$c" busybox udhcpc -i cli0 -f -q -n \
		-t 5 -T 1 -s "$work/udhcpc.sh" >/dev/null 2>&1 || true
	cat "$work/ip" 2>/dev/null || echo none
}

# Nobody on the segment yet: --check-dhcp exits 0.
rc=0
ip netns exec "$c" "$bin" --check-dhcp cli0 >"$work/check0.out" 2>&1 || rc=$?
[[ $rc == 0 ]] && grep -q '^0 DHCP servers answered on cli0' \
	"$work/check0.out" || fail "check-dhcp, no server: exit $rc $(cat "$work/check0.out")"
echo "ok: --check-dhcp with no server: exit 0"

start_server
# The check before full mode ran and found nobody else.
grep -q 'another DHCP server' "$work/server1.log" &&
	fail "a second server was reported"

a=$(udhcpc_ip 02:00:00:00:01:01)
[[ $a == 10.77.0.11 ]] || fail "reserved host got $a"
echo "ok: reserved host got $a"
u1=$(udhcpc_ip 02:00:00:00:09:01)
[[ $u1 == 10.77.0.100 ]] || fail "unknown host got $u1"
echo "ok: unknown host got $u1 from the pool"
if command -v curl >/dev/null; then
	ip netns exec "$s" curl -sf http://10.77.0.1:8080/v1/nodes \
		>"$work/nodes.json" || fail "GET /v1/nodes"
	python3 - "$work/nodes.json" <<'EOF2' || fail "nodes: $(cat "$work/nodes.json")"
import json, sys
n = {x["name"]: x for x in json.load(open(sys.argv[1]))["nodes"]}
assert n["cp1"]["state"] == "booting", n["cp1"]
assert any(t["event"] == "dhcp" for t in n["cp1"]["timeline"]), n["cp1"]
assert n["w1"]["state"] == "pending", n["w1"]
EOF2
	echo "ok: /v1/nodes shows cp1 booting with a dhcp event"
	# Boot files fetched over TFTP from w1's address make w1 booting,
	# with a "tftp" (loader) and a "kernel" milestone.
	ip -n "$c" addr add 10.77.0.21/22 dev cli0
	(cd "$work" && ip netns exec "$c" busybox tftp -g -r ipxe/undionly.kpxe \
		-l "$work/got.kpxe" 10.77.0.1 &&
		ip netns exec "$c" busybox tftp -g \
			-r images/worker/vmlinuz -l "$work/got.vmlinuz" \
			10.77.0.1) || fail "busybox tftp from w1's address"
	cmp -s "$work/got.vmlinuz" "$work/out/public/images/worker/vmlinuz" ||
		fail "kernel differs"
	ip -n "$c" addr del 10.77.0.21/22 dev cli0
	ip netns exec "$s" curl -sf http://10.77.0.1:8080/v1/nodes \
		>"$work/nodes.json" || fail "GET /v1/nodes"
	python3 - "$work/nodes.json" <<'EOF2' || fail "nodes: $(cat "$work/nodes.json")"
import json, sys
n = {x["name"]: x for x in json.load(open(sys.argv[1]))["nodes"]}
assert n["w1"]["state"] == "booting", n["w1"]
assert [t["event"] for t in n["w1"]["timeline"]] == ["tftp", "kernel"], n["w1"]
EOF2
	echo "ok: TFTP fetches from w1's address: booting, timeline tftp, kernel"
	ip netns exec "$s" curl -sf http://10.77.0.1:8080/metrics \
		>"$work/metrics" || fail "GET /metrics"
	grep -q '^metalboot_dhcp_leases_bound 2$' "$work/metrics" &&
		grep -q '^metalboot_dhcp_pool_size 869$' "$work/metrics" ||
		fail "metrics: $(grep dhcp "$work/metrics")"
	# Every OFFER sent is in the latency histogram, +Inf equal to count.
	offers=$(sed -n 's/^metalboot_dhcp_offers_total //p' "$work/metrics")
	grep -q "^metalboot_dhcp_offer_seconds_count $offers\$" "$work/metrics" &&
		grep -q "^metalboot_dhcp_offer_seconds_bucket{le=\"+Inf\"} $offers\$" \
			"$work/metrics" && ((offers > 0)) ||
		fail "offer histogram: $offers offers, $(grep offer_seconds_count "$work/metrics")"
	echo "ok: /metrics: $(grep -E '^metalboot_dhcp_(leases_bound|acks_total)' "$work/metrics" | tr '\n' ' ')"
	# A boot storm's burst of DISCOVERs fits the socket's receive buffer
	# (the kernel reports twice what was set).
	rb=$(ip netns exec "$s" ss -H -u -a -n -m 'sport = :67' |
		sed -n 's/.*skmem:(r[0-9]*,rb\([0-9]*\),.*/\1/p' | head -n 1)
	((${rb:-0} >= 8 << 20)) || fail "DHCP receive buffer: ${rb:-?} bytes"
	echo "ok: DHCP receive buffer $rb bytes"
fi
grep -q 'dhcp 02:00:00:00:01:01: REQUEST no arch: ACK 10.77.0.11' \
	"$work/server1.log" || fail "no ACK log line"
# The lease writer saves at most a second after the ACK.
for _ in $(seq 30); do
	grep -qs "02:00:00:00:09:01 10.77.0.100 bound" \
		"$work/out/state/dhcp.leases" && break
	sleep 0.1
done
grep -q "02:00:00:00:09:01 10.77.0.100 bound" "$work/out/state/dhcp.leases" ||
	fail "lease not saved"

# --check-dhcp from the client side lists us, and says so by its exit
# status: 3, a server that hands out addresses answered.
rc=0
ip netns exec "$c" "$bin" --check-dhcp cli0 >"$work/check.out" 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "check-dhcp exit $rc: $(cat "$work/check.out")"
grep -q 'DHCP server 10.77.0.1 (from 10.77.0.1) offers' "$work/check.out" ||
	fail "check-dhcp: $(cat "$work/check.out")"
echo "ok: --check-dhcp (exit 3): $(head -1 "$work/check.out")"

# Hostile input: the server survives and still answers.
python3 - "$work" <<'EOF'
import os, sys, random
w = sys.argv[1]
base = bytearray(240)
base[0:3] = b"\x01\x01\x06"
base[236:240] = b"\x63\x82\x53\x63"
cases = {
    "short": bytes(base[:100]),
    "optpast": bytes(base) + b"\x35\x01\x01\x3c\xff" + b"A" * 10,
    "zerolen": bytes(base) + b"\x35\x01\x01\x3c\x00\xff",
    "ovloop": bytes(base[:108]) + b"\x34\x01\x03" + bytes(125) + bytes(base[236:]) + b"\x35\x01\x01\x34\x01\x03\xff",
    "junk": bytes(random.Random(1).getrandbits(8) for _ in range(600)),
}
for k, v in cases.items():
    open(os.path.join(w, "bad-" + k), "wb").write(v)
EOF
for f in "$work"/bad-*; do
	ip netns exec "$c" python3 "$here/dhcp_client.py" raw cli0 "$f"
done
sleep 0.5
kill -0 "$spid" || fail "server died on hostile input"
echo "ok: hostile packets dropped"

# A forged DECLINE of cp1's bound address from another MAC: refused, cp1
# keeps its lease (issue 14: it was dropped).
ip netns exec "$c" python3 "$here/dhcp_client.py" decline cli0 \
	02:00:00:00:06:66 10.77.0.11 10.77.0.1
# 300 DISCOVERs through a relay that is not listed: no reply (our replies
# would go to the relay, so none can come back here anyway: the log and
# the counter tell), a counter, and a rate-limited log.
ip netns exec "$c" python3 "$here/dhcp_client.py" relayed cli0 300 \
	10.77.9.1 >/dev/null
sleep 1.5 # the lease writer runs at most once a second
grep -q "02:00:00:00:01:01 10.77.0.11 bound" "$work/out/state/dhcp.leases" ||
	fail "cp1's lease lost to a forged DECLINE: $(cat "$work/out/state/dhcp.leases")"
grep -q 'DECLINE 10.77.0.11: this machine.s reservation\|DECLINE 10.77.0.11: not offered to or held by this MAC, refused' \
	"$work/server1.log" || fail "no log of the refused DECLINE"
echo "ok: a forged DECLINE of cp1's address is refused, its lease kept"
nrelay=$(grep -c 'not a listed relay: dropped' "$work/server1.log" || true)
((nrelay >= 1 && nrelay <= 10)) ||
	fail "$nrelay log lines for 300 relayed packets (want 1-10)"
grep -q 'OFFER 10.77.9' "$work/server1.log" && fail "offered through an unlisted relay"
if command -v curl >/dev/null; then
	ip netns exec "$s" curl -sf http://10.77.0.1:8080/metrics \
		>"$work/metrics" || fail "GET /metrics"
	# Every one that reached the socket (the kernel may drop some).
	nd=$(awk '$1 == "metalboot_dhcp_relay_dropped_total" { print $2 }' \
		"$work/metrics")
	((${nd:-0} >= 100 && ${nd:-0} <= 300)) ||
		fail "metrics: $(grep relay "$work/metrics")"
	grep -q '^metalboot_dhcp_decline_refused_total 1$' "$work/metrics" ||
		fail "metrics: $(grep decline "$work/metrics")"
fi
echo "ok: 300 packets of an unlisted relay dropped, ${nd:-?} counted, $nrelay log lines"

# A second instance cannot take port 67 and says so (exit 1).
rc=0
ip netns exec "$s" "$bin" --user root --config "$work/out/netboot.yaml" --https-port 0 \
	--tftp-port 6969 --http-port 8081 --dhcp-check-ms 300 \
	>"$work/second.log" 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q 'dhcp: port 67 on srv0: Address already in use' \
	"$work/second.log" || fail "second instance: rc $rc $(cat "$work/second.log")"
echo "ok: a second instance fails: $(grep -o 'dhcp: port 67.*' "$work/second.log")"

# kill -9 and restart: the same addresses, and none twice.
kill -9 "$spid"
wait "$spid" 2>/dev/null || true
spid=
check_ms=300
start_server
grep -q '2 leases loaded' "$work/server2.log" || fail "leases not reloaded"
u1b=$(udhcpc_ip 02:00:00:00:09:01)
[[ $u1b == "$u1" ]] || fail "after restart unknown host got $u1b, had $u1"
u2=$(udhcpc_ip 02:00:00:00:09:02)
[[ $u2 != "$u1" && $u2 == 10.77.0.101 ]] || fail "second unknown got $u2"
a=$(udhcpc_ip 02:00:00:00:01:01)
[[ $a == 10.77.0.11 ]] || fail "reserved host after restart got $a"
echo "ok: after kill -9: $u1b again, next machine $u2, reserved $a"

# With strace, 100 clients at once: the lease file's fsyncs happen on the
# writer thread, never on the event loop (the main thread, whose tid is
# the pid), and a few of them, not one a burst.
ip -n "$c" link set cli0 address 02:00:00:00:00:fe
if command -v strace >/dev/null; then
	strace -f -qq -e trace=fsync,fdatasync -o "$work/fsync.trace" \
		-p "$spid" 2>/dev/null &
	stpid=$!
	sleep 1
	out=$(ip netns exec "$c" python3 "$here/dhcp_client.py" load cli0 100) ||
		fail "load under strace: $out"
	sleep 2 # the writer runs within a second
	kill -INT "$stpid" 2>/dev/null || true
	wait "$stpid" 2>/dev/null || true
	onloop=$(awk -v p="$spid" '$1 == p && /fsync/' "$work/fsync.trace" | wc -l)
	off=$(awk -v p="$spid" '$1 != p && /fsync/' "$work/fsync.trace" | wc -l)
	((onloop == 0 && off >= 1 && off <= 20)) ||
		fail "fsyncs: $onloop on the loop, $off elsewhere: $(head -5 "$work/fsync.trace")"
	echo "ok: 100 clients: lease fsyncs none on the event loop, $off on the writer thread"
fi
# 500 simulated clients, 500 distinct addresses.
out=$(ip netns exec "$c" python3 "$here/dhcp_client.py" load cli0 500) ||
	fail "load: $out"
echo "ok: 500 clients: $out"
# The lease file agrees: every address once.
dups=$(awk 'NR > 1 { print $2 }' "$work/out/state/dhcp.leases" | sort |
	uniq -d | wc -l)
[[ $dups == 0 ]] || fail "$dups addresses leased twice"
kill -0 "$spid" || fail "server died"
# A clean shutdown (sanitizer builds report leaks and use-after-free here).
kill -TERM "$spid"
rc=0
wait "$spid" || rc=$?
spid=
[[ $rc == 0 ]] || fail "exit status $rc after SIGTERM"
grep -q 'Sanitizer' "$work"/server*.log && fail "sanitizer report"
echo "ok: clean shutdown"
echo "PASS"
