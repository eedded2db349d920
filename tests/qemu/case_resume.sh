#!/usr/bin/env bash
# A first boot cut off (QEMU killed) in the middle of kubeadm init boots
# again, resumes from the journal on its state disk (kubeadm is reset and
# run again; the steps finished before are not) and finishes.
here=$(cd "$(dirname "$0")" && pwd)
MB_QEMU_RESUME=cp1:kubeadm MB_QEMU_CHECK=$here/check_resume.sh \
	exec bash "$here/run.sh" "$here/inventories/resume.yaml"
