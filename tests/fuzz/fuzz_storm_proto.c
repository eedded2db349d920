/*
 * fuzz_storm_proto.c - libFuzzer harness for the boot-storm generator's
 * readers of server input (bench/storm/proto.c): DHCP replies, TFTP
 * packets fed to the read client in sequence, HTTP response heads, iPXE
 * scripts and http:// URLs.
 *
 * Input: a selector byte, then the bytes. Selector 0 feeds TFTP packets
 * (u8 length and bytes, until the input ends) to one transfer and checks
 * its invariants after each; the others hand the rest to one parser.
 */
#include "proto.h"
#include "rd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_tftp(const uint8_t *data, size_t size)
{
	struct storm_tftp t;
	uint8_t rrq[STORM_TFTP_REQ_MAX], ack[4];
	char msg[32] = "";
	const char *why = NULL;
	struct rd rd;
	uint8_t n;
	const uint8_t *p;

	if (storm_tftp_rrq(&t, "ipxe/undionly.kpxe", 64, 4, rrq, sizeof(rrq)) <
	    0)
		abort();
	rd_init(&rd, data, size);
	while (rd_u8(&rd, &n) == 0 && rd_bytes(&rd, n, &p) == 0) {
		int a = storm_tftp_input(&t, p, n, ack, msg, sizeof(msg), &why);

		if (a < 0 && why == NULL)
			abort();
		/* 512 (RFC 1350) until an OACK, then at most what we asked. */
		if (t.blksize < 8 || (t.blksize > 64 && t.blksize != 512) ||
		    t.windowsize < 1 || t.windowsize > 4 || t.next == 0 ||
		    t.bytes > (uint64_t)(t.next - 1) * t.blksize ||
		    strnlen(msg, sizeof(msg)) == sizeof(msg))
			abort();
		if (a < 0)
			break;
	}
}

static void
fuzz_text(uint8_t sel, const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char k[STORM_URL_MAX], i[STORM_URL_MAX];
	struct storm_http_resp resp;
	struct storm_url u;
	const char *why = NULL;
	int r = 0;

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sel == 1) {
		r = storm_http_head(s, size, &resp, &why);
		if (r == 0 && (resp.head_len > size || resp.status < 100 ||
			       resp.status > 599))
			abort();
	} else if (sel == 2) {
		r = storm_ipxe_files(s, size, k, i, &why);
		if (r == 0 && (strnlen(k, sizeof(k)) == sizeof(k) ||
			       strnlen(i, sizeof(i)) == sizeof(i)))
			abort();
	} else {
		r = storm_url_parse(s, &u, &why);
		if (r == 0 && (u.port == 0 || u.path[0] != '/'))
			abort();
	}
	if (r < 0 && r != -EAGAIN && why == NULL)
		abort();
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct storm_dhcp_reply r;
	const char *why = NULL;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_tftp(data + 1, size - 1);
		break;
	case 4:
		if (storm_dhcp_parse(data + 1, size - 1, &r, &why) < 0 &&
		    why == NULL)
			abort();
		break;
	default:
		fuzz_text(data[0] % 5, data + 1, size - 1);
		break;
	}
	return 0;
}
