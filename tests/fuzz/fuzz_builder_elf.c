/*
 * fuzz_builder_elf.c - libFuzzer harness for the ELF dynamic-section
 * parser, which reads whatever program a user points the builder at.
 */
#include "elfdeps.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_info info;
	size_t i, n;

	if (elf_parse(data, size, &info) != 0)
		return 0;
	/* Touch every string so that ASan checks their bounds. */
	n = info.interp ? strlen(info.interp) : 0;
	for (i = 0; i < info.nneeded; i++)
		n += strlen(info.needed[i]);
	n += info.rpath ? strlen(info.rpath) : 0;
	n += info.runpath ? strlen(info.runpath) : 0;
	(void)n;
	elf_info_done(&info);
	return 0;
}
