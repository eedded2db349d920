/*
 * test_netboot_leases.c - the lease table: one address per machine, the
 * file format, and save/load through the state directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "leases.h"

static const uint8_t m1[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t m2[6] = { 2, 0, 0, 0, 0, 2 };

static void
test_unique(void **state)
{
	struct leases t;

	(void)state;
	leases_init(&t);
	assert_int_equal(leases_set(&t, m1, 100, LEASE_BOUND, 50), 0);
	assert_int_equal(leases_set(&t, m2, 101, LEASE_BOUND, 50), 0);
	/* m2 takes 100: m1 loses it, m2 loses 101. */
	assert_int_equal(leases_set(&t, m2, 100, LEASE_OFFERED, 60), 0);
	assert_int_equal(t.n, 1);
	assert_null(leases_find_mac(&t, m1));
	assert_null(leases_find_ip(&t, 101));
	assert_int_equal(leases_find_mac(&t, m2)->ip, 100);
	/* A declined address is not the machine's lease. */
	assert_int_equal(leases_set(&t, m1, 102, LEASE_DECLINED, 70), 0);
	assert_int_equal(leases_set(&t, m1, 103, LEASE_BOUND, 70), 0);
	assert_int_equal(leases_find_mac(&t, m1)->ip, 103);
	assert_int_equal(leases_find_ip(&t, 102)->state, LEASE_DECLINED);
	assert_int_equal(leases_count(&t, LEASE_BOUND, 60), 1);
	assert_int_equal(leases_count(&t, LEASE_BOUND, 70), 0);
	leases_remove_mac(&t, m1);
	assert_null(leases_find_ip(&t, 103));
	/* Lapsed offers and declines go; bound leases stay, even expired. */
	assert_int_equal(leases_set(&t, m1, 104, LEASE_BOUND, 10), 0);
	assert_int_equal(leases_prune(&t, 65), 1); /* m2's offer */
	assert_null(leases_find_mac(&t, m2));
	assert_non_null(leases_find_ip(&t, 102)); /* declined until 70 */
	assert_int_equal(leases_prune(&t, 70), 1);
	assert_null(leases_find_ip(&t, 102));
	assert_int_equal(leases_find_mac(&t, m1)->ip, 104);
	leases_done(&t);
	leases_done(NULL);
}

/*
 * One MAC holds its lease and at most LEASES_PER_MAC - 1 declined
 * entries; a file written before the cap loads without the surplus.
 */
static void
test_per_mac_cap(void **state)
{
	static const char file[] = "# metalboot leases 1\n"
				   "02:00:00:00:00:01 0.0.0.1 declined 90\n"
				   "02:00:00:00:00:01 0.0.0.2 declined 90\n"
				   "02:00:00:00:00:01 0.0.0.3 declined 90\n"
				   "02:00:00:00:00:01 0.0.0.4 declined 90\n"
				   "02:00:00:00:00:01 0.0.0.5 declined 90\n"
				   "02:00:00:00:00:01 0.0.0.9 bound 90\n"
				   "02:00:00:00:00:02 0.0.0.6 declined 90\n";
	struct leases t;
	size_t line = 0;
	uint32_t ip;

	(void)state;
	leases_init(&t);
	assert_int_equal(leases_set(&t, m1, 50, LEASE_BOUND, 90), 0);
	for (ip = 1; ip < LEASES_PER_MAC; ip++)
		assert_int_equal(leases_set(&t, m1, ip, LEASE_DECLINED, 90), 0);
	assert_int_equal(leases_set(&t, m1, 99, LEASE_DECLINED, 90), -EDQUOT);
	assert_null(leases_find_ip(&t, 99));
	/* The same address declined again replaces its entry. */
	assert_int_equal(leases_set(&t, m1, 1, LEASE_DECLINED, 95), 0);
	assert_int_equal(leases_find_ip(&t, 1)->expires, 95);
	/* The lease itself still moves; other MACs are not limited by m1. */
	assert_int_equal(leases_set(&t, m1, 51, LEASE_BOUND, 90), 0);
	assert_int_equal(leases_set(&t, m2, 98, LEASE_DECLINED, 90), 0);
	assert_int_equal(t.n, LEASES_PER_MAC + 1);
	assert_int_equal(leases_declined_by(&t, m1), LEASES_PER_MAC - 1);
	leases_done(&t);
	assert_int_equal(leases_parse(&t, file, sizeof(file) - 1, &line), 0);
	assert_int_equal(leases_declined_by(&t, m1), LEASES_PER_MAC - 1);
	assert_int_equal(leases_find_mac(&t, m1)->ip, 9);
	assert_int_equal(leases_declined_by(&t, m2), 1);
	leases_done(&t);
}

static void
test_format_parse(void **state)
{
	struct leases t, u;
	char *s = NULL;
	size_t len, line = 0, i;

	(void)state;
	leases_init(&t);
	leases_init(&u);
	assert_int_equal(
		leases_set(&t, m1, 0xc0a86464, LEASE_BOUND, 1763800000), 0);
	assert_int_equal(
		leases_set(&t, m2, 0xc0a86465, LEASE_RELEASED, 1763800001), 0);
	assert_int_equal(leases_format(&t, &s, &len), 0);
	assert_string_equal(s, LEASES_HEADER
			    "02:00:00:00:00:01 192.168.100.100 bound "
			    "1763800000\n02:00:00:00:00:02 192.168.100.101 "
			    "released 1763800001\n");
	assert_int_equal(leases_parse(&u, s, len, &line), 0);
	assert_int_equal(u.n, 2);
	for (i = 0; i < 2; i++) {
		assert_memory_equal(u.v[i].mac, t.v[i].mac, 6);
		assert_int_equal(u.v[i].ip, t.v[i].ip);
		assert_int_equal(u.v[i].state, t.v[i].state);
		assert_int_equal(u.v[i].expires, t.v[i].expires);
	}
	free(s);
	leases_done(&u);
	leases_done(&t);
}

static void
test_parse_rejects(void **state)
{
	static const char *bad[] = {
		"02:00:00:00:00:01 192.168.100.100 bound\n",
		"02:00:00:00:00:01 192.168.100.100 bound 1 extra\n",
		"02:00:00:00:00:0 192.168.100.100 bound 1\n",
		"02:00:00:00:00:01 192.168.100.300 bound 1\n",
		"02:00:00:00:00:01 192.168.100.100 lost 1\n",
		"02:00:00:00:00:01 192.168.100.100 bound -1\n",
		"02:00:00:00:00:01  192.168.100.100 bound 1\n",
		"02:00:00:00:00:01 10.0.0.1 bound 99999999999999999999\n",
	};
	struct leases t;
	size_t i, line;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		int n = snprintf(text, sizeof(text), "%s%s", LEASES_HEADER,
				 bad[i]);

		leases_init(&t);
		line = 0;
		assert_int_equal(leases_parse(&t, text, (size_t)n, &line),
				 -EINVAL);
		assert_int_equal(line, 2);
		leases_done(&t);
	}
}

static void
test_save_load(void **state)
{
	char dir[] = "/tmp/mbleasesXXXXXX";
	char path[300];
	struct leases t, u;
	size_t line = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	leases_init(&t);
	leases_init(&u);
	/* No file yet: empty table. */
	assert_int_equal(leases_load(&u, dir, &line), 0);
	assert_int_equal(u.n, 0);
	assert_int_equal(leases_set(&t, m1, 7, LEASE_BOUND, 99), 0);
	assert_int_equal(leases_save(&t, dir), 0);
	assert_int_equal(leases_load(&u, dir, &line), 0);
	assert_int_equal(u.n, 1);
	assert_int_equal(leases_find_mac(&u, m1)->ip, 7);
	leases_done(&u);
	/* A damaged file is reported with its line. */
	snprintf(path, sizeof(path), "%s/%s", dir, LEASES_FILE);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("garbage\n", f);
	fclose(f);
	assert_int_equal(leases_load(&u, dir, &line), -EINVAL);
	assert_int_equal(line, 3);
	leases_done(&u);
	leases_done(&t);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique),
		cmocka_unit_test(test_per_mac_cap),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_save_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
