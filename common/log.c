/* log.c - leveled logging to stderr. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int log_level = LOG_LEVEL_INFO;
static const char *log_ident = "metalboot";

void
log_set_level(int level)
{
	log_level = level;
}

void
log_set_ident(const char *ident)
{
	log_ident = ident;
}

static void log_vemit(int level, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
log_vemit(int level, int err, const char *fmt, va_list ap)
{
	static const char *names[] = { "fatal", "warning", "info", "debug" };
	char line[2048];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	/* One fprintf per line keeps lines whole when several write. */
	if (err < 0)
		fprintf(stderr, "%s: %s: %s: %s\n", log_ident, names[level],
			line, strerror(-err));
	else
		fprintf(stderr, "%s: %s: %s\n", log_ident, names[level], line);
}

void
log_emit(int level, int err, const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_LEVEL_FATAL || level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_INFO;
	va_start(ap, fmt);
	log_vemit(level, err, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_FATAL, 0, fmt, ap);
	va_end(ap);
	exit(2);
}
