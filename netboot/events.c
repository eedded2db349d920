/* events.c - agent event JSON, parsed with jansson under caps. */
#include "events.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

static const char *const status_names[] = { "running", "ok", "failed" };

const char *
event_status_name(enum event_status s)
{
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[s];
}

int
event_status_parse(const char *s, enum event_status *ret)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*ret = (enum event_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool
step_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > EVENT_STEP_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Longest prefix of s of at most max bytes that ends on a UTF-8 boundary. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/*
 * An optional string field into dst (cap bytes and a NUL): its first cap
 * bytes, or its last when tail, on a UTF-8 boundary; an embedded NUL
 * (\u0000) ends it. 0, or -EINVAL when v is neither absent, null nor a
 * string.
 */
static int
opt_string(json_t *v, char *dst, size_t cap, bool tail)
{
	const char *s;
	size_t n, start = 0;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	n = strnlen(s, json_string_length(v));
	if (tail && n > cap) {
		start = n - cap;
		while (start < n && ((unsigned char)s[start] & 0xc0) == 0x80)
			start++;
	}
	n = utf8_cut(s + start, n - start, cap);
	memcpy(dst, s + start, n);
	return 0;
}

int
event_parse(const char *body, size_t len, struct node_event *ret)
{
	struct node_event ev;
	json_t *root = NULL, *step, *status, *msg;
	json_error_t jerr;
	size_t n;
	int r = -EINVAL;

	if (body == NULL)
		return -EINVAL;
	if (len > EVENT_BODY_MAX)
		return -E2BIG;
	/* Nesting is bounded by the body cap; jansson also caps depth. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root))
		goto out;
	memset(&ev, 0, sizeof(ev));
	step = json_object_get(root, "step");
	status = json_object_get(root, "status");
	msg = json_object_get(root, "message");
	if (!json_is_string(step) || !json_is_string(status))
		goto out;
	n = json_string_length(step);
	if (!step_valid(json_string_value(step), n) ||
	    memchr(json_string_value(step), '\0', n) != NULL)
		goto out;
	memcpy(ev.step, json_string_value(step), n);
	if (strlen(json_string_value(status)) != json_string_length(status) ||
	    event_status_parse(json_string_value(status), &ev.status) < 0)
		goto out;
	if (opt_string(msg, ev.message, EVENT_MESSAGE_MAX, false) < 0 ||
	    opt_string(json_object_get(root, "output"), ev.output,
		       EVENT_OUTPUT_MAX, true) < 0)
		goto out;
	*ret = ev;
	r = 0;
out:
	json_decref(root);
	return r;
}
