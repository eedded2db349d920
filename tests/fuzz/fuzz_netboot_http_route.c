/*
 * fuzz_netboot_http_route.c - the router and percent-decoder on arbitrary
 * request-targets. Input: one method byte, then the target. Invariants:
 * a file route's path passes path_check_rel and holds no backslash and no
 * ".." component, whatever the encoding; a fleet page file is a plain
 * name (ui_name_ok); escaping for logs stays in its buffer and printable.
 */
#include "http.h"
#include "path.h"
#include "ui.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_route rt;
	char esc[64], dec[256];
	size_t n = 0, i;
	int r;

	if (size < 1)
		return 0;
	r = http_route((enum http_method)(data[0] % 4), (const char *)data + 1,
		       size - 1, &rt);
	if (r == 0 && rt.kind == HTTP_ROUTE_FILE) {
		size_t len = strlen(rt.path);

		if (path_check_rel(rt.path, len) != 0 ||
		    strchr(rt.path, '\\') != NULL ||
		    strcmp(rt.path, "..") == 0 ||
		    strncmp(rt.path, "../", 3) == 0 ||
		    strstr(rt.path, "/../") != NULL ||
		    (len >= 3 && strcmp(rt.path + len - 3, "/..") == 0))
			abort();
	}
	if (r == 0 && rt.kind == HTTP_ROUTE_UI && !ui_name_ok(rt.path))
		abort();
	(void)http_pct_decode((const char *)data, size, dec, sizeof(dec), &n);
	http_escape((const char *)data, size, esc, sizeof(esc));
	for (i = 0; esc[i] != '\0'; i++)
		if ((unsigned char)esc[i] < 0x20 ||
		    (unsigned char)esc[i] >= 0x7f)
			abort();
	return 0;
}
