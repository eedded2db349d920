/*
 * store_etcd.h - the node store's etcd backend: the client of an etcd v3
 * cluster's JSON gateway (etcd.h builds and parses the messages) over
 * HTTPS with a client certificate, on threads of its own so that no
 * blocking call runs on the event loop. Part of the store service
 * (store_io.c owns it); non-logging apart from what store_io logs from
 * its results.
 *
 * Threads: the writer takes jobs from one FIFO queue in order and
 * performs them (loading the nodes, writing node records by
 * compare-and-swap, keeping this server's registration alive); the
 * watcher follows PREFIX/v1/nodes/ from the loaded revision on. Both hand
 * their results to the loop through a queue and a wake-up pipe
 * (etcd_client_wake_fd): the loop reads the pipe and takes the results
 * with etcd_client_collect. Everything behind the struct is guarded by
 * one mutex.
 *
 * Node records are coalesced per slot (a node's index): a newer record
 * replaces one not yet sent, so the queue holds at most one write per
 * node, and writes keep their order of first queuing. The writer sends
 * the node records at the head of the queue together, up to
 * ETCD_BATCH_MAX in one transaction of compare-and-swaps (all made or
 * none; when one compare fails every key's revision comes back, and
 * the batch is sent again on them); a lease record goes alone. When etcd cannot
 * be reached the writer retries the head of the queue (every
 * ETCD_RETRY_MS, the endpoints in turn) and nothing behind it is lost.
 * A compare-and-swap that loses (another server wrote the node since)
 * learns the winner's revision and writes again: a node's record is the
 * last writer's, but every write is based on the revision it replaces.
 */
#ifndef MB_NB_STORE_ETCD_H
#define MB_NB_STORE_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

struct nb_config;
struct etcd_client;

#define ETCD_TIMEOUT_MS	     5000 /* one request, connect included */
#define ETCD_CONNECT_MS	     2000
#define ETCD_RETRY_MS	     1000   /* between attempts while etcd is down */
#define ETCD_LEASE_TTL	     10	    /* s: a server's registration outlives it */
#define ETCD_SERVERS_MAX     64	    /* servers listed by /v1/servers */
#define ETCD_QUEUE_SLOTS_MAX 200000 /* slots: nodes and leases */
#define ETCD_CLAIM_WAIT_MS   3000   /* a claim not sent by then fails */
#define ETCD_STANDBY_LIST_S  1	    /* s between a standby's lists */
#define ETCD_BATCH_MAX	     64	    /* node records in one transaction */
#define ETCD_BATCH_BYTES     (512u << 10) /* and their bytes at most */

enum etcd_result_kind {
	ETCD_RES_RECORD,  /* a node record from the load or the watch */
	ETCD_RES_LOADED,  /* the load is complete (after its records) */
	ETCD_RES_WRITTEN, /* a node record reached etcd (slot) */
	ETCD_RES_CLAIMED  /* a claim's outcome (tag, r) */
};

/* One result for the loop (owned buffers). */
struct etcd_result {
	enum etcd_result_kind kind;
	char *key; /* RECORD */
	char *value;
	size_t value_len;
	int64_t mod_revision; /* RECORD: the key's */
	bool deleted;
	size_t slot;  /* WRITTEN */
	uint64_t tag; /* CLAIMED */
	int r;	      /* CLAIMED: 0 ours, -ESTALE taken, -EIO, -ETIMEDOUT */
	struct etcd_result *next;
};

/* A live server (GET /v1/servers): its id and what it registered. */
struct etcd_server {
	char id[64];
	char *info; /* JSON object text, owned */
};

/*
 * Create the client from cfg->store (borrowed; must outlive it): reads
 * the CA, certificate and key into memory now (the daemon drops its
 * privileges later), opens the wake-up pipe. server_id names this
 * server's registration, info (JSON object text, copied) is its value.
 * 0 and *ret, -ENOMEM, or a negative errno from reading a file (*ret_bad
 * then names it).
 */
int etcd_client_new(const struct nb_config *cfg, const char *server_id,
		    const char *info, struct etcd_client **ret,
		    const char **ret_bad);

/* Start the threads (load first). 0 or a negative errno. */
int etcd_client_start(struct etcd_client *c);

/* Stop the threads and free everything (the key wiped); NULL-safe. */
void etcd_client_free(struct etcd_client *c);

/* The read end of the wake-up pipe: readable when results wait. */
int etcd_client_wake_fd(const struct etcd_client *c);

/* Take every waiting result, oldest first (free with etcd_result_free). */
struct etcd_result *etcd_client_collect(struct etcd_client *c);
void etcd_result_free(struct etcd_result *res);

/*
 * Queue node slot's record under key (both copied; value takes over a
 * record of that slot not yet sent). 0, -ENOMEM, -E2BIG past
 * ETCD_QUEUE_SLOTS_MAX.
 */
int etcd_client_put_node(struct etcd_client *c, size_t slot, const char *key,
			 const char *value, size_t len);

/*
 * The mod_revision of slot's key as a load or the watch showed it: the
 * next write of the slot compares with it (instead of learning it from a
 * failed compare first).
 */
void etcd_client_note_rev(struct etcd_client *c, size_t slot, int64_t rev);

/*
 * Queue a write of key like etcd_client_put_node, into any slot (the
 * caller numbers them). With lease_mac, value is a lease record of that
 * machine, written only while it holds the address or the holder's lease
 * has expired; when another machine holds it, the write is dropped
 * (counted as a conflict) and the holder comes back as an
 * ETCD_RES_RECORD. 0, -ENOMEM, -E2BIG.
 */
int etcd_client_put(struct etcd_client *c, size_t slot, const char *key,
		    const char *value, size_t len, const uint8_t *lease_mac);

/*
 * Claim the address of lease key for mac: write value (its lease
 * record) when the key is absent, held by mac or expired (an ordered
 * claim like etcd_client_claim's); slot is the one of the lease's later
 * writes (etcd_client_put), which then compare with the claim's
 * revision. Outcome as ETCD_RES_CLAIMED: 0 (ours),
 * -EADDRINUSE (another machine holds it: its record arrives as an
 * ETCD_RES_RECORD first), -EIO or -ETIMEDOUT (unknown: not ours). 0 or
 * -ENOMEM.
 */
int etcd_client_claim_lease(struct etcd_client *c, const char *key,
			    const char *value, const uint8_t mac[MAC_LEN],
			    size_t slot, uint64_t tag);

/*
 * Claim key (a served-once mark): create it with value unless it exists,
 * before every node write waiting (claims wait for nothing but earlier
 * claims). The outcome comes back as an ETCD_RES_CLAIMED result with
 * tag: 0 (created: ours), -ESTALE (it existed: served already), -EIO
 * (no endpoint answered, each tried once) or -ETIMEDOUT (not sent
 * within ETCD_CLAIM_WAIT_MS). Never served twice: an unknown outcome is
 * an error. 0 or -ENOMEM.
 */
int etcd_client_claim(struct etcd_client *c, const char *key, const char *value,
		      uint64_t tag);

/* State for /metrics and logs. */
struct etcd_client_stats {
	bool up;	    /* the last request reached etcd */
	size_t queued;	    /* writes waiting (the one in flight included) */
	uint64_t writes;    /* node records written */
	uint64_t batches;   /* transactions of node records sent */
	uint64_t conflicts; /* compare-and-swap lost, written again */
	uint64_t errors;    /* requests that failed (etcd unreachable...) */
	uint64_t records;   /* records received (load and watch) */
	uint64_t claims_won, claims_lost, claims_failed;
};
void etcd_client_stats(struct etcd_client *c, struct etcd_client_stats *out);

/*
 * The live servers (registered under PREFIX/v1/servers/, refreshed
 * every ETCD_LEASE_TTL / 3 seconds) as a JSON document into *ret_text
 * (owned). 0 or -ENOMEM.
 */
int etcd_client_servers_json(struct etcd_client *c, char **ret_text);

/*
 * Whether a live server other than this one registered as the DHCP
 * primary of segment (its registration's "segment", "dhcp": "full" and
 * no "failover": "standby"): 1 (its id into ret_id, n bytes), 0 (none),
 * -ENODATA (never listed yet). The list is refreshed every
 * ETCD_STANDBY_LIST_S with dhcp.failover: standby, else with each
 * keepalive; while etcd is unreachable it is the last one seen.
 */
int etcd_client_primary(struct etcd_client *c, const char *segment,
			char *ret_id, size_t n);

#endif
