/*
 * initramfs.c - streaming newc writer; see initramfs.h.
 *
 * The kernel unpacks an initramfs with init/initramfs.c: entries are
 * created in archive order, a regular file with nlink >= 2 is remembered
 * by (ino, major, minor, mode) and a later entry with the same key becomes
 * a hard link to it (its data, if any, is written into the shared inode),
 * and the table is forgotten at each TRAILER!!!. We therefore give every
 * hard-linked file one inode number, write its data with the first name
 * and write the others with size 0, the way tar orders hard links.
 */
#include "initramfs.h"

#include "fsutil.h"
#include "num.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINKTAB_MIN 1024 /* initial slots of the hash tables */

/* One hard-link record: a 128-bit key (dev/ino or name hashes). */
struct link_slot {
	uint64_t k1, k2;
	uint32_t ino;
	uint32_t used;
};

struct sym_slot {
	uint64_t h;
	char *name;   /* owned; NULL: empty slot */
	char *target; /* owned; NULL: replaced by a non-symlink */
};

struct initramfs {
	struct initramfs_opts opts;
	char *path; /* owned: final name */
	char *tmp;  /* owned: temporary beside it */
	int fd;
	dev_t tmp_dev; /* the temporary's identity, never archived */
	ino_t tmp_ino;
	struct archive *a;    /* the writer */
	struct archive *disk; /* disk reader for entry metadata */
	uint32_t next_ino;
	struct link_slot *links;
	size_t nlinks, caplinks;
	struct sym_slot *syms;
	size_t nsyms, capsyms;
	unsigned src_flags; /* flags of the source being added */
	char *chunk;	    /* INITRAMFS_CHUNK bytes */
	char err[INITRAMFS_ERR_MAX];
};

typedef ssize_t (*read_fn)(void *ctx, void *buf, size_t n);

static int fail(struct initramfs *w, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the first error message and return r. */
static int
fail(struct initramfs *w, int r, const char *fmt, ...)
{
	va_list ap;

	if (w->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(w->err, sizeof(w->err), fmt, ap);
		va_end(ap);
	}
	return r;
}

static uint64_t
fnv1a(const char *s, uint64_t h)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Find the slot of (k1, k2): its ino in *ret, or 0 when absent. */
static uint32_t
links_get(const struct initramfs *w, uint64_t k1, uint64_t k2)
{
	size_t i;

	if (w->caplinks == 0)
		return 0;
	i = mix64(k1 ^ mix64(k2)) & (w->caplinks - 1);
	while (w->links[i].used) {
		if (w->links[i].k1 == k1 && w->links[i].k2 == k2)
			return w->links[i].ino;
		i = (i + 1) & (w->caplinks - 1);
	}
	return 0;
}

static void
links_insert(struct link_slot *tab, size_t cap, uint64_t k1, uint64_t k2,
	     uint32_t ino)
{
	size_t i = mix64(k1 ^ mix64(k2)) & (cap - 1);

	while (tab[i].used) {
		if (tab[i].k1 == k1 && tab[i].k2 == k2) {
			tab[i].ino = ino;
			return;
		}
		i = (i + 1) & (cap - 1);
	}
	tab[i].k1 = k1;
	tab[i].k2 = k2;
	tab[i].ino = ino;
	tab[i].used = 1;
}

static int
links_put(struct initramfs *w, uint64_t k1, uint64_t k2, uint32_t ino)
{
	struct link_slot *n;
	size_t cap, i;

	if (w->nlinks >= INITRAMFS_LINKS_MAX)
		return fail(w, -E2BIG, "more than %u hard-linked files",
			    INITRAMFS_LINKS_MAX);
	if ((w->nlinks + 1) * 2 > w->caplinks) {
		cap = w->caplinks ? w->caplinks * 2 : LINKTAB_MIN;
		n = calloc(cap, sizeof(*n));
		if (n == NULL)
			return fail(w, -ENOMEM, "out of memory");
		for (i = 0; i < w->caplinks; i++)
			if (w->links[i].used)
				links_insert(n, cap, w->links[i].k1,
					     w->links[i].k2, w->links[i].ino);
		free(w->links);
		w->links = n;
		w->caplinks = cap;
	}
	links_insert(w->links, w->caplinks, k1, k2, ino);
	w->nlinks++;
	return 0;
}

static struct sym_slot *
syms_find(const struct sym_slot *tab, size_t cap, const char *name, uint64_t h)
{
	size_t i = h & (cap - 1);

	while (tab[i].name != NULL) {
		if (tab[i].h == h && strcmp(tab[i].name, name) == 0)
			break;
		i = (i + 1) & (cap - 1);
	}
	return (struct sym_slot *)&tab[i];
}

/* The target of symlink name, or NULL when name is not a symlink. */
static const char *
syms_get(const struct initramfs *w, const char *name)
{
	struct sym_slot *s;

	if (w->capsyms == 0)
		return NULL;
	s = syms_find(w->syms, w->capsyms, name, fnv1a(name, 0xcbf29ce4842));
	return s->name != NULL ? s->target : NULL;
}

/*
 * Record that name is now a symlink to target (target NULL: it is now
 * something else). Slots are never removed, only their target cleared.
 */
static int
syms_put(struct initramfs *w, const char *name, const char *target)
{
	uint64_t h = fnv1a(name, 0xcbf29ce4842);
	struct sym_slot *s, *n;
	char *t = NULL;
	size_t cap, i;

	if (w->capsyms != 0) {
		s = syms_find(w->syms, w->capsyms, name, h);
		if (s->name != NULL) {
			if (target != NULL) {
				t = strdup(target);
				if (t == NULL)
					return fail(w, -ENOMEM,
						    "out of memory");
			}
			free(s->target);
			s->target = t;
			return 0;
		}
	}
	if (target == NULL)
		return 0;
	if (w->nsyms >= INITRAMFS_SYMLINKS_MAX)
		return fail(w, -E2BIG, "more than %u symlinks",
			    INITRAMFS_SYMLINKS_MAX);
	if ((w->nsyms + 1) * 2 > w->capsyms) {
		cap = w->capsyms ? w->capsyms * 2 : LINKTAB_MIN;
		n = calloc(cap, sizeof(*n));
		if (n == NULL)
			return fail(w, -ENOMEM, "out of memory");
		for (i = 0; i < w->capsyms; i++)
			if (w->syms[i].name != NULL)
				*syms_find(n, cap, w->syms[i].name,
					   w->syms[i].h) = w->syms[i];
		free(w->syms);
		w->syms = n;
		w->capsyms = cap;
	}
	s = syms_find(w->syms, w->capsyms, name, h);
	s->name = strdup(name);
	s->target = strdup(target);
	if (s->name == NULL || s->target == NULL) {
		free(s->name);
		free(s->target);
		s->name = NULL;
		s->target = NULL;
		return fail(w, -ENOMEM, "out of memory");
	}
	s->h = h;
	w->nsyms++;
	return 0;
}

/*
 * Normalise a member name in place; see initramfs.h.
 */
int
initramfs_norm_name(char *name)
{
	char *in = name, *out = name, *end;
	size_t n;

	if (name[0] == '/')
		return -EINVAL;
	while (*in != '\0') {
		end = strchr(in, '/');
		n = end ? (size_t)(end - in) : strlen(in);
		if (n == 2 && in[0] == '.' && in[1] == '.')
			return -EINVAL;
		if (n != 0 && !(n == 1 && in[0] == '.')) {
			if (out != name)
				*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in += n;
		if (*in == '/')
			in++;
	}
	*out = '\0';
	return out == name ? 1 : 0;
}

/*
 * Parse a --compress value; see initramfs.h.
 */
int
initramfs_parse_compress(const char *s, enum initramfs_compress *ret)
{
	if (strcmp(s, "gzip") == 0)
		*ret = INITRAMFS_GZIP;
	else if (strcmp(s, "zstd") == 0)
		*ret = INITRAMFS_ZSTD;
	else if (strcmp(s, "none") == 0)
		*ret = INITRAMFS_NONE;
	else
		return -EINVAL;
	return 0;
}

/*
 * Read $SOURCE_DATE_EPOCH; see initramfs.h.
 */
int
initramfs_env_epoch(int64_t *ret)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;
	int r;

	if (s == NULL || *s == '\0') {
		*ret = -1;
		return 0;
	}
	r = num_parse_u64(s, 0, INT64_MAX, &v);
	if (r < 0)
		return -EINVAL;
	*ret = (int64_t)v;
	return 0;
}

/*
 * Write one entry and, for a regular file of non-zero size, its data from
 * rd. The entry's device is cleared, its inode set to ino (0: a new one,
 * stored in *ret_ino when not NULL) and its mtime clamped. Returns 0 or a
 * negative errno with the message naming what.
 */
static int
emit(struct initramfs *w, struct archive_entry *e, uint32_t ino,
     uint32_t *ret_ino, read_fn rd, void *rctx, const char *what)
{
	const struct initramfs_tap *tap = w->opts.tap;
	const char *name = archive_entry_pathname(e);
	mode_t type = archive_entry_filetype(e);
	int64_t size = type == AE_IFREG ? archive_entry_size(e) : 0;
	int64_t done = 0;
	int want = 0, r;
	ssize_t n;

	if (strlen(name) >= INITRAMFS_PATH_MAX)
		return fail(w, -ENAMETOOLONG, "%s: name too long", what);
	if (type == AE_IFLNK) {
		r = syms_put(w, name, archive_entry_symlink(e));
		if (r < 0)
			return r;
	} else {
		r = syms_put(w, name, NULL);
		if (r < 0)
			return r;
	}
	if (tap != NULL && tap->want != NULL) {
		want = tap->want(tap->ctx, name, archive_entry_mode(e),
				 type == AE_IFLNK ? archive_entry_symlink(e)
						  : NULL);
		if (want < 0)
			return fail(w, want, "%s: %s", what, strerror(-want));
	}
	/* An omitted entry takes no inode number: the image stays as if
	 * the file had not been there. */
	if (ino == 0 && want != INITRAMFS_TAP_OMIT) {
		if (w->next_ino == UINT32_MAX)
			return fail(w, -E2BIG, "%s: too many entries", what);
		ino = ++w->next_ino;
	}
	archive_entry_set_ino(e, ino);
	archive_entry_set_dev(e, 0);
	archive_entry_set_uname(e, NULL);
	archive_entry_set_gname(e, NULL);
	if (type != AE_IFREG)
		archive_entry_set_size(e, 0);
	if (type == AE_IFDIR)
		archive_entry_set_nlink(e, 2);
	else if (archive_entry_nlink(e) == 0)
		archive_entry_set_nlink(e, 1);
	if (w->src_flags & INITRAMFS_SRC_ROOT_OWNED) {
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
	}
	if (w->opts.epoch >= 0 && archive_entry_mtime(e) > w->opts.epoch)
		archive_entry_set_mtime(e, w->opts.epoch, 0);
	else
		archive_entry_set_mtime(e, archive_entry_mtime(e), 0);
	if (want != INITRAMFS_TAP_OMIT &&
	    archive_write_header(w->a, e) < ARCHIVE_WARN)
		return fail(w, -EIO, "%s: %s", what,
			    archive_error_string(w->a));
	while (done < size) {
		n = rd(rctx, w->chunk, INITRAMFS_CHUNK);
		if (n < 0)
			return fail(w, (int)n, "%s: %s", what,
				    strerror((int)-n));
		if (n == 0)
			return fail(w, -EIO, "%s: file shrank while read",
				    what);
		if ((int64_t)n > size - done)
			n = (ssize_t)(size - done);
		if (want != INITRAMFS_TAP_OMIT &&
		    archive_write_data(w->a, w->chunk, (size_t)n) != n)
			return fail(w, -EIO, "%s: %s", what,
				    archive_error_string(w->a));
		if (want > 0 && tap->data != NULL) {
			r = tap->data(tap->ctx, w->chunk, (size_t)n);
			if (r < 0)
				return fail(w, r, "%s: %s", what, strerror(-r));
		}
		done += n;
		progress_add(w->opts.progress, (uint64_t)n, 0);
	}
	if (want > 0 && tap->end != NULL) {
		r = tap->end(tap->ctx);
		if (r < 0)
			return fail(w, r, "%s: %s", what, strerror(-r));
	}
	progress_add(w->opts.progress, 0, 1);
	if (ret_ino != NULL)
		*ret_ino = ino;
	return 0;
}

static ssize_t
read_fd(void *ctx, void *buf, size_t n)
{
	ssize_t k;

	do
		k = read(*(int *)ctx, buf, n);
	while (k < 0 && errno == EINTR);
	return k < 0 ? -errno : k;
}

struct mem_src {
	const char *p;
	size_t left;
};

static ssize_t
read_mem(void *ctx, void *buf, size_t n)
{
	struct mem_src *m = ctx;

	if (n > m->left)
		n = m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

static ssize_t
read_archive(void *ctx, void *buf, size_t n)
{
	la_ssize_t k = archive_read_data(ctx, buf, n);

	return k < 0 ? -EIO : (ssize_t)k;
}

/*
 * Open a writer; see initramfs.h.
 */
int
initramfs_open(const char *path, const struct initramfs_opts *opts,
	       struct initramfs **ret, char *err, size_t errlen)
{
	struct initramfs *w = NULL;
	const char *level = NULL;
	struct stat st;
	char lv[16];
	int r;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->fd = -1;
	w->opts = *opts;
	w->path = strdup(path);
	w->chunk = malloc(INITRAMFS_CHUNK);
	if (w->path == NULL || w->chunk == NULL ||
	    asprintf(&w->tmp, "%s.tmpXXXXXX", path) < 0) {
		w->tmp = NULL;
		r = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		r = -errno;
		free(w->tmp);
		w->tmp = NULL;
		fail(w, r, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (fstat(w->fd, &st) == 0) {
		w->tmp_dev = st.st_dev;
		w->tmp_ino = st.st_ino;
	}
	w->a = archive_write_new();
	w->disk = archive_read_disk_new();
	if (w->a == NULL || w->disk == NULL) {
		r = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	archive_read_disk_set_behavior(
		w->disk, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
				 ARCHIVE_READDISK_NO_FFLAGS |
				 ARCHIVE_READDISK_NO_SPARSE);
	archive_read_disk_set_symlink_physical(w->disk);
	if (opts->level > 0) {
		snprintf(lv, sizeof(lv), "%d", opts->level);
		level = lv;
	}
	r = archive_write_set_format_cpio_newc(w->a);
	if (r == ARCHIVE_OK) {
		switch (opts->compress) {
		case INITRAMFS_GZIP:
			r = archive_write_add_filter_gzip(w->a);
			/* No timestamp in the gzip header: reproducible. */
			if (r == ARCHIVE_OK)
				r = archive_write_set_filter_option(
					w->a, "gzip", "timestamp", NULL);
			if (r == ARCHIVE_OK && level != NULL)
				r = archive_write_set_filter_option(
					w->a, "gzip", "compression-level",
					level);
			break;
		case INITRAMFS_ZSTD:
			r = archive_write_add_filter_zstd(w->a);
			if (r == ARCHIVE_OK && level != NULL)
				r = archive_write_set_filter_option(
					w->a, "zstd", "compression-level",
					level);
			/*
			 * zstd's multi-threaded mode gives the same bytes
			 * for any number of workers (but not the bytes of
			 * its single-threaded mode), so --jobs does not
			 * change an image.
			 */
			if (r == ARCHIVE_OK && opts->threads > 0) {
				snprintf(lv, sizeof(lv), "%d",
					 opts->threads > INITRAMFS_THREADS_MAX
						 ? INITRAMFS_THREADS_MAX
						 : opts->threads);
				r = archive_write_set_filter_option(
					w->a, "zstd", "threads", lv);
			}
			break;
		case INITRAMFS_NONE:
			break;
		}
	}
	if (r == ARCHIVE_OK)
		r = archive_write_set_bytes_in_last_block(w->a, 1);
	if (r == ARCHIVE_OK)
		r = archive_write_open_fd(w->a, w->fd);
	if (r != ARCHIVE_OK) {
		r = fail(w, -EIO, "%s: %s", path, archive_error_string(w->a));
		goto out;
	}
	*ret = w;
	w = NULL;
	r = 0;
out:
	if (w != NULL) {
		snprintf(err, errlen, "%s", w->err);
		initramfs_abort(w);
	}
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One level of the directory walk: the sorted names of dirfd. Returns 0
 * with *ret_names (owned, each name owned) or a negative errno.
 */
static int
read_names(struct initramfs *w, int dirfd, const char *what, char ***ret_names,
	   size_t *ret_n)
{
	char **names = NULL, **nn;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;
	int fd, r;

	fd = dup(dirfd);
	if (fd < 0)
		return fail(w, -errno, "%s: %s", what, strerror(errno));
	d = fdopendir(fd);
	if (d == NULL) {
		r = -errno;
		close(fd);
		return fail(w, r, "%s: %s", what, strerror(-r));
	}
	rewinddir(d);
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n >= INITRAMFS_DIR_ENTRIES_MAX) {
			r = fail(w, -E2BIG, "%s: more than %u entries", what,
				 INITRAMFS_DIR_ENTRIES_MAX);
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				r = fail(w, -ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			r = fail(w, -ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (errno != 0) {
		r = fail(w, -errno, "%s: %s", what, strerror(errno));
		goto out;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret_names = names;
	*ret_n = n;
	names = NULL;
	n = 0;
	r = 0;
out:
	while (n > 0)
		free(names[--n]);
	free(names);
	closedir(d);
	return r;
}

/*
 * Archive the children of dirfd, whose host path is host[0..hlen) and
 * whose member name starts at host + rel_off (empty for the root).
 * host has room for INITRAMFS_PATH_MAX * 2 bytes.
 */
static int
walk_dir(struct initramfs *w, int dirfd, char *host, size_t hlen,
	 size_t rel_off, unsigned depth)
{
	struct archive_entry *e = NULL;
	char **names = NULL;
	size_t n = 0, i, len;
	uint32_t ino, known;
	struct stat st;
	int fd = -1, r;
	const char *rel;

	if (depth >= INITRAMFS_DEPTH_MAX)
		return fail(w, -ELOOP, "%s: nested deeper than %u", host,
			    INITRAMFS_DEPTH_MAX);
	r = read_names(w, dirfd, host, &names, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		if (hlen + 1 + len >= INITRAMFS_PATH_MAX * 2 ||
		    hlen + 1 + len - rel_off >= INITRAMFS_PATH_MAX) {
			r = fail(w, -ENAMETOOLONG, "%s/%s: name too long", host,
				 names[i]);
			goto out;
		}
		host[hlen] = '/';
		memcpy(host + hlen + 1, names[i], len + 1);
		rel = rel_off == hlen ? host + hlen + 1 : host + rel_off + 1;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = fail(w, -errno, "%s: %s", host, strerror(errno));
			goto out;
		}
		/* An image written inside its own base is not archived. */
		if (st.st_dev == w->tmp_dev && st.st_ino == w->tmp_ino) {
			host[hlen] = '\0';
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			fd = openat(dirfd, names[i],
				    O_RDONLY | O_NOFOLLOW | O_NOCTTY |
					    O_CLOEXEC);
			if (fd < 0) {
				r = fail(w, -errno, "%s: %s", host,
					 strerror(errno));
				goto out;
			}
		}
		e = archive_entry_new();
		if (e == NULL) {
			r = fail(w, -ENOMEM, "out of memory");
			goto out;
		}
		archive_entry_copy_sourcepath(e, host);
		archive_entry_copy_pathname(e, rel);
		if (archive_read_disk_entry_from_file(w->disk, e, fd, &st) <
		    ARCHIVE_WARN) {
			r = fail(w, -EIO, "%s: %s", host,
				 archive_error_string(w->disk));
			goto out;
		}
		archive_entry_copy_sourcepath(e, NULL);
		archive_entry_copy_pathname(e, rel);
		ino = 0;
		if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
			known = links_get(w, (uint64_t)st.st_dev,
					  (uint64_t)st.st_ino);
			if (known != 0) {
				/* A later name: a link without data. */
				archive_entry_set_size(e, 0);
				ino = known;
			}
		}
		r = emit(w, e, ino, &ino, read_fd, &fd, host);
		if (r < 0)
			goto out;
		if (S_ISREG(st.st_mode) && st.st_nlink > 1 &&
		    links_get(w, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ==
			    0) {
			r = links_put(w, (uint64_t)st.st_dev,
				      (uint64_t)st.st_ino, ino);
			if (r < 0)
				goto out;
		}
		archive_entry_free(e);
		e = NULL;
		if (fd >= 0) {
			close(fd);
			fd = -1;
		}
		if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd, names[i],
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC);
			if (fd < 0) {
				r = fail(w, -errno, "%s: %s", host,
					 strerror(errno));
				goto out;
			}
			r = walk_dir(w, fd, host, hlen + 1 + len,
				     rel_off == hlen ? hlen : rel_off,
				     depth + 1);
			close(fd);
			fd = -1;
			if (r < 0)
				goto out;
		}
		host[hlen] = '\0';
	}
	r = 0;
out:
	host[hlen] = '\0';
	archive_entry_free(e);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int
add_dir_tree(struct initramfs *w, const char *src)
{
	char *host = NULL;
	size_t len = strlen(src);
	int fd = -1, r;

	while (len > 1 && src[len - 1] == '/')
		len--;
	if (len >= INITRAMFS_PATH_MAX)
		return fail(w, -ENAMETOOLONG, "%s: name too long", src);
	host = malloc(INITRAMFS_PATH_MAX * 2);
	if (host == NULL)
		return fail(w, -ENOMEM, "out of memory");
	memcpy(host, src, len);
	host[len] = '\0';
	fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = fail(w, -errno, "%s: %s", src, strerror(errno));
		goto out;
	}
	/* The member names start after "SRC/"; rel_off == hlen marks it. */
	r = walk_dir(w, fd, host, len, len, 0);
out:
	if (fd >= 0)
		close(fd);
	free(host);
	return r;
}

/* Key of a tar member name in the hard-link table. */
static void
name_key(const char *name, uint64_t *k1, uint64_t *k2)
{
	*k1 = fnv1a(name, 0xcbf29ce484222325ULL);
	*k2 = fnv1a(name, 0x84222325cbf29ce4ULL) ^ strlen(name);
}

static int
add_tar_tree(struct initramfs *w, const char *src)
{
	struct archive_entry *e;
	struct archive *a = NULL;
	char *name = NULL, *link = NULL, *what = NULL;
	uint64_t k1, k2;
	uint32_t ino;
	int r, ar;

	name = malloc(INITRAMFS_PATH_MAX);
	link = malloc(INITRAMFS_PATH_MAX);
	what = malloc(INITRAMFS_PATH_MAX + 64);
	a = archive_read_new();
	if (name == NULL || link == NULL || what == NULL || a == NULL) {
		r = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_filename(a, src, INITRAMFS_CHUNK) != ARCHIVE_OK) {
		r = fail(w, -EIO, "%s: %s", src, archive_error_string(a));
		goto out;
	}
	for (;;) {
		ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			r = fail(w, -EIO, "%s: %s", src,
				 archive_error_string(a));
			goto out;
		}
		if (strlen(archive_entry_pathname(e)) >= INITRAMFS_PATH_MAX) {
			r = fail(w, -ENAMETOOLONG, "%s: member name too long",
				 src);
			goto out;
		}
		snprintf(name, INITRAMFS_PATH_MAX, "%s",
			 archive_entry_pathname(e));
		snprintf(what, INITRAMFS_PATH_MAX + 64, "%s: member '%s'", src,
			 name);
		r = initramfs_norm_name(name);
		if (r < 0) {
			r = fail(w, -EINVAL,
				 "%s: absolute or '..' name refused", what);
			goto out;
		}
		if (r == 1)
			continue; /* the root directory itself */
		archive_entry_copy_pathname(e, name);
		ino = 0;
		if (archive_entry_hardlink(e) != NULL) {
			snprintf(link, INITRAMFS_PATH_MAX, "%s",
				 archive_entry_hardlink(e));
			if (initramfs_norm_name(link) != 0) {
				r = fail(w, -EINVAL,
					 "%s: hard link to '%s' refused", what,
					 archive_entry_hardlink(e));
				goto out;
			}
			name_key(link, &k1, &k2);
			ino = links_get(w, k1, k2);
			if (ino == 0) {
				r = fail(w, -EINVAL,
					 "%s: hard link to '%s', which is not "
					 "an earlier regular file",
					 what, link);
				goto out;
			}
			archive_entry_set_hardlink(e, NULL);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, 0);
		}
		if (archive_entry_filetype(e) == AE_IFREG) {
			/*
			 * A tar header does not say how many names a file
			 * has, and the kernel links a later name only to a
			 * file whose nlink is at least 2: mark every regular
			 * file so (the kernel counts the real links itself).
			 */
			archive_entry_set_nlink(e, 2);
		} else if (archive_entry_filetype(e) == 0) {
			r = fail(w, -EINVAL, "%s: unknown member type", what);
			goto out;
		}
		r = emit(w, e, ino, &ino, read_archive, a, what);
		if (r < 0)
			goto out;
		if (archive_entry_filetype(e) == AE_IFREG) {
			name_key(name, &k1, &k2);
			r = links_put(w, k1, k2, ino);
			if (r < 0)
				goto out;
		}
	}
	r = 0;
out:
	archive_read_free(a);
	free(name);
	free(link);
	free(what);
	return r;
}

/*
 * Archive a directory or a tarball; see initramfs.h.
 */
int
initramfs_add_tree(struct initramfs *w, const char *src, unsigned flags)
{
	struct stat st;
	int r;

	if (stat(src, &st) < 0)
		return fail(w, -errno, "%s: %s", src, strerror(errno));
	w->src_flags = flags;
	if (S_ISDIR(st.st_mode))
		r = add_dir_tree(w, src);
	else if (S_ISREG(st.st_mode))
		r = add_tar_tree(w, src);
	else
		r = fail(w, -EINVAL, "%s: neither a directory nor a tarball",
			 src);
	w->src_flags = 0;
	return r;
}

/* A new entry for a caller-made member owned by root. */
static struct archive_entry *
new_entry(struct initramfs *w, const char *name, mode_t type, mode_t perm)
{
	struct archive_entry *e = archive_entry_new();

	if (e == NULL)
		return NULL;
	archive_entry_copy_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm & 07777);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_nlink(e, 1);
	archive_entry_set_mtime(e, w->opts.epoch >= 0 ? w->opts.epoch : 0, 0);
	return e;
}

static int
add_simple(struct initramfs *w, const char *name, mode_t type, mode_t perm,
	   const char *target, const void *data, size_t len)
{
	struct archive_entry *e = NULL;
	struct mem_src m = { data, len };
	char *norm = NULL;
	int r;

	norm = strdup(name);
	if (norm == NULL)
		return fail(w, -ENOMEM, "out of memory");
	if (initramfs_norm_name(norm) != 0) {
		r = fail(w, -EINVAL, "'%s': not a member name", name);
		goto out;
	}
	e = new_entry(w, norm, type, perm);
	if (e == NULL) {
		r = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	if (target != NULL)
		archive_entry_copy_symlink(e, target);
	if (type == AE_IFREG)
		archive_entry_set_size(e, (la_int64_t)len);
	r = emit(w, e, 0, NULL, read_mem, &m, norm);
out:
	archive_entry_free(e);
	free(norm);
	return r;
}

/*
 * Add a directory; see initramfs.h.
 */
int
initramfs_add_dir(struct initramfs *w, const char *name, mode_t mode)
{
	return add_simple(w, name, AE_IFDIR, mode, NULL, NULL, 0);
}

/*
 * Add a symlink; see initramfs.h.
 */
int
initramfs_add_symlink(struct initramfs *w, const char *name, const char *target)
{
	return add_simple(w, name, AE_IFLNK, 0777, target, NULL, 0);
}

/*
 * Add a file from memory; see initramfs.h.
 */
int
initramfs_add_data(struct initramfs *w, const char *name, mode_t mode,
		   const void *data, size_t len)
{
	return add_simple(w, name, AE_IFREG, mode, NULL, data, len);
}

/*
 * Add a file copied from the host; see initramfs.h.
 */
int
initramfs_add_file(struct initramfs *w, const char *name, mode_t mode,
		   const char *host_path)
{
	struct archive_entry *e = NULL;
	char *norm = NULL;
	struct stat st;
	int fd, r;

	fd = open(host_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(w, -errno, "%s: %s", host_path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = fail(w, -errno, "%s: %s", host_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail(w, S_ISDIR(st.st_mode) ? -EISDIR : -EPERM,
			 "%s: not a regular file", host_path);
		goto out;
	}
	norm = strdup(name);
	if (norm == NULL) {
		r = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	if (initramfs_norm_name(norm) != 0) {
		r = fail(w, -EINVAL, "'%s': not a member name", name);
		goto out;
	}
	e = new_entry(w, norm, AE_IFREG, mode);
	if (e == NULL) {
		r = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	archive_entry_set_size(e, st.st_size);
	archive_entry_set_mtime(e, st.st_mtime, 0);
	r = emit(w, e, 0, NULL, read_fd, &fd, host_path);
out:
	archive_entry_free(e);
	free(norm);
	close(fd);
	return r;
}

/*
 * Follow the symlink name -> target through the symlinks of the image,
 * lexically, the way the kernel would after unpacking. Returns 0, or
 * -ELOOP when more than INITRAMFS_SYMLINK_HOPS links are crossed.
 */
static int
check_symlink(struct initramfs *w, const char *name, const char *target,
	      char *cur, char *rest, char *tmp)
{
	const size_t cap = INITRAMFS_PATH_MAX * 2;
	unsigned hops = 1;
	size_t clen, prev, n, tl, pl;
	const char *t, *p, *slash;

	/* cur: the directory holding name; rest: what is left to walk. */
	snprintf(cur, cap, "%s", name);
	p = strrchr(cur, '/');
	clen = p != NULL ? (size_t)(p - cur) : 0;
	cur[clen] = '\0';
	if (strlen(target) >= cap)
		return -ELOOP;
	snprintf(rest, cap, "%s", target);
	if (target[0] == '/')
		clen = 0;
	p = rest;
	while (*p != '\0') {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n + (slash != NULL);
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (clen > 0 && cur[clen - 1] != '/')
				clen--;
			if (clen > 0)
				clen--;
			cur[clen] = '\0';
			p += n + (slash != NULL);
			continue;
		}
		if (clen + 1 + n >= cap)
			return -ELOOP;
		prev = clen;
		if (clen > 0)
			cur[clen++] = '/';
		memcpy(cur + clen, p, n);
		clen += n;
		cur[clen] = '\0';
		p += n + (slash != NULL);
		t = syms_get(w, cur);
		if (t == NULL)
			continue;
		if (++hops > INITRAMFS_SYMLINK_HOPS)
			return -ELOOP;
		/* Replace the component by the link's target. */
		tl = strlen(t);
		pl = strlen(p);
		if (tl + 1 + pl >= cap)
			return -ELOOP;
		memcpy(tmp, t, tl);
		tmp[tl] = '/';
		memcpy(tmp + tl + 1, p, pl + 1);
		memcpy(rest, tmp, tl + 1 + pl + 1);
		p = rest;
		clen = t[0] == '/' ? 0 : prev;
		cur[clen] = '\0';
	}
	return 0;
}

static int
check_symlinks(struct initramfs *w)
{
	char *cur = NULL, *rest = NULL, *tmp = NULL;
	size_t i;
	int r = 0;

	if (w->nsyms == 0)
		return 0;
	cur = malloc(INITRAMFS_PATH_MAX * 2);
	rest = malloc(INITRAMFS_PATH_MAX * 2);
	tmp = malloc(INITRAMFS_PATH_MAX * 2);
	if (cur == NULL || rest == NULL || tmp == NULL) {
		r = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < w->capsyms; i++) {
		if (w->syms[i].name == NULL || w->syms[i].target == NULL)
			continue;
		r = check_symlink(w, w->syms[i].name, w->syms[i].target, cur,
				  rest, tmp);
		if (r < 0) {
			fail(w, r, "symlink loop: %s -> %s", w->syms[i].name,
			     w->syms[i].target);
			goto out;
		}
	}
out:
	free(cur);
	free(rest);
	free(tmp);
	return r;
}

static void
writer_free(struct initramfs *w)
{
	size_t i;

	if (w->a != NULL)
		archive_write_free(w->a);
	if (w->disk != NULL)
		archive_read_free(w->disk);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp != NULL)
		unlink(w->tmp);
	for (i = 0; i < w->capsyms; i++) {
		free(w->syms[i].name);
		free(w->syms[i].target);
	}
	free(w->syms);
	free(w->links);
	free(w->chunk);
	free(w->tmp);
	free(w->path);
	free(w);
}

/*
 * Finish, check and rename the image; see initramfs.h.
 */
int
initramfs_commit(struct initramfs *w, char *err, size_t errlen)
{
	int r;

	r = check_symlinks(w);
	if (r < 0)
		goto out;
	if (archive_write_close(w->a) != ARCHIVE_OK) {
		r = fail(w, -EIO, "%s: %s", w->path,
			 archive_error_string(w->a));
		goto out;
	}
	if (fchmod(w->fd, 0644) < 0 || fsync(w->fd) < 0) {
		r = fail(w, -errno, "%s: %s", w->tmp, strerror(errno));
		goto out;
	}
	r = close(w->fd);
	w->fd = -1;
	if (r < 0) {
		r = fail(w, -errno, "%s: %s", w->tmp, strerror(errno));
		goto out;
	}
	if (rename(w->tmp, w->path) < 0) {
		r = fail(w, -errno, "%s: %s", w->path, strerror(errno));
		goto out;
	}
	free(w->tmp);
	w->tmp = NULL;
	progress_done(w->opts.progress);
	r = fsync_parent(w->path);
	if (r < 0)
		fail(w, r, "%s: %s", w->path, strerror(-r));
out:
	if (r < 0 && err != NULL)
		snprintf(err, errlen, "%s", w->err);
	writer_free(w);
	return r;
}

/*
 * Drop the image; see initramfs.h.
 */
void
initramfs_abort(struct initramfs *w)
{
	if (w == NULL)
		return;
	progress_done(w->opts.progress);
	writer_free(w);
}

/*
 * The last error message; see initramfs.h.
 */
const char *
initramfs_error(const struct initramfs *w)
{
	return w->err;
}
