/*
 * yemit.h - YAML output through libyaml's emitter into a struct buf.
 *
 * Every value is passed to the emitter as a scalar event, so no string can
 * become YAML structure: quotes, newlines, '#', ': ' and leading dashes come
 * out quoted or escaped. Strings that a YAML 1.1 reader would resolve to a
 * number, a boolean or null ("1", "0755", "yes", "52:54:00", "~") are
 * double-quoted so that they stay strings for every reader (kubeadm and
 * cloud-init included).
 *
 * Errors are sticky: the first failure is remembered, later calls do
 * nothing, and yemit_finish() returns it. Non-logging. The size cap is the
 * output buffer's own max (buf_init).
 *
 *	struct buf b;
 *	struct yemit *y;
 *
 *	buf_init(&b, 1u << 20);
 *	y = yemit_new(&b);		(NULL: out of memory)
 *	yemit_map_start(y, false);
 *	yemit_kv_str(y, "name", user_value);
 *	yemit_str(y, "ports");
 *	yemit_seq_start(y, true);
 *	yemit_u64(y, 6443);
 *	yemit_seq_end(y);
 *	yemit_map_end(y);
 *	r = yemit_finish(y);		(0: b.data holds the document)
 *	yemit_free(y);
 */
#ifndef MB_YEMIT_H
#define MB_YEMIT_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct yemit;

/*
 * Start emitting into out (borrowed; appended to; it keeps its own max).
 * Returns a new emitter (owned; yemit_free) or NULL when out of memory.
 * The stream and the first document are opened here.
 */
struct yemit *yemit_new(struct buf *out);

/* Free; NULL is a no-op. Returns NULL. */
struct yemit *yemit_free(struct yemit *y);

/*
 * End the current document and start another ("---" between them), for
 * multi-document files such as kubeadm.yaml.
 */
void yemit_next_doc(struct yemit *y);

/*
 * Close the last document and the stream and flush everything into out.
 * Returns 0, -ENOMEM, -E2BIG (out's max reached) or -EINVAL (events out of
 * order: a bug in the caller).
 */
int yemit_finish(struct yemit *y);

/* Mappings and sequences; flow selects the inline "{...}" / "[...]" form. */
void yemit_map_start(struct yemit *y, bool flow);
void yemit_map_end(struct yemit *y);
void yemit_seq_start(struct yemit *y, bool flow);
void yemit_seq_end(struct yemit *y);

/* A string, quoted whenever a reader could take it for anything else. */
void yemit_str(struct yemit *y, const char *s);
/* The same for len bytes (which may not hold NUL: -EINVAL). */
void yemit_strn(struct yemit *y, const char *s, size_t len);
/* Multi-line text, as a literal block ("|") when libyaml allows it. */
void yemit_text(struct yemit *y, const char *s, size_t len);
/* Plain numbers, booleans and null. */
void yemit_u64(struct yemit *y, uint64_t v);
void yemit_bool(struct yemit *y, bool v);
void yemit_null(struct yemit *y);

/* key: value conveniences inside a mapping. */
void yemit_kv_str(struct yemit *y, const char *key, const char *val);
void yemit_kv_u64(struct yemit *y, const char *key, uint64_t v);
void yemit_kv_bool(struct yemit *y, const char *key, bool v);
/* key: null when val is NULL, else the string. */
void yemit_kv_str_or_null(struct yemit *y, const char *key, const char *val);

/* The first error seen (0 when none). */
int yemit_error(const struct yemit *y);

/* True when s would be read back by YAML 1.1 as something but a string. */
bool yemit_needs_quotes(const char *s, size_t len);

#endif
