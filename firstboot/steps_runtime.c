/*
 * steps_runtime.c - the container runtime's configuration and restart,
 * the PKI files, and the kubelet unit.
 */
#include "exec.h"

#include "ctrconf.h"
#include "fsutil.h"
#include "log.h"
#include "yemit.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_MAX (1u << 20)

/*
 * containerd's CRI plugin with runc and the cgroup driver the kubelet uses
 * (kubeadm writes cgroupDriver: systemd; the two must agree, PROTOCOLS.md
 * 5.4), the payload's sandbox image and config_path for hosts.toml, in the
 * config version the installed containerd reads (common/ctrconf.h). The
 * file is written whole: editing an arbitrary TOML file in place is how
 * "SystemdCgroup" ends up under the wrong table. Some packages ship a
 * config.toml that disables the CRI plugin; that is replaced too, and the
 * original is kept next to it once as config.toml.orig.
 */
static int
containerd_conf(const struct fb_payload *p, unsigned version, struct buf *b)
{
	struct ctrconf c = {
		.systemd_cgroup =
			strcmp(p->runtime.cgroup_driver, "systemd") == 0,
		.sandbox_image = p->runtime.sandbox_image,
	};

	return ctrconf_render(version, &c, b);
}

/*
 * The config version the installed containerd reads, from "containerd
 * --version". containerd 1.6 takes a version 3 file without a word and
 * ignores its tables, so a wrong guess is silent: when containerd is not
 * on PATH or its answer is not understood, version 2 (which 2.x still
 * reads, converted) is used and note says why.
 */
static unsigned
containerd_version(char *note, size_t n)
{
	char *const argv[] = { "containerd", "--version", NULL };
	unsigned version = 2;
	struct buf out;
	int status = 1, r;

	buf_init(&out, 1u << 16);
	r = fb_run(argv, FB_RUN_TIMEOUT, &out, &status);
	if (r == -ENOENT)
		snprintf(note, n,
			 "config version 2 (containerd is not on "
			 "PATH)");
	else if (r < 0 || status != 0 ||
		 ctrconf_version_for(out.data ? out.data : "", out.len,
				     &version) < 0)
		snprintf(note, n,
			 "config version 2 (containerd --version not "
			 "understood)");
	else
		snprintf(note, n, "config version %u (containerd %s)", version,
			 version == 3 ? "2.x" : "1.x");
	buf_done(&out);
	return version;
}

/*
 * docker's daemon.json: the keys the seeds set (systemd cgroup driver,
 * json-file logs with rotation, overlay2, registry mirrors) are set; any
 * other key already in the file is kept.
 */
static int
docker_conf(struct fb_exec *x, struct buf *b)
{
	const struct fb_payload *p = x->p;
	char *old = NULL, *text = NULL, opt[64], files[16];
	json_t *root = NULL, *mirrors = NULL;
	json_error_t jerr;
	size_t len = 0, i;
	int r;

	r = fb_get_file(x, FB_DOCKER_CONF, CONF_MAX, &old, &len);
	if (r < 0 && r != -ENOENT)
		return fb_msg(x, r, "read " FB_DOCKER_CONF ": %s",
			      strerror(-r));
	if (old != NULL && len > 0)
		root = json_loadb(old, len, 0, &jerr);
	if (root != NULL && !json_is_object(root)) {
		json_decref(root);
		root = NULL;
	}
	if (root == NULL && old != NULL && len > 0)
		log_warn("runtime: " FB_DOCKER_CONF
			 " is not a JSON object; it is replaced");
	if (root == NULL)
		root = json_object();
	snprintf(opt, sizeof(opt), "native.cgroupdriver=%s",
		 p->runtime.cgroup_driver);
	snprintf(files, sizeof(files), "%u", p->runtime.log_max_files);
	r = -ENOMEM;
	if (root == NULL ||
	    json_object_set_new(root, "exec-opts", json_pack("[s]", opt)) < 0 ||
	    json_object_set_new(root, "log-driver", json_string("json-file")) <
		    0 ||
	    json_object_set_new(root, "log-opts",
				json_pack("{s:s, s:s}", "max-size",
					  p->runtime.log_max_size, "max-file",
					  files)) < 0 ||
	    json_object_set_new(root, "storage-driver",
				json_string(p->runtime.storage_driver)) < 0)
		goto out;
	if (p->runtime.nmirrors > 0) {
		mirrors = json_array();
		for (i = 0; mirrors && i < p->runtime.nmirrors; i++)
			if (json_array_append_new(
				    mirrors,
				    json_string(p->runtime.mirrors[i])) < 0)
				goto out;
		if (json_object_set_new(root, "registry-mirrors", mirrors) < 0)
			goto out;
		mirrors = NULL;
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text == NULL)
		goto out;
	r = buf_printf(b, "%s\n", text);
out:
	free(text);
	free(old);
	json_decref(mirrors);
	json_decref(root);
	return r;
}

/* Keep a pre-existing configuration that differs once, as PATH.orig. */
static int
keep_original(struct fb_exec *x, const char *abs, const struct buf *want)
{
	char orig[PATH_MAX];
	char *old = NULL;
	size_t len = 0;
	bool changed;
	int r;

	if (snprintf(orig, sizeof(orig), "%s.orig", abs) >= (int)sizeof(orig))
		return -ENAMETOOLONG;
	if (fb_exists(x, orig))
		return 0;
	r = fb_get_file(x, abs, CONF_MAX, &old, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (len != want->len || memcmp(old, want->data, len) != 0)
		r = fb_put_file(x, orig, old, len, 0644, &changed);
	free(old);
	return r;
}

static int
systemctl(struct fb_exec *x, const char *verb, const char *unit, bool must)
{
	char *const argv[] = { "systemctl", (char *)verb, (char *)unit, NULL };
	char *const qv[] = { "systemctl", (char *)verb, "--quiet", (char *)unit,
			     NULL };
	int status = 1, r;

	if (must)
		return fb_must(x, argv, FB_RUN_TIMEOUT);
	r = fb_run(qv, FB_RUN_TIMEOUT, NULL, &status);
	if (r < 0)
		return r;
	return status == 0 ? 0 : 1;
}

/*
 * One configuration file and the service that reads it: the file is
 * written when it differs (a different original kept once as PATH.orig).
 * Returns 0 with *ret_changed, or sets x->msg and returns a negative errno.
 */
static int
runtime_conf(struct fb_exec *x, const char *conf, const struct buf *b,
	     bool *ret_changed)
{
	int r;

	r = keep_original(x, conf, b);
	if (r < 0)
		return fb_msg(x, r, "keep %s.orig: %s", conf, strerror(-r));
	r = fb_put_file(x, conf, b->data, b->len, 0644, ret_changed);
	if (r < 0)
		return fb_msg(x, r, "write %s: %s", conf, strerror(-r));
	return 0;
}

/*
 * Restart unit when its configuration changed or it is not active, and
 * check that it is active then. Returns 0 with *ret_restarted, or a
 * negative errno with x->msg set.
 */
static int
runtime_restart(struct fb_exec *x, const char *unit, bool changed,
		bool *ret_restarted)
{
	int r;

	*ret_restarted = false;
	if (!changed && systemctl(x, "is-active", unit, false) == 0)
		return 0;
	r = systemctl(x, "restart", unit, true);
	if (r < 0)
		return r;
	if (systemctl(x, "is-active", unit, false) != 0)
		return fb_msg(x, -EIO, "%s is not active after a restart",
			      unit);
	*ret_restarted = true;
	return 0;
}

/*
 * With no mirrors, a hosts.toml this agent wrote (CTRCONF_MARK) is
 * removed; one written by someone else is left alone. *ret_what is
 * "removed" or NULL.
 */
static int
hosts_remove(struct fb_exec *x, const char **ret_what)
{
	char path[PATH_MAX];
	char *old = NULL;
	size_t len = 0;
	int r;

	r = fb_get_file(x, CTRCONF_HOSTS_TOML, CONF_MAX, &old, &len);
	if (r == -ENOENT)
		return 0;
	if (r == 0 && strncmp(old, CTRCONF_MARK, strlen(CTRCONF_MARK)) == 0) {
		r = fb_path(x, CTRCONF_HOSTS_TOML, path);
		if (r == 0 && unlink(path) < 0)
			r = -errno;
		if (r == 0)
			*ret_what = "removed";
	}
	free(old);
	if (r < 0)
		return fb_msg(x, r, "remove " CTRCONF_HOSTS_TOML ": %s",
			      strerror(-r));
	return 0;
}

/*
 * docker.io's mirrors as CTRCONF_HOSTS_TOML (config_path's form; the
 * registry.mirrors table is deprecated). containerd reads hosts.toml at
 * each pull, so a change needs no restart. *ret_what is "written",
 * "unchanged", "removed" or NULL (nothing to do).
 */
static int
containerd_hosts(struct fb_exec *x, const char **ret_what)
{
	const struct fb_payload *p = x->p;
	bool changed = false;
	struct buf b;
	int r;

	*ret_what = NULL;
	if (p->runtime.nmirrors == 0)
		return hosts_remove(x, ret_what);
	buf_init(&b, CONF_MAX);
	r = ctrconf_hosts_toml((const char *const *)p->runtime.mirrors,
			       p->runtime.nmirrors, &b);
	if (r < 0)
		r = fb_msg(x, r, CTRCONF_HOSTS_TOML ": %s", strerror(-r));
	else
		r = runtime_conf(x, CTRCONF_HOSTS_TOML, &b, &changed);
	buf_done(&b);
	if (r == 0)
		*ret_what = changed ? "written" : "unchanged";
	return r;
}

/*
 * Restart each of the n units whose configuration changed or which is not
 * active (with systemctl; without it, a note), appending what happened to
 * note (FB_MSG_LEN bytes, *len used). 0 or a negative errno with x->msg.
 */
static int
runtime_restarts(struct fb_exec *x, const char *const *confs,
		 const char *const *units, const bool *changed, size_t n,
		 char *note, size_t *len)
{
	bool have = fb_have("systemctl"), restarted;
	size_t i;
	int r, w;

	for (i = 0; i < n; i++) {
		restarted = false;
		if (have) {
			r = runtime_restart(x, units[i], changed[i],
					    &restarted);
			if (r < 0)
				return r;
		}
		w = snprintf(note + *len, FB_MSG_LEN - *len, "; %s %s; %s%s%s",
			     confs[i], changed[i] ? "written" : "unchanged",
			     have ? "" : "no systemctl, ", units[i],
			     !have	 ? " not restarted"
			     : restarted ? " restarted"
					 : " already running");
		if (w < 0 || (size_t)w >= FB_MSG_LEN - *len)
			break; /* a cut note is still a note */
		*len += (size_t)w;
	}
	return 0;
}

/*
 * runtime: the container runtime's configuration is written when it
 * differs, and the runtime restarted when it changed or is not active
 * (with systemctl; without it the restart is skipped with a note).
 *
 * kubelet's CRI endpoint is containerd's with either kind (docker.io runs
 * on containerd, and there is no dockershim since Kubernetes 1.24), so
 * containerd's CRI plugin is configured in both cases; the docker kind
 * also gets daemon.json, and docker is restarted after containerd.
 */
int
fb_step_runtime(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	const char *const confs[] = { FB_CONTAINERD_CONF, FB_DOCKER_CONF };
	const char *const units[] = { "containerd", "docker" };
	size_t n = p->runtime.kind == FB_RUNTIME_DOCKER ? 2 : 1, i, len;
	bool changed[2] = { false, false };
	const char *hosts = NULL;
	char note[FB_MSG_LEN];
	unsigned version;
	struct buf b;
	int r = 0;

	version = containerd_version(note, sizeof(note));
	len = strlen(note);
	buf_init(&b, CONF_MAX);
	for (i = 0; r == 0 && i < n; i++) {
		buf_done(&b);
		r = i == 0 ? containerd_conf(p, version, &b)
			   : docker_conf(x, &b);
		if (r < 0) {
			if (x->msg[0] == '\0')
				fb_msg(x, r, "%s: %s", confs[i], strerror(-r));
			goto out;
		}
		r = runtime_conf(x, confs[i], &b, &changed[i]);
	}
	if (r == 0)
		r = containerd_hosts(x, &hosts);
	if (r == 0)
		r = runtime_restarts(x, confs, units, changed, n, note, &len);
	if (r < 0)
		goto out;
	if (hosts != NULL)
		snprintf(note + len, sizeof(note) - len, "; hosts.toml %s",
			 hosts);
	fb_msg(x, 0, "%s", note);
out:
	buf_done(&b);
	return r;
}

/*
 * pki: every payload file is installed with its mode when its content or
 * mode differs (private keys are 0600 before their first byte lands).
 */
int
fb_step_pki(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	size_t i, written = 0;
	bool changed;
	int r;

	for (i = 0; i < p->nfiles; i++) {
		const struct fb_file *f = &p->files[i];

		r = fb_put_file(x, f->path, f->content, f->len, f->mode,
				&changed);
		if (r < 0)
			return fb_msg(x, r, "install %s: %s", f->path,
				      strerror(-r));
		written += changed;
	}
	fb_msg(x, 0, "%zu file(s), %zu written", p->nfiles, written);
	return 0;
}

/*
 * The standalone kubelet's KubeletConfiguration, emitted with libyaml
 * (common/yemit.h) after a comment line: no payload value can become YAML
 * structure. Returns 0, -ENOMEM or -E2BIG (out's cap).
 */
static int
etcd_kubelet_conf(const struct fb_payload *p, const char *sock, struct buf *out)
{
	struct yemit *y;
	int r;

	r = buf_puts(out, "# Written by metalboot-firstboot: the kubelet of "
			  "an external etcd member.\n");
	if (r < 0)
		return r;
	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);
	yemit_kv_str(y, "apiVersion", "kubelet.config.k8s.io/v1beta1");
	yemit_kv_str(y, "kind", "KubeletConfiguration");
	yemit_str(y, "authentication");
	yemit_map_start(y, false);
	yemit_str(y, "anonymous");
	yemit_map_start(y, false);
	yemit_kv_bool(y, "enabled", false);
	yemit_map_end(y);
	yemit_str(y, "webhook");
	yemit_map_start(y, false);
	yemit_kv_bool(y, "enabled", false);
	yemit_map_end(y);
	yemit_map_end(y);
	yemit_str(y, "authorization");
	yemit_map_start(y, false);
	yemit_kv_str(y, "mode", "AlwaysAllow");
	yemit_map_end(y);
	yemit_kv_str(y, "cgroupDriver", p->runtime.cgroup_driver);
	yemit_kv_str(y, "address", "127.0.0.1");
	yemit_kv_str(y, "containerRuntimeEndpoint", sock);
	yemit_kv_str(y, "staticPodPath", "/etc/kubernetes/manifests");
	/* As the builder's cloud-init copy: swap left on needs saying so. */
	if (!p->swap_off)
		yemit_kv_bool(y, "failSwapOn", false);
	yemit_map_end(y);
	r = yemit_finish(y);
	yemit_free(y);
	return r;
}

/*
 * An external etcd member is a static pod run by a kubelet that belongs to
 * no cluster: kubeadm's "external etcd with kubeadm" procedure gives that
 * kubelet its own configuration and a unit drop-in taking precedence over
 * kubeadm's, then restarts it, before "kubeadm init phase etcd local".
 */
static int
etcd_kubelet(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	const char *sock = p->runtime.cri_socket != NULL
				   ? p->runtime.cri_socket
				   : FB_CRI_SOCKET_DEFAULT;
	bool c1 = false, c2 = false;
	struct buf conf, unit;
	int r;

	buf_init(&conf, 8192);
	buf_init(&unit, 8192);
	r = etcd_kubelet_conf(p, sock, &conf);
	if (r == 0)
		r = buf_puts(&unit, "# Written by metalboot-firstboot.\n"
				    "[Service]\n"
				    "ExecStart=\n"
				    "ExecStart=/usr/bin/kubelet "
				    "--config=" FB_ETCD_KUBELET "\n"
				    "Restart=always\n");
	if (r == 0)
		r = fb_put_file(x, FB_ETCD_KUBELET, conf.data, conf.len, 0644,
				&c1);
	if (r == 0)
		r = fb_put_file(x, FB_ETCD_DROPIN, unit.data, unit.len, 0644,
				&c2);
	if (r < 0) {
		r = fb_msg(x, r, "write " FB_KUBELET_DROPIN ": %s",
			   strerror(-r));
		goto out;
	}
	if (!fb_have("systemctl"))
		goto out;
	if (c1 || c2) {
		char *const reload[] = { "systemctl", "daemon-reload", NULL };

		r = fb_must(x, reload, FB_RUN_TIMEOUT);
		if (r == 0)
			r = systemctl(x, "restart", "kubelet", true);
	} else if (systemctl(x, "is-active", "kubelet", false) != 0) {
		r = systemctl(x, "restart", "kubelet", true);
	}
out:
	buf_done(&conf);
	buf_done(&unit);
	return r;
}

/*
 * kubelet: enabled with systemctl unless it is already; on an external
 * etcd member, its standalone configuration is installed first.
 */
int
fb_step_kubelet(struct fb_exec *x)
{
	int r;

	if (x->p->kubeadm.action == FB_ACTION_ETCD) {
		r = etcd_kubelet(x);
		if (r < 0)
			return r;
	}
	if (!fb_have("systemctl")) {
		fb_msg(x, 0, "no systemctl; kubelet not enabled here");
		return 0;
	}
	if (systemctl(x, "is-enabled", "kubelet", false) == 0) {
		fb_msg(x, 0, "kubelet already enabled");
		return 0;
	}
	r = systemctl(x, "enable", "kubelet", true);
	if (r < 0)
		return r;
	if (systemctl(x, "is-enabled", "kubelet", false) != 0)
		return fb_msg(x, -EIO,
			      "kubelet is not enabled after "
			      "systemctl enable");
	fb_msg(x, 0, "kubelet enabled");
	return 0;
}
