/*
 * stage1.c - the pure half of metalboot-init (stage1.h).
 */
#include "stage1.h"

#include "num.h"
#include "storage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *const s1_state_dirs[] = {
	"etc/kubernetes",     "var/lib/etcd",	   "var/lib/kubelet",
	"var/lib/containerd", "var/lib/metalboot", NULL,
};

/* Copy the value of word (after prefix) into dst (cap), or -ENAMETOOLONG. */
static int
take(const char *word, size_t wlen, size_t plen, char *dst, size_t cap)
{
	size_t n = wlen - plen;

	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, word + plen, n);
	dst[n] = '\0';
	return 0;
}

/* iPXE's BOOTIF=01-aa-bb-cc-dd-ee-ff (type 01: Ethernet). */
static int
bootif_parse(const char *v, uint8_t mac[MAC_LEN])
{
	char m[MAC_STR_LEN];
	size_t i;

	if (strlen(v) != 3 + MAC_STR_LEN - 1 || strncmp(v, "01-", 3) != 0)
		return -EINVAL;
	memcpy(m, v + 3, sizeof(m) - 1);
	m[sizeof(m) - 1] = '\0';
	for (i = 0; m[i] != '\0'; i++)
		if (m[i] == '-')
			m[i] = ':';
	return mac_parse(m, mac);
}

/* Parse one word; -EINVAL/-ENAMETOOLONG for a bad metalboot.* value. */
static int
word_parse(const char *w, size_t len, struct s1_cmdline *c)
{
	char v[S1_INIT_MAX];
	int r = 0;

#define IS(p)  (len >= sizeof(p) - 1 && strncmp(w, p, sizeof(p) - 1) == 0)
#define VAL(p) take(w, len, sizeof(p) - 1, v, sizeof(v))
	if (IS("metalboot.mac=")) {
		r = VAL("metalboot.mac=");
		if (r == 0 && mac_parse(v, c->mac) < 0)
			r = -EINVAL;
		c->has_mac = c->has_mac || r == 0;
	} else if (IS("BOOTIF=") && !c->has_mac) {
		r = VAL("BOOTIF=");
		if (r == 0 && bootif_parse(v, c->mac) < 0)
			r = -EINVAL;
		c->has_mac = r == 0;
	} else if (IS("metalboot.tmpfs=")) {
		r = VAL("metalboot.tmpfs=");
		if (r == 0 && (strlen(v) >= sizeof(c->tmpfs) ||
			       storage_tmpfs_check(v) < 0))
			r = -EINVAL;
		if (r == 0)
			snprintf(c->tmpfs, sizeof(c->tmpfs), "%s", v);
	} else if (IS("metalboot.state=")) {
		r = VAL("metalboot.state=");
		if (r == 0 &&
		    (strlen(v) >= sizeof(c->state) || !storage_device_valid(v)))
			r = -EINVAL;
		if (r == 0)
			snprintf(c->state, sizeof(c->state), "%s", v);
	} else if (IS("metalboot.wipe=")) {
		c->wipe = len == sizeof("metalboot.wipe=") && w[len - 1] == '1';
	} else if (IS("init=")) {
		r = take(w, len, 5, c->init, sizeof(c->init));
		if (r == 0 && c->init[0] != '/')
			r = -EINVAL;
		if (r < 0)
			c->init[0] = '\0';
	}
#undef IS
#undef VAL
	return r;
}

int
s1_cmdline_parse(const char *text, struct s1_cmdline *ret, char *err,
		 size_t errlen)
{
	const char *p = text;
	int rc = 0;

	memset(ret, 0, sizeof(*ret));
	while (*p != '\0') {
		size_t len;
		int r;

		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		if (len == 0)
			break;
		r = word_parse(p, len, ret);
		if (r < 0 && rc == 0) {
			rc = -EINVAL;
			snprintf(err, errlen,
				 "kernel command line: cannot use "
				 "\"%.*s\"",
				 (int)(len > 80 ? 80 : len), p);
		}
		p += len;
	}
	return rc;
}

uint64_t
s1_meminfo_total(const char *text)
{
	const char *p = strstr(text, "MemTotal:");
	uint64_t kib;
	size_t n;

	if (p == NULL)
		return 0;
	p += strlen("MemTotal:");
	p += strspn(p, " \t");
	n = strspn(p, "0123456789");
	if (num_parse_u64n(p, n, 0, UINT64_MAX / 1024, &kib) < 0)
		return 0;
	return kib * 1024;
}

enum s1_disk_action
s1_disk_decide(const struct s1_probe *p, bool wipe)
{
	if (p->blank)
		return S1_DISK_FORMAT;
	if (strcmp(p->type, "ext4") == 0 && strcmp(p->label, S1_LABEL) == 0)
		return S1_DISK_MOUNT;
	return wipe ? S1_DISK_FORMAT : S1_DISK_REFUSE;
}

/* ---- DHCP client ----------------------------------------------------- */

int
s1_dhcp_build(const uint8_t mac[MAC_LEN], uint32_t xid, uint32_t server,
	      uint32_t addr, uint8_t *buf, size_t cap)
{
	static const uint8_t params[] = { DHCP_OPT_NETMASK, DHCP_OPT_ROUTER,
					  DHCP_OPT_DNS, DHCP_OPT_HOSTNAME,
					  DHCP_OPT_DOMAIN };
	static const char vclass[] = "metalboot-init";
	struct dhcp_msg m;

	dhcp_request_init(&m, mac, xid,
			  server == 0 ? DHCP_DISCOVER : DHCP_REQUEST);
	if (server != 0) {
		m.has_server_id = m.has_requested_ip = true;
		m.server_id = server;
		m.requested_ip = addr;
	}
	m.params.len = sizeof(params);
	memcpy(m.params.data, params, sizeof(params));
	m.vendor_class.len = sizeof(vclass) - 1;
	memcpy(m.vendor_class.data, vclass, sizeof(vclass) - 1);
	return dhcp_encode(&m, buf, cap);
}

/* A name that does not fit is left out, not cut into another name. */
static void
copy_name(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = 0;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
lease_fill(const struct dhcp_msg *m, struct s1_lease *l)
{
	memset(l, 0, sizeof(*l));
	l->addr = m->yiaddr;
	l->netmask = m->has_netmask ? m->netmask : 0xffffff00u;
	l->router = m->has_router ? m->router : 0;
	l->server = m->has_server_id ? m->server_id : m->siaddr;
	l->ndns = m->n_dns;
	memcpy(l->dns, m->dns, sizeof(l->dns));
	l->lease_time = m->has_lease_time ? m->lease_time : 0;
	copy_name(l->hostname, sizeof(l->hostname), m->hostname);
	copy_name(l->domain, sizeof(l->domain), m->domain);
}

int
s1_dhcp_reply(const uint8_t *pkt, size_t len, const uint8_t mac[MAC_LEN],
	      uint32_t xid, uint8_t want, struct s1_lease *ret)
{
	struct dhcp_msg m;

	if (dhcp_decode(pkt, len, &m) < 0)
		return -EBADMSG;
	if (m.op != DHCP_OP_REPLY || m.xid != xid || m.hlen != MAC_LEN ||
	    memcmp(m.chaddr, mac, MAC_LEN) != 0)
		return -EAGAIN;
	if (m.type == DHCP_NAK && want == DHCP_ACK)
		return -ECONNREFUSED;
	if (m.type != want || m.yiaddr == 0 || !m.has_server_id)
		return -EAGAIN;
	lease_fill(&m, ret);
	return 0;
}

int
s1_prefix_len(uint32_t netmask)
{
	int n = 0;

	while (n < 32 && (netmask & (0x80000000u >> n)) != 0)
		n++;
	if (n < 32 && (netmask << n) != 0)
		return -1;
	return n;
}
