/*
 * dhcp_io.h - the DHCP service: sockets on the netboot event loop around
 * the pure codec (dhcp.h), policy (dhcp_policy.h) and lease table
 * (leases.h).
 *
 * Two UDP sockets, both bound to the configured interface (netboot.yaml
 * "interface", else the one holding the listen address) with
 * SO_BINDTODEVICE: port 67 (SO_BROADCAST, IP_PKTINFO) for full and proxy
 * mode, and port 4011 for PXE boot-server requests. Replies follow RFC
 * 2131 §4.1: to the relay, to ciaddr, broadcast, or unicast to an address
 * the client does not hold yet after an ARP entry for its chaddr is
 * installed (broadcast when that fails). Port-4011 requests are answered
 * from 4011 to their source. Leases live in STATE_DIR/dhcp.leases,
 * reloaded at start. A change that matters (ACK, RELEASE, DECLINE, a
 * prune) marks the table dirty; within DHCP_SAVE_MS a snapshot goes to a
 * writer thread that writes it atomically (temp + fsync + rename), so no
 * fsync runs on the loop and a burst costs one write. A clean stop writes
 * what is pending; a crash loses at most the last DHCP_SAVE_MS of changes
 * (a client then asks again and gets the same address when it is free).
 * Lapsed offers and declines are pruned every DHCP_PRUNE_S.
 */
#ifndef MB_NB_DHCP_IO_H
#define MB_NB_DHCP_IO_H

#include "metrics.h"
#include "server.h"

#include <stddef.h>
#include <stdint.h>

#define DHCP_CHECK_MS	      5000  /* --check-dhcp waits this long */
#define DHCP_CHECK_WAIT_MAX   30000 /* ms, --dhcp-check-ms at most */
#define DHCP_CHECK_EXIT_FULL  3 /* --check-dhcp: a server offers addresses */
#define DHCP_CHECK_EXIT_PROXY 4 /* --check-dhcp: only proxyDHCP servers */
#define DHCP_SAVE_MS	      1000 /* the lease file is written at most this often */
#define DHCP_PRUNE_S	      30 /* lapsed entries leave the table this often */
#define DHCP_CHECK_SERVERS    16 /* distinct servers listed */
#define DHCP_IO_RX_BURST      64 /* datagrams read per callback */
#define DHCP_IO_METRICS	      22 /* samples dhcp_io_metric_samples gives */
#define DHCP_CLAIM_TRIES      8	 /* addresses tried per answer (store.etcd) */
#define DHCP_STANDBY_CHECK_MS 200 /* a standby's look at the registrations */
#define DHCP_LOG_RECENT	      256 /* MACs whose last log line is kept */
#define DHCP_LOG_REPEAT_S     30  /* a repeated decision is logged once */
#define DHCP_CHECK_LINE	      512 /* one line of --check-dhcp output */
#define DHCP_CMSG_SLACK	      64 /* room for control messages besides IP_PKTINFO */

struct nodes;

/*
 * The DHCP flags, for main.c: DHCP_IO_OPTIONS goes into its getopt table
 * (values DHCP_OPT_BASE + i), DHCP_IO_USAGE into its help text, and
 * every getopt value in [DHCP_OPT_BASE, DHCP_OPT_BASE + DHCP_NOPTS) to
 * dhcp_io_option().
 */
#define DHCP_OPT_BASE 0x1100
#define DHCP_NOPTS    2
#define DHCP_IO_OPTIONS                                                        \
	{ "allow-other-dhcp", no_argument, NULL, DHCP_OPT_BASE + 0 },          \
	{                                                                      \
		"dhcp-check-ms", required_argument, NULL, DHCP_OPT_BASE + 1    \
	}
#define DHCP_IO_USAGE                                                          \
	"  --allow-other-dhcp       start full mode even though another DHCP " \
	"server\n"                                                             \
	"                           answers on the segment (warned)\n"         \
	"  --dhcp-check-ms N        listen N ms for other DHCP servers "       \
	"before "                                                              \
	"full mode\n"                                                          \
	"                           (default: netboot.yaml "                   \
	"dhcp.check_wait_ms, "                                                 \
	"4000; 0 skips)\n"

/*
 * Apply the DHCP flag opt (a getopt value from DHCP_IO_OPTIONS) with its
 * argument. Returns 0, or -EINVAL after printing a one-line message that
 * names the flag.
 */
int dhcp_io_option(int opt, const char *arg);

/*
 * Start the service when nb->dhcp is full or proxy (nothing when off or
 * without netboot.yaml). In full mode a DISCOVER is sent first and the
 * answers are awaited for dhcp.check_wait_ms (or --dhcp-check-ms): another
 * server handing out addresses is a refusal to start (-EADDRINUSE, the
 * message naming it and suggesting --dhcp proxy) unless
 * --allow-other-dhcp, which makes it a warning like a proxyDHCP server.
 * While running in full mode, OFFERs of other servers seen on port 68 are
 * counted (dhcp_foreign_offers_total) and logged, rate-limited. Returns 0
 * or a negative errno (logged): -EINVAL for a configuration that cannot
 * be served (no subnet, a damaged lease file), -EADDRINUSE (port 67
 * taken, or another DHCP server), -EACCES.
 * Startup context, before the loop runs.
 */
int dhcp_io_start(struct netboot *nb);

/* Stop: close the sockets, free the state. Safe when never started. */
void dhcp_io_stop(struct netboot *nb);

/*
 * Record "dhcp" timeline events in the node store (borrowed; NULL stops)
 * and install the lease lookup there, so that payloads and events are
 * allowed from a node's leased address too. dhcp_io_start() does this
 * with store_io_nodes() (the store starts first, stops last); callable
 * again. No-op when DHCP is not running.
 */
void dhcp_io_set_nodes(struct netboot *nb, struct nodes *ns);

/*
 * The address mac holds by a bound lease: a nodes_lookup_fn, ctx being
 * nb->dhcp_server. 0 and *ret_ip, or -ENOENT.
 */
int dhcp_io_lease_lookup(void *ctx, const uint8_t mac[6], uint32_t *ret_ip);

/*
 * Fill out (cap entries) with the DHCP metrics for metrics_render()'s
 * extra samples: packet counters, bound and offered leases, pool size.
 * Returns the number filled (0 when DHCP is not running). Names are
 * static strings.
 */
size_t dhcp_io_metric_samples(const struct netboot *nb,
			      struct metric_sample *out, size_t cap);

/*
 * --check-dhcp IFACE: broadcast a DISCOVER (as a PXE client, so proxy
 * servers answer too) on ifname and print every server that answers
 * within DHCP_CHECK_MS to stdout. Returns the process exit status: 0 when
 * none answered, DHCP_CHECK_EXIT_FULL (3) when a server offering
 * addresses answered, DHCP_CHECK_EXIT_PROXY (4) when only proxyDHCP
 * servers did, 1 for a bad interface, 2 for a socket error. Must not run
 * while our own service runs on the same host.
 */
int dhcp_io_check_cli(const char *ifname);

#endif
