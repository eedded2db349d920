/*
 * diag.h - a list of diagnostics ("FILE:LINE:COL: error: message"), so a
 * check can report every problem in an input rather than stop at the
 * first one.
 */
#ifndef MB_DIAG_H
#define MB_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag {
	enum diag_severity severity;
	char *file; /* owned */
	unsigned line, col;
	char *msg;  /* owned */
	size_t seq; /* insertion order, for a stable sort */
};

struct diags {
	struct diag *items;
	size_t n, cap;
	size_t errors, warnings;
	int oom; /* set when a message could not be stored */
};

void diags_init(struct diags *d);
void diags_done(struct diags *d);

/* Record one diagnostic. line 0 means "no position" (file only). */
void diags_add(struct diags *d, enum diag_severity sev, const char *file,
	       unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Sort by file, line, column (stable) and print each on its own line. */
void diags_print(struct diags *d, FILE *f);
/* The same, with only the errors when errors_only (for --quiet). */
void diags_print_filtered(struct diags *d, FILE *f, bool errors_only);

#endif
