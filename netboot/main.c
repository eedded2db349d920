/*
 * metalboot-netboot - DHCP, TFTP and HTTP(S) for netbooting the fleet.
 *
 * This version parses and checks its command line only; the servers land
 * with the TFTP, DHCP and HTTP work (see README.md, "Status").
 */
#include "log.h"
#include "num.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: metalboot-netboot --config OUT/netboot.yaml [--listen "
		"ADDR] "
		"[--dhcp full|proxy|off]\n"
		"                         [--tftp-port N] [--http-port N] "
		"[--state-dir DIR]\n"
		"       metalboot-netboot --root DIR [--listen ADDR] "
		"[--tftp-port "
		"N] [--http-port N] --dhcp off\n"
		"\n"
		"Note: this version checks its flags and exits; the DHCP, TFTP "
		"and HTTP\n"
		"servers are not part of it yet.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "dhcp", required_argument, NULL, 'd' },
		{ "tftp-port", required_argument, NULL, 't' },
		{ "http-port", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *root = NULL;
	int c, port;

	log_set_ident("metalboot-netboot");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'l':
		case 's':
			break;
		case 'd':
			if (strcmp(optarg, "full") != 0 &&
			    strcmp(optarg, "proxy") != 0 &&
			    strcmp(optarg, "off") != 0) {
				fprintf(stderr, "metalboot-netboot: --dhcp "
						"must be full, proxy or off\n");
				return 1;
			}
			break;
		case 't':
		case 'p':
			if (num_parse_int(optarg, 1, 65535, &port) < 0) {
				fprintf(stderr,
					"metalboot-netboot: --%s: '%s' "
					"is not a port (1-65535)\n",
					c == 't' ? "tftp-port" : "http-port",
					optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("metalboot-netboot %s\n", METALBOOT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if ((config == NULL) == (root == NULL)) {
		fprintf(stderr, "metalboot-netboot: give exactly one of "
				"--config or --root\n");
		return 1;
	}
	fprintf(stderr, "metalboot-netboot: serving is not part of this "
			"version\n");
	return 2;
}
