/* iso.c - NoCloud seed ISOs with libarchive (see iso.h). */
#include "iso.h"

#include "arbuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ISO_SECTOR	   2048
#define ISO_VD_FIRST	   16 /* first volume descriptor sector */
#define ISO_VD_MAX	   8  /* descriptors looked at before giving up */
#define ISO_VD_PRIMARY	   1
#define ISO_VD_SUPPLEMENT  2
#define ISO_VD_TERMINATOR  255
#define ISO_VD_ROOT_RECORD 156 /* root directory record in a descriptor */
#define ISO_DR_DATE	   18  /* recording date in a directory record */
#define ISO_DR_EXTENT	   2   /* extent location (both-endian, LE first) */
#define ISO_DR_SIZE	   10  /* data length (both-endian, LE first) */
#define ISO_VD_CREATED	   813 /* ECMA-119 8.4.26: volume creation date */
#define ISO_VD_MODIFIED	   830 /* 8.4.27: modification date */
#define ISO_VD_EFFECTIVE   864 /* 8.4.29: effective date (8.4.28 stays 0) */
#define ISO_INFO_TAG	   "INFO "
#define ISO_INFO_DATE_LEN  24 /* "Sun Nov 22 08:35:15 2026" */

/* ECMA-119 8.4.26.1: "YYYYMMDDHHMMSScc" in ASCII and a zone offset. */
static void
set_dec_datetime(uint8_t *p, const struct tm *tm)
{
	char b[80]; /* room for any int, though tm's fields are in range */

	snprintf(b, sizeof(b), "%04d%02d%02d%02d%02d%02d00", tm->tm_year + 1900,
		 tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min,
		 tm->tm_sec);
	memcpy(p, b, 16);
	p[16] = 0; /* UTC */
}

/* ECMA-119 9.1.5: seven bytes, years since 1900 ... zone offset. */
static void
set_dr_date(uint8_t *p, const struct tm *tm)
{
	p[0] = (uint8_t)tm->tm_year;
	p[1] = (uint8_t)(tm->tm_mon + 1);
	p[2] = (uint8_t)tm->tm_mday;
	p[3] = (uint8_t)tm->tm_hour;
	p[4] = (uint8_t)tm->tm_min;
	p[5] = (uint8_t)tm->tm_sec;
	p[6] = 0;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * Rock Ridge "TF" entries in a directory record's system use area carry
 * 7-byte times (RRIP 4.1.6, short form when bit 7 of the flags is clear).
 */
static void
patch_tf(uint8_t *su, size_t len, const struct tm *tm)
{
	size_t o = 0;

	while (o + 4 <= len) {
		size_t elen = su[o + 2];

		if (elen < 4 || o + elen > len)
			return;
		if (su[o] == 'T' && su[o + 1] == 'F' && elen >= 5 &&
		    (su[o + 4] & 0x80) == 0) {
			size_t t;

			for (t = o + 5; t + 7 <= o + elen; t += 7)
				set_dr_date(su + t, tm);
		}
		o += elen;
	}
}

/*
 * libarchive writes an information block after the descriptor set: "INFO "
 * and ctime(3) of its clock in local time, then the options. Give it the
 * pinned time instead (asctime has the same 24-character layout).
 */
static int
pin_info(uint8_t *img, size_t len, size_t sector, const struct tm *tm)
{
	uint8_t *p = img + sector * ISO_SECTOR;
	char b[64];

	if ((sector + 1) * ISO_SECTOR > len ||
	    memcmp(p, ISO_INFO_TAG, strlen(ISO_INFO_TAG)) != 0)
		return 0;
	if (asctime_r(tm, b) == NULL || strlen(b) < ISO_INFO_DATE_LEN)
		return -EINVAL;
	memcpy(p + strlen(ISO_INFO_TAG), b, ISO_INFO_DATE_LEN);
	return 0;
}

/*
 * The writer stamps its own clock ("birth time") into the volume
 * descriptors and into the root directory, which is virtual: its "." and
 * ".." records and their Rock Ridge times; file records carry local time.
 * Rewrite all of them in UTC.
 */
static int
pin_dates(uint8_t *img, size_t len, time_t t)
{
	struct tm tm;
	size_t vd;

	if (gmtime_r(&t, &tm) == NULL)
		return -EINVAL;
	for (vd = ISO_VD_FIRST; vd < ISO_VD_FIRST + ISO_VD_MAX; vd++) {
		uint8_t *d = img + vd * ISO_SECTOR, *root;
		uint32_t ext, size, o;

		if ((vd + 1) * ISO_SECTOR > len)
			return -EINVAL;
		if (d[0] == ISO_VD_TERMINATOR)
			return pin_info(img, len, vd + 1, &tm);
		if (d[0] != ISO_VD_PRIMARY && d[0] != ISO_VD_SUPPLEMENT)
			continue;
		set_dec_datetime(d + ISO_VD_CREATED, &tm);
		set_dec_datetime(d + ISO_VD_MODIFIED, &tm);
		set_dec_datetime(d + ISO_VD_EFFECTIVE, &tm);
		root = d + ISO_VD_ROOT_RECORD;
		set_dr_date(root + ISO_DR_DATE, &tm);
		ext = le32(root + ISO_DR_EXTENT);
		size = le32(root + ISO_DR_SIZE);
		if ((uint64_t)ext * ISO_SECTOR + size > len)
			return -EINVAL;
		/*
		 * Walk the root directory's records (the seed has no
		 * subdirectory). The writer records file times in local time
		 * with a zone offset, so they are rewritten in UTC as well.
		 */
		for (o = 0; o < size;) {
			uint8_t *r = img + (size_t)ext * ISO_SECTOR + o;
			uint8_t rl = r[0], nl;
			size_t su;

			if (rl == 0) {
				/* Records do not cross sectors. */
				o = (o / ISO_SECTOR + 1) * ISO_SECTOR;
				continue;
			}
			if (rl < 34 || o + rl > size)
				return -EINVAL;
			nl = r[32];
			set_dr_date(r + ISO_DR_DATE, &tm);
			su = 33u + nl + ((nl & 1) ? 0 : 1);
			if (su < rl)
				patch_tf(r + su, rl - su, &tm);
			o += rl;
		}
	}
	return -EINVAL;
}

/* Write the image into out. */
int
iso_write(const struct iso_file *files, size_t n, time_t mtime, struct buf *out)
{
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	struct arbuf s = { out, 0 };
	size_t start = out->len, i;
	int r = -EIO;

	if (n > ISO_MAX_FILES)
		return -EINVAL;
	a = archive_write_new();
	e = archive_entry_new();
	if (a == NULL || e == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (archive_write_set_format_iso9660(a) != ARCHIVE_OK ||
	    archive_write_set_option(a, "iso9660", "volume-id",
				     ISO_VOLUME_ID) != ARCHIVE_OK ||
	    archive_write_set_option(a, "iso9660", "rockridge", "1") !=
		    ARCHIVE_OK ||
	    archive_write_set_option(a, "iso9660", "joliet", "1") !=
		    ARCHIVE_OK ||
	    /* No padding: the seed is read as a file system, not a disc. */
	    archive_write_set_option(a, "iso9660", "pad", NULL) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, &s, NULL, arbuf_write, NULL, NULL) !=
		    ARCHIVE_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (strchr(files[i].name, '/') != NULL ||
		    files[i].name[0] == '\0') {
			r = -EINVAL;
			goto out;
		}
		archive_entry_clear(e);
		archive_entry_set_pathname(e, files[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, files[i].mode & 07777);
		archive_entry_set_size(e, (la_int64_t)files[i].len);
		archive_entry_set_mtime(e, mtime, 0);
		archive_entry_set_atime(e, mtime, 0);
		archive_entry_set_ctime(e, mtime, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			goto out;
		if (files[i].len > 0 &&
		    archive_write_data(a, files[i].data, files[i].len) !=
			    (la_ssize_t)files[i].len)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto out;
	r = pin_dates((uint8_t *)out->data + start, out->len - start, mtime);
out:
	if (s.err != 0)
		r = s.err;
	archive_entry_free(e);
	if (a != NULL)
		archive_write_free(a);
	if (r < 0 && out->data != NULL) {
		/* Drop the partial image, keeping the buffer a C string. */
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}

/* Staging in memory and a fixed time zone (see iso.h). */
void
iso_setup_process(void)
{
	struct stat st;

	if (getenv("TZ") == NULL) {
		setenv("TZ", "UTC", 0);
		tzset();
	}
	if (getenv("TMPDIR") != NULL)
		return;
	if (stat(ISO_STAGING_DIR, &st) == 0 && S_ISDIR(st.st_mode) &&
	    access(ISO_STAGING_DIR, W_OK | X_OK) == 0)
		setenv("TMPDIR", ISO_STAGING_DIR, 0);
}
