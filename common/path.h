/*
 * path.h - resolving untrusted relative paths under a root directory.
 *
 * Requests from the network name files relative to a served root. A name is
 * accepted only when it is relative, has no "..", "." or empty component
 * and no control byte; it is then opened beneath the root with the kernel's
 * RESOLVE_BENEATH (openat2), so that a symlink inside the tree may point
 * elsewhere inside it but never outside, and only a regular file is
 * returned. Without openat2 every symlink is refused.
 */
#ifndef MB_PATH_H
#define MB_PATH_H

#include <stddef.h>
#include <sys/stat.h>

#define PATH_REQ_MAX 1024 /* longest accepted request path */

/*
 * Check a request path of len bytes lexically. Returns 0 when it is
 * acceptable, -EINVAL when it is empty, absolute, holds a NUL or a control
 * byte, or an empty, "." or ".." component, -ENAMETOOLONG past
 * PATH_REQ_MAX.
 */
int path_check_rel(const char *path, size_t len);

/*
 * Open path (NUL-terminated) beneath the directory rootfd, read-only.
 * Returns 0 with *ret_fd (owned by the caller) and *ret_st filled, or
 * -EINVAL/-ENAMETOOLONG (rejected by path_check_rel), -ENOENT, -EACCES,
 * -EXDEV (a symlink leads out of the root), -ELOOP, or -EISDIR/-EPERM
 * when the target is not a regular file.
 */
int path_open_under(int rootfd, const char *path, int *ret_fd,
		    struct stat *ret_st);

/*
 * Join dir and name into buf of size n. -ENAMETOOLONG when it does not fit.
 */
int path_join(char *buf, size_t n, const char *dir, const char *name);

#endif
