/*
 * test_common_ctrconf.c - containerd's config.toml in both versions, byte
 * for byte (the table names are containerd's own: docs/cri/config.md at
 * v1.7 and v2.0), TOML string escaping, docker.io's hosts.toml, and the
 * config version read from real "containerd --version" lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "ctrconf.h"

static const char v2_want[] =
	"# Written by metalboot: containerd 1.x reads config version 2.\n"
	"version = 2\n"
	"\n"
	"[plugins.\"io.containerd.grpc.v1.cri\"]\n"
	"  sandbox_image = \"registry.k8s.io/pause:3.9\"\n"
	"\n"
	"[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
	"  runtime_type = \"io.containerd.runc.v2\"\n"
	"\n"
	"[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc."
	"options]\n"
	"  SystemdCgroup = true\n"
	"\n"
	"[plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
	"  config_path = \"/etc/containerd/certs.d\"\n";

static const char v3_want[] =
	"# Written by metalboot: containerd 2.x reads config version 3.\n"
	"version = 3\n"
	"\n"
	"[plugins.\"io.containerd.cri.v1.images\".pinned_images]\n"
	"  sandbox = \"registry.k8s.io/pause:3.9\"\n"
	"\n"
	"[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.runc]\n"
	"  runtime_type = \"io.containerd.runc.v2\"\n"
	"\n"
	"[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.runc."
	"options]\n"
	"  SystemdCgroup = true\n"
	"\n"
	"[plugins.\"io.containerd.cri.v1.images\".registry]\n"
	"  config_path = \"/etc/containerd/certs.d\"\n";

static const struct ctrconf pause39 = { true, "registry.k8s.io/pause:3.9" };

static void
test_render_v2(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(ctrconf_render(2, &pause39, &b), 0);
	assert_string_equal(b.data, v2_want);
	buf_done(&b);
}

static void
test_render_v3(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(ctrconf_render(3, &pause39, &b), 0);
	assert_string_equal(b.data, v3_want);
	/* Nothing of the 1.x CRI plugin: 2.x would convert it. */
	assert_null(strstr(b.data, "grpc.v1.cri"));
	buf_done(&b);
}

/* No sandbox image: no key at all (containerd's default); cgroupfs. */
static void
test_render_defaults(void **state)
{
	const struct ctrconf c = { false, NULL };
	unsigned v;
	struct buf b;

	(void)state;
	for (v = 2; v <= 3; v++) {
		buf_init(&b, 1 << 16);
		assert_int_equal(ctrconf_render(v, &c, &b), 0);
		assert_null(strstr(b.data, "sandbox"));
		assert_null(strstr(b.data, "pinned_images"));
		assert_non_null(strstr(b.data, "\n  SystemdCgroup = false\n"));
		assert_null(strstr(b.data, "true"));
		assert_non_null(strstr(b.data,
				       "\n  config_path = "
				       "\"/etc/containerd/certs.d\"\n"));
		buf_done(&b);
	}
}

/* Quotes, backslashes and control bytes cannot end the string. */
static void
test_render_escapes(void **state)
{
	const struct ctrconf c = { true, "a\"b\\c\nd\te\x01"
					 "f\x7fg\r\b\f" };
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(ctrconf_render(2, &c, &b), 0);
	assert_non_null(strstr(b.data, "\n  sandbox_image = "
				       "\"a\\\"b\\\\c\\nd\\te\\u0001f\\u007Fg"
				       "\\r\\b\\f\"\n"));
	buf_done(&b);
	buf_init(&b, 1 << 16);
	assert_int_equal(ctrconf_render(3, &c, &b), 0);
	assert_non_null(strstr(b.data, "\n  sandbox = \"a\\\"b\\\\c\\nd"));
	buf_done(&b);
}

/*
 * Only versions 2 and 3; appending keeps what out held; a failure (the
 * buffer's cap) leaves out as it was.
 */
static void
test_render_errors(void **state)
{
	static const unsigned bad[] = { 0, 1, 4, 100 };
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(buf_puts(&b, "X\n"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctrconf_render(bad[i], &pause39, &b), -EINVAL);
	assert_int_equal(ctrconf_render(2, NULL, &b), -EINVAL);
	assert_string_equal(b.data, "X\n");
	assert_int_equal(ctrconf_render(2, &pause39, &b), 0);
	assert_int_equal(strncmp(b.data, "X\n# Written by metalboot", 24), 0);
	assert_string_equal(b.data + 2, v2_want);
	buf_done(&b);

	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "X\n"), 0);
	assert_int_equal(ctrconf_render(3, &pause39, &b), -E2BIG);
	assert_string_equal(b.data, "X\n");
	assert_int_equal(b.len, 2);
	buf_done(&b);
}

static void
test_hosts_toml(void **state)
{
	static const char *const mirrors[] = { "https://mirror.example:5000",
					       "http://10.0.0.5:5000/v2" };
	static const char want[] =
		"# Written by metalboot: docker.io pulls try each mirror in "
		"order, then docker.io.\n"
		"server = \"https://registry-1.docker.io\"\n"
		"\n"
		"[host.\"https://mirror.example:5000\"]\n"
		"  capabilities = [\"pull\", \"resolve\"]\n"
		"\n"
		"[host.\"http://10.0.0.5:5000/v2\"]\n"
		"  capabilities = [\"pull\", \"resolve\"]\n";
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(ctrconf_hosts_toml(mirrors, 2, &b), 0);
	assert_string_equal(b.data, want);
	assert_int_equal(strncmp(b.data, CTRCONF_MARK, strlen(CTRCONF_MARK)),
			 0);
	buf_done(&b);
	/* None: docker.io alone. */
	assert_int_equal(ctrconf_hosts_toml(NULL, 0, &b), 0);
	assert_null(strstr(b.data, "[host."));
	assert_non_null(strstr(b.data, "\nserver = "));
	buf_done(&b);
}

static void
test_hosts_toml_escapes(void **state)
{
	const char *const odd[] = { "https://m.example/a\"b\\c" };
	const char *const null[] = { "https://m.example", NULL };
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(ctrconf_hosts_toml(odd, 1, &b), 0);
	assert_non_null(
		strstr(b.data, "\n[host.\"https://m.example/a\\\"b\\\\c\"]\n"));
	buf_done(&b);
	assert_int_equal(buf_puts(&b, "X"), 0);
	assert_int_equal(ctrconf_hosts_toml(null, 2, &b), -EINVAL);
	assert_int_equal(ctrconf_hosts_toml(NULL, 1, &b), -EINVAL);
	assert_string_equal(b.data, "X");
	buf_done(&b);
	buf_init(&b, 150);
	assert_int_equal(ctrconf_hosts_toml(odd, 1, &b), -E2BIG);
	assert_int_equal(b.len, 0);
	buf_done(&b);
}

struct vcase {
	const char *text;
	int version; /* 2, 3, or -EINVAL */
};

/* What "containerd --version" prints on the distributions we meet. */
static const struct vcase vcases[] = {
	/* Debian 12 (bookworm), containerd 1.6.20~ds1-1+deb12u3. */
	{ "containerd github.com/containerd/containerd 1.6.20~ds1 "
	  "1.6.20~ds1-1+deb12u3\n",
	  2 },
	{ "containerd github.com/containerd/containerd 1.6.20~ds1 "
	  "1.6.20~ds1-1+deb12u1\n",
	  2 },
	/* Docker's containerd.io package, 1.7. */
	{ "containerd containerd.io 1.7.27 "
	  "05044ec0a9a75232cad458027ca83437aae3f4da\n",
	  2 },
	/* Ubuntu 24.04's containerd. */
	{ "containerd github.com/containerd/containerd 1.7.12 \n", 2 },
	/* Upstream release binaries. */
	{ "containerd github.com/containerd/containerd v1.7.20 "
	  "8fc6bcff51318944179630522a095cc9dbf9f353\n",
	  2 },
	{ "containerd github.com/containerd/containerd/v2 v2.0.0 "
	  "207ad711eabd375a01713109a8a197d197ff6542\n",
	  3 },
	{ "containerd github.com/containerd/containerd/v2 v2.0.5 "
	  "fb4c30d4ede3531652d86197bf3fc9515e5276d9\n",
	  3 },
	{ "containerd containerd.io v2.1.4 "
	  "75cb2b7193e4e490e9fbdc236c0e811ccaba3376\n",
	  3 },
	{ "containerd containerd.io 2.1.4 x\r\n", 3 },
	{ "containerd github.com/containerd/containerd v10.1.0", 3 },
	{ "containerd github.com/containerd/containerd/v2 v2.1.0-rc.1", 3 },
	/* A warning line first: skipped. */
	{ "time=\"2024\" level=warning msg=\"v1.2.3 deprecated\"\n"
	  "containerd github.com/containerd/containerd/v2 v2.0.0 x\n",
	  3 },
	{ "", -EINVAL },
	{ "\n\n", -EINVAL },
	{ "containerd", -EINVAL },
	{ "containerd github.com/containerd/containerd\n", -EINVAL },
	{ "bash: containerd: command not found\n", -EINVAL },
	{ "runc version 1.1.5+ds1\n", -EINVAL },
	{ "containerd v0.2.3\n", -EINVAL },
	{ "containerd 1.\n", -EINVAL },
	{ "containerd v.1.2\n", -EINVAL },
	{ "containerd 1234567890.1\n", -EINVAL },
	{ "xcontainerd 1.6.20\n", -EINVAL },
	{ " containerd\t2.0.0", 3 },
};

static void
test_version_for(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		unsigned v = 77;
		int r = ctrconf_version_for(vcases[i].text,
					    strlen(vcases[i].text), &v);

		if (vcases[i].version < 0) {
			if (r != vcases[i].version || v != 77)
				fail_msg("case %zu: %d, version %u", i, r, v);
		} else if (r != 0 || (int)v != vcases[i].version) {
			fail_msg("case %zu: %d, version %u (want %d)", i, r, v,
				 vcases[i].version);
		}
	}
}

/* The length bounds the text: no read past it, no NUL needed. */
static void
test_version_for_len(void **state)
{
	static const char text[] = "containerd 2.0.0garbage";
	char raw[16];
	unsigned v = 77;

	(void)state;
	assert_int_equal(ctrconf_version_for(text, 11, &v), -EINVAL);
	assert_int_equal(v, 77);
	assert_int_equal(ctrconf_version_for(text, 13, &v), -EINVAL);
	assert_int_equal(ctrconf_version_for(text, 14, &v), 0);
	assert_int_equal(v, 3);
	memcpy(raw, "containerd 1.6.2", 16); /* no NUL */
	assert_int_equal(ctrconf_version_for(raw, sizeof(raw), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(ctrconf_version_for(NULL, 0, &v), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_v2),
		cmocka_unit_test(test_render_v3),
		cmocka_unit_test(test_render_defaults),
		cmocka_unit_test(test_render_escapes),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_hosts_toml),
		cmocka_unit_test(test_hosts_toml_escapes),
		cmocka_unit_test(test_version_for),
		cmocka_unit_test(test_version_for_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
