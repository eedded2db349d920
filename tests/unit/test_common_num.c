/* test_common_num.c - the strict number and duration parsers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "num.h"

static void
test_u64_accepts(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(num_parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(num_parse_u64("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(
		num_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(num_parse_u64n("123abc", 3, 0, 1000, &v), 0);
	assert_int_equal(v, 123);
}

static void
test_u64_rejects(void **state)
{
	static const char *bad[] = { "",     " 1",  "1 ",  "+1", "-1",
				     "0x10", "1e3", "12a", "١",	 "1.0" };
	uint64_t v = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(num_parse_u64(bad[i], 0, 1000, &v), -EINVAL);
		assert_int_equal(v, 42); /* untouched on failure */
	}
	assert_int_equal(num_parse_u64(NULL, 0, 1, &v), -EINVAL);
	assert_int_equal(num_parse_u64n("1", 0, 0, 1, &v), -EINVAL);
}

static void
test_u64_range_boundaries(void **state)
{
	uint64_t v = 0;

	(void)state;
	/* Both sides of each boundary. */
	assert_int_equal(num_parse_u64("7", 8, 65464, &v), -ERANGE);
	assert_int_equal(num_parse_u64("8", 8, 65464, &v), 0);
	assert_int_equal(num_parse_u64("65464", 8, 65464, &v), 0);
	assert_int_equal(num_parse_u64("65465", 8, 65464, &v), -ERANGE);
	assert_int_equal(
		num_parse_u64("18446744073709551616", 0, UINT64_MAX, &v),
		-ERANGE);
	assert_int_equal(
		num_parse_u64("99999999999999999999x", 0, UINT64_MAX, &v),
		-EINVAL);
}

static void
test_int(void **state)
{
	int v = 0;

	(void)state;
	assert_int_equal(num_parse_int("65535", 1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(num_parse_int("0", 1, 65535, &v), -ERANGE);
	assert_int_equal(num_parse_int("-5", 0, 10, &v), -EINVAL);
	assert_int_equal(num_parse_int("5", -1, 10, &v), -EINVAL);
}

static void
test_duration(void **state)
{
	uint64_t s = 0;

	(void)state;
	assert_int_equal(num_parse_duration("24h", UINT64_MAX, &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(num_parse_duration("1h30m", UINT64_MAX, &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(num_parse_duration("90s", UINT64_MAX, &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(num_parse_duration("1h0m5s", UINT64_MAX, &s), 0);
	assert_int_equal(s, 3605);
	assert_int_equal(num_parse_duration("", 100, &s), -EINVAL);
	assert_int_equal(num_parse_duration("h", 100, &s), -EINVAL);
	assert_int_equal(num_parse_duration("10", 100, &s), -EINVAL);
	assert_int_equal(num_parse_duration("5m1h", 100000, &s), -EINVAL);
	assert_int_equal(num_parse_duration("1h1h", 100000, &s), -EINVAL);
	assert_int_equal(num_parse_duration("1d", 100000, &s), -EINVAL);
	assert_int_equal(num_parse_duration("2m", 119, &s), -ERANGE);
	assert_int_equal(num_parse_duration("2m", 120, &s), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_accepts),
		cmocka_unit_test(test_u64_rejects),
		cmocka_unit_test(test_u64_range_boundaries),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
