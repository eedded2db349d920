#!/usr/bin/env bash
# check_unknown.sh - after the fleet (MB_QEMU_CHECK): the machine that is
# not in the inventory (MB_QEMU_EXTRA) was given no payload: it is not in
# /v1/nodes, no per-node payload was served to it, its console shows no
# agent, and its firstboot URL is refused.
set -euo pipefail
fail() { echo "check_unknown: FAIL: $*" >&2; exit 1; }
read -r name mac _ <<<"$MB_QEMU_EXTRA"
python3 - "$work/nodes.json" "$mac" <<'PY' || fail "$name appears in /v1/nodes"
import json, sys
sys.exit(1 if any(n["mac"] == sys.argv[2] for n in json.load(open(sys.argv[1]))["nodes"]) else 0)
PY
# netboot saw the machine, said why it ignored it, and counted it.
grep -q "dhcp $mac: DISCOVER .*not in the inventory, ignored" "$work/netboot.log" ||
	fail "netboot did not log ignoring $mac (the test did not run?)"
ignored=$(ip netns exec "$ns" curl -fsS "$api/metrics" |
	awk '$1 == "metalboot_dhcp_ignored_total" {print $2}')
[[ ${ignored:-0} -gt 0 ]] || fail "metalboot_dhcp_ignored_total is ${ignored:-missing}"
! grep -q 'metalboot-firstboot' "$work/$name.serial" || fail "$name ran the agent"
code=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' "$api/v1/nodes/$mac/firstboot")
[[ $code == 404 || $code == 403 ]] || fail "firstboot for $mac answered $code"
echo "check_unknown: $name ($mac): saw DHCP, got no payload ($code): ok"
