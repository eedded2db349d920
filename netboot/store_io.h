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
 *   - with store.etcd (store_etcd.h), the shared copy is eventually
 *     consistent: a change reaches etcd within NODES_FLUSH_INTERVAL_MS
 *     plus the writer's queue (in order; held while etcd is unreachable,
 *     never dropped), other servers' changes arrive through a watch and
 *     replace a node's state when they are newer (the latest change
 *     wins; the observer is told). Reads never wait for etcd. The
 *     guarantees above hold for the local files as without etcd;
 *   - observers: one change callback (the fleet page's event stream,
 *     nodes_set_observer) and one address lookup (DHCP's leases,
 *     nodes_set_lookup); each service that installs one removes it when it
 *     stops.
 */
#ifndef MB_NB_STORE_IO_H
#define MB_NB_STORE_IO_H

#include "server.h"

#include <stdbool.h>
#include <stdint.h>

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

/*
 * The served-once claim of a secret payload ("firstboot", "secrets") of
 * the node with mac in its current arming, cluster-wide. Returns 1 when
 * there is no shared store (nothing to wait for: the local window
 * rules), 0 when the claim is under way: fn(arg, r) is then called on
 * the loop, later, with r 0 (ours: serve it), -ESTALE (served already,
 * by this or another server: 410) or -EIO/-ETIMEDOUT (etcd did not
 * answer: refuse, never serve twice), unless store_io_claim_cancel(tag)
 * came first. *ret_tag names the claim. -ENOMEM or -ENOSPC (too many
 * claims waiting) otherwise.
 */
typedef void (*store_claim_fn)(void *arg, int r);
#define STORE_CLAIMS_MAX 4096 /* claims waiting at once (a storm's DHCP) */
int store_io_claim_secret(struct netboot *nb, const uint8_t mac[6],
			  int64_t armed_at, const char *payload,
			  store_claim_fn fn, void *arg, uint64_t *ret_tag);

/* Forget a claim under way (its requester is gone); fn is not called. */
void store_io_claim_cancel(struct netboot *nb, uint64_t tag);

/*
 * With store.etcd: the live netboot servers (GET /v1/servers) as a JSON
 * document into *ret_text (owned), refreshed every few seconds. 0,
 * -ENOENT without store.etcd, or -ENOMEM.
 */
int store_io_servers_json(const struct netboot *nb, char **ret_text);

/*
 * Shared DHCP leases (store.etcd; docs/formats.md, PREFIX/v1/leases/IP).
 * The DHCP service keeps its lease table; the store keeps what etcd says
 * of each address, claims addresses for it and writes its changes:
 *   - atomic, cluster-wide: a claim (store_io_lease_claim) is a compare-
 *     and-swap: it wins only when the address is free, already the
 *     machine's, or its holder's lease has expired; two servers never
 *     hand one address to two machines;
 *   - eventually consistent: the updates of a held lease (renewals,
 *     releases; store_io_lease_put) queue in order with the node records
 *     and survive etcd being down; other servers' records arrive through
 *     the watch and go to the observer.
 * Without store.etcd every call is a no-op that lets DHCP go on alone.
 */

/* Whether leases are shared (store.etcd). */
bool store_io_leases_shared(const struct netboot *nb);

/*
 * Whether etcd answered the store's last request (as of the last flush
 * interval); true without store.etcd.
 */
bool store_io_shared_up(const struct netboot *nb);

/*
 * Whether the shared copy says mac holds ip (claimed by this server or
 * learned from etcd); true without store.etcd.
 */
bool store_io_lease_held(const struct netboot *nb, uint32_t ip,
			 const uint8_t mac[6]);

/*
 * Claim ip for mac (state "offered" or "bound", until expires, Unix s).
 * Returns 1 without store.etcd; 0 when under way: fn(arg, r) follows on
 * the loop with r 0 (held: answer), -EADDRINUSE (another machine holds
 * it: the observer has been told who, first) or -EIO/-ETIMEDOUT (etcd
 * did not answer: do not hand it out), unless store_io_claim_cancel(tag)
 * came first. -ENOMEM or -ENOSPC otherwise.
 */
int store_io_lease_claim(struct netboot *nb, const uint8_t mac[6], uint32_t ip,
			 const char *state, int64_t expires, store_claim_fn fn,
			 void *arg, uint64_t *ret_tag);

/*
 * Queue the new state of a lease mac holds (skipped when etcd has it).
 * 0 (also without store.etcd), -ENOMEM or -E2BIG.
 */
int store_io_lease_put(struct netboot *nb, const uint8_t mac[6], uint32_t ip,
		       const char *state, int64_t expires);

/*
 * The observer of other servers' lease records (one; NULL removes it):
 * fn(arg, ip, mac, state, expires), ip in host order.
 */
typedef void (*store_lease_fn)(void *arg, uint32_t ip, const uint8_t mac[6],
			       const char *state, int64_t expires);
void store_io_set_lease_observer(struct netboot *nb, store_lease_fn fn,
				 void *arg);

/*
 * For dhcp.failover: standby: whether the primary of this server's
 * segment is registered in etcd (etcd_client_primary): 1 (its id into
 * ret_id), 0, -ENODATA (not known yet), -ENOENT without store.etcd.
 */
int store_io_dhcp_primary(struct netboot *nb, char *ret_id, size_t n);

#endif
