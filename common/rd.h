/*
 * rd.h - a bounded cursor over untrusted bytes.
 *
 * Every read checks the remaining length first and fails with -EBADMSG
 * without moving the cursor when the bytes are not there. Network and file
 * parsers read only through this.
 */
#ifndef MB_RD_H
#define MB_RD_H

#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;   /* next byte */
	const uint8_t *end; /* one past the last byte */
};

/* Start a cursor over len bytes at buf (borrowed). */
void rd_init(struct rd *rd, const void *buf, size_t len);

/* Bytes left. */
size_t rd_left(const struct rd *rd);

/* Read an 8/16/32-bit integer (big-endian). 0 or -EBADMSG. */
int rd_u8(struct rd *rd, uint8_t *ret);
int rd_u16be(struct rd *rd, uint16_t *ret);
int rd_u32be(struct rd *rd, uint32_t *ret);

/* Borrow n bytes: *ret points into the buffer. 0 or -EBADMSG. */
int rd_bytes(struct rd *rd, size_t n, const uint8_t **ret);

/* Skip n bytes. 0 or -EBADMSG. */
int rd_skip(struct rd *rd, size_t n);

/*
 * Borrow a NUL-terminated string of at most max bytes (NUL excluded).
 * *ret points into the buffer, *ret_len is its length; the cursor moves
 * past the NUL. Returns 0, -EBADMSG when no NUL is found before the end,
 * or -ENAMETOOLONG when the string is longer than max.
 */
int rd_cstr(struct rd *rd, size_t max, const char **ret, size_t *ret_len);

#endif
