/* plan.c - payload to ordered steps; pure, no I/O. */
#include "plan.h"

#include "buf.h"
#include "ctrconf.h"
#include "hostconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const step_names[FB_STEP_COUNT] = {
	"fetch",    "hostname", "hosts",      "modules", "sysctls", "swap",
	"selinux",  "firewall", "runtime",    "pki",	 "vip",	    "kubelet",
	"wait-api", "kubeadm",	"kubeconfig", "cni",	 "ready",   "done",
};

const char *
fb_step_name(enum fb_step_kind kind)
{
	return (unsigned)kind < FB_STEP_COUNT ? step_names[kind] : "unknown";
}

struct builder {
	struct fb_plan *plan;
	const char *root; /* "" for "/" */
	int r;
};

static struct fb_step *
add_step(struct builder *b, enum fb_step_kind kind)
{
	struct fb_plan *pl = b->plan;
	struct fb_step *s;

	if (b->r < 0)
		return NULL;
	s = realloc(pl->steps, (pl->n + 1) * sizeof(*s));
	if (s == NULL) {
		b->r = -ENOMEM;
		return NULL;
	}
	pl->steps = s;
	s = &pl->steps[pl->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->name = step_names[kind];
	return s;
}

static void detail(struct builder *b, struct fb_step *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
detail(struct builder *b, struct fb_step *s, const char *fmt, ...)
{
	struct buf line;
	va_list ap;
	char **d, *text;
	int r;

	if (b->r < 0 || s == NULL)
		return;
	buf_init(&line, 4096);
	va_start(ap, fmt);
	r = buf_vprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0) {
		buf_done(&line);
		b->r = r;
		return;
	}
	text = buf_take(&line, NULL);
	d = realloc(s->details, (s->ndetails + 1) * sizeof(*d));
	if (text == NULL || d == NULL) {
		free(text);
		if (d != NULL)
			s->details = d;
		b->r = -ENOMEM;
		return;
	}
	s->details = d;
	d[s->ndetails++] = text;
}

static void
plan_hosts(struct builder *b, const struct fb_payload *p)
{
	struct fb_step *s;
	size_t i;

	s = add_step(b, FB_STEP_HOSTNAME);
	detail(b, s, "write /etc/hostname: %s", p->node.name);
	detail(b, s, "run hostname %s (when the running name differs)",
	       p->node.name);
	s = add_step(b, FB_STEP_HOSTS);
	detail(b, s, "write the metalboot block of /etc/hosts (%zu entries)",
	       p->nhosts);
	for (i = 0; i < p->nhosts; i++)
		detail(b, s, "  %s %s%s", p->hosts[i].ip, p->hosts[i].names[0],
		       p->hosts[i].nnames > 1 ? " ..." : "");
}

/* swap: zram's units masked first, so that no boot turns it on again. */
static void
plan_swap(struct builder *b)
{
	struct fb_step *s = add_step(b, FB_STEP_SWAP);
	size_t i;

	for (i = 0; hostconf_zram_units[i] != NULL; i++)
		detail(b, s,
		       "run systemctl mask %s (unless masked; when systemctl "
		       "is present)",
		       hostconf_zram_units[i]);
	detail(b, s, "write " HOSTCONF_ZRAM_GENERATOR_CONF " (empty: no zram)");
	detail(b, s, "run swapoff -a (when /proc/swaps lists any, zram too)");
	detail(b, s, "comment out swap lines in /etc/fstab");
}

static void
plan_kernel(struct builder *b, const struct fb_payload *p)
{
	struct fb_step *s;
	size_t i;

	if (p->nmodules > 0) {
		s = add_step(b, FB_STEP_MODULES);
		for (i = 0; i < p->nmodules; i++)
			detail(b, s, "run modprobe %s (unless loaded)",
			       p->modules[i]);
		detail(b, s, "write " FB_MODULES_CONF);
	}
	if (p->nsysctls > 0) {
		s = add_step(b, FB_STEP_SYSCTLS);
		for (i = 0; i < p->nsysctls; i++)
			detail(b, s, "set %s = %s", p->sysctls[i].key,
			       p->sysctls[i].value);
		detail(b, s, "write " FB_SYSCTL_CONF);
	}
	if (p->swap_off)
		plan_swap(b);
	if (p->selinux != FB_SELINUX_KEEP) {
		const char *mode = p->selinux == FB_SELINUX_PERMISSIVE
					   ? "permissive"
					   : "disabled";

		s = add_step(b, FB_STEP_SELINUX);
		detail(b, s, "run setenforce 0 (when enforcing)");
		detail(b, s,
		       "set SELINUX=%s in /etc/selinux/config (when "
		       "present)",
		       mode);
	}
}

static void
plan_firewall(struct builder *b, const struct fb_payload *p)
{
	struct fb_step *s = add_step(b, FB_STEP_FIREWALL);
	size_t i;

	for (i = 0; i < p->nports; i++) {
		const struct fb_port *pt = &p->ports[i];

		if (pt->first == pt->last)
			detail(b, s, "open %u/%s", pt->first,
			       pt->udp ? "udp" : "tcp");
		else
			detail(b, s, "open %u-%u/%s", pt->first, pt->last,
			       pt->udp ? "udp" : "tcp");
	}
	detail(b, s,
	       "with firewall-cmd when firewalld runs, else ufw when it is "
	       "active, else iptables");
	detail(b, s,
	       "set DEFAULT_FORWARD_POLICY=\"ACCEPT\" in /etc/default/ufw "
	       "(with ufw)");
	detail(b, s, "run iptables -P FORWARD ACCEPT");
	detail(b, s,
	       "write " HOSTCONF_FW_SCRIPT " (0755) and " HOSTCONF_FW_UNIT
	       ": the same rules at every boot");
	detail(b, s,
	       "run systemctl enable " HOSTCONF_FW_UNIT_NAME
	       " (unless enabled; when systemctl is present)");
}

static void
plan_runtime(struct builder *b, const struct fb_payload *p)
{
	struct fb_step *s = add_step(b, FB_STEP_RUNTIME);
	size_t i;

	/* containerd's CRI serves kubelet with either kind (steps_runtime.c).
	 */
	detail(b, s,
	       "run containerd --version: config version 2 for 1.x, 3 for "
	       "2.x (2 when unknown)");
	detail(b, s,
	       "write " FB_CONTAINERD_CONF
	       " (SystemdCgroup = %s; config_path " CTRCONF_CERTS_D ")",
	       strcmp(p->runtime.cgroup_driver, "systemd") == 0 ? "true"
								: "false");
	if (p->runtime.sandbox_image != NULL)
		detail(b, s, "sandbox image %s", p->runtime.sandbox_image);
	else
		detail(b, s, "sandbox image: containerd's default");
	if (p->runtime.kind == FB_RUNTIME_DOCKER)
		detail(b, s,
		       "write " FB_DOCKER_CONF " (native.cgroupdriver=%s, "
		       "json-file max-size %s max-file %u, %s)",
		       p->runtime.cgroup_driver, p->runtime.log_max_size,
		       p->runtime.log_max_files, p->runtime.storage_driver);
	if (p->runtime.nmirrors > 0)
		detail(b, s, "write " CTRCONF_HOSTS_TOML);
	for (i = 0; i < p->runtime.nmirrors; i++)
		detail(b, s, "  registry mirror %s", p->runtime.mirrors[i]);
	detail(b, s, "kubelet's CRI endpoint: %s", p->runtime.cri_socket);
	if (p->runtime.kind == FB_RUNTIME_DOCKER)
		detail(b, s,
		       "run systemctl restart containerd, then docker (when "
		       "systemctl is present)");
	else
		detail(b, s,
		       "run systemctl restart containerd (when systemctl is "
		       "present)");
}

/*
 * vip: keepalived and haproxy, installed as files by pki, start before
 * kubeadm; the first control plane waits for the VIP before init.
 */
static void
plan_vip(struct builder *b, const struct fb_payload *p)
{
	struct fb_step *s = add_step(b, FB_STEP_VIP);

	detail(b, s, "write %s: the interface holding %s",
	       p->vip.interface_file, p->node.ip);
	detail(b, s,
	       "run systemctl enable haproxy keepalived; systemctl restart "
	       "haproxy; systemctl restart keepalived (when systemctl is "
	       "present)");
	if (p->kubeadm.action == FB_ACTION_INIT)
		detail(b, s,
		       "wait up to %us for the VIP %s:%u to take "
		       "connections",
		       FB_VIP_WAIT, p->vip.address, p->vip.port);
}

static void
plan_ready(struct builder *b, const struct fb_payload *p)
{
	struct fb_step *s = add_step(b, FB_STEP_READY);

	detail(b, s, "wait up to %us for node %s to be Ready", p->ready_timeout,
	       p->node.name);
	if (!p->cluster.cni_configured)
		detail(b, s,
		       "no CNI configured: the node stays NotReady until a "
		       "network add-on is applied");
}

static void
plan_kube(struct builder *b, const struct fb_payload *p)
{
	struct fb_step *s;
	size_t i;
	const char *admin = FB_ADMIN_CONF;

	if (p->nfiles > 0) {
		s = add_step(b, FB_STEP_PKI);
		for (i = 0; i < p->nfiles; i++)
			detail(b, s, "install %s (mode %04o)", p->files[i].path,
			       (unsigned)p->files[i].mode);
	}
	if (p->has_vip)
		plan_vip(b, p);
	s = add_step(b, FB_STEP_KUBELET);
	if (p->kubeadm.action == FB_ACTION_ETCD) {
		detail(b, s, "write " FB_ETCD_KUBELET " and " FB_ETCD_DROPIN);
		detail(b, s, "  (a standalone kubelet runs etcd's static pod)");
		detail(b, s,
		       "run systemctl daemon-reload; systemctl restart "
		       "kubelet (when systemctl is present)");
	}
	detail(b, s,
	       "run systemctl enable kubelet (when systemctl is "
	       "present)");
	if (p->kubeadm.has_wait) {
		s = add_step(b, FB_STEP_WAIT_API);
		detail(b, s, "wait up to %us for %s to answer 200",
		       p->kubeadm.wait_timeout, p->kubeadm.wait_url);
	}
	s = add_step(b, FB_STEP_KUBEADM);
	for (i = 0; i < p->kubeadm.netcd; i++)
		detail(b, s, "wait up to %us for external etcd %s/health",
		       FB_DEFAULT_WAIT, p->kubeadm.etcd_endpoints[i]);
	detail(b, s, "write " FB_KUBEADM_FILE " (0600)");
	switch (p->kubeadm.action) {
	case FB_ACTION_INIT:
		detail(b, s, "run kubeadm init --config %s" FB_KUBEADM_FILE,
		       b->root);
		break;
	case FB_ACTION_JOIN:
	case FB_ACTION_JOIN_CONTROL_PLANE:
		detail(b, s, "run kubeadm join --config %s" FB_KUBEADM_FILE,
		       b->root);
		break;
	case FB_ACTION_ETCD:
		detail(b, s,
		       "run kubeadm init phase etcd local --config "
		       "%s" FB_KUBEADM_FILE,
		       b->root);
		break;
	}
	if (p->kubeadm.action == FB_ACTION_INIT) {
		s = add_step(b, FB_STEP_KUBECONFIG);
		detail(b, s,
		       "copy " FB_ADMIN_CONF " to " FB_ROOT_KUBECONFIG
		       " (0600)");
		if (p->has_cni && p->cni.manifest != NULL) {
			s = add_step(b, FB_STEP_CNI);
			detail(b, s, "download %s (%s)", p->cni.manifest,
			       p->cni.name);
			detail(b, s, "check sha256 %s", p->cni.sha256);
			if (p->cluster.pod_subnet != NULL)
				detail(b, s, "pod subnet %s",
				       p->cluster.pod_subnet);
			detail(b, s,
			       "run kubectl --kubeconfig %s%s apply -f "
			       "%s" FB_CNI_FILE,
			       b->root, admin, b->root);
		}
	}
	if (p->kubeadm.action != FB_ACTION_ETCD)
		plan_ready(b, p);
}

int
fb_plan_build(const struct fb_payload *p, const char *root, bool fetched,
	      struct fb_plan **ret)
{
	struct builder b = { 0 };
	struct fb_step *s;

	b.plan = calloc(1, sizeof(*b.plan));
	if (b.plan == NULL)
		return -ENOMEM;
	b.root = (root == NULL || strcmp(root, "/") == 0) ? "" : root;
	if (fetched) {
		s = add_step(&b, FB_STEP_FETCH);
		detail(&b, s, "payload kept in " FB_PAYLOAD_CACHE " (0600)");
	}
	plan_hosts(&b, p);
	plan_kernel(&b, p);
	plan_firewall(&b, p);
	plan_runtime(&b, p);
	plan_kube(&b, p);
	s = add_step(&b, FB_STEP_DONE);
	detail(&b, s, "report done; mark " FB_DONE_FILE);
	if (b.r < 0) {
		fb_plan_free(b.plan);
		return b.r;
	}
	*ret = b.plan;
	return 0;
}

const struct fb_step *
fb_plan_find(const struct fb_plan *plan, enum fb_step_kind kind)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		if (plan->steps[i].kind == kind)
			return &plan->steps[i];
	return NULL;
}

void
fb_plan_print(const struct fb_plan *plan, FILE *f)
{
	size_t i, j;

	for (i = 0; i < plan->n; i++) {
		const struct fb_step *s = &plan->steps[i];

		fprintf(f, "%2zu. %s\n", i + 1, s->name);
		for (j = 0; j < s->ndetails; j++)
			fprintf(f, "      %s\n", s->details[j]);
	}
}

struct fb_plan *
fb_plan_free(struct fb_plan *plan)
{
	size_t i, j;

	if (plan == NULL)
		return NULL;
	for (i = 0; i < plan->n; i++) {
		for (j = 0; j < plan->steps[i].ndetails; j++)
			free(plan->steps[i].details[j]);
		free(plan->steps[i].details);
	}
	free(plan->steps);
	free(plan);
	return NULL;
}
