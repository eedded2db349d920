/*
 * buf.h - a growable byte buffer with a maximum size.
 *
 * The data is always NUL-terminated (the NUL is not counted in len), so a
 * buffer of text can be used as a C string. Appends past max fail with
 * -E2BIG and leave the buffer unchanged.
 */
#ifndef MB_BUF_H
#define MB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* owned; NULL until the first append */
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated */
	size_t max; /* hard limit on len */
};

/* Initialise an empty buffer that may grow to max bytes. */
void buf_init(struct buf *b, size_t max);

/* Free the storage and reset to empty; the buffer may be reused. */
void buf_done(struct buf *b);

/* Like buf_done, but wipes the bytes first (secrets). */
void buf_done_secure(struct buf *b);

/* Append n bytes. 0, -E2BIG past max, or -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t n);

/* Append a C string. */
int buf_puts(struct buf *b, const char *s);

/* Append formatted text. 0, -E2BIG, -ENOMEM or -EINVAL. */
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Hand the data over to the caller (who frees it with free()) and reset the
 * buffer. Returns an empty string, not NULL, for an empty buffer; NULL only
 * when out of memory.
 */
char *buf_take(struct buf *b, size_t *ret_len);

#endif
