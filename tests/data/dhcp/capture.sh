#!/usr/bin/env bash
# capture.sh KIND OUTDIR: boot a QEMU machine (TCG, never KVM) in a private
# network namespace, capture its DHCP packets on the bridge with tshark and
# keep the raw DHCP payloads as KIND-N.bin. Used once to make the test data
# in this directory; kept so the captures can be repeated.
#   bios-ipxe   SeaBIOS + e1000, whose option ROM is iPXE (QEMU's pxe-e1000.rom)
#   uefi-pxe    OVMF + virtio-net without option ROM: EDK II PxeBcDxe
#   uefi-ipxe   OVMF booting ipxe.efi from a FAT drive: iPXE for x64 UEFI
#   uefi-http   OVMF with IPv4/IPv6 PXE disabled: EDK II HttpBootDxe
set -euo pipefail
kind=$1
out=$2
secs=${CAPTURE_SECONDS:-60}
ns=mbdhcp-cap-$$
work=$(mktemp -d)
qpid= tpid=
cleanup() {
	[[ -n $qpid ]] && kill "$qpid" 2>/dev/null || true
	[[ -n $tpid ]] && kill "$tpid" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" link set br0 up
ip -n "$ns" tuntap add tap0 mode tap
ip -n "$ns" link set tap0 master br0
ip -n "$ns" link set tap0 up
ip netns exec "$ns" tshark -q -i br0 -f 'udp port 67 or udp port 68 or udp port 4011' \
	-w "$work/cap.pcap" 2>/dev/null &
tpid=$!
sleep 2
ovmf=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd)
net=(-netdev tap,id=n0,ifname=tap0,script=no,downscript=no)
mac=52:54:00:12:34:56
case $kind in
bios-ipxe)
	args=(-boot n "${net[@]}" -device e1000,netdev=n0,mac=$mac) ;;
uefi-pxe)
	args=("${ovmf[@]}" "${net[@]}"
		-device virtio-net-pci,netdev=n0,mac=$mac,romfile=) ;;
uefi-ipxe)
	mkdir -p "$work/esp/EFI/BOOT"
	cp /usr/lib/ipxe/ipxe.efi "$work/esp/EFI/BOOT/BOOTX64.EFI"
	args=("${ovmf[@]}" "${net[@]}"
		-device virtio-net-pci,netdev=n0,mac=$mac,romfile=
		-drive file=fat:rw:"$work/esp",format=raw) ;;
uefi-http)
	args=("${ovmf[@]}" "${net[@]}"
		-device virtio-net-pci,netdev=n0,mac=$mac,romfile=
		-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n
		-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n) ;;
*) echo "unknown kind $kind" >&2; exit 1 ;;
esac
ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m 256 -nographic \
	-monitor none -serial file:"$work/serial.log" "${args[@]}" &
qpid=$!
sleep "$secs"
kill "$qpid"; wait "$qpid" 2>/dev/null || true; qpid=
sleep 1
kill -INT "$tpid"; wait "$tpid" 2>/dev/null || true; tpid=
mkdir -p "$out"
python3 "$(dirname "$0")/pcap2bin.py" "$work/cap.pcap" "$out/$kind"
