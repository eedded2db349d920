/*
 * images.c - per-role node images: the kernel and a layered initramfs.
 *
 * The base root filesystem is archived and compressed once, into a
 * temporary file beside the images. While it is read, a tap learns what
 * the base holds (systemd or not, an /init, its kernels and modules.dep)
 * and saves the kernels, so that a tarball base is read only once. Then
 * the layer every role shares (the agent and every library it needs, the
 * pinned provisioning CA, a systemd unit or an init hook) is archived
 * once, and each role adds only a tiny archive of its own (its name and
 * module list). A role's initrd.img is the three concatenated: the kernel
 * unpacks concatenated compressed cpio archives in order, so later files
 * win. Nothing is compressed twice.
 */
#include "images.h"
#include "secureboot.h"

#include "buf.h"
#include "elfdeps.h"
#include "firstboot_unit.h"
#include "fsutil.h"
#include "initramfs.h"
#include "path.h"
#include "progress.h"
#include "reapply_unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMAGES_KERNELS_MAX  16		/* boot/vmlinuz-* kept from a base */
#define IMAGES_MODDEP_MAX   (32u << 20) /* bytes of one modules.dep */
#define IMAGES_VERSION_MAX  128		/* bytes of a kernel version */
#define IMAGES_MODULES_MAX  256		/* modules loaded by the hook */
#define IMAGES_ENTRIES_MAX  4096	/* overlay entries of one role */
#define IMAGES_PATH_MAX	    4096
#define IMAGES_AGENT_TARGET "usr/bin/metalboot-firstboot"
#define IMAGES_CA_TARGET    "etc/metalboot/provisioning-ca.crt"
#define IMAGES_INIT_TARGET  "usr/lib/metalboot/metalboot-init"
#define IMAGES_UNIT_NAME    "metalboot-firstboot.service"
#define IMAGES_REAPPLY_NAME "metalboot-reapply.service"

/* Modules every node needs for Kubernetes networking and containers. */
static const char *const base_modules[] = { "br_netfilter", "overlay",
					    "bridge" };

struct kernel_file {
	char version[IMAGES_VERSION_MAX];
	char *path; /* owned: a saved copy, or the user's --kernel */
	bool temp;  /* path is ours to remove */
};

struct moddep {
	char version[IMAGES_VERSION_MAX];
	char prefix[16]; /* "lib" or "usr/lib" */
	struct buf text;
};

/*
 * A top-level symlink of the base: merged /usr's lib -> usr/lib, bin ->
 * usr/bin and the like (Debian 12, Ubuntu, Fedora, Arch).
 */
#define IMAGES_LINKS_MAX 16
struct base_link {
	char name[16];	 /* "lib" */
	char target[64]; /* "usr/lib": relative to /, no leading '/' */
};

/* What the tap learned about the base. */
struct base_scan {
	struct base_link links[IMAGES_LINKS_MAX];
	size_t nlinks;
	const char *dir; /* where kernels are saved (images/) */
	bool has_init;
	bool has_sbin_init;
	char systemd[64]; /* path of systemd in the base, "" when none */
	struct kernel_file kernels[IMAGES_KERNELS_MAX];
	size_t nkernels;
	struct moddep deps[IMAGES_KERNELS_MAX];
	size_t ndeps;
	int fd;		  /* kernel being saved, or -1 */
	struct buf *sink; /* modules.dep being read, or NULL */
};

/* One entry of a role's overlay. */
enum ov_kind {
	OV_DIR,
	OV_DATA,
	OV_FILE,
	OV_SYMLINK,
};

struct ov_entry {
	char *name; /* owned, no leading '/' */
	enum ov_kind kind;
	mode_t mode;
	char *text; /* owned: data, host path or link target */
	size_t len;
};

struct overlay {
	struct ov_entry *v;
	size_t n;
	const struct base_scan *base; /* its links are followed; NULL: none */
};

/*
 * name with a first component that is one of the base's top-level
 * symlinks replaced by the link's target ("lib/x86_64-linux-gnu/libc.so.6"
 * -> "usr/lib/x86_64-linux-gnu/libc.so.6"), into out; links to links are
 * followed a few times. A name that is itself such a link stays as it is.
 */
static int
ov_resolve(const struct overlay *o, const char *name, char *out, size_t size)
{
	char tmp[IMAGES_PATH_MAX];
	size_t i, hops, len;
	bool again = true;

	if ((size_t)snprintf(out, size, "%s", name) >= size)
		return -ENAMETOOLONG;
	for (hops = 0; again && o->base != NULL && hops < 4; hops++) {
		again = false;
		for (i = 0; i < o->base->nlinks; i++) {
			const struct base_link *l = &o->base->links[i];

			len = strlen(l->name);
			if (strncmp(out, l->name, len) != 0 || out[len] != '/')
				continue;
			if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s",
					     l->target,
					     out + len) >= sizeof(tmp) ||
			    strlen(tmp) >= size)
				return -ENAMETOOLONG;
			memcpy(out, tmp, strlen(tmp) + 1);
			again = true;
			break;
		}
	}
	return 0;
}

/*
 * Record a top-level symlink to a directory path inside the base ("lib ->
 * usr/lib" or "/usr/lib"), so that our layers go through it instead of
 * replacing it with a directory (the kernel's unpacker removes an entry
 * whose type differs from the new one).
 */
static int
tap_link(struct base_scan *s, const char *name, const char *link)
{
	struct base_link *l;

	while (*link == '/')
		link++;
	if (strchr(name, '/') != NULL || s->nlinks == IMAGES_LINKS_MAX ||
	    strlen(name) >= sizeof(l->name) ||
	    strlen(link) >= sizeof(l->target) || *link == '\0' ||
	    strstr(link, "..") != NULL)
		return 0;
	l = &s->links[s->nlinks++];
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->target, sizeof(l->target), "%s", link);
	return 0;
}

static int
tap_want(void *ctx, const char *name, mode_t mode, const char *link)
{
	struct base_scan *s = ctx;
	const char *ver, *slash;
	size_t vlen;
	int fd;

	if (S_ISLNK(mode) && link != NULL)
		return tap_link(s, name, link);
	if (strcmp(name, "init") == 0) {
		s->has_init = true;
		return 0;
	}
	if (strcmp(name, "sbin/init") == 0) {
		s->has_sbin_init = true;
		return 0;
	}
	if ((strcmp(name, "lib/systemd/systemd") == 0 ||
	     strcmp(name, "usr/lib/systemd/systemd") == 0) &&
	    (S_ISREG(mode) || S_ISLNK(mode))) {
		snprintf(s->systemd, sizeof(s->systemd), "%s", name);
		return 0;
	}
	if (!S_ISREG(mode))
		return 0;
	if (strncmp(name, "boot/vmlinuz-", 13) == 0 &&
	    strchr(name + 13, '/') == NULL && name[13] != '\0') {
		if (s->nkernels == IMAGES_KERNELS_MAX ||
		    strlen(name + 13) >= IMAGES_VERSION_MAX)
			return 0;
		struct kernel_file *k = &s->kernels[s->nkernels];

		if (asprintf(&k->path, "%s/.vmlinuz-XXXXXX", s->dir) < 0)
			return -ENOMEM;
		fd = mkostemp(k->path, O_CLOEXEC);
		if (fd < 0) {
			free(k->path);
			k->path = NULL;
			return -errno;
		}
		snprintf(k->version, sizeof(k->version), "%s", name + 13);
		k->temp = true;
		s->nkernels++;
		s->fd = fd;
		/* Booted from beside the image: no need to carry it. */
		return INITRAMFS_TAP_OMIT;
	}
	if (strncmp(name, "lib/modules/", 12) == 0)
		ver = name + 12;
	else if (strncmp(name, "usr/lib/modules/", 16) == 0)
		ver = name + 16;
	else
		return 0;
	slash = strchr(ver, '/');
	if (slash == NULL || strcmp(slash, "/modules.dep") != 0)
		return 0;
	vlen = (size_t)(slash - ver);
	if (vlen == 0 || vlen >= IMAGES_VERSION_MAX ||
	    s->ndeps == IMAGES_KERNELS_MAX)
		return 0;
	struct moddep *m = &s->deps[s->ndeps++];

	memcpy(m->version, ver, vlen);
	m->version[vlen] = '\0';
	snprintf(m->prefix, sizeof(m->prefix), "%.*s", (int)(ver - name - 9),
		 name);
	buf_init(&m->text, IMAGES_MODDEP_MAX);
	s->sink = &m->text;
	return INITRAMFS_TAP_TAKE;
}

static int
tap_data(void *ctx, const void *data, size_t len)
{
	struct base_scan *s = ctx;
	const char *p = data;
	ssize_t k;

	if (s->sink != NULL)
		return buf_append(s->sink, data, len);
	while (len > 0) {
		k = write(s->fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int
tap_end(void *ctx)
{
	struct base_scan *s = ctx;
	int r = 0;

	if (s->sink != NULL) {
		s->sink = NULL;
		return 0;
	}
	if (close(s->fd) < 0)
		r = -errno;
	s->fd = -1;
	return r;
}

static void
scan_done(struct base_scan *s)
{
	size_t i;

	if (s->fd >= 0)
		close(s->fd);
	for (i = 0; i < s->nkernels; i++) {
		if (s->kernels[i].temp)
			unlink(s->kernels[i].path);
		free(s->kernels[i].path);
	}
	for (i = 0; i < s->ndeps; i++)
		buf_done(&s->deps[i].text);
}

static int
ov_add(struct overlay *o, const char *name, enum ov_kind kind, mode_t mode,
       const char *text, size_t len)
{
	struct ov_entry *n, *e;
	size_t i;

	while (*name == '/')
		name++;
	for (i = 0; i < o->n; i++) {
		if (strcmp(o->v[i].name, name) == 0) {
			/* A directory named twice is one directory. */
			if (kind == OV_DIR && o->v[i].kind == OV_DIR)
				return 0;
			return -EEXIST;
		}
	}
	if (o->n == IMAGES_ENTRIES_MAX)
		return -E2BIG;
	n = realloc(o->v, (o->n + 1) * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	o->v = n;
	e = &o->v[o->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	if (text != NULL) {
		e->text = malloc(len + 1);
		if (e->text != NULL) {
			memcpy(e->text, text, len);
			e->text[len] = '\0';
		}
	}
	if (e->name == NULL || (text != NULL && e->text == NULL)) {
		free(e->name);
		free(e->text);
		return -ENOMEM;
	}
	e->kind = kind;
	e->mode = mode;
	e->len = len;
	o->n++;
	return 0;
}

/*
 * Add name and, first, every parent directory of it, both through the
 * base's top-level symlinks (ov_resolve).
 */
static int
ov_add_path(struct overlay *o, const char *name, enum ov_kind kind, mode_t mode,
	    const char *text, size_t len)
{
	char parent[IMAGES_PATH_MAX], real[IMAGES_PATH_MAX];
	const char *p;
	int r;

	while (*name == '/')
		name++;
	r = ov_resolve(o, name, real, sizeof(real));
	if (r < 0)
		return r;
	name = real;
	for (p = strchr(name, '/'); p != NULL; p = strchr(p + 1, '/')) {
		if ((size_t)(p - name) >= sizeof(parent))
			return -ENAMETOOLONG;
		memcpy(parent, name, (size_t)(p - name));
		parent[p - name] = '\0';
		r = ov_add(o, parent, OV_DIR, 0755, NULL, 0);
		if (r < 0)
			return r;
	}
	return ov_add(o, name, kind, mode, text, len);
}

static int
ov_text(struct overlay *o, const char *name, mode_t mode, const char *s)
{
	return ov_add_path(o, name, OV_DATA, mode, s, strlen(s));
}

/* Enable systemd unit name: its multi-user.target.wants/ link. */
static int
ov_enable(struct overlay *o, const char *name)
{
	char link[IMAGES_PATH_MAX], target[IMAGES_PATH_MAX];

	if ((size_t)snprintf(link, sizeof(link),
			     "etc/systemd/system/multi-user.target.wants/%s",
			     name) >= sizeof(link) ||
	    (size_t)snprintf(target, sizeof(target), "../%s", name) >=
		    sizeof(target))
		return -ENAMETOOLONG;
	return ov_add_path(o, link, OV_SYMLINK, 0777, target, strlen(target));
}

static void
ov_done(struct overlay *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		free(o->v[i].name);
		free(o->v[i].text);
	}
	free(o->v);
	o->v = NULL;
	o->n = 0;
}

static int
cmp_ov(const void *a, const void *b)
{
	return strcmp(((const struct ov_entry *)a)->name,
		      ((const struct ov_entry *)b)->name);
}

/* The module name of a modules.dep path: basename less .ko*, '-' as '_'. */
static void
mod_name(const char *path, size_t len, char *out, size_t n)
{
	const char *b = path, *p;
	size_t i, k = 0;

	for (p = path; p < path + len; p++)
		if (*p == '/')
			b = p + 1;
	for (i = 0; b + i < path + len && k + 1 < n; i++) {
		if (strncmp(b + i, ".ko", 3) == 0)
			break;
		out[k++] = b[i] == '-' ? '_' : b[i];
	}
	out[k] = '\0';
}

/*
 * Find the modules.dep line of module name; returns a pointer to the line
 * (its length in *ret_len) or NULL.
 */
static const char *
dep_line(const struct buf *dep, const char *name, size_t *ret_len)
{
	const char *p = dep->data, *end = dep->data + dep->len, *nl, *colon;
	char m[256];

	while (p != NULL && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		colon = memchr(p, ':', (size_t)((nl ? nl : end) - p));
		if (colon != NULL) {
			mod_name(p, (size_t)(colon - p), m, sizeof(m));
			if (strcmp(m, name) == 0) {
				*ret_len = (size_t)((nl ? nl : end) - p);
				return p;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

struct modlist {
	char *path[IMAGES_MODULES_MAX]; /* owned, relative to the version */
	size_t n;
};

static int
modlist_add(struct modlist *l, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->path[i]) == len &&
		    strncmp(l->path[i], p, len) == 0)
			return 0;
	if (l->n == IMAGES_MODULES_MAX)
		return -E2BIG;
	l->path[l->n] = strndup(p, len);
	if (l->path[l->n] == NULL)
		return -ENOMEM;
	l->n++;
	return 0;
}

/*
 * Append module name and its dependencies to l in load order: modules.dep
 * lists a module's dependencies so that the last one is loaded first.
 * A module that is not listed is taken to be built in.
 */
static int
modlist_resolve(struct modlist *l, const struct buf *dep, const char *name)
{
	const char *line, *colon, *p, *q, *tok[IMAGES_MODULES_MAX];
	size_t len, ntok = 0, tlen[IMAGES_MODULES_MAX];
	int r;

	if (dep->data == NULL)
		return 0;
	line = dep_line(dep, name, &len);
	if (line == NULL)
		return 0;
	colon = memchr(line, ':', len);
	p = colon + 1;
	while (p < line + len) {
		while (p < line + len && (*p == ' ' || *p == '\t'))
			p++;
		q = p;
		while (q < line + len && *q != ' ' && *q != '\t')
			q++;
		if (q > p && ntok < IMAGES_MODULES_MAX) {
			tok[ntok] = p;
			tlen[ntok++] = (size_t)(q - p);
		}
		p = q;
	}
	while (ntok > 0) {
		ntok--;
		r = modlist_add(l, tok[ntok], tlen[ntok]);
		if (r < 0)
			return r;
	}
	return modlist_add(l, line, (size_t)(colon - line));
}

static void
modlist_done(struct modlist *l)
{
	while (l->n > 0)
		free(l->path[--l->n]);
}

/* The runner both the unit and the init hook call. */
static const char firstboot_sh[] =
	"#!/bin/sh\n"
	"# metalboot: load the modules the node needs, then run the agent\n"
	"# once with the server and MAC from the kernel command line.\n"
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
	"export PATH\n"
	"if [ -r /etc/metalboot/modules ]; then\n"
	"\tloaded=\n"
	"\twhile read -r name path; do\n"
	"\t\t[ -n \"$name\" ] || continue\n"
	"\t\tif modprobe \"$name\" 2>/dev/null ||\n"
	"\t\t\tinsmod \"$path\" 2>/dev/null ||\n"
	"\t\t\tgrep -q \"^$name \" /proc/modules 2>/dev/null; then\n"
	"\t\t\tloaded=\"$loaded $name\"\n"
	"\t\telse\n"
	"\t\t\techo \"metalboot: module $name could not be loaded\"\n"
	"\t\tfi\n"
	"\tdone </etc/metalboot/modules\n"
	"\techo \"metalboot: modules loaded:$loaded\"\n"
	"fi\n"
	"server=\n"
	"mac=\n"
	"for arg in $(cat /proc/cmdline 2>/dev/null); do\n"
	"\tcase \"$arg\" in\n"
	"\tmetalboot.server=*) server=${arg#metalboot.server=} ;;\n"
	"\tmetalboot.mac=*) mac=${arg#metalboot.mac=} ;;\n"
	"\tesac\n"
	"done\n"
	"set -- --ca /" IMAGES_CA_TARGET "\n"
	"[ -n \"$server\" ] && set -- --server \"$server\" \"$@\"\n"
	"[ -n \"$mac\" ] && set -- \"$@\" --mac \"$mac\"\n"
	"echo \"metalboot: running metalboot-firstboot $*\"\n"
	"/" IMAGES_AGENT_TARGET " \"$@\"\n"
	"rc=$?\n"
	"echo \"metalboot: metalboot-firstboot exited with status $rc\"\n"
	"exit $rc\n";

/*
 * The unit is firstboot/metalboot-firstboot.service, the file the package
 * installs (firstboot_unit.h embeds it); node images add this drop-in.
 */
static const char unit_dropin_text[] =
	"# Node images: run the agent through the image's runner, which loads\n"
	"# the role's kernel modules and passes metalboot.server= and\n"
	"# metalboot.mac= from the kernel command line, and show its output\n"
	"# on the console.\n"
	"[Service]\n"
	"ExecStart=\n"
	"ExecStart=/etc/metalboot/firstboot.sh\n"
	"StandardOutput=journal+console\n"
	"StandardError=journal+console\n";

static const char hook_text[] =
	"#!/bin/sh\n"
	"# metalboot init hook: run by an /init that runs\n"
	"# /etc/metalboot/hooks/* in order (the test base's does).\n"
	"exec /etc/metalboot/firstboot.sh\n";

static const char initd_text[] =
	"#!/bin/sh\n"
	"### BEGIN INIT INFO\n"
	"# Provides:          metalboot-firstboot\n"
	"# Required-Start:    $network\n"
	"# Default-Start:     2 3 4 5\n"
	"# Short-Description: metalboot first boot agent\n"
	"### END INIT INFO\n"
	"case \"$1\" in\n"
	"start|'') exec /etc/metalboot/firstboot.sh ;;\n"
	"*) exit 0 ;;\n"
	"esac\n";

/* An /init for a base that has none and no /sbin/init either. */
static const char own_init[] =
	"#!/bin/sh\n"
	"# metalboot /init for a base without an init system.\n"
	"mount -t proc proc /proc 2>/dev/null\n"
	"mount -t sysfs sysfs /sys 2>/dev/null\n"
	"mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
	"for h in /etc/metalboot/hooks/*; do [ -x \"$h\" ] && \"$h\"; done\n"
	"exec /bin/sh\n";

/*
 * The first stage for a base with systemd: the kernel runs /init, which is
 * metalboot-init; it moves the root onto a tmpfs, brings the boot
 * interface up, mounts the state disk and switch_roots to systemd
 * (docs/builder.md, "Boot stages"). Its libraries are the agent's or
 * added here; a base's own /init is shadowed.
 */
static int
add_stage1(const struct images_req *req, const struct elfdeps *deps,
	   struct overlay *o)
{
	const char *target = "/" IMAGES_INIT_TARGET;
	size_t i;
	int r;

	r = ov_add_path(o, IMAGES_INIT_TARGET, OV_FILE, 0755, req->init,
			strlen(req->init));
	for (i = 0; r == 0 && i < deps->n; i++) {
		r = ov_add_path(o, deps->paths[i], OV_FILE, 0755,
				deps->paths[i], strlen(deps->paths[i]));
		if (r == -EEXIST) /* the agent needs it too */
			r = 0;
	}
	if (r == 0)
		r = ov_add_path(o, "init", OV_SYMLINK, 0777, target,
				strlen(target));
	return r;
}

/* metalboot-init's libraries, for a base with systemd (which needs it). */
static int
stage1_deps(const struct images_req *req, const struct base_scan *scan,
	    struct elfdeps *ret, struct diags *d)
{
	char err[INITRAMFS_ERR_MAX];
	int r;

	if (scan->systemd[0] == '\0')
		return 0;
	if (req->init == NULL) {
		diags_add(d, DIAG_ERROR, req->base, 0, 0,
			  "the base runs systemd, which needs the first stage "
			  "metalboot-init: not found (METALBOOT_INIT)");
		return -EINVAL;
	}
	r = elfdeps_resolve("/", req->init, ret, err, sizeof(err));
	if (r < 0) {
		diags_add(d, DIAG_ERROR, req->init, 0, 0, "%s", err);
		return r == -ENOMEM ? r : -EINVAL;
	}
	return 0;
}

/*
 * The layer every role shares, what the base lacks: the agent and the
 * libraries it needs at the paths the loader looks in, the pinned CA, the
 * runner script, and either a systemd unit (enabled, with /init pointing
 * at systemd when the base has no /init) or an init hook, an
 * /etc/init.d script and, when the base has no /init, a link to
 * /sbin/init or a minimal /init of our own.
 */
static int
make_common(const struct images_req *req, const char *agent,
	    const struct elfdeps *deps, const struct elfdeps *init_deps,
	    const struct base_scan *scan, struct overlay *o)
{
	size_t i;
	int r;

	r = ov_add_path(o, IMAGES_AGENT_TARGET, OV_FILE, 0755, agent,
			strlen(agent));
	for (i = 0; r == 0 && i < deps->n; i++)
		r = ov_add_path(o, deps->paths[i], OV_FILE, 0755,
				deps->paths[i], strlen(deps->paths[i]));
	if (r == 0 && req->ca_pem != NULL)
		r = ov_add_path(o, IMAGES_CA_TARGET, OV_FILE, 0644, req->ca_pem,
				strlen(req->ca_pem));
	if (r == 0)
		r = ov_text(o, "etc/metalboot/firstboot.sh", 0755,
			    firstboot_sh);
	if (r < 0)
		return r;
	if (scan->systemd[0] != '\0') {
		r = ov_text(o, "etc/systemd/system/" IMAGES_UNIT_NAME, 0644,
			    firstboot_unit);
		if (r == 0)
			r = ov_text(o,
				    "etc/systemd/system/" IMAGES_UNIT_NAME
				    ".d/image.conf",
				    0644, unit_dropin_text);
		if (r == 0)
			r = ov_enable(o, IMAGES_UNIT_NAME);
		if (r == 0)
			r = ov_text(o,
				    "etc/systemd/system/" IMAGES_REAPPLY_NAME,
				    0644, reapply_unit);
		if (r == 0)
			r = ov_enable(o, IMAGES_REAPPLY_NAME);
		if (r == 0)
			r = add_stage1(req, init_deps, o);
		return r;
	}
	r = ov_text(o, "etc/metalboot/hooks/50-firstboot", 0755, hook_text);
	if (r == 0)
		r = ov_text(o, "etc/init.d/metalboot-firstboot", 0755,
			    initd_text);
	if (r == 0 && !scan->has_init) {
		if (scan->has_sbin_init)
			r = ov_add_path(o, "init", OV_SYMLINK, 0777,
					"sbin/init", 9);
		else
			r = ov_text(o, "init", 0755, own_init);
	}
	return r;
}

/*
 * The layer of one role: its name and the kernel modules it loads, in
 * load order, for the runner (name and path) and for systemd's
 * modules-load.d.
 */
static int
make_role(const struct modlist *mods, const char *modver, const char *modprefix,
	  enum node_role role, struct overlay *o)
{
	struct buf b;
	char m[256];
	size_t i;
	int r;

	buf_init(&b, 1 << 20);
	r = buf_printf(&b, "%s\n", role_name(role));
	if (r == 0)
		r = ov_text(o, "etc/metalboot/role", 0644, b.data);
	buf_done(&b);
	for (i = 0; r == 0 && i < mods->n; i++) {
		mod_name(mods->path[i], strlen(mods->path[i]), m, sizeof(m));
		r = buf_printf(&b, "%s /%s/modules/%s/%s\n", m, modprefix,
			       modver, mods->path[i]);
	}
	if (r == 0 && mods->n > 0) {
		r = ov_text(o, "etc/metalboot/modules", 0644, b.data);
		buf_done(&b);
		for (i = 0; r == 0 && i < mods->n; i++) {
			mod_name(mods->path[i], strlen(mods->path[i]), m,
				 sizeof(m));
			r = buf_printf(&b, "%s\n", m);
		}
		if (r == 0)
			r = ov_text(o, "etc/modules-load.d/metalboot.conf",
				    0644, b.data);
	}
	buf_done(&b);
	return r;
}

static int
write_overlay(struct overlay *o, const char *path, int64_t epoch, int threads,
	      char *err, size_t errlen)
{
	struct initramfs_opts io = { .compress = INITRAMFS_ZSTD,
				     .epoch = epoch,
				     .threads = threads };
	struct initramfs *w = NULL;
	struct ov_entry *e;
	size_t i;
	int r;

	/* Sorted by name: every parent comes before its children. */
	qsort(o->v, o->n, sizeof(*o->v), cmp_ov);
	r = initramfs_open(path, &io, &w, err, errlen);
	if (r < 0)
		return r;
	for (i = 0; r == 0 && i < o->n; i++) {
		e = &o->v[i];
		switch (e->kind) {
		case OV_DIR:
			r = initramfs_add_dir(w, e->name, e->mode);
			break;
		case OV_DATA:
			r = initramfs_add_data(w, e->name, e->mode, e->text,
					       e->len);
			break;
		case OV_FILE:
			r = initramfs_add_file(w, e->name, e->mode, e->text);
			break;
		case OV_SYMLINK:
			r = initramfs_add_symlink(w, e->name, e->text);
			break;
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "%s", initramfs_error(w));
		initramfs_abort(w);
		return r;
	}
	return initramfs_commit(w, err, errlen);
}

/* Append the file at src to fd. */
static int
append_file(int fd, const char *src)
{
	char chunk[INITRAMFS_CHUNK];
	ssize_t n, k, off;
	int in, r = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	for (;;) {
		n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		for (off = 0; off < n; off += k) {
			k = write(fd, chunk + off, (size_t)(n - off));
			if (k < 0 && errno == EINTR) {
				k = 0;
				continue;
			}
			if (k < 0) {
				r = -errno;
				goto out;
			}
		}
	}
out:
	close(in);
	return r;
}

/*
 * Write dst as the concatenation of the files in srcs (temp + rename).
 */
static int
concat(const char *dst, const char *const *srcs, size_t n)
{
	char tmp[IMAGES_PATH_MAX];
	size_t i;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", dst) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; r == 0 && i < n; i++)
		r = append_file(fd, srcs[i]);
	if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* The newest kernel: the highest version in version-sort order. */
static const struct kernel_file *
newest_kernel(const struct base_scan *s)
{
	const struct kernel_file *best = NULL;
	size_t i;

	for (i = 0; i < s->nkernels; i++)
		if (best == NULL ||
		    strverscmp(s->kernels[i].version, best->version) > 0)
			best = &s->kernels[i];
	return best;
}

static const struct moddep *
find_moddep(const struct base_scan *s, const char *version)
{
	const struct moddep *best = NULL;
	size_t i;

	for (i = 0; i < s->ndeps; i++) {
		if (version != NULL && strcmp(s->deps[i].version, version) == 0)
			return &s->deps[i];
		if (best == NULL ||
		    strverscmp(s->deps[i].version, best->version) > 0)
			best = &s->deps[i];
	}
	/* An unknown kernel version: use the only modules there are. */
	return version == NULL || s->ndeps == 1 ? best : NULL;
}

/*
 * Join dir and name into buf; a path that does not fit is reported on d
 * (never cut short). 0 or -ENAMETOOLONG.
 */
static int
join_path(char *buf, size_t n, const char *dir, const char *name,
	  struct diags *d)
{
	if (path_join(buf, n, dir, name) == 0)
		return 0;
	diags_add(d, DIAG_ERROR, dir, 0, 0, "path too long with \"%s\"", name);
	return -ENAMETOOLONG;
}

/*
 * Build every role's images; see images.h.
 */
/*
 * For the inventory's Secure Boot nodes, the kernel at path must be
 * signed (secureboot.h); named as the user gave it: --kernel's path, or
 * the base's boot/vmlinuz-VERSION.
 */
static int
check_signed_kernel(const struct images_req *req, const char *path,
		    const char *kver, struct diags *d)
{
	char shown[PATH_MAX + 64];

	if (req->kernel != NULL)
		snprintf(shown, sizeof(shown), "%s", req->kernel);
	else
		snprintf(shown, sizeof(shown), "%s: boot/vmlinuz-%s", req->base,
			 kver ? kver : "?");
	return sb_check_kernel(req->inv, path, shown, d);
}

int
images_build(const struct images_req *req, struct diags *d)
{
	char dir[IMAGES_PATH_MAX], base_tmp[IMAGES_PATH_MAX];
	char ov_path[IMAGES_PATH_MAX], path[IMAGES_PATH_MAX];
	char common[IMAGES_PATH_MAX], file[IMAGES_PATH_MAX];
	char agent[PATH_MAX], err[INITRAMFS_ERR_MAX];
	struct base_scan scan = { .fd = -1 };
	struct initramfs_tap tap = { tap_want, tap_data, tap_end, &scan };
	struct initramfs_opts io = { .compress = INITRAMFS_ZSTD };
	const struct kernel_file *kern = NULL;
	struct kernel_file user_kernel = { { 0 }, NULL, false };
	const struct moddep *dep = NULL;
	const char *kver = NULL, *slash;
	struct elfdeps deps = { 0 }, init_deps = { 0 };
	struct modlist mods = { { 0 }, 0 };
	struct initramfs *w = NULL;
	struct progress prog;
	struct overlay ov = { 0 };
	bool have_base = false, have_common = false;
	int64_t epoch;
	size_t i;
	int r, fd;

	if (req->base == NULL || req->agent == NULL || req->out_public == NULL)
		return -EINVAL;
	if (access(req->base, F_OK) < 0) {
		r = -errno;
		diags_add(d, DIAG_ERROR, req->base, 0, 0,
			  "base root filesystem: %s", strerror(-r));
		return -EINVAL;
	}
	if (req->kernel != NULL && access(req->kernel, R_OK) < 0) {
		r = -errno;
		diags_add(d, DIAG_ERROR, req->kernel, 0, 0, "kernel: %s",
			  strerror(-r));
		return -EINVAL;
	}
	if (realpath(req->agent, agent) == NULL) {
		r = -errno;
		diags_add(d, DIAG_ERROR, req->agent, 0, 0, "agent: %s",
			  strerror(-r));
		return -EINVAL;
	}
	if (initramfs_env_epoch(&epoch) < 0) {
		diags_add(d, DIAG_ERROR, "SOURCE_DATE_EPOCH", 0, 0,
			  "not a number of seconds");
		return -EINVAL;
	}
	r = elfdeps_resolve("/", agent, &deps, err, sizeof(err));
	if (r < 0) {
		diags_add(d, DIAG_ERROR, req->agent, 0, 0, "%s", err);
		return r == -ENOMEM ? r : -EINVAL;
	}
	if (snprintf(dir, sizeof(dir), "%s/images", req->out_public) >=
	    (int)sizeof(dir)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	r = mkdir_p(dir, 0755);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, dir, 0, 0, "cannot create: %s",
			  strerror(-r));
		goto out;
	}
	scan.dir = dir;

	/* The base: archived and compressed once, for every role. */
	r = join_path(base_tmp, sizeof(base_tmp), dir, ".base-XXXXXX", d);
	if (r < 0)
		goto out;
	fd = mkostemp(base_tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		diags_add(d, DIAG_ERROR, dir, 0, 0, "cannot write: %s",
			  strerror(-r));
		goto out;
	}
	close(fd);
	have_base = true;
	progress_init(&prog, stderr, "base image");
	io.epoch = epoch;
	io.threads = req->jobs > 0 ? req->jobs : 1;
	io.progress = &prog;
	io.tap = &tap;
	r = initramfs_open(base_tmp, &io, &w, err, sizeof(err));
	if (r == 0) {
		r = initramfs_add_tree(w, req->base, 0);
		if (r < 0) {
			snprintf(err, sizeof(err), "%s", initramfs_error(w));
			initramfs_abort(w);
		} else {
			r = initramfs_commit(w, err, sizeof(err));
		}
	}
	if (r < 0) {
		diags_add(d, DIAG_ERROR, req->base, 0, 0, "%s", err);
		if (r != -ENOMEM)
			r = -EINVAL;
		goto out;
	}

	/* The kernel: --kernel, else the newest boot/vmlinuz-* of the base. */
	if (req->kernel != NULL) {
		user_kernel.path = (char *)req->kernel;
		slash = strrchr(req->kernel, '/');
		slash = slash ? slash + 1 : req->kernel;
		if (strncmp(slash, "vmlinuz-", 8) == 0)
			snprintf(user_kernel.version,
				 sizeof(user_kernel.version), "%s", slash + 8);
		kern = &user_kernel;
		kver = user_kernel.version[0] ? user_kernel.version : NULL;
	} else {
		kern = newest_kernel(&scan);
		if (kern == NULL) {
			diags_add(d, DIAG_ERROR, req->base, 0, 0,
				  "no kernel: the base has no "
				  "boot/vmlinuz-* and no --kernel (or "
				  "boot.kernel) was given");
			r = -EINVAL;
			goto out;
		}
		kver = kern->version;
	}
	r = check_signed_kernel(req, kern->path, kver, d);
	if (r < 0)
		goto out;
	dep = find_moddep(&scan, kver);
	if (dep == NULL && scan.ndeps == 0) {
		diags_add(d, DIAG_WARNING, req->base, 0, 0,
			  "the base has no lib/modules/*/modules.dep: "
			  "br_netfilter, overlay and bridge must be built "
			  "into the kernel");
	} else if (dep == NULL) {
		diags_add(d, DIAG_WARNING, req->base, 0, 0,
			  "the base has no modules for kernel %s",
			  kver ? kver : "(unknown)");
	}

	/* The layer every role shares: written and compressed once too. */
	r = join_path(common, sizeof(common), dir, ".common", d);
	if (r < 0)
		goto out;
	ov.base = &scan; /* kept by ov_done() */
	r = stage1_deps(req, &scan, &init_deps, d);
	if (r < 0)
		goto out;
	r = make_common(req, agent, &deps, &init_deps, &scan, &ov);
	if (r == 0) {
		have_common = true;
		/* Fixed mtimes in the overlays: the agent's must not leak. */
		r = write_overlay(&ov, common, epoch >= 0 ? epoch : 0,
				  io.threads, err, sizeof(err));
		if (r < 0)
			diags_add(d, DIAG_ERROR, dir, 0, 0, "%s", err);
	} else {
		diags_add(d, DIAG_ERROR, dir, 0, 0, "overlay: %s",
			  strerror(-r));
	}
	if (r < 0)
		goto out;

	for (int role = 0; role < ROLE_COUNT; role++) {
		const char *parts[3] = { base_tmp, common, ov_path };
		const struct role_profile *rp;

		if (inventory_count_role(req->inv, role) == 0)
			continue;
		rp = &req->inv->roles[role];
		modlist_done(&mods);
		for (i = 0; dep != NULL && r == 0 &&
			    i < sizeof(base_modules) / sizeof(base_modules[0]);
		     i++)
			r = modlist_resolve(&mods, &dep->text, base_modules[i]);
		for (i = 0; dep != NULL && r == 0 && i < rp->modules.n; i++)
			r = modlist_resolve(&mods, &dep->text,
					    rp->modules.v[i]);
		if (r < 0) {
			diags_add(d, DIAG_ERROR, req->base, 0, 0,
				  "kernel modules: %s", strerror(-r));
			goto out;
		}
		r = join_path(path, sizeof(path), dir, role_name(role), d);
		if (r < 0)
			goto out;
		r = mkdir_p(path, 0755);
		if (r < 0) {
			diags_add(d, DIAG_ERROR, path, 0, 0,
				  "cannot create: %s", strerror(-r));
			goto out;
		}
		ov_done(&ov);
		r = make_role(&mods, dep ? dep->version : "",
			      dep ? dep->prefix : "lib", role, &ov);
		if (r < 0) {
			diags_add(d, DIAG_ERROR, path, 0, 0, "overlay: %s",
				  strerror(-r));
			goto out;
		}
		r = join_path(ov_path, sizeof(ov_path), path, ".overlay", d);
		if (r < 0)
			goto out;
		r = write_overlay(&ov, ov_path, epoch >= 0 ? epoch : 0,
				  io.threads, err, sizeof(err));
		if (r < 0) {
			diags_add(d, DIAG_ERROR, path, 0, 0, "%s", err);
			goto out;
		}
		/* base + common + role: the kernel unpacks them in turn. */
		r = join_path(file, sizeof(file), path, "initrd.img", d);
		if (r == 0) {
			r = concat(file, parts, 3);
			if (r < 0)
				diags_add(d, DIAG_ERROR, file, 0, 0,
					  "cannot write: %s", strerror(-r));
		}
		unlink(ov_path);
		if (r < 0)
			goto out;
		r = join_path(file, sizeof(file), path, "vmlinuz", d);
		if (r < 0)
			goto out;
		parts[0] = kern->path;
		r = concat(file, parts, 1);
		if (r < 0) {
			diags_add(d, DIAG_ERROR, path, 0, 0,
				  "cannot write the kernel from %s: %s",
				  kern->path, strerror(-r));
			goto out;
		}
	}
	r = 0;
out:
	if (have_base)
		unlink(base_tmp);
	if (have_common)
		unlink(common);
	ov_done(&ov);
	modlist_done(&mods);
	scan_done(&scan);
	elfdeps_done(&deps);
	elfdeps_done(&init_deps);
	return r;
}
