/*
 * fuzz_netboot_tftp.c - libFuzzer harness for the TFTP engine: the request
 * parser, the path mapper, option negotiation and the transfer state
 * machine driven by arbitrary packets and timer firings.
 *
 * Input: u16 request length, the request bytes, u32 file size, u16
 * blksize cap, then events until the input ends: a byte selecting ACK of
 * a given number, ACK of the highest block sent, a raw packet (u8 length
 * and bytes; one that parses as a request is the client's request again),
 * or a timer firing (with a clock step). After every step the
 * transfer's invariants are checked; a violation aborts.
 */
#include "path.h"
#include "rd.h"
#include "tftp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_EVENTS_MAX 20000

static void
check(const struct tftp_xfer *x, const struct tftp_out *out)
{
	if (x->acked > x->hi || x->hi > x->last || x->next > x->last + 1 ||
	    x->hi > x->acked + TFTP_PROBE_WINDOWS * x->windowsize ||
	    x->next == 0 || x->blksize < TFTP_BLKSIZE_MIN ||
	    x->blksize > TFTP_BLKSIZE_MAX || x->windowsize < 1 ||
	    x->windowsize > TFTP_WINDOWSIZE_MAX ||
	    x->rto_ms < TFTP_RTO_MIN_MS || x->rto_ms > TFTP_RTO_MAX_MS * 52)
		abort();
	if (out->act == TFTP_ACT_SEND) {
		uint32_t i;

		if (out->first == 0 || out->count == 0 ||
		    out->count > TFTP_SEND_MAX(x->windowsize) + 1 ||
		    out->first + out->count - 1 > x->last ||
		    out->first <= x->acked)
			abort();
		for (i = 0; i < out->count; i++)
			if (tftp_block_len(x, out->first + i) > x->blksize)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t oack[TFTP_REQ_MAX], pkt[4];
	char path[PATH_REQ_MAX + 1];
	const uint8_t *reqp, *p;
	struct tftp_req req, again;
	struct tftp_xfer x;
	struct tftp_out out;
	uint16_t reqlen, cap, v;
	uint32_t fsize;
	uint8_t op, n;
	uint64_t now = 1;
	struct rd rd;
	int events;

	rd_init(&rd, data, size);
	if (rd_u16be(&rd, &reqlen) < 0 || rd_bytes(&rd, reqlen, &reqp) < 0)
		return 0;
	if (tftp_parse_req(reqp, reqlen, &req) < 0)
		return 0;
	if (req.file + req.file_len >= (const char *)reqp + reqlen ||
	    req.file[req.file_len] != '\0')
		abort();
	if (tftp_map_path(req.file, req.file_len, path, sizeof(path)) == 0) {
		uint8_t mac[MAC_LEN];

		(void)tftp_grub_node(path, mac);
	}
	if (rd_u32be(&rd, &fsize) < 0 || rd_u16be(&rd, &cap) < 0)
		return 0;
	if (tftp_xfer_start(&req, fsize, cap, now, &x, &out) < 0)
		return 0;
	check(&x, &out);
	if (out.act == TFTP_ACT_OACK &&
	    tftp_build_oack(&x, oack, sizeof(oack)) < 2)
		abort();
	for (events = 0; events < FUZZ_EVENTS_MAX && x.state != TFTP_ST_DONE;
	     events++) {
		if (rd_u8(&rd, &op) < 0)
			break;
		switch (op & 3) {
		case 0: /* ACK n */
			if (rd_u16be(&rd, &v) < 0)
				return 0;
			pkt[0] = 0;
			pkt[1] = TFTP_ACK;
			pkt[2] = (uint8_t)(v >> 8);
			pkt[3] = (uint8_t)v;
			tftp_xfer_input(&x, pkt, 4, ++now, &out);
			break;
		case 1: /* ACK of the highest block sent */
			pkt[0] = 0;
			pkt[1] = TFTP_ACK;
			pkt[2] = (uint8_t)(x.hi >> 8);
			pkt[3] = (uint8_t)x.hi;
			tftp_xfer_input(&x, pkt, 4, ++now, &out);
			break;
		case 2: /* raw packet; a request is the client's again */
			if (rd_u8(&rd, &n) < 0 || rd_bytes(&rd, n, &p) < 0)
				return 0;
			if (tftp_parse_req(p, n, &again) == 0)
				tftp_xfer_rerequest(&x, &again, ++now, &out);
			else
				tftp_xfer_input(&x, p, n, ++now, &out);
			break;
		default: /* timer */
			now += (uint64_t)(op >> 2) * 500;
			tftp_xfer_timeout(&x, now, &out);
			break;
		}
		check(&x, &out);
	}
	return 0;
}
