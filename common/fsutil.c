/* fsutil.c - atomic file writes, mkdir -p, bounded reads. */
#include "fsutil.h"

#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, r = 0;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int
atomic_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	size_t done = 0;
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Set the mode before any byte lands, so secrets are never exposed. */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		done += (size_t)w;
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		r = -errno;
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return fsync_parent(path);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int
mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	size_t i, n;

	n = strlen(dir);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		struct stat st;

		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

int
read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0, cap;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	/* max < SIZE_MAX here: st_size <= max and the +1 fits. */
	if (max >= SIZE_MAX - 1) {
		r = -EINVAL;
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	data = malloc(cap);
	if (data == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* The file may grow while we read; stop at max either way. */
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *p;

			size_t ncap;

			/* Room for one byte past max, so growth is seen. */
			if (cap > max || cap > SIZE_MAX / 2) {
				r = -EFBIG;
				goto out;
			}
			ncap = cap * 2;
			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= cap)
				ncap = cap + 1;
			cap = ncap;
			p = realloc(data, cap);
			if (p == NULL) {
				r = -ENOMEM;
				goto out;
			}
			data = p;
		}
		n = read(fd, data + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			goto out;
		}
	}
	data[len] = '\0';
	*ret = data;
	if (ret_len != NULL)
		*ret_len = len;
	data = NULL;
	r = 0;
out:
	free(data);
	close(fd);
	return r;
}
