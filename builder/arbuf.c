/* arbuf.c - libarchive's output into a struct buf. */
#include "arbuf.h"

la_ssize_t
arbuf_write(struct archive *a, void *data, const void *buf, size_t n)
{
	struct arbuf *s = data;
	int r;

	(void)a;
	r = buf_append(s->out, buf, n);
	if (r < 0) {
		s->err = r;
		return -1;
	}
	return (la_ssize_t)n;
}
