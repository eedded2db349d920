# tftp_lib.bash - shared by tests/interop/tftp_*.sh and bench/tftp.sh
# (sourced, not run): start metalboot-netboot on 127.0.0.1 and a free high
# port, remember its PID, and stop exactly that process on exit.
# Needs MB_BUILD_DIR (ctest sets it); exit 77 (skip) when the binary is
# missing.

MB_BUILD_DIR=${MB_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
MB_SOURCE_DIR=${MB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NETBOOT=$MB_BUILD_DIR/netboot/metalboot-netboot
TFTP_PIDS=()
TFTP_WORK=

tftp_need() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "skip: $t not installed"
			exit 77
		fi
	done
}

tftp_cleanup() {
	local pid
	for pid in "${TFTP_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${TFTP_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $TFTP_WORK && -d $TFTP_WORK ]]; then
		rm -rf "$TFTP_WORK"
	fi
}

# tftp_setup: a scratch directory in $TFTP_WORK, cleaned up on exit.
tftp_setup() {
	if [[ ! -x $NETBOOT ]]; then
		echo "skip: $NETBOOT not built"
		exit 77
	fi
	tftp_need python3
	TFTP_WORK=$(mktemp -d /tmp/mb-tftp.XXXXXX)
	trap tftp_cleanup EXIT
}

# tftp_free_port: print a UDP port nobody is bound to (high range).
tftp_free_port() {
	python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randint(20000, 60000)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("0.0.0.0", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
PY
}

# tftp_start ROOT PORT [FLAGS...]: run our server in the background with its
# log in $TFTP_WORK/server.log; sets SERVER_PID and waits until it listens.
tftp_start() {
	local root=$1 port=$2 i
	shift 2
	"$NETBOOT" --user root --root "$root" --listen 127.0.0.1 --tftp-port "$port" \
		--http-port 0 "$@" >>"$TFTP_WORK/server.log" 2>&1 &
	SERVER_PID=$!
	TFTP_PIDS+=("$SERVER_PID")
	for i in $(seq 1 100); do
		if grep -q "tftp: listening" "$TFTP_WORK/server.log"; then
			return 0
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	echo "FAIL: server did not start" >&2
	cat "$TFTP_WORK/server.log" >&2
	exit 1
}

# tftp_stop: SIGTERM our server; fail when it does not exit 0 (sanitizer
# reports, leaks at shutdown).
tftp_stop() {
	local st=0
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || st=$?
	if ((st != 0)); then
		echo "FAIL: server exited with $st" >&2
		tail -50 "$TFTP_WORK/server.log" >&2
		exit 1
	fi
}

# tftp_mkfile PATH BYTES: random content.
tftp_mkfile() {
	head -c "$2" /dev/urandom >"$1"
}

# tftp_same A B LABEL: compare sha256, print the verdict, count failures.
TFTP_FAILS=0
tftp_same() {
	local a b
	a=$(sha256sum <"$1" | cut -d' ' -f1)
	b=missing
	if [[ -f $2 ]]; then
		b=$(sha256sum <"$2" | cut -d' ' -f1)
	fi
	if [[ $a == "$b" ]]; then
		echo "ok   $3"
	else
		echo "FAIL $3"
		TFTP_FAILS=$((TFTP_FAILS + 1))
	fi
}
