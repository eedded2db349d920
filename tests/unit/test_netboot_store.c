/*
 * test_netboot_store.c - the node store's interface (store_io.h) driven
 * the same way on both backends: the files alone, and etcd when one can
 * run (interop/store_backends starts one with TLS and sets
 * MB_TEST_ETCD_ENDPOINT, _CA, _CERT and _KEY; without them the etcd case
 * is skipped). The etcd case runs two stores in one loop, as two servers
 * of one fleet.
 */
#include <errno.h>
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "nodes.h"
#include "server.h"
#include "store_io.h"

#define WAIT_MS 20000 /* a bound on etcd's answers, not a measure */

static const uint8_t mac1[6] = { 2, 0, 0, 0, 0x0a, 1 };
static const uint8_t mac2[6] = { 2, 0, 0, 0, 0x0a, 2 };
static const uint8_t mac3[6] = { 2, 0, 0, 0, 0x0a, 3 };

/* One server: its loop, configuration and out directory. */
struct srv {
	struct netboot nb;
	struct nb_config *cfg;
	char dir[64];
};

/* What the callbacks saw. */
struct seen {
	int claims, last_r;
	int leases;
	uint32_t lease_ip;
	uint8_t lease_mac[6];
};

static struct event_base *base;
static char prefix[64];

static void
write_config(const char *dir, const char *listen)
{
	const char *ep = getenv("MB_TEST_ETCD_ENDPOINT");
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/netboot.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"version: 1\nlisten: %s\n"
		"dhcp: { mode: full, subnet: 10.9.0.0/24 }\n"
		"nodes:\n"
		"  - { name: n1, mac: \"02:00:00:00:0a:01\", ip: 10.9.0.11, "
		"role: worker }\n",
		listen);
	if (ep != NULL)
		fprintf(f,
			"store: { etcd: { endpoints: [%s], ca: %s, cert: %s, "
			"key: %s, prefix: %s } }\n",
			ep, getenv("MB_TEST_ETCD_CA"),
			getenv("MB_TEST_ETCD_CERT"), getenv("MB_TEST_ETCD_KEY"),
			prefix);
	assert_int_equal(fclose(f), 0);
}

static void
srv_start(struct srv *s, const char *dir, const char *listen)
{
	struct diags d;
	char path[128];

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	write_config(dir, listen);
	snprintf(path, sizeof(path), "%s/netboot.yaml", dir);
	diags_init(&d);
	assert_int_equal(nb_config_load(path, &s->cfg, &d), 0);
	diags_done(&d);
	s->nb.base = base;
	s->nb.cfg = s->cfg;
	s->nb.state_dir = s->cfg->state_dir;
	s->nb.http_port = 8080;
	mkdir(s->cfg->state_dir, 0700);
	assert_int_equal(store_io_start(&s->nb), 0);
}

static void
srv_stop(struct srv *s)
{
	store_io_stop(&s->nb);
	nb_config_free(s->cfg);
}

/* Run the loop until done(arg) or WAIT_MS; done's value. */
static bool
run_until(bool (*done)(void *), void *arg)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (done(arg))
			return true;
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(5000);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    WAIT_MS)
			return done(arg);
	}
}

static void
on_claim(void *arg, int r)
{
	struct seen *s = arg;

	s->claims++;
	s->last_r = r;
}

static void
on_lease(void *arg, uint32_t ip, const uint8_t mac[6], const char *state,
	 int64_t expires)
{
	struct seen *s = arg;

	(void)state;
	(void)expires;
	s->leases++;
	s->lease_ip = ip;
	memcpy(s->lease_mac, mac, 6);
}

static bool
claimed(void *arg)
{
	return ((struct seen *)arg)->claims > 0;
}

/* Claim a served-once mark or an address and wait for the outcome. */
static int
claim_secret(struct srv *s, const uint8_t *mac)
{
	struct seen seen = { 0 };
	uint64_t tag;
	int r = store_io_claim_secret(&s->nb, mac, 0, "firstboot", on_claim,
				      &seen, &tag);

	if (r != 0)
		return r == 1 ? 1 : r;
	assert_true(run_until(claimed, &seen));
	return seen.last_r;
}

static int
claim_lease(struct srv *s, const uint8_t *mac, uint32_t ip, int64_t expires)
{
	struct seen seen = { 0 };
	uint64_t tag;
	int r = store_io_lease_claim(&s->nb, mac, ip, "offered", expires,
				     on_claim, &seen, &tag);

	if (r != 0)
		return r == 1 ? 1 : r;
	assert_true(run_until(claimed, &seen));
	return seen.last_r;
}

static char tmp[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/mbstore-unit.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(prefix, sizeof(prefix), "/unit%ld", (long)getpid());
	base = event_base_new();
	return base != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* The files alone: no shared claims, state kept across a restart. */
static void
test_files(void **state)
{
	char dir[96];
	struct srv s;
	struct node *nd;
	char *servers = NULL, id[64];

	(void)state;
	if (getenv("MB_TEST_ETCD_ENDPOINT") != NULL)
		skip(); /* the etcd run covers the etcd case only */
	snprintf(dir, sizeof(dir), "%s/files", tmp);
	mkdir(dir, 0700);
	srv_start(&s, dir, "10.9.0.1");
	assert_false(store_io_leases_shared(&s.nb));
	assert_true(store_io_lease_held(&s.nb, 0x0a09000b, mac2));
	assert_int_equal(claim_secret(&s, mac1), 1);
	assert_int_equal(claim_lease(&s, mac1, 0x0a09000b, 1), 1);
	assert_int_equal(store_io_lease_put(&s.nb, mac1, 0x0a09000b, "bound",
					    time(NULL) + 600),
			 0);
	assert_int_equal(store_io_servers_json(&s.nb, &servers), -ENOENT);
	assert_int_equal(store_io_dhcp_primary(&s.nb, id, sizeof(id)), -ENOENT);
	assert_int_equal(nodes_mark_mac(store_io_nodes(&s.nb), mac1, "dhcp",
					nodes_now_ms()),
			 0);
	srv_stop(&s);
	srv_start(&s, dir, "10.9.0.1");
	nd = nodes_find(store_io_nodes(&s.nb), mac1);
	assert_non_null(nd);
	assert_int_equal(nd->state, NODE_BOOTING);
	srv_stop(&s);
}

struct pair {
	struct srv *a, *b;
};

/* b sees a's milestone for n1 (the watch). */
static bool
b_sees_booting(void *arg)
{
	struct pair *p = arg;
	struct node *nd = nodes_find(store_io_nodes(&p->b->nb), mac1);

	return nd != NULL && nd->state == NODE_BOOTING;
}

static bool
both_listed(void *arg)
{
	struct pair *p = arg;
	char *text = NULL;
	bool ok;

	if (store_io_servers_json(&p->a->nb, &text) < 0)
		return false;
	ok = strstr(text, "10.9.0.1") != NULL &&
	     strstr(text, "10.9.0.2") != NULL;
	free(text);
	return ok;
}

/* Two servers on one etcd: every guarantee of store_io.h's contract. */
static void
test_etcd(void **state)
{
	struct seen obs = { 0 };
	struct srv a, b;
	struct pair p = { &a, &b };
	char da[96], db[96];
	int64_t later = time(NULL) + 600;

	(void)state;
	if (getenv("MB_TEST_ETCD_ENDPOINT") == NULL)
		skip(); /* no etcd here: interop/store_backends runs it */
	snprintf(da, sizeof(da), "%s/a", tmp);
	snprintf(db, sizeof(db), "%s/b", tmp);
	mkdir(da, 0700);
	mkdir(db, 0700);
	srv_start(&a, da, "10.9.0.1");
	srv_start(&b, db, "10.9.0.2");
	assert_true(store_io_leases_shared(&a.nb));
	store_io_set_lease_observer(&b.nb, on_lease, &obs);

	/* A node's change on a reaches b. */
	assert_int_equal(nodes_mark_mac(store_io_nodes(&a.nb), mac1, "dhcp",
					nodes_now_ms()),
			 0);
	assert_true(run_until(b_sees_booting, &p));
	assert_true(run_until(both_listed, &p));

	/* Served once in the fleet. */
	assert_int_equal(claim_secret(&a, mac1), 0);
	assert_int_equal(claim_secret(&b, mac1), -ESTALE);
	assert_int_equal(claim_secret(&a, mac1), -ESTALE);

	/* One address, one machine; its holder is told to the loser. */
	assert_false(store_io_lease_held(&a.nb, 0x0a090064, mac2));
	assert_int_equal(claim_lease(&a, mac2, 0x0a090064, later), 0);
	assert_true(store_io_lease_held(&a.nb, 0x0a090064, mac2));
	assert_int_equal(claim_lease(&b, mac3, 0x0a090064, later), -EADDRINUSE);
	assert_true(obs.leases >= 1);
	assert_int_equal(obs.lease_ip, 0x0a090064);
	assert_memory_equal(obs.lease_mac, mac2, 6);
	assert_true(store_io_lease_held(&b.nb, 0x0a090064, mac2));
	/* The same machine through the other server: still its own. */
	assert_int_equal(claim_lease(&b, mac2, 0x0a090064, later), 0);
	/* An expired holder gives way. */
	assert_int_equal(claim_lease(&a, mac2, 0x0a090065, 1), 0);
	assert_int_equal(claim_lease(&b, mac3, 0x0a090065, later), 0);
	assert_int_equal(store_io_lease_put(&b.nb, mac3, 0x0a090065, "bound",
					    later + 60),
			 0);
	store_io_set_lease_observer(&b.nb, NULL, NULL);
	srv_stop(&b);
	srv_stop(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_etcd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
