/*
 * test_firstboot_exec.c - the executor's helpers: programs run from PATH
 * with an argument vector (no shell: metacharacters stay literal), output
 * captured, exit status and signals reported, a hung program killed at its
 * timeout; root-relative writes that change nothing when the content and
 * mode already match; the backoff's bounds and jitter.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec.h"
#include "fetch.h"
#include "fsutil.h"
#include "num.h"

static void
test_run(void **state)
{
	char *const echo[] = { "echo", "a;b", "$(id)", NULL };
	char *const fals[] = { "false", NULL };
	char *const nope[] = { "no-such-program-mb", NULL };
	char *const sleeper[] = { "sleep", "30", NULL };
	char *const sh[] = { "sh", "-c", "echo out; echo err >&2; exit 3",
			     NULL };
	struct buf out;
	double t0;
	int status = -1;

	(void)state;
	buf_init(&out, 1 << 16);
	assert_int_equal(fb_run(echo, 10, &out, &status), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.data, "a;b $(id)\n");
	buf_done(&out);
	assert_int_equal(fb_run(fals, 10, NULL, &status), 0);
	assert_int_equal(status, 1);
	assert_int_equal(fb_run(nope, 10, NULL, &status), -ENOENT);
	assert_int_equal(fb_run(sh, 10, &out, &status), 0);
	assert_int_equal(status, 3);
	assert_non_null(strstr(out.data, "out\n"));
	assert_non_null(strstr(out.data, "err\n"));
	buf_done(&out);
	t0 = fb_now();
	assert_int_equal(fb_run(sleeper, 1, NULL, &status), -ETIMEDOUT);
	assert_true(fb_now() - t0 < 5);
	assert_true(fb_have("sh"));
	assert_false(fb_have("no-such-program-mb"));
}

/*
 * A program that closes its output and goes on: the deadline still holds
 * (it used to end at EOF, and fb_run then waited for the program).
 */
static void
test_run_timeout_after_eof(void **state)
{
	char *const closer[] = { "sh", "-c", "exec >&- 2>&-; exec sleep 30",
				 NULL };
	int status = -1;

	(void)state;
	assert_int_equal(fb_run(closer, 1, NULL, &status), -ETIMEDOUT);
	assert_int_equal(status, -1);
}

/*
 * Reap a process the test adopted (it is the child subreaper) and say
 * whether a signal ended it. Blocks until it ends: a grandchild that
 * fb_run failed to kill makes this return false after its sleep.
 */
static bool
killed_by_signal(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) &&
	       (WTERMSIG(st) == SIGTERM || WTERMSIG(st) == SIGKILL);
}

/* The pid a script wrote to path (with echo: a trailing newline). */
static pid_t
read_pid(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int pid = 0;

	assert_int_equal(read_file(path, 32, &text, &len), 0);
	assert_true(len > 1 && text[len - 1] == '\n');
	text[len - 1] = '\0';
	assert_int_equal(num_parse_int(text, 2, INT32_MAX, &pid), 0);
	free(text);
	return (pid_t)pid;
}

/*
 * On timeout the whole process group goes: a grandchild left in the
 * background (holding no pipe) is killed with the program, and a program
 * that ignores SIGTERM gets SIGKILL after the grace.
 */
static void
test_run_timeout_kills_group(void **state)
{
	char dir[] = "/tmp/test_fb_exec.XXXXXX", pidfile[64], script[256];
	char *argv[] = { "sh", "-c", script, NULL };
	int status = -1;
	pid_t g;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	/* Orphans come to us, so that we can reap and inspect them. */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);

	snprintf(script, sizeof(script),
		 "sleep 30 </dev/null >/dev/null 2>&1 & echo $! >%s; "
		 "exec >&- 2>&-; exec sleep 30",
		 pidfile);
	assert_int_equal(fb_run(argv, 3, NULL, &status), -ETIMEDOUT);
	g = read_pid(pidfile);
	assert_true(killed_by_signal(g));

	/* SIGTERM ignored (and inherited by both): SIGKILL ends them. */
	snprintf(script, sizeof(script),
		 "trap '' TERM; sleep 30 </dev/null >/dev/null 2>&1 & "
		 "echo $! >%s; exec >&- 2>&-; exec sleep 30",
		 pidfile);
	assert_int_equal(fb_run(argv, 3, NULL, &status), -ETIMEDOUT);
	g = read_pid(pidfile);
	assert_true(waitpid(g, &status, 0) == g);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
	assert_int_equal(unlink(pidfile), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A program that ends in time leaves what it started alone. */
static void
test_run_leaves_daemon(void **state)
{
	char dir[] = "/tmp/test_fb_exec.XXXXXX", pidfile[64], script[256];
	char *argv[] = { "sh", "-c", script, NULL };
	int status = -1, st;
	pid_t g;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	/* The daemon holds the output pipe: fb_run returns all the same. */
	snprintf(script, sizeof(script), "sleep 30 & echo $! >%s; echo started",
		 pidfile);
	assert_int_equal(fb_run(argv, 10, NULL, &status), 0);
	assert_int_equal(status, 0);
	g = read_pid(pidfile);
	assert_int_equal(waitpid(g, &st, WNOHANG), 0); /* still running */
	assert_int_equal(kill(g, SIGKILL), 0);
	assert_int_equal(waitpid(g, &st, 0), g);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
	assert_int_equal(unlink(pidfile), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_must_keeps_output(void **state)
{
	char *const sh[] = { "sh", "-c", "echo failing-output; exit 2", NULL };
	struct fb_exec x;

	(void)state;
	fb_exec_init(&x);
	assert_int_equal(fb_must(&x, sh, 10), -EIO);
	assert_non_null(strstr(x.msg, "exited with status 2"));
	assert_null(strstr(x.msg, "failing-output"));
	assert_non_null(strstr(x.output.data, "failing-output"));
	fb_exec_done(&x);
}

static void
test_put_file(void **state)
{
	char dir[] = "/tmp/mb-exec.XXXXXX", path[PATH_MAX];
	struct fb_exec x;
	struct stat st;
	bool changed;
	char *got = NULL;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fb_exec_init(&x);
	x.root = dir;
	assert_int_equal(fb_path(&x, "/etc/a/b.conf", path), 0);
	assert_string_equal(path + strlen(dir), "/etc/a/b.conf");
	assert_int_equal(
		fb_put_file(&x, "/etc/a/b.conf", "v1\n", 3, 0600, &changed), 0);
	assert_true(changed);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(
		fb_put_file(&x, "/etc/a/b.conf", "v1\n", 3, 0600, &changed), 0);
	assert_false(changed);
	/* Same content, other mode: rewritten with the mode. */
	assert_int_equal(
		fb_put_file(&x, "/etc/a/b.conf", "v1\n", 3, 0644, &changed), 0);
	assert_true(changed);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(fb_get_file(&x, "/etc/a/b.conf", 100, &got, &len), 0);
	assert_string_equal(got, "v1\n");
	free(got);
	assert_true(fb_exists(&x, "/etc/a"));
	assert_false(fb_exists(&x, "/etc/zzz"));
	assert_int_equal(fb_get_file(&x, "/etc/zzz", 100, &got, &len), -ENOENT);
	unlink(path);
	snprintf(path, sizeof(path), "%s/etc/a", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/etc", dir);
	rmdir(path);
	rmdir(dir);
	fb_exec_done(&x);
}

static void
test_backoff(void **state)
{
	unsigned delay = 0, d, i, last = 0;

	(void)state;
	for (i = 0; i < 20; i++) {
		unsigned before = delay ? delay : FB_FETCH_BACKOFF_FIRST;

		if (before > FB_FETCH_BACKOFF_MAX)
			before = FB_FETCH_BACKOFF_MAX;
		d = fb_backoff_next(&delay, FB_FETCH_BACKOFF_MAX);
		assert_true(d >= before / 2 && d <= before);
		assert_true(delay <= FB_FETCH_BACKOFF_MAX);
		last = delay;
	}
	assert_int_equal(last, FB_FETCH_BACKOFF_MAX);
}

/* No reporter: reporting is a no-op and a flush succeeds at once. */
static void
test_no_reporter(void **state)
{
	struct fb_exec x;

	(void)state;
	fb_exec_init(&x);
	fb_report(&x, "hosts", "ok", "");
	assert_int_equal(fb_report_flush(&x, 5), 0);
	fb_exec_done(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_timeout_after_eof),
		cmocka_unit_test(test_run_timeout_kills_group),
		cmocka_unit_test(test_run_leaves_daemon),
		cmocka_unit_test(test_must_keeps_output),
		cmocka_unit_test(test_put_file),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_no_reporter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
