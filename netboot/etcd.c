/*
 * etcd.c - the etcd v3 JSON gateway's messages and the store's key
 * layout (see etcd.h). Pure.
 */
#include "etcd.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- base64 ------------------------------------------------------------ */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
etcd_b64_encode(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i, o = 0;
	char *out;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
			     p[i + 2];

		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int
b64_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64_alphabet, c);
	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/* Decode one group of four characters (pad: how many '=' end it). */
static int
b64_group(const char *s, size_t pad, uint8_t *out)
{
	uint32_t v = 0;
	size_t k;

	for (k = 0; k < 4; k++) {
		int d = k < 4 - pad ? b64_value(s[k]) : 0;

		if (d < 0 || (k >= 4 - pad && s[k] != '='))
			return -EBADMSG;
		v = v << 6 | (uint32_t)d;
	}
	/* Canonical: the bits the padding drops must be zero. */
	if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
		return -EBADMSG;
	out[0] = (uint8_t)(v >> 16);
	out[1] = (uint8_t)(v >> 8);
	out[2] = (uint8_t)v;
	return (int)(3 - pad);
}

int
etcd_b64_decode(const char *s, size_t len, size_t max, char **ret,
		size_t *ret_len)
{
	size_t i, o = 0, pad = 0;
	char *out;

	if (len % 4 != 0)
		return -EBADMSG;
	if (len / 4 * 3 > max + 2)
		return -E2BIG;
	if (len > 0)
		pad = s[len - 1] != '=' ? 0 : s[len - 2] != '=' ? 1 : 2;
	out = malloc(len / 4 * 3 + 1);
	if (out == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i += 4) {
		int r = b64_group(s + i, i + 4 == len ? pad : 0,
				  (uint8_t *)out + o);

		if (r < 0) {
			free(out);
			return r;
		}
		o += (size_t)r;
	}
	if (o > max) {
		free(out);
		return -E2BIG;
	}
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 0;
}

/* --- Keys -------------------------------------------------------------- */

static int
key_fmt(char *buf, size_t n, const char *prefix, const char *what,
	const char *rest, const char *tail)
{
	int w = snprintf(buf, n, "%s/" ETCD_LAYOUT_VERSION "/%s/%s%s", prefix,
			 what, rest, tail);

	return w < 0 || (size_t)w >= n || (size_t)w >= ETCD_KEY_MAX
		       ? -ENAMETOOLONG
		       : 0;
}

int
etcd_key_node(const char *prefix, const uint8_t mac[MAC_LEN], char *buf,
	      size_t n)
{
	char m[MAC_STR_LEN];

	mac_format(mac, m);
	return key_fmt(buf, n, prefix, "nodes", m, "");
}

int
etcd_key_served(const char *prefix, const uint8_t mac[MAC_LEN], int64_t armed,
		const char *payload, char *buf, size_t n)
{
	char m[MAC_STR_LEN], rest[MAC_STR_LEN + 24];

	mac_format(mac, m);
	snprintf(rest, sizeof(rest), "%s/%lld/", m, (long long)armed);
	return key_fmt(buf, n, prefix, "served", rest, payload);
}

int
etcd_key_server(const char *prefix, const char *id, char *buf, size_t n)
{
	return key_fmt(buf, n, prefix, "servers", id, "");
}

int
etcd_key_dir(const char *prefix, const char *what, char *buf, size_t n)
{
	return key_fmt(buf, n, prefix, what, "", "");
}

int
etcd_key_lease(const char *prefix, uint32_t ip, char *buf, size_t n)
{
	char a[IPV4_STR_LEN];

	ipv4_format(ip, a);
	return key_fmt(buf, n, prefix, "leases", a, "");
}

int
etcd_key_root(const char *prefix, char *buf, size_t n)
{
	int w = snprintf(buf, n, "%s/" ETCD_LAYOUT_VERSION "/", prefix);

	return w < 0 || (size_t)w >= n || (size_t)w >= ETCD_KEY_MAX
		       ? -ENAMETOOLONG
		       : 0;
}

int
etcd_key_lease_ip(const char *prefix, const char *key, size_t len,
		  uint32_t *ret_ip)
{
	char dir[ETCD_KEY_MAX], a[IPV4_STR_LEN];
	size_t dl;

	if (etcd_key_dir(prefix, "leases", dir, sizeof(dir)) < 0)
		return -EINVAL;
	dl = strlen(dir);
	if (len <= dl || len - dl >= sizeof(a) || memcmp(key, dir, dl) != 0)
		return -EINVAL;
	memcpy(a, key + dl, len - dl);
	a[len - dl] = '\0';
	return ipv4_parse(a, ret_ip) < 0 ? -EINVAL : 0;
}

int
etcd_key_node_mac(const char *prefix, const char *key, size_t len,
		  uint8_t ret_mac[MAC_LEN])
{
	char dir[ETCD_KEY_MAX], mac[MAC_STR_LEN];
	size_t dl;

	if (etcd_key_dir(prefix, "nodes", dir, sizeof(dir)) < 0)
		return -EINVAL;
	dl = strlen(dir);
	if (len != dl + MAC_STR_LEN - 1 || memcmp(key, dir, dl) != 0)
		return -EINVAL;
	memcpy(mac, key + dl, MAC_STR_LEN - 1);
	mac[MAC_STR_LEN - 1] = '\0';
	return mac_parse(mac, ret_mac) < 0 ? -EINVAL : 0;
}

/* --- Requests ---------------------------------------------------------- */

/* Dump o (taken) as compact JSON; NULL when o is NULL or out of memory. */
static char *
dump_take(json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

/* A base64 JSON string of len bytes (new reference, NULL: OOM). */
static json_t *
b64_json(const void *data, size_t len)
{
	char *s = etcd_b64_encode(data, len);
	json_t *j = s != NULL ? json_string(s) : NULL;

	free(s);
	return j;
}

/* An int64 as the gateway wants it: a decimal string. */
static json_t *
i64_json(int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	return json_string(s);
}

/* The range end of a prefix: the prefix with its last byte plus one. */
static json_t *
range_end_json(const char *dir)
{
	size_t len = strlen(dir);
	char end[ETCD_KEY_MAX];

	if (len == 0 || len >= sizeof(end) || (uint8_t)dir[len - 1] == 0xff)
		return NULL;
	memcpy(end, dir, len);
	end[len - 1] = (char)((uint8_t)end[len - 1] + 1);
	return b64_json(end, len);
}

char *
etcd_req_range_prefix(const char *dir)
{
	return dump_take(json_pack("{s:o, s:o}", "key",
				   b64_json(dir, strlen(dir)), "range_end",
				   range_end_json(dir)));
}

char *
etcd_req_cas(const char *key, const char *value, size_t len,
	     int64_t mod_revision)
{
	json_t *cmp;

	/* A key that does not exist has create_revision 0. */
	if (mod_revision == 0)
		cmp = json_pack("{s:o, s:s, s:s, s:o}", "key",
				b64_json(key, strlen(key)), "target", "CREATE",
				"result", "EQUAL", "create_revision",
				i64_json(0));
	else
		cmp = json_pack("{s:o, s:s, s:s, s:o}", "key",
				b64_json(key, strlen(key)), "target", "MOD",
				"result", "EQUAL", "mod_revision",
				i64_json(mod_revision));
	return dump_take(json_pack(
		"{s:[o], s:[{s:{s:o, s:o}}], s:[{s:{s:o}}]}", "compare", cmp,
		"success", "request_put", "key", b64_json(key, strlen(key)),
		"value", b64_json(value, len), "failure", "request_range",
		"key", b64_json(key, strlen(key))));
}

/* The compare of a CAS: mod_revision, or create_revision 0 when 0. */
static json_t *
cas_compare(const char *key, int64_t mod_revision)
{
	if (mod_revision == 0)
		return json_pack("{s:o, s:s, s:s, s:o}", "key",
				 b64_json(key, strlen(key)), "target", "CREATE",
				 "result", "EQUAL", "create_revision",
				 i64_json(0));
	return json_pack("{s:o, s:s, s:s, s:o}", "key",
			 b64_json(key, strlen(key)), "target", "MOD", "result",
			 "EQUAL", "mod_revision", i64_json(mod_revision));
}

/* Append one CAS of w to the three arrays of a txn. */
static int
cas_append(json_t *cmp, json_t *ok, json_t *bad, const struct etcd_write *w)
{
	const char *k = w->key;

	if (json_array_append_new(cmp, cas_compare(k, w->mod_revision)) < 0 ||
	    json_array_append_new(
		    ok, json_pack("{s:{s:o, s:o}}", "request_put", "key",
				  b64_json(k, strlen(k)), "value",
				  b64_json(w->value, w->len))) < 0 ||
	    json_array_append_new(bad,
				  json_pack("{s:{s:o}}", "request_range", "key",
					    b64_json(k, strlen(k)))) < 0)
		return -ENOMEM;
	return 0;
}

char *
etcd_req_cas_batch(const struct etcd_write *w, size_t n)
{
	json_t *cmp = json_array(), *ok = json_array(), *bad = json_array();
	size_t i;

	for (i = 0; i < n && cmp != NULL && ok != NULL && bad != NULL; i++)
		if (cas_append(cmp, ok, bad, &w[i]) < 0)
			break;
	if (cmp == NULL || ok == NULL || bad == NULL || i < n || n == 0) {
		json_decref(cmp);
		json_decref(ok);
		json_decref(bad);
		return NULL;
	}
	return dump_take(json_pack("{s:o, s:o, s:o}", "compare", cmp, "success",
				   ok, "failure", bad));
}

char *
etcd_req_delete_prefix(const char *dir)
{
	return dump_take(json_pack("{s:o, s:o}", "key",
				   b64_json(dir, strlen(dir)), "range_end",
				   range_end_json(dir)));
}

char *
etcd_req_put(const char *key, const char *value, size_t len, int64_t lease)
{
	json_t *o = json_pack("{s:o, s:o}", "key", b64_json(key, strlen(key)),
			      "value", b64_json(value, len));

	if (o != NULL && lease != 0 &&
	    json_object_set_new(o, "lease", i64_json(lease)) < 0) {
		json_decref(o);
		return NULL;
	}
	return dump_take(o);
}

char *
etcd_req_lease_grant(int64_t ttl)
{
	return dump_take(json_pack("{s:o}", "TTL", i64_json(ttl)));
}

char *
etcd_req_keepalive(int64_t id)
{
	return dump_take(json_pack("{s:o}", "ID", i64_json(id)));
}

char *
etcd_req_watch(const char *dir, int64_t start_revision)
{
	json_t *c = json_pack("{s:o, s:o}", "key", b64_json(dir, strlen(dir)),
			      "range_end", range_end_json(dir));

	if (c != NULL && start_revision > 0 &&
	    json_object_set_new(c, "start_revision", i64_json(start_revision)) <
		    0) {
		json_decref(c);
		return NULL;
	}
	return dump_take(json_pack("{s:o}", "create_request", c));
}

/* --- Responses --------------------------------------------------------- */

/*
 * An int64 field of o: absent is 0; a decimal string (how the gateway
 * writes int64) or a JSON integer. -EBADMSG for anything else.
 */
static int
get_i64(const json_t *o, const char *name, int64_t *ret)
{
	json_t *j = json_object_get(o, name);
	const char *s;
	long long v = 0;
	size_t i;

	if (j == NULL) {
		*ret = 0;
		return 0;
	}
	if (json_is_integer(j)) {
		*ret = (int64_t)json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -EBADMSG;
	s = json_string_value(j);
	i = s[0] == '-' ? 1 : 0;
	if (s[i] == '\0' || strlen(s) > 20 ||
	    json_string_length(j) != strlen(s))
		return -EBADMSG;
	for (; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    v > (INT64_MAX - (s[i] - '0')) / 10)
			return -EBADMSG;
		v = v * 10 + (s[i] - '0');
	}
	*ret = s[0] == '-' ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* A boolean field: absent is false. */
static int
get_bool(const json_t *o, const char *name, bool *ret)
{
	json_t *j = json_object_get(o, name);

	if (j != NULL && !json_is_boolean(j))
		return -EBADMSG;
	*ret = json_is_true(j);
	return 0;
}

/* A base64 field (absent: empty) decoded into a new buffer. */
static int
get_b64(const json_t *o, const char *name, size_t max, char **ret,
	size_t *ret_len)
{
	json_t *j = json_object_get(o, name);

	if (j == NULL)
		return etcd_b64_decode("", 0, max, ret, ret_len);
	if (!json_is_string(j))
		return -EBADMSG;
	return etcd_b64_decode(json_string_value(j), json_string_length(j), max,
			       ret, ret_len);
}

void
etcd_kv_done(struct etcd_kv *kv)
{
	if (kv == NULL)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void
etcd_kvs_done(struct etcd_kvs *kvs)
{
	size_t i;

	if (kvs == NULL)
		return;
	for (i = 0; i < kvs->n; i++)
		etcd_kv_done(&kvs->v[i]);
	free(kvs->v);
	free(kvs->deleted);
	memset(kvs, 0, sizeof(*kvs));
}

/* One mvccpb.KeyValue object into *ret. */
static int
kv_parse(const json_t *o, struct etcd_kv *ret)
{
	struct etcd_kv kv;
	int r;

	memset(&kv, 0, sizeof(kv));
	if (!json_is_object(o))
		return -EBADMSG;
	r = get_b64(o, "key", ETCD_KEY_MAX, &kv.key, &kv.key_len);
	if (r == 0 && (kv.key_len == 0 || strlen(kv.key) != kv.key_len))
		r = -EBADMSG;
	if (r == 0)
		r = get_b64(o, "value", ETCD_VALUE_MAX, &kv.value,
			    &kv.value_len);
	if (r == 0)
		r = get_i64(o, "create_revision", &kv.create_revision);
	if (r == 0)
		r = get_i64(o, "mod_revision", &kv.mod_revision);
	if (r == 0)
		r = get_i64(o, "version", &kv.version);
	if (r == 0)
		r = get_i64(o, "lease", &kv.lease);
	if (r == 0 &&
	    (kv.create_revision < 0 || kv.mod_revision < 0 || kv.version < 0))
		r = -EBADMSG;
	if (r < 0) {
		etcd_kv_done(&kv);
		return r;
	}
	*ret = kv;
	return 0;
}

/* Load text as a JSON object; NULL when it is not one. */
static json_t *
load_object(const char *text, size_t len)
{
	json_error_t jerr;
	json_t *o;

	if (len > ETCD_RESPONSE_MAX)
		return NULL;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The header's revision: required in every response we parse. */
static int
header_rev(const json_t *o, int64_t *ret)
{
	json_t *h = json_object_get(o, "header");

	if (!json_is_object(h) || get_i64(h, "revision", ret) < 0 || *ret < 0)
		return -EBADMSG;
	return 0;
}

/* The array kvs (absent: none) into ret->v. */
static int
kvs_fill(const json_t *arr, struct etcd_kvs *ret)
{
	size_t i, n;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return -EBADMSG;
	n = json_array_size(arr);
	if (n > ETCD_KVS_MAX)
		return -E2BIG;
	ret->v = calloc(n ? n : 1, sizeof(*ret->v));
	if (ret->v == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		int r = kv_parse(json_array_get(arr, i), &ret->v[i]);

		if (r < 0)
			return r;
		ret->n++;
	}
	return 0;
}

int
etcd_parse_range(const char *text, size_t len, struct etcd_kvs *ret)
{
	json_t *o = load_object(text, len);
	struct etcd_kvs kvs;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (o == NULL)
		return -EBADMSG;
	memset(&kvs, 0, sizeof(kvs));
	r = header_rev(o, &kvs.revision);
	if (r == 0)
		r = get_bool(o, "more", &kvs.more);
	if (r == 0)
		r = kvs_fill(json_object_get(o, "kvs"), &kvs);
	json_decref(o);
	if (r < 0) {
		etcd_kvs_done(&kvs);
		return r;
	}
	*ret = kvs;
	return 0;
}

/*
 * The key in a failed CAS's response_range into *holder (zeroed: the key
 * is gone), its mod_revision into *ret.
 */
static int
txn_failure_kv(const json_t *o, int64_t *ret, struct etcd_kv *holder)
{
	json_t *resp = json_object_get(o, "responses");
	json_t *rr = json_object_get(json_array_get(resp, 0), "response_range");
	json_t *kvs = json_object_get(rr, "kvs");
	int r;

	*ret = 0;
	memset(holder, 0, sizeof(*holder));
	if (!json_is_array(resp) || json_array_size(resp) != 1 ||
	    !json_is_object(rr) || (kvs != NULL && !json_is_array(kvs)))
		return -EBADMSG;
	if (json_array_size(kvs) == 0)
		return 0;
	if (json_array_size(kvs) != 1)
		return -EBADMSG;
	r = kv_parse(json_array_get(kvs, 0), holder);
	if (r < 0)
		return r;
	*ret = holder->mod_revision;
	return 0;
}

int
etcd_parse_txn_kv(const char *text, size_t len, bool *ret_ok, int64_t *ret_rev,
		  struct etcd_kv *ret_holder)
{
	json_t *o = load_object(text, len);
	int64_t rev = 0;
	bool ok = false;
	int r;

	memset(ret_holder, 0, sizeof(*ret_holder));
	if (o == NULL)
		return -EBADMSG;
	r = header_rev(o, &rev);
	if (r == 0)
		r = get_bool(o, "succeeded", &ok);
	/* Succeeded: the put's revision is the header's. */
	if (r == 0 && !ok)
		r = txn_failure_kv(o, &rev, ret_holder);
	json_decref(o);
	if (r < 0)
		return r;
	*ret_ok = ok;
	*ret_rev = rev;
	return 0;
}

int
etcd_parse_txn(const char *text, size_t len, bool *ret_ok, int64_t *ret_rev)
{
	struct etcd_kv kv;
	int r = etcd_parse_txn_kv(text, len, ret_ok, ret_rev, &kv);

	etcd_kv_done(&kv);
	return r;
}

int
etcd_parse_txn_batch(const char *text, size_t len, size_t n, bool *ret_ok,
		     int64_t *ret_revs)
{
	json_t *o = load_object(text, len), *resp;
	int64_t rev = 0;
	bool ok = false;
	size_t i;
	int r;

	if (o == NULL)
		return -EBADMSG;
	r = header_rev(o, &rev);
	if (r == 0)
		r = get_bool(o, "succeeded", &ok);
	resp = json_object_get(o, "responses");
	if (r == 0 && !ok &&
	    (!json_is_array(resp) || json_array_size(resp) != n))
		r = -EBADMSG;
	for (i = 0; i < n && r == 0; i++) {
		json_t *one = json_array_get(resp, i);
		json_t *rr = json_object_get(one, "response_range");
		json_t *kvs = json_object_get(rr, "kvs");
		struct etcd_kv kv;

		ret_revs[i] = rev; /* succeeded: every put is at the header's */
		if (ok)
			continue;
		ret_revs[i] = 0;
		if (!json_is_object(rr) ||
		    (kvs != NULL && !json_is_array(kvs)) ||
		    json_array_size(kvs) > 1)
			r = -EBADMSG;
		else if (json_array_size(kvs) == 1 &&
			 (r = kv_parse(json_array_get(kvs, 0), &kv)) == 0) {
			ret_revs[i] = kv.mod_revision;
			etcd_kv_done(&kv);
		}
	}
	json_decref(o);
	if (r == 0)
		*ret_ok = ok;
	return r;
}

int
etcd_parse_header(const char *text, size_t len, int64_t *ret_rev)
{
	json_t *o = load_object(text, len);
	int64_t rev = 0;
	int r;

	if (o == NULL)
		return -EBADMSG;
	r = header_rev(o, &rev);
	json_decref(o);
	if (r < 0)
		return r;
	*ret_rev = rev;
	return 0;
}

int
etcd_parse_lease(const char *text, size_t len, int64_t *ret_id,
		 int64_t *ret_ttl)
{
	json_t *o = load_object(text, len);
	json_t *res;
	int64_t id = 0, ttl = 0;
	int r = -EBADMSG;

	if (o == NULL)
		return -EBADMSG;
	/* keepalive answers {"result": {...}}, grant the object itself. */
	res = json_object_get(o, "result");
	if (res == NULL)
		res = o;
	if (json_is_object(res) && get_i64(res, "ID", &id) == 0 &&
	    get_i64(res, "TTL", &ttl) == 0 && id != 0)
		r = 0;
	json_decref(o);
	if (r < 0)
		return r;
	*ret_id = id;
	*ret_ttl = ttl;
	return 0;
}

/* The events of a watch result into ret (v and deleted). */
static int
watch_events(const json_t *evs, struct etcd_kvs *ret)
{
	size_t i, n;

	if (evs == NULL)
		return 0;
	if (!json_is_array(evs))
		return -EBADMSG;
	n = json_array_size(evs);
	if (n > ETCD_EVENTS_MAX)
		return -E2BIG;
	ret->v = calloc(n ? n : 1, sizeof(*ret->v));
	ret->deleted = calloc(n ? n : 1, sizeof(*ret->deleted));
	if (ret->v == NULL || ret->deleted == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		json_t *ev = json_array_get(evs, i);
		json_t *type = json_object_get(ev, "type");
		int r;

		if (!json_is_object(ev) ||
		    (type != NULL && !json_is_string(type)))
			return -EBADMSG;
		if (type != NULL &&
		    strcmp(json_string_value(type), "PUT") != 0 &&
		    strcmp(json_string_value(type), "DELETE") != 0)
			return -EBADMSG;
		r = kv_parse(json_object_get(ev, "kv"), &ret->v[i]);
		if (r < 0)
			return r;
		ret->deleted[i] =
			type != NULL &&
			strcmp(json_string_value(type), "DELETE") == 0;
		ret->n++;
	}
	return 0;
}

int
etcd_parse_watch(const char *text, size_t len, struct etcd_kvs *ret)
{
	json_t *o = load_object(text, len);
	json_t *res = json_object_get(o, "result");
	struct etcd_kvs kvs;
	int r = -EBADMSG;

	memset(ret, 0, sizeof(*ret));
	memset(&kvs, 0, sizeof(kvs));
	if (json_is_object(res))
		r = header_rev(res, &kvs.revision);
	if (r == 0)
		r = get_bool(res, "created", &kvs.created);
	if (r == 0)
		r = get_bool(res, "canceled", &kvs.canceled);
	if (r == 0)
		r = get_i64(res, "compact_revision", &kvs.compact);
	if (r == 0)
		r = watch_events(json_object_get(res, "events"), &kvs);
	json_decref(o);
	if (r < 0) {
		etcd_kvs_done(&kvs);
		return r;
	}
	*ret = kvs;
	return 0;
}

int
etcd_parse_error(const char *text, size_t len, char *msg, size_t n)
{
	json_t *o = load_object(text, len);
	json_t *e = json_object_get(o, "error");
	const char *s;
	size_t i, k = 0;

	if (o == NULL || !json_is_string(e) || n == 0) {
		json_decref(o);
		return -ENOENT;
	}
	s = json_string_value(e);
	for (i = 0; s[i] != '\0' && k + 1 < n; i++)
		msg[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	msg[k] = '\0';
	json_decref(o);
	return 0;
}

/* --- Lease values -------------------------------------------------------- */

char *
etcd_lease_format(const struct etcd_lease *l)
{
	char m[MAC_STR_LEN];

	mac_format(l->mac, m);
	return dump_take(json_pack("{s:s,s:s,s:I,s:s}", "mac", m, "state",
				   l->state, "expires", (json_int_t)l->expires,
				   "server", l->server));
}

/* Copy a printable ASCII string member into buf (n bytes). */
static int
get_token(const json_t *o, const char *name, char *buf, size_t n, bool required)
{
	const json_t *j = json_object_get(o, name);
	const char *v;
	size_t i, len;

	if (j == NULL && !required) {
		buf[0] = '\0';
		return 0;
	}
	if (!json_is_string(j))
		return -EBADMSG;
	v = json_string_value(j);
	len = json_string_length(j);
	if ((len == 0 && required) || len >= n)
		return -EBADMSG;
	for (i = 0; i < len; i++)
		if (v[i] < 0x21 || v[i] > 0x7e)
			return -EBADMSG;
	memcpy(buf, v, len + 1);
	return 0;
}

int
etcd_lease_parse(const char *text, size_t len, struct etcd_lease *ret)
{
	json_t *o = load_object(text, len);
	char m[MAC_STR_LEN + 1];
	const json_t *e;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (o == NULL)
		return -EBADMSG;
	e = json_object_get(o, "expires");
	r = get_token(o, "mac", m, sizeof(m), true);
	if (r == 0 && mac_parse(m, ret->mac) < 0)
		r = -EBADMSG;
	if (r == 0)
		r = get_token(o, "state", ret->state, sizeof(ret->state), true);
	if (r == 0)
		r = get_token(o, "server", ret->server, sizeof(ret->server),
			      false);
	if (r == 0 && (!json_is_integer(e) || json_integer_value(e) < 0))
		r = -EBADMSG;
	if (r == 0)
		ret->expires = (int64_t)json_integer_value(e);
	json_decref(o);
	if (r < 0)
		memset(ret, 0, sizeof(*ret));
	return r;
}

bool
etcd_lease_claimable(const struct etcd_lease *holder,
		     const uint8_t mac[MAC_LEN], int64_t now)
{
	return memcmp(holder->mac, mac, MAC_LEN) == 0 || holder->expires <= now;
}
