/*
 * test_builder_pki.c - join secrets, the CA pin, certificate generation and
 * the reuse of an existing PKI.
 */
#include "pki.h"

#include "fsutil.h"
#include "tree.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/*
 * An RSA certificate made with "openssl req -x509", and its pin from the
 * recipe in PROTOCOLS.md 5.2 (openssl x509 -pubkey | openssl pkey -pubin
 * -outform der | openssl dgst -sha256).
 */
static const char vector_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDCzCCAfOgAwIBAgIUPjHz3en/njEKcckhCUqS42PU1jowDQYJKoZIhvcNAQEL\n"
	"BQAwFTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjExMjIwODQwNTZaFw0zNjEx\n"
	"MTkwODQwNTZaMBUxEzARBgNVBAMMCmt1YmVybmV0ZXMwggEiMA0GCSqGSIb3DQEB\n"
	"AQUAA4IBDwAwggEKAoIBAQCUgQy7ZXJpXv+I7Bp20bSaeUJapurjR4Cj8LKkVwPE\n"
	"ZQtLUk0H9CYiZZYqvwynZ+b6Znkbb4js1fKq2fE93xYY26xtEWm67mam7vL9KMum\n"
	"nNXEuciALuKRFu66TwXXiDuB9vkqgjbGEi8hWeFcGLhvt9onAZWJuQqWfczZ0Wn3\n"
	"tklRhXom9IGPqZA5eMEAQTmfLDvG94l1mF01Ze0WpRmzXiOe87OJbvHr4AQuLq99\n"
	"5UKolksTK+kDhr6RsXeiOw5bNYo8VP+jsK3rOOFigG1KeC/npB7t5daqRhxX9XQD\n"
	"5oizIi5kgjZLrClbMz6GkL77yVnqMwV9LbD1eVbiqxwNAgMBAAGjUzBRMB0GA1Ud\n"
	"DgQWBBS9fU7Uz3aPt/Par9yPoH5uS3tHrzAfBgNVHSMEGDAWgBS9fU7Uz3aPt/Pa\n"
	"r9yPoH5uS3tHrzAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQCK\n"
	"9gUx/auida/lvjy5GEiOnQp31kEexOvQ7Z3goHcl7tSnJ+f2ThVTA9s+SwR5DhXY\n"
	"y/H7SFkbz9nQV7ZKE+o7Dpvjeyff7xglln83keAqm8q9/Lbq7/8XWi6Ue7ahR5+J\n"
	"+cPWY4a4i7xQmjIuvr7EOz6q2XJA/NoCFODGxEgoifzwcdaEFeZr7sxHJr1ZQU1Y\n"
	"hiRjq6EViJ7CQZ5mK8ZjKfUj4F+4+EXBJFJTmBjaZdUuqNBTUWJeQqQkLE0wbDqy\n"
	"T8wPGuC5T6/HgLknnxHl0qw/avv+HkoA5tpR0DMQog+CKp0/3KT9gtuEVcblYe/6\n"
	"TCu8HSfdmBHpXwPGVJry\n"
	"-----END CERTIFICATE-----\n";
static const char vector_hash[] =
	"sha256:"
	"1fb0a711841e4b60dfa4abd133f936bb3c982b63375b5133ee2a215b1ae85201";

static X509 *
pem_cert(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	return x;
}

static void
test_token_format(void **state)
{
	char t[PKI_TOKEN_LEN + 1], prev[PKI_TOKEN_LEN + 1] = "";
	int i, j;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(pki_token_new(t), 0);
		assert_int_equal(strlen(t), 23);
		assert_true(pki_token_valid(t));
		for (j = 0; j < 23; j++) {
			if (j == 6)
				assert_int_equal(t[j], '.');
			else
				assert_non_null(
					strchr("abcdefghijklmnopqrstuvwxyz"
					       "0123456789",
					       t[j]));
		}
		assert_string_not_equal(t, prev);
		memcpy(prev, t, sizeof(t));
	}
	assert_true(pki_token_valid("abcdef.0123456789abcdef"));
	assert_false(pki_token_valid("ABCDEF.0123456789abcdef"));
	assert_false(pki_token_valid("abcdef-0123456789abcdef"));
	assert_false(pki_token_valid("abcdef.0123456789abcde"));
	assert_false(pki_token_valid("abcdef.0123456789abcdef0"));
	assert_false(pki_token_valid(""));
}

static void
test_cert_key(void **state)
{
	char k[PKI_CERT_KEY_LEN + 1], k2[PKI_CERT_KEY_LEN + 1];

	(void)state;
	assert_int_equal(pki_cert_key_new(k), 0);
	assert_int_equal(pki_cert_key_new(k2), 0);
	assert_int_equal(strlen(k), 64);
	assert_true(pki_cert_key_valid(k));
	assert_string_not_equal(k, k2);
	assert_false(pki_cert_key_valid("00"));
	k[3] = 'G';
	assert_false(pki_cert_key_valid(k));
}

static void
test_discovery_hash_vector(void **state)
{
	char h[PKI_HASH_STR_LEN];
	X509 *x = pem_cert(vector_pem);
	unsigned char md[32];
	unsigned int mdlen = 0;
	char wrong[72];
	int i;

	(void)state;
	assert_non_null(x);
	assert_int_equal(pki_discovery_hash(x, h), 0);
	assert_string_equal(h, vector_hash);
	/* X509_pubkey_digest hashes only the key bits: a different value. */
	assert_true(X509_pubkey_digest(x, EVP_sha256(), md, &mdlen));
	memcpy(wrong, "sha256:", 7);
	for (i = 0; i < 32; i++)
		snprintf(wrong + 7 + 2 * i, 3, "%02x", md[i]);
	assert_string_not_equal(h, wrong);
	X509_free(x);
}

static void
test_chain(void **state)
{
	struct pki_pair ca = { 0 }, leaf = { 0 };
	const char *dns[] = { "node1", "localhost" };
	uint32_t ips[] = { 0xc0a8640b };
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(pki_pair_new("test-ca", NULL, "ca", NULL, NULL, 0,
				      NULL, 0, now, PKI_CA_DAYS, &ca),
			 0);
	assert_int_equal(pki_pair_new("node1", NULL, "peer", &ca, dns, 2, ips,
				      1, now, PKI_LEAF_DAYS, &leaf),
			 0);
	assert_int_equal(X509_check_ca(ca.cert), 1);
	assert_int_equal(X509_check_ca(leaf.cert), 0);
	assert_int_equal(X509_check_host(leaf.cert, "node1", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(leaf.cert, "192.168.100.11", 0), 1);
	assert_int_equal(X509_check_private_key(leaf.cert, leaf.key), 1);
	assert_non_null(strstr(leaf.key_pem, "PRIVATE KEY"));
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	X509_STORE_add_cert(store, ca.cert);
	X509_STORE_CTX_init(ctx, store, leaf.cert, NULL);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	pki_pair_done(&leaf);
	pki_pair_done(&ca);
}

static const char inv_text[] =
	"cluster: { name: t, kubernetes_version: v1.31.1,\n"
	"  control_plane_endpoint: 10.0.0.10:6443, etcd: external }\n"
	"network: { server_ip: 10.0.0.1, subnet: 10.0.0.0/24 }\n"
	"nodes:\n"
	"  - { name: e1, mac: '52:54:00:00:00:01', ip: 10.0.0.21, role: etcd "
	"}\n"
	"  - { name: c1, mac: '52:54:00:00:00:02', ip: 10.0.0.11,\n"
	"      role: control-plane }\n"
	"  - { name: w1, mac: '52:54:00:00:00:03', ip: 10.0.0.31, role: worker "
	"}\n";

static struct inventory *
load_inv(const char *text)
{
	struct inventory *inv = NULL;
	struct diags d;
	int r;

	diags_init(&d);
	r = inventory_parse("t.yaml", text, strlen(text),
			    MB_SOURCE_DIR "/profiles", &inv, &d);
	if (r < 0)
		diags_print(&d, stderr);
	diags_done(&d);
	assert_int_equal(r, 0);
	return inv;
}

static char *
mkdtemp_dir(void)
{
	char *t = strdup("/tmp/test_builder_pki.XXXXXX");

	assert_non_null(mkdtemp(t));
	return t;
}

static void
rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_prepare_and_reuse(void **state)
{
	struct inventory *inv = load_inv(inv_text);
	struct pki a, b;
	struct diags d;
	char *dir = mkdtemp_dir(), path[PATH_MAX];
	struct stat st;
	time_t now = time(NULL);

	(void)state;
	diags_init(&d);
	assert_int_equal(pki_prepare(&a, inv, NULL, false, now, &d), 0);
	assert_true(a.created);
	assert_non_null(a.etcd_server[0].cert);
	assert_null(a.etcd_server[1].cert);
	assert_non_null(a.etcd_client.cert);
	assert_int_equal(X509_check_ip_asc(a.netboot.cert, "10.0.0.1", 0), 1);
	assert_int_equal(pki_write(&a, inv, dir), 0);
	snprintf(path, sizeof(path), "%s/pki/ca.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/secrets/bootstrap-token", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/pki/etcd/e1/server.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Reuse: the same CA, keys and secrets, nothing generated. */
	assert_int_equal(pki_prepare(&b, inv, dir, false, now, &d), 0);
	assert_false(b.created);
	assert_string_equal(a.ca.cert_pem, b.ca.cert_pem);
	assert_string_equal(a.ca.key_pem, b.ca.key_pem);
	assert_string_equal(a.sa_key_pem, b.sa_key_pem);
	assert_string_equal(a.netboot.cert_pem, b.netboot.cert_pem);
	assert_string_equal(a.etcd_server[0].cert_pem,
			    b.etcd_server[0].cert_pem);
	assert_string_equal(a.token, b.token);
	assert_string_equal(a.cert_key, b.cert_key);
	assert_string_equal(a.discovery_hash, b.discovery_hash);
	pki_done(&b);

	/* Rotate: a new CA. */
	assert_int_equal(pki_prepare(&b, inv, dir, true, now, &d), 0);
	assert_string_not_equal(a.ca.cert_pem, b.ca.cert_pem);
	assert_string_not_equal(a.token, b.token);
	pki_done(&b);

	/* Close to expiry: the leaves are reissued by the same CA. */
	assert_int_equal(pki_prepare(&b, inv, dir, false,
				     now + (PKI_LEAF_DAYS - 10) * 86400L, &d),
			 0);
	assert_string_equal(a.ca.cert_pem, b.ca.cert_pem);
	assert_string_not_equal(a.netboot.cert_pem, b.netboot.cert_pem);
	pki_done(&b);
	assert_int_equal(d.errors, 0);

	/* A CA certificate without its key is refused, not replaced. */
	snprintf(path, sizeof(path), "%s/pki/ca.key", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pki_prepare(&b, inv, dir, false, now, &d), -EINVAL);
	assert_true(d.errors > 0);

	pki_done(&a);
	diags_done(&d);
	rm_tree(dir);
	free(dir);
	inventory_free(inv);
}

static void
test_netboot_cert_follows_server_ip(void **state)
{
	struct inventory *inv = load_inv(inv_text), *inv2;
	char *text = strdup(inv_text), *p;
	struct pki a, b;
	struct diags d;
	char *dir = mkdtemp_dir();
	time_t now = time(NULL);

	(void)state;
	p = strstr(text, "server_ip: 10.0.0.1,");
	assert_non_null(p);
	memcpy(p, "server_ip: 10.0.0.2,", 20);
	inv2 = load_inv(text);
	diags_init(&d);
	assert_int_equal(pki_prepare(&a, inv, NULL, false, now, &d), 0);
	assert_int_equal(pki_write(&a, inv, dir), 0);
	assert_int_equal(pki_prepare(&b, inv2, dir, false, now, &d), 0);
	assert_string_equal(a.ca.cert_pem, b.ca.cert_pem);
	assert_string_not_equal(a.netboot.cert_pem, b.netboot.cert_pem);
	assert_int_equal(X509_check_ip_asc(b.netboot.cert, "10.0.0.2", 0), 1);
	pki_done(&a);
	pki_done(&b);
	diags_done(&d);
	rm_tree(dir);
	free(dir);
	free(text);
	inventory_free(inv);
	inventory_free(inv2);
}

/*
 * keepalived's VRRP password: generated only for an inventory with a
 * control-plane VIP, written 0600 to secrets/vrrp-auth-pass, reused by a
 * rebuild, renewed by --rotate, and a malformed one is refused.
 */
static void
test_vrrp_pass(void **state)
{
	static const char vip_text[] =
		"cluster: { name: t, kubernetes_version: v1.31.1,\n"
		"  control_plane_vip: { address: 10.0.0.10 } }\n"
		"network: { server_ip: 10.0.0.1, subnet: 10.0.0.0/24 }\n"
		"nodes:\n"
		"  - { name: c1, mac: '52:54:00:00:00:01', ip: 10.0.0.11, "
		"role: control-plane }\n"
		"  - { name: c2, mac: '52:54:00:00:00:02', ip: 10.0.0.12, "
		"role: control-plane }\n";
	struct inventory *inv = load_inv(vip_text), *plain = load_inv(inv_text);
	char *dir = mkdtemp_dir(), path[PATH_MAX];
	time_t now = time(NULL);
	struct pki a, b;
	struct diags d;
	struct stat st;
	FILE *f;

	(void)state;
	assert_true(pki_vrrp_pass_valid("abcd1234"));
	assert_false(pki_vrrp_pass_valid("abcd123"));
	assert_false(pki_vrrp_pass_valid("abcd12345"));
	assert_false(pki_vrrp_pass_valid("ABCD1234"));
	assert_false(pki_vrrp_pass_valid("abcd 234"));
	diags_init(&d);
	/* No VIP, no password. */
	assert_int_equal(pki_prepare(&a, plain, NULL, false, now, &d), 0);
	assert_string_equal(a.vrrp_pass, "");
	pki_done(&a);

	assert_int_equal(pki_prepare(&a, inv, NULL, false, now, &d), 0);
	assert_true(pki_vrrp_pass_valid(a.vrrp_pass));
	assert_int_equal(pki_write(&a, inv, dir), 0);
	snprintf(path, sizeof(path), "%s/secrets/vrrp-auth-pass", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, PKI_VRRP_PASS_LEN + 1);
	assert_int_equal(pki_prepare(&b, inv, dir, false, now, &d), 0);
	assert_false(b.created);
	assert_string_equal(a.vrrp_pass, b.vrrp_pass);
	pki_done(&b);
	assert_int_equal(pki_prepare(&b, inv, dir, true, now, &d), 0);
	assert_true(pki_vrrp_pass_valid(b.vrrp_pass));
	assert_string_not_equal(a.vrrp_pass, b.vrrp_pass);
	pki_done(&b);
	assert_int_equal(d.errors, 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("short\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(pki_prepare(&b, inv, dir, false, now, &d), -EINVAL);
	assert_true(d.errors > 0);

	pki_done(&a);
	diags_done(&d);
	rm_tree(dir);
	free(dir);
	inventory_free(inv);
	inventory_free(plain);
}

/* Seconds from a certificate's notBefore to its notAfter. */
static long
lifetime(const struct pki_pair *pp)
{
	int days = 0, secs = 0;

	assert_non_null(pp->cert);
	assert_int_equal(ASN1_TIME_diff(&days, &secs,
					X509_get0_notBefore(pp->cert),
					X509_get0_notAfter(pp->cert)),
			 1);
	return days * 86400L + secs;
}

/*
 * As kubeadm: CAs for 10 years, leaves for 1 year (both from an hour
 * back), and a leaf never past its CA's end.
 */
static void
test_validity(void **state)
{
	struct inventory *inv = load_inv(inv_text);
	const long ca_life = 3650 * 86400L + 3600,
		   leaf_life = 365 * 86400L + 3600;
	struct pki_pair old_ca = { 0 }, leaf = { 0 };
	struct pki p;
	struct diags d;
	time_t now = time(NULL);

	(void)state;
	diags_init(&d);
	assert_int_equal(pki_prepare(&p, inv, NULL, false, now, &d), 0);
	assert_int_equal(lifetime(&p.ca), ca_life);
	assert_int_equal(lifetime(&p.front_proxy_ca), ca_life);
	assert_int_equal(lifetime(&p.etcd_ca), ca_life);
	assert_int_equal(lifetime(&p.prov_ca), ca_life);
	assert_int_equal(lifetime(&p.netboot), leaf_life);
	assert_int_equal(lifetime(&p.etcd_client), leaf_life);
	assert_int_equal(lifetime(&p.etcd_server[0]), leaf_life);
	assert_int_equal(lifetime(&p.etcd_peer[0]), leaf_life);
	pki_done(&p);

	/* A CA with 100 days left signs a leaf that ends with it. */
	assert_int_equal(pki_pair_new("old-ca", NULL, "ca", NULL, NULL, 0, NULL,
				      0, now, 100, &old_ca),
			 0);
	assert_int_equal(pki_pair_new("n", NULL, "server", &old_ca, NULL, 0,
				      NULL, 0, now, PKI_LEAF_DAYS, &leaf),
			 0);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(leaf.cert),
					   X509_get0_notAfter(old_ca.cert)),
			 0);
	assert_int_equal(lifetime(&leaf), 100 * 86400L + 3600);
	pki_pair_done(&leaf);
	pki_pair_done(&old_ca);
	diags_done(&d);
	inventory_free(inv);
}

/* ---- provisioning.etcd --------------------------------------------------- */

static const char store_head[] =
	"cluster: { name: t, kubernetes_version: v1.31.1 }\n"
	"network: { server_ip: 10.0.0.1, subnet: 10.0.0.0/24 }\n"
	"nodes:\n"
	"  - { name: c1, mac: '52:54:00:00:00:01', ip: 10.0.0.11, "
	"role: control-plane }\n";

/* An inventory with store_head and provisioning: {etcd: ETCD}. */
static struct inventory *
store_inv(const char *etcd)
{
	char text[2048];

	snprintf(text, sizeof(text), "%sprovisioning: { etcd: %s }\n",
		 store_head, etcd);
	return load_inv(text);
}

/* ca issued cert: its issuer's name and a signature ca's key checks. */
static bool
signed_by(const struct pki_pair *leaf, const struct pki_pair *ca)
{
	return X509_check_issued(ca->cert, leaf->cert) == X509_V_OK &&
	       X509_verify(leaf->cert, ca->key) == 1;
}

static void
assert_mode(const char *dir, const char *rel, unsigned mode)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/pki/%s", dir, rel);
	if (stat(path, &st) < 0)
		fail_msg("%s: missing", path);
	assert_int_equal(st.st_mode & 0777, mode);
}

/*
 * The default: a dedicated CA, one server+peer certificate per endpoint
 * host and netboot's client certificate; all kept by a rebuild, a new host
 * gets its own.
 */
static void
test_store_own(void **state)
{
	struct inventory *inv = store_inv(
		"{ endpoints: [https://10.0.0.5:2379, https://10.0.0.5:22379, "
		"https://etcd2.example:2379] }");
	struct inventory *inv2 =
		store_inv("{ endpoints: [https://10.0.0.5:2379, "
			  "https://10.0.0.6:2379] }");
	char *dir = mkdtemp_dir();
	time_t now = time(NULL);
	struct pki a, b;
	struct diags d;

	(void)state;
	diags_init(&d);
	assert_int_equal(pki_prepare(&a, inv, NULL, false, now, &d), 0);
	assert_int_equal(X509_check_ca(a.store_ca.cert), 1);
	assert_false(signed_by(&a.store_ca, &a.etcd_ca));
	assert_true(signed_by(&a.store_client, &a.store_ca));
	assert_int_equal(X509_get_extended_key_usage(a.store_client.cert),
			 XKU_SSL_CLIENT);
	assert_int_equal(a.nstore_members, 2);
	assert_true(signed_by(&a.store_members[0], &a.store_ca));
	assert_int_equal(X509_get_extended_key_usage(a.store_members[0].cert),
			 XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_int_equal(
		X509_check_ip_asc(a.store_members[0].cert, "10.0.0.5", 0), 1);
	assert_int_equal(
		X509_check_ip_asc(a.store_members[0].cert, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_host(a.store_members[1].cert,
					 "etcd2.example", 0, 0, NULL),
			 1);
	assert_int_equal(
		X509_check_ip_asc(a.store_members[1].cert, "10.0.0.5", 0), 0);
	assert_string_equal(pki_store_ca_file(inv),
			    "pki/provisioning-etcd/ca.crt");

	assert_int_equal(pki_write(&a, inv, dir), 0);
	assert_mode(dir, "netboot-etcd.key", 0600);
	assert_mode(dir, "netboot-etcd.crt", 0644);
	assert_mode(dir, "provisioning-etcd/ca.key", 0600);
	assert_mode(dir, "provisioning-etcd/ca.crt", 0644);
	assert_mode(dir, "provisioning-etcd/member-10.0.0.5.key", 0600);
	assert_mode(dir, "provisioning-etcd/member-etcd2.example.key", 0600);
	assert_mode(dir, "provisioning-etcd/member-etcd2.example.crt", 0644);

	/* A rebuild: nothing new. */
	assert_int_equal(pki_prepare(&b, inv, dir, false, now, &d), 0);
	assert_false(b.created);
	assert_string_equal(a.store_ca.key_pem, b.store_ca.key_pem);
	assert_string_equal(a.store_client.cert_pem, b.store_client.cert_pem);
	assert_string_equal(a.store_members[1].cert_pem,
			    b.store_members[1].cert_pem);
	pki_done(&b);
	/* Another host: its certificate is new, the rest stays. */
	assert_int_equal(pki_prepare(&b, inv2, dir, false, now, &d), 0);
	assert_true(b.created);
	assert_string_equal(a.store_ca.cert_pem, b.store_ca.cert_pem);
	assert_string_equal(a.store_client.cert_pem, b.store_client.cert_pem);
	assert_string_equal(a.store_members[0].cert_pem,
			    b.store_members[0].cert_pem);
	assert_int_equal(
		X509_check_ip_asc(b.store_members[1].cert, "10.0.0.6", 0), 1);
	pki_done(&b);
	assert_int_equal(d.errors, 0);
	pki_done(&a);
	diags_done(&d);
	rm_tree(dir);
	free(dir);
	inventory_free(inv);
	inventory_free(inv2);
}

/* Write pp's certificate and key to DIR/NAME.crt and DIR/NAME.key. */
static void
write_pem_pair(const char *dir, const char *name, const struct pki_pair *pp)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.crt", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(pp->cert_pem, f);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(pp->key_pem, f);
	assert_int_equal(fclose(f), 0);
}

/* True when some file under dir holds s (nftw has no argument: globals). */
static const char *holds_needle;
static bool holds_found;

static int
holds_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char *data = NULL;
	size_t len;

	(void)st;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	assert_int_equal(read_file(path, 1u << 20, &data, &len), 0);
	if (memmem(data, len, holds_needle, strlen(holds_needle)) != NULL)
		holds_found = true;
	free(data);
	return 0;
}

static bool
tree_holds(const char *dir, const char *s)
{
	holds_needle = s;
	holds_found = false;
	assert_int_equal(nftw(dir, holds_visit, 16, FTW_PHYS), 0);
	return holds_found;
}

/*
 * An existing etcd's CA: it signs netboot's client certificate, its
 * certificate is copied into OUT, its key never is. A key of another CA,
 * or a certificate that is no CA, is refused at ca's line.
 */
static void
test_store_existing_ca(void **state)
{
	char *src = mkdtemp_dir(), *dir = mkdtemp_dir(), text[1024];
	struct pki_pair ca = { 0 }, other = { 0 }, leaf = { 0 };
	struct inventory *inv;
	time_t now = time(NULL);
	struct pki a, b;
	struct diags d;

	(void)state;
	assert_int_equal(pki_pair_new("site-etcd-ca", NULL, "ca", NULL, NULL, 0,
				      NULL, 0, now, PKI_CA_DAYS, &ca),
			 0);
	assert_int_equal(pki_pair_new("other-ca", NULL, "ca", NULL, NULL, 0,
				      NULL, 0, now, PKI_CA_DAYS, &other),
			 0);
	assert_int_equal(pki_pair_new("leaf", NULL, "server", &ca, NULL, 0,
				      NULL, 0, now, PKI_LEAF_DAYS, &leaf),
			 0);
	write_pem_pair(src, "ca", &ca);
	write_pem_pair(src, "other", &other);
	write_pem_pair(src, "leaf", &leaf);
	snprintf(text, sizeof(text),
		 "{ endpoints: [https://10.0.0.5:2379],\n"
		 "    ca: %s/ca.crt, ca_key: %s/ca.key }",
		 src, src);
	inv = store_inv(text);
	diags_init(&d);
	assert_int_equal(pki_prepare(&a, inv, NULL, false, now, &d), 0);
	assert_true(signed_by(&a.store_client, &ca));
	assert_int_equal(a.nstore_members, 0);
	assert_string_equal(pki_store_ca_file(inv),
			    "pki/provisioning-etcd/external-ca.crt");
	assert_int_equal(pki_write(&a, inv, dir), 0);
	assert_mode(dir, "provisioning-etcd/external-ca.crt", 0644);
	assert_mode(dir, "netboot-etcd.key", 0600);
	assert_true(tree_holds(dir, ca.cert_pem));
	assert_false(tree_holds(dir, ca.key_pem));
	assert_int_equal(pki_prepare(&b, inv, dir, false, now, &d), 0);
	assert_false(b.created);
	assert_string_equal(a.store_client.cert_pem, b.store_client.cert_pem);
	pki_done(&b);
	pki_done(&a);
	assert_int_equal(d.errors, 0);
	inventory_free(inv);

	snprintf(text, sizeof(text),
		 "{ endpoints: [https://10.0.0.5:2379],\n"
		 "    ca: %s/ca.crt, ca_key: %s/other.key }",
		 src, src);
	inv = store_inv(text);
	assert_int_equal(pki_prepare(&a, inv, NULL, false, now, &d), -EINVAL);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.items[d.n - 1].line, 6);
	assert_int_equal(d.items[d.n - 1].col, 9);
	assert_non_null(strstr(d.items[d.n - 1].msg, "are not a CA"));
	assert_null(strstr(d.items[d.n - 1].msg, "PRIVATE"));
	inventory_free(inv);
	snprintf(text, sizeof(text),
		 "{ endpoints: [https://10.0.0.5:2379],\n"
		 "    ca: %s/leaf.crt, ca_key: %s/leaf.key }",
		 src, src);
	inv = store_inv(text);
	assert_int_equal(pki_prepare(&a, inv, NULL, false, now, &d), -EINVAL);
	assert_int_equal(d.errors, 2);
	inventory_free(inv);

	diags_done(&d);
	pki_pair_done(&ca);
	pki_pair_done(&other);
	pki_pair_done(&leaf);
	rm_tree(src);
	rm_tree(dir);
	free(src);
	free(dir);
}

/*
 * cluster: true: the cluster's etcd CA signs netboot's client certificate;
 * a build that switches to it from the dedicated CA reissues it, and keeps
 * the dedicated CA (as any CA: never dropped by accident).
 */
static void
test_store_cluster(void **state)
{
	struct inventory *own = store_inv("{ endpoints: [https://h:2379] }");
	struct inventory *inv = store_inv("{ cluster: true }");
	struct inventory *plain = load_inv(inv_text);
	char *dir = mkdtemp_dir(), *dir2 = mkdtemp_dir();
	time_t now = time(NULL);
	struct pki a, b;
	struct diags d;

	(void)state;
	diags_init(&d);
	assert_int_equal(pki_prepare(&a, own, NULL, false, now, &d), 0);
	assert_int_equal(pki_write(&a, own, dir), 0);
	assert_int_equal(pki_prepare(&b, inv, dir, false, now, &d), 0);
	assert_int_equal(b.nstore_members, 0);
	/* The dedicated CA stays, unused: members may run on it. */
	assert_string_equal(a.store_ca.key_pem, b.store_ca.key_pem);
	assert_false(signed_by(&b.store_client, &b.store_ca));
	assert_true(signed_by(&b.store_client, &b.etcd_ca));
	assert_string_equal(a.etcd_ca.cert_pem, b.etcd_ca.cert_pem);
	assert_string_not_equal(a.store_client.cert_pem,
				b.store_client.cert_pem);
	assert_string_equal(pki_store_ca_file(inv), "pki/etcd/ca.crt");
	pki_done(&b);
	/* Without provisioning.etcd: none of it, but that CA still stays. */
	assert_null(pki_store_ca_file(plain));
	assert_int_equal(pki_prepare(&b, plain, NULL, false, now, &d), 0);
	assert_null(b.store_client.cert);
	assert_null(b.store_ca.cert);
	pki_done(&b);
	assert_int_equal(pki_prepare(&b, plain, dir, false, now, &d), 0);
	assert_null(b.store_client.cert);
	assert_string_equal(a.store_ca.key_pem, b.store_ca.key_pem);
	assert_int_equal(pki_write(&b, plain, dir2), 0);
	assert_mode(dir2, "provisioning-etcd/ca.key", 0600);
	assert_false(tree_holds(dir2, a.store_client.cert_pem));
	pki_done(&a);
	pki_done(&b);
	assert_int_equal(d.errors, 0);
	diags_done(&d);
	rm_tree(dir);
	rm_tree(dir2);
	free(dir);
	free(dir2);
	inventory_free(inv);
	inventory_free(own);
	inventory_free(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_format),
		cmocka_unit_test(test_cert_key),
		cmocka_unit_test(test_vrrp_pass),
		cmocka_unit_test(test_discovery_hash_vector),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_prepare_and_reuse),
		cmocka_unit_test(test_netboot_cert_follows_server_ip),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_store_own),
		cmocka_unit_test(test_store_existing_ca),
		cmocka_unit_test(test_store_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
