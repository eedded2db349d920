/*
 * metalboot-build - turn a cluster inventory into everything the fleet
 * needs. This file only parses the command line and dispatches.
 */
#include "build.h"
#include "diag.h"
#include "initramfs.h"
#include "inventory.h"
#include "log.h"
#include "num.h"
#include "render.h"
#include "secureboot.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: metalboot-build validate CLUSTER.yaml [--apt-repo URL] "
		"[--rpm-repo URL]\n"
		"       metalboot-build build CLUSTER.yaml -o OUT [--base "
		"ROOTFS] "
		"[--kernel FILE] [--jobs N]\n"
		"                             [--rotate] [--new-token] "
		"[--apt-repo URL] "
		"[--rpm-repo URL]\n"
		"                             [--shim FILE] [--grub FILE]\n"
		"       metalboot-build iso CLUSTER.yaml NODE -o FILE.iso "
		"[--from OUT] [--apt-repo URL]\n"
		"                             [--rpm-repo URL]\n"
		"       metalboot-build initramfs --base DIR|TAR [--overlay "
		"DIR]... -o FILE\n"
		"                                 [--compress gzip|zstd|none]\n"
		"\n"
		"validate  check an inventory; every problem is printed as\n"
		"          FILE:LINE:COL: message. Exit 0 when valid, 1 when "
		"not.\n"
		"\n"
		"build     write OUT (see DESIGN.md): PKI and join secrets "
		"(reused\n"
		"          from OUT/pki and OUT/secrets unless --rotate), "
		"per-node\n"
		"          payloads, NoCloud ISOs, boot scripts, netboot.yaml, "
		"SHA256SUMS.\n"
		"          Built beside OUT and swapped in; SOURCE_DATE_EPOCH "
		"pins dates.\n"
		"          With --base, node images; metalboot-firstboot is "
		"taken from\n"
		"          $METALBOOT_AGENT, EXEDIR/../firstboot/ or EXEDIR/.\n"
		"iso       one node's NoCloud seed ISO; --from OUT uses that "
		"build's\n"
		"          PKI and secrets (without it, new ones are made for "
		"this ISO).\n"
		"\n"
		"options:\n"
		"  --profiles DIR  role profiles (default: $METALBOOT_PROFILES "
		"or "
		"the installed ones)\n"
		"  --jobs N        build: nodes built in parallel (default: "
		"one "
		"per CPU)\n"
		"  --apt-repo URL  validate, build, iso: the Kubernetes apt "
		"repository\n"
		"                  cloud-init uses on Debian-family nodes (a "
		"mirror;\n"
		"                  default: pkgs.k8s.io for the version, v1.24 "
		"and later)\n"
		"  --rpm-repo URL  the same for RHEL-family nodes (with\n"
		"                  repodata/repomd.xml.key)\n"
		"  --shim FILE     build: the signed shim for secure_boot "
		"nodes\n"
		"                  (default: " SB_SHIM_DEFAULT ")\n"
		"  --grub FILE     build: the signed network GRUB shim loads\n"
		"                  (default: " SB_GRUB_DEFAULT ")\n"
		"  --rotate        build: new PKI and secrets even when OUT "
		"has "
		"them\n"
		"  --new-token     build: a new bootstrap token, valid "
		"cluster.token_ttl;\n"
		"                  apply OUT/secrets/bootstrap-token.yaml "
		"with kubectl\n"
		"                  so that nodes added later can join\n"
		"  -q, --quiet     print errors only\n"
		"  -h, --help      this text\n"
		"  --version       print the version\n");
}

/*
 * --apt-repo (c 'A') or --rpm-repo ('Y') into *apt or *rpm: false after
 * an error message.
 */
static bool
repo_opt(int c, const char *arg, const char **apt, const char **rpm)
{
	if (!render_apt_repo_valid(arg)) {
		fprintf(stderr,
			"metalboot-build: %s: '%s' is not an http(s) URL "
			"ending in '/' (without spaces or quotes)\n",
			c == 'A' ? "--apt-repo" : "--rpm-repo", arg);
		return false;
	}
	*(c == 'A' ? apt : rpm) = arg;
	return true;
}

static int
cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profiles", required_argument, NULL, 'P' },
		{ "apt-repo", required_argument, NULL, 'A' },
		{ "rpm-repo", required_argument, NULL, 'Y' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profiles = NULL, *apt_repo = NULL, *rpm_repo = NULL;
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
		case 'A':
		case 'Y':
			if (!repo_opt(c, optarg, &apt_repo, &rpm_repo))
				return 1;
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
	if (r == 0) {
		r = render_check_repos(inv, apt_repo, rpm_repo, &d);
		if (r < 0)
			inv = inventory_free(inv);
	}
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

/* Exit code for a build/iso result: 0, 1 (the input), 2 (internal). */
static int
exit_code(int r, struct diags *d, bool quiet)
{
	diags_print_filtered(d, stderr, quiet);
	if (r == 0)
		return 0;
	if (r == -EINVAL && d->errors > 0)
		return 1;
	if (d->errors == 0)
		fprintf(stderr, "metalboot-build: %s\n", strerror(-r));
	return 2;
}

static int
cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "base", required_argument, NULL, 'b' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "rotate", no_argument, NULL, 'R' },
		{ "new-token", no_argument, NULL, 'T' },
		{ "apt-repo", required_argument, NULL, 'A' },
		{ "rpm-repo", required_argument, NULL, 'Y' },
		{ "profiles", required_argument, NULL, 'P' },
		{ "shim", required_argument, NULL, 'S' },
		{ "grub", required_argument, NULL, 'G' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false;
	struct build_opts o;
	struct diags d;
	int c, r;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:j:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'b':
			o.base = optarg;
			break;
		case 'k':
			o.kernel = optarg;
			break;
		case 'j':
			if (num_parse_int(optarg, 1, BUILD_MAX_JOBS, &o.jobs) <
			    0) {
				fprintf(stderr,
					"metalboot-build: --jobs: '%s' is "
					"not a number within 1-%d\n",
					optarg, BUILD_MAX_JOBS);
				return 1;
			}
			break;
		case 'R':
			o.rotate = true;
			break;
		case 'T':
			o.new_token = true;
			break;
		case 'A':
		case 'Y':
			if (!repo_opt(c, optarg, &o.apt_repo, &o.rpm_repo))
				return 1;
			break;
		case 'P':
			o.profiles = optarg;
			break;
		case 'S':
			o.shim = optarg;
			break;
		case 'G':
			o.grub = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 1 || o.out == NULL) {
		fprintf(stderr, "metalboot-build: build takes one inventory "
				"file and -o OUT\n");
		return 1;
	}
	r = build_epoch(&o.epoch);
	o.epoch_set = r == 1;
	if (r < 0) {
		fprintf(stderr, "metalboot-build: SOURCE_DATE_EPOCH is not a "
				"number of seconds\n");
		return 1;
	}
	o.inventory = argv[optind];
	diags_init(&d);
	r = build_run(&o, &d);
	r = exit_code(r, &d, quiet);
	diags_done(&d);
	return r;
}

static int
cmd_iso(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "from", required_argument, NULL, 'F' },
		{ "apt-repo", required_argument, NULL, 'A' },
		{ "rpm-repo", required_argument, NULL, 'Y' },
		{ "profiles", required_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *from = NULL, *profiles = NULL;
	const char *apt_repo = NULL, *rpm_repo = NULL;
	struct diags d;
	bool fresh = false, quiet = false;
	time_t epoch;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'F':
			from = optarg;
			break;
		case 'A':
		case 'Y':
			if (!repo_opt(c, optarg, &apt_repo, &rpm_repo))
				return 1;
			break;
		case 'P':
			profiles = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 2 || out == NULL) {
		fprintf(stderr, "metalboot-build: iso takes an inventory, a "
				"node name and -o FILE.iso\n");
		return 1;
	}
	r = build_epoch(&epoch);
	if (r < 0) {
		fprintf(stderr, "metalboot-build: SOURCE_DATE_EPOCH is not a "
				"number of seconds\n");
		return 1;
	}
	diags_init(&d);
	r = build_iso(argv[optind], profiles, argv[optind + 1], from, out,
		      r == 1 ? &epoch : NULL, apt_repo, rpm_repo, &fresh, &d);
	if (r == 0 && fresh)
		fprintf(stderr,
			"metalboot-build: warning: no --from OUT: this ISO "
			"holds new cluster secrets that no other node "
			"shares\n");
	r = exit_code(r, &d, quiet);
	diags_done(&d);
	return r;
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
	if (strcmp(cmd, "build") == 0)
		return cmd_build(argc - 1, argv + 1);
	if (strcmp(cmd, "iso") == 0)
		return cmd_iso(argc - 1, argv + 1);
	if (strcmp(cmd, "initramfs") == 0)
		return cmd_initramfs(argc - 1, argv + 1);
	fprintf(stderr, "metalboot-build: unknown command '%s' (try --help)\n",
		cmd);
	return 1;
}
