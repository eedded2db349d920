/*
 * test_builder_tree.c - the OUT tree writer: modes, parents, SHA256SUMS
 * (sorted, relative, skipping pki/ and secrets/, hashing files it did not
 * write), and linking unchanged files of a previous tree.
 */
#include "tree.h"

#include "fsutil.h"

#include <errno.h>
#include <limits.h>
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

static char *
tmpdir(void)
{
	char *t = strdup("/tmp/test_builder_tree.XXXXXX");

	assert_non_null(mkdtemp(t));
	return t;
}

static void
rm_tree(char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static struct stat
st_of(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(stat(p, &st), 0);
	return st;
}

static void
test_write_and_sums(void **state)
{
	char *dir = tmpdir(), p[PATH_MAX], *sums = NULL;
	static const char *const skip[] = { "pki", "secrets", NULL };
	struct tree t;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(tree_open(&t, dir), 0);
	assert_int_equal(tree_write(&t, "b/x.txt", "hello\n", 6, 0644, true),
			 0);
	assert_int_equal(tree_write(&t, "a/deep/y", "", 0, 0600, true), 0);
	assert_int_equal(tree_write(&t, "pki/ca.key", "k", 1, 0600, false), 0);
	assert_int_equal(tree_write(&t, "b/x.txt", "again", 5, 0644, true),
			 -EEXIST);
	assert_int_equal(tree_write(&t, "../escape", "x", 1, 0644, true),
			 -EINVAL);
	/* A file written behind the tree's back is hashed by the walk. */
	snprintf(p, sizeof(p), "%s/public/z", dir);
	assert_int_equal(mkdir_p(p, 0755) == 0 || errno == EEXIST, 1);
	snprintf(p, sizeof(p), "%s/public/z/late", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("abc", f);
	fclose(f);
	assert_int_equal(tree_write_sums(&t, skip), 0);
	tree_done(&t);

	assert_int_equal(st_of(dir, "a/deep/y").st_mode & 0777, 0600);
	assert_int_equal(st_of(dir, "b/x.txt").st_mode & 0777, 0644);
	assert_int_equal(st_of(dir, "pki").st_mode & 0777, 0700);
	snprintf(p, sizeof(p), "%s/SHA256SUMS", dir);
	assert_int_equal(read_file(p, 1 << 20, &sums, &len), 0);
	assert_string_equal(
		sums,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852"
		"b855  a/deep/y\n"
		"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6"
		"be03  b/x.txt\n"
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f200"
		"15ad  public/z/late\n");
	free(sums);
	rm_tree(dir);
}

static void
test_reuse(void **state)
{
	char *old = tmpdir(), *neu = tmpdir();
	struct tree t;
	struct stat a, b;

	(void)state;
	assert_int_equal(tree_open(&t, old), 0);
	assert_int_equal(tree_write(&t, "n/same", "same", 4, 0600, true), 0);
	assert_int_equal(tree_write(&t, "n/changed", "v1", 2, 0644, true), 0);
	assert_int_equal(tree_write(&t, "n/mode", "m", 1, 0644, true), 0);
	tree_done(&t);

	assert_int_equal(tree_open(&t, neu), 0);
	assert_int_equal(tree_reuse_from(&t, old), 0);
	assert_int_equal(tree_write(&t, "n/same", "same", 4, 0600, true), 0);
	assert_int_equal(tree_write(&t, "n/changed", "v2", 2, 0644, true), 0);
	assert_int_equal(tree_write(&t, "n/mode", "m", 1, 0600, true), 0);
	assert_int_equal(tree_write(&t, "n/new", "new", 3, 0644, true), 0);
	assert_int_equal(t.n, 4);
	tree_done(&t);

	/* Identical bytes and mode: the same inode. */
	a = st_of(old, "n/same");
	b = st_of(neu, "n/same");
	assert_int_equal(a.st_ino, b.st_ino);
	/* Different bytes or mode: a new file. */
	a = st_of(old, "n/changed");
	b = st_of(neu, "n/changed");
	assert_int_not_equal(a.st_ino, b.st_ino);
	a = st_of(old, "n/mode");
	b = st_of(neu, "n/mode");
	assert_int_not_equal(a.st_ino, b.st_ino);
	assert_int_equal(b.st_mode & 0777, 0600);
	rm_tree(old);
	rm_tree(neu);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_sums),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
