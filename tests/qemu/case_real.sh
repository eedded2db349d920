#!/usr/bin/env bash
# The real base, end to end: cp1 (BIOS, e1000, a blank state disk) and w1
# (UEFI, virtio, diskless) netboot a real Debian 12 root (systemd,
# containerd, runc; stand-ins only for kubeadm, kubelet and kubectl)
# through our DHCP, TFTP and HTTP. The first stage moves the root onto a
# tmpfs, brings the boot interface up and mounts cp1's state disk; systemd
# starts the agent; a real container runs on each node. Then w1 is
# power-cycled (it re-joins) and cp1 too (it keeps its cluster), and
# check_real.sh reads what each boot reported on its console.
here=$(cd "$(dirname "$0")" && pwd)
MB_QEMU_BASE=debian MB_QEMU_MEM=2048 \
	MB_QEMU_MACHINES=$here/machines/real.conf \
	MB_QEMU_REBOOT="w1 cp1" MB_QEMU_CHECK=$here/check_real.sh \
	exec bash "$here/run.sh" "$here/inventories/real.yaml"
