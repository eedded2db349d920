#!/usr/bin/env bash
# mkbase.sh DIR - build the metalboot test base: a small root filesystem
# made from Debian packages only, for the QEMU tests and the demo.
#
# What it holds:
#   - busybox-static and its applets (sh, ip, udhcpc, modprobe, ...);
#   - the Debian cloud kernel (the package linux-image-cloud-amd64 depends
#     on) in boot/vmlinuz-VERSION, fetched with `apt-get download` and
#     unpacked with dpkg-deb -x (never installed), and the modules the
#     nodes need (network drivers, overlay, bridge, br_netfilter,
#     netfilter) with their dependencies and a modules.dep from depmod;
#   - an /init (busybox sh) that mounts /proc, /sys and /dev, loads the
#     network drivers, brings every interface up with DHCP (udhcpc) and
#     runs the hooks in /etc/metalboot/hooks/ (metalboot-build adds the
#     one that runs metalboot-firstboot with metalboot.server= and
#     metalboot.mac= from the kernel command line), then keeps the node
#     up (or powers it off with mbbase.poweroff on the command line);
#   - iptables (nft) with its libraries and libc6, for the firewall step;
#   - recording stand-ins for kubeadm, kubelet and kubectl, which no
#     reachable registry carries (see tests/qemu/standins/): every call is
#     logged to /var/log/metalboot-standins/calls.log and to the console
#     as "mb-standin: ..." lines. "kubeadm init" starts mb-apiserver, a
#     small static TLS server (tests/qemu/standins/mb-apiserver.c, built
#     here against Debian's static libssl) that answers /readyz with a
#     certificate issued by the cluster CA the agent installed.
#
# Environment:
#   MB_CACHE            where downloaded .deb files and the built helper are
#                       kept (default: $MB_BUILD_DIR, else ./build-cache)
#   MB_KERNEL_FLAVOUR   cloud-amd64 (default) or amd64; the cloud kernel
#                       has virtio drivers but no e1000/e1000e
#   MB_MODULES          "needed" (default) or "all" kernel modules
#
# Reruns are fast: packages are downloaded once into the cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: mkbase.sh DIR}
cache=${MB_CACHE:-${MB_BUILD_DIR:-$PWD/build-cache}}
flavour=${MB_KERNEL_FLAVOUR:-cloud-amd64}
modsel=${MB_MODULES:-needed}
debs=$cache/debs
tmp=$(mktemp -d /tmp/mkbase.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Modules the nodes may load; their dependencies come from modules.dep.
# Names missing from a kernel (built in, or not built) are skipped.
wanted=(virtio_pci virtio_net virtio_blk virtio_console virtio_rng ext4
	e1000 e1000e overlay br_netfilter bridge veth vxlan tun
	nf_conntrack nf_nat ip_tables iptable_filter iptable_nat
	iptable_mangle ip6_tables ip6table_filter ip6table_nat
	xt_tcpudp xt_multiport xt_MASQUERADE xt_conntrack xt_comment xt_mark xt_addrtype
	nf_tables nft_compat nft_chain_nat crc32c_generic)

# iptables and what it links (apt-cache depends iptables), and libc6.
ipt_pkgs=(iptables libip4tc2 libip6tc2 libxtables12 libnetfilter-conntrack3
	libnfnetlink0 libnftnl11 libmnl0 libc6)

die() { echo "mkbase.sh: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg-deb depmod cc; do
	command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh)"
done
mkdir -p "$debs"

# fetch PKG: the newest cached .deb of PKG, downloading it when absent.
fetch() {
	local pkg=$1 f
	f=$(ls -1 "$debs/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
	if [[ -z $f ]]; then
		(cd "$debs" && apt-get download -q -o APT::Sandbox::User=root \
			"$pkg" >/dev/null) ||
			die "apt-get download $pkg failed (run apt-get update?)"
		f=$(ls -1 "$debs/${pkg}"_*.deb | sort -V | tail -n 1)
	fi
	echo "$f"
}

# The versioned kernel package the meta-package depends on; offline, the
# newest one already in the cache.
kdep() {
	apt-cache depends "linux-image-$flavour" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }' ||
		true
}
kpkg=$(kdep)
if [[ -z $kpkg && $(id -u) == 0 ]] &&
	! ls "$debs"/linux-image-*-"${flavour}"_*.deb >/dev/null 2>&1; then
	# A fresh machine may have no package lists yet.
	apt-get update -qq >/dev/null 2>&1 || true
	kpkg=$(kdep)
fi
if [[ -z $kpkg ]]; then
	kpkg=$(ls -1 "$debs" 2>/dev/null |
		grep -E "^linux-image-[0-9].*-${flavour}_" | sort -V |
		tail -n 1 | cut -d_ -f1 || true)
	[[ -n $kpkg ]] ||
		die "cannot find linux-image-$flavour (run apt-get update)"
fi
bb_deb=$(fetch busybox-static)
k_deb=$(fetch "$kpkg")

rm -rf "$out"
mkdir -p "$out"
cd "$out"
mkdir -p bin sbin usr/bin usr/sbin proc sys dev run tmp root var/log \
	etc/metalboot/hooks usr/share/udhcpc boot lib/modules
chmod 1777 tmp

# busybox and its applets.
dpkg-deb -x "$bb_deb" "$tmp/bb"
install -m 0755 "$tmp/bb/bin/busybox" bin/busybox
while read -r applet; do
	[[ -e $applet || -L $applet ]] && continue
	mkdir -p "$(dirname "$applet")"
	ln -s "$(realpath -m --relative-to="$(dirname "$applet")" bin/busybox)" \
		"$applet"
done < <("$tmp/bb/bin/busybox" --list-full)

# The kernel and the modules the nodes need.
dpkg-deb -x "$k_deb" "$tmp/k"
kver=$(ls -1 "$tmp/k/lib/modules" | head -n 1)
[[ -n $kver && -f $tmp/k/boot/vmlinuz-$kver ]] || die "$k_deb holds no kernel"
install -m 0644 "$tmp/k/boot/vmlinuz-$kver" "boot/vmlinuz-$kver"
depmod -b "$tmp/k" "$kver"
kmods=$tmp/k/lib/modules/$kver
mkdir -p "lib/modules/$kver"
if [[ $modsel == all ]]; then
	cp -a "$kmods/kernel" "lib/modules/$kver/"
else
	declare -A dep=()
	while IFS=: read -r path deps; do
		name=$(basename "$path")
		name=${name%%.ko*}
		dep[${name//-/_}]="$path $deps"
	done <"$kmods/modules.dep"
	declare -A copied=()
	for m in "${wanted[@]}"; do
		[[ -n ${dep[$m]:-} ]] || continue
		for p in ${dep[$m]}; do
			[[ -n ${copied[$p]:-} ]] && continue
			copied[$p]=1
			mkdir -p "lib/modules/$kver/$(dirname "$p")"
			cp "$kmods/$p" "lib/modules/$kver/$p"
		done
	done
fi
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[[ -f $kmods/$f ]] && cp "$kmods/$f" "lib/modules/$kver/"
done
depmod -b "$out" "$kver"

# Real iptables (nft backend) from Debian, with its libraries and the C
# library: the agent's firewall step runs it. dpkg-deb -x sets up no
# alternatives, so the iptables names are linked here. Documentation,
# locales and gconv modules are left out.
mkdir -p "$tmp/ipt"
for p in "${ipt_pkgs[@]}"; do
	dpkg-deb -x "$(fetch "$p")" "$tmp/ipt"
done
rm -rf "$tmp/ipt/usr/share" "$tmp/ipt/usr/lib/x86_64-linux-gnu/gconv" \
	"$tmp/ipt/usr/libexec" "$tmp/ipt/sbin/ldconfig" "$tmp/ipt/usr/bin"
cp -a "$tmp/ipt/." .
for t in iptables ip6tables; do
	for s in "" -save -restore; do
		ln -sf "$t-nft$s" "usr/sbin/$t$s"
	done
done

# The stand-ins and the TLS helper (built once, kept in the cache).
for s in kubeadm kubelet kubectl; do
	install -m 0755 "$here/standins/$s" "usr/bin/$s"
done
sum=$(sha256sum "$here/standins/mb-apiserver.c" | cut -c1-16)
helper=$cache/mb-apiserver-$sum
if [[ ! -x $helper ]]; then
	cc -static -Os -s -o "$helper.tmp" "$here/standins/mb-apiserver.c" \
		-lssl -lcrypto 2>"$tmp/cc.log" ||
		{ cat "$tmp/cc.log" >&2; die "cannot build mb-apiserver"; }
	mv "$helper.tmp" "$helper"
fi
install -m 0755 "$helper" usr/bin/mb-apiserver

# Configuration.
printf 'root:x:0:0:root:/root:/bin/sh\n' >etc/passwd
printf 'root:x:0:\n' >etc/group
printf 'node\n' >etc/hostname
printf '127.0.0.1 localhost\n' >etc/hosts
cat >etc/os-release <<'EOF'
NAME="metalboot test base"
ID=metalboot-testbase
PRETTY_NAME="metalboot test base (busybox, Debian kernel, stand-ins)"
EOF
cat >usr/share/udhcpc/default.script <<'EOF'
#!/bin/sh
# udhcpc event script: configure the interface from the lease.
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	for r in $router; do
		ip route replace default via "$r" dev "$interface"
		break
	done
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
	[ -n "$hostname" ] && hostname "$hostname"
	echo "mbbase: $interface: lease $ip/${mask:-24} from ${serverid:-?}"
	;;
esac
exit 0
EOF
chmod 755 usr/share/udhcpc/default.script
cat >init <<'EOF'
#!/bin/sh
# /init of the metalboot test base (tests/qemu/mkbase.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /run
exec </dev/console >/dev/console 2>&1
echo "mbbase: init started ($(uname -r))"
hostname -F /etc/hostname
# nf_tables and nft_compat are requested by alias (nfnetlink-subsys-10),
# and libcrc32c asks for crypto-crc32c: busybox modprobe resolves neither,
# so load them by name, as kmod would by alias.
for m in virtio_pci virtio_net virtio_blk e1000 e1000e crc32c_generic nf_tables nft_compat \
	nft_chain_nat xt_tcpudp xt_multiport xt_conntrack xt_comment; do
	modprobe "$m" 2>/dev/null
done
ip link set lo up
echo "mbbase: $(iptables --version 2>&1)"
up=
tries=0
while [ -z "$up" ] && [ $tries -lt 3 ]; do
	tries=$((tries + 1))
	for d in /sys/class/net/*; do
		i=${d##*/}
		[ "$i" = lo ] && continue
		[ -e "$d/device" ] || continue
		ip link set "$i" up
		if udhcpc -i "$i" -n -q -t 4 -T 2 -s /usr/share/udhcpc/default.script; then
			up=$i
			break
		fi
	done
	[ -n "$up" ] || [ ! -e /sys/class/net/eth0 ] || sleep 1
	[ -e /sys/class/net/eth0 ] || break
done
echo "mbbase: network: ${up:-none}"
# A node with a disk keeps the agent's journal and cached payload on it, so
# that a first boot cut off half-way resumes on the next boot; a diskless
# node starts over. The disk should carry a journaled ext4 (the rig makes
# one); busybox can only make ext2, which a power cut may corrupt.
if [ -b /dev/vda ] && modprobe ext4 2>/dev/null; then
	mkdir -p /var/lib/metalboot
	if ! mount -t ext4 /dev/vda /var/lib/metalboot 2>/dev/null; then
		mke2fs -q -L mbstate /dev/vda &&
			mount -t ext4 /dev/vda /var/lib/metalboot &&
			echo "mbbase: state disk formatted"
	fi
	grep -q ' /var/lib/metalboot ' /proc/mounts &&
		echo "mbbase: state on /dev/vda: $(ls /var/lib/metalboot | tr '\n' ' ')"
fi
for h in /etc/metalboot/hooks/*; do
	[ -x "$h" ] || continue
	echo "mbbase: hook $h"
	"$h"
	echo "mbbase: hook $h exited with status $?"
done
echo "mbbase: hooks done"
if grep -qw mbbase.poweroff /proc/cmdline; then
	sync
	poweroff -f
fi
while :; do sleep 3600; done
EOF
chmod 755 init
if [[ $(id -u) == 0 ]]; then
	chroot . /usr/sbin/iptables --version >/dev/null ||
		die "iptables does not run in the base"
fi
echo "mkbase.sh: $out: busybox $(dpkg-deb -f "$bb_deb" Version), kernel $kver ($(find "lib/modules/$kver" -name '*.ko*' | wc -l) modules), $(du -sh . | cut -f1)" >&2
