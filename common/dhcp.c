/*
 * dhcp.c - DHCP/BOOTP message decoding and encoding. See dhcp.h.
 */
#include "dhcp.h"

#include "num.h"
#include "rd.h"

#include <errno.h>
#include <string.h>

/* Which area an option list is read from (RFC 2131 §4.1, option 52). */
enum area {
	AREA_OPTIONS,
	AREA_FILE,
	AREA_SNAME,
};

static int
get_u32(const uint8_t *p, size_t len, uint32_t *ret)
{
	struct rd rd;

	if (len != 4)
		return -EBADMSG;
	rd_init(&rd, p, len);
	return rd_u32be(&rd, ret);
}

/*
 * Copy an option holding text into dst (DHCP_OPT_MAX + 1 bytes), dropping
 * trailing NULs (PXE servers put one inside the length). Embedded NULs
 * simply end the string.
 */
static void
get_str(char *dst, const uint8_t *p, size_t len)
{
	while (len > 0 && p[len - 1] == 0)
		len--;
	memcpy(dst, p, len);
	dst[len] = '\0';
}

/*
 * Append to a blob: RFC 3396 splits a long option into several instances
 * that are concatenated. Past DHCP_OPT_MAX the message is rejected.
 */
static int
blob_append(struct dhcp_blob *b, const uint8_t *p, size_t len)
{
	if (len > DHCP_OPT_MAX - (size_t)b->len)
		return -EBADMSG;
	memcpy(b->data + b->len, p, len);
	b->len = (uint16_t)(b->len + len);
	return 0;
}

/* Store one option. Known options with an impossible length fail. */
static int
take_option(struct dhcp_msg *m, enum area area, uint8_t code, const uint8_t *p,
	    size_t len)
{
	struct rd rd;
	size_t i;
	int r = 0;

	/*
	 * Zero-length instances of the options we read carry nothing and no
	 * RFC allows them; a client sending one is broken, so drop it.
	 */
	switch (code) {
	case DHCP_OPT_MSG_TYPE:
		if (len != 1 || p[0] == 0)
			return -EBADMSG;
		m->type = p[0];
		return 0;
	case DHCP_OPT_OVERLOAD:
		/*
		 * Only the options field may overload the others, and only
		 * once: a 52 inside file or sname, or a second one, could
		 * make a naive parser loop.
		 */
		if (len != 1 || area != AREA_OPTIONS || m->overload != 0 ||
		    p[0] < 1 || p[0] > 3)
			return -EBADMSG;
		m->overload = p[0];
		return 0;
	case DHCP_OPT_SERVER_ID:
		m->has_server_id = true;
		return get_u32(p, len, &m->server_id);
	case DHCP_OPT_REQUESTED_IP:
		m->has_requested_ip = true;
		return get_u32(p, len, &m->requested_ip);
	case DHCP_OPT_LEASE_TIME:
		m->has_lease_time = true;
		return get_u32(p, len, &m->lease_time);
	case DHCP_OPT_NETMASK:
		m->has_netmask = true;
		return get_u32(p, len, &m->netmask);
	case DHCP_OPT_BROADCAST:
		m->has_broadcast = true;
		return get_u32(p, len, &m->broadcast);
	case DHCP_OPT_ROUTER:
		/* A list of routers; the first is the one we use. */
		if (len == 0 || len % 4 != 0)
			return -EBADMSG;
		m->has_router = true;
		return get_u32(p, 4, &m->router);
	case DHCP_OPT_DNS:
		if (len == 0 || len % 4 != 0)
			return -EBADMSG;
		rd_init(&rd, p, len);
		for (i = 0; i < len / 4; i++) {
			uint32_t a;

			r = rd_u32be(&rd, &a);
			if (r < 0)
				return r;
			if (m->n_dns < DHCP_DNS_MAX)
				m->dns[m->n_dns++] = a;
		}
		return 0;
	case DHCP_OPT_MAX_SIZE:
		if (len != 2)
			return -EBADMSG;
		rd_init(&rd, p, len);
		m->has_max_size = true;
		return rd_u16be(&rd, &m->max_size);
	case DHCP_OPT_ARCH:
		/* RFC 4578 §2.1: a list of 16-bit types. */
		if (len == 0 || len % 2 != 0)
			return -EBADMSG;
		rd_init(&rd, p, len);
		for (i = 0; i < len / 2; i++) {
			uint16_t a;

			r = rd_u16be(&rd, &a);
			if (r < 0)
				return r;
			if (m->n_arch < DHCP_ARCH_MAX)
				m->arch[m->n_arch++] = a;
		}
		return 0;
	case DHCP_OPT_NDI:
		if (len != 3)
			return -EBADMSG;
		m->has_ndi = true;
		memcpy(m->ndi, p, 3);
		return 0;
	case DHCP_OPT_UUID:
		/* RFC 4578 §2.3: type 0 and 16 bytes; others pass as is. */
		if (len == 0)
			return -EBADMSG;
		return blob_append(&m->uuid, p, len);
	case DHCP_OPT_HOSTNAME:
		if (len == 0)
			return -EBADMSG;
		get_str(m->hostname, p, len);
		return 0;
	case DHCP_OPT_DOMAIN:
		if (len == 0)
			return -EBADMSG;
		get_str(m->domain, p, len);
		return 0;
	case DHCP_OPT_TFTP_SERVER:
		if (len == 0)
			return -EBADMSG;
		get_str(m->tftp_server, p, len);
		return 0;
	case DHCP_OPT_BOOTFILE:
		if (len == 0)
			return -EBADMSG;
		get_str(m->bootfile, p, len);
		return 0;
	case DHCP_OPT_VENDOR:
		if (len == 0)
			return -EBADMSG;
		return blob_append(&m->vendor, p, len);
	case DHCP_OPT_VENDOR_CLASS:
		if (len == 0)
			return -EBADMSG;
		return blob_append(&m->vendor_class, p, len);
	case DHCP_OPT_USER_CLASS:
		if (len == 0)
			return -EBADMSG;
		return blob_append(&m->user_class, p, len);
	case DHCP_OPT_IPXE:
		if (len == 0)
			return -EBADMSG;
		return blob_append(&m->ipxe, p, len);
	case DHCP_OPT_PARAMS:
		if (len == 0)
			return -EBADMSG;
		return blob_append(&m->params, p, len);
	case DHCP_OPT_CLIENT_ID:
		if (len < 2)
			return -EBADMSG;
		return blob_append(&m->client_id, p, len);
	case DHCP_OPT_MESSAGE:
		if (len == 0)
			return -EBADMSG;
		return blob_append(&m->message, p, len);
	default:
		/* Options we do not use are skipped, whatever their length. */
		return 0;
	}
}

/*
 * Read one option area: TLVs up to END or the end of the area. An option
 * whose length runs past the area fails the whole message. A missing END
 * is tolerated when the last option ends exactly at the area's end (some
 * relays trim it); the file and sname areas are NUL-padded anyway.
 */
static int
parse_area(struct dhcp_msg *m, enum area area, const uint8_t *p, size_t len)
{
	struct rd rd;
	int r = 0;

	rd_init(&rd, p, len);
	while (rd_left(&rd) > 0) {
		const uint8_t *val = NULL;
		uint8_t code, olen;

		r = rd_u8(&rd, &code);
		if (r < 0)
			return r;
		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return 0;
		r = rd_u8(&rd, &olen);
		if (r < 0)
			return r;
		r = rd_bytes(&rd, olen, &val);
		if (r < 0)
			return r;
		r = take_option(m, area, code, val, olen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Copy a fixed NUL-padded BOOTP string field. */
static void
get_field(char *dst, size_t dstsz, const uint8_t *p, size_t len)
{
	size_t n = strnlen((const char *)p, len);

	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/*
 * Decode a message. See dhcp.h. The fixed header is read with the cursor,
 * then the options field, then (when option 52 says so) file and sname,
 * in that order (RFC 2131 §4.1). Each area is read at most once.
 */
int
dhcp_decode(const uint8_t *pkt, size_t len, struct dhcp_msg *ret)
{
	const uint8_t *chaddr = NULL, *sname = NULL, *file = NULL;
	const uint8_t *opts = NULL;
	struct dhcp_msg msg, *m = &msg;
	uint32_t cookie;
	struct rd rd;
	int r;

	memset(m, 0, sizeof(*m));
	if (pkt == NULL || len < DHCP_MIN_LEN || len > DHCP_MSG_MAX)
		return -EBADMSG;
	rd_init(&rd, pkt, len);
	r = rd_u8(&rd, &m->op);
	if (r == 0)
		r = rd_u8(&rd, &m->htype);
	if (r == 0)
		r = rd_u8(&rd, &m->hlen);
	if (r == 0)
		r = rd_u8(&rd, &m->hops);
	if (r == 0)
		r = rd_u32be(&rd, &m->xid);
	if (r == 0)
		r = rd_u16be(&rd, &m->secs);
	if (r == 0)
		r = rd_u16be(&rd, &m->flags);
	if (r == 0)
		r = rd_u32be(&rd, &m->ciaddr);
	if (r == 0)
		r = rd_u32be(&rd, &m->yiaddr);
	if (r == 0)
		r = rd_u32be(&rd, &m->siaddr);
	if (r == 0)
		r = rd_u32be(&rd, &m->giaddr);
	if (r == 0)
		r = rd_bytes(&rd, DHCP_CHADDR_LEN, &chaddr);
	if (r == 0)
		r = rd_bytes(&rd, DHCP_SNAME_LEN, &sname);
	if (r == 0)
		r = rd_bytes(&rd, DHCP_FILE_LEN, &file);
	if (r == 0)
		r = rd_u32be(&rd, &cookie);
	if (r < 0)
		return r;
	if (cookie != DHCP_COOKIE)
		return -EBADMSG;
	if (m->op != DHCP_OP_REQUEST && m->op != DHCP_OP_REPLY)
		return -EBADMSG;
	if (m->hlen > DHCP_CHADDR_LEN)
		return -EBADMSG;
	memcpy(m->chaddr, chaddr, DHCP_CHADDR_LEN);

	r = rd_bytes(&rd, rd_left(&rd), &opts);
	if (r < 0)
		return r;
	r = parse_area(m, AREA_OPTIONS, opts, len - DHCP_MIN_LEN);
	if (r < 0)
		return r;
	if (m->overload & 1) {
		r = parse_area(m, AREA_FILE, file, DHCP_FILE_LEN);
		if (r < 0)
			return r;
	} else {
		get_field(m->file, sizeof(m->file), file, DHCP_FILE_LEN);
	}
	if (m->overload & 2) {
		r = parse_area(m, AREA_SNAME, sname, DHCP_SNAME_LEN);
		if (r < 0)
			return r;
	} else {
		get_field(m->sname, sizeof(m->sname), sname, DHCP_SNAME_LEN);
	}
	*ret = msg;
	return 0;
}

/* A bounded writer for encoding. */
struct wr {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void
wr_bytes(struct wr *w, const void *p, size_t n)
{
	if (w->err != 0)
		return;
	if (n > w->cap - w->len) {
		w->err = -EMSGSIZE;
		return;
	}
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void
wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

static void
wr_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	wr_bytes(w, b, 2);
}

static void
wr_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	wr_bytes(w, b, 4);
}

static void
wr_opt(struct wr *w, uint8_t code, const void *p, size_t n)
{
	if (n > DHCP_OPT_MAX) {
		if (w->err == 0)
			w->err = -EINVAL;
		return;
	}
	wr_u8(w, code);
	wr_u8(w, (uint8_t)n);
	wr_bytes(w, p, n);
}

static void
wr_opt_u32(struct wr *w, uint8_t code, uint32_t v)
{
	wr_u8(w, code);
	wr_u8(w, 4);
	wr_u32(w, v);
}

/* A text option; nul adds a terminating NUL inside the length. */
static void
wr_opt_str(struct wr *w, uint8_t code, const char *s, bool nul)
{
	size_t n = strlen(s);

	if (n == 0)
		return;
	if (nul)
		n++;
	wr_opt(w, code, s, n);
}

static void
wr_blob(struct wr *w, uint8_t code, const struct dhcp_blob *b)
{
	if (b->len > 0)
		wr_opt(w, code, b->data, b->len);
}

/* A fixed NUL-padded field of n bytes. */
static void
wr_field(struct wr *w, const char *s, size_t n)
{
	uint8_t z[DHCP_FILE_LEN] = { 0 };
	size_t l = strlen(s);

	if (l >= n) {
		if (w->err == 0)
			w->err = -EINVAL;
		return;
	}
	memcpy(z, s, l);
	wr_bytes(w, z, n);
}

/*
 * Encode a message. See dhcp.h. Overloading is never produced: our
 * replies fit in 576 bytes without it.
 */
int
dhcp_encode(const struct dhcp_msg *m, uint8_t *buf, size_t cap)
{
	struct wr w = { .p = buf, .len = 0, .cap = cap, .err = 0 };
	size_t i;

	if (m->hlen > DHCP_CHADDR_LEN)
		return -EINVAL;
	wr_u8(&w, m->op);
	wr_u8(&w, m->htype);
	wr_u8(&w, m->hlen);
	wr_u8(&w, m->hops);
	wr_u32(&w, m->xid);
	wr_u16(&w, m->secs);
	wr_u16(&w, m->flags);
	wr_u32(&w, m->ciaddr);
	wr_u32(&w, m->yiaddr);
	wr_u32(&w, m->siaddr);
	wr_u32(&w, m->giaddr);
	wr_bytes(&w, m->chaddr, DHCP_CHADDR_LEN);
	wr_field(&w, m->sname, DHCP_SNAME_LEN);
	wr_field(&w, m->file, DHCP_FILE_LEN);
	wr_u32(&w, DHCP_COOKIE);

	if (m->type != DHCP_NONE)
		wr_opt(&w, DHCP_OPT_MSG_TYPE, &m->type, 1);
	if (m->has_server_id)
		wr_opt_u32(&w, DHCP_OPT_SERVER_ID, m->server_id);
	if (m->has_requested_ip)
		wr_opt_u32(&w, DHCP_OPT_REQUESTED_IP, m->requested_ip);
	if (m->has_lease_time)
		wr_opt_u32(&w, DHCP_OPT_LEASE_TIME, m->lease_time);
	if (m->has_netmask)
		wr_opt_u32(&w, DHCP_OPT_NETMASK, m->netmask);
	if (m->has_router)
		wr_opt_u32(&w, DHCP_OPT_ROUTER, m->router);
	if (m->n_dns > 0) {
		if (m->n_dns > DHCP_DNS_MAX)
			return -EINVAL;
		wr_u8(&w, DHCP_OPT_DNS);
		wr_u8(&w, (uint8_t)(4 * m->n_dns));
		for (i = 0; i < m->n_dns; i++)
			wr_u32(&w, m->dns[i]);
	}
	wr_opt_str(&w, DHCP_OPT_HOSTNAME, m->hostname, false);
	wr_opt_str(&w, DHCP_OPT_DOMAIN, m->domain, false);
	if (m->has_broadcast)
		wr_opt_u32(&w, DHCP_OPT_BROADCAST, m->broadcast);
	if (m->has_max_size) {
		wr_u8(&w, DHCP_OPT_MAX_SIZE);
		wr_u8(&w, 2);
		wr_u16(&w, m->max_size);
	}
	wr_blob(&w, DHCP_OPT_PARAMS, &m->params);
	wr_blob(&w, DHCP_OPT_CLIENT_ID, &m->client_id);
	wr_blob(&w, DHCP_OPT_VENDOR_CLASS, &m->vendor_class);
	wr_blob(&w, DHCP_OPT_VENDOR, &m->vendor);
	wr_opt_str(&w, DHCP_OPT_TFTP_SERVER, m->tftp_server, true);
	wr_opt_str(&w, DHCP_OPT_BOOTFILE, m->bootfile, true);
	wr_blob(&w, DHCP_OPT_USER_CLASS, &m->user_class);
	if (m->n_arch > 0) {
		if (m->n_arch > DHCP_ARCH_MAX)
			return -EINVAL;
		wr_u8(&w, DHCP_OPT_ARCH);
		wr_u8(&w, (uint8_t)(2 * m->n_arch));
		for (i = 0; i < m->n_arch; i++)
			wr_u16(&w, m->arch[i]);
	}
	if (m->has_ndi)
		wr_opt(&w, DHCP_OPT_NDI, m->ndi, 3);
	wr_blob(&w, DHCP_OPT_UUID, &m->uuid);
	wr_blob(&w, DHCP_OPT_IPXE, &m->ipxe);
	wr_blob(&w, DHCP_OPT_MESSAGE, &m->message);
	wr_u8(&w, DHCP_OPT_END);
	while (w.err == 0 && w.len < DHCP_REPLY_MIN)
		wr_u8(&w, DHCP_OPT_PAD);
	if (w.err != 0)
		return w.err;
	return (int)w.len;
}

/* See dhcp.h. */
bool
dhcp_requested(const struct dhcp_msg *m, uint8_t code)
{
	return memchr(m->params.data, code, m->params.len) != NULL;
}

/* See dhcp.h. */
bool
dhcp_vendor_class_is(const struct dhcp_msg *m, const char *prefix)
{
	size_t n = strlen(prefix);

	return m->vendor_class.len >= n &&
	       memcmp(m->vendor_class.data, prefix, n) == 0;
}

/* memmem over a blob, without relying on a GNU extension's prototype. */
static bool
blob_contains(const struct dhcp_blob *b, const char *s)
{
	size_t n = strlen(s), i;

	if (b->len < n)
		return false;
	for (i = 0; i + n <= b->len; i++)
		if (memcmp(b->data + i, s, n) == 0)
			return true;
	return false;
}

/* See dhcp.h. */
bool
dhcp_is_ipxe(const struct dhcp_msg *m)
{
	return m->ipxe.len > 0 || blob_contains(&m->user_class, "iPXE");
}

/* See dhcp.h. */
uint16_t
dhcp_client_arch(const struct dhcp_msg *m, bool *ret_known)
{
	static const char tag[] = ":Arch:";
	const struct dhcp_blob *vc = &m->vendor_class;
	uint64_t v;
	size_t i, t = sizeof(tag) - 1;

	if (m->n_arch > 0) {
		*ret_known = true;
		return m->arch[0];
	}
	/* "PXEClient:Arch:00000:UNDI:002001": five decimal digits. */
	for (i = 0; i + t + 5 <= vc->len; i++) {
		if (memcmp(vc->data + i, tag, t) != 0)
			continue;
		if (num_parse_u64n((const char *)vc->data + i + t, 5, 0,
				   UINT16_MAX, &v) == 0) {
			*ret_known = true;
			return (uint16_t)v;
		}
		break;
	}
	*ret_known = false;
	return 0;
}

/* See dhcp.h. */
const char *
dhcp_type_name(uint8_t type)
{
	static const char *const names[] = {
		"BOOTP", "DISCOVER", "OFFER",	"REQUEST", "DECLINE",
		"ACK",	 "NAK",	     "RELEASE", "INFORM",
	};

	if (type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return "UNKNOWN";
}

void
dhcp_request_init(struct dhcp_msg *m, const uint8_t mac[6], uint32_t xid,
		  uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->op = DHCP_OP_REQUEST;
	m->htype = DHCP_HTYPE_ETHER;
	m->hlen = 6;
	m->xid = xid;
	m->flags = DHCP_FLAG_BCAST;
	memcpy(m->chaddr, mac, 6);
	m->type = type;
}
