/*
 * steps_host.c - host preparation: host name, /etc/hosts, kernel modules,
 * sysctls, swap, SELinux and the firewall. What the seeds do by hand on
 * every node before kubeadm, each step checked, done and verified.
 */
#include "exec.h"

#include "fsutil.h"
#include "hostconf.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_MAX	(1u << 20) /* bytes of /etc/hosts, fstab, ... */
#define HOSTS_BEGIN	"# BEGIN metalboot (managed by metalboot-firstboot)"
#define HOSTS_END	"# END metalboot"
#define FSTAB_COMMENTED "#metalboot-swapoff# "

/* Strip trailing whitespace and newlines in place. */
static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' ||
			 s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Read a small root-relative file, trimmed; NULL when absent. */
static char *
read_trimmed(struct fb_exec *x, const char *abs)
{
	char *s = NULL;
	size_t len;

	if (fb_get_file(x, abs, 4096, &s, &len) < 0)
		return NULL;
	chomp(s);
	return s;
}

/*
 * Write a value into a file that exists already, in place (procfs files
 * cannot be replaced by rename).
 */
static int
write_in_place(struct fb_exec *x, const char *abs, const char *value)
{
	char path[PATH_MAX];
	size_t len = strlen(value), done = 0;
	int fd, r;

	r = fb_path(x, abs, path);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t w = write(fd, value + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0)
		return -errno;
	return 0;
}

static int
put_text(struct fb_exec *x, const char *abs, const struct buf *b, mode_t mode,
	 bool *changed)
{
	int r = fb_put_file(x, abs, b->data ? b->data : "", b->len, mode,
			    changed);

	if (r < 0)
		return fb_msg(x, r, "write %s: %s", abs, strerror(-r));
	return 0;
}

/*
 * In ROOT+abs, every line that starts with key ("SELINUX=") becomes line;
 * line is appended when none does. The rest is kept as it is. Returns 0
 * with *ret_changed, -ENOENT when the file is absent (nothing written), or
 * another negative errno.
 */
static int
set_line(struct fb_exec *x, const char *abs, const char *key, const char *line,
	 bool *ret_changed)
{
	char *old = NULL, *l, *next;
	size_t oldlen = 0, klen = strlen(key);
	bool found = false;
	struct buf b;
	int r;

	r = fb_get_file(x, abs, TEXT_MAX, &old, &oldlen);
	if (r < 0)
		return r;
	buf_init(&b, TEXT_MAX);
	for (l = old; r == 0 && *l; l = next) {
		next = strchr(l, '\n');
		next = next ? next + 1 : l + strlen(l);
		if (strncmp(l, key, klen) == 0) {
			found = true;
			r = buf_printf(&b, "%s\n", line);
			continue;
		}
		r = buf_append(&b, l, (size_t)(next - l));
	}
	if (r == 0 && !found)
		r = buf_printf(&b, "%s%s\n",
			       oldlen > 0 && old[oldlen - 1] != '\n' ? "\n"
								     : "",
			       line);
	if (r == 0)
		r = fb_put_file(x, abs, b.data ? b.data : "", b.len, 0644,
				ret_changed);
	free(old);
	buf_done(&b);
	return r;
}

/*
 * hostname: /etc/hostname holds the node name; the running name (procfs)
 * is changed with hostname(1) only when it differs, then read back.
 */
int
fb_step_hostname(struct fb_exec *x)
{
	const char *name = x->p->node.name;
	char *const argv[] = { "hostname", (char *)name, NULL };
	struct buf b;
	char *cur = NULL;
	bool changed;
	int r;

	buf_init(&b, 1024);
	r = buf_printf(&b, "%s\n", name);
	if (r < 0)
		goto out;
	r = put_text(x, "/etc/hostname", &b, 0644, &changed);
	if (r < 0)
		goto out;
	cur = read_trimmed(x, "/proc/sys/kernel/hostname");
	if (cur != NULL && strcmp(cur, name) == 0) {
		fb_msg(x, 0, "%s%s", name,
		       changed ? " (written to /etc/hostname)" : "");
		goto out;
	}
	if (fb_have("hostname")) {
		r = fb_must(x, argv, FB_RUN_TIMEOUT);
	} else {
		/* What hostname(1) does: sethostname(2) through procfs. */
		r = write_in_place(x, "/proc/sys/kernel/hostname", name);
		if (r < 0)
			fb_msg(x, r,
			       "no hostname program; /proc/sys/kernel/"
			       "hostname: %s",
			       strerror(-r));
	}
	if (r < 0)
		goto out;
	free(cur);
	cur = read_trimmed(x, "/proc/sys/kernel/hostname");
	if (cur != NULL && strcmp(cur, name) != 0) {
		r = fb_msg(x, -EIO, "the host name is still '%s'", cur);
		goto out;
	}
	fb_msg(x, 0, "%s", name);
out:
	free(cur);
	buf_done(&b);
	return r;
}

/*
 * /etc/hosts keeps whatever is there; the agent owns one block between
 * marker lines, replaced as a whole, so rerunning never duplicates it.
 */
int
fb_step_hosts(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	char *old = NULL, *line, *next;
	size_t oldlen = 0, i, j;
	bool inside = false, changed;
	struct buf b;
	int r;

	buf_init(&b, TEXT_MAX);
	r = fb_get_file(x, "/etc/hosts", TEXT_MAX, &old, &oldlen);
	if (r < 0 && r != -ENOENT) {
		r = fb_msg(x, r, "read /etc/hosts: %s", strerror(-r));
		goto out;
	}
	if (old == NULL)
		r = buf_puts(&b, "127.0.0.1\tlocalhost\n");
	for (line = old; r == 0 && line != NULL && *line; line = next) {
		size_t len;

		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + len;
		if (len == strlen(HOSTS_BEGIN) &&
		    memcmp(line, HOSTS_BEGIN, len) == 0) {
			inside = true;
			continue;
		}
		if (inside) {
			if (len == strlen(HOSTS_END) &&
			    memcmp(line, HOSTS_END, len) == 0)
				inside = false;
			continue;
		}
		r = buf_append(&b, line, len);
		if (r == 0)
			r = buf_puts(&b, "\n");
	}
	if (r == 0)
		r = buf_puts(&b, HOSTS_BEGIN "\n");
	for (i = 0; r == 0 && i < p->nhosts; i++) {
		r = buf_puts(&b, p->hosts[i].ip);
		for (j = 0; r == 0 && j < p->hosts[i].nnames; j++)
			r = buf_printf(&b, "\t%s", p->hosts[i].names[j]);
		if (r == 0)
			r = buf_puts(&b, "\n");
	}
	if (r == 0)
		r = buf_puts(&b, HOSTS_END "\n");
	if (r < 0) {
		r = fb_msg(x, r, "/etc/hosts: %s", strerror(-r));
		goto out;
	}
	r = put_text(x, "/etc/hosts", &b, 0644, &changed);
	if (r == 0)
		fb_msg(x, 0, "%zu entries%s", p->nhosts,
		       changed ? "" : " (unchanged)");
out:
	free(old);
	buf_done(&b);
	return r;
}

/*
 * modules: each module not under /sys/module is loaded with modprobe; all
 * are listed in /etc/modules-load.d/metalboot.conf for the next boots.
 */
int
fb_step_modules(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	char sysmod[PATH_MAX];
	size_t i, loaded = 0;
	struct buf b;
	bool changed;
	int r = 0;

	buf_init(&b, TEXT_MAX);
	for (i = 0; i < p->nmodules; i++) {
		char *const argv[] = { "modprobe", p->modules[i], NULL };

		if (snprintf(sysmod, sizeof(sysmod), "/sys/module/%s",
			     p->modules[i]) >= (int)sizeof(sysmod)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		if (fb_exists(x, sysmod))
			continue;
		r = fb_must(x, argv, FB_RUN_TIMEOUT);
		if (r < 0)
			goto out;
		loaded++;
	}
	r = buf_puts(&b, "# Written by metalboot-firstboot.\n");
	for (i = 0; r == 0 && i < p->nmodules; i++)
		r = buf_printf(&b, "%s\n", p->modules[i]);
	if (r < 0)
		goto out;
	r = put_text(x, FB_MODULES_CONF, &b, 0644, &changed);
	if (r == 0)
		fb_msg(x, 0, "%zu loaded now, %zu persisted", loaded,
		       p->nmodules);
out:
	buf_done(&b);
	return r;
}

static int
sysctl_path(const char *key, char *buf, size_t n)
{
	size_t i, o;

	o = (size_t)snprintf(buf, n, "/proc/sys/");
	for (i = 0; key[i] && o + 1 < n; i++)
		buf[o++] = key[i] == '.' ? '/' : key[i];
	if (key[i] != '\0')
		return -ENAMETOOLONG;
	buf[o] = '\0';
	return 0;
}

/*
 * sysctls: each value differing in /proc/sys is written and read back;
 * all are persisted in /etc/sysctl.d/99-metalboot.conf. A missing key
 * fails the step (its module is not loaded, or the kernel lacks it).
 */
int
fb_step_sysctls(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	char path[PATH_MAX];
	size_t i, set = 0;
	struct buf b;
	char *cur = NULL;
	bool changed;
	int r = 0;

	buf_init(&b, TEXT_MAX);
	for (i = 0; i < p->nsysctls; i++) {
		const struct fb_sysctl *s = &p->sysctls[i];

		r = sysctl_path(s->key, path, sizeof(path));
		if (r < 0)
			goto out;
		free(cur);
		cur = read_trimmed(x, path);
		if (cur == NULL) {
			r = fb_msg(x, -ENOENT,
				   "%s: no such sysctl (is its module "
				   "loaded?)",
				   s->key);
			goto out;
		}
		if (strcmp(cur, s->value) == 0)
			continue;
		r = write_in_place(x, path, s->value);
		if (r < 0) {
			r = fb_msg(x, r, "%s: %s", s->key, strerror(-r));
			goto out;
		}
		free(cur);
		cur = read_trimmed(x, path);
		if (cur == NULL || strcmp(cur, s->value) != 0) {
			r = fb_msg(x, -EIO, "%s did not take the value %s",
				   s->key, s->value);
			goto out;
		}
		set++;
	}
	r = buf_puts(&b, "# Written by metalboot-firstboot.\n");
	for (i = 0; r == 0 && i < p->nsysctls; i++)
		r = buf_printf(&b, "%s = %s\n", p->sysctls[i].key,
			       p->sysctls[i].value);
	if (r < 0)
		goto out;
	r = put_text(x, FB_SYSCTL_CONF, &b, 0644, &changed);
	if (r == 0)
		fb_msg(x, 0, "%zu set now, %zu persisted", set, p->nsysctls);
out:
	free(cur);
	buf_done(&b);
	return r;
}

/* Count active swap areas: /proc/swaps lines after its header. */
static int
swaps_active(struct fb_exec *x)
{
	char *s = NULL, *line, *save = NULL;
	size_t len;
	int n = 0;

	if (fb_get_file(x, "/proc/swaps", TEXT_MAX, &s, &len) < 0)
		return 0;
	for (line = strtok_r(s, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Filename", 8) == 0 || line[0] == '\0')
			continue;
		n++;
	}
	free(s);
	return n;
}

/* The third whitespace-separated field of an fstab line is "swap". */
static bool
fstab_is_swap(const char *line)
{
	const char *p = line;
	int field;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '#' || *p == '\0')
		return false;
	for (field = 0; field < 2; field++) {
		while (*p && *p != ' ' && *p != '\t')
			p++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	return strncmp(p, "swap", 4) == 0 &&
	       (p[4] == ' ' || p[4] == '\t' || p[4] == '\0');
}

/* systemctl is-enabled UNIT prints "masked" (not "masked-runtime"). */
static bool
unit_masked(const char *unit)
{
	char *const argv[] = { "systemctl", "is-enabled", (char *)unit, NULL };
	struct buf out;
	int status = 1;
	bool masked;

	buf_init(&out, 1u << 16);
	masked = fb_run(argv, FB_RUN_TIMEOUT, &out, &status) == 0 &&
		 out.data != NULL && strncmp(out.data, "masked", 6) == 0 &&
		 (out.data[6] == '\n' || out.data[6] == '\0');
	buf_done(&out);
	return masked;
}

/*
 * systemctl mask UNIT unless it is masked. systemd masks a unit that does
 * not exist without complaint; an older one that refuses, saying the unit
 * does not exist or is not found, leaves nothing to turn on, so that
 * failure alone is ignored. *ret_masked: masked now.
 */
static int
mask_unit(struct fb_exec *x, const char *unit, bool *ret_masked)
{
	char *const argv[] = { "systemctl", "mask", (char *)unit, NULL };
	const char *out;
	char why[FB_MSG_LEN];
	int r;

	*ret_masked = false;
	if (unit_masked(unit))
		return 0;
	r = fb_must(x, argv, FB_RUN_TIMEOUT);
	out = x->output.data != NULL ? x->output.data : "";
	if (r == -EIO &&
	    (strstr(out, "does not exist") || strstr(out, "not found"))) {
		log_info("swap: systemctl mask %s: no such unit; skipped",
			 unit);
		x->msg[0] = '\0';
		buf_done_secure(&x->output);
		return 0;
	}
	if (r < 0) {
		snprintf(why, sizeof(why), "%s", x->msg);
		return fb_msg(x, r, "%s (%s)", why, unit);
	}
	*ret_masked = true;
	return 0;
}

/*
 * zram swap comes back at each boot from its own units: they are masked
 * (with systemctl), and zram-generator gets an empty configuration, which
 * makes no device. *ret_masked counts the units masked now.
 */
static int
zram_off(struct fb_exec *x, size_t *ret_masked)
{
	struct buf empty;
	bool changed;
	size_t i;
	int r;

	*ret_masked = 0;
	buf_init(&empty, 1);
	r = put_text(x, HOSTCONF_ZRAM_GENERATOR_CONF, &empty, 0644, &changed);
	if (r < 0 || !fb_have("systemctl"))
		return r;
	for (i = 0; r == 0 && hostconf_zram_units[i] != NULL; i++) {
		r = mask_unit(x, hostconf_zram_units[i], &changed);
		*ret_masked += r == 0 && changed;
	}
	return r;
}

/*
 * The swap lines of /etc/fstab commented out (FSTAB_COMMENTED), never
 * deleted; empty lines and the final newline are kept as they are.
 * *ret_n counts them; *ret_absent says there is no /etc/fstab. 0 or a
 * negative errno with x->msg.
 */
static int
fstab_swap_off(struct fb_exec *x, size_t *ret_n, bool *ret_absent)
{
	char *old = NULL, *line, *next;
	size_t oldlen = 0;
	struct buf b;
	bool changed;
	int r;

	*ret_n = 0;
	*ret_absent = false;
	r = fb_get_file(x, "/etc/fstab", TEXT_MAX, &old, &oldlen);
	if (r == -ENOENT) {
		*ret_absent = true;
		return 0;
	}
	if (r < 0)
		return fb_msg(x, r, "read /etc/fstab: %s", strerror(-r));
	buf_init(&b, TEXT_MAX);
	for (line = old; r == 0 && *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (fstab_is_swap(line)) {
			r = buf_puts(&b, FSTAB_COMMENTED);
			(*ret_n)++;
		}
		if (r == 0)
			r = buf_append(&b, line, (size_t)(next - line));
	}
	if (r < 0)
		r = fb_msg(x, r, "/etc/fstab: %s", strerror(-r));
	else if (*ret_n > 0)
		r = put_text(x, "/etc/fstab", &b, 0644, &changed);
	free(old);
	buf_done(&b);
	return r;
}

/*
 * swap: zram's units masked and its generator turned off (zram_off);
 * swapoff -a when /proc/swaps lists an area, zram devices included (and
 * none may remain); swap lines of /etc/fstab are commented out, never
 * deleted.
 */
int
fb_step_swap(struct fb_exec *x)
{
	char *const argv[] = { "swapoff", "-a", NULL };
	size_t commented = 0, masked = 0;
	bool nofstab;
	int active, r;

	r = zram_off(x, &masked);
	if (r < 0)
		return r;
	active = swaps_active(x);
	if (active > 0) {
		r = fb_must(x, argv, FB_RUN_TIMEOUT);
		if (r < 0)
			return r;
		if (swaps_active(x) > 0)
			return fb_msg(x, -EIO,
				      "swap is still on after swapoff");
	}
	r = fstab_swap_off(x, &commented, &nofstab);
	if (r < 0)
		return r;
	if (nofstab)
		fb_msg(x, 0,
		       "%d swap area(s) turned off; no /etc/fstab; %zu zram "
		       "unit(s) masked",
		       active, masked);
	else
		fb_msg(x, 0,
		       "%d swap area(s) turned off; %zu fstab line(s) "
		       "commented out; %zu zram unit(s) masked",
		       active, commented, masked);
	return 0;
}

/*
 * selinux: setenforce 0 when the kernel enforces (read back); SELINUX= in
 * /etc/selinux/config set to the payload's mode when that file exists.
 */
int
fb_step_selinux(struct fb_exec *x)
{
	const char *mode = x->p->selinux == FB_SELINUX_PERMISSIVE ? "permissive"
								  : "disabled";
	char *const argv[] = { "setenforce", "0", NULL };
	char *enforce = NULL, line[32];
	bool changed = false, now = false;
	int r = 0;

	enforce = read_trimmed(x, "/sys/fs/selinux/enforce");
	if (enforce != NULL && strcmp(enforce, "1") == 0) {
		r = fb_must(x, argv, FB_RUN_TIMEOUT);
		if (r < 0)
			goto out;
		free(enforce);
		enforce = read_trimmed(x, "/sys/fs/selinux/enforce");
		if (enforce != NULL && strcmp(enforce, "1") == 0) {
			r = fb_msg(x, -EIO, "SELinux still enforces");
			goto out;
		}
		now = true;
	}
	snprintf(line, sizeof(line), "SELINUX=%s", mode);
	r = set_line(x, "/etc/selinux/config", "SELINUX=", line, &changed);
	if (r == -ENOENT) {
		r = 0;
		fb_msg(x, 0, "%s; no /etc/selinux/config",
		       now ? "permissive now" : "not enforcing");
	} else if (r < 0) {
		fb_msg(x, r, "/etc/selinux/config: %s", strerror(-r));
	} else {
		fb_msg(x, 0, "%s; SELINUX=%s in /etc/selinux/config",
		       now ? "permissive now" : "not enforcing", mode);
	}
out:
	free(enforce);
	return r;
}

static bool
firewalld_running(void)
{
	char *const argv[] = { "firewall-cmd", "--state", NULL };
	int status = 1;

	if (!fb_have("firewall-cmd"))
		return false;
	return fb_run(argv, FB_RUN_TIMEOUT, NULL, &status) == 0 && status == 0;
}

static int
open_firewalld(struct fb_exec *x, const struct fb_port *pt, bool *opened)
{
	char spec[64], query[80], add[80], perm[96];
	char *const qv[] = { "firewall-cmd", query, NULL };
	char *const av[] = { "firewall-cmd", add, NULL };
	char *const pv[] = { "firewall-cmd", "--permanent", perm, NULL };
	int status = 1, r;

	if (pt->first == pt->last)
		snprintf(spec, sizeof(spec), "%u/%s", pt->first,
			 pt->udp ? "udp" : "tcp");
	else
		snprintf(spec, sizeof(spec), "%u-%u/%s", pt->first, pt->last,
			 pt->udp ? "udp" : "tcp");
	snprintf(query, sizeof(query), "--query-port=%s", spec);
	snprintf(add, sizeof(add), "--add-port=%s", spec);
	snprintf(perm, sizeof(perm), "--add-port=%s", spec);
	r = fb_run(qv, FB_RUN_TIMEOUT, NULL, &status);
	if (r < 0)
		return fb_msg(x, r, "firewall-cmd: %s", strerror(-r));
	*opened = false;
	if (status == 0)
		return 0;
	r = fb_must(x, av, FB_RUN_TIMEOUT);
	if (r == 0)
		r = fb_must(x, pv, FB_RUN_TIMEOUT);
	if (r < 0)
		return r;
	r = fb_run(qv, FB_RUN_TIMEOUT, NULL, &status);
	if (r < 0 || status != 0)
		return fb_msg(x, -EIO, "firewalld: %s is still closed", spec);
	*opened = true;
	return 0;
}

static int
open_iptables(struct fb_exec *x, const struct fb_port *pt, bool *opened)
{
	char dport[32];
	char *const cv[] = {
		"iptables", "-C",  "INPUT", "-p",     pt->udp ? "udp" : "tcp",
		"--dport",  dport, "-j",    "ACCEPT", NULL
	};
	char *const av[] = {
		"iptables", "-A",  "INPUT", "-p",     pt->udp ? "udp" : "tcp",
		"--dport",  dport, "-j",    "ACCEPT", NULL
	};
	int status = 1, r;

	if (pt->first == pt->last)
		snprintf(dport, sizeof(dport), "%u", pt->first);
	else
		snprintf(dport, sizeof(dport), "%u:%u", pt->first, pt->last);
	*opened = false;
	r = fb_run(cv, FB_RUN_TIMEOUT, NULL, &status);
	if (r < 0)
		return fb_msg(x, r, "iptables: %s", strerror(-r));
	if (status == 0)
		return 0;
	r = fb_must(x, av, FB_RUN_TIMEOUT);
	if (r < 0)
		return r;
	r = fb_run(cv, FB_RUN_TIMEOUT, NULL, &status);
	if (r < 0 || status != 0)
		return fb_msg(x, -EIO, "iptables: port %s/%s is still closed",
			      dport, pt->udp ? "udp" : "tcp");
	*opened = true;
	return 0;
}

/*
 * Docker sets the FORWARD chain's policy to DROP, which breaks pod traffic
 * between nodes; the seeds run "iptables -P FORWARD ACCEPT" after it.
 */
static int
forward_accept(struct fb_exec *x, bool *changed)
{
	char *const sv[] = { "iptables", "-S", "FORWARD", NULL };
	char *const pv[] = { "iptables", "-P", "FORWARD", "ACCEPT", NULL };
	struct buf out;
	int status = 1, r;

	*changed = false;
	buf_init(&out, 1u << 20);
	r = fb_run(sv, FB_RUN_TIMEOUT, &out, &status);
	if (r == 0 && status == 0 && out.data != NULL &&
	    strncmp(out.data, "-P FORWARD ACCEPT", 17) == 0)
		goto out;
	r = fb_must(x, pv, FB_RUN_TIMEOUT);
	if (r == 0)
		*changed = true;
out:
	buf_done(&out);
	return r;
}

static bool
ufw_active(void)
{
	char *const argv[] = { "ufw", "status", NULL };
	int status = 1;
	bool active;
	struct buf out;

	if (!fb_have("ufw"))
		return false;
	buf_init(&out, 1u << 20);
	active = fb_run(argv, FB_RUN_TIMEOUT, &out, &status) == 0 &&
		 status == 0 && out.data != NULL &&
		 (strncmp(out.data, "Status: active\n", 15) == 0 ||
		  strstr(out.data, "\nStatus: active\n") != NULL);
	buf_done(&out);
	return active;
}

/* "ufw allow PORT/PROTO": ufw keeps the rule, and skips one it has. */
static int
open_ufw(struct fb_exec *x, const struct fb_port *pt, bool *opened)
{
	char spec[32];
	char *const av[] = { "ufw", "allow", spec, NULL };
	int r;

	if (pt->first == pt->last)
		snprintf(spec, sizeof(spec), "%u/%s", pt->first,
			 pt->udp ? "udp" : "tcp");
	else
		snprintf(spec, sizeof(spec), "%u:%u/%s", pt->first, pt->last,
			 pt->udp ? "udp" : "tcp");
	*opened = false;
	r = fb_must(x, av, FB_RUN_TIMEOUT);
	if (r < 0)
		return r;
	/* "Rule added", or "Skipping adding existing rule". */
	*opened = x->output.data != NULL &&
		  strstr(x->output.data, "Rule added") != NULL;
	return 0;
}

/*
 * ufw sets FORWARD's policy from DEFAULT_FORWARD_POLICY in
 * /etc/default/ufw (DROP as shipped) at each start, which drops pod
 * traffic between nodes: set to ACCEPT, and ufw reloaded when it changed.
 */
static int
ufw_forward(struct fb_exec *x, bool *ret_changed)
{
	char *const rv[] = { "ufw", "reload", NULL };
	int r;

	*ret_changed = false;
	r = set_line(x, "/etc/default/ufw", "DEFAULT_FORWARD_POLICY=",
		     "DEFAULT_FORWARD_POLICY=\"ACCEPT\"", ret_changed);
	if (r < 0)
		return fb_msg(x, r, "/etc/default/ufw: %s", strerror(-r));
	if (*ret_changed)
		return fb_must(x, rv, FB_RUN_TIMEOUT);
	return 0;
}

/* Which firewall the rules go to, in this order of preference. */
enum fw_kind {
	FW_NONE,
	FW_FIREWALLD,
	FW_UFW,
	FW_IPTABLES,
};

static enum fw_kind
fw_kind(void)
{
	if (firewalld_running())
		return FW_FIREWALLD;
	if (ufw_active())
		return FW_UFW;
	if (fb_have("iptables"))
		return FW_IPTABLES;
	return FW_NONE;
}

/*
 * HOSTCONF_FW_SCRIPT's text for the payload's ports ("6443",
 * "30000-32767"). 0 or a negative errno.
 */
static int
fw_script(const struct fb_payload *p, struct buf *out)
{
	struct hostconf_port *hp = NULL;
	char(*spec)[16] = NULL;
	size_t i;
	int r = -ENOMEM;

	if (p->nports > 0) {
		hp = calloc(p->nports, sizeof(*hp));
		spec = calloc(p->nports, sizeof(*spec));
		if (hp == NULL || spec == NULL)
			goto out;
	}
	for (i = 0; i < p->nports; i++) {
		const struct fb_port *pt = &p->ports[i];

		if (pt->first == pt->last)
			snprintf(spec[i], sizeof(spec[i]), "%u", pt->first);
		else
			snprintf(spec[i], sizeof(spec[i]), "%u-%u", pt->first,
				 pt->last);
		hp[i].port = spec[i];
		hp[i].udp = pt->udp;
	}
	r = hostconf_fw_script(hp, p->nports, out);
out:
	free(hp);
	free(spec);
	return r;
}

/*
 * systemctl enable UNIT unless is-enabled says it is. *ret_note says which,
 * or that there is no systemctl. 0 or a negative errno with x->msg.
 */
static int
enable_unit(struct fb_exec *x, const char *unit, const char **ret_note)
{
	char *const qv[] = { "systemctl", "is-enabled", "--quiet", (char *)unit,
			     NULL };
	char *const ev[] = { "systemctl", "enable", (char *)unit, NULL };
	int status = 1, r;

	if (!fb_have("systemctl")) {
		*ret_note = "no systemctl: not enabled";
		return 0;
	}
	r = fb_run(qv, FB_RUN_TIMEOUT, NULL, &status);
	if (r == 0 && status == 0) {
		*ret_note = "enabled already";
		return 0;
	}
	r = fb_must(x, ev, FB_RUN_TIMEOUT);
	if (r < 0)
		return r;
	*ret_note = "enabled";
	return 0;
}

/*
 * The rules again at every boot (runtime rules are lost on reboot, and
 * docker resets FORWARD's policy): HOSTCONF_FW_SCRIPT (0755) and its unit
 * (0644) written, the unit enabled, not started (this step applied the
 * rules for this boot). *ret_note says what became of the unit.
 */
static int
fw_persist(struct fb_exec *x, const char **ret_note)
{
	struct buf script, unit;
	bool changed;
	int r;

	buf_init(&script, TEXT_MAX);
	buf_init(&unit, TEXT_MAX);
	r = fw_script(x->p, &script);
	if (r == 0)
		r = hostconf_fw_unit(&unit);
	if (r < 0) {
		r = fb_msg(x, r, HOSTCONF_FW_SCRIPT ": %s", strerror(-r));
		goto out;
	}
	r = put_text(x, HOSTCONF_FW_SCRIPT, &script, 0755, &changed);
	if (r == 0)
		r = put_text(x, HOSTCONF_FW_UNIT, &unit, 0644, &changed);
	if (r == 0)
		r = enable_unit(x, HOSTCONF_FW_UNIT_NAME, ret_note);
out:
	buf_done(&script);
	buf_done(&unit);
	return r;
}

static int
open_port(struct fb_exec *x, enum fw_kind k, const struct fb_port *pt,
	  bool *opened)
{
	switch (k) {
	case FW_FIREWALLD:
		return open_firewalld(x, pt, opened);
	case FW_UFW:
		return open_ufw(x, pt, opened);
	default:
		return open_iptables(x, pt, opened);
	}
}

/*
 * firewall: each port is queried, then opened (runtime and permanent) with
 * firewall-cmd when firewalld runs, else allowed with ufw when ufw is
 * active (its forward policy set to ACCEPT), else checked and appended
 * with iptables; the FORWARD policy is set to ACCEPT when iptables exists.
 * In every case the boot script and unit (common/hostconf.h) are
 * installed and the unit enabled, so that the rules outlive a reboot.
 */
int
fb_step_firewall(struct fb_exec *x)
{
	static const char *const names[] = { "no firewall", "firewalld", "ufw",
					     "iptables" };
	const struct fb_payload *p = x->p;
	enum fw_kind k = fw_kind();
	bool opened, fwd = false, ufwd = false;
	size_t i, nopened = 0;
	const char *unit = "";
	int r = 0;

	for (i = 0; k != FW_NONE && r == 0 && i < p->nports; i++) {
		r = open_port(x, k, &p->ports[i], &opened);
		nopened += r == 0 && opened;
	}
	if (r == 0 && k == FW_UFW)
		r = ufw_forward(x, &ufwd);
	if (r == 0 && fb_have("iptables"))
		r = forward_accept(x, &fwd);
	if (r == 0)
		r = fw_persist(x, &unit);
	if (r < 0)
		return r;
	if (k == FW_NONE)
		fb_msg(x, 0,
		       "neither firewalld, ufw nor iptables: nothing to "
		       "open; " HOSTCONF_FW_UNIT_NAME " %s",
		       unit);
	else
		fb_msg(x, 0,
		       "%s: %zu of %zu port rule(s) "
		       "added%s%s; " HOSTCONF_FW_UNIT_NAME " %s",
		       names[k], nopened, p->nports,
		       ufwd ? "; ufw DEFAULT_FORWARD_POLICY ACCEPT" : "",
		       fwd ? "; FORWARD policy ACCEPT" : "", unit);
	return 0;
}
