/*
 * ctrconf.c - containerd's config.toml and hosts.toml, rendered as text.
 *
 * The table names are containerd's own (docs/cri/config.md and
 * docs/hosts.md at v1.7 and v2.0): containerd 1.x reads version 2, where
 * the CRI plugin is "io.containerd.grpc.v1.cri"; 2.x reads version 3,
 * where it is split into "io.containerd.cri.v1.images" (the sandbox image
 * as pinned_images.sandbox, the registry) and "io.containerd.cri.v1.runtime"
 * (the runc runtime). containerd 1.6 does not refuse a version 3 file: it
 * ignores the tables it does not know, so the version must be right.
 */
#include "ctrconf.h"

#include "num.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Where one config version keeps the three settings. */
struct layout {
	const char *comment;
	const char *sandbox_table; /* and its key */
	const char *sandbox_key;
	const char *runc_table; /* .options is its child */
	const char *registry_table;
};

static const struct layout v2 = {
	CTRCONF_MARK ": containerd 1.x reads config version 2.\n"
		     "version = 2\n",
	"plugins.\"io.containerd.grpc.v1.cri\"",
	"sandbox_image",
	"plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc",
	"plugins.\"io.containerd.grpc.v1.cri\".registry",
};

static const struct layout v3 = {
	CTRCONF_MARK ": containerd 2.x reads config version 3.\n"
		     "version = 3\n",
	"plugins.\"io.containerd.cri.v1.images\".pinned_images",
	"sandbox",
	"plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.runc",
	"plugins.\"io.containerd.cri.v1.images\".registry",
};

/* On failure (r < 0), undo a partial append: out back to len bytes. */
static int
cut(struct buf *out, size_t len, int r)
{
	if (r < 0 && out->data != NULL) {
		out->len = len;
		out->data[len] = '\0';
	}
	return r;
}

/*
 * A TOML basic string (TOML 1.0, "String"): '"' and '\\' escaped, and
 * every control byte (U+0000 to U+001F, U+007F) as \b \t \n \f \r or
 * \uXXXX. Other bytes are copied (the callers pass checked ASCII).
 */
static int
toml_str(struct buf *out, const char *s)
{
	static const char from[] = "\"\\\b\t\n\f\r";
	static const char to[] = "\"\\btnfr";
	const char *e;
	int r;

	r = buf_puts(out, "\"");
	for (; r == 0 && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		e = strchr(from, *s);
		if (e != NULL)
			r = buf_printf(out, "\\%c", to[e - from]);
		else if (ch < 0x20 || ch == 0x7f)
			r = buf_printf(out, "\\u%04X", (unsigned)ch);
		else
			r = buf_append(out, s, 1);
	}
	if (r == 0)
		r = buf_puts(out, "\"");
	return r;
}

static int
render(const struct layout *l, const struct ctrconf *c, struct buf *out)
{
	int r;

	r = buf_puts(out, l->comment);
	if (r == 0 && c->sandbox_image != NULL) {
		r = buf_printf(out, "\n[%s]\n  %s = ", l->sandbox_table,
			       l->sandbox_key);
		if (r == 0)
			r = toml_str(out, c->sandbox_image);
		if (r == 0)
			r = buf_puts(out, "\n");
	}
	if (r == 0)
		r = buf_printf(out,
			       "\n[%s]\n"
			       "  runtime_type = \"io.containerd.runc.v2\"\n"
			       "\n[%s.options]\n"
			       "  SystemdCgroup = %s\n"
			       "\n[%s]\n"
			       "  config_path = \"" CTRCONF_CERTS_D "\"\n",
			       l->runc_table, l->runc_table,
			       c->systemd_cgroup ? "true" : "false",
			       l->registry_table);
	return r;
}

int
ctrconf_render(unsigned version, const struct ctrconf *c, struct buf *out)
{
	size_t len = out->len;

	if (c == NULL || (version != 2 && version != 3))
		return -EINVAL;
	return cut(out, len, render(version == 2 ? &v2 : &v3, c, out));
}

int
ctrconf_hosts_toml(const char *const *mirrors, size_t n, struct buf *out)
{
	size_t len = out->len, i;
	int r;

	if (n > 0 && mirrors == NULL)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (mirrors[i] == NULL)
			return -EINVAL;
	r = buf_puts(out, CTRCONF_MARK
		     ": docker.io pulls try each mirror "
		     "in order, then docker.io.\n"
		     "server = \"https://registry-1.docker.io\"\n");
	for (i = 0; r == 0 && i < n; i++) {
		r = buf_puts(out, "\n[host.");
		if (r == 0)
			r = toml_str(out, mirrors[i]);
		if (r == 0)
			r = buf_puts(out, "]\n"
					  "  capabilities = [\"pull\", "
					  "\"resolve\"]\n");
	}
	return cut(out, len, r);
}

/*
 * A version token: an optional 'v', then MAJOR '.' MINOR, both decimal
 * ("1.6.20~ds1", "v2.0.0", "1.7.27"). *ret_major on success.
 */
static int
version_token(const char *s, size_t len, uint64_t *ret_major)
{
	size_t i = 0, digits;

	if (len > 0 && s[0] == 'v')
		i++;
	for (digits = 0;
	     i + digits < len && s[i + digits] >= '0' && s[i + digits] <= '9';
	     digits++)
		;
	if (digits == 0 || digits > 9 || i + digits + 1 >= len ||
	    s[i + digits] != '.' || s[i + digits + 1] < '0' ||
	    s[i + digits + 1] > '9')
		return -EINVAL;
	return num_parse_u64n(s + i, digits, 0, 999999999, ret_major);
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/*
 * One line: when its first word is "containerd", the major version of its
 * first version token. 0 or -EINVAL.
 */
static int
version_line(const char *s, size_t len, uint64_t *ret_major)
{
	bool first = true;
	size_t i = 0, start;

	while (i < len) {
		while (i < len && is_blank(s[i]))
			i++;
		start = i;
		while (i < len && !is_blank(s[i]))
			i++;
		if (i == start)
			break;
		if (first) {
			if (i - start != 10 ||
			    memcmp(s + start, "containerd", 10) != 0)
				return -EINVAL;
			first = false;
			continue;
		}
		if (version_token(s + start, i - start, ret_major) == 0)
			return 0;
	}
	return -EINVAL;
}

int
ctrconf_version_for(const char *text, size_t len, unsigned *version)
{
	const char *p = text, *nl;
	size_t left = len, n;
	uint64_t major;

	if (text == NULL)
		return -EINVAL;
	while (left > 0) {
		nl = memchr(p, '\n', left);
		n = nl != NULL ? (size_t)(nl - p) : left;
		if (version_line(p, n, &major) == 0) {
			if (major == 0)
				return -EINVAL;
			*version = major >= 2 ? 3 : 2;
			return 0;
		}
		n += nl != NULL;
		p += n;
		left -= n;
	}
	return -EINVAL;
}
