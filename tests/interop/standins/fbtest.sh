# fbtest.sh - helpers shared by the firstboot_*.sh interop tests (sourced).
# Sets AGENT, WORK (removed on exit), BIN (the stand-ins), and kills the
# processes the test started (their PIDs are kept in PIDS).
set -euo pipefail
STANDINS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${MB_BUILD_DIR:-}
AGENT=$BUILD/firstboot/metalboot-firstboot
if [[ -z $BUILD || ! -x $AGENT ]]; then
	echo "SKIP: metalboot-firstboot not built (MB_BUILD_DIR=$BUILD)"
	exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
WORK=$(mktemp -d /tmp/mb-firstboot.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[[ -n ${MB_FB_KEEP:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
BIN=$WORK/bin
mkdir -p "$BIN"
for p in hostname modprobe swapoff setenforce iptables firewall-cmd ufw \
	systemctl kubeadm kubectl; do
	ln -s "$STANDINS/$p" "$BIN/$p"
done

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# mkroot DIR: a fake node root as a fresh Debian/RHEL-ish host has it.
mkroot() {
	local r=$1
	mkdir -p "$r"/etc/selinux "$r"/proc/sys/kernel "$r"/proc/sys/net/ipv4 \
		"$r"/sys/fs/selinux "$r"/sys/class/net/eth0 \
		"$r"/sys/module/overlay
	printf '127.0.0.1\tlocalhost\n\n::1\tlocalhost ip6-localhost\n' >"$r/etc/hosts"
	cat >"$r/etc/fstab" <<'FSTAB'
# /etc/fstab: static file system information.
UUID=1111-2222 /     ext4 errors=remount-ro 0 1
/swapfile      none  swap sw                0 0
UUID=3333-4444 none  swap sw                0 0
FSTAB
	printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile  file  1048572  0  -2\n' >"$r/proc/swaps"
	echo localhost >"$r/proc/sys/kernel/hostname"
	echo 0 >"$r/proc/sys/net/ipv4/ip_forward"
	echo 1 >"$r/sys/fs/selinux/enforce"
	printf '# SELinux config\nSELINUX=enforcing\nSELINUXTYPE=targeted\n' >"$r/etc/selinux/config"
	echo "console=ttyS0 metalboot.mac=52:54:00:00:01:01" >"$r/proc/cmdline"
	echo 52:54:00:00:01:01 >"$r/sys/class/net/eth0/address"
	echo up >"$r/sys/class/net/eth0/operstate"
}

# snapshot DIR: every path with its type, mode, size and content digest.
snapshot() {
	(cd "$1" && find . -printf '%p %y %m %s\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# agent ROOT STATE ARGS...: run the agent with the stand-ins only on PATH.
agent() {
	local root=$1 state=$2
	shift 2
	mkdir -p "$state"
	env -i PATH="$BIN" MB_FB_ROOT="$root" MB_FB_STATE="$state" \
		MB_FB_CALLS="$state/calls" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		"$AGENT" --root "$root" "$@"
}

# calls STATE: the stand-ins' call log (empty when none).
calls() {
	cat "$1/calls" 2>/dev/null || true
}

# has_call STATE LINE: the log holds exactly this line.
has_call() {
	grep -qxF -- "$2" "$1/calls" 2>/dev/null || fail "no call '$2' in $1/calls:
$(calls "$1")"
}

# mode FILE: octal permission bits.
mode() {
	stat -c %a "$1"
}

# The payload of a node (YAML on stdout). Variables: NAME ROLE MAC IP ACTION
# RUNTIME EXTRA (appended verbatim) SERVER_BLOCK CNI_CONFIGURED.
payload() {
	cat <<YAML
version: 1
node: { name: $NAME, role: $ROLE, mac: "$MAC", ip: $IP }
cluster:
  name: lab
  kubernetes_version: v1.30.2
  endpoint: 192.168.100.11:6443
  pod_subnet: ${POD_SUBNET:-10.244.0.0/16}
  service_subnet: 10.96.0.0/12
  cni_configured: ${CNI_CONFIGURED:-true}
${SERVER_BLOCK:-}
hosts:
  - { ip: 192.168.100.11, names: [cp1] }
  - { ip: 192.168.100.21, names: [w1, w1.lab] }
kernel_modules: [br_netfilter, overlay]
sysctls: { net.ipv4.ip_forward: "1", net.bridge.bridge-nf-call-iptables: "1" }
swap_off: true
selinux: permissive
firewall:
  - { port: "6443", proto: tcp }
  - { port: "30000-32767", proto: tcp }
  - { port: "8472", proto: udp }
container_runtime:
  kind: ${RUNTIME:-containerd}
  cgroup_driver: systemd
  log_max_size: 100m
  log_max_files: 5
  storage_driver: overlay2
  registry_mirrors: ["https://mirror.example:5000"]
  sandbox_image: registry.k8s.io/pause:3.9
files:
  - { path: /etc/kubernetes/pki/ca.crt, mode: "0644", content: "CA-CERT\n" }
  - { path: /etc/kubernetes/pki/ca.key, mode: "0600", content: "CA-KEY-SECRET\n" }
kubeadm:
  action: $ACTION
  config: "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nbootstrapTokens: [{token: abcdef.0123456789abcdef}]\n"
${EXTRA:-}
ready_timeout: ${READY_TIMEOUT:-30}
YAML
}
