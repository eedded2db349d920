/*
 * dhcp_policy.h - what to answer to a DHCP message: pure decisions.
 *
 * Input: a decoded message, the port it arrived on, the configuration
 * (mode, addresses, reservations, pool) and the lease table; output: a
 * reply to send (or none), where to send it, and a one-line account of
 * the decision for the caller to log. The lease table is updated in place;
 * the decision says when it changed in a way worth saving. No sockets, no
 * files, no clock (now is passed in), no logging.
 *
 * Full mode (RFC 2131): DISCOVER -> OFFER, REQUEST -> ACK/NAK,
 * DECLINE/RELEASE -> table update, INFORM -> ACK without an address.
 * Addresses come from the inventory's reservations (MAC -> IP), else for
 * machines not in the inventory, when unknown = discover, from the pool.
 *
 * Proxy mode (PXE 2.1 proxyDHCP): only clients whose option 60 starts with
 * PXEClient or HTTPClient are answered, always with yiaddr 0 and no lease,
 * netmask or router, so the site's DHCP server keeps handing out
 * addresses; on port 67 DISCOVER -> OFFER, on port 4011 REQUEST -> ACK.
 *
 * Boot files (PROTOCOLS.md §2.4-2.6, §3):
 *   iPXE (user class iPXE or option 175)  http://S:P/boot/MAC.ipxe
 *   UEFI HTTP boot (60 HTTPClient, 93 15-19)  http://S:P/files/ipxe/...efi
 *   arch 0 BIOS                           ipxe/undionly.kpxe by TFTP
 *   arch 7, 9 x64 UEFI                    ipxe/ipxe.efi (or snponly.efi)
 *   arch 11 arm64 UEFI                    conf->efi_arm64 when set
 * A machine the inventory marks secure_boot gets, for x64 UEFI PXE (arch
 * 7, 9) and HTTP boot (15, 16), secureboot/shimx64.efi instead of iPXE:
 * Microsoft-signed shim, which loads the Debian-signed GRUB beside it,
 * which reads grub/grub.cfg and then the machine's grub/nodes/MAC.cfg.
 * The firmware cannot say whether Secure Boot is on; the inventory does.
 * Unknown machines get nothing (unknown = ignore) or, with unknown =
 * discover, the same chain to /boot/MAC.ipxe, where the HTTP side serves
 * a discovery script.
 *
 * Relays (RFC 1542): a request with a giaddr is answered only when giaddr
 * is a relay listed in the configuration, and then in that relay's
 * subnet: its pool, its gateway, and a reservation only when it lies in
 * that subnet. Any other giaddr is dropped (counted, notable).
 *
 * DECLINE (RFC 2131 §4.3.3) parks an address only when it comes from the
 * MAC that holds or was just offered it, and only for a pool address that
 * no inventory machine has reserved: nobody can take another machine's
 * lease or reservation away by declining it.
 */
#ifndef MB_DHCP_POLICY_H
#define MB_DHCP_POLICY_H

#include "dhcp.h"
#include "inventory.h" /* enum dhcp_mode */
#include "leases.h"
#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_OFFER_HOLD	    60	  /* s an offered address stays reserved */
#define DHCP_DECLINE_HOLD   600	  /* s a declined address is not offered */
#define DHCP_POOL_SCAN	    65536 /* pool addresses used at most (a /16) */
#define DHCP_LEASE_MIN	    60	  /* s, shortest lease we grant */
#define DHCP_NAME_MAX	    64	  /* node names in option 12 */
#define DHCP_PATH_MAX	    128	  /* boot file names (BOOTP file field) */
#define DHCP_REASON_MAX	    160	  /* the decision's log line */
#define DHCP_ARCH_DESC	    32	  /* the architecture part of the log line */
#define DHCP_METRICS_MAX    (1 << 16) /* bytes of dhcp_metrics_render text */
#define DHCP_IPXE_PATH	    "ipxe/"
#define DHCP_BIOS_LOADER    "undionly.kpxe"
#define DHCP_EFI_LOADER	    "ipxe.efi"
#define DHCP_SNP_LOADER	    "snponly.efi"
#define DHCP_SB_LOADER	    "secureboot/shimx64.efi" /* signed shim */
#define DHCP_RELAYS_MAX	    64 /* relays listed in netboot.yaml */
#define DHCP_LOG_BURST	    10 /* refusal lines of one kind at once */
#define DHCP_LOG_PER_MIN    6  /* then this many a minute per kind */
#define DHCP_REFUSE_KINDS_N 9  /* enum dhcp_refusal values */

enum dhcp_unknown {
	DHCP_UNKNOWN_IGNORE = 0,
	DHCP_UNKNOWN_DISCOVER = 1,
};

/* One inventory machine: its fixed address and name. */
struct dhcp_host {
	uint8_t mac[MAC_LEN];
	uint32_t ip;
	char name[DHCP_NAME_MAX];
	bool secure_boot; /* x64 UEFI: the signed shim, not iPXE */
};

/* A DHCP relay agent we answer, and the subnet it relays for. */
struct dhcp_relay {
	uint32_t address;   /* its giaddr */
	struct cidr subnet; /* the clients' subnet (option 1, 28) */
	uint32_t gateway;   /* option 3; 0 = none */
	bool has_pool;
	struct ip_range pool; /* for machines not in the inventory */
};

/* Everything the policy needs to know; all addresses in host order. */
struct dhcp_conf {
	enum dhcp_mode mode;
	enum dhcp_unknown unknown;
	uint32_t server_ip; /* siaddr, option 54, URLs */
	struct cidr subnet; /* option 1 and 28 */
	uint32_t gateway;   /* option 3; 0 = none */
	uint32_t dns[DHCP_DNS_MAX];
	size_t n_dns;
	bool has_pool;
	struct ip_range pool;
	uint32_t lease_time; /* seconds */
	uint16_t http_port;
	bool efi_snponly;	       /* x64 UEFI PXE gets snponly.efi */
	char efi_arm64[DHCP_PATH_MAX]; /* TFTP path for arm64, "" = none */
	const struct dhcp_host *hosts; /* borrowed */
	size_t n_hosts;
	const struct dhcp_relay *relays; /* borrowed */
	size_t n_relays;
};

/* The kind of boot answer given, for logs and tests. */
enum dhcp_boot {
	DHCP_BOOT_NONE = 0, /* address only */
	DHCP_BOOT_TFTP = 1, /* PXE ROM: iPXE binary by TFTP */
	DHCP_BOOT_IPXE = 2, /* iPXE: script URL */
	DHCP_BOOT_HTTP = 3, /* UEFI HTTP boot: iPXE binary URL */
};

/* Where to send the reply (RFC 2131 §4.1; PXE 2.1 for port 4011). */
struct dhcp_dest {
	uint32_t ip; /* host order; INADDR_BROADCAST for broadcast */
	uint16_t port;
	bool broadcast;	 /* send to 255.255.255.255 */
	bool unicast_hw; /* ip has no ARP entry yet: chaddr is the MAC */
};

/* Why a request got no answer, for rate-limited logging by kind. */
enum dhcp_refusal {
	DHCP_REFUSE_NONE = 0,
	DHCP_REFUSE_UNKNOWN = 1, /* not in the inventory */
	DHCP_REFUSE_NOBOOT = 2,	 /* no loader for its architecture */
	DHCP_REFUSE_POOL = 3,	 /* pool exhausted or lease table full */
	DHCP_REFUSE_DECLINE = 4, /* a DECLINE not accepted */
	DHCP_REFUSE_RELAY = 5,	 /* giaddr of a relay not listed */
	DHCP_REFUSE_SUBNET = 6,	 /* reservation outside the relay subnet */
	DHCP_REFUSE_OTHER = 7,	 /* malformed, not for us, errors */
	DHCP_REFUSE_FOREIGN = 8, /* (I/O) another server's OFFER seen */
};

struct dhcp_decision {
	bool reply;		   /* send .msg to .dest */
	bool leases_changed;	   /* the table changed: save it */
	bool notable;		   /* no answer, but an operator should know */
	enum dhcp_refusal refusal; /* with notable: the kind of refusal */
	struct dhcp_msg msg;
	struct dhcp_dest dest;
	enum dhcp_boot boot;
	uint16_t arch;			/* 0 also when the client did not say */
	char arch_desc[DHCP_ARCH_DESC]; /* "arch 7 (uefi-x64)" or "no arch" */
	char reason[DHCP_REASON_MAX];	/* one line for the log, no prefix */
};

/* Packet counters for /metrics, by message kind. */
struct dhcp_counters {
	uint64_t received, dropped; /* dropped: malformed or not for us */
	uint64_t discover, request, decline, release, inform;
	uint64_t offer, ack, nak, proxy_offer, proxy_ack;
	uint64_t ignored;	  /* unknown machines, other servers */
	uint64_t relay_dropped;	  /* giaddr not a listed relay */
	uint64_t decline_refused; /* DECLINE from a non-holder, or reserved */
	uint64_t foreign_offers;  /* OFFERs of another server seen (I/O) */
};

/*
 * Log rate limit: a token bucket per refusal kind, DHCP_LOG_BURST lines
 * at once, then DHCP_LOG_PER_MIN a minute. Zeroed is ready.
 */
struct dhcp_loglimit {
	struct {
		int64_t stamp_ms; /* last refill */
		uint64_t tokens;  /* one line = 60000 (a minute in ms) */
		uint64_t suppressed;
		bool used;
	} kind[DHCP_REFUSE_KINDS_N];
};

/*
 * Decide the answer to m, received on port (67 or 4011), at time now
 * (Unix seconds). Fills *ret (always; .reply says whether to send) and
 * updates t and cnt. Returns 0, or -ENOSPC/-ENOMEM when the lease table
 * cannot grow (no reply then).
 */
int dhcp_policy_handle(const struct dhcp_conf *conf, struct leases *t,
		       struct dhcp_counters *cnt, const struct dhcp_msg *m,
		       uint16_t port, int64_t now, struct dhcp_decision *ret);

/* The inventory entry for mac, or NULL. */
const struct dhcp_host *dhcp_conf_host(const struct dhcp_conf *conf,
				       const uint8_t mac[MAC_LEN]);

/*
 * The boot answer for m: kind and file (a TFTP path or an http:// URL)
 * into file (DHCP_PATH_MAX bytes). DHCP_BOOT_NONE when m is not a boot
 * client or its architecture has no loader.
 */
enum dhcp_boot dhcp_policy_bootfile(const struct dhcp_conf *conf,
				    const struct dhcp_msg *m,
				    char file[DHCP_PATH_MAX]);

/*
 * Render the counters and lease counts as Prometheus text (names
 * prefixed metalboot_dhcp_) into a new buffer (*ret, freed with free()).
 * Returns 0 or -ENOMEM.
 */
int dhcp_metrics_render(const struct dhcp_conf *conf, const struct leases *t,
			const struct dhcp_counters *cnt, int64_t now,
			char **ret, size_t *ret_len);

/*
 * May a line of refusal kind be logged at now_ms? true, with
 * *ret_suppressed the lines of that kind held back since the last one
 * logged (to report as "N similar messages suppressed"), or false (the
 * line is counted as suppressed).
 */
bool dhcp_loglimit_allow(struct dhcp_loglimit *l, enum dhcp_refusal kind,
			 int64_t now_ms, uint64_t *ret_suppressed);

/*
 * "unknown", "no-boot", "pool", "decline", "relay", "subnet", "other",
 * "foreign-server".
 */
const char *dhcp_refusal_name(enum dhcp_refusal kind);

/* "off", "full", "proxy". */
const char *dhcp_mode_name(enum dhcp_mode mode);

#endif
