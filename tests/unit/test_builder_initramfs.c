/*
 * test_builder_initramfs.c - the streaming newc writer: member-name
 * checks, symlink loops (direct, through directories, absolute), hard
 * links from a directory and from a tarball, clamped mtimes, inode
 * numbers that do not depend on the disk, the tap, and no output at all
 * after a failure.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"
#include "initramfs.h"

static char top[256];

static void
put(const char *rel, const char *content)
{
	char p[512], dir[512];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(atomic_write(p, content, strlen(content), 0644), 0);
}

static void
sym(const char *target, const char *rel)
{
	char p[512], dir[512];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(symlink(target, p), 0);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/mb-initramfs-XXXXXX");
	return mkdtemp(top) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* Build out from the trees (NULL-terminated); returns the result. */
static int
build(const char *out, int64_t epoch, const struct initramfs_tap *tap,
      char *err, size_t errlen, ...)
{
	struct initramfs_opts io = { .compress = INITRAMFS_NONE,
				     .epoch = epoch,
				     .tap = tap };
	struct initramfs *w = NULL;
	char p[512], src[512];
	const char *s;
	va_list ap;
	int r;

	snprintf(p, sizeof(p), "%s/%s", top, out);
	r = initramfs_open(p, &io, &w, err, errlen);
	if (r < 0)
		return r;
	va_start(ap, errlen);
	while (r == 0 && (s = va_arg(ap, const char *)) != NULL) {
		snprintf(src, sizeof(src), "%s/%s", top, s);
		r = initramfs_add_tree(w, src, 0);
	}
	va_end(ap);
	if (r < 0) {
		snprintf(err, errlen, "%s", initramfs_error(w));
		initramfs_abort(w);
		return r;
	}
	return initramfs_commit(w, err, errlen);
}

static bool
exists(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	return access(p, F_OK) == 0;
}

struct entry {
	char name[128];
	int64_t size;
	uint64_t ino;
	unsigned nlink;
	int64_t mtime;
	char data[64];
};

static size_t
read_img(const char *rel, struct entry *v, size_t max)
{
	struct archive_entry *e;
	struct archive *a = archive_read_new();
	char p[512];
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	assert_int_equal(archive_read_open_filename(a, p, 4096), ARCHIVE_OK);
	while (n < max && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].name, sizeof(v[n].name), "%s",
			 archive_entry_pathname(e));
		v[n].size = archive_entry_size(e);
		v[n].ino = (uint64_t)archive_entry_ino64(e);
		v[n].nlink = archive_entry_nlink(e);
		v[n].mtime = archive_entry_mtime(e);
		assert_true(archive_read_data(a, v[n].data,
					      sizeof(v[n].data) - 1) >= 0);
		n++;
	}
	archive_read_free(a);
	return n;
}

static void
test_norm_name(void **state)
{
	static const struct {
		const char *in, *out;
		int r;
	} cases[] = {
		{ "./etc/passwd", "etc/passwd", 0 },
		{ "etc//x/./y/", "etc/x/y", 0 },
		{ "./", "", 1 },
		{ ".", "", 1 },
		{ "/etc/passwd", NULL, -EINVAL },
		{ "../x", NULL, -EINVAL },
		{ "a/../../x", NULL, -EINVAL },
		{ "a/..", NULL, -EINVAL },
		{ "a/..b", "a/..b", 0 },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		assert_int_equal(initramfs_norm_name(buf), cases[i].r);
		if (cases[i].out != NULL)
			assert_string_equal(buf, cases[i].out);
	}
}

static void
test_symlink_loops(void **state)
{
	char err[INITRAMFS_ERR_MAX];

	(void)state;
	/* Fine: dangling, absolute, through directories, X11 -> . */
	sym("/nowhere", "ok/a");
	sym("../usr/bin", "ok/sbin/bin");
	sym(".", "ok/usr/bin/X11");
	sym("/usr/bin/X11/X11/X11/sh", "ok/bin/sh2");
	put("ok/usr/bin/sh", "sh");
	assert_int_equal(
		build("ok.img", -1, NULL, err, sizeof(err), "ok", NULL), 0);

	sym("self", "l1/self");
	assert_int_equal(
		build("l1.img", -1, NULL, err, sizeof(err), "l1", NULL),
		-ELOOP);
	assert_non_null(strstr(err, "symlink loop"));
	assert_false(exists("l1.img"));

	sym("b", "l2/d/a");
	sym("a", "l2/d/b");
	assert_int_equal(
		build("l2.img", -1, NULL, err, sizeof(err), "l2", NULL),
		-ELOOP);

	/* A loop through a directory component and an absolute target. */
	sym("/l3/x", "l3/l3");
	put("l3/keep", "");
	sym("/l3/x/y", "l3/l3x");
	sym("l3", "l3/x");
	assert_int_equal(
		build("l3.img", -1, NULL, err, sizeof(err), "l3", NULL),
		-ELOOP);
	assert_false(exists("l3.img"));
}

static void
test_hardlinks_and_inodes(void **state)
{
	static struct entry v[64], u[64];
	char err[INITRAMFS_ERR_MAX];
	size_t n, m, i;

	(void)state;
	put("h/a/one", "shared");
	put("h/z", "zzz");
	sh("ln '%s/h/a/one' '%s/h/b'", top, top);
	assert_int_equal(
		build("h.img", 1000, NULL, err, sizeof(err), "h", NULL), 0);
	n = read_img("h.img", v, 64);
	assert_int_equal(n, 4);
	/* Sorted: a, a/one, b, z. The first name carries the data. */
	assert_string_equal(v[0].name, "a");
	assert_string_equal(v[1].name, "a/one");
	assert_string_equal(v[2].name, "b");
	assert_string_equal(v[3].name, "z");
	assert_int_equal(v[1].size, 6);
	assert_int_equal(v[2].size, 0);
	assert_int_equal(v[1].ino, v[2].ino);
	assert_int_equal(v[1].nlink, 2);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i].mtime, 1000);
	/* Inode numbers are ours, from 1, not the disk's. */
	assert_int_equal(v[0].ino, 1);
	assert_int_equal(v[3].ino, 3);

	/* The same tree copied elsewhere (other inodes) gives equal bytes. */
	sh("cp -a '%s/h' '%s/h2' && touch -d @5000 '%s/h2/z'", top, top, top);
	assert_int_equal(
		build("h2.img", 1000, NULL, err, sizeof(err), "h2", NULL), 0);
	sh("cmp -s '%s/h.img' '%s/h2.img'", top, top);

	/* From a tarball: the link refers to the earlier member. */
	sh("tar -C '%s/h' -cf '%s/h.tar' a b z", top, top);
	assert_int_equal(
		build("t.img", -1, NULL, err, sizeof(err), "h.tar", NULL), 0);
	m = read_img("t.img", u, 64);
	assert_int_equal(m, 4);
	assert_string_equal(u[2].name, "b");
	assert_int_equal(u[2].size, 0);
	assert_int_equal(u[1].ino, u[2].ino);
	assert_true(u[2].nlink >= 2);
	/* GNU cpio extracts it as a real hard link with the data. */
	sh("mkdir '%s/x' && cd '%s/x' && cpio -idm --quiet < ../t.img && "
	   "test \"$(stat -c %%i a/one)\" = \"$(stat -c %%i b)\" && "
	   "grep -q shared b",
	   top, top);
}

struct tapctx {
	unsigned seen, wanted, ends;
	char data[64];
	size_t len;
};

static int
t_want(void *ctx, const char *name, mode_t mode, const char *link)
{
	struct tapctx *t = ctx;

	(void)link;
	t->seen++;
	if (S_ISREG(mode) && strcmp(name, "etc/hostname") == 0) {
		t->wanted++;
		return 1;
	}
	return 0;
}

static int
t_data(void *ctx, const void *buf, size_t len)
{
	struct tapctx *t = ctx;

	memcpy(t->data + t->len, buf, len);
	t->len += len;
	return 0;
}

static int
t_end(void *ctx)
{
	((struct tapctx *)ctx)->ends++;
	return 0;
}

static void
test_tap_overlay_and_failure(void **state)
{
	struct tapctx t = { 0 };
	struct initramfs_tap tap = { t_want, t_data, t_end, &t };
	static struct entry v[64];
	char err[INITRAMFS_ERR_MAX], p[512];
	size_t n;

	(void)state;
	put("tb/etc/hostname", "node1\n");
	put("tb/etc/motd", "hi\n");
	put("to/etc/motd", "overlaid\n");
	assert_int_equal(
		build("tap.img", -1, &tap, err, sizeof(err), "tb", "to", NULL),
		0);
	assert_int_equal(t.wanted, 1);
	assert_int_equal(t.ends, 1);
	assert_string_equal(t.data, "node1\n");
	assert_int_equal(t.seen, 5);
	n = read_img("tap.img", v, 64);
	/* The overlay comes after the base: the kernel keeps its file. */
	assert_string_equal(v[n - 1].name, "etc/motd");
	assert_string_equal(v[n - 1].data, "overlaid\n");

	/* A failing source leaves an existing image untouched. */
	assert_int_equal(build("tap.img", -1, NULL, err, sizeof(err), "tb",
			       "missing", NULL),
			 -ENOENT);
	assert_non_null(strstr(err, "missing"));
	n = read_img("tap.img", v, 64);
	assert_string_equal(v[n - 1].data, "overlaid\n");
	snprintf(p, sizeof(p), "ls '%s' | grep -q tmp", top);
	assert_int_not_equal(system(p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_norm_name),
		cmocka_unit_test_setup_teardown(test_symlink_loops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hardlinks_and_inodes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_overlay_and_failure,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
