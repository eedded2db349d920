/*
 * tftp_io.h - the TFTP service: sockets and timers around the pure engine
 * in tftp.h.
 *
 * The listener receives requests on the TFTP port (IP_PKTINFO tells which
 * local address and interface each one hit); every accepted read request
 * gets its own socket bound to that local address and an ephemeral port,
 * a per-transfer timer, and a window buffer filled with pread() from a
 * file descriptor shared by every transfer of the same file. Requests
 * are taken and resolved on the owner loop (nb->base); with worker loops
 * (nb->nworkers, workers.h) each transfer then runs on one of them and
 * comes back to the owner loop when it ends (docs/netboot.md,
 * "Multi-core").
 */
#ifndef MB_NB_TFTP_IO_H
#define MB_NB_TFTP_IO_H

#include "server.h"

/* Caps on concurrent transfers (flags --tftp-max-transfers/-per-client). */
#define TFTP_MAX_TRANSFERS_DEFAULT  256
#define TFTP_MAX_PER_CLIENT_DEFAULT 16
#define TFTP_MAX_TRANSFERS_LIMIT    4096

/*
 * Start the TFTP service on nb->listen_ip:nb->tftp_port (nothing when the
 * port is 0), serving nb->root_fd. Returns 0 or a negative errno (logged).
 * Startup context, before the loop runs.
 */
int tftp_io_start(struct netboot *nb);

/*
 * Stop the service: close the listener and every transfer (they count as
 * failed). Safe on a service that never started. After the loop ended
 * and the worker loops were joined (the workers service stops first).
 */
void tftp_io_stop(struct netboot *nb);

#endif
