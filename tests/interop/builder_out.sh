#!/usr/bin/env bash
# builder_out.sh - metalboot-build build against real peers: cloud-init's
# schema check on every user-data of the four examples, isoinfo on every
# seed ISO, openssl for the CA pin and the certificate chains (also those
# of provisioning.etcd in its three modes), sha256sum -c,
# reproducibility (two builds, even in another directory, are identical),
# a failed build leaving the previous OUT untouched, and file modes.
set -euo pipefail
build=${MB_BUILD_DIR:?}/builder/metalboot-build
src=${MB_SOURCE_DIR:?}
[[ -x $build ]] || { echo "skip: $build not built"; exit 77; }
for tool in isoinfo openssl sha256sum; do
	command -v "$tool" >/dev/null || { echo "skip: no $tool"; exit 77; }
done
have_cloudinit=1
command -v cloud-init >/dev/null || have_cloudinit=0
T=$(mktemp -d)
trap 'rm -rf "$T" 2>/dev/null || true' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export SOURCE_DATE_EPOCH=1700000000

pin() { # CA certificate -> kubeadm's pin, by the documented recipe
	echo "sha256:$(openssl x509 -pubkey -noout -in "$1" |
		openssl pkey -pubin -outform der |
		openssl dgst -sha256 -hex | sed 's/^.* //')"
}

mode() { stat -c %a "$1"; }

for ex in single lab ha-stacked ha-external-etcd ha-vip; do
	out=$T/$ex
	"$build" build "$src/profiles/examples/$ex.yaml" -o "$out" --jobs 2 ||
		fail "$ex: build failed"

	# The CA pin and the chains.
	[[ $(cat "$out/discovery-hash") == "$(pin "$out/pki/ca.crt")" ]] ||
		fail "$ex: discovery-hash differs from the openssl recipe"
	openssl verify -CAfile "$out/pki/provisioning-ca.crt" \
		"$out/pki/netboot.crt" >/dev/null ||
		fail "$ex: netboot.crt does not chain to the provisioning CA"
	openssl x509 -noout -ext subjectAltName -in "$out/pki/netboot.crt" |
		grep -q "IP Address:192.168.100.1" ||
		fail "$ex: netboot.crt lacks IP:server_ip"
	for ca in ca front-proxy-ca etcd/ca provisioning-ca; do
		openssl verify -CAfile "$out/pki/$ca.crt" "$out/pki/$ca.crt" \
			>/dev/null || fail "$ex: $ca.crt is not a valid CA"
	done
	if [[ $ex == ha-external-etcd ]]; then
		openssl verify -CAfile "$out/pki/etcd/ca.crt" \
			"$out/pki/apiserver-etcd-client.crt" \
			"$out/pki"/etcd/etcd*/server.crt \
			"$out/pki"/etcd/etcd*/peer.crt >/dev/null ||
			fail "$ex: etcd certificates do not chain"
		openssl x509 -noout -ext subjectAltName \
			-in "$out/pki/etcd/etcd2/server.crt" |
			grep -q "IP Address:192.168.100.32" ||
			fail "$ex: etcd2's server certificate lacks its IP"
	fi

	# Modes: keys and secrets 0600.
	while read -r f; do
		[[ $(mode "$f") == 600 ]] || fail "$f is $(mode "$f"), not 600"
	done < <(find "$out/pki" -name '*.key'; find "$out/secrets" -type f
		find "$out/nodes" -name firstboot.yaml -o -name kubeadm.yaml \
			-o -name user-data -o -name seed.iso -o -name secrets.tar)
	[[ $(mode "$out/pki/ca.crt") == 644 ]] || fail "ca.crt mode"
	grep -Eq '^[a-z0-9]{6}\.[a-z0-9]{16}$' "$out/secrets/bootstrap-token" ||
		fail "$ex: malformed bootstrap token"
	grep -Eq '^[0-9a-f]{64}$' "$out/secrets/certificate-key" ||
		fail "$ex: malformed certificate key"

	# SHA256SUMS: everything but pki/ and secrets/, and it checks.
	(cd "$out" && sha256sum --quiet -c SHA256SUMS) ||
		fail "$ex: sha256sum -c SHA256SUMS"
	! grep -Eq '  (pki|secrets)/' "$out/SHA256SUMS" ||
		fail "$ex: SHA256SUMS lists pki/ or secrets/"
	(cd "$out" && find . -type f ! -path './pki/*' ! -path './secrets/*' \
		! -name SHA256SUMS | sed 's|^\./||' | sort) >"$T/files"
	sed 's/^[0-9a-f]*  //' "$out/SHA256SUMS" | sort >"$T/summed"
	cmp -s "$T/files" "$T/summed" || fail "$ex: SHA256SUMS is incomplete"
	! grep -rq "$T" "$out" || fail "$ex: the OUT path is embedded"

	for node in "$out"/nodes/*; do
		name=${node##*/}
		ud=$node/cloud-init/user-data
		[[ $(head -n1 "$ud") == "#cloud-config" ]] ||
			fail "$name: user-data header"
		if ((have_cloudinit)); then
			cloud-init schema --config-file "$ud" >/dev/null ||
				fail "$ex/$name: cloud-init schema rejects user-data"
		fi
		iso=$node/seed.iso
		isoinfo -d -i "$iso" | grep -qi '^Volume id: cidata$' ||
			fail "$name: seed.iso volume id is not cidata"
		isoinfo -d -i "$iso" | grep -q 'Joliet' ||
			fail "$name: seed.iso has no Joliet"
		isoinfo -d -i "$iso" | grep -q 'Rock Ridge' ||
			fail "$name: seed.iso has no Rock Ridge"
		# NoCloud-net's user-data goes out over plain HTTP: no key,
		# no token, no certificate key, no kubeadm.yaml; it fetches
		# the rest over HTTPS pinned to the provisioning CA.
		! grep -Eq 'PRIVATE KEY|kubeadm.k8s.io|bootstrapToken' "$ud" ||
			fail "$ex/$name: NoCloud-net user-data holds a secret"
		! grep -Fq -e "$(cat "$out/secrets/bootstrap-token")" \
			-e "$(cat "$out/secrets/certificate-key")" "$ud" ||
			fail "$ex/$name: NoCloud-net user-data holds the token"
		grep -q -- "--cacert /var/lib/metalboot/provisioning-ca.crt" "$ud" ||
			fail "$ex/$name: user-data does not pin the provisioning CA"
		# The bundle: the keys and kubeadm.yaml, 0600, as root, and
		# exactly the files the ISO's user-data holds beyond the net one.
		tar -tvf "$node/secrets.tar" >"$T/tv" ||
			fail "$ex/$name: secrets.tar is not a tar archive"
		awk '$1 != "-rw-------" || $2 != "root/root" { exit 1 }' "$T/tv" ||
			fail "$ex/$name: secrets.tar holds a file not 0600 root"
		grep -q ' var/lib/metalboot/kubeadm.yaml$' "$T/tv" ||
			fail "$ex/$name: secrets.tar lacks kubeadm.yaml"
		isoinfo -R -i "$iso" -x /user-data >"$T/iso-ud"
		grep -q 'PRIVATE KEY\|kubeadm.k8s.io' "$T/iso-ud" ||
			fail "$ex/$name: the ISO's user-data is not self-contained"
		if ((have_cloudinit)); then
			cloud-init schema --config-file "$T/iso-ud" >/dev/null ||
				fail "$ex/$name: cloud-init schema rejects the ISO's user-data"
		fi
		mkdir -p "$T/unpack/$name"
		tar -xf "$node/secrets.tar" -C "$T/unpack/$name"
		python3 - "$T/iso-ud" "$ud" "$T/unpack/$name" <<'PY' ||
import os, sys, yaml
local = {f["path"]: f["content"] for f in yaml.safe_load(open(sys.argv[1]))["write_files"]}
net = {f["path"] for f in yaml.safe_load(open(sys.argv[2]))["write_files"]}
for path, content in local.items():
    if path in net:
        continue
    got = open(sys.argv[3] + path).read()
    assert got == content, path
    assert os.stat(sys.argv[3] + path).st_mode & 0o777 == 0o600, path
PY
			fail "$ex/$name: a file of the ISO's user-data is in neither"
		for f in meta-data network-config; do
			isoinfo -J -i "$iso" -x "/$f" >"$T/x"
			cmp -s "$T/x" "$node/cloud-init/$f" ||
				fail "$name: Joliet /$f differs from the payload"
			isoinfo -R -i "$iso" -x "/$f" >"$T/x"
			cmp -s "$T/x" "$node/cloud-init/$f" ||
				fail "$name: Rock Ridge /$f differs from the payload"
		done
		grep -q "metalboot.mac=$(sed -n 's/.*mac: "\([^"]*\)".*/\1/p' \
			"$node/firstboot.yaml" | head -n1)" "$out/boot/$name.ipxe" ||
			fail "$name: the iPXE script does not carry the MAC"
	done
	[[ $have_cloudinit == 1 ]] || echo "note: cloud-init missing, schema not checked"
done

# The VIP: its password is a secret of its own; it is the endpoint workers
# join through and an API server SAN; only control planes run keepalived.
v=$T/ha-vip
grep -Eq '^[a-z0-9]{8}$' "$v/secrets/vrrp-auth-pass" ||
	fail "ha-vip: malformed vrrp-auth-pass"
grep -Eq 'apiServerEndpoint: "?192.168.100.10:8443"?$' "$v/nodes/w1/kubeadm.yaml" ||
	fail "ha-vip: w1 does not join through the VIP"
grep -Eq 'controlPlaneEndpoint: "?192.168.100.10:8443"?$' "$v/nodes/cp1/kubeadm.yaml" ||
	fail "ha-vip: the VIP is not the endpoint"
[[ $(grep -A3 'certSANs' "$v/nodes/cp1/kubeadm.yaml") == *192.168.100.10* ]] ||
	fail "ha-vip: the VIP is not an API server SAN"
grep -q "auth_pass $(cat "$v/secrets/vrrp-auth-pass")" \
	"$v/nodes/cp3/firstboot.yaml" || fail "ha-vip: cp3's auth_pass"
! grep -q 'keepalived' "$v/nodes/w1/firstboot.yaml" \
	"$v/nodes/w1/cloud-init/user-data" || fail "ha-vip: keepalived on w1"
! grep -rq "$(cat "$v/secrets/vrrp-auth-pass")" "$v/public" "$v/boot" \
	"$v/netboot.yaml" || fail "ha-vip: the VRRP password is public"
# Over plain HTTP (NoCloud-net) only the secret bundle carries it.
! grep -q "$(cat "$v/secrets/vrrp-auth-pass")" \
	"$v/nodes/cp1/cloud-init/user-data" ||
	fail "ha-vip: the VRRP password is in cp1's NoCloud-net user-data"
tar -xOf "$v/nodes/cp1/secrets.tar" etc/keepalived/keepalived.conf |
	grep -q "auth_pass $(cat "$v/secrets/vrrp-auth-pass")" ||
	fail "ha-vip: keepalived.conf is not in cp1's secret bundle"

# Workers hold no private key.
for fb in "$T"/lab/nodes/w*/firstboot.yaml; do
	! grep -q 'PRIVATE KEY' "$fb" || fail "$fb holds a private key"
done

# A local CNI manifest is published and pinned; docker with mirrors.
printf 'kind: List\nitems: []\n' >"$T/cni.yaml"
sed -e 's|cni: { name: flannel, manifest: null }|cni: { name: flannel, manifest: cni.yaml }|' \
	-e 's|container_runtime: containerd|container_runtime: docker|' \
	-e 's|registry_mirrors: \[\]|registry_mirrors: ["https://mirror.example/#a:b"]|' \
	"$src/profiles/examples/lab.yaml" >"$T/cni-lab.yaml"
"$build" build "$T/cni-lab.yaml" -o "$T/cni" \
	--apt-repo "https://mirror.example/kubernetes/core/stable/v1.30/deb/" ||
	fail "build with a CNI manifest"
grep -q "https://mirror.example/kubernetes/core/stable/v1.30/deb/ /" \
	"$T/cni/nodes/w1/cloud-init/user-data" || fail "--apt-repo not used"
cmp -s "$T/cni.yaml" "$T/cni/public/manifests/flannel.yaml" ||
	fail "the CNI manifest is not published under public/manifests/"
sum=$(sha256sum "$T/cni.yaml" | cut -d' ' -f1)
grep -q "manifest: http://192.168.100.1:80/files/manifests/flannel.yaml" \
	"$T/cni/nodes/cp1/firstboot.yaml" || fail "firstboot cni.manifest"
grep -q "sha256: \"\?$sum" "$T/cni/nodes/cp1/firstboot.yaml" ||
	fail "firstboot cni.sha256"
! grep -q '^cni:' "$T/cni/nodes/w1/firstboot.yaml" || fail "cni on a worker"
# docker: kubelet's CRI is the containerd docker.io runs on, set up too.
! grep -rq 'cri-dockerd' "$T/cni/nodes" || fail "docker points kubelet at cri-dockerd"
grep -q 'criSocket: unix:///var/run/containerd/containerd.sock' \
	"$T/cni/nodes/w1/kubeadm.yaml" || fail "docker: criSocket"
grep -q 'SystemdCgroup = true' "$T/cni/nodes/w1/cloud-init/user-data" ||
	fail "docker: containerd not configured by cloud-init"
grep -q '/etc/containerd/certs.d/docker.io/hosts.toml' \
	"$T/cni/nodes/w1/cloud-init/user-data" || fail "docker: no containerd mirror"
grep -q "public/manifests/flannel.yaml" "$T/cni/SHA256SUMS" ||
	fail "the manifest is not in SHA256SUMS"
if ((have_cloudinit)); then
	for ud in "$T"/cni/nodes/*/cloud-init/user-data; do
		cloud-init schema --config-file "$ud" >/dev/null ||
			fail "cloud-init schema rejects $ud (docker)"
	done
fi
sed 's|manifest: cni.yaml|manifest: "https://example.com/cni.yaml"|' \
	"$T/cni-lab.yaml" >"$T/cni-url.yaml"
set +e
"$build" build "$T/cni-url.yaml" -o "$T/cni-url" 2>"$T/err"
rc=$?
set -e
((rc == 1)) || fail "a manifest URL without sha256 gave exit $rc"
grep -q "cni.sha256" "$T/err" || fail "no word on cni.sha256"

# provisioning.etcd: netboot.yaml's store.etcd names the files the PKI
# issued; they chain to the right CA with the EKUs and SANs etcd wants,
# keys are 0600, and a rebuild keeps them.
store_inv() { # EXAMPLE FLOW-MAP OUT: the example with provisioning.etcd
	{ cat "$src/profiles/examples/$1.yaml"
	  printf 'provisioning:\n  etcd: %s\n' "$2"; } >"$3"
}
store_check() { # OUT CA ENDPOINT...: netboot.yaml's store.etcd
	python3 - "$@" <<'PY'
import sys, yaml
out, ca, eps = sys.argv[1], sys.argv[2], sys.argv[3:]
e = yaml.safe_load(open(out + "/netboot.yaml"))["store"]["etcd"]
want = {"endpoints": eps, "ca": ca, "cert": "pki/netboot-etcd.crt",
        "key": "pki/netboot-etcd.key"}
if "prefix" in e:
    want["prefix"] = e["prefix"]
assert e == want, (e, want)
PY
}
eku() { openssl x509 -noout -ext extendedKeyUsage -in "$1" | sed -n 2p | tr -d ' '; }
san() { openssl x509 -noout -ext subjectAltName -in "$1" | sed -n 2p | tr -d ' '; }
s=$T/store
p=$s/pki/provisioning-etcd
store_inv lab '{endpoints: [https://192.168.100.5:2379, https://192.168.100.6:2379,
    https://192.168.100.5:22379, "https://etcd3.example:2379"], prefix: /metalboot/lab}' \
	"$T/store.yaml"
"$build" build "$T/store.yaml" -o "$s" --jobs 2 2>"$T/err" ||
	fail "build with provisioning.etcd: $(cat "$T/err")"
store_check "$s" pki/provisioning-etcd/ca.crt https://192.168.100.5:2379 \
	https://192.168.100.6:2379 https://192.168.100.5:22379 \
	https://etcd3.example:2379 || fail "store: netboot.yaml's store.etcd"
grep -q '^    prefix: /metalboot/lab$' "$s/netboot.yaml" || fail "store: prefix"
openssl verify -CAfile "$p/ca.crt" "$s/pki/netboot-etcd.crt" "$p"/member-*.crt \
	>/dev/null || fail "store: certificates do not chain to pki/provisioning-etcd/ca"
! openssl verify -CAfile "$s/pki/etcd/ca.crt" "$s/pki/netboot-etcd.crt" \
	>/dev/null 2>&1 || fail "store: the cluster's etcd CA signed the client"
[[ $(compgen -G "$p/member-*.crt" | wc -l) == 3 ]] || fail "store: one member per host"
[[ $(eku "$s/pki/netboot-etcd.crt") == TLSWebClientAuthentication ]] ||
	fail "store: client EKU $(eku "$s/pki/netboot-etcd.crt")"
for m in 192.168.100.5 192.168.100.6 etcd3.example; do
	[[ $(eku "$p/member-$m.crt") == TLSWebServerAuthentication,TLSWebClientAuthentication ]] ||
		fail "store: $m's EKU"
done
[[ $(san "$p/member-192.168.100.5.crt") == DNS:localhost,IPAddress:192.168.100.5,IPAddress:127.0.0.1 ]] ||
	fail "store: member SANs $(san "$p/member-192.168.100.5.crt")"
[[ $(san "$p/member-etcd3.example.crt") == DNS:etcd3.example,DNS:localhost,IPAddress:127.0.0.1 ]] ||
	fail "store: member SANs $(san "$p/member-etcd3.example.crt")"
while read -r f; do
	[[ $(mode "$f") == 600 ]] || fail "$f is $(mode "$f"), not 600"
done < <(find "$s/pki" -name '*.key')
[[ $(mode "$p") == 700 ]] || fail "store: pki/provisioning-etcd is $(mode "$p")"
cp -a "$s/pki" "$T/store-pki"
"$build" build "$T/store.yaml" -o "$s" --jobs 2 2>/dev/null || fail "store: rebuild"
diff -r "$T/store-pki" "$s/pki" >/dev/null || fail "store: a rebuild changed the PKI"

# An existing etcd's CA (paths relative to the inventory): it signs the
# client; its certificate is copied, its key stays out of OUT.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/site-ca.key" -out "$T/site-ca.crt" -days 2 \
	-subj /CN=site-etcd-ca 2>/dev/null
store_inv lab '{endpoints: ["https://etcd.site.example:2379"], ca: site-ca.crt,
    ca_key: site-ca.key}' "$T/store-ca.yaml"
"$build" build "$T/store-ca.yaml" -o "$T/store-ca" --jobs 2 2>"$T/err" ||
	fail "build with an existing etcd CA: $(cat "$T/err")"
store_check "$T/store-ca" pki/provisioning-etcd/external-ca.crt \
	https://etcd.site.example:2379 || fail "store (ca): netboot.yaml"
openssl verify -CAfile "$T/site-ca.crt" "$T/store-ca/pki/netboot-etcd.crt" \
	>/dev/null || fail "store (ca): the client does not chain to the site's CA"
cmp -s "$T/site-ca.crt" "$T/store-ca/pki/provisioning-etcd/external-ca.crt" ||
	fail "store (ca): external-ca.crt is not the site's CA"
! grep -rqF -- "$(sed -n 2p "$T/site-ca.key")" "$T/store-ca" ||
	fail "store (ca): the site CA's key is in OUT"
! compgen -G "$T/store-ca/pki/provisioning-etcd/member-*" >/dev/null ||
	fail "store (ca): member certificates for an etcd that has its own"

# cluster: true: the control planes' etcd, the cluster's etcd CA, and a
# warning saying why that is not the default.
store_inv ha-stacked '{cluster: true}' "$T/store-cl.yaml"
"$build" build "$T/store-cl.yaml" -o "$T/store-cl" --jobs 2 2>"$T/err" ||
	fail "build with cluster: true: $(cat "$T/err")"
grep -q "store-cl.yaml:[0-9]*:[0-9]*: warning: provisioning.etcd.cluster: true" \
	"$T/err" || fail "store (cluster): no warning"
store_check "$T/store-cl" pki/etcd/ca.crt https://192.168.100.11:2379 \
	https://192.168.100.12:2379 https://192.168.100.13:2379 ||
	fail "store (cluster): netboot.yaml"
openssl verify -CAfile "$T/store-cl/pki/etcd/ca.crt" \
	"$T/store-cl/pki/netboot-etcd.crt" >/dev/null ||
	fail "store (cluster): the client does not chain to the etcd CA"
# Without provisioning.etcd: no store, no such files.
! grep -q '^store:' "$T/lab/netboot.yaml" || fail "lab has a store"
! compgen -G "$T/lab/pki/netboot-etcd.*" >/dev/null || fail "lab has a client"

# Reproducible: a rebuild in place, and a build elsewhere from the same PKI.
ex=ha-external-etcd
cp -a "$T/$ex" "$T/copy"
"$build" build "$src/profiles/examples/$ex.yaml" -o "$T/$ex" ||
	fail "rebuild failed"
diff -r "$T/copy" "$T/$ex" >/dev/null || fail "a rebuild is not identical"
# The replaced tree is removed in the background, soon.
for ((i = 0; i < 300; i++)); do
	compgen -G "$T/.$ex.old-*" >/dev/null || break
	sleep 0.1
done
! compgen -G "$T/.$ex.old-*" >/dev/null || fail "the replaced tree stays"
mkdir "$T/elsewhere"
cp -a "$T/$ex/pki" "$T/$ex/secrets" "$T/elsewhere/"
"$build" build "$src/profiles/examples/$ex.yaml" -o "$T/elsewhere" ||
	fail "build elsewhere failed"
diff -r "$T/$ex" "$T/elsewhere" >/dev/null ||
	fail "a build in another directory is not identical"

# metalboot-netboot's state/ survives a rebuild and is not summed.
mkdir -p "$T/$ex/state/nodes" && echo lease >"$T/$ex/state/nodes/x"
"$build" build "$src/profiles/examples/$ex.yaml" -o "$T/$ex" ||
	fail "rebuild with state/ failed"
[[ $(cat "$T/$ex/state/nodes/x") == lease ]] || fail "state/ was lost"
! grep -q '  state/' "$T/$ex/SHA256SUMS" || fail "state/ is summed"
rm -rf "$T/$ex/state"

# The iso command with --from gives the node's seed.iso.
"$build" iso "$src/profiles/examples/$ex.yaml" cp2 -o "$T/cp2.iso" \
	--from "$T/$ex" || fail "iso command failed"
cmp -s "$T/cp2.iso" "$T/$ex/nodes/cp2/seed.iso" ||
	fail "iso --from differs from the build's seed.iso"

# A failing build (after the tree was written: the images step with a base
# that does not exist) leaves the previous OUT untouched and no temporary.
set +e
"$build" build "$src/profiles/examples/$ex.yaml" -o "$T/$ex" \
	--base "$T/no-such-rootfs" 2>"$T/err"
rc=$?
set -e
((rc != 0)) || fail "a build with a missing base succeeded"
diff -r "$T/copy" "$T/$ex" >/dev/null || fail "a failed build changed OUT"
! ls -d "$T"/.${ex}.tmp* 2>/dev/null || fail "a temporary was left behind"

# An inventory error is exit 1 with FILE:LINE:COL, OUT untouched.
sed 's/pod_subnet: 10.244.0.0\/16/pod_subnet: 10.244.0.1\/16/' \
	"$src/profiles/examples/$ex.yaml" >"$T/bad.yaml"
set +e
"$build" build "$T/bad.yaml" -o "$T/$ex" 2>"$T/err"
rc=$?
set -e
((rc == 1)) || fail "a bad inventory gave exit $rc, not 1"
grep -q "bad.yaml:[0-9]*:[0-9]*:" "$T/err" || fail "no FILE:LINE:COL"
diff -r "$T/copy" "$T/$ex" >/dev/null || fail "a refused build changed OUT"

# OUT must be ours: a directory with other files is never replaced.
mkdir "$T/precious" && echo data >"$T/precious/file"
set +e
"$build" build "$src/profiles/examples/lab.yaml" -o "$T/precious" 2>"$T/err"
rc=$?
set -e
((rc == 1)) || fail "building over a foreign directory gave exit $rc"
[[ $(cat "$T/precious/file") == data ]] || fail "a foreign OUT was touched"

# --rotate makes a new CA; the pin follows.
"$build" build "$src/profiles/examples/$ex.yaml" -o "$T/$ex" --rotate ||
	fail "--rotate failed"
! cmp -s "$T/copy/pki/ca.crt" "$T/$ex/pki/ca.crt" || fail "--rotate kept the CA"
[[ $(cat "$T/$ex/discovery-hash") == "$(pin "$T/$ex/pki/ca.crt")" ]] ||
	fail "pin after --rotate"
# Let the background removals of replaced trees finish before cleaning up.
for ((i = 0; i < 300; i++)); do
	compgen -G "$T/.*.old-*" >/dev/null || break
	sleep 0.1
done
echo "ok"
