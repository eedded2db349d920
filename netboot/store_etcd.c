/*
 * store_etcd.c - the etcd backend's threads and HTTPS requests (see
 * store_etcd.h). The messages are etcd.c's.
 */
#include "store_etcd.h"

#include "buf.h"
#include "config.h"
#include "etcd.h"
#include "fsutil.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ETCD_PEM_MAX (1u << 20) /* bytes of the CA, certificate or key */

/* A node's place in the write queue. */
struct slot {
	char *key;     /* owned; NULL until first queued */
	char *pending; /* owned: the record not yet sent, or NULL */
	size_t pending_len;
	bool queued; /* in the FIFO */
	int64_t rev; /* the key's mod_revision as last seen (0: unknown) */
	bool rev_known;
	bool lease; /* a lease record of mac (see lease_cas) */
	uint8_t mac[MAC_LEN];
};

/* A served-once claim waiting for the writer. */
struct claim {
	char *key, *value; /* owned */
	uint64_t tag;
	struct timespec deadline; /* CLOCK_MONOTONIC */
	bool lease; /* an address for mac, not a served-once mark */
	uint8_t mac[MAC_LEN];
	size_t slot; /* lease: the slot of its later writes */
	struct claim *next;
};

struct etcd_client {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool stop;
	char *const *endpoints; /* borrowed from the config */
	size_t nendpoints;
	const char *prefix;
	char *ca, *cert, *key; /* PEM, owned (key wiped at free) */
	size_t ca_len, cert_len, key_len;
	char server_id[ETCD_SERVER_ID_MAX];
	char *info;
	int wake[2];

	struct slot *slots;
	size_t nslots;
	size_t *fifo; /* ring of slot indexes */
	size_t head, count, cap;
	/* The records the writer took from the FIFO, not yet in etcd. */
	struct inflight {
		size_t slot;
		char *key, *val; /* owned */
		size_t len;
		bool lease;
		uint8_t mac[MAC_LEN];
	} in[ETCD_BATCH_MAX];
	size_t nin;

	struct claim *claims, **claims_tail; /* FIFO */

	bool need_load, loaded;
	int64_t load_rev;
	struct etcd_result *res_head, *res_tail;

	int64_t lease;
	struct timespec lease_due;
	char *servers_json;	    /* the last list of live servers (owned) */
	struct curl_slist *resolve; /* endpoints named by host, pinned */
	/* The same, what a standby needs of it (nlive < 0: never listed). */
	struct live_server {
		char id[ETCD_SERVER_ID_MAX];
		char segment[48];
		bool primary; /* serves DHCP there, not as a standby */
	} live[ETCD_SERVERS_MAX];
	int nlive;
	bool standby; /* dhcp.failover: standby: list every second */
	struct timespec servers_due;

	struct etcd_client_stats st;
	size_t fails; /* the writer's requests failed in a row */
	pthread_t writer, watcher;
	bool writer_on, watcher_on;
};

/* A thread's connection: its curl handle and the endpoint in use. */
struct conn {
	struct etcd_client *c;
	CURL *h;
	size_t ep;
	struct buf resp;
	/* Watch streams only: the line being read, and what to do with it. */
	struct buf line;
	int (*on_line)(struct conn *k, const char *s, size_t len);
	int64_t rev;
};

/* --- Results and the wake-up pipe ----------------------------------- */

void
etcd_result_free(struct etcd_result *res)
{
	while (res != NULL) {
		struct etcd_result *next = res->next;

		free(res->key);
		free(res->value);
		free(res);
		res = next;
	}
}

/* Append res (taken) to the results and wake the loop. Under mu. */
static void
push_locked(struct etcd_client *c, struct etcd_result *res)
{
	char b = 1;
	ssize_t w;

	res->next = NULL;
	if (c->res_tail != NULL)
		c->res_tail->next = res;
	else
		c->res_head = res;
	c->res_tail = res;
	w = write(c->wake[1], &b, 1); /* full pipe: a wake-up is pending */
	(void)w;
}

static int
push_record(struct etcd_client *c, const struct etcd_kv *kv, bool deleted)
{
	struct etcd_result *res = calloc(1, sizeof(*res));

	if (res == NULL)
		return -ENOMEM;
	res->kind = ETCD_RES_RECORD;
	res->key = strdup(kv->key);
	res->value = malloc(kv->value_len + 1);
	if (res->key == NULL || res->value == NULL) {
		etcd_result_free(res);
		return -ENOMEM;
	}
	memcpy(res->value, kv->value, kv->value_len + 1);
	res->value_len = kv->value_len;
	res->mod_revision = kv->mod_revision;
	res->deleted = deleted;
	pthread_mutex_lock(&c->mu);
	c->st.records++;
	push_locked(c, res);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static int
push_simple(struct etcd_client *c, enum etcd_result_kind kind, size_t slot)
{
	struct etcd_result *res = calloc(1, sizeof(*res));

	if (res == NULL)
		return -ENOMEM;
	res->kind = kind;
	res->slot = slot;
	pthread_mutex_lock(&c->mu);
	push_locked(c, res);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

struct etcd_result *
etcd_client_collect(struct etcd_client *c)
{
	struct etcd_result *res;
	char drain[64];

	while (read(c->wake[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&c->mu);
	res = c->res_head;
	c->res_head = c->res_tail = NULL;
	pthread_mutex_unlock(&c->mu);
	return res;
}

int
etcd_client_wake_fd(const struct etcd_client *c)
{
	return c->wake[0];
}

/* --- HTTPS requests --------------------------------------------------- */

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct conn *k = arg;
	size_t len = size * n, i, start = 0;

	if (k->on_line == NULL)
		return buf_append(&k->resp, p, len) < 0 ? 0 : len;
	/* A watch stream: one JSON message a line. */
	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (buf_append(&k->line, p + start, i - start) < 0 ||
		    k->on_line(k, k->line.data ? k->line.data : "",
			       k->line.len) < 0)
			return 0;
		k->line.len = 0;
		start = i + 1;
	}
	return buf_append(&k->line, p + start, len - start) < 0 ? 0 : len;
}

/* Abort a transfer (a watch above all) when the client stops. */
static int
progress_cb(void *arg, curl_off_t a, curl_off_t b, curl_off_t c2, curl_off_t d)
{
	struct conn *k = arg;

	(void)a;
	(void)b;
	(void)c2;
	(void)d;
	return atomic_load(&k->c->stop) ? 1 : 0;
}

static void
set_blob(CURL *h, CURLoption opt, char *data, size_t len)
{
	struct curl_blob b = { data, len, CURL_BLOB_COPY };

	curl_easy_setopt(h, opt, &b);
}

static int
conn_init(struct conn *k, struct etcd_client *c)
{
	memset(k, 0, sizeof(*k));
	k->c = c;
	buf_init(&k->resp, ETCD_RESPONSE_MAX);
	buf_init(&k->line, ETCD_RESPONSE_MAX);
	k->h = curl_easy_init();
	if (k->h == NULL)
		return -ENOMEM;
	set_blob(k->h, CURLOPT_CAINFO_BLOB, c->ca, c->ca_len);
	set_blob(k->h, CURLOPT_SSLCERT_BLOB, c->cert, c->cert_len);
	curl_easy_setopt(k->h, CURLOPT_SSLCERTTYPE, "PEM");
	set_blob(k->h, CURLOPT_SSLKEY_BLOB, c->key, c->key_len);
	curl_easy_setopt(k->h, CURLOPT_SSLKEYTYPE, "PEM");
	curl_easy_setopt(k->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)ETCD_CONNECT_MS);
	curl_easy_setopt(k->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(k->h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(k->h, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(k->h, CURLOPT_WRITEDATA, k);
	curl_easy_setopt(k->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(k->h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(k->h, CURLOPT_XFERINFODATA, k);
	curl_easy_setopt(k->h, CURLOPT_PROTOCOLS_STR, "https");
	if (c->resolve != NULL)
		curl_easy_setopt(k->h, CURLOPT_RESOLVE, c->resolve);
	return 0;
}

static void
conn_done(struct conn *k)
{
	if (k->h != NULL)
		curl_easy_cleanup(k->h);
	buf_done(&k->resp);
	buf_done(&k->line);
}

/*
 * Note whether etcd answered; a failure moves to the next endpoint. Only
 * the writer's requests say whether etcd is up: a watch ends when its
 * member goes, while the others still answer.
 */
static void
note_outcome(struct conn *k, bool ok)
{
	pthread_mutex_lock(&k->c->mu);
	if (k->on_line == NULL) {
		/* Down once every endpoint failed in a row: one member
		 * gone is not etcd gone. */
		k->c->fails = ok ? 0 : k->c->fails + 1;
		if (ok || k->c->fails >= k->c->nendpoints)
			k->c->st.up = ok;
	}
	if (!ok)
		k->c->st.errors++;
	pthread_mutex_unlock(&k->c->mu);
	if (!ok)
		k->ep = (k->ep + 1) % k->c->nendpoints;
}

/*
 * POST body to path (/v3/...) of the current endpoint; the reply in
 * k->resp (NUL-terminated). timeout_ms 0: none (a watch). 0, -EIO when
 * etcd did not answer 200 (next endpoint), -ECANCELED when stopping.
 */
static int
post(struct conn *k, const char *path, const char *body, long timeout_ms)
{
	struct curl_slist *hdr = NULL;
	char url[NB_CONFIG_ETCD_URL_MAX + 32];
	long status = 0;
	CURLcode cr;

	snprintf(url, sizeof(url), "%s%s", k->c->endpoints[k->ep], path);
	k->resp.len = 0;
	k->line.len = 0;
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(k->h, CURLOPT_URL, url);
	curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(k->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(k->h, CURLOPT_TIMEOUT_MS, timeout_ms);
	cr = curl_easy_perform(k->h);
	curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr);
	if (atomic_load(&k->c->stop))
		return -ECANCELED;
	if (cr == CURLE_OK)
		curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &status);
	note_outcome(k, cr == CURLE_OK && status == 200);
	if (cr != CURLE_OK || status != 200 || buf_append(&k->resp, "", 1) < 0)
		return -EIO;
	k->resp.len--;
	return 0;
}

/* post() with a request built by etcd.c (taken; NULL: out of memory). */
static int
post_take(struct conn *k, const char *path, char *body)
{
	int r;

	if (body == NULL)
		return -ENOMEM;
	r = post(k, path, body, ETCD_TIMEOUT_MS);
	free(body);
	return r;
}

/* Sleep up to ms, or until the client stops. */
static void
pause_ms(struct etcd_client *c, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	if (!atomic_load(&c->stop))
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	pthread_mutex_unlock(&c->mu);
}

/* --- The writer: load, node records, registration --------------------- */

static int
do_load(struct conn *k)
{
	struct etcd_client *c = k->c;
	char dir[ETCD_KEY_MAX];
	struct etcd_kvs kvs;
	size_t i;
	int r;

	r = etcd_key_root(c->prefix, dir, sizeof(dir));
	if (r == 0)
		r = post_take(k, "/v3/kv/range", etcd_req_range_prefix(dir));
	if (r == 0)
		r = etcd_parse_range(k->resp.data, k->resp.len, &kvs);
	if (r < 0)
		return r;
	for (i = 0; i < kvs.n && r == 0; i++)
		r = push_record(c, &kvs.v[i], false);
	if (r == 0)
		r = push_simple(c, ETCD_RES_LOADED, 0);
	pthread_mutex_lock(&c->mu);
	if (r == 0) {
		c->loaded = true;
		c->need_load = false;
		c->load_rev = kvs.revision;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	etcd_kvs_done(&kvs);
	return r;
}

/* Move the head of the FIFO into in[nin]. Under mu. */
static void
take_one_locked(struct etcd_client *c)
{
	struct inflight *f = &c->in[c->nin++];
	struct slot *s;

	f->slot = c->fifo[c->head];
	c->head = (c->head + 1) % c->cap;
	c->count--;
	s = &c->slots[f->slot];
	s->queued = false;
	f->val = s->pending;
	f->len = s->pending_len;
	f->key = s->key;
	s->pending = NULL;
	s->key = NULL;
	f->lease = s->lease;
	memcpy(f->mac, s->mac, MAC_LEN);
}

/*
 * Take the records at the head of the queue, unless some taken before
 * have not reached etcd yet (they go first: the order is kept): up to
 * ETCD_BATCH_MAX and ETCD_BATCH_BYTES, written in one transaction; a
 * lease record joins only at the head or when its revision is known
 * (then a compare on it is enough: the holder is the one we saw). Under
 * mu.
 */
static void
take_locked(struct etcd_client *c)
{
	size_t bytes;

	if (c->nin > 0)
		return;
	take_one_locked(c);
	bytes = c->in[0].len;
	while (c->count > 0 && c->nin < ETCD_BATCH_MAX) {
		const struct slot *s = &c->slots[c->fifo[c->head]];

		if ((s->lease && s->rev == 0) ||
		    bytes + s->pending_len > ETCD_BATCH_BYTES)
			break;
		bytes += s->pending_len;
		take_one_locked(c);
	}
}

/*
 * The records in[i0, i0 + n), in one transaction of compare-and-swaps on
 * the revisions last seen. -EAGAIN: a compare failed; every key's revision is
 * learned (a changed one counts as a conflict) for the next try.
 */
static int
cas_batch(struct conn *k, size_t i0, size_t n)
{
	struct etcd_client *c = k->c;
	struct etcd_write w[ETCD_BATCH_MAX];
	int64_t revs[ETCD_BATCH_MAX];
	const struct inflight *in = c->in + i0;
	bool won = false;
	size_t i;
	int r;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < n; i++) {
		w[i].key = in[i].key;
		w[i].value = in[i].val;
		w[i].len = in[i].len;
		w[i].mod_revision = c->slots[in[i].slot].rev;
	}
	pthread_mutex_unlock(&c->mu);
	r = post_take(k, "/v3/kv/txn", etcd_req_cas_batch(w, n));
	if (r == 0)
		r = etcd_parse_txn_batch(k->resp.data, k->resp.len, n, &won,
					 revs);
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < n; i++) {
		struct slot *s = &c->slots[in[i].slot];

		if (!won && s->rev_known && revs[i] != s->rev)
			c->st.conflicts++;
		s->rev = revs[i];
		s->rev_known = true;
	}
	if (won)
		c->st.writes += n;
	c->st.batches++;
	pthread_mutex_unlock(&c->mu);
	return won ? 0 : -EAGAIN;
}

/*
 * Write a lease record of mac to key by compare-and-swap from *rev (its
 * mod_revision as last seen, 0: absent), replacing the holder only when
 * it is mac or its lease has expired (etcd_lease_claimable). 0 (written,
 * *rev the new revision), -EADDRINUSE (another machine holds it: its kv
 * into *holder, owned), -EAGAIN (lost too often) or a request's error.
 */
static int
lease_cas(struct conn *k, const char *key, const char *val, size_t len,
	  const uint8_t mac[MAC_LEN], int64_t *rev, struct etcd_kv *holder)
{
	struct etcd_lease l;
	int tries, r;
	bool won;

	for (tries = 0; tries < 8; tries++) {
		r = post_take(k, "/v3/kv/txn",
			      etcd_req_cas(key, val, len, *rev));
		if (r == 0)
			r = etcd_parse_txn_kv(k->resp.data, k->resp.len, &won,
					      rev, holder);
		if (r < 0 || won)
			return r;
		if (holder->key == NULL)
			continue; /* deleted meanwhile: create it */
		if (etcd_lease_parse(holder->value, holder->value_len, &l) ==
			    0 &&
		    etcd_lease_claimable(&l, mac, (int64_t)time(NULL))) {
			etcd_kv_done(holder);
			continue;
		}
		return -EADDRINUSE;
	}
	return -EAGAIN;
}

/* A lease slot's write; a holder that wins is told to the loop. */
static int
write_lease(struct conn *k, size_t i)
{
	size_t slot = k->c->in[i].slot;
	struct etcd_client *c = k->c;
	struct etcd_kv holder = { 0 };
	int64_t rev;
	bool lost;
	int r;

	pthread_mutex_lock(&c->mu);
	rev = c->slots[slot].rev;
	pthread_mutex_unlock(&c->mu);
	r = lease_cas(k, c->in[0].key, c->in[0].val, c->in[0].len, c->in[0].mac,
		      &rev, &holder);
	lost = r == -EADDRINUSE;
	if (lost)
		r = push_record(c, &holder, false);
	etcd_kv_done(&holder);
	pthread_mutex_lock(&c->mu);
	c->slots[slot].rev = rev;
	c->slots[slot].rev_known = true;
	if (r == 0 && !lost)
		c->st.writes++;
	else if (r == 0)
		c->st.conflicts++; /* dropped: another machine holds it */
	pthread_mutex_unlock(&c->mu);
	return r == -EAGAIN ? -EIO : r;
}

/* One record alone: a lease by its holder rule, a node by its revision. */
static int
write_one(struct conn *k, size_t i)
{
	int r = -EAGAIN, tries;

	if (k->c->in[i].lease)
		return write_lease(k, i);
	for (tries = 0; tries < 8 && r == -EAGAIN; tries++)
		r = cas_batch(k, i, 1);
	return r;
}

/*
 * The records taken: together; when a compare fails, node records only
 * are sent together again on the revisions learned (the latest writer
 * wins), and a batch holding a lease record goes one by one (a lease is
 * never written over another machine's).
 */
static int
write_taken(struct conn *k, size_t n)
{
	bool leases = false;
	size_t i;
	int r = -EAGAIN, tries;

	for (i = 0; i < n; i++)
		leases = leases || k->c->in[i].lease;
	if (n == 1)
		return write_one(k, 0);
	for (tries = 0; tries < (leases ? 1 : 8) && r == -EAGAIN; tries++)
		r = cas_batch(k, 0, n);
	for (i = 0; i < n && r == -EAGAIN && leases; i++) {
		r = write_one(k, i);
		if (r == 0 && i + 1 < n)
			r = -EAGAIN; /* on to the next one */
	}
	return r == -EAGAIN ? -EIO : r;
}

/* Write the next records; on error they stay the next ones. */
static int
do_write(struct conn *k)
{
	struct etcd_client *c = k->c;
	size_t i, n;
	int r;

	pthread_mutex_lock(&c->mu);
	take_locked(c);
	n = c->nin;
	pthread_mutex_unlock(&c->mu);
	/* Only this thread touches in[] while nin > 0. */
	r = write_taken(k, n);
	if (r < 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		r = push_simple(c, ETCD_RES_WRITTEN, c->in[i].slot);
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < n; i++) {
		free(c->in[i].val);
		free(c->in[i].key);
	}
	c->nin = 0;
	pthread_mutex_unlock(&c->mu);
	return r;
}

static bool due(const struct timespec *t);

static int
push_claimed(struct etcd_client *c, uint64_t tag, int r)
{
	struct etcd_result *res = calloc(1, sizeof(*res));

	if (res == NULL)
		return -ENOMEM;
	res->kind = ETCD_RES_CLAIMED;
	res->tag = tag;
	res->r = r;
	pthread_mutex_lock(&c->mu);
	if (r == 0)
		c->st.claims_won++;
	else if (r == -ESTALE || r == -EADDRINUSE)
		c->st.claims_lost++;
	else
		c->st.claims_failed++;
	push_locked(c, res);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static void
claim_free(struct claim *cl)
{
	free(cl->key);
	free(cl->value);
	free(cl);
}

/*
 * An address claim: lease_cas from "absent", on each endpoint at most
 * once. The holder that wins goes to the loop before the outcome.
 */
static int grow_locked(struct etcd_client *c, size_t slot);

/* A won lease claim: its slot's next write compares with rev. */
static void
claim_won_rev(struct etcd_client *c, const struct claim *cl, int64_t rev)
{
	if (!cl->lease)
		return;
	pthread_mutex_lock(&c->mu);
	if (grow_locked(c, cl->slot) == 0) {
		c->slots[cl->slot].rev = rev;
		c->slots[cl->slot].rev_known = true;
	}
	pthread_mutex_unlock(&c->mu);
}

static int
claim_lease(struct conn *k, struct claim *cl)
{
	struct etcd_client *c = k->c;
	struct etcd_kv holder = { 0 };
	int64_t rev = 0;
	size_t tries;
	int r = -ETIMEDOUT;

	for (tries = 0; tries < c->nendpoints && !due(&cl->deadline); tries++) {
		r = lease_cas(k, cl->key, cl->value, strlen(cl->value), cl->mac,
			      &rev, &holder);
		if (r != -EIO)
			break;
	}
	if (r == -EADDRINUSE && push_record(c, &holder, false) < 0)
		r = -EIO;
	else if (r < 0 && r != -EADDRINUSE && r != -ETIMEDOUT)
		r = -EIO;
	if (r == 0)
		claim_won_rev(c, cl, rev);
	etcd_kv_done(&holder);
	push_claimed(c, cl->tag, r);
	claim_free(cl);
	return 0;
}

/*
 * A served-once claim alone: create-only, on each endpoint at most once.
 * Its outcome goes to the loop whatever it is.
 */
static void
claim_served(struct conn *k, struct claim *cl)
{
	struct etcd_client *c = k->c;
	int64_t rev = 0;
	bool won = false;
	size_t tries;
	int r = -ETIMEDOUT;

	for (tries = 0; tries < c->nendpoints && !due(&cl->deadline); tries++) {
		r = post_take(
			k, "/v3/kv/txn",
			etcd_req_cas(cl->key, cl->value, strlen(cl->value), 0));
		if (r == 0)
			r = etcd_parse_txn(k->resp.data, k->resp.len, &won,
					   &rev);
		if (r != -EIO)
			break;
	}
	if (r == 0)
		r = won ? 0 : -ESTALE;
	else if (r != -ETIMEDOUT)
		r = -EIO;
	push_claimed(c, cl->tag, r);
	claim_free(cl);
}

/*
 * Claims taken together, as one transaction of create-only writes: in a
 * boot storm every address and mark is new, and they all win at once.
 * 0 (all won, told to the loop, freed), or < 0 (none was made: each is
 * then tried alone, which sorts out the ones that exist).
 */
static int
claim_batch(struct conn *k, struct claim **cl, size_t n)
{
	struct etcd_client *c = k->c;
	struct etcd_write w[ETCD_BATCH_MAX];
	int64_t revs[ETCD_BATCH_MAX];
	bool won = false;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		w[i].key = cl[i]->key;
		w[i].value = cl[i]->value;
		w[i].len = strlen(cl[i]->value);
		w[i].mod_revision = 0;
	}
	r = post_take(k, "/v3/kv/txn", etcd_req_cas_batch(w, n));
	if (r == 0)
		r = etcd_parse_txn_batch(k->resp.data, k->resp.len, n, &won,
					 revs);
	if (r < 0 || !won)
		return r < 0 ? r : -EAGAIN;
	for (i = 0; i < n; i++) {
		claim_won_rev(c, cl[i], revs[i]);
		push_claimed(c, cl[i]->tag, 0);
		claim_free(cl[i]);
	}
	return 0;
}

/*
 * Send the oldest claims (up to ETCD_BATCH_MAX, together when there are
 * several, else or on a conflict each alone). 0 (the claims are done).
 */
static int
do_claim(struct conn *k)
{
	struct etcd_client *c = k->c;
	struct claim *cl[ETCD_BATCH_MAX];
	size_t i, n = 0;

	pthread_mutex_lock(&c->mu);
	while (c->claims != NULL && n < ETCD_BATCH_MAX) {
		cl[n++] = c->claims;
		c->claims = c->claims->next;
	}
	if (c->claims == NULL)
		c->claims_tail = &c->claims;
	pthread_mutex_unlock(&c->mu);
	if (n > 1 && claim_batch(k, cl, n) == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (cl[i]->lease)
			claim_lease(k, cl[i]);
		else
			claim_served(k, cl[i]);
	}
	return 0;
}

static int
queue_claim(struct etcd_client *c, const char *key, const char *value,
	    const uint8_t *mac, size_t slot, uint64_t tag)
{
	struct claim *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return -ENOMEM;
	cl->key = strdup(key);
	cl->value = strdup(value);
	if (cl->key == NULL || cl->value == NULL) {
		claim_free(cl);
		return -ENOMEM;
	}
	cl->tag = tag;
	cl->lease = mac != NULL;
	cl->slot = slot;
	if (mac != NULL)
		memcpy(cl->mac, mac, MAC_LEN);
	clock_gettime(CLOCK_MONOTONIC, &cl->deadline);
	cl->deadline.tv_sec += ETCD_CLAIM_WAIT_MS / 1000;
	cl->deadline.tv_nsec += (ETCD_CLAIM_WAIT_MS % 1000) * 1000000L;
	if (cl->deadline.tv_nsec >= 1000000000L) {
		cl->deadline.tv_sec++;
		cl->deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	*c->claims_tail = cl;
	c->claims_tail = &cl->next;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int
etcd_client_claim(struct etcd_client *c, const char *key, const char *value,
		  uint64_t tag)
{
	return queue_claim(c, key, value, NULL, 0, tag);
}

int
etcd_client_claim_lease(struct etcd_client *c, const char *key,
			const char *value, const uint8_t mac[MAC_LEN],
			size_t slot, uint64_t tag)
{
	return queue_claim(c, key, value, mac, slot, tag);
}

/* Record a live server's segment and role (info: its registration). */
static void
note_live(struct etcd_client *c, const char *id, const json_t *info)
{
	const char *seg = json_string_value(json_object_get(info, "segment"));
	const char *dhcp = json_string_value(json_object_get(info, "dhcp"));
	const char *fo = json_string_value(json_object_get(info, "failover"));
	struct live_server *l = &c->live[c->nlive++];

	snprintf(l->id, sizeof(l->id), "%s", id);
	snprintf(l->segment, sizeof(l->segment), "%s", seg ? seg : "");
	l->primary = dhcp != NULL && strcmp(dhcp, "full") == 0 &&
		     (fo == NULL || strcmp(fo, "standby") != 0);
}

/* The live servers into c->servers_json. */
static int
list_servers(struct conn *k)
{
	struct etcd_client *c = k->c;
	char dir[ETCD_KEY_MAX];
	struct etcd_kvs kvs;
	json_t *arr = json_array(), *o;
	size_t i, dl;
	char *text = NULL;
	int r;

	r = etcd_key_dir(c->prefix, "servers", dir, sizeof(dir));
	if (r == 0)
		r = post_take(k, "/v3/kv/range", etcd_req_range_prefix(dir));
	if (r == 0)
		r = etcd_parse_range(k->resp.data, k->resp.len, &kvs);
	if (r < 0 || arr == NULL) {
		json_decref(arr);
		return r < 0 ? r : -ENOMEM;
	}
	dl = strlen(dir);
	pthread_mutex_lock(&c->mu);
	c->nlive = 0;
	for (i = 0; i < kvs.n && i < ETCD_SERVERS_MAX; i++) {
		json_error_t jerr;
		json_t *info = json_loads(kvs.v[i].value, 0, &jerr);

		if (!json_is_object(info)) {
			json_decref(info);
			info = json_object();
		}
		json_object_set_new(info, "id", json_string(kvs.v[i].key + dl));
		note_live(c, kvs.v[i].key + dl, info);
		json_array_append_new(arr, info);
	}
	pthread_mutex_unlock(&c->mu);
	etcd_kvs_done(&kvs);
	o = json_pack("{s:o}", "servers", arr);
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&c->mu);
	free(c->servers_json);
	c->servers_json = text;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* Keep this server's registration alive (a new lease when it lapsed). */
static int
do_lease(struct conn *k)
{
	struct etcd_client *c = k->c;
	char key[ETCD_KEY_MAX];
	int64_t id = 0, ttl = 0, rev;
	int r;

	if (c->lease != 0) {
		r = post_take(k, "/v3/lease/keepalive",
			      etcd_req_keepalive(c->lease));
		if (r == 0)
			r = etcd_parse_lease(k->resp.data, k->resp.len, &id,
					     &ttl);
		if (r < 0)
			return r;
		if (ttl > 0)
			return list_servers(k);
		c->lease = 0; /* expired while we could not reach etcd */
	}
	r = post_take(k, "/v3/lease/grant",
		      etcd_req_lease_grant(ETCD_LEASE_TTL));
	if (r == 0)
		r = etcd_parse_lease(k->resp.data, k->resp.len, &id, &ttl);
	if (r == 0)
		r = etcd_key_server(c->prefix, c->server_id, key, sizeof(key));
	if (r < 0)
		return r;
	c->lease = id;
	r = post_take(k, "/v3/kv/put",
		      etcd_req_put(key, c->info, strlen(c->info), id));
	if (r == 0)
		r = etcd_parse_header(k->resp.data, k->resp.len, &rev);
	if (r < 0)
		return r;
	return list_servers(k);
}

static bool
due(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/*
 * The writer's next task: 'c'laim, 'l'oad, 'k'eepalive, 's'ervers (a
 * standby's list), 'w'rite, or 0 (wait).
 */
static char
next_task(struct etcd_client *c)
{
	if (c->claims != NULL)
		return 'c';
	if (c->need_load)
		return 'l';
	if (due(&c->lease_due))
		return 'k';
	if (c->standby && due(&c->servers_due))
		return 's';
	if (c->count > 0 || c->nin > 0)
		return 'w';
	return 0;
}

static int
run_task(struct conn *k, char task)
{
	struct etcd_client *c = k->c;
	int r;

	if (task == 'c')
		return do_claim(k);
	if (task == 'l')
		return do_load(k);
	if (task == 'w')
		return do_write(k);
	if (task == 's') {
		clock_gettime(CLOCK_MONOTONIC, &c->servers_due);
		c->servers_due.tv_sec += ETCD_STANDBY_LIST_S;
		return list_servers(k);
	}
	r = do_lease(k);
	clock_gettime(CLOCK_MONOTONIC, &c->lease_due);
	c->lease_due.tv_sec += r == 0 ? ETCD_LEASE_TTL / 3 : 1;
	return r;
}

static void *
writer_main(void *arg)
{
	struct etcd_client *c = arg;
	struct conn k;
	char task;

	if (conn_init(&k, c) < 0)
		return NULL;
	while (!atomic_load(&c->stop)) {
		pthread_mutex_lock(&c->mu);
		task = next_task(c);
		pthread_mutex_unlock(&c->mu);
		if (task == 0) {
			pause_ms(c, 200);
			continue;
		}
		if (run_task(&k, task) < 0 && task != 'k')
			pause_ms(c, ETCD_RETRY_MS);
	}
	conn_done(&k);
	return NULL;
}

/* --- The watcher ---------------------------------------------------- */

static int
watch_line(struct conn *k, const char *s, size_t len)
{
	struct etcd_client *c = k->c;
	struct etcd_kvs kvs;
	size_t i;
	int r;

	if (len == 0)
		return 0;
	r = etcd_parse_watch(s, len, &kvs);
	if (r < 0)
		return r;
	if (kvs.compact > 0 || kvs.canceled) {
		/* Too far behind: load everything again. */
		pthread_mutex_lock(&c->mu);
		c->need_load = true;
		c->loaded = false;
		pthread_mutex_unlock(&c->mu);
		etcd_kvs_done(&kvs);
		return -ESTALE;
	}
	for (i = 0; i < kvs.n && r == 0; i++) {
		r = push_record(c, &kvs.v[i], kvs.deleted[i]);
		if (kvs.v[i].mod_revision > k->rev)
			k->rev = kvs.v[i].mod_revision;
	}
	etcd_kvs_done(&kvs);
	return r;
}

/* Wait for a completed load; its revision. false when stopping. */
static bool
wait_loaded(struct etcd_client *c, int64_t *rev)
{
	pthread_mutex_lock(&c->mu);
	while (!c->loaded && !atomic_load(&c->stop))
		pthread_cond_wait(&c->cv, &c->mu);
	*rev = c->load_rev;
	pthread_mutex_unlock(&c->mu);
	return !atomic_load(&c->stop);
}

static void *
watcher_main(void *arg)
{
	struct etcd_client *c = arg;
	char dir[ETCD_KEY_MAX];
	struct conn k;
	bool reload = true;

	if (conn_init(&k, c) < 0 ||
	    etcd_key_root(c->prefix, dir, sizeof(dir)) < 0)
		goto out;
	k.on_line = watch_line;
	while (!atomic_load(&c->stop)) {
		char *body;

		if (reload && !wait_loaded(c, &k.rev))
			break;
		body = etcd_req_watch(dir, k.rev + 1);
		if (body != NULL)
			post(&k, "/v3/watch", body, 0);
		free(body);
		pthread_mutex_lock(&c->mu);
		reload = !c->loaded;
		pthread_mutex_unlock(&c->mu);
		pause_ms(c, ETCD_RETRY_MS);
	}
out:
	conn_done(&k);
	return NULL;
}

/* --- Life cycle and the loop's side ----------------------------------- */

static int
read_pem(const char *path, char **ret, size_t *ret_len)
{
	return read_file(path, ETCD_PEM_MAX, ret, ret_len);
}

/*
 * Endpoints named by a host name: resolved now, before the daemon's
 * sandbox (which keeps the resolver's files out), and pinned with
 * CURLOPT_RESOLVE, so that no request needs DNS; TLS still checks the
 * member's certificate against the name. A name that does not resolve
 * now is left to libcurl (which then fails under the sandbox: the
 * daemon says etcd is unreachable).
 */
static void
pin_hosts(struct etcd_client *c)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	char host[256], entry[320], addr[INET_ADDRSTRLEN];
	struct curl_slist *l;
	struct addrinfo *ai;
	struct in_addr a;
	size_t i, hl;

	for (i = 0; i < c->nendpoints; i++) {
		const char *ep = c->endpoints[i] + strlen("https://");
		const char *colon = strrchr(ep, ':');

		hl = colon != NULL ? (size_t)(colon - ep) : sizeof(host);
		if (hl >= sizeof(host))
			continue;
		memcpy(host, ep, hl);
		host[hl] = '\0';
		ai = NULL;
		if (inet_pton(AF_INET, host, &a) == 1 ||
		    getaddrinfo(host, NULL, &hints, &ai) != 0 || ai == NULL)
			continue;
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr,
			  sizeof(addr));
		freeaddrinfo(ai);
		snprintf(entry, sizeof(entry), "%s:%s:%s", host, colon + 1,
			 addr);
		l = curl_slist_append(c->resolve, entry);
		if (l != NULL)
			c->resolve = l;
	}
}

int
etcd_client_new(const struct nb_config *cfg, const char *server_id,
		const char *info, struct etcd_client **ret,
		const char **ret_bad)
{
	struct etcd_client *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return -ENOMEM;
	/* Not thread-safe: now, before the threads. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(c);
		return -ENOMEM;
	}
	c->wake[0] = c->wake[1] = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->endpoints = cfg->store.endpoints;
	c->nendpoints = cfg->store.nendpoints;
	c->prefix = cfg->store.prefix;
	snprintf(c->server_id, sizeof(c->server_id), "%s", server_id);
	c->info = strdup(info);
	c->need_load = true;
	c->claims_tail = &c->claims;
	c->nlive = -1;
	c->standby = cfg->dhcp.standby;
	r = c->info == NULL ? -ENOMEM : 0;
	if (r == 0 && (r = read_pem(cfg->store.ca, &c->ca, &c->ca_len)) < 0)
		*ret_bad = cfg->store.ca;
	if (r == 0 &&
	    (r = read_pem(cfg->store.cert, &c->cert, &c->cert_len)) < 0)
		*ret_bad = cfg->store.cert;
	if (r == 0 && (r = read_pem(cfg->store.key, &c->key, &c->key_len)) < 0)
		*ret_bad = cfg->store.key;
	if (r == 0 && pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) < 0)
		r = -errno;
	if (r < 0) {
		etcd_client_free(c);
		return r;
	}
	pin_hosts(c);
	*ret = c;
	return 0;
}

int
etcd_client_start(struct etcd_client *c)
{
	int r;

	clock_gettime(CLOCK_MONOTONIC, &c->lease_due);
	r = pthread_create(&c->writer, NULL, writer_main, c);
	if (r != 0)
		return -r;
	c->writer_on = true;
	r = pthread_create(&c->watcher, NULL, watcher_main, c);
	if (r != 0)
		return -r;
	c->watcher_on = true;
	return 0;
}

void
etcd_client_free(struct etcd_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	atomic_store(&c->stop, true);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->writer_on)
		pthread_join(c->writer, NULL);
	if (c->watcher_on)
		pthread_join(c->watcher, NULL);
	for (i = 0; i < c->nslots; i++) {
		free(c->slots[i].key);
		free(c->slots[i].pending);
	}
	free(c->slots);
	free(c->fifo);
	for (i = 0; i < c->nin; i++) {
		free(c->in[i].key);
		free(c->in[i].val);
	}
	etcd_result_free(c->res_head);
	while (c->claims != NULL) {
		struct claim *cl = c->claims;

		c->claims = cl->next;
		claim_free(cl);
	}
	if (c->key != NULL)
		explicit_bzero(c->key, c->key_len);
	free(c->key);
	free(c->cert);
	free(c->ca);
	free(c->info);
	free(c->servers_json);
	curl_slist_free_all(c->resolve);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Room for slot and for one more FIFO entry. Under mu. */
static int
grow_locked(struct etcd_client *c, size_t slot)
{
	if (slot >= ETCD_QUEUE_SLOTS_MAX)
		return -E2BIG;
	if (slot >= c->nslots) {
		size_t n = slot + 64;
		struct slot *v = realloc(c->slots, n * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		memset(v + c->nslots, 0, (n - c->nslots) * sizeof(*v));
		c->slots = v;
		c->nslots = n;
	}
	if (c->count == c->cap) {
		size_t n = c->cap ? c->cap * 2 : 64, i;
		size_t *f = malloc(n * sizeof(*f));

		if (f == NULL)
			return -ENOMEM;
		for (i = 0; i < c->count; i++)
			f[i] = c->fifo[(c->head + i) % c->cap];
		free(c->fifo);
		c->fifo = f;
		c->head = 0;
		c->cap = n;
	}
	return 0;
}

void
etcd_client_note_rev(struct etcd_client *c, size_t slot, int64_t rev)
{
	pthread_mutex_lock(&c->mu);
	if (grow_locked(c, slot) == 0) {
		c->slots[slot].rev = rev;
		c->slots[slot].rev_known = true;
	}
	pthread_mutex_unlock(&c->mu);
}

int
etcd_client_put_node(struct etcd_client *c, size_t slot, const char *key,
		     const char *value, size_t len)
{
	return etcd_client_put(c, slot, key, value, len, NULL);
}

int
etcd_client_put(struct etcd_client *c, size_t slot, const char *key,
		const char *value, size_t len, const uint8_t *lease_mac)
{
	char *v = malloc(len + 1), *k = strdup(key);
	struct slot *s;
	int r;

	if (v == NULL || k == NULL) {
		free(v);
		free(k);
		return -ENOMEM;
	}
	memcpy(v, value, len);
	v[len] = '\0';
	pthread_mutex_lock(&c->mu);
	r = grow_locked(c, slot);
	if (r == 0) {
		s = &c->slots[slot];
		/* A record not taken yet is replaced (the writer owns the
		 * one in flight; this one follows it). */
		free(s->pending);
		s->pending = v;
		s->pending_len = len;
		free(s->key);
		s->key = k;
		s->lease = lease_mac != NULL;
		if (lease_mac != NULL)
			memcpy(s->mac, lease_mac, MAC_LEN);
		if (!s->queued) {
			c->fifo[(c->head + c->count) % c->cap] = slot;
			c->count++;
			s->queued = true;
		}
		v = k = NULL;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	free(v);
	free(k);
	return r;
}

void
etcd_client_stats(struct etcd_client *c, struct etcd_client_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	out->queued = c->count + c->nin;
	pthread_mutex_unlock(&c->mu);
}

int
etcd_client_primary(struct etcd_client *c, const char *segment, char *ret_id,
		    size_t n)
{
	int i, r = 0;

	pthread_mutex_lock(&c->mu);
	if (c->nlive < 0)
		r = -ENODATA;
	for (i = 0; i < c->nlive && r == 0; i++) {
		if (!c->live[i].primary ||
		    strcmp(c->live[i].segment, segment) != 0 ||
		    strcmp(c->live[i].id, c->server_id) == 0)
			continue;
		snprintf(ret_id, n, "%s", c->live[i].id);
		r = 1;
	}
	pthread_mutex_unlock(&c->mu);
	return r;
}

int
etcd_client_servers_json(struct etcd_client *c, char **ret_text)
{
	char *s;

	pthread_mutex_lock(&c->mu);
	s = strdup(c->servers_json != NULL ? c->servers_json
					   : "{\"servers\":[]}");
	pthread_mutex_unlock(&c->mu);
	if (s == NULL)
		return -ENOMEM;
	*ret_text = s;
	return 0;
}
