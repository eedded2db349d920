/* ui.c - the fleet page's files and its cluster document; pure. */
#include "ui.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const struct ui_asset *
ui_asset_find(const char *name)
{
	size_t i;

	for (i = 0; i < ui_nassets; i++)
		if (strcmp(ui_assets[i].name, name) == 0)
			return &ui_assets[i];
	return NULL;
}

const char *
ui_content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".json", "application/json" },
	};
	size_t i, n = strlen(name);

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

int
ui_name_ok(const char *name)
{
	size_t i, n = strnlen(name, UI_NAME_MAX + 1);

	if (n == 0 || n > UI_NAME_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

int
ui_cluster_json(const char *name, const char *kubernetes_version,
		const char *time, struct buf *out)
{
	json_t *o;
	char *text = NULL;
	int r = -ENOMEM;

	o = json_pack("{s:o, s:o, s:s}", "name", str_or_null(name),
		      "kubernetes_version", str_or_null(kubernetes_version),
		      "time", time);
	if (o == NULL)
		return -ENOMEM;
	text = json_dumps(o, JSON_COMPACT);
	if (text != NULL)
		r = buf_puts(out, text);
	free(text);
	json_decref(o);
	return r;
}
