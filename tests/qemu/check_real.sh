#!/usr/bin/env bash
# check_real.sh - run by run.sh after case_real.sh's fleet and power
# cycles (MB_QEMU_CHECK): from the "mb-check:" lines each boot printed on
# its console (tests/qemu/standins/mb-rigcheck) and the first stage's
# "metalboot-init:" lines, what a real node must show. Sees $work.
set -euo pipefail
bad=0
fail() { echo "check_real: FAIL: $*" >&2; bad=1; }
# val FILE KEY: the value of "mb-check: KEY=..." in FILE (first such line).
val() {
	tr -d '\r' <"$1" | sed -n "s/^.*mb-check: $2=//p" | head -n 1
}
want() { # FILE KEY EXPECTED (a grep -E pattern for the whole value)
	local v
	v=$(val "$1" "$2")
	[[ $v =~ ^$3$ ]] || fail "$(basename "$1"): $2 is '$v', want /$3/"
}
has() { # FILE PATTERN
	tr -d '\r' <"$1" | grep -qE -- "$2" ||
		fail "$(basename "$1"): no line matching /$2/"
}
for f in cp1.serial cp1.serial.2 w1.serial w1.serial.2; do
	s=$work/$f
	[[ -f $s ]] || { fail "$f missing"; continue; }
	# The first stage and the real root.
	has "$s" 'metalboot-init: network: ok [^ ]+ 192\.168\.100\.(11|21)/24 from 192\.168\.100\.1'
	has "$s" 'metalboot-init: root: ok tmpfs of'
	has "$s" 'metalboot-init: switch_root: exec /sbin/init'
	want "$s" pid1 systemd
	want "$s" rootfs tmpfs
	# containerd as the agent configured it, and a real container.
	want "$s" containerd 'active since=[1-9][0-9]*'
	want "$s" systemdcgroup '[1-9]'
	want "$s" sandbox 'registry\.k8s\.io/pause:3\.9'
	want "$s" cri ok
	want "$s" container ok
	# Host preparation, read back from the kernel.
	want "$s" modules 'br_netfilter overlay'
	want "$s" sysctls '1 1 1 '
	want "$s" swap 0
	want "$s" done yes
done
# cp1: the state disk, formatted on the first boot and kept on the second;
# the cluster's CA is the same and kubeadm init did not run again.
c1=$work/cp1.serial c2=$work/cp1.serial.2
has "$c1" 'metalboot-init: storage: ok /dev/vda formatted'
has "$c2" 'metalboot-init: storage: ok /dev/vda kept'
want "$c1" state '/dev/vda.*'
want "$c2" state '/dev/vda.*'
want "$c1" boot 1
want "$c2" boot 2
want "$c1" inits '1 joins=0'
want "$c2" inits '0 joins=0'
want "$c2" agent 'inactive condition=no'
# ... while the host configuration the image's root lost was reapplied.
has "$c2" 'metalboot-firstboot: info: cp1: host configuration reapplied'
ca1=$(val "$c1" ca) ca2=$(val "$c2" ca)
[[ -n $ca1 && $ca1 == "$ca2" ]] || fail "cp1's CA changed across the reboot ($ca1, $ca2)"
# w1: diskless; after its reboot it starts over and joins again.
w1=$work/w1.serial w2=$work/w1.serial.2
has "$w1" 'metalboot-init: storage: none'
want "$w1" boot 1
want "$w2" boot 1
want "$w1" inits '0 joins=1'
want "$w2" inits '0 joins=1'
want "$w2" agent 'active condition=yes'
if ((bad)); then
	for f in cp1.serial cp1.serial.2 w1.serial w1.serial.2; do
		echo "---- $f: metalboot-init and mb-check lines ----" >&2
		tr -d '\r' <"$work/$f" 2>/dev/null | grep -E 'metalboot-init:|mb-check:' >&2 || true
	done
	exit 1
fi
echo "check_real: ok: systemd on a tmpfs root, containerd with our config and a real container on each boot; cp1 kept its state, w1 re-joined"
