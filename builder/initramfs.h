/*
 * initramfs.h - a streaming writer of Linux initramfs images: cpio "newc"
 * (070701) archives, optionally gzip- or zstd-compressed, written with
 * libarchive.
 *
 * Sources are directory trees (read with libarchive's disk reader, walked
 * in sorted order) and tarballs (tar, tar.gz, tar.zst, ...), plus single
 * entries added by the caller. Nothing is held in memory but one data
 * chunk, the directory being walked, the symlinks seen and the hard-link
 * records, so memory stays flat whatever the size of the tree.
 *
 * The output is reproducible: inode numbers are assigned in write order,
 * device numbers of the files are zero, modification times are clamped to
 * an epoch (SOURCE_DATE_EPOCH) and directory entries are sorted. It is
 * written to a temporary file beside the target and renamed only by
 * initramfs_commit(), so a failure never leaves a partial image.
 *
 * Not thread-safe; one writer per thread. Non-logging: errors are
 * returned as a negative errno with a one-line message in the writer.
 */
#ifndef MB_INITRAMFS_H
#define MB_INITRAMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "progress.h"

#define INITRAMFS_DEPTH_MAX	  256	     /* directory nesting walked */
#define INITRAMFS_PATH_MAX	  4096	     /* bytes in a member name */
#define INITRAMFS_SYMLINK_HOPS	  40	     /* like the kernel's MAXSYMLINKS */
#define INITRAMFS_LINKS_MAX	  (1u << 24) /* hard-link records kept */
#define INITRAMFS_SYMLINKS_MAX	  (1u << 22) /* symlinks checked for loops */
#define INITRAMFS_DIR_ENTRIES_MAX (1u << 22) /* names in one directory */
#define INITRAMFS_CHUNK		  (64 * 1024) /* bytes copied per read */
#define INITRAMFS_ERR_MAX	  512	      /* bytes of an error message */
#define INITRAMFS_THREADS_MAX	  64	      /* zstd compression workers */

enum initramfs_compress {
	INITRAMFS_NONE,
	INITRAMFS_GZIP,
	INITRAMFS_ZSTD,
};

/*
 * Source flags. INITRAMFS_SRC_ROOT_OWNED writes every entry of a source as
 * owned by root (uid and gid 0), for trees staged by an unprivileged user.
 */
#define INITRAMFS_SRC_ROOT_OWNED 0x1

/*
 * A tap sees every entry of the sources as it is archived, so that a
 * caller can learn about a tree (a tarball is read only once) while it is
 * written. want() is called for each entry with its normalised name (no
 * leading "./" or "/"), its mode and, for a symlink, its target; returning
 * INITRAMFS_TAP_TAKE asks for the data of a regular file, delivered to
 * data() in chunks and closed by end(), INITRAMFS_TAP_OMIT does the same
 * but leaves the entry out of the image (a kernel image that is delivered
 * beside it), 0 just archives it. A negative return aborts the write with
 * that error.
 */
#define INITRAMFS_TAP_TAKE 1
#define INITRAMFS_TAP_OMIT 2

struct initramfs_tap {
	int (*want)(void *ctx, const char *name, mode_t mode, const char *link);
	int (*data)(void *ctx, const void *buf, size_t len);
	int (*end)(void *ctx);
	void *ctx;
};

struct initramfs_opts {
	enum initramfs_compress compress;
	int level;		   /* compression level; 0: the default */
	int threads;		   /* zstd workers; 0: single-threaded mode */
	int64_t epoch;		   /* clamp mtimes to it; negative: keep */
	struct progress *progress; /* borrowed, may be NULL */
	const struct initramfs_tap *tap; /* borrowed, may be NULL */
};

struct initramfs;

/*
 * Open a writer whose image will replace path on commit. Returns 0 with
 * *ret (owned: commit or abort it), or a negative errno with a message in
 * err (of errlen bytes).
 */
int initramfs_open(const char *path, const struct initramfs_opts *opts,
		   struct initramfs **ret, char *err, size_t errlen);

/*
 * Archive a source: a directory (walked, sorted, not following symlinks)
 * or a tarball (tar members refused when absolute or holding ".."). Later
 * entries override earlier ones when the kernel unpacks the image.
 * Returns 0 or a negative errno (-ENOENT, -EACCES, -EINVAL for a bad
 * member, -ELOOP, -EIO for a damaged tarball, ...); initramfs_error() then
 * names the file.
 */
int initramfs_add_tree(struct initramfs *w, const char *src, unsigned flags);

/* Add a directory entry owned by root. 0 or a negative errno. */
int initramfs_add_dir(struct initramfs *w, const char *name, mode_t mode);

/* Add a symlink owned by root. 0 or a negative errno. */
int initramfs_add_symlink(struct initramfs *w, const char *name,
			  const char *target);

/* Add a regular file owned by root holding len bytes of data. */
int initramfs_add_data(struct initramfs *w, const char *name, mode_t mode,
		       const void *data, size_t len);

/*
 * Add a regular file owned by root whose content is the file at host_path
 * (symlinks followed). 0 or a negative errno (-EISDIR/-EPERM when not a
 * regular file).
 */
int initramfs_add_file(struct initramfs *w, const char *name, mode_t mode,
		       const char *host_path);

/*
 * Finish the archive: check the symlinks for loops (-ELOOP), flush the
 * compressor, fsync and rename the image into place. The writer is freed
 * in every case. Returns 0 or a negative errno with the message in err
 * (may be NULL).
 */
int initramfs_commit(struct initramfs *w, char *err, size_t errlen);

/* Drop the image (the temporary is removed) and free the writer. NULL ok. */
void initramfs_abort(struct initramfs *w);

/* The message for the last error of w (borrowed; "" when none). */
const char *initramfs_error(const struct initramfs *w);

/*
 * Check a tar member name and normalise it in place: a leading "./" and
 * empty or "." components are dropped, a trailing "/" removed. Returns 0,
 * 1 when nothing is left (the root itself), or -EINVAL for an absolute
 * name or one with a ".." component.
 */
int initramfs_norm_name(char *name);

/*
 * Parse a --compress value. Returns 0 with *ret, or -EINVAL.
 */
int initramfs_parse_compress(const char *s, enum initramfs_compress *ret);

/*
 * The epoch from $SOURCE_DATE_EPOCH: 0 with *ret (-1 when unset), or
 * -EINVAL when it is set but not a number.
 */
int initramfs_env_epoch(int64_t *ret);

/*
 * The "metalboot-build initramfs" command (cmd_initramfs.c): argv[0] is
 * "initramfs". Returns the exit status: 0, 1 for a user error (a message
 * naming the flag or the file is printed), 2 for an internal error.
 */
int cmd_initramfs(int argc, char **argv);

#endif
