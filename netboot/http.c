/* http.c - routing, Range, conditional requests and dates; pure. */
#include "http.h"

#include "num.h"
#include "ui.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
http_pct_decode(const char *in, size_t len, char *out, size_t outsz,
		size_t *ret_len)
{
	size_t i, o = 0;

	if (outsz == 0)
		return -ENAMETOOLONG;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\0')
			return -EINVAL;
		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -EINVAL;
			hi = hexval((unsigned char)in[i + 1]);
			lo = hexval((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0')
				return -EINVAL;
			i += 2;
		}
		if (o + 1 >= outsz)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*ret_len = o;
	return 0;
}

/* True when s starts with prefix; *rest points after it. */
static bool
eat(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

/*
 * Read a MAC of exactly MAC_STR_LEN - 1 bytes at s into mac; on success
 * *rest points after it.
 */
static int
eat_mac(const char *s, uint8_t mac[MAC_LEN], const char **rest)
{
	char tmp[MAC_STR_LEN];

	if (strnlen(s, MAC_STR_LEN - 1) < MAC_STR_LEN - 1)
		return -ENOENT;
	memcpy(tmp, s, MAC_STR_LEN - 1);
	tmp[MAC_STR_LEN - 1] = '\0';
	if (mac_parse(tmp, mac) < 0)
		return -ENOENT;
	*rest = s + MAC_STR_LEN - 1;
	return 0;
}

static int
route_node(enum http_method method, const char *p, struct http_route *rt)
{
	const char *rest = NULL;

	if (eat_mac(p, rt->mac, &rest) < 0 || *rest != '/')
		return -ENOENT;
	rest++;
	if (strcmp(rest, "firstboot") == 0) {
		rt->kind = HTTP_ROUTE_NODE_FIRSTBOOT;
	} else if (strcmp(rest, "secrets") == 0) {
		rt->kind = HTTP_ROUTE_NODE_SECRETS;
	} else if (strcmp(rest, "events") == 0) {
		rt->kind = HTTP_ROUTE_NODE_EVENTS;
		return method == HTTP_POST ? 0 : -EOPNOTSUPP;
	} else if (strcmp(rest, "rearm") == 0) {
		rt->kind = HTTP_ROUTE_NODE_REARM;
		return method == HTTP_POST ? 0 : -EOPNOTSUPP;
	} else if (eat(rest, "cloud-init/", &rest) &&
		   (strcmp(rest, "user-data") == 0 ||
		    strcmp(rest, "meta-data") == 0 ||
		    strcmp(rest, "network-config") == 0)) {
		rt->kind = HTTP_ROUTE_NODE_CLOUDINIT;
		if ((size_t)snprintf(rt->path, sizeof(rt->path), "%s", rest) >=
		    sizeof(rt->path))
			return -ENOENT;
	} else {
		return -ENOENT;
	}
	return method == HTTP_GET || method == HTTP_HEAD ? 0 : -EOPNOTSUPP;
}

/*
 * The fleet page and its API: "/", "/ui", "/ui/" (the page),
 * "/ui/NAME" (its files), "/v1/events" and "/v1/cluster". 0 or -ENOENT.
 */
static int
route_ui(const char *p, struct http_route *rt)
{
	const char *rest = NULL;

	if (strcmp(p, "/") == 0 || strcmp(p, "/ui") == 0 ||
	    strcmp(p, "/ui/") == 0) {
		rt->kind = HTTP_ROUTE_UI;
		snprintf(rt->path, sizeof(rt->path), "%s", UI_INDEX);
	} else if (eat(p, "/ui/", &rest) && ui_name_ok(rest)) {
		/* At most UI_NAME_MAX bytes: ui_name_ok checked. */
		_Static_assert(UI_NAME_MAX < sizeof(rt->path), "UI_NAME_MAX");
		rt->kind = HTTP_ROUTE_UI;
		memcpy(rt->path, rest, strlen(rest) + 1);
	} else if (strcmp(p, "/v1/events") == 0) {
		rt->kind = HTTP_ROUTE_EVENTS;
	} else if (strcmp(p, "/v1/cluster") == 0) {
		rt->kind = HTTP_ROUTE_CLUSTER;
	} else if (strcmp(p, "/v1/servers") == 0) {
		rt->kind = HTTP_ROUTE_SERVERS;
	} else {
		return -ENOENT;
	}
	return 0;
}

/*
 * Collapse runs of '/' in s to one and drop leading ones, in place.
 * Returns the new length.
 */
static size_t
merge_slashes(char *s)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] != '/' || (o > 0 && s[o - 1] != '/'))
			s[o++] = s[i];
	s[o] = '\0';
	return o;
}

int
http_route(enum http_method method, const char *target, size_t len,
	   struct http_route *ret)
{
	char dec[PATH_REQ_MAX + 64];
	const char *rest = NULL;
	size_t plen = 0, dlen = 0;
	struct http_route rt;
	bool get;
	int r;

	if (target == NULL || len == 0)
		return -EINVAL;
	if (len > HTTP_TARGET_MAX)
		return -ENAMETOOLONG;
	/* absolute-form (RFC 9112 3.2.2): the authority is ignored. */
	if ((len > 7 && strncasecmp(target, "http://", 7) == 0) ||
	    (len > 8 && strncasecmp(target, "https://", 8) == 0)) {
		const char *auth = memchr(target, '/', len) + 2;
		const char *slash =
			memchr(auth, '/', len - (size_t)(auth - target));

		if (slash == NULL)
			return -ENOENT; /* "http://host": the root */
		len -= (size_t)(slash - target);
		target = slash;
	}
	if (target[0] != '/')
		return -EINVAL;
	while (plen < len && target[plen] != '?' && target[plen] != '#')
		plen++;
	r = http_pct_decode(target, plen, dec, sizeof(dec), &dlen);
	if (r < 0)
		return r;
	memset(&rt, 0, sizeof(rt));
	get = method == HTTP_GET || method == HTTP_HEAD;
	if (eat(dec, "/files/", &rest)) {
		size_t n = merge_slashes((char *)rest);

		/* Backslashes are separators to some clients: never a name. */
		if (memchr(rest, '\\', n) != NULL)
			return -EINVAL;
		r = path_check_rel(rest, n);
		if (r < 0)
			return r;
		rt.kind = HTTP_ROUTE_FILE;
		memcpy(rt.path, rest, n + 1);
		if (!get)
			return -EOPNOTSUPP;
	} else if (eat(dec, "/boot/", &rest)) {
		if (eat_mac(rest, rt.mac, &rest) < 0 ||
		    strcmp(rest, ".ipxe") != 0)
			return -ENOENT;
		rt.kind = HTTP_ROUTE_BOOT;
		if (!get)
			return -EOPNOTSUPP;
	} else if (strcmp(dec, "/v1/nodes") == 0 ||
		   strcmp(dec, "/v1/nodes/") == 0) {
		rt.kind = HTTP_ROUTE_NODES;
		if (!get)
			return -EOPNOTSUPP;
	} else if (eat(dec, "/v1/nodes/", &rest)) {
		r = route_node(method, rest, &rt);
		if (r < 0)
			return r;
	} else if (strcmp(dec, "/metrics") == 0) {
		rt.kind = HTTP_ROUTE_METRICS;
		if (!get)
			return -EOPNOTSUPP;
	} else {
		r = route_ui(dec, &rt);
		if (r < 0)
			return r;
		if (!get)
			return -EOPNOTSUPP;
	}
	*ret = rt;
	return 0;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int
http_range_parse(const char *hdr, size_t len, uint64_t size,
		 struct http_range *ret)
{
	const char *p, *end, *dash;
	uint64_t a = 0, b = 0;
	bool has_a, has_b;

	if (hdr == NULL || len < 6 || strncasecmp(hdr, "bytes=", 6) != 0)
		return -ENOENT;
	p = hdr + 6;
	end = hdr + len;
	while (p < end && is_ows(*p))
		p++;
	while (end > p && is_ows(end[-1]))
		end--;
	if (memchr(p, ',', (size_t)(end - p)) != NULL)
		return -ENOENT; /* several ranges: send it all */
	dash = memchr(p, '-', (size_t)(end - p));
	if (dash == NULL)
		return -ENOENT;
	has_a = dash > p;
	has_b = dash + 1 < end;
	if (!has_a && !has_b)
		return -ENOENT;
	/* num_parse_u64n refuses signs, spaces and trailing bytes. */
	if (has_a &&
	    num_parse_u64n(p, (size_t)(dash - p), 0, UINT64_MAX, &a) < 0)
		return -ENOENT;
	if (has_b && num_parse_u64n(dash + 1, (size_t)(end - dash - 1), 0,
				    UINT64_MAX, &b) < 0)
		return -ENOENT;
	if (!has_a) {
		/* Suffix range "-n": the last n bytes. */
		if (b == 0 || size == 0)
			return -ERANGE;
		ret->first = b >= size ? 0 : size - b;
		ret->last = size - 1;
		return 0;
	}
	if (has_b && b < a)
		return -ENOENT; /* invalid: ignored, RFC 9110 14.1.1 */
	if (a >= size)
		return -ERANGE;
	ret->first = a;
	ret->last = !has_b || b >= size ? size - 1 : b;
	return 0;
}

void
http_etag_format(char buf[HTTP_ETAG_LEN], uint64_t size, int64_t sec, long nsec,
		 uint64_t ino)
{
	snprintf(buf, HTTP_ETAG_LEN, "\"%llx-%llx-%lx-%llx\"",
		 (unsigned long long)size, (unsigned long long)sec,
		 (unsigned long)nsec, (unsigned long long)ino);
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed",
				     "Thu", "Fri", "Sat" };
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

void
http_date_format(time_t t, char buf[HTTP_DATE_LEN])
{
	struct tm tm;
	int w;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, HTTP_DATE_LEN, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	w = snprintf(buf, HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		     wdays[tm.tm_wday % 7], tm.tm_mday % 100,
		     months[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000,
		     tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
	if (w < 0 || w >= HTTP_DATE_LEN)
		snprintf(buf, HTTP_DATE_LEN, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
two_digits(const char *s, int max, int *ret)
{
	return num_parse_int((char[]){ s[0], s[1], '\0' }, 0, max, ret);
}

int
http_date_parse(const char *s, time_t *ret)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };
	int day, year, hh, mm, ss, mon = -1, i;
	uint64_t y64;

	/* "Sun, 06 Nov 1994 08:49:37 GMT": 29 bytes, fixed positions. */
	if (s == NULL || strlen(s) != HTTP_DATE_LEN - 1)
		return -EINVAL;
	for (i = 0; i < 7; i++)
		if (strncmp(s, wdays[i], 3) == 0)
			break;
	if (i == 7 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    strcmp(s + 25, " GMT") != 0)
		return -EINVAL;
	for (i = 0; i < 12; i++)
		if (strncmp(s + 8, months[i], 3) == 0)
			mon = i;
	if (mon < 0 || two_digits(s + 5, 31, &day) < 0 || day < 1 ||
	    num_parse_u64n(s + 12, 4, 1970, 9999, &y64) < 0 ||
	    two_digits(s + 17, 23, &hh) < 0 ||
	    two_digits(s + 20, 59, &mm) < 0 || two_digits(s + 23, 60, &ss) < 0)
		return -EINVAL;
	year = (int)y64;
	if ((unsigned)day > mdays[mon])
		return -EINVAL;
	*ret = (time_t)(days_from_civil(year, (unsigned)mon + 1,
					(unsigned)day) *
				86400 +
			hh * 3600 + mm * 60 + ss);
	return 0;
}

/*
 * Does the comma-separated entity-tag list match etag? weak: W/ prefixes
 * are ignored on both sides (If-None-Match); otherwise a weak tag never
 * matches.
 */
static bool
etag_list_match(const char *list, const char *etag, bool weak)
{
	const char *p = list, *tag = etag;
	size_t tlen;

	if (weak && strncmp(tag, "W/", 2) == 0)
		tag += 2;
	tlen = strlen(tag);
	while (*p != '\0') {
		const char *start, *q;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return true;
		start = p;
		if (strncmp(p, "W/", 2) == 0) {
			if (!weak) {
				p += 2;
				start = NULL;
			} else {
				start = p + 2;
			}
			p += 2;
		}
		if (*p != '"')
			return false; /* malformed list: no match */
		q = strchr(p + 1, '"');
		if (q == NULL)
			return false;
		if (start != NULL && (size_t)(q + 1 - start) == tlen &&
		    memcmp(start, tag, tlen) == 0)
			return true;
		p = q + 1;
	}
	return false;
}

bool
http_not_modified(const char *if_none_match, const char *if_modified_since,
		  const char *etag, time_t mtime)
{
	time_t since;

	if (if_none_match != NULL)
		return etag_list_match(if_none_match, etag, true);
	if (if_modified_since != NULL &&
	    http_date_parse(if_modified_since, &since) == 0)
		return mtime <= since;
	return false;
}

bool
http_if_range_ok(const char *if_range, const char *etag, time_t mtime)
{
	time_t t;

	if (if_range == NULL)
		return true;
	if (if_range[0] == '"')
		return strcmp(if_range, etag) == 0;
	if (http_date_parse(if_range, &t) == 0)
		return t == mtime;
	return false;
}

int
http_status_for_errno(int r)
{
	switch (r) {
	case 0:
		return 200;
	case -EINVAL:
	case -EBADMSG:
		return 400;
	case -EACCES:
	case -EPERM:
	case -EXDEV:
	case -ELOOP:
		return 403;
	case -ENOENT:
	case -EISDIR:
	case -ENOTDIR:
		return 404;
	case -EOPNOTSUPP:
		return 405;
	case -ESTALE:
		return 410;
	case -EFBIG:
	case -E2BIG:
		return 413;
	case -ENAMETOOLONG:
		return 414;
	case -ERANGE:
		return 416;
	case -EBUSY:
	case -EAGAIN:
		return 503;
	default:
		return 500;
	}
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 410:
		return "Gone";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

void
http_escape(const char *s, size_t len, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (outsz < 4) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need =
			c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? 1 : 4;

		/* Keep room for "..." and the NUL. */
		if (o + need + 4 > outsz) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

enum http_method
http_method_parse(const char *s)
{
	if (s == NULL)
		return HTTP_OTHER;
	if (strcmp(s, "GET") == 0)
		return HTTP_GET;
	if (strcmp(s, "HEAD") == 0)
		return HTTP_HEAD;
	if (strcmp(s, "POST") == 0)
		return HTTP_POST;
	return HTTP_OTHER;
}
