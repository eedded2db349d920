/*
 * hostconf.c - the firewall script and unit that re-apply the node's
 * ports at boot, and the zram units to mask. Text only, no I/O.
 */
#include "hostconf.h"

#include "num.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *const hostconf_zram_units[] = {
	"zramswap.service",		    /* Debian, Ubuntu: zram-tools */
	"zram-config.service",		    /* Ubuntu: zram-config */
	"systemd-zram-setup@zram0.service", /* Fedora: zram-generator */
	"dev-zram0.swap",		    /* the swap unit it generates */
	NULL,
};

/* How each manager spells a port: "30000-32767/tcp", ":" for ufw, ... */
enum spelling {
	SP_FIREWALLD, /* 30000-32767/tcp */
	SP_UFW,	      /* 30000:32767/tcp */
	SP_IPTABLES,  /* tcp:30000:32767 (the script splits at the first ':') */
};

/*
 * The rest of the script, after its three lists. POSIX sh: no bashisms, no
 * "set -e" (one failed rule must not stop the others; the exit status says
 * so). Each branch checks before it adds, so a second run adds nothing.
 */
static const char script_body[] =
	"rc=0\n"
	"\n"
	"have() {\n"
	"\tcommand -v \"$1\" >/dev/null 2>&1\n"
	"}\n"
	"\n"
	"if have firewall-cmd && firewall-cmd --state >/dev/null 2>&1; then\n"
	"\tfor p in $FIREWALLD_PORTS; do\n"
	"\t\tfirewall-cmd --permanent --query-port=\"$p\" >/dev/null 2>&1 ||\n"
	"\t\t\tfirewall-cmd --permanent --add-port=\"$p\" >/dev/null || rc=1\n"
	"\tdone\n"
	"\tfirewall-cmd --reload >/dev/null || rc=1\n"
	"\techo \"metalboot-firewall: firewalld: $FIREWALLD_PORTS\"\n"
	"elif have ufw && ufw status 2>/dev/null | grep -q '^Status: active'; "
	"then\n"
	"\tfor p in $UFW_PORTS; do\n"
	"\t\tufw allow \"$p\" >/dev/null || rc=1\n"
	"\tdone\n"
	"\tf=/etc/default/ufw\n"
	"\twant='DEFAULT_FORWARD_POLICY=\"ACCEPT\"'\n"
	"\tif [ -f \"$f\" ] && ! grep -qx \"$want\" \"$f\"; then\n"
	"\t\t{ grep -v '^DEFAULT_FORWARD_POLICY=' \"$f\"; echo \"$want\"; } "
	">\"$f.metalboot\" &&\n"
	"\t\t\tcat \"$f.metalboot\" >\"$f\" && rm -f \"$f.metalboot\" &&\n"
	"\t\t\tufw reload >/dev/null || rc=1\n"
	"\tfi\n"
	"\techo \"metalboot-firewall: ufw: $UFW_PORTS\"\n"
	"elif have iptables; then\n"
	"\tfor p in $IPTABLES_PORTS; do\n"
	"\t\tproto=${p%%:*}\n"
	"\t\tport=${p#*:}\n"
	"\t\tiptables -C INPUT -p \"$proto\" --dport \"$port\" -j ACCEPT "
	"2>/dev/null ||\n"
	"\t\t\tiptables -A INPUT -p \"$proto\" --dport \"$port\" -j ACCEPT "
	"|| rc=1\n"
	"\tdone\n"
	"\techo \"metalboot-firewall: iptables: $IPTABLES_PORTS\"\n"
	"else\n"
	"\techo \"metalboot-firewall: no firewalld, ufw or iptables: nothing "
	"to open\"\n"
	"fi\n"
	"# Pods on other nodes are reached through FORWARD, whose policy "
	"docker\n"
	"# sets to DROP when it starts (this runs after it).\n"
	"if have iptables; then\n"
	"\tiptables -P FORWARD ACCEPT || rc=1\n"
	"fi\n"
	"exit $rc\n";

/*
 * "N" or "A-B", each 1..65535 and A <= B, into *ret_first and *ret_last.
 * 0 or -EINVAL.
 */
static int
port_parse(const char *s, uint64_t *ret_first, uint64_t *ret_last)
{
	const char *dash;
	uint64_t a, b;

	if (s == NULL)
		return -EINVAL;
	dash = strchr(s, '-');
	if (dash == NULL) {
		if (num_parse_u64(s, 1, 65535, &a) < 0)
			return -EINVAL;
		b = a;
	} else if (num_parse_u64n(s, (size_t)(dash - s), 1, 65535, &a) < 0 ||
		   num_parse_u64(dash + 1, 1, 65535, &b) < 0 || a > b) {
		return -EINVAL;
	}
	*ret_first = a;
	*ret_last = b;
	return 0;
}

/* NAME="PORT PORT ..." as manager sp spells them. */
static int
port_list(const char *name, enum spelling sp, const struct hostconf_port *ports,
	  size_t n, struct buf *out)
{
	static const char range_sep[] = { '-', ':', ':' };
	size_t i;
	int r;

	r = buf_printf(out, "%s=\"", name);
	for (i = 0; r == 0 && i < n; i++) {
		const char *proto = ports[i].udp ? "udp" : "tcp";
		uint64_t a, b;
		char range[16];

		if (port_parse(ports[i].port, &a, &b) < 0)
			return -EINVAL;
		if (a == b)
			snprintf(range, sizeof(range), "%u", (unsigned)a);
		else
			snprintf(range, sizeof(range), "%u%c%u", (unsigned)a,
				 range_sep[sp], (unsigned)b);
		if (sp == SP_IPTABLES)
			r = buf_printf(out, "%s%s:%s", i ? " " : "", proto,
				       range);
		else
			r = buf_printf(out, "%s%s/%s", i ? " " : "", range,
				       proto);
	}
	if (r == 0)
		r = buf_puts(out, "\"\n");
	return r;
}

int
hostconf_fw_script(const struct hostconf_port *ports, size_t n, struct buf *out)
{
	size_t len = out->len, i;
	uint64_t a, b;
	int r;

	for (i = 0; i < n; i++)
		if (port_parse(ports[i].port, &a, &b) < 0)
			return -EINVAL;
	r = buf_puts(out, "#!/bin/sh\n" HOSTCONF_MARK
			  ": opens this node's ports at every boot\n"
			  "# (" HOSTCONF_FW_UNIT_NAME "). Idempotent: a rule "
			  "already there is not added\n"
			  "# again. A firewall manager that is not installed "
			  "is skipped.\n");
	if (r == 0)
		r = port_list("FIREWALLD_PORTS", SP_FIREWALLD, ports, n, out);
	if (r == 0)
		r = port_list("UFW_PORTS", SP_UFW, ports, n, out);
	if (r == 0)
		r = port_list("IPTABLES_PORTS", SP_IPTABLES, ports, n, out);
	if (r == 0)
		r = buf_puts(out, script_body);
	if (r < 0 && out->data != NULL) {
		out->len = len;
		out->data[len] = '\0';
	}
	return r;
}

int
hostconf_fw_unit(struct buf *out)
{
	return buf_puts(out, HOSTCONF_MARK
			": re-applies this node's firewall "
			"rules at every boot.\n"
			"[Unit]\n"
			"Description=metalboot: open this "
			"node's Kubernetes ports\n"
			"After=firewalld.service ufw.service "
			"docker.service containerd.service\n"
			"Before=kubelet.service\n"
			"\n"
			"[Service]\n"
			"Type=oneshot\n"
			"RemainAfterExit=yes\n"
			"ExecStart=/bin/sh " HOSTCONF_FW_SCRIPT "\n"
			"\n"
			"[Install]\n"
			"WantedBy=multi-user.target\n");
}
