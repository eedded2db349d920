/*
 * test_common_privdrop.c - the pure parts of privdrop.h, taking a state
 * dir's tree, and a real drop in a child process (as root: to nobody).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "privdrop.h"

static void
test_caps(void **state)
{
	struct __user_cap_data_struct d[2];
	char buf[PRIVDROP_CAPS_STR], tiny[8];
	uint64_t c;

	(void)state;
	assert_int_equal(privdrop_caps_for(0), 0);
	assert_int_equal(privdrop_caps_for(PRIVDROP_NEED_ARP),
			 1ULL << CAP_NET_ADMIN);
	c = privdrop_caps_for(PRIVDROP_NEED_ARP | PRIVDROP_NEED_RAW |
			      PRIVDROP_NEED_BIND_LOW);
	assert_int_equal(c, (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW) |
				    (1ULL << CAP_NET_BIND_SERVICE));

	assert_int_equal(privdrop_caps_format(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "none");
	assert_int_equal(privdrop_caps_format(c, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
			    "cap_net_bind_service,cap_net_admin,cap_net_raw");
	assert_int_equal(privdrop_caps_format(1ULL << 62, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cap_62");
	assert_int_equal(privdrop_caps_format(c, tiny, sizeof(tiny)), -ENOSPC);

	privdrop_cap_data((1ULL << CAP_NET_ADMIN) | (1ULL << 40), d);
	assert_int_equal(d[0].effective, 1u << CAP_NET_ADMIN);
	assert_int_equal(d[0].permitted, 1u << CAP_NET_ADMIN);
	assert_int_equal(d[0].inheritable, 0);
	assert_int_equal(d[1].effective, 1u << 8);
	assert_int_equal(d[1].permitted, 1u << 8);
	assert_int_equal(d[1].inheritable, 0);
}

static void
test_plan(void **state)
{
	struct passwd user = { 0 }, root = { 0 };
	enum privdrop_mode m = PRIVDROP_MODE_NONROOT;

	(void)state;
	user.pw_uid = 990;
	root.pw_uid = 0;
	assert_int_equal(privdrop_plan(0, false, &user, &m), 0);
	assert_int_equal(m, PRIVDROP_MODE_USER);
	/* Root and no such user: an error, never a silent root run. */
	assert_int_equal(privdrop_plan(0, false, NULL, &m), -ENOENT);
	assert_int_equal(privdrop_plan(0, true, NULL, &m), -ENOENT);
	/* uid 0 only when asked for. */
	assert_int_equal(privdrop_plan(0, false, &root, &m), -EPERM);
	assert_int_equal(privdrop_plan(0, true, &root, &m), 0);
	assert_int_equal(m, PRIVDROP_MODE_ROOT);
	/* Not root: nothing to switch, whatever the user. */
	assert_int_equal(privdrop_plan(1000, false, NULL, &m), 0);
	assert_int_equal(m, PRIVDROP_MODE_NONROOT);
}

static void
test_landlock_masks(void **state)
{
	(void)state;
	assert_int_equal(privdrop_ll_handled(0), 0);
	assert_int_equal(privdrop_ll_ro(0), 0);
	assert_int_equal(privdrop_ll_handled(1), 0x1fff);
	assert_int_equal(privdrop_ll_handled(2), 0x3fff);
	assert_int_equal(privdrop_ll_handled(3), 0x7fff);
	assert_int_equal(privdrop_ll_handled(4), 0x7fff);
	assert_int_equal(privdrop_ll_handled(5), 0xffff);
	assert_int_equal(privdrop_ll_handled(7), 0xffff);
	/* READ_FILE | READ_DIR */
	assert_int_equal(privdrop_ll_ro(1), 0x0c);
	/* + WRITE_FILE, REMOVE_DIR, REMOVE_FILE, MAKE_DIR, MAKE_REG */
	assert_int_equal(privdrop_ll_rw(1), 0x1be);
	/* + REFER, TRUNCATE; never EXECUTE, devices, sockets, links */
	assert_int_equal(privdrop_ll_rw(7), 0x1be | (1 << 13) | (1 << 14));
	assert_int_equal(privdrop_ll_rw(7) & 1, 0);
	/* A rule on a file takes only file accesses. */
	assert_int_equal(privdrop_ll_file_only(privdrop_ll_ro(7)), 1 << 2);
	assert_int_equal(privdrop_ll_file_only(privdrop_ll_rw(7)),
			 (1 << 1) | (1 << 2) | (1 << 14));
}

static void
test_can_read(void **state)
{
	struct stat st;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.st_uid = 0;
	st.st_gid = 0;
	st.st_mode = S_IFREG | 0600;
	assert_false(privdrop_can_read(&st, 990, 990));
	assert_true(privdrop_can_read(&st, 0, 0));
	st.st_uid = 990;
	assert_true(privdrop_can_read(&st, 990, 990));
	st.st_mode = S_IFREG | 0200;
	assert_false(privdrop_can_read(&st, 990, 990));
	st.st_uid = 0;
	st.st_gid = 990;
	st.st_mode = S_IFREG | 0640;
	assert_true(privdrop_can_read(&st, 990, 990));
	st.st_mode = S_IFREG | 0604; /* the group is denied by its bits */
	assert_false(privdrop_can_read(&st, 990, 990));
	st.st_gid = 0;
	assert_true(privdrop_can_read(&st, 990, 990));
	/* A directory must be listable and enterable. */
	st.st_mode = S_IFDIR | 0704;
	assert_false(privdrop_can_read(&st, 990, 990));
	st.st_mode = S_IFDIR | 0705;
	assert_true(privdrop_can_read(&st, 990, 990));
}

static void
mk(const char *dir, const char *rel, bool is_dir)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (is_dir) {
		assert_int_equal(mkdir(p, 0700), 0);
		return;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static uid_t
owner(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(lstat(p, &st), 0);
	return st.st_uid;
}

static void
rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * A state dir's tree is given whole; one that is not a state dir (a
 * FIFO, a symbolic link, too deep) is refused before anything changes.
 */
static void
test_own_tree(void **state)
{
	char dir[] = "/tmp/test_privdrop.XXXXXX", bad[PATH_MAX], p[PATH_MAX];
	uid_t to = getuid() == 0 ? 4242 : getuid();
	gid_t gto = getuid() == 0 ? 4242 : getgid();
	size_t changed = 99;

	(void)state;
	assert_non_null(mkdtemp(dir));
	mk(dir, "dhcp.leases", false);
	mk(dir, "nodes", true);
	mk(dir, "nodes/a.json", false);

	/* A symbolic link: refused, nothing changed. */
	snprintf(p, sizeof(p), "%s/nodes/ln", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(
		privdrop_own_tree(dir, to, gto, bad, sizeof(bad), &changed),
		-EINVAL);
	assert_string_equal(bad, p);
	assert_int_equal(changed, 99);
	if (getuid() == 0)
		assert_int_equal(owner(dir, "dhcp.leases"), 0);
	assert_int_equal(unlink(p), 0);

	/* Deeper than a state dir goes. */
	mk(dir, "nodes/x", true);
	mk(dir, "nodes/x/y", true);
	assert_int_equal(
		privdrop_own_tree(dir, to, gto, bad, sizeof(bad), &changed),
		-ELOOP);
	snprintf(p, sizeof(p), "%s/nodes/x/y", dir);
	assert_string_equal(bad, p);
	snprintf(p, sizeof(p), "%s/nodes/x/y", dir);
	assert_int_equal(rmdir(p), 0);

	assert_int_equal(
		privdrop_own_tree(dir, to, gto, bad, sizeof(bad), &changed), 0);
	assert_int_equal(owner(dir, "."), to);
	assert_int_equal(owner(dir, "dhcp.leases"), to);
	assert_int_equal(owner(dir, "nodes/a.json"), to);
	assert_int_equal(owner(dir, "nodes/x"), to);
	if (getuid() == 0)
		assert_int_equal(changed, 5);
	assert_int_equal(
		privdrop_own_tree(dir, to, gto, bad, sizeof(bad), &changed), 0);
	assert_int_equal(changed, 0);

	/* The state dir itself may be a link to the real one. */
	snprintf(p, sizeof(p), "%s.link", dir);
	assert_int_equal(symlink(dir, p), 0);
	assert_int_equal(
		privdrop_own_tree(p, to, gto, bad, sizeof(bad), &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(unlink(p), 0);
	rm_tree(dir);
}

/* Child steps of test_apply; the exit status names the one that failed. */
static int
apply_child(const char *ro, const char *rw, bool as_root)
{
	struct privdrop_conf c;
	struct privdrop_report rep;
	char p[PATH_MAX];
	int fd;

	memset(&c, 0, sizeof(c));
	c.switch_ids = as_root;
	c.uid = 65534;
	c.gid = 65534;
	c.keep_caps = privdrop_caps_for(PRIVDROP_NEED_ARP);
	c.ro[0] = ro;
	c.ro[1] = "/nonexistent-privdrop-test";
	c.rw[0] = rw;
	c.seccomp = true;
	if (privdrop_apply(&c, &rep) < 0)
		return 10;
	if (as_root && (getuid() != 65534 || geteuid() != 65534 ||
			getgid() != 65534 || rep.caps != c.keep_caps))
		return 11;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 12;
	if (rep.skipped != 1)
		return 13;
#if defined(__x86_64__) || defined(__aarch64__)
	{
		char *const argv[] = { "true", NULL };

		if (rep.seccomp_denied < 40)
			return 20;
		if (execve("/bin/true", argv, NULL) == 0 || errno != EPERM)
			return 21;
		if (unshare(CLONE_NEWUTS) == 0 || errno != EPERM)
			return 22;
		if (getpid() <= 0)
			return 23;
	}
#endif
	snprintf(p, sizeof(p), "%s/f", ro);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return 14;
	close(fd);
	if (rep.landlock_abi == 0)
		return 0; /* no Landlock here: the ids were checked */
	if (open(p, O_WRONLY) >= 0 || errno != EACCES)
		return 15;
	snprintf(p, sizeof(p), "%s/new", rw);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return 16;
	close(fd);
	if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EACCES)
		return 17;
	if (open("/tmp", O_RDONLY | O_DIRECTORY) >= 0 || errno != EACCES)
		return 18;
	return 0;
}

/* A real drop, in a child: ids, no_new_privs and the Landlock rules. */
static void
test_apply(void **state)
{
	char ro[] = "/tmp/test_privdrop_ro.XXXXXX";
	char rw[] = "/tmp/test_privdrop_rw.XXXXXX";
	bool as_root = getuid() == 0;
	int st;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(ro));
	assert_non_null(mkdtemp(rw));
	mk(ro, "f", false);
	assert_int_equal(chmod(ro, 0755), 0);
	assert_int_equal(chmod(rw, 0700), 0);
	if (as_root) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/f", ro);
		assert_int_equal(chmod(p, 0644), 0);
		assert_int_equal(chown(rw, 65534, 65534), 0);
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(apply_child(ro, rw, as_root));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	rm_tree(ro);
	rm_tree(rw);
}

/* The filter's shape: a deny list with both exits, ptrace optional. */
static void
test_seccomp_filter(void **state)
{
	struct sock_filter f[PRIVDROP_SECCOMP_MAX], g[PRIVDROP_SECCOMP_MAX];
	size_t n = 0, m = 0, i;
	bool has_execve = false;

	(void)state;
#if defined(__x86_64__) || defined(__aarch64__)
	assert_int_equal(privdrop_seccomp_filter(false, f, 8, &n), -ENOSPC);
	assert_int_equal(
		privdrop_seccomp_filter(false, f, PRIVDROP_SECCOMP_MAX, &n), 0);
	assert_int_equal(
		privdrop_seccomp_filter(true, g, PRIVDROP_SECCOMP_MAX, &m), 0);
	assert_int_equal(m + 1, n); /* ptrace allowed: one check less */
	assert_int_equal(f[n - 2].code, BPF_RET | BPF_K);
	assert_int_equal(f[n - 2].k, SECCOMP_RET_ALLOW);
	assert_int_equal(f[n - 1].k, SECCOMP_RET_ERRNO | EPERM);
	assert_int_equal(f[2].k, SECCOMP_RET_KILL_PROCESS);
	for (i = 5; i < n - 2; i++) {
		/* Every check jumps to the EPERM exit. */
		assert_int_equal(i + 1 + f[i].jt, n - 1);
		if (f[i].k == SYS_execve)
			has_execve = true;
	}
	assert_true(has_execve);
	assert_int_equal(f[n - 3].k, SYS_ptrace);
	assert_int_not_equal(g[m - 3].k, SYS_ptrace);
#else
	assert_int_equal(privdrop_seccomp_filter(false, f, 128, &n), -ENOSYS);
	(void)g;
	(void)m;
	(void)i;
	(void)has_execve;
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_landlock_masks),
		cmocka_unit_test(test_seccomp_filter),
		cmocka_unit_test(test_can_read),
		cmocka_unit_test(test_own_tree),
		cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
