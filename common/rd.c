/* rd.c - bounded cursor over untrusted bytes. */
#include "rd.h"

#include <errno.h>
#include <string.h>

void
rd_init(struct rd *rd, const void *buf, size_t len)
{
	rd->p = buf;
	rd->end = rd->p + len;
}

size_t
rd_left(const struct rd *rd)
{
	return (size_t)(rd->end - rd->p);
}

int
rd_u8(struct rd *rd, uint8_t *ret)
{
	if (rd_left(rd) < 1)
		return -EBADMSG;
	*ret = rd->p[0];
	rd->p += 1;
	return 0;
}

int
rd_u16be(struct rd *rd, uint16_t *ret)
{
	if (rd_left(rd) < 2)
		return -EBADMSG;
	*ret = (uint16_t)((rd->p[0] << 8) | rd->p[1]);
	rd->p += 2;
	return 0;
}

int
rd_u32be(struct rd *rd, uint32_t *ret)
{
	if (rd_left(rd) < 4)
		return -EBADMSG;
	*ret = ((uint32_t)rd->p[0] << 24) | ((uint32_t)rd->p[1] << 16) |
	       ((uint32_t)rd->p[2] << 8) | (uint32_t)rd->p[3];
	rd->p += 4;
	return 0;
}

int
rd_bytes(struct rd *rd, size_t n, const uint8_t **ret)
{
	if (rd_left(rd) < n)
		return -EBADMSG;
	*ret = rd->p;
	rd->p += n;
	return 0;
}

int
rd_skip(struct rd *rd, size_t n)
{
	if (rd_left(rd) < n)
		return -EBADMSG;
	rd->p += n;
	return 0;
}

int
rd_cstr(struct rd *rd, size_t max, const char **ret, size_t *ret_len)
{
	const uint8_t *nul;
	size_t len;

	nul = memchr(rd->p, 0, rd_left(rd));
	if (nul == NULL)
		return -EBADMSG;
	len = (size_t)(nul - rd->p);
	if (len > max)
		return -ENAMETOOLONG;
	*ret = (const char *)rd->p;
	*ret_len = len;
	rd->p = nul + 1;
	return 0;
}
