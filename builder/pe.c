/*
 * pe.c - PE/COFF headers and the attribute certificate table (pe.h).
 */
#include "pe.h"

#include <errno.h>
#include <string.h>

#define DOS_LFANEW_OFF	0x3c
#define COFF_SIZE	20
#define OPT_MAGIC_PE32	0x10b
#define OPT_MAGIC_PE32P 0x20b
#define DIR_SECURITY	4 /* the data directory of the certificate table */
#define WIN_CERT_HDR	8 /* dwLength, wRevision, wCertificateType */

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Fail with the field's name. */
static int
bad(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

/*
 * The optional header at off (opt_len bytes): magic, subsystem and the
 * security data directory (file offset and size of the table).
 */
static int
parse_optional(const uint8_t *d, size_t len, size_t off, size_t opt_len,
	       struct pe_info *ret, const char **why)
{
	size_t ndirs_off, dirs_off, ndirs, dir;

	if (opt_len < 2 || off + opt_len > len)
		return bad(why, "SizeOfOptionalHeader runs past the file");
	switch (le16(d + off)) {
	case OPT_MAGIC_PE32:
		ndirs_off = 92;
		break;
	case OPT_MAGIC_PE32P:
		ret->pe32plus = true;
		ndirs_off = 108;
		break;
	default:
		return bad(why, "optional header Magic is not PE32 or PE32+");
	}
	dirs_off = ndirs_off + 4;
	if (opt_len < dirs_off)
		return bad(why, "optional header too short for its Magic");
	ret->subsystem = le16(d + off + 68);
	ndirs = le32(d + off + ndirs_off);
	if (ndirs <= DIR_SECURITY)
		return 0; /* no security directory: unsigned */
	dir = dirs_off + DIR_SECURITY * 8;
	if (dir + 8 > opt_len)
		return bad(why, "NumberOfRvaAndSizes runs past the optional "
				"header");
	ret->cert_table_offset = le32(d + off + dir);
	ret->cert_table_len = le32(d + off + dir + 4);
	return 0;
}

/* The WIN_CERTIFICATE entries of the table, each 8-byte aligned. */
static int
parse_certs(const uint8_t *d, size_t len, struct pe_info *ret, const char **why)
{
	size_t off = ret->cert_table_offset, end;

	if (ret->cert_table_len == 0)
		return 0;
	if (off == 0 || off > len || ret->cert_table_len > len - off)
		return bad(why, "the certificate table lies outside the file");
	end = off + ret->cert_table_len;
	while (off < end) {
		uint32_t l;

		if (end - off < WIN_CERT_HDR)
			return bad(why, "WIN_CERTIFICATE header truncated");
		l = le32(d + off);
		if (l < WIN_CERT_HDR || l > end - off)
			return bad(why, "WIN_CERTIFICATE dwLength out of the "
					"table");
		if (le16(d + off + 6) == PE_CERT_PKCS7 &&
		    le16(d + off + 4) == PE_CERT_REV2 && l > WIN_CERT_HDR &&
		    ret->ncerts < PE_CERTS_MAX) {
			ret->certs[ret->ncerts].offset = off + WIN_CERT_HDR;
			ret->certs[ret->ncerts].len = l - WIN_CERT_HDR;
			ret->ncerts++;
		}
		/* Entries are quadword aligned; the last may end the table. */
		off += ((size_t)l + 7) & ~(size_t)7;
	}
	return 0;
}

int
pe_parse(const uint8_t *d, size_t len, struct pe_info *ret, const char **why)
{
	size_t pe, opt_len;
	int r;

	memset(ret, 0, sizeof(*ret));
	*why = NULL;
	if (len < DOS_LFANEW_OFF + 4 || d[0] != 'M' || d[1] != 'Z')
		return bad(why, "no MZ header");
	pe = le32(d + DOS_LFANEW_OFF);
	if (pe > len || len - pe < 4 + COFF_SIZE ||
	    memcmp(d + pe, "PE\0\0", 4) != 0)
		return bad(why, "e_lfanew does not point at a PE signature");
	ret->machine = le16(d + pe + 4);
	opt_len = le16(d + pe + 4 + 16);
	r = parse_optional(d, len, pe + 4 + COFF_SIZE, opt_len, ret, why);
	if (r < 0)
		return r;
	return parse_certs(d, len, ret, why);
}
