/*
 * journal.h - the agent's state on disk (ROOT/var/lib/metalboot/state.json).
 *
 * For every step: its state (pending, running, ok, failed), when it
 * started and finished, a message, and the captured output of a program
 * that failed. Also the events not yet delivered to the server, in order,
 * and the digest of the payload the steps were run for. Every change is
 * written at once with atomic_write (mode 0600: the output of a failed
 * kubeadm may show a token), so a crash leaves either the old or the new
 * journal, never half of one. A read-only journal (--dry-run) is never
 * written. Non-logging.
 */
#ifndef MB_FB_JOURNAL_H
#define MB_FB_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#define FB_JOURNAL_MAX	  (8u << 20) /* bytes of state.json */
#define FB_JOURNAL_QUEUE  1000	     /* undelivered events kept */
#define FB_JOURNAL_OUTPUT 8192	     /* bytes of program output kept */
#define FB_JOURNAL_MSG	  1024	     /* bytes of a message kept */

enum fb_state {
	FB_STATE_PENDING,
	FB_STATE_RUNNING,
	FB_STATE_OK,
	FB_STATE_FAILED,
};

struct fb_journal;

/* One undelivered event, borrowed from the journal. */
struct fb_event {
	const char *step;
	const char *status;
	const char *message;
	const char *output; /* a failed program's output (redacted), or NULL */
};

/*
 * Open the journal at path: load it when it exists, start empty when it
 * does not. readonly journals are never written. Returns 0 with *ret
 * (owned; fb_journal_free), -EINVAL when the file is not a journal,
 * -ENOMEM or another negative errno.
 */
int fb_journal_open(const char *path, bool readonly, struct fb_journal **ret);

/* Free; NULL is a no-op. Returns NULL. */
struct fb_journal *fb_journal_free(struct fb_journal *j);

/* The state of a step (PENDING when never seen). */
enum fb_state fb_journal_state(const struct fb_journal *j, const char *step);

/*
 * List steps (n names) as pending when the journal does not know them yet,
 * so that state.json shows the whole run from its start. Saves only when
 * something was added. 0 or a negative errno.
 */
int fb_journal_declare(struct fb_journal *j, const char *const *steps,
		       size_t n);

/* The message recorded for a step, or NULL. Borrowed. */
const char *fb_journal_message(const struct fb_journal *j, const char *step);

/*
 * Record a step's new state with a message (may be NULL) and the output of
 * a failed program (may be NULL, kept up to FB_JOURNAL_OUTPUT bytes, the
 * tail). RUNNING stamps "started", OK and FAILED stamp "finished". Saves.
 * Returns 0 or a negative errno from the write.
 */
int fb_journal_set(struct fb_journal *j, const char *step, enum fb_state state,
		   const char *message, const char *output);

/*
 * The payload digest (64 hex) the steps were run for, or NULL. When a new
 * digest differs from a recorded one, every step but those named in keep
 * (NULL-terminated) is reset to pending and the done flag cleared; returns
 * 1 in that case, 0 when nothing changed, or a negative errno. Saves.
 */
const char *fb_journal_digest(const struct fb_journal *j);
int fb_journal_set_digest(struct fb_journal *j, const char *digest,
			  const char *const *keep);

/*
 * Record the boot the run happens in (boot_id from /proc). When the
 * journal holds an unfinished run from another boot, the steps not named
 * in keep are forgotten, so that they run again: on a diskless node a
 * reboot undoes what the host steps did, and they are idempotent anyway.
 * Returns 1 when steps were forgotten, 0 when not, or a negative errno.
 */
int fb_journal_set_boot(struct fb_journal *j, const char *boot_id,
			const char *const *keep);

/*
 * Append an event to the queue (the oldest is dropped past the cap);
 * output may be NULL, and is kept up to FB_JOURNAL_OUTPUT bytes.
 */
int fb_journal_queue_push(struct fb_journal *j, const char *step,
			  const char *status, const char *message,
			  const char *output);

/* How many events wait; the i-th oldest (borrowed until the next change). */
size_t fb_journal_queue_len(const struct fb_journal *j);
int fb_journal_queue_get(const struct fb_journal *j, size_t i,
			 struct fb_event *ret);

/* Drop the n oldest events. Saves. */
int fb_journal_queue_drop(struct fb_journal *j, size_t n);

/* The finished flag: every step ok. */
bool fb_journal_done(const struct fb_journal *j);
int fb_journal_set_done(struct fb_journal *j, bool done);

#endif
