/*
 * store_io.c - the node store's lifecycle and persistence on the loop
 * (see store_io.h).
 */
#include "store_io.h"

#include "config.h"
#include "etcd.h"
#include "log.h"
#include "metrics.h"
#include "nodes.h"
#include "store_etcd.h"

#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct store {
	struct netboot *nb; /* borrowed */
	struct nodes *nodes;
	struct event *flush; /* nodes_flush_some every interval */
	bool flush_failing;  /* warned about a failing flush */
	bool writer_tried;   /* nodes_writer_start was called */
	/* store.etcd: the shared copy (NULL: files only). */
	struct etcd_client *etcd;
	struct event *etcd_ev; /* the client's wake-up pipe */
	bool etcd_loaded;      /* its first load arrived: writes may go */
	bool etcd_up;	       /* as last logged */
	uint64_t etcd_bad;     /* records refused */
	/* Served-once claims under way (store_io_claim_secret). */
	struct {
		uint64_t tag;
		store_claim_fn fn;
		void *arg;
	} claims[STORE_CLAIMS_MAX];
	size_t nclaims;
	uint64_t next_tag;
};

static void etcd_tick(struct store *st);
static void etcd_start(struct store *st);

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
		if (st->etcd != NULL)
			etcd_start(st);
	}
	r = nodes_flush_some(st->nodes, NODES_FLUSH_MAX);
	if (r < 0 && !st->flush_failing)
		log_warn_r(r, "store: cannot save node states in %s",
			   st->nb->state_dir ? st->nb->state_dir : "?");
	else if (r == 0 && st->flush_failing)
		log_info("store: node states saved again");
	st->flush_failing = r < 0;
	if (st->etcd != NULL)
		etcd_tick(st);
}

/* --- store.etcd ------------------------------------------------------ */

/* Hand every node changed since the last tick to the etcd writer. */
static void
etcd_hand_over(struct store *st)
{
	struct nodes *ns = st->nodes;
	char key[ETCD_KEY_MAX];
	char *text = NULL;
	size_t i;
	int r;

	for (i = 0; i < ns->n; i++) {
		struct node *nd = &ns->v[i];

		if (!nd->remote_dirty)
			continue;
		r = etcd_key_node(st->nb->cfg->store.prefix, nd->mac, key,
				  sizeof(key));
		if (r == 0)
			r = nodes_record(nd, &text);
		if (r == 0)
			r = etcd_client_put_node(st->etcd, i, key, text,
						 strlen(text));
		free(text);
		text = NULL;
		if (r < 0) {
			log_warn_r(r, "store: node %s not queued for etcd",
				   nd->name);
			return; /* stays dirty: the next tick */
		}
		nd->remote_dirty = false;
	}
}

/* Log etcd's reachability when it changes; queue the changed nodes. */
static void
etcd_tick(struct store *st)
{
	struct etcd_client_stats s;

	if (st->etcd_loaded)
		etcd_hand_over(st);
	etcd_client_stats(st->etcd, &s);
	if (s.up && !st->etcd_up)
		log_info("store: etcd reachable; %zu writes queued", s.queued);
	else if (!s.up && st->etcd_up)
		log_warn("store: etcd unreachable: serving from the local "
			 "copy, writes queued (%zu) until it is back",
			 s.queued);
	st->etcd_up = s.up;
}

/* A record from the load or the watch: the latest change wins. */
static void
etcd_record(struct store *st, const struct etcd_result *res)
{
	uint8_t mac[MAC_LEN];
	int r;

	if (res->deleted)
		return; /* records are never deleted by servers */
	r = etcd_key_node_mac(st->nb->cfg->store.prefix, res->key,
			      strlen(res->key), mac);
	if (r == 0)
		r = nodes_apply_record(st->nodes, mac, res->value,
				       res->value_len, true, NULL);
	if (r < 0 && r != -EALREADY) {
		if (st->etcd_bad++ == 0)
			log_warn_r(r, "store: etcd record %s refused",
				   res->key);
	}
}

/* A claim's outcome: to its requester, unless cancelled. */
static void
etcd_claimed(struct store *st, uint64_t tag, int r)
{
	size_t i;

	for (i = 0; i < st->nclaims; i++) {
		if (st->claims[i].tag != tag)
			continue;
		store_claim_fn fn = st->claims[i].fn;
		void *arg = st->claims[i].arg;

		st->claims[i] = st->claims[--st->nclaims];
		fn(arg, r);
		return;
	}
}

static void
etcd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = arg;
	struct etcd_result *res, *all;

	(void)fd;
	(void)what;
	all = etcd_client_collect(st->etcd);
	for (res = all; res != NULL; res = res->next) {
		if (res->kind == ETCD_RES_RECORD)
			etcd_record(st, res);
		else if (res->kind == ETCD_RES_CLAIMED)
			etcd_claimed(st, res->tag, res->r);
		else if (res->kind == ETCD_RES_LOADED && !st->etcd_loaded) {
			st->etcd_loaded = true;
			log_info("store: %zu nodes after loading etcd",
				 st->nodes->n);
		}
	}
	etcd_result_free(all);
}

/* This server's registration: "HOST-LISTEN" and what it serves. */
static int
etcd_identity(struct store *st, char *id, size_t n, char **ret_info)
{
	const struct nb_config *cfg = st->nb->cfg;
	char host[HOST_NAME_MAX_LEN + 1] = "", ip[IPV4_STR_LEN];
	size_t i;

	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "netboot");
	ipv4_format(cfg->listen, ip);
	snprintf(id, n, "%.32s-%s", host, ip);
	for (i = 0; id[i] != '\0'; i++)
		if (strchr("/ ", id[i]) != NULL)
			id[i] = '_';
	*ret_info = NULL;
	return asprintf(ret_info,
			"{\"hostname\":\"%.32s\",\"listen\":\"%s\","
			"\"http_port\":%u,\"started\":%lld}",
			host, ip, (unsigned)st->nb->http_port,
			(long long)nodes_now_ms()) < 0
		       ? -ENOMEM
		       : 0;
}

/* Create the client (files read now, before the privilege drop). */
static int
etcd_open(struct store *st)
{
	const char *bad = NULL;
	char id[ETCD_SERVER_ID_MAX], *info = NULL;
	int r;

	r = etcd_identity(st, id, sizeof(id), &info);
	if (r < 0)
		return r;
	r = etcd_client_new(st->nb->cfg, id, info, &st->etcd, &bad);
	free(info);
	if (r < 0) {
		log_warn_r(r, "store: etcd: %s", bad != NULL ? bad : "client");
		return r == -ENOMEM ? r : -EINVAL;
	}
	st->nodes->remote = true;
	for (size_t i = 0; i < st->nodes->n; i++)
		st->nodes->v[i].remote_dirty = true; /* unless etcd's newer */
	st->etcd_ev = event_new(st->nb->base, etcd_client_wake_fd(st->etcd),
				EV_READ | EV_PERSIST, etcd_cb, st);
	if (st->etcd_ev == NULL || event_add(st->etcd_ev, NULL) < 0)
		return -ENOMEM;
	log_info("store: etcd at %s and %zu more, prefix %s, as %s",
		 st->nb->cfg->store.endpoints[0],
		 st->nb->cfg->store.nendpoints - 1, st->nb->cfg->store.prefix,
		 id);
	return 0;
}

/*
 * The client's threads, on the first tick: after the privilege drop,
 * whose credentials, Landlock domain and seccomp filter apply per thread
 * (threads made before it would keep root and no sandbox).
 */
static void
etcd_start(struct store *st)
{
	int r = etcd_client_start(st->etcd);

	if (r < 0)
		log_warn_r(r, "store: etcd: no client threads; nothing is "
			      "shared");
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
	r = build_nodes(st);
	if (r < 0)
		return r;
	if (nb->cfg != NULL && nb->cfg->store.etcd) {
		r = etcd_open(st);
		if (r < 0)
			return r;
	}
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
	if (st->etcd_ev != NULL)
		event_free(st->etcd_ev);
	/* What the writer did not send is in the local files. */
	etcd_client_free(st->etcd);
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
	const struct store *st = nb->store;
	const struct nodes *ns = store_io_nodes(nb);
	struct etcd_client_stats e = { 0 };
	bool etcd = st != NULL && st->etcd != NULL;

	if (etcd)
		etcd_client_stats(st->etcd, &e);
	const struct metric_sample s[] = {
		{ "node_state_writes_total",
		  "Node state files written (batched per interval).", false,
		  ns != NULL ? ns->writes : 0 },
		{ "node_marks_dropped_total",
		  "Boot milestones refused by the per-node rate limit.", false,
		  ns != NULL ? ns->marks_dropped : 0 },
		{ "store_etcd_up",
		  "1 when the last request to etcd got an answer (store.etcd).",
		  true, e.up ? 1 : 0 },
		{ "store_etcd_queued_writes",
		  "Node records waiting to be written to etcd.", true,
		  e.queued },
		{ "store_etcd_writes_total", "Node records written to etcd.",
		  false, e.writes },
		{ "store_etcd_conflicts_total",
		  "Node records another server had changed (written again).",
		  false, e.conflicts },
		{ "store_etcd_errors_total",
		  "Requests to etcd that failed (unreachable, refused).", false,
		  e.errors },
		{ "store_etcd_records_total",
		  "Node records received from etcd (load and watch).", false,
		  e.records },
		{ "store_etcd_claims_won_total",
		  "Secret payloads claimed in etcd by this server (served).",
		  false, e.claims_won },
		{ "store_etcd_claims_lost_total",
		  "Secret payload claims refused: served already (410).", false,
		  e.claims_lost },
		{ "store_etcd_claims_failed_total",
		  "Secret payload claims without an answer from etcd (503).",
		  false, e.claims_failed },
	};
	size_t i, n = etcd ? sizeof(s) / sizeof(s[0]) : 2;

	for (i = 0; i < n && i < cap; i++)
		out[i] = s[i];
	return i;
}

int
store_io_claim_secret(struct netboot *nb, const uint8_t mac[6],
		      int64_t armed_at, const char *payload, store_claim_fn fn,
		      void *arg, uint64_t *ret_tag)
{
	struct store *st = nb->store;
	char key[ETCD_KEY_MAX], *value = NULL, id[ETCD_SERVER_ID_MAX];
	int r;

	if (st == NULL || st->etcd == NULL)
		return 1;
	if (st->nclaims == STORE_CLAIMS_MAX)
		return -ENOSPC;
	r = etcd_key_served(nb->cfg->store.prefix, mac, armed_at, payload, key,
			    sizeof(key));
	if (r < 0)
		return r;
	r = etcd_identity(st, id, sizeof(id), &value);
	if (r == 0)
		r = etcd_client_claim(st->etcd, key, value, ++st->next_tag);
	free(value);
	if (r < 0)
		return r;
	st->claims[st->nclaims].tag = st->next_tag;
	st->claims[st->nclaims].fn = fn;
	st->claims[st->nclaims].arg = arg;
	st->nclaims++;
	*ret_tag = st->next_tag;
	return 0;
}

void
store_io_claim_cancel(struct netboot *nb, uint64_t tag)
{
	struct store *st = nb->store;
	size_t i;

	for (i = 0; st != NULL && i < st->nclaims; i++) {
		if (st->claims[i].tag == tag) {
			st->claims[i] = st->claims[--st->nclaims];
			return;
		}
	}
}

int
store_io_servers_json(const struct netboot *nb, char **ret_text)
{
	const struct store *st = nb->store;

	if (st == NULL || st->etcd == NULL)
		return -ENOENT;
	return etcd_client_servers_json(st->etcd, ret_text);
}
