/*
 * fuzz_stage1_cmdline.c - libFuzzer harness for what the first stage reads
 * from outside: the kernel command line and /proc/meminfo (the input as
 * text), and a DHCP reply on the boot interface (the input as a packet).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stage1.h"
#include "storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[MAC_LEN] = { 0x52, 0x54, 0, 0, 1, 1 };
	struct s1_cmdline c;
	struct s1_lease l;
	char err[128];
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	s1_cmdline_parse(text, &c, err, sizeof(err));
	(void)storage_tmpfs_bytes(c.tmpfs, s1_meminfo_total(text), 1);
	(void)storage_tmpfs_check(text);
	free(text);
	if (size >= 4) {
		uint32_t xid;

		memcpy(&xid, data + 4, size >= 8 ? 4 : 0);
		s1_dhcp_reply(data, size, mac, xid, DHCP_OFFER, &l);
		s1_dhcp_reply(data, size, mac, xid, DHCP_ACK, &l);
	}
	return 0;
}
