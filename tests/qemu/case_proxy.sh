#!/usr/bin/env bash
# Proxy mode: dnsmasq is the site's DHCP server on the bridge and hands out
# the addresses; metalboot-netboot --dhcp proxy only adds the boot files.
here=$(cd "$(dirname "$0")" && pwd)
MB_QEMU_DHCP=proxy MB_QEMU_CHECK=$here/check_kubeadm.sh \
	exec bash "$here/run.sh" "$here/../../profiles/examples/lab.yaml"
