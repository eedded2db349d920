/* path.c - untrusted relative paths resolved beneath a root. */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int
path_check_rel(const char *path, size_t len)
{
	size_t i, start = 0;

	if (path == NULL || len == 0)
		return -EINVAL;
	if (len > PATH_REQ_MAX)
		return -ENAMETOOLONG;
	if (path[0] == '/')
		return -EINVAL;
	for (i = 0; i <= len; i++) {
		size_t clen;

		if (i < len) {
			unsigned char c = (unsigned char)path[i];

			if (c < 0x20 || c == 0x7f)
				return -EINVAL; /* NUL and control bytes */
			if (c != '/')
				continue;
		}
		clen = i - start;
		if (clen == 0)
			return -EINVAL; /* "a//b" or trailing "/" */
		if (clen == 1 && path[start] == '.')
			return -EINVAL;
		if (clen == 2 && path[start] == '.' && path[start + 1] == '.')
			return -EINVAL;
		start = i + 1;
	}
	return 0;
}

static int
open_beneath(int rootfd, const char *path)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	return (int)fd;
}

/* Fallback without openat2: walk the components, refusing every symlink. */
static int
open_nofollow_walk(int rootfd, const char *path)
{
	char comp[PATH_REQ_MAX + 1];
	const char *p = path;
	int dirfd, fd;

	dirfd = dup(rootfd);
	if (dirfd < 0)
		return -errno;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		bool last = slash == NULL;

		memcpy(comp, p, n);
		comp[n] = '\0';
		fd = openat(dirfd, comp,
			    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
				    O_NONBLOCK | (last ? 0 : O_DIRECTORY));
		if (fd < 0) {
			fd = -errno;
			close(dirfd);
			return fd;
		}
		close(dirfd);
		if (last)
			return fd;
		dirfd = fd;
		p = slash + 1;
	}
}

int
path_open_under(int rootfd, const char *path, int *ret_fd, struct stat *ret_st)
{
	struct stat st;
	int fd, r;

	if (path == NULL)
		return -EINVAL;
	r = path_check_rel(path, strlen(path));
	if (r < 0)
		return r;
	fd = open_beneath(rootfd, path);
	if (fd == -ENOSYS || fd == -EPERM)
		fd = open_nofollow_walk(rootfd, path);
	if (fd < 0)
		return fd == -ENOTDIR ? -ENOENT : fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EPERM;
	}
	/* Opened non-blocking so a FIFO cannot hang us; files need not be. */
	r = fcntl(fd, F_GETFL);
	if (r >= 0)
		fcntl(fd, F_SETFL, r & ~O_NONBLOCK);
	*ret_fd = fd;
	*ret_st = st;
	return 0;
}

int
path_join(char *buf, size_t n, const char *dir, const char *name)
{
	size_t dl = dir != NULL ? strlen(dir) : 0, nl = strlen(name);
	size_t sep = dl > 0 && dir[dl - 1] != '/' ? 1 : 0;

	if (n == 0 || dl + sep + nl >= n)
		return -ENAMETOOLONG;
	if (dl > 0)
		memcpy(buf, dir, dl);
	if (sep)
		buf[dl] = '/';
	memcpy(buf + dl + sep, name, nl + 1);
	return 0;
}
