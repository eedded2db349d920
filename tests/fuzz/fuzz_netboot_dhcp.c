/*
 * fuzz_netboot_dhcp.c - libFuzzer harness for the DHCP decoder, the
 * policy that reads what it decoded (with a listed relay, so relayed
 * requests take the relay-subnet path), the encoder of the reply, and the
 * lease file parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dhcp.h"
#include "dhcp_policy.h"
#include "leases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dhcp_host host = {
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.ip = 0xc0a8640b,
		.name = "cp1",
	};
	static const struct dhcp_relay relay = {
		.address = 0x0a0a0a01,
		.subnet = { 0x0a0a0a00, 24 },
		.gateway = 0x0a0a0a01,
		.has_pool = true,
		.pool = { 0x0a0a0a32, 0x0a0a0a34 },
	};
	struct dhcp_conf conf;
	struct dhcp_counters cnt;
	struct dhcp_decision d;
	struct leases t;
	struct dhcp_msg m;
	uint8_t out[DHCP_MSG_MAX];
	int mode;

	size_t line = 0;

	/* The lease file parser gets the same bytes (a damaged state dir). */
	leases_init(&t);
	(void)leases_parse(&t, (const char *)data, size, &line);
	leases_done(&t);
	if (dhcp_decode(data, size, &m) < 0)
		return 0;
	memset(&conf, 0, sizeof(conf));
	conf.unknown = DHCP_UNKNOWN_DISCOVER;
	conf.server_ip = 0xc0a86401;
	conf.subnet.addr = 0xc0a86400;
	conf.subnet.prefix = 24;
	conf.gateway = 0xc0a86401;
	conf.has_pool = true;
	conf.pool.first = 0xc0a86464;
	conf.pool.last = 0xc0a86466;
	conf.lease_time = 600;
	conf.http_port = 80;
	conf.hosts = &host;
	conf.n_hosts = 1;
	/* giaddr 10.10.10.1 is a listed relay; any other is dropped. */
	conf.relays = &relay;
	conf.n_relays = 1;
	for (mode = DHCP_FULL; mode <= DHCP_PROXY; mode++) {
		conf.mode = (enum dhcp_mode)mode;
		memset(&cnt, 0, sizeof(cnt));
		leases_init(&t);
		if (dhcp_policy_handle(&conf, &t, &cnt, &m, DHCP_SERVER_PORT,
				       1000, &d) == 0 &&
		    d.reply)
			(void)dhcp_encode(&d.msg, out, sizeof(out));
		if (dhcp_policy_handle(&conf, &t, &cnt, &m, DHCP_PROXY_PORT,
				       1000, &d) == 0 &&
		    d.reply)
			(void)dhcp_encode(&d.msg, out, sizeof(out));
		leases_done(&t);
	}
	/* Whatever decoded must encode again (fields permitting). */
	(void)dhcp_encode(&m, out, sizeof(out));
	return 0;
}
