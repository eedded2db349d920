/*
 * storm.c - offer pacing (a GCRA token bucket per segment) and the
 * per-file transfer cap. Pure (storm.h).
 */
#include "storm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
storm_pace_init(struct storm_pace *p, const struct storm_pace_conf *conf)
{
	memset(p, 0, sizeof(*p));
	p->conf = *conf;
	if (p->conf.burst == 0)
		p->conf.burst = 1;
}

/*
 * The bucket of segment, made on first use. When every bucket is taken
 * (more segments than relays can name), the last one is shared.
 */
static struct storm_bucket *
bucket_of(struct storm_pace *p, uint32_t segment)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->b[i].segment == segment)
			return &p->b[i];
	if (p->n == STORM_SEGMENTS_MAX)
		return &p->b[STORM_SEGMENTS_MAX - 1];
	p->b[p->n].segment = segment;
	return &p->b[p->n++];
}

/* A random 0..jitter_ms, in microseconds. */
static uint64_t
jitter_us(const struct storm_pace *p, uint32_t rnd)
{
	if (p->conf.jitter_ms == 0)
		return 0;
	return (uint64_t)(rnd % (p->conf.jitter_ms + 1)) * 1000;
}

/*
 * GCRA: each offer advances the bucket's theoretical arrival time (tat)
 * by one interval T = 1 s / rate; an offer may go when tat is at most
 * tau = (burst - 1) * T ahead of now, else at tat - tau.
 */
enum storm_verdict
storm_pace_admit(struct storm_pace *p, uint32_t segment, uint64_t now_us,
		 uint32_t rnd, uint64_t *ret_at_us, bool *ret_paced)
{
	struct storm_bucket *b;
	uint64_t t, tau, tat, at, jit = jitter_us(p, rnd);

	*ret_paced = false;
	if (p->conf.rate == 0) {
		*ret_at_us = now_us + jit;
		return jit > 0 ? STORM_LATER : STORM_NOW;
	}
	b = bucket_of(p, segment);
	t = 1000000u / p->conf.rate;
	if (t == 0)
		t = 1;
	tau = (uint64_t)(p->conf.burst - 1) * t;
	tat = b->tat_us > now_us ? b->tat_us : now_us;
	at = (tat > tau && tat - tau > now_us) ? tat - tau : now_us;
	if (at > now_us && b->queued >= p->conf.queue_max)
		return STORM_DROP;
	b->tat_us = tat + t;
	*ret_at_us = at + jit;
	if (at > now_us) {
		b->queued++;
		*ret_paced = true;
		return STORM_LATER;
	}
	return jit > 0 ? STORM_LATER : STORM_NOW;
}

void
storm_pace_sent(struct storm_pace *p, uint32_t segment)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->b[i].segment == segment) {
			if (p->b[i].queued > 0)
				p->b[i].queued--;
			return;
		}
	}
	/* Past STORM_SEGMENTS_MAX the last bucket was shared. */
	if (p->n == STORM_SEGMENTS_MAX && p->b[p->n - 1].queued > 0)
		p->b[p->n - 1].queued--;
}

unsigned
storm_pace_queued(const struct storm_pace *p)
{
	unsigned q = 0;
	size_t i;

	for (i = 0; i < p->n; i++)
		q += p->b[i].queued;
	return q;
}

int
storm_cap_take(struct storm_caps *caps, const uint64_t key[2],
	       struct storm_cap_entry **ret)
{
	struct storm_cap_entry *e;

	for (e = caps->list; e != NULL; e = e->next)
		if (e->key[0] == key[0] && e->key[1] == key[1])
			break;
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		e->key[0] = key[0];
		e->key[1] = key[1];
		e->next = caps->list;
		caps->list = e;
	}
	*ret = e;
	if (caps->max > 0 && e->active >= caps->max)
		return -EBUSY;
	e->active++;
	return 0;
}

/* Unlink and free e when nothing holds or waits on it. */
static bool
maybe_free(struct storm_caps *caps, struct storm_cap_entry *e)
{
	struct storm_cap_entry **pp;

	if (e->active > 0 || e->waiting > 0)
		return false;
	for (pp = &caps->list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	free(e);
	return true;
}

bool
storm_cap_put(struct storm_caps *caps, struct storm_cap_entry *e)
{
	if (e->active > 0)
		e->active--;
	if (e->waiting > 0)
		return caps->max == 0 || e->active < caps->max;
	maybe_free(caps, e);
	return false;
}

void
storm_cap_unwait(struct storm_caps *caps, struct storm_cap_entry *e)
{
	if (e->waiting > 0)
		e->waiting--;
	maybe_free(caps, e);
}

void
storm_caps_done(struct storm_caps *caps)
{
	struct storm_cap_entry *e, *next;

	for (e = caps->list; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	caps->list = NULL;
}
