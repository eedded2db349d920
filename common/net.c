/* net.c - MAC, IPv4, CIDR, range and host:port parsing. */
#include "net.h"

#include "num.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mac_parse(const char *s, uint8_t ret[MAC_LEN])
{
	uint8_t mac[MAC_LEN];
	char sep;
	size_t i;

	if (s == NULL || strlen(s) != MAC_STR_LEN - 1)
		return -EINVAL;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (i = 0; i < MAC_LEN; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < MAC_LEN - 1 && s[i * 3 + 2] != sep)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(ret, mac, MAC_LEN);
	return 0;
}

void
mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STR_LEN])
{
	snprintf(buf, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int
ipv4_parse(const char *s, uint32_t *ret)
{
	uint32_t ip = 0;
	const char *p = s;
	int i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		const char *start = p;
		uint64_t v;
		int r;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start || p - start > 3)
			return -EINVAL;
		if (p - start > 1 && *start == '0')
			return -EINVAL; /* "010" is octal to inet_aton */
		r = num_parse_u64n(start, (size_t)(p - start), 0, 255, &v);
		if (r < 0)
			return r;
		ip = ip << 8 | (uint32_t)v;
		if (i < 3) {
			if (*p != '.')
				return -EINVAL;
			p++;
		}
	}
	if (*p != '\0')
		return -EINVAL;
	*ret = ip;
	return 0;
}

void
ipv4_format(uint32_t ip, char buf[IPV4_STR_LEN])
{
	snprintf(buf, IPV4_STR_LEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255);
}

uint32_t
cidr_mask(unsigned prefix)
{
	if (prefix == 0)
		return 0;
	if (prefix >= 32)
		return UINT32_MAX;
	return UINT32_MAX << (32 - prefix);
}

int
cidr_parse(const char *s, bool strict, struct cidr *ret)
{
	char ipbuf[IPV4_STR_LEN];
	const char *slash;
	uint32_t ip;
	uint64_t prefix;
	size_t n;
	int r;

	if (s == NULL)
		return -EINVAL;
	slash = strchr(s, '/');
	if (slash == NULL)
		return -EINVAL;
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(ipbuf))
		return -EINVAL;
	memcpy(ipbuf, s, n);
	ipbuf[n] = '\0';
	r = ipv4_parse(ipbuf, &ip);
	if (r < 0)
		return r;
	if (slash[1] == '0' && slash[2] != '\0')
		return -EINVAL;
	r = num_parse_u64(slash + 1, 0, 32, &prefix);
	if (r < 0)
		return r;
	if (strict && (ip & ~cidr_mask((unsigned)prefix)) != 0)
		return -EINVAL;
	ret->addr = ip & cidr_mask((unsigned)prefix);
	ret->prefix = (unsigned)prefix;
	return 0;
}

bool
cidr_contains(const struct cidr *c, uint32_t ip)
{
	return (ip & cidr_mask(c->prefix)) == c->addr;
}

uint32_t
cidr_last(const struct cidr *c)
{
	return c->addr | ~cidr_mask(c->prefix);
}

bool
cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	return a->addr <= cidr_last(b) && b->addr <= cidr_last(a);
}

int
range_parse(const char *s, struct ip_range *ret)
{
	char a[IPV4_STR_LEN];
	const char *dash;
	uint32_t first, last;
	size_t n;
	int r;

	if (s == NULL)
		return -EINVAL;
	dash = strchr(s, '-');
	if (dash == NULL)
		return -EINVAL;
	n = (size_t)(dash - s);
	if (n == 0 || n >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	r = ipv4_parse(a, &first);
	if (r < 0)
		return r;
	r = ipv4_parse(dash + 1, &last);
	if (r < 0)
		return r;
	if (first > last)
		return -ERANGE;
	ret->first = first;
	ret->last = last;
	return 0;
}

static bool
label_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && !(c == '-' && i > 0 && i < n - 1))
			return false;
	}
	return true;
}

bool
dns_label_valid(const char *s)
{
	return s != NULL && label_valid(s, strlen(s));
}

bool
cri_endpoint_valid(const char *s, size_t len)
{
	size_t i;

	if (len > NET_CRI_ENDPOINT_MAX || len < 9 ||
	    strncmp(s, "unix:///", 8) != 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\'' ||
		    ch == '`' || ch == '\\')
			return false;
	}
	return true;
}

bool
hostname_valid(const char *s)
{
	const char *p, *dot;
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > HOST_NAME_MAX_LEN)
		return false;
	for (p = s;; p = dot + 1) {
		char lower[64];
		size_t len, i;

		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || len > 63)
			return false;
		/* Host names are case-insensitive; labels are checked lower. */
		for (i = 0; i < len; i++) {
			char c = p[i];

			lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		if (!label_valid(lower, len))
			return false;
		if (dot == NULL)
			break;
	}
	return true;
}

int
hostport_parse(const char *s, char *host, size_t hostsz, uint16_t *ret_port)
{
	const char *colon;
	uint64_t port;
	size_t n;
	uint32_t ip;
	int r;

	if (s == NULL)
		return -EINVAL;
	colon = strrchr(s, ':');
	if (colon == NULL)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n == 0)
		return -EINVAL;
	if (n >= hostsz)
		return -ENAMETOOLONG;
	if (colon[1] == '0')
		return -EINVAL;
	r = num_parse_u64(colon + 1, 1, 65535, &port);
	if (r < 0)
		return r;
	memcpy(host, s, n);
	host[n] = '\0';
	/* All-digit-and-dot hosts must be valid addresses, not names. */
	if (strspn(host, "0123456789.") == n) {
		if (ipv4_parse(host, &ip) < 0)
			return -EINVAL;
	} else if (!hostname_valid(host)) {
		return -EINVAL;
	}
	*ret_port = (uint16_t)port;
	return 0;
}

int
net_iface_for_ip(uint32_t ip, char ret[NET_IFNAME_LEN])
{
	struct ifaddrs *ifa = NULL, *i;
	int r = -ENOENT;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		const struct sockaddr_in *sin;
		size_t n;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
		n = strlen(i->ifa_name);
		if (ntohl(sin->sin_addr.s_addr) != ip || n >= NET_IFNAME_LEN)
			continue;
		memcpy(ret, i->ifa_name, n + 1);
		r = 0;
		break;
	}
	freeifaddrs(ifa);
	return r;
}
