/*
 * test_netboot_http_io.c - the HTTP service's limit flags: defaults equal
 * the named constants, each flag sets its limit, and out-of-range or
 * malformed values are refused without changing anything. (The service
 * itself is driven by tests/interop/http_*.sh.)
 */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_io.h"

static void
test_defaults(void **state)
{
	(void)state;
	assert_int_equal(http_limits.max_conns, HTTP_CONN_MAX);
	assert_int_equal(http_limits.max_per_ip, HTTP_CONN_PER_IP_MAX);
	assert_int_equal(http_limits.idle_timeout, HTTP_IDLE_TIMEOUT);
	assert_int_equal(http_limits.header_timeout, HTTP_HEADER_TIMEOUT);
	assert_int_equal(http_limits.max_header, HTTP_HEADER_MAX);
	assert_int_equal(http_limits.max_body, HTTP_BODY_MAX);
}

static void
test_options(void **state)
{
	static const struct option opts[] = { HTTP_LIMIT_OPTIONS };
	struct http_limits before;
	size_t i;

	(void)state;
	assert_int_equal(sizeof(opts) / sizeof(opts[0]), HTTP_NOPTS);
	for (i = 0; i < HTTP_NOPTS; i++) {
		assert_int_equal(opts[i].val, HTTP_OPT_BASE + (int)i);
		assert_non_null(strstr(HTTP_LIMIT_USAGE, opts[i].name));
	}
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 0, "5"), 0);
	assert_int_equal(http_limits.max_conns, 5);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 1, "65536"), 0);
	assert_int_equal(http_limits.max_per_ip, 65536);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 2, "1"), 0);
	assert_int_equal(http_limits.idle_timeout, 1);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 3, "3600"), 0);
	assert_int_equal(http_limits.header_timeout, 3600);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 4, "1024"), 0);
	assert_int_equal(http_limits.max_header, 1024);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 5, "1048576"), 0);
	assert_int_equal(http_limits.max_body, 1048576);

	before = http_limits;
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 0, "0"), -EINVAL);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 1, "65537"),
			 -EINVAL);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 2, "-1"), -EINVAL);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 3, "10s"), -EINVAL);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 4, "1023"),
			 -EINVAL);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + 5, ""), -EINVAL);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE + HTTP_NOPTS, "1"),
			 -EINVAL);
	assert_int_equal(http_limits_option(HTTP_OPT_BASE - 1, "1"), -EINVAL);
	assert_memory_equal(&before, &http_limits, sizeof(before));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
