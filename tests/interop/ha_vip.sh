#!/usr/bin/env bash
# ha_vip.sh: the control-plane VIP with Debian's real keepalived and
# haproxy. metalboot-build builds an inventory with cluster.control_plane_vip
# and three control planes; each control plane's keepalived.conf,
# haproxy.cfg and check script are taken from its firstboot.yaml (the
# files the agent installs; cloud-init's write_files carry the same bytes)
# and run unchanged but for their absolute paths, which point into this
# test's directory, in one network namespace per control plane, all on one
# bridge. keepalived's interface file is written by cloud-init's own
# runcmd snippet from user-data. Stand-in API servers are `openssl s_server
# -WWW` on 6443 with a certificate from the builder's CA (SANs: the node
# and the VIP, as kubeadm's certSANs give), serving a file named readyz.
# Checks: 1. exactly one namespace (cp1, the highest priority) holds the
# VIP, and cloud-init's wait for the VIP returns; 2. a TLS GET of /readyz
# through the VIP succeeds, verified with the CA, and haproxy balances over
# the three; 3. SIGTERM to the holder's keepalived moves the VIP within 5 s
# and requests through it still succeed; 4. one API server stopped:
# haproxy's stats socket marks it DOWN and no request reaches it.
# Needs root, ip, keepalived, haproxy, openssl, curl, python3 with yaml;
# exit 77 (skip) otherwise.
set -euo pipefail
build=${MB_BUILD_DIR:-$(pwd)}
src=${MB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=$build/builder/metalboot-build
for t in ip keepalived haproxy openssl curl python3; do
	if ! command -v "$t" >/dev/null; then
		echo "skip: needs $t"
		exit 77
	fi
done
if [[ $(id -u) != 0 ]] || ! python3 -c 'import yaml' 2>/dev/null; then
	echo "skip: needs root and python3-yaml"
	exit 77
fi
[[ -x $bld ]] || { echo "no $bld"; exit 1; }

br=mbvip-$$-br
ns=(mbvip-$$-1 mbvip-$$-2 mbvip-$$-3)
ips=(10.78.0.11 10.78.0.12 10.78.0.13)
vip=10.78.0.10
port=8443
# keepalived refuses check scripts under a directory others may write to
# (enable_script_security), so the work directory is not under /tmp.
work=$(mktemp -d "$build/ha_vip.XXXXXX")
chmod 0755 "$work"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	# keepalived takes a moment to release its address and stop its child.
	for _ in $(seq 1 30); do
		local alive=0
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		((alive)) || break
		sleep 0.1
	done
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	for p in "${ns[@]}" "$br"; do
		ip netns del "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	local i
	echo "FAIL: $*"
	for i in 0 1 2; do
		echo "--- cp$((i + 1)) keepalived"
		tail -n 30 "$work/cp$((i + 1))/keepalived.log" 2>/dev/null || true
		echo "--- cp$((i + 1)) haproxy"
		tail -n 10 "$work/cp$((i + 1))/haproxy.log" 2>/dev/null || true
	done
	exit 1
}

# ---- the inventory, built -------------------------------------------------
cat >"$work/cluster.yaml" <<EOF
cluster:
  name: vip
  kubernetes_version: v1.31.1
  control_plane_vip: { address: $vip, port: $port, router_id: 61 }
network:
  server_ip: 10.78.0.1
  subnet: 10.78.0.0/24
nodes:
  - { name: cp1, mac: "52:54:00:78:00:11", ip: ${ips[0]}, role: control-plane }
  - { name: cp2, mac: "52:54:00:78:00:12", ip: ${ips[1]}, role: control-plane }
  - { name: cp3, mac: "52:54:00:78:00:13", ip: ${ips[2]}, role: control-plane }
  - { name: w1, mac: "52:54:00:78:00:21", ip: 10.78.0.21, role: worker }
EOF
"$bld" build "$work/cluster.yaml" -o "$work/out" >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log"; fail "metalboot-build build"; }
ca=$work/out/pki/ca.crt
[[ $(stat -c %a "$work/out/secrets/vrrp-auth-pass") == 600 ]] ||
	fail "secrets/vrrp-auth-pass is not 0600"

# Each control plane's files from its firstboot.yaml, and from its
# user-data the runcmd snippets for keepalived's interface and the VIP wait.
python3 - "$work" <<'EOF'
import sys, tarfile, yaml
work = sys.argv[1]
names = {"/etc/keepalived/keepalived.conf": "keepalived.conf",
         "/etc/keepalived/metalboot-check-haproxy.sh": "check.sh",
         "/etc/haproxy/haproxy.cfg": "haproxy.cfg"}
for n in ("cp1", "cp2", "cp3"):
    fb = yaml.safe_load(open(f"{work}/out/nodes/{n}/firstboot.yaml"))
    got = {}
    for f in fb["files"]:
        if f["path"] in names:
            got[names[f["path"]]] = f
    assert sorted(got) == sorted(names.values()), (n, sorted(got))
    assert got["keepalived.conf"]["mode"] == "0600"
    vip = fb["control_plane_vip"]
    assert vip["interface_file"] == "/etc/keepalived/metalboot-interface.conf"
    for name, f in got.items():
        with open(f"{work}/{n}.{name}", "w") as o:
            o.write(f["content"])
    ud = yaml.safe_load(open(f"{work}/out/nodes/{n}/cloud-init/user-data"))
    # NoCloud-net: the public files inline, keepalived.conf (the VRRP
    # password) only in the secret bundle fetched over HTTPS.
    with tarfile.open(f"{work}/out/nodes/{n}/secrets.tar") as t:
        kc = t.extractfile("etc/keepalived/keepalived.conf").read().decode()
    assert kc == got["keepalived.conf"]["content"], n
    for f in got.values():
        inline = {"path": f["path"], "content": f["content"]} in [
            {"path": w["path"], "content": w.get("content")}
            for w in ud["write_files"]]
        assert inline == (f["mode"] != "0600"), (n, f["path"])
    assert "keepalived" in ud["packages"] and "haproxy" in ud["packages"]
    for c in ud["runcmd"]:
        if isinstance(c, list) and len(c) > 4 and c[4] == vip["interface_file"]:
            open(f"{work}/iface.sh", "w").write(c[2])
        if isinstance(c, list) and len(c) > 3 and c[3].startswith("https://") \
                and c[3].endswith(f":{vip['port']}/"):
            open(f"{work}/vipwait.sh", "w").write(c[2])
            open(f"{work}/vipwait.url", "w").write(c[3])
EOF
[[ -s $work/iface.sh && -s $work/vipwait.sh ]] ||
	fail "user-data lacks the interface or VIP wait runcmd"
grep -q 'auth_pass [a-z0-9]\{8\}$' "$work/cp1.keepalived.conf" ||
	fail "keepalived.conf has no generated auth_pass"
grep -q "auth_pass $(cat "$work/out/secrets/vrrp-auth-pass")" \
	"$work/cp2.keepalived.conf" || fail "auth_pass is not the stored secret"

# ---- three namespaces on one bridge ---------------------------------------
ip netns add "$br"
ip -n "$br" link add br0 type bridge
ip -n "$br" addr add 10.78.0.1/24 dev br0
ip -n "$br" link set br0 up
ip -n "$br" link set lo up
for i in 0 1 2; do
	ip netns add "${ns[$i]}"
	ip -n "$br" link add "p$i" type veth peer name eth0 netns "${ns[$i]}"
	ip -n "$br" link set "p$i" master br0 up
	ip -n "${ns[$i]}" addr add "${ips[$i]}/24" dev eth0
	ip -n "${ns[$i]}" link set eth0 up
	ip -n "${ns[$i]}" link set lo up
done

# ---- per control plane: stand-in API server, haproxy, keepalived ----------
start_api() { # index
	local d=$work/cp$(($1 + 1))
	ip netns exec "${ns[$1]}" bash -c "cd '$d/www' && exec openssl s_server \
		-WWW -quiet -accept 6443 -cert '$d/api.crt' -key '$d/api.key'" \
		>"$d/api.log" 2>&1 &
	pids+=($!)
	api_pid[$1]=$!
}
declare -A api_pid keepalived_pid
for i in 0 1 2; do
	n=cp$((i + 1))
	d=$work/$n
	mkdir -p "$d/www"
	echo "ok $n" >"$d/www/readyz"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/api.key" -subj "/CN=kube-apiserver" \
		-out "$d/api.csr" 2>/dev/null
	printf 'subjectAltName=IP:%s,IP:%s\n' "${ips[$i]}" "$vip" >"$d/ext"
	openssl x509 -req -in "$d/api.csr" -CA "$ca" \
		-CAkey "$work/out/pki/ca.key" -CAcreateserial -days 1 \
		-extfile "$d/ext" -out "$d/api.crt" 2>/dev/null
	# The rendered files; only their absolute paths move into $d.
	for f in keepalived.conf check.sh haproxy.cfg; do
		sed -e "s|/etc/keepalived/metalboot-interface.conf|$d/iface.conf|" \
			-e "s|/etc/keepalived/metalboot-check-haproxy.sh|$d/check.sh|" \
			-e "s|/etc/kubernetes/pki/ca.crt|$ca|" \
			-e "s|/run/haproxy/admin.sock|$d/admin.sock|" \
			"$work/$n.$f" >"$d/$f"
	done
	chmod 0755 "$d" "$d/check.sh"
	chmod 0600 "$d/keepalived.conf"
	# cloud-init's runcmd: "interface NAME" for the node's address.
	ip netns exec "${ns[$i]}" sh -c "$(cat "$work/iface.sh")" "${ips[$i]}" \
		"$d/iface.conf" || fail "$n: the interface snippet failed"
	[[ $(cat "$d/iface.conf") == "interface eth0" ]] ||
		fail "$n: interface file says '$(cat "$d/iface.conf")'"
	start_api "$i"
	ip netns exec "${ns[$i]}" haproxy -db -f "$d/haproxy.cfg" \
		>"$d/haproxy.log" 2>&1 &
	pids+=($!)
	ip netns exec "${ns[$i]}" keepalived -n -l -D -P -f "$d/keepalived.conf" \
		-p "$d/keepalived.pid" -r "$d/vrrp.pid" >"$d/keepalived.log" 2>&1 &
	pids+=($!)
	keepalived_pid[$i]=$!
done

holders() { # the control planes holding the VIP, e.g. "cp1 "
	local i out=""
	for i in 0 1 2; do
		# No "| grep -q" under pipefail: ip could die of SIGPIPE.
		if [[ $(ip -n "${ns[$i]}" -4 -o addr show dev eth0) == \
			*" $vip/32 "* ]]; then
			out+="cp$((i + 1)) "
		fi
	done
	echo "$out"
}
get() { # a TLS GET of /readyz through the VIP, verified with the CA
	ip netns exec "$br" curl -fsS --max-time 3 --cacert "$ca" \
		"https://$vip:$port/readyz"
}
now_ms() { date +%s%3N; }

# ---- 1. exactly one holder: cp1 --------------------------------------------
checks_ok() { # every keepalived's last word on its check is "succeeded"
	local i last
	for i in 1 2 3; do
		last=$(grep -o 'VRRP_Script(metalboot_haproxy) [a-z]*' \
			"$work/cp$i/keepalived.log" | tail -n 1)
		[[ $last == *succeeded ]] || return 1
	done
}
for _ in $(seq 1 100); do
	checks_ok && break
	sleep 0.2
done
checks_ok || fail "the haproxy checks did not all pass within 20 s"
# Until every check passed, priorities moved (a failed check takes 100
# off); from now on they hold still and cp1, the highest, must hold the VIP.
h=""
for _ in $(seq 1 100); do
	h=$(holders)
	[[ $h == "cp1 " ]] && break
	sleep 0.2
done
[[ $h == "cp1 " ]] || fail "VIP holders after 20 s: '$h' (want cp1 alone)"
sleep 3
h=$(holders)
[[ $h == "cp1 " ]] || fail "VIP holders: '$h' (want cp1 alone)"
echo "1. the VIP is on cp1 alone"
ip netns exec "$br" sh -c "$(cat "$work/vipwait.sh")" \
	"$(cat "$work/vipwait.url")" 30 || fail "cloud-init's VIP wait failed"

# ---- 2. /readyz through the VIP, balanced ----------------------------------
seen=""
for _ in $(seq 1 9); do
	body=$(get) || fail "GET /readyz through the VIP"
	[[ $body == "ok cp"[123] ]] || fail "unexpected answer '$body'"
	[[ $seen == *"$body"* ]] || seen+="$body;"
done
[[ $seen == *cp1* && $seen == *cp2* && $seen == *cp3* ]] ||
	fail "haproxy did not balance over all three: $seen"
echo "2. GET /readyz through the VIP: $seen"

# ---- 3. the holder's keepalived stops: the VIP moves within 5 s -----------
t0=$(now_ms)
kill -TERM "${keepalived_pid[0]}"
h=""
while (($(now_ms) - t0 < 5000)); do
	h=$(holders)
	[[ $h == "cp2 " || $h == "cp3 " ]] && break
	sleep 0.1
done
t1=$(now_ms)
[[ $h == "cp2 " ]] ||
	fail "after cp1's keepalived stopped, holders are '$h' (want cp2 alone, the next priority)"
# The bridge's ARP cache follows cp2's gratuitous ARPs; a client may see
# a failed request during the move, but must be served within 5 s of it.
while ! get >/dev/null 2>&1; do
	(($(now_ms) - t0 < 5000)) ||
		fail "no GET through the VIP served within 5 s of the move"
	sleep 0.1
done
t2=$(now_ms)
h=$(holders)
[[ $h == "cp2 " ]] || fail "after the move, holders are '$h' (want cp2 alone)"
for _ in $(seq 1 3); do
	get >/dev/null || fail "GET through the VIP after the move"
done
echo "3. the VIP moved to cp2 in $((t1 - t0)) ms, served again after $((t2 - t0)) ms"

# ---- 4. one API server stops: haproxy no longer sends to it ---------------
stat_of() { # ns-index server: its status in haproxy's stats (UP, DOWN, ...)
	ip netns exec "${ns[$1]}" python3 - "$work/cp$(($1 + 1))/admin.sock" \
		"$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
lines = data.decode().splitlines()
head = lines[0].lstrip("# ").split(",")
for l in lines[1:]:
    f = dict(zip(head, l.split(",")))
    if f.get("pxname") == "metalboot-api" and f.get("svname") == sys.argv[2]:
        print(f["status"])
EOF
}
[[ $(stat_of 1 cp3) == UP ]] || fail "cp3 is not UP in cp2's haproxy"
kill "${api_pid[2]}"
st=""
for _ in $(seq 1 50); do
	st=$(stat_of 1 cp3)
	[[ $st == DOWN* ]] && break
	sleep 0.2
done
[[ $st == DOWN* ]] || fail "cp2's haproxy still says cp3 is '$st'"
for _ in $(seq 1 9); do
	body=$(get) || fail "GET through the VIP with cp3's API server down"
	[[ $body == "ok cp1" || $body == "ok cp2" ]] ||
		fail "answer '$body' with cp3's API server down"
done
echo "4. cp3's API server stopped: DOWN in haproxy, 9 of 9 requests served by cp1 and cp2"
echo "ok"
