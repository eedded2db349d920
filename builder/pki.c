/* pki.c - certificates and join secrets with OpenSSL (see pki.h). */
#include "pki.h"

#include "buf.h"
#include "fsutil.h"
#include "num.h"
#include "tree.h"
#include "yemit.h"

#include <errno.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PKI_SERIAL_BYTES 16
#define PKI_SAN_MAX	 4096

static const char token_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* ---- secrets ----------------------------------------------------------- */

/*
 * Fill n characters from [a-z0-9] with RAND_bytes, rejecting bytes at or
 * above 252 (7 * 36) so that every character is equally likely.
 */
static int
rand_chars(char *out, size_t n)
{
	unsigned char b[64];
	size_t o = 0, i;

	while (o < n) {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -EIO;
		for (i = 0; i < sizeof(b) && o < n; i++)
			if (b[i] < 252)
				out[o++] = token_chars[b[i] % 36];
	}
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

/* A new bootstrap token. */
int
pki_token_new(char ret[PKI_TOKEN_LEN + 1])
{
	char t[PKI_TOKEN_LEN + 1];
	int r;

	r = rand_chars(t, 6);
	if (r == 0)
		r = rand_chars(t + 7, 16);
	if (r < 0)
		return r;
	t[6] = '.';
	t[PKI_TOKEN_LEN] = '\0';
	memcpy(ret, t, sizeof(t));
	OPENSSL_cleanse(t, sizeof(t));
	return 0;
}

static bool
all_of(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return false;
	return true;
}

/* True for [a-z0-9]{6}.[a-z0-9]{16}. */
bool
pki_token_valid(const char *s)
{
	return strlen(s) == PKI_TOKEN_LEN && all_of(s, 6, token_chars) &&
	       s[6] == '.' && all_of(s + 7, 16, token_chars);
}

/* 32 random bytes as hex. */
int
pki_cert_key_new(char ret[PKI_CERT_KEY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[PKI_CERT_KEY_LEN / 2];
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	for (i = 0; i < sizeof(b); i++) {
		ret[2 * i] = hex[b[i] >> 4];
		ret[2 * i + 1] = hex[b[i] & 15];
	}
	ret[PKI_CERT_KEY_LEN] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

/* True for 64 lowercase hex digits. */
bool
pki_cert_key_valid(const char *s)
{
	return strlen(s) == PKI_CERT_KEY_LEN &&
	       all_of(s, PKI_CERT_KEY_LEN, "0123456789abcdef");
}

/* keepalived's VRRP password. */
int
pki_vrrp_pass_new(char ret[PKI_VRRP_PASS_LEN + 1])
{
	int r = rand_chars(ret, PKI_VRRP_PASS_LEN);

	ret[PKI_VRRP_PASS_LEN] = '\0';
	return r;
}

/* True for [a-z0-9]{8}. */
bool
pki_vrrp_pass_valid(const char *s)
{
	return strlen(s) == PKI_VRRP_PASS_LEN &&
	       all_of(s, PKI_VRRP_PASS_LEN, token_chars);
}

/* kubeadm's pin over the DER SubjectPublicKeyInfo. */
int
pki_discovery_hash(X509 *cert, char ret[PKI_HASH_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_DIGEST_LENGTH];
	unsigned char *der = NULL;
	X509_PUBKEY *pk;
	int len, i;

	pk = X509_get_X509_PUBKEY(cert);
	if (pk == NULL)
		return -EINVAL;
	len = i2d_X509_PUBKEY(pk, &der);
	if (len <= 0)
		return -ENOMEM;
	SHA256(der, (size_t)len, d);
	OPENSSL_free(der);
	memcpy(ret, "sha256:", 7);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		ret[7 + 2 * i] = hex[d[i] >> 4];
		ret[7 + 2 * i + 1] = hex[d[i] & 15];
	}
	ret[7 + 2 * SHA256_DIGEST_LENGTH] = '\0';
	return 0;
}

/* ---- PEM --------------------------------------------------------------- */

static char *
bio_take(BIO *bio)
{
	char *data = NULL, *s;
	long n;

	n = BIO_get_mem_data(bio, &data);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

static char *
cert_to_pem(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (bio != NULL && PEM_write_bio_X509(bio, x))
		s = bio_take(bio);
	BIO_free(bio);
	return s;
}

/* The key as PKCS#8 PEM, through a memory BIO that is wiped on free. */
static char *
key_to_pem(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *s = NULL;

	if (bio != NULL &&
	    PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL))
		s = bio_take(bio);
	BIO_free(bio);
	return s;
}

static char *
pub_to_pem(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (bio != NULL && PEM_write_bio_PUBKEY(bio, k))
		s = bio_take(bio);
	BIO_free(bio);
	return s;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* Free a pair, wiping its key. */
void
pki_pair_done(struct pki_pair *pp)
{
	X509_free(pp->cert);
	EVP_PKEY_free(pp->key);
	free(pp->cert_pem);
	free_secret(pp->key_pem);
	memset(pp, 0, sizeof(*pp));
}

/* ---- generation -------------------------------------------------------- */

static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (ext == NULL)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

static int
set_serial(X509 *x)
{
	unsigned char b[PKI_SERIAL_BYTES];
	BIGNUM *bn;
	int r = 0;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	b[0] &= 0x7f; /* positive */
	b[0] |= 0x01; /* and never shorter than its size */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (bn == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		r = -ENOMEM;
	BN_free(bn);
	return r;
}

static int
san_string(struct buf *b, const char *const *dns, size_t ndns,
	   const uint32_t *ips, size_t nips)
{
	size_t i;
	int r = 0;

	for (i = 0; i < ndns && r == 0; i++)
		r = buf_printf(b, "%sDNS:%s", b->len ? "," : "", dns[i]);
	for (i = 0; i < nips && r == 0; i++) {
		char ip[IPV4_STR_LEN];

		ipv4_format(ips[i], ip);
		r = buf_printf(b, "%sIP:%s", b->len ? "," : "", ip);
	}
	return r;
}

/* Generate a key and a certificate signed by issuer (or self). */
int
pki_pair_new(const char *cn, const char *org, const char *usage,
	     const struct pki_pair *issuer, const char *const *dns, size_t ndns,
	     const uint32_t *ips, size_t nips, time_t now, long days,
	     struct pki_pair *ret)
{
	struct pki_pair pp = { 0 };
	X509_NAME *name = NULL;
	X509V3_CTX ctx;
	struct buf san;
	bool ca = strcmp(usage, "ca") == 0;
	int r = -ENOMEM;

	buf_init(&san, PKI_SAN_MAX);
	pp.key = EVP_EC_gen("P-256");
	pp.cert = X509_new();
	name = X509_NAME_new();
	if (pp.key == NULL || pp.cert == NULL || name == NULL)
		goto out;
	if (org != NULL &&
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					(const unsigned char *)org, -1, -1, 0))
		goto out;
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		goto out;
	if (!X509_set_version(pp.cert, 2) ||
	    !X509_set_subject_name(pp.cert, name) ||
	    !X509_set_issuer_name(pp.cert,
				  issuer ? X509_get_subject_name(issuer->cert)
					 : name) ||
	    !X509_set_pubkey(pp.cert, pp.key))
		goto out;
	r = set_serial(pp.cert);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (ASN1_TIME_set(X509_getm_notBefore(pp.cert), now - PKI_BACKDATE) ==
		    NULL ||
	    ASN1_TIME_adj(X509_getm_notAfter(pp.cert), now, (int)days, 0) ==
		    NULL)
		goto out;
	/* A leaf never outlives its issuer: it would not verify anyway. */
	if (issuer != NULL &&
	    ASN1_TIME_compare(X509_get0_notAfter(issuer->cert),
			      X509_get0_notAfter(pp.cert)) < 0 &&
	    !X509_set1_notAfter(pp.cert, X509_get0_notAfter(issuer->cert)))
		goto out;
	X509V3_set_ctx(&ctx, issuer ? issuer->cert : pp.cert, pp.cert, NULL,
		       NULL, 0);
	r = add_ext(pp.cert, &ctx, NID_subject_key_identifier, "hash");
	if (r == 0 && issuer != NULL)
		r = add_ext(pp.cert, &ctx, NID_authority_key_identifier,
			    "keyid:always");
	if (r == 0 && ca)
		r = add_ext(pp.cert, &ctx, NID_basic_constraints,
			    "critical,CA:TRUE");
	if (r == 0 && ca)
		r = add_ext(pp.cert, &ctx, NID_key_usage,
			    "critical,digitalSignature,keyEncipherment,"
			    "keyCertSign");
	if (r == 0 && !ca)
		r = add_ext(pp.cert, &ctx, NID_basic_constraints,
			    "critical,CA:FALSE");
	if (r == 0 && !ca)
		r = add_ext(pp.cert, &ctx, NID_key_usage,
			    "critical,digitalSignature,keyEncipherment");
	if (r == 0 && !ca)
		r = add_ext(pp.cert, &ctx, NID_ext_key_usage,
			    strcmp(usage, "server") == 0   ? "serverAuth"
			    : strcmp(usage, "client") == 0 ? "clientAuth"
							   : "serverAuth,"
							     "clientAuth");
	if (r == 0 && ndns + nips > 0) {
		r = san_string(&san, dns, ndns, ips, nips);
		if (r == 0)
			r = add_ext(pp.cert, &ctx, NID_subject_alt_name,
				    san.data);
	}
	if (r < 0)
		goto out;
	r = -EIO;
	if (!X509_sign(pp.cert, issuer ? issuer->key : pp.key, EVP_sha256()))
		goto out;
	r = -ENOMEM;
	pp.cert_pem = cert_to_pem(pp.cert);
	pp.key_pem = key_to_pem(pp.key);
	if (pp.cert_pem == NULL || pp.key_pem == NULL)
		goto out;
	*ret = pp;
	memset(&pp, 0, sizeof(pp));
	r = 0;
out:
	ERR_clear_error();
	X509_NAME_free(name);
	buf_done(&san);
	pki_pair_done(&pp);
	return r;
}

/* ---- loading ------------------------------------------------------------ */

static int
read_opt(const char *dir, const char *rel, char **ret)
{
	char path[PATH_MAX];
	size_t len;
	int n, r;

	*ret = NULL;
	if (dir == NULL)
		return 0;
	n = snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_file(path, PKI_MAX_PEM, ret, &len);
	if (r == -ENOENT)
		return 0;
	return r;
}

/*
 * When the token in old expires: secrets/bootstrap-token.expires (seconds
 * since the epoch), else the token file's mtime plus ttl (an OUT from
 * before that file), else now plus ttl.
 */
static time_t
token_expires(const char *old, time_t now, uint64_t ttl)
{
	char path[PATH_MAX], *s = NULL;
	struct stat st;
	uint64_t v;
	time_t t = now;

	if (read_opt(old, "secrets/bootstrap-token.expires", &s) == 0 &&
	    s != NULL) {
		size_t len = strcspn(s, "\n");
		int r = num_parse_u64n(s, len, 1, INT64_MAX, &v);

		free(s);
		if (r == 0)
			return (time_t)v;
	}
	snprintf(path, sizeof(path), "%s/secrets/bootstrap-token", old);
	if (stat(path, &st) == 0)
		t = st.st_mtime;
	return t + (time_t)ttl;
}

enum load_state {
	LOAD_ABSENT,
	LOAD_OK,
};

/*
 * Parse pp's cert_pem and key_pem into cert and key. True when they are a
 * certificate and its private key.
 */
static bool
pair_parse(struct pki_pair *pp)
{
	BIO *bio;

	bio = BIO_new_mem_buf(pp->cert_pem, -1);
	if (bio != NULL)
		pp->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	bio = BIO_new_mem_buf(pp->key_pem, -1);
	if (bio != NULL)
		pp->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return pp->cert != NULL && pp->key != NULL &&
	       X509_check_private_key(pp->cert, pp->key) == 1;
}

/*
 * Load pki/NAME.crt and pki/NAME.key from old. Both absent: LOAD_ABSENT.
 * Anything else but a matching pair is an error named in d.
 */
static int
load_pair(const char *old, const char *name, struct pki_pair *ret,
	  struct diags *d, enum load_state *state)
{
	char crel[PATH_MAX], krel[PATH_MAX];
	struct pki_pair pp = { 0 };
	int r;

	*state = LOAD_ABSENT;
	snprintf(crel, sizeof(crel), "pki/%s.crt", name);
	snprintf(krel, sizeof(krel), "pki/%s.key", name);
	r = read_opt(old, crel, &pp.cert_pem);
	if (r == 0)
		r = read_opt(old, krel, &pp.key_pem);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, old, 0, 0, "cannot read %s: %s", crel,
			  strerror(-r));
		goto out;
	}
	if (pp.cert_pem == NULL && pp.key_pem == NULL)
		goto out;
	if (pp.cert_pem == NULL || pp.key_pem == NULL) {
		diags_add(d, DIAG_ERROR, old, 0, 0,
			  "%s has only one of %s and %s (restore the other or "
			  "rebuild with --rotate)",
			  old, crel, krel);
		r = -EINVAL;
		goto out;
	}
	if (!pair_parse(&pp)) {
		diags_add(d, DIAG_ERROR, old, 0, 0,
			  "%s and %s are not a certificate and its key "
			  "(rebuild with --rotate)",
			  crel, krel);
		r = -EINVAL;
		goto out;
	}
	*ret = pp;
	memset(&pp, 0, sizeof(pp));
	*state = LOAD_OK;
	r = 0;
out:
	ERR_clear_error();
	pki_pair_done(&pp);
	return r;
}

/* Reuse a CA from old when present, else create it. */
static int
ca_prepare(const char *old, const char *name, const char *cn, time_t now,
	   struct pki_pair *ret, bool *created, struct diags *d)
{
	enum load_state st;
	int r;

	r = load_pair(old, name, ret, d, &st);
	if (r < 0 || st == LOAD_OK)
		return r;
	*created = true;
	return pki_pair_new(cn, NULL, "ca", NULL, NULL, 0, NULL, 0, now,
			    PKI_CA_DAYS, ret);
}

/*
 * True when a loaded leaf is still good: signed by ca, names every DNS
 * name and IP asked for, not expiring within the margin.
 */
static bool
leaf_ok(const struct pki_pair *pp, const struct pki_pair *ca,
	const char *const *dns, size_t ndns, const uint32_t *ips, size_t nips,
	time_t now)
{
	time_t limit = now + PKI_RENEW_MARGIN;
	size_t i;

	if (X509_check_issued(ca->cert, pp->cert) != X509_V_OK ||
	    X509_verify(pp->cert, ca->key) != 1 ||
	    X509_cmp_time(X509_get0_notAfter(pp->cert), &limit) <= 0)
		goto bad;
	for (i = 0; i < ndns; i++)
		if (X509_check_host(pp->cert, dns[i], 0, 0, NULL) != 1)
			goto bad;
	for (i = 0; i < nips; i++) {
		char ip[IPV4_STR_LEN];

		ipv4_format(ips[i], ip);
		if (X509_check_ip_asc(pp->cert, ip, 0) != 1)
			goto bad;
	}
	return true;
bad:
	ERR_clear_error();
	return false;
}

static int
leaf_prepare(const char *old, const char *name, const char *cn, const char *org,
	     const char *usage, const struct pki_pair *ca,
	     const char *const *dns, size_t ndns, const uint32_t *ips,
	     size_t nips, time_t now, struct pki_pair *ret, bool *created,
	     struct diags *d)
{
	enum load_state st;
	int r;

	r = load_pair(old, name, ret, d, &st);
	if (r < 0)
		return r;
	if (st == LOAD_OK) {
		if (leaf_ok(ret, ca, dns, ndns, ips, nips, now))
			return 0;
		pki_pair_done(ret);
	}
	*created = true;
	return pki_pair_new(cn, org, usage, ca, dns, ndns, ips, nips, now,
			    PKI_LEAF_DAYS, ret);
}

static int
secret_prepare(const char *old, const char *rel, char *out, size_t outsz,
	       bool (*valid)(const char *), struct diags *d)
{
	char *s = NULL;
	size_t len;
	int r;

	r = read_opt(old, rel, &s);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, old, 0, 0, "cannot read %s: %s", rel,
			  strerror(-r));
		return r;
	}
	if (s == NULL)
		return 1;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	if (!valid(s) || len >= outsz) {
		diags_add(d, DIAG_ERROR, old, 0, 0,
			  "%s is malformed (remove it or rebuild with "
			  "--rotate)",
			  rel);
		free_secret(s);
		return -EINVAL;
	}
	memcpy(out, s, len + 1);
	free_secret(s);
	return 0;
}

/* ---- the provisioning etcd ------------------------------------------- */

const char *
pki_store_ca_file(const struct inventory *inv)
{
	const struct inv_prov_etcd *e = &inv->provisioning.etcd;

	if (!e->set)
		return NULL;
	switch (e->mode) {
	case PROV_ETCD_CA:
		return "pki/" PKI_STORE_EXT_CA ".crt";
	case PROV_ETCD_CLUSTER:
		return "pki/etcd/ca.crt";
	default:
		return "pki/" PKI_STORE_OWN_CA ".crt";
	}
}

/*
 * provisioning.etcd's ca and ca_key: a CA certificate and its key, or an
 * error at ca's line. Neither file's content is ever put in a message.
 */
static int
ext_ca_load(const struct inventory *inv, struct pki_pair *ret, struct diags *d)
{
	const struct inv_prov_etcd *e = &inv->provisioning.etcd;
	struct pki_pair pp = { 0 };
	const char *bad = e->ca;
	size_t len;
	int r;

	r = read_file(e->ca, PKI_MAX_PEM, &pp.cert_pem, &len);
	if (r == 0) {
		bad = e->ca_key;
		r = read_file(e->ca_key, PKI_MAX_PEM, &pp.key_pem, &len);
	}
	if (r < 0) {
		diags_add(d, DIAG_ERROR, inv->file, e->ca_line, e->ca_col,
			  "provisioning.etcd: cannot read %s: %s", bad,
			  r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
		r = r == -ENOMEM ? r : -EINVAL;
	} else if (!pair_parse(&pp) || X509_check_ca(pp.cert) != 1) {
		diags_add(d, DIAG_ERROR, inv->file, e->ca_line, e->ca_col,
			  "provisioning.etcd: %s and %s are not a CA "
			  "certificate and its key (PEM)",
			  e->ca, e->ca_key);
		r = -EINVAL;
	} else {
		*ret = pp;
		memset(&pp, 0, sizeof(pp));
	}
	ERR_clear_error();
	pki_pair_done(&pp);
	return r;
}

/*
 * A member's server and peer certificate: serverAuth and clientAuth, for
 * its endpoint host and for localhost and 127.0.0.1 (etcdctl on the
 * member itself).
 */
static int
member_prepare(const char *old, const char *host, const struct pki_pair *ca,
	       time_t now, struct pki_pair *ret, bool *created, struct diags *d)
{
	const char *dns[2] = { host, "localhost" };
	uint32_t ips[2] = { 0, 0x7f000001 };
	size_t ndns = 2, nips = 1;
	char name[PATH_MAX];

	if (ipv4_parse(host, &ips[0]) == 0) {
		dns[0] = "localhost";
		ndns = 1;
		nips = 2;
	} else {
		ips[0] = 0x7f000001;
	}
	snprintf(name, sizeof(name), "%s%s", PKI_STORE_MEMBER, host);
	return leaf_prepare(old, name, host, NULL, "peer", ca, dns, ndns, ips,
			    nips, now, ret, created, d);
}

static int
members_prepare(struct pki *p, const struct inventory *inv, const char *old,
		time_t now, struct diags *d)
{
	const struct strlist *h = &inv->provisioning.etcd.hosts;
	size_t i;
	int r = 0;

	p->store_members = calloc(h->n ? h->n : 1, sizeof(*p->store_members));
	if (p->store_members == NULL)
		return -ENOMEM;
	p->nstore_members = h->n;
	for (i = 0; i < h->n && r == 0; i++)
		r = member_prepare(old, h->v[i], &p->store_ca, now,
				   &p->store_members[i], &p->created, d);
	return r;
}

/*
 * provisioning.etcd: its CA by mode and netboot's client certificate. The
 * dedicated CA, once made, is kept whatever the mode (members may still
 * run on its certificates), as every other CA is.
 */
static int
store_prepare(struct pki *p, const struct inventory *inv, const char *old,
	      time_t now, struct diags *d)
{
	const struct inv_prov_etcd *e = &inv->provisioning.etcd;
	const struct pki_pair *ca = &p->store_ca;
	enum load_state st;
	int r;

	if (e->set && e->mode == PROV_ETCD_OWN)
		r = ca_prepare(old, PKI_STORE_OWN_CA,
			       "metalboot-provisioning-etcd-ca", now,
			       &p->store_ca, &p->created, d);
	else
		r = load_pair(old, PKI_STORE_OWN_CA, &p->store_ca, d, &st);
	if (r < 0 || !e->set)
		return r;
	if (e->mode == PROV_ETCD_CA) {
		r = ext_ca_load(inv, &p->store_ext_ca, d);
		ca = &p->store_ext_ca;
	} else if (e->mode == PROV_ETCD_CLUSTER) {
		ca = &p->etcd_ca;
	}
	if (r == 0)
		r = leaf_prepare(old, PKI_STORE_CLIENT, PKI_STORE_CN, NULL,
				 "client", ca, NULL, 0, NULL, 0, now,
				 &p->store_client, &p->created, d);
	if (r == 0 && e->mode == PROV_ETCD_OWN)
		r = members_prepare(p, inv, old, now, d);
	return r;
}

/* Fill p: reuse from old_dir, generate the rest. */
int
pki_prepare(struct pki *p, const struct inventory *inv, const char *old_dir,
	    bool rotate, time_t now, struct diags *d)
{
	const char *old = rotate ? NULL : old_dir;
	const char *localhost[2] = { NULL, "localhost" };
	uint32_t ips[2];
	size_t i;
	int r;

	memset(p, 0, sizeof(*p));
	r = ca_prepare(old, "ca", "kubernetes", now, &p->ca, &p->created, d);
	if (r == 0)
		r = ca_prepare(old, "front-proxy-ca", "front-proxy-ca", now,
			       &p->front_proxy_ca, &p->created, d);
	if (r == 0)
		r = ca_prepare(old, "etcd/ca", "etcd-ca", now, &p->etcd_ca,
			       &p->created, d);
	if (r == 0)
		r = ca_prepare(old, "provisioning-ca",
			       "metalboot-provisioning-ca", now, &p->prov_ca,
			       &p->created, d);
	if (r < 0)
		goto out;

	/* The service-account key pair: a key without a certificate. */
	r = read_opt(old, "pki/sa.key", &p->sa_key_pem);
	if (r < 0)
		goto out;
	{
		EVP_PKEY *k = NULL;
		BIO *bio;

		if (p->sa_key_pem != NULL) {
			bio = BIO_new_mem_buf(p->sa_key_pem, -1);
			if (bio != NULL)
				k = PEM_read_bio_PrivateKey(bio, NULL, NULL,
							    NULL);
			BIO_free(bio);
			if (k == NULL) {
				diags_add(d, DIAG_ERROR, old, 0, 0,
					  "pki/sa.key is not a private key "
					  "(rebuild with --rotate)");
				r = -EINVAL;
				goto out;
			}
		} else {
			k = EVP_EC_gen("P-256");
			p->sa_key_pem = k ? key_to_pem(k) : NULL;
			p->created = true;
		}
		p->sa_pub_pem = k ? pub_to_pem(k) : NULL;
		EVP_PKEY_free(k);
		ERR_clear_error();
		if (p->sa_key_pem == NULL || p->sa_pub_pem == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}

	ips[0] = inv->network.server_ip;
	r = leaf_prepare(old, "netboot", "metalboot-netboot", NULL, "server",
			 &p->prov_ca, NULL, 0, ips, 1, now, &p->netboot,
			 &p->created, d);
	if (r < 0)
		goto out;

	if (inv->cluster.etcd == ETCD_EXTERNAL) {
		r = leaf_prepare(old, "apiserver-etcd-client",
				 "kube-apiserver-etcd-client", NULL, "client",
				 &p->etcd_ca, NULL, 0, NULL, 0, now,
				 &p->etcd_client, &p->created, d);
		if (r < 0)
			goto out;
		p->etcd_server = calloc(inv->nnodes, sizeof(*p->etcd_server));
		p->etcd_peer = calloc(inv->nnodes, sizeof(*p->etcd_peer));
		if (p->etcd_server == NULL || p->etcd_peer == NULL) {
			r = -ENOMEM;
			goto out;
		}
		p->nnodes = inv->nnodes;
		for (i = 0; i < inv->nnodes; i++) {
			const struct inv_node *n = &inv->nodes[i];
			char name[PATH_MAX];

			if (n->role != ROLE_ETCD)
				continue;
			localhost[0] = n->name;
			ips[0] = n->ip;
			ips[1] = 0x7f000001; /* 127.0.0.1 */
			snprintf(name, sizeof(name), "etcd/%s/server", n->name);
			r = leaf_prepare(old, name, n->name, NULL, "peer",
					 &p->etcd_ca, localhost, 2, ips, 2, now,
					 &p->etcd_server[i], &p->created, d);
			if (r < 0)
				goto out;
			snprintf(name, sizeof(name), "etcd/%s/peer", n->name);
			r = leaf_prepare(old, name, n->name, NULL, "peer",
					 &p->etcd_ca, localhost, 2, ips, 2, now,
					 &p->etcd_peer[i], &p->created, d);
			if (r < 0)
				goto out;
		}
	}

	r = store_prepare(p, inv, old, now, d);
	if (r < 0)
		goto out;

	r = secret_prepare(old, "secrets/bootstrap-token", p->token,
			   sizeof(p->token), pki_token_valid, d);
	if (r == 1) {
		p->created = true;
		p->token_expires = now + (time_t)inv->cluster.token_ttl;
		r = pki_token_new(p->token);
	} else if (r == 0)
		p->token_expires =
			token_expires(old, now, inv->cluster.token_ttl);
	if (r < 0)
		goto out;
	r = secret_prepare(old, "secrets/certificate-key", p->cert_key,
			   sizeof(p->cert_key), pki_cert_key_valid, d);
	if (r == 1) {
		p->created = true;
		r = pki_cert_key_new(p->cert_key);
	}
	if (r < 0)
		goto out;
	if (inv->cluster.vip.set) {
		r = secret_prepare(old, "secrets/vrrp-auth-pass", p->vrrp_pass,
				   sizeof(p->vrrp_pass), pki_vrrp_pass_valid,
				   d);
		if (r == 1) {
			p->created = true;
			r = pki_vrrp_pass_new(p->vrrp_pass);
		}
		if (r < 0)
			goto out;
	}
	r = pki_discovery_hash(p->ca.cert, p->discovery_hash);
out:
	if (r < 0)
		pki_done(p);
	return r;
}

static int
write_pair(struct tree *t, const char *name, const struct pki_pair *pp)
{
	char rel[PATH_MAX];
	int r;

	snprintf(rel, sizeof(rel), "pki/%s.crt", name);
	r = tree_write(t, rel, pp->cert_pem, strlen(pp->cert_pem), 0644, false);
	if (r < 0)
		return r;
	snprintf(rel, sizeof(rel), "pki/%s.key", name);
	return tree_write(t, rel, pp->key_pem, strlen(pp->key_pem), 0600,
			  false);
}

int
pki_token_renew(struct pki *p, time_t now, uint64_t ttl)
{
	int r = pki_token_new(p->token);

	if (r == 0)
		p->token_expires = now + (time_t)ttl;
	return r;
}

int
pki_token_secret(const struct pki *p, struct buf *out)
{
	char id[7], name[32], exp[32];
	time_t at = p->token_expires;
	struct tm tm;
	struct yemit *y;
	int r;

	memcpy(id, p->token, 6);
	id[6] = '\0';
	snprintf(name, sizeof(name), "bootstrap-token-%s", id);
	gmtime_r(&at, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	y = yemit_new(out);
	if (y == NULL)
		return -ENOMEM;
	yemit_map_start(y, false);
	yemit_kv_str(y, "apiVersion", "v1");
	yemit_kv_str(y, "kind", "Secret");
	yemit_str(y, "metadata");
	yemit_map_start(y, false);
	yemit_kv_str(y, "name", name);
	yemit_kv_str(y, "namespace", "kube-system");
	yemit_map_end(y);
	yemit_kv_str(y, "type", "bootstrap.kubernetes.io/token");
	yemit_str(y, "stringData");
	yemit_map_start(y, false);
	yemit_kv_str(y, "description",
		     "metalboot: for nodes added after the first boot");
	yemit_kv_str(y, "token-id", id);
	yemit_kv_str(y, "token-secret", p->token + 7);
	yemit_kv_str(y, "expiration", exp);
	yemit_kv_str(y, "usage-bootstrap-authentication", "true");
	yemit_kv_str(y, "usage-bootstrap-signing", "true");
	yemit_kv_str(y, "auth-extra-groups",
		     "system:bootstrappers:kubeadm:default-node-token");
	yemit_map_end(y);
	yemit_map_end(y);
	r = yemit_finish(y);
	yemit_free(y);
	return r;
}

/*
 * Beside secrets/bootstrap-token: when it expires, and the Secret that
 * creates it in a running cluster (0600: it holds the token).
 */
static int
write_token_extras(struct tree *t, const struct pki *p)
{
	char line[32];
	struct buf b;
	int r;

	snprintf(line, sizeof(line), "%lld\n", (long long)p->token_expires);
	r = tree_write(t, "secrets/bootstrap-token.expires", line, strlen(line),
		       0600, false);
	if (r < 0)
		return r;
	buf_init(&b, 4096);
	r = pki_token_secret(p, &b);
	if (r == 0)
		r = tree_write(t, "secrets/bootstrap-token.yaml", b.data, b.len,
			       0600, false);
	buf_done_secure(&b);
	return r;
}

/* provisioning.etcd's files: never the key of an existing CA. */
static int
write_store(struct tree *t, const struct pki *p, const struct inventory *inv)
{
	const struct inv_prov_etcd *e = &inv->provisioning.etcd;
	char name[PATH_MAX];
	size_t i;
	int r = 0;

	if (p->store_ca.cert != NULL)
		r = write_pair(t, PKI_STORE_OWN_CA, &p->store_ca);
	if (r == 0 && p->store_client.cert != NULL)
		r = write_pair(t, PKI_STORE_CLIENT, &p->store_client);
	if (r == 0 && p->store_ext_ca.cert != NULL)
		r = tree_write(t, "pki/" PKI_STORE_EXT_CA ".crt",
			       p->store_ext_ca.cert_pem,
			       strlen(p->store_ext_ca.cert_pem), 0644, false);
	for (i = 0; r == 0 && i < p->nstore_members; i++) {
		snprintf(name, sizeof(name), "%s%s", PKI_STORE_MEMBER,
			 e->hosts.v[i]);
		r = write_pair(t, name, &p->store_members[i]);
	}
	return r;
}

/* Write pki/ and secrets/ under dir. */
int
pki_write(const struct pki *p, const struct inventory *inv, const char *dir)
{
	struct tree t;
	char line[PKI_CERT_KEY_LEN + 2];
	size_t i;
	int r;

	r = tree_open(&t, dir);
	if (r < 0)
		return r;
	r = write_pair(&t, "ca", &p->ca);
	if (r == 0)
		r = write_pair(&t, "front-proxy-ca", &p->front_proxy_ca);
	if (r == 0)
		r = write_pair(&t, "etcd/ca", &p->etcd_ca);
	if (r == 0)
		r = write_pair(&t, "provisioning-ca", &p->prov_ca);
	if (r == 0)
		r = write_pair(&t, "netboot", &p->netboot);
	if (r == 0)
		r = tree_write(&t, "pki/sa.key", p->sa_key_pem,
			       strlen(p->sa_key_pem), 0600, false);
	if (r == 0)
		r = tree_write(&t, "pki/sa.pub", p->sa_pub_pem,
			       strlen(p->sa_pub_pem), 0644, false);
	if (r == 0 && p->etcd_client.cert != NULL)
		r = write_pair(&t, "apiserver-etcd-client", &p->etcd_client);
	if (r == 0)
		r = write_store(&t, p, inv);
	for (i = 0; r == 0 && i < p->nnodes; i++) {
		char name[PATH_MAX];

		if (p->etcd_server[i].cert == NULL)
			continue;
		snprintf(name, sizeof(name), "etcd/%s/server",
			 inv->nodes[i].name);
		r = write_pair(&t, name, &p->etcd_server[i]);
		snprintf(name, sizeof(name), "etcd/%s/peer",
			 inv->nodes[i].name);
		if (r == 0)
			r = write_pair(&t, name, &p->etcd_peer[i]);
	}
	if (r == 0) {
		snprintf(line, sizeof(line), "%s\n", p->token);
		r = tree_write(&t, "secrets/bootstrap-token", line,
			       strlen(line), 0600, false);
	}
	if (r == 0)
		r = write_token_extras(&t, p);
	if (r == 0) {
		snprintf(line, sizeof(line), "%s\n", p->cert_key);
		r = tree_write(&t, "secrets/certificate-key", line,
			       strlen(line), 0600, false);
	}
	if (r == 0 && p->vrrp_pass[0] != '\0') {
		snprintf(line, sizeof(line), "%s\n", p->vrrp_pass);
		r = tree_write(&t, "secrets/vrrp-auth-pass", line, strlen(line),
			       0600, false);
	}
	OPENSSL_cleanse(line, sizeof(line));
	tree_done(&t);
	return r;
}

/* Free everything in p. */
void
pki_done(struct pki *p)
{
	size_t i;

	pki_pair_done(&p->ca);
	pki_pair_done(&p->front_proxy_ca);
	pki_pair_done(&p->etcd_ca);
	pki_pair_done(&p->prov_ca);
	pki_pair_done(&p->netboot);
	pki_pair_done(&p->etcd_client);
	for (i = 0; i < p->nnodes; i++) {
		if (p->etcd_server != NULL)
			pki_pair_done(&p->etcd_server[i]);
		if (p->etcd_peer != NULL)
			pki_pair_done(&p->etcd_peer[i]);
	}
	free(p->etcd_server);
	free(p->etcd_peer);
	pki_pair_done(&p->store_ca);
	pki_pair_done(&p->store_ext_ca);
	pki_pair_done(&p->store_client);
	for (i = 0; i < p->nstore_members; i++)
		pki_pair_done(&p->store_members[i]);
	free(p->store_members);
	free_secret(p->sa_key_pem);
	free(p->sa_pub_pem);
	OPENSSL_cleanse(p->token, sizeof(p->token));
	OPENSSL_cleanse(p->cert_key, sizeof(p->cert_key));
	OPENSSL_cleanse(p->vrrp_pass, sizeof(p->vrrp_pass));
	memset(p, 0, sizeof(*p));
}
