/*
 * nodes.h - the fleet state store: for every node of the config, its state
 * (pending, booting, provisioning, done, failed), last agent event, boot
 * timeline and payload lock, persisted one file per node under
 * STATE_DIR/nodes/ with atomic writes, so that a restart loses nothing
 * that was acknowledged. Non-logging: callers log.
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

#define NODES_TIMELINE_MAX   128	 /* entries kept; the oldest go */
#define NODES_EVENT_NAME_MAX 48		 /* "step:status" + NUL */
#define NODES_ROLE_MAX	     24		 /* "control-plane" + NUL */
#define NODES_STATE_FILE_MAX (1u << 20)	 /* bytes of one node's state file */
#define NODES_JSON_MAX	     (64u << 20) /* bytes of GET /v1/nodes */

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
	NODE_PAYLOAD_COUNT,
};

struct node_mark {
	char event[NODES_EVENT_NAME_MAX]; /* "dhcp", "kernel", "fetch:ok" */
	int64_t time;			  /* milliseconds since the epoch */
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

struct nodes {
	struct node *v; /* owned */
	size_t n, cap;
	char *dir; /* owned: STATE_DIR/nodes, or NULL: nothing persisted */
	nodes_lookup_fn lookup;
	void *lookup_ctx; /* borrowed */
	nodes_change_fn changed;
	void *changed_ctx; /* borrowed */
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
 * Record a boot milestone ("dhcp", "boot-script", "kernel", "initrd") at
 * now: appended to the timeline, and a pending node becomes booting.
 * Persisted before returning. 0 or a negative errno, in which case the
 * node is as it was.
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
 * locks its payloads. Persisted before returning (the caller acknowledges
 * only after 0). 0 or a negative errno, in which case the node is as it
 * was.
 */
int nodes_event(struct nodes *ns, struct node *nd, const struct node_event *ev,
		int64_t now);

/*
 * Re-arm a node: unlock its payloads and forget earlier fetches, noted in
 * the timeline as "rearm". Persisted; 0 or a negative errno.
 */
int nodes_rearm(struct nodes *ns, struct node *nd, int64_t now);

/*
 * Account a payload fetch. Returns -ESTALE when the node is locked (410),
 * else 0 with *ret_repeat true when this payload was fetched before since
 * the node was armed (worth a warning).
 */
int nodes_payload_fetch(struct node *nd, enum node_payload which,
			bool *ret_repeat);

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
