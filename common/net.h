/*
 * net.h - MAC, IPv4, CIDR, range and host:port parsing and formatting.
 *
 * Addresses are kept in host byte order (uint32_t) so that comparisons and
 * arithmetic are plain integer operations. Parsers are strict: no leading
 * zeros in IPv4 octets (ambiguous: octal to inet_aton), no whitespace, no
 * trailing bytes. Each returns 0 and writes *ret only on success, else
 * -EINVAL (malformed) or -ERANGE (a number out of range).
 */
#ifndef MB_NET_H
#define MB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAC_LEN		  6
#define MAC_STR_LEN	  18 /* "aa:bb:cc:dd:ee:ff" + NUL */
#define IPV4_STR_LEN	  16
#define HOST_NAME_MAX_LEN 253

struct cidr {
	uint32_t addr; /* network address, host order */
	unsigned prefix;
};

struct ip_range {
	uint32_t first, last; /* inclusive, host order */
};

/* "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff", either case. */
int mac_parse(const char *s, uint8_t ret[MAC_LEN]);
/* Lowercase, colon-separated, into buf of MAC_STR_LEN bytes. */
void mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STR_LEN]);

/* Dotted quad. */
int ipv4_parse(const char *s, uint32_t *ret);
void ipv4_format(uint32_t ip, char buf[IPV4_STR_LEN]);

/*
 * "a.b.c.d/n". With strict, host bits must be zero (-EINVAL otherwise);
 * without, they are cleared.
 */
int cidr_parse(const char *s, bool strict, struct cidr *ret);
uint32_t cidr_mask(unsigned prefix);
bool cidr_contains(const struct cidr *c, uint32_t ip);
bool cidr_overlaps(const struct cidr *a, const struct cidr *b);
/* First and last address of the block (network and broadcast). */
uint32_t cidr_last(const struct cidr *c);

/* "a.b.c.d-e.f.g.h", first <= last. */
int range_parse(const char *s, struct ip_range *ret);

/* An RFC 1123 host name (dot-separated labels), at most 253 bytes. */
bool hostname_valid(const char *s);
/* One RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63 bytes. */
bool dns_label_valid(const char *s);

/*
 * A CRI endpoint as kubelet takes it: "unix://" and an absolute path of
 * printable ASCII with no space, quote, backquote or backslash, at most
 * NET_CRI_ENDPOINT_MAX bytes in all. s holds len bytes (no NUL needed).
 */
#define NET_CRI_ENDPOINT_MAX 256
bool cri_endpoint_valid(const char *s, size_t len);

/*
 * "host:port" where host is an IPv4 address or a host name and port is
 * 1..65535. The host is copied into host (hostsz bytes, NUL-terminated);
 * -ENAMETOOLONG when it does not fit.
 */
/*
 * The name of the interface holding the IPv4 address ip (host order) into
 * ret (NET_IFNAME_LEN bytes: IFNAMSIZ). 0, -ENOENT when no interface holds
 * it, or a negative errno from getifaddrs.
 */
#define NET_IFNAME_LEN 16
int net_iface_for_ip(uint32_t ip, char ret[NET_IFNAME_LEN]);

int hostport_parse(const char *s, char *host, size_t hostsz,
		   uint16_t *ret_port);

#endif
