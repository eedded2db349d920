/*
 * fuzz_firstboot_payload.c - libFuzzer harness for the firstboot payload
 * parser and, for every payload it accepts, the planner (which formats
 * every field it prints) and the plan printer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "payload.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fb_payload *p = NULL;
	struct fb_plan *plan = NULL;
	struct fb_perror err;
	FILE *sink;

	if (fb_payload_parse("fuzz", data, size, &p, &err) < 0) {
		/* A refusal always says why. */
		if (err.msg[0] == '\0')
			__builtin_trap();
		return 0;
	}
	if (fb_plan_build(p, "/fuzz", size & 1, &plan) == 0) {
		sink = fopen("/dev/null", "w");
		if (sink != NULL) {
			fb_plan_print(plan, sink);
			fclose(sink);
		}
		fb_plan_free(plan);
	}
	fb_payload_free(p);
	return 0;
}
