#!/usr/bin/env bash
# images_merged_usr.sh: node images on a merged-/usr base (lib -> usr/lib,
# lib64 -> usr/lib64, bin -> usr/bin, sbin -> usr/sbin, as Debian 12,
# Ubuntu, Fedora and Arch have it). The role's initrd.img (the base, the
# shared layer and the role's layer, concatenated) is unpacked the way the
# kernel does it (init/initramfs.c: entries in order, an entry whose type
# differs from what is there replaces it): the base's symlinks must
# survive, and the agent, its loader and its libraries must be reachable
# through them, at the paths the agent's ELF headers name.
set -euo pipefail
b=${MB_BUILD_DIR:?}
s=${MB_SOURCE_DIR:?}
mb=$b/builder/metalboot-build
agent=$b/firstboot/metalboot-firstboot
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in zstd python3; do
	command -v $t >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
[[ -x $mb && -x $agent ]] || { echo "SKIP: not built" >&2; exit 77; }
work=$(mktemp -d /tmp/mbmerged.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# A merged-/usr base: everything under usr/, the top level links to it.
mkdir -p tree/usr/bin tree/usr/sbin tree/usr/lib/systemd tree/usr/lib64 \
	tree/usr/lib/x86_64-linux-gnu tree/usr/lib/modules/6.1.0 tree/boot \
	tree/etc
for d in bin sbin lib lib64; do ln -s "usr/$d" "tree/$d"; done
echo systemd >tree/usr/lib/systemd/systemd
chmod 755 tree/usr/lib/systemd/systemd
echo udevd >tree/usr/lib/systemd/systemd-udevd
echo 'base libfoo' >tree/usr/lib/x86_64-linux-gnu/libfoo.so.1
echo kernel >tree/boot/vmlinuz-6.1.0
echo 'kernel/net/bridge/bridge.ko:' >tree/usr/lib/modules/6.1.0/modules.dep

METALBOOT_AGENT=$agent "$mb" build "$s/profiles/examples/lab.yaml" -o out \
	--base tree >build.log 2>&1 || { cat build.log >&2; fail "build --base failed"; }

# What the agent's ELF headers ask the loader for: its interpreter.
interp=$(python3 - "$agent" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
phoff, = struct.unpack_from("<Q", d, 0x20)
phentsize, phnum = struct.unpack_from("<HH", d, 0x36)
for i in range(phnum):
    o = phoff + i * phentsize
    typ, = struct.unpack_from("<I", d, o)
    if typ == 3:  # PT_INTERP
        off, = struct.unpack_from("<Q", d, o + 8)
        size, = struct.unpack_from("<Q", d, o + 32)
        print(d[off:off + size].rstrip(b"\0").decode())
PY
)
[[ -n $interp ]] || fail "no PT_INTERP in the agent"

for role in control-plane worker; do
	img=out/public/images/$role/initrd.img
	[[ -f $img ]] || fail "no $img"
	zstd -dc "$img" >"$role.cpio" || fail "$img: not zstd frames"
	python3 - "$role.cpio" "$interp" <<'PY' || fail "$role: unpacked tree (see above)"
import os, posixpath, stat, sys

data = open(sys.argv[1], "rb").read()
fs = {}  # path -> (kind, target)
pos = 0
while pos < len(data):
    if data[pos:pos + 6] != b"070701":
        pos += 1  # padding between archives
        continue
    h = data[pos:pos + 110]
    f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
    mode, fsize, nsize = f[1], f[6], f[11]
    name = data[pos + 110:pos + 110 + nsize - 1].decode()
    pos = (pos + 110 + nsize + 3) & ~3
    body = data[pos:pos + fsize]
    pos = (pos + fsize + 3) & ~3
    if name == "TRAILER!!!":
        continue
    name = name.lstrip("./") if name not in (".", "./") else "."
    kind = "dir" if stat.S_ISDIR(mode) else "link" if stat.S_ISLNK(mode) else "file"
    old = fs.get(name)
    # The kernel: a different type is removed first; a dir over a dir stays.
    if old and old[0] != kind:
        if old[0] == "dir":
            for k in [k for k in fs if k.startswith(name + "/")]:
                del fs[k]
    fs[name] = (kind, body.decode(errors="replace") if kind == "link" else None)

def resolve(path, depth=0):
    """Follow symlinks in every component, as the kernel would."""
    parts, cur = path.strip("/").split("/"), ""
    for i, p in enumerate(parts):
        cur = posixpath.join(cur, p) if cur else p
        e = fs.get(cur)
        if e and e[0] == "link" and depth < 8:
            t = e[1]
            base = "" if t.startswith("/") else posixpath.dirname(cur)
            rest = "/".join(parts[i + 1:])
            return resolve(posixpath.normpath(posixpath.join(base, t.lstrip("/"), rest)), depth + 1)
    return cur

for d in ("lib", "lib64", "bin", "sbin"):
    assert fs.get(d) == ("link", "usr/" + d), f"/{d} is {fs.get(d)}, not the base's link"
for want in ("usr/lib/systemd/systemd-udevd", "usr/lib/x86_64-linux-gnu/libfoo.so.1"):
    assert fs.get(resolve(want), (None,))[0] == "file", f"the base's {want} is gone"
interp = sys.argv[2]
assert fs.get(resolve(interp), (None,))[0] == "file", f"the loader {interp} is not reachable"
agent = [k for k in fs if k.endswith("bin/metalboot-firstboot")]
assert agent, "no agent"
assert not [k for k in fs if k.startswith(("lib/", "lib64/", "bin/", "sbin/"))], \
    "entries below a top-level link: " + ", ".join(k for k in fs if k.startswith(("lib/", "lib64/", "bin/", "sbin/")))
assert any("libjansson" in k for k in fs), "the agent's libraries are missing"
init = fs.get("init")
assert init and init[0] == "link" and fs.get(resolve("init"), (None,))[0] == "file", f"/init: {init}"
PY
done
echo "ok: the merged-/usr base's links survive the agent's layer"
