#!/usr/bin/env bash
# http_discover.sh: with "unknown: discover" in netboot.yaml, a machine
# that is not in the inventory asking for /boot/MAC.ipxe gets a discovery
# script (its MAC, what to do, and a retry that chains to the same URL),
# logged with the MAC; a known machine still gets its own script, and
# with "unknown: ignore" the unknown machine gets 404.
set -uo pipefail
. "$(dirname "$0")/http_common.bash"

http_port=$(free_port)
out=$work/out
mkdir -p "$out/public" "$out/boot" "$out/nodes" "$out/state"
printf '#!ipxe\necho cp1\n' >"$out/boot/cp1.ipxe"
write_conf() {
	cat >"$out/netboot.yaml" <<YAML
version: 1
cluster: lab
listen: 127.0.0.1
dhcp:
  mode: "off"
  unknown: $1
tftp: { port: $(free_port) }
http: { port: $http_port }
nodes:
  - { name: cp1, mac: "52:54:00:00:01:01", ip: 127.0.0.1, role: control-plane }
YAML
}
base=http://127.0.0.1:$http_port
stranger=52:54:00:00:09:09

write_conf discover
nb_start --config "$out/netboot.yaml"
script=$(curl -s "$base/boot/52-54-00-00-09-09.ipxe")
check "discovery script is iPXE" "#!ipxe" "$(head -n 1 <<<"$script")"
check "it names the machine" 1 "$(grep -c "machine $stranger .* is not in the inventory" <<<"$script")"
check "it asks again" 1 "$(grep -c "^chain --autofree $stranger.ipxe || goto again$" <<<"$script")"
check "logged with the MAC" 1 "$(grep -c "machine $stranger is not in the inventory" "$nb_log")"
check "known machine unchanged" "$(cat "$out/boot/cp1.ipxe")" "$(curl -s "$base/boot/52:54:00:00:01:01.ipxe")"
check "no payload for it" 404 "$(code "$base/v1/nodes/$stranger/firstboot")"
nb_stop

write_conf ignore
nb_start --config "$out/netboot.yaml"
check "ignore: 404" 404 "$(code "$base/boot/$stranger.ipxe")"
nb_stop
finish
