#!/usr/bin/env bash
# builder_store_etcd.sh: the certificates metalboot-build issues for
# provisioning.etcd run a real etcd, and the netboot.yaml it writes makes
# metalboot-netboot keep its store there. In a network namespace:
#   - the dedicated CA: one Debian etcd member on the certificate issued
#     for its endpoint host; etcdctl with netboot's client certificate
#     (OUT/pki/netboot-etcd) says healthy, without a certificate or with
#     one of another of our CAs (pki/netboot.crt) it is refused;
#     metalboot-netboot --config OUT/netboot.yaml loads etcd and registers
#     under the inventory's prefix, and its node record is there;
#   - cluster: true with etcd: external: the member runs on the etcd
#     node's own certificate (pki/etcd/NODE/server), the endpoint defaults
#     to its address :2379, and netboot's client certificate, signed by
#     the cluster's etcd CA, is let in.
# Needs root (ip netns); exit 77 when etcd or etcdctl is missing.
set -euo pipefail
b=${MB_BUILD_DIR:?}
mb=$b/builder/metalboot-build
nb=$b/netboot/metalboot-netboot
fail() {
	echo "FAIL: $*" >&2
	for f in "$work"/*.log; do echo "== $f"; tail -n 20 "$f"; done >&2
	exit 1
}
for t in etcd etcdctl ip; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (ip netns)"; exit 77; }
[[ -x $mb && -x $nb ]] || { echo "SKIP: not built"; exit 77; }
work=$(mktemp -d /tmp/mbbstore.XXXXXX)
ns=mbb$$
pids=()
stop() { # PID...: stop and reap our own processes
	local p
	for p in "$@"; do kill "$p" 2>/dev/null || true; done
	for p in "$@"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
cleanup() {
	stop "${pids[@]}"
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
for a in 1 2 31; do ip -n "$ns" addr add "10.77.0.$a/24" dev lo; done

member() { # NAME IP CRT KEY CA: one etcd member, its client port on IP
	local url=https://$2
	ip netns exec "$ns" etcd --name "$1" --data-dir "$work/data-$1" \
		--listen-client-urls "$url:2379" --advertise-client-urls "$url:2379" \
		--listen-peer-urls "$url:2380" --initial-advertise-peer-urls "$url:2380" \
		--initial-cluster "$1=$url:2380" --listen-metrics-urls "" \
		--cert-file "$3" --key-file "$4" --client-cert-auth --trusted-ca-file "$5" \
		--peer-cert-file "$3" --peer-key-file "$4" --peer-client-cert-auth \
		--peer-trusted-ca-file "$5" >"$work/etcd-$1.log" 2>&1 &
	pids+=($!)
}
ctl() { # ENDPOINT CA CERT KEY ARGS...: etcdctl from inside the namespace
	local ep=$1 ca=$2 crt=$3 key=$4
	shift 4
	ip netns exec "$ns" env ETCDCTL_API=3 etcdctl --endpoints="$ep" \
		--cacert="$ca" ${crt:+--cert="$crt"} ${key:+--key="$key"} \
		--dial-timeout=2s --command-timeout=4s "$@"
}
healthy() { # ctl's first four arguments: healthy within 20 s
	local end=$((SECONDS + 20))
	while ((SECONDS < end)); do
		ctl "$@" endpoint health >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

# The dedicated CA.
cat >"$work/own.yaml" <<'EOF'
cluster: {name: store, kubernetes_version: v1.31.1}
network: {server_ip: 10.77.0.1, subnet: 10.77.0.0/24}
provisioning:
  etcd:
    endpoints: [https://10.77.0.2:2379]
    prefix: /mbtest
nodes:
  - {name: cp1, mac: "52:54:00:00:01:01", ip: 10.77.0.11, role: control-plane}
EOF
"$mb" build "$work/own.yaml" -o "$work/own" --jobs 2 >"$work/build.log" 2>&1 ||
	fail "build (dedicated CA)"
pki=$work/own/pki
m=$pki/provisioning-etcd/member-10.77.0.2
member e1 10.77.0.2 "$m.crt" "$m.key" "$pki/provisioning-etcd/ca.crt"
ep=https://10.77.0.2:2379
healthy "$ep" "$pki/provisioning-etcd/ca.crt" "$pki/netboot-etcd.crt" \
	"$pki/netboot-etcd.key" || fail "etcd on the member certificate: not healthy"
! ctl "$ep" "$pki/provisioning-etcd/ca.crt" "" "" endpoint health >/dev/null 2>&1 ||
	fail "etcd let in a client without a certificate"
! ctl "$ep" "$pki/provisioning-etcd/ca.crt" "$pki/netboot.crt" "$pki/netboot.key" \
	endpoint health >/dev/null 2>&1 ||
	fail "etcd let in a certificate of the provisioning CA (not its own)"

ip netns exec "$ns" "$nb" --config "$work/own/netboot.yaml" --user root \
	--dhcp off --tftp-port 0 --http-port 8080 --https-port 0 \
	>"$work/netboot.log" 2>&1 &
npid=$!
pids+=($npid)
for _ in $(seq 100); do
	grep -q 'store: .* nodes after loading etcd' "$work/netboot.log" && break
	kill -0 "$npid" 2>/dev/null || fail "metalboot-netboot exited"
	sleep 0.1
done
grep -q 'store: .* nodes after loading etcd' "$work/netboot.log" ||
	fail "metalboot-netboot did not load etcd"
keys=
for _ in $(seq 30); do
	keys=$(ctl "$ep" "$pki/provisioning-etcd/ca.crt" "$pki/netboot-etcd.crt" \
		"$pki/netboot-etcd.key" get --prefix /mbtest/v1/ --keys-only)
	[[ $keys == *"/mbtest/v1/servers/"* && $keys == *"/mbtest/v1/nodes/52:54:00:00:01:01"* ]] &&
		break
	sleep 0.2
done
[[ $keys == *"/mbtest/v1/servers/"* ]] || fail "netboot is not registered: $keys"
[[ $keys == *"/mbtest/v1/nodes/52:54:00:00:01:01"* ]] ||
	fail "cp1's record is not in etcd: $keys"
stop "${pids[@]}"
pids=()

# cluster: true, external etcd: the etcd node's own certificate.
cat >"$work/cluster.yaml" <<'EOF'
cluster: {name: store, kubernetes_version: v1.31.1, etcd: external}
network: {server_ip: 10.77.0.1, subnet: 10.77.0.0/24}
provisioning:
  etcd: {cluster: true}
nodes:
  - {name: cp1, mac: "52:54:00:00:01:01", ip: 10.77.0.11, role: control-plane}
  - {name: e1, mac: "52:54:00:00:03:01", ip: 10.77.0.31, role: etcd}
EOF
"$mb" build "$work/cluster.yaml" -o "$work/cluster" --jobs 2 >"$work/build.log" 2>&1 ||
	fail "build (cluster: true)"
grep -q 'depends on the cluster it provisions' "$work/build.log" ||
	fail "cluster: true built without its warning"
pki=$work/cluster/pki
grep -q 'ca: pki/etcd/ca.crt' "$work/cluster/netboot.yaml" ||
	fail "store.etcd.ca is not the cluster's etcd CA"
member e1 10.77.0.31 "$pki/etcd/e1/server.crt" "$pki/etcd/e1/server.key" \
	"$pki/etcd/ca.crt"
healthy https://10.77.0.31:2379 "$pki/etcd/ca.crt" "$pki/netboot-etcd.crt" \
	"$pki/netboot-etcd.key" || fail "the cluster's etcd refused netboot's certificate"
echo "ok"
