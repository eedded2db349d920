/*
 * inventory.h - the cluster inventory (cluster.yaml) as structs.
 *
 * inventory_load() reads the user's file, fills every unset field from the
 * built-in defaults and the role profiles (profiles/roles/ROLE.yaml, then
 * the inventory's own "roles:" overrides), and validates the result. Every
 * problem is reported as "FILE:LINE:COL: message" into a diags list, all of
 * them, not just the first. The format is described in README.md.
 */
#ifndef MB_INVENTORY_H
#define MB_INVENTORY_H

#include "diag.h"
#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INV_MAX_NODES		  10000
#define INV_MAX_LIST		  256 /* items in any list but nodes */
/*
 * kubelet's CRI endpoint unless cluster.cri_socket says otherwise: the
 * containerd socket, for both runtimes (Debian's docker.io runs on
 * Debian's containerd, whose CRI plugin is enabled; dockershim is gone
 * since Kubernetes 1.24).
 */
#define INV_CRI_SOCKET_DEFAULT	  "unix:///var/run/containerd/containerd.sock"
/*
 * cluster.control_plane_vip: haproxy listens on this port on every control
 * plane (the VIP's port) and balances over the API servers' own 6443, the
 * port split of kubeadm's HA guide; 51 is keepalived's usual router id.
 */
#define INV_VIP_PORT_DEFAULT	  8443
#define INV_VIP_ROUTER_ID_DEFAULT 51

enum node_role {
	ROLE_CONTROL_PLANE,
	ROLE_WORKER,
	ROLE_ETCD,
	ROLE_COUNT,
	/* Missing or unknown (an error already): counted as no role. */
	ROLE_NONE = ROLE_COUNT,
};

enum runtime_kind {
	RUNTIME_CONTAINERD,
	RUNTIME_DOCKER,
};

/*
 * The distribution family of a node's cloud-init payload: which package
 * manager, repositories and package names it uses. The agent path does not
 * depend on it (images carry their packages).
 */
enum os_family {
	OS_DEBIAN, /* Debian, Ubuntu: apt, pkgs.k8s.io deb */
	OS_RHEL,   /* RHEL, CentOS, Rocky, Alma, Fedora: yum/dnf, rpm */
};

enum etcd_mode {
	ETCD_STACKED,
	ETCD_EXTERNAL,
};

enum dhcp_mode {
	DHCP_FULL,
	DHCP_PROXY,
	DHCP_OFF,
};

enum selinux_mode {
	SELINUX_KEEP, /* leave as configured */
	SELINUX_PERMISSIVE,
	SELINUX_DISABLED,
};

struct strlist {
	char **v;
	size_t n;
};

struct sysctl {
	char *key;
	char *value;
};

struct port_range {
	uint16_t first, last;
	bool udp; /* false: tcp */
	char *what;
};

struct runtime_cfg {
	char *cgroup_driver; /* systemd | cgroupfs */
	char *log_max_size;  /* docker's log-opts max-size, e.g. "100m" */
	unsigned log_max_files;
	char *storage_driver; /* overlay2 */
};

/*
 * storage: where a netbooted node keeps its state (docs/builder.md, "Boot
 * stages"). On a role (roles.ROLE.storage) it is the default of that
 * role's nodes; a node's own storage replaces it whole.
 */
struct inv_storage {
	bool set;	    /* a storage: map was given */
	char *state_device; /* /dev/NAME, or NULL: state lives in RAM */
	bool wipe;	    /* format a foreign filesystem on it, once */
	char *tmpfs_size;   /* the root tmpfs: "2G", "60%"; NULL: half RAM */
	unsigned line, col; /* where storage: is declared */
};

/* Per-role host preparation: what the seeds do by hand on each host. */
struct role_profile {
	struct strlist modules;
	struct sysctl *sysctls;
	size_t nsysctls;
	bool swap_off;
	enum selinux_mode selinux;
	struct port_range *ports;
	size_t nports;
	struct runtime_cfg runtime;
	struct inv_storage storage;
};

/*
 * cluster.control_plane_vip: a virtual IP that keepalived (VRRP) moves
 * between the control planes, each running haproxy in front of every API
 * server. When set, it is the control_plane_endpoint.
 */
struct inv_vip {
	bool set;
	uint32_t address;   /* inside network.subnet, no node's */
	uint16_t port;	    /* haproxy's; never the API server's 6443 */
	unsigned router_id; /* VRRP virtual_router_id, 1-255 */
	bool multicast;	    /* false: unicast to the other control planes */
	unsigned line, col; /* where control_plane_vip is declared */
};

/*
 * provisioning.etcd: the etcd v3 cluster metalboot-netboot keeps its node
 * store in (netboot.yaml's store.etcd; docs/builder.md, "Provisioning
 * etcd"). Who vouches for it:
 *   PROV_ETCD_OWN      a dedicated CA the builder makes, with a server and
 *                      peer certificate per endpoint host for the members
 *                      (the default);
 *   PROV_ETCD_CA       an existing etcd's CA (ca, ca_key);
 *   PROV_ETCD_CLUSTER  the cluster's own etcd and etcd CA (cluster: true;
 *                      not the default: the provisioner would depend on
 *                      the cluster it provisions).
 * In each, that CA signs netboot's client certificate.
 */
#define INV_ETCD_ENDPOINTS_MAX 16  /* as netboot.yaml's store.etcd */
#define INV_ETCD_URL_MAX       256 /* bytes of one endpoint URL */
#define INV_ETCD_PREFIX_MAX    128 /* bytes of prefix */
#define INV_ETCD_CLIENT_PORT   2379

enum prov_etcd_mode {
	PROV_ETCD_OWN,
	PROV_ETCD_CA,
	PROV_ETCD_CLUSTER,
};

struct inv_prov_etcd {
	bool set; /* provisioning.etcd was given */
	enum prov_etcd_mode mode;
	struct strlist endpoints; /* https://HOST:PORT, 1..16 */
	struct strlist hosts;	  /* their HOSTs, each once, lowercase */
	char *prefix;		  /* NULL: netboot's default */
	char *ca, *ca_key;	  /* PROV_ETCD_CA: resolved paths */
	unsigned line, col;	  /* where etcd: is declared */
	unsigned ca_line, ca_col; /* where ca: is */
};

struct inv_node {
	char *name;
	uint8_t mac[MAC_LEN];
	uint32_t ip;
	enum node_role role;
	bool taints_set;       /* false: kubeadm's default for the role */
	struct strlist taints; /* "key[=value]:Effect" */
	/*
	 * UEFI Secure Boot: the node's x64 UEFI PXE and HTTP boots get the
	 * signed shim -> GRUB -> kernel chain instead of iPXE. Its own
	 * secure_boot key, else boot.secure_boot.
	 */
	bool secure_boot;
	enum os_family os_family;   /* its own os_family, else cluster's */
	struct inv_storage storage; /* its own, else its role's */
	uint64_t memory;	    /* bytes of RAM, 0 when not declared */
	unsigned line, col;	    /* where the node is declared */
};

struct inventory {
	char *file; /* as given */
	char *dir;  /* the file's directory; relative paths resolve here */

	struct {
		char *name;
		char *kubernetes_version; /* "v1.30.2" */
		unsigned kv_major, kv_minor, kv_patch;
		unsigned kv_line, kv_col; /* where it is declared */
		char *endpoint_host;	  /* control_plane_endpoint */
		uint16_t endpoint_port;
		bool endpoint_set; /* false: first control-plane node :6443 */
		bool allow_node_endpoint;
		struct cidr pod_subnet, service_subnet;
		char *dns_domain;
		char *image_repository;
		enum runtime_kind runtime;
		struct strlist registry_mirrors;
		char *cri_socket; /* unix://PATH; NULL: INV_CRI_SOCKET_DEFAULT
				   */
		char *cni_name;
		char *cni_manifest; /* NULL, a URL, or a path (resolved) */
		char *cni_sha256;   /* optional, 64 hex */
		uint64_t token_ttl; /* seconds */
		enum etcd_mode etcd;
		struct strlist cert_sans;
		struct inv_vip vip;
		enum os_family os_family; /* every node's default */
	} cluster;

	struct {
		uint32_t server_ip;
		struct cidr subnet;
		uint32_t gateway;
		bool has_gateway;
		uint32_t *dns;
		size_t ndns;
		enum dhcp_mode dhcp;
		struct ip_range pool;
		bool has_pool;
		char *interface; /* may be NULL: netboot picks by server_ip */
		uint64_t lease_time; /* seconds */
	} network;

	struct {
		char *kernel; /* resolved path or NULL */
		char *base;   /* resolved path or NULL */
		char *cmdline;
		bool secure_boot; /* every node's default */
	} boot;

	struct {
		struct inv_prov_etcd etcd;
	} provisioning;

	struct inv_node *nodes;
	size_t nnodes;
	struct role_profile roles[ROLE_COUNT];
};

/*
 * Load, default and validate the inventory at path. profiles_dir holds
 * roles/ROLE.yaml (NULL: inventory_profiles_dir()). Every problem goes to
 * diags. Returns 0 with *ret (owned; inventory_free) when there is no
 * error (warnings allowed), -EINVAL when diags holds errors, -ENOMEM.
 */
int inventory_load(const char *path, const char *profiles_dir,
		   struct inventory **ret, struct diags *diags);

/* The same from a buffer; file names it in messages. */
int inventory_parse(const char *file, const char *data, size_t len,
		    const char *profiles_dir, struct inventory **ret,
		    struct diags *diags);

/* Free; NULL is a no-op. Returns NULL. */
struct inventory *inventory_free(struct inventory *inv);

/*
 * Where role profiles live: $METALBOOT_PROFILES, else
 * EXEDIR/../share/metalboot/profiles when it exists, else the source tree.
 * Returns a static string.
 */
const char *inventory_profiles_dir(void);

/*
 * The pause image tag kubeadm of Kubernetes 1.MINOR pins ("3.9" for 1.30),
 * and the sandbox image every pod of the cluster uses:
 * "IMAGE_REPOSITORY/pause:TAG", so that a mirrored image_repository serves
 * it too. -ENAMETOOLONG when it does not fit in size.
 */
const char *inventory_pause_tag(unsigned minor);
int inventory_sandbox_image(const struct inventory *inv, char *buf,
			    size_t size);
/* "debian", "rhel". */
const char *os_family_name(enum os_family f);
/* "control-plane", "worker", "etcd". */
const char *role_name(enum node_role role);

/* Count nodes with a role. */
size_t inventory_count_role(const struct inventory *inv, enum node_role role);

/* The first node with a role, or NULL. */
const struct inv_node *inventory_first(const struct inventory *inv,
				       enum node_role role);

/* Find a node by MAC, or NULL. */
const struct inv_node *inventory_find_mac(const struct inventory *inv,
					  const uint8_t mac[MAC_LEN]);

#endif
