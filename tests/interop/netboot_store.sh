#!/usr/bin/env bash
# netboot_store.sh: the node store is a service of its own (store_io.c),
# not the HTTP service's. With HTTP and HTTPS off (--http-port 0
# --https-port 0), a TFTP fetch of a kernel by a node's address is still
# recorded on its timeline and written to STATE/nodes at a clean stop;
# a restart with HTTP on shows it in /v1/nodes, and its own samples are in
# /metrics beside HTTP's, with the latency histograms (TFTP transfer time,
# HTTP time to first byte).
set -uo pipefail
. "$(dirname "$0")/http_common.bash"
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }

http_port=$(free_port)
tftp_port=$(free_port)
out=$work/out
mkdir -p "$out/public/images/control-plane" "$out/boot" "$out/nodes" \
	"$out/state"
head -c 70000 /dev/urandom >"$out/public/images/control-plane/vmlinuz"
cat >"$out/netboot.yaml" <<YAML
version: 1
cluster: lab
listen: 127.0.0.1
interface: null
dhcp:
  mode: "off"
tftp: { port: $tftp_port }
http: { port: $http_port }
paths:
  public: public
  boot: boot
  nodes: nodes
  state: state
nodes:
  - { name: cp1, mac: "52:54:00:00:01:01", ip: 127.0.0.1, role: control-plane }
YAML

# HTTP off: only TFTP and the store run.
"$nb_bin" --user root --config "$out/netboot.yaml" --http-port 0 \
	--https-port 0 >>"$nb_log" 2>&1 &
nb_pid=$!
got=1
for _ in $(seq 50); do
	python3 "$(dirname "$0")/tftp_get.py" 127.0.0.1 "$tftp_port" \
		images/control-plane/vmlinuz "$work/k" 1468 >/dev/null 2>&1 &&
		{ got=0; break; }
	kill -0 "$nb_pid" 2>/dev/null || break
	sleep 0.1
done
check "TFTP with HTTP off" 0 "$got"
cmp -s "$work/k" "$out/public/images/control-plane/vmlinuz"
check "kernel intact" 0 $?
nb_stop
state=$out/state/nodes/52-54-00-00-01-01.json
check "state written at stop" yes "$([[ -s $state ]] && echo yes)"
check "kernel on the timeline" 1 "$(grep -c '"kernel"' "$state" 2>/dev/null)"

# HTTP on: the same store, reloaded, shows it.
nb_start --config "$out/netboot.yaml" --https-port 0
nodes=$(curl -s "http://127.0.0.1:$http_port/v1/nodes")
check "cp1 booting" booting "$(python3 -c '
import json, sys
n = [n for n in json.loads(sys.argv[1])["nodes"] if n["name"] == "cp1"][0]
print(n["state"])' "$nodes")"
check "kernel in /v1/nodes" 1 "$(grep -o '"kernel"' <<<"$nodes" | wc -l)"
python3 "$(dirname "$0")/tftp_get.py" 127.0.0.1 "$tftp_port" \
	images/control-plane/vmlinuz "$work/k2" 1468 >/dev/null 2>&1
check "TFTP again" 0 $?
metrics=$(curl -s "http://127.0.0.1:$http_port/metrics")
# The latency histograms: the transfer, and the HTTP replies so far.
check "TFTP transfer histogram" 1 \
	"$(grep -c '^metalboot_tftp_transfer_seconds_count 1$' <<<"$metrics")"
check "TFTP histogram +Inf" 1 \
	"$(grep -c '^metalboot_tftp_transfer_seconds_bucket{le="+Inf"} 1$' <<<"$metrics")"
check "HTTP first-byte histogram" 1 \
	"$(grep -cE '^metalboot_http_first_byte_seconds_count [1-9]' <<<"$metrics")"
check "histogram type" 3 "$(grep -c '^# TYPE metalboot_.*_seconds histogram$' <<<"$metrics")"
for m in metalboot_node_state_writes_total metalboot_node_marks_dropped_total \
	metalboot_tftp_requests_total metalboot_http_connections_total; do
	check "metric $m" 1 "$(grep -c "^$m " <<<"$metrics")"
done
nb_stop
if ((fails)); then
	cat "$nb_log"
	exit 1
fi
