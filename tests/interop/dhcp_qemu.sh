#!/usr/bin/env bash
# dhcp_qemu.sh: real firmware against metalboot-netboot's DHCP, in private
# network namespaces, QEMU with TCG (never KVM).
#  1. full mode, OVMF (EDK II PXE, virtio-net without option ROM): the
#     reserved address and ipxe/ipxe.efi by TFTP; the chainloaded iPXE asks
#     again and gets the /boot/MAC.ipxe URL (the loop is broken).
#  2. full mode, SeaBIOS + e1000 (QEMU's iPXE ROM): the reserved address
#     and the script URL.
#  1b. full mode, OVMF UEFI HTTP Boot: the ipxe.efi URL, then the script.
#  3. proxy mode beside dnsmasq, SeaBIOS + e1000: the address from dnsmasq,
#     the boot file from us; 4. the same with OVMF HTTP Boot; 5. with
#     OVMF PXE, which asks the boot server on port 4011.
# Needs root, qemu-system-x86_64, OVMF, Debian's ipxe and dnsmasq; exit 77
# (skip) otherwise.
set -euo pipefail
build=${MB_BUILD_DIR:-$(pwd)}
bin=$build/netboot/metalboot-netboot
ovmf=/usr/share/OVMF/OVMF_CODE.fd
for t in ip qemu-system-x86_64 dnsmasq; do
	command -v $t >/dev/null || { echo "skip: needs $t"; exit 77; }
done
[[ $(id -u) == 0 && -f $ovmf && -f /usr/lib/ipxe/ipxe.efi ]] ||
	{ echo "skip: needs root, OVMF, ipxe"; exit 77; }
[[ -x $bin ]] || { echo "no $bin"; exit 1; }
ns=mbdhcp-$$-q
dn=mbdhcp-$$-d
work=$(mktemp -d)
spid= dpid= qpid=
stop() {
	local p
	for p in "$@"; do
		[[ -n $p ]] && kill "$p" 2>/dev/null || true
	done
	wait "$@" 2>/dev/null || true
}
cleanup() {
	stop "$qpid" "$spid" "$dpid"
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$dn" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- server log"
	cat "$work/server.log"
	[[ -f $work/dnsmasq.log ]] && { echo "--- dnsmasq"; cat "$work/dnsmasq.log"; }
	exit 1
}

mac=52:54:00:00:01:01
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" addr add 10.79.0.1/24 dev br0
ip -n "$ns" link set br0 up
ip -n "$ns" tuntap add tap0 mode tap
ip -n "$ns" link set tap0 master br0
ip -n "$ns" link set tap0 up
mkdir -p "$work/out/public/ipxe" "$work/out/state"
cp /usr/lib/ipxe/ipxe.efi /usr/lib/ipxe/undionly.kpxe "$work/out/public/ipxe/"

config() { # MODE
	cat >"$work/out/netboot.yaml" <<EOF
version: 1
cluster: test
listen: 10.79.0.1
interface: br0
dhcp:
  mode: $1
  subnet: 10.79.0.0/24
  gateway: 10.79.0.1
  pool: 10.79.0.100-10.79.0.150
  unknown: ignore
tftp: { port: 69 }
http: { port: 8080 }
paths: { public: public, boot: boot, nodes: nodes, state: state }
nodes:
  - { name: cp1, mac: "$mac", ip: 10.79.0.11, role: control-plane }
EOF
}
server() {
	: >"$work/server.log"
	ip netns exec "$ns" "$bin" --user root --config "$work/out/netboot.yaml" \
		--https-port 0 >"$work/server.log" 2>&1 &
	spid=$!
	for _ in $(seq 50); do
		grep -q "dhcp: $1 mode on br0" "$work/server.log" && return 0
		sleep 0.2
	done
	fail "server did not start"
}
# qemu LOG SECONDS PATTERN ARGS...: run until PATTERN shows in LOG.
qemu() {
	local log=$1 secs=$2 pat=$3 i
	shift 3
	ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m 256 -nographic \
		-monitor none -serial null \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no "$@" \
		>/dev/null 2>&1 &
	qpid=$!
	for ((i = 0; i < secs; i++)); do
		grep -q "$pat" "$log" && break
		sleep 1
	done
	stop "$qpid"
	qpid=
	grep -q "$pat" "$log"
}

# 1. OVMF PXE -> TFTP ipxe.efi -> iPXE -> script URL.
config full
server full
qemu "$work/server.log" 240 'arch 7 (uefi-x64): ACK 10.79.0.11 .*host cp1 boot ipxe-script' \
	-drive if=pflash,format=raw,readonly=on,file=$ovmf \
	-device virtio-net-pci,netdev=n0,mac=$mac,romfile= ||
	fail "UEFI chain did not reach iPXE"
grep -q "dhcp $mac: REQUEST arch 7 (uefi-x64): ACK 10.79.0.11 .*host cp1 boot tftp ipxe/ipxe.efi" \
	"$work/server.log" || fail "no UEFI PXE ACK with ipxe.efi"
echo "ok: OVMF got 10.79.0.11 + ipxe/ipxe.efi, then iPXE got the script URL"

# 1b. OVMF UEFI HTTP Boot (PXE disabled): the ipxe.efi URL with HTTPClient,
# fetched from our HTTP server; the iPXE it starts gets the script URL.
stop "$spid"
server full
qemu "$work/server.log" 240 'arch 7 (uefi-x64): ACK 10.79.0.11 .*host cp1 boot ipxe-script' \
	-drive if=pflash,format=raw,readonly=on,file=$ovmf \
	-device virtio-net-pci,netdev=n0,mac=$mac,romfile= \
	-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n \
	-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n ||
	fail "UEFI HTTP boot chain did not reach iPXE"
grep -q "dhcp $mac: REQUEST arch 16 (http-x64): ACK 10.79.0.11 .*boot http-boot http://10.79.0.1:8080/files/ipxe/ipxe.efi" \
	"$work/server.log" || fail "no HTTP boot ACK"
echo "ok: OVMF HTTP boot got 10.79.0.11 + http://10.79.0.1:8080/files/ipxe/ipxe.efi, then iPXE got the script URL"

# 2. SeaBIOS + iPXE ROM.
qemu "$work/server.log" 120 'arch 0 (bios): ACK 10.79.0.11 .*host cp1 boot ipxe-script' \
	-boot n -device e1000,netdev=n0,mac=$mac ||
	fail "BIOS iPXE did not get its address"
echo "ok: BIOS iPXE ROM got 10.79.0.11 and the script URL"
stop "$spid"
spid=

# 3. Proxy beside dnsmasq.
ip netns add "$dn"
ip -n "$dn" link set lo up
ip -n "$ns" link add pd type veth peer name d0 netns "$dn"
ip -n "$ns" link set pd master br0
ip -n "$ns" link set pd up
ip -n "$dn" addr add 10.79.0.2/24 dev d0
ip -n "$dn" link set d0 up
ip netns exec "$dn" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
	--user=root --interface=d0 --bind-interfaces \
	--dhcp-range=10.79.0.50,10.79.0.60,255.255.255.0,1h \
	--dhcp-leasefile="$work/dnsmasq.leases" --pid-file= --log-dhcp \
	>"$work/dnsmasq.log" 2>&1 &
dpid=$!
config proxy
server proxy
qemu "$work/dnsmasq.log" 120 "DHCPACK(d0) 10.79.0.5[0-9] $mac" \
	-boot n -device e1000,netdev=n0,mac=$mac || fail "dnsmasq gave no address"
grep -q "dhcp $mac: DISCOVER arch 0 (bios): proxy OFFER boot ipxe-script" \
	"$work/server.log" || fail "no proxy offer"
echo "ok: proxy: $(grep -o "DHCPACK(d0) 10.79.0.5[0-9]" "$work/dnsmasq.log" | head -1) from dnsmasq, script URL from us"

# 4. Proxy beside dnsmasq, OVMF UEFI HTTP Boot: the URL comes from our proxy
# offer (yiaddr 0, HTTPClient), the address from dnsmasq.
stop "$spid"
server proxy
qemu "$work/server.log" 240 'DISCOVER arch 7 (uefi-x64): proxy OFFER boot ipxe-script' \
	-drive if=pflash,format=raw,readonly=on,file=$ovmf \
	-device virtio-net-pci,netdev=n0,mac=$mac,romfile= \
	-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n \
	-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n ||
	fail "proxy HTTP boot did not reach iPXE"
grep -q "dhcp $mac: DISCOVER arch 16 (http-x64): proxy OFFER boot http-boot" \
	"$work/server.log" || fail "no HTTP boot proxy offer"
echo "ok: proxy: OVMF HTTP boot took dnsmasq's address and our URL; iPXE then got the script URL"

# 5. Proxy beside dnsmasq, OVMF PXE: our offer has no option 43, so EDK II
# asks the boot server on port 4011 (BINL) and fetches ipxe.efi by TFTP.
stop "$spid"
server proxy
qemu "$work/server.log" 240 'DISCOVER arch 7 (uefi-x64): proxy OFFER boot ipxe-script' \
	-drive if=pflash,format=raw,readonly=on,file=$ovmf \
	-device virtio-net-pci,netdev=n0,mac=$mac,romfile= ||
	fail "proxy UEFI PXE did not reach iPXE"
grep -q "dhcp $mac: REQUEST arch 7 (uefi-x64): proxy ACK boot tftp ipxe/ipxe.efi" \
	"$work/server.log" || fail "no port-4011 ACK"
echo "ok: proxy: OVMF PXE asked 4011, got ipxe/ipxe.efi; iPXE then got the script URL"
echo "PASS"
