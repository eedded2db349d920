#!/usr/bin/env bash
# store_etcd.sh: two metalboot-netboot servers on two segments share one
# node store in etcd (store.etcd). Three Debian etcd-server members run
# with TLS (certificates made here with openssl) in network namespaces on
# one bridge; servers A and B each have a leg on it and one on a segment
# of their own (two more bridges), with a DHCP client (busybox udhcpc,
# the node's MAC) and agent-like event POSTs from the node's address.
#   - each server's /v1/nodes lists the other segment's node and its
#     state (the watch), /v1/servers lists both;
#   - one member killed: booting and the sharing go on;
#   - every member down: A keeps serving its nodes, says so in its log
#     and /metrics (store_etcd_up 0, queued writes), and when etcd is
#     back the queue drains and B sees what A recorded meanwhile;
#   - B killed: /v1/servers on A drops it once its lease (10 s) expires.
# Server A runs as nobody (sandboxed), B as root.
# Needs root (ip netns); exit 77 when a tool is missing.
set -euo pipefail
b=${MB_BUILD_DIR:?}
nb_bin=$b/netboot/metalboot-netboot
fail() {
	echo "FAIL: $*" >&2
	for f in "$work"/nb*.log; do echo "== $f"; tail -n 30 "$f"; done >&2
	exit 1
}
for t in etcd etcdctl openssl curl python3 ip busybox; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (ip netns)"; exit 77; }
[[ -x $nb_bin ]] || { echo "SKIP: $nb_bin not built"; exit 77; }
work=$(mktemp -d /tmp/mbstore.XXXXXX)
tag=mbs$$
hub=$tag-hub
ens=("$tag-e1" "$tag-e2" "$tag-e3")
nbs=("$tag-na" "$tag-nb")
cls=("$tag-ca" "$tag-cb")
epids=(0 0 0)
npids=(0 0)
kill_wait() { # PID...: stop and reap our own processes
	local p
	for p in "$@"; do ((p > 0)) && kill "$p" 2>/dev/null || true; done
	for p in "$@"; do
		((p > 0)) || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
}
cleanup() {
	kill_wait "${npids[@]}" "${epids[@]}"
	wait 2>/dev/null || true
	for p in "${ens[@]}" "${nbs[@]}" "${cls[@]}" "$hub"; do
		ip netns del "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# PKI: a CA; each member's certificate (server and peer, its IP); the
# servers' client certificate.
pki=$work/pki
mkdir -p "$pki"
(umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/ca.key" -out "$pki/ca.crt" -days 2 \
		-subj /CN=test-etcd-ca 2>/dev/null
	leaf() { # NAME SAN EKU
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$1" 2>/dev/null
		printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$2" "$3" >"$pki/$1.ext"
		openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" \
			-CAkey "$pki/ca.key" -CAcreateserial -days 2 \
			-extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
	}
	for i in 1 2 3; do
		leaf "etcd$i" "IP:10.78.0.1$i,IP:127.0.0.1" serverAuth,clientAuth
	done
	leaf netboot "DNS:netboot" clientAuth
	leaf https0 "IP:10.78.1.1" serverAuth
	leaf https1 "IP:10.78.2.1" serverAuth
)

# The hub: the etcd bridge and the two segments' bridges.
ip netns add "$hub"
for br in bre bra brb; do
	ip -n "$hub" link add $br type bridge
	ip -n "$hub" link set $br up
done
ip -n "$hub" addr add 10.78.0.1/24 dev bre
ip -n "$hub" link set lo up
plug() { # NS IFACE BRIDGE ADDR/LEN [MAC]: a veth from NS to a bridge
	local port=p$RANDOM$RANDOM
	ip -n "$hub" link add "$port" type veth peer name "$2" netns "$1"
	ip -n "$hub" link set "$port" master "$3" up
	[[ -n ${5:-} ]] && ip -n "$1" link set "$2" address "$5"
	[[ $4 != - ]] && ip -n "$1" addr add "$4" dev "$2"
	ip -n "$1" link set "$2" up
	ip -n "$1" link set lo up
}
cluster=etcd1=https://10.78.0.11:2380,etcd2=https://10.78.0.12:2380,etcd3=https://10.78.0.13:2380
start_member() { # I (1..3): a member in its namespace, its data kept
	local i=$1 ip=10.78.0.1$1
	ip netns exec "${ens[$((i - 1))]}" etcd --name "etcd$i" \
		--data-dir "$work/data$i" \
		--listen-client-urls "https://$ip:2379" \
		--advertise-client-urls "https://$ip:2379" \
		--listen-peer-urls "https://$ip:2380" \
		--initial-advertise-peer-urls "https://$ip:2380" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--cert-file "$pki/etcd$i.crt" --key-file "$pki/etcd$i.key" \
		--client-cert-auth --trusted-ca-file "$pki/ca.crt" \
		--peer-cert-file "$pki/etcd$i.crt" --peer-key-file "$pki/etcd$i.key" \
		--peer-client-cert-auth --peer-trusted-ca-file "$pki/ca.crt" \
		>>"$work/etcd$i.log" 2>&1 &
	epids[$((i - 1))]=$!
}
for i in 1 2 3; do
	ip netns add "${ens[$((i - 1))]}"
	plug "${ens[$((i - 1))]}" eth0 bre "10.78.0.1$i/24"
	start_member $i
done
all=https://10.78.0.11:2379,https://10.78.0.12:2379,https://10.78.0.13:2379
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
((healthy == 3)) || { tail -n 20 "$work"/etcd*.log >&2; fail "etcd: $healthy/3 healthy"; }

# The two servers: A on 10.78.1.0/24 (node a1), B on 10.78.2.0/24 (b1).
macs=(02:00:00:00:0a:01 02:00:00:00:0b:01)
names=(a1 b1)
for s in 0 1; do
	seg=$((s + 1))
	out=$work/out$s
	mkdir -p "$out/public" "$out/boot" "$out/nodes" "$out/state"
	# Both servers hold a1's payload; the fleet serves it once.
	mkdir -p "$out/nodes/a1"
	echo "token: secret-$$" >"$out/nodes/a1/firstboot.yaml"
	chmod 0600 "$out/nodes/a1/firstboot.yaml"
	ip netns add "${nbs[$s]}"
	plug "${nbs[$s]}" e0 bre "10.78.0.2$s/24"
	plug "${nbs[$s]}" s0 "$([[ $s == 0 ]] && echo bra || echo brb)" "10.78.$seg.1/24"
	ip netns add "${cls[$s]}"
	plug "${cls[$s]}" c0 "$([[ $s == 0 ]] && echo bra || echo brb)" - "${macs[$s]}"
	# Routed segments: each server forwards to the other's segment.
	ip netns exec "${nbs[$s]}" sysctl -qw net.ipv4.ip_forward=1
	ip -n "${nbs[$s]}" route add "10.78.$((2 - s)).0/24" via "10.78.0.2$((1 - s))"
	cat >"$out/netboot.yaml" <<EOF
version: 1
cluster: test
listen: 10.78.$seg.1
interface: s0
dhcp:
  mode: full
  subnet: 10.78.$seg.0/24
  pool: 10.78.$seg.100-10.78.$seg.200
  lease_time: 600
  check_wait_ms: 0
tftp: { port: 69 }
http: { port: 8080, https_port: 8443, cert: $pki/https$s.crt, key: $pki/https$s.key }
paths: { public: public, boot: boot, nodes: nodes, state: state }
store:
  etcd:
    endpoints: [https://10.78.0.11:2379, https://10.78.0.12:2379, https://10.78.0.13:2379]
    ca: $pki/ca.crt
    cert: $pki/netboot.crt
    key: $pki/netboot.key
    prefix: /mbtest
nodes:
  - { name: ${names[$s]}, mac: "${macs[$s]}", ip: 10.78.$seg.11, role: worker }
EOF
done
# A runs as an unprivileged user (the client's threads then run under
# the privilege drop: Landlock, seccomp); B as root.
users=(nobody root)
chmod 0711 "$work" # nobody reaches out0 (and only it)
chown -R nobody "$work/out0"
start_server() { # S (0 A, 1 B)
	local s=$1
	ip netns exec "${nbs[$s]}" "$nb_bin" --user "${users[$s]}" \
		--config "$work/out$s/netboot.yaml" \
		>>"$work/nb$s.log" 2>&1 &
	npids[$s]=$!
	for _ in $(seq 100); do
		grep -q 'store: .* nodes after loading etcd' "$work/nb$s.log" && return 0
		kill -0 "${npids[$s]}" 2>/dev/null || fail "server $s exited"
		sleep 0.1
	done
	fail "server $s did not load etcd"
}
start_server 0
start_server 1
api() { # S PATH: GET from server S (inside its namespace)
	ip netns exec "${nbs[$1]}" curl -sf --max-time 3 "http://10.78.$(($1 + 1)).1:8080$2"
}
node_field() { # S NAME FIELD: a node's field in server S's /v1/nodes
	api "$1" /v1/nodes | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n["name"] == sys.argv[1]:
        ev = n.get("last_event") or {}
        print(n.get(sys.argv[2], ev.get(sys.argv[2], "")))' "$2" "$3" 2>/dev/null || true
}
wait_for() { # DESC WANT CMD...: poll CMD until it prints WANT (15 s)
	local desc=$1 want=$2 got=
	shift 2
	for _ in $(seq 150); do
		got=$("$@" || true)
		[[ $got == "$want" ]] && return 0
		sleep 0.1
	done
	fail "$desc: got '$got', want '$want'"
}
dhcp() { # S: the node's DHCP exchange on its segment (ACK: "dhcp" milestone)
	cat >"$work/udhcpc.sh" <<'EOF'
#!/bin/sh
exit 0
EOF
	chmod +x "$work/udhcpc.sh"
	ip netns exec "${cls[$1]}" busybox udhcpc -i c0 -f -q -n -t 5 -T 1 \
		-s "$work/udhcpc.sh" >/dev/null 2>&1 || fail "no lease for ${names[$1]}"
}
as_node() { # S: give the node of segment S its reserved address
	local seg=$(($1 + 1))
	ip -n "${cls[$1]}" addr replace "10.78.$seg.11/24" dev c0
	ip -n "${cls[$1]}" route replace default via "10.78.$seg.1"
}
fetch() { # S FROM: a1's firstboot.yaml through server S, from a1: the status
	as_node 0
	ip netns exec "${cls[0]}" curl -s --max-time 10 -o "$work/fetched" \
		-w '%{http_code}' --cacert "$pki/ca.crt" \
		"https://10.78.$(($1 + 1)).1:8443/v1/nodes/${macs[0]}/firstboot" || true
}
event() { # S STEP STATUS: the agent's event, from the node's address
	local seg=$(($1 + 1))
	as_node "$1"
	ip netns exec "${cls[$1]}" curl -sf --max-time 3 -o /dev/null -X POST \
		-H 'Content-Type: application/json' \
		--data-binary "{\"step\":\"$2\",\"status\":\"$3\"}" \
		"http://10.78.$seg.1:8080/v1/nodes/${macs[$1]}/events" ||
		fail "event $2 $3 to server $1"
}
servers() { # S: how many live servers S lists
	api "$1" /v1/servers | python3 -c '
import json, sys
print(len(json.load(sys.stdin)["servers"]))' 2>/dev/null || true
}
metric() { # S NAME
	api "$1" /metrics | awk -v m="metalboot_$2" '$1 == m { print $2 }'
}

# Each node boots on its own segment; both servers see both.
dhcp 0
dhcp 1
wait_for "a1 on A" booting node_field 0 a1 state
wait_for "a1 on B" booting node_field 1 a1 state
wait_for "b1 on A" booting node_field 0 b1 state
event 0 kubeadm running
wait_for "a1's event on B" provisioning node_field 1 a1 state
wait_for "both servers live (A)" 2 servers 0
wait_for "both servers live (B)" 2 servers 1
wait_for "etcd up on A" 1 metric 0 store_etcd_up

# Served once in the fleet: a1's payload through A, then never again,
# neither through B nor through A.
[[ $(fetch 0) == 200 ]] || fail "a1's firstboot through A"
grep -q "secret-$$" "$work/fetched" || fail "a1's firstboot body"
[[ $(fetch 1) == 410 ]] || fail "a1's firstboot again through B"
[[ $(fetch 0) == 410 ]] || fail "a1's firstboot again through A"
[[ $(metric 1 store_etcd_claims_lost_total) == 1 ]] || fail "B's lost claim not counted"
ctl get --prefix --keys-only /mbtest/v1/served/ | grep -q "/firstboot$" ||
	fail "no served mark in etcd"

# One member down: quorum holds, sharing goes on, nobody says etcd is down.
kill_wait "${epids[0]}"
epids[0]=0
event 1 kubeadm running
wait_for "b1's event on A, one member down" provisioning node_field 0 b1 state
event 1 kubeadm ok
wait_for "b1's step on A" ok node_field 0 b1 status
if grep -q 'store: etcd unreachable' "$work"/nb*.log; then
	fail "one member down was logged as etcd unreachable"
fi

# Every member down: A keeps serving from its copy and queues.
kill_wait "${epids[1]}" "${epids[2]}"
epids[1]=0
epids[2]=0
event 0 join failed
check_local() { node_field 0 a1 state; }
wait_for "A records with etcd down" failed check_local
wait_for "etcd down on A" 0 metric 0 store_etcd_up
queued=$(metric 0 store_etcd_queued_writes)
((queued >= 1)) || fail "no write queued on A with etcd down ($queued)"
logged_down() { grep -c 'store: etcd unreachable' "$work/nb0.log" || true; }
wait_for "A logs etcd down" 1 logged_down
dhcp 0 # booting goes on
# No server can tell whether another served a secret: 503, never the body.
[[ $(fetch 0) == 503 ]] || fail "a secret with etcd down: not 503"
for i in 1 2 3; do start_member $i; done
wait_for "etcd back on A" 1 metric 0 store_etcd_up
wait_for "A's queue drained" 0 metric 0 store_etcd_queued_writes
wait_for "what A queued reaches B" failed node_field 1 a1 state
rec=$(ctl get --print-value-only "/mbtest/v1/nodes/${macs[0]}")
grep -q '"state":"failed"' <<<"$rec" || fail "a1's record in etcd: $rec"

# B killed (no clean stop): its registration lapses with its lease.
kill -9 "${npids[1]}"
wait "${npids[1]}" 2>/dev/null || true
npids[1]=0
for _ in $(seq 300); do
	[[ $(servers 0) == 1 ]] && break
	sleep 0.1
done
[[ $(servers 0) == 1 ]] || fail "B still listed after its lease: $(api 0 /v1/servers)"
# A clean stop; neither server's log holds a sanitizer report.
kill_wait "${npids[0]}"
npids[0]=0
if grep -E 'ERROR: [A-Za-z]*Sanitizer|runtime error' "$work"/nb*.log >&2; then
	fail "sanitizer report"
fi
grep -q 'BEGIN\|PRIVATE KEY' "$work"/nb*.log && fail "a key in the log"
echo "ok: shared node store on 3 etcd members, 2 servers on 2 segments"
