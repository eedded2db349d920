/*
 * http_io.h - the HTTP and HTTPS service of metalboot-netboot on libevent's
 * evhttp: /files/, /boot/MAC.ipxe, the node API, /v1/nodes and /metrics
 * (the API is in ../shared/DESIGN.md). Plain HTTP on nb->http_port, HTTPS
 * with OpenSSL bufferevents on nb->https_port when netboot.yaml names a
 * certificate and key. Everything runs on nb->base, in its one thread.
 *
 * Connections are tracked from the moment evhttp accepts them, so that the
 * total and per-address caps and the request deadline (a whole request
 * must arrive within the header timeout, slow clients do not hold the
 * server) apply before a single byte is parsed.
 */
#ifndef MB_HTTP_IO_H
#define MB_HTTP_IO_H

#include "http.h"
#include "nodes.h"
#include "server.h"

#include <stddef.h>

#define HTTP_ADMIN_TOKEN_FILE "admin-token" /* in the state dir, 0600 */
#define HTTP_ADMIN_TOKEN_MAX  256	    /* bytes read from it */
#define HTTP_SWEEP_INTERVAL   1		    /* seconds between sweeps */

/*
 * The limits in force; main.c sets them from flags before start. Each
 * defaults to the constant of the same name in http.h.
 */
struct http_limits {
	unsigned max_conns;	 /* HTTP_CONN_MAX */
	unsigned max_per_ip;	 /* HTTP_CONN_PER_IP_MAX */
	unsigned idle_timeout;	 /* HTTP_IDLE_TIMEOUT, seconds */
	unsigned header_timeout; /* HTTP_HEADER_TIMEOUT, seconds */
	size_t max_header;	 /* HTTP_HEADER_MAX, bytes */
	size_t max_body;	 /* HTTP_BODY_MAX, bytes */
};

extern struct http_limits http_limits;

/*
 * The limit flags, for main.c: HTTP_LIMIT_OPTIONS goes into its getopt
 * table (values HTTP_OPT_BASE + i), HTTP_LIMIT_USAGE into its help text,
 * and every getopt value in [HTTP_OPT_BASE, HTTP_OPT_BASE + HTTP_NOPTS)
 * to http_limits_option().
 */
#define HTTP_OPT_BASE 0x1000
#define HTTP_NOPTS    6
#define HTTP_LIMIT_OPTIONS                                                     \
	{ "http-max-conns", required_argument, NULL, HTTP_OPT_BASE + 0 },      \
		{ "http-max-per-ip", required_argument, NULL,                  \
		  HTTP_OPT_BASE + 1 },                                         \
		{ "http-idle-timeout", required_argument, NULL,                \
		  HTTP_OPT_BASE + 2 },                                         \
		{ "http-header-timeout", required_argument, NULL,              \
		  HTTP_OPT_BASE + 3 },                                         \
		{ "http-max-header", required_argument, NULL,                  \
		  HTTP_OPT_BASE + 4 },                                         \
	{                                                                      \
		"http-max-body", required_argument, NULL, HTTP_OPT_BASE + 5    \
	}
#define HTTP_STR_(x) #x
#define HTTP_STR(x)  HTTP_STR_(x)
#define HTTP_LIMIT_USAGE                                                                                                                                                                                          \
	"  --http-max-conns N       open HTTP(S) connections "                                                                                                                                                    \
	"(default " HTTP_STR(                                                                                                                                                                                     \
		HTTP_CONN_MAX) ")\n"                                                                                                                                                                              \
			       "  --http-max-per-ip N      open connections "                                                                                                                                     \
			       "per client address "                                                                                                                                                              \
			       "(default " HTTP_STR(                                                                                                                                                              \
				       HTTP_CONN_PER_IP_MAX) ")\n"                                                                                                                                                \
							     "  "                                                                                                                                                 \
							     "--http-idle-"                                                                                                                                       \
							     "timeout S    "                                                                                                                                      \
							     "idle seconds "                                                                                                                                      \
							     "allowed "                                                                                                                                           \
							     "(default"                                                                                                                                           \
							     " " HTTP_STR(                                                                                                                                        \
								     HTTP_IDLE_TIMEOUT) ")\n"                                                                                                                     \
											"  --http-header-timeout S  seconds for a request to arrive (default " HTTP_STR(                                          \
												HTTP_HEADER_TIMEOUT) ")\n"                                                                                        \
														     "  --http-max-header N      request header bytes (default " HTTP_STR(                        \
															     HTTP_HEADER_MAX) ")\n"                                                               \
																	      "  --http-max-body N        request body bytes (default " HTTP_STR( \
																		      HTTP_BODY_MAX) ")\n"

/*
 * Apply the limit flag opt (a getopt value from HTTP_LIMIT_OPTIONS) with
 * its argument. Returns 0, or -EINVAL after printing a one-line message
 * that names the flag.
 */
int http_limits_option(int opt, const char *arg);

/*
 * Start the service (struct nb_service start): serve the daemon's node
 * store (store_io.h, started before), load or create the admin token, bind HTTP
 * (and HTTPS when configured) on nb->listen_ip. Returns 0 or a negative errno
 * after logging the cause (-EADDRINUSE, -EACCES for ports; -EINVAL for a bad
 * certificate or state file).
 */
int http_io_start(struct netboot *nb);

/* Stop the service and free everything; accepts a half-started one. */
void http_io_stop(struct netboot *nb);

#endif
