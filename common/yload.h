/*
 * yload.h - a YAML document loaded with libyaml into a tree that keeps the
 * line and column of every node, so that any later check can point at the
 * exact place in the user's file.
 *
 * Untrusted input: depth, node count and scalar size are capped; aliases
 * are refused (no billion laughs); exactly one document is accepted;
 * duplicate mapping keys are an error.
 */
#ifndef MB_YLOAD_H
#define MB_YLOAD_H

#include <stdbool.h>
#include <stddef.h>

#define YLOAD_MAX_DEPTH	 64
#define YLOAD_MAX_NODES	 200000
#define YLOAD_MAX_SCALAR (1u << 20)  /* one MiB */
#define YLOAD_MAX_INPUT	 (64u << 20) /* 64 MiB */

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	enum ynode_type type;
	unsigned line, col;   /* 1-based, where the node starts */
	char *str;	      /* SCALAR: the value, NUL-terminated */
	size_t len;	      /* SCALAR: its length (may hold NULs) */
	bool plain;	      /* SCALAR: unquoted (so "null" and null differ) */
	struct ynode **items; /* SEQ: n items; MAP: 2n (key, value, ...) */
	size_t n;
	size_t nraw; /* internal: entries in items */
};

struct ydoc {
	struct ynode *root; /* NULL for an empty document */
	char *file;	    /* name used in messages */
};

/* Where and why a document was refused; line 0 when there is no position. */
struct yerror {
	unsigned line, col;
	char msg[256];
};

/*
 * Parse len bytes of YAML. file names the input. On success returns 0 and
 * *ret (owned; free with ydoc_free). On failure returns -EINVAL with *err
 * filled, or -ENOMEM.
 */
int ydoc_parse(const char *file, const void *data, size_t len,
	       struct ydoc **ret, struct yerror *err);

/* Read and parse a file (at most YLOAD_MAX_INPUT bytes); -errno on I/O. */
int ydoc_load(const char *path, struct ydoc **ret, struct yerror *err);

/* Free a document; NULL is a no-op. Returns NULL. */
struct ydoc *ydoc_free(struct ydoc *doc);

/* Look up key in a mapping; NULL when absent or m is not a mapping. */
struct ynode *ynode_get(const struct ynode *m, const char *key);

/* True for a plain scalar null, ~ or empty (YAML's null). */
bool ynode_is_null(const struct ynode *n);

#endif
