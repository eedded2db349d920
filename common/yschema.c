/*
 * yschema.c - typed getters with diagnostics over a yload tree.
 *
 * Every parser of a metalboot YAML file (cluster.yaml, netboot.yaml,
 * firstboot.yaml) walks its tree with these, so that a wrong type, an
 * unknown key or a bad value reads the same everywhere and always points
 * at the node it is about.
 */
#include "yschema.h"

#include "net.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ys_vadd(struct ys_ctx *c, enum diag_severity sev,
		    const struct ynode *n, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void
ys_vadd(struct ys_ctx *c, enum diag_severity sev, const struct ynode *n,
	const char *fmt, va_list ap)
{
	char msg[YS_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	diags_add(c->d, sev, c->file, n ? n->line : 0, n ? n->col : 0, "%s",
		  msg);
}

void
ys_err(struct ys_ctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ys_vadd(c, DIAG_ERROR, n, fmt, ap);
	va_end(ap);
}

void
ys_warn(struct ys_ctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ys_vadd(c, DIAG_WARNING, n, fmt, ap);
	va_end(ap);
}

const char *
ys_quote(const char *s, size_t len, char *buf, size_t sz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0, mark = 0;

	/* mark: the last place where "..." and the NUL still fit. */
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool plain =
			ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\';
		size_t w = plain ? 1 : 4;

		if (o + w + 1 > sz)
			break;
		if (plain) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 0xf];
		}
		if (o + 4 <= sz)
			mark = o;
	}
	if (i < len) {
		o = mark;
		if (o + 4 <= sz) {
			memcpy(buf + o, "...", 3);
			o += 3;
		}
	}
	buf[o] = '\0';
	return buf;
}

const char *
ys_qnode(const struct ynode *n, char *buf, size_t sz)
{
	if (n == NULL || n->type != YNODE_SCALAR)
		return "";
	return ys_quote(n->str, n->len, buf, sz);
}

size_t
ys_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[YS_SUGGEST_KEYLEN + 1];

	if (la > YS_SUGGEST_KEYLEN || lb > YS_SUGGEST_KEYLEN)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] == b[j - 1] ? 0 : 1);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

bool
ys_want_type(struct ys_ctx *c, const struct ynode *n, enum ynode_type t,
	     const char *what)
{
	static const char *const names[] = { "a scalar", "a list",
					     "a mapping" };

	if (n->type == t)
		return true;
	ys_err(c, n, "%s must be %s", what, names[t]);
	return false;
}

size_t
ys_check_keys(struct ys_ctx *c, const struct ynode *m, const char *where,
	      const char *const *known)
{
	size_t i, k, bad = 0;

	if (m == NULL || m->type != YNODE_MAP)
		return 0;
	for (i = 0; i < m->n; i++) {
		const struct ynode *key = m->items[2 * i];
		const char *best = NULL;
		size_t bestd = YS_SUGGEST_DIST + 1;
		bool nul;
		char b[YS_QUOTE_SIZE];

		if (key->type != YNODE_SCALAR) {
			ys_err(c, key, "%s: keys must be scalars", where);
			bad++;
			continue;
		}
		nul = strlen(key->str) != key->len;
		for (k = 0; known[k] != NULL; k++) {
			size_t dist;

			if (!nul && strcmp(key->str, known[k]) == 0)
				break;
			dist = nul ? SIZE_MAX
				   : ys_edit_distance(key->str, known[k]);
			if (dist < bestd) {
				bestd = dist;
				best = known[k];
			}
		}
		if (known[k] != NULL)
			continue;
		bad++;
		if (best != NULL)
			ys_err(c, key,
			       "unknown key '%s' in %s (did you mean '%s'?)",
			       ys_qnode(key, b, sizeof(b)), where, best);
		else
			ys_err(c, key, "unknown key '%s' in %s",
			       ys_qnode(key, b, sizeof(b)), where);
	}
	return bad;
}

const char *
ys_get_scalar(struct ys_ctx *c, const struct ynode *m, const char *key,
	      const char *what, unsigned flags, const struct ynode **ret_node)
{
	const struct ynode *n = ynode_get(m, key);

	if (ret_node != NULL)
		*ret_node = n;
	if (n == NULL || ynode_is_null(n)) {
		if (flags & YS_REQUIRED)
			ys_err(c, n ? n : m, "%s is required", what);
		return NULL;
	}
	if (!ys_want_type(c, n, YNODE_SCALAR, what))
		return NULL;
	if (n->len == 0 && !(flags & YS_EMPTY_OK)) {
		ys_err(c, n, "%s must not be empty", what);
		return NULL;
	}
	if (strlen(n->str) != n->len) {
		ys_err(c, n, "%s holds a NUL byte", what);
		return NULL;
	}
	return n->str;
}

bool
ys_get_bool(struct ys_ctx *c, const struct ynode *m, const char *key,
	    const char *what, unsigned flags, bool *ret)
{
	const struct ynode *n;
	const char *s = ys_get_scalar(c, m, key, what, 0, &n);
	bool words = !(flags & YS_BOOL_NO_YESNO);

	if (s == NULL)
		return false;
	if (n->plain || (flags & YS_BOOL_QUOTED_OK)) {
		if (strcmp(s, "true") == 0 ||
		    (words && strcmp(s, "yes") == 0)) {
			*ret = true;
			return true;
		}
		if (strcmp(s, "false") == 0 ||
		    (words && strcmp(s, "no") == 0)) {
			*ret = false;
			return true;
		}
	}
	ys_err(c, n, "%s must be true or false", what);
	return false;
}

bool
ys_get_ip(struct ys_ctx *c, const struct ynode *m, const char *key,
	  const char *what, unsigned flags, uint32_t *ret)
{
	const struct ynode *n;
	const char *s = ys_get_scalar(c, m, key, what, flags & YS_REQUIRED, &n);
	char b[YS_QUOTE_SIZE];
	uint32_t ip;

	if (s == NULL)
		return false;
	if (ipv4_parse(s, &ip) < 0) {
		ys_err(c, n, "%s: '%s' is not an IPv4 address", what,
		       ys_qnode(n, b, sizeof(b)));
		return false;
	}
	*ret = ip;
	return true;
}

char *
ys_strdup(struct ys_ctx *c, const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		c->oom = 1;
	return p;
}
