/*
 * events.h - the body of POST /v1/nodes/MAC/events: a JSON object
 * {"step":"...","status":"running|ok|failed","message":"...","output":"..."}
 * parsed with
 * jansson under size caps. Pure; no logging.
 */
#ifndef MB_EVENTS_H
#define MB_EVENTS_H

#include <stddef.h>

#define EVENT_BODY_MAX	  16384 /* bytes of JSON accepted */
#define EVENT_STEP_MAX	  32	/* bytes in a step name */
#define EVENT_MESSAGE_MAX 512	/* bytes kept of a message (longer: cut) */
#define EVENT_OUTPUT_MAX  2048	/* bytes kept of an output (its tail) */

enum event_status {
	EVENT_RUNNING,
	EVENT_OK,
	EVENT_FAILED,
};

struct node_event {
	char step[EVENT_STEP_MAX + 1]; /* [a-z0-9._-]+ */
	enum event_status status;
	char message[EVENT_MESSAGE_MAX + 1]; /* may be empty */
	/* A failed program's output, redacted by the agent; may be empty. */
	char output[EVENT_OUTPUT_MAX + 1];
};

/*
 * Parse len bytes of JSON. The object must hold "step" (a non-empty name
 * of [a-z0-9._-], at most EVENT_STEP_MAX bytes) and "status"; "message"
 * is optional (a string, cut to EVENT_MESSAGE_MAX bytes on a UTF-8
 * boundary), and so is "output" (a failed program's output, which the
 * agent redacts: its last EVENT_OUTPUT_MAX bytes are kept, from a UTF-8
 * boundary); other keys are ignored, so that the agent may send more.
 * Returns 0 and fills *ret, -E2BIG past EVENT_BODY_MAX, -EINVAL for bad
 * JSON, a missing or mistyped field or an unknown status, -ENOMEM.
 */
int event_parse(const char *body, size_t len, struct node_event *ret);

/* "running", "ok", "failed". */
const char *event_status_name(enum event_status s);

/* Parse a status name. 0 and *ret, or -EINVAL. */
int event_status_parse(const char *s, enum event_status *ret);

#endif
