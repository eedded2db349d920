/*
 * store_io.h - the node store as a piece of the daemon of its own: the one
 * owner of every node's state, boot timeline, last agent event, payload
 * lock and secret window (netboot/nodes.h), which DHCP, TFTP and HTTP all
 * use through store_io_nodes(). No service reaches into another for state.
 *
 * It starts before every other service and stops after them. It builds
 * the store from netboot.yaml's nodes, reloads STATE_DIR/nodes, and owns
 * the persistence: a timer on the loop hands the nodes changed in the last
 * NODES_FLUSH_INTERVAL_MS to the writer thread (started on the first tick,
 * after the privilege drop), and a clean stop writes what is left.
 *
 * Contract, for the services that use the store (one loop, one thread):
 *   - atomic: every call returns with the change made in memory, seen at
 *     once by every service; the changes that guard secrets (the lock at
 *     "done", the start of a secret window, a re-arm) are also on disk
 *     when the call returns, so a crash never re-opens a window;
 *   - eventually consistent: everything else (milestones, events, states)
 *     reaches disk within NODES_FLUSH_INTERVAL_MS plus one write, in
 *     batches of at most NODES_FLUSH_MAX nodes per tick; a crash loses at
 *     most that last interval of timeline, never a lock;
 *   - observers: one change callback (the fleet page's event stream,
 *     nodes_set_observer) and one address lookup (DHCP's leases,
 *     nodes_set_lookup); each service that installs one removes it when it
 *     stops.
 */
#ifndef MB_NB_STORE_IO_H
#define MB_NB_STORE_IO_H

#include "server.h"

struct nodes;

/*
 * Start (struct nb_service start): build the store from nb->cfg (an
 * empty one without netboot.yaml), load nb->state_dir/nodes, add the
 * flush timer. Returns 0, -ENOMEM, or -EINVAL after logging which node's
 * state file cannot be read.
 */
int store_io_start(struct netboot *nb);

/* Stop: write what changed since the last flush, free the store. */
void store_io_stop(struct netboot *nb);

/* The store (borrowed, valid until stop); NULL before start. */
struct nodes *store_io_nodes(const struct netboot *nb);

/*
 * The store's own samples for /metrics (node_state_writes_total,
 * node_marks_dropped_total): an nb_metric_source.
 */
size_t store_io_metric_samples(const struct netboot *nb,
			       struct metric_sample *out, size_t cap);

#endif
