/*
 * proto.c - the boot-storm generator's packets (see proto.h).
 */
#include "proto.h"

#include "dhcp.h"
#include "net.h"
#include "num.h"
#include "rd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The parameter list a PXE ROM sends (Intel PXE 2.1 and iPXE alike). */
static const uint8_t pxe_params[] = { 1,  2,  3,  4,   5,   6,	 12, 13,
				      15, 17, 18, 22,  23,  28,	 40, 41,
				      42, 43, 50, 51,  54,  58,	 59, 60,
				      66, 67, 97, 128, 129, 130, 175 };

/*
 * Option 175 as iPXE 1.21 sends it: encapsulated settings saying which
 * features it has (priority, HTTP, DNS, TFTP, PXE extensions, bzImage,
 * the version).
 */
static const uint8_t ipxe_175[] = { 1,	1, 0, 19, 1, 1, 17,  1, 1, 21, 1, 1,
				    24, 1, 1, 25, 1, 1, 235, 3, 1, 21, 1 };

static void
blob_set(struct dhcp_blob *b, const void *p, size_t n)
{
	memcpy(b->data, p, n);
	b->len = (uint16_t)n;
}

/* See proto.h. */
int
storm_dhcp_build(const struct storm_pxe *m, uint8_t type, uint32_t xid,
		 uint32_t requested_ip, uint32_t server_id, uint8_t *buf,
		 size_t cap)
{
	struct dhcp_msg msg;
	uint8_t uuid[DHCP_UUID_LEN];
	char vc[40];
	int n;

	if (type != DHCP_DISCOVER && type != DHCP_REQUEST)
		return -EINVAL;
	memset(&msg, 0, sizeof(msg));
	msg.op = DHCP_OP_REQUEST;
	msg.htype = DHCP_HTYPE_ETHER;
	msg.hlen = STORM_MAC_LEN;
	msg.xid = xid;
	msg.flags = DHCP_FLAG_BCAST; /* simulated MACs are not on the link */
	memcpy(msg.chaddr, m->mac, STORM_MAC_LEN);
	msg.type = type;
	n = snprintf(vc, sizeof(vc), "PXEClient:Arch:%05u:UNDI:002001",
		     (unsigned)m->arch);
	if (n < 0 || (size_t)n >= sizeof(vc))
		return -EINVAL;
	blob_set(&msg.vendor_class, vc, (size_t)n);
	msg.arch[0] = m->arch;
	msg.n_arch = 1;
	msg.has_ndi = true;
	msg.ndi[0] = 1; /* UNDI 2.1 */
	msg.ndi[1] = 2;
	msg.ndi[2] = 1;
	uuid[0] = 0;
	memcpy(uuid + 1, m->uuid, STORM_UUID_LEN);
	blob_set(&msg.uuid, uuid, sizeof(uuid));
	blob_set(&msg.params, pxe_params, sizeof(pxe_params));
	msg.has_max_size = true;
	msg.max_size = 1472;
	if (m->ipxe) {
		blob_set(&msg.user_class, "iPXE", 4);
		blob_set(&msg.ipxe, ipxe_175, sizeof(ipxe_175));
	}
	if (type == DHCP_REQUEST) {
		msg.has_requested_ip = true;
		msg.requested_ip = requested_ip;
		msg.has_server_id = true;
		msg.server_id = server_id;
	}
	return dhcp_encode(&msg, buf, cap);
}

static int
fail(const char **ret_why, const char *why, int r)
{
	*ret_why = why;
	return r;
}

/* The boot file of a reply: option 67, else the file field. */
static int
reply_bootfile(const struct dhcp_msg *m, struct storm_dhcp_reply *r,
	       const char **ret_why)
{
	const char *f = m->bootfile[0] != '\0' ? m->bootfile : m->file;

	if (strlen(f) >= sizeof(r->bootfile))
		return fail(ret_why, "boot file name (67/file) too long",
			    -EBADMSG);
	memcpy(r->bootfile, f, strlen(f) + 1);
	return 0;
}

/* See proto.h. */
int
storm_dhcp_parse(const uint8_t *pkt, size_t len, struct storm_dhcp_reply *ret,
		 const char **ret_why)
{
	struct dhcp_msg *m = NULL;
	struct storm_dhcp_reply r;
	int e;

	/* struct dhcp_msg is about 2 KiB: kept off the caller's stack. */
	static _Thread_local struct dhcp_msg msg;

	m = &msg;
	if (dhcp_decode(pkt, len, m) < 0)
		return fail(ret_why, "malformed DHCP message", -EBADMSG);
	if (m->op != DHCP_OP_REPLY)
		return fail(ret_why, "op is not BOOTREPLY", -EPROTO);
	if (m->htype != DHCP_HTYPE_ETHER || m->hlen != STORM_MAC_LEN)
		return fail(ret_why, "htype/hlen not Ethernet", -EPROTO);
	if (m->type != DHCP_OFFER && m->type != DHCP_ACK && m->type != DHCP_NAK)
		return fail(ret_why, "option 53 not OFFER, ACK or NAK",
			    -EPROTO);
	memset(&r, 0, sizeof(r));
	r.xid = m->xid;
	memcpy(r.mac, m->chaddr, STORM_MAC_LEN);
	r.type = m->type;
	if (m->type != DHCP_NAK) {
		if (!m->has_server_id)
			return fail(ret_why, "no server identifier (54)",
				    -EPROTO);
		if (m->yiaddr == 0)
			return fail(ret_why, "yiaddr is 0.0.0.0", -EPROTO);
	}
	r.yiaddr = m->yiaddr;
	r.server_id = m->server_id;
	r.netmask = m->has_netmask ? m->netmask : 0;
	r.next_server = m->siaddr;
	if (m->tftp_server[0] != '\0' &&
	    ipv4_parse(m->tftp_server, &r.next_server) < 0)
		return fail(ret_why, "TFTP server (66) not an address",
			    -EBADMSG);
	e = reply_bootfile(m, &r, ret_why);
	if (e < 0)
		return e;
	if (m->message.len > 0) {
		size_t n = m->message.len < sizeof(r.message) - 1
				   ? m->message.len
				   : sizeof(r.message) - 1;

		memcpy(r.message, m->message.data, n);
		r.message[n] = '\0';
	}
	*ret = r;
	return 0;
}

/* See proto.h. */
int
storm_expand_mac(const char *in, const uint8_t mac[STORM_MAC_LEN], char *out,
		 size_t outsz)
{
	static const char *const names[] = { "${net0/mac}", "${mac}" };
	char m[MAC_STR_LEN];
	size_t o = 0;

	mac_format(mac, m);
	while (*in != '\0') {
		const char *add = in;
		size_t n = 1, skip = 1;

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t l = strlen(names[i]);

			if (strncmp(in, names[i], l) == 0) {
				add = m;
				n = strlen(m);
				skip = l;
				break;
			}
		}
		if (o + n >= outsz)
			return -ENAMETOOLONG;
		memcpy(out + o, add, n);
		o += n;
		in += skip;
	}
	if (o >= outsz)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

/* See proto.h. */
int
storm_url_parse(const char *s, struct storm_url *ret, const char **ret_why)
{
	struct storm_url u;
	char host[IPV4_STR_LEN];
	const char *p, *slash, *colon;
	uint64_t port = 80;
	size_t hl;

	if (strncmp(s, "http://", 7) != 0)
		return fail(ret_why, "URL scheme is not http://", -EINVAL);
	p = s + 7;
	slash = strchr(p, '/');
	if (slash == NULL)
		return fail(ret_why, "URL has no path", -EINVAL);
	colon = memchr(p, ':', (size_t)(slash - p));
	hl = (size_t)((colon != NULL ? colon : slash) - p);
	if (hl == 0 || hl >= sizeof(host))
		return fail(ret_why, "URL host is not an IPv4 address",
			    -EINVAL);
	memcpy(host, p, hl);
	host[hl] = '\0';
	memset(&u, 0, sizeof(u));
	if (ipv4_parse(host, &u.ip) < 0)
		return fail(ret_why, "URL host is not an IPv4 address",
			    -EINVAL);
	if (colon != NULL &&
	    num_parse_u64n(colon + 1, (size_t)(slash - colon - 1), 1, 65535,
			   &port) < 0)
		return fail(ret_why, "URL port", -EINVAL);
	u.port = (uint16_t)port;
	if (strlen(slash) >= sizeof(u.path))
		return fail(ret_why, "URL path too long", -ENAMETOOLONG);
	memcpy(u.path, slash, strlen(slash) + 1);
	*ret = u;
	return 0;
}

/* See proto.h. */
int
storm_tftp_rrq(struct storm_tftp *t, const char *file, unsigned blksize,
	       unsigned windowsize, uint8_t *buf, size_t cap)
{
	int n;

	if (strlen(file) >= STORM_URL_MAX)
		return -ENAMETOOLONG;
	memset(t, 0, sizeof(*t));
	t->blksize = 512;
	t->windowsize = 1;
	t->want_blksize = blksize;
	t->want_windowsize = windowsize > 1 ? windowsize : 1;
	t->next = 1;
	if (cap < 2)
		return -EMSGSIZE;
	buf[0] = 0;
	buf[1] = 1; /* RRQ */
	if (windowsize > 1)
		n = snprintf((char *)buf + 2, cap - 2,
			     "%s%coctet%cblksize%c%u%ctsize%c0%cwindowsize%c%u",
			     file, 0, 0, 0, blksize, 0, 0, 0, 0, windowsize);
	else
		n = snprintf((char *)buf + 2, cap - 2,
			     "%s%coctet%cblksize%c%u%ctsize%c0", file, 0, 0, 0,
			     blksize, 0, 0);
	if (n < 0 || (size_t)n + 3 > cap || (size_t)n + 3 > STORM_TFTP_REQ_MAX)
		return -EMSGSIZE;
	buf[2 + n] = 0;
	return n + 3;
}

static void
put_ack(uint16_t block, uint8_t ack[4])
{
	ack[0] = 0;
	ack[1] = 4;
	ack[2] = (uint8_t)(block >> 8);
	ack[3] = (uint8_t)block;
}

/* See proto.h. */
void
storm_tftp_last_ack(const struct storm_tftp *t, uint8_t ack[4])
{
	put_ack((uint16_t)(t->next - 1), ack);
}

/* One option of an OACK: name and value, checked against the request. */
static int
oack_option(struct storm_tftp *t, const char *name, const char *val,
	    const char **ret_why)
{
	uint64_t v;

	if (num_parse_u64(val, 0, UINT32_MAX, &v) < 0)
		return fail(ret_why, "OACK option value not a number",
			    -EBADMSG);
	if (strcasecmp(name, "blksize") == 0) {
		if (v < 8 || v > t->want_blksize)
			return fail(ret_why, "OACK blksize out of range",
				    -EPROTO);
		t->blksize = (unsigned)v;
	} else if (strcasecmp(name, "windowsize") == 0) {
		if (v < 1 || v > t->want_windowsize)
			return fail(ret_why, "OACK windowsize out of range",
				    -EPROTO);
		t->windowsize = (unsigned)v;
	} else if (strcasecmp(name, "tsize") == 0) {
		t->tsize = v;
	} else {
		return fail(ret_why, "OACK option not asked for", -EPROTO);
	}
	return 0;
}

static int
tftp_oack(struct storm_tftp *t, struct rd *rd, uint8_t ack[4],
	  const char **ret_why)
{
	const char *name, *val;
	size_t nl, vl;

	struct storm_tftp n = *t;

	while (rd_left(rd) > 0) {
		if (rd_cstr(rd, 32, &name, &nl) < 0 ||
		    rd_cstr(rd, 32, &val, &vl) < 0)
			return fail(ret_why, "OACK option not terminated",
				    -EBADMSG);
		int r = oack_option(&n, name, val, ret_why);

		if (r < 0)
			return r;
	}
	if (t->started) {
		/*
		 * The server's answer to our RRQ sent again (its first answer
		 * was late): a duplicate, ignored as RFC 1350 says, unless it
		 * changes what was agreed.
		 */
		if (n.blksize != t->blksize || n.windowsize != t->windowsize)
			return fail(ret_why,
				    "OACK after the transfer started, with "
				    "other options",
				    -EPROTO);
		return STORM_TFTP_WAIT;
	}
	n.started = true;
	*t = n;
	put_ack(0, ack);
	return STORM_TFTP_ACK;
}

static int
tftp_data(struct storm_tftp *t, uint16_t block, size_t n, uint8_t ack[4],
	  const char **ret_why)
{
	if (n > t->blksize)
		return fail(ret_why, "DATA longer than the block size",
			    -EPROTO);
	t->started = true;
	if (block != (uint16_t)t->next) {
		/* Lost or reordered (RFC 7440 4): ask from the last good. */
		storm_tftp_last_ack(t, ack);
		return STORM_TFTP_ACK;
	}
	t->bytes += n;
	t->next++;
	put_ack(block, ack);
	if (n < t->blksize) {
		t->done = true;
		return STORM_TFTP_DONE;
	}
	return (t->next - 1) % t->windowsize == 0 ? STORM_TFTP_ACK
						  : STORM_TFTP_WAIT;
}

/* See proto.h. */
int
storm_tftp_input(struct storm_tftp *t, const uint8_t *pkt, size_t len,
		 uint8_t ack[4], char *errmsg, size_t errsz,
		 const char **ret_why)
{
	struct rd rd;
	uint16_t op, block;

	rd_init(&rd, pkt, len);
	if (t->done)
		return STORM_TFTP_WAIT;
	if (rd_u16be(&rd, &op) < 0)
		return fail(ret_why, "packet shorter than its opcode",
			    -EBADMSG);
	if (op == 6)
		return tftp_oack(t, &rd, ack, ret_why);
	if (rd_u16be(&rd, &block) < 0)
		return fail(ret_why, "packet shorter than 4 bytes", -EBADMSG);
	switch (op) {
	case 3:
		return tftp_data(t, block, rd_left(&rd), ack, ret_why);
	case 5:
		if (errmsg != NULL && errsz > 0) {
			size_t n = strnlen((const char *)pkt + 4, len - 4);

			n = n < errsz - 1 ? n : errsz - 1;
			memcpy(errmsg, pkt + 4, n);
			errmsg[n] = '\0';
		}
		return fail(ret_why, "TFTP ERROR", -EIO);
	default:
		return fail(ret_why, "opcode not DATA, OACK or ERROR", -EPROTO);
	}
}

/* The end of the line at p (before end), or NULL. */
static const char *
line_end(const char *p, const char *end)
{
	const char *e = memchr(p, '\n', (size_t)(end - p));

	return e;
}

static bool
header_is(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);

	return n > l && p[l] == ':' && strncasecmp(p, name, l) == 0;
}

/* The value of a header line (p, n bytes, name known), trimmed. */
static void
header_value(const char *p, size_t n, const char **ret_v, size_t *ret_n)
{
	const char *c = memchr(p, ':', n);
	const char *e = p + n;

	c++;
	while (c < e && (*c == ' ' || *c == '\t'))
		c++;
	while (e > c && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*ret_v = c;
	*ret_n = (size_t)(e - c);
}

static int
status_line(const char *p, size_t n, struct storm_http_resp *r,
	    const char **ret_why)
{
	uint64_t st;

	if (n < 12 || strncmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return fail(ret_why, "status line is not HTTP/1.x", -EBADMSG);
	if (num_parse_u64n(p + 9, 3, 100, 599, &st) < 0)
		return fail(ret_why, "status code", -EBADMSG);
	r->status = (unsigned)st;
	r->close = p[7] == '0';
	return 0;
}

static int
header_line(const char *p, size_t n, struct storm_http_resp *r,
	    const char **ret_why)
{
	const char *v;
	size_t vn;

	if (memchr(p, ':', n) == NULL)
		return fail(ret_why, "header line without ':'", -EBADMSG);
	header_value(p, n, &v, &vn);
	if (header_is(p, n, "Content-Length")) {
		if (r->has_length ||
		    num_parse_u64n(v, vn, 0, UINT64_MAX / 2, &r->length) < 0)
			return fail(ret_why, "Content-Length", -EBADMSG);
		r->has_length = true;
	} else if (header_is(p, n, "Transfer-Encoding")) {
		return fail(ret_why, "Transfer-Encoding (chunked) not read",
			    -EPROTONOSUPPORT);
	} else if (header_is(p, n, "Connection")) {
		if (vn == 5 && strncasecmp(v, "close", 5) == 0)
			r->close = true;
		else if (vn == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			r->close = false;
	}
	return 0;
}

/* See proto.h. */
int
storm_http_head(const char *buf, size_t len, struct storm_http_resp *ret,
		const char **ret_why)
{
	struct storm_http_resp r;
	const char *p = buf, *end = buf + len, *e;
	bool first = true;
	int rc;

	memset(&r, 0, sizeof(r));
	for (;;) {
		e = line_end(p, end);
		if (e == NULL)
			break;
		size_t n = (size_t)(e - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0 && !first) {
			r.head_len = (size_t)(e + 1 - buf);
			if (r.head_len > STORM_HTTP_HEAD_MAX)
				return fail(ret_why, "response head too long",
					    -E2BIG);
			*ret = r;
			return 0;
		}
		rc = first ? status_line(p, n, &r, ret_why)
			   : header_line(p, n, &r, ret_why);
		if (rc < 0)
			return rc;
		first = false;
		p = e + 1;
	}
	if (len >= STORM_HTTP_HEAD_MAX)
		return fail(ret_why, "response head too long", -E2BIG);
	return -EAGAIN;
}

/* See proto.h. */
int
storm_http_request(char *buf, size_t cap, const char *method, uint32_t host,
		   uint16_t port, const char *path, const char *body)
{
	char ip[IPV4_STR_LEN];
	int n;

	ipv4_format(host, ip);
	if (body != NULL)
		n = snprintf(buf, cap,
			     "%s %s HTTP/1.1\r\nHost: %s:%u\r\n"
			     "User-Agent: metalboot-storm\r\n"
			     "Content-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n%s",
			     method, path, ip, (unsigned)port, strlen(body),
			     body);
	else
		n = snprintf(buf, cap,
			     "%s %s HTTP/1.1\r\nHost: %s:%u\r\n"
			     "User-Agent: iPXE/1.21.1+ (g4bd064de)\r\n"
			     "Connection: keep-alive\r\n\r\n",
			     method, path, ip, (unsigned)port);
	if (n < 0 || (size_t)n >= cap)
		return -EMSGSIZE;
	return n;
}

#define IPXE_VARS     8
#define IPXE_NAME_MAX 32

struct ipxe_vars {
	size_t n;
	char name[IPXE_VARS][IPXE_NAME_MAX];
	char val[IPXE_VARS][STORM_URL_MAX];
};

/* Copy the word (p, n bytes) into out with ${NAME} expanded. */
static int
expand_word(const struct ipxe_vars *v, const char *p, size_t n, char *out,
	    const char **ret_why)
{
	size_t o = 0, i = 0;

	while (i < n) {
		const char *add = p + i;
		size_t an = 1, skip = 1;

		if (n - i > 2 && p[i] == '$' && p[i + 1] == '{') {
			const char *c = memchr(p + i, '}', n - i);
			size_t k;

			if (c == NULL)
				return fail(ret_why, "unterminated ${",
					    -EBADMSG);
			skip = (size_t)(c - (p + i)) + 1;
			for (k = 0; k < v->n; k++)
				if (strlen(v->name[k]) == skip - 3 &&
				    memcmp(v->name[k], p + i + 2, skip - 3) ==
					    0)
					break;
			if (k == v->n)
				return fail(ret_why, "unknown ${setting}",
					    -EBADMSG);
			add = v->val[k];
			an = strlen(add);
		}
		if (o + an >= STORM_URL_MAX)
			return fail(ret_why, "URL too long", -ENAMETOOLONG);
		memcpy(out + o, add, an);
		o += an;
		i += skip;
	}
	out[o] = '\0';
	return 0;
}

/* Split the next word off (*p, *n): returns its start and length. */
static const char *
next_word(const char **p, size_t *n, size_t *ret_len)
{
	const char *s = *p, *e = *p + *n, *w;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	w = s;
	while (s < e && *s != ' ' && *s != '\t')
		s++;
	*ret_len = (size_t)(s - w);
	*n = (size_t)(e - s);
	*p = s;
	return w;
}

static int
script_set(struct ipxe_vars *v, const char *p, size_t n, const char **ret_why)
{
	size_t nl, vl;
	const char *name = next_word(&p, &n, &nl);
	const char *colon = memchr(name, ':', nl);
	const char *val = next_word(&p, &n, &vl);

	if (colon != NULL) /* "set tries:int32 0": the type is not kept */
		nl = (size_t)(colon - name);
	if (nl == 0 || nl >= IPXE_NAME_MAX || v->n == IPXE_VARS)
		return 0;
	memcpy(v->name[v->n], name, nl);
	v->name[v->n][nl] = '\0';
	if (expand_word(v, val, vl, v->val[v->n], ret_why) < 0)
		return -EBADMSG;
	v->n++;
	return 0;
}

/* "kernel [--name X] URL args": the URL, options skipped. */
static int
script_file(const struct ipxe_vars *v, const char *p, size_t n, char *out,
	    const char **ret_why)
{
	size_t wl;
	const char *w = next_word(&p, &n, &wl);

	while (wl > 2 && w[0] == '-' && w[1] == '-') {
		if (memchr(w, '=', wl) == NULL)
			(void)next_word(&p, &n, &wl);
		w = next_word(&p, &n, &wl);
	}
	if (wl == 0)
		return fail(ret_why, "kernel/initrd line without a URL",
			    -EBADMSG);
	return expand_word(v, w, wl, out, ret_why);
}

static int
script_line(struct ipxe_vars *v, const char *p, size_t n, char *kernel,
	    char *initrd, const char **ret_why)
{
	size_t wl;
	const char *w = next_word(&p, &n, &wl);

	if (wl == 3 && memcmp(w, "set", 3) == 0)
		return script_set(v, p, n, ret_why);
	if (wl == 6 && memcmp(w, "kernel", 6) == 0 && kernel[0] == '\0')
		return script_file(v, p, n, kernel, ret_why);
	if (wl == 6 && memcmp(w, "initrd", 6) == 0 && initrd[0] == '\0')
		return script_file(v, p, n, initrd, ret_why);
	return 0;
}

/* See proto.h. */
int
storm_ipxe_files(const char *script, size_t len, char kernel[STORM_URL_MAX],
		 char initrd[STORM_URL_MAX], const char **ret_why)
{
	static _Thread_local struct ipxe_vars v;
	char k[STORM_URL_MAX] = "", i[STORM_URL_MAX] = "";
	const char *p = script, *end = script + len;
	int r;

	v.n = 0;
	if (len < 6 || memcmp(script, "#!ipxe", 6) != 0)
		return fail(ret_why, "script does not begin with #!ipxe",
			    -EBADMSG);
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((e != NULL ? e : end) - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		r = script_line(&v, p, n, k, i, ret_why);
		if (r < 0)
			return r;
		p = e != NULL ? e + 1 : end;
	}
	if (k[0] == '\0')
		return fail(ret_why, "script has no kernel line", -ENOENT);
	memcpy(kernel, k, sizeof(k));
	memcpy(initrd, i, sizeof(i));
	return 0;
}

/* See proto.h. */
double
storm_percentile(const double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	if (p <= 0)
		return v[0];
	rank = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}
