#!/usr/bin/env bash
# dhcp_proxy.sh: metalboot-netboot --dhcp proxy beside dnsmasq as the
# site's DHCP server, on one bridge in private network namespaces. A plain
# client (busybox udhcpc) gets its address from dnsmasq and nothing from
# us; a PXE client gets dnsmasq's address offer and our proxy offer
# (yiaddr 0, PXEClient, boot file), and our port-4011 ACK for UEFI.
# --check-dhcp exits 3 beside dnsmasq; full mode refuses to start next to
# it, starts with --allow-other-dhcp, and counts dnsmasq's OFFERs.
# Needs root, dnsmasq, busybox, python3; exit 77 (skip) otherwise.
set -euo pipefail
build=${MB_BUILD_DIR:-$(pwd)}
src=${MB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$build/netboot/metalboot-netboot
here=$src/tests/interop
for t in ip dnsmasq busybox python3; do
	command -v $t >/dev/null || { echo "skip: needs $t"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "skip: needs root"; exit 77; }
[[ -x $bin ]] || { echo "no $bin"; exit 1; }
b=mbdhcp-$$-b # bridge and our server
d=mbdhcp-$$-d # dnsmasq, the site server
c=mbdhcp-$$-c # client
work=$(mktemp -d)
spid= dpid=
cleanup() {
	[[ -n $spid ]] && kill "$spid" 2>/dev/null || true
	[[ -n $dpid ]] && kill "$dpid" 2>/dev/null || true
	wait 2>/dev/null || true
	for n in "$b" "$d" "$c"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- server log"
	cat "$work/server.log"
	echo "--- dnsmasq log"
	cat "$work/dnsmasq.log"
	exit 1
}

for n in "$b" "$d" "$c"; do
	ip netns add "$n"
	ip -n "$n" link set lo up
done
ip -n "$b" link add br0 type bridge
ip -n "$b" addr add 10.78.0.1/24 dev br0
ip -n "$b" link set br0 up
ip -n "$b" link add pd type veth peer name d0 netns "$d"
ip -n "$b" link add pc type veth peer name cli0 netns "$c"
for p in pd pc; do
	ip -n "$b" link set $p master br0
	ip -n "$b" link set $p up
done
ip -n "$d" addr add 10.78.0.2/24 dev d0
ip -n "$d" link set d0 up
ip -n "$c" link set cli0 address 02:00:00:00:01:01
ip -n "$c" link set cli0 up

ip netns exec "$d" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
	--user=root --interface=d0 --bind-interfaces \
	--dhcp-range=10.78.0.50,10.78.0.60,255.255.255.0,1h \
	--dhcp-leasefile="$work/dnsmasq.leases" --pid-file= --log-dhcp \
	>"$work/dnsmasq.log" 2>&1 &
dpid=$!

mkdir -p "$work/out/public" "$work/out/state"
cat >"$work/out/netboot.yaml" <<EOF
version: 1
cluster: test
listen: 10.78.0.1
dhcp:
  mode: proxy
  subnet: 10.78.0.0/24
  unknown: ignore
tftp: { port: 69 }
http: { port: 8080 }
paths: { public: public, boot: boot, nodes: nodes, state: state }
nodes:
  - { name: cp1, mac: "02:00:00:00:01:01", ip: 10.78.0.11, role: control-plane }
EOF
ip netns exec "$b" "$bin" --user root --config "$work/out/netboot.yaml" -v \
	--tftp-port 0 --http-port 0 --https-port 0 >"$work/server.log" 2>&1 &
spid=$!
for _ in $(seq 50); do
	grep -q 'dhcp: proxy mode on br0' "$work/server.log" && break
	kill -0 "$spid" 2>/dev/null || fail "server exited"
	sleep 0.2
done
grep -q 'dhcp: proxy mode on br0' "$work/server.log" || fail "not started"
sleep 1

# A plain client: dnsmasq's address, no answer from us.
cat >"$work/udhcpc.sh" <<'EOF'
#!/bin/sh
if [ "$1" = bound ]; then
	ip addr add "$ip/24" dev "$interface"
	echo "$ip $siaddr $boot_file" >"$OUT"
fi
exit 0
EOF
chmod +x "$work/udhcpc.sh"
OUT=$work/plain ip netns exec "$c" busybox udhcpc -i cli0 -f -q -n -t 5 \
	-T 1 -s "$work/udhcpc.sh" >/dev/null 2>&1 || true
read -r addr _ <"$work/plain" || fail "udhcpc got nothing"
[[ $addr == 10.78.0.5* || $addr == 10.78.0.60 ]] ||
	fail "udhcpc got $addr, not from dnsmasq"
grep -q 'not a PXE or HTTP client, left to the site server' \
	"$work/server.log" || fail "plain client not left alone"
grep -q 'proxy OFFER' "$work/server.log" && fail "we answered a plain client"
echo "ok: plain client got $addr from dnsmasq, nothing from us"

# A BIOS PXE client: two offers, the address from dnsmasq, the boot file
# from us.
ip netns exec "$c" python3 "$here/dhcp_client.py" pxe cli0 \
	02:00:00:00:01:01 0 >"$work/offers" || fail "no offers"
python3 - "$work/offers" <<'EOF' || fail "offers: $(cat "$work/offers")"
import json, sys
offers = [json.loads(l) for l in open(sys.argv[1])]
site = [o for o in offers if o["server_id"] == "10.78.0.2"]
ours = [o for o in offers if o["server_id"] == "10.78.0.1"]
assert site and site[0]["yiaddr"].startswith("10.78.0."), offers
assert site[0]["yiaddr"] != "0.0.0.0"
o = ours[0]
assert o["yiaddr"] == "0.0.0.0", o
assert o["siaddr"] == "10.78.0.1", o
assert o["vendor_class"] == "PXEClient", o
assert o["file"] == "ipxe/undionly.kpxe", o
assert o["opt43"] == "060108ff", o
assert o["lease"] is None and not o["has_router"] and not o["has_netmask"]
assert o["src"] == "10.78.0.1:67", o
print("ok: address %s from dnsmasq, boot file %s from us" %
      (site[0]["yiaddr"], o["file"]))
EOF

# UEFI asks the boot server on 4011 from its new address.
ip netns exec "$c" python3 "$here/dhcp_client.py" boot cli0 10.78.0.1 \
	"$addr" 02:00:00:00:01:01 7 >"$work/ack" || fail "no 4011 ACK"
python3 - "$work/ack" <<'EOF' || fail "ack: $(cat "$work/ack")"
import json, sys
a = json.loads(open(sys.argv[1]).readline())
assert a["type"] == 5 and a["src"] == "10.78.0.1:4011", a
assert a["file"] == "ipxe/ipxe.efi" and a["yiaddr"] == "0.0.0.0", a
print("ok: port 4011 ACK from %s, file %s" % (a["src"], a["file"]))
EOF

# An unknown PXE machine is ignored (unknown: ignore).
ip netns exec "$c" python3 "$here/dhcp_client.py" pxe cli0 \
	02:00:00:00:07:07 0 >"$work/offers2" || true
grep -q '"server_id": "10.78.0.1"' "$work/offers2" &&
	fail "answered an unknown machine"
echo "ok: unknown PXE machine ignored"
grep -q 'leases' "$work/out/state/dhcp.leases" 2>/dev/null &&
	fail "proxy mode wrote leases"
kill -0 "$spid" || fail "server died"

# --check-dhcp lists both: dnsmasq with an address, us as a proxy; exit 3
# since a server hands out addresses.
rc=0
ip netns exec "$c" "$bin" --check-dhcp cli0 >"$work/check.out" 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "check-dhcp exit $rc: $(cat "$work/check.out")"
grep -q '^DHCP server 10.78.0.2 (from 10.78.0.2) offers 10.78.0.' \
	"$work/check.out" || fail "check-dhcp: $(cat "$work/check.out")"
grep -q '^proxyDHCP server 10.78.0.1 (from 10.78.0.1) PXE' \
	"$work/check.out" || fail "check-dhcp: $(cat "$work/check.out")"
echo "ok: --check-dhcp lists dnsmasq and our proxy, exit 3"

# Full mode on a segment that has a DHCP server: refused, naming it.
kill "$spid"
wait "$spid" 2>/dev/null || true
spid=
rc=0
ip netns exec "$b" "$bin" --user root --config "$work/out/netboot.yaml" --dhcp full \
	--tftp-port 0 --http-port 0 --https-port 0 >"$work/server.log" 2>&1 ||
	rc=$?
[[ $rc == 1 ]] || fail "full mode beside dnsmasq: exit $rc"
grep -q 'dhcp: full mode on br0 refused: another DHCP server 10.78.0.2 (from 10.78.0.2) offers 10.78.0.[0-9]*; use --dhcp proxy' \
	"$work/server.log" || fail "no refusal naming dnsmasq"
echo "ok: full mode refused: $(grep -o 'another DHCP server 10.78.0.2[^;]*' "$work/server.log")"

# --allow-other-dhcp starts anyway, warned; then the OFFERs dnsmasq makes
# while we run are seen on the segment, logged and counted in /metrics.
cp "$work/out/netboot.yaml" "$work/out/full.yaml"
sed -i 's/mode: proxy/mode: full/; s/http: { port: 8080 }/http: { port: 8080 }/' \
	"$work/out/full.yaml"
ip netns exec "$b" "$bin" --user root --config "$work/out/full.yaml" --allow-other-dhcp \
	--tftp-port 0 --https-port 0 >"$work/server.log" 2>&1 &
spid=$!
for _ in $(seq 60); do
	grep -q 'dhcp: full mode on br0' "$work/server.log" && break
	kill -0 "$spid" 2>/dev/null || fail "server exited"
	sleep 0.2
done
grep -q 'warning: dhcp: full mode on br0, but another DHCP server 10.78.0.2' \
	"$work/server.log" || fail "no warning about dnsmasq"
echo "ok: --allow-other-dhcp: started, warned"
# (dnsmasq pings an address before offering it: its OFFER may come after
# the client stopped listening; the server is still there to see it.)
ip netns exec "$c" python3 "$here/dhcp_client.py" pxe cli0 \
	02:00:00:00:05:05 0 >"$work/offers3" || true
for _ in $(seq 40); do
	grep -q 'another DHCP server on br0: 10.78.0.2' "$work/server.log" &&
		break
	sleep 0.2
done
grep -q 'another DHCP server on br0: 10.78.0.2 (from 10.78.0.2) offered 10.78.0.' \
	"$work/server.log" || fail "foreign OFFER not logged"
if command -v curl >/dev/null; then
	ip netns exec "$b" curl -sf http://10.78.0.1:8080/metrics \
		>"$work/metrics" || fail "GET /metrics"
	n=$(awk '$1 == "metalboot_dhcp_foreign_offers_total" { print $2 }' \
		"$work/metrics")
	((${n:-0} >= 1)) || fail "metrics: $(grep foreign "$work/metrics")"
	echo "ok: dnsmasq's OFFER seen while running: logged, foreign_offers $n"
fi
echo "PASS"
