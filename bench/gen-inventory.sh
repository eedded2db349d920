#!/usr/bin/env bash
# gen-inventory.sh N [ETCD] - print an inventory of N nodes (3 control-plane
# nodes behind an endpoint, the rest workers; ETCD=external adds 3 etcd
# nodes) on a /16, for build benchmarks and scale tests.
set -euo pipefail
n=${1:?usage: gen-inventory.sh N [external]}
etcd=${2:-stacked}
cat <<EOT
cluster:
  name: scale
  kubernetes_version: v1.31.1
  control_plane_endpoint: 10.20.0.10:6443
  etcd: $etcd
network:
  server_ip: 10.20.0.1
  subnet: 10.20.0.0/16
  gateway: 10.20.0.1
  dns: [10.20.0.1]
  dhcp: full
nodes:
EOT
i=0
emit() { # name role index
	printf '  - { name: %s, mac: "52:54:00:%02x:%02x:%02x", ip: 10.20.%d.%d, role: %s }\n' \
		"$1" $(($3 >> 16 & 255)) $(($3 >> 8 & 255)) $(($3 & 255)) \
		$(($3 / 200 + 1)) $(($3 % 200 + 20)) "$2"
}
if [[ $etcd == external ]]; then
	for e in 1 2 3; do emit "etcd$e" etcd $i; i=$((i + 1)); done
fi
for c in 1 2 3; do emit "cp$c" control-plane $i; i=$((i + 1)); done
while ((i < n)); do emit "w$i" worker $i; i=$((i + 1)); done
