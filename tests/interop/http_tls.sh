#!/usr/bin/env bash
# http_tls.sh: HTTPS on the second port with a server certificate signed
# by a test provisioning CA (SAN IP:127.0.0.1), verified by curl --cacert;
# files, ranges, keep-alive and the node API over TLS; plain HTTP still
# serves boot files; an untrusted client refuses the server.
set -uo pipefail
. "$(dirname "$0")/http_common.bash"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

http_port=$(free_port)
https_port=$(free_port)
tftp_port=$(free_port)
out=$work/out
mkdir -p "$out/public/images" "$out/boot" "$out/nodes/cp1" "$out/pki"
head -c 2000000 /dev/urandom >"$out/public/images/initrd.img"
printf 'version: 1\n' >"$out/nodes/cp1/firstboot.yaml"
printf '#!ipxe\n' >"$out/boot/cp1.ipxe"
(
	cd "$out/pki"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out provisioning-ca.crt -days 2 \
		-subj /CN=test-provisioning-ca 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout netboot.key -out netboot.csr -subj /CN=netboot 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >ext
	openssl x509 -req -in netboot.csr -CA provisioning-ca.crt -CAkey ca.key \
		-CAcreateserial -out netboot.crt -days 2 -extfile ext 2>/dev/null
	chmod 600 netboot.key
) || { echo "FAIL: openssl"; exit 1; }
cat >"$out/netboot.yaml" <<YAML
version: 1
cluster: lab
listen: 127.0.0.1
dhcp: { mode: "off" }
tftp: { port: $tftp_port }
http: { port: $http_port, https_port: $https_port, cert: pki/netboot.crt, key: pki/netboot.key }
paths: { public: public, boot: boot, nodes: nodes, state: state }
nodes:
  - { name: cp1, mac: "52:54:00:00:01:01", ip: 127.0.0.1, role: control-plane }
YAML
nb_start --config "$out/netboot.yaml"
tls=https://127.0.0.1:$https_port
ca=(--cacert "$out/pki/provisioning-ca.crt")

want=$(sha256sum <"$out/public/images/initrd.img" | cut -d' ' -f1)
check "https file" "$want" "$(curl -s "${ca[@]}" "$tls/files/images/initrd.img" | sha256sum | cut -d' ' -f1)"
check "https range" 206 "$(code "${ca[@]}" -r 100-199 "$tls/files/images/initrd.img")"
check "https range bytes" "$(head -c 200 "$out/public/images/initrd.img" | tail -c 100 | sha256sum)" \
	"$(curl -s "${ca[@]}" -r 100-199 "$tls/files/images/initrd.img" | sha256sum)"
check "https keep-alive" "1 0 0 " "$(curl -s "${ca[@]}" -w '%{num_connects} ' \
	-o /dev/null "$tls/v1/nodes" -o /dev/null "$tls/metrics" \
	-o /dev/null "$tls/files/images/initrd.img")"
check "plain HTTP payload refused" 403 "$(code "http://127.0.0.1:$http_port/v1/nodes/52:54:00:00:01:01/firstboot")"
check "https payload" "version: 1" "$(curl -s "${ca[@]}" "$tls/v1/nodes/52:54:00:00:01:01/firstboot")"
check "https event" 200 "$(code "${ca[@]}" -X POST --data-binary '{"step":"fetch","status":"ok"}' \
	"$tls/v1/nodes/52:54:00:00:01:01/events")"
check "untrusted CA refused" 60 "$(curl -s -o /dev/null "$tls/metrics"; echo $?)"
check "plain HTTP boot script" 200 "$(code "http://127.0.0.1:$http_port/boot/52:54:00:00:01:01.ipxe")"
check "plain speaks no TLS" 35 "$(curl -s -o /dev/null "${ca[@]}" "https://127.0.0.1:$http_port/metrics"; echo $?)"
# A client that never finishes its handshake is closed by the deadline
# and does not block others.
python3 - "$https_port" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01")
time.sleep(3)
PY
stall_pid=$!
sleep 0.5
check "served during a stalled handshake" 200 "$(code "${ca[@]}" "$tls/metrics")"
wait "$stall_pid"
check "key not logged" 0 "$(grep -c 'PRIVATE KEY' "$nb_log")"
finish
