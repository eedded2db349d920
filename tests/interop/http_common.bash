# http_common.bash - sourced by tests/interop/http_*.sh: start and stop
# metalboot-netboot on loopback high ports, wait for it, clean up. Not a
# test itself (the test glob takes *.sh only).

nb_bin=${MB_BUILD_DIR:-build}/netboot/metalboot-netboot
[[ -x $nb_bin ]] || { echo "skip: $nb_bin not built"; exit 77; }
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }

work=$(mktemp -d /tmp/mb-http.XXXXXX)
nb_pid=
nb_log=$work/netboot.log
cleanup() {
	if [[ -n $nb_pid ]] && kill -0 "$nb_pid" 2>/dev/null; then
		kill "$nb_pid"
		wait "$nb_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# A free high port (the kernel picks one, then releases it).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# nb_start ARGS...: start the server, wait until HTTP answers.
nb_start() {
	"$nb_bin" --user "${NB_USER:-root}" "$@" >>"$nb_log" 2>&1 &
	nb_pid=$!
	for _ in $(seq 100); do
		if curl -s -o /dev/null "http://127.0.0.1:$http_port/metrics"; then
			return 0
		fi
		kill -0 "$nb_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL: server did not start"; cat "$nb_log"; exit 1
}

nb_stop() {
	kill "$nb_pid"
	wait "$nb_pid" 2>/dev/null || true
	nb_pid=
}

# mk_tls DIR: a test provisioning CA (DIR/provisioning-ca.crt) and a
# server certificate it signs (DIR/netboot.{crt,key}, SAN IP:127.0.0.1).
mk_tls() {
	(
		cd "$1"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout ca.key -out provisioning-ca.crt -days 2 \
			-subj /CN=test-provisioning-ca 2>/dev/null
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout netboot.key -out netboot.csr -subj /CN=netboot \
			2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1\n' >ext
		openssl x509 -req -in netboot.csr -CA provisioning-ca.crt \
			-CAkey ca.key -CAcreateserial -out netboot.crt -days 2 \
			-extfile ext 2>/dev/null
		chmod 600 netboot.key ca.key
	) || { echo "FAIL: openssl"; exit 1; }
}

# stalled_reader PORT PATH SIZE: a client that asks for PATH (SIZE bytes)
# with a tiny receive buffer and reads nothing for 8 s, longer than the
# server's idle timeout (2 s in the callers). Succeeds when the server
# closed it before the whole file arrived.
stalled_reader() {
	python3 - "$@" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
time.sleep(8)  # the server's buffers fill; no progress for > 2 s
s.settimeout(10)
total = 0
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        total += len(b)
except (ConnectionResetError, socket.timeout):
    pass
sys.exit(0 if total < int(sys.argv[3]) else 1)
PY
}

fails=0
# check NAME EXPECTED ACTUAL
check() {
	if [[ "$2" == "$3" ]]; then
		echo "ok: $1"
	else
		echo "FAIL: $1: expected '$2', got '$3'"
		fails=$((fails + 1))
	fi
}

# code [CURL ARGS...]: the HTTP status of one request.
code() {
	curl -s -o /dev/null -w '%{http_code}' "$@"
}

finish() {
	if ((fails > 0)); then
		echo "--- server log"; cat "$nb_log"
		echo "$fails check(s) failed"; exit 1
	fi
	echo "all checks passed"
}
