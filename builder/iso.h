/*
 * iso.h - NoCloud seed ISOs written with libarchive's iso9660 writer:
 * volume id "cidata", Rock Ridge and Joliet (so that "user-data" keeps its
 * name), every date pinned to one given time so that the same files give
 * the same bytes.
 */
#ifndef MB_ISO_H
#define MB_ISO_H

#include "buf.h"

#include <stddef.h>
#include <time.h>

#define ISO_MAX_FILES	8
#define ISO_MAX_SIZE	(256u << 20)
#define ISO_VOLUME_ID	"cidata"
#define ISO_STAGING_DIR "/dev/shm"

struct iso_file {
	const char *name; /* in the root directory */
	const void *data;
	size_t len;
	unsigned mode; /* permission bits recorded in Rock Ridge */
};

/*
 * Write an ISO 9660 image holding files into out. mtime is recorded for
 * every file and, replacing the writer's clock, in the volume
 * descriptors and the root directory. Returns 0, -EINVAL (too many files,
 * a bad name), -E2BIG (out's max), -ENOMEM or -EIO (libarchive failed).
 */
int iso_write(const struct iso_file *files, size_t n, time_t mtime,
	      struct buf *out);

/*
 * Prepare the process for writing many ISOs; call once, before threads
 * start (it changes the environment).
 *
 * libarchive's iso9660 writer stages every file's bytes in an O_TMPFILE
 * under $TMPDIR (default /tmp) before it lays out the image. A seed holds
 * secrets, which should not reach a disk, and creating a file per ISO on a
 * disk file system is also most of the cost of a seed. When TMPDIR is not
 * set and ISO_STAGING_DIR (a tmpfs on Linux) is writable, point TMPDIR
 * there.
 *
 * The writer also converts times with localtime(), and glibc stats
 * /etc/localtime on every call when TZ is unset (33 times per image).
 * Every date in the image is rewritten in UTC anyway (see iso_write), so
 * an unset TZ is set to UTC.
 */
void iso_setup_process(void);

#endif
