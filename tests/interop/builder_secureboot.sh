#!/usr/bin/env bash
# builder_secureboot.sh: the Secure Boot part of `metalboot-build build`,
# against Debian's shim-signed and grub-efi-amd64-signed and sbsigntool.
# A node with secure_boot gets the signed shim and GRUB (byte for byte),
# grub.cfg and its own GRUB configuration; a kernel that sbverify calls
# signed is taken, the same kernel with its signature removed by sbattach
# is refused at the node's inventory line, and so are an unsigned shim
# and a GRUB that is no PE image; a failed build leaves OUT as it was.
set -euo pipefail
b=${MB_BUILD_DIR:?}
src=$(cd "$(dirname "$0")/../.." && pwd)
mb=$b/builder/metalboot-build
shim=/usr/lib/shim/shimx64.efi.signed
grub=/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in sbverify sbattach; do
	command -v $t >/dev/null || fail "$t missing (sbsigntool; scripts/deps.sh)"
done
[[ -f $shim && -f $grub ]] || fail "shim-signed or grub-efi-amd64-signed missing (scripts/deps.sh)"
work=$(mktemp -d /tmp/mbsb.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
inv=$src/tests/qemu/inventories/secureboot.yaml
line=$(grep -n "secure_boot: true" "$inv" | cut -d: -f1)

# A tiny base; the "kernel" is any signed x86-64 EFI program (the real,
# signed Debian kernel boots in qemu/case_secureboot).
mkdir -p base/etc
echo 'ID=test' >base/etc/os-release
cp "$grub" k.signed
cp "$grub" k.unsigned
sbattach --remove k.unsigned
sbverify --list k.signed | grep -q "^signature 1" || fail "sbverify: k.signed unsigned?"
sbverify --list k.unsigned 2>&1 | grep -q "No signature table" ||
	fail "sbattach did not remove the signature"

"$mb" build "$inv" -o out --base base --kernel k.signed -q ||
	fail "the build with a signed kernel failed"
cmp "$shim" out/public/secureboot/shimx64.efi || fail "shim differs"
cmp "$grub" out/public/secureboot/grubx64.efi || fail "GRUB differs"
grep -q 'configfile "$prefix/nodes/$net_default_mac.cfg"' out/public/grub/grub.cfg ||
	fail "grub.cfg does not hand over by MAC"
grep -q "^	if linux /images/control-plane/vmlinuz 'console=ttyS0' 'metalboot.server=https://192.168.100.1:443' 'metalboot.mac=52:54:00:00:01:01'; then$" \
	out/boot/cp1.grub.cfg || fail "cp1.grub.cfg: $(cat out/boot/cp1.grub.cfg)"
grep -q "initrd /images/control-plane/initrd.img" out/boot/cp1.grub.cfg ||
	fail "cp1.grub.cfg has no initrd"
[[ ! -e out/boot/w1.grub.cfg ]] || fail "w1 (no secure_boot) got a GRUB configuration"
[[ -f out/boot/w1.ipxe ]] || fail "w1 lost its iPXE script"
python3 - out/netboot.yaml <<'PY' || fail "netboot.yaml: secure_boot not on cp1 alone"
import sys, yaml
n = {x["name"]: x for x in yaml.safe_load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if n["cp1"].get("secure_boot") is True and "secure_boot" not in n["w1"] else 1)
PY
grep -q "  public/secureboot/shimx64.efi$" out/SHA256SUMS || fail "SHA256SUMS lacks the shim"
(cd out && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not verify"
echo "ok: signed shim and GRUB copied, grub.cfg, cp1.grub.cfg; w1 keeps iPXE"
sum_before=$(cat out/SHA256SUMS)

refuse() { # refuse PATTERN ARGS...: exit 1, the message, OUT unchanged
	local pat=$1 out rc
	shift
	set +e
	out=$("$mb" build "$inv" -o out --base base "$@" 2>&1)
	rc=$?
	set -e
	[[ $rc == 1 ]] || fail "$*: exit $rc, want 1: $out"
	grep -qF -- "$pat" <<<"$out" || fail "$*: '$out' lacks '$pat'"
	[[ $(cat out/SHA256SUMS) == "$sum_before" ]] || fail "$*: OUT changed"
	! ls -A | grep -q "tmp" || fail "$*: a temporary was left: $(ls -A)"
	echo "ok: $(grep -F -- "$pat" <<<"$out" | head -n 1)"
}
refuse "$inv:$line:5: error: node cp1 has secure_boot: true, but the kernel k.unsigned carries no Authenticode signature" \
	--kernel k.unsigned
refuse "$PWD/unsigned.efi: error: carries no Authenticode signature" \
	--kernel k.signed --shim "$PWD/unsigned.efi" < <(cp /usr/lib/ipxe/ipxe.efi unsigned.efi)
echo "menuentry x {}" >grub.txt
refuse "$PWD/grub.txt: error: not a PE/EFI image: no MZ header" \
	--kernel k.signed --grub "$PWD/grub.txt"
refuse "/nonexistent/shim.efi: error: cannot read: No such file or directory (Secure Boot needs Debian's shim-signed package, or name the file with --shim)" \
	--kernel k.signed --shim /nonexistent/shim.efi

# Without secure_boot anywhere nothing of it is written, and an unsigned
# kernel is fine.
sed 's/, secure_boot: true//' "$inv" >plain.yaml
"$mb" build plain.yaml -o plain --base base --kernel k.unsigned -q ||
	fail "a build without secure_boot refused an unsigned kernel"
[[ ! -e plain/public/secureboot && ! -e plain/public/grub ]] ||
	fail "Secure Boot files written with no secure_boot node"
! ls plain/boot | grep -q grub || fail "a GRUB configuration with no secure_boot node"
echo "ok: no secure_boot node: no shim, no GRUB, any kernel"

# A bad value is an error at its line.
sed 's/secure_boot: true/secure_boot: maybe/' "$inv" >bad.yaml
set +e
out=$("$mb" validate bad.yaml 2>&1)
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "^bad.yaml:$line:[0-9]*: error: node secure_boot must be true or false" <<<"$out" ||
	fail "secure_boot: maybe: exit $rc: $out"
echo "ok: $out" | head -n 1
