#!/usr/bin/env bash
# netboot_privdrop.sh: metalboot-netboot started as root drops to --user
# once its ports are bound. In a private network namespace pair, with an
# OUT built from profiles/examples/lab.yaml and a temporary system user:
#  - root without the user: exit 1 naming it and how to create it;
#  - an OUT still owned by root (0600 payloads): exit 1 naming the file;
#  - --user root: served, with a warning;
#  - --user USER: /proc/PID/status shows USER's ids, only CAP_NET_ADMIN
#    (effective, permitted and bounding), no_new_privs, a seccomp filter;
#    DHCP (udhcpc gets its reservation by unicast, which needs the ARP
#    entry only CAP_NET_ADMIN may set), TFTP, HTTP and pinned HTTPS (a
#    0600 payload) still serve; the state dir's files belong to USER;
#  - Landlock: once STATE/nodes is a symbolic link to a directory USER
#    owns outside OUT, node state is not written there (USER's file
#    permissions alone would allow it).
# Needs root, ip, busybox, python3, curl, useradd; exit 77 (skip) otherwise.
set -euo pipefail
build=${MB_BUILD_DIR:-$(pwd)}
src=${MB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$build/netboot/metalboot-netboot
mbuild=$build/builder/metalboot-build
if [[ $(id -u) != 0 ]]; then
	echo "skip: needs root"
	exit 77
fi
for t in ip busybox python3 curl useradd userdel; do
	command -v "$t" >/dev/null || { echo "skip: no $t"; exit 77; }
done
[[ -x $bin && -x $mbuild ]] || { echo "no $bin or $mbuild"; exit 1; }

user=mbpd$$
s=mbpd-$$-s
c=mbpd-$$-c
work=$(mktemp -d /tmp/mb-privdrop.XXXXXX)
spid=
made_user=0
cleanup() {
	if [[ -n $spid ]]; then
		kill -9 "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	fi
	ip netns del "$s" 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	rm -rf "$work"
	if ((made_user)); then
		userdel "$user" 2>/dev/null || true
	fi
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- server log"
	cat "$work"/server*.log 2>/dev/null || true
	exit 1
}

useradd --system --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin "$user"
made_user=1
uid=$(id -u "$user")
gid=$(id -g "$user")

# The lab's OUT, with a file to fetch. $work is 0700: let USER through.
chmod 755 "$work"
out=$work/out
"$mbuild" build "$src/profiles/examples/lab.yaml" -o "$out" --jobs 2 \
	>"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }
head -c 200000 /dev/urandom >"$out/public/blob"

ip netns add "$s"
ip netns add "$c"
ip -n "$s" link add srv0 type veth peer name cli0 netns "$c"
ip -n "$s" addr add 192.168.100.1/24 dev srv0
ip -n "$s" link set srv0 up
ip -n "$s" link set lo up
ip -n "$c" link set lo up
ip -n "$c" link set cli0 address 52:54:00:00:01:01
ip -n "$c" link set cli0 up

n=0
wrap=()
# start ARGS...: start the server in the server namespace, wait until it
# serves (0) or exits (1, its status in $rc).
start() {
	n=$((n + 1))
	ip netns exec "$s" "${wrap[@]}" "$bin" --config "$out/netboot.yaml" -v "$@" \
		>"$work/server$n.log" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		grep -q 'info: serving ' "$work/server$n.log" && return 0
		if ! kill -0 "$spid" 2>/dev/null; then
			rc=0
			wait "$spid" || rc=$?
			spid=
			return 1
		fi
		sleep 0.2
	done
	fail "server did not start"
}
stop() {
	kill "$spid"
	rc=0
	wait "$spid" || rc=$?
	spid=
	[[ $rc == 0 ]] || fail "server exit status $rc after SIGTERM"
}

echo "== root and no such user"
rc=0
"$bin" --config "$out/netboot.yaml" --user "nouser$$" >"$work/e1.log" 2>&1 ||
	rc=$?
[[ $rc == 1 ]] || fail "missing user: exit $rc"
grep -q "user 'nouser$$' does not exist; create it (useradd --system" \
	"$work/e1.log" || fail "missing user: $(cat "$work/e1.log")"
echo "ok: $(cat "$work/e1.log")"
if ! getent passwd metalboot >/dev/null; then
	rc=0
	"$bin" --config "$out/netboot.yaml" >"$work/e2.log" 2>&1 || rc=$?
	[[ $rc == 1 ]] && grep -q "user 'metalboot' does not exist" \
		"$work/e2.log" || fail "default user: exit $rc $(cat "$work/e2.log")"
	echo "ok: without --user, the missing metalboot user is an error"
fi

echo "== an OUT the user cannot read"
start --user "$user" && fail "started with a root-owned OUT"
[[ $rc == 1 ]] || fail "root-owned OUT: exit $rc"
grep -q "nodes/.*: not readable by user $user (owner uid 0, mode 600); give OUT to it: chown -R $user: OUT" \
	"$work/server$n.log" || fail "root-owned OUT: $(tail -3 "$work/server$n.log")"
echo "ok: $(grep 'not readable' "$work/server$n.log")"

echo "== --user root"
start --user root || fail "--user root did not start (exit $rc)"
grep -q 'warning: running as root for the whole run (--user root)' \
	"$work/server$n.log" || fail "no warning for --user root"
grep -q '^Uid:	0	' "/proc/$spid/status" || fail "--user root is not root"
stop
echo "ok: --user root serves as root, with a warning"

echo "== --user $user"
chown -R "$user:" "$out"
# Two worker loops: their threads start after the drop and carry the TFTP
# transfer below under the same ids, Landlock and seccomp.
start --user "$user" --workers 2 || fail "did not start (exit $rc)"
st=/proc/$spid/status
field() { sed -n "s/^$1:\t//p" "$st"; }
[[ $(field Uid) == "$uid	$uid	$uid	$uid" ]] || fail "Uid: $(field Uid)"
[[ $(field Gid) == "$gid	$gid	$gid	$gid" ]] || fail "Gid: $(field Gid)"
[[ $(field Groups | tr -d " ") == "$gid" ]] || fail "Groups: $(field Groups)"
# CAP_NET_ADMIN is bit 12: 0x1000, and nothing else anywhere.
for k in CapEff CapPrm CapBnd; do
	[[ $(field $k) == 0000000000001000 ]] || fail "$k: $(field $k)"
done
for k in CapInh CapAmb; do
	[[ $(field $k) == 0000000000000000 ]] || fail "$k: $(field $k)"
done
[[ $(field NoNewPrivs) == 1 ]] || fail "NoNewPrivs: $(field NoNewPrivs)"
[[ $(field Seccomp) == 2 ]] || fail "Seccomp: $(field Seccomp)" # filter mode
grep -q "privileges: uid $uid gid $gid ($user), capabilities cap_net_admin (bounding set too)" \
	"$work/server$n.log" || fail "no privileges line"
grep -q 'privileges: Landlock ABI [0-9]*: files only under OUT' \
	"$work/server$n.log" || landlock=0
echo "ok: uid/gid $uid/$gid, CapEff=CapPrm=CapBnd=cap_net_admin, no_new_privs, seccomp"
echo "    $(grep -o 'privileges: Landlock.*\|privileges: no Landlock.*' "$work/server$n.log")"

# DHCP: udhcpc takes unicast replies, for which the server sets an ARP
# entry (CAP_NET_ADMIN); without it the log says "no ARP entry".
cat >"$work/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] && echo "$ip" >"$OUT"
exit 0
EOF
chmod +x "$work/udhcpc.sh"
OUT=$work/ip ip netns exec "$c" busybox udhcpc -i cli0 -f -q -n -t 5 -T 1 \
	-s "$work/udhcpc.sh" >/dev/null 2>&1 || true
[[ $(cat "$work/ip" 2>/dev/null) == 192.168.100.11 ]] ||
	fail "DHCP: cp1 got $(cat "$work/ip" 2>/dev/null || echo nothing)"
grep -q 'no ARP entry' "$work/server$n.log" &&
	fail "the ARP entry could not be set after the drop"
# The client had no address to announce: only SIOCSARP made this entry.
ip -n "$s" neigh show 192.168.100.11 dev srv0 | grep -q 52:54:00:00:01:01 ||
	fail "no ARP entry for cp1: $(ip -n "$s" neigh show)"
echo "ok: DHCP: cp1 got 192.168.100.11 by unicast (ARP entry set)"
ip -n "$c" addr add 192.168.100.11/24 dev cli0

# TFTP, HTTP, and the 0600 payload over pinned HTTPS.
(cd "$work" && ip netns exec "$c" busybox tftp -g -r blob -l "$work/got.tftp" \
	192.168.100.1) || fail "TFTP"
cmp -s "$work/got.tftp" "$out/public/blob" || fail "TFTP: blob differs"
ip netns exec "$c" curl -sf -o "$work/got.http" \
	http://192.168.100.1/files/blob || fail "HTTP /files/blob"
cmp -s "$work/got.http" "$out/public/blob" || fail "HTTP: blob differs"
ip netns exec "$c" curl -sf --cacert "$out/pki/provisioning-ca.crt" \
	-o "$work/got.fb" \
	https://192.168.100.1/v1/nodes/52:54:00:00:01:01/firstboot ||
	fail "HTTPS firstboot"
cmp -s "$work/got.fb" "$out/nodes/cp1/firstboot.yaml" || fail "payload differs"
echo "ok: TFTP, HTTP and HTTPS (a 0600 payload) serve after the drop"

# The state the daemon wrote is USER's. The lease file is written by the
# lease writer's thread (started after the drop), at most a second after
# the ACK.
for _ in $(seq 50); do
	[[ -e $out/state/dhcp.leases ]] && break
	sleep 0.1
done
for f in dhcp.leases admin-token; do
	[[ $(stat -c %u "$out/state/$f") == "$uid" ]] ||
		fail "state/$f owned by $(stat -c %U "$out/state/$f")"
done
echo "ok: state files belong to $user"

# Landlock: USER's own directory outside OUT, reached through a symbolic
# link in the state dir, stays empty when a DHCP exchange records cp1.
if [[ ${landlock:-1} == 1 ]]; then
	mkdir "$work/outside"
	chown "$user:" "$work/outside"
	chmod 700 "$work/outside"
	rm -rf "$out/state/nodes"
	ln -s "$work/outside" "$out/state/nodes"
	ip -n "$c" addr del 192.168.100.11/24 dev cli0
	rm -f "$work/ip"
	OUT=$work/ip ip netns exec "$c" busybox udhcpc -i cli0 -f -q -n -t 5 \
		-T 1 -s "$work/udhcpc.sh" >/dev/null 2>&1 || true
	[[ $(cat "$work/ip" 2>/dev/null) == 192.168.100.11 ]] ||
		fail "second DHCP exchange"
	[[ -z $(ls -A "$work/outside") ]] ||
		fail "wrote outside OUT and state: $(ls -A "$work/outside")"
	# Node states are written by the writer thread, a second later.
	for _ in $(seq 50); do
		grep -q 'cannot save node states in .*: Permission denied' \
			"$work/server$n.log" && break
		sleep 0.1
	done
	grep -q 'cannot save node states in .*: Permission denied' \
		"$work/server$n.log" || fail "no refusal in the log"
	[[ -z $(ls -A "$work/outside") ]] ||
		fail "wrote outside OUT and state: $(ls -A "$work/outside")"
	echo "ok: Landlock: nothing written outside OUT and the state dir"
	rm "$out/state/nodes"
fi
stop

# What docs/netboot.md tells a systemd unit to allow (CapabilityBoundingSet)
# is enough: start with a bounding set of just that.
if command -v capsh >/dev/null; then
	echo "== started with only the documented capabilities"
	need=cap_net_bind_service,cap_net_admin,cap_setuid,cap_setgid
	need=$need,cap_setpcap,cap_chown,cap_dac_override
	all=$(capsh --print | sed -n 's/^Bounding set =//p')
	drop=$(tr , '\n' <<<"$all" | grep -vxF -f <(tr , '\n' <<<"$need") |
		paste -sd,)
	rm -rf "$out/state" # made again, by root, and given to USER
	wrap=(capsh "--drop=$drop" -- -c 'exec "$@"' nb)
	start --user "$user" || fail "did not start (exit $rc)"
	wrap=()
	st=/proc/$spid/status
	[[ $(field CapBnd) == 0000000000001000 ]] || fail "CapBnd: $(field CapBnd)"
	ip -n "$c" addr flush dev cli0
	rm -f "$work/ip"
	OUT=$work/ip ip netns exec "$c" busybox udhcpc -i cli0 -f -q -n -t 5 \
		-T 1 -s "$work/udhcpc.sh" >/dev/null 2>&1 || true
	[[ $(cat "$work/ip" 2>/dev/null) == 192.168.100.11 ]] ||
		fail "DHCP with the documented capabilities"
	grep -q 'no ARP entry' "$work/server$n.log" && fail "no ARP entry"
	ip -n "$c" addr add 192.168.100.11/24 dev cli0
	ip netns exec "$c" curl -sf --cacert "$out/pki/provisioning-ca.crt" \
		-o "$work/got.fb2" \
		https://192.168.100.1/v1/nodes/52:54:00:00:01:01/firstboot ||
		fail "HTTPS firstboot with the documented capabilities"
	cmp -s "$work/got.fb2" "$out/nodes/cp1/firstboot.yaml" ||
		fail "payload differs"
	[[ $(stat -c %u "$out/state/admin-token") == "$uid" ]] ||
		fail "state made again is not $user's"
	stop
	echo "ok: $need suffice"
fi
echo "all checks passed"
