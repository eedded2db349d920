/*
 * fetch.h - HTTP(S) with libcurl: the payload, the API readiness probe, the
 * CNI manifest, and event reports.
 *
 * TLS is verified (peer and host) against exactly one pinned CA, given as
 * a file or as PEM text; the system trust store is never consulted when a
 * CA is pinned. Redirects are not followed. Non-logging: failures come
 * back as a negative errno plus a one-line reason in errbuf.
 */
#ifndef MB_FB_FETCH_H
#define MB_FB_FETCH_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

#define FB_FETCH_CONNECT_TIMEOUT 5     /* seconds */
#define FB_FETCH_BACKOFF_FIRST	 1000  /* milliseconds */
#define FB_FETCH_BACKOFF_MAX	 30000 /* milliseconds */
#define FB_FETCH_ERR_LEN	 256

/* Which CA to trust: one of the two, or neither for the system store. */
struct fb_tls {
	const char *ca_file;   /* PEM file */
	const char *ca_pem;    /* PEM text */
	const char *cert_file; /* client certificate (PEM file), or NULL */
	const char *key_file;  /* its private key (PEM file) */
};

/* Initialise and clean up libcurl once per process. */
int fb_fetch_global_init(void);
void fb_fetch_global_done(void);

/*
 * GET url into body (which caps its size), within timeout_s seconds.
 * Returns 0 with *ret_status (the HTTP status) on any HTTP answer;
 * -ECONNREFUSED/-ETIMEDOUT/-EHOSTUNREACH and friends when there was no
 * answer, -EPERM when the server's certificate was refused, -EFBIG past
 * the body's cap. errbuf (FB_FETCH_ERR_LEN) gets a reason.
 */
int fb_http_get(const char *url, const struct fb_tls *tls, long timeout_s,
		struct buf *body, long *ret_status, char *errbuf);

/* POST a JSON body; same return codes. The answer's body is discarded. */
int fb_http_post_json(const char *url, const struct fb_tls *tls,
		      const char *json, long timeout_s, long *ret_status,
		      char *errbuf);

/*
 * GET url until it answers 200, retrying every other outcome but a refused
 * certificate with exponential backoff and jitter (FB_FETCH_BACKOFF_FIRST
 * doubling up to FB_FETCH_BACKOFF_MAX), for at most deadline_s seconds in
 * all. Returns 0 with body filled, -EPERM for a refused certificate,
 * -ETIMEDOUT at the deadline (errbuf holds the last reason).
 */
int fb_fetch_until_ok(const char *url, const struct fb_tls *tls,
		      unsigned deadline_s, struct buf *body, char *errbuf);

/*
 * Called before each wait of a retry loop with the reason of the last
 * failure and the wait in milliseconds (for the caller's log), or NULL.
 */
extern void (*fb_fetch_on_retry)(const char *url, const char *why,
				 unsigned wait_ms);

/*
 * The next delay of a backoff: *delay_ms is doubled up to max_ms, and the
 * value returned is drawn in [delay/2, delay] (the jitter).
 */
unsigned fb_backoff_next(unsigned *delay_ms, unsigned max_ms);

/* Sleep ms milliseconds (restarting after signals). */
void fb_sleep_ms(unsigned ms);

/* Monotonic seconds. */
double fb_now(void);

#endif
