#!/usr/bin/env bash
# images_reproducible.sh: the same inputs give byte-identical images: two
# builds of one tree, the tree copied elsewhere (other inode numbers, newer
# mtimes clamped to SOURCE_DATE_EPOCH), a tarball twice, gzip across a
# clock tick, and `metalboot-build build --base` into two OUT directories.
set -euo pipefail
b=${MB_BUILD_DIR:?}
s=${MB_SOURCE_DIR:?}
mb=$b/builder/metalboot-build
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /tmp/mbimgrepro.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
export SOURCE_DATE_EPOCH=1700000000
mkdir -p tree/a/b tree/c tree/boot tree/lib/modules/6.1.0
for i in $(seq 1 200); do echo "file $i" >"tree/a/b/f$i"; done
ln tree/a/b/f1 tree/c/link
ln -s ../a/b/f2 tree/c/sym
echo kernel >tree/boot/vmlinuz-6.1.0
echo 'kernel/net/bridge/bridge.ko:' >tree/lib/modules/6.1.0/modules.dep

"$mb" initramfs --base tree -o one.img
"$mb" initramfs --base tree -o two.img
cmp one.img two.img || fail "two builds of one tree differ"

cp -a tree copy
touch -d '2030-01-01' copy/a/b/f3 copy/c
"$mb" initramfs --base copy -o copy.img
cmp one.img copy.img || fail "a copy of the tree gives another image"

tar -C tree -czf tree.tgz .
"$mb" initramfs --base tree.tgz -o t1.img --compress gzip
sleep 1.1
"$mb" initramfs --base tree.tgz -o t2.img --compress gzip
cmp t1.img t2.img || fail "gzip images of one tarball differ"

unset SOURCE_DATE_EPOCH
"$mb" initramfs --base tree -o n1.img --compress none
"$mb" initramfs --base tree -o n2.img --compress none
cmp n1.img n2.img || fail "without SOURCE_DATE_EPOCH: builds differ"
export SOURCE_DATE_EPOCH=1700000000

agent=$b/firstboot/metalboot-firstboot
if [[ -x $agent ]]; then
	# A rebuild reuses OUT/pki and OUT/secrets (the CA baked into the
	# images), here into another directory.
	mkimages() {
		METALBOOT_AGENT=$agent "$mb" build "$s/profiles/examples/lab.yaml" \
			-o "$work/$1" --base tree >"$1.log" 2>&1 ||
			{ cat "$1.log" >&2; fail "build --base failed"; }
	}
	mkimages out1
	mkdir out2
	cp -a out1/pki out1/secrets out2/
	mkimages out2
	for r in control-plane worker; do
		for f in initrd.img vmlinuz; do
			cmp "out1/public/images/$r/$f" "out2/public/images/$r/$f" ||
				fail "$r/$f differs between two builds"
		done
	done
	[[ ! -e out1/public/images/etcd ]] || fail "an etcd image without etcd nodes"
fi
echo "images_reproducible: ok"
