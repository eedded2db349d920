#!/usr/bin/env bash
# storm_small.sh: a small boot storm. 50 simulated PXE machines (bench/storm,
# half BIOS, half UEFI) boot at once against metalboot-netboot serving a
# 50-node OUT built by metalboot-build, over a veth between two network
# namespaces of this test: DHCP with PXE options, the loader over TFTP
# (windowsize 4), iPXE's DHCP, the script, kernel and initrd over HTTP from
# the leased address, then 4 agent events each. Every machine must get
# through with no failure; the server must then list all 50 nodes as
# provisioning with the last event, count 100 ACKs and 50 TFTP transfers
# in /metrics, and stop cleanly. No timing is asserted (bench/storm.sh).
# Needs root, ip and curl; exit 77 (skip) otherwise.
set -euo pipefail
build=${MB_BUILD_DIR:-$(pwd)}
src=${MB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null ||
	! command -v curl >/dev/null || ! command -v python3 >/dev/null; then
	echo "skip: needs root, ip, curl, python3"
	exit 77
fi
for b in netboot/metalboot-netboot builder/metalboot-build bench/storm/storm; do
	[[ -x $build/$b ]] || { echo "no $build/$b"; exit 1; }
done
STORM_BUILD=$build
STORM_SRC=$src
. "$src/tests/interop/storm_lib.bash"
n=50
fail() {
	echo "FAIL: $*"
	echo "--- server log (tail)"
	tail -30 "$STORM_WORK/ours.log" || true
	exit 1
}

storm_setup "$n" $((512 * 1024)) $((2 * 1024 * 1024)) || fail "setup"
storm_start_ours "$build/netboot/metalboot-netboot" "$n" ||
	fail "server did not start"
rc=0
out=$(storm_run small -n "$n" --windowsize 4 --events 4 \
	--server-pid "$STORM_OURS") || rc=$?
echo "$out"
[[ $rc == 0 ]] || {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failures"])' \
		"$STORM_WORK/small.json" 2>/dev/null || true
	fail "storm exit status $rc"
}
python3 - "$STORM_WORK/small.json" "$n" <<'EOF' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert r["served"] == n and r["failed"] == 0 and not r["failures"], r
for p, s in r["phases"].items():
    assert s["n"] == n, (p, s)
EOF
echo "ok: $n machines served, every phase completed by all"

ip netns exec "$STORM_NS_S" curl -sf "http://$STORM_SERVER/v1/nodes" \
	>"$STORM_WORK/nodes.json" || fail "GET /v1/nodes"
python3 - "$STORM_WORK/nodes.json" "$n" <<'EOF' || fail "nodes"
import json, sys
nodes = json.load(open(sys.argv[1]))["nodes"]
assert len(nodes) == int(sys.argv[2]), len(nodes)
for x in nodes:
    assert x["state"] == "provisioning", x
    assert x["last_event"]["step"] == "storm-3", x
    ev = [t["event"] for t in x["timeline"]]
    for want in ("dhcp", "tftp", "boot-script", "kernel", "initrd"):
        assert want in ev, (x["name"], ev)
EOF
echo "ok: /v1/nodes: all $n provisioning, timeline dhcp..initrd, last event storm-3"
ip netns exec "$STORM_NS_S" curl -sf "http://$STORM_SERVER/metrics" \
	>"$STORM_WORK/metrics" || fail "GET /metrics"
acks=$(awk '$1 == "metalboot_dhcp_acks_total" { print $2 }' "$STORM_WORK/metrics")
tftp=$(awk '$1 == "metalboot_tftp_transfer_seconds_count" { print $2 }' \
	"$STORM_WORK/metrics")
[[ $acks == $((2 * n)) && $tftp == "$n" ]] ||
	fail "metrics: $acks ACKs (want $((2 * n))), $tftp TFTP transfers (want $n)"
echo "ok: /metrics: $acks ACKs, $tftp TFTP transfers"

kill -TERM "$STORM_OURS"
rc=0
wait "$STORM_OURS" || rc=$?
STORM_PIDS=()
[[ $rc == 0 ]] || fail "server exit status $rc after SIGTERM"
grep -q 'Sanitizer' "$STORM_WORK/ours.log" && fail "sanitizer report"
echo "ok: clean shutdown"
echo "PASS"
