/*
 * bundle.h - a node's secret bundle: its private keys, kubeadm.yaml and
 * any other file marked secret, as one ustar archive that the NoCloud-net
 * user-data fetches over HTTPS (pinned to the provisioning CA) and
 * unpacks at / (docs/formats.md, "OUT/nodes/NAME/secrets.tar"). Written
 * with libarchive; every entry is a regular file owned by root with the
 * given mode and one fixed time, so the same files give the same bytes.
 * Pure: files in, bytes out. Non-logging.
 */
#ifndef MB_BUNDLE_H
#define MB_BUNDLE_H

#include "buf.h"

#include <stddef.h>
#include <time.h>

#define BUNDLE_MAX_FILES 32
#define BUNDLE_MAX_SIZE	 (16u << 20)

struct bundle_file {
	const char
		*path; /* absolute on the node: "/etc/kubernetes/pki/ca.key" */
	const void *data;
	size_t len;
	unsigned mode; /* permission bits */
};

/*
 * Append a ustar archive of files to out. Each path must be absolute,
 * clean (no empty, "." or ".." component) and is stored relative to /.
 * Returns 0, -EINVAL (too many files, a bad path), -E2BIG (out's max),
 * -ENOMEM or -EIO (libarchive failed); out is as it was on failure.
 */
int bundle_write(const struct bundle_file *files, size_t n, time_t mtime,
		 struct buf *out);

#endif
