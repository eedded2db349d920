/*
 * leases.c - the DHCP lease table and its file. See leases.h.
 */
#include "leases.h"

#include "buf.h"
#include "fsutil.h"
#include "num.h"
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 32 /* longest field of a lease line */

static const char *const state_names[] = { "offered", "bound", "released",
					   "declined" };

/* See leases.h. */
void
leases_init(struct leases *t)
{
	t->v = NULL;
	t->n = 0;
	t->cap = 0;
}

/* See leases.h. */
void
leases_done(struct leases *t)
{
	if (t == NULL)
		return;
	free(t->v);
	leases_init(t);
}

/* See leases.h. */
struct lease *
leases_find_mac(struct leases *t, const uint8_t mac[MAC_LEN])
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].state != LEASE_DECLINED &&
		    memcmp(t->v[i].mac, mac, MAC_LEN) == 0)
			return &t->v[i];
	return NULL;
}

/* See leases.h. */
struct lease *
leases_find_ip(struct leases *t, uint32_t ip)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].ip == ip)
			return &t->v[i];
	return NULL;
}

static void
remove_at(struct leases *t, size_t i)
{
	t->v[i] = t->v[t->n - 1];
	t->n--;
}

/* See leases.h. */
void
leases_remove_mac(struct leases *t, const uint8_t mac[MAC_LEN])
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].state != LEASE_DECLINED &&
		    memcmp(t->v[i].mac, mac, MAC_LEN) == 0) {
			remove_at(t, i);
			return;
		}
	}
}

/* See leases.h. */
size_t
leases_declined_by(const struct leases *t, const uint8_t mac[MAC_LEN])
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		if (t->v[i].state == LEASE_DECLINED &&
		    memcmp(t->v[i].mac, mac, MAC_LEN) == 0)
			n++;
	return n;
}

/* See leases.h. */
int
leases_set(struct leases *t, const uint8_t mac[MAC_LEN], uint32_t ip,
	   enum lease_state state, int64_t expires)
{
	struct lease *l;
	size_t i;

	if (state == LEASE_DECLINED) {
		const struct lease *old = leases_find_ip(t, ip);
		size_t held = leases_declined_by(t, mac);

		if (old != NULL && old->state == LEASE_DECLINED &&
		    memcmp(old->mac, mac, MAC_LEN) == 0)
			held--; /* replaced below */
		if (held >= LEASES_PER_MAC - 1)
			return -EDQUOT;
	}
	/* Whoever held ip before loses it: one address, one machine. */
	for (i = 0; i < t->n;) {
		if (t->v[i].ip == ip ||
		    (state != LEASE_DECLINED &&
		     t->v[i].state != LEASE_DECLINED &&
		     memcmp(t->v[i].mac, mac, MAC_LEN) == 0))
			remove_at(t, i);
		else
			i++;
	}
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct lease *nv;

		if (t->n >= LEASES_MAX)
			return -ENOSPC;
		if (ncap > LEASES_MAX)
			ncap = LEASES_MAX;
		nv = realloc(t->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		t->v = nv;
		t->cap = ncap;
	}
	l = &t->v[t->n++];
	memcpy(l->mac, mac, MAC_LEN);
	l->ip = ip;
	l->state = (uint8_t)state;
	l->expires = expires;
	return 0;
}

/* See leases.h. */
size_t
leases_prune(struct leases *t, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < t->n;) {
		const struct lease *l = &t->v[i];

		if ((l->state == LEASE_OFFERED || l->state == LEASE_DECLINED) &&
		    l->expires <= now) {
			remove_at(t, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

/* See leases.h. */
bool
lease_active(const struct lease *l, int64_t now)
{
	return (l->state == LEASE_OFFERED || l->state == LEASE_BOUND) &&
	       l->expires > now;
}

/* See leases.h. */
size_t
leases_count(const struct leases *t, enum lease_state state, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		if (t->v[i].state == state && t->v[i].expires > now)
			n++;
	return n;
}

/* See leases.h. */
int
lease_state_parse(const char *name)
{
	size_t st;

	for (st = 0; st < sizeof(state_names) / sizeof(state_names[0]); st++)
		if (strcmp(name, state_names[st]) == 0)
			return (int)st;
	return -EINVAL;
}

const char *
lease_state_name(uint8_t state)
{
	if (state < sizeof(state_names) / sizeof(state_names[0]))
		return state_names[state];
	return "unknown";
}

/* See leases.h. */
int
leases_format(const struct leases *t, char **ret, size_t *ret_len)
{
	struct buf b;
	char *s = NULL;
	size_t i;
	int r;

	buf_init(&b, LEASES_FILE_MAX);
	r = buf_puts(&b, LEASES_HEADER);
	for (i = 0; r == 0 && i < t->n; i++) {
		const struct lease *l = &t->v[i];
		char mac[MAC_STR_LEN], ip[IPV4_STR_LEN];

		mac_format(l->mac, mac);
		ipv4_format(l->ip, ip);
		r = buf_printf(&b, "%s %s %s %lld\n", mac, ip,
			       lease_state_name(l->state),
			       (long long)l->expires);
	}
	if (r < 0)
		goto out;
	s = buf_take(&b, ret_len);
	if (s == NULL) {
		r = -ENOMEM;
		goto out;
	}
	*ret = s;
out:
	buf_done(&b);
	return r;
}

/*
 * Cut the next space-separated field of [*p, end) into dst (FIELD_MAX
 * bytes). -EINVAL when it is empty or too long.
 */
static int
next_field(const char **p, const char *end, char dst[FIELD_MAX])
{
	const char *s = *p, *e;
	size_t n;

	e = memchr(s, ' ', (size_t)(end - s));
	if (e == NULL)
		e = end;
	n = (size_t)(e - s);
	if (n == 0 || n >= FIELD_MAX)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	*p = e < end ? e + 1 : e;
	return 0;
}

static int
parse_line(struct leases *t, const char *s, const char *end)
{
	char f[FIELD_MAX];
	uint8_t mac[MAC_LEN];
	uint32_t ip;
	uint64_t exp;
	size_t st;
	int r;

	r = next_field(&s, end, f);
	if (r == 0)
		r = mac_parse(f, mac);
	if (r == 0)
		r = next_field(&s, end, f);
	if (r == 0)
		r = ipv4_parse(f, &ip);
	if (r == 0)
		r = next_field(&s, end, f);
	if (r < 0)
		return -EINVAL;
	for (st = 0; st < sizeof(state_names) / sizeof(state_names[0]); st++)
		if (strcmp(f, state_names[st]) == 0)
			break;
	if (st == sizeof(state_names) / sizeof(state_names[0]))
		return -EINVAL;
	r = next_field(&s, end, f);
	if (r < 0 || s != end)
		return -EINVAL;
	r = num_parse_u64(f, 0, INT64_MAX, &exp);
	if (r < 0)
		return -EINVAL;
	r = leases_set(t, mac, ip, (enum lease_state)st, (int64_t)exp);
	/* A file from before the cap: the surplus declines are dropped. */
	return r == -EDQUOT ? 0 : r;
}

/* See leases.h. */
int
leases_parse(struct leases *t, const char *text, size_t len, size_t *ret_line)
{
	const char *p = text, *end = text + len;
	size_t line = 0;
	int r = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		line++;
		if (e > p && *p != '#') {
			r = parse_line(t, p, e);
			if (r < 0) {
				*ret_line = line;
				return r;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* See leases.h. */
int
leases_load(struct leases *t, const char *dir, size_t *ret_line)
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	int r;

	r = path_join(path, sizeof(path), dir, LEASES_FILE);
	if (r < 0)
		return r;
	r = read_file(path, LEASES_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = leases_parse(t, text, len, ret_line);
	free(text);
	return r;
}

/* See leases.h. */
int
leases_save(const struct leases *t, const char *dir)
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	int r;

	r = path_join(path, sizeof(path), dir, LEASES_FILE);
	if (r < 0)
		return r;
	r = leases_format(t, &text, &len);
	if (r < 0)
		return r;
	r = atomic_write(path, text, len, 0600);
	free(text);
	return r;
}
