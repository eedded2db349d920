/*
 * pe.h - what the builder needs to know of a PE/COFF image (an EFI
 * program or a Linux kernel with its EFI stub) before it offers it to a
 * Secure Boot machine: that it is a PE image for x86-64 and that it
 * carries an Authenticode signature (Microsoft PE/COFF specification,
 * "The Attribute Certificate Table"; UEFI 2.10 §32.2.4).
 *
 * Pure: reads a buffer, never a file. Every offset taken from the image is
 * checked against its length. Whether the signature verifies against a
 * key in the firmware's db is the firmware's (or shim's) business; this
 * says only that one is there, which is what tells a signed Debian kernel
 * from an unsigned one.
 */
#ifndef MB_BUILDER_PE_H
#define MB_BUILDER_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PE_MACHINE_X64 0x8664
#define PE_CERT_PKCS7  0x0002 /* WIN_CERT_TYPE_PKCS_SIGNED_DATA */
#define PE_CERT_REV2   0x0200 /* WIN_CERT_REVISION_2_0 */
#define PE_HEADERS_MAX 4096   /* headers read to judge an image */
#define PE_CERTS_MAX   16     /* signatures counted */

struct pe_cert {
	size_t offset, len; /* the PKCS#7 SignedData, within the image */
};

struct pe_info {
	uint16_t machine;   /* COFF Machine: PE_MACHINE_X64, ... */
	bool pe32plus;	    /* optional header magic 0x20b */
	uint16_t subsystem; /* 10: EFI application */
	size_t cert_table_offset, cert_table_len; /* 0, 0: none */
	struct pe_cert certs[PE_CERTS_MAX];	  /* Authenticode signatures */
	size_t ncerts;
};

/*
 * Parse the PE image of len bytes at data. Returns 0 and fills *ret, or
 * -EINVAL with *why (a static string naming the bad field) when data is
 * not a well-formed PE image or its certificate table is malformed.
 * An image with no certificate table is well-formed: ret->ncerts is 0.
 */
int pe_parse(const uint8_t *data, size_t len, struct pe_info *ret,
	     const char **why);

#endif
