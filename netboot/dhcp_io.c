/*
 * dhcp_io.c - the DHCP service on the netboot loop. See dhcp_io.h.
 */
#include "dhcp_io.h"

#include "config.h"
#include "dhcp.h"
#include "dhcp_policy.h"
#include "fsutil.h"
#include "leases.h"
#include "log.h"
#include "net.h"
#include "nodes.h"
#include "num.h"
#include "path.h"
#include "store_io.h"
#include "storm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* One received datagram and where it came from. */
struct dhcp_rx {
	uint8_t buf[DHCP_MSG_MAX + 1];
	size_t len;
	struct sockaddr_in peer;
	int ifindex;
	uint16_t port; /* local port: 67 or 4011 */
};

/* The last decision logged for a MAC, to log a retry's twin only once. */
struct log_recent {
	uint8_t mac[MAC_LEN];
	uint32_t hash; /* of the reason line */
	int64_t when;
};

/* One received datagram and its decision, until the burst is flushed. */
struct dhcp_slot {
	struct dhcp_rx rx;
	struct dhcp_decision d;
	char mac[MAC_STR_LEN];
	int64_t now;
	double rx_at; /* nb_mono_s() when read */
	bool send;
	uint8_t chaddr[MAC_LEN]; /* the client's, when decoded */
	uint32_t lease_ip;	 /* the address it got or released, or 0 */
};

/* An answer waiting for its address claim in etcd (store.etcd). */
struct dhcp_claim {
	struct dhcp_claim *next;
	struct dhcp_server *s;
	struct dhcp_slot slot;
	int fd;
	unsigned tries; /* addresses found taken so far */
	uint64_t tag;
};

/*
 * The lease file writer: a thread that writes snapshots of the table
 * (temp + fsync + rename) off the loop. The loop hands it the newest
 * snapshot; one not yet taken is replaced by a newer one.
 */
struct lease_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool ready;   /* mu, cv and path set up (a state directory) */
	bool running; /* the thread was started (by the first snapshot) */
	bool quit;
	char *text; /* the pending snapshot (owned), NULL when none */
	size_t len;
	int err; /* the last write's result, for the loop to log */
	char path[PATH_MAX];
};

/* An OFFER held back by pacing or jitter (storm.h), until at_us. */
struct dhcp_paced {
	struct dhcp_paced *next; /* by at_us */
	struct dhcp_slot slot;
	int fd;
	uint32_t segment; /* the relay's giaddr, 0 for the local segment */
	uint64_t at_us;
	bool paced; /* counted in the segment's queue */
};

struct dhcp_server {
	struct netboot *nb;
	struct dhcp_conf conf;
	struct dhcp_host *hosts;   /* owned */
	struct dhcp_relay *relays; /* owned */
	struct leases leases;
	struct dhcp_counters cnt;
	char ifname[IFNAMSIZ];
	int fd, fd_proxy, fd_watch;
	struct event *ev, *ev_proxy, *ev_watch;
	struct event *ev_save, *ev_prune;
	struct event *ev_standby; /* dhcp.failover: standby's look */
	bool dirty; /* the table changed since the last snapshot */
	struct lease_writer writer;
	struct dhcp_loglimit loglimit;
	struct nodes *nodes; /* borrowed */
	struct log_recent recent[DHCP_LOG_RECENT];
	struct dhcp_slot slots[DHCP_IO_RX_BURST];
	/* dhcp.pace: offers per segment, and the ones waiting. */
	struct storm_pace pace;
	bool pacing; /* a rate or a jitter is set */
	struct dhcp_paced *paced;
	struct event *ev_pace;
	uint32_t rnd; /* xorshift state for the jitter */
	uint64_t offers_delayed, offers_dropped;
	/* store.etcd: answers waiting for their address claim. */
	struct dhcp_claim *claims;
	uint64_t claims_taken, claims_failed, claims_queued;
	/* dhcp.failover: standby: answering, as last decided. */
	bool serving;
	bool serving_known;
	int64_t serving_at_ms; /* last decided */
	uint64_t standby_ignored;
};

/* Set by the command line (dhcp_io_option), before dhcp_io_start. */
static struct {
	bool allow_other;
	bool check_ms_set;
	unsigned check_ms;
} dhcp_flags;

/*
 * A rack powered on at once sends thousands of DISCOVERs within a second;
 * the default receive buffer (about 200 KiB, a few hundred packets) drops
 * most of them in the kernel, and each dropped client waits seconds to
 * retransmit. DHCP_RCVBUF holds several thousand. SO_RCVBUFFORCE passes
 * net.core.rmem_max while we still hold CAP_NET_ADMIN; SO_RCVBUF is
 * capped by it otherwise. Best effort: a smaller buffer still works.
 */
#define DHCP_RCVBUF (8 << 20)

static void
big_rcvbuf(int fd)
{
	int size = DHCP_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof(size));
}

/*
 * A UDP socket on port, bound to every address of ifname (broadcasts
 * arrive at INADDR_ANY only), non-blocking, with SO_BROADCAST and
 * IP_PKTINFO. Without reuse, a port already taken (another DHCP server
 * on this host, a second instance) fails with -EADDRINUSE instead of two
 * servers silently sharing the broadcasts. Returns the fd or -errno.
 */
static int
open_socket(const char *ifname, uint16_t port, bool reuse)
{
	struct sockaddr_in sin;
	int fd, one = 1, r;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((reuse &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
		goto fail;
	if (ifname[0] != '\0' &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
		       (socklen_t)strlen(ifname)) < 0)
		goto fail;
	big_rcvbuf(fd);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

/*
 * Install a complete ARP entry ip -> mac on ifname so that a unicast
 * reply reaches a client that has no address yet (RFC 2131 §4.1). 0 or a
 * negative errno; the caller broadcasts instead on failure.
 */
static int
arp_set(int fd, const char *ifname, uint32_t ip, const uint8_t *mac)
{
	struct arpreq req;
	struct sockaddr_in *sin;

	if (ifname[0] == '\0')
		return -ENODEV;
	memset(&req, 0, sizeof(req));
	sin = (struct sockaddr_in *)(void *)&req.arp_pa;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(ip);
	req.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(req.arp_ha.sa_data, mac, MAC_LEN);
	req.arp_flags = ATF_COM;
	memcpy(req.arp_dev, ifname, strlen(ifname) + 1);
	if (ioctl(fd, SIOCSARP, &req) < 0)
		return -errno;
	return 0;
}

/* Send len bytes to ip:port out of ifindex, from the server address. */
static int
send_to(struct dhcp_server *s, int fd, const uint8_t *buf, size_t len,
	uint32_t ip, uint16_t port, int ifindex)
{
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in to;
	struct in_pktinfo *pi;
	struct cmsghdr *cm;
	struct iovec iov;
	struct msghdr mh;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(ip);
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &to;
	mh.msg_namelen = sizeof(to);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	memset(cbuf, 0, sizeof(cbuf));
	if (ifindex > 0) {
		/*
		 * Out of the interface the request came in on, from our
		 * address there (PROTOCOLS.md §2.7).
		 */
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(*pi));
		pi = (struct in_pktinfo *)(void *)CMSG_DATA(cm);
		pi->ipi_ifindex = ifindex;
		pi->ipi_spec_dst.s_addr = htonl(s->conf.server_ip);
	}
	if (sendmsg(fd, &mh, 0) < 0)
		return -errno;
	return 0;
}

/* Send a decision's reply. */
static void
send_reply(struct dhcp_server *s, int fd, const struct dhcp_rx *rx,
	   const struct dhcp_decision *d, const char *mac)
{
	uint8_t out[DHCP_MSG_MAX];
	uint32_t ip = d->dest.ip;
	uint16_t port = d->dest.port;
	int n, r;

	n = dhcp_encode(&d->msg, out, sizeof(out));
	if (n < 0) {
		log_warn_r(n, "dhcp %s: reply not encoded", mac);
		return;
	}
	if (port == 0) {
		/* Port 4011: back to the sender, from 4011. */
		ip = ntohl(rx->peer.sin_addr.s_addr);
		port = ntohs(rx->peer.sin_port);
	} else if (d->dest.unicast_hw) {
		r = arp_set(fd, s->ifname, ip, d->msg.chaddr);
		if (r < 0) {
			log_debug("dhcp %s: no ARP entry (%s), broadcasting",
				  mac, strerror(-r));
			ip = INADDR_BROADCAST;
		}
	}
	if (d->dest.broadcast)
		ip = INADDR_BROADCAST;
	r = send_to(s, fd, out, (size_t)n, ip, port, rx->ifindex);
	if (r < 0)
		log_warn_r(r, "dhcp %s: send", mac);
}

/* FNV-1a, for the log de-duplication only. */
static uint32_t
fnv1a(const void *p, size_t n, uint32_t h)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * Firmware retries DISCOVER and REQUEST every few seconds; the same
 * decision for the same MAC within DHCP_LOG_REPEAT_S is a repeat, logged
 * at debug level only, so each decision shows once.
 */
static bool
log_repeat(struct dhcp_server *s, const uint8_t mac[MAC_LEN],
	   const char *reason, int64_t now)
{
	uint32_t h = fnv1a(reason, strlen(reason), 2166136261u);
	struct log_recent *e =
		&s->recent[fnv1a(mac, MAC_LEN, 2166136261u) % DHCP_LOG_RECENT];
	bool rep = memcmp(e->mac, mac, MAC_LEN) == 0 && e->hash == h &&
		   now - e->when < DHCP_LOG_REPEAT_S;

	memcpy(e->mac, mac, MAC_LEN);
	e->hash = h;
	e->when = now;
	return rep;
}

/* CLOCK_MONOTONIC in milliseconds (0 if it fails, which it does not). */
static int64_t
ms_now_or0(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Log a line of kind (err: a negative errno to append, or 0) at info
 * level within the rate limit, after a line saying how many of its kind
 * were held back. Startup and --check-dhcp do not come here.
 */
static void __attribute__((format(printf, 4, 5)))
log_limited(struct dhcp_server *s, enum dhcp_refusal kind, int err,
	    const char *fmt, ...)
{
	char line[DHCP_REASON_MAX + 64];
	uint64_t held = 0;
	va_list ap;

	if (!dhcp_loglimit_allow(&s->loglimit, kind, ms_now_or0(), &held))
		return;
	if (held > 0)
		log_info("dhcp: %llu similar messages (%s) suppressed",
			 (unsigned long long)held, dhcp_refusal_name(kind));
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (err < 0)
		log_info("%s: %s", line, strerror(-err));
	else
		log_info("%s", line);
}

/* The writer thread: write each snapshot handed over, until told to quit. */
static void *
writer_main(void *arg)
{
	struct lease_writer *w = arg;
	char *text;
	size_t len;
	int r;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->text == NULL && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->text == NULL)
			break;
		text = w->text;
		len = w->len;
		w->text = NULL;
		pthread_mutex_unlock(&w->mu);
		r = atomic_write(w->path, text, len, 0600);
		free(text);
		pthread_mutex_lock(&w->mu);
		w->err = r;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * Set up the writer for dir/LEASES_FILE. The thread itself starts with
 * the first snapshot (writer_spawn), from the loop, so after the daemon
 * dropped its privileges: capabilities, no_new_privs, Landlock and
 * seccomp apply per thread, and a thread made before the drop would keep
 * what the rest lost. 0 or a negative errno.
 */
static int
writer_start(struct lease_writer *w, const char *dir)
{
	int r;

	r = path_join(w->path, sizeof(w->path), dir, LEASES_FILE);
	if (r < 0)
		return r;
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		return -ENOMEM;
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		return -ENOMEM;
	}
	w->ready = true;
	return 0;
}

/* Start the writer's thread unless it runs. 0 or a negative errno. */
static int
writer_spawn(struct lease_writer *w)
{
	int r;

	if (w->running)
		return 0;
	r = -pthread_create(&w->thread, NULL, writer_main, w);
	if (r < 0)
		return r;
	w->running = true;
	return 0;
}

/*
 * Stop the writer: it writes what it was handed, then ends. Returns the
 * last write's result.
 */
static int
writer_stop(struct lease_writer *w)
{
	int r = 0;

	if (!w->ready)
		return 0;
	if (w->running) {
		pthread_mutex_lock(&w->mu);
		w->quit = true;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		r = w->err;
		w->running = false;
	}
	free(w->text);
	w->text = NULL;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	w->ready = false;
	return r;
}

/*
 * Hand a snapshot of the table to the writer (replacing one it has not
 * taken yet). Logs a failed earlier write. Loop context.
 */
static void
lease_snapshot(struct dhcp_server *s)
{
	struct lease_writer *w = &s->writer;
	char *text = NULL, *old;
	size_t len = 0;
	int r, err;

	r = writer_spawn(w);
	if (r == 0)
		r = leases_format(&s->leases, &text, &len);
	if (r < 0) {
		log_limited(s, DHCP_REFUSE_OTHER, r, "dhcp: lease snapshot");
		return; /* still dirty: tried again at the next tick */
	}
	pthread_mutex_lock(&w->mu);
	old = w->text;
	w->text = text;
	w->len = len;
	err = w->err;
	w->err = 0;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	free(old);
	s->dirty = false;
	if (err < 0)
		log_limited(s, DHCP_REFUSE_OTHER, err, "dhcp: saving leases %s",
			    w->path);
}

/* The save timer: at most one snapshot per DHCP_SAVE_MS. */
static void
on_save(evutil_socket_t fd, short what, void *arg)
{
	struct dhcp_server *s = arg;

	(void)fd;
	(void)what;
	if (s->dirty)
		lease_snapshot(s);
}

/*
 * The table changed: have it saved within DHCP_SAVE_MS (a burst of
 * changes costs one write, and no fsync ever runs on the loop).
 */
static void
lease_dirty(struct dhcp_server *s)
{
	struct timeval tv = { DHCP_SAVE_MS / 1000,
			      (DHCP_SAVE_MS % 1000) * 1000 };

	if (!s->writer.ready)
		return; /* no state directory */
	s->dirty = true;
	if (s->ev_save != NULL && !evtimer_pending(s->ev_save, NULL))
		evtimer_add(s->ev_save, &tv);
}

/* The prune timer: lapsed offers and declines leave the table. */
static void
on_prune(evutil_socket_t fd, short what, void *arg)
{
	struct dhcp_server *s = arg;
	size_t n;

	(void)fd;
	(void)what;
	n = leases_prune(&s->leases, (int64_t)time(NULL));
	if (n > 0) {
		log_debug("dhcp: %zu lapsed lease entries pruned", n);
		lease_dirty(s);
	}
}

/*
 * Decide the answer to one datagram into slot (its rx already filled) and
 * log the decision. The reply is sent by flush(), after the lease table
 * is saved: an address is on disk before any client hears of it.
 */
static void
handle(struct dhcp_server *s, struct dhcp_slot *slot, bool *changed)
{
	const struct dhcp_rx *rx = &slot->rx;
	struct dhcp_decision *d = &slot->d;
	struct dhcp_msg m;
	int64_t now = (int64_t)time(NULL);
	int r;

	slot->send = false;
	slot->lease_ip = 0;
	r = dhcp_decode(rx->buf, rx->len, &m);
	if (r < 0) {
		s->cnt.received++;
		s->cnt.dropped++;
		log_debug("dhcp %s:%u: malformed message of %zu bytes dropped",
			  inet_ntoa(rx->peer.sin_addr),
			  ntohs(rx->peer.sin_port), rx->len);
		return;
	}
	mac_format(m.chaddr, slot->mac);
	memcpy(slot->chaddr, m.chaddr, MAC_LEN);
	slot->lease_ip = m.type == DHCP_RELEASE ? m.ciaddr : 0;
	r = dhcp_policy_handle(&s->conf, &s->leases, &s->cnt, &m, rx->port, now,
			       d);
	if (r < 0) {
		log_limited(s, DHCP_REFUSE_OTHER, r, "dhcp %s: %s", slot->mac,
			    dhcp_type_name(m.type));
		return;
	}
	/*
	 * One line per decision that gives something (an offer, a lease, a
	 * boot file) or changes the table; refusals of a machine that came
	 * to boot (not in the inventory, no loader, pool exhausted, a
	 * DECLINE or relay refused) at most DHCP_LOG_BURST at once and
	 * DHCP_LOG_PER_MIN a minute per kind, since a flood of forged
	 * packets must not flood the log; the rest (the site server's
	 * clients in proxy mode) only at debug level.
	 */
	if (d->refusal != DHCP_REFUSE_NONE) {
		if (!log_repeat(s, m.chaddr, d->reason, now))
			log_limited(s, d->refusal, 0, "dhcp %s: %s", slot->mac,
				    d->reason);
		else
			log_debug("dhcp %s: %s", slot->mac, d->reason);
	} else if ((d->reply || d->leases_changed || d->notable) &&
		   !log_repeat(s, m.chaddr, d->reason, now)) {
		log_info("dhcp %s: %s", slot->mac, d->reason);
	} else {
		log_debug("dhcp %s: %s", slot->mac, d->reason);
	}
	if (d->leases_changed)
		*changed = true;
	slot->send = d->reply;
	slot->now = now;
	if (d->reply && d->msg.yiaddr != 0 && s->conf.mode == DHCP_FULL)
		slot->lease_ip = d->msg.yiaddr;
}

/* Send one decided reply and record it (histogram, the node's timeline). */
static void
send_slot(struct dhcp_server *s, int fd, const struct dhcp_slot *slot)
{
	const struct dhcp_msg *msg = &slot->d.msg;
	int r;

	send_reply(s, fd, &slot->rx, &slot->d, slot->mac);
	if (msg->type == DHCP_OFFER)
		histo_observe(&s->nb->histos.dhcp_offer,
			      nb_mono_s() - slot->rx_at);
	if (s->nodes != NULL &&
	    (msg->type == DHCP_ACK ||
	     (msg->type == DHCP_OFFER && msg->yiaddr == 0))) {
		r = nodes_mark_mac(s->nodes, msg->chaddr, "dhcp",
				   nodes_now_ms());
		if (r < 0 && r != -ENOENT)
			log_warn_r(r, "dhcp %s: recording the event",
				   slot->mac);
	}
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Arm the pacing timer for the first held offer. */
static void
pace_arm(struct dhcp_server *s, uint64_t now_us)
{
	uint64_t d;
	struct timeval tv;

	if (s->paced == NULL)
		return;
	d = s->paced->at_us > now_us ? s->paced->at_us - now_us : 0;
	tv.tv_sec = (time_t)(d / 1000000);
	tv.tv_usec = (suseconds_t)(d % 1000000);
	evtimer_add(s->ev_pace, &tv);
}

/* Whether an offer to chaddr is already held (a retransmitted DISCOVER). */
static bool
pace_holds(const struct dhcp_server *s, const uint8_t *chaddr)
{
	const struct dhcp_paced *p;

	for (p = s->paced; p != NULL; p = p->next)
		if (memcmp(p->slot.d.msg.chaddr, chaddr, MAC_LEN) == 0)
			return true;
	return false;
}

/* Hold a copy of slot until at_us, in time order. False without memory. */
static bool
pace_hold(struct dhcp_server *s, int fd, const struct dhcp_slot *slot,
	  uint32_t segment, uint64_t at_us, bool paced)
{
	struct dhcp_paced *p = malloc(sizeof(*p)), **pp;

	if (p == NULL)
		return false;
	p->slot = *slot;
	p->fd = fd;
	p->segment = segment;
	p->at_us = at_us;
	p->paced = paced;
	for (pp = &s->paced; *pp != NULL && (*pp)->at_us <= at_us;
	     pp = &(*pp)->next)
		;
	p->next = *pp;
	*pp = p;
	if (s->paced == p)
		pace_arm(s, mono_us());
	return true;
}

/*
 * An OFFER under dhcp.pace: sent now, held (the bucket of its segment is
 * empty, or jitter), or dropped past the queue bound, in which case the
 * client's retransmitted DISCOVER asks again. A DISCOVER retransmitted
 * while its offer is held adds nothing. True when the caller sends now.
 */
static bool
pace_offer(struct dhcp_server *s, int fd, const struct dhcp_slot *slot)
{
	uint32_t seg = slot->d.msg.giaddr, x = s->rnd;
	uint64_t now = mono_us(), at = 0;
	enum storm_verdict v;
	bool paced = false;

	if (pace_holds(s, slot->d.msg.chaddr)) {
		log_debug("dhcp %s: offer already held", slot->mac);
		return false;
	}
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	s->rnd = x;
	v = storm_pace_admit(&s->pace, seg, now, x, &at, &paced);
	if (v == STORM_DROP) {
		s->offers_dropped++;
		log_limited(s, DHCP_REFUSE_OTHER, 0,
			    "dhcp %s: offer dropped: %u offers waiting on the "
			    "segment (dhcp.pace.queue)",
			    slot->mac, s->pace.conf.queue_max);
		return false;
	}
	if (v == STORM_NOW)
		return true;
	if (!pace_hold(s, fd, slot, seg, at, paced)) {
		if (paced)
			storm_pace_sent(&s->pace, seg);
		return true;
	}
	if (paced)
		s->offers_delayed++;
	return false;
}

/* The pacing timer: send the held offers that are due. */
static void
on_pace(evutil_socket_t fd, short what, void *arg)
{
	struct dhcp_server *s = arg;
	uint64_t now = mono_us();
	struct dhcp_paced *p;

	(void)fd;
	(void)what;
	while (s->paced != NULL && s->paced->at_us <= now) {
		p = s->paced;
		s->paced = p->next;
		send_slot(s, p->fd, &p->slot);
		if (p->paced)
			storm_pace_sent(&s->pace, p->segment);
		free(p);
	}
	pace_arm(s, now);
}

/*
 * store.etcd: the address a slot hands out or gives back, as the table
 * holds it now, queued for etcd (a renewal, a release).
 */
static void
share_lease(struct dhcp_server *s, const struct dhcp_slot *slot)
{
	const struct lease *l;
	int r;

	if (slot->lease_ip == 0 || !store_io_leases_shared(s->nb))
		return;
	l = leases_find_ip(&s->leases, slot->lease_ip);
	if (l == NULL || memcmp(l->mac, slot->chaddr, MAC_LEN) != 0)
		return;
	r = store_io_lease_put(s->nb, l->mac, l->ip, lease_state_name(l->state),
			       l->expires);
	if (r < 0)
		log_limited(s, DHCP_REFUSE_OTHER, r,
			    "dhcp %s: lease not queued for etcd", slot->mac);
}

/* Send a decided reply now, or hold it under dhcp.pace. */
static void
send_decided(struct dhcp_server *s, int fd, const struct dhcp_slot *slot)
{
	share_lease(s, slot);
	if (!slot->send)
		return;
	if (s->pacing && slot->d.msg.type == DHCP_OFFER &&
	    !pace_offer(s, fd, slot))
		return;
	send_slot(s, fd, slot);
}

/*
 * Does the reply hand out an address etcd does not yet say is the
 * client's? Then it waits for a claim (store.etcd, full mode).
 */
static bool
claim_needed(const struct dhcp_server *s, const struct dhcp_slot *slot)
{
	const struct dhcp_msg *msg = &slot->d.msg;

	return slot->send && slot->lease_ip != 0 &&
	       (msg->type == DHCP_OFFER || msg->type == DHCP_ACK) &&
	       !store_io_lease_held(s->nb, msg->yiaddr, msg->chaddr);
}

/* Whether a claim for chaddr is under way (a retransmission). */
static bool
claim_pending(const struct dhcp_server *s, const uint8_t *chaddr)
{
	const struct dhcp_claim *cl;

	for (cl = s->claims; cl != NULL; cl = cl->next)
		if (memcmp(cl->slot.chaddr, chaddr, MAC_LEN) == 0)
			return true;
	return false;
}

static void claim_done(void *arg, int r);

/* Claim the slot's address in etcd; the reply waits for the outcome. */
static void
claim_start(struct dhcp_server *s, int fd, const struct dhcp_slot *slot,
	    unsigned tries)
{
	const struct lease *l = leases_find_ip(&s->leases, slot->lease_ip);
	struct dhcp_claim *cl = calloc(1, sizeof(*cl));
	int r = -ENOMEM;

	if (cl != NULL && l != NULL) {
		cl->s = s;
		cl->slot = *slot;
		cl->fd = fd;
		cl->tries = tries;
		r = store_io_lease_claim(s->nb, l->mac, l->ip,
					 lease_state_name(l->state), l->expires,
					 claim_done, cl, &cl->tag);
	}
	if (r == 0) {
		cl->next = s->claims;
		s->claims = cl;
		return;
	}
	free(cl);
	if (r == 1) /* not shared after all */
		send_decided(s, fd, slot);
	else
		log_limited(s, DHCP_REFUSE_OTHER, r,
			    "dhcp %s: no claim of its address in etcd",
			    slot->mac);
}

/* Does the slot hand the client its own inventory reservation? */
static bool
is_reservation(const struct dhcp_server *s, const struct dhcp_slot *slot)
{
	const struct dhcp_host *h = dhcp_conf_host(&s->conf, slot->chaddr);

	return h != NULL && h->ip == slot->lease_ip;
}

/*
 * etcd cannot confirm a machine's own reservation: a node the inventory
 * knows keeps booting, and its lease is queued for etcd in order
 * (written once etcd is back, unless another machine holds the address
 * by then: the holder then comes back through the store).
 */
static void
reservation_unclaimed(struct dhcp_server *s, int fd,
		      const struct dhcp_slot *slot)
{
	s->claims_queued++;
	log_limited(s, DHCP_REFUSE_OTHER, 0,
		    "dhcp %s: etcd unreachable: its reservation answered, "
		    "the lease queued for etcd",
		    slot->mac);
	send_decided(s, fd, slot);
}

/* Unlink cl from the claims under way. */
static void
claim_unlink(struct dhcp_server *s, struct dhcp_claim *cl)
{
	struct dhcp_claim **pp;

	for (pp = &s->claims; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			return;
		}
	}
}

/*
 * A claim's outcome: ours (answer), taken by another machine (the
 * observer put the holder in the table: decide again, another address),
 * or unknown (etcd unreachable: no answer; the client asks again).
 */
static void
claim_done(void *arg, int r)
{
	struct dhcp_claim *cl = arg;
	struct dhcp_server *s = cl->s;
	bool changed = false;
	char ip[IPV4_STR_LEN];

	claim_unlink(s, cl);
	ipv4_format(cl->slot.lease_ip, ip);
	if (r == 0) {
		send_decided(s, cl->fd, &cl->slot);
	} else if (r == -EADDRINUSE && cl->tries + 1 < DHCP_CLAIM_TRIES) {
		s->claims_taken++;
		log_info("dhcp %s: %s is another machine's in etcd; choosing "
			 "again",
			 cl->slot.mac, ip);
		handle(s, &cl->slot, &changed);
		if (changed)
			lease_dirty(s);
		if (claim_needed(s, &cl->slot))
			claim_start(s, cl->fd, &cl->slot, cl->tries + 1);
		else
			send_decided(s, cl->fd, &cl->slot);
	} else if (r != -EADDRINUSE && is_reservation(s, &cl->slot)) {
		reservation_unclaimed(s, cl->fd, &cl->slot);
	} else {
		s->claims_failed++;
		log_limited(s, DHCP_REFUSE_POOL, r,
			    "dhcp %s: %s not handed out: its claim in etcd %s",
			    cl->slot.mac, ip,
			    r == -EADDRINUSE ? "kept failing"
					     : "got no answer (etcd "
					       "unreachable); known machines "
					       "are still answered");
	}
	free(cl);
}

/*
 * Send the replies of n slots; a changed table is marked for the writer
 * (lease_dirty), which saves it within DHCP_SAVE_MS, off the loop.
 * OFFERs go through pacing when dhcp.pace asks for it; with store.etcd,
 * an address etcd does not know as the client's is claimed first.
 */
static void
flush(struct dhcp_server *s, int fd, size_t n, bool changed)
{
	size_t i;

	if (changed)
		lease_dirty(s);
	for (i = 0; i < n; i++) {
		struct dhcp_slot *slot = &s->slots[i];

		if (!claim_needed(s, slot)) {
			send_decided(s, fd, slot);
			continue;
		}
		if (!store_io_shared_up(s->nb) && is_reservation(s, slot)) {
			reservation_unclaimed(s, fd, slot);
			continue;
		}
		if (claim_pending(s, slot->chaddr))
			log_debug("dhcp %s: claim already under way",
				  slot->mac);
		else
			claim_start(s, fd, slot, 0);
	}
}

/* Read one datagram with its arrival interface. 0, -EAGAIN or -errno. */
static int
receive(int fd, struct dhcp_rx *rx)
{
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo)) + DHCP_CMSG_SLACK];
	struct cmsghdr *cm;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	iov.iov_base = rx->buf;
	iov.iov_len = sizeof(rx->buf);
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &rx->peer;
	mh.msg_namelen = sizeof(rx->peer);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	n = recvmsg(fd, &mh, 0);
	if (n < 0)
		return -errno;
	rx->len = (size_t)n;
	rx->ifindex = 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			rx->ifindex = pi.ipi_ifindex;
		}
	}
	/* Over DHCP_MSG_MAX: truncated by the kernel, or too big anyway. */
	if ((mh.msg_flags & MSG_TRUNC) != 0)
		rx->len = sizeof(rx->buf);
	return 0;
}

/*
 * dhcp.failover: standby: answer only while no primary of the segment is
 * registered in etcd (decided again at most every DHCP_STANDBY_CHECK_MS;
 * the registrations themselves are listed every second). True for a
 * server that is not a standby.
 */
static bool
standby_serving(struct dhcp_server *s)
{
	char id[64] = "";
	int64_t now = ms_now_or0();
	bool serve;
	int r;

	if (!s->nb->cfg->dhcp.standby)
		return true;
	if (s->serving_known && now - s->serving_at_ms < DHCP_STANDBY_CHECK_MS)
		return s->serving;
	s->serving_at_ms = now;
	r = store_io_dhcp_primary(s->nb, id, sizeof(id));
	if (r == -ENODATA)
		return false; /* not listed yet: stand by */
	serve = r == 0;
	if (!s->serving_known || serve != s->serving) {
		if (serve)
			log_warn("dhcp: standby: no primary registered for "
				 "this segment: answering DHCP");
		else
			log_info("dhcp: standby: primary %s registered: "
				 "standing by",
				 id);
	}
	s->serving = serve;
	s->serving_known = true;
	return serve;
}

static void
on_read(struct dhcp_server *s, int fd, uint16_t port)
{
	bool changed = false;
	size_t n;
	int r;

	/*
	 * A burst is decided first and saved once: under load (a rack
	 * powered on at once) that is one fsync per burst, not per ACK.
	 */
	for (n = 0; n < DHCP_IO_RX_BURST; n++) {
		struct dhcp_slot *slot = &s->slots[n];

		r = receive(fd, &slot->rx);
		if (r == -EAGAIN || r == -EWOULDBLOCK)
			break;
		if (r < 0) {
			log_warn_r(r, "dhcp: receive on port %u", port);
			break;
		}
		slot->rx.port = port;
		slot->rx_at = nb_mono_s();
		if (!standby_serving(s)) {
			s->standby_ignored++;
			slot->send = false;
			slot->lease_ip = 0;
			continue;
		}
		handle(s, slot, &changed);
	}
	flush(s, fd, n, changed);
}

static void
on_dhcp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	on_read(arg, fd, DHCP_SERVER_PORT);
}

static void
on_proxy(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	on_read(arg, fd, DHCP_PROXY_PORT);
}

/* Whether ip lies in a subnet we answer for (ours or a relay's). */
static bool
lease_in_scope(const struct dhcp_server *s, uint32_t ip)
{
	size_t i;

	if (cidr_contains(&s->conf.subnet, ip))
		return true;
	for (i = 0; i < s->conf.n_relays; i++)
		if (cidr_contains(&s->conf.relays[i].subnet, ip))
			return true;
	return false;
}

/*
 * Another server's lease record (store.etcd), or the holder that beat a
 * claim: into the table, so that the address is not offered to anyone
 * else and its machine can renew it here.
 */
static void
on_shared_lease(void *arg, uint32_t ip, const uint8_t mac[6], const char *state,
		int64_t expires)
{
	struct dhcp_server *s = arg;
	const struct lease *l;
	int st = lease_state_parse(state);

	if (st < 0 || !lease_in_scope(s, ip))
		return;
	l = leases_find_ip(&s->leases, ip);
	if (l != NULL && memcmp(l->mac, mac, MAC_LEN) == 0 && l->state == st &&
	    l->expires == expires)
		return;
	if (leases_set(&s->leases, mac, ip, (enum lease_state)st, expires) == 0)
		lease_dirty(s);
}

/* Fill s->conf from netboot.yaml and the flags. */
static int
make_conf(struct dhcp_server *s, const struct netboot *nb)
{
	const struct nb_config *cfg = nb->cfg;
	struct dhcp_conf *c = &s->conf;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->mode = nb->dhcp;
	c->unknown = cfg->dhcp.unknown_discover ? DHCP_UNKNOWN_DISCOVER
						: DHCP_UNKNOWN_IGNORE;
	c->efi_snponly = cfg->dhcp.efi_snponly;
	if (cfg->dhcp.efi_arm64 != NULL)
		snprintf(c->efi_arm64, sizeof(c->efi_arm64), "%s",
			 cfg->dhcp.efi_arm64);
	c->server_ip = nb->listen_ip != 0 ? nb->listen_ip : cfg->listen;
	if (c->server_ip == 0) {
		log_warn("dhcp: needs a listen address (netboot.yaml listen "
			 "or --listen)");
		return -EINVAL;
	}
	if (!cfg->dhcp.has_subnet) {
		log_warn("dhcp: %s has no dhcp.subnet", cfg->file);
		return -EINVAL;
	}
	c->subnet = cfg->dhcp.subnet;
	if (cfg->dhcp.has_gateway)
		c->gateway = cfg->dhcp.gateway;
	for (i = 0; i < cfg->dhcp.ndns && i < DHCP_DNS_MAX; i++)
		c->dns[i] = cfg->dhcp.dns[i];
	c->n_dns = i;
	c->has_pool = cfg->dhcp.has_pool;
	c->pool = cfg->dhcp.pool;
	c->lease_time = (uint32_t)cfg->dhcp.lease_time;
	if (c->lease_time < DHCP_LEASE_MIN)
		c->lease_time = DHCP_LEASE_MIN;
	/* With HTTP off here (--http-port 0), another server may serve it. */
	c->http_port = nb->http_port != 0 ? nb->http_port : cfg->http_port;
	if (cfg->nnodes > 0) {
		s->hosts = calloc(cfg->nnodes, sizeof(*s->hosts));
		if (s->hosts == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < cfg->nnodes; i++) {
		struct dhcp_host *h = &s->hosts[i];
		size_t n = strnlen(cfg->nodes[i].name, DHCP_NAME_MAX - 1);

		memcpy(h->mac, cfg->nodes[i].mac, MAC_LEN);
		h->ip = cfg->nodes[i].ip;
		h->secure_boot = cfg->nodes[i].secure_boot;
		memcpy(h->name, cfg->nodes[i].name, n);
		h->name[n] = '\0';
	}
	c->hosts = s->hosts;
	c->n_hosts = cfg->nnodes;
	if (cfg->dhcp.nrelays > 0) {
		s->relays = calloc(cfg->dhcp.nrelays, sizeof(*s->relays));
		if (s->relays == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < cfg->dhcp.nrelays; i++) {
		const struct nb_config_relay *cr = &cfg->dhcp.relays[i];

		s->relays[i].address = cr->address;
		s->relays[i].subnet = cr->subnet;
		s->relays[i].gateway = cr->gateway;
		s->relays[i].has_pool = cr->has_pool;
		s->relays[i].pool = cr->pool;
	}
	c->relays = s->relays;
	c->n_relays = cfg->dhcp.nrelays;
	return 0;
}

/* A DISCOVER for the check: a PXE client, so proxies answer as well. */
static int
check_discover(const uint8_t mac[MAC_LEN], uint32_t xid, uint8_t *buf,
	       size_t cap)
{
	static const uint8_t prl[] = { 1, 3, 6, 43, 54, 60, 66, 67 };
	static const char vc[] = "PXEClient:Arch:00000:UNDI:002001";
	struct dhcp_msg m;

	dhcp_request_init(&m, mac, xid, DHCP_DISCOVER);
	memcpy(m.params.data, prl, sizeof(prl));
	m.params.len = sizeof(prl);
	memcpy(m.vendor_class.data, vc, sizeof(vc) - 1);
	m.vendor_class.len = sizeof(vc) - 1;
	m.arch[0] = 0;
	m.n_arch = 1;
	return dhcp_encode(&m, buf, cap);
}

/* One server that answered the check. */
struct check_hit {
	uint32_t server; /* option 54, else the source address */
	uint32_t from;
	uint32_t yiaddr;
	bool pxe;
	char file[DHCP_FILE_LEN + 1];
};

static int
ms_now(int64_t *ret)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -errno;
	*ret = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return 0;
}

/*
 * Send a DISCOVER on ifname and collect up to DHCP_CHECK_SERVERS distinct
 * answering servers for timeout_ms. Returns the number found (hits
 * filled) or a negative errno: -ENODEV for an unknown interface,
 * -EADDRINUSE when port 68 is taken.
 */
static int
check_run(const char *ifname, int timeout_ms, struct check_hit *hits)
{
	uint8_t buf[DHCP_MSG_MAX + 1], req[DHCP_RFC_MAX];
	uint8_t mac[MAC_LEN];
	struct sockaddr_in to;
	struct ifreq ifr;
	uint32_t xid;
	int64_t start = 0, now = 0, wait;
	int fd, r, n = 0, len_req;
	bool resent = false;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	fd = open_socket(ifname, DHCP_CLIENT_PORT, true);
	if (fd < 0)
		return fd;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, MAC_LEN);
	if (getrandom(&xid, sizeof(xid), 0) != sizeof(xid))
		xid = (uint32_t)time(NULL);
	len_req = check_discover(mac, xid, req, sizeof(req));
	if (len_req < 0) {
		r = len_req;
		goto out;
	}
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(DHCP_SERVER_PORT);
	to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	if (sendto(fd, req, (size_t)len_req, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0) {
		r = -errno;
		goto out;
	}
	r = ms_now(&start);
	if (r < 0)
		goto out;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		struct dhcp_msg m;
		struct check_hit h;
		ssize_t len;
		int i;

		r = ms_now(&now);
		if (r < 0)
			goto out;
		if (now - start >= timeout_ms)
			break;
		/* Once more halfway, as a client would (a loss, a slow server).
		 */
		if (!resent && now - start >= timeout_ms / 2) {
			resent = true;
			(void)sendto(fd, req, (size_t)len_req, 0,
				     (struct sockaddr *)&to, sizeof(to));
		}
		wait = timeout_ms - (now - start);
		if (!resent && wait > timeout_ms / 2 - (now - start))
			wait = timeout_ms / 2 - (now - start);
		if (poll(&pfd, 1, (int)wait) <= 0)
			continue;
		len = recvfrom(fd, buf, sizeof(buf), 0,
			       (struct sockaddr *)&from, &flen);
		if (len < 0)
			continue;
		if (dhcp_decode(buf, (size_t)len, &m) < 0 ||
		    m.op != DHCP_OP_REPLY || m.xid != xid ||
		    m.type != DHCP_OFFER)
			continue;
		memset(&h, 0, sizeof(h));
		h.from = ntohl(from.sin_addr.s_addr);
		h.server = m.has_server_id ? m.server_id : h.from;
		h.yiaddr = m.yiaddr;
		h.pxe = dhcp_vendor_class_is(&m, "PXEClient") ||
			dhcp_vendor_class_is(&m, "HTTPClient");
		memcpy(h.file, m.bootfile[0] ? m.bootfile : m.file,
		       strnlen(m.bootfile[0] ? m.bootfile : m.file,
			       DHCP_FILE_LEN));
		for (i = 0; i < n; i++)
			if (hits[i].server == h.server &&
			    (hits[i].yiaddr == 0) == (h.yiaddr == 0))
				break;
		if (i == n && n < DHCP_CHECK_SERVERS)
			hits[n++] = h;
	}
	r = n;
out:
	close(fd);
	return r;
}

static void
hit_describe(const struct check_hit *h, char *buf, size_t n)
{
	char srv[IPV4_STR_LEN], from[IPV4_STR_LEN], yi[IPV4_STR_LEN];

	ipv4_format(h->server, srv);
	ipv4_format(h->from, from);
	ipv4_format(h->yiaddr, yi);
	if (h->yiaddr != 0)
		snprintf(buf, n, "DHCP server %s (from %s) offers %s%s%s", srv,
			 from, yi, h->file[0] ? ", boot file " : "", h->file);
	else
		snprintf(buf, n, "proxyDHCP server %s (from %s)%s%s%s", srv,
			 from, h->pxe ? " PXE" : "",
			 h->file[0] ? ", boot file " : "", h->file);
}

/* See dhcp_io.h. */
int
dhcp_io_check_cli(const char *ifname)
{
	struct check_hit hits[DHCP_CHECK_SERVERS];
	char line[DHCP_CHECK_LINE];
	bool full = false;
	int n, i;

	n = check_run(ifname, DHCP_CHECK_MS, hits);
	if (n == -ENODEV || n == -EINVAL) {
		fprintf(stderr,
			"metalboot-netboot: --check-dhcp: no interface '%s'\n",
			ifname);
		return 1;
	}
	if (n < 0) {
		fprintf(stderr, "metalboot-netboot: --check-dhcp %s: %s\n",
			ifname, strerror(-n));
		return 2;
	}
	for (i = 0; i < n; i++) {
		hit_describe(&hits[i], line, sizeof(line));
		printf("%s\n", line);
		if (hits[i].yiaddr != 0)
			full = true;
	}
	printf("%d DHCP server%s answered on %s\n", n, n == 1 ? "" : "s",
	       ifname);
	if (full)
		return DHCP_CHECK_EXIT_FULL;
	return n > 0 ? DHCP_CHECK_EXIT_PROXY : 0;
}

/*
 * The check before full mode starts: another server that hands out
 * addresses on the segment is a refusal to start (-EADDRINUSE, with a
 * message naming it), unless --allow-other-dhcp; proxyDHCP servers and,
 * with the flag, full ones are warned about.
 */
static int
check_before_full(struct dhcp_server *s)
{
	struct check_hit hits[DHCP_CHECK_SERVERS];
	char line[DHCP_CHECK_LINE];
	unsigned wait = dhcp_flags.check_ms_set
				? dhcp_flags.check_ms
				: s->nb->cfg->dhcp.check_wait_ms;
	int n, i, r = 0;

	if (s->ifname[0] == '\0' || wait == 0)
		return 0;
	n = check_run(s->ifname, (int)wait, hits);
	if (n < 0) {
		log_warn_r(n, "dhcp: could not check %s for other DHCP servers",
			   s->ifname);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (hits[i].server == s->conf.server_ip)
			continue;
		hit_describe(&hits[i], line, sizeof(line));
		if (hits[i].yiaddr != 0 && !dhcp_flags.allow_other) {
			log_warn("dhcp: full mode on %s refused: another %s; "
				 "use --dhcp proxy beside it, or "
				 "--allow-other-dhcp to start anyway",
				 s->ifname, line);
			r = -EADDRINUSE;
			continue;
		}
		log_warn("dhcp: full mode on %s, but another %s: clients may "
			 "get its answers instead of ours",
			 s->ifname, line);
	}
	return r;
}

/*
 * The watch socket (full mode): port 68 on our interface, where OFFERs
 * broadcast by any server arrive. One not from us means a second DHCP
 * server on the segment: counted and logged (rate-limited).
 */
static void
on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct dhcp_server *s = arg;
	struct dhcp_rx *rx = &s->slots[0].rx;
	char srv[IPV4_STR_LEN], from[IPV4_STR_LEN], yi[IPV4_STR_LEN];
	struct dhcp_msg m;
	uint32_t server;
	size_t n;

	(void)what;
	for (n = 0; n < DHCP_IO_RX_BURST; n++) {
		if (receive(fd, rx) < 0)
			break;
		if (dhcp_decode(rx->buf, rx->len, &m) < 0 ||
		    m.op != DHCP_OP_REPLY || m.type != DHCP_OFFER)
			continue;
		server = m.has_server_id ? m.server_id
					 : ntohl(rx->peer.sin_addr.s_addr);
		if (server == s->conf.server_ip ||
		    ntohl(rx->peer.sin_addr.s_addr) == s->conf.server_ip)
			continue;
		s->cnt.foreign_offers++;
		ipv4_format(server, srv);
		ipv4_format(ntohl(rx->peer.sin_addr.s_addr), from);
		ipv4_format(m.yiaddr, yi);
		log_limited(s, DHCP_REFUSE_FOREIGN, 0,
			    "dhcp: another DHCP server on %s: %s (from %s) "
			    "offered %s",
			    s->ifname[0] ? s->ifname : "the segment", srv, from,
			    yi);
	}
}

static struct event *
add_event(struct dhcp_server *s, int fd,
	  void (*cb)(evutil_socket_t, short, void *))
{
	struct event *ev =
		event_new(s->nb->base, fd, EV_READ | EV_PERSIST, cb, s);

	if (ev != NULL && event_add(ev, NULL) < 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

/*
 * The save timer (armed on a change), the prune timer (every
 * DHCP_PRUNE_S) and the writer thread when there is a state directory.
 */
static void
on_standby(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)standby_serving(arg);
}

static int
start_timers(struct dhcp_server *s)
{
	struct timeval tv = { DHCP_PRUNE_S, 0 };
	int r;

	s->ev_save = evtimer_new(s->nb->base, on_save, s);
	s->ev_prune = event_new(s->nb->base, -1, EV_PERSIST, on_prune, s);
	s->ev_pace = evtimer_new(s->nb->base, on_pace, s);
	if (s->nb->cfg != NULL)
		storm_pace_init(&s->pace, &s->nb->cfg->dhcp.pace);
	s->pacing = s->pace.conf.rate > 0 || s->pace.conf.jitter_ms > 0;
	if (getrandom(&s->rnd, sizeof(s->rnd), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(s->rnd) ||
	    s->rnd == 0)
		s->rnd = 0x9e3779b9u;
	if (s->ev_save == NULL || s->ev_prune == NULL || s->ev_pace == NULL ||
	    event_add(s->ev_prune, &tv) < 0)
		return -ENOMEM;
	if (s->nb->cfg != NULL && s->nb->cfg->dhcp.standby) {
		/* A standby decides without waiting for a packet. */
		struct timeval st = { 0, DHCP_STANDBY_CHECK_MS * 1000 };

		s->ev_standby =
			event_new(s->nb->base, -1, EV_PERSIST, on_standby, s);
		if (s->ev_standby == NULL || event_add(s->ev_standby, &st) < 0)
			return -ENOMEM;
	}
	if (s->nb->state_dir == NULL)
		return 0;
	r = writer_start(&s->writer, s->nb->state_dir);
	if (r < 0)
		log_warn_r(r, "dhcp: lease writer");
	return r;
}

/* Full mode: watch port 68 for other servers' OFFERs (best effort). */
static void
start_watch(struct dhcp_server *s)
{
	s->fd_watch = open_socket(s->ifname, DHCP_CLIENT_PORT, true);
	if (s->fd_watch < 0) {
		log_warn_r(s->fd_watch,
			   "dhcp: not watching port %u for other servers",
			   DHCP_CLIENT_PORT);
		return;
	}
	s->ev_watch = add_event(s, s->fd_watch, on_watch);
	if (s->ev_watch == NULL) {
		close(s->fd_watch);
		s->fd_watch = -1;
	}
}

/* See dhcp_io.h. */
int
dhcp_io_start(struct netboot *nb)
{
	struct dhcp_server *s = NULL;
	size_t line = 0;
	int r;

	if (nb->dhcp == DHCP_OFF || nb->cfg == NULL)
		return 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->nb = nb;
	s->fd = -1;
	s->fd_proxy = -1;
	s->fd_watch = -1;
	leases_init(&s->leases);
	nb->dhcp_server = s;
	r = make_conf(s, nb);
	if (r < 0)
		return r;
	if (nb->cfg->interface != NULL) {
		if (strlen(nb->cfg->interface) >= IFNAMSIZ) {
			log_warn("dhcp: interface name '%s' too long",
				 nb->cfg->interface);
			return -EINVAL;
		}
		memcpy(s->ifname, nb->cfg->interface,
		       strlen(nb->cfg->interface) + 1);
	} else if (net_iface_for_ip(s->conf.server_ip, s->ifname) < 0) {
		char ip[IPV4_STR_LEN];

		ipv4_format(s->conf.server_ip, ip);
		log_warn("dhcp: no interface holds %s; answering on every "
			 "interface (set interface: in netboot.yaml)",
			 ip);
		s->ifname[0] = '\0';
	}
	if (nb->state_dir != NULL) {
		r = mkdir_p(nb->state_dir, 0700);
		if (r == 0)
			r = leases_load(&s->leases, nb->state_dir, &line);
		if (r == -EINVAL) {
			log_warn("dhcp: %s/%s:%zu: malformed lease",
				 nb->state_dir, LEASES_FILE, line);
			return r;
		}
		if (r < 0) {
			log_warn_r(r, "dhcp: loading leases from %s",
				   nb->state_dir);
			return r;
		}
	}
	/* A standby shares the segment with its primary by design. */
	if (s->conf.mode == DHCP_FULL && !nb->cfg->dhcp.standby) {
		r = check_before_full(s);
		if (r < 0)
			return r;
	}
	s->fd = open_socket(s->ifname, DHCP_SERVER_PORT, false);
	if (s->fd < 0) {
		r = s->fd;
		log_warn_r(r, "dhcp: port %u on %s", DHCP_SERVER_PORT,
			   s->ifname[0] ? s->ifname : "every interface");
		return r;
	}
	s->fd_proxy = open_socket(s->ifname, DHCP_PROXY_PORT, false);
	if (s->fd_proxy < 0) {
		r = s->fd_proxy;
		log_warn_r(r, "dhcp: port %u on %s", DHCP_PROXY_PORT,
			   s->ifname[0] ? s->ifname : "every interface");
		return r;
	}
	s->ev = add_event(s, s->fd, on_dhcp);
	s->ev_proxy = add_event(s, s->fd_proxy, on_proxy);
	if (s->ev == NULL || s->ev_proxy == NULL)
		return -ENOMEM;
	r = start_timers(s);
	if (r < 0)
		return r;
	if (s->conf.mode == DHCP_FULL && !nb->cfg->dhcp.standby)
		start_watch(s);
	if (s->conf.mode == DHCP_FULL)
		store_io_set_lease_observer(nb, on_shared_lease, s);
	/* The store started before us: record "dhcp" there, answer lookups. */
	dhcp_io_set_nodes(nb, store_io_nodes(nb));
	if (nb_add_metric_source(nb, dhcp_io_metric_samples) < 0)
		return -ENOMEM;
	log_info("dhcp: %s mode on %s, %zu reservations, %zu leases loaded",
		 dhcp_mode_name(s->conf.mode),
		 s->ifname[0] ? s->ifname : "every interface", s->conf.n_hosts,
		 s->leases.n);
	return 0;
}

/*
 * Nothing is lost at a clean stop: the writer finishes what it has, and
 * a change not yet handed to it is written here, synchronously.
 */
static void
stop_writer(struct dhcp_server *s)
{
	int r;

	if (!s->writer.ready)
		return;
	r = writer_stop(&s->writer);
	if (r < 0)
		log_warn_r(r, "dhcp: saving leases %s", s->writer.path);
	if (!s->dirty)
		return;
	r = leases_save(&s->leases, s->nb->state_dir);
	if (r < 0)
		log_warn_r(r, "dhcp: saving leases in %s", s->nb->state_dir);
	s->dirty = false;
}

/* The offers still held are dropped (their clients ask again). */
static void
pace_stop(struct dhcp_server *s)
{
	struct dhcp_paced *p;

	while ((p = s->paced) != NULL) {
		s->paced = p->next;
		free(p);
	}
	if (s->ev_pace != NULL)
		event_free(s->ev_pace);
}

/* The claims under way are forgotten (their clients ask again). */
static void
claims_stop(struct dhcp_server *s)
{
	struct dhcp_claim *cl;

	store_io_set_lease_observer(s->nb, NULL, NULL);
	while ((cl = s->claims) != NULL) {
		s->claims = cl->next;
		store_io_claim_cancel(s->nb, cl->tag);
		free(cl);
	}
}

/* See dhcp_io.h. */
void
dhcp_io_stop(struct netboot *nb)
{
	struct dhcp_server *s = nb->dhcp_server;

	if (s == NULL)
		return;
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->ev_proxy != NULL)
		event_free(s->ev_proxy);
	if (s->fd >= 0)
		close(s->fd);
	if (s->fd_proxy >= 0)
		close(s->fd_proxy);
	if (s->ev_watch != NULL)
		event_free(s->ev_watch);
	if (s->fd_watch >= 0)
		close(s->fd_watch);
	if (s->ev_save != NULL)
		event_free(s->ev_save);
	if (s->ev_prune != NULL)
		event_free(s->ev_prune);
	if (s->ev_standby != NULL)
		event_free(s->ev_standby);
	pace_stop(s);
	claims_stop(s);
	stop_writer(s);
	/* The store outlives us (it stops last): take our lookup back. */
	if (s->nodes != NULL)
		nodes_set_lookup(s->nodes, NULL, NULL);
	leases_done(&s->leases);
	free(s->hosts);
	free(s->relays);
	free(s);
	nb->dhcp_server = NULL;
}

/* See dhcp_io.h. */
void
dhcp_io_set_nodes(struct netboot *nb, struct nodes *ns)
{
	struct dhcp_server *s = nb->dhcp_server;

	if (s == NULL)
		return;
	if (s->nodes != NULL && s->nodes != ns)
		nodes_set_lookup(s->nodes, NULL, NULL);
	s->nodes = ns;
	if (ns != NULL)
		nodes_set_lookup(ns, dhcp_io_lease_lookup, s);
}

/* See dhcp_io.h. */
int
dhcp_io_lease_lookup(void *ctx, const uint8_t mac[6], uint32_t *ret_ip)
{
	struct dhcp_server *s = ctx;
	const struct lease *l;

	if (s == NULL)
		return -ENOENT;
	l = leases_find_mac(&s->leases, mac);
	if (l == NULL || l->state != LEASE_BOUND ||
	    l->expires <= (int64_t)time(NULL))
		return -ENOENT;
	*ret_ip = l->ip;
	return 0;
}

/* See dhcp_io.h. */
size_t
dhcp_io_metric_samples(const struct netboot *nb, struct metric_sample *out,
		       size_t cap)
{
	const struct dhcp_server *s = nb->dhcp_server;
	int64_t now = (int64_t)time(NULL);
	struct metric_sample v[DHCP_IO_METRICS] = {
		{ "dhcp_received_total", "DHCP messages received.", false,
		  s ? s->cnt.received : 0 },
		{ "dhcp_dropped_total",
		  "DHCP messages dropped as malformed or not for us.", false,
		  s ? s->cnt.dropped : 0 },
		{ "dhcp_ignored_total",
		  "DHCP messages deliberately not answered.", false,
		  s ? s->cnt.ignored : 0 },
		{ "dhcp_offers_total", "DHCPOFFERs sent (full mode).", false,
		  s ? s->cnt.offer : 0 },
		{ "dhcp_acks_total", "DHCPACKs sent (full mode).", false,
		  s ? s->cnt.ack : 0 },
		{ "dhcp_naks_total", "DHCPNAKs sent.", false,
		  s ? s->cnt.nak : 0 },
		{ "dhcp_proxy_replies_total",
		  "ProxyDHCP offers and port-4011 ACKs sent.", false,
		  s ? s->cnt.proxy_offer + s->cnt.proxy_ack : 0 },
		{ "dhcp_leases_bound", "DHCP leases bound and unexpired.", true,
		  s ? leases_count(&s->leases, LEASE_BOUND, now) : 0 },
		{ "dhcp_leases_offered", "DHCP addresses offered, not bound.",
		  true, s ? leases_count(&s->leases, LEASE_OFFERED, now) : 0 },
		{ "dhcp_pool_size", "Addresses in the dynamic pool.", true,
		  s && s->conf.has_pool
			  ? (uint64_t)s->conf.pool.last - s->conf.pool.first + 1
			  : 0 },
		{ "dhcp_relay_dropped_total",
		  "Relayed DHCP messages dropped: giaddr not a listed relay.",
		  false, s ? s->cnt.relay_dropped : 0 },
		{ "dhcp_decline_refused_total",
		  "DHCPDECLINEs refused (not the holder, not a pool address).",
		  false, s ? s->cnt.decline_refused : 0 },
		{ "dhcp_foreign_offers_total",
		  "DHCPOFFERs of another server seen on the segment.", false,
		  s ? s->cnt.foreign_offers : 0 },
		{ "dhcp_lease_entries",
		  "Entries in the lease table, lapsed ones included.", true,
		  s ? s->leases.n : 0 },
		{ "dhcp_offers_delayed_total",
		  "DHCP offers held back by pacing (dhcp.pace).", false,
		  s ? s->offers_delayed : 0 },
		{ "dhcp_offers_dropped_total",
		  "DHCP offers dropped past the pacing queue (the client "
		  "asks again).",
		  false, s ? s->offers_dropped : 0 },
		{ "dhcp_offers_queued", "DHCP offers waiting for their time.",
		  true, s ? storm_pace_queued(&s->pace) : 0 },
		{ "dhcp_claims_taken_total",
		  "Addresses found held by another machine in etcd when "
		  "claimed (another was chosen).",
		  false, s ? s->claims_taken : 0 },
		{ "dhcp_claims_failed_total",
		  "Addresses not handed out: etcd did not confirm the claim.",
		  false, s ? s->claims_failed : 0 },
		{ "dhcp_claims_queued_total",
		  "Reservations answered while etcd was unreachable (lease "
		  "queued).",
		  false, s ? s->claims_queued : 0 },
		{ "dhcp_standby_ignored_total",
		  "DHCP messages left to the primary (dhcp.failover: standby).",
		  false, s ? s->standby_ignored : 0 },
		{ "dhcp_standby_serving",
		  "1 when this standby answers DHCP (no primary registered).",
		  true, s && s->serving ? 1 : 0 },
	};
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < DHCP_IO_METRICS && i < cap; i++)
		out[i] = v[i];
	return i;
}

/* See dhcp_io.h. */
int
dhcp_io_option(int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case DHCP_OPT_BASE:
		dhcp_flags.allow_other = true;
		return 0;
	case DHCP_OPT_BASE + 1:
		if (arg == NULL ||
		    num_parse_u64(arg, 0, DHCP_CHECK_WAIT_MAX, &v) < 0) {
			fprintf(stderr,
				"metalboot-netboot: --dhcp-check-ms: '%s' is "
				"not 0-%u\n",
				arg ? arg : "", DHCP_CHECK_WAIT_MAX);
			return -EINVAL;
		}
		dhcp_flags.check_ms = (unsigned)v;
		dhcp_flags.check_ms_set = true;
		return 0;
	default:
		return -EINVAL;
	}
}
