/*
 * storm.h - storm control for boot storms (a rack powered on at once):
 * pacing of DHCP offers per segment, and a cap on concurrent transfers of
 * one boot file. Pure: no clock, no randomness, no I/O; callers pass the
 * time and a random number, and carry out the decisions.
 *
 * Pacing is a token bucket per segment (the local segment, or a relay's
 * giaddr), kept as a GCRA schedule: an offer within the bucket goes out
 * now, one beyond it is scheduled for the moment the bucket has a token
 * again (delayed), and one that would wait behind more than queue_max
 * others is dropped, so that the client's DISCOVER retransmission asks
 * again later. Jitter spreads every offer over [0, jitter_ms] on top.
 *
 * The file cap counts the transfers of each file (by a 128-bit key: the
 * device and inode) and refuses one past max; the caller drops it (TFTP:
 * the client retransmits its request) or holds it until a transfer of the
 * same file ends (HTTP: the request waits, the client sees no error).
 */
#ifndef MB_NB_STORM_H
#define MB_NB_STORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORM_SEGMENTS_MAX 65	  /* buckets: local + NB_CONFIG_MAX_RELAYS */
#define STORM_RATE_MAX	   100000 /* offers per second per segment */
#define STORM_BURST_DFLT   16
#define STORM_BURST_MAX	   100000
#define STORM_JITTER_MAX   10000 /* ms */
#define STORM_QUEUE_DFLT   1024
#define STORM_QUEUE_MAX	   65536
#define STORM_FILE_CAP_MAX 65536 /* transfers per file */

/* dhcp.pace in netboot.yaml. rate 0 = unpaced (the default). */
struct storm_pace_conf {
	unsigned rate;	    /* offers per second per segment */
	unsigned burst;	    /* offers at once before pacing starts */
	unsigned jitter_ms; /* each offer waits a random 0..jitter_ms */
	unsigned queue_max; /* offers waiting per segment, then drops */
};

struct storm_bucket {
	uint32_t segment;
	uint64_t tat_us; /* GCRA: when the bucket is full again */
	unsigned queued; /* offers scheduled, not yet sent */
};

struct storm_pace {
	struct storm_pace_conf conf;
	struct storm_bucket b[STORM_SEGMENTS_MAX];
	size_t n;
};

enum storm_verdict {
	STORM_NOW,   /* send at once */
	STORM_LATER, /* send at *ret_at_us (jitter or the bucket) */
	STORM_DROP,  /* the queue is full: drop, the client retries */
};

/* Initialise p with conf (copied). */
void storm_pace_init(struct storm_pace *p, const struct storm_pace_conf *conf);

/*
 * Admit one offer on segment at now_us; rnd is a random number for the
 * jitter. Returns STORM_NOW, STORM_LATER with *ret_at_us (> now_us) and
 * *ret_paced (true when the bucket, not only jitter, held it back; the
 * segment's queue counts it until storm_pace_sent), or STORM_DROP.
 */
enum storm_verdict storm_pace_admit(struct storm_pace *p, uint32_t segment,
				    uint64_t now_us, uint32_t rnd,
				    uint64_t *ret_at_us, bool *ret_paced);

/* A paced offer of segment was sent (or abandoned): it leaves the queue. */
void storm_pace_sent(struct storm_pace *p, uint32_t segment);

/* Offers waiting on every segment. */
unsigned storm_pace_queued(const struct storm_pace *p);

/* One file's transfers. */
struct storm_cap_entry {
	struct storm_cap_entry *next;
	uint64_t key[2];
	unsigned active;  /* transfers holding a slot */
	unsigned waiting; /* callers' queue length (they keep it up to date) */
};

struct storm_caps {
	unsigned max; /* 0: no cap (entries are still counted) */
	struct storm_cap_entry *list;
};

/*
 * Take a slot of file key. 0 with *ret (borrowed until the slot is put
 * back) when taken; -EBUSY with *ret set when the file is at the cap (the
 * caller may wait on it: bump ret->waiting, and storm_cap_unwait when
 * done waiting); -ENOMEM.
 */
int storm_cap_take(struct storm_caps *caps, const uint64_t key[2],
		   struct storm_cap_entry **ret);

/*
 * Give back a slot taken on e. Returns true when e has waiters and now a
 * free slot (the caller wakes one). e is freed when nothing holds or
 * waits on it: do not use it after a false return.
 */
bool storm_cap_put(struct storm_caps *caps, struct storm_cap_entry *e);

/* One waiter of e gave up or was served; frees e when nothing is left. */
void storm_cap_unwait(struct storm_caps *caps, struct storm_cap_entry *e);

/* Free every entry. */
void storm_caps_done(struct storm_caps *caps);

#endif
