/*
 * test_netboot_http_bulk.c - a file body sent on a worker loop: the range
 * arrives whole at the peer and done runs on the owner loop with the byte
 * count; a peer that closes or stops reading ends it with an error; a
 * bulk still out when the workers stop is cancelled without done.
 */
#include "http_bulk.h"
#include "server.h"
#include "workers.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define FILE_LEN (3u << 20)

struct outcome {
	struct netboot *nb;
	bool called;
	int err;
	uint64_t sent;
	pthread_t ran_on;
};

static void
on_done(void *arg, int err, uint64_t sent)
{
	struct outcome *o = arg;

	o->called = true;
	o->err = err;
	o->sent = sent;
	o->ran_on = pthread_self();
	event_base_loopbreak(o->nb->base);
}

/* A temporary file of FILE_LEN bytes, byte i = i * 7 % 251. */
static int
make_file(void)
{
	char path[] = "/tmp/mb-bulk.XXXXXX";
	int fd = mkstemp(path);
	uint8_t *b = malloc(FILE_LEN);
	size_t i;

	assert_true(fd >= 0);
	assert_non_null(b);
	unlink(path);
	for (i = 0; i < FILE_LEN; i++)
		b[i] = (uint8_t)(i * 7 % 251);
	assert_int_equal(write(fd, b, FILE_LEN), (ssize_t)FILE_LEN);
	free(b);
	return fd;
}

static void
start_workers(struct netboot *nb)
{
	memset(nb, 0, sizeof(*nb));
	nb->base = nb_loop_new();
	assert_non_null(nb->base);
	nb->nworkers = 2;
	assert_int_equal(nb_workers_start(nb), 0);
	assert_int_equal(nb_workers_run(nb), 0);
}

static void
stop_workers(struct netboot *nb)
{
	nb_workers_stop(nb);
	nb_workers_free(nb);
	event_base_free(nb->base);
}

struct reader {
	int fd;
	size_t want;
	uint8_t *got;
	size_t len;
};

static void *
read_all(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	while (r->len < r->want) {
		n = read(r->fd, r->got + r->len, r->want - r->len);
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	return NULL;
}

/* A range in the middle of the file arrives whole, done on the owner. */
static void
test_range_arrives(void **state)
{
	struct netboot nb;
	struct outcome o;
	struct http_bulk_req rq;
	struct http_bulk *b = NULL;
	struct reader r;
	pthread_t t;
	int sv[2], flags;
	size_t i;

	(void)state;
	start_workers(&nb);
	memset(&o, 0, sizeof(o));
	o.nb = &nb;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	flags = fcntl(sv[0], F_GETFL);
	assert_int_equal(fcntl(sv[0], F_SETFL, flags | O_NONBLOCK), 0);
	memset(&rq, 0, sizeof(rq));
	rq.sock = sv[0];
	rq.file = make_file();
	rq.offset = 1000;
	rq.len = FILE_LEN - 5000;
	rq.idle_s = 30;
	rq.done = on_done;
	rq.arg = &o;
	memset(&r, 0, sizeof(r));
	r.fd = sv[1];
	r.want = (size_t)rq.len;
	r.got = malloc(r.want + 1);
	assert_non_null(r.got);
	assert_int_equal(pthread_create(&t, NULL, read_all, &r), 0);
	assert_int_equal(http_bulk_start(&nb, 1, &rq, &b), 0);
	assert_non_null(b);
	event_base_dispatch(nb.base);
	pthread_join(t, NULL);
	assert_true(o.called);
	assert_int_equal(o.err, 0);
	assert_int_equal(o.sent, rq.len);
	assert_true(pthread_equal(o.ran_on, pthread_self()));
	assert_int_equal(r.len, rq.len);
	for (i = 0; i < r.len; i++)
		if (r.got[i] != (uint8_t)((i + 1000) * 7 % 251))
			fail_msg("byte %zu differs", i);
	free(r.got);
	close(sv[0]);
	close(sv[1]);
	stop_workers(&nb);
}

/* Workers, a nonblocking socket pair, and a request for the whole file. */
struct rig {
	struct netboot nb;
	struct outcome o;
	struct http_bulk_req rq;
	struct http_bulk *b;
	int sv[2];
};

static void
rig_up(struct rig *g, unsigned idle_s)
{
	memset(g, 0, sizeof(*g));
	start_workers(&g->nb);
	g->o.nb = &g->nb;
	assert_int_equal(
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, g->sv), 0);
	g->rq.sock = g->sv[0];
	g->rq.file = make_file();
	g->rq.len = FILE_LEN; /* more than the socket pair buffers */
	g->rq.idle_s = idle_s;
	g->rq.done = on_done;
	g->rq.arg = &g->o;
}

static void
rig_down(struct rig *g)
{
	close(g->sv[0]);
	if (g->sv[1] >= 0)
		close(g->sv[1]);
	stop_workers(&g->nb);
}

/* The peer leaves: an error, and the bytes sent so far. */
static void
test_peer_closes(void **state)
{
	struct rig g;

	(void)state;
	rig_up(&g, 30);
	close(g.sv[1]);
	g.sv[1] = -1;
	assert_int_equal(http_bulk_start(&g.nb, 0, &g.rq, &g.b), 0);
	event_base_dispatch(g.nb.base);
	assert_true(g.o.called);
	assert_int_equal(g.o.err, -EPIPE);
	assert_true(g.o.sent < FILE_LEN);
	rig_down(&g);
}

/* A peer that reads nothing: no progress for idle_s, -ETIMEDOUT. */
static void
test_stalled_peer(void **state)
{
	struct rig g;

	(void)state;
	rig_up(&g, 1);
	assert_int_equal(http_bulk_start(&g.nb, 0, &g.rq, &g.b), 0);
	event_base_dispatch(g.nb.base);
	assert_true(g.o.called);
	assert_int_equal(g.o.err, -ETIMEDOUT);
	assert_true(g.o.sent > 0 && g.o.sent < FILE_LEN);
	rig_down(&g);
}

/*
 * The workers stop with a bulk out (its peer reads nothing, no timeout):
 * cancelling it frees it without done (LeakSanitizer checks the rest).
 */
static void
test_cancel_at_stop(void **state)
{
	struct rig g;

	(void)state;
	rig_up(&g, 0);
	assert_int_equal(http_bulk_start(&g.nb, 1, &g.rq, &g.b), 0);
	nb_workers_stop(&g.nb);
	assert_false(g.o.called);
	http_bulk_cancel(g.b);
	assert_false(g.o.called);
	rig_down(&g); /* stopping again is a no-op */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_arrives),
		cmocka_unit_test(test_peer_closes),
		cmocka_unit_test(test_stalled_peer),
		cmocka_unit_test(test_cancel_at_stop),
	};

	signal(SIGPIPE, SIG_IGN); /* as the daemon does: EPIPE instead */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
