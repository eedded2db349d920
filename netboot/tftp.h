/*
 * tftp.h - the TFTP engine: read-only RFC 1350 with option negotiation
 * (RFC 2347 OACK; blksize RFC 2348, timeout and tsize RFC 2349, windowsize
 * RFC 7440). Pure: packets and clock readings in, decisions out; no
 * sockets, no files, no logging. tftp_io.c does the I/O around it.
 *
 * A transfer counts blocks with a 32-bit counter and puts its low 16 bits
 * on the wire, so block 65535 is followed by block 0 (iPXE, U-Boot and
 * tftp-hpa expect that); ACK numbers are mapped back onto the window.
 */
#ifndef MB_NB_TFTP_H
#define MB_NB_TFTP_H

#include "net.h" /* MAC_LEN */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes (RFC 1350, RFC 2347). */
#define TFTP_RRQ   1
#define TFTP_WRQ   2
#define TFTP_DATA  3
#define TFTP_ACK   4
#define TFTP_ERROR 5
#define TFTP_OACK  6

/* Error codes. */
#define TFTP_EUNDEF    0 /* not defined, see message */
#define TFTP_ENOTFOUND 1 /* file not found */
#define TFTP_EACCESS   2 /* access violation */
#define TFTP_ENOSPACE  3 /* disk full or allocation exceeded */
#define TFTP_EBADOP    4 /* illegal TFTP operation */
#define TFTP_EBADID    5 /* unknown transfer ID */
#define TFTP_EEXISTS   6 /* file already exists */
#define TFTP_ENOUSER   7 /* no such user */
#define TFTP_EOPTNEG   8 /* option negotiation refused (RFC 2347) */

#define TFTP_PORT		  69
#define TFTP_HDR_LEN		  4   /* opcode + block number */
#define TFTP_SEGSIZE		  512 /* RFC 1350 block size */
#define TFTP_REQ_MAX		  512 /* RFC 2347: a request fits in 512 bytes */
#define TFTP_OPTS_MAX		  16  /* option pairs in one request */
#define TFTP_OPTNAME_MAX	  32  /* bytes in an option name we look at */
#define TFTP_ERRMSG_MAX		  128 /* bytes of message in an ERROR we send */
#define TFTP_PKT_MAX		  (TFTP_HDR_LEN + TFTP_BLKSIZE_MAX)
#define TFTP_BLKSIZE_MIN	  8	/* RFC 2348 */
#define TFTP_BLKSIZE_MAX	  65464 /* RFC 2348 */
#define TFTP_IP_UDP_OVERHEAD	  32	/* IPv4 20 + UDP 8 + TFTP 4 (dnsmasq) */
#define TFTP_TIMEOUT_MIN	  1	/* RFC 2349, seconds */
#define TFTP_TIMEOUT_MAX	  255
#define TFTP_WINDOW_REQ_MAX	  65535 /* RFC 7440 range */
/*
 * Our cap on windowsize (dnsmasq uses 32), and on the bytes of one window,
 * so that a burst fits the receive buffer of a default Linux socket
 * (rmem_default is about 208 KiB of skb truesize).
 */
#define TFTP_WINDOWSIZE_MAX	  64
/*
 * A loss probe (see tftp_xfer_timeout) reaches at most this many windows
 * past the last acknowledged block, sending up to TFTP_SEND_MAX blocks in
 * one TFTP_ACT_SEND (callers size their send arrays for that).
 */
#define TFTP_PROBE_WINDOWS	  3
#define TFTP_SEND_MAX(windowsize) ((TFTP_PROBE_WINDOWS - 1) * (windowsize))
#define TFTP_WINDOW_BYTES_MAX	  (128u * 1024)

/*
 * Retransmission (RFC 1123 4.2.3.2: adaptive). The retransmission timeout
 * starts at TFTP_RTO_INIT_MS, follows the measured round trip (RFC 6298,
 * Karn's rule) within [TFTP_RTO_MIN_MS, cap], and doubles for every
 * timeout in a row (progress resets the doubling).
 * The cap is the client's timeout option when it gave one, else
 * TFTP_RTO_MAX_MS: retransmitting earlier than the agreed interval is
 * harmless, as duplicates never cause more sends, and it keeps lossy links
 * fast. After TFTP_RETRIES_MAX timeouts in a row and TFTP_GIVEUP_MIN_MS
 * without progress the client is taken to be gone.
 */
#define TFTP_RTO_INIT_MS    1000
#define TFTP_RTO_MIN_MS	    20
#define TFTP_RTO_MAX_MS	    5000
#define TFTP_RETRIES_MAX    8
#define TFTP_GIVEUP_MIN_MS  30000 /* and this long without progress */
/*
 * The client's request again, from the same TID, with no ACK 0 for our
 * OACK: the first time the OACK is sent again at once (it may have been
 * lost); at this count the client is taken to ignore OACKs, and the
 * transfer falls back to RFC 1350 defaults (DATA 1, 512-byte blocks).
 */
#define TFTP_REREQ_FALLBACK 2

/* A parsed request. Strings are views into the packet (borrowed). */
struct tftp_req {
	uint16_t opcode;  /* TFTP_RRQ or TFTP_WRQ */
	const char *file; /* NUL-terminated, in the packet */
	size_t file_len;
	const char *mode; /* NUL-terminated, in the packet */
	bool octet;	  /* mode is octet (else netascii) */
	/* Options the client asked for with a usable value. */
	bool has_blksize, has_timeout, has_tsize, has_windowsize;
	unsigned blksize;    /* as requested, clamped to 8..65464 */
	unsigned timeout;    /* 1..255 */
	uint64_t tsize;	     /* the client's value (0 in an RRQ) */
	unsigned windowsize; /* 1..65535 */
	unsigned nopts;	     /* option pairs seen (also ignored ones) */
};

/*
 * Parse an RRQ or WRQ of len bytes. Unknown options and options with a
 * value out of their range are ignored, as RFC 2347 lets a server do
 * (never acknowledged). Returns 0 and fills *ret, or leaves it untouched
 * and returns:
 *   -EMSGSIZE  longer than TFTP_REQ_MAX
 *   -EBADMSG   truncated, a string without its NUL, an option without a
 *              value
 *   -EPROTO    not a request (any other opcode)
 *   -EPROTONOSUPPORT  mode not octet/netascii ("mail" is refused too)
 *   -E2BIG     more than TFTP_OPTS_MAX options
 *   -EEXIST    the same option twice
 */
int tftp_parse_req(const uint8_t *pkt, size_t len, struct tftp_req *ret);

/*
 * Map a requested file name onto a path relative to the TFTP root, into
 * out (outsz bytes, NUL-terminated). The rules (the common tftp-hpa remap
 * rules, built in):
 *   1. every backslash becomes '/' (Windows-style names from PXE ROMs,
 *      tftp-hpa's "rg \\ /");
 *   2. leading '/' are dropped ("/pxelinux.0" and "pxelinux.0" are the
 *      same file, as with tftp-hpa -s);
 *   3. the result must pass path_check_rel(): no empty, "." or ".."
 *      component, no control byte, at most PATH_REQ_MAX bytes.
 * Returns 0, -EINVAL (refused) or -ENAMETOOLONG.
 */
int tftp_map_path(const char *file, size_t len, char *out, size_t outsz);

#define TFTP_GRUB_NODES "grub/nodes/" /* + MAC + ".cfg" */

/*
 * A mapped path naming a machine's GRUB configuration (Secure Boot,
 * docs/netboot.md): "grub/nodes/MAC.cfg", MAC as GRUB's $net_default_mac
 * spells it (52:54:00:00:01:01; dashes and upper case also taken). The
 * server answers it from OUT/boot/NAME.grub.cfg of the machine with that
 * MAC. Returns 0 with mac filled, -ENOENT for any other path, -EINVAL
 * when the MAC part is not a MAC address.
 */
int tftp_grub_node(const char *path, uint8_t mac[MAC_LEN]);

/*
 * The TFTP error for a negative errno from tftp_map_path, path_open_under
 * or the transfer start, with a short fixed message (*ret_msg, static).
 */
uint16_t tftp_errcode(int err, const char **ret_msg);

/*
 * Write an ERROR packet into buf (sz bytes). The message is truncated to
 * TFTP_ERRMSG_MAX bytes. Returns its length, or 0 when buf is too small.
 */
size_t tftp_build_error(uint8_t *buf, size_t sz, uint16_t code,
			const char *msg);

enum tftp_state {
	TFTP_ST_OACK, /* OACK sent, waiting for ACK 0 */
	TFTP_ST_DATA, /* sending data */
	TFTP_ST_DONE, /* finished, completed or failed */
};

/* One outgoing transfer. Plain data; the caller owns the memory. */
struct tftp_xfer {
	enum tftp_state state;
	/* Negotiated (what the OACK said, or the RFC 1350 defaults). */
	unsigned blksize;
	unsigned windowsize;
	unsigned timeout_s; /* 0: the client gave no timeout option */
	bool oack_blksize, oack_timeout, oack_tsize, oack_windowsize;
	uint64_t size; /* file size */
	/* Blocks, counted from 1 with 32 bits; last is the short one. */
	uint32_t last;
	uint32_t acked;	     /* every block <= acked is acknowledged */
	uint32_t next;	     /* next block to send */
	uint32_t hi;	     /* highest block sent so far */
	uint32_t guard_end;  /* after a gap restart: its window end, else 0 */
	uint64_t restart_ms; /* when the last gap restart happened */
	uint64_t last_progress_ms;
	/* Retransmission. */
	unsigned retries;	     /* timeouts in a row without progress */
	unsigned rto_ms;	     /* the wait now: base_rto_ms << retries */
	unsigned base_rto_ms;	     /* from the measured round trip */
	unsigned srtt_ms, rttvar_ms; /* 0/0 until the first sample */
	uint32_t timed_block;	     /* block whose ACK gives an RTT sample */
	uint64_t timed_at_ms;	     /* 0: no sample pending */
	uint32_t retransmits;	     /* totals, for counters and logs */
	unsigned rerequests;	     /* the request again, while in OACK */
	bool fell_back;		     /* OACK ignored: RFC 1350 defaults */
};

/* What the caller must do after an event. */
enum tftp_act {
	TFTP_ACT_NONE,	  /* nothing (packet ignored, or wait) */
	TFTP_ACT_OACK,	  /* send the OACK (tftp_build_oack) */
	TFTP_ACT_SEND,	  /* send blocks first .. first+count-1, count <=
			   * TFTP_SEND_MAX(windowsize) */
	TFTP_ACT_DONE,	  /* last block acknowledged: free the transfer */
	TFTP_ACT_ABORT,	  /* the client sent ERROR: free, send nothing */
	TFTP_ACT_TIMEOUT, /* retries exhausted: free (client vanished) */
};

struct tftp_out {
	enum tftp_act act;
	uint32_t first, count; /* TFTP_ACT_SEND */
	bool retransmit;       /* TFTP_ACT_SEND/OACK caused by a timeout */
	uint16_t code;	       /* ABORT: the client's error code */
	bool probe;	       /* ABORT: ERROR 8 right after our OACK */
	bool rtt_sampled;      /* an RTT sample was taken */
};

/*
 * Negotiate a read transfer of a file of size bytes for request req.
 * blksize_cap is the largest block the path allows (interface MTU minus
 * TFTP_IP_UDP_OVERHEAD; pass TFTP_BLKSIZE_MAX when unknown); a requested
 * blksize above it is lowered to it. Fills *ret and sets *out to the first
 * packets to send (OACK when an option was accepted, else DATA 1). Returns
 * 0, or -EFBIG when the file needs more than 2^32-1 blocks (ERROR 3).
 */
int tftp_xfer_start(const struct tftp_req *req, uint64_t size,
		    unsigned blksize_cap, uint64_t now_ms,
		    struct tftp_xfer *ret, struct tftp_out *out);

/*
 * Write the OACK for x into buf (sz bytes): only options the client asked
 * for and we accepted, never another. Returns its length, or 0 when buf is
 * too small.
 */
size_t tftp_build_oack(const struct tftp_xfer *x, uint8_t *buf, size_t sz);

/* Bytes of file data in block n (0 for the empty final block). */
size_t tftp_block_len(const struct tftp_xfer *x, uint32_t block);

/* File offset of block n (n >= 1). */
uint64_t tftp_block_off(const struct tftp_xfer *x, uint32_t block);

/* Write the DATA header of block n (its low 16 bits) into hdr. */
void tftp_data_hdr(uint8_t hdr[TFTP_HDR_LEN], uint32_t block);

/*
 * A packet of len bytes arrived from the transfer's own peer (the caller
 * checks the TID). Handles ACK (in window: advance and send more; stale or
 * duplicate: ignore, never resend - RFC 1123's sorcerer's apprentice),
 * ERROR (abort; ERROR 8 after the OACK is a probe end) and anything else
 * (dropped: a stray packet must not end a transfer). Fills *out.
 */
void tftp_xfer_input(struct tftp_xfer *x, const uint8_t *pkt, size_t len,
		     uint64_t now_ms, struct tftp_out *out);

/*
 * The retransmission timer fired: resend the OACK or the window after the
 * last acknowledged block, with the timeout doubled, or give up after
 * TFTP_RETRIES_MAX. Fills *out.
 */
void tftp_xfer_timeout(struct tftp_xfer *x, uint64_t now_ms,
		       struct tftp_out *out);

/*
 * The client sent a request for the same file again from the transfer's
 * TID (req, parsed) before acknowledging anything. While our OACK waits
 * for its ACK 0: a request without any option we would accept means the
 * client gave options up, and one repeated TFTP_REREQ_FALLBACK times
 * means it ignores OACKs (RFC 1350 clients that were handed options, old
 * ROMs); either way the transfer falls back to the RFC 1350 defaults
 * (blksize 512, windowsize 1, no OACK) and sends DATA 1, which RFC 2347
 * clients must accept as "options not supported". A first repeat of the
 * same request resends the OACK. Once DATA flows, a repeat is ignored
 * (the timer resends what was lost). Fills *out.
 */
void tftp_xfer_rerequest(struct tftp_xfer *x, const struct tftp_req *req,
			 uint64_t now_ms, struct tftp_out *out);

/* Map a 16-bit ACK onto the 32-bit block counter; false: outside. */
bool tftp_ack_map(const struct tftp_xfer *x, uint16_t ack, uint32_t *ret);

#endif
