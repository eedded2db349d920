/*
 * fuzz_netboot_http_events.c - the agent event JSON parser (jansson under
 * our caps) on arbitrary bodies. Invariants: an accepted event has a valid
 * step and status, NUL-terminated fields within their caps.
 */
#include "events.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_event ev;
	int r;

	r = event_parse((const char *)data, size, &ev);
	if (r == 0) {
		if (strnlen(ev.step, sizeof(ev.step)) == 0 ||
		    strnlen(ev.step, sizeof(ev.step)) > EVENT_STEP_MAX ||
		    strnlen(ev.message, sizeof(ev.message)) >
			    EVENT_MESSAGE_MAX ||
		    (unsigned)ev.status > EVENT_FAILED)
			abort();
	} else if (r != -EINVAL && r != -E2BIG && r != -ENOMEM) {
		abort();
	}
	return 0;
}
