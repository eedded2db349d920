/* test_common_yload.c - the YAML loader and its positions and caps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "yload.h"

static struct ydoc *
parse_ok(const char *s)
{
	struct ydoc *doc = NULL;
	struct yerror err;

	if (ydoc_parse("t.yaml", s, strlen(s), &doc, &err) != 0)
		fail_msg("%u:%u: %s", err.line, err.col, err.msg);
	return doc;
}

static void
parse_bad(const char *s, unsigned line, const char *frag)
{
	struct ydoc *doc = NULL;
	struct yerror err;

	assert_int_equal(ydoc_parse("t.yaml", s, strlen(s), &doc, &err),
			 -EINVAL);
	assert_null(doc);
	if (strstr(err.msg, frag) == NULL)
		fail_msg("message '%s' lacks '%s'", err.msg, frag);
	assert_int_equal(err.line, line);
}

static void
test_positions(void **state)
{
	struct ydoc *doc;
	struct ynode *m, *v;

	(void)state;
	doc = parse_ok("a: 1\nb:\n  c: [x, \"null\", null]\n");
	m = doc->root;
	assert_int_equal(m->type, YNODE_MAP);
	assert_int_equal(m->n, 2);
	v = ynode_get(m, "b");
	assert_non_null(v);
	v = ynode_get(v, "c");
	assert_int_equal(v->type, YNODE_SEQ);
	assert_int_equal(v->line, 3);
	assert_int_equal(v->col, 6);
	assert_int_equal(v->n, 3);
	assert_int_equal(v->items[1]->line, 3);
	assert_int_equal(v->items[1]->col, 10);
	assert_false(ynode_is_null(v->items[1])); /* quoted "null" */
	assert_true(ynode_is_null(v->items[2]));
	assert_null(ynode_get(m, "zz"));
	assert_null(ynode_get(v, "a")); /* not a mapping */
	ydoc_free(doc);
	/* An empty document has no root. */
	doc = parse_ok("");
	assert_null(doc->root);
	ydoc_free(doc);
	assert_null(ydoc_free(NULL));
}

static void
test_refusals(void **state)
{
	char *deep;
	size_t i;

	(void)state;
	parse_bad("a: 1\na: 2\n", 2, "duplicate key 'a'");
	parse_bad("a: &x 1\nb: *x\n", 2, "aliases");
	parse_bad("a: 1\n---\nb: 2\n", 2, "only one YAML document");
	parse_bad("a: [1, 2\n", 2, "");
	parse_bad("? [1]\n: 2\n", 1, "mapping keys must be scalars");
	parse_bad("a: \"\\xZZ\"\n", 1, "");
	/* Nesting past the cap. */
	deep = malloc(200);
	assert_non_null(deep);
	for (i = 0; i < 100; i++)
		deep[i] = '[';
	deep[100] = '\0';
	parse_bad(deep, 1, "nesting deeper");
	free(deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
