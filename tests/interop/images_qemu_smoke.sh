#!/usr/bin/env bash
# images_qemu_smoke.sh: build the lab's images from the test base
# (tests/qemu/mkbase.sh) with `metalboot-build build --base`, boot the
# worker image in QEMU (TCG, never KVM) with its kernel and initrd, and
# assert from the serial console that the base's /init ran the image's
# hook, that the hook loaded the modules and started metalboot-firstboot
# with metalboot.server= and metalboot.mac= from the kernel command line,
# and that the agent itself ran (its dynamic loader and libraries came
# with the image). The guest's network is QEMU's restricted user network:
# DHCP works, nothing leaves QEMU. Exit 77 (skip) without qemu or when
# the Debian packages cannot be fetched.
set -euo pipefail
b=${MB_BUILD_DIR:?}
s=${MB_SOURCE_DIR:?}
cache=${MB_CACHE:-$b/qemu-cache}
timeout=${MB_SMOKE_TIMEOUT:-240}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "SKIP: qemu-system-x86_64 missing" >&2; exit 77; }
agent=$b/firstboot/metalboot-firstboot
[[ -x $agent ]] || fail "$agent not built"

work=$(mktemp -d /tmp/mbsmoke.XXXXXX)
qpid=
cleanup() {
	[[ -n $qpid ]] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The test base, shared with the QEMU rig (same cache layout), built once.
mkdir -p "$cache"
exec 9>"$cache/.base.lock"
flock 9
if [[ ! -f $cache/base/.complete ]]; then
	if ! MB_CACHE=$cache bash "$s/tests/qemu/mkbase.sh" "$cache/base.tmp" \
		2>"$work/mkbase.log"; then
		cat "$work/mkbase.log" >&2
		if grep -q "apt-get" "$work/mkbase.log"; then
			echo "SKIP: Debian packages for the test base unavailable" >&2
			exit 77
		fi
		fail "mkbase.sh failed"
	fi
	rm -rf "$cache/base"
	mv "$cache/base.tmp" "$cache/base"
	touch "$cache/base/.complete"
fi
flock -u 9

start=$SECONDS
METALBOOT_AGENT=$agent SOURCE_DATE_EPOCH=1700000000 \
	"$b/builder/metalboot-build" build "$s/profiles/examples/lab.yaml" \
	-o "$work/out" --base "$cache/base" >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log" >&2; fail "build --base failed"; }
echo "images built in $((SECONDS - start)) s:" >&2
ls -l "$work/out/public/images/"*/ >&2
img=$work/out/public/images/worker
[[ -s $img/vmlinuz && -s $img/initrd.img ]] || fail "no worker image"

mac=52:54:00:12:34:56
server=https://10.0.2.2:8443
qemu-system-x86_64 -accel tcg -m 768 -smp 1 -display none -monitor none \
	-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
	-append "console=ttyS0 panic=-1 metalboot.server=$server metalboot.mac=$mac" \
	-nic "user,model=virtio-net-pci,restrict=on,mac=$mac" \
	-serial "file:$work/serial.log" -no-reboot </dev/null \
	>"$work/qemu.log" 2>&1 &
qpid=$!
boot=$SECONDS
want_run="metalboot: running metalboot-firstboot --server $server --ca /etc/metalboot/provisioning-ca.crt --mac $mac"
ok=0
while ((SECONDS - boot < timeout)); do
	if grep -qF "$want_run" "$work/serial.log" 2>/dev/null &&
		grep -q '^metalboot-firstboot' "$work/serial.log"; then
		ok=1
		break
	fi
	kill -0 "$qpid" 2>/dev/null || break
	sleep 1
done
kill "$qpid" 2>/dev/null || true
wait "$qpid" 2>/dev/null || true
qpid=
log=$work/serial.log
if ((ok == 0)); then
	echo "---- serial console ----" >&2
	tail -n 60 "$log" >&2 || true
	cat "$work/qemu.log" >&2
	fail "the agent was not started within $timeout s"
fi
for want in "mbbase: init started" \
	"mbbase: iptables v1." \
	"mbbase: network: eth0" \
	"mbbase: hook /etc/metalboot/hooks/50-firstboot" \
	"$want_run"; do
	grep -qF "$want" "$log" || fail "serial console lacks: $want"
done
grep -E '^metalboot: modules loaded:.* bridge.* br_netfilter' "$log" |
	grep -q overlay || {
	grep '^metalboot: mod' "$log" >&2
	fail "br_netfilter, bridge, overlay not all loaded"
}
echo "agent started $((SECONDS - boot)) s after power-on:" >&2
grep -E '^(metalboot|mbbase)' "$log" >&2
echo "images_qemu_smoke: ok"
