/* build.c - the OUT tree, built aside and swapped in (see build.h). */
#include "build.h"

#include "bundle.h"

#include "buf.h"
#include "fsutil.h"
#include "images.h"
#include "inventory.h"
#include "iso.h"
#include "num.h"
#include "path.h"
#include "pki.h"
#include "render.h"
#include "secureboot.h"
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUILD_MANIFEST_MAX (64u << 20)
#define BUILD_TAG_LEN	   12 /* hex digits of the payload hash in instance-id */
#define BUILD_NFTW_FDS	   16
#define BUILD_TRASH_TAG	   "old-" /* DIR/.BASE.old-XXXXXX: replaced trees */
/* ISO 9660 directory records count years from 1900 in one byte. */
#define BUILD_EPOCH_MAX	   5000000000ull /* 2128 */

static const char *const ipxe_files[] = { "undionly.kpxe", "ipxe.efi",
					  "snponly.efi", NULL };
static const char *const unsummed[] = { "pki", "secrets", "state", NULL };

/* ---- small helpers ------------------------------------------------------ */

static void
buf_reset(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->len);
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path; a missing path is fine. */
static int
rm_rf(const char *path)
{
	if (nftw(path, rm_one, BUILD_NFTW_FDS, FTW_DEPTH | FTW_PHYS) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

static bool
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void
hex(const uint8_t *d, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = h[d[i] >> 4];
		out[2 * i + 1] = h[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SOURCE_DATE_EPOCH, else now. */
int
build_epoch(time_t *ret)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;
	int r;

	if (s == NULL || s[0] == '\0')
		return 0;
	r = num_parse_u64(s, 0, BUILD_EPOCH_MAX, &v);
	if (r < 0)
		return -EINVAL;
	*ret = (time_t)v;
	return 1;
}

/*
 * Without SOURCE_DATE_EPOCH, ISOs carry the time the cluster CA was made
 * (its notBefore plus the backdating): fixed for as long as the PKI is
 * reused, so that rebuilds are identical by default too.
 */
static time_t
pki_epoch(const struct pki *p)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notBefore(p->ca.cert), &tm) != 1)
		return 0;
	return timegm(&tm) + PKI_BACKDATE;
}

/*
 * A program to bake into images: $env, else EXEDIR/rel1, else
 * EXEDIR/rel2, where EXEDIR is the directory of /proc/self/exe.
 */
static int
find_program(const char *env_name, const char *rel1, const char *rel2,
	     char *buf, size_t sz)
{
	char exe[PATH_MAX], cand[PATH_MAX];
	const char *env = getenv(env_name);
	const char *rel[2] = { rel1, rel2 };
	char *slash;
	ssize_t n;
	int i;

	if (env != NULL && env[0] != '\0') {
		if (!is_file(env) || (size_t)snprintf(buf, sz, "%s", env) >= sz)
			return -ENOENT;
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return -ENOENT;
	*slash = '\0';
	for (i = 0; i < 2; i++)
		if (path_join(cand, sizeof(cand), exe, rel[i]) == 0 &&
		    is_file(cand))
			return path_join(buf, sz, NULL, cand);
	return -ENOENT;
}

/* Find metalboot-firstboot (see build.h for the order). */
int
build_find_agent(char *buf, size_t sz)
{
	return find_program("METALBOOT_AGENT", "../firstboot/" BUILD_AGENT_NAME,
			    BUILD_AGENT_NAME, buf, sz);
}

/* Find metalboot-init (see build.h for the order). */
int
build_find_init(char *buf, size_t sz)
{
	return find_program("METALBOOT_INIT", "../stage1/" BUILD_INIT_NAME,
			    "../lib/metalboot/" BUILD_INIT_NAME, buf, sz);
}

/* ---- per node ------------------------------------------------------------ */

struct node_bufs {
	/* user_data: the ISO's (secrets inline); user_data_net: NoCloud-net's
	 * (public data only); secrets: the bundle it fetches over HTTPS. */
	struct buf kubeadm, firstboot, user_data, user_data_net, secrets,
		meta_data, net, iso, ipxe, grub;
};

static void
node_bufs_init(struct node_bufs *b)
{
	buf_init(&b->kubeadm, RENDER_MAX_PAYLOAD);
	buf_init(&b->firstboot, RENDER_MAX_PAYLOAD);
	buf_init(&b->user_data, RENDER_MAX_PAYLOAD);
	buf_init(&b->user_data_net, RENDER_MAX_PAYLOAD);
	buf_init(&b->secrets, BUNDLE_MAX_SIZE);
	buf_init(&b->meta_data, RENDER_MAX_PAYLOAD);
	buf_init(&b->net, RENDER_MAX_PAYLOAD);
	buf_init(&b->iso, ISO_MAX_SIZE);
	buf_init(&b->ipxe, RENDER_MAX_PAYLOAD);
	buf_init(&b->grub, RENDER_MAX_PAYLOAD);
}

static void
node_bufs_reset(struct node_bufs *b)
{
	buf_reset(&b->kubeadm);
	buf_reset(&b->firstboot);
	buf_reset(&b->user_data);
	buf_reset(&b->user_data_net);
	buf_reset(&b->secrets);
	buf_reset(&b->meta_data);
	buf_reset(&b->net);
	buf_reset(&b->iso);
	buf_reset(&b->ipxe);
	buf_reset(&b->grub);
}

static void
node_bufs_done(struct node_bufs *b)
{
	buf_done_secure(&b->kubeadm);
	buf_done_secure(&b->firstboot);
	buf_done_secure(&b->user_data);
	buf_done(&b->user_data_net);
	buf_done_secure(&b->secrets);
	buf_done(&b->meta_data);
	buf_done(&b->net);
	buf_done_secure(&b->iso);
	buf_done(&b->ipxe);
	buf_done(&b->grub);
}

/*
 * Render the NoCloud files of node n into b (kubeadm first, which
 * user-data holds): the ISO's user-data, NoCloud-net's and its secret
 * bundle. The instance-id changes with the payload (either user-data), so
 * that cloud-init treats a changed seed as a new instance.
 */
static int
render_nocloud(const struct render_ctx *rc, size_t n, time_t epoch,
	       struct node_bufs *b)
{
	uint8_t d[SHA256_DIGEST_LENGTH];
	char tag[2 * SHA256_DIGEST_LENGTH + 1];
	EVP_MD_CTX *sc;
	int r, ok;

	r = render_user_data(rc, n, b->kubeadm.data, b->kubeadm.len,
			     RENDER_SEED_LOCAL, &b->user_data);
	if (r == 0)
		r = render_user_data(rc, n, b->kubeadm.data, b->kubeadm.len,
				     RENDER_SEED_NET, &b->user_data_net);
	if (r == 0)
		r = render_secret_bundle(rc, n, b->kubeadm.data, b->kubeadm.len,
					 epoch, &b->secrets);
	if (r == 0)
		r = render_network_config(rc, n, &b->net);
	if (r < 0)
		return r;
	sc = EVP_MD_CTX_new();
	if (sc == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(sc, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(sc, b->user_data.data, b->user_data.len) &&
	     EVP_DigestUpdate(sc, b->user_data_net.data,
			      b->user_data_net.len) &&
	     EVP_DigestUpdate(sc, b->net.data, b->net.len) &&
	     EVP_DigestFinal_ex(sc, d, NULL);
	EVP_MD_CTX_free(sc);
	if (!ok)
		return -EIO;
	hex(d, SHA256_DIGEST_LENGTH, tag);
	tag[BUILD_TAG_LEN] = '\0';
	return render_meta_data(rc, n, tag, &b->meta_data);
}

static int
make_iso(struct node_bufs *b, time_t epoch)
{
	struct iso_file f[3] = {
		{ "user-data", b->user_data.data, b->user_data.len, 0600 },
		{ "meta-data", b->meta_data.data, b->meta_data.len, 0644 },
		{ "network-config", b->net.data, b->net.len, 0644 },
	};

	return iso_write(f, 3, epoch, &b->iso);
}

static int
node_build(const struct render_ctx *rc, struct tree *t, size_t n, time_t epoch,
	   struct node_bufs *b)
{
	const char *name = rc->inv->nodes[n].name;
	char p[PATH_MAX];
	int r;

	node_bufs_reset(b);
	r = render_kubeadm(rc, n, &b->kubeadm);
	if (r == 0)
		r = render_firstboot(rc, n, b->kubeadm.data, b->kubeadm.len,
				     &b->firstboot);
	if (r == 0)
		r = render_nocloud(rc, n, epoch, b);
	if (r == 0)
		r = make_iso(b, epoch);
	if (r == 0)
		r = render_ipxe(rc, n, &b->ipxe);
	if (r == 0 && rc->inv->nodes[n].secure_boot)
		r = render_grub(rc, n, &b->grub);
	if (r < 0)
		return r;
#define PUT(FMT, B, MODE)                                                      \
	do {                                                                   \
		snprintf(p, sizeof(p), FMT, name);                             \
		r = tree_write(t, p, (B)->data, (B)->len, MODE, true);         \
		if (r < 0)                                                     \
			return r;                                              \
	} while (0)
	PUT("nodes/%s/kubeadm.yaml", &b->kubeadm, 0600);
	PUT("nodes/%s/firstboot.yaml", &b->firstboot, 0600);
	PUT("nodes/%s/cloud-init/user-data", &b->user_data_net, 0600);
	PUT("nodes/%s/secrets.tar", &b->secrets, 0600);
	PUT("nodes/%s/cloud-init/meta-data", &b->meta_data, 0644);
	PUT("nodes/%s/cloud-init/network-config", &b->net, 0644);
	PUT("nodes/%s/seed.iso", &b->iso, 0600);
	PUT("boot/%s.ipxe", &b->ipxe, 0644);
	if (rc->inv->nodes[n].secure_boot)
		PUT("boot/%s.grub.cfg", &b->grub, 0644);
#undef PUT
	return 0;
}

struct pool {
	const struct render_ctx *rc;
	struct tree *t;
	time_t epoch;
	atomic_size_t next;
	atomic_int err;
	atomic_size_t failed_node;
};

static void *
worker(void *arg)
{
	struct pool *pl = arg;
	struct node_bufs b;

	node_bufs_init(&b);
	while (atomic_load(&pl->err) == 0) {
		size_t n = atomic_fetch_add(&pl->next, 1);
		int r;

		if (n >= pl->rc->inv->nnodes)
			break;
		r = node_build(pl->rc, pl->t, n, pl->epoch, &b);
		if (r < 0) {
			int zero = 0;

			if (atomic_compare_exchange_strong(&pl->err, &zero, r))
				atomic_store(&pl->failed_node, n);
		}
	}
	node_bufs_done(&b);
	return NULL;
}

/* Build every node with jobs threads. Returns 0 or the first error. */
static int
build_nodes(const struct render_ctx *rc, struct tree *t, time_t epoch, int jobs,
	    struct diags *d)
{
	pthread_t th[BUILD_MAX_JOBS];
	struct pool pl;
	int i, started = 0, r;

	memset(&pl, 0, sizeof(pl));
	pl.rc = rc;
	pl.t = t;
	pl.epoch = epoch;
	atomic_init(&pl.next, 0);
	atomic_init(&pl.err, 0);
	atomic_init(&pl.failed_node, 0);
	if ((size_t)jobs > rc->inv->nnodes)
		jobs = (int)rc->inv->nnodes;
	for (i = 1; i < jobs; i++) {
		if (pthread_create(&th[started], NULL, worker, &pl) != 0)
			break; /* fewer threads; the work still gets done */
		started++;
	}
	worker(&pl);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	r = atomic_load(&pl.err);
	if (r < 0)
		diags_add(d, DIAG_ERROR, rc->inv->file,
			  rc->inv->nodes[atomic_load(&pl.failed_node)].line,
			  rc->inv->nodes[atomic_load(&pl.failed_node)].col,
			  "node '%s': cannot write its files: %s",
			  rc->inv->nodes[atomic_load(&pl.failed_node)].name,
			  strerror(-r));
	return r;
}

/*
 * The bootstrap token: a new one with --new-token; else a warning when the
 * one reused may have expired in the cluster (kubeadm init made it valid
 * for token_ttl, and init ran after it was made), since a node added
 * now could not join with it.
 */
static int
token_check(struct pki *pki, const struct inventory *inv, bool renew,
	    time_t now, struct diags *d)
{
	char when[32];
	struct tm tm;

	if (renew)
		return pki_token_renew(pki, now, inv->cluster.token_ttl);
	if (pki->token_expires > now)
		return 0;
	gmtime_r(&pki->token_expires, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	diags_add(d, DIAG_WARNING, inv->file, 0, 0,
		  "the bootstrap token expired at %s (its token_ttl from "
		  "when it was made): a node that joins with it may be "
		  "refused; build again with --new-token and apply "
		  "OUT/secrets/bootstrap-token.yaml with kubectl (README, "
		  "\"Adding nodes later\")",
		  when);
	return 0;
}

/* ---- shared files ---------------------------------------------------------
 */

/*
 * The CNI manifest: a local file is published under public/manifests/ and
 * referenced on the netboot server; a URL is passed on and needs its
 * sha256 in the inventory, because the agent verifies what it fetches.
 */
static int
prepare_cni(const struct inventory *inv, struct tree *t, char **ret_url,
	    char **ret_sha, struct diags *d)
{
	const char *m = inv->cluster.cni_manifest;
	uint8_t dg[SHA256_DIGEST_LENGTH];
	char sha[2 * SHA256_DIGEST_LENGTH + 1], rel[PATH_MAX], ip[IPV4_STR_LEN];
	char *data = NULL;
	size_t len;
	int r;

	*ret_url = *ret_sha = NULL;
	if (m == NULL)
		return 0;
	if (strncmp(m, "http://", 7) == 0 || strncmp(m, "https://", 8) == 0) {
		if (inv->cluster.cni_sha256 == NULL) {
			diags_add(d, DIAG_ERROR, inv->file, 0, 0,
				  "cluster.cni.manifest is a URL: set "
				  "cluster.cni.sha256 to its SHA-256 (the "
				  "agent verifies the download)");
			return -EINVAL;
		}
		*ret_url = strdup(m);
		*ret_sha = strdup(inv->cluster.cni_sha256);
		return *ret_url && *ret_sha ? 0 : -ENOMEM;
	}
	r = read_file(m, BUILD_MANIFEST_MAX, &data, &len);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, inv->file, 0, 0,
			  "cluster.cni.manifest %s: %s", m, strerror(-r));
		return -EINVAL;
	}
	SHA256((const uint8_t *)data, len, dg);
	hex(dg, SHA256_DIGEST_LENGTH, sha);
	if (inv->cluster.cni_sha256 != NULL &&
	    strcmp(sha, inv->cluster.cni_sha256) != 0) {
		diags_add(d, DIAG_ERROR, inv->file, 0, 0,
			  "cluster.cni.manifest %s has SHA-256 %s, not "
			  "cluster.cni.sha256 %s",
			  m, sha, inv->cluster.cni_sha256);
		r = -EINVAL;
		goto out;
	}
	snprintf(rel, sizeof(rel), "public/manifests/%s.yaml",
		 inv->cluster.cni_name);
	r = tree_write(t, rel, data, len, 0644, true);
	if (r < 0)
		goto out;
	ipv4_format(inv->network.server_ip, ip);
	snprintf(rel, sizeof(rel), "http://%s:%u/files/manifests/%s.yaml", ip,
		 RENDER_HTTP_PORT, inv->cluster.cni_name);
	*ret_url = strdup(rel);
	*ret_sha = strdup(sha);
	r = *ret_url && *ret_sha ? 0 : -ENOMEM;
out:
	free(data);
	return r;
}

static int
copy_ipxe(const char *dir, struct tree *t)
{
	char src[PATH_MAX], rel[PATH_MAX];
	size_t i;
	int r;

	for (i = 0; ipxe_files[i] != NULL; i++) {
		snprintf(src, sizeof(src), "%s/%s", dir, ipxe_files[i]);
		if (!is_file(src))
			continue;
		snprintf(rel, sizeof(rel), "public/ipxe/%s", ipxe_files[i]);
		r = tree_copy(t, src, rel, 0644);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
write_shared(const struct render_ctx *rc, struct tree *t)
{
	struct buf b;
	char line[PKI_HASH_STR_LEN + 2];
	int r;

	buf_init(&b, RENDER_MAX_PAYLOAD);
	r = render_netboot(rc, &b);
	if (r == 0)
		r = tree_write(t, "netboot.yaml", b.data, b.len, 0644, true);
	buf_done(&b);
	if (r < 0)
		return r;
	snprintf(line, sizeof(line), "%s\n", rc->pki->discovery_hash);
	r = tree_write(t, "discovery-hash", line, strlen(line), 0644, true);
	if (r == 0)
		r = tree_mkdir(t, "public", 0755);
	if (r == 0)
		r = tree_mkdir(t, "boot", 0755);
	return r;
}

/* Checks that need the whole inventory, done before anything is written. */
static int
check_inventory(const struct inventory *inv, struct diags *d)
{
	const char *s;

	for (s = inv->boot.cmdline; *s != '\0'; s++)
		if (strchr("$|&'\\`#", *s) != NULL) {
			diags_add(d, DIAG_ERROR, inv->file, 0, 0,
				  "boot.cmdline holds '%c', which iPXE would "
				  "interpret (it has no quoting)",
				  *s);
			return -EINVAL;
		}
	return 0;
}

/* ---- the swap --------------------------------------------------------- */

/*
 * OUT is replaced as a whole, so it must be ours: absent, a directory
 * holding only pki/, secrets/ or state/ (a pre-seeded PKI), or a previous
 * build (it has netboot.yaml). This keeps "-o ~" from swapping a home
 * directory away.
 */
static int
check_out(const char *out, struct diags *d)
{
	char p[PATH_MAX];
	struct stat st;
	struct dirent *de;
	DIR *dir;
	bool empty = true;

	if (lstat(out, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode)) {
		diags_add(d, DIAG_ERROR, "-o", 0, 0,
			  "%s exists and is not a directory", out);
		return -EINVAL;
	}
	snprintf(p, sizeof(p), "%s/netboot.yaml", out);
	if (is_file(p))
		return 0;
	dir = opendir(out);
	if (dir == NULL)
		return -errno;
	/* Pre-seeded pki/ and secrets/ (and netboot's state/) are fine. */
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "pki") != 0 &&
		    strcmp(de->d_name, "secrets") != 0 &&
		    strcmp(de->d_name, "state") != 0)
			empty = false;
	closedir(dir);
	if (empty)
		return 0;
	diags_add(d, DIAG_ERROR, "-o", 0, 0,
		  "%s holds files and is not a metalboot-build output "
		  "(no netboot.yaml): refusing to replace it",
		  out);
	return -EINVAL;
}

/* "DIR/.BASE.SUFFIX" for OUT = DIR/BASE, into buf. */
static int
out_sibling(const char *out, const char *suffix, char *buf, size_t sz)
{
	char copy[PATH_MAX], *slash;
	const char *dir = ".", *base;

	if ((size_t)snprintf(copy, sizeof(copy), "%s", out) >= sizeof(copy))
		return -ENAMETOOLONG;
	while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
		copy[strlen(copy) - 1] = '\0';
	slash = strrchr(copy, '/');
	if (slash != NULL) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		base = slash + 1;
	} else {
		base = copy;
	}
	if ((size_t)snprintf(buf, sz, "%s/.%s.%s", dir, base, suffix) >= sz)
		return -ENAMETOOLONG;
	return 0;
}

static int
make_tmp(const char *out, char *tmp, size_t sz)
{
	int r = out_sibling(out, "tmpXXXXXX", tmp, sz);

	if (r < 0)
		return r;
	if (mkdtemp(tmp) == NULL)
		return -errno;
	if (chmod(tmp, 0755) < 0)
		return -errno;
	return 0;
}

/* Remove every DIR/.BASE.old-* (trees replaced by earlier builds). */
static void
sweep_old(const char *out)
{
	char pat[PATH_MAX], path[PATH_MAX], *slash;
	struct dirent *de;
	DIR *dir;

	if (out_sibling(out, BUILD_TRASH_TAG, pat, sizeof(pat)) < 0)
		return;
	slash = strrchr(pat, '/');
	*slash = '\0';
	dir = opendir(pat);
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		size_t n = strlen(slash + 1);

		if (strncmp(de->d_name, slash + 1, n) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", pat,
				     de->d_name) < sizeof(path))
			rm_rf(path);
	}
	closedir(dir);
}

/*
 * Remove the replaced tree, now at old, without holding the build up:
 * removing thousands of directories takes seconds on some file systems
 * (ext4 with online discard frees each one synchronously). The tree is
 * renamed to DIR/.BASE.old-XXXXXX and removed, with any such leftovers of
 * an interrupted earlier removal, by a detached grandchild process. When
 * that cannot be arranged it is removed here. Called with no other thread
 * running.
 */
static void
discard_old(const char *old, const char *out)
{
	char trash[PATH_MAX];
	pid_t pid;
	int fd;

	if (out_sibling(out, BUILD_TRASH_TAG "XXXXXX", trash, sizeof(trash)) <
		    0 ||
	    mkdtemp(trash) == NULL) {
		rm_rf(old);
		return;
	}
	/* rename(2) replaces the empty directory mkdtemp made. */
	if (rename(old, trash) < 0) {
		rmdir(trash);
		rm_rf(old);
		return;
	}
	pid = fork();
	if (pid < 0) {
		rm_rf(trash);
		return;
	}
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		return;
	}
	/* The child: detach, leave the caller's descriptors, remove. */
	setsid();
	if (fork() != 0)
		_exit(0);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	close_range(3, ~0u, 0);
	sweep_old(out);
	_exit(0);
}

/*
 * Put tmp in place of out. When out exists the two are exchanged
 * atomically (renameat2 RENAME_EXCHANGE) after its state/ has been moved
 * over, and the old tree, now at tmp, is discarded (discard_old).
 */
static int
swap_in(const char *tmp, const char *out)
{
	char from[PATH_MAX], to[PATH_MAX];
	bool moved = false;
	int fd, r;

	/* Data first, then the names: sync the new tree's file system. */
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
	if (!is_dir(out)) {
		if (rename(tmp, out) < 0)
			return -errno;
		return fsync_parent(out);
	}
	if (path_join(from, sizeof(from), out, "state") < 0 ||
	    path_join(to, sizeof(to), tmp, "state") < 0)
		return -ENAMETOOLONG;
	if (is_dir(from)) {
		if (rename(from, to) < 0)
			return -errno;
		moved = true;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) < 0) {
		r = -errno;
		if (moved)
			rename(to, from);
		return r;
	}
	fsync_parent(out);
	discard_old(tmp, out);
	return 0;
}

/* ---- build ------------------------------------------------------------ */

static int
default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > BUILD_MAX_JOBS ? BUILD_MAX_JOBS : (int)n;
}

/* Build OUT (see build.h). */
int
build_run(const struct build_opts *o, struct diags *d)
{
	struct inventory *inv = NULL;
	struct render_ctx rc;
	struct pki pki;
	struct tree t;
	char tmp[PATH_MAX], agent[PATH_MAX], ca[PATH_MAX], pub[PATH_MAX];
	char init[PATH_MAX];
	char *cni_url = NULL, *cni_sha = NULL;
	const char *base;
	bool have_tmp = false;
	int r, jobs;

	memset(&rc, 0, sizeof(rc));
	memset(&pki, 0, sizeof(pki));
	t.rootfd = -1;
	t.sums = NULL;
	t.n = t.cap = 0;
	iso_setup_process();
	r = inventory_load(o->inventory, o->profiles, &inv, d);
	if (r < 0)
		goto out;
	r = check_inventory(inv, d);
	if (r == 0)
		r = render_check_repos(inv, o->apt_repo, o->rpm_repo, d);
	if (r == 0 && o->kernel != NULL && o->base == NULL &&
	    inv->boot.base == NULL) {
		diags_add(d, DIAG_ERROR, "--kernel", 0, 0,
			  "the kernel goes into node images, which need "
			  "--base or boot.base");
		r = -EINVAL;
	}
	if (r == 0)
		r = check_out(o->out, d);
	if (r < 0)
		goto out;
	r = make_tmp(o->out, tmp, sizeof(tmp));
	if (r < 0) {
		diags_add(d, DIAG_ERROR, o->out, 0, 0,
			  "-o: cannot create a directory beside it: %s",
			  strerror(-r));
		r = -EINVAL;
		goto out;
	}
	have_tmp = true;
	r = pki_prepare(&pki, inv, is_dir(o->out) ? o->out : NULL, o->rotate,
			time(NULL), d);
	if (r == 0)
		r = token_check(&pki, inv, o->new_token, time(NULL), d);
	if (r < 0)
		goto out;
	r = pki_write(&pki, inv, tmp);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, tmp, 0, 0, "cannot write pki/: %s",
			  strerror(-r));
		goto out;
	}
	r = tree_open(&t, tmp);
	if (r < 0)
		goto out;
	/* Unchanged files of the previous OUT are linked, not rewritten. */
	if (is_dir(o->out))
		tree_reuse_from(&t, o->out);
	r = prepare_cni(inv, &t, &cni_url, &cni_sha, d);
	if (r < 0)
		goto out;
	r = render_ctx_init(&rc, inv, &pki, cni_url, cni_sha);
	if (r < 0)
		goto out;
	rc.apt_repo = o->apt_repo;
	rc.rpm_repo = o->rpm_repo;
	r = write_shared(&rc, &t);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, tmp, 0, 0, "cannot write: %s",
			  strerror(-r));
		goto out;
	}
	r = copy_ipxe(o->ipxe_dir ? o->ipxe_dir : BUILD_IPXE_DIR, &t);
	if (r < 0) {
		diags_add(d, DIAG_ERROR,
			  o->ipxe_dir ? o->ipxe_dir : BUILD_IPXE_DIR, 0, 0,
			  "cannot copy iPXE binaries: %s", strerror(-r));
		goto out;
	}
	if (sb_wanted(inv)) {
		r = sb_install(o->shim, o->grub, &t, d);
		if (r < 0)
			goto out;
	}
	jobs = o->jobs > 0 ? o->jobs : default_jobs();
	if (jobs > BUILD_MAX_JOBS)
		jobs = BUILD_MAX_JOBS;
	r = build_nodes(&rc, &t, o->epoch_set ? o->epoch : pki_epoch(&pki),
			jobs, d);
	if (r < 0)
		goto out;
	base = o->base != NULL ? o->base : inv->boot.base;
	if (base != NULL) {
		struct images_req req;

		if (o->agent != NULL) {
			if (path_join(agent, sizeof(agent), NULL, o->agent) <
			    0) {
				diags_add(d, DIAG_ERROR, o->agent, 0, 0,
					  "agent path too long");
				r = -ENAMETOOLONG;
				goto out;
			}
		} else if (build_find_agent(agent, sizeof(agent)) < 0) {
			diags_add(d, DIAG_ERROR, base, 0, 0,
				  "%s not found (set METALBOOT_AGENT, or "
				  "build it next to metalboot-build)",
				  BUILD_AGENT_NAME);
			r = -EINVAL;
			goto out;
		}
		if (path_join(ca, sizeof(ca), tmp, "pki/provisioning-ca.crt") <
			    0 ||
		    path_join(pub, sizeof(pub), tmp, "public") < 0) {
			diags_add(d, DIAG_ERROR, tmp, 0, 0,
				  "output path too long");
			r = -ENAMETOOLONG;
			goto out;
		}
		memset(&req, 0, sizeof(req));
		req.inv = inv;
		req.base = base;
		req.kernel = o->kernel ? o->kernel : inv->boot.kernel;
		req.out_public = pub;
		req.ca_pem = ca;
		req.agent = agent;
		/* Only a systemd base needs it; images.c says so if absent. */
		req.init =
			build_find_init(init, sizeof(init)) == 0 ? init : NULL;
		req.jobs = jobs;
		r = images_build(&req, d);
		if (r < 0)
			goto out;
	}
	r = tree_write_sums(&t, unsummed);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, tmp, 0, 0,
			  "cannot write SHA256SUMS: %s", strerror(-r));
		goto out;
	}
	r = swap_in(tmp, o->out);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, o->out, 0, 0,
			  "cannot move the new tree into place: %s",
			  strerror(-r));
		goto out;
	}
	have_tmp = false;
out:
	if (have_tmp)
		rm_rf(tmp);
	tree_done(&t);
	render_ctx_done(&rc);
	pki_done(&pki);
	free(cni_url);
	free(cni_sha);
	inventory_free(inv);
	return r;
}

/* One node's seed ISO (see build.h). */
int
build_iso(const char *inventory, const char *profiles, const char *node,
	  const char *from_dir, const char *iso_path, const time_t *epoch,
	  const char *apt_repo, const char *rpm_repo, bool *ret_fresh,
	  struct diags *d)
{
	struct inventory *inv = NULL;
	struct render_ctx rc;
	struct node_bufs b;
	struct pki pki;
	size_t n;
	int r;

	memset(&rc, 0, sizeof(rc));
	memset(&pki, 0, sizeof(pki));
	node_bufs_init(&b);
	iso_setup_process();
	r = inventory_load(inventory, profiles, &inv, d);
	if (r < 0)
		goto out;
	r = render_check_repos(inv, apt_repo, rpm_repo, d);
	if (r < 0)
		goto out;
	for (n = 0; n < inv->nnodes; n++)
		if (strcmp(inv->nodes[n].name, node) == 0)
			break;
	if (n == inv->nnodes) {
		diags_add(d, DIAG_ERROR, inventory, 0, 0,
			  "no node named '%s' in the inventory", node);
		r = -EINVAL;
		goto out;
	}
	if (from_dir != NULL && !is_dir(from_dir)) {
		diags_add(d, DIAG_ERROR, "--from", 0, 0,
			  "%s is not a directory", from_dir);
		r = -EINVAL;
		goto out;
	}
	r = pki_prepare(&pki, inv, from_dir, false, time(NULL), d);
	if (r < 0)
		goto out;
	*ret_fresh = from_dir == NULL;
	r = render_ctx_init(&rc, inv, &pki, NULL, NULL);
	rc.apt_repo = apt_repo;
	rc.rpm_repo = rpm_repo;
	if (r == 0)
		r = render_kubeadm(&rc, n, &b.kubeadm);
	if (r == 0)
		r = render_nocloud(&rc, n, epoch ? *epoch : pki_epoch(&pki),
				   &b);
	if (r == 0)
		r = make_iso(&b, epoch ? *epoch : pki_epoch(&pki));
	if (r < 0) {
		diags_add(d, DIAG_ERROR, inventory, 0, 0,
			  "node '%s': cannot make its seed: %s", node,
			  strerror(-r));
		goto out;
	}
	r = atomic_write(iso_path, b.iso.data, b.iso.len, 0600);
	if (r < 0) {
		diags_add(d, DIAG_ERROR, "-o", 0, 0, "cannot write %s: %s",
			  iso_path, strerror(-r));
		/* A path the user gave that cannot be written: their error. */
		if (r != -ENOMEM && r != -EIO)
			r = -EINVAL;
	}
out:
	node_bufs_done(&b);
	render_ctx_done(&rc);
	pki_done(&pki);
	inventory_free(inv);
	return r;
}
