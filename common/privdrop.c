/*
 * privdrop.c - see privdrop.h. Capabilities are set with capset(2) and
 * prctl(2) directly and Landlock with its three system calls, so that no
 * library is needed.
 */
#include "privdrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Newer than the installed headers may know (linux/landlock.h). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define PD_LL_NET_BIND_TCP	  (1ULL << 0)
#define PD_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define PD_LL_SCOPE_SIGNAL	  (1ULL << 1)
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT		 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* The ruleset attribute of ABI 6; older ABIs take a prefix of it. */
struct pd_ll_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static const char *const cap_names[] = {
	"cap_chown",
	"cap_dac_override",
	"cap_dac_read_search",
	"cap_fowner",
	"cap_fsetid",
	"cap_kill",
	"cap_setgid",
	"cap_setuid",
	"cap_setpcap",
	"cap_linux_immutable",
	"cap_net_bind_service",
	"cap_net_broadcast",
	"cap_net_admin",
	"cap_net_raw",
	"cap_ipc_lock",
	"cap_ipc_owner",
	"cap_sys_module",
	"cap_sys_rawio",
	"cap_sys_chroot",
	"cap_sys_ptrace",
	"cap_sys_pacct",
	"cap_sys_admin",
	"cap_sys_boot",
	"cap_sys_nice",
	"cap_sys_resource",
	"cap_sys_time",
	"cap_sys_tty_config",
	"cap_mknod",
	"cap_lease",
	"cap_audit_write",
	"cap_audit_control",
	"cap_setfcap",
	"cap_mac_override",
	"cap_mac_admin",
	"cap_syslog",
	"cap_wake_alarm",
	"cap_block_suspend",
	"cap_audit_read",
	"cap_perfmon",
	"cap_bpf",
	"cap_checkpoint_restore",
};

#define NCAP_NAMES (sizeof(cap_names) / sizeof(cap_names[0]))

/* See privdrop.h. */
uint64_t
privdrop_caps_for(unsigned needs)
{
	uint64_t caps = 0;

	if (needs & PRIVDROP_NEED_ARP)
		caps |= 1ULL << CAP_NET_ADMIN;
	if (needs & PRIVDROP_NEED_BIND_LOW)
		caps |= 1ULL << CAP_NET_BIND_SERVICE;
	if (needs & PRIVDROP_NEED_RAW)
		caps |= 1ULL << CAP_NET_RAW;
	return caps;
}

/* See privdrop.h. */
int
privdrop_caps_format(uint64_t caps, char *buf, size_t n)
{
	size_t len = 0;
	unsigned i;
	int w;

	if (n == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (caps == 0) {
		w = snprintf(buf, n, "none");
		return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
	}
	for (i = 0; i < 64; i++) {
		if (!(caps & (1ULL << i)))
			continue;
		if (i < NCAP_NAMES)
			w = snprintf(buf + len, n - len, "%s%s", len ? "," : "",
				     cap_names[i]);
		else
			w = snprintf(buf + len, n - len, "%scap_%u",
				     len ? "," : "", i);
		if (w < 0 || (size_t)w >= n - len)
			return -ENOSPC;
		len += (size_t)w;
	}
	return 0;
}

/* See privdrop.h. */
void
privdrop_cap_data(uint64_t caps, struct __user_cap_data_struct data[2])
{
	memset(data, 0, 2 * sizeof(data[0]));
	data[0].effective = data[0].permitted = (uint32_t)caps;
	data[1].effective = data[1].permitted = (uint32_t)(caps >> 32);
}

/* See privdrop.h. */
int
privdrop_plan(uid_t euid, bool explicit, const struct passwd *pw,
	      enum privdrop_mode *ret_mode)
{
	if (euid != 0) {
		*ret_mode = PRIVDROP_MODE_NONROOT;
		return 0;
	}
	if (pw == NULL)
		return -ENOENT;
	if (pw->pw_uid == 0) {
		if (!explicit)
			return -EPERM;
		*ret_mode = PRIVDROP_MODE_ROOT;
		return 0;
	}
	*ret_mode = PRIVDROP_MODE_USER;
	return 0;
}

/* See privdrop.h. */
uint64_t
privdrop_ll_handled(int abi)
{
	uint64_t m;

	if (abi < 1)
		return 0;
	m = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
	if (abi >= 2)
		m |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		m |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		m |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return m;
}

/* See privdrop.h. */
uint64_t
privdrop_ll_ro(int abi)
{
	return (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR) &
	       privdrop_ll_handled(abi);
}

/*
 * See privdrop.h. What atomic_write() and mkdir_p() need: create, write,
 * truncate, rename within a directory (MAKE_REG on the target, REMOVE_FILE
 * on the source) and remove; no devices, sockets, pipes or links.
 */
uint64_t
privdrop_ll_rw(int abi)
{
	return (privdrop_ll_ro(abi) | LANDLOCK_ACCESS_FS_WRITE_FILE |
		LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR |
		LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
		LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE) &
	       privdrop_ll_handled(abi);
}

/* See privdrop.h. */
uint64_t
privdrop_ll_file_only(uint64_t mask)
{
	return mask &
	       (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
		LANDLOCK_ACCESS_FS_IOCTL_DEV);
}

/* See privdrop.h. */
bool
privdrop_can_read(const struct stat *st, uid_t uid, gid_t gid)
{
	mode_t need = S_ISDIR(st->st_mode) ? S_IROTH | S_IXOTH : S_IROTH;
	mode_t m = st->st_mode;

	if (st->st_uid == uid)
		m >>= 6;
	else if (st->st_gid == gid)
		m >>= 3;
	return (m & need) == need;
}

/* The Landlock ABI of the running kernel, or a negative errno. */
static int
ll_abi(void)
{
#ifdef SYS_landlock_create_ruleset
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
			 LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? -errno : (int)v;
#else
	return -ENOSYS;
#endif
}

/* Add a rule granting access under path. 1 when path does not exist. */
static int
ll_add(int rfd, const char *path, uint64_t access)
{
#ifdef SYS_landlock_add_rule
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access =
		S_ISDIR(st.st_mode) ? access : privdrop_ll_file_only(access);
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb,
		    0) < 0)
		r = -errno;
out:
	close(fd);
	return r;
#else
	(void)rfd;
	(void)path;
	(void)access;
	return -ENOSYS;
#endif
}

/*
 * A ruleset for c at ABI abi: every filesystem access handled, c->ro
 * read-only and c->rw read-write; from ABI 4 no TCP bind, from ABI 6
 * signals and abstract UNIX sockets scoped to the domain. Returns the
 * ruleset fd or a negative errno.
 */
static int
ll_ruleset(const struct privdrop_conf *c, int abi, struct privdrop_report *rep)
{
	struct pd_ll_attr a;
	size_t size = sizeof(a.handled_access_fs), i;
	long fd;
	int r;

	memset(&a, 0, sizeof(a));
	a.handled_access_fs = privdrop_ll_handled(abi);
	if (abi >= 4) {
		a.handled_access_net = PD_LL_NET_BIND_TCP;
		size = offsetof(struct pd_ll_attr, scoped);
	}
	if (abi >= 6) {
		a.scoped = PD_LL_SCOPE_ABSTRACT_UNIX | PD_LL_SCOPE_SIGNAL;
		size = sizeof(a);
	}
	fd = syscall(SYS_landlock_create_ruleset, &a, size, 0);
	if (fd < 0)
		return -errno;
	for (i = 0; i < 2 * PRIVDROP_PATHS_MAX; i++) {
		bool rw = i >= PRIVDROP_PATHS_MAX;
		const char *p = rw ? c->rw[i - PRIVDROP_PATHS_MAX] : c->ro[i];

		if (p == NULL)
			continue;
		r = ll_add((int)fd, p,
			   rw ? privdrop_ll_rw(abi) : privdrop_ll_ro(abi));
		if (r < 0) {
			close((int)fd);
			return r;
		}
		rep->skipped += (size_t)r;
	}
	rep->landlock_fs = a.handled_access_fs;
	rep->landlock_net = abi >= 4;
	rep->landlock_scoped = abi >= 6;
	return (int)fd;
}

/* Drop every capability not in keep from the bounding set. */
static int
drop_bounding(uint64_t keep)
{
	int cap;

	for (cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL) /* past the kernel's last */
				return 0;
			return -errno;
		}
	}
	return 0;
}

static int
cap_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return syscall(SYS_capget, &h, data) < 0 ? -errno : 0;
}

static int
cap_set(uint64_t caps)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	privdrop_cap_data(caps, data);
	return syscall(SYS_capset, &h, data) < 0 ? -errno : 0;
}

/* Switch to uid:gid keeping the permitted set (PR_SET_KEEPCAPS). */
static int
switch_ids(uid_t uid, gid_t gid)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(1, &gid) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	/* Never trust a drop that can be undone. */
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0)
		return -EPERM;
	return 0;
}

/* Capabilities: bounding set, ids, effective and permitted sets. */
static int
drop_caps(const struct privdrop_conf *c, struct privdrop_report *rep)
{
	struct __user_cap_data_struct data[2];
	uint64_t held;
	int r;

	r = cap_get(data);
	if (r < 0)
		return r;
	held = ((uint64_t)data[1].permitted << 32) | data[0].permitted;
	if (held & (1ULL << CAP_SETPCAP)) {
		r = drop_bounding(c->keep_caps);
		if (r < 0)
			return r;
		rep->bounding = true;
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (c->switch_ids) {
		r = switch_ids(c->uid, c->gid);
		if (r < 0)
			return r;
	}
	r = cap_set(c->keep_caps & held);
	if (r < 0)
		return r;
	rep->caps = c->keep_caps & held;
	return 0;
}

/*
 * System calls a daemon that has dropped its privileges never makes:
 * running programs, tracing, namespaces and mounts, kernel modules, keys,
 * BPF, clocks, changing ids again, io_uring (whose operations seccomp
 * does not see). ptrace comes last: sanitizer builds need it.
 */
static const int seccomp_denied[] = {
#ifdef SYS_execve
	SYS_execve,
#endif
#ifdef SYS_execveat
	SYS_execveat,
#endif
#ifdef SYS_mount
	SYS_mount,
#endif
#ifdef SYS_umount2
	SYS_umount2,
#endif
#ifdef SYS_pivot_root
	SYS_pivot_root,
#endif
#ifdef SYS_chroot
	SYS_chroot,
#endif
#ifdef SYS_setns
	SYS_setns,
#endif
#ifdef SYS_unshare
	SYS_unshare,
#endif
#ifdef SYS_fsopen
	SYS_fsopen,
#endif
#ifdef SYS_fsmount
	SYS_fsmount,
#endif
#ifdef SYS_move_mount
	SYS_move_mount,
#endif
#ifdef SYS_open_tree
	SYS_open_tree,
#endif
#ifdef SYS_kexec_load
	SYS_kexec_load,
#endif
#ifdef SYS_kexec_file_load
	SYS_kexec_file_load,
#endif
#ifdef SYS_init_module
	SYS_init_module,
#endif
#ifdef SYS_finit_module
	SYS_finit_module,
#endif
#ifdef SYS_delete_module
	SYS_delete_module,
#endif
#ifdef SYS_bpf
	SYS_bpf,
#endif
#ifdef SYS_perf_event_open
	SYS_perf_event_open,
#endif
#ifdef SYS_process_vm_readv
	SYS_process_vm_readv,
#endif
#ifdef SYS_process_vm_writev
	SYS_process_vm_writev,
#endif
#ifdef SYS_keyctl
	SYS_keyctl,
#endif
#ifdef SYS_add_key
	SYS_add_key,
#endif
#ifdef SYS_request_key
	SYS_request_key,
#endif
#ifdef SYS_userfaultfd
	SYS_userfaultfd,
#endif
#ifdef SYS_io_uring_setup
	SYS_io_uring_setup,
#endif
#ifdef SYS_reboot
	SYS_reboot,
#endif
#ifdef SYS_swapon
	SYS_swapon,
#endif
#ifdef SYS_swapoff
	SYS_swapoff,
#endif
#ifdef SYS_acct
	SYS_acct,
#endif
#ifdef SYS_settimeofday
	SYS_settimeofday,
#endif
#ifdef SYS_clock_settime
	SYS_clock_settime,
#endif
#ifdef SYS_adjtimex
	SYS_adjtimex,
#endif
#ifdef SYS_clock_adjtime
	SYS_clock_adjtime,
#endif
#ifdef SYS_syslog
	SYS_syslog,
#endif
#ifdef SYS_quotactl
	SYS_quotactl,
#endif
#ifdef SYS_open_by_handle_at
	SYS_open_by_handle_at,
#endif
#ifdef SYS_iopl
	SYS_iopl,
#endif
#ifdef SYS_ioperm
	SYS_ioperm,
#endif
#ifdef SYS_setuid
	SYS_setuid,
#endif
#ifdef SYS_setgid
	SYS_setgid,
#endif
#ifdef SYS_setreuid
	SYS_setreuid,
#endif
#ifdef SYS_setregid
	SYS_setregid,
#endif
#ifdef SYS_setresuid
	SYS_setresuid,
#endif
#ifdef SYS_setresgid
	SYS_setresgid,
#endif
#ifdef SYS_setgroups
	SYS_setgroups,
#endif
#ifdef SYS_setfsuid
	SYS_setfsuid,
#endif
#ifdef SYS_setfsgid
	SYS_setfsgid,
#endif
#ifdef SYS_capset
	SYS_capset,
#endif
#ifdef SYS_ptrace
	SYS_ptrace,
#endif
};

#define NSECCOMP_DENIED (sizeof(seccomp_denied) / sizeof(seccomp_denied[0]))

#if defined(__x86_64__)
#define PD_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PD_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* See privdrop.h. */
int
privdrop_seccomp_filter(bool allow_ptrace, struct sock_filter *out, size_t cap,
			size_t *ret_len)
{
#ifdef PD_AUDIT_ARCH
	size_t n = 0, i, ndeny = NSECCOMP_DENIED;
	struct sock_filter *f = out;

#ifdef SYS_ptrace
	if (allow_ptrace)
		ndeny--; /* the last entry */
#else
	(void)allow_ptrace;
#endif
	if (cap < ndeny + 7)
		return -ENOSPC;
	/* Another architecture's calls (i386 on x86_64): kill. */
	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					      PD_AUDIT_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* x32 numbers on x86_64 carry bit 30: refused. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
					      0x40000000u, (uint8_t)(ndeny + 1),
					      0);
	for (i = 0; i < ndeny; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)seccomp_denied[i],
			(uint8_t)(ndeny - i), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_RET | BPF_K,
		SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	*ret_len = n;
	return 0;
#else
	(void)allow_ptrace;
	(void)out;
	(void)cap;
	(void)ret_len;
	return -ENOSYS;
#endif
}

/* Install the filter; 0 and the number of calls denied, or -errno. */
static int
seccomp_install(bool allow_ptrace, size_t *ret_denied)
{
	struct sock_filter f[PRIVDROP_SECCOMP_MAX];
	struct sock_fprog prog;
	size_t len = 0;
	int r;

	r = privdrop_seccomp_filter(allow_ptrace, f, PRIVDROP_SECCOMP_MAX,
				    &len);
	if (r < 0)
		return r;
	prog.len = (unsigned short)len;
	prog.filter = f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	*ret_denied = len - 7;
	return 0;
}

/* See privdrop.h. */
int
privdrop_apply(const struct privdrop_conf *c, struct privdrop_report *ret)
{
	struct privdrop_report rep;
	int abi, rfd = -1, r;

	memset(&rep, 0, sizeof(rep));
	abi = ll_abi();
	if (abi > 0) {
		/* Built while every path is still reachable. */
		rfd = ll_ruleset(c, abi, &rep);
		if (rfd < 0)
			return rfd;
	} else {
		rep.landlock_errno = -abi;
	}
	r = drop_caps(c, &rep);
	if (r == 0 && c->dumpable)
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = -errno;
#ifdef SYS_landlock_restrict_self
	if (r == 0 && rfd >= 0 &&
	    syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		r = -errno;
#endif
	if (r == 0 && c->seccomp) {
		r = seccomp_install(c->dumpable, &rep.seccomp_denied);
		if (r == -ENOSYS) /* an architecture without a list */
			r = 0;
	}
	if (rfd >= 0)
		close(rfd);
	if (r < 0)
		return r;
	rep.landlock_abi = rfd >= 0 ? abi : 0;
	*ret = rep;
	return 0;
}

/* Walk state of privdrop_own_tree(). */
struct own_walk {
	uid_t uid;
	gid_t gid;
	bool apply;
	size_t seen, changed;
	char *bad;
	size_t badsz;
};

static int
own_fail(struct own_walk *w, const char *path, int r)
{
	if (w->badsz > 0)
		snprintf(w->bad, w->badsz, "%s", path);
	return r;
}

static int own_dir(struct own_walk *w, int fd, const char *path, int depth);

/* One entry name of the directory dfd (at path). */
static int
own_entry(struct own_walk *w, int dfd, const char *path, const char *name,
	  int depth)
{
	char sub[4096];
	struct stat st;
	int fd, r, n;

	n = snprintf(sub, sizeof(sub), "%s/%s", path, name);
	if (n < 0 || (size_t)n >= sizeof(sub))
		return own_fail(w, path, -ENAMETOOLONG);
	if (++w->seen > PRIVDROP_TREE_MAX)
		return own_fail(w, sub, -EFBIG);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return own_fail(w, sub, -errno);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return own_fail(w, sub, -EINVAL);
	if (w->apply && (st.st_uid != w->uid || st.st_gid != w->gid)) {
		if (fchownat(dfd, name, w->uid, w->gid, AT_SYMLINK_NOFOLLOW) <
		    0)
			return own_fail(w, sub, -errno);
		w->changed++;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (depth >= PRIVDROP_TREE_DEPTH)
		return own_fail(w, sub, -ELOOP);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return own_fail(w, sub, -errno);
	r = own_dir(w, fd, sub, depth + 1);
	return r;
}

/* Every entry of the directory fd (closed here). */
static int
own_dir(struct own_walk *w, int fd, const char *path, int depth)
{
	struct dirent *de;
	DIR *d = fdopendir(fd);
	int r = 0;

	if (d == NULL) {
		r = -errno;
		close(fd);
		return own_fail(w, path, r);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		r = own_entry(w, dirfd(d), path, de->d_name, depth);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

/* See privdrop.h. */
int
privdrop_own_tree(const char *dir, uid_t uid, gid_t gid, char *bad,
		  size_t badsz, size_t *ret_changed)
{
	struct own_walk w = { uid, gid, false, 0, 0, bad, badsz };
	struct stat st;
	int pass, fd, r;

	for (pass = 0; pass < 2; pass++) {
		w.apply = pass == 1;
		w.seen = 0;
		/* dir itself may be a link (the operator's choice). */
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return own_fail(&w, dir, -errno);
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			return own_fail(&w, dir, r);
		}
		if (w.apply && (st.st_uid != uid || st.st_gid != gid)) {
			if (fchown(fd, uid, gid) < 0) {
				r = -errno;
				close(fd);
				return own_fail(&w, dir, r);
			}
			w.changed++;
		}
		r = own_dir(&w, fd, dir, 1);
		if (r < 0)
			return r;
	}
	*ret_changed = w.changed;
	return 0;
}
