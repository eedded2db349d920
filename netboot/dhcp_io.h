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
 * from 4011 to their source. Leases live in STATE_DIR/dhcp.leases, saved
 * atomically on every change that matters (ACK, RELEASE, DECLINE) and
 * reloaded at start.
 */
#ifndef MB_NB_DHCP_IO_H
#define MB_NB_DHCP_IO_H

#include "metrics.h"
#include "server.h"

#include <stddef.h>
#include <stdint.h>

#define DHCP_CHECK_MS	    5000 /* --check-dhcp waits this long */
#define DHCP_CHECK_START_MS 4000 /* before full mode; dnsmasq pings first */
#define DHCP_CHECK_SERVERS  16	 /* distinct servers listed */
#define DHCP_IO_RX_BURST    64	 /* datagrams read per callback */
#define DHCP_IO_METRICS	    10	 /* samples dhcp_io_metric_samples gives */
#define DHCP_LOG_RECENT	    256	 /* MACs whose last log line is kept */
#define DHCP_LOG_REPEAT_S   30	 /* a repeated decision is logged once */
#define DHCP_CHECK_LINE	    512	 /* one line of --check-dhcp output */
#define DHCP_CMSG_SLACK	    64 /* room for control messages besides IP_PKTINFO */

struct nodes;

/*
 * Start the service when nb->dhcp is full or proxy (nothing when off or
 * without netboot.yaml). In full mode a DISCOVER is sent first and every
 * other server that answers is logged as a warning. Returns 0 or a
 * negative errno (logged): -EINVAL for a configuration that cannot be
 * served (no subnet, a damaged lease file), -EADDRINUSE, -EACCES.
 * Startup context, before the loop runs.
 */
int dhcp_io_start(struct netboot *nb);

/* Stop: close the sockets, free the state. Safe when never started. */
void dhcp_io_stop(struct netboot *nb);

/*
 * Record "dhcp" timeline events in the node store (borrowed; NULL stops)
 * and install the lease lookup there, so that payloads and events are
 * allowed from a node's leased address too. dhcp_io_start() arranges for
 * this to happen with http_io_nodes() when the loop starts; callable
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
 * within DHCP_CHECK_MS to stdout. Returns the process exit status: 0
 * (none found or some listed), 1 for a bad interface, 2 for a socket
 * error. Must not run while our own service runs on the same host.
 */
int dhcp_io_check_cli(const char *ifname);

#endif
