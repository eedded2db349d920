#!/usr/bin/env bash
# campaign.sh SECONDS FUZZER... - the long fuzzing runs (not part of ctest):
# each libFuzzer harness (built by the sanitizer build: ASan + UBSan) runs
# for SECONDS over a scratch copy of its committed corpus. A crash stops
# the script with the reproducer kept. What the run grew is then merged
# back into tests/fuzz/corpus/NAME (libFuzzer -merge=1 adds only inputs
# that add coverage to it; the seeds stay), and one line per harness is printed: executions,
# execs/s, coverage (edges) and features, corpus size.
#   MB_BUILD_DIR  the build holding the harnesses (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:?usage: campaign.sh SECONDS FUZZER...}
shift
b=$(cd "${MB_BUILD_DIR:-build}" && pwd)
for name in "$@"; do
	fz=$b/tests/$name
	seeds=$here/corpus/$name
	[[ -x $fz ]] || { echo "campaign: $fz not built" >&2; exit 1; }
	work=$(mktemp -d /tmp/mb-fuzz.XXXXXX)
	mkdir -p "$work/grown" "$seeds"
	cp -r "$seeds/." "$work/grown/"
	if ! (cd "$work" && "$fz" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 "$work/grown" \
		>"$work/log" 2>&1); then
		echo "campaign: $name FAILED; reproducer and log in $work" >&2
		tail -40 "$work/log" >&2
		exit 1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	last=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	# Into the committed corpus: only inputs that add coverage to it,
	# and of those the smallest, up to MB_CORPUS_NEW_KIB (default 128)
	# of new files per run, so that the corpora stay small.
	ls "$seeds" | sort >"$work/before"
	(cd "$work" && "$fz" -merge=1 "$seeds" "$work/grown" \
		>"$work/merge.log" 2>&1)
	budget=$((${MB_CORPUS_NEW_KIB:-128} * 1024))
	ls "$seeds" | sort | comm -13 "$work/before" - |
		while read -r f; do
			echo "$(stat -c %s "$seeds/$f") $f"
		done | sort -n | while read -r sz f; do
			if ((sz <= budget)); then
				budget=$((budget - sz))
			else
				rm -f "$seeds/$f"
			fi
		done
	n=$(find "$seeds" -type f | wc -l)
	size=$(du -sk "$seeds" | cut -f1)
	printf '%-26s %4ss  %10s execs  %6s/s  cov %5s  ft %6s  corpus %4s files %5s KiB\n' \
		"$name" "$secs" "$execs" "$rate" "$cov" "$ft" "$n" "$size"
	rm -rf "$work"
done
