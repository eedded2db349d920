/*
 * fuzz_builder_render.c - libFuzzer harness for the renderers: whatever an
 * inventory that passes validation holds, every YAML file rendered from it
 * (kubeadm.yaml, firstboot.yaml, user-data, meta-data, network-config,
 * netboot.yaml) parses back, with the node's name and the inventory's
 * sysctl values coming back as the same strings. The PKI is made once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "inventory.h"
#include "pki.h"
#include "render.h"
#include "yload.h"

#define FUZZ_MAX_NODES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char pki_inventory[] =
	"cluster: { name: f, kubernetes_version: v1.31.1 }\n"
	"network: { server_ip: 10.0.0.1, subnet: 10.0.0.0/24 }\n"
	"nodes:\n"
	"  - { name: c1, mac: '52:54:00:00:00:01', ip: 10.0.0.11, "
	"role: control-plane }\n";

static struct pki *
shared_pki(void)
{
	static struct pki p;
	static int ready;
	struct inventory *inv = NULL;
	struct diags d;

	if (ready)
		return &p;
	diags_init(&d);
	if (inventory_parse("pki.yaml", pki_inventory, strlen(pki_inventory),
			    NULL, &inv, &d) < 0 ||
	    pki_prepare(&p, inv, NULL, false, time(NULL), &d) < 0)
		abort();
	/* The VRRP password too, for inventories with a control-plane VIP. */
	if (pki_vrrp_pass_new(p.vrrp_pass) < 0)
		abort();
	inventory_free(inv);
	diags_done(&d);
	ready = 1;
	return &p;
}

static struct ydoc *
must_parse(const struct buf *b, size_t off)
{
	struct ydoc *doc = NULL;
	struct yerror err;

	if (ydoc_parse("out", b->data + off, b->len - off, &doc, &err) < 0)
		abort();
	return doc;
}

/* The input of the run, to tell a leak from what the inventory wrote. */
static const uint8_t *in_data;
static size_t in_size;

/*
 * Did the secret s (len bytes) leak into out? Only when the input did not
 * hold it: an inventory may put any text (even "PRIVATE KEY") in a field
 * that is rendered, and the fuzzer can learn a secret from comparisons.
 */
static bool
leaked(const char *out, const char *s, size_t len)
{
	char one[128];

	if (len == 0 || len >= sizeof(one))
		return false;
	memcpy(one, s, len);
	one[len] = '\0';
	return strstr(out, one) != NULL &&
	       memmem(in_data, in_size, s, len) == NULL;
}

/* A private key's first base64 line: what any copy of the key holds. */
static bool
key_leaked(const char *out, const char *pem)
{
	const char *l = pem ? strchr(pem, '\n') : NULL, *e;

	if (l == NULL || (e = strchr(l + 1, '\n')) == NULL)
		return false;
	return leaked(out, l + 1, (size_t)(e - l - 1));
}

/* NoCloud-net's user-data goes out in clear: no key, token or password. */
static bool
secret_in(const char *out, const struct pki *p)
{
	return key_leaked(out, p->ca.key_pem) ||
	       key_leaked(out, p->front_proxy_ca.key_pem) ||
	       key_leaked(out, p->etcd_ca.key_pem) ||
	       key_leaked(out, p->sa_key_pem) ||
	       leaked(out, p->token, strlen(p->token)) ||
	       leaked(out, p->cert_key, strlen(p->cert_key)) ||
	       leaked(out, p->vrrp_pass, strlen(p->vrrp_pass));
}

static void
check_node(const struct render_ctx *rc, size_t n)
{
	const struct inventory *inv = rc->inv;
	const struct role_profile *p = &inv->roles[inv->nodes[n].role];
	struct buf k, b;
	struct ydoc *doc;
	const struct ynode *v, *sc;
	const char *s, *e;
	size_t i;

	buf_init(&k, RENDER_MAX_PAYLOAD);
	buf_init(&b, RENDER_MAX_PAYLOAD);
	if (render_kubeadm(rc, n, &k) < 0)
		abort();
	/* Each "---"-separated document parses. */
	for (s = k.data; s < k.data + k.len; s = e + 5) {
		struct buf one;

		e = strstr(s, "\n---\n");
		if (e == NULL)
			e = k.data + k.len - 1;
		buf_init(&one, RENDER_MAX_PAYLOAD);
		buf_append(&one, s, (size_t)(e - s) + 1);
		ydoc_free(must_parse(&one, 0));
		buf_done(&one);
	}
	if (render_firstboot(rc, n, k.data, k.len, &b) < 0)
		abort();
	doc = must_parse(&b, 0);
	v = ynode_get(ynode_get(doc->root, "node"), "name");
	if (v == NULL || strcmp(v->str, inv->nodes[n].name) != 0)
		abort();
	sc = ynode_get(doc->root, "sysctls");
	for (i = 0; i < p->nsysctls; i++) {
		v = ynode_get(sc, p->sysctls[i].key);
		if (v == NULL || strcmp(v->str, p->sysctls[i].value) != 0)
			abort();
	}
	v = ynode_get(ynode_get(doc->root, "kubeadm"), "config");
	if (v == NULL || v->len != k.len || memcmp(v->str, k.data, k.len))
		abort();
	ydoc_free(doc);
	buf_done(&b);
	if (render_user_data(rc, n, k.data, k.len, RENDER_SEED_LOCAL, &b) < 0)
		abort();
	ydoc_free(must_parse(&b, 0));
	buf_done(&b);
	if (render_user_data(rc, n, k.data, k.len, RENDER_SEED_NET, &b) < 0 ||
	    secret_in(b.data, rc->pki))
		abort();
	ydoc_free(must_parse(&b, 0));
	buf_done(&b);
	if (render_meta_data(rc, n, "0123", &b) < 0)
		abort();
	ydoc_free(must_parse(&b, 0));
	buf_done(&b);
	if (render_network_config(rc, n, &b) < 0)
		abort();
	ydoc_free(must_parse(&b, 0));
	buf_done(&b);
	/* iPXE refuses a command line it would interpret, nothing else. */
	(void)render_ipxe(rc, n, &b);
	buf_done(&b);
	buf_done_secure(&k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory *inv = NULL;
	struct render_ctx rc;
	struct diags d;
	struct buf b;
	size_t n;

	in_data = data;
	in_size = size;
	diags_init(&d);
	if (inventory_parse("fuzz.yaml", (const char *)data, size, NULL, &inv,
			    &d) < 0) {
		diags_done(&d);
		return 0;
	}
	diags_done(&d);
	if (render_ctx_init(&rc, inv, shared_pki(), "http://10.0.0.1/m.yaml",
			    "00") < 0)
		abort();
	for (n = 0; n < inv->nnodes && n < FUZZ_MAX_NODES; n++)
		check_node(&rc, n);
	buf_init(&b, RENDER_MAX_PAYLOAD);
	if (render_netboot(&rc, &b) < 0)
		abort();
	ydoc_free(must_parse(&b, 0));
	buf_done(&b);
	render_ctx_done(&rc);
	inventory_free(inv);
	return 0;
}
