#!/usr/bin/env bash
# store_failover.sh: a standby takes over a dead server's segment, and the
# fleet hands out no address twice and serves no secret twice. Three
# Debian etcd-server members (TLS) in network namespaces; on segment A a
# primary server (A) and a standby (S, dhcp.failover: standby), on
# segment B a server (B); busybox udhcpc clients, each in a namespace of
# its own with its MAC, boot like nodes: DHCP, their firstboot payload by
# HTTPS from the server that answered, then agent events.
#   - S stands by while A is registered; an address etcd says another
#     machine holds is never offered;
#   - nodes a1-a3, u1 (an unknown machine: a pool address) boot through
#     A, b1 through B; one etcd member is then killed;
#   - a4 starts booting, A is killed (-9) (a4's boot is cut wherever it
#     was), a5, a6 and u2 start booting:
#     S answers once A's registration lapses (printed: the takeover
#     time) and the nodes finish through S; a1-a3 renew their address
#     with S and keep it;
#   - A back: S stands by again;
#   - afterwards, from the servers' logs and etcd's history: no address
#     was offered to two machines, and every firstboot was served once.
# Needs root (ip netns); exit 77 when a tool is missing.
set -euo pipefail
tag=mbf$$
t0=$SECONDS
phase() { echo "[$((SECONDS - t0)) s] $*"; }
# shellcheck source=tests/interop/etcd_common.bash
. "$(dirname "$0")/etcd_common.bash"
# Servers: 0 A (10.78.1.1), 1 S (10.78.1.2), 2 B (10.78.2.1).
nbs=("$tag-na" "$tag-ns" "$tag-nb")
sip=(10.78.1.1 10.78.1.2 10.78.2.1)
sbr=(bra bra brb)
names=(a1 a2 a3 a4 a5 a6 b1 u1 u2)
declare -A mac ip seg
for i in 1 2 3 4 5 6; do
	mac[a$i]=02:00:00:00:0a:0$i ip[a$i]=10.78.1.1$i seg[a$i]=0
done
mac[b1]=02:00:00:00:0b:01 ip[b1]=10.78.2.11 seg[b1]=2
mac[u1]=02:00:00:00:0c:01 seg[u1]=0
mac[u2]=02:00:00:00:0c:02 seg[u2]=0
extra_ns=("${nbs[@]}")
for n in "${names[@]}"; do extra_ns+=("$tag-c$n"); done
npids=(0 0 0)
etcd_up bra brb
for s in 0 1 2; do leaf "https$s" "IP:${sip[$s]}" serverAuth; done

# A foreign machine holds 10.78.1.100 (the first pool address) for an
# hour, as another server wrote it.
hold='{"mac":"02:00:00:00:ff:ff","state":"bound","expires":'$(($(date +%s) + 3600))',"server":"elsewhere"}'
ctl put /mbtest/v1/leases/10.78.1.100 "$hold" >/dev/null

server_yaml() { # S
	local s=$1 n net=10.78.1
	[[ $s == 2 ]] && net=10.78.2
	cat <<EOF
version: 1
cluster: test
listen: ${sip[$s]}
interface: s0
dhcp:
  mode: full
  subnet: $net.0/24
  pool: $net.100-$net.200
  lease_time: 600
  check_wait_ms: 0
  unknown: discover
$([[ $s == 1 ]] && echo "  failover: standby")
tftp: { port: 69 }
http: { port: 8080, https_port: 8443, cert: $pki/https$s.crt, key: $pki/https$s.key }
paths: { public: public, boot: boot, nodes: nodes, state: state }
nodes:
EOF
	for n in "${names[@]}"; do
		[[ -n ${ip[$n]:-} ]] || continue
		echo "  - { name: $n, mac: \"${mac[$n]}\", ip: ${ip[$n]}, role: worker }"
	done
	store_yaml
}
for s in 0 1 2; do
	out=$work/out$s
	mkdir -p "$out/public" "$out/boot" "$out/nodes" "$out/state"
	for n in "${names[@]}"; do
		[[ -n ${ip[$n]:-} ]] || continue
		mkdir -p "$out/nodes/$n"
		echo "token: $n-secret-$$" >"$out/nodes/$n/firstboot.yaml"
		chmod 0600 "$out/nodes/$n/firstboot.yaml"
	done
	server_yaml $s >"$out/netboot.yaml"
	ip netns add "${nbs[$s]}"
	plug "${nbs[$s]}" e0 bre "10.78.0.2$s/24"
	plug "${nbs[$s]}" s0 "${sbr[$s]}" "${sip[$s]}/24"
done
for n in "${names[@]}"; do
	ip netns add "$tag-c$n"
	plug "$tag-c$n" c0 "$([[ ${seg[$n]} == 2 ]] && echo brb || echo bra)" - "${mac[$n]}"
done

api() { # S PATH
	ip netns exec "${nbs[$1]}" curl -sf --max-time 3 "http://${sip[$1]}:8080$2"
}
metric() { # S NAME
	api "$1" /metrics | awk -v m="metalboot_$2" '$1 == m { print $2 }'
}
cat >"$work/udhcpc.sh" <<'EOF'
#!/bin/sh
# udhcpc's script: the lease and the server it came from.
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
echo "$ip $serverid" >"$LEASE_FILE"
EOF
chmod +x "$work/udhcpc.sh"
dhcp() { # NAME [REQUESTED-IP]: a lease (-t 40: up to 40 s of DISCOVERs)
	local n=$1 req=()
	[[ -n ${2:-} ]] && req=(-r "$2")
	rm -f "$work/lease-$n"
	ip netns exec "$tag-c$n" env LEASE_FILE="$work/lease-$n" \
		busybox udhcpc -i c0 -f -q -n -t 40 -T 1 -A 1 "${req[@]}" \
		-s "$work/udhcpc.sh" >>"$work/udhcpc-$n.log" 2>&1 &&
		[[ -s $work/lease-$n ]]
}
boot() { # NAME: DHCP, the firstboot payload (if it has one), an event
	local n=$1 addr srv code
	dhcp "$n" || { echo "$n: no lease" >"$work/boot-$n"; return 1; }
	read -r addr srv <"$work/lease-$n"
	ip -n "$tag-c$n" addr replace "$addr/24" dev c0
	if [[ -n ${ip[$n]:-} ]]; then
		code=$(ip netns exec "$tag-c$n" curl -s --max-time 10 \
			-o "$work/fb-$n" -w '%{http_code}' --cacert "$pki/ca.crt" \
			"https://$srv:8443/v1/nodes/${mac[$n]}/firstboot" || true)
		[[ $code == 200 ]] && grep -q "$n-secret-$$" "$work/fb-$n" || {
			echo "$n: firstboot from $srv: $code" >"$work/boot-$n"
			return 1
		}
		ip netns exec "$tag-c$n" curl -sf --max-time 5 -o /dev/null -X POST \
			-H 'Content-Type: application/json' \
			--data-binary '{"step":"kubeadm","status":"ok"}' \
			"http://$srv:8080/v1/nodes/${mac[$n]}/events" || {
			echo "$n: event to $srv refused" >"$work/boot-$n"
			return 1
		}
	fi
	echo "ok $addr $srv" >"$work/boot-$n"
}
booted() { # NAME...: each one's boot went through
	local n
	for n in "$@"; do
		[[ $(cut -d' ' -f1 "$work/boot-$n" 2>/dev/null) == ok ]] ||
			fail "$n did not boot: $(cat "$work/boot-$n" 2>/dev/null; tail -n 3 "$work/udhcpc-$n.log" 2>/dev/null)"
	done
}
addr_of() { cut -d' ' -f2 "$work/boot-$1"; }
via() { cut -d' ' -f3 "$work/boot-$1"; }
logged() { grep -c "$2" "$work/nb$1.log" || true; }

start_server 0
start_server 2
start_server 1
wait_for "S stands by for A" 1 logged 1 'standby: primary .* registered: standing by'
[[ $(metric 1 dhcp_standby_serving) == 0 ]] || fail "S serves while A lives"

# The first wave through A and B.
phase first wave
pids=()
for n in a1 a2 a3 u1 b1; do boot $n & pids+=($!); done
wait "${pids[@]}" || true
booted a1 a2 a3 u1 b1
for n in a1 a2 a3 u1; do [[ $(via $n) == 10.78.1.1 ]] || fail "$n answered by $(via $n)"; done
[[ $(addr_of a1) == 10.78.1.11 ]] || fail "a1 got $(addr_of a1)"
[[ $(addr_of u1) != 10.78.1.100 ]] || fail "u1 got the address another machine holds"
[[ $(metric 1 dhcp_offers_total) == 0 ]] || fail "the standby offered"

phase second wave
# One member down, then A dies in the middle of the second wave.
kill_wait "${epids[0]}"
epids[0]=0
boot a4 &
pids=($!)
sleep 0.3
kill -9 "${npids[0]}"
wait "${npids[0]}" 2>/dev/null || true
npids[0]=0
t_kill=$(date +%s.%N)
for n in a5 a6 u2; do boot $n & pids+=($!); done
wait_for "S takes over" 1 logged 1 'standby: no primary registered'
t_take=$(date +%s.%N)
wait "${pids[@]}" || true
booted a5 a6 u2 # a4's boot may have been cut anywhere: not counted
for n in a5 a6 u2; do [[ $(via $n) == 10.78.1.2 ]] || fail "$n finished through $(via $n)"; done
takeover=$(python3 -c "print(f'{$t_take - $t_kill:.1f}')")
echo "takeover: S answered ${takeover} s after A was killed (registration TTL 10 s)"
python3 -c "import sys; sys.exit(0 if $t_take - $t_kill < 20 else 1)" ||
	fail "takeover took ${takeover} s"

phase renewals
# a1-a3 renew their address with S (it learned A's leases from etcd).
for n in a1 a2 a3; do
	dhcp $n "$(addr_of $n)" || fail "$n: no renewal from S"
	[[ $(cut -d' ' -f1 "$work/lease-$n") == "$(addr_of $n)" ]] ||
		fail "$n renewed as $(cat "$work/lease-$n"), had $(addr_of $n)"
done
# Served once in the fleet: a1's payload again, through S, is refused.
code=$(ip netns exec "$tag-ca1" curl -s --max-time 10 -o /dev/null \
	-w '%{http_code}' --cacert "$pki/ca.crt" \
	"https://10.78.1.2:8443/v1/nodes/${mac[a1]}/firstboot" || true)
[[ $code == 410 ]] || fail "a1's firstboot again through S: $code"

phase A back
# A back: S stands by again.
start_server 0
wait_for "S stands by again" 2 logged 1 'standby: primary .* registered: standing by'
# Every server lists every node's event. a4 may lack its own: it booted
# through A just before A was killed, and a crash loses what the last
# flush interval recorded (the store's contract).
with_event() { api "$1" /v1/nodes | python3 -c '
import json, sys
ns = json.load(sys.stdin)["nodes"]
print(" ".join(sorted(n["name"] for n in ns if n.get("last_event") and n["name"] != "a4")))' 2>/dev/null || true; }
for s in 0 1 2; do wait_for "server $s lists the nodes' events" "a1 a2 a3 a5 a6 b1" with_event $s; done
phase checks
# Afterwards: no address offered to two machines (logs), no address held
# by two machines (etcd's history), every firstboot served once (logs,
# etcd's served marks).
cat "$work"/nb[012].log | python3 -c '
import re, sys
by_ip = {}
for line in sys.stdin:
    m = re.search(r"dhcp ([0-9a-f:]{17}): .*OFFER (\d+\.\d+\.\d+\.\d+)", line)
    if m:
        by_ip.setdefault(m.group(2), set()).add(m.group(1))
bad = {ip: macs for ip, macs in by_ip.items() if len(macs) > 1}
print("offers:", sum(len(m) for m in by_ip.values()), "addresses")
sys.exit("offered to two machines: %s" % bad if bad else 0)' || fail "an address offered twice"
grep -q 'OFFER 10.78.1.100' "$work"/nb*.log && fail "the held address was offered"
ctl watch --prefix --rev=1 /mbtest/v1/leases/ >"$work/history" 2>&1 &
wpid=$!
sleep 3
kill "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true
python3 - "$work/history" <<'EOF' || fail "etcd's history"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
holders = {}
for i, l in enumerate(lines):
    if l == "PUT" and i + 2 < len(lines):
        key, val = lines[i + 1], json.loads(lines[i + 2])
        holders.setdefault(key, set()).add(val["mac"])
bad = {k: v for k, v in holders.items() if len(v) > 1}
print("leases in etcd:", len(holders))
if len(holders) < 9 or bad:
    sys.exit("holders: %s" % holders)
EOF
served=0
for n in a1 a2 a3 a4 a5 a6 b1; do
	c=$(cat "$work"/nb[012].log | grep -c "firstboot of node $n served" || true)
	[[ $c == 1 || ($n == a4 && $c == 0) ]] || fail "$n's firstboot served $c times"
	served=$((served + c))
done
marks=$(ctl get --prefix --keys-only /mbtest/v1/served/ | grep -c '/firstboot$' || true)
[[ $marks == "$served" ]] || fail "$marks served marks in etcd, $served in the logs"
kill_wait "${npids[@]}"
npids=(0 0 0)
no_sanitizer_report
echo "ok: standby took over in ${takeover} s; no address or secret given twice"
