/*
 * fuzz_firstboot_journal.c - libFuzzer harness for the agent's journal
 * reader (fb_journal_open on STATE/state.json, which survives reboots and
 * power cuts, so any bytes may be found there) and the accessors the agent
 * calls on what it loaded. The bytes go through a memfd, read by path as
 * the agent reads its file; the journal is opened read-only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const steps[] = { "fetch", "modules", "kubeadm", "done" };

static void
walk(const struct fb_journal *j)
{
	struct fb_event ev;
	size_t i, n;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		(void)fb_journal_state(j, steps[i]);
		(void)fb_journal_message(j, steps[i]);
	}
	(void)fb_journal_digest(j);
	(void)fb_journal_done(j);
	n = fb_journal_queue_len(j);
	for (i = 0; i < n; i++)
		(void)fb_journal_queue_get(j, i, &ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fb_journal *j = NULL;
	char path[64];
	int fd = memfd_create("state.json", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (fb_journal_open(path, true, &j) == 0) {
			walk(j);
			fb_journal_free(j);
		}
	}
	close(fd);
	return 0;
}
