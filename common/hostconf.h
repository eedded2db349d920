/*
 * hostconf.h - host settings that must outlive a reboot, rendered as text:
 * pure, no I/O. The agent (firstboot/steps_host.c) and the builder's
 * cloud-init user-data (builder/render.c) write the same bytes.
 *
 * Firewall: runtime-only rules are lost on reboot, and docker sets the
 * FORWARD policy to DROP each time it starts. So both paths install
 * HOSTCONF_FW_SCRIPT and HOSTCONF_FW_UNIT, a oneshot unit that runs the
 * script at every boot after the firewall managers and the runtimes and
 * before kubelet. The script is idempotent and picks what runs:
 *   - firewalld running: each port added --permanent, then --reload;
 *   - ufw active: "ufw allow PORT/PROTO" (ufw keeps its rules) and
 *     DEFAULT_FORWARD_POLICY="ACCEPT" in /etc/default/ufw, then reload;
 *   - else iptables (legacy or nft): each INPUT rule checked (-C) then
 *     appended (-A);
 *   - none of the three: nothing to open, exit 0.
 * Then, whichever ran, "iptables -P FORWARD ACCEPT" when iptables exists:
 * docker sets that policy to DROP whatever manages the INPUT rules (the
 * agent's firewall step did this with firewalld too). The exit status is
 * 1 when a command failed, after every rule was tried.
 */
#ifndef MB_HOSTCONF_H
#define MB_HOSTCONF_H
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

#define HOSTCONF_FW_SCRIPT    "/etc/metalboot/firewall.sh"
#define HOSTCONF_FW_UNIT_NAME "metalboot-firewall.service"
#define HOSTCONF_FW_UNIT      "/etc/systemd/system/" HOSTCONF_FW_UNIT_NAME
/* The script's and the unit's header comment starts with this. */
#define HOSTCONF_MARK	      "# Written by metalboot"

struct hostconf_port {
	const char *port; /* "6443" or a range "30000-32767" */
	bool udp;	  /* false: tcp */
};

/*
 * The /bin/sh script above for these ports, each checked: "N" or "A-B",
 * decimal, 1 to 65535, A <= B (so nothing but digits and one '-' reaches
 * the script). Appended to out; returns 0, -EINVAL (a bad port: nothing
 * appended), -ENOMEM or -E2BIG (out as it was).
 */
int hostconf_fw_script(const struct hostconf_port *ports, size_t n,
		       struct buf *out);

/*
 * The oneshot unit that runs HOSTCONF_FW_SCRIPT at boot (RemainAfterExit,
 * WantedBy=multi-user.target). Appended to out; 0, -ENOMEM or -E2BIG.
 */
int hostconf_fw_unit(struct buf *out);

/*
 * zram swap that distributions turn on by default (Fedora's
 * zram-generator, Debian/Ubuntu's zram-tools and zram-config): the units
 * to mask, NULL-terminated. Masking a unit that does not exist is
 * harmless; both paths also write an empty
 * /etc/systemd/zram-generator.conf, which turns the generator off.
 */
extern const char *const hostconf_zram_units[];
#define HOSTCONF_ZRAM_GENERATOR_CONF "/etc/systemd/zram-generator.conf"

#endif
