#!/usr/bin/env bash
# etcd_external.sh: the external-etcd example's certificates run a real
# etcd cluster. metalboot-build builds profiles/examples/ha-external-etcd
# .yaml; Debian's etcd-server runs its three members, each in a network
# namespace at its inventory address on one bridge, with the command line
# kubeadm gives etcd's static pod (kubeadm's flags, then the extraArgs of
# the member's rendered kubeadm.yaml) and the member's server and peer
# certificates from OUT/pki/etcd/NODE. Then, from a fourth namespace at the
# server's address:
#   - with the API server's etcd client certificate, etcdctl's endpoint
#     health is 3/3 and a put is read back;
#   - a client without a certificate, or with one the etcd CA did not sign,
#     is refused;
#   - one member stopped, the two left keep quorum: health 2/3, puts and
#     gets still work.
# Needs root (ip netns); exit 77 when etcd or etcdctl is missing.
set -euo pipefail
b=${MB_BUILD_DIR:?}
s=${MB_SOURCE_DIR:?}
mb=$b/builder/metalboot-build
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in etcd etcdctl python3 openssl ip; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (ip netns)"; exit 77; }
[[ -x $mb ]] || { echo "SKIP: $mb not built"; exit 77; }
work=$(mktemp -d /tmp/mbetcd.XXXXXX)
tag=mbe$$
br=$tag-br
ns=("$tag-1" "$tag-2" "$tag-3")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	for p in "${ns[@]}" "$br"; do ip netns del "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

"$mb" build "$s/profiles/examples/ha-external-etcd.yaml" -o "$work/out" \
	>"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "build failed"; }
out=$work/out

# Each member's command line: kubeadm's own etcd flags (its static pod
# manifest, cmd/kubeadm/app/phases/etcd/local.go), then the extraArgs of
# the member's ClusterConfiguration, which win.
python3 - "$out" >"$work/members" <<'PY'
import sys, yaml
out = sys.argv[1]
for name in ("etcd1", "etcd2", "etcd3"):
    docs = list(yaml.safe_load_all(open(f"{out}/nodes/{name}/kubeadm.yaml")))
    cc = [d for d in docs if d and d.get("kind") == "ClusterConfiguration"][0]
    local = cc["etcd"]["local"]
    extra = {a["name"]: a["value"] for a in local["extraArgs"]}
    ip = local["serverCertSANs"][0]
    d = f"{out}/pki/etcd/{name}"
    ca = f"{out}/pki/etcd/ca.crt"
    flags = {
        "name": name,
        "experimental-initial-corrupt-check": "true",
        "experimental-watch-progress-notify-interval": "5s",
        "listen-client-urls": f"https://127.0.0.1:2379,https://{ip}:2379",
        "advertise-client-urls": f"https://{ip}:2379",
        "listen-peer-urls": f"https://{ip}:2380",
        "initial-advertise-peer-urls": f"https://{ip}:2380",
        "data-dir": local["dataDir"],
        "cert-file": f"{d}/server.crt", "key-file": f"{d}/server.key",
        "client-cert-auth": "true",
        "peer-cert-file": f"{d}/peer.crt", "peer-key-file": f"{d}/peer.key",
        "peer-client-cert-auth": "true",
        "trusted-ca-file": ca, "peer-trusted-ca-file": ca,
        "snapshot-count": "10000",
        "listen-metrics-urls": "http://127.0.0.1:2381",
    }
    flags.update(extra)
    assert flags["name"] == name and ip in flags["initial-cluster"], flags
    print(ip, " ".join(f"--{k}={v}" for k, v in flags.items()))
PY
mapfile -t members <"$work/members"
((${#members[@]} == 3)) || fail "three members expected"

ip netns add "$br"
ip -n "$br" link add br0 type bridge
ip -n "$br" addr add 192.168.100.1/24 dev br0
ip -n "$br" link set br0 up
ip -n "$br" link set lo up
ips=()
for i in 0 1 2; do
	read -r addr flags <<<"${members[$i]}"
	ips+=("$addr")
	ip netns add "${ns[$i]}"
	ip -n "$br" link add "p$i" type veth peer name eth0 netns "${ns[$i]}"
	ip -n "$br" link set "p$i" master br0 up
	ip -n "${ns[$i]}" addr add "$addr/24" dev eth0
	ip -n "${ns[$i]}" link set eth0 up
	ip -n "${ns[$i]}" link set lo up
	# The data directory is the member's own (kubeadm: /var/lib/etcd).
	flags=${flags//--data-dir=\/var\/lib\/etcd/--data-dir=$work/data$i}
	# shellcheck disable=SC2086
	ip netns exec "${ns[$i]}" etcd $flags >"$work/etcd$i.log" 2>&1 &
	pids+=($!)
done

ctl() { # ENDPOINTS ARGS...: etcdctl with the API server's client certificate
	local ep=$1
	shift
	ip netns exec "$br" env ETCDCTL_API=3 etcdctl --endpoints="$ep" \
		--cacert="$out/pki/etcd/ca.crt" --cert="$out/pki/apiserver-etcd-client.crt" \
		--key="$out/pki/apiserver-etcd-client.key" --dial-timeout=3s \
		--command-timeout=5s "$@"
}
all=$(printf 'https://%s:2379,' "${ips[@]}")
all=${all%,}
healthy=0
for _ in $(seq 60); do
	healthy=$(ctl "$all" endpoint health 2>&1 | grep -c 'is healthy' || true)
	((healthy == 3)) && break
	sleep 0.5
done
if ((healthy != 3)); then
	tail -n 20 "$work"/etcd*.log >&2
	fail "endpoint health: $healthy/3 healthy"
fi
ctl "$all" put /metalboot/probe "token-$$" >/dev/null || fail "put refused"
[[ $(ctl "https://${ips[2]}:2379" get /metalboot/probe --print-value-only) == "token-$$" ]] ||
	fail "get from another member"
members_n=$(ctl "$all" member list | grep -c started || true)
((members_n == 3)) || fail "member list: $members_n started"

# No client certificate, or one from another CA: refused.
if ip netns exec "$br" env ETCDCTL_API=3 etcdctl --endpoints="https://${ips[0]}:2379" \
	--cacert="$out/pki/etcd/ca.crt" --dial-timeout=3s --command-timeout=5s \
	get /metalboot/probe >"$work/nocert.out" 2>&1; then
	fail "a client without a certificate was served"
fi
if ip netns exec "$br" env ETCDCTL_API=3 etcdctl --endpoints="https://${ips[0]}:2379" \
	--cacert="$out/pki/etcd/ca.crt" --cert="$out/pki/netboot.crt" \
	--key="$out/pki/netboot.key" --dial-timeout=3s --command-timeout=5s \
	get /metalboot/probe >"$work/othercert.out" 2>&1; then
	fail "a client certificate from the provisioning CA was served"
fi

# One member down: quorum holds.
kill "${pids[0]}"
for _ in $(seq 50); do kill -0 "${pids[0]}" 2>/dev/null || break; sleep 0.1; done
left="https://${ips[1]}:2379,https://${ips[2]}:2379"
ctl "$left" put /metalboot/after "still-$$" >/dev/null || fail "put after a member stopped"
[[ $(ctl "$left" get /metalboot/after --print-value-only) == "still-$$" ]] ||
	fail "get after a member stopped"
healthy=$(ctl "$all" endpoint health 2>&1 | grep -c 'is healthy' || true)
((healthy == 2)) || fail "with one member down: $healthy/3 healthy, not 2"
echo "ok: 3 members on the builder's certificates, quorum kept with 2"
