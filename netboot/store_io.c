/*
 * store_io.c - the node store's lifecycle and persistence on the loop
 * (see store_io.h).
 */
#include "store_io.h"

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "nodes.h"

#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>

struct store {
	struct netboot *nb; /* borrowed */
	struct nodes *nodes;
	struct event *flush; /* nodes_flush_some every interval */
	bool flush_failing;  /* warned about a failing flush */
	bool writer_tried;   /* nodes_writer_start was called */
};

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = arg;
	int r;

	(void)fd;
	(void)what;
	/*
	 * The writes and fsyncs go on a thread of their own, started here,
	 * on the loop, after the daemon dropped its privileges (they apply
	 * per thread: one made before the drop would keep them).
	 */
	if (!st->writer_tried) {
		st->writer_tried = true;
		r = nodes_writer_start(st->nodes);
		if (r < 0)
			log_warn_r(r, "store: no writer thread; node states "
				      "are written on the loop");
	}
	r = nodes_flush_some(st->nodes, NODES_FLUSH_MAX);
	if (r < 0 && !st->flush_failing)
		log_warn_r(r, "store: cannot save node states in %s",
			   st->nb->state_dir ? st->nb->state_dir : "?");
	else if (r == 0 && st->flush_failing)
		log_info("store: node states saved again");
	st->flush_failing = r < 0;
}

/* Every node of netboot.yaml, then what STATE_DIR/nodes remembers. */
static int
build_nodes(struct store *st)
{
	const struct nb_config *cfg = st->nb->cfg;
	char bad[MAC_STR_LEN] = "";
	size_t i;
	int r;

	st->nodes = nodes_new(st->nb->state_dir);
	if (st->nodes == NULL)
		return -ENOMEM;
	if (cfg == NULL)
		return 0;
	nodes_set_secret_window(st->nodes, (int64_t)cfg->secret_window * 1000);
	for (i = 0; i < cfg->nnodes; i++) {
		r = nodes_add(st->nodes, cfg->nodes[i].name, cfg->nodes[i].mac,
			      cfg->nodes[i].ip, role_name(cfg->nodes[i].role));
		if (r < 0) {
			log_warn_r(r, "store: node %s", cfg->nodes[i].name);
			return r;
		}
	}
	r = nodes_load(st->nodes, bad);
	if (r < 0) {
		log_warn_r(r,
			   "store: state of node %s in %s/nodes cannot be "
			   "read (move it aside to start afresh)",
			   bad, st->nb->state_dir);
		return r == -ENOMEM ? r : -EINVAL;
	}
	return 0;
}

int
store_io_start(struct netboot *nb)
{
	struct timeval tv = { NODES_FLUSH_INTERVAL_MS / 1000,
			      (NODES_FLUSH_INTERVAL_MS % 1000) * 1000 };
	struct store *st = calloc(1, sizeof(*st));
	int r;

	if (st == NULL)
		return -ENOMEM;
	nb->store = st;
	st->nb = nb;
	if (nb->cfg != NULL && nb->cfg->store.etcd) {
		/* Never files in place of the shared store asked for. */
		log_warn("store: %s: store.etcd: this build has no etcd "
			 "backend",
			 nb->cfg->file);
		return -ENOTSUP;
	}
	r = build_nodes(st);
	if (r < 0)
		return r;
	st->flush = event_new(nb->base, -1, EV_PERSIST, flush_cb, st);
	if (st->flush == NULL || event_add(st->flush, &tv) < 0)
		return -ENOMEM;
	return nb_add_metric_source(nb, store_io_metric_samples);
}

void
store_io_stop(struct netboot *nb)
{
	struct store *st = nb->store;

	if (st == NULL)
		return;
	if (st->flush != NULL)
		event_free(st->flush);
	/* A clean shutdown writes what the last interval changed. */
	if (st->nodes != NULL) {
		int r = nodes_flush(st->nodes);

		if (r < 0)
			log_warn_r(r, "store: node states in %s not saved",
				   nb->state_dir ? nb->state_dir : "?");
	}
	nodes_free(st->nodes);
	free(st);
	nb->store = NULL;
}

struct nodes *
store_io_nodes(const struct netboot *nb)
{
	const struct store *st = nb->store;

	return st != NULL ? st->nodes : NULL;
}

size_t
store_io_metric_samples(const struct netboot *nb, struct metric_sample *out,
			size_t cap)
{
	const struct nodes *ns = store_io_nodes(nb);
	const struct metric_sample s[] = {
		{ "node_state_writes_total",
		  "Node state files written (batched per interval).", false,
		  ns != NULL ? ns->writes : 0 },
		{ "node_marks_dropped_total",
		  "Boot milestones refused by the per-node rate limit.", false,
		  ns != NULL ? ns->marks_dropped : 0 },
	};
	size_t i, n = sizeof(s) / sizeof(s[0]);

	for (i = 0; i < n && i < cap; i++)
		out[i] = s[i];
	return i;
}
