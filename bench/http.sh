#!/usr/bin/env bash
# bench/http.sh: metalboot-netboot's HTTP file serving next to nginx
# (one worker, sendfile on, a minimal config in a temp dir), both on
# loopback high ports, in one run:
#   - single-stream throughput on a 256 MiB file (curl, best of 3)
#   - wrk -c50 requests/s on a 1 MiB file and on a 4 KiB file
#   - peak RSS of our server
# and prints ours/nginx ratios against the goals of issue 7 (>= 0.9x
# single stream, >= 0.8x wrk on 1 MiB, RSS < 32 MiB).
# Use a build without sanitizers: MB_BUILD_DIR=build-rel bench/http.sh
# Environment: BENCH_SECONDS (wrk duration, default 10), BENCH_BIG_MB (256).
set -euo pipefail
build=${MB_BUILD_DIR:-build}
nb=$build/netboot/metalboot-netboot
secs=${BENCH_SECONDS:-10}
big_mb=${BENCH_BIG_MB:-256}
for t in nginx wrk curl; do
	command -v "$t" >/dev/null || { echo "bench/http.sh: needs $t" >&2; exit 77; }
done
[[ -x $nb ]] || { echo "bench/http.sh: build $nb first" >&2; exit 1; }
if nm -C "$nb" 2>/dev/null | grep -q __asan_init; then
	echo "warning: $nb is built with sanitizers; numbers will be low" >&2
fi

work=$(mktemp -d /tmp/mb-bench-http.XXXXXX)
nb_pid= ng_pid=
cleanup() {
	for p in $nb_pid $ng_pid; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

root=$work/root
mkdir -p "$root" "$work/nginx"
head -c $((big_mb << 20)) /dev/urandom >"$root/big"
head -c $((1 << 20)) /dev/urandom >"$root/1m"
head -c 4096 /dev/urandom >"$root/4k"

ng_port=$(port)
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
user $(id -un);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$ng_port;
        location /files/ { alias $root/; }
    }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
ng_pid=$!

nb_port=$(port)
# wrk's 50 connections come from one address: lift the per-address cap
# (nginx has none by default).
"$nb" --user root --root "$root" --dhcp off --listen 127.0.0.1 --http-port "$nb_port" \
	--tftp-port "$(port)" --http-max-per-ip 1000 2>"$work/nb.log" &
nb_pid=$!

for p in $ng_port $nb_port; do
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$p/files/4k" && break
		sleep 0.1
	done
done
# Warm the page cache.
cat "$root/big" >/dev/null

single() { # URL -> best bytes/s of 3
	local best=0 s
	for _ in 1 2 3; do
		s=$(curl -s -o /dev/null -w '%{speed_download}' "$1")
		s=${s%.*}
		((s > best)) && best=$s
	done
	echo "$best"
}
rps() { # URL -> requests/s with wrk -c50 (0 when any answer was not 2xx)
	local o
	o=$(wrk -t1 -c50 -d"${secs}s" "$1" 2>/dev/null)
	if grep -q 'Non-2xx' <<<"$o"; then
		echo "bench/http.sh: $1: non-2xx answers" >&2
		echo 0
		return
	fi
	sed -n 's/^Requests\/sec:[[:space:]]*//p' <<<"$o" | cut -d. -f1
}
ratio() {
	python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.2f' % (a/b if b else 0))" "$1" "$2"
}

ng=http://127.0.0.1:$ng_port/files
ours=http://127.0.0.1:$nb_port/files
s_ng=$(single "$ng/big")
s_nb=$(single "$ours/big")
r1_ng=$(rps "$ng/1m")
r1_nb=$(rps "$ours/1m")
r4_ng=$(rps "$ng/4k")
r4_nb=$(rps "$ours/4k")
rss_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$nb_pid/status")

printf '%-34s %14s %14s %7s %s\n' test nginx metalboot ratio goal
printf '%-34s %11d MB/s %9d MB/s %7s %s\n' "single stream, ${big_mb} MiB" \
	$((s_ng >> 20)) $((s_nb >> 20)) "$(ratio "$s_nb" "$s_ng")" ">= 0.90"
printf '%-34s %14s %14s %7s %s\n' "wrk -c50 req/s, 1 MiB" "$r1_ng" "$r1_nb" \
	"$(ratio "$r1_nb" "$r1_ng")" ">= 0.80"
printf '%-34s %14s %14s %7s %s\n' "wrk -c50 req/s, 4 KiB" "$r4_ng" "$r4_nb" \
	"$(ratio "$r4_nb" "$r4_ng")" "-"
printf '%-34s %14s %11d MiB %7s %s\n' "peak RSS (ours)" "-" $((rss_kb >> 10)) "-" "< 32 MiB"
