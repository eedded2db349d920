/*
 * steps_kube.c - waiting for the API, kubeadm, the admin kubeconfig, the
 * CNI manifest and node readiness.
 */
#include "exec.h"

#include "fsutil.h"
#include "log.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What kubeadm leaves behind when an action has completed. */
static const char *
kubeadm_done_file(const struct fb_payload *p)
{
	return p->kubeadm.action == FB_ACTION_ETCD ? FB_ETCD_MANIFEST
						   : FB_KUBELET_CONF;
}

/*
 * wait-api: joiners wait, bounded and with backoff, until the API server's
 * /readyz answers 200 over TLS verified with the cluster CA.
 */
int
fb_step_wait_api(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	struct fb_tls tls = { .ca_pem = p->kubeadm.wait_ca };
	char err[FB_FETCH_ERR_LEN];
	double start = fb_now();
	struct buf body;
	int r;

	/* A node that has joined already needs no API to be up. */
	if (fb_exists(x, kubeadm_done_file(p))) {
		fb_msg(x, 0, "already joined");
		return 0;
	}
	buf_init(&body, 1u << 20);
	r = fb_fetch_until_ok(p->kubeadm.wait_url, &tls,
			      p->kubeadm.wait_timeout, &body, err);
	buf_done(&body);
	if (r == -EPERM)
		return fb_msg(x, r, "%s: certificate refused: %s",
			      p->kubeadm.wait_url, err);
	if (r < 0)
		return fb_msg(x, r, "%s did not answer 200 within %us: %s",
			      p->kubeadm.wait_url, p->kubeadm.wait_timeout,
			      err);
	fb_msg(x, 0, "%s answered after %.0fs", p->kubeadm.wait_url,
	       fb_now() - start);
	return 0;
}

/*
 * With an external etcd, kubeadm init (and the API server it starts)
 * needs the etcd cluster up; the etcd nodes boot at the same time, so the
 * first control plane waits until one endpoint reports itself healthy
 * (etcd answers /health with 200 only when the cluster has a leader),
 * authenticating with the API server's etcd client certificate.
 */
static int
wait_external_etcd(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	char url[FB_MAX_URL_LEN + 16], err[FB_FETCH_ERR_LEN] = "";
	struct fb_tls tls = { .ca_file = ca,
			      .cert_file = cert,
			      .key_file = key };
	double end = fb_now() + FB_DEFAULT_WAIT;
	unsigned delay = x->poll_ms;
	struct buf body;
	size_t i = 0;
	long status;
	int r;

	if (fb_path(x, p->kubeadm.etcd_ca, ca) < 0 ||
	    fb_path(x, p->kubeadm.etcd_cert, cert) < 0 ||
	    fb_path(x, p->kubeadm.etcd_key, key) < 0)
		return fb_msg(x, -ENAMETOOLONG,
			      "etcd client files: path too "
			      "long");
	if (access(ca, R_OK) != 0 || access(cert, R_OK) != 0 ||
	    access(key, R_OK) != 0)
		return fb_msg(x, -ENOENT,
			      "external etcd: %s, %s or %s is missing",
			      p->kubeadm.etcd_ca, p->kubeadm.etcd_cert,
			      p->kubeadm.etcd_key);
	buf_init(&body, 1u << 16);
	for (;;) {
		const char *ep = p->kubeadm.etcd_endpoints[i];
		size_t len = strlen(ep);
		unsigned wait;

		snprintf(url, sizeof(url), "%.*s/health",
			 (int)(len > 0 && ep[len - 1] == '/' ? len - 1 : len),
			 ep);
		buf_done(&body);
		status = 0;
		r = fb_http_get(url, &tls, 10, &body, &status, err);
		if (r == 0 && status == 200) {
			log_info("kubeadm: external etcd %s is healthy", ep);
			r = 0;
			break;
		}
		if (r == -EPERM) {
			r = fb_msg(x, r, "%s: certificate refused: %s", url,
				   err);
			break;
		}
		log_debug("kubeadm: %s: %s", url, err);
		i = (i + 1) % p->kubeadm.netcd;
		if (i != 0)
			continue;
		wait = fb_backoff_next(&delay, FB_FETCH_BACKOFF_MAX);
		if (fb_now() + wait / 1000.0 > end) {
			r = fb_msg(x, -ETIMEDOUT,
				   "no external etcd endpoint was healthy "
				   "within %us (last: %s)",
				   FB_DEFAULT_WAIT, err);
			break;
		}
		fb_sleep_ms(wait);
	}
	buf_done(&body);
	return r;
}

/*
 * kubeadm join refuses a name whose Node object is still Ready: "a Node
 * with name X and status Ready already exists in the cluster". That is a
 * node without a state disk that rebooted before the control plane saw
 * it go: undo what the attempt left (kubeadm reset -f) and join again once
 * the Node is NotReady (the node-monitor grace period, 40 s by default).
 * The kubelet then takes the existing Node object over under the same
 * name, so no stale Node is left behind.
 */
#define FB_REJOIN_TRIES	  8
#define FB_REJOIN_WAIT_MS 15000

static bool
node_still_registered(const struct buf *out)
{
	static const char msg[] = "already exists in the cluster";

	return out->data != NULL &&
	       memmem(out->data, out->len, msg, sizeof(msg) - 1) != NULL;
}

static int
run_join(struct fb_exec *x, char *const join[], char *const reset[])
{
	int tries, r;

	for (tries = 1;; tries++) {
		r = fb_must(x, join, FB_KUBEADM_TIMEOUT);
		if (r == 0 || !node_still_registered(&x->output) ||
		    tries == FB_REJOIN_TRIES)
			return r;
		log_info("kubeadm join: this node's name is still registered "
			 "and Ready (a reboot without a state disk); kubeadm "
			 "reset -f, then join again in %d s (attempt %d of %d)",
			 FB_REJOIN_WAIT_MS / 1000, tries + 1, FB_REJOIN_TRIES);
		r = fb_must(x, reset, FB_KUBEADM_TIMEOUT);
		if (r < 0)
			return r;
		fb_sleep_ms(FB_REJOIN_WAIT_MS);
	}
}

/*
 * kubeadm: skipped when kubeadm's result is there already (kubelet.conf,
 * or etcd's manifest); else kubeadm.yaml is written 0600, an earlier
 * attempt that did not finish is undone with "kubeadm reset -f", and
 * kubeadm runs; its result must exist afterwards.
 */
int
fb_step_kubeadm(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	const char *done = kubeadm_done_file(p);
	char conf[PATH_MAX], dir[PATH_MAX];
	char *const reset[] = { "kubeadm", "reset", "-f", NULL };
	char *const init[] = { "kubeadm", "init", "--config", conf, NULL };
	char *const join[] = { "kubeadm", "join", "--config", conf, NULL };
	char *const etcd[] = { "kubeadm", "init",     "phase", "etcd",
			       "local",	  "--config", conf,    NULL };
	char *const *argv;
	bool changed;
	int r;

	if (fb_exists(x, done)) {
		fb_msg(x, 0, "%s exists: kubeadm %s ran already", done,
		       fb_action_name(p->kubeadm.action));
		return 0;
	}
	if (p->kubeadm.netcd > 0) {
		r = wait_external_etcd(x);
		if (r < 0)
			return r;
	}
	r = fb_path(x, FB_STATE_DIR, dir);
	if (r == 0)
		r = mkdir_p(dir, 0700);
	if (r == 0)
		r = fb_path(x, FB_KUBEADM_FILE, conf);
	if (r == 0)
		r = fb_put_file(x, FB_KUBEADM_FILE, p->kubeadm.config,
				p->kubeadm.config_len, 0600, &changed);
	if (r < 0)
		return fb_msg(x, r, "write " FB_KUBEADM_FILE ": %s",
			      strerror(-r));
	/*
	 * An attempt that failed or was cut short leaves manifests, certs
	 * and an etcd directory that make kubeadm's preflight refuse to run
	 * again; undo it first, as a person would.
	 */
	if (x->prev_state == FB_STATE_FAILED ||
	    x->prev_state == FB_STATE_RUNNING) {
		log_info("kubeadm: an earlier attempt did not finish; "
			 "kubeadm reset -f first");
		r = fb_must(x, reset, FB_KUBEADM_TIMEOUT);
		if (r < 0)
			return r;
	}
	switch (p->kubeadm.action) {
	case FB_ACTION_INIT:
		argv = init;
		break;
	case FB_ACTION_ETCD:
		argv = etcd;
		break;
	default:
		argv = join;
		break;
	}
	if (argv == join)
		r = run_join(x, join, reset);
	else
		r = fb_must(x, argv, FB_KUBEADM_TIMEOUT);
	if (r < 0)
		return r;
	if (!fb_exists(x, done))
		return fb_msg(x, -EIO, "kubeadm succeeded but %s is missing",
			      done);
	fb_msg(x, 0, "kubeadm %s done", fb_action_name(p->kubeadm.action));
	return 0;
}

/*
 * kubeconfig: the admin kubeconfig kubeadm wrote is copied for root, 0600.
 */
int
fb_step_kubeconfig(struct fb_exec *x)
{
	char dir[PATH_MAX];
	char *conf = NULL;
	size_t len = 0;
	bool changed;
	int r;

	r = fb_get_file(x, FB_ADMIN_CONF, 1u << 20, &conf, &len);
	if (r < 0)
		return fb_msg(x, r, "read " FB_ADMIN_CONF ": %s", strerror(-r));
	r = fb_path(x, "/root/.kube", dir);
	if (r == 0)
		r = mkdir_p(dir, 0700);
	if (r == 0)
		r = fb_put_file(x, FB_ROOT_KUBECONFIG, conf, len, 0600,
				&changed);
	explicit_bzero(conf, len);
	free(conf);
	if (r < 0)
		return fb_msg(x, r, "write " FB_ROOT_KUBECONFIG ": %s",
			      strerror(-r));
	fb_msg(x, 0, FB_ROOT_KUBECONFIG " %s",
	       changed ? "written" : "unchanged");
	return 0;
}

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	out[0] = '\0';
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/*
 * flannel's manifest carries its pod network in net-conf.json as
 * "Network": "10.244.0.0/16"; kubeadm's podSubnet must match it, so the
 * inventory's pod subnet replaces that value (after the digest check).
 */
static int
set_pod_subnet(const struct fb_payload *p, struct buf *m, bool *ret_changed)
{
	static const char key[] = "\"Network\": \"";
	char *at, *end;
	struct buf out;
	int r;

	*ret_changed = false;
	if (p->cluster.pod_subnet == NULL ||
	    strcmp(p->cni.name, "flannel") != 0 || m->data == NULL)
		return 0;
	at = strstr(m->data, key);
	if (at == NULL)
		return 0;
	at += strlen(key);
	end = strchr(at, '"');
	if (end == NULL)
		return 0;
	if ((size_t)(end - at) == strlen(p->cluster.pod_subnet) &&
	    memcmp(at, p->cluster.pod_subnet, (size_t)(end - at)) == 0)
		return 0;
	buf_init(&out, FB_MANIFEST_MAX + 64);
	r = buf_append(&out, m->data, (size_t)(at - m->data));
	if (r == 0)
		r = buf_puts(&out, p->cluster.pod_subnet);
	if (r == 0)
		r = buf_puts(&out, end);
	if (r < 0) {
		buf_done(&out);
		return r;
	}
	buf_done(m);
	*m = out;
	*ret_changed = true;
	return 0;
}

/*
 * cni: the manifest is downloaded, refused unless its sha256 matches the
 * payload's, given the cluster's pod subnet (flannel), kept in
 * /var/lib/metalboot/cni.yaml and applied with kubectl (idempotent).
 */
int
fb_step_cni(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	struct fb_tls tls = { 0 };
	char err[FB_FETCH_ERR_LEN], got[65], admin[PATH_MAX], file[PATH_MAX];
	char *const apply[] = { "kubectl", "--kubeconfig", admin, "apply",
				"-f",	   file,	   NULL };
	size_t ulen = p->server_url ? strlen(p->server_url) : 0;
	bool subnet = false, changed;
	struct buf m;
	int r;

	/* The provisioning server's own files are pinned to its CA. */
	if (p->has_server &&
	    strncmp(p->cni.manifest, p->server_url, ulen) == 0 &&
	    (p->cni.manifest[ulen] == '/' || p->cni.manifest[ulen] == '\0'))
		tls.ca_pem = p->server_ca;
	buf_init(&m, FB_MANIFEST_MAX);
	r = fb_fetch_until_ok(p->cni.manifest, &tls, FB_RUN_TIMEOUT, &m, err);
	if (r < 0) {
		r = fb_msg(x, r, "download %s: %s", p->cni.manifest, err);
		goto out;
	}
	sha256_hex(m.data ? m.data : "", m.len, got);
	if (strcmp(got, p->cni.sha256) != 0) {
		r = fb_msg(x, -EBADMSG,
			   "%s: sha256 %s does not match the expected %s; "
			   "refused",
			   p->cni.manifest, got, p->cni.sha256);
		goto out;
	}
	r = set_pod_subnet(p, &m, &subnet);
	if (r < 0)
		goto out;
	r = fb_put_file(x, FB_CNI_FILE, m.data ? m.data : "", m.len, 0644,
			&changed);
	if (r == 0)
		r = fb_path(x, FB_ADMIN_CONF, admin);
	if (r == 0)
		r = fb_path(x, FB_CNI_FILE, file);
	if (r < 0) {
		r = fb_msg(x, r, "write " FB_CNI_FILE ": %s", strerror(-r));
		goto out;
	}
	r = fb_must(x, apply, FB_RUN_TIMEOUT);
	if (r < 0)
		goto out;
	fb_msg(x, 0, "%s applied (sha256 ok%s)", p->cni.name,
	       subnet ? ", pod subnet set" : "");
out:
	buf_done(&m);
	return r;
}

/*
 * The failure at ready_timeout. Without a CNI no node ever gets Ready
 * (kubelet reports "network plugin not ready" until a network add-on
 * writes its configuration), so the message says that, and what to do.
 */
static int
not_ready(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;

	if (!p->cluster.cni_configured)
		return fb_msg(x, -ETIMEDOUT,
			      "node %s not Ready after %us: no CNI configured "
			      "(cluster.cni.manifest is not set in the "
			      "inventory); apply a network add-on with "
			      "kubectl, then rerun",
			      p->node.name, p->ready_timeout);
	return fb_msg(x, -ETIMEDOUT, "node %s not Ready after %us",
		      p->node.name, p->ready_timeout);
}

/*
 * ready: kubectl is asked, with backoff and within ready_timeout, for the
 * node's Ready condition until it is True. When the cluster has no CNI,
 * the failure says so (not_ready).
 */
int
fb_step_ready(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	const char *kc = p->node.role == FB_ROLE_WORKER ? FB_KUBELET_CONF
							: FB_ADMIN_CONF;
	char conf[PATH_MAX];
	char *const argv[] = {
		"kubectl",
		"--kubeconfig",
		conf,
		"get",
		"node",
		p->node.name,
		"-o",
		"jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
		NULL,
	};
	double start = fb_now(), end = start + p->ready_timeout;
	unsigned delay = x->poll_ms;
	struct buf out;
	int r, status;

	r = fb_path(x, kc, conf);
	if (r < 0)
		return r;
	buf_init(&out, 1u << 20);
	for (;;) {
		unsigned wait;

		buf_done(&out);
		status = 1;
		r = fb_run(argv, FB_RUN_TIMEOUT, &out, &status);
		if (r == -ENOENT) {
			r = fb_msg(x, r, "kubectl: not found on PATH");
			goto out;
		}
		if (r == 0 && status == 0 && out.data != NULL &&
		    strncmp(out.data, "True", 4) == 0) {
			fb_msg(x, 0, "node %s Ready after %.0fs", p->node.name,
			       fb_now() - start);
			r = 0;
			goto out;
		}
		wait = fb_backoff_next(&delay, 10000);
		if (fb_now() + wait / 1000.0 > end) {
			r = not_ready(x);
			goto out;
		}
		fb_sleep_ms(wait);
	}
out:
	buf_done(&out);
	return r;
}

/* done: nothing left to do; the event marks the end of the run. */
int
fb_step_done(struct fb_exec *x)
{
	fb_msg(x, 0, "node %s (%s) is configured", x->p->node.name,
	       fb_role_name(x->p->node.role));
	return 0;
}
