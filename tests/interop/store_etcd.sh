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
tag=mbs$$
# shellcheck source=tests/interop/etcd_common.bash
. "$(dirname "$0")/etcd_common.bash"
nbs=("$tag-na" "$tag-nb")
cls=("$tag-ca" "$tag-cb")
extra_ns=("${nbs[@]}" "${cls[@]}" "$tag-ca2")
npids=(0 0)
etcd_up bra brb
# Server A names the members (etcd1.mbtest...): resolved from the
# namespace's own /etc/hosts (ip netns exec binds /etc/netns/NS/hosts)
# before its sandbox starts, which keeps the resolver's files out.
mkdir -p "/etc/netns/${nbs[0]}"
for i in 1 2 3; do echo "10.78.0.1$i etcd$i.mbtest"; done >"/etc/netns/${nbs[0]}/hosts"
leaf https0 "IP:10.78.1.1" serverAuth
leaf https1 "IP:10.78.2.1" serverAuth

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
nodes:
  - { name: ${names[$s]}, mac: "${macs[$s]}", ip: 10.78.$seg.11, role: worker }
  - { name: ${names[$s]}x, mac: "02:00:00:00:0$((s + 1)):02", ip: 10.78.$seg.12, role: worker }
EOF
	if [[ $s == 0 ]]; then
		store_yaml | sed 's|https://10.78.0.1\([1-3]\):2379|https://etcd\1.mbtest:2379|g'
	else
		store_yaml
	fi >>"$out/netboot.yaml"
done
# A runs as an unprivileged user (the client's threads then run under
# the privilege drop: Landlock, seccomp); B as root.
chmod 0711 "$work" # nobody reaches out0 (and only it)
chown -R nobody "$work/out0"
start_server 0 nobody
start_server 1 root
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
marks=$(ctl get --prefix --keys-only /mbtest/v1/served/ 2>&1 || true)
grep -q "/firstboot$" <<<"$marks" || fail "no served mark in etcd: $marks"

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
# A node the inventory knows, booting for the first time while etcd is
# down: its reservation is answered and its lease queued for etcd.
ip netns add "$tag-ca2"
plug "$tag-ca2" c0 bra - 02:00:00:00:01:02
ip netns exec "$tag-ca2" busybox udhcpc -i c0 -f -q -n -t 8 -T 1 \
	-s "$work/udhcpc.sh" >/dev/null 2>&1 || fail "a1x: no lease with etcd down"
[[ $(metric 0 dhcp_claims_queued_total) -ge 1 ]] || fail "a1x's lease not queued"
# No server can tell whether another served a secret: 503, never the body.
[[ $(fetch 0) == 503 ]] || fail "a secret with etcd down: not 503"
for i in 1 2 3; do start_member $i; done
wait_for "etcd back on A" 1 metric 0 store_etcd_up
wait_for "A's queue drained" 0 metric 0 store_etcd_queued_writes
wait_for "what A queued reaches B" failed node_field 1 a1 state
held() { ctl get --print-value-only /mbtest/v1/leases/10.78.1.12 | grep -o '"mac":"[0-9a-f:]*"'; }
wait_for "a1x's queued lease in etcd" '"mac":"02:00:00:00:01:02"' held
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
no_sanitizer_report
echo "ok: shared node store on 3 etcd members, 2 servers on 2 segments"
