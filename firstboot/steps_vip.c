/*
 * steps_vip.c - the control-plane VIP: keepalived and haproxy, whose
 * configuration the pki step installed from the payload's files, are
 * started before kubeadm, and the first control plane waits for the VIP
 * (its kubeadm init reaches the API through it).
 */
#include "exec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VIP_CONNECT_MS 2000 /* one connection attempt */
#define VIP_POLL_MAX   2000 /* the longest pause between attempts */

/* The interface holding ip (fb_vip_iface in exec.h). */
int
fb_vip_iface(uint32_t ip, char ret[FB_IFNAME_LEN])
{
	return net_iface_for_ip(ip, ret);
}

/* One TCP connection to ip:port within timeout_ms: true when it opens. */
static bool
tcp_connects(uint32_t ip, unsigned port, int timeout_ms)
{
	struct sockaddr_in sa;
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0;
	bool ok = false;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(ip);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ok = true;
	} else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		    err == 0)
			ok = true;
	}
	close(fd);
	return ok;
}

/* Wait for ip:port to take connections (fb_tcp_wait in exec.h). */
int
fb_tcp_wait(uint32_t ip, unsigned port, unsigned timeout_s, unsigned poll_ms)
{
	double end = fb_now() + timeout_s;
	unsigned delay = poll_ms;

	for (;;) {
		if (tcp_connects(ip, port, VIP_CONNECT_MS))
			return 0;
		if (fb_now() >= end)
			return -ETIMEDOUT;
		fb_sleep_ms(fb_backoff_next(&delay, VIP_POLL_MAX));
	}
}

/* systemctl VERB UNIT...; fails the step on a non-zero status. */
static int
systemctl(struct fb_exec *x, const char *verb, const char *unit,
	  const char *unit2)
{
	char *const argv[] = { "systemctl", (char *)verb, (char *)unit,
			       (char *)unit2, NULL };

	return fb_must(x, argv, FB_RUN_TIMEOUT);
}

/*
 * vip: "interface NAME" (the interface holding the node's address) into
 * the file keepalived.conf includes, then haproxy and keepalived enabled
 * and restarted with systemctl (without systemctl they are left alone,
 * with a note), and on the first control plane a wait until the VIP takes
 * connections: keepalived placed it and haproxy listens.
 */
int
fb_step_vip(struct fb_exec *x)
{
	const struct fb_payload *p = x->p;
	char ifname[FB_IFNAME_LEN], line[FB_IFNAME_LEN + 16];
	uint32_t ip;
	bool changed;
	int r;

	if (ipv4_parse(p->node.ip, &ip) < 0)
		return fb_msg(x, -EINVAL, "node.ip %s is not an address",
			      p->node.ip);
	r = fb_vip_iface(ip, ifname);
	if (r < 0)
		return fb_msg(x, r, "no interface holds %s: %s", p->node.ip,
			      strerror(-r));
	snprintf(line, sizeof(line), "interface %s\n", ifname);
	r = fb_put_file(x, p->vip.interface_file, line, strlen(line), 0644,
			&changed);
	if (r < 0)
		return fb_msg(x, r, "write %s: %s", p->vip.interface_file,
			      strerror(-r));
	if (!fb_have("systemctl")) {
		fb_msg(x, 0,
		       "interface %s; no systemctl, haproxy and keepalived "
		       "not started",
		       ifname);
		return 0;
	}
	/* keepalived's check script asks haproxy with curl. */
	if (!fb_have("haproxy") || !fb_have("keepalived") || !fb_have("curl"))
		return fb_msg(x, -ENOENT,
			      "haproxy, keepalived or curl is not installed: "
			      "the base needs the three packages");
	r = systemctl(x, "enable", "haproxy", "keepalived");
	if (r == 0)
		r = systemctl(x, "restart", "haproxy", NULL);
	if (r == 0)
		r = systemctl(x, "restart", "keepalived", NULL);
	if (r < 0)
		return r;
	if (p->kubeadm.action == FB_ACTION_INIT) {
		r = fb_tcp_wait(p->vip.ip, p->vip.port, FB_VIP_WAIT,
				x->poll_ms);
		if (r < 0)
			return fb_msg(x, r,
				      "the VIP %s:%u took no connection "
				      "within %us (keepalived or haproxy "
				      "down?)",
				      p->vip.address, p->vip.port, FB_VIP_WAIT);
	}
	fb_msg(x, 0, "interface %s; haproxy and keepalived restarted%s", ifname,
	       p->kubeadm.action == FB_ACTION_INIT ? "; the VIP answers" : "");
	return 0;
}
