/*
 * config.h - netboot.yaml (docs/formats.md), the configuration
 * metalboot-build writes for metalboot-netboot.
 *
 * Paths in the file are relative to the directory holding it; the loader
 * resolves them against that directory (absolute paths are kept). Unknown
 * keys are errors; only "version: 1" is accepted. Every problem goes to a
 * diags list as FILE:LINE:COL, all of them, not only the first.
 */
#ifndef MB_NB_CONFIG_H
#define MB_NB_CONFIG_H

#include "diag.h"
#include "inventory.h" /* enum dhcp_mode, enum node_role */
#include "net.h"
#include "storm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_CONFIG_MAX_NODES   INV_MAX_NODES
#define NB_CONFIG_MAX_DNS     16
#define NB_CONFIG_LEASE_MIN   60
#define NB_CONFIG_LEASE_MAX   (365u * 24 * 3600)
#define NB_CONFIG_LEASE_DFLT  3600
#define NB_CONFIG_MAX_RELAYS  64   /* dhcp.relays items */
#define NB_CONFIG_CHECK_DFLT  4000 /* ms, dhcp.check_wait_ms default */
#define NB_CONFIG_CHECK_MAX   30000
#define NB_CONFIG_WORKERS_MAX 64 /* = NB_WORKERS_MAX */

/* dhcp.relays item: a DHCP relay agent answered, and its subnet. */
struct nb_config_relay {
	uint32_t address; /* the giaddr it sets */
	struct cidr subnet;
	uint32_t gateway; /* default: address */
	struct ip_range pool;
	bool has_pool;
};
/* store.etcd (the shared node store, docs/formats.md). */
#define NB_CONFIG_ETCD_ENDPOINTS_MAX 16
#define NB_CONFIG_ETCD_URL_MAX	     256 /* bytes of one endpoint URL */
#define NB_CONFIG_ETCD_PREFIX_MAX    128 /* bytes of store.etcd.prefix */
#define NB_CONFIG_ETCD_PREFIX_DFLT   "/metalboot"

#define NB_CONFIG_SECRET_WINDOW_DFLT 1800u /* http.secret_window: 30m */
#define NB_CONFIG_SECRET_WINDOW_MAX  (7u * 24 * 3600) /* a week */

struct nb_config_node {
	char *name; /* owned */
	uint8_t mac[MAC_LEN];
	uint32_t ip; /* host order */
	enum node_role role;
	bool secure_boot; /* x64 UEFI gets shim -> GRUB, not iPXE */
	/*
	 * A worker without a state disk: when it netboots again after it was
	 * done (its iPXE script is fetched), it is re-armed, so that its
	 * agent fetches its payload and joins again.
	 */
	bool rejoin;
};

struct nb_config {
	char *file; /* as given (owned) */
	char *dir;  /* its directory (owned) */
	char *cluster;
	/* kubernetes_version, for the fleet page; NULL when absent. */
	char *kubernetes_version;
	uint32_t listen; /* host order; server_ip */
	char *interface; /* NULL: chosen by address */

	struct {
		enum dhcp_mode mode;
		struct cidr subnet; /* set unless mode is off */
		bool has_subnet;
		uint32_t gateway;
		bool has_gateway;
		uint32_t dns[NB_CONFIG_MAX_DNS];
		size_t ndns;
		struct ip_range pool;
		bool has_pool;
		uint64_t lease_time;   /* seconds */
		bool unknown_discover; /* unknown: discover (else ignore) */
		bool efi_snponly;      /* uefi_loader: snponly.efi */
		char *efi_arm64;       /* arm64_loader: path under public */
		struct nb_config_relay relays[NB_CONFIG_MAX_RELAYS];
		size_t nrelays;
		unsigned check_wait_ms; /* listen for other servers at start */
		struct storm_pace_conf pace; /* dhcp.pace; rate 0: unpaced */
		/* dhcp.failover: standby: answer only while no primary of
		 * the segment is registered in etcd (store.etcd). */
		bool standby;
	} dhcp;

	uint16_t tftp_port;
	/* tftp.max_per_file, http.max_per_file: concurrent transfers of one
	 * file (0: no cap). */
	unsigned tftp_max_per_file;
	unsigned http_max_per_file;
	/* workers: event loops for transfers (0, the default: one worker
	 * loop per online CPU; 1: the one loop; N > 1: N worker loops). */
	unsigned workers;
	uint16_t http_port;
	uint16_t https_port;
	char *cert; /* resolved path or NULL */
	char *key;  /* resolved path or NULL */
	/*
	 * http.secret_window, seconds: how long after a node's first
	 * successful fetch of a secret payload (firstboot.yaml, secrets.tar)
	 * they are served, before 410 until re-armed.
	 */
	uint64_t secret_window;

	/*
	 * store: where node state lives. Without store.etcd (etcd false),
	 * the files under paths.state; with it, an etcd v3 cluster reached
	 * over HTTPS with a client certificate (all owned, paths resolved).
	 */
	struct {
		bool etcd;
		char *endpoints[NB_CONFIG_ETCD_ENDPOINTS_MAX]; /* https://H:P */
		size_t nendpoints;
		char *ca, *cert, *key;
		char *prefix; /* "/metalboot": starts with '/', none at the end
			       */
	} store;

	/* Resolved against dir. */
	char *public_dir;
	char *boot_dir;
	char *nodes_dir;
	char *state_dir;

	struct nb_config_node *nodes;
	size_t nnodes;
};

/*
 * Read and check the file at path. Returns 0 with *ret (owned; free with
 * nb_config_free) when diags got no error, -EINVAL when it did, -ENOMEM,
 * or a negative errno when the file cannot be read (also in diags).
 */
int nb_config_load(const char *path, struct nb_config **ret,
		   struct diags *diags);

/*
 * The same from a buffer of len bytes; file names it in messages and its
 * directory is the base for relative paths.
 */
int nb_config_parse(const char *file, const char *data, size_t len,
		    struct nb_config **ret, struct diags *diags);

/* Free; NULL is a no-op. Returns NULL. */
struct nb_config *nb_config_free(struct nb_config *cfg);

/* Find a node by MAC, or NULL. */
const struct nb_config_node *nb_config_find_mac(const struct nb_config *cfg,
						const uint8_t mac[MAC_LEN]);

/* Find a node by IPv4 address (host order), or NULL. */
const struct nb_config_node *nb_config_find_ip(const struct nb_config *cfg,
					       uint32_t ip);

/* The node of cfg with mac, or NULL. */
const struct nb_config_node *nb_config_find(const struct nb_config *cfg,
					    const uint8_t mac[MAC_LEN]);

#endif
