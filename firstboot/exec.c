/*
 * exec.c - the step loop, the program runner, root-relative file helpers
 * and event reporting.
 */
#include "exec.h"

#include "fsutil.h"
#include "log.h"

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

int
fb_run(char *const argv[], unsigned timeout_s, struct buf *out, int *ret_status)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2] = { -1, -1 };
	double end = fb_now() + timeout_s;
	bool killed = false, reaped = false;
	pid_t pid = -1;
	int r, status;

	if (!fb_have(argv[0]))
		return -ENOENT;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	r = posix_spawn_file_actions_init(&fa);
	if (r != 0) {
		r = -r;
		goto out;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		r = -r;
		pid = -1;
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		double left = end - fb_now();
		char chunk[4096];
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		r = poll(&pfd, 1, left > 1 ? 1000 : (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			/*
			 * A daemon the program started may hold the pipe
			 * open after the program itself has exited.
			 */
			if (waitpid(pid, &status, WNOHANG) == pid) {
				reaped = true;
				break;
			}
			continue;
		}
		if (r < 0)
			continue;
		n = read(pipefd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Past the cap the output is dropped, the program goes on. */
		if (out != NULL)
			(void)buf_append(out, chunk, (size_t)n);
	}
	while (!reaped && waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			goto out;
		}
	}
	pid = -1;
	if (killed) {
		r = -ETIMEDOUT;
		goto out;
	}
	if (WIFEXITED(status))
		*ret_status = WEXITSTATUS(status);
	else
		*ret_status = 128 + WTERMSIG(status);
	r = 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
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

void
fb_report(struct fb_exec *x, const char *step, const char *status,
	  const char *message)
{
	int r;

	if (x->rep.url == NULL)
		return;
	r = fb_journal_queue_push(x->j, step, status, message);
	if (r < 0)
		log_warn_r(r, "report %s %s: cannot queue it", step, status);
	if (fb_now() < x->rep.retry_at)
		return;
	(void)flush_once(x);
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
			fb_report(x, s->name, "failed", x->msg);
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
