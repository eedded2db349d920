/*
 * http_bulk.c - file bodies sent on a worker loop (http_bulk.h).
 */
#include "http_bulk.h"

#include "workers.h"

#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <unistd.h>

struct http_bulk {
	struct netboot *nb;
	unsigned worker;
	struct http_bulk_req rq;
	struct event *ev; /* the worker's, until the end */
	struct nb_job job;
	bool counted; /* nb_worker_bulk started */
	off_t next;   /* the next byte of the file to send */
	uint64_t left, sent;
	int err;
};

/* Owner loop: the worker is done with b. */
static void
bulk_end(void *arg)
{
	struct http_bulk *b = arg;
	struct http_bulk_req rq = b->rq;
	int err = b->err;
	uint64_t sent = b->sent;

	close(rq.file);
	free(b);
	rq.done(rq.arg, err, sent);
}

/* Worker loop: stop watching the socket and tell the owner loop. */
static void
bulk_finish(struct http_bulk *b, int err)
{
	if (b->counted)
		nb_worker_bulk(b->nb, (int)b->worker, false);
	b->counted = false;
	if (b->ev != NULL)
		event_free(b->ev);
	b->ev = NULL;
	b->err = err;
	b->job.fn = bulk_end;
	b->job.arg = b;
	nb_post_job(b->nb, NB_OWNER, &b->job);
}

/* One chunk of the body. 1 when all is out, 0 to wait, or -errno. */
static int
send_body(struct http_bulk *b)
{
	size_t want =
		b->left < HTTP_BULK_CHUNK ? (size_t)b->left : HTTP_BULK_CHUNK;
	ssize_t n;

	if (b->left == 0)
		return 1;
	n = sendfile(b->rq.sock, b->rq.file, &b->next, want);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -EIO; /* the file shrank under us */
	b->left -= (uint64_t)n;
	b->sent += (uint64_t)n;
	return b->left == 0;
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct http_bulk *b = arg;
	int r;

	(void)fd;
	if (!(what & EV_WRITE)) {
		bulk_finish(b, -ETIMEDOUT); /* idle_s without progress */
		return;
	}
	r = send_body(b);
	if (r != 0)
		bulk_finish(b, r < 0 ? r : 0);
}

/* Worker loop: watch the socket. */
static void
bulk_begin(void *arg)
{
	struct http_bulk *b = arg;
	struct timeval idle = { (time_t)b->rq.idle_s, 0 };

	b->ev = event_new(nb_worker_base(b->nb, b->worker), b->rq.sock,
			  EV_WRITE | EV_PERSIST, on_writable, b);
	if (b->ev == NULL || event_priority_set(b->ev, NB_PRIO_BULK) < 0 ||
	    event_add(b->ev, b->rq.idle_s ? &idle : NULL) < 0) {
		bulk_finish(b, -ENOMEM);
		return;
	}
	nb_worker_bulk(b->nb, (int)b->worker, true);
	b->counted = true;
}

int
http_bulk_start(struct netboot *nb, unsigned worker,
		const struct http_bulk_req *rq, struct http_bulk **ret)
{
	struct http_bulk *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	b->nb = nb;
	b->worker = worker;
	b->rq = *rq;
	b->next = (off_t)rq->offset;
	b->left = rq->len;
	b->job.fn = bulk_begin;
	b->job.arg = b;
	*ret = b;
	nb_post_job(nb, (int)worker, &b->job);
	return 0;
}

void
http_bulk_cancel(struct http_bulk *b)
{
	if (b == NULL)
		return;
	if (b->ev != NULL)
		event_free(b->ev);
	close(b->rq.file);
	free(b);
}
