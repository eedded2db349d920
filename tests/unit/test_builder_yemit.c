/*
 * test_builder_yemit.c - common/yemit.h: every string, however hostile,
 * comes back from a YAML parser as the same string (never as structure,
 * null, a number or a boolean).
 */
#include "buf.h"
#include "yemit.h"
#include "yload.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const hostile[] = {
	"",
	"null",
	"Null",
	"~",
	"yes",
	"No",
	"on",
	"OFF",
	"y",
	"true",
	"0755",
	"1e3",
	"0x1f",
	".inf",
	"-.5",
	"+1",
	"52:54:00",
	"192.168.1.1",
	"- item",
	"-",
	"? key",
	": value",
	"key: value",
	"a: b: c",
	"text # comment",
	"#comment",
	"'single'",
	"\"double\"",
	"it's",
	"line1\nline2",
	"line1\n\nline3\n",
	"ends with newlines\n\n\n",
	"\n",
	"trailing space ",
	" leading space",
	"\ttab",
	"ctl\x01\x7f",
	"{a: 1}",
	"[1, 2]",
	"&anchor",
	"*alias",
	"!tag",
	"!!str",
	"%YAML 1.2",
	"@at",
	"`bt`",
	"|",
	">",
	"---",
	"...",
	"--- x",
	"<<",
	"=",
	"caf\xc3\xa9 \xe2\x9c\x93",
	"a\\b\\\\c",
	"\"\\\"",
	"key:\n  nested: structure\n- list",
};

/* Emit {kN: value} for each hostile value, in the given style. */
static void
roundtrip(bool text, bool flow)
{
	struct buf out;
	struct yemit *y;
	struct ydoc *doc = NULL;
	struct yerror err;
	size_t n = sizeof(hostile) / sizeof(hostile[0]), i;
	char key[16];

	buf_init(&out, 1u << 24);
	y = yemit_new(&out);
	assert_non_null(y);
	yemit_map_start(y, flow);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		yemit_str(y, key);
		if (text)
			yemit_text(y, hostile[i], strlen(hostile[i]));
		else
			yemit_str(y, hostile[i]);
	}
	/* The hostile strings as keys too. */
	for (i = 0; i < n; i++) {
		if (hostile[i][0] == '\0')
			continue;
		yemit_str(y, hostile[i]);
		yemit_u64(y, i);
	}
	yemit_map_end(y);
	assert_int_equal(yemit_finish(y), 0);
	yemit_free(y);
	if (ydoc_parse("t", out.data, out.len, &doc, &err) < 0)
		fail_msg("%u:%u: %s\n%s", err.line, err.col, err.msg, out.data);
	for (i = 0; i < n; i++) {
		const struct ynode *v;

		snprintf(key, sizeof(key), "k%zu", i);
		v = ynode_get(doc->root, key);
		assert_non_null(v);
		assert_int_equal(v->type, YNODE_SCALAR);
		assert_false(ynode_is_null(v));
		if (strlen(hostile[i]) != v->len ||
		    memcmp(v->str, hostile[i], v->len) != 0)
			fail_msg("value %zu: '%s' came back as '%s'", i,
				 hostile[i], v->str);
		/* Anything a resolver could take for a non-string is quoted. */
		if (yemit_needs_quotes(hostile[i], strlen(hostile[i])))
			assert_false(v->plain);
		if (hostile[i][0] != '\0')
			assert_non_null(ynode_get(doc->root, hostile[i]));
	}
	ydoc_free(doc);
	buf_done(&out);
}

static void
test_strings_block(void **state)
{
	(void)state;
	roundtrip(false, false);
}

static void
test_strings_flow(void **state)
{
	(void)state;
	roundtrip(false, true);
}

static void
test_text_block(void **state)
{
	(void)state;
	roundtrip(true, false);
}

static void
test_long_string(void **state)
{
	struct buf out;
	struct yemit *y;
	struct ydoc *doc = NULL;
	struct yerror err;
	const struct ynode *v;
	size_t len = 300000, i;
	char *s = malloc(len + 1);

	(void)state;
	assert_non_null(s);
	for (i = 0; i < len; i++)
		s[i] = "ab: #'\"\n-"[i % 9];
	s[len] = '\0';
	buf_init(&out, 1u << 24);
	y = yemit_new(&out);
	yemit_map_start(y, false);
	yemit_kv_str(y, "long", s);
	yemit_str(y, "text");
	yemit_text(y, s, len);
	yemit_map_end(y);
	assert_int_equal(yemit_finish(y), 0);
	yemit_free(y);
	assert_int_equal(ydoc_parse("t", out.data, out.len, &doc, &err), 0);
	v = ynode_get(doc->root, "long");
	assert_int_equal(v->len, len);
	assert_memory_equal(v->str, s, len);
	v = ynode_get(doc->root, "text");
	assert_int_equal(v->len, len);
	assert_memory_equal(v->str, s, len);
	ydoc_free(doc);
	buf_done(&out);
	free(s);
}

static void
test_errors(void **state)
{
	struct buf out;
	struct yemit *y;

	(void)state;
	/* A NUL cannot be represented: the error sticks. */
	buf_init(&out, 4096);
	y = yemit_new(&out);
	yemit_map_start(y, false);
	yemit_str(y, "k");
	yemit_strn(y, "a\0b", 3);
	assert_int_equal(yemit_error(y), -EINVAL);
	yemit_map_end(y);
	assert_int_equal(yemit_finish(y), -EINVAL);
	yemit_free(y);
	buf_done(&out);

	/* Invalid UTF-8 is refused by libyaml. */
	buf_init(&out, 4096);
	y = yemit_new(&out);
	yemit_seq_start(y, false);
	yemit_str(y, "\xff\xfe");
	yemit_seq_end(y);
	assert_int_equal(yemit_finish(y), -EINVAL);
	yemit_free(y);
	buf_done(&out);

	/* The output cap. */
	buf_init(&out, 16);
	y = yemit_new(&out);
	yemit_seq_start(y, false);
	yemit_str(y, "0123456789012345678901234567890123456789");
	yemit_seq_end(y);
	assert_int_equal(yemit_finish(y), -E2BIG);
	yemit_free(y);
	buf_done(&out);

	/* Out of order events are a caller bug, reported as -EINVAL. */
	buf_init(&out, 4096);
	y = yemit_new(&out);
	yemit_map_end(y);
	assert_int_equal(yemit_finish(y), -EINVAL);
	yemit_free(y);
	buf_done(&out);
	assert_null(yemit_free(NULL));
}

static void
test_multi_doc(void **state)
{
	struct buf out;
	struct yemit *y;

	(void)state;
	buf_init(&out, 4096);
	y = yemit_new(&out);
	yemit_map_start(y, false);
	yemit_kv_str(y, "kind", "A");
	yemit_map_end(y);
	yemit_next_doc(y);
	yemit_map_start(y, false);
	yemit_kv_str(y, "kind", "B");
	yemit_kv_bool(y, "flag", false);
	yemit_kv_u64(y, "count", 42);
	/* "n" is a YAML 1.1 boolean: quoted even as a key. */
	yemit_kv_u64(y, "n", 7);
	yemit_kv_str_or_null(y, "none", NULL);
	yemit_map_end(y);
	assert_int_equal(yemit_finish(y), 0);
	yemit_free(y);
	assert_string_equal(out.data, "kind: A\n---\nkind: B\nflag: false\n"
				      "count: 42\n\"n\": 7\nnone: null\n");
	buf_done(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_block),
		cmocka_unit_test(test_strings_flow),
		cmocka_unit_test(test_text_block),
		cmocka_unit_test(test_long_string),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_multi_doc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
