#!/usr/bin/env bash
# bench/dhcp.sh [N] [BUILD_DIR]: N simulated clients (default 500) run
# DISCOVER/OFFER/REQUEST/ACK at once against metalboot-netboot --dhcp full
# and against dnsmasq (with and without its ping check), in private
# network namespaces. Prints one line per server: offers, ACKs, distinct
# addresses, seconds. Needs root, dnsmasq, python3.
set -euo pipefail
n=${1:-500}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$src/build-dhcp}
bin=$build/netboot/metalboot-netboot
client=$src/tests/interop/dhcp_client.py
s=mbdhcp-$$-s
c=mbdhcp-$$-c
work=$(mktemp -d)
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$s" 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$s"
ip netns add "$c"
ip -n "$s" link add srv0 type veth peer name cli0 netns "$c"
ip -n "$s" addr add 10.80.0.1/20 dev srv0
ip -n "$s" link set srv0 up
ip -n "$c" link set cli0 up
mkdir -p "$work/out/public"
cat >"$work/out/netboot.yaml" <<END
version: 1
cluster: bench
listen: 10.80.0.1
interface: srv0
dhcp:
  mode: full
  subnet: 10.80.0.0/20
  pool: 10.80.0.10-10.80.15.250
  unknown: discover
tftp: { port: 69 }
http: { port: 8080 }
paths: { public: public, boot: boot, nodes: nodes, state: state }
nodes: []
END
run() { # NAME
	local out
	sleep 0.5
	out=$(ip netns exec "$c" python3 "$client" load cli0 "$n") || true
	printf '%-28s %s\n' "$1" "$out"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}
ip netns exec "$s" "$bin" --user root --config "$work/out/netboot.yaml" --tftp-port 0 \
	--http-port 0 --https-port 0 >"$work/mb.log" 2>&1 &
pid=$!
sleep 4.5 # the check for other servers before full mode starts
run "metalboot-netboot"
for ping in ping no-ping; do
	rm -f "$work/dnsmasq.leases"
	extra=()
	[[ $ping == no-ping ]] && extra=(--no-ping)
	ip netns exec "$s" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
		--user=root --interface=srv0 --bind-interfaces \
		--dhcp-range=10.80.0.10,10.80.15.250,255.255.240.0,1h \
		--dhcp-lease-max=10000 --dhcp-leasefile="$work/dnsmasq.leases" \
		--pid-file= "${extra[@]}" >"$work/dnsmasq.log" 2>&1 &
	pid=$!
	run "dnsmasq ($ping)"
done
