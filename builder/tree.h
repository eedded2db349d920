/*
 * tree.h - writing the OUT tree: files created under a root directory
 * (the temporary build directory) with their parents, and the SHA-256 of
 * each recorded for SHA256SUMS. Safe to call from several threads.
 */
#ifndef MB_TREE_H
#define MB_TREE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TREE_DIGEST_LEN 32
#define TREE_MAX_FILE	(4ull << 30) /* largest file hashed by tree_sums */

struct tree_sum {
	char *rel; /* owned */
	uint8_t digest[TREE_DIGEST_LEN];
};

struct tree {
	int rootfd;
	int reusefd; /* a previous tree whose identical files are linked */
	pthread_mutex_t lock;
	struct tree_sum *sums;
	size_t n, cap;
};

/*
 * Open root (an existing directory). Returns 0 or a negative errno.
 * Release with tree_done().
 */
int tree_open(struct tree *t, const char *root);

/*
 * Let tree_write hard-link a file of the previous tree at old (same
 * relative path, same mode, same bytes) instead of creating a new one. A
 * rebuild then allocates no inode for what did not change, which is most
 * of its cost on file systems slow at creating files. Returns 0 or a
 * negative errno (the tree still works without reuse).
 */
int tree_reuse_from(struct tree *t, const char *old);

/* Close and free; t may be zeroed (rootfd 0 is never ours: use -1). */
void tree_done(struct tree *t);

/*
 * Create rel (relative, no "..") under the root with mode, creating the
 * missing parent directories (0755, or 0700 under pki/ and secrets/), and
 * write len bytes. The file must not exist. When sum is true its SHA-256
 * is recorded. Returns 0 or a negative errno.
 */
int tree_write(struct tree *t, const char *rel, const void *data, size_t len,
	       mode_t mode, bool sum);

/* mkdir -p rel under the root with mode. 0 or a negative errno. */
int tree_mkdir(struct tree *t, const char *rel, mode_t mode);

/* Copy the file at src (outside the tree) to rel. 0 or a negative errno. */
int tree_copy(struct tree *t, const char *src, const char *rel, mode_t mode);

/*
 * Write SHA256SUMS at the root: "HEX  REL" per line, sorted by path, for
 * every regular file in the tree except those under the top-level names
 * in skip (NULL-terminated) and SHA256SUMS itself. Files written with
 * sum=true are not read again. Returns 0 or a negative errno.
 */
int tree_write_sums(struct tree *t, const char *const *skip);

#endif
