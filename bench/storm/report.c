/*
 * report.c - the storm's figures: per phase p50, p95, p99 and max over the
 * machines that completed it, the failures grouped by reason, the wall
 * time and the server's CPU and peak RSS; printed, and as JSON (jansson).
 */
#include "storm.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const phase_names[PH_COUNT] = {
	[PH_OFFER] = "dhcp_offer",   [PH_DHCP] = "dhcp",
	[PH_TFTP] = "tftp",	     [PH_IPXE_DHCP] = "ipxe_dhcp",
	[PH_SCRIPT] = "http_script", [PH_KERNEL] = "http_kernel",
	[PH_INITRD] = "http_initrd", [PH_EVENTS] = "events",
	[PH_TOTAL] = "total",
};

/* See storm.h. */
const char *
storm_phase_name(enum storm_phase p)
{
	return p < PH_COUNT ? phase_names[p] : "?";
}

struct pstats {
	size_t n;
	double p50, p95, p99, max;
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
phase_stats(const struct storm_result *res, size_t n, enum storm_phase p,
	    double *v, struct pstats *ret)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (res[i].ms[p] >= 0)
			v[k++] = res[i].ms[p];
	qsort(v, k, sizeof(*v), cmp_double);
	ret->n = k;
	ret->p50 = storm_percentile(v, k, 50);
	ret->p95 = storm_percentile(v, k, 95);
	ret->p99 = storm_percentile(v, k, 99);
	ret->max = k > 0 ? v[k - 1] : 0;
}

/* Failures grouped by "phase: reason", counted; into obj. */
static void
failures(const struct storm_result *res, size_t n, json_t *obj)
{
	char key[STORM_WHY_MAX + 32];

	for (size_t i = 0; i < n; i++) {
		if (res[i].ok)
			continue;
		snprintf(key, sizeof(key), "%s: %s",
			 storm_phase_name(res[i].failed_in), res[i].why);
		json_t *c = json_object_get(obj, key);

		json_object_set_new(
			obj, key,
			json_integer(c ? json_integer_value(c) + 1 : 1));
	}
}

static json_t *
phases_json(const struct storm_opts *o, const struct storm_result *res,
	    double *v, struct pstats *st)
{
	json_t *ph = json_object();

	for (int p = 0; p < PH_COUNT; p++) {
		phase_stats(res, o->n, (enum storm_phase)p, v, &st[p]);
		json_object_set_new(ph, storm_phase_name((enum storm_phase)p),
				    json_pack("{s:I,s:f,s:f,s:f,s:f}", "n",
					      (json_int_t)st[p].n, "p50_ms",
					      st[p].p50, "p95_ms", st[p].p95,
					      "p99_ms", st[p].p99, "max_ms",
					      st[p].max));
	}
	return ph;
}

static void
print_text(const struct storm_opts *o, const struct pstats *st, json_t *fails,
	   size_t served, double wall_s, const struct storm_server_stats *srv)
{
	const char *k;
	json_t *c;

	if (!o->quiet) {
		printf("%-12s %6s %9s %9s %9s %9s\n", "phase", "n", "p50 ms",
		       "p95 ms", "p99 ms", "max ms");
		for (int p = 0; p < PH_COUNT; p++)
			printf("%-12s %6zu %9.1f %9.1f %9.1f %9.1f\n",
			       storm_phase_name((enum storm_phase)p), st[p].n,
			       st[p].p50, st[p].p95, st[p].p99, st[p].max);
		json_object_foreach(fails, k, c)
			printf("failed: %lld x %s\n",
			       (long long)json_integer_value(c), k);
	}
	printf("storm: %zu machines, %zu served, %zu failed, wall %.2f s, "
	       "offer p99 %.1f ms, total p99 %.1f ms, server cpu %.2f s, "
	       "peak rss %.1f MiB\n",
	       o->n, served, o->n - served, wall_s, st[PH_OFFER].p99,
	       st[PH_TOTAL].p99, srv->cpu_s, (double)srv->rss_kib / 1024);
}

/* See storm.h. */
int
storm_report(const struct storm_opts *o, struct storm_result *res,
	     double wall_s, const struct storm_server_stats *srv)
{
	struct pstats st[PH_COUNT];
	double *v = calloc(o->n + 1, sizeof(*v));
	json_t *fails = json_object(), *root, *ph;
	size_t served = 0;
	int r = 0;

	if (v == NULL || fails == NULL) {
		free(v);
		json_decref(fails);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->n; i++)
		served += res[i].ok;
	failures(res, o->n, fails);
	ph = phases_json(o, res, v, st);
	print_text(o, st, fails, served, wall_s, srv);
	root = json_pack("{s:I,s:I,s:I,s:f,s:o,s:o,s:{s:f,s:I}}", "machines",
			 (json_int_t)o->n, "served", (json_int_t)served,
			 "failed", (json_int_t)(o->n - served), "wall_s",
			 wall_s, "phases", ph, "failures", fails, "server",
			 "cpu_s", srv->cpu_s, "peak_rss_kib",
			 (json_int_t)srv->rss_kib);
	if (root == NULL)
		r = -ENOMEM;
	else if (o->json != NULL &&
		 json_dump_file(root, o->json, JSON_INDENT(2)) < 0)
		r = -EIO;
	json_decref(root);
	free(v);
	return r;
}
