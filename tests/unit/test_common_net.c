/* test_common_net.c - MAC, IPv4, CIDR, range, host name and host:port. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net.h"

static void
test_mac(void **state)
{
	uint8_t mac[MAC_LEN], keep[MAC_LEN] = { 9, 9, 9, 9, 9, 9 };
	char s[MAC_STR_LEN];
	static const char *bad[] = { "",
				     "52:54:00:00:01",
				     "52:54:00:00:01:01:02",
				     "52-54:00:00:01:01",
				     "52:54:00:00:01:0g",
				     "525400000101",
				     "52:54:00:00:01:1",
				     " 52:54:00:00:01:01",
				     "52:54:00:00:01:01 " };
	size_t i;

	(void)state;
	assert_int_equal(mac_parse("52:54:00:AB:cd:0F", mac), 0);
	mac_format(mac, s);
	assert_string_equal(s, "52:54:00:ab:cd:0f");
	assert_int_equal(mac_parse("52-54-00-ab-cd-0f", mac), 0);
	mac_format(mac, s);
	assert_string_equal(s, "52:54:00:ab:cd:0f");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(mac, keep, MAC_LEN);
		assert_int_equal(mac_parse(bad[i], mac), -EINVAL);
		assert_memory_equal(mac, keep, MAC_LEN);
	}
}

static void
test_ipv4(void **state)
{
	static const char *bad[] = { "",	  "1.2.3",     "1.2.3.4.5",
				     "256.1.1.1", "1.2.3.04",  "01.2.3.4",
				     "1..2.3",	  "1.2.3.4 ",  "a.b.c.d",
				     "1.2.3.-4",  "1.2.3.1000" };
	char s[IPV4_STR_LEN];
	uint32_t ip = 0;
	size_t i;

	(void)state;
	assert_int_equal(ipv4_parse("192.168.100.1", &ip), 0);
	assert_int_equal(ip, 0xc0a86401);
	ipv4_format(ip, s);
	assert_string_equal(s, "192.168.100.1");
	assert_int_equal(ipv4_parse("0.0.0.0", &ip), 0);
	assert_int_equal(ipv4_parse("255.255.255.255", &ip), 0);
	assert_int_equal(ip, 0xffffffff);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(ipv4_parse(bad[i], &ip) < 0);
}

static void
test_cidr(void **state)
{
	struct cidr a, b;

	(void)state;
	assert_int_equal(cidr_parse("10.244.0.0/16", true, &a), 0);
	assert_int_equal(a.prefix, 16);
	assert_true(cidr_contains(&a, 0x0af4ffff));
	assert_false(cidr_contains(&a, 0x0af50000));
	assert_int_equal(cidr_last(&a), 0x0af4ffff);
	/* Host bits set: strict refuses, lax clears. */
	assert_int_equal(cidr_parse("10.244.1.0/16", true, &b), -EINVAL);
	assert_int_equal(cidr_parse("10.244.1.0/16", false, &b), 0);
	assert_int_equal(b.addr, 0x0af40000);
	assert_true(cidr_parse("10.0.0.0/33", true, &b) < 0);
	assert_true(cidr_parse("10.0.0.0/", true, &b) < 0);
	assert_true(cidr_parse("10.0.0.0", true, &b) < 0);
	assert_true(cidr_parse("10.0.0.0/08", true, &b) < 0);
	assert_int_equal(cidr_parse("0.0.0.0/0", true, &b), 0);
	assert_true(cidr_contains(&b, 0xdeadbeef));
	/* Overlap on both sides of the boundary. */
	assert_int_equal(cidr_parse("10.96.0.0/12", true, &a), 0);
	assert_int_equal(cidr_parse("10.112.0.0/12", true, &b), 0);
	assert_false(cidr_overlaps(&a, &b));
	assert_int_equal(cidr_parse("10.111.0.0/16", true, &b), 0);
	assert_true(cidr_overlaps(&a, &b));
	assert_true(cidr_overlaps(&b, &a));
	assert_int_equal(cidr_parse("10.0.0.0/8", true, &b), 0);
	assert_true(cidr_overlaps(&a, &b));
}

static void
test_range(void **state)
{
	struct ip_range r;

	(void)state;
	assert_int_equal(range_parse("192.168.100.100-192.168.100.199", &r), 0);
	assert_int_equal(r.last - r.first, 99);
	assert_int_equal(range_parse("10.0.0.5-10.0.0.5", &r), 0);
	assert_int_equal(range_parse("10.0.0.6-10.0.0.5", &r), -ERANGE);
	assert_true(range_parse("10.0.0.5", &r) < 0);
	assert_true(range_parse("-10.0.0.5", &r) < 0);
	assert_true(range_parse("10.0.0.5-", &r) < 0);
}

static void
test_names(void **state)
{
	char big[300];

	(void)state;
	assert_true(dns_label_valid("cp1"));
	assert_true(dns_label_valid("a"));
	assert_true(dns_label_valid("w-1"));
	assert_false(dns_label_valid(""));
	assert_false(dns_label_valid("-w1"));
	assert_false(dns_label_valid("w1-"));
	assert_false(dns_label_valid("W1"));
	assert_false(dns_label_valid("w_1"));
	assert_false(dns_label_valid("w.1"));
	memset(big, 'a', 63);
	big[63] = '\0';
	assert_true(dns_label_valid(big));
	big[63] = 'a';
	big[64] = '\0';
	assert_false(dns_label_valid(big));
	assert_true(hostname_valid("k8s-api.Lab.example"));
	assert_false(hostname_valid("k8s..example"));
	assert_false(hostname_valid(".example"));
	assert_false(hostname_valid("example."));
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_false(hostname_valid(big));
}

static void
test_hostport(void **state)
{
	char host[64];
	uint16_t port = 0;

	(void)state;
	assert_int_equal(hostport_parse("192.168.100.10:6443", host,
					sizeof(host), &port),
			 0);
	assert_string_equal(host, "192.168.100.10");
	assert_int_equal(port, 6443);
	assert_int_equal(hostport_parse("k8s-api.example:443", host,
					sizeof(host), &port),
			 0);
	assert_string_equal(host, "k8s-api.example");
	assert_true(hostport_parse("192.168.100.10", host, sizeof(host),
				   &port) < 0);
	assert_true(hostport_parse(":6443", host, sizeof(host), &port) < 0);
	assert_true(hostport_parse("h:0", host, sizeof(host), &port) < 0);
	assert_true(hostport_parse("h:65536", host, sizeof(host), &port) < 0);
	assert_true(hostport_parse("h:06443", host, sizeof(host), &port) < 0);
	assert_true(hostport_parse("999.1.1.1:80", host, sizeof(host), &port) <
		    0);
	assert_true(hostport_parse("bad_host:80", host, sizeof(host), &port) <
		    0);
	assert_int_equal(
		hostport_parse("averyveryverylonghostname:1", host, 8, &port),
		-ENAMETOOLONG);
}

static void
test_cri_endpoint(void **state)
{
	char longp[NET_CRI_ENDPOINT_MAX + 2];

	(void)state;
	assert_true(cri_endpoint_valid("unix:///run/containerd/containerd.sock",
				       38));
	assert_true(cri_endpoint_valid("unix:///x", 9));
	/* Only len bytes count. */
	assert_true(
		cri_endpoint_valid("unix:///var/run/cri-dockerd.sockXYZ", 32));
	assert_false(cri_endpoint_valid("unix:///", 8));
	assert_false(cri_endpoint_valid("unix://run/x", 12));
	assert_false(cri_endpoint_valid("tcp://1.2.3.4:1", 15));
	assert_false(cri_endpoint_valid("unix:///a b", 11));
	assert_false(cri_endpoint_valid("unix:///a\"b", 11));
	assert_false(cri_endpoint_valid("unix:///a'b", 11));
	assert_false(cri_endpoint_valid("unix:///a`b", 11));
	assert_false(cri_endpoint_valid("unix:///a\\b", 11));
	assert_false(cri_endpoint_valid("unix:///a\nb", 11));
	assert_false(cri_endpoint_valid("unix:///a\x80", 10));
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "unix:///", 8);
	assert_true(cri_endpoint_valid(longp, NET_CRI_ENDPOINT_MAX));
	assert_false(cri_endpoint_valid(longp, NET_CRI_ENDPOINT_MAX + 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cri_endpoint),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hostport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
