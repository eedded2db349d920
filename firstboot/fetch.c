/* fetch.c - libcurl requests with one pinned CA, retries with backoff. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void (*fb_fetch_on_retry)(const char *url, const char *why, unsigned wait_ms);

int
fb_fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void
fb_fetch_global_done(void)
{
	curl_global_cleanup();
}

double
fb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
fb_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

unsigned
fb_backoff_next(unsigned *delay_ms, unsigned max_ms)
{
	static bool seeded;
	unsigned d = *delay_ms, half;

	if (!seeded) {
		srandom((unsigned)time(NULL) ^ (unsigned)getpid());
		seeded = true;
	}
	if (d == 0)
		d = FB_FETCH_BACKOFF_FIRST;
	if (d > max_ms)
		d = max_ms;
	*delay_ms = d > max_ms / 2 ? max_ms : d * 2;
	half = d / 2;
	return half + (unsigned)(random() % (long)(d - half + 1));
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct buf *b = user;
	size_t n = size * nmemb;

	if (b == NULL)
		return n;
	if (buf_append(b, ptr, n) < 0)
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	return n;
}

static int
map_error(CURLcode c)
{
	switch (c) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return -EPERM;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int
request(const char *url, const struct fb_tls *tls, const char *json,
	long timeout_s, struct buf *body, long *ret_status, char *errbuf)
{
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	struct curl_blob blob;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int r;

	errbuf[0] = '\0';
	c = curl_easy_init();
	if (c == NULL)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, FB_FETCH_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_USERAGENT,
			 "metalboot-firstboot/" METALBOOT_VERSION);
	/* Proxies from the environment must not see the payload. */
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (tls != NULL && (tls->ca_file != NULL || tls->ca_pem != NULL)) {
		/* Trust the pinned CA and nothing else. */
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		if (tls->ca_pem != NULL) {
			blob.data = (void *)tls->ca_pem;
			blob.len = strlen(tls->ca_pem);
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
			curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
		} else {
			curl_easy_setopt(c, CURLOPT_CAINFO, tls->ca_file);
		}
	}
	if (tls != NULL && tls->cert_file != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, tls->cert_file);
		curl_easy_setopt(c, CURLOPT_SSLKEY, tls->key_file);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	if (json != NULL) {
		hdr = curl_slist_append(NULL, "Content-Type: application/json");
		if (hdr == NULL) {
			r = -ENOMEM;
			goto out;
		}
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	}
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		r = map_error(cc);
		snprintf(errbuf, FB_FETCH_ERR_LEN, "%s",
			 cerr[0] ? cerr : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	*ret_status = status;
	snprintf(errbuf, FB_FETCH_ERR_LEN, "HTTP status %ld", status);
	r = 0;
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return r;
}

int
fb_http_get(const char *url, const struct fb_tls *tls, long timeout_s,
	    struct buf *body, long *ret_status, char *errbuf)
{
	return request(url, tls, NULL, timeout_s, body, ret_status, errbuf);
}

int
fb_http_post_json(const char *url, const struct fb_tls *tls, const char *json,
		  long timeout_s, long *ret_status, char *errbuf)
{
	return request(url, tls, json, timeout_s, NULL, ret_status, errbuf);
}

int
fb_fetch_until_ok(const char *url, const struct fb_tls *tls,
		  unsigned deadline_s, struct buf *body, char *errbuf)
{
	double end = fb_now() + deadline_s;
	unsigned delay = 0;
	long status = 0;
	int r;

	for (;;) {
		double left = end - fb_now();
		long tmo = left > 60 ? 60 : (long)left + 1;
		unsigned wait;

		buf_done_secure(body);
		r = fb_http_get(url, tls, tmo, body, &status, errbuf);
		if (r == 0 && status == 200)
			return 0;
		if (r == -EPERM || r == -EFBIG || r == -EINVAL || r == -ENOMEM)
			return r;
		wait = fb_backoff_next(&delay, FB_FETCH_BACKOFF_MAX);
		left = end - fb_now();
		if (left <= 0 || left * 1000 < wait)
			break;
		if (fb_fetch_on_retry != NULL)
			fb_fetch_on_retry(
				url, r == 0 ? "not ready yet" : errbuf, wait);
		fb_sleep_ms(wait);
	}
	buf_done_secure(body);
	return -ETIMEDOUT;
}
