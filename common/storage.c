/*
 * storage.c - state disk and root tmpfs rules (storage.h).
 */
#include "storage.h"

#include "num.h"

#include <errno.h>
#include <string.h>

bool
storage_device_valid(const char *d)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	if (strncmp(d, "/dev/", 5) != 0 || d[5] == '\0')
		return false;
	return strspn(d + 5, ok) == strlen(d + 5) && strstr(d, "..") == NULL;
}

int
storage_tmpfs_check(const char *spec)
{
	size_t n = strlen(spec);
	uint64_t v;

	if (n == 0)
		return 0;
	if (spec[n - 1] == '%')
		return num_parse_u64n(spec, n - 1, 1, 100, &v) == 0 ? 0
								    : -EINVAL;
	return num_parse_size(spec, UINT64_MAX, &v) == 0 && v > 0 ? 0 : -EINVAL;
}

uint64_t
storage_tmpfs_absolute(const char *spec)
{
	size_t n = strlen(spec);
	uint64_t v;

	if (n == 0 || spec[n - 1] == '%' ||
	    num_parse_size(spec, UINT64_MAX, &v) < 0)
		return 0;
	return v;
}

uint64_t
storage_tmpfs_bytes(const char *spec, uint64_t mem_bytes, uint64_t min_bytes)
{
	size_t n = strlen(spec);
	uint64_t v = mem_bytes / 2;

	if (n > 0 && spec[n - 1] == '%') {
		if (num_parse_u64n(spec, n - 1, 1, 100, &v) == 0)
			v = mem_bytes / 100 * v + mem_bytes % 100 * v / 100;
		else
			v = mem_bytes / 2;
	} else if (n > 0 && num_parse_size(spec, UINT64_MAX, &v) < 0) {
		v = mem_bytes / 2;
	}
	return v < min_bytes ? min_bytes : v;
}
