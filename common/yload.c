/* yload.c - libyaml event stream to a tree with positions. */
#include "yload.h"

#include "fsutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct loader {
	yaml_parser_t parser;
	size_t nodes;
	struct yerror *err;
};

static int fail(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err->msg, sizeof(l->err->msg), fmt, ap);
	va_end(ap);
	l->err->line = (unsigned)m->line + 1;
	l->err->col = (unsigned)m->column + 1;
	return -EINVAL;
}

static void
ynode_free(struct ynode *n)
{
	size_t i, count;

	if (n == NULL)
		return;
	count = n->nraw;
	for (i = 0; i < count; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n);
}

static int
push_item(struct ynode *parent, struct ynode *child, size_t *cap)
{
	size_t used = parent->nraw;

	if (used == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct ynode **p =
			realloc(parent->items, ncap * sizeof(struct ynode *));

		if (p == NULL)
			return -ENOMEM;
		parent->items = p;
		*cap = ncap;
	}
	parent->items[used] = child;
	parent->nraw = used + 1;
	return 0;
}

static int
next_event(struct loader *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->parser, ev)) {
		const char *prob = l->parser.problem ? l->parser.problem
						     : "malformed YAML";
		return fail(l, &l->parser.problem_mark, "%s", prob);
	}
	return 0;
}

static int load_node(struct loader *l, yaml_event_t *ev, unsigned depth,
		     struct ynode **ret);

/* Load the children of a sequence or mapping until its end event. */
static int
load_children(struct loader *l, struct ynode *n, unsigned depth)
{
	size_t cap = 0, used = 0;
	yaml_event_t ev;
	int r;

	for (;;) {
		struct ynode *child = NULL;

		r = next_event(l, &ev);
		if (r < 0)
			return r;
		if (ev.type == YAML_SEQUENCE_END_EVENT ||
		    ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		r = load_node(l, &ev, depth + 1, &child);
		if (r < 0)
			return r;
		if (child == NULL)
			return -EINVAL; /* load_node always sets it on success
					 */
		if (n->type == YNODE_MAP && used % 2 == 0) {
			size_t i;

			if (child->type != YNODE_SCALAR) {
				yaml_mark_t m = { 0, child->line - 1,
						  child->col - 1 };
				ynode_free(child);
				return fail(l, &m,
					    "mapping keys must be "
					    "scalars");
			}
			for (i = 0; i < used; i += 2) {
				struct ynode *k = n->items[i];

				/* Keys are scalars, whose str is never NULL. */
				if (k->str != NULL && child->str != NULL &&
				    k->len == child->len &&
				    memcmp(k->str, child->str, k->len) == 0) {
					yaml_mark_t m = { 0, child->line - 1,
							  child->col - 1 };
					r = fail(l, &m, "duplicate key '%s'",
						 child->str);
					ynode_free(child);
					return r;
				}
			}
		}
		r = push_item(n, child, &cap);
		if (r < 0) {
			ynode_free(child);
			return r;
		}
		used++;
		if (n->type == YNODE_MAP)
			n->n = used / 2;
		else
			n->n = used;
	}
	if (n->type == YNODE_MAP && used % 2 != 0)
		return -EINVAL; /* libyaml never emits this */
	return 0;
}

/* Build the node that starts with ev (consumed). */
static int
load_node(struct loader *l, yaml_event_t *ev, unsigned depth,
	  struct ynode **ret)
{
	struct ynode *n = NULL;
	yaml_mark_t mark = ev->start_mark;
	int r = 0;

	if (depth > YLOAD_MAX_DEPTH) {
		r = fail(l, &mark, "nesting deeper than %d levels",
			 YLOAD_MAX_DEPTH);
		goto out;
	}
	if (++l->nodes > YLOAD_MAX_NODES) {
		r = fail(l, &mark, "too many nodes (more than %d)",
			 YLOAD_MAX_NODES);
		goto out;
	}
	if (ev->type == YAML_ALIAS_EVENT) {
		r = fail(l, &mark, "aliases (*name) are not supported");
		goto out;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		r = -ENOMEM;
		goto out;
	}
	n->line = (unsigned)mark.line + 1;
	n->col = (unsigned)mark.column + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->type = YNODE_SCALAR;
		if (ev->data.scalar.length > YLOAD_MAX_SCALAR) {
			r = fail(l, &mark, "scalar longer than 1 MiB");
			goto out;
		}
		n->len = ev->data.scalar.length;
		n->str = malloc(n->len + 1);
		if (n->str == NULL) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			   ev->data.scalar.tag == NULL;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n->type = ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ
								: YNODE_MAP;
		yaml_event_delete(ev);
		ev->type = YAML_NO_EVENT;
		r = load_children(l, n, depth);
		break;
	default:
		r = fail(l, &mark, "unexpected YAML event");
		break;
	}
out:
	yaml_event_delete(ev);
	if (r < 0) {
		ynode_free(n);
		return r;
	}
	*ret = n;
	return 0;
}

int
ydoc_parse(const char *file, const void *data, size_t len, struct ydoc **ret,
	   struct yerror *err)
{
	struct loader l;
	struct ydoc *doc = NULL;
	yaml_event_t ev;
	int r, docs = 0;

	memset(&l, 0, sizeof(l));
	l.err = err;
	memset(err, 0, sizeof(*err));
	if (len > YLOAD_MAX_INPUT) {
		snprintf(err->msg, sizeof(err->msg), "larger than 64 MiB");
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&l.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&l.parser, data, len);
	doc = calloc(1, sizeof(*doc));
	if (doc == NULL) {
		r = -ENOMEM;
		goto out;
	}
	doc->file = strdup(file);
	if (doc->file == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		r = next_event(&l, &ev);
		if (r < 0)
			goto out;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			if (++docs > 1) {
				r = fail(&l, &ev.start_mark,
					 "only one YAML document is "
					 "allowed");
				yaml_event_delete(&ev);
				goto out;
			}
			yaml_event_delete(&ev);
			continue;
		}
		if (ev.type == YAML_STREAM_START_EVENT ||
		    ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		r = load_node(&l, &ev, 0, &doc->root);
		if (r < 0)
			goto out;
	}
	*ret = doc;
	doc = NULL;
	r = 0;
out:
	yaml_parser_delete(&l.parser);
	ydoc_free(doc);
	return r;
}

int
ydoc_load(const char *path, struct ydoc **ret, struct yerror *err)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	memset(err, 0, sizeof(*err));
	r = read_file(path, YLOAD_MAX_INPUT, &data, &len);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s",
			 r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
		return r;
	}
	r = ydoc_parse(path, data, len, ret, err);
	free(data);
	return r;
}

struct ydoc *
ydoc_free(struct ydoc *doc)
{
	if (doc == NULL)
		return NULL;
	ynode_free(doc->root);
	free(doc->file);
	free(doc);
	return NULL;
}

struct ynode *
ynode_get(const struct ynode *m, const char *key)
{
	size_t i, klen;

	if (m == NULL || m->type != YNODE_MAP)
		return NULL;
	klen = strlen(key);
	for (i = 0; i < m->n; i++) {
		struct ynode *k = m->items[2 * i];

		if (k->len == klen && memcmp(k->str, key, klen) == 0)
			return m->items[2 * i + 1];
	}
	return NULL;
}

bool
ynode_is_null(const struct ynode *n)
{
	if (n == NULL || n->type != YNODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "null") == 0 ||
	       strcmp(n->str, "~") == 0 || strcmp(n->str, "Null") == 0 ||
	       strcmp(n->str, "NULL") == 0;
}
