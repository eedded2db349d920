/* progress.c - one-line progress display; see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Format n bytes with a binary unit. The buffer is always terminated.
 */
void
progress_fmt_bytes(char *buf, size_t len, double n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (n >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		n /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", n, units[u]);
	else
		snprintf(buf, len, "%.1f %s", n, units[u]);
}

static void
draw(struct progress *p, uint64_t t)
{
	char done[32], rate[32];
	double secs = (double)(t - p->start_ms) / 1000.0;

	progress_fmt_bytes(done, sizeof(done), (double)p->bytes);
	progress_fmt_bytes(rate, sizeof(rate),
			   secs > 0 ? (double)p->bytes / secs : 0);
	fprintf(p->f, "\r\033[K%s: %s, %llu files, %s/s", p->label, done,
		(unsigned long long)p->files, rate);
	fflush(p->f);
	p->drawn = true;
	p->last_ms = t;
}

/*
 * Start a display. Nothing is drawn until the first interval has passed,
 * so that quick jobs print nothing at all.
 */
void
progress_init(struct progress *p, FILE *f, const char *label)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->tty = f != NULL && isatty(fileno(f));
	snprintf(p->label, sizeof(p->label), "%s", label ? label : "");
	p->start_ms = now_ms();
	p->last_ms = p->start_ms;
}

/*
 * Count work done; redraw when on a terminal and the interval has passed.
 */
void
progress_add(struct progress *p, uint64_t bytes, uint64_t files)
{
	uint64_t t;

	if (p == NULL)
		return;
	p->bytes += bytes;
	p->files += files;
	if (!p->tty)
		return;
	t = now_ms();
	if (t - p->last_ms >= PROGRESS_INTERVAL_MS)
		draw(p, t);
}

/*
 * Draw the totals once more and end the line, only if something was
 * drawn before (a short job leaves the terminal untouched).
 */
void
progress_done(struct progress *p)
{
	if (p == NULL || !p->tty || !p->drawn)
		return;
	draw(p, now_ms());
	fputc('\n', p->f);
	fflush(p->f);
	p->drawn = false;
}
