/*
 * test_netboot_sse.c - the event stream's framing read back as a browser
 * reads it, stream admission (total and per address), lifetimes and
 * keep-alives, the slow-reader rule; and the fleet page's embedded files
 * and cluster document.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sse.h"
#include "sse_decode.h"
#include "ui.h"

/* Frame data, read it back, and check the client gets it (normalized). */
static void
round_trip(const char *name, const char *data)
{
	size_t len = strlen(data);
	char acc[4096], got[4096], want[4096];
	struct sse_decoded d = { .data = got, .cap = sizeof(got) };
	struct buf b;

	assert_true(len < sizeof(want));
	buf_init(&b, 1u << 20);
	assert_int_equal(sse_frame(&b, name, data, len), 0);
	sse_decode(&d, b.data, b.len, acc);
	assert_int_equal(d.events, 1);
	assert_string_equal(d.type, name);
	assert_int_equal(d.len, sse_normalize(data, len, want));
	assert_memory_equal(got, want, d.len);
	buf_done(&b);
}

static void
test_frame(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(sse_frame(&b, "node", "{\"a\":1}", 7), 0);
	assert_string_equal(b.data, "event: node\ndata: {\"a\":1}\n\n");
	buf_done(&b);
	assert_int_equal(sse_frame(&b, "x", "a\nb", 3), 0);
	assert_string_equal(b.data, "event: x\ndata: a\ndata: b\n\n");
	buf_done(&b);
	/* Empty data: one empty data line, so that the event is dispatched. */
	assert_int_equal(sse_frame(&b, "x", "", 0), 0);
	assert_string_equal(b.data, "event: x\ndata: \n\n");
	buf_done(&b);
	/* CR LF is one break, a lone CR another, a trailing LF an empty line.
	 */
	assert_int_equal(sse_frame(&b, "x", "a\r\nb\rc\n", 7), 0);
	assert_string_equal(b.data,
			    "event: x\ndata: a\ndata: b\ndata: c\ndata: \n\n");
	buf_done(&b);
	round_trip("node", "{\"nodes\":[]}");
	round_trip("a-b_c9", "line1\r\n\r\nline3\r");
	round_trip("x", "\n\n\n");
	round_trip("x", ": not a comment\nevent: not a type");
	round_trip("x", " leading space kept");
	round_trip("x", "");
}

static void
test_frame_bad(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(sse_frame(&b, "", "x", 1), -EINVAL);
	assert_int_equal(sse_frame(&b, "Node", "x", 1), -EINVAL);
	assert_int_equal(sse_frame(&b, "a b", "x", 1), -EINVAL);
	assert_int_equal(sse_frame(&b, "a\nb", "x", 1), -EINVAL);
	assert_int_equal(
		sse_frame(&b, "0123456789012345678901234567890123", "x", 1),
		-EINVAL);
	assert_int_equal(sse_frame(&b, "x", "a\0b", 3), -EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(sse_comment(&b, "a\nb"), -EINVAL);
	assert_int_equal(sse_comment(&b, "a\rb"), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_done(&b);
	/* A buffer too small: E2BIG, nothing half-promised. */
	buf_init(&b, 16);
	assert_int_equal(sse_frame(&b, "node", "0123456789", 10), -E2BIG);
	buf_done(&b);
}

static void
test_comment_retry(void **state)
{
	char acc[256], got[256];
	struct sse_decoded d = { .data = got, .cap = sizeof(got) };
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(sse_retry(&b, 2000), 0);
	assert_int_equal(sse_comment(&b, "keep-alive"), 0);
	assert_string_equal(b.data, "retry: 2000\n\n: keep-alive\n\n");
	sse_decode(&d, b.data, b.len, acc);
	assert_int_equal(d.events, 0);
	assert_int_equal(d.comments, 1);
	assert_int_equal(d.retry, 2000);
	buf_done(&b);
}

static void
test_hub_caps(void **state)
{
	struct sse_limits lim;
	struct sse_hub *hub;
	struct sse_stream *s[8], *t = NULL;
	int dummy;
	size_t i;

	(void)state;
	sse_limits_default(&lim);
	assert_int_equal(lim.max_streams, SSE_STREAMS_MAX);
	lim.max_streams = 6;
	lim.max_per_ip = 2;
	hub = sse_hub_new(&lim);
	assert_non_null(hub);
	/* Two per address, then EUSERS for that address only. */
	assert_int_equal(sse_hub_add(hub, 1, 0, &dummy, &s[0]), 0);
	assert_ptr_equal(s[0]->io, &dummy);
	assert_int_equal(s[0]->ip, 1);
	assert_int_equal(sse_hub_add(hub, 1, 0, NULL, &s[1]), 0);
	assert_int_equal(sse_hub_add(hub, 1, 0, NULL, &t), -EUSERS);
	assert_null(t);
	assert_int_equal(sse_hub_count_ip(hub, 1), 2);
	for (i = 2; i < 6; i++)
		assert_int_equal(
			sse_hub_add(hub, (uint32_t)(i / 2 + 1), 0, NULL, &s[i]),
			0);
	assert_int_equal(hub->n, 6);
	/* Six in all: EMFILE for anyone, before the per-address rule. */
	assert_int_equal(sse_hub_add(hub, 99, 0, NULL, &t), -EMFILE);
	assert_int_equal(sse_hub_add(hub, 1, 0, NULL, &t), -EMFILE);
	/* A removed stream frees its place, for its address too. */
	sse_hub_remove(hub, s[1]);
	assert_int_equal(hub->n, 5);
	assert_int_equal(sse_hub_count_ip(hub, 1), 1);
	assert_int_equal(sse_hub_add(hub, 1, 0, NULL, &s[1]), 0);
	/* Removing what is not there changes nothing. */
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	sse_hub_remove(hub, t);
	assert_int_equal(hub->n, 6);
	free(t);
	/* Free with streams still in: the hub owns them (ASan checks). */
	assert_null(sse_hub_free(hub));
	assert_null(sse_hub_free(NULL));
}

static void
test_due(void **state)
{
	struct sse_limits lim;
	struct sse_stream s = { .ip = 1, .opened_ms = 1000, .last_ms = 1000 };

	(void)state;
	sse_limits_default(&lim);
	assert_int_equal(sse_due(&lim, &s, 1000), SSE_KEEP);
	assert_int_equal(sse_due(&lim, &s, 1000 + SSE_KEEPALIVE_MS - 1),
			 SSE_KEEP);
	assert_int_equal(sse_due(&lim, &s, 1000 + SSE_KEEPALIVE_MS), SSE_PING);
	s.last_ms = 1000 + SSE_KEEPALIVE_MS;
	assert_int_equal(sse_due(&lim, &s, 1000 + SSE_KEEPALIVE_MS + 1),
			 SSE_KEEP);
	/* The lifetime wins over a due keep-alive, and over recent bytes. */
	s.last_ms = 1000;
	assert_int_equal(sse_due(&lim, &s, 1000 + SSE_LIFETIME_MS), SSE_END);
	s.last_ms = 1000 + SSE_LIFETIME_MS - 1;
	assert_int_equal(sse_due(&lim, &s, 1000 + SSE_LIFETIME_MS - 1),
			 SSE_KEEP);
	assert_int_equal(sse_due(&lim, &s, 1000 + SSE_LIFETIME_MS), SSE_END);
}

static void
test_can_queue(void **state)
{
	struct sse_limits lim;

	(void)state;
	sse_limits_default(&lim);
	lim.max_pending = 100;
	/* An empty queue takes anything: the opening snapshot is big. */
	assert_true(sse_can_queue(&lim, 0, 1000000));
	assert_true(sse_can_queue(&lim, 60, 40));
	assert_false(sse_can_queue(&lim, 60, 41));
	assert_true(sse_can_queue(&lim, 100, 0));
	assert_false(sse_can_queue(&lim, 101, 0));
	assert_false(sse_can_queue(&lim, 1, SIZE_MAX));
}

static void
test_ui_assets(void **state)
{
	const struct ui_asset *a;
	size_t i;

	(void)state;
	a = ui_asset_find(UI_INDEX);
	assert_non_null(a);
	assert_true(a->len > 0);
	assert_int_equal(a->data[a->len], 0); /* embed.cmake's terminator */
	assert_int_equal(strlen(a->etag), 18);
	assert_int_equal(a->etag[0], '"');
	assert_null(ui_asset_find("nope.js"));
	assert_null(ui_asset_find(""));
	for (i = 0; i < ui_nassets; i++) {
		assert_true(ui_name_ok(ui_assets[i].name));
		/* Sorted, unique. */
		if (i > 0)
			assert_true(strcmp(ui_assets[i - 1].name,
					   ui_assets[i].name) < 0);
		/* Nothing from elsewhere: no URL with a scheme or "//". */
		assert_null(strstr((const char *)ui_assets[i].data, "http:"));
		assert_null(strstr((const char *)ui_assets[i].data, "https:"));
	}
}

static void
test_ui_names(void **state)
{
	(void)state;
	assert_string_equal(ui_content_type("index.html"),
			    "text/html; charset=utf-8");
	assert_string_equal(ui_content_type("app.js"),
			    "text/javascript; charset=utf-8");
	assert_string_equal(ui_content_type("style.css"),
			    "text/css; charset=utf-8");
	assert_string_equal(ui_content_type("logo.svg"), "image/svg+xml");
	assert_string_equal(ui_content_type("x.bin"),
			    "application/octet-stream");
	assert_string_equal(ui_content_type(".js"), "application/octet-stream");
	assert_true(ui_name_ok("app.js"));
	assert_true(ui_name_ok("a_b-c.1"));
	assert_false(ui_name_ok(""));
	assert_false(ui_name_ok(".hidden"));
	assert_false(ui_name_ok(".."));
	assert_false(ui_name_ok("a/b"));
	assert_false(ui_name_ok("A.js"));
	assert_false(ui_name_ok("a b"));
	assert_false(ui_name_ok("a%2e"));
	assert_false(ui_name_ok("01234567890123456789012345678901234567890"
				"123456789012345678901234"));
}

static void
test_cluster_json(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, UI_CLUSTER_MAX);
	assert_int_equal(ui_cluster_json("lab", "v1.30.2",
					 "2026-11-22T08:30:00.123Z", &b),
			 0);
	assert_string_equal(
		b.data, "{\"name\":\"lab\",\"kubernetes_version\":"
			"\"v1.30.2\",\"time\":\"2026-11-22T08:30:00.123Z\"}");
	buf_done(&b);
	assert_int_equal(ui_cluster_json(NULL, NULL, "t", &b), 0);
	assert_string_equal(b.data, "{\"name\":null,\"kubernetes_version\":"
				    "null,\"time\":\"t\"}");
	buf_done(&b);
	/* Quotes and controls are escaped, never break out. */
	assert_int_equal(ui_cluster_json("a\"<b>\n", "v", "t", &b), 0);
	assert_non_null(strstr(b.data, "\"a\\\"<b>\\n\""));
	buf_done(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_frame_bad),
		cmocka_unit_test(test_comment_retry),
		cmocka_unit_test(test_hub_caps),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_can_queue),
		cmocka_unit_test(test_ui_assets),
		cmocka_unit_test(test_ui_names),
		cmocka_unit_test(test_cluster_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
