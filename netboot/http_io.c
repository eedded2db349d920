/* http_io.c - HTTP(S) on evhttp: connection tracking, files, node API. */
#include "http_io.h"

#include "buf.h"
#include "config.h"
#include "events.h"
#include "fsutil.h"
#include "http.h"
#include "http_bulk.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "num.h"
#include "path.h"
#include "sse_io.h"
#include "store_io.h"
#include "storm.h"
#include "ui.h"
#include "workers.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct http_limits http_limits = {
	.max_conns = HTTP_CONN_MAX,
	.max_per_ip = HTTP_CONN_PER_IP_MAX,
	.idle_timeout = HTTP_IDLE_TIMEOUT,
	.header_timeout = HTTP_HEADER_TIMEOUT,
	.max_header = HTTP_HEADER_MAX,
	.max_body = HTTP_BODY_MAX,
};

static const struct {
	const char *name;
	uint64_t min, max;
} limit_flags[HTTP_NOPTS] = {
	{ "http-max-conns", 1, 65536 },
	{ "http-max-per-ip", 1, 65536 },
	{ "http-idle-timeout", 1, 3600 },
	{ "http-header-timeout", 1, 3600 },
	{ "http-max-header", 1024, 1u << 20 },
	{ "http-max-body", 1024, 1u << 20 },
};

int
http_limits_option(int opt, const char *arg)
{
	unsigned i = (unsigned)(opt - HTTP_OPT_BASE);
	uint64_t v = 0;

	if (opt < HTTP_OPT_BASE || i >= HTTP_NOPTS)
		return -EINVAL;
	if (num_parse_u64(arg, limit_flags[i].min, limit_flags[i].max, &v) <
	    0) {
		fprintf(stderr,
			"metalboot-netboot: --%s: '%s' is not a number in "
			"%llu-%llu\n",
			limit_flags[i].name, arg,
			(unsigned long long)limit_flags[i].min,
			(unsigned long long)limit_flags[i].max);
		return -EINVAL;
	}
	switch (i) {
	case 0:
		http_limits.max_conns = (unsigned)v;
		break;
	case 1:
		http_limits.max_per_ip = (unsigned)v;
		break;
	case 2:
		http_limits.idle_timeout = (unsigned)v;
		break;
	case 3:
		http_limits.header_timeout = (unsigned)v;
		break;
	case 4:
		http_limits.max_header = (size_t)v;
		break;
	default:
		http_limits.max_body = (size_t)v;
		break;
	}
	return 0;
}

#define MAX_SINGLE_WRITE (1u << 20)  /* bytes per write/sendfile call */
#define SMALL_FILE_MAX	 (64u << 10) /* bodies read, not sendfile'd */
#define OFFLOAD_FIRST	 (16u << 10) /* body bytes evhttp sends first */
#define PEER_STR_LEN	 64
#define LOG_URI_LEN	 160
#define LOG_EVERY	 100 /* refusals per warning line */

struct http_srv;

/* One listening evhttp: plain or TLS. */
struct http_port {
	struct http_srv *srv;
	struct evhttp *http;
	bool tls;
};

/*
 * One accepted connection. Created in the bufferevent callback, when
 * evhttp accepts; attached (its evhttp_connection known, a close callback
 * installed) on the next loop turn or at its first request, whichever is
 * first; freed by the close callback. We hold a reference on the
 * bufferevent until then, so that a connection evhttp drops without
 * telling us is still found by the sweep.
 */
struct conn {
	struct http_srv *srv;
	struct http_port *port;
	struct bufferevent *bev; /* referenced until conn_free */
	struct evhttp_connection *evcon;
	struct event *timer; /* attach, then the request deadline */
	uint32_t peer_ip;    /* host order; 0 when not IPv4 */
	char peer[PEER_STR_LEN];
	bool attached;
	bool busy;	 /* a request is being answered */
	bool over_limit; /* answer 503 and close */
	/* The GET /v1/events stream running on it, if any. */
	struct sse_io_stream *stream;
	/* Its request's slot of the per-file cap, until it is answered. */
	struct storm_cap_entry *cap;
	struct waiter *waiter; /* its request, held at that cap */
	/* A secret payload waiting for its served-once claim, if any. */
	struct secret_wait *wait;
	/*
	 * A file body out on a worker (http_bulk.h), its request, and what
	 * the worker gets once evhttp sent the headers.
	 */
	struct http_bulk *bulk;
	struct evhttp_request *bulk_req;
	struct http_bulk_req bulk_rq;
	TAILQ_ENTRY(conn) link;
};

TAILQ_HEAD(conn_list, conn);

struct waiter;
TAILQ_HEAD(waiter_list, waiter);

struct http_srv {
	struct netboot *nb; /* borrowed */
	struct http_port plain, tls;
	SSL_CTX *ssl;
	struct nodes *nodes;   /* the daemon's store (borrowed) */
	int boot_fd, nodes_fd; /* -1 with --root */
	char token[HTTP_ADMIN_TOKEN_MAX + 1];
	size_t token_len; /* 0: no admin token */
	struct http_metrics m;
	struct conn_list conns;
	size_t nconns;
	struct event *sweep;
	struct http_limits lim;
	struct sse_io *sse; /* the fleet page's event streams */
	/* The per-file cap (http.max_per_file): requests past it wait. */
	struct storm_caps caps;
	struct waiter_list waiting; /* in arrival order */
	struct waiter_list ready;   /* given a slot, to dispatch */
	struct event *wake;	    /* dispatches the ready ones */
	uint64_t queued_total;	    /* requests that waited */
	uint64_t nwaiting;	    /* gauge: waiting now */
	unsigned next_worker;	    /* bodies to workers, round robin */
	uint64_t worker_bodies;	    /* bodies a worker sent whole */
};

static void conn_free(struct conn *c);
static void offload_gone(struct conn *c);
static void waiter_drop(struct conn *c);
static void cap_release(struct conn *c);
static void secret_wait_cancel(struct http_srv *srv, struct secret_wait *w);

static struct conn *
conn_find(struct http_srv *srv, struct evhttp_connection *evcon)
{
	struct conn *c;

	TAILQ_FOREACH(c, &srv->conns, link)
	if (c->evcon == evcon)
		return c;
	return NULL;
}

static size_t
conns_from(struct http_srv *srv, uint32_t ip)
{
	struct conn *c;
	size_t n = 0;

	TAILQ_FOREACH(c, &srv->conns, link)
	if (c->attached && c->peer_ip == ip)
		n++;
	return n;
}

/* evhttp is freeing the connection: forget it. */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	(void)evcon;
	conn_free(c);
}

static void
conn_free(struct conn *c)
{
	struct http_srv *srv = c->srv;

	/* Before evhttp frees the request under a stream. */
	sse_io_gone(c->stream, c->evcon != NULL);
	waiter_drop(c);
	cap_release(c);
	if (c->wait != NULL) {
		/* The client left while etcd decided: forget the claim. */
		secret_wait_cancel(srv, c->wait);
		c->wait = NULL;
	}
	offload_gone(c);
	if (c->evcon != NULL)
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
	TAILQ_REMOVE(&srv->conns, c, link);
	srv->nconns--;
	srv->m.connections_open = srv->nconns;
	if (c->timer != NULL)
		event_free(c->timer);
	/* evhttp frees the bufferevent itself; we drop our reference. */
	bufferevent_decref(c->bev);
	free(c);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);

static void
conn_arm(struct conn *c, unsigned seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	evtimer_del(c->timer);
	evtimer_add(c->timer, &tv);
}

/* Refuse a connection outright, with a 503 when the socket is plain. */
static void
conn_refuse(struct conn *c)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
				  "Content-Type: text/plain\r\n"
				  "Content-Length: 24\r\n"
				  "Retry-After: 5\r\n"
				  "Connection: close\r\n\r\n"
				  "503 too many connections";
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	char sink[4096];
	int i;

	/* Best effort: the socket buffer of a new connection has room. */
	if (!c->port->tls && fd >= 0 &&
	    send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("http %s: 503 not sent", c->peer);
	/* Unread input would turn the close into a reset, which can
	 * discard the 503 before the client reads it. */
	for (i = 0; fd >= 0 && i < 4; i++)
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	evhttp_connection_free(c->evcon); /* calls conn_closed_cb */
}

/*
 * Whether a cap refuses c, counted and logged (the 1st, 101st, ...
 * refusal of each kind, so that a flood does not flood the log). The
 * per-address cap comes first: connections accepted in one burst are
 * attached one by one, and an address over its share is refused as such
 * however many others are still waiting, so the total cap stays for the
 * many addresses it is meant for.
 */
static bool
conn_capped(struct http_srv *srv, struct conn *c)
{
	if (c->peer_ip != 0 &&
	    conns_from(srv, c->peer_ip) > srv->lim.max_per_ip) {
		if (srv->m.rejected_ip_limit++ % LOG_EVERY == 0)
			log_warn("http %s: over the per-address limit of %u "
				 "connections (%llu refused so far)",
				 c->peer, srv->lim.max_per_ip,
				 (unsigned long long)srv->m.rejected_ip_limit);
		return true;
	}
	if (srv->nconns > srv->lim.max_conns) {
		if (srv->m.rejected_conn_limit++ % LOG_EVERY == 0)
			log_warn(
				"http %s: refused, %zu connections open "
				"(limit %u; %llu refused so far)",
				c->peer, srv->nconns - 1, srv->lim.max_conns,
				(unsigned long long)srv->m.rejected_conn_limit);
		return true;
	}
	return false;
}

/*
 * Learn the evhttp_connection that owns our bufferevent (evhttp installs
 * its callbacks with the connection as argument), its peer, and apply the
 * connection caps. evcon is NULL on the attach turn (learnt from the
 * bufferevent) and given when a request came first (in_request: the
 * connection must not be freed under evhttp). Returns false when the
 * connection is gone (c freed).
 */
/*
 * evhttp gives a connection one timeout for reading and writing, and keeps
 * reading enabled while it writes a response: a download longer than the
 * idle timeout was cut even with data flowing, since the client sends
 * nothing meanwhile. Reading has no timeout here (conn_arm's deadlines
 * bound how long a request may take to arrive); writing keeps the idle
 * timeout, which progress resets, so a client that stops reading is
 * still dropped.
 */
static void
conn_timeouts(struct conn *c)
{
	struct timeval w = { (time_t)c->srv->lim.idle_timeout, 0 };

	bufferevent_set_timeouts(c->bev, NULL, &w);
}

static bool
conn_attach(struct conn *c, struct evhttp_connection *evcon, bool in_request)
{
	struct http_srv *srv = c->srv;
	bufferevent_event_cb eventcb = NULL;
	void *cbarg = NULL;
	char *addr = NULL;
	uint16_t port = 0;
	evutil_socket_t fd;
	int one = 1;

	if (evcon == NULL) {
		bufferevent_getcb(c->bev, NULL, NULL, &eventcb, &cbarg);
		if (eventcb == NULL || cbarg == NULL) {
			/* evhttp dropped it before we looked. */
			conn_free(c);
			return false;
		}
		evcon = cbarg;
	}
	if (evhttp_connection_get_bufferevent(evcon) != c->bev) {
		log_warn("http: connection bookkeeping lost track; dropping");
		conn_free(c);
		return false;
	}
	c->evcon = evcon;
	c->attached = true;
	evhttp_connection_set_closecb(evcon, conn_closed_cb, c);
	evhttp_connection_get_peer(evcon, &addr, &port);
	if (addr != NULL) {
		snprintf(c->peer, sizeof(c->peer), "%s:%u", addr, port);
		if (ipv4_parse(addr, &c->peer_ip) < 0)
			c->peer_ip = 0;
	}
	fd = bufferevent_getfd(c->bev);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_timeouts(c);
	if (conn_capped(srv, c)) {
		/*
		 * Closed at once, before a byte is parsed: kept until its
		 * deadline, it would hold a slot of the global cap, and one
		 * address could take them all.
		 */
		if (!in_request) {
			conn_refuse(c);
			return false;
		}
		c->over_limit = true; /* evhttp owns the request: 503 */
	}
	conn_arm(c, srv->lim.header_timeout);
	return true;
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->attached) {
		conn_attach(c, NULL, false);
		return;
	}
	if (c->busy)
		return;
	/* No complete request in time: a slow or idle client. */
	c->srv->m.timeouts++;
	log_debug("http %s: request deadline passed, closing", c->peer);
	evhttp_connection_free(c->evcon); /* calls conn_closed_cb */
}

/*
 * evhttp accepted a connection and wants its bufferevent. The fd is set
 * by evhttp right after we return, so the rest of the bookkeeping waits
 * for the next loop turn (or the first request).
 */
static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct http_port *hp = arg;
	struct http_srv *srv = hp->srv;
	struct bufferevent *bev = NULL;
	struct timeval now = { 0, 0 };
	struct conn *c;

	if (hp->tls) {
		SSL *ssl = SSL_new(srv->ssl);

		if (ssl == NULL)
			return NULL;
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
						     BUFFEREVENT_SSL_ACCEPTING,
						     BEV_OPT_CLOSE_ON_FREE);
	} else {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (bev == NULL)
		return NULL;
	bufferevent_set_max_single_write(bev, MAX_SINGLE_WRITE);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return bev; /* served, untracked: better than refused */
	c->srv = srv;
	c->port = hp;
	c->bev = bev;
	snprintf(c->peer, sizeof(c->peer), "?");
	c->timer = evtimer_new(base, conn_timer_cb, c);
	if (c->timer == NULL) {
		free(c);
		return bev;
	}
	bufferevent_incref(bev);
	TAILQ_INSERT_TAIL(&srv->conns, c, link);
	srv->nconns++;
	srv->m.connections++;
	srv->m.connections_open = srv->nconns;
	evtimer_add(c->timer, &now);
	return bev;
}

/*
 * A safety net: a connection whose bufferevent evhttp freed without the
 * close callback (no such path is known) is found and forgotten here.
 */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_srv *srv = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		bufferevent_event_cb eventcb = NULL;

		next = TAILQ_NEXT(c, link);
		if (!c->attached)
			continue;
		/* bufferevent_free() clears the callbacks; evhttp's own
		 * error callback is installed for the connection's life. */
		bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
		if (eventcb == NULL) {
			c->evcon = NULL; /* already freed */
			log_debug("http %s: connection swept", c->peer);
			conn_free(c);
		}
	}
}

/*
 * Write the node states the last interval changed (nodes.h: the store
 * batches its writes). A failure is warned about once until a flush
 * succeeds again; the nodes stay dirty and are tried every interval.
 */
/* --- Responses ---------------------------------------------------------- */

struct ctx {
	struct http_srv *srv;
	struct conn *c; /* NULL when untracked */
	struct evhttp_request *req;
	enum http_method method;
	const char *uri;
	char peer[PEER_STR_LEN];
	uint32_t peer_ip;
	bool tls;	/* the request came in on the HTTPS port */
	bool file_cap;	/* a public file: the per-file cap applies */
	double started; /* nb_mono_s() when the request was parsed */
};

/* A request held at the per-file cap, until a transfer of its file ends. */
struct waiter {
	struct ctx x; /* x.c is set: a held request is on a tracked conn */
	struct storm_cap_entry *cap; /* the file it waits for */
	bool ready;		     /* given a slot, on srv->ready */
	TAILQ_ENTRY(waiter) link;
};

static void dispatch(struct ctx *x);

/*
 * Give a freed slot of e to its first waiter: the slot is taken for it at
 * once (a newcomer cannot overtake it) and it is dispatched again on the
 * next loop turn, outside the callback that freed the slot.
 */
static void
wake_one(struct http_srv *srv, struct storm_cap_entry *e)
{
	struct storm_cap_entry *got = NULL;
	struct waiter *w;

	TAILQ_FOREACH(w, &srv->waiting, link)
	if (w->cap == e)
		break;
	if (w == NULL || storm_cap_take(&srv->caps, e->key, &got) != 0)
		return;
	TAILQ_REMOVE(&srv->waiting, w, link);
	srv->nwaiting--;
	storm_cap_unwait(&srv->caps, e);
	w->x.c->cap = got;
	w->ready = true;
	TAILQ_INSERT_TAIL(&srv->ready, w, link);
	event_active(srv->wake, EV_TIMEOUT, 1);
}

/* The request on c is answered or gone: its slot, if any, is free. */
static void
cap_release(struct conn *c)
{
	struct storm_cap_entry *e = c->cap;

	if (e == NULL)
		return;
	c->cap = NULL;
	if (storm_cap_put(&c->srv->caps, e))
		wake_one(c->srv, e);
}

static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_srv *srv = arg;
	struct waiter *w;
	struct ctx x;

	(void)fd;
	(void)what;
	while ((w = TAILQ_FIRST(&srv->ready)) != NULL) {
		TAILQ_REMOVE(&srv->ready, w, link);
		x = w->x;
		x.c->waiter = NULL;
		free(w);
		dispatch(&x); /* x.c->cap is held: served, not held again */
	}
}

/*
 * Forget c's held request: it leaves its queue, and a request evhttp
 * detached from the dying connection (it does so for one not answered
 * yet) is ours to free.
 */
static void
waiter_drop(struct conn *c)
{
	struct http_srv *srv = c->srv;
	struct waiter *w = c->waiter;

	if (w == NULL)
		return;
	c->waiter = NULL;
	if (w->ready) {
		TAILQ_REMOVE(&srv->ready, w, link);
	} else {
		TAILQ_REMOVE(&srv->waiting, w, link);
		srv->nwaiting--;
		storm_cap_unwait(&srv->caps, w->cap);
	}
	if (c->evcon != NULL && evhttp_request_get_connection(w->x.req) == NULL)
		evhttp_request_free(w->x.req);
	free(w);
}

/*
 * The per-file cap for x's file (st): 0 with a slot on x->c, or 1 when
 * the file is at the cap and the request was queued (answered when a
 * transfer of the file ends; nothing is sent now, so the client, iPXE or
 * curl, waits rather than sees an error). -ENOMEM otherwise.
 */
static int
cap_take_or_hold(struct ctx *x, const struct stat *st)
{
	const uint64_t key[2] = { (uint64_t)st->st_dev, (uint64_t)st->st_ino };
	struct http_srv *srv = x->srv;
	struct storm_cap_entry *e = NULL;
	struct waiter *w;
	int r;

	r = storm_cap_take(&srv->caps, key, &e);
	if (r == 0)
		x->c->cap = e;
	if (r != -EBUSY)
		return r;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->x = *x;
	w->cap = e;
	e->waiting++;
	TAILQ_INSERT_TAIL(&srv->waiting, w, link);
	x->c->waiter = w;
	srv->queued_total++;
	srv->nwaiting++;
	log_debug("http %s: held: %u transfers of this file already", x->peer,
		  srv->caps.max);
	return 1;
}

static void
log_request(const struct ctx *x, int status)
{
	char uri[LOG_URI_LEN];

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	http_escape(x->uri, strlen(x->uri), uri, sizeof(uri));
	log_debug("http %s: \"%s\" %d", x->peer, uri, status);
}

/* What every answer counts and logs, before its headers are rendered. */
static void
reply_account(struct ctx *x, int status, size_t body_len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);

	metrics_count(&x->srv->m, status);
	if (x->method != HTTP_HEAD)
		x->srv->m.body_bytes += body_len;
	if (x->c != NULL && x->c->over_limit)
		evhttp_add_header(h, "Connection", "close");
	log_request(x, status);
	histo_observe(&x->srv->nb->histos.http_first_byte,
		      nb_mono_s() - x->started);
}

/* Send status with body (may be NULL: empty). Takes nothing over. */
static void
reply(struct ctx *x, int status, struct evbuffer *body)
{
	reply_account(x, status, body ? evbuffer_get_length(body) : 0);
	evhttp_send_reply(x->req, status, http_reason(status), body);
}

/* A short text answer for an error status. */
static void
reply_status(struct ctx *x, int status)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	struct evbuffer *b = evbuffer_new();
	char len[24];

	if (b == NULL) {
		evhttp_send_error(x->req, 500, NULL);
		return;
	}
	if (status >= 400) {
		evbuffer_add_printf(b, "%d %s\n", status, http_reason(status));
		evhttp_add_header(h, "Content-Type", "text/plain");
	}
	if (status == 405)
		evhttp_add_header(h, "Allow",
				  x->method == HTTP_POST ? "GET, HEAD"
							 : "GET, HEAD, POST");
	if (status == 503)
		evhttp_add_header(h, "Retry-After", "5");
	if (x->method == HTTP_HEAD) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(b));
		evhttp_add_header(h, "Content-Length", len);
	}
	reply(x, status, b);
	evbuffer_free(b);
}

static const char *
content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".ipxe", "text/plain" },
		{ ".yaml", "application/yaml" },
		{ ".yml", "application/yaml" },
		{ ".json", "application/json" },
		{ ".txt", "text/plain" },
		{ ".iso", "application/x-iso9660-image" },
		{ ".sha256", "text/plain" },
		{ ".tar", "application/x-tar" },
	};
	size_t i, n = strlen(path);

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n >= e && strcmp(path + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* Append len bytes of fd from offset to b. 0 or a negative errno. */
static int
read_range(struct evbuffer *b, int fd, uint64_t offset, uint64_t len)
{
	struct evbuffer_iovec v;
	size_t done = 0;

	if (evbuffer_reserve_space(b, (ev_ssize_t)len, &v, 1) != 1 ||
	    v.iov_len < len)
		return -ENOMEM;
	while (done < len) {
		ssize_t n = pread(fd, (char *)v.iov_base + done, len - done,
				  (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		done += (size_t)n;
	}
	v.iov_len = len;
	return evbuffer_commit_space(b, &v, 1) == 0 ? 0 : -ENOMEM;
}

/*
 * Append len bytes of fd from offset to b as a file segment (fd taken
 * over, closed on failure too) for a body sent by sendfile: the
 * connection then yields to everything else on its loop until the
 * request is done (workers.h, NB_PRIO_BULK). A priority that cannot be
 * set (its event already active) stays the default. 0 or -1.
 */
static int
bulk(struct ctx *x, int fd, uint64_t offset, uint64_t len, struct evbuffer *b)
{
	if (evbuffer_add_file(b, fd, (ev_off_t)offset, (ev_off_t)len) < 0)
		return -1;
	if (x->c != NULL)
		(void)bufferevent_priority_set(x->c->bev, NB_PRIO_BULK);
	return 0;
}

/* A body a worker may send: plain HTTP, a tracked connection, workers. */
static bool
offload_ok(const struct ctx *x)
{
	return x->c != NULL && !x->c->port->tls && x->c->evcon != NULL &&
	       x->srv->nb->nworkers > 0;
}

/* Owner loop: the worker sent the body, or gave up on the client. */
static void
offload_done(void *arg, int err, uint64_t sent)
{
	struct conn *c = arg;
	struct evhttp_request *req = c->bulk_req;

	c->bulk = NULL;
	c->bulk_req = NULL;
	if (err < 0) {
		log_debug("http %s: body stopped after %llu bytes: %s", c->peer,
			  (unsigned long long)sent, strerror(-err));
		evhttp_connection_free(c->evcon); /* calls conn_closed_cb */
		return;
	}
	/* evhttp's again: the request is done (request_done_cb). */
	c->srv->worker_bodies++;
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	evhttp_send_reply_end(req);
}

/*
 * Owner loop: evhttp wrote the status line, the headers and the body's
 * first bytes. The rest goes to a worker, or, without memory for that,
 * stays here as a sendfile segment.
 */
static void
offload_head_sent(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	struct http_srv *srv = c->srv;
	struct evhttp_request *req = c->bulk_req;
	struct http_bulk_req rq = c->bulk_rq;
	struct evbuffer *b;

	(void)evcon;
	if (rq.len > 0) {
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		rq.sock = bufferevent_getfd(c->bev);
		if (http_bulk_start(srv->nb,
				    srv->next_worker++ % srv->nb->nworkers, &rq,
				    &c->bulk) == 0)
			return;
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	}
	/* The file is ours from here: nothing for offload_gone. */
	c->bulk_req = NULL;
	b = rq.len > 0 ? evbuffer_new() : NULL;
	if (b != NULL)
		evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
	if (rq.len == 0) {
		close(rq.file);
	} else if (b == NULL ||
		   evbuffer_add_file(b, rq.file, (ev_off_t)rq.offset,
				     (ev_off_t)rq.len) < 0) {
		if (b == NULL) /* evbuffer_add_file closes it on failure */
			close(rq.file);
		else
			evbuffer_free(b);
		evhttp_connection_free(c->evcon); /* calls conn_closed_cb */
		return;
	} else {
		evhttp_send_reply_chunk(req, b);
		evbuffer_free(b);
	}
	evhttp_send_reply_end(req);
}

/*
 * The connection goes (conn_free) with an offloaded body not done: its
 * file is closed, its bulk cancelled (only at stop, the workers joined:
 * nothing else frees a connection whose bufferevent is stopped and whose
 * request is busy), and a request evhttp detached from a connection that
 * failed under it (while it sent the headers) is ended, which frees it.
 */
static void
offload_gone(struct conn *c)
{
	struct evhttp_request *req = c->bulk_req;

	if (req == NULL)
		return;
	c->bulk_req = NULL;
	if (c->bulk != NULL)
		http_bulk_cancel(c->bulk);
	else
		close(c->bulk_rq.file);
	c->bulk = NULL;
	if (c->evcon != NULL && evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

/*
 * Answer status with len bytes of fd from offset (fd taken over; len is
 * over SMALL_FILE_MAX), the body's bulk sent by a worker (http_bulk.h).
 * evhttp sends the headers and the first OFFLOAD_FIRST bytes; when they
 * are out, offload_head_sent hands the rest over.
 */
static void
offload(struct ctx *x, int fd, int status, uint64_t offset, uint64_t len)
{
	struct conn *c = x->c;
	struct evbuffer *first = evbuffer_new();
	uint64_t n = len < OFFLOAD_FIRST ? len : OFFLOAD_FIRST;

	if (first == NULL || read_range(first, fd, offset, n) < 0) {
		if (first != NULL)
			evbuffer_free(first);
		close(fd);
		reply_status(x, 500);
		return;
	}
	reply_account(x, status, (size_t)len);
	memset(&c->bulk_rq, 0, sizeof(c->bulk_rq));
	c->bulk_rq.file = fd;
	c->bulk_rq.offset = offset + n;
	c->bulk_rq.len = len - n;
	c->bulk_rq.idle_s = x->srv->lim.idle_timeout;
	c->bulk_rq.done = offload_done;
	c->bulk_rq.arg = c;
	c->bulk_req = x->req;
	evhttp_send_reply_start(x->req, status, http_reason(status));
	evhttp_send_reply_chunk_with_cb(x->req, first, offload_head_sent, c);
	evbuffer_free(first);
}

/*
 * Answer with the open regular file fd (taken over: closed here or by the
 * output buffer): conditional GET, a single Range, HEAD, sendfile body.
 * *ret_first_byte (may be NULL) tells whether the body starts at byte 0
 * of the file (200, or 206 from 0), for the boot timeline.
 */
static int
serve_fd(struct ctx *x, int fd, const struct stat *st, const char *ctype,
	 bool no_store, bool *ret_first_byte)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(x->req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	char etag[HTTP_ETAG_LEN], date[HTTP_DATE_LEN], num[64];
	uint64_t size = (uint64_t)st->st_size;
	struct http_range rg = { 0, size ? size - 1 : 0 };
	struct evbuffer *b = NULL;
	const char *range;
	int status = 200, r;

	http_etag_format(etag, size, (int64_t)st->st_mtim.tv_sec,
			 st->st_mtim.tv_nsec, (uint64_t)st->st_ino);
	http_date_format(st->st_mtim.tv_sec, date);
	evhttp_add_header(h, "ETag", etag);
	evhttp_add_header(h, "Last-Modified", date);
	evhttp_add_header(h, "Accept-Ranges", "bytes");
	if (no_store)
		evhttp_add_header(h, "Cache-Control", "no-store");
	if (http_not_modified(evhttp_find_header(in, "If-None-Match"),
			      evhttp_find_header(in, "If-Modified-Since"), etag,
			      st->st_mtim.tv_sec)) {
		close(fd);
		reply(x, 304, NULL);
		return 304;
	}
	range = evhttp_find_header(in, "Range");
	if (range != NULL &&
	    http_if_range_ok(evhttp_find_header(in, "If-Range"), etag,
			     st->st_mtim.tv_sec)) {
		r = http_range_parse(range, strlen(range), size, &rg);
		if (r == -ERANGE) {
			close(fd);
			snprintf(num, sizeof(num), "bytes */%llu",
				 (unsigned long long)size);
			evhttp_add_header(h, "Content-Range", num);
			reply_status(x, 416);
			return 416;
		}
		if (r == 0) {
			status = 206;
			snprintf(num, sizeof(num), "bytes %llu-%llu/%llu",
				 (unsigned long long)rg.first,
				 (unsigned long long)rg.last,
				 (unsigned long long)size);
			evhttp_add_header(h, "Content-Range", num);
		} else {
			rg.first = 0;
			rg.last = size ? size - 1 : 0;
		}
	}
	if (ret_first_byte != NULL)
		*ret_first_byte = rg.first == 0;
	evhttp_add_header(h, "Content-Type", ctype);
	snprintf(num, sizeof(num), "%llu",
		 (unsigned long long)(size ? rg.last - rg.first + 1 : 0));
	evhttp_add_header(h, "Content-Length", num);
	b = evbuffer_new();
	if (b == NULL) {
		close(fd);
		reply_status(x, 500);
		return 500;
	}
	/*
	 * The buffer's chains move to the socket's output buffer, which
	 * drains to the fd: keep the file as a sendfile segment rather than
	 * mapping it. TLS needs the bytes, so there it is mapped.
	 */
	if (x->c == NULL || !x->c->port->tls)
		evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
	if (x->method == HTTP_HEAD || size == 0) {
		close(fd);
	} else if (rg.last - rg.first < SMALL_FILE_MAX) {
		/* Small: one write with the header beats a sendfile. */
		r = read_range(b, fd, rg.first, rg.last - rg.first + 1);
		close(fd);
		if (r < 0) {
			evbuffer_free(b);
			evhttp_remove_header(h, "Content-Length");
			reply_status(x, 500);
			return 500;
		}
	} else if (offload_ok(x)) {
		evbuffer_free(b);
		offload(x, fd, status, rg.first, rg.last - rg.first + 1);
		return status;
	} else if (bulk(x, fd, rg.first, rg.last - rg.first + 1, b) < 0) {
		evbuffer_free(b);
		evhttp_remove_header(h, "Content-Length");
		reply_status(x, 500);
		return 500;
	}
	reply(x, status, b);
	evbuffer_free(b);
	return status;
}

/*
 * Open path under dirfd and serve it; errors become their status.
 * public: the file is for anyone (/files/, /boot/), so one that others
 * may not read (the builder writes keys and payloads holding secrets 0600,
 * and --root might be pointed at OUT rather than OUT/public) is refused
 * with 403 rather than sent in clear. Returns the status sent, or 0 when
 * the request is held at the per-file cap (x->file_cap).
 */
static int
serve_path(struct ctx *x, int dirfd, const char *path, bool no_store,
	   bool public, bool *ret_first_byte)
{
	struct stat st;
	int fd = -1, r;

	r = path_open_under(dirfd, path, &fd, &st);
	if (r == 0 && public && (st.st_mode & S_IROTH) == 0) {
		char p[LOG_URI_LEN];

		close(fd);
		http_escape(path, strlen(path), p, sizeof(p));
		if (x->srv->m.payload_refused++ % LOG_EVERY == 0)
			log_warn("http %s: \"%s\" refused: not readable by "
				 "others (mode %03o), so not public",
				 x->peer, p, (unsigned)(st.st_mode & 0777));
		r = -EACCES;
	}
	if (r == 0 && x->file_cap && x->method == HTTP_GET && x->c != NULL &&
	    x->c->cap == NULL && x->srv->caps.max > 0) {
		r = cap_take_or_hold(x, &st);
		if (r != 0)
			close(fd);
		if (r == 1)
			return 0; /* held */
	}
	if (r < 0) {
		int status = http_status_for_errno(r);

		if (status == 500) {
			char p[LOG_URI_LEN];

			http_escape(path, strlen(path), p, sizeof(p));
			log_warn_r(r, "http %s: \"%s\"", x->peer, p);
		}
		reply_status(x, status);
		return status;
	}
	return serve_fd(x, fd, &st, content_type(path), no_store,
			ret_first_byte);
}

static void
mark(struct ctx *x, struct node *nd, const char *event)
{
	int r = nodes_mark(x->srv->nodes, nd, event, nodes_now_ms());

	if (r < 0)
		log_warn_r(r, "node %s: cannot record %s", nd->name, event);
}

static void
handle_file(struct ctx *x, const struct http_route *rt)
{
	const char *milestone = nodes_file_milestone(rt->path);
	bool first = false;
	struct node *nd;
	int status;

	x->file_cap = true;
	status = serve_path(x, x->srv->nb->root_fd, rt->path, false, true,
			    &first);
	if (milestone == NULL || x->method != HTTP_GET || !first ||
	    (status != 200 && status != 206))
		return;
	nd = nodes_find_ip(x->srv->nodes, x->peer_ip);
	if (nd != NULL)
		mark(x, nd, milestone);
}

/*
 * A worker without a state disk (rejoin in netboot.yaml) that netboots
 * again once done lost its cluster state with its RAM: it is re-armed,
 * so that its agent fetches its payload again and joins again
 * (docs/netboot.md, "Stateless nodes").
 */
static void
rearm_on_netboot(struct ctx *x, struct node *nd)
{
	const struct nb_config_node *cn;
	int r;

	if (!nd->locked || x->method != HTTP_GET ||
	    !nodes_addr_allowed(x->srv->nodes, nd, x->peer_ip))
		return;
	cn = nb_config_find(x->srv->nb->cfg, nd->mac);
	if (cn == NULL || !cn->rejoin)
		return;
	r = nodes_rearm(x->srv->nodes, nd, nodes_now_ms());
	if (r < 0)
		log_warn_r(r, "node %s: cannot re-arm", nd->name);
	else
		log_info("http %s: node %s netbooted again without a state "
			 "disk: re-armed, to join again",
			 x->peer, nd->name);
}

static void
handle_boot(struct ctx *x, struct node *nd)
{
	char name[HOST_NAME_MAX_LEN + 8];
	int status;

	if (x->srv->boot_fd < 0) {
		reply_status(x, 404);
		return;
	}
	rearm_on_netboot(x, nd);
	snprintf(name, sizeof(name), "%s.ipxe", nd->name);
	status = serve_path(x, x->srv->boot_fd, name, true, true, NULL);
	if (status == 200 && x->method == HTTP_GET)
		mark(x, nd, "boot-script");
}

/*
 * The iPXE script for a machine that is not in the inventory, when
 * netboot.yaml says unknown: discover (DHCP chains such machines here).
 * It tells whoever watches the console what to add to the inventory, and
 * asks again every minute, so that once the machine is listed (rebuild,
 * restart the server) it boots on without a touch. Logged once per ask,
 * with the MAC, so the operator can collect unknown machines from the log.
 */
static void
handle_discover(struct ctx *x, const uint8_t mac[MAC_LEN])
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	struct evbuffer *b = evbuffer_new();
	char m[MAC_STR_LEN];

	if (b == NULL) {
		reply_status(x, 500);
		return;
	}
	mac_format(mac, m);
	log_info("http %s: machine %s is not in the inventory: discovery "
		 "script served",
		 x->peer, m);
	evbuffer_add_printf(
		b,
		"#!ipxe\n"
		"# metalboot discovery: this machine is not in the inventory.\n"
		"echo metalboot: machine %s (${ip}) is not in the inventory.\n"
		"echo Add it to the nodes of cluster.yaml (mac: \"%s\"), run\n"
		"echo metalboot-build build and restart metalboot-netboot.\n"
		"echo This machine asks again every 60 seconds.\n"
		":again\n"
		"sleep 60\n"
		"chain --autofree %s.ipxe || goto again\n",
		m, m, m);
	evhttp_add_header(h, "Content-Type", "text/plain");
	evhttp_add_header(h, "Cache-Control", "no-store");
	reply(x, 200, b);
	evbuffer_free(b);
}

static bool
peer_is_node(struct ctx *x, struct node *nd, const char *what)
{
	if (nodes_addr_allowed(x->srv->nodes, nd, x->peer_ip))
		return true;
	x->srv->m.payload_refused++;
	log_warn("http %s: %s of node %s refused: not the node's address",
		 x->peer, what, nd->name);
	reply_status(x, 403);
	return false;
}

/*
 * Refuse a secret payload of nd with status (403 or 410): counted, on the
 * node's timeline as "secret-refused" (rate-limited there), logged with
 * why (the 1st, 101st, ... refusal of a flood), and never the body.
 */
static void
refuse_secret(struct ctx *x, struct node *nd, const char *what, int status,
	      const char *why)
{
	int r = nodes_secret_refused(x->srv->nodes, nd, nodes_now_ms());

	if (r < 0)
		log_warn_r(r, "node %s: cannot record secret-refused",
			   nd->name);
	if (x->srv->m.payload_refused++ % LOG_EVERY == 0)
		log_warn("http %s: %s of node %s refused (%d): %s", x->peer,
			 what, nd->name, status, why);
	reply_status(x, status);
}

/*
 * Serve a secret payload of nd (fd taken over) now that it may go: a GET
 * opens the window on disk before a byte goes out.
 */
static void
serve_secret(struct ctx *x, struct node *nd, bool fb, int fd,
	     const struct stat *st, const char *path)
{
	const char *what = fb ? "firstboot" : "secrets";
	bool repeat = false;
	int r;

	if (x->method == HTTP_GET) {
		r = nodes_secret_served(x->srv->nodes, nd, nodes_now_ms());
		if (r < 0) {
			log_warn_r(r, "node %s: cannot record its %s fetch",
				   nd->name, what);
			close(fd);
			reply_status(x, 500);
			return;
		}
		nodes_payload_fetch(
			nd, fb ? NODE_PAYLOAD_FIRSTBOOT : NODE_PAYLOAD_SECRETS,
			&repeat);
		if (repeat)
			log_warn("http %s: %s of node %s fetched again "
				 "before the node finished",
				 x->peer, what, nd->name);
		else
			log_info("http %s: %s of node %s served", x->peer, what,
				 nd->name);
	}
	serve_fd(x, fd, st, content_type(path), true, NULL);
}

/*
 * A secret payload waiting for its served-once claim in the shared
 * store: the request is held (its connection's wait) until the claim's
 * outcome, or freed with the connection (secret_wait_cancel).
 */
struct secret_wait {
	uint64_t tag;
	struct ctx x; /* the request's, copied */
	uint8_t mac[MAC_LEN];
	bool fb;
	int fd; /* the payload, open */
	struct stat st;
	char path[HOST_NAME_MAX_LEN + 64];
};

static void
secret_wait_free(struct secret_wait *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

/* The connection is going: the claim's outcome will find no one. */
static void
secret_wait_cancel(struct http_srv *srv, struct secret_wait *w)
{
	store_io_claim_cancel(srv->nb, w->tag);
	secret_wait_free(w);
}

/* The claim's outcome (store_claim_fn): serve, 410 or 503. */
static void
secret_claimed(void *arg, int r)
{
	struct secret_wait *w = arg;
	struct ctx *x = &w->x;
	const char *what = w->fb ? "firstboot" : "secrets";
	struct node *nd = nodes_find(x->srv->nodes, w->mac);

	x->c->wait = NULL;
	if (nd == NULL) {
		reply_status(x, 404);
	} else if (r == -ESTALE) {
		refuse_secret(x, nd, what, 410,
			      "served once already in the fleet; re-arm it to "
			      "serve it again");
	} else if (r < 0) {
		log_warn_r(r, "http %s: %s of node %s: no answer from etcd",
			   x->peer, what, nd->name);
		reply_status(x, 503);
	} else if (nodes_secret_check(x->srv->nodes, nd, nodes_now_ms()) < 0) {
		refuse_secret(x, nd, what, 410, "locked while it was claimed");
	} else {
		serve_secret(x, nd, w->fb, w->fd, &w->st, w->path);
		w->fd = -1;
	}
	secret_wait_free(w);
}

/*
 * With a shared store, a GET of a secret payload first claims it there
 * (served once in the whole fleet). 1: no shared store, serve now; 0:
 * held until the claim's outcome (fd taken over); -errno: refuse (503).
 */
static int
secret_claim(struct ctx *x, struct node *nd, bool fb, int fd,
	     const struct stat *st, const char *path)
{
	struct secret_wait *w = calloc(1, sizeof(*w));
	int r;

	if (w == NULL)
		return -ENOMEM;
	w->x = *x;
	memcpy(w->mac, nd->mac, MAC_LEN);
	w->fb = fb;
	w->fd = -1;
	w->st = *st;
	snprintf(w->path, sizeof(w->path), "%s", path);
	r = store_io_claim_secret(x->srv->nb, nd->mac, nd->armed_at,
				  fb ? "firstboot" : "secrets", secret_claimed,
				  w, &w->tag);
	if (r == 0 && x->c == NULL) {
		/* Untracked: nothing would tell us it left. */
		store_io_claim_cancel(x->srv->nb, w->tag);
		r = -ENOTCONN;
	}
	if (r != 0) {
		free(w);
		return r;
	}
	w->fd = fd;
	x->c->wait = w;
	return 0;
}

/*
 * The payloads that hold secrets: firstboot.yaml (the agent's) and
 * secrets.tar (what NoCloud-net's user-data fetches). Only to the node's
 * address, only over HTTPS (whether or not HTTPS is configured: plain
 * HTTP never carries them), and only until the node is done or its
 * secret window has passed (410 until re-armed). With a shared store,
 * a GET is served once in the whole fleet (secret_claim).
 */
static void
handle_secret(struct ctx *x, const struct http_route *rt, struct node *nd)
{
	bool fb = rt->kind == HTTP_ROUTE_NODE_FIRSTBOOT;
	const char *what = fb ? "firstboot" : "secrets";
	char path[HOST_NAME_MAX_LEN + 64];
	struct stat st;
	int fd = -1, r;

	if (!nodes_addr_allowed(x->srv->nodes, nd, x->peer_ip)) {
		refuse_secret(x, nd, what, 403, "not the node's address");
		return;
	}
	if (!x->tls) {
		refuse_secret(x, nd, what, 403,
			      "plain HTTP (secrets go over HTTPS only)");
		return;
	}
	if (nodes_secret_check(x->srv->nodes, nd, nodes_now_ms()) < 0) {
		refuse_secret(x, nd, what, 410,
			      nd->locked ? "the node is done; re-arm it to "
					   "serve it again"
					 : "its secret window has passed; "
					   "re-arm it to serve it again");
		return;
	}
	if (x->srv->nodes_fd < 0) {
		reply_status(x, 404);
		return;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", nd->name,
			     fb ? "firstboot.yaml" : "secrets.tar") >=
	    sizeof(path)) {
		reply_status(x, 404);
		return;
	}
	r = path_open_under(x->srv->nodes_fd, path, &fd, &st);
	if (r < 0) {
		reply_status(x, http_status_for_errno(r));
		return;
	}
	if (x->method == HTTP_GET) {
		r = secret_claim(x, nd, fb, fd, &st, path);
		if (r == 0)
			return; /* held: secret_claimed answers */
		if (r < 0) {
			log_warn_r(r, "http %s: %s of node %s not claimed",
				   x->peer, what, nd->name);
			close(fd);
			reply_status(x, 503);
			return;
		}
	}
	serve_secret(x, nd, fb, fd, &st, path);
}

/* cloud-init's NoCloud-net files: public data, the node's address only. */
static void
handle_payload(struct ctx *x, const struct http_route *rt, struct node *nd)
{
	char path[HOST_NAME_MAX_LEN + 64];
	enum node_payload which;
	bool repeat = false;
	int r;

	if (!peer_is_node(x, nd, "payload"))
		return;
	if (x->srv->nodes_fd < 0) {
		reply_status(x, 404);
		return;
	}
	/* rt->path is one of the three names (http_route). */
	snprintf(path, sizeof(path), "%s/cloud-init/%.*s", nd->name,
		 HTTP_CLOUDINIT_NAME_MAX, rt->path);
	which = strcmp(rt->path, "user-data") == 0 ? NODE_PAYLOAD_USER_DATA
		: strcmp(rt->path, "meta-data") == 0
			? NODE_PAYLOAD_META_DATA
			: NODE_PAYLOAD_NETWORK_CONFIG;
	if (x->method == HTTP_GET) {
		r = nodes_payload_fetch(nd, which, &repeat);
		if (r == -ESTALE) {
			x->srv->m.payload_refused++;
			log_warn(
				"http %s: payload of node %s refused: the node "
				"finished; re-arm it to serve it again",
				x->peer, nd->name);
			reply_status(x, 410);
			return;
		}
		if (repeat)
			log_warn("http %s: payload %s of node %s fetched again "
				 "before the node finished",
				 x->peer, rt->path, nd->name);
	} else if (nd->locked) {
		reply_status(x, 410);
		return;
	}
	serve_path(x, x->srv->nodes_fd, path, true, false, NULL);
}

static void
reply_json_ok(struct ctx *x)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		reply_status(x, 500);
		return;
	}
	evbuffer_add_printf(b, "{\"ok\":true}\n");
	evhttp_add_header(h, "Content-Type", "application/json");
	reply(x, 200, b);
	evbuffer_free(b);
}

static void
handle_event(struct ctx *x, struct node *nd)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(x->req);
	size_t len = evbuffer_get_length(in);
	struct node_event ev;
	char body[EVENT_BODY_MAX];
	int r;

	if (!peer_is_node(x, nd, "event"))
		return;
	if (len > sizeof(body)) {
		reply_status(x, 413);
		return;
	}
	if (evbuffer_copyout(in, body, len) != (ev_ssize_t)len) {
		reply_status(x, 500);
		return;
	}
	r = event_parse(body, len, &ev);
	if (r < 0) {
		log_warn("http %s: malformed event for node %s", x->peer,
			 nd->name);
		reply_status(x, http_status_for_errno(r));
		return;
	}
	r = nodes_event(x->srv->nodes, nd, &ev, nodes_now_ms());
	if (r < 0) {
		log_warn_r(r, "node %s: cannot record event %s %s", nd->name,
			   ev.step, event_status_name(ev.status));
		reply_status(x, 500);
		return;
	}
	x->srv->m.events++;
	if (ev.status == EVENT_FAILED)
		log_warn("node %s: step %s failed", nd->name, ev.step);
	else
		log_info("node %s: step %s %s", nd->name, ev.step,
			 event_status_name(ev.status));
	reply_json_ok(x);
}

/* Constant-time check of "Authorization: Bearer TOKEN". */
static bool
admin_token_ok(struct ctx *x)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(x->req);
	const char *auth = evhttp_find_header(in, "Authorization");
	size_t n;

	if (x->srv->token_len == 0 || auth == NULL ||
	    strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	n = strlen(auth);
	if (n != x->srv->token_len)
		return false;
	return CRYPTO_memcmp(auth, x->srv->token, n) == 0;
}

/*
 * Re-arming re-opens a node's secrets, so it always takes the admin
 * token, from any address: a local reverse proxy makes every client
 * look local.
 */
static void
handle_rearm(struct ctx *x, struct node *nd)
{
	int r;

	if (!admin_token_ok(x)) {
		log_warn("http %s: re-arm of node %s refused: no valid admin "
			 "token",
			 x->peer, nd->name);
		reply_status(x, 403);
		return;
	}
	r = nodes_rearm(x->srv->nodes, nd, nodes_now_ms());
	if (r < 0) {
		log_warn_r(r, "node %s: cannot re-arm", nd->name);
		reply_status(x, 500);
		return;
	}
	log_info("http %s: node %s re-armed", x->peer, nd->name);
	reply_json_ok(x);
}

/* Reply 200 with a JSON document of len bytes (copied). */
static void
reply_json(struct ctx *x, const char *text, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	struct evbuffer *b = evbuffer_new();

	if (b == NULL || evbuffer_add(b, text, len) < 0) {
		if (b != NULL)
			evbuffer_free(b);
		reply_status(x, 500);
		return;
	}
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (x->method == HTTP_HEAD) {
		char n[24];

		snprintf(n, sizeof(n), "%zu", evbuffer_get_length(b));
		evhttp_add_header(h, "Content-Length", n);
	}
	reply(x, 200, b);
	evbuffer_free(b);
}

static void
handle_nodes(struct ctx *x)
{
	struct buf out;
	int r;

	buf_init(&out, NODES_JSON_MAX);
	r = nodes_render_json(x->srv->nodes, &out);
	if (r < 0)
		reply_status(x, 500);
	else
		reply_json(x, out.data, out.len);
	buf_done(&out);
}

/* The live servers of a shared store (404 without one). */
static void
handle_servers(struct ctx *x)
{
	char *text = NULL;
	int r = store_io_servers_json(x->srv->nb, &text);

	if (r < 0) {
		reply_status(x, r == -ENOENT ? 404 : 500);
		return;
	}
	reply_json(x, text, strlen(text));
	free(text);
}

/* The latency histograms every service keeps in nb->histos. */
static int
render_histos(struct buf *out, const struct netboot *nb)
{
	int r = histo_render(out, "dhcp_offer_seconds",
			     "From a DISCOVER read to its OFFER sent.",
			     &nb->histos.dhcp_offer);

	if (r == 0)
		r = histo_render(out, "tftp_transfer_seconds",
				 "From a TFTP request to its last block "
				 "acknowledged.",
				 &nb->histos.tftp_transfer);
	if (r == 0)
		r = histo_render(out, "http_first_byte_seconds",
				 "From a parsed HTTP request to its reply "
				 "handed to the connection.",
				 &nb->histos.http_first_byte);
	return r;
}

static void
render_metrics(struct ctx *x, const struct nb_counters *k)
{
	const struct metric_sample extra[] = {
		{ "tftp_requests_total", "TFTP requests received.", false,
		  k->tftp_requests },
		{ "tftp_transfers_started_total", "TFTP transfers started.",
		  false, k->tftp_transfers_started },
		{ "tftp_transfers_completed_total", "TFTP transfers completed.",
		  false, k->tftp_transfers_completed },
		{ "tftp_transfers_failed_total", "TFTP transfers failed.",
		  false, k->tftp_transfers_failed },
		{ "tftp_bytes_sent_total", "TFTP file bytes sent.", false,
		  k->tftp_bytes_sent },
		{ "tftp_packets_sent_total", "TFTP datagrams sent.", false,
		  k->tftp_packets_sent },
		{ "tftp_retransmits_total", "TFTP retransmissions.", false,
		  k->tftp_retransmits },
		{ "tftp_errors_sent_total", "TFTP ERROR packets sent.", false,
		  k->tftp_errors_sent },
		{ "tftp_active_transfers", "TFTP transfers in flight.", true,
		  k->tftp_active },
		{ "tftp_file_capped_total",
		  "TFTP requests dropped at the per-file cap (the client "
		  "retransmits).",
		  false, k->tftp_file_capped },
		{ "http_transfers_queued_total",
		  "HTTP requests held at the per-file cap until a slot freed.",
		  false, x->srv->queued_total },
		{ "http_transfers_waiting",
		  "HTTP requests held at the per-file cap now.", true,
		  x->srv->nwaiting },
		{ "http_worker_bodies_total",
		  "HTTP file bodies sent by a worker loop.", false,
		  x->srv->worker_bodies },
	};
	const struct netboot *nb = x->srv->nb;
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	struct metric_sample
		all[sizeof(extra) / sizeof(extra[0]) + NB_METRIC_SAMPLES_MAX];
	size_t states[NODE_STATE_COUNT], n = sizeof(extra) / sizeof(extra[0]);
	size_t i;
	struct evbuffer *b;
	struct buf out;
	int r;

	memcpy(all, extra, sizeof(extra));
	/* Every service's own samples (the store's, DHCP's), in order. */
	for (i = 0; i < nb->nmetric_sources; i++)
		n += nb->metric_sources[i](nb, all + n,
					   sizeof(all) / sizeof(all[0]) - n);
	nodes_count_states(x->srv->nodes, states);
	buf_init(&out, METRICS_TEXT_MAX);
	r = metrics_render(&out, &x->srv->m, states, all, n);
	if (r == 0)
		r = render_histos(&out, nb);
	b = r == 0 ? evbuffer_new() : NULL;
	if (b == NULL || evbuffer_add(b, out.data, out.len) < 0) {
		if (b != NULL)
			evbuffer_free(b);
		buf_done(&out);
		reply_status(x, 500);
		return;
	}
	buf_done(&out);
	evhttp_add_header(h, "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	reply(x, 200, b);
	evbuffer_free(b);
}

/* /metrics: the TFTP counters of every loop, summed (server.h). */
static void
handle_metrics(struct ctx *x)
{
	struct nb_counters sum;

	nb_counters_sum(x->srv->nb, &sum);
	render_metrics(x, &sum);
}

/* --- The fleet page ----------------------------------------------------- */

/*
 * What every answer of the page carries: it may load nothing from
 * anywhere but here, and it is never framed by another site.
 */
static void
page_headers(struct ctx *x)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);

	evhttp_add_header(h, "Content-Security-Policy",
			  "default-src 'none'; script-src 'self'; "
			  "style-src 'self'; img-src 'self' data:; "
			  "connect-src 'self'; base-uri 'none'; "
			  "form-action 'none'; frame-ancestors 'none'");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

/* Answer 200 with a copy of the len bytes at data. */
static void
reply_bytes(struct ctx *x, const void *data, size_t len, const char *ctype)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	struct evbuffer *b = evbuffer_new();
	char num[24];

	if (b == NULL || (len > 0 && evbuffer_add(b, data, len) < 0)) {
		if (b != NULL)
			evbuffer_free(b);
		reply_status(x, 500);
		return;
	}
	evhttp_add_header(h, "Content-Type", ctype);
	if (x->method == HTTP_HEAD) {
		snprintf(num, sizeof(num), "%zu", len);
		evhttp_add_header(h, "Content-Length", num);
	}
	reply(x, 200, b);
	evbuffer_free(b);
}

/* GET / and /ui/NAME: the page's files, compiled in. */
static void
handle_ui(struct ctx *x, const struct http_route *rt)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(x->req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	const struct ui_asset *a = ui_asset_find(rt->path);

	if (a == NULL) {
		reply_status(x, 404);
		return;
	}
	page_headers(x);
	evhttp_add_header(h, "ETag", a->etag);
	/* Revalidated on every load: a new binary brings a new page. */
	evhttp_add_header(h, "Cache-Control", "no-cache");
	if (http_not_modified(evhttp_find_header(in, "If-None-Match"), NULL,
			      a->etag, 0)) {
		reply(x, 304, NULL);
		return;
	}
	reply_bytes(x, a->data, a->len, ui_content_type(a->name));
}

static int
render_cluster(const struct http_srv *srv, struct buf *out)
{
	const struct nb_config *cfg = srv->nb->cfg;
	char now[NODES_TIME_STR_LEN];

	nodes_time_format(nodes_now_ms(), now);
	return ui_cluster_json(cfg ? cfg->cluster : NULL,
			       cfg ? cfg->kubernetes_version : NULL, now, out);
}

/* GET /v1/cluster: what the page shows above the fleet. */
static void
handle_cluster(struct ctx *x)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	struct buf out;

	buf_init(&out, UI_CLUSTER_MAX);
	if (render_cluster(x->srv, &out) < 0) {
		buf_done(&out);
		reply_status(x, 500);
		return;
	}
	evhttp_add_header(h, "Cache-Control", "no-store");
	reply_bytes(x, out.data, out.len, "application/json");
	buf_done(&out);
}

/*
 * The first events of a stream: the reconnection delay, the cluster and
 * the whole fleet (the /v1/cluster and /v1/nodes documents), so that a
 * page that (re)connects is whole without asking anything else.
 */
static int
events_hello(const struct http_srv *srv, struct buf *out)
{
	struct buf doc;
	int r;

	buf_init(&doc, NODES_JSON_MAX);
	r = sse_retry(out, SSE_RETRY_MS);
	if (r == 0)
		r = render_cluster(srv, &doc);
	if (r == 0)
		r = sse_frame(out, "cluster", doc.data, doc.len);
	buf_done(&doc);
	if (r == 0)
		r = nodes_render_json(srv->nodes, &doc);
	while (doc.len > 0 && doc.data[doc.len - 1] == '\n')
		doc.len--;
	if (r == 0)
		r = sse_frame(out, "nodes", doc.data, doc.len);
	buf_done(&doc);
	return r;
}

/* GET /v1/events: the page's live stream (docs/netboot.md). */
static void
handle_events(struct ctx *x)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);
	struct buf hello;
	int r;

	if (x->method == HTTP_HEAD) {
		evhttp_add_header(h, "Content-Type", "text/event-stream");
		evhttp_add_header(h, "Cache-Control", "no-store");
		reply(x, 200, NULL);
		return;
	}
	/* A stream must be on a tracked connection: its close ends it. */
	if (x->c == NULL || x->c->over_limit || x->c->stream != NULL) {
		reply_status(x, 503);
		return;
	}
	buf_init(&hello, NODES_JSON_MAX + 2 * UI_CLUSTER_MAX);
	r = events_hello(x->srv, &hello);
	if (r == 0)
		r = sse_io_open(x->srv->sse, x->req, x->peer_ip, &hello,
				&x->c->stream);
	buf_done(&hello);
	if (r == -EMFILE || r == -EUSERS) {
		log_info("http %s: event stream refused: %s", x->peer,
			 r == -EMFILE ? "too many streams open"
				      : "too many streams from this address");
		reply_status(x, 503);
		return;
	}
	if (r < 0) {
		log_warn_r(r, "http %s: event stream", x->peer);
		reply_status(x, 500);
		return;
	}
	metrics_count(&x->srv->m, 200);
	log_request(x, 200);
}

/* The node store changed: tell the streams. */
static void
node_changed(void *arg, const struct node *nd)
{
	struct http_srv *srv = arg;
	struct buf b;
	int r;

	if (sse_io_count(srv->sse) == 0)
		return;
	buf_init(&b, NODES_JSON_MAX);
	r = nodes_render_node_json(nd, &b);
	if (r == 0)
		sse_io_publish(srv->sse, "node", b.data, b.len);
	else
		log_warn_r(r, "http: node %s: event for the streams", nd->name);
	buf_done(&b);
}

static void
request_done_cb(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;

	(void)req;
	cap_release(c);
	(void)bufferevent_priority_set(c->bev, NB_PRIO_DEFAULT);
	c->busy = false;
	/* The next request must arrive, whole, within the idle timeout. */
	conn_arm(c, c->srv->lim.idle_timeout);
}

static enum http_method
method_of(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return HTTP_GET;
	case EVHTTP_REQ_HEAD:
		return HTTP_HEAD;
	case EVHTTP_REQ_POST:
		return HTTP_POST;
	default:
		return HTTP_OTHER;
	}
}

/* Every request lands here (evhttp's generic callback). */
static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct http_port *hp = arg;
	struct http_srv *srv = hp->srv;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct ctx x;

	memset(&x, 0, sizeof(x));
	x.started = nb_mono_s();
	x.srv = srv;
	x.req = req;
	x.tls = hp->tls;
	x.method = method_of(req);
	x.uri = evhttp_request_get_uri(req);
	if (x.uri == NULL)
		x.uri = "";
	x.c = conn_find(srv, evcon);
	if (x.c == NULL) {
		struct conn *c;

		/* The request beat the attach turn: attach now. */
		TAILQ_FOREACH(c, &srv->conns, link)
		if (!c->attached &&
		    evhttp_connection_get_bufferevent(evcon) == c->bev)
			break;
		if (c != NULL && conn_attach(c, evcon, true))
			x.c = c;
	}
	if (x.c != NULL) {
		snprintf(x.peer, sizeof(x.peer), "%s", x.c->peer);
		x.peer_ip = x.c->peer_ip;
		x.c->busy = true;
		evtimer_del(x.c->timer);
		evhttp_request_set_on_complete_cb(req, request_done_cb, x.c);
		if (x.c->over_limit) {
			reply_status(&x, 503);
			return;
		}
	} else {
		char *addr = NULL;
		uint16_t port = 0;

		evhttp_connection_get_peer(evcon, &addr, &port);
		snprintf(x.peer, sizeof(x.peer), "%s:%u", addr ? addr : "?",
			 port);
		if (addr == NULL || ipv4_parse(addr, &x.peer_ip) < 0)
			x.peer_ip = 0;
	}

	dispatch(&x);
}

/*
 * Route a request and answer it, from request_cb, or again from wake_cb
 * for one that was held at the per-file cap.
 */
static void
dispatch(struct ctx *x)
{
	struct http_srv *srv = x->srv;
	struct http_route rt;
	struct node *nd = NULL;
	int r;

	r = http_route(x->method, x->uri, strlen(x->uri), &rt);
	if (r < 0) {
		reply_status(x, http_status_for_errno(r));
		return;
	}
	if (rt.kind == HTTP_ROUTE_BOOT ||
	    rt.kind == HTTP_ROUTE_NODE_FIRSTBOOT ||
	    rt.kind == HTTP_ROUTE_NODE_CLOUDINIT ||
	    rt.kind == HTTP_ROUTE_NODE_SECRETS ||
	    rt.kind == HTTP_ROUTE_NODE_EVENTS ||
	    rt.kind == HTTP_ROUTE_NODE_REARM) {
		nd = nodes_find(srv->nodes, rt.mac);
		if (nd == NULL && rt.kind == HTTP_ROUTE_BOOT &&
		    srv->nb->cfg != NULL &&
		    srv->nb->cfg->dhcp.unknown_discover) {
			handle_discover(x, rt.mac);
			return;
		}
		if (nd == NULL) {
			reply_status(x, 404);
			return;
		}
	}
	switch (rt.kind) {
	case HTTP_ROUTE_FILE:
		handle_file(x, &rt);
		break;
	case HTTP_ROUTE_BOOT:
		handle_boot(x, nd);
		break;
	case HTTP_ROUTE_NODE_FIRSTBOOT:
	case HTTP_ROUTE_NODE_SECRETS:
		handle_secret(x, &rt, nd);
		break;
	case HTTP_ROUTE_NODE_CLOUDINIT:
		handle_payload(x, &rt, nd);
		break;
	case HTTP_ROUTE_NODE_EVENTS:
		handle_event(x, nd);
		break;
	case HTTP_ROUTE_NODE_REARM:
		handle_rearm(x, nd);
		break;
	case HTTP_ROUTE_NODES:
		handle_nodes(x);
		break;
	case HTTP_ROUTE_METRICS:
		handle_metrics(x);
		break;
	case HTTP_ROUTE_UI:
		handle_ui(x, &rt);
		break;
	case HTTP_ROUTE_CLUSTER:
		handle_cluster(x);
		break;
	case HTTP_ROUTE_SERVERS:
		handle_servers(x);
		break;
	case HTTP_ROUTE_EVENTS:
		handle_events(x);
		break;
	}
}

/* --- Start and stop ----------------------------------------------------- */

/*
 * Read the admin token from STATE/admin-token, creating it (0600, 32
 * random bytes in hex) when absent. The token is never logged.
 */
static int
load_token(struct http_srv *srv, const char *state_dir)
{
	char path[PATH_MAX], fresh[65];
	unsigned char rnd[32];
	struct stat st;
	char *data = NULL;
	size_t len = 0, i;
	int r;

	r = path_join(path, sizeof(path), state_dir, HTTP_ADMIN_TOKEN_FILE);
	if (r < 0)
		return r;
	r = read_file(path, HTTP_ADMIN_TOKEN_MAX, &data, &len);
	if (r == -ENOENT) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -errno;
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(fresh + 2 * i, 3, "%02x", rnd[i]);
		OPENSSL_cleanse(rnd, sizeof(rnd));
		r = mkdir_p(state_dir, 0700);
		if (r == 0)
			r = atomic_write(path, fresh, 64, 0600);
		if (r == 0) {
			memcpy(srv->token, fresh, 65);
			srv->token_len = 64;
			log_info("http: admin token created in %s", path);
		}
		OPENSSL_cleanse(fresh, sizeof(fresh));
		return r;
	}
	if (r < 0)
		return r;
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("http: %s is readable by others (mode %03o); it "
			 "should be 0600",
			 path, (unsigned)(st.st_mode & 0777));
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
			   data[len - 1] == ' '))
		len--;
	memcpy(srv->token, data, len);
	srv->token[len] = '\0';
	srv->token_len = len;
	OPENSSL_cleanse(data, len);
	free(data);
	return 0;
}

static int
setup_tls(struct http_srv *srv)
{
	const struct nb_config *cfg = srv->nb->cfg;
	SSL_CTX *ctx;

	if (cfg == NULL || cfg->cert == NULL || cfg->key == NULL) {
		log_warn("http: no certificate and key in the config; HTTPS "
			 "is off");
		return 0;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		unsigned long e = ERR_get_error();
		char msg[256];

		ERR_error_string_n(e, msg, sizeof(msg));
		log_warn("http: certificate %s or key %s: %s", cfg->cert,
			 cfg->key, msg);
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	srv->ssl = ctx;
	return 0;
}

static int
bind_port(struct http_srv *srv, struct http_port *hp, uint16_t port)
{
	char addr[IPV4_STR_LEN];
	struct evhttp_bound_socket *bs;

	hp->srv = srv;
	hp->http = evhttp_new(srv->nb->base);
	if (hp->http == NULL)
		return -ENOMEM;
	evhttp_set_allowed_methods(hp->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
						     EVHTTP_REQ_POST);
	evhttp_set_timeout(hp->http, (int)srv->lim.idle_timeout);
	evhttp_set_max_headers_size(hp->http, (ev_ssize_t)srv->lim.max_header);
	evhttp_set_max_body_size(hp->http, (ev_ssize_t)srv->lim.max_body);
	evhttp_set_default_content_type(hp->http, "text/plain");
	evhttp_set_bevcb(hp->http, bev_cb, hp);
	evhttp_set_gencb(hp->http, request_cb, hp);
	ipv4_format(srv->nb->listen_ip, addr);
	errno = 0;
	bs = evhttp_bind_socket_with_handle(hp->http, addr, port);
	if (bs == NULL) {
		int r = errno ? -errno : -EADDRINUSE;

		log_warn_r(r, "http: cannot listen on %s:%u%s", addr, port,
			   hp->tls ? " (HTTPS)" : "");
		return r;
	}
	log_info("http: listening on %s:%u%s", addr, port,
		 hp->tls ? " (HTTPS)" : "");
	return 0;
}

static int
open_dir(const char *dir, int *ret_fd)
{
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/* The daemon's node store, and the directories payloads come from. */
static int
open_payload_dirs(struct http_srv *srv)
{
	const struct nb_config *cfg = srv->nb->cfg;
	int r;

	srv->nodes = store_io_nodes(srv->nb);
	if (srv->nodes == NULL)
		return -EINVAL; /* the store service did not start */
	if (cfg == NULL)
		return 0;
	if (cfg->boot_dir != NULL) {
		r = open_dir(cfg->boot_dir, &srv->boot_fd);
		if (r < 0)
			log_warn_r(r, "http: %s", cfg->boot_dir);
	}
	if (cfg->nodes_dir != NULL) {
		r = open_dir(cfg->nodes_dir, &srv->nodes_fd);
		if (r < 0)
			log_warn_r(r, "http: %s", cfg->nodes_dir);
	}
	return 0;
}

int
http_io_start(struct netboot *nb)
{
	struct http_srv *srv;
	struct timeval tv = { HTTP_SWEEP_INTERVAL, 0 };
	int r;

	if (nb->http_port == 0 && nb->https_port == 0)
		return 0;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	nb->http = srv;
	srv->nb = nb;
	srv->lim = http_limits;
	srv->boot_fd = srv->nodes_fd = -1;
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->waiting);
	TAILQ_INIT(&srv->ready);
	srv->caps.max = nb->http_max_per_file;
	srv->wake = event_new(nb->base, -1, 0, wake_cb, srv);
	if (srv->wake == NULL)
		return -ENOMEM;
	r = open_payload_dirs(srv);
	if (r < 0)
		return r;
	srv->sse = sse_io_new(nb->base, &sse_limits, srv->lim.idle_timeout);
	if (srv->sse == NULL)
		return -ENOMEM;
	nodes_set_observer(srv->nodes, node_changed, srv);
	if (nb->state_dir != NULL) {
		r = load_token(srv, nb->state_dir);
		if (r < 0)
			log_warn_r(r,
				   "http: admin token in %s; re-arm is "
				   "refused without it",
				   nb->state_dir);
	}
	srv->sweep = event_new(nb->base, -1, EV_PERSIST, sweep_cb, srv);
	if (srv->sweep == NULL || event_add(srv->sweep, &tv) < 0)
		return -ENOMEM;
	if (nb->http_port != 0) {
		r = bind_port(srv, &srv->plain, nb->http_port);
		if (r < 0)
			return r;
	}
	if (nb->https_port != 0) {
		r = setup_tls(srv);
		if (r < 0)
			return r;
		if (srv->ssl != NULL) {
			srv->tls.tls = true;
			r = bind_port(srv, &srv->tls, nb->https_port);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/*
 * Stopping: the held requests leave their queues. Each is still on its
 * live connection (a connection that failed took its waiter with it in
 * conn_free), so evhttp_free frees it.
 */
static void
drop_waiters(struct http_srv *srv)
{
	struct conn *c;

	TAILQ_FOREACH(c, &srv->conns, link)
	waiter_drop(c);
}

void
http_io_stop(struct netboot *nb)
{
	struct http_srv *srv = nb->http;

	if (srv == NULL)
		return;
	/* The store outlives us: no more changes to the event streams. */
	if (srv->nodes != NULL)
		nodes_set_observer(srv->nodes, NULL, NULL);
	drop_waiters(srv);
	/* evhttp_free frees every connection, calling conn_closed_cb. */
	if (srv->plain.http != NULL)
		evhttp_free(srv->plain.http);
	if (srv->tls.http != NULL)
		evhttp_free(srv->tls.http);
	sse_io_free(srv->sse);
	while (!TAILQ_EMPTY(&srv->conns)) {
		struct conn *c = TAILQ_FIRST(&srv->conns);

		c->evcon = NULL;
		conn_free(c);
	}
	if (srv->sweep != NULL)
		event_free(srv->sweep);
	if (srv->wake != NULL)
		event_free(srv->wake);
	storm_caps_done(&srv->caps);
	SSL_CTX_free(srv->ssl);
	if (srv->boot_fd >= 0)
		close(srv->boot_fd);
	if (srv->nodes_fd >= 0)
		close(srv->nodes_fd);
	OPENSSL_cleanse(srv->token, sizeof(srv->token));
	free(srv);
	nb->http = NULL;
}
