/*
 * mb-apiserver.c - the test base's stand-in for kube-apiserver's health
 * endpoints. The kubeadm stand-in starts it on "kubeadm init": it issues
 * itself a serving certificate from the cluster CA the agent installed
 * (/etc/kubernetes/pki/ca.{crt,key}), with the given SANs, and answers
 * every HTTPS request (/readyz, /livez, /healthz) with 200 "ok", so that
 * the joining nodes' real wait-and-verify logic runs against it.
 *
 * Built statically by tests/qemu/mkbase.sh (the test base has no C
 * library of its own):
 *   cc -static -Os -o mb-apiserver mb-apiserver.c -lssl -lcrypto
 *
 * usage: mb-apiserver --ca-cert F --ca-key F [--port N] [--san IP|DNS]...
 *                     [--cert-out F]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SANS_MAX     32	  /* --san flags accepted */
#define REQ_MAX	     4096 /* bytes of a request read */
#define IO_TIMEOUT   5	  /* seconds a client may take */
#define CERT_DAYS    365
#define DEFAULT_PORT 6443

static void
die(const char *what)
{
	fprintf(stderr, "mb-apiserver: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void *
load_pem(const char *path, int key)
{
	FILE *f = fopen(path, "r");
	void *p;

	if (f == NULL) {
		fprintf(stderr, "mb-apiserver: %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	p = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
		: (void *)PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (p == NULL)
		die(path);
	return p;
}

/* Issue a certificate for a new P-256 key, signed by the CA. */
static X509 *
issue(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY **ret_key, char **sans, int nsans)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	char san[2048] = "";
	size_t o = 0;
	unsigned char ip[16];
	int i;

	if (key == NULL || x == NULL)
		die("cannot make a key");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * CERT_DAYS);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"kube-apiserver", -1,
				   -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	for (i = 0; i < nsans && o < sizeof(san) - 64; i++) {
		int v6 = inet_pton(AF_INET6, sans[i], ip) == 1;
		int v4 = inet_pton(AF_INET, sans[i], ip) == 1;

		o += (size_t)snprintf(san + o, sizeof(san) - o, "%s%s:%s",
				      o ? "," : "", v4 || v6 ? "IP" : "DNS",
				      sans[i]);
	}
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	if (o > 0) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
					  san);
		if (ext == NULL)
			die("bad --san");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "serverAuth");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (X509_sign(x, ca_key, EVP_sha256()) == 0)
		die("cannot sign the certificate");
	*ret_key = key;
	return x;
}

static void
serve(SSL_CTX *ctx, int c)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
				   "Content-Type: text/plain\r\n"
				   "Content-Length: 2\r\n"
				   "Connection: close\r\n\r\nok";
	struct timeval tv = { IO_TIMEOUT, 0 };
	char req[REQ_MAX + 1];
	size_t len = 0;
	SSL *s;
	int n;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	s = SSL_new(ctx);
	if (s == NULL)
		return;
	SSL_set_fd(s, c);
	if (SSL_accept(s) != 1)
		goto out;
	while (len < REQ_MAX) {
		n = SSL_read(s, req + len, (int)(REQ_MAX - len));
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[len] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	fprintf(stderr, "mb-apiserver: %s -> 200\n", req);
	SSL_write(s, resp, (int)sizeof(resp) - 1);
	SSL_shutdown(s);
out:
	SSL_free(s);
}

int
main(int argc, char **argv)
{
	const char *ca_cert = NULL, *ca_key = NULL, *cert_out = NULL;
	char *sans[SANS_MAX];
	int nsans = 0, port = DEFAULT_PORT, fd, c, one = 1, i;
	struct sockaddr_in sa;
	EVP_PKEY *ck, *key = NULL;
	SSL_CTX *ctx;
	X509 *ca, *x;
	FILE *f;

	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			die("missing flag value");
		if (strcmp(argv[i], "--ca-cert") == 0)
			ca_cert = v;
		else if (strcmp(argv[i], "--ca-key") == 0)
			ca_key = v;
		else if (strcmp(argv[i], "--cert-out") == 0)
			cert_out = v;
		else if (strcmp(argv[i], "--port") == 0) {
			const char *d;
			long p = 0;

			for (d = v; *d >= '0' && *d <= '9' && p <= 65535; d++)
				p = p * 10 + (*d - '0');
			if (*d != '\0' || d == v || p < 1 || p > 65535)
				die("bad --port");
			port = (int)p;
		} else if (strcmp(argv[i], "--san") == 0 && nsans < SANS_MAX)
			sans[nsans++] = (char *)v;
		else
			die("usage: mb-apiserver --ca-cert F --ca-key F "
			    "[--port N] [--san IP|DNS]... [--cert-out F]");
		i++;
	}
	if (ca_cert == NULL || ca_key == NULL)
		die("--ca-cert and --ca-key are required");
	signal(SIGPIPE, SIG_IGN);
	ca = load_pem(ca_cert, 0);
	ck = load_pem(ca_key, 1);
	x = issue(ca, ck, &key, sans, nsans);
	if (cert_out != NULL) {
		f = fopen(cert_out, "w");
		if (f != NULL) {
			PEM_write_X509(f, x);
			fclose(f);
		}
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_add_extra_chain_cert(ctx, X509_dup(ca)) != 1)
		die("cannot set up TLS");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0)
		die("cannot listen");
	fprintf(stderr, "mb-apiserver: serving https on port %d\n", port);
	for (;;) {
		c = accept(fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		serve(ctx, c);
		close(c);
	}
}
