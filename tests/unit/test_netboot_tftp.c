/*
 * test_netboot_tftp.c - the pure TFTP engine: request parsing (every
 * malformed shape), path mapping, error mapping, option negotiation and
 * the OACK, block arithmetic, lockstep and windowed transfers, block
 * number rollover, duplicate ACKs (no sorcerer's apprentice), the EDK II
 * ERROR 8 probe, retransmission and giving up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "path.h"
#include "tftp.h"

/*
 * Build a request: opcode, then NUL-terminated strings from a
 * NULL-terminated list. Returns its length.
 */
static size_t
mkreq(uint8_t *buf, size_t sz, unsigned op, ...)
{
	va_list ap;
	const char *s;
	size_t o = 2;

	buf[0] = (uint8_t)(op >> 8);
	buf[1] = (uint8_t)op;
	va_start(ap, op);
	while ((s = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(s) + 1;

		assert_true(o + n <= sz);
		memcpy(buf + o, s, n);
		o += n;
	}
	va_end(ap);
	return o;
}

static size_t
mkack(uint8_t *buf, uint16_t block)
{
	buf[0] = 0;
	buf[1] = TFTP_ACK;
	buf[2] = (uint8_t)(block >> 8);
	buf[3] = (uint8_t)block;
	return 4;
}

static size_t
mkerr(uint8_t *buf, uint16_t code)
{
	buf[0] = 0;
	buf[1] = TFTP_ERROR;
	buf[2] = (uint8_t)(code >> 8);
	buf[3] = (uint8_t)code;
	buf[4] = 'x';
	buf[5] = 0;
	return 6;
}

static void
test_parse_basic(void **state)
{
	uint8_t b[600];
	struct tftp_req r;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "pxelinux.0", "octet", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_int_equal(r.opcode, TFTP_RRQ);
	assert_string_equal(r.file, "pxelinux.0");
	assert_int_equal(r.file_len, 10);
	assert_true(r.octet);
	assert_false(r.has_blksize || r.has_tsize || r.has_timeout ||
		     r.has_windowsize);

	/* Names and mode are case-insensitive (RFC 1350, RFC 2347). */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "OcTeT", "BLKSIZE", "1468",
		  "Tsize", "0", "timeout", "3", "windowSize", "16", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_true(r.octet);
	assert_true(r.has_blksize && r.blksize == 1468);
	assert_true(r.has_tsize && r.tsize == 0);
	assert_true(r.has_timeout && r.timeout == 3);
	assert_true(r.has_windowsize && r.windowsize == 16);
	assert_int_equal(r.nopts, 4);

	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "netascii", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_false(r.octet);

	n = mkreq(b, sizeof(b), TFTP_WRQ, "up", "octet", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_int_equal(r.opcode, TFTP_WRQ);

	/* Unknown options are skipped, never acknowledged. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "multicast", "",
		  "rollover", "0", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_int_equal(r.nopts, 2);
	assert_false(r.has_blksize);
}

static void
test_parse_malformed(void **state)
{
	uint8_t b[1200] = { 0 };
	struct tftp_req r;
	size_t n;

	(void)state;
	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(tftp_parse_req(b, 0, &r), -EBADMSG);
	b[0] = 0;
	assert_int_equal(tftp_parse_req(b, 1, &r), -EBADMSG);
	/* Opcode only. */
	b[1] = TFTP_RRQ;
	assert_int_equal(tftp_parse_req(b, 2, &r), -EBADMSG);
	/* File without its NUL. */
	memcpy(b + 2, "abc", 3);
	assert_int_equal(tftp_parse_req(b, 5, &r), -EBADMSG);
	/* No mode. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "abc", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), -EBADMSG);
	/* Mode without its NUL. */
	assert_int_equal(tftp_parse_req(b, n + 0, &r), -EBADMSG);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "abc", "octet", NULL);
	assert_int_equal(tftp_parse_req(b, n - 1, &r), -EBADMSG);
	/* Option without a value, and a value without its NUL. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "abc", "octet", "blksize", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), -EBADMSG);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "abc", "octet", "blksize", "512",
		  NULL);
	assert_int_equal(tftp_parse_req(b, n - 1, &r), -EBADMSG);
	/* Not a request. */
	n = mkreq(b, sizeof(b), 9, "abc", "octet", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), -EPROTO);
	n = mkreq(b, sizeof(b), TFTP_DATA, "abc", "octet", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), -EPROTO);
	/* Modes: mail and nonsense. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "abc", "mail", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), -EPROTONOSUPPORT);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "abc", "", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), -EPROTONOSUPPORT);
	/* Longer than 512 bytes (RFC 2347). */
	memset(b + 2, 'a', 600);
	b[602] = 0;
	memcpy(b + 603, "octet", 6);
	assert_int_equal(tftp_parse_req(b, 609, &r), -EMSGSIZE);
	/* Duplicate option, in any case. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "512",
		  "BlkSize", "1024", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), -EEXIST);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "foo", "1", "foo", "2",
		  NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), -EEXIST);
	/* r was never written. */
	assert_int_equal(r.opcode, 0x5a5a);
}

static void
test_parse_too_many_options(void **state)
{
	uint8_t b[600];
	struct tftp_req r;
	size_t o;
	int i;

	(void)state;
	o = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", NULL);
	for (i = 0; i < TFTP_OPTS_MAX + 1; i++) {
		o += (size_t)snprintf((char *)b + o, sizeof(b) - o, "o%d", i) +
		     1;
		b[o++] = '1';
		b[o++] = 0;
	}
	assert_true(o <= TFTP_REQ_MAX);
	assert_int_equal(tftp_parse_req(b, o, &r), -E2BIG);
}

static void
test_parse_option_ranges(void **state)
{
	uint8_t b[600];
	struct tftp_req r;
	size_t n;

	(void)state;
	/* blksize below 8 is not acknowledged (tftp-hpa); above is capped. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "7", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_false(r.has_blksize);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "8", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_true(r.has_blksize && r.blksize == 8);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "65464",
		  NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_int_equal(r.blksize, 65464);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "65465",
		  NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_int_equal(r.blksize, TFTP_BLKSIZE_MAX);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize",
		  "999999999999999999999999", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_false(r.has_blksize);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "-1", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_false(r.has_blksize);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "12x", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_false(r.has_blksize);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_false(r.has_blksize);
	/* timeout 1..255. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "timeout", "0",
		  "windowsize", "0", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_false(r.has_timeout);
	assert_false(r.has_windowsize);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "timeout", "256",
		  "windowsize", "65536", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_false(r.has_timeout);
	assert_false(r.has_windowsize);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "timeout", "255",
		  "windowsize", "65535", "tsize", "123", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_true(r.has_timeout && r.timeout == 255);
	assert_true(r.has_windowsize && r.windowsize == 65535);
	assert_true(r.has_tsize && r.tsize == 123);
}

static void
test_parse_nul_padding(void **state)
{
	uint8_t b[64];
	struct tftp_req r;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "1432",
		  NULL);
	b[n++] = 0;
	b[n++] = 0;
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_true(r.has_blksize && r.blksize == 1432);
	/* But NULs followed by more bytes are an empty option name. */
	b[n++] = 'x';
	assert_int_equal(tftp_parse_req(b, n, &r), -EBADMSG);
}

static void
test_map_path(void **state)
{
	char out[PATH_REQ_MAX + 1];
	char big[PATH_REQ_MAX + 10];

	(void)state;
#define MAP(in) tftp_map_path(in, strlen(in), out, sizeof(out))
	assert_int_equal(MAP("pxelinux.0"), 0);
	assert_string_equal(out, "pxelinux.0");
	assert_int_equal(MAP("/ipxe/undionly.kpxe"), 0);
	assert_string_equal(out, "ipxe/undionly.kpxe");
	assert_int_equal(MAP("//ipxe//x"), -EINVAL); /* empty component */
	assert_int_equal(MAP("\\boot\\x86\\pxeboot.n12"), 0);
	assert_string_equal(out, "boot/x86/pxeboot.n12");
	assert_int_equal(MAP("///a"), 0);
	assert_string_equal(out, "a");
	assert_int_equal(MAP("/etc/passwd"), 0); /* inside the root */
	assert_string_equal(out, "etc/passwd");
	assert_int_equal(MAP("../etc/passwd"), -EINVAL);
	assert_int_equal(MAP("a/../../b"), -EINVAL);
	assert_int_equal(MAP("..\\..\\etc\\passwd"), -EINVAL);
	assert_int_equal(MAP("a/./b"), -EINVAL);
	assert_int_equal(MAP("a/"), -EINVAL);
	assert_int_equal(MAP(""), -EINVAL);
	assert_int_equal(MAP("/"), -EINVAL);
	assert_int_equal(MAP("a\x01"), -EINVAL);
	assert_int_equal(MAP("a\x7f"), -EINVAL);
	assert_int_equal(tftp_map_path("a\0b", 3, out, sizeof(out)), -EINVAL);
	memset(big, 'a', sizeof(big));
	assert_int_equal(tftp_map_path(big, sizeof(big), out, sizeof(out)),
			 -ENAMETOOLONG);
	assert_int_equal(tftp_map_path("abcdef", 6, out, 4), -ENAMETOOLONG);
#undef MAP
}

/* GRUB's per-machine file: the MAC as GRUB spells it, and nothing else. */
static void
test_grub_node(void **state)
{
	static const uint8_t want[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0xab };
	char out[PATH_REQ_MAX + 1];
	uint8_t mac[6];

	(void)state;
	assert_int_equal(
		tftp_grub_node("grub/nodes/52:54:00:00:01:ab.cfg", mac), 0);
	assert_memory_equal(mac, want, 6);
	memset(mac, 0, sizeof(mac));
	assert_int_equal(
		tftp_grub_node("grub/nodes/52-54-00-00-01-AB.cfg", mac), 0);
	assert_memory_equal(mac, want, 6);
	/* GRUB asks for "/grub/...": the same after tftp_map_path. */
	assert_int_equal(tftp_map_path("/grub/nodes/52:54:00:00:01:ab.cfg", 33,
				       out, sizeof(out)),
			 0);
	assert_int_equal(tftp_grub_node(out, mac), 0);
	/* Other files are not its business. */
	assert_int_equal(tftp_grub_node("grub/grub.cfg", mac), -ENOENT);
	assert_int_equal(tftp_grub_node("grub/nodes/.cfg", mac), -ENOENT);
	assert_int_equal(tftp_grub_node("grub/nodes/x.cf", mac), -ENOENT);
	assert_int_equal(
		tftp_grub_node("grub/nodesx/52:54:00:00:01:ab.cfg", mac),
		-ENOENT);
	assert_int_equal(tftp_grub_node("ipxe/ipxe.efi", mac), -ENOENT);
	/* The right place, but no MAC. */
	assert_int_equal(tftp_grub_node("grub/nodes/cp1.cfg", mac), -EINVAL);
	assert_int_equal(tftp_grub_node("grub/nodes/52:54:00:00:01.cfg", mac),
			 -EINVAL);
	assert_int_equal(
		tftp_grub_node("grub/nodes/52:54:00:00:01:ab:cd:ef:01.cfg",
			       mac),
		-EINVAL);
	assert_int_equal(
		tftp_grub_node("grub/nodes/a/52:54:00:00:01:ab.cfg", mac),
		-EINVAL);
}

static void
test_errcode(void **state)
{
	const char *msg = NULL;

	(void)state;
	assert_int_equal(tftp_errcode(-ENOENT, &msg), TFTP_ENOTFOUND);
	assert_non_null(msg);
	assert_int_equal(tftp_errcode(-EXDEV, &msg), TFTP_EACCESS);
	assert_int_equal(tftp_errcode(-EINVAL, &msg), TFTP_EACCESS);
	assert_int_equal(tftp_errcode(-EISDIR, &msg), TFTP_EACCESS);
	assert_int_equal(tftp_errcode(-EACCES, &msg), TFTP_EACCESS);
	assert_int_equal(tftp_errcode(-ELOOP, &msg), TFTP_EACCESS);
	assert_int_equal(tftp_errcode(-EROFS, &msg), TFTP_EACCESS);
	assert_int_equal(tftp_errcode(-EFBIG, &msg), TFTP_ENOSPACE);
	assert_int_equal(tftp_errcode(-EBADMSG, &msg), TFTP_EBADOP);
	assert_int_equal(tftp_errcode(-EPROTO, &msg), TFTP_EBADOP);
	assert_int_equal(tftp_errcode(-EMSGSIZE, &msg), TFTP_EBADOP);
	assert_int_equal(tftp_errcode(-EPROTONOSUPPORT, &msg), TFTP_EBADOP);
	assert_int_equal(tftp_errcode(-E2BIG, &msg), TFTP_EOPTNEG);
	assert_int_equal(tftp_errcode(-EEXIST, &msg), TFTP_EOPTNEG);
	assert_int_equal(tftp_errcode(-ENOMEM, &msg), TFTP_EUNDEF);
}

static void
test_build_error(void **state)
{
	uint8_t b[TFTP_HDR_LEN + TFTP_ERRMSG_MAX + 1];
	char longmsg[300];
	size_t n;

	(void)state;
	n = tftp_build_error(b, sizeof(b), TFTP_EBADID, "Unknown transfer ID");
	assert_int_equal(n, 4 + 19 + 1);
	assert_memory_equal(b, "\0\5\0\5Unknown transfer ID", n);
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = 0;
	n = tftp_build_error(b, sizeof(b), 0, longmsg);
	assert_int_equal(n, sizeof(b));
	assert_int_equal(b[n - 1], 0);
	assert_int_equal(tftp_build_error(b, 5, 1, "abc"), 0);
}

/* Start a transfer of size bytes from a request built of options. */
static void
start(struct tftp_xfer *x, struct tftp_out *out, uint64_t size, unsigned cap,
      const uint8_t *pkt, size_t len)
{
	struct tftp_req r;

	assert_int_equal(tftp_parse_req(pkt, len, &r), 0);
	assert_int_equal(tftp_xfer_start(&r, size, cap, 1000, x, out), 0);
}

static void
test_no_options_defaults(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", NULL);
	start(&x, &out, 1000, TFTP_BLKSIZE_MAX, b, n);
	/* RFC 1350: no OACK, DATA 1 at once, 512-byte blocks. */
	assert_int_equal(x.state, TFTP_ST_DATA);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 1);
	assert_int_equal(out.count, 1);
	assert_int_equal(x.blksize, 512);
	assert_int_equal(x.windowsize, 1);
	assert_int_equal(x.last, 2);
	/* Only options with bad values: the same defaults, no OACK. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "4",
		  "timeout", "0", "bogus", "1", NULL);
	start(&x, &out, 1000, TFTP_BLKSIZE_MAX, b, n);
	assert_int_equal(x.state, TFTP_ST_DATA);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(x.blksize, 512);
	/* An ACK 0 to DATA 1 (clients that "ack the request") is ignored. */
	tftp_xfer_input(&x, b, mkack(b, 0), 1010, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	assert_int_equal(x.acked, 0);
}

static void
test_oack(void **state)
{
	uint8_t b[128], o[128];
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n;
	static const char want[] = "\0\6blksize\0"
				   "1468\0tsize\0"
				   "123456\0timeout\0"
				   "2\0windowsize\0"
				   "8";

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "windowsize", "8",
		  "timeout", "2", "tsize", "0", "blksize", "1468", "foo", "1",
		  NULL);
	start(&x, &out, 123456, 1500 - TFTP_IP_UDP_OVERHEAD, b, n);
	assert_int_equal(out.act, TFTP_ACT_OACK);
	assert_int_equal(x.state, TFTP_ST_OACK);
	n = tftp_build_oack(&x, o, sizeof(o));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(o, want, n);
	assert_int_equal(tftp_build_oack(&x, o, 20), 0);

	/* Only the options asked for: tsize alone (BIOS ROM probe). */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "tsize", "0", NULL);
	start(&x, &out, 7, TFTP_BLKSIZE_MAX, b, n);
	n = tftp_build_oack(&x, o, sizeof(o));
	assert_int_equal(n, 2 + 6 + 2);
	assert_memory_equal(o,
			    "\0\6tsize\0"
			    "7",
			    n);

	/* tsize is not acknowledged in netascii. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "netascii", "tsize", "0", NULL);
	start(&x, &out, 7, TFTP_BLKSIZE_MAX, b, n);
	assert_int_equal(out.act, TFTP_ACT_SEND);
}

static void
test_blksize_clamp(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "65464",
		  NULL);
	/* Ethernet: MTU 1500 - 32. */
	start(&x, &out, 1, 1468, b, n);
	assert_int_equal(x.blksize, 1468);
	/* Loopback: 65536 - 32 is more than RFC 2348 allows. */
	start(&x, &out, 1, 65536 - 32, b, n);
	assert_int_equal(x.blksize, 65464);
	/* Asking for less than the path allows: granted as asked. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "1432",
		  NULL);
	start(&x, &out, 1, 8968, b, n);
	assert_int_equal(x.blksize, 1432);
	/* A silly cap still leaves the minimum. */
	start(&x, &out, 1, 3, b, n);
	assert_int_equal(x.blksize, TFTP_BLKSIZE_MIN);
}

static void
test_windowsize_clamp(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "512",
		  "windowsize", "65535", NULL);
	start(&x, &out, 1, 1468, b, n);
	assert_int_equal(x.windowsize, TFTP_WINDOWSIZE_MAX);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "65464",
		  "windowsize", "16", NULL);
	start(&x, &out, 1, 65464, b, n);
	assert_int_equal(x.windowsize, TFTP_WINDOW_BYTES_MAX / 65464);
	assert_true(x.windowsize >= 1);
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "windowsize", "4",
		  NULL);
	start(&x, &out, 1, 1468, b, n);
	assert_int_equal(x.windowsize, 4);
}

static void
test_block_math(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint8_t hdr[TFTP_HDR_LEN];
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", NULL);
	/* Exact multiple: a final empty block. */
	start(&x, &out, 1024, 1468, b, n);
	assert_int_equal(x.last, 3);
	assert_int_equal(tftp_block_len(&x, 1), 512);
	assert_int_equal(tftp_block_len(&x, 2), 512);
	assert_int_equal(tftp_block_len(&x, 3), 0);
	assert_int_equal(tftp_block_off(&x, 3), 1024);
	/* Empty file: one empty block. */
	start(&x, &out, 0, 1468, b, n);
	assert_int_equal(x.last, 1);
	assert_int_equal(tftp_block_len(&x, 1), 0);
	/* Short tail. */
	start(&x, &out, 1000, 1468, b, n);
	assert_int_equal(x.last, 2);
	assert_int_equal(tftp_block_len(&x, 2), 488);
	assert_int_equal(tftp_block_len(&x, 3), 0);
	/* Wire block numbers are the low 16 bits. */
	tftp_data_hdr(hdr, 65535);
	assert_memory_equal(hdr, "\0\3\xff\xff", 4);
	tftp_data_hdr(hdr, 65536);
	assert_memory_equal(hdr, "\0\3\0\0", 4);
	tftp_data_hdr(hdr, 65537);
	assert_memory_equal(hdr, "\0\3\0\1", 4);
}

static void
test_too_big(void **state)
{
	uint8_t b[128];
	struct tftp_req r;
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "8", NULL);
	assert_int_equal(tftp_parse_req(b, n, &r), 0);
	assert_int_equal(tftp_xfer_start(&r, (uint64_t)UINT32_MAX * 8, 1468, 1,
					 &x, &out),
			 -EFBIG);
	assert_int_equal(tftp_xfer_start(&r, (uint64_t)UINT32_MAX * 8 - 9, 1468,
					 1, &x, &out),
			 0);
}

/* Drive a lockstep transfer to the end; returns the blocks sent. */
static uint32_t
run_lockstep(struct tftp_xfer *x, struct tftp_out *out, uint64_t *t)
{
	uint8_t a[4];
	uint32_t sent = 0;

	while (out->act == TFTP_ACT_SEND) {
		assert_int_equal(out->count, 1);
		assert_int_equal(out->first, sent + 1);
		sent++;
		/* A duplicate of the previous ACK changes nothing. */
		tftp_xfer_input(x, a, mkack(a, (uint16_t)(sent - 1)), ++*t,
				out);
		assert_int_equal(out->act, TFTP_ACT_NONE);
		tftp_xfer_input(x, a, mkack(a, (uint16_t)sent), ++*t, out);
	}
	return sent;
}

static void
test_lockstep_exact_multiple(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint64_t t = 1000;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "1468",
		  NULL);
	start(&x, &out, 1468 * 3, 1468, b, n);
	tftp_xfer_input(&x, b, mkack(b, 0), ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(run_lockstep(&x, &out, &t), 4);
	assert_int_equal(out.act, TFTP_ACT_DONE);
	assert_int_equal(x.state, TFTP_ST_DONE);
	assert_int_equal(x.retransmits, 0);
	/* After the end nothing happens. */
	tftp_xfer_input(&x, b, mkack(b, 4), ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	tftp_xfer_timeout(&x, ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
}

static void
test_rollover(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint64_t t = 1000;
	uint32_t blocks = 70000;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", NULL);
	start(&x, &out, (uint64_t)512 * (blocks - 1) + 100, 1468, b, n);
	assert_int_equal(x.last, blocks);
	assert_int_equal(run_lockstep(&x, &out, &t), blocks);
	assert_int_equal(out.act, TFTP_ACT_DONE);
	assert_int_equal(x.retransmits, 0);
}

static void
test_ack_map(void **state)
{
	struct tftp_xfer x;
	uint32_t a;

	(void)state;
	memset(&x, 0, sizeof(x));
	x.acked = 65530;
	x.hi = 65540;
	assert_true(tftp_ack_map(&x, 65535, &a));
	assert_int_equal(a, 65535);
	assert_true(tftp_ack_map(&x, 0, &a));
	assert_int_equal(a, 65536);
	assert_true(tftp_ack_map(&x, 4, &a));
	assert_int_equal(a, 65540);
	assert_false(tftp_ack_map(&x, 5, &a));	   /* never sent */
	assert_false(tftp_ack_map(&x, 65530, &a)); /* duplicate */
	assert_false(tftp_ack_map(&x, 65000, &a)); /* stale */
	x.acked = 131072 + 3;
	x.hi = 131072 + 7;
	assert_true(tftp_ack_map(&x, 7, &a));
	assert_int_equal(a, 131072 + 7);
	assert_false(tftp_ack_map(&x, 65535, &a));
}

static void
test_window(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint64_t t = 1000;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "windowsize", "4",
		  NULL);
	/* 20 blocks: 19 full and a short one. */
	start(&x, &out, 512 * 19 + 1, 1468, b, n);
	assert_int_equal(x.last, 20);
	tftp_xfer_input(&x, b, mkack(b, 0), ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 1);
	assert_int_equal(out.count, 4);
	/* The window's last block acknowledged: the next window. */
	tftp_xfer_input(&x, b, mkack(b, 4), ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 5);
	assert_int_equal(out.count, 4);
	/* A gap at 7: the client acknowledges 6; restart after it. */
	tftp_xfer_input(&x, b, mkack(b, 6), ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 7);
	assert_int_equal(out.count, 4);
	assert_int_equal(x.retransmits, 2);
	/* A duplicate of 6 does nothing. */
	tftp_xfer_input(&x, b, mkack(b, 6), t, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	/*
	 * A second short ACK within a round trip of the restart slides the
	 * window instead of restarting again (it may predate the resend; a
	 * per-block ACKer cannot cause a storm).
	 */
	tftp_xfer_input(&x, b, mkack(b, 7), t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 11);
	assert_int_equal(out.count, 1);
	assert_int_equal(x.retransmits, 2);
	tftp_xfer_input(&x, b, mkack(b, 11), ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 12);
	assert_int_equal(out.count, 4);
	tftp_xfer_input(&x, b, mkack(b, 15), ++t, &out);
	assert_int_equal(out.first, 16);
	assert_int_equal(out.count, 4);
	/* A gap again, well after the last restart: restart after 17. */
	tftp_xfer_input(&x, b, mkack(b, 17), t += 5, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 18);
	assert_int_equal(out.count, 3);
	/* Timeout: the window after the last acknowledged block again. */
	tftp_xfer_timeout(&x, ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_true(out.retransmit);
	assert_int_equal(out.first, 18);
	assert_int_equal(out.count, 3);
	tftp_xfer_input(&x, b, mkack(b, 19), ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 20);
	assert_int_equal(out.count, 1);
	tftp_xfer_input(&x, b, mkack(b, 20), ++t, &out);
	assert_int_equal(out.act, TFTP_ACT_DONE);
}

static void
test_window_probe_and_gap_repeat(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint64_t t = 1000;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "windowsize", "4",
		  NULL);
	start(&x, &out, 512 * 40, 1468, b, n);
	tftp_xfer_input(&x, b, mkack(b, 0), ++t, &out);
	tftp_xfer_input(&x, b, mkack(b, 4), ++t, &out);
	assert_int_equal(out.first, 5);
	/* The ACK of 8 is lost: first timeout resends 5..8. */
	tftp_xfer_timeout(&x, t += 100, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 5);
	assert_int_equal(out.count, 4);
	/* The second probes past the first window: a new window after hi. */
	tftp_xfer_timeout(&x, t += 200, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 9);
	assert_int_equal(out.count, 4);
	/* Silence again: resend the first window, then probe further, but
	 * never past TFTP_PROBE_WINDOWS windows after acked. */
	tftp_xfer_timeout(&x, t += 400, &out);
	assert_int_equal(out.first, 5);
	assert_int_equal(out.count, 4);
	tftp_xfer_timeout(&x, t += 800, &out);
	assert_int_equal(out.first, 9);
	assert_int_equal(out.count, 8);
	tftp_xfer_timeout(&x, t += 1600, &out);
	tftp_xfer_timeout(&x, t += 3200, &out);
	assert_int_equal(out.first, 9);
	assert_int_equal(out.count, 8);
	assert_int_equal(x.hi, 4 + TFTP_PROBE_WINDOWS * 4);
	assert_true(out.count <= TFTP_SEND_MAX(x.windowsize));
	/* The receiver had 5..12 (its ACKs lost): it acknowledges 12. */
	tftp_xfer_input(&x, b, mkack(b, 12), ++t, &out);
	assert_int_equal(x.acked, 12);
	assert_int_equal(x.retries, 0);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 13);
	/*
	 * A receiver missing 13 reports the gap by acknowledging 12, then, a
	 * round trip later, again: the
	 * window restarts each time (RFC 7440), but not for a repeat within
	 * the round trip.
	 */
	tftp_xfer_input(&x, b, mkack(b, 12), t += 50, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 13);
	tftp_xfer_input(&x, b, mkack(b, 12), t, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	tftp_xfer_input(&x, b, mkack(b, 12), t += 50, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 13);
	/* In lockstep a repeated ACK never causes a send. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", NULL);
	start(&x, &out, 512 * 40, 1468, b, n);
	tftp_xfer_input(&x, b, mkack(b, 1), t += 50, &out);
	assert_int_equal(out.first, 2);
	tftp_xfer_input(&x, b, mkack(b, 1), t += 50, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	/* Nor does a lockstep timeout probe ahead. */
	tftp_xfer_timeout(&x, t += 1000, &out);
	tftp_xfer_timeout(&x, t += 2000, &out);
	assert_int_equal(out.first, 2);
	assert_int_equal(out.count, 1);
}

/*
 * A storm of duplicate gap ACKs on a fast LAN (smoothed RTT 0 ms): at
 * most one window restart per TFTP_RTO_MIN_MS, whether the duplicates
 * arrive at the same instant or one a millisecond (issue 14: 50 of them
 * drew 46 windows).
 */
static void
test_dup_ack_storm(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint64_t t = 1000; /* the transfer starts then (start()) */
	unsigned i, restarts = 0;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "windowsize", "64",
		  NULL);
	start(&x, &out, 512 * 1000, 1468, b, n);
	/* OACK acknowledged at once: an RTT sample of 0 ms. */
	tftp_xfer_input(&x, b, mkack(b, 0), t, &out);
	assert_int_equal(x.srtt_ms, 0);
	assert_int_equal(out.first, 1);
	assert_int_equal(out.count, 64);
	/* The client reports a gap after 10, then 50 duplicates at once. */
	tftp_xfer_input(&x, b, mkack(b, 10), t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 11);
	for (i = 0; i < 50; i++) {
		tftp_xfer_input(&x, b, mkack(b, 10), t, &out);
		if (out.act == TFTP_ACT_SEND)
			restarts++;
	}
	assert_int_equal(restarts, 0);
	/* 50 more, one a millisecond: at most one restart per 20 ms. */
	for (i = 0; i < 50; i++) {
		tftp_xfer_input(&x, b, mkack(b, 10), ++t, &out);
		if (out.act == TFTP_ACT_SEND) {
			restarts++;
			assert_int_equal(out.first, 11);
		}
	}
	assert_true(restarts >= 1);
	assert_true(restarts <= 50 / TFTP_RTO_MIN_MS);
	/* Real progress past the restarted window is served at once. */
	tftp_xfer_input(&x, b, mkack(b, 74), t, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 75);
}

static void
test_per_block_acker(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint64_t t = 1000;
	uint32_t flight[4096], next_flight[4096];
	size_t nf = 0, nn, i;
	uint32_t sent = 0, k;
	int rounds = 0;

	(void)state;
	i = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "windowsize", "8",
		  NULL);
	start(&x, &out, 512 * 100, 1468, b, i);
	tftp_xfer_input(&x, b, mkack(b, 0), ++t, &out);
	for (k = 0; k < out.count; k++)
		flight[nf++] = out.first + k;
	sent += out.count;
	/*
	 * A broken client acknowledging every DATA it gets, duplicates too;
	 * one round trip (1 ms) per round. Whatever we send in a round
	 * reaches it in the next.
	 */
	while (x.state != TFTP_ST_DONE && rounds++ < 1000) {
		t++;
		nn = 0;
		for (i = 0; i < nf && x.state != TFTP_ST_DONE; i++) {
			tftp_xfer_input(&x, b, mkack(b, (uint16_t)flight[i]), t,
					&out);
			if (out.act != TFTP_ACT_SEND)
				continue;
			for (k = 0; k < out.count && nn < 4096; k++)
				next_flight[nn++] = out.first + k;
			sent += out.count;
		}
		memcpy(flight, next_flight, nn * sizeof(flight[0]));
		nf = nn;
	}
	assert_int_equal(x.state, TFTP_ST_DONE);
	/* Bounded resends (at most a window per round trip), no storm. */
	assert_true(sent <= 100 + 8 * (uint32_t)rounds);
	assert_true(rounds < 40);
}

static void
test_oack_ack0_and_wrong_ack(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "1024",
		  NULL);
	start(&x, &out, 5000, 1468, b, n);
	assert_int_equal(out.act, TFTP_ACT_OACK);
	/* A wrong ACK does not resend the OACK (the timer does). */
	tftp_xfer_input(&x, b, mkack(b, 1), 1001, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	assert_int_equal(x.state, TFTP_ST_OACK);
	/* Short and odd packets are dropped. */
	tftp_xfer_input(&x, b, 3, 1001, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	b[0] = 0;
	b[1] = TFTP_DATA;
	tftp_xfer_input(&x, b, 8, 1001, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	b[1] = 42;
	tftp_xfer_input(&x, b, 8, 1001, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	/* ACK 0 accepts: DATA 1 with the negotiated size. */
	tftp_xfer_input(&x, b, mkack(b, 0), 1002, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 1);
	assert_int_equal(tftp_block_len(&x, 1), 1024);
	assert_true(out.rtt_sampled);
}

/* Feed the same or another request again, parsed, as the client's. */
static void
again(struct tftp_xfer *x, struct tftp_out *out, const uint8_t *pkt, size_t len,
      uint64_t now)
{
	struct tftp_req r;

	assert_int_equal(tftp_parse_req(pkt, len, &r), 0);
	tftp_xfer_rerequest(x, &r, now, out);
}

static void
test_oack_ignored_fallback(void **state)
{
	uint8_t b[128], nb[64];
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n, nn;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "1468",
		  "tsize", "0", "windowsize", "4", NULL);
	start(&x, &out, 5000, 1468, b, n);
	assert_int_equal(out.act, TFTP_ACT_OACK);
	/* The same request once more: the OACK may be lost, resend it. */
	again(&x, &out, b, n, 1500);
	assert_int_equal(out.act, TFTP_ACT_OACK);
	assert_true(out.retransmit);
	assert_int_equal(x.state, TFTP_ST_OACK);
	assert_false(x.fell_back);
	/* And again: the client ignores OACKs; RFC 1350 defaults. */
	again(&x, &out, b, n, 2500);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(out.first, 1);
	assert_int_equal(out.count, 1);
	assert_true(x.fell_back);
	assert_int_equal(x.state, TFTP_ST_DATA);
	assert_int_equal(x.blksize, 512);
	assert_int_equal(x.windowsize, 1);
	assert_int_equal(x.last, 10); /* 9 full blocks and 392 bytes */
	assert_int_equal(tftp_block_len(&x, 1), 512);
	assert_int_equal(tftp_block_len(&x, 10), 5000 - 9 * 512);
	/* No OACK can be built any more; a late ACK 0 changes nothing. */
	assert_int_equal(tftp_build_oack(&x, nb, sizeof(nb)), 2);
	tftp_xfer_input(&x, nb, mkack(nb, 0), 2501, &out);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	/* Lockstep to the end with 512-byte blocks. */
	for (uint16_t k = 1; k <= 9; k++) {
		tftp_xfer_input(&x, nb, mkack(nb, k), 2501 + k, &out);
		assert_int_equal(out.act, TFTP_ACT_SEND);
		assert_int_equal(out.first, k + 1);
		assert_int_equal(out.count, 1);
	}
	/* Once DATA flows a further repeat is ignored. */
	again(&x, &out, b, n, 2600);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	tftp_xfer_input(&x, nb, mkack(nb, 10), 2700, &out);
	assert_int_equal(out.act, TFTP_ACT_DONE);

	/* The request again without options: defaults at once. */
	start(&x, &out, 5000, 1468, b, n);
	nn = mkreq(nb, sizeof(nb), TFTP_RRQ, "f", "octet", NULL);
	again(&x, &out, nb, nn, 1100);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_true(x.fell_back);
	assert_int_equal(x.blksize, 512);
	/* Only options we would not acknowledge count as none. */
	start(&x, &out, 5000, 1468, b, n);
	nn = mkreq(nb, sizeof(nb), TFTP_RRQ, "f", "octet", "blksize", "2",
		   NULL);
	again(&x, &out, nb, nn, 1100);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	assert_int_equal(x.blksize, 512);

	/* 3 TiB does not fit 2^32-1 blocks of 512: the OACK stays. */
	nn = mkreq(nb, sizeof(nb), TFTP_RRQ, "f", "octet", "blksize", "65464",
		   NULL);
	start(&x, &out, (uint64_t)3 << 40, TFTP_BLKSIZE_MAX, nb, nn);
	again(&x, &out, nb, nn, 1100);
	again(&x, &out, nb, nn, 1200);
	assert_int_equal(out.act, TFTP_ACT_OACK);
	assert_int_equal(x.state, TFTP_ST_OACK);
	assert_int_equal(x.blksize, 65464);
	assert_false(x.fell_back);

	/* After ACK 0 accepted the OACK, repeats change nothing. */
	start(&x, &out, 5000, 1468, b, n);
	tftp_xfer_input(&x, nb, mkack(nb, 0), 1001, &out);
	assert_int_equal(out.act, TFTP_ACT_SEND);
	again(&x, &out, b, n, 1100);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	again(&x, &out, b, n, 1200);
	assert_int_equal(out.act, TFTP_ACT_NONE);
	assert_int_equal(x.blksize, 1468);
	assert_false(x.fell_back);
}

static void
test_probe_error8(void **state)
{
	uint8_t b[128], e[16];
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n;

	(void)state;
	/* EDK II: tsize + blksize, reads the OACK, refuses it with 8. */
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "tsize", "0", "blksize",
		  "1468", NULL);
	start(&x, &out, 5000, 1468, b, n);
	tftp_xfer_input(&x, e, mkerr(e, TFTP_EOPTNEG), 1001, &out);
	assert_int_equal(out.act, TFTP_ACT_ABORT);
	assert_true(out.probe);
	assert_int_equal(out.code, TFTP_EOPTNEG);
	/* Another error after the OACK is a failure, not a probe. */
	start(&x, &out, 5000, 1468, b, n);
	tftp_xfer_input(&x, e, mkerr(e, TFTP_EUNDEF), 1001, &out);
	assert_int_equal(out.act, TFTP_ACT_ABORT);
	assert_false(out.probe);
	/* ERROR 8 in the middle of the data is no probe either. */
	start(&x, &out, 5000, 1468, b, n);
	tftp_xfer_input(&x, e, mkack(e, 0), 1001, &out);
	tftp_xfer_input(&x, e, mkerr(e, TFTP_EOPTNEG), 1002, &out);
	assert_int_equal(out.act, TFTP_ACT_ABORT);
	assert_false(out.probe);
}

static void
test_timeout_and_giveup(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint64_t t = 1000;
	unsigned i, prev;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "blksize", "512", NULL);
	start(&x, &out, 5000, 1468, b, n);
	assert_int_equal(x.rto_ms, TFTP_RTO_INIT_MS);
	/* OACK resent on timeout. */
	tftp_xfer_timeout(&x, t += x.rto_ms, &out);
	assert_int_equal(out.act, TFTP_ACT_OACK);
	assert_true(out.retransmit);
	assert_int_equal(x.rto_ms, 2 * TFTP_RTO_INIT_MS);
	tftp_xfer_input(&x, b, mkack(b, 0), ++t, &out);
	/* Karn: no sample after a resend, the backed-off timer stays. */
	assert_false(out.rtt_sampled);
	tftp_xfer_input(&x, b, mkack(b, 1), ++t, &out);
	assert_true(out.rtt_sampled);
	assert_int_equal(x.rto_ms, TFTP_RTO_MIN_MS);
	/* DATA 2 lost: resent on every timeout, the timer doubling. */
	prev = x.rto_ms;
	for (i = 1; i <= TFTP_RETRIES_MAX; i++) {
		tftp_xfer_timeout(&x, t += x.rto_ms, &out);
		assert_int_equal(out.act, TFTP_ACT_SEND);
		assert_int_equal(out.first, 2);
		assert_int_equal(out.count, 1);
		assert_true(x.rto_ms >= prev && x.rto_ms <= TFTP_RTO_MAX_MS);
		prev = x.rto_ms;
	}
	/* Retries are spent; give up once the client is quiet long enough. */
	while (out.act != TFTP_ACT_TIMEOUT) {
		assert_int_equal(out.act, TFTP_ACT_SEND);
		tftp_xfer_timeout(&x, t += x.rto_ms, &out);
	}
	assert_true(t - x.last_progress_ms >= TFTP_GIVEUP_MIN_MS);
	assert_true(t - x.last_progress_ms <
		    TFTP_GIVEUP_MIN_MS + 2 * TFTP_RTO_MAX_MS);
	assert_int_equal(x.state, TFTP_ST_DONE);
	assert_true(x.retransmits >= TFTP_RETRIES_MAX + 1);
}

static void
test_progress_resets_retries(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	uint64_t t = 1000;
	size_t n;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", NULL);
	start(&x, &out, 5000, 1468, b, n);
	tftp_xfer_timeout(&x, t += 1000, &out);
	tftp_xfer_timeout(&x, t += 2000, &out);
	assert_int_equal(x.retries, 2);
	tftp_xfer_input(&x, b, mkack(b, 1), ++t, &out);
	assert_int_equal(x.retries, 0);
	assert_int_equal(out.first, 2);
}

static void
test_timeout_option_caps_rto(void **state)
{
	uint8_t b[128];
	struct tftp_xfer x;
	struct tftp_out out;
	size_t n;
	int i;

	(void)state;
	n = mkreq(b, sizeof(b), TFTP_RRQ, "f", "octet", "timeout", "1", NULL);
	start(&x, &out, 5000, 1468, b, n);
	assert_int_equal(x.timeout_s, 1);
	for (i = 0; i < 4; i++) {
		tftp_xfer_timeout(&x, 1000 + (uint64_t)i * 1000, &out);
		assert_true(x.rto_ms <= 1000);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_too_many_options),
		cmocka_unit_test(test_parse_option_ranges),
		cmocka_unit_test(test_parse_nul_padding),
		cmocka_unit_test(test_map_path),
		cmocka_unit_test(test_grub_node),
		cmocka_unit_test(test_errcode),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_no_options_defaults),
		cmocka_unit_test(test_oack),
		cmocka_unit_test(test_blksize_clamp),
		cmocka_unit_test(test_windowsize_clamp),
		cmocka_unit_test(test_block_math),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_lockstep_exact_multiple),
		cmocka_unit_test(test_rollover),
		cmocka_unit_test(test_ack_map),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_per_block_acker),
		cmocka_unit_test(test_window_probe_and_gap_repeat),
		cmocka_unit_test(test_dup_ack_storm),
		cmocka_unit_test(test_oack_ack0_and_wrong_ack),
		cmocka_unit_test(test_oack_ignored_fallback),
		cmocka_unit_test(test_probe_error8),
		cmocka_unit_test(test_timeout_and_giveup),
		cmocka_unit_test(test_progress_resets_retries),
		cmocka_unit_test(test_timeout_option_caps_rto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
