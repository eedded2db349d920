/*
 * test_firstboot_journal.c - the journal (state.json): states and stamps
 * survive a reopen, output is kept as its tail and made printable, the
 * event queue keeps order and its cap, a changed payload digest resets all
 * but the kept steps, a read-only journal never writes, and a file that is
 * not a journal is refused.
 */
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
#include "journal.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mb-journal.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
test_states_persist(void **state)
{
	struct fb_journal *j = NULL;
	char out[FB_JOURNAL_OUTPUT + 100];
	struct stat st;
	char *text = NULL;
	size_t len;

	(void)state;
	assert_int_equal(fb_journal_open(path, false, &j), 0);
	assert_int_equal(fb_journal_state(j, "kubeadm"), FB_STATE_PENDING);
	assert_int_equal(access(path, F_OK), -1); /* nothing written yet */
	assert_int_equal(
		fb_journal_set(j, "hosts", FB_STATE_RUNNING, NULL, NULL), 0);
	assert_int_equal(
		fb_journal_set(j, "hosts", FB_STATE_OK, "2 entries", NULL), 0);
	memset(out, 'a', sizeof(out) - 1);
	out[sizeof(out) - 1] = '\0';
	memcpy(out + sizeof(out) - 6,
	       "\x01\xff"
	       "END",
	       5);
	assert_int_equal(
		fb_journal_set(j, "kubeadm", FB_STATE_FAILED, "exit 1", out),
		0);
	assert_int_equal(fb_journal_set_done(j, true), 0);
	{
		static const char *const all[] = { "hosts", "kubeadm",
						   "ready" };

		assert_int_equal(fb_journal_declare(j, all, 3), 0);
	}
	assert_int_equal(fb_journal_state(j, "hosts"), FB_STATE_OK);
	assert_int_equal(fb_journal_state(j, "ready"), FB_STATE_PENDING);
	fb_journal_free(j);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(read_file(path, 1 << 20, &text, &len), 0);
	/* The tail of the output is kept, and bytes made printable. */
	assert_non_null(strstr(text, "??END"));
	assert_non_null(
		strstr(text, "\"ready\": {\n      \"state\": \"pending\""));
	assert_true(len < FB_JOURNAL_OUTPUT + 2048);
	free(text);

	assert_int_equal(fb_journal_open(path, false, &j), 0);
	assert_int_equal(fb_journal_state(j, "hosts"), FB_STATE_OK);
	assert_string_equal(fb_journal_message(j, "hosts"), "2 entries");
	assert_int_equal(fb_journal_state(j, "kubeadm"), FB_STATE_FAILED);
	assert_true(fb_journal_done(j));
	fb_journal_free(j);
}

static void
test_queue(void **state)
{
	struct fb_journal *j = NULL;
	struct fb_event ev;
	char step[32];
	size_t i;

	(void)state;
	assert_int_equal(fb_journal_open(path, false, &j), 0);
	for (i = 0; i < FB_JOURNAL_QUEUE + 5; i++) {
		snprintf(step, sizeof(step), "s%zu", i);
		assert_int_equal(
			fb_journal_queue_push(j, step, "ok", "m", NULL), 0);
	}
	assert_int_equal(fb_journal_queue_len(j), FB_JOURNAL_QUEUE);
	assert_int_equal(fb_journal_queue_get(j, 0, &ev), 0);
	assert_string_equal(ev.step, "s5"); /* the oldest were dropped */
	assert_int_equal(fb_journal_queue_drop(j, 2), 0);
	fb_journal_free(j);
	assert_int_equal(fb_journal_open(path, false, &j), 0);
	assert_int_equal(fb_journal_queue_len(j), FB_JOURNAL_QUEUE - 2);
	assert_int_equal(fb_journal_queue_get(j, 0, &ev), 0);
	assert_string_equal(ev.step, "s7");
	assert_string_equal(ev.status, "ok");
	assert_string_equal(ev.message, "m");
	assert_int_equal(fb_journal_queue_get(j, FB_JOURNAL_QUEUE, &ev),
			 -EINVAL);
	fb_journal_free(j);
}

static void
test_digest_reset(void **state)
{
	static const char *const keep[] = { "kubeadm", NULL };
	struct fb_journal *j = NULL;

	(void)state;
	assert_int_equal(fb_journal_open(path, false, &j), 0);
	assert_int_equal(fb_journal_set_digest(j, "aaaa", keep), 0);
	assert_int_equal(fb_journal_set(j, "hosts", FB_STATE_OK, NULL, NULL),
			 0);
	assert_int_equal(fb_journal_set(j, "kubeadm", FB_STATE_OK, NULL, NULL),
			 0);
	assert_int_equal(fb_journal_set_done(j, true), 0);
	assert_int_equal(fb_journal_set_digest(j, "aaaa", keep), 0);
	assert_int_equal(fb_journal_state(j, "hosts"), FB_STATE_OK);
	assert_int_equal(fb_journal_set_digest(j, "bbbb", keep), 1);
	assert_int_equal(fb_journal_state(j, "hosts"), FB_STATE_PENDING);
	assert_int_equal(fb_journal_state(j, "kubeadm"), FB_STATE_OK);
	assert_false(fb_journal_done(j));
	assert_string_equal(fb_journal_digest(j), "bbbb");
	fb_journal_free(j);
}

/* An unfinished run resumed on a new boot forgets its host steps. */
static void
test_boot_reset(void **state)
{
	static const char *const keep[] = { "kubeadm", NULL };
	struct fb_journal *j = NULL;

	(void)state;
	assert_int_equal(fb_journal_open(path, false, &j), 0);
	assert_int_equal(fb_journal_set_boot(j, "boot-1", keep), 0);
	assert_int_equal(fb_journal_set(j, "hosts", FB_STATE_OK, NULL, NULL),
			 0);
	assert_int_equal(
		fb_journal_set(j, "kubeadm", FB_STATE_RUNNING, NULL, NULL), 0);
	/* The same boot (a rerun after a failure) keeps everything. */
	assert_int_equal(fb_journal_set_boot(j, "boot-1", keep), 0);
	assert_int_equal(fb_journal_state(j, "hosts"), FB_STATE_OK);
	/* A new boot: host steps run again, kubeadm resumes. */
	assert_int_equal(fb_journal_set_boot(j, "boot-2", keep), 1);
	assert_int_equal(fb_journal_state(j, "hosts"), FB_STATE_PENDING);
	assert_int_equal(fb_journal_state(j, "kubeadm"), FB_STATE_RUNNING);
	fb_journal_free(j);
	/* It is persisted; a finished run is left alone on a new boot. */
	assert_int_equal(fb_journal_open(path, false, &j), 0);
	assert_int_equal(fb_journal_set_boot(j, "boot-2", keep), 0);
	assert_int_equal(fb_journal_set(j, "hosts", FB_STATE_OK, NULL, NULL),
			 0);
	assert_int_equal(fb_journal_set_done(j, true), 0);
	assert_int_equal(fb_journal_set_boot(j, "boot-3", keep), 0);
	assert_int_equal(fb_journal_state(j, "hosts"), FB_STATE_OK);
	fb_journal_free(j);
}

static void
test_readonly_and_garbage(void **state)
{
	struct fb_journal *j = NULL;
	static const char *const bad[] = { "", "[]", "{\"version\": 2}",
					   "{\"version\":1,\"steps\":[]}",
					   "{" };
	size_t i;

	(void)state;
	assert_int_equal(fb_journal_open(path, true, &j), 0);
	assert_int_equal(fb_journal_set(j, "hosts", FB_STATE_OK, NULL, NULL),
			 0);
	assert_int_equal(fb_journal_queue_push(j, "hosts", "ok", "", NULL), 0);
	fb_journal_free(j);
	assert_int_equal(access(path, F_OK), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			atomic_write(path, bad[i], strlen(bad[i]), 0600), 0);
		assert_int_equal(fb_journal_open(path, false, &j), -EINVAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_states_persist, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_boot_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_readonly_and_garbage,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
