/*
 * store_io.c - the node store's lifecycle and persistence on the loop
 * (see store_io.h).
 */
#include "store_io.h"

#include "config.h"
#include "dhcp_policy.h"
#include "etcd.h"
#include "leases.h"
#include "log.h"
#include "metrics.h"
#include "nodes.h"
#include "store_etcd.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
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
		uint32_t lease_ip; /* an address claim: what it writes */
		struct etcd_lease lease;
	} claims[STORE_CLAIMS_MAX];
	size_t nclaims;
	uint64_t next_tag;
	/* The shared copy of the DHCP leases, sorted by address. */
	struct shared_lease *leases;
	size_t nleases, leases_cap;
	size_t next_lease_slot;
	store_lease_fn lease_fn;
	void *lease_arg;
	char id[ETCD_SERVER_ID_MAX]; /* this server's registration */
};

/* What etcd says of one address, and its place in the write queue. */
struct shared_lease {
	uint32_t ip;
	struct etcd_lease l;
	size_t slot; /* etcd_client_put slot: 2 * n + 1 (nodes: 2 * i) */
};

static void etcd_tick(struct store *st);

/* A server's DHCP segment as registered: dhcp.subnet, "" without one. */
static void
store_segment(const struct nb_config *cfg, char *buf, size_t n)
{
	char a[IPV4_STR_LEN];

	buf[0] = '\0';
	if (cfg->dhcp.has_subnet) {
		ipv4_format(cfg->dhcp.subnet.addr, a);
		snprintf(buf, n, "%s/%u", a, cfg->dhcp.subnet.prefix);
	}
}
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
			r = etcd_client_put_node(st->etcd, 2 * i, key, text,
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

/* The shared lease of ip, or NULL (bsearch on the sorted array). */
static struct shared_lease *
lease_find(const struct store *st, uint32_t ip, size_t *ret_pos)
{
	size_t lo = 0, hi = st->nleases;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->leases[mid].ip < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ret_pos != NULL)
		*ret_pos = lo;
	return lo < st->nleases && st->leases[lo].ip == ip ? &st->leases[lo]
							   : NULL;
}

/* The shared lease of ip, made (absent, slot numbered) when new. */
static struct shared_lease *
lease_get(struct store *st, uint32_t ip)
{
	struct shared_lease *sl;
	size_t pos;

	sl = lease_find(st, ip, &pos);
	if (sl != NULL)
		return sl;
	if (st->nleases == st->leases_cap) {
		size_t n = st->leases_cap ? st->leases_cap * 2 : 64;
		struct shared_lease *v;

		if (n > LEASES_MAX)
			return NULL;
		v = realloc(st->leases, n * sizeof(*v));
		if (v == NULL)
			return NULL;
		st->leases = v;
		st->leases_cap = n;
	}
	memmove(&st->leases[pos + 1], &st->leases[pos],
		(st->nleases - pos) * sizeof(*sl));
	st->nleases++;
	sl = &st->leases[pos];
	memset(sl, 0, sizeof(*sl));
	sl->ip = ip;
	sl->slot = 2 * st->next_lease_slot++ + 1;
	return sl;
}

/*
 * A lease record from the load, the watch or a lost claim: into the
 * shared copy and to the DHCP service. This server's own records are
 * skipped once loaded (its copy is newer than their echo). True when
 * res is a lease key, whatever became of it.
 */
static bool
etcd_lease_record(struct store *st, const struct etcd_result *res)
{
	struct shared_lease *sl;
	struct etcd_lease l;
	uint32_t ip;

	if (etcd_key_lease_ip(st->nb->cfg->store.prefix, res->key,
			      strlen(res->key), &ip) < 0)
		return false;
	if (etcd_lease_parse(res->value, res->value_len, &l) < 0) {
		if (st->etcd_bad++ == 0)
			log_warn("store: etcd lease %s refused: not a lease "
				 "record",
				 res->key);
		return true;
	}
	if (st->etcd_loaded && strcmp(l.server, st->id) == 0)
		return true;
	sl = lease_get(st, ip);
	if (sl == NULL)
		return true;
	sl->l = l;
	etcd_client_note_rev(st->etcd, sl->slot, res->mod_revision);
	if (st->lease_fn != NULL)
		st->lease_fn(st->lease_arg, ip, l.mac, l.state, l.expires);
	return true;
}

/* A record from the load or the watch: the latest change wins. */
static void
etcd_record(struct store *st, const struct etcd_result *res)
{
	uint8_t mac[MAC_LEN];
	struct node *nd;
	int r;

	if (res->deleted)
		return; /* records are never deleted by servers */
	if (etcd_lease_record(st, res))
		return;
	r = etcd_key_node_mac(st->nb->cfg->store.prefix, res->key,
			      strlen(res->key), mac);
	if (r == -EINVAL)
		return; /* a server, a served mark: not a node's state */
	if (r == 0)
		r = nodes_apply_record(st->nodes, mac, res->value,
				       res->value_len, true, NULL);
	nd = nodes_find(st->nodes, mac);
	if (nd != NULL) /* the next write of it compares with this */
		etcd_client_note_rev(st->etcd, 2 * (size_t)(nd - st->nodes->v),
				     res->mod_revision);
	if (r < 0 && r != -EALREADY) {
		if (st->etcd_bad++ == 0)
			log_warn_r(r, "store: etcd record %s refused",
				   res->key);
	}
}

/* A won address claim: etcd holds l for ip now. */
static void
lease_won(struct store *st, uint32_t ip, const struct etcd_lease *l)
{
	struct shared_lease *sl = lease_get(st, ip);

	if (sl != NULL)
		sl->l = *l;
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

		if (r == 0 && st->claims[i].lease_ip != 0)
			lease_won(st, st->claims[i].lease_ip,
				  &st->claims[i].lease);
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

/*
 * This server's registration: "HOST-LISTEN" and what it serves: its
 * address, its DHCP mode, segment (dhcp.subnet) and failover role.
 */
static int
etcd_identity(struct store *st, char *id, size_t n, char **ret_info)
{
	const struct nb_config *cfg = st->nb->cfg;
	char host[HOST_NAME_MAX_LEN + 1] = "", ip[IPV4_STR_LEN], seg[48] = "";
	json_t *o;
	size_t i;

	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "netboot");
	host[32] = '\0';
	ipv4_format(cfg->listen, ip);
	snprintf(id, n, "%s-%s", host, ip);
	for (i = 0; id[i] != '\0'; i++)
		if (strchr("/ ", id[i]) != NULL)
			id[i] = '_';
	store_segment(cfg, seg, sizeof(seg));
	o = json_pack("{s:s,s:s,s:i,s:I,s:s,s:s,s:s}", "hostname", host,
		      "listen", ip, "http_port", (int)st->nb->http_port,
		      "started", (json_int_t)nodes_now_ms(), "dhcp",
		      dhcp_mode_name(cfg->dhcp.mode), "segment", seg,
		      "failover", cfg->dhcp.standby ? "standby" : "none");
	*ret_info = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return *ret_info != NULL ? 0 : -ENOMEM;
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
	snprintf(st->id, sizeof(st->id), "%s", id);
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
	free(st->leases);
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
		{ "store_etcd_batches_total",
		  "Transactions of node records sent to etcd (up to 64 each).",
		  false, e.batches },
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

/*
 * Record the claim just queued with tag st->next_tag (an address claim
 * of ip writing *l, or a served mark: ip 0); its tag.
 */
static uint64_t
claim_add(struct store *st, store_claim_fn fn, void *arg, uint32_t ip,
	  const struct etcd_lease *l)
{
	st->claims[st->nclaims].tag = st->next_tag;
	st->claims[st->nclaims].fn = fn;
	st->claims[st->nclaims].arg = arg;
	st->claims[st->nclaims].lease_ip = ip;
	if (l != NULL)
		st->claims[st->nclaims].lease = *l;
	st->nclaims++;
	return st->next_tag;
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
	*ret_tag = claim_add(st, fn, arg, 0, NULL);
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

/* --- Shared DHCP leases ------------------------------------------------ */

bool
store_io_leases_shared(const struct netboot *nb)
{
	const struct store *st = nb->store;

	return st != NULL && st->etcd != NULL;
}

bool
store_io_lease_held(const struct netboot *nb, uint32_t ip, const uint8_t mac[6])
{
	const struct store *st = nb->store;
	const struct shared_lease *sl;

	if (st == NULL || st->etcd == NULL)
		return true;
	sl = lease_find(st, ip, NULL);
	return sl != NULL && sl->l.state[0] != '\0' &&
	       memcmp(sl->l.mac, mac, MAC_LEN) == 0;
}

void
store_io_set_lease_observer(struct netboot *nb, store_lease_fn fn, void *arg)
{
	struct store *st = nb->store;

	if (st == NULL)
		return;
	st->lease_fn = fn;
	st->lease_arg = arg;
}

/* The record of mac holding ip into *l, and its key and JSON value. */
static int
lease_value(struct store *st, const uint8_t mac[6], uint32_t ip,
	    const char *state, int64_t expires, struct etcd_lease *l,
	    char key[ETCD_KEY_MAX], char **ret_value)
{
	int r;

	memset(l, 0, sizeof(*l));
	memcpy(l->mac, mac, MAC_LEN);
	snprintf(l->state, sizeof(l->state), "%s", state);
	l->expires = expires;
	snprintf(l->server, sizeof(l->server), "%s", st->id);
	r = etcd_key_lease(st->nb->cfg->store.prefix, ip, key, ETCD_KEY_MAX);
	if (r < 0)
		return r;
	*ret_value = etcd_lease_format(l);
	return *ret_value != NULL ? 0 : -ENOMEM;
}

int
store_io_lease_claim(struct netboot *nb, const uint8_t mac[6], uint32_t ip,
		     const char *state, int64_t expires, store_claim_fn fn,
		     void *arg, uint64_t *ret_tag)
{
	struct store *st = nb->store;
	char key[ETCD_KEY_MAX], *value = NULL;
	struct shared_lease *sl;
	struct etcd_lease l;
	int r;

	if (st == NULL || st->etcd == NULL)
		return 1;
	if (st->nclaims == STORE_CLAIMS_MAX)
		return -ENOSPC;
	sl = lease_get(st, ip);
	r = sl != NULL
		    ? lease_value(st, mac, ip, state, expires, &l, key, &value)
		    : -ENOMEM;
	if (r == 0)
		r = etcd_client_claim_lease(st->etcd, key, value, mac, sl->slot,
					    ++st->next_tag);
	free(value);
	if (r < 0)
		return r;
	*ret_tag = claim_add(st, fn, arg, ip, &l);
	return 0;
}

int
store_io_lease_put(struct netboot *nb, const uint8_t mac[6], uint32_t ip,
		   const char *state, int64_t expires)
{
	struct store *st = nb->store;
	struct shared_lease *sl;
	char key[ETCD_KEY_MAX], *value = NULL;
	struct etcd_lease l;
	int r;

	if (st == NULL || st->etcd == NULL)
		return 0;
	sl = lease_get(st, ip);
	if (sl == NULL)
		return -ENOMEM;
	if (memcmp(sl->l.mac, mac, MAC_LEN) == 0 &&
	    strcmp(sl->l.state, state) == 0 && sl->l.expires == expires)
		return 0; /* etcd has it already */
	r = lease_value(st, mac, ip, state, expires, &l, key, &value);
	if (r == 0)
		r = etcd_client_put(st->etcd, sl->slot, key, value,
				    strlen(value), mac);
	free(value);
	if (r == 0)
		sl->l = l;
	return r;
}

int
store_io_dhcp_primary(struct netboot *nb, char *ret_id, size_t n)
{
	struct store *st = nb->store;
	char seg[48];

	if (st == NULL || st->etcd == NULL)
		return -ENOENT;
	store_segment(nb->cfg, seg, sizeof(seg));
	return etcd_client_primary(st->etcd, seg, ret_id, n);
}

bool
store_io_shared_up(const struct netboot *nb)
{
	const struct store *st = nb->store;

	return st == NULL || st->etcd == NULL || st->etcd_up;
}
