/*
 * sse_decode.h - a reader of text/event-stream as the HTML standard's
 * "Interpreting an event stream" reads it, for the tests of sse.c (unit
 * test and fuzz harness): what a browser would make of our framing.
 * Header-only; static functions.
 */
#ifndef MB_TEST_SSE_DECODE_H
#define MB_TEST_SSE_DECODE_H

#include <stddef.h>
#include <string.h>

struct sse_decoded {
	char type[64];
	char *data; /* caller's buffer of cap bytes */
	size_t len, cap;
	int events;   /* events dispatched */
	int comments; /* comment lines */
	long retry;   /* last retry field, -1 when none */
};

static void
sse_decode_line(struct sse_decoded *d, const char *l, size_t n, char *acc,
		size_t *alen)
{
	const char *colon = memchr(l, ':', n);
	size_t fl = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	size_t vl = (size_t)(l + n - v);

	if (n == 0) { /* dispatch */
		if (*alen > 0) {
			(*alen)--; /* the last LF goes */
			memcpy(d->data, acc, *alen);
			d->len = *alen;
			d->events++;
		}
		*alen = 0;
		return;
	}
	if (fl == 0) {
		d->comments++;
		return;
	}
	if (vl > 0 && v[0] == ' ') {
		v++;
		vl--;
	}
	if (fl == 4 && memcmp(l, "data", 4) == 0) {
		if (*alen + vl + 1 <= d->cap) {
			memcpy(acc + *alen, v, vl);
			*alen += vl;
			acc[(*alen)++] = '\n';
		}
	} else if (fl == 5 && memcmp(l, "event", 5) == 0 &&
		   vl < sizeof(d->type)) {
		memcpy(d->type, v, vl);
		d->type[vl] = '\0';
	} else if (fl == 5 && memcmp(l, "retry", 5) == 0) {
		d->retry = 0;
		for (size_t i = 0; i < vl && v[i] >= '0' && v[i] <= '9'; i++)
			d->retry = d->retry * 10 + (v[i] - '0');
	}
}

/*
 * Read len bytes of stream s; the data of the last event dispatched goes
 * to d->data (acc: scratch of d->cap bytes).
 */
static void
sse_decode(struct sse_decoded *d, const char *s, size_t len, char *acc)
{
	size_t i = 0, alen = 0;

	d->type[0] = '\0';
	d->len = 0;
	d->events = d->comments = 0;
	d->retry = -1;
	while (i < len) {
		size_t j = i;

		while (j < len && s[j] != '\r' && s[j] != '\n')
			j++;
		if (j == len)
			break; /* an unfinished line is not a line */
		sse_decode_line(d, s + i, j - i, acc, &alen);
		i = j +
		    (s[j] == '\r' && j + 1 < len && s[j + 1] == '\n' ? 2 : 1);
	}
}

/* data with every CR LF, CR and LF made one LF: what a client sees. */
static size_t
sse_normalize(const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '\r') {
			out[o++] = '\n';
			if (i + 1 < len && in[i + 1] == '\n')
				i++;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

#endif
