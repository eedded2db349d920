#!/usr/bin/env bash
# images_list.sh: `metalboot-build initramfs` output read by real peers.
# A tree with a symlink, a hard link, a FIFO, a device node, odd modes and
# owners is written as newc (none, gzip, zstd) from the directory and from
# tar, tar.gz and tar.zst; GNU cpio -t and bsdtar -t list every member,
# GNU cpio extracts it back with modes, owners, links and contents intact,
# and an overlay directory is appended after the base.
set -euo pipefail
b=${MB_BUILD_DIR:?}
mb=$b/builder/metalboot-build
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in cpio bsdtar zstd tar; do
	command -v $t >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
work=$(mktemp -d /tmp/mbimglist.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
umask 022
mkdir -p tree/etc/ssl tree/bin tree/dev tree/var/empty tree/usr/lib
echo "hello" >tree/etc/motd
printf 'data\n%.0s' {1..5000} >tree/usr/lib/big
ln tree/usr/lib/big tree/usr/lib/big.link
ln -s ../etc/motd tree/bin/motd
ln -s /nonexistent tree/bin/dangling
printf '#!/bin/sh\necho hi\n' >tree/init
chmod 0755 tree/init
echo secret >tree/etc/ssl/key
chmod 0600 tree/etc/ssl/key
echo suid >tree/bin/suid
chmod 4755 tree/bin/suid
chmod 0700 tree/var/empty
mkfifo tree/dev/fifo
root=0
if [[ $(id -u) == 0 ]]; then
	root=1
	mknod tree/dev/null c 1 3
	chown 1234:5678 tree/etc/motd
fi
(cd tree && find . -mindepth 1 | sed 's|^\./||' | sort) >want.names

check() { # check IMAGE DECOMPRESSOR
	local img=$1 cat=$2
	[[ $($cat "$img" | head -c 6) == 070701 ]] || fail "$img: not newc"
	$cat "$img" | cpio -it --quiet | sort >got.cpio
	diff -u want.names got.cpio || fail "$img: cpio -t differs"
	bsdtar -tf "$img" | sort >got.bsdtar
	diff -u want.names got.bsdtar || fail "$img: bsdtar -t differs"
	rm -rf x && mkdir x
	(cd x && $cat "../$img" | cpio -idm --quiet --no-absolute-filenames)
	diff -r --no-dereference tree x >diff.out || true
	if grep -v 'is a fifo while\|special file while' diff.out; then
		fail "$img: contents differ"
	fi
	for f in etc/motd etc/ssl/key bin/suid var/empty init bin/motd \
		dev/fifo; do
		[[ $(stat -c '%a %u %g %F' "tree/$f") == \
			$(stat -c '%a %u %g %F' "x/$f") ]] ||
			fail "$img: $f: $(stat -c '%a %u %g %F' "x/$f")"
	done
	[[ $(stat -c %i x/usr/lib/big) == $(stat -c %i x/usr/lib/big.link) ]] ||
		fail "$img: hard link lost"
	[[ $(readlink x/bin/motd) == ../etc/motd ]] || fail "$img: symlink"
	if ((root)); then
		[[ $(stat -c '%t:%T %F' x/dev/null) == "1:3 character special file" ]] ||
			fail "$img: device node"
	fi
}

"$mb" initramfs --base tree -o none.img --compress none
check none.img cat
"$mb" initramfs --base tree -o gz.img --compress gzip
check gz.img zcat
"$mb" initramfs --base tree -o zst.img
check zst.img "zstd -dc"

tar -C tree -cf tree.tar .
tar -C tree -czf tree.tar.gz .
tar -C tree --zstd -cf tree.tar.zst .
for t in tree.tar tree.tar.gz tree.tar.zst; do
	"$mb" initramfs --base "$t" -o "$t.img" --compress zstd
	check "$t.img" "zstd -dc"
done

# An overlay: appended after the base, so its files win on unpacking.
mkdir -p over/etc over/usr/bin
echo "overlaid" >over/etc/motd
echo agent >over/usr/bin/agent
"$mb" initramfs --base tree --overlay over -o over.img --compress none
[[ $(cpio -it --quiet <over.img | tail -n 5 | tr '\n' ' ') == \
	"etc etc/motd usr usr/bin usr/bin/agent " ]] ||
	fail "overlay entries not last"
rm -rf x && mkdir x
(cd x && cpio -idmu --quiet <../over.img)
[[ $(cat x/etc/motd) == overlaid && -f x/usr/bin/agent ]] ||
	fail "overlay not applied"
echo "images_list: ok"
