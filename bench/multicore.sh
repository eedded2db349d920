#!/usr/bin/env bash
# bench/multicore.sh - the multi-core question (issue 18, part 3), side by
# side: metalboot-netboot with one loop (--workers 1) and with a worker
# loop per CPU (--workers 0), next to tftpd-hpa (a process per transfer)
# and nginx (worker_processes auto), on loopback:
#   - TFTP: 50 curl clients at once, each from its own address
#     (127.0.0.2-51), 4 MiB each, blksize 1468; milliseconds for all
#   - HTTP: wrk -t2 -c50 for BENCH_SECONDS on a 4 KiB and a 1 MiB file
# Best of RUNS (default 3). Ratios: anchor time / ours (TFTP), ours /
# anchor requests (HTTP); above 1 means we are faster.
# Usage: bench/multicore.sh [BUILD_DIR]  (a build without sanitizers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MB_BUILD_DIR=${1:-${MB_BUILD_DIR:-$here/../build}}
. "$here/../tests/interop/tftp_lib.bash"
tftp_setup
tftp_need curl in.tftpd nginx wrk
RUNS=${RUNS:-3}
secs=${BENCH_SECONDS:-5}
root=$TFTP_WORK/root
mkdir -p "$root" "$TFTP_WORK/ng"
tftp_mkfile "$root/f4" $((4 << 20))
tftp_mkfile "$root/4k" 4096
tftp_mkfile "$root/1m" $((1 << 20))
chmod 755 "$TFTP_WORK" "$root"
chmod 644 "$root"/*
hport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

t1=$(tftp_free_port) h1=$(hport)
tftp_start "$root" "$t1" --http-port "$h1" --workers 1 \
	--tftp-max-transfers 1024 --tftp-max-per-client 1024 --http-max-per-ip 1024
t0=$(tftp_free_port) h0=$(hport)
tftp_start "$root" "$t0" --http-port "$h0" --workers 0 \
	--tftp-max-transfers 1024 --tftp-max-per-client 1024 --http-max-per-ip 1024
th=$(tftp_free_port)
in.tftpd -L -s "$root" -a "127.0.0.1:$th" &
hpa=$!
TFTP_PIDS+=("$hpa")
hn=$(hport)
cat >"$TFTP_WORK/ng/nginx.conf" <<CONF
daemon off;
worker_processes auto;
user $(id -un);
pid $TFTP_WORK/ng/nginx.pid;
error_log $TFTP_WORK/ng/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $TFTP_WORK/ng/body;
    proxy_temp_path $TFTP_WORK/ng/proxy;
    fastcgi_temp_path $TFTP_WORK/ng/fastcgi;
    uwsgi_temp_path $TFTP_WORK/ng/uwsgi;
    scgi_temp_path $TFTP_WORK/ng/scgi;
    server { listen 127.0.0.1:$hn; location /files/ { alias $root/; } }
}
CONF
nginx -c "$TFTP_WORK/ng/nginx.conf" -p "$TFTP_WORK/ng" &
TFTP_PIDS+=($!)
trap 'pkill -P "$hpa" 2>/dev/null || true; tftp_cleanup' EXIT
sleep 0.5

# par PORT: ms for 50 clients from 50 addresses, and how many differ.
par() {
	local s e i bad=0 pids=()
	s=$(date +%s%N)
	for i in $(seq 1 50); do
		curl -s --interface "127.0.0.$((i + 1))" --tftp-blksize 1468 \
			-o "$TFTP_WORK/o$i" "tftp://127.0.0.1:$1/f4" &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	e=$(date +%s%N)
	for i in $(seq 1 50); do
		cmp -s "$TFTP_WORK/o$i" "$root/f4" || bad=$((bad + 1))
	done
	((bad == 0)) || echo "FAIL: $bad clients got a wrong file" >&2
	echo $(((e - s) / 1000000))
}
best_par() {
	local i t b=999999
	for i in $(seq 1 "$RUNS"); do
		t=$(par "$1")
		((t < b)) && b=$t
	done
	echo "$b"
}
rps() {
	local i v b=0
	for i in $(seq 1 "$RUNS"); do
		v=$(wrk -t2 -c50 -d"${secs}s" "$1" 2>/dev/null |
			awk '/Requests\/sec/ { printf "%d", $2 }')
		((v > b)) && b=$v
	done
	echo "$b"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== TFTP: 50 clients from 50 addresses, 4 MiB each (ms, best of $RUNS)"
a=$(best_par "$t1"); b=$(best_par "$t0"); c=$(best_par "$th")
printf "  metalboot --workers 1  %6d   tftpd-hpa/ours %s\n" "$a" "$(ratio "$c" "$a")"
printf "  metalboot --workers 0  %6d   tftpd-hpa/ours %s\n" "$b" "$(ratio "$c" "$b")"
printf "  tftpd-hpa              %6d\n" "$c"
for f in 4k 1m; do
	echo "== HTTP: wrk -t2 -c50 ${secs}s, $f (requests/s, best of $RUNS)"
	a=$(rps "http://127.0.0.1:$h1/files/$f")
	b=$(rps "http://127.0.0.1:$h0/files/$f")
	c=$(rps "http://127.0.0.1:$hn/files/$f")
	printf "  metalboot --workers 1  %7d   ours/nginx %s\n" "$a" "$(ratio "$a" "$c")"
	printf "  metalboot --workers 0  %7d   ours/nginx %s\n" "$b" "$(ratio "$b" "$c")"
	printf "  nginx (auto workers)   %7d\n" "$c"
done
echo "CPUs online: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
