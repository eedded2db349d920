/*
 * fuzz_builder_pe.c - libFuzzer harness for the PE/COFF reader, which
 * reads the shim, GRUB and kernel files a user points the builder at.
 */
#include "pe.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pe_info pe;
	const char *why;
	size_t i, sum = 0;

	if (pe_parse(data, size, &pe, &why) != 0) {
		if (why == NULL) /* a refusal always says why */
			__builtin_trap();
		return 0;
	}
	/* Every signature lies inside the input: touch its bytes. */
	for (i = 0; i < pe.ncerts; i++) {
		if (pe.certs[i].offset > size ||
		    pe.certs[i].len > size - pe.certs[i].offset)
			__builtin_trap();
		if (pe.certs[i].len > 0)
			sum += data[pe.certs[i].offset + pe.certs[i].len - 1];
	}
	(void)sum;
	return 0;
}
