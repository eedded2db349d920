/*
 * test_netboot_config.c - the netboot.yaml loader: the example from
 * docs/formats.md, defaults, relative paths, and every refusal with its
 * position.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fsutil.h"

static const char example[] =
	"version: 1\n"
	"cluster: lab\n"
	"kubernetes_version: v1.30.2\n"
	"listen: 192.168.100.1\n"
	"interface: null\n"
	"dhcp:\n"
	"  mode: full\n"
	"  subnet: 192.168.100.0/24\n"
	"  gateway: 192.168.100.1\n"
	"  dns: [192.168.100.1]\n"
	"  pool: 192.168.100.100-192.168.100.199\n"
	"  lease_time: 3600\n"
	"  unknown: ignore\n"
	"tftp: { port: 69 }\n"
	"http: { port: 80, https_port: 443, cert: pki/netboot.crt, key: "
	"pki/netboot.key, secret_window: 1h30m }\n"
	"paths:\n"
	"  public: public\n"
	"  boot: boot\n"
	"  nodes: nodes\n"
	"  state: state\n"
	"nodes:\n"
	"  - { name: cp1, mac: \"52:54:00:00:01:01\", ip: 192.168.100.11, "
	"role: control-plane }\n"
	"  - { name: w1, mac: \"52-54-00-00-02-01\", ip: 192.168.100.21, "
	"role: worker, secure_boot: true }\n";

/* Parse text; return the code and leave the first message in msg. */
static int
parse(const char *text, struct nb_config **cfg, char *msg, size_t msgsz)
{
	struct diags d;
	int r;

	diags_init(&d);
	*cfg = NULL;
	r = nb_config_parse("/srv/out/netboot.yaml", text, strlen(text), cfg,
			    &d);
	msg[0] = '\0';
	if (d.n > 0)
		snprintf(msg, msgsz, "%u:%u: %s", d.items[0].line,
			 d.items[0].col, d.items[0].msg);
	diags_done(&d);
	return r;
}

static void
test_example(void **state)
{
	struct nb_config *cfg;
	char msg[512];
	uint8_t mac[MAC_LEN] = { 0x52, 0x54, 0, 0, 2, 1 };
	const struct nb_config_node *n;

	(void)state;
	assert_int_equal(parse(example, &cfg, msg, sizeof(msg)), 0);
	assert_string_equal(cfg->cluster, "lab");
	assert_string_equal(cfg->kubernetes_version, "v1.30.2");
	assert_int_equal(cfg->listen, 0xc0a86401);
	assert_null(cfg->interface);
	assert_int_equal(cfg->dhcp.mode, DHCP_FULL);
	assert_true(cfg->dhcp.has_subnet);
	assert_int_equal(cfg->dhcp.subnet.prefix, 24);
	assert_true(cfg->dhcp.has_gateway);
	assert_int_equal(cfg->dhcp.ndns, 1);
	assert_true(cfg->dhcp.has_pool);
	assert_int_equal(cfg->dhcp.pool.last, 0xc0a864c7);
	assert_int_equal(cfg->dhcp.lease_time, 3600);
	assert_false(cfg->dhcp.unknown_discover);
	assert_false(cfg->dhcp.efi_snponly);
	assert_null(cfg->dhcp.efi_arm64);
	assert_int_equal(cfg->tftp_port, 69);
	assert_int_equal(cfg->http_port, 80);
	assert_int_equal(cfg->https_port, 443);
	assert_int_equal(cfg->secret_window, 90 * 60);
	assert_string_equal(cfg->cert, "/srv/out/pki/netboot.crt");
	assert_string_equal(cfg->key, "/srv/out/pki/netboot.key");
	assert_string_equal(cfg->public_dir, "/srv/out/public");
	assert_string_equal(cfg->boot_dir, "/srv/out/boot");
	assert_string_equal(cfg->nodes_dir, "/srv/out/nodes");
	assert_string_equal(cfg->state_dir, "/srv/out/state");
	assert_int_equal(cfg->nnodes, 2);
	assert_string_equal(cfg->nodes[0].name, "cp1");
	assert_int_equal(cfg->nodes[0].role, ROLE_CONTROL_PLANE);
	assert_false(cfg->nodes[0].secure_boot);
	assert_true(cfg->nodes[1].secure_boot);
	n = nb_config_find_mac(cfg, mac);
	assert_non_null(n);
	assert_string_equal(n->name, "w1");
	assert_ptr_equal(nb_config_find_ip(cfg, 0xc0a86415), n);
	assert_null(nb_config_find_ip(cfg, 1));
	nb_config_free(cfg);
}

static void
test_defaults(void **state)
{
	struct nb_config *cfg;
	char msg[512];

	(void)state;
	assert_int_equal(parse("version: 1\nlisten: 10.0.0.1\n"
			       "paths: { public: /abs/pub }\n",
			       &cfg, msg, sizeof(msg)),
			 0);
	assert_int_equal(cfg->dhcp.mode, DHCP_OFF);
	assert_int_equal(cfg->dhcp.lease_time, NB_CONFIG_LEASE_DFLT);
	assert_int_equal(cfg->tftp_port, 69);
	assert_int_equal(cfg->http_port, 80);
	assert_int_equal(cfg->https_port, 443);
	assert_null(cfg->cert);
	assert_int_equal(cfg->secret_window, NB_CONFIG_SECRET_WINDOW_DFLT);
	assert_int_equal(cfg->secret_window, 30 * 60);
	assert_string_equal(cfg->public_dir, "/abs/pub");
	assert_string_equal(cfg->state_dir, "/srv/out/state");
	assert_int_equal(cfg->nnodes, 0);
	assert_null(nb_config_free(cfg));
	assert_null(nb_config_free(NULL));
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* a substring of the first message */
	} cases[] = {
		{ "version: 2\nlisten: 10.0.0.1\n", "1:10: version must be 1" },
		{ "listen: 10.0.0.1\n", "version is required" },
		{ "version: 1\n", "listen is required" },
		{ "version: 1\nlisten: 10.0.0.256\n", "not an IPv4" },
		{ "version: 1\nlisten: 10.0.0.1\nbogus: 1\n",
		  "3:1: unknown key 'bogus' in netboot.yaml" },
		{ "version: 1\nlisten: 10.0.0.1\ntftp: { port: 0 }\n",
		  "tftp.port must be a port" },
		{ "version: 1\nlisten: 10.0.0.1\ntftp: { port: 70000 }\n",
		  "tftp.port must be a port" },
		{ "version: 1\nlisten: 10.0.0.1\ntftp: { porte: 69 }\n",
		  "unknown key 'porte' in tftp" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { mode: full }\n",
		  "dhcp.subnet is required" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { mode: maybe }\n",
		  "dhcp.mode must be" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { mode: proxy, "
		  "subnet: 10.0.0.0/24, pool: 10.0.1.1-10.0.1.9 }\n",
		  "not inside dhcp.subnet" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { lease_time: 5 }\n",
		  "dhcp.lease_time must be" },
		{ "version: 1\nlisten: 10.0.0.1\nhttp: { cert: a.crt }\n",
		  "go together" },
		{ "version: 1\nlisten: 10.0.0.1\nhttp: { secret_window: 0s }\n",
		  "3:24: http.secret_window must be a duration" },
		{ "version: 1\nlisten: 10.0.0.1\nhttp: { secret_window: 30 }\n",
		  "http.secret_window must be a duration" },
		{ "version: 1\nlisten: 10.0.0.1\nhttp: { secret_window: 169h "
		  "}\n",
		  "http.secret_window must be a duration" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { uefi_loader: grub.efi "
		  "}\n",
		  "dhcp.uefi_loader must be ipxe.efi or snponly.efi" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { arm64_loader: "
		  "../x.efi }\n",
		  "dhcp.arm64_loader: '../x.efi' is not a path" },
		{ "version: 1\nlisten: 10.0.0.1\nnodes:\n"
		  "  - { name: a, mac: \"52:54:00:00:00:01\", ip: 10.0.0.5, "
		  "role: worker }\n"
		  "  - { name: b, mac: \"52:54:00:00:00:01\", ip: 10.0.0.6, "
		  "role: worker }\n",
		  "MAC already used by a" },
		{ "version: 1\nlisten: 10.0.0.1\nnodes:\n"
		  "  - { name: a, mac: \"52:54:00:00:00:01\", ip: 10.0.0.5, "
		  "role: boss }\n",
		  "node role must be" },
		{ "version: 1\nlisten: 10.0.0.1\nnodes:\n"
		  "  - { name: a, mac: nope, ip: 10.0.0.5, role: worker }\n",
		  "not a MAC address" },
		{ "version: 1\nlisten: 10.0.0.1\nnodes:\n"
		  "  - { name: a, mac: \"52:54:00:00:00:01\", ip: 10.0.0.5, "
		  "role: worker, secure_boot: on }\n",
		  "4:83: node secure_boot must be true or false" },
		{ "version: 1\nlisten: 10.0.0.1\nnodes: { a: 1 }\n",
		  "nodes must be a list" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { relays: [ { subnet: "
		  "10.1.0.0/24 } ] }\n",
		  "dhcp.relays.address is required" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { relays: [ { address: "
		  "10.2.0.1, subnet: 10.1.0.0/24 } ] }\n",
		  "dhcp.relays.address is not inside its subnet" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { relays: [ { address: "
		  "10.1.0.1, subnet: 10.1.0.0/24, pool: 10.1.1.5-10.1.1.9 } ] "
		  "}\n",
		  "dhcp.relays.pool is not inside its subnet" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { relays: [ { address: "
		  "10.1.0.1, subnet: 10.1.0.0/24, router: 10.1.0.1 } ] }\n",
		  "unknown key 'router' in dhcp.relays item" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { relays: [ { address: "
		  "10.1.0.1, subnet: 10.1.0.0/24 }, { address: 10.1.0.1, "
		  "subnet: 10.1.0.0/24 } ] }\n",
		  "dhcp.relays: address listed twice" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { check_wait_ms: 99999 "
		  "}\n",
		  "dhcp.check_wait_ms must be 0..30000" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp:\n  pace: { rate: -1 }\n",
		  "4:17: dhcp.pace.rate must be 0..100000" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { pace: { burst: 0 } "
		  "}\n",
		  "dhcp.pace.burst must be 1..100000" },
		{ "version: 1\nlisten: 10.0.0.1\ndhcp: { pace: { rat: 1 } }\n",
		  "unknown key 'rat' in dhcp.pace" },
		{ "version: 1\nlisten: 10.0.0.1\ntftp: { max_per_file: x }\n",
		  "3:23: tftp.max_per_file must be 0..65536" },
		{ "version: 1\nlisten: 10.0.0.1\nhttp: { max_per_file: 70000 "
		  "}\n",
		  "http.max_per_file must be 0..65536" },
		{ "version: 1\nlisten: 10.0.0.1\nworkers: 65\n",
		  "3:10: workers must be 0..64" },
		{ "- 1\n", "must be a mapping" },
		{ "version: [1\n", "" },
	};
	struct nb_config *cfg;
	char msg[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].text, &cfg, msg, sizeof(msg));

		if (r != -EINVAL || strstr(msg, cases[i].want) == NULL)
			fail_msg("case %zu: r=%d msg '%s', want '%s'", i, r,
				 msg, cases[i].want);
		assert_null(cfg);
	}
}

/* dhcp.relays and dhcp.check_wait_ms. */
static void
test_relays(void **state)
{
	static const char text[] =
		"version: 1\nlisten: 10.0.0.1\n"
		"dhcp:\n  mode: full\n  subnet: 10.0.0.0/24\n"
		"  check_wait_ms: 500\n"
		"  relays:\n"
		"    - { address: 10.1.0.1, subnet: 10.1.0.0/24, "
		"pool: 10.1.0.100-10.1.0.200 }\n"
		"    - { address: 10.2.0.2, subnet: 10.2.0.0/16, "
		"gateway: 10.2.0.1 }\n";
	struct nb_config *cfg;
	char msg[512];

	(void)state;
	assert_int_equal(parse(text, &cfg, msg, sizeof(msg)), 0);
	assert_int_equal(cfg->dhcp.check_wait_ms, 500);
	assert_int_equal(cfg->dhcp.nrelays, 2);
	assert_int_equal(cfg->dhcp.relays[0].address, 0x0a010001);
	assert_int_equal(cfg->dhcp.relays[0].gateway, 0x0a010001);
	assert_true(cfg->dhcp.relays[0].has_pool);
	assert_int_equal(cfg->dhcp.relays[0].pool.first, 0x0a010064);
	assert_int_equal(cfg->dhcp.relays[1].subnet.prefix, 16);
	assert_int_equal(cfg->dhcp.relays[1].gateway, 0x0a020001);
	assert_false(cfg->dhcp.relays[1].has_pool);
	nb_config_free(cfg);
	assert_int_equal(
		parse("version: 1\nlisten: 10.0.0.1\n", &cfg, msg, sizeof(msg)),
		0);
	assert_int_equal(cfg->dhcp.nrelays, 0);
	assert_int_equal(cfg->dhcp.check_wait_ms, NB_CONFIG_CHECK_DFLT);
	nb_config_free(cfg);
}

/* Storm control: dhcp.pace and the per-file caps; off by default. */
static void
test_storm(void **state)
{
	static const char text[] =
		"version: 1\nlisten: 10.0.0.1\n"
		"dhcp:\n  pace: { rate: 50, burst: 8, jitter_ms: 20, "
		"queue: 100 }\n"
		"tftp: { max_per_file: 4 }\nhttp: { max_per_file: 6 }\n"
		"workers: 3\n";
	struct nb_config *cfg;
	char msg[512];

	(void)state;
	assert_int_equal(parse(text, &cfg, msg, sizeof(msg)), 0);
	assert_int_equal(cfg->dhcp.pace.rate, 50);
	assert_int_equal(cfg->dhcp.pace.burst, 8);
	assert_int_equal(cfg->dhcp.pace.jitter_ms, 20);
	assert_int_equal(cfg->dhcp.pace.queue_max, 100);
	assert_int_equal(cfg->tftp_max_per_file, 4);
	assert_int_equal(cfg->http_max_per_file, 6);
	assert_int_equal(cfg->workers, 3);
	nb_config_free(cfg);
	assert_int_equal(
		parse("version: 1\nlisten: 10.0.0.1\n", &cfg, msg, sizeof(msg)),
		0);
	assert_int_equal(cfg->dhcp.pace.rate, 0);
	assert_int_equal(cfg->dhcp.pace.jitter_ms, 0);
	assert_int_equal(cfg->dhcp.pace.burst, STORM_BURST_DFLT);
	assert_int_equal(cfg->dhcp.pace.queue_max, STORM_QUEUE_DFLT);
	assert_int_equal(cfg->tftp_max_per_file, 0);
	assert_int_equal(cfg->http_max_per_file, 0);
	assert_int_equal(cfg->workers, 0);
	nb_config_free(cfg);
}

/* store.etcd: the shared store's settings, and each refusal's position. */
static void
test_store(void **state)
{
	static const char text[] =
		"version: 1\nlisten: 10.0.0.1\n"
		"store:\n  etcd:\n"
		"    endpoints: [https://10.0.0.2:2379, "
		"\"https://etcd3.lab:2379\"]\n"
		"    ca: pki/etcd/ca.crt\n    cert: /etc/mb/c.crt\n"
		"    key: pki/netboot-etcd.key\n    prefix: /lab/metalboot\n";
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "store: { etcd: { ca: a, cert: b, key: c } }\n",
		  "3:16: store.etcd.endpoints is required" },
		{ "store: { etcd: { endpoints: [http://a:2379], ca: a, "
		  "cert: b, key: c } }\n",
		  "3:30: store.etcd.endpoints: 'http://a:2379' is not "
		  "https://HOST:PORT" },
		{ "store: { etcd: { endpoints: [\"https://a:2379/v3\"], "
		  "ca: a, cert: b, key: c } }\n",
		  "is not https://HOST:PORT" },
		{ "store: { etcd: { endpoints: [https://a], ca: a, cert: b, "
		  "key: c } }\n",
		  "is not https://HOST:PORT" },
		{ "store: { etcd: { endpoints: [], ca: a, cert: b, key: c } "
		  "}\n",
		  "3:29: store.etcd.endpoints must list 1..16" },
		{ "store: { etcd: { endpoints: [https://a:1], cert: b, "
		  "key: c } }\n",
		  "3:16: store.etcd needs ca, cert and key" },
		{ "store: { etcd: { endpoints: [https://a:1], ca: a, cert: b, "
		  "key: c, prefix: metalboot } }\n",
		  "store.etcd.prefix 'metalboot' must be" },
		{ "store: { etcd: { endpoints: [https://a:1], ca: a, cert: b, "
		  "key: c, prefix: /a/ } }\n",
		  "store.etcd.prefix '/a/' must be" },
		{ "store: { etcd: { endpoints: [https://a:1], ca: a, cert: b, "
		  "key: c, prefx: /a } }\n",
		  "unknown key 'prefx' in store.etcd" },
		{ "store: { files: {} }\n", "unknown key 'files' in store" },
		{ "dhcp: { mode: full, subnet: 10.0.0.0/24, failover: standby }"
		  "\n",
		  "3:52: dhcp.failover: standby needs store.etcd" },
		{ "dhcp: { mode: full, subnet: 10.0.0.0/24, failover: hot }\n",
		  "3:52: dhcp.failover must be none or standby" },
		{ "dhcp: { mode: proxy, subnet: 10.0.0.0/24, failover: standby "
		  "}"
		  "\nstore: { etcd: { endpoints: [https://a:1], ca: a, "
		  "cert: b, key: c } }\n",
		  "dhcp.failover: standby needs dhcp.mode full" },
	};
	struct nb_config *cfg;
	char msg[512], text2[512];
	size_t i;

	(void)state;
	assert_int_equal(parse(text, &cfg, msg, sizeof(msg)), 0);
	assert_true(cfg->store.etcd);
	assert_int_equal(cfg->store.nendpoints, 2);
	assert_string_equal(cfg->store.endpoints[0], "https://10.0.0.2:2379");
	assert_string_equal(cfg->store.endpoints[1], "https://etcd3.lab:2379");
	assert_string_equal(cfg->store.ca, "/srv/out/pki/etcd/ca.crt");
	assert_string_equal(cfg->store.cert, "/etc/mb/c.crt");
	assert_string_equal(cfg->store.key, "/srv/out/pki/netboot-etcd.key");
	assert_string_equal(cfg->store.prefix, "/lab/metalboot");
	nb_config_free(cfg);
	assert_int_equal(
		parse("version: 1\nlisten: 10.0.0.1\n", &cfg, msg, sizeof(msg)),
		0);
	assert_false(cfg->store.etcd);
	assert_false(cfg->dhcp.standby);
	assert_string_equal(cfg->store.prefix, NB_CONFIG_ETCD_PREFIX_DFLT);
	nb_config_free(cfg);
	assert_int_equal(parse("version: 1\nlisten: 10.0.0.1\n"
			       "dhcp: { mode: full, subnet: 10.0.0.0/24, "
			       "failover: standby }\nstore: { etcd: { "
			       "endpoints: [https://a:1], ca: a, cert: b, "
			       "key: c } }\n",
			       &cfg, msg, sizeof(msg)),
			 0);
	assert_true(cfg->dhcp.standby);
	nb_config_free(cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text2, sizeof(text2),
			 "version: 1\nlisten: 10.0.0.1\n%s", bad[i].text);
		assert_int_equal(parse(text2, &cfg, msg, sizeof(msg)), -EINVAL);
		if (strstr(msg, bad[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, msg,
				 bad[i].want);
	}
}

static void
test_loaders(void **state)
{
	static const char text[] =
		"version: 1\nlisten: 10.0.0.1\n"
		"dhcp: { mode: proxy, subnet: 10.0.0.0/24, unknown: discover, "
		"uefi_loader: snponly.efi, arm64_loader: ipxe/arm64/ipxe.efi "
		"}\n";
	struct nb_config *cfg;
	char msg[512];

	(void)state;
	assert_int_equal(parse(text, &cfg, msg, sizeof(msg)), 0);
	assert_true(cfg->dhcp.unknown_discover);
	assert_true(cfg->dhcp.efi_snponly);
	assert_string_equal(cfg->dhcp.efi_arm64, "ipxe/arm64/ipxe.efi");
	nb_config_free(cfg);
}

static void
test_load_file(void **state)
{
	char dir[] = "/tmp/test_nb_config.XXXXXX";
	char path[256];
	struct nb_config *cfg = NULL;
	struct diags d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/netboot.yaml", dir);
	assert_int_equal(atomic_write(path, example, strlen(example), 0644), 0);
	diags_init(&d);
	assert_int_equal(nb_config_load(path, &cfg, &d), 0);
	snprintf(path, sizeof(path), "%s/public", dir);
	assert_string_equal(cfg->public_dir, path);
	nb_config_free(cfg);
	cfg = NULL;
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(nb_config_load(path, &cfg, &d), -ENOENT);
	assert_int_equal(d.errors, 1);
	diags_done(&d);
	snprintf(path, sizeof(path), "%s/netboot.yaml", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_loaders),
		cmocka_unit_test(test_relays),
		cmocka_unit_test(test_storm),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
