/*
 * payload.c - firstboot.yaml into struct fb_payload, strictly.
 *
 * The walk stops at the first problem and records it with the position of
 * the offending node: the payload is machine-written by metalboot-build,
 * so one precise message is more useful than a list.
 */
#include "payload.h"

#include "num.h"
#include "yload.h"
#include "yschema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The shared schema context plus the diagnostics it fills. The walk stops
 * at the first error; the first diagnostic recorded becomes *err.
 */
struct pctx {
	struct ys_ctx ys;
	struct diags d;
};

static const char *const role_names[] = { "control-plane", "worker", "etcd" };
static const char *const action_names[] = { "init", "join",
					    "join-control-plane", "etcd" };

const char *
fb_role_name(enum fb_role role)
{
	return (unsigned)role < 3 ? role_names[role] : "unknown";
}

const char *
fb_action_name(enum fb_action action)
{
	return (unsigned)action < 4 ? action_names[action] : "unknown";
}

static int perr(struct pctx *c, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int
perr(struct pctx *c, const struct ynode *n, const char *fmt, ...)
{
	char msg[YS_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ys_err(&c->ys, n, "%s", msg);
	return -EINVAL;
}

static int
oom(struct pctx *c)
{
	c->ys.oom = 1;
	return -ENOMEM;
}

/* -EINVAL once anything has been reported, else 0. */
static int
status(const struct pctx *c)
{
	return c->d.errors > 0 ? -EINVAL : 0;
}

static int
want(struct pctx *c, const struct ynode *n, enum ynode_type t, const char *what)
{
	return ys_want_type(&c->ys, n, t, what) ? 0 : -EINVAL;
}

/* Refuse any key of map m that is not listed in known. */
static int
check_keys(struct pctx *c, const struct ynode *m, const char *where,
	   const char *const *known)
{
	return ys_check_keys(&c->ys, m, where, known) > 0 ? -EINVAL : 0;
}

/*
 * A non-null scalar without NUL bytes (possibly empty) in *ret, or NULL
 * (absent or null). Returns 0 or -EINVAL.
 */
static int
get_scalar(struct pctx *c, const struct ynode *m, const char *key,
	   const char *what, bool required, const struct ynode **ret)
{
	const struct ynode *n;
	unsigned flags = YS_EMPTY_OK | (required ? YS_REQUIRED : 0);

	*ret = NULL;
	if (ys_get_scalar(&c->ys, m, key, what, flags, &n) == NULL)
		return status(c);
	*ret = n;
	return 0;
}

static int
dup_str(struct pctx *c, const struct ynode *n, char **dst)
{
	char *s = malloc(n->len + 1);

	if (s == NULL)
		return oom(c);
	memcpy(s, n->str, n->len);
	s[n->len] = '\0';
	*dst = s;
	return 0;
}

static int
dup_cstr(struct pctx *c, const char *s, char **dst)
{
	char *d = strdup(s);

	if (d == NULL)
		return oom(c);
	*dst = d;
	return 0;
}

/* A string without control bytes (newlines, escapes) for names and URLs. */
static bool
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

static int
get_str(struct pctx *c, const struct ynode *m, const char *key,
	const char *what, bool required, char **dst)
{
	const struct ynode *n;
	int r;

	r = get_scalar(c, m, key, what, required, &n);
	if (r < 0 || n == NULL)
		return r;
	if (n->len == 0)
		return perr(c, n, "%s must not be empty", what);
	if (!printable(n->str))
		return perr(c, n, "%s holds a control character", what);
	return dup_str(c, n, dst);
}

static int
get_bool(struct pctx *c, const struct ynode *m, const char *key,
	 const char *what, bool def, bool *dst)
{
	*dst = def;
	ys_get_bool(&c->ys, m, key, what, YS_BOOL_NO_YESNO | YS_BOOL_QUOTED_OK,
		    dst);
	return status(c);
}

static int
get_uint(struct pctx *c, const struct ynode *m, const char *key,
	 const char *what, unsigned min, unsigned max, unsigned def,
	 unsigned *dst)
{
	const struct ynode *n;
	uint64_t v;
	int r;

	*dst = def;
	r = get_scalar(c, m, key, what, false, &n);
	if (r < 0 || n == NULL)
		return r;
	r = num_parse_u64(n->str, min, max, &v);
	if (r < 0)
		return perr(c, n, "%s must be a number from %u to %u", what,
			    min, max);
	*dst = (unsigned)v;
	return 0;
}

static int
pick(struct pctx *c, const struct ynode *n, const char *what,
     const char *const *names, size_t count, int *dst)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strcmp(n->str, names[i]) == 0) {
			*dst = (int)i;
			return 0;
		}
	return perr(c, n, "%s: unknown value", what);
}

/* A list node (absent and null give count 0). */
static int
get_seq(struct pctx *c, const struct ynode *m, const char *key,
	const char *what, const struct ynode **ret)
{
	const struct ynode *n = ynode_get(m, key);

	*ret = NULL;
	if (n == NULL || ynode_is_null(n))
		return 0;
	if (want(c, n, YNODE_SEQ, what) < 0)
		return -EINVAL;
	if (n->n > FB_MAX_LIST)
		return perr(c, n, "%s: more than %u items", what, FB_MAX_LIST);
	*ret = n;
	return 0;
}

static bool
is_https(const char *s)
{
	return strncmp(s, "https://", 8) == 0 && s[8] != '\0' && s[8] != '/';
}

static bool
is_http_or_https(const char *s)
{
	return is_https(s) ||
	       (strncmp(s, "http://", 7) == 0 && s[7] != '\0' && s[7] != '/');
}

static bool
url_ok(const char *s)
{
	size_t i;

	if (strlen(s) > FB_MAX_URL_LEN)
		return false;
	for (i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return false;
	}
	return true;
}

static bool
is_pem_cert(const char *s)
{
	return strstr(s, "-----BEGIN CERTIFICATE-----") != NULL;
}

static bool
module_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > FB_MAX_MODULE_LEN || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/*
 * A sysctl key becomes a path under /proc/sys: dot-separated components of
 * [A-Za-z0-9_-] only, none empty, so it can never name "..".
 */
static bool
sysctl_key_ok(const char *s)
{
	size_t n = strlen(s), i, comp = 0;

	if (n == 0 || n > FB_MAX_SYSCTL_LEN)
		return false;
	for (i = 0; i <= n; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (comp == 0)
				return false;
			comp = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
		comp++;
	}
	return true;
}

/* A sysctl value is one line of printable text. */
static bool
sysctl_value_ok(const char *s)
{
	return strlen(s) <= 256 && printable(s);
}

/* An absolute path with no empty, "." or ".." component. */
static bool
abs_path_ok(const char *s)
{
	size_t n = strlen(s);
	const char *p;

	if (n < 2 || n > FB_MAX_FILE_PATH || s[0] != '/' || s[n - 1] == '/')
		return false;
	if (!printable(s))
		return false;
	p = s + 1;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return true;
}

static int
parse_mode(const char *s, mode_t *ret)
{
	size_t n = strlen(s), i;
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -EINVAL;
		v = v * 8 + (unsigned)(s[i] - '0');
	}
	if (v > 07777)
		return -ERANGE;
	*ret = (mode_t)v;
	return 0;
}

static int
parse_node(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = { "name", "role", "mac", "ip", NULL };
	const struct ynode *m = ynode_get(root, "node"), *n;
	uint32_t ip;
	int role = 0, r;

	if (m == NULL)
		return perr(c, root, "node is required");
	if (want(c, m, YNODE_MAP, "node") < 0 ||
	    check_keys(c, m, "node", keys) < 0)
		return -EINVAL;
	r = get_scalar(c, m, "name", "node.name", true, &n);
	if (r < 0)
		return r;
	if (!hostname_valid(n->str))
		return perr(c, n, "node.name is not a valid host name");
	if (dup_str(c, n, &p->node.name) < 0)
		return -ENOMEM;
	if (get_scalar(c, m, "role", "node.role", true, &n) < 0 ||
	    pick(c, n, "node.role", role_names, 3, &role) < 0)
		return -EINVAL;
	p->node.role = (enum fb_role)role;
	if (get_scalar(c, m, "mac", "node.mac", true, &n) < 0)
		return -EINVAL;
	if (mac_parse(n->str, p->node.mac) < 0)
		return perr(c, n, "node.mac is not a MAC address");
	mac_format(p->node.mac, p->node.mac_str);
	if (get_scalar(c, m, "ip", "node.ip", true, &n) < 0)
		return -EINVAL;
	if (ipv4_parse(n->str, &ip) < 0)
		return perr(c, n, "node.ip is not an IPv4 address");
	return dup_str(c, n, &p->node.ip);
}

static int
parse_cluster(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = {
		"name",	      "kubernetes_version", "endpoint",
		"pod_subnet", "service_subnet",	    "cni_configured",
		NULL
	};
	const struct ynode *m = ynode_get(root, "cluster"), *n;
	struct cidr cidr;
	int r;

	if (m == NULL)
		return perr(c, root, "cluster is required");
	if (want(c, m, YNODE_MAP, "cluster") < 0 ||
	    check_keys(c, m, "cluster", keys) < 0)
		return -EINVAL;
	if (get_str(c, m, "name", "cluster.name", true, &p->cluster.name) < 0 ||
	    get_str(c, m, "kubernetes_version", "cluster.kubernetes_version",
		    false, &p->cluster.kubernetes_version) < 0 ||
	    get_str(c, m, "endpoint", "cluster.endpoint", false,
		    &p->cluster.endpoint) < 0)
		return -EINVAL;
	r = get_scalar(c, m, "pod_subnet", "cluster.pod_subnet", false, &n);
	if (r < 0)
		return r;
	if (n != NULL) {
		if (cidr_parse(n->str, false, &cidr) < 0)
			return perr(c, n, "cluster.pod_subnet is not a CIDR");
		if (dup_str(c, n, &p->cluster.pod_subnet) < 0)
			return -ENOMEM;
	}
	r = get_scalar(c, m, "service_subnet", "cluster.service_subnet", false,
		       &n);
	if (r < 0)
		return r;
	if (n != NULL) {
		if (cidr_parse(n->str, false, &cidr) < 0)
			return perr(c, n,
				    "cluster.service_subnet is not a CIDR");
		if (dup_str(c, n, &p->cluster.service_subnet) < 0)
			return -ENOMEM;
	}
	return get_bool(c, m, "cni_configured", "cluster.cni_configured", true,
			&p->cluster.cni_configured);
}

static int
parse_server(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = { "url", "ca", NULL };
	const struct ynode *m = ynode_get(root, "server"), *n;
	size_t len;

	if (m == NULL || ynode_is_null(m))
		return 0;
	if (want(c, m, YNODE_MAP, "server") < 0 ||
	    check_keys(c, m, "server", keys) < 0)
		return -EINVAL;
	if (get_scalar(c, m, "url", "server.url", true, &n) < 0)
		return -EINVAL;
	if (!is_https(n->str) || !url_ok(n->str))
		return perr(c, n, "server.url must be an https:// URL");
	if (dup_str(c, n, &p->server_url) < 0)
		return -ENOMEM;
	len = strlen(p->server_url);
	while (len > 8 && p->server_url[len - 1] == '/')
		p->server_url[--len] = '\0';
	if (get_scalar(c, m, "ca", "server.ca", true, &n) < 0)
		return -EINVAL;
	if (!is_pem_cert(n->str))
		return perr(c, n, "server.ca must be a PEM certificate");
	if (dup_str(c, n, &p->server_ca) < 0)
		return -ENOMEM;
	p->has_server = true;
	return 0;
}

static int
parse_hosts(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = { "ip", "names", NULL };
	const struct ynode *seq, *n;
	size_t i, j;
	uint32_t ip;

	if (get_seq(c, root, "hosts", "hosts", &seq) < 0)
		return -EINVAL;
	if (seq == NULL || seq->n == 0)
		return 0;
	p->hosts = calloc(seq->n, sizeof(*p->hosts));
	if (p->hosts == NULL)
		return oom(c);
	for (i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->items[i], *names;
		struct fb_host *h = &p->hosts[i];

		p->nhosts = i + 1;
		if (want(c, m, YNODE_MAP, "hosts item") < 0 ||
		    check_keys(c, m, "hosts item", keys) < 0)
			return -EINVAL;
		if (get_scalar(c, m, "ip", "hosts ip", true, &n) < 0)
			return -EINVAL;
		if (ipv4_parse(n->str, &ip) < 0)
			return perr(c, n, "hosts ip is not an IPv4 address");
		if (dup_str(c, n, &h->ip) < 0)
			return -ENOMEM;
		if (get_seq(c, m, "names", "hosts names", &names) < 0)
			return -EINVAL;
		if (names == NULL || names->n == 0)
			return perr(c, m, "hosts names must not be empty");
		h->names = calloc(names->n, sizeof(*h->names));
		if (h->names == NULL)
			return oom(c);
		for (j = 0; j < names->n; j++) {
			n = names->items[j];
			if (want(c, n, YNODE_SCALAR, "hosts name") < 0)
				return -EINVAL;
			if (!hostname_valid(n->str))
				return perr(c, n, "not a valid host name");
			if (dup_str(c, n, &h->names[j]) < 0)
				return -ENOMEM;
			h->nnames = j + 1;
		}
	}
	return 0;
}

static int
parse_modules(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	const struct ynode *seq, *n;
	size_t i;

	if (get_seq(c, root, "kernel_modules", "kernel_modules", &seq) < 0)
		return -EINVAL;
	if (seq == NULL || seq->n == 0)
		return 0;
	p->modules = calloc(seq->n, sizeof(*p->modules));
	if (p->modules == NULL)
		return oom(c);
	for (i = 0; i < seq->n; i++) {
		n = seq->items[i];
		if (want(c, n, YNODE_SCALAR, "kernel module") < 0)
			return -EINVAL;
		if (strlen(n->str) != n->len || !module_ok(n->str))
			return perr(c, n, "not a kernel module name");
		if (dup_str(c, n, &p->modules[i]) < 0)
			return -ENOMEM;
		p->nmodules = i + 1;
	}
	return 0;
}

static int
parse_sysctls(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	const struct ynode *m = ynode_get(root, "sysctls");
	size_t i;

	if (m == NULL || ynode_is_null(m))
		return 0;
	if (want(c, m, YNODE_MAP, "sysctls") < 0)
		return -EINVAL;
	if (m->n == 0)
		return 0;
	if (m->n > FB_MAX_LIST)
		return perr(c, m, "sysctls: too many entries");
	p->sysctls = calloc(m->n, sizeof(*p->sysctls));
	if (p->sysctls == NULL)
		return oom(c);
	for (i = 0; i < m->n; i++) {
		const struct ynode *k = m->items[2 * i];
		const struct ynode *v = m->items[2 * i + 1];

		if (want(c, k, YNODE_SCALAR, "sysctl key") < 0 ||
		    want(c, v, YNODE_SCALAR, "sysctl value") < 0)
			return -EINVAL;
		if (strlen(k->str) != k->len || !sysctl_key_ok(k->str))
			return perr(c, k, "not a sysctl key");
		if (strlen(v->str) != v->len || !sysctl_value_ok(v->str) ||
		    ynode_is_null(v))
			return perr(c, v, "not a valid sysctl value");
		if (dup_str(c, k, &p->sysctls[i].key) < 0 ||
		    dup_str(c, v, &p->sysctls[i].value) < 0) {
			p->nsysctls = i + 1;
			return -ENOMEM;
		}
		p->nsysctls = i + 1;
	}
	return 0;
}

static int
parse_port(struct pctx *c, const struct ynode *n, struct fb_port *port)
{
	const char *dash = strchr(n->str, '-');
	uint64_t a, b;

	if (dash == NULL) {
		if (num_parse_u64(n->str, 1, 65535, &a) < 0)
			return perr(c, n, "port must be 1..65535 or A-B");
		b = a;
	} else {
		if (num_parse_u64n(n->str, (size_t)(dash - n->str), 1, 65535,
				   &a) < 0 ||
		    num_parse_u64(dash + 1, 1, 65535, &b) < 0 || a > b)
			return perr(c, n, "port must be 1..65535 or A-B");
	}
	port->first = (uint16_t)a;
	port->last = (uint16_t)b;
	return 0;
}

static int
parse_firewall(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	/* "what" is the role profiles' description; accepted and ignored. */
	static const char *const keys[] = { "port", "proto", "what", NULL };
	static const char *const protos[] = { "tcp", "udp" };
	const struct ynode *seq, *n;
	size_t i;
	int proto;

	if (get_seq(c, root, "firewall", "firewall", &seq) < 0)
		return -EINVAL;
	if (seq == NULL || seq->n == 0)
		return 0;
	p->ports = calloc(seq->n, sizeof(*p->ports));
	if (p->ports == NULL)
		return oom(c);
	for (i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->items[i];

		if (want(c, m, YNODE_MAP, "firewall item") < 0 ||
		    check_keys(c, m, "firewall item", keys) < 0)
			return -EINVAL;
		if (get_scalar(c, m, "port", "firewall port", true, &n) < 0 ||
		    parse_port(c, n, &p->ports[i]) < 0)
			return -EINVAL;
		proto = 0;
		if (get_scalar(c, m, "proto", "firewall proto", false, &n) <
			    0 ||
		    (n != NULL &&
		     pick(c, n, "firewall proto", protos, 2, &proto) < 0))
			return -EINVAL;
		p->ports[i].udp = proto == 1;
		p->nports = i + 1;
	}
	return 0;
}

static bool
token_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/*
 * An image reference as containerd takes it ("registry.k8s.io/pause:3.9",
 * "host:5000/pause@sha256:..."): it goes into config.toml as a TOML string
 * (escaped anyway), so a narrow set of bytes is only a sanity check.
 */
static bool
image_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > FB_MAX_IMAGE_LEN ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("._/:@-", s[i])))
			return false;
	return true;
}

static int
parse_sandbox_image(struct pctx *c, const struct ynode *m, struct fb_payload *p)
{
	const struct ynode *n;

	if (get_scalar(c, m, "sandbox_image", "container_runtime.sandbox_image",
		       false, &n) < 0)
		return -EINVAL;
	if (n == NULL)
		return 0;
	if (strlen(n->str) != n->len || !image_ok(n->str))
		return perr(c, n,
			    "container_runtime.sandbox_image is not an image "
			    "reference");
	return dup_str(c, n, &p->runtime.sandbox_image);
}

static int
parse_runtime(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = {
		"kind",		 "cgroup_driver",  "log_max_size",
		"log_max_files", "storage_driver", "registry_mirrors",
		"cri_socket",	 "sandbox_image",  NULL,
	};
	static const char *const kinds[] = { "containerd", "docker" };
	static const char *const drivers[] = { "systemd", "cgroupfs" };
	const struct ynode *m = ynode_get(root, "container_runtime"), *n, *seq;
	int kind = 0, drv = 0;
	size_t i;

	if (m == NULL)
		return perr(c, root, "container_runtime is required");
	if (want(c, m, YNODE_MAP, "container_runtime") < 0 ||
	    check_keys(c, m, "container_runtime", keys) < 0)
		return -EINVAL;
	if (get_scalar(c, m, "kind", "container_runtime.kind", true, &n) < 0 ||
	    pick(c, n, "container_runtime.kind", kinds, 2, &kind) < 0)
		return -EINVAL;
	p->runtime.kind = (enum fb_runtime)kind;
	if (get_scalar(c, m, "cgroup_driver", "container_runtime.cgroup_driver",
		       false, &n) < 0 ||
	    (n != NULL && pick(c, n, "container_runtime.cgroup_driver", drivers,
			       2, &drv) < 0))
		return -EINVAL;
	if (dup_cstr(c, n ? n->str : "systemd", &p->runtime.cgroup_driver) < 0)
		return -ENOMEM;
	if (get_scalar(c, m, "log_max_size", "container_runtime.log_max_size",
		       false, &n) < 0)
		return -EINVAL;
	if (n != NULL && !token_ok(n->str))
		return perr(c, n, "container_runtime.log_max_size is invalid");
	if (dup_cstr(c, n ? n->str : "100m", &p->runtime.log_max_size) < 0)
		return -ENOMEM;
	if (get_uint(c, m, "log_max_files", "container_runtime.log_max_files",
		     1, 1000, FB_DEFAULT_LOG_FILES,
		     &p->runtime.log_max_files) < 0)
		return -EINVAL;
	if (get_scalar(c, m, "storage_driver",
		       "container_runtime.storage_driver", false, &n) < 0)
		return -EINVAL;
	if (n != NULL && !token_ok(n->str))
		return perr(c, n,
			    "container_runtime.storage_driver is invalid");
	if (dup_cstr(c, n ? n->str : "overlay2", &p->runtime.storage_driver) <
	    0)
		return -ENOMEM;
	if (get_scalar(c, m, "cri_socket", "container_runtime.cri_socket",
		       false, &n) < 0)
		return -EINVAL;
	if (n != NULL && !cri_endpoint_valid(n->str, n->len))
		return perr(c, n,
			    "container_runtime.cri_socket must be unix:// and "
			    "an absolute path");
	if (dup_cstr(c, n ? n->str : FB_CRI_SOCKET_DEFAULT,
		     &p->runtime.cri_socket) < 0)
		return -ENOMEM;
	if (parse_sandbox_image(c, m, p) < 0)
		return -EINVAL;
	if (get_seq(c, m, "registry_mirrors",
		    "container_runtime.registry_mirrors", &seq) < 0)
		return -EINVAL;
	if (seq == NULL || seq->n == 0)
		return 0;
	p->runtime.mirrors = calloc(seq->n, sizeof(char *));
	if (p->runtime.mirrors == NULL)
		return oom(c);
	for (i = 0; i < seq->n; i++) {
		n = seq->items[i];
		if (want(c, n, YNODE_SCALAR, "registry mirror") < 0)
			return -EINVAL;
		if (!is_http_or_https(n->str) || !url_ok(n->str) ||
		    strchr(n->str, '"') || strchr(n->str, '\\'))
			return perr(c, n,
				    "a registry mirror must be an "
				    "http(s) URL");
		if (dup_str(c, n, &p->runtime.mirrors[i]) < 0)
			return -ENOMEM;
		p->runtime.nmirrors = i + 1;
	}
	return 0;
}

static int
parse_files(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = { "path", "mode", "content", NULL };
	const struct ynode *seq, *n;
	size_t i, j;

	if (get_seq(c, root, "files", "files", &seq) < 0)
		return -EINVAL;
	if (seq == NULL || seq->n == 0)
		return 0;
	p->files = calloc(seq->n, sizeof(*p->files));
	if (p->files == NULL)
		return oom(c);
	for (i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->items[i];
		struct fb_file *f = &p->files[i];

		p->nfiles = i + 1;
		if (want(c, m, YNODE_MAP, "files item") < 0 ||
		    check_keys(c, m, "files item", keys) < 0)
			return -EINVAL;
		if (get_scalar(c, m, "path", "files path", true, &n) < 0)
			return -EINVAL;
		if (!abs_path_ok(n->str))
			return perr(c, n,
				    "files path must be absolute, without "
				    "'.' or '..' components");
		if (dup_str(c, n, &f->path) < 0)
			return -ENOMEM;
		for (j = 0; j < i; j++)
			if (strcmp(p->files[j].path, f->path) == 0)
				return perr(c, n, "files path is repeated");
		f->mode = 0600;
		if (get_scalar(c, m, "mode", "files mode", false, &n) < 0)
			return -EINVAL;
		if (n != NULL && parse_mode(n->str, &f->mode) < 0)
			return perr(c, n,
				    "files mode must be octal, e.g. "
				    "\"0644\"");
		if (get_scalar(c, m, "content", "files content", true, &n) < 0)
			return -EINVAL;
		f->content = malloc(n->len + 1);
		if (f->content == NULL)
			return oom(c);
		memcpy(f->content, n->str, n->len + 1);
		f->len = n->len;
	}
	return 0;
}

/*
 * The kubeadm configuration is a multi-document YAML stream; ydoc reads one
 * document, so it is cut at "---" and "..." lines. Only the external etcd
 * section of a ClusterConfiguration matters here (so that the first control
 * plane can wait for etcd before kubeadm init needs it); kubeadm itself
 * checks the rest, so a part that does not parse is skipped.
 */
static int
etcd_from_doc(struct pctx *c, const struct ynode *cfg, const struct ynode *root,
	      struct fb_payload *p)
{
	const struct ynode *kind = ynode_get(root, "kind");
	const struct ynode *ext, *eps, *n;
	const char *keys[3] = { "caFile", "certFile", "keyFile" };
	char **dst[3] = { &p->kubeadm.etcd_ca, &p->kubeadm.etcd_cert,
			  &p->kubeadm.etcd_key };
	size_t i;

	if (kind == NULL || kind->type != YNODE_SCALAR ||
	    strcmp(kind->str, "ClusterConfiguration") != 0)
		return 0;
	ext = ynode_get(ynode_get(root, "etcd"), "external");
	eps = ynode_get(ext, "endpoints");
	if (eps == NULL || eps->type != YNODE_SEQ || eps->n == 0 ||
	    p->kubeadm.etcd_endpoints != NULL)
		return 0;
	if (eps->n > FB_MAX_LIST)
		return perr(c, cfg, "kubeadm.config: too many etcd endpoints");
	for (i = 0; i < 3; i++) {
		n = ynode_get(ext, keys[i]);
		if (n == NULL || n->type != YNODE_SCALAR ||
		    strlen(n->str) != n->len || !abs_path_ok(n->str))
			return perr(c, cfg,
				    "kubeadm.config: etcd.external.%s must be "
				    "an absolute path",
				    keys[i]);
		if (dup_str(c, n, dst[i]) < 0)
			return -ENOMEM;
	}
	p->kubeadm.etcd_endpoints = calloc(eps->n, sizeof(char *));
	if (p->kubeadm.etcd_endpoints == NULL)
		return oom(c);
	for (i = 0; i < eps->n; i++) {
		n = eps->items[i];
		if (n->type != YNODE_SCALAR || strlen(n->str) != n->len ||
		    !is_https(n->str) || !url_ok(n->str))
			return perr(c, cfg,
				    "kubeadm.config: an etcd endpoint must be "
				    "an https:// URL");
		if (dup_str(c, n, &p->kubeadm.etcd_endpoints[i]) < 0)
			return -ENOMEM;
		p->kubeadm.netcd = i + 1;
	}
	return 0;
}

static bool
doc_separator(const char *line, size_t len)
{
	return len >= 3 &&
	       (memcmp(line, "---", 3) == 0 || memcmp(line, "...", 3) == 0) &&
	       (len == 3 || line[3] == ' ' || line[3] == '\t' ||
		line[3] == '\r');
}

static int
find_external_etcd(struct pctx *c, const struct ynode *cfg,
		   struct fb_payload *p)
{
	const char *s = p->kubeadm.config, *end = s + p->kubeadm.config_len;
	const char *doc = s, *line = s;
	int r = 0;

	while (r == 0 && doc < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *next = nl ? nl + 1 : end;
		size_t llen = (size_t)((nl ? nl : end) - line);
		bool sep = doc_separator(line, llen);

		if (sep || next == end) {
			const char *stop = sep ? line : end;
			struct ydoc *yd = NULL;
			struct yerror yerr;

			if (stop > doc &&
			    ydoc_parse("kubeadm.config", doc,
				       (size_t)(stop - doc), &yd, &yerr) == 0 &&
			    yd->root != NULL)
				r = etcd_from_doc(c, cfg, yd->root, p);
			ydoc_free(yd);
			doc = next;
		}
		line = next;
	}
	return r;
}

static int
parse_kubeadm(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = { "action", "config", "wait_for",
					    NULL };
	static const char *const wkeys[] = { "url", "ca", "timeout", NULL };
	const struct ynode *m = ynode_get(root, "kubeadm"), *n, *w;
	int action = 0;

	if (m == NULL)
		return perr(c, root, "kubeadm is required");
	if (want(c, m, YNODE_MAP, "kubeadm") < 0 ||
	    check_keys(c, m, "kubeadm", keys) < 0)
		return -EINVAL;
	if (get_scalar(c, m, "action", "kubeadm.action", true, &n) < 0 ||
	    pick(c, n, "kubeadm.action", action_names, 4, &action) < 0)
		return -EINVAL;
	p->kubeadm.action = (enum fb_action)action;
	switch (p->kubeadm.action) {
	case FB_ACTION_INIT:
	case FB_ACTION_JOIN_CONTROL_PLANE:
		if (p->node.role != FB_ROLE_CONTROL_PLANE)
			return perr(c, n,
				    "kubeadm.action %s needs role "
				    "control-plane",
				    fb_action_name(p->kubeadm.action));
		break;
	case FB_ACTION_JOIN:
		if (p->node.role != FB_ROLE_WORKER)
			return perr(c, n,
				    "kubeadm.action join needs role "
				    "worker");
		break;
	case FB_ACTION_ETCD:
		if (p->node.role != FB_ROLE_ETCD)
			return perr(c, n,
				    "kubeadm.action etcd needs role "
				    "etcd");
		break;
	}
	if (get_scalar(c, m, "config", "kubeadm.config", true, &n) < 0)
		return -EINVAL;
	if (n->len == 0)
		return perr(c, n, "kubeadm.config must not be empty");
	p->kubeadm.config = malloc(n->len + 1);
	if (p->kubeadm.config == NULL)
		return oom(c);
	memcpy(p->kubeadm.config, n->str, n->len + 1);
	p->kubeadm.config_len = n->len;
	if (p->kubeadm.action == FB_ACTION_INIT &&
	    find_external_etcd(c, n, p) < 0)
		return -EINVAL;

	w = ynode_get(m, "wait_for");
	if (w == NULL || ynode_is_null(w))
		return 0;
	if (p->kubeadm.action == FB_ACTION_INIT ||
	    p->kubeadm.action == FB_ACTION_ETCD)
		return perr(c, w, "kubeadm.wait_for is only for joiners");
	if (want(c, w, YNODE_MAP, "kubeadm.wait_for") < 0 ||
	    check_keys(c, w, "kubeadm.wait_for", wkeys) < 0)
		return -EINVAL;
	if (get_scalar(c, w, "url", "kubeadm.wait_for.url", true, &n) < 0)
		return -EINVAL;
	if (!is_https(n->str) || !url_ok(n->str))
		return perr(c, n,
			    "kubeadm.wait_for.url must be an https:// "
			    "URL");
	if (dup_str(c, n, &p->kubeadm.wait_url) < 0)
		return -ENOMEM;
	if (get_scalar(c, w, "ca", "kubeadm.wait_for.ca", true, &n) < 0)
		return -EINVAL;
	if (!is_pem_cert(n->str))
		return perr(c, n,
			    "kubeadm.wait_for.ca must be a PEM "
			    "certificate");
	if (dup_str(c, n, &p->kubeadm.wait_ca) < 0)
		return -ENOMEM;
	if (get_uint(c, w, "timeout", "kubeadm.wait_for.timeout", 1,
		     FB_MAX_TIMEOUT, FB_DEFAULT_WAIT,
		     &p->kubeadm.wait_timeout) < 0)
		return -EINVAL;
	p->kubeadm.has_wait = true;
	return 0;
}

static bool
sha256_hex_ok(char *s)
{
	size_t i;

	if (strlen(s) != 64)
		return false;
	for (i = 0; i < 64; i++) {
		if (s[i] >= 'A' && s[i] <= 'F')
			s[i] = (char)(s[i] - 'A' + 'a');
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static int
parse_cni(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = { "name", "manifest", "sha256",
					    NULL };
	const struct ynode *m = ynode_get(root, "cni"), *n;

	if (m == NULL || ynode_is_null(m))
		return 0;
	if (want(c, m, YNODE_MAP, "cni") < 0 ||
	    check_keys(c, m, "cni", keys) < 0)
		return -EINVAL;
	if (p->kubeadm.action != FB_ACTION_INIT)
		return perr(c, m,
			    "cni is only for the first control-plane "
			    "node (kubeadm.action init)");
	if (get_scalar(c, m, "name", "cni.name", true, &n) < 0)
		return -EINVAL;
	if (!token_ok(n->str))
		return perr(c, n, "cni.name is invalid");
	if (dup_str(c, n, &p->cni.name) < 0)
		return -ENOMEM;
	if (get_scalar(c, m, "manifest", "cni.manifest", false, &n) < 0)
		return -EINVAL;
	p->has_cni = true;
	if (n == NULL)
		return 0;
	if (!is_http_or_https(n->str) || !url_ok(n->str))
		return perr(c, n, "cni.manifest must be an http(s) URL");
	if (dup_str(c, n, &p->cni.manifest) < 0)
		return -ENOMEM;
	if (get_scalar(c, m, "sha256", "cni.sha256", true, &n) < 0)
		return -EINVAL;
	if (dup_str(c, n, &p->cni.sha256) < 0)
		return -ENOMEM;
	if (!sha256_hex_ok(p->cni.sha256))
		return perr(c, n, "cni.sha256 must be 64 hex digits");
	return 0;
}

static int
parse_vip(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = { "address", "port", "interface_file",
					    NULL };
	const struct ynode *m = ynode_get(root, "control_plane_vip"), *n;

	if (m == NULL || ynode_is_null(m))
		return 0;
	if (want(c, m, YNODE_MAP, "control_plane_vip") < 0 ||
	    check_keys(c, m, "control_plane_vip", keys) < 0)
		return -EINVAL;
	if (p->node.role != FB_ROLE_CONTROL_PLANE)
		return perr(c, m,
			    "control_plane_vip is only for control-plane "
			    "nodes");
	if (get_scalar(c, m, "address", "control_plane_vip.address", true, &n) <
	    0)
		return -EINVAL;
	if (ipv4_parse(n->str, &p->vip.ip) < 0)
		return perr(c, n,
			    "control_plane_vip.address is not an IPv4 "
			    "address");
	if (dup_str(c, n, &p->vip.address) < 0)
		return -ENOMEM;
	if (get_scalar(c, m, "port", "control_plane_vip.port", true, &n) < 0 ||
	    get_uint(c, m, "port", "control_plane_vip.port", 1, 65535, 0,
		     &p->vip.port) < 0)
		return -EINVAL;
	if (get_scalar(c, m, "interface_file",
		       "control_plane_vip.interface_file", true, &n) < 0)
		return -EINVAL;
	if (!abs_path_ok(n->str))
		return perr(c, n,
			    "control_plane_vip.interface_file must be "
			    "absolute, without '.' or '..' components");
	if (dup_str(c, n, &p->vip.interface_file) < 0)
		return -ENOMEM;
	p->has_vip = true;
	return 0;
}

static int
parse_root(struct pctx *c, const struct ynode *root, struct fb_payload *p)
{
	static const char *const keys[] = {
		"version",
		"node",
		"cluster",
		"server",
		"hosts",
		"kernel_modules",
		"sysctls",
		"swap_off",
		"selinux",
		"firewall",
		"container_runtime",
		"files",
		"control_plane_vip",
		"kubeadm",
		"cni",
		"ready_timeout",
		NULL,
	};
	static const char *const selinux[] = { "keep", "permissive",
					       "disabled" };
	const struct ynode *n;
	int sel;

	if (root == NULL)
		return perr(c, NULL, "the payload is empty");
	if (want(c, root, YNODE_MAP, "the payload") < 0 ||
	    check_keys(c, root, "the payload", keys) < 0)
		return -EINVAL;
	if (get_scalar(c, root, "version", "version", true, &n) < 0)
		return -EINVAL;
	if (strcmp(n->str, "1") != 0)
		return perr(c, n, "only version 1 is understood");
	if (parse_node(c, root, p) < 0 || parse_cluster(c, root, p) < 0 ||
	    parse_server(c, root, p) < 0 || parse_hosts(c, root, p) < 0 ||
	    parse_modules(c, root, p) < 0 || parse_sysctls(c, root, p) < 0)
		return -EINVAL;
	if (get_bool(c, root, "swap_off", "swap_off", false, &p->swap_off) < 0)
		return -EINVAL;
	sel = FB_SELINUX_KEEP;
	if (get_scalar(c, root, "selinux", "selinux", false, &n) < 0 ||
	    (n != NULL && pick(c, n, "selinux", selinux, 3, &sel) < 0))
		return -EINVAL;
	p->selinux = (enum fb_selinux)sel;
	if (parse_firewall(c, root, p) < 0 || parse_runtime(c, root, p) < 0 ||
	    parse_files(c, root, p) < 0 || parse_vip(c, root, p) < 0 ||
	    parse_kubeadm(c, root, p) < 0 || parse_cni(c, root, p) < 0)
		return -EINVAL;
	if (get_uint(c, root, "ready_timeout", "ready_timeout", 1,
		     FB_MAX_TIMEOUT, FB_DEFAULT_READY, &p->ready_timeout) < 0)
		return -EINVAL;
	return 0;
}

int
fb_payload_parse(const char *file, const void *data, size_t len,
		 struct fb_payload **ret, struct fb_perror *err)
{
	struct pctx c = { .ys = { file, NULL, 0 } };
	struct ydoc *doc = NULL;
	struct fb_payload *p = NULL;
	struct yerror yerr;
	int r;

	memset(err, 0, sizeof(*err));
	diags_init(&c.d);
	c.ys.d = &c.d;
	if (len > FB_PAYLOAD_MAX) {
		snprintf(err->msg, sizeof(err->msg),
			 "the payload is larger than %u bytes", FB_PAYLOAD_MAX);
		return -EINVAL;
	}
	r = ydoc_parse(file, data, len, &doc, &yerr);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		err->line = yerr.line;
		err->col = yerr.col;
		snprintf(err->msg, sizeof(err->msg), "%s", yerr.msg);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = parse_root(&c, doc->root, p);
	if (r == 0)
		r = status(&c);
	if (c.ys.oom || c.d.oom)
		r = -ENOMEM;
	if (r == -EINVAL && c.d.n > 0) {
		/* The walk stops at the first problem: report that one. */
		err->line = c.d.items[0].line;
		err->col = c.d.items[0].col;
		snprintf(err->msg, sizeof(err->msg), "%s", c.d.items[0].msg);
	}
	if (r < 0)
		goto out;
	*ret = p;
	p = NULL;
out:
	diags_done(&c.d);
	fb_payload_free(p);
	ydoc_free(doc);
	return r;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_secret(char *s, size_t len)
{
	if (s == NULL)
		return;
	explicit_bzero(s, len);
	free(s);
}

struct fb_payload *
fb_payload_free(struct fb_payload *p)
{
	size_t i;

	if (p == NULL)
		return NULL;
	free(p->node.name);
	free(p->node.ip);
	free(p->cluster.name);
	free(p->cluster.kubernetes_version);
	free(p->cluster.endpoint);
	free(p->cluster.pod_subnet);
	free(p->cluster.service_subnet);
	free(p->server_url);
	free(p->server_ca);
	for (i = 0; i < p->nhosts; i++) {
		free(p->hosts[i].ip);
		free_strv(p->hosts[i].names, p->hosts[i].nnames);
	}
	free(p->hosts);
	free_strv(p->modules, p->nmodules);
	for (i = 0; i < p->nsysctls; i++) {
		free(p->sysctls[i].key);
		free(p->sysctls[i].value);
	}
	free(p->sysctls);
	free(p->ports);
	free(p->runtime.cgroup_driver);
	free(p->runtime.log_max_size);
	free(p->runtime.storage_driver);
	free_strv(p->runtime.mirrors, p->runtime.nmirrors);
	free(p->runtime.cri_socket);
	free(p->runtime.sandbox_image);
	for (i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free_secret(p->files[i].content, p->files[i].len);
	}
	free(p->files);
	free_secret(p->kubeadm.config, p->kubeadm.config_len);
	free(p->vip.address);
	free(p->vip.interface_file);
	free(p->kubeadm.wait_url);
	free(p->kubeadm.wait_ca);
	free_strv(p->kubeadm.etcd_endpoints, p->kubeadm.netcd);
	free(p->kubeadm.etcd_ca);
	free(p->kubeadm.etcd_cert);
	free(p->kubeadm.etcd_key);
	free(p->cni.name);
	free(p->cni.manifest);
	free(p->cni.sha256);
	free(p);
	return NULL;
}
