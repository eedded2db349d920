#!/usr/bin/env bash
# package.sh: metalboot builds, installs and packages like real software.
#   1. the .deb is built twice (scripts/package-deb: gcc, Release, -Werror),
#      in two different folders, and the two files are byte-identical;
#   2. `cmake --install` into a DESTDIR puts the programs, profiles, docs,
#      units and man pages where they belong, and the installed
#      metalboot-build validates an example from another folder, finding
#      its profiles with no environment variable;
#   3. the .deb installs with apt-get in a fresh Debian 12 root (mmdebstrap
#      minbase, cached in the build folder), creates the metalboot system
#      user, and its units pass `systemd-analyze verify`; the installed
#      programs run there, build an OUT as the metalboot user, and the
#      service's command line, under the unit's capability bounding set and
#      no_new_privs, serves that OUT (in a network namespace of its own).
# The clang build is the one scripts/test makes (with the sanitizers).
set -euo pipefail
b=${MB_BUILD_DIR:?}
s=${MB_SOURCE_DIR:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "skip: needs root"; exit 77; }
for t in mmdebstrap help2man dpkg-shlibdeps cpack; do
	command -v "$t" >/dev/null || fail "$t not installed (scripts/deps.sh)"
done

work=$(mktemp -d /tmp/mb-package.XXXXXX)
ns=mbpkg$$
root=$work/root
cleanup() {
	ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	for m in proc dev; do
		umount -l "$root/$m" 2>/dev/null || true
	done
	if ! findmnt -rn -o TARGET | grep -q "^$work"; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# ---- 1. two builds, one package ------------------------------------------
export SOURCE_DATE_EPOCH=1700000000
deb1=$("$s/scripts/package-deb" "$work/a") || fail "package-deb (first)"
deb2=$("$s/scripts/package-deb" "$work/deb-b") || fail "package-deb (second)"
cmp "$deb1" "$deb2" || fail "two builds of one commit differ: $deb1 $deb2"
echo "ok: two builds give the same .deb ($(stat -c %s "$deb1") bytes)"
dpkg-deb -f "$deb1" Depends | grep -q 'libevent-2.1-7' ||
	fail "Depends lacks the shared libraries: $(dpkg-deb -f "$deb1" Depends)"

# ---- 2. cmake --install into a DESTDIR -----------------------------------
dest=$work/dest
DESTDIR=$dest cmake --install "$work/a" >/dev/null
for f in usr/bin/metalboot-build usr/bin/metalboot-netboot \
	usr/bin/metalboot-firstboot \
	usr/share/metalboot/profiles/roles/control-plane.yaml \
	usr/share/metalboot/profiles/roles/worker.yaml \
	usr/share/metalboot/profiles/roles/etcd.yaml \
	usr/share/doc/metalboot/examples/lab.yaml \
	usr/share/doc/metalboot/netboot.md \
	usr/lib/systemd/system/metalboot-netboot.service \
	usr/lib/systemd/system/metalboot-firstboot.service \
	usr/share/man/man1/metalboot-build.1 \
	usr/share/man/man8/metalboot-netboot.8 \
	usr/share/man/man8/metalboot-firstboot.8; do
	[[ -e $dest/$f ]] || fail "cmake --install did not install $f"
done
cmp "$dest/usr/lib/systemd/system/metalboot-firstboot.service" \
	"$s/firstboot/metalboot-firstboot.service" ||
	fail "the installed agent unit is not the one the images use"
# Every option of --help is in the man page (one source for both).
for p in metalboot-build:1 metalboot-netboot:8 metalboot-firstboot:8; do
	prog=${p%:*}
	page=$(man -l "$dest/usr/share/man/man${p#*:}/$prog.${p#*:}" 2>/dev/null |
		col -b 2>/dev/null || cat "$dest/usr/share/man/man${p#*:}/$prog.${p#*:}")
	for opt in $("$dest/usr/bin/$prog" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "$opt" <<<"${page//\\-/-}" || fail "$prog.${p#*:} lacks $opt"
	done
done
mkdir "$work/elsewhere"
(
	cd "$work/elsewhere"
	unset METALBOOT_PROFILES
	cp "$s/profiles/examples/lab.yaml" .
	out=$("$dest/usr/bin/metalboot-build" validate lab.yaml) ||
		fail "installed validate: $out"
	[[ $out == *": ok: "* ]] || fail "installed validate said: $out"
	# It used the installed profiles: without them it must fail.
	mv "$dest/usr/share/metalboot/profiles" "$work/profiles.away"
	if "$dest/usr/bin/metalboot-build" validate lab.yaml >/dev/null 2>&1; then
		fail "validate passed without the installed profiles"
	fi
	mv "$work/profiles.away" "$dest/usr/share/metalboot/profiles"
)
echo "ok: cmake --install into a DESTDIR; the installed validate runs elsewhere"

# ---- 3. the .deb on a fresh Debian 12 --------------------------------------
cache=$b/cache
base=$cache/pkgroot-bookworm-v2.tar
# The package's dependencies are in the cached root already (and apt's
# lists are kept), so that a rerun downloads nothing.
pkgs=systemd,adduser,iproute2,curl,ca-certificates,man-db,ipxe
pkgs+=,libarchive13,libcurl4,libevent-2.1-7,libevent-openssl-2.1-7
pkgs+=,libjansson4,libssl3,libyaml-0-2
if [[ ! -f $base ]]; then
	mkdir -p "$cache"
	src_list=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	mmdebstrap --variant=minbase --format=tar --include="$pkgs" \
		--skip=cleanup/apt/lists bookworm "$base.partial" \
		${src_list:+"$src_list"} >"$work/mmdebstrap.log" 2>&1 ||
		{ tail "$work/mmdebstrap.log"; fail "mmdebstrap (Debian mirror reachable?)"; }
	mv "$base.partial" "$base"
fi
mkdir -p "$root"
tar -xf "$base" -C "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp "$deb1" "$root/tmp/metalboot.deb"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
ip netns add "$ns"
ip -n "$ns" link set lo up
inroot() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 "$@"; }
# apt-get may fetch missing dependencies from Debian (outside the netns).
if ! inroot apt-get install -y -qq /tmp/metalboot.deb >"$work/apt.log" 2>&1; then
	inroot apt-get update -qq >>"$work/apt.log" 2>&1 || true
	inroot apt-get install -y -qq /tmp/metalboot.deb >>"$work/apt.log" 2>&1 ||
		{ cat "$work/apt.log"; fail "apt-get install of the .deb"; }
fi
inroot getent passwd metalboot >/dev/null || fail "no metalboot system user"
[[ $(inroot stat -c '%U %a' /var/lib/metalboot) == "metalboot 750" ]] ||
	fail "/var/lib/metalboot: $(inroot stat -c '%U %a' /var/lib/metalboot)"
for u in metalboot-netboot metalboot-firstboot; do
	v=$(inroot systemd-analyze verify "/usr/lib/systemd/system/$u.service" 2>&1) ||
		fail "systemd-analyze verify $u: $v"
	# Warnings about the unit itself (not about the chroot) fail too.
	if grep -E "$u\.service:[0-9]+" <<<"$v"; then
		fail "systemd-analyze verify $u warns"
	fi
done
echo "ok: the .deb installs on a fresh Debian 12; both units verify"

# The installed programs on that system, as its users would run them.
inroot man -w metalboot-netboot >/dev/null || fail "man metalboot-netboot"
inroot metalboot-build validate /usr/share/doc/metalboot/examples/lab.yaml \
	>/dev/null || fail "validate in the fresh root"
inroot runuser -u metalboot -- metalboot-build build -q \
	/usr/share/doc/metalboot/examples/lab.yaml -o /var/lib/metalboot/out ||
	fail "metalboot-build build as the metalboot user"
ln -s /var/lib/metalboot/out/netboot.yaml "$root/etc/metalboot/netboot.yaml"

# The unit's ExecStart, with its bounding set and no_new_privs, on the
# namespace's loopback (DHCP off and high ports: the lab's server address
# is not here).
unit=$root/usr/lib/systemd/system/metalboot-netboot.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z ' 'a-z,' |
	sed 's/cap_//g; s/,/,+/g; s/^/-all,+/')
ip netns exec "$ns" chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin \
	setpriv --bounding-set="$caps" --no-new-privs $exec_start \
	--listen 127.0.0.1 --dhcp off --tftp-port 6969 --http-port 8080 \
	--https-port 8443 >"$work/netboot.log" 2>&1 &
nb=$!
ok=0
for _ in $(seq 100); do
	if ip netns exec "$ns" curl -sf -o "$work/nodes.json" \
		http://127.0.0.1:8080/v1/nodes; then
		ok=1
		break
	fi
	kill -0 "$nb" 2>/dev/null || break
	sleep 0.2
done
((ok)) || { cat "$work/netboot.log"; fail "the service's command did not serve"; }
grep -q '"cp1"' "$work/nodes.json" || fail "/v1/nodes lacks cp1: $(cat "$work/nodes.json")"
uid=$(awk '/^Uid:/ {print $3}' "/proc/$nb/status")
[[ $uid == $(inroot id -u metalboot) ]] ||
	fail "the server runs as uid $uid, not metalboot"
kill "$nb"
wait "$nb" 2>/dev/null || true
echo "ok: the installed service's command serves OUT as the metalboot user"
echo "package: ok"
