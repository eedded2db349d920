#!/usr/bin/env bash
# deps.sh: install every Debian package that the build, the tests, the demo
# and the benchmarks need. Idempotent: apt-get update runs only when a
# package is missing. Services that packages would start (tftpd-hpa, dnsmasq,
# nginx, containerd, etcd, kea) are kept from starting: tests and benches start
# their own copies.
set -euo pipefail

PKGS=(
	# build
	build-essential cmake pkg-config git clang clang-format clang-tidy
	libclang-rt-14-dev
	libarchive-dev libyaml-dev libssl-dev libcurl4-openssl-dev
	libevent-dev libjansson-dev libcmocka-dev libblkid-dev
	# install and package: man pages, .deb, a fresh Debian root to try it
	help2man dpkg-dev mmdebstrap man-db
	# test peers
	tftp-hpa atftp busybox-static curl wget openssl cloud-init genisoimage
	libarchive-tools cpio xorriso iproute2 procps psmisc tshark
	qemu-system-x86 qemu-utils ipxe-qemu ovmf ipxe isc-dhcp-client udhcpc
	zstd python3 python3-yaml kmod file e2fsprogs time strace keepalived haproxy
	# the agent's containerd config read by a real containerd, and the boot
	# firewall script run for real (tests/interop/containerd_config.sh,
	# firewall_persist.sh)
	containerd runc iptables
	# a real etcd cluster with the builder's certificates
	# (tests/interop/etcd_external.sh)
	etcd-server etcd-client
	# the fleet page's browser test (tests/interop/ui_browser.sh):
	# playwright-core comes from the npm registry, the browser from Debian
	chromium nodejs npm
	# Secure Boot: the signed chain the builder copies, and sbverify /
	# sbattach (tests/interop/builder_secureboot.sh)
	shim-signed grub-efi-amd64-signed sbsigntool
	# bench anchors
	tftpd-hpa dnsmasq nginx wrk cloud-image-utils hyperfine
	# DHCP anchors: perfdhcp (in kea-admin) and kea-dhcp4 (bench/storm.sh)
	kea-admin kea-dhcp4-server
)

missing=()
for p in "${PKGS[@]}"; do
	[[ $p == \#* ]] && continue
	# A nodejs from elsewhere (NodeSource) carries its own npm and
	# conflicts with Debian's package: the command is what we need.
	[[ $p == npm ]] && command -v npm >/dev/null && continue
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: missing packages: ${missing[*]} (run as root)" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Keep daemons that packages ship from starting (exit 101 = "not allowed").
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
trap '((made_policy)) && rm -f "$policy"' EXIT
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
