/* test_netboot_histo.c - latency histograms in Prometheus's text format. */
#include "histo.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* out holds this exact line. */
static void
has_line(const struct buf *out, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(out->data, want) == NULL)
		fail_msg("no line '%s' in:\n%s", line, out->data);
}

static void
test_buckets_cumulative(void **state)
{
	struct histo h;
	struct buf out;

	(void)state;
	memset(&h, 0, sizeof(h));
	histo_observe(&h, 0.0002); /* <= 0.0005 */
	histo_observe(&h, 0.0005); /* on the bound: in it */
	histo_observe(&h, 0.003);  /* <= 0.005 */
	histo_observe(&h, 2.0);	   /* <= 2.5 */
	histo_observe(&h, 120);	   /* above every bound */
	histo_observe(&h, -1);	   /* clamped to 0 */
	buf_init(&out, 1 << 16);
	assert_int_equal(
		histo_render(&out, "dhcp_offer_seconds", "Offers.", &h), 0);
	assert_non_null(strstr(out.data,
			       "# HELP metalboot_dhcp_offer_seconds "
			       "Offers.\n# TYPE "
			       "metalboot_dhcp_offer_seconds histogram\n"));
	has_line(&out, "metalboot_dhcp_offer_seconds_bucket{le=\"0.0005\"} 3");
	has_line(&out, "metalboot_dhcp_offer_seconds_bucket{le=\"0.001\"} 3");
	has_line(&out, "metalboot_dhcp_offer_seconds_bucket{le=\"0.005\"} 4");
	has_line(&out, "metalboot_dhcp_offer_seconds_bucket{le=\"2.5\"} 5");
	has_line(&out, "metalboot_dhcp_offer_seconds_bucket{le=\"60\"} 5");
	has_line(&out, "metalboot_dhcp_offer_seconds_bucket{le=\"+Inf\"} 6");
	has_line(&out, "metalboot_dhcp_offer_seconds_count 6");
	has_line(&out, "metalboot_dhcp_offer_seconds_sum 122.003700");
	buf_done(&out);
}

static void
test_empty_and_bad_name(void **state)
{
	struct histo h;
	struct buf out;
	size_t lines = 0;
	const char *p;

	(void)state;
	memset(&h, 0, sizeof(h));
	buf_init(&out, 1 << 16);
	assert_int_equal(histo_render(&out, "x_seconds", "X.", &h), 0);
	for (p = out.data; *p != '\0'; p++)
		lines += *p == '\n';
	/* HELP, TYPE, 16 bounds, +Inf, _sum, _count. */
	assert_int_equal(lines, 2 + HISTO_BUCKETS + 1 + 2);
	has_line(&out, "metalboot_x_seconds_count 0");
	assert_int_equal(histo_render(&out, "Bad-Name", "X.", &h), -EINVAL);
	assert_int_equal(histo_render(&out, "", "X.", &h), -EINVAL);
	buf_done(&out);
	buf_init(&out, 64);
	assert_int_equal(histo_render(&out, "x_seconds", "X.", &h), -E2BIG);
	buf_done(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_cumulative),
		cmocka_unit_test(test_empty_and_bad_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
