#!/usr/bin/env bash
# Secure Boot beside the site's DHCP server (proxyDHCP): cp1 on OVMF with
# Secure Boot enforced gets its address from the site's dnsmasq and the
# shim from our proxy answer, then GRUB, its configuration, the signed
# kernel, the initrd, the agent, done. Debian 12's GRUB takes its TFTP
# server from the site's DHCP ACK (siaddr) and never from the proxy
# answer, so the site names our server as next-server for the machine
# (docs/netboot.md, "Secure Boot"); without it GRUB asks nobody.
here=$(cd "$(dirname "$0")" && pwd)
MB_QEMU_DHCP=proxy \
	MB_QEMU_SITE_DHCP=$'dhcp-mac=set:sb,52:54:00:00:01:01\ndhcp-boot=tag:sb,secureboot/shimx64.efi,,192.168.100.1' \
	MB_QEMU_MACHINES=$here/machines/secureboot-cp1.conf \
	MB_QEMU_CHECK=$here/check_secureboot.sh \
	exec bash "$here/run.sh" "$here/inventories/secureboot.yaml"
