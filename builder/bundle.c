/* bundle.c - a node's secret files as one ustar archive (libarchive). */
#include "bundle.h"

#include "arbuf.h"
#include "path.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>

/* One entry: a regular file owned by root, relative to /. */
static int
add_file(struct archive *a, struct archive_entry *e,
	 const struct bundle_file *f, time_t mtime)
{
	const char *rel = f->path + 1;

	if (f->path[0] != '/' || path_check_rel(rel, strlen(rel)) < 0)
		return -EINVAL;
	archive_entry_clear(e);
	archive_entry_set_pathname(e, rel);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, f->mode & 07777);
	archive_entry_set_size(e, (la_int64_t)f->len);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return -EIO;
	if (f->len > 0 &&
	    archive_write_data(a, f->data, f->len) != (la_ssize_t)f->len)
		return -EIO;
	return 0;
}

int
bundle_write(const struct bundle_file *files, size_t n, time_t mtime,
	     struct buf *out)
{
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	struct arbuf s = { out, 0 };
	size_t start = out->len, i;
	int r = -EIO;

	if (n > BUNDLE_MAX_FILES)
		return -EINVAL;
	a = archive_write_new();
	e = archive_entry_new();
	if (a == NULL || e == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, &s, NULL, arbuf_write, NULL, NULL) !=
		    ARCHIVE_OK)
		goto out;
	for (i = 0; i < n; i++) {
		r = add_file(a, e, &files[i], mtime);
		if (r < 0)
			goto out;
	}
	r = archive_write_close(a) == ARCHIVE_OK ? 0 : -EIO;
out:
	if (s.err != 0)
		r = s.err;
	archive_entry_free(e);
	if (a != NULL)
		archive_write_free(a);
	if (r < 0 && out->data != NULL) {
		/* Wipe and drop the partial archive (it holds keys). */
		explicit_bzero(out->data + start, out->len - start);
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}
