/*
 * workers.c - worker loops and the mailboxes between loops (workers.h).
 * A mailbox is a mutex-guarded list of jobs and an eventfd the receiving
 * loop watches; no libevent structure is shared between threads.
 */
#include "workers.h"

#include "log.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

struct mailbox {
	pthread_mutex_t mu;
	struct nb_job *head, *tail;
	int efd;
	struct event *ev;
	bool quit; /* a worker's: leave the loop */
};

struct worker {
	struct netboot *nb;
	struct event_base *base;
	struct mailbox mb;
	pthread_t thread;
	bool running;
	/* The thread's, on it: its id, its nice at start, bodies sending. */
	pid_t tid;
	int base_nice;
	unsigned bulk_active;
	struct nb_counters counters;
};

struct nb_workers {
	struct mailbox owner;
	struct worker *w;
	unsigned n;
};

/* Take every job of m, in posting order. */
static struct nb_job *
mailbox_take(struct mailbox *m)
{
	struct nb_job *j;

	pthread_mutex_lock(&m->mu);
	j = m->head;
	m->head = m->tail = NULL;
	pthread_mutex_unlock(&m->mu);
	return j;
}

static void
run_jobs(struct nb_job *j)
{
	struct nb_job *next;

	for (; j != NULL; j = next) {
		bool owned = j->owned;

		next = j->next;
		/* j is the caller's until fn returns, and fn may free it. */
		if (owned) {
			nb_job_fn fn = j->fn;
			void *arg = j->arg;

			free(j);
			fn(arg);
		} else {
			j->fn(j->arg);
		}
	}
}

static void
on_mail(evutil_socket_t fd, short what, void *arg)
{
	struct mailbox *m = arg;
	uint64_t v;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("workers: mailbox: %s", strerror(errno));
	run_jobs(mailbox_take(m));
}

static int
mailbox_init(struct mailbox *m, struct event_base *base)
{
	memset(m, 0, sizeof(*m));
	m->efd = -1;
	if (pthread_mutex_init(&m->mu, NULL) != 0)
		return -ENOMEM;
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->efd < 0)
		return -errno;
	m->ev = event_new(base, m->efd, EV_READ | EV_PERSIST, on_mail, m);
	if (m->ev == NULL || event_add(m->ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

static void
mailbox_done(struct mailbox *m)
{
	struct nb_job *j, *next;

	if (m->ev != NULL)
		event_free(m->ev);
	if (m->efd >= 0)
		close(m->efd);
	/* nb_workers_stop ran them all; a job posted since is dropped. */
	for (j = mailbox_take(m); j != NULL; j = next) {
		next = j->next;
		if (j->owned)
			free(j);
	}
	pthread_mutex_destroy(&m->mu);
}

static void
mailbox_put(struct mailbox *m, struct nb_job *j)
{
	uint64_t one = 1;

	j->next = NULL;
	pthread_mutex_lock(&m->mu);
	if (m->tail != NULL)
		m->tail->next = j;
	else
		m->head = j;
	m->tail = j;
	pthread_mutex_unlock(&m->mu);
	/* Cannot fail short of a counter at 2^64 - 1: it is read every time. */
	if (write(m->efd, &one, sizeof(one)) < 0)
		log_debug("workers: mailbox: %s", strerror(errno));
}

static int
mailbox_post(struct mailbox *m, nb_job_fn fn, void *arg)
{
	struct nb_job *j = malloc(sizeof(*j));

	if (j == NULL)
		return -ENOMEM;
	j->fn = fn;
	j->arg = arg;
	j->owned = true;
	mailbox_put(m, j);
	return 0;
}

/* A worker's quit job: leave its loop after this turn. */
static void
quit_job(void *arg)
{
	struct worker *w = arg;

	w->mb.quit = true;
	event_base_loopbreak(w->base);
}

/* Set the worker thread's nice (Linux keeps one per thread). */
static void
worker_nice(struct worker *w, int to)
{
	if (to > 19)
		to = 19;
	if (setpriority(PRIO_PROCESS, (id_t)w->tid, to) < 0)
		log_debug("workers: nice %d: %s", to, strerror(errno));
}

void
nb_worker_bulk(struct netboot *nb, int i, bool start)
{
	struct worker *w = &nb->workers->w[i];

	if (w->tid != gettid())
		return; /* a job run at stop, on the main thread */
	if (start && w->bulk_active++ == 0)
		worker_nice(w, w->base_nice + NB_WORKER_NICE);
	else if (!start && --w->bulk_active == 0)
		worker_nice(w, w->base_nice);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	w->tid = gettid();
	errno = 0;
	w->base_nice = getpriority(PRIO_PROCESS, (id_t)w->tid);
	if (w->base_nice == -1 && errno != 0)
		w->base_nice = 0;
	while (!w->mb.quit)
		if (event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY) < 0)
			break;
	return NULL;
}

struct event_base *
nb_loop_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (cfg == NULL)
		return NULL;
	if (event_config_set_max_dispatch_interval(cfg, NULL, NB_BULK_BURST,
						   NB_PRIO_BULK) == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base != NULL && event_base_priority_init(base, NB_PRIO_COUNT) < 0) {
		event_base_free(base);
		base = NULL;
	}
	return base;
}

unsigned
nb_workers_auto(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > NB_WORKERS_MAX ? NB_WORKERS_MAX : (unsigned)n;
}

/*
 * While privileged: let the threads return to the process's nice after a
 * body (RLIMIT_NICE; without it only root may lower a nice value). Not
 * above the process's own priority. Failure leaves a worker that sent
 * bodies at NB_WORKER_NICE.
 */
static void
allow_nice_back(void)
{
	struct rlimit rl;
	int cur;

	errno = 0;
	cur = getpriority(PRIO_PROCESS, 0);
	if ((cur == -1 && errno != 0) || getrlimit(RLIMIT_NICE, &rl) < 0 ||
	    rl.rlim_cur >= (rlim_t)(20 - cur))
		return;
	rl.rlim_cur = (rlim_t)(20 - cur);
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	if (setrlimit(RLIMIT_NICE, &rl) < 0)
		log_debug("workers: RLIMIT_NICE: %s", strerror(errno));
}

int
nb_workers_start(struct netboot *nb)
{
	struct nb_workers *ws;
	unsigned i;
	int r;

	ws = calloc(1, sizeof(*ws));
	if (ws == NULL)
		return -ENOMEM;
	nb->workers = ws;
	r = mailbox_init(&ws->owner, nb->base);
	if (r < 0)
		return r;
	if (nb->nworkers == 0)
		return 0;
	allow_nice_back();
	ws->w = calloc(nb->nworkers, sizeof(*ws->w));
	if (ws->w == NULL)
		return -ENOMEM;
	for (i = 0; i < nb->nworkers; i++, ws->n++) {
		struct worker *w = &ws->w[i];

		w->nb = nb;
		w->base = nb_loop_new();
		if (w->base == NULL)
			return -ENOMEM;
		r = mailbox_init(&w->mb, w->base);
		if (r < 0) {
			ws->n++; /* free what was made */
			return r;
		}
	}
	log_info("workers: %u loops for transfers besides the owner's",
		 nb->nworkers);
	return 0;
}

int
nb_workers_run(struct netboot *nb)
{
	struct nb_workers *ws = nb->workers;
	unsigned i;
	int r;

	for (i = 0; ws != NULL && i < ws->n; i++) {
		r = pthread_create(&ws->w[i].thread, NULL, worker_main,
				   &ws->w[i]);
		if (r != 0) {
			log_warn_r(-r, "workers: thread %u", i);
			return -r;
		}
		ws->w[i].running = true;
	}
	return 0;
}

void
nb_workers_stop(struct netboot *nb)
{
	struct nb_workers *ws = nb->workers;
	bool left = true;
	unsigned i;

	if (ws == NULL)
		return;
	for (i = 0; i < ws->n; i++) {
		if (!ws->w[i].running)
			continue;
		if (mailbox_post(&ws->w[i].mb, quit_job, &ws->w[i]) < 0)
			ws->w[i].mb.quit = true; /* racy, but only at OOM */
		pthread_join(ws->w[i].thread, NULL);
		ws->w[i].running = false;
	}
	/* Single-threaded now: what the loops did not get to runs here. */
	while (left) {
		struct nb_job *j = mailbox_take(&ws->owner);

		left = j != NULL;
		run_jobs(j);
		for (i = 0; i < ws->n; i++) {
			j = mailbox_take(&ws->w[i].mb);
			left = left || j != NULL;
			run_jobs(j);
		}
	}
}

void
nb_workers_free(struct netboot *nb)
{
	struct nb_workers *ws = nb->workers;
	unsigned i;

	if (ws == NULL)
		return;
	for (i = 0; i < ws->n; i++) {
		mailbox_done(&ws->w[i].mb);
		if (ws->w[i].base != NULL)
			event_base_free(ws->w[i].base);
	}
	mailbox_done(&ws->owner);
	free(ws->w);
	free(ws);
	nb->workers = NULL;
}

struct event_base *
nb_worker_base(const struct netboot *nb, unsigned i)
{
	return nb->workers->w[i].base;
}

struct nb_counters *
nb_worker_counters(const struct netboot *nb, unsigned i)
{
	return &nb->workers->w[i].counters;
}

int
nb_post(struct netboot *nb, int to, nb_job_fn fn, void *arg)
{
	struct nb_workers *ws = nb->workers;

	if (to == NB_OWNER)
		return mailbox_post(&ws->owner, fn, arg);
	return mailbox_post(&ws->w[to].mb, fn, arg);
}

void
nb_post_job(struct netboot *nb, int to, struct nb_job *job)
{
	struct nb_workers *ws = nb->workers;

	job->owned = false;
	mailbox_put(to == NB_OWNER ? &ws->owner : &ws->w[to].mb, job);
}

/* See server.h. */
void
nb_counters_sum(const struct netboot *nb, struct nb_counters *ret)
{
	const struct nb_workers *ws = nb->workers;
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)ret;
	size_t f, nf = sizeof(*ret) / sizeof(uint64_t);
	unsigned i;

	*ret = nb->counters;
	for (i = 0; ws != NULL && i < ws->n; i++) {
		src = (const uint64_t *)&ws->w[i].counters;
		for (f = 0; f < nf; f++)
			dst[f] += __atomic_load_n(&src[f], __ATOMIC_RELAXED);
	}
}
