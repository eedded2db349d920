#!/usr/bin/env bash
# firstboot_builder.sh - the contract between metalboot-build and the agent
# (docs/formats.md): every example inventory is built, every node's
# firstboot.yaml is planned by the agent (--dry-run, nothing written), the
# cross-node rules hold (one kubeadm init, on the first control plane;
# joiners wait for the API; etcd members run the etcd phase and the first
# control plane of an external-etcd cluster waits for them), and the first
# control plane of lab.yaml runs to the end on a fake root with stand-ins.
. "$(dirname "$0")/standins/fbtest.sh"
BUILDER=$BUILD/builder/metalboot-build
[[ -x $BUILDER ]] || { echo "SKIP: metalboot-build not built"; exit 77; }
SRC=${MB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

for inv in single lab ha-stacked ha-external-etcd ha-vip; do
	echo "== $inv"
	out=$WORK/out-$inv
	if ! "$BUILDER" build "$SRC/profiles/examples/$inv.yaml" -o "$out" \
		>"$WORK/build-$inv.log" 2>&1; then
		cat "$WORK/build-$inv.log"
		fail "metalboot-build build $inv failed"
	fi
	inits=0
	for f in "$out"/nodes/*/firstboot.yaml; do
		node=$(basename "$(dirname "$f")")
		[[ $(mode "$f") == 600 ]] || fail "$f is not 0600"
		R=$WORK/dry-$inv-$node
		mkdir -p "$R"
		before=$(snapshot "$R")
		agent "$R" "$WORK/s-dry" --config "$f" --dry-run >"$WORK/plan" 2>&1 ||
			{ cat "$WORK/plan"; fail "$inv/$node: the agent refused its payload"; }
		[[ $(snapshot "$R") == "$before" ]] || fail "$inv/$node: dry run wrote"
		plan=$(cat "$WORK/plan")
		# With a VIP every control plane starts keepalived and haproxy
		# before kubeadm; init waits for the VIP first.
		if [[ $inv == ha-vip && $node == cp* ]]; then
			[[ $plan == *" vip"*"systemctl restart keepalived"*" kubeadm"* ]] ||
				fail "$inv/$node: no vip step before kubeadm"
			if [[ $plan == *"kubeadm init --config"* ]]; then
				[[ $plan == *"for the VIP 192.168.100.10:8443"* ]] ||
					fail "$inv/$node: init does not wait for the VIP"
			fi
		elif [[ $plan == *" vip"$'\n'* ]]; then
			fail "$inv/$node: a vip step without a VIP"
		fi
		case $plan in
		*"kubeadm init --config"*)
			inits=$((inits + 1))
			[[ $plan == *" kubeconfig"* ]] || fail "$inv/$node: no kubeconfig"
			[[ $plan == *"wait-api"* ]] && fail "$inv/$node: init waits for the API"
			if [[ $inv == ha-external-etcd ]]; then
				[[ $plan == *"for external etcd https://192.168.100.31:2379/health"* ]] ||
					fail "$inv/$node: does not wait for etcd"
			fi
			;;
		*"kubeadm join --config"*)
			[[ $plan == *"wait-api"* ]] || fail "$inv/$node: joins without waiting"
			;;
		*"kubeadm init phase etcd local --config"*)
			[[ $plan == *"20-etcd-service-manager.conf"* ]] ||
				fail "$inv/$node: etcd kubelet"
			[[ $plan == *" ready"* ]] && fail "$inv/$node: etcd waits for Ready"
			;;
		*) fail "$inv/$node: no kubeadm action in the plan" ;;
		esac
	done
	[[ $inits == 1 ]] || fail "$inv: $inits kubeadm init"
done
[[ -z $(calls "$WORK/s-dry") ]] || fail "a dry run ran programs"

echo "== lab cp1 on a fake root"
R=$WORK/lab-cp1 S=$WORK/s-lab
mkroot "$R"
agent "$R" "$S" --config "$WORK/out-lab/nodes/cp1/firstboot.yaml" 2>"$WORK/cp1.err" ||
	{ cat "$WORK/cp1.err"; fail "lab cp1 did not finish"; }
has_call "$S" "kubeadm init --config $R/var/lib/metalboot/kubeadm.yaml"
cmp -s "$R/var/lib/metalboot/kubeadm.yaml" "$WORK/out-lab/nodes/cp1/kubeadm.yaml" ||
	fail "kubeadm.yaml differs from the builder's"
[[ $(mode "$R/etc/kubernetes/pki/ca.key") == 600 ]] || fail "ca.key mode"
[[ $(mode "$R/etc/kubernetes/pki/sa.key") == 600 ]] || fail "sa.key mode"
cmp -s "$R/etc/kubernetes/pki/ca.crt" "$WORK/out-lab/pki/ca.crt" || fail "ca.crt"
grep -qx '192.168.100.21	w1' "$R/etc/hosts" || fail "hosts"
echo PASS
