#!/usr/bin/env bash
# mkbase-debian.sh DIR - build a real Debian 12 node base for the QEMU rig:
# what a user's own base would be, made with mmdebstrap from Debian
# packages only.
#
# What it holds:
#   - systemd as PID 1 (systemd-sysv), udev, kmod, iproute2, iptables
#     (nft backend), curl, ca-certificates, e2fsprogs (the state disk's
#     mkfs.ext4), containerd and runc, etcd-server, busybox-static (the
#     test's container rootfs is made from it);
#   - Debian's kernel (linux-image-$MB_KERNEL_FLAVOUR) in boot/ with only
#     the modules a node needs (network drivers, virtio disks, ext4,
#     overlay, bridge, br_netfilter, netfilter) and their dependencies;
#   - recording stand-ins for kubeadm, kubelet and kubectl, which no
#     reachable registry carries (tests/qemu/standins/, shared with
#     mkbase.sh), and mb-apiserver;
#   - no /init: metalboot-build adds its first stage (metalboot-init),
#     which moves the root onto a tmpfs, brings the boot interface up and
#     switch_roots to systemd.
#
# Environment:
#   MB_CACHE            where the root's tarball and the helper are kept
#                       (default: $MB_BUILD_DIR, else ./build-cache)
#   MB_KERNEL_FLAVOUR   amd64 (default: has e1000) or cloud-amd64
#   MB_DEBIAN_MIRROR    the Debian mirror (default: apt's own sources)
#
# Reruns are fast: the mmdebstrap output is cached as a tarball keyed by
# the package set, and unpacked again (about 8 minutes the first time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: mkbase-debian.sh DIR}
cache=${MB_CACHE:-${MB_BUILD_DIR:-$PWD/build-cache}}
flavour=${MB_KERNEL_FLAVOUR:-amd64}
tmp=$(mktemp -d /tmp/mkbase-debian.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

die() { echo "mkbase-debian.sh: $*" >&2; exit 1; }

for tool in mmdebstrap depmod cc tar; do
	command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh)"
done
[[ $(id -u) == 0 ]] || die "needs root (mmdebstrap's root mode)"

pkgs=systemd,systemd-sysv,udev,kmod,iproute2,iptables,curl,ca-certificates
pkgs+=,e2fsprogs,containerd,runc,etcd-server,busybox-static
pkgs+=,linux-image-$flavour

# Modules a node may load; their dependencies come from modules.dep.
wanted=(virtio_pci virtio_net virtio_blk virtio_scsi virtio_console
	virtio_rng e1000 e1000e ext4 overlay br_netfilter bridge veth vxlan tun
	nf_conntrack nf_nat ip_tables iptable_filter iptable_nat
	iptable_mangle ip6_tables ip6table_filter ip6table_nat xt_tcpudp
	xt_multiport xt_MASQUERADE xt_conntrack xt_comment xt_mark
	xt_addrtype nf_tables nft_compat nft_chain_nat crc32c_generic
	nfnetlink)

# The tarball depends on the package set alone: the steps below are cheap.
key=$(echo "bookworm $pkgs" | sha256sum | cut -c1-16)
tarball=$cache/debian-base-$flavour-$key.tar
mkdir -p "$cache"
if [[ ! -f $tarball ]]; then
	mirror=()
	[[ -n ${MB_DEBIAN_MIRROR:-} ]] && mirror=("$MB_DEBIAN_MIRROR")
	echo "mkbase-debian.sh: mmdebstrap bookworm ($pkgs)" >&2
	# No initramfs-tools run: the node image is our own initramfs.
	mmdebstrap --mode=root --variant=minbase --include="$pkgs" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--customize-hook='rm -f "$1"/boot/initrd.img*' \
		bookworm "$tmp/root.tar" "${mirror[@]}" >&2 ||
		die "mmdebstrap failed"
	mv "$tmp/root.tar" "$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	# Older tarballs of this flavour are stale.
	find "$cache" -maxdepth 1 -name "debian-base-$flavour-*.tar" \
		! -name "$(basename "$tarball")" -delete
fi

rm -rf "$out"
mkdir -p "$out"
tar -C "$out" -xpf "$tarball"
cd "$out"

# Keep only the modules a node needs (the whole set is ~400 MiB).
kver=$(ls -1 usr/lib/modules | head -n 1)
[[ -n $kver && -f boot/vmlinuz-$kver ]] || die "no kernel in the root"
kmods=usr/lib/modules/$kver
mv "$kmods" "$tmp/mods"
mkdir -p "$kmods"
declare -A dep=() copied=()
while IFS=: read -r path deps; do
	name=$(basename "$path")
	name=${name%%.ko*}
	dep[${name//-/_}]="$path $deps"
done <"$tmp/mods/modules.dep"
for m in "${wanted[@]}"; do
	[[ -n ${dep[$m]:-} ]] || continue
	for p in ${dep[$m]}; do
		[[ -n ${copied[$p]:-} ]] && continue
		copied[$p]=1
		mkdir -p "$kmods/$(dirname "$p")"
		cp "$tmp/mods/$p" "$kmods/$p"
	done
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[[ -f $tmp/mods/$f ]] && cp "$tmp/mods/$f" "$kmods/"
done
depmod -b "$PWD" "$kver"
rm -rf usr/share/doc usr/share/man usr/share/locale var/cache/apt/* \
	var/lib/apt/lists/*

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

# kubelet.service as Debian's kubelet package ships it, running the
# stand-in (which records the call and exits).
cat >etc/systemd/system/kubelet.service <<'UNIT'
[Unit]
Description=kubelet stand-in of the metalboot test base
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/kubelet
[Install]
WantedBy=multi-user.target
UNIT

# What the rig checks on the node, at every boot once the agent has run
# (tests/qemu/check_real.sh reads the "mb-check:" lines on the serial
# console). The container's root is made here from busybox-static.
mkdir -p usr/lib/mb-rig/rootfs/bin usr/lib/mb-rig/rootfs/proc \
	usr/lib/mb-rig/rootfs/sys usr/lib/mb-rig/rootfs/dev
cp bin/busybox usr/lib/mb-rig/rootfs/bin/busybox
install -m 0755 "$here/standins/mb-rigcheck" usr/lib/mb-rig/check
cat >etc/systemd/system/mb-rigcheck.service <<'UNIT'
[Unit]
Description=metalboot rig: report what the real-base case checks
After=metalboot-firstboot.service metalboot-reapply.service containerd.service systemd-sysctl.service
Wants=containerd.service
[Service]
Type=oneshot
ExecStart=/usr/lib/mb-rig/check
StandardOutput=journal+console
[Install]
WantedBy=multi-user.target
UNIT
ln -sf ../mb-rigcheck.service \
	etc/systemd/system/multi-user.target.wants/mb-rigcheck.service

# Configuration a first boot needs: a root login on the serial console for
# whoever debugs the rig, a hostname, no machine-id (systemd makes one).
printf 'node\n' >etc/hostname
printf '127.0.0.1 localhost\n' >etc/hosts
: >etc/machine-id
chroot . passwd -d root >/dev/null
# containerd starts from its unit once the agent has configured it; the
# package's unit is enabled by the package already.
[[ -e etc/systemd/system/multi-user.target.wants/containerd.service ]] ||
	die "containerd.service is not enabled in the root"
echo "mkbase-debian.sh: $out: kernel $kver ($(find "$kmods" -name '*.ko*' | wc -l) modules), $(du -sh . | cut -f1)" >&2
