/*
 * tftp.c - the pure TFTP engine (see tftp.h).
 *
 * Requests are read through common/rd.h, numbers through common/num.h.
 * A transfer is a small state machine driven by three inputs: its start,
 * a packet from its peer, and its retransmission timer. Each returns one
 * action; the caller does the I/O.
 */
#include "tftp.h"

#include "net.h"
#include "num.h"
#include "path.h"
#include "rd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int
tftp_parse_req(const uint8_t *pkt, size_t len, struct tftp_req *ret)
{
	struct tftp_req req;
	const char *names[TFTP_OPTS_MAX];
	struct rd rd;
	uint16_t op;
	size_t n;
	unsigned i;
	int r;

	if (len > TFTP_REQ_MAX)
		return -EMSGSIZE;
	memset(&req, 0, sizeof(req));
	rd_init(&rd, pkt, len);
	r = rd_u16be(&rd, &op);
	if (r < 0)
		return r;
	if (op != TFTP_RRQ && op != TFTP_WRQ)
		return -EPROTO;
	req.opcode = op;
	r = rd_cstr(&rd, TFTP_REQ_MAX, &req.file, &req.file_len);
	if (r < 0)
		return -EBADMSG;
	r = rd_cstr(&rd, TFTP_REQ_MAX, &req.mode, &n);
	if (r < 0)
		return -EBADMSG;
	if (strcasecmp(req.mode, "octet") == 0)
		req.octet = true;
	else if (strcasecmp(req.mode, "netascii") != 0)
		return -EPROTONOSUPPORT; /* "mail" and anything else */

	while (rd_left(&rd) > 0) {
		const char *name, *val;
		size_t nlen, vlen;
		uint64_t v;

		/*
		 * Quirk: some PXE ROMs pad the request with NUL bytes after
		 * the last option; a run of NULs to the end is no option.
		 */
		if (memchr(rd.p, '\0', 1) != NULL) {
			const uint8_t *p;

			for (p = rd.p; p < rd.end && *p == '\0'; p++)
				;
			if (p == rd.end)
				break;
		}
		if (rd_cstr(&rd, TFTP_REQ_MAX, &name, &nlen) < 0 ||
		    rd_cstr(&rd, TFTP_REQ_MAX, &val, &vlen) < 0)
			return -EBADMSG;
		if (req.nopts == TFTP_OPTS_MAX)
			return -E2BIG;
		for (i = 0; i < req.nopts; i++)
			if (strcasecmp(names[i], name) == 0)
				return -EEXIST;
		names[req.nopts++] = name;

		/* Values that do not parse or are out of range: ignored. */
		if (strcasecmp(name, "blksize") == 0) {
			if (num_parse_u64n(val, vlen, TFTP_BLKSIZE_MIN,
					   UINT64_MAX, &v) < 0)
				continue;
			req.has_blksize = true;
			req.blksize = v > TFTP_BLKSIZE_MAX ? TFTP_BLKSIZE_MAX
							   : (unsigned)v;
		} else if (strcasecmp(name, "timeout") == 0) {
			if (num_parse_u64n(val, vlen, TFTP_TIMEOUT_MIN,
					   TFTP_TIMEOUT_MAX, &v) < 0)
				continue;
			req.has_timeout = true;
			req.timeout = (unsigned)v;
		} else if (strcasecmp(name, "tsize") == 0) {
			if (num_parse_u64n(val, vlen, 0, UINT64_MAX, &v) < 0)
				continue;
			req.has_tsize = true;
			req.tsize = v;
		} else if (strcasecmp(name, "windowsize") == 0) {
			if (num_parse_u64n(val, vlen, 1, TFTP_WINDOW_REQ_MAX,
					   &v) < 0)
				continue;
			req.has_windowsize = true;
			req.windowsize = (unsigned)v;
		}
	}
	*ret = req;
	return 0;
}

int
tftp_map_path(const char *file, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;
	int r;

	for (i = 0; i < len; i++) {
		char c = file[i] == '\\' ? '/' : file[i];

		if (c == '/' && o == 0)
			continue; /* leading slashes */
		if (o + 1 >= outsz)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	r = path_check_rel(out, o);
	if (r < 0)
		return r;
	return 0;
}

int
tftp_grub_node(const char *path, uint8_t mac[MAC_LEN])
{
	size_t plen = strlen(TFTP_GRUB_NODES), len = strlen(path);
	char m[MAC_STR_LEN + 1];

	if (len <= plen + 4 || strncmp(path, TFTP_GRUB_NODES, plen) != 0 ||
	    strcmp(path + len - 4, ".cfg") != 0)
		return -ENOENT;
	len -= plen + 4;
	if (len >= sizeof(m))
		return -EINVAL;
	memcpy(m, path + plen, len);
	m[len] = '\0';
	return mac_parse(m, mac) < 0 ? -EINVAL : 0;
}

uint16_t
tftp_errcode(int err, const char **ret_msg)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
		*ret_msg = "File not found";
		return TFTP_ENOTFOUND;
	case -EISDIR:
	case -EPERM:
		*ret_msg = "Not a regular file";
		return TFTP_EACCESS;
	case -EACCES:
		*ret_msg = "Permission denied";
		return TFTP_EACCESS;
	case -EXDEV:
	case -ELOOP:
	case -EINVAL:
	case -ENAMETOOLONG:
		*ret_msg = "Access violation";
		return TFTP_EACCESS;
	case -EROFS:
		*ret_msg = "Read-only server";
		return TFTP_EACCESS;
	case -EFBIG:
		*ret_msg = "File too large for this block size";
		return TFTP_ENOSPACE;
	case -EPROTONOSUPPORT:
		*ret_msg = "Only octet (binary) mode is served";
		return TFTP_EBADOP;
	case -EMSGSIZE:
		*ret_msg = "Request too long";
		return TFTP_EBADOP;
	case -EBADMSG:
	case -EPROTO:
		*ret_msg = "Malformed request";
		return TFTP_EBADOP;
	case -E2BIG:
		*ret_msg = "Too many options";
		return TFTP_EOPTNEG;
	case -EEXIST:
		*ret_msg = "Duplicate option";
		return TFTP_EOPTNEG;
	default:
		*ret_msg = "Internal error";
		return TFTP_EUNDEF;
	}
}

size_t
tftp_build_error(uint8_t *buf, size_t sz, uint16_t code, const char *msg)
{
	size_t n = strnlen(msg, TFTP_ERRMSG_MAX);

	if (sz < TFTP_HDR_LEN + n + 1)
		return 0;
	buf[0] = 0;
	buf[1] = TFTP_ERROR;
	buf[2] = (uint8_t)(code >> 8);
	buf[3] = (uint8_t)code;
	memcpy(buf + TFTP_HDR_LEN, msg, n);
	buf[TFTP_HDR_LEN + n] = '\0';
	return TFTP_HDR_LEN + n + 1;
}

static unsigned
rto_cap(const struct tftp_xfer *x)
{
	return x->timeout_s ? x->timeout_s * 1000u : TFTP_RTO_MAX_MS;
}

static unsigned
clamp_rto(const struct tftp_xfer *x, uint64_t ms)
{
	if (ms < TFTP_RTO_MIN_MS)
		ms = TFTP_RTO_MIN_MS;
	if (ms > rto_cap(x))
		ms = rto_cap(x);
	return (unsigned)ms;
}

/*
 * The timer for the next wait: the base (from the measured round trip)
 * doubled for every timeout in a row. Progress resets the count, so one
 * lost packet does not slow the rest of a lossy transfer (Linux TCP also
 * drops its backoff when new data is acknowledged).
 */
static unsigned
backoff(const struct tftp_xfer *x)
{
	unsigned shift = x->retries < 16 ? x->retries : 16;

	return clamp_rto(x, (uint64_t)x->base_rto_ms << shift);
}

/* RFC 6298 smoothing, in milliseconds. */
static void
rtt_sample(struct tftp_xfer *x, uint64_t now_ms, struct tftp_out *out)
{
	uint64_t s = now_ms >= x->timed_at_ms ? now_ms - x->timed_at_ms : 0;
	unsigned d;

	if (s > 60000)
		s = 60000;
	if (x->srtt_ms == 0 && x->rttvar_ms == 0) {
		x->srtt_ms = (unsigned)s;
		x->rttvar_ms = (unsigned)s / 2;
	} else {
		d = x->srtt_ms > s ? x->srtt_ms - (unsigned)s
				   : (unsigned)s - x->srtt_ms;
		x->rttvar_ms = (3 * x->rttvar_ms + d) / 4;
		x->srtt_ms = (7 * x->srtt_ms + (unsigned)s) / 8;
	}
	x->base_rto_ms = clamp_rto(x, (uint64_t)x->srtt_ms + 4 * x->rttvar_ms);
	x->rto_ms = backoff(x);
	x->timed_at_ms = 0;
	out->rtt_sampled = true;
}

/*
 * Send blocks from x->next up to end (capped at the last block). Blocks at
 * or below hi are resends; they void the pending RTT sample (Karn's rule).
 */
static void
send_range(struct tftp_xfer *x, uint64_t end, uint64_t now_ms, bool retransmit,
	   struct tftp_out *out)
{
	if (end > x->last)
		end = x->last;
	if (x->next > end) {
		out->act = TFTP_ACT_NONE;
		return;
	}
	out->act = TFTP_ACT_SEND;
	out->first = x->next;
	out->count = (uint32_t)(end - x->next + 1);
	out->retransmit = retransmit;
	if (x->next <= x->hi) {
		uint32_t resent = x->hi < end ? x->hi : (uint32_t)end;

		x->retransmits += resent - x->next + 1;
		x->timed_at_ms = 0;
	}
	if (end > x->hi) {
		x->hi = (uint32_t)end;
		if (x->timed_at_ms == 0 && !retransmit) {
			x->timed_block = x->hi;
			x->timed_at_ms = now_ms ? now_ms : 1;
		}
	}
	x->next = (uint32_t)end + 1;
}

/* Send the window: blocks from x->next up to acked + windowsize. */
static void
send_window(struct tftp_xfer *x, uint64_t now_ms, bool retransmit,
	    struct tftp_out *out)
{
	send_range(x, (uint64_t)x->acked + x->windowsize, now_ms, retransmit,
		   out);
}

/*
 * May a gap report restart the window now? (See on_ack.) Once the ACKs
 * reach past the restarted window, yes; otherwise only a round trip
 * after the last restart, and never sooner than TFTP_RTO_MIN_MS: on a
 * fast LAN the smoothed RTT rounds to 0 ms, and a storm of duplicate gap
 * ACKs would then restart a window every millisecond (amplification).
 */
static bool
restart_allowed(struct tftp_xfer *x, uint32_t a, uint64_t now_ms)
{
	uint64_t gap =
		x->srtt_ms > TFTP_RTO_MIN_MS ? x->srtt_ms : TFTP_RTO_MIN_MS;

	if (a >= x->guard_end || now_ms - x->restart_ms > gap)
		x->guard_end = 0;
	return x->guard_end == 0;
}

/* Start the window again after block a (a gap report). */
static void
restart(struct tftp_xfer *x, uint32_t a, uint64_t now_ms, struct tftp_out *out)
{
	x->next = a + 1;
	send_window(x, now_ms, false, out);
	x->guard_end = x->next - 1;
	x->restart_ms = now_ms;
}

int
tftp_xfer_start(const struct tftp_req *req, uint64_t size, unsigned blksize_cap,
		uint64_t now_ms, struct tftp_xfer *ret, struct tftp_out *out)
{
	struct tftp_xfer x;
	uint64_t blocks;

	memset(&x, 0, sizeof(x));
	x.blksize = TFTP_SEGSIZE;
	x.windowsize = 1;
	if (blksize_cap < TFTP_BLKSIZE_MIN)
		blksize_cap = TFTP_BLKSIZE_MIN;
	if (req->has_blksize) {
		x.blksize = req->blksize;
		if (x.blksize > blksize_cap)
			x.blksize = blksize_cap;
		if (x.blksize > TFTP_BLKSIZE_MAX)
			x.blksize = TFTP_BLKSIZE_MAX;
		x.oack_blksize = true;
	}
	if (req->has_timeout) {
		x.timeout_s = req->timeout;
		x.oack_timeout = true;
	}
	/* tsize is meaningless in netascii (tftp-hpa and dnsmasq agree). */
	if (req->has_tsize && req->octet)
		x.oack_tsize = true;
	if (req->has_windowsize) {
		unsigned w = req->windowsize, wmax;

		wmax = TFTP_WINDOW_BYTES_MAX / x.blksize;
		if (wmax > TFTP_WINDOWSIZE_MAX)
			wmax = TFTP_WINDOWSIZE_MAX;
		if (wmax < 1)
			wmax = 1;
		x.windowsize = w < wmax ? w : wmax;
		x.oack_windowsize = true;
	}
	blocks = size / x.blksize + 1;
	if (blocks > UINT32_MAX)
		return -EFBIG;
	x.size = size;
	x.last = (uint32_t)blocks;
	x.base_rto_ms = clamp_rto(&x, TFTP_RTO_INIT_MS);
	x.rto_ms = x.base_rto_ms;
	x.next = 1;

	memset(out, 0, sizeof(*out));
	if (x.oack_blksize || x.oack_timeout || x.oack_tsize ||
	    x.oack_windowsize) {
		x.state = TFTP_ST_OACK;
		x.timed_block = 0;
		x.timed_at_ms = now_ms ? now_ms : 1;
		out->act = TFTP_ACT_OACK;
	} else {
		x.state = TFTP_ST_DATA;
		send_window(&x, now_ms, false, out);
	}
	x.last_progress_ms = now_ms;
	*ret = x;
	return 0;
}

static size_t
put_opt(uint8_t *buf, size_t sz, size_t o, const char *name, uint64_t v)
{
	int n;

	if (o == 0 || o >= sz)
		return 0;
	n = snprintf((char *)buf + o, sz - o, "%s%c%llu", name, '\0',
		     (unsigned long long)v);
	if (n < 0 || (size_t)n + 1 > sz - o)
		return 0;
	return o + (size_t)n + 1; /* and its NUL */
}

size_t
tftp_build_oack(const struct tftp_xfer *x, uint8_t *buf, size_t sz)
{
	size_t o = 2;

	if (sz < 2)
		return 0;
	buf[0] = 0;
	buf[1] = TFTP_OACK;
	if (x->oack_blksize)
		o = put_opt(buf, sz, o, "blksize", x->blksize);
	if (x->oack_tsize)
		o = put_opt(buf, sz, o, "tsize", x->size);
	if (x->oack_timeout)
		o = put_opt(buf, sz, o, "timeout", x->timeout_s);
	if (x->oack_windowsize)
		o = put_opt(buf, sz, o, "windowsize", x->windowsize);
	return o;
}

uint64_t
tftp_block_off(const struct tftp_xfer *x, uint32_t block)
{
	return (uint64_t)(block - 1) * x->blksize;
}

size_t
tftp_block_len(const struct tftp_xfer *x, uint32_t block)
{
	uint64_t off = tftp_block_off(x, block);

	if (block == 0 || block > x->last || off >= x->size)
		return 0;
	return x->size - off < x->blksize ? (size_t)(x->size - off)
					  : x->blksize;
}

void
tftp_data_hdr(uint8_t hdr[TFTP_HDR_LEN], uint32_t block)
{
	hdr[0] = 0;
	hdr[1] = TFTP_DATA;
	hdr[2] = (uint8_t)(block >> 8);
	hdr[3] = (uint8_t)block;
}

bool
tftp_ack_map(const struct tftp_xfer *x, uint16_t ack, uint32_t *ret)
{
	uint64_t c = (x->acked & ~(uint64_t)0xffff) | ack;

	/*
	 * The window is at most TFTP_WINDOWSIZE_MAX blocks, far below 2^16,
	 * so the one candidate above acked is the block meant; anything
	 * else is stale (at or below acked) or was never sent.
	 */
	if (c <= x->acked)
		c += 0x10000;
	if (c > x->hi)
		return false;
	*ret = (uint32_t)c;
	return true;
}

static void
on_ack(struct tftp_xfer *x, uint16_t ack, uint64_t now_ms, struct tftp_out *out)
{
	uint32_t a;

	if (x->state == TFTP_ST_OACK) {
		/* Only ACK 0 accepts the OACK; others wait for the timer. */
		if (ack != 0)
			return;
		if (x->timed_at_ms != 0)
			rtt_sample(x, now_ms, out);
		x->state = TFTP_ST_DATA;
		x->retries = 0;
		x->rto_ms = backoff(x);
		x->last_progress_ms = now_ms;
		send_window(x, now_ms, false, out);
		return;
	}
	if (!tftp_ack_map(x, ack, &a)) {
		/*
		 * A duplicate or stale ACK is ignored: no sorcerer's
		 * apprentice. With a window, though, the same ACK again while
		 * later blocks are out is the receiver reporting a gap (or
		 * its timeout) once more - RFC 7440 receivers ACK only at a
		 * window's end otherwise - so the window restarts after it,
		 * within the same once-per-round-trip limit.
		 */
		if (x->windowsize > 1 && ack == (uint16_t)x->acked &&
		    x->hi > x->acked && restart_allowed(x, x->acked, now_ms))
			restart(x, x->acked, now_ms, out);
		return;
	}
	if (x->timed_at_ms != 0 && a >= x->timed_block)
		rtt_sample(x, now_ms, out);
	x->acked = a;
	x->retries = 0;
	x->rto_ms = backoff(x);
	x->last_progress_ms = now_ms;
	if (a == x->last) {
		x->state = TFTP_ST_DONE;
		out->act = TFTP_ACT_DONE;
		return;
	}
	if (a < x->hi && restart_allowed(x, a, now_ms)) {
		/*
		 * RFC 7440: an ACK short of what was sent marks a gap (or the
		 * receiver's timeout); the next window starts after it. At
		 * most once per window or per round trip, so that a peer
		 * acknowledging every block cannot make us resend a window
		 * per ACK: the ACKs that count are those sent after the
		 * restarted window reached the peer.
		 */
		restart(x, a, now_ms, out);
		return;
	}
	if (x->next <= a)
		x->next = a + 1;
	send_window(x, now_ms, false, out);
}

void
tftp_xfer_input(struct tftp_xfer *x, const uint8_t *pkt, size_t len,
		uint64_t now_ms, struct tftp_out *out)
{
	uint16_t op, arg;
	struct rd rd;

	memset(out, 0, sizeof(*out));
	out->act = TFTP_ACT_NONE;
	if (x->state == TFTP_ST_DONE)
		return;
	rd_init(&rd, pkt, len);
	/* Short packets are dropped (iPXE checks every receive path). */
	if (rd_u16be(&rd, &op) < 0 || rd_u16be(&rd, &arg) < 0)
		return;
	switch (op) {
	case TFTP_ACK:
		on_ack(x, arg, now_ms, out);
		break;
	case TFTP_ERROR:
		out->act = TFTP_ACT_ABORT;
		out->code = arg;
		/*
		 * EDK II reads tsize from the OACK, then refuses it with
		 * ERROR 8 and asks again: a normal end, not a failure.
		 */
		out->probe = x->state == TFTP_ST_OACK && arg == TFTP_EOPTNEG;
		x->state = TFTP_ST_DONE;
		break;
	default:
		/*
		 * DATA, OACK or a request on a transfer port, from the right
		 * peer: not ours to act on. Dropped rather than answered with
		 * ERROR 4, so that a stray packet cannot end a transfer.
		 */
		break;
	}
}

void
tftp_xfer_rerequest(struct tftp_xfer *x, const struct tftp_req *req,
		    uint64_t now_ms, struct tftp_out *out)
{
	bool opts = req->has_blksize || req->has_timeout ||
		    (req->has_tsize && req->octet) || req->has_windowsize;
	struct tftp_req plain = { .opcode = TFTP_RRQ, .octet = true };
	struct tftp_xfer nx;

	memset(out, 0, sizeof(*out));
	out->act = TFTP_ACT_NONE;
	if (x->state != TFTP_ST_OACK)
		return;
	x->rerequests++;
	/*
	 * The fallback is the transfer an option-less request starts; a file
	 * too big for 2^32-1 blocks of 512 (2 TiB) keeps its OACK.
	 */
	if ((opts && x->rerequests < TFTP_REREQ_FALLBACK) ||
	    tftp_xfer_start(&plain, x->size, TFTP_BLKSIZE_MAX, now_ms, &nx,
			    out) < 0) {
		x->retransmits++;
		memset(out, 0, sizeof(*out));
		out->act = TFTP_ACT_OACK;
		out->retransmit = true;
		return;
	}
	nx.retransmits = x->retransmits;
	nx.rerequests = x->rerequests;
	nx.fell_back = true;
	*x = nx;
}

void
tftp_xfer_timeout(struct tftp_xfer *x, uint64_t now_ms, struct tftp_out *out)
{
	memset(out, 0, sizeof(*out));
	out->act = TFTP_ACT_NONE;
	if (x->state == TFTP_ST_DONE)
		return;
	x->retries++;
	if (x->retries > TFTP_RETRIES_MAX &&
	    now_ms - x->last_progress_ms >= TFTP_GIVEUP_MIN_MS) {
		x->state = TFTP_ST_DONE;
		out->act = TFTP_ACT_TIMEOUT;
		return;
	}
	x->rto_ms = backoff(x);
	x->timed_at_ms = 0;
	if (x->state == TFTP_ST_OACK) {
		x->retransmits++;
		out->act = TFTP_ACT_OACK;
		out->retransmit = true;
		return;
	}
	x->guard_end = 0;
	if (x->windowsize > 1 && x->retries % 2 == 0 &&
	    (uint64_t)x->acked + x->windowsize < x->last) {
		uint64_t pend = (uint64_t)x->hi + x->windowsize;

		/*
		 * Every other timeout with a window, probe past the first
		 * window: send what follows it and a new window after the
		 * highest block sent (at most TFTP_PROBE_WINDOWS windows past
		 * the last acknowledged block). When
		 * the receiver already holds the first window and only its
		 * ACKs were lost, resending that window gets no answer from
		 * receivers that drop old blocks silently and whose timer
		 * every packet restarts (atftp): both sides would wait for
		 * the other. Wherever such a receiver stopped, the probe
		 * carries its next block in order, so it moves on and
		 * acknowledges; a receiver missing the first window reports
		 * the gap and the window restarts.
		 */
		if (pend >
		    (uint64_t)x->acked + TFTP_PROBE_WINDOWS * x->windowsize)
			pend = (uint64_t)x->acked +
			       TFTP_PROBE_WINDOWS * x->windowsize;
		x->next = x->acked + x->windowsize + 1;
		send_range(x, pend, now_ms, true, out);
		return;
	}
	x->next = x->acked + 1;
	send_window(x, now_ms, true, out);
}
