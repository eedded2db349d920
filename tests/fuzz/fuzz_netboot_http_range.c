/*
 * fuzz_netboot_http_range.c - the Range parser and the conditional-request
 * helpers on arbitrary header bytes. Input: 8 bytes of representation
 * size, then the header value. Invariants: a satisfiable range lies inside
 * the representation and is ordered.
 */
#include "http.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char etag[HTTP_ETAG_LEN], *s;
	struct http_range rg;
	uint64_t rsize = 0;
	time_t t;
	int r;

	if (size < 8)
		return 0;
	memcpy(&rsize, data, 8);
	/* Small sizes are the interesting boundaries; keep some. */
	if (data[0] & 1)
		rsize &= 0xffff;
	data += 8;
	size -= 8;
	r = http_range_parse((const char *)data, size, rsize, &rg);
	if (r == 0 && (rg.first > rg.last || rg.last >= rsize))
		abort();
	if (r != 0 && r != -ENOENT && r != -ERANGE)
		abort();
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	http_etag_format(etag, rsize, (int64_t)rsize, 1, 2);
	(void)http_not_modified(s, s, etag, (time_t)(rsize & 0xffffffff));
	(void)http_not_modified(NULL, s, etag, 0);
	(void)http_if_range_ok(s, etag, 0);
	if (http_date_parse(s, &t) == 0) {
		char back[HTTP_DATE_LEN];

		/* Every accepted date formats back to a parseable one. */
		http_date_format(t, back);
		if (http_date_parse(back, &t) != 0)
			abort();
	}
	free(s);
	return 0;
}
