/*
 * test_netboot_events.c - the agent's event JSON: accepted shapes, every
 * kind of malformed body, size caps and message cutting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "events.h"

static int
parse(const char *s, struct node_event *ev)
{
	return event_parse(s, strlen(s), ev);
}

static void
test_ok(void **state)
{
	struct node_event ev;

	(void)state;
	assert_int_equal(
		parse("{\"step\":\"fetch\",\"status\":\"running\"}", &ev), 0);
	assert_string_equal(ev.step, "fetch");
	assert_int_equal(ev.status, EVENT_RUNNING);
	assert_string_equal(ev.message, "");
	assert_int_equal(parse("{\"step\":\"done\",\"status\":\"ok\","
			       "\"message\":\"all good\",\"extra\":[1,2]}",
			       &ev),
			 0);
	assert_int_equal(ev.status, EVENT_OK);
	assert_string_equal(ev.message, "all good");
	assert_int_equal(parse(" {\"status\":\"failed\",\"step\":\"wait-api\","
			       "\"message\":null} ",
			       &ev),
			 0);
	assert_int_equal(ev.status, EVENT_FAILED);
	assert_string_equal(ev.step, "wait-api");
	assert_string_equal(event_status_name(EVENT_FAILED), "failed");
}

static void
test_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"null",
		"[]",
		"\"x\"",
		"{}",
		"{\"step\":\"fetch\"}",
		"{\"status\":\"ok\"}",
		"{\"step\":\"fetch\",\"status\":\"done\"}",
		"{\"step\":\"fetch\",\"status\":\"OK\"}",
		"{\"step\":\"fetch\",\"status\":1}",
		"{\"step\":1,\"status\":\"ok\"}",
		"{\"step\":\"\",\"status\":\"ok\"}",
		"{\"step\":\"Fetch\",\"status\":\"ok\"}",
		"{\"step\":\"a b\",\"status\":\"ok\"}",
		"{\"step\":\"a\\u0000b\",\"status\":\"ok\"}",
		"{\"step\":\"fetch\",\"status\":\"ok\\u0000\"}",
		"{\"step\":\"fetch\",\"status\":\"ok\",\"message\":5}",
		"{\"step\":\"fetch\",\"status\":\"ok\",\"step\":\"x\"}",
		"{\"step\":\"fetch\",\"status\":\"ok\"} trailing",
		"{\"step\":\"fetch\",\"status\":\"ok\",\"message\":\"\xff\"}",
		("{\"step\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"status\":"
		 "\"ok\"}"),
	};
	struct node_event ev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i], &ev);

		if (r != -EINVAL)
			fail_msg("%s: %d", bad[i], r);
	}
	assert_int_equal(event_parse(NULL, 0, &ev), -EINVAL);
	/* Length is what counts, not NUL termination. */
	assert_int_equal(
		event_parse("{\"step\":\"a\",\"status\":\"ok\"}", 10, &ev),
		-EINVAL);
}

static void
test_caps(void **state)
{
	char body[EVENT_BODY_MAX + 64];
	struct node_event ev;
	int n;

	(void)state;
	/* A message over the cap is cut, on a UTF-8 boundary. */
	n = snprintf(body, sizeof(body),
		     "{\"step\":\"x\",\"status\":\"ok\","
		     "\"message\":\"");
	memset(body + n, 'm', EVENT_MESSAGE_MAX - 1);
	n += EVENT_MESSAGE_MAX - 1;
	memcpy(body + n, "\xc3\xa9\"}", 5); /* e-acute straddles the cap */
	assert_int_equal(parse(body, &ev), 0);
	assert_int_equal(strlen(ev.message), EVENT_MESSAGE_MAX - 1);
	/* The whole body is capped. */
	memset(body, ' ', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memcpy(body, "{\"step\":\"x\",\"status\":\"ok\"}", 26);
	assert_int_equal(parse(body, &ev), -E2BIG);
	body[EVENT_BODY_MAX] = '\0';
	assert_int_equal(parse(body, &ev), 0);
	/* Deep nesting in an ignored key is bounded by the body cap. */
	memset(body, '[', EVENT_BODY_MAX);
	body[EVENT_BODY_MAX] = '\0';
	assert_int_equal(parse(body, &ev), -EINVAL);
}

/* A failed program's output: optional, its tail kept, never a number. */
static void
test_output(void **state)
{
	char body[EVENT_BODY_MAX];
	struct node_event ev;
	int n;

	(void)state;
	assert_int_equal(parse("{\"step\":\"kubeadm\",\"status\":\"failed\","
			       "\"message\":\"exit 1\",\"output\":\"error: "
			       "x\\nline 2\\n\"}",
			       &ev),
			 0);
	assert_string_equal(ev.output, "error: x\nline 2\n");
	assert_int_equal(parse("{\"step\":\"a\",\"status\":\"ok\"}", &ev), 0);
	assert_string_equal(ev.output, "");
	assert_int_equal(parse("{\"step\":\"a\",\"status\":\"failed\","
			       "\"output\":[1]}",
			       &ev),
			 -EINVAL);
	/* Past the cap: the last EVENT_OUTPUT_MAX bytes, whole characters. */
	n = snprintf(body, sizeof(body),
		     "{\"step\":\"x\",\"status\":\"failed\",\"output\":\""
		     "\xc3\xa9");
	memset(body + n, 'o', EVENT_OUTPUT_MAX - 1);
	n += EVENT_OUTPUT_MAX - 1;
	memcpy(body + n, "END\"}", 6);
	assert_int_equal(parse(body, &ev), 0);
	assert_int_equal(strlen(ev.output), EVENT_OUTPUT_MAX);
	assert_string_equal(ev.output + EVENT_OUTPUT_MAX - 3, "END");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
