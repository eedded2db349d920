/*
 * io.c - the storm's event loop: one libevent base, one DHCP socket on
 * port 68 shared by every machine (replies are asked for by broadcast and
 * told apart by xid and MAC), and per machine a TFTP socket and an HTTP
 * connection bound to the address its ACK gave it.
 */
#include "storm.h"

#include "dhcp.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define XID_TAG	      0x53000000u /* 'S': xid = TAG | round << 20 | i */
#define XID_IDX_MASK  0xfffffu
#define DHCP_RTO_MS   1000 /* first retransmission; doubles (iPXE's) */
#define TFTP_RTO_MS   1000
#define TFTP_TRIES    8
#define HTTP_IN_CAP   (STORM_HTTP_HEAD_MAX + STORM_SCRIPT_MAX)
#define SCRATCH_BYTES (256 * 1024)

enum mstate {
	M_IDLE,
	M_OFFER, /* DISCOVER sent */
	M_ACK,	 /* REQUEST sent */
	M_TFTP,
	M_HTTP,
	M_DONE,
};

struct storm;

struct mach {
	struct storm *s;
	uint32_t idx;
	struct storm_pxe pxe;
	enum mstate st;
	unsigned round; /* 0: the firmware's DHCP, 1: iPXE's */
	unsigned tries;
	uint32_t xid, ip, prefix, server_id, next_server;
	char bootfile[STORM_URL_MAX];
	double t0, t_phase, t_dhcp;
	struct event *timer;
	/* TFTP */
	int fd;
	struct event *ev;
	struct storm_tftp tftp;
	struct sockaddr_in tid;
	bool have_tid;
	/* HTTP */
	struct storm_url script, cur;
	char kernel[STORM_URL_MAX], initrd[STORM_URL_MAX];
	unsigned req; /* 0 script, 1 kernel, 2 initrd, 3.. events */
	bool connected, reused, in_body;
	char *in;
	size_t have;
	struct storm_http_resp resp;
	uint64_t body_left;
	struct storm_result *res;
};

struct storm {
	const struct storm_opts *o;
	struct event_base *base;
	int dhcp_fd, nl_fd, ifindex;
	struct event *dhcp_ev;
	struct mach *m;
	size_t left;
	double t_start;
	uint8_t scratch[SCRATCH_BYTES];
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
arm(struct mach *m, double ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
			      .tv_usec =
				      (suseconds_t)((long)ms % 1000) * 1000 };

	evtimer_add(m->timer, &tv);
}

static void
close_io(struct mach *m)
{
	if (m->ev != NULL)
		event_free(m->ev);
	m->ev = NULL;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->connected = false;
}

static void
finish(struct mach *m)
{
	close_io(m);
	evtimer_del(m->timer);
	free(m->in);
	m->in = NULL;
	m->st = M_DONE;
	if (--m->s->left == 0)
		event_base_loopbreak(m->s->base);
}

static enum storm_phase
phase_of(const struct mach *m)
{
	switch (m->st) {
	case M_OFFER:
	case M_ACK:
		return m->round == 0 ? PH_DHCP : PH_IPXE_DHCP;
	case M_TFTP:
		return PH_TFTP;
	case M_HTTP:
		return m->req < 3 ? (enum storm_phase)(PH_SCRIPT + m->req)
				  : PH_EVENTS;
	default:
		return PH_TOTAL;
	}
}

/* The machine failed: record where and why (printf format), and stop it. */
static void __attribute__((format(printf, 2, 3)))
mfail(struct mach *m, const char *fmt, ...)
{
	va_list ap;

	m->res->ok = false;
	m->res->failed_in = phase_of(m);
	va_start(ap, fmt);
	vsnprintf(m->res->why, sizeof(m->res->why), fmt, ap);
	va_end(ap);
	finish(m);
}

static void
done_phase(struct mach *m, enum storm_phase p, double t_from)
{
	m->res->ms[p] = now_ms() - t_from;
}

/* ---- DHCP ---- */

static void
dhcp_send(struct mach *m)
{
	uint8_t pkt[DHCP_MSG_MAX];
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(DHCP_SERVER_PORT),
				  .sin_addr.s_addr = INADDR_BROADCAST };
	uint8_t type = m->st == M_OFFER ? DHCP_DISCOVER : DHCP_REQUEST;
	int n = storm_dhcp_build(&m->pxe, type, m->xid, m->ip, m->server_id,
				 pkt, sizeof(pkt));

	if (n < 0) {
		mfail(m, "cannot build a %s: %s", dhcp_type_name(type),
		      strerror(-n));
		return;
	}
	/* A full socket buffer is a lost packet: the timer sends again. */
	(void)sendto(m->s->dhcp_fd, pkt, (size_t)n, 0, (struct sockaddr *)&to,
		     sizeof(to));
	m->tries++;
	arm(m, DHCP_RTO_MS * (double)(1u << (m->tries - 1)));
}

static void
dhcp_start(struct mach *m, unsigned round)
{
	m->round = round;
	m->pxe.ipxe = round == 1;
	m->xid = XID_TAG | (round << 20) | m->idx;
	m->st = M_OFFER;
	m->tries = 0;
	m->ip = m->server_id = 0;
	m->t_dhcp = now_ms();
	dhcp_send(m);
}

static void tftp_start(struct mach *m);
static void http_start(struct mach *m);

static int
add_address(struct mach *m, const struct storm_dhcp_reply *r)
{
	uint32_t mask = r->netmask != 0 ? r->netmask : 0xffffff00u;
	unsigned prefix = (unsigned)__builtin_popcount(mask);
	int e;

	m->prefix = prefix;
	if (!m->s->o->add_addr)
		return 0;
	e = storm_nl_addr_add(m->s->nl_fd, m->s->ifindex, r->yiaddr, prefix);
	if (e < 0) {
		char ip[IPV4_STR_LEN];

		ipv4_format(r->yiaddr, ip);
		mfail(m, "adding %s/%u to %s: %s", ip, prefix, m->s->o->ifname,
		      strerror(-e));
	}
	return e;
}

static void
dhcp_acked(struct mach *m, const struct storm_dhcp_reply *r)
{
	evtimer_del(m->timer);
	done_phase(m, m->round == 0 ? PH_DHCP : PH_IPXE_DHCP, m->t_dhcp);
	m->ip = r->yiaddr;
	m->next_server = r->next_server != 0 ? r->next_server : r->server_id;
	if (r->bootfile[0] == '\0') {
		mfail(m, "ACK without a boot file (67/file)");
		return;
	}
	if (storm_expand_mac(r->bootfile, m->pxe.mac, m->bootfile,
			     sizeof(m->bootfile)) < 0) {
		mfail(m, "boot file name too long");
		return;
	}
	if (m->round == 0) {
		if (add_address(m, r) < 0)
			return;
		tftp_start(m);
	} else {
		http_start(m);
	}
}

static void
dhcp_reply(struct mach *m, const struct storm_dhcp_reply *r)
{
	if (r->type == DHCP_NAK) {
		mfail(m, "NAK: \"%s\"", r->message);
		return;
	}
	if (m->st == M_OFFER && r->type == DHCP_OFFER) {
		if (m->round == 0 && m->res->ms[PH_OFFER] < 0)
			done_phase(m, PH_OFFER, m->t_dhcp);
		m->ip = r->yiaddr;
		m->server_id = r->server_id;
		m->st = M_ACK;
		m->tries = 0;
		evtimer_del(m->timer);
		dhcp_send(m);
	} else if (m->st == M_ACK && r->type == DHCP_ACK &&
		   r->server_id == m->server_id) {
		dhcp_acked(m, r);
	}
}

static void
dhcp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct storm *s = arg;
	uint8_t pkt[DHCP_MSG_MAX];
	struct storm_dhcp_reply r;
	const char *why = NULL;

	(void)what;
	for (int k = 0; k < 256; k++) {
		ssize_t n = recv(fd, pkt, sizeof(pkt), 0);

		if (n < 0)
			return;
		if (storm_dhcp_parse(pkt, (size_t)n, &r, &why) < 0)
			continue; /* not ours to judge: other clients' */
		uint32_t i = r.xid & XID_IDX_MASK;

		if ((r.xid & ~(XID_IDX_MASK | (1u << 20))) != XID_TAG ||
		    i >= s->o->n)
			continue;
		struct mach *m = &s->m[i];

		if (m->xid == r.xid &&
		    memcmp(m->pxe.mac, r.mac, STORM_MAC_LEN) == 0 &&
		    (m->st == M_OFFER || m->st == M_ACK))
			dhcp_reply(m, &r);
	}
}

/* ---- TFTP ---- */

static int
bound_socket(struct mach *m, int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(m->ip) };
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static void
tftp_send(struct mach *m, const uint8_t *p, size_t n)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(69),
				  .sin_addr.s_addr = htonl(m->next_server) };

	if (m->have_tid)
		to = m->tid;
	(void)sendto(m->fd, p, n, 0, (struct sockaddr *)&to, sizeof(to));
}

static void
tftp_packet(struct mach *m, const uint8_t *pkt, size_t n)
{
	uint8_t ack[4];
	char msg[64] = "";
	const char *why = NULL;
	int a = storm_tftp_input(&m->tftp, pkt, n, ack, msg, sizeof(msg), &why);

	if (a < 0) {
		if (a == -EIO)
			mfail(m, "%s: TFTP ERROR \"%s\"", m->bootfile, msg);
		else
			mfail(m, "%s: %s", m->bootfile, why);
		return;
	}
	if (a == STORM_TFTP_WAIT)
		return;
	tftp_send(m, ack, sizeof(ack));
	m->tries = 0;
	arm(m, TFTP_RTO_MS);
	if (a == STORM_TFTP_DONE) {
		done_phase(m, PH_TFTP, m->t_phase);
		close_io(m);
		evtimer_del(m->timer);
		dhcp_start(m, 1);
	}
}

static void
tftp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mach *m = arg;
	uint8_t *pkt = m->s->scratch;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);

	(void)what;
	for (int k = 0; k < 64 && m->st == M_TFTP; k++) {
		ssize_t n = recvfrom(fd, pkt, STORM_TFTP_PKT_MAX, 0,
				     (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		if (from.sin_addr.s_addr != htonl(m->next_server))
			continue;
		if (!m->have_tid) {
			m->tid = from;
			m->have_tid = true;
		} else if (from.sin_port != m->tid.sin_port) {
			continue; /* another TID (RFC 1350 4): not ours */
		}
		tftp_packet(m, pkt, (size_t)n);
	}
}

static void
tftp_start(struct mach *m)
{
	uint8_t rrq[STORM_TFTP_REQ_MAX];
	int n;

	m->st = M_TFTP;
	m->t_phase = now_ms();
	m->tries = 0;
	m->have_tid = false;
	n = storm_tftp_rrq(&m->tftp, m->bootfile, m->s->o->blksize,
			   m->s->o->windowsize, rrq, sizeof(rrq));
	if (n < 0) {
		mfail(m, "%s: cannot build the RRQ", m->bootfile);
		return;
	}
	m->fd = bound_socket(m, SOCK_DGRAM);
	if (m->fd < 0) {
		mfail(m, "TFTP socket on the leased address: %s",
		      strerror(-m->fd));
		return;
	}
	m->ev = event_new(m->s->base, m->fd, EV_READ | EV_PERSIST, tftp_read_cb,
			  m);
	event_add(m->ev, NULL);
	tftp_send(m, rrq, (size_t)n);
	m->tries = 1;
	arm(m, TFTP_RTO_MS);
}

static void
tftp_timeout(struct mach *m)
{
	uint8_t p[STORM_TFTP_REQ_MAX];
	int n = 4;

	if (m->tries >= TFTP_TRIES) {
		mfail(m, "%s: no answer after %u tries (block %u)", m->bootfile,
		      m->tries, (unsigned)m->tftp.next);
		return;
	}
	if (!m->tftp.started) {
		struct storm_tftp t;

		n = storm_tftp_rrq(&t, m->bootfile, m->s->o->blksize,
				   m->s->o->windowsize, p, sizeof(p));
	} else {
		storm_tftp_last_ack(&m->tftp, p);
	}
	tftp_send(m, p, (size_t)n);
	m->tries++;
	arm(m, TFTP_RTO_MS);
}

/* ---- HTTP ---- */

static void http_request(struct mach *m);

static bool
http_target(struct mach *m, struct storm_url *ret, char *body, size_t bsz)
{
	const char *why = NULL;
	char mac[MAC_STR_LEN];

	body[0] = '\0';
	if (m->req == 0) {
		*ret = m->script;
		return true;
	}
	if (m->req <= 2) {
		const char *u = m->req == 1 ? m->kernel : m->initrd;

		if (storm_url_parse(u, ret, &why) < 0) {
			mfail(m, "\"%s\": %s", u, why);
			return false;
		}
		return true;
	}
	mac_format(m->pxe.mac, mac);
	*ret = m->script;
	snprintf(ret->path, sizeof(ret->path), "/v1/nodes/%s/events", mac);
	snprintf(body, bsz,
		 "{\"step\":\"storm-%u\",\"status\":\"%s\","
		 "\"message\":\"boot storm event %u\"}",
		 m->req - 3, m->req % 2 != 0 ? "running" : "ok", m->req - 3);
	return true;
}

static void
http_send(struct mach *m)
{
	char req[1024], body[256];
	struct storm_url u;
	int n;
	ssize_t w;

	if (!http_target(m, &u, body, sizeof(body)))
		return;
	n = storm_http_request(req, sizeof(req), m->req < 3 ? "GET" : "POST",
			       u.ip, u.port, u.path, m->req < 3 ? NULL : body);
	if (n < 0) {
		mfail(m, "request for %s too long", u.path);
		return;
	}
	w = send(m->fd, req, (size_t)n, MSG_NOSIGNAL);
	if (w != n)
		mfail(m, "sending the request for %s: %s", u.path,
		      w < 0 ? strerror(errno) : "short write");
}

/* Where the response is complete: the next request, or the next phase. */
static void
http_response_done(struct mach *m)
{
	enum storm_phase p = phase_of(m);
	bool ok =
		m->req < 3 ? m->resp.status == 200 : m->resp.status / 100 == 2;

	if (!ok) {
		mfail(m, "HTTP status %u", m->resp.status);
		return;
	}
	if (m->req == 0) {
		const char *why = NULL;

		if (storm_ipxe_files(m->in, m->have, m->kernel, m->initrd,
				     &why) < 0) {
			mfail(m, "iPXE script: %s", why);
			return;
		}
	}
	if (p != PH_EVENTS || m->req == 2 + m->s->o->events)
		done_phase(m, p, m->t_phase);
	m->req++;
	m->t_phase = p == PH_EVENTS ? m->t_phase : now_ms();
	m->in_body = false;
	m->have = 0;
	if (m->resp.close || m->req == 3)
		close_io(m); /* the agent, in Linux, connects anew */
	if (m->req == 3 + m->s->o->events) {
		m->res->ok = true;
		m->res->ms[PH_TOTAL] = now_ms() - m->t0;
		finish(m);
		return;
	}
	m->reused = m->connected;
	http_request(m);
}

static void
http_body(struct mach *m, size_t n)
{
	if (n > m->body_left) {
		mfail(m, "%zu bytes past Content-Length",
		      n - (size_t)m->body_left);
		return;
	}
	m->body_left -= n;
	if (m->body_left == 0)
		http_response_done(m);
}

static void
http_head(struct mach *m)
{
	const char *why = NULL;
	int r = storm_http_head(m->in, m->have, &m->resp, &why);
	size_t extra;

	if (r == -EAGAIN)
		return;
	if (r < 0) {
		mfail(m, "response: %s", why);
		return;
	}
	if (!m->resp.has_length && m->resp.status != 204 &&
	    m->resp.status != 304) {
		mfail(m, "response without Content-Length");
		return;
	}
	if (m->req == 0 && m->resp.length > STORM_SCRIPT_MAX) {
		mfail(m, "iPXE script longer than %u bytes", STORM_SCRIPT_MAX);
		return;
	}
	m->in_body = true;
	m->body_left = m->resp.has_length ? m->resp.length : 0;
	extra = m->have - m->resp.head_len;
	memmove(m->in, m->in + m->resp.head_len, extra);
	m->have = extra;
	if (m->body_left == 0 && extra == 0)
		http_response_done(m);
	else
		http_body(m, extra);
}

static void
http_eof(struct mach *m, ssize_t n)
{
	if (n == 0 && m->reused && !m->in_body && m->have == 0) {
		/* A keep-alive connection the server had closed: again. */
		close_io(m);
		m->reused = false;
		http_request(m);
		return;
	}
	mfail(m, "connection %s mid-response",
	      n == 0 ? "closed" : strerror(errno));
}

static void
http_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mach *m = arg;
	ssize_t n;

	(void)what;
	if (!m->in_body || m->req == 0) {
		n = recv(fd, m->in + m->have, HTTP_IN_CAP - m->have, 0);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			http_eof(m, n);
			return;
		}
		m->have += (size_t)n;
		if (!m->in_body)
			http_head(m);
		else
			http_body(m, (size_t)n);
		return;
	}
	size_t want = m->body_left < SCRATCH_BYTES ? (size_t)m->body_left
						   : SCRATCH_BYTES;

	n = recv(fd, m->s->scratch, want, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		http_eof(m, n);
		return;
	}
	http_body(m, (size_t)n);
}

static void
http_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mach *m = arg;
	int err = 0;
	socklen_t l = sizeof(err);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err != 0) {
		mfail(m, "connect to port %u: %s", (unsigned)m->cur.port,
		      strerror(err != 0 ? err : errno));
		return;
	}
	event_free(m->ev);
	m->ev = event_new(m->s->base, fd, EV_READ | EV_PERSIST, http_read_cb,
			  m);
	event_add(m->ev, NULL);
	m->connected = true;
	http_send(m);
}

static void
http_connect(struct mach *m, const struct storm_url *u)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(u->port),
				  .sin_addr.s_addr = htonl(u->ip) };

	m->fd = bound_socket(m, SOCK_STREAM);
	if (m->fd < 0) {
		mfail(m, "HTTP socket on the leased address: %s",
		      strerror(-m->fd));
		return;
	}
	m->cur = *u;
	if (connect(m->fd, (struct sockaddr *)&to, sizeof(to)) < 0 &&
	    errno != EINPROGRESS) {
		mfail(m, "connect to port %u: %s", (unsigned)u->port,
		      strerror(errno));
		return;
	}
	m->ev = event_new(m->s->base, m->fd, EV_WRITE, http_connected_cb, m);
	event_add(m->ev, NULL);
}

static void
http_request(struct mach *m)
{
	struct storm_url u;
	char body[256];

	if (!http_target(m, &u, body, sizeof(body)))
		return;
	arm(m, (double)m->s->o->http_timeout_s * 1000);
	if (m->connected && u.ip == m->cur.ip && u.port == m->cur.port) {
		http_send(m);
		return;
	}
	close_io(m);
	m->reused = false;
	http_connect(m, &u);
}

static void
http_start(struct mach *m)
{
	const char *why = NULL;

	m->st = M_HTTP;
	m->req = 0;
	m->t_phase = now_ms();
	if (storm_url_parse(m->bootfile, &m->script, &why) < 0) {
		mfail(m, "script URL \"%s\": %s", m->bootfile, why);
		return;
	}
	m->in = malloc(HTTP_IN_CAP);
	if (m->in == NULL) {
		mfail(m, "out of memory");
		return;
	}
	m->have = 0;
	m->in_body = false;
	http_request(m);
}

/* ---- the machine's timer ---- */

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mach *m = arg;

	(void)fd;
	(void)what;
	switch (m->st) {
	case M_IDLE:
		m->t0 = now_ms();
		dhcp_start(m, 0);
		break;
	case M_OFFER:
	case M_ACK:
		if (m->tries >= m->s->o->dhcp_tries)
			mfail(m, "no %s after %u tries",
			      m->st == M_OFFER ? "OFFER" : "ACK", m->tries);
		else
			dhcp_send(m);
		break;
	case M_TFTP:
		tftp_timeout(m);
		break;
	case M_HTTP:
		mfail(m, "no complete answer within %u s",
		      m->s->o->http_timeout_s);
		break;
	case M_DONE:
		break;
	}
}

/* ---- setup ---- */

static int
dhcp_socket(const char *ifname)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(DHCP_CLIENT_PORT) };
	int one = 1, rcv = 16 << 20;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
		       (socklen_t)strlen(ifname)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	/* Root may pass rmem_max: a storm's replies come in bursts. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	return fd;
}

static void
mach_init(struct storm *s, struct mach *m, uint32_t i)
{
	const struct storm_opts *o = s->o;
	uint32_t v = 0;

	memset(m, 0, sizeof(*m));
	m->s = s;
	m->idx = i;
	m->fd = -1;
	m->res = NULL;
	for (int k = 3; k < STORM_MAC_LEN; k++)
		v = v << 8 | o->mac_base[k];
	v += i;
	memcpy(m->pxe.mac, o->mac_base, 3);
	m->pxe.mac[3] = (uint8_t)(v >> 16);
	m->pxe.mac[4] = (uint8_t)(v >> 8);
	m->pxe.mac[5] = (uint8_t)v;
	/* Exactly uefi_percent of the fleet, spread evenly. */
	m->pxe.arch =
		(i * o->uefi_percent) / 100 != ((i + 1) * o->uefi_percent) / 100
			? 7
			: 0;
	for (int k = 0; k < STORM_UUID_LEN; k++)
		m->pxe.uuid[k] = (uint8_t)(k < 10 ? 0x5a : m->pxe.mac[k - 10]);
	m->timer = evtimer_new(s->base, timer_cb, m);
}

static int
storm_setup(struct storm *s, const struct storm_opts *o)
{
	s->o = o;
	s->left = o->n;
	s->nl_fd = -1;
	s->base = event_base_new();
	if (s->base == NULL)
		return -ENOMEM;
	s->ifindex = (int)if_nametoindex(o->ifname);
	if (s->ifindex == 0)
		return -ENODEV;
	s->dhcp_fd = dhcp_socket(o->ifname);
	if (s->dhcp_fd < 0)
		return s->dhcp_fd;
	if (o->add_addr) {
		s->nl_fd = storm_nl_open();
		if (s->nl_fd < 0)
			return s->nl_fd;
	}
	s->dhcp_ev = event_new(s->base, s->dhcp_fd, EV_READ | EV_PERSIST,
			       dhcp_read_cb, s);
	event_add(s->dhcp_ev, NULL);
	s->m = calloc(o->n, sizeof(*s->m));
	return s->m == NULL ? -ENOMEM : 0;
}

static void
storm_teardown(struct storm *s)
{
	if (s->m != NULL) {
		for (size_t i = 0; i < s->o->n; i++) {
			close_io(&s->m[i]);
			free(s->m[i].in);
			if (s->m[i].timer != NULL)
				event_free(s->m[i].timer);
		}
	}
	free(s->m);
	if (s->dhcp_ev != NULL)
		event_free(s->dhcp_ev);
	if (s->dhcp_fd >= 0)
		close(s->dhcp_fd);
	if (s->nl_fd >= 0)
		close(s->nl_fd);
	if (s->base != NULL)
		event_base_free(s->base);
	free(s);
}

/* See storm.h. */
int
storm_run(const struct storm_opts *o, struct storm_result *res,
	  double *ret_wall_s)
{
	struct storm *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL)
		return -ENOMEM;
	s->dhcp_fd = -1;
	r = storm_setup(s, o);
	if (r < 0) {
		storm_teardown(s);
		return r;
	}
	for (size_t i = 0; i < o->n; i++) {
		struct mach *m = &s->m[i];

		mach_init(s, m, (uint32_t)i);
		m->res = &res[i];
		for (int p = 0; p < PH_COUNT; p++)
			res[i].ms[p] = -1;
		arm(m,
		    o->n > 1 ? o->ramp_s * 1000 * (double)i / (double)o->n : 0);
	}
	s->t_start = now_ms();
	event_base_dispatch(s->base);
	*ret_wall_s = (now_ms() - s->t_start) / 1000;
	storm_teardown(s);
	return 0;
}
