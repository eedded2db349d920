/*
 * test_netboot_dhcp.c - the DHCP decoder and encoder against packets
 * captured from QEMU firmware (tests/data/dhcp/README.md) and hostile
 * input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp.h"
#include "fsutil.h"

static uint8_t *
load(const char *name, size_t *ret_len)
{
	char path[512];
	char *data = NULL;

	snprintf(path, sizeof(path), "%s/dhcp/%s", MB_TEST_DATA, name);
	assert_int_equal(read_file(path, 4096, &data, ret_len), 0);
	return (uint8_t *)data;
}

static void
test_bios_ipxe(void **state)
{
	struct dhcp_msg m;
	size_t len;
	uint8_t *p = load("bios_ipxe_discover.bin", &len);
	bool known;

	(void)state;
	assert_int_equal(dhcp_decode(p, len, &m), 0);
	assert_int_equal(m.op, DHCP_OP_REQUEST);
	assert_int_equal(m.type, DHCP_DISCOVER);
	assert_int_equal(m.hlen, 6);
	assert_memory_equal(m.chaddr, "\x52\x54\x00\x12\x34\x56", 6);
	assert_true(dhcp_vendor_class_is(&m, "PXEClient"));
	assert_int_equal(m.vendor_class.len, 32);
	assert_true(dhcp_is_ipxe(&m));
	assert_int_equal(m.user_class.len, 4); /* raw, no RFC 3004 length */
	assert_true(m.ipxe.len > 0);
	assert_int_equal(dhcp_client_arch(&m, &known), 0);
	assert_true(known);
	assert_true(m.has_ndi);
	assert_int_equal(m.ndi[0], 1);
	assert_true(m.has_max_size);
	assert_int_equal(m.max_size, 1472);
	assert_true(dhcp_requested(&m, DHCP_OPT_BOOTFILE));
	assert_true(dhcp_requested(&m, DHCP_OPT_IPXE));
	assert_false(dhcp_requested(&m, DHCP_OPT_UUID));
	free(p);
}

static void
test_uefi_pxe(void **state)
{
	struct dhcp_msg m;
	size_t len;
	uint8_t *p = load("uefi_pxe_discover.bin", &len);
	bool known;

	(void)state;
	assert_int_equal(dhcp_decode(p, len, &m), 0);
	assert_int_equal(m.type, DHCP_DISCOVER);
	assert_true(dhcp_vendor_class_is(&m, "PXEClient:Arch:00007"));
	assert_false(dhcp_is_ipxe(&m));
	assert_int_equal(dhcp_client_arch(&m, &known), 7);
	assert_int_equal(m.uuid.len, DHCP_UUID_LEN);
	assert_int_equal(m.uuid.data[0], 0);
	assert_true(dhcp_requested(&m, DHCP_OPT_UUID));
	free(p);
}

static void
test_uefi_ipxe(void **state)
{
	struct dhcp_msg m;
	size_t len;
	uint8_t *p = load("uefi_ipxe_discover.bin", &len);
	bool known;

	(void)state;
	assert_int_equal(dhcp_decode(p, len, &m), 0);
	assert_true(dhcp_is_ipxe(&m));
	assert_int_equal(dhcp_client_arch(&m, &known), 7);
	free(p);
}

static void
test_uefi_http(void **state)
{
	struct dhcp_msg m;
	size_t len;
	uint8_t *p = load("uefi_http_discover.bin", &len);
	bool known;

	(void)state;
	assert_int_equal(dhcp_decode(p, len, &m), 0);
	assert_int_equal(m.type, DHCP_DISCOVER);
	assert_true(dhcp_vendor_class_is(&m, "HTTPClient"));
	assert_int_equal(dhcp_client_arch(&m, &known), 16);
	free(p);
}

/* The architecture from option 60 when 93 is missing. */
static void
test_arch_from_vendor_class(void **state)
{
	struct dhcp_msg m;
	bool known = true;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(dhcp_client_arch(&m, &known), 0);
	assert_false(known);
	memcpy(m.vendor_class.data, "PXEClient:Arch:00009:UNDI:003000", 32);
	m.vendor_class.len = 32;
	assert_int_equal(dhcp_client_arch(&m, &known), 9);
	assert_true(known);
	memcpy(m.vendor_class.data, "PXEClient:Arch:0000x:UNDI:003000", 32);
	assert_int_equal(dhcp_client_arch(&m, &known), 0);
	assert_false(known);
}

static void
fill(struct dhcp_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->op = DHCP_OP_REPLY;
	m->htype = 1;
	m->hlen = 6;
	m->xid = 0xdeadbeef;
	m->flags = DHCP_FLAG_BCAST;
	m->yiaddr = 0xc0a8640b;
	m->siaddr = 0xc0a86401;
	memcpy(m->chaddr, "\x52\x54\x00\x00\x01\x01", 6);
	memcpy(m->file, "ipxe/undionly.kpxe", 19);
	memcpy(m->sname, "192.168.100.1", 14);
	m->type = DHCP_OFFER;
	m->has_server_id = true;
	m->server_id = 0xc0a86401;
	m->has_lease_time = true;
	m->lease_time = 3600;
	m->has_netmask = true;
	m->netmask = 0xffffff00;
	m->has_router = true;
	m->router = 0xc0a86401;
	m->dns[0] = 0xc0a86401;
	m->dns[1] = 0x08080808;
	m->n_dns = 2;
	m->has_broadcast = true;
	m->broadcast = 0xc0a864ff;
	memcpy(m->hostname, "cp1", 4);
	memcpy(m->domain, "lab", 4);
	memcpy(m->tftp_server, "192.168.100.1", 14);
	memcpy(m->bootfile, "ipxe/undionly.kpxe", 19);
	memcpy(m->vendor_class.data, "PXEClient", 9);
	m->vendor_class.len = 9;
	memcpy(m->vendor.data, "\x06\x01\x08\xff", 4);
	m->vendor.len = 4;
	m->uuid.len = 17;
	m->arch[0] = 7;
	m->n_arch = 1;
	m->has_ndi = true;
	memcpy(m->ndi, "\x01\x03\x00", 3);
	memcpy(m->user_class.data, "iPXE", 4);
	m->user_class.len = 4;
	memcpy(m->ipxe.data, "\xb1\x05\x01\x80\x86\x10\x0e", 7);
	m->ipxe.len = 7;
}

static void
test_roundtrip(void **state)
{
	struct dhcp_msg a, b;
	uint8_t buf[DHCP_MSG_MAX];
	int n;

	(void)state;
	fill(&a);
	n = dhcp_encode(&a, buf, sizeof(buf));
	assert_true(n >= DHCP_REPLY_MIN);
	assert_true(n <= DHCP_RFC_MAX);
	assert_int_equal(dhcp_decode(buf, (size_t)n, &b), 0);
	assert_int_equal(b.xid, a.xid);
	assert_int_equal(b.yiaddr, a.yiaddr);
	assert_int_equal(b.type, DHCP_OFFER);
	assert_int_equal(b.server_id, a.server_id);
	assert_int_equal(b.lease_time, 3600);
	assert_int_equal(b.netmask, a.netmask);
	assert_int_equal(b.router, a.router);
	assert_int_equal(b.n_dns, 2);
	assert_int_equal(b.dns[1], 0x08080808);
	assert_int_equal(b.broadcast, a.broadcast);
	assert_string_equal(b.hostname, "cp1");
	assert_string_equal(b.domain, "lab");
	assert_string_equal(b.tftp_server, "192.168.100.1");
	assert_string_equal(b.bootfile, "ipxe/undionly.kpxe");
	assert_string_equal(b.file, "ipxe/undionly.kpxe");
	assert_string_equal(b.sname, "192.168.100.1");
	assert_int_equal(b.vendor.len, 4);
	assert_int_equal(b.uuid.len, 17);
	assert_int_equal(b.n_arch, 1);
	assert_int_equal(b.arch[0], 7);
	assert_true(b.has_ndi);
	assert_true(dhcp_is_ipxe(&b));
}

/* Small replies are padded to 300 bytes; 66/67 carry their NUL. */
static void
test_pad_and_nul(void **state)
{
	struct dhcp_msg a;
	uint8_t buf[DHCP_MSG_MAX];
	size_t i;
	int n;
	bool seen = false;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.op = DHCP_OP_REPLY;
	a.htype = 1;
	a.hlen = 6;
	a.type = DHCP_ACK;
	memcpy(a.bootfile, "pxe.0", 6);
	n = dhcp_encode(&a, buf, sizeof(buf));
	assert_int_equal(n, DHCP_REPLY_MIN);
	/* 53 1 5, then 67 len 6 "pxe.0\0", then END. */
	for (i = DHCP_MIN_LEN; i + 8 < (size_t)n; i++)
		if (buf[i] == 67 && buf[i + 1] == 6 &&
		    memcmp(buf + i + 2, "pxe.0\0", 6) == 0 && buf[i + 8] == 255)
			seen = true;
	assert_true(seen);
	assert_int_equal(dhcp_encode(&a, buf, 250), -EMSGSIZE);
}

/* A valid minimal request: header, cookie, 53 = DISCOVER, END. */
static size_t
minimal(uint8_t *buf)
{
	memset(buf, 0, DHCP_MSG_MAX);
	buf[0] = 1;
	buf[1] = 1;
	buf[2] = 6;
	buf[236] = 0x63;
	buf[237] = 0x82;
	buf[238] = 0x53;
	buf[239] = 0x63;
	buf[240] = 53;
	buf[241] = 1;
	buf[242] = 1;
	buf[243] = 255;
	return 244;
}

static void
test_hostile(void **state)
{
	struct dhcp_msg m;
	uint8_t buf[DHCP_MSG_MAX];
	size_t len, i;

	(void)state;
	len = minimal(buf);
	assert_int_equal(dhcp_decode(buf, len, &m), 0);
	assert_int_equal(m.type, DHCP_DISCOVER);
	/* Truncated anywhere in the header: dropped. */
	for (i = 0; i < DHCP_MIN_LEN; i++)
		assert_int_equal(dhcp_decode(buf, i, &m), -EBADMSG);
	assert_int_equal(dhcp_decode(NULL, 0, &m), -EBADMSG);
	/* Truncated inside 53 (length byte present, value missing). */
	assert_int_equal(dhcp_decode(buf, 242, &m), -EBADMSG);
	assert_int_equal(dhcp_decode(buf, 241, &m), -EBADMSG);
	/* Missing END after a complete option is tolerated. */
	assert_int_equal(dhcp_decode(buf, 243, &m), 0);
	/* Option length past the end. */
	buf[243] = 60;
	buf[244] = 200;
	memset(buf + 245, 'A', 10);
	assert_int_equal(dhcp_decode(buf, 255, &m), -EBADMSG);
	/* Zero-length options we read. */
	len = minimal(buf);
	buf[243] = 60;
	buf[244] = 0;
	buf[245] = 255;
	assert_int_equal(dhcp_decode(buf, 246, &m), -EBADMSG);
	buf[240] = 53;
	buf[241] = 0;
	buf[242] = 255;
	assert_int_equal(dhcp_decode(buf, 243, &m), -EBADMSG);
	/* A zero-length option we skip is harmless. */
	len = minimal(buf);
	buf[243] = 200;
	buf[244] = 0;
	buf[245] = 255;
	assert_int_equal(dhcp_decode(buf, 246, &m), 0);
	/* Wrong lengths for fixed-size options. */
	len = minimal(buf);
	buf[243] = 54;
	buf[244] = 3;
	buf[248] = 255;
	assert_int_equal(dhcp_decode(buf, 249, &m), -EBADMSG);
	buf[243] = 93;
	buf[244] = 3;
	assert_int_equal(dhcp_decode(buf, 249, &m), -EBADMSG);
	/* Bad cookie, bad op, hlen > 16. */
	len = minimal(buf);
	buf[239] = 0x64;
	assert_int_equal(dhcp_decode(buf, len, &m), -EBADMSG);
	len = minimal(buf);
	buf[0] = 3;
	assert_int_equal(dhcp_decode(buf, len, &m), -EBADMSG);
	len = minimal(buf);
	buf[2] = 17;
	assert_int_equal(dhcp_decode(buf, len, &m), -EBADMSG);
	/* Oversized. */
	assert_int_equal(dhcp_decode(buf, DHCP_MSG_MAX + 1, &m), -EBADMSG);
}

static void
test_overload(void **state)
{
	struct dhcp_msg m;
	uint8_t buf[DHCP_MSG_MAX];
	size_t len;

	(void)state;
	/* 52 = 3: options continue in file (108) then sname (44). */
	len = minimal(buf);
	buf[243] = 52;
	buf[244] = 1;
	buf[245] = 3;
	buf[246] = 255;
	memcpy(buf + 108,
	       "\x43\x05"
	       "boot\0\xff",
	       8);
	memcpy(buf + 44,
	       "\x42\x03"
	       "abc\xff",
	       6);
	assert_int_equal(dhcp_decode(buf, 247, &m), 0);
	assert_int_equal(m.overload, 3);
	assert_string_equal(m.bootfile, "boot");
	assert_string_equal(m.tftp_server, "abc");
	assert_string_equal(m.file, "");
	/* A 52 inside the file area would loop: rejected. */
	memcpy(buf + 108, "\x34\x01\x01\xff", 4);
	assert_int_equal(dhcp_decode(buf, 247, &m), -EBADMSG);
	/* 52 twice in the options field: rejected. */
	len = minimal(buf);
	memcpy(buf + 243, "\x34\x01\x01\x34\x01\x02\xff", 7);
	assert_int_equal(dhcp_decode(buf, 250, &m), -EBADMSG);
	/* Out-of-range value. */
	memcpy(buf + 243, "\x34\x01\x04\xff", 4);
	assert_int_equal(dhcp_decode(buf, 247, &m), -EBADMSG);
	/* An option in file running past the 128-byte area. */
	len = minimal(buf);
	memcpy(buf + 243, "\x34\x01\x01\xff", 4);
	buf[108 + 126] = 60;
	buf[108 + 127] = 10;
	memset(buf + 108, 0, 126);
	assert_int_equal(dhcp_decode(buf, 247, &m), -EBADMSG);
	(void)len;
}

/* RFC 3396: split options are concatenated, bounded by DHCP_OPT_MAX. */
static void
test_concatenation(void **state)
{
	struct dhcp_msg m;
	uint8_t buf[DHCP_MSG_MAX];
	size_t off, i;

	(void)state;
	minimal(buf);
	memcpy(buf + 243,
	       "\x3c\x03PXE\x3c\x06"
	       "Client\xff",
	       14);
	assert_int_equal(dhcp_decode(buf, 257, &m), 0);
	assert_true(dhcp_vendor_class_is(&m, "PXEClient"));
	/* Five 60s of 100 bytes: over 255 in total, rejected. */
	minimal(buf);
	off = 243;
	for (i = 0; i < 5; i++) {
		buf[off] = 60;
		buf[off + 1] = 100;
		memset(buf + off + 2, 'x', 100);
		off += 102;
	}
	buf[off++] = 255;
	assert_int_equal(dhcp_decode(buf, off, &m), -EBADMSG);
}

/*
 * Where a prefix of the options of cap (len bytes) may end and still
 * decode: right after the cookie, after a PAD, after a whole option, or
 * anywhere from the END on. Independent of the decoder: a plain TLV walk
 * of a capture that decodes whole. Sets ok[i] for every good length i
 * (ok has len + 1 entries) and returns the offset of END (len if none).
 */
static size_t
prefix_ends(const uint8_t *cap, size_t len, bool *ok)
{
	size_t i = DHCP_MIN_LEN, j;

	memset(ok, 0, len + 1);
	ok[i] = true;
	while (i < len) {
		if (cap[i] == DHCP_OPT_END) {
			for (j = i; j <= len; j++)
				ok[j] = true;
			return i;
		}
		if (cap[i] == DHCP_OPT_PAD) {
			i++;
		} else {
			assert_true(i + 1 < len);
			i += 2u + cap[i + 1];
			assert_true(i <= len);
		}
		ok[i] = true;
	}
	return len;
}

/*
 * Every prefix of every capture: a header cut short is refused, options
 * cut inside a TLV are refused, options cut between TLVs decode (a
 * missing END is tolerated), and from the END on the message decodes
 * whole, as the full capture does.
 */
static void
test_all_prefixes(void **state)
{
	static const char *files[] = { "bios_ipxe_discover.bin",
				       "uefi_pxe_discover.bin",
				       "uefi_ipxe_discover.bin",
				       "uefi_http_discover.bin" };
	struct dhcp_msg m, whole;
	size_t f, i, len, end, good, bad;

	(void)state;
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		uint8_t *p = load(files[f], &len);
		bool *ok = calloc(len + 1, sizeof(*ok));

		assert_non_null(ok);
		assert_int_equal(dhcp_decode(p, len, &whole), 0);
		end = prefix_ends(p, len, ok);
		assert_true(end < len); /* every capture has its END */
		good = bad = 0;
		for (i = 0; i <= len; i++) {
			int r = dhcp_decode(p, i, &m);

			if (i < DHCP_MIN_LEN || !ok[i]) {
				assert_int_equal(r, -EBADMSG);
				bad++;
				continue;
			}
			assert_int_equal(r, 0);
			good++;
			assert_int_equal(m.xid, whole.xid);
			assert_memory_equal(m.chaddr, whole.chaddr, 16);
			if (i > end) {
				assert_int_equal(m.type, whole.type);
				assert_int_equal(m.n_arch, whole.n_arch);
				assert_int_equal(m.vendor_class.len,
						 whole.vendor_class.len);
				assert_memory_equal(m.params.data,
						    whole.params.data,
						    whole.params.len);
			}
		}
		/* Both outcomes happened, the refusals far more often. */
		assert_true(good > len - end);
		assert_true(bad > DHCP_MIN_LEN);
		free(ok);
		free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bios_ipxe),
		cmocka_unit_test(test_uefi_pxe),
		cmocka_unit_test(test_uefi_ipxe),
		cmocka_unit_test(test_uefi_http),
		cmocka_unit_test(test_arch_from_vendor_class),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_pad_and_nul),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_overload),
		cmocka_unit_test(test_concatenation),
		cmocka_unit_test(test_all_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
