/*
 * fuzz_netboot_nodes.c - the node state file parser (nodes_parse_state, the
 * files under STATE/nodes/) on arbitrary bytes. Invariants: a refused file
 * leaves the node as it was; an accepted one gives a known state, a
 * timeline within its cap, NUL-terminated names, times in RFC 3339's
 * range, and a store that still renders /v1/nodes.
 */
#include "nodes.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[MAC_LEN] = { 0x52, 0x54, 0, 0, 1, 1 };
	struct nodes *ns = nodes_new(NULL);
	struct node *nd, before;
	struct buf out;
	size_t i;
	int r;

	if (ns == NULL || nodes_add(ns, "cp1", mac, 0x0a000001, "worker") < 0)
		abort();
	nd = nodes_find(ns, mac);
	before = *nd;
	r = nodes_parse_state(nd, (const char *)data, size);
	if (r < 0) {
		if ((r != -EBADMSG && r != -ENOMEM) ||
		    memcmp(&before, nd, sizeof(before)) != 0)
			abort();
	} else {
		if ((unsigned)nd->state >= NODE_STATE_COUNT ||
		    nd->ntimeline > NODES_TIMELINE_MAX ||
		    nd->secrets_since < 0 || nd->last_time < 0)
			abort();
		for (i = 0; i < nd->ntimeline; i++)
			if (strnlen(nd->timeline[i].event,
				    NODES_EVENT_NAME_MAX) ==
				    NODES_EVENT_NAME_MAX ||
			    nd->timeline[i].time < 0)
				abort();
		if (strnlen(nd->last_event.step, sizeof(nd->last_event.step)) ==
		    sizeof(nd->last_event.step))
			abort();
	}
	buf_init(&out, NODES_JSON_MAX);
	if (nodes_render_json(ns, &out) < 0)
		abort();
	buf_done(&out);
	nodes_free(ns);
	return 0;
}
