#!/usr/bin/env bash
# bench/etcd_store.sh [--json] [N] [BUILD_DIR]: the node store's etcd
# backend at scale. N nodes' state (default 1000) in a 3-member etcd
# cluster (Debian's etcd-server, TLS with certificates made here), shared
# by two metalboot-netboot servers (A and B, each with netboot.yaml listing
# the N nodes: metalboot-build of bench/gen-inventory.sh's inventory), all
# in network namespaces of its own. Then:
#   - each server's start: the N records it writes (how fast one server's
#     writer goes with nothing else to do);
#   - a boot storm of N simulated PXE machines (bench/storm) against A:
#     DHCP, TFTP, iPXE, HTTP milestones, then EVENTS agent events each from
#     the node's leased address. The writes the storm needs (from A's
#     timelines: a change per node per second, the store's coalescing), what
#     A's writer did (store_etcd_* on /metrics, sampled every 0.2 s), and
#     how long until B's /v1/nodes shows every node's final state;
#   - GET /v1/nodes latency on A and on B (GETS requests, one after the
#     other, a connection each) with N nodes, and while the storm ran;
#   - what etcd sustains here: the server's own compare-and-swap, with
#     node-record-sized values, from 1 connection (one write at a time, as
#     the server's writer), from several, and several records in one
#     transaction (LOAD words: PROCSxTHREADS[xRECORDS]).
# Prints one summary with the ratio (needed / sustained); --json prints it
# as JSON instead (the progress goes to stderr). A bench, not a test: no
# timing is asserted. Use a Release build without sanitizers (default:
# build-storm-rel beside the source). Environment: EVENTS (8), KERNEL_MB
# (1), INITRD_MB (1), RAMP (0 s), GETS (200), LOAD ("1x1 1x8 2x16 1x1x32":
# PROCSxTHREADS[xRECORDS a transaction]),
# LOAD_SECONDS (10), KEEP (a directory to copy the work files to).
# Needs root, etcd, etcdctl, openssl, curl, python3.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
json=0
if [[ ${1:-} == --json ]]; then
	json=1
	shift
fi
n=${1:-1000}
STORM_BUILD=${2:-${MB_BUILD_DIR:-$src/build-storm-rel}}
STORM_SRC=$src
events=${EVENTS:-8}
kmb=${KERNEL_MB:-1}
imb=${INITRD_MB:-1}
ramp=${RAMP:-0}
gets=${GETS:-200}
loads=${LOAD:-1x1 1x8 2x16 1x1x32}
load_s=${LOAD_SECONDS:-10}
nb=$STORM_BUILD/netboot/metalboot-netboot
helper=$src/bench/etcd_store.py
for t in etcd etcdctl openssl curl python3 ip; do
	command -v "$t" >/dev/null || { echo "bench/etcd_store.sh: needs $t" >&2; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "bench/etcd_store.sh: needs root" >&2; exit 77; }
[[ -x $STORM_BUILD/bench/storm/storm && -x $nb ]] || {
	echo "bench/etcd_store.sh: build $STORM_BUILD first" \
		"(metalboot-netboot, metalboot-build, storm)" >&2
	exit 1
}
if nm -C "$nb" 2>/dev/null | grep -q __asan_init; then
	echo "warning: $nb is built with sanitizers; figures will be low" >&2
fi
say() { # progress, and the summary when not --json
	if ((json)); then echo "$*" >&2; else echo "$*"; fi
}
. "$src/tests/interop/storm_lib.bash"
ulimit -n "$(ulimit -Hn)"

# Namespaces: storm_lib's server (A) and client ones, plus a hub with the
# etcd bridge (10.79.0.0/24), a namespace per member, and B's.
tag=mbe$$
hub=$tag-hub
ens=("$tag-e1" "$tag-e2" "$tag-e3")
nsb=$tag-b
pids=() # every process we started, stopped at exit
W=
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for p in "${ens[@]}" "$nsb" "$hub"; do
		ip netns del "$p" 2>/dev/null || true
	done
	if [[ -n ${KEEP:-} && -n $W ]]; then
		mkdir -p "$KEEP"
		cp -r "$W/res" "$W"/*.log "$KEEP/" 2>/dev/null || true
	fi
	storm_cleanup
}
forget() { # PID...: stopped and reaped, no longer ours to stop
	local keep=() p q
	for p in "${pids[@]}"; do
		for q in "$@"; do [[ $p == "$q" ]] && continue 2; done
		keep+=("$p")
	done
	pids=("${keep[@]}")
}
storm_setup "$n" $((kmb << 20)) $((imb << 20))
W=$STORM_WORK
trap cleanup EXIT
R=$W/res
mkdir -p "$R"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "== $n nodes, $events events each, kernel $kmb MiB, initrd $imb MiB," \
	"ramp $ramp s; $(nproc) cores; load $load0"

# ---- PKI: a CA, each member's certificate, the servers' client one
pki=$W/pki
mkdir -p "$pki"
(
	umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/ca.key" -out "$pki/ca.crt" -days 2 \
		-subj /CN=bench-etcd-ca 2>/dev/null
	leaf() { # NAME SAN EKU
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$1" 2>/dev/null
		printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$2" "$3" >"$pki/$1.ext"
		openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" \
			-CAkey "$pki/ca.key" -CAcreateserial -days 2 \
			-extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
	}
	for i in 1 2 3; do
		leaf "etcd$i" "IP:10.79.0.1$i" serverAuth,clientAuth
	done
	leaf netboot "DNS:netboot" clientAuth
)

# ---- the etcd bridge and the members
ip netns add "$hub"
ip -n "$hub" link add bre type bridge
ip -n "$hub" link set bre up
ip -n "$hub" addr add 10.79.0.1/24 dev bre
ip -n "$hub" link set lo up
plug() { # NS IFACE ADDR/LEN: a veth from NS to the bridge
	local port=p$RANDOM$RANDOM
	ip -n "$hub" link add "$port" type veth peer name "$2" netns "$1"
	ip -n "$hub" link set "$port" master bre up
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" link set "$2" up
	ip -n "$1" link set lo up
}
cluster=etcd1=https://10.79.0.11:2380,etcd2=https://10.79.0.12:2380,etcd3=https://10.79.0.13:2380
all=https://10.79.0.11:2379,https://10.79.0.12:2379,https://10.79.0.13:2379
for i in 1 2 3; do
	ip netns add "${ens[$((i - 1))]}"
	plug "${ens[$((i - 1))]}" eth0 "10.79.0.1$i/24"
	a=10.79.0.1$i
	# ip netns exec execs etcd: the PID is the member's.
	ip netns exec "${ens[$((i - 1))]}" etcd --name "etcd$i" \
		--data-dir "$W/etcd$i" \
		--listen-client-urls "https://$a:2379" \
		--advertise-client-urls "https://$a:2379" \
		--listen-peer-urls "https://$a:2380" \
		--initial-advertise-peer-urls "https://$a:2380" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--cert-file "$pki/etcd$i.crt" --key-file "$pki/etcd$i.key" \
		--client-cert-auth --trusted-ca-file "$pki/ca.crt" \
		--peer-cert-file "$pki/etcd$i.crt" --peer-key-file "$pki/etcd$i.key" \
		--peer-client-cert-auth --peer-trusted-ca-file "$pki/ca.crt" \
		>>"$W/etcd$i.log" 2>&1 &
	pids+=($!)
done
ctl() {
	ip netns exec "$hub" env ETCDCTL_API=3 etcdctl --endpoints="$all" \
		--cacert="$pki/ca.crt" --cert="$pki/netboot.crt" \
		--key="$pki/netboot.key" --dial-timeout=2s --command-timeout=4s "$@"
}
healthy=0
for _ in $(seq 60); do
	healthy=$(ctl endpoint health 2>&1 | grep -c 'is healthy' || true)
	((healthy == 3)) && break
	sleep 0.5
done
((healthy == 3)) || {
	tail -n 20 "$W"/etcd*.log >&2
	echo "bench/etcd_store.sh: etcd: $healthy/3 healthy" >&2
	exit 1
}

# ---- the servers: A in storm_lib's server namespace, B in its own with
# a segment of its own (10.20.0.2 on a veth pair; no machine boots
# there); both on the bridge.
prefix=/mbbench
store_conf() {
	cat <<EOF
store:
  etcd:
    endpoints: [https://10.79.0.11:2379, https://10.79.0.12:2379, https://10.79.0.13:2379]
    ca: $pki/ca.crt
    cert: $pki/netboot.crt
    key: $pki/netboot.key
    prefix: $prefix
EOF
}
cp -al "$W/out" "$W/outb"
rm -rf "$W/outb/state" "$W/outb/netboot.yaml"
sed 's/^listen: .*/listen: "10.20.0.2"/' "$W/out/netboot.yaml" >"$W/outb/netboot.yaml"
store_conf >>"$W/out/netboot.yaml"
store_conf >>"$W/outb/netboot.yaml"
plug "$STORM_NS_S" e0 10.79.0.20/24
ip netns add "$nsb"
plug "$nsb" e0 10.79.0.21/24
ip -n "$nsb" link add srv0 type veth peer name srv0p # no dummy module here
ip -n "$nsb" addr add 10.20.0.2/16 dev srv0
ip -n "$nsb" link set srv0 up
ip -n "$nsb" link set srv0p up
A=http://10.20.0.1
B=http://10.20.0.2
in_a() { ip netns exec "$STORM_NS_S" "$@"; }
in_b() { ip netns exec "$nsb" "$@"; }
wait_loaded() { # LOG PID
	for _ in $(seq 300); do
		grep -q 'store: .* nodes after loading etcd' "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$1" >&2
	echo "bench/etcd_store.sh: a server did not load etcd" >&2
	exit 1
}
# Each start writes the N records (one server at a time: the writer's
# rate with nothing else going on).
txns() { # transactions etcd answered so far
	ip netns exec "$hub" python3 "$helper" txns "$pki/ca.crt" \
		"$pki/netboot.crt" "$pki/netboot.key" "$all"
}
x0=$(txns)
storm_start_ours "$nb" "$n" || { tail "$W/ours.log" >&2; exit 1; }
pa=$STORM_OURS
pids+=("$pa")
wait_loaded "$W/ours.log" "$pa"
in_a python3 "$helper" drain "$A" "$n" 300 >"$R/start_a.json"
x1=$(txns)
max=$((n * 2 > 4096 ? 4096 : n * 2))
in_b "$nb" --user root --config "$W/outb/netboot.yaml" --https-port 0 \
	--dhcp-check-ms 300 --tftp-max-transfers "$max" >"$W/b.log" 2>&1 &
pb=$!
pids+=("$pb")
wait_loaded "$W/b.log" "$pb"
# B finds every record in etcd as it has it: nothing to write.
in_b python3 "$helper" drain "$B" 0 300 >"$R/start_b.json"
x2=$(txns)

# ---- the storm against A, both servers sampled
stop=$W/stop-sampling
# A's /v1/nodes every 2 s (each is a render on the loop the storm needs),
# B's every 0.5 s (when each change shows there).
in_a python3 "$helper" sample "$A" "$R/sa.json" "$stop" 2 &
sa=$!
pids+=("$sa")
in_b python3 "$helper" sample "$B" "$R/sb.json" "$stop" 0.5 &
sb=$!
pids+=("$sb")
for _ in $(seq 100); do # both took their first sample
	[[ -e $R/sa.json.ready && -e $R/sb.json.ready ]] && break
	sleep 0.1
done
sleep 0.5
# UDP datagrams a namespace's kernel dropped for a full receive buffer
# (A: requests lost before the server read them; the clients: replies).
rcvbuf_errors() { # s or c
	local ns=$STORM_NS_S
	[[ $1 == c ]] && ns=$STORM_NS_C
	ip netns exec "$ns" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' \
		/proc/net/snmp
}
us0=$(rcvbuf_errors s)
uc0=$(rcvbuf_errors c)
say "-- storm: $n machines against A"
t0=$(date +%s.%N)
summary=$(storm_run ours -n "$n" --ramp "$ramp" --events "$events" \
	--server-pid "$pa") || true
say "   $summary"
t1=$(date +%s.%N)
udp_drops="server $(($(rcvbuf_errors s) - us0)), client $(($(rcvbuf_errors c) - uc0))"
say "   UDP receive-buffer drops: $udp_drops"
cp "$W/ours.json" "$R/storm.json"
in_a curl -sf --max-time 10 -o "$R/a_nodes.json" "$A/v1/nodes"
in_b python3 "$helper" converge "$R/a_nodes.json" "$B/v1/nodes" "$t1" 300 \
	>"$R/converge.json"
in_a python3 "$helper" drain "$A" 0 120 >"$R/drain_a.json"
x3=$(txns)
echo "{\"start_a\": $((x1 - x0)), \"start_b\": $((x2 - x1)), \"storm\": $((x3 - x2))}" \
	>"$R/txns.json"
sleep 1
touch "$stop"
wait "$sa" "$sb" || true
forget "$sa" "$sb"
in_a python3 "$helper" demand "$R/a_nodes.json" "$t0" "$t1" >"$R/demand.json"

# ---- GET /v1/nodes on each server, idle, N nodes with their timelines
say "-- GET /v1/nodes x $gets on A and on B"
in_a python3 "$helper" latency "$A/v1/nodes" "$gets" >"$R/lat_a.json"
in_b python3 "$helper" latency "$B/v1/nodes" "$gets" >"$R/lat_b.json"
ip netns exec "$hub" python3 "$helper" recsize "$pki/ca.crt" \
	"$pki/netboot.crt" "$pki/netboot.key" https://10.79.0.11:2379 \
	"$prefix" >"$R/recsize.json"

# ---- what etcd sustains: the servers stopped, the same transaction and
# record size from the hub, keys outside the servers' prefix
storm_stop "$pa"
storm_stop "$pb"
forget "$pa" "$pb"
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"] or 1500)' \
	"$R/recsize.json")
for l in $loads; do # PROCSxTHREADS[xBATCH]
	IFS=x read -r lp lt lb <<<"$l"
	say "-- etcd: $lp x $lt connections, ${lb:-1} records a transaction," \
		"$size-byte values, $load_s s"
	ip netns exec "$hub" python3 "$helper" load "$pki/ca.crt" \
		"$pki/netboot.crt" "$pki/netboot.key" "$all" /mbbench-load \
		"$size" "$lp" "$lt" "$load_s" "${lb:-1}" >"$R/load_$l.json"
done
cat >"$R/meta.json" <<EOF
{"n": $n, "events": $events, "kernel_mb": $kmb, "initrd_mb": $imb,
 "ramp": $ramp, "gets": $gets, "storm_t0": $t0, "storm_t1": $t1,
 "udp_drops": "$udp_drops",
 "machine": "$(nproc) cores, load $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end, etcd $(etcd --version | sed -n 's/^etcd Version: //p')",
 "build": "$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')",
 "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
EOF
if ((json)); then
	python3 "$helper" report "$R" --json
else
	python3 "$helper" report "$R"
fi
