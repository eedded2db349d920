/* tree.c - writing the OUT tree with recorded checksums (see tree.h). */
#include "tree.h"

#include "buf.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TREE_IO_CHUNK  (256u << 10)
#define TREE_MAX_DEPTH 32
#define TREE_SUMS_MAX  (1u << 30)

/* Open the root directory. */
int
tree_open(struct tree *t, const char *root)
{
	memset(t, 0, sizeof(*t));
	t->reusefd = -1;
	t->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->rootfd < 0) {
		t->rootfd = -1;
		return -errno;
	}
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

/* Close and free. */
void
tree_done(struct tree *t)
{
	size_t i;

	if (t->rootfd >= 0) {
		close(t->rootfd);
		pthread_mutex_destroy(&t->lock);
	}
	if (t->reusefd >= 0)
		close(t->reusefd);
	t->reusefd = -1;
	for (i = 0; i < t->n; i++)
		free(t->sums[i].rel);
	free(t->sums);
	t->sums = NULL;
	t->n = t->cap = 0;
	t->rootfd = -1;
}

static bool
is_private(const char *rel)
{
	return strncmp(rel, "pki/", 4) == 0 ||
	       strncmp(rel, "secrets/", 8) == 0 || strcmp(rel, "pki") == 0 ||
	       strcmp(rel, "secrets") == 0;
}

/* mkdir -p rel under the root. */
int
tree_mkdir(struct tree *t, const char *rel, mode_t mode)
{
	char p[PATH_MAX];
	size_t i, len = strlen(rel);

	if (len >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, rel, len + 1);
	for (i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdirat(t->rootfd, p, mode) == 0) {
			/* The same modes whatever the umask. */
			if (fchmodat(t->rootfd, p, mode, 0) < 0)
				return -errno;
		} else if (errno != EEXIST) {
			return -errno;
		}
		if (i < len)
			p[i] = '/';
	}
	return 0;
}

static int
mkparents(struct tree *t, const char *rel)
{
	char p[PATH_MAX];
	const char *slash = strrchr(rel, '/');
	size_t n;

	if (slash == NULL)
		return 0;
	n = (size_t)(slash - rel);
	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, rel, n);
	p[n] = '\0';
	return tree_mkdir(t, p, is_private(rel) ? 0700 : 0755);
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *c = data;

	while (len > 0) {
		ssize_t w = write(fd, c, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
record(struct tree *t, const char *rel, const uint8_t d[TREE_DIGEST_LEN])
{
	struct tree_sum *v;
	char *copy;
	int r = 0;

	copy = strdup(rel);
	if (copy == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&t->lock);
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;

		v = realloc(t->sums, nc * sizeof(*v));
		if (v == NULL) {
			r = -ENOMEM;
			goto out;
		}
		t->sums = v;
		t->cap = nc;
	}
	t->sums[t->n].rel = copy;
	memcpy(t->sums[t->n].digest, d, TREE_DIGEST_LEN);
	t->n++;
	copy = NULL;
out:
	pthread_mutex_unlock(&t->lock);
	free(copy);
	return r;
}

/* Reuse files of the tree at old. */
int
tree_reuse_from(struct tree *t, const char *old)
{
	int fd = open(old, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (t->reusefd >= 0)
		close(t->reusefd);
	t->reusefd = fd;
	return 0;
}

/* True when the old tree holds rel with exactly mode and data. */
static bool
same_as_old(struct tree *t, const char *rel, const void *data, size_t len,
	    mode_t mode)
{
	char b[TREE_IO_CHUNK > 65536 ? 65536 : TREE_IO_CHUNK];
	const char *want = data;
	struct stat st;
	size_t off = 0;
	bool same = false;
	int fd;

	fd = openat(t->reusefd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != mode || (uint64_t)st.st_size != len)
		goto out;
	while (off < len) {
		ssize_t n = read(fd, b, sizeof(b));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (size_t)n > len - off ||
		    memcmp(b, want + off, (size_t)n) != 0)
			goto out;
		off += (size_t)n;
	}
	same = true;
out:
	close(fd);
	return same;
}

static int
link_old(struct tree *t, const char *rel)
{
	int r;

	if (linkat(t->reusefd, rel, t->rootfd, rel, 0) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	r = mkparents(t, rel);
	if (r < 0)
		return r;
	return linkat(t->reusefd, rel, t->rootfd, rel, 0) == 0 ? 0 : -errno;
}

/* Create rel and write data; record its digest when sum. */
int
tree_write(struct tree *t, const char *rel, const void *data, size_t len,
	   mode_t mode, bool sum)
{
	uint8_t d[TREE_DIGEST_LEN];
	int fd, r;

	r = path_check_rel(rel, strlen(rel));
	if (r < 0)
		return r;
	if (t->reusefd >= 0 && same_as_old(t, rel, data, len, mode) &&
	    link_old(t, rel) == 0) {
		if (!sum)
			return 0;
		SHA256(data, len, d);
		return record(t, rel, d);
	}
	/* Parents are made only when missing: most files share them. */
	fd = openat(t->rootfd, rel,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0 && errno == ENOENT) {
		r = mkparents(t, rel);
		if (r < 0)
			return r;
		fd = openat(t->rootfd, rel,
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				    O_NOFOLLOW,
			    mode);
	}
	if (fd < 0)
		return -errno;
	/* The umask may have narrowed mode; secrets must never be wider. */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, data, len);
	if (r < 0)
		goto out;
	if (sum) {
		SHA256(data, len, d);
		r = record(t, rel, d);
	}
out:
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Copy src to rel. */
int
tree_copy(struct tree *t, const char *src, const char *rel, mode_t mode)
{
	char *b = NULL;
	int in = -1, out = -1, r;

	r = mkparents(t, rel);
	if (r < 0)
		return r;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(t->rootfd, rel,
		     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		     mode);
	if (out < 0) {
		r = -errno;
		goto out;
	}
	b = malloc(TREE_IO_CHUNK);
	if (b == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, b, TREE_IO_CHUNK);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		r = write_all(out, b, (size_t)n);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	free(b);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && r == 0)
		r = -errno;
	return r;
}

static int
cmp_sum(const void *a, const void *b)
{
	const struct tree_sum *x = a, *y = b;

	return strcmp(x->rel, y->rel);
}

static int
hash_fd(int fd, uint8_t d[TREE_DIGEST_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	char *b = NULL;
	unsigned dl = 0;
	int r = -ENOMEM;

	ctx = EVP_MD_CTX_new();
	b = malloc(TREE_IO_CHUNK);
	if (ctx == NULL || b == NULL)
		goto out;
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		r = -EIO;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, b, TREE_IO_CHUNK);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, b, (size_t)n)) {
			r = -EIO;
			goto out;
		}
	}
	r = EVP_DigestFinal_ex(ctx, d, &dl) ? 0 : -EIO;
out:
	free(b);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Walk dir (relative rel, "" for the root) hashing unrecorded files. */
static int
walk(struct tree *t, int dirfd, const char *rel, const char *const *skip,
     const struct tree_sum *known, size_t nknown, int depth)
{
	DIR *dir = NULL;
	struct dirent *de;
	int fd, r = 0;

	if (depth > TREE_MAX_DEPTH)
		return -ELOOP;
	fd = openat(dirfd, rel[0] ? rel : ".",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(dir)) != NULL) {
		char child[PATH_MAX];
		struct tree_sum key, *hit;
		struct stat st;
		size_t i;
		bool skipped = false;
		int n;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (rel[0] == '\0') {
			if (strcmp(de->d_name, "SHA256SUMS") == 0)
				continue;
			for (i = 0; skip != NULL && skip[i] != NULL; i++)
				if (strcmp(de->d_name, skip[i]) == 0)
					skipped = true;
			if (skipped)
				continue;
		}
		n = snprintf(child, sizeof(child), "%s%s%s", rel,
			     rel[0] ? "/" : "", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(child)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		if (fstatat(t->rootfd, child, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			r = walk(t, t->rootfd, child, skip, known, nknown,
				 depth + 1);
			if (r < 0)
				goto out;
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		key.rel = child;
		hit = bsearch(&key, known, nknown, sizeof(*known), cmp_sum);
		if (hit == NULL) {
			uint8_t d[TREE_DIGEST_LEN];
			int ffd = openat(t->rootfd, child,
					 O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

			if (ffd < 0) {
				r = -errno;
				goto out;
			}
			r = hash_fd(ffd, d);
			close(ffd);
			if (r < 0)
				goto out;
			r = record(t, child, d);
			if (r < 0)
				goto out;
		}
	}
out:
	closedir(dir);
	return r;
}

/* Write SHA256SUMS over the tree. */
int
tree_write_sums(struct tree *t, const char *const *skip)
{
	static const char hex[] = "0123456789abcdef";
	struct tree_sum *known = NULL;
	struct buf b;
	size_t nknown, i, j;
	int r;

	buf_init(&b, TREE_SUMS_MAX);
	/* What was written so far is known; the walk adds the rest. */
	nknown = t->n;
	qsort(t->sums, t->n, sizeof(*t->sums), cmp_sum);
	known = malloc((nknown ? nknown : 1) * sizeof(*known));
	if (known == NULL)
		return -ENOMEM;
	memcpy(known, t->sums, nknown * sizeof(*known));
	r = walk(t, t->rootfd, "", skip, known, nknown, 0);
	free(known);
	if (r < 0)
		goto out;
	qsort(t->sums, t->n, sizeof(*t->sums), cmp_sum);
	for (i = 0; i < t->n; i++) {
		char h[2 * TREE_DIGEST_LEN + 1];
		bool skipped = false;

		for (j = 0; skip != NULL && skip[j] != NULL; j++) {
			size_t l = strlen(skip[j]);

			if (strncmp(t->sums[i].rel, skip[j], l) == 0 &&
			    t->sums[i].rel[l] == '/')
				skipped = true;
		}
		if (skipped)
			continue;
		for (j = 0; j < TREE_DIGEST_LEN; j++) {
			h[2 * j] = hex[t->sums[i].digest[j] >> 4];
			h[2 * j + 1] = hex[t->sums[i].digest[j] & 15];
		}
		h[2 * TREE_DIGEST_LEN] = '\0';
		/* sha256sum escapes names with a backslash or newline. */
		if (strpbrk(t->sums[i].rel, "\\\n") != NULL) {
			r = -EINVAL;
			goto out;
		}
		r = buf_printf(&b, "%s  %s\n", h, t->sums[i].rel);
		if (r < 0)
			goto out;
	}
	r = tree_write(t, "SHA256SUMS", b.data ? b.data : "", b.len, 0644,
		       false);
out:
	buf_done(&b);
	return r;
}
