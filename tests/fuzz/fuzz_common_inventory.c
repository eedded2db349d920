/*
 * fuzz_common_inventory.c - libFuzzer harness for the YAML loader and the
 * inventory parser/validator: any bytes must give either an inventory or
 * diagnostics, never a crash, a leak or undefined behaviour.
 */
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory *inv = NULL;
	struct diags d;

	diags_init(&d);
	if (inventory_parse("fuzz.yaml", (const char *)data, size, NULL, &inv,
			    &d) == 0)
		inventory_free(inv);
	diags_done(&d);
	return 0;
}
