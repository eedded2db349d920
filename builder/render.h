/*
 * render.h - the per-node payloads and the server's files, as bytes.
 *
 * Pure: an inventory, the PKI and a few build facts in, text out. Every
 * YAML file goes through common/yemit.h (libyaml's emitter), so that no
 * inventory value can become YAML structure. Formats: docs/formats.md
 * (netboot.yaml, NAME.ipxe, firstboot.yaml) and ../shared/PROTOCOLS.md
 * sections 4 (NoCloud) and 5 (kubeadm). Non-logging.
 */
#ifndef MB_RENDER_H
#define MB_RENDER_H

#include "buf.h"
#include "inventory.h"
#include "pki.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RENDER_HTTP_PORT     80
#define RENDER_HTTPS_PORT    443
#define RENDER_TFTP_PORT     69
#define RENDER_API_PORT	     6443
#define RENDER_WAIT_TIMEOUT  1800 /* seconds a joiner waits for the API */
#define RENDER_READY_TIMEOUT 600  /* seconds to wait for node Ready */
#define RENDER_MAX_PAYLOAD   (64u << 20)
#define RENDER_KUBEADM_PATH  "/var/lib/metalboot/kubeadm.yaml"
#define RENDER_PKI_DIR	     "/etc/kubernetes/pki"
#define RENDER_PROV_CA_PATH  "/var/lib/metalboot/provisioning-ca.crt"
#define RENDER_APT_REPO_MAX  512

/*
 * cluster.control_plane_vip: what every control plane runs (docs/builder.md,
 * "Control-plane VIP"). keepalived.conf holds the VRRP password (0600) and
 * includes RENDER_VIP_IFACE_FILE, which the agent or cloud-init writes at
 * boot ("interface NAME" of the interface holding the node's address).
 */
#define RENDER_KEEPALIVED_CONF "/etc/keepalived/keepalived.conf"
#define RENDER_VIP_IFACE_FILE  "/etc/keepalived/metalboot-interface.conf"
#define RENDER_VIP_CHECK       "/etc/keepalived/metalboot-check-haproxy.sh"
#define RENDER_HAPROXY_CFG     "/etc/haproxy/haproxy.cfg"
#define RENDER_HAPROXY_SOCK    "/run/haproxy/admin.sock"
#define RENDER_VIP_WAIT	       120  /* seconds init waits for the VIP */
#define RENDER_CMDLINE_MAX     4096 /* a node's kernel command line */
#define RENDER_VRRP_PRIO_FIRST 200  /* the first control plane's priority */
#define RENDER_VRRP_PRIO_MIN   101  /* every healthy node's is above */
#define RENDER_VRRP_PRIO_STEP  10   /* between consecutive control planes */
#define RENDER_VRRP_WEIGHT     100  /* a failed check takes off this much */

struct render_ctx {
	const struct inventory *inv;
	const struct pki *pki;
	const char *cni_manifest_url; /* NULL: none */
	const char *cni_sha256;	      /* NULL when no manifest */
	const struct inv_node *first_cp;
	/*
	 * The Kubernetes apt repository for cloud-init (a mirror, as the
	 * manual procedures use): a URL ending in '/', holding Release.key
	 * and a flat repository. NULL: pkgs.k8s.io for the cluster's minor
	 * version. Check it with render_apt_repo_valid().
	 */
	const char *apt_repo;
	/*
	 * The same for RHEL-family nodes: a Kubernetes rpm repository URL
	 * ending in '/', with repodata/repomd.xml.key. NULL: pkgs.k8s.io.
	 */
	const char *rpm_repo;
	/*
	 * /etc/hosts for every node: the same for all nodes, so it is made
	 * once (render_ctx_init) rather than once per node.
	 */
	char *hosts_text;
	size_t hosts_len;
	/*
	 * firstboot.yaml's "hosts:" entry, emitted once: the O(nodes^2) part
	 * of a build. It is a complete top-level mapping entry, spliced
	 * between two emitted halves of each node's top-level mapping.
	 */
	char *hosts_yaml;
	size_t hosts_yaml_len;
};

/*
 * Prepare c (the shared parts). Returns 0, -ENOMEM or -E2BIG.
 * Release with render_ctx_done().
 */
int render_ctx_init(struct render_ctx *c, const struct inventory *inv,
		    const struct pki *pki, const char *cni_manifest_url,
		    const char *cni_sha256);
void render_ctx_done(struct render_ctx *c);

/*
 * Each renderer appends one file for node n (an index into inv->nodes) to
 * out. They return 0 or a negative errno (-ENOMEM, -E2BIG, -EINVAL for a
 * value that cannot be represented, e.g. a cmdline iPXE would interpret).
 */
int render_kubeadm(const struct render_ctx *c, size_t n, struct buf *out);
int render_firstboot(const struct render_ctx *c, size_t n, const char *kubeadm,
		     size_t kubeadm_len, struct buf *out);
/*
 * Where user-data goes: RENDER_SEED_LOCAL for the NoCloud ISO (local
 * media: every file inline, keys and kubeadm.yaml included), and
 * RENDER_SEED_NET for NoCloud-net, served over plain HTTP: public data
 * only (certificates, the provisioning CA at RENDER_PROV_CA_PATH) and a
 * first runcmd step that fetches the node's secret bundle from
 * https://SERVER/v1/nodes/MAC/secrets with curl --cacert and unpacks it.
 */
enum render_seed {
	RENDER_SEED_LOCAL,
	RENDER_SEED_NET,
};
int render_user_data(const struct render_ctx *c, size_t n, const char *kubeadm,
		     size_t kubeadm_len, enum render_seed seed,
		     struct buf *out);
/*
 * Node n's secret bundle (builder/bundle.h): every file that
 * node_pki_files marks secret, and kubeadm.yaml, 0600, at their paths on
 * the node, all stamped mtime. What RENDER_SEED_NET's user-data leaves
 * out, exactly.
 */
int render_secret_bundle(const struct render_ctx *c, size_t n,
			 const char *kubeadm, size_t kubeadm_len, time_t mtime,
			 struct buf *out);
/* instance_tag: a short hex string that changes with the payload. */
int render_meta_data(const struct render_ctx *c, size_t n,
		     const char *instance_tag, struct buf *out);
int render_network_config(const struct render_ctx *c, size_t n,
			  struct buf *out);
int render_ipxe(const struct render_ctx *c, size_t n, struct buf *out);

/*
 * Secure Boot (docs/netboot.md): OUT/public/grub/grub.cfg, the same for
 * every machine, which hands over to OUT/boot/NAME.grub.cfg of node n
 * (served as grub/nodes/MAC.cfg). Same returns as render_ipxe.
 */
int render_grub_main(struct buf *out);
int render_grub(const struct render_ctx *c, size_t n, struct buf *out);
int render_netboot(const struct render_ctx *c, struct buf *out);

/*
 * The VIP's files for control plane n (cluster.control_plane_vip set):
 * keepalived.conf (VRRP unicast to the other control planes unless
 * multicast, the generated password, the VIP, a priority falling with the
 * node's rank among the control planes, and the haproxy check),
 * haproxy.cfg (TCP on the VIP's port over every API server's 6443, checked
 * with GET /readyz over TLS verified with the cluster CA) and the check
 * script keepalived runs. Each appends to out and returns 0, -ENOMEM,
 * -E2BIG or -EINVAL (no VIP, or n not a control plane).
 */
int render_keepalived_conf(const struct render_ctx *c, size_t n,
			   struct buf *out);
int render_haproxy_cfg(const struct render_ctx *c, struct buf *out);
int render_vip_check(const struct render_ctx *c, struct buf *out);

/*
 * True when url can serve as apt_repo: http:// or https://, ending in '/',
 * no space, quote, backslash or control byte, at most 512 bytes.
 */
bool render_apt_repo_valid(const char *url);

/* pkgs.k8s.io's oldest channel: v1.24 (deb and rpm). */
#define RENDER_PKGS_MIN_MINOR 24

/*
 * cloud-init installs kubelet, kubeadm and kubectl at the inventory's
 * exact version from pkgs.k8s.io, which serves v1.24 and later, unless
 * apt_repo (Debian-family nodes) or rpm_repo (RHEL-family nodes) names
 * another repository. An older kubernetes_version without one is an error
 * at its line in d: -EINVAL, else 0.
 */
int render_check_repos(const struct inventory *inv, const char *apt_repo,
		       const char *rpm_repo, struct diags *d);

/* The kubeadm action of node n: init, join, join-control-plane, etcd. */
const char *render_action(const struct render_ctx *c, size_t n);

#endif
