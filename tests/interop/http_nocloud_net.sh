#!/usr/bin/env bash
# http_nocloud_net.sh: a NoCloud-net node end to end, minus cloud-init:
# metalboot-build builds the lab (on a private subnet), metalboot-netboot
# serves it in a network namespace, and the secrets runcmd step of cp1's
# user-data, run as written from a second namespace that holds cp1's
# address, fetches its secret bundle over HTTPS pinned to the provisioning
# CA and unpacks the keys and kubeadm.yaml, 0600. The same step fails
# without curl (a clear message), from another node's address (403), over
# plain HTTP (403), and once the node is done (410). Two paths are moved
# under a scratch root (the CA file and tar's -C /) so that the test does
# not write to this machine's /etc.
# Needs root (ip netns) and python3 with yaml; exit 77 (skip) otherwise.
set -uo pipefail
build=${MB_BUILD_DIR:-$(pwd)}
src=${MB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
nb=$build/netboot/metalboot-netboot
mb=$build/builder/metalboot-build
if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null || ! command -v curl >/dev/null ||
	! python3 -c 'import yaml' 2>/dev/null; then
	echo "skip: needs root, ip, curl, python3-yaml"
	exit 77
fi
[[ -x $nb && -x $mb ]] || { echo "skip: not built"; exit 77; }
s=mbnc-$$-s
n=mbnc-$$-n
work=$(mktemp -d)
nb_pid=
cleanup() {
	[[ -n $nb_pid ]] && kill "$nb_pid" 2>/dev/null && wait "$nb_pid" 2>/dev/null
	ip netns del "$s" 2>/dev/null || true
	ip netns del "$n" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fails=0
check() {
	if [[ "$2" == "$3" ]]; then echo "ok: $1"; else
		echo "FAIL: $1: expected '$2', got '$3'"; fails=$((fails + 1)); fi
}

# The lab on 10.213.0.0/24: server .1, cp1 .11, w1 .21.
sed 's/192\.168\.100\./10.213.0./g' "$src/profiles/examples/lab.yaml" >"$work/lab.yaml"
"$mb" build "$work/lab.yaml" -o "$work/out" >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log"; echo "FAIL: build"; exit 1; }
out=$work/out

ip netns add "$s"
ip netns add "$n"
ip -n "$s" link add srv0 type veth peer name node0 netns "$n"
ip -n "$s" addr add 10.213.0.1/24 dev srv0
ip -n "$n" addr add 10.213.0.11/24 dev node0
for ns in "$s" "$n"; do ip -n "$ns" link set lo up; done
ip -n "$s" link set srv0 up
ip -n "$n" link set node0 up
ip netns exec "$s" "$nb" --user root --config "$out/netboot.yaml" --dhcp off --tftp-port 0 \
	>"$work/nb.log" 2>&1 &
nb_pid=$!
for _ in $(seq 100); do
	ip netns exec "$n" curl -s -o /dev/null http://10.213.0.1/metrics && break
	sleep 0.1
done

# step NODE ROOT [SED...]: write NODE's secrets runcmd step (with its paths
# moved under ROOT) to $work/step.sh and print its URL.
step() {
	python3 - "$out/nodes/$1/cloud-init/user-data" "$2" "$work/step.sh" <<'PY'
import sys, yaml
ud = yaml.safe_load(open(sys.argv[1]))
root = sys.argv[2]
# runcmd: "set -e", the check for the tools packages: installs, then the
# secrets step, before anything that may need a key or the token.
assert ud["runcmd"][0] == "set -e", ud["runcmd"][0]
assert "command -v" in ud["runcmd"][1][2], ud["runcmd"][1]
argv = ud["runcmd"][2]
assert argv[:2] == ["sh", "-c"] and "/secrets" in argv[3], argv
ca = "/var/lib/metalboot/provisioning-ca.crt"
content = [f["content"] for f in ud["write_files"] if f["path"] == ca][0]
import os
os.makedirs(root + os.path.dirname(ca), exist_ok=True)
open(root + ca, "w").write(content)
script = argv[2].replace(ca, root + ca).replace("-C /", "-C " + root)
open(sys.argv[3], "w").write(script)
print(argv[3])
PY
}
run_step() { # run_step URL [ENV...]: the step from the node's namespace
	local url=$1
	shift
	ip netns exec "$n" env "$@" /bin/sh -c "$(cat "$work/step.sh")" "$url"
}

root=$work/root-cp1
url=$(step cp1 "$root")
check "URL" "https://10.213.0.1:443/v1/nodes/52:54:00:00:01:01/secrets" "$url"
# No curl: a clear message, nothing fetched.
mkdir -p "$work/nocurl"
for t in mktemp tar rm; do ln -sf "$(command -v $t)" "$work/nocurl/$t"; done
msg=$(run_step "$url" PATH="$work/nocurl" 2>&1)
check "no curl: fails" 1 "$?"
check "no curl: says so" 1 "$(grep -c 'curl is not installed' <<<"$msg")"
# Plain HTTP: refused, nothing unpacked.
run_step "${url/https:\/\/10.213.0.1:443/http://10.213.0.1:80}" >/dev/null 2>&1
check "over plain HTTP: curl 22 (403)" 22 "$?"
check "over plain HTTP: nothing unpacked" no "$([[ -e $root/etc/kubernetes/pki/ca.key ]] && echo yes || echo no)"
# Another node's bundle from cp1's address: 403.
wurl=$(step w1 "$work/root-w1")
run_step "$wurl" >/dev/null 2>&1
check "w1's secrets from cp1's address: curl 22 (403)" 22 "$?"
# The step as written, from cp1's address.
url=$(step cp1 "$root")
run_step "$url"
check "step succeeds" 0 "$?"
for f in ca.key sa.key front-proxy-ca.key etcd/ca.key; do
	check "$f unpacked" "$(sha256sum <"$out/pki/$f")" \
		"$(sha256sum <"$root/etc/kubernetes/pki/$f" 2>/dev/null)"
	check "$f mode" 600 "$(stat -c %a "$root/etc/kubernetes/pki/$f" 2>/dev/null)"
done
check "kubeadm.yaml unpacked" "$(sha256sum <"$out/nodes/cp1/kubeadm.yaml")" \
	"$(sha256sum <"$root/var/lib/metalboot/kubeadm.yaml" 2>/dev/null)"
check "kubeadm.yaml mode" 600 "$(stat -c %a "$root/var/lib/metalboot/kubeadm.yaml" 2>/dev/null)"
# Done: 410, the step fails.
ip netns exec "$n" curl -s -o /dev/null --cacert "$out/pki/provisioning-ca.crt" \
	-X POST --data-binary '{"step":"done","status":"ok"}' \
	https://10.213.0.1/v1/nodes/52:54:00:00:01:01/events
rm -rf "$root"
url=$(step cp1 "$root")
run_step "$url" >/dev/null 2>&1
check "after done: curl 22 (410)" 22 "$?"
check "after done: nothing unpacked" no "$([[ -e $root/etc/kubernetes/pki/ca.key ]] && echo yes || echo no)"
timeline=$(ip netns exec "$n" curl -s http://10.213.0.1/v1/nodes | python3 -c '
import json, sys
print(" ".join(t["event"] for t in json.load(sys.stdin)["nodes"][0]["timeline"]))')
check "timeline" "secret-refused secrets done:ok secret-refused" "$timeline"
kill "$nb_pid"; wait "$nb_pid" 2>/dev/null; nb_pid=
check "no key in the server log" 0 "$(grep -c 'PRIVATE KEY' "$work/nb.log")"
if ((fails > 0)); then
	echo "--- server log"; cat "$work/nb.log"; echo "$fails check(s) failed"; exit 1
fi
echo "all checks passed"
