/*
 * yschema.h - typed getters over a loaded YAML tree (yload.h) that report
 * through a diagnostics list (diag.h) with the position of the node they
 * are about. Shared by every parser of a metalboot YAML file.
 *
 * Non-logging: every complaint goes into the context's diags, and the
 * caller decides what to print. The getters never stop a walk: a bad
 * field is reported and the caller carries on (or stops, if it wants to
 * fail fast, by looking at the diags' error count).
 */
#ifndef MB_YSCHEMA_H
#define MB_YSCHEMA_H

#include "diag.h"
#include "yload.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YS_MSG_MAX	  400 /* one formatted message, bytes with the NUL */
#define YS_QUOTE_SIZE	  80  /* buffer for ys_quote(), bytes with the NUL */
#define YS_SUGGEST_DIST	  2   /* "did you mean" up to this edit distance */
#define YS_SUGGEST_KEYLEN 62  /* keys longer than this get no suggestion */

/* ys_get_scalar() and ys_get_ip() flags. */
#define YS_REQUIRED 0x1u /* absent or null is an error */
#define YS_EMPTY_OK 0x2u /* accept "" (ys_get_scalar only) */

/* ys_get_bool() flags. */
#define YS_BOOL_NO_YESNO  0x1u /* only true and false, not yes and no */
#define YS_BOOL_QUOTED_OK 0x2u /* accept "true" quoted as well as plain */

/*
 * What a walk over one file needs. file (borrowed) names the file in every
 * diagnostic; d (borrowed) collects them; oom is set by the caller's own
 * allocations (the helpers here allocate nothing but through diags_add,
 * which keeps its own oom flag).
 */
struct ys_ctx {
	const char *file;
	struct diags *d;
	int oom;
};

/*
 * Record an error (ys_err) or a warning (ys_warn) at node n, formatted
 * printf-style and cut at YS_MSG_MAX bytes. A NULL n gives a position-less
 * diagnostic that names only the file.
 */
void ys_err(struct ys_ctx *c, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ys_warn(struct ys_ctx *c, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Quote len bytes of s (which may hold NULs) for a message: printable
 * ASCII is copied, anything else and the quote and backslash characters
 * become "\xNN", and when s does not fit in sz bytes it is cut and "..."
 * is appended. Writes into buf (caller-owned, sz bytes, sz >= 1; use
 * YS_QUOTE_SIZE) and returns buf, always NUL-terminated.
 */
const char *ys_quote(const char *s, size_t len, char *buf, size_t sz);

/*
 * ys_quote() the value of scalar node n. Returns "" (a static string) when
 * n is NULL or not a scalar, else buf.
 */
const char *ys_qnode(const struct ynode *n, char *buf, size_t sz);

/*
 * Levenshtein distance between a and b. Returns SIZE_MAX when either is
 * longer than YS_SUGGEST_KEYLEN bytes (no suggestion is worth that much
 * work on untrusted keys).
 */
size_t ys_edit_distance(const char *a, const char *b);

/*
 * Check that n has type t. Returns true if so; otherwise reports
 * "WHAT must be a scalar|a list|a mapping" at n and returns false.
 */
bool ys_want_type(struct ys_ctx *c, const struct ynode *n, enum ynode_type t,
		  const char *what);

/*
 * Report every key of mapping m that is not in known (NULL-terminated):
 * "unknown key 'K' in WHERE", with " (did you mean 'X'?)" when a known key
 * is within YS_SUGGEST_DIST edits. Keys are compared with their full
 * length, so a key holding a NUL byte matches nothing. Returns the number
 * of keys reported; 0 also when m is NULL or not a mapping.
 */
size_t ys_check_keys(struct ys_ctx *c, const struct ynode *m, const char *where,
		     const char *const *known);

/*
 * The scalar under key in mapping m. Absent or YAML null gives NULL, and
 * an error "WHAT is required" (at the null value, else at m) when flags
 * has YS_REQUIRED. A non-scalar, an empty string (unless YS_EMPTY_OK) or
 * a value holding a NUL byte is reported at the value and gives NULL.
 * Otherwise returns the value (borrowed from the tree). When ret_node is
 * not NULL it always receives the node found (NULL when absent), so the
 * caller can point at it.
 */
const char *ys_get_scalar(struct ys_ctx *c, const struct ynode *m,
			  const char *key, const char *what, unsigned flags,
			  const struct ynode **ret_node);

/*
 * An optional boolean under key in mapping m: plain true, false, yes or
 * no (flags: YS_BOOL_NO_YESNO refuses yes and no, YS_BOOL_QUOTED_OK also
 * takes quoted scalars). Returns true with *ret written; false when absent
 * or null (nothing reported) or when invalid ("WHAT must be true or false"
 * reported), leaving *ret untouched.
 */
bool ys_get_bool(struct ys_ctx *c, const struct ynode *m, const char *key,
		 const char *what, unsigned flags, bool *ret);

/*
 * A dotted-quad IPv4 address under key in mapping m (see ys_get_scalar for
 * flags and for absent values). Returns true with *ret written (host
 * order, as ipv4_parse); false otherwise, with "WHAT: 'V' is not an IPv4
 * address" reported for a value that does not parse.
 */
bool ys_get_ip(struct ys_ctx *c, const struct ynode *m, const char *key,
	       const char *what, unsigned flags, uint32_t *ret);

/*
 * Copy s into a new string (owned by the caller; free()). NULL gives NULL
 * and is not an error; on allocation failure sets c->oom and returns NULL.
 */
char *ys_strdup(struct ys_ctx *c, const char *s);

#endif
