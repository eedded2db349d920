#!/usr/bin/env bash
# token_renew.sh - a node added after the bootstrap token has expired joins
# by the documented procedure (README, "Adding nodes later"), with no file
# edited by hand:
#   1. the cluster is built with token_ttl 10s; kubeadm init (the
#      stand-in) registers that token; w1 joins; then it expires;
#   2. w2 is added to the inventory and the build warns that the token has
#      expired; w2's join with it is refused, as kubeadm's discovery
#      refuses an expired token;
#   3. "build --new-token" mints a new token, valid token_ttl (now 2h),
#      carried by every joining node's config, and writes
#      OUT/secrets/bootstrap-token.yaml (0600);
#   4. "kubectl apply -f" of that file (the stand-in checks the Secret as the
#      API server's token authenticator reads it) registers it; w2 joins.
# kubeadm and kubectl are the recording stand-ins (tests/interop/standins):
# no reachable registry carries the real ones.
. "$(dirname "$0")/standins/fbtest.sh"
BUILDER=$BUILD/builder/metalboot-build
[[ -x $BUILDER ]] || { echo "SKIP: metalboot-build not built"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: no python3-yaml"; exit 77; }
export MB_FB_ROOT=$WORK/root MB_FB_STATE=$WORK/state MB_FB_CALLS=$WORK/calls
mkdir -p "$MB_FB_ROOT/etc/kubernetes" "$MB_FB_STATE"
echo admin >"$WORK/admin.conf"

inv() { # TTL NODES...
	local ttl=$1 n
	shift
	{
		cat <<EOF
cluster:
  name: tok
  kubernetes_version: v1.30.2
  token_ttl: $ttl
network:
  server_ip: 10.214.0.1
  subnet: 10.214.0.0/24
nodes:
  - {name: cp1, mac: "52:54:00:00:01:01", ip: 10.214.0.11, role: control-plane}
EOF
		for n in "$@"; do
			echo "  - {name: $n, mac: \"52:54:00:00:02:0${n#w}\", ip: 10.214.0.2${n#w}, role: worker}"
		done
	} >"$WORK/tok.yaml"
}
token() { cat "$WORK/out/secrets/bootstrap-token"; }
cfg_token() { # NODE: the token in the node's kubeadm config
	sed -n 's/^ *token: *"\{0,1\}\([a-z0-9.]*\)"\{0,1\}$/\1/p' \
		"$WORK/out/nodes/$1/kubeadm.yaml" | head -n1
}
join() { # NODE
	rm -f "$MB_FB_ROOT/etc/kubernetes/kubelet.conf"
	"$BIN/kubeadm" join --config "$WORK/out/nodes/$1/kubeadm.yaml"
}

# 1. The cluster, with a token that lives 10 s (time for a slow build and
# w1's join under load); init registers it.
inv 10s w1
"$BUILDER" build "$WORK/tok.yaml" -o "$WORK/out" >/dev/null 2>&1 ||
	fail "first build failed"
t1=$(token)
[[ $(cfg_token w1) == "$t1" ]] || fail "w1 does not carry the token"
for f in bootstrap-token bootstrap-token.yaml bootstrap-token.expires; do
	[[ $(stat -c %a "$WORK/out/secrets/$f") == 600 ]] ||
		fail "secrets/$f is not 0600"
done
exp=$(cat "$WORK/out/secrets/bootstrap-token.expires")
((exp <= $(date +%s) + 10 && exp > $(date +%s) - 60)) ||
	fail "expiry $exp is not 10 s from now"
echo "$t1 $exp" >"$MB_FB_STATE/tokens" # kubeadm init's token
join w1 || fail "w1 could not join with a valid token"
while (($(date +%s) <= exp)); do sleep 0.5; done

# 2. w2 added later: the build warns, and the old token is refused.
inv 2h w1 w2
"$BUILDER" build "$WORK/tok.yaml" -o "$WORK/out" >/dev/null 2>"$WORK/b2.err" ||
	{ cat "$WORK/b2.err" >&2; fail "second build failed"; }
grep -q 'warning: the bootstrap token expired at .* UTC' \
	"$WORK/b2.err" || { cat "$WORK/b2.err" >&2; fail "no expiry warning"; }
grep -q -- '--new-token' "$WORK/b2.err" || fail "the warning names no remedy"
[[ $(token) == "$t1" ]] || fail "a build without --new-token changed the token"
[[ $(cfg_token w2) == "$t1" ]] || fail "w2 does not carry the current token"
if join w2 2>"$WORK/j.err"; then
	fail "w2 joined with an expired token"
fi
grep -q 'invalid for this cluster or it has expired' "$WORK/j.err" ||
	fail "the stand-in's refusal is not kubeadm's"

# 3. A new token, in every joining node's config and in the Secret.
"$BUILDER" build "$WORK/tok.yaml" -o "$WORK/out" --new-token \
	>/dev/null 2>"$WORK/b3.err" || { cat "$WORK/b3.err" >&2; fail "--new-token failed"; }
if grep -q 'warning: the bootstrap token' "$WORK/b3.err"; then
	fail "a fresh token is reported as expired"
fi
t2=$(token)
[[ $t2 != "$t1" ]] || fail "--new-token kept the token"
for n in w1 w2; do
	[[ $(cfg_token "$n") == "$t2" ]] || fail "$n does not carry the new token"
done
if grep -rqF "$t1" "$WORK/out"; then
	fail "the old token is still in OUT"
fi
python3 - "$WORK/out/secrets/bootstrap-token.yaml" "$t2" <<'PY' ||
import calendar, sys, time, yaml
s = yaml.safe_load(open(sys.argv[1]))
tid, sec = sys.argv[2].split(".")
assert s["kind"] == "Secret" and s["type"] == "bootstrap.kubernetes.io/token"
d = s["stringData"]
assert (d["token-id"], d["token-secret"]) == (tid, sec), d
assert d["usage-bootstrap-signing"] == "true", d
exp = calendar.timegm(time.strptime(d["expiration"], "%Y-%m-%dT%H:%M:%SZ"))
left = exp - time.time()
assert 7000 < left <= 7200, f"expires in {left} s, not token_ttl 2h"
PY
	fail "bootstrap-token.yaml"
# A rebuild keeps the new token and its mint time.
m2=$(cat "$WORK/out/secrets/bootstrap-token.expires")
"$BUILDER" build "$WORK/tok.yaml" -o "$WORK/out" >/dev/null 2>&1 ||
	fail "rebuild failed"
[[ $(token) == "$t2" && $(cat "$WORK/out/secrets/bootstrap-token.expires") == "$m2" ]] ||
	fail "a rebuild changed the new token or its expiry"

# 4. Applied in the cluster, the new token lets w2 join.
join w2 2>/dev/null && fail "w2 joined before the token was applied"
"$BIN/kubectl" --kubeconfig "$WORK/admin.conf" apply -f \
	"$WORK/out/secrets/bootstrap-token.yaml" || fail "kubectl apply refused"
join w2 || fail "w2 could not join with the new token"
echo "ok: a node added after token_ttl joined with a new token"
