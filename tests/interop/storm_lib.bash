# storm_lib.bash - shared by tests/interop/storm_small.sh and bench/storm.sh
# (sourced, not run): a server network namespace and a client one joined by
# a veth (srv0 10.20.0.1/16 <-> cli0), an OUT built by metalboot-build from
# bench/gen-inventory.sh's N-node inventory (every MAC a known node with a
# reservation), boot images of the given sizes, and the servers started
# in the server namespace with their PIDs remembered, so that cleanup stops
# exactly those.
# Needs STORM_BUILD (a build dir with metalboot-netboot, metalboot-build and
# bench/storm/storm) and root.

STORM_SRC=${STORM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STORM_NS_S=mbstorm-$$-s
STORM_NS_C=mbstorm-$$-c
STORM_WORK=
STORM_PIDS=()
STORM_SERVER=10.20.0.1

storm_cleanup() {
	local pid
	for pid in "${STORM_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${STORM_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	ip netns del "$STORM_NS_S" 2>/dev/null || true
	ip netns del "$STORM_NS_C" 2>/dev/null || true
	if [[ -n $STORM_WORK && -d $STORM_WORK ]]; then
		rm -rf "$STORM_WORK"
	fi
}

# storm_stop PID: stop one server we started, and forget it.
storm_stop() {
	local p=$1 keep=() q
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	for q in "${STORM_PIDS[@]}"; do
		[[ $q == "$p" ]] || keep+=("$q")
	done
	STORM_PIDS=("${keep[@]}")
}

# storm_setup N KERNEL_BYTES INITRD_BYTES: namespaces, OUT and images.
storm_setup() {
	local n=$1 kb=$2 ib=$3 role
	STORM_WORK=$(mktemp -d /tmp/mb-storm.XXXXXX)
	chmod 755 "$STORM_WORK"
	trap storm_cleanup EXIT
	ip netns add "$STORM_NS_S"
	ip netns add "$STORM_NS_C"
	ip -n "$STORM_NS_S" link add srv0 type veth peer name cli0 \
		netns "$STORM_NS_C"
	ip -n "$STORM_NS_S" addr add "$STORM_SERVER/16" dev srv0
	ip -n "$STORM_NS_S" link set srv0 up
	ip -n "$STORM_NS_S" link set lo up
	ip -n "$STORM_NS_C" link set cli0 up
	ip -n "$STORM_NS_C" link set lo up
	"$STORM_SRC/bench/gen-inventory.sh" "$n" >"$STORM_WORK/inv.yaml"
	"$STORM_BUILD/builder/metalboot-build" build -q "$STORM_WORK/inv.yaml" \
		-o "$STORM_WORK/out" || return 1
	head -c "$kb" /dev/urandom >"$STORM_WORK/vmlinuz"
	head -c "$ib" /dev/urandom >"$STORM_WORK/initrd.img"
	for role in worker control-plane; do
		mkdir -p "$STORM_WORK/out/public/images/$role"
		ln "$STORM_WORK/vmlinuz" "$STORM_WORK/initrd.img" \
			"$STORM_WORK/out/public/images/$role/"
	done
	# The anchors drop to nobody or read as www-data.
	chmod -R a+rX "$STORM_WORK/out/public" "$STORM_WORK/out/boot"
	chmod a+x "$STORM_WORK/out"
}

# storm_wait_log FILE PATTERN PID: until FILE shows PATTERN (10 s).
storm_wait_log() {
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# storm_start_ours BIN N: metalboot-netboot on OUT; sets STORM_OURS.
storm_start_ours() {
	local bin=$1 n=$2 max
	max=$((n * 2 > 4096 ? 4096 : n * 2))
	max=$((max < 256 ? 256 : max))
	ip netns exec "$STORM_NS_S" "$bin" --user root \
		--config "$STORM_WORK/out/netboot.yaml" --https-port 0 \
		--dhcp-check-ms 300 --tftp-max-transfers "$max" \
		${STORM_WORKERS:+--workers "$STORM_WORKERS"} \
		>"$STORM_WORK/ours.log" 2>&1 &
	STORM_OURS=$!
	STORM_PIDS+=("$STORM_OURS")
	storm_wait_log "$STORM_WORK/ours.log" 'dhcp: full mode' "$STORM_OURS"
}

# storm_run NAME ARGS...: the generator in the client namespace; its
# summary line on stdout, the JSON report in $STORM_WORK/NAME.json.
storm_run() {
	local name=$1
	shift
	ip netns exec "$STORM_NS_C" "$STORM_BUILD/bench/storm/storm" -q \
		--json "$STORM_WORK/$name.json" "$@" cli0
}
