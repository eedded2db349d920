/*
 * metalboot-init - the first stage of a metalboot node image.
 *
 * The kernel unpacks the image into its initial ramfs and runs /init,
 * which is this program. On the initial ramfs pivot_root(2) fails, and
 * runc needs it for every container, so this stage:
 *   1. mounts /proc, /sys and /dev and loads the drivers the machine's
 *      devices ask for (modprobe of each modalias, in rounds);
 *   2. brings up the boot interface, the one whose MAC the kernel command
 *      line names (metalboot.mac= or iPXE's BOOTIF=), with DHCP: the
 *      server's reservation gives the node its inventory address, and the
 *      address stays configured in the kernel for the real root;
 *   3. mounts a tmpfs (metalboot.tmpfs=, default half of RAM) and moves
 *      the whole root into it, freeing each file as it goes;
 *   4. with metalboot.state=/dev/NAME, formats that disk only when it is
 *      blank (or foreign with metalboot.wipe=1), mounts it and binds the
 *      cluster's state directories onto it;
 *   5. switch_roots into the base's init (init=, else /sbin/init).
 * What it did is written to /etc/metalboot/stage1.status in the new root,
 * which the agent reports. A failure at any step is said on the console
 * and the boot goes on with less (no network, no state), never stops.
 *
 * It is built without sanitizers: it runs as PID 1 before /proc exists.
 */
#include "stage1.h"
#include "storage.h"

#include <arpa/inet.h>
#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NEWROOT	  "/newroot"
#define STATE_MNT "var/lib/metalboot-state"
#define STATUS	  "etc/metalboot/stage1.status"
#define PATH_ENV  "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

struct stage1 {
	struct s1_cmdline cl;
	uint64_t mem;
	bool net_up;
	struct s1_lease lease;
	char ifname[IF_NAMESIZE];
	bool have_state;
	bool formatted;	   /* the state disk was formatted on this boot */
	char status[2048]; /* lines for STATUS */
	size_t status_len;
};

/* ---- messages ----------------------------------------------------------- */

static void say(struct stage1 *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
say(struct stage1 *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	dprintf(STDOUT_FILENO, "metalboot-init: %s\n", line);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dprintf(fd, "<6>metalboot-init: %s\n", line);
		close(fd);
	}
	if (s != NULL && s->status_len + (size_t)n + 2 < sizeof(s->status)) {
		memcpy(s->status + s->status_len, line, (size_t)n);
		s->status_len += (size_t)n;
		s->status[s->status_len++] = '\n';
	}
}

/* ---- small helpers ------------------------------------------------------ */

static int
read_text(const char *path, char *buf, size_t cap)
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
	return (int)n;
}

static int
write_text(const char *path, const char *text, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, r = 0;
	size_t len = strlen(text);

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	size_t i;

	if ((size_t)snprintf(p, sizeof(p), "%s", path) >= sizeof(p))
		return -ENAMETOOLONG;
	for (i = 1; p[i] != '\0'; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		p[i] = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Run argv (PATH searched in the base's sbin/bin); its exit status. */
static int
run(char *const argv[])
{
	static char *const envp[] = { PATH_ENV, NULL };
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvpe(argv[0], argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- 1. mounts and drivers ---------------------------------------------- */

static void
early_mounts(void)
{
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
}

/* Append the modaliases of the devices on bus to argv (from *n, < cap). */
static void
bus_aliases(const char *bus, char **argv, size_t *n, size_t cap)
{
	char dir[128], path[PATH_MAX], alias[256];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/%s/devices", bus);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && *n < cap) {
		int len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/modalias", dir, e->d_name);
		len = read_text(path, alias, sizeof(alias));
		if (len <= 1)
			continue;
		alias[strcspn(alias, "\n")] = '\0';
		argv[(*n)++] = strdup(alias);
	}
	closedir(d);
}

/*
 * What udev's coldplug would load, before udev runs: every device's
 * modalias through modprobe, in rounds (virtio devices appear once
 * virtio_pci is loaded), then ext4 for the state disk.
 */
static void
load_drivers(struct stage1 *s)
{
	static const char *const buses[] = { "pci", "virtio", "usb", NULL };
	char *argv[1024];
	size_t round, n, i, b;

	for (round = 0; round < 3; round++) {
		n = 0;
		argv[n++] = "modprobe";
		argv[n++] = "-q";
		argv[n++] = "-a";
		for (b = 0; buses[b] != NULL; b++)
			bus_aliases(buses[b], argv, &n, 1023);
		argv[n] = NULL;
		if (n > 3 && run(argv) == 127) {
			say(s, "no modprobe in the base: drivers not loaded");
			round = 3;
		}
		for (i = 3; i < n; i++)
			free(argv[i]);
	}
	run((char *const[]){ "modprobe", "-q", "ext4", NULL });
	run((char *const[]){ "modprobe", "-q", "af_packet", NULL });
}

/* ---- 2. the boot interface ---------------------------------------------- */

/* The name of the interface with mac, waiting for its driver up to 20 s. */
static int
find_iface(const uint8_t mac[MAC_LEN], char name[IF_NAMESIZE])
{
	char want[MAC_STR_LEN], path[PATH_MAX], addr[64];
	struct dirent *e;
	int tries;

	mac_format(mac, want);
	for (tries = 0; tries < 100; tries++) {
		DIR *d = opendir("/sys/class/net");

		while (d != NULL && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' ||
			    strlen(e->d_name) >= IF_NAMESIZE)
				continue;
			snprintf(path, sizeof(path),
				 "/sys/class/net/%s/address", e->d_name);
			if (read_text(path, addr, sizeof(addr)) <= 0)
				continue;
			addr[strcspn(addr, "\n")] = '\0';
			if (strcasecmp(addr, want) == 0) {
				snprintf(name, IF_NAMESIZE, "%s", e->d_name);
				closedir(d);
				return 0;
			}
		}
		if (d != NULL)
			closedir(d);
		sleep_ms(200);
	}
	return -ENODEV;
}

static int
if_up(int sk, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(sk, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

/* A UDP socket on port 68 of ifname that can send to 255.255.255.255. */
static int
dhcp_socket(const char *ifname)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(DHCP_CLIENT_PORT) };
	int one = 1, sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0)
		return -errno;
	if (setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(sk, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE, ifname,
		       (socklen_t)strlen(ifname)) < 0 ||
	    bind(sk, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int r = -errno;

		close(sk);
		return r;
	}
	return sk;
}

/* Send one message and wait up to ms for the reply of type want. */
static int
dhcp_ask(int sk, const struct s1_cmdline *cl, uint32_t xid, uint32_t server,
	 uint32_t addr, uint8_t want, int ms, struct s1_lease *ret)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(DHCP_SERVER_PORT),
				  .sin_addr.s_addr = INADDR_BROADCAST };
	uint8_t pkt[DHCP_MSG_MAX];
	struct pollfd pfd = { .fd = sk, .events = POLLIN };
	struct timespec t0, t1;
	int len, r;

	len = s1_dhcp_build(cl->mac, xid, server, addr, pkt, sizeof(pkt));
	if (len < 0)
		return len;
	if (sendto(sk, pkt, (size_t)len, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t n;
		long spent;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (t1.tv_sec - t0.tv_sec) * 1000 +
			(t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= ms || poll(&pfd, 1, (int)(ms - spent)) <= 0)
			return -ETIMEDOUT;
		n = recv(sk, pkt, sizeof(pkt), 0);
		if (n <= 0)
			continue;
		r = s1_dhcp_reply(pkt, (size_t)n, cl->mac, xid, want, ret);
		if (r != -EAGAIN && r != -EBADMSG)
			return r;
	}
}

/* DISCOVER/OFFER/REQUEST/ACK, retried with backoff for about a minute. */
static int
dhcp_lease(int sk, const struct s1_cmdline *cl, struct s1_lease *ret)
{
	struct s1_lease offer;
	int wait = 1000, tries, r = -ETIMEDOUT;

	for (tries = 0; tries < 8; tries++) {
		uint32_t xid;

		if (getrandom(&xid, sizeof(xid), 0) != sizeof(xid))
			xid = (uint32_t)time(NULL) ^ (uint32_t)tries;
		r = dhcp_ask(sk, cl, xid, 0, 0, DHCP_OFFER, wait, &offer);
		if (r == 0)
			r = dhcp_ask(sk, cl, xid, offer.server, offer.addr,
				     DHCP_ACK, wait, ret);
		if (r == 0)
			return 0;
		if (wait < 16000)
			wait *= 2;
	}
	return r;
}

static int
set_addr(int sk, const char *ifname, unsigned long req, uint32_t ip)
{
	struct ifreq ifr;
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(ip);
	return ioctl(sk, req, &ifr) < 0 ? -errno : 0;
}

/* The lease into the kernel: address, netmask, default route. */
static int
net_configure(int sk, const char *ifname, const struct s1_lease *l)
{
	struct rtentry rt;
	int r;

	r = set_addr(sk, ifname, SIOCSIFADDR, l->addr);
	if (r == 0)
		r = set_addr(sk, ifname, SIOCSIFNETMASK, l->netmask);
	if (r < 0 || l->router == 0)
		return r;
	memset(&rt, 0, sizeof(rt));
	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_gateway)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_gateway)->sin_addr.s_addr =
		htonl(l->router);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)ifname;
	if (ioctl(sk, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void
net_up(struct stage1 *s)
{
	char ip[IPV4_STR_LEN], srv[IPV4_STR_LEN];
	int ctl, sk, r;

	ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ctl < 0)
		return;
	if_up(ctl, "lo");
	if (!s->cl.has_mac) {
		say(s, "network: no metalboot.mac= or BOOTIF= on the kernel "
		       "command line: the base brings the network up");
		close(ctl);
		return;
	}
	r = find_iface(s->cl.mac, s->ifname);
	if (r == 0)
		r = if_up(ctl, s->ifname);
	sk = r == 0 ? dhcp_socket(s->ifname) : r;
	r = sk < 0 ? sk : dhcp_lease(sk, &s->cl, &s->lease);
	if (r == 0)
		r = net_configure(ctl, s->ifname, &s->lease);
	if (sk >= 0)
		close(sk);
	close(ctl);
	if (r < 0) {
		say(s, "network: error: %s: %s",
		    s->ifname[0] ? s->ifname : "no interface with that MAC",
		    strerror(-r));
		return;
	}
	s->net_up = true;
	ipv4_format(s->lease.addr, ip);
	ipv4_format(s->lease.server, srv);
	say(s, "network: ok %s %s/%d from %s", s->ifname, ip,
	    s1_prefix_len(s->lease.netmask), srv);
}

/* ---- 3. the root onto a tmpfs ------------------------------------------- */

struct copy {
	dev_t dev;	   /* the source filesystem: mounts below are skipped */
	dev_t skip_dev;	   /* the destination's root: never copied into */
	ino_t skip_ino;	   /* itself */
	bool move;	   /* free each source entry once copied */
	uint64_t bytes;	   /* copied */
	unsigned long err; /* entries that could not be copied */
};

static int copy_dir(int sfd, int dfd, struct copy *c);

/* A new open file description of directory fd: its own read position
 * (a dup() would share fd's, which an earlier walk left at the end). */
static int
reopen_dir(int fd)
{
	return openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void
set_meta(int dfd, const char *name, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
	if (!S_ISLNK(st->st_mode))
		fchmodat(dfd, name, st->st_mode & 07777, 0);
	utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int
copy_file(int sfd, int dfd, const char *name, const struct stat *st,
	  struct copy *c)
{
	int in, out, r = 0;
	off_t left = st->st_size;

	in = openat(sfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -errno;
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while (left > 0 && r == 0) {
		ssize_t n = sendfile(out, in, NULL, (size_t)left);

		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else
			left -= n;
	}
	close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	c->bytes += (uint64_t)st->st_size;
	return r;
}

static int
copy_entry(int sfd, int dfd, const char *name, const struct stat *st,
	   struct copy *c)
{
	char target[PATH_MAX];
	ssize_t n;
	int r = 0;

	if (S_ISREG(st->st_mode)) {
		r = copy_file(sfd, dfd, name, st, c);
	} else if (S_ISLNK(st->st_mode)) {
		n = readlinkat(sfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, dfd, name) < 0)
			r = -errno;
	} else if (S_ISDIR(st->st_mode)) {
		int s2, d2;

		if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (st->st_dev != c->dev) /* a mount point: the dir only */
			return 0;
		s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = s2 < 0 || d2 < 0 ? -errno : copy_dir(s2, d2, c);
		if (s2 >= 0)
			close(s2);
		if (d2 >= 0)
			close(d2);
	} else if (mknodat(dfd, name, st->st_mode, st->st_rdev) < 0) {
		r = -errno;
	}
	return r;
}

/* Copy the entries of sfd into dfd; with c->move, free each source. */
static int
copy_dir(int sfd, int dfd, struct copy *c)
{
	struct dirent *e;
	int fd = reopen_dir(sfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(sfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (st.st_dev == c->skip_dev && st.st_ino == c->skip_ino))
			continue;
		if (copy_entry(sfd, dfd, e->d_name, &st, c) < 0) {
			c->err++;
			continue;
		}
		set_meta(dfd, e->d_name, &st);
		if (c->move && st.st_dev == c->dev)
			unlinkat(sfd, e->d_name,
				 S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
	}
	closedir(d);
	return 0;
}

/* Bytes the root holds (what its tmpfs must at least take). */
static uint64_t
tree_bytes(int dfd, dev_t dev)
{
	struct dirent *e;
	int fd = reopen_dir(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	uint64_t sum = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int sub;

		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != dev)
			continue;
		sum += (uint64_t)st.st_blocks * 512;
		if (!S_ISDIR(st.st_mode))
			continue;
		sub = openat(dfd, e->d_name,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0) {
			sum += tree_bytes(sub, dev);
			close(sub);
		}
	}
	closedir(d);
	return sum;
}

static int
root_to_tmpfs(struct stage1 *s)
{
	struct stat st;
	struct copy c = { .move = true };
	char opts[64];
	uint64_t used, size;
	int sfd, dfd, r;

	sfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) < 0)
		return -errno;
	c.dev = st.st_dev;
	used = tree_bytes(sfd, c.dev);
	size = storage_tmpfs_bytes(s->cl.tmpfs, s->mem, used + used / 4);
	snprintf(opts, sizeof(opts), "size=%llu,mode=0755",
		 (unsigned long long)size);
	if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
		r = -errno;
	else if (mount("tmpfs", NEWROOT, "tmpfs", 0, opts) < 0)
		r = -errno;
	else
		r = 0;
	dfd = r == 0 ? open(NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (r == 0 && (dfd < 0 || fstat(dfd, &st) < 0))
		r = -errno;
	c.skip_dev = st.st_dev;
	c.skip_ino = st.st_ino;
	if (r == 0)
		r = copy_dir(sfd, dfd, &c);
	if (dfd >= 0)
		close(dfd);
	close(sfd);
	if (r < 0)
		return r;
	say(s,
	    "root: ok tmpfs of %llu MiB holds %llu MiB (%lu entries not "
	    "copied)",
	    (unsigned long long)(size >> 20),
	    (unsigned long long)(c.bytes >> 20), c.err);
	return 0;
}

/* ---- 4. the state disk -------------------------------------------------- */

/* Wait up to 10 s for dev (its driver may still be probing). */
static int
wait_block(const char *dev)
{
	struct stat st;
	int i;

	for (i = 0; i < 50; i++) {
		if (stat(dev, &st) == 0)
			return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
		sleep_ms(200);
	}
	return -ENOENT;
}

/* What is on dev: a filesystem, a partition table, or nothing. */
static int
probe(const char *dev, struct s1_probe *p)
{
	blkid_probe pr = blkid_new_probe_from_filename(dev);
	const char *v;
	int r;

	memset(p, 0, sizeof(*p));
	if (pr == NULL)
		return -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
						      BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	r = blkid_do_safeprobe(pr);
	if (r == 1) {
		p->blank = true;
	} else if (r == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0 ||
		    blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL) == 0)
			snprintf(p->type, sizeof(p->type), "%s", v);
		else
			snprintf(p->type, sizeof(p->type), "unknown");
		if (blkid_probe_lookup_value(pr, "LABEL", &v, NULL) == 0)
			snprintf(p->label, sizeof(p->label), "%s", v);
	} else {
		/* -2: ambiguous (two signatures): never blank. */
		snprintf(p->type, sizeof(p->type), "ambiguous signatures");
	}
	blkid_free_probe(pr);
	return 0;
}

static int
format_disk(struct stage1 *s, const char *dev)
{
	char *const argv[] = { "mkfs.ext4", "-q",	 "-F", "-L",
			       S1_LABEL,    (char *)dev, NULL };
	int rc = run(argv);

	if (rc == 127)
		say(s, "storage: error: no mkfs.ext4 in the base (e2fsprogs)");
	else if (rc != 0)
		say(s, "storage: error: mkfs.ext4 %s exited with %d", dev, rc);
	return rc == 0 ? 0 : -EIO;
}

/*
 * Decide and format when allowed, while the tools (mkfs.ext4) are still
 * where the loader finds them: before the root moves. True when the disk
 * is ready to mount.
 */
static bool
state_prepare(struct stage1 *s)
{
	const char *dev = s->cl.state;
	struct s1_probe p;
	int r;

	r = wait_block(dev);
	if (r == 0)
		r = probe(dev, &p);
	if (r < 0) {
		say(s, "storage: error: %s: %s", dev, strerror(-r));
		return false;
	}
	switch (s1_disk_decide(&p, s->cl.wipe)) {
	case S1_DISK_REFUSE:
		say(s,
		    "storage: error: %s holds %s%s%s%s, not ours: not "
		    "formatted without wipe: true; booting without state",
		    dev, p.type, p.label[0] ? " (label \"" : "", p.label,
		    p.label[0] ? "\")" : "");
		return false;
	case S1_DISK_FORMAT:
		if (!p.blank)
			say(s, "storage: wiping %s (held %s; wipe: true)", dev,
			    p.type);
		if (format_disk(s, dev) < 0)
			return false;
		s->formatted = true;
		break;
	case S1_DISK_MOUNT:
		break;
	}
	return true;
}

/* Mount the prepared disk on mnt (in the new root). */
static int
state_mount(struct stage1 *s, const char *mnt)
{
	int r = mkdir_p(mnt, 0700);

	if (r == 0 && mount(s->cl.state, mnt, "ext4", MS_NOATIME, NULL) < 0)
		r = -errno;
	if (r < 0) {
		say(s, "storage: error: mount %s: %s", s->cl.state,
		    strerror(-r));
		return r;
	}
	say(s, "storage: ok %s %s", s->cl.state,
	    s->formatted ? "formatted" : "kept");
	return 0;
}

/* True when directory path has no entries (or does not exist). */
static bool
dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return true;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 ||
			strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/*
 * Each state directory of the root is bound to its copy on the disk. A
 * new disk gets what the image holds there first, so that the image's
 * own files (a containerd config, say) are not hidden.
 */
static int
state_bind(struct stage1 *s, const char *mnt)
{
	char on_disk[PATH_MAX], in_root[PATH_MAX];
	size_t i;

	for (i = 0; s1_state_dirs[i] != NULL; i++) {
		snprintf(on_disk, sizeof(on_disk), "%s/%s", mnt,
			 s1_state_dirs[i]);
		snprintf(in_root, sizeof(in_root), NEWROOT "/%s",
			 s1_state_dirs[i]);
		if (mkdir_p(in_root, 0755) < 0)
			return -errno;
		if (dir_empty(on_disk) && !dir_empty(in_root)) {
			struct copy c = { .move = false };
			int sfd = open(in_root, O_RDONLY | O_DIRECTORY);
			int dfd;
			struct stat st;

			mkdir_p(on_disk, 0755);
			dfd = open(on_disk, O_RDONLY | O_DIRECTORY);
			if (sfd >= 0 && fstat(sfd, &st) == 0 && dfd >= 0) {
				c.dev = st.st_dev;
				copy_dir(sfd, dfd, &c);
			}
			if (sfd >= 0)
				close(sfd);
			if (dfd >= 0)
				close(dfd);
		}
		if (mkdir_p(on_disk, 0755) == 0 && dir_empty(on_disk)) {
			struct stat st;

			if (stat(in_root, &st) == 0) {
				chown(on_disk, st.st_uid, st.st_gid);
				chmod(on_disk, st.st_mode & 07777);
			}
		}
		if (mkdir_p(on_disk, 0755) < 0 ||
		    mount(on_disk, in_root, NULL, MS_BIND, NULL) < 0) {
			say(s, "storage: error: bind %s: %s", s1_state_dirs[i],
			    strerror(errno));
			return -errno;
		}
	}
	s->have_state = true;
	return 0;
}

/* ---- 5. into the real root ---------------------------------------------- */

/* resolv.conf and the hostname from the lease, and what stage 1 did. */
static void
write_root_files(struct stage1 *s)
{
	char text[1024], ip[IPV4_STR_LEN];
	struct stat st;
	size_t i, n = 0;

	if (s->net_up && s->lease.ndns > 0 &&
	    (lstat(NEWROOT "/etc/resolv.conf", &st) < 0 ||
	     S_ISREG(st.st_mode))) {
		if (s->lease.domain[0] != '\0')
			n += (size_t)snprintf(text, sizeof(text), "search %s\n",
					      s->lease.domain);
		for (i = 0; i < s->lease.ndns && n < sizeof(text); i++) {
			ipv4_format(s->lease.dns[i], ip);
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "nameserver %s\n", ip);
		}
		write_text(NEWROOT "/etc/resolv.conf", text, 0644);
	}
	if (s->net_up && hostname_valid(s->lease.hostname)) {
		snprintf(text, sizeof(text), "%s\n", s->lease.hostname);
		write_text(NEWROOT "/etc/hostname", text, 0644);
	}
	mkdir_p(NEWROOT "/etc/metalboot", 0755);
	s->status[s->status_len] = '\0';
	write_text(NEWROOT "/" STATUS, s->status, 0644);
}

/* Move /proc, /sys and /dev along, make NEWROOT "/", and exec init. */
static void
switch_root(struct stage1 *s)
{
	static const char *const mnts[] = { "/proc", "/sys", "/dev", NULL };
	const char *init = s->cl.init[0] ? s->cl.init : "/sbin/init";
	char to[64];
	size_t i;

	for (i = 0; mnts[i] != NULL; i++) {
		snprintf(to, sizeof(to), NEWROOT "%s", mnts[i]);
		mkdir(to, 0755);
		if (mount(mnts[i], to, NULL, MS_MOVE, NULL) < 0)
			umount2(mnts[i], MNT_DETACH);
	}
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0) {
		say(s, "switch_root: error: %s", strerror(errno));
		return;
	}
	say(s, "switch_root: exec %s", init);
	execl(init, init, (char *)NULL);
	say(s, "switch_root: error: exec %s: %s", init, strerror(errno));
}

static void
read_config(struct stage1 *s)
{
	char text[4096], err[256];
	int n;

	n = read_text("/proc/cmdline", text, sizeof(text));
	if (s1_cmdline_parse(n > 0 ? text : "", &s->cl, err, sizeof(err)) < 0)
		say(s, "%s (ignored)", err);
	n = read_text("/proc/meminfo", text, sizeof(text));
	s->mem = n > 0 ? s1_meminfo_total(text) : 0;
}

int
main(void)
{
	static struct stage1 s;
	bool state_ok;
	int r;

	if (getpid() != 1) {
		fprintf(stderr, "metalboot-init: the first stage of a node "
				"image; it runs as PID 1 only\n");
		return 2;
	}
	/* The kernel starts init with no PATH; modprobe and mkfs need one. */
	putenv(PATH_ENV);
	early_mounts();
	read_config(&s);
	say(&s, "first stage: %llu MiB of RAM",
	    (unsigned long long)(s.mem >> 20));
	load_drivers(&s);
	net_up(&s);
	state_ok = s.cl.state[0] != '\0' && state_prepare(&s);
	r = root_to_tmpfs(&s);
	if (r < 0) {
		say(&s,
		    "root: error: cannot move the root to a tmpfs (%s); "
		    "containers will not start",
		    strerror(-r));
		execl("/sbin/init", "/sbin/init", (char *)NULL);
		return 1;
	}
	if (state_ok && state_mount(&s, NEWROOT "/" STATE_MNT) == 0)
		state_bind(&s, NEWROOT "/" STATE_MNT);
	if (s.cl.state[0] == '\0')
		say(&s, "storage: none (state lives in RAM until reboot)");
	write_root_files(&s);
	switch_root(&s);
	/* Only when exec failed: PID 1 must not exit. */
	for (;;)
		pause();
}
