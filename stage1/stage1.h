/*
 * stage1.h - the pure half of metalboot-init, the first stage of a node
 * image (docs/builder.md, "Boot stages"): what the kernel command line
 * asks for, how large the root's tmpfs is, what to do with the state
 * disk, and the DHCP exchange that brings the boot interface up. Nothing
 * here touches files, devices or sockets; main.c does, in that order.
 */
#ifndef MB_STAGE1_H
#define MB_STAGE1_H

#include "dhcp.h"
#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S1_DEVICE_MAX 64
#define S1_INIT_MAX   256
#define S1_SIZE_MAX   32
#define S1_LABEL      "metalboot-state" /* our state filesystem's label */

/* What the kernel command line says (docs/formats.md, "Kernel command
 * line"). Unknown words are ignored: they belong to the kernel or init. */
struct s1_cmdline {
	bool has_mac;
	uint8_t mac[MAC_LEN];	   /* metalboot.mac=, else BOOTIF=01-... */
	char tmpfs[S1_SIZE_MAX];   /* metalboot.tmpfs=: "2G", "60%", "" */
	char state[S1_DEVICE_MAX]; /* metalboot.state=/dev/NAME, "" */
	bool wipe;		   /* metalboot.wipe=1 */
	char init[S1_INIT_MAX];	   /* init=, else "" (/sbin/init) */
};

/*
 * Parse the kernel command line (the text of /proc/cmdline). Returns 0, or
 * -EINVAL with a message in err naming the word for a value that cannot
 * be used (a bad MAC, a state device that is not /dev/NAME, a bad tmpfs
 * size); the rest of *ret is still filled.
 */
int s1_cmdline_parse(const char *text, struct s1_cmdline *ret, char *err,
		     size_t errlen);

/* MemTotal from the text of /proc/meminfo, in bytes; 0 when absent. */
uint64_t s1_meminfo_total(const char *text);

/* What blkid found on the state device. */
struct s1_probe {
	bool blank;	/* no filesystem, no partition table, no RAID */
	char type[32];	/* "ext4", "xfs", "dos" (a partition table), ... */
	char label[64]; /* the filesystem's label, "" */
};

enum s1_disk_action {
	S1_DISK_MOUNT,	/* our ext4: mount it, keep what it holds */
	S1_DISK_FORMAT, /* blank, or foreign and wipe was asked: mkfs */
	S1_DISK_REFUSE, /* foreign and no wipe: leave it, boot stateless */
};

/* The one decision about the state disk (never formats data silently). */
enum s1_disk_action s1_disk_decide(const struct s1_probe *p, bool wipe);

/* The directories kept on the state disk, relative to the root. */
extern const char *const s1_state_dirs[];

/* ---- DHCP client ----------------------------------------------------- */

struct s1_lease {
	uint32_t addr, netmask, router, server;
	uint32_t dns[DHCP_DNS_MAX];
	size_t ndns;
	uint32_t lease_time;
	char hostname[64];
	char domain[64];
};

/*
 * Build a DISCOVER (server 0) or a REQUEST for the offer of server for
 * addr, from mac with transaction id xid, broadcast flag set (we have no
 * address yet). Returns the length written into buf (cap bytes) or a
 * negative errno.
 */
int s1_dhcp_build(const uint8_t mac[MAC_LEN], uint32_t xid, uint32_t server,
		  uint32_t addr, uint8_t *buf, size_t cap);

/*
 * Read a reply: 0 and *ret for a message of type want (DHCP_OFFER or
 * DHCP_ACK) answering xid for mac with an address; -EAGAIN for anything
 * else (another client's, another type); -ECONNREFUSED for a NAK; -EBADMSG
 * for a malformed packet.
 */
int s1_dhcp_reply(const uint8_t *pkt, size_t len, const uint8_t mac[MAC_LEN],
		  uint32_t xid, uint8_t want, struct s1_lease *ret);

/* The netmask's prefix length, or -1 when it is not contiguous. */
int s1_prefix_len(uint32_t netmask);

#endif
