#!/usr/bin/env bash
# cli_validate.sh: metalboot-build validate on the examples (exit 0) and on
# each bad inventory in tests/data/inventories (exit 1, and every
# "# expect: L:C: message" line of the file printed as FILE:L:C: message),
# plus --help and --version on all three programs.
set -euo pipefail
b=${MB_BUILD_DIR:?}
s=${MB_SOURCE_DIR:?}
build=$b/builder/metalboot-build
fail() { echo "FAIL: $*" >&2; exit 1; }

for f in "$s"/profiles/examples/*.yaml; do
	out=$("$build" validate "$f") || fail "$f rejected"
	[[ $out == *": ok: "* ]] || fail "$f: unexpected output: $out"
done

for f in "$s"/tests/data/inventories/*.yaml; do
	set +e
	out=$("$build" validate "$f" 2>&1)
	rc=$?
	set -e
	[[ $rc -eq 1 ]] || fail "$f: exit $rc, want 1: $out"
	n=0
	while IFS= read -r want; do
		want=${want#"# expect: "}
		grep -qF -- "$f:$want" <<<"$out" || fail "$f: missing '$f:$want' in:
$out"
		n=$((n + 1))
	done < <(grep '^# expect: ' "$f")
	[[ $n -gt 0 ]] || fail "$f has no expect lines"
done

# A missing file and a bad command line are user errors (1).
set +e
"$build" validate /nonexistent.yaml 2>/dev/null; [[ $? -eq 1 ]] || fail "missing file"
"$build" frobnicate 2>/dev/null; [[ $? -eq 1 ]] || fail "unknown command"
"$build" validate 2>/dev/null; [[ $? -eq 1 ]] || fail "no argument"
set -e

for p in builder/metalboot-build netboot/metalboot-netboot \
	firstboot/metalboot-firstboot; do
	"$b/$p" --help | grep -q '^usage: ' || fail "$p --help"
	"$b/$p" --version | grep -qE '^metalboot-[a-z]+ [0-9]+\.[0-9]+\.[0-9]+' ||
		fail "$p --version"
done
echo "cli_validate: ok"
