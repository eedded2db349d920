/*
 * leases.h - the DHCP lease table and its file in the state directory.
 *
 * One lease per MAC and at most one entry per address: leases_set()
 * removes any other entry holding the same address, so the table can
 * never hand one address to two machines. Besides its lease, a MAC may
 * hold declined entries (addresses it reported in use), at most
 * LEASES_PER_MAC - 1 of them, so that one machine cannot fill the table. The
 * table is saved as text with an atomic write (temp + fsync + rename), so a
 * crash at any point, kill -9 included, leaves either the old or the new file,
 * and a restart reloads it. Pure except leases_load() and leases_save().
 * Non-logging.
 *
 * File format, one lease a line, after a "# metalboot leases 1" line:
 *   MAC IP STATE EXPIRES
 * e.g. "52:54:00:00:02:01 192.168.100.21 bound 1763800000", where STATE is
 * offered, bound, released or declined and EXPIRES is Unix time.
 */
#ifndef MB_LEASES_H
#define MB_LEASES_H

#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LEASES_MAX	65536 /* entries; a /16 */
#define LEASES_PER_MAC	4     /* entries one MAC holds: a lease + 3 declined */
#define LEASES_FILE	"dhcp.leases"
#define LEASES_FILE_MAX (LEASES_MAX * 64)
#define LEASES_HEADER	"# metalboot leases 1\n"

enum lease_state {
	LEASE_OFFERED = 0,  /* offered, not yet requested */
	LEASE_BOUND = 1,    /* acknowledged */
	LEASE_RELEASED = 2, /* given back; kept so the MAC gets it again */
	LEASE_DECLINED = 3, /* client mac said the address is in use */
};

struct lease {
	uint8_t mac[MAC_LEN];
	uint32_t ip;	 /* host order */
	uint8_t state;	 /* enum lease_state */
	int64_t expires; /* Unix time */
};

struct leases {
	struct lease *v; /* owned */
	size_t n, cap;
};

/* Initialise an empty table. */
void leases_init(struct leases *t);

/* Free the entries; the table is empty and reusable. Accepts NULL. */
void leases_done(struct leases *t);

/* The entry for mac, or NULL. Borrowed: valid until the next change. */
struct lease *leases_find_mac(struct leases *t, const uint8_t mac[MAC_LEN]);

/* The entry holding ip, or NULL. Borrowed likewise. */
struct lease *leases_find_ip(struct leases *t, uint32_t ip);

/*
 * Record that mac holds ip in state until expires. Any other entry for
 * the same ip and the old entry of mac are replaced (a declined entry
 * replaces no entry of mac but the one for ip). Returns 0, -ENOSPC when
 * the table holds LEASES_MAX entries, -EDQUOT when mac would hold more
 * than LEASES_PER_MAC - 1 declined entries (nothing changed then), or
 * -ENOMEM.
 */
int leases_set(struct leases *t, const uint8_t mac[MAC_LEN], uint32_t ip,
	       enum lease_state state, int64_t expires);

/* Remove the entry of mac if there is one. */
void leases_remove_mac(struct leases *t, const uint8_t mac[MAC_LEN]);

/*
 * Drop what no longer matters at now: lapsed offers and declines. Bound
 * and released entries stay, expired or not, so that a machine gets its
 * address back. Returns the number removed.
 */
size_t leases_prune(struct leases *t, int64_t now);

/* Number of declined entries mac holds (expired or not). */
size_t leases_declined_by(const struct leases *t, const uint8_t mac[MAC_LEN]);

/* Number of entries in state that have not expired at now. */
size_t leases_count(const struct leases *t, enum lease_state state,
		    int64_t now);

/* A lease that is still in force at now (not expired, offered or bound). */
bool lease_active(const struct lease *l, int64_t now);

/* "offered", "bound", "released", "declined". */
const char *lease_state_name(uint8_t state);

/* The enum lease_state of a name lease_state_name gives, or -EINVAL. */
int lease_state_parse(const char *name);

/*
 * Serialise the table into a new NUL-terminated buffer (*ret, freed by
 * the caller with free()). Returns 0 or -ENOMEM.
 */
int leases_format(const struct leases *t, char **ret, size_t *ret_len);

/*
 * Parse len bytes of the file format into *t (which must be empty).
 * Returns 0, -EINVAL on a malformed line (*ret_line says which, from 1),
 * or -ENOSPC/-ENOMEM. Duplicates resolve as leases_set() does; declined
 * entries over a MAC's LEASES_PER_MAC are left out.
 */
int leases_parse(struct leases *t, const char *text, size_t len,
		 size_t *ret_line);

/*
 * Load dir/LEASES_FILE into the empty *t. A missing file is an empty
 * table. Returns 0 or a negative errno (-EINVAL: malformed, *ret_line).
 */
int leases_load(struct leases *t, const char *dir, size_t *ret_line);

/* Save *t to dir/LEASES_FILE atomically (mode 0600). 0 or -errno. */
int leases_save(const struct leases *t, const char *dir);

#endif
