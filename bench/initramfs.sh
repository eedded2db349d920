#!/usr/bin/env bash
# bench/initramfs.sh - the same ~300 MB tree of real system files (copied
# from /usr/share and /usr/lib) made into an initramfs two ways, in one
# run, with a warm page cache:
#   1. find . | cpio -o -H newc | gzip -6      (what most scripts do)
#   2. metalboot-build initramfs (zstd, the default)
# Each figure is the best of $RUNS (default 1; single-threaded, as both
# are). Prints times, sizes, the builder's peak RSS and the ratios
# (reference / ours: above 1 means we are faster or smaller). Goal: at
# least 2x faster at no larger size.
#
# Usage: bench/initramfs.sh [BUILD_DIR]  (default $MB_BUILD_DIR, else
# build-images-rel). Use a build without sanitizers for meaningful figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-${MB_BUILD_DIR:-$here/../build-images-rel}}
mb=$build/builder/metalboot-build
RUNS=${RUNS:-1}
MB_TREE_MB=${MB_TREE_MB:-300}
[[ -x $mb ]] || { echo "initramfs.sh: $mb not built" >&2; exit 1; }
for t in cpio gzip /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "initramfs.sh: $t missing" >&2; exit 1; }
done
if nm "$mb" 2>/dev/null | grep -q __asan_init; then
	echo "warning: $mb is built with ASan; figures will be low"
fi
work=$(mktemp -d /tmp/mbbench-initramfs.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The tree: regular files (none over 16 MB) in path order until
# MB_TREE_MB megabytes.
mkdir -p "$work/tree"
{ find /usr/share /usr/lib -xdev -type f -printf '%s %p\n' 2>/dev/null |
	sort -k2 || true; } |
	awk -v max=$((MB_TREE_MB * 1000 * 1000)) \
		'$1 > 16000000 { next } { if (sum >= max) exit; sum += $1; print substr($0, index($0, " ") + 1) }' |
	sed 's|^/||' | (cd / && cpio -pdm --quiet "$work/tree" 2>/dev/null || true)
size=$(du -s --apparent-size -B1 "$work/tree" | cut -f1)
files=$(find "$work/tree" | wc -l)
cat -- $(find "$work/tree" -type f) >/dev/null 2>&1 || true # warm the cache

best() { # best CMD...: "seconds peak-RSS-KiB" of the fastest of RUNS runs
	local b= t i
	for ((i = 0; i < RUNS; i++)); do
		/usr/bin/time -f '%e %M' -o "$work/time" bash -c "$*"
		t=$(cut -d' ' -f1 "$work/time")
		if [[ -z $b ]] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then
			b=$t
			cp "$work/time" "$work/best"
		fi
	done
	cat "$work/best"
}

read -r ref_t _ < <(best "cd '$work/tree' && find . | cpio -o -H newc --quiet | gzip -6 >'$work/ref.cpio.gz'")
read -r our_t our_rss < <(best "'$mb' initramfs -q --base '$work/tree' -o '$work/ours.img'")
ref_s=$(stat -c %s "$work/ref.cpio.gz")
our_s=$(stat -c %s "$work/ours.img")
python3 - "$size" "$files" "$ref_t" "$ref_s" "$our_t" "$our_s" "$our_rss" <<'PY'
import sys
size, files, rt, rs, ot, os_, rss = sys.argv[1:]
size, files, rs, os_, rss = int(size), int(files), int(rs), int(os_), int(rss)
rt, ot = float(rt), float(ot)
mb = lambda n: "%.1f MB" % (n / 1e6)
print("tree: %s in %d entries" % (mb(size), files))
print("find | cpio -H newc | gzip -6: %6.2f s  %s" % (rt, mb(rs)))
print("metalboot-build initramfs:     %6.2f s  %s  (peak RSS %.1f MiB)"
      % (ot, mb(os_), rss / 1024))
print("ratios (reference / ours): time %.2fx, size %.2fx"
      % (rt / max(ot, 0.001), rs / os_))
print("goal (>= 2x faster, no larger): %s"
      % ("met" if rt / max(ot, 0.001) >= 2 and os_ <= rs else "NOT met"))
PY
