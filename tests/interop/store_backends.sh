#!/usr/bin/env bash
# store_backends.sh: the node store's interface on its etcd backend. One
# Debian etcd-server with TLS on loopback (ports the kernel picks, a
# CA and certificates made here with openssl), then the cmocka test
# test_netboot_store with MB_TEST_ETCD_* set: two stores of one fleet
# against it (the files backend runs in the unit suite itself).
# Exit 77 when etcd or openssl is missing.
set -euo pipefail
b=${MB_BUILD_DIR:?}
bin=$b/tests/test_netboot_store
for t in etcd openssl python3; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[[ -x $bin ]] || { echo "SKIP: $bin not built (cmocka)"; exit 77; }
work=$(mktemp -d /tmp/mbbackends.XXXXXX)
epid=0
cleanup() {
	if ((epid > 0)); then
		kill "$epid" 2>/dev/null || true
		wait "$epid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
pki=$work/pki
mkdir -p "$pki"
(umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/ca.key" -out "$pki/ca.crt" -days 2 -subj /CN=unit-ca 2>/dev/null
	for leaf in etcd:IP:127.0.0.1:serverAuth,clientAuth client:DNS:netboot:clientAuth; do
		IFS=: read -r name kind value eku <<<"$leaf"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$pki/$name.key" -out "$pki/$name.csr" -subj "/CN=$name" 2>/dev/null
		printf 'subjectAltName=%s:%s\nextendedKeyUsage=%s\n' "$kind" "$value" "$eku" >"$pki/$name.ext"
		openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
			-CAcreateserial -days 2 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
	done)
read -r cport pport < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
etcd --name unit --data-dir "$work/data" \
	--listen-client-urls "https://127.0.0.1:$cport" \
	--advertise-client-urls "https://127.0.0.1:$cport" \
	--listen-peer-urls "http://127.0.0.1:$pport" \
	--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
	--initial-cluster "unit=http://127.0.0.1:$pport" \
	--cert-file "$pki/etcd.crt" --key-file "$pki/etcd.key" \
	--client-cert-auth --trusted-ca-file "$pki/ca.crt" >"$work/etcd.log" 2>&1 &
epid=$!
for _ in $(seq 100); do
	curl -s --max-time 1 --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
		--key "$pki/client.key" "https://127.0.0.1:$cport/health" | grep -q true && break
	sleep 0.1
done
MB_TEST_ETCD_ENDPOINT=https://127.0.0.1:$cport MB_TEST_ETCD_CA=$pki/ca.crt \
	MB_TEST_ETCD_CERT=$pki/client.crt MB_TEST_ETCD_KEY=$pki/client.key \
	"$bin" || { tail -n 20 "$work/etcd.log" >&2; exit 1; }
