#!/usr/bin/env bash
# firstboot_server.sh - metalboot-firstboot --server against a local HTTPS
# stand-in of the node API (standins/fbserver.py) with a test CA made by
# openssl, on 127.0.0.1 only:
#  A. the server is down when the agent starts, then comes up (and refuses
#     the first events with 503): the run ends in success, every event is
#     delivered in order, the payload is cached 0600;
#  B. a resumed run needs no server: kubeadm fails once, the server goes
#     away, the rerun finishes from the cache and queues its events, and a
#     later run delivers them without running kubeadm again;
#  C. a server whose certificate is not signed by the pinned CA is refused,
#     for the payload and for the API readiness probe;
#  D. a first control plane with an external etcd waits for etcd's /health
#     (client certificate, etcd CA) before kubeadm init;
#  E. with no flags but --root, the server and MAC come from the kernel
#     command line, or the MAC from the interface, and the CA from
#     ROOT/etc/metalboot/provisioning-ca.crt.
. "$(dirname "$0")/standins/fbtest.sh"
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }

P=$WORK/pki
mkdir -p "$P"
mkcert() { # mkcert CA NAME: a server cert for IP 127.0.0.1 signed by CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$P/$2.key" -out "$P/$2.csr" -subj "/CN=127.0.0.1" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		>"$P/$2.ext"
	openssl x509 -req -in "$P/$2.csr" -CA "$P/$1.crt" -CAkey "$P/$1.key" \
		-CAcreateserial -days 2 -out "$P/$2.crt" -extfile "$P/$2.ext" 2>/dev/null
}
for ca in ca rogue-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$P/$ca.key" -out "$P/$ca.crt" -subj "/CN=metalboot test $ca" \
		-days 2 2>/dev/null
done
mkcert ca server
mkcert rogue-ca rogue

PORT=$(free_port)
URL=https://127.0.0.1:$PORT
MAC=52:54:00:00:02:01
# start_server EVENTS [ARGS...]: the stand-in with the good certificate.
start_server() {
	local events=$1
	shift
	python3 "$STANDINS/fbserver.py" --port "$PORT" --cert "$P/server.crt" \
		--key "$P/server.key" --payload "$WORK/w1.yaml" --mac "$MAC" \
		--events "$events" "$@" 2>>"$WORK/server.log" &
	SERVER=$!
	PIDS+=("$SERVER")
	for _ in $(seq 100); do
		if python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" \
			2>/dev/null; then
			sleep 0.2
			kill -0 "$SERVER" 2>/dev/null || fail "the stand-in server died"
			return 0
		fi
		sleep 0.1
	done
	fail "the stand-in server did not start"
}
stop_server() {
	kill "$SERVER"
	wait "$SERVER" 2>/dev/null || true
}

indent() { sed 's/^/    /' "$1"; }
cat >"$WORK/w1.yaml" <<YAML
version: 1
node: { name: w1, role: worker, mac: "$MAC", ip: 192.168.100.21 }
cluster: { name: lab, kubernetes_version: v1.30.2, endpoint: "127.0.0.1:$PORT" }
server:
  url: $URL
  ca: |
$(indent "$P/ca.crt")
hosts:
  - { ip: 192.168.100.21, names: [w1] }
kernel_modules: [br_netfilter]
sysctls: { net.ipv4.ip_forward: "1" }
swap_off: true
selinux: permissive
firewall:
  - { port: "10250", proto: tcp }
container_runtime: { kind: containerd }
files:
  - { path: /etc/kubernetes/pki/ca.crt, mode: "0644", content: "CA\n" }
kubeadm:
  action: join
  config: "kind: JoinConfiguration\ntoken: abcdef.0123456789abcdef\n"
  wait_for:
    url: $URL/readyz
    ca: |
$(sed 's/^/      /' "$P/ca.crt")
    timeout: 60
ready_timeout: 30
YAML

expected_events() { # the steps of a worker's run, each running then ok
	local s
	for s in fetch hostname hosts modules sysctls swap selinux firewall \
		runtime pki kubelet wait-api kubeadm ready "done"; do
		echo "$s running"
		echo "$s ok"
	done
}
event_list() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]): e=json.loads(l); print(e["step"], e["status"])' "$1"
}

echo "== A. server down at start, then up"
R=$WORK/ra S=$WORK/sa
mkroot "$R"
agent "$R" "$S" --server "$URL" --mac "$MAC" --ca "$P/ca.crt" \
	--fetch-timeout 60 2>"$WORK/a.err" &
AG=$!
PIDS+=("$AG")
sleep 3
start_server "$WORK/events-a" --fail-events 3
rc=0
wait "$AG" || rc=$?
[[ $rc == 0 ]] || { cat "$WORK/a.err"; fail "run A exited $rc"; }
grep -q 'Connection refused\|Could not connect\|Failed to connect' "$WORK/a.err" ||
	grep -q 'fetch: https://' "$WORK/a.err" || fail "no fetch attempt logged"
[[ $(event_list "$WORK/events-a") == "$(expected_events)" ]] ||
	fail "events:
$(diff <(expected_events) <(event_list "$WORK/events-a"))"
[[ $(mode "$R/var/lib/metalboot/firstboot.yaml") == 600 ]] || fail "cache mode"
cmp -s "$R/var/lib/metalboot/firstboot.yaml" "$WORK/w1.yaml" || fail "cache content"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["queue"]==[] and j["done"]' \
	"$R/var/lib/metalboot/state.json" || fail "queue not empty"
[[ -e $R/var/lib/metalboot/done ]] || fail "no done marker"
has_call "$S" "kubeadm join --config $R/var/lib/metalboot/kubeadm.yaml"
grep -q abcdef.0123456789abcdef "$WORK/a.err" "$WORK/events-a" &&
	fail "the token leaked into the log or the events"

echo "== B. a resumed run needs no server; its events are sent later"
R=$WORK/rb S=$WORK/sb
mkroot "$R"
mkdir -p "$S"
touch "$S/kubeadm-fail-once"
if agent "$R" "$S" --server "$URL" --mac "$MAC" --ca "$P/ca.crt" \
	2>"$WORK/b1.err"; then
	fail "run B1 passed despite kubeadm failing"
fi
[[ $(tail -1 "$WORK/events-a") == *'"step": "kubeadm", "status": "failed"'* ]] ||
	fail "the failure was not reported: $(tail -3 "$WORK/events-a")"
# With the tail of kubeadm's output, its token redacted.
tail -1 "$WORK/events-a" | python3 -c '
import json, sys
ev = json.loads(sys.stdin.read())
out = ev.get("output", "")
assert "[kubelet-check] timed out waiting for the condition" in out, ev
assert "--token [redacted]" in out and "abcdef.0123456789abcdef" not in out, ev
' || fail "the failed event lacks the redacted output: $(tail -1 "$WORK/events-a")"
stop_server
start=$SECONDS
agent "$R" "$S" --server "$URL" --mac "$MAC" --ca "$P/ca.crt" \
	--report-wait 2 2>"$WORK/b2.err" ||
	{ cat "$WORK/b2.err"; fail "the resumed run failed without the server"; }
((SECONDS - start < 20)) || fail "the unreachable server blocked the work"
grep -q 'fetch: using /var/lib/metalboot/firstboot.yaml' "$WORK/b2.err" ||
	fail "the cache was not used"
grep -q 'not delivered; they stay queued' "$WORK/b2.err" || fail "no queue note"
[[ -e $R/var/lib/metalboot/done ]] && fail "done while events are queued"
nq=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["queue"]))' \
	"$R/var/lib/metalboot/state.json")
((nq >= 6)) || fail "only $nq events queued"
nk=$(grep -c '^kubeadm join' "$S/calls")
start_server "$WORK/events-b"
agent "$R" "$S" --server "$URL" --mac "$MAC" --ca "$P/ca.crt" 2>"$WORK/b3.err" ||
	{ cat "$WORK/b3.err"; fail "run B3 failed"; }
[[ $(grep -c '^kubeadm join' "$S/calls") == "$nk" ]] || fail "kubeadm ran again"
[[ $(wc -l <"$WORK/events-b") == "$nq" ]] || fail "not every queued event arrived"
[[ $(event_list "$WORK/events-b" | tail -1) == "done ok" ]] || fail "last event"
evb=$(event_list "$WORK/events-b")
grep -qx 'kubeadm ok' <<<"$evb" || fail "kubeadm ok not sent"
[[ -e $R/var/lib/metalboot/done ]] || fail "no done marker after delivery"
stop_server

echo "== C. a certificate not signed by the pinned CA is refused"
python3 "$STANDINS/fbserver.py" --port "$PORT" --cert "$P/rogue.crt" \
	--key "$P/rogue.key" --payload "$WORK/w1.yaml" --mac "$MAC" \
	--events "$WORK/events-c" 2>>"$WORK/server.log" &
SERVER=$!
PIDS+=("$SERVER")
sleep 1
R=$WORK/rc S=$WORK/sc
mkroot "$R"
start=$SECONDS
set +e
agent "$R" "$S" --server "$URL" --mac "$MAC" --ca "$P/ca.crt" \
	--fetch-timeout 30 2>"$WORK/c.err"
rc=$?
set -e
[[ $rc == 1 ]] || { cat "$WORK/c.err"; fail "rogue server: exit $rc"; }
((SECONDS - start < 15)) || fail "a refused certificate was retried"
grep -q 'not signed by the pinned CA' "$WORK/c.err" || fail "message: $(cat "$WORK/c.err")"
[[ -e $R/var/lib/metalboot/firstboot.yaml ]] && fail "a payload from the rogue server"
[[ -s $WORK/events-c ]] && fail "events sent to the rogue server"
# The readiness probe pins the cluster CA the same way.
R=$WORK/rd S=$WORK/sd
mkroot "$R"
sed '/^server:/,/^hosts:/{/^hosts:/!d}' "$WORK/w1.yaml" >"$WORK/w1-noserver.yaml"
set +e
agent "$R" "$S" --config "$WORK/w1-noserver.yaml" 2>"$WORK/d.err"
rc=$?
set -e
[[ $rc == 1 ]] || { cat "$WORK/d.err"; fail "rogue API: exit $rc"; }
grep -q "wait-api: failed: $URL/readyz: certificate refused" "$WORK/d.err" ||
	fail "message: $(cat "$WORK/d.err")"
grep -q '^kubeadm' "$S/calls" && fail "joined behind a refused API"
stop_server

echo "== D. external etcd: kubeadm init waits for /health"
start_server "$WORK/events-d" --health-fail 2
R=$WORK/re S=$WORK/se
mkroot "$R"
cat >"$WORK/cp1-ext.yaml" <<YAML
version: 1
node: { name: cp1, role: control-plane, mac: "52:54:00:00:01:01", ip: 192.168.100.11 }
cluster: { name: lab }
container_runtime: { kind: containerd }
files:
  - path: /etc/kubernetes/pki/etcd/ca.crt
    mode: "0644"
    content: |
$(sed 's/^/      /' "$P/ca.crt")
  - path: /etc/kubernetes/pki/apiserver-etcd-client.crt
    mode: "0644"
    content: |
$(sed 's/^/      /' "$P/server.crt")
  - path: /etc/kubernetes/pki/apiserver-etcd-client.key
    mode: "0600"
    content: |
$(sed 's/^/      /' "$P/server.key")
kubeadm:
  action: init
  config: |
    apiVersion: kubeadm.k8s.io/v1beta3
    kind: InitConfiguration
    ---
    apiVersion: kubeadm.k8s.io/v1beta3
    kind: ClusterConfiguration
    etcd:
      external:
        endpoints: ["$URL"]
        caFile: /etc/kubernetes/pki/etcd/ca.crt
        certFile: /etc/kubernetes/pki/apiserver-etcd-client.crt
        keyFile: /etc/kubernetes/pki/apiserver-etcd-client.key
YAML
agent "$R" "$S" --config "$WORK/cp1-ext.yaml" 2>"$WORK/e.err" ||
	{ cat "$WORK/e.err"; fail "external etcd run failed"; }
grep -q "kubeadm: external etcd $URL is healthy" "$WORK/e.err" ||
	fail "no etcd wait: $(cat "$WORK/e.err")"
(($(grep -c '"GET /health' "$WORK/server.log") >= 3)) || fail "/health not polled"
has_call "$S" "kubeadm init --config $R/var/lib/metalboot/kubeadm.yaml"
stop_server

echo "== E. server and MAC from the kernel command line and the interface"
start_server "$WORK/events-e"
for how in cmdline iface; do
	R=$WORK/rf-$how S=$WORK/sf-$how
	mkroot "$R"
	mkdir -p "$R/etc/metalboot"
	cp "$P/ca.crt" "$R/etc/metalboot/provisioning-ca.crt"
	if [[ $how == cmdline ]]; then
		echo "console=ttyS0 metalboot.server=$URL/ metalboot.mac=${MAC^^}" \
			>"$R/proc/cmdline"
	else
		echo "console=ttyS0 metalboot.server=$URL" >"$R/proc/cmdline"
		mkdir -p "$R/sys/class/net/eth1"
		echo 00:00:00:00:00:00 >"$R/sys/class/net/eth0/address"
		echo "$MAC" >"$R/sys/class/net/eth1/address"
		echo up >"$R/sys/class/net/eth1/operstate"
	fi
	agent "$R" "$S" 2>"$WORK/f-$how.err" ||
		{ cat "$WORK/f-$how.err"; fail "$how: the run failed"; }
	grep -q "fetch: $URL/v1/nodes/$MAC/firstboot" "$WORK/f-$how.err" ||
		fail "$how: wrong URL: $(head -3 "$WORK/f-$how.err")"
	[[ -e $R/var/lib/metalboot/done ]] || fail "$how: not done"
done
stop_server
echo PASS
