#!/usr/bin/env bash
# ui_browser.sh: the fleet page in a real browser. Starts metalboot-netboot
# on loopback (HTTP and HTTPS, a throwaway certificate) with three nodes,
# feeds it the boot milestones and agent events the nodes would send (cp1
# from 127.0.0.1 done, w1 from 127.0.0.2 provisioning, w2 from 127.0.0.3
# booting), then runs ui_browser.mjs: Debian's chromium, headless, driven
# by playwright-core (pinned by tests/ui/package-lock.json; `npm ci` into
# BUILD/ui-node, kept there between runs). The screenshot is left in
# BUILD/ui-fleet.png.
#
# No browser, node or npm registry is a failure, not a skip: the page is
# a feature and this is its only test (./scripts/deps.sh installs them).
# Also checks with curl: the page over both protocols, its headers, the
# stream caps per address, and that no secret reaches the page's answers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/http_common.bash"

build=$(cd "${MB_BUILD_DIR:-build}" && pwd)
for tool in node npm /usr/bin/chromium openssl; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: $tool is missing (run ./scripts/deps.sh)"
		exit 1
	fi
done

# playwright-core, from the lock file, cached in the build directory.
npm_dir=$build/ui-node
mkdir -p "$npm_dir"
if ! cmp -s "$here/../ui/package-lock.json" "$npm_dir/package-lock.json" ||
	[[ ! -d $npm_dir/node_modules/playwright-core ]]; then
	cp "$here/../ui/package.json" "$here/../ui/package-lock.json" "$npm_dir/"
	if ! (cd "$npm_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
		npm ci --no-audit --no-fund --loglevel=error); then
		rm -f "$npm_dir/package-lock.json"
		echo "FAIL: npm ci of playwright-core (is the npm registry reachable?)"
		exit 1
	fi
fi

http_port=$(free_port)
https_port=$(free_port)
tftp_port=$(free_port)
out=$work/out
mkdir -p "$out/public/images/worker" "$out/boot" "$out/state" "$out/pki" \
	"$out/nodes/cp1" "$out/nodes/w1" "$out/nodes/w2"
secret="PAYLOAD-SECRET-$$-0123456789abcdef"
for n in cp1 w1 w2; do
	printf '#!ipxe\necho %s\n' "$n" >"$out/boot/$n.ipxe"
	printf 'version: 1\njoin_token: %s\n' "$secret" >"$out/nodes/$n/firstboot.yaml"
	chmod 600 "$out/nodes/$n/firstboot.yaml"
done
head -c 20000 /dev/urandom >"$out/public/images/worker/vmlinuz"
head -c 20000 /dev/urandom >"$out/public/images/worker/initrd.img"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$out/pki/netboot.key" -out "$out/pki/netboot.crt" 2>/dev/null
chmod 600 "$out/pki/netboot.key"
cat >"$out/netboot.yaml" <<YAML
version: 1
cluster: lab
kubernetes_version: v1.30.2
listen: 127.0.0.1
interface: null
dhcp:
  mode: "off"
tftp: { port: $tftp_port }
http: { port: $http_port, https_port: $https_port, cert: pki/netboot.crt, key: pki/netboot.key }
paths:
  public: public
  boot: boot
  nodes: nodes
  state: state
nodes:
  - { name: cp1, mac: "52:54:00:00:01:01", ip: 127.0.0.1, role: control-plane }
  - { name: w1, mac: "52:54:00:00:02:01", ip: 127.0.0.2, role: worker }
  - { name: w2, mac: "52:54:00:00:02:02", ip: 127.0.0.3, role: worker }
YAML
nb_start --config "$out/netboot.yaml"
base=http://127.0.0.1:$http_port
tls=https://127.0.0.1:$https_port
tls_curl=(--cacert "$out/pki/netboot.crt")

# What each node would do, from its own address.
boot() { # boot MAC ADDR: iPXE script, kernel, initrd
	curl -fsS -o /dev/null --interface "$2" "$base/boot/$1.ipxe"
	curl -fsS -o /dev/null --interface "$2" "$base/files/images/worker/vmlinuz"
	curl -fsS -o /dev/null --interface "$2" "$base/files/images/worker/initrd.img"
}
event() { # event MAC ADDR STEP STATUS [MESSAGE]
	curl -fsS -o /dev/null --interface "$2" -X POST \
		-H 'Content-Type: application/json' \
		--data-binary "{\"step\":\"$3\",\"status\":\"$4\",\"message\":\"${5:-}\"}" \
		"$base/v1/nodes/$1/events"
}
cp1=52:54:00:00:01:01 w1=52:54:00:00:02:01 w2=52:54:00:00:02:02
boot $cp1 127.0.0.1
boot $w1 127.0.0.2
curl -fsS -o /dev/null --interface 127.0.0.3 "$base/boot/$w2.ipxe"
for step in fetch host kubeadm-init; do
	event $cp1 127.0.0.1 $step running
	event $cp1 127.0.0.1 $step ok
done
event $cp1 127.0.0.1 done ok
event $w1 127.0.0.2 fetch running
event $w1 127.0.0.2 fetch ok
event $w1 127.0.0.2 kubeadm-join running

# The page and its API over both protocols, with the headers that keep it
# to itself.
for b in "$base" "$tls"; do
	check "page at / ($b)" 200 "$(code "${tls_curl[@]}" "$b/")"
	check "page at /ui/ ($b)" 200 "$(code "${tls_curl[@]}" "$b/ui/")"
	check "app.js ($b)" 200 "$(code "${tls_curl[@]}" "$b/ui/app.js")"
done
hdrs=$(curl -fsS -D - -o /dev/null "$base/")
check "page CSP" 1 "$(grep -ci "^Content-Security-Policy: default-src 'none'; script-src 'self'" <<<"$hdrs")"
check "page type" 1 "$(grep -ci '^Content-Type: text/html; charset=utf-8' <<<"$hdrs")"
etag=$(grep -i '^ETag:' <<<"$hdrs" | cut -d' ' -f2 | tr -d '\r')
check "page revalidates" 304 "$(code -H "If-None-Match: $etag" "$base/")"
check "no such page file" 404 "$(code "$base/ui/nope.js")"
check "page POST" 405 "$(code -X POST "$base/")"
check "cluster document" '{"name":"lab","kubernetes_version":"v1.30.2"}' \
	"$(curl -fsS "$base/v1/cluster" | python3 -c 'import json,sys; d=json.load(sys.stdin); t=d.pop("time"); assert t.endswith("Z"); print(json.dumps(d, separators=(",",":")))')"

# The stream: the fleet at once over HTTPS too; four per address, the
# fifth refused, another address still served.
first=$(curl -sN --max-time 2 "${tls_curl[@]}" "$tls/v1/events" | head -c 100000)
check "HTTPS stream opens with the fleet" "retry: 2000|event: cluster|event: nodes" \
	"$(grep -E '^(retry|event):' <<<"$first" | paste -sd'|')"
pids=()
for i in 1 2 3 4; do
	curl -sN --max-time 60 -D "$work/stream$i.h" -o /dev/null \
		"$base/v1/events" &
	pids+=($!)
done
# Until the four are up (a loaded machine starts curl slowly): each has
# its status line once the server took it.
statuses=""
for _ in $(seq 150); do
	statuses=$(cat "$work"/stream[1-4].h 2>/dev/null |
		awk '/^HTTP\// {print $2}' | sort | paste -sd,)
	[[ $statuses == 200,200,200,200 || $statuses == *503* ]] && break
	sleep 0.2
done
check "four streams from one address" 200,200,200,200 "$statuses"
check "fifth stream from one address" 503 "$(code --max-time 2 "$base/v1/events")"
check "stream from another address" 200 \
	"$(code --max-time 1 --interface 127.0.0.2 "$base/v1/events")"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
sleep 0.5

# The browser.
export UI_BASE=$base UI_TLS_BASE=$tls UI_SHOT=$build/ui-fleet.png
export UI_TOKEN=$(cat "$out/state/admin-token")
export UI_POST_FAILED="curl -fsS -o /dev/null --interface 127.0.0.2 -X POST \
--data-binary '{\"step\":\"kubeadm-join\",\"status\":\"failed\",\"message\":\"kubeadm join: exit status 1\",\"output\":\"[preflight] Running pre-flight checks\\nerror: could not validate the identity of the API Server\\n\"}' \
$base/v1/nodes/$w1/events"
export UI_POST_W2="curl -fsS -o /dev/null --interface 127.0.0.3 -X POST \
--data-binary '{\"step\":\"fetch\",\"status\":\"running\"}' \
$base/v1/nodes/$w2/events"
export UI_PROFILE=$work/profile
mkdir -p "$UI_PROFILE"
rm -f "$UI_SHOT"
echo "browser: $(/usr/bin/chromium --version 2>/dev/null), node $(node --version)"
# Run from the npm directory, where ES modules find playwright-core.
cp "$here/ui_browser.mjs" "$npm_dir/"
node "$npm_dir/ui_browser.mjs" >"$work/browser.log" 2>&1
rc=$?
cat "$work/browser.log"
check "browser checks" 0 "$rc"
check "screenshot saved" 1 "$([[ -s $UI_SHOT ]] && echo 1 || echo 0)"

# Secrets: never in the log, never in what the page reads.
pageall=$(curl -fsS "$base/" "$base/ui/app.js" "$base/v1/nodes" "$base/v1/cluster")
check "payload secret not served to the page" 0 "$(grep -c -- "$secret" <<<"$pageall")"
check "token not served to the page" 0 "$(grep -c -- "$UI_TOKEN" <<<"$pageall")"
nb_stop
check "secret not logged" 0 "$(grep -c -- "$secret" "$nb_log")"
check "token not logged" 0 "$(grep -c -- "$UI_TOKEN" "$nb_log")"
finish
