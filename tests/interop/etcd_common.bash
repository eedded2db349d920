# etcd_common.bash - sourced by tests/interop/store_*.sh: three Debian
# etcd-server members with TLS (certificates made here with openssl) in
# network namespaces on one bridge of a hub namespace, and the helpers
# the tests share. Not a test itself (the test glob takes *.sh only).
#
# The caller sets tag (a unique prefix for namespaces) and an array
# extra_ns of its own namespaces; it calls etcd_up, then plugs its
# servers and clients with plug. Cleanup kills only the PIDs recorded
# in epids and npids and deletes only the namespaces named here.

b=${MB_BUILD_DIR:?}
nb_bin=$b/netboot/metalboot-netboot
for t in etcd etcdctl openssl curl python3 ip busybox; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (ip netns)"; exit 77; }
[[ -x $nb_bin ]] || { echo "SKIP: $nb_bin not built"; exit 77; }
work=$(mktemp -d /tmp/mbstore.XXXXXX)
hub=$tag-hub
ens=("$tag-e1" "$tag-e2" "$tag-e3")
epids=(0 0 0)
npids=()
extra_ns=()
fail() {
	echo "FAIL: $*" >&2
	for f in "$work"/nb*.log; do echo "== $f"; tail -n 30 "$f"; done >&2
	exit 1
}
kill_wait() { # PID...: stop and reap our own processes
	local p
	for p in "$@"; do ((p > 0)) && kill "$p" 2>/dev/null || true; done
	for p in "$@"; do
		((p > 0)) || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
}
cleanup() {
	kill_wait "${npids[@]}" "${epids[@]}"
	wait 2>/dev/null || true
	for p in "${ens[@]}" "${extra_ns[@]}" "$hub"; do
		ip netns del "$p" 2>/dev/null || true
		rm -rf "/etc/netns/$p"
	done
	rm -rf "$work"
}
trap cleanup EXIT

pki=$work/pki
leaf() { # NAME SAN EKU: a key and a certificate signed by the test CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$1" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$2" "$3" >"$pki/$1.ext"
	openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" \
		-CAkey "$pki/ca.key" -CAcreateserial -days 2 \
		-extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
	chmod 0600 "$pki/$1.key"
}
# The CA, each member's certificate (server and peer, its IP) and the
# servers' client certificate.
make_pki() {
	mkdir -p "$pki"
	(umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$pki/ca.key" -out "$pki/ca.crt" -days 2 \
			-subj /CN=test-etcd-ca 2>/dev/null)
	for i in 1 2 3; do
		leaf "etcd$i" "IP:10.78.0.1$i,IP:127.0.0.1,DNS:etcd$i.mbtest" serverAuth,clientAuth
	done
	leaf netboot "DNS:netboot" clientAuth
}
plug() { # NS IFACE BRIDGE ADDR/LEN [MAC]: a veth from NS to a bridge
	local port=p$RANDOM$RANDOM
	ip -n "$hub" link add "$port" type veth peer name "$2" netns "$1"
	ip -n "$hub" link set "$port" master "$3" up
	[[ -n ${5:-} ]] && ip -n "$1" link set "$2" address "$5"
	[[ $4 != - ]] && ip -n "$1" addr add "$4" dev "$2"
	ip -n "$1" link set "$2" up
	ip -n "$1" link set lo up
}
cluster=etcd1=https://10.78.0.11:2380,etcd2=https://10.78.0.12:2380,etcd3=https://10.78.0.13:2380
start_member() { # I (1..3): a member in its namespace, its data kept
	local i=$1 ip=10.78.0.1$1
	ip netns exec "${ens[$((i - 1))]}" etcd --name "etcd$i" \
		--data-dir "$work/data$i" \
		--listen-client-urls "https://$ip:2379" \
		--advertise-client-urls "https://$ip:2379" \
		--listen-peer-urls "https://$ip:2380" \
		--initial-advertise-peer-urls "https://$ip:2380" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--cert-file "$pki/etcd$i.crt" --key-file "$pki/etcd$i.key" \
		--client-cert-auth --trusted-ca-file "$pki/ca.crt" \
		--peer-cert-file "$pki/etcd$i.crt" --peer-key-file "$pki/etcd$i.key" \
		--peer-client-cert-auth --peer-trusted-ca-file "$pki/ca.crt" \
		>>"$work/etcd$i.log" 2>&1 &
	epids[$((i - 1))]=$!
}
all=https://10.78.0.11:2379,https://10.78.0.12:2379,https://10.78.0.13:2379
ctl() {
	ip netns exec "$hub" env ETCDCTL_API=3 etcdctl --endpoints="$all" \
		--cacert="$pki/ca.crt" --cert="$pki/netboot.crt" \
		--key="$pki/netboot.key" --dial-timeout=2s --command-timeout=4s "$@"
}
# The hub with bridge bre (etcd, 10.78.0.1) and BRIDGE... for segments;
# the three members, healthy.
etcd_up() {
	local br healthy=0 i
	make_pki
	ip netns add "$hub"
	for br in bre "$@"; do
		ip -n "$hub" link add "$br" type bridge
		ip -n "$hub" link set "$br" up
	done
	ip -n "$hub" addr add 10.78.0.1/24 dev bre
	ip -n "$hub" link set lo up
	for i in 1 2 3; do
		ip netns add "${ens[$((i - 1))]}"
		plug "${ens[$((i - 1))]}" eth0 bre "10.78.0.1$i/24"
		start_member $i
	done
	for _ in $(seq 60); do
		healthy=$(ctl endpoint health 2>&1 | grep -c 'is healthy' || true)
		((healthy == 3)) && break
		sleep 0.5
	done
	((healthy == 3)) || { tail -n 20 "$work"/etcd*.log >&2; fail "etcd: $healthy/3 healthy"; }
}
# The store.etcd section every server's netboot.yaml ends with.
store_yaml() {
	cat <<EOF
store:
  etcd:
    endpoints: [https://10.78.0.11:2379, https://10.78.0.12:2379, https://10.78.0.13:2379]
    ca: $pki/ca.crt
    cert: $pki/netboot.crt
    key: $pki/netboot.key
    prefix: /mbtest
EOF
}
wait_for() { # DESC WANT CMD...: poll CMD until it prints WANT (15 s)
	local desc=$1 want=$2 got=
	shift 2
	for _ in $(seq 150); do
		got=$("$@" || true)
		[[ $got == "$want" ]] && return 0
		sleep 0.1
	done
	fail "$desc: got '$got', want '$want'"
}
# Server S (its namespace nbs[S], OUT $work/outS) as USER (default
# root), until it has loaded etcd; its PID in npids[S].
start_server() { # S [USER]
	local s=$1
	ip netns exec "${nbs[$s]}" "$nb_bin" --user "${2:-root}" \
		--config "$work/out$s/netboot.yaml" >>"$work/nb$s.log" 2>&1 &
	npids[$s]=$!
	for _ in $(seq 100); do
		grep -q 'store: .* nodes after loading etcd' "$work/nb$s.log" && return 0
		kill -0 "${npids[$s]}" 2>/dev/null || fail "server $s exited"
		sleep 0.1
	done
	fail "server $s did not load etcd"
}
no_sanitizer_report() {
	if grep -E 'ERROR: [A-Za-z]*Sanitizer|runtime error' "$work"/nb*.log >&2; then
		fail "sanitizer report"
	fi
	if grep -q 'BEGIN\|PRIVATE KEY' "$work"/nb*.log; then
		fail "a key in the log"
	fi
}
