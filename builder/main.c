/*
 * metalboot-build - turn a cluster inventory into everything the fleet
 * needs. This file only parses the command line and dispatches.
 */
#include "diag.h"
#include "initramfs.h"
#include "inventory.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: metalboot-build validate CLUSTER.yaml\n"
		"       metalboot-build build CLUSTER.yaml -o OUT [--base "
		"ROOTFS] "
		"[--kernel FILE] [--jobs N]\n"
		"       metalboot-build iso CLUSTER.yaml NODE -o FILE.iso\n"
		"       metalboot-build initramfs --base DIR|TAR [--overlay "
		"DIR]... -o FILE\n"
		"                                 [--compress gzip|zstd|none]\n"
		"\n"
		"validate  check an inventory; every problem is printed as\n"
		"          FILE:LINE:COL: message. Exit 0 when valid, 1 when "
		"not.\n"
		"\n"
		"options:\n"
		"  --profiles DIR  role profiles (default: $METALBOOT_PROFILES "
		"or "
		"the installed ones)\n"
		"  -q, --quiet     print errors only\n"
		"  -h, --help      this text\n"
		"  --version       print the version\n");
}

static int
cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profiles", required_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profiles = NULL;
	struct inventory *inv = NULL;
	struct diags d;
	bool quiet = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			profiles = optarg;
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
	if (argc - optind != 1) {
		fprintf(stderr, "metalboot-build: validate takes one "
				"inventory file\n");
		return 1;
	}
	diags_init(&d);
	r = inventory_load(argv[optind], profiles, &inv, &d);
	diags_print(&d, stderr);
	if (r == -ENOMEM) {
		fprintf(stderr, "metalboot-build: out of memory\n");
		diags_done(&d);
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "%s: %zu error(s), %zu warning(s)\n",
			argv[optind], d.errors, d.warnings);
		diags_done(&d);
		return 1;
	}
	if (!quiet)
		printf("%s: ok: cluster %s, Kubernetes %s, %zu node(s): %zu "
		       "control-plane, %zu worker, %zu etcd\n",
		       argv[optind], inv->cluster.name,
		       inv->cluster.kubernetes_version, inv->nnodes,
		       inventory_count_role(inv, ROLE_CONTROL_PLANE),
		       inventory_count_role(inv, ROLE_WORKER),
		       inventory_count_role(inv, ROLE_ETCD));
	inventory_free(inv);
	diags_done(&d);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	log_set_ident("metalboot-build");
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("metalboot-build %s\n", METALBOOT_VERSION);
		return 0;
	}
	if (strcmp(cmd, "validate") == 0)
		return cmd_validate(argc - 1, argv + 1);
	if (strcmp(cmd, "initramfs") == 0)
		return cmd_initramfs(argc - 1, argv + 1);
	fprintf(stderr, "metalboot-build: unknown command '%s' (try --help)\n",
		cmd);
	return 1;
}
