/*
 * storm.h - the boot-storm generator: N simulated PXE machines on one
 * libevent loop (io.c), their leased addresses added over netlink
 * (addr.c), and the report (report.c). See bench/storm.sh and
 * docs/performance.md.
 */
#ifndef MB_STORM_H
#define MB_STORM_H

#include "proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STORM_PIDS_MAX	   8
#define STORM_WHY_MAX	   128
#define STORM_EVENTS_MAX   16
#define STORM_MACHINES_MAX 0xfffff /* the xid keeps 20 bits of index */

/* The phases timed per machine, in boot order. */
enum storm_phase {
	PH_OFFER,     /* first DISCOVER sent to OFFER */
	PH_DHCP,      /* the firmware's DHCP, DISCOVER to ACK */
	PH_TFTP,      /* the loader over TFTP, RRQ to last ACK */
	PH_IPXE_DHCP, /* iPXE's DHCP, DISCOVER to ACK */
	PH_SCRIPT,    /* the iPXE script over HTTP */
	PH_KERNEL,
	PH_INITRD,
	PH_EVENTS, /* every agent event POSTed */
	PH_TOTAL,  /* first DISCOVER to the last event's answer */
	PH_COUNT,
};

struct storm_opts {
	const char *ifname;
	size_t n;
	uint8_t mac_base[STORM_MAC_LEN];
	double ramp_s; /* machine i starts at i * ramp_s / n */
	unsigned uefi_percent;
	unsigned blksize, windowsize;
	unsigned events;
	unsigned dhcp_tries;
	unsigned http_timeout_s;
	bool add_addr;
	pid_t pids[STORM_PIDS_MAX];
	size_t n_pids;
	const char *json;
	bool quiet;
};

/* One machine's outcome. */
struct storm_result {
	double ms[PH_COUNT]; /* < 0: the phase did not complete */
	bool ok;
	enum storm_phase failed_in;
	char why[STORM_WHY_MAX];
};

struct storm_server_stats {
	double cpu_s;	  /* utime + stime of every PID, during the run */
	uint64_t rss_kib; /* sum of their VmHWM at the end */
};

/*
 * Run the storm: every machine from DISCOVER to its last event, or to its
 * failure. res has o->n entries. Returns 0, or a negative errno when the
 * storm could not start (socket, interface); *ret_wall_s is its duration.
 */
int storm_run(const struct storm_opts *o, struct storm_result *res,
	      double *ret_wall_s);

/*
 * Add ip/prefix to interface ifindex over netlink (replacing an existing
 * one). fd is a NETLINK_ROUTE socket from storm_nl_open(). 0 or -errno.
 */
int storm_nl_open(void);
int storm_nl_addr_add(int fd, int ifindex, uint32_t ip, unsigned prefix);

/* CPU seconds (utime + stime) and VmHWM of pid. 0 or -errno. */
int storm_proc_stats(pid_t pid, double *ret_cpu_s, uint64_t *ret_hwm_kib);

/*
 * Print the report (a line per phase and the one-line summary) to stdout
 * and, when o->json is set, write it as JSON there. Returns 0 or -errno.
 */
int storm_report(const struct storm_opts *o, struct storm_result *res,
		 double wall_s, const struct storm_server_stats *srv);

const char *storm_phase_name(enum storm_phase p);

#endif
