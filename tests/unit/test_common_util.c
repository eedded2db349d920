/*
 * test_common_util.c - the cursor reader, the capped buffer, atomic
 * writes, mkdir -p and bounded reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "fsutil.h"
#include "rd.h"

static void
test_rd(void **state)
{
	static const uint8_t pkt[] = { 0,    1,	   0x12, 0x34, 0xde, 0xad,
				       0xbe, 0xef, 'o',	 'k',  0,    'x' };
	struct rd rd;
	uint8_t b;
	uint16_t h;
	uint32_t w;
	const char *s;
	const uint8_t *p;
	size_t n;

	(void)state;
	rd_init(&rd, pkt, sizeof(pkt));
	assert_int_equal(rd_u16be(&rd, &h), 0);
	assert_int_equal(h, 1);
	assert_int_equal(rd_u16be(&rd, &h), 0);
	assert_int_equal(h, 0x1234);
	assert_int_equal(rd_u32be(&rd, &w), 0);
	assert_true(w == 0xdeadbeef);
	assert_int_equal(rd_cstr(&rd, 10, &s, &n), 0);
	assert_string_equal(s, "ok");
	assert_int_equal(n, 2);
	/* "x" has no NUL: refused, cursor unmoved. */
	assert_int_equal(rd_cstr(&rd, 10, &s, &n), -EBADMSG);
	assert_int_equal(rd_left(&rd), 1);
	assert_int_equal(rd_u16be(&rd, &h), -EBADMSG);
	assert_int_equal(rd_u32be(&rd, &w), -EBADMSG);
	assert_int_equal(rd_bytes(&rd, 2, &p), -EBADMSG);
	assert_int_equal(rd_u8(&rd, &b), 0);
	assert_int_equal(b, 'x');
	assert_int_equal(rd_u8(&rd, &b), -EBADMSG);
	assert_int_equal(rd_skip(&rd, 1), -EBADMSG);
	/* A string longer than the bound. */
	rd_init(&rd, "abcdef", 7);
	assert_int_equal(rd_cstr(&rd, 5, &s, &n), -ENAMETOOLONG);
	assert_int_equal(rd_cstr(&rd, 6, &s, &n), 0);
	/* An empty buffer. */
	rd_init(&rd, pkt, 0);
	assert_int_equal(rd_u8(&rd, &b), -EBADMSG);
}

static void
test_buf(void **state)
{
	struct buf b;
	char *s;
	size_t n;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_printf(&b, "%d", 1234), 0);
	assert_string_equal(b.data, "hello1234");
	assert_int_equal(buf_puts(&b, "ab"), -E2BIG);
	assert_string_equal(b.data, "hello1234"); /* unchanged */
	assert_int_equal(buf_puts(&b, "a"), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_printf(&b, "%s", "x"), -E2BIG);
	s = buf_take(&b, &n);
	assert_string_equal(s, "hello1234a");
	assert_int_equal(n, 10);
	free(s);
	assert_int_equal(b.len, 0);
	s = buf_take(&b, &n);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(buf_append(&b, "\0x", 2), 0);
	assert_int_equal(b.len, 2);
	buf_done_secure(&b);
	assert_null(b.data);
}

static void
test_files(void **state)
{
	char dir[64] = "/tmp/mbutil.XXXXXX", p[128], *data = NULL;
	struct stat st;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	assert_int_equal(mkdir_p(p, 0755), 0);
	assert_int_equal(mkdir_p(p, 0755), 0); /* idempotent */
	snprintf(p, sizeof(p), "%s/a/b/c/key", dir);
	assert_int_equal(atomic_write(p, "secret", 6, 0600), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(read_file(p, 100, &data, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(data, "secret");
	free(data);
	data = NULL;
	/* Replacing keeps exactly one file, with the new content. */
	assert_int_equal(atomic_write(p, "new", 3, 0644), 0);
	assert_int_equal(read_file(p, 100, &data, &n), 0);
	assert_string_equal(data, "new");
	free(data);
	data = NULL;
	assert_int_equal(read_file(p, 2, &data, &n), -EFBIG);
	assert_null(data);
	/* A write into a missing directory fails and leaves nothing. */
	snprintf(p, sizeof(p), "%s/missing/x", dir);
	assert_int_equal(atomic_write(p, "x", 1, 0600), -ENOENT);
	/* mkdir_p over a file. */
	snprintf(p, sizeof(p), "%s/a/b/c/key/sub", dir);
	assert_int_equal(mkdir_p(p, 0755), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/a", dir);
	assert_int_equal(read_file(p, 100, &data, &n), -EISDIR);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rd),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
