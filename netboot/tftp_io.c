/*
 * tftp_io.c - the TFTP service around the pure engine (tftp.c).
 *
 * One listening socket takes requests. Each accepted RRQ gets a transfer:
 * a socket bound to the local address the request hit (IP_PKTINFO) and an
 * ephemeral port (so the reply comes from the address the client asked,
 * and the port is the server's transfer ID), a retransmission timer, and
 * a window buffer. Files are opened through path_open_under() for every
 * request (the safety check is never skipped) and then shared: transfers
 * of the same inode use one descriptor. A window is read with one pread()
 * and sent with one sendmmsg(). Requests are taken on the owner loop
 * (nb->base), which decides everything (path, caps, the shared file); the
 * transfer then runs on a worker loop (workers.h, round robin) when there
 * are workers, and its end comes back to the owner loop (the node's
 * milestone, the histogram, the caps and file table). A transfer's own
 * fields belong to the loop it runs on; the owner reads only what never
 * changes after the hand-off (peer, request, name) and acked_any.
 */
#include "tftp_io.h"

#include "config.h"
#include "log.h"
#include "net.h"
#include "nodes.h"
#include "path.h"
#include "store_io.h"
#include "storm.h"
#include "tftp.h"
#include "workers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define TFTP_RX_BURST	 64 /* datagrams read per callback */
#define TFTP_NAME_LOG	 96 /* bytes of a file name quoted in logs */
#define TFTP_SNDBUF	 (1024 * 1024)
#define TFTP_MTU_UNKNOWN 1500 /* when the interface MTU cannot be read */
#define TFTP_PEER_STR	 (IPV4_STR_LEN + 6)
/*
 * Bytes read at once per transfer (at least one window). Each transfer
 * holds this much: 1,000 transfers at once of a 64 KiB read-ahead were
 * most of the server's 72 MiB in the boot storm; 16 KiB is 11 blocks of
 * 1468, one pread per 11 lockstep blocks from the page cache.
 */
#define TFTP_READAHEAD	 (16 * 1024)
#define TFTP_BADTID_MAX	 16 /* ERROR 5 replies per transfer (no reflector) */

/* An open file shared by the transfers of one inode. */
struct tftp_file {
	struct tftp_file *next;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int fd;
	unsigned refs;
};

struct tftp_conn {
	struct tftp_conn *prev, *next; /* owner: srv->conns */
	struct tftp_server *srv;
	/* Where it runs: the owner loop (NB_OWNER) or worker `worker`. */
	int worker;
	struct event_base *base;
	struct nb_counters *k; /* that loop's counters */
	struct tftp_out first; /* tftp_xfer_start's first step */
	struct nb_job job;     /* the begin and end hand-offs */
	int acked_any;	       /* atomic: a block was acknowledged */
	unsigned jobs;	       /* owner: re-requests out on the worker */
	bool ended;	       /* owner: off the list, freed when jobs is 0 */
	bool finished;	       /* its loop: events and socket gone */
	enum tftp_act outcome; /* its loop, read by the owner at the end */
	uint64_t done_ms;      /* the transfer's time, when it completed */
	struct tftp_xfer x;
	int fd;
	struct event *ev_read, *ev_timer, *ev_write;
	struct sockaddr_in peer;
	struct tftp_file *file;
	struct storm_cap_entry *cap; /* its slot of the per-file cap */
	uint8_t *buf;  /* file bytes [buf_off, buf_off + buf_len) */
	size_t bufcap; /* its size: a window, at least TFTP_READAHEAD */
	uint64_t buf_off;
	size_t buf_len;
	uint8_t (*hdrs)[TFTP_HDR_LEN];
	struct iovec *iov;
	struct mmsghdr *msgs;
	unsigned pend_idx, pend_cnt; /* messages still to send */
	uint8_t req[TFTP_REQ_MAX];   /* the RRQ, to spot a resent one */
	size_t req_len;
	uint64_t started_ms;
	uint64_t bytes;
	uint32_t retransmits_counted;
	unsigned badtid_sent;
	char peer_str[TFTP_PEER_STR];
	char name[TFTP_NAME_LOG * 4 + 1];
};

struct tftp_server {
	struct netboot *nb;
	int fd;
	int boot_fd; /* OUT/boot (GRUB configs), or -1 */
	struct event *ev;
	struct tftp_conn *conns;
	unsigned nconns;
	struct tftp_file *files;
	struct storm_caps caps; /* transfers per file (tftp.max_per_file) */
	time_t last_cap_warn;
	unsigned next_worker; /* round robin over nb->nworkers */
	uint8_t pkt[TFTP_REQ_MAX + 1];
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Quote a peer string for a log line: printable ASCII, the rest \xNN. */
static void
escape(const char *s, size_t n, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n && i < TFTP_NAME_LOG && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < n && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void
peer_format(const struct sockaddr_in *sin, char *buf, size_t sz)
{
	char ip[IPV4_STR_LEN];

	ipv4_format(ntohl(sin->sin_addr.s_addr), ip);
	snprintf(buf, sz, "%s:%u", ip, (unsigned)ntohs(sin->sin_port));
}

static bool
same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr &&
	       a->sin_port == b->sin_port;
}

/*
 * Send an ERROR from socket fd to peer. When local is not NULL the source
 * address is set with IP_PKTINFO (replies from the listener).
 */
static void
send_error(struct nb_counters *k, int fd, const struct sockaddr_in *peer,
	   const struct in_addr *local, uint16_t code, const char *msg)
{
	uint8_t pkt[TFTP_HDR_LEN + TFTP_ERRMSG_MAX + 1];
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov;
	struct msghdr mh;
	size_t len;

	len = tftp_build_error(pkt, sizeof(pkt), code, msg);
	if (len == 0)
		return;
	iov.iov_base = pkt;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = (void *)peer;
	mh.msg_namelen = sizeof(*peer);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (local != NULL && local->s_addr != INADDR_ANY) {
		struct cmsghdr *cm;
		struct in_pktinfo pi;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = *local;
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (sendmsg(fd, &mh, 0) < 0) {
		log_debug("tftp: sending ERROR %u: %s", code, strerror(errno));
		return;
	}
	NB_ADD(&k->tftp_errors_sent, 1);
	NB_ADD(&k->tftp_packets_sent, 1);
}

/* Take a reference on the shared entry for the file open as fd. */
static struct tftp_file *
file_get(struct tftp_server *srv, int fd, const struct stat *st)
{
	struct tftp_file *f;

	for (f = srv->files; f != NULL; f = f->next) {
		if (f->dev == st->st_dev && f->ino == st->st_ino &&
		    f->size == st->st_size &&
		    f->mtime.tv_sec == st->st_mtim.tv_sec &&
		    f->mtime.tv_nsec == st->st_mtim.tv_nsec) {
			close(fd);
			f->refs++;
			return f;
		}
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		close(fd);
		return NULL;
	}
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = st->st_size;
	f->mtime = st->st_mtim;
	f->fd = fd;
	f->refs = 1;
	f->next = srv->files;
	srv->files = f;
	return f;
}

static void
file_put(struct tftp_server *srv, struct tftp_file *f)
{
	struct tftp_file **pp;

	if (f == NULL || --f->refs > 0)
		return;
	for (pp = &srv->files; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	close(f->fd);
	free(f);
}

/* Free what the transfer's loop holds: events, socket, buffers. */
static void
conn_close_io(struct tftp_conn *c)
{
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	c->ev_read = c->ev_timer = c->ev_write = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	free(c->hdrs);
	free(c->iov);
	free(c->msgs);
	c->buf = NULL;
	c->hdrs = NULL;
	c->iov = NULL;
	c->msgs = NULL;
}

/*
 * Free a transfer (owner loop): what its loop held, if still there, its
 * file reference and cap slot. It must not be (or no longer be) on the
 * server's list.
 */
static void
conn_release(struct tftp_server *srv, struct tftp_conn *c)
{
	conn_close_io(c);
	file_put(srv, c->file);
	if (c->cap != NULL)
		storm_cap_put(&srv->caps, c->cap);
	free(c);
}

/* Take a transfer off the server's list (owner loop). */
static void
conn_unlink(struct tftp_conn *c)
{
	struct tftp_server *srv = c->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	srv->nb->counters.tftp_active--;
}

static void mark_node(struct tftp_conn *c);

/*
 * Owner loop: the transfer's loop is done with it. Its completion is
 * recorded (histogram, the node's milestone), then it is freed unless a
 * re-request job is still out on its worker.
 */
static void
conn_end(void *arg)
{
	struct tftp_conn *c = arg;
	struct tftp_server *srv = c->srv;

	conn_unlink(c);
	if (c->outcome == TFTP_ACT_DONE) {
		histo_observe(&srv->nb->histos.tftp_transfer,
			      (double)c->done_ms / 1000);
		mark_node(c);
	}
	c->ended = true;
	if (c->jobs == 0)
		conn_release(srv, c);
}

/*
 * The transfer's loop: it is over. Its events and socket go now, on this
 * loop; the owner loop hears of it through its mailbox.
 */
static void
conn_finish(struct tftp_conn *c, enum tftp_act outcome)
{
	c->outcome = outcome;
	c->finished = true;
	conn_close_io(c);
	if (c->worker == NB_OWNER) {
		conn_end(c);
		return;
	}
	c->job.fn = conn_end;
	c->job.arg = c;
	nb_post_job(c->srv->nb, NB_OWNER, &c->job);
}

static void
arm_timer(struct tftp_conn *c)
{
	struct timeval tv;

	tv.tv_sec = c->x.rto_ms / 1000;
	tv.tv_usec = (c->x.rto_ms % 1000) * 1000;
	evtimer_add(c->ev_timer, &tv);
}

static void
count_retransmits(struct tftp_conn *c)
{
	NB_ADD(&c->k->tftp_retransmits,
	       c->x.retransmits - c->retransmits_counted);
	c->retransmits_counted = c->x.retransmits;
}

/* Send what is pending; on a full socket wait for EV_WRITE. */
static void
flush(struct tftp_conn *c)
{
	struct nb_counters *k = c->k;
	int n;
	unsigned i;

	while (c->pend_cnt > 0) {
		if (c->pend_cnt == 1) {
			struct mmsghdr *m = &c->msgs[c->pend_idx];
			ssize_t w = sendmsg(c->fd, &m->msg_hdr, 0);

			n = w < 0 ? -1 : 1;
			if (w >= 0)
				m->msg_len = (unsigned)w;
		} else {
			n = sendmmsg(c->fd, c->msgs + c->pend_idx, c->pend_cnt,
				     0);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS) {
				event_add(c->ev_write, NULL);
				return;
			}
			/* Lost like a dropped datagram; the timer recovers. */
			log_debug("tftp %s: send: %s", c->peer_str,
				  strerror(errno));
			c->pend_cnt = 0;
			return;
		}
		for (i = 0; i < (unsigned)n; i++) {
			size_t len = c->msgs[c->pend_idx + i].msg_len;

			NB_ADD(&k->tftp_packets_sent, 1);
			if (len > TFTP_HDR_LEN) {
				NB_ADD(&k->tftp_bytes_sent, len - TFTP_HDR_LEN);
				c->bytes += len - TFTP_HDR_LEN;
			}
		}
		c->pend_idx += (unsigned)n;
		c->pend_cnt -= (unsigned)n;
	}
}

/*
 * Make file bytes [off, off + want) available in c->buf and return a
 * pointer to them. The buffer is refilled with one pread of up to
 * c->bufcap bytes from off (read-ahead: a lockstep transfer reads the file
 * once per TFTP_READAHEAD bytes, not once per block). Returns NULL with
 * *ret_err set when the file no longer holds what its size promised.
 */
static const uint8_t *
file_bytes(struct tftp_conn *c, uint64_t off, size_t want, int *ret_err)
{
	size_t got = 0, len;
	ssize_t n;

	if (off >= c->buf_off && off + want <= c->buf_off + c->buf_len)
		return c->buf + (off - c->buf_off);
	len = c->bufcap;
	if (len > c->x.size - off)
		len = (size_t)(c->x.size - off);
	if (len < want)
		len = want;
	c->buf_len = 0;
	while (got < len) {
		n = pread(c->file->fd, c->buf + got, len - got,
			  (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*ret_err = n < 0 ? -errno : -EIO;
			return NULL;
		}
		got += (size_t)n;
	}
	c->buf_off = off;
	c->buf_len = got;
	return c->buf;
}

/*
 * Queue blocks first..first+count-1 (contiguous in the file, so read
 * together) and send them: one sendmsg for one block, one sendmmsg for a
 * window. Returns 0, or -EIO and friends when the file cannot be read.
 */
static int
send_blocks(struct tftp_conn *c, uint32_t first, uint32_t count)
{
	uint64_t off = tftp_block_off(&c->x, first);
	const uint8_t *data = NULL;
	size_t want = 0, pos = 0;
	uint32_t i;
	int r = 0;

	for (i = 0; i < count; i++)
		want += tftp_block_len(&c->x, first + i);
	if (want > 0) {
		data = file_bytes(c, off, want, &r);
		if (data == NULL)
			return r;
	}
	for (i = 0; i < count; i++) {
		struct msghdr *mh = &c->msgs[i].msg_hdr;
		size_t len = tftp_block_len(&c->x, first + i);

		tftp_data_hdr(c->hdrs[i], first + i);
		c->iov[2 * i].iov_base = c->hdrs[i];
		c->iov[2 * i].iov_len = TFTP_HDR_LEN;
		c->iov[2 * i + 1].iov_base = (void *)(data ? data + pos : NULL);
		c->iov[2 * i + 1].iov_len = len;
		pos += len;
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &c->peer;
		mh->msg_namelen = sizeof(c->peer);
		mh->msg_iov = &c->iov[2 * i];
		mh->msg_iovlen = 2;
		c->msgs[i].msg_len = 0;
	}
	if (c->pend_cnt > 0)
		event_del(c->ev_write);
	c->pend_idx = 0;
	c->pend_cnt = count;
	flush(c);
	return 0;
}

static void
send_oack(struct tftp_conn *c)
{
	uint8_t pkt[TFTP_REQ_MAX];
	size_t len = tftp_build_oack(&c->x, pkt, sizeof(pkt));

	if (len == 0 || sendto(c->fd, pkt, len, 0, (struct sockaddr *)&c->peer,
			       sizeof(c->peer)) < 0) {
		log_debug("tftp %s: sending OACK: %s", c->peer_str,
			  len == 0 ? "too long" : strerror(errno));
		return;
	}
	NB_ADD(&c->k->tftp_packets_sent, 1);
}

/*
 * Open what a request names: a file under the TFTP root, or for
 * grub/nodes/MAC.cfg the GRUB configuration of the Secure Boot machine
 * with that MAC, OUT/boot/NAME.grub.cfg (tftp.h). Another machine's
 * MAC gets "not found" like any absent file.
 */
static int
open_request(struct tftp_server *srv, const char *path, int *fd,
	     struct stat *st)
{
	const struct nb_config_node *nd = NULL;
	uint8_t mac[MAC_LEN];
	char name[HOST_NAME_MAX_LEN + sizeof(".grub.cfg")];
	int r;

	r = tftp_grub_node(path, mac);
	if (r == -ENOENT)
		return path_open_under(srv->nb->root_fd, path, fd, st);
	if (r == 0 && srv->nb->cfg != NULL)
		nd = nb_config_find_mac(srv->nb->cfg, mac);
	if (nd == NULL || !nd->secure_boot || srv->boot_fd < 0)
		return -ENOENT;
	if (snprintf(name, sizeof(name), "%s.grub.cfg", nd->name) >=
	    (int)sizeof(name))
		return -ENAMETOOLONG;
	return path_open_under(srv->boot_fd, name, fd, st);
}

/*
 * A transfer to a machine in the inventory completed: its boot has begun
 * ("booting", with the file's milestone in its timeline: "kernel",
 * "initrd", or "tftp" for a loader such as iPXE).
 */
static void
mark_node(struct tftp_conn *c)
{
	struct nodes *ns = store_io_nodes(c->srv->nb);
	const char *ev = nodes_file_milestone(c->name);
	struct node *nd;
	int r;

	if (ns == NULL)
		return;
	nd = nodes_find_ip(ns, ntohl(c->peer.sin_addr.s_addr));
	if (nd == NULL)
		return;
	r = nodes_mark(ns, nd, ev != NULL ? ev : "tftp", nodes_now_ms());
	if (r < 0)
		log_warn_r(r, "node %s: cannot record its TFTP fetch",
			   nd->name);
}

/*
 * Carry out the engine's decision. Returns false when the transfer was
 * freed (the caller must not touch c again).
 */
static bool
apply(struct tftp_conn *c, const struct tftp_out *out, bool progress)
{
	struct nb_counters *k = c->k;
	uint64_t ms;
	int r;

	count_retransmits(c);
	switch (out->act) {
	case TFTP_ACT_NONE:
		if (progress)
			arm_timer(c);
		return true;
	case TFTP_ACT_OACK:
		send_oack(c);
		arm_timer(c);
		return true;
	case TFTP_ACT_SEND:
		r = send_blocks(c, out->first, out->count);
		if (r < 0) {
			log_warn_r(r, "tftp %s: reading '%s'", c->peer_str,
				   c->name);
			send_error(k, c->fd, &c->peer, NULL, TFTP_EUNDEF,
				   "Read error");
			NB_ADD(&k->tftp_transfers_failed, 1);
			conn_finish(c, TFTP_ACT_ABORT);
			return false;
		}
		arm_timer(c);
		return true;
	case TFTP_ACT_DONE:
		ms = now_ms() - c->started_ms;
		log_info("tftp %s: sent '%s', %llu bytes in %llu ms (blksize "
			 "%u, windowsize %u, %u resent)",
			 c->peer_str, c->name, (unsigned long long)c->x.size,
			 (unsigned long long)ms, c->x.blksize, c->x.windowsize,
			 c->x.retransmits);
		NB_ADD(&k->tftp_transfers_completed, 1);
		c->done_ms = ms; /* the owner loop records it */
		break;
	case TFTP_ACT_ABORT:
		if (out->probe) {
			/* EDK II's tsize probe: a normal end. */
			log_debug("tftp %s: '%s': option probe ended (ERROR "
				  "8 after OACK)",
				  c->peer_str, c->name);
			NB_ADD(&k->tftp_probes, 1);
		} else {
			log_info("tftp %s: '%s': client sent ERROR %u",
				 c->peer_str, c->name, out->code);
			NB_ADD(&k->tftp_transfers_failed, 1);
		}
		break;
	case TFTP_ACT_TIMEOUT:
		log_info(
			"tftp %s: '%s': no answer after %u tries, giving up "
			"(%llu of %llu bytes acknowledged)",
			c->peer_str, c->name, TFTP_RETRIES_MAX,
			(unsigned long long)(c->x.acked == 0
						     ? 0
						     : tftp_block_off(
							       &c->x,
							       c->x.acked) +
							       tftp_block_len(
								       &c->x,
								       c->x.acked)),
			(unsigned long long)c->x.size);
		NB_ADD(&k->tftp_transfers_failed, 1);
		break;
	}
	conn_finish(c, out->act);
	return false;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_conn *c = arg;
	struct tftp_out out;

	(void)fd;
	(void)what;
	tftp_xfer_timeout(&c->x, now_ms(), &out);
	if (out.act != TFTP_ACT_TIMEOUT)
		log_debug("tftp %s: '%s': timeout, resending (try %u, rto %u "
			  "ms)",
			  c->peer_str, c->name, c->x.retries, c->x.rto_ms);
	apply(c, &out, false);
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_conn *c = arg;

	(void)fd;
	(void)what;
	flush(c);
}

static void
on_conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_conn *c = arg;
	uint8_t pkt[TFTP_HDR_LEN + TFTP_ERRMSG_MAX * 4];
	struct sockaddr_in from;
	socklen_t flen;
	struct tftp_out out;
	uint32_t acked;
	ssize_t n;
	int i;

	(void)what;
	for (i = 0; i < TFTP_RX_BURST; i++) {
		flen = sizeof(from);
		n = recvfrom(fd, pkt, sizeof(pkt), MSG_TRUNC,
			     (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug("tftp %s: recv: %s", c->peer_str,
					  strerror(errno));
			return;
		}
		if (flen < sizeof(from) || from.sin_family != AF_INET)
			continue;
		if (!same_peer(&from, &c->peer)) {
			char ps[TFTP_PEER_STR];

			/* RFC 1350: another TID gets ERROR 5, and no more. */
			peer_format(&from, ps, sizeof(ps));
			log_debug("tftp %s: packet from unknown TID %s",
				  c->peer_str, ps);
			if (c->badtid_sent < TFTP_BADTID_MAX) {
				c->badtid_sent++;
				send_error(c->k, fd, &from, NULL, TFTP_EBADID,
					   "Unknown transfer ID");
			}
			continue;
		}
		if ((size_t)n > sizeof(pkt))
			n = sizeof(pkt);
		acked = c->x.acked;
		tftp_xfer_input(&c->x, pkt, (size_t)n, now_ms(), &out);
		if (c->x.acked != 0)
			__atomic_store_n(&c->acked_any, 1, __ATOMIC_RELAXED);
		if (!apply(c, &out, c->x.acked != acked))
			return;
		/*
		 * In lockstep the next ACK cannot be here yet: save the
		 * recvfrom that would only say EAGAIN (the event is level
		 * triggered, so nothing is lost).
		 */
		if (c->x.windowsize == 1)
			return;
	}
}

/* The largest block the interface with index ifindex carries unfragmented. */
static unsigned
blksize_cap(struct tftp_server *srv, int ifindex)
{
	struct ifreq ifr;
	int mtu = TFTP_MTU_UNKNOWN;

	memset(&ifr, 0, sizeof(ifr));
	if (ifindex > 0 && if_indextoname((unsigned)ifindex, ifr.ifr_name) &&
	    ioctl(srv->fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = ifr.ifr_mtu;
	if (mtu <= TFTP_IP_UDP_OVERHEAD + TFTP_BLKSIZE_MIN)
		return TFTP_BLKSIZE_MIN;
	return (unsigned)(mtu - TFTP_IP_UDP_OVERHEAD);
}

static int
conn_socket(const struct in_addr *local)
{
	struct sockaddr_in sin;
	int fd, v;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Big blocks fragment rather than vanish (dnsmasq does the same). */
	v = IP_PMTUDISC_DONT;
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	v = TFTP_SNDBUF;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = *local;
	sin.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		v = -errno;
		close(fd);
		return v;
	}
	return fd;
}

/* Rate-limited warning when a cap turns a request away. */
static void
cap_warn(struct tftp_server *srv, const char *peer, const char *what)
{
	time_t t = time(NULL);

	if (t == srv->last_cap_warn)
		return;
	srv->last_cap_warn = t;
	log_warn("tftp %s: request dropped: %s", peer, what);
}

/*
 * The transfer that req repeats: the same file asked again from the same
 * TID before anything was acknowledged (NULL if none). Counts the client's
 * transfers into *ret_per_client.
 */
static struct tftp_conn *
find_rerequest(struct tftp_server *srv, const struct sockaddr_in *peer,
	       const struct tftp_req *req, unsigned *ret_per_client)
{
	struct tftp_conn *c, *found = NULL;
	struct tftp_req first;
	unsigned n = 0;

	for (c = srv->conns; c != NULL; c = c->next) {
		if (c->peer.sin_addr.s_addr != peer->sin_addr.s_addr)
			continue;
		n++;
		if (c->peer.sin_port == peer->sin_port &&
		    __atomic_load_n(&c->acked_any, __ATOMIC_RELAXED) == 0 &&
		    tftp_parse_req(c->req, c->req_len, &first) == 0 &&
		    first.file_len == req->file_len &&
		    memcmp(first.file, req->file, req->file_len) == 0)
			found = c;
	}
	*ret_per_client = n;
	return found;
}

/*
 * A slot of the per-file cap for the file open as fd. At the cap the
 * request is dropped like one past the other caps (fd closed, -EBUSY):
 * the client retransmits its RRQ and gets a slot when one frees. Returns
 * 0 with *ret, -EBUSY, or -ENOMEM (fd closed).
 */
static int
take_file_slot(struct tftp_server *srv, const char *peer, int fd,
	       const struct stat *st, struct storm_cap_entry **ret)
{
	const uint64_t key[2] = { (uint64_t)st->st_dev, (uint64_t)st->st_ino };
	int r = storm_cap_take(&srv->caps, key, ret);

	if (r == 0)
		return 0;
	close(fd);
	if (r == -EBUSY) {
		srv->nb->counters.tftp_file_capped++;
		cap_warn(srv, peer, "too many transfers of this file");
	}
	return r;
}

/* A request repeated to a transfer, on the transfer's loop. */
struct rereq {
	struct nb_job job; /* there, then back to the owner */
	struct tftp_conn *c;
	size_t len;
	uint8_t pkt[TFTP_REQ_MAX + 1];
};

/* Owner loop: the re-request job is back; c may be freed now. */
static void
rerequest_back(void *arg)
{
	struct rereq *rq = arg;
	struct tftp_conn *c = rq->c;

	free(rq);
	c->jobs--;
	if (c->ended && c->jobs == 0)
		conn_release(c->srv, c);
}

/* The transfer's loop: let the engine answer the repeated request. */
static void
rerequest_run(struct tftp_conn *c, const uint8_t *pkt, size_t len)
{
	struct tftp_req req;
	struct tftp_out out;

	if (c->finished || tftp_parse_req(pkt, len, &req) < 0)
		return;
	tftp_xfer_rerequest(&c->x, &req, now_ms(), &out);
	if (c->x.fell_back && out.act == TFTP_ACT_SEND)
		log_info("tftp %s: '%s': OACK not acknowledged, RRQ again: "
			 "RFC 1350 defaults (blksize %u)",
			 c->peer_str, c->name, c->x.blksize);
	else
		log_debug("tftp %s: RRQ '%s' again (%s)", c->peer_str, c->name,
			  out.act == TFTP_ACT_OACK ? "OACK resent" : "ignored");
	apply(c, &out, false);
}

static void
rerequest_job(void *arg)
{
	struct rereq *rq = arg;

	rerequest_run(rq->c, rq->pkt, rq->len);
	rq->job.fn = rerequest_back;
	nb_post_job(rq->c->srv->nb, NB_OWNER, &rq->job);
}

/*
 * Owner loop: the client asked again for a transfer that has not begun
 * (no block acknowledged: a lost OACK, or a client falling back to RFC
 * 1350). The transfer's own loop answers; c stays allocated until the job
 * is back. Dropped without memory: the client asks again.
 */
static void
rerequest(struct tftp_conn *c, const uint8_t *pkt, size_t len)
{
	struct rereq *rq;

	if (c->worker == NB_OWNER) {
		rerequest_run(c, pkt, len);
		return;
	}
	rq = malloc(sizeof(*rq));
	if (rq == NULL || len > sizeof(rq->pkt)) {
		free(rq);
		return;
	}
	rq->c = c;
	rq->len = len;
	memcpy(rq->pkt, pkt, len);
	rq->job.fn = rerequest_job;
	rq->job.arg = rq;
	c->jobs++;
	nb_post_job(c->srv->nb, c->worker, &rq->job);
}

/*
 * The transfer's loop: its events, then its first packet. On the owner
 * loop when there are no workers.
 */
static void
conn_begin(void *arg)
{
	struct tftp_conn *c = arg;

	c->ev_read = event_new(c->base, c->fd, EV_READ | EV_PERSIST,
			       on_conn_read, c);
	c->ev_timer = evtimer_new(c->base, on_timer, c);
	c->ev_write = event_new(c->base, c->fd, EV_WRITE, on_writable, c);
	if (c->ev_read == NULL || c->ev_timer == NULL || c->ev_write == NULL ||
	    event_add(c->ev_read, NULL) < 0) {
		log_warn("tftp %s: '%s': no memory for the transfer",
			 c->peer_str, c->name);
		NB_ADD(&c->k->tftp_transfers_failed, 1);
		conn_finish(c, TFTP_ACT_ABORT);
		return;
	}
	apply(c, &c->first, false);
}

/* The loop a new transfer runs on: the next worker, round robin. */
static void
conn_place(struct tftp_server *srv, struct tftp_conn *c)
{
	struct netboot *nb = srv->nb;

	c->worker = NB_OWNER;
	c->base = nb->base;
	c->k = &nb->counters;
	if (nb->nworkers == 0)
		return;
	c->worker = (int)(srv->next_worker++ % nb->nworkers);
	c->base = nb_worker_base(nb, (unsigned)c->worker);
	c->k = nb_worker_counters(nb, (unsigned)c->worker);
}

static void
handle_request(struct tftp_server *srv, const uint8_t *pkt, size_t len,
	       const struct sockaddr_in *peer, const struct in_addr *local,
	       int ifindex)
{
	struct netboot *nb = srv->nb;
	struct tftp_conn *c = NULL;
	struct storm_cap_entry *cap = NULL;
	struct tftp_req req;
	char ps[TFTP_PEER_STR], name[TFTP_NAME_LOG * 4 + 1];
	char path[PATH_REQ_MAX + 1];
	const char *msg;
	struct stat st;
	unsigned per_client, wnd;
	uint16_t code;
	int r, fd = -1;

	peer_format(peer, ps, sizeof(ps));
	if (len < 2)
		return; /* not even an opcode */
	if (pkt[0] == 0 && (pkt[1] == TFTP_ERROR || pkt[1] == TFTP_ACK ||
			    pkt[1] == TFTP_DATA || pkt[1] == TFTP_OACK)) {
		/* Strays for the request port; ERROR is never answered. */
		log_debug("tftp %s: opcode %u on the request port dropped", ps,
			  pkt[1]);
		return;
	}
	nb->counters.tftp_requests++;
	r = tftp_parse_req(pkt, len, &req);
	if (r < 0) {
		code = tftp_errcode(r, &msg);
		log_info("tftp %s: bad request: %s", ps, msg);
		send_error(&nb->counters, srv->fd, peer, local, code, msg);
		return;
	}
	escape(req.file, req.file_len, name, sizeof(name));
	if (req.opcode == TFTP_WRQ) {
		log_info("tftp %s: WRQ '%s' refused (read-only)", ps, name);
		code = tftp_errcode(-EROFS, &msg);
		send_error(&nb->counters, srv->fd, peer, local, code, msg);
		return;
	}
	if (!req.octet) {
		log_info("tftp %s: RRQ '%s' in netascii mode refused", ps,
			 name);
		code = tftp_errcode(-EPROTONOSUPPORT, &msg);
		send_error(&nb->counters, srv->fd, peer, local, code, msg);
		return;
	}
	c = find_rerequest(srv, peer, &req, &per_client);
	if (c != NULL) {
		rerequest(c, pkt, len);
		return;
	}
	if (srv->nconns >= nb->tftp_max_transfers) {
		cap_warn(srv, ps, "too many transfers");
		return;
	}
	if (per_client >= nb->tftp_max_per_client) {
		cap_warn(srv, ps, "too many transfers for this client");
		return;
	}
	r = tftp_map_path(req.file, req.file_len, path, sizeof(path));
	if (r == 0)
		r = open_request(srv, path, &fd, &st);
	if (r < 0) {
		code = tftp_errcode(r, &msg);
		log_info("tftp %s: RRQ '%s' refused: %s", ps, name, msg);
		send_error(&nb->counters, srv->fd, peer, local, code, msg);
		return;
	}

	r = take_file_slot(srv, ps, fd, &st, &cap);
	if (r == -EBUSY)
		return;
	if (r < 0)
		goto fail;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		storm_cap_put(&srv->caps, cap);
		r = -ENOMEM;
		goto fail;
	}
	c->srv = srv;
	c->cap = cap;
	c->fd = -1;
	c->peer = *peer;
	memcpy(c->req, pkt, len);
	c->req_len = len;
	c->started_ms = now_ms();
	memcpy(c->peer_str, ps, sizeof(ps));
	memcpy(c->name, name, sizeof(name));
	c->file = file_get(srv, fd, &st);
	if (c->file == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = tftp_xfer_start(&req, (uint64_t)st.st_size,
			    blksize_cap(srv, ifindex), c->started_ms, &c->x,
			    &c->first);
	if (r < 0)
		goto fail;
	wnd = TFTP_SEND_MAX(c->x.windowsize);
	if (wnd < c->x.windowsize)
		wnd = c->x.windowsize;
	c->bufcap = (size_t)wnd * c->x.blksize;
	if (c->bufcap < TFTP_READAHEAD)
		c->bufcap = TFTP_READAHEAD;
	if (c->bufcap > c->x.size)
		c->bufcap = c->x.size > 0 ? (size_t)c->x.size : 1;
	c->buf = malloc(c->bufcap);
	c->hdrs = calloc(wnd, sizeof(*c->hdrs));
	c->iov = calloc((size_t)wnd * 2, sizeof(*c->iov));
	c->msgs = calloc(wnd, sizeof(*c->msgs));
	if (c->buf == NULL || c->hdrs == NULL || c->iov == NULL ||
	    c->msgs == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = conn_socket(local);
	if (r < 0)
		goto fail;
	c->fd = r;
	conn_place(srv, c);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	nb->counters.tftp_transfers_started++;
	nb->counters.tftp_active++;
	if (c->worker != NB_OWNER) {
		c->job.fn = conn_begin;
		c->job.arg = c;
	}
	log_debug("tftp %s: RRQ '%s' (%llu bytes, blksize %u, windowsize %u, "
		  "%s)",
		  ps, name, (unsigned long long)st.st_size, c->x.blksize,
		  c->x.windowsize,
		  c->x.state == TFTP_ST_OACK ? "OACK" : "no options");
	if (c->worker == NB_OWNER)
		conn_begin(c);
	else
		nb_post_job(nb, c->worker, &c->job);
	return;

fail:
	code = tftp_errcode(r, &msg);
	log_warn_r(r, "tftp %s: RRQ '%s' failed", ps, name);
	send_error(&nb->counters, c != NULL && c->fd >= 0 ? c->fd : srv->fd,
		   peer, c != NULL && c->fd >= 0 ? NULL : local, code, msg);
	if (c != NULL)
		conn_release(srv, c); /* never made it onto the list */
}

static void
on_listen_read(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_server *srv = arg;
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct sockaddr_in peer;
	struct in_addr local;
	struct cmsghdr *cm;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	int i, ifindex;

	(void)what;
	for (i = 0; i < TFTP_RX_BURST; i++) {
		iov.iov_base = srv->pkt;
		iov.iov_len = sizeof(srv->pkt);
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &peer;
		mh.msg_namelen = sizeof(peer);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		n = recvmsg(fd, &mh, 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug("tftp: recv: %s", strerror(errno));
			return;
		}
		if (mh.msg_namelen < sizeof(peer) ||
		    peer.sin_family != AF_INET || peer.sin_port == 0)
			continue;
		local.s_addr = htonl(srv->nb->listen_ip);
		ifindex = 0;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		     cm = CMSG_NXTHDR(&mh, cm)) {
			struct in_pktinfo pi;

			if (cm->cmsg_level != IPPROTO_IP ||
			    cm->cmsg_type != IP_PKTINFO)
				continue;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			/* spec_dst: our address for the reply, even when
			 * the request was broadcast. */
			local = pi.ipi_spec_dst;
			ifindex = pi.ipi_ifindex;
		}
		/* An oversized request shows as TFTP_REQ_MAX + 1 bytes. */
		if (mh.msg_flags & MSG_TRUNC)
			n = (ssize_t)sizeof(srv->pkt);
		handle_request(srv, srv->pkt, (size_t)n, &peer, &local,
			       ifindex);
	}
}

int
tftp_io_start(struct netboot *nb)
{
	struct tftp_server *srv;
	struct sockaddr_in sin;
	char ip[IPV4_STR_LEN];
	int r, v;

	if (nb->tftp_port == 0)
		return 0;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	srv->nb = nb;
	nb->tftp = srv;
	srv->boot_fd = -1;
	srv->caps.max = nb->tftp_max_per_file;
	if (nb->cfg != NULL && nb->cfg->boot_dir != NULL) {
		srv->boot_fd = open(nb->cfg->boot_dir,
				    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (srv->boot_fd < 0)
			log_warn_r(-errno, "tftp: %s (GRUB configurations)",
				   nb->cfg->boot_dir);
	}
	srv->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0) {
		r = -errno;
		log_warn_r(r, "tftp: socket");
		return r;
	}
	/*
	 * No SO_REUSEADDR: with UDP it would let a second server share the
	 * port and split the requests; a port in use is a startup error.
	 */
	v = 1;
	if (setsockopt(srv->fd, IPPROTO_IP, IP_PKTINFO, &v, sizeof(v)) < 0) {
		r = -errno;
		log_warn_r(r, "tftp: IP_PKTINFO");
		return r;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(nb->listen_ip);
	sin.sin_port = htons(nb->tftp_port);
	ipv4_format(nb->listen_ip, ip);
	if (bind(srv->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		r = -errno;
		log_warn_r(r, "tftp: bind %s:%u (--tftp-port)", ip,
			   (unsigned)nb->tftp_port);
		return r;
	}
	srv->ev = event_new(nb->base, srv->fd, EV_READ | EV_PERSIST,
			    on_listen_read, srv);
	if (srv->ev == NULL || event_add(srv->ev, NULL) < 0) {
		log_warn("tftp: cannot add the listener to the loop");
		return -ENOMEM;
	}
	log_info("tftp: listening on %s:%u", ip, (unsigned)nb->tftp_port);
	return 0;
}

void
tftp_io_stop(struct netboot *nb)
{
	struct tftp_server *srv = nb->tftp;

	if (srv == NULL)
		return;
	/*
	 * The workers are joined and their mailboxes run (workers.h): what
	 * is left on the list is ours alone.
	 */
	while (srv->conns != NULL) {
		struct tftp_conn *c = srv->conns;

		nb->counters.tftp_transfers_failed++;
		conn_unlink(c);
		conn_release(srv, c);
	}
	storm_caps_done(&srv->caps);
	if (srv->ev != NULL)
		event_free(srv->ev);
	if (srv->fd >= 0)
		close(srv->fd);
	if (srv->boot_fd >= 0)
		close(srv->boot_fd);
	free(srv);
	nb->tftp = NULL;
}
