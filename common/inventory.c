/*
 * inventory.c - cluster.yaml into structs, with defaults and validation.
 *
 * The loader walks the YAML tree with a small context that knows the file
 * name, so that every complaint carries the position of the node it is
 * about. Checks never stop at the first problem: a bad field is reported
 * and left at its default, and validation goes on.
 */
#include "inventory.h"

#include "storage.h"

#include "fsutil.h"
#include "num.h"
#include "path.h"
#include "yload.h"
#include "yschema.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MB_SOURCE_PROFILES
#define MB_SOURCE_PROFILES "profiles"
#endif

/* The oldest Kubernetes whose kubeadm reads v1beta3. */
#define INV_MIN_K8S_MINOR 22

static const char *role_names[ROLE_COUNT] = { "control-plane", "worker",
					      "etcd" };

const char *
os_family_name(enum os_family f)
{
	return f == OS_RHEL ? "rhel" : "debian";
}

/* os_family's value at key of m into *ret; false when absent or bad. */
static bool
get_os_family(struct ys_ctx *c, const struct ynode *m, const char *what,
	      enum os_family *ret)
{
	const struct ynode *vn;
	const char *s = ys_get_scalar(c, m, "os_family", what, 0, &vn);

	if (s == NULL)
		return false;
	if (strcmp(s, "debian") == 0)
		*ret = OS_DEBIAN;
	else if (strcmp(s, "rhel") == 0)
		*ret = OS_RHEL;
	else {
		ys_err(c, vn,
		       "%s must be debian (Debian, Ubuntu: apt) or rhel "
		       "(RHEL, CentOS, Rocky, Alma, Fedora: yum/dnf)",
		       what);
		return false;
	}
	return true;
}

const char *
role_name(enum node_role role)
{
	return role < ROLE_COUNT ? role_names[role] : "unknown";
}

/*
 * The pause image tag each kubeadm release pins (PauseVersion in kubeadm's
 * constants.go, the image "kubeadm config images list" names), by minor.
 */
const char *
inventory_pause_tag(unsigned minor)
{
	static const struct {
		unsigned from;
		const char *tag;
	} tags[] = {
		{ 34, "3.10.1" }, { 31, "3.10" }, { 26, "3.9" },
		{ 25, "3.8" },	  { 24, "3.7" },  { 23, "3.6" },
	};
	size_t i;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (minor >= tags[i].from)
			return tags[i].tag;
	return "3.5";
}

int
inventory_sandbox_image(const struct inventory *inv, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/pause:%s",
			 inv->cluster.image_repository,
			 inventory_pause_tag(inv->cluster.kv_minor));

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Replace *dst with a copy of s when s is not NULL. */
static void
set_str(struct ys_ctx *c, char **dst, const char *s)
{
	char *p;

	if (s == NULL)
		return;
	p = ys_strdup(c, s);
	if (p == NULL)
		return;
	free(*dst);
	*dst = p;
}

static void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Read a list of non-empty scalars into *out (replacing it). check, when
 * not NULL, validates each item and reports its own error.
 */
static bool
get_strlist(struct ys_ctx *c, const struct ynode *m, const char *key,
	    const char *what, struct strlist *out,
	    bool (*check)(struct ys_ctx *, const struct ynode *, const char *))
{
	const struct ynode *n = ynode_get(m, key);
	struct strlist l = { NULL, 0 };
	size_t i;
	bool ok = true;

	if (n == NULL || ynode_is_null(n))
		return false;
	if (!ys_want_type(c, n, YNODE_SEQ, what))
		return false;
	if (n->n > INV_MAX_LIST) {
		ys_err(c, n, "%s has more than %d items", what, INV_MAX_LIST);
		return false;
	}
	l.v = calloc(n->n ? n->n : 1, sizeof(*l.v));
	if (l.v == NULL) {
		c->oom = 1;
		return false;
	}
	for (i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];

		if (it->type != YNODE_SCALAR || it->len == 0 ||
		    strlen(it->str) != it->len) {
			ys_err(c, it,
			       "each item of %s must be a non-empty "
			       "string",
			       what);
			ok = false;
			continue;
		}
		if (check != NULL && !check(c, it, what)) {
			ok = false;
			continue;
		}
		l.v[l.n] = ys_strdup(c, it->str);
		if (l.v[l.n] == NULL)
			ok = false;
		else
			l.n++;
	}
	if (!ok) {
		strlist_free(&l);
		return false;
	}
	strlist_free(out);
	*out = l;
	return true;
}

/* ---- role profiles ---------------------------------------------------- */

static const char *const profile_keys[] = {
	"role",	    "kernel_modules",	 "sysctls", "swap_off", "selinux",
	"firewall", "container_runtime", "storage", NULL
};
static const char *const storage_keys[] = { "state_device", "wipe",
					    "tmpfs_size", NULL };
static const char *const runtime_keys[] = { "cgroup_driver", "log_max_size",
					    "log_max_files", "storage_driver",
					    NULL };
static const char *const port_keys[] = { "port", "proto", "what", NULL };

static bool
check_module(struct ys_ctx *c, const struct ynode *n, const char *what)
{
	size_t i;

	for (i = 0; i < n->len; i++) {
		char ch = n->str[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-')) {
			ys_err(c, n, "%s: '%s' is not a module name", what,
			       n->str);
			return false;
		}
	}
	return true;
}

static bool
sysctl_key_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 200 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      ch == '.' || ch == '/'))
			return false;
		if (ch == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

static void
storage_free(struct inv_storage *st)
{
	free(st->state_device);
	free(st->tmpfs_size);
	memset(st, 0, sizeof(*st));
}

static void
profile_free(struct role_profile *p)
{
	size_t i;

	storage_free(&p->storage);
	strlist_free(&p->modules);
	for (i = 0; i < p->nsysctls; i++) {
		free(p->sysctls[i].key);
		free(p->sysctls[i].value);
	}
	free(p->sysctls);
	for (i = 0; i < p->nports; i++)
		free(p->ports[i].what);
	free(p->ports);
	free(p->runtime.cgroup_driver);
	free(p->runtime.log_max_size);
	free(p->runtime.storage_driver);
	memset(p, 0, sizeof(*p));
}

static void
parse_sysctls(struct ys_ctx *c, const struct ynode *n, struct role_profile *p)
{
	struct sysctl *v;
	size_t i, k = 0;

	if (!ys_want_type(c, n, YNODE_MAP, "sysctls"))
		return;
	if (n->n > INV_MAX_LIST) {
		ys_err(c, n, "sysctls has more than %d entries", INV_MAX_LIST);
		return;
	}
	v = calloc(n->n ? n->n : 1, sizeof(*v));
	if (v == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < n->n; i++) {
		const struct ynode *key = n->items[2 * i];
		const struct ynode *val = n->items[2 * i + 1];
		char b[80];

		if (!sysctl_key_valid(key->str)) {
			ys_err(c, key, "'%s' is not a sysctl name",
			       ys_qnode(key, b, sizeof(b)));
			continue;
		}
		if (val->type != YNODE_SCALAR || val->len == 0 ||
		    strlen(val->str) != val->len ||
		    strpbrk(val->str, "\n\r") != NULL) {
			ys_err(c, val, "sysctl %s needs a one-line value",
			       key->str);
			continue;
		}
		v[k].key = ys_strdup(c, key->str);
		v[k].value = ys_strdup(c, val->str);
		k++;
	}
	for (i = 0; i < p->nsysctls; i++) {
		free(p->sysctls[i].key);
		free(p->sysctls[i].value);
	}
	free(p->sysctls);
	p->sysctls = v;
	p->nsysctls = k;
}

static bool
parse_port(struct ys_ctx *c, const struct ynode *n, struct port_range *out)
{
	const struct ynode *pn;
	const char *ps, *proto, *what, *dash;
	char b[80];
	uint64_t a, z;

	if (!ys_want_type(c, n, YNODE_MAP, "a firewall entry"))
		return false;
	ys_check_keys(c, n, "a firewall entry", port_keys);
	ps = ys_get_scalar(c, n, "port", "firewall port", YS_REQUIRED, &pn);
	if (ps == NULL)
		return false;
	dash = strchr(ps, '-');
	if (dash != NULL) {
		if (num_parse_u64n(ps, (size_t)(dash - ps), 1, 65535, &a) < 0 ||
		    num_parse_u64(dash + 1, 1, 65535, &z) < 0 || a > z) {
			ys_err(c, pn,
			       "'%s' is not a port or a range N-M "
			       "within 1-65535",
			       ys_qnode(pn, b, sizeof(b)));
			return false;
		}
	} else if (num_parse_u64(ps, 1, 65535, &a) < 0) {
		ys_err(c, pn, "'%s' is not a port within 1-65535",
		       ys_qnode(pn, b, sizeof(b)));
		return false;
	} else {
		z = a;
	}
	out->first = (uint16_t)a;
	out->last = (uint16_t)z;
	out->udp = false;
	proto = ys_get_scalar(c, n, "proto", "firewall proto", 0, &pn);
	if (proto != NULL) {
		if (strcmp(proto, "udp") == 0)
			out->udp = true;
		else if (strcmp(proto, "tcp") != 0) {
			ys_err(c, pn, "proto must be tcp or udp");
			return false;
		}
	}
	what = ys_get_scalar(c, n, "what", "firewall what", 0, NULL);
	out->what = ys_strdup(c, what ? what : "");
	return true;
}

static void
parse_ports(struct ys_ctx *c, const struct ynode *n, struct role_profile *p)
{
	struct port_range *v;
	size_t i, k = 0;

	if (!ys_want_type(c, n, YNODE_SEQ, "firewall"))
		return;
	if (n->n > INV_MAX_LIST) {
		ys_err(c, n, "firewall has more than %d entries", INV_MAX_LIST);
		return;
	}
	v = calloc(n->n ? n->n : 1, sizeof(*v));
	if (v == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < n->n; i++)
		if (parse_port(c, n->items[i], &v[k]))
			k++;
	for (i = 0; i < p->nports; i++)
		free(p->ports[i].what);
	free(p->ports);
	p->ports = v;
	p->nports = k;
}

static void
parse_runtime_cfg(struct ys_ctx *c, const struct ynode *n,
		  struct runtime_cfg *rc)
{
	const struct ynode *vn;
	const char *s;
	uint64_t v;

	if (!ys_want_type(c, n, YNODE_MAP, "container_runtime"))
		return;
	ys_check_keys(c, n, "container_runtime", runtime_keys);
	s = ys_get_scalar(c, n, "cgroup_driver", "cgroup_driver", 0, &vn);
	if (s != NULL) {
		if (strcmp(s, "systemd") != 0 && strcmp(s, "cgroupfs") != 0)
			ys_err(c, vn,
			       "cgroup_driver must be systemd or "
			       "cgroupfs");
		else
			set_str(c, &rc->cgroup_driver, s);
	}
	s = ys_get_scalar(c, n, "log_max_size", "log_max_size", 0, &vn);
	if (s != NULL) {
		size_t len = strlen(s);
		char unit = s[len - 1];

		if (len < 2 || (unit != 'k' && unit != 'm' && unit != 'g') ||
		    num_parse_u64n(s, len - 1, 1, 1u << 20, &v) < 0)
			ys_err(c, vn,
			       "log_max_size must look like 100m "
			       "(k, m or g)");
		else
			set_str(c, &rc->log_max_size, s);
	}
	s = ys_get_scalar(c, n, "log_max_files", "log_max_files", 0, &vn);
	if (s != NULL) {
		if (num_parse_u64(s, 1, 100, &v) < 0)
			ys_err(c, vn, "log_max_files must be 1-100");
		else
			rc->log_max_files = (unsigned)v;
	}
	s = ys_get_scalar(c, n, "storage_driver", "storage_driver", 0, &vn);
	if (s != NULL) {
		if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
		    strlen(s))
			ys_err(c, vn, "'%s' is not a storage driver name", s);
		else
			set_str(c, &rc->storage_driver, s);
	}
}

/* storage: {state_device, wipe, tmpfs_size} at n into *st (replaced). */
static void
parse_storage(struct ys_ctx *c, const struct ynode *n, struct inv_storage *st)
{
	const struct ynode *vn;
	const char *s;
	char b[80];

	storage_free(st);
	if (!ys_want_type(c, n, YNODE_MAP, "storage"))
		return;
	ys_check_keys(c, n, "storage", storage_keys);
	st->set = true;
	st->line = n->line;
	st->col = n->col;
	s = ys_get_scalar(c, n, "state_device", "storage.state_device", 0, &vn);
	if (s != NULL && !storage_device_valid(s))
		ys_err(c, vn,
		       "storage.state_device '%s' is not a block device path "
		       "(/dev/NAME, such as /dev/vda or /dev/nvme0n1; udev's "
		       "/dev/disk/by-* links do not exist when it is mounted)",
		       ys_qnode(vn, b, sizeof(b)));
	else if (s != NULL)
		set_str(c, &st->state_device, s);
	ys_get_bool(c, n, "wipe", "storage.wipe", YS_BOOL_NO_YESNO, &st->wipe);
	if (st->wipe && s == NULL)
		ys_err(c, ynode_get(n, "wipe"),
		       "storage.wipe: true needs a storage.state_device to "
		       "wipe");
	s = ys_get_scalar(c, n, "tmpfs_size", "storage.tmpfs_size", 0, &vn);
	if (s != NULL && storage_tmpfs_check(s) < 0)
		ys_err(c, vn,
		       "storage.tmpfs_size '%s' is neither a size (512M, "
		       "2G, 4GiB) nor a share of RAM (1%%-100%%)",
		       ys_qnode(vn, b, sizeof(b)));
	else if (s != NULL)
		set_str(c, &st->tmpfs_size, s);
}

/* Apply the keys present in map n to profile p (a profile or override). */
static void
parse_profile(struct ys_ctx *c, const struct ynode *n, struct role_profile *p,
	      const char *where)
{
	const struct ynode *vn;
	const char *s;
	bool b;

	if (!ys_want_type(c, n, YNODE_MAP, where))
		return;
	ys_check_keys(c, n, where, profile_keys);
	get_strlist(c, n, "kernel_modules", "kernel_modules", &p->modules,
		    check_module);
	vn = ynode_get(n, "sysctls");
	if (vn != NULL && !ynode_is_null(vn))
		parse_sysctls(c, vn, p);
	if (ys_get_bool(c, n, "swap_off", "swap_off", 0, &b))
		p->swap_off = b;
	s = ys_get_scalar(c, n, "selinux", "selinux", 0, &vn);
	if (s != NULL) {
		if (strcmp(s, "permissive") == 0)
			p->selinux = SELINUX_PERMISSIVE;
		else if (strcmp(s, "disabled") == 0)
			p->selinux = SELINUX_DISABLED;
		else if (strcmp(s, "keep") == 0)
			p->selinux = SELINUX_KEEP;
		else
			ys_err(c, vn,
			       "selinux must be permissive, disabled "
			       "or keep");
	}
	vn = ynode_get(n, "firewall");
	if (vn != NULL && !ynode_is_null(vn))
		parse_ports(c, vn, p);
	vn = ynode_get(n, "container_runtime");
	if (vn != NULL && !ynode_is_null(vn))
		parse_runtime_cfg(c, vn, &p->runtime);
	vn = ynode_get(n, "storage");
	if (vn != NULL && !ynode_is_null(vn))
		parse_storage(c, vn, &p->storage);
}

static void
profile_defaults(struct ys_ctx *c, struct role_profile *p)
{
	p->swap_off = true;
	p->selinux = SELINUX_PERMISSIVE;
	p->runtime.cgroup_driver = ys_strdup(c, "systemd");
	p->runtime.log_max_size = ys_strdup(c, "100m");
	p->runtime.log_max_files = 5;
	p->runtime.storage_driver = ys_strdup(c, "overlay2");
}

/* Load profiles_dir/roles/ROLE.yaml into p; a missing file is an error. */
static void
load_profile(struct ys_ctx *outer, const char *dir, enum node_role role,
	     struct role_profile *p)
{
	char path[PATH_MAX];
	struct yerror err;
	struct ydoc *doc = NULL;
	struct ys_ctx c = { path, outer->d, 0 };
	const struct ynode *rn;
	const char *rs;
	int w;

	profile_defaults(outer, p);
	w = snprintf(path, sizeof(path), "%s/roles/%s.yaml", dir,
		     role_name(role));
	if (w < 0 || (size_t)w >= sizeof(path)) {
		diags_add(outer->d, DIAG_ERROR, dir, 0, 0,
			  "profiles path too long");
		return;
	}
	if (ydoc_load(path, &doc, &err) < 0) {
		diags_add(outer->d, DIAG_ERROR, path, err.line, err.col,
			  "cannot load role profile: %s", err.msg);
		return;
	}
	if (doc->root == NULL) {
		diags_add(outer->d, DIAG_ERROR, path, 0, 0, "empty profile");
		goto out;
	}
	rs = ys_get_scalar(&c, doc->root, "role", "role", YS_REQUIRED, &rn);
	if (rs != NULL && strcmp(rs, role_name(role)) != 0)
		ys_err(&c, rn,
		       "this profile says role '%s' but is named for "
		       "'%s'",
		       rs, role_name(role));
	parse_profile(&c, doc->root, p, "a role profile");
out:
	if (c.oom)
		outer->oom = 1;
	ydoc_free(doc);
}

/* ---- the inventory ---------------------------------------------------- */

static const char *const top_keys[] = { "cluster", "network",	   "boot",
					"nodes",   "provisioning", "roles",
					NULL };
static const char *const cluster_keys[] = { "name",
					    "kubernetes_version",
					    "control_plane_endpoint",
					    "allow_node_endpoint",
					    "pod_subnet",
					    "service_subnet",
					    "dns_domain",
					    "image_repository",
					    "container_runtime",
					    "registry_mirrors",
					    "cri_socket",
					    "cni",
					    "token_ttl",
					    "etcd",
					    "apiserver_cert_sans",
					    "control_plane_vip",
					    "os_family",
					    NULL };
static const char *const vip_keys[] = { "address",   "port", "router_id",
					"multicast", "mode", NULL };
static const char *const cni_keys[] = { "name", "manifest", "sha256", NULL };
static const char *const network_keys[] = {
	"server_ip", "subnet",	  "gateway",	"dns", "dhcp",
	"pool",	     "interface", "lease_time", NULL
};
static const char *const boot_keys[] = { "kernel", "base", "cmdline",
					 "secure_boot", NULL };
static const char *const node_keys[] = { "name",      "mac",	 "ip",
					 "role",      "taints",	 "secure_boot",
					 "os_family", "storage", "memory",
					 NULL };
static const char *const roles_keys[] = { "control-plane", "worker", "etcd",
					  NULL };
static const char *const provisioning_keys[] = { "etcd", NULL };
static const char *const prov_etcd_keys[] = { "endpoints", "prefix",  "ca",
					      "ca_key",	   "cluster", NULL };

static bool
is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static bool
check_url(struct ys_ctx *c, const struct ynode *n, const char *what)
{
	size_t i;

	if (!is_url(n->str) || n->len < 9) {
		ys_err(c, n, "%s: '%s' is not an http:// or https:// URL", what,
		       n->str);
		return false;
	}
	for (i = 0; i < n->len; i++) {
		unsigned char ch = (unsigned char)n->str[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\'') {
			ys_err(c, n,
			       "%s: URL holds a space, quote or "
			       "control byte",
			       what);
			return false;
		}
	}
	return true;
}

static bool
check_san(struct ys_ctx *c, const struct ynode *n, const char *what)
{
	uint32_t ip;

	if (ipv4_parse(n->str, &ip) == 0 || hostname_valid(n->str))
		return true;
	ys_err(c, n, "%s: '%s' is neither an IPv4 address nor a host name",
	       what, n->str);
	return false;
}

static bool
check_taint(struct ys_ctx *c, const struct ynode *n, const char *what)
{
	const char *colon = strrchr(n->str, ':');
	size_t i;

	if (colon == NULL || colon == n->str ||
	    (strcmp(colon + 1, "NoSchedule") != 0 &&
	     strcmp(colon + 1, "PreferNoSchedule") != 0 &&
	     strcmp(colon + 1, "NoExecute") != 0)) {
		ys_err(c, n,
		       "%s: '%s' is not key[=value]:NoSchedule|"
		       "PreferNoSchedule|NoExecute",
		       what, n->str);
		return false;
	}
	for (i = 0; n->str + i < colon; i++) {
		char ch = n->str[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		      ch == '.' || ch == '/' || ch == '=')) {
			ys_err(c, n,
			       "%s: '%s' has a character a taint may "
			       "not hold",
			       what, n->str);
			return false;
		}
	}
	return true;
}

/* Resolve a path relative to the inventory's directory. */
static char *
resolve_rel(struct ys_ctx *c, const struct inventory *inv, const char *p)
{
	char buf[PATH_MAX];

	if (p[0] == '/' || inv->dir == NULL)
		return ys_strdup(c, p);
	if (path_join(buf, sizeof(buf), inv->dir, p) < 0)
		return ys_strdup(c, p);
	return ys_strdup(c, buf);
}

static int
parse_version(const char *s, unsigned *maj, unsigned *min, unsigned *pat)
{
	const char *p = s + 1, *dot1, *dot2;
	uint64_t a, b, z;

	if (s[0] != 'v')
		return -EINVAL;
	dot1 = strchr(p, '.');
	if (dot1 == NULL)
		return -EINVAL;
	dot2 = strchr(dot1 + 1, '.');
	if (dot2 == NULL)
		return -EINVAL;
	if (num_parse_u64n(p, (size_t)(dot1 - p), 0, 99, &a) < 0 ||
	    num_parse_u64n(dot1 + 1, (size_t)(dot2 - dot1 - 1), 0, 999, &b) <
		    0 ||
	    num_parse_u64(dot2 + 1, 0, 999, &z) < 0)
		return -EINVAL;
	*maj = (unsigned)a;
	*min = (unsigned)b;
	*pat = (unsigned)z;
	return 0;
}

/*
 * cluster.control_plane_vip, its shape only: validate_vip() checks it
 * against the network and the nodes once everything is parsed.
 */
static void
parse_vip(struct ys_ctx *c, const struct ynode *m, struct inventory *inv)
{
	struct inv_vip *v = &inv->cluster.vip;
	const struct ynode *vn;
	const char *s;
	uint64_t u;
	char b[80];
	bool bv;

	if (m == NULL || ynode_is_null(m) ||
	    !ys_want_type(c, m, YNODE_MAP, "cluster.control_plane_vip"))
		return;
	ys_check_keys(c, m, "control_plane_vip", vip_keys);
	v->set = true;
	v->line = m->line;
	v->col = m->col;
	v->port = INV_VIP_PORT_DEFAULT;
	v->router_id = INV_VIP_ROUTER_ID_DEFAULT;
	ys_get_ip(c, m, "address", "control_plane_vip.address", YS_REQUIRED,
		  &v->address);
	s = ys_get_scalar(c, m, "port", "control_plane_vip.port", 0, &vn);
	if (s != NULL) {
		if (num_parse_u64(s, 1, 65535, &u) < 0)
			ys_err(c, vn,
			       "control_plane_vip.port '%s' must be a "
			       "port, 1-65535",
			       ys_qnode(vn, b, sizeof(b)));
		else
			v->port = (uint16_t)u;
	}
	s = ys_get_scalar(c, m, "router_id", "control_plane_vip.router_id", 0,
			  &vn);
	if (s != NULL) {
		if (num_parse_u64(s, 1, 255, &u) < 0)
			ys_err(c, vn,
			       "control_plane_vip.router_id '%s' must be a "
			       "VRRP router id, 1-255, unique on the "
			       "network",
			       ys_qnode(vn, b, sizeof(b)));
		else
			v->router_id = (unsigned)u;
	}
	if (ys_get_bool(c, m, "multicast", "control_plane_vip.multicast", 0,
			&bv))
		v->multicast = bv;
	s = ys_get_scalar(c, m, "mode", "control_plane_vip.mode", 0, &vn);
	if (s != NULL && strcmp(s, "static-pods") == 0)
		ys_err(c, vn,
		       "control_plane_vip.mode static-pods is not "
		       "implemented: keepalived and haproxy run from the "
		       "base's packages (mode: packages)");
	else if (s != NULL && strcmp(s, "packages") != 0)
		ys_err(c, vn,
		       "control_plane_vip.mode must be packages "
		       "(keepalived and haproxy from the base's packages)");
}

static void
parse_cluster(struct ys_ctx *c, const struct ynode *m, struct inventory *inv)
{
	const struct ynode *vn, *cni;
	const char *s;
	char host[HOST_NAME_MAX_LEN + 1];
	char b[80];
	bool bv;

	if (!ys_want_type(c, m, YNODE_MAP, "cluster"))
		return;
	ys_check_keys(c, m, "cluster", cluster_keys);

	s = ys_get_scalar(c, m, "name", "cluster.name", YS_REQUIRED, &vn);
	if (s != NULL) {
		if (!dns_label_valid(s))
			ys_err(c, vn,
			       "cluster.name '%s' is not an RFC 1123 "
			       "label (a-z, 0-9, '-', at most 63)",
			       ys_qnode(vn, b, sizeof(b)));
		else
			set_str(c, &inv->cluster.name, s);
	}

	s = ys_get_scalar(c, m, "kubernetes_version",
			  "cluster.kubernetes_version", YS_REQUIRED, &vn);
	if (s != NULL) {
		unsigned a, bb, z;

		if (parse_version(s, &a, &bb, &z) < 0)
			ys_err(c, vn,
			       "kubernetes_version '%s' must look like "
			       "v1.30.2",
			       ys_qnode(vn, b, sizeof(b)));
		else if (a != 1 || bb < INV_MIN_K8S_MINOR)
			ys_err(c, vn,
			       "kubernetes_version %s is not supported "
			       "(v1.%d.0 or later: kubeadm config "
			       "v1beta3/v1beta4)",
			       s, INV_MIN_K8S_MINOR);
		else {
			inv->cluster.kv_line = vn->line;
			inv->cluster.kv_col = vn->col;
			set_str(c, &inv->cluster.kubernetes_version, s);
			inv->cluster.kv_major = a;
			inv->cluster.kv_minor = bb;
			inv->cluster.kv_patch = z;
		}
	}

	s = ys_get_scalar(c, m, "control_plane_endpoint",
			  "cluster.control_plane_endpoint", 0, &vn);
	if (s != NULL) {
		uint16_t port;

		if (hostport_parse(s, host, sizeof(host), &port) < 0)
			ys_err(c, vn,
			       "control_plane_endpoint '%s' must be "
			       "host:port (an IPv4 address or DNS name, "
			       "port 1-65535)",
			       ys_qnode(vn, b, sizeof(b)));
		else {
			set_str(c, &inv->cluster.endpoint_host, host);
			inv->cluster.endpoint_port = port;
			inv->cluster.endpoint_set = true;
		}
	}
	if (ys_get_bool(c, m, "allow_node_endpoint", "allow_node_endpoint", 0,
			&bv))
		inv->cluster.allow_node_endpoint = bv;

	s = ys_get_scalar(c, m, "pod_subnet", "cluster.pod_subnet", 0, &vn);
	if (s != NULL && cidr_parse(s, true, &inv->cluster.pod_subnet) < 0)
		ys_err(c, vn,
		       "pod_subnet '%s' is not a network in CIDR "
		       "notation (host bits zero)",
		       ys_qnode(vn, b, sizeof(b)));
	s = ys_get_scalar(c, m, "service_subnet", "cluster.service_subnet", 0,
			  &vn);
	if (s != NULL && cidr_parse(s, true, &inv->cluster.service_subnet) < 0)
		ys_err(c, vn,
		       "service_subnet '%s' is not a network in CIDR "
		       "notation (host bits zero)",
		       ys_qnode(vn, b, sizeof(b)));

	s = ys_get_scalar(c, m, "dns_domain", "cluster.dns_domain", 0, &vn);
	if (s != NULL) {
		if (!hostname_valid(s))
			ys_err(c, vn, "dns_domain '%s' is not a DNS domain",
			       ys_qnode(vn, b, sizeof(b)));
		else
			set_str(c, &inv->cluster.dns_domain, s);
	}
	s = ys_get_scalar(c, m, "image_repository", "cluster.image_repository",
			  0, &vn);
	if (s != NULL) {
		if (strspn(s, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_/:") !=
			    strlen(s) ||
		    s[0] == '/' || s[0] == '-')
			ys_err(c, vn,
			       "image_repository '%s' is not a "
			       "registry path like registry.k8s.io",
			       ys_qnode(vn, b, sizeof(b)));
		else
			set_str(c, &inv->cluster.image_repository, s);
	}
	s = ys_get_scalar(c, m, "container_runtime",
			  "cluster.container_runtime", 0, &vn);
	if (s != NULL) {
		if (strcmp(s, "containerd") == 0)
			inv->cluster.runtime = RUNTIME_CONTAINERD;
		else if (strcmp(s, "docker") == 0)
			inv->cluster.runtime = RUNTIME_DOCKER;
		else
			ys_err(c, vn,
			       "container_runtime must be containerd "
			       "or docker");
	}
	get_strlist(c, m, "registry_mirrors", "registry_mirrors",
		    &inv->cluster.registry_mirrors, check_url);
	s = ys_get_scalar(c, m, "cri_socket", "cluster.cri_socket", 0, &vn);
	if (s != NULL) {
		if (!cri_endpoint_valid(s, vn->len))
			ys_err(c, vn,
			       "cri_socket '%s' must be unix:// and an "
			       "absolute path, like "
			       "unix:///var/run/cri-dockerd.sock",
			       ys_qnode(vn, b, sizeof(b)));
		else
			set_str(c, &inv->cluster.cri_socket, s);
	}
	get_strlist(c, m, "apiserver_cert_sans", "apiserver_cert_sans",
		    &inv->cluster.cert_sans, check_san);
	parse_vip(c, ynode_get(m, "control_plane_vip"), inv);
	get_os_family(c, m, "cluster.os_family", &inv->cluster.os_family);

	cni = ynode_get(m, "cni");
	if (cni != NULL && !ynode_is_null(cni) &&
	    ys_want_type(c, cni, YNODE_MAP, "cluster.cni")) {
		ys_check_keys(c, cni, "cluster.cni", cni_keys);
		s = ys_get_scalar(c, cni, "name", "cni.name", YS_REQUIRED, &vn);
		if (s != NULL) {
			if (!dns_label_valid(s))
				ys_err(c, vn,
				       "cni.name '%s' must be a simple "
				       "name like flannel",
				       ys_qnode(vn, b, sizeof(b)));
			else
				set_str(c, &inv->cluster.cni_name, s);
		}
		s = ys_get_scalar(c, cni, "manifest", "cni.manifest", 0, &vn);
		if (s != NULL) {
			struct stat st;

			if (is_url(s)) {
				if (check_url(c, vn, "cni.manifest"))
					set_str(c, &inv->cluster.cni_manifest,
						s);
			} else {
				char *p = resolve_rel(c, inv, s);

				if (p != NULL &&
				    (stat(p, &st) < 0 || !S_ISREG(st.st_mode)))
					ys_err(c, vn,
					       "cni.manifest '%s' is not "
					       "a readable file",
					       ys_qnode(vn, b, sizeof(b)));
				free(inv->cluster.cni_manifest);
				inv->cluster.cni_manifest = p;
			}
		}
		s = ys_get_scalar(c, cni, "sha256", "cni.sha256", 0, &vn);
		if (s != NULL) {
			if (strlen(s) != 64 ||
			    strspn(s, "0123456789abcdef") != 64)
				ys_err(c, vn,
				       "cni.sha256 must be 64 lowercase "
				       "hex digits");
			else
				set_str(c, &inv->cluster.cni_sha256, s);
		}
	}

	s = ys_get_scalar(c, m, "token_ttl", "cluster.token_ttl", 0, &vn);
	if (s != NULL) {
		uint64_t ttl;

		if (num_parse_duration(s, 10ull * 365 * 86400, &ttl) < 0)
			ys_err(c, vn,
			       "token_ttl '%s' must be a duration like "
			       "24h or 1h30m",
			       ys_qnode(vn, b, sizeof(b)));
		else
			inv->cluster.token_ttl = ttl;
	}
	s = ys_get_scalar(c, m, "etcd", "cluster.etcd", 0, &vn);
	if (s != NULL) {
		if (strcmp(s, "stacked") == 0)
			inv->cluster.etcd = ETCD_STACKED;
		else if (strcmp(s, "external") == 0)
			inv->cluster.etcd = ETCD_EXTERNAL;
		else
			ys_err(c, vn, "etcd must be stacked or external");
	}
}

static void
parse_network(struct ys_ctx *c, const struct ynode *m, struct inventory *inv,
	      bool *ret_subnet_ok, bool *ret_server_ok)
{
	const struct ynode *vn;
	const char *s;
	char b[80];

	if (!ys_want_type(c, m, YNODE_MAP, "network"))
		return;
	ys_check_keys(c, m, "network", network_keys);
	s = ys_get_scalar(c, m, "server_ip", "network.server_ip", YS_REQUIRED,
			  &vn);
	if (s != NULL) {
		if (ipv4_parse(s, &inv->network.server_ip) < 0)
			ys_err(c, vn, "server_ip '%s' is not an IPv4 address",
			       ys_qnode(vn, b, sizeof(b)));
		else
			*ret_server_ok = true;
	}
	s = ys_get_scalar(c, m, "subnet", "network.subnet", YS_REQUIRED, &vn);
	if (s != NULL) {
		if (cidr_parse(s, true, &inv->network.subnet) < 0)
			ys_err(c, vn,
			       "subnet '%s' is not a network in CIDR "
			       "notation (host bits zero)",
			       ys_qnode(vn, b, sizeof(b)));
		else if (inv->network.subnet.prefix > 30)
			ys_err(c, vn, "subnet /%u leaves no room for hosts",
			       inv->network.subnet.prefix);
		else
			*ret_subnet_ok = true;
	}
	s = ys_get_scalar(c, m, "gateway", "network.gateway", 0, &vn);
	if (s != NULL) {
		if (ipv4_parse(s, &inv->network.gateway) < 0)
			ys_err(c, vn, "gateway '%s' is not an IPv4 address",
			       ys_qnode(vn, b, sizeof(b)));
		else if (*ret_subnet_ok && !cidr_contains(&inv->network.subnet,
							  inv->network.gateway))
			ys_err(c, vn, "gateway %s is outside network.subnet",
			       s);
		else
			inv->network.has_gateway = true;
	}
	vn = ynode_get(m, "dns");
	if (vn != NULL && !ynode_is_null(vn) &&
	    ys_want_type(c, vn, YNODE_SEQ, "network.dns")) {
		size_t i;

		if (vn->n > 8) {
			ys_err(c, vn, "network.dns holds at most 8 servers");
		} else {
			free(inv->network.dns);
			inv->network.ndns = 0;
			inv->network.dns =
				calloc(vn->n ? vn->n : 1, sizeof(uint32_t));
			if (inv->network.dns == NULL)
				c->oom = 1;
			for (i = 0; inv->network.dns != NULL && i < vn->n;
			     i++) {
				const struct ynode *it = vn->items[i];
				uint32_t ip;

				if (it->type != YNODE_SCALAR ||
				    ipv4_parse(it->str, &ip) < 0)
					ys_err(c, it,
					       "network.dns entries "
					       "must be IPv4 addresses");
				else
					inv->network.dns[inv->network.ndns++] =
						ip;
			}
		}
	}
	s = ys_get_scalar(c, m, "dhcp", "network.dhcp", 0, &vn);
	if (s != NULL) {
		if (strcmp(s, "full") == 0)
			inv->network.dhcp = DHCP_FULL;
		else if (strcmp(s, "proxy") == 0)
			inv->network.dhcp = DHCP_PROXY;
		else if (strcmp(s, "off") == 0)
			inv->network.dhcp = DHCP_OFF;
		else
			ys_err(c, vn, "dhcp must be full, proxy or off");
	}
	s = ys_get_scalar(c, m, "pool", "network.pool", 0, &vn);
	if (s != NULL) {
		if (range_parse(s, &inv->network.pool) < 0)
			ys_err(c, vn,
			       "pool '%s' must be FIRST-LAST IPv4 "
			       "addresses, first <= last",
			       ys_qnode(vn, b, sizeof(b)));
		else
			inv->network.has_pool = true;
	}
	s = ys_get_scalar(c, m, "interface", "network.interface", 0, &vn);
	if (s != NULL) {
		if (strlen(s) >= 16 || strpbrk(s, "/ \t\n:") != NULL)
			ys_err(c, vn, "interface '%s' is not an interface name",
			       ys_qnode(vn, b, sizeof(b)));
		else
			set_str(c, &inv->network.interface, s);
	}
	s = ys_get_scalar(c, m, "lease_time", "network.lease_time", 0, &vn);
	if (s != NULL) {
		uint64_t t;

		if (num_parse_duration(s, 365ull * 86400, &t) < 0 || t < 60)
			ys_err(c, vn,
			       "lease_time '%s' must be a duration of "
			       "at least 1m, like 1h",
			       ys_qnode(vn, b, sizeof(b)));
		else
			inv->network.lease_time = t;
	}
}

static void
parse_boot(struct ys_ctx *c, const struct ynode *m, struct inventory *inv)
{
	const struct ynode *vn;
	const char *s;

	if (!ys_want_type(c, m, YNODE_MAP, "boot"))
		return;
	ys_check_keys(c, m, "boot", boot_keys);
	s = ys_get_scalar(c, m, "kernel", "boot.kernel", 0, &vn);
	if (s != NULL) {
		free(inv->boot.kernel);
		inv->boot.kernel = resolve_rel(c, inv, s);
	}
	s = ys_get_scalar(c, m, "base", "boot.base", 0, &vn);
	if (s != NULL) {
		free(inv->boot.base);
		inv->boot.base = resolve_rel(c, inv, s);
	}
	s = ys_get_scalar(c, m, "cmdline", "boot.cmdline", 0, &vn);
	if (s != NULL) {
		size_t i;
		bool ok = true;

		for (i = 0; s[i] != '\0'; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
			    s[i] == '"')
				ok = false;
		if (!ok || strlen(s) > 2048)
			ys_err(c, vn,
			       "boot.cmdline must be one line of at "
			       "most 2048 bytes without quotes or "
			       "control bytes");
		else
			set_str(c, &inv->boot.cmdline, s);
	}
	ys_get_bool(c, m, "secure_boot", "boot.secure_boot", YS_BOOL_NO_YESNO,
		    &inv->boot.secure_boot);
}

/* ---- provisioning.etcd: its shape -------------------------------------- */

/*
 * An endpoint the builder can issue a certificate for: https://HOST:PORT
 * with HOST an IPv4 address or a host name and nothing after the port.
 */
static bool
check_etcd_url(struct ys_ctx *c, const struct ynode *n, const char *what)
{
	char host[HOST_NAME_MAX_LEN + 1], b[80];
	uint16_t port;

	if (n->len < INV_ETCD_URL_MAX && strncmp(n->str, "https://", 8) == 0 &&
	    hostport_parse(n->str + 8, host, sizeof(host), &port) == 0)
		return true;
	ys_err(c, n,
	       "%s: '%s' is not https://HOST:PORT (HOST an IPv4 address or a "
	       "host name, nothing after the port; plain http is refused)",
	       what, ys_qnode(n, b, sizeof(b)));
	return false;
}

/*
 * A key prefix as netboot.yaml's store.etcd.prefix takes it (the same
 * rule as netboot/config.c): "/" then [A-Za-z0-9._-/], no "//", no "/" at
 * the end, at most INV_ETCD_PREFIX_MAX bytes.
 */
static bool
etcd_prefix_valid(const char *s)
{
	size_t len = strlen(s);

	return len >= 2 && len <= INV_ETCD_PREFIX_MAX && s[0] == '/' &&
	       s[len - 1] != '/' && strstr(s, "//") == NULL &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-/") == len;
}

/* A file the inventory names at n, resolved; an error unless it exists. */
static char *
prov_file(struct ys_ctx *c, const struct inventory *inv, const struct ynode *n,
	  const char *what)
{
	char *p = resolve_rel(c, inv, n->str);
	struct stat st;
	char b[80];

	if (p != NULL && (stat(p, &st) < 0 || !S_ISREG(st.st_mode)))
		ys_err(c, n, "%s '%s' is not a readable file", what,
		       ys_qnode(n, b, sizeof(b)));
	return p;
}

/* ca and ca_key: both or neither, and not with cluster: true. */
static void
parse_prov_etcd_ca(struct ys_ctx *c, const struct ynode *m,
		   struct inventory *inv)
{
	struct inv_prov_etcd *e = &inv->provisioning.etcd;
	const struct ynode *cn, *kn;
	const char *ca, *key;

	ca = ys_get_scalar(c, m, "ca", "provisioning.etcd.ca", 0, &cn);
	key = ys_get_scalar(c, m, "ca_key", "provisioning.etcd.ca_key", 0, &kn);
	if (ca == NULL && key == NULL)
		return;
	if (e->mode == PROV_ETCD_CLUSTER) {
		ys_err(c, ca != NULL ? cn : kn,
		       "provisioning.etcd: cluster: true signs with the "
		       "cluster's etcd CA (OUT/pki/etcd/ca); ca and ca_key "
		       "are another etcd's (drop cluster: true, or them)");
		return;
	}
	if (ca == NULL || key == NULL) {
		ys_err(c, ca != NULL ? cn : kn,
		       "provisioning.etcd.%s needs %s as well: the builder "
		       "signs netboot's client certificate with that CA",
		       ca != NULL ? "ca" : "ca_key",
		       ca != NULL ? "ca_key" : "ca");
		return;
	}
	e->mode = PROV_ETCD_CA;
	e->ca_line = cn->line;
	e->ca_col = cn->col;
	e->ca = prov_file(c, inv, cn, "provisioning.etcd.ca");
	e->ca_key = prov_file(c, inv, kn, "provisioning.etcd.ca_key");
}

/* endpoints: 1..INV_ETCD_ENDPOINTS_MAX URLs, each once. */
static void
parse_prov_etcd_endpoints(struct ys_ctx *c, const struct ynode *m,
			  struct inv_prov_etcd *e)
{
	const struct ynode *n = ynode_get(m, "endpoints");
	size_t i, j;

	if (!get_strlist(c, m, "endpoints", "provisioning.etcd.endpoints",
			 &e->endpoints, check_etcd_url))
		return;
	if (e->endpoints.n == 0 || e->endpoints.n > INV_ETCD_ENDPOINTS_MAX)
		ys_err(c, n, "provisioning.etcd.endpoints must list 1..%d URLs",
		       INV_ETCD_ENDPOINTS_MAX);
	for (i = 0; i < e->endpoints.n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(e->endpoints.v[i], e->endpoints.v[j]) == 0)
				ys_err(c, n->items[i],
				       "provisioning.etcd.endpoints: %s is "
				       "listed twice",
				       e->endpoints.v[i]);
}

/*
 * provisioning.etcd's shape only: validate_prov_etcd() checks it against
 * the nodes once everything is parsed.
 */
static void
parse_prov_etcd(struct ys_ctx *c, const struct ynode *m, struct inventory *inv)
{
	struct inv_prov_etcd *e = &inv->provisioning.etcd;
	const struct ynode *vn;
	const char *s;
	bool cl = false;
	char b[80];

	if (!ys_want_type(c, m, YNODE_MAP, "provisioning.etcd"))
		return;
	ys_check_keys(c, m, "provisioning.etcd", prov_etcd_keys);
	e->set = true;
	e->line = m->line;
	e->col = m->col;
	if (ys_get_bool(c, m, "cluster", "provisioning.etcd.cluster",
			YS_BOOL_NO_YESNO, &cl) &&
	    cl)
		e->mode = PROV_ETCD_CLUSTER;
	parse_prov_etcd_endpoints(c, m, e);
	s = ys_get_scalar(c, m, "prefix", "provisioning.etcd.prefix", 0, &vn);
	if (s != NULL && !etcd_prefix_valid(s))
		ys_err(c, vn,
		       "provisioning.etcd.prefix '%s' must be /NAME[/NAME...] "
		       "of letters, digits, '.', '_', '-' (at most %d bytes)",
		       ys_qnode(vn, b, sizeof(b)), INV_ETCD_PREFIX_MAX);
	else
		set_str(c, &e->prefix, s);
	parse_prov_etcd_ca(c, m, inv);
}

static void
parse_provisioning(struct ys_ctx *c, const struct ynode *m,
		   struct inventory *inv)
{
	const struct ynode *e;

	if (!ys_want_type(c, m, YNODE_MAP, "provisioning"))
		return;
	ys_check_keys(c, m, "provisioning", provisioning_keys);
	e = ynode_get(m, "etcd");
	if (e != NULL && !ynode_is_null(e))
		parse_prov_etcd(c, e, inv);
}

/*
 * A node's storage (its own, else its role's) and memory. A tmpfs larger
 * than the RAM the node declares is an error at the size's line.
 */
static void
node_storage(struct ys_ctx *c, const struct ynode *m,
	     const struct inventory *inv, struct inv_node *node)
{
	const struct inv_storage *rs = NULL;
	const struct ynode *vn = ynode_get(m, "storage"), *mn;
	const char *s;
	char b[80];
	uint64_t t;

	if (vn != NULL && !ynode_is_null(vn))
		parse_storage(c, vn, &node->storage);
	else if (node->role != ROLE_NONE)
		rs = &inv->roles[node->role].storage;
	if (rs != NULL && rs->set) {
		node->storage = *rs;
		node->storage.state_device = NULL;
		node->storage.tmpfs_size = NULL;
		if (rs->state_device != NULL)
			set_str(c, &node->storage.state_device,
				rs->state_device);
		if (rs->tmpfs_size != NULL)
			set_str(c, &node->storage.tmpfs_size, rs->tmpfs_size);
	}
	s = ys_get_scalar(c, m, "memory", "node memory", 0, &mn);
	if (s != NULL && (num_parse_size(s, UINT64_MAX, &node->memory) < 0 ||
			  node->memory == 0))
		ys_err(c, mn, "memory '%s' is not a size (such as 16G or 4GiB)",
		       ys_qnode(mn, b, sizeof(b)));
	t = node->storage.tmpfs_size == NULL
		    ? 0
		    : storage_tmpfs_absolute(node->storage.tmpfs_size);
	if (node->memory > 0 && t > node->memory) {
		struct ynode at = { .line = node->storage.line,
				    .col = node->storage.col };
		const struct ynode *tn =
			vn != NULL ? ynode_get(vn, "tmpfs_size") : NULL;

		ys_err(c, tn != NULL ? tn : &at,
		       "storage.tmpfs_size %s is larger than the memory %s "
		       "node '%s' declares",
		       node->storage.tmpfs_size, s,
		       node->name ? node->name : "?");
	}
}

static void
parse_nodes(struct ys_ctx *c, const struct ynode *seq, struct inventory *inv)
{
	size_t i;

	if (!ys_want_type(c, seq, YNODE_SEQ, "nodes"))
		return;
	if (seq->n == 0) {
		ys_err(c, seq, "nodes is empty");
		return;
	}
	if (seq->n > INV_MAX_NODES) {
		ys_err(c, seq, "more than %d nodes", INV_MAX_NODES);
		return;
	}
	inv->nodes = calloc(seq->n, sizeof(*inv->nodes));
	if (inv->nodes == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->items[i], *vn;
		struct inv_node *node = &inv->nodes[inv->nnodes];
		const char *s;
		char b[80];
		bool ok = true;

		if (!ys_want_type(c, m, YNODE_MAP, "a node"))
			continue;
		ys_check_keys(c, m, "a node", node_keys);
		node->line = m->line;
		node->col = m->col;
		node->role = ROLE_NONE;
		s = ys_get_scalar(c, m, "name", "node name", YS_REQUIRED, &vn);
		if (s == NULL)
			ok = false;
		else if (!dns_label_valid(s)) {
			ys_err(c, vn,
			       "node name '%s' is not an RFC 1123 label "
			       "(a-z, 0-9, '-', at most 63)",
			       ys_qnode(vn, b, sizeof(b)));
			ok = false;
		} else
			node->name = ys_strdup(c, s);
		s = ys_get_scalar(c, m, "mac", "node mac", YS_REQUIRED, &vn);
		if (s == NULL)
			ok = false;
		else if (mac_parse(s, node->mac) < 0) {
			ys_err(c, vn,
			       "mac '%s' is not a MAC address like "
			       "52:54:00:00:01:01",
			       ys_qnode(vn, b, sizeof(b)));
			ok = false;
		} else if (node->mac[0] & 1) {
			ys_err(c, vn, "mac %s is a multicast address", s);
			ok = false;
		}
		s = ys_get_scalar(c, m, "ip", "node ip", YS_REQUIRED, &vn);
		if (s == NULL)
			ok = false;
		else if (ipv4_parse(s, &node->ip) < 0) {
			ys_err(c, vn, "ip '%s' is not an IPv4 address",
			       ys_qnode(vn, b, sizeof(b)));
			ok = false;
		}
		s = ys_get_scalar(c, m, "role", "node role", YS_REQUIRED, &vn);
		if (s == NULL)
			ok = false;
		else {
			int r;

			for (r = 0; r < ROLE_COUNT; r++)
				if (strcmp(s, role_names[r]) == 0)
					break;
			/* Keep the node: its name, MAC and IP still get
			 * checked for duplicates. The error already fails
			 * the load. */
			if (r == ROLE_COUNT)
				ys_err(c, vn,
				       "unknown role '%s' (control-plane, "
				       "worker or etcd)",
				       ys_qnode(vn, b, sizeof(b)));
			else
				node->role = (enum node_role)r;
		}
		node->os_family = inv->cluster.os_family;
		get_os_family(c, m, "node os_family", &node->os_family);
		node->secure_boot = inv->boot.secure_boot;
		ys_get_bool(c, m, "secure_boot", "node secure_boot",
			    YS_BOOL_NO_YESNO, &node->secure_boot);
		/* An empty list is set too: it removes the default taint. */
		if (get_strlist(c, m, "taints", "taints", &node->taints,
				check_taint))
			node->taints_set = true;
		node_storage(c, m, inv, node);
		if (!ok) {
			free(node->name);
			strlist_free(&node->taints);
			storage_free(&node->storage);
			memset(node, 0, sizeof(*node));
			continue;
		}
		inv->nnodes++;
	}
}

/*
 * The VIP's address against the network, the server and the nodes.
 * Returns true when it is fit to be the endpoint.
 */
static bool
check_vip_address(struct ys_ctx *c, const struct ynode *an,
		  const struct inventory *inv, bool subnet_ok, bool server_ok)
{
	const struct cidr *net = &inv->network.subnet;
	uint32_t ip = inv->cluster.vip.address;
	const char *s = an->str;
	size_t i, before = c->d->errors;

	if (subnet_ok && !cidr_contains(net, ip))
		ys_err(c, an,
		       "control_plane_vip.address %s is outside "
		       "network.subnet: VRRP moves it between hosts of one "
		       "network",
		       s);
	else if (subnet_ok && (ip == net->addr || ip == cidr_last(net)))
		ys_err(c, an,
		       "control_plane_vip.address %s is the network or "
		       "broadcast address",
		       s);
	if (server_ok && ip == inv->network.server_ip)
		ys_err(c, an,
		       "control_plane_vip.address %s is network.server_ip", s);
	if (inv->network.has_gateway && ip == inv->network.gateway)
		ys_err(c, an, "control_plane_vip.address %s is network.gateway",
		       s);
	if (inv->network.has_pool && ip >= inv->network.pool.first &&
	    ip <= inv->network.pool.last)
		ys_err(c, an,
		       "control_plane_vip.address %s is inside network.pool "
		       "(a machine could lease it)",
		       s);
	for (i = 0; i < inv->nnodes; i++)
		if (inv->nodes[i].ip == ip)
			ys_err(c, an,
			       "control_plane_vip.address %s is node '%s''s "
			       "address (line %u): the VIP must be free",
			       s, inv->nodes[i].name, inv->nodes[i].line);
	return c->d->errors == before;
}

/*
 * haproxy listens on the VIP's port on every control plane, next to the
 * API server's 6443 and the other control-plane ports: none may be it.
 */
static void
check_vip_port(struct ys_ctx *c, const struct ynode *at,
	       const struct inventory *inv)
{
	const struct role_profile *p = &inv->roles[ROLE_CONTROL_PLANE];
	unsigned port = inv->cluster.vip.port;
	size_t i;

	if (port == 6443) {
		ys_err(c, at,
		       "control_plane_vip.port 6443 is the API server's own "
		       "port on every control plane: haproxy listens on "
		       "another (default %d) and forwards to 6443",
		       INV_VIP_PORT_DEFAULT);
		return;
	}
	for (i = 0; i < p->nports; i++) {
		const struct port_range *pr = &p->ports[i];

		if (pr->udp || port < pr->first || port > pr->last)
			continue;
		ys_err(c, at,
		       "control_plane_vip.port %u is a control-plane port "
		       "(%s) in the control-plane role profile",
		       port, pr->what != NULL ? pr->what : "firewall");
		return;
	}
}

/* The VIP becomes the endpoint and one of the API server's SANs. */
static void
vip_endpoint(struct ys_ctx *c, const struct ynode *cl, struct inventory *inv)
{
	const struct inv_vip *v = &inv->cluster.vip;
	struct strlist *sans = &inv->cluster.cert_sans;
	char ip[IPV4_STR_LEN];
	char **nv;
	size_t i;

	ipv4_format(v->address, ip);
	if (inv->cluster.endpoint_set &&
	    (strcmp(inv->cluster.endpoint_host, ip) != 0 ||
	     inv->cluster.endpoint_port != v->port)) {
		ys_err(c, ynode_get(cl, "control_plane_endpoint"),
		       "control_plane_endpoint %s:%u differs from "
		       "control_plane_vip %s:%u, which is the endpoint "
		       "(remove control_plane_endpoint)",
		       inv->cluster.endpoint_host,
		       (unsigned)inv->cluster.endpoint_port, ip,
		       (unsigned)v->port);
		return;
	}
	set_str(c, &inv->cluster.endpoint_host, ip);
	inv->cluster.endpoint_port = v->port;
	inv->cluster.endpoint_set = true;
	for (i = 0; i < sans->n; i++)
		if (strcmp(sans->v[i], ip) == 0)
			return;
	nv = realloc(sans->v, (sans->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		c->oom = 1;
		return;
	}
	sans->v = nv;
	sans->v[sans->n] = ys_strdup(c, ip);
	if (sans->v[sans->n] != NULL)
		sans->n++;
}

/* cluster.control_plane_vip against everything else. */
static void
validate_vip(struct ys_ctx *c, const struct ynode *cl, struct inventory *inv,
	     bool subnet_ok, bool server_ok, size_t ncp)
{
	const struct ynode *vn = ynode_get(cl, "control_plane_vip");
	const struct ynode *an = ynode_get(vn, "address");
	const struct ynode *pn = ynode_get(vn, "port");
	uint32_t ip;

	if (!inv->cluster.vip.set)
		return;
	if (ncp < 2)
		ys_err(c, vn,
		       "control_plane_vip needs at least 2 control-plane "
		       "nodes (there %s %zu): with one, its own address is "
		       "the endpoint",
		       ncp == 1 ? "is" : "are", ncp);
	/* An address that did not parse is reported already. */
	if (an == NULL || an->type != YNODE_SCALAR ||
	    ipv4_parse(an->str, &ip) < 0)
		return;
	check_vip_port(c, pn != NULL ? pn : vn, inv);
	if (check_vip_address(c, an, inv, subnet_ok, server_ok))
		vip_endpoint(c, cl, inv);
}

/*
 * A netbooted control-plane or etcd node without a state disk keeps its
 * certificates and etcd's data in RAM: a reboot loses them.
 */
static void
warn_diskless(struct ys_ctx *c, const struct inventory *inv)
{
	size_t i;

	for (i = 0; i < inv->nnodes; i++) {
		const struct inv_node *n = &inv->nodes[i];
		struct ynode at = { .line = n->line, .col = n->col };

		if (n->storage.state_device != NULL ||
		    (n->role != ROLE_CONTROL_PLANE && n->role != ROLE_ETCD))
			continue;
		ys_warn(c, &at,
			"node '%s' (%s) has no storage.state_device: "
			"netbooted, its /etc/kubernetes and etcd data live in "
			"RAM and a reboot loses them (docs/builder.md, "
			"\"Boot stages\")",
			n->name, role_name(n->role));
	}
}

/* ---- provisioning.etcd against the nodes -------------------------------- */

/* The host of an endpoint item, when it is a well-formed one. */
static bool
item_host(const struct ynode *it, char host[HOST_NAME_MAX_LEN + 1])
{
	uint16_t port;

	return it->type == YNODE_SCALAR &&
	       strncmp(it->str, "https://", 8) == 0 &&
	       hostport_parse(it->str + 8, host, HOST_NAME_MAX_LEN + 1,
			      &port) == 0;
}

/* The node whose address (or name) host is, or NULL. */
static const struct inv_node *
node_by_host(const struct inventory *inv, const char *host)
{
	uint32_t ip;
	bool is_ip = ipv4_parse(host, &ip) == 0;
	size_t i;

	for (i = 0; i < inv->nnodes; i++) {
		const struct inv_node *n = &inv->nodes[i];

		if (is_ip ? n->ip == ip
			  : n->name != NULL && strcasecmp(n->name, host) == 0)
			return n;
	}
	return NULL;
}

/* Where the cluster's own etcd runs: the control planes unless external. */
static enum node_role
etcd_member_role(const struct inventory *inv)
{
	return inv->cluster.etcd == ETCD_EXTERNAL ? ROLE_ETCD
						  : ROLE_CONTROL_PLANE;
}

/* cluster: true without endpoints: every member's address, port 2379. */
static void
cluster_etcd_endpoints(struct ys_ctx *c, const struct ynode *at,
		       struct inventory *inv)
{
	struct strlist *l = &inv->provisioning.etcd.endpoints;
	enum node_role role = etcd_member_role(inv);
	size_t i, n = inventory_count_role(inv, role);
	char ip[IPV4_STR_LEN], url[64];

	if (n > INV_ETCD_ENDPOINTS_MAX) {
		ys_err(c, at,
		       "provisioning.etcd: the cluster's etcd has %zu members, "
		       "more than the %d endpoints netboot takes: list "
		       "endpoints",
		       n, INV_ETCD_ENDPOINTS_MAX);
		return;
	}
	strlist_free(l);
	l->v = calloc(n ? n : 1, sizeof(*l->v));
	if (l->v == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < inv->nnodes; i++) {
		if (inv->nodes[i].role != role)
			continue;
		ipv4_format(inv->nodes[i].ip, ip);
		snprintf(url, sizeof(url), "https://%s:%d", ip,
			 INV_ETCD_CLIENT_PORT);
		l->v[l->n] = ys_strdup(c, url);
		if (l->v[l->n] != NULL)
			l->n++;
	}
}

/*
 * Listed endpoints against the nodes: with cluster: true each must be a
 * member of the cluster's etcd; otherwise none should be a node at all
 * (metalboot reinstalls its nodes; the provisioning etcd runs elsewhere).
 */
static void
check_endpoint_nodes(struct ys_ctx *c, const struct ynode *ep,
		     const struct inventory *inv)
{
	bool cluster = inv->provisioning.etcd.mode == PROV_ETCD_CLUSTER;
	enum node_role role = etcd_member_role(inv);
	char host[HOST_NAME_MAX_LEN + 1];
	size_t i;

	for (i = 0; i < ep->n; i++) {
		const struct inv_node *n;

		if (!item_host(ep->items[i], host))
			continue; /* reported */
		n = node_by_host(inv, host);
		if (cluster && (n == NULL || n->role != role))
			ys_err(c, ep->items[i],
			       "provisioning.etcd.endpoints: %s is not a "
			       "member of the cluster's etcd (cluster: true "
			       "with etcd: %s: the address or name of a node "
			       "with role %s)",
			       host, role == ROLE_ETCD ? "external" : "stacked",
			       role_name(role));
		else if (!cluster && n != NULL)
			ys_warn(c, ep->items[i],
				"provisioning.etcd.endpoints: %s is node "
				"'%s': metalboot reinstalls it, so the "
				"provisioning etcd would go with it (run it "
				"beside the netboot servers)",
				host, n->name);
	}
}

/* The endpoints' hosts, each once, lowercase, in their order. */
static void
collect_hosts(struct ys_ctx *c, struct inv_prov_etcd *e)
{
	char host[HOST_NAME_MAX_LEN + 1];
	uint16_t port;
	size_t i, j;

	strlist_free(&e->hosts);
	e->hosts.v = calloc(e->endpoints.n ? e->endpoints.n : 1,
			    sizeof(*e->hosts.v));
	if (e->hosts.v == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < e->endpoints.n; i++) {
		if (hostport_parse(e->endpoints.v[i] + 8, host, sizeof(host),
				   &port) < 0)
			continue;
		for (j = 0; host[j] != '\0'; j++)
			host[j] = (char)tolower((unsigned char)host[j]);
		for (j = 0; j < e->hosts.n; j++)
			if (strcmp(e->hosts.v[j], host) == 0)
				break;
		if (j < e->hosts.n)
			continue;
		e->hosts.v[e->hosts.n] = ys_strdup(c, host);
		if (e->hosts.v[e->hosts.n] != NULL)
			e->hosts.n++;
	}
}

/* provisioning.etcd, once the nodes are known. */
static void
validate_prov_etcd(struct ys_ctx *c, const struct ynode *root,
		   struct inventory *inv)
{
	struct inv_prov_etcd *e = &inv->provisioning.etcd;
	const struct ynode *en =
		ynode_get(ynode_get(root, "provisioning"), "etcd");
	const struct ynode *ep = ynode_get(en, "endpoints");
	bool given = ep != NULL && !ynode_is_null(ep);

	if (!e->set)
		return;
	if (e->mode == PROV_ETCD_CLUSTER) {
		if (!given)
			cluster_etcd_endpoints(c, en, inv);
		ys_warn(c, ynode_get(en, "cluster"),
			"provisioning.etcd.cluster: true: metalboot-netboot "
			"then depends on the cluster it provisions: until the "
			"first control plane runs there is no etcd and secret "
			"payloads are refused (boot that node from its seed "
			"ISO), and netboot's client certificate can write "
			"every Kubernetes object (docs/builder.md, "
			"\"Provisioning etcd\")");
	} else if (!given) {
		ys_err(c, en,
		       "provisioning.etcd.endpoints is required: the etcd "
		       "members' https://HOST:PORT (or cluster: true for the "
		       "cluster's own etcd)");
	}
	if (given && ep->type == YNODE_SEQ)
		check_endpoint_nodes(c, ep, inv);
	collect_hosts(c, e);
}

/* Cross-field rules, run once everything parsed. */
static void
validate(struct ys_ctx *c, const struct ynode *root, struct inventory *inv,
	 bool subnet_ok, bool server_ok)
{
	const struct ynode *nodes = ynode_get(root, "nodes");
	const struct ynode *cl = ynode_get(root, "cluster");
	const struct ynode *net = ynode_get(root, "network");
	size_t i, j, ncp, netcd;
	char ipb[IPV4_STR_LEN];

	/* Node names, MACs and IPs: unique; IPs inside the subnet. */
	for (i = 0; i < inv->nnodes; i++) {
		const struct inv_node *a = &inv->nodes[i];
		struct ynode at = { 0 };

		at.line = a->line;
		at.col = a->col;
		for (j = 0; j < i; j++) {
			const struct inv_node *o = &inv->nodes[j];

			if (strcmp(a->name, o->name) == 0)
				ys_err(c, &at,
				       "node name '%s' is also used at "
				       "line %u",
				       a->name, o->line);
			if (memcmp(a->mac, o->mac, MAC_LEN) == 0) {
				char mb[MAC_STR_LEN];

				mac_format(a->mac, mb);
				ys_err(c, &at,
				       "mac %s of '%s' is also used by "
				       "'%s' (line %u)",
				       mb, a->name, o->name, o->line);
			}
			if (a->ip == o->ip) {
				ipv4_format(a->ip, ipb);
				ys_err(c, &at,
				       "ip %s of '%s' is also used by "
				       "'%s' (line %u)",
				       ipb, a->name, o->name, o->line);
			}
		}
		ipv4_format(a->ip, ipb);
		if (subnet_ok) {
			if (!cidr_contains(&inv->network.subnet, a->ip))
				ys_err(c, &at,
				       "ip %s of '%s' is outside "
				       "network.subnet",
				       ipb, a->name);
			else if (a->ip == inv->network.subnet.addr ||
				 a->ip == cidr_last(&inv->network.subnet))
				ys_err(c, &at,
				       "ip %s of '%s' is the network "
				       "or broadcast address",
				       ipb, a->name);
		}
		if (server_ok && a->ip == inv->network.server_ip)
			ys_err(c, &at, "ip %s of '%s' is network.server_ip",
			       ipb, a->name);
		if (inv->network.has_gateway && a->ip == inv->network.gateway)
			ys_err(c, &at, "ip %s of '%s' is network.gateway", ipb,
			       a->name);
		if (a->taints_set && a->role == ROLE_ETCD)
			ys_err(c, &at,
			       "taints apply to Kubernetes nodes, not "
			       "to etcd node '%s'",
			       a->name);
	}

	if (subnet_ok && server_ok &&
	    !cidr_contains(&inv->network.subnet, inv->network.server_ip))
		ys_err(c, ynode_get(net, "server_ip"),
		       "server_ip is outside network.subnet");

	/* Pod, service and host networks must not overlap. */
	{
		const struct cidr *pod = &inv->cluster.pod_subnet;
		const struct cidr *svc = &inv->cluster.service_subnet;
		const struct ynode *pn = ynode_get(cl, "pod_subnet");
		const struct ynode *sn = ynode_get(cl, "service_subnet");

		if (cidr_overlaps(pod, svc))
			ys_err(c,
			       pn   ? pn
			       : sn ? sn
				    : cl,
			       "pod_subnet and service_subnet overlap");
		if (subnet_ok && cidr_overlaps(pod, &inv->network.subnet))
			ys_err(c, pn ? pn : ynode_get(net, "subnet"),
			       "pod_subnet overlaps the host network "
			       "(network.subnet): pods would be unreachable");
		if (subnet_ok && cidr_overlaps(svc, &inv->network.subnet))
			ys_err(c, sn ? sn : ynode_get(net, "subnet"),
			       "service_subnet overlaps the host network "
			       "(network.subnet)");
	}

	/* The pool: inside the subnet and clear of reserved addresses. */
	if (inv->network.has_pool && subnet_ok) {
		const struct ynode *pn = ynode_get(net, "pool");
		const struct ip_range *p = &inv->network.pool;

		if (!cidr_contains(&inv->network.subnet, p->first) ||
		    !cidr_contains(&inv->network.subnet, p->last))
			ys_err(c, pn, "pool is not inside network.subnet");
		else if (p->first == inv->network.subnet.addr ||
			 p->last == cidr_last(&inv->network.subnet))
			ys_err(c, pn,
			       "pool includes the network or broadcast "
			       "address");
		if (server_ok && inv->network.server_ip >= p->first &&
		    inv->network.server_ip <= p->last)
			ys_err(c, pn, "pool includes server_ip");
		if (inv->network.has_gateway &&
		    inv->network.gateway >= p->first &&
		    inv->network.gateway <= p->last)
			ys_err(c, pn, "pool includes the gateway");
		for (i = 0; i < inv->nnodes; i++) {
			const struct inv_node *a = &inv->nodes[i];

			if (a->ip >= p->first && a->ip <= p->last) {
				ipv4_format(a->ip, ipb);
				ys_err(c, pn,
				       "pool includes %s, reserved for "
				       "node '%s'",
				       ipb, a->name);
			}
		}
	}

	if (nodes == NULL || inv->nnodes == 0)
		return;
	ncp = inventory_count_role(inv, ROLE_CONTROL_PLANE);
	netcd = inventory_count_role(inv, ROLE_ETCD);
	if (ncp == 0)
		ys_err(c, nodes,
		       "no node has role control-plane: a cluster "
		       "needs at least one");
	validate_vip(c, cl, inv, subnet_ok, server_ok, ncp);

	/* The endpoint: default to the first control plane; HA needs a VIP. */
	if (!inv->cluster.endpoint_set && ncp > 1 && !inv->cluster.vip.set)
		ys_err(c, cl,
		       "control_plane_endpoint is required with more "
		       "than one control-plane node (a load balancer "
		       "or virtual IP in front of them)");
	if (inv->cluster.endpoint_set && ncp > 1 &&
	    !inv->cluster.allow_node_endpoint) {
		uint32_t ip;

		if (ipv4_parse(inv->cluster.endpoint_host, &ip) == 0) {
			for (i = 0; i < inv->nnodes; i++) {
				if (inv->nodes[i].ip != ip)
					continue;
				ys_err(c,
				       ynode_get(cl, "control_plane_endpoint"),
				       "control_plane_endpoint is node '%s''s "
				       "own address: with %zu control-plane "
				       "nodes the API goes down with it (use a "
				       "load balancer, or set "
				       "allow_node_endpoint: true)",
				       inv->nodes[i].name, ncp);
				break;
			}
		}
	}
	if (!inv->cluster.endpoint_set && ncp >= 1) {
		const struct inv_node *cp =
			inventory_first(inv, ROLE_CONTROL_PLANE);

		ipv4_format(cp->ip, ipb);
		set_str(c, &inv->cluster.endpoint_host, ipb);
		inv->cluster.endpoint_port = 6443;
	}

	/* etcd topology. */
	if (inv->cluster.etcd == ETCD_EXTERNAL) {
		if (netcd == 0)
			ys_err(c, ynode_get(cl, "etcd"),
			       "etcd: external needs nodes with role etcd");
		else if (netcd % 2 == 0)
			ys_err(c, ynode_get(cl, "etcd"),
			       "etcd: external has %zu etcd nodes: use an odd "
			       "number so that a majority survives a failure",
			       netcd);
		else if (netcd < 3)
			ys_warn(c, ynode_get(cl, "etcd"),
				"etcd: external with %zu etcd node: no fault "
				"tolerance (3 or more recommended)",
				netcd);
	} else if (netcd > 0) {
		for (i = 0; i < inv->nnodes; i++) {
			struct ynode at = { 0 };

			if (inv->nodes[i].role != ROLE_ETCD)
				continue;
			at.line = inv->nodes[i].line;
			at.col = inv->nodes[i].col;
			ys_err(c, &at,
			       "node '%s' has role etcd but "
			       "cluster.etcd is stacked (set etcd: "
			       "external)",
			       inv->nodes[i].name);
		}
	}
	if (inv->cluster.cni_manifest == NULL && cl != NULL) {
		const struct ynode *at = ynode_get(cl, "cni");

		ys_warn(c, at != NULL ? at : cl,
			"cluster.cni.manifest is not set: no network add-on "
			"is applied, and every node stays NotReady until one "
			"is (name flannel, calico or weave with its "
			"manifest; README, \"Network add-on\")");
	}
	if (ncp == 2)
		ys_warn(c, nodes,
			"2 control-plane nodes with stacked etcd "
			"tolerate no failure (use 1 or 3)");
	warn_diskless(c, inv);
}

static void
set_defaults(struct ys_ctx *c, struct inventory *inv)
{
	cidr_parse("10.244.0.0/16", true, &inv->cluster.pod_subnet);
	cidr_parse("10.96.0.0/12", true, &inv->cluster.service_subnet);
	inv->cluster.dns_domain = ys_strdup(c, "cluster.local");
	inv->cluster.image_repository = ys_strdup(c, "registry.k8s.io");
	inv->cluster.runtime = RUNTIME_CONTAINERD;
	inv->cluster.cni_name = ys_strdup(c, "flannel");
	inv->cluster.token_ttl = (uint64_t)24 * 3600;
	inv->cluster.etcd = ETCD_STACKED;
	inv->network.dhcp = DHCP_FULL;
	inv->network.lease_time = 3600;
	inv->boot.cmdline = ys_strdup(c, "console=ttyS0");
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int
inventory_parse(const char *file, const char *data, size_t len,
		const char *profiles_dir, struct inventory **ret,
		struct diags *d)
{
	struct inventory *inv = NULL;
	struct ydoc *doc = NULL;
	struct ys_ctx c = { file, d, 0 };
	const struct ynode *root, *n;
	struct yerror err;
	size_t before = d->errors;
	bool subnet_ok = false, server_ok = false;
	int r, role;

	r = ydoc_parse(file, data, len, &doc, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		diags_add(d, DIAG_ERROR, file, err.line, err.col, "%s",
			  err.msg);
		return -EINVAL;
	}
	root = doc->root;
	if (root == NULL || root->type != YNODE_MAP) {
		diags_add(d, DIAG_ERROR, file, root ? root->line : 1,
			  root ? root->col : 1,
			  "an inventory is a mapping with cluster, network, "
			  "boot and nodes");
		r = -EINVAL;
		goto out;
	}
	inv = calloc(1, sizeof(*inv));
	if (inv == NULL) {
		r = -ENOMEM;
		goto out;
	}
	inv->file = ys_strdup(&c, file);
	inv->dir = dir_of(file);
	set_defaults(&c, inv);
	ys_check_keys(&c, root, "the inventory", top_keys);

	if (profiles_dir == NULL)
		profiles_dir = inventory_profiles_dir();
	for (role = 0; role < ROLE_COUNT; role++)
		load_profile(&c, profiles_dir, (enum node_role)role,
			     &inv->roles[role]);
	n = ynode_get(root, "roles");
	if (n != NULL && !ynode_is_null(n) &&
	    ys_want_type(&c, n, YNODE_MAP, "roles")) {
		ys_check_keys(&c, n, "roles", roles_keys);
		for (role = 0; role < ROLE_COUNT; role++) {
			const struct ynode *o = ynode_get(n, role_names[role]);

			if (o != NULL && !ynode_is_null(o))
				parse_profile(&c, o, &inv->roles[role],
					      "a role override");
		}
	}

	n = ynode_get(root, "cluster");
	if (n == NULL)
		ys_err(&c, root, "cluster: section is required");
	else
		parse_cluster(&c, n, inv);
	n = ynode_get(root, "network");
	if (n == NULL)
		ys_err(&c, root, "network: section is required");
	else
		parse_network(&c, n, inv, &subnet_ok, &server_ok);
	n = ynode_get(root, "boot");
	if (n != NULL && !ynode_is_null(n))
		parse_boot(&c, n, inv);
	n = ynode_get(root, "provisioning");
	if (n != NULL && !ynode_is_null(n))
		parse_provisioning(&c, n, inv);
	n = ynode_get(root, "nodes");
	if (n == NULL)
		ys_err(&c, root, "nodes: list is required");
	else
		parse_nodes(&c, n, inv);
	validate(&c, root, inv, subnet_ok, server_ok);
	validate_prov_etcd(&c, root, inv);

	if (c.oom) {
		r = -ENOMEM;
		goto out;
	}
	if (d->errors > before) {
		r = -EINVAL;
		goto out;
	}
	*ret = inv;
	inv = NULL;
	r = 0;
out:
	inventory_free(inv);
	ydoc_free(doc);
	return r;
}

int
inventory_load(const char *path, const char *profiles_dir,
	       struct inventory **ret, struct diags *d)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, YLOAD_MAX_INPUT, &data, &len);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, path, 0, 0, "cannot read: %s",
			  r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
		return r == -ENOMEM ? r : -EINVAL;
	}
	r = inventory_parse(path, data, len, profiles_dir, ret, d);
	free(data);
	return r;
}

struct inventory *
inventory_free(struct inventory *inv)
{
	size_t i;

	if (inv == NULL)
		return NULL;
	free(inv->file);
	free(inv->dir);
	free(inv->cluster.name);
	free(inv->cluster.kubernetes_version);
	free(inv->cluster.endpoint_host);
	free(inv->cluster.dns_domain);
	free(inv->cluster.image_repository);
	strlist_free(&inv->cluster.registry_mirrors);
	free(inv->cluster.cri_socket);
	strlist_free(&inv->cluster.cert_sans);
	free(inv->cluster.cni_name);
	free(inv->cluster.cni_manifest);
	free(inv->cluster.cni_sha256);
	free(inv->network.dns);
	free(inv->network.interface);
	free(inv->boot.kernel);
	free(inv->boot.base);
	free(inv->boot.cmdline);
	strlist_free(&inv->provisioning.etcd.endpoints);
	strlist_free(&inv->provisioning.etcd.hosts);
	free(inv->provisioning.etcd.prefix);
	free(inv->provisioning.etcd.ca);
	free(inv->provisioning.etcd.ca_key);
	for (i = 0; i < inv->nnodes; i++) {
		free(inv->nodes[i].name);
		strlist_free(&inv->nodes[i].taints);
		storage_free(&inv->nodes[i].storage);
	}
	free(inv->nodes);
	for (i = 0; i < ROLE_COUNT; i++)
		profile_free(&inv->roles[i]);
	free(inv);
	return NULL;
}

const char *
inventory_profiles_dir(void)
{
	static char buf[PATH_MAX];
	const char *env = getenv("METALBOOT_PROFILES");
	char exe[PATH_MAX];
	ssize_t n;
	struct stat st;

	if (env != NULL && env[0] != '\0')
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (snprintf(buf, sizeof(buf),
				     "%s/../share/metalboot/profiles",
				     exe) < (int)sizeof(buf) &&
			    stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
				return buf;
		}
	}
	return MB_SOURCE_PROFILES;
}

size_t
inventory_count_role(const struct inventory *inv, enum node_role role)
{
	size_t i, n = 0;

	for (i = 0; i < inv->nnodes; i++)
		if (inv->nodes[i].role == role)
			n++;
	return n;
}

const struct inv_node *
inventory_first(const struct inventory *inv, enum node_role role)
{
	size_t i;

	for (i = 0; i < inv->nnodes; i++)
		if (inv->nodes[i].role == role)
			return &inv->nodes[i];
	return NULL;
}

const struct inv_node *
inventory_find_mac(const struct inventory *inv, const uint8_t mac[MAC_LEN])
{
	size_t i;

	for (i = 0; i < inv->nnodes; i++)
		if (memcmp(inv->nodes[i].mac, mac, MAC_LEN) == 0)
			return &inv->nodes[i];
	return NULL;
}
