/*
 * dhcp_policy.c - DHCP decisions for full and proxy mode. See
 * dhcp_policy.h.
 */
#include "dhcp_policy.h"

#include "buf.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define BIT_SET(a, i) ((a)[(i) / 8] |= (uint8_t)(1u << ((i) % 8)))
#define BIT_GET(a, i) (((a)[(i) / 8] >> ((i) % 8)) & 1u)

/* PXE 2.1 option 43: DISCOVERY_CONTROL = 8 (boot file given), END. */
static const uint8_t pxe_vendor_bios[] = { 6, 1, 8, 255 };

static const char *
arch_name(uint16_t arch)
{
	switch (arch) {
	case 0:
		return "bios";
	case 6:
		return "uefi-ia32";
	case 7:
	case 9:
		return "uefi-x64";
	case 10:
		return "uefi-arm32";
	case 11:
		return "uefi-arm64";
	case 15:
		return "http-ia32";
	case 16:
		return "http-x64";
	case 18:
		return "http-arm32";
	case 19:
		return "http-arm64";
	default:
		return "other";
	}
}

/* See dhcp_policy.h. */
const char *
dhcp_mode_name(enum dhcp_mode mode)
{
	switch (mode) {
	case DHCP_FULL:
		return "full";
	case DHCP_PROXY:
		return "proxy";
	default:
		return "off";
	}
}

/* See dhcp_policy.h. */
const struct dhcp_host *
dhcp_conf_host(const struct dhcp_conf *conf, const uint8_t mac[MAC_LEN])
{
	size_t i;

	for (i = 0; i < conf->n_hosts; i++)
		if (memcmp(conf->hosts[i].mac, mac, MAC_LEN) == 0)
			return &conf->hosts[i];
	return NULL;
}

static bool
is_http_client(const struct dhcp_msg *m, uint16_t arch)
{
	return dhcp_vendor_class_is(m, "HTTPClient") ||
	       (arch >= 15 && arch <= 19);
}

static bool
is_boot_client(const struct dhcp_msg *m)
{
	return dhcp_vendor_class_is(m, "PXEClient") ||
	       dhcp_vendor_class_is(m, "HTTPClient") || dhcp_is_ipxe(m);
}

/* snprintf into a DHCP_PATH_MAX buffer; false when truncated. */
static bool __attribute__((format(printf, 2, 3)))
path_printf(char file[DHCP_PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(file, DHCP_PATH_MAX, fmt, ap);
	va_end(ap);
	return n > 0 && n < DHCP_PATH_MAX;
}

/* See dhcp_policy.h. */
enum dhcp_boot
dhcp_policy_bootfile(const struct dhcp_conf *conf, const struct dhcp_msg *m,
		     char file[DHCP_PATH_MAX])
{
	char mac[MAC_STR_LEN], ip[IPV4_STR_LEN];
	bool known;
	uint16_t arch = dhcp_client_arch(m, &known);
	const struct dhcp_host *h = dhcp_conf_host(conf, m->chaddr);
	bool sb = h != NULL && h->secure_boot;

	file[0] = '\0';
	if (!is_boot_client(m))
		return DHCP_BOOT_NONE;
	mac_format(m->chaddr, mac);
	ipv4_format(conf->server_ip, ip);
	/*
	 * iPXE asks again after it was chainloaded; a different answer,
	 * the per-machine script, is what breaks the loop (§2.6).
	 */
	if (dhcp_is_ipxe(m)) {
		if (!path_printf(file, "http://%s:%u/boot/%s.ipxe", ip,
				 conf->http_port, mac))
			return DHCP_BOOT_NONE;
		return DHCP_BOOT_IPXE;
	}
	if (is_http_client(m, arch)) {
		const char *loader = NULL;

		if (arch == 16 || arch == 15)
			loader = sb ? DHCP_SB_LOADER
				    : DHCP_IPXE_PATH DHCP_EFI_LOADER;
		else if (arch == 19 && conf->efi_arm64[0] != '\0')
			loader = conf->efi_arm64;
		if (loader == NULL ||
		    !path_printf(file, "http://%s:%u/files/%s", ip,
				 conf->http_port, loader))
			return DHCP_BOOT_NONE;
		return DHCP_BOOT_HTTP;
	}
	switch (arch) {
	case 0:
		(void)path_printf(file, "%s", DHCP_IPXE_PATH DHCP_BIOS_LOADER);
		return DHCP_BOOT_TFTP;
	case 7:
	case 9:
		/* RFC 4578 swapped 7 and 9 against IANA; both mean x64. */
		(void)path_printf(file, "%s",
				  sb ? DHCP_SB_LOADER
				  : conf->efi_snponly
					  ? DHCP_IPXE_PATH DHCP_SNP_LOADER
					  : DHCP_IPXE_PATH DHCP_EFI_LOADER);
		return DHCP_BOOT_TFTP;
	case 11:
		if (conf->efi_arm64[0] == '\0')
			return DHCP_BOOT_NONE;
		if (!path_printf(file, "%s", conf->efi_arm64))
			return DHCP_BOOT_NONE;
		return DHCP_BOOT_TFTP;
	default:
		return DHCP_BOOT_NONE;
	}
}

/* The fields every reply copies from the request. */
static void
reply_init(struct dhcp_msg *r, const struct dhcp_msg *m, uint8_t type,
	   uint32_t server_ip)
{
	memset(r, 0, sizeof(*r));
	r->op = DHCP_OP_REPLY;
	r->htype = m->htype;
	r->hlen = m->hlen;
	r->xid = m->xid;
	r->flags = m->flags;
	r->giaddr = m->giaddr;
	memcpy(r->chaddr, m->chaddr, DHCP_CHADDR_LEN);
	r->type = type;
	r->has_server_id = true;
	r->server_id = server_ip;
}

static void
set_blob(struct dhcp_blob *b, const void *p, size_t n)
{
	if (n > DHCP_OPT_MAX)
		n = DHCP_OPT_MAX;
	memcpy(b->data, p, n);
	b->len = (uint16_t)n;
}

/*
 * Add the boot answer of kind with file to reply r. The file goes into
 * the BOOTP file field with siaddr (what PXE ROMs read) and into option
 * 67 when the client asked for it or is an HTTP client (which reads the
 * URI from 67 first, §3). Option 60 marks the reply as a PXE or HTTP
 * offer; 97 is echoed; BIOS ROMs get option 43 saying "boot file present,
 * no menu, no discovery" (§2.3). UEFI PXE gets no 43, like pixiecore, so
 * EDK II takes the offer as BINL.
 */
static void
add_boot(const struct dhcp_conf *conf, const struct dhcp_msg *m,
	 struct dhcp_msg *r, enum dhcp_boot kind, const char *file,
	 uint16_t arch)
{
	char ip[IPV4_STR_LEN];

	if (kind == DHCP_BOOT_NONE)
		return;
	ipv4_format(conf->server_ip, ip);
	r->siaddr = conf->server_ip;
	if (strlen(file) < sizeof(r->file))
		memcpy(r->file, file, strlen(file) + 1);
	if (kind == DHCP_BOOT_TFTP)
		memcpy(r->sname, ip, strlen(ip) + 1);
	if (kind == DHCP_BOOT_HTTP || dhcp_requested(m, DHCP_OPT_BOOTFILE) ||
	    strlen(file) >= sizeof(r->file))
		memcpy(r->bootfile, file, strlen(file) + 1);
	if (kind == DHCP_BOOT_TFTP && dhcp_requested(m, DHCP_OPT_TFTP_SERVER))
		memcpy(r->tftp_server, ip, strlen(ip) + 1);
	if (kind == DHCP_BOOT_HTTP)
		set_blob(&r->vendor_class, "HTTPClient", 10);
	else if (dhcp_vendor_class_is(m, "PXEClient"))
		set_blob(&r->vendor_class, "PXEClient", 9);
	if (m->uuid.len > 0)
		r->uuid = m->uuid;
	if (kind != DHCP_BOOT_HTTP && arch == 0 &&
	    dhcp_vendor_class_is(m, "PXEClient"))
		set_blob(&r->vendor, pxe_vendor_bios, sizeof(pxe_vendor_bios));
}

/* The address options of a full-mode OFFER/ACK (INFORM: no lease). */
static void
add_net(const struct dhcp_conf *conf, struct dhcp_msg *r,
	const struct dhcp_host *host, bool lease)
{
	size_t i;

	if (lease) {
		r->has_lease_time = true;
		r->lease_time = conf->lease_time;
	}
	r->has_netmask = true;
	r->netmask = cidr_mask(conf->subnet.prefix);
	r->has_broadcast = true;
	r->broadcast = cidr_last(&conf->subnet);
	if (conf->gateway != 0) {
		r->has_router = true;
		r->router = conf->gateway;
	}
	for (i = 0; i < conf->n_dns && i < DHCP_DNS_MAX; i++)
		r->dns[i] = conf->dns[i];
	r->n_dns = i;
	if (host != NULL)
		memcpy(r->hostname, host->name,
		       strnlen(host->name, DHCP_NAME_MAX - 1));
}

/* RFC 2131 §4.1: where a full-mode reply goes. */
static void
full_dest(const struct dhcp_msg *m, const struct dhcp_msg *r,
	  struct dhcp_dest *d)
{
	memset(d, 0, sizeof(*d));
	if (m->giaddr != 0) {
		d->ip = m->giaddr;
		d->port = DHCP_SERVER_PORT;
		return;
	}
	d->port = DHCP_CLIENT_PORT;
	if (r->type == DHCP_NAK) {
		d->broadcast = true;
		d->ip = INADDR_BROADCAST;
		return;
	}
	if (m->ciaddr != 0) {
		d->ip = m->ciaddr;
		return;
	}
	if ((m->flags & DHCP_FLAG_BCAST) != 0 || r->yiaddr == 0) {
		d->broadcast = true;
		d->ip = INADDR_BROADCAST;
		return;
	}
	/* Unicast to an address the client does not have yet: chaddr. */
	d->ip = r->yiaddr;
	d->unicast_hw = true;
}

/* Another inventory machine (any one with mac NULL) has ip reserved. */
static bool
reserved_by_other(const struct dhcp_conf *conf, uint32_t ip,
		  const uint8_t mac[MAC_LEN])
{
	size_t i;

	for (i = 0; i < conf->n_hosts; i++)
		if (conf->hosts[i].ip == ip &&
		    (mac == NULL ||
		     memcmp(conf->hosts[i].mac, mac, MAC_LEN) != 0))
			return true;
	return false;
}

/* ip is a pool address we may hand out at all. */
static bool
pool_usable(const struct dhcp_conf *conf, uint32_t ip)
{
	return conf->has_pool && ip >= conf->pool.first &&
	       ip <= conf->pool.last && cidr_contains(&conf->subnet, ip) &&
	       ip != conf->subnet.addr && ip != cidr_last(&conf->subnet) &&
	       ip != conf->server_ip && ip != conf->gateway;
}

/*
 * ip may go to mac now. With steal, addresses whose lease has run out or
 * was released by another machine count as free too.
 */
static bool
ip_free_for(const struct dhcp_conf *conf, struct leases *t, uint32_t ip,
	    const uint8_t mac[MAC_LEN], int64_t now, bool steal)
{
	const struct lease *l;

	if (!pool_usable(conf, ip) || reserved_by_other(conf, ip, mac))
		return false;
	l = leases_find_ip(t, ip);
	if (l == NULL)
		return true;
	if (l->state == LEASE_DECLINED)
		return l->expires <= now;
	if (memcmp(l->mac, mac, MAC_LEN) == 0)
		return true;
	return steal && !lease_active(l, now);
}

/*
 * Pick a pool address for an unknown machine: its previous one, the one
 * it asks for, the first never used, then the first given up by another.
 * Only the first DHCP_POOL_SCAN addresses of a pool are used. Returns 0
 * when the pool is exhausted.
 */
static uint32_t
pool_pick(const struct dhcp_conf *conf, struct leases *t,
	  const struct dhcp_msg *m, int64_t now)
{
	const struct lease *l = leases_find_mac(t, m->chaddr);
	uint8_t never[DHCP_POOL_SCAN / 8], steal[DHCP_POOL_SCAN / 8];
	uint64_t ip, size;
	size_t i;
	int pass;

	if (l != NULL && ip_free_for(conf, t, l->ip, m->chaddr, now, false))
		return l->ip;
	if (m->has_requested_ip &&
	    ip_free_for(conf, t, m->requested_ip, m->chaddr, now, false))
		return m->requested_ip;
	/*
	 * One pass over the table and the reservations marks what is
	 * taken, so a DISCOVER costs O(leases + hosts + pool), not their
	 * product: a rack switched on at once must not stall the loop.
	 */
	size = (uint64_t)conf->pool.last - conf->pool.first + 1;
	if (size > DHCP_POOL_SCAN)
		size = DHCP_POOL_SCAN;
	memset(never, 0, sizeof(never));
	memset(steal, 0, sizeof(steal));
	for (i = 0; i < conf->n_hosts; i++) {
		ip = (uint64_t)conf->hosts[i].ip - conf->pool.first;
		if (conf->hosts[i].ip >= conf->pool.first && ip < size &&
		    memcmp(conf->hosts[i].mac, m->chaddr, MAC_LEN) != 0)
			BIT_SET(never, ip);
	}
	for (i = 0; i < t->n; i++) {
		const struct lease *e = &t->v[i];

		ip = (uint64_t)e->ip - conf->pool.first;
		if (e->ip < conf->pool.first || ip >= size)
			continue;
		if (e->state == LEASE_DECLINED) {
			if (e->expires > now)
				BIT_SET(never, ip);
		} else if (memcmp(e->mac, m->chaddr, MAC_LEN) != 0) {
			if (lease_active(e, now))
				BIT_SET(never, ip);
			else
				BIT_SET(steal, ip);
		}
	}
	for (pass = 0; pass < 2; pass++)
		for (ip = 0; ip < size; ip++)
			if (!BIT_GET(never, ip) &&
			    (pass == 1 || !BIT_GET(steal, ip)) &&
			    pool_usable(conf,
					(uint32_t)(conf->pool.first + ip)))
				return (uint32_t)(conf->pool.first + ip);
	return 0;
}

/* May mac hold ip? For the REQUEST/ACK path. */
static bool
may_hold(const struct dhcp_conf *conf, struct leases *t,
	 const struct dhcp_host *host, const struct dhcp_msg *m, uint32_t ip,
	 int64_t now)
{
	if (host != NULL)
		return ip == host->ip && cidr_contains(&conf->subnet, ip);
	if (conf->unknown != DHCP_UNKNOWN_DISCOVER)
		return false;
	return ip_free_for(conf, t, ip, m->chaddr, now, true);
}

static int __attribute__((format(printf, 2, 3)))
why(struct dhcp_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/* A refusal worth an operator's attention, of kind. */
static int __attribute__((format(printf, 3, 4)))
refuse(struct dhcp_decision *d, enum dhcp_refusal kind, const char *fmt, ...)
{
	va_list ap;

	d->notable = true;
	d->refusal = kind;
	va_start(ap, fmt);
	(void)vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	return 0;
}

static const char *
boot_desc(enum dhcp_boot kind)
{
	switch (kind) {
	case DHCP_BOOT_TFTP:
		return "tftp";
	case DHCP_BOOT_IPXE:
		return "ipxe-script";
	case DHCP_BOOT_HTTP:
		return "http-boot";
	default:
		return "none";
	}
}

/* A PXE/HTTP answer without an address: proxy OFFER or port-4011 ACK. */
static int
proxy_reply(const struct dhcp_conf *conf, struct dhcp_counters *cnt,
	    const struct dhcp_msg *m, uint16_t port, uint8_t type,
	    struct dhcp_decision *d)
{
	char file[DHCP_PATH_MAX];
	enum dhcp_boot kind = dhcp_policy_bootfile(conf, m, file);
	const char *what = type == DHCP_OFFER ? "proxy OFFER" : "proxy ACK";

	if (kind == DHCP_BOOT_NONE) {
		cnt->ignored++;
		return refuse(d, DHCP_REFUSE_NOBOOT,
			      "%s %s: no boot file, no %s",
			      dhcp_type_name(m->type), d->arch_desc, what);
	}
	reply_init(&d->msg, m, type, conf->server_ip);
	/* yiaddr 0 is what makes it a proxy answer (PXE 2.1). */
	d->msg.ciaddr = m->ciaddr;
	add_boot(conf, m, &d->msg, kind, file, d->arch);
	d->boot = kind;
	d->reply = true;
	memset(&d->dest, 0, sizeof(d->dest));
	if (port == DHCP_PROXY_PORT) {
		/*
		 * Answer from 4011 to where the request came from; iPXE
		 * accepts proxy replies only from port 4011 (§2.4). The I/O
		 * layer knows the source: port 0 means "the sender".
		 */
		d->dest.ip = 0;
		d->dest.port = 0;
		cnt->proxy_ack++;
	} else {
		d->msg.flags |= DHCP_FLAG_BCAST;
		d->dest.broadcast = true;
		d->dest.ip = INADDR_BROADCAST;
		d->dest.port = m->giaddr ? DHCP_SERVER_PORT : DHCP_CLIENT_PORT;
		if (m->giaddr != 0) {
			d->dest.ip = m->giaddr;
			d->dest.broadcast = false;
		}
		if (type == DHCP_OFFER)
			cnt->proxy_offer++;
		else
			cnt->proxy_ack++;
	}
	return why(d, "%s %s: %s boot %s%s%s", dhcp_type_name(m->type),
		   d->arch_desc, what, boot_desc(kind), file[0] ? " " : "",
		   file);
}

static int
handle_proxy(const struct dhcp_conf *conf, struct dhcp_counters *cnt,
	     const struct dhcp_msg *m, uint16_t port,
	     const struct dhcp_host *host, struct dhcp_decision *d)
{
	if (!dhcp_vendor_class_is(m, "PXEClient") &&
	    !dhcp_vendor_class_is(m, "HTTPClient")) {
		cnt->ignored++;
		return why(d,
			   "%s: not a PXE or HTTP client, left to the site "
			   "server",
			   dhcp_type_name(m->type));
	}
	if (host == NULL && conf->unknown != DHCP_UNKNOWN_DISCOVER) {
		cnt->ignored++;
		return refuse(d, DHCP_REFUSE_UNKNOWN,
			      "%s %s: not in the inventory, ignored",
			      dhcp_type_name(m->type), d->arch_desc);
	}
	if (port == DHCP_PROXY_PORT) {
		if (m->type != DHCP_REQUEST && m->type != DHCP_INFORM)
			return why(d, "%s on port 4011 ignored",
				   dhcp_type_name(m->type));
		return proxy_reply(conf, cnt, m, port, DHCP_ACK, d);
	}
	if (m->type == DHCP_DISCOVER)
		return proxy_reply(conf, cnt, m, port, DHCP_OFFER, d);
	/* A boot-server request broadcast to 67 names us in option 54. */
	if (m->type == DHCP_REQUEST && m->has_server_id &&
	    m->server_id == conf->server_ip && m->ciaddr != 0)
		return proxy_reply(conf, cnt, m, port, DHCP_ACK, d);
	cnt->ignored++;
	return why(d, "%s: for the site server", dhcp_type_name(m->type));
}

/*
 * leases_set(), and when the table is full, once more after dropping
 * what has lapsed at now: a table filled by a flood heals by itself.
 */
static int
set_healing(struct leases *t, const uint8_t mac[MAC_LEN], uint32_t ip,
	    enum lease_state state, int64_t expires, int64_t now)
{
	int r = leases_set(t, mac, ip, state, expires);

	if (r == -ENOSPC && leases_prune(t, now) > 0)
		r = leases_set(t, mac, ip, state, expires);
	return r;
}

static int
full_offer(const struct dhcp_conf *conf, struct leases *t,
	   struct dhcp_counters *cnt, const struct dhcp_msg *m,
	   const struct dhcp_host *host, int64_t now, struct dhcp_decision *d)
{
	char file[DHCP_PATH_MAX], ip[IPV4_STR_LEN];
	const struct lease *l;
	enum dhcp_boot kind;
	uint32_t yi;
	int r;

	if (host != NULL) {
		yi = host->ip;
		if (!cidr_contains(&conf->subnet, yi)) {
			cnt->ignored++;
			ipv4_format(yi, ip);
			return refuse(
				d, DHCP_REFUSE_SUBNET,
				"DISCOVER %s: reservation %s of %s is not "
				"in this subnet, no OFFER",
				d->arch_desc, ip, host->name);
		}
	} else if (conf->unknown != DHCP_UNKNOWN_DISCOVER || !conf->has_pool) {
		cnt->ignored++;
		return refuse(d, DHCP_REFUSE_UNKNOWN,
			      "DISCOVER %s: not in the inventory, ignored",
			      d->arch_desc);
	} else {
		yi = pool_pick(conf, t, m, now);
		if (yi == 0) {
			cnt->ignored++;
			return refuse(d, DHCP_REFUSE_POOL,
				      "DISCOVER: pool exhausted, no OFFER");
		}
	}
	l = leases_find_mac(t, m->chaddr);
	if (l == NULL || l->ip != yi || !lease_active(l, now)) {
		r = set_healing(t, m->chaddr, yi, LEASE_OFFERED,
				now + DHCP_OFFER_HOLD, now);
		if (r == -ENOSPC) {
			cnt->ignored++;
			return refuse(d, DHCP_REFUSE_POOL,
				      "DISCOVER: lease table full, no OFFER");
		}
		if (r < 0)
			return r;
	}
	reply_init(&d->msg, m, DHCP_OFFER, conf->server_ip);
	d->msg.yiaddr = yi;
	add_net(conf, &d->msg, host, true);
	kind = dhcp_policy_bootfile(conf, m, file);
	add_boot(conf, m, &d->msg, kind, file, d->arch);
	d->boot = kind;
	d->reply = true;
	full_dest(m, &d->msg, &d->dest);
	cnt->offer++;
	ipv4_format(yi, ip);
	return why(d, "DISCOVER %s: OFFER %s%s%s boot %s%s%s", d->arch_desc, ip,
		   host ? " host " : "", host ? host->name : "",
		   boot_desc(kind), file[0] ? " " : "", file);
}

static int
nak(const struct dhcp_conf *conf, struct dhcp_counters *cnt,
    const struct dhcp_msg *m, uint32_t want, struct dhcp_decision *d)
{
	char ip[IPV4_STR_LEN];
	static const char msg[] = "address not available";

	reply_init(&d->msg, m, DHCP_NAK, conf->server_ip);
	set_blob(&d->msg.message, msg, sizeof(msg) - 1);
	d->reply = true;
	full_dest(m, &d->msg, &d->dest);
	cnt->nak++;
	ipv4_format(want, ip);
	return why(d, "REQUEST %s: NAK", ip);
}

static int
full_request(const struct dhcp_conf *conf, struct leases *t,
	     struct dhcp_counters *cnt, const struct dhcp_msg *m,
	     const struct dhcp_host *host, int64_t now, struct dhcp_decision *d)
{
	char file[DHCP_PATH_MAX], ip[IPV4_STR_LEN];
	const struct lease *l = leases_find_mac(t, m->chaddr);
	enum dhcp_boot kind;
	uint32_t want;
	bool ours;
	int r;

	if (m->has_server_id) {
		/* SELECTING (RFC 2131 §4.3.2). */
		if (m->server_id != conf->server_ip) {
			/* The client took another server's offer. */
			if (l != NULL && l->state == LEASE_OFFERED)
				leases_remove_mac(t, m->chaddr);
			cnt->ignored++;
			ipv4_format(m->server_id, ip);
			return why(d, "REQUEST for server %s, not us", ip);
		}
		want = m->has_requested_ip ? m->requested_ip : m->ciaddr;
	} else if (m->has_requested_ip) {
		want = m->requested_ip; /* INIT-REBOOT */
	} else {
		want = m->ciaddr; /* RENEWING or REBINDING */
	}
	if (want == 0) {
		cnt->dropped++;
		return why(d, "REQUEST without an address, dropped");
	}
	/*
	 * "Ours" means we have a record of the client: a reservation, a
	 * lease, or it selected us. Without one, RFC 2131 §4.3.2 says stay
	 * silent, unless the address is not on our subnet at all (the
	 * client moved: NAK).
	 */
	ours = host != NULL || l != NULL || m->has_server_id;
	if (!may_hold(conf, t, host, m, want, now)) {
		if (ours || !cidr_contains(&conf->subnet, want))
			return nak(conf, cnt, m, want, d);
		cnt->ignored++;
		ipv4_format(want, ip);
		return why(d, "REQUEST %s: no record of this client, silent",
			   ip);
	}
	r = set_healing(t, m->chaddr, want, LEASE_BOUND,
			now + (int64_t)conf->lease_time, now);
	if (r == -ENOSPC) {
		cnt->ignored++;
		return refuse(d, DHCP_REFUSE_POOL,
			      "REQUEST: lease table full, no ACK");
	}
	if (r < 0)
		return r;
	d->leases_changed = true;
	reply_init(&d->msg, m, DHCP_ACK, conf->server_ip);
	d->msg.yiaddr = want;
	d->msg.ciaddr = m->ciaddr;
	add_net(conf, &d->msg, host, true);
	kind = dhcp_policy_bootfile(conf, m, file);
	add_boot(conf, m, &d->msg, kind, file, d->arch);
	d->boot = kind;
	d->reply = true;
	full_dest(m, &d->msg, &d->dest);
	cnt->ack++;
	ipv4_format(want, ip);
	return why(d, "REQUEST %s: ACK %s lease %us%s%s boot %s%s%s",
		   d->arch_desc, ip, conf->lease_time, host ? " host " : "",
		   host ? host->name : "", boot_desc(kind), file[0] ? " " : "",
		   file);
}

static int
full_inform(const struct dhcp_conf *conf, struct dhcp_counters *cnt,
	    const struct dhcp_msg *m, const struct dhcp_host *host,
	    struct dhcp_decision *d)
{
	char file[DHCP_PATH_MAX], ip[IPV4_STR_LEN];
	enum dhcp_boot kind;

	if (m->ciaddr == 0 || !cidr_contains(&conf->subnet, m->ciaddr)) {
		cnt->dropped++;
		return why(d, "INFORM without an address on our subnet");
	}
	/* RFC 2131 §3.4: no yiaddr, no lease time, sent to ciaddr. */
	reply_init(&d->msg, m, DHCP_ACK, conf->server_ip);
	d->msg.ciaddr = m->ciaddr;
	add_net(conf, &d->msg, host, false);
	kind = dhcp_policy_bootfile(conf, m, file);
	add_boot(conf, m, &d->msg, kind, file, d->arch);
	d->boot = kind;
	d->reply = true;
	full_dest(m, &d->msg, &d->dest);
	cnt->ack++;
	ipv4_format(m->ciaddr, ip);
	return why(d, "INFORM %s: ACK boot %s%s%s", ip, boot_desc(kind),
		   file[0] ? " " : "", file);
}

/*
 * DECLINE: the client found its address in use. Parked for
 * DHCP_DECLINE_HOLD only when the sender holds or was just offered it
 * and it is a pool address nobody has reserved; otherwise refused, so
 * that no one can drop another machine's lease or reservation.
 */
static int
full_decline(const struct dhcp_conf *conf, struct leases *t,
	     struct dhcp_counters *cnt, const struct dhcp_msg *m,
	     const struct dhcp_host *host, int64_t now, struct dhcp_decision *d)
{
	char ip[IPV4_STR_LEN];
	const struct lease *l;
	uint32_t want = m->requested_ip;
	int r;

	if (!m->has_requested_ip ||
	    (m->has_server_id && m->server_id != conf->server_ip)) {
		cnt->ignored++;
		return why(d, "DECLINE not for us");
	}
	ipv4_format(want, ip);
	if (host != NULL && host->ip == want) {
		cnt->decline_refused++;
		return refuse(d, DHCP_REFUSE_DECLINE,
			      "DECLINE %s: this machine's reservation is in "
			      "use on the segment by someone else!",
			      ip);
	}
	l = leases_find_mac(t, m->chaddr);
	if (l == NULL || l->ip != want || !lease_active(l, now)) {
		cnt->decline_refused++;
		return refuse(d, DHCP_REFUSE_DECLINE,
			      "DECLINE %s: not offered to or held by this "
			      "MAC, refused",
			      ip);
	}
	if (!pool_usable(conf, want) || reserved_by_other(conf, want, NULL)) {
		cnt->decline_refused++;
		return refuse(d, DHCP_REFUSE_DECLINE,
			      "DECLINE %s: not a free pool address, refused",
			      ip);
	}
	r = leases_set(t, m->chaddr, want, LEASE_DECLINED,
		       now + DHCP_DECLINE_HOLD);
	if (r == -EDQUOT) {
		cnt->decline_refused++;
		return refuse(d, DHCP_REFUSE_DECLINE,
			      "DECLINE %s: this MAC has %d declines in force, "
			      "refused",
			      ip, LEASES_PER_MAC - 1);
	}
	if (r == -ENOSPC) {
		cnt->decline_refused++;
		return refuse(d, DHCP_REFUSE_POOL,
			      "DECLINE %s: lease table full", ip);
	}
	if (r < 0)
		return r;
	d->leases_changed = true;
	return why(d, "DECLINE %s: address in use on the segment", ip);
}

static int
handle_full(const struct dhcp_conf *conf, struct leases *t,
	    struct dhcp_counters *cnt, const struct dhcp_msg *m,
	    const struct dhcp_host *host, int64_t now, struct dhcp_decision *d)
{
	char ip[IPV4_STR_LEN];
	struct lease *l;

	switch (m->type) {
	case DHCP_DISCOVER:
		return full_offer(conf, t, cnt, m, host, now, d);
	case DHCP_REQUEST:
		return full_request(conf, t, cnt, m, host, now, d);
	case DHCP_INFORM:
		return full_inform(conf, cnt, m, host, d);
	case DHCP_DECLINE:
		return full_decline(conf, t, cnt, m, host, now, d);
	case DHCP_RELEASE:
		l = leases_find_mac(t, m->chaddr);
		ipv4_format(m->ciaddr, ip);
		if (l == NULL || l->ip != m->ciaddr) {
			cnt->ignored++;
			return why(d, "RELEASE %s: no such lease", ip);
		}
		/* Kept, so that the machine gets the same address again. */
		l->state = LEASE_RELEASED;
		l->expires = now;
		d->leases_changed = true;
		return why(d, "RELEASE %s", ip);
	default:
		cnt->dropped++;
		return why(d, "%s: not a client message, dropped",
			   dhcp_type_name(m->type));
	}
}

/* The listed relay whose address is giaddr, or NULL. */
static const struct dhcp_relay *
relay_find(const struct dhcp_conf *conf, uint32_t giaddr)
{
	size_t i;

	for (i = 0; i < conf->n_relays; i++)
		if (conf->relays[i].address == giaddr)
			return &conf->relays[i];
	return NULL;
}

/* conf as seen from the subnet behind relay rl, into *ret. */
static void
relay_view(const struct dhcp_conf *conf, const struct dhcp_relay *rl,
	   struct dhcp_conf *ret)
{
	*ret = *conf;
	ret->subnet = rl->subnet;
	ret->gateway = rl->gateway;
	ret->has_pool = rl->has_pool;
	ret->pool = rl->pool;
}

/* See dhcp_policy.h. */
int
dhcp_policy_handle(const struct dhcp_conf *conf, struct leases *t,
		   struct dhcp_counters *cnt, const struct dhcp_msg *m,
		   uint16_t port, int64_t now, struct dhcp_decision *ret)
{
	struct dhcp_decision *d = ret;
	const struct dhcp_host *host;
	struct dhcp_conf view;
	bool known;

	memset(d, 0, sizeof(*d));
	cnt->received++;
	d->arch = dhcp_client_arch(m, &known);
	if (known)
		(void)snprintf(d->arch_desc, sizeof(d->arch_desc),
			       "arch %u (%s)", d->arch, arch_name(d->arch));
	else
		(void)snprintf(d->arch_desc, sizeof(d->arch_desc), "no arch");
	/* We serve Ethernet clients only; BOOTP (no 53) is not served. */
	if (m->op != DHCP_OP_REQUEST || m->htype != DHCP_HTYPE_ETHER ||
	    m->hlen != MAC_LEN || m->type == DHCP_NONE) {
		cnt->dropped++;
		return why(d, "not an Ethernet DHCP request, dropped");
	}
	switch (m->type) {
	case DHCP_DISCOVER:
		cnt->discover++;
		break;
	case DHCP_REQUEST:
		cnt->request++;
		break;
	case DHCP_DECLINE:
		cnt->decline++;
		break;
	case DHCP_RELEASE:
		cnt->release++;
		break;
	case DHCP_INFORM:
		cnt->inform++;
		break;
	default:
		break;
	}
	host = dhcp_conf_host(conf, m->chaddr);
	if (m->giaddr != 0) {
		/* Relayed: only by a listed relay, and in its subnet. */
		const struct dhcp_relay *rl = relay_find(conf, m->giaddr);
		char gi[IPV4_STR_LEN];

		if (rl == NULL) {
			cnt->relay_dropped++;
			ipv4_format(m->giaddr, gi);
			return refuse(d, DHCP_REFUSE_RELAY,
				      "%s relayed by %s, not a listed relay: "
				      "dropped",
				      dhcp_type_name(m->type), gi);
		}
		relay_view(conf, rl, &view);
		conf = &view;
	}
	if (port == DHCP_PROXY_PORT || conf->mode == DHCP_PROXY)
		return handle_proxy(conf, cnt, m, port, host, d);
	if (conf->mode == DHCP_FULL)
		return handle_full(conf, t, cnt, m, host, now, d);
	cnt->ignored++;
	return why(d, "DHCP is off");
}

/* See dhcp_policy.h. */
int
dhcp_metrics_render(const struct dhcp_conf *conf, const struct leases *t,
		    const struct dhcp_counters *cnt, int64_t now, char **ret,
		    size_t *ret_len)
{
	static const struct {
		const char *type;
		size_t off;
	} rx[] = {
		{ "discover", offsetof(struct dhcp_counters, discover) },
		{ "request", offsetof(struct dhcp_counters, request) },
		{ "decline", offsetof(struct dhcp_counters, decline) },
		{ "release", offsetof(struct dhcp_counters, release) },
		{ "inform", offsetof(struct dhcp_counters, inform) },
	}, tx[] = {
		{ "offer", offsetof(struct dhcp_counters, offer) },
		{ "ack", offsetof(struct dhcp_counters, ack) },
		{ "nak", offsetof(struct dhcp_counters, nak) },
		{ "proxy_offer", offsetof(struct dhcp_counters, proxy_offer) },
		{ "proxy_ack", offsetof(struct dhcp_counters, proxy_ack) },
	};
	const char *cp = (const char *)cnt;
	struct buf b;
	char *s = NULL;
	uint64_t v;
	size_t i;
	int r;

	buf_init(&b, DHCP_METRICS_MAX);
	r = buf_printf(&b, "# HELP metalboot_dhcp_received_total DHCP messages "
			   "received.\n"
			   "# TYPE metalboot_dhcp_received_total counter\n");
	for (i = 0; r == 0 && i < sizeof(rx) / sizeof(rx[0]); i++) {
		memcpy(&v, cp + rx[i].off, sizeof(v));
		r = buf_printf(&b,
			       "metalboot_dhcp_received_total{type=\"%s\"} "
			       "%llu\n",
			       rx[i].type, (unsigned long long)v);
	}
	if (r == 0)
		r = buf_printf(&b,
			       "# HELP metalboot_dhcp_sent_total DHCP replies "
			       "sent.\n"
			       "# TYPE metalboot_dhcp_sent_total counter\n");
	for (i = 0; r == 0 && i < sizeof(tx) / sizeof(tx[0]); i++) {
		memcpy(&v, cp + tx[i].off, sizeof(v));
		r = buf_printf(&b,
			       "metalboot_dhcp_sent_total{type=\"%s\"} %llu\n",
			       tx[i].type, (unsigned long long)v);
	}
	if (r == 0)
		r = buf_printf(
			&b,
			"# HELP metalboot_dhcp_dropped_total Malformed or "
			"unserved DHCP messages.\n"
			"# TYPE metalboot_dhcp_dropped_total counter\n"
			"metalboot_dhcp_dropped_total{reason=\"malformed\"} "
			"%llu\n"
			"metalboot_dhcp_dropped_total{reason=\"ignored\"} "
			"%llu\n"
			"metalboot_dhcp_dropped_total{reason=\"relay\"} "
			"%llu\n"
			"metalboot_dhcp_dropped_total{reason=\"decline\"} "
			"%llu\n"
			"# HELP metalboot_dhcp_foreign_offers_total OFFERs of "
			"another server seen.\n"
			"# TYPE metalboot_dhcp_foreign_offers_total counter\n"
			"metalboot_dhcp_foreign_offers_total %llu\n"
			"# HELP metalboot_dhcp_leases DHCP leases by state.\n"
			"# TYPE metalboot_dhcp_leases gauge\n"
			"metalboot_dhcp_leases{state=\"offered\"} %zu\n"
			"metalboot_dhcp_leases{state=\"bound\"} %zu\n"
			"metalboot_dhcp_leases{state=\"declined\"} %zu\n"
			"# HELP metalboot_dhcp_pool_size Addresses in the "
			"dynamic pool.\n"
			"# TYPE metalboot_dhcp_pool_size gauge\n"
			"metalboot_dhcp_pool_size %llu\n",
			(unsigned long long)cnt->dropped,
			(unsigned long long)cnt->ignored,
			(unsigned long long)cnt->relay_dropped,
			(unsigned long long)cnt->decline_refused,
			(unsigned long long)cnt->foreign_offers,
			leases_count(t, LEASE_OFFERED, now),
			leases_count(t, LEASE_BOUND, now),
			leases_count(t, LEASE_DECLINED, now),
			conf->has_pool ? (unsigned long long)conf->pool.last -
						 conf->pool.first + 1
				       : 0ULL);
	if (r < 0)
		goto out;
	s = buf_take(&b, ret_len);
	if (s == NULL) {
		r = -ENOMEM;
		goto out;
	}
	*ret = s;
out:
	buf_done(&b);
	return r;
}

/* See dhcp_policy.h. */
bool
dhcp_loglimit_allow(struct dhcp_loglimit *l, enum dhcp_refusal kind,
		    int64_t now_ms, uint64_t *ret_suppressed)
{
	const uint64_t one = 60000, cap = (uint64_t)DHCP_LOG_BURST * one;
	unsigned k = (unsigned)kind < DHCP_REFUSE_KINDS_N ? (unsigned)kind
							  : DHCP_REFUSE_OTHER;
	uint64_t el;

	if (!l->kind[k].used) {
		l->kind[k].used = true;
		l->kind[k].tokens = cap;
		l->kind[k].stamp_ms = now_ms;
	}
	if (now_ms > l->kind[k].stamp_ms) {
		el = (uint64_t)(now_ms - l->kind[k].stamp_ms);
		if (el > cap)
			el = cap; /* a long quiet time refills it all */
		l->kind[k].tokens += el * DHCP_LOG_PER_MIN;
		if (l->kind[k].tokens > cap)
			l->kind[k].tokens = cap;
		l->kind[k].stamp_ms = now_ms;
	}
	if (l->kind[k].tokens < one) {
		l->kind[k].suppressed++;
		return false;
	}
	l->kind[k].tokens -= one;
	*ret_suppressed = l->kind[k].suppressed;
	l->kind[k].suppressed = 0;
	return true;
}

/* See dhcp_policy.h. */
const char *
dhcp_refusal_name(enum dhcp_refusal kind)
{
	static const char *const names[DHCP_REFUSE_KINDS_N] = {
		"none",	 "unknown", "no-boot", "pool",		 "decline",
		"relay", "subnet",  "other",   "foreign-server",
	};

	return (unsigned)kind < DHCP_REFUSE_KINDS_N ? names[kind] : "other";
}
