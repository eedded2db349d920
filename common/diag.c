/* diag.c - collected diagnostics. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
diags_init(struct diags *d)
{
	memset(d, 0, sizeof(*d));
}

void
diags_done(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	free(d->items);
	diags_init(d);
}

void
diags_add(struct diags *d, enum diag_severity sev, const char *file,
	  unsigned line, unsigned col, const char *fmt, ...)
{
	struct diag *it;
	va_list ap;
	char msg[512];

	if (sev == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag *p = realloc(d->items, cap * sizeof(*p));

		if (p == NULL) {
			d->oom = 1;
			return;
		}
		d->items = p;
		d->cap = cap;
	}
	it = &d->items[d->n];
	it->severity = sev;
	it->line = line;
	it->col = col;
	it->seq = d->n;
	it->file = strdup(file ? file : "-");
	it->msg = strdup(msg);
	if (it->file == NULL || it->msg == NULL) {
		free(it->file);
		free(it->msg);
		d->oom = 1;
		return;
	}
	d->n++;
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c != 0)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* Equal positions keep insertion order. */
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

void
diags_print(struct diags *d, FILE *f)
{
	diags_print_filtered(d, f, false);
}

void
diags_print_filtered(struct diags *d, FILE *f, bool errors_only)
{
	size_t i;

	if (d->n > 1)
		qsort(d->items, d->n, sizeof(*d->items), diag_cmp);
	for (i = 0; i < d->n; i++) {
		const struct diag *it = &d->items[i];
		const char *sev =
			it->severity == DIAG_ERROR ? "error" : "warning";

		if (errors_only && it->severity != DIAG_ERROR)
			continue;
		if (it->line > 0)
			fprintf(f, "%s:%u:%u: %s: %s\n", it->file, it->line,
				it->col, sev, it->msg);
		else
			fprintf(f, "%s: %s: %s\n", it->file, sev, it->msg);
	}
	if (d->oom)
		fprintf(f, "(some messages were lost: out of memory)\n");
}
