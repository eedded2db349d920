#!/usr/bin/env bash
# check_resume.sh - after the fleet (MB_QEMU_CHECK, MB_QEMU_RESUME=N:STEP):
# N was cut off during STEP, booted again, resumed from its journal on the
# state disk (steps finished before the cut are not run again) and finished.
set -euo pipefail
fail() { echo "check_resume: FAIL: $*" >&2; exit 1; }
n=${MB_QEMU_RESUME%%:*}
step=${MB_QEMU_RESUME#*:}
[[ -f $work/resumed ]] || fail "$n was never cut off (step $step not seen)"
second=$(tr -d '\r' <"$work/$n.serial.2")
grep -q "mbbase: state on /dev/vda" <<<"$second" || fail "$n: no state disk on the second boot"
grep -q "$step: resuming (it was interrupted)" <<<"$second" || fail "$n: $step did not resume"
! grep -q 'hostname: running' <<<"$second" || fail "$n: finished steps ran again"
grep -q 'done: ok\|done: running' <<<"$second" || true
echo "check_resume: $n: cut off during $step, resumed and finished: ok"
