/*
 * test_firstboot_steps_runtime.c - the runtime and kubelet steps on a
 * scratch root, with PATH holding only a recording systemctl stand-in (or
 * nothing): the files each container runtime kind gets, the services
 * restarted and in which order, and the standalone kubelet configuration
 * of an external etcd member, byte for byte, with the CRI endpoint the
 * payload names; containerd's config version picked from a containerd
 * stand-in's --version, docker.io's hosts.toml; the vip step
 * (keepalived's interface, haproxy and keepalived restarted, init's wait
 * for the VIP) and its helpers.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "buf.h"
#include "ctrconf.h"
#include "exec.h"
#include "fsutil.h"
#include "payload.h"
#include "plan.h"
#include "yload.h"

struct env {
	char dir[64];	     /* scratch: root/, bin/, calls */
	char root[PATH_MAX]; /* the agent's --root */
	char bin[PATH_MAX];  /* PATH while a step runs */
	char *old_path;
	struct fb_payload *p;
	struct fb_exec x;
};

/* rm -rf dir (a scratch directory this test made). */
static void
remove_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * A scratch root for payload yaml; with_systemctl puts a systemctl on PATH
 * that appends its arguments to DIR/calls and succeeds.
 */
static void
env_setup(struct env *e, const char *yaml, bool with_systemctl)
{
	struct fb_perror err;
	const char *path = getenv("PATH");
	int r;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/mb-steps.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->root, sizeof(e->root), "%s/root", e->dir);
	snprintf(e->bin, sizeof(e->bin), "%s/bin", e->dir);
	assert_int_equal(mkdir(e->root, 0755), 0);
	assert_int_equal(mkdir(e->bin, 0755), 0);
	if (with_systemctl) {
		char sc[PATH_MAX + 16];
		FILE *f;

		snprintf(sc, sizeof(sc), "%s/systemctl", e->bin);
		f = fopen(sc, "w");
		assert_non_null(f);
		fprintf(f, "#!/bin/sh\necho \"$*\" >>'%s/calls'\nexit 0\n",
			e->dir);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(chmod(sc, 0755), 0);
	}
	e->old_path = path ? strdup(path) : NULL;
	assert_int_equal(setenv("PATH", e->bin, 1), 0);
	r = fb_payload_parse("t.yaml", yaml, strlen(yaml), &e->p, &err);
	if (r != 0)
		fail_msg("parse: %d at %u:%u: %s", r, err.line, err.col,
			 err.msg);
	fb_exec_init(&e->x);
	e->x.root = e->root;
	e->x.p = e->p;
}

static void
env_done(struct env *e)
{
	if (e->old_path != NULL)
		setenv("PATH", e->old_path, 1);
	free(e->old_path);
	fb_exec_done(&e->x);
	fb_payload_free(e->p);
	remove_tree(e->dir);
}

/* ROOT+abs's content (owned), or NULL when absent. */
static char *
root_file(const struct env *e, const char *abs)
{
	char path[PATH_MAX * 2];
	char *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s%s", e->root, abs);
	if (read_file(path, 1u << 20, &text, &len) < 0)
		return NULL;
	return text;
}

/* The systemctl stand-in's calls, one per line ("" when none). */
static char *
calls(const struct env *e)
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/calls", e->dir);
	if (read_file(path, 1u << 20, &text, &len) < 0)
		return strdup("");
	return text;
}

#define HEAD                                                                   \
	"version: 1\n"                                                         \
	"cluster: { name: lab }\n"                                             \
	"selinux: keep\n"                                                      \
	"swap_off: true\n"

static const char etcd_payload[] =
	HEAD "node: { name: etcd1, role: etcd, mac: \"52:54:00:00:03:01\", "
	     "ip: 192.168.100.31 }\n"
	     "container_runtime: { kind: containerd, cgroup_driver: systemd }\n"
	     "kubeadm: { action: etcd, config: x }\n";

/*
 * The etcd member's kubelet configuration: what the agent wrote when it
 * was put together with printf, now emitted by libyaml (which quotes the
 * address, a string either way); it parses back with the same values.
 */
static void
test_etcd_kubelet(void **state)
{
	static const char want[] =
		"# Written by metalboot-firstboot: the kubelet of an "
		"external etcd member.\n"
		"apiVersion: kubelet.config.k8s.io/v1beta1\n"
		"kind: KubeletConfiguration\n"
		"authentication:\n"
		"  anonymous:\n"
		"    enabled: false\n"
		"  webhook:\n"
		"    enabled: false\n"
		"authorization:\n"
		"  mode: AlwaysAllow\n"
		"cgroupDriver: systemd\n"
		"address: \"127.0.0.1\"\n"
		"containerRuntimeEndpoint: "
		"unix:///var/run/containerd/containerd.sock\n"
		"staticPodPath: /etc/kubernetes/manifests\n";
	struct env e;
	struct ydoc *doc = NULL;
	struct yerror yerr;
	char *conf, *unit, *got;

	(void)state;
	env_setup(&e, etcd_payload, true);
	assert_int_equal(fb_step_kubelet(&e.x), 0);
	conf = root_file(&e, FB_ETCD_KUBELET);
	assert_non_null(conf);
	assert_string_equal(conf, want);
	assert_int_equal(
		ydoc_parse("kubelet.conf", conf, strlen(conf), &doc, &yerr), 0);
	assert_string_equal(ynode_get(doc->root, "address")->str, "127.0.0.1");
	assert_string_equal(
		ynode_get(ynode_get(doc->root, "authorization"), "mode")->str,
		"AlwaysAllow");
	ydoc_free(doc);
	unit = root_file(&e, FB_ETCD_DROPIN);
	assert_non_null(unit);
	assert_non_null(strstr(unit, "\nExecStart=/usr/bin/kubelet "
				     "--config=" FB_ETCD_KUBELET "\n"));
	got = calls(&e);
	assert_string_equal(got, "daemon-reload\n"
				 "restart kubelet\n"
				 "is-enabled --quiet kubelet\n");
	free(got);
	free(conf);
	free(unit);
	env_done(&e);
}

/* Swap left on: the standalone kubelet is told so, as kubeadm's is. */
static void
test_etcd_kubelet_swap_on(void **state)
{
	static const char yaml[] =
		"version: 1\n"
		"cluster: { name: lab }\n"
		"selinux: keep\n"
		"swap_off: false\n"
		"node: { name: etcd1, role: etcd, mac: \"52:54:00:00:03:01\", "
		"ip: 192.168.100.31 }\n"
		"container_runtime: { kind: containerd, cgroup_driver: "
		"cgroupfs }\n"
		"kubeadm: { action: etcd, config: x }\n";
	struct env e;
	char *conf;

	(void)state;
	env_setup(&e, yaml, false);
	assert_int_equal(fb_step_kubelet(&e.x), 0);
	conf = root_file(&e, FB_ETCD_KUBELET);
	assert_non_null(conf);
	assert_non_null(strstr(conf, "\ncgroupDriver: cgroupfs\n"));
	assert_non_null(strstr(conf, "\nfailSwapOn: false\n"));
	free(conf);
	env_done(&e);
}

static const char docker_payload[] =
	HEAD "node: { name: w1, role: worker, mac: \"52:54:00:00:02:01\", "
	     "ip: 192.168.100.21 }\n"
	     "container_runtime: { kind: docker, cgroup_driver: systemd, "
	     "registry_mirrors: [\"https://mirror.example:5000\"] }\n"
	     "kubeadm: { action: join, config: x }\n";

/*
 * The docker kind: kubelet's CRI is containerd's (docker.io runs on it), so
 * containerd's config.toml is written as for the containerd kind, then
 * daemon.json; containerd is restarted before docker. A second run changes
 * and restarts nothing.
 */
static void
test_docker_configures_containerd(void **state)
{
	struct env e;
	char *toml, *json, *got, *hosts;

	(void)state;
	env_setup(&e, docker_payload, true);
	assert_int_equal(fb_step_runtime(&e.x), 0);
	toml = root_file(&e, FB_CONTAINERD_CONF);
	assert_non_null(toml);
	assert_non_null(strstr(toml, "\nversion = 2\n"));
	assert_non_null(strstr(toml, "\n  SystemdCgroup = true\n"));
	assert_non_null(
		strstr(toml, "runtime_type = \"io.containerd.runc.v2\""));
	assert_non_null(
		strstr(toml, "\n  config_path = \"" CTRCONF_CERTS_D "\"\n"));
	/* The mirrors are in hosts.toml, not the deprecated table. */
	assert_null(strstr(toml, "mirrors"));
	hosts = root_file(&e, CTRCONF_HOSTS_TOML);
	assert_non_null(hosts);
	assert_non_null(strstr(hosts, "\n[host.\"https://mirror.example:5000\"]"
				      "\n"));
	free(hosts);
	json = root_file(&e, FB_DOCKER_CONF);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"native.cgroupdriver=systemd\""));
	assert_non_null(strstr(json, "\"https://mirror.example:5000\""));
	got = calls(&e);
	assert_string_equal(got, "restart containerd\n"
				 "is-active --quiet containerd\n"
				 "restart docker\n"
				 "is-active --quiet docker\n");
	free(got);
	assert_string_equal(e.x.msg,
			    "config version 2 (containerd is not on PATH); "
			    "" FB_CONTAINERD_CONF
			    " written; containerd restarted; " FB_DOCKER_CONF
			    " written; docker restarted; hosts.toml written");
	free(toml);
	free(json);

	/* Again: both files as wanted, both services active. */
	assert_int_equal(fb_step_runtime(&e.x), 0);
	got = calls(&e);
	assert_string_equal(got, "restart containerd\n"
				 "is-active --quiet containerd\n"
				 "restart docker\n"
				 "is-active --quiet docker\n"
				 "is-active --quiet containerd\n"
				 "is-active --quiet docker\n");
	free(got);
	assert_string_equal(
		e.x.msg,
		"config version 2 (containerd is not on PATH); "
		"" FB_CONTAINERD_CONF
		" unchanged; containerd already running; " FB_DOCKER_CONF
		" unchanged; docker already running; hosts.toml "
		"unchanged");
	env_done(&e);
}

/* Without systemctl, both files are still written, with a note. */
static void
test_docker_no_systemctl(void **state)
{
	struct env e;
	char *toml;

	(void)state;
	env_setup(&e, docker_payload, false);
	assert_int_equal(fb_step_runtime(&e.x), 0);
	toml = root_file(&e, FB_CONTAINERD_CONF);
	assert_non_null(toml);
	assert_non_null(strstr(toml, "SystemdCgroup = true"));
	assert_non_null(strstr(e.x.msg, "no systemctl, containerd not "
					"restarted"));
	assert_non_null(strstr(e.x.msg, "no systemctl, docker not restarted"));
	free(toml);
	env_done(&e);
}

/* The containerd kind leaves docker alone. */
static void
test_containerd_only(void **state)
{
	struct env e;
	char *json, *got;

	(void)state;
	env_setup(&e, etcd_payload, true);
	assert_int_equal(fb_step_runtime(&e.x), 0);
	json = root_file(&e, FB_DOCKER_CONF);
	assert_null(json);
	got = calls(&e);
	assert_string_equal(got, "restart containerd\n"
				 "is-active --quiet containerd\n");
	free(got);
	env_done(&e);
}

/*
 * The etcd member's kubelet uses the payload's cri_socket: containerd's by
 * default with docker too (never cri-dockerd unless told), or the one
 * given.
 */
static void
test_etcd_kubelet_cri_socket(void **state)
{
	static const char dflt[] =
		HEAD "node: { name: etcd1, role: etcd, mac: "
		     "\"52:54:00:00:03:01\", ip: 192.168.100.31 }\n"
		     "container_runtime: { kind: docker }\n"
		     "kubeadm: { action: etcd, config: x }\n";
	static const char given[] =
		HEAD "node: { name: etcd1, role: etcd, mac: "
		     "\"52:54:00:00:03:01\", ip: 192.168.100.31 }\n"
		     "container_runtime: { kind: docker, cri_socket: "
		     "\"unix:///var/run/cri-dockerd.sock\" }\n"
		     "kubeadm: { action: etcd, config: x }\n";
	struct env e;
	char *conf;

	(void)state;
	env_setup(&e, dflt, false);
	assert_int_equal(fb_step_kubelet(&e.x), 0);
	conf = root_file(&e, FB_ETCD_KUBELET);
	assert_non_null(conf);
	assert_non_null(strstr(conf, "\ncontainerRuntimeEndpoint: "
				     "unix:///var/run/containerd/"
				     "containerd.sock\n"));
	free(conf);
	env_done(&e);

	env_setup(&e, given, false);
	assert_int_equal(fb_step_kubelet(&e.x), 0);
	conf = root_file(&e, FB_ETCD_KUBELET);
	assert_non_null(conf);
	assert_non_null(strstr(conf, "\ncontainerRuntimeEndpoint: "
				     "unix:///var/run/cri-dockerd.sock\n"));
	free(conf);
	env_done(&e);
}

/* An executable prog on the test's PATH: "#!/bin/sh" then body. */
static void
stand_in_sh(const struct env *e, const char *prog, const char *body)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->bin, prog);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Write ROOT+abs (parents made). */
static void
put_root_file(const struct env *e, const char *abs, const char *text)
{
	char path[PATH_MAX * 2], dir[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", e->root, abs);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const char sandbox_payload[] =
	HEAD "node: { name: w1, role: worker, mac: \"52:54:00:00:02:01\", "
	     "ip: 192.168.100.21 }\n"
	     "container_runtime: { kind: containerd, cgroup_driver: systemd, "
	     "sandbox_image: \"registry.k8s.io/pause:3.9\" }\n"
	     "kubeadm: { action: join, config: x }\n";

/* What Debian 12's containerd package installs as config.toml. */
static const char debian_toml[] =
	"version = 2\n\n[plugins]\n  [plugins.\"io.containerd.grpc.v1.cri\"]\n"
	"    [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
	"      bin_dir = \"/usr/lib/cni\"\n";

/*
 * The config version follows "containerd --version": Debian 12's 1.6.20
 * gets version 2 (sandbox_image under the CRI plugin), the original kept
 * once; an upgrade to 2.0 rewrites it as version 3 (pinned_images under
 * io.containerd.cri.v1.images) and restarts containerd; an answer that is
 * not understood falls back to version 2 and says so.
 */
static void
test_config_version(void **state)
{
	struct env e;
	char *toml, *got;

	(void)state;
	env_setup(&e, sandbox_payload, true);
	put_root_file(&e, FB_CONTAINERD_CONF, debian_toml);
	stand_in_sh(&e, "containerd",
		    "echo 'containerd github.com/containerd/containerd "
		    "1.6.20~ds1 1.6.20~ds1-1+deb12u1'\n");
	assert_int_equal(fb_step_runtime(&e.x), 0);
	assert_string_equal(e.x.msg, "config version 2 (containerd 1.x); "
				     "" FB_CONTAINERD_CONF
				     " written; containerd restarted");
	toml = root_file(&e, FB_CONTAINERD_CONF);
	assert_non_null(toml);
	assert_non_null(strstr(toml, "\nversion = 2\n"));
	assert_non_null(strstr(
		toml, "\n[plugins.\"io.containerd.grpc.v1.cri\"]\n"
		      "  sandbox_image = \"registry.k8s.io/pause:3.9\"\n"));
	free(toml);
	toml = root_file(&e, FB_CONTAINERD_CONF ".orig");
	assert_non_null(toml);
	assert_string_equal(toml, debian_toml);
	free(toml);

	stand_in_sh(&e, "containerd",
		    "echo 'containerd github.com/containerd/containerd/v2 "
		    "v2.0.0 207ad711eabd375a01713109a8a197d197ff6542'\n");
	assert_int_equal(fb_step_runtime(&e.x), 0);
	assert_string_equal(e.x.msg, "config version 3 (containerd 2.x); "
				     "" FB_CONTAINERD_CONF
				     " written; containerd restarted");
	toml = root_file(&e, FB_CONTAINERD_CONF);
	assert_non_null(toml);
	assert_non_null(strstr(toml, "\nversion = 3\n"));
	assert_non_null(strstr(
		toml,
		"\n[plugins.\"io.containerd.cri.v1.images\".pinned_images]"
		"\n  sandbox = \"registry.k8s.io/pause:3.9\"\n"));
	assert_null(strstr(toml, "grpc.v1.cri"));
	free(toml);
	/* The first original is the one kept. */
	toml = root_file(&e, FB_CONTAINERD_CONF ".orig");
	assert_string_equal(toml, debian_toml);
	free(toml);
	got = calls(&e);
	assert_string_equal(got, "restart containerd\n"
				 "is-active --quiet containerd\n"
				 "restart containerd\n"
				 "is-active --quiet containerd\n");
	free(got);

	stand_in_sh(&e, "containerd", "echo 'segmentation fault'; exit 139\n");
	assert_int_equal(fb_step_runtime(&e.x), 0);
	assert_non_null(strstr(e.x.msg, "config version 2 (containerd "
					"--version not understood); "));
	toml = root_file(&e, FB_CONTAINERD_CONF);
	assert_non_null(strstr(toml, "\nversion = 2\n"));
	free(toml);
	env_done(&e);
}

/*
 * Without mirrors there is no hosts.toml; one this agent wrote earlier is
 * removed (the mirrors were dropped), one someone else wrote is kept.
 */
static void
test_hosts_toml_removed(void **state)
{
	static const char mine[] = CTRCONF_MARK ": docker.io pulls ...\n"
						"server = \"https://x\"\n";
	static const char theirs[] = "server = \"https://registry.corp\"\n";
	struct env e;
	char *got;

	(void)state;
	env_setup(&e, sandbox_payload, false);
	assert_int_equal(fb_step_runtime(&e.x), 0);
	assert_null(strstr(e.x.msg, "hosts.toml"));
	assert_null(root_file(&e, CTRCONF_HOSTS_TOML));
	put_root_file(&e, CTRCONF_HOSTS_TOML, theirs);
	assert_int_equal(fb_step_runtime(&e.x), 0);
	got = root_file(&e, CTRCONF_HOSTS_TOML);
	assert_non_null(got);
	assert_string_equal(got, theirs);
	free(got);
	put_root_file(&e, CTRCONF_HOSTS_TOML, mine);
	assert_int_equal(fb_step_runtime(&e.x), 0);
	assert_non_null(strstr(e.x.msg, "; hosts.toml removed"));
	assert_null(root_file(&e, CTRCONF_HOSTS_TOML));
	env_done(&e);
}

/* A TCP listener on 127.0.0.1 (any port); its port into *ret_port. */
static int
listener(unsigned *ret_port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* The interface of an address, and the wait for a port that listens. */
static void
test_vip_helpers(void **state)
{
	char name[FB_IFNAME_LEN];
	unsigned port;
	int fd;

	(void)state;
	assert_int_equal(fb_vip_iface(0x7f000001, name), 0);
	assert_string_equal(name, "lo");
	/* 203.0.113.7 (TEST-NET-3) is on no interface here. */
	assert_int_equal(fb_vip_iface(0xcb007107, name), -ENOENT);
	fd = listener(&port);
	assert_int_equal(fb_tcp_wait(0x7f000001, port, 0, 1), 0);
	close(fd);
	/* Closed now: one refused attempt, and no time left to wait. */
	assert_int_equal(fb_tcp_wait(0x7f000001, port, 0, 1), -ETIMEDOUT);
}

/* An executable that does nothing, named prog, on the test's PATH. */
static void
stand_in(const struct env *e, const char *prog)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->bin, prog);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

#define VIP_PAYLOAD(ip, action, port)                                          \
	HEAD "node: { name: cp1, role: control-plane, mac: "                   \
	     "\"52:54:00:00:01:01\", ip: " ip " }\n"                           \
	     "container_runtime: { kind: containerd, cgroup_driver: systemd "  \
	     "}\n"                                                             \
	     "control_plane_vip: { address: 127.0.0.1, port: " port ", "       \
	     "interface_file: /etc/keepalived/metalboot-interface.conf }\n"    \
	     "kubeadm: { action: " action ", config: x }\n"

/*
 * vip: keepalived's interface file names the interface holding the
 * node's address; haproxy and keepalived are enabled and restarted, in
 * that order; init returns once the VIP takes connections; without
 * systemctl nothing is started, with a note; a node whose address is on
 * no interface fails the step.
 */
static void
test_vip_step(void **state)
{
	char yaml[1024], portstr[16];
	struct env e;
	unsigned port;
	char *got;
	int fd;

	(void)state;
	fd = listener(&port);
	snprintf(portstr, sizeof(portstr), "%u", port);
	snprintf(yaml, sizeof(yaml), VIP_PAYLOAD("127.0.0.1", "init", "%s"),
		 portstr);
	env_setup(&e, yaml, true);
	/* The packages missing: a clear failure, nothing started. */
	assert_int_equal(fb_step_vip(&e.x), -ENOENT);
	assert_non_null(strstr(e.x.msg, "haproxy, keepalived or curl is not "
					"installed"));
	got = calls(&e);
	assert_string_equal(got, "");
	free(got);
	stand_in(&e, "haproxy");
	stand_in(&e, "keepalived");
	assert_int_equal(fb_step_vip(&e.x), -ENOENT);
	stand_in(&e, "curl");
	assert_int_equal(fb_step_vip(&e.x), 0);
	got = root_file(&e, "/etc/keepalived/metalboot-interface.conf");
	assert_non_null(got);
	assert_string_equal(got, "interface lo\n");
	free(got);
	got = calls(&e);
	assert_string_equal(got, "enable haproxy keepalived\n"
				 "restart haproxy\n"
				 "restart keepalived\n");
	free(got);
	assert_non_null(strstr(e.x.msg, "the VIP answers"));
	env_done(&e);
	close(fd);

	env_setup(&e, VIP_PAYLOAD("127.0.0.1", "init", "8443"), false);
	assert_int_equal(fb_step_vip(&e.x), 0);
	assert_non_null(strstr(e.x.msg, "no systemctl"));
	got = calls(&e);
	assert_string_equal(got, "");
	free(got);
	env_done(&e);

	env_setup(&e, VIP_PAYLOAD("203.0.113.7", "init", "8443"), true);
	assert_int_equal(fb_step_vip(&e.x), -ENOENT);
	assert_non_null(strstr(e.x.msg, "no interface holds 203.0.113.7"));
	assert_null(root_file(&e, "/etc/keepalived/metalboot-interface.conf"));
	got = calls(&e);
	assert_string_equal(got, "");
	free(got);
	env_done(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vip_helpers),
		cmocka_unit_test(test_vip_step),
		cmocka_unit_test(test_etcd_kubelet),
		cmocka_unit_test(test_etcd_kubelet_swap_on),
		cmocka_unit_test(test_etcd_kubelet_cri_socket),
		cmocka_unit_test(test_docker_configures_containerd),
		cmocka_unit_test(test_docker_no_systemctl),
		cmocka_unit_test(test_containerd_only),
		cmocka_unit_test(test_config_version),
		cmocka_unit_test(test_hosts_toml_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
