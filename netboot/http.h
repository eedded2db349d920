/*
 * http.h - the pure half of metalboot-netboot's HTTP server: request
 * routing, percent-decoding with path safety, Range parsing (RFC 9110
 * section 14), conditional-request decisions (section 13), HTTP dates,
 * the errno-to-status mapping and escaping of peer strings for logs.
 * No sockets, no files, no logging: http_io.c does the I/O.
 */
#ifndef MB_HTTP_H
#define MB_HTTP_H

#include "net.h"
#include "path.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Limits on what a peer may send or hold (each also a flag in main.c). */
#define HTTP_HEADER_MAX		8192  /* request line plus header bytes */
#define HTTP_BODY_MAX		16384 /* request body bytes (events) */
#define HTTP_CONN_MAX		1024  /* open connections, all peers */
#define HTTP_CONN_PER_IP_MAX	32    /* open connections from one address */
#define HTTP_IDLE_TIMEOUT	30 /* seconds without progress on a read/write */
#define HTTP_HEADER_TIMEOUT	10   /* seconds for a whole request to arrive */
#define HTTP_TARGET_MAX		2048 /* request-target bytes before decoding */
#define HTTP_DATE_LEN		30   /* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL */
#define HTTP_ETAG_LEN		64   /* quoted entity tag + NUL */
#define HTTP_CLOUDINIT_NAME_MAX 16   /* "network-config" + NUL */

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_OTHER,
};

enum http_route_kind {
	HTTP_ROUTE_FILE,	   /* /files/PATH */
	HTTP_ROUTE_BOOT,	   /* /boot/MAC.ipxe */
	HTTP_ROUTE_NODE_FIRSTBOOT, /* /v1/nodes/MAC/firstboot */
	HTTP_ROUTE_NODE_CLOUDINIT, /* /v1/nodes/MAC/cloud-init/NAME */
	HTTP_ROUTE_NODE_SECRETS,   /* /v1/nodes/MAC/secrets (HTTPS only) */
	HTTP_ROUTE_NODE_EVENTS,	   /* POST /v1/nodes/MAC/events */
	HTTP_ROUTE_NODE_REARM,	   /* POST /v1/nodes/MAC/rearm */
	HTTP_ROUTE_NODES,	   /* /v1/nodes */
	HTTP_ROUTE_METRICS,	   /* /metrics */
	HTTP_ROUTE_UI,		   /* /, /ui, /ui/, /ui/NAME: the fleet page */
	HTTP_ROUTE_EVENTS,	   /* GET /v1/events: the page's stream */
	HTTP_ROUTE_CLUSTER,	   /* /v1/cluster: name, version, time */
	HTTP_ROUTE_SERVERS,	   /* /v1/servers: live servers (store.etcd) */
};

struct http_route {
	enum http_route_kind kind;
	uint8_t mac[MAC_LEN]; /* BOOT and NODE_* */
	/*
	 * FILE: the decoded path relative to the served root, checked with
	 * path_check_rel. NODE_CLOUDINIT: "user-data", "meta-data" or
	 * "network-config". UI: the page's file, "index.html" for the
	 * page itself (ui_name_ok holds).
	 */
	char path[PATH_REQ_MAX + 1];
};

/* A satisfiable byte range, both ends inclusive. */
struct http_range {
	uint64_t first, last;
};

/*
 * Route a request. target is the request-target exactly as received
 * (len bytes, need not be NUL-terminated); a query string is ignored. The
 * path is percent-decoded once, then matched; in a file path runs of '/'
 * count as one (shim asks for "/files/secureboot//grubx64.efi", and
 * nginx's merge_slashes does the same), then it must pass path_check_rel
 * and hold no backslash.
 * Returns 0 and fills *ret, or
 *   -EINVAL	   malformed target or encoding, or an unsafe path (400)
 *   -ENAMETOOLONG the target or the decoded path is too long (414)
 *   -ENOENT	   no such resource (404)
 *   -EOPNOTSUPP   the resource exists but not for this method (405)
 */
int http_route(enum http_method method, const char *target, size_t len,
	       struct http_route *ret);

/*
 * Percent-decode len bytes at in into out (outsz bytes, NUL-terminated).
 * "+" is not a space in a path. Returns 0 and *ret_len, -EINVAL for a
 * truncated or non-hex escape or an encoded NUL, -ENAMETOOLONG when out is
 * too small. out is unspecified on failure.
 */
int http_pct_decode(const char *in, size_t len, char *out, size_t outsz,
		    size_t *ret_len);

/*
 * Parse a Range header value (len bytes) against a representation of
 * size bytes. Only a single "bytes=" range is honoured.
 * Returns 0 and *ret for a satisfiable range, -ENOENT when the header is
 * to be ignored and the whole body sent (malformed, not "bytes", several
 * ranges: RFC 9110 14.2 lets a server ignore them), or -ERANGE when it is
 * unsatisfiable (416).
 */
int http_range_parse(const char *hdr, size_t len, uint64_t size,
		     struct http_range *ret);

/*
 * Format the entity tag of a file from its size, modification time and
 * inode into buf (HTTP_ETAG_LEN bytes), quotes included.
 */
void http_etag_format(char buf[HTTP_ETAG_LEN], uint64_t size, int64_t sec,
		      long nsec, uint64_t ino);

/* Format t as an IMF-fixdate into buf (HTTP_DATE_LEN bytes). */
void http_date_format(time_t t, char buf[HTTP_DATE_LEN]);

/*
 * Parse an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). The obsolete
 * RFC 850 and asctime forms are refused (a conditional header we cannot
 * read is ignored, which is always safe). 0 and *ret, or -EINVAL.
 */
int http_date_parse(const char *s, time_t *ret);

/*
 * Decide a conditional GET or HEAD (RFC 9110 13.2.2): If-None-Match (weak
 * comparison against etag, "*" matches) wins over If-Modified-Since, which
 * compares whole seconds with mtime. Either header may be NULL. True when
 * the answer is 304 Not Modified.
 */
bool http_not_modified(const char *if_none_match, const char *if_modified_since,
		       const char *etag, time_t mtime);

/*
 * If-Range (RFC 9110 13.1.5): true when the Range header should be
 * honoured, i.e. if_range is NULL, or is our strong etag, or is a date
 * equal to mtime.
 */
bool http_if_range_ok(const char *if_range, const char *etag, time_t mtime);

/* Map a negative errno from routing or serving to an HTTP status. */
int http_status_for_errno(int r);

/* The reason phrase for a status we send ("OK", "Not Found", ...). */
const char *http_reason(int status);

/*
 * Copy len bytes of a peer string into out (outsz >= 4 bytes) for a log
 * line: printable ASCII but '"' and '\\' as is, everything else as \xHH;
 * cut with "..." when it does not fit. Always NUL-terminates.
 */
void http_escape(const char *s, size_t len, char *out, size_t outsz);

/* Parse a method name ("GET", "HEAD", "POST"); anything else HTTP_OTHER. */
enum http_method http_method_parse(const char *s);

#endif
