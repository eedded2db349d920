/*
 * test_firstboot_plan.c - the pure planner: for each role and kubeadm
 * action, from hand-written payloads, the exact ordered list of steps and
 * the commands they will run; and for every example inventory, a payload
 * per node built the way metalboot-build lays it out (docs/formats.md),
 * planned and checked against the cross-node ordering rules (one init, the
 * first control plane; joiners wait for the API; etcd nodes run the etcd
 * phase and no readiness check).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "inventory.h"
#include "payload.h"
#include "plan.h"

#define PEM "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"

static const char common_head[] =
	"version: 1\n"
	"cluster:\n"
	"  name: lab\n"
	"  kubernetes_version: v1.30.2\n"
	"  endpoint: 192.168.100.11:6443\n"
	"  pod_subnet: 10.244.0.0/16\n"
	"  service_subnet: 10.96.0.0/12\n"
	"server: { url: \"https://192.168.100.1:443\", ca: \"" PEM "\" }\n"
	"hosts:\n"
	"  - { ip: 192.168.100.11, names: [cp1] }\n"
	"  - { ip: 192.168.100.21, names: [w1] }\n"
	"kernel_modules: [br_netfilter, overlay]\n"
	"sysctls: { net.ipv4.ip_forward: \"1\" }\n"
	"swap_off: true\n"
	"selinux: permissive\n"
	"firewall:\n"
	"  - { port: \"6443\", proto: tcp }\n"
	"  - { port: \"30000-32767\", proto: tcp }\n"
	"container_runtime:\n"
	"  kind: containerd\n"
	"  cgroup_driver: systemd\n"
	"  log_max_size: 100m\n"
	"  log_max_files: 5\n"
	"  storage_driver: overlay2\n"
	"  registry_mirrors: []\n"
	"files:\n"
	"  - { path: /etc/kubernetes/pki/ca.crt, mode: \"0644\", content: "
	"\"x\" }\n"
	"ready_timeout: 600\n";

static struct fb_payload *
parse_or_fail(const char *yaml)
{
	struct fb_payload *p = NULL;
	struct fb_perror err;
	int r;

	r = fb_payload_parse("t.yaml", yaml, strlen(yaml), &p, &err);
	if (r != 0)
		fail_msg("parse: %d at %u:%u: %s", r, err.line, err.col,
			 err.msg);
	return p;
}

static char *
payload_text(const char *node, const char *tail)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(
		buf_printf(&b, "%snode: %s\n%s", common_head, node, tail), 0);
	return buf_take(&b, NULL);
}

/* The plan's step names joined by spaces. */
static char *
step_list(const struct fb_plan *plan)
{
	struct buf b;
	size_t i;

	buf_init(&b, 4096);
	for (i = 0; i < plan->n; i++)
		assert_int_equal(buf_printf(&b, "%s%s", i ? " " : "",
					    plan->steps[i].name),
				 0);
	return buf_take(&b, NULL);
}

/* True when some detail line of step kind contains needle. */
static bool
has_detail(const struct fb_plan *plan, enum fb_step_kind kind,
	   const char *needle)
{
	const struct fb_step *s = fb_plan_find(plan, kind);
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < s->ndetails; i++)
		if (strstr(s->details[i], needle) != NULL)
			return true;
	return false;
}

static void
check_plan(const char *node, const char *tail, bool fetched, const char *root,
	   const char *want, struct fb_plan **ret_plan,
	   struct fb_payload **ret_p)
{
	char *text = payload_text(node, tail);
	struct fb_payload *p = parse_or_fail(text);
	struct fb_plan *plan = NULL;
	char *got;

	assert_int_equal(fb_plan_build(p, root, fetched, &plan), 0);
	got = step_list(plan);
	assert_string_equal(got, want);
	free(got);
	free(text);
	*ret_plan = plan;
	*ret_p = p;
}

static void
test_first_control_plane(void **state)
{
	struct fb_plan *plan;
	struct fb_payload *p;

	(void)state;
	check_plan("{ name: cp1, role: control-plane, mac: "
		   "\"52:54:00:00:01:01\", ip: 192.168.100.11 }",
		   "kubeadm: { action: init, config: \"kind: "
		   "InitConfiguration\\n\" }\n"
		   "cni: { name: flannel, manifest: "
		   "\"http://192.168.100.1/files/manifests/flannel.yaml\", "
		   "sha256: \"" /* 64 hex */
		   "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
		   "0123456789\" }\n",
		   true, "/srv/root",
		   "fetch hostname hosts modules sysctls swap selinux "
		   "firewall runtime pki kubelet kubeadm kubeconfig cni "
		   "ready done",
		   &plan, &p);
	assert_true(has_detail(plan, FB_STEP_KUBEADM,
			       "run kubeadm init --config "
			       "/srv/root/var/lib/metalboot/kubeadm.yaml"));
	assert_true(has_detail(plan, FB_STEP_CNI, "check sha256 abcdef0123"));
	assert_true(has_detail(plan, FB_STEP_CNI, "pod subnet 10.244.0.0/16"));
	assert_true(has_detail(plan, FB_STEP_MODULES, "modprobe br_netfilter"));
	assert_true(has_detail(plan, FB_STEP_FIREWALL, "open 30000-32767/tcp"));
	assert_true(has_detail(plan, FB_STEP_FIREWALL, "FORWARD ACCEPT"));
	assert_true(has_detail(plan, FB_STEP_RUNTIME, "SystemdCgroup = true"));
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "sandbox image: containerd's default"));
	assert_false(has_detail(plan, FB_STEP_RUNTIME, "hosts.toml"));
	assert_true(
		has_detail(plan, FB_STEP_FIREWALL,
			   "write /etc/metalboot/firewall.sh (0755) and "
			   "/etc/systemd/system/metalboot-firewall.service"));
	assert_true(has_detail(plan, FB_STEP_FIREWALL,
			       "run systemctl enable "
			       "metalboot-firewall.service"));
	assert_true(has_detail(plan, FB_STEP_SWAP,
			       "run systemctl mask zramswap.service"));
	assert_true(has_detail(plan, FB_STEP_SWAP,
			       "write /etc/systemd/zram-generator.conf"));
	assert_false(has_detail(plan, FB_STEP_READY, "no CNI"));
	assert_true(p->cluster.cni_configured);
	assert_true(has_detail(plan, FB_STEP_PKI,
			       "/etc/kubernetes/pki/ca.crt (mode 0644)"));
	assert_true(p->has_server);
	assert_string_equal(p->node.mac_str, "52:54:00:00:01:01");
	fb_plan_free(plan);
	fb_payload_free(p);
}

static void
test_init_without_manifest(void **state)
{
	struct fb_plan *plan;
	struct fb_payload *p;

	(void)state;
	check_plan("{ name: cp1, role: control-plane, mac: "
		   "\"52:54:00:00:01:01\", ip: 192.168.100.11 }",
		   "kubeadm: { action: init, config: \"x\" }\n"
		   "cni: { name: flannel, manifest: null }\n",
		   false, "/",
		   "hostname hosts modules sysctls swap selinux firewall "
		   "runtime pki kubelet kubeadm kubeconfig ready done",
		   &plan, &p);
	assert_true(has_detail(plan, FB_STEP_KUBEADM,
			       "run kubeadm init --config "
			       "/var/lib/metalboot/kubeadm.yaml"));
	fb_plan_free(plan);
	fb_payload_free(p);
}

/* A first control plane with an external etcd waits for it first. */
static void
test_init_external_etcd(void **state)
{
	struct fb_plan *plan;
	struct fb_payload *p;

	(void)state;
	check_plan("{ name: cp1, role: control-plane, mac: "
		   "\"52:54:00:00:01:01\", ip: 192.168.100.11 }",
		   "kubeadm:\n  action: init\n  config: |\n"
		   "    apiVersion: kubeadm.k8s.io/v1beta3\n"
		   "    kind: InitConfiguration\n"
		   "    ---\n"
		   "    apiVersion: kubeadm.k8s.io/v1beta3\n"
		   "    kind: ClusterConfiguration\n"
		   "    etcd:\n"
		   "      external:\n"
		   "        endpoints: [\"https://10.0.0.31:2379\", "
		   "\"https://10.0.0.32:2379\"]\n"
		   "        caFile: /etc/kubernetes/pki/etcd/ca.crt\n"
		   "        certFile: "
		   "/etc/kubernetes/pki/apiserver-etcd-client.crt\n"
		   "        keyFile: "
		   "/etc/kubernetes/pki/apiserver-etcd-client.key\n"
		   "    ---\n"
		   "    kind: KubeletConfiguration\n",
		   false, "/",
		   "hostname hosts modules sysctls swap selinux firewall "
		   "runtime pki kubelet kubeadm kubeconfig ready done",
		   &plan, &p);
	assert_int_equal(p->kubeadm.netcd, 2);
	assert_string_equal(p->kubeadm.etcd_cert,
			    "/etc/kubernetes/pki/apiserver-etcd-client.crt");
	assert_true(has_detail(plan, FB_STEP_KUBEADM,
			       "external etcd https://10.0.0.32:2379/health"));
	fb_plan_free(plan);
	fb_payload_free(p);
}

/*
 * The sandbox image and cluster.cni_configured: false show in the plan;
 * an image that is not an image reference is refused.
 */
static void
test_sandbox_and_no_cni(void **state)
{
	static const char yaml[] =
		"version: 1\n"
		"node: { name: w9, role: worker, mac: \"52:54:00:00:02:09\", "
		"ip: 10.0.0.9 }\n"
		"cluster: { name: c, cni_configured: false }\n"
		"container_runtime: { kind: containerd, sandbox_image: "
		"\"mirror.example:5000/pause:3.9\" }\n"
		"kubeadm: { action: join, config: x }\n";
	static const char *const bad[] = { "\"\"", "\"a b\"", "\"a\\\"b\"",
					   "\"-x/pause:1\"",
					   "\"x/pause:1\\n\"" };
	struct fb_payload *p = parse_or_fail(yaml), *q = NULL;
	struct fb_plan *plan = NULL;
	struct fb_perror err;
	char text[512];
	size_t i;

	(void)state;
	assert_false(p->cluster.cni_configured);
	assert_string_equal(p->runtime.sandbox_image,
			    "mirror.example:5000/pause:3.9");
	assert_int_equal(fb_plan_build(p, "/", false, &plan), 0);
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "sandbox image mirror.example:5000/pause:3.9"));
	assert_true(has_detail(plan, FB_STEP_READY,
			       "no CNI configured: the node stays NotReady"));
	fb_plan_free(plan);
	fb_payload_free(p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "version: 1\n"
			 "node: { name: w9, role: worker, mac: "
			 "\"52:54:00:00:02:09\", ip: 10.0.0.9 }\n"
			 "cluster: { name: c }\n"
			 "container_runtime: { kind: containerd, "
			 "sandbox_image: %s }\n"
			 "kubeadm: { action: join, config: x }\n",
			 bad[i]);
		assert_int_equal(fb_payload_parse("t.yaml", text, strlen(text),
						  &q, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "sandbox_image"));
	}
}

static const char wait_for[] = "  wait_for:\n"
			       "    url: https://192.168.100.11:6443/readyz\n"
			       "    ca: \"" PEM "\"\n"
			       "    timeout: 1800\n";

static void
test_worker(void **state)
{
	struct fb_plan *plan;
	struct fb_payload *p;
	char tail[1024];

	(void)state;
	snprintf(tail, sizeof(tail),
		 "kubeadm:\n  action: join\n  config: \"kind: "
		 "JoinConfiguration\\n\"\n%s",
		 wait_for);
	check_plan("{ name: w1, role: worker, mac: \"52:54:00:00:02:01\", "
		   "ip: 192.168.100.21 }",
		   tail, true, "/",
		   "fetch hostname hosts modules sysctls swap selinux "
		   "firewall runtime pki kubelet wait-api kubeadm ready done",
		   &plan, &p);
	assert_true(has_detail(plan, FB_STEP_KUBEADM, "kubeadm join --config"));
	assert_true(has_detail(plan, FB_STEP_WAIT_API,
			       "https://192.168.100.11:6443/readyz"));
	assert_int_equal(p->kubeadm.wait_timeout, 1800);
	fb_plan_free(plan);
	fb_payload_free(p);
}

static void
test_join_control_plane(void **state)
{
	struct fb_plan *plan;
	struct fb_payload *p;
	char tail[1024];

	(void)state;
	snprintf(tail, sizeof(tail),
		 "kubeadm:\n  action: join-control-plane\n  config: x\n%s",
		 wait_for);
	check_plan("{ name: cp2, role: control-plane, mac: "
		   "\"52:54:00:00:01:02\", ip: 192.168.100.12 }",
		   tail, false, "/",
		   "hostname hosts modules sysctls swap selinux firewall "
		   "runtime pki kubelet wait-api kubeadm ready done",
		   &plan, &p);
	assert_true(has_detail(plan, FB_STEP_KUBEADM, "kubeadm join --config"));
	fb_plan_free(plan);
	fb_payload_free(p);
}

static void
test_etcd(void **state)
{
	struct fb_plan *plan;
	struct fb_payload *p;

	(void)state;
	check_plan("{ name: etcd1, role: etcd, mac: \"52:54:00:00:03:01\", "
		   "ip: 192.168.100.31 }",
		   "kubeadm: { action: etcd, config: x }\n", false, "/",
		   "hostname hosts modules sysctls swap selinux firewall "
		   "runtime pki kubelet kubeadm done",
		   &plan, &p);
	assert_true(has_detail(plan, FB_STEP_KUBEADM,
			       "kubeadm init phase etcd local --config "
			       "/var/lib/metalboot/kubeadm.yaml"));
	assert_true(has_detail(plan, FB_STEP_KUBELET,
			       "20-etcd-service-manager.conf"));
	fb_plan_free(plan);
	fb_payload_free(p);
}

static void
test_minimal_docker(void **state)
{
	static const char yaml[] =
		"version: 1\n"
		"node: { name: w9, role: worker, mac: \"AA-BB-CC-DD-EE-FF\", "
		"ip: 10.0.0.9 }\n"
		"cluster: { name: c }\n"
		"selinux: keep\n"
		"container_runtime: { kind: docker, registry_mirrors: "
		"[\"https://mirror.example\"] }\n"
		"kubeadm: { action: join, config: x }\n";
	struct fb_payload *p = parse_or_fail(yaml);
	struct fb_plan *plan = NULL;
	char *got;

	(void)state;
	assert_int_equal(fb_plan_build(p, "/", false, &plan), 0);
	got = step_list(plan);
	/* No modules, sysctls, swap, SELinux or files: those steps go. */
	assert_string_equal(got, "hostname hosts firewall runtime kubelet "
				 "kubeadm ready done");
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "native.cgroupdriver=systemd"));
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "max-size 100m max-file 5, overlay2"));
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "registry mirror https://mirror.example"));
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "write /etc/containerd/certs.d/docker.io/"
			       "hosts.toml"));
	/* kubelet talks to containerd's CRI: containerd is set up too. */
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "write /etc/containerd/config.toml "
			       "(SystemdCgroup = true; config_path "
			       "/etc/containerd/certs.d)"));
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "run containerd --version: config version 2 "
			       "for 1.x, 3 for 2.x"));
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "kubelet's CRI endpoint: "
			       "unix:///var/run/containerd/containerd.sock"));
	assert_true(has_detail(plan, FB_STEP_RUNTIME,
			       "systemctl restart containerd, then docker"));
	assert_string_equal(p->runtime.cri_socket,
			    "unix:///var/run/containerd/containerd.sock");
	assert_string_equal(p->node.mac_str, "aa:bb:cc:dd:ee:ff");
	assert_int_equal(p->ready_timeout, FB_DEFAULT_READY);
	assert_false(p->has_server);
	free(got);
	fb_plan_free(plan);
	fb_payload_free(p);
}

/* The plan never shows a secret: file contents and kubeadm config. */
static void
test_no_secrets_printed(void **state)
{
	char *text = payload_text(
		"{ name: cp1, role: control-plane, mac: \"52:54:00:00:01:01\", "
		"ip: 192.168.100.11 }",
		"kubeadm: { action: init, config: \"token: SECRET-TOKEN\" }\n");
	struct fb_payload *p;
	struct fb_plan *plan = NULL;
	char out[16384];
	FILE *f;
	size_t n;

	(void)state;
	p = parse_or_fail(text);
	assert_int_equal(fb_plan_build(p, "/", false, &plan), 0);
	f = fmemopen(out, sizeof(out) - 1, "w");
	assert_non_null(f);
	fb_plan_print(plan, f);
	n = (size_t)ftell(f);
	fclose(f);
	out[n] = '\0';
	assert_non_null(strstr(out, "kubeadm"));
	assert_null(strstr(out, "SECRET-TOKEN"));
	assert_null(strstr(out, "content"));
	fb_plan_free(plan);
	fb_payload_free(p);
	free(text);
}

/*
 * A payload for node n of an inventory, laid out as metalboot-build
 * writes it (docs/formats.md), so that the planner sees what it will see
 * in the field.
 */
static char *
payload_for(const struct inventory *inv, size_t n)
{
	const struct inv_node *node = &inv->nodes[n];
	const struct role_profile *rp = &inv->roles[node->role];
	const struct inv_node *first = inventory_first(inv, ROLE_CONTROL_PLANE);
	char mac[MAC_STR_LEN], ip[IPV4_STR_LEN];
	const char *action;
	struct buf b;
	size_t i;

	if (node->role == ROLE_ETCD)
		action = "etcd";
	else if (node->role == ROLE_WORKER)
		action = "join";
	else if (node == first)
		action = "init";
	else
		action = "join-control-plane";
	buf_init(&b, 1 << 20);
	mac_format(node->mac, mac);
	ipv4_format(node->ip, ip);
	buf_printf(&b,
		   "version: 1\nnode: { name: %s, role: %s, mac: \"%s\", "
		   "ip: %s }\n",
		   node->name, role_name(node->role), mac, ip);
	buf_printf(&b,
		   "cluster: { name: %s, kubernetes_version: %s, endpoint: "
		   "\"%s:%u\" }\n",
		   inv->cluster.name, inv->cluster.kubernetes_version,
		   inv->cluster.endpoint_host ? inv->cluster.endpoint_host
					      : "10.0.0.1",
		   inv->cluster.endpoint_port ? inv->cluster.endpoint_port
					      : 6443);
	buf_puts(&b, "hosts:\n");
	for (i = 0; i < inv->nnodes; i++) {
		ipv4_format(inv->nodes[i].ip, ip);
		buf_printf(&b, "  - { ip: %s, names: [%s] }\n", ip,
			   inv->nodes[i].name);
	}
	buf_puts(&b, "kernel_modules: [");
	for (i = 0; i < rp->modules.n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", rp->modules.v[i]);
	buf_puts(&b, "]\nsysctls:\n");
	for (i = 0; i < rp->nsysctls; i++)
		buf_printf(&b, "  %s: \"%s\"\n", rp->sysctls[i].key,
			   rp->sysctls[i].value);
	buf_printf(&b, "swap_off: %s\nselinux: %s\nfirewall:\n",
		   rp->swap_off ? "true" : "false",
		   rp->selinux == SELINUX_KEEP	     ? "keep"
		   : rp->selinux == SELINUX_DISABLED ? "disabled"
						     : "permissive");
	for (i = 0; i < rp->nports; i++) {
		if (rp->ports[i].first == rp->ports[i].last)
			buf_printf(&b, "  - { port: \"%u\", proto: %s }\n",
				   rp->ports[i].first,
				   rp->ports[i].udp ? "udp" : "tcp");
		else
			buf_printf(&b, "  - { port: \"%u-%u\", proto: %s }\n",
				   rp->ports[i].first, rp->ports[i].last,
				   rp->ports[i].udp ? "udp" : "tcp");
	}
	buf_printf(&b,
		   "container_runtime: { kind: %s, cgroup_driver: %s, "
		   "log_max_size: %s, log_max_files: %u, storage_driver: %s "
		   "}\n",
		   inv->cluster.runtime == RUNTIME_DOCKER ? "docker"
							  : "containerd",
		   rp->runtime.cgroup_driver, rp->runtime.log_max_size,
		   rp->runtime.log_max_files, rp->runtime.storage_driver);
	buf_printf(&b, "files:\n  - { path: /etc/kubernetes/pki/ca.crt, "
		       "mode: \"0644\", content: \"x\" }\n");
	if (inv->cluster.vip.set && node->role == ROLE_CONTROL_PLANE) {
		ipv4_format(inv->cluster.vip.address, ip);
		buf_printf(&b,
			   "control_plane_vip: { address: %s, port: %u, "
			   "interface_file: "
			   "/etc/keepalived/metalboot-interface.conf }\n",
			   ip, (unsigned)inv->cluster.vip.port);
	}
	buf_printf(&b, "kubeadm:\n  action: %s\n  config: \"x\"\n", action);
	if (strncmp(action, "join", 4) == 0)
		buf_printf(&b, "%s", wait_for);
	if (node == first)
		buf_printf(&b,
			   "cni: { name: %s, manifest: "
			   "\"http://192.168.100.1/files/manifests/"
			   "cni.yaml\", sha256: \"%064d\" }\n",
			   inv->cluster.cni_name, 0);
	return buf_take(&b, NULL);
}

static void
check_inventory(const char *name)
{
	char path[512];
	struct inventory *inv = NULL;
	struct diags d;
	size_t i, inits = 0;

	snprintf(path, sizeof(path), "%s/profiles/examples/%s", MB_SOURCE_DIR,
		 name);
	diags_init(&d);
	if (inventory_load(path, NULL, &inv, &d) != 0) {
		diags_print(&d, stderr);
		fail_msg("%s does not load", path);
	}
	for (i = 0; i < inv->nnodes; i++) {
		const struct inv_node *node = &inv->nodes[i];
		char *text = payload_for(inv, i);
		struct fb_payload *p = parse_or_fail(text);
		struct fb_plan *plan = NULL;
		bool joiner;

		assert_int_equal(fb_plan_build(p, "/", true, &plan), 0);
		assert_int_equal(plan->steps[0].kind, FB_STEP_FETCH);
		assert_int_equal(plan->steps[plan->n - 1].kind, FB_STEP_DONE);
		assert_non_null(fb_plan_find(plan, FB_STEP_KUBEADM));
		assert_non_null(fb_plan_find(plan, FB_STEP_RUNTIME));
		joiner = p->kubeadm.action == FB_ACTION_JOIN ||
			 p->kubeadm.action == FB_ACTION_JOIN_CONTROL_PLANE;
		/* Joiners wait for the API; nobody else does. */
		assert_int_equal(fb_plan_find(plan, FB_STEP_WAIT_API) != NULL,
				 joiner);
		if (joiner)
			assert_true(fb_plan_find(plan, FB_STEP_WAIT_API) <
				    fb_plan_find(plan, FB_STEP_KUBEADM));
		if (p->kubeadm.action == FB_ACTION_INIT) {
			inits++;
			assert_ptr_equal(
				node, inventory_first(inv, ROLE_CONTROL_PLANE));
			assert_non_null(fb_plan_find(plan, FB_STEP_KUBECONFIG));
			assert_non_null(fb_plan_find(plan, FB_STEP_CNI));
		} else {
			assert_null(fb_plan_find(plan, FB_STEP_KUBECONFIG));
			assert_null(fb_plan_find(plan, FB_STEP_CNI));
		}
		/*
		 * With a VIP, each control plane starts keepalived and haproxy
		 * after their files are installed and before it waits for the
		 * API (through the VIP) or runs kubeadm; init waits for the
		 * VIP.
		 */
		if (inv->cluster.vip.set && node->role == ROLE_CONTROL_PLANE) {
			const struct fb_step *v =
				fb_plan_find(plan, FB_STEP_VIP);

			assert_non_null(v);
			assert_true(fb_plan_find(plan, FB_STEP_PKI) < v);
			assert_true(v < fb_plan_find(plan, FB_STEP_KUBEADM));
			if (joiner)
				assert_true(v < fb_plan_find(plan,
							     FB_STEP_WAIT_API));
			assert_true(has_detail(plan, FB_STEP_VIP,
					       "systemctl restart keepalived"));
			assert_int_equal(
				has_detail(plan, FB_STEP_VIP,
					   "for the VIP 192.168.100.10:8443"),
				p->kubeadm.action == FB_ACTION_INIT);
		} else {
			assert_null(fb_plan_find(plan, FB_STEP_VIP));
		}
		/* etcd nodes are not Kubernetes nodes: no readiness. */
		assert_int_equal(fb_plan_find(plan, FB_STEP_READY) == NULL,
				 node->role == ROLE_ETCD);
		if (node->role == ROLE_ETCD)
			assert_true(has_detail(plan, FB_STEP_KUBEADM,
					       "init phase etcd local"));
		/* Every role profile loads br_netfilter and sets sysctls. */
		assert_true(has_detail(plan, FB_STEP_MODULES,
				       "modprobe br_netfilter"));
		assert_true(has_detail(plan, FB_STEP_SYSCTLS,
				       "net.ipv4.ip_forward = 1"));
		assert_non_null(fb_plan_find(plan, FB_STEP_SWAP));
		fb_plan_free(plan);
		fb_payload_free(p);
		free(text);
	}
	assert_int_equal(inits, 1);
	inventory_free(inv);
	diags_done(&d);
}

static void
test_inventory_single(void **state)
{
	(void)state;
	check_inventory("single.yaml");
}

static void
test_inventory_lab(void **state)
{
	(void)state;
	check_inventory("lab.yaml");
}

static void
test_inventory_ha_stacked(void **state)
{
	(void)state;
	check_inventory("ha-stacked.yaml");
}

static void
test_inventory_ha_external(void **state)
{
	(void)state;
	check_inventory("ha-external-etcd.yaml");
}

static void
test_inventory_ha_vip(void **state)
{
	(void)state;
	check_inventory("ha-vip.yaml");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_control_plane),
		cmocka_unit_test(test_init_without_manifest),
		cmocka_unit_test(test_worker),
		cmocka_unit_test(test_join_control_plane),
		cmocka_unit_test(test_etcd),
		cmocka_unit_test(test_init_external_etcd),
		cmocka_unit_test(test_minimal_docker),
		cmocka_unit_test(test_sandbox_and_no_cni),
		cmocka_unit_test(test_no_secrets_printed),
		cmocka_unit_test(test_inventory_single),
		cmocka_unit_test(test_inventory_lab),
		cmocka_unit_test(test_inventory_ha_stacked),
		cmocka_unit_test(test_inventory_ha_external),
		cmocka_unit_test(test_inventory_ha_vip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
