/*
 * fuzz_netboot_config.c - libFuzzer harness for the netboot.yaml reader
 * (nb_config_parse: the YAML loader, the typed getters, the DHCP, relay,
 * HTTP and node sections). Invariants: any bytes give a configuration or
 * diagnostics; an accepted configuration has its nodes findable by MAC.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nb_config *cfg = NULL;
	struct diags d;
	size_t i;

	diags_init(&d);
	if (nb_config_parse("/fuzz/netboot.yaml", (const char *)data, size,
			    &cfg, &d) == 0) {
		for (i = 0; i < cfg->nnodes; i++)
			if (nb_config_find_mac(cfg, cfg->nodes[i].mac) ==
				    NULL ||
			    nb_config_find_ip(cfg, cfg->nodes[i].ip) == NULL)
				abort();
		nb_config_free(cfg);
	}
	diags_done(&d);
	return 0;
}
