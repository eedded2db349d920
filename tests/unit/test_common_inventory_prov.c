/*
 * test_common_inventory_prov.c - provisioning.etcd: its three modes, the
 * endpoints defaulted from the cluster, and every refusal at its
 * FILE:LINE:COL.
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

#include "inventory.h"
#include "inventory_expect.h"

/* provisioning.etcd starts at line 7; its keys at line 9, column 5. */
#define PROV                                                                   \
	"provisioning:\n"                                                      \
	"  etcd:\n"
#define CP2                                                                    \
	"  - {name: cp2, mac: \"52:54:00:00:01:02\", ip: 10.0.0.12, "          \
	"role: control-plane}\n"
#define CP3                                                                    \
	"  - {name: cp3, mac: \"52:54:00:00:01:03\", ip: 10.0.0.13, "          \
	"role: control-plane}\n"
#define W1                                                                     \
	"  - {name: w1, mac: \"52:54:00:00:02:01\", ip: 10.0.0.21, "           \
	"role: worker}\n"
#define E1                                                                     \
	"  - {name: e1, mac: \"52:54:00:00:03:01\", ip: 10.0.0.31, "           \
	"role: etcd}\n"
#define HA HEAD "  control_plane_endpoint: 10.0.0.10:6443\n"

/* The default mode: listed endpoints, their hosts once each, a prefix. */
static void
test_own(void **state)
{
	const struct inv_prov_etcd *e;
	struct inventory *inv;
	struct diags d;

	(void)state;
	inv = load_ok(HEAD NET "nodes:\n" CP1, &d);
	assert_false(inv->provisioning.etcd.set);
	inventory_free(inv);
	diags_done(&d);
	inv = load_ok(HEAD NET PROV
		      "    endpoints: [https://10.0.0.2:2379, "
		      "https://10.0.0.2:22379, https://Etcd3.Example:2379]\n"
		      "    prefix: /metalboot/lab\n"
		      "nodes:\n" CP1,
		      &d);
	e = &inv->provisioning.etcd;
	assert_true(e->set);
	assert_int_equal(e->mode, PROV_ETCD_OWN);
	assert_int_equal(e->endpoints.n, 3);
	assert_string_equal(e->endpoints.v[2], "https://Etcd3.Example:2379");
	assert_int_equal(e->hosts.n, 2);
	assert_string_equal(e->hosts.v[0], "10.0.0.2");
	assert_string_equal(e->hosts.v[1], "etcd3.example");
	assert_string_equal(e->prefix, "/metalboot/lab");
	assert_null(e->ca);
	assert_int_equal(e->line, 9);
	assert_int_equal(e->col, 5);
	assert_null(find_diag(&d, DIAG_WARNING, "provisioning"));
	inventory_free(inv);
	diags_done(&d);
}

/* A file to stand for an etcd CA's certificate or key. */
static void
temp_file(char *path, size_t size, const char *name)
{
	int fd;

	snprintf(path, size, "/tmp/test_inv_prov.%s.XXXXXX", name);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

/* An existing etcd's CA: both files, not with cluster: true. */
static void
test_existing_ca(void **state)
{
	char ca[64], key[64], y[2048];
	struct inventory *inv;
	struct diags d;

	(void)state;
	temp_file(ca, sizeof(ca), "crt");
	temp_file(key, sizeof(key), "key");
	snprintf(y, sizeof(y),
		 HEAD NET PROV "    endpoints: [https://10.0.0.2:2379]\n"
			       "    ca: %s\n"
			       "    ca_key: %s\n"
			       "nodes:\n" CP1,
		 ca, key);
	inv = load_ok(y, &d);
	assert_int_equal(inv->provisioning.etcd.mode, PROV_ETCD_CA);
	assert_string_equal(inv->provisioning.etcd.ca, ca);
	assert_string_equal(inv->provisioning.etcd.ca_key, key);
	assert_int_equal(inv->provisioning.etcd.ca_line, 10);
	assert_int_equal(inv->provisioning.etcd.ca_col, 9);
	inventory_free(inv);
	diags_done(&d);
	snprintf(y, sizeof(y),
		 HEAD NET PROV "    endpoints: [https://10.0.0.2:2379]\n"
			       "    ca: %s\n"
			       "nodes:\n" CP1,
		 ca);
	expect_error(y, 10, 9, "provisioning.etcd.ca needs ca_key as well");
	snprintf(y, sizeof(y),
		 HEAD NET PROV "    endpoints: [https://10.0.0.2:2379]\n"
			       "    ca_key: %s\n"
			       "nodes:\n" CP1,
		 key);
	expect_error(y, 10, 13, "provisioning.etcd.ca_key needs ca as well");
	snprintf(y, sizeof(y),
		 HEAD NET PROV "    cluster: true\n"
			       "    ca: %s\n"
			       "    ca_key: %s\n"
			       "nodes:\n" CP1,
		 ca, key);
	expect_error(y, 10, 9, "cluster: true signs with the cluster's etcd");
	snprintf(y, sizeof(y),
		 HEAD NET PROV "    endpoints: [https://10.0.0.2:2379]\n"
			       "    ca: %s.gone\n"
			       "    ca_key: %s\n"
			       "nodes:\n" CP1,
		 ca, key);
	expect_error(y, 10, 9, "is not a readable file");
	unlink(ca);
	unlink(key);
}

/* cluster: true: endpoints default to the members of the cluster's etcd. */
static void
test_cluster(void **state)
{
	const struct inv_prov_etcd *e;
	const struct diag *w;
	struct inventory *inv;
	struct diags d;

	(void)state;
	inv = load_ok(HA NET PROV "    cluster: true\n"
				  "nodes:\n" CP1 CP2 CP3 W1,
		      &d);
	e = &inv->provisioning.etcd;
	assert_int_equal(e->mode, PROV_ETCD_CLUSTER);
	assert_int_equal(e->endpoints.n, 3);
	assert_string_equal(e->endpoints.v[0], "https://10.0.0.11:2379");
	assert_string_equal(e->endpoints.v[2], "https://10.0.0.13:2379");
	assert_int_equal(e->hosts.n, 3);
	/* Not the default, and the load says why, at cluster: true. */
	w = find_diag(&d, DIAG_WARNING, "depends on the cluster it provisions");
	assert_non_null(w);
	assert_int_equal(w->line, 10);
	assert_int_equal(w->col, 14);
	inventory_free(inv);
	diags_done(&d);

	/* External etcd: its etcd nodes, not the control planes. */
	inv = load_ok(HEAD "  etcd: external\n" NET PROV "    cluster: true\n"
			   "nodes:\n" CP1 E1,
		      &d);
	e = &inv->provisioning.etcd;
	assert_int_equal(e->endpoints.n, 1);
	assert_string_equal(e->endpoints.v[0], "https://10.0.0.31:2379");
	inventory_free(inv);
	diags_done(&d);

	/* Listed endpoints: members only, by address or name. */
	inv = load_ok(HEAD NET PROV "    cluster: true\n"
				    "    endpoints: [https://cp1:2379]\n"
				    "nodes:\n" CP1,
		      &d);
	assert_string_equal(inv->provisioning.etcd.hosts.v[0], "cp1");
	inventory_free(inv);
	diags_done(&d);
	expect_error(HEAD NET PROV "    cluster: true\n"
				   "    endpoints: [https://10.0.0.21:2379]\n"
				   "nodes:\n" CP1 W1,
		     10, 17,
		     "10.0.0.21 is not a member of the cluster's etcd "
		     "(cluster: true with etcd: stacked");
	/* etcd: external runs no etcd on the control planes. */
	expect_error(HEAD "  etcd: external\n" NET PROV "    cluster: true\n"
			  "    endpoints: [https://10.0.0.11:2379]\n"
			  "nodes:\n" CP1 E1,
		     11, 17,
		     "with etcd: external: the address or name of a node with "
		     "role etcd");
	expect_error(HEAD NET PROV "    cluster: yes\n"
				   "nodes:\n" CP1,
		     9, 14, "provisioning.etcd.cluster must be true or false");
}

static void
test_endpoints(void **state)
{
	char y[4096];
	size_t n;
	int i;

	(void)state;
	expect_error(HEAD NET PROV "    endpoints: [http://10.0.0.2:2379]\n"
				   "nodes:\n" CP1,
		     9, 17, "'http://10.0.0.2:2379' is not https://HOST:PORT");
	expect_error(HEAD NET PROV "    endpoints: [https://10.0.0.2:2379/v3]\n"
				   "nodes:\n" CP1,
		     9, 17, "is not https://HOST:PORT");
	expect_error(HEAD NET PROV "    endpoints: [https://10.0.0.2]\n"
				   "nodes:\n" CP1,
		     9, 17, "is not https://HOST:PORT");
	expect_error(HEAD NET PROV "    endpoints: [\"https://10.0.0.2:0\"]\n"
				   "nodes:\n" CP1,
		     9, 17, "is not https://HOST:PORT");
	expect_error(HEAD NET PROV "    endpoints: [https://u@h:2379]\n"
				   "nodes:\n" CP1,
		     9, 17, "is not https://HOST:PORT");
	expect_error(HEAD NET PROV "    endpoints: [https://10.0.0.999:2379]\n"
				   "nodes:\n" CP1,
		     9, 17, "is not https://HOST:PORT");
	expect_error(HEAD NET PROV "    endpoints: []\n"
				   "nodes:\n" CP1,
		     9, 16, "must list 1..16 URLs");
	expect_error(HEAD NET PROV "    endpoints: https://10.0.0.2:2379\n"
				   "nodes:\n" CP1,
		     9, 16, "must be a list");
	expect_error(HEAD NET PROV
		     "    endpoints: [https://a:1, https://b:1, https://a:1]\n"
		     "nodes:\n" CP1,
		     9, 43, "https://a:1 is listed twice");
	n = (size_t)snprintf(y, sizeof(y), HEAD NET PROV "    endpoints: [");
	for (i = 0; i < 17; i++)
		n += (size_t)snprintf(y + n, sizeof(y) - n,
				      "%shttps://e%d:2379", i ? ", " : "", i);
	snprintf(y + n, sizeof(y) - n, "]\nnodes:\n" CP1);
	expect_error(y, 9, 16, "must list 1..16 URLs");
	/* None at all: required unless cluster: true. */
	expect_error(HEAD NET PROV "    prefix: /mb\n"
				   "nodes:\n" CP1,
		     9, 5, "provisioning.etcd.endpoints is required");
}

/* The provisioning etcd on a node metalboot reinstalls: a warning. */
static void
test_endpoint_on_node(void **state)
{
	const struct diag *w;
	struct inventory *inv;
	struct diags d;

	(void)state;
	inv = load_ok(HEAD NET PROV "    endpoints: [https://10.0.0.2:2379, "
				    "https://w1:2379]\n"
				    "nodes:\n" CP1 W1,
		      &d);
	w = find_diag(&d, DIAG_WARNING, "w1 is node 'w1': metalboot");
	assert_non_null(w);
	assert_int_equal(w->line, 9);
	assert_int_equal(w->col, 40);
	assert_null(find_diag(&d, DIAG_WARNING, "10.0.0.2 is node"));
	inventory_free(inv);
	diags_done(&d);
}

static void
test_prefix_and_keys(void **state)
{
	static const char *bad[] = { "metalboot", "/", "/a/", "/a//b", "/a b" };
	char y[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(y, sizeof(y),
			 HEAD NET PROV "    endpoints: [https://h:2379]\n"
				       "    prefix: \"%s\"\n"
				       "nodes:\n" CP1,
			 bad[i]);
		expect_error(y, 10, 13, "must be /NAME[/NAME...]");
	}
	expect_error(HEAD NET PROV "    endpoint: [https://h:2379]\n"
				   "nodes:\n" CP1,
		     9, 5, "did you mean 'endpoints'");
	expect_error(HEAD NET "provisioning:\n  etc: {}\nnodes:\n" CP1, 8, 3,
		     "unknown key 'etc' in provisioning");
	expect_error(HEAD NET "provisioning:\n  etcd: [x]\nnodes:\n" CP1, 8, 9,
		     "provisioning.etcd must be a mapping");
	expect_error(HEAD NET "provisioning: 1\nnodes:\n" CP1, 7, 15,
		     "provisioning must be a mapping");
	/* An empty provisioning: or etcd: is none. */
	expect_sole_error(HEAD NET "provisioning: {etcd: null}\n"
				   "nodes:\n" CP1 "bogus: 1\n",
			  10, 1, "unknown key 'bogus'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own),
		cmocka_unit_test(test_existing_ca),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_endpoint_on_node),
		cmocka_unit_test(test_prefix_and_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
