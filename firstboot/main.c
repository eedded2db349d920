/*
 * metalboot-firstboot - prepare a node and join it to the cluster.
 *
 * This version parses and checks its command line only; the planner and
 * executor land with the agent work (see README.md, "Status").
 */
#include "log.h"
#include "net.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: metalboot-firstboot --config FILE [--root DIR] "
		"[--dry-run]\n"
		"       metalboot-firstboot --server URL [--mac MAC] [--root "
		"DIR] [--ca FILE]\n"
		"\n"
		"Note: this version checks its flags and exits; the agent "
		"is not part of it yet.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 's' },
		{ "mac", required_argument, NULL, 'm' },
		{ "root", required_argument, NULL, 'r' },
		{ "ca", required_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *server = NULL;
	uint8_t mac[MAC_LEN];
	int c;

	log_set_ident("metalboot-firstboot");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			server = optarg;
			break;
		case 'm':
			if (mac_parse(optarg, mac) < 0) {
				fprintf(stderr,
					"metalboot-firstboot: --mac: "
					"'%s' is not a MAC address\n",
					optarg);
				return 1;
			}
			break;
		case 'r':
		case 'C':
		case 'n':
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("metalboot-firstboot %s\n", METALBOOT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if ((config == NULL) == (server == NULL)) {
		fprintf(stderr, "metalboot-firstboot: give exactly one of "
				"--config or --server\n");
		return 1;
	}
	fprintf(stderr, "metalboot-firstboot: the agent is not part of this "
			"version\n");
	return 2;
}
