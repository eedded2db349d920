/*
 * fsutil.h - atomic file writes, mkdir -p, bounded whole-file reads.
 */
#ifndef MB_FSUTIL_H
#define MB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write len bytes to path atomically: a temporary file in the same
 * directory is written, given mode, fsynced and renamed over path, then the
 * directory is fsynced. On any failure the temporary is removed and path is
 * untouched. Returns 0 or a negative errno.
 */
int atomic_write(const char *path, const void *data, size_t len, mode_t mode);

/* Create dir and its missing parents with mode. 0 or a negative errno. */
int mkdir_p(const char *dir, mode_t mode);

/*
 * Read a whole regular file of at most max bytes into a new NUL-terminated
 * buffer (*ret, owned by the caller, freed with free()). Returns 0, -EFBIG
 * past max, or a negative errno.
 */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* fsync the directory holding path. 0 or a negative errno. */
int fsync_parent(const char *path);

#endif
