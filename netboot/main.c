/*
 * metalboot-netboot - DHCP, TFTP and HTTP(S) for netbooting the fleet.
 *
 * main() reads the command line and netboot.yaml (or serves a bare
 * directory with --root), fills the shared struct netboot (server.h),
 * creates the one event_base, starts every service in the services[] table
 * below and runs the loop until SIGINT or SIGTERM. The signals are handled
 * as loop events, so shutdown happens between callbacks: each service's
 * stop() runs after the loop has returned, in reverse order.
 */
#include "config.h"
#include "dhcp_io.h"
#include "diag.h"
#include "fsutil.h"
#include "http_io.h"
#include "log.h"
#include "net.h"
#include "num.h"
#include "privdrop.h"
#include "server.h"
#include "store_io.h"
#include "tftp_io.h"
#include "workers.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The services, started in this order and stopped in reverse. Other
 * services start here: the HTTP(S) and DHCP services each add one line.
 */
static const struct nb_service services[] = {
	{ "store", store_io_start, store_io_stop },
	{ "tftp", tftp_io_start, tftp_io_stop },
	{ "dhcp", dhcp_io_start, dhcp_io_stop },
	{ "http", http_io_start, http_io_stop },
	/* Last to start, first to stop: the services above hand work to
	 * the worker loops, which are joined before they stop. */
	{ "workers", nb_workers_start, nb_workers_stop },
};

#define NSERVICES (sizeof(services) / sizeof(services[0]))

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: metalboot-netboot --config OUT/netboot.yaml "
		"[--listen ADDR] [--dhcp full|proxy|off]\n"
		"                         [--tftp-port N] [--http-port N] "
		"[--https-port N] [--state-dir DIR]\n"
		"                         [--user NAME]\n"
		"       metalboot-netboot --root DIR [--listen ADDR] "
		"[--tftp-port N] [--http-port N] --dhcp off\n"
		"       metalboot-netboot --check-dhcp IFACE\n"
		"\n"
		"  --config FILE            netboot.yaml written by "
		"metalboot-build\n"
		"  --root DIR               serve DIR over TFTP and "
		"/files/ (no DHCP)\n"
		"  --listen ADDR            IPv4 address to listen on "
		"(default: netboot.yaml's, or all)\n"
		"  --dhcp MODE              full, proxy or off\n"
		"  --tftp-port N            TFTP port (default 69; 0 "
		"disables TFTP)\n"
		"  --http-port N            HTTP port (default 80; 0 "
		"disables HTTP)\n"
		"  --https-port N           HTTPS port (default 443 with "
		"--config; 0 disables)\n"
		"  --state-dir DIR          leases and node states\n"
		"  --user NAME              run as NAME once the ports are "
		"bound (default " PRIVDROP_USER_DEFAULT ";\n"
		"                           root: stay root, with a "
		"warning)\n"
		"  --check-dhcp IFACE       list the DHCP servers answering "
		"on IFACE and exit\n"
		"                           (0: none, 3: one offers "
		"addresses, 4: only proxyDHCP)\n"
		"  --tftp-max-transfers N   concurrent TFTP transfers "
		"(default %d)\n"
		"  --tftp-max-per-client N  concurrent TFTP transfers per "
		"client address (default %d)\n" HTTP_LIMIT_USAGE DHCP_IO_USAGE
		"  --workers N              TFTP transfers and HTTP file "
		"bodies on N worker\n"
		"                           loops; 1 = the one loop, 0 = one "
		"per online CPU\n"
		"                           (default: netboot.yaml's, 0)\n"
		"  -v, --verbose            log at debug level\n"
		"  -h, --help               this text\n"
		"  --version                print the version\n",
		TFTP_MAX_TRANSFERS_DEFAULT, TFTP_MAX_PER_CLIENT_DEFAULT);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct netboot *nb = arg;

	(void)what;
	log_info("%s received, shutting down",
		 sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopexit(nb->base, NULL);
}

static int
parse_port(const char *flag, const char *s, uint16_t *ret)
{
	int v;

	if (num_parse_int(s, 0, 65535, &v) < 0) {
		fprintf(stderr,
			"metalboot-netboot: --%s: '%s' is not a port "
			"(0-65535)\n",
			flag, s);
		return -EINVAL;
	}
	*ret = (uint16_t)v;
	return 0;
}

static int
parse_count(const char *flag, const char *s, unsigned max, unsigned *ret)
{
	int v;

	if (num_parse_int(s, 1, (int)max, &v) < 0) {
		fprintf(stderr, "metalboot-netboot: --%s: '%s' is not 1-%u\n",
			flag, s, max);
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

/* Fill nb from netboot.yaml; flags given on the command line win later. */
static int
load_config(struct netboot *nb, const char *path)
{
	struct diags d;
	int r;

	diags_init(&d);
	r = nb_config_load(path, &nb->cfg, &d);
	diags_print(&d, stderr);
	diags_done(&d);
	if (r < 0)
		return r;
	nb->root_dir = strdup(nb->cfg->public_dir);
	nb->state_dir = strdup(nb->cfg->state_dir);
	if (nb->root_dir == NULL || nb->state_dir == NULL)
		return -ENOMEM;
	nb->listen_ip = nb->cfg->listen;
	nb->tftp_port = nb->cfg->tftp_port;
	nb->http_port = nb->cfg->http_port;
	nb->https_port = nb->cfg->https_port;
	nb->dhcp = nb->cfg->dhcp.mode;
	nb->tftp_max_per_file = nb->cfg->tftp_max_per_file;
	nb->http_max_per_file = nb->cfg->http_max_per_file;
	nb->nworkers = nb->cfg->workers;
	return 0;
}

static void
netboot_done(struct netboot *nb)
{
	if (nb->sig_int != NULL)
		event_free(nb->sig_int);
	if (nb->sig_term != NULL)
		event_free(nb->sig_term);
	nb_workers_free(nb); /* its owner mailbox is on nb->base */
	if (nb->base != NULL)
		event_base_free(nb->base);
	if (nb->root_fd >= 0)
		close(nb->root_fd);
	nb_config_free(nb->cfg);
	free(nb->root_dir);
	free(nb->state_dir);
}

/* Flags that override netboot.yaml, kept until the file is read. */
struct overrides {
	const char *listen, *state_dir;
	int dhcp; /* -1: not given */
	uint16_t tftp_port, http_port, https_port;
	bool tftp_set, http_set, https_set;
};

static int
apply_overrides(struct netboot *nb, const struct overrides *o)
{
	if (o->listen != NULL && ipv4_parse(o->listen, &nb->listen_ip) < 0) {
		fprintf(stderr,
			"metalboot-netboot: --listen: '%s' is not an IPv4 "
			"address\n",
			o->listen);
		return -EINVAL;
	}
	if (o->state_dir != NULL) {
		free(nb->state_dir);
		nb->state_dir = strdup(o->state_dir);
		if (nb->state_dir == NULL)
			return -ENOMEM;
	}
	if (o->dhcp >= 0)
		nb->dhcp = (enum dhcp_mode)o->dhcp;
	if (o->tftp_set)
		nb->tftp_port = o->tftp_port;
	if (o->http_set)
		nb->http_port = o->http_port;
	if (o->https_set)
		nb->https_port = o->https_port;
	return 0;
}

/*
 * Privilege drop (privdrop.h). Started as root, the daemon binds its
 * ports, then runs as --user (PRIVDROP_USER_DEFAULT): its state dir given
 * to that user, its files confined by Landlock to OUT (read) and the
 * state dir (read-write), and only the capability DHCP still needs.
 */
struct nb_priv {
	const char *user; /* --user, else PRIVDROP_USER_DEFAULT */
	bool explicit;	  /* --user given */
	enum privdrop_mode mode;
	uid_t uid;
	gid_t gid;
};

/*
 * LeakSanitizer reads /proc/self/maps and ptraces the process at exit:
 * sanitizer builds (tests only) keep /proc readable and the process
 * dumpable.
 */
#if defined(__SANITIZE_ADDRESS__)
#define NB_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NB_SANITIZED 1
#endif
#endif
#ifndef NB_SANITIZED
#define NB_SANITIZED 0
#endif

/*
 * Before anything is bound: find the user, or say how to make it. Returns
 * 0, or 1 (the exit status) after a message.
 */
static int
priv_resolve(struct nb_priv *p)
{
	struct passwd *pw;
	int r;

	errno = 0;
	pw = getpwnam(p->user);
	r = privdrop_plan(geteuid(), p->explicit, pw, &p->mode);
	if (r == -ENOENT) {
		fprintf(stderr,
			"metalboot-netboot: user '%s' does not exist; create "
			"it (useradd --system --no-create-home --home-dir "
			"/nonexistent --shell /usr/sbin/nologin %s) and give "
			"it OUT and the state dir (chown -R %s: OUT STATE), "
			"or name another with --user NAME (--user root stays "
			"root)\n",
			p->user, p->user, p->user);
		return 1;
	}
	if (r == -EPERM) {
		fprintf(stderr,
			"metalboot-netboot: user '%s' is uid 0: no privilege "
			"would be dropped; give --user root to mean it\n",
			p->user);
		return 1;
	}
	if (pw != NULL) {
		p->uid = pw->pw_uid;
		p->gid = pw->pw_gid;
	}
	if (p->mode == PRIVDROP_MODE_ROOT)
		log_warn("running as root for the whole run (--user root): "
			 "a flaw in DHCP, TFTP or HTTP handling would give "
			 "the host away");
	return 0;
}

/* nftw() context of priv_check_tree (nftw has no user pointer). */
static struct {
	uid_t uid;
	gid_t gid;
	char bad[PATH_MAX];
	struct stat st;
} priv_walk;

static int
priv_walk_one(const char *path, const struct stat *st, int type,
	      struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	if (privdrop_can_read(st, priv_walk.uid, priv_walk.gid))
		return 0;
	snprintf(priv_walk.bad, sizeof(priv_walk.bad), "%s", path);
	priv_walk.st = *st;
	return 1;
}

/*
 * The node payloads (0600, written by the builder) must be readable by
 * the user once root is gone. 0, or 1 after a message naming the file.
 */
static int
priv_check_tree(const struct nb_priv *p, const char *dir)
{
	struct stat st;

	if (dir == NULL || stat(dir, &st) < 0)
		return 0;
	priv_walk.uid = p->uid;
	priv_walk.gid = p->gid;
	if (nftw(dir, priv_walk_one, 16, FTW_PHYS) != 1)
		return 0;
	fprintf(stderr,
		"metalboot-netboot: %s: not readable by user %s (owner uid "
		"%u, mode %03o); give OUT to it: chown -R %s: OUT\n",
		priv_walk.bad, p->user, (unsigned)priv_walk.st.st_uid,
		(unsigned)(priv_walk.st.st_mode & 0777), p->user);
	return 1;
}

/*
 * The state dir is the daemon's: create it, and give it (and what the
 * services wrote there at start) to the user. 0, or 1 after a message.
 */
static int
priv_own_state(const struct nb_priv *p, const char *state_dir)
{
	char bad[PATH_MAX];
	size_t changed = 0;
	int r;

	if (state_dir == NULL)
		return 0;
	r = mkdir_p(state_dir, 0700);
	if (r == 0)
		r = privdrop_own_tree(state_dir, p->uid, p->gid, bad,
				      sizeof(bad), &changed);
	if (r == -EINVAL || r == -ELOOP || r == -EFBIG) {
		fprintf(stderr,
			"metalboot-netboot: %s: %s; the state dir %s does not "
			"look like metalboot-netboot's own (give --state-dir "
			"a directory of its own)\n",
			bad,
			r == -EINVAL ? "neither a directory nor a file"
				     : "too deep or too large",
			state_dir);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "metalboot-netboot: state dir %s: %s\n",
			state_dir, strerror(-r));
		return 1;
	}
	if (changed > 0)
		log_info("state dir %s: %zu entries given to %s", state_dir,
			 changed, p->user);
	return 0;
}

/* Fill c's paths: OUT (or --root DIR) read-only, the state dir read-write. */
static void
priv_paths(const struct netboot *nb, struct privdrop_conf *c)
{
	size_t n = 0;

	c->ro[n++] = nb->root_dir;
	if (nb->cfg != NULL) {
		c->ro[n++] = nb->cfg->dir;
		c->ro[n++] = nb->cfg->public_dir;
		c->ro[n++] = nb->cfg->boot_dir;
		c->ro[n++] = nb->cfg->nodes_dir;
	}
	if (NB_SANITIZED)
		c->ro[n++] = "/proc";
	c->rw[0] = nb->state_dir;
}

static void
priv_log(const struct nb_priv *p, const struct privdrop_report *rep)
{
	char caps[PRIVDROP_CAPS_STR];

	(void)privdrop_caps_format(rep->caps, caps, sizeof(caps));
	log_info("privileges: uid %u gid %u (%s), capabilities %s%s",
		 (unsigned)getuid(), (unsigned)getgid(),
		 p->mode == PRIVDROP_MODE_USER ? p->user : "unchanged", caps,
		 rep->bounding ? " (bounding set too)" : "");
	if (rep->landlock_abi > 0)
		log_info("privileges: Landlock ABI %d: files only under OUT "
			 "(read) and the state dir (read-write)%s%s%s",
			 rep->landlock_abi,
			 rep->landlock_net ? "; no TCP bind" : "",
			 rep->landlock_scoped
				 ? "; signals and abstract sockets scoped"
				 : "",
			 NB_SANITIZED ? "; /proc readable (sanitizer build)"
				      : "");
	else
		log_warn("privileges: no Landlock (%s): files are guarded by "
			 "their owner and mode only",
			 strerror(rep->landlock_errno));
	if (rep->seccomp_denied > 0)
		log_info("privileges: seccomp: %zu system calls refused "
			 "(exec, mount, namespaces, modules, ids%s)",
			 rep->seccomp_denied,
			 NB_SANITIZED ? "; ptrace left for LeakSanitizer"
				      : ", ptrace");
}

/*
 * After every service has bound its sockets and read its files: drop.
 * Returns 0, or the exit status after a message.
 */
static int
priv_drop(const struct nb_priv *p, const struct netboot *nb)
{
	struct privdrop_conf c;
	struct privdrop_report rep;
	int r;

	if (p->mode == PRIVDROP_MODE_ROOT)
		return 0;
	memset(&c, 0, sizeof(c));
	if (p->mode == PRIVDROP_MODE_USER) {
		if (priv_own_state(p, nb->state_dir) != 0 ||
		    priv_check_tree(p, nb->cfg ? nb->cfg->nodes_dir : NULL))
			return 1;
		c.switch_ids = true;
		c.uid = p->uid;
		c.gid = p->gid;
	}
	/* SIOCSARP, to unicast to a client without an address yet. */
	c.keep_caps = privdrop_caps_for(
		nb->dhcp_server != NULL ? PRIVDROP_NEED_ARP : 0);
	c.dumpable = NB_SANITIZED;
	c.seccomp = true;
	priv_paths(nb, &c);
	tzset(); /* /etc/localtime is out of reach afterwards */
	r = privdrop_apply(&c, &rep);
	if (r < 0) {
		log_warn_r(r, "privileges: cannot drop them");
		return 2;
	}
	priv_log(p, &rep);
	return 0;
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
		{ "https-port", required_argument, NULL, 'P' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "check-dhcp", required_argument, NULL, 'D' },
		{ "user", required_argument, NULL, 'U' },
		{ "tftp-max-transfers", required_argument, NULL, 'M' },
		{ "tftp-max-per-client", required_argument, NULL, 'C' },
		{ "workers", required_argument, NULL, 'W' },
		HTTP_LIMIT_OPTIONS,
		DHCP_IO_OPTIONS,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct netboot nb;
	struct overrides o;
	struct nb_priv priv = { PRIVDROP_USER_DEFAULT, false,
				PRIVDROP_MODE_NONROOT, 0, 0 };
	const char *config = NULL, *root = NULL;
	size_t started = 0, i;
	int c, r, status = 2, workers = -1;

	memset(&nb, 0, sizeof(nb));
	memset(&o, 0, sizeof(o));
	nb.root_fd = -1;
	nb.tftp_max_transfers = TFTP_MAX_TRANSFERS_DEFAULT;
	nb.tftp_max_per_client = TFTP_MAX_PER_CLIENT_DEFAULT;
	nb.nworkers = 0; /* one per CPU, unless netboot.yaml or --workers */
	o.dhcp = -1;
	log_set_ident("metalboot-netboot");
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case 's':
			o.state_dir = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "full") == 0)
				o.dhcp = DHCP_FULL;
			else if (strcmp(optarg, "proxy") == 0)
				o.dhcp = DHCP_PROXY;
			else if (strcmp(optarg, "off") == 0)
				o.dhcp = DHCP_OFF;
			else {
				fprintf(stderr, "metalboot-netboot: --dhcp "
						"must be full, proxy or off\n");
				return 1;
			}
			break;
		case 't':
			if (parse_port("tftp-port", optarg, &o.tftp_port) < 0)
				return 1;
			o.tftp_set = true;
			break;
		case 'p':
			if (parse_port("http-port", optarg, &o.http_port) < 0)
				return 1;
			o.http_set = true;
			break;
		case 'P':
			if (parse_port("https-port", optarg, &o.https_port) < 0)
				return 1;
			o.https_set = true;
			break;
		case 'M':
			if (parse_count("tftp-max-transfers", optarg,
					TFTP_MAX_TRANSFERS_LIMIT,
					&nb.tftp_max_transfers) < 0)
				return 1;
			break;
		case 'C':
			if (parse_count("tftp-max-per-client", optarg,
					TFTP_MAX_TRANSFERS_LIMIT,
					&nb.tftp_max_per_client) < 0)
				return 1;
			break;
		case 'W':
			if (num_parse_int(optarg, 0, NB_WORKERS_MAX, &workers) <
			    0) {
				fprintf(stderr,
					"metalboot-netboot: --workers: "
					"'%s' is not 0-%d\n",
					optarg, NB_WORKERS_MAX);
				return 1;
			}
			break;
		case 'D':
			return dhcp_io_check_cli(optarg);
		case 'U':
			priv.user = optarg;
			priv.explicit = true;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("metalboot-netboot %s\n", METALBOOT_VERSION);
			return 0;
		default:
			if (c >= HTTP_OPT_BASE &&
			    c < HTTP_OPT_BASE + HTTP_NOPTS) {
				if (http_limits_option(c, optarg) < 0)
					return 1;
				break;
			}
			if (c >= DHCP_OPT_BASE &&
			    c < DHCP_OPT_BASE + DHCP_NOPTS) {
				if (dhcp_io_option(c, optarg) < 0)
					return 1;
				break;
			}
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "metalboot-netboot: unexpected argument '%s'\n",
			argv[optind]);
		return 1;
	}
	if ((config == NULL) == (root == NULL)) {
		fprintf(stderr, "metalboot-netboot: give exactly one of "
				"--config or --root\n");
		return 1;
	}
	if (root != NULL && o.dhcp >= 0 && o.dhcp != DHCP_OFF) {
		fprintf(stderr, "metalboot-netboot: --root serves files only; "
				"it needs --dhcp off\n");
		return 1;
	}

	if (priv_resolve(&priv) != 0)
		return 1;

	if (config != NULL) {
		r = load_config(&nb, config);
		if (r < 0) {
			status = r == -ENOMEM ? 2 : 1;
			goto out;
		}
	} else {
		nb.root_dir = strdup(root);
		if (nb.root_dir == NULL)
			goto out;
		nb.dhcp = DHCP_OFF;
		nb.tftp_port = NB_TFTP_PORT_DEFAULT;
		nb.http_port = NB_HTTP_PORT_DEFAULT;
		nb.https_port = 0; /* no certificate without netboot.yaml */
	}
	if (workers >= 0)
		nb.nworkers = (unsigned)workers;
	/* 0: one per CPU; 1: the one loop; N: N worker loops besides it. */
	if (nb.nworkers == 0)
		nb.nworkers = nb_workers_auto();
	nb.nworkers = nb.nworkers > 1 ? nb.nworkers : 0;
	r = apply_overrides(&nb, &o);
	if (r < 0) {
		status = r == -ENOMEM ? 2 : 1;
		goto out;
	}
	nb.root_fd = open(nb.root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (nb.root_fd < 0) {
		fprintf(stderr, "metalboot-netboot: %s: %s\n", nb.root_dir,
			strerror(errno));
		status = 1;
		goto out;
	}

	signal(SIGPIPE, SIG_IGN);
	nb.base = nb_loop_new();
	if (nb.base == NULL) {
		fprintf(stderr, "metalboot-netboot: cannot create the event "
				"loop\n");
		goto out;
	}
	nb.sig_int = evsignal_new(nb.base, SIGINT, on_signal, &nb);
	nb.sig_term = evsignal_new(nb.base, SIGTERM, on_signal, &nb);
	if (nb.sig_int == NULL || nb.sig_term == NULL ||
	    evsignal_add(nb.sig_int, NULL) < 0 ||
	    evsignal_add(nb.sig_term, NULL) < 0) {
		fprintf(stderr, "metalboot-netboot: cannot watch signals\n");
		goto out;
	}

	for (started = 0; started < NSERVICES; started++) {
		r = services[started].start(&nb);
		if (r < 0) {
			/* The service logged the cause; bad ports are ours. */
			status = (r == -EADDRINUSE || r == -EACCES ||
				  r == -EADDRNOTAVAIL || r == -EINVAL)
					 ? 1
					 : 2;
			services[started].stop(&nb);
			goto out;
		}
	}
	r = priv_drop(&priv, &nb);
	if (r != 0) {
		status = r;
		goto out;
	}
	if (nb_workers_run(&nb) < 0)
		goto out;
	log_info("serving %s", nb.root_dir);
	if (event_base_dispatch(nb.base) < 0) {
		log_warn("event loop failed");
		goto out;
	}
	status = 0;
out:
	for (i = started; i > 0; i--)
		services[i - 1].stop(&nb);
	netboot_done(&nb);
	return status;
}
