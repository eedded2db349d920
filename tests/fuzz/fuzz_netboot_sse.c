/*
 * fuzz_netboot_sse.c - the event stream framing on arbitrary data, read
 * back as a browser reads text/event-stream. Invariants: data with a NUL
 * is refused; anything else is one event of the given type whose data is
 * the input with its line breaks made LF (nothing can smuggle a field, an
 * event or a comment into the stream).
 */
#include "../unit/sse_decode.h"
#include "sse.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char acc[1 << 16], got[1 << 16], want[1 << 16];
	struct sse_decoded d = { .data = got, .cap = sizeof(got) };
	const char *s = (const char *)data;
	struct buf b;
	int r;

	if (size >= sizeof(want))
		return 0;
	buf_init(&b, 8 * size + 64);
	r = sse_frame(&b, "node", s, size);
	if (memchr(s, '\0', size) != NULL) {
		if (r != -EINVAL)
			abort();
		buf_done(&b);
		return 0;
	}
	if (r != 0)
		abort();
	sse_decode(&d, b.data, b.len, acc);
	if (d.events != 1 || d.comments != 0 || d.retry != -1 ||
	    strcmp(d.type, "node") != 0 ||
	    d.len != sse_normalize(s, size, want) ||
	    memcmp(got, want, d.len) != 0)
		abort();
	buf_done(&b);
	return 0;
}
