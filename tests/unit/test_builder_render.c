/*
 * test_builder_render.c - every renderer on the four example inventories,
 * parsed back with common/yload.h, and hostile inventory values that must
 * come out as data.
 */
#include "render.h"

#include "fsutil.h"
#include "net.h"
#include "yload.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define EXAMPLES MB_SOURCE_DIR "/profiles/examples"

struct fixture {
	struct inventory *inv;
	struct pki pki;
	struct render_ctx rc;
};

static void
fixture_from_text(struct fixture *f, const char *name, const char *text,
		  size_t len)
{
	struct diags d;
	int r;

	memset(f, 0, sizeof(*f));
	diags_init(&d);
	r = inventory_parse(name, text, len, MB_SOURCE_DIR "/profiles", &f->inv,
			    &d);
	if (r < 0)
		diags_print(&d, stderr);
	assert_int_equal(r, 0);
	assert_int_equal(
		pki_prepare(&f->pki, f->inv, NULL, false, time(NULL), &d), 0);
	diags_done(&d);
	assert_int_equal(render_ctx_init(&f->rc, f->inv, &f->pki, NULL, NULL),
			 0);
}

static void
fixture_load(struct fixture *f, const char *example)
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s.yaml", EXAMPLES, example);
	assert_int_equal(read_file(path, 1u << 20, &text, &len), 0);
	fixture_from_text(f, path, text, len);
	free(text);
}

static void
fixture_done(struct fixture *f)
{
	render_ctx_done(&f->rc);
	pki_done(&f->pki);
	inventory_free(f->inv);
}

static struct ydoc *
parse(const char *what, const char *data, size_t len)
{
	struct ydoc *doc = NULL;
	struct yerror err;

	if (ydoc_parse(what, data, len, &doc, &err) < 0)
		fail_msg("%s:%u:%u: %s\n%s", what, err.line, err.col, err.msg,
			 data);
	assert_non_null(doc->root);
	return doc;
}

static const char *
str_at(const struct ynode *n, const char *path)
{
	char key[128];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		n = ynode_get(n, key);
		if (n == NULL)
			return NULL;
		path = dot + 1;
	}
	n = ynode_get(n, path);
	return n != NULL && n->type == YNODE_SCALAR ? n->str : NULL;
}

/* Only keys from allowed in mapping m (formats.md: readers refuse others). */
static void
check_keys(const struct ynode *m, const char *const *allowed)
{
	size_t i, j;

	assert_int_equal(m->type, YNODE_MAP);
	for (i = 0; i < m->n; i++) {
		const char *k = m->items[2 * i]->str;
		bool ok = false;

		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(k, allowed[j]) == 0)
				ok = true;
		if (!ok)
			fail_msg("unexpected key '%s'", k);
	}
}

/* Split kubeadm.yaml at "---" lines and parse each document. */
static size_t
kubeadm_docs(const struct buf *b, struct ydoc **docs, size_t max)
{
	const char *p = b->data, *end = b->data + b->len;
	size_t n = 0;

	while (p < end && n < max) {
		const char *sep = strstr(p, "\n---\n");
		size_t len = sep ? (size_t)(sep - p) + 1 : (size_t)(end - p);

		docs[n++] = parse("kubeadm.yaml", p, len);
		p += len + (sep ? 4 : 0);
	}
	return n;
}

static void
check_kubeadm(struct fixture *f, size_t n)
{
	const struct inventory *inv = f->inv;
	const struct inv_node *node = &inv->nodes[n];
	const char *action = render_action(&f->rc, n);
	const char *api = inv->cluster.kv_minor >= 31
				  ? "kubeadm.k8s.io/v1beta4"
				  : "kubeadm.k8s.io/v1beta3";
	struct ydoc *docs[4] = { 0 };
	const struct ynode *nr, *args;
	struct buf b;
	size_t nd, i;

	buf_init(&b, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f->rc, n, &b), 0);
	nd = kubeadm_docs(&b, docs, 4);
	assert_string_equal(str_at(docs[0]->root, "apiVersion"), api);
	nr = ynode_get(docs[0]->root, "nodeRegistration");
	assert_non_null(nr);
	assert_string_equal(str_at(nr, "name"), node->name);
	args = ynode_get(nr, "kubeletExtraArgs");
	assert_non_null(args);
	if (inv->cluster.kv_minor >= 31) {
		/* v1beta4: a list of {name, value}. */
		assert_int_equal(args->type, YNODE_SEQ);
		assert_string_equal(str_at(args->items[0], "name"), "node-ip");
	} else {
		assert_int_equal(args->type, YNODE_MAP);
		assert_non_null(str_at(args, "node-ip"));
	}
	if (strcmp(action, "init") == 0 || strcmp(action, "etcd") == 0) {
		assert_int_equal(nd, 3);
		assert_string_equal(str_at(docs[0]->root, "kind"),
				    "InitConfiguration");
		assert_string_equal(str_at(docs[1]->root, "kind"),
				    "ClusterConfiguration");
		assert_string_equal(str_at(docs[1]->root, "kubernetesVersion"),
				    inv->cluster.kubernetes_version);
		assert_string_equal(str_at(docs[2]->root, "kind"),
				    "KubeletConfiguration");
		assert_string_equal(str_at(docs[2]->root, "cgroupDriver"),
				    "systemd");
	}
	if (strcmp(action, "init") == 0) {
		const struct ynode *bt =
			ynode_get(docs[0]->root, "bootstrapTokens");

		assert_string_equal(str_at(bt->items[0], "token"),
				    f->pki.token);
		assert_string_equal(str_at(docs[0]->root, "certificateKey"),
				    f->pki.cert_key);
		assert_string_equal(str_at(bt->items[0], "ttl"), "24h0m0s");
		if (inv->cluster.etcd == ETCD_EXTERNAL) {
			const struct ynode *ep = ynode_get(
				ynode_get(ynode_get(docs[1]->root, "etcd"),
					  "external"),
				"endpoints");

			assert_non_null(ep);
			assert_int_equal(ep->n,
					 inventory_count_role(inv, ROLE_ETCD));
		} else {
			assert_non_null(
				str_at(docs[1]->root, "etcd.local.dataDir"));
		}
		if (node->taints_set && node->taints.n == 0) {
			const struct ynode *t = ynode_get(nr, "taints");

			assert_non_null(t);
			assert_int_equal(t->type, YNODE_SEQ);
			assert_int_equal(t->n, 0);
		}
	} else if (strcmp(action, "etcd") == 0) {
		assert_non_null(ynode_get(
			ynode_get(ynode_get(docs[1]->root, "etcd"), "local"),
			"extraArgs"));
	} else {
		const struct ynode *h;

		assert_int_equal(nd, 1);
		assert_string_equal(str_at(docs[0]->root, "kind"),
				    "JoinConfiguration");
		assert_string_equal(
			str_at(docs[0]->root, "discovery.bootstrapToken.token"),
			f->pki.token);
		h = ynode_get(ynode_get(ynode_get(docs[0]->root, "discovery"),
					"bootstrapToken"),
			      "caCertHashes");
		assert_string_equal(h->items[0]->str, f->pki.discovery_hash);
		if (strcmp(action, "join-control-plane") == 0) {
			assert_non_null(str_at(docs[0]->root,
					       "controlPlane.localAPIEndpoint."
					       "advertiseAddress"));
			assert_string_equal(
				str_at(docs[0]->root,
				       "controlPlane.certificateKey"),
				f->pki.cert_key);
			/* The shared keys come with firstboot.yaml. */
			assert_string_equal(
				ynode_get(docs[0]->root, "skipPhases")
					->items[0]
					->str,
				"control-plane-prepare/download-certs");
		} else
			assert_null(ynode_get(docs[0]->root, "controlPlane"));
	}
	for (i = 0; i < nd; i++)
		ydoc_free(docs[i]);
	buf_done(&b);
}

static const char *const fb_keys[] = { "version",
				       "control_plane_vip",
				       "node",
				       "cluster",
				       "server",
				       "hosts",
				       "kernel_modules",
				       "sysctls",
				       "swap_off",
				       "selinux",
				       "firewall",
				       "container_runtime",
				       "files",
				       "kubeadm",
				       "cni",
				       "ready_timeout",
				       NULL };
static const char *const fb_node_keys[] = { "name", "role", "mac", "ip", NULL };
static const char *const fb_cluster_keys[] = {
	"name",		  "kubernetes_version", "endpoint", "pod_subnet",
	"service_subnet", "cni_configured",	NULL
};
static const char *const fb_kubeadm_keys[] = { "action", "config", "wait_for",
					       NULL };
static const char *const fb_runtime_keys[] = {
	"kind",		 "cgroup_driver",  "log_max_size",
	"log_max_files", "storage_driver", "registry_mirrors",
	"cri_socket",	 "sandbox_image",  NULL
};

static void
check_firstboot(struct fixture *f, size_t n)
{
	const struct inv_node *node = &f->inv->nodes[n];
	const char *action = render_action(&f->rc, n);
	struct buf k, b;
	struct ydoc *doc;
	const struct ynode *files, *kb, *hosts;
	size_t i;
	bool has_ca_key = false;

	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&b, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f->rc, n, &k), 0);
	assert_int_equal(render_firstboot(&f->rc, n, k.data, k.len, &b), 0);
	doc = parse("firstboot.yaml", b.data, b.len);
	check_keys(doc->root, fb_keys);
	check_keys(ynode_get(doc->root, "node"), fb_node_keys);
	check_keys(ynode_get(doc->root, "cluster"), fb_cluster_keys);
	check_keys(ynode_get(doc->root, "kubeadm"), fb_kubeadm_keys);
	check_keys(ynode_get(doc->root, "container_runtime"), fb_runtime_keys);
	assert_string_equal(str_at(doc->root, "version"), "1");
	assert_string_equal(str_at(doc->root, "node.name"), node->name);
	assert_string_equal(str_at(doc->root, "node.role"),
			    role_name(node->role));
	assert_string_equal(str_at(doc->root, "server.ca"),
			    f->pki.prov_ca.cert_pem);
	/* The agent's ready step explains a NotReady node without a CNI. */
	assert_string_equal(str_at(doc->root, "cluster.cni_configured"),
			    f->rc.cni_manifest_url != NULL ? "true" : "false");
	hosts = ynode_get(doc->root, "hosts");
	assert_int_equal(hosts->n, f->inv->nnodes);
	assert_string_equal(str_at(doc->root, "kubeadm.action"), action);
	assert_string_equal(str_at(doc->root, "kubeadm.config"), k.data);
	kb = ynode_get(doc->root, "kubeadm");
	if (strncmp(action, "join", 4) == 0) {
		assert_non_null(ynode_get(kb, "wait_for"));
		assert_string_equal(str_at(kb, "wait_for.ca"),
				    f->pki.ca.cert_pem);
	} else {
		assert_null(ynode_get(kb, "wait_for"));
	}
	if (node == f->rc.first_cp)
		assert_non_null(ynode_get(doc->root, "cni"));
	else
		assert_null(ynode_get(doc->root, "cni"));
	files = ynode_get(doc->root, "files");
	for (i = 0; i < files->n; i++) {
		const char *path = str_at(files->items[i], "path");

		if (strcmp(path, "/etc/kubernetes/pki/ca.key") == 0)
			has_ca_key = true;
	}
	switch (node->role) {
	case ROLE_WORKER:
		/* A worker holds no private key at all. */
		assert_int_equal(files->n, 1);
		assert_null(strstr(b.data, "PRIVATE KEY"));
		break;
	case ROLE_CONTROL_PLANE:
		assert_true(has_ca_key);
		break;
	default:
		assert_false(has_ca_key);
		assert_non_null(strstr(b.data, "/etc/kubernetes/pki/etcd/"
					       "server.key"));
		break;
	}
	ydoc_free(doc);
	buf_done_secure(&k);
	buf_done_secure(&b);
}

static void
check_cloud_init(struct fixture *f, size_t n)
{
	struct buf k, ud, md, net;
	struct ydoc *doc;
	const struct ynode *wf;
	size_t i;
	bool found = false;

	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&ud, RENDER_MAX_PAYLOAD);
	buf_init(&md, RENDER_MAX_PAYLOAD);
	buf_init(&net, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f->rc, n, &k), 0);
	assert_int_equal(render_user_data(&f->rc, n, k.data, k.len,
					  RENDER_SEED_LOCAL, &ud),
			 0);
	assert_int_equal(strncmp(ud.data, "#cloud-config\n", 14), 0);
	doc = parse("user-data", ud.data, ud.len);
	assert_string_equal(str_at(doc->root, "hostname"),
			    f->inv->nodes[n].name);
	wf = ynode_get(doc->root, "write_files");
	for (i = 0; i < wf->n; i++)
		if (strcmp(str_at(wf->items[i], "path"), RENDER_KUBEADM_PATH) ==
		    0) {
			assert_string_equal(str_at(wf->items[i], "content"),
					    k.data);
			assert_string_equal(str_at(wf->items[i], "permissions"),
					    "0600");
			found = true;
		}
	assert_true(found);
	assert_non_null(ynode_get(doc->root, "runcmd"));
	ydoc_free(doc);

	assert_int_equal(render_meta_data(&f->rc, n, "abc", &md), 0);
	doc = parse("meta-data", md.data, md.len);
	assert_string_equal(str_at(doc->root, "local-hostname"),
			    f->inv->nodes[n].name);
	assert_non_null(strstr(str_at(doc->root, "instance-id"), "abc"));
	ydoc_free(doc);

	assert_int_equal(render_network_config(&f->rc, n, &net), 0);
	doc = parse("network-config", net.data, net.len);
	assert_string_equal(str_at(doc->root, "version"), "2");
	assert_non_null(
		str_at(doc->root, "ethernets.primary.match.macaddress"));
	ydoc_free(doc);
	buf_done_secure(&k);
	buf_done_secure(&ud);
	buf_done(&md);
	buf_done(&net);
}

/* Find path among a user-data's write_files; NULL when absent. */
static const struct ynode *
wf_find(const struct ynode *wf, const char *path)
{
	size_t i;

	for (i = 0; i < wf->n; i++)
		if (strcmp(str_at(wf->items[i], "path"), path) == 0)
			return wf->items[i];
	return NULL;
}

/*
 * NoCloud-net's user-data goes out over plain HTTP: no private key, no
 * token, no certificate key, no kubeadm.yaml; the provisioning CA and a
 * first runcmd step that fetches the bundle over HTTPS pinned to it.
 * Every file the ISO's user-data writes is in one of the two, and the
 * bundle holds exactly the ones left out, 0600.
 */
static void
check_cloud_init_net(struct fixture *f, size_t n)
{
	struct buf k, local, net, tar;
	struct ydoc *dl, *dn;
	const struct ynode *wl, *wn, *first;
	struct archive *a;
	struct archive_entry *e;
	char url[128], mac[MAC_STR_LEN], ip[IPV4_STR_LEN], body[8192];
	size_t i, nsecret = 0, nin = 0;

	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&local, RENDER_MAX_PAYLOAD);
	buf_init(&net, RENDER_MAX_PAYLOAD);
	buf_init(&tar, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f->rc, n, &k), 0);
	assert_int_equal(render_user_data(&f->rc, n, k.data, k.len,
					  RENDER_SEED_LOCAL, &local),
			 0);
	assert_int_equal(render_user_data(&f->rc, n, k.data, k.len,
					  RENDER_SEED_NET, &net),
			 0);
	assert_null(strstr(net.data, "PRIVATE KEY"));
	assert_null(strstr(net.data, f->pki.token));
	assert_null(strstr(net.data, f->pki.cert_key));
	/* The same check finds them where they are (not etcd members). */
	if (f->inv->nodes[n].role != ROLE_ETCD)
		assert_non_null(strstr(local.data, f->pki.token));
	dl = parse("user-data", local.data, local.len);
	dn = parse("user-data", net.data, net.len);
	wl = ynode_get(dl->root, "write_files");
	wn = ynode_get(dn->root, "write_files");
	assert_null(wf_find(wn, RENDER_KUBEADM_PATH));
	assert_string_equal(str_at(wf_find(wn, RENDER_PROV_CA_PATH), "content"),
			    f->pki.prov_ca.cert_pem);
	/* "set -e", the tools check, then the secrets: before all else. */
	assert_string_equal(ynode_get(dn->root, "runcmd")->items[0]->str,
			    "set -e");
	first = ynode_get(dn->root, "runcmd")->items[1];
	assert_non_null(strstr(first->items[2]->str, "command -v"));
	first = ynode_get(dn->root, "runcmd")->items[2];
	ipv4_format(f->inv->network.server_ip, ip);
	mac_format(f->inv->nodes[n].mac, mac);
	snprintf(url, sizeof(url), "https://%s:443/v1/nodes/%s/secrets", ip,
		 mac);
	assert_string_equal(first->items[0]->str, "sh");
	assert_non_null(
		strstr(first->items[2]->str, "--cacert " RENDER_PROV_CA_PATH));
	assert_non_null(strstr(first->items[2]->str, "command -v curl"));
	assert_string_equal(first->items[3]->str, url);
	for (i = 0; i < wl->n; i++)
		if (wf_find(wn, str_at(wl->items[i], "path")) == NULL)
			nsecret++;

	assert_int_equal(
		render_secret_bundle(&f->rc, n, k.data, k.len, 1000, &tar), 0);
	a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, tar.data, tar.len),
			 ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char path[256];
		const struct ynode *lf;
		la_ssize_t got;

		snprintf(path, sizeof(path), "/%s", archive_entry_pathname(e));
		assert_int_equal(archive_entry_perm(e), 0600);
		assert_int_equal(archive_entry_uid(e), 0);
		assert_int_equal(archive_entry_mtime(e), 1000);
		assert_null(wf_find(wn, path));
		lf = wf_find(wl, path);
		assert_non_null(lf);
		got = archive_read_data(a, body, sizeof(body) - 1);
		assert_true(got >= 0);
		body[got] = '\0';
		assert_string_equal(body, str_at(lf, "content"));
		nin++;
	}
	archive_read_free(a);
	assert_int_equal(nin, nsecret);
	assert_true(nin >= 1); /* kubeadm.yaml at least */
	ydoc_free(dl);
	ydoc_free(dn);
	buf_done_secure(&k);
	buf_done_secure(&local);
	buf_done(&net);
	buf_done_secure(&tar);
}

static void
check_example(const char *example)
{
	struct fixture f;
	struct buf b;
	struct ydoc *doc;
	size_t n;

	fixture_load(&f, example);
	for (n = 0; n < f.inv->nnodes; n++) {
		check_kubeadm(&f, n);
		check_firstboot(&f, n);
		check_cloud_init(&f, n);
		check_cloud_init_net(&f, n);
	}
	buf_init(&b, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_netboot(&f.rc, &b), 0);
	doc = parse("netboot.yaml", b.data, b.len);
	assert_string_equal(str_at(doc->root, "version"), "1");
	assert_string_equal(str_at(doc->root, "cluster"), f.inv->cluster.name);
	assert_string_equal(str_at(doc->root, "kubernetes_version"),
			    f.inv->cluster.kubernetes_version);
	assert_string_equal(str_at(doc->root, "http.cert"), "pki/netboot.crt");
	assert_int_equal(ynode_get(doc->root, "nodes")->n, f.inv->nnodes);
	assert_true(ynode_is_null(ynode_get(doc->root, "interface")));
	/* No provisioning.etcd: no store, the state files. */
	assert_null(ynode_get(doc->root, "store"));
	ydoc_free(doc);
	buf_done(&b);
	fixture_done(&f);
}

/*
 * provisioning.etcd becomes netboot.yaml's store.etcd: its endpoints, the
 * PKI's files by mode (relative to OUT) and the prefix when given.
 */
static void
check_store(const char *prov, const char *ca, const char *prefix,
	    const char *const *endpoints, size_t n)
{
	static const char *const store_keys[] = { "endpoints", "ca",	 "cert",
						  "key",       "prefix", NULL };
	char text[2048];
	const struct ynode *e, *l;
	struct fixture f;
	struct ydoc *doc;
	struct buf b;
	size_t i;

	snprintf(text, sizeof(text),
		 "cluster: {name: t, kubernetes_version: v1.31.1}\n"
		 "network: {server_ip: 10.0.0.1, subnet: 10.0.0.0/24}\n"
		 "provisioning: {etcd: %s}\n"
		 "nodes:\n"
		 "  - {name: c1, mac: '52:54:00:00:00:01', ip: 10.0.0.11, "
		 "role: control-plane}\n",
		 prov);
	fixture_from_text(&f, "t.yaml", text, strlen(text));
	buf_init(&b, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_netboot(&f.rc, &b), 0);
	doc = parse("netboot.yaml", b.data, b.len);
	check_keys(ynode_get(doc->root, "store"),
		   (const char *const[]){ "etcd", NULL });
	e = ynode_get(ynode_get(doc->root, "store"), "etcd");
	check_keys(e, store_keys);
	assert_string_equal(str_at(e, "ca"), ca);
	assert_string_equal(str_at(e, "cert"), "pki/netboot-etcd.crt");
	assert_string_equal(str_at(e, "key"), "pki/netboot-etcd.key");
	if (prefix != NULL)
		assert_string_equal(str_at(e, "prefix"), prefix);
	else
		assert_null(ynode_get(e, "prefix"));
	l = ynode_get(e, "endpoints");
	assert_int_equal(l->type, YNODE_SEQ);
	assert_int_equal(l->n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(l->items[i]->str, endpoints[i]);
	ydoc_free(doc);
	buf_done(&b);
	fixture_done(&f);
}

static void
test_netboot_store(void **state)
{
	static const char *const own[] = { "https://10.0.0.5:2379",
					   "https://etcd2.example:2379" };
	static const char *const cluster[] = { "https://10.0.0.11:2379" };

	(void)state;
	check_store("{endpoints: [https://10.0.0.5:2379, "
		    "https://etcd2.example:2379], prefix: /mb/lab}",
		    "pki/provisioning-etcd/ca.crt", "/mb/lab", own, 2);
	check_store("{cluster: true}", "pki/etcd/ca.crt", NULL, cluster, 1);
}

static void
test_single(void **state)
{
	(void)state;
	check_example("single");
}

static void
test_lab(void **state)
{
	(void)state;
	check_example("lab");
}

static void
test_ha_stacked(void **state)
{
	(void)state;
	check_example("ha-stacked");
}

static void
test_ha_external(void **state)
{
	(void)state;
	check_example("ha-external-etcd");
}

/*
 * Secure Boot: the common grub.cfg hands over by GRUB's MAC variable; a
 * node's file loads its role's kernel with the command line as quoted
 * words (nothing for GRUB to expand); netboot.yaml marks the node.
 */
static void
test_grub(void **state)
{
	struct fixture f;
	struct buf b;

	(void)state;
	fixture_load(&f, "lab");
	buf_init(&b, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_grub_main(&b), 0);
	assert_non_null(strstr(b.data,
			       "\tconfigfile "
			       "\"$prefix/nodes/$net_default_mac.cfg\"\n"));
	assert_non_null(strstr(b.data, "\nreboot\n"));
	buf_done(&b);
	assert_int_equal(render_grub(&f.rc, 1, &b), 0);
	assert_string_equal(
		b.data,
		"# metalboot: w1 (52:54:00:00:02:01), worker.\n"
		"# Secure Boot: shim verified this GRUB; GRUB has shim verify\n"
		"# the kernel. The initrd is not verified (docs/netboot.md,\n"
		"# \"Secure Boot\").\n"
		"set timeout=0\n"
		"for try in 1 2 3 4 5; do\n"
		"\techo \"metalboot: w1: loading the worker kernel and initrd "
		"(try $try)\"\n"
		"\tif linux /images/worker/vmlinuz 'console=ttyS0' "
		"'metalboot.server=https://192.168.100.1:443' "
		"'metalboot.mac=52:54:00:00:02:01'; then\n"
		"\t\tif initrd /images/worker/initrd.img; then\n"
		"\t\t\tboot\n"
		"\t\tfi\n"
		"\tfi\n"
		"\tsleep 3\n"
		"done\n"
		"echo \"metalboot: boot files could not be fetched; rebooting "
		"in 30 s\"\n"
		"sleep 30\n"
		"reboot\n");
	buf_done(&b);
	/* Words with GRUB syntax in them stay literal; spaces collapse. */
	free(f.inv->boot.cmdline);
	f.inv->boot.cmdline = strdup("console=ttyS0   a=b;c x={y}");
	assert_non_null(f.inv->boot.cmdline);
	assert_int_equal(render_grub(&f.rc, 0, &b), 0);
	assert_non_null(strstr(b.data, "vmlinuz 'console=ttyS0' 'a=b;c' "
				       "'x={y}' 'metalboot.server="));
	buf_done(&b);
	/* A quote cannot be carried: refused, as for iPXE. */
	free(f.inv->boot.cmdline);
	f.inv->boot.cmdline = strdup("a='b c'");
	assert_non_null(f.inv->boot.cmdline);
	assert_int_equal(render_grub(&f.rc, 0, &b), -EINVAL);
	assert_int_equal(render_ipxe(&f.rc, 0, &b), -EINVAL);
	buf_done(&b);
	/* netboot.yaml: secure_boot on the marked node only. */
	f.inv->nodes[2].secure_boot = true;
	assert_int_equal(render_netboot(&f.rc, &b), 0);
	assert_non_null(strstr(b.data, "{name: w2, mac: \"52:54:00:00:02:02\", "
				       "ip: \"192.168.100.22\", role: worker, "
				       "secure_boot: true, rejoin: true}\n"));
	assert_null(strstr(strstr(b.data, "secure_boot") + 1, "secure_boot"));
	buf_done(&b);
	fixture_done(&f);
}

static void
test_ipxe(void **state)
{
	struct fixture f;
	struct buf b;

	(void)state;
	fixture_load(&f, "lab");
	buf_init(&b, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_ipxe(&f.rc, 1, &b), 0);
	assert_string_equal(
		b.data,
		"#!ipxe\n"
		"set base http://192.168.100.1:80/files\n"
		"set tries:int32 0\n"
		":kernel\n"
		"kernel ${base}/images/worker/vmlinuz initrd=initrd.img "
		"console=ttyS0 metalboot.server=https://192.168.100.1:443 "
		"metalboot.mac=52:54:00:00:02:01 || goto kernel_retry\n"
		"initrd ${base}/images/worker/initrd.img || goto "
		"kernel_retry\n"
		"boot || goto kernel_retry\n"
		":kernel_retry\n"
		"inc tries\n"
		"iseq ${tries} 5 && goto failed ||\n"
		"sleep 3\n"
		"goto kernel\n"
		":failed\n"
		"echo metalboot: boot files could not be fetched; rebooting "
		"in 30 s\n"
		"sleep 30\n"
		"reboot\n");
	buf_done(&b);
	fixture_done(&f);
}

/* "      KEY: "VALUE"" with VALUE written as a YAML double-quoted scalar. */
static void
put_dq(struct buf *text, const char *key, const char *v)
{
	assert_int_equal(buf_printf(text, "      %s: \"", key), 0);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			assert_int_equal(buf_printf(text, "\\%c", *v), 0);
		else if (*v == '\t')
			assert_int_equal(buf_puts(text, "\\t"), 0);
		else
			assert_int_equal(buf_append(text, v, 1), 0);
	}
	assert_int_equal(buf_puts(text, "\"\n"), 0);
}

/*
 * Free-text inventory values: sysctl values (one line, anything else),
 * registry mirror URLs (no space or quote, '#' and ':' allowed), firewall
 * descriptions, the kernel command line. Each must come back as the same
 * string from every YAML file it lands in.
 */
static void
test_hostile_values(void **state)
{
	static const char *const values[] = {
		"1 # not a comment",
		"a: b",
		"- x",
		"'q' \"dq\" \\ back",
		"{x: [1, 2]}",
		"&a *b !c %d @e `f` |g >h",
		"null",
		"0755",
		"--- ...",
		"tab\there",
	};
	char long_value[3000];
	struct buf text, k, b, ud;
	struct fixture f;
	struct ydoc *doc;
	const struct ynode *sc, *mirrors;
	size_t i, n;

	(void)state;
	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	memcpy(long_value + 100, "# : '\" - ", 9);
	buf_init(&text, 1u << 20);
	assert_int_equal(
		buf_puts(&text,
			 "cluster:\n  name: h\n  kubernetes_version: v1.31.1\n"
			 "  registry_mirrors: ['http://m.example/#a:b', "
			 "'https://m2.example/x?y=#:z']\n"
			 "network: { server_ip: 10.0.0.1, subnet: "
			 "10.0.0.0/24 }\n"
			 "boot:\n  cmdline: 'console=ttyS0 a=b:c x={y}'\n"
			 "nodes:\n  - { name: c1, mac: '52:54:00:00:00:01', "
			 "ip: 10.0.0.11, role: control-plane }\n"
			 "roles:\n  control-plane:\n    firewall:\n"
			 "      - { port: 6443, what: \"a: b # c\\nd\" }\n"
			 "    sysctls:\n"),
		0);
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char key[32];

		snprintf(key, sizeof(key), "net.t.v%zu", i);
		put_dq(&text, key, values[i]);
	}
	put_dq(&text, "net.t.long", long_value);
	fixture_from_text(&f, "hostile.yaml", text.data, text.len);

	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&b, RENDER_MAX_PAYLOAD);
	buf_init(&ud, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f.rc, 0, &k), 0);
	assert_int_equal(render_firstboot(&f.rc, 0, k.data, k.len, &b), 0);
	doc = parse("firstboot.yaml", b.data, b.len);
	check_keys(doc->root, fb_keys);
	sc = ynode_get(doc->root, "sysctls");
	n = sizeof(values) / sizeof(values[0]);
	for (i = 0; i < n; i++) {
		char key[32];

		snprintf(key, sizeof(key), "net.t.v%zu", i);
		assert_non_null(ynode_get(sc, key));
		assert_string_equal(ynode_get(sc, key)->str, values[i]);
	}
	assert_string_equal(ynode_get(sc, "net.t.long")->str, long_value);
	mirrors = ynode_get(ynode_get(doc->root, "container_runtime"),
			    "registry_mirrors");
	assert_int_equal(mirrors->n, 2);
	assert_string_equal(mirrors->items[0]->str, "http://m.example/#a:b");
	assert_string_equal(mirrors->items[1]->str,
			    "https://m2.example/x?y=#:z");
	ydoc_free(doc);

	/* user-data carries the sysctls as file content: still data. */
	assert_int_equal(render_user_data(&f.rc, 0, k.data, k.len,
					  RENDER_SEED_LOCAL, &ud),
			 0);
	doc = parse("user-data", ud.data, ud.len);
	{
		const struct ynode *wf = ynode_get(doc->root, "write_files");
		bool seen = false;

		for (i = 0; i < wf->n; i++) {
			const char *path = str_at(wf->items[i], "path");
			const char *content = str_at(wf->items[i], "content");

			if (strcmp(path, "/etc/sysctl.d/90-metalboot.conf") !=
			    0)
				continue;
			seen = true;
			assert_non_null(strstr(content, "net.t.v1 = a: b\n"));
			assert_non_null(strstr(content, long_value));
		}
		assert_true(seen);
		/* Top-level keys are only the ones the renderer wrote. */
		for (i = 0; i < doc->root->n; i++)
			assert_null(strstr(doc->root->items[2 * i]->str, "#"));
	}
	ydoc_free(doc);

	/* The command line goes into the iPXE script verbatim. */
	buf_done(&b);
	assert_int_equal(render_ipxe(&f.rc, 0, &b), 0);
	assert_non_null(strstr(b.data, "console=ttyS0 a=b:c x={y} "
				       "metalboot.server="));
	buf_done(&b);
	buf_done_secure(&k);
	buf_done_secure(&ud);
	buf_done(&text);
	fixture_done(&f);
}

static void
test_apt_repo(void **state)
{
	struct fixture f;
	struct buf k, ud;

	(void)state;
	assert_true(render_apt_repo_valid("https://mirror.example/k8s/deb/"));
	assert_false(render_apt_repo_valid("https://mirror.example/k8s"));
	assert_false(render_apt_repo_valid("ftp://mirror.example/"));
	assert_false(render_apt_repo_valid("https://m.example/a b/"));
	assert_false(render_apt_repo_valid("https://m.example/'x'/"));
	assert_false(render_apt_repo_valid("https://m.example/\n/"));
	fixture_load(&f, "lab");
	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&ud, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f.rc, 0, &k), 0);
	assert_int_equal(render_user_data(&f.rc, 0, k.data, k.len,
					  RENDER_SEED_LOCAL, &ud),
			 0);
	assert_non_null(strstr(ud.data, "https://pkgs.k8s.io/core:/stable:/"
					"v1.30/deb/ /"));
	buf_done(&ud);
	f.rc.apt_repo = "https://mirror.example/k8s/deb/";
	assert_int_equal(render_user_data(&f.rc, 0, k.data, k.len,
					  RENDER_SEED_LOCAL, &ud),
			 0);
	assert_null(strstr(ud.data, "pkgs.k8s.io"));
	assert_non_null(strstr(ud.data, "https://mirror.example/k8s/deb/ /"));
	assert_non_null(
		strstr(ud.data, "https://mirror.example/k8s/deb/Release.key"));
	buf_done_secure(&ud);
	buf_done_secure(&k);
	fixture_done(&f);
}

#define CONTAINERD_SOCK "unix:///var/run/containerd/containerd.sock"

/* The docker lab: an etcd member, a control plane and a worker. */
static void
docker_fixture(struct fixture *f, const char *version, const char *extra)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "cluster:\n  name: d\n  kubernetes_version: %s\n"
		 "  container_runtime: docker\n"
		 "  registry_mirrors: ['https://mirror.example']\n"
		 "  etcd: external\n%s"
		 "network: { server_ip: 10.0.0.1, subnet: 10.0.0.0/24 }\n"
		 "nodes:\n"
		 "  - { name: e1, mac: '52:54:00:00:00:31', ip: 10.0.0.31, "
		 "role: etcd }\n"
		 "  - { name: c1, mac: '52:54:00:00:00:11', ip: 10.0.0.11, "
		 "role: control-plane }\n"
		 "  - { name: w1, mac: '52:54:00:00:00:21', ip: 10.0.0.21, "
		 "role: worker }\n",
		 version, extra);
	fixture_from_text(f, "docker.yaml", text, strlen(text));
}

/* The index of the runcmd entry whose words all contain the needles. */
static size_t
runcmd_find(const struct ynode *runcmd, const char *a, const char *b)
{
	size_t i, j;

	for (i = 0; i < runcmd->n; i++) {
		const struct ynode *c = runcmd->items[i];
		bool ha = false, hb = b == NULL;

		for (j = 0; j < c->n; j++) {
			ha = ha || strstr(c->items[j]->str, a) != NULL;
			hb = hb || strstr(c->items[j]->str, b) != NULL;
		}
		if (ha && hb)
			return i;
	}
	return SIZE_MAX;
}

/* The content of write_files entry path, or NULL. */
static const char *
wf_content(const struct ynode *root, const char *path)
{
	const struct ynode *wf = ynode_get(root, "write_files");
	size_t i;

	for (i = 0; i < wf->n; i++)
		if (strcmp(str_at(wf->items[i], "path"), path) == 0)
			return str_at(wf->items[i], "content");
	return NULL;
}

/*
 * Every place kubelet's CRI endpoint lands, for each node: kubeadm's
 * criSocket and KubeletConfiguration (from 1.27), firstboot.yaml, and the
 * etcd member's standalone kubelet in firstboot's and cloud-init's hands.
 */
static void
check_cri(struct fixture *f, const char *want, bool kubelet_field)
{
	size_t n, nd, i;

	for (n = 0; n < f->inv->nnodes; n++) {
		const char *action = render_action(&f->rc, n);
		struct ydoc *docs[4] = { 0 }, *doc;
		struct buf k, b, ud;
		const char *conf;

		buf_init(&k, RENDER_MAX_PAYLOAD);
		buf_init(&b, RENDER_MAX_PAYLOAD);
		buf_init(&ud, RENDER_MAX_PAYLOAD);
		assert_int_equal(render_kubeadm(&f->rc, n, &k), 0);
		if (strstr(want, "cri-dockerd") == NULL)
			assert_null(strstr(k.data, "cri-dockerd"));
		nd = kubeadm_docs(&k, docs, 4);
		assert_string_equal(
			str_at(docs[0]->root, "nodeRegistration.criSocket"),
			want);
		if (strcmp(action, "init") == 0 ||
		    strcmp(action, "etcd") == 0) {
			const char *ep = str_at(docs[2]->root,
						"containerRuntimeEndpoint");

			if (kubelet_field)
				assert_string_equal(ep, want);
			else
				assert_null(ep);
		}
		for (i = 0; i < nd; i++)
			ydoc_free(docs[i]);

		assert_int_equal(render_firstboot(&f->rc, n, k.data, k.len, &b),
				 0);
		doc = parse("firstboot.yaml", b.data, b.len);
		check_keys(ynode_get(doc->root, "container_runtime"),
			   fb_runtime_keys);
		assert_string_equal(str_at(doc->root, "container_runtime.kind"),
				    "docker");
		assert_string_equal(
			str_at(doc->root, "container_runtime.cri_socket"),
			want);
		ydoc_free(doc);

		assert_int_equal(render_user_data(&f->rc, n, k.data, k.len,
						  RENDER_SEED_LOCAL, &ud),
				 0);
		doc = parse("user-data", ud.data, ud.len);
		conf = wf_content(doc->root, "/etc/systemd/system/"
					     "kubelet.service.d/kubelet.conf");
		if (strcmp(action, "etcd") == 0) {
			struct ydoc *kc;

			assert_non_null(conf);
			kc = parse("kubelet.conf", conf, strlen(conf));
			assert_string_equal(
				str_at(kc->root, "containerRuntimeEndpoint"),
				want);
			ydoc_free(kc);
		} else {
			assert_null(conf);
		}
		ydoc_free(doc);
		buf_done_secure(&k);
		buf_done_secure(&b);
		buf_done_secure(&ud);
	}
}

/*
 * container_runtime: docker. kubelet's CRI is the containerd docker.io
 * runs on (no dockershim, no cri-dockerd in Debian): cloud-init installs
 * docker.io with daemon.json, and configures containerd as for the
 * containerd runtime (SystemdCgroup, certs.d mirrors) before restarting
 * docker.
 */
static void
test_docker_runtime(void **state)
{
	struct fixture f;
	struct buf k, ud;
	struct ydoc *doc;
	const struct ynode *runcmd, *pkgs;
	const char *hosts;
	size_t i, ic, id;
	bool docker_io = false;

	(void)state;
	docker_fixture(&f, "v1.30.2", "");
	check_cri(&f, CONTAINERD_SOCK, true);

	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&ud, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f.rc, 2, &k), 0);
	assert_int_equal(render_user_data(&f.rc, 2, k.data, k.len,
					  RENDER_SEED_LOCAL, &ud),
			 0);
	doc = parse("user-data", ud.data, ud.len);
	pkgs = ynode_get(doc->root, "packages");
	for (i = 0; i < pkgs->n; i++)
		docker_io = docker_io ||
			    strcmp(pkgs->items[i]->str, "docker.io") == 0;
	assert_true(docker_io);
	assert_non_null(strstr(wf_content(doc->root, "/etc/docker/daemon.json"),
			       "\"native.cgroupdriver=systemd\""));
	hosts = wf_content(doc->root,
			   "/etc/containerd/certs.d/docker.io/hosts.toml");
	assert_non_null(hosts);
	assert_non_null(strstr(hosts, "[host.\"https://mirror.example\"]"));
	/* Both containerd configs; the runcmd step installs the one read. */
	assert_non_null(strstr(wf_content(doc->root, "/etc/metalboot/"
						     "containerd-v2.toml"),
			       "SystemdCgroup = true"));
	assert_non_null(strstr(wf_content(doc->root, "/etc/metalboot/"
						     "containerd-v3.toml"),
			       "config_path = \"/etc/containerd/certs.d\""));
	runcmd = ynode_get(doc->root, "runcmd");
	ic = runcmd_find(runcmd, "containerd --version",
			 "/etc/metalboot/containerd-v3.toml");
	id = runcmd_find(runcmd, "systemctl", "docker");
	assert_true(ic != SIZE_MAX);
	assert_true(id != SIZE_MAX);
	assert_true(ic < id);
	assert_true(ic < runcmd_find(runcmd, "kubeadm", "join"));
	ydoc_free(doc);
	buf_done_secure(&k);
	buf_done_secure(&ud);
	fixture_done(&f);

	/* containerRuntimeEndpoint is a KubeletConfiguration field from 1.27.
	 */
	docker_fixture(&f, "v1.26.5", "");
	check_cri(&f, CONTAINERD_SOCK, false);
	fixture_done(&f);
}

/* cluster.cri_socket: cri-dockerd (or another CRI) in the base image. */
static void
test_cri_socket_override(void **state)
{
	static const char sock[] = "unix:///var/run/cri-dockerd.sock";
	struct fixture f;

	(void)state;
	docker_fixture(&f, "v1.31.1",
		       "  cri_socket: unix:///var/run/"
		       "cri-dockerd.sock\n");
	check_cri(&f, sock, true);
	fixture_done(&f);
}

/*
 * The runcmd of node n's user-data: where the external etcd wait is (or
 * SIZE_MAX) and where kubeadm init is (or SIZE_MAX). *ret_cmd receives the
 * wait's words (owned by *ret_doc, which the caller frees).
 */
static void
etcd_wait_at(struct fixture *f, size_t n, size_t *ret_wait, size_t *ret_init,
	     const struct ynode **ret_cmd, struct ydoc **ret_doc)
{
	struct buf k, ud;
	struct ydoc *doc;
	const struct ynode *runcmd;

	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&ud, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f->rc, n, &k), 0);
	assert_int_equal(render_user_data(&f->rc, n, k.data, k.len,
					  RENDER_SEED_LOCAL, &ud),
			 0);
	doc = parse("user-data", ud.data, ud.len);
	runcmd = ynode_get(doc->root, "runcmd");
	*ret_wait = runcmd_find(runcmd, "apiserver-etcd-client.crt", "/health");
	*ret_init = runcmd_find(runcmd, "kubeadm", "init");
	*ret_cmd = *ret_wait != SIZE_MAX ? runcmd->items[*ret_wait] : NULL;
	*ret_doc = doc;
	buf_done_secure(&k);
	buf_done_secure(&ud);
}

/*
 * External etcd: cloud-init's first control plane waits, bounded, for
 * one healthy member's /health (any of them) with the etcd client certificate
 * its write_files install, before kubeadm init; no other node waits, nor a
 * stacked etcd cluster's first control plane. The values are arguments, not
 * script.
 */
static void
test_external_etcd_wait(void **state)
{
	static const char *const urls[] = {
		"https://192.168.100.31:2379/health",
		"https://192.168.100.32:2379/health",
		"https://192.168.100.33:2379/health",
	};
	const struct ynode *c;
	struct fixture f;
	struct ydoc *doc;
	size_t n, w, init, i;
	char t[16];

	(void)state;
	fixture_load(&f, "ha-external-etcd");
	for (n = 0; n < f.inv->nnodes; n++) {
		etcd_wait_at(&f, n, &w, &init, &c, &doc);
		if (&f.inv->nodes[n] != f.rc.first_cp) {
			assert_true(w == SIZE_MAX);
			ydoc_free(doc);
			continue;
		}
		assert_true(w != SIZE_MAX);
		assert_true(init != SIZE_MAX);
		assert_true(w < init);
		assert_string_equal(c->items[0]->str, "sh");
		assert_string_equal(c->items[1]->str, "-c");
		/* The certificate and key write_files installs on this node. */
		assert_non_null(wf_content(doc->root, RENDER_PKI_DIR
					   "/apiserver-etcd-client.crt"));
		assert_non_null(wf_content(doc->root, RENDER_PKI_DIR
					   "/apiserver-etcd-client.key"));
		assert_non_null(
			wf_content(doc->root, RENDER_PKI_DIR "/etcd/ca.crt"));
		assert_non_null(strstr(
			c->items[2]->str,
			"--cacert " RENDER_PKI_DIR
			"/etcd/ca.crt --cert " RENDER_PKI_DIR
			"/apiserver-etcd-client.crt --key " RENDER_PKI_DIR
			"/apiserver-etcd-client.key"));
		assert_null(strstr(c->items[2]->str, "192.168"));
		snprintf(t, sizeof(t), "%u", RENDER_WAIT_TIMEOUT);
		assert_string_equal(c->items[3]->str, t);
		assert_int_equal(c->n, 4 + 3);
		for (i = 0; i < 3; i++)
			assert_string_equal(c->items[4 + i]->str, urls[i]);
		ydoc_free(doc);
	}
	fixture_done(&f);

	fixture_load(&f, "ha-stacked");
	for (n = 0; n < f.inv->nnodes; n++) {
		etcd_wait_at(&f, n, &w, &init, &c, &doc);
		assert_true(w == SIZE_MAX);
		ydoc_free(doc);
	}
	fixture_done(&f);
}

static void
test_ha_vip(void **state)
{
	(void)state;
	check_example("ha-vip");
}

/* keepalived.conf of ha-vip.yaml's control plane n (cp1..cp3). */
static void
check_keepalived(struct fixture *f, size_t n)
{
	static const char *const ips[] = { "192.168.100.11", "192.168.100.12",
					   "192.168.100.13" };
	struct buf b;
	char want[128];
	size_t i;
	const char *peers;

	buf_init(&b, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_keepalived_conf(&f->rc, n, &b), 0);
	snprintf(want, sizeof(want), "\tpriority %zu\n", 200 - 10 * n);
	assert_non_null(strstr(b.data, want));
	/* Two masters at once end with the winner's gratuitous ARPs. */
	assert_non_null(strstr(b.data, "\thigher_prio_send_advert true\n"));
	assert_non_null(strstr(b.data, "\tgarp_lower_prio_repeat 5\n"));
	assert_non_null(strstr(b.data, "\tgarp_master_delay 2\n"));
	snprintf(want, sizeof(want), "\tunicast_src_ip %s\n", ips[n]);
	assert_non_null(strstr(b.data, want));
	/* The peers: the other control planes, not the node, no worker. */
	peers = strstr(b.data, "\tunicast_peer {\n");
	assert_non_null(peers);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "\t\t%s\n", ips[i]);
		if (i == n)
			assert_null(strstr(peers, want));
		else
			assert_non_null(strstr(peers, want));
	}
	assert_null(strstr(b.data, "192.168.100.21"));
	snprintf(want, sizeof(want), "\t\tauth_pass %s\n", f->pki.vrrp_pass);
	assert_non_null(strstr(b.data, want));
	assert_non_null(strstr(b.data, "\tvirtual_router_id 51\n"));
	assert_non_null(strstr(b.data, "\t\t192.168.100.10/32\n"));
	assert_non_null(
		strstr(b.data, "\tinclude " RENDER_VIP_IFACE_FILE "\n"));
	assert_non_null(strstr(b.data, "\tscript \"" RENDER_VIP_CHECK "\"\n"));
	assert_non_null(strstr(b.data, "\tweight -100\n"));
	assert_non_null(strstr(b.data, "\tstate BACKUP\n"));
	buf_done_secure(&b);
}

/* What firstboot.yaml and user-data carry for node n of ha-vip.yaml. */
static void
check_vip_payloads(struct fixture *f, size_t n, const struct buf *kconf)
{
	bool cp = f->inv->nodes[n].role == ROLE_CONTROL_PLANE;
	bool init = strcmp(render_action(&f->rc, n), "init") == 0;
	const struct ynode *files, *fw, *runcmd, *pk;
	struct buf k, b, ud;
	struct ydoc *doc;
	size_t i, iface, restart, wait, kubeadm;
	char ip[IPV4_STR_LEN];
	bool found = false, has_pk = false;

	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&b, RENDER_MAX_PAYLOAD);
	buf_init(&ud, RENDER_MAX_PAYLOAD);
	assert_int_equal(render_kubeadm(&f->rc, n, &k), 0);
	assert_int_equal(render_firstboot(&f->rc, n, k.data, k.len, &b), 0);
	doc = parse("firstboot.yaml", b.data, b.len);
	files = ynode_get(doc->root, "files");
	for (i = 0; i < files->n; i++) {
		if (strcmp(str_at(files->items[i], "path"),
			   RENDER_KEEPALIVED_CONF) != 0)
			continue;
		found = true;
		assert_string_equal(str_at(files->items[i], "mode"), "0600");
		assert_string_equal(str_at(files->items[i], "content"),
				    kconf->data);
	}
	assert_int_equal(found, cp);
	fw = ynode_get(doc->root, "firewall");
	if (cp) {
		assert_string_equal(
			str_at(doc->root, "control_plane_vip.address"),
			"192.168.100.10");
		assert_string_equal(str_at(doc->root, "control_plane_vip.port"),
				    "8443");
		assert_string_equal(
			str_at(doc->root, "control_plane_vip.interface_file"),
			RENDER_VIP_IFACE_FILE);
		assert_string_equal(str_at(fw->items[fw->n - 1], "port"),
				    "8443");
	} else {
		assert_null(ynode_get(doc->root, "control_plane_vip"));
		assert_null(strstr(b.data, "keepalived"));
	}
	assert_string_equal(str_at(doc->root, "cluster.endpoint"),
			    "192.168.100.10:8443");
	ydoc_free(doc);

	/* NoCloud-net: keepalived.conf (the VRRP password) is a secret. */
	assert_int_equal(render_user_data(&f->rc, n, k.data, k.len,
					  RENDER_SEED_NET, &ud),
			 0);
	assert_null(strstr(ud.data, "auth_pass"));
	buf_done(&ud);
	buf_init(&ud, RENDER_MAX_PAYLOAD);
	/* The seed ISO (local) carries it inline. */
	assert_int_equal(render_user_data(&f->rc, n, k.data, k.len,
					  RENDER_SEED_LOCAL, &ud),
			 0);
	doc = parse("user-data", ud.data, ud.len);
	pk = ynode_get(doc->root, "packages");
	for (i = 0; i < pk->n; i++)
		has_pk = has_pk || strcmp(pk->items[i]->str, "keepalived") == 0;
	assert_int_equal(has_pk, cp);
	runcmd = ynode_get(doc->root, "runcmd");
	iface = runcmd_find(runcmd, "ip -o -4 addr show",
			    RENDER_VIP_IFACE_FILE);
	restart = runcmd_find(runcmd, "restart", "keepalived");
	wait = runcmd_find(runcmd, "-ne 28", "https://192.168.100.10:8443/");
	kubeadm = runcmd_find(runcmd, "kubeadm", init ? "init" : "join");
	assert_true(kubeadm != SIZE_MAX);
	if (cp) {
		assert_string_equal(
			wf_content(doc->root, RENDER_KEEPALIVED_CONF),
			kconf->data);
		assert_non_null(wf_content(doc->root, RENDER_HAPROXY_CFG));
		assert_non_null(wf_content(doc->root, RENDER_VIP_CHECK));
		assert_true(iface < restart && restart < kubeadm);
		/* The node's address is an argument, not script. */
		ipv4_format(f->inv->nodes[n].ip, ip);
		assert_string_equal(runcmd->items[iface]->items[3]->str, ip);
		if (init)
			assert_true(restart < wait && wait < kubeadm);
		else
			assert_true(wait == SIZE_MAX);
	} else {
		assert_null(wf_content(doc->root, RENDER_KEEPALIVED_CONF));
		assert_true(iface == SIZE_MAX && restart == SIZE_MAX &&
			    wait == SIZE_MAX);
	}
	ydoc_free(doc);
	buf_done_secure(&k);
	buf_done_secure(&b);
	buf_done_secure(&ud);
}

/*
 * The control-plane VIP (ha-vip.yaml): each control plane's keepalived.conf
 * (priority by rank, the other control planes as unicast peers, the stored
 * password), haproxy.cfg (the VIP's port over every API server's 6443 with
 * TLS /readyz checks) and the check script; the files ride with the keys in
 * firstboot.yaml and user-data, keepalived.conf 0600; workers get none;
 * cloud-init starts both before kubeadm, and init waits for the VIP.
 */
static void
test_vip(void **state)
{
	static const char multicast[] =
		"cluster:\n  name: m\n  kubernetes_version: v1.30.2\n"
		"  control_plane_vip: {address: 10.0.0.10, multicast: true, "
		"port: 9443, router_id: 9}\n"
		"network: {server_ip: 10.0.0.1, subnet: 10.0.0.0/24}\n"
		"nodes:\n"
		"  - {name: a, mac: \"52:54:00:00:01:01\", ip: 10.0.0.11, "
		"role: control-plane}\n"
		"  - {name: b, mac: \"52:54:00:00:01:02\", ip: 10.0.0.12, "
		"role: control-plane}\n";
	struct fixture f;
	struct buf b, kc;
	size_t n;

	(void)state;
	fixture_load(&f, "ha-vip");
	assert_int_equal(strlen(f.pki.vrrp_pass), PKI_VRRP_PASS_LEN);
	buf_init(&b, RENDER_MAX_PAYLOAD);
	for (n = 0; n < f.inv->nnodes; n++) {
		buf_init(&kc, RENDER_MAX_PAYLOAD);
		if (f.inv->nodes[n].role == ROLE_CONTROL_PLANE) {
			check_keepalived(&f, n);
			assert_int_equal(render_keepalived_conf(&f.rc, n, &kc),
					 0);
		} else {
			assert_int_equal(render_keepalived_conf(&f.rc, n, &kc),
					 -EINVAL);
		}
		check_vip_payloads(&f, n, &kc);
		buf_done_secure(&kc);
	}
	assert_int_equal(render_haproxy_cfg(&f.rc, &b), 0);
	assert_non_null(strstr(b.data, "\tbind :8443\n"));
	assert_non_null(strstr(b.data, "\tserver cp1 192.168.100.11:6443\n"
				       "\tserver cp2 192.168.100.12:6443\n"
				       "\tserver cp3 192.168.100.13:6443\n"));
	assert_null(strstr(b.data, "192.168.100.21"));
	assert_non_null(strstr(b.data, "\tmode tcp\n"));
	assert_non_null(strstr(b.data, "\toption httpchk GET /readyz\n"));
	assert_non_null(strstr(b.data, "check-ssl verify required ca-file "
				       "/etc/kubernetes/pki/ca.crt"));
	assert_non_null(strstr(b.data, "stats socket " RENDER_HAPROXY_SOCK));
	buf_done(&b);
	assert_int_equal(render_vip_check(&f.rc, &b), 0);
	assert_int_equal(strncmp(b.data, "#!/bin/sh\n", 10), 0);
	assert_non_null(strstr(b.data, "--connect-to "
				       "192.168.100.10:8443:127.0.0.1:8443 "
				       "https://192.168.100.10:8443/readyz\n"));
	buf_done(&b);
	fixture_done(&f);

	/* Multicast: no unicast peers; the port and router id given. */
	fixture_from_text(&f, "m.yaml", multicast, strlen(multicast));
	assert_int_equal(render_keepalived_conf(&f.rc, 1, &b), 0);
	assert_null(strstr(b.data, "unicast"));
	assert_non_null(strstr(b.data, "\tvirtual_router_id 9\n"));
	assert_non_null(strstr(b.data, "\tpriority 190\n"));
	buf_done_secure(&b);
	assert_int_equal(render_haproxy_cfg(&f.rc, &b), 0);
	assert_non_null(strstr(b.data, "\tbind :9443\n"));
	buf_done(&b);
	fixture_done(&f);

	/* Without a VIP there is nothing to render, and no secret. */
	fixture_load(&f, "ha-stacked");
	assert_string_equal(f.pki.vrrp_pass, "");
	assert_int_equal(render_keepalived_conf(&f.rc, 0, &b), -EINVAL);
	assert_int_equal(render_haproxy_cfg(&f.rc, &b), -EINVAL);
	assert_int_equal(render_vip_check(&f.rc, &b), -EINVAL);
	buf_done(&b);
	fixture_done(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_netboot_store),
		cmocka_unit_test(test_lab),
		cmocka_unit_test(test_ha_stacked),
		cmocka_unit_test(test_ha_external),
		cmocka_unit_test(test_ha_vip),
		cmocka_unit_test(test_vip),
		cmocka_unit_test(test_ipxe),
		cmocka_unit_test(test_grub),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_apt_repo),
		cmocka_unit_test(test_docker_runtime),
		cmocka_unit_test(test_cri_socket_override),
		cmocka_unit_test(test_external_etcd_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
