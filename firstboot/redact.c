/* redact.c - the tail of a program's output, without its secrets. */
#include "redact.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define PEM_BEGIN "-----BEGIN "
#define PEM_KEY	  "PRIVATE KEY-----"
#define PEM_END	  "-----END "

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* Length of a run of chars satisfying ok at s (at most n). */
static size_t
run(const char *s, size_t n, bool (*ok)(char))
{
	size_t i = 0;

	while (i < n && ok(s[i]))
		i++;
	return i;
}

/* A bootstrap token at s (not inside a longer word): its length, or 0. */
static size_t
token_at(const char *s, size_t n, bool word_before)
{
	if (word_before || n < 23 || run(s, 6, is_lower_alnum) != 6 ||
	    s[6] != '.' || run(s + 7, 16, is_lower_alnum) != 16)
		return 0;
	if (n > 23 && is_lower_alnum(s[23]))
		return 0;
	return 23;
}

/* 64 hex digits at s, alone: 64, or 0. */
static size_t
hex64_at(const char *s, size_t n, bool word_before)
{
	if (word_before || run(s, n < 65 ? n : 65, is_hex) != 64)
		return 0;
	return 64;
}

/* A PEM private key block at s: its length up to its END line's end. */
static size_t
pem_at(const char *s, size_t n)
{
	const char *eol = memchr(s, '\n', n), *end;
	size_t first = eol ? (size_t)(eol - s) : n;

	if (n < sizeof(PEM_BEGIN) - 1 ||
	    memcmp(s, PEM_BEGIN, sizeof(PEM_BEGIN) - 1) != 0 ||
	    memmem(s, first, PEM_KEY, sizeof(PEM_KEY) - 1) == NULL)
		return 0;
	end = memmem(s + first, n - first, PEM_END, sizeof(PEM_END) - 1);
	if (end == NULL)
		return n;
	eol = memchr(end, '\n', n - (size_t)(end - s));
	return eol ? (size_t)(eol - s) : n;
}

/*
 * Redact all of in into out (never longer than in: every replacement is
 * shorter than what it replaces). 0 or -ENOMEM.
 */
static int
redact_all(const char *in, size_t len, struct buf *out)
{
	size_t i = 0, k;

	while (i < len) {
		bool word = i > 0 && (is_lower_alnum(in[i - 1]) ||
				      is_hex(in[i - 1]) || in[i - 1] == '.');

		k = pem_at(in + i, len - i);
		if (k == 0)
			k = token_at(in + i, len - i, word);
		if (k == 0)
			k = hex64_at(in + i, len - i, word);
		if (k > 0) {
			if (buf_puts(out, FB_REDACTED) < 0)
				return -ENOMEM;
			i += k;
			continue;
		}
		if (buf_append(out, in + i, 1) < 0)
			return -ENOMEM;
		i++;
	}
	return 0;
}

int
fb_redact_tail(const char *in, size_t len, size_t max, struct buf *out)
{
	struct buf all;
	size_t start = 0;
	const char *nl;
	int r;

	buf_init(&all, len + 1);
	r = redact_all(in, len, &all);
	if (r < 0 || all.len == 0)
		goto done;
	if (all.len > max) {
		start = all.len - max;
		/* Not inside a UTF-8 character; after a line break if any. */
		while (start < all.len &&
		       ((unsigned char)all.data[start] & 0xc0) == 0x80)
			start++;
		nl = memchr(all.data + start, '\n', all.len - start);
		if (nl != NULL && (size_t)(nl - all.data) + 1 < all.len)
			start = (size_t)(nl - all.data) + 1;
	}
	r = buf_append(out, all.data + start, all.len - start);
done:
	buf_done_secure(&all);
	return r < 0 ? r : 0;
}
