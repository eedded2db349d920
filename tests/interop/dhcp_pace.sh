#!/usr/bin/env bash
# dhcp_pace.sh: offer pacing (dhcp.pace, issue 18) in a private network
# namespace pair. 60 simulated clients DISCOVER at once against a bucket
# of 5 offers and 20 a second with a queue of 20 and 30 ms of jitter: the
# offers past the bucket are held and sent later (delayed), those past the
# queue are dropped, and the clients' retransmitted DISCOVERs get them:
# every client ends with its own address, none refused.
# Needs root (ip netns) and python3; exit 77 (skip) otherwise.
set -euo pipefail
build=${MB_BUILD_DIR:-$(pwd)}
src=${MB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$build/netboot/metalboot-netboot
here=$src/tests/interop
if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null ||
	! command -v python3 >/dev/null || ! command -v curl >/dev/null; then
	echo "skip: needs root, ip, python3, curl"
	exit 77
fi
[[ -x $bin ]] || { echo "no $bin"; exit 1; }
s=mbpace-$$-s
c=mbpace-$$-c
work=$(mktemp -d)
spid=
cleanup() {
	[[ -n $spid ]] && kill "$spid" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$s" 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- server log"
	cat "$work/server.log"
	exit 1
}

ip netns add "$s"
ip netns add "$c"
ip -n "$s" link add srv0 type veth peer name cli0 netns "$c"
ip -n "$s" addr add 10.78.0.1/22 dev srv0
ip -n "$s" link set srv0 up
ip -n "$s" link set lo up
ip -n "$c" link set lo up
ip -n "$c" link set cli0 up

mkdir -p "$work/out/public" "$work/out/state"
cat >"$work/out/netboot.yaml" <<YAML
version: 1
listen: 10.78.0.1
interface: srv0
dhcp:
  mode: full
  subnet: 10.78.0.0/22
  gateway: 10.78.0.1
  pool: 10.78.0.100-10.78.3.200
  unknown: discover
  check_wait_ms: 0
  pace: { rate: 20, burst: 5, jitter_ms: 30, queue: 20 }
tftp: { port: 69 }
http: { port: 8080 }
paths: { public: public, state: state }
YAML
ip netns exec "$s" "$bin" --user root --config "$work/out/netboot.yaml" \
	--https-port 0 >"$work/server.log" 2>&1 &
spid=$!
for _ in $(seq 50); do
	grep -q 'dhcp: full mode' "$work/server.log" && break
	kill -0 "$spid" 2>/dev/null || fail "server exited"
	sleep 0.2
done
grep -q 'dhcp: full mode' "$work/server.log" || fail "server did not start"

out=$(ip netns exec "$c" python3 "$here/dhcp_client.py" load cli0 60) ||
	fail "load: $out"
echo "ok: 60 paced clients: $out"
metric() {
	ip netns exec "$s" curl -s --max-time 5 http://10.78.0.1:8080/metrics |
		sed -n "s/^metalboot_$1 //p"
}
delayed=$(metric dhcp_offers_delayed_total)
dropped=$(metric dhcp_offers_dropped_total)
queued=$(metric dhcp_offers_queued)
offers=$(metric dhcp_offers_total)
echo "offers $offers, delayed $delayed, dropped $dropped, queued now $queued"
((delayed >= 20)) || fail "only ${delayed:-?} offers delayed by the bucket"
((dropped >= 1)) || fail "no offer dropped past the queue of 20"
[[ $queued == 0 ]] || fail "$queued offers still queued"
((offers >= 60)) || fail "only ${offers:-?} offers sent"
kill "$spid"
st=0
wait "$spid" || st=$?
spid=
((st == 0)) || fail "server exited with $st"
echo "all checks passed"
