#!/usr/bin/env bash
# containerd_config.sh - the agent's containerd configuration, read by
# Debian 12's real containerd (1.6.20):
#  1. the agent, with the real containerd on PATH, picks config version 2,
#     keeps Debian's config.toml as config.toml.orig, and writes a file
#     that "containerd config dump" reads with SystemdCgroup = true, the
#     payload's sandbox_image, config_path = /etc/containerd/certs.d and
#     the CRI plugin not disabled; docker.io's hosts.toml is valid TOML;
#  2. containerd 1.6 started on that file (private root, state and socket)
#     loads its CRI plugin ("ctr plugins ls": ok) with those settings;
#  3. with a stand-in that says containerd 2.0, the agent writes version 3,
#     whose tables are the ones containerd 2.x documents
#     (io.containerd.cri.v1.images / .runtime); containerd 1.6 does not
#     refuse that file, it ignores those tables (its defaults stay), which
#     is why the agent must ask containerd its version.
# containerd 2.x itself is not run here (Debian 12 has 1.6 only; see
# docs/testing.md). Needs containerd, ctr and python3 with tomllib.
. "$(dirname "$0")/standins/fbtest.sh"
CTD=$(command -v containerd || true)
CTR=$(command -v ctr || true)
if [[ -z $CTD || -z $CTR ]] || ! python3 -c 'import tomllib' 2>/dev/null; then
	echo "SKIP: needs containerd, ctr (apt-get install containerd) and python3 >= 3.11"
	exit 77
fi
IMAGE=registry.k8s.io/pause:3.9
NAME=w1 ROLE=worker MAC=52:54:00:00:02:01 IP=192.168.100.21 ACTION=join
RUNTIME=containerd EXTRA=""
payload >"$WORK/w1.yaml"
grep -qx "  sandbox_image: $IMAGE" "$WORK/w1.yaml" || fail "payload lacks the image"

echo "== 1. containerd $("$CTD" --version | cut -d' ' -f3): version 2, read back"
R=$WORK/r1 S=$WORK/s1
mkroot "$R"
ln -s "$CTD" "$BIN/containerd"
orig=""
if [[ -f /etc/containerd/config.toml ]]; then
	mkdir -p "$R/etc/containerd"
	cp /etc/containerd/config.toml "$R/etc/containerd/config.toml"
	orig=/etc/containerd/config.toml
fi
agent "$R" "$S" --config "$WORK/w1.yaml" 2>"$WORK/run1.err" ||
	{ cat "$WORK/run1.err"; fail "agent run failed"; }
grep -q 'runtime: ok: config version 2 (containerd 1.x); ' "$WORK/run1.err" ||
	fail "version: $(grep runtime: "$WORK/run1.err")"
CONF=$R/etc/containerd/config.toml
if [[ -n $orig ]]; then
	cmp -s "$orig" "$CONF.orig" || fail "Debian's config.toml not kept as .orig"
fi
"$CTD" --config "$CONF" config dump >"$WORK/dump1.toml" 2>"$WORK/dump1.err" ||
	{ cat "$WORK/dump1.err"; fail "containerd refused the file"; }
python3 - "$WORK/dump1.toml" "$IMAGE" <<'PY' || fail "config dump: $(cat "$WORK/dump1.toml")"
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
assert d["version"] == 2, d["version"]
off = d.get("disabled_plugins", [])
assert "cri" not in off and "io.containerd.grpc.v1.cri" not in off, off
cri = d["plugins"]["io.containerd.grpc.v1.cri"]
runc = cri["containerd"]["runtimes"]["runc"]
assert runc["runtime_type"] == "io.containerd.runc.v2", runc
assert runc["options"]["SystemdCgroup"] is True, runc["options"]
assert cri["sandbox_image"] == sys.argv[2], cri["sandbox_image"]
assert cri["registry"]["config_path"] == "/etc/containerd/certs.d", cri["registry"]
assert not cri["registry"].get("mirrors"), cri["registry"]
PY
python3 - "$R/etc/containerd/certs.d/docker.io/hosts.toml" <<'PY' || fail "hosts.toml"
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
assert d["server"] == "https://registry-1.docker.io", d
assert list(d["host"]) == ["https://mirror.example:5000"], d
assert d["host"]["https://mirror.example:5000"]["capabilities"] == ["pull", "resolve"], d
PY

echo "== 2. containerd 1.6 loads its CRI plugin from that file"
D=$(mktemp -d /tmp/mb-ctd.XXXXXX)
cleanup_ctd() {
	[[ -n ${ctd_pid:-} ]] && kill "$ctd_pid" 2>/dev/null && wait "$ctd_pid" 2>/dev/null
	rm -rf "$D"
	cleanup
}
trap cleanup_ctd EXIT
"$CTD" --config "$CONF" --root "$D/root" --state "$D/state" \
	--address "$D/c.sock" >"$D/log" 2>&1 &
ctd_pid=$!
ok=""
for _ in $(seq 100); do
	if "$CTR" --address "$D/c.sock" plugins ls >"$D/plugins" 2>/dev/null; then
		ok=1
		break
	fi
	kill -0 "$ctd_pid" 2>/dev/null || break
	sleep 0.2
done
[[ -n $ok ]] || { cat "$D/log"; fail "containerd did not start"; }
grep -qE '^io\.containerd\.grpc\.v1 +cri +[^ ]+ +ok *$' "$D/plugins" ||
	fail "the CRI plugin is not ok: $(grep cri "$D/plugins")"
grep 'Start cri plugin with config' "$D/log" >"$D/cri" || fail "no CRI config logged"
for want in "Options:map[SystemdCgroup:true]" "SandboxImage:$IMAGE " \
	"Registry:{ConfigPath:/etc/containerd/certs.d "; do
	grep -qF "$want" "$D/cri" || fail "CRI config lacks '$want': $(cat "$D/cri")"
done
kill "$ctd_pid"
wait "$ctd_pid" 2>/dev/null || true
ctd_pid=""

echo "== 3. containerd 2.x: version 3, which 1.6 ignores"
R=$WORK/r3 S=$WORK/s3
mkroot "$R"
rm "$BIN/containerd"
cat >"$BIN/containerd" <<'SH'
#!/bin/sh
echo "containerd github.com/containerd/containerd/v2 v2.0.0 207ad711eabd375a01713109a8a197d197ff6542"
SH
chmod 755 "$BIN/containerd"
agent "$R" "$S" --config "$WORK/w1.yaml" 2>"$WORK/run3.err" ||
	{ cat "$WORK/run3.err"; fail "agent run failed (2.x)"; }
grep -q 'runtime: ok: config version 3 (containerd 2.x); ' "$WORK/run3.err" ||
	fail "version: $(grep runtime: "$WORK/run3.err")"
CONF=$R/etc/containerd/config.toml
python3 - "$CONF" "$IMAGE" <<'PY' || fail "version 3 file: $(cat "$CONF")"
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
assert d["version"] == 3, d
p = d["plugins"]
assert set(p) == {"io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"}, p
img = p["io.containerd.cri.v1.images"]
assert img["pinned_images"] == {"sandbox": sys.argv[2]}, img
assert img["registry"] == {"config_path": "/etc/containerd/certs.d"}, img
runc = p["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["runc"]
assert runc == {"runtime_type": "io.containerd.runc.v2",
                "options": {"SystemdCgroup": True}}, runc
PY
"$CTD" --config "$CONF" config dump >"$WORK/dump3.toml" 2>"$WORK/dump3.err" ||
	{ cat "$WORK/dump3.err"; fail "containerd 1.6 refused a version 3 file"; }
python3 - "$WORK/dump3.toml" "$IMAGE" <<'PY' || fail "1.6 on version 3: $(cat "$WORK/dump3.toml")"
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
cri = d["plugins"]["io.containerd.grpc.v1.cri"]
# containerd 1.6 took none of it: its own defaults, silently.
assert cri["sandbox_image"] != sys.argv[2], cri["sandbox_image"]
assert cri["containerd"]["runtimes"]["runc"]["options"].get("SystemdCgroup") is not True
assert cri["registry"].get("config_path", "") == "", cri["registry"]
assert "io.containerd.cri.v1.images" not in d["plugins"]
PY
echo PASS
