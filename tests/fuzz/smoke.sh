#!/usr/bin/env bash
# smoke.sh FUZZER CORPUS_DIR: run a libFuzzer harness for a bounded time
# (MB_FUZZ_SECONDS, default 30) over a scratch copy of its seed corpus, so
# that the committed corpus is never modified by a test run.
set -euo pipefail
fuzzer=$1
corpus=$2
secs=${MB_FUZZ_SECONDS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
if [[ -d $corpus ]]; then
	cp -r "$corpus/." "$work/corpus/"
fi
cd "$work"
exec "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 "$work/corpus"
