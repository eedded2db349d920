#!/usr/bin/env bash
# cloudinit_payloads.sh - the cloud-init payloads against the tools that
# read them, on Debian and RHEL nodes of one inventory:
#   - cloud-init's own schema check on every user-data;
#   - network-config converted by the installed cloud-init (22.4, Debian
#     12's) for each renderer: eni, netplan, networkd, sysconfig; each
#     output has the address and the default route;
#   - the rendered commands: "set -e" first, the tools packages: installs
#     checked before use, apt's key before its list, kubelet/kubeadm/kubectl
#     pinned to the inventory's version and held (apt), or from yum_repos
#     with an exclude and --disableexcludes (rhel), no apt on rhel;
#   - the sandbox image at the mirror in both containerd configs, and
#     Debian's containerd reading the version-2 one (config dump); the
#     step that picks the config run with Debian's containerd (version 2)
#     and with one that says 2.x (version 3);
#   - kubernetes_version older than pkgs.k8s.io's channels: an error at its
#     line naming --apt-repo / --rpm-repo, gone with them;
#   - the CNI chain run for real (a local HTTP server, a recording kubectl):
#     a good manifest is applied with flannel's Network set to pod_subnet;
#     a checksum mismatch or a failed download applies nothing and says why;
#   - flannel, calico and weave each named without the no-CNI warning.
set -euo pipefail
build=${MB_BUILD_DIR:?}/builder/metalboot-build
[[ -x $build ]] || { echo "skip: $build not built"; exit 77; }
for tool in cloud-init python3; do
	command -v "$tool" >/dev/null || { echo "skip: no $tool"; exit 77; }
done
python3 -c 'import yaml' 2>/dev/null || { echo "skip: no python3-yaml"; exit 77; }
T=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A flannel-like manifest: net-conf.json's "Network" is what is rewritten.
cat >"$T/flannel.yaml" <<'EOF'
kind: ConfigMap
apiVersion: v1
metadata: {name: kube-flannel-cfg, namespace: kube-flannel}
data:
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "Backend": {"Type": "vxlan"}
    }
EOF
cp "$T/flannel.yaml" "$T/calico.yaml"
cp "$T/flannel.yaml" "$T/weave.yaml"

# inv NAME VERSION CNI [EXTRA-CLUSTER-LINE]: an inventory with a Debian
# control plane, a RHEL worker and a Debian worker.
inv() {
	cat >"$T/$1.yaml" <<EOF
cluster:
  name: $1
  kubernetes_version: $2
  pod_subnet: 10.10.0.0/16
  image_repository: registry.example.org/k8s
  registry_mirrors: ["https://mirror.example.org"]
  cni: {name: $3, manifest: $T/$3.yaml}
  ${4:-token_ttl: 24h}
network:
  server_ip: 10.213.0.1
  subnet: 10.213.0.0/24
  gateway: 10.213.0.254
  dns: [10.213.0.53]
nodes:
  - {name: cp1, mac: "52:54:00:00:01:01", ip: 10.213.0.11, role: control-plane}
  - {name: w1, mac: "52:54:00:00:02:01", ip: 10.213.0.21, role: worker, os_family: rhel}
  - {name: w2, mac: "52:54:00:00:02:02", ip: 10.213.0.22, role: worker}
EOF
}

inv mixed v1.30.2 flannel
"$build" build "$T/mixed.yaml" -o "$T/out" --jobs 2 2>"$T/build.err" ||
	{ cat "$T/build.err" >&2; fail "build failed"; }
if grep -q 'cni.manifest is not set' "$T/build.err"; then
	fail "no-CNI warning with a manifest"
fi
nodes=$T/out/nodes

for n in cp1 w1 w2; do
	cloud-init schema --config-file "$nodes/$n/cloud-init/user-data" \
		>/dev/null || fail "$n: cloud-init schema rejects user-data"
done

# network-config through every renderer of the installed cloud-init.
for r in eni netplan networkd sysconfig; do
	distro=debian
	[[ $r == sysconfig ]] && distro=rhel
	d=$T/net-$r
	cloud-init devel net-convert -p "$nodes/cp1/cloud-init/network-config" \
		-k yaml -d "$d" -D "$distro" -O "$r" >"$T/nc.log" 2>&1 ||
		{ cat "$T/nc.log" >&2; fail "net-convert -O $r failed"; }
	all=$(find "$d" -type f -exec cat {} +)
	case $r in
	eni) want=('address 10.213.0.11/24' 'default gw 10.213.0.254') ;;
	netplan) want=('10.213.0.11/24' 'via: 10.213.0.254') ;;
	networkd) want=('Address=10.213.0.11/24' 'Gateway=10.213.0.254'
		'Destination=0.0.0.0/0') ;;
	sysconfig) want=('IPADDR=10.213.0.11' 'GATEWAY=10.213.0.254') ;;
	esac
	for w in "${want[@]}"; do
		grep -qF "$w" <<<"$all" || fail "net-convert $r: no '$w'"
	done
done

# The rendered commands, read as cloud-init reads them.
python3 - "$nodes" <<'PY' || fail "rendered commands (see above)"
import sys, yaml
nodes = sys.argv[1]
def ud(n):
    return yaml.safe_load(open(f"{nodes}/{n}/cloud-init/user-data"))
def files(u):
    return {f["path"]: f for f in u["write_files"]}
def text(u):
    return yaml.safe_dump(u["runcmd"])

deb, rhel = ud("cp1"), ud("w1")
for name, u in (("cp1", deb), ("w1", rhel)):
    rc = u["runcmd"]
    assert rc[0] == "set -e", (name, rc[0])
    need = rc[1]
    assert need[:2] == ["sh", "-c"] and "command -v" in need[2], need
    for tool in ("curl", "tar"):
        assert tool in need[4:], (name, need)
        assert tool in u["packages"], (name, u["packages"])
    f = files(u)
    for v in ("/etc/metalboot/containerd-v2.toml",
              "/etc/metalboot/containerd-v3.toml"):
        assert 'registry.example.org/k8s/pause:3.9' in f[v]["content"], v
        assert 'config_path = "/etc/containerd/certs.d"' in f[v]["content"]
    h = f["/etc/containerd/certs.d/docker.io/hosts.toml"]["content"]
    assert "https://mirror.example.org" in h, h
    assert "/etc/apt/sources.list.d/kubernetes.list" not in f, name
    assert "/etc/metalboot/firewall.sh" in f, name
    assert "/etc/systemd/system/metalboot-firewall.service" in f, name
    assert "metalboot-firewall.service" in text(u), name
    assert "zram" in text(u), name

# Debian: the key, then the list, then the pinned install and the hold.
assert "gpg" in deb["packages"] and "containerd" in deb["packages"]
apt = [c for c in deb["runcmd"]
       if isinstance(c, list) and "apt-get install" in " ".join(c)]
assert len(apt) == 1, apt
s, key, line, ver = apt[0][2], apt[0][3], apt[0][4], apt[0][5]
assert key == "https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key", key
assert line == ("deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg]"
                " https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /"), line
assert ver == "1.30.2-*", ver
assert s.index("gpg --dearmor") < s.index("kubernetes.list") \
    < s.index("apt-get update") < s.index("apt-get install") \
    < s.index("apt-mark hold"), s
assert '"kubelet=$2" "kubeadm=$2" "kubectl=$2"' in s, s
assert s.startswith("set -e;"), s

# RHEL: yum_repos (written before packages:), pinned, no apt anywhere.
repos = rhel["yum_repos"]
k = repos["kubernetes"]
assert k["baseurl"] == "https://pkgs.k8s.io/core:/stable:/v1.30/rpm/", k
assert k["gpgkey"].endswith("/v1.30/rpm/repodata/repomd.xml.key"), k
assert k["gpgcheck"] is True and k["enabled"] is True, k
assert set(k["exclude"].split()) >= {"kubelet", "kubeadm", "kubectl"}, k
assert "docker-ce-stable" in repos
assert "containerd.io" in rhel["packages"], rhel["packages"]
assert "containerd" not in rhel["packages"] and "gpg" not in rhel["packages"]
yum = [c for c in rhel["runcmd"] if isinstance(c, list) and c[0] == "yum"]
assert yum == [["yum", "install", "-y", "--disableexcludes=kubernetes",
                "kubelet-1.30.2", "kubeadm-1.30.2", "kubectl-1.30.2"]], yum
assert "apt" not in text(rhel), "apt on a rhel node"
# A worker waits for the API, then joins: after the packages.
rc = text(rhel)
assert rc.index("yum") < rc.index("readyz") < rc.index("- join"), rc
PY

# Debian's containerd reads the version-2 config as written.
if command -v containerd >/dev/null; then
	python3 - "$nodes/cp1/cloud-init/user-data" "$T/v2.toml" <<'PY'
import sys, yaml
u = yaml.safe_load(open(sys.argv[1]))
f = [f for f in u["write_files"]
     if f["path"] == "/etc/metalboot/containerd-v2.toml"][0]
open(sys.argv[2], "w").write(f["content"])
PY
	containerd --config "$T/v2.toml" config dump >"$T/dump" 2>"$T/dump.err" ||
		{ cat "$T/dump.err" >&2; fail "containerd config dump"; }
	for w in 'SystemdCgroup = true' \
		'sandbox_image = "registry.example.org/k8s/pause:3.9"' \
		'config_path = "/etc/containerd/certs.d"'; do
		grep -qF "$w" "$T/dump" || fail "containerd config dump: no '$w'"
	done
else
	echo "note: containerd not installed: config dump not run"
fi

# The containerd step, run for real (paths moved under a scratch root,
# systemctl recording): Debian's containerd 1.6 gets the version-2 file,
# a containerd that says 2.x the version-3 one, the package's own file
# kept once as config.toml.orig.
if command -v containerd >/dev/null; then
	mkdir -p "$T/ctr/bin" "$T/ctr/root/etc/containerd" "$T/ctr/root/etc/metalboot"
	python3 - "$nodes/cp1/cloud-init/user-data" "$T/ctr" <<'PY'
import sys, yaml
u = yaml.safe_load(open(sys.argv[1]))
root = sys.argv[2] + "/root"
for f in u["write_files"]:
    if f["path"].startswith("/etc/metalboot/containerd-v"):
        open(root + f["path"], "w").write(f["content"])
c = [c for c in u["runcmd"] if isinstance(c, list) and "containerd --version" in " ".join(c)]
assert len(c) == 1, c
open(sys.argv[2] + "/step.sh", "w").write(c[0][2].replace("/etc/containerd", root + "/etc/containerd"))
open(sys.argv[2] + "/args", "w").write("\n".join(root + a for a in c[0][3:]) + "\n")
PY
	printf '#!/bin/sh
echo "systemctl $*" >>"%s/calls"
' "$T/ctr" >"$T/ctr/bin/systemctl"
	chmod 755 "$T/ctr/bin/systemctl"
	echo 'package config' >"$T/ctr/root/etc/containerd/config.toml"
	mapfile -t cargs2 <"$T/ctr/args"
	PATH=$T/ctr/bin:$PATH sh -c "$(cat "$T/ctr/step.sh")" "${cargs2[@]}" ||
		fail "containerd step failed with Debian's containerd"
	cmp -s "$T/ctr/root/etc/containerd/config.toml" "${cargs2[0]}" ||
		fail "containerd $(containerd --version): not the version-2 config"
	grep -qx 'package config' "$T/ctr/root/etc/containerd/config.toml.orig" ||
		fail "the package's config.toml was not kept"
	grep -qx 'systemctl restart containerd' "$T/ctr/calls" ||
		fail "containerd not restarted"
	printf '#!/bin/sh
echo "containerd containerd.io v2.0.5 1234abcd"
' \
		>"$T/ctr/bin/containerd"
	chmod 755 "$T/ctr/bin/containerd"
	PATH=$T/ctr/bin:$PATH sh -c "$(cat "$T/ctr/step.sh")" "${cargs2[@]}" ||
		fail "containerd step failed with a 2.x containerd"
	cmp -s "$T/ctr/root/etc/containerd/config.toml" "${cargs2[1]}" ||
		fail "containerd 2.x: not the version-3 config"
	grep -qx 'package config' "$T/ctr/root/etc/containerd/config.toml.orig" ||
		fail "config.toml.orig was overwritten"
fi

# kubernetes_version below pkgs.k8s.io's channels.
inv old v1.23.17 flannel
if "$build" validate "$T/old.yaml" 2>"$T/old.err"; then
	fail "validate accepted v1.23 without --apt-repo"
fi
grep -q "^$T/old.yaml:3:23: error: kubernetes_version v1.23.17: pkgs.k8s.io serves v1.24 and later" "$T/old.err" ||
	{ cat "$T/old.err" >&2; fail "v1.23: no error at its line"; }
grep -q -- '--apt-repo and --rpm-repo' "$T/old.err" ||
	fail "v1.23: the error does not name both options"
if "$build" build "$T/old.yaml" -o "$T/old-out" 2>/dev/null; then
	fail "build accepted v1.23 without --apt-repo"
fi
[[ ! -e $T/old-out ]] || fail "a refused build left OUT"
"$build" validate "$T/old.yaml" --apt-repo https://apt.example.org/k8s/ \
	--rpm-repo https://rpm.example.org/k8s/ >/dev/null 2>&1 ||
	fail "v1.23 with both repositories refused"
"$build" build "$T/old.yaml" -o "$T/old-out" --apt-repo https://apt.example.org/k8s/ \
	--rpm-repo https://rpm.example.org/k8s/ 2>/dev/null ||
	fail "build v1.23 with both repositories failed"
grep -q 'https://rpm.example.org/k8s/repodata/repomd.xml.key' \
	"$T/old-out/nodes/w1/cloud-init/user-data" || fail "--rpm-repo not used"
grep -q 'pause:3.6' "$T/old-out/nodes/cp1/cloud-init/user-data" ||
	fail "v1.23: not kubeadm's pause 3.6"

# The CNI chain, run for real against a local HTTP server.
srv=$T/srv
mkdir -p "$srv" "$T/bin" "$T/root"
cp "$T/flannel.yaml" "$srv/good.yaml"
sed 's/vxlan/host-gw/' "$T/flannel.yaml" >"$srv/tampered.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -u -m http.server "$port" --bind 127.0.0.1 --directory "$srv" \
	>"$T/http.log" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$port/good.yaml" 2>/dev/null &&
		{ up=1; break; }
	kill -0 "${pids[-1]}" 2>/dev/null || break
	sleep 0.1
done
((up)) || { cat "$T/http.log" >&2; fail "the HTTP server did not start"; }
cat >"$T/bin/kubectl" <<EOF
#!/bin/sh
echo "\$*" >>"$T/kubectl.log"
for a in "\$@"; do last=\$a; done
cp "\$last" "$T/applied.yaml"
EOF
chmod 755 "$T/bin/kubectl"
python3 - "$nodes/cp1/cloud-init/user-data" "$T/root" "$T/cni.sh" \
	"$T/cni.args" <<'PY'
import sys, yaml
u = yaml.safe_load(open(sys.argv[1]))
c = [c for c in u["runcmd"] if isinstance(c, list) and "cni.yaml" in " ".join(c)]
assert len(c) == 1, c
argv = c[0]
assert argv[:2] == ["sh", "-c"], argv
p = "/var/lib/metalboot/cni.yaml"
open(sys.argv[3], "w").write(argv[2].replace(p, sys.argv[2] + p))
open(sys.argv[4], "w").write("\n".join(argv[3:]) + "\n")
PY
mapfile -t cargs <"$T/cni.args"
[[ ${cargs[0]} == http://10.213.0.1:80/files/manifests/flannel.yaml ]] ||
	fail "cni: URL ${cargs[0]}"
[[ ${cargs[1]} == "$(sha256sum "$T/flannel.yaml" | cut -d' ' -f1)" ]] ||
	fail "cni: sha256 ${cargs[1]}"
[[ ${cargs[2]} == 10.10.0.0/16 ]] || fail "cni: pod subnet ${cargs[2]}"
run_cni() { # FILE: run the step on http://127.0.0.1:PORT/FILE
	PATH=$T/bin:$PATH sh -c "$(cat "$T/cni.sh")" \
		"http://127.0.0.1:$port/$1" "${cargs[1]}" "${cargs[2]}"
}
for bad in tampered.yaml missing.yaml; do
	rm -f "$T/kubectl.log"
	if run_cni "$bad" 2>"$T/cni.err"; then
		fail "cni: $bad was applied"
	fi
	[[ ! -e $T/kubectl.log ]] || fail "cni: kubectl ran for $bad"
	[[ ! -e $T/root/var/lib/metalboot/cni.yaml ]] ||
		fail "cni: $bad was written"
done
grep -q 'cannot download' "$T/cni.err" || fail "cni: 404 not reported"
run_cni tampered.yaml 2>"$T/cni.err" || true
grep -q 'does not have sha256.*nothing applied' "$T/cni.err" ||
	fail "cni: mismatch not reported"
run_cni good.yaml 2>"$T/cni.err" ||
	{ cat "$T/cni.err" >&2; fail "cni: good manifest failed"; }
grep -q -- '--kubeconfig=/etc/kubernetes/admin.conf apply -f' "$T/kubectl.log" ||
	fail "cni: kubectl apply not run"
grep -q '"Network": "10.10.0.0/16"' "$T/applied.yaml" ||
	fail "cni: flannel's Network not set to pod_subnet"
cmp -s "$T/applied.yaml" "$T/root/var/lib/metalboot/cni.yaml" ||
	fail "cni: applied file differs from the kept one"

# The tools check stops with the tool's name.
need=$(python3 -c '
import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["runcmd"][1][2])' \
	"$nodes/cp1/cloud-init/user-data")
if PATH=/nonexistent /bin/sh -c "$need" need curl 2>"$T/need.err"; then
	fail "tools check passed without curl"
fi
grep -q 'curl is not installed' "$T/need.err" || fail "tools check: no name"

# calico and weave: named, no warning, no Network rewrite.
for cni in calico weave; do
	inv "$cni" v1.30.2 "$cni"
	"$build" validate "$T/$cni.yaml" >/dev/null 2>"$T/v.err" ||
		fail "$cni: validate failed"
	if grep -q 'cni' "$T/v.err"; then
		fail "$cni: a CNI warning"
	fi
	"$build" build "$T/$cni.yaml" -o "$T/$cni-out" 2>/dev/null ||
		fail "$cni: build failed"
	python3 - "$T/$cni-out/nodes/cp1/cloud-init/user-data" "$cni" <<'PY' ||
import sys, yaml
u = yaml.safe_load(open(sys.argv[1]))
c = [c for c in u["runcmd"] if isinstance(c, list) and "cni.yaml" in " ".join(c)]
assert len(c) == 1, c
assert c[0][3].endswith(f"/files/manifests/{sys.argv[2]}.yaml"), c[0][3]
assert c[0][5] == "", c[0][5]
PY
		fail "$cni: its chain"
done
echo "ok: cloud-init payloads"
