/*
 * test_netboot_workers.c - worker loops and mailboxes: jobs run on the
 * loop they were posted to, in order, come back to the owner loop, the
 * counters of every loop are summed, and stop runs what was left; a
 * loop runs bulk events only when nothing else is ready, a burst at a
 * time.
 */
#include "server.h"
#include "workers.h"

#include <event2/event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#define ROUNDS 200

struct trip {
	struct netboot *nb;
	struct nb_job job;
	int worker;
	pthread_t ran_on;
	unsigned seq; /* order of arrival on the owner loop */
};

static unsigned arrived;

static void
back_home(void *arg)
{
	struct trip *t = arg;

	t->seq = arrived++;
	if (arrived == ROUNDS)
		event_base_loopbreak(t->nb->base);
}

static void
on_worker(void *arg)
{
	struct trip *t = arg;

	t->ran_on = pthread_self();
	NB_ADD(&nb_worker_counters(t->nb, (unsigned)t->worker)->tftp_requests,
	       1);
	t->job.fn = back_home;
	nb_post_job(t->nb, NB_OWNER, &t->job);
}

static void
test_round_trips(void **state)
{
	static struct trip trips[ROUNDS];
	struct netboot nb;
	struct nb_counters sum;
	unsigned i;

	(void)state;
	memset(&nb, 0, sizeof(nb));
	nb.base = event_base_new();
	nb.nworkers = 2;
	nb.counters.tftp_requests = 5; /* the owner's own */
	assert_int_equal(nb_workers_start(&nb), 0);
	assert_int_equal(nb_workers_run(&nb), 0);
	arrived = 0;
	for (i = 0; i < ROUNDS; i++) {
		trips[i].nb = &nb;
		trips[i].worker = (int)(i % 2);
		trips[i].job.fn = on_worker;
		trips[i].job.arg = &trips[i];
		nb_post_job(&nb, trips[i].worker, &trips[i].job);
	}
	event_base_dispatch(nb.base);
	nb_workers_stop(&nb);
	assert_int_equal(arrived, ROUNDS);
	for (i = 0; i < ROUNDS; i++)
		assert_false(pthread_equal(trips[i].ran_on, pthread_self()));
	/* Each worker ran its jobs in posting order: back in order too. */
	for (i = 2; i < ROUNDS; i++)
		assert_true(trips[i].seq > trips[i - 2].seq);
	nb_counters_sum(&nb, &sum);
	assert_int_equal(sum.tftp_requests, 5 + ROUNDS);
	nb_workers_free(&nb);
	event_base_free(nb.base);
}

static unsigned ran_at_stop;

static void
count_job(void *arg)
{
	(void)arg;
	ran_at_stop++;
}

/* Jobs nobody ran (the loops are gone) run at stop, on the caller. */
static void
test_stop_runs_leftovers(void **state)
{
	struct netboot nb;

	(void)state;
	memset(&nb, 0, sizeof(nb));
	nb.base = event_base_new();
	nb.nworkers = 1;
	assert_int_equal(nb_workers_start(&nb), 0);
	/* The threads never ran: everything waits in the mailboxes. */
	ran_at_stop = 0;
	assert_int_equal(nb_post(&nb, 0, count_job, NULL), 0);
	assert_int_equal(nb_post(&nb, NB_OWNER, count_job, NULL), 0);
	nb_workers_stop(&nb);
	assert_int_equal(ran_at_stop, 2);
	nb_workers_free(&nb);
	event_base_free(nb.base);
}

/* No workers: only the owner's mailbox. */
static void
test_no_workers(void **state)
{
	struct netboot nb;

	(void)state;
	memset(&nb, 0, sizeof(nb));
	nb.base = event_base_new();
	assert_int_equal(nb_workers_start(&nb), 0);
	assert_int_equal(nb_workers_run(&nb), 0);
	ran_at_stop = 0;
	assert_int_equal(nb_post(&nb, NB_OWNER, count_job, NULL), 0);
	event_base_loop(nb.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(ran_at_stop, 1);
	nb_workers_stop(&nb);
	nb_workers_free(&nb);
	event_base_free(nb.base);
	assert_true(nb_workers_auto() >= 1);
}

static int nice_seen[3] = { 100, 100, 100 };

static void
stop_owner(void *arg)
{
	struct netboot *nb = arg;

	event_base_loopbreak(nb->base);
}

static int
my_nice(void)
{
	return getpriority(PRIO_PROCESS, (id_t)gettid());
}

/* On worker 0: its nice idle, sending a body, and after it. */
static void
note_nice(void *arg)
{
	struct netboot *nb = arg;

	nice_seen[0] = my_nice();
	nb_worker_bulk(nb, 0, true);
	nb_worker_bulk(nb, 0, true); /* a second body: still one step */
	nice_seen[1] = my_nice();
	nb_worker_bulk(nb, 0, false);
	nb_worker_bulk(nb, 0, false);
	nice_seen[2] = my_nice();
	assert_int_equal(nb_post(nb, NB_OWNER, stop_owner, nb), 0);
}

/*
 * A worker thread runs NB_WORKER_NICE levels below the process while it
 * sends bodies, and is back at the process's nice after the last (the
 * tests run as root: nb_workers_start raised RLIMIT_NICE).
 */
static void
test_worker_nice(void **state)
{
	struct netboot nb;
	int own = my_nice();
	int want = own + NB_WORKER_NICE > 19 ? 19 : own + NB_WORKER_NICE;

	(void)state;
	memset(&nb, 0, sizeof(nb));
	nb.base = event_base_new();
	nb.nworkers = 1;
	assert_int_equal(nb_workers_start(&nb), 0);
	assert_int_equal(nb_workers_run(&nb), 0);
	assert_int_equal(nb_post(&nb, 0, note_nice, &nb), 0);
	event_base_dispatch(nb.base);
	nb_workers_stop(&nb);
	assert_int_equal(nice_seen[0], own);
	assert_int_equal(nice_seen[1], want);
	assert_int_equal(nice_seen[2], own);
	assert_int_equal(my_nice(), own);
	nb_workers_free(&nb);
	event_base_free(nb.base);
}

#define NBULK 40

struct ran {
	struct event_base *base;
	int pipe[2];
	unsigned normal, bulk;
	unsigned bulk_seen_by_normal[2]; /* r.bulk when normal ran */
};

/* A default-priority event: ready when a byte is in the pipe. */
static void
on_normal(evutil_socket_t fd, short what, void *arg)
{
	struct ran *r = arg;
	char c;

	(void)what;
	assert_int_equal(read(fd, &c, 1), 1);
	if (r->normal < 2)
		r->bulk_seen_by_normal[r->normal] = r->bulk;
	r->normal++;
}

/* A bulk event; the first one makes the normal event ready. */
static void
on_bulk(evutil_socket_t fd, short what, void *arg)
{
	struct ran *r = arg;

	(void)fd;
	(void)what;
	if (r->bulk++ == 0)
		assert_int_equal(write(r->pipe[1], "x", 1), 1);
	if (r->bulk == NBULK)
		event_base_loopbreak(r->base);
}

/*
 * Bulk events already active still wait for a default one that is ready,
 * and a turn runs at most NB_BULK_BURST of them before polling again,
 * where a default event that became ready meanwhile goes first.
 */
static void
test_bulk_yields(void **state)
{
	struct event *bulk[NBULK], *normal;
	struct ran r;
	unsigned i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.base = nb_loop_new();
	assert_non_null(r.base);
	assert_int_equal(event_base_get_npriorities(r.base), NB_PRIO_COUNT);
	assert_int_equal(pipe(r.pipe), 0);
	for (i = 0; i < NBULK; i++) {
		bulk[i] = event_new(r.base, -1, 0, on_bulk, &r);
		assert_non_null(bulk[i]);
		assert_int_equal(event_priority_set(bulk[i], NB_PRIO_BULK), 0);
		event_active(bulk[i], EV_READ, 0);
	}
	/* Default priority: not set. Ready at the first poll. */
	normal = event_new(r.base, r.pipe[0], EV_READ | EV_PERSIST, on_normal,
			   &r);
	assert_non_null(normal);
	assert_int_equal(event_add(normal, NULL), 0);
	assert_int_equal(write(r.pipe[1], "x", 1), 1);
	assert_int_equal(event_base_dispatch(r.base), 0);
	assert_int_equal(r.bulk, NBULK);
	assert_int_equal(r.normal, 2);
	assert_int_equal(r.bulk_seen_by_normal[0], 0);
	assert_int_equal(r.bulk_seen_by_normal[1], NB_BULK_BURST);
	for (i = 0; i < NBULK; i++)
		event_free(bulk[i]);
	event_free(normal);
	close(r.pipe[0]);
	close(r.pipe[1]);
	event_base_free(r.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_stop_runs_leftovers),
		cmocka_unit_test(test_no_workers),
		cmocka_unit_test(test_bulk_yields),
		cmocka_unit_test(test_worker_nice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
