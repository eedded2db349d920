/*
 * privdrop.h - give up root after the sockets are bound: switch to an
 * unprivileged user, keep only named capabilities, and confine the
 * filesystem to a few trees with Landlock (Linux 5.13 and later).
 *
 * The pure parts (which capabilities a need maps to, the capset words,
 * the Landlock access masks of each ABI, the startup decision, who may
 * read a file) are separate from privdrop_apply(), which makes the
 * system calls. Library code: nothing here logs; privdrop_apply() fills
 * a report that the caller logs once.
 */
#ifndef MB_PRIVDROP_H
#define MB_PRIVDROP_H

#include <linux/capability.h>
#include <linux/filter.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define PRIVDROP_USER_DEFAULT "metalboot"
#define PRIVDROP_TREE_DEPTH   3	     /* levels below a state dir we own */
#define PRIVDROP_TREE_MAX     200000 /* entries in that tree */
#define PRIVDROP_CAPS_STR     256    /* "cap_net_admin,cap_net_raw" */
#define PRIVDROP_PATHS_MAX    16     /* trees given to privdrop_apply */
#define PRIVDROP_SECCOMP_MAX  128    /* instructions of the filter */

/* What a daemon still does after the drop; privdrop_caps_for() maps. */
enum privdrop_need {
	PRIVDROP_NEED_ARP = 1 << 0,	 /* SIOCSARP: CAP_NET_ADMIN */
	PRIVDROP_NEED_BIND_LOW = 1 << 1, /* bind below 1024: NET_BIND_SERVICE */
	PRIVDROP_NEED_RAW = 1 << 2,	 /* raw or packet sockets: NET_RAW */
};

/* The capability bit mask (1 << CAP_x) that needs (privdrop_need) ask. */
uint64_t privdrop_caps_for(unsigned needs);

/*
 * Write caps as a comma-separated list of lowercase names ("none" when
 * empty; unknown bits as "cap_N") into buf of n bytes. Returns 0 or
 * -ENOSPC (buf then holds a truncated list).
 */
int privdrop_caps_format(uint64_t caps, char *buf, size_t n);

/*
 * The two 32-bit words capset(2) takes (version 3) for effective =
 * permitted = caps and an empty inheritable set.
 */
void privdrop_cap_data(uint64_t caps, struct __user_cap_data_struct data[2]);

/* How a daemon started by euid runs (privdrop_plan). */
enum privdrop_mode {
	PRIVDROP_MODE_USER,    /* root: switch to the user */
	PRIVDROP_MODE_ROOT,    /* root and --user root: stay root (warn) */
	PRIVDROP_MODE_NONROOT, /* not root: keep the ids, shed capabilities */
};

/*
 * Decide how a daemon started with effective uid euid runs for a user
 * (named on the command line when explicit, else the default) whose
 * entry is pw, NULL when the name is unknown. Returns 0 and *ret_mode, or
 * -ENOENT when root asks for a user that does not exist, -EPERM when the user
 * is uid 0 (root under any name) but was not asked for explicitly.
 */
int privdrop_plan(uid_t euid, bool explicit, const struct passwd *pw,
		  enum privdrop_mode *ret_mode);

/* The Landlock filesystem accesses known to ABI abi (0: none). */
uint64_t privdrop_ll_handled(int abi);

/* Accesses granted under a read-only tree, and under a read-write one. */
uint64_t privdrop_ll_ro(int abi);
uint64_t privdrop_ll_rw(int abi);

/* Only those of mask that apply to a file that is not a directory. */
uint64_t privdrop_ll_file_only(uint64_t mask);

/*
 * True when uid (primary group gid, no supplementary groups) may read the
 * file st describes (list and enter it, for a directory), by its owner,
 * group and mode bits alone.
 */
bool privdrop_can_read(const struct stat *st, uid_t uid, gid_t gid);

/* What privdrop_apply() is asked to do. */
struct privdrop_conf {
	bool switch_ids; /* setresgid/setresuid to uid/gid (root only) */
	uid_t uid;
	gid_t gid;
	uint64_t keep_caps; /* capability bits kept (1 << CAP_x) */
	/* Trees readable, and readable and writable; NULL entries skipped. */
	const char *ro[PRIVDROP_PATHS_MAX];
	const char *rw[PRIVDROP_PATHS_MAX];
	bool dumpable; /* keep the process dumpable, ptrace allowed
			  (sanitizer builds: LeakSanitizer) */
	bool seccomp;  /* install privdrop_seccomp_filter() */
};

/* What privdrop_apply() did. */
struct privdrop_report {
	int landlock_abi;      /* ABI enforced; 0: Landlock unavailable */
	int landlock_errno;    /* why not, when unavailable (positive) */
	uint64_t landlock_fs;  /* accesses Landlock handles */
	bool landlock_net;     /* TCP bind refused (ABI 4) */
	bool landlock_scoped;  /* signals, abstract sockets scoped (ABI 6) */
	size_t skipped;	       /* paths in conf that do not exist */
	uint64_t caps;	       /* effective capabilities afterwards */
	bool bounding;	       /* the bounding set was reduced too */
	size_t seccomp_denied; /* system calls refused; 0: no filter */
};

/*
 * The seccomp filter privdrop_apply() installs into out (cap
 * instructions): calls of another architecture kill the process; exec,
 * ptrace (unless allow_ptrace), mount and namespace calls, module, key,
 * BPF, clock and id changes, io_uring and a few more fail with EPERM;
 * everything else is allowed (a deny list: an unforeseen call in a
 * library must not kill the daemon). Returns 0 and *ret_len, -ENOSPC, or
 * -ENOSYS on an architecture without a list (x86_64 and arm64 have one).
 */
int privdrop_seccomp_filter(bool allow_ptrace, struct sock_filter *out,
			    size_t cap, size_t *ret_len);

/*
 * Drop: reduce the bounding set to keep_caps (when CAP_SETPCAP allows),
 * clear the ambient set, switch ids when asked (supplementary groups
 * cleared), keep only keep_caps (those the process holds), set
 * no_new_privs, then confine the filesystem with Landlock when the kernel
 * has it (its absence is not an error: the report says so), and install
 * the seccomp filter when asked. File
 * descriptors opened before stay usable. Returns 0 with *ret filled, or a
 * negative errno from the first step that failed (the process must then
 * exit: it may be half-dropped).
 */
int privdrop_apply(const struct privdrop_conf *c, struct privdrop_report *ret);

/*
 * Give uid:gid every entry of the tree at dir (dir included), never
 * following a symbolic link below dir: a daemon's state dir made or left
 * by root.
 * The tree is checked first and nothing is changed when it holds anything
 * but directories and regular files, is deeper than PRIVDROP_TREE_DEPTH
 * or larger than PRIVDROP_TREE_MAX (not a state dir: -EINVAL, -ELOOP or
 * -EFBIG, with the offending path in bad, of badsz bytes). Returns 0 and
 * *ret_changed (entries whose owner changed), or a negative errno.
 */
int privdrop_own_tree(const char *dir, uid_t uid, gid_t gid, char *bad,
		      size_t badsz, size_t *ret_changed);

#endif
