/*
 * test_builder_iso.c - NoCloud seed ISOs: read back with libarchive's
 * reader, the cidata label, and dates pinned whatever the clock and the
 * time zone.
 */
#include "iso.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define EPOCH 1700000000 /* 2023-11-14 22:13:20 UTC */

static const char ud[] = "#cloud-config\nhostname: n1\n";
static const char md[] = "instance-id: i-1\nlocal-hostname: n1\n";
static const char nc[] = "version: 2\n";

static void
make(struct buf *b, time_t t)
{
	const struct iso_file f[] = {
		{ "user-data", ud, strlen(ud), 0600 },
		{ "meta-data", md, strlen(md), 0644 },
		{ "network-config", nc, strlen(nc), 0644 },
	};

	buf_init(b, ISO_MAX_SIZE);
	assert_int_equal(iso_write(f, 3, t, b), 0);
	assert_int_equal(b->len % 2048, 0);
}

static void
test_read_back(void **state)
{
	struct archive *a;
	struct archive_entry *e;
	struct buf b;
	int seen = 0;

	(void)state;
	make(&b, EPOCH);
	a = archive_read_new();
	archive_read_support_format_iso9660(a);
	assert_int_equal(archive_read_open_memory(a, b.data, b.len),
			 ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		const char *want = NULL;
		char data[256];
		la_ssize_t n;

		if (strcmp(name, "user-data") == 0)
			want = ud;
		else if (strcmp(name, "meta-data") == 0)
			want = md;
		else if (strcmp(name, "network-config") == 0)
			want = nc;
		else
			continue;
		n = archive_read_data(a, data, sizeof(data));
		assert_int_equal(n, (la_ssize_t)strlen(want));
		assert_memory_equal(data, want, strlen(want));
		assert_int_equal(archive_entry_mtime(e), EPOCH);
		seen++;
	}
	assert_int_equal(seen, 3);
	archive_read_free(a);
	buf_done(&b);
}

static void
test_descriptors(void **state)
{
	const uint8_t *pvd;
	struct buf b;

	(void)state;
	make(&b, EPOCH);
	pvd = (const uint8_t *)b.data + 16 * 2048;
	assert_int_equal(pvd[0], 1);
	assert_memory_equal(pvd + 1, "CD001", 5);
	/* ISO level 1 upper-cases the primary id; blkid reads Joliet's. */
	assert_memory_equal(pvd + 40, "CIDATA ", 7);
	assert_memory_equal(pvd + 813, "2023111422132000", 16);
	assert_memory_equal(pvd + 830, "2023111422132000", 16);
	/* The Joliet descriptor follows, with the lowercase id in UCS-2. */
	assert_int_equal(pvd[2048], 2);
	assert_memory_equal(pvd + 2048 + 40, "\0c\0i\0d\0a\0t\0a", 12);
	buf_done(&b);
}

static void
test_reproducible(void **state)
{
	struct buf a, b, c;

	(void)state;
	make(&a, EPOCH);
	sleep(1); /* the writer's own clock moves on */
	make(&b, EPOCH);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* Local time must not leak in either. */
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	make(&c, EPOCH);
	unsetenv("TZ");
	tzset();
	assert_int_equal(a.len, c.len);
	assert_memory_equal(a.data, c.data, a.len);
	buf_done(&c);
	buf_done(&b);
	make(&b, EPOCH + 1);
	assert_memory_not_equal(a.data, b.data, a.len);
	buf_done(&a);
	buf_done(&b);
}

static void
test_errors(void **state)
{
	const struct iso_file bad[] = { { "a/b", "x", 1, 0644 } };
	struct iso_file many[ISO_MAX_FILES + 1];
	struct buf b;

	(void)state;
	memset(many, 0, sizeof(many));
	buf_init(&b, ISO_MAX_SIZE);
	assert_int_equal(iso_write(bad, 1, EPOCH, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(iso_write(many, ISO_MAX_FILES + 1, EPOCH, &b),
			 -EINVAL);
	buf_done(&b);
	buf_init(&b, 4096);
	assert_int_equal(iso_write(bad, 0, EPOCH, &b), -E2BIG);
	buf_done(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_back),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
