/*
 * addr.c - leased addresses onto the client interface (RTM_NEWADDR), and
 * a server's CPU time and peak RSS from /proc.
 */
#include "storm.h"

#include "num.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* See storm.h. */
int
storm_nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	return fd < 0 ? -errno : fd;
}

static void
add_attr(struct nlmsghdr *h, unsigned short type, uint32_t v)
{
	struct rtattr *a =
		(struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(a), &v, sizeof(v));
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* See storm.h. */
int
storm_nl_addr_add(int fd, int ifindex, uint32_t ip, unsigned prefix)
{
	union {
		struct nlmsghdr h;
		char b[256];
	} req, ans;
	struct ifaddrmsg *ifa;
	struct nlmsgerr *err;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	req.h.nlmsg_type = RTM_NEWADDR;
	req.h.nlmsg_flags =
		NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	ifa = NLMSG_DATA(&req.h);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)ifindex;
	add_attr(&req.h, IFA_LOCAL, htonl(ip));
	add_attr(&req.h, IFA_ADDRESS, htonl(ip));
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, &ans, sizeof(ans), 0);
	if (n < 0)
		return -errno;
	if ((size_t)n < NLMSG_LENGTH(sizeof(*err)) ||
	    ans.h.nlmsg_type != NLMSG_ERROR)
		return -EBADMSG;
	err = NLMSG_DATA(&ans.h);
	return err->error;
}

/* Read a small /proc file into buf (NUL-terminated). */
static int
read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Field k (1-based, after the command) of /proc/PID/stat. */
static int
stat_field(const char *s, unsigned k, uint64_t *ret)
{
	const char *p = strrchr(s, ')');
	unsigned f = 2; /* ")" ends field 2 */

	if (p == NULL)
		return -EBADMSG;
	p++;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		f++;
		size_t n = strcspn(p, " \n");

		if (f == k)
			return num_parse_u64n(p, n, 0, UINT64_MAX, ret);
		p += n;
	}
	return -EBADMSG;
}

/* See storm.h. */
int
storm_proc_stats(pid_t pid, double *ret_cpu_s, uint64_t *ret_hwm_kib)
{
	char path[64], buf[4096];
	uint64_t ut, st, hwm = 0;
	const char *h;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (stat_field(buf, 14, &ut) < 0 || stat_field(buf, 15, &st) < 0)
		return -EBADMSG;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	h = strstr(buf, "VmHWM:");
	if (h != NULL) {
		h += 6;
		while (*h == ' ' || *h == '\t')
			h++;
		(void)num_parse_u64n(h, strspn(h, "0123456789"), 0, UINT64_MAX,
				     &hwm);
	}
	*ret_cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	*ret_hwm_kib = hwm;
	return 0;
}
