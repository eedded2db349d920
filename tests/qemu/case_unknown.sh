#!/usr/bin/env bash
# A machine not in the inventory boots beside cp1 and is given no payload.
here=$(cd "$(dirname "$0")" && pwd)
MB_QEMU_MACHINES=$here/machines/single-cp1.conf \
	MB_QEMU_EXTRA="stranger 52:54:00:00:09:09 bios virtio-net-pci" \
	MB_QEMU_CHECK=$here/check_unknown.sh \
	exec bash "$here/run.sh" "$here/../../profiles/examples/lab.yaml"
