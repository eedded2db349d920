/*
 * test_builder_initramfs_layers.c - images_build() on small bases: every
 * role's initrd.img starts with the very same base archive (compressed
 * once) followed by the role's overlay, which holds the agent, its
 * libraries, the CA, the hook or unit and the module list; the kernel is
 * the newest of the base; a base without a kernel is refused.
 */
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "fsutil.h"
#include "images.h"
#include "initramfs.h"
#include "inventory.h"

static char top[256];
static struct inventory *inv;
static int jobs = 1; /* --jobs of the next build() */

static void
put(const char *rel, const char *content)
{
	char p[512], dir[512];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(atomic_write(p, content, strlen(content), 0644), 0);
}

static char *
slurp(const char *rel, size_t *len)
{
	char p[512], *data = NULL;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	assert_int_equal(read_file(p, 64 << 20, &data, len), 0);
	return data;
}

static int
setup(void **state)
{
	struct diags d;
	int r;

	(void)state;
	snprintf(top, sizeof(top), "/tmp/mb-layers-XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	diags_init(&d);
	r = inventory_load(MB_SOURCE_DIR "/profiles/examples/lab.yaml",
			   MB_SOURCE_DIR "/profiles", &inv, &d);
	diags_print(&d, stderr);
	diags_done(&d);
	if (r < 0)
		return -1;
	put("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"
		      "-----END CERTIFICATE-----\n");
	put("base/bin/sh", "#!busybox\n");
	put("base/boot/vmlinuz-5.9.0", "old kernel");
	put("base/boot/vmlinuz-5.10.0", "new kernel");
	put("base/lib/modules/5.10.0/modules.dep",
	    "kernel/net/802/stp.ko:\n"
	    "kernel/net/llc/llc.ko:\n"
	    "kernel/net/bridge/bridge.ko: kernel/net/802/stp.ko "
	    "kernel/net/llc/llc.ko\n"
	    "kernel/net/bridge/br_netfilter.ko: kernel/net/bridge/bridge.ko "
	    "kernel/net/802/stp.ko kernel/net/llc/llc.ko\n"
	    "kernel/fs/overlayfs/overlay.ko:\n");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	inventory_free(inv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* Members of a (compressed) cpio held in memory, with their data. */
struct member {
	char name[256];
	char data[4096];
	mode_t mode;
	char link[256];
};

static size_t
list_members(const void *img, size_t len, struct member *m, size_t max)
{
	struct archive_entry *e;
	struct archive *a = archive_read_new();
	size_t n = 0;
	la_ssize_t k;

	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	if (archive_read_open_memory(a, img, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return 0;
	}
	while (archive_read_next_header(a, &e) == ARCHIVE_OK && n < max) {
		memset(&m[n], 0, sizeof(m[n]));
		snprintf(m[n].name, sizeof(m[n].name), "%s",
			 archive_entry_pathname(e));
		m[n].mode = archive_entry_mode(e);
		if (archive_entry_symlink(e))
			snprintf(m[n].link, sizeof(m[n].link), "%s",
				 archive_entry_symlink(e));
		k = archive_read_data(a, m[n].data, sizeof(m[n].data) - 1);
		assert_true(k >= 0);
		n++;
	}
	archive_read_free(a);
	return n;
}

/*
 * Members of every zstd-compressed cpio that follows in img (the layers
 * after the base): each frame is tried where its magic number appears.
 * Returns the number of layers found; *ret_n the members.
 */
static size_t
list_layers(const char *img, size_t len, struct member *m, size_t max,
	    size_t *ret_n)
{
	size_t off, n = 0, k, layers = 0;

	for (off = 0; off + 4 <= len && n < max; off++) {
		if (memcmp(img + off, "\x28\xb5\x2f\xfd", 4) != 0)
			continue;
		k = list_members(img + off, len - off, m + n, max - n);
		if (k > 0) {
			n += k;
			layers++;
		}
	}
	*ret_n = n;
	return layers;
}

static const struct member *
find(const struct member *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return &m[i];
	return NULL;
}

/* A member's data; fails the test when the member is missing. */
static const char *
data_of(const struct member *e)
{
	assert_non_null(e);
	return e != NULL ? e->data : "";
}

static void
build(const char *base, const char *kernel, int want, struct diags *d)
{
	struct images_req req = { 0 };
	char b[300], pub[300], ca[300];

	snprintf(b, sizeof(b), "%s/%s", top, base);
	snprintf(pub, sizeof(pub), "%s/public", top);
	snprintf(ca, sizeof(ca), "%s/ca.pem", top);
	req.inv = inv;
	req.base = b;
	req.kernel = kernel;
	req.out_public = pub;
	req.ca_pem = ca;
	req.agent = "/bin/ls"; /* any dynamic program will do */
	req.init = "/bin/true";
	req.jobs = jobs;
	assert_int_equal(images_build(&req, d), want);
}

static void
test_layers(void **state)
{
	struct initramfs_opts io = { .compress = INITRAMFS_ZSTD,
				     .epoch = 1700000000,
				     .threads = 1 };
	static struct member m[256];
	struct initramfs *w = NULL;
	char err[INITRAMFS_ERR_MAX], p[1024];
	char *cp, *wk, *base, *k;
	size_t cplen, wklen, blen, klen, n, same;
	const struct member *e;
	struct diags d;

	(void)state;
	diags_init(&d);
	build("base", NULL, 0, &d);
	diags_print(&d, stderr);
	assert_int_equal(d.errors, 0);
	diags_done(&d);

	/*
	 * The base alone, as images_build archives it: without the kernel
	 * images, which are booted from beside the initrd.
	 */
	snprintf(p, sizeof(p),
		 "cp -a '%s/base' '%s/expect' && rm '%s'/expect/boot/vmlinuz-*",
		 top, top, top);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/base.img", top);
	assert_int_equal(initramfs_open(p, &io, &w, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/expect", top);
	assert_int_equal(initramfs_add_tree(w, p, 0), 0);
	assert_int_equal(initramfs_commit(w, err, sizeof(err)), 0);
	base = slurp("base.img", &blen);

	cp = slurp("public/images/control-plane/initrd.img", &cplen);
	wk = slurp("public/images/worker/initrd.img", &wklen);
	assert_true(cplen > blen && wklen > blen);
	assert_memory_equal(cp, base, blen);
	assert_memory_equal(wk, base, blen);
	/* No etcd node in the lab: no etcd image. */
	snprintf(p, sizeof(p), "%s/public/images/etcd", top);
	assert_int_equal(access(p, F_OK), -1);
	/* Nothing temporary is left beside the images. */
	snprintf(p, sizeof(p), "ls -A '%s/public/images' | grep -q '^\\.'",
		 top);
	assert_int_not_equal(system(p), 0);

	/* The shared layer and the role's own. */
	assert_int_equal(list_layers(cp + blen, cplen - blen, m, 256, &n), 2);
	assert_non_null(find(m, n, "usr/bin/metalboot-firstboot"));
	assert_non_null(find(m, n, "lib64/ld-linux-x86-64.so.2"));
	assert_non_null(find(m, n, "lib/x86_64-linux-gnu/libc.so.6"));
	e = find(m, n, "etc/metalboot/provisioning-ca.crt");
	assert_non_null(e);
	assert_non_null(strstr(data_of(e), "BEGIN CERTIFICATE"));
	e = find(m, n, "etc/metalboot/role");
	assert_non_null(e);
	assert_string_equal(e->data, "control-plane\n");
	assert_non_null(find(m, n, "etc/metalboot/hooks/50-firstboot"));
	assert_null(
		find(m, n, "etc/systemd/system/metalboot-firstboot.service"));
	/* No /init and no /sbin/init in the base: ours is added. */
	e = find(m, n, "init");
	assert_non_null(e);
	assert_true(S_ISREG(e->mode) && (e->mode & 0111));
	/* Modules in load order, dependencies first. */
	e = find(m, n, "etc/metalboot/modules");
	assert_non_null(e);
	assert_non_null(strstr(data_of(e), "llc /lib/modules/5.10.0/kernel/net/"
					   "llc/llc.ko\n"));
	assert_true(strstr(data_of(e), "stp ") < strstr(data_of(e), "bridge "));
	assert_true(strstr(data_of(e), "llc ") < strstr(data_of(e), "bridge "));
	assert_true(strstr(data_of(e), "bridge ") <
		    strstr(data_of(e), "br_netfilter "));
	assert_non_null(strstr(data_of(e), "overlay "));
	/* Parents before children. */
	assert_true(find(m, n, "usr") < find(m, n, "usr/bin"));
	assert_int_equal(list_layers(wk + blen, wklen - blen, m, 256, &n), 2);
	/*
	 * The shared layer (agent, libraries) is the same bytes in every
	 * role's image; what differs is a tiny role layer at the end.
	 */
	for (same = 0; same < cplen && same < wklen && cp[same] == wk[same];
	     same++)
		;
	assert_true(same > blen + 100000);
	assert_true(cplen - same < 1024 && wklen - same < 1024);
	e = find(m, n, "etc/metalboot/role");
	assert_non_null(e);
	assert_string_equal(e->data, "worker\n");

	k = slurp("public/images/worker/vmlinuz", &klen);
	assert_string_equal(k, "new kernel");
	free(k);
	free(base);
	free(cp);
	free(wk);
}

static void
test_systemd_base_and_reproducible(void **state)
{
	static struct member m[256];
	const struct member *e;
	char *a, *b;
	size_t alen, blen, n;
	struct diags d;

	(void)state;
	put("sd/lib/systemd/systemd", "systemd");
	put("sd/boot/vmlinuz-6.1.0", "kernel");
	diags_init(&d);
	build("sd", NULL, 0, &d);
	/* No modules.dep: a warning, not an error. */
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	diags_done(&d);
	a = slurp("public/images/worker/initrd.img", &alen);
	/* Another --jobs gives the same bytes (zstd's threaded mode). */
	jobs = 2;
	diags_init(&d);
	build("sd", NULL, 0, &d);
	diags_done(&d);
	jobs = 1;
	b = slurp("public/images/worker/initrd.img", &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(b);

	/* The layers after the (small) base. */
	n = 0;
	assert_true(list_layers(a + 4, alen - 4, m, 256, &n) >= 2);
	assert_true(n > 0);
	e = find(m, n, "etc/systemd/system/metalboot-firstboot.service");
	assert_non_null(e);
	/* The unit the package installs: retried, and skipped once done. */
	assert_non_null(strstr(data_of(e), "Restart=on-failure\n"));
	assert_non_null(strstr(data_of(e), "ConditionPathExists=!/var/lib/"
					   "metalboot/done\n"));
	e = find(m, n,
		 "etc/systemd/system/metalboot-firstboot.service.d/"
		 "image.conf");
	assert_non_null(strstr(data_of(e), "ExecStart=\nExecStart=/etc/"
					   "metalboot/firstboot.sh\n"));
	e = find(m, n,
		 "etc/systemd/system/multi-user.target.wants/"
		 "metalboot-firstboot.service");
	assert_non_null(e);
	assert_string_equal(e->link, "../metalboot-firstboot.service");
	/* The first stage is /init; it switch_roots to systemd. */
	e = find(m, n, "init");
	assert_non_null(e);
	assert_string_equal(e->link, "/usr/lib/metalboot/metalboot-init");
	assert_non_null(find(m, n, "usr/lib/metalboot/metalboot-init"));
	assert_null(find(m, n, "etc/metalboot/modules"));
	free(a);
}

static void
test_errors(void **state)
{
	struct diags d;
	char p[300];

	(void)state;
	put("nokernel/bin/sh", "sh");
	diags_init(&d);
	build("nokernel", NULL, -EINVAL, &d);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].msg, "no kernel"));
	diags_done(&d);

	/* --kernel makes it fine. */
	snprintf(p, sizeof(p), "%s/base/boot/vmlinuz-5.9.0", top);
	diags_init(&d);
	build("nokernel", p, 0, &d);
	assert_int_equal(d.errors, 0);
	diags_done(&d);

	diags_init(&d);
	build("missing", NULL, -EINVAL, &d);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].msg, "No such file"));
	diags_done(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_systemd_base_and_reproducible),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
