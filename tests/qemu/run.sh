#!/usr/bin/env bash
# run.sh [INVENTORY] - PXE-boot an inventory's nodes in QEMU and wait until
# every node reports its final step.
#
# The rig creates its own network namespace holding a bridge with the
# inventory's server_ip and one tap per node, builds the inventory with a
# test base (tests/qemu/mkbase.sh), starts metalboot-netboot in the
# namespace, boots each node with qemu-system-x86_64 -accel tcg -boot n and
# the node's MAC, polls /v1/nodes until every node is done or failed or the
# deadline passes, and prints one line per node with its state and boot
# timeline. It exits non-zero on any failure, printing the tail of that
# node's serial console. Everything it starts is killed by PID and the
# namespace is removed on exit.
#
# Environment:
#   MB_BUILD_DIR      build directory (required)
#   MB_QEMU_MACHINES  machines file (default machines/NAME.conf)
#   MB_QEMU_DHCP      full (default) or proxy (dnsmasq plays the site server)
#   MB_QEMU_DEADLINE  seconds to wait for the fleet (default 840)
#   MB_QEMU_SITE_DHCP extra dnsmasq.conf lines for the site's DHCP server
#                     (proxy variant)
#   MB_QEMU_EXTRA     extra "NAME MAC FIRMWARE NIC" machines not in the
#                     inventory (expected to get no payload)
#   MB_QEMU_DENIED    names of machines file entries expected not to boot
#                     (their firmware refuses what they are offered): not
#                     waited for; MB_QEMU_CHECK judges them
#   MB_QEMU_RESUME    NAME:STEP - power NAME off as soon as it has reported
#                     STEP running, then boot it again from its state disk
#   MB_QEMU_MEASURE=1 time the worker kernel+initrd over HTTP and over TFTP
#   MB_QEMU_CHECK     a script run after the fleet (sees $work, $ns, $api)
#   MB_QEMU_NETBOOT_ARGS  extra metalboot-netboot flags (e.g. -v: every
#                     HTTP request in netboot.log)
#   MB_KERNEL_FLAVOUR kernel of the test base: amd64 (default; has e1000)
#                     or cloud-amd64 (virtio only)
#   MB_CACHE          where the test base is cached (default BUILD/qemu-cache)
#   MB_QEMU_BASE      busybox (default: mkbase.sh) or debian (mkbase-debian.sh:
#                     systemd, containerd, runc, a real Debian 12 root)
#   MB_QEMU_MEM       each machine's RAM in MiB (default 1536)
#   MB_QEMU_REBOOT    names of machines to power-cycle, in turn, once the
#                     fleet is done: each waits for "mb-check: end" on its
#                     console (the real base prints it at every boot), is
#                     cut off, boots again (console in NAME.serial.2) and
#                     is waited for until it prints "mb-check: end" again
#   MB_QEMU_LIVE=1    redraw a table of the fleet while it boots (the demo)
#   MB_QEMU_KEEP=1    keep the work directory for inspection
#   MB_QEMU_UI_PORT   forward 127.0.0.1:PORT on the host to the server's
#                     HTTP port in the namespace: the fleet page (the demo)
#   MB_QEMU_HOLD=1    at the end, keep everything up until Enter is pressed
#                     (with a terminal on stdin), so the page can be read
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${MB_BUILD_DIR:?set MB_BUILD_DIR to the build directory}
inventory=${1:-$src/profiles/examples/lab.yaml}
name=$(basename "$inventory" .yaml)
machines=${MB_QEMU_MACHINES:-$here/machines/$name.conf}
dhcp=${MB_QEMU_DHCP:-full}
deadline=${MB_QEMU_DEADLINE:-840}
cache=${MB_CACHE:-$build/qemu-cache}
export MB_KERNEL_FLAVOUR=${MB_KERNEL_FLAVOUR:-amd64}
resume=${MB_QEMU_RESUME:-}
ns=mbq$$
work=$(mktemp -d /tmp/mbqemu.XXXXXX)
pids=()

log() { printf '[rig %5ss] %s\n' "$((SECONDS))" "$*" >&2; }

cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "${ns}s" 2>/dev/null || true
	if [[ ${MB_QEMU_KEEP:-0} == 1 ]]; then
		log "work directory kept: $work"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in qemu-system-x86_64 ip python3 curl; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool missing" >&2; exit 77; }
done
[[ -f $machines ]] || { echo "run.sh: no machines file $machines" >&2; exit 1; }

# Inventory facts the rig needs, read with the same YAML the builder reads.
eval "$(python3 - "$inventory" <<'PY'
import sys, yaml, ipaddress
inv = yaml.safe_load(open(sys.argv[1]))
net = inv["network"]
print("server_ip=%s" % net["server_ip"])
print("prefix=%d" % ipaddress.ip_network(net["subnet"]).prefixlen)
print("declare -A node_mac node_ip node_role")
for n in inv["nodes"]:
    print("node_mac[%s]=%s" % (n["name"], n["mac"].lower().replace("-", ":")))
    print("node_ip[%s]=%s" % (n["name"], n["ip"]))
    print("node_role[%s]=%s" % (n["name"], n["role"]))
PY
)"

# 1. The test base (rebuilt when its recipe changes) and the build.
basekind=${MB_QEMU_BASE:-busybox}
mkbase=$here/mkbase.sh
base=$cache/base-$MB_KERNEL_FLAVOUR
if [[ $basekind == debian ]]; then
	mkbase=$here/mkbase-debian.sh
	base=$cache/debian-$MB_KERNEL_FLAVOUR
fi
recipe=$(cat "$mkbase" "$here"/standins/* | sha256sum | cut -c1-16)
if [[ $(cat "$base/.complete" 2>/dev/null) != "$recipe" ]]; then
	log "building the test base into $base"
	mkdir -p "$cache"
	rm -rf "$base.tmp"
	MB_CACHE=$cache bash "$mkbase" "$base.tmp" >"$work/mkbase.log" 2>&1 ||
		{ cat "$work/mkbase.log" >&2; exit 1; }
	rm -rf "$base"
	mv "$base.tmp" "$base"
	echo "$recipe" >"$base/.complete"
fi
log "building $inventory"
"$build/builder/metalboot-build" build "$inventory" -o "$work/out" \
	--base "$base" >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log" >&2; exit 1; }

# 2. The network: a namespace with a bridge and one tap per machine.
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" addr add "$server_ip/$prefix" dev br0
ip -n "$ns" link set br0 up
declare -A m_mac m_fw m_nic m_disk
order=()
while read -r n fw nic disk; do
	[[ -z $n || $n == \#* ]] && continue
	m_mac[$n]=${node_mac[$n]:?machine $n is not in the inventory}
	m_fw[$n]=$fw
	m_nic[$n]=$nic
	m_disk[$n]=${disk:-}
	order+=("$n")
done <"$machines"
if [[ -n ${MB_QEMU_EXTRA:-} ]]; then
	while read -r n mac fw nic; do
		[[ -z $n ]] && continue
		m_mac[$n]=$mac
		m_fw[$n]=$fw
		m_nic[$n]=$nic
		order+=("$n")
	done <<<"$MB_QEMU_EXTRA"
fi
for n in "${order[@]}"; do
	ip -n "$ns" tuntap add "t-$n" mode tap
	ip -n "$ns" link set "t-$n" master br0 up
done

# 3. The site DHCP server (proxy variant) and metalboot-netboot.
if [[ $dhcp == proxy ]]; then
	# The site's DHCP server is another host on the segment: its own
	# namespace, joined to the bridge by a veth pair, at .2.
	command -v dnsmasq >/dev/null || exit 77
	ip netns add "${ns}s"
	ip -n "$ns" link add site0 type veth peer name eth0 netns "${ns}s"
	ip -n "$ns" link set site0 master br0 up
	ip -n "${ns}s" link set lo up
	ip -n "${ns}s" addr add "${server_ip%.*}.2/$prefix" dev eth0
	ip -n "${ns}s" link set eth0 up
	{
		echo "interface=eth0"
		echo "bind-interfaces"
		echo "port=0"
		echo "dhcp-range=${server_ip%.*}.100,${server_ip%.*}.199,1h"
		echo "dhcp-leasefile=$work/dnsmasq.leases"
		for n in "${!node_ip[@]}"; do
			echo "dhcp-host=${node_mac[$n]},${node_ip[$n]}"
		done
		[[ -z ${MB_QEMU_SITE_DHCP:-} ]] || printf '%s\n' "$MB_QEMU_SITE_DHCP"
	} >"$work/dnsmasq.conf"
	ip netns exec "${ns}s" dnsmasq --no-daemon --conf-file="$work/dnsmasq.conf" \
		--pid-file="$work/dnsmasq.pid" >"$work/dnsmasq.log" 2>&1 &
	pids+=($!)
fi
ip netns exec "$ns" "$build/netboot/metalboot-netboot" --user root \
	--config "$work/out/netboot.yaml" --dhcp "$dhcp" \
	--state-dir "$work/state" ${MB_QEMU_NETBOOT_ARGS:-} >"$work/netboot.log" 2>&1 &
netboot_pid=$!
pids+=("$netboot_pid")
http_port=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["http"]["port"])' "$work/out/netboot.yaml")
api="http://$server_ip:$http_port"
for _ in $(seq 50); do
	ip netns exec "$ns" curl -fsS -o /dev/null "$api/v1/nodes" 2>/dev/null && break
	kill -0 "$netboot_pid" 2>/dev/null || { cat "$work/netboot.log" >&2; exit 1; }
	sleep 0.2
done
ui_url=
if [[ -n ${MB_QEMU_UI_PORT:-} ]]; then
	# The fleet page from the host: the two halves of ui_forward.py meet
	# on a Unix socket, a file both namespaces see.
	ip netns exec "$ns" python3 "$here/ui_forward.py" inner "$work/ui.sock" \
		"$server_ip" "$http_port" &
	pids+=($!)
	for _ in $(seq 50); do [[ -S $work/ui.sock ]] && break; sleep 0.1; done
	python3 "$here/ui_forward.py" outer "$MB_QEMU_UI_PORT" "$work/ui.sock" &
	pids+=($!)
	ui_url="http://127.0.0.1:$MB_QEMU_UI_PORT/"
	log "the fleet page: $ui_url"
fi
export ui_url

# 4. The machines, booted in parallel. power_on NAME SERIAL starts one.
declare -A started qpid
power_on() {
	local n=$1 serial=$2 fw=() disk=()
	local nic=${m_nic[$n]},netdev=n0,mac=${m_mac[$n]}
	if [[ ${m_fw[$n]} == uefi ]]; then
		[[ -f $work/$n.vars.fd ]] ||
			cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/$n.vars.fd"
		fw=(-drive "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
			-drive "if=pflash,format=raw,file=$work/$n.vars.fd")
	elif [[ ${m_fw[$n]} == uefi-sb* ]]; then
		# Secure Boot enforced, Microsoft's keys enrolled (Debian's
		# ovmf). SMM guards the variable store; the NIC's option ROM
		# (iPXE, unsigned) is left out, so OVMF's own stack does PXE.
		[[ -f $work/$n.vars.fd ]] ||
			cp /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$work/$n.vars.fd"
		fw=(-machine q35,smm=on
			-global driver=cfi.pflash01,property=secure,value=on
			-drive "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
			-drive "if=pflash,format=raw,file=$work/$n.vars.fd")
		nic+=",romfile="
		# uefi-sb-http: UEFI HTTP boot, OVMF's PXE turned off.
		[[ ${m_fw[$n]} == uefi-sb-http ]] &&
			fw+=(-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n
				-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n)
	fi
	if [[ ${m_disk[$n]:-} == blank ]]; then
		# A blank disk: the first stage formats it.
		[[ -f $work/$n.disk ]] || truncate -s 512M "$work/$n.disk"
		disk=(-drive "if=virtio,format=raw,file=$work/$n.disk")
	elif [[ ${m_disk[$n]:-} == disk ]]; then
		# A journaled ext4, so that a power cut never corrupts it (the
		# test base's busybox mke2fs can only make ext2).
		if [[ ! -f $work/$n.disk ]]; then
			truncate -s 64M "$work/$n.disk"
			mkfs.ext4 -q -F -L mbstate "$work/$n.disk"
		fi
		disk=(-drive "if=virtio,format=raw,file=$work/$n.disk")
	fi
	ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m "${MB_QEMU_MEM:-1536}" -smp 1 \
		-nographic -monitor none -serial "file:$serial" \
		-netdev "tap,id=n0,ifname=t-$n,script=no,downscript=no" \
		-device "$nic" \
		-boot n -no-reboot "${fw[@]}" "${disk[@]}" >>"$work/$n.qemu.log" 2>&1 &
	qpid[$n]=$!
	pids+=($!)
}
for n in "${order[@]}"; do
	power_on "$n" "$work/$n.serial"
	started[$n]=$(date +%s.%N)
	log "powered on $n (${m_fw[$n]}, ${m_nic[$n]}, ${m_mac[$n]})"
done

# 5. Poll the fleet until every inventory machine is done or failed.
end=$((SECONDS + deadline))
status=running
while ((SECONDS < end)); do
	ip netns exec "$ns" curl -fsS "$api/v1/nodes" >"$work/nodes.json" 2>/dev/null || true
	status=$(python3 - "$work/nodes.json" "${order[@]}" <<'PY'
import json, os, sys
try:
    nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
except Exception:
    print("running"); sys.exit()
denied = os.environ.get("MB_QEMU_DENIED", "").split()
want = [n for n in sys.argv[2:] if n in nodes and n not in denied]
states = [nodes[n]["state"] for n in want]
# Wait until every machine is terminal, so the report shows all of them.
if not all(s in ("done", "failed") for s in states): print("running")
elif all(s == "done" for s in states): print("done")
else: print("failed")
PY
)
	if [[ ${MB_QEMU_LIVE:-0} == 1 ]]; then
		python3 - "$work/nodes.json" "$SECONDS" <<'PY'
import json, sys
try:
    nodes = json.load(open(sys.argv[1]))["nodes"]
except Exception:
    nodes = []
import os
page = os.environ.get("ui_url")
print("\033[H\033[2J" + "metalboot fleet, %ss after power-on  (GET /v1/nodes)%s\n" % (sys.argv[2], "\nin a browser: " + page if page else ""))
print("%-8s %-18s %-15s %-14s %s" % ("NODE", "MAC", "IP", "STATE", "LAST EVENT"))
for n in nodes:
    ev = n.get("last_event") or {}
    last = ("%s %s" % (ev.get("step", ""), ev.get("status", ""))).strip()
    if not last and n.get("timeline"):
        last = n["timeline"][-1]["event"]
    print("%-8s %-18s %-15s %-14s %s" % (n["name"], n["mac"], n["ip"], n["state"], last))
PY
	fi
	[[ $status != running ]] && break
	# The resume variant: cut the first boot off at a step, boot again.
	if [[ -n $resume ]]; then
		rn=${resume%%:*} rs=${resume#*:}
		if python3 - "$work/nodes.json" "$rn" "$rs" <<'PY'
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
tl = nodes.get(sys.argv[2], {}).get("timeline") or []
sys.exit(0 if any(e["event"] == sys.argv[3] + ":running" for e in tl) else 1)
PY
		then
			log "cutting $rn off during step $rs (killing QEMU)"
			kill -9 "${qpid[$rn]}"
			wait "${qpid[$rn]}" 2>/dev/null || true
			echo "$rn $(date +%s.%N)" >"$work/resumed"
			power_on "$rn" "$work/$rn.serial.2"
			log "powered $rn on again"
			resume=
		fi
	fi
	sleep 1
done

# 5b. Power cycles after the fleet is done (MB_QEMU_REBOOT).
wait_console() { # FILE DEADLINE: until FILE shows "mb-check: end"
	local f=$1 until=$((SECONDS + $2))
	while ((SECONDS < until)); do
		grep -q 'mb-check: end' "$f" 2>/dev/null && return 0
		sleep 2
	done
	return 1
}
if [[ $status == done && -n ${MB_QEMU_REBOOT:-} ]]; then
	for rn in $MB_QEMU_REBOOT; do
		if ! wait_console "$work/$rn.serial" 300; then
			log "$rn never printed its checks"
			status=failed
			break
		fi
		log "power-cycling $rn"
		kill -9 "${qpid[$rn]}"
		wait "${qpid[$rn]}" 2>/dev/null || true
		power_on "$rn" "$work/$rn.serial.2"
		if ! wait_console "$work/$rn.serial.2" "${MB_QEMU_REBOOT_WAIT:-600}"; then
			log "$rn did not come back"
			tail -n 40 "$work/$rn.serial.2" >&2 || true
			status=failed
			break
		fi
		log "$rn came back"
	done
	ip netns exec "$ns" curl -fsS "$api/v1/nodes" >"$work/nodes.json" 2>/dev/null || true
fi

# 6. Report: one line per machine with its timeline in seconds from power-on.
export RIG_STARTED=$(for n in "${!started[@]}"; do echo "$n=${started[$n]}"; done)
python3 - "$work/nodes.json" "${order[@]}" <<'PY' | tee "$work/report.txt"
import json, os, sys, datetime
started = dict(l.split("=") for l in os.environ["RIG_STARTED"].split())
try:
    nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
except Exception:
    nodes = {}
def ts(t):
    if isinstance(t, (int, float)): return float(t)
    return datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
for name in sys.argv[2:]:
    n = nodes.get(name)
    if n is None:
        print("%-8s not-in-inventory" % name); continue
    t0 = float(started[name])
    tl = " ".join("%s@%.1fs" % (e["event"], ts(e["time"]) - t0) for e in n.get("timeline", []))
    print("%-8s %-12s %s" % (name, n["state"], tl))
PY
# Boot-file fetch time measured in the rig: the worker image over HTTP
# and over our TFTP, from the namespace.
if [[ ${MB_QEMU_MEASURE:-0} == 1 ]]; then
	img=images/worker
	[[ -f $work/out/public/$img/vmlinuz ]] || img=images/control-plane
	tftp_port=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["tftp"]["port"])' "$work/out/netboot.yaml")
	size=$(($(stat -c %s "$work/out/public/$img/vmlinuz") + $(stat -c %s "$work/out/public/$img/initrd.img")))
	th=0 tt=0
	for f in vmlinuz initrd.img; do
		a=$(ip netns exec "$ns" curl -fsS -o /dev/null -w '%{time_total}' "$api/files/$img/$f")
		b=$(ip netns exec "$ns" curl -fsS -o /dev/null --tftp-blksize 1468 -w '%{time_total}' "tftp://$server_ip:$tftp_port/$img/$f")
		th=$(python3 -c "print($th + $a)")
		tt=$(python3 -c "print($tt + $b)")
	done
	python3 -c "print('fetch kernel+initrd (%.1f MiB): HTTP %.3f s, TFTP (blksize 1468) %.3f s, TFTP/HTTP %.1fx' % ($size/1048576, $th, $tt, $tt/$th))" | tee -a "$work/report.txt"
fi

rc=0
[[ $status == failed ]] && rc=1
for n in "${order[@]}"; do
	[[ " ${MB_QEMU_DENIED:-} " == *" $n "* ]] && continue
	if [[ -n ${node_mac[$n]:-} ]] && ! grep -q "^$n  *done " "$work/report.txt"; then
		rc=1
		echo "---- $n: tail of the serial console ----" >&2
		tail -n 40 "$work/$n.serial" >&2 || true
		[[ -f $work/$n.serial.2 ]] && { echo "---- $n: second boot ----" >&2; tail -n 40 "$work/$n.serial.2" >&2; }
	fi
done
if ((rc)); then
	echo "---- metalboot-netboot log (tail) ----" >&2
	tail -n 60 "$work/netboot.log" >&2
fi
# Checks specific to a case run after the fleet: they see $work and $ns.
if [[ -n ${MB_QEMU_CHECK:-} ]]; then
	export work ns api
	bash "$MB_QEMU_CHECK" || rc=1
fi
if [[ -n $ui_url && ${MB_QEMU_HOLD:-0} == 1 && -t 0 ]]; then
	read -r -p "the fleet page stays up at $ui_url until you press Enter " _ || true
fi
exit "$rc"
