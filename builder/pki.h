/*
 * pki.h - the cluster's certificates and join secrets (OpenSSL).
 *
 * What kubeadm needs pre-seeded so that no certificate is ever copied by
 * hand: the cluster CA, the front-proxy CA, the etcd CA and the service-
 * account key pair (shared by every control-plane node), for external etcd
 * a server and a peer certificate per etcd node and the API server's etcd
 * client certificate; and, apart from the cluster, a provisioning CA whose
 * certificate the agent pins and the netboot server's HTTPS certificate.
 * Every key is ECDSA P-256 (kubeadm accepts ECDSA CAs; v1beta4 is told
 * encryptionAlgorithm: ECDSA-P256 so that its own leaves match).
 *
 * Files under a pki directory (mirroring /etc/kubernetes/pki where kubeadm
 * has a name for them): ca.{crt,key} front-proxy-ca.{crt,key} sa.{key,pub}
 * etcd/ca.{crt,key} apiserver-etcd-client.{crt,key}
 * etcd/NODE/{server,peer}.{crt,key} provisioning-ca.{crt,key}
 * netboot.{crt,key}; with provisioning.etcd netboot-etcd.{crt,key} and
 * the provisioning-etcd/ files below; secrets/bootstrap-token and
 * secrets/certificate-key, and with cluster.control_plane_vip
 * secrets/vrrp-auth-pass.
 * Keys and secrets are written 0600. Non-logging: problems go to a diags.
 */
#ifndef MB_PKI_H
#define MB_PKI_H

#include "buf.h"
#include "diag.h"
#include "inventory.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define PKI_TOKEN_LEN	  23   /* "abcdef.0123456789abcdef" */
#define PKI_CERT_KEY_LEN  64   /* hex of 32 bytes */
#define PKI_VRRP_PASS_LEN 8    /* keepalived's auth_pass: 8 characters */
#define PKI_HASH_STR_LEN  72   /* "sha256:" + 64 hex + NUL */
#define PKI_CA_DAYS	  3650 /* kubeadm's CAs: 10 years */
#define PKI_LEAF_DAYS	  365  /* kubeadm's leaves: 1 year, never past the CA */
#define PKI_RENEW_MARGIN                                                       \
	(30 * 86400)	  /* reissue leaves this close to expiry               \
			   */
#define PKI_BACKDATE 3600 /* notBefore = now - this */
#define PKI_MAX_PEM  (64u << 10)

/*
 * provisioning.etcd (inventory.h): netboot's etcd client certificate is
 * PKI_STORE_CLIENT.{crt,key} (CN metalboot-netboot, clientAuth) whoever
 * signs it; the CA that does, by mode, is also the one netboot.yaml's
 * store.etcd.ca names (pki_store_ca_file):
 *   PROV_ETCD_OWN      PKI_STORE_OWN_CA.{crt,key}, made here and kept (in
 *                      the other modes too, once made), and
 *                      PKI_STORE_MEMBER HOST.{crt,key} for each endpoint
 *                      host, for the operator to install on the members
 *                      (server and peer: serverAuth and clientAuth; SANs
 *                      HOST, localhost, 127.0.0.1);
 *   PROV_ETCD_CA       the inventory's ca and ca_key, read where they are;
 *                      the certificate is copied to PKI_STORE_EXT_CA.crt,
 *                      the key never into OUT;
 *   PROV_ETCD_CLUSTER  etcd/ca.{crt,key}, the cluster's etcd CA.
 */
#define PKI_STORE_CLIENT "netboot-etcd"
#define PKI_STORE_OWN_CA "provisioning-etcd/ca"
#define PKI_STORE_EXT_CA "provisioning-etcd/external-ca"
#define PKI_STORE_MEMBER "provisioning-etcd/member-"
#define PKI_STORE_CN	 "metalboot-netboot"

/* A certificate and its key, both also kept as PEM text. */
struct pki_pair {
	X509 *cert;
	EVP_PKEY *key;
	char *cert_pem; /* owned, NUL-terminated */
	char *key_pem;	/* owned, wiped on free */
};

struct pki {
	struct pki_pair ca, front_proxy_ca, etcd_ca, prov_ca, netboot;
	struct pki_pair etcd_client; /* apiserver-etcd-client (external) */
	struct pki_pair *etcd_server, *etcd_peer; /* per node index; NULL */
	size_t nnodes;				  /* entries in the above */
	/*
	 * provisioning.etcd: the dedicated CA (made with PROV_ETCD_OWN, else
	 * kept when OUT has it), an existing etcd's CA (PROV_ETCD_CA; its key
	 * from the inventory's ca_key), netboot's client certificate, and
	 * with PROV_ETCD_OWN one member certificate per
	 * inv->provisioning.etcd.hosts entry.
	 */
	struct pki_pair store_ca, store_ext_ca, store_client;
	struct pki_pair *store_members;
	size_t nstore_members;
	char *sa_key_pem; /* wiped on free */
	char *sa_pub_pem;
	char token[PKI_TOKEN_LEN + 1]; /* secret */
	/*
	 * When token expires: made, plus the token_ttl of that time
	 * (secrets/bootstrap-token.expires; for an OUT from before that
	 * file, the token file's mtime plus token_ttl). The copy kubeadm init
	 * made lives token_ttl from init, so expires no earlier than this.
	 */
	time_t token_expires;
	char cert_key[PKI_CERT_KEY_LEN + 1]; /* secret */
	/* keepalived's VRRP password; "" without cluster.control_plane_vip */
	char vrrp_pass[PKI_VRRP_PASS_LEN + 1]; /* secret */
	char discovery_hash[PKI_HASH_STR_LEN];
	bool created; /* anything was generated rather than reused */
};

/*
 * Fill p for inv: reuse what old_dir/pki and old_dir/secrets hold (old_dir
 * may be NULL or missing), generate the rest. rotate ignores old_dir.
 * A leaf is reissued when its CA changed, its addresses no longer match
 * the inventory, or it expires within PKI_RENEW_MARGIN of now. A CA
 * certificate without its key, or a key that does not match, is a user
 * error (recorded in d, -EINVAL). Returns 0, -EINVAL, -ENOMEM or -EIO.
 * Release with pki_done().
 */
int pki_prepare(struct pki *p, const struct inventory *inv, const char *old_dir,
		bool rotate, time_t now, struct diags *d);

/*
 * Write the pki/ and secrets/ trees of p under dir (which exists).
 * Returns 0 or a negative errno.
 */
int pki_write(const struct pki *p, const struct inventory *inv,
	      const char *dir);

/*
 * Where the CA certificate that verifies the provisioning etcd's members
 * lies, relative to OUT ("pki/..."), for netboot.yaml's store.etcd.ca;
 * NULL without provisioning.etcd.
 */
const char *pki_store_ca_file(const struct inventory *inv);

/* Free everything, wiping keys and secrets. p may be zeroed. */
void pki_done(struct pki *p);

/*
 * kubeadm's CA pin: "sha256:" and the lowercase hex SHA-256 of the DER
 * SubjectPublicKeyInfo of cert. Returns 0, -EINVAL or -ENOMEM.
 */
int pki_discovery_hash(X509 *cert, char ret[PKI_HASH_STR_LEN]);

/* A new bootstrap token [a-z0-9]{6}.[a-z0-9]{16}. 0 or -EIO. */
int pki_token_new(char ret[PKI_TOKEN_LEN + 1]);

/* Replace p's bootstrap token with a new one valid ttl from now. 0/-EIO. */
int pki_token_renew(struct pki *p, time_t now, uint64_t ttl);

/*
 * p's bootstrap token as the Secret kubeadm's own "kubeadm token create"
 * makes (kube-system/bootstrap-token-ID, type bootstrap.kubernetes.io/
 * token, usable for authentication and signing, in kubeadm's joining
 * group), expiring at p->token_expires: what "kubectl apply -f" creates in
 * a running cluster so that nodes added later can join. Appended to out
 * (a secret: wipe it). 0 or -ENOMEM.
 */
int pki_token_secret(const struct pki *p, struct buf *out);

/* True when s is a well-formed bootstrap token. */
bool pki_token_valid(const char *s);

/* 32 random bytes as 64 lowercase hex digits. 0 or -EIO. */
int pki_cert_key_new(char ret[PKI_CERT_KEY_LEN + 1]);

/* True when s is 64 lowercase hex digits. */
bool pki_cert_key_valid(const char *s);
/* A new VRRP password, [a-z0-9]{8}. 0 or -EIO. */
int pki_vrrp_pass_new(char ret[PKI_VRRP_PASS_LEN + 1]);
/* True when s is 8 characters [a-z0-9]. */
bool pki_vrrp_pass_valid(const char *s);

/*
 * Generate an ECDSA P-256 key and a certificate for it. issuer/issuer_key
 * NULL make a self-signed CA. usage: "ca", "server", "client" or "peer"
 * (server+client). dns and ips (host order) become subjectAltNames.
 * Valid from now - PKI_BACKDATE to now + days, but a certificate with an
 * issuer never past the issuer's notAfter. Returns 0 with *ret filled (owned;
 * pki_pair_done), or a negative errno.
 */
int pki_pair_new(const char *cn, const char *org, const char *usage,
		 const struct pki_pair *issuer, const char *const *dns,
		 size_t ndns, const uint32_t *ips, size_t nips, time_t now,
		 long days, struct pki_pair *ret);

/* Free a pair, wiping its key. */
void pki_pair_done(struct pki_pair *pp);

#endif
