/*
 * test_builder_pe.c - the PE/COFF reader (builder/pe.h) on hand-made
 * images: PE32+ signed and unsigned, PE32, several certificates, and
 * every header and certificate-table field out of bounds in turn.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pe.h"

#define LFANEW	 0x80
#define OPT	 (LFANEW + 24)	/* optional header */
#define DIRS32P	 (OPT + 112)	/* PE32+ data directories */
#define SEC_DIR	 (DIRS32P + 32) /* the fifth: security */
#define CERTS	 0x400
#define IMG_SIZE 0x800

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A PE32+ x86-64 EFI application; a certificate table of table_len. */
static void
make_image(uint8_t *img, uint32_t table_len)
{
	memset(img, 0, IMG_SIZE);
	img[0] = 'M';
	img[1] = 'Z';
	put32(img + 0x3c, LFANEW);
	memcpy(img + LFANEW, "PE\0\0", 4);
	put16(img + LFANEW + 4, PE_MACHINE_X64);
	put16(img + LFANEW + 4 + 16, 240); /* SizeOfOptionalHeader */
	put16(img + OPT, 0x20b);
	put16(img + OPT + 68, 10);  /* EFI application */
	put32(img + OPT + 108, 16); /* NumberOfRvaAndSizes */
	if (table_len > 0) {
		put32(img + SEC_DIR, CERTS);
		put32(img + SEC_DIR + 4, table_len);
	}
}

/* A WIN_CERTIFICATE at off: dwLength len, revision 2, type. */
static void
put_cert(uint8_t *img, size_t off, uint32_t len, uint16_t type)
{
	put32(img + off, len);
	put16(img + off + 4, PE_CERT_REV2);
	put16(img + off + 6, type);
}

static void
test_signed_and_unsigned(void **state)
{
	uint8_t img[IMG_SIZE];
	struct pe_info pe;
	const char *why;

	(void)state;
	make_image(img, 0);
	assert_int_equal(pe_parse(img, sizeof(img), &pe, &why), 0);
	assert_int_equal(pe.machine, PE_MACHINE_X64);
	assert_true(pe.pe32plus);
	assert_int_equal(pe.subsystem, 10);
	assert_int_equal(pe.ncerts, 0);

	/* One signature of 0x100 bytes (0x108 with its header). */
	make_image(img, 0x108);
	put_cert(img, CERTS, 0x108, PE_CERT_PKCS7);
	assert_int_equal(pe_parse(img, sizeof(img), &pe, &why), 0);
	assert_int_equal(pe.ncerts, 1);
	assert_int_equal(pe.certs[0].offset, CERTS + 8);
	assert_int_equal(pe.certs[0].len, 0x100);

	/* Two, the first of an odd length padded to 8; an X.509 one
	 * (type 1) is not Authenticode and is not counted. */
	make_image(img, 0x30 + 0x20 + 0x20);
	put_cert(img, CERTS, 0x2b, PE_CERT_PKCS7);
	put_cert(img, CERTS + 0x30, 0x20, 0x0001);
	put_cert(img, CERTS + 0x50, 0x20, PE_CERT_PKCS7);
	assert_int_equal(pe_parse(img, sizeof(img), &pe, &why), 0);
	assert_int_equal(pe.ncerts, 2);
	assert_int_equal(pe.certs[1].offset, CERTS + 0x58);
	assert_int_equal(pe.certs[1].len, 0x18);

	/* PE32 (magic 0x10b): directories 16 bytes earlier. */
	make_image(img, 0);
	put16(img + OPT, 0x10b);
	put32(img + OPT + 92, 16);
	put32(img + OPT + 96 + 32, CERTS);
	put32(img + OPT + 96 + 36, 0x10);
	put_cert(img, CERTS, 0x10, PE_CERT_PKCS7);
	assert_int_equal(pe_parse(img, sizeof(img), &pe, &why), 0);
	assert_false(pe.pe32plus);
	assert_int_equal(pe.ncerts, 1);

	/* Fewer than five directories: no security directory, unsigned. */
	make_image(img, 0x108);
	put_cert(img, CERTS, 0x108, PE_CERT_PKCS7);
	put32(img + OPT + 108, 4);
	assert_int_equal(pe_parse(img, sizeof(img), &pe, &why), 0);
	assert_int_equal(pe.ncerts, 0);
}

/* pe_parse refuses img with a reason containing what. */
static void
refused(const uint8_t *img, size_t len, const char *what)
{
	struct pe_info pe;
	const char *why = NULL;

	assert_int_equal(pe_parse(img, len, &pe, &why), -EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, what));
}

static void
test_bad_headers(void **state)
{
	uint8_t img[IMG_SIZE];

	(void)state;
	make_image(img, 0);
	refused(img, 0x3f, "MZ");
	img[0] = 'Z';
	refused(img, sizeof(img), "MZ");
	make_image(img, 0);
	put32(img + 0x3c, IMG_SIZE - 8);
	refused(img, sizeof(img), "e_lfanew");
	put32(img + 0x3c, 0xfffffff0u);
	refused(img, sizeof(img), "e_lfanew");
	make_image(img, 0);
	img[LFANEW + 1] = 'X';
	refused(img, sizeof(img), "PE signature");
	make_image(img, 0);
	put16(img + OPT, 0x107);
	refused(img, sizeof(img), "Magic");
	make_image(img, 0);
	put16(img + LFANEW + 20, 0xffff); /* SizeOfOptionalHeader */
	refused(img, sizeof(img), "SizeOfOptionalHeader");
	put16(img + LFANEW + 20, 100); /* too short for PE32+ */
	refused(img, sizeof(img), "too short");
	put16(img + LFANEW + 20, 112 + 24); /* ends inside the 4th dir */
	refused(img, sizeof(img), "NumberOfRvaAndSizes");
	/* The headers cut off by the end of the buffer. */
	make_image(img, 0);
	refused(img, OPT + 100, "SizeOfOptionalHeader");
}

static void
test_bad_cert_table(void **state)
{
	uint8_t img[IMG_SIZE];

	(void)state;
	make_image(img, IMG_SIZE); /* runs past the end */
	refused(img, sizeof(img), "outside the file");
	make_image(img, 0x10);
	put32(img + SEC_DIR, 0); /* a length with no offset */
	refused(img, sizeof(img), "outside the file");
	make_image(img, 0x10);
	put_cert(img, CERTS, 0x18, PE_CERT_PKCS7); /* longer than table */
	refused(img, sizeof(img), "dwLength");
	make_image(img, 0x10);
	put_cert(img, CERTS, 4, PE_CERT_PKCS7); /* shorter than header */
	refused(img, sizeof(img), "dwLength");
	make_image(img, 0x14); /* room for one entry and 4 stray bytes */
	put_cert(img, CERTS, 0x10, PE_CERT_PKCS7);
	refused(img, sizeof(img), "truncated");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_and_unsigned),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_cert_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
