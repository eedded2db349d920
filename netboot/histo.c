/*
 * histo.c - latency histograms in Prometheus's text format (histo.h).
 */
#include "histo.h"

#include <errno.h>
#include <string.h>

const double histo_bounds[HISTO_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25,	0.5,   1,      2.5,   5,    10,	   30,	 60,
};

void
histo_observe(struct histo *h, double seconds)
{
	size_t i;

	if (!(seconds > 0)) /* negative, zero or NaN */
		seconds = 0;
	h->count++;
	h->sum += seconds;
	for (i = 0; i < HISTO_BUCKETS; i++) {
		if (seconds <= histo_bounds[i]) {
			h->bucket[i]++;
			return;
		}
	}
	h->over++;
}

static int
name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 100 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz_") == n;
}

int
histo_render(struct buf *out, const char *name, const char *help,
	     const struct histo *h)
{
	uint64_t cum = 0;
	size_t i;
	int r;

	if (!name_ok(name))
		return -EINVAL;
	r = buf_printf(out,
		       "# HELP metalboot_%s %s\n"
		       "# TYPE metalboot_%s histogram\n",
		       name, help, name);
	for (i = 0; r == 0 && i < HISTO_BUCKETS; i++) {
		cum += h->bucket[i];
		r = buf_printf(out, "metalboot_%s_bucket{le=\"%g\"} %llu\n",
			       name, histo_bounds[i], (unsigned long long)cum);
	}
	if (r == 0)
		r = buf_printf(out,
			       "metalboot_%s_bucket{le=\"+Inf\"} %llu\n"
			       "metalboot_%s_sum %.6f\n"
			       "metalboot_%s_count %llu\n",
			       name, (unsigned long long)(cum + h->over), name,
			       h->sum, name, (unsigned long long)h->count);
	return r;
}
