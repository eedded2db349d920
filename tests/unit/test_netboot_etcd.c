/*
 * test_netboot_etcd.c - the etcd v3 gateway's messages: base64 both ways
 * (canonical only), the key layout, the requests' JSON, and responses as
 * etcd 3.4's gateway writes them (int64 as strings, zero values left
 * out), with the malformed ones refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etcd.h"

static const uint8_t mac1[MAC_LEN] = { 0x52, 0x54, 0, 0, 0x01, 0xab };

static void
test_b64(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = { { "", "" },
		  { "f", "Zg==" },
		  { "fo", "Zm8=" },
		  { "foo", "Zm9v" },
		  { "foob", "Zm9vYg==" },
		  { "fooba", "Zm9vYmE=" },
		  { "foobar", "Zm9vYmFy" } };
	static const char *const bad[] = {
		"Zg=", "Zh==", "Zm9=", "Z===", "Zg==Zg==", "Zm9v!A==", "===="
	};
	size_t i, len;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = etcd_b64_encode(v[i].in, strlen(v[i].in));
		assert_string_equal(s, v[i].out);
		free(s);
		assert_int_equal(etcd_b64_decode(v[i].out, strlen(v[i].out), 64,
						 &s, &len),
				 0);
		assert_int_equal(len, strlen(v[i].in));
		assert_memory_equal(s, v[i].in, len);
		assert_int_equal(s[len], '\0');
		free(s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
			etcd_b64_decode(bad[i], strlen(bad[i]), 64, &s, &len),
			-EBADMSG);
	assert_int_equal(etcd_b64_decode("Zm9vYmFy", 8, 5, &s, &len), -E2BIG);
}

static void
test_keys(void **state)
{
	char k[ETCD_KEY_MAX], big[ETCD_KEY_MAX];
	uint8_t mac[MAC_LEN];

	(void)state;
	assert_int_equal(etcd_key_node("/mb", mac1, k, sizeof(k)), 0);
	assert_string_equal(k, "/mb/v1/nodes/52:54:00:00:01:ab");
	assert_int_equal(etcd_key_node_mac("/mb", k, strlen(k), mac), 0);
	assert_memory_equal(mac, mac1, MAC_LEN);
	assert_int_equal(etcd_key_node_mac("/mc", k, strlen(k), mac), -EINVAL);
	assert_int_equal(etcd_key_node_mac("/mb", k, strlen(k) - 1, mac),
			 -EINVAL);
	assert_int_equal(etcd_key_node_mac("/mb",
					   "/mb/v1/nodes/zz:54:00:00:01:ab", 30,
					   mac),
			 -EINVAL);
	assert_int_equal(
		etcd_key_served("/mb", mac1, 0, "secrets", k, sizeof(k)), 0);
	assert_string_equal(k, "/mb/v1/served/52:54:00:00:01:ab/0/secrets");
	assert_int_equal(etcd_key_served("/mb", mac1, 1764750000123,
					 "firstboot", k, sizeof(k)),
			 0);
	assert_string_equal(
		k, "/mb/v1/served/52:54:00:00:01:ab/1764750000123/firstboot");
	assert_int_equal(etcd_key_server("/mb", "nb-a", k, sizeof(k)), 0);
	assert_string_equal(k, "/mb/v1/servers/nb-a");
	assert_int_equal(etcd_key_dir("/mb", "nodes", k, sizeof(k)), 0);
	assert_string_equal(k, "/mb/v1/nodes/");
	assert_int_equal(etcd_key_node("/mb", mac1, k, 20), -ENAMETOOLONG);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(etcd_key_node(big, mac1, k, sizeof(k)), -ENAMETOOLONG);
}

static void
test_requests(void **state)
{
	char *s;

	(void)state;
	s = etcd_req_range_prefix("/mb/v1/nodes/");
	/* "/mb/v1/nodes/" and "/mb/v1/nodes0" */
	assert_string_equal(s, "{\"key\":\"L21iL3YxL25vZGVzLw==\","
			       "\"range_end\":\"L21iL3YxL25vZGVzMA==\"}");
	free(s);
	s = etcd_req_cas("/k", "v", 1, 0);
	assert_string_equal(
		s, "{\"compare\":[{\"key\":\"L2s=\",\"target\":\"CREATE\","
		   "\"result\":\"EQUAL\",\"create_revision\":\"0\"}],"
		   "\"success\":[{\"request_put\":{\"key\":\"L2s=\","
		   "\"value\":\"dg==\"}}],\"failure\":[{\"request_range\":"
		   "{\"key\":\"L2s=\"}}]}");
	free(s);
	s = etcd_req_cas("/k", "v", 1, 42);
	assert_non_null(strstr(s, "\"target\":\"MOD\",\"result\":\"EQUAL\","
				  "\"mod_revision\":\"42\""));
	free(s);
	s = etcd_req_put("/k", "", 0, 7587);
	assert_string_equal(
		s, "{\"key\":\"L2s=\",\"value\":\"\",\"lease\":\"7587\"}");
	free(s);
	s = etcd_req_lease_grant(10);
	assert_string_equal(s, "{\"TTL\":\"10\"}");
	free(s);
	s = etcd_req_keepalive(-5);
	assert_string_equal(s, "{\"ID\":\"-5\"}");
	free(s);
	s = etcd_req_watch("/k/", 9);
	assert_string_equal(
		s, "{\"create_request\":{\"key\":\"L2sv\","
		   "\"range_end\":\"L2sw\",\"start_revision\":\"9\"}}");
	free(s);
	s = etcd_req_delete_prefix("/k/");
	assert_string_equal(s, "{\"key\":\"L2sv\",\"range_end\":\"L2sw\"}");
	free(s);
}

static int
parse_range(const char *s, struct etcd_kvs *kvs)
{
	return etcd_parse_range(s, strlen(s), kvs);
}

/* Responses as etcd 3.4.23's gateway wrote them. */
static void
test_range(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"header\":{\"revision\":12}", /* truncated */
		"{\"header\":{\"revision\":\"1x\"}}",
		"{\"header\":{\"revision\":\"99999999999999999999\"}}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":{}}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"L2s\"}]}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"value\":\"dg==\"}"
		"]}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"AA==\"}]"
		"}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"L2s=\","
		"\"mod_revision\":\"-1\"}]}",
		"{\"header\":{\"revision\":\"3\"},\"more\":1}",
		"{\"error\":\"etcdserver: mvcc: required revision has been "
		"compacted\",\"code\":11}",
	};
	struct etcd_kvs kvs;
	size_t i;

	(void)state;
	assert_int_equal(
		parse_range(
			"{\"header\":{\"cluster_id\":\"14841639068965178418\""
			",\"member_id\":\"10276657743932975437\",\"revision\":"
			"\"7\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L2s=\","
			"\"create_revision\":\"5\",\"mod_revision\":\"7\","
			"\"version\":\"3\",\"value\":\"dg==\"},{\"key\":"
			"\"L2w=\",\"create_revision\":\"6\",\"mod_revision\":"
			"\"6\",\"version\":\"1\",\"lease\":\"7587\"}],"
			"\"count\":\"2\"}",
			&kvs),
		0);
	assert_int_equal(kvs.revision, 7);
	assert_int_equal(kvs.n, 2);
	assert_false(kvs.more);
	assert_string_equal(kvs.v[0].key, "/k");
	assert_string_equal(kvs.v[0].value, "v");
	assert_int_equal(kvs.v[0].create_revision, 5);
	assert_int_equal(kvs.v[0].mod_revision, 7);
	assert_int_equal(kvs.v[0].version, 3);
	assert_int_equal(kvs.v[1].value_len, 0);
	assert_int_equal(kvs.v[1].lease, 7587);
	etcd_kvs_done(&kvs);
	assert_int_equal(parse_range("{\"header\":{\"revision\":\"1\"}}", &kvs),
			 0);
	assert_int_equal(kvs.n, 0);
	etcd_kvs_done(&kvs);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_range(bad[i], &kvs) != -EBADMSG)
			fail_msg("case %zu accepted", i);
}

static void
test_txn(void **state)
{
	static const char ok[] =
		"{\"header\":{\"revision\":\"9\"},\"succeeded\":true,"
		"\"responses\":[{\"response_put\":{\"header\":{\"revision\":"
		"\"9\"}}}]}";
	static const char lost[] =
		"{\"header\":{\"revision\":\"9\"},\"responses\":[{"
		"\"response_range\":{\"header\":{\"revision\":\"9\"},\"kvs\":[{"
		"\"key\":\"L2s=\",\"create_revision\":\"4\",\"mod_revision\":"
		"\"8\",\"version\":\"2\",\"value\":\"dg==\"}],\"count\":\"1\"}}"
		"]}";
	static const char gone[] =
		"{\"header\":{\"revision\":\"9\"},\"responses\":[{"
		"\"response_range\":{\"header\":{\"revision\":\"9\"}}}]}";
	static const char hdr[] = "{\"header\":{\"revision\":\"4\"}}";
	bool won = false;
	int64_t rev = 0;

	(void)state;
	assert_int_equal(etcd_parse_txn(ok, strlen(ok), &won, &rev), 0);
	assert_true(won);
	assert_int_equal(rev, 9);
	assert_int_equal(etcd_parse_txn(lost, strlen(lost), &won, &rev), 0);
	assert_false(won);
	assert_int_equal(rev, 8);
	assert_int_equal(etcd_parse_txn(gone, strlen(gone), &won, &rev), 0);
	assert_false(won);
	assert_int_equal(rev, 0);
	assert_int_equal(etcd_parse_txn(hdr, strlen(hdr), &won, &rev),
			 -EBADMSG);
	assert_int_equal(etcd_parse_header(hdr, strlen(hdr), &rev), 0);
	assert_int_equal(rev, 4);
}

static size_t
count(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* Several compare-and-swaps in one txn, and what a failed one learns. */
static void
test_batch(void **state)
{
	static const char ok[] =
		"{\"header\":{\"revision\":\"12\"},\"succeeded\":true,"
		"\"responses\":[{},{}]}";
	static const char lost[] =
		"{\"header\":{\"revision\":\"12\"},\"responses\":["
		"{\"response_range\":{\"kvs\":[{\"key\":\"L2E=\","
		"\"mod_revision\":\"11\",\"value\":\"dg==\"}]}},"
		"{\"response_range\":{}}]}";
	static const char short_[] =
		"{\"header\":{\"revision\":\"12\"},\"responses\":["
		"{\"response_range\":{}}]}";
	const struct etcd_write w[2] = {
		{ "/a", "v", 1, 7 },
		{ "/b", "w", 1, 0 },
	};
	int64_t revs[2] = { -1, -1 };
	char *req;
	bool won = false;

	(void)state;
	req = etcd_req_cas_batch(w, 2);
	assert_non_null(req);
	/* /a compares its mod_revision, /b must not exist; both put. */
	assert_non_null(strstr(req, "\"mod_revision\":\"7\""));
	assert_non_null(strstr(req, "\"create_revision\":\"0\""));
	assert_non_null(strstr(req, "\"key\":\"L2E=\""));
	assert_non_null(strstr(req, "\"key\":\"L2I=\""));
	assert_int_equal(count(req, "request_put"), 2);
	assert_int_equal(count(req, "request_range"), 2);
	free(req);
	assert_null(etcd_req_cas_batch(w, 0));
	assert_int_equal(etcd_parse_txn_batch(ok, strlen(ok), 2, &won, revs),
			 0);
	assert_true(won);
	assert_int_equal(revs[0], 12);
	assert_int_equal(revs[1], 12);
	assert_int_equal(
		etcd_parse_txn_batch(lost, strlen(lost), 2, &won, revs), 0);
	assert_false(won);
	assert_int_equal(revs[0], 11);
	assert_int_equal(revs[1], 0);
	assert_int_equal(
		etcd_parse_txn_batch(short_, strlen(short_), 2, &won, revs),
		-EBADMSG);
}

/* The holder a lost CAS returns, and a DHCP lease record's value. */
static void
test_lease_records(void **state)
{
	static const char lost_fmt[] =
		"{\"header\":{\"revision\":\"9\"},\"responses\":[{"
		"\"response_range\":{\"kvs\":[{\"key\":\"%s\","
		"\"mod_revision\":\"8\",\"value\":\"%s\"}]}}]}";
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 2, 1 };
	static const uint8_t other[6] = { 0x52, 0x54, 0, 0, 2, 2 };
	struct etcd_lease l = { .expires = 1000 }, back;
	char key[ETCD_KEY_MAX], *value, *kb, *vb, text[1024];
	struct etcd_kv kv;
	uint32_t ip = 0;
	int64_t rev = 0;
	bool won = true;

	(void)state;
	assert_int_equal(etcd_key_lease("/mb", 0x0a000215, key, sizeof(key)),
			 0);
	assert_string_equal(key, "/mb/v1/leases/10.0.2.21");
	assert_int_equal(etcd_key_lease_ip("/mb", key, strlen(key), &ip), 0);
	assert_int_equal(ip, 0x0a000215);
	assert_int_equal(
		etcd_key_lease_ip("/mb", "/mb/v1/leases/10.0.2", 20, &ip),
		-EINVAL);
	assert_int_equal(etcd_key_lease_ip("/mb", "/mb/v1/nodes/x", 14, &ip),
			 -EINVAL);
	assert_int_equal(etcd_key_root("/mb", key, sizeof(key)), 0);
	assert_string_equal(key, "/mb/v1/");

	memcpy(l.mac, mac, 6);
	snprintf(l.state, sizeof(l.state), "offered");
	snprintf(l.server, sizeof(l.server), "nb-a");
	value = etcd_lease_format(&l);
	assert_non_null(value);
	assert_int_equal(etcd_lease_parse(value, strlen(value), &back), 0);
	assert_memory_equal(&l, &back, sizeof(l));
	/* Claimable by its own machine, or by anyone once expired. */
	assert_true(etcd_lease_claimable(&back, mac, 2000));
	assert_false(etcd_lease_claimable(&back, other, 999));
	assert_true(etcd_lease_claimable(&back, other, 1000));

	kb = etcd_b64_encode("/mb/v1/leases/10.0.2.21", 23);
	vb = etcd_b64_encode(value, strlen(value));
	snprintf(text, sizeof(text), lost_fmt, kb, vb);
	assert_int_equal(etcd_parse_txn_kv(text, strlen(text), &won, &rev, &kv),
			 0);
	assert_false(won);
	assert_int_equal(rev, 8);
	assert_string_equal(kv.value, value);
	etcd_kv_done(&kv);
	free(kb);
	free(vb);
	free(value);

	assert_int_equal(etcd_lease_parse("{\"mac\":\"52:54:00:00:02:01\","
					  "\"state\":\"bound\"}",
					  50, &back),
			 -EBADMSG); /* no expires */
	value = "{\"mac\":\"zz\",\"state\":\"bound\",\"expires\":1}";
	assert_int_equal(etcd_lease_parse(value, strlen(value), &back),
			 -EBADMSG);
	value = "{\"mac\":\"52:54:00:00:02:01\",\"state\":\"a b\","
		"\"expires\":1}";
	assert_int_equal(etcd_lease_parse(value, strlen(value), &back),
			 -EBADMSG);
	value = "{\"mac\":\"52:54:00:00:02:01\",\"state\":\"bound\","
		"\"expires\":-1}";
	assert_int_equal(etcd_lease_parse(value, strlen(value), &back),
			 -EBADMSG);
}

static void
test_lease_watch_error(void **state)
{
	static const char grant[] = "{\"header\":{\"revision\":\"3\"},\"ID\":"
				    "\"7587870000000000\",\"TTL\":\"10\"}";
	static const char ka[] = "{\"result\":{\"header\":{\"revision\":\"3\"},"
				 "\"ID\":\"7587870000000000\",\"TTL\":\"10\"}}";
	static const char expired[] = "{\"result\":{\"header\":{\"revision\":"
				      "\"3\"},\"ID\":\"7587870000000000\"}}";
	static const char watch[] =
		"{\"result\":{\"header\":{\"revision\":\"12\"},\"events\":[{"
		"\"kv\":{\"key\":\"L2s=\",\"create_revision\":\"4\","
		"\"mod_revision\":\"12\",\"version\":\"2\",\"value\":\"dg==\"}}"
		","
		"{\"type\":\"DELETE\",\"kv\":{\"key\":\"L2w=\",\"mod_"
		"revision\":"
		"\"12\"}}]}}";
	static const char created[] = "{\"result\":{\"header\":{\"revision\":"
				      "\"11\"},\"created\":true}}";
	static const char badtype[] =
		"{\"result\":{\"header\":{\"revision\":\"1\"},\"events\":[{"
		"\"type\":\"X\",\"kv\":{\"key\":\"L2s=\"}}]}}";
	static const char err[] = "{\"error\":\"bad\\nthing\",\"code\":3}";
	struct etcd_kvs kvs;
	int64_t id = 0, ttl = 0;
	char msg[32];

	(void)state;
	assert_int_equal(etcd_parse_lease(grant, strlen(grant), &id, &ttl), 0);
	assert_int_equal(id, 7587870000000000);
	assert_int_equal(ttl, 10);
	assert_int_equal(etcd_parse_lease(ka, strlen(ka), &id, &ttl), 0);
	assert_int_equal(ttl, 10);
	assert_int_equal(etcd_parse_lease(expired, strlen(expired), &id, &ttl),
			 0);
	assert_int_equal(ttl, 0); /* gone: TTL left out */
	assert_int_equal(etcd_parse_watch(watch, strlen(watch), &kvs), 0);
	assert_int_equal(kvs.n, 2);
	assert_int_equal(kvs.revision, 12);
	assert_false(kvs.deleted[0]);
	assert_true(kvs.deleted[1]);
	assert_string_equal(kvs.v[1].key, "/l");
	etcd_kvs_done(&kvs);
	assert_int_equal(etcd_parse_watch(created, strlen(created), &kvs), 0);
	assert_true(kvs.created);
	assert_int_equal(kvs.n, 0);
	etcd_kvs_done(&kvs);
	assert_int_equal(etcd_parse_watch(badtype, strlen(badtype), &kvs),
			 -EBADMSG);
	assert_int_equal(etcd_parse_error(err, strlen(err), msg, sizeof(msg)),
			 0);
	assert_string_equal(msg, "bad?thing");
	assert_int_equal(etcd_parse_error(grant, strlen(grant), msg, 8),
			 -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_lease_records),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_lease_watch_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
