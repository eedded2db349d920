/*
 * num.h - the one number parser (after OpenBSD strtonum).
 *
 * Decimal only, no sign, no whitespace, no trailing bytes, no empty input,
 * overflow and range checked. Every number read from a packet, a flag or a
 * file goes through here.
 */
#ifndef MB_NUM_H
#define MB_NUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse len bytes at s as a decimal integer in [min, max].
 * Returns 0 and sets *ret, -EINVAL when s is not a number (empty, a sign,
 * a non-digit, trailing bytes), or -ERANGE when it is outside [min, max].
 */
int num_parse_u64n(const char *s, size_t len, uint64_t min, uint64_t max,
		   uint64_t *ret);

/* The same for a NUL-terminated string. */
int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Convenience for int-sized values; same return codes. */
int num_parse_int(const char *s, int min, int max, int *ret);

/*
 * Parse a duration in Go's notation restricted to whole units: one or more
 * <number><unit> groups with units h, m, s (e.g. "24h", "1h30m", "90s").
 * Returns 0 and the total in seconds (at most max), -EINVAL or -ERANGE.
 */
int num_parse_duration(const char *s, uint64_t max, uint64_t *ret_seconds);

/*
 * Parse a size in bytes: a whole number with an optional binary unit, K, M,
 * G or T, written alone or as Ki/KiB, Mi/MiB, ... (all powers of 1024, as
 * the kernel's tmpfs size= reads them), e.g. "512M", "2GiB", "1048576".
 * Returns 0 and the size (at most max), -EINVAL or -ERANGE.
 */
int num_parse_size(const char *s, uint64_t max, uint64_t *ret);

#endif
