/*
 * metrics.h - counters of the HTTP server and their rendering in the
 * Prometheus text exposition format (version 0.0.4) for GET /metrics.
 * Every name is prefixed metalboot_. Pure: the caller passes the TFTP and
 * DHCP counters it owns as samples.
 */
#ifndef MB_METRICS_H
#define MB_METRICS_H

#include "buf.h"
#include "nodes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_TEXT_MAX (1u << 20) /* bytes of one /metrics answer */

/* Statuses counted one by one; anything else is counted as "other". */
#define METRICS_CODES                                                          \
	{                                                                      \
		200, 206, 304, 400, 403, 404, 405, 410, 413, 414, 416, 500,    \
			503                                                    \
	}
#define METRICS_NCODES 14 /* the list above plus "other" */

struct http_metrics {
	uint64_t requests[METRICS_NCODES]; /* by METRICS_CODES index */
	uint64_t body_bytes;		   /* response body bytes queued */
	uint64_t connections;		   /* accepted, all time */
	uint64_t connections_open;	   /* gauge */
	uint64_t rejected_conn_limit;	   /* refused: total cap */
	uint64_t rejected_ip_limit;	   /* refused: per-address cap */
	uint64_t timeouts;		   /* closed by the request deadline */
	uint64_t events;		   /* agent events accepted */
	uint64_t payload_refused;	   /* 403 and 410 on payloads */
};

/* One extra sample, e.g. a TFTP counter: metalboot_NAME VALUE. */
struct metric_sample {
	const char *name; /* without the metalboot_ prefix */
	const char *help;
	bool gauge; /* false: counter */
	uint64_t value;
};

/* Count one response with status. */
void metrics_count(struct http_metrics *m, int status);

/*
 * Append the whole exposition: the HTTP counters, nodes per state
 * (states[NODE_STATE_COUNT], may be NULL) and nextra extra samples.
 * Returns 0, -E2BIG or -ENOMEM.
 */
int metrics_render(struct buf *out, const struct http_metrics *m,
		   const size_t *states, const struct metric_sample *extra,
		   size_t nextra);

#endif
