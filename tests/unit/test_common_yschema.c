/*
 * test_common_yschema.c - the shared YAML getters: positions of their
 * diagnostics, quoting of hostile strings, "did you mean", and both sides
 * of every boundary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "yschema.h"

struct fix {
	struct ydoc *doc;
	struct diags d;
	struct ys_ctx c;
};

static void
fix_init(struct fix *f, const char *yaml)
{
	struct yerror err;

	memset(f, 0, sizeof(*f));
	if (ydoc_parse("t.yaml", yaml, strlen(yaml), &f->doc, &err) != 0)
		fail_msg("%u:%u: %s", err.line, err.col, err.msg);
	diags_init(&f->d);
	f->c.file = "t.yaml";
	f->c.d = &f->d;
}

static void
fix_done(struct fix *f)
{
	diags_done(&f->d);
	ydoc_free(f->doc);
}

/* Diagnostic i is sev at line:col and its message is exactly msg. */
static void
expect(const struct fix *f, size_t i, enum diag_severity sev, unsigned line,
       unsigned col, const char *msg)
{
	assert_true(i < f->d.n);
	assert_int_equal(f->d.items[i].severity, sev);
	assert_string_equal(f->d.items[i].file, "t.yaml");
	assert_int_equal(f->d.items[i].line, line);
	assert_int_equal(f->d.items[i].col, col);
	assert_string_equal(f->d.items[i].msg, msg);
}

static void
test_err_warn(void **state)
{
	struct fix f;
	const struct ynode *a;
	char big[YS_MSG_MAX + 50];

	(void)state;
	fix_init(&f, "x: 1\na: 2\n");
	a = ynode_get(f.doc->root, "a");
	ys_err(&f.c, a, "bad %s %d", "thing", 7);
	ys_warn(&f.c, a, "odd");
	ys_err(&f.c, NULL, "no place");
	assert_int_equal(f.d.errors, 2);
	assert_int_equal(f.d.warnings, 1);
	expect(&f, 0, DIAG_ERROR, 2, 4, "bad thing 7");
	expect(&f, 1, DIAG_WARNING, 2, 4, "odd");
	expect(&f, 2, DIAG_ERROR, 0, 0, "no place");
	/* A message longer than YS_MSG_MAX is cut, not overflowed. */
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ys_err(&f.c, a, "%s", big);
	assert_int_equal(strlen(f.d.items[3].msg), YS_MSG_MAX - 1);
	fix_done(&f);
}

static void
test_quote_plain(void **state)
{
	char b[YS_QUOTE_SIZE];

	(void)state;
	assert_string_equal(ys_quote("abc", 3, b, sizeof(b)), "abc");
	assert_string_equal(ys_quote("", 0, b, sizeof(b)), "");
	/* Only len bytes are read. */
	assert_string_equal(ys_quote("abcdef", 2, b, sizeof(b)), "ab");
	assert_ptr_equal(ys_quote("x", 1, b, sizeof(b)), b);
}

static void
test_quote_hostile(void **state)
{
	char b[YS_QUOTE_SIZE];

	(void)state;
	/* Quotes and backslashes cannot close or fake the message's quotes. */
	assert_string_equal(ys_quote("it's", 4, b, sizeof(b)), "it\\x27s");
	assert_string_equal(ys_quote("a\\b", 3, b, sizeof(b)), "a\\x5cb");
	/* Terminal escapes, newlines, DEL, high bytes and NULs. */
	assert_string_equal(ys_quote("\x1b[2J", 4, b, sizeof(b)), "\\x1b[2J");
	assert_string_equal(ys_quote("a\nb\r", 4, b, sizeof(b)),
			    "a\\x0ab\\x0d");
	assert_string_equal(ys_quote("\x7f\x80\xff", 3, b, sizeof(b)),
			    "\\x7f\\x80\\xff");
	assert_string_equal(ys_quote("a\0b", 3, b, sizeof(b)), "a\\x00b");
	/* The edges of printable ASCII are kept. */
	assert_string_equal(ys_quote(" ~", 2, b, sizeof(b)), " ~");
	assert_string_equal(ys_quote("\x1f", 1, b, sizeof(b)), "\\x1f");
}

static void
test_quote_cap(void **state)
{
	char b[8];

	(void)state;
	/* 7 bytes fit in 8 exactly: no marker. */
	assert_string_equal(ys_quote("abcdefg", 7, b, sizeof(b)), "abcdefg");
	/* One more byte does not: cut where "..." fits. */
	assert_string_equal(ys_quote("abcdefgh", 8, b, sizeof(b)), "abcd...");
	/* An escape that does not fit whole is not split. */
	assert_string_equal(ys_quote("abc\x01", 4, b, sizeof(b)), "abc\\x01");
	assert_string_equal(ys_quote("abcd\x01", 5, b, sizeof(b)), "abcd...");
	assert_string_equal(ys_quote("\x01\x02", 2, b, sizeof(b)), "\\x01...");
	/* Tiny buffers: always terminated, the marker only where it fits. */
	assert_string_equal(ys_quote("abc", 3, b, 1), "");
	assert_string_equal(ys_quote("abc", 3, b, 3), "");
	assert_string_equal(ys_quote("abc", 3, b, 4), "abc");
	assert_string_equal(ys_quote("abcd", 4, b, 4), "...");
	assert_string_equal(ys_quote("abcd", 4, b, 5), "abcd");
	assert_string_equal(ys_quote("abcde", 5, b, 5), "a...");
}

/* Every byte value at every small size: terminated, bounded, printable. */
static void
test_quote_all_bytes(void **state)
{
	char in[4], b[16];
	size_t sz, i;
	unsigned v;

	(void)state;
	for (v = 0; v < 256; v++) {
		memset(in, (int)v, sizeof(in));
		for (sz = 1; sz <= sizeof(b); sz++) {
			memset(b, 'Z', sizeof(b));
			ys_quote(in, sizeof(in), b, sz);
			assert_true(strlen(b) < sz);
			for (i = 0; b[i] != '\0'; i++) {
				assert_true(b[i] >= 0x20 && b[i] < 0x7f);
				assert_true(b[i] != '\'');
			}
			if (sz < sizeof(b))
				assert_int_equal(b[sz], 'Z');
		}
	}
}

static void
test_qnode(void **state)
{
	struct fix f;
	char b[YS_QUOTE_SIZE];

	(void)state;
	fix_init(&f, "s: \"x'y\"\nl: [1]\n");
	assert_string_equal(ys_qnode(ynode_get(f.doc->root, "s"), b, sizeof(b)),
			    "x\\x27y");
	assert_string_equal(ys_qnode(ynode_get(f.doc->root, "l"), b, sizeof(b)),
			    "");
	assert_string_equal(ys_qnode(NULL, b, sizeof(b)), "");
	fix_done(&f);
}

static void
test_edit_distance(void **state)
{
	char a[YS_SUGGEST_KEYLEN + 2];

	(void)state;
	assert_int_equal(ys_edit_distance("", ""), 0);
	assert_int_equal(ys_edit_distance("abc", "abc"), 0);
	assert_int_equal(ys_edit_distance("", "abc"), 3);
	assert_int_equal(ys_edit_distance("porte", "port"), 1);
	assert_int_equal(ys_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(ys_edit_distance("ab", "ba"), 2);
	/* The longest key still measured, and one byte more. */
	memset(a, 'k', sizeof(a));
	a[YS_SUGGEST_KEYLEN] = '\0';
	assert_int_equal(ys_edit_distance(a, "k"), YS_SUGGEST_KEYLEN - 1);
	assert_int_equal(ys_edit_distance("k", a), YS_SUGGEST_KEYLEN - 1);
	a[YS_SUGGEST_KEYLEN] = 'k';
	a[YS_SUGGEST_KEYLEN + 1] = '\0';
	assert_true(ys_edit_distance(a, "k") == SIZE_MAX);
	assert_true(ys_edit_distance("k", a) == SIZE_MAX);
}

static void
test_want_type(void **state)
{
	struct fix f;
	const struct ynode *r;

	(void)state;
	fix_init(&f, "s: x\nl: [1]\nm: {a: 1}\n");
	r = f.doc->root;
	assert_true(ys_want_type(&f.c, ynode_get(r, "s"), YNODE_SCALAR, "s"));
	assert_true(ys_want_type(&f.c, ynode_get(r, "l"), YNODE_SEQ, "l"));
	assert_true(ys_want_type(&f.c, ynode_get(r, "m"), YNODE_MAP, "m"));
	assert_int_equal(f.d.n, 0);
	assert_false(ys_want_type(&f.c, ynode_get(r, "s"), YNODE_MAP, "s"));
	assert_false(ys_want_type(&f.c, ynode_get(r, "l"), YNODE_SCALAR, "l"));
	assert_false(ys_want_type(&f.c, ynode_get(r, "m"), YNODE_SEQ, "m"));
	expect(&f, 0, DIAG_ERROR, 1, 4, "s must be a mapping");
	expect(&f, 1, DIAG_ERROR, 2, 4, "l must be a scalar");
	expect(&f, 2, DIAG_ERROR, 3, 4, "m must be a list");
	fix_done(&f);
}

static void
test_check_keys(void **state)
{
	static const char *const known[] = { "port", "proto", "container",
					     NULL };
	struct fix f;

	(void)state;
	fix_init(&f, "port: 1\nporrt: 2\ncontainerxx: 3\ncontnr: 4\n"
		     "\"a'b\": 5\nproto: 7\n");
	assert_int_equal(ys_check_keys(&f.c, f.doc->root, "item", known), 4);
	assert_int_equal(f.d.errors, 4);
	/* Distance 1 and 2 suggest; 3 does not. */
	expect(&f, 0, DIAG_ERROR, 2, 1,
	       "unknown key 'porrt' in item (did you mean 'port'?)");
	expect(&f, 1, DIAG_ERROR, 3, 1,
	       "unknown key 'containerxx' in item (did you mean "
	       "'container'?)");
	expect(&f, 2, DIAG_ERROR, 4, 1, "unknown key 'contnr' in item");
	/* Hostile keys are quoted. */
	expect(&f, 3, DIAG_ERROR, 5, 1, "unknown key 'a\\x27b' in item");
	fix_done(&f);
}

static void
test_check_keys_nul(void **state)
{
	static const char *const known[] = { "port", NULL };
	struct fix f;

	(void)state;
	fix_init(&f, "\"port\\0x\": 1\n");
	assert_int_equal(ys_check_keys(&f.c, f.doc->root, "m", known), 1);
	expect(&f, 0, DIAG_ERROR, 1, 1, "unknown key 'port\\x00x' in m");
	fix_done(&f);
}

static void
test_check_keys_not_map(void **state)
{
	static const char *const known[] = { "a", NULL };
	struct fix f;

	(void)state;
	fix_init(&f, "l: [1]\n");
	assert_int_equal(ys_check_keys(&f.c, NULL, "m", known), 0);
	assert_int_equal(
		ys_check_keys(&f.c, ynode_get(f.doc->root, "l"), "m", known),
		0);
	assert_int_equal(f.d.n, 0);
	fix_done(&f);
}

static void
test_get_scalar(void **state)
{
	struct fix f;
	const struct ynode *r, *n = (const struct ynode *)&f;
	const char *s;

	(void)state;
	fix_init(&f, "s: val\nnul: ~\ne: \"\"\nz: \"a\\0b\"\nl: [1]\n"
		     "q: \"null\"\n");
	r = f.doc->root;
	s = ys_get_scalar(&f.c, r, "s", "s", 0, &n);
	assert_string_equal(s, "val");
	assert_ptr_equal(n, ynode_get(r, "s"));
	assert_string_equal(ys_get_scalar(&f.c, r, "q", "q", 0, NULL), "null");
	/* Absent or null: silent unless required. */
	assert_null(ys_get_scalar(&f.c, r, "absent", "absent", 0, &n));
	assert_null(n);
	assert_null(ys_get_scalar(&f.c, r, "nul", "nul", 0, NULL));
	assert_int_equal(f.d.n, 0);
	assert_null(
		ys_get_scalar(&f.c, r, "absent", "absent", YS_REQUIRED, NULL));
	assert_null(ys_get_scalar(&f.c, r, "nul", "nul", YS_REQUIRED, NULL));
	expect(&f, 0, DIAG_ERROR, 1, 1, "absent is required");
	expect(&f, 1, DIAG_ERROR, 2, 6, "nul is required");
	/* Empty: refused, unless YS_EMPTY_OK. */
	assert_null(ys_get_scalar(&f.c, r, "e", "e", 0, NULL));
	expect(&f, 2, DIAG_ERROR, 3, 4, "e must not be empty");
	assert_string_equal(ys_get_scalar(&f.c, r, "e", "e", YS_EMPTY_OK, NULL),
			    "");
	/* NUL bytes and non-scalars are refused whatever the flags. */
	assert_null(ys_get_scalar(&f.c, r, "z", "z", YS_EMPTY_OK, &n));
	assert_ptr_equal(n, ynode_get(r, "z"));
	expect(&f, 3, DIAG_ERROR, 4, 4, "z holds a NUL byte");
	assert_null(ys_get_scalar(&f.c, r, "l", "l", YS_EMPTY_OK, NULL));
	expect(&f, 4, DIAG_ERROR, 5, 4, "l must be a scalar");
	assert_int_equal(f.d.n, 5);
	fix_done(&f);
}

static void
test_get_bool(void **state)
{
	struct fix f;
	const struct ynode *r;
	bool b;

	(void)state;
	fix_init(&f, "t: true\nf: false\ny: yes\nn: no\nqt: \"true\"\n"
		     "m: maybe\nT: True\nnul: null\n");
	r = f.doc->root;
	b = false;
	assert_true(ys_get_bool(&f.c, r, "t", "t", 0, &b));
	assert_true(b);
	assert_true(ys_get_bool(&f.c, r, "f", "f", 0, &b));
	assert_false(b);
	assert_true(ys_get_bool(&f.c, r, "y", "y", 0, &b));
	assert_true(b);
	assert_true(ys_get_bool(&f.c, r, "n", "n", 0, &b));
	assert_false(b);
	assert_int_equal(f.d.n, 0);
	/* Absent and null: false, silent, *ret untouched. */
	b = true;
	assert_false(ys_get_bool(&f.c, r, "absent", "absent", 0, &b));
	assert_false(ys_get_bool(&f.c, r, "nul", "nul", 0, &b));
	assert_true(b);
	assert_int_equal(f.d.n, 0);
	/* Quoted, unknown words and other cases are refused. */
	assert_false(ys_get_bool(&f.c, r, "qt", "qt", 0, &b));
	assert_false(ys_get_bool(&f.c, r, "m", "m", 0, &b));
	assert_false(ys_get_bool(&f.c, r, "T", "T", 0, &b));
	assert_true(b);
	expect(&f, 0, DIAG_ERROR, 5, 5, "qt must be true or false");
	expect(&f, 1, DIAG_ERROR, 6, 4, "m must be true or false");
	expect(&f, 2, DIAG_ERROR, 7, 4, "T must be true or false");
	/* The flags: quoted allowed, yes and no refused. */
	assert_true(ys_get_bool(&f.c, r, "qt", "qt", YS_BOOL_QUOTED_OK, &b));
	assert_true(b);
	assert_false(ys_get_bool(&f.c, r, "y", "y", YS_BOOL_NO_YESNO, &b));
	assert_false(ys_get_bool(&f.c, r, "n", "n", YS_BOOL_NO_YESNO, &b));
	assert_true(ys_get_bool(&f.c, r, "f", "f", YS_BOOL_NO_YESNO, &b));
	assert_false(b);
	expect(&f, 3, DIAG_ERROR, 3, 4, "y must be true or false");
	expect(&f, 4, DIAG_ERROR, 4, 4, "n must be true or false");
	assert_int_equal(f.d.n, 5);
	fix_done(&f);
}

static void
test_get_ip(void **state)
{
	struct fix f;
	const struct ynode *r;
	uint32_t ip = 42;

	(void)state;
	fix_init(&f, "lo: 0.0.0.0\nhi: 255.255.255.255\nover: 255.255.255.256\n"
		     "a: 10.0.0.1\nbad: \"1.2.3.4\\n'x\"\nshort: 1.2.3\n");
	r = f.doc->root;
	assert_true(ys_get_ip(&f.c, r, "lo", "lo", 0, &ip));
	assert_int_equal(ip, 0);
	assert_true(ys_get_ip(&f.c, r, "hi", "hi", 0, &ip));
	assert_int_equal(ip, 0xffffffffu);
	assert_true(ys_get_ip(&f.c, r, "a", "a", YS_REQUIRED, &ip));
	assert_int_equal(ip, 0x0a000001u);
	assert_int_equal(f.d.n, 0);
	assert_false(ys_get_ip(&f.c, r, "over", "over", 0, &ip));
	assert_false(ys_get_ip(&f.c, r, "bad", "bad", 0, &ip));
	assert_false(ys_get_ip(&f.c, r, "short", "short", 0, &ip));
	assert_int_equal(ip, 0x0a000001u);
	expect(&f, 0, DIAG_ERROR, 3, 7,
	       "over: '255.255.255.256' is not an IPv4 address");
	expect(&f, 1, DIAG_ERROR, 5, 6,
	       "bad: '1.2.3.4\\x0a\\x27x' is not an IPv4 address");
	expect(&f, 2, DIAG_ERROR, 6, 8,
	       "short: '1.2.3' is not an IPv4 address");
	/* Absent: silent unless required. */
	assert_false(ys_get_ip(&f.c, r, "absent", "absent", 0, &ip));
	assert_int_equal(f.d.n, 3);
	assert_false(ys_get_ip(&f.c, r, "absent", "absent", YS_REQUIRED, &ip));
	expect(&f, 3, DIAG_ERROR, 1, 1, "absent is required");
	fix_done(&f);
}

static void
test_strdup(void **state)
{
	struct fix f;
	char *p;

	(void)state;
	fix_init(&f, "a: 1\n");
	assert_null(ys_strdup(&f.c, NULL));
	p = ys_strdup(&f.c, "abc");
	assert_string_equal(p, "abc");
	free(p);
	assert_int_equal(f.c.oom, 0);
	fix_done(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_warn),
		cmocka_unit_test(test_quote_plain),
		cmocka_unit_test(test_quote_hostile),
		cmocka_unit_test(test_quote_cap),
		cmocka_unit_test(test_quote_all_bytes),
		cmocka_unit_test(test_qnode),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_want_type),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_check_keys_nul),
		cmocka_unit_test(test_check_keys_not_map),
		cmocka_unit_test(test_get_scalar),
		cmocka_unit_test(test_get_bool),
		cmocka_unit_test(test_get_ip),
		cmocka_unit_test(test_strdup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
