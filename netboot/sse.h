/*
 * sse.h - the pure half of GET /v1/events, the fleet page's server-sent
 * event stream (HTML Living Standard, "Server-sent events"): framing of
 * events and comments, and the bookkeeping of open streams with their
 * limits (how many in all and per client address, how long one lives,
 * when it needs a keep-alive, when a reader is too slow to keep).
 * No sockets, no clocks, no logging: sse_io.c does the I/O.
 */
#ifndef MB_SSE_H
#define MB_SSE_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Limits. A stream is an ordinary HTTP connection, so it also counts
 * against the connection caps of http.h; these bound streams further.
 */
#define SSE_STREAMS_MAX	       64	  /* open streams, all clients */
#define SSE_STREAMS_PER_IP_MAX 4	  /* open streams from one address */
#define SSE_LIFETIME_MS	       300000	  /* a stream ends after 5 minutes */
#define SSE_KEEPALIVE_MS       15000	  /* a comment after 15 s of silence */
#define SSE_PENDING_MAX	       (1u << 20) /* unsent bytes before a drop */
#define SSE_RETRY_MS	       2000	  /* the client's reconnection delay */
#define SSE_EVENT_NAME_MAX     32	  /* bytes in an event name */

struct sse_limits {
	unsigned max_streams; /* SSE_STREAMS_MAX */
	unsigned max_per_ip;  /* SSE_STREAMS_PER_IP_MAX */
	int64_t lifetime_ms;  /* SSE_LIFETIME_MS */
	int64_t keepalive_ms; /* SSE_KEEPALIVE_MS */
	size_t max_pending;   /* SSE_PENDING_MAX */
};

/* The defaults above. */
void sse_limits_default(struct sse_limits *lim);

/*
 * Append one event: "event: NAME\n", then "data: LINE\n" for every line
 * of data (split at CR LF, CR or LF, as the client splits them), then an
 * empty line. name is 1..SSE_EVENT_NAME_MAX bytes of [a-z0-9_-]; data is
 * len bytes without NUL. An empty data gives one empty "data:" line.
 * Returns 0, -EINVAL for a bad name or a NUL in data, or buf_append's
 * -E2BIG or -ENOMEM (then out may hold part of the event: callers frame
 * into a buffer of their own).
 */
int sse_frame(struct buf *out, const char *name, const char *data, size_t len);

/*
 * Append a comment line ": TEXT\n\n" (a keep-alive; clients ignore it).
 * text must hold no CR, LF or NUL: -EINVAL.
 */
int sse_comment(struct buf *out, const char *text);

/* Append "retry: MS\n\n", the client's reconnection delay. */
int sse_retry(struct buf *out, unsigned ms);

/* One open stream, as the hub sees it. */
struct sse_stream {
	uint32_t ip;	   /* client address, host order; 0 when not IPv4 */
	int64_t opened_ms; /* monotonic */
	int64_t last_ms;   /* monotonic time of the last bytes queued */
	void *io;	   /* the I/O side's handle (borrowed) */
};

/* The open streams; fixed capacity, max_streams. */
struct sse_hub {
	struct sse_limits lim;
	struct sse_stream **v; /* owned array of owned streams */
	size_t n;
};

/* A hub with these limits. NULL only when out of memory. */
struct sse_hub *sse_hub_new(const struct sse_limits *lim);

/* Free the hub and every stream still in it; NULL is a no-op. NULL. */
struct sse_hub *sse_hub_free(struct sse_hub *hub);

/*
 * Admit a stream from ip at now_ms. Returns 0 and *ret (owned by the hub
 * until sse_hub_remove), -EMFILE when max_streams are open, -EUSERS when
 * max_per_ip are open from ip (ip 0 counts as one address), -ENOMEM.
 */
int sse_hub_add(struct sse_hub *hub, uint32_t ip, int64_t now_ms, void *io,
		struct sse_stream **ret);

/* Remove and free a stream of the hub; one not in it is left alone. */
void sse_hub_remove(struct sse_hub *hub, struct sse_stream *s);

/* Streams open from ip. */
size_t sse_hub_count_ip(const struct sse_hub *hub, uint32_t ip);

enum sse_action {
	SSE_KEEP, /* nothing to do */
	SSE_PING, /* silent too long: send a keep-alive comment */
	SSE_END,  /* lived its lifetime: end the stream */
};

/* What the periodic check does with s at now_ms. */
enum sse_action sse_due(const struct sse_limits *lim,
			const struct sse_stream *s, int64_t now_ms);

/*
 * May len more bytes be queued on a stream whose socket has pending
 * bytes not yet sent? False when the reader is too slow (drop it). An
 * empty queue always takes the bytes, however many.
 */
bool sse_can_queue(const struct sse_limits *lim, size_t pending, size_t len);

#endif
