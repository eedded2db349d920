/*
 * test_netboot_http.c - the pure HTTP layer: routing with every traversal
 * spelling we know, percent-decoding, Range on both sides of each
 * boundary, conditional requests, dates, escaping for logs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static int
route(enum http_method m, const char *t, struct http_route *rt)
{
	return http_route(m, t, strlen(t), rt);
}

static void
test_route_files(void **state)
{
	struct http_route rt;

	(void)state;
	assert_int_equal(route(HTTP_GET, "/files/a/b.img", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_FILE);
	assert_string_equal(rt.path, "a/b.img");
	assert_int_equal(route(HTTP_HEAD, "/files/x?y=1#z", &rt), 0);
	assert_string_equal(rt.path, "x");
	assert_int_equal(route(HTTP_GET, "/files/sp%20ace%2bplus+", &rt), 0);
	assert_string_equal(rt.path, "sp ace+plus+");
	/* Double encoding decodes once: a literal "%2e%2e" file name. */
	assert_int_equal(route(HTTP_GET, "/files/%252e%252e/etc", &rt), 0);
	assert_string_equal(rt.path, "%2e%2e/etc");
	assert_int_equal(route(HTTP_GET, "http://10.0.0.1:8080/files/a/b", &rt),
			 0);
	assert_string_equal(rt.path, "a/b");
	/* Runs of '/' count as one (shim's "secureboot//grubx64.efi"),
	 * leading ones too: still under the root, as TFTP maps them. */
	assert_int_equal(route(HTTP_GET, "/files/secureboot//grubx64.efi", &rt),
			 0);
	assert_string_equal(rt.path, "secureboot/grubx64.efi");
	assert_int_equal(route(HTTP_GET, "/files//etc///passwd", &rt), 0);
	assert_string_equal(rt.path, "etc/passwd");
	assert_int_equal(route(HTTP_GET, "/files/%2fetc%2F%2fpasswd", &rt), 0);
	assert_string_equal(rt.path, "etc/passwd");
	assert_int_equal(route(HTTP_GET, "HTTPS://h/metrics", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_METRICS);
	assert_int_equal(route(HTTP_GET, "http://h", &rt), -ENOENT);
	assert_int_equal(route(HTTP_POST, "/files/x", &rt), -EOPNOTSUPP);
	assert_int_equal(route(HTTP_OTHER, "/files/x", &rt), -EOPNOTSUPP);
}

static void
test_route_traversal(void **state)
{
	static const char *const bad[] = {
		"/files/../etc/passwd",
		"/files/a/../../etc/passwd",
		"/files/%2e%2e/etc/passwd",
		"/files/%2E%2E/etc/passwd",
		"/files/.%2e/etc/passwd",
		"/files/a%2f..%2f..%2fetc%2fpasswd",
		"/files/a%2F%2E%2E%2Fb",
		"/files/..\\etc\\passwd",
		"/files/..%5cetc%5cpasswd",
		"/files/a\\b",
		"/files//../etc/passwd",
		"/files/a//..//b",
		"/files/",
		"/files/.",
		"/files/a/./b",
		"/files/a/",
		"/files/a%00b",
		"/files/a%0ab",
		"/files/%",
		"/files/%2",
		"/files/%zz",
		"files/x",
		"",
		"*",
		"http:/files/x",
		"http://host/files/../x",
	};
	struct http_route rt;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = route(HTTP_GET, bad[i], &rt);

		if (r != -EINVAL)
			fail_msg("%s: %d", bad[i], r);
	}
}

static void
test_route_long(void **state)
{
	char t[HTTP_TARGET_MAX + 2];
	struct http_route rt;

	(void)state;
	memset(t, 'a', sizeof(t) - 1);
	t[sizeof(t) - 1] = '\0';
	memcpy(t, "/files/", 7);
	assert_int_equal(route(HTTP_GET, t, &rt), -ENAMETOOLONG);
	t[PATH_REQ_MAX + 7 + 1] = '\0';
	assert_int_equal(route(HTTP_GET, t, &rt), -ENAMETOOLONG);
	t[PATH_REQ_MAX + 7] = '\0';
	assert_int_equal(route(HTTP_GET, t, &rt), 0);
}

static void
test_route_api(void **state)
{
	static const uint8_t mac[MAC_LEN] = { 0x52, 0x54, 0, 0, 1, 0xab };
	struct http_route rt;

	(void)state;
	assert_int_equal(route(HTTP_GET, "/boot/52:54:00:00:01:ab.ipxe", &rt),
			 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_BOOT);
	assert_memory_equal(rt.mac, mac, MAC_LEN);
	assert_int_equal(route(HTTP_GET, "/boot/52-54-00-00-01-AB.ipxe", &rt),
			 0);
	assert_memory_equal(rt.mac, mac, MAC_LEN);
	assert_int_equal(
		route(HTTP_GET, "/boot/52%3A54%3A00%3A00%3A01%3Aab.ipxe", &rt),
		0);
	assert_int_equal(route(HTTP_GET, "/boot/52:54:00:00:01.ipxe", &rt),
			 -ENOENT);
	assert_int_equal(route(HTTP_GET, "/boot/52:54:00:00:01:ab.ipx", &rt),
			 -ENOENT);
	assert_int_equal(route(HTTP_GET, "/boot/52:54:00:00:01:ab", &rt),
			 -ENOENT);
	assert_int_equal(
		route(HTTP_GET, "/v1/nodes/52:54:00:00:01:ab/firstboot", &rt),
		0);
	assert_int_equal(rt.kind, HTTP_ROUTE_NODE_FIRSTBOOT);
	assert_int_equal(
		route(HTTP_GET, "/v1/nodes/52-54-00-00-01-AB/secrets", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_NODE_SECRETS);
	assert_int_equal(rt.mac[5], 0xab);
	assert_int_equal(
		route(HTTP_POST, "/v1/nodes/52:54:00:00:01:ab/secrets", &rt),
		-EOPNOTSUPP);
	assert_int_equal(
		route(HTTP_GET, "/v1/nodes/52:54:00:00:01:ab/secrets/x", &rt),
		-ENOENT);
	assert_int_equal(route(HTTP_GET,
			       "/v1/nodes/52:54:00:00:01:ab/cloud-init/"
			       "network-config",
			       &rt),
			 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_NODE_CLOUDINIT);
	assert_string_equal(rt.path, "network-config");
	assert_int_equal(route(HTTP_GET,
			       "/v1/nodes/52:54:00:00:01:ab/cloud-init/"
			       "vendor-data",
			       &rt),
			 -ENOENT);
	assert_int_equal(route(HTTP_GET,
			       "/v1/nodes/52:54:00:00:01:ab/cloud-init/"
			       "../firstboot",
			       &rt),
			 -ENOENT);
	assert_int_equal(
		route(HTTP_POST, "/v1/nodes/52:54:00:00:01:ab/events", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_NODE_EVENTS);
	assert_int_equal(
		route(HTTP_GET, "/v1/nodes/52:54:00:00:01:ab/events", &rt),
		-EOPNOTSUPP);
	assert_int_equal(
		route(HTTP_POST, "/v1/nodes/52:54:00:00:01:ab/rearm", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_NODE_REARM);
	assert_int_equal(
		route(HTTP_POST, "/v1/nodes/52:54:00:00:01:ab/firstboot", &rt),
		-EOPNOTSUPP);
	assert_int_equal(route(HTTP_GET, "/v1/nodes", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_NODES);
	assert_int_equal(route(HTTP_GET, "/v1/nodes?x", &rt), 0);
	assert_int_equal(route(HTTP_GET, "/metrics", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_METRICS);
	assert_int_equal(route(HTTP_POST, "/metrics", &rt), -EOPNOTSUPP);
	assert_int_equal(route(HTTP_GET, "/v1/nodes/zz/firstboot", &rt),
			 -ENOENT);
	assert_int_equal(route(HTTP_GET, "/metricsx", &rt), -ENOENT);
}

static void
test_route_ui(void **state)
{
	static const char *const page[] = { "/",     "/ui",    "/ui/",
					    "/?x=1", "/ui/?y", "/%75i/" };
	static const char *const absent[] = {
		"/ui/..",	"/ui/.hidden",	"/ui/a/b.js", "/ui/A.js",
		"/ui/%2e%2e",	"/ui//",	"/uix",	      "/v1/event",
		"/v1/events/x", "/v1/clusters",
	};
	struct http_route rt;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(page) / sizeof(page[0]); i++) {
		memset(&rt, 0, sizeof(rt));
		assert_int_equal(route(HTTP_GET, page[i], &rt), 0);
		assert_int_equal(rt.kind, HTTP_ROUTE_UI);
		assert_string_equal(rt.path, "index.html");
	}
	assert_int_equal(route(HTTP_HEAD, "/ui/app.js", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_UI);
	assert_string_equal(rt.path, "app.js");
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		assert_int_equal(route(HTTP_GET, absent[i], &rt), -ENOENT);
	assert_int_equal(route(HTTP_GET, "/v1/events", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_EVENTS);
	assert_int_equal(route(HTTP_GET, "/v1/cluster?t=1", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_CLUSTER);
	assert_int_equal(route(HTTP_GET, "/v1/servers", &rt), 0);
	assert_int_equal(rt.kind, HTTP_ROUTE_SERVERS);
	assert_int_equal(route(HTTP_POST, "/v1/servers", &rt), -EOPNOTSUPP);
	assert_int_equal(route(HTTP_POST, "/", &rt), -EOPNOTSUPP);
	assert_int_equal(route(HTTP_POST, "/v1/events", &rt), -EOPNOTSUPP);
	assert_int_equal(route(HTTP_OTHER, "/ui/app.js", &rt), -EOPNOTSUPP);
}

static void
test_pct_decode(void **state)
{
	char out[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(http_pct_decode("a%41%62", 7, out, sizeof(out), &n),
			 0);
	assert_string_equal(out, "aAb");
	assert_int_equal(n, 3);
	assert_int_equal(http_pct_decode("", 0, out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(http_pct_decode("%4", 2, out, sizeof(out), &n),
			 -EINVAL);
	assert_int_equal(http_pct_decode("%g1", 3, out, sizeof(out), &n),
			 -EINVAL);
	assert_int_equal(http_pct_decode("%00", 3, out, sizeof(out), &n),
			 -EINVAL);
	assert_int_equal(http_pct_decode("a\0b", 3, out, sizeof(out), &n),
			 -EINVAL);
	assert_int_equal(http_pct_decode("1234567", 7, out, sizeof(out), &n),
			 0);
	assert_int_equal(http_pct_decode("12345678", 8, out, sizeof(out), &n),
			 -ENAMETOOLONG);
}

static int
range(const char *h, uint64_t size, struct http_range *rg)
{
	return http_range_parse(h, strlen(h), size, rg);
}

static void
test_range(void **state)
{
	struct http_range rg;

	(void)state;
	assert_int_equal(range("bytes=0-99", 1000, &rg), 0);
	assert_int_equal(rg.first, 0);
	assert_int_equal(rg.last, 99);
	assert_int_equal(range("bytes=10-", 1000, &rg), 0);
	assert_int_equal(rg.first, 10);
	assert_int_equal(rg.last, 999);
	assert_int_equal(range("bytes=-100", 1000, &rg), 0);
	assert_int_equal(rg.first, 900);
	assert_int_equal(rg.last, 999);
	assert_int_equal(range("bytes=-5000", 1000, &rg), 0);
	assert_int_equal(rg.first, 0);
	assert_int_equal(range("bytes=999-999", 1000, &rg), 0);
	assert_int_equal(rg.first, 999);
	assert_int_equal(range("bytes=0-5000", 1000, &rg), 0);
	assert_int_equal(rg.last, 999);
	assert_int_equal(range("Bytes= 5-6 ", 1000, &rg), 0);
	assert_int_equal(rg.first, 5);
	/* Unsatisfiable: 416. */
	assert_int_equal(range("bytes=1000-", 1000, &rg), -ERANGE);
	assert_int_equal(range("bytes=1000-2000", 1000, &rg), -ERANGE);
	assert_int_equal(range("bytes=-0", 1000, &rg), -ERANGE);
	assert_int_equal(range("bytes=0-", 0, &rg), -ERANGE);
	assert_int_equal(range("bytes=-1", 0, &rg), -ERANGE);
	/* Ignored: whole body. */
	assert_int_equal(range("bytes=5-4", 1000, &rg), -ENOENT);
	assert_int_equal(range("bytes=0-1,5-6", 1000, &rg), -ENOENT);
	assert_int_equal(range("bytes=-", 1000, &rg), -ENOENT);
	assert_int_equal(range("bytes=a-b", 1000, &rg), -ENOENT);
	assert_int_equal(range("bytes=+1-2", 1000, &rg), -ENOENT);
	assert_int_equal(range("bytes=1", 1000, &rg), -ENOENT);
	assert_int_equal(range("items=0-1", 1000, &rg), -ENOENT);
	assert_int_equal(range("bytes=", 1000, &rg), -ENOENT);
	assert_int_equal(range("bytes=99999999999999999999-", 1000, &rg),
			 -ENOENT);
	assert_int_equal(range("bytes=18446744073709551615-", 1000, &rg),
			 -ERANGE);
	assert_int_equal(http_range_parse(NULL, 0, 10, &rg), -ENOENT);
}

static void
test_dates(void **state)
{
	char buf[HTTP_DATE_LEN];
	time_t t = 0;

	(void)state;
	http_date_format(784111777, buf);
	assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	assert_int_equal(http_date_parse(buf, &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(http_date_parse("Thu, 29 Feb 2024 23:59:59 GMT", &t),
			 0);
	http_date_format(t, buf);
	assert_string_equal(buf, "Thu, 29 Feb 2024 23:59:59 GMT");
	assert_int_equal(http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t),
			 -EINVAL);
	assert_int_equal(http_date_parse("Sun Nov  6 08:49:37 1994", &t),
			 -EINVAL);
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", &t),
			 -EINVAL);
	assert_int_equal(http_date_parse("Sun, 32 Nov 1994 08:49:37 GMT", &t),
			 -EINVAL);
	assert_int_equal(http_date_parse("Sun, 06 Xyz 1994 08:49:37 GMT", &t),
			 -EINVAL);
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 24:49:37 GMT", &t),
			 -EINVAL);
	assert_int_equal(http_date_parse("Sun, 0x Nov 1994 08:49:37 GMT", &t),
			 -EINVAL);
	assert_int_equal(http_date_parse("", &t), -EINVAL);
}

static void
test_conditional(void **state)
{
	char etag[HTTP_ETAG_LEN];
	const char *ims = "Sun, 06 Nov 1994 08:49:37 GMT";

	(void)state;
	http_etag_format(etag, 1000, 784111777, 5, 42);
	assert_string_equal(etag, "\"3e8-2ebc98a1-5-2a\"");
	assert_true(http_not_modified(etag, NULL, etag, 0));
	assert_true(http_not_modified("\"x\", W/\"3e8-2ebc98a1-5-2a\"", NULL,
				      etag, 0));
	assert_true(http_not_modified("*", NULL, etag, 0));
	assert_false(http_not_modified("\"x\"", NULL, etag, 0));
	assert_false(http_not_modified("garbage", NULL, etag, 0));
	/* If-None-Match wins over If-Modified-Since. */
	assert_false(http_not_modified("\"x\"", ims, etag, 784111777));
	assert_true(http_not_modified(NULL, ims, etag, 784111777));
	assert_true(http_not_modified(NULL, ims, etag, 784111776));
	assert_false(http_not_modified(NULL, ims, etag, 784111778));
	assert_false(http_not_modified(NULL, "yesterday", etag, 0));
	assert_false(http_not_modified(NULL, NULL, etag, 0));
	assert_true(http_if_range_ok(NULL, etag, 0));
	assert_true(http_if_range_ok(etag, etag, 0));
	assert_false(http_if_range_ok("\"x\"", etag, 0));
	assert_false(http_if_range_ok("W/\"3e8-2ebc98a1-5-2a\"", etag, 0));
	assert_true(http_if_range_ok(ims, etag, 784111777));
	assert_false(http_if_range_ok(ims, etag, 784111778));
}

static void
test_status_escape(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(http_status_for_errno(-ENOENT), 404);
	assert_int_equal(http_status_for_errno(-EXDEV), 403);
	assert_int_equal(http_status_for_errno(-ESTALE), 410);
	assert_int_equal(http_status_for_errno(-ERANGE), 416);
	assert_int_equal(http_status_for_errno(-EIO), 500);
	assert_string_equal(http_reason(416), "Range Not Satisfiable");
	http_escape("a\"b\\c\n", 6, out, sizeof(out));
	assert_string_equal(out, "a\\x22b\\x5cc...");
	http_escape("abc\x01", 4, out, sizeof(out));
	assert_string_equal(out, "abc\\x01");
	http_escape("0123456789abcdefgh", 18, out, sizeof(out));
	assert_string_equal(out, "0123456789ab...");
	assert_int_equal(http_method_parse("GET"), HTTP_GET);
	assert_int_equal(http_method_parse("get"), HTTP_OTHER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_files),
		cmocka_unit_test(test_route_traversal),
		cmocka_unit_test(test_route_long),
		cmocka_unit_test(test_route_api),
		cmocka_unit_test(test_route_ui),
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_conditional),
		cmocka_unit_test(test_status_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
