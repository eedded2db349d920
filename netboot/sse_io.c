/* sse_io.c - the event streams of GET /v1/events on evhttp. */
#include "sse_io.h"

#include "log.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bytes a client may send on a stream before we stop reading it. */
#define SSE_READ_MAX 4096

struct sse_limits sse_limits = {
	.max_streams = SSE_STREAMS_MAX,
	.max_per_ip = SSE_STREAMS_PER_IP_MAX,
	.lifetime_ms = SSE_LIFETIME_MS,
	.keepalive_ms = SSE_KEEPALIVE_MS,
	.max_pending = SSE_PENDING_MAX,
};

struct sse_io_stream {
	struct sse_io *io;
	struct evhttp_request *req; /* evhttp's; ours to end */
	struct sse_stream *hs;	    /* the hub's record */
	struct sse_io_stream **slot;
};

struct sse_io {
	struct sse_hub *hub;
	struct event *tick;
	struct evbuffer *tmp;	     /* one chunk on its way */
	struct sse_io_stream **drop; /* max_streams: streams to close */
	unsigned write_timeout_s;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Forget st: out of the hub, out of its owner's slot, freed. */
static void
forget(struct sse_io_stream *st)
{
	if (st->slot != NULL)
		*st->slot = NULL;
	sse_hub_remove(st->io->hub, st->hs);
	free(st);
}

/* End st cleanly: the last chunk, then evhttp closes the connection. */
static void
end_stream(struct sse_io_stream *st)
{
	struct evhttp_request *req = st->req;

	forget(st);
	evhttp_send_reply_end(req);
}

/*
 * Close st at once (a reader too slow to keep): freeing the connection
 * calls its close callback, and so sse_io_gone, which forgets st.
 */
static void
drop_stream(struct sse_io_stream *st)
{
	struct evhttp_connection *evcon =
		evhttp_request_get_connection(st->req);

	if (evcon == NULL) {
		end_stream(st); /* frees the orphaned request */
		return;
	}
	evhttp_connection_free(evcon);
}

static size_t
pending(const struct sse_io_stream *st)
{
	struct evhttp_connection *evcon =
		evhttp_request_get_connection(st->req);
	struct bufferevent *bev;

	if (evcon == NULL)
		return 0;
	bev = evhttp_connection_get_bufferevent(evcon);
	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/*
 * Queue len bytes on st. False when the reader is too slow (nothing
 * queued; the caller drops it).
 */
static bool
send_bytes(struct sse_io_stream *st, const void *data, size_t len, int64_t now)
{
	struct sse_io *io = st->io;

	if (!sse_can_queue(&io->hub->lim, pending(st), len))
		return false;
	if (evbuffer_add(io->tmp, data, len) < 0) {
		evbuffer_drain(io->tmp, evbuffer_get_length(io->tmp));
		return false;
	}
	/* Moves the bytes (chunk-framed) to the connection's output. */
	evhttp_send_reply_chunk(st->req, io->tmp);
	evbuffer_drain(io->tmp, evbuffer_get_length(io->tmp));
	st->hs->last_ms = now;
	return true;
}

/* Close the streams collected in io->drop (n of them). */
static void
drop_collected(struct sse_io *io, size_t n, const char *why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		log_info("http: event stream dropped: %s", why);
		drop_stream(io->drop[i]);
	}
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char ping[] = ": keep-alive\n\n";
	struct sse_io *io = arg;
	int64_t now = mono_ms();
	size_t i = 0, ndrop = 0;

	(void)fd;
	(void)what;
	while (i < io->hub->n) {
		struct sse_io_stream *st = io->hub->v[i]->io;

		switch (sse_due(&io->hub->lim, st->hs, now)) {
		case SSE_END:
			end_stream(st); /* moves the last stream to i */
			continue;
		case SSE_PING:
			if (!send_bytes(st, ping, sizeof(ping) - 1, now))
				io->drop[ndrop++] = st;
			break;
		case SSE_KEEP:
			break;
		}
		i++;
	}
	drop_collected(io, ndrop, "the reader fell behind");
}

struct sse_io *
sse_io_new(struct event_base *base, const struct sse_limits *lim,
	   unsigned write_timeout_s)
{
	struct timeval tv = { SSE_TICK_MS / 1000, (SSE_TICK_MS % 1000) * 1000 };
	struct sse_io *io = calloc(1, sizeof(*io));

	if (io == NULL)
		return NULL;
	io->write_timeout_s = write_timeout_s;
	io->hub = sse_hub_new(lim);
	io->tmp = evbuffer_new();
	io->drop = calloc(lim->max_streams ? lim->max_streams : 1,
			  sizeof(*io->drop));
	io->tick = event_new(base, -1, EV_PERSIST, tick_cb, io);
	if (io->hub == NULL || io->tmp == NULL || io->drop == NULL ||
	    io->tick == NULL || event_add(io->tick, &tv) < 0) {
		sse_io_free(io);
		return NULL;
	}
	return io;
}

void
sse_io_free(struct sse_io *io)
{
	if (io == NULL)
		return;
	while (io->hub != NULL && io->hub->n > 0)
		forget(io->hub->v[0]->io);
	if (io->tick != NULL)
		event_free(io->tick);
	if (io->tmp != NULL)
		evbuffer_free(io->tmp);
	free(io->drop);
	sse_hub_free(io->hub);
	free(io);
}

/*
 * A stream's socket: reads stop after SSE_READ_MAX bytes (a client has
 * nothing to send once the stream runs), and the read timeout, which
 * would otherwise end every stream after the idle timeout, becomes a
 * backstop past the lifetime; writes keep the idle timeout.
 */
static void
tune_socket(struct sse_io *io, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev =
		evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	int64_t backstop = io->hub->lim.lifetime_ms + 2 * SSE_TICK_MS;
	struct timeval rd = { (time_t)(backstop / 1000),
			      (suseconds_t)(backstop % 1000) * 1000 };
	struct timeval wr = { (time_t)io->write_timeout_s, 0 };

	if (bev == NULL)
		return;
	bufferevent_setwatermark(bev, EV_READ, 0, SSE_READ_MAX);
	bufferevent_set_timeouts(bev, &rd, &wr);
}

int
sse_io_open(struct sse_io *io, struct evhttp_request *req, uint32_t ip,
	    const struct buf *hello, struct sse_io_stream **slot)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct sse_io_stream *st = calloc(1, sizeof(*st));
	int64_t now = mono_ms();
	int r;

	if (st == NULL)
		return -ENOMEM;
	r = sse_hub_add(io->hub, ip, now, st, &st->hs);
	if (r < 0) {
		free(st);
		return r;
	}
	st->io = io;
	st->req = req;
	st->slot = slot;
	*slot = st;
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	/* One stream per connection: it is never reused after the end. */
	evhttp_add_header(h, "Connection", "close");
	evhttp_send_reply_start(req, 200, "OK");
	tune_socket(io, req);
	if (hello != NULL && hello->len > 0)
		send_bytes(st, hello->data, hello->len, now);
	return 0;
}

void
sse_io_gone(struct sse_io_stream *st, bool req_alive)
{
	struct evhttp_request *req = NULL;

	if (st == NULL)
		return;
	req = st->req;
	forget(st);
	/*
	 * When the connection failed under the stream (timeout, reset),
	 * evhttp detached the request and left it to us: ending it frees
	 * it. Otherwise evhttp frees it with the connection.
	 */
	if (req_alive && evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

void
sse_io_publish(struct sse_io *io, const char *name, const char *data,
	       size_t len)
{
	struct buf b;
	int64_t now;
	size_t i, ndrop = 0;

	if (io == NULL || io->hub->n == 0)
		return;
	/* Worst case: every byte a line break, each "data: \n". */
	buf_init(&b, len * 7 + 64);
	if (sse_frame(&b, name, data, len) < 0) {
		log_warn("http: event %s could not be framed", name);
		buf_done(&b);
		return;
	}
	now = mono_ms();
	for (i = 0; i < io->hub->n; i++) {
		struct sse_io_stream *st = io->hub->v[i]->io;

		if (!send_bytes(st, b.data, b.len, now))
			io->drop[ndrop++] = st;
	}
	buf_done(&b);
	drop_collected(io, ndrop, "the reader fell behind");
}

size_t
sse_io_count(const struct sse_io *io)
{
	return io ? io->hub->n : 0;
}
