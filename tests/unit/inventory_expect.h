/*
 * inventory_expect.h - the inventory tests' helpers: load an inventory
 * that must pass, find a diagnostic, and expect an error at FILE:LINE:COL.
 * Every inventory is parsed as "t.yaml" with the source tree's profiles.
 * Header-only; static functions (include after cmocka.h).
 */
#ifndef MB_TEST_INVENTORY_EXPECT_H
#define MB_TEST_INVENTORY_EXPECT_H

#include "inventory.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PROFILES MB_SOURCE_DIR "/profiles"

/* A minimal valid inventory; cases replace or add lines. */
#define HEAD                                                                   \
	"cluster:\n"                                                           \
	"  name: t\n"                                                          \
	"  kubernetes_version: v1.30.2\n"
#define NET                                                                    \
	"network:\n"                                                           \
	"  server_ip: 10.0.0.1\n"                                              \
	"  subnet: 10.0.0.0/24\n"
#define CP1                                                                    \
	"  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: 10.0.0.11, "          \
	"role: control-plane}\n"

static struct inventory *
load_ok(const char *yaml, struct diags *d)
{
	struct inventory *inv = NULL;
	int r;

	diags_init(d);
	r = inventory_parse("t.yaml", yaml, strlen(yaml), PROFILES, &inv, d);
	if (r != 0) {
		diags_print(d, stderr);
		diags_done(d);
		fail_msg("inventory_parse returned %d", r);
	}
	return inv;
}

/* The first diagnostic of severity sev that says frag, or NULL. */
static const struct diag *
find_diag(const struct diags *d, int sev, const char *frag)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if ((int)d->items[i].severity == sev &&
		    strstr(d->items[i].msg, frag) != NULL)
			return &d->items[i];
	return NULL;
}

/* The load fails and some diagnostic is at line:col and says frag. */
static void
expect_error(const char *yaml, unsigned line, unsigned col, const char *frag)
{
	struct inventory *inv = NULL;
	struct diags d;
	size_t i;
	int r;

	diags_init(&d);
	r = inventory_parse("t.yaml", yaml, strlen(yaml), PROFILES, &inv, &d);
	assert_int_equal(r, -EINVAL);
	assert_null(inv);
	for (i = 0; i < d.n; i++) {
		if (d.items[i].severity == DIAG_ERROR &&
		    d.items[i].line == line && d.items[i].col == col &&
		    strstr(d.items[i].msg, frag) != NULL &&
		    strcmp(d.items[i].file, "t.yaml") == 0)
			break;
	}
	if (i == d.n) {
		diags_print(&d, stderr);
		diags_done(&d);
		fail_msg("no error at %u:%u saying '%s'", line, col, frag);
	}
	diags_done(&d);
}

/*
 * As expect_error, and that error is the only one: a node whose role is
 * unknown is counted as no role, never as a control plane (which would
 * add a spurious "more than one control-plane node" error).
 */
static void
expect_sole_error(const char *yaml, unsigned line, unsigned col,
		  const char *frag)
{
	struct inventory *inv = NULL;
	struct diags d;

	expect_error(yaml, line, col, frag);
	diags_init(&d);
	assert_int_equal(inventory_parse("t.yaml", yaml, strlen(yaml), PROFILES,
					 &inv, &d),
			 -EINVAL);
	if (d.errors != 1) {
		unsigned n = (unsigned)d.errors;

		diags_print(&d, stderr);
		diags_done(&d);
		fail_msg("%u errors, want 1", n);
	}
	diags_done(&d);
}

#endif
