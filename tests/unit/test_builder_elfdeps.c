/*
 * test_builder_elfdeps.c - the ELF parser on real programs (/bin/ls, a
 * static busybox), on hand-made objects (DT_RUNPATH with $ORIGIN, a
 * library of the wrong class) and on truncated and garbage input; the
 * resolver on the host and on a fake root with ld.so.conf includes.
 */
#include <elf.h>
#include <errno.h>
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

#include "elfdeps.h"
#include "fsutil.h"

static char top[256];

static void
put_bytes(const char *rel, const void *data, size_t len)
{
	char p[512], d[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", top, rel);
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	assert_int_equal(mkdir_p(d, 0755), 0);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
copy_host(const char *from, const char *rel)
{
	char *data = NULL;
	size_t len;

	assert_int_equal(read_file(from, 64 << 20, &data, &len), 0);
	put_bytes(rel, data, len);
	free(data);
}

/*
 * A minimal ELF64 (x86-64 unless machine is given) with one PT_LOAD, an
 * optional PT_INTERP and a PT_DYNAMIC naming needed (may be NULL) and a
 * DT_RUNPATH (may be NULL). Returns its length in buf (512 bytes).
 */
static size_t
make_elf(uint8_t *buf, uint16_t machine, const char *interp, const char *needed,
	 const char *runpath)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
	Elf64_Dyn *dyn = (Elf64_Dyn *)(buf + 384);
	char *str = (char *)buf + 256;
	size_t o = 1, n_need = 0, n_run = 0, n_interp = 0;
	int np = 0, nd = 0;

	memset(buf, 0, 512);
	if (needed != NULL) {
		n_need = o;
		o += (size_t)snprintf(str + o, 128 - o, "%s", needed) + 1;
	}
	if (runpath != NULL) {
		n_run = o;
		o += (size_t)snprintf(str + o, 128 - o, "%s", runpath) + 1;
	}
	if (interp != NULL) {
		n_interp = o;
		o += (size_t)snprintf(str + o, 128 - o, "%s", interp) + 1;
	}
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = machine;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	ph[np].p_type = PT_LOAD;
	ph[np].p_offset = 0;
	ph[np].p_vaddr = 0x1000;
	ph[np].p_filesz = 512;
	np++;
	if (interp != NULL) {
		ph[np].p_type = PT_INTERP;
		ph[np].p_offset = 256 + n_interp;
		ph[np].p_filesz = strlen(interp) + 1;
		np++;
	}
	ph[np].p_type = PT_DYNAMIC;
	ph[np].p_offset = 384;
	ph[np].p_filesz = 8 * sizeof(*dyn);
	np++;
	eh->e_phnum = (uint16_t)np;
	if (needed != NULL) {
		dyn[nd].d_tag = DT_NEEDED;
		dyn[nd++].d_un.d_val = n_need;
	}
	if (runpath != NULL) {
		dyn[nd].d_tag = DT_RUNPATH;
		dyn[nd++].d_un.d_val = n_run;
	}
	dyn[nd].d_tag = DT_STRTAB;
	dyn[nd++].d_un.d_val = 0x1000 + 256;
	dyn[nd].d_tag = DT_STRSZ;
	dyn[nd++].d_un.d_val = 128;
	dyn[nd].d_tag = DT_NULL;
	return 512;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/mb-elfdeps-XXXXXX");
	return mkdtemp(top) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static bool
has_suffix(const struct elfdeps *d, const char *suffix)
{
	size_t i, n = strlen(suffix), l;

	for (i = 0; i < d->n; i++) {
		l = strlen(d->paths[i]);
		if (l >= n && strcmp(d->paths[i] + l - n, suffix) == 0)
			return true;
	}
	return false;
}

static void
test_parse_handmade(void **state)
{
	uint8_t buf[512];
	struct elf_info info;
	size_t len;

	(void)state;
	len = make_elf(buf, EM_X86_64, "/lib64/ld.so", "libfoo.so.1",
		       "$ORIGIN/../lib");
	assert_int_equal(elf_parse(buf, len, &info), 0);
	assert_int_equal(info.elfclass, ELFCLASS64);
	assert_int_equal(info.machine, EM_X86_64);
	assert_string_equal(info.interp, "/lib64/ld.so");
	assert_int_equal(info.nneeded, 1);
	assert_string_equal(info.needed[0], "libfoo.so.1");
	assert_string_equal(info.runpath, "$ORIGIN/../lib");
	assert_null(info.rpath);
	elf_info_done(&info);
}

static void
test_parse_bad(void **state)
{
	uint8_t buf[512], junk[300];
	struct elf_info info = { 0 };
	size_t len, cut, i;
	int r;

	(void)state;
	len = make_elf(buf, EM_X86_64, "/lib64/ld.so", "libfoo.so.1", NULL);
	/* Every truncation is refused or parsed, never read past. */
	for (cut = 0; cut < len; cut++) {
		r = elf_parse(buf, cut, &info);
		if (r == 0)
			elf_info_done(&info);
		else
			assert_true(r == -EINVAL || r == -ENOEXEC);
	}
	assert_int_equal(elf_parse(buf, 10, &info), -ENOEXEC);
	assert_int_equal(elf_parse(buf, 100, &info), -EINVAL);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(elf_parse(junk, sizeof(junk), &info), -ENOEXEC);
	memcpy(junk, ELFMAG, SELFMAG);
	assert_int_equal(elf_parse(junk, sizeof(junk), &info), -EINVAL);
	/* A needed offset past DT_STRSZ. */
	((Elf64_Dyn *)(buf + 384))[0].d_un.d_val = 4096;
	assert_int_equal(elf_parse(buf, len, &info), -EINVAL);
	/* An unterminated interpreter. */
	len = make_elf(buf, EM_X86_64, "/x", NULL, NULL);
	((Elf64_Phdr *)(buf + 64))[1].p_offset = 500;
	((Elf64_Phdr *)(buf + 64))[1].p_filesz = 12;
	memset(buf + 500, 'a', 12);
	assert_int_equal(elf_parse(buf, len, &info), -EINVAL);
}

static void
test_host_ls(void **state)
{
	struct elfdeps d = { 0 };
	char err[ELFDEPS_ERR_MAX];
	struct elf_info info;
	char *data = NULL;
	size_t len;

	(void)state;
	assert_int_equal(elfdeps_resolve("/", "/bin/ls", &d, err, sizeof(err)),
			 0);
	assert_true(d.n >= 2);
	/* The interpreter comes first, at the path PT_INTERP names. */
	assert_string_equal(d.paths[0], "/lib64/ld-linux-x86-64.so.2");
	assert_true(has_suffix(&d, "/libc.so.6"));
	assert_true(has_suffix(&d, "/libselinux.so.1"));
	/* libc's need of the loader is met by the interpreter. */
	assert_false(has_suffix(&d, "x86_64-linux-gnu/ld-linux-x86-64.so.2"));
	elfdeps_done(&d);

	assert_int_equal(read_file("/bin/ls", 64 << 20, &data, &len), 0);
	assert_int_equal(elf_parse((uint8_t *)data, len, &info), 0);
	assert_non_null(info.interp);
	assert_true(info.nneeded >= 1);
	elf_info_done(&info);
	free(data);
}

static void
test_static_busybox(void **state)
{
	struct elfdeps d = { 0 };
	char err[ELFDEPS_ERR_MAX];

	(void)state;
	if (access("/bin/busybox", R_OK) != 0)
		skip();
	assert_int_equal(
		elfdeps_resolve(NULL, "/bin/busybox", &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 0);
	elfdeps_done(&d);
}

static void
test_truncated_and_garbage_files(void **state)
{
	struct elfdeps d = { 0 };
	char err[ELFDEPS_ERR_MAX], p[512];
	char *data = NULL;
	size_t len;

	(void)state;
	assert_int_equal(read_file("/bin/ls", 64 << 20, &data, &len), 0);
	put_bytes("/bin/cut", data, 200);
	put_bytes("/bin/garbage", "#!/bin/sh\necho not elf\n", 23);
	free(data);
	assert_int_equal(elfdeps_resolve(top, "/bin/cut", &d, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "malformed ELF"));
	assert_int_equal(
		elfdeps_resolve(top, "/bin/garbage", &d, err, sizeof(err)),
		-ENOEXEC);
	assert_non_null(strstr(err, "not an ELF file"));
	snprintf(p, sizeof(p), "/bin/missing");
	assert_int_equal(elfdeps_resolve(top, p, &d, err, sizeof(err)),
			 -ENOENT);
}

static void
test_fake_root_conf(void **state)
{
	struct elfdeps d = { 0 };
	char err[ELFDEPS_ERR_MAX];
	const char *conf = "# comment\ninclude /etc/ld.so.conf.d/*.conf\n";
	const char *sub = "/opt/selinux/lib   # ours\nhwcap 0 nosegneg\n";

	(void)state;
	copy_host("/bin/ls", "/bin/ls");
	/* Without the libraries: a clear error naming the missing one. */
	assert_int_equal(elfdeps_resolve(top, "/bin/ls", &d, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/bin/ls"));
	copy_host("/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2");
	copy_host("/lib/x86_64-linux-gnu/libc.so.6",
		  "/usr/lib/x86_64-linux-gnu/libc.so.6");
	copy_host("/lib/x86_64-linux-gnu/libpcre2-8.so.0",
		  "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0");
	copy_host("/lib/x86_64-linux-gnu/libselinux.so.1",
		  "/opt/selinux/lib/libselinux.so.1");
	assert_int_equal(elfdeps_resolve(top, "/bin/ls", &d, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "libselinux.so.1"));
	put_bytes("/etc/ld.so.conf", conf, strlen(conf));
	put_bytes("/etc/ld.so.conf.d/selinux.conf", sub, strlen(sub));
	assert_int_equal(elfdeps_resolve(top, "/bin/ls", &d, err, sizeof(err)),
			 0);
	assert_true(has_suffix(&d, "/opt/selinux/lib/libselinux.so.1"));
	assert_true(has_suffix(&d, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	assert_true(
		has_suffix(&d, "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0"));
	elfdeps_done(&d);
}

static void
test_origin_and_wrong_machine(void **state)
{
	struct elfdeps d = { 0 };
	char err[ELFDEPS_ERR_MAX];
	uint8_t buf[512];
	size_t len;

	(void)state;
	len = make_elf(buf, EM_X86_64, NULL, "libfoo.so.1",
		       "$ORIGIN/../lib:/nonexistent");
	put_bytes("/opt/app/bin/prog", buf, len);
	len = make_elf(buf, EM_X86_64, NULL, "libbar.so.2", NULL);
	put_bytes("/opt/app/lib/libfoo.so.1", buf, len);
	/* An aarch64 libbar first on the path is skipped. */
	len = make_elf(buf, EM_AARCH64, NULL, NULL, NULL);
	put_bytes("/usr/lib/x86_64-linux-gnu/libbar.so.2", buf, len);
	len = make_elf(buf, EM_X86_64, NULL, NULL, NULL);
	put_bytes("/usr/lib/libbar.so.2", buf, len);
	assert_int_equal(
		elfdeps_resolve(top, "/opt/app/bin/prog", &d, err, sizeof(err)),
		0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.paths[0], "/opt/app/lib/libfoo.so.1");
	assert_string_equal(d.paths[1], "/usr/lib/libbar.so.2");
	elfdeps_done(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_handmade),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_host_ls),
		cmocka_unit_test(test_static_busybox),
		cmocka_unit_test_setup_teardown(
			test_truncated_and_garbage_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_root_conf, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_origin_and_wrong_machine,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
