#!/usr/bin/env bash
# http_secrets.sh: the secret payloads (a node's secrets.tar, which its
# NoCloud-net user-data fetches, and firstboot.yaml) never cross the wire
# in clear and are served once: plain HTTP gets 403 and never a byte of
# them; HTTPS verified with curl --cacert (the provisioning CA only) from
# the node's address gets them; another address gets 403; after the
# secret window (http.secret_window, 8 s here) that follows the first
# fetch, or once the node reports "done", 410 until re-armed with the
# admin token; every refusal is "secret-refused" on the node's timeline;
# the window survives a restart. cp1 is 127.0.0.1, w1 127.0.0.2.
set -uo pipefail
. "$(dirname "$0")/http_common.bash"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }
command -v tar >/dev/null || { echo "skip: no tar"; exit 77; }
if ! curl -s -o /dev/null --interface 127.0.0.2 --connect-timeout 1 \
	http://127.0.0.1:9/ 2>/dev/null && [[ $? == 45 ]]; then
	echo "skip: cannot bind 127.0.0.2"; exit 77
fi

http_port=$(free_port)
https_port=$(free_port)
tftp_port=$(free_port)
out=$work/out
mkdir -p "$out/public" "$out/boot" "$out/nodes/cp1/cloud-init" \
	"$out/nodes/w1/cloud-init" "$out/state" "$out/pki" "$work/tree/etc/kubernetes/pki"
mk_tls "$out/pki"
secret="-----BEGIN PRIVATE KEY----- SECRET-$$-0123456789abcdef"
printf '%s\n' "$secret" >"$work/tree/etc/kubernetes/pki/ca.key"
chmod 600 "$work/tree/etc/kubernetes/pki/ca.key"
tar -C "$work/tree" --owner=0 --group=0 -cf "$out/nodes/cp1/secrets.tar" etc/kubernetes/pki/ca.key
cp "$out/nodes/cp1/secrets.tar" "$out/nodes/w1/secrets.tar"
printf 'version: 1\nsecret: %s\n' "$secret" >"$out/nodes/cp1/firstboot.yaml"
printf '#cloud-config\nhostname: cp1\n' >"$out/nodes/cp1/cloud-init/user-data"
chmod 600 "$out/nodes/cp1/secrets.tar" "$out/nodes/cp1/firstboot.yaml"
cat >"$out/netboot.yaml" <<YAML
version: 1
cluster: lab
listen: 127.0.0.1
dhcp: { mode: "off" }
tftp: { port: $tftp_port }
http: { port: $http_port, https_port: $https_port, cert: pki/netboot.crt, key: pki/netboot.key, secret_window: 8s }
paths: { public: public, boot: boot, nodes: nodes, state: state }
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
token=$(cat "$out/state/admin-token")
events() { # events NAME: the node's timeline, space-separated
	curl -s "$base/v1/nodes" | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n["name"] == sys.argv[1]:
        print(" ".join(t["event"] for t in n["timeline"]))' "$1"
}
count() { events "$1" | tr ' ' '\n' | grep -cx "$2"; }

# Plain HTTP: 403 and not a byte, GET or HEAD, whatever the address.
check "secrets over plain HTTP" 403 "$(code "$base/v1/nodes/$cp1/secrets")"
check "no secret over plain HTTP" 0 \
	"$(curl -s "$base/v1/nodes/$cp1/secrets" | grep -c SECRET)"
check "HEAD over plain HTTP" 403 "$(code -I "$base/v1/nodes/$cp1/secrets")"
check "firstboot over plain HTTP" 403 "$(code "$base/v1/nodes/$cp1/firstboot")"
check "refusals on the timeline" 4 "$(count cp1 secret-refused)"
check "refusals do not boot the node" pending \
	"$(curl -s "$base/v1/nodes" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["state"])')"
# HTTPS: the pinned CA only, the node's address only.
check "untrusted CA refused" 60 "$(curl -s -o /dev/null "$tls/v1/nodes/$cp1/secrets"; echo $?)"
check "cp1's secrets to 127.0.0.2" 403 \
	"$(code "${ca[@]}" --interface 127.0.0.2 "$tls/v1/nodes/$cp1/secrets")"
check "HEAD opens no window" 200 "$(code "${ca[@]}" -I "$tls/v1/nodes/$cp1/secrets")"
check "no window yet" 0 "$(count cp1 secrets)"
curl -s "${ca[@]}" -o "$work/got.tar" "$tls/v1/nodes/$cp1/secrets"
opened=$(date +%s.%N)
check "again within the window" 200 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/secrets")"
check "firstboot within the window" 200 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "secrets to cp1 over HTTPS" "$(sha256sum <"$out/nodes/cp1/secrets.tar")" \
	"$(sha256sum <"$work/got.tar")"
mkdir -p "$work/unpack"
(umask 077 && tar -xf "$work/got.tar" -C "$work/unpack")
check "unpacked key" "$secret" "$(cat "$work/unpack/etc/kubernetes/pki/ca.key")"
check "unpacked key mode" 600 "$(stat -c %a "$work/unpack/etc/kubernetes/pki/ca.key")"
check "window opened" 1 "$(count cp1 secrets)"
check "w1 has its own window" 200 \
	"$(code "${ca[@]}" --interface 127.0.0.2 "$tls/v1/nodes/$w1/secrets")"
sleep "$(python3 -c "import time; print(max(0, $opened + 8.3 - time.time()))")"
check "secrets after the window" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/secrets")"
check "firstboot after the window" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/firstboot")"
check "410 on the timeline" 7 "$(count cp1 secret-refused)"

# The window survives a restart.
nb_stop
nb_start --config "$out/netboot.yaml"
check "410 after restart" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/secrets")"

# Re-arm: the admin token, always (127.0.0.1 too).
check "rearm without token from localhost" 403 "$(code -X POST "$base/v1/nodes/$cp1/rearm")"
check "rearm bad token" 403 \
	"$(code -X POST -H "Authorization: Bearer x$token" "$base/v1/nodes/$cp1/rearm")"
check "still 410" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/secrets")"
check "rearm with token" 200 \
	"$(code -X POST -H "Authorization: Bearer $token" "$base/v1/nodes/$cp1/rearm")"
check "secrets after rearm" 200 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/secrets")"
# "done" closes it at once, window or not.
check "done" 200 "$(code "${ca[@]}" -X POST --data-binary '{"step":"done","status":"ok"}' \
	"$tls/v1/nodes/$cp1/events")"
check "secrets after done" 410 "$(code "${ca[@]}" "$tls/v1/nodes/$cp1/secrets")"
check "plain HTTP still 403" 403 "$(code "$base/v1/nodes/$cp1/secrets")"

nb_stop
check "secret not logged" 0 "$(grep -c -- "SECRET-$$" "$nb_log")"
check "token not logged" 0 "$(grep -c -- "$token" "$nb_log")"
check "refusals logged" 1 "$(grep -c 'secrets of node cp1 refused (403): plain HTTP' "$nb_log")"
finish
