/*
 * histo.h - latency histograms for /metrics, rendered in Prometheus's text
 * format (a "histogram": cumulative _bucket{le="..."} lines, _sum, _count).
 * Pure: no clock, no I/O; callers measure and observe.
 *
 * One fixed set of bucket bounds, 0.5 ms to 60 s, covers the three the
 * daemon keeps: a DHCP offer's latency (milliseconds), an HTTP reply's
 * time to its first byte (milliseconds) and a TFTP transfer's time
 * (seconds to minutes).
 */
#ifndef MB_NB_HISTO_H
#define MB_NB_HISTO_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define HISTO_BUCKETS 16

struct histo {
	uint64_t bucket[HISTO_BUCKETS]; /* observations <= bound, not above
					   the one before (not cumulative) */
	uint64_t over;			/* above the last bound */
	uint64_t count;
	double sum; /* seconds */
};

/* The upper bounds in seconds, ascending. */
extern const double histo_bounds[HISTO_BUCKETS];

/* Count one observation of seconds (negative or NaN counts as 0). */
void histo_observe(struct histo *h, double seconds);

/*
 * Append "# HELP metalboot_NAME HELP", "# TYPE ... histogram", one
 * cumulative _bucket line per bound and le="+Inf", _sum and _count.
 * name: [a-z_]+ without the prefix. 0, -EINVAL (bad name) or -E2BIG.
 */
int histo_render(struct buf *out, const char *name, const char *help,
		 const struct histo *h);

#endif
