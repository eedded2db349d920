#!/usr/bin/env bash
# http_nodes.sh: the node API with --config and a hand-written netboot.yaml
# (docs/formats.md): boot scripts by MAC in every accepted spelling,
# payloads only to the node's own address (cp1 is 127.0.0.1, w1 is
# 127.0.0.2; curl --interface picks the source), firstboot over HTTPS
# only, a second fetch warned about, events validated and only from the
# node, 410 after "done" ok until re-armed (the admin token, from any
# address, localhost included), /v1/nodes and /metrics, size caps, state
# surviving a restart, and no secret ever in the log.
set -uo pipefail
. "$(dirname "$0")/http_common.bash"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

if ! curl -s -o /dev/null --interface 127.0.0.2 --connect-timeout 1 \
	http://127.0.0.1:9/ 2>/dev/null && [[ $? == 45 ]]; then
	echo "skip: cannot bind 127.0.0.2"; exit 77
fi

http_port=$(free_port)
https_port=$(free_port)
tftp_port=$(free_port)
out=$work/out
mkdir -p "$out/public" "$out/boot" "$out/nodes/cp1/cloud-init" \
	"$out/nodes/w1/cloud-init" "$out/state" "$out/pki"
mk_tls "$out/pki"
secret="SECRET-TOKEN-abcdef0123456789"
mkdir -p "$out/public/images/control-plane"
head -c 100000 /dev/urandom >"$out/public/images/control-plane/vmlinuz"
head -c 100000 /dev/urandom >"$out/public/images/control-plane/initrd.img"
printf '#!ipxe\necho cp1\n' >"$out/boot/cp1.ipxe"
printf '#!ipxe\necho w1\n' >"$out/boot/w1.ipxe"
printf 'version: 1\nsecret: %s\n' "$secret" >"$out/nodes/cp1/firstboot.yaml"
printf 'version: 1\nsecret: %s-w1\n' "$secret" >"$out/nodes/w1/firstboot.yaml"
printf '#cloud-config\nhostname: cp1\n' >"$out/nodes/cp1/cloud-init/user-data"
printf 'instance-id: cp1\n' >"$out/nodes/cp1/cloud-init/meta-data"
printf 'version: 2\n' >"$out/nodes/cp1/cloud-init/network-config"
chmod 600 "$out/nodes/cp1/firstboot.yaml" "$out/nodes/cp1/cloud-init/user-data"
cat >"$out/netboot.yaml" <<YAML
version: 1
cluster: lab
listen: 127.0.0.1
interface: null
dhcp:
  mode: "off"
tftp: { port: $tftp_port }
http: { port: $http_port, https_port: $https_port, cert: pki/netboot.crt, key: pki/netboot.key }
paths:
  public: public
  boot: boot
  nodes: nodes
  state: state
nodes:
  - { name: cp1, mac: "52:54:00:00:01:01", ip: 127.0.0.1, role: control-plane }
  - { name: w1, mac: "52:54:00:00:02:01", ip: 127.0.0.2, role: worker }
YAML

nb_start --config "$out/netboot.yaml"
base=http://127.0.0.1:$http_port
tls=https://127.0.0.1:$https_port
ca=(--cacert "$out/pki/provisioning-ca.crt")
cp1=52:54:00:00:01:01
w1=52:54:00:00:02:01
as2=(--interface 127.0.0.2)

# Boot scripts: any address, MAC in any spelling.
check "boot script" "$(cat "$out/boot/cp1.ipxe")" "$(curl -s "$base/boot/$cp1.ipxe")"
check "boot script dashes upper" 200 "$(code "$base/boot/52-54-00-00-01-01.ipxe")"
check "boot script upper" 200 "$(code "$base/boot/52:54:00:00:01:01.ipxe" -H 'X: y')"
check "boot script unknown MAC" 404 "$(code "$base/boot/52:54:00:00:09:09.ipxe")"

# Kernel and initrd fetched by a node's address land on its timeline
# (once: a ranged continuation is not a new fetch; another address's
# fetch is nobody's).
check "kernel" 200 "$(code "$base/files/images/control-plane/vmlinuz")"
check "kernel continued" 206 "$(code -r 500- "$base/files/images/control-plane/vmlinuz")"
check "initrd" 200 "$(code "$base/files/images/control-plane/initrd.img")"
check "kernel HEAD" 200 "$(code -I "$base/files/images/control-plane/vmlinuz")"
check "kernel by nobody" 200 "$(code --interface 127.0.0.3 "$base/files/images/control-plane/vmlinuz")"

# Payloads: only the node's own address; firstboot only over HTTPS.
check "firstboot over plain HTTP" 403 "$(code "$base/v1/nodes/$cp1/firstboot")"
check "firstboot over plain HTTP: no body" 0 \
	"$(curl -s "$base/v1/nodes/$cp1/firstboot" | grep -c "$secret")"
check "firstboot to cp1" "$(cat "$out/nodes/cp1/firstboot.yaml")" \
	"$(curl -s "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "firstboot of cp1 to 127.0.0.2" 403 "$(code "${ca[@]}" "${as2[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "firstboot of w1 to 127.0.0.1" 403 "$(code "${ca[@]}" "$tls/v1/nodes/$w1/firstboot")"
check "firstboot of w1 to w1" 200 "$(code "${ca[@]}" "${as2[@]}" "$tls/v1/nodes/$w1/firstboot")"
check "user-data" 200 "$(code "$base/v1/nodes/$cp1/cloud-init/user-data")"
check "meta-data" "instance-id: cp1" "$(curl -s "$base/v1/nodes/$cp1/cloud-init/meta-data")"
check "network-config" 200 "$(code "$base/v1/nodes/$cp1/cloud-init/network-config")"
check "vendor-data" 404 "$(code "$base/v1/nodes/$cp1/cloud-init/vendor-data")"
check "second fetch" 200 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
sleep 0.2
check "second fetch warned" 1 "$(grep -c 'firstboot of node cp1 fetched again' "$nb_log")"
check "unknown node" 404 "$(code "${ca[@]}" "$tls/v1/nodes/52:54:00:00:09:09/firstboot")"

# Events.
post() { # post MAC JSON [curl args]
	local mac=$1 json=$2
	shift 2
	code -X POST -H 'Content-Type: application/json' --data-binary "$json" \
		"$@" "$base/v1/nodes/$mac/events"
}
check "event running" 200 "$(post $cp1 '{"step":"fetch","status":"running"}')"
check "event ok" 200 "$(post $cp1 '{"step":"fetch","status":"ok","message":"fine"}')"
check "event from another address" 403 \
	"$(post $cp1 '{"step":"fetch","status":"ok"}' "${as2[@]}")"
check "event malformed" 400 "$(post $cp1 '{"step":"fetch",')"
check "event unknown status" 400 "$(post $cp1 '{"step":"fetch","status":"great"}')"
check "event missing step" 400 "$(post $cp1 '{"status":"ok"}')"
check "event GET" 405 "$(code "$base/v1/nodes/$cp1/events")"
big=$(python3 -c 'print("{\"step\":\"x\",\"status\":\"ok\",\"message\":\"" + "a"*20000 + "\"}")')
check "event over body cap" 413 "$(post $cp1 "$big")"
huge=$(python3 -c 'print("x"*100000)')
check "body over server cap" 413 "$(post $cp1 "$huge")"
check "header over cap" 400 \
	"$(code -H "X-Big: $(python3 -c 'print("y"*20000)')" "$base/files/x")"
check "w1 failed" 200 "$(post $w1 '{"step":"kubeadm","status":"failed","message":"exit 1"}' "${as2[@]}")"
check "done ok" 200 "$(post $cp1 '{"step":"done","status":"ok"}')"

# After done: 410 until re-armed.
check "firstboot after done" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "user-data after done" 410 "$(code "$base/v1/nodes/$cp1/cloud-init/user-data")"
check "w1 not locked" 200 "$(code "${ca[@]}" "${as2[@]}" "$tls/v1/nodes/$w1/firstboot")"
json=$(curl -s "$base/v1/nodes")
check "/v1/nodes shape" "cp1 52:54:00:00:01:01 127.0.0.1 control-plane done done ok 13 boot-script|boot-script|boot-script|kernel|initrd|secret-refused|secret-refused|secrets|secret-refused|fetch:running|fetch:ok|done:ok|secret-refused;w1 worker failed kubeadm failed exit 1" \
	"$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
a, b = d["nodes"]
ev = a["last_event"]
assert set(a) == {"name","mac","ip","role","state","last_event","timeline"}, a.keys()
assert set(ev) == {"step","status","message","time"}
assert all(set(t) == {"event","time"} and t["time"].endswith("Z") for t in a["timeline"])
print(a["name"], a["mac"], a["ip"], a["role"], a["state"], ev["step"], ev["status"],
      len(a["timeline"]), "|".join(t["event"] for t in a["timeline"]) + ";" +
      b["name"], b["role"], b["state"], b["last_event"]["step"],
      b["last_event"]["status"], b["last_event"]["message"])' "$json")"
metrics=$(curl -s "$base/metrics")
check "metrics done" 'metalboot_nodes{state="done"} 1' "$(grep 'state="done"' <<<"$metrics")"
check "metrics failed" 'metalboot_nodes{state="failed"} 1' "$(grep 'state="failed"' <<<"$metrics")"
check "metrics 410" 'metalboot_http_requests_total{code="410"} 2' "$(grep 'code="410"' <<<"$metrics")"
check "metrics tftp" 1 "$(grep -c '^metalboot_tftp_requests_total ' <<<"$metrics")"

# Restart: the state is back, the lock too.
nb_stop
nb_start --config "$out/netboot.yaml"
check "state after restart" "done" "$(curl -s "$base/v1/nodes" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["state"])')"
check "410 after restart" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"

# Re-arm: the admin token, always (localhost too: a local reverse proxy
# makes every client look local).
token=$(cat "$out/state/admin-token")
check "token file mode" 600 "$(stat -c %a "$out/state/admin-token")"
check "rearm remote no token" 403 "$(code -X POST "${as2[@]}" "$base/v1/nodes/$cp1/rearm")"
check "rearm remote bad token" 403 \
	"$(code -X POST "${as2[@]}" -H "Authorization: Bearer nope" "$base/v1/nodes/$cp1/rearm")"
check "rearm remote token" 200 \
	"$(code -X POST "${as2[@]}" -H "Authorization: Bearer $token" "$base/v1/nodes/$cp1/rearm")"
check "firstboot after rearm" 200 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "done again" 200 "$(post $cp1 '{"step":"done","status":"ok"}')"
check "410 again" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "rearm local no token" 403 "$(code -X POST "$base/v1/nodes/$cp1/rearm")"
check "still 410" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "rearm local token" 200 \
	"$(code -X POST -H "Authorization: Bearer $token" "$base/v1/nodes/$cp1/rearm")"
check "firstboot after local rearm" 200 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "rearm GET" 405 "$(code "$base/v1/nodes/$cp1/rearm")"

# Node states are written in batches: 300 events cost a few writes (one
# per node per second at most), none is lost at a clean stop (SIGTERM
# right after the last one), and a restart reads them back.
writes() { curl -s "$base/metrics" | sed -n 's/^metalboot_node_state_writes_total //p'; }
w0=$(writes)
t0=$(date +%s)
python3 - "$http_port" <<'PY'
import http.client, socket, sys
class Src(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.create_connection((self.host, self.port),
                                             source_address=("127.0.0.2", 0))
c = Src("127.0.0.1", int(sys.argv[1]))
for i in range(300):
    c.request("POST", "/v1/nodes/52:54:00:00:02:01/events",
              body='{"step":"s%d","status":"running"}' % i)
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
PY
t1=$(date +%s)
w1n=$(writes)
if [[ -n $w0 && -n $w1n ]] && ((w1n - w0 <= t1 - t0 + 2)); then
	echo "ok: 300 events, $((w1n - w0)) state writes in $((t1 - t0 + 1)) s"
else
	echo "FAIL: 300 events cost $((w1n - w0)) state writes"; fails=$((fails + 1))
fi
nb_stop
nb_start --config "$out/netboot.yaml"
check "last event after a clean restart" "s299 running" \
	"$(curl -s "$base/v1/nodes" | python3 -c 'import json,sys; e=json.load(sys.stdin)["nodes"][1]["last_event"]; print(e["step"], e["status"])')"

# Secrets never in the log.
nb_stop
check "secret not logged" 0 "$(grep -c -- "$secret" "$nb_log")"
check "token not logged" 0 "$(grep -c -- "$token" "$nb_log")"
finish
