/*
 * test_common_inventory.c - loading, defaults and every validation rule,
 * each with a good and a bad inventory, checked down to FILE:LINE:COL.
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

#include "inventory.h"
#include "inventory_expect.h"

static void
test_examples(void **state)
{
	static const char *names[] = { "single", "lab", "ha-stacked",
				       "ha-external-etcd", "ha-vip" };
	static const size_t nodes[] = { 1, 3, 5, 8, 5 };
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		char path[512];
		struct inventory *inv = NULL;
		struct diags d;

		snprintf(path, sizeof(path), "%s/examples/%s.yaml", PROFILES,
			 names[i]);
		diags_init(&d);
		assert_int_equal(inventory_load(path, PROFILES, &inv, &d), 0);
		assert_int_equal(d.errors, 0);
		assert_int_equal(inv->nnodes, nodes[i]);
		inventory_free(inv);
		diags_done(&d);
	}
}

static void
test_defaults(void **state)
{
	struct inventory *inv;
	struct diags d;
	const struct role_profile *cp;
	char ip[IPV4_STR_LEN];

	(void)state;
	inv = load_ok(HEAD NET "nodes:\n" CP1, &d);
	assert_string_equal(inv->cluster.dns_domain, "cluster.local");
	assert_string_equal(inv->cluster.image_repository, "registry.k8s.io");
	assert_int_equal(inv->cluster.runtime, RUNTIME_CONTAINERD);
	assert_int_equal(inv->cluster.etcd, ETCD_STACKED);
	assert_int_equal(inv->cluster.token_ttl, 86400);
	assert_int_equal(inv->cluster.kv_minor, 30);
	/* The endpoint defaults to the first control plane. */
	assert_string_equal(inv->cluster.endpoint_host, "10.0.0.11");
	assert_int_equal(inv->cluster.endpoint_port, 6443);
	ipv4_format(inv->cluster.pod_subnet.addr, ip);
	assert_string_equal(ip, "10.244.0.0");
	assert_int_equal(inv->network.dhcp, DHCP_FULL);
	assert_false(inv->nodes[0].taints_set);
	/* Role profile from profiles/roles/control-plane.yaml. */
	cp = &inv->roles[ROLE_CONTROL_PLANE];
	assert_int_equal(cp->modules.n, 2);
	assert_string_equal(cp->modules.v[0], "br_netfilter");
	assert_int_equal(cp->nsysctls, 3);
	assert_true(cp->swap_off);
	assert_int_equal(cp->selinux, SELINUX_PERMISSIVE);
	assert_string_equal(cp->runtime.cgroup_driver, "systemd");
	assert_true(cp->nports >= 5);
	assert_int_equal(cp->ports[0].first, 6443);
	inventory_free(inv);
	diags_done(&d);
}

static void
test_overrides_and_taints(void **state)
{
	struct inventory *inv;
	struct diags d;

	(void)state;
	inv = load_ok(HEAD
		      "  container_runtime: docker\n"
		      "  registry_mirrors: [\"https://mirror.example\"]\n" NET
		      "nodes:\n"
		      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
		      "10.0.0.11, role: control-plane, taints: []}\n"
		      "roles:\n"
		      "  worker:\n"
		      "    kernel_modules: [overlay]\n"
		      "    swap_off: false\n",
		      &d);
	assert_int_equal(inv->cluster.runtime, RUNTIME_DOCKER);
	assert_int_equal(inv->cluster.registry_mirrors.n, 1);
	assert_true(inv->nodes[0].taints_set);
	assert_int_equal(inv->nodes[0].taints.n, 0);
	assert_int_equal(inv->roles[ROLE_WORKER].modules.n, 1);
	assert_false(inv->roles[ROLE_WORKER].swap_off);
	/* Keys not overridden keep the profile's value. */
	assert_int_equal(inv->roles[ROLE_WORKER].nsysctls, 3);
	assert_true(inv->roles[ROLE_CONTROL_PLANE].swap_off);
	inventory_free(inv);
	diags_done(&d);
}

/* secure_boot: off by default, boot.secure_boot for all, a node's own. */
static void
test_secure_boot(void **state)
{
	struct inventory *inv;
	struct diags d;

	(void)state;
	inv = load_ok(HEAD NET "nodes:\n" CP1, &d);
	assert_false(inv->boot.secure_boot);
	assert_false(inv->nodes[0].secure_boot);
	inventory_free(inv);
	diags_done(&d);
	inv = load_ok(HEAD NET "boot: {secure_boot: true}\n"
			       "nodes:\n" CP1
			       "  - {name: w1, mac: \"52:54:00:00:02:01\", ip: "
			       "10.0.0.21, role: worker, secure_boot: false}\n"
			       "  - {name: w2, mac: \"52:54:00:00:02:02\", ip: "
			       "10.0.0.22, role: worker}\n",
		      &d);
	assert_true(inv->nodes[0].secure_boot);
	assert_false(inv->nodes[1].secure_boot);
	assert_true(inv->nodes[2].secure_boot);
	inventory_free(inv);
	diags_done(&d);
	expect_error(HEAD NET "boot: {secure_boot: yes}\nnodes:\n" CP1, 7, 21,
		     "boot.secure_boot must be true or false");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.11, role: control-plane, secure_boot: "
			      "1}\n",
		     8, 92, "node secure_boot must be true or false");
}

static void
test_names(void **state)
{
	(void)state;
	expect_error(HEAD NET "nodes:\n" CP1
			      "  - {name: CP_2, mac: \"52:54:00:00:01:02\", "
			      "ip: 10.0.0.12, role: worker}\n",
		     9, 12, "not an RFC 1123 label");
	expect_error(HEAD NET "nodes:\n" CP1
			      "  - {name: cp1, mac: \"52:54:00:00:01:02\", "
			      "ip: 10.0.0.12, role: worker}\n",
		     9, 5, "node name 'cp1' is also used at line 8");
	expect_error(
		"cluster:\n  name: Lab\n  kubernetes_version: v1.30.2\n" NET
		"nodes:\n" CP1,
		2, 9, "cluster.name");
}

static void
test_macs(void **state)
{
	(void)state;
	expect_error(HEAD NET "nodes:\n" CP1
			      "  - {name: w1, mac: \"52:54:00:00:01:01\", "
			      "ip: 10.0.0.12, role: worker}\n",
		     9, 5, "is also used by 'cp1'");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01\", ip: "
			      "10.0.0.11, role: control-plane}\n",
		     8, 22, "not a MAC address");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"01:00:5e:00:00:01\", ip: "
			      "10.0.0.11, role: control-plane}\n",
		     8, 22, "multicast");
}

static void
test_ips(void **state)
{
	(void)state;
	expect_error(HEAD NET "nodes:\n" CP1
			      "  - {name: w1, mac: \"52:54:00:00:01:02\", "
			      "ip: 10.0.0.11, role: worker}\n",
		     9, 5, "ip 10.0.0.11 of 'w1' is also used by 'cp1'");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.1.11, role: control-plane}\n",
		     8, 5, "outside network.subnet");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.1, role: control-plane}\n",
		     8, 5, "is network.server_ip");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.255, role: control-plane}\n",
		     8, 5, "broadcast");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.300, role: control-plane}\n",
		     8, 47, "not an IPv4 address");
	expect_error(HEAD "network:\n  server_ip: 10.0.1.1\n  subnet: "
			  "10.0.0.0/24\n"
			  "nodes:\n" CP1,
		     5, 14, "server_ip is outside");
}

static void
test_subnet_overlaps(void **state)
{
	(void)state;
	expect_error(HEAD "  pod_subnet: 10.0.0.0/16\n" NET "nodes:\n" CP1, 4,
		     15, "pod_subnet overlaps the host network");
	expect_error(HEAD "  pod_subnet: 10.96.0.0/16\n" NET "nodes:\n" CP1, 4,
		     15, "pod_subnet and service_subnet overlap");
	expect_error(HEAD "  service_subnet: 10.0.0.0/12\n" NET "nodes:\n" CP1,
		     4, 19, "service_subnet overlaps the host network");
	expect_error(HEAD "  pod_subnet: 10.244.1.0/16\n" NET "nodes:\n" CP1, 4,
		     15, "host bits zero");
}

static void
test_pool(void **state)
{
	(void)state;
	expect_error(HEAD NET "  pool: 10.0.0.100-10.0.1.10\n"
			      "nodes:\n" CP1,
		     7, 9, "pool is not inside network.subnet");
	expect_error(HEAD NET "  pool: 10.0.0.10-10.0.0.20\n"
			      "nodes:\n" CP1,
		     7, 9, "reserved for node 'cp1'");
	expect_error(HEAD NET "  pool: 10.0.0.1-10.0.0.5\n"
			      "nodes:\n" CP1,
		     7, 9, "pool includes server_ip");
	expect_error(HEAD NET "  gateway: 10.0.0.254\n"
			      "  pool: 10.0.0.200-10.0.0.254\n"
			      "nodes:\n" CP1,
		     8, 9, "pool includes the gateway");
	expect_error(HEAD NET "  pool: 10.0.0.20-10.0.0.10\n"
			      "nodes:\n" CP1,
		     7, 9, "first <= last");
}

static void
test_roles(void **state)
{
	(void)state;
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.11, role: master}\n",
		     8, 64, "unknown role 'master'");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: w1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.11, role: worker}\n",
		     8, 3, "no node has role control-plane");
	expect_sole_error(HEAD NET "nodes:\n" CP1
				   "  - {name: g1, mac: \"52:54:00:00:01:02\", "
				   "ip: 10.0.0.12, role: gpu-worker}\n",
			  9, 63, "unknown role 'gpu-worker'");
}

static void
test_endpoint(void **state)
{
	(void)state;
	expect_error(HEAD "  control_plane_endpoint: 10.0.0.11\n" NET
			  "nodes:\n" CP1,
		     4, 27, "must be host:port");
	expect_error(HEAD "  control_plane_endpoint: 10.0.0.11:99999\n" NET
			  "nodes:\n" CP1,
		     4, 27, "must be host:port");
	/* HA on one node's own address. */
	expect_error(HEAD "  control_plane_endpoint: 10.0.0.11:6443\n" NET
			  "nodes:\n" CP1
			  "  - {name: cp2, mac: \"52:54:00:00:01:02\", ip: "
			  "10.0.0.12, role: control-plane}\n"
			  "  - {name: cp3, mac: \"52:54:00:00:01:03\", ip: "
			  "10.0.0.13, role: control-plane}\n",
		     4, 27, "own address");
	/* HA with no endpoint at all. */
	expect_error(HEAD NET "nodes:\n" CP1
			      "  - {name: cp2, mac: \"52:54:00:00:01:02\", ip: "
			      "10.0.0.12, role: control-plane}\n",
		     2, 3, "control_plane_endpoint is required");
}

static void
test_endpoint_allowed(void **state)
{
	struct inventory *inv;
	struct diags d;

	(void)state;
	inv = load_ok(HEAD "  control_plane_endpoint: 10.0.0.11:6443\n"
			   "  allow_node_endpoint: true\n" NET "nodes:\n" CP1
			   "  - {name: cp2, mac: \"52:54:00:00:01:02\", ip: "
			   "10.0.0.12, role: control-plane}\n"
			   "  - {name: cp3, mac: \"52:54:00:00:01:03\", ip: "
			   "10.0.0.13, role: control-plane}\n",
		      &d);
	assert_true(inv->cluster.allow_node_endpoint);
	inventory_free(inv);
	diags_done(&d);
}

static void
test_version(void **state)
{
	(void)state;
	expect_error("cluster:\n  name: t\n  kubernetes_version: 1.30.2\n" NET
		     "nodes:\n" CP1,
		     3, 23, "must look like v1.30.2");
	expect_error("cluster:\n  name: t\n  kubernetes_version: v1.30\n" NET
		     "nodes:\n" CP1,
		     3, 23, "must look like v1.30.2");
	expect_error("cluster:\n  name: t\n  kubernetes_version: v1.18.2\n" NET
		     "nodes:\n" CP1,
		     3, 23, "not supported");
	expect_error("cluster:\n  name: t\n" NET "nodes:\n" CP1, 2, 3,
		     "kubernetes_version is required");
}

static void
test_etcd(void **state)
{
	struct inventory *inv;
	struct diags d;
	static const char *e1 = "  - {name: e1, mac: \"52:54:00:00:03:01\", "
				"ip: 10.0.0.31, role: etcd}\n";
	static const char *e2 = "  - {name: e2, mac: \"52:54:00:00:03:02\", "
				"ip: 10.0.0.32, role: etcd}\n";
	char y[2048];

	(void)state;
	expect_error(HEAD "  etcd: external\n" NET "nodes:\n" CP1, 4, 9,
		     "needs nodes with role etcd");
	snprintf(y, sizeof(y), "%s  etcd: external\n%snodes:\n%s%s%s", HEAD,
		 NET, CP1, e1, e2);
	expect_error(y, 4, 9, "use an odd number");
	snprintf(y, sizeof(y), "%s%snodes:\n%s%s", HEAD, NET, CP1, e1);
	expect_error(y, 9, 5, "cluster.etcd is stacked");
	/* One etcd node is allowed, with a warning. */
	snprintf(y, sizeof(y), "%s  etcd: external\n%snodes:\n%s%s", HEAD, NET,
		 CP1, e1);
	inv = load_ok(y, &d);
	/* The others: no CNI manifest; cp1 and e1 have no state disk. */
	assert_int_equal(d.warnings, 4);
	assert_non_null(find_diag(&d, DIAG_WARNING, "no fault tolerance"));
	inventory_free(inv);
	diags_done(&d);
}

/* Without cni.manifest, a warning at cluster.cni (or cluster:). */
/* storage: the keys, the role default, the errors and the warning. */
static void
test_storage(void **state)
{
	const struct diag *w;
	struct inventory *inv;
	struct diags d;

	(void)state;
	inv = load_ok(HEAD NET
		      "roles:\n"
		      "  worker: {storage: {state_device: /dev/sdb}}\n"
		      "nodes:\n"
		      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
		      "10.0.0.11, role: control-plane, memory: 4G,\n"
		      "     storage: {state_device: /dev/vda, wipe: true,"
		      " tmpfs_size: 2G}}\n"
		      "  - {name: w1, mac: \"52:54:00:00:02:01\", ip: "
		      "10.0.0.21, role: worker}\n"
		      "  - {name: w2, mac: \"52:54:00:00:02:02\", ip: "
		      "10.0.0.22, role: worker, storage: {tmpfs_size: "
		      "50%}}\n",
		      &d);
	assert_string_equal(inv->nodes[0].storage.state_device, "/dev/vda");
	assert_true(inv->nodes[0].storage.wipe);
	assert_string_equal(inv->nodes[0].storage.tmpfs_size, "2G");
	assert_int_equal(inv->nodes[0].memory, 4ull << 30);
	/* w1 takes its role's; w2's own replaces it whole. */
	assert_string_equal(inv->nodes[1].storage.state_device, "/dev/sdb");
	assert_null(inv->nodes[2].storage.state_device);
	assert_string_equal(inv->nodes[2].storage.tmpfs_size, "50%");
	assert_null(find_diag(&d, DIAG_WARNING, "no storage.state_device"));
	inventory_free(inv);
	diags_done(&d);
	/* A diskless control plane: warned at its line. */
	inv = load_ok(HEAD NET "nodes:\n" CP1, &d);
	w = find_diag(&d, DIAG_WARNING,
		      "node 'cp1' (control-plane) has no "
		      "storage.state_device");
	assert_non_null(w);
	assert_int_equal(w->line, 8);
	inventory_free(inv);
	diags_done(&d);
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.11, role: control-plane, storage: "
			      "{state_device: sda}}\n",
		     8, 103, "is not a block device path");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.11, role: control-plane, storage: "
			      "{wipe: true}}\n",
		     8, 95, "storage.wipe: true needs a storage.state_device");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.11, role: control-plane, memory: 2G, "
			      "storage: {tmpfs_size: 3G}}\n",
		     8, 113, "is larger than the memory 2G");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.11, role: control-plane, storage: "
			      "{tmpfs_size: 2GB}}\n",
		     8, 101, "neither a size");
}

static void
test_cni_warning(void **state)
{
	static const char sha[] = "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef";
	const struct diag *w;
	struct inventory *inv;
	struct diags d;
	char y[2048];

	(void)state;
	inv = load_ok(HEAD NET "nodes:\n" CP1, &d);
	w = find_diag(&d, DIAG_WARNING, "every node stays NotReady");
	assert_non_null(w);
	assert_int_equal(w->line, 2); /* the cluster mapping */
	inventory_free(inv);
	diags_done(&d);
	inv = load_ok(HEAD "  cni: {name: calico}\n" NET "nodes:\n" CP1, &d);
	w = find_diag(&d, DIAG_WARNING, "cluster.cni.manifest is not set");
	assert_non_null(w);
	assert_int_equal(w->line, 4);
	assert_int_equal(w->col, 8);
	inventory_free(inv);
	diags_done(&d);
	snprintf(
		y, sizeof(y),
		"%s  cni: {name: weave, manifest: "
		"\"https://example.org/weave.yaml\", sha256: %s}\n%snodes:\n%s",
		HEAD, sha, NET, CP1);
	inv = load_ok(y, &d);
	assert_null(find_diag(&d, DIAG_WARNING, "cni"));
	assert_string_equal(inv->cluster.cni_name, "weave");
	inventory_free(inv);
	diags_done(&d);
}

/* os_family: cluster default, node override, and bad values. */
static void
test_os_family(void **state)
{
	static const char *w1 = "  - {name: w1, mac: \"52:54:00:00:02:01\", "
				"ip: 10.0.0.21, role: worker, os_family: "
				"debian}\n";
	struct inventory *inv;
	struct diags d;
	char y[2048];

	(void)state;
	inv = load_ok(HEAD NET "nodes:\n" CP1, &d);
	assert_int_equal(inv->nodes[0].os_family, OS_DEBIAN);
	assert_int_equal(inv->cluster.kv_line, 3);
	assert_int_equal(inv->cluster.kv_col, 23);
	inventory_free(inv);
	diags_done(&d);
	snprintf(y, sizeof(y), "%s  os_family: rhel\n%snodes:\n%s%s", HEAD, NET,
		 CP1, w1);
	inv = load_ok(y, &d);
	assert_int_equal(inv->nodes[0].os_family, OS_RHEL);
	assert_int_equal(inv->nodes[1].os_family, OS_DEBIAN);
	assert_string_equal(os_family_name(inv->nodes[0].os_family), "rhel");
	inventory_free(inv);
	diags_done(&d);
	expect_error(HEAD "  os_family: centos\n" NET "nodes:\n" CP1, 4, 14,
		     "cluster.os_family must be debian");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", "
			      "ip: 10.0.0.11, role: control-plane, os_family: "
			      "suse}\n",
		     8, 90, "node os_family must be debian");
}

/* The sandbox image: the repository's pause at kubeadm's tag. */
static void
test_sandbox_image(void **state)
{
	struct inventory *inv;
	struct diags d;
	char img[128];

	(void)state;
	inv = load_ok(HEAD "  image_repository: registry.example.org/k8s\n" NET
			   "nodes:\n" CP1,
		      &d);
	assert_int_equal(inventory_sandbox_image(inv, img, sizeof(img)), 0);
	assert_string_equal(img, "registry.example.org/k8s/pause:3.9");
	assert_int_equal(inventory_sandbox_image(inv, img, 8), -ENAMETOOLONG);
	inventory_free(inv);
	diags_done(&d);
	assert_string_equal(inventory_pause_tag(24), "3.7");
	assert_string_equal(inventory_pause_tag(25), "3.8");
	assert_string_equal(inventory_pause_tag(30), "3.9");
	assert_string_equal(inventory_pause_tag(31), "3.10");
	assert_string_equal(inventory_pause_tag(33), "3.10");
	assert_string_equal(inventory_pause_tag(34), "3.10.1");
	assert_string_equal(inventory_pause_tag(22), "3.5");
}

/* cluster.cri_socket: optional, unix:// and an absolute path. */
static void
test_cri_socket(void **state)
{
	struct inventory *inv;
	struct diags d;

	(void)state;
	inv = load_ok(HEAD NET "nodes:\n" CP1, &d);
	assert_null(inv->cluster.cri_socket);
	inventory_free(inv);
	diags_done(&d);
	inv = load_ok(HEAD
		      "  container_runtime: docker\n"
		      "  cri_socket: unix:///var/run/cri-dockerd.sock\n" NET
		      "nodes:\n" CP1,
		      &d);
	assert_string_equal(inv->cluster.cri_socket,
			    "unix:///var/run/cri-dockerd.sock");
	inventory_free(inv);
	diags_done(&d);
	expect_error(HEAD "  cri_socket: /var/run/cri-dockerd.sock\n" NET
			  "nodes:\n" CP1,
		     4, 15,
		     "cri_socket '/var/run/cri-dockerd.sock' must be "
		     "unix://");
	expect_error(HEAD "  cri_socket: tcp://10.0.0.1:1234\n" NET
			  "nodes:\n" CP1,
		     4, 15, "must be unix://");
	expect_error(HEAD "  cri_socket: unix://run/x.sock\n" NET
			  "nodes:\n" CP1,
		     4, 15, "an absolute path");
	expect_error(HEAD "  cri_socket: \"unix:///run/a b.sock\"\n" NET
			  "nodes:\n" CP1,
		     4, 15, "must be unix://");
	expect_error(HEAD "  cri_socket: [unix:///run/x.sock]\n" NET
			  "nodes:\n" CP1,
		     4, 15, "must be a scalar");
	expect_error(HEAD "  cri_sockett: unix:///run/x.sock\n" NET
			  "nodes:\n" CP1,
		     4, 3, "did you mean 'cri_socket'");
}

/* Three control planes; the VIP block goes between HEAD and NET3. */
#define VIP                                                                    \
	"  control_plane_vip:\n"                                               \
	"    address: 10.0.0.10\n"
#define NET3                                                                   \
	NET "nodes:\n" CP1 "  - {name: cp2, mac: \"52:54:00:00:01:02\", ip: "  \
	    "10.0.0.12, role: control-plane}\n"                                \
	    "  - {name: cp3, mac: \"52:54:00:00:01:03\", ip: 10.0.0.13, "      \
	    "role: control-plane}\n"

/* How many errors loading yaml reports. */
static size_t
count_errors(const char *yaml)
{
	struct inventory *inv = NULL;
	struct diags d;
	size_t n;

	diags_init(&d);
	assert_int_equal(inventory_parse("t.yaml", yaml, strlen(yaml), PROFILES,
					 &inv, &d),
			 -EINVAL);
	n = d.errors;
	diags_done(&d);
	return n;
}

static void
test_vip(void **state)
{
	struct inventory *inv;
	struct diags d;

	(void)state;
	/* The VIP is the endpoint (haproxy's port) and an API server SAN. */
	inv = load_ok(HEAD VIP NET3, &d);
	assert_true(inv->cluster.vip.set);
	assert_int_equal(inv->cluster.vip.address, 0x0a00000a);
	assert_int_equal(inv->cluster.vip.port, 8443);
	assert_int_equal(inv->cluster.vip.router_id, 51);
	assert_false(inv->cluster.vip.multicast);
	assert_int_equal(inv->cluster.vip.line, 5);
	assert_string_equal(inv->cluster.endpoint_host, "10.0.0.10");
	assert_int_equal(inv->cluster.endpoint_port, 8443);
	assert_int_equal(inv->cluster.cert_sans.n, 1);
	assert_string_equal(inv->cluster.cert_sans.v[0], "10.0.0.10");
	inventory_free(inv);
	diags_done(&d);

	/* Every key; the same endpoint given twice; the SAN not repeated. */
	inv = load_ok(HEAD "  control_plane_endpoint: 10.0.0.10:9443\n"
			   "  apiserver_cert_sans: [api.example, 10.0.0.10]\n"
			   "  control_plane_vip: {address: 10.0.0.10, port: "
			   "9443, router_id: 7, multicast: true, mode: "
			   "packages}\n" NET3,
		      &d);
	assert_int_equal(inv->cluster.vip.port, 9443);
	assert_int_equal(inv->cluster.vip.router_id, 7);
	assert_true(inv->cluster.vip.multicast);
	assert_int_equal(inv->cluster.endpoint_port, 9443);
	assert_int_equal(inv->cluster.cert_sans.n, 2);
	inventory_free(inv);
	diags_done(&d);
	/* Without a VIP nothing changes. */
	inv = load_ok(HEAD "  control_plane_endpoint: 10.0.0.10:6443\n" NET3,
		      &d);
	assert_false(inv->cluster.vip.set);
	assert_int_equal(inv->cluster.cert_sans.n, 0);
	inventory_free(inv);
	diags_done(&d);

	/* HA needs two control planes at least. */
	expect_error(HEAD VIP NET "nodes:\n" CP1, 5, 5,
		     "control_plane_vip needs at least 2 control-plane nodes "
		     "(there is 1)");
	/* The address: free, on the network, nobody else's. */
	expect_error(HEAD "  control_plane_vip:\n    address: 10.0.1.10\n" NET3,
		     5, 14, "10.0.1.10 is outside network.subnet");
	expect_error(HEAD
		     "  control_plane_vip:\n    address: 10.0.0.255\n" NET3,
		     5, 14, "network or broadcast address");
	expect_error(HEAD "  control_plane_vip:\n    address: 10.0.0.12\n" NET3,
		     5, 14, "10.0.0.12 is node 'cp2''s address (line 11)");
	/* ... and nothing else: a VIP refused does not become the endpoint. */
	assert_int_equal(count_errors(HEAD "  control_plane_vip:\n    address: "
					   "10.0.0.12\n" NET3),
			 1);
	assert_int_equal(count_errors(HEAD "  control_plane_vip:\n    address: "
					   "10.0.0.300\n" NET3),
			 1);
	expect_error(HEAD "  control_plane_vip:\n    address: 10.0.0.1\n" NET3,
		     5, 14, "is network.server_ip");
	expect_error(HEAD VIP NET "  gateway: 10.0.0.10\nnodes:\n" CP1
				  "  - {name: cp2, mac: \"52:54:00:00:01:02\", "
				  "ip: 10.0.0.12, role: control-plane}\n",
		     5, 14, "is network.gateway");
	expect_error(HEAD VIP NET "  pool: 10.0.0.5-10.0.0.10\nnodes:\n" CP1
				  "  - {name: cp2, mac: \"52:54:00:00:01:02\", "
				  "ip: 10.0.0.12, role: control-plane}\n",
		     5, 14, "is inside network.pool");
	expect_error(HEAD
		     "  control_plane_vip:\n    address: 10.0.0.300\n" NET3,
		     5, 14, "control_plane_vip.address: '10.0.0.300' is not");
	expect_error(HEAD "  control_plane_vip:\n    port: 8443\n" NET3, 5, 5,
		     "control_plane_vip.address is required");
	/* The port: never the API server's own, nor another of its ports. */
	expect_error(HEAD VIP "    port: 6443\n" NET3, 6, 11,
		     "6443 is the API server's own port");
	expect_error(HEAD VIP "    port: 2380\n" NET3, 6, 11,
		     "2380 is a control-plane port (etcd");
	expect_error(HEAD VIP "    port: 70000\n" NET3, 6, 11,
		     "must be a port, 1-65535");
	expect_error(HEAD VIP "    router_id: 0\n" NET3, 6, 16,
		     "router_id '0' must be a VRRP router id, 1-255");
	expect_error(HEAD VIP "    multicast: maybe\n" NET3, 6, 16,
		     "must be true or false");
	/* Another endpoint contradicts the VIP. */
	expect_error(HEAD "  control_plane_endpoint: 10.0.0.10:6443\n" VIP NET3,
		     4, 27,
		     "control_plane_endpoint 10.0.0.10:6443 differs from "
		     "control_plane_vip 10.0.0.10:8443");
	expect_error(HEAD
		     "  control_plane_endpoint: api.example:8443\n" VIP NET3,
		     4, 27, "differs from control_plane_vip");
	/* Static pods are not implemented, and said so. */
	expect_error(HEAD VIP "    mode: static-pods\n" NET3, 6, 11,
		     "mode static-pods is not implemented");
	expect_error(HEAD VIP "    mode: docker\n" NET3, 6, 11,
		     "control_plane_vip.mode must be packages");
	expect_error(HEAD VIP "    adress: 10.0.0.10\n" NET3, 6, 5,
		     "did you mean 'address'");
	expect_error(HEAD "  control_plane_vip: 10.0.0.10\n" NET3, 4, 22,
		     "must be a mapping");
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	expect_error(HEAD "  contianer_runtime: docker\n" NET "nodes:\n" CP1, 4,
		     3, "did you mean 'container_runtime'");
	expect_error(HEAD NET "  dhcp_mode: full\n"
			      "nodes:\n" CP1,
		     7, 3, "unknown key 'dhcp_mode' in network");
	expect_error(HEAD NET "nodes:\n"
			      "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
			      "10.0.0.11, role: control-plane, disk: sda}\n",
		     8, 79, "unknown key 'disk' in a node");
	expect_error(HEAD NET "nodes:\n" CP1 "extra: 1\n", 9, 1,
		     "unknown key 'extra'");
	expect_error(HEAD NET "nodes:\n" CP1 "roles:\n  worker:\n"
			      "    swapoff: true\n",
		     11, 5, "did you mean 'swap_off'");
}

static void
test_types_and_enums(void **state)
{
	(void)state;
	expect_error(HEAD "  container_runtime: crio\n" NET "nodes:\n" CP1, 4,
		     22, "containerd or docker");
	expect_error(HEAD "  token_ttl: 1day\n" NET "nodes:\n" CP1, 4, 14,
		     "duration");
	expect_error(HEAD "  registry_mirrors: [ftp://x]\n" NET "nodes:\n" CP1,
		     4, 22, "not an http");
	expect_error(HEAD NET "  dhcp: maybe\n"
			      "nodes:\n" CP1,
		     7, 9, "full, proxy or off");
	expect_error(HEAD NET "nodes: {}\n", 7, 8, "nodes must be a list");
	expect_error("cluster: [1]\n" NET "nodes:\n" CP1, 1, 10,
		     "cluster must be a mapping");
	expect_error(HEAD NET "nodes:\n" CP1 "roles:\n  worker:\n"
			      "    sysctls: {\"bad key\": 1}\n",
		     11, 15, "not a sysctl name");
	expect_error(HEAD NET "nodes:\n" CP1 "roles:\n  worker:\n"
			      "    firewall: [{port: 70000}]\n",
		     11, 23, "within 1-65535");
	expect_error(HEAD NET
		     "nodes:\n"
		     "  - {name: cp1, mac: \"52:54:00:00:01:01\", ip: "
		     "10.0.0.11, role: control-plane, taints: [bad]}\n",
		     8, 88, "NoSchedule");
	expect_error(HEAD NET "nodes: []\n", 7, 8, "nodes is empty");
}

static void
test_all_problems_reported(void **state)
{
	static const char *y =
		"cluster:\n"
		"  name: Bad_Name\n"
		"  kubernetes_version: 1.30\n"
		"network:\n"
		"  server_ip: 10.0.0.1\n"
		"  subnet: 10.0.0.0/24\n"
		"nodes:\n"
		"  - {name: cp1, mac: \"zz\", ip: 10.0.0.11, role: "
		"control-plane}\n"
		"  - {name: w1, mac: \"52:54:00:00:01:02\", ip: 10.9.0.12, "
		"role: worker}\n";
	struct inventory *inv = NULL;
	struct diags d;

	(void)state;
	diags_init(&d);
	assert_int_equal(
		inventory_parse("t.yaml", y, strlen(y), PROFILES, &inv, &d),
		-EINVAL);
	assert_true(d.errors >= 4);
	diags_done(&d);
}

static void
test_yaml_syntax_and_profiles(void **state)
{
	struct inventory *inv = NULL;
	struct diags d;
	static const char *y = HEAD NET "nodes:\n" CP1;

	(void)state;
	expect_error("cluster:\n  name: [t\n", 3, 1, "");
	expect_error("- 1\n", 1, 1, "an inventory is a mapping");
	/* A missing profiles directory is reported, not ignored. */
	diags_init(&d);
	assert_int_equal(inventory_parse("t.yaml", y, strlen(y), "/nonexistent",
					 &inv, &d),
			 -EINVAL);
	assert_non_null(strstr(d.items[0].msg, "cannot load role profile"));
	diags_done(&d);
	diags_init(&d);
	assert_int_equal(
		inventory_load("/nonexistent.yaml", PROFILES, &inv, &d),
		-EINVAL);
	diags_done(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_overrides_and_taints),
		cmocka_unit_test(test_secure_boot),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_macs),
		cmocka_unit_test(test_ips),
		cmocka_unit_test(test_subnet_overlaps),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_endpoint_allowed),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_etcd),
		cmocka_unit_test(test_cri_socket),
		cmocka_unit_test(test_vip),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_cni_warning),
		cmocka_unit_test(test_os_family),
		cmocka_unit_test(test_sandbox_image),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_types_and_enums),
		cmocka_unit_test(test_all_problems_reported),
		cmocka_unit_test(test_yaml_syntax_and_profiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
