/*
 * sse_io.h - GET /v1/events on evhttp: each stream is a chunked 200
 * text/event-stream reply that stays open, gets every published event,
 * a keep-alive comment after SSE_KEEPALIVE_MS of silence, and ends after
 * SSE_LIFETIME_MS (the browser reconnects by itself after SSE_RETRY_MS).
 * A reader that leaves more than SSE_PENDING_MAX bytes unsent is dropped.
 * The decisions are sse.c's; this file only moves bytes.
 *
 * The HTTP side (http_io.c) admits the request, frames the opening
 * events, and tells us when the connection under a stream goes away
 * (sse_io_gone from its close callback): evhttp does not tell the
 * request's owner when a streaming reply's connection fails.
 */
#ifndef MB_SSE_IO_H
#define MB_SSE_IO_H

#include "buf.h"
#include "sse.h"

#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_TICK_MS 1000 /* how often lifetimes and silences are checked */

struct sse_io;
struct sse_io_stream;

/* The stream limits in force; each defaults to its constant in sse.h. */
extern struct sse_limits sse_limits;

/*
 * The stream service on base. write_timeout_s is the HTTP idle timeout:
 * a stream's socket that takes no bytes for that long is closed by
 * evhttp. NULL only when out of memory.
 */
struct sse_io *sse_io_new(struct event_base *base, const struct sse_limits *lim,
			  unsigned write_timeout_s);

/*
 * Free the service. Streams still open are forgotten (their connections
 * are evhttp's to free: call this after evhttp_free). NULL is a no-op.
 */
void sse_io_free(struct sse_io *io);

/*
 * Turn req into a stream from client address ip (host order): admit it,
 * send the 200 header and first the bytes of hello (framed events).
 * *slot is where the caller keeps the stream for sse_io_gone; it is set
 * here and cleared when the stream ends on its own. Returns 0, or
 * -EMFILE / -EUSERS when over a stream cap (answer 503), -ENOMEM, and
 * then req is still the caller's to answer.
 */
int sse_io_open(struct sse_io *io, struct evhttp_request *req, uint32_t ip,
		const struct buf *hello, struct sse_io_stream **slot);

/*
 * The connection under st is being freed. req_alive: its request may
 * still be looked at (false when the connection vanished unseen).
 */
void sse_io_gone(struct sse_io_stream *st, bool req_alive);

/* Send one event (sse_frame) to every open stream. */
void sse_io_publish(struct sse_io *io, const char *name, const char *data,
		    size_t len);

/* Streams open. */
size_t sse_io_count(const struct sse_io *io);

#endif
