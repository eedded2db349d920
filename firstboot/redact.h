/*
 * redact.h - what of a failed program's output may leave the node: its
 * tail, with the secrets a kubeadm or a runtime may print taken out.
 * Pure; no logging.
 */
#ifndef MB_REDACT_H
#define MB_REDACT_H

#include <stddef.h>

#include "buf.h"

#define FB_REPORT_OUTPUT_MAX 2048 /* bytes of output sent with an event */
#define FB_REDACTED	     "[redacted]"

/*
 * The last at most max bytes of in (len bytes; starting after a line
 * break when the cut falls inside a line, and never inside a UTF-8
 * character) into out, with every secret replaced by FB_REDACTED:
 *   - a bootstrap token, [a-z0-9]{6}.[a-z0-9]{16} (kubeadm prints the
 *     join command with it);
 *   - a run of exactly 64 hexadecimal digits (kubeadm's certificate key;
 *     a sha256 is taken out too, which costs nothing);
 *   - a PEM private key block, from its BEGIN line to its END line (or to
 *     the end when it is cut).
 * The whole input is scanned before the cut, so a secret cut in half by
 * it is still found. Returns 0, or -ENOMEM or -E2BIG (out's cap).
 */
int fb_redact_tail(const char *in, size_t len, size_t max, struct buf *out);

#endif
