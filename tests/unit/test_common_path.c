/*
 * test_common_path.c - the resolver for untrusted paths: every escape we
 * know of is tried against a real directory tree, through openat2 and
 * through the fallback walk.
 */
#include <errno.h>
#include <fcntl.h>
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

/* Reach the static fallback walk as well. */
#include "../../common/path.c"

static char top[256];
static int rootfd = -1;

static void
put(const char *rel, const char *content)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int
setup(void **state)
{
	char p[512];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/mbpath.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	/* top/secret is outside the served root top/root. */
	snprintf(p, sizeof(p), "%s/root", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/images", top);
	mkdir(p, 0755);
	put("secret", "SECRET");
	put("root/hello.txt", "hello");
	put("root/images/vmlinuz", "kernel");
	snprintf(p, sizeof(p), "%s/root/in-link", top);
	symlink("images/vmlinuz", p);
	snprintf(p, sizeof(p), "%s/root/images/up-link", top);
	symlink("../hello.txt", p);
	snprintf(p, sizeof(p), "%s/root/out-rel", top);
	symlink("../secret", p);
	snprintf(p, sizeof(p), "%s/root/out-abs", top);
	symlink("/etc/passwd", p);
	snprintf(p, sizeof(p), "%s/root/dir-out", top);
	symlink("..", p);
	snprintf(p, sizeof(p), "%s/root/loop", top);
	symlink("loop", p);
	snprintf(p, sizeof(p), "%s/root/fifo", top);
	mkfifo(p, 0644);
	snprintf(p, sizeof(p), "%s/root", top);
	rootfd = open(p, O_RDONLY | O_DIRECTORY);
	return rootfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void
read_is(int fd, const char *want)
{
	char b[64];
	ssize_t n = read(fd, b, sizeof(b) - 1);

	assert_true(n >= 0);
	b[n] = '\0';
	assert_string_equal(b, want);
}

static void
test_check_rel(void **state)
{
	static const char *bad[] = { "",       "/etc/passwd", "..", "../x",
				     "a/../b", "a/..",	      ".",  "./a",
				     "a/./b",  "a//b",	      "a/", "a\tb",
				     "a\nb",   "\x7f" };
	size_t i;

	(void)state;
	assert_int_equal(path_check_rel("a", 1), 0);
	assert_int_equal(path_check_rel("images/vmlinuz", 14), 0);
	assert_int_equal(path_check_rel("..a/b..", 7), 0); /* not ".." */
	assert_int_equal(path_check_rel("a/...", 5), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(path_check_rel(bad[i], strlen(bad[i])),
				 -EINVAL);
	/* An embedded NUL: the length says there is more. */
	assert_int_equal(path_check_rel("a\0b", 3), -EINVAL);
	assert_int_equal(path_check_rel(NULL, 0), -EINVAL);
	{
		char big[PATH_REQ_MAX + 2];

		memset(big, 'a', sizeof(big));
		assert_int_equal(path_check_rel(big, PATH_REQ_MAX), 0);
		assert_int_equal(path_check_rel(big, PATH_REQ_MAX + 1),
				 -ENAMETOOLONG);
	}
}

static void
test_open_ok(void **state)
{
	struct stat st;
	int fd = -1;

	(void)state;
	assert_int_equal(path_open_under(rootfd, "hello.txt", &fd, &st), 0);
	assert_int_equal(st.st_size, 5);
	read_is(fd, "hello");
	close(fd);
	assert_int_equal(path_open_under(rootfd, "images/vmlinuz", &fd, &st),
			 0);
	close(fd);
	/* Symlinks that stay inside the root are followed. */
	assert_int_equal(path_open_under(rootfd, "in-link", &fd, &st), 0);
	read_is(fd, "kernel");
	close(fd);
	assert_int_equal(path_open_under(rootfd, "images/up-link", &fd, &st),
			 0);
	read_is(fd, "hello");
	close(fd);
}

static void
test_open_escapes(void **state)
{
	static const char *bad[] = {
		"../secret", "/etc/passwd", "images/../../secret",
		"out-rel",   "out-abs",	    "dir-out/secret",
		"loop",	     "fifo",	    "images",
		"missing",   "hello.txt/x"
	};
	struct stat st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = 12345;
		int r = path_open_under(rootfd, bad[i], &fd, &st);

		if (r == 0)
			fail_msg("'%s' was opened", bad[i]);
		assert_int_equal(fd, 12345); /* ret untouched */
	}
	{
		int fd = -1;

		assert_int_equal(path_open_under(rootfd, "out-rel", &fd, &st),
				 -EXDEV);
		assert_int_equal(path_open_under(rootfd, "images", &fd, &st),
				 -EISDIR);
		assert_int_equal(path_open_under(rootfd, "fifo", &fd, &st),
				 -EPERM);
		assert_int_equal(path_open_under(rootfd, "missing", &fd, &st),
				 -ENOENT);
	}
}

static void
test_fallback_walk(void **state)
{
	int fd;

	(void)state;
	fd = open_nofollow_walk(rootfd, "images/vmlinuz");
	assert_true(fd >= 0);
	read_is(fd, "kernel");
	close(fd);
	/* Without openat2 every symlink is refused, even an inside one. */
	assert_true(open_nofollow_walk(rootfd, "in-link") < 0);
	assert_true(open_nofollow_walk(rootfd, "out-rel") < 0);
	assert_true(open_nofollow_walk(rootfd, "dir-out/secret") < 0);
}

static void
test_join(void **state)
{
	char b[16];

	(void)state;
	assert_int_equal(path_join(b, sizeof(b), "a", "b"), 0);
	assert_string_equal(b, "a/b");
	assert_int_equal(path_join(b, sizeof(b), "a/", "b"), 0);
	assert_string_equal(b, "a/b");
	assert_int_equal(path_join(b, sizeof(b), "", "b"), 0);
	assert_string_equal(b, "b");
	assert_int_equal(path_join(b, 4, "ab", "c"), -ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_rel),
		cmocka_unit_test(test_open_ok),
		cmocka_unit_test(test_open_escapes),
		cmocka_unit_test(test_fallback_walk),
		cmocka_unit_test(test_join),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
