#!/usr/bin/env bash
# check_kubeadm.sh - run by run.sh after the fleet (MB_QEMU_CHECK): from the
# kubeadm stand-ins' records on each node's serial console, every node ran
# the right kubeadm action exactly once, with the cluster's token, CA hash
# and endpoint. Sees $work (the rig's directory).
set -euo pipefail
token=$(cat "$work/out/secrets/bootstrap-token")
hash=$(cat "$work/out/discovery-hash")
fail() { echo "check_kubeadm: FAIL: $*" >&2; exit 1; }
# has KEY VALUE: the record holds "KEY: VALUE", quoted or not (the emitter
# quotes only values that would not read back as strings).
has() { grep -qE -- "$1: \"?$(sed 's/[.]/[.]/g' <<<"$2")\"?\$" <<<"$log"; }
eval "$(python3 - "$work/out/netboot.yaml" <<'PY'
import sys, yaml
nb = yaml.safe_load(open(sys.argv[1]))
print("declare -A role")
for n in nb["nodes"]:
    print("role[%s]=%s" % (n["name"], n["role"]))
PY
)"
endpoint=$(python3 - "$work/out/nodes" <<'PY'
import glob, sys, yaml
for f in glob.glob(sys.argv[1] + "/*/firstboot.yaml"):
    print(yaml.safe_load(open(f))["cluster"]["endpoint"]); break
PY
)
first_cp=
for n in $(ls "$work"/*.serial | xargs -n1 basename | sed 's/\.serial$//'); do
	[[ -n ${role[$n]:-} ]] || continue
	log=$(cat "$work/$n.serial" "$work/$n.serial.2" 2>/dev/null | tr -d '\r' | grep 'mb-standin: ' || true)
	actions=$(grep -cE 'mb-standin: kubeadm (init|join) --config' <<<"$log" || true)
	case ${role[$n]} in
	control-plane)
		if grep -q 'mb-standin: kubeadm init --config' <<<"$log"; then
			[[ -z $first_cp ]] || fail "$n and $first_cp both ran kubeadm init"
			first_cp=$n
			has token "$token" || fail "$n: init without the bootstrap token"
			has controlPlaneEndpoint "$endpoint" || fail "$n: init without endpoint $endpoint"
		else
			grep -q 'mb-standin: kubeadm join --config' <<<"$log" || fail "$n: no kubeadm action"
			grep -q 'certificateKey' <<<"$log" || fail "$n: control-plane join without certificateKey"
		fi
		;;
	worker)
		grep -q 'mb-standin: kubeadm join --config' <<<"$log" || fail "$n: worker did not join"
		has token "$token" || fail "$n: join without the bootstrap token"
		grep -qE -- "- \"?$hash\"?\$" <<<"$log" || fail "$n: join without CA hash $hash"
		has apiServerEndpoint "$endpoint" || fail "$n: join without endpoint $endpoint"
		;;
	esac
	[[ $actions -eq 1 ]] || fail "$n: $actions kubeadm init/join calls, want exactly 1"
	echo "check_kubeadm: $n (${role[$n]}): ok"
done
[[ -n $first_cp ]] || fail "no node ran kubeadm init"
