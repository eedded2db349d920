/*
 * dhcp.h - DHCP/BOOTP message decoding and encoding (RFC 2131, 2132, 3396,
 * 4578, PXE 2.1). Pure: bytes in, struct out and back. Non-logging.
 *
 * Every read goes through common/rd.h. A message is rejected whole
 * (-EBADMSG) when anything in it is malformed: too short, a wrong magic
 * cookie, an option running past its area, a known option with a length
 * it cannot have (zero-length included), or an option overload (52) that
 * is repeated or appears inside an overloaded area (which could otherwise
 * loop). Addresses are kept in host byte order.
 */
#ifndef MB_DHCP_H
#define MB_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_FIXED_LEN	 236  /* BOOTP header up to the options */
#define DHCP_MIN_LEN	 240  /* header + magic cookie */
#define DHCP_REPLY_MIN	 300  /* pad replies to this (dnsmasq MIN_PACKETSZ) */
#define DHCP_MSG_MAX	 1500 /* largest message we decode or build */
#define DHCP_RFC_MAX	 576  /* every client must accept this much */
#define DHCP_COOKIE	 0x63825363u
#define DHCP_CHADDR_LEN	 16
#define DHCP_SNAME_LEN	 64
#define DHCP_FILE_LEN	 128
#define DHCP_OPT_MAX	 255 /* bytes kept of one (concatenated) option */
#define DHCP_DNS_MAX	 4
#define DHCP_ARCH_MAX	 8
#define DHCP_UUID_LEN	 17 /* option 97: type 0 + 16 bytes */
#define DHCP_FLAG_BCAST	 0x8000
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_PROXY_PORT	 4011
#define DHCP_OP_REQUEST	 1
#define DHCP_OP_REPLY	 2
#define DHCP_HTYPE_ETHER 1

/* Option 53 values. */
enum dhcp_type {
	DHCP_NONE = 0, /* BOOTP: no option 53 */
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* Option codes used here. */
enum dhcp_opt {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_NETMASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_VENDOR = 43,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAMS = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_SIZE = 57,
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_TFTP_SERVER = 66,
	DHCP_OPT_BOOTFILE = 67,
	DHCP_OPT_USER_CLASS = 77,
	DHCP_OPT_ARCH = 93,
	DHCP_OPT_NDI = 94,
	DHCP_OPT_UUID = 97,
	DHCP_OPT_IPXE = 175,
	DHCP_OPT_END = 255,
};

/* A variable-length option kept by value (at most DHCP_OPT_MAX bytes). */
struct dhcp_blob {
	uint16_t len;
	uint8_t data[DHCP_OPT_MAX];
};

/*
 * A decoded or to-be-encoded message. The has_* flags say which options
 * are present; blobs with len 0 are absent. Strings (sname, file, 12, 15,
 * 66, 67) are NUL-terminated; trailing NULs in the packet are dropped.
 */
struct dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[DHCP_CHADDR_LEN];
	char sname[DHCP_SNAME_LEN + 1]; /* empty when overloaded */
	char file[DHCP_FILE_LEN + 1];	/* empty when overloaded */

	uint8_t type;	  /* enum dhcp_type, 53 */
	uint8_t overload; /* 52 as received (0 when absent) */
	bool has_server_id, has_requested_ip, has_lease_time;
	bool has_netmask, has_router, has_broadcast, has_max_size, has_ndi;
	uint32_t server_id, requested_ip, lease_time;
	uint32_t netmask, router, broadcast;
	uint16_t max_size;
	uint32_t dns[DHCP_DNS_MAX];
	size_t n_dns;
	uint16_t arch[DHCP_ARCH_MAX]; /* 93 */
	size_t n_arch;
	uint8_t ndi[3]; /* 94: type, major, minor */
	char hostname[DHCP_OPT_MAX + 1];
	char domain[DHCP_OPT_MAX + 1];
	char tftp_server[DHCP_OPT_MAX + 1]; /* 66 */
	char bootfile[DHCP_OPT_MAX + 1];    /* 67 */
	struct dhcp_blob vendor;	    /* 43, raw */
	struct dhcp_blob vendor_class;	    /* 60 */
	struct dhcp_blob user_class;	    /* 77, raw as sent */
	struct dhcp_blob uuid;		    /* 97 */
	struct dhcp_blob ipxe;		    /* 175, raw */
	struct dhcp_blob params;	    /* 55 */
	struct dhcp_blob client_id;	    /* 61 */
	struct dhcp_blob message;	    /* 56 */
};

/*
 * Decode len bytes at pkt into *ret. Returns 0, or -EBADMSG for any
 * malformation (see the top of this file), leaving *ret untouched.
 */
int dhcp_decode(const uint8_t *pkt, size_t len, struct dhcp_msg *ret);

/*
 * Encode m into buf (cap bytes): header, cookie, the options m carries in
 * a fixed order, END, then zero padding to DHCP_REPLY_MIN bytes. Options
 * 66 and 67 are NUL-terminated inside their length for old PXE ROMs that
 * read one byte too far. Returns the length, or -EMSGSIZE when cap is too
 * small, or -EINVAL for a field that cannot be encoded.
 */
int dhcp_encode(const struct dhcp_msg *m, uint8_t *buf, size_t cap);

/*
 * Start a client's request in *m: BOOTREQUEST, Ethernet, chaddr mac, the
 * transaction id, the broadcast flag (a client without an address yet),
 * message type; every option absent.
 */
void dhcp_request_init(struct dhcp_msg *m, const uint8_t mac[6], uint32_t xid,
		       uint8_t type);

/* True when option code is in the parameter request list (55). */
bool dhcp_requested(const struct dhcp_msg *m, uint8_t code);

/*
 * True when the vendor class (60) begins with prefix (e.g. "PXEClient",
 * "HTTPClient").
 */
bool dhcp_vendor_class_is(const struct dhcp_msg *m, const char *prefix);

/*
 * True when the client is iPXE: option 175 is present or the user class
 * (77) contains "iPXE", raw or RFC 3004 length-prefixed (substring match).
 */
bool dhcp_is_ipxe(const struct dhcp_msg *m);

/*
 * The client architecture: the first entry of option 93, else the Arch
 * field of a "PXEClient:Arch:NNNNN:..." vendor class, else 0 (BIOS) when
 * neither says. *ret_known is false in the last case.
 */
uint16_t dhcp_client_arch(const struct dhcp_msg *m, bool *ret_known);

/* A short name for an option 53 value ("DISCOVER"), "BOOTP" for 0. */
const char *dhcp_type_name(uint8_t type);

#endif
