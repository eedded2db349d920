/*
 * main.c - storm: act as N PXE machines booting at once against a DHCP,
 * TFTP and HTTP server on IFACE's link (bench/storm.sh runs it in a
 * network namespace of its own).
 */
#include "storm.h"

#include "net.h"
#include "num.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: storm [options] IFACE\n"
		"Act as N PXE machines on IFACE: DHCP with PXE options, the\n"
		"loader over TFTP, iPXE's DHCP, the iPXE script, kernel and\n"
		"initrd over HTTP, then the agent's events. Machine i has MAC\n"
		"BASE + i (bench/gen-inventory.sh's by default).\n"
		"  -n N                 machines (default 1000)\n"
		"  --mac-base MAC       first MAC (default 52:54:00:00:00:00)\n"
		"  --ramp SECONDS       spread the starts over SECONDS "
		"(default 0: all at once)\n"
		"  --uefi-percent P     machines with arch 7, the rest 0 "
		"(default 50)\n"
		"  --blksize N          TFTP blksize (default 1468)\n"
		"  --windowsize N       TFTP windowsize, RFC 7440 (default 1)\n"
		"  --events N           agent events POSTed (default 4)\n"
		"  --dhcp-tries N       DISCOVERs/REQUESTs before giving up "
		"(default 6: 1+2+4+8+16+32 s)\n"
		"  --http-timeout S     seconds per HTTP request (default "
		"300)\n"
		"  --no-add-addr        do not add leased addresses to IFACE\n"
		"  --server-pid PID     a server process to measure (CPU, "
		"VmHWM); repeatable\n"
		"  --json FILE          write the report as JSON\n"
		"  -q, --quiet          print the summary line only\n"
		"Exit status: 0 when every machine reached its last event, 1 "
		"otherwise, 2 on a usage or setup error.\n");
}

enum {
	OPT_MAC = 256,
	OPT_RAMP,
	OPT_UEFI,
	OPT_BLK,
	OPT_WIN,
	OPT_EVENTS,
	OPT_TRIES,
	OPT_HTTP_TIMEOUT,
	OPT_NOADDR,
	OPT_PID,
	OPT_JSON,
};

static const struct option longopts[] = {
	{ "mac-base", required_argument, NULL, OPT_MAC },
	{ "ramp", required_argument, NULL, OPT_RAMP },
	{ "uefi-percent", required_argument, NULL, OPT_UEFI },
	{ "blksize", required_argument, NULL, OPT_BLK },
	{ "windowsize", required_argument, NULL, OPT_WIN },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "dhcp-tries", required_argument, NULL, OPT_TRIES },
	{ "http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT },
	{ "no-add-addr", no_argument, NULL, OPT_NOADDR },
	{ "server-pid", required_argument, NULL, OPT_PID },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
num_opt(const char *name, const char *s, uint64_t min, uint64_t max,
	unsigned *ret)
{
	uint64_t v;

	if (num_parse_u64(s, min, max, &v) < 0) {
		fprintf(stderr, "storm: %s: \"%s\" is not %llu..%llu\n", name,
			s, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

static int
opt_one(struct storm_opts *o, int c, const char *a)
{
	unsigned v;
	uint64_t ramp;

	switch (c) {
	case 'n':
		if (num_opt("-n", a, 1, STORM_MACHINES_MAX, &v) < 0)
			return -EINVAL;
		o->n = v;
		return 0;
	case OPT_MAC:
		return mac_parse(a, o->mac_base) < 0 ? -EINVAL : 0;
	case OPT_RAMP:
		if (num_parse_u64(a, 0, 3600, &ramp) < 0)
			return -EINVAL;
		o->ramp_s = (double)ramp;
		return 0;
	case OPT_UEFI:
		return num_opt("--uefi-percent", a, 0, 100, &o->uefi_percent);
	case OPT_BLK:
		return num_opt("--blksize", a, 8, 65464, &o->blksize);
	case OPT_WIN:
		return num_opt("--windowsize", a, 1, 64, &o->windowsize);
	case OPT_EVENTS:
		return num_opt("--events", a, 0, STORM_EVENTS_MAX, &o->events);
	case OPT_TRIES:
		return num_opt("--dhcp-tries", a, 1, 10, &o->dhcp_tries);
	case OPT_HTTP_TIMEOUT:
		return num_opt("--http-timeout", a, 1, 3600,
			       &o->http_timeout_s);
	case OPT_NOADDR:
		o->add_addr = false;
		return 0;
	case OPT_PID:
		if (o->n_pids == STORM_PIDS_MAX ||
		    num_opt("--server-pid", a, 1, 1u << 22, &v) < 0)
			return -EINVAL;
		o->pids[o->n_pids++] = (pid_t)v;
		return 0;
	case OPT_JSON:
		o->json = a;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static int
parse_args(int argc, char **argv, struct storm_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->n = 1000;
	mac_parse("52:54:00:00:00:00", o->mac_base);
	o->uefi_percent = 50;
	o->blksize = STORM_TFTP_BLKSIZE;
	o->windowsize = 1;
	o->events = 4;
	o->dhcp_tries = 6;
	o->http_timeout_s = 300;
	o->add_addr = true;
	while ((c = getopt_long(argc, argv, "n:qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (opt_one(o, c, optarg) < 0) {
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -EINVAL;
	}
	o->ifname = argv[optind];
	return 0;
}

/* Sum of the servers' CPU seconds; peak RSS summed when last is set. */
static void
server_sample(const struct storm_opts *o, struct storm_server_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < o->n_pids; i++) {
		double cpu;
		uint64_t hwm;
		int r = storm_proc_stats(o->pids[i], &cpu, &hwm);

		if (r < 0) {
			fprintf(stderr, "storm: server pid %d: %s\n",
				(int)o->pids[i], strerror(-r));
			continue;
		}
		ret->cpu_s += cpu;
		ret->rss_kib += hwm;
	}
}

int
main(int argc, char **argv)
{
	struct storm_opts o;
	struct storm_server_stats before, after;
	struct storm_result *res = NULL;
	struct rlimit rl;
	double wall = 0;
	size_t served = 0;
	int r;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	/* A TFTP socket and a connection per machine. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	res = calloc(o.n, sizeof(*res));
	if (res == NULL)
		return 2;
	server_sample(&o, &before);
	r = storm_run(&o, res, &wall);
	if (r < 0) {
		fprintf(stderr, "storm: cannot start on %s: %s\n", o.ifname,
			strerror(-r));
		free(res);
		return 2;
	}
	server_sample(&o, &after);
	after.cpu_s -= before.cpu_s;
	r = storm_report(&o, res, wall, &after);
	if (r < 0)
		fprintf(stderr, "storm: report: %s\n", strerror(-r));
	for (size_t i = 0; i < o.n; i++)
		served += res[i].ok;
	free(res);
	return r < 0 ? 2 : served == o.n ? 0 : 1;
}
