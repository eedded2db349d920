/* num.c - strict decimal and duration parsing. */
#include "num.h"

#include <errno.h>
#include <string.h>

int
num_parse_u64n(const char *s, size_t len, uint64_t min, uint64_t max,
	       uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			/* Keep scanning so "99999999999999999999x" is EINVAL.
			 */
			for (; i < len; i++)
				if (s[i] < '0' || s[i] > '9')
					return -EINVAL;
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int
num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	if (s == NULL)
		return -EINVAL;
	return num_parse_u64n(s, strlen(s), min, max, ret);
}

int
num_parse_int(const char *s, int min, int max, int *ret)
{
	uint64_t v;
	int r;

	if (min < 0 || max < min)
		return -EINVAL;
	r = num_parse_u64(s, (uint64_t)min, (uint64_t)max, &v);
	if (r < 0)
		return r;
	*ret = (int)v;
	return 0;
}

int
num_parse_duration(const char *s, uint64_t max, uint64_t *ret_seconds)
{
	uint64_t total = 0;
	const char *p = s;
	int last_unit = 4; /* units must appear in order h, m, s */

	if (s == NULL || *s == '\0')
		return -EINVAL;
	while (*p != '\0') {
		const char *start = p;
		uint64_t v, mult;
		int unit, r;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return -EINVAL;
		switch (*p) {
		case 'h':
			unit = 3;
			mult = 3600;
			break;
		case 'm':
			unit = 2;
			mult = 60;
			break;
		case 's':
			unit = 1;
			mult = 1;
			break;
		default:
			return -EINVAL;
		}
		if (unit >= last_unit)
			return -EINVAL;
		last_unit = unit;
		r = num_parse_u64n(start, (size_t)(p - start), 0,
				   UINT64_MAX / 3600, &v);
		if (r < 0)
			return r;
		v *= mult;
		if (total > UINT64_MAX - v)
			return -ERANGE;
		total += v;
		p++;
	}
	if (total > max)
		return -ERANGE;
	*ret_seconds = total;
	return 0;
}

/* The power of 1024 of a unit suffix ("", K, Ki, KiB, ...), or -1. */
static int
size_unit(const char *u)
{
	static const char units[] = "KMGT";
	const char *p;

	if (u[0] == '\0')
		return 0;
	p = strchr(units, u[0]);
	if (p == NULL)
		return -1;
	if (u[1] == '\0' || (u[1] == 'i' && u[2] == '\0') ||
	    (u[1] == 'i' && u[2] == 'B' && u[3] == '\0'))
		return (int)(p - units) + 1;
	return -1;
}

int
num_parse_size(const char *s, uint64_t max, uint64_t *ret)
{
	size_t n = strspn(s, "0123456789");
	uint64_t v;
	int pow, r;

	pow = size_unit(s + n);
	if (n == 0 || pow < 0)
		return -EINVAL;
	r = num_parse_u64n(s, n, 0, UINT64_MAX, &v);
	if (r < 0)
		return r;
	for (; pow > 0; pow--) {
		if (v > UINT64_MAX / 1024)
			return -ERANGE;
		v *= 1024;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}
