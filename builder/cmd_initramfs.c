/*
 * cmd_initramfs.c - "metalboot-build initramfs": one image from a base
 * tree or tarball and overlay directories.
 */
#include "initramfs.h"
#include "log.h"
#include "num.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD_OVERLAYS_MAX 64 /* --overlay flags accepted */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: metalboot-build initramfs --base DIR|TAR [--overlay "
		"DIR]... -o FILE\n"
		"                                 [--compress gzip|zstd|none] "
		"[--level N] [--jobs N] [-q]\n"
		"\n"
		"Write a Linux initramfs (cpio newc) holding the base root\n"
		"filesystem (a directory, or a tar, tar.gz or tar.zst file)\n"
		"and then each overlay directory, whose files win over the\n"
		"base's. Entries are sorted and mtimes clamped to\n"
		"$SOURCE_DATE_EPOCH, so equal inputs give equal images.\n"
		"\n"
		"  --base PATH       the root filesystem (required)\n"
		"  --overlay DIR     a tree added after the base (repeatable)\n"
		"  -o, --output FILE the image (replaced only on success)\n"
		"  --compress KIND   gzip, zstd (default) or none\n"
		"  --level N         compression level (default: the "
		"compressor's)\n"
		"  --jobs N          zstd with N threads (the same image for\n"
		"                    any N, not the single-threaded one)\n"
		"  -q, --quiet       no progress display\n"
		"  -h, --help        this text\n");
}

/*
 * Run the command; see initramfs.h.
 */
int
cmd_initramfs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "overlay", required_argument, NULL, 'O' },
		{ "output", required_argument, NULL, 'o' },
		{ "compress", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *overlays[CMD_OVERLAYS_MAX];
	const char *base = NULL, *out = NULL;
	struct initramfs_opts io = { .compress = INITRAMFS_ZSTD };
	struct initramfs *w = NULL;
	struct progress prog;
	char err[INITRAMFS_ERR_MAX];
	size_t noverlays = 0, i;
	bool quiet = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			base = optarg;
			break;
		case 'O':
			if (noverlays == CMD_OVERLAYS_MAX) {
				fprintf(stderr,
					"metalboot-build: --overlay: at most "
					"%d\n",
					CMD_OVERLAYS_MAX);
				return 1;
			}
			overlays[noverlays++] = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			if (initramfs_parse_compress(optarg, &io.compress) <
			    0) {
				fprintf(stderr,
					"metalboot-build: --compress: '%s' is "
					"not gzip, zstd or none\n",
					optarg);
				return 1;
			}
			break;
		case 'l':
			if (num_parse_int(optarg, 1, 22, &io.level) < 0) {
				fprintf(stderr,
					"metalboot-build: --level: '%s' is "
					"not a number from 1 to 22\n",
					optarg);
				return 1;
			}
			break;
		case 'j':
			if (num_parse_int(optarg, 1, INITRAMFS_THREADS_MAX,
					  &io.threads) < 0) {
				fprintf(stderr,
					"metalboot-build: --jobs: '%s' is not "
					"a number from 1 to %d\n",
					optarg, INITRAMFS_THREADS_MAX);
				return 1;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr,
			"metalboot-build: initramfs: unexpected "
			"argument '%s'\n",
			argv[optind]);
		return 1;
	}
	if (base == NULL || out == NULL) {
		fprintf(stderr, "metalboot-build: initramfs: %s is required\n",
			base == NULL ? "--base" : "-o");
		return 1;
	}
	if (io.compress == INITRAMFS_GZIP && io.level > 9) {
		fprintf(stderr, "metalboot-build: --level: gzip takes 1 to "
				"9\n");
		return 1;
	}
	if (initramfs_env_epoch(&io.epoch) < 0) {
		fprintf(stderr, "metalboot-build: SOURCE_DATE_EPOCH is not a "
				"number of seconds\n");
		return 1;
	}
	progress_init(&prog, quiet ? NULL : stderr, out);
	io.progress = &prog;
	r = initramfs_open(out, &io, &w, err, sizeof(err));
	if (r < 0)
		goto fail;
	r = initramfs_add_tree(w, base, 0);
	for (i = 0; r == 0 && i < noverlays; i++)
		r = initramfs_add_tree(w, overlays[i], 0);
	if (r < 0) {
		snprintf(err, sizeof(err), "%s", initramfs_error(w));
		initramfs_abort(w);
		goto fail;
	}
	r = initramfs_commit(w, err, sizeof(err));
	if (r < 0)
		goto fail;
	if (!quiet && prog.tty)
		fprintf(stderr, "metalboot-build: wrote %s\n", out);
	return 0;
fail:
	fprintf(stderr, "metalboot-build: initramfs: %s\n", err);
	return r == -ENOMEM ? 2 : 1;
}
