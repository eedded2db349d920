/*
 * fuzz_common_ctrconf.c - libFuzzer harness for the one parser in
 * ctrconf.c, the version read from "containerd --version" output (bytes
 * an installed program printed), and for the TOML escaping: any bytes as
 * a sandbox image or a mirror must stay one string, never add a line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctrconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
lines(const struct buf *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

/* The rendered text has as many lines as with a plain string. */
static void
check_escaping(const char *s)
{
	const char *mirror[1] = { s };
	struct ctrconf c = { true, s }, plain = { true, "x" };
	struct buf b, want;
	unsigned v;

	for (v = 2; v <= 3; v++) {
		buf_init(&b, 1u << 20);
		buf_init(&want, 1u << 20);
		if (ctrconf_render(v, &c, &b) != 0 ||
		    ctrconf_render(v, &plain, &want) != 0 ||
		    lines(&b) != lines(&want))
			abort();
		buf_done(&b);
		buf_done(&want);
	}
	buf_init(&b, 1u << 20);
	buf_init(&want, 1u << 20);
	mirror[0] = s;
	if (ctrconf_hosts_toml(mirror, 1, &b) != 0)
		abort();
	mirror[0] = "x";
	if (ctrconf_hosts_toml(mirror, 1, &want) != 0 ||
	    lines(&b) != lines(&want))
		abort();
	buf_done(&b);
	buf_done(&want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned version = 0;
	char *copy;
	int r;

	/* An exact-size copy: a read past size is caught. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	r = ctrconf_version_for(copy, size, &version);
	if (r == 0 && version != 2 && version != 3)
		abort();
	if (r != 0 && version != 0)
		abort();
	free(copy);
	if (size > 4096)
		return 0;
	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	check_escaping(copy);
	free(copy);
	return 0;
}
