#!/usr/bin/env bash
# check_secureboot.sh - after the fleet (MB_QEMU_CHECK, case_secureboot):
# cp1 came up through shim -> GRUB -> the signed kernel with the firmware
# enforcing Secure Boot; w1, offered unsigned iPXE on the same firmware,
# was refused by it and never reached our HTTP side; GRUB configurations
# are served only for Secure Boot machines in the inventory.
set -euo pipefail
fail() { echo "check_secureboot: FAIL: $*" >&2; exit 1; }
log=$work/netboot.log
tftp_url=tftp://$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["listen"])' "$work/out/netboot.yaml")

# cp1: every link of the chain, in the server's log and on the console.
# Full mode: "OFFER ADDR host cp1 boot tftp ..."; proxy: "proxy OFFER boot tftp ...".
grep -q "dhcp 52:54:00:00:01:01: DISCOVER arch 7 (uefi-x64): .*OFFER .*boot tftp secureboot/shimx64.efi" "$log" ||
	fail "cp1 was not offered the shim"
for f in "secureboot/shimx64.efi" "secureboot/grubx64.efi" "/grub/grub.cfg" \
	"/grub/nodes/52:54:00:00:01:01.cfg" "/images/control-plane/vmlinuz" \
	"/images/control-plane/initrd.img"; do
	grep -q "tftp 192.168.100.11:[0-9]*: sent '$f'" "$log" ||
		fail "cp1 did not fetch $f by TFTP"
done
grep -aq "EFI stub: UEFI Secure Boot is enabled" "$work/cp1.serial" ||
	fail "cp1's kernel did not see Secure Boot enabled"
grep -aq "secureboot: Secure boot enabled" "$work/cp1.serial" ||
	fail "cp1's kernel did not report Secure Boot"
grep -aq "Kernel is locked down from EFI Secure Boot" "$work/cp1.serial" ||
	fail "cp1's kernel is not locked down"
python3 - "$work/nodes.json" <<'PY' || fail "cp1's timeline lacks its GRUB configuration"
import json, sys
n = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}["cp1"]
sys.exit(0 if any(e["event"] == "boot-script" for e in n["timeline"]) else 1)
PY
echo "check_secureboot: cp1: shim, GRUB, grub.cfg, its own config, signed kernel (locked down), initrd, agent done: ok"

# w1 (when it was booted): iPXE offered; the firmware refuses it (give
# it 60 s to say so).
if [[ " ${MB_QEMU_DENIED:-} " == *" w1 "* ]]; then
	grep -q "dhcp 52:54:00:00:02:01: DISCOVER arch 7 (uefi-x64): .*OFFER .*boot tftp ipxe/ipxe.efi" "$log" ||
		fail "w1 was not offered iPXE"
	for _ in $(seq 60); do
		grep -aq "Access Denied" "$work/w1.serial" && break
		sleep 1
	done
	grep -aq 'UEFI PXEv4 (MAC:525400000201).*: Access Denied' "$work/w1.serial" ||
		fail "w1's firmware did not refuse iPXE"
	grep -q "tftp 192.168.100.21:[0-9]*: sent 'ipxe/ipxe.efi'" "$log" ||
		fail "w1 did not fetch ipxe.efi (so the refusal proves nothing)"
	! grep -q "52:54:00:00:02:01.ipxe\|/boot/52:54:00:00:02:01" "$log" ||
		fail "w1 reached iPXE's script: the firmware did not enforce"
	! grep -aq "metalboot-firstboot" "$work/w1.serial" || fail "w1 ran the agent"
	echo "check_secureboot: w1: ipxe.efi fetched, firmware said Access Denied: ok"
fi

# GRUB configurations: only a Secure Boot machine's, by its MAC.
got=$(ip netns exec "$ns" curl -fsS "$tftp_url/grub/nodes/52-54-00-00-01-01.cfg") ||
	fail "cp1's GRUB configuration by dashed MAC"
[[ $got == *"linux /images/control-plane/vmlinuz 'console=ttyS0'"* ]] ||
	fail "cp1's GRUB configuration: $got"
for mac in 52:54:00:00:02:01 52:54:00:00:09:09 not-a-mac; do
	! ip netns exec "$ns" curl -fsS -o /dev/null "$tftp_url/grub/nodes/$mac.cfg" 2>/dev/null ||
		fail "a GRUB configuration was served for $mac"
done
echo "check_secureboot: GRUB configurations served for Secure Boot machines only: ok"
