/*
 * test_firstboot_payload.c - the payload parser: a complete payload in the
 * shape of docs/formats.md is read field by field; every malformed or
 * dangerous field is refused with the line and column of the offending
 * node (paths with "..", sysctl keys that would leave /proc/sys, module
 * names that look like options, unknown keys, role/action mismatches).
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
#include "payload.h"

#define PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static const char full[] =
	"version: 1\n"
	"node: { name: cp1, role: control-plane, mac: \"52:54:00:00:01:01\", "
	"ip: 192.168.100.11 }\n"
	"cluster:\n"
	"  name: lab\n"
	"  kubernetes_version: v1.30.2\n"
	"  endpoint: 192.168.100.11:6443\n"
	"  pod_subnet: 10.244.0.0/16\n"
	"  service_subnet: 10.96.0.0/12\n"
	"server:\n"
	"  url: https://192.168.100.1:443/\n"
	"  ca: |\n"
	"    -----BEGIN CERTIFICATE-----\n"
	"    MIIB\n"
	"    -----END CERTIFICATE-----\n"
	"hosts:\n"
	"  - { ip: 192.168.100.11, names: [cp1, cp1.lab] }\n"
	"kernel_modules: [br_netfilter, overlay]\n"
	"sysctls: { net.ipv4.ip_forward: \"1\", "
	"net.bridge.bridge-nf-call-iptables: \"1\" }\n"
	"swap_off: true\n"
	"selinux: disabled\n"
	"firewall:\n"
	"  - { port: \"6443\", proto: tcp }\n"
	"  - { port: 8472, proto: udp, what: flannel VXLAN }\n"
	"  - { port: \"2379-2380\", proto: tcp }\n"
	"container_runtime:\n"
	"  kind: docker\n"
	"  cgroup_driver: cgroupfs\n"
	"  log_max_size: 50m\n"
	"  log_max_files: 3\n"
	"  storage_driver: overlay2\n"
	"  registry_mirrors: [\"https://m1.example\", \"http://m2:5000\"]\n"
	"files:\n"
	"  - { path: /etc/kubernetes/pki/ca.key, mode: \"0600\", content: "
	"\"KEY\" }\n"
	"  - { path: /etc/kubernetes/pki/ca.crt, mode: \"644\", content: "
	"\"CRT\" }\n"
	"kubeadm:\n"
	"  action: init\n"
	"  config: \"apiVersion: kubeadm.k8s.io/v1beta3\\n\"\n"
	"cni:\n"
	"  name: flannel\n"
	"  manifest: http://192.168.100.1:80/files/manifests/flannel.yaml\n"
	"  sha256: "
	"\"0000000000000000000000000000000000000000000000000000000000000000\"\n"
	"ready_timeout: 300\n";

static void
test_full(void **state)
{
	struct fb_payload *p = NULL;
	struct fb_perror err;

	(void)state;
	assert_int_equal(fb_payload_parse("f", full, strlen(full), &p, &err),
			 0);
	assert_string_equal(p->node.name, "cp1");
	assert_int_equal(p->node.role, FB_ROLE_CONTROL_PLANE);
	assert_string_equal(p->cluster.pod_subnet, "10.244.0.0/16");
	assert_true(p->has_server);
	/* A trailing slash is dropped so URL + "/v1/..." is clean. */
	assert_string_equal(p->server_url, "https://192.168.100.1:443");
	assert_non_null(strstr(p->server_ca, "BEGIN CERTIFICATE"));
	assert_int_equal(p->nhosts, 1);
	assert_int_equal(p->hosts[0].nnames, 2);
	assert_int_equal(p->nmodules, 2);
	assert_int_equal(p->nsysctls, 2);
	assert_string_equal(p->sysctls[1].key,
			    "net.bridge.bridge-nf-call-iptables");
	assert_true(p->swap_off);
	assert_int_equal(p->selinux, FB_SELINUX_DISABLED);
	assert_int_equal(p->nports, 3);
	assert_int_equal(p->ports[1].first, 8472);
	assert_true(p->ports[1].udp);
	assert_int_equal(p->ports[2].first, 2379);
	assert_int_equal(p->ports[2].last, 2380);
	assert_int_equal(p->runtime.kind, FB_RUNTIME_DOCKER);
	assert_string_equal(p->runtime.cgroup_driver, "cgroupfs");
	assert_int_equal(p->runtime.log_max_files, 3);
	assert_int_equal(p->runtime.nmirrors, 2);
	/* No cri_socket: containerd's, with docker too. */
	assert_string_equal(p->runtime.cri_socket,
			    "unix:///var/run/containerd/containerd.sock");
	assert_int_equal(p->nfiles, 2);
	assert_int_equal(p->files[0].mode, 0600);
	assert_int_equal(p->files[1].mode, 0644);
	assert_int_equal(p->kubeadm.action, FB_ACTION_INIT);
	assert_false(p->kubeadm.has_wait);
	assert_true(p->has_cni);
	assert_int_equal(p->ready_timeout, 300);
	/* Absent (payloads from before these keys): the defaults. */
	assert_null(p->runtime.sandbox_image);
	assert_true(p->cluster.cni_configured);
	fb_payload_free(p);
}

struct bad {
	const char *from, *to; /* replace from with to in full */
	unsigned line, col;    /* 0: do not check */
	const char *msg;       /* a substring of the message */
};

static const struct bad bads[] = {
	{ "version: 1", "version: 2", 1, 10, "version 1" },
	{ "version: 1\n", "", 0, 0, "version is required" },
	{ "ready_timeout: 300", "ready_timout: 300", 42, 1,
	  "unknown key 'ready_timout'" },
	{ "name: cp1,", "name: \"cp1;rm\",", 2, 15, "host name" },
	{ "role: control-plane,", "role: master,", 2, 26, "node.role" },
	{ "mac: \"52:54:00:00:01:01\"", "mac: \"52:54:00:00:01\"", 2, 46,
	  "MAC" },
	{ "ip: 192.168.100.11 }", "ip: 192.168.100.011 }", 0, 0, "IPv4" },
	{ "pod_subnet: 10.244.0.0/16", "pod_subnet: 10.244.0.0/33", 7, 15,
	  "CIDR" },
	{ "url: https://192.168.100.1:443/", "url: http://192.168.100.1/", 10,
	  8, "https" },
	{ "    -----BEGIN CERTIFICATE-----\n    MIIB\n", "    MIIB\n", 0, 0,
	  "PEM" },
	{ "names: [cp1, cp1.lab]", "names: []", 0, 0, "names" },
	{ "[br_netfilter, overlay]", "[br_netfilter, -v]", 17, 32,
	  "kernel module" },
	{ "[br_netfilter, overlay]", "[\"../x\"]", 0, 0, "kernel module" },
	{ "net.ipv4.ip_forward: \"1\"", "net..ipv4: \"1\"", 18, 12,
	  "sysctl key" },
	{ "net.ipv4.ip_forward: \"1\"", "net/../../etc: \"1\"", 0, 0,
	  "sysctl key" },
	{ "net.ipv4.ip_forward: \"1\"", "net.ipv4.ip_forward: \"1\\n2\"", 0, 0,
	  "sysctl value" },
	{ "swap_off: true", "swap_off: yes", 19, 11, "true or false" },
	{ "selinux: disabled", "selinux: off", 0, 0, "selinux" },
	{ "port: \"6443\"", "port: \"0\"", 0, 0, "port" },
	{ "port: \"2379-2380\"", "port: \"2380-2379\"", 0, 0, "port" },
	{ "proto: tcp }\n  - { port: 8472", "proto: sctp }\n  - { port: 8472",
	  0, 0, "proto" },
	{ "kind: docker", "kind: cri-o", 0, 0, "kind" },
	{ "\"http://m2:5000\"", "\"ftp://m2\"", 0, 0, "registry mirror" },
	{ "storage_driver: overlay2",
	  "storage_driver: overlay2\n  cri_socket: /run/cri-dockerd.sock", 31,
	  15, "cri_socket must be unix://" },
	{ "storage_driver: overlay2",
	  "storage_driver: overlay2\n  cri_socket: \"unix:///run/a\\\"b\"", 31,
	  15, "cri_socket must be unix://" },
	{ "storage_driver: overlay2",
	  "storage_driver: overlay2\n  cri_socket: unix://run/x.sock", 31, 15,
	  "absolute path" },
	{ "path: /etc/kubernetes/pki/ca.key", "path: /etc/kubernetes/../../x",
	  0, 0, "files path" },
	{ "path: /etc/kubernetes/pki/ca.key", "path: etc/x", 0, 0,
	  "files path" },
	{ "path: /etc/kubernetes/pki/ca.crt",
	  "path: /etc/kubernetes/pki/ca.key", 0, 0, "repeated" },
	{ "mode: \"0600\"", "mode: \"0900\"", 33, 47, "octal" },
	{ "action: init", "action: join", 36, 11, "worker" },
	{ "action: init", "action: reset", 0, 0, "kubeadm.action" },
	{ "  config: \"apiVersion: kubeadm.k8s.io/v1beta3\\n\"\n", "", 0, 0,
	  "kubeadm.config is required" },
	{ "sha256: \"0000", "sha256: \"zz00", 41, 11, "64 hex" },
	{ "manifest: http://192", "manifest: file://192", 0, 0,
	  "cni.manifest" },
	{ "ready_timeout: 300", "ready_timeout: 0", 0, 0, "ready_timeout" },
	{ "ready_timeout: 300", "ready_timeout: [1]", 0, 0, "scalar" },
	{ "version: 1\n", "version: 1\nversion: 1\n", 0, 0, "" },
	{ "config: \"apiVersion: kubeadm.k8s.io/v1beta3\\n\"",
	  "config: \"kind: ClusterConfiguration\\netcd: {external: "
	  "{endpoints: [\\\"https://e:2379\\\"], caFile: x, certFile: /a, "
	  "keyFile: /b}}\\n\"",
	  37, 11, "etcd.external.caFile" },
	{ "config: \"apiVersion: kubeadm.k8s.io/v1beta3\\n\"",
	  "config: \"kind: ClusterConfiguration\\netcd: {external: "
	  "{endpoints: [\\\"http://e:2379\\\"], caFile: /x, certFile: /a, "
	  "keyFile: /b}}\\n\"",
	  37, 11, "etcd endpoint" },
	{ "kernel_modules: [br_netfilter, overlay]",
	  "kernel_modules: &a [x]\nhosts: *a", 0, 0, "" },
	{ "service_subnet: 10.96.0.0/12",
	  "service_subnet: 10.96.0.0/12\n  cni_configured: maybe", 9, 19,
	  "cluster.cni_configured" },
	{ "storage_driver: overlay2",
	  "storage_driver: overlay2\n  sandbox_image: \"pause 3.9\"", 31, 18,
	  "sandbox_image is not an image reference" },
};

static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	struct buf b;

	if (at == NULL)
		fail_msg("'%s' not in the payload", from);
	buf_init(&b, 1 << 20);
	buf_append(&b, s, (size_t)(at - s));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	return buf_take(&b, NULL);
}

/* container_runtime.cri_socket overrides kubelet's CRI endpoint. */
static void
test_cri_socket(void **state)
{
	char *text =
		replace(full, "  storage_driver: overlay2\n",
			"  storage_driver: overlay2\n"
			"  cri_socket: unix:///var/run/cri-dockerd.sock\n");
	struct fb_payload *p = NULL;
	struct fb_perror err;

	(void)state;
	assert_int_equal(fb_payload_parse("f", text, strlen(text), &p, &err),
			 0);
	assert_string_equal(p->runtime.cri_socket,
			    "unix:///var/run/cri-dockerd.sock");
	fb_payload_free(p);
	free(text);
}

/* The sandbox image and cluster.cni_configured, as the builder writes. */
static void
test_sandbox_cni_configured(void **state)
{
	char *t1 = replace(full, "  storage_driver: overlay2\n",
			   "  storage_driver: overlay2\n"
			   "  sandbox_image: registry.k8s.io/pause:3.10\n");
	char *t2 = replace(t1, "  service_subnet: 10.96.0.0/12\n",
			   "  service_subnet: 10.96.0.0/12\n"
			   "  cni_configured: false\n");
	struct fb_payload *p = NULL;
	struct fb_perror err;

	(void)state;
	assert_int_equal(fb_payload_parse("f", t2, strlen(t2), &p, &err), 0);
	assert_string_equal(p->runtime.sandbox_image,
			    "registry.k8s.io/pause:3.10");
	assert_false(p->cluster.cni_configured);
	fb_payload_free(p);
	free(t1);
	free(t2);
}

#define VIP_IN                                                                 \
	"control_plane_vip: { address: 192.168.100.10, port: 8443, "           \
	"interface_file: /etc/keepalived/metalboot-interface.conf }\n"

/* control_plane_vip: what the vip step needs, checked like the rest. */
static void
test_vip(void **state)
{
	static const struct bad vbads[] = {
		{ "address: 192.168.100.10", "address: 192.168.100.300", 0, 0,
		  "control_plane_vip.address is not an IPv4" },
		{ "port: 8443", "port: 0", 0, 0,
		  "control_plane_vip.port must be a number from 1 to 65535" },
		{ "interface_file: /etc/keepalived/",
		  "interface_file: etc/keepalived/", 0, 0,
		  "interface_file must be absolute" },
		{ "interface_file: /etc/keepalived/",
		  "interface_file: /etc/../keepalived/", 0, 0,
		  "interface_file must be absolute" },
		{ "port: 8443, ", "", 0, 0,
		  "control_plane_vip.port is required" },
		{ "port: 8443", "port: 8443, vrid: 5", 0, 0,
		  "unknown key 'vrid'" },
		{ "role: control-plane", "role: worker", 0, 0,
		  "only for control-plane nodes" },
	};
	char *text = replace(full, "kubeadm:\n", VIP_IN "kubeadm:\n");
	struct fb_payload *p = NULL;
	struct fb_perror err;
	size_t i;

	(void)state;
	assert_int_equal(fb_payload_parse("f", text, strlen(text), &p, &err),
			 0);
	assert_true(p->has_vip);
	assert_string_equal(p->vip.address, "192.168.100.10");
	assert_int_equal(p->vip.ip, 0xc0a8640a);
	assert_int_equal(p->vip.port, 8443);
	assert_string_equal(p->vip.interface_file,
			    "/etc/keepalived/metalboot-interface.conf");
	fb_payload_free(p);
	p = NULL;
	for (i = 0; i < sizeof(vbads) / sizeof(vbads[0]); i++) {
		char *t = replace(text, vbads[i].from, vbads[i].to);
		int r = fb_payload_parse("f", t, strlen(t), &p, &err);

		if (r != -EINVAL || strstr(err.msg, vbads[i].msg) == NULL)
			fail_msg("vip case %zu: %d '%s'", i, r, err.msg);
		assert_null(p);
		free(t);
	}
	free(text);
	/* Without the key: no VIP. */
	assert_int_equal(fb_payload_parse("f", full, strlen(full), &p, &err),
			 0);
	assert_false(p->has_vip);
	fb_payload_free(p);
}

static void
test_refused(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		char *text = replace(full, b->from, b->to);
		struct fb_payload *p = NULL;
		struct fb_perror err;
		int r;

		r = fb_payload_parse("f", text, strlen(text), &p, &err);
		if (r != -EINVAL)
			fail_msg("case %zu (%s -> %s): got %d", i, b->from,
				 b->to, r);
		if (strstr(err.msg, b->msg) == NULL)
			fail_msg("case %zu: message '%s' lacks '%s'", i,
				 err.msg, b->msg);
		if (b->line != 0 && (err.line != b->line || err.col != b->col))
			fail_msg("case %zu: at %u:%u, expected %u:%u (%s)", i,
				 err.line, err.col, b->line, b->col, err.msg);
		assert_null(p);
		free(text);
	}
}

static void
test_joiner_wait_for(void **state)
{
	static const char yaml[] =
		"version: 1\n"
		"node: { name: w1, role: worker, mac: \"52:54:00:00:02:01\", "
		"ip: 10.0.0.2 }\n"
		"cluster: { name: c }\n"
		"container_runtime: { kind: containerd }\n"
		"kubeadm:\n"
		"  action: join\n"
		"  config: x\n"
		"  wait_for: { url: \"https://10.0.0.1:6443/readyz\", ca: "
		"\"" PEM "\" }\n";
	static const char initwait[] =
		"version: 1\n"
		"node: { name: c1, role: control-plane, mac: "
		"\"52:54:00:00:02:01\", ip: 10.0.0.2 }\n"
		"cluster: { name: c }\n"
		"container_runtime: { kind: containerd }\n"
		"kubeadm:\n"
		"  action: init\n"
		"  config: x\n"
		"  wait_for: { url: \"https://10.0.0.1:6443/readyz\", ca: "
		"\"" PEM "\" }\n";
	static const char cniworker[] =
		"version: 1\n"
		"node: { name: w1, role: worker, mac: \"52:54:00:00:02:01\", "
		"ip: 10.0.0.2 }\n"
		"cluster: { name: c }\n"
		"container_runtime: { kind: containerd }\n"
		"kubeadm: { action: join, config: x }\n"
		"cni: { name: flannel }\n";
	struct fb_payload *p = NULL;
	struct fb_perror err;

	(void)state;
	assert_int_equal(fb_payload_parse("f", yaml, strlen(yaml), &p, &err),
			 0);
	assert_true(p->kubeadm.has_wait);
	assert_int_equal(p->kubeadm.wait_timeout, FB_DEFAULT_WAIT);
	assert_string_equal(p->runtime.cgroup_driver, "systemd");
	assert_string_equal(p->runtime.storage_driver, "overlay2");
	assert_false(p->swap_off);
	assert_int_equal(p->selinux, FB_SELINUX_KEEP);
	p = fb_payload_free(p);
	assert_int_equal(
		fb_payload_parse("f", initwait, strlen(initwait), &p, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "only for joiners"));
	assert_int_equal(
		fb_payload_parse("f", cniworker, strlen(cniworker), &p, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "first control-plane"));
	assert_int_equal(err.line, 6);
}

static void
test_empty_and_garbage(void **state)
{
	static const char *const inputs[] = { "",      "---\n", "[1, 2]",
					      "\"x\"", "{",	"\x01\x02" };
	struct fb_payload *p = NULL;
	struct fb_perror err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		assert_int_equal(fb_payload_parse("f", inputs[i],
						  strlen(inputs[i]), &p, &err),
				 -EINVAL);
	assert_null(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_cri_socket),
		cmocka_unit_test(test_sandbox_cni_configured),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_vip),
		cmocka_unit_test(test_joiner_wait_for),
		cmocka_unit_test(test_empty_and_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
