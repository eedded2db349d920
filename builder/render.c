/*
 * render.c - kubeadm.yaml, firstboot.yaml, cloud-init NoCloud files,
 * NAME.ipxe and netboot.yaml (see render.h).
 */
#include "render.h"

#include "bundle.h"
#include "ctrconf.h"
#include "hostconf.h"

#include "yemit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RENDER_HOSTS_MAX (8u << 20)
#define RENDER_SMALL_MAX (1u << 20)

/* ---- shared ------------------------------------------------------------ */

/*
 * kubelet's CRI endpoint: cluster.cri_socket, else containerd's socket for
 * both runtimes (docker.io runs on containerd, whose CRI plugin kubelet
 * talks to; there is no dockershim since Kubernetes 1.24).
 */
static const char *
cri_socket(const struct inventory *inv)
{
	return inv->cluster.cri_socket != NULL ? inv->cluster.cri_socket
					       : INV_CRI_SOCKET_DEFAULT;
}

static const char *
node_ip(const struct inv_node *n, char buf[IPV4_STR_LEN])
{
	ipv4_format(n->ip, buf);
	return buf;
}

static void
format_cidr(const struct cidr *c, char *buf, size_t sz)
{
	char ip[IPV4_STR_LEN];

	ipv4_format(c->addr, ip);
	snprintf(buf, sz, "%s/%u", ip, c->prefix);
}

static void
format_endpoint(const struct inventory *inv, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s:%u", inv->cluster.endpoint_host,
		 (unsigned)inv->cluster.endpoint_port);
}

/* The API server's readiness URL, which joiners wait for. */
static void
readyz_url(const struct inventory *inv, char *buf, size_t sz)
{
	char ep[HOST_NAME_MAX_LEN + 8];

	format_endpoint(inv, ep, sizeof(ep));
	snprintf(buf, sz, "https://%s/readyz", ep);
}

static int finish(struct yemit *y);

/*
 * Close a top-level mapping emitted as one part of a larger mapping. The
 * emitter ends a stream with "..." after a keep-chomped block scalar; that
 * marker would end the document, so it is dropped (the next part's first
 * key ends the scalar just as well).
 */
static int
finish_part(struct yemit *y, struct buf *out)
{
	int r = finish(y);

	if (r == 0 && out->len >= 4 &&
	    memcmp(out->data + out->len - 4, "...\n", 4) == 0) {
		out->len -= 4;
		out->data[out->len] = '\0';
	}
	return r;
}

/* "hosts:" and one {ip, names} per node, as a top-level mapping entry. */
static int
emit_hosts(const struct render_ctx *c, struct buf *out)
{
	const struct inventory *inv = c->inv;
	char ip[IPV4_STR_LEN];
	struct yemit *y;
	size_t i;

	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);
	yemit_str(y, "hosts");
	yemit_seq_start(y, false);
	for (i = 0; i < inv->nnodes; i++) {
		yemit_map_start(y, true);
		yemit_kv_str(y, "ip", node_ip(&inv->nodes[i], ip));
		yemit_str(y, "names");
		yemit_seq_start(y, true);
		yemit_str(y, inv->nodes[i].name);
		yemit_seq_end(y);
		yemit_map_end(y);
	}
	yemit_seq_end(y);
	yemit_map_end(y);
	return finish_part(y, out);
}

/* Prepare the parts shared by every node. */
int
render_ctx_init(struct render_ctx *c, const struct inventory *inv,
		const struct pki *pki, const char *cni_manifest_url,
		const char *cni_sha256)
{
	struct buf b;
	size_t i;
	int r = 0;

	memset(c, 0, sizeof(*c));
	c->inv = inv;
	c->pki = pki;
	c->cni_manifest_url = cni_manifest_url;
	c->cni_sha256 = cni_sha256;
	c->first_cp = inventory_first(inv, ROLE_CONTROL_PLANE);
	buf_init(&b, RENDER_HOSTS_MAX);
	r = buf_puts(&b, "127.0.0.1 localhost\n"
			 "::1 localhost ip6-localhost ip6-loopback\n");
	for (i = 0; r == 0 && i < inv->nnodes; i++) {
		char ip[IPV4_STR_LEN];

		r = buf_printf(&b, "%s %s\n", node_ip(&inv->nodes[i], ip),
			       inv->nodes[i].name);
	}
	if (r < 0) {
		buf_done(&b);
		return r;
	}
	c->hosts_text = buf_take(&b, &c->hosts_len);
	if (c->hosts_text == NULL)
		return -ENOMEM;
	r = emit_hosts(c, &b);
	if (r == 0) {
		c->hosts_yaml = buf_take(&b, &c->hosts_yaml_len);
		if (c->hosts_yaml == NULL)
			r = -ENOMEM;
	}
	buf_done(&b);
	if (r < 0)
		render_ctx_done(c);
	return r;
}

/* Release c. */
void
render_ctx_done(struct render_ctx *c)
{
	free(c->hosts_text);
	free(c->hosts_yaml);
	c->hosts_text = NULL;
	c->hosts_yaml = NULL;
}

/* A usable apt repository URL (see render.h). */
bool
render_apt_repo_valid(const char *url)
{
	size_t len = strlen(url), i;

	if (len > RENDER_APT_REPO_MAX || url[len - 1] != '/' ||
	    (strncmp(url, "http://", 7) != 0 &&
	     strncmp(url, "https://", 8) != 0) ||
	    len < 10)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)url[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("\"'\\`", ch) != NULL)
			return false;
	}
	return true;
}

int
render_check_repos(const struct inventory *inv, const char *apt_repo,
		   const char *rpm_repo, struct diags *d)
{
	bool deb = false, rpm = false;
	size_t i;

	if (inv->cluster.kv_minor >= RENDER_PKGS_MIN_MINOR)
		return 0;
	for (i = 0; i < inv->nnodes; i++) {
		deb |= inv->nodes[i].os_family == OS_DEBIAN && apt_repo == NULL;
		rpm |= inv->nodes[i].os_family == OS_RHEL && rpm_repo == NULL;
	}
	if (!deb && !rpm)
		return 0;
	diags_add(d, DIAG_ERROR, inv->file, inv->cluster.kv_line,
		  inv->cluster.kv_col,
		  "kubernetes_version %s: pkgs.k8s.io serves v1.%d and later "
		  "only, so cloud-init could not install it; use v1.%d or "
		  "later, or name a repository that has it with %s",
		  inv->cluster.kubernetes_version, RENDER_PKGS_MIN_MINOR,
		  RENDER_PKGS_MIN_MINOR,
		  deb && rpm ? "--apt-repo and --rpm-repo"
		  : deb	     ? "--apt-repo"
			     : "--rpm-repo");
	return -EINVAL;
}

/* The node's kubeadm action. */
const char *
render_action(const struct render_ctx *c, size_t n)
{
	const struct inv_node *node = &c->inv->nodes[n];

	if (node->role == ROLE_ETCD)
		return "etcd";
	if (node->role == ROLE_WORKER)
		return "join";
	if (node == c->first_cp)
		return "init";
	return "join-control-plane";
}

static int
finish(struct yemit *y)
{
	int r = yemit_finish(y);

	yemit_free(y);
	return r;
}

/* ---- kubeadm.yaml ------------------------------------------------------- */

static const char *
kubeadm_api(const struct inventory *inv)
{
	return inv->cluster.kv_minor >= 31 ? "kubeadm.k8s.io/v1beta4"
					   : "kubeadm.k8s.io/v1beta3";
}

static bool
is_v1beta4(const struct inventory *inv)
{
	return inv->cluster.kv_minor >= 31;
}

/*
 * extraArgs: a map in v1beta3, a list of {name, value} in v1beta4.
 * args holds name, value pairs, NULL-terminated.
 */
static void
emit_args(struct yemit *y, const struct inventory *inv, const char *key,
	  const char *const *args)
{
	size_t i;

	yemit_str(y, key);
	if (is_v1beta4(inv)) {
		yemit_seq_start(y, false);
		for (i = 0; args[i] != NULL; i += 2) {
			yemit_map_start(y, true);
			yemit_kv_str(y, "name", args[i]);
			yemit_kv_str(y, "value", args[i + 1]);
			yemit_map_end(y);
		}
		yemit_seq_end(y);
	} else {
		yemit_map_start(y, false);
		for (i = 0; args[i] != NULL; i += 2)
			yemit_kv_str(y, args[i], args[i + 1]);
		yemit_map_end(y);
	}
}

static void
emit_taints(struct yemit *y, const struct inv_node *node)
{
	size_t i;

	if (!node->taints_set)
		return; /* kubeadm's default for the role */
	yemit_str(y, "taints");
	yemit_seq_start(y, node->taints.n == 0);
	for (i = 0; i < node->taints.n; i++) {
		const char *t = node->taints.v[i];
		const char *colon = strrchr(t, ':');
		const char *eq = memchr(t, '=', (size_t)(colon - t));

		yemit_map_start(y, false);
		yemit_str(y, "key");
		yemit_strn(y, t, (size_t)((eq ? eq : colon) - t));
		if (eq != NULL) {
			yemit_str(y, "value");
			yemit_strn(y, eq + 1, (size_t)(colon - eq - 1));
		}
		yemit_kv_str(y, "effect", colon + 1);
		yemit_map_end(y);
	}
	yemit_seq_end(y);
}

static void
emit_node_registration(struct yemit *y, const struct render_ctx *c,
		       const struct inv_node *node)
{
	char ip[IPV4_STR_LEN];
	const char *args[] = { "node-ip", node_ip(node, ip), NULL };

	yemit_str(y, "nodeRegistration");
	yemit_map_start(y, false);
	yemit_kv_str(y, "name", node->name);
	yemit_kv_str(y, "criSocket", cri_socket(c->inv));
	emit_taints(y, node);
	emit_args(y, c->inv, "kubeletExtraArgs", args);
	if (node->role == ROLE_WORKER) {
		/*
		 * The agent installs the cluster CA before joining (so that it
		 * can wait for the API with it); kubeadm's preflight would
		 * otherwise refuse a join with ca.crt already in place.
		 */
		yemit_str(y, "ignorePreflightErrors");
		yemit_seq_start(y, false);
		yemit_str(y, "FileAvailable--etc-kubernetes-pki-ca.crt");
		yemit_seq_end(y);
	}
	yemit_map_end(y);
}

static void
emit_local_endpoint(struct yemit *y, const struct inv_node *node)
{
	char ip[IPV4_STR_LEN];

	yemit_str(y, "localAPIEndpoint");
	yemit_map_start(y, false);
	yemit_kv_str(y, "advertiseAddress", node_ip(node, ip));
	yemit_kv_u64(y, "bindPort", RENDER_API_PORT);
	yemit_map_end(y);
}

static void
emit_header(struct yemit *y, const char *api, const char *kind)
{
	yemit_kv_str(y, "apiVersion", api);
	yemit_kv_str(y, "kind", kind);
}

static void
fmt_duration(uint64_t s, char *buf, size_t sz)
{
	snprintf(buf, sz, "%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", s / 3600,
		 s / 60 % 60, s % 60);
}

static void
emit_cluster_config(struct yemit *y, const struct render_ctx *c,
		    const struct inv_node *node)
{
	const struct inventory *inv = c->inv;
	char ep[HOST_NAME_MAX_LEN + 8], cidr[32], ip[IPV4_STR_LEN];
	size_t i;

	yemit_map_start(y, false);
	emit_header(y, kubeadm_api(inv), "ClusterConfiguration");
	yemit_kv_str(y, "clusterName", inv->cluster.name);
	yemit_kv_str(y, "kubernetesVersion", inv->cluster.kubernetes_version);
	format_endpoint(inv, ep, sizeof(ep));
	yemit_kv_str(y, "controlPlaneEndpoint", ep);
	yemit_kv_str(y, "imageRepository", inv->cluster.image_repository);
	yemit_kv_str(y, "certificatesDir", RENDER_PKI_DIR);
	if (is_v1beta4(inv))
		yemit_kv_str(y, "encryptionAlgorithm", "ECDSA-P256");
	yemit_str(y, "networking");
	yemit_map_start(y, false);
	format_cidr(&inv->cluster.pod_subnet, cidr, sizeof(cidr));
	yemit_kv_str(y, "podSubnet", cidr);
	format_cidr(&inv->cluster.service_subnet, cidr, sizeof(cidr));
	yemit_kv_str(y, "serviceSubnet", cidr);
	yemit_kv_str(y, "dnsDomain", inv->cluster.dns_domain);
	yemit_map_end(y);
	if (node->role != ROLE_ETCD && inv->cluster.cert_sans.n > 0) {
		yemit_str(y, "apiServer");
		yemit_map_start(y, false);
		yemit_str(y, "certSANs");
		yemit_seq_start(y, false);
		for (i = 0; i < inv->cluster.cert_sans.n; i++)
			yemit_str(y, inv->cluster.cert_sans.v[i]);
		yemit_seq_end(y);
		yemit_map_end(y);
	}
	yemit_str(y, "etcd");
	yemit_map_start(y, false);
	if (inv->cluster.etcd == ETCD_EXTERNAL && node->role != ROLE_ETCD) {
		yemit_str(y, "external");
		yemit_map_start(y, false);
		yemit_str(y, "endpoints");
		yemit_seq_start(y, false);
		for (i = 0; i < inv->nnodes; i++) {
			char url[64];

			if (inv->nodes[i].role != ROLE_ETCD)
				continue;
			snprintf(url, sizeof(url), "https://%s:2379",
				 node_ip(&inv->nodes[i], ip));
			yemit_str(y, url);
		}
		yemit_seq_end(y);
		yemit_kv_str(y, "caFile", RENDER_PKI_DIR "/etcd/ca.crt");
		yemit_kv_str(y, "certFile",
			     RENDER_PKI_DIR "/apiserver-etcd-client.crt");
		yemit_kv_str(y, "keyFile",
			     RENDER_PKI_DIR "/apiserver-etcd-client.key");
		yemit_map_end(y);
	} else {
		yemit_str(y, "local");
		yemit_map_start(y, false);
		yemit_kv_str(y, "dataDir", "/var/lib/etcd");
		yemit_str(y, "serverCertSANs");
		yemit_seq_start(y, false);
		yemit_str(y, node_ip(node, ip));
		yemit_seq_end(y);
		yemit_str(y, "peerCertSANs");
		yemit_seq_start(y, false);
		yemit_str(y, node_ip(node, ip));
		yemit_seq_end(y);
		if (node->role == ROLE_ETCD) {
			/* One member of an external etcd cluster. */
			struct buf init;
			char peer[64], client[64];
			const char *args[17];
			int r = 0;

			buf_init(&init, RENDER_SMALL_MAX);
			for (i = 0; r == 0 && i < inv->nnodes; i++) {
				if (inv->nodes[i].role != ROLE_ETCD)
					continue;
				r = buf_printf(&init, "%s%s=https://%s:2380",
					       init.len ? "," : "",
					       inv->nodes[i].name,
					       node_ip(&inv->nodes[i], ip));
			}
			node_ip(node, ip);
			snprintf(peer, sizeof(peer), "https://%s:2380", ip);
			snprintf(client, sizeof(client), "https://%s:2379", ip);
			args[0] = "name";
			args[1] = node->name;
			args[2] = "initial-cluster";
			args[3] = init.data ? init.data : "";
			args[4] = "initial-cluster-state";
			args[5] = "new";
			args[6] = "listen-peer-urls";
			args[7] = peer;
			args[8] = "listen-client-urls";
			args[9] = client;
			args[10] = "advertise-client-urls";
			args[11] = client;
			args[12] = "initial-advertise-peer-urls";
			args[13] = peer;
			args[14] = NULL;
			if (r == 0)
				emit_args(y, inv, "extraArgs", args);
			buf_done(&init);
		}
		yemit_map_end(y);
	}
	yemit_map_end(y);
	yemit_map_end(y);
}

static void
emit_kubelet_config(struct yemit *y, const struct render_ctx *c,
		    const struct inv_node *node)
{
	const struct role_profile *p = &c->inv->roles[node->role];

	yemit_map_start(y, false);
	emit_header(y, "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration");
	yemit_kv_str(y, "cgroupDriver", p->runtime.cgroup_driver);
	/*
	 * The field exists from Kubernetes 1.27 (the kubelet flag it replaces
	 * is deprecated there); before, kubeadm passes criSocket as the flag
	 * and an unknown field would only draw a warning.
	 */
	if (c->inv->cluster.kv_minor >= 27)
		yemit_kv_str(y, "containerRuntimeEndpoint", cri_socket(c->inv));
	if (!p->swap_off)
		yemit_kv_bool(y, "failSwapOn", false);
	yemit_map_end(y);
}

static void
emit_discovery(struct yemit *y, const struct render_ctx *c)
{
	char ep[HOST_NAME_MAX_LEN + 8];

	format_endpoint(c->inv, ep, sizeof(ep));
	yemit_str(y, "discovery");
	yemit_map_start(y, false);
	yemit_str(y, "bootstrapToken");
	yemit_map_start(y, false);
	yemit_kv_str(y, "apiServerEndpoint", ep);
	yemit_kv_str(y, "token", c->pki->token);
	yemit_str(y, "caCertHashes");
	yemit_seq_start(y, false);
	yemit_str(y, c->pki->discovery_hash);
	yemit_seq_end(y);
	yemit_map_end(y);
	yemit_map_end(y);
}

/* kubeadm.yaml for node n. */
int
render_kubeadm(const struct render_ctx *c, size_t n, struct buf *out)
{
	const struct inventory *inv = c->inv;
	const struct inv_node *node = &inv->nodes[n];
	const char *action = render_action(c, n);
	struct yemit *y;
	char ttl[48];

	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);
	if (strcmp(action, "init") == 0) {
		emit_header(y, kubeadm_api(inv), "InitConfiguration");
		yemit_str(y, "bootstrapTokens");
		yemit_seq_start(y, false);
		yemit_map_start(y, false);
		yemit_kv_str(y, "token", c->pki->token);
		yemit_kv_str(y, "description",
			     "metalboot: joins the inventory's nodes");
		fmt_duration(inv->cluster.token_ttl, ttl, sizeof(ttl));
		yemit_kv_str(y, "ttl", ttl);
		yemit_str(y, "usages");
		yemit_seq_start(y, true);
		yemit_str(y, "signing");
		yemit_str(y, "authentication");
		yemit_seq_end(y);
		yemit_str(y, "groups");
		yemit_seq_start(y, false);
		yemit_str(y, "system:bootstrappers:kubeadm:default-node-token");
		yemit_seq_end(y);
		yemit_map_end(y);
		yemit_seq_end(y);
		yemit_kv_str(y, "certificateKey", c->pki->cert_key);
		emit_local_endpoint(y, node);
		emit_node_registration(y, c, node);
		yemit_map_end(y);
		yemit_next_doc(y);
		emit_cluster_config(y, c, node);
		yemit_next_doc(y);
		emit_kubelet_config(y, c, node);
	} else if (strcmp(action, "etcd") == 0) {
		emit_header(y, kubeadm_api(inv), "InitConfiguration");
		emit_local_endpoint(y, node);
		emit_node_registration(y, c, node);
		yemit_map_end(y);
		yemit_next_doc(y);
		emit_cluster_config(y, c, node);
		yemit_next_doc(y);
		emit_kubelet_config(y, c, node);
	} else {
		emit_header(y, kubeadm_api(inv), "JoinConfiguration");
		yemit_kv_str(y, "caCertPath", RENDER_PKI_DIR "/ca.crt");
		emit_discovery(y, c);
		emit_node_registration(y, c, node);
		if (strcmp(action, "join-control-plane") == 0) {
			/*
			 * certificateKey alone makes kubeadm join download the
			 * kubeadm-certs Secret, which exists only after
			 * "kubeadm init --upload-certs" and expires after two
			 * hours. The shared CAs and keys come with
			 * firstboot.yaml instead (kubeadm's "manual certificate
			 * distribution"), so that download is skipped and a
			 * control plane can join at any time; the key stays
			 * for "kubeadm join phase control-plane-prepare
			 * download-certs" by hand after an upload-certs.
			 */
			yemit_str(y, "controlPlane");
			yemit_map_start(y, false);
			emit_local_endpoint(y, node);
			yemit_kv_str(y, "certificateKey", c->pki->cert_key);
			yemit_map_end(y);
			yemit_str(y, "skipPhases");
			yemit_seq_start(y, false);
			yemit_str(y, "control-plane-prepare/download-certs");
			yemit_seq_end(y);
		}
		yemit_map_end(y);
	}
	return finish(y);
}

/* ---- which files a node gets --------------------------------------------- */

/*
 * A file a node gets besides kubeadm.yaml. secret marks a private key, a
 * token or anything else that must never cross the wire in clear: the
 * agent gets it in firstboot.yaml (HTTPS only), the NoCloud ISO inline
 * (local media), and the NoCloud-net user-data (plain HTTP) not at all:
 * it goes into the node's secret bundle (render_secret_bundle), which the
 * user-data fetches over HTTPS pinned to the provisioning CA.
 */
struct pfile {
	const char *path; /* absolute, on the node */
	const char *mode;
	const char *content;
	bool secret;
};

#define MAX_PFILES 16 /* 9 PKI files and 3 of the VIP at most */

/*
 * The files of node n into f (MAX_PFILES entries). To give a role another
 * file (a keepalived.conf, say), add it here with PF(path, mode, content,
 * secret); a file holding a password or a key is secret = true (and mode
 * 0600), and then it reaches NoCloud-net nodes only through the bundle.
 */
static size_t
node_pki_files(const struct render_ctx *c, size_t n, struct pfile *f)
{
	const struct pki *p = c->pki;
	const struct inv_node *node = &c->inv->nodes[n];
	size_t k = 0;

	/* A pair the PKI does not hold (a PKI made for another inventory)
	 * is left out rather than written empty. */
#define PF(P, M, C, S)                                                         \
	do {                                                                   \
		if ((C) != NULL && k < MAX_PFILES) {                           \
			f[k].path = P;                                         \
			f[k].mode = M;                                         \
			f[k].content = C;                                      \
			f[k].secret = S;                                       \
			k++;                                                   \
		}                                                              \
	} while (0)
#define CERT(P, C) PF(RENDER_PKI_DIR "/" P, "0644", C, false)
#define KEY(P, C)  PF(RENDER_PKI_DIR "/" P, "0600", C, true)

	switch (node->role) {
	case ROLE_CONTROL_PLANE:
		CERT("ca.crt", p->ca.cert_pem);
		KEY("ca.key", p->ca.key_pem);
		CERT("front-proxy-ca.crt", p->front_proxy_ca.cert_pem);
		KEY("front-proxy-ca.key", p->front_proxy_ca.key_pem);
		KEY("sa.key", p->sa_key_pem);
		CERT("sa.pub", p->sa_pub_pem);
		CERT("etcd/ca.crt", p->etcd_ca.cert_pem);
		if (c->inv->cluster.etcd == ETCD_EXTERNAL) {
			CERT("apiserver-etcd-client.crt",
			     p->etcd_client.cert_pem);
			KEY("apiserver-etcd-client.key",
			    p->etcd_client.key_pem);
		} else {
			KEY("etcd/ca.key", p->etcd_ca.key_pem);
		}
		break;
	case ROLE_ETCD:
		CERT("etcd/ca.crt", p->etcd_ca.cert_pem);
		KEY("etcd/ca.key", p->etcd_ca.key_pem);
		if (p->etcd_server != NULL && n < p->nnodes) {
			CERT("etcd/server.crt", p->etcd_server[n].cert_pem);
			KEY("etcd/server.key", p->etcd_server[n].key_pem);
			CERT("etcd/peer.crt", p->etcd_peer[n].cert_pem);
			KEY("etcd/peer.key", p->etcd_peer[n].key_pem);
		}
		break;
	default:
		CERT("ca.crt", p->ca.cert_pem);
		break;
	}
#undef KEY
#undef CERT
#undef PF
	return k;
}

/* ---- control-plane VIP: keepalived and haproxy --------------------------- */

/* True when node n runs the VIP: a control plane of an inventory with one. */
static bool
vip_node(const struct render_ctx *c, size_t n)
{
	return c->inv->cluster.vip.set && n < c->inv->nnodes &&
	       c->inv->nodes[n].role == ROLE_CONTROL_PLANE;
}

/*
 * keepalived's priority for control plane n: the first control plane
 * holds the VIP for kubeadm init, the others follow in inventory order,
 * RENDER_VRRP_PRIO_STEP apart. The step spreads the backups' skew times
 * ((256 - priority) / 256 s) by about 40 ms, so that when the master
 * goes, the next one takes over alone instead of two backups becoming
 * master together and the later one's gratuitous ARPs leaving the LAN
 * pointed at the wrong node. Every priority is at least
 * RENDER_VRRP_PRIO_MIN, so a node whose check fails (minus
 * RENDER_VRRP_WEIGHT) ranks below every healthy one.
 */
static unsigned
vrrp_priority(const struct inventory *inv, size_t n)
{
	size_t i, rank = 0;

	for (i = 0; i < n; i++)
		rank += inv->nodes[i].role == ROLE_CONTROL_PLANE;
	if (rank > (RENDER_VRRP_PRIO_FIRST - RENDER_VRRP_PRIO_MIN) /
			   RENDER_VRRP_PRIO_STEP)
		return RENDER_VRRP_PRIO_MIN;
	return RENDER_VRRP_PRIO_FIRST - (unsigned)rank * RENDER_VRRP_PRIO_STEP;
}

/* unicast_src_ip and unicast_peer: every other control plane. */
static int
vrrp_unicast(const struct inventory *inv, size_t n, struct buf *out)
{
	char ip[IPV4_STR_LEN];
	size_t i;
	int r;

	r = buf_printf(out, "\tunicast_src_ip %s\n\tunicast_peer {\n",
		       node_ip(&inv->nodes[n], ip));
	for (i = 0; r == 0 && i < inv->nnodes; i++)
		if (i != n && inv->nodes[i].role == ROLE_CONTROL_PLANE)
			r = buf_printf(out, "\t\t%s\n",
				       node_ip(&inv->nodes[i], ip));
	return r == 0 ? buf_puts(out, "\t}\n") : r;
}

/* keepalived.conf for control plane n (render.h). */
int
render_keepalived_conf(const struct render_ctx *c, size_t n, struct buf *out)
{
	const struct inventory *inv = c->inv;
	const struct inv_vip *v = &inv->cluster.vip;
	char vip[IPV4_STR_LEN];
	int r;

	if (!vip_node(c, n) || c->pki->vrrp_pass[0] == '\0')
		return -EINVAL;
	ipv4_format(v->address, vip);
	r = buf_printf(out,
		       "# metalboot: keepalived holds the control-plane VIP "
		       "%s (docs/builder.md).\n"
		       "# It holds the VRRP password: keep it 0600.\n"
		       "global_defs {\n"
		       "\trouter_id %s\n"
		       "\tscript_user root\n"
		       "\tenable_script_security\n"
		       "}\n\n"
		       "vrrp_script metalboot_haproxy {\n"
		       "\tscript \"" RENDER_VIP_CHECK "\"\n"
		       "\tinterval 2\n"
		       "\ttimeout 3\n"
		       "\trise 2\n"
		       "\tfall 2\n"
		       "\tweight -%d\n"
		       "}\n\n"
		       "vrrp_instance metalboot_api {\n"
		       "\tstate BACKUP\n"
		       "\tinclude " RENDER_VIP_IFACE_FILE "\n"
		       "\tvirtual_router_id %u\n"
		       "\tpriority %u\n"
		       "\tadvert_int 1\n"
		       "\t# Two masters at once (a backup's timer fired as "
		       "another took over):\n"
		       "\t# the loser announces itself before it yields, "
		       "the winner answers\n"
		       "\t# with gratuitous ARPs, and a second round 2 s "
		       "later passes the\n"
		       "\t# neighbours' 1 s ARP lock time.\n"
		       "\thigher_prio_send_advert true\n"
		       "\tgarp_lower_prio_repeat 5\n"
		       "\tgarp_lower_prio_delay 2\n"
		       "\tgarp_master_delay 2\n",
		       vip, inv->nodes[n].name, RENDER_VRRP_WEIGHT,
		       v->router_id, vrrp_priority(inv, n));
	if (r == 0 && !v->multicast)
		r = vrrp_unicast(inv, n, out);
	if (r == 0)
		r = buf_printf(out,
			       "\tauthentication {\n"
			       "\t\tauth_type PASS\n"
			       "\t\tauth_pass %s\n"
			       "\t}\n"
			       "\tvirtual_ipaddress {\n"
			       "\t\t%s/32\n"
			       "\t}\n"
			       "\ttrack_script {\n"
			       "\t\tmetalboot_haproxy\n"
			       "\t}\n"
			       "}\n",
			       c->pki->vrrp_pass, vip);
	return r;
}

/* haproxy.cfg, the same on every control plane (render.h). */
int
render_haproxy_cfg(const struct render_ctx *c, struct buf *out)
{
	const struct inventory *inv = c->inv;
	char ip[IPV4_STR_LEN];
	size_t i;
	int r;

	if (!inv->cluster.vip.set)
		return -EINVAL;
	r = buf_printf(
		out,
		"# metalboot: haproxy in front of every control plane's API "
		"server\n"
		"# (docs/builder.md): TCP on the VIP's port, /readyz checked "
		"over TLS.\n"
		"global\n"
		"\tlog /dev/log local0\n"
		"\tstats socket " RENDER_HAPROXY_SOCK " mode 600 level admin\n"
		"\tstats timeout 30s\n\n"
		"defaults\n"
		"\tmode tcp\n"
		"\tlog global\n"
		"\toption tcplog\n"
		"\toption dontlognull\n"
		"\tretries 1\n"
		"\ttimeout connect 5s\n"
		"\ttimeout client 1h\n"
		"\ttimeout server 1h\n"
		"\ttimeout check 5s\n\n"
		"frontend metalboot-api\n"
		"\tbind :%u\n"
		"\tdefault_backend metalboot-api\n\n"
		"backend metalboot-api\n"
		"\tbalance roundrobin\n"
		"\toption httpchk GET /readyz\n"
		"\thttp-check expect status 200\n"
		"\tdefault-server check check-ssl verify required "
		"ca-file " RENDER_PKI_DIR "/ca.crt inter 2s fall 2 rise 2\n",
		(unsigned)inv->cluster.vip.port);
	for (i = 0; r == 0 && i < inv->nnodes; i++)
		if (inv->nodes[i].role == ROLE_CONTROL_PLANE)
			r = buf_printf(
				out, "\tserver %s %s:%d\n", inv->nodes[i].name,
				node_ip(&inv->nodes[i], ip), RENDER_API_PORT);
	return r;
}

/* keepalived's check script (render.h). */
int
render_vip_check(const struct render_ctx *c, struct buf *out)
{
	const struct inv_vip *v = &c->inv->cluster.vip;
	char vip[IPV4_STR_LEN];

	if (!v->set)
		return -EINVAL;
	ipv4_format(v->address, vip);
	return buf_printf(out,
			  "#!/bin/sh\n"
			  "# metalboot: keepalived's check of the local "
			  "haproxy (docs/builder.md):\n"
			  "# it passes when haproxy hands a TLS request for "
			  "the VIP to an API server\n"
			  "# whose /readyz answers 200, verified with the "
			  "cluster CA.\n"
			  "exec curl -fsS --max-time 2 -o /dev/null --cacert "
			  "%s/ca.crt \\\n"
			  "\t--connect-to %s:%u:127.0.0.1:%u "
			  "https://%s:%u/readyz\n",
			  RENDER_PKI_DIR, vip, (unsigned)v->port,
			  (unsigned)v->port, vip, (unsigned)v->port);
}

struct vip_bufs {
	struct buf keepalived; /* secret: the VRRP password */
	struct buf haproxy, check;
};

static void
vip_bufs_init(struct vip_bufs *vb)
{
	buf_init(&vb->keepalived, RENDER_SMALL_MAX);
	buf_init(&vb->haproxy, RENDER_SMALL_MAX);
	buf_init(&vb->check, RENDER_SMALL_MAX);
}

static void
vip_bufs_done(struct vip_bufs *vb)
{
	buf_done_secure(&vb->keepalived);
	buf_done(&vb->haproxy);
	buf_done(&vb->check);
}

/*
 * The VIP's files of node n, appended to f after node_pki_files' (vb
 * from vip_bufs_init, released with vip_bufs_done even on failure).
 * keepalived.conf carries the VRRP password: it belongs with the keys and
 * travels wherever they do. Returns 0 or a negative errno.
 */
static int
node_vip_files(const struct render_ctx *c, size_t n, struct pfile *f, size_t *k,
	       struct vip_bufs *vb)
{
	int r;

	if (!vip_node(c, n))
		return 0;
	r = render_keepalived_conf(c, n, &vb->keepalived);
	if (r == 0)
		r = render_vip_check(c, &vb->check);
	if (r == 0)
		r = render_haproxy_cfg(c, &vb->haproxy);
	if (r < 0)
		return r;
	/* keepalived.conf holds the VRRP password: a secret. */
	f[*k] = (struct pfile){ RENDER_KEEPALIVED_CONF, "0600",
				vb->keepalived.data, true };
	f[*k + 1] = (struct pfile){ RENDER_VIP_CHECK, "0755", vb->check.data,
				    false };
	f[*k + 2] = (struct pfile){ RENDER_HAPROXY_CFG, "0644",
				    vb->haproxy.data, false };
	*k += 3;
	return 0;
}

/* ---- firstboot.yaml ----------------------------------------------------- */

static void
emit_strlist(struct yemit *y, const char *key, const struct strlist *l,
	     bool flow)
{
	size_t i;

	yemit_str(y, key);
	yemit_seq_start(y, flow || l->n == 0);
	for (i = 0; i < l->n; i++)
		yemit_str(y, l->v[i]);
	yemit_seq_end(y);
}

static const char *
selinux_name(enum selinux_mode m)
{
	switch (m) {
	case SELINUX_PERMISSIVE:
		return "permissive";
	case SELINUX_DISABLED:
		return "disabled";
	default:
		return "keep";
	}
}

static void
format_port(const struct port_range *pr, char *buf, size_t sz)
{
	if (pr->first == pr->last)
		snprintf(buf, sz, "%u", (unsigned)pr->first);
	else
		snprintf(buf, sz, "%u-%u", (unsigned)pr->first,
			 (unsigned)pr->last);
}

/*
 * firstboot.yaml's control_plane_vip: what the agent's vip step needs
 * beyond the files (docs/formats.md).
 */
static void
emit_vip(struct yemit *y, const struct inventory *inv)
{
	char ip[IPV4_STR_LEN];

	ipv4_format(inv->cluster.vip.address, ip);
	yemit_str(y, "control_plane_vip");
	yemit_map_start(y, false);
	yemit_kv_str(y, "address", ip);
	yemit_kv_u64(y, "port", inv->cluster.vip.port);
	yemit_kv_str(y, "interface_file", RENDER_VIP_IFACE_FILE);
	yemit_map_end(y);
}

/* firstboot.yaml for node n (docs/formats.md). */
int
render_firstboot(const struct render_ctx *c, size_t n, const char *kubeadm,
		 size_t kubeadm_len, struct buf *out)
{
	const struct inventory *inv = c->inv;
	const struct inv_node *node = &inv->nodes[n];
	const struct role_profile *p = &inv->roles[node->role];
	const char *action = render_action(c, n);
	struct pfile files[MAX_PFILES];
	struct vip_bufs vb;
	char mac[MAC_STR_LEN], ip[IPV4_STR_LEN], cidr[32], s[300];
	struct yemit *y;
	size_t i, nf;
	int r;

	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);
	yemit_kv_u64(y, "version", 1);

	yemit_str(y, "node");
	yemit_map_start(y, true);
	yemit_kv_str(y, "name", node->name);
	yemit_kv_str(y, "role", role_name(node->role));
	mac_format(node->mac, mac);
	yemit_kv_str(y, "mac", mac);
	yemit_kv_str(y, "ip", node_ip(node, ip));
	yemit_map_end(y);

	yemit_str(y, "cluster");
	yemit_map_start(y, false);
	yemit_kv_str(y, "name", inv->cluster.name);
	yemit_kv_str(y, "kubernetes_version", inv->cluster.kubernetes_version);
	format_endpoint(inv, s, sizeof(s));
	yemit_kv_str(y, "endpoint", s);
	format_cidr(&inv->cluster.pod_subnet, cidr, sizeof(cidr));
	yemit_kv_str(y, "pod_subnet", cidr);
	format_cidr(&inv->cluster.service_subnet, cidr, sizeof(cidr));
	yemit_kv_str(y, "service_subnet", cidr);
	yemit_kv_bool(y, "cni_configured", c->cni_manifest_url != NULL);
	yemit_map_end(y);

	yemit_str(y, "server");
	yemit_map_start(y, false);
	ipv4_format(inv->network.server_ip, ip);
	snprintf(s, sizeof(s), "https://%s:%u", ip, RENDER_HTTPS_PORT);
	yemit_kv_str(y, "url", s);
	yemit_str(y, "ca");
	yemit_text(y, c->pki->prov_ca.cert_pem,
		   strlen(c->pki->prov_ca.cert_pem));
	yemit_map_end(y);

	/* The shared hosts entry, spliced between the two halves. */
	yemit_map_end(y);
	r = finish_part(y, out);
	if (r == 0)
		r = buf_append(out, c->hosts_yaml, c->hosts_yaml_len);
	if (r < 0)
		return r;
	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);

	emit_strlist(y, "kernel_modules", &p->modules, true);
	yemit_str(y, "sysctls");
	yemit_map_start(y, p->nsysctls == 0);
	for (i = 0; i < p->nsysctls; i++)
		yemit_kv_str(y, p->sysctls[i].key, p->sysctls[i].value);
	yemit_map_end(y);
	yemit_kv_bool(y, "swap_off", p->swap_off);
	yemit_kv_str(y, "selinux", selinux_name(p->selinux));
	yemit_str(y, "firewall");
	yemit_seq_start(y, p->nports == 0);
	for (i = 0; i < p->nports; i++) {
		format_port(&p->ports[i], s, sizeof(s));
		yemit_map_start(y, true);
		yemit_kv_str(y, "port", s);
		yemit_kv_str(y, "proto", p->ports[i].udp ? "udp" : "tcp");
		yemit_map_end(y);
	}
	if (vip_node(c, n)) {
		/* haproxy's port, on every control plane. */
		snprintf(s, sizeof(s), "%u", (unsigned)inv->cluster.vip.port);
		yemit_map_start(y, true);
		yemit_kv_str(y, "port", s);
		yemit_kv_str(y, "proto", "tcp");
		yemit_map_end(y);
	}
	yemit_seq_end(y);

	yemit_str(y, "container_runtime");
	yemit_map_start(y, false);
	yemit_kv_str(y, "kind",
		     inv->cluster.runtime == RUNTIME_DOCKER ? "docker"
							    : "containerd");
	yemit_kv_str(y, "cgroup_driver", p->runtime.cgroup_driver);
	yemit_kv_str(y, "log_max_size", p->runtime.log_max_size);
	yemit_kv_u64(y, "log_max_files", p->runtime.log_max_files);
	yemit_kv_str(y, "storage_driver", p->runtime.storage_driver);
	emit_strlist(y, "registry_mirrors", &inv->cluster.registry_mirrors,
		     false);
	yemit_kv_str(y, "cri_socket", cri_socket(inv));
	if (inventory_sandbox_image(inv, s, sizeof(s)) == 0)
		yemit_kv_str(y, "sandbox_image", s);
	yemit_map_end(y);

	nf = node_pki_files(c, n, files);
	vip_bufs_init(&vb);
	r = node_vip_files(c, n, files, &nf, &vb);
	if (r < 0) {
		vip_bufs_done(&vb);
		yemit_free(y);
		return r;
	}
	yemit_str(y, "files");
	yemit_seq_start(y, false);
	for (i = 0; i < nf; i++) {
		yemit_map_start(y, false);
		yemit_kv_str(y, "path", files[i].path);
		yemit_kv_str(y, "mode", files[i].mode);
		yemit_str(y, "content");
		yemit_text(y, files[i].content, strlen(files[i].content));
		yemit_map_end(y);
	}
	yemit_seq_end(y);
	if (vip_node(c, n))
		emit_vip(y, inv);

	yemit_str(y, "kubeadm");
	yemit_map_start(y, false);
	yemit_kv_str(y, "action", action);
	yemit_str(y, "config");
	yemit_text(y, kubeadm, kubeadm_len);
	if (strncmp(action, "join", 4) == 0) {
		yemit_str(y, "wait_for");
		yemit_map_start(y, false);
		readyz_url(inv, s, sizeof(s));
		yemit_kv_str(y, "url", s);
		yemit_str(y, "ca");
		yemit_text(y, c->pki->ca.cert_pem, strlen(c->pki->ca.cert_pem));
		yemit_kv_u64(y, "timeout", RENDER_WAIT_TIMEOUT);
		yemit_map_end(y);
	}
	yemit_map_end(y);

	if (node == c->first_cp) {
		yemit_str(y, "cni");
		yemit_map_start(y, false);
		yemit_kv_str(y, "name", inv->cluster.cni_name);
		yemit_kv_str_or_null(y, "manifest", c->cni_manifest_url);
		if (c->cni_manifest_url != NULL && c->cni_sha256 != NULL)
			yemit_kv_str(y, "sha256", c->cni_sha256);
		yemit_map_end(y);
	}
	yemit_kv_u64(y, "ready_timeout", RENDER_READY_TIMEOUT);
	yemit_map_end(y);
	r = finish(y);
	vip_bufs_done(&vb);
	return r;
}

/* ---- cloud-init NoCloud -------------------------------------------------- */

static void
wf(struct yemit *y, const char *path, const char *perm, const char *content,
   size_t len)
{
	yemit_map_start(y, false);
	yemit_kv_str(y, "path", path);
	yemit_kv_str(y, "permissions", perm);
	yemit_kv_str(y, "owner", "root:root");
	yemit_str(y, "content");
	yemit_text(y, content, len);
	yemit_map_end(y);
}

/* One runcmd entry given as an argument vector (no shell unless argv[0]). */
static void
cmd(struct yemit *y, const char *const *argv)
{
	size_t i;

	yemit_seq_start(y, true);
	for (i = 0; argv[i] != NULL; i++)
		yemit_str(y, argv[i]);
	yemit_seq_end(y);
}

/* Append s to b as a JSON string (for docker's daemon.json). */
static int
json_str(struct buf *b, const char *s)
{
	int r = buf_puts(b, "\"");

	for (; r == 0 && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			r = buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			r = buf_printf(b, "\\u%04x", ch);
		else
			r = buf_append(b, s, 1);
	}
	return r == 0 ? buf_puts(b, "\"") : r;
}

/* Where the user-data leaves what a runcmd step installs or reads. */
#define UD_CTR_V2 "/etc/metalboot/containerd-v2.toml"
#define UD_CTR_V3 "/etc/metalboot/containerd-v3.toml"

static int
docker_json(const struct render_ctx *c, const struct role_profile *p,
	    struct buf *b)
{
	const struct strlist *m = &c->inv->cluster.registry_mirrors;
	size_t i;
	int r;

	r = buf_printf(b,
		       "{\n  \"exec-opts\": "
		       "[\"native.cgroupdriver=%s\"],\n"
		       "  \"log-driver\": \"json-file\",\n"
		       "  \"log-opts\": { \"max-size\": ",
		       p->runtime.cgroup_driver);
	if (r == 0)
		r = json_str(b, p->runtime.log_max_size);
	if (r == 0)
		r = buf_printf(b,
			       ", \"max-file\": \"%u\" },\n"
			       "  \"storage-driver\": ",
			       p->runtime.log_max_files);
	if (r == 0)
		r = json_str(b, p->runtime.storage_driver);
	if (r == 0)
		r = buf_puts(b, ",\n  \"registry-mirrors\": [");
	for (i = 0; r == 0 && i < m->n; i++) {
		r = buf_puts(b, i ? ", " : "");
		if (r == 0)
			r = json_str(b, m->v[i]);
	}
	return r == 0 ? buf_puts(b, "]\n}\n") : r;
}

/*
 * The runtime's files: docker's daemon.json; containerd's config in both
 * versions (the runcmd step picks the one the installed containerd reads,
 * ctrconf.h); the mirrors as hosts.toml, which every containerd reads.
 * kubelet pulls through containerd's CRI with either runtime.
 */
static int
runtime_files(struct yemit *y, const struct render_ctx *c,
	      const struct role_profile *p)
{
	const struct strlist *m = &c->inv->cluster.registry_mirrors;
	char image[256];
	struct ctrconf cc = {
		.systemd_cgroup =
			strcmp(p->runtime.cgroup_driver, "systemd") == 0,
		.sandbox_image = image,
	};
	struct buf b;
	int r = inventory_sandbox_image(c->inv, image, sizeof(image));

	buf_init(&b, RENDER_SMALL_MAX);
	if (r == 0 && c->inv->cluster.runtime == RUNTIME_DOCKER) {
		r = docker_json(c, p, &b);
		if (r == 0)
			wf(y, "/etc/docker/daemon.json", "0644", b.data, b.len);
		buf_done(&b);
	}
	if (r == 0)
		r = ctrconf_render(2, &cc, &b);
	if (r == 0)
		wf(y, UD_CTR_V2, "0644", b.data, b.len);
	buf_done(&b);
	if (r == 0)
		r = ctrconf_render(3, &cc, &b);
	if (r == 0)
		wf(y, UD_CTR_V3, "0644", b.data, b.len);
	buf_done(&b);
	if (r == 0 && m->n > 0) {
		r = ctrconf_hosts_toml((const char *const *)m->v, m->n, &b);
		if (r == 0)
			wf(y, CTRCONF_CERTS_D "/docker.io/hosts.toml", "0644",
			   b.data, b.len);
	}
	buf_done(&b);
	return r;
}

/*
 * The firewall script and its boot unit (hostconf.h): the profile's ports,
 * and haproxy's on a control plane of a VIP.
 */
static int
firewall_files(struct yemit *y, const struct render_ctx *c, size_t n,
	       const struct role_profile *p)
{
	struct hostconf_port ports[INV_MAX_LIST + 1];
	char spec[INV_MAX_LIST + 1][16];
	struct buf b;
	size_t i, k = 0;
	int r;

	for (i = 0; i < p->nports && k < INV_MAX_LIST; i++, k++) {
		format_port(&p->ports[i], spec[k], sizeof(spec[k]));
		ports[k].port = spec[k];
		ports[k].udp = p->ports[i].udp;
	}
	if (vip_node(c, n)) {
		snprintf(spec[k], sizeof(spec[k]), "%u",
			 (unsigned)c->inv->cluster.vip.port);
		ports[k].port = spec[k];
		ports[k++].udp = false;
	}
	buf_init(&b, RENDER_SMALL_MAX);
	r = hostconf_fw_script(ports, k, &b);
	if (r == 0)
		wf(y, HOSTCONF_FW_SCRIPT, "0755", b.data, b.len);
	buf_done(&b);
	if (r == 0)
		r = hostconf_fw_unit(&b);
	if (r == 0)
		wf(y, HOSTCONF_FW_UNIT, "0644", b.data, b.len);
	buf_done(&b);
	return r;
}

/*
 * An external etcd member runs as a static pod of a kubelet that is not
 * part of the cluster (kubeadm's "external etcd with kubeadm" guide): its
 * own KubeletConfiguration and a drop-in that starts it with it.
 */
static int
etcd_kubelet_files(struct yemit *uy, const struct render_ctx *c,
		   const struct role_profile *p)
{
	static const char dropin[] =
		"[Service]\n"
		"ExecStart=\n"
		"ExecStart=/usr/bin/kubelet "
		"--config=/etc/systemd/system/kubelet.service.d/kubelet.conf\n"
		"Restart=always\n";
	struct buf b;
	struct yemit *y;
	int r;

	buf_init(&b, RENDER_SMALL_MAX);
	y = yemit_new(&b);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);
	emit_header(y, "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration");
	yemit_str(y, "authentication");
	yemit_map_start(y, false);
	yemit_str(y, "anonymous");
	yemit_map_start(y, true);
	yemit_kv_bool(y, "enabled", false);
	yemit_map_end(y);
	yemit_str(y, "webhook");
	yemit_map_start(y, true);
	yemit_kv_bool(y, "enabled", false);
	yemit_map_end(y);
	yemit_map_end(y);
	yemit_str(y, "authorization");
	yemit_map_start(y, true);
	yemit_kv_str(y, "mode", "AlwaysAllow");
	yemit_map_end(y);
	yemit_kv_str(y, "cgroupDriver", p->runtime.cgroup_driver);
	yemit_kv_str(y, "address", "127.0.0.1");
	yemit_kv_str(y, "containerRuntimeEndpoint", cri_socket(c->inv));
	yemit_kv_str(y, "staticPodPath", "/etc/kubernetes/manifests");
	if (!p->swap_off)
		yemit_kv_bool(y, "failSwapOn", false);
	yemit_map_end(y);
	r = finish(y);
	if (r == 0) {
		wf(uy, "/etc/systemd/system/kubelet.service.d/kubelet.conf",
		   "0644", b.data, b.len);
		wf(uy,
		   "/etc/systemd/system/kubelet.service.d/"
		   "20-etcd-service-manager.conf",
		   "0644", dropin, strlen(dropin));
	}
	buf_done(&b);
	return r;
}

static const char sh_selinux[] =
	"if command -v setenforce >/dev/null 2>&1; then setenforce 0 || true; "
	"fi; if [ -f /etc/selinux/config ]; then sed -i "
	"'s/^SELINUX=enforcing/SELINUX='\"$0\"'/' /etc/selinux/config; fi";
/*
 * Every tool a later step runs that packages: installs ("$@"): when the
 * install failed, stop here with its name rather than loop on "not found".
 */
static const char sh_need[] =
	"for t in \"$@\"; do command -v \"$t\" >/dev/null 2>&1 || { echo "
	"\"metalboot: $t is not installed (did packages: fail?)\" >&2; exit 1; "
	"}; done";
/*
 * containerd's config for the version installed: 2.x reads version 3
 * ($1), 1.6 and 1.7 version 2 ($0), as does a version that cannot be read
 * (the agent's choice too). A package's own config.toml (which may
 * disable the CRI plugin) is kept once as config.toml.orig.
 */
static const char sh_containerd[] =
	"set -e; m=$(containerd --version | awk '{for (i = 2; i <= NF; i++) "
	"{ v = $i; sub(/^v/, \"\", v); if (v ~ /^[0-9]+\\.[0-9]+/) { "
	"split(v, a, \".\"); print a[1]; exit } } }'); f=$0; if [ -z \"$m\" "
	"]; then echo 'metalboot: containerd version unknown: config version "
	"2' >&2; elif [ \"$m\" -ge 2 ]; then f=$1; fi; "
	"c=/etc/containerd/config.toml; "
	"mkdir -p /etc/containerd; if [ -f \"$c\" ] && [ ! -f \"$c.orig\" ]; "
	"then cp -p \"$c\" \"$c.orig\"; fi; install -m 0644 \"$f\" \"$c\"; "
	"systemctl restart containerd";
/*
 * The Kubernetes apt repository: its key first ($0, dearmored into the
 * keyring the list names), then the list ($1), so that no apt-get update
 * ever sees an unsigned source; then kubelet, kubeadm and kubectl at the
 * inventory's exact version ($2: "1.30.2-*"), held.
 */
static const char sh_apt_k8s[] =
	"set -e; k=/etc/apt/keyrings/kubernetes-apt-keyring.gpg; t=$(mktemp); "
	"trap 'rm -f \"$t\"' EXIT; mkdir -p -m 755 /etc/apt/keyrings; curl "
	"-fsSL --retry 5 -o \"$t\" \"$0\"; gpg --dearmor --yes -o \"$k\" "
	"\"$t\"; chmod 644 \"$k\"; printf '%s\\n' \"$1\" > "
	"/etc/apt/sources.list.d/kubernetes.list; apt-get update; "
	"DEBIAN_FRONTEND=noninteractive apt-get install -y "
	"--allow-change-held-packages \"kubelet=$2\" \"kubeadm=$2\" "
	"\"kubectl=$2\"; apt-mark hold kubelet kubeadm kubectl";
static const char sh_wait[] =
	"i=0; until curl -fsS --cacert " RENDER_PKI_DIR "/ca.crt \"$0\" "
	">/dev/null; do i=$((i+5)); if [ \"$i\" -ge \"$1\" ]; then echo "
	"\"metalboot: $0 not ready after $1 s\" >&2; exit 1; fi; sleep 5; "
	"done";
/*
 * With an external etcd, kubeadm init waits for nothing: each member must
 * answer /health (200 only when the cluster has a leader) first, within
 * one overall budget ($0 seconds, counted in 5 s sleeps; each try is
 * capped at 10 s), reached with the API server's etcd client certificate
 * that write_files installed. The URLs are "$@".
 */
/*
 * Any member answering /health with 200 will do: etcd says healthy only
 * when the cluster has a leader, i.e. quorum (the agent stops there too).
 */
static const char sh_etcd_wait[] =
	"i=0; while :; do for u in \"$@\"; do curl -fsS --max-time 10 "
	"--cacert " RENDER_PKI_DIR "/etcd/ca.crt --cert " RENDER_PKI_DIR
	"/apiserver-etcd-client.crt "
	"--key " RENDER_PKI_DIR "/apiserver-etcd-client.key \"$u\" "
	">/dev/null && exit 0; done; i=$((i+5)); if [ \"$i\" -ge \"$0\" ]; "
	"then exit 1; fi; sleep 5; done";

/*
 * keepalived.conf includes the interface that holds the node's address
 * ($0), written to $1 at boot: interface names differ between machines.
 */
static const char sh_vip_iface[] =
	"ifc=$(ip -o -4 addr show to \"$0\" | awk '{print $2; exit}'); "
	"[ -n \"$ifc\" ] || exit 1; printf 'interface %s\\n' \"$ifc\" > "
	"\"$1\"";
/*
 * Before kubeadm init, the first control plane waits (at most $1 seconds)
 * until the VIP's URL $0 takes connections: keepalived placed it and
 * haproxy listens. curl's 7 and 28 mean no connection; anything else, even
 * a TLS failure while no API server is behind haproxy yet, means up.
 */
static const char sh_vip_wait[] =
	"i=0; while :; do curl -sk --max-time 3 -o /dev/null \"$0\"; rc=$?; "
	"if [ \"$rc\" -ne 7 ] && [ \"$rc\" -ne 28 ]; then exit 0; fi; "
	"i=$((i+3)); if [ \"$i\" -ge \"$1\" ]; then exit 1; fi; sleep 3; "
	"done";

/* keepalived and haproxy on a control plane of a VIP, before kubeadm. */
static void
emit_vip_start(struct yemit *y, const struct inv_node *node)
{
	char ip[IPV4_STR_LEN];

	cmd(y, (const char *[]){ "sh", "-c", sh_vip_iface, node_ip(node, ip),
				 RENDER_VIP_IFACE_FILE, NULL });
	cmd(y, (const char *[]){ "systemctl", "enable", "haproxy", "keepalived",
				 NULL });
	cmd(y, (const char *[]){ "systemctl", "restart", "haproxy", NULL });
	cmd(y, (const char *[]){ "systemctl", "restart", "keepalived", NULL });
}

static void
emit_vip_wait(struct yemit *y, const struct inventory *inv)
{
	char ip[IPV4_STR_LEN], url[64], t[16];

	ipv4_format(inv->cluster.vip.address, ip);
	snprintf(url, sizeof(url), "https://%s:%u/", ip,
		 (unsigned)inv->cluster.vip.port);
	snprintf(t, sizeof(t), "%u", RENDER_VIP_WAIT);
	cmd(y, (const char *[]){ "sh", "-c", sh_vip_wait, url, t, NULL });
}

/* The first control plane's wait for a healthy external etcd. */
static void
emit_etcd_wait(struct yemit *y, const struct inventory *inv)
{
	char ip[IPV4_STR_LEN], url[64];
	size_t i;

	yemit_seq_start(y, true);
	yemit_str(y, "sh");
	yemit_str(y, "-c");
	yemit_str(y, sh_etcd_wait);
	snprintf(url, sizeof(url), "%u", RENDER_WAIT_TIMEOUT);
	yemit_str(y, url);
	for (i = 0; i < inv->nnodes; i++) {
		if (inv->nodes[i].role != ROLE_ETCD)
			continue;
		snprintf(url, sizeof(url), "https://%s:2379/health",
			 node_ip(&inv->nodes[i], ip));
		yemit_str(y, url);
	}
	yemit_seq_end(y);
}

/*
 * NoCloud-net's user-data travels over plain HTTP, so it carries no secret:
 * this step fetches the node's secret bundle from $0 over HTTPS, trusting
 * the provisioning CA alone (which write_files installed), and unpacks it
 * at / with 0600 files. curl comes with packages: (cloud-init's config
 * stage, before runcmd), but a failed install must end here with a clear
 * message, not in a confusing kubeadm error. curl does not retry a 403 or
 * a 410: those are final (wrong address, served once already).
 */
static const char sh_secrets[] =
	"set -e; umask 077; command -v curl >/dev/null 2>&1 || { echo "
	"'metalboot: curl is not installed: cannot fetch the node secrets' "
	">&2; exit 1; }; t=$(mktemp); trap 'rm -f \"$t\"' EXIT; "
	"curl -fsS --retry 30 --retry-delay 5 --retry-connrefused "
	"--connect-timeout 10 --max-time 120 --cacert " RENDER_PROV_CA_PATH
	" -o \"$t\" \"$0\"; tar -x -f \"$t\" -C /";

/* The URL of node n's secret bundle on the server. */
static void
secrets_url(const struct render_ctx *c, size_t n, char *buf, size_t sz)
{
	char ip[IPV4_STR_LEN], mac[MAC_STR_LEN];

	ipv4_format(c->inv->network.server_ip, ip);
	mac_format(c->inv->nodes[n].mac, mac);
	snprintf(buf, sz, "https://%s:%u/v1/nodes/%s/secrets", ip,
		 RENDER_HTTPS_PORT, mac);
}

int
render_secret_bundle(const struct render_ctx *c, size_t n, const char *kubeadm,
		     size_t kubeadm_len, time_t mtime, struct buf *out)
{
	struct pfile files[MAX_PFILES];
	struct bundle_file bf[MAX_PFILES + 1];
	struct vip_bufs vb;
	size_t i, nf, k = 0;
	int r;

	vip_bufs_init(&vb);
	nf = node_pki_files(c, n, files);
	r = node_vip_files(c, n, files, &nf, &vb);
	if (r < 0) {
		vip_bufs_done(&vb);
		return r;
	}
	for (i = 0; i < nf; i++) {
		if (!files[i].secret)
			continue;
		bf[k].path = files[i].path;
		bf[k].data = files[i].content;
		bf[k].len = strlen(files[i].content);
		bf[k].mode = 0600;
		k++;
	}
	bf[k].path = RENDER_KUBEADM_PATH;
	bf[k].data = kubeadm;
	bf[k].len = kubeadm_len;
	bf[k].mode = 0600;
	k++;
	r = bundle_write(bf, k, mtime, out);
	vip_bufs_done(&vb);
	return r;
}

/*
 * The manifest's chain, one step that stops at the first failure and says
 * which: fetch $0, check its sha256 $1 (nothing is applied on a mismatch),
 * write flannel's pod network $2 (when set) into net-conf.json, apply.
 */
static const char sh_cni[] =
	"set -e; f=/var/lib/metalboot/cni.yaml; t=$(mktemp); trap 'rm -f "
	"\"$t\"' EXIT; curl -fsSL --retry 5 -o \"$t\" \"$0\" || { echo "
	"\"metalboot: cni: cannot download $0\" >&2; exit 1; }; echo \"$1  "
	"$t\" | sha256sum -c --status - || { echo \"metalboot: cni: $0 does "
	"not have sha256 $1: nothing applied\" >&2; exit 1; }; if [ -n \"$2\" "
	"]; then sed -i '0,/\"Network\": \"[^\"]*\"/s##\"Network\": \"'\"$2\"'"
	"\"#' \"$t\"; fi; install -D -m 0644 \"$t\" \"$f\"; kubectl "
	"--kubeconfig=/etc/kubernetes/admin.conf apply -f \"$f\"";

/* The minor's repository (pkgs.k8s.io) or the --apt-repo/--rpm-repo one. */
static void
k8s_repo(const struct render_ctx *c, enum os_family f, char *buf, size_t sz)
{
	const char *mirror = f == OS_RHEL ? c->rpm_repo : c->apt_repo;

	if (mirror != NULL)
		snprintf(buf, sz, "%s", mirror);
	else
		snprintf(buf, sz,
			 "https://pkgs.k8s.io/core:/stable:/v%u.%u/%s/",
			 c->inv->cluster.kv_major, c->inv->cluster.kv_minor,
			 f == OS_RHEL ? "rpm" : "deb");
}

/* What cloud-init installs before runcmd, in the family's names. */
static void
ud_packages(struct yemit *y, const struct render_ctx *c, size_t n)
{
	bool rhel = c->inv->nodes[n].os_family == OS_RHEL;
	bool docker = c->inv->cluster.runtime == RUNTIME_DOCKER;

	yemit_kv_bool(y, "package_update", true);
	yemit_str(y, "packages");
	yemit_seq_start(y, true);
	yemit_str(y, "curl");
	yemit_str(y, "ca-certificates");
	yemit_str(y, "tar");
	if (rhel) {
		/* containerd.io and docker-ce: Docker's repository. */
		yemit_str(y, "containerd.io");
		if (docker) {
			yemit_str(y, "docker-ce");
			yemit_str(y, "docker-ce-cli");
		}
	} else {
		yemit_str(y, "gpg");
		yemit_str(y, docker ? "docker.io" : "containerd");
	}
	if (vip_node(c, n)) {
		yemit_str(y, "keepalived");
		yemit_str(y, "haproxy");
	}
	yemit_seq_end(y);
}

static void
yum_repo(struct yemit *y, const char *id, const char *name, const char *url,
	 const char *key, const char *exclude)
{
	yemit_str(y, id);
	yemit_map_start(y, false);
	yemit_kv_str(y, "name", name);
	yemit_kv_str(y, "baseurl", url);
	yemit_kv_bool(y, "enabled", true);
	yemit_kv_bool(y, "gpgcheck", true);
	yemit_kv_str(y, "gpgkey", key);
	if (exclude != NULL)
		yemit_kv_str(y, "exclude", exclude);
	yemit_map_end(y);
}

/*
 * RHEL family: Kubernetes' rpm repository, its packages excluded from
 * every update (the dnf/yum hold), and Docker's for containerd.io, written
 * by cloud-init's yum_repos before packages: installs.
 */
static void
ud_yum_repos(struct yemit *y, const struct render_ctx *c)
{
	char repo[RENDER_APT_REPO_MAX + 1], key[RENDER_APT_REPO_MAX + 64];

	k8s_repo(c, OS_RHEL, repo, sizeof(repo));
	snprintf(key, sizeof(key), "%srepodata/repomd.xml.key", repo);
	yemit_str(y, "yum_repos");
	yemit_map_start(y, false);
	yum_repo(y, "kubernetes", "Kubernetes", repo, key,
		 "kubelet kubeadm kubectl cri-tools kubernetes-cni");
	yum_repo(y, "docker-ce-stable", "Docker CE Stable",
		 "https://download.docker.com/linux/centos/$releasever/"
		 "$basearch/stable",
		 "https://download.docker.com/linux/centos/gpg", NULL);
	yemit_map_end(y);
}

/* modules-load.d and sysctl.d, and zram's generator turned off. */
static int
host_files(struct yemit *y, const struct role_profile *p)
{
	struct buf b;
	size_t i;
	int r = 0;

	buf_init(&b, RENDER_SMALL_MAX);
	for (i = 0; r == 0 && i < p->modules.n; i++)
		r = buf_printf(&b, "%s\n", p->modules.v[i]);
	if (r == 0 && b.len > 0)
		wf(y, "/etc/modules-load.d/metalboot.conf", "0644", b.data,
		   b.len);
	buf_done(&b);
	for (i = 0; r == 0 && i < p->nsysctls; i++)
		r = buf_printf(&b, "%s = %s\n", p->sysctls[i].key,
			       p->sysctls[i].value);
	if (r == 0 && b.len > 0)
		wf(y, "/etc/sysctl.d/90-metalboot.conf", "0644", b.data, b.len);
	buf_done(&b);
	if (p->swap_off)
		wf(y, HOSTCONF_ZRAM_GENERATOR_CONF, "0644", "", 0);
	return r;
}

static int
ud_write_files(struct yemit *y, const struct render_ctx *c, size_t n,
	       const char *kubeadm, size_t kubeadm_len, enum render_seed seed,
	       struct vip_bufs *vb)
{
	const struct inv_node *node = &c->inv->nodes[n];
	const struct role_profile *p = &c->inv->roles[node->role];
	struct pfile files[MAX_PFILES];
	size_t i, nf;
	int r;

	yemit_str(y, "write_files");
	yemit_seq_start(y, false);
	wf(y, "/etc/hosts", "0644", c->hosts_text, c->hosts_len);
	r = host_files(y, p);
	if (r == 0)
		r = runtime_files(y, c, p);
	if (r == 0)
		r = firewall_files(y, c, n, p);
	if (r < 0)
		return r;
	nf = node_pki_files(c, n, files);
	r = node_vip_files(c, n, files, &nf, vb);
	if (r < 0)
		return r;
	for (i = 0; i < nf; i++)
		if (seed == RENDER_SEED_LOCAL || !files[i].secret)
			wf(y, files[i].path, files[i].mode, files[i].content,
			   strlen(files[i].content));
	if (seed == RENDER_SEED_LOCAL)
		wf(y, RENDER_KUBEADM_PATH, "0600", kubeadm, kubeadm_len);
	else
		wf(y, RENDER_PROV_CA_PATH, "0644", c->pki->prov_ca.cert_pem,
		   strlen(c->pki->prov_ca.cert_pem));
	if (node->role == ROLE_ETCD)
		r = etcd_kubelet_files(y, c, p);
	yemit_seq_end(y);
	return r;
}

/* Swap (zram's included), modules, sysctls, SELinux. */
static void
ud_run_host(struct yemit *y, const struct role_profile *p)
{
	size_t i;

	if (p->swap_off) {
		yemit_seq_start(y, true);
		yemit_str(y, "systemctl");
		yemit_str(y, "mask");
		for (i = 0; hostconf_zram_units[i] != NULL; i++)
			yemit_str(y, hostconf_zram_units[i]);
		yemit_seq_end(y);
		cmd(y, (const char *[]){ "swapoff", "-a", NULL });
		cmd(y, (const char *[]){ "sed", "-i", "/\\sswap\\s/ s/^#*/#/",
					 "/etc/fstab", NULL });
	}
	for (i = 0; i < p->modules.n; i++)
		cmd(y, (const char *[]){ "modprobe", p->modules.v[i], NULL });
	cmd(y, (const char *[]){ "sysctl", "--system", NULL });
	if (p->selinux != SELINUX_KEEP)
		cmd(y, (const char *[]){ "sh", "-c", sh_selinux,
					 selinux_name(p->selinux), NULL });
}

/*
 * containerd's config (docker restarts after it), kubelet, kubeadm and
 * kubectl at the inventory's version, and the firewall unit last: docker's
 * start sets the FORWARD policy the unit sets back.
 */
static void
ud_run_runtime(struct yemit *y, const struct render_ctx *c, size_t n)
{
	const struct inventory *inv = c->inv;
	char repo[RENDER_APT_REPO_MAX + 1], s[RENDER_APT_REPO_MAX + 96];
	char ver[32], pk[3][48];

	cmd(y, (const char *[]){ "sh", "-c", sh_containerd, UD_CTR_V2,
				 UD_CTR_V3, NULL });
	if (inv->cluster.runtime == RUNTIME_DOCKER)
		cmd(y,
		    (const char *[]){ "systemctl", "restart", "docker", NULL });
	k8s_repo(c, inv->nodes[n].os_family, repo, sizeof(repo));
	snprintf(ver, sizeof(ver), "%u.%u.%u", inv->cluster.kv_major,
		 inv->cluster.kv_minor, inv->cluster.kv_patch);
	if (inv->nodes[n].os_family == OS_RHEL) {
		snprintf(pk[0], sizeof(pk[0]), "kubelet-%s", ver);
		snprintf(pk[1], sizeof(pk[1]), "kubeadm-%s", ver);
		snprintf(pk[2], sizeof(pk[2]), "kubectl-%s", ver);
		cmd(y, (const char *[]){ "yum", "install", "-y",
					 "--disableexcludes=kubernetes", pk[0],
					 pk[1], pk[2], NULL });
	} else {
		char key[RENDER_APT_REPO_MAX + 16];

		snprintf(key, sizeof(key), "%sRelease.key", repo);
		snprintf(s, sizeof(s),
			 "deb [signed-by=/etc/apt/keyrings/"
			 "kubernetes-apt-keyring.gpg] %s /",
			 repo);
		snprintf(pk[0], sizeof(pk[0]), "%s-*", ver);
		cmd(y, (const char *[]){ "sh", "-c", sh_apt_k8s, key, s, pk[0],
					 NULL });
	}
	cmd(y, (const char *[]){ "systemctl", "enable", "--now", "kubelet",
				 NULL });
	cmd(y, (const char *[]){ "systemctl", "daemon-reload", NULL });
	cmd(y, (const char *[]){ "systemctl", "enable", "--now",
				 HOSTCONF_FW_UNIT_NAME, NULL });
}

static void
ud_run_cni(struct yemit *y, const struct render_ctx *c)
{
	char cidr[32] = "";

	if (c->cni_manifest_url == NULL)
		return;
	if (strcmp(c->inv->cluster.cni_name, "flannel") == 0)
		format_cidr(&c->inv->cluster.pod_subnet, cidr, sizeof(cidr));
	cmd(y, (const char *[]){ "sh", "-c", sh_cni, c->cni_manifest_url,
				 c->cni_sha256, cidr, NULL });
}

/* kubeadm init, join or the etcd member's phase, and what goes with it. */
static void
ud_run_kube(struct yemit *y, const struct render_ctx *c, size_t n)
{
	const struct inventory *inv = c->inv;
	const char *action = render_action(c, n);
	char s[300], t[16];

	if (vip_node(c, n))
		emit_vip_start(y, &inv->nodes[n]);
	if (strncmp(action, "join", 4) == 0) {
		readyz_url(inv, s, sizeof(s));
		snprintf(t, sizeof(t), "%u", RENDER_WAIT_TIMEOUT);
		cmd(y, (const char *[]){ "sh", "-c", sh_wait, s, t, NULL });
		cmd(y, (const char *[]){ "kubeadm", "join", "--config",
					 RENDER_KUBEADM_PATH, NULL });
	} else if (strcmp(action, "etcd") == 0) {
		cmd(y, (const char *[]){ "systemctl", "daemon-reload", NULL });
		cmd(y, (const char *[]){ "systemctl", "restart", "kubelet",
					 NULL });
		cmd(y, (const char *[]){ "kubeadm", "init", "phase", "etcd",
					 "local", "--config",
					 RENDER_KUBEADM_PATH, NULL });
	} else {
		if (vip_node(c, n))
			emit_vip_wait(y, inv);
		if (inv->cluster.etcd == ETCD_EXTERNAL)
			emit_etcd_wait(y, inv);
		cmd(y, (const char *[]){ "kubeadm", "init", "--config",
					 RENDER_KUBEADM_PATH, NULL });
		cmd(y, (const char *[]){ "install", "-D", "-m", "0600",
					 "/etc/kubernetes/admin.conf",
					 "/root/.kube/config", NULL });
		ud_run_cni(y, c);
	}
}

/*
 * runcmd runs as one sh script, one line per entry: "set -e" first, so
 * that the first failing step ends it (and cloud-init reports it) instead
 * of kubeadm running on a half-prepared host.
 */
static void
ud_runcmd(struct yemit *y, const struct render_ctx *c, size_t n,
	  enum render_seed seed)
{
	const struct inv_node *node = &c->inv->nodes[n];
	char s[1024];

	yemit_str(y, "runcmd");
	yemit_seq_start(y, false);
	yemit_str(y, "set -e");
	if (node->os_family == OS_RHEL)
		cmd(y, (const char *[]){ "sh", "-c", sh_need, "need", "curl",
					 "tar", NULL });
	else
		cmd(y, (const char *[]){ "sh", "-c", sh_need, "need", "curl",
					 "tar", "gpg", NULL });
	if (seed == RENDER_SEED_NET) {
		/* First: everything after it may need a key or the token. */
		secrets_url(c, n, s, sizeof(s));
		cmd(y, (const char *[]){ "sh", "-c", sh_secrets, s, NULL });
	}
	ud_run_host(y, &c->inv->roles[node->role]);
	ud_run_runtime(y, c, n);
	ud_run_kube(y, c, n);
	yemit_seq_end(y);
}

/* user-data (#cloud-config) for node n. */
int
render_user_data(const struct render_ctx *c, size_t n, const char *kubeadm,
		 size_t kubeadm_len, enum render_seed seed, struct buf *out)
{
	const struct inv_node *node = &c->inv->nodes[n];
	struct vip_bufs vb;
	struct yemit *y;
	int r;

	r = buf_puts(out, "#cloud-config\n");
	if (r < 0)
		return r;
	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	vip_bufs_init(&vb);
	yemit_map_start(y, false);
	yemit_kv_str(y, "hostname", node->name);
	yemit_kv_bool(y, "manage_etc_hosts", false);
	if (node->os_family == OS_RHEL)
		ud_yum_repos(y, c);
	ud_packages(y, c, n);
	r = ud_write_files(y, c, n, kubeadm, kubeadm_len, seed, &vb);
	if (r == 0) {
		ud_runcmd(y, c, n, seed);
		yemit_map_end(y);
		r = finish(y);
		y = NULL;
	}
	yemit_free(y);
	vip_bufs_done(&vb);
	return r;
}

/* meta-data for node n. */
int
render_meta_data(const struct render_ctx *c, size_t n, const char *instance_tag,
		 struct buf *out)
{
	const struct inv_node *node = &c->inv->nodes[n];
	struct yemit *y;
	char id[256];

	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	snprintf(id, sizeof(id), "metalboot-%s-%s-%s", c->inv->cluster.name,
		 node->name, instance_tag);
	yemit_map_start(y, false);
	yemit_kv_str(y, "instance-id", id);
	yemit_kv_str(y, "local-hostname", node->name);
	yemit_map_end(y);
	return finish(y);
}

/* network-config (version 2) for node n: the inventory's static address. */
int
render_network_config(const struct render_ctx *c, size_t n, struct buf *out)
{
	const struct inventory *inv = c->inv;
	const struct inv_node *node = &inv->nodes[n];
	char mac[MAC_STR_LEN], ip[IPV4_STR_LEN], s[40];
	struct yemit *y;
	size_t i;

	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);
	yemit_kv_u64(y, "version", 2);
	yemit_str(y, "ethernets");
	yemit_map_start(y, false);
	yemit_str(y, "primary");
	yemit_map_start(y, false);
	yemit_str(y, "match");
	yemit_map_start(y, false);
	mac_format(node->mac, mac);
	yemit_kv_str(y, "macaddress", mac);
	yemit_map_end(y);
	yemit_kv_bool(y, "dhcp4", false);
	yemit_str(y, "addresses");
	yemit_seq_start(y, false);
	snprintf(s, sizeof(s), "%s/%u", node_ip(node, ip),
		 inv->network.subnet.prefix);
	yemit_str(y, s);
	yemit_seq_end(y);
	if (inv->network.has_gateway) {
		yemit_str(y, "routes");
		yemit_seq_start(y, false);
		yemit_map_start(y, false);
		yemit_kv_str(y, "to", "0.0.0.0/0");
		ipv4_format(inv->network.gateway, ip);
		yemit_kv_str(y, "via", ip);
		yemit_map_end(y);
		yemit_seq_end(y);
	}
	if (inv->network.ndns > 0) {
		yemit_str(y, "nameservers");
		yemit_map_start(y, false);
		yemit_str(y, "addresses");
		yemit_seq_start(y, false);
		for (i = 0; i < inv->network.ndns; i++) {
			ipv4_format(inv->network.dns[i], ip);
			yemit_str(y, ip);
		}
		yemit_seq_end(y);
		yemit_map_end(y);
	}
	yemit_map_end(y);
	yemit_map_end(y);
	yemit_map_end(y);
	return finish(y);
}

/* ---- iPXE and netboot.yaml ----------------------------------------------- */

/*
 * iPXE expands ${...} and treats ||, && and quotes as script syntax on any
 * line, and has no escape for them; a command line holding one of these
 * characters cannot be passed through safely.
 */
static bool
ipxe_safe(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || strchr("$|&\"'\\`#", ch))
			return false;
	}
	return true;
}

/*
 * What the first stage reads (stage1/stage1.h): the state disk, whether
 * to wipe a foreign filesystem on it, the root tmpfs size. The inventory
 * checked each value, so none holds a space or script syntax.
 */
static int
storage_args(const struct inv_storage *st, char *out, size_t size)
{
	int len = snprintf(out, size, "%s%s%s%s%s",
			   st->state_device ? " metalboot.state=" : "",
			   st->state_device ? st->state_device : "",
			   st->wipe ? " metalboot.wipe=1" : "",
			   st->tmpfs_size ? " metalboot.tmpfs=" : "",
			   st->tmpfs_size ? st->tmpfs_size : "");

	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

/*
 * The kernel command line of node n: boot.cmdline, then where the agent
 * finds its server and which machine it is. -EINVAL when boot.cmdline
 * holds a character iPXE or GRUB would take as script syntax.
 */
static int
kernel_args(const struct render_ctx *c, size_t n, char *out, size_t size)
{
	const struct inventory *inv = c->inv;
	char ip[IPV4_STR_LEN], mac[MAC_STR_LEN];
	int len;

	if (!ipxe_safe(inv->boot.cmdline))
		return -EINVAL;
	ipv4_format(inv->network.server_ip, ip);
	mac_format(inv->nodes[n].mac, mac);
	len = snprintf(out, size,
		       "%s metalboot.server=https://%s:%u "
		       "metalboot.mac=%s",
		       inv->boot.cmdline, ip, RENDER_HTTPS_PORT, mac);
	if (len < 0 || (size_t)len >= size)
		return -ENAMETOOLONG;
	return storage_args(&inv->nodes[n].storage, out + len,
			    size - (size_t)len);
}

/* OUT/boot/NAME.ipxe for node n (docs/formats.md). */
int
render_ipxe(const struct render_ctx *c, size_t n, struct buf *out)
{
	const struct inventory *inv = c->inv;
	const char *role = role_name(inv->nodes[n].role);
	char ip[IPV4_STR_LEN], args[RENDER_CMDLINE_MAX];
	int r;

	r = kernel_args(c, n, args, sizeof(args));
	if (r < 0)
		return r;
	ipv4_format(inv->network.server_ip, ip);
	return buf_printf(
		out,
		"#!ipxe\n"
		"set base http://%s:%u/files\n"
		"set tries:int32 0\n"
		":kernel\n"
		"kernel ${base}/images/%s/vmlinuz initrd=initrd.img %s || "
		"goto kernel_retry\n"
		"initrd ${base}/images/%s/initrd.img || goto kernel_retry\n"
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
		"reboot\n",
		ip, RENDER_HTTP_PORT, role, args, role);
}

/* OUT/public/grub/grub.cfg (docs/formats.md). */
int
render_grub_main(struct buf *out)
{
	return buf_puts(
		out,
		"# metalboot: the Secure Boot chain's GRUB reads this first\n"
		"# (its prefix is /grub on the TFTP root), then the booting\n"
		"# machine's own file, which metalboot-netboot serves from\n"
		"# OUT/boot/NAME.grub.cfg.\n"
		"set timeout=0\n"
		"if [ -n \"$net_default_mac\" ]; then\n"
		"\tconfigfile \"$prefix/nodes/$net_default_mac.cfg\"\n"
		"fi\n"
		"echo \"metalboot: no boot configuration for this machine "
		"($net_default_mac); rebooting in 30 s\"\n"
		"sleep 30\n"
		"reboot\n");
}

/*
 * args as GRUB words, each single-quoted (kernel_args() refused quotes),
 * so that GRUB expands nothing in them. One word each: GRUB wraps an
 * argument holding a space in double quotes on the kernel command line.
 */
static int
grub_words(const char *args, char *out, size_t size)
{
	size_t o = 0;

	while (*args != '\0') {
		size_t n = strcspn(args, " ");

		if (n > 0) {
			if (o + n + 4 > size)
				return -ENAMETOOLONG;
			if (o > 0)
				out[o++] = ' ';
			out[o++] = '\'';
			memcpy(out + o, args, n);
			o += n;
			out[o++] = '\'';
		}
		args += n;
		args += strspn(args, " ");
	}
	out[o] = '\0';
	return 0;
}

/*
 * OUT/boot/NAME.grub.cfg for node n (docs/formats.md): the signed kernel
 * and the role's initrd by TFTP, retried as the iPXE script does.
 */
int
render_grub(const struct render_ctx *c, size_t n, struct buf *out)
{
	const struct inv_node *node = &c->inv->nodes[n];
	const char *role = role_name(node->role);
	char args[RENDER_CMDLINE_MAX], words[RENDER_CMDLINE_MAX * 2];
	char mac[MAC_STR_LEN];
	int r;

	r = kernel_args(c, n, args, sizeof(args));
	if (r == 0)
		r = grub_words(args, words, sizeof(words));
	if (r < 0)
		return r;
	mac_format(node->mac, mac);
	return buf_printf(
		out,
		"# metalboot: %s (%s), %s.\n"
		"# Secure Boot: shim verified this GRUB; GRUB has shim verify\n"
		"# the kernel. The initrd is not verified (docs/netboot.md,\n"
		"# \"Secure Boot\").\n"
		"set timeout=0\n"
		"for try in 1 2 3 4 5; do\n"
		"\techo \"metalboot: %s: loading the %s kernel and initrd "
		"(try $try)\"\n"
		"\tif linux /images/%s/vmlinuz %s; then\n"
		"\t\tif initrd /images/%s/initrd.img; then\n"
		"\t\t\tboot\n"
		"\t\tfi\n"
		"\tfi\n"
		"\tsleep 3\n"
		"done\n"
		"echo \"metalboot: boot files could not be fetched; rebooting "
		"in 30 s\"\n"
		"sleep 30\n"
		"reboot\n",
		node->name, mac, role, node->name, role, role, words, role);
}

static const char *
dhcp_name(enum dhcp_mode m)
{
	switch (m) {
	case DHCP_FULL:
		return "full";
	case DHCP_PROXY:
		return "proxy";
	default:
		return "off";
	}
}

/*
 * netboot.yaml's store.etcd from provisioning.etcd: its endpoints, and
 * the files the PKI issued for it (relative to OUT, as netboot reads
 * them).
 */
static void
emit_store(struct yemit *y, const struct inventory *inv)
{
	const struct inv_prov_etcd *e = &inv->provisioning.etcd;
	size_t i;

	if (!e->set)
		return;
	yemit_str(y, "store");
	yemit_map_start(y, false);
	yemit_str(y, "etcd");
	yemit_map_start(y, false);
	yemit_str(y, "endpoints");
	yemit_seq_start(y, true);
	for (i = 0; i < e->endpoints.n; i++)
		yemit_str(y, e->endpoints.v[i]);
	yemit_seq_end(y);
	yemit_kv_str(y, "ca", pki_store_ca_file(inv));
	yemit_kv_str(y, "cert", "pki/" PKI_STORE_CLIENT ".crt");
	yemit_kv_str(y, "key", "pki/" PKI_STORE_CLIENT ".key");
	if (e->prefix != NULL)
		yemit_kv_str(y, "prefix", e->prefix);
	yemit_map_end(y);
	yemit_map_end(y);
}

/* OUT/netboot.yaml (docs/formats.md). */
int
render_netboot(const struct render_ctx *c, struct buf *out)
{
	const struct inventory *inv = c->inv;
	char ip[IPV4_STR_LEN], ip2[IPV4_STR_LEN], mac[MAC_STR_LEN], s[64];
	struct yemit *y;
	size_t i;

	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);
	yemit_kv_u64(y, "version", 1);
	yemit_kv_str(y, "cluster", inv->cluster.name);
	yemit_kv_str(y, "kubernetes_version", inv->cluster.kubernetes_version);
	ipv4_format(inv->network.server_ip, ip);
	yemit_kv_str(y, "listen", ip);
	yemit_kv_str_or_null(y, "interface", inv->network.interface);
	yemit_str(y, "dhcp");
	yemit_map_start(y, false);
	yemit_kv_str(y, "mode", dhcp_name(inv->network.dhcp));
	format_cidr(&inv->network.subnet, s, sizeof(s));
	yemit_kv_str(y, "subnet", s);
	if (inv->network.has_gateway) {
		ipv4_format(inv->network.gateway, ip);
		yemit_kv_str(y, "gateway", ip);
	}
	yemit_str(y, "dns");
	yemit_seq_start(y, true);
	for (i = 0; i < inv->network.ndns; i++) {
		ipv4_format(inv->network.dns[i], ip);
		yemit_str(y, ip);
	}
	yemit_seq_end(y);
	if (inv->network.has_pool) {
		ipv4_format(inv->network.pool.first, ip);
		ipv4_format(inv->network.pool.last, ip2);
		snprintf(s, sizeof(s), "%s-%s", ip, ip2);
		yemit_kv_str(y, "pool", s);
	}
	yemit_kv_u64(y, "lease_time", inv->network.lease_time);
	yemit_kv_str(y, "unknown", "ignore");
	yemit_map_end(y);
	yemit_str(y, "tftp");
	yemit_map_start(y, true);
	yemit_kv_u64(y, "port", RENDER_TFTP_PORT);
	yemit_map_end(y);
	yemit_str(y, "http");
	yemit_map_start(y, true);
	yemit_kv_u64(y, "port", RENDER_HTTP_PORT);
	yemit_kv_u64(y, "https_port", RENDER_HTTPS_PORT);
	yemit_kv_str(y, "cert", "pki/netboot.crt");
	yemit_kv_str(y, "key", "pki/netboot.key");
	yemit_map_end(y);
	yemit_str(y, "paths");
	yemit_map_start(y, false);
	yemit_kv_str(y, "public", "public");
	yemit_kv_str(y, "boot", "boot");
	yemit_kv_str(y, "nodes", "nodes");
	yemit_kv_str(y, "state", "state");
	yemit_map_end(y);
	emit_store(y, inv);
	yemit_str(y, "nodes");
	yemit_seq_start(y, false);
	for (i = 0; i < inv->nnodes; i++) {
		const struct inv_node *nd = &inv->nodes[i];

		yemit_map_start(y, true);
		yemit_kv_str(y, "name", nd->name);
		mac_format(nd->mac, mac);
		yemit_kv_str(y, "mac", mac);
		yemit_kv_str(y, "ip", node_ip(nd, ip));
		yemit_kv_str(y, "role", role_name(nd->role));
		if (nd->secure_boot)
			yemit_kv_bool(y, "secure_boot", true);
		/* A diskless worker re-joins when it netboots again. */
		if (nd->role == ROLE_WORKER && nd->storage.state_device == NULL)
			yemit_kv_bool(y, "rejoin", true);
		yemit_map_end(y);
	}
	yemit_seq_end(y);
	yemit_map_end(y);
	return finish(y);
}
