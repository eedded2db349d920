/*
 * fuzz_netboot_etcd.c - the etcd v3 gateway's responses (etcd.h) on
 * arbitrary bytes: range, txn, header, lease, watch and error parsers,
 * and base64. Invariants: a refusal is one of the documented codes and
 * leaves nothing to free; an accepted response has NUL-terminated keys
 * within ETCD_KEY_MAX without an inner NUL, values within ETCD_VALUE_MAX,
 * non-negative revisions; a decoded base64 string encodes back to itself.
 */
#include "etcd.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_kvs(int r, const struct etcd_kvs *kvs)
{
	size_t i;

	if (r < 0) {
		if ((r != -EBADMSG && r != -E2BIG && r != -ENOMEM) ||
		    kvs->n != 0 || kvs->v != NULL)
			abort();
		return;
	}
	for (i = 0; i < kvs->n; i++) {
		const struct etcd_kv *kv = &kvs->v[i];

		if (kv->key_len == 0 || kv->key_len > ETCD_KEY_MAX ||
		    strlen(kv->key) != kv->key_len ||
		    kv->value_len > ETCD_VALUE_MAX ||
		    kv->value[kv->value_len] != '\0' || kv->mod_revision < 0 ||
		    kv->create_revision < 0)
			abort();
	}
	if (kvs->revision < 0)
		abort();
}

static void
check_b64(const char *s, size_t len)
{
	char *out = NULL, *back;
	size_t n = 0;

	if (etcd_b64_decode(s, len, 4096, &out, &n) < 0)
		return;
	back = etcd_b64_encode(out, n);
	if (back == NULL || strlen(back) != len || memcmp(back, s, len) != 0)
		abort();
	free(back);
	free(out);
}

/* A lease value: parsed fields within bounds, and a round trip. */
static void
check_lease(const char *s, size_t len)
{
	struct etcd_lease l, back;
	char *text;

	if (etcd_lease_parse(s, len, &l) < 0)
		return;
	if (l.expires < 0 || strlen(l.state) == 0 ||
	    strlen(l.state) >= sizeof(l.state) ||
	    strlen(l.server) >= sizeof(l.server))
		abort();
	text = etcd_lease_format(&l);
	if (text == NULL || etcd_lease_parse(text, strlen(text), &back) < 0 ||
	    memcmp(&l, &back, sizeof(l)) != 0)
		abort();
	free(text);
}

/* A txn's holder: a parsed kv or none. */
static void
check_txn_kv(const char *s, size_t len)
{
	struct etcd_kv kv;
	int64_t rev = 0;
	bool ok = false;

	if (etcd_parse_txn_kv(s, len, &ok, &rev, &kv) == 0 &&
	    (rev < 0 || (ok && kv.key != NULL) ||
	     (kv.key != NULL && strlen(kv.key) != kv.key_len)))
		abort();
	etcd_kv_done(&kv);
}

/* A batch txn's response, for 1..4 writes: revisions never negative. */
static void
check_batch(const char *s, size_t len)
{
	int64_t revs[4];
	bool ok = false;
	size_t n, i;

	for (n = 1; n <= 4; n++)
		if (etcd_parse_txn_batch(s, len, n, &ok, revs) == 0)
			for (i = 0; i < n; i++)
				if (revs[i] < 0)
					abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct etcd_kvs kvs;
	int64_t a = 0, b = 0;
	bool ok = false;
	char msg[64];
	int r;

	r = etcd_parse_range(s, size, &kvs);
	check_kvs(r, &kvs);
	etcd_kvs_done(&kvs);
	r = etcd_parse_watch(s, size, &kvs);
	check_kvs(r, &kvs);
	etcd_kvs_done(&kvs);
	r = etcd_parse_txn(s, size, &ok, &b);
	if (r == 0 && b < 0)
		abort();
	(void)etcd_parse_header(s, size, &a);
	(void)etcd_parse_lease(s, size, &a, &b);
	if (etcd_parse_error(s, size, msg, sizeof(msg)) == 0 &&
	    strlen(msg) >= sizeof(msg))
		abort();
	check_b64(s, size);
	check_lease(s, size);
	check_txn_kv(s, size);
	check_batch(s, size);
	return 0;
}
