#!/usr/bin/env bash
# bench/storm.sh [N] [BUILD_DIR]: a boot storm of N PXE machines (default
# 1000) against metalboot-netboot and against what a user would assemble
# instead, dnsmasq (DHCP + TFTP) and nginx (HTTP), in one run, on the same
# files, the same N-node fleet (metalboot-build of bench/gen-inventory.sh's
# inventory: every MAC a known node with a reserved address) and the same
# generator (bench/storm/storm), in network namespaces of its own. Then,
# in the same namespaces:
#   - DHCP alone: perfdhcp's DORA rate against ours, dnsmasq (--no-ping)
#     and kea-dhcp4 (memfile leases), each with a pool;
#   - TFTP alone: 50 curl clients from 50 addresses at once, a 4 MiB file,
#     blksize 1468, ours against tftpd-hpa.
# Every figure is printed as a ratio ours / anchor, with the goals of
# issue 18. Use a Release build without sanitizers (default: build-storm-rel
# beside the source). Environment: KERNEL_MB (10), INITRD_MB (60), RAMP
# (seconds, 0 = all at once), WINDOWSIZE (TFTP, 1), PERF_RATE (3000),
# PERF_SECONDS (10), SKIP (words: storm anchor perfdhcp tftp), STORM_WORKERS
# (ours' --workers; unset: netboot.yaml's, 1).
# Needs root, dnsmasq, nginx, perfdhcp, kea-dhcp4, in.tftpd, curl, python3.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
STORM_BUILD=${2:-${MB_BUILD_DIR:-$src/build-storm-rel}}
STORM_SRC=$src
kmb=${KERNEL_MB:-10}
imb=${INITRD_MB:-60}
ramp=${RAMP:-0}
win=${WINDOWSIZE:-1}
rate=${PERF_RATE:-3000}
psecs=${PERF_SECONDS:-10}
skip=" ${SKIP:-} "
nb=$STORM_BUILD/netboot/metalboot-netboot
for t in dnsmasq nginx perfdhcp kea-dhcp4 in.tftpd curl python3; do
	command -v "$t" >/dev/null || { echo "bench/storm.sh: needs $t" >&2; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "bench/storm.sh: needs root" >&2; exit 77; }
[[ -x $STORM_BUILD/bench/storm/storm ]] || {
	echo "bench/storm.sh: build $STORM_BUILD first" >&2
	exit 1
}
if nm -C "$nb" 2>/dev/null | grep -q __asan_init; then
	echo "warning: $nb is built with sanitizers; figures will be low" >&2
fi
. "$src/tests/interop/storm_lib.bash"
ulimit -n "$(ulimit -Hn)" # a socket or two per machine
W=
storm_setup "$n" $((kmb << 20)) $((imb << 20))
W=$STORM_WORK
echo "== $n machines, kernel $kmb MiB, initrd $imb MiB, ramp $ramp s," \
	"TFTP windowsize $win; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

ratio() { # A B: A / B with two decimals
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
jget() { # FILE EXPR: a value of the storm's JSON report
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
storm_args=(-n "$n" --ramp "$ramp" --windowsize "$win")
# UDP datagrams a namespace's kernel dropped for a full socket receive
# buffer (requests or replies lost before anyone read them): NS is s or c.
rcvbuf_errors() {
	local ns=$STORM_NS_S
	[[ ${1:-s} == c ]] && ns=$STORM_NS_C
	ip netns exec "$ns" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' \
		/proc/net/snmp
}
# drops_since S0 C0: "server N, client M" since the counts S0 and C0.
drops_since() {
	echo "server $(($(rcvbuf_errors s) - $1)), client $(($(rcvbuf_errors c) - $2))"
}

# ---- the storm against metalboot-netboot
ours_storm() {
	storm_start_ours "$nb" "$n" || { tail "$W/ours.log"; exit 1; }
	echo "-- metalboot-netboot"
	local e0 c0
	e0=$(rcvbuf_errors s)
	c0=$(rcvbuf_errors c)
	storm_run ours "${storm_args[@]}" --server-pid "$STORM_OURS" || true
	echo "   UDP receive-buffer drops: $(drops_since "$e0" "$c0")"
	# The server's own account of the storm.
	ip netns exec "$STORM_NS_S" curl -s "http://$STORM_SERVER/metrics" \
		>"$W/ours.metrics" || true
	echo "   server /metrics: $(grep -E '^metalboot_(dhcp_(received|offers|acks)_total|tftp_retransmits_total|tftp_transfers_failed_total|http_request_timeouts_total) ' \
		"$W/ours.metrics" | sed 's/^metalboot_//' | tr '\n' ' ')"
	storm_stop "$STORM_OURS"
}

# ---- the same against dnsmasq + nginx
anchor_conf() {
	local mac name
	mkdir -p "$W/anchor/bootmac" "$W/anchor/nginx"
	# Every node a static host; iPXE's filename carries ${net0/mac},
	# which iPXE expands, so that nginx serves each machine its script.
	sed -n 's/.*name: \([^,]*\), mac: "\([^"]*\)", ip: \([^,]*\),.*/\1 \2 \3/p' \
		"$W/inv.yaml" >"$W/anchor/nodes"
	awk '{ print $2 "," $3 }' "$W/anchor/nodes" >"$W/anchor/hosts"
	while read -r name mac _; do
		ln -s "$W/out/boot/$name.ipxe" "$W/anchor/bootmac/$mac.ipxe"
	done <"$W/anchor/nodes"
	cat >"$W/anchor/dnsmasq.conf" <<EOF
port=0
interface=srv0
bind-interfaces
user=root
dhcp-range=10.20.0.0,static,255.255.0.0,1h
dhcp-hostsfile=$W/anchor/hosts
dhcp-authoritative
no-ping
dhcp-lease-max=$((n * 2))
dhcp-leasefile=$W/anchor/dnsmasq.leases
dhcp-match=set:ipxe,175
dhcp-match=set:efi,option:client-arch,7
dhcp-boot=tag:ipxe,http://$STORM_SERVER/boot/\${net0/mac}.ipxe
dhcp-boot=tag:!ipxe,tag:efi,ipxe/ipxe.efi,,$STORM_SERVER
dhcp-boot=tag:!ipxe,tag:!efi,ipxe/undionly.kpxe,,$STORM_SERVER
enable-tftp
tftp-root=$W/out/public
tftp-max=$((n * 2 > 50 ? n * 2 : 50))
log-facility=$W/anchor/dnsmasq.log
EOF
	cat >"$W/anchor/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
worker_rlimit_nofile 16384;
user root;
pid $W/anchor/nginx/nginx.pid;
error_log $W/anchor/nginx/error.log;
events { worker_connections 8192; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000;
    client_body_temp_path $W/anchor/nginx/body;
    proxy_temp_path $W/anchor/nginx/proxy;
    fastcgi_temp_path $W/anchor/nginx/fastcgi;
    uwsgi_temp_path $W/anchor/nginx/uwsgi;
    scgi_temp_path $W/anchor/nginx/scgi;
    default_type application/octet-stream;
    server {
        listen $STORM_SERVER:80;
        location /files/ { alias $W/out/public/; }
        location /boot/ { alias $W/anchor/bootmac/; }
        location ~ ^/v1/nodes/[^/]+/events\$ { return 204; }
    }
}
EOF
}

anchor_storm() {
	local dm ng pids=() p
	anchor_conf
	ip netns exec "$STORM_NS_S" dnsmasq --keep-in-foreground \
		--conf-file="$W/anchor/dnsmasq.conf" &
	dm=$!
	STORM_PIDS+=("$dm")
	ip netns exec "$STORM_NS_S" nginx -c "$W/anchor/nginx/nginx.conf" &
	ng=$!
	STORM_PIDS+=("$ng")
	sleep 1
	kill -0 "$dm" && kill -0 "$ng" || {
		cat "$W/anchor/dnsmasq.log" "$W/anchor/nginx/error.log"
		exit 1
	}
	# ip netns exec execs the server: these PIDs are the servers.
	pids=(--server-pid "$dm" --server-pid "$ng")
	for p in $(cat "/proc/$ng/task/$ng/children"); do
		pids+=(--server-pid "$p")
	done
	echo "-- dnsmasq + nginx ($((${#pids[@]} / 2 - 2)) nginx workers)"
	local e0 c0
	e0=$(rcvbuf_errors s)
	c0=$(rcvbuf_errors c)
	storm_run anchor "${storm_args[@]}" "${pids[@]}" || true
	echo "   UDP receive-buffer drops: $(drops_since "$e0" "$c0")"
	storm_stop "$ng"
	storm_stop "$dm"
}

storm_compare() {
	local ow aw
	ow=$(jget "$W/ours.json" 'r["wall_s"]')
	aw=$(jget "$W/anchor.json" 'r["wall_s"]')
	echo "== storm, ours / dnsmasq+nginx"
	echo "  served:      $(jget "$W/ours.json" 'r["served"]') / $n" \
		"(anchor $(jget "$W/anchor.json" 'r["served"]') / $n; goal: all $n)"
	echo "  wall time:   $(ratio "$ow" "$aw") (${ow} s / ${aw} s; goal <= 0.8)"
	for p in dhcp_offer dhcp tftp http_kernel http_initrd events total; do
		local o a
		o=$(jget "$W/ours.json" "r['phases']['$p']['p99_ms']")
		a=$(jget "$W/anchor.json" "r['phases']['$p']['p99_ms']")
		printf '  p99 %-11s %s (%.1f ms / %.1f ms)\n' "$p" \
			"$(ratio "$o" "$a")" "$o" "$a"
	done
	echo "  failures, ours:   $(jget "$W/ours.json" 'r["failures"] or "none"')"
	echo "  failures, anchor: $(jget "$W/anchor.json" 'r["failures"] or "none"')"
	echo "  offer p99 ours: $(jget "$W/ours.json" "r['phases']['dhcp_offer']['p99_ms']") ms (goal < 100)"
	echo "  server CPU:  $(ratio "$(jget "$W/ours.json" 'r["server"]["cpu_s"]')" \
		"$(jget "$W/anchor.json" 'r["server"]["cpu_s"]')")" \
		"($(jget "$W/ours.json" 'r["server"]["cpu_s"]') s /" \
		"$(jget "$W/anchor.json" 'r["server"]["cpu_s"]') s)"
	local orss arss
	orss=$(jget "$W/ours.json" 'r["server"]["peak_rss_kib"]')
	arss=$(jget "$W/anchor.json" 'r["server"]["peak_rss_kib"]')
	echo "  peak RSS:    $(ratio "$orss" "$arss") ($((orss / 1024)) MiB /" \
		"$((arss / 1024)) MiB summed over processes; goal ours < 64 MiB)"
}

# ---- DHCP alone: perfdhcp
perf_conf_ours() {
	mkdir -p "$W/perf/out/public" "$W/perf/out/state"
	cat >"$W/perf/out/netboot.yaml" <<EOF
version: 1
cluster: perf
listen: $STORM_SERVER
interface: srv0
dhcp:
  mode: full
  subnet: 10.20.0.0/16
  pool: 10.20.100.0-10.20.250.250
  unknown: discover
  relays:
    - { address: 10.21.0.2, subnet: 10.21.0.0/16, pool: 10.21.100.0-10.21.250.250 }
tftp: { port: 69 }
http: { port: 80 }
paths: { public: public, boot: boot, nodes: nodes, state: state }
nodes: []
EOF
	cat >"$W/perf/kea.conf" <<EOF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "srv0" ] },
  "lease-database": { "type": "memfile", "persist": true,
    "name": "$W/perf/kea.leases", "lfc-interval": 0 },
  "control-socket": { "socket-type": "unix", "socket-name": "$W/perf/kea.sock" },
  "valid-lifetime": 3600,
  "subnet4": [ { "subnet": "10.21.0.0/16",
    "pools": [ { "pool": "10.21.100.0 - 10.21.250.250" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN",
    "output_options": [ { "output": "$W/perf/kea.log" } ] } ]
} }
EOF
}

# perf NAME: perfdhcp against the server running; prints the DORA rate.
perf() {
	local out=$W/perf/$1.out
	ip netns exec "$STORM_NS_C" perfdhcp -4 -l 10.21.0.2 -r "$rate" \
		-R 100000 -p "$psecs" -o 60,505845436c69656e74 \
		"$STORM_SERVER" >"$out" 2>&1 || true
	sed -n 's/^Rate: \([0-9.]*\) 4-way.*/\1/p' "$out" | head -1
}

perf_drops() {
	awk '/Statistics for: DISCOVER-OFFER/ { s = 1 }
		s && /^drops ratio:/ { printf "%s%%", $3; exit }' "$W/perf/$1.out"
}

perfdhcp_compare() {
	local p ro rd rk
	perf_conf_ours
	# perfdhcp is a relay (giaddr 10.21.0.2, replies to its port 67) on a
	# subnet of its own, with option 60 PXEClient, since ours answers
	# PXE clients only.
	ip -n "$STORM_NS_C" addr replace 10.21.0.2/16 dev cli0
	ip -n "$STORM_NS_C" route replace 10.20.0.0/16 dev cli0
	ip -n "$STORM_NS_S" route replace 10.21.0.0/16 dev srv0
	ip netns exec "$STORM_NS_S" "$nb" --user root \
		--config "$W/perf/out/netboot.yaml" --https-port 0 --tftp-port 0 \
		--http-port 0 \
		--dhcp-check-ms 300 >"$W/perf/ours.log" 2>&1 &
	p=$!
	STORM_PIDS+=("$p")
	storm_wait_log "$W/perf/ours.log" "dhcp: full mode" "$p" || {
		cat "$W/perf/ours.log"
		exit 1
	}
	ro=$(perf ours)
	storm_stop "$p"
	ip netns exec "$STORM_NS_S" dnsmasq --keep-in-foreground --port=0 \
		--conf-file=/dev/null --user=root --interface=srv0 \
		--bind-interfaces --no-ping --dhcp-authoritative \
		--dhcp-range=10.21.100.0,10.21.250.250,255.255.0.0,1h \
		--dhcp-lease-max=200000 --dhcp-leasefile="$W/perf/dnsmasq.leases" \
		--log-facility="$W/perf/dnsmasq.log" &
	p=$!
	STORM_PIDS+=("$p")
	sleep 0.5
	rd=$(perf dnsmasq)
	storm_stop "$p"
	# Kea's PID and lock files where it may write them.
	KEA_PIDFILE_DIR=$W/perf KEA_LOCKFILE_DIR=$W/perf \
		ip netns exec "$STORM_NS_S" kea-dhcp4 -c "$W/perf/kea.conf" \
		>"$W/perf/kea-server.log" 2>&1 &
	p=$!
	STORM_PIDS+=("$p")
	sleep 1
	rk=$(perf kea)
	storm_stop "$p"
	echo "== DHCP alone: perfdhcp -r $rate for $psecs s (DORA/s, DISCOVER drop ratio)"
	echo "  metalboot  ${ro:-0}/s  drops $(perf_drops ours)"
	echo "  dnsmasq    ${rd:-0}/s  drops $(perf_drops dnsmasq)"
	echo "  kea-dhcp4  ${rk:-0}/s  drops $(perf_drops kea)"
	echo "  ours / dnsmasq: $(ratio "${ro:-0}" "${rd:-0}")"
	echo "  ours / kea:     $(ratio "${ro:-0}" "${rk:-0}") (goal >= 1.0)"
}

# ---- TFTP alone: 50 clients from 50 addresses
tftp_par() { # OUTDIR: prints "ms failures"
	local d=$1 s e i fails=0 ip pids=()
	mkdir -p "$d"
	s=$(date +%s%N)
	for i in $(seq 0 49); do
		ip=10.20.200.$((i + 1))
		ip netns exec "$STORM_NS_C" curl -s --interface "$ip" \
			--tftp-blksize 1468 -o "$d/$i" \
			"tftp://$STORM_SERVER/f4" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || true; done
	e=$(date +%s%N)
	for i in $(seq 0 49); do
		cmp -s "$d/$i" "$W/out/public/f4" || fails=$((fails + 1))
	done
	rm -rf "$d"
	echo "$(((e - s) / 1000000)) $fails"
}

tftp_compare() {
	local i p om of hm hf
	head -c $((4 << 20)) /dev/urandom >"$W/out/public/f4"
	chmod 644 "$W/out/public/f4"
	for i in $(seq 1 50); do
		ip -n "$STORM_NS_C" addr replace "10.20.200.$i/16" dev cli0
	done
	storm_start_ours "$nb" "$n" || exit 1
	read -r om of <<<"$(tftp_par "$W/tftp-ours")"
	ip netns exec "$STORM_NS_S" curl -s "http://$STORM_SERVER/metrics" |
		sed -n 's/^metalboot_tftp_retransmits_total /   ours retransmitted: /p'
	storm_stop "$STORM_OURS"
	ip netns exec "$STORM_NS_S" in.tftpd -L -s "$W/out/public" \
		-a "$STORM_SERVER:69" &
	p=$!
	STORM_PIDS+=("$p")
	sleep 0.5
	read -r hm hf <<<"$(tftp_par "$W/tftp-hpa")"
	pkill -P "$p" 2>/dev/null || true # its per-transfer children
	storm_stop "$p"
	echo "== TFTP alone: 50 clients from 50 addresses, 4 MiB, blksize 1468"
	echo "  metalboot  $om ms, $of failed"
	echo "  tftpd-hpa  $hm ms, $hf failed"
	echo "  ours / tftpd-hpa: $(ratio "$om" "$hm") (goal <= 0.8)"
}

[[ $skip == *" storm "* ]] || ours_storm
[[ $skip == *" anchor "* ]] || anchor_storm
[[ $skip == *" storm "* || $skip == *" anchor "* ]] || storm_compare
[[ $skip == *" perfdhcp "* ]] || perfdhcp_compare
[[ $skip == *" tftp "* ]] || tftp_compare
if [[ -n ${KEEP:-} ]]; then
	cp -r "$W" "$KEEP"
fi
