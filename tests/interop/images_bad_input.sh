#!/usr/bin/env bash
# images_bad_input.sh: bad bases are refused with a clear one-line error
# naming the problem, exit 1, and no output file (an existing image is
# left as it was): a missing base, tarballs with "../" or absolute member
# names or a hard link out of the archive, a corrupt tarball, a symlink
# loop, an unreadable file (checked as an unprivileged user), bad flags.
set -euo pipefail
b=${MB_BUILD_DIR:?}
mb=$b/builder/metalboot-build
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /tmp/mbimgbad.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cd "$work"

refuse() { # refuse "PATTERN" ARGS...: exit 1, message matches, no output
	local pat=$1 out rc
	shift
	set +e
	out=$("$@" 2>&1)
	rc=$?
	set -e
	[[ $rc == 1 ]] || fail "$*: exit $rc, want 1: $out"
	[[ $(wc -l <<<"$out") == 1 ]] || fail "$*: not one line: $out"
	grep -qE -- "$pat" <<<"$out" || fail "$*: '$out' lacks /$pat/"
	[[ ! -e out.img ]] || fail "$*: out.img was written"
	! ls -A | grep -q tmp || fail "$*: a temporary was left: $(ls -A)"
	echo "ok: $out"
}

refuse "missing: No such file" "$mb" initramfs --base missing -o out.img

python3 - <<'PY'
import io, tarfile
def tar(name, members, link=None):
    with tarfile.open(name, "w:gz") as t:
        for m in members:
            i = tarfile.TarInfo(m)
            i.size = 2
            t.addfile(i, io.BytesIO(b"x\n"))
        if link:
            i = tarfile.TarInfo(link[0]); i.type = tarfile.LNKTYPE
            i.linkname = link[1]; t.addfile(i)
tar("dotdot.tgz", ["etc/ok", "etc/../../escape"])
tar("abs.tgz", ["etc/ok", "/etc/passwd"])
tar("hlink.tgz", ["etc/ok"], ("etc/l", "../../etc/shadow"))
tar("good.tgz", ["etc/ok"])
PY
refuse "member 'etc/../../escape': absolute or '..' name refused" \
	"$mb" initramfs --base dotdot.tgz -o out.img
refuse "member '/etc/passwd': absolute or '..' name refused" \
	"$mb" initramfs --base abs.tgz -o out.img
refuse "hard link to '../../etc/shadow' refused" \
	"$mb" initramfs --base hlink.tgz -o out.img
head -c 100 good.tgz >cut.tgz
refuse "cut.tgz: " "$mb" initramfs --base cut.tgz -o out.img
echo "not a tarball at all" >junk.tar
refuse "junk.tar: " "$mb" initramfs --base junk.tar -o out.img

mkdir -p loop/etc
ln -s b loop/etc/a
ln -s a loop/etc/b
refuse "symlink loop: etc/(a -> b|b -> a)" \
	"$mb" initramfs --base loop -o out.img
mkdir -p loop2/x
ln -s /x/y loop2/x/y
refuse "symlink loop: x/y -> /x/y" "$mb" initramfs --base loop2 -o out.img

refuse "--compress: 'lz4'" "$mb" initramfs --base loop -o out.img --compress lz4
refuse "-o is required" "$mb" initramfs --base loop
refuse "--base is required" "$mb" initramfs -o out.img

# An existing image survives a failed rebuild.
"$mb" initramfs --base good.tgz -o keep.img
cp keep.img keep.orig
set +e
"$mb" initramfs --base dotdot.tgz -o keep.img 2>/dev/null
set -e
cmp keep.img keep.orig || fail "a failed build changed keep.img"
rm keep.img keep.orig

# Unreadable files, as an unprivileged user (root reads everything).
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
	mkdir -p unread/etc unread/dir
	echo ok >unread/etc/ok
	echo secret >unread/etc/shadow
	chmod 0600 unread/etc/shadow
	chmod 0777 "$work"
	asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
	refuse "unread/etc/shadow: Permission denied" \
		asnobody "$mb" initramfs --base unread -o out.img
	chmod 0644 unread/etc/shadow
	chmod 0700 unread/dir
	refuse "unread/dir: Permission denied" \
		asnobody "$mb" initramfs --base unread -o out.img
else
	echo "note: not root, unreadable-file case skipped" >&2
fi
echo "images_bad_input: ok"
