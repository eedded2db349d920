/*
 * arbuf.h - where libarchive writes an archive made in memory: a write
 * callback (archive_write_open2) that appends to a capped struct buf.
 */
#ifndef MB_ARBUF_H
#define MB_ARBUF_H

#include <archive.h>
#include <stddef.h>

#include "buf.h"

struct arbuf {
	struct buf *out; /* borrowed */
	int err;	 /* the first append's error (-E2BIG, -ENOMEM), or 0 */
};

/* The callback; data is a struct arbuf. n, or -1 when out refused it. */
la_ssize_t arbuf_write(struct archive *a, void *data, const void *buf,
		       size_t n);

#endif
