/*
 * http_bulk.h - an HTTP response's file body sent on a worker loop
 * (workers.h). The owner loop decides the request, and evhttp sends the
 * status line, the headers and the body's first bytes; once they are
 * out, the owner stops the connection's bufferevent and hands the socket
 * and the rest of the file's range here. The worker sends it with
 * sendfile, at NB_PRIO_BULK and at most HTTP_BULK_CHUNK a callback, and
 * posts the outcome back to the owner loop, which gives the connection
 * back to evhttp. The socket is the worker's alone meanwhile: the owner
 * touches neither it nor the bufferevent until done runs.
 */
#ifndef MB_NB_HTTP_BULK_H
#define MB_NB_HTTP_BULK_H

#include "server.h"

#include <stdint.h>

#define HTTP_BULK_CHUNK (1u << 20) /* bytes per sendfile call */

struct http_bulk;

/*
 * Owner loop: the body is sent (err 0), or failed with -errno (the
 * client left, or made no progress for idle seconds). sent counts the
 * body's bytes only. The bulk is freed after done returns.
 */
typedef void (*http_bulk_done_fn)(void *arg, int err, uint64_t sent);

struct http_bulk_req {
	int sock;		/* the connection's (borrowed) */
	int file;		/* taken over: closed when the bulk ends */
	uint64_t offset, len;	/* the range of file */
	unsigned idle_s;	/* no progress for this long: -ETIMEDOUT */
	http_bulk_done_fn done; /* on the owner loop */
	void *arg;
};

/*
 * Owner loop: start sending on worker `worker` (< nb->nworkers). 0 with
 * *ret set (the handle for http_bulk_cancel), or -ENOMEM with nothing
 * taken over.
 */
int http_bulk_start(struct netboot *nb, unsigned worker,
		    const struct http_bulk_req *rq, struct http_bulk **ret);

/*
 * Stop: the workers are joined (nb_workers_stop) and b's done has not
 * run. Frees b's event and file without calling done. NULL-safe.
 */
void http_bulk_cancel(struct http_bulk *b);

#endif
