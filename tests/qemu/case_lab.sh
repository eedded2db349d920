#!/usr/bin/env bash
# The lab, end to end: cp1 (BIOS, e1000), w1 (BIOS, virtio) and w2 (UEFI,
# OVMF) PXE-boot through our DHCP, TFTP and HTTP, run the agent, cp1 inits
# and the workers join; the stand-ins' records are checked and the boot-file
# fetch is timed over HTTP and TFTP.
here=$(cd "$(dirname "$0")" && pwd)
MB_QEMU_MEASURE=1 MB_QEMU_CHECK=$here/check_kubeadm.sh \
	exec bash "$here/run.sh" "$here/../../profiles/examples/lab.yaml"
