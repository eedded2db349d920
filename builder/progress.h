/*
 * progress.h - a one-line progress display (bytes, files, rate) for long
 * archive writes. It draws only when its stream is a terminal, at most
 * every PROGRESS_INTERVAL_MS, and is silent otherwise.
 */
#ifndef MB_PROGRESS_H
#define MB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PROGRESS_INTERVAL_MS 200 /* minimum time between two redraws */
#define PROGRESS_LABEL_MAX   48	 /* bytes of the label kept */

struct progress {
	FILE *f;    /* borrowed; NULL: disabled */
	bool tty;   /* draw only on a terminal */
	bool drawn; /* something is on the line */
	uint64_t bytes;
	uint64_t files;
	uint64_t start_ms;
	uint64_t last_ms;
	char label[PROGRESS_LABEL_MAX];
};

/*
 * Start a display on f (borrowed; NULL disables it) labelled with label.
 * It draws only when f is a terminal.
 */
void progress_init(struct progress *p, FILE *f, const char *label);

/* Count bytes and files done, redrawing when the interval has passed. */
void progress_add(struct progress *p, uint64_t bytes, uint64_t files);

/* Draw the final totals (on a terminal) and end the line. */
void progress_done(struct progress *p);

/* Format n bytes as "12.3 MiB" into buf of size len. */
void progress_fmt_bytes(char *buf, size_t len, double n);

#endif
