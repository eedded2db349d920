/* sse.c - server-sent event framing and stream bookkeeping; pure. */
#include "sse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
sse_limits_default(struct sse_limits *lim)
{
	lim->max_streams = SSE_STREAMS_MAX;
	lim->max_per_ip = SSE_STREAMS_PER_IP_MAX;
	lim->lifetime_ms = SSE_LIFETIME_MS;
	lim->keepalive_ms = SSE_KEEPALIVE_MS;
	lim->max_pending = SSE_PENDING_MAX;
}

static bool
name_ok(const char *name)
{
	size_t i, n = strnlen(name, SSE_EVENT_NAME_MAX + 1);

	if (n == 0 || n > SSE_EVENT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

int
sse_frame(struct buf *out, const char *name, const char *data, size_t len)
{
	size_t i = 0;
	int r;

	if (!name_ok(name) || (len > 0 && memchr(data, '\0', len) != NULL))
		return -EINVAL;
	r = buf_printf(out, "event: %s\n", name);
	/* Every line, the last one too, even when empty. */
	while (r == 0) {
		size_t j = i;

		while (j < len && data[j] != '\r' && data[j] != '\n')
			j++;
		r = buf_puts(out, "data: ");
		if (r == 0 && j > i)
			r = buf_append(out, data + i, j - i);
		if (r == 0)
			r = buf_puts(out, "\n");
		if (j == len)
			break;
		/* CR LF is one line break. */
		i = j + (data[j] == '\r' && j + 1 < len && data[j + 1] == '\n'
				 ? 2
				 : 1);
	}
	if (r == 0)
		r = buf_puts(out, "\n");
	return r;
}

int
sse_comment(struct buf *out, const char *text)
{
	if (strpbrk(text, "\r\n") != NULL)
		return -EINVAL;
	return buf_printf(out, ": %s\n\n", text);
}

int
sse_retry(struct buf *out, unsigned ms)
{
	return buf_printf(out, "retry: %u\n\n", ms);
}

struct sse_hub *
sse_hub_new(const struct sse_limits *lim)
{
	struct sse_hub *hub = calloc(1, sizeof(*hub));

	if (hub == NULL)
		return NULL;
	hub->lim = *lim;
	hub->v = calloc(lim->max_streams ? lim->max_streams : 1,
			sizeof(*hub->v));
	if (hub->v == NULL) {
		free(hub);
		return NULL;
	}
	return hub;
}

struct sse_hub *
sse_hub_free(struct sse_hub *hub)
{
	size_t i;

	if (hub == NULL)
		return NULL;
	for (i = 0; i < hub->n; i++)
		free(hub->v[i]);
	free(hub->v);
	free(hub);
	return NULL;
}

size_t
sse_hub_count_ip(const struct sse_hub *hub, uint32_t ip)
{
	size_t i, n = 0;

	for (i = 0; i < hub->n; i++)
		if (hub->v[i]->ip == ip)
			n++;
	return n;
}

int
sse_hub_add(struct sse_hub *hub, uint32_t ip, int64_t now_ms, void *io,
	    struct sse_stream **ret)
{
	struct sse_stream *s;

	if (hub->n >= hub->lim.max_streams)
		return -EMFILE;
	if (sse_hub_count_ip(hub, ip) >= hub->lim.max_per_ip)
		return -EUSERS;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->ip = ip;
	s->opened_ms = now_ms;
	s->last_ms = now_ms;
	s->io = io;
	hub->v[hub->n++] = s;
	*ret = s;
	return 0;
}

void
sse_hub_remove(struct sse_hub *hub, struct sse_stream *s)
{
	size_t i;

	for (i = 0; i < hub->n; i++) {
		if (hub->v[i] == s) {
			hub->v[i] = hub->v[--hub->n];
			hub->v[hub->n] = NULL;
			free(s);
			return;
		}
	}
}

enum sse_action
sse_due(const struct sse_limits *lim, const struct sse_stream *s,
	int64_t now_ms)
{
	if (now_ms - s->opened_ms >= lim->lifetime_ms)
		return SSE_END;
	if (now_ms - s->last_ms >= lim->keepalive_ms)
		return SSE_PING;
	return SSE_KEEP;
}

bool
sse_can_queue(const struct sse_limits *lim, size_t pending, size_t len)
{
	if (pending == 0)
		return true;
	return pending <= lim->max_pending && len <= lim->max_pending - pending;
}
