#!/usr/bin/env bash
# bench/tftp.sh - metalboot-netboot's TFTP against tftpd-hpa (and dnsmasq's
# TFTP in a private network namespace, when we may create one) on the same
# files, over loopback:
#   1. one 64 MiB file, curl, blksize 1468, lockstep
#   2. the same with atftp, blksize 1468, windowsize 16 (tftpd-hpa has no
#      windowsize; its lockstep time is the reference)
#   3. 100 curl clients in parallel fetching a 4 MiB file
# Each single-transfer figure is the best of $RUNS (default 3). Prints times
# and ratios (tftpd-hpa time / our time: above 1 means we are faster) and
# our server's peak RSS.
#
# Usage: bench/tftp.sh [BUILD_DIR]   (default $MB_BUILD_DIR, else build-tftp-rel)
# Use a build without sanitizers for meaningful figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MB_BUILD_DIR=${1:-${MB_BUILD_DIR:-$here/../build-tftp-rel}}
. "$here/../tests/interop/tftp_lib.bash"
tftp_setup
tftp_need curl atftp in.tftpd
RUNS=${RUNS:-3}
NPAR=${NPAR:-100}

root=$TFTP_WORK/root
mkdir -p "$root"
tftp_mkfile "$root/f64" $((64 * 1024 * 1024))
tftp_mkfile "$root/f4" $((4 * 1024 * 1024))
# tftpd-hpa and dnsmasq drop to nobody: the files must be world-readable.
chmod 755 "$TFTP_WORK" "$root"
chmod 644 "$root"/*
if nm -C "$NETBOOT" 2>/dev/null | grep -q __asan_init; then
	echo "warning: $NETBOOT is built with ASan; figures will be low"
fi

ours=$(tftp_free_port)
tftp_start "$root" "$ours" --tftp-max-transfers 1024 \
	--tftp-max-per-client 1024
ours_pid=$SERVER_PID

hpa=$(tftp_free_port)
in.tftpd -L -s "$root" -a "127.0.0.1:$hpa" &
hpa_pid=$!
TFTP_PIDS+=("$hpa_pid")

ns=
dnsmasq_pid=
stop_extra() {
	# tftpd-hpa forks a child per transfer; end those of our daemon only.
	pkill -P "$hpa_pid" 2>/dev/null || true
	if [[ -n $dnsmasq_pid ]]; then
		kill "$dnsmasq_pid" 2>/dev/null || true
		wait "$dnsmasq_pid" 2>/dev/null || true
	fi
	if [[ -n $ns ]]; then
		ip netns del "$ns" 2>/dev/null || true
	fi
	tftp_cleanup
}
trap stop_extra EXIT
if [[ $(id -u) == 0 ]] && command -v dnsmasq >/dev/null &&
	ip netns add "mbbench$$" 2>/dev/null; then
	ns=mbbench$$
	ip -n "$ns" link set lo up
	ip netns exec "$ns" dnsmasq --keep-in-foreground --port=0 \
		--no-resolv --no-hosts --enable-tftp --tftp-root="$root" \
		--listen-address=127.0.0.1 --bind-interfaces --tftp-max=1024 \
		--pid-file= --log-facility=/dev/null &
	dnsmasq_pid=$!
fi
sleep 0.5

# ms CMD...: print the milliseconds CMD took; fail loudly when it fails.
ms() {
	local s e
	s=$(date +%s%N)
	if ! "$@" >/dev/null 2>&1; then
		echo "FAIL: $*" >&2
		echo 999999
		return
	fi
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}

# best CMD...: the best of $RUNS runs.
best() {
	local i t b=999999
	for i in $(seq 1 "$RUNS"); do
		t=$(ms "$@")
		((t < b)) && b=$t
	done
	echo "$b"
}

# in_ns NS CMD...: run in namespace NS when set.
in_ns() {
	local n=$1
	shift
	if [[ -n $n ]]; then
		ip netns exec "$n" "$@"
	else
		"$@"
	fi
}

# parallel NS PORT: $NPAR curl clients at once; prints "ms failures".
parallel() {
	local n=$1 port=$2 i s e fails=0
	local out=$TFTP_WORK/par
	mkdir -p "$out"
	s=$(date +%s%N)
	for i in $(seq 1 "$NPAR"); do
		in_ns "$n" curl -s --tftp-blksize 1468 -o "$out/$i" \
			"tftp://127.0.0.1:$port/f4" &
	done
	wait_clients
	e=$(date +%s%N)
	for i in $(seq 1 "$NPAR"); do
		cmp -s "$out/$i" "$root/f4" || fails=$((fails + 1))
	done
	rm -rf "$out"
	echo "$(((e - s) / 1000000)) $fails"
}

# Wait for the background curl clients only (not the servers).
wait_clients() {
	local p
	for p in $(jobs -p); do
		case " ${TFTP_PIDS[*]} $dnsmasq_pid " in
		*" $p "*) ;;
		*) wait "$p" || true ;;
		esac
	done
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

mbps() {
	awk -v ms="$1" 'BEGIN { if (ms > 0) printf "%.0f", 64 * 1000 / ms; else print "n/a" }'
}

o=$TFTP_WORK/out
echo "== 64 MiB, curl, blksize 1468, lockstep (best of $RUNS)"
ours_l=$(best curl -s --tftp-blksize 1468 -o "$o" "tftp://127.0.0.1:$ours/f64")
cmp -s "$o" "$root/f64" || echo "FAIL: our copy differs"
hpa_l=$(best curl -s --tftp-blksize 1468 -o "$o" "tftp://127.0.0.1:$hpa/f64")
printf "  metalboot  %6d ms  %4s MiB/s\n" "$ours_l" "$(mbps "$ours_l")"
printf "  tftpd-hpa  %6d ms  %4s MiB/s\n" "$hpa_l" "$(mbps "$hpa_l")"
if [[ -n $ns ]]; then
	dm_l=$(best ip netns exec "$ns" curl -s --tftp-blksize 1468 -o "$o" \
		"tftp://127.0.0.1:69/f64")
	printf "  dnsmasq    %6d ms  %4s MiB/s\n" "$dm_l" "$(mbps "$dm_l")"
fi
echo "  ratio tftpd-hpa/metalboot: $(ratio "$hpa_l" "$ours_l") (goal >= 1.0)"

echo "== 64 MiB, atftp, blksize 1468, windowsize 16 (best of $RUNS)"
ours_w=$(best atftp --option "blksize 1468" --option "windowsize 16" -g \
	-r f64 -l "$o" 127.0.0.1 "$ours")
cmp -s "$o" "$root/f64" || echo "FAIL: our copy differs"
hpa_al=$(best atftp --option "blksize 1468" -g -r f64 -l "$o" 127.0.0.1 "$hpa")
printf "  metalboot ws16       %6d ms  %4s MiB/s\n" "$ours_w" "$(mbps "$ours_w")"
printf "  tftpd-hpa lockstep   %6d ms  %4s MiB/s (no windowsize)\n" \
	"$hpa_al" "$(mbps "$hpa_al")"
if [[ -n $ns ]]; then
	dm_w=$(best ip netns exec "$ns" atftp --option "blksize 1468" \
		--option "windowsize 16" -g -r f64 -l "$o" 127.0.0.1 69)
	printf "  dnsmasq ws16         %6d ms  %4s MiB/s\n" "$dm_w" "$(mbps "$dm_w")"
fi
echo "  ratio tftpd-hpa lockstep/metalboot ws16: $(ratio "$hpa_al" "$ours_w") (goal >= 2.0)"

echo "== $NPAR clients in parallel, 4 MiB each, curl blksize 1468"
read -r ours_p ours_f <<<"$(parallel "" "$ours")"
read -r hpa_p hpa_f <<<"$(parallel "" "$hpa")"
printf "  metalboot  %6d ms  %d failed\n" "$ours_p" "$ours_f"
printf "  tftpd-hpa  %6d ms  %d failed\n" "$hpa_p" "$hpa_f"
if [[ -n $ns ]]; then
	read -r dm_p dm_f <<<"$(parallel "$ns" 69)"
	printf "  dnsmasq    %6d ms  %d failed\n" "$dm_p" "$dm_f"
fi
echo "  ratio tftpd-hpa/metalboot: $(ratio "$hpa_p" "$ours_p") (goal >= 1.0, 0 failed)"

rss=$(awk '/VmHWM/ { print $2 }' "/proc/$ours_pid/status")
echo "== metalboot peak RSS: $((rss / 1024)) MiB (goal < 32)"
tftp_stop
