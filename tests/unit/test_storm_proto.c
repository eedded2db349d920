/*
 * test_storm_proto.c - the boot-storm generator's packets: what it sends
 * decodes with netboot's DHCP codec as a PXE ROM's and iPXE's requests do,
 * and its readers take servers' replies and refuse malformed ones naming
 * the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dhcp.h"
#include "proto.h"

#include <errno.h>
#include <string.h>

static const struct storm_pxe bios = {
	.mac = { 0x52, 0x54, 0, 0, 0, 0x0a },
	.arch = 0,
	.uuid = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
};

static void
test_discover_is_pxe(void **state)
{
	struct storm_pxe m = bios;
	uint8_t pkt[DHCP_MSG_MAX];
	struct dhcp_msg d;
	bool known;
	int n;

	(void)state;
	m.arch = 7;
	n = storm_dhcp_build(&m, DHCP_DISCOVER, 0x53000001, 0, 0, pkt,
			     sizeof(pkt));
	assert_true(n >= DHCP_REPLY_MIN);
	assert_int_equal(dhcp_decode(pkt, (size_t)n, &d), 0);
	assert_int_equal(d.type, DHCP_DISCOVER);
	assert_int_equal(d.xid, 0x53000001);
	assert_int_equal(d.flags, DHCP_FLAG_BCAST);
	assert_memory_equal(d.chaddr, m.mac, 6);
	assert_true(dhcp_vendor_class_is(&d, "PXEClient"));
	assert_int_equal(dhcp_client_arch(&d, &known), 7);
	assert_true(known);
	assert_int_equal(d.uuid.len, 17);
	assert_memory_equal(d.uuid.data + 1, m.uuid, 16);
	assert_false(dhcp_is_ipxe(&d));
	assert_false(d.has_requested_ip);
}

static void
test_ipxe_request(void **state)
{
	struct storm_pxe m = bios;
	uint8_t pkt[DHCP_MSG_MAX];
	struct dhcp_msg d;
	int n;

	(void)state;
	m.ipxe = true;
	n = storm_dhcp_build(&m, DHCP_REQUEST, 7, 0x0a140114, 0x0a140001, pkt,
			     sizeof(pkt));
	assert_true(n > 0);
	assert_int_equal(dhcp_decode(pkt, (size_t)n, &d), 0);
	assert_int_equal(d.type, DHCP_REQUEST);
	assert_true(dhcp_is_ipxe(&d));
	assert_int_equal(d.user_class.len, 4);
	assert_true(d.ipxe.len > 0);
	assert_true(d.has_requested_ip && d.requested_ip == 0x0a140114);
	assert_true(d.has_server_id && d.server_id == 0x0a140001);
	assert_int_equal(
		storm_dhcp_build(&m, DHCP_ACK, 7, 0, 0, pkt, sizeof(pkt)),
		-EINVAL);
}

/* An OFFER as a server encodes it. */
static int
offer(uint8_t *pkt, size_t cap, uint8_t op, bool server_id)
{
	struct dhcp_msg r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.htype = DHCP_HTYPE_ETHER;
	r.hlen = 6;
	r.xid = 0x53100002;
	memcpy(r.chaddr, bios.mac, 6);
	r.type = DHCP_OFFER;
	r.yiaddr = 0x0a14011e;
	r.siaddr = 0x0a140001;
	r.has_server_id = server_id;
	r.server_id = 0x0a140001;
	r.has_netmask = true;
	r.netmask = 0xffff0000;
	memcpy(r.bootfile, "http://10.20.0.1/boot/${mac}.ipxe", 34);
	return dhcp_encode(&r, pkt, cap);
}

static void
test_reply(void **state)
{
	uint8_t pkt[DHCP_MSG_MAX];
	struct storm_dhcp_reply r;
	const char *why = NULL;
	char f[STORM_URL_MAX];
	int n;

	(void)state;
	n = offer(pkt, sizeof(pkt), DHCP_OP_REPLY, true);
	assert_true(n > 0);
	assert_int_equal(storm_dhcp_parse(pkt, (size_t)n, &r, &why), 0);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_int_equal(r.xid, 0x53100002);
	assert_int_equal(r.yiaddr, 0x0a14011e);
	assert_int_equal(r.netmask, 0xffff0000);
	assert_int_equal(r.next_server, 0x0a140001);
	assert_int_equal(storm_expand_mac(r.bootfile, bios.mac, f, sizeof(f)),
			 0);
	assert_string_equal(f, "http://10.20.0.1/boot/52:54:00:00:00:0a.ipxe");
	assert_int_equal(storm_expand_mac(r.bootfile, bios.mac, f, 20),
			 -ENAMETOOLONG);
	/* Truncated, a request, no server id. */
	assert_int_equal(storm_dhcp_parse(pkt, 200, &r, &why), -EBADMSG);
	assert_string_equal(why, "malformed DHCP message");
	n = offer(pkt, sizeof(pkt), DHCP_OP_REQUEST, true);
	assert_int_equal(storm_dhcp_parse(pkt, (size_t)n, &r, &why), -EPROTO);
	assert_string_equal(why, "op is not BOOTREPLY");
	n = offer(pkt, sizeof(pkt), DHCP_OP_REPLY, false);
	assert_int_equal(storm_dhcp_parse(pkt, (size_t)n, &r, &why), -EPROTO);
	assert_string_equal(why, "no server identifier (54)");
}

static void
test_url(void **state)
{
	struct storm_url u;
	const char *why = NULL;

	(void)state;
	assert_int_equal(
		storm_url_parse("http://10.20.0.1:8080/boot/x.ipxe", &u, &why),
		0);
	assert_int_equal(u.ip, 0x0a140001);
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "/boot/x.ipxe");
	assert_int_equal(storm_url_parse("http://10.20.0.1/f", &u, &why), 0);
	assert_int_equal(u.port, 80);
	assert_int_equal(storm_url_parse("https://10.20.0.1/f", &u, &why),
			 -EINVAL);
	assert_int_equal(storm_url_parse("http://10.20.0.1", &u, &why),
			 -EINVAL);
	assert_string_equal(why, "URL has no path");
	assert_int_equal(storm_url_parse("http://boot.lan/f", &u, &why),
			 -EINVAL);
	assert_int_equal(storm_url_parse("http://1.2.3.4:0/f", &u, &why),
			 -EINVAL);
	assert_string_equal(why, "URL port");
}

static void
test_tftp_window(void **state)
{
	struct storm_tftp t;
	uint8_t rrq[STORM_TFTP_REQ_MAX], ack[4], data[4 + 16] = { 0, 3 };
	static const uint8_t want[] = "\0\1f\0octet\0blksize\0"
				      "16\0tsize\0"
				      "0\0windowsize\0"
				      "2";
	static const uint8_t oack[] = "\0\6blksize\0"
				      "16\0windowsize\0"
				      "2\0tsize\0"
				      "40";
	const char *why = NULL;
	int n = storm_tftp_rrq(&t, "f", 16, 2, rrq, sizeof(rrq));

	(void)state;
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(rrq, want, sizeof(want));
	assert_int_equal(
		storm_tftp_input(&t, oack, sizeof(oack), ack, NULL, 0, &why),
		STORM_TFTP_ACK);
	assert_memory_equal(ack, "\0\4\0\0", 4);
	assert_int_equal(t.blksize, 16);
	assert_int_equal(t.tsize, 40);
	data[3] = 1;
	assert_int_equal(storm_tftp_input(&t, data, 20, ack, NULL, 0, &why),
			 STORM_TFTP_WAIT);
	/* The OACK again (an answer to our RRQ sent again): ignored. */
	assert_int_equal(
		storm_tftp_input(&t, oack, sizeof(oack), ack, NULL, 0, &why),
		STORM_TFTP_WAIT);
	data[3] = 3; /* block 2 lost: ACK 1 asks from there (RFC 7440) */
	assert_int_equal(storm_tftp_input(&t, data, 20, ack, NULL, 0, &why),
			 STORM_TFTP_ACK);
	assert_memory_equal(ack, "\0\4\0\1", 4);
	data[3] = 2;
	assert_int_equal(storm_tftp_input(&t, data, 20, ack, NULL, 0, &why),
			 STORM_TFTP_ACK);
	assert_memory_equal(ack, "\0\4\0\2", 4);
	data[3] = 3;
	assert_int_equal(storm_tftp_input(&t, data, 12, ack, NULL, 0, &why),
			 STORM_TFTP_DONE);
	assert_memory_equal(ack, "\0\4\0\3", 4);
	assert_int_equal(t.bytes, 40);
}

static void
test_tftp_refused(void **state)
{
	struct storm_tftp t;
	uint8_t rrq[STORM_TFTP_REQ_MAX], ack[4], big[4 + 600] = { 0, 3, 0, 1 };
	static const uint8_t err[] = "\0\5\0\1File not found";
	static const uint8_t oack_big[] = "\0\6blksize\0"
					  "9000";
	static const uint8_t oack_odd[] = "\0\6multicast\0"
					  "1";
	static const uint8_t oack_1000[] = "\0\6blksize\0"
					   "1000";
	static const uint8_t oack_1400[] = "\0\6blksize\0"
					   "1400";
	char msg[64];
	const char *why = NULL;

	(void)state;
	storm_tftp_rrq(&t, "f", 1468, 1, rrq, sizeof(rrq));
	assert_int_equal(storm_tftp_input(&t, err, sizeof(err), ack, msg,
					  sizeof(msg), &why),
			 -EIO);
	assert_string_equal(msg, "File not found");
	storm_tftp_rrq(&t, "f", 1468, 1, rrq, sizeof(rrq));
	assert_int_equal(storm_tftp_input(&t, oack_big, sizeof(oack_big), ack,
					  NULL, 0, &why),
			 -EPROTO);
	assert_string_equal(why, "OACK blksize out of range");
	/* A second OACK that changes the block size mid-transfer. */
	storm_tftp_rrq(&t, "f", 1468, 1, rrq, sizeof(rrq));
	assert_int_equal(storm_tftp_input(&t, oack_1000, sizeof(oack_1000), ack,
					  NULL, 0, &why),
			 STORM_TFTP_ACK);
	/* Its value without the NUL: malformed. */
	assert_int_equal(storm_tftp_input(&t, oack_1000, sizeof(oack_1000) - 1,
					  ack, NULL, 0, &why),
			 -EBADMSG);
	assert_int_equal(storm_tftp_input(&t, oack_1400, sizeof(oack_1400), ack,
					  NULL, 0, &why),
			 -EPROTO);
	assert_string_equal(
		why, "OACK after the transfer started, with other options");
	storm_tftp_rrq(&t, "f", 1468, 1, rrq, sizeof(rrq));
	assert_int_equal(storm_tftp_input(&t, oack_odd, sizeof(oack_odd), ack,
					  NULL, 0, &why),
			 -EPROTO);
	/* No OACK: RFC 1350 defaults, so 600 bytes is too long a block. */
	storm_tftp_rrq(&t, "f", 1468, 1, rrq, sizeof(rrq));
	assert_int_equal(
		storm_tftp_input(&t, big, sizeof(big), ack, NULL, 0, &why),
		-EPROTO);
	assert_int_equal(storm_tftp_input(&t, big, 3, ack, NULL, 0, &why),
			 -EBADMSG);
}

static void
test_http_head(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain"
				 "\r\ncontent-length:  12 \r\n\r\nbody";
	static const char nginx204[] =
		"HTTP/1.1 204 No Content\r\nServer: "
		"nginx\r\nConnection: keep-alive\r\n\r\n";
	struct storm_http_resp r;
	const char *why = NULL;

	(void)state;
	assert_int_equal(storm_http_head(ok, sizeof(ok) - 1, &r, &why), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.has_length);
	assert_int_equal(r.length, 12);
	assert_false(r.close);
	assert_int_equal(r.head_len, sizeof(ok) - 1 - 4);
	assert_int_equal(storm_http_head(ok, 30, &r, &why), -EAGAIN);
	assert_int_equal(
		storm_http_head(nginx204, sizeof(nginx204) - 1, &r, &why), 0);
	assert_int_equal(r.status, 204);
	assert_false(r.has_length);
	assert_int_equal(
		storm_http_head("HTTP/1.0 200 OK\r\n\r\n", 19, &r, &why), 0);
	assert_true(r.close);
	assert_int_equal(storm_http_head("HTTP/1.1 200 OK\r\nTransfer-Encoding:"
					 " chunked\r\n\r\n",
					 47, &r, &why),
			 -EPROTONOSUPPORT);
	assert_int_equal(storm_http_head("HTTP/1.1 200 OK\r\nContent-Length: "
					 "1x\r\n\r\n",
					 38, &r, &why),
			 -EBADMSG);
	assert_string_equal(why, "Content-Length");
	assert_int_equal(storm_http_head("SSH-2.0-x\r\n\r\n", 13, &r, &why),
			 -EBADMSG);
	assert_string_equal(why, "status line is not HTTP/1.x");
}

static void
test_ipxe_script(void **state)
{
	/* As builder/render.c writes it. */
	static const char s[] =
		"#!ipxe\n"
		"set base http://10.20.0.1:80/files\n"
		"set tries:int32 0\n"
		":kernel\n"
		"kernel ${base}/images/worker/vmlinuz initrd=initrd.img "
		"metalboot.mac=52:54:00:00:00:0a || goto kernel_retry\n"
		"initrd ${base}/images/worker/initrd.img || goto kernel_retry\n"
		"boot || goto kernel_retry\n";
	static const char named[] = "#!ipxe\r\nkernel --name k "
				    "http://1.2.3.4/k\r\ninitrd "
				    "http://1.2.3.4/i";
	char k[STORM_URL_MAX], i[STORM_URL_MAX];
	const char *why = NULL;

	(void)state;
	assert_int_equal(storm_ipxe_files(s, sizeof(s) - 1, k, i, &why), 0);
	assert_string_equal(k,
			    "http://10.20.0.1:80/files/images/worker/vmlinuz");
	assert_string_equal(
		i, "http://10.20.0.1:80/files/images/worker/initrd.img");
	assert_int_equal(storm_ipxe_files(named, sizeof(named) - 1, k, i, &why),
			 0);
	assert_string_equal(k, "http://1.2.3.4/k");
	assert_string_equal(i, "http://1.2.3.4/i");
	assert_int_equal(
		storm_ipxe_files("#!ipxe\nchain x.ipxe\n", 20, k, i, &why),
		-ENOENT);
	assert_int_equal(storm_ipxe_files("kernel x", 8, k, i, &why), -EBADMSG);
	assert_int_equal(
		storm_ipxe_files("#!ipxe\nkernel ${nope}/k\n", 24, k, i, &why),
		-EBADMSG);
	assert_string_equal(why, "unknown ${setting}");
}

static void
test_percentile(void **state)
{
	double v[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = i + 1;
	assert_true(storm_percentile(v, 100, 50) == 50);
	assert_true(storm_percentile(v, 100, 99) == 99);
	assert_true(storm_percentile(v, 100, 100) == 100);
	assert_true(storm_percentile(v, 1, 99) == 1);
	assert_true(storm_percentile(v, 0, 99) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discover_is_pxe),
		cmocka_unit_test(test_ipxe_request),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_tftp_window),
		cmocka_unit_test(test_tftp_refused),
		cmocka_unit_test(test_http_head),
		cmocka_unit_test(test_ipxe_script),
		cmocka_unit_test(test_percentile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
