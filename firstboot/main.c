/*
 * metalboot-firstboot - prepare a node and join it to the cluster.
 *
 * The payload (firstboot.yaml) comes from --config or from the
 * provisioning server (--server, or metalboot.server= on the kernel
 * command line), is planned into ordered steps (plan.c) and executed
 * against --root (exec.c, steps_*.c), with every step journaled in
 * ROOT/var/lib/metalboot/state.json and reported to the server.
 *
 * Exit status: 0 when every step is done, 1 on a user error or a failed
 * step (the journal says which, and a rerun resumes there), 2 on an
 * internal error.
 */
#include "exec.h"
#include "fetch.h"
#include "fsutil.h"
#include "journal.h"
#include "log.h"
#include "net.h"
#include "num.h"
#include "payload.h"
#include "plan.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CA	      "/etc/metalboot/provisioning-ca.crt"
#define DEFAULT_FETCH_TIMEOUT 3600 /* seconds */
#define CMDLINE_MAX	      65536
#define MAX_IFACES	      256

struct opts {
	const char *config;
	const char *server;
	const char *ca;
	const char *root_arg;
	char root[PATH_MAX]; /* "" for "/" */
	uint8_t mac[MAC_LEN];
	bool have_mac;
	bool dry_run;
	unsigned fetch_timeout;
	unsigned report_wait;
	bool reapply; /* --reapply: host steps again, from the cache */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: metalboot-firstboot --config FILE [--root DIR] "
		"[--dry-run]\n"
		"       metalboot-firstboot [--server URL] [--mac MAC] [--ca "
		"FILE] [--root DIR]\n"
		"                           [--fetch-timeout SECONDS] "
		"[--report-wait SECONDS] [--dry-run]\n"
		"       metalboot-firstboot --reapply [--root DIR]\n"
		"\n"
		"  --config FILE    the node's firstboot.yaml\n"
		"  --server URL     provisioning server (default: "
		"metalboot.server= in ROOT/proc/cmdline)\n"
		"  --mac MAC        this node's MAC (default: metalboot.mac= "
		"or the first interface)\n"
		"  --ca FILE        CA pinned for the server (default: "
		"ROOT" DEFAULT_CA ")\n"
		"  --root DIR       every file is relative to DIR "
		"(default /)\n"
		"  --dry-run        print the plan; write nothing, run "
		"nothing\n"
		"  --reapply        on a node that is done, run the host "
		"steps again from\n"
		"                   the cached payload (a root rebuilt at "
		"every boot)\n"
		"  --fetch-timeout  total seconds to wait for the server "
		"(default %d)\n"
		"  --report-wait    seconds to deliver queued events at the "
		"end (default %d)\n"
		"  -v, --verbose    more logging\n",
		DEFAULT_FETCH_TIMEOUT, FB_REPORT_FINAL);
}

static int user_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static int
user_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "metalboot-firstboot: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 's' },
		{ "mac", required_argument, NULL, 'm' },
		{ "root", required_argument, NULL, 'r' },
		{ "ca", required_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "reapply", no_argument, NULL, 'R' },
		{ "fetch-timeout", required_argument, NULL, 't' },
		{ "report-wait", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, n;

	o->fetch_timeout = DEFAULT_FETCH_TIMEOUT;
	o->report_wait = FB_REPORT_FINAL;
	o->root_arg = "/";
	while ((c = getopt_long(argc, argv, "hv", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->server = optarg;
			break;
		case 'm':
			if (mac_parse(optarg, o->mac) < 0)
				return user_error("--mac: '%s' is not a MAC "
						  "address",
						  optarg);
			o->have_mac = true;
			break;
		case 'r':
			o->root_arg = optarg;
			break;
		case 'C':
			o->ca = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'R':
			o->reapply = true;
			break;
		case 't':
			if (num_parse_int(optarg, 1, FB_MAX_TIMEOUT, &n) < 0)
				return user_error("--fetch-timeout: '%s' is "
						  "not a number of seconds",
						  optarg);
			o->fetch_timeout = (unsigned)n;
			break;
		case 'w':
			if (num_parse_int(optarg, 0, FB_MAX_TIMEOUT, &n) < 0)
				return user_error("--report-wait: '%s' is not "
						  "a number of seconds",
						  optarg);
			o->report_wait = (unsigned)n;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("metalboot-firstboot %s\n", METALBOOT_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc)
		return user_error("unexpected argument '%s'", argv[optind]);
	if (o->config != NULL && o->server != NULL)
		return user_error("give --config or --server, not both");
	return 0;
}

static int
set_root(struct opts *o)
{
	struct stat st;
	size_t n;

	if (o->root_arg[0] == '\0')
		return user_error("--root: empty");
	if (stat(o->root_arg, &st) < 0 || !S_ISDIR(st.st_mode))
		return user_error("--root: '%s' is not a directory",
				  o->root_arg);
	if (snprintf(o->root, sizeof(o->root), "%s", o->root_arg) >=
	    (int)sizeof(o->root) - 64)
		return user_error("--root: too long");
	n = strlen(o->root);
	while (n > 0 && o->root[n - 1] == '/')
		o->root[--n] = '\0';
	return 0;
}

/* The value of key= on ROOT/proc/cmdline into buf; -ENOENT when absent. */
static int
cmdline_get(const struct fb_exec *x, const char *key, char *buf, size_t n)
{
	char path[PATH_MAX], *data = NULL, *p;
	size_t len, klen = strlen(key);
	int r;

	r = fb_path(x, "/proc/cmdline", path);
	if (r < 0)
		return r;
	r = read_file(path, CMDLINE_MAX, &data, &len);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (p = data; *p;) {
		size_t wl;

		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		wl = strcspn(p, " \n\t");
		if (wl > klen && strncmp(p, key, klen) == 0) {
			if (wl - klen >= n) {
				r = -ENAMETOOLONG;
				break;
			}
			memcpy(buf, p + klen, wl - klen);
			buf[wl - klen] = '\0';
			r = 0; /* the last one wins, as in the kernel */
		}
		p += wl;
	}
	free(data);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The MAC of the interface that most likely booted: the first one (by
 * name) that is up with a non-zero address, else the first with a
 * non-zero address; loopback is skipped.
 */
static int
iface_mac(const struct fb_exec *x, uint8_t mac[MAC_LEN])
{
	char dir[PATH_MAX], path[PATH_MAX * 2], *names[MAX_IFACES];
	size_t n = 0, i;
	int pass, r = -ENOENT;
	struct dirent *de;
	DIR *d;

	if (fb_path(x, "/sys/class/net", dir) < 0)
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL && n < MAX_IFACES) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "lo") == 0)
			continue;
		names[n] = strdup(de->d_name);
		if (names[n] != NULL)
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (pass = 0; pass < 2 && r < 0; pass++) {
		for (i = 0; i < n && r < 0; i++) {
			char *addr = NULL, *state = NULL;
			size_t len;
			uint8_t m[MAC_LEN];
			static const uint8_t zero[MAC_LEN];

			snprintf(path, sizeof(path), "%s/%s/address", dir,
				 names[i]);
			if (read_file(path, 64, &addr, &len) < 0)
				continue;
			addr[strcspn(addr, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s/%s/operstate", dir,
				 names[i]);
			if (pass == 0 &&
			    (read_file(path, 64, &state, &len) < 0 ||
			     strncmp(state, "up", 2) != 0)) {
				free(state);
				free(addr);
				continue;
			}
			if (mac_parse(addr, m) == 0 &&
			    memcmp(m, zero, MAC_LEN) != 0) {
				memcpy(mac, m, MAC_LEN);
				r = 0;
			}
			free(state);
			free(addr);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	return r;
}

/*
 * Read the kernel's boot id (a UUID) from ROOT/proc into out. Returns 0,
 * or a negative errno when there is none (a fake root in tests).
 */
static int
read_boot_id(const char *root, char out[40])
{
	char path[PATH_MAX], *data = NULL;
	size_t len = 0;
	int r;

	if (snprintf(path, sizeof(path), "%s/proc/sys/kernel/random/boot_id",
		     root) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = read_file(path, 64, &data, &len);
	if (r < 0)
		return r;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
		data[--len] = '\0';
	if (len == 0 || len >= 40) {
		free(data);
		return -EINVAL;
	}
	memcpy(out, data, len + 1);
	free(data);
	return 0;
}

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	memset(out, '0', 64);
	out[64] = '\0';
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
}

static void
log_retry(const char *url, const char *why, unsigned wait_ms)
{
	log_info("%s: %s; retrying in %.1fs", url, why, wait_ms / 1000.0);
}

static int
parse_payload(const char *name, const char *data, size_t len,
	      struct fb_payload **ret, char *why, size_t whylen)
{
	struct fb_perror perr;
	int r;

	r = fb_payload_parse(name, data, len, ret, &perr);
	if (r == -EINVAL) {
		if (perr.line > 0)
			snprintf(why, whylen, "%s:%u:%u: %s", name, perr.line,
				 perr.col, perr.msg);
		else
			snprintf(why, whylen, "%s: %s", name, perr.msg);
	} else if (r < 0) {
		snprintf(why, whylen, "%s: %s", name, strerror(-r));
	}
	return r;
}

/*
 * Fetch the payload from the server, journaled and reported as the
 * "fetch" step, and keep it in the cache. Returns 0 with *ret_data
 * (owned), 1 for a failed step, 2 for an internal error.
 */
static int
fetch_payload(struct opts *o, struct fb_exec *x, const char *server,
	      char **ret_data, size_t *ret_len)
{
	struct fb_tls tls = { .ca_file = o->ca };
	char url[FB_MAX_URL_LEN + 64], err[FB_FETCH_ERR_LEN];
	char mac[MAC_STR_LEN], why[4096];
	struct fb_payload *p = NULL;
	struct buf body;
	bool changed;
	size_t len;
	int r;

	mac_format(o->mac, mac);
	if (snprintf(url, sizeof(url), "%s/v1/nodes/%s/firstboot", server,
		     mac) >= (int)sizeof(url))
		return user_error("--server: URL too long");
	log_info("fetch: %s", url);
	if (!o->dry_run) {
		(void)fb_journal_set(x->j, "fetch", FB_STATE_RUNNING, NULL,
				     NULL);
		fb_report(x, "fetch", "running", "");
	}
	buf_init(&body, FB_PAYLOAD_MAX);
	r = fb_fetch_until_ok(url, &tls, o->fetch_timeout, &body, err);
	if (r == -EPERM)
		snprintf(why, sizeof(why),
			 "%s: the server's certificate is not signed by the "
			 "pinned CA (%s): %s",
			 url, o->ca, err);
	else if (r < 0)
		snprintf(why, sizeof(why), "%s: no payload within %us: %s", url,
			 o->fetch_timeout, err);
	else
		r = parse_payload(url, body.data ? body.data : "", body.len, &p,
				  why, sizeof(why));
	if (r == 0 && memcmp(p->node.mac, o->mac, MAC_LEN) != 0) {
		snprintf(why, sizeof(why),
			 "%s: the payload is for %s, not this node (%s)", url,
			 p->node.mac_str, mac);
		r = -EINVAL;
	}
	fb_payload_free(p);
	if (r == 0 && !o->dry_run) {
		r = fb_put_file(x, FB_PAYLOAD_CACHE, body.data, body.len, 0600,
				&changed);
		if (r < 0)
			snprintf(why, sizeof(why),
				 "keep " FB_PAYLOAD_CACHE ": %s", strerror(-r));
	}
	if (r < 0) {
		log_warn("fetch: failed: %s", why);
		if (!o->dry_run) {
			(void)fb_journal_set(x->j, "fetch", FB_STATE_FAILED,
					     why, NULL);
			fb_report(x, "fetch", "failed", why);
			(void)fb_report_flush(x, 5);
		}
		buf_done_secure(&body);
		return r == -ENOMEM ? 2 : 1;
	}
	if (!o->dry_run) {
		(void)fb_journal_set(x->j, "fetch", FB_STATE_OK, NULL, NULL);
		fb_report(x, "fetch", "ok", "");
	}
	*ret_data = buf_take(&body, &len);
	*ret_len = len;
	if (*ret_data == NULL)
		return 2;
	return 0;
}

/*
 * The state directory holds the payload and kubeadm's configuration, so
 * it is 0700; its parents (/var/lib) keep the usual 0755.
 */
static int
make_state_dir(const char *path)
{
	char parent[PATH_MAX];
	char *slash;
	int r;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		r = mkdir_p(parent, 0755);
		if (r < 0)
			return r;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (chmod(path, 0700) < 0)
		return -errno;
	return 0;
}

static int
set_reporter(struct fb_exec *x, const char *server, const char *mac,
	     const struct fb_tls *tls)
{
	struct buf b;
	int r;

	free(x->rep.url);
	x->rep.url = NULL;
	buf_init(&b, FB_MAX_URL_LEN + 64);
	r = buf_printf(&b, "%s/v1/nodes/%s/events", server, mac);
	if (r < 0) {
		buf_done(&b);
		return r;
	}
	x->rep.url = buf_take(&b, NULL);
	x->rep.tls = *tls;
	return x->rep.url ? 0 : -ENOMEM;
}

/* For --dry-run: where an earlier run got to, from the journal. */
static void
print_progress(const struct fb_plan *plan, const struct fb_journal *j)
{
	static const char *const names[] = { "pending", "running", "ok",
					     "failed" };
	bool any = false;
	size_t i;

	for (i = 0; i < plan->n; i++) {
		enum fb_state st = fb_journal_state(j, plan->steps[i].name);

		if (st == FB_STATE_PENDING)
			continue;
		printf("%s%s %s", any ? ", " : "journal: ", plan->steps[i].name,
		       names[st]);
		any = true;
	}
	if (any)
		printf("\n");
}

static int
run(struct opts *o)
{
	static const char *const keep[] = { "fetch", "wait-api", "kubeadm",
					    NULL };
	char path[PATH_MAX], server[FB_MAX_URL_LEN + 1], why[4096];
	char ca[PATH_MAX], mac[MAC_STR_LEN], digest[65], boot_id[40];
	struct fb_payload *p = NULL;
	struct fb_plan *plan = NULL;
	struct fb_journal *j = NULL;
	struct fb_exec x;
	struct fb_tls tls = { 0 };
	char *data = NULL;
	size_t len = 0;
	bool fetched = false, changed;
	int r, cfg_r = 0, ret = 2;

	fb_exec_init(&x);
	x.root = o->root;
	if (o->config == NULL) {
		if (o->server != NULL) {
			if (strlen(o->server) >= sizeof(server)) {
				ret = user_error("--server: URL too long");
				goto out;
			}
			snprintf(server, sizeof(server), "%s", o->server);
		} else if (cmdline_get(&x, "metalboot.server=", server,
				       sizeof(server)) < 0) {
			ret = user_error("give --config FILE or --server URL "
					 "(no metalboot.server= on the "
					 "kernel command line)");
			goto out;
		}
		len = strlen(server);
		while (len > 8 && server[len - 1] == '/')
			server[--len] = '\0';
		if (strncmp(server, "https://", 8) != 0) {
			ret = user_error("--server: '%s' is not an https:// "
					 "URL",
					 server);
			goto out;
		}
		if (!o->have_mac) {
			if (cmdline_get(&x, "metalboot.mac=", mac,
					sizeof(mac)) == 0 &&
			    mac_parse(mac, o->mac) == 0)
				o->have_mac = true;
			else if (iface_mac(&x, o->mac) == 0)
				o->have_mac = true;
		}
		if (!o->have_mac) {
			ret = user_error("--mac: not given, not on the kernel "
					 "command line, no interface found");
			goto out;
		}
		if (o->ca == NULL) {
			if (fb_path(&x, DEFAULT_CA, ca) < 0)
				goto out;
			o->ca = ca;
		}
		if (access(o->ca, R_OK) != 0) {
			ret = user_error("--ca: cannot read '%s'", o->ca);
			goto out;
		}
	}

	/* A --config payload is read first: a bad one changes nothing. */
	if (o->config != NULL) {
		r = read_file(o->config, FB_PAYLOAD_MAX, &data, &len);
		if (r < 0) {
			ret = user_error("--config: %s: %s", o->config,
					 strerror(-r));
			goto out;
		}
		cfg_r = parse_payload(o->config, data, len, &p, why,
				      sizeof(why));
		if (cfg_r == -EINVAL) {
			ret = user_error("%s", why);
			goto out;
		}
	}

	/* The state directory and the journal. */
	if (fb_path(&x, FB_STATE_DIR, path) < 0)
		goto out;
	if (!o->dry_run) {
		r = make_state_dir(path);
		if (r < 0) {
			log_warn_r(r, "%s", path);
			goto out;
		}
	}
	if (fb_path(&x, FB_JOURNAL_FILE, path) < 0)
		goto out;
	r = fb_journal_open(path, o->dry_run, &j);
	if (r < 0) {
		log_warn_r(r, "%s: cannot read the journal", path);
		goto out;
	}
	x.j = j;

	/* The payload: --config, the cache of an earlier fetch, or fetch. */
	if (o->config != NULL) {
		r = cfg_r; /* read and parsed above */
	} else {
		mac_format(o->mac, mac);
		tls.ca_file = o->ca;
		if (!o->dry_run && set_reporter(&x, server, mac, &tls) < 0)
			goto out;
		fetched = true;
		if (fb_journal_state(j, "fetch") == FB_STATE_OK &&
		    fb_get_file(&x, FB_PAYLOAD_CACHE, FB_PAYLOAD_MAX, &data,
				&len) == 0) {
			log_info("fetch: using " FB_PAYLOAD_CACHE);
		} else {
			ret = fetch_payload(o, &x, server, &data, &len);
			if (ret != 0)
				goto out;
			ret = 2;
		}
		r = parse_payload(FB_PAYLOAD_CACHE, data, len, &p, why,
				  sizeof(why));
	}
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		ret = user_error("%s", why);
		goto out;
	}
	if (fetched && !o->dry_run && p->has_server) {
		/* The payload names where events go and the CA to pin. */
		tls.ca_file = NULL;
		tls.ca_pem = p->server_ca;
		if (set_reporter(&x, p->server_url, p->node.mac_str, &tls) < 0)
			goto out;
	}
	x.p = p;

	r = fb_plan_build(p, o->root_arg, fetched, &plan);
	if (r < 0)
		goto out;
	if (o->dry_run) {
		printf("plan for %s (%s, kubeadm %s), root %s:\n", p->node.name,
		       fb_role_name(p->node.role),
		       fb_action_name(p->kubeadm.action), o->root_arg);
		fb_plan_print(plan, stdout);
		print_progress(plan, j);
		ret = 0;
		goto out;
	}

	sha256_hex(data, len, digest);
	r = fb_journal_set_digest(j, digest, keep);
	if (r < 0)
		goto out;
	if (read_boot_id(o->root, boot_id) == 0) {
		int b = fb_journal_set_boot(j, boot_id, keep);

		if (b < 0) {
			r = b;
			goto out;
		}
		if (b == 1)
			log_info("resuming on a new boot: the host steps run "
				 "again, kubeadm resumes where it was");
	}
	if (r == 1)
		log_warn("the payload differs from the last run's: the host "
			 "steps run again (kubeadm does not)");
	if (fb_journal_done(j) && fb_journal_queue_len(j) == 0 &&
	    fb_exists(&x, FB_DONE_FILE)) {
		log_info("%s: already done; nothing to do", p->node.name);
		ret = 0;
		goto out;
	}

	log_info("%s (%s): %zu steps, root %s", p->node.name,
		 fb_role_name(p->node.role), plan->n, o->root_arg);
	r = fb_exec_run(&x, plan);
	if (r == -EIO) {
		(void)fb_report_flush(&x, o->report_wait < 10 ? o->report_wait
							      : 10);
		fprintf(stderr,
			"metalboot-firstboot: stopped; the journal is %s%s, "
			"a rerun resumes there\n",
			o->root, FB_JOURNAL_FILE);
		ret = 1;
		goto out;
	}
	if (r < 0) {
		log_warn_r(r, "journal");
		goto out;
	}
	if (fb_report_flush(&x, o->report_wait) < 0) {
		log_warn("%zu event(s) not delivered; they stay queued in the "
			 "journal for the next run",
			 fb_journal_queue_len(j));
		ret = 0;
		goto out;
	}
	r = fb_journal_set_done(j, true);
	if (r == 0)
		r = fb_put_file(&x, FB_DONE_FILE, "", 0, 0644, &changed);
	if (r < 0) {
		log_warn_r(r, "mark done");
		goto out;
	}
	log_info("%s: done", p->node.name);
	ret = 0;
out:
	fb_plan_free(plan);
	fb_payload_free(p);
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	fb_journal_free(j);
	fb_exec_done(&x);
	return ret;
}

/*
 * --reapply: a netbooted node with a state disk keeps the cluster's state
 * (/etc/kubernetes, /var/lib/..., the agent's cached payload and journal)
 * across a reboot, but its root is the image again, without what the
 * agent wrote to /etc: the containerd config, the sysctls, the module
 * list, the firewall unit. Once done, each boot replays the host steps
 * (and kubelet, kubeconfig) from the cached payload: no fetch, no
 * journal change, no report. kubeadm never runs here.
 */
static int
reapply(struct opts *o)
{
	struct fb_payload *p = NULL;
	struct fb_plan *plan = NULL;
	struct fb_exec x;
	char *data = NULL, why[4096];
	size_t len = 0;
	int r, ret = 2;

	fb_exec_init(&x);
	x.root = o->root;
	if (!fb_exists(&x, FB_DONE_FILE)) {
		log_info("reapply: not done yet: nothing to reapply");
		ret = 0;
		goto out;
	}
	r = fb_get_file(&x, FB_PAYLOAD_CACHE, FB_PAYLOAD_MAX, &data, &len);
	if (r < 0) {
		ret = user_error("reapply: " FB_PAYLOAD_CACHE ": %s",
				 strerror(-r));
		goto out;
	}
	r = parse_payload(FB_PAYLOAD_CACHE, data, len, &p, why, sizeof(why));
	if (r < 0) {
		ret = r == -ENOMEM ? 2 : user_error("%s", why);
		goto out;
	}
	x.p = p;
	if (fb_plan_build(p, o->root_arg, false, &plan) < 0)
		goto out;
	r = fb_exec_reapply(&x, plan);
	ret = r < 0 ? 1 : 0;
	if (r == 0)
		log_info("%s: host configuration reapplied", p->node.name);
out:
	fb_plan_free(plan);
	fb_payload_free(p);
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	fb_exec_done(&x);
	return ret;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int ret;

	memset(&o, 0, sizeof(o));
	log_set_ident("metalboot-firstboot");
	log_set_level(LOG_LEVEL_INFO);
	ret = parse_args(argc, argv, &o);
	if (ret != 0)
		return ret;
	ret = set_root(&o);
	if (ret != 0)
		return ret;
	fb_fetch_on_retry = log_retry;
	if (fb_fetch_global_init() < 0) {
		fprintf(stderr, "metalboot-firstboot: libcurl init failed\n");
		return 2;
	}
	ret = o.reapply ? reapply(&o) : run(&o);
	fb_fetch_global_done();
	return ret;
}
