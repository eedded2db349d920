/*
 * nodes.h - the fleet state store: for every node of the config, its state
 * (pending, booting, provisioning, done, failed), last agent event, boot
 * timeline, payload lock and secret window, persisted one file per node
 * under STATE_DIR/nodes/ with atomic writes (temp + rename). Non-logging:
 * callers log.
 *
 * Persistence is batched: a change marks its node dirty and the owner of
 * the loop calls nodes_flush_some() once per NODES_FLUSH_INTERVAL_MS (the
 * writes then run on the writer thread, nodes_writer_start) and
 * nodes_flush() at a clean shutdown, so a flood of events costs one write
 * per node per interval, off the loop, not an fsync per event on it. The
 * changes that guard secrets (the lock at "done", the start of the secret
 * window, a re-arm) are written before the call returns, so that a crash never
 * re-opens a window.
 *
 * Boot milestones (nodes_mark) come from unauthenticated requests (DHCP,
 * TFTP, boot scripts), so they are rate-limited per node (a token bucket
 * of NODES_MARK_BURST, one more every NODES_MARK_REFILL_MS), and when the
 * timeline is full a milestone evicts the oldest milestone, never an
 * agent event: a flood cannot push a node's history out.
 *
 * Runs in the event loop thread only; nothing here is thread-safe.
 */
#ifndef MB_NODES_H
#define MB_NODES_H

#include "buf.h"
#include "events.h"
#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NODES_TIMELINE_MAX	    128	       /* entries kept; the oldest go */
#define NODES_EVENT_NAME_MAX	    48	       /* "step:status" + NUL */
#define NODES_ROLE_MAX		    24	       /* "control-plane" + NUL */
#define NODES_STATE_FILE_MAX	    (1u << 20) /* bytes of one node's state file */
#define NODES_JSON_MAX		    (64u << 20) /* bytes of GET /v1/nodes */
#define NODES_MARK_BURST	    32	  /* milestones in a burst, per node */
#define NODES_MARK_REFILL_MS	    60000 /* one more milestone per minute */
#define NODES_FLUSH_INTERVAL_MS	    1000  /* dirty nodes written this often */
#define NODES_FLUSH_MAX		    64 /* dirty nodes written per tick, at most */
#define NODES_SECRET_WINDOW_DFLT_MS (30 * 60 * 1000) /* 30 minutes */

enum node_state {
	NODE_PENDING,	   /* nothing seen */
	NODE_BOOTING,	   /* DHCP or boot files served */
	NODE_PROVISIONING, /* agent events arriving */
	NODE_DONE,	   /* the agent's step "done" reported ok */
	NODE_FAILED,	   /* a step reported failed */
	NODE_STATE_COUNT,
};

/* Payload files whose repeated fetch is worth a warning. */
enum node_payload {
	NODE_PAYLOAD_FIRSTBOOT,
	NODE_PAYLOAD_USER_DATA,
	NODE_PAYLOAD_META_DATA,
	NODE_PAYLOAD_NETWORK_CONFIG,
	NODE_PAYLOAD_SECRETS,
	NODE_PAYLOAD_COUNT,
};

struct node_mark {
	char event[NODES_EVENT_NAME_MAX]; /* "dhcp", "kernel", "fetch:ok" */
	int64_t time;			  /* milliseconds since the epoch */
	bool milestone; /* from nodes_mark (unauthenticated): evicted first */
};

struct node {
	char name[HOST_NAME_MAX_LEN + 1];
	uint8_t mac[MAC_LEN];
	uint32_t ip; /* reserved address, host order; 0 when none */
	char role[NODES_ROLE_MAX];
	enum node_state state;
	bool has_event;
	struct node_event last_event;
	int64_t last_time;	    /* milliseconds since the epoch */
	struct node_mark *timeline; /* owned, oldest first */
	size_t ntimeline;
	bool locked;	  /* done: payloads answer 410 until re-armed */
	unsigned fetched; /* bit per node_payload since armed (memory) */
	/*
	 * First successful fetch of a secret payload since armed, ms; 0:
	 * none. Secrets answer 410 once the window after it has passed.
	 */
	int64_t secrets_since;
	/*
	 * The last re-arm, ms; 0: never. The shared store's served-once
	 * marks are per arming (PREFIX/v1/served/MAC/ARMED_AT/PAYLOAD).
	 */
	int64_t armed_at;
	bool dirty;	      /* changed since last written (memory) */
	bool remote_dirty;    /* changed since handed to the shared store */
	unsigned mark_tokens; /* rate limit of nodes_mark (memory) */
	int64_t mark_refill;  /* when the bucket was last refilled */
	bool mark_primed;     /* the bucket was filled once */
};

/*
 * The address a MAC currently holds, for payload and event checks beyond
 * the reservation (DHCP leases). Returns 0 and *ret_ip (host order), or
 * -ENOENT when the MAC holds no lease.
 */
typedef int (*nodes_lookup_fn)(void *ctx, const uint8_t mac[MAC_LEN],
			       uint32_t *ret_ip);

/*
 * Told after every change of a node that was persisted (mark, event,
 * re-arm), with the node as it now is: the fleet page's event stream.
 */
typedef void (*nodes_change_fn)(void *ctx, const struct node *nd);

struct nodes_writer;

struct nodes {
	struct node *v; /* owned */
	size_t n, cap;
	char *dir; /* owned: STATE_DIR/nodes, or NULL: nothing persisted */
	nodes_lookup_fn lookup;
	void *lookup_ctx; /* borrowed */
	nodes_change_fn changed;
	void *changed_ctx;	  /* borrowed */
	int64_t secret_window_ms; /* NODES_SECRET_WINDOW_DFLT_MS */
	uint64_t writes;	  /* state files written (for tests, metrics) */
	uint64_t marks_dropped;	  /* milestones refused by the rate limit */
	size_t flush_next;	  /* where nodes_flush_some() goes on */
	struct nodes_writer *writer; /* NULL: every write on the caller */
	bool remote; /* a shared store takes changes (remote_dirty) */
};

/*
 * Create an empty store. state_dir (borrowed) holds the node files under
 * state_dir/nodes/ (created on the first write); NULL keeps everything in
 * memory. NULL only when out of memory.
 */
struct nodes *nodes_new(const char *state_dir);

/* Free the store; NULL is a no-op. Returns NULL. */
struct nodes *nodes_free(struct nodes *ns);

/*
 * Add a node from the config. Returns 0, -EEXIST for a MAC already
 * present, -EINVAL for an over-long name or role, -ENOMEM.
 */
int nodes_add(struct nodes *ns, const char *name, const uint8_t mac[MAC_LEN],
	      uint32_t ip, const char *role);

/*
 * Restore every added node's persisted state, if any. Call once after
 * the nodes are added. Returns 0, or a negative errno for a file that
 * cannot be read or parsed (-EBADMSG); *ret_bad (may be NULL) then names
 * the MAC of the node whose file failed.
 */
int nodes_load(struct nodes *ns, char ret_bad[MAC_STR_LEN]);

/*
 * Restore nd's persisted state from the state file text (len bytes, need
 * not be NUL-terminated). 0, -EBADMSG for anything but a valid state file
 * (nd is then as it was), or -ENOMEM. Pure; nodes_load() reads the files.
 */
int nodes_parse_state(struct node *nd, const char *text, size_t len);

/* Install the lease lookup (fn may be NULL). ctx is borrowed. */
void nodes_set_lookup(struct nodes *ns, nodes_lookup_fn fn, void *ctx);

/* Install the change observer (fn may be NULL). ctx is borrowed. */
void nodes_set_observer(struct nodes *ns, nodes_change_fn fn, void *ctx);

/* Find a node by MAC or by reserved/leased address; NULL when absent. */
struct node *nodes_find(struct nodes *ns, const uint8_t mac[MAC_LEN]);
struct node *nodes_find_ip(struct nodes *ns, uint32_t ip);

/*
 * Is peer (host order) the address this node holds: its reservation or,
 * through the lookup, its lease?
 */
bool nodes_addr_allowed(const struct nodes *ns, const struct node *nd,
			uint32_t peer);

/*
 * Record a boot milestone ("dhcp", "boot-script", "kernel", "initrd",
 * "secret-refused") at now: appended to the timeline, and a pending node
 * becomes booting. Rate-limited per node (see the top of this file): a
 * milestone over the limit changes nothing and is only counted in
 * ns->marks_dropped; that is still 0. Written at the next flush. 0 or a
 * negative errno, in which case the node is as it was.
 */
int nodes_mark(struct nodes *ns, struct node *nd, const char *event,
	       int64_t now);

/*
 * The boot milestone a served file stands for: "kernel" (vmlinuz*,
 * bzImage*), "initrd" (initrd*, initramfs*), else NULL. path may hold
 * directories.
 */
const char *nodes_file_milestone(const char *path);

/* nodes_mark by MAC, for DHCP and TFTP. -ENOENT for an unknown MAC. */
int nodes_mark_mac(struct nodes *ns, const uint8_t mac[MAC_LEN],
		   const char *event, int64_t now);

/*
 * Record an agent event at now. running and ok make the node
 * provisioning, failed makes it failed, and "done" ok makes it done and
 * locks its payloads. "done" is written before returning, other events at
 * the next flush. 0 or a negative errno, in which case the node is as it
 * was.
 */
int nodes_event(struct nodes *ns, struct node *nd, const struct node_event *ev,
		int64_t now);

/*
 * Re-arm a node: unlock its payloads, close its secret window and forget
 * earlier fetches, noted in the timeline as "rearm". Written before
 * returning; 0 or a negative errno.
 */
int nodes_rearm(struct nodes *ns, struct node *nd, int64_t now);

/*
 * A secret payload of nd was refused (wrong address, plain HTTP, served
 * once already): "secret-refused" on its timeline, rate-limited like a
 * milestone (it comes from an unauthenticated request) but leaving the
 * state as it is. 0 or a negative errno.
 */
int nodes_secret_refused(struct nodes *ns, struct node *nd, int64_t now);

/* Set the secret window (ms, > 0). */
void nodes_set_secret_window(struct nodes *ns, int64_t ms);

/*
 * May node nd's secret payloads (firstboot.yaml, secrets.tar) be served
 * at now? 0, or -ESTALE (410) when the node is done (locked) or when the
 * secret window after its first fetch has passed; both last until
 * nodes_rearm().
 */
int nodes_secret_check(const struct nodes *ns, const struct node *nd,
		       int64_t now);

/*
 * A secret payload of nd was served at now: the first time since armed
 * opens the window ("secrets" on the timeline), written before
 * returning. 0 or a negative errno (the node is then as it was, and the
 * caller must not have sent the body: call it before replying).
 */
int nodes_secret_served(struct nodes *ns, struct node *nd, int64_t now);

/*
 * Write every dirty node's state file (temp + rename, fsync). Returns 0 or
 * the first error; a node that failed stays dirty for the next flush.
 */
int nodes_flush(struct nodes *ns);

/*
 * The same for at most max dirty nodes, taken round-robin from where the
 * last call stopped, so that one timer tick never stalls the loop on
 * thousands of fsyncs (the rest wait for the next tick). For the timer;
 * nodes_flush() at shutdown.
 */
int nodes_flush_some(struct nodes *ns, size_t max);

/*
 * Move the timer's writes off the loop: start a writer thread. From then
 * on nodes_flush_some() serialises at most max dirty nodes on the loop
 * (cheap) and hands them to the thread, which writes and fsyncs them; the
 * next call collects the outcome (a node whose write failed is dirty
 * again, and the error is returned then). One batch is in flight at a
 * time, and the writes that must be on disk before returning (the lock,
 * the window, a re-arm) and nodes_flush() first wait for it, so a file
 * never goes back to an older state. nodes_free() stops the thread.
 * 0, or a negative errno (nothing changed: writes stay on the loop).
 */
int nodes_writer_start(struct nodes *ns);

/* Wait for the batch in flight, if any, and collect it. 0 or its error. */
int nodes_writer_wait(struct nodes *ns);

/*
 * Account a payload fetch. Returns -ESTALE when the node is locked (410),
 * else 0 with *ret_repeat true when this payload was fetched before since
 * the node was armed (worth a warning).
 */
int nodes_payload_fetch(struct node *nd, enum node_payload which,
			bool *ret_repeat);

/*
 * The shared store's record of nd (store.etcd, docs/formats.md): its
 * state file's JSON plus its name, ip and role, so that servers whose
 * netboot.yaml does not list it can show it. *ret_text is owned by the
 * caller. 0 or -ENOMEM.
 */
int nodes_record(const struct node *nd, char **ret_text);

/*
 * Apply a record of the shared store (len bytes) for mac, written by
 * another server: the node's state becomes the record's, and a node
 * this store lacks is added with the record's name, ip and role (a node
 * of the config keeps its own). Marked dirty for the local files, not
 * remote_dirty; the change observer is told. *ret_nd (may be NULL) is
 * the node. 0, -EBADMSG for an invalid record (nothing changed), -EEXIST
 * when the record's name belongs to another node, or -ENOMEM.
 */
int nodes_apply_record(struct nodes *ns, const uint8_t mac[MAC_LEN],
		       const char *text, size_t len, bool newer_only,
		       struct node **ret_nd);

/*
 * The time of nd's latest change, ms: its last agent event, last
 * timeline entry or first secret fetch, whichever is latest; 0: none.
 * With newer_only, nodes_apply_record applies only a record whose
 * latest change is after the node's (-EALREADY otherwise, nothing
 * changed): the latest change wins. A record whose latest change is
 * the node's own clears its remote_dirty (the shared store holds it).
 */
int64_t nodes_latest(const struct node *nd);

/* Append the GET /v1/nodes document. 0, -E2BIG or -ENOMEM. */
int nodes_render_json(const struct nodes *ns, struct buf *out);

/*
 * Append one node's object of that document (no newline). 0, -E2BIG or
 * -ENOMEM.
 */
int nodes_render_node_json(const struct node *nd, struct buf *out);

/* Count nodes per state into counts[NODE_STATE_COUNT]. */
void nodes_count_states(const struct nodes *ns,
			size_t counts[NODE_STATE_COUNT]);

/* "pending", "booting", "provisioning", "done", "failed". */
const char *node_state_name(enum node_state s);

/*
 * Times are milliseconds since the epoch (a timeline of a boot is a matter
 * of seconds). The wall clock now, for the now arguments above.
 */
int64_t nodes_now_ms(void);

#define NODES_TIME_STR_LEN 25
/* Format ms as RFC 3339 UTC ("2026-11-22T08:30:00.123Z") into buf. */
void nodes_time_format(int64_t ms, char buf[NODES_TIME_STR_LEN]);

#endif
