/* test_netboot_storm.c - offer pacing and the per-file transfer cap. */
#include "storm.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void
test_unpaced(void **state)
{
	struct storm_pace_conf conf = { 0, 0, 0, 0 };
	struct storm_pace p;
	uint64_t at = 0;
	bool paced = true;
	int i;

	(void)state;
	storm_pace_init(&p, &conf);
	for (i = 0; i < 10000; i++)
		assert_int_equal(storm_pace_admit(&p, 0, 1000, 7, &at, &paced),
				 STORM_NOW);
	assert_false(paced);
	assert_int_equal(storm_pace_queued(&p), 0);
}

/* Both sides of the bucket: burst at once, then one per interval. */
static void
test_burst_then_paced(void **state)
{
	struct storm_pace_conf conf = { 10, 3, 0, 100 }; /* 100 ms apart */
	struct storm_pace p;
	uint64_t at = 0, now = 5000000;
	bool paced = false;
	int i;

	(void)state;
	storm_pace_init(&p, &conf);
	for (i = 0; i < 3; i++)
		assert_int_equal(storm_pace_admit(&p, 0, now, 0, &at, &paced),
				 STORM_NOW);
	assert_int_equal(storm_pace_admit(&p, 0, now, 0, &at, &paced),
			 STORM_LATER);
	assert_true(paced);
	assert_int_equal(at, now + 100000);
	assert_int_equal(storm_pace_admit(&p, 0, now, 0, &at, &paced),
			 STORM_LATER);
	assert_int_equal(at, now + 200000);
	assert_int_equal(storm_pace_queued(&p), 2);
	storm_pace_sent(&p, 0);
	storm_pace_sent(&p, 0);
	assert_int_equal(storm_pace_queued(&p), 0);
	/* A second later the bucket is full again. */
	for (i = 0; i < 3; i++)
		assert_int_equal(
			storm_pace_admit(&p, 0, now + 2000000, 0, &at, &paced),
			STORM_NOW);
}

/* Segments have buckets of their own. */
static void
test_segments(void **state)
{
	struct storm_pace_conf conf = { 1, 1, 0, 10 };
	struct storm_pace p;
	uint64_t at = 0;
	bool paced = false;

	(void)state;
	storm_pace_init(&p, &conf);
	assert_int_equal(storm_pace_admit(&p, 0, 1, 0, &at, &paced), STORM_NOW);
	assert_int_equal(storm_pace_admit(&p, 0x0a000001, 1, 0, &at, &paced),
			 STORM_NOW);
	assert_int_equal(storm_pace_admit(&p, 0, 1, 0, &at, &paced),
			 STORM_LATER);
	assert_int_equal(at, 1000001);
}

/* Past the queue bound: dropped, and a drop does not move the bucket. */
static void
test_queue_bound(void **state)
{
	struct storm_pace_conf conf = { 100, 1, 0, 2 };
	struct storm_pace p;
	uint64_t at = 0;
	bool paced = false;

	(void)state;
	storm_pace_init(&p, &conf);
	assert_int_equal(storm_pace_admit(&p, 0, 0, 0, &at, &paced), STORM_NOW);
	assert_int_equal(storm_pace_admit(&p, 0, 0, 0, &at, &paced),
			 STORM_LATER);
	assert_int_equal(storm_pace_admit(&p, 0, 0, 0, &at, &paced),
			 STORM_LATER);
	assert_int_equal(at, 20000);
	assert_int_equal(storm_pace_admit(&p, 0, 0, 0, &at, &paced),
			 STORM_DROP);
	storm_pace_sent(&p, 0);
	assert_int_equal(storm_pace_admit(&p, 0, 0, 0, &at, &paced),
			 STORM_LATER);
	assert_int_equal(at, 30000);
}

/* Jitter alone delays within [0, jitter_ms] and is not pacing. */
static void
test_jitter(void **state)
{
	struct storm_pace_conf conf = { 0, 0, 50, 0 };
	struct storm_pace p;
	uint64_t at = 0;
	bool paced = true;

	(void)state;
	storm_pace_init(&p, &conf);
	assert_int_equal(storm_pace_admit(&p, 0, 1000, 0, &at, &paced),
			 STORM_NOW);
	assert_int_equal(storm_pace_admit(&p, 0, 1000, 50, &at, &paced),
			 STORM_LATER);
	assert_int_equal(at, 1000 + 50000);
	assert_false(paced);
	assert_int_equal(storm_pace_admit(&p, 0, 1000, 51, &at, &paced),
			 STORM_NOW); /* 51 % 51 = 0 */
	assert_int_equal(
		storm_pace_admit(&p, 0, 1000, 0xfffffffeu, &at, &paced),
		STORM_LATER);
	assert_true(at <= 1000 + 50000);
}

/* More segments than buckets: the last one is shared, and counted. */
static void
test_segments_overflow(void **state)
{
	struct storm_pace_conf conf = { 1, 1, 0, 1000 };
	struct storm_pace p;
	uint64_t at = 0;
	bool paced = false;
	uint32_t i;

	(void)state;
	storm_pace_init(&p, &conf);
	for (i = 0; i < STORM_SEGMENTS_MAX + 5; i++)
		storm_pace_admit(&p, i + 1, 0, 0, &at, &paced);
	assert_int_equal(storm_pace_queued(&p), 5);
	storm_pace_sent(&p, 9999);
	assert_int_equal(storm_pace_queued(&p), 4);
}

static void
test_cap(void **state)
{
	struct storm_caps caps = { 2, NULL };
	struct storm_cap_entry *a = NULL, *b = NULL, *c = NULL;
	const uint64_t k1[2] = { 1, 2 }, k2[2] = { 1, 3 };

	(void)state;
	assert_int_equal(storm_cap_take(&caps, k1, &a), 0);
	assert_int_equal(storm_cap_take(&caps, k1, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(storm_cap_take(&caps, k1, &c), -EBUSY);
	assert_ptr_equal(c, a);
	assert_int_equal(storm_cap_take(&caps, k2, &c), 0);
	assert_ptr_not_equal(c, a);
	/* A waiter on k1: the put says wake it. */
	a->waiting++;
	assert_true(storm_cap_put(&caps, a));
	assert_int_equal(storm_cap_take(&caps, k1, &b), 0);
	storm_cap_unwait(&caps, a);
	assert_false(storm_cap_put(&caps, a));
	assert_false(storm_cap_put(&caps, a)); /* k1 freed */
	assert_ptr_equal(caps.list, c);
	storm_caps_done(&caps);
	assert_null(caps.list);
}

static void
test_cap_unlimited(void **state)
{
	struct storm_caps caps = { 0, NULL };
	struct storm_cap_entry *e = NULL;
	const uint64_t k[2] = { 7, 7 };
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(storm_cap_take(&caps, k, &e), 0);
	assert_int_equal(e->active, 1000);
	storm_caps_done(&caps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpaced),
		cmocka_unit_test(test_burst_then_paced),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_segments_overflow),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_cap_unlimited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
