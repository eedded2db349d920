/*
 * ui.h - the fleet page (netboot/ui/): its files, embedded in the binary
 * at build time (netboot/ui/embed.cmake writes ui_assets.c), and the
 * small documents only the page needs. Pure; no I/O, no logging.
 */
#ifndef MB_UI_H
#define MB_UI_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define UI_NAME_MAX    64  /* bytes in an asset name */
#define UI_CLUSTER_MAX 512 /* bytes of GET /v1/cluster */
#define UI_INDEX       "index.html"

/* One embedded file of netboot/ui/. */
struct ui_asset {
	const char *name; /* "index.html", "app.js", ... */
	const unsigned char *data;
	size_t len;
	const char *etag; /* quoted: 16 hex digits of the SHA-256 */
};

/* The table ui_assets.c defines, sorted by name. */
extern const struct ui_asset ui_assets[];
extern const size_t ui_nassets;

/* The asset called name, or NULL. */
const struct ui_asset *ui_asset_find(const char *name);

/*
 * The Content-Type of an asset from its name's extension: HTML, CSS,
 * JavaScript, SVG and JSON as UTF-8 text; anything else
 * application/octet-stream.
 */
const char *ui_content_type(const char *name);

/*
 * Is name a plain asset name: 1..UI_NAME_MAX bytes of [a-z0-9._-], not
 * starting with a dot?
 */
int ui_name_ok(const char *name);

/*
 * Append the GET /v1/cluster document:
 * {"name":"lab","kubernetes_version":"v1.30.2","time":"RFC 3339"}
 * with null for a name or version the configuration lacks; time is the
 * server's clock (nodes_time_format), so that the page shows durations
 * in the server's terms whatever the browser's clock says.
 * 0, -E2BIG or -ENOMEM.
 */
int ui_cluster_json(const char *name, const char *kubernetes_version,
		    const char *time, struct buf *out);

#endif
