#!/usr/bin/env bash
# Secure Boot: cp1 and w1 run OVMF with Secure Boot enforced and
# Microsoft's keys enrolled. cp1 (secure_boot: true) boots the signed
# chain through our DHCP and TFTP: shim, GRUB, its GRUB configuration,
# Debian's signed kernel, the node's initrd, the agent, done. w1 (no
# secure_boot) is offered iPXE, which the firmware refuses.
here=$(cd "$(dirname "$0")" && pwd)
MB_QEMU_MACHINES=$here/machines/secureboot.conf MB_QEMU_DENIED=w1 \
	MB_QEMU_CHECK=$here/check_secureboot.sh \
	exec bash "$here/run.sh" "$here/inventories/secureboot.yaml"
