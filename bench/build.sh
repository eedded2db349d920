#!/usr/bin/env bash
# build.sh - metalboot-build benchmarks.
#
#   1. A 1000-node inventory (bench/gen-inventory.sh): a fresh build (PKI
#      generated once) and rebuilds of the same OUT (PKI reused), wall time.
#   2. Per-node NoCloud ISO cost: builder/iso.c (bench/iso_bench.c, read
#      three files, write the ISO) against cloud-localds on the same files
#      in the same run, and the ratio.
#
# Usage: bench/build.sh [NODES] [ISO_RUNS]. Builds a Release tree in
# $BENCH_BUILD_DIR (default build-bench) unless it is already there. Work
# files go to $BENCH_DIR (default: a temporary directory beside the
# repository, on the same file system as a real OUT would be).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-1000}
runs=${2:-200}
bdir=${BENCH_BUILD_DIR:-$root/build-bench}
cc=${CC:-clang}
if [[ ! -x $bdir/builder/metalboot-build ]]; then
	cmake -S "$root" -B "$bdir" -DCMAKE_C_COMPILER="$cc" \
		-DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
	cmake --build "$bdir" -j2 --target metalboot-build >/dev/null
fi
build=$bdir/builder/metalboot-build
W=${BENCH_DIR:-$(mktemp -d "$root/../.mb-bench.XXXXXX")}
trap 'rm -rf "$W"' EXIT
jobs=$(nproc)

ms() { date +%s%N; }
elapsed() { echo "scale=3; ($2 - $1) / 1000000000" | bc; }

"$root/bench/gen-inventory.sh" "$nodes" >"$W/inv.yaml"
# ext4 without a journal (this machine's root) skips inodes freed less
# than 60 s ago (360 s while their inode table block is dirty) when it
# creates files (fs/ext4/ialloc.c, recently_deleted): a fresh build just
# after a large OUT was deleted scans past thousands of them, and takes
# several times as long as on a settled file system.
dev=$(findmnt -no SOURCE --target "$W" 2>/dev/null || true)
dev=${dev##*/}
if [[ -n $dev && $(cat "/sys/fs/ext4/$dev/journal_task" 2>/dev/null) == "<none>" ]]; then
	echo "note: $W is on ext4 without a journal; a fresh build right" \
		"after deleting many files (an earlier run's OUT) is slower"
fi
echo "== build: $nodes nodes, --jobs $jobs"
t0=$(ms)
"$build" build "$W/inv.yaml" -o "$W/out" --jobs "$jobs"
t1=$(ms)
echo "fresh build (PKI generated): $(elapsed "$t0" "$t1") s"
for i in 1 2 3; do
	t0=$(ms)
	"$build" build "$W/inv.yaml" -o "$W/out" --jobs "$jobs"
	t1=$(ms)
	echo "rebuild $i (PKI reused):      $(elapsed "$t0" "$t1") s"
done
echo "OUT: $(du -sh "$W/out" | cut -f1), $(find "$W/out" -type f | wc -l) files"

echo "== per-node ISO: metalboot vs cloud-localds"
node=$W/out/nodes/w10/cloud-init
ls -l "$node" | tail -n +2
$cc -O2 -I"$root/builder" -I"$root/common" "$root/bench/iso_bench.c" \
	"$bdir/builder/libmbbuilder.a" "$bdir/common/libmbcommon.a" \
	$(pkg-config --libs libarchive openssl yaml-0.1) -o "$W/iso_bench"
iso_compare() { # DIR: write both ISOs there
	local d=$1 mb cl t0 t1 i lruns
	mb=$("$W/iso_bench" "$runs" "$d/mb.iso" "$node/user-data" \
		"$node/meta-data" "$node/network-config")
	echo "metalboot (builder/iso.c): $mb ms per ISO ($runs runs)"
	if ! command -v cloud-localds >/dev/null; then
		echo "cloud-localds not installed (cloud-image-utils): no ratio"
		return
	fi
	lruns=$((runs / 10 > 5 ? runs / 10 : 5))
	t0=$(ms)
	for ((i = 0; i < lruns; i++)); do
		cloud-localds --network-config="$node/network-config" \
			"$d/cl.iso" "$node/user-data" "$node/meta-data"
	done
	t1=$(ms)
	cl=$(echo "scale=3; ($t1 - $t0) / 1000000 / $lruns" | bc)
	echo "cloud-localds:             $cl ms per ISO ($lruns runs)"
	echo "ratio: $(echo "scale=1; $cl / $mb" | bc)x faster per node"
	rm -f "$d/mb.iso" "$d/cl.iso"
}
echo "-- ISOs written beside OUT ($W)"
iso_compare "$W"
if [[ -d /dev/shm && -w /dev/shm ]]; then
	echo "-- ISOs written to /dev/shm (no file system cost)"
	iso_compare /dev/shm
fi
