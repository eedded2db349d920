#!/usr/bin/env bash
# firstboot_fakeroot.sh - metalboot-firstboot --config on a fake root with
# stand-ins on PATH that record their calls (tests/interop/standins/):
#  1. the first control plane: every file and every call the steps make;
#  2. a second run changes nothing and calls nothing (kubeadm included);
#  3. a kubeadm that fails once: exit 1, a journal that says where, and a
#     rerun that resumes at kubeadm (reset first) without redoing the rest;
#  4. --dry-run writes nothing and runs nothing (tree + checksums);
#  5. a CNI manifest whose sha256 does not match is refused;
#  6. a docker worker with firewalld running and no systemctl; a worker
#     with ufw active; zram units that cannot be masked; an etcd node; a
#     node that never gets Ready (with and without a CNI in the cluster).
. "$(dirname "$0")/standins/fbtest.sh"

# The CNI manifest, served over plain HTTP (its digest is what protects it).
mkdir -p "$WORK/www/manifests"
cat >"$WORK/www/manifests/flannel.yaml" <<'CNI'
kind: ConfigMap
data:
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "Backend": { "Type": "vxlan" }
    }
CNI
CNI_SHA=$(sha256sum <"$WORK/www/manifests/flannel.yaml" | cut -d' ' -f1)
port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$port" \
	>"$WORK/http.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" \
		2>/dev/null && break
	sleep 0.1
done
MANIFEST=http://127.0.0.1:$port/manifests/flannel.yaml

NAME=cp1 ROLE=control-plane MAC=52:54:00:00:01:01 IP=192.168.100.11
ACTION=init POD_SUBNET=10.200.0.0/16
EXTRA="cni: { name: flannel, manifest: \"$MANIFEST\", sha256: \"$CNI_SHA\" }"
payload >"$WORK/cp1.yaml"

echo "== 1. first control plane"
R=$WORK/r1 S=$WORK/s1
mkroot "$R"
agent "$R" "$S" --config "$WORK/cp1.yaml" 2>"$WORK/run1.err" ||
	{ cat "$WORK/run1.err"; fail "first run failed"; }
[[ $(cat "$R/etc/hostname") == cp1 ]] || fail "/etc/hostname"
[[ $(cat "$R/proc/sys/kernel/hostname") == cp1 ]] || fail "running host name"
grep -qx '127.0.0.1	localhost' "$R/etc/hosts" || fail "hosts lost its lines"
grep -qx '::1	localhost ip6-localhost' "$R/etc/hosts" || fail "hosts lost ::1"
grep -qxP '192.168.100.21\tw1\tw1.lab' "$R/etc/hosts" || fail "hosts: w1"
grep -qxP '192.168.100.11\tcp1' "$R/etc/hosts" || fail "hosts: cp1"
[[ $(grep -c '^# BEGIN metalboot' "$R/etc/hosts") == 1 ]] || fail "hosts block"
grep -qx br_netfilter "$R/etc/modules-load.d/metalboot.conf" || fail "modules-load"
grep -qx overlay "$R/etc/modules-load.d/metalboot.conf" || fail "modules-load"
[[ $(cat "$R/proc/sys/net/ipv4/ip_forward") == 1 ]] || fail "ip_forward now"
[[ $(cat "$R/proc/sys/net/bridge/bridge-nf-call-iptables") == 1 ]] || fail "bridge sysctl"
grep -qx 'net.ipv4.ip_forward = 1' "$R/etc/sysctl.d/99-metalboot.conf" || fail "sysctl.d"
grep -qx '#metalboot-swapoff# /swapfile      none  swap sw                0 0' \
	"$R/etc/fstab" || fail "fstab swapfile not commented: $(cat "$R/etc/fstab")"
grep -q '^#metalboot-swapoff# UUID=3333-4444' "$R/etc/fstab" || fail "fstab swap 2"
grep -qx 'UUID=1111-2222 /     ext4 errors=remount-ro 0 1' "$R/etc/fstab" ||
	fail "fstab root line changed"
[[ $(wc -l <"$R/etc/fstab") == 4 ]] || fail "fstab lines deleted"
[[ $(wc -l <"$R/proc/swaps") == 1 ]] || fail "swap still on"
[[ $(cat "$R/sys/fs/selinux/enforce") == 0 ]] || fail "selinux enforcing"
grep -qx SELINUX=permissive "$R/etc/selinux/config" || fail "selinux config"
grep -qx SELINUXTYPE=targeted "$R/etc/selinux/config" || fail "SELINUXTYPE lost"
grep -qx '  SystemdCgroup = true' "$R/etc/containerd/config.toml" || fail "containerd"
# No containerd on PATH: config version 2, said so.
grep -qx 'version = 2' "$R/etc/containerd/config.toml" || fail "config version"
grep -q 'runtime: ok: config version 2 (containerd is not on PATH)' "$WORK/run1.err" ||
	fail "no note on the config version: $(grep runtime: "$WORK/run1.err")"
grep -qx '  sandbox_image = "registry.k8s.io/pause:3.9"' "$R/etc/containerd/config.toml" ||
	fail "sandbox image"
grep -qx '  config_path = "/etc/containerd/certs.d"' "$R/etc/containerd/config.toml" ||
	fail "config_path"
grep -q mirrors "$R/etc/containerd/config.toml" && fail "deprecated registry.mirrors"
grep -qx '\[host."https://mirror.example:5000"\]' \
	"$R/etc/containerd/certs.d/docker.io/hosts.toml" || fail "containerd mirror"
# The firewall again at every boot; no zram swap.
[[ $(mode "$R/etc/metalboot/firewall.sh") == 755 ]] || fail "firewall.sh mode"
grep -qx 'IPTABLES_PORTS="tcp:6443 tcp:30000:32767 udp:8472"' \
	"$R/etc/metalboot/firewall.sh" || fail "firewall.sh ports"
[[ $(mode "$R/etc/systemd/system/metalboot-firewall.service") == 644 ]] ||
	fail "firewall unit mode"
grep -qx 'ExecStart=/bin/sh /etc/metalboot/firewall.sh' \
	"$R/etc/systemd/system/metalboot-firewall.service" || fail "firewall unit"
[[ -f $R/etc/systemd/zram-generator.conf && ! -s $R/etc/systemd/zram-generator.conf ]] ||
	fail "zram-generator.conf is not empty"
[[ $(cat "$R/etc/kubernetes/pki/ca.key") == CA-KEY-SECRET ]] || fail "ca.key"
[[ $(mode "$R/etc/kubernetes/pki/ca.key") == 600 ]] || fail "ca.key mode"
[[ $(mode "$R/etc/kubernetes/pki/ca.crt") == 644 ]] || fail "ca.crt mode"
[[ $(mode "$R/var/lib/metalboot") == 700 ]] || fail "state dir mode"
[[ $(mode "$R/var/lib/metalboot/kubeadm.yaml") == 600 ]] || fail "kubeadm.yaml mode"
[[ $(mode "$R/var/lib/metalboot/state.json") == 600 ]] || fail "journal mode"
[[ $(cat "$R/root/.kube/config") == admin-kubeconfig ]] || fail "kubeconfig"
[[ $(mode "$R/root/.kube/config") == 600 ]] || fail "kubeconfig mode"
grep -q '"Network": "10.200.0.0/16"' "$R/var/lib/metalboot/cni.yaml" ||
	fail "pod subnet not set in the CNI manifest"
[[ -e $R/var/lib/metalboot/done ]] || fail "no done marker"
grep -q SECRET "$WORK/run1.err" && fail "a secret reached the log"
python3 - "$R/var/lib/metalboot/state.json" <<'PY' || fail "journal content"
import json, sys
j = json.load(open(sys.argv[1]))
steps = ["hostname", "hosts", "modules", "sysctls", "swap", "selinux",
         "firewall", "runtime", "pki", "kubelet", "kubeadm", "kubeconfig",
         "cni", "ready", "done"]
for s in steps:
    st = j["steps"][s]
    assert st["state"] == "ok", (s, st)
    assert st["started"] and st["finished"], s
assert j["done"] is True and j["queue"] == []
PY
for c in "hostname cp1" "modprobe br_netfilter" "swapoff -a" "setenforce 0" \
	"iptables -C INPUT -p tcp --dport 6443 -j ACCEPT" \
	"iptables -A INPUT -p tcp --dport 6443 -j ACCEPT" \
	"iptables -A INPUT -p tcp --dport 30000:32767 -j ACCEPT" \
	"iptables -A INPUT -p udp --dport 8472 -j ACCEPT" \
	"iptables -P FORWARD ACCEPT" "systemctl restart containerd" \
	"systemctl enable kubelet" "ufw status" \
	"systemctl enable metalboot-firewall.service" \
	"systemctl mask zramswap.service" "systemctl mask dev-zram0.swap" \
	"kubeadm init --config $R/var/lib/metalboot/kubeadm.yaml" \
	"kubectl --kubeconfig $R/etc/kubernetes/admin.conf apply -f $R/var/lib/metalboot/cni.yaml" \
	"kubectl-applied $(sha256sum <"$R/var/lib/metalboot/cni.yaml" | cut -d' ' -f1)" \
	"kubectl --kubeconfig $R/etc/kubernetes/admin.conf get node cp1 -o jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"; do
	has_call "$S" "$c"
done
# overlay is loaded already (/sys/module/overlay): not probed again.
grep -qx 'modprobe overlay' "$S/calls" && fail "modprobe overlay although loaded"
[[ $(grep -c '^kubeadm' "$S/calls") == 1 ]] || fail "kubeadm ran more than once"
# Order: runtime before kubeadm before the CNI before readiness.
order=$(grep -nE '^(systemctl restart|kubeadm init|kubectl-applied|kubectl .* get node)' \
	"$S/calls" | cut -d: -f1 | tr '\n' ' ')
[[ $order =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ $ ]] || fail "order: $order"
[[ $(echo "$order" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ') == "$order" ]] ||
	fail "steps out of order: $order"

echo "== 1b. --reapply: a later boot of an image, its /etc rebuilt"
# What the image's root loses at a reboot while the state disk keeps
# /etc/kubernetes and /var/lib/metalboot (with the fetched payload).
cp "$WORK/cp1.yaml" "$R/var/lib/metalboot/firstboot.yaml"
rm -f "$R/etc/sysctl.d/99-metalboot.conf" "$R/etc/modules-load.d/metalboot.conf" \
	"$R/etc/containerd/config.toml" "$R/etc/metalboot/firewall.sh"
echo 0 >"$R/proc/sys/net/ipv4/ip_forward"
n=$(wc -l <"$S/calls")
agent "$R" "$S" --reapply 2>"$WORK/run1b.err" ||
	{ cat "$WORK/run1b.err"; fail "reapply failed"; }
grep -qx 'net.ipv4.ip_forward = 1' "$R/etc/sysctl.d/99-metalboot.conf" || fail "reapply: sysctl.d"
[[ $(cat "$R/proc/sys/net/ipv4/ip_forward") == 1 ]] || fail "reapply: ip_forward"
grep -qx br_netfilter "$R/etc/modules-load.d/metalboot.conf" || fail "reapply: modules-load"
grep -qx '  SystemdCgroup = true' "$R/etc/containerd/config.toml" || fail "reapply: containerd"
[[ -x $R/etc/metalboot/firewall.sh ]] || fail "reapply: firewall.sh"
grep -q 'cp1: host configuration reapplied' "$WORK/run1b.err" || fail "reapply: no summary"
since=$(tail -n +$((n + 1)) "$S/calls"); since=${since:-}
grep -q '^kubeadm' <<<"$since" && fail "reapply ran kubeadm: $since"
grep -qx 'systemctl restart containerd' <<<"$since" || fail "reapply: containerd not restarted: $since"
# Not done: nothing to reapply.
mkroot "$WORK/r1b"
agent "$WORK/r1b" "$WORK/s1b" --reapply 2>"$WORK/run1b2.err" || fail "reapply before done"
grep -q 'not done yet' "$WORK/run1b2.err" || fail "reapply before done: $(cat "$WORK/run1b2.err")"

echo "== 2. second run changes nothing"
before=$(snapshot "$R")
ncalls=$(wc -l <"$S/calls")
agent "$R" "$S" --config "$WORK/cp1.yaml" 2>"$WORK/run2.err" ||
	{ cat "$WORK/run2.err"; fail "second run failed"; }
[[ $(snapshot "$R") == "$before" ]] || fail "the second run changed the root:
$(diff <(echo "$before") <(snapshot "$R"))"
[[ $(wc -l <"$S/calls") == "$ncalls" ]] || fail "the second run ran programs:
$(tail -n +$((ncalls + 1)) "$S/calls")"
# Even with the journal gone, every step checks first: still no kubeadm.
rm "$R/var/lib/metalboot/state.json" "$R/var/lib/metalboot/done"
agent "$R" "$S" --config "$WORK/cp1.yaml" 2>"$WORK/run2b.err" ||
	{ cat "$WORK/run2b.err"; fail "run without a journal failed"; }
[[ $(grep -c '^kubeadm' "$S/calls") == 1 ]] || fail "kubeadm ran again"
tail -n +$((ncalls + 1)) "$S/calls" >"$WORK/rerun.calls"
grep -E '^(modprobe|swapoff|setenforce|hostname|iptables -A|systemctl (restart|enable|mask))' \
	"$WORK/rerun.calls" && fail "the journal-less rerun redid work"

# A changed payload runs the host steps again, never kubeadm.
echo 60 >"$R/proc/sys/vm/swappiness" 2>/dev/null ||
	{ mkdir -p "$R/proc/sys/vm" && echo 60 >"$R/proc/sys/vm/swappiness"; }
sed 's/^sysctls: {/sysctls: { vm.swappiness: "0",/' "$WORK/cp1.yaml" >"$WORK/cp1-v2.yaml"
agent "$R" "$S" --config "$WORK/cp1-v2.yaml" 2>"$WORK/run2c.err" ||
	{ cat "$WORK/run2c.err"; fail "run with a changed payload failed"; }
grep -q 'the payload differs from the last run' "$WORK/run2c.err" || fail "no note"
[[ $(cat "$R/proc/sys/vm/swappiness") == 0 ]] || fail "new sysctl not set"
grep -qx 'vm.swappiness = 0' "$R/etc/sysctl.d/99-metalboot.conf" || fail "not persisted"
[[ $(grep -c '^kubeadm' "$S/calls") == 1 ]] || fail "kubeadm ran for a changed payload"

echo "== 3. kubeadm fails once; the rerun resumes"
R=$WORK/r3 S=$WORK/s3
mkroot "$R"
mkdir -p "$S"
touch "$S/kubeadm-fail-once"
rc=0
agent "$R" "$S" --config "$WORK/cp1.yaml" 2>"$WORK/run3.err" || rc=$?
[[ $rc == 1 ]] || fail "a failed kubeadm: exit $rc, not 1"
grep -q 'kubeadm: failed: kubeadm init exited with status 1' "$WORK/run3.err" ||
	fail "no clear message: $(cat "$WORK/run3.err")"
python3 - "$R/var/lib/metalboot/state.json" <<'PY' || fail "journal after failure"
import json, sys
j = json.load(open(sys.argv[1]))
s = j["steps"]
assert s["kubelet"]["state"] == "ok"
assert s["kubeadm"]["state"] == "failed"
assert "timed out waiting" in s["kubeadm"]["output"], s["kubeadm"]
assert s["kubeconfig"] == {"state": "pending"}, s["kubeconfig"]
assert s["done"]["state"] == "pending" and j["done"] is False
PY
[[ -e $R/var/lib/metalboot/done ]] && fail "done after a failure"
agent "$R" "$S" --config "$WORK/cp1.yaml" --dry-run >"$WORK/plan3.txt" 2>&1 ||
	fail "dry run after a failure"
grep -q '^journal: .*kubelet ok, kubeadm failed$' "$WORK/plan3.txt" ||
	fail "dry run progress: $(tail -1 "$WORK/plan3.txt")"
n=$(wc -l <"$S/calls")
agent "$R" "$S" --config "$WORK/cp1.yaml" 2>"$WORK/run3b.err" ||
	{ cat "$WORK/run3b.err"; fail "the resumed run failed"; }
resumed=$(tail -n +$((n + 1)) "$S/calls")
grep -qx 'kubeadm reset -f' <<<"$resumed" || fail "no reset before the retry"
grep -qx "kubeadm init --config $R/var/lib/metalboot/kubeadm.yaml" <<<"$resumed" ||
	fail "kubeadm not retried"
grep -E '^(modprobe|swapoff|setenforce|hostname|systemctl)' <<<"$resumed" &&
	fail "finished steps were run again"
[[ -e $R/var/lib/metalboot/done ]] || fail "not done after resuming"

echo "== 3b. the agent is killed during kubeadm; the rerun resumes"
R=$WORK/r3b S=$WORK/s3b
mkroot "$R"
mkdir -p "$S"
touch "$S/kubeadm-hang"
agent "$R" "$S" --config "$WORK/cp1.yaml" 2>"$WORK/run3c.err" &
PIDS+=("$!")
for _ in $(seq 200); do
	[[ -s $S/kubeadm.pid ]] && break
	sleep 0.1
done
[[ -s $S/kubeadm.pid ]] || fail "kubeadm never started"
kill -9 "$(cat "$S/agent.pid")"
kill "$(cat "$S/kubeadm.pid")"
sleep 0.5
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["steps"]; assert s["kubeadm"]["state"]=="running", s["kubeadm"]; assert s["kubelet"]["state"]=="ok"' \
	"$R/var/lib/metalboot/state.json" || fail "journal after the kill"
n=$(wc -l <"$S/calls")
agent "$R" "$S" --config "$WORK/cp1.yaml" 2>"$WORK/run3d.err" ||
	{ cat "$WORK/run3d.err"; fail "the run after a kill failed"; }
grep -q 'kubeadm: resuming (it was interrupted)' "$WORK/run3d.err" || fail "no resume note"
resumed=$(tail -n +$((n + 1)) "$S/calls")
[[ $(head -2 <<<"$resumed") == "kubeadm reset -f
kubeadm init --config $R/var/lib/metalboot/kubeadm.yaml" ]] ||
	fail "the rerun after a kill: $resumed"

echo "== 4. --dry-run writes nothing and runs nothing"
R=$WORK/r4 S=$WORK/s4
mkroot "$R"
before=$(snapshot "$R")
agent "$R" "$S" --config "$WORK/cp1.yaml" --dry-run >"$WORK/plan.txt" 2>&1 ||
	{ cat "$WORK/plan.txt"; fail "dry run failed"; }
[[ $(snapshot "$R") == "$before" ]] || fail "--dry-run changed the root"
[[ -z $(calls "$S") ]] || fail "--dry-run ran programs: $(calls "$S")"
grep -q "run kubeadm init --config $R/var/lib/metalboot/kubeadm.yaml" "$WORK/plan.txt" ||
	fail "plan: $(cat "$WORK/plan.txt")"
grep -q "check sha256 $CNI_SHA" "$WORK/plan.txt" || fail "plan lacks the digest"
grep -q SECRET "$WORK/plan.txt" && fail "the plan shows a secret"

echo "== 5. a CNI manifest with the wrong sha256 is refused"
R=$WORK/r5 S=$WORK/s5
mkroot "$R"
BAD=$(printf '%064d' 0)
EXTRA="cni: { name: flannel, manifest: \"$MANIFEST\", sha256: \"$BAD\" }"
payload >"$WORK/cp1-bad.yaml"
if agent "$R" "$S" --config "$WORK/cp1-bad.yaml" 2>"$WORK/run5.err"; then
	fail "a wrong digest was accepted"
fi
grep -q "cni: failed: .*sha256 $CNI_SHA does not match the expected $BAD; refused" \
	"$WORK/run5.err" || fail "message: $(cat "$WORK/run5.err")"
grep -q 'apply' "$S/calls" && fail "the refused manifest was applied"
[[ -e $R/var/lib/metalboot/cni.yaml ]] && fail "the refused manifest was kept"

echo "== 6a. docker worker, firewalld running, no systemctl"
R=$WORK/r6 S=$WORK/s6
mkroot "$R"
mkdir -p "$S" "$R/etc/docker"
touch "$S/firewalld-running"
echo '{"debug": true, "log-driver": "journald"}' >"$R/etc/docker/daemon.json"
rm "$BIN/systemctl"
NAME=w1 ROLE=worker MAC=52:54:00:00:02:01 IP=192.168.100.21 ACTION=join
RUNTIME=docker EXTRA=""
payload >"$WORK/w1.yaml"
agent "$R" "$S" --config "$WORK/w1.yaml" 2>"$WORK/run6.err" ||
	{ cat "$WORK/run6.err"; fail "worker run failed"; }
ln -s "$STANDINS/systemctl" "$BIN/systemctl"
python3 - "$R/etc/docker/daemon.json" <<'PY' || fail "daemon.json: $(cat "$R/etc/docker/daemon.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exec-opts"] == ["native.cgroupdriver=systemd"], d
assert d["log-driver"] == "json-file", d
assert d["log-opts"] == {"max-size": "100m", "max-file": "5"}, d
assert d["storage-driver"] == "overlay2", d
assert d["registry-mirrors"] == ["https://mirror.example:5000"], d
assert d["debug"] is True, d
PY
[[ -e $R/etc/docker/daemon.json.orig ]] || fail "original daemon.json not kept"
# kubelet's CRI is the containerd docker.io runs on: configured as well.
grep -qx '  SystemdCgroup = true' "$R/etc/containerd/config.toml" ||
	fail "docker: containerd's CRI not configured"
grep -qx '\[host."https://mirror.example:5000"\]' \
	"$R/etc/containerd/certs.d/docker.io/hosts.toml" || fail "docker: containerd mirror"
grep -q 'no systemctl, containerd not restarted' "$WORK/run6.err" ||
	fail "no note on containerd's restart"
# No systemctl: the boot script and unit are written all the same.
[[ -x $R/etc/metalboot/firewall.sh ]] || fail "no firewall.sh without systemctl"
grep -q 'firewall: ok: firewalld: 3 of 3 port rule(s) added; FORWARD policy ACCEPT; metalboot-firewall.service no systemctl: not enabled' \
	"$WORK/run6.err" || fail "firewall note: $(grep firewall: "$WORK/run6.err")"
grep -q '0 zram unit(s) masked' "$WORK/run6.err" || fail "zram without systemctl"
for c in "firewall-cmd --state" "firewall-cmd --add-port=6443/tcp" \
	"firewall-cmd --permanent --add-port=30000-32767/tcp" \
	"firewall-cmd --add-port=8472/udp" "iptables -P FORWARD ACCEPT" \
	"kubeadm join --config $R/var/lib/metalboot/kubeadm.yaml"; do
	has_call "$S" "$c"
done
grep -q '^iptables -A' "$S/calls" && fail "iptables used while firewalld runs"
grep -q '^systemctl' "$S/calls" && fail "systemctl called but absent"
grep -q 'no systemctl, docker not restarted' "$WORK/run6.err" || fail "no note on restart"
[[ -e $R/root/.kube/config ]] && fail "a worker got the admin kubeconfig"
has_call "$S" "kubectl --kubeconfig $R/etc/kubernetes/kubelet.conf get node w1 -o jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"

echo "== 6a2. worker with ufw active"
R=$WORK/r6u S=$WORK/s6u
mkroot "$R"
mkdir -p "$S" "$R/etc/default"
touch "$S/ufw-active"
printf 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_FORWARD_POLICY="DROP"\nMANAGE_BUILTINS=no\n' \
	>"$R/etc/default/ufw"
NAME=w1 ROLE=worker MAC=52:54:00:00:02:01 IP=192.168.100.21 ACTION=join
RUNTIME=containerd EXTRA=""
payload >"$WORK/w1u.yaml"
agent "$R" "$S" --config "$WORK/w1u.yaml" 2>"$WORK/run6u.err" ||
	{ cat "$WORK/run6u.err"; fail "ufw worker run failed"; }
for c in "ufw status" "ufw allow 6443/tcp" "ufw allow 30000:32767/tcp" \
	"ufw allow 8472/udp" "ufw reload" "iptables -P FORWARD ACCEPT" \
	"systemctl enable metalboot-firewall.service"; do
	has_call "$S" "$c"
done
grep -q '^iptables -A' "$S/calls" && fail "iptables used while ufw is active"
[[ $(cat "$R/etc/default/ufw") == 'IPV6=yes
DEFAULT_INPUT_POLICY="DROP"
DEFAULT_FORWARD_POLICY="ACCEPT"
MANAGE_BUILTINS=no' ]] || fail "/etc/default/ufw: $(cat "$R/etc/default/ufw")"
grep -q 'firewall: ok: ufw: 3 of 3 port rule(s) added; ufw DEFAULT_FORWARD_POLICY ACCEPT' \
	"$WORK/run6u.err" || fail "ufw note: $(grep firewall: "$WORK/run6u.err")"
# Again without the journal: ufw skips its rules, no second reload.
rm "$R/var/lib/metalboot/state.json" "$R/var/lib/metalboot/done"
n=$(wc -l <"$S/calls")
agent "$R" "$S" --config "$WORK/w1u.yaml" 2>"$WORK/run6u2.err" ||
	{ cat "$WORK/run6u2.err"; fail "ufw rerun failed"; }
tail -n +$((n + 1)) "$S/calls" | grep -E '^(ufw reload|systemctl (enable|mask))' &&
	fail "the ufw rerun redid work"
grep -q 'firewall: ok: ufw: 0 of 3 port rule(s) added; metalboot-firewall.service enabled already' \
	"$WORK/run6u2.err" || fail "ufw rerun note: $(grep firewall: "$WORK/run6u2.err")"
[[ $(sort "$S/ufw-rules") == $'30000:32767/tcp\n6443/tcp\n8472/udp' ]] ||
	fail "ufw rules: $(cat "$S/ufw-rules")"

echo "== 6a3. a zram unit that cannot be masked"
R=$WORK/r6z S=$WORK/s6z
mkroot "$R"
mkdir -p "$S"
echo 'Unit file zram-config.service does not exist.' >"$S/mask-fails-zram-config.service"
agent "$R" "$S" --config "$WORK/w1u.yaml" 2>"$WORK/run6z.err" ||
	{ cat "$WORK/run6z.err"; fail "a zram unit that does not exist failed the run"; }
grep -q 'swap: ok: 1 swap area(s) turned off; 2 fstab line(s) commented out; 3 zram unit(s) masked' \
	"$WORK/run6z.err" || fail "swap note: $(grep swap: "$WORK/run6z.err")"
R=$WORK/r6z2 S=$WORK/s6z2
mkroot "$R"
mkdir -p "$S"
echo 'Failed to mask unit: Read-only file system' >"$S/mask-fails-zramswap.service"
if agent "$R" "$S" --config "$WORK/w1u.yaml" 2>"$WORK/run6z2.err"; then
	fail "a failed mask passed"
fi
grep -q 'swap: failed: systemctl mask exited with status 1 (zramswap.service)' \
	"$WORK/run6z2.err" || fail "mask failure: $(grep swap: "$WORK/run6z2.err")"
[[ $(wc -l <"$R/proc/swaps") == 2 ]] || fail "swap turned off before the masks"

echo "== 6b. etcd node"
R=$WORK/r7 S=$WORK/s7
mkroot "$R"
NAME=etcd1 ROLE=etcd MAC=52:54:00:00:03:01 IP=192.168.100.31 ACTION=etcd
RUNTIME=containerd EXTRA=""
payload >"$WORK/etcd1.yaml"
agent "$R" "$S" --config "$WORK/etcd1.yaml" 2>"$WORK/run7.err" ||
	{ cat "$WORK/run7.err"; fail "etcd run failed"; }
has_call "$S" "kubeadm init phase etcd local --config $R/var/lib/metalboot/kubeadm.yaml"
grep -qx 'ExecStart=/usr/bin/kubelet --config=/etc/systemd/system/kubelet.service.d/kubelet.conf' \
	"$R/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf" ||
	fail "no kubelet drop-in for etcd"
grep -qx 'staticPodPath: /etc/kubernetes/manifests' \
	"$R/etc/systemd/system/kubelet.service.d/kubelet.conf" || fail "etcd kubelet config"
has_call "$S" "systemctl daemon-reload"
has_call "$S" "systemctl restart kubelet"
# The standalone kubelet is restarted before the etcd phase.
[[ $(grep -n 'restart kubelet' "$S/calls" | cut -d: -f1) -lt \
	$(grep -n 'phase etcd' "$S/calls" | cut -d: -f1) ]] || fail "order on etcd"
grep -q '^kubectl' "$S/calls" && fail "kubectl on an etcd node"

echo "== 6c. a node that never gets Ready fails, bounded"
R=$WORK/r8 S=$WORK/s8
mkroot "$R"
mkdir -p "$S"
touch "$S/not-ready"
NAME=w1 ROLE=worker MAC=52:54:00:00:02:01 IP=192.168.100.21 ACTION=join
READY_TIMEOUT=3
payload >"$WORK/w1-slow.yaml"
start=$SECONDS
if agent "$R" "$S" --config "$WORK/w1-slow.yaml" 2>"$WORK/run8.err"; then
	fail "a node that is never Ready passed"
fi
((SECONDS - start < 30)) || fail "the readiness wait was not bounded"
grep -q 'ready: failed: node w1 not Ready after 3s$' "$WORK/run8.err" ||
	fail "message: $(cat "$WORK/run8.err")"
# A cluster without a CNI: the failure says why, and what to do.
R=$WORK/r8b S=$WORK/s8b
mkroot "$R"
mkdir -p "$S"
touch "$S/not-ready"
CNI_CONFIGURED=false payload >"$WORK/w1-nocni.yaml"
if agent "$R" "$S" --config "$WORK/w1-nocni.yaml" 2>"$WORK/run8b.err"; then
	fail "a node that is never Ready passed"
fi
grep -q 'ready: failed: node w1 not Ready after 3s: no CNI configured (cluster.cni.manifest is not set in the inventory); apply a network add-on with kubectl, then rerun' \
	"$WORK/run8b.err" || fail "message: $(cat "$WORK/run8b.err")"

echo "== 6d. a stateless worker back from a reboot: its Node is still Ready"
R=$WORK/r6d S=$WORK/s6d
mkroot "$R"
mkdir -p "$S"
echo 1 >"$S/node-registered"
NAME=w1 ROLE=worker MAC=52:54:00:00:02:01 IP=192.168.100.21 ACTION=join
RUNTIME=containerd EXTRA=""
payload >"$WORK/w1d.yaml"
agent "$R" "$S" --config "$WORK/w1d.yaml" 2>"$WORK/run6d.err" ||
	{ cat "$WORK/run6d.err"; fail "the re-join failed"; }
grep -q "kubeadm join: this node's name is still registered and Ready" \
	"$WORK/run6d.err" || fail "no note on the re-join: $(grep kubeadm "$WORK/run6d.err")"
# join refused, reset, join again: in that order, once each.
seq=$(grep -E '^kubeadm (join|reset)' "$S/calls" | cut -d' ' -f1-2 | tr '\n' ,)
[[ $seq == "kubeadm join,kubeadm reset,kubeadm join," ]] ||
	fail "re-join sequence: $seq"
[[ -e $R/var/lib/metalboot/done ]] || fail "not done after the re-join"

echo "== 7. bad input"
if agent "$WORK/r1" "$WORK/s9" --config "$WORK/nope.yaml" 2>"$WORK/e.err"; then
	fail "missing config accepted"
fi
printf 'version: 1\nnode: { name: "a b" }\n' >"$WORK/bad.yaml"
set +e
agent "$WORK/r1" "$WORK/s9" --config "$WORK/bad.yaml" 2>"$WORK/e.err"
rc=$?
set -e
[[ $rc == 1 ]] || fail "bad payload: exit $rc"
grep -q "bad.yaml:2:15: node.name is not a valid host name" "$WORK/e.err" ||
	fail "message: $(cat "$WORK/e.err")"
mkdir -p "$WORK/r9"
agent "$WORK/r9" "$WORK/s9" --config "$WORK/bad.yaml" 2>/dev/null && fail "bad accepted"
[[ -z $(ls -A "$WORK/r9") ]] || fail "a refused payload left files behind"
echo PASS
