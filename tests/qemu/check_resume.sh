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
# The journal on the state disk survived the cut: STEP resumes (kubeadm
# is reset and run again), and since this is a new boot of a diskless
# node the idempotent host steps run again before it.
resumed=$(grep -o '[a-z-]*: resuming (it was interrupted)' <<<"$second" | head -1)
[[ $resumed == "$step: resuming (it was interrupted)" ]] ||
	fail "$n: second boot resumed '${resumed:-nothing}', want $step"
grep -q 'resuming on a new boot' <<<"$second" || fail "$n: the new boot was not noticed"
grep -q 'done: ok' <<<"$second" || fail "$n: the second boot did not finish"
grep -q "^$n  *done " "$work/report.txt" || fail "$n is not done in /v1/nodes"
echo "check_resume: $n: cut off during $step, second boot: $resumed, finished: ok"
