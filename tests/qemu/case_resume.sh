#!/usr/bin/env bash
# A first boot cut off (QEMU killed) during the runtime step boots again,
# resumes from the journal on its state disk and finishes.
here=$(cd "$(dirname "$0")" && pwd)
MB_QEMU_MACHINES=$here/machines/resume.conf MB_QEMU_RESUME=cp1:runtime \
	MB_QEMU_CHECK=$here/check_resume.sh \
	exec bash "$here/run.sh" "$here/../../profiles/examples/lab.yaml"
