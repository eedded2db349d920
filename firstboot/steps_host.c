/*
 * steps_host.c - host preparation: host name, /etc/hosts, kernel modules,
 * sysctls, swap, SELinux and the firewall. What the seeds do by hand on
 * every node before kubeadm, each step checked, done and verified.
 */
#include "exec.h"

#include "fsutil.h"
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

/*
 * swap: swapoff -a when /proc/swaps lists an area (and none may remain);
 * swap lines of /etc/fstab are commented out, never deleted.
 */
int
fb_step_swap(struct fb_exec *x)
{
	char *const argv[] = { "swapoff", "-a", NULL };
	char *old = NULL, *line, *next;
	size_t oldlen = 0, commented = 0;
	int active, r;
	struct buf b;
	bool changed;

	buf_init(&b, TEXT_MAX);
	active = swaps_active(x);
	if (active > 0) {
		r = fb_must(x, argv, FB_RUN_TIMEOUT);
		if (r < 0)
			goto out;
		if (swaps_active(x) > 0) {
			r = fb_msg(x, -EIO, "swap is still on after swapoff");
			goto out;
		}
	}
	r = fb_get_file(x, "/etc/fstab", TEXT_MAX, &old, &oldlen);
	if (r == -ENOENT) {
		fb_msg(x, 0, "%d swap area(s) turned off; no /etc/fstab",
		       active);
		r = 0;
		goto out;
	}
	if (r < 0) {
		r = fb_msg(x, r, "read /etc/fstab: %s", strerror(-r));
		goto out;
	}
	/* Line by line, keeping empty lines and the final newline as is. */
	for (line = old; r == 0 && *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (fstab_is_swap(line)) {
			r = buf_puts(&b, FSTAB_COMMENTED);
			commented++;
		}
		if (r == 0)
			r = buf_append(&b, line, (size_t)(next - line));
	}
	if (r < 0)
		goto out;
	if (commented > 0) {
		r = put_text(x, "/etc/fstab", &b, 0644, &changed);
		if (r < 0)
			goto out;
	}
	fb_msg(x, 0,
	       "%d swap area(s) turned off; %zu fstab line(s) "
	       "commented out",
	       active, commented);
out:
	free(old);
	buf_done(&b);
	return r;
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
	char *enforce = NULL, *old = NULL, *line, *next;
	size_t oldlen = 0;
	bool found = false, changed = false, now = false;
	struct buf b;
	int r = 0;

	buf_init(&b, TEXT_MAX);
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
	r = fb_get_file(x, "/etc/selinux/config", TEXT_MAX, &old, &oldlen);
	if (r == -ENOENT) {
		r = 0;
		fb_msg(x, 0, "%s; no /etc/selinux/config",
		       now ? "permissive now" : "not enforcing");
		goto out;
	}
	if (r < 0) {
		r = fb_msg(x, r, "read /etc/selinux/config: %s", strerror(-r));
		goto out;
	}
	for (line = old; r == 0 && *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (strncmp(line, "SELINUX=", 8) == 0) {
			found = true;
			r = buf_printf(&b, "SELINUX=%s\n", mode);
			continue;
		}
		r = buf_append(&b, line, (size_t)(next - line));
	}
	if (r == 0 && !found)
		r = buf_printf(&b, "%sSELINUX=%s\n",
			       oldlen > 0 && old[oldlen - 1] != '\n' ? "\n"
								     : "",
			       mode);
	if (r < 0)
		goto out;
	r = put_text(x, "/etc/selinux/config", &b, 0644, &changed);
	if (r == 0)
		fb_msg(x, 0, "%s; SELINUX=%s in /etc/selinux/config",
		       now ? "permissive now" : "not enforcing", mode);
out:
	free(enforce);
	free(old);
	buf_done(&b);
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

/*
 * firewall: each port is queried, then opened (runtime and permanent) with
 * firewall-cmd when firewalld runs, else checked and appended with
 * iptables; the FORWARD policy is set to ACCEPT when iptables exists.
 */
int
fb_step_firewall(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	bool firewalld = firewalld_running(), opened, fwd = false;
	bool iptables = fb_have("iptables");
	size_t i, nopened = 0;
	int r;

	if (!firewalld && !iptables) {
		fb_msg(x, 0, "neither firewalld nor iptables: nothing to open");
		return 0;
	}
	for (i = 0; i < p->nports; i++) {
		if (firewalld)
			r = open_firewalld(x, &p->ports[i], &opened);
		else
			r = open_iptables(x, &p->ports[i], &opened);
		if (r < 0)
			return r;
		nopened += opened;
	}
	if (iptables) {
		r = forward_accept(x, &fwd);
		if (r < 0)
			return r;
	}
	fb_msg(x, 0, "%s: %zu of %zu port rule(s) added%s",
	       firewalld ? "firewalld" : "iptables", nopened, p->nports,
	       fwd ? "; FORWARD policy ACCEPT" : "");
	return 0;
}
