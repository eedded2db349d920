/* journal.c - state.json with jansson, saved atomically on every change. */
#include "journal.h"

#include "fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOURNAL_VERSION 1

struct fb_journal {
	char *path;
	bool readonly;
	json_t *root; /* {"version","digest","done","steps":{},"queue":[]} */
};

static const char *const state_names[] = { "pending", "running", "ok",
					   "failed" };

static json_t *
steps_obj(const struct fb_journal *j)
{
	return json_object_get(j->root, "steps");
}

static json_t *
queue_arr(const struct fb_journal *j)
{
	return json_object_get(j->root, "queue");
}

static int
save(struct fb_journal *j)
{
	char *text;
	int r;

	if (j->readonly)
		return 0;
	text = json_dumps(j->root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text == NULL)
		return -ENOMEM;
	r = atomic_write(j->path, text, strlen(text), 0600);
	explicit_bzero(text, strlen(text));
	free(text);
	return r;
}

static json_t *
new_root(void)
{
	json_t *root = json_pack("{s:i, s:b, s:{}, s:[]}", "version",
				 JOURNAL_VERSION, "done", 0, "steps", "queue");

	return root;
}

/* Check the shape of a loaded journal; anything else is refused. */
static bool
valid(json_t *root)
{
	json_t *v = json_object_get(root, "version");

	return json_is_object(root) && json_is_integer(v) &&
	       json_integer_value(v) == JOURNAL_VERSION &&
	       json_is_object(json_object_get(root, "steps")) &&
	       json_is_array(json_object_get(root, "queue")) &&
	       json_is_boolean(json_object_get(root, "done"));
}

int
fb_journal_open(const char *path, bool readonly, struct fb_journal **ret)
{
	struct fb_journal *j = NULL;
	char *data = NULL;
	size_t len = 0;
	json_error_t jerr;
	int r;

	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	j->readonly = readonly;
	j->path = strdup(path);
	if (j->path == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = read_file(path, FB_JOURNAL_MAX, &data, &len);
	if (r == -ENOENT) {
		j->root = new_root();
		r = j->root ? 0 : -ENOMEM;
		goto out;
	}
	if (r < 0)
		goto out;
	j->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j->root == NULL || !valid(j->root)) {
		r = -EINVAL;
		goto out;
	}
	r = 0;
out:
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	if (r < 0) {
		fb_journal_free(j);
		return r;
	}
	*ret = j;
	return 0;
}

struct fb_journal *
fb_journal_free(struct fb_journal *j)
{
	if (j == NULL)
		return NULL;
	json_decref(j->root);
	free(j->path);
	free(j);
	return NULL;
}

enum fb_state
fb_journal_state(const struct fb_journal *j, const char *step)
{
	json_t *s = json_object_get(steps_obj(j), step);
	const char *name = json_string_value(json_object_get(s, "state"));
	size_t i;

	if (name == NULL)
		return FB_STATE_PENDING;
	for (i = 0; i < 4; i++)
		if (strcmp(name, state_names[i]) == 0)
			return (enum fb_state)i;
	return FB_STATE_PENDING;
}

int
fb_journal_declare(struct fb_journal *j, const char *const *steps, size_t n)
{
	bool added = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (json_object_get(steps_obj(j), steps[i]) != NULL)
			continue;
		if (json_object_set_new(
			    steps_obj(j), steps[i],
			    json_pack("{s:s}", "state", "pending")) < 0)
			return -ENOMEM;
		added = true;
	}
	return added ? save(j) : 0;
}

const char *
fb_journal_message(const struct fb_journal *j, const char *step)
{
	json_t *s = json_object_get(steps_obj(j), step);

	return json_string_value(json_object_get(s, "message"));
}

static void
now_iso(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A JSON string of at most max bytes of s (its tail when tail is set).
 * Program output may hold any byte: everything but printable ASCII,
 * newline and tab becomes '?', so the journal is always valid UTF-8.
 */
static json_t *
capped_string(const char *s, size_t max, bool tail)
{
	size_t n = strlen(s), i;
	json_t *v;
	char *c;

	if (n > max) {
		if (tail)
			s += n - max;
		n = max;
	}
	c = malloc(n + 1);
	if (c == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		c[i] = (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch < 0x7f))
			       ? (char)ch
			       : '?';
	}
	c[n] = '\0';
	v = json_stringn(c, n);
	free(c);
	return v;
}

int
fb_journal_set(struct fb_journal *j, const char *step, enum fb_state state,
	       const char *message, const char *output)
{
	json_t *s = json_object_get(steps_obj(j), step);
	char when[32];

	if (s == NULL) {
		s = json_object();
		if (s == NULL || json_object_set_new(steps_obj(j), step, s) < 0)
			return -ENOMEM;
	}
	now_iso(when);
	if (json_object_set_new(s, "state", json_string(state_names[state])) <
	    0)
		return -ENOMEM;
	if (state == FB_STATE_RUNNING) {
		json_object_set_new(s, "started", json_string(when));
		json_object_del(s, "finished");
		json_object_del(s, "output");
	} else if (state == FB_STATE_OK || state == FB_STATE_FAILED) {
		json_object_set_new(s, "finished", json_string(when));
	}
	if (message != NULL)
		json_object_set_new(
			s, "message",
			capped_string(message, FB_JOURNAL_MSG, false));
	else
		json_object_del(s, "message");
	if (output != NULL && output[0] != '\0')
		json_object_set_new(
			s, "output",
			capped_string(output, FB_JOURNAL_OUTPUT, true));
	return save(j);
}

const char *
fb_journal_digest(const struct fb_journal *j)
{
	return json_string_value(json_object_get(j->root, "digest"));
}

int
fb_journal_set_digest(struct fb_journal *j, const char *digest,
		      const char *const *keep)
{
	const char *old = fb_journal_digest(j);
	json_t *steps = steps_obj(j), *v;
	const char *key;
	void *tmp;
	int changed = 0, r;
	size_t k;

	if (old != NULL && strcmp(old, digest) == 0)
		return 0;
	if (old != NULL) {
		json_object_foreach_safe(steps, tmp, key, v)
		{
			for (k = 0; keep != NULL && keep[k] != NULL; k++)
				if (strcmp(keep[k], key) == 0)
					break;
			if (keep == NULL || keep[k] == NULL)
				json_object_del(steps, key);
		}
		json_object_set_new(j->root, "done", json_false());
		changed = 1;
	}
	if (json_object_set_new(j->root, "digest", json_string(digest)) < 0)
		return -ENOMEM;
	r = save(j);
	return r < 0 ? r : changed;
}

int
fb_journal_set_boot(struct fb_journal *j, const char *boot_id,
		    const char *const *keep)
{
	const char *old = json_string_value(json_object_get(j->root, "boot"));
	json_t *steps = steps_obj(j), *v;
	const char *key;
	void *tmp;
	int changed = 0, r;
	size_t k;

	if (old != NULL && strcmp(old, boot_id) == 0)
		return 0;
	if (old != NULL && !fb_journal_done(j)) {
		json_object_foreach_safe(steps, tmp, key, v)
		{
			for (k = 0; keep != NULL && keep[k] != NULL; k++)
				if (strcmp(keep[k], key) == 0)
					break;
			if (keep == NULL || keep[k] == NULL)
				json_object_del(steps, key);
		}
		changed = 1;
	}
	if (json_object_set_new(j->root, "boot", json_string(boot_id)) < 0)
		return -ENOMEM;
	r = save(j);
	return r < 0 ? r : changed;
}

int
fb_journal_queue_push(struct fb_journal *j, const char *step,
		      const char *status, const char *message,
		      const char *output)
{
	json_t *q = queue_arr(j);
	json_t *ev = json_pack(
		"{s:s, s:s, s:o}", "step", step, "status", status, "message",
		capped_string(message ? message : "", FB_JOURNAL_MSG, false));

	if (ev == NULL)
		return -ENOMEM;
	if (output != NULL && output[0] != '\0' &&
	    json_object_set_new(
		    ev, "output",
		    capped_string(output, FB_JOURNAL_OUTPUT, true)) < 0) {
		json_decref(ev);
		return -ENOMEM;
	}
	while (json_array_size(q) >= FB_JOURNAL_QUEUE)
		json_array_remove(q, 0);
	if (json_array_append_new(q, ev) < 0)
		return -ENOMEM;
	return save(j);
}

size_t
fb_journal_queue_len(const struct fb_journal *j)
{
	return json_array_size(queue_arr(j));
}

int
fb_journal_queue_get(const struct fb_journal *j, size_t i, struct fb_event *ret)
{
	json_t *ev = json_array_get(queue_arr(j), i);
	const char *step, *status, *message;

	step = json_string_value(json_object_get(ev, "step"));
	status = json_string_value(json_object_get(ev, "status"));
	message = json_string_value(json_object_get(ev, "message"));
	if (step == NULL || status == NULL)
		return -EINVAL;
	ret->step = step;
	ret->status = status;
	ret->message = message ? message : "";
	ret->output = json_string_value(json_object_get(ev, "output"));
	return 0;
}

int
fb_journal_queue_drop(struct fb_journal *j, size_t n)
{
	json_t *q = queue_arr(j);
	size_t i;

	for (i = 0; i < n && json_array_size(q) > 0; i++)
		json_array_remove(q, 0);
	return save(j);
}

bool
fb_journal_done(const struct fb_journal *j)
{
	return json_is_true(json_object_get(j->root, "done"));
}

int
fb_journal_set_done(struct fb_journal *j, bool done)
{
	if (json_object_set_new(j->root, "done", json_boolean(done)) < 0)
		return -ENOMEM;
	return save(j);
}
