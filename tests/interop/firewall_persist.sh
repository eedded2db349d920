#!/usr/bin/env bash
# firewall_persist.sh - the boot-time firewall script the agent installs
# (/etc/metalboot/firewall.sh, common/hostconf.c), run for real:
#  1. iptables in a network namespace of its own, FORWARD's policy DROP
#     first: run by dash, then again by busybox sh, each INPUT rule exists
#     exactly once and FORWARD's policy is ACCEPT; the host's rules are
#     not touched;
#  2. with no firewall manager at all it says so and succeeds;
#  3. firewalld running (recording stand-in): each port added --permanent
#     once over two runs, then --reload, no iptables rule;
#  4. ufw active (stand-in; /etc/default/ufw bind-mounted from a scratch
#     copy in a mount namespace): ufw allow for each port,
#     DEFAULT_FORWARD_POLICY="ACCEPT" set once, ufw reloaded once;
#  5. its unit passes systemd-analyze verify (when systemd is installed).
# Needs root, ip, iptables and unshare; exit 77 (skip) otherwise.
. "$(dirname "$0")/standins/fbtest.sh"
IPT=$(command -v iptables || true)
if [[ $(id -u) != 0 ]] || [[ -z $IPT ]] || ! command -v ip >/dev/null ||
	! command -v unshare >/dev/null; then
	echo "SKIP: needs root, ip, iptables (apt-get install iptables), unshare"
	exit 77
fi
NS=mbfw-$$
cleanup_ns() {
	ip netns del "$NS" 2>/dev/null || true
	cleanup
}
trap cleanup_ns EXIT

# The script and unit as the agent installs them for the lab's ports.
NAME=w1 ROLE=worker MAC=52:54:00:00:02:01 IP=192.168.100.21 ACTION=join
RUNTIME=containerd EXTRA=""
payload >"$WORK/w1.yaml"
R=$WORK/r S=$WORK/s
mkroot "$R"
agent "$R" "$S" --config "$WORK/w1.yaml" 2>"$WORK/agent.err" ||
	{ cat "$WORK/agent.err"; fail "agent run failed"; }
SCRIPT=$R/etc/metalboot/firewall.sh
UNIT=$R/etc/systemd/system/metalboot-firewall.service
[[ -x $SCRIPT && -f $UNIT ]] || fail "the agent did not install the script and unit"
has_call "$S" "systemctl enable metalboot-firewall.service"

# count NS RULE: how many times iptables -S lists RULE in the namespace.
count() {
	ip netns exec "$NS" "$IPT" -S | grep -cxF -- "$1" || true
}

echo "== 1. iptables, for real, in namespace $NS"
host_before=$("$IPT" -S 2>&1 || true)
ip netns add "$NS"
ip netns exec "$NS" "$IPT" -P FORWARD DROP
[[ $(count "-P FORWARD DROP") == 1 ]] || fail "FORWARD is not DROP to start with"
mkdir -p "$WORK/realbin"
ln -s "$IPT" "$WORK/realbin/iptables"
shells=(/bin/sh)
command -v busybox >/dev/null && shells+=("$(command -v busybox) sh")
for sh in "${shells[@]}" "${shells[0]}"; do
	# shellcheck disable=SC2086 # "busybox sh" is two words
	ip netns exec "$NS" env -i PATH="$WORK/realbin" $sh "$SCRIPT" \
		>"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "$sh: the script failed"; }
	grep -qx 'metalboot-firewall: iptables: tcp:6443 tcp:30000:32767 udp:8472' \
		"$WORK/out" || fail "$sh: $(cat "$WORK/out")"
	for rule in "-A INPUT -p tcp -m tcp --dport 6443 -j ACCEPT" \
		"-A INPUT -p tcp -m tcp --dport 30000:32767 -j ACCEPT" \
		"-A INPUT -p udp -m udp --dport 8472 -j ACCEPT" "-P FORWARD ACCEPT"; do
		[[ $(count "$rule") == 1 ]] ||
			fail "$sh: '$rule' $(count "$rule") times:
$(ip netns exec "$NS" "$IPT" -S)"
	done
	[[ $(ip netns exec "$NS" "$IPT" -S INPUT | grep -c '^-A') == 3 ]] ||
		fail "$sh: other INPUT rules: $(ip netns exec "$NS" "$IPT" -S INPUT)"
done
[[ $("$IPT" -S 2>&1 || true) == "$host_before" ]] || fail "the host's rules changed"

echo "== 2. no firewall manager"
mkdir -p "$WORK/empty"
env -i PATH="$WORK/empty" /bin/sh "$SCRIPT" >"$WORK/out" 2>&1 ||
	{ cat "$WORK/out"; fail "no manager: the script failed"; }
grep -qx 'metalboot-firewall: no firewalld, ufw or iptables: nothing to open' \
	"$WORK/out" || fail "no manager: $(cat "$WORK/out")"

# run STATE: the script with the stand-ins first on PATH.
run() {
	env -i PATH="$BIN:/usr/bin:/bin" MB_FB_ROOT="$R" MB_FB_STATE="$1" \
		MB_FB_CALLS="$1/calls" /bin/sh "$SCRIPT"
}

echo "== 3. firewalld (stand-in), twice"
F=$WORK/fw
mkdir -p "$F"
touch "$F/firewalld-running"
if ! { run "$F" && run "$F"; } >"$WORK/out" 2>&1; then
	cat "$WORK/out"
	fail "firewalld: the script failed"
fi
for p in 6443/tcp 30000-32767/tcp 8472/udp; do
	[[ $(grep -cxF "firewall-cmd --permanent --add-port=$p" "$F/calls") == 1 ]] ||
		fail "firewalld: $p added other than once: $(cat "$F/calls")"
	[[ $(grep -cxF "firewall-cmd --permanent --query-port=$p" "$F/calls") == 2 ]] ||
		fail "firewalld: $p not queried first"
done
[[ $(grep -cxF "firewall-cmd --reload" "$F/calls") == 2 ]] || fail "firewalld: reload"
[[ $(grep -cxF "iptables -P FORWARD ACCEPT" "$F/calls") == 2 ]] || fail "firewalld: FORWARD"
grep -qE '^(iptables -A|ufw)' "$F/calls" && fail "firewalld: other managers used"
[[ $(sort "$F/firewalld-ports") == $'30000-32767/tcp\n6443/tcp\n8472/udp' ]] ||
	fail "firewalld: runtime ports after --reload: $(cat "$F/firewalld-ports")"

echo "== 4. ufw (stand-in), twice"
U=$WORK/ufw
mkdir -p "$U" "$WORK/etc-default"
touch "$U/ufw-active"
printf 'IPV6=yes\nDEFAULT_FORWARD_POLICY="DROP"\nMANAGE_BUILTINS=no\n' \
	>"$WORK/etc-default/ufw"
host_ufw=$(cat /etc/default/ufw 2>/dev/null || echo absent)
for _ in 1 2; do
	unshare --mount --propagation private sh -c \
		'mount --bind "$1" /etc/default && shift && exec "$@"' _ \
		"$WORK/etc-default" env -i PATH="$BIN:/usr/bin:/bin" \
		MB_FB_ROOT="$R" MB_FB_STATE="$U" MB_FB_CALLS="$U/calls" \
		/bin/sh "$SCRIPT" >>"$WORK/out.ufw" 2>&1 ||
		{ cat "$WORK/out.ufw"; fail "ufw: the script failed"; }
done
for p in 6443/tcp 30000:32767/tcp 8472/udp; do
	[[ $(grep -cxF "ufw allow $p" "$U/calls") == 2 ]] ||
		fail "ufw: allow $p: $(cat "$U/calls")"
done
[[ $(sort "$U/ufw-rules") == $'30000:32767/tcp\n6443/tcp\n8472/udp' ]] ||
	fail "ufw: rules $(cat "$U/ufw-rules")"
[[ $(grep -cxF "ufw reload" "$U/calls") == 1 ]] || fail "ufw: reloaded other than once"
[[ $(cat "$WORK/etc-default/ufw") == 'IPV6=yes
MANAGE_BUILTINS=no
DEFAULT_FORWARD_POLICY="ACCEPT"' ]] || fail "ufw: /etc/default/ufw: $(cat "$WORK/etc-default/ufw")"
[[ ! -e $WORK/etc-default/ufw.metalboot ]] || fail "ufw: temporary file left"
grep -qE '^(iptables -A|firewall-cmd --permanent)' "$U/calls" &&
	fail "ufw: other managers used"
[[ $(grep -cxF "iptables -P FORWARD ACCEPT" "$U/calls") == 2 ]] || fail "ufw: FORWARD"
[[ $(cat /etc/default/ufw 2>/dev/null || echo absent) == "$host_ufw" ]] ||
	fail "the host's /etc/default/ufw changed"

echo "== 5. the unit"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$WORK/unit"
	cp "$UNIT" "$WORK/unit/"
	systemd-analyze verify "$WORK/unit/metalboot-firewall.service" \
		>"$WORK/verify" 2>&1 || fail "systemd-analyze: $(cat "$WORK/verify")"
	[[ ! -s $WORK/verify ]] || fail "systemd-analyze: $(cat "$WORK/verify")"
else
	echo "no systemd-analyze: unit not verified"
fi
echo PASS
