/*
 * iso_bench.c - per-ISO cost of builder/iso.c, the way cloud-localds works:
 * read user-data, meta-data and network-config, write a cidata ISO file.
 * Usage: iso_bench N OUT.iso USER-DATA META-DATA NETWORK-CONFIG
 * Prints the mean milliseconds per ISO. Built by bench/build.sh.
 */
#include "fsutil.h"
#include "iso.h"
#include "num.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_INPUT (16u << 20)

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "user-data", "meta-data",
					     "network-config" };
	struct iso_file f[3];
	char *data[3] = { NULL, NULL, NULL };
	size_t len[3];
	double t0;
	int i, j, n, fd;

	if (argc != 6 || num_parse_int(argv[1], 1, 1000000, &n) < 0) {
		fprintf(stderr, "usage: iso_bench N OUT.iso USER-DATA "
				"META-DATA NETWORK-CONFIG\n");
		return 1;
	}
	/* As metalboot-build does. */
	iso_setup_process();
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		struct buf b;

		for (j = 0; j < 3; j++) {
			free(data[j]);
			if (read_file(argv[3 + j], BENCH_MAX_INPUT, &data[j],
				      &len[j]) < 0) {
				perror(argv[3 + j]);
				return 1;
			}
			f[j].name = names[j];
			f[j].data = data[j];
			f[j].len = len[j];
			f[j].mode = 0644;
		}
		buf_init(&b, ISO_MAX_SIZE);
		if (iso_write(f, 3, 1700000000, &b) < 0) {
			fprintf(stderr, "iso_write failed\n");
			return 1;
		}
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
		if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len ||
		    close(fd) < 0) {
			perror(argv[2]);
			return 1;
		}
		buf_done(&b);
	}
	printf("%.3f\n", (now_ms() - t0) / n);
	for (j = 0; j < 3; j++)
		free(data[j]);
	return 0;
}
