/*
 * server.h - the daemon context shared by every service of
 * metalboot-netboot (TFTP, HTTP(S), DHCP).
 *
 * main.c fills one struct netboot from the command line and netboot.yaml,
 * creates the event_base, starts each service in turn and runs the loop.
 * That loop, the owner loop, runs every service's callbacks and is the
 * only thread that touches node state (the store, leases, served-once
 * marks), the configuration's mutable parts, the histograms and
 * nb->counters. Besides it, nb->nworkers worker loops (workers.h: one
 * thread and event_base each) carry bulk transfers once the owner loop
 * has decided them (TFTP DATA after the request was resolved, HTTP file
 * bodies after evhttp sent the headers: http_bulk.h); a worker
 * reports back through the owner's mailbox, never by touching owner
 * state. A worker counts in its own struct nb_counters with NB_ADD
 * (relaxed atomics) and /metrics sums them (nb_counters_sum). Services
 * keep their own state behind an opaque pointer here; the fields other
 * services may read are documented. This header only grows: fields are
 * added, never renamed.
 */
#ifndef MB_NB_SERVER_H
#define MB_NB_SERVER_H

#include "histo.h"
#include "inventory.h" /* enum dhcp_mode */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct event_base;
struct event;
struct nb_config;
struct tftp_server;
struct netboot;
struct metric_sample;
struct nb_workers;

/*
 * A service's own samples for /metrics: fill out (cap entries), return the
 * number filled. A service adds its source at start (nb_add_metric_source)
 * and the HTTP service renders them all, in that order, without reaching
 * into the service.
 */
typedef size_t (*nb_metric_source)(const struct netboot *nb,
				   struct metric_sample *out, size_t cap);
#define NB_METRIC_SOURCES_MAX 8
#define NB_METRIC_SAMPLES_MAX 64 /* samples of every source together */

/* Defaults when neither netboot.yaml nor a flag gives a value. */
#define NB_TFTP_PORT_DEFAULT  69
#define NB_HTTP_PORT_DEFAULT  80
#define NB_HTTPS_PORT_DEFAULT 443

/*
 * TFTP counters, rendered by /metrics (names in parentheses). Monotonic
 * except tftp_active, which is a gauge.
 */
struct nb_counters {
	uint64_t tftp_requests;		   /* RRQ/WRQ received (any outcome) */
	uint64_t tftp_transfers_started;   /* transfers that got a socket */
	uint64_t tftp_transfers_completed; /* last block acknowledged */
	uint64_t tftp_transfers_failed;	   /* timed out, error, refused */
	uint64_t tftp_bytes_sent;   /* file bytes in DATA, incl. resends */
	uint64_t tftp_packets_sent; /* every datagram we sent */
	uint64_t tftp_retransmits;  /* DATA/OACK resent on timeout */
	uint64_t tftp_errors_sent;  /* ERROR packets sent */
	uint64_t tftp_probes;	    /* ERROR 8 after OACK (EDK II) */
	uint64_t tftp_active;	    /* gauge: transfers in flight */
	uint64_t tftp_file_capped;  /* RRQs dropped at the per-file cap */
};

/* Add n to a counter that another thread may read (a worker's). */
#define NB_ADD(p, n) ((void)__atomic_fetch_add((p), (n), __ATOMIC_RELAXED))

/* The daemon. One per process; lives for the whole run. */
struct netboot {
	struct event_base *base; /* the one loop (owned) */

	/* Configuration (read-only once services start). */
	struct nb_config *cfg; /* netboot.yaml, NULL with --root (owned) */
	char *root_dir;	       /* TFTP root and /files/: OUT/public or DIR */
	int root_fd;	       /* O_DIRECTORY fd of root_dir, for openat */
	uint32_t listen_ip;    /* host order; 0 = every address */
	uint16_t tftp_port;    /* 0 = TFTP disabled */
	uint16_t http_port;    /* 0 = HTTP disabled */
	uint16_t https_port;   /* 0 = HTTPS disabled */
	char *state_dir;       /* leases, node states; may be NULL */
	enum dhcp_mode dhcp;   /* full | proxy | off */
	unsigned tftp_max_transfers;  /* concurrent transfers, all clients */
	unsigned tftp_max_per_client; /* concurrent transfers per client IP */
	unsigned tftp_max_per_file; /* concurrent transfers of a file, 0: any */
	unsigned http_max_per_file; /* concurrent bodies of a file, 0: any */

	struct nb_counters counters;

	/* Latency histograms, rendered by /metrics (histo.h). */
	struct {
		struct histo dhcp_offer; /* a DISCOVER read to its OFFER sent */
		struct histo tftp_transfer;   /* a request to its last ACK */
		struct histo http_first_byte; /* a parsed request to its reply
						 handed to the connection */
	} histos;

	/* Service state, owned by each service (opaque to the others). */
	struct tftp_server *tftp;
	void *http;
	void *dhcp_server;
	void *store; /* the node store (store_io.h): every service uses it */

	nb_metric_source metric_sources[NB_METRIC_SOURCES_MAX];
	size_t nmetric_sources;

	struct event *sig_int, *sig_term; /* owned by main.c */

	/* Worker loops (workers.h): 0 = every transfer on the owner loop. */
	unsigned nworkers;
	struct nb_workers *workers; /* owned by workers.c */
};

/*
 * The counters of every loop summed into *ret: the owner's and each
 * worker's (read with relaxed atomics). Owner loop only.
 */
void nb_counters_sum(const struct netboot *nb, struct nb_counters *ret);

/*
 * A service plugged into the loop. start() binds its sockets and adds its
 * events to nb->base; it returns 0 or a negative errno (startup fails and
 * the program exits 2, or 1 for a user error such as a port in use). stop()
 * frees everything start() made; it is called for every service whose
 * start() succeeded, in reverse order, after the loop has ended, and must
 * accept a half-started service.
 */
struct nb_service {
	const char *name;
	int (*start)(struct netboot *nb);
	void (*stop)(struct netboot *nb);
};

/* Seconds on the monotonic clock, for the histograms. */
static inline double
nb_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Add a /metrics source. 0, or -ENOSPC past NB_METRIC_SOURCES_MAX. */
static inline int
nb_add_metric_source(struct netboot *nb, nb_metric_source fn)
{
	if (nb->nmetric_sources == NB_METRIC_SOURCES_MAX)
		return -ENOSPC;
	nb->metric_sources[nb->nmetric_sources++] = fn;
	return 0;
}

#endif
