/* yemit.c - YAML output through libyaml's emitter (see yemit.h). */
#include "yemit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct yemit {
	yaml_emitter_t em;
	struct buf *out;
	int err;     /* first error, sticky */
	int out_err; /* why the output handler refused */
	bool open;   /* the stream has been started */
};

static int
write_handler(void *data, unsigned char *bytes, size_t size)
{
	struct yemit *y = data;
	int r;

	r = buf_append(y->out, bytes, size);
	if (r < 0) {
		y->out_err = r;
		return 0;
	}
	return 1;
}

/* Hand one event to the emitter, turning its failure into an errno. */
static void
emit(struct yemit *y, yaml_event_t *ev, int init_ok)
{
	if (y->err != 0) {
		if (init_ok)
			yaml_event_delete(ev);
		return;
	}
	if (!init_ok) {
		/* Only invalid UTF-8 or out of memory fail initialisation. */
		y->err = -EINVAL;
		return;
	}
	if (!yaml_emitter_emit(&y->em, ev)) {
		/* The emitter frees the event whether or not it succeeds. */
		if (y->out_err != 0)
			y->err = y->out_err;
		else if (y->em.error == YAML_MEMORY_ERROR)
			y->err = -ENOMEM;
		else
			y->err = -EINVAL;
	}
}

static void
doc_start(struct yemit *y)
{
	yaml_event_t ev;
	int ok;

	ok = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(y, &ev, ok);
}

static void
doc_end(struct yemit *y)
{
	yaml_event_t ev;
	int ok;

	ok = yaml_document_end_event_initialize(&ev, 1);
	emit(y, &ev, ok);
}

/*
 * Create an emitter that appends to out. Returns NULL only when out of
 * memory.
 */
struct yemit *
yemit_new(struct buf *out)
{
	struct yemit *y;
	yaml_event_t ev;
	int ok;

	y = calloc(1, sizeof(*y));
	if (y == NULL)
		return NULL;
	if (!yaml_emitter_initialize(&y->em)) {
		free(y);
		return NULL;
	}
	y->out = out;
	y->open = true;
	yaml_emitter_set_output(&y->em, write_handler, y);
	yaml_emitter_set_unicode(&y->em, 1);
	yaml_emitter_set_width(&y->em, -1);
	yaml_emitter_set_indent(&y->em, 2);
	yaml_emitter_set_break(&y->em, YAML_LN_BREAK);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(y, &ev, ok);
	doc_start(y);
	return y;
}

/* Free the emitter; NULL is a no-op. */
struct yemit *
yemit_free(struct yemit *y)
{
	if (y == NULL)
		return NULL;
	yaml_emitter_delete(&y->em);
	free(y);
	return NULL;
}

/* End this document and open the next one. */
void
yemit_next_doc(struct yemit *y)
{
	doc_end(y);
	doc_start(y);
}

/* Close the document and the stream; flush. 0 or the first error. */
int
yemit_finish(struct yemit *y)
{
	yaml_event_t ev;
	int ok;

	if (!y->open)
		return y->err != 0 ? y->err : -EINVAL;
	y->open = false;
	doc_end(y);
	ok = yaml_stream_end_event_initialize(&ev);
	emit(y, &ev, ok);
	if (y->err == 0 && !yaml_emitter_flush(&y->em))
		y->err = y->out_err != 0 ? y->out_err : -EIO;
	return y->err;
}

/* The first error (0 when none). */
int
yemit_error(const struct yemit *y)
{
	return y->err;
}

/* Start a mapping, block or flow. */
void
yemit_map_start(struct yemit *y, bool flow)
{
	yaml_event_t ev;
	int ok;

	ok = yaml_mapping_start_event_initialize(
		&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
	emit(y, &ev, ok);
}

/* End a mapping. */
void
yemit_map_end(struct yemit *y)
{
	yaml_event_t ev;
	int ok;

	ok = yaml_mapping_end_event_initialize(&ev);
	emit(y, &ev, ok);
}

/* Start a sequence, block or flow. */
void
yemit_seq_start(struct yemit *y, bool flow)
{
	yaml_event_t ev;
	int ok;

	ok = yaml_sequence_start_event_initialize(
		&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
	emit(y, &ev, ok);
}

/* End a sequence. */
void
yemit_seq_end(struct yemit *y)
{
	yaml_event_t ev;
	int ok;

	ok = yaml_sequence_end_event_initialize(&ev);
	emit(y, &ev, ok);
}

static bool
word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

/*
 * True when a YAML 1.1 or 1.2 resolver could read s as a non-string: null,
 * a boolean (yes/no/on/off/y/n in 1.1), a number in any base, sexagesimal
 * ("52:54:00") or a float. Everything that starts with a digit, a sign or a
 * dot is quoted, which is simpler and errs on the safe side.
 */
bool
yemit_needs_quotes(const char *s, size_t len)
{
	static const char *const words[] = { "null", "true", "false", "yes",
					     "no",   "on",   "off",   "y",
					     "n",    "~",    "<<",    "=",
					     NULL };
	size_t i;

	if (len == 0)
		return true;
	if ((s[0] >= '0' && s[0] <= '9') || s[0] == '+' || s[0] == '-' ||
	    s[0] == '.')
		return true;
	if (len > 5) /* longer than "false": no word to match */
		return false;
	for (i = 0; words[i] != NULL; i++)
		if (word_is(s, len, words[i]))
			return true;
	return false;
}

/*
 * Both "implicit" flags are set: no scalar ever carries a tag, whatever
 * style the emitter settles on (a plain request may become quoted).
 */
static void
scalar(struct yemit *y, const char *s, size_t len, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	int ok;

	if (y->err != 0)
		return;
	if (memchr(s, '\0', len) != NULL) {
		y->err = -EINVAL;
		return;
	}
	if (len > INT32_MAX) {
		y->err = -E2BIG;
		return;
	}
	ok = yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)(uintptr_t)s, (int)len,
					  1, 1, style);
	emit(y, &ev, ok);
}

/* A string of len bytes, quoted when it could be read as anything else. */
void
yemit_strn(struct yemit *y, const char *s, size_t len)
{
	if (yemit_needs_quotes(s, len))
		scalar(y, s, len, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	else
		scalar(y, s, len, YAML_PLAIN_SCALAR_STYLE);
}

/* A NUL-terminated string (see yemit_strn). */
void
yemit_str(struct yemit *y, const char *s)
{
	yemit_strn(y, s, strlen(s));
}

/* Multi-line text as a literal block when the emitter allows it. */
void
yemit_text(struct yemit *y, const char *s, size_t len)
{
	/* A block scalar is always a string: no resolution to fear. */
	scalar(y, s, len, YAML_LITERAL_SCALAR_STYLE);
}

/* An unsigned integer, plain. */
void
yemit_u64(struct yemit *y, uint64_t v)
{
	char b[24];
	int n;

	n = snprintf(b, sizeof(b), "%" PRIu64, v);
	scalar(y, b, (size_t)n, YAML_PLAIN_SCALAR_STYLE);
}

/* true or false, plain. */
void
yemit_bool(struct yemit *y, bool v)
{
	const char *s = v ? "true" : "false";

	scalar(y, s, strlen(s), YAML_PLAIN_SCALAR_STYLE);
}

/* A plain null. */
void
yemit_null(struct yemit *y)
{
	scalar(y, "null", 4, YAML_PLAIN_SCALAR_STYLE);
}

/* key: "val" */
void
yemit_kv_str(struct yemit *y, const char *key, const char *val)
{
	yemit_str(y, key);
	yemit_str(y, val);
}

/* key: 123 */
void
yemit_kv_u64(struct yemit *y, const char *key, uint64_t v)
{
	yemit_str(y, key);
	yemit_u64(y, v);
}

/* key: true|false */
void
yemit_kv_bool(struct yemit *y, const char *key, bool v)
{
	yemit_str(y, key);
	yemit_bool(y, v);
}

/* key: null, or key: "val" */
void
yemit_kv_str_or_null(struct yemit *y, const char *key, const char *val)
{
	yemit_str(y, key);
	if (val == NULL)
		yemit_null(y);
	else
		yemit_str(y, val);
}
