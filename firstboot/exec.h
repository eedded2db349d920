/*
 * exec.h - the executor: runs a plan's steps against a root directory,
 * recording each in the journal and reporting it to the server.
 *
 * Every file the agent reads or writes is ROOT + an absolute path
 * (fb_path); programs are found on PATH and run without a shell or chroot
 * (fb_run). Each step checks the current state, acts only when needed and
 * verifies the result, so running a step twice changes nothing.
 */
#ifndef MB_FB_EXEC_H
#define MB_FB_EXEC_H

#include "buf.h"
#include "fetch.h"
#include "journal.h"
#include "net.h"
#include "payload.h"
#include "plan.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FB_RUN_OUTPUT_MAX  (256u << 10) /* bytes of a program's output */
#define FB_RUN_TIMEOUT	   300		/* seconds, most programs */
#define FB_RUN_GRACE	   5	/* seconds from SIGTERM to SIGKILL on timeout */
#define FB_KUBEADM_TIMEOUT 3600 /* seconds */
#define FB_MANIFEST_MAX	   (16u << 20) /* bytes of a CNI manifest */
#define FB_REPORT_TIMEOUT  10	       /* seconds per event POST */
#define FB_REPORT_FINAL	   60	       /* seconds to flush at the end */
#define FB_MSG_LEN	   512

/* Where events go; absent (url NULL) with --config and no --server. */
struct fb_reporter {
	char *url; /* SERVER/v1/nodes/MAC/events; owned */
	struct fb_tls tls;
	double retry_at; /* fb_now() before which no POST is tried */
	unsigned delay_ms;
};

struct fb_exec {
	const char *root; /* "" for "/", else the directory (no trailing /) */
	const struct fb_payload *p; /* borrowed */
	struct fb_journal *j;	    /* borrowed */
	struct fb_reporter rep;
	/* The step's outcome: a note on success, the reason on failure. */
	char msg[FB_MSG_LEN];
	struct buf output;	  /* the last failed program's output */
	unsigned poll_ms;	  /* first delay of the wait loops */
	enum fb_state prev_state; /* the running step's state before */
};

/*
 * ROOT + abs into buf (PATH_MAX bytes). abs must start with '/'. Returns 0
 * or -ENAMETOOLONG.
 */
int fb_path(const struct fb_exec *x, const char *abs, char *buf);

/*
 * Run argv[0] found on PATH with argv, stdin from /dev/null, stdout and
 * stderr captured together into out (may be NULL; capped at
 * FB_RUN_OUTPUT_MAX). The program runs in its own process group. The
 * deadline of timeout_s seconds holds until the program has ended, even
 * after it closes its output; then its whole process group (whatever it
 * started and left behind included) gets SIGTERM and, FB_RUN_GRACE
 * seconds later, SIGKILL, and -ETIMEDOUT is returned. A program that ends
 * in time leaves what it started running (a daemon it launched).
 * Returns 0 with *ret_status (the exit status, 128+N for signal N),
 * -ENOENT when the program is not on PATH, or another negative errno.
 */
int fb_run(char *const argv[], unsigned timeout_s, struct buf *out,
	   int *ret_status);

/* True when a program is found on PATH (an executable file). */
bool fb_have(const char *prog);

/*
 * Run a program that must succeed: a non-zero status fails the step with
 * x->msg naming the program and status, and the output kept in x->output
 * for the journal. Returns 0, -EIO on a non-zero status, or a negative
 * errno.
 */
int fb_must(struct fb_exec *x, char *const argv[], unsigned timeout_s);

/* Set x->msg (the step's note or failure reason). Returns r. */
int fb_msg(struct fb_exec *x, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Write data to ROOT+abs atomically with mode when its content or mode
 * differs (parents created 0755). Sets *ret_changed. 0 or negative errno.
 */
int fb_put_file(struct fb_exec *x, const char *abs, const void *data,
		size_t len, mode_t mode, bool *ret_changed);

/*
 * Read ROOT+abs (at most max bytes) into *ret (owned, NUL-terminated).
 * -ENOENT when absent.
 */
int fb_get_file(struct fb_exec *x, const char *abs, size_t max, char **ret,
		size_t *ret_len);

/* True when ROOT+abs exists. */
bool fb_exists(struct fb_exec *x, const char *abs);

/*
 * Queue one event and try to deliver every queued event in order. Never
 * blocks for long and never fails: undelivered events stay in the journal.
 */
void fb_report(struct fb_exec *x, const char *step, const char *status,
	       const char *message);

/*
 * The same for a failed step, with the tail of the failed program's
 * output (FB_REPORT_OUTPUT_MAX bytes, secrets redacted: redact.h), so
 * that the fleet page can show why; output may be NULL.
 */
void fb_report_failed(struct fb_exec *x, const char *step, const char *message,
		      const char *output, size_t len);

/*
 * Try to deliver the queue for at most wait_s seconds (with backoff).
 * Returns 0 when the queue is empty (or there is no reporter), -EAGAIN
 * when events remain.
 */
int fb_report_flush(struct fb_exec *x, unsigned wait_s);

/*
 * Run the plan's host steps (hostname to runtime, vip, kubelet,
 * kubeconfig) again, ignoring and leaving the journal, reporting nothing
 * (--reapply). Stops at the first failure: -EIO, logged.
 */
int fb_exec_reapply(struct fb_exec *x, const struct fb_plan *plan);

/*
 * Run every step of plan in order, skipping those the journal holds as ok.
 * A failed step stops the run. Returns 0 when every step is ok, -EIO when
 * a step failed (logged, journaled and reported), or a negative errno.
 */
int fb_exec_run(struct fb_exec *x, const struct fb_plan *plan);

/* Initialise and release an executor (the reporter URL is freed). */
void fb_exec_init(struct fb_exec *x);
void fb_exec_done(struct fb_exec *x);

#define FB_IFNAME_LEN NET_IFNAME_LEN /* IFNAMSIZ */

/*
 * The name of the interface holding the IPv4 address ip (host order) into
 * ret. Returns 0, -ENOENT when no interface holds it, or a negative errno.
 */
int fb_vip_iface(uint32_t ip, char ret[FB_IFNAME_LEN]);

/*
 * Wait until ip:port (host order) takes a TCP connection, trying for at
 * least timeout_s seconds with backoff from poll_ms. Returns 0 or
 * -ETIMEDOUT.
 */
int fb_tcp_wait(uint32_t ip, unsigned port, unsigned timeout_s,
		unsigned poll_ms);

/* The step functions (steps_*.c); each returns 0 or sets x->msg. */
int fb_step_hostname(struct fb_exec *x);
int fb_step_hosts(struct fb_exec *x);
int fb_step_modules(struct fb_exec *x);
int fb_step_sysctls(struct fb_exec *x);
int fb_step_swap(struct fb_exec *x);
int fb_step_selinux(struct fb_exec *x);
int fb_step_firewall(struct fb_exec *x);
int fb_step_runtime(struct fb_exec *x);
int fb_step_pki(struct fb_exec *x);
int fb_step_vip(struct fb_exec *x);
int fb_step_kubelet(struct fb_exec *x);
int fb_step_wait_api(struct fb_exec *x);
int fb_step_kubeadm(struct fb_exec *x);
int fb_step_kubeconfig(struct fb_exec *x);
int fb_step_cni(struct fb_exec *x);
int fb_step_ready(struct fb_exec *x);
int fb_step_done(struct fb_exec *x);

#endif
