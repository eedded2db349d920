/*
 * test_netboot_sse_io.c - event streams on a real evhttp on loopback, in
 * this process, with short limits: a stream gets its opening bytes, the
 * published events and keep-alives, and ends cleanly after its lifetime;
 * a client that goes away frees its stream and request (ASan watches); a
 * reader that reads nothing is dropped; a second stream from an address
 * over its cap is refused. The loop runs until each outcome or a bound of
 * iterations; nothing is asserted about how long anything took.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>
#include <event2/http.h>

#include "sse_io.h"

#define SPINS 20000 /* loop turns before giving up on an outcome */

struct rig {
	struct event_base *base;
	struct evhttp *http;
	struct sse_io *io;
	uint16_t port;
	int last_open; /* what sse_io_open said to the last request */
};

/* Per connection: the slot http_io.c keeps in its struct conn. */
struct holder {
	struct sse_io_stream *stream;
};

static void
closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct holder *h = arg;

	(void)evcon;
	sse_io_gone(h->stream, true);
	free(h);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct rig *rig = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct holder *h = calloc(1, sizeof(*h));
	struct buf hello;

	assert_non_null(h);
	evhttp_connection_set_closecb(evcon, closed_cb, h);
	buf_init(&hello, 4096);
	assert_int_equal(sse_retry(&hello, 2000), 0);
	assert_int_equal(sse_frame(&hello, "nodes", "{\"nodes\":[]}", 12), 0);
	rig->last_open =
		sse_io_open(rig->io, req, 0x7f000001, &hello, &h->stream);
	buf_done(&hello);
	if (rig->last_open < 0)
		evhttp_send_error(req, 503, NULL);
}

static void
rig_start(struct rig *rig, const struct sse_limits *lim)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(rig, 0, sizeof(*rig));
	rig->base = event_base_new();
	assert_non_null(rig->base);
	rig->http = evhttp_new(rig->base);
	assert_non_null(rig->http);
	evhttp_set_timeout(rig->http, 30);
	evhttp_set_gencb(rig->http, request_cb, rig);
	bs = evhttp_bind_socket_with_handle(rig->http, "127.0.0.1", 0);
	assert_non_null(bs);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs),
				     (struct sockaddr *)&sin, &len),
			 0);
	rig->port = ntohs(sin.sin_port);
	rig->io = sse_io_new(rig->base, lim, 30);
	assert_non_null(rig->io);
}

/* As http_io_stop: evhttp first (its close callbacks reach us), then us. */
static void
rig_stop(struct rig *rig)
{
	evhttp_free(rig->http);
	sse_io_free(rig->io);
	event_base_free(rig->base);
}

/* A client: connected, request sent, non-blocking. rcvbuf 0: default. */
static int
client(const struct rig *rig, int rcvbuf)
{
	static const char req[] = "GET /v1/events HTTP/1.1\r\n"
				  "Host: 127.0.0.1\r\n\r\n";
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					    sizeof(rcvbuf)),
				 0);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	sin.sin_port = htons(rig->port);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(write(fd, req, sizeof(req) - 1),
			 (ssize_t)(sizeof(req) - 1));
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/* What a client has read so far, and whether the server closed. */
struct inbox {
	char data[1 << 16];
	size_t len;
	bool eof;
};

static void
drain(int fd, struct inbox *in)
{
	ssize_t n;

	while (!in->eof && in->len < sizeof(in->data) - 1) {
		n = read(fd, in->data + in->len,
			 sizeof(in->data) - 1 - in->len);
		if (n <= 0) {
			in->eof = n == 0 || errno == ECONNRESET;
			break;
		}
		in->len += (size_t)n;
	}
	in->data[in->len] = '\0';
}

static void
spin(struct rig *rig)
{
	event_base_loop(rig->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	usleep(500);
}

static void
test_stream_lifetime(void **state)
{
	struct sse_limits lim;
	struct inbox in = { .len = 0 };
	struct rig rig;
	int fd, i;

	(void)state;
	sse_limits_default(&lim);
	lim.lifetime_ms = 2500;
	lim.keepalive_ms = 500;
	rig_start(&rig, &lim);
	fd = client(&rig, 0);
	for (i = 0; i < SPINS && sse_io_count(rig.io) == 0; i++)
		spin(&rig);
	assert_int_equal(rig.last_open, 0);
	assert_int_equal(sse_io_count(rig.io), 1);
	sse_io_publish(rig.io, "node", "{\"name\":\"cp1\"}", 14);
	/* Until the server ends the stream and closes. */
	for (i = 0; i < SPINS && !in.eof; i++) {
		spin(&rig);
		drain(fd, &in);
	}
	assert_true(in.eof);
	assert_int_equal(sse_io_count(rig.io), 0);
	assert_non_null(strstr(in.data, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(in.data, "Content-Type: text/event-stream\r\n"));
	assert_non_null(strstr(in.data, "Connection: close\r\n"));
	assert_non_null(strstr(in.data, "retry: 2000\n\nevent: nodes\n"
					"data: {\"nodes\":[]}\n\n"));
	assert_non_null(
		strstr(in.data, "event: node\ndata: {\"name\":\"cp1\"}"));
	assert_non_null(strstr(in.data, ": keep-alive\n\n"));
	/* The chunked body's end. */
	assert_true(in.len >= 5);
	assert_memory_equal(in.data + in.len - 5, "0\r\n\r\n", 5);
	close(fd);
	rig_stop(&rig);
}

static void
test_client_leaves(void **state)
{
	struct sse_limits lim;
	struct inbox in1 = { .len = 0 }, in2 = { .len = 0 };
	struct rig rig;
	int fd1, fd2, i;

	(void)state;
	sse_limits_default(&lim);
	rig_start(&rig, &lim);
	fd1 = client(&rig, 0);
	fd2 = client(&rig, 0);
	for (i = 0; i < SPINS && sse_io_count(rig.io) < 2; i++)
		spin(&rig);
	assert_int_equal(sse_io_count(rig.io), 2);
	sse_io_publish(rig.io, "node", "{\"n\":1}", 7);
	for (i = 0; i < SPINS && (!strstr(in1.data, "event: node") ||
				  !strstr(in2.data, "event: node"));
	     i++) {
		spin(&rig);
		drain(fd1, &in1);
		drain(fd2, &in2);
	}
	assert_non_null(strstr(in1.data, "data: {\"n\":1}"));
	assert_non_null(strstr(in2.data, "data: {\"n\":1}"));
	/* One goes away: its stream and request are freed, not the other. */
	close(fd1);
	for (i = 0; i < SPINS && sse_io_count(rig.io) > 1; i++)
		spin(&rig);
	assert_int_equal(sse_io_count(rig.io), 1);
	sse_io_publish(rig.io, "node", "{\"n\":2}", 7);
	for (i = 0; i < SPINS && !strstr(in2.data, "{\"n\":2}"); i++) {
		spin(&rig);
		drain(fd2, &in2);
	}
	assert_non_null(strstr(in2.data, "{\"n\":2}"));
	/* Stopping with a stream open frees everything (ASan checks). */
	rig_stop(&rig);
	close(fd2);
}

static void
test_slow_reader_dropped(void **state)
{
	static char big[8192];
	struct sse_limits lim;
	struct rig rig;
	int fd, i;

	(void)state;
	memset(big, 'x', sizeof(big));
	sse_limits_default(&lim);
	lim.max_pending = 32768;
	rig_start(&rig, &lim);
	fd = client(&rig, 4096); /* and never read */
	for (i = 0; i < SPINS && sse_io_count(rig.io) == 0; i++)
		spin(&rig);
	assert_int_equal(sse_io_count(rig.io), 1);
	/* Kernel buffers fill, then ours, then the reader is let go. */
	for (i = 0; i < SPINS && sse_io_count(rig.io) > 0; i++) {
		sse_io_publish(rig.io, "node", big, sizeof(big));
		spin(&rig);
	}
	assert_int_equal(sse_io_count(rig.io), 0);
	close(fd);
	rig_stop(&rig);
}

static void
test_per_address_cap(void **state)
{
	struct sse_limits lim;
	struct inbox in = { .len = 0 };
	struct rig rig;
	int fd1, fd2, i;

	(void)state;
	sse_limits_default(&lim);
	lim.max_per_ip = 1;
	rig_start(&rig, &lim);
	fd1 = client(&rig, 0);
	for (i = 0; i < SPINS && sse_io_count(rig.io) == 0; i++)
		spin(&rig);
	fd2 = client(&rig, 0);
	for (i = 0; i < SPINS && !strstr(in.data, "\r\n\r\n"); i++) {
		spin(&rig);
		drain(fd2, &in);
	}
	assert_int_equal(rig.last_open, -EUSERS);
	assert_non_null(strstr(in.data, "HTTP/1.1 503"));
	assert_int_equal(sse_io_count(rig.io), 1);
	close(fd1);
	close(fd2);
	rig_stop(&rig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_lifetime),
		cmocka_unit_test(test_client_leaves),
		cmocka_unit_test(test_slow_reader_dropped),
		cmocka_unit_test(test_per_address_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
