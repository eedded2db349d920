/* metrics.c - Prometheus text rendering of the server's counters. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>

static const int codes[] = METRICS_CODES;

void
metrics_count(struct http_metrics *m, int status)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (codes[i] == status) {
			m->requests[i]++;
			return;
		}
	}
	m->requests[METRICS_NCODES - 1]++;
}

static int
one(struct buf *out, const char *name, const char *help, bool gauge, uint64_t v)
{
	return buf_printf(out,
			  "# HELP metalboot_%s %s\n# TYPE metalboot_%s %s\n"
			  "metalboot_%s %" PRIu64 "\n",
			  name, help, name, gauge ? "gauge" : "counter", name,
			  v);
}

int
metrics_render(struct buf *out, const struct http_metrics *m,
	       const size_t *states, const struct metric_sample *extra,
	       size_t nextra)
{
	size_t i;
	int r;

	r = buf_puts(out, "# HELP metalboot_http_requests_total HTTP "
			  "responses sent, by status code.\n"
			  "# TYPE metalboot_http_requests_total counter\n");
	for (i = 0; r == 0 && i < METRICS_NCODES; i++) {
		if (i < sizeof(codes) / sizeof(codes[0]))
			r = buf_printf(out,
				       "metalboot_http_requests_total{code=\""
				       "%d\"} %" PRIu64 "\n",
				       codes[i], m->requests[i]);
		else
			r = buf_printf(out,
				       "metalboot_http_requests_total{code=\""
				       "other\"} %" PRIu64 "\n",
				       m->requests[i]);
	}
	if (r == 0)
		r = one(out, "http_response_body_bytes_total",
			"Response body bytes queued for sending.", false,
			m->body_bytes);
	if (r == 0)
		r = one(out, "http_connections_total",
			"HTTP connections accepted.", false, m->connections);
	if (r == 0)
		r = one(out, "http_connections_open",
			"HTTP connections open now.", true,
			m->connections_open);
	if (r == 0)
		r = buf_printf(out,
			       "# HELP metalboot_http_connections_rejected_"
			       "total Connections refused by a limit.\n"
			       "# TYPE metalboot_http_connections_rejected_"
			       "total counter\n"
			       "metalboot_http_connections_rejected_total{"
			       "limit=\"total\"} %" PRIu64 "\n"
			       "metalboot_http_connections_rejected_total{"
			       "limit=\"per_ip\"} %" PRIu64 "\n",
			       m->rejected_conn_limit, m->rejected_ip_limit);
	if (r == 0)
		r = one(out, "http_request_timeouts_total",
			"Connections closed because a request took too long "
			"to arrive.",
			false, m->timeouts);
	if (r == 0)
		r = one(out, "node_events_total", "Agent events accepted.",
			false, m->events);
	if (r == 0)
		r = one(out, "payload_refused_total",
			"Node payload requests refused (403 or 410).", false,
			m->payload_refused);
	if (r == 0 && states != NULL) {
		r = buf_puts(out, "# HELP metalboot_nodes Nodes per state.\n"
				  "# TYPE metalboot_nodes gauge\n");
		for (i = 0; r == 0 && i < NODE_STATE_COUNT; i++)
			r = buf_printf(
				out, "metalboot_nodes{state=\"%s\"} %zu\n",
				node_state_name((enum node_state)i), states[i]);
	}
	for (i = 0; r == 0 && i < nextra; i++)
		r = one(out, extra[i].name, extra[i].help, extra[i].gauge,
			extra[i].value);
	return r;
}
