/*
 * exec.c - the step loop, the program runner, root-relative file helpers
 * and event reporting.
 */
#include "exec.h"

#include "fsutil.h"
#include "log.h"
#include "redact.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void
fb_exec_init(struct fb_exec *x)
{
	memset(x, 0, sizeof(*x));
	x->root = "";
	buf_init(&x->output, FB_RUN_OUTPUT_MAX);
	x->poll_ms = FB_FETCH_BACKOFF_FIRST;
}

void
fb_exec_done(struct fb_exec *x)
{
	buf_done_secure(&x->output);
	free(x->rep.url);
	x->rep.url = NULL;
}

int
fb_path(const struct fb_exec *x, const char *abs, char *buf)
{
	int n = snprintf(buf, PATH_MAX, "%s%s", x->root, abs);

	if (n < 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int
fb_msg(struct fb_exec *x, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	return r;
}

bool
fb_have(const char *prog)
{
	const char *path = getenv("PATH");
	char cand[PATH_MAX];

	if (path == NULL)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *e = strchr(path, ':');
		size_t len = e ? (size_t)(e - path) : strlen(path);
		int n = snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, path,
				 prog);

		if (len > 0 && n > 0 && (size_t)n < sizeof(cand) &&
		    access(cand, X_OK) == 0)
			return true;
		path += len;
		if (*path == ':')
			path++;
	}
	return false;
}

/*
 * Start argv[0] from PATH in its own process group (so that a timeout
 * reaches whatever it started), stdin from /dev/null, stdout and stderr
 * into wfd. 0 and *ret_pid, or a negative errno.
 */
static int
run_spawn(char *const argv[], int wfd, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid;
	int r;

	r = posix_spawn_file_actions_init(&fa);
	if (r != 0)
		return -r;
	r = posix_spawnattr_init(&at);
	if (r != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, wfd, 1);
	posix_spawn_file_actions_adddup2(&fa, wfd, 2);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	r = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	*ret_pid = pid;
	return 0;
}

/*
 * True once pid has ended. It is not reaped (WNOWAIT): while it is a
 * zombie its pid, and so its process group id, cannot be reused, which
 * makes kill(-pid) safe.
 */
static bool
run_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR; /* ECHILD: nothing left to wait for */
	return si.si_pid == pid;
}

/*
 * Milliseconds to the next look at the child, at most until end: a pidfd
 * wakes poll() when the child ends; without one (kernels before 5.3), a
 * short slice.
 */
static int
run_slice(double end, int pidfd)
{
	double left = end - fb_now();
	double cap = pidfd >= 0 ? 1.0 : 0.05;

	if (left <= 0)
		return 0;
	return (int)((left < cap ? left : cap) * 1000) + 1;
}

/*
 * Read what the pipe already holds without waiting: the output a child
 * wrote just before it ended. Bounded, since a daemon it started may go
 * on writing.
 */
static void
run_drain(int rfd, struct buf *out)
{
	size_t total = 0;

	while (rfd >= 0 && total < FB_RUN_OUTPUT_MAX) {
		struct pollfd pfd = { .fd = rfd, .events = POLLIN };
		char chunk[4096];
		ssize_t n;

		if (poll(&pfd, 1, 0) <= 0)
			return;
		n = read(rfd, chunk, sizeof(chunk));
		if (n <= 0)
			return;
		total += (size_t)n;
		if (out != NULL)
			(void)buf_append(out, chunk, (size_t)n);
	}
}

/*
 * Copy the child's output into out until the child ends or end passes;
 * the pipe may close first (the program closed it) or stay open after
 * (a daemon it started holds it). Returns 0 when the child has ended,
 * -ETIMEDOUT at the deadline.
 */
static int
run_collect(pid_t pid, int pidfd, int *rfd, double end, struct buf *out)
{
	for (;;) {
		struct pollfd pfd[2] = { { .fd = *rfd, .events = POLLIN },
					 { .fd = pidfd, .events = POLLIN } };
		char chunk[4096];
		ssize_t n;
		int r;

		if (run_exited(pid)) {
			run_drain(*rfd, out);
			return 0;
		}
		if (fb_now() >= end)
			return -ETIMEDOUT;
		r = poll(pfd, 2, run_slice(end, pidfd));
		if (r <= 0 || !(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(*rfd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EOF: the deadline still holds until it ends. */
			close(*rfd);
			*rfd = -1;
			continue;
		}
		/* Past the cap the output is dropped, the program goes on. */
		if (out != NULL)
			(void)buf_append(out, chunk, (size_t)n);
	}
}

/*
 * The deadline passed: SIGTERM the child's whole process group, give it
 * FB_RUN_GRACE seconds to end, then SIGKILL the group. The child is not
 * reaped yet, so its process group id is still ours to signal.
 */
static void
run_kill_group(pid_t pid, int pidfd)
{
	double end = fb_now() + FB_RUN_GRACE;

	(void)kill(-pid, SIGTERM);
	while (!run_exited(pid) && fb_now() < end) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

		(void)poll(&pfd, 1, run_slice(end, pidfd));
	}
	(void)kill(-pid, SIGKILL);
}

/* The pidfd of pid, or -1 when the kernel has none (callers poll). */
static int
run_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	long fd = syscall(SYS_pidfd_open, pid, 0);

	if (fd >= 0) {
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		return (int)fd;
	}
#endif
	(void)pid;
	return -1;
}

/*
 * See exec.h. The deadline holds until the child is reaped, whether or
 * not it still holds its output pipe; on timeout its process group is
 * terminated (run_kill_group).
 */
int
fb_run(char *const argv[], unsigned timeout_s, struct buf *out, int *ret_status)
{
	int pipefd[2] = { -1, -1 };
	double end = fb_now() + timeout_s;
	pid_t pid = -1;
	int r, status, pidfd = -1;

	if (!fb_have(argv[0]))
		return -ENOENT;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	r = run_spawn(argv, pipefd[1], &pid);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		return r;
	}
	pidfd = run_pidfd(pid);
	r = run_collect(pid, pidfd, &pipefd[0], end, out);
	if (r == -ETIMEDOUT)
		run_kill_group(pid, pidfd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			goto out;
		}
	}
	if (r < 0)
		goto out;
	if (WIFEXITED(status))
		*ret_status = WEXITSTATUS(status);
	else
		*ret_status = 128 + WTERMSIG(status);
out:
	if (pidfd >= 0)
		close(pidfd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	return r;
}

int
fb_must(struct fb_exec *x, char *const argv[], unsigned timeout_s)
{
	int r, status = 0;

	buf_done_secure(&x->output);
	log_info("run %s%s%s", argv[0], argv[1] ? " " : "",
		 argv[1] ? argv[1] : "");
	r = fb_run(argv, timeout_s, &x->output, &status);
	if (r == -ENOENT)
		return fb_msg(x, r, "%s: not found on PATH", argv[0]);
	if (r == -ETIMEDOUT)
		return fb_msg(x, r, "%s: killed after %u s", argv[0],
			      timeout_s);
	if (r < 0)
		return fb_msg(x, r, "%s: %s", argv[0], strerror(-r));
	if (status != 0)
		return fb_msg(x, -EIO, "%s %s exited with status %d", argv[0],
			      argv[1] ? argv[1] : "", status);
	return 0;
}

int
fb_get_file(struct fb_exec *x, const char *abs, size_t max, char **ret,
	    size_t *ret_len)
{
	char path[PATH_MAX];
	int r = fb_path(x, abs, path);

	if (r < 0)
		return r;
	return read_file(path, max, ret, ret_len);
}

bool
fb_exists(struct fb_exec *x, const char *abs)
{
	char path[PATH_MAX];
	struct stat st;

	if (fb_path(x, abs, path) < 0)
		return false;
	return lstat(path, &st) == 0;
}

static int
mkdir_parent(const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir_p(dir, mode);
}

int
fb_put_file(struct fb_exec *x, const char *abs, const void *data, size_t len,
	    mode_t mode, bool *ret_changed)
{
	char path[PATH_MAX];
	char *old = NULL;
	size_t oldlen = 0;
	struct stat st;
	int r;

	*ret_changed = false;
	r = fb_path(x, abs, path);
	if (r < 0)
		return r;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == mode &&
	    read_file(path, len + 1, &old, &oldlen) == 0 && oldlen == len &&
	    memcmp(old, data, len) == 0) {
		explicit_bzero(old, oldlen);
		free(old);
		return 0;
	}
	if (old != NULL) {
		explicit_bzero(old, oldlen);
		free(old);
	}
	r = mkdir_parent(path, 0755);
	if (r < 0)
		return r;
	r = atomic_write(path, data, len, mode);
	if (r < 0)
		return r;
	*ret_changed = true;
	return 0;
}

/* One POST; 0 when the server took it (2xx) or refused it for good (4xx). */
static int
post_event(struct fb_exec *x, const struct fb_event *ev)
{
	char err[FB_FETCH_ERR_LEN];
	json_t *o;
	char *text;
	long status = 0;
	int r;

	o = json_pack("{s:s, s:s, s:s}", "step", ev->step, "status", ev->status,
		      "message", ev->message);
	if (o == NULL)
		return -ENOMEM;
	if (ev->output != NULL &&
	    json_object_set_new(o, "output", json_string(ev->output)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return -ENOMEM;
	r = fb_http_post_json(x->rep.url, &x->rep.tls, text, FB_REPORT_TIMEOUT,
			      &status, err);
	free(text);
	if (r < 0) {
		log_debug("report %s %s: %s", ev->step, ev->status, err);
		return r;
	}
	if (status >= 200 && status < 300)
		return 0;
	if (status >= 400 && status < 500) {
		log_warn("report %s %s: the server refused it (%ld); dropped",
			 ev->step, ev->status, status);
		return 0;
	}
	log_debug("report %s %s: HTTP %ld", ev->step, ev->status, status);
	return -EAGAIN;
}

/* Deliver queued events in order until one fails. */
static int
flush_once(struct fb_exec *x)
{
	struct fb_event ev;
	int r;

	while (fb_journal_queue_len(x->j) > 0) {
		r = fb_journal_queue_get(x->j, 0, &ev);
		if (r == 0) {
			r = post_event(x, &ev);
			if (r < 0) {
				x->rep.retry_at =
					fb_now() +
					fb_backoff_next(&x->rep.delay_ms,
							FB_FETCH_BACKOFF_MAX) /
						1000.0;
				return r;
			}
		}
		x->rep.delay_ms = 0;
		r = fb_journal_queue_drop(x->j, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

static void
report(struct fb_exec *x, const char *step, const char *status,
       const char *message, const char *output)
{
	int r;

	if (x->rep.url == NULL)
		return;
	r = fb_journal_queue_push(x->j, step, status, message, output);
	if (r < 0)
		log_warn_r(r, "report %s %s: cannot queue it", step, status);
	if (fb_now() < x->rep.retry_at)
		return;
	(void)flush_once(x);
}

void
fb_report(struct fb_exec *x, const char *step, const char *status,
	  const char *message)
{
	report(x, step, status, message, NULL);
}

void
fb_report_failed(struct fb_exec *x, const char *step, const char *message,
		 const char *output, size_t len)
{
	struct buf tail;

	buf_init(&tail, FB_REPORT_OUTPUT_MAX + 1);
	if (output != NULL &&
	    fb_redact_tail(output, len, FB_REPORT_OUTPUT_MAX, &tail) < 0)
		buf_done_secure(&tail); /* the message goes without it */
	report(x, step, "failed", message, tail.data);
	buf_done_secure(&tail);
}

int
fb_report_flush(struct fb_exec *x, unsigned wait_s)
{
	double end = fb_now() + wait_s;

	if (x->rep.url == NULL)
		return 0;
	for (;;) {
		double now = fb_now();

		if (now >= x->rep.retry_at && flush_once(x) == 0)
			return 0;
		if (fb_now() >= end)
			return -EAGAIN;
		now = fb_now();
		if (x->rep.retry_at > now) {
			double d = x->rep.retry_at - now;

			if (now + d > end)
				d = end - now;
			fb_sleep_ms((unsigned)(d * 1000) + 1);
		}
	}
}

typedef int (*step_fn)(struct fb_exec *x);

static step_fn
step_function(enum fb_step_kind kind)
{
	switch (kind) {
	case FB_STEP_HOSTNAME:
		return fb_step_hostname;
	case FB_STEP_HOSTS:
		return fb_step_hosts;
	case FB_STEP_MODULES:
		return fb_step_modules;
	case FB_STEP_SYSCTLS:
		return fb_step_sysctls;
	case FB_STEP_SWAP:
		return fb_step_swap;
	case FB_STEP_SELINUX:
		return fb_step_selinux;
	case FB_STEP_FIREWALL:
		return fb_step_firewall;
	case FB_STEP_RUNTIME:
		return fb_step_runtime;
	case FB_STEP_PKI:
		return fb_step_pki;
	case FB_STEP_VIP:
		return fb_step_vip;
	case FB_STEP_KUBELET:
		return fb_step_kubelet;
	case FB_STEP_WAIT_API:
		return fb_step_wait_api;
	case FB_STEP_KUBEADM:
		return fb_step_kubeadm;
	case FB_STEP_KUBECONFIG:
		return fb_step_kubeconfig;
	case FB_STEP_CNI:
		return fb_step_cni;
	case FB_STEP_READY:
		return fb_step_ready;
	case FB_STEP_DONE:
		return fb_step_done;
	case FB_STEP_FETCH:
	case FB_STEP_COUNT:
		break;
	}
	return NULL;
}

int
fb_exec_run(struct fb_exec *x, const struct fb_plan *plan)
{
	const char *names[FB_STEP_COUNT];
	size_t i;
	int r;

	for (i = 0; i < plan->n && i < FB_STEP_COUNT; i++)
		names[i] = plan->steps[i].name;
	r = fb_journal_declare(x->j, names, i);
	if (r < 0)
		return r;
	for (i = 0; i < plan->n; i++) {
		const struct fb_step *s = &plan->steps[i];
		step_fn fn = step_function(s->kind);
		enum fb_state st = fb_journal_state(x->j, s->name);

		if (st == FB_STATE_OK) {
			log_debug("%s: already done", s->name);
			continue;
		}
		if (fn == NULL) /* fetch: done before the plan was built */
			continue;
		if (st == FB_STATE_RUNNING || st == FB_STATE_FAILED)
			log_info("%s: resuming (it was %s)", s->name,
				 st == FB_STATE_RUNNING ? "interrupted"
							: "failed");
		log_info("%s: running", s->name);
		r = fb_journal_set(x->j, s->name, FB_STATE_RUNNING, NULL, NULL);
		if (r < 0) {
			/* Without a journal a resume cannot be trusted: stop,
			 * and say why (a full or corrupt state disk). */
			log_warn_r(r, "%s: cannot record in the journal",
				   s->name);
			fb_report(x, s->name, "failed",
				  "cannot write the journal");
			return r;
		}
		fb_report(x, s->name, "running", "");
		x->msg[0] = '\0';
		x->prev_state = st;
		buf_done_secure(&x->output);
		r = fn(x);
		if (r < 0) {
			if (x->msg[0] == '\0')
				fb_msg(x, r, "%s", strerror(-r));
			log_warn("%s: failed: %s", s->name, x->msg);
			(void)fb_journal_set(
				x->j, s->name, FB_STATE_FAILED, x->msg,
				x->output.data ? x->output.data : NULL);
			fb_report_failed(x, s->name, x->msg, x->output.data,
					 x->output.len);
			buf_done_secure(&x->output);
			return -EIO;
		}
		log_info("%s: ok%s%s", s->name, x->msg[0] ? ": " : "", x->msg);
		r = fb_journal_set(x->j, s->name, FB_STATE_OK,
				   x->msg[0] ? x->msg : NULL, NULL);
		if (r < 0) {
			log_warn_r(r, "%s: cannot record in the journal",
				   s->name);
			fb_report(x, s->name, "failed",
				  "cannot write the journal");
			return r;
		}
		fb_report(x, s->name, "ok", x->msg);
	}
	return 0;
}

/* The steps --reapply runs: what lives in the root and not in the state. */
static bool
reapplied(enum fb_step_kind kind)
{
	switch (kind) {
	case FB_STEP_HOSTNAME:
	case FB_STEP_HOSTS:
	case FB_STEP_MODULES:
	case FB_STEP_SYSCTLS:
	case FB_STEP_SWAP:
	case FB_STEP_SELINUX:
	case FB_STEP_FIREWALL:
	case FB_STEP_RUNTIME:
	case FB_STEP_VIP:
	case FB_STEP_KUBELET:
	case FB_STEP_KUBECONFIG:
		return true;
	default:
		return false;
	}
}

int
fb_exec_reapply(struct fb_exec *x, const struct fb_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++) {
		const struct fb_step *s = &plan->steps[i];
		step_fn fn = step_function(s->kind);

		if (fn == NULL || !reapplied(s->kind))
			continue;
		x->msg[0] = '\0';
		x->prev_state = FB_STATE_OK;
		buf_done_secure(&x->output);
		if (fn(x) < 0) {
			log_warn("reapply: %s: failed: %s", s->name,
				 x->msg[0] ? x->msg : "(no message)");
			buf_done_secure(&x->output);
			return -EIO;
		}
		log_info("reapply: %s: ok%s%s", s->name, x->msg[0] ? ": " : "",
			 x->msg);
	}
	buf_done_secure(&x->output);
	return 0;
}
