/*
 * config.c - netboot.yaml into struct nb_config.
 *
 * The loader walks the YAML tree with a context that knows the file name,
 * so that every complaint carries the position of the node it is about. A
 * bad field is reported and left at its default, and checking goes on.
 */
#include "config.h"

#include "fsutil.h"
#include "num.h"
#include "path.h"
#include "yload.h"
#include "yschema.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An optional mapping; NULL when absent or null (or not a mapping). */
static const struct ynode *
get_map(struct ys_ctx *c, const struct ynode *m, const char *key,
	const char *what)
{
	const struct ynode *n = ynode_get(m, key);

	if (n == NULL || ynode_is_null(n))
		return NULL;
	if (!ys_want_type(c, n, YNODE_MAP, what))
		return NULL;
	return n;
}

static void
get_port(struct ys_ctx *c, const struct ynode *m, const char *key,
	 const char *what, uint16_t *out)
{
	const struct ynode *n;
	const char *s = ys_get_scalar(c, m, key, what, 0, &n);
	int v;

	if (s == NULL)
		return;
	if (num_parse_int(s, 1, 65535, &v) < 0) {
		ys_err(c, n, "%s must be a port (1-65535)", what);
		return;
	}
	*out = (uint16_t)v;
}

/* An optional unsigned in [min, max] into *out. */
static void
get_uint(struct ys_ctx *c, const struct ynode *m, const char *key,
	 const char *what, unsigned min, unsigned max, unsigned *out)
{
	const struct ynode *n;
	const char *s = ys_get_scalar(c, m, key, what, 0, &n);
	uint64_t v;

	if (s == NULL)
		return;
	if (num_parse_u64(s, min, max, &v) < 0) {
		ys_err(c, n, "%s must be %u..%u", what, min, max);
		return;
	}
	*out = (unsigned)v;
}

/* dhcp.pace: offer pacing per segment (storm.h). */
static void
load_pace(struct ys_ctx *c, const struct ynode *m, struct nb_config *cfg)
{
	static const char *const keys[] = { "rate", "burst", "jitter_ms",
					    "queue", NULL };
	struct storm_pace_conf *p = &cfg->dhcp.pace;

	ys_check_keys(c, m, "dhcp.pace", keys);
	get_uint(c, m, "rate", "dhcp.pace.rate", 0, STORM_RATE_MAX, &p->rate);
	get_uint(c, m, "burst", "dhcp.pace.burst", 1, STORM_BURST_MAX,
		 &p->burst);
	get_uint(c, m, "jitter_ms", "dhcp.pace.jitter_ms", 0, STORM_JITTER_MAX,
		 &p->jitter_ms);
	get_uint(c, m, "queue", "dhcp.pace.queue", 0, STORM_QUEUE_MAX,
		 &p->queue_max);
}

/* Resolve rel against the config's directory into a new string. */
static char *
resolve(struct ys_ctx *c, const char *dir, const char *rel)
{
	char buf[PATH_MAX];

	if (rel[0] == '/')
		return ys_strdup(c, rel);
	if (path_join(buf, sizeof(buf), dir, rel) < 0) {
		ys_err(c, NULL, "path too long: %s/%s", dir, rel);
		return NULL;
	}
	return ys_strdup(c, buf);
}

static void
get_path(struct ys_ctx *c, const struct ynode *m, const char *key,
	 const char *what, const char *dir, char **out)
{
	const char *s = ys_get_scalar(c, m, key, what, 0, NULL);
	char *p;

	if (s == NULL)
		return;
	p = resolve(c, dir, s);
	if (p == NULL)
		return;
	free(*out);
	*out = p;
}

/* One dhcp.relays item into *r; false when it has an error. */
static bool
load_relay(struct ys_ctx *c, const struct ynode *it, struct nb_config *cfg,
	   struct nb_config_relay *r)
{
	static const char *const keys[] = { "address", "subnet", "gateway",
					    "pool", NULL };
	const struct ynode *n;
	const char *s;
	char qb[80];
	size_t i;
	bool ok = true;

	if (!ys_want_type(c, it, YNODE_MAP, "dhcp.relays item"))
		return false;
	ys_check_keys(c, it, "dhcp.relays item", keys);
	memset(r, 0, sizeof(*r));
	ok = ys_get_ip(c, it, "address", "dhcp.relays.address", YS_REQUIRED,
		       &r->address);
	s = ys_get_scalar(c, it, "subnet", "dhcp.relays.subnet", YS_REQUIRED,
			  &n);
	if (s != NULL && cidr_parse(s, true, &r->subnet) < 0) {
		ys_err(c, n, "dhcp.relays.subnet: '%s' is not a CIDR block",
		       ys_quote(s, strlen(s), qb, sizeof(qb)));
		ok = false;
	} else if (s == NULL) {
		ok = false;
	}
	if (ok && !cidr_contains(&r->subnet, r->address)) {
		ys_err(c, ynode_get(it, "address"),
		       "dhcp.relays.address is not inside its subnet (a "
		       "relay's giaddr is its address on the clients' "
		       "subnet)");
		ok = false;
	}
	r->gateway = r->address;
	if (ys_get_ip(c, it, "gateway", "dhcp.relays.gateway", 0,
		      &r->gateway) &&
	    ok && !cidr_contains(&r->subnet, r->gateway)) {
		ys_err(c, ynode_get(it, "gateway"),
		       "dhcp.relays.gateway is not inside its subnet");
		ok = false;
	}
	s = ys_get_scalar(c, it, "pool", "dhcp.relays.pool", 0, &n);
	if (s != NULL) {
		if (range_parse(s, &r->pool) < 0) {
			ys_err(c, n,
			       "dhcp.relays.pool: '%s' is not a range "
			       "FIRST-LAST",
			       ys_quote(s, strlen(s), qb, sizeof(qb)));
			ok = false;
		} else if (ok && (!cidr_contains(&r->subnet, r->pool.first) ||
				  !cidr_contains(&r->subnet, r->pool.last))) {
			ys_err(c, n,
			       "dhcp.relays.pool is not inside its subnet");
			ok = false;
		} else {
			r->has_pool = true;
		}
	}
	for (i = 0; ok && i < cfg->dhcp.nrelays; i++) {
		if (cfg->dhcp.relays[i].address == r->address) {
			ys_err(c, ynode_get(it, "address"),
			       "dhcp.relays: address listed twice");
			ok = false;
		}
	}
	return ok;
}

/* dhcp.relays: the relay agents answered (none: relayed requests are
 * dropped). */
static void
load_relays(struct ys_ctx *c, const struct ynode *n, struct nb_config *cfg)
{
	size_t i;

	if (n == NULL || ynode_is_null(n) ||
	    !ys_want_type(c, n, YNODE_SEQ, "dhcp.relays"))
		return;
	if (n->n > NB_CONFIG_MAX_RELAYS) {
		ys_err(c, n, "dhcp.relays has more than %d items",
		       NB_CONFIG_MAX_RELAYS);
		return;
	}
	for (i = 0; i < n->n; i++)
		if (load_relay(c, n->items[i], cfg,
			       &cfg->dhcp.relays[cfg->dhcp.nrelays]))
			cfg->dhcp.nrelays++;
}

/* dhcp.failover: none (default) or standby (needs store.etcd, checked
 * once the store is read: check_failover). */
static void
load_failover(struct ys_ctx *c, const struct ynode *m, struct nb_config *cfg)
{
	const struct ynode *n;
	const char *s;

	s = ys_get_scalar(c, m, "failover", "dhcp.failover", 0, &n);
	if (s == NULL)
		return;
	if (strcmp(s, "standby") == 0)
		cfg->dhcp.standby = true;
	else if (strcmp(s, "none") != 0)
		ys_err(c, n, "dhcp.failover must be none or standby");
}

/* A standby learns of its primary from etcd: it needs store.etcd. */
static void
check_failover(struct ys_ctx *c, const struct ynode *root,
	       const struct nb_config *cfg)
{
	const struct ynode *n;

	if (!cfg->dhcp.standby)
		return;
	n = ynode_get(ynode_get(root, "dhcp"), "failover");
	if (!cfg->store.etcd)
		ys_err(c, n,
		       "dhcp.failover: standby needs store.etcd (the primary "
		       "is known by its registration there)");
	else if (cfg->dhcp.mode != DHCP_FULL)
		ys_err(c, n, "dhcp.failover: standby needs dhcp.mode full");
}

static void
load_dhcp(struct ys_ctx *c, const struct ynode *m, struct nb_config *cfg)
{
	static const char *const keys[] = {
		"mode",		"subnet",     "gateway",       "dns",
		"pool",		"lease_time", "unknown",       "uefi_loader",
		"arm64_loader", "relays",     "check_wait_ms", "pace",
		"failover",	NULL
	};
	const struct ynode *n;
	const char *s;
	char qb[80];
	uint64_t v;
	size_t i;

	ys_check_keys(c, m, "dhcp", keys);
	s = ys_get_scalar(c, m, "mode", "dhcp.mode", 0, &n);
	if (s != NULL) {
		if (strcmp(s, "full") == 0)
			cfg->dhcp.mode = DHCP_FULL;
		else if (strcmp(s, "proxy") == 0)
			cfg->dhcp.mode = DHCP_PROXY;
		else if (strcmp(s, "off") == 0)
			cfg->dhcp.mode = DHCP_OFF;
		else
			ys_err(c, n, "dhcp.mode must be full, proxy or off");
	}
	s = ys_get_scalar(c, m, "subnet", "dhcp.subnet", 0, &n);
	if (s != NULL) {
		if (cidr_parse(s, true, &cfg->dhcp.subnet) < 0)
			ys_err(c, n, "dhcp.subnet: '%s' is not a CIDR block",
			       ys_quote(s, strlen(s), qb, sizeof(qb)));
		else
			cfg->dhcp.has_subnet = true;
	}
	cfg->dhcp.has_gateway = ys_get_ip(c, m, "gateway", "dhcp.gateway", 0,
					  &cfg->dhcp.gateway);
	n = ynode_get(m, "dns");
	if (n != NULL && !ynode_is_null(n) &&
	    ys_want_type(c, n, YNODE_SEQ, "dhcp.dns")) {
		if (n->n > NB_CONFIG_MAX_DNS) {
			ys_err(c, n, "dhcp.dns has more than %d items",
			       NB_CONFIG_MAX_DNS);
		} else {
			for (i = 0; i < n->n; i++) {
				const struct ynode *it = n->items[i];

				if (!ys_want_type(c, it, YNODE_SCALAR,
						  "dhcp.dns item"))
					continue;
				if (ipv4_parse(it->str,
					       &cfg->dhcp.dns[cfg->dhcp.ndns]) <
				    0)
					ys_err(c, it,
					       "dhcp.dns: '%s' is not an IPv4 "
					       "address",
					       ys_qnode(it, qb, sizeof(qb)));
				else
					cfg->dhcp.ndns++;
			}
		}
	}
	s = ys_get_scalar(c, m, "pool", "dhcp.pool", 0, &n);
	if (s != NULL) {
		if (range_parse(s, &cfg->dhcp.pool) < 0)
			ys_err(c, n,
			       "dhcp.pool: '%s' is not a range FIRST-LAST",
			       ys_quote(s, strlen(s), qb, sizeof(qb)));
		else
			cfg->dhcp.has_pool = true;
	}
	s = ys_get_scalar(c, m, "lease_time", "dhcp.lease_time", 0, &n);
	if (s != NULL) {
		if (num_parse_u64(s, NB_CONFIG_LEASE_MIN, NB_CONFIG_LEASE_MAX,
				  &v) < 0)
			ys_err(c, n, "dhcp.lease_time must be %u..%u seconds",
			       NB_CONFIG_LEASE_MIN, NB_CONFIG_LEASE_MAX);
		else
			cfg->dhcp.lease_time = v;
	}
	s = ys_get_scalar(c, m, "unknown", "dhcp.unknown", 0, &n);
	if (s != NULL) {
		if (strcmp(s, "discover") == 0)
			cfg->dhcp.unknown_discover = true;
		else if (strcmp(s, "ignore") != 0)
			ys_err(c, n, "dhcp.unknown must be ignore or discover");
	}
	/* Which iPXE build x64 UEFI PXE gets: ipxe.efi carries its own
	 * drivers, snponly.efi uses the firmware's (for NICs iPXE lacks). */
	s = ys_get_scalar(c, m, "uefi_loader", "dhcp.uefi_loader", 0, &n);
	if (s != NULL) {
		if (strcmp(s, "snponly.efi") == 0)
			cfg->dhcp.efi_snponly = true;
		else if (strcmp(s, "ipxe.efi") != 0)
			ys_err(c, n,
			       "dhcp.uefi_loader must be ipxe.efi or "
			       "snponly.efi");
	}
	s = ys_get_scalar(c, m, "arm64_loader", "dhcp.arm64_loader", 0, &n);
	if (s != NULL) {
		if (path_check_rel(s, strlen(s)) < 0 || strlen(s) >= 128)
			ys_err(c, n,
			       "dhcp.arm64_loader: '%s' is not a path under "
			       "the public directory",
			       ys_quote(s, strlen(s), qb, sizeof(qb)));
		else {
			free(cfg->dhcp.efi_arm64);
			cfg->dhcp.efi_arm64 = strdup(s);
			if (cfg->dhcp.efi_arm64 == NULL)
				c->oom = 1;
		}
	}
	s = ys_get_scalar(c, m, "check_wait_ms", "dhcp.check_wait_ms", 0, &n);
	if (s != NULL) {
		if (num_parse_u64(s, 0, NB_CONFIG_CHECK_MAX, &v) < 0)
			ys_err(c, n, "dhcp.check_wait_ms must be 0..%u",
			       NB_CONFIG_CHECK_MAX);
		else
			cfg->dhcp.check_wait_ms = (unsigned)v;
	}
	load_relays(c, ynode_get(m, "relays"), cfg);
	load_failover(c, m, cfg);
	n = get_map(c, m, "pace", "dhcp.pace");
	if (n != NULL)
		load_pace(c, n, cfg);
	if (cfg->dhcp.mode != DHCP_OFF && !cfg->dhcp.has_subnet)
		ys_err(c, m, "dhcp.subnet is required unless dhcp.mode is off");
	if (cfg->dhcp.has_pool && cfg->dhcp.has_subnet &&
	    (!cidr_contains(&cfg->dhcp.subnet, cfg->dhcp.pool.first) ||
	     !cidr_contains(&cfg->dhcp.subnet, cfg->dhcp.pool.last)))
		ys_err(c, ynode_get(m, "pool"),
		       "dhcp.pool is not inside dhcp.subnet");
}

static void
load_http(struct ys_ctx *c, const struct ynode *m, struct nb_config *cfg)
{
	static const char *const keys[] = {
		"port",		 "https_port",	 "cert", "key",
		"secret_window", "max_per_file", NULL
	};
	const struct ynode *n = NULL;
	const char *s;
	uint64_t v = 0;

	ys_check_keys(c, m, "http", keys);
	s = ys_get_scalar(c, m, "secret_window", "http.secret_window", 0, &n);
	if (s != NULL) {
		if (num_parse_duration(s, NB_CONFIG_SECRET_WINDOW_MAX, &v) <
			    0 ||
		    v == 0)
			ys_err(c, n,
			       "http.secret_window must be a duration such as "
			       "30m, 1s..%us",
			       NB_CONFIG_SECRET_WINDOW_MAX);
		else
			cfg->secret_window = v;
	}
	get_port(c, m, "port", "http.port", &cfg->http_port);
	get_uint(c, m, "max_per_file", "http.max_per_file", 0,
		 STORM_FILE_CAP_MAX, &cfg->http_max_per_file);
	get_port(c, m, "https_port", "http.https_port", &cfg->https_port);
	get_path(c, m, "cert", "http.cert", cfg->dir, &cfg->cert);
	get_path(c, m, "key", "http.key", cfg->dir, &cfg->key);
	if ((cfg->cert == NULL) != (cfg->key == NULL))
		ys_err(c, m, "http.cert and http.key go together");
}

static void
load_paths(struct ys_ctx *c, const struct ynode *m, struct nb_config *cfg)
{
	static const char *const keys[] = { "public", "boot", "nodes", "state",
					    NULL };

	ys_check_keys(c, m, "paths", keys);
	get_path(c, m, "public", "paths.public", cfg->dir, &cfg->public_dir);
	get_path(c, m, "boot", "paths.boot", cfg->dir, &cfg->boot_dir);
	get_path(c, m, "nodes", "paths.nodes", cfg->dir, &cfg->nodes_dir);
	get_path(c, m, "state", "paths.state", cfg->dir, &cfg->state_dir);
}

/*
 * An etcd endpoint: https://HOST:PORT with nothing after it (the gateway's
 * paths are ours to add). HTTPS only: the store holds the secrets' marks.
 */
static bool
etcd_endpoint_valid(const char *s)
{
	const char *host = s + 8, *colon;
	int port;

	if (strncmp(s, "https://", 8) != 0 ||
	    strlen(s) >= NB_CONFIG_ETCD_URL_MAX)
		return false;
	colon = strrchr(host, ':');
	if (colon == NULL || colon == host ||
	    strcspn(host, "/?#@ ") < (size_t)(colon - host) ||
	    num_parse_int(colon + 1, 1, 65535, &port) < 0)
		return false;
	return true;
}

static void
load_etcd_endpoints(struct ys_ctx *c, const struct ynode *n,
		    struct nb_config *cfg)
{
	char qb[80];
	size_t i;

	if (!ys_want_type(c, n, YNODE_SEQ, "store.etcd.endpoints"))
		return;
	if (n->n == 0 || n->n > NB_CONFIG_ETCD_ENDPOINTS_MAX) {
		ys_err(c, n, "store.etcd.endpoints must list 1..%d URLs",
		       NB_CONFIG_ETCD_ENDPOINTS_MAX);
		return;
	}
	for (i = 0; i < n->n && !c->oom; i++) {
		const struct ynode *it = n->items[i];

		if (!ys_want_type(c, it, YNODE_SCALAR,
				  "store.etcd.endpoints item"))
			continue;
		if (!etcd_endpoint_valid(it->str)) {
			ys_err(c, it,
			       "store.etcd.endpoints: '%s' is not "
			       "https://HOST:PORT",
			       ys_quote(it->str, it->len, qb, sizeof(qb)));
			continue;
		}
		cfg->store.endpoints[cfg->store.nendpoints] =
			ys_strdup(c, it->str);
		if (cfg->store.endpoints[cfg->store.nendpoints] != NULL)
			cfg->store.nendpoints++;
	}
}

/* A key prefix: "/" then [A-Za-z0-9._-/], no "//", no '/' at the end. */
static bool
etcd_prefix_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (len < 2 || len > NB_CONFIG_ETCD_PREFIX_MAX || s[0] != '/' ||
	    s[len - 1] == '/' || strstr(s, "//") != NULL)
		return false;
	for (i = 0; i < len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
			   "Z"
			   "0123456789._-/",
			   s[i]) == NULL)
			return false;
	return true;
}

static void
load_store(struct ys_ctx *c, const struct ynode *m, struct nb_config *cfg)
{
	static const char *const keys[] = { "etcd", NULL };
	static const char *const ekeys[] = { "endpoints", "ca",	    "cert",
					     "key",	  "prefix", NULL };
	const struct ynode *e, *n;
	const char *s;
	char qb[80];

	ys_check_keys(c, m, "store", keys);
	e = get_map(c, m, "etcd", "store.etcd");
	if (e == NULL)
		return;
	ys_check_keys(c, e, "store.etcd", ekeys);
	cfg->store.etcd = true;
	n = ynode_get(e, "endpoints");
	if (n == NULL)
		ys_err(c, e, "store.etcd.endpoints is required");
	else
		load_etcd_endpoints(c, n, cfg);
	get_path(c, e, "ca", "store.etcd.ca", cfg->dir, &cfg->store.ca);
	get_path(c, e, "cert", "store.etcd.cert", cfg->dir, &cfg->store.cert);
	get_path(c, e, "key", "store.etcd.key", cfg->dir, &cfg->store.key);
	if (cfg->store.ca == NULL || cfg->store.cert == NULL ||
	    cfg->store.key == NULL)
		ys_err(c, e,
		       "store.etcd needs ca, cert and key (etcd's CA and a "
		       "client certificate it signed)");
	s = ys_get_scalar(c, e, "prefix", "store.etcd.prefix", 0, &n);
	if (s != NULL && !etcd_prefix_valid(s)) {
		ys_err(c, n,
		       "store.etcd.prefix '%s' must be /NAME[/NAME...] of "
		       "letters, digits, '.', '_', '-' (at most %d bytes)",
		       ys_quote(s, strlen(s), qb, sizeof(qb)),
		       NB_CONFIG_ETCD_PREFIX_MAX);
	} else if (s != NULL) {
		free(cfg->store.prefix);
		cfg->store.prefix = ys_strdup(c, s);
	}
}

static void
load_node(struct ys_ctx *c, const struct ynode *m, struct nb_config *cfg)
{
	static const char *const keys[] = { "name", "mac",	   "ip",
					    "role", "secure_boot", "rejoin",
					    NULL };
	struct nb_config_node *nd = &cfg->nodes[cfg->nnodes];
	const struct ynode *n;
	const char *s;
	char qb[80];
	size_t i;
	bool ok = true;

	if (!ys_want_type(c, m, YNODE_MAP, "a node"))
		return;
	ys_check_keys(c, m, "a node", keys);
	memset(nd, 0, sizeof(*nd));
	s = ys_get_scalar(c, m, "name", "node name", YS_REQUIRED, &n);
	if (s == NULL)
		ok = false;
	else if (!dns_label_valid(s)) {
		ys_err(c, n, "node name '%s' is not a DNS label",
		       ys_quote(s, strlen(s), qb, sizeof(qb)));
		ok = false;
	}
	if (s != NULL && ok) {
		nd->name = ys_strdup(c, s);
		if (nd->name == NULL)
			return;
	}
	s = ys_get_scalar(c, m, "mac", "node mac", YS_REQUIRED, &n);
	if (s == NULL) {
		ok = false;
	} else if (mac_parse(s, nd->mac) < 0) {
		ys_err(c, n, "'%s' is not a MAC address",
		       ys_quote(s, strlen(s), qb, sizeof(qb)));
		ok = false;
	}
	if (!ys_get_ip(c, m, "ip", "node ip", YS_REQUIRED, &nd->ip))
		ok = false;
	s = ys_get_scalar(c, m, "role", "node role", YS_REQUIRED, &n);
	if (s == NULL) {
		ok = false;
	} else {
		for (i = 0; i < ROLE_COUNT; i++)
			if (strcmp(s, role_name((enum node_role)i)) == 0)
				break;
		if (i == ROLE_COUNT) {
			ys_err(c, n,
			       "node role must be control-plane, worker "
			       "or etcd");
			ok = false;
		} else {
			nd->role = (enum node_role)i;
		}
	}
	ys_get_bool(c, m, "secure_boot", "node secure_boot", YS_BOOL_NO_YESNO,
		    &nd->secure_boot);
	ys_get_bool(c, m, "rejoin", "node rejoin", YS_BOOL_NO_YESNO,
		    &nd->rejoin);
	if (!ok) {
		free(nd->name);
		nd->name = NULL;
		return;
	}
	for (i = 0; i < cfg->nnodes; i++) {
		if (memcmp(cfg->nodes[i].mac, nd->mac, MAC_LEN) == 0)
			ys_err(c, m, "node %s: MAC already used by %s",
			       nd->name, cfg->nodes[i].name);
		else if (cfg->nodes[i].ip == nd->ip)
			ys_err(c, m, "node %s: IP already used by %s", nd->name,
			       cfg->nodes[i].name);
		else if (strcmp(cfg->nodes[i].name, nd->name) == 0)
			ys_err(c, m, "node name %s is used twice", nd->name);
	}
	cfg->nnodes++;
}

static void
load_nodes(struct ys_ctx *c, const struct ynode *n, struct nb_config *cfg)
{
	size_t i;

	if (n == NULL || ynode_is_null(n))
		return;
	if (!ys_want_type(c, n, YNODE_SEQ, "nodes"))
		return;
	if (n->n > NB_CONFIG_MAX_NODES) {
		ys_err(c, n, "more than %d nodes", NB_CONFIG_MAX_NODES);
		return;
	}
	cfg->nodes = calloc(n->n ? n->n : 1, sizeof(*cfg->nodes));
	if (cfg->nodes == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < n->n && !c->oom; i++)
		load_node(c, n->items[i], cfg);
}

/*
 * The directory paths are relative to: the one that really holds the
 * file, so that /etc/metalboot/netboot.yaml may be a link to OUT's.
 */
static char *
dir_of(const char *file)
{
	char *real = realpath(file, NULL), *d;
	const char *f = real != NULL ? real : file;
	const char *slash = strrchr(f, '/');

	if (slash == NULL)
		d = strdup(".");
	else if (slash == f)
		d = strdup("/");
	else
		d = strndup(f, (size_t)(slash - f));
	free(real);
	return d;
}

static void
load_root(struct ys_ctx *c, const struct ynode *root, struct nb_config *cfg)
{
	static const char *const keys[] = {
		"version", "cluster",	"kubernetes_version",
		"listen",  "interface", "dhcp",
		"tftp",	   "http",	"paths",
		"nodes",   "workers",	"store",
		NULL
	};
	static const char *const tftp_keys[] = { "port", "max_per_file", NULL };
	const struct ynode *n;
	const char *s;

	ys_check_keys(c, root, "netboot.yaml", keys);
	s = ys_get_scalar(c, root, "version", "version", YS_REQUIRED, &n);
	if (s != NULL && strcmp(s, "1") != 0)
		ys_err(c, n, "version must be 1");
	s = ys_get_scalar(c, root, "cluster", "cluster", 0, NULL);
	if (s != NULL)
		cfg->cluster = ys_strdup(c, s);
	s = ys_get_scalar(c, root, "kubernetes_version", "kubernetes_version",
			  0, NULL);
	if (s != NULL)
		cfg->kubernetes_version = ys_strdup(c, s);
	ys_get_ip(c, root, "listen", "listen", YS_REQUIRED, &cfg->listen);
	s = ys_get_scalar(c, root, "interface", "interface", 0, NULL);
	if (s != NULL)
		cfg->interface = ys_strdup(c, s);
	n = get_map(c, root, "dhcp", "dhcp");
	if (n != NULL)
		load_dhcp(c, n, cfg);
	n = get_map(c, root, "tftp", "tftp");
	if (n != NULL) {
		ys_check_keys(c, n, "tftp", tftp_keys);
		get_port(c, n, "port", "tftp.port", &cfg->tftp_port);
		get_uint(c, n, "max_per_file", "tftp.max_per_file", 0,
			 STORM_FILE_CAP_MAX, &cfg->tftp_max_per_file);
	}

	get_uint(c, root, "workers", "workers", 0, NB_CONFIG_WORKERS_MAX,
		 &cfg->workers);
	n = get_map(c, root, "http", "http");
	if (n != NULL)
		load_http(c, n, cfg);
	n = get_map(c, root, "paths", "paths");
	if (n != NULL)
		load_paths(c, n, cfg);
	n = get_map(c, root, "store", "store");
	if (n != NULL)
		load_store(c, n, cfg);
	check_failover(c, root, cfg);
	load_nodes(c, ynode_get(root, "nodes"), cfg);
}

/* Defaults, before the file's values replace them. */
static int
set_defaults(struct ys_ctx *c, struct nb_config *cfg)
{
	cfg->dhcp.mode = DHCP_OFF;
	cfg->dhcp.lease_time = NB_CONFIG_LEASE_DFLT;
	cfg->dhcp.check_wait_ms = NB_CONFIG_CHECK_DFLT;
	cfg->workers = 0; /* one loop per online CPU; 1: the one loop */
	cfg->dhcp.pace.burst = STORM_BURST_DFLT;
	cfg->dhcp.pace.queue_max = STORM_QUEUE_DFLT;
	cfg->tftp_port = 69;
	cfg->http_port = 80;
	cfg->https_port = 443;
	cfg->secret_window = NB_CONFIG_SECRET_WINDOW_DFLT;
	cfg->public_dir = resolve(c, cfg->dir, "public");
	cfg->boot_dir = resolve(c, cfg->dir, "boot");
	cfg->nodes_dir = resolve(c, cfg->dir, "nodes");
	cfg->state_dir = resolve(c, cfg->dir, "state");
	cfg->store.prefix = ys_strdup(c, NB_CONFIG_ETCD_PREFIX_DFLT);
	return c->oom ? -ENOMEM : 0;
}

int
nb_config_parse(const char *file, const char *data, size_t len,
		struct nb_config **ret, struct diags *diags)
{
	struct ys_ctx c = { file, diags, 0 };
	struct nb_config *cfg = NULL;
	struct ydoc *doc = NULL;
	struct yerror yerr;
	size_t errors = diags->errors;
	int r;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return -ENOMEM;
	cfg->file = strdup(file);
	cfg->dir = dir_of(file);
	if (cfg->file == NULL || cfg->dir == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = set_defaults(&c, cfg);
	if (r < 0)
		goto out;
	r = ydoc_parse(file, data, len, &doc, &yerr);
	if (r == -EINVAL) {
		diags_add(diags, DIAG_ERROR, file, yerr.line, yerr.col, "%s",
			  yerr.msg);
		goto out;
	}
	if (r < 0)
		goto out;
	if (doc->root == NULL || doc->root->type != YNODE_MAP) {
		diags_add(diags, DIAG_ERROR, file,
			  doc->root ? doc->root->line : 1,
			  doc->root ? doc->root->col : 1,
			  "netboot.yaml must be a mapping");
		r = -EINVAL;
		goto out;
	}
	load_root(&c, doc->root, cfg);
	if (c.oom || diags->oom) {
		r = -ENOMEM;
		goto out;
	}
	if (diags->errors > errors) {
		r = -EINVAL;
		goto out;
	}
	*ret = cfg;
	cfg = NULL;
	r = 0;
out:
	ydoc_free(doc);
	nb_config_free(cfg);
	return r;
}

int
nb_config_load(const char *path, struct nb_config **ret, struct diags *diags)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, YLOAD_MAX_INPUT, &data, &len);
	if (r < 0) {
		diags_add(diags, DIAG_ERROR, path, 0, 0, "cannot read: %s",
			  strerror(-r));
		return r;
	}
	r = nb_config_parse(path, data, len, ret, diags);
	free(data);
	return r;
}

struct nb_config *
nb_config_free(struct nb_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return NULL;
	for (i = 0; i < cfg->nnodes; i++)
		free(cfg->nodes[i].name);
	free(cfg->nodes);
	free(cfg->file);
	free(cfg->dir);
	free(cfg->cluster);
	free(cfg->kubernetes_version);
	free(cfg->interface);
	free(cfg->dhcp.efi_arm64);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->public_dir);
	free(cfg->boot_dir);
	free(cfg->nodes_dir);
	free(cfg->state_dir);
	for (i = 0; i < cfg->store.nendpoints; i++)
		free(cfg->store.endpoints[i]);
	free(cfg->store.ca);
	free(cfg->store.cert);
	free(cfg->store.key);
	free(cfg->store.prefix);
	free(cfg);
	return NULL;
}

const struct nb_config_node *
nb_config_find_mac(const struct nb_config *cfg, const uint8_t mac[MAC_LEN])
{
	size_t i;

	for (i = 0; i < cfg->nnodes; i++)
		if (memcmp(cfg->nodes[i].mac, mac, MAC_LEN) == 0)
			return &cfg->nodes[i];
	return NULL;
}

const struct nb_config_node *
nb_config_find_ip(const struct nb_config *cfg, uint32_t ip)
{
	size_t i;

	for (i = 0; i < cfg->nnodes; i++)
		if (cfg->nodes[i].ip == ip)
			return &cfg->nodes[i];
	return NULL;
}

const struct nb_config_node *
nb_config_find(const struct nb_config *cfg, const uint8_t mac[MAC_LEN])
{
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->nnodes; i++)
		if (memcmp(cfg->nodes[i].mac, mac, MAC_LEN) == 0)
			return &cfg->nodes[i];
	return NULL;
}
