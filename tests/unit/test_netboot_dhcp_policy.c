/*
 * test_netboot_dhcp_policy.c - full and proxy mode decisions and boot-file
 * selection, fed with the packets captured from QEMU firmware.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp.h"
#include "dhcp_policy.h"
#include "fsutil.h"
#include "leases.h"

#define SERVER 0xc0a86401u /* 192.168.100.1 */
#define NOW    1700000000

static const uint8_t cap_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct dhcp_host hosts[2];
static struct dhcp_conf conf;
static struct leases table;
static struct dhcp_counters cnt;

static int
setup(void **state)
{
	(void)state;
	memset(hosts, 0, sizeof(hosts));
	memcpy(hosts[0].mac, cap_mac, 6);
	hosts[0].ip = 0xc0a8640b; /* .11 */
	memcpy(hosts[0].name, "cp1", 4);
	memcpy(hosts[1].mac, "\x52\x54\x00\x00\x02\x01", 6);
	hosts[1].ip = 0xc0a86415; /* .21 */
	memcpy(hosts[1].name, "w1", 3);
	memset(&conf, 0, sizeof(conf));
	conf.mode = DHCP_FULL;
	conf.unknown = DHCP_UNKNOWN_DISCOVER;
	conf.server_ip = SERVER;
	conf.subnet.addr = 0xc0a86400;
	conf.subnet.prefix = 24;
	conf.gateway = SERVER;
	conf.dns[0] = SERVER;
	conf.n_dns = 1;
	conf.has_pool = true;
	conf.pool.first = 0xc0a86464; /* .100 */
	conf.pool.last = 0xc0a864c7;  /* .199 */
	conf.lease_time = 3600;
	conf.http_port = 8080;
	conf.hosts = hosts;
	conf.n_hosts = 2;
	leases_init(&table);
	memset(&cnt, 0, sizeof(cnt));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	leases_done(&table);
	return 0;
}

static void
load(const char *name, struct dhcp_msg *m)
{
	char path[512];
	char *data = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/dhcp/%s", MB_TEST_DATA, name);
	assert_int_equal(read_file(path, 4096, &data, &len), 0);
	assert_int_equal(dhcp_decode((uint8_t *)data, len, m), 0);
	free(data);
}

/* Run the policy, and check that any reply encodes within 576 bytes. */
static void
handle(const struct dhcp_msg *m, uint16_t port, int64_t now,
       struct dhcp_decision *d)
{
	uint8_t buf[DHCP_MSG_MAX];
	struct dhcp_msg back;
	int n;

	assert_int_equal(
		dhcp_policy_handle(&conf, &table, &cnt, m, port, now, d), 0);
	assert_true(d->reason[0] != '\0');
	if (!d->reply)
		return;
	n = dhcp_encode(&d->msg, buf, sizeof(buf));
	assert_true(n >= DHCP_REPLY_MIN && n <= DHCP_RFC_MAX);
	assert_int_equal(dhcp_decode(buf, (size_t)n, &back), 0);
	assert_int_equal(back.xid, m->xid);
	assert_int_equal(back.server_id, SERVER);
}

/* A plain client (udhcpc-like) message. */
static void
plain(struct dhcp_msg *m, const uint8_t mac[6], uint8_t type, uint32_t xid)
{
	memset(m, 0, sizeof(*m));
	m->op = DHCP_OP_REQUEST;
	m->htype = 1;
	m->hlen = 6;
	m->xid = xid;
	memcpy(m->chaddr, mac, 6);
	m->type = type;
}

static void
test_bios_ipxe_full(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	load("bios_ipxe_discover.bin", &m);
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.type, DHCP_OFFER);
	assert_int_equal(d.msg.yiaddr, hosts[0].ip);
	assert_int_equal(d.boot, DHCP_BOOT_IPXE);
	assert_string_equal(d.msg.file, "http://192.168.100.1:8080/boot/"
					"52:54:00:12:34:56.ipxe");
	/* iPXE asked for 67. */
	assert_string_equal(d.msg.bootfile, d.msg.file);
	assert_string_equal(d.msg.hostname, "cp1");
	assert_true(d.msg.has_lease_time);
	assert_int_equal(d.msg.netmask, 0xffffff00);
	assert_int_equal(d.msg.router, SERVER);
	assert_int_equal(d.msg.siaddr, SERVER);
	assert_int_equal(d.arch, 0);
	/* The capture has no broadcast flag: unicast by hardware address. */
	assert_true(d.dest.unicast_hw);
	assert_int_equal(d.dest.port, 68);
	assert_int_equal(cnt.offer, 1);
}

/* The same capture with 77 and 175 removed is a plain BIOS PXE ROM. */
static void
test_bios_rom(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	load("bios_ipxe_discover.bin", &m);
	m.user_class.len = 0;
	m.ipxe.len = 0;
	m.flags = DHCP_FLAG_BCAST;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.boot, DHCP_BOOT_TFTP);
	assert_string_equal(d.msg.file, "ipxe/undionly.kpxe");
	assert_string_equal(d.msg.sname, "192.168.100.1");
	assert_string_equal(d.msg.tftp_server, "192.168.100.1");
	assert_int_equal(d.msg.vendor.len, 4);
	assert_memory_equal(d.msg.vendor.data, "\x06\x01\x08\xff", 4);
	assert_int_equal(d.msg.vendor_class.len, 9);
	assert_true(d.dest.broadcast);
}

static void
test_uefi_pxe(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	load("uefi_pxe_discover.bin", &m);
	memcpy(m.chaddr, hosts[1].mac, 6);
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.yiaddr, hosts[1].ip);
	assert_int_equal(d.boot, DHCP_BOOT_TFTP);
	assert_int_equal(d.arch, 7);
	assert_string_equal(d.msg.file, "ipxe/ipxe.efi");
	assert_string_equal(d.msg.bootfile, "ipxe/ipxe.efi");
	assert_int_equal(d.msg.vendor.len, 0); /* BINL, like pixiecore */
	assert_memory_equal(d.msg.vendor_class.data, "PXEClient", 9);
	assert_int_equal(d.msg.uuid.len, 17); /* 97 echoed */
	conf.efi_snponly = true;
	handle(&m, 67, NOW, &d);
	assert_string_equal(d.msg.file, "ipxe/snponly.efi");
	/* arch 9 is x64 too (RFC 4578 vs IANA). */
	m.arch[0] = 9;
	conf.efi_snponly = false;
	handle(&m, 67, NOW, &d);
	assert_string_equal(d.msg.file, "ipxe/ipxe.efi");
	/* arm64 only when configured. */
	m.arch[0] = 11;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.boot, DHCP_BOOT_NONE);
	assert_true(d.reply); /* the address still */
	assert_string_equal(d.msg.file, "");
	memcpy(conf.efi_arm64, "ipxe/arm64/ipxe.efi", 20);
	handle(&m, 67, NOW, &d);
	assert_string_equal(d.msg.file, "ipxe/arm64/ipxe.efi");
}

static void
test_uefi_ipxe(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	load("uefi_ipxe_discover.bin", &m);
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.boot, DHCP_BOOT_IPXE);
	assert_int_equal(d.arch, 7);
	assert_string_equal(d.msg.file, "http://192.168.100.1:8080/boot/"
					"52:54:00:12:34:56.ipxe");
}

static void
test_uefi_http(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	load("uefi_http_discover.bin", &m);
	memcpy(m.chaddr, cap_mac, 6);
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.boot, DHCP_BOOT_HTTP);
	assert_string_equal(d.msg.bootfile,
			    "http://192.168.100.1:8080/files/ipxe/ipxe.efi");
	assert_memory_equal(d.msg.vendor_class.data, "HTTPClient", 10);
	assert_int_equal(d.msg.vendor_class.len, 10);
	/* Proxy: same URI, no address. */
	conf.mode = DHCP_PROXY;
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.yiaddr, 0);
	assert_int_equal(d.boot, DHCP_BOOT_HTTP);
	assert_memory_equal(d.msg.vendor_class.data, "HTTPClient", 10);
	assert_false(d.msg.has_lease_time);
}

/*
 * A machine marked secure_boot gets the signed shim for x64 UEFI PXE
 * (arch 7 and 9, full and proxy) and UEFI HTTP boot; its BIOS boots
 * and iPXE's own request are unchanged, and other machines keep iPXE.
 */
static void
test_secure_boot(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	hosts[1].secure_boot = true;
	load("uefi_pxe_discover.bin", &m);
	memcpy(m.chaddr, hosts[1].mac, 6);
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.yiaddr, hosts[1].ip);
	assert_int_equal(d.boot, DHCP_BOOT_TFTP);
	assert_string_equal(d.msg.file, "secureboot/shimx64.efi");
	assert_non_null(strstr(d.reason, "secureboot/shimx64.efi"));
	conf.efi_snponly = true; /* an iPXE choice: not for this machine */
	m.arch[0] = 9;
	handle(&m, 67, NOW, &d);
	assert_string_equal(d.msg.file, "secureboot/shimx64.efi");
	/* proxyDHCP: the same file, no address. */
	conf.mode = DHCP_PROXY;
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.yiaddr, 0);
	assert_string_equal(d.msg.file, "secureboot/shimx64.efi");
	conf.mode = DHCP_FULL;
	/* Another machine on the same firmware keeps iPXE. */
	memcpy(m.chaddr, hosts[0].mac, 6);
	handle(&m, 67, NOW, &d);
	assert_string_equal(d.msg.file, "ipxe/snponly.efi");
	/* BIOS has no Secure Boot: undionly.kpxe as ever. */
	load("bios_ipxe_discover.bin", &m);
	m.user_class.len = 0;
	m.ipxe.len = 0;
	memcpy(m.chaddr, hosts[1].mac, 6);
	handle(&m, 67, NOW, &d);
	assert_string_equal(d.msg.file, "ipxe/undionly.kpxe");
	/* UEFI HTTP boot: the shim's URL. */
	load("uefi_http_discover.bin", &m);
	memcpy(m.chaddr, hosts[1].mac, 6);
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.boot, DHCP_BOOT_HTTP);
	assert_string_equal(
		d.msg.bootfile,
		"http://192.168.100.1:8080/files/secureboot/shimx64.efi");
}

/* DORA for an unknown machine from the pool, and the lease life cycle. */
static void
test_full_pool(void **state)
{
	static const uint8_t a[6] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t b[6] = { 2, 0, 0, 0, 0, 2 };
	struct dhcp_msg m;
	struct dhcp_decision d;
	uint32_t ipa, ipb;

	(void)state;
	plain(&m, a, DHCP_DISCOVER, 1);
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	ipa = d.msg.yiaddr;
	assert_int_equal(ipa, conf.pool.first);
	assert_int_equal(d.boot, DHCP_BOOT_NONE);
	assert_false(d.leases_changed); /* offers are not saved */
	/* b discovers before a requests: it must get another address. */
	plain(&m, b, DHCP_DISCOVER, 2);
	handle(&m, 67, NOW, &d);
	ipb = d.msg.yiaddr;
	assert_int_not_equal(ipa, ipb);
	/* a requests (SELECTING) and is bound. */
	plain(&m, a, DHCP_REQUEST, 1);
	m.has_server_id = true;
	m.server_id = SERVER;
	m.has_requested_ip = true;
	m.requested_ip = ipa;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_ACK);
	assert_int_equal(d.msg.yiaddr, ipa);
	assert_true(d.leases_changed);
	assert_int_equal(leases_count(&table, LEASE_BOUND, NOW), 1);
	/* b chooses another server: its offer is withdrawn. */
	plain(&m, b, DHCP_REQUEST, 2);
	m.has_server_id = true;
	m.server_id = 0x0a000001;
	m.has_requested_ip = true;
	m.requested_ip = 0x0a000064;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	assert_null(leases_find_mac(&table, b));
	/* b asks for a's address at INIT-REBOOT: NAK, broadcast. */
	plain(&m, b, DHCP_REQUEST, 3);
	m.has_requested_ip = true;
	m.requested_ip = ipa;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply); /* no record of b: silent */
	/* ...but an address off our subnet gets a NAK. */
	m.requested_ip = 0x0a000064;
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.type, DHCP_NAK);
	assert_true(d.dest.broadcast);
	/* a renews (ciaddr, unicast). */
	plain(&m, a, DHCP_REQUEST, 4);
	m.ciaddr = ipa;
	handle(&m, 67, NOW + 100, &d);
	assert_int_equal(d.msg.type, DHCP_ACK);
	assert_int_equal(d.dest.ip, ipa);
	assert_false(d.dest.broadcast);
	/* a releases, then comes back: same address. */
	plain(&m, a, DHCP_RELEASE, 5);
	m.ciaddr = ipa;
	handle(&m, 67, NOW + 200, &d);
	assert_false(d.reply);
	assert_true(d.leases_changed);
	assert_int_equal(leases_count(&table, LEASE_BOUND, NOW + 200), 0);
	plain(&m, a, DHCP_DISCOVER, 6);
	handle(&m, 67, NOW + 300, &d);
	assert_int_equal(d.msg.yiaddr, ipa);
	/* a declines it (conflict): next offer is another address. */
	plain(&m, a, DHCP_DECLINE, 7);
	m.has_requested_ip = true;
	m.requested_ip = ipa;
	m.has_server_id = true;
	m.server_id = SERVER;
	handle(&m, 67, NOW + 301, &d);
	assert_false(d.reply);
	plain(&m, a, DHCP_DISCOVER, 8);
	handle(&m, 67, NOW + 302, &d);
	assert_int_not_equal(d.msg.yiaddr, ipa);
	/* INFORM: ACK without address or lease, to ciaddr. */
	plain(&m, a, DHCP_INFORM, 9);
	m.ciaddr = 0xc0a86432;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_ACK);
	assert_int_equal(d.msg.yiaddr, 0);
	assert_false(d.msg.has_lease_time);
	assert_int_equal(d.dest.ip, 0xc0a86432);
}

/* A reserved machine always gets its reservation; NAK for another. */
static void
test_full_reservation(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	plain(&m, hosts[1].mac, DHCP_REQUEST, 1);
	m.has_requested_ip = true;
	m.requested_ip = 0xc0a86464;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_NAK);
	m.requested_ip = hosts[1].ip;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_ACK);
	assert_string_equal(d.msg.hostname, "w1");
	/* Nobody else is offered a reserved address, even when asking. */
	plain(&m, (const uint8_t *)"\x02\0\0\0\0\x09", DHCP_DISCOVER, 2);
	m.has_requested_ip = true;
	m.requested_ip = hosts[1].ip;
	handle(&m, 67, NOW, &d);
	assert_int_not_equal(d.msg.yiaddr, hosts[1].ip);
}

static void
test_unknown_ignore_and_exhaustion(void **state)
{
	uint8_t mac[6] = { 2, 0, 0, 0, 1, 0 };
	struct dhcp_msg m;
	struct dhcp_decision d;
	int i;

	(void)state;
	conf.unknown = DHCP_UNKNOWN_IGNORE;
	plain(&m, mac, DHCP_DISCOVER, 1);
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	assert_true(d.notable);
	load("uefi_pxe_discover.bin", &m);
	memcpy(m.chaddr, mac, 6);
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	/* Known machines are still served. */
	plain(&m, hosts[0].mac, DHCP_DISCOVER, 2);
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	/* A pool of three: the fourth machine gets nothing. */
	conf.unknown = DHCP_UNKNOWN_DISCOVER;
	conf.pool.last = conf.pool.first + 2;
	for (i = 0; i < 4; i++) {
		mac[5] = (uint8_t)i;
		plain(&m, mac, DHCP_DISCOVER, (uint32_t)i);
		handle(&m, 67, NOW, &d);
		assert_int_equal(d.reply, i < 3);
	}
	/* Once the offers lapse, the addresses are free again. */
	mac[5] = 9;
	plain(&m, mac, DHCP_DISCOVER, 9);
	handle(&m, 67, NOW + DHCP_OFFER_HOLD + 1, &d);
	assert_true(d.reply);
}

static void
test_proxy(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	conf.mode = DHCP_PROXY;
	/* A plain client is the site server's. */
	plain(&m, hosts[0].mac, DHCP_DISCOVER, 1);
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	/* A BIOS PXE ROM gets a proxy offer: yiaddr 0, no lease. */
	load("bios_ipxe_discover.bin", &m);
	m.user_class.len = 0;
	m.ipxe.len = 0;
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.type, DHCP_OFFER);
	assert_int_equal(d.msg.yiaddr, 0);
	assert_int_equal(d.msg.siaddr, SERVER);
	assert_false(d.msg.has_lease_time);
	assert_false(d.msg.has_netmask);
	assert_false(d.msg.has_router);
	assert_string_equal(d.msg.file, "ipxe/undionly.kpxe");
	assert_memory_equal(d.msg.vendor_class.data, "PXEClient", 9);
	assert_true(d.dest.broadcast);
	assert_int_equal(d.dest.port, 68);
	assert_int_equal(table.n, 0); /* no lease in proxy mode */
	/* The site server's REQUEST is not ours. */
	m.type = DHCP_REQUEST;
	m.has_server_id = true;
	m.server_id = 0xc0a864fe;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	/* UEFI asks the boot server on 4011: ACK to the sender. */
	load("uefi_pxe_discover.bin", &m);
	m.type = DHCP_REQUEST;
	m.ciaddr = 0xc0a86480;
	handle(&m, 4011, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.type, DHCP_ACK);
	assert_int_equal(d.msg.yiaddr, 0);
	assert_string_equal(d.msg.file, "ipxe/ipxe.efi");
	assert_int_equal(d.dest.port, 0);
	assert_int_equal(cnt.proxy_ack, 1);
	/* iPXE gets the script straight away. */
	load("uefi_ipxe_discover.bin", &m);
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.boot, DHCP_BOOT_IPXE);
	assert_int_equal(d.msg.yiaddr, 0);
	/* Unknown PXE machine with unknown: ignore. */
	conf.unknown = DHCP_UNKNOWN_IGNORE;
	memcpy(m.chaddr, "\x02\0\0\0\0\x07", 6);
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
}

/* A restart between OFFER and REQUEST: the client selected us, we have
 * no record (offers are not saved), the address is free: ACK. */
static void
test_request_after_restart(void **state)
{
	static const uint8_t a[6] = { 2, 0, 0, 0, 3, 1 };
	static const uint8_t b[6] = { 2, 0, 0, 0, 3, 2 };
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	plain(&m, a, DHCP_REQUEST, 1);
	m.has_server_id = true;
	m.server_id = SERVER;
	m.has_requested_ip = true;
	m.requested_ip = 0xc0a86470;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_ACK);
	assert_int_equal(d.msg.yiaddr, 0xc0a86470);
	/* Another machine selecting the same address now gets a NAK. */
	plain(&m, b, DHCP_REQUEST, 2);
	m.has_server_id = true;
	m.server_id = SERVER;
	m.has_requested_ip = true;
	m.requested_ip = 0xc0a86470;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_NAK);
	/* An address outside the pool is never granted to the unknown. */
	m.requested_ip = 0xc0a86405;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_NAK);
}

/*
 * Relayed requests (RFC 1542): answered to the relay on port 67 only when
 * giaddr is a listed relay, with an address of that relay's subnet: its
 * pool for unknown machines, a reservation only when inside it. Any other
 * giaddr is dropped and counted.
 */
static void
test_relay(void **state)
{
	static const uint8_t unk[6] = { 2, 0, 0, 0, 7, 1 };
	static struct dhcp_relay relays[1];
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	/* Not listed (there are no relays): dropped, whoever asks. */
	plain(&m, hosts[0].mac, DHCP_DISCOVER, 1);
	m.giaddr = 0x0a0a0a01;
	m.flags = DHCP_FLAG_BCAST;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	assert_true(d.notable);
	assert_int_equal(d.refusal, DHCP_REFUSE_RELAY);
	assert_int_equal(cnt.relay_dropped, 1);
	assert_int_equal(table.n, 0);
	/* 10.10.10.0/24 behind relay 10.10.10.1, pool .50-.60. */
	memset(relays, 0, sizeof(relays));
	relays[0].address = 0x0a0a0a01;
	relays[0].subnet.addr = 0x0a0a0a00;
	relays[0].subnet.prefix = 24;
	relays[0].gateway = 0x0a0a0a01;
	relays[0].has_pool = true;
	relays[0].pool.first = 0x0a0a0a32;
	relays[0].pool.last = 0x0a0a0a3c;
	conf.relays = relays;
	conf.n_relays = 1;
	/* An unknown machine: the relay's pool, its netmask and router. */
	plain(&m, unk, DHCP_DISCOVER, 2);
	m.giaddr = 0x0a0a0a01;
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.yiaddr, 0x0a0a0a32);
	assert_int_equal(d.msg.router, 0x0a0a0a01);
	assert_int_equal(d.msg.netmask, 0xffffff00);
	assert_int_equal(d.msg.giaddr, 0x0a0a0a01);
	assert_int_equal(d.dest.ip, 0x0a0a0a01);
	assert_int_equal(d.dest.port, 67);
	assert_false(d.dest.broadcast);
	/* Its REQUEST is ACKed in that subnet. */
	plain(&m, unk, DHCP_REQUEST, 3);
	m.giaddr = 0x0a0a0a01;
	m.has_server_id = true;
	m.server_id = SERVER;
	m.has_requested_ip = true;
	m.requested_ip = 0x0a0a0a32;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_ACK);
	assert_int_equal(d.msg.yiaddr, 0x0a0a0a32);
	/* cp1's reservation (192.168.100.11) is not behind it: no offer. */
	plain(&m, hosts[0].mac, DHCP_DISCOVER, 4);
	m.giaddr = 0x0a0a0a01;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	assert_int_equal(d.refusal, DHCP_REFUSE_SUBNET);
	/* ...and a REQUEST for it through that relay is NAKed there. */
	plain(&m, hosts[0].mac, DHCP_REQUEST, 5);
	m.giaddr = 0x0a0a0a01;
	m.has_requested_ip = true;
	m.requested_ip = hosts[0].ip;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_NAK);
	assert_int_equal(d.dest.ip, 0x0a0a0a01);
	assert_int_equal(d.dest.port, 67);
	/* A reservation inside the relay subnet is given. */
	hosts[1].ip = 0x0a0a0a15;
	plain(&m, hosts[1].mac, DHCP_DISCOVER, 6);
	m.giaddr = 0x0a0a0a01;
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.yiaddr, 0x0a0a0a15);
	/* A local (unrelayed) client never gets a relay pool address. */
	plain(&m, (const uint8_t *)"\x02\0\0\0\x07\x02", DHCP_DISCOVER, 7);
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.yiaddr, conf.pool.first);
	/* Another giaddr is still dropped. */
	plain(&m, unk, DHCP_DISCOVER, 8);
	m.giaddr = 0x0a0a0b01;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	assert_int_equal(cnt.relay_dropped, 2);
	/* Proxy offers through a listed relay as well, not an unlisted one. */
	conf.mode = DHCP_PROXY;
	load("bios_ipxe_discover.bin", &m);
	m.giaddr = 0x0a0a0a01;
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.dest.ip, 0x0a0a0a01);
	assert_int_equal(d.dest.port, 67);
	m.giaddr = 0x0a0a0b01;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	assert_int_equal(cnt.relay_dropped, 3);
	hosts[1].ip = 0xc0a86415;
}

/* A client's offer and its DECLINE: the request it declines. */
static void
offer_to(const uint8_t mac[6], uint32_t xid, int64_t now, uint32_t *ret_ip)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	plain(&m, mac, DHCP_DISCOVER, xid);
	handle(&m, 67, now, &d);
	assert_true(d.reply);
	*ret_ip = d.msg.yiaddr;
}

static void
decline(struct dhcp_msg *m, const uint8_t mac[6], uint32_t ip)
{
	plain(m, mac, DHCP_DECLINE, 99);
	m->has_requested_ip = true;
	m->requested_ip = ip;
	m->has_server_id = true;
	m->server_id = SERVER;
}

/*
 * DECLINE only from the MAC holding or just offered the address, only
 * for a pool address nobody reserved, and at most LEASES_PER_MAC - 1
 * declines in force per MAC.
 */
static void
test_decline_rules(void **state)
{
	static const uint8_t a[6] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t evil[6] = { 2, 0, 0, 0, 6, 6 };
	const struct lease *l;
	struct dhcp_msg m;
	struct dhcp_decision d;
	uint32_t ipa, ip;
	int i;

	(void)state;
	/* a is bound to a pool address. */
	offer_to(a, 1, NOW, &ipa);
	plain(&m, a, DHCP_REQUEST, 1);
	m.has_server_id = true;
	m.server_id = SERVER;
	m.has_requested_ip = true;
	m.requested_ip = ipa;
	handle(&m, 67, NOW, &d);
	assert_int_equal(d.msg.type, DHCP_ACK);
	/* Another MAC declines a's address: refused, a keeps it. */
	decline(&m, evil, ipa);
	handle(&m, 67, NOW + 1, &d);
	assert_false(d.leases_changed);
	assert_int_equal(d.refusal, DHCP_REFUSE_DECLINE);
	l = leases_find_ip(&table, ipa);
	assert_non_null(l);
	assert_memory_equal(l->mac, a, 6);
	assert_int_equal(l->state, LEASE_BOUND);
	/* Another MAC declines cp1's reservation: refused, not parked. */
	decline(&m, evil, hosts[0].ip);
	handle(&m, 67, NOW + 1, &d);
	assert_false(d.leases_changed);
	assert_null(leases_find_ip(&table, hosts[0].ip));
	/* A pool address it was never offered: refused. */
	decline(&m, evil, conf.pool.first + 50);
	handle(&m, 67, NOW + 1, &d);
	assert_false(d.leases_changed);
	assert_null(leases_find_ip(&table, conf.pool.first + 50));
	/* cp1 declines its own reservation: noted, nothing parked. */
	decline(&m, hosts[0].mac, hosts[0].ip);
	handle(&m, 67, NOW + 1, &d);
	assert_true(d.notable);
	assert_false(d.leases_changed);
	assert_int_equal(cnt.decline_refused, 4);
	/* The holder declines: parked, and its next offer differs. */
	decline(&m, a, ipa);
	handle(&m, 67, NOW + 2, &d);
	assert_true(d.leases_changed);
	assert_int_equal(leases_find_ip(&table, ipa)->state, LEASE_DECLINED);
	/* Offered and declined again and again: the cap stops it. */
	for (i = 0; i < LEASES_PER_MAC + 2; i++) {
		offer_to(evil, 10 + (uint32_t)i, NOW + 3, &ip);
		decline(&m, evil, ip);
		handle(&m, 67, NOW + 3, &d);
		assert_int_equal(d.leases_changed, i < LEASES_PER_MAC - 1);
	}
	assert_int_equal(leases_declined_by(&table, evil), LEASES_PER_MAC - 1);
	/* Declines lapse: the addresses come back. */
	assert_true(leases_prune(&table, NOW + 3 + DHCP_DECLINE_HOLD) >=
		    LEASES_PER_MAC);
	assert_int_equal(leases_declined_by(&table, evil), 0);
}

/*
 * A table filled to LEASES_MAX by a flood of offers heals by itself once
 * they lapse: the next DISCOVER gets an offer, not an error.
 */
static void
test_table_heals(void **state)
{
	static const uint8_t a[6] = { 2, 0, 0, 0, 0, 1 };
	uint8_t mac[6] = { 2, 0x66, 0, 0, 0, 0 };
	struct dhcp_msg m;
	struct dhcp_decision d;
	uint32_t i;

	(void)state;
	for (i = 0; i < LEASES_MAX; i++) {
		mac[3] = (uint8_t)(i >> 16);
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		assert_int_equal(leases_set(&table, mac, 0x0a000000 + i,
					    LEASE_OFFERED,
					    NOW + DHCP_OFFER_HOLD),
				 0);
	}
	assert_int_equal(leases_set(&table, a, 0x0b000000, LEASE_OFFERED, NOW),
			 -ENOSPC);
	/* While the offers hold, no room: no offer, a refusal. */
	plain(&m, a, DHCP_DISCOVER, 1);
	handle(&m, 67, NOW + 1, &d);
	assert_false(d.reply);
	assert_int_equal(d.refusal, DHCP_REFUSE_POOL);
	/* Once they lapse, the table makes room by itself. */
	handle(&m, 67, NOW + DHCP_OFFER_HOLD, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.yiaddr, conf.pool.first);
	assert_int_equal(table.n, 1);
}

/*
 * The log limit: DHCP_LOG_BURST lines of a kind at once, then one every
 * 60 / DHCP_LOG_PER_MIN seconds, with the count held back in between;
 * kinds do not share a budget.
 */
static void
test_loglimit(void **state)
{
	struct dhcp_loglimit l;
	uint64_t held = 99;
	int64_t t = 1000000;
	unsigned i, ok = 0;

	(void)state;
	memset(&l, 0, sizeof(l));
	for (i = 0; i < 100; i++)
		ok += dhcp_loglimit_allow(&l, DHCP_REFUSE_UNKNOWN, t, &held);
	assert_int_equal(ok, DHCP_LOG_BURST);
	assert_int_equal(held, 0);
	assert_true(dhcp_loglimit_allow(&l, DHCP_REFUSE_RELAY, t, &held));
	assert_int_equal(held, 0);
	/* Not yet a token's worth of time. */
	assert_false(dhcp_loglimit_allow(&l, DHCP_REFUSE_UNKNOWN,
					 t + 60000 / DHCP_LOG_PER_MIN - 1,
					 &held));
	assert_true(dhcp_loglimit_allow(&l, DHCP_REFUSE_UNKNOWN,
					t + 60000 / DHCP_LOG_PER_MIN, &held));
	assert_int_equal(held, 100 - DHCP_LOG_BURST + 1);
	assert_false(dhcp_loglimit_allow(&l, DHCP_REFUSE_UNKNOWN,
					 t + 60000 / DHCP_LOG_PER_MIN, &held));
	/* A quiet hour refills the burst, no more. */
	t += 3600 * 1000;
	for (ok = 0, i = 0; i < 100; i++)
		ok += dhcp_loglimit_allow(&l, DHCP_REFUSE_UNKNOWN, t, &held);
	assert_int_equal(ok, DHCP_LOG_BURST);
	assert_string_equal(dhcp_refusal_name(DHCP_REFUSE_RELAY), "relay");
}

/* PXE boot-server request broadcast to 67 in proxy mode, naming us. */
static void
test_proxy_request_on_67(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	conf.mode = DHCP_PROXY;
	load("uefi_pxe_discover.bin", &m);
	m.type = DHCP_REQUEST;
	m.ciaddr = 0xc0a86432;
	m.has_server_id = true;
	m.server_id = SERVER;
	handle(&m, 67, NOW, &d);
	assert_true(d.reply);
	assert_int_equal(d.msg.type, DHCP_ACK);
	assert_int_equal(d.msg.yiaddr, 0);
	assert_string_equal(d.msg.file, "ipxe/ipxe.efi");
	/* arm64 HTTP boot without a configured loader: nothing. */
	load("uefi_http_discover.bin", &m);
	m.arch[0] = 19;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	assert_true(d.notable);
}

static void
test_dropped(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;

	(void)state;
	plain(&m, hosts[0].mac, DHCP_OFFER, 1);
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	plain(&m, hosts[0].mac, DHCP_DISCOVER, 1);
	m.op = DHCP_OP_REPLY;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	plain(&m, hosts[0].mac, DHCP_NONE, 1); /* BOOTP */
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	plain(&m, hosts[0].mac, DHCP_DISCOVER, 1);
	m.hlen = 16;
	handle(&m, 67, NOW, &d);
	assert_false(d.reply);
	assert_int_equal(cnt.dropped, 4);
}

static void
test_metrics(void **state)
{
	struct dhcp_msg m;
	struct dhcp_decision d;
	char *s = NULL;
	size_t len;

	(void)state;
	plain(&m, hosts[0].mac, DHCP_DISCOVER, 1);
	handle(&m, 67, NOW, &d);
	assert_int_equal(
		dhcp_metrics_render(&conf, &table, &cnt, NOW, &s, &len), 0);
	assert_non_null(strstr(
		s, "metalboot_dhcp_received_total{type=\"discover\"} 1\n"));
	assert_non_null(
		strstr(s, "metalboot_dhcp_sent_total{type=\"offer\"} 1\n"));
	assert_non_null(
		strstr(s, "metalboot_dhcp_leases{state=\"offered\"} 1\n"));
	assert_non_null(strstr(s, "metalboot_dhcp_pool_size 100\n"));
	assert_int_equal(strlen(s), len);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bios_ipxe_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bios_rom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uefi_pxe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uefi_ipxe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_secure_boot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uefi_http, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_pool, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_reservation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_unknown_ignore_and_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_after_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decline_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_table_heals, setup,
						teardown),
		cmocka_unit_test(test_loglimit),
		cmocka_unit_test_setup_teardown(test_proxy_request_on_67, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
