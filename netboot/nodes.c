/* nodes.c - node states, events and timelines, persisted per node. */
#include "nodes.h"

#include "fsutil.h"
#include "path.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = { "pending", "booting", "provisioning",
					   "done", "failed" };

const char *
node_state_name(enum node_state s)
{
	if ((unsigned)s >= NODE_STATE_COUNT)
		return "unknown";
	return state_names[s];
}

static int
node_state_parse(const char *s, enum node_state *ret)
{
	unsigned i;

	for (i = 0; i < NODE_STATE_COUNT; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*ret = (enum node_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* 9999-12-31T23:59:59.999Z: the last time RFC 3339 can write. */
#define NODES_TIME_MS_MAX INT64_C(253402300799999)

int64_t
nodes_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
nodes_time_format(int64_t ms, char buf[NODES_TIME_STR_LEN])
{
	int64_t sec = ms / 1000;
	time_t tt = (time_t)sec;
	struct tm tm;
	int w;

	if (ms < 0 || ms > NODES_TIME_MS_MAX || gmtime_r(&tt, &tm) == NULL ||
	    tm.tm_year + 1900 > 9999) {
		snprintf(buf, NODES_TIME_STR_LEN, "1970-01-01T00:00:00.000Z");
		return;
	}
	w = snprintf(buf, NODES_TIME_STR_LEN,
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		     (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
		     tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
		     tm.tm_sec % 100, (int)((ms - sec * 1000) % 1000));
	if (w < 0 || w >= NODES_TIME_STR_LEN)
		snprintf(buf, NODES_TIME_STR_LEN, "1970-01-01T00:00:00.000Z");
}

struct nodes *
nodes_new(const char *state_dir)
{
	struct nodes *ns;
	char dir[PATH_MAX];

	ns = calloc(1, sizeof(*ns));
	if (ns == NULL)
		return NULL;
	ns->secret_window_ms = NODES_SECRET_WINDOW_DFLT_MS;
	if (state_dir != NULL) {
		if (path_join(dir, sizeof(dir), state_dir, "nodes") < 0) {
			free(ns);
			return NULL;
		}
		ns->dir = strdup(dir);
		if (ns->dir == NULL) {
			free(ns);
			return NULL;
		}
	}
	return ns;
}

static void writer_stop(struct nodes *ns);

struct nodes *
nodes_free(struct nodes *ns)
{
	size_t i;

	if (ns == NULL)
		return NULL;
	writer_stop(ns);
	for (i = 0; i < ns->n; i++)
		free(ns->v[i].timeline);
	free(ns->v);
	free(ns->dir);
	free(ns);
	return NULL;
}

int
nodes_add(struct nodes *ns, const char *name, const uint8_t mac[MAC_LEN],
	  uint32_t ip, const char *role)
{
	struct node *nd;

	if (strlen(name) > HOST_NAME_MAX_LEN || strlen(role) >= NODES_ROLE_MAX)
		return -EINVAL;
	if (nodes_find(ns, mac) != NULL)
		return -EEXIST;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		struct node *v = realloc(ns->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	nd = &ns->v[ns->n];
	memset(nd, 0, sizeof(*nd));
	snprintf(nd->name, sizeof(nd->name), "%s", name);
	memcpy(nd->mac, mac, MAC_LEN);
	nd->ip = ip;
	snprintf(nd->role, sizeof(nd->role), "%s", role);
	nd->state = NODE_PENDING;
	ns->n++;
	return 0;
}

void
nodes_set_observer(struct nodes *ns, nodes_change_fn fn, void *ctx)
{
	ns->changed = fn;
	ns->changed_ctx = ctx;
}

void
nodes_set_lookup(struct nodes *ns, nodes_lookup_fn fn, void *ctx)
{
	ns->lookup = fn;
	ns->lookup_ctx = ctx;
}

struct node *
nodes_find(struct nodes *ns, const uint8_t mac[MAC_LEN])
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (memcmp(ns->v[i].mac, mac, MAC_LEN) == 0)
			return &ns->v[i];
	return NULL;
}

struct node *
nodes_find_ip(struct nodes *ns, uint32_t ip)
{
	size_t i;

	if (ip == 0)
		return NULL;
	for (i = 0; i < ns->n; i++) {
		if (nodes_addr_allowed(ns, &ns->v[i], ip))
			return &ns->v[i];
	}
	return NULL;
}

bool
nodes_addr_allowed(const struct nodes *ns, const struct node *nd, uint32_t peer)
{
	uint32_t lease = 0;

	if (peer == 0)
		return false;
	if (nd->ip != 0 && nd->ip == peer)
		return true;
	if (ns->lookup != NULL &&
	    ns->lookup(ns->lookup_ctx, nd->mac, &lease) == 0)
		return lease == peer;
	return false;
}

/* The state file of a node: DIR/aa-bb-cc-dd-ee-ff.json. */
static int
node_path(const struct nodes *ns, const struct node *nd, char *buf, size_t n)
{
	char mac[MAC_STR_LEN], name[MAC_STR_LEN + 8];
	size_t i;

	mac_format(nd->mac, mac);
	for (i = 0; mac[i] != '\0'; i++)
		if (mac[i] == ':')
			mac[i] = '-';
	snprintf(name, sizeof(name), "%s.json", mac);
	return path_join(buf, n, ns->dir, name);
}

static json_t *
event_json(const struct node_event *ev, int64_t t)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "step", ev->step,
			      "status", event_status_name(ev->status),
			      "message", ev->message, "time", (json_int_t)t);

	/* Optional: a failed program's output (the agent redacted it). */
	if (o != NULL && ev->output[0] != '\0' &&
	    json_object_set_new(o, "output", json_string(ev->output)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The persisted form: times as integers, no config fields but the MAC. */
static json_t *
node_state_json(const struct node *nd)
{
	char mac[MAC_STR_LEN];
	json_t *o, *tl;
	size_t i;

	mac_format(nd->mac, mac);
	o = json_pack("{s:i, s:s, s:s, s:b}", "version", 2, "mac", mac, "state",
		      node_state_name(nd->state), "locked", nd->locked);
	tl = json_array();
	if (o == NULL || tl == NULL)
		goto fail;
	if (nd->secrets_since > 0 &&
	    json_object_set_new(o, "secrets_since",
				json_integer(nd->secrets_since)) < 0)
		goto fail;
	if (nd->armed_at > 0 &&
	    json_object_set_new(o, "armed_at", json_integer(nd->armed_at)) < 0)
		goto fail;
	if (nd->has_event &&
	    json_object_set_new(o, "last_event",
				event_json(&nd->last_event, nd->last_time)) < 0)
		goto fail;
	for (i = 0; i < nd->ntimeline; i++) {
		const struct node_mark *m = &nd->timeline[i];
		json_t *e = json_pack("{s:s, s:I}", "event", m->event, "time",
				      (json_int_t)m->time);

		if (e != NULL && m->milestone &&
		    json_object_set_new(e, "milestone", json_true()) < 0) {
			json_decref(e);
			goto fail;
		}
		if (json_array_append_new(tl, e) < 0)
			goto fail;
	}
	if (json_object_set_new(o, "timeline", tl) < 0) {
		tl = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(tl);
	json_decref(o);
	return NULL;
}

/* nd's state file: its path and its text (*ret_text owned). */
static int
state_file(const struct nodes *ns, const struct node *nd, char *path, size_t n,
	   char **ret_text)
{
	json_t *o;
	char *text;
	int r;

	r = node_path(ns, nd, path, n);
	if (r < 0)
		return r;
	o = node_state_json(nd);
	if (o == NULL)
		return -ENOMEM;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

/* Write one state file: temp + fsync + rename (atomic_write). Any thread. */
static int
write_state(const char *dir, const char *path, const char *text)
{
	int r = mkdir_p(dir, 0700);

	return r < 0 ? r : atomic_write(path, text, strlen(text), 0600);
}

static int
persist(struct nodes *ns, const struct node *nd)
{
	char path[PATH_MAX];
	char *text = NULL;
	int r;

	if (ns->dir == NULL)
		return 0;
	r = state_file(ns, nd, path, sizeof(path), &text);
	if (r < 0)
		return r;
	r = write_state(ns->dir, path, text);
	if (r == 0)
		ns->writes++;
	free(text);
	return r;
}

/* --- The writer thread (nodes_writer_start) ------------------------------ */

struct nodes_job {
	size_t node; /* index into ns->v */
	char path[PATH_MAX];
	char *text; /* owned */
	int r;	    /* the write's outcome */
};

/*
 * One batch at a time: the loop hands jobs over (busy, !done), the thread
 * writes them and sets done, the loop collects them and clears busy. The
 * jobs belong to whoever the flags say; they change under mu.
 */
struct nodes_writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *dir; /* ns->dir, which never changes */
	struct nodes_job *jobs;
	size_t njobs;
	bool busy, done, stop;
};

static void *
writer_main(void *arg)
{
	struct nodes_writer *w = arg;
	size_t i;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && !(w->busy && !w->done))
			pthread_cond_wait(&w->cv, &w->mu);
		if (!(w->busy && !w->done))
			break; /* stopped, nothing pending */
		pthread_mutex_unlock(&w->mu);
		for (i = 0; i < w->njobs; i++)
			w->jobs[i].r = write_state(w->dir, w->jobs[i].path,
						   w->jobs[i].text);
		pthread_mutex_lock(&w->mu);
		w->done = true;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * Collect a finished batch (wait: wait for it first). Nodes whose write
 * failed are dirty again. 0, or the first failed write's error.
 */
static int
writer_collect(struct nodes *ns, bool wait)
{
	struct nodes_writer *w = ns->writer;
	bool ready;
	size_t i;
	int first = 0;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (wait && w->busy && !w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	ready = w->busy && w->done;
	pthread_mutex_unlock(&w->mu);
	if (!ready)
		return 0;
	for (i = 0; i < w->njobs; i++) {
		if (w->jobs[i].r < 0) {
			ns->v[w->jobs[i].node].dirty = true;
			if (first == 0)
				first = w->jobs[i].r;
		} else {
			ns->writes++;
		}
		free(w->jobs[i].text);
	}
	free(w->jobs);
	pthread_mutex_lock(&w->mu);
	w->jobs = NULL;
	w->njobs = 0;
	w->busy = false;
	pthread_mutex_unlock(&w->mu);
	return first;
}

int
nodes_writer_wait(struct nodes *ns)
{
	return writer_collect(ns, true);
}

int
nodes_writer_start(struct nodes *ns)
{
	struct nodes_writer *w;
	int r;

	if (ns->writer != NULL || ns->dir == NULL)
		return 0;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->dir = ns->dir;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return -ENOMEM;
	}
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		return -ENOMEM;
	}
	r = pthread_create(&w->th, NULL, writer_main, w);
	if (r != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return -r;
	}
	ns->writer = w;
	return 0;
}

/* Wait for the thread's last batch, stop it and free it. */
static void
writer_stop(struct nodes *ns)
{
	struct nodes_writer *w = ns->writer;

	if (w == NULL)
		return;
	writer_collect(ns, true);
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	ns->writer = NULL;
}

/* Hand at most max dirty nodes to the thread (none in flight). */
static int
writer_hand_over(struct nodes *ns, size_t max)
{
	struct nodes_writer *w = ns->writer;
	struct nodes_job *jobs;
	size_t k, n = 0, cap = max < ns->n ? max : ns->n;
	int r, first = 0;

	if (cap == 0)
		return 0;
	jobs = calloc(cap, sizeof(*jobs));
	if (jobs == NULL)
		return -ENOMEM;
	for (k = 0; k < ns->n && n < cap; k++) {
		size_t i = (ns->flush_next + k) % ns->n;

		if (!ns->v[i].dirty)
			continue;
		r = state_file(ns, &ns->v[i], jobs[n].path,
			       sizeof(jobs[n].path), &jobs[n].text);
		if (r < 0) {
			if (first == 0)
				first = r; /* stays dirty */
			continue;
		}
		jobs[n].node = i;
		ns->v[i].dirty = false;
		n++;
	}
	ns->flush_next = (ns->flush_next + k) % ns->n;
	if (n == 0) {
		free(jobs);
		return first;
	}
	pthread_mutex_lock(&w->mu);
	w->jobs = jobs;
	w->njobs = n;
	w->busy = true;
	w->done = false;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return first;
}

/* Copy nd with room for one more timeline entry into *ret. */
static int
node_clone(const struct node *nd, struct node *ret)
{
	struct node_mark *tl;

	tl = calloc(nd->ntimeline + 1, sizeof(*tl));
	if (tl == NULL)
		return -ENOMEM;
	if (nd->ntimeline > 0)
		memcpy(tl, nd->timeline, nd->ntimeline * sizeof(*tl));
	*ret = *nd;
	ret->timeline = tl;
	return 0;
}

/* Remove timeline entry i. */
static void
timeline_drop(struct node *nd, size_t i)
{
	memmove(nd->timeline + i, nd->timeline + i + 1,
		(nd->ntimeline - i - 1) * sizeof(*nd->timeline));
	nd->ntimeline--;
}

/*
 * Append to a clone's timeline. When it is full, an agent event drops
 * the oldest entry; a milestone drops the oldest milestone, or, when
 * there is none, is itself dropped (false): milestones come from
 * unauthenticated requests and must not push the agent's events out.
 */
static bool
timeline_push(struct node *nd, const char *event, int64_t now, bool milestone)
{
	size_t i = 0;

	if (nd->ntimeline >= NODES_TIMELINE_MAX) {
		if (milestone) {
			while (i < nd->ntimeline && !nd->timeline[i].milestone)
				i++;
			if (i == nd->ntimeline)
				return false;
		}
		timeline_drop(nd, i);
	}
	snprintf(nd->timeline[nd->ntimeline].event,
		 sizeof(nd->timeline[0].event), "%s", event);
	nd->timeline[nd->ntimeline].time = now;
	nd->timeline[nd->ntimeline].milestone = milestone;
	nd->ntimeline++;
	return true;
}

/*
 * The clone tmp replaces nd. now: written first (if that fails tmp is
 * dropped and nd is as it was); otherwise nd is marked dirty for the next
 * nodes_flush().
 */
static int
commit(struct nodes *ns, struct node *nd, struct node *tmp, bool now)
{
	int r;

	if (now) {
		/* After the batch in flight, which may hold an older nd. */
		writer_collect(ns, true);
		r = persist(ns, tmp);
		if (r < 0) {
			free(tmp->timeline);
			return r;
		}
		tmp->dirty = false;
	} else {
		tmp->dirty = ns->dir != NULL;
	}
	tmp->remote_dirty = ns->remote;
	free(nd->timeline);
	*nd = *tmp;
	if (ns->changed != NULL)
		ns->changed(ns->changed_ctx, nd);
	return 0;
}

/* Take a token from nd's milestone bucket; false when it is empty. */
static bool
mark_allowed(struct node *nd, int64_t now)
{
	if (!nd->mark_primed || now < nd->mark_refill) {
		/* First use, or the clock went back: start afresh. */
		nd->mark_primed = true;
		nd->mark_tokens = NODES_MARK_BURST;
		nd->mark_refill = now;
	} else if (nd->mark_tokens >= NODES_MARK_BURST) {
		nd->mark_refill = now; /* full: nothing accrues */
	} else {
		int64_t add = (now - nd->mark_refill) / NODES_MARK_REFILL_MS;

		if (add > 0) {
			/* Below the burst, so the sum is at most 2^62 + 32. */
			uint64_t t = (uint64_t)nd->mark_tokens + (uint64_t)add;

			nd->mark_tokens = t > NODES_MARK_BURST
						  ? NODES_MARK_BURST
						  : (unsigned)t;
			nd->mark_refill += add * NODES_MARK_REFILL_MS;
		}
	}
	if (nd->mark_tokens == 0)
		return false;
	nd->mark_tokens--;
	return true;
}

/* A rate-limited milestone; advance: a pending node becomes booting. */
static int
mark_limited(struct nodes *ns, struct node *nd, const char *event, int64_t now,
	     bool advance)
{
	struct node tmp;
	int r;

	if (!mark_allowed(nd, now)) {
		ns->marks_dropped++;
		return 0;
	}
	r = node_clone(nd, &tmp);
	if (r < 0)
		return r;
	if (!timeline_push(&tmp, event, now, true)) {
		free(tmp.timeline);
		ns->marks_dropped++;
		return 0;
	}
	if (advance && tmp.state == NODE_PENDING)
		tmp.state = NODE_BOOTING;
	return commit(ns, nd, &tmp, false);
}

int
nodes_mark(struct nodes *ns, struct node *nd, const char *event, int64_t now)
{
	return mark_limited(ns, nd, event, now, true);
}

int
nodes_secret_refused(struct nodes *ns, struct node *nd, int64_t now)
{
	return mark_limited(ns, nd, "secret-refused", now, false);
}

void
nodes_set_secret_window(struct nodes *ns, int64_t ms)
{
	if (ms > 0)
		ns->secret_window_ms = ms;
}

int
nodes_secret_check(const struct nodes *ns, const struct node *nd, int64_t now)
{
	if (nd->locked)
		return -ESTALE;
	if (nd->secrets_since > 0 &&
	    now - nd->secrets_since >= ns->secret_window_ms)
		return -ESTALE;
	return 0;
}

int
nodes_secret_served(struct nodes *ns, struct node *nd, int64_t now)
{
	struct node tmp;
	int r;

	if (nd->secrets_since > 0)
		return 0;
	r = node_clone(nd, &tmp);
	if (r < 0)
		return r;
	timeline_push(&tmp, "secrets", now, false);
	tmp.secrets_since = now > 0 ? now : 1;
	return commit(ns, nd, &tmp, true);
}

int
nodes_flush_some(struct nodes *ns, size_t max)
{
	size_t k, done = 0;
	int r, first = 0;

	if (ns->writer != NULL) {
		bool busy;

		first = writer_collect(ns, false);
		pthread_mutex_lock(&ns->writer->mu);
		busy = ns->writer->busy;
		pthread_mutex_unlock(&ns->writer->mu);
		if (busy)
			return first; /* the thread is still at it */
		r = writer_hand_over(ns, max);
		return first != 0 ? first : r;
	}

	for (k = 0; k < ns->n && done < max; k++) {
		size_t i = (ns->flush_next + k) % ns->n;

		if (!ns->v[i].dirty)
			continue;
		done++;
		r = persist(ns, &ns->v[i]);
		if (r == 0)
			ns->v[i].dirty = false;
		else if (first == 0)
			first = r;
	}
	if (ns->n > 0)
		ns->flush_next = (ns->flush_next + k) % ns->n;
	return first;
}

int
nodes_flush(struct nodes *ns)
{
	struct nodes_writer *w = ns->writer;
	int r, first;

	/* On the caller, after the batch in flight: never an older file. */
	first = writer_collect(ns, true);
	ns->writer = NULL;
	r = nodes_flush_some(ns, SIZE_MAX);
	ns->writer = w;
	return first != 0 ? first : r;
}

const char *
nodes_file_milestone(const char *path)
{
	const char *base = strrchr(path, '/');

	/* Secure Boot's per-machine GRUB file; GRUB asks for "/grub/...". */
	if (strncmp(path + strspn(path, "/"), "grub/nodes/", 11) == 0)
		return "boot-script";
	base = base ? base + 1 : path;
	if (strncmp(base, "vmlinuz", 7) == 0 ||
	    strncmp(base, "bzImage", 7) == 0)
		return "kernel";
	if (strncmp(base, "initrd", 6) == 0 ||
	    strncmp(base, "initramfs", 9) == 0)
		return "initrd";
	return NULL;
}

int
nodes_mark_mac(struct nodes *ns, const uint8_t mac[MAC_LEN], const char *event,
	       int64_t now)
{
	struct node *nd = nodes_find(ns, mac);

	if (nd == NULL)
		return -ENOENT;
	return nodes_mark(ns, nd, event, now);
}

int
nodes_event(struct nodes *ns, struct node *nd, const struct node_event *ev,
	    int64_t now)
{
	char name[NODES_EVENT_NAME_MAX];
	struct node tmp;
	int r;

	r = node_clone(nd, &tmp);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s:%s", ev->step,
		 event_status_name(ev->status));
	timeline_push(&tmp, name, now, false);
	tmp.has_event = true;
	tmp.last_event = *ev;
	tmp.last_time = now;
	if (ev->status == EVENT_FAILED) {
		tmp.state = NODE_FAILED;
	} else if (ev->status == EVENT_OK && strcmp(ev->step, "done") == 0) {
		tmp.state = NODE_DONE;
		tmp.locked = true;
	} else {
		tmp.state = NODE_PROVISIONING;
	}
	/* The lock guards secrets: on disk before the agent hears "ok". */
	return commit(ns, nd, &tmp, tmp.locked && !nd->locked);
}

int
nodes_rearm(struct nodes *ns, struct node *nd, int64_t now)
{
	struct node tmp;
	int r;

	r = node_clone(nd, &tmp);
	if (r < 0)
		return r;
	timeline_push(&tmp, "rearm", now, false);
	tmp.locked = false;
	tmp.fetched = 0;
	tmp.secrets_since = 0;
	tmp.armed_at = now > 0 ? now : 1;
	return commit(ns, nd, &tmp, true);
}

int
nodes_payload_fetch(struct node *nd, enum node_payload which, bool *ret_repeat)
{
	unsigned bit;

	if (nd->locked)
		return -ESTALE;
	if ((unsigned)which >= NODE_PAYLOAD_COUNT)
		return -EINVAL;
	bit = 1u << which;
	*ret_repeat = (nd->fetched & bit) != 0;
	nd->fetched |= bit;
	return 0;
}

/*
 * A persisted time in milliseconds: version 1 files held seconds. -1 when
 * t is not a time (not an integer, or outside 1970..9999).
 */
static int64_t
restore_time(json_t *t, json_int_t version)
{
	json_int_t v = json_integer_value(t);

	if (!json_is_integer(t) || v < 0 ||
	    v > (version == 1 ? NODES_TIME_MS_MAX / 1000 : NODES_TIME_MS_MAX))
		return -1;
	return version == 1 ? (int64_t)v * 1000 : (int64_t)v;
}

/* Fill nd from its persisted form o. -EBADMSG when o is not valid. */
static int
node_restore(struct node *nd, json_t *o)
{
	json_t *state, *locked, *ev, *tl, *item, *since, *armed;
	json_int_t version;
	struct node tmp;
	size_t i;

	state = json_object_get(o, "state");
	locked = json_object_get(o, "locked");
	ev = json_object_get(o, "last_event");
	tl = json_object_get(o, "timeline");
	since = json_object_get(o, "secrets_since");
	armed = json_object_get(o, "armed_at");
	/* Version 1 kept whole seconds; 2 keeps milliseconds. */
	version = json_integer_value(json_object_get(o, "version"));
	if (!json_is_object(o) || (version != 1 && version != 2) ||
	    !json_is_string(state) || !json_is_boolean(locked) ||
	    !json_is_array(tl) || json_array_size(tl) > NODES_TIMELINE_MAX)
		return -EBADMSG;
	memset(&tmp, 0, sizeof(tmp));
	if (node_state_parse(json_string_value(state), &tmp.state) < 0)
		return -EBADMSG;
	tmp.locked = json_is_true(locked);
	if (since != NULL) {
		/* Optional (absent: no secret served since armed). */
		tmp.secrets_since = restore_time(since, version);
		if (tmp.secrets_since < 0)
			return -EBADMSG;
	}
	if (armed != NULL) {
		/* Optional (absent: never re-armed). */
		tmp.armed_at = restore_time(armed, version);
		if (tmp.armed_at < 0)
			return -EBADMSG;
	}
	if (ev != NULL) {
		json_t *step = json_object_get(ev, "step");
		json_t *status = json_object_get(ev, "status");
		json_t *msg = json_object_get(ev, "message");
		json_t *t = json_object_get(ev, "time");
		json_t *out = json_object_get(ev, "output");

		tmp.last_time = restore_time(t, version);
		if (!json_is_string(step) || !json_is_string(status) ||
		    !json_is_string(msg) || tmp.last_time < 0 ||
		    json_string_length(step) > EVENT_STEP_MAX ||
		    json_string_length(msg) > EVENT_MESSAGE_MAX ||
		    (out != NULL &&
		     (!json_is_string(out) ||
		      json_string_length(out) > EVENT_OUTPUT_MAX)) ||
		    event_status_parse(json_string_value(status),
				       &tmp.last_event.status) < 0)
			return -EBADMSG;
		snprintf(tmp.last_event.step, sizeof(tmp.last_event.step), "%s",
			 json_string_value(step));
		snprintf(tmp.last_event.message, sizeof(tmp.last_event.message),
			 "%s", json_string_value(msg));
		if (out != NULL)
			snprintf(tmp.last_event.output,
				 sizeof(tmp.last_event.output), "%s",
				 json_string_value(out));
		tmp.has_event = true;
	}
	tmp.timeline = calloc(json_array_size(tl) + 1, sizeof(*tmp.timeline));
	if (tmp.timeline == NULL)
		return -ENOMEM;
	json_array_foreach(tl, i, item)
	{
		json_t *e = json_object_get(item, "event");
		json_t *ms = json_object_get(item, "milestone");
		int64_t t =
			restore_time(json_object_get(item, "time"), version);

		if (!json_is_string(e) || t < 0 ||
		    json_string_length(e) >= NODES_EVENT_NAME_MAX ||
		    (ms != NULL && !json_is_boolean(ms))) {
			free(tmp.timeline);
			return -EBADMSG;
		}
		timeline_push(&tmp, json_string_value(e), t, json_is_true(ms));
	}
	free(nd->timeline);
	nd->state = tmp.state;
	nd->locked = tmp.locked;
	nd->secrets_since = tmp.secrets_since;
	nd->armed_at = tmp.armed_at;
	nd->has_event = tmp.has_event;
	nd->last_event = tmp.last_event;
	nd->last_time = tmp.last_time;
	nd->timeline = tmp.timeline;
	nd->ntimeline = tmp.ntimeline;
	return 0;
}

int
nodes_parse_state(struct node *nd, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *o;
	int r;

	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return -EBADMSG;
	r = node_restore(nd, o);
	json_decref(o);
	return r;
}

int
nodes_load(struct nodes *ns, char ret_bad[MAC_STR_LEN])
{
	char path[PATH_MAX];
	size_t i, len = 0;
	char *data = NULL;
	int r;

	if (ns->dir == NULL)
		return 0;
	for (i = 0; i < ns->n; i++) {
		r = node_path(ns, &ns->v[i], path, sizeof(path));
		if (r < 0)
			goto bad;
		r = read_file(path, NODES_STATE_FILE_MAX, &data, &len);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			goto bad;
		r = nodes_parse_state(&ns->v[i], data, len);
		free(data);
		data = NULL;
		if (r < 0)
			goto bad;
	}
	return 0;
bad:
	if (ret_bad != NULL)
		mac_format(ns->v[i].mac, ret_bad);
	return r;
}

int
nodes_record(const struct node *nd, char **ret_text)
{
	char ip[IPV4_STR_LEN];
	json_t *o = node_state_json(nd);
	char *text;

	ipv4_format(nd->ip, ip);
	if (o == NULL ||
	    json_object_set_new(o, "name", json_string(nd->name)) ||
	    json_object_set_new(o, "ip", json_string(ip)) ||
	    json_object_set_new(o, "role", json_string(nd->role))) {
		json_decref(o);
		return -ENOMEM;
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

/* A record's name, ip and role, checked. -EBADMSG when one is wrong. */
static int
record_identity(json_t *o, const char **ret_name, uint32_t *ret_ip,
		const char **ret_role)
{
	static const char *const roles[] = { "control-plane", "worker",
					     "etcd" };
	json_t *name = json_object_get(o, "name");
	json_t *ip = json_object_get(o, "ip");
	json_t *role = json_object_get(o, "role");
	size_t i;

	if (!json_is_string(name) || !json_is_string(ip) ||
	    !json_is_string(role) ||
	    json_string_length(name) > HOST_NAME_MAX_LEN ||
	    strlen(json_string_value(name)) != json_string_length(name) ||
	    !dns_label_valid(json_string_value(name)) ||
	    ipv4_parse(json_string_value(ip), ret_ip) < 0)
		return -EBADMSG;
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(json_string_value(role), roles[i]) == 0)
			break;
	if (i == sizeof(roles) / sizeof(roles[0]))
		return -EBADMSG;
	*ret_name = json_string_value(name);
	*ret_role = roles[i];
	return 0;
}

/* The node for a record: found, or added with the record's identity. */
static int
record_node(struct nodes *ns, const uint8_t mac[MAC_LEN], json_t *o,
	    struct node **ret_nd)
{
	const char *name = NULL, *role = NULL;
	struct node *nd = nodes_find(ns, mac);
	uint32_t ip = 0;
	size_t i;
	int r;

	r = record_identity(o, &name, &ip, &role);
	if (r < 0)
		return r;
	if (nd != NULL) {
		*ret_nd = nd;
		return 0;
	}
	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i].name, name) == 0)
			return -EEXIST;
	r = nodes_add(ns, name, mac, ip, role);
	if (r < 0)
		return r;
	*ret_nd = &ns->v[ns->n - 1];
	return 0;
}

int64_t
nodes_latest(const struct node *nd)
{
	int64_t t = nd->has_event ? nd->last_time : 0;

	if (nd->ntimeline > 0 && nd->timeline[nd->ntimeline - 1].time > t)
		t = nd->timeline[nd->ntimeline - 1].time;
	return nd->secrets_since > t ? nd->secrets_since : t;
}

int
nodes_apply_record(struct nodes *ns, const uint8_t mac[MAC_LEN],
		   const char *text, size_t len, bool newer_only,
		   struct node **ret_nd)
{
	struct node tmp, *nd = NULL;
	json_error_t jerr;
	json_t *o;
	int r;

	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return -EBADMSG;
	memset(&tmp, 0, sizeof(tmp));
	r = node_restore(&tmp, o);
	nd = nodes_find(ns, mac);
	if (r == 0 && newer_only && nd != NULL &&
	    nodes_latest(&tmp) <= nodes_latest(nd)) {
		/* The same latest change: the shared store has it. */
		if (nodes_latest(&tmp) == nodes_latest(nd))
			nd->remote_dirty = false;
		r = -EALREADY;
	}
	if (r == 0)
		r = record_node(ns, mac, o, &nd);
	json_decref(o);
	if (r < 0) {
		free(tmp.timeline);
		return r;
	}
	free(nd->timeline);
	nd->state = tmp.state;
	nd->locked = tmp.locked;
	nd->secrets_since = tmp.secrets_since;
	nd->armed_at = tmp.armed_at;
	nd->has_event = tmp.has_event;
	nd->last_event = tmp.last_event;
	nd->last_time = tmp.last_time;
	nd->timeline = tmp.timeline;
	nd->ntimeline = tmp.ntimeline;
	nd->dirty = ns->dir != NULL;
	nd->remote_dirty = false;
	if (ns->changed != NULL)
		ns->changed(ns->changed_ctx, nd);
	if (ret_nd != NULL)
		*ret_nd = nd;
	return 0;
}

/* The public form of one node (DESIGN.md, GET /v1/nodes). */
static json_t *
node_public_json(const struct node *nd)
{
	char mac[MAC_STR_LEN], ip[IPV4_STR_LEN], when[NODES_TIME_STR_LEN];
	json_t *o, *tl = NULL, *ev = json_null();
	size_t i;

	mac_format(nd->mac, mac);
	ipv4_format(nd->ip, ip);
	if (nd->has_event) {
		nodes_time_format(nd->last_time, when);
		ev = json_pack("{s:s, s:s, s:s, s:s}", "step",
			       nd->last_event.step, "status",
			       event_status_name(nd->last_event.status),
			       "message", nd->last_event.message, "time", when);
		if (ev != NULL && nd->last_event.output[0] != '\0' &&
		    json_object_set_new(ev, "output",
					json_string(nd->last_event.output)) <
			    0) {
			json_decref(ev);
			return NULL;
		}
	}
	tl = json_array();
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "name", nd->name,
		      "mac", mac, "ip", nd->ip ? ip : "", "role", nd->role,
		      "state", node_state_name(nd->state), "last_event", ev,
		      "timeline", tl);
	if (o == NULL)
		return NULL;
	for (i = 0; i < nd->ntimeline; i++) {
		nodes_time_format(nd->timeline[i].time, when);
		if (json_array_append_new(tl, json_pack("{s:s, s:s}", "event",
							nd->timeline[i].event,
							"time", when)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int
nodes_render_json(const struct nodes *ns, struct buf *out)
{
	json_t *root, *arr;
	char *text = NULL;
	size_t i;
	int r = -ENOMEM;

	arr = json_array();
	root = json_pack("{s:o}", "nodes", arr);
	if (root == NULL)
		return -ENOMEM;
	for (i = 0; i < ns->n; i++) {
		json_t *o = node_public_json(&ns->v[i]);

		if (o == NULL || json_array_append_new(arr, o) < 0)
			goto out;
	}
	text = json_dumps(root, JSON_COMPACT);
	if (text == NULL)
		goto out;
	r = buf_puts(out, text);
	if (r == 0)
		r = buf_puts(out, "\n");
out:
	free(text);
	json_decref(root);
	return r;
}

int
nodes_render_node_json(const struct node *nd, struct buf *out)
{
	json_t *o = node_public_json(nd);
	char *text = NULL;
	int r = -ENOMEM;

	if (o == NULL)
		return -ENOMEM;
	text = json_dumps(o, JSON_COMPACT);
	if (text != NULL)
		r = buf_puts(out, text);
	free(text);
	json_decref(o);
	return r;
}

void
nodes_count_states(const struct nodes *ns, size_t counts[NODE_STATE_COUNT])
{
	size_t i;

	memset(counts, 0, NODE_STATE_COUNT * sizeof(counts[0]));
	for (i = 0; i < ns->n; i++)
		counts[ns->v[i].state]++;
}
