/*
 * proto.h - the boot-storm generator's packets, pure: what a PXE machine
 * sends and how it reads the answers (DHCP through netboot/dhcp.c's codec,
 * a TFTP read client, HTTP/1.1 response heads, the iPXE script's kernel and
 * initrd lines), and the percentiles of the report. No sockets, no clock,
 * no logging: io.c does the I/O around it.
 *
 * Every function that reads network input takes (bytes, length), checks
 * lengths before reading, and on failure returns a negative errno and sets
 * *ret_why to a constant string naming the field at fault.
 */
#ifndef MB_STORM_PROTO_H
#define MB_STORM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORM_MAC_LEN	    6
#define STORM_UUID_LEN	    16
#define STORM_URL_MAX	    256	  /* bytes of a URL or a file name we keep */
#define STORM_HTTP_HEAD_MAX 8192  /* bytes of a response head */
#define STORM_SCRIPT_MAX    16384 /* bytes of an iPXE script */
#define STORM_TFTP_BLKSIZE  1468  /* what iPXE asks for on Ethernet */
#define STORM_TFTP_PKT_MAX  (4 + 65464)
#define STORM_TFTP_REQ_MAX  512

/* One simulated machine's identity, as its firmware would present it. */
struct storm_pxe {
	uint8_t mac[STORM_MAC_LEN];
	uint16_t arch; /* option 93: 0 BIOS, 7 x64 UEFI */
	uint8_t uuid[STORM_UUID_LEN];
	bool ipxe; /* the second DHCP, from iPXE: options 77 and 175 */
};

/* What a DHCP reply told us. */
struct storm_dhcp_reply {
	uint32_t xid;
	uint8_t mac[STORM_MAC_LEN];
	uint8_t type; /* DHCP_OFFER, DHCP_ACK or DHCP_NAK */
	uint32_t yiaddr, server_id, netmask, next_server;
	char bootfile[STORM_URL_MAX]; /* option 67, else the file field */
	char message[STORM_URL_MAX];  /* option 56 of a NAK */
};

/*
 * Build a DISCOVER (type 1) or REQUEST (type 3) of machine m into buf (cap
 * bytes): broadcast flag, option 60 "PXEClient:Arch:NNNNN:UNDI:002001", 93,
 * 94, 97 and the parameter list PXE firmware sends; with m->ipxe also
 * option 77 "iPXE" and an option 175 as iPXE sends it. A REQUEST carries
 * requested_ip (50) and server_id (54). Returns the length, or -EMSGSIZE
 * or -EINVAL.
 */
int storm_dhcp_build(const struct storm_pxe *m, uint8_t type, uint32_t xid,
		     uint32_t requested_ip, uint32_t server_id, uint8_t *buf,
		     size_t cap);

/*
 * Decode a DHCP reply. It must be a BOOTREPLY for Ethernet with an OFFER,
 * ACK or NAK; an OFFER or ACK must carry a server id (54) and an address.
 * Returns 0 and fills *ret, or -EBADMSG / -EPROTO with *ret_why set.
 */
int storm_dhcp_parse(const uint8_t *pkt, size_t len,
		     struct storm_dhcp_reply *ret, const char **ret_why);

/*
 * Expand the iPXE settings a DHCP filename may hold (iPXE expands them:
 * autoboot.c): ${mac} and ${net0/mac} become the MAC, colon-separated hex.
 * Returns 0, or -ENAMETOOLONG when out (outsz bytes) is too small.
 */
int storm_expand_mac(const char *in, const uint8_t mac[STORM_MAC_LEN],
		     char *out, size_t outsz);

/* An http:// URL with a dotted-quad host. */
struct storm_url {
	uint32_t ip; /* host byte order */
	uint16_t port;
	char path[STORM_URL_MAX]; /* begins with '/' */
};

/*
 * Parse "http://A.B.C.D[:PORT]/PATH". Returns 0 and fills *ret, or
 * -EINVAL (*ret_why names the part) or -ENAMETOOLONG.
 */
int storm_url_parse(const char *s, struct storm_url *ret, const char **ret_why);

/*
 * TFTP read client (RFC 1350, options RFC 2347-2349, windowsize RFC 7440).
 * The caller sends storm_tftp_rrq()'s packet, then feeds every packet from
 * the server's TID to storm_tftp_input() and sends the ACK it asks for.
 */
struct storm_tftp {
	unsigned blksize, windowsize; /* in force (512 and 1 until an OACK) */
	unsigned want_blksize, want_windowsize;
	uint32_t next; /* the block number expected next (32-bit count) */
	uint64_t bytes, tsize;
	bool started; /* an OACK or DATA seen */
	bool done;
};

enum storm_tftp_act {
	STORM_TFTP_WAIT, /* nothing to send */
	STORM_TFTP_ACK,	 /* send the ACK in ack[] */
	STORM_TFTP_DONE, /* send the ACK, the file is complete */
};

/*
 * Start a transfer of file asking for blksize and (when > 1) windowsize
 * and tsize; the request goes to buf (cap bytes). Returns its length, or
 * -ENAMETOOLONG / -EMSGSIZE.
 */
int storm_tftp_rrq(struct storm_tftp *t, const char *file, unsigned blksize,
		   unsigned windowsize, uint8_t *buf, size_t cap);

/*
 * Feed one packet from the server. Returns an enum storm_tftp_act (ack[4]
 * filled for ACK and DONE), or a negative errno with *ret_why set: -EIO
 * for an ERROR packet (*ret_why is then "TFTP ERROR", and errmsg, when not
 * NULL, gets the server's message, errsz bytes), -EBADMSG for a short or
 * malformed packet, -EPROTO for an OACK option we did not ask for or with
 * a value larger than asked, or a block larger than the block size.
 */
int storm_tftp_input(struct storm_tftp *t, const uint8_t *pkt, size_t len,
		     uint8_t ack[4], char *errmsg, size_t errsz,
		     const char **ret_why);

/* The ACK for the last block received (sent again on a timeout). */
void storm_tftp_last_ack(const struct storm_tftp *t, uint8_t ack[4]);

/* A parsed HTTP/1.x response head. */
struct storm_http_resp {
	unsigned status;
	bool has_length;
	uint64_t length; /* Content-Length */
	bool close;	 /* the server closes after this response */
	size_t head_len; /* bytes up to and including the blank line */
};

/*
 * Parse the response head at the start of buf (len bytes). Returns 0 and
 * fills *ret; -EAGAIN when the blank line has not arrived yet (and len <
 * STORM_HTTP_HEAD_MAX); -E2BIG past that; -EBADMSG (status line, a header
 * line, Content-Length) or -EPROTONOSUPPORT (chunked) with *ret_why set.
 */
int storm_http_head(const char *buf, size_t len, struct storm_http_resp *ret,
		    const char **ret_why);

/*
 * Write an HTTP/1.1 request (keep-alive) for path on host:port into buf
 * (cap bytes), with a JSON body when body is not NULL. Returns the length
 * or -EMSGSIZE.
 */
int storm_http_request(char *buf, size_t cap, const char *method, uint32_t host,
		       uint16_t port, const char *path, const char *body);

/*
 * The kernel and initrd URLs of an iPXE script (len bytes): the first
 * argument of its first "kernel" and "initrd" lines (options "--name X"
 * skipped), with ${NAME} replaced by the value of an earlier "set NAME
 * VALUE". The script must begin with "#!ipxe". Returns 0, or -EBADMSG /
 * -ENOENT (no kernel line) / -ENAMETOOLONG with *ret_why set.
 */
int storm_ipxe_files(const char *script, size_t len, char kernel[STORM_URL_MAX],
		     char initrd[STORM_URL_MAX], const char **ret_why);

/*
 * The p-th percentile (0..100, nearest rank) of v (n values, sorted
 * ascending); 0 when n is 0.
 */
double storm_percentile(const double *v, size_t n, double p);

#endif
