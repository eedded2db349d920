/*
 * etcd.h - the etcd v3 JSON gateway's requests and responses, and the
 * node store's key layout in etcd (docs/formats.md). Pure: no I/O, no
 * logging; the store's etcd backend sends what this builds and hands
 * what it receives to the parsers here.
 *
 * The gateway (etcd 3.4: POST /v3/kv/range, /v3/kv/txn, /v3/kv/put,
 * /v3/lease/grant, /v3/lease/keepalive, /v3/watch) speaks the protobuf
 * messages as JSON: keys and values are base64, 64-bit integers are
 * decimal strings, and fields at their zero value are left out (a PUT
 * event has no "type", a failed txn no "succeeded").
 *
 * Key layout under PREFIX (store.etcd.prefix), version 1:
 *   PREFIX/v1/nodes/MAC             a node's state (the state file's JSON)
 *   PREFIX/v1/served/MAC/ARMED/PAYLOAD  a secret payload served (create-
 *                                   only), per arming of the node
 *   PREFIX/v1/servers/ID            a live netboot server (under a lease)
 *   PREFIX/v1/leases/IP             a DHCP address's holder (a lease or a
 *                                   reservation), claimed by compare-
 *                                   and-swap: {"mac","state","expires",
 *                                   "server"} (etcd_lease_format)
 * MAC is lowercase with colons; ARMED the node's last re-arm (ms since
 * the epoch, 0: never); PAYLOAD "firstboot" or "secrets"; IP dotted quad.
 * Every server loads and watches the whole of PREFIX/v1/ (etcd_key_root).
 */
#ifndef MB_NB_ETCD_H
#define MB_NB_ETCD_H

#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETCD_KEY_MAX	    512		/* bytes of one key */
#define ETCD_VALUE_MAX	    (1u << 20)	/* bytes of one value we accept */
#define ETCD_RESPONSE_MAX   (64u << 20) /* bytes of one response body */
#define ETCD_KVS_MAX	    100000	/* kvs of one range response */
#define ETCD_EVENTS_MAX	    100000	/* events of one watch message */
#define ETCD_SERVER_ID_MAX  64		/* bytes of a server id */
#define ETCD_LAYOUT_VERSION "v1"

/* One key-value as the gateway returns it (decoded; owned buffers). */
struct etcd_kv {
	char *key; /* NUL-terminated (keys with a NUL are refused) */
	size_t key_len;
	char *value; /* NUL-terminated too, value_len bytes before it */
	size_t value_len;
	int64_t create_revision, mod_revision, version, lease;
};

/* A range response, or the kvs of a watch message's events. */
struct etcd_kvs {
	int64_t revision; /* the header's: the store's revision then */
	struct etcd_kv *v;
	bool *deleted; /* watch only: the event at i is a DELETE */
	size_t n;
	bool more;	 /* range: limited, more keys follow */
	bool created;	 /* watch: the watch was created */
	bool canceled;	 /* watch: the server ended the watch */
	int64_t compact; /* watch: compacted past the start (> 0) */
};

/* Free what a parser filled in (not kvs itself); NULL-safe. */
void etcd_kvs_done(struct etcd_kvs *kvs);

/* --- Keys ------------------------------------------------------------ */

/*
 * PREFIX/v1/nodes/MAC into buf (n bytes). 0, or -ENAMETOOLONG. The same
 * for the served mark of payload ("firstboot", "secrets") in the arming
 * of the node at armed, a server (PREFIX/v1/servers/ID), and the
 * directories to range or watch (PREFIX/v1/nodes/, PREFIX/v1/servers/).
 */
int etcd_key_node(const char *prefix, const uint8_t mac[MAC_LEN], char *buf,
		  size_t n);
int etcd_key_served(const char *prefix, const uint8_t mac[MAC_LEN],
		    int64_t armed, const char *payload, char *buf, size_t n);
int etcd_key_server(const char *prefix, const char *id, char *buf, size_t n);
int etcd_key_dir(const char *prefix, const char *what, char *buf, size_t n);

/* PREFIX/v1/leases/IP (ip in host order), and PREFIX/v1/ itself. */
int etcd_key_lease(const char *prefix, uint32_t ip, char *buf, size_t n);
int etcd_key_root(const char *prefix, char *buf, size_t n);

/*
 * The address of a lease key (len bytes, host order): 0 and *ret_ip, or
 * -EINVAL for a key that is not PREFIX/v1/leases/IP.
 */
int etcd_key_lease_ip(const char *prefix, const char *key, size_t len,
		      uint32_t *ret_ip);

/*
 * The MAC of a node key (len bytes). 0 and *ret_mac, or -EINVAL for a
 * key that is not PREFIX/v1/nodes/MAC.
 */
int etcd_key_node_mac(const char *prefix, const char *key, size_t len,
		      uint8_t ret_mac[MAC_LEN]);

/* --- Requests (JSON text, owned by the caller; NULL: out of memory) ---- */

/* Every key starting with dir (a range with range_end = dir + 1). */
char *etcd_req_range_prefix(const char *dir);

/*
 * Write value to key if its mod_revision is still mod_revision (0: the
 * key must not exist), else read it back: a txn whose failure branch
 * returns the key, so the caller learns the winner's revision.
 */
char *etcd_req_cas(const char *key, const char *value, size_t len,
		   int64_t mod_revision);

/* One write of a batch: key = value if its mod_revision is still that. */
struct etcd_write {
	const char *key;
	const char *value;
	size_t len;
	int64_t mod_revision; /* 0: the key must not exist */
};

/*
 * n (>= 1) compare-and-swaps in one txn: every write is made if every
 * compare holds, else none is and each key is read back (its current
 * mod_revision). etcd caps a txn's operations (--max-txn-ops, 128 by
 * default).
 */
#define ETCD_TXN_OPS_MAX 128
char *etcd_req_cas_batch(const struct etcd_write *w, size_t n);

/*
 * The response of etcd_req_cas_batch for n writes: 0 with *ret_ok and
 * ret_revs[i] (n of them): each key's mod_revision now (the txn's
 * revision when made; when not, the current one, 0 for a key that is
 * gone). -EBADMSG or -ENOMEM.
 */
int etcd_parse_txn_batch(const char *text, size_t len, size_t n, bool *ret_ok,
			 int64_t *ret_revs);

/* Delete every key starting with dir. */
char *etcd_req_delete_prefix(const char *dir);

/* Put key = value under lease (0: none). */
char *etcd_req_put(const char *key, const char *value, size_t len,
		   int64_t lease);

/* Grant a lease of ttl seconds; keep lease id alive. */
char *etcd_req_lease_grant(int64_t ttl);
char *etcd_req_keepalive(int64_t id);

/* Watch every key under dir from start_revision (0: from now). */
char *etcd_req_watch(const char *dir, int64_t start_revision);

/* --- Responses (text: len bytes, need not be NUL-terminated) ---------- */

/*
 * A range response into *ret (zeroed first; etcd_kvs_done frees it). 0,
 * -EBADMSG for anything else (a field of the wrong type, bad base64, a
 * key or value over its cap, an error object), -E2BIG over a cap, or
 * -ENOMEM. On error *ret holds nothing to free.
 */
int etcd_parse_range(const char *text, size_t len, struct etcd_kvs *ret);

/*
 * A txn response from etcd_req_cas: 0 with *ret_ok (the write was made)
 * and *ret_rev: the key's mod_revision now (the new one, or the
 * winner's; 0 when the key is gone), or -EBADMSG / -ENOMEM.
 */
int etcd_parse_txn(const char *text, size_t len, bool *ret_ok,
		   int64_t *ret_rev);

/*
 * The same, and on a lost CAS the key's current value as the winner left
 * it: *ret_holder (owned, NULL when the key is gone; etcd_kv_done frees
 * it). Succeeded: *ret_holder is zeroed.
 */
int etcd_parse_txn_kv(const char *text, size_t len, bool *ret_ok,
		      int64_t *ret_rev, struct etcd_kv *ret_holder);
void etcd_kv_done(struct etcd_kv *kv);

/* --- Lease values ------------------------------------------------------ */

#define ETCD_LEASE_STATE_MAX 16

/* A DHCP address's holder as PREFIX/v1/leases/IP records it. */
struct etcd_lease {
	uint8_t mac[MAC_LEN];
	char state[ETCD_LEASE_STATE_MAX]; /* "offered", "bound", ... */
	int64_t expires;		  /* Unix time */
	char server[ETCD_SERVER_ID_MAX];  /* who wrote it last */
};

/* The JSON value of l (owned; NULL: out of memory). */
char *etcd_lease_format(const struct etcd_lease *l);

/*
 * Parse a lease value (len bytes). 0, or -EBADMSG for anything but an
 * object with a valid "mac", a "state" of printable ASCII that fits,
 * an integer "expires" >= 0 and an optional "server" string that fits.
 */
int etcd_lease_parse(const char *text, size_t len, struct etcd_lease *ret);

/*
 * May a claim of the address for mac replace holder at now? Yes when
 * mac already holds it, or the holder's lease has expired.
 */
bool etcd_lease_claimable(const struct etcd_lease *holder,
			  const uint8_t mac[MAC_LEN], int64_t now);

/* A put or delete-range response: 0 and the header's revision. */
int etcd_parse_header(const char *text, size_t len, int64_t *ret_rev);

/* A lease grant or keepalive response: 0, the id and the TTL (s). */
int etcd_parse_lease(const char *text, size_t len, int64_t *ret_id,
		     int64_t *ret_ttl);

/*
 * One message of a watch stream ({"result": {...}}): the events' kvs in
 * order, deleted[i] for DELETE events. Same codes as etcd_parse_range.
 */
int etcd_parse_watch(const char *text, size_t len, struct etcd_kvs *ret);

/*
 * The gateway's error object ({"error": "...", "code": N}), into msg
 * (n bytes, printable ASCII only): 0, or -ENOENT when text is not one.
 */
int etcd_parse_error(const char *text, size_t len, char *msg, size_t n);

/* --- base64 (RFC 4648, with padding) ---------------------------------- */

/* Encode len bytes; NULL when out of memory. Owned by the caller. */
char *etcd_b64_encode(const void *data, size_t len);

/*
 * Decode a base64 string of len characters into a new buffer (NUL-
 * terminated, *ret_len bytes before the NUL). 0, -EBADMSG for anything
 * but canonical base64, -E2BIG past max bytes, -ENOMEM.
 */
int etcd_b64_decode(const char *s, size_t len, size_t max, char **ret,
		    size_t *ret_len);

#endif
