/*
 * test_stage1_stage1.c - the first stage's pure half: the kernel command
 * line, the tmpfs size, the state disk decision, the DHCP exchange; and
 * the shared storage rules (common/storage.c) and size parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp.h"
#include "num.h"
#include "stage1.h"
#include "storage.h"

static const uint8_t mac1[MAC_LEN] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x01 };

static void
test_cmdline(void **state)
{
	struct s1_cmdline c;
	char err[128] = "";

	(void)state;
	assert_int_equal(
		s1_cmdline_parse("console=ttyS0 metalboot.server="
				 "https://10.0.0.1:443 metalboot.mac="
				 "52:54:00:00:01:01 metalboot.state="
				 "/dev/vda metalboot.wipe=1 "
				 "metalboot.tmpfs=60% init=/lib/systemd"
				 "/systemd\n",
				 &c, err, sizeof(err)),
		0);
	assert_true(c.has_mac);
	assert_memory_equal(c.mac, mac1, MAC_LEN);
	assert_string_equal(c.state, "/dev/vda");
	assert_true(c.wipe);
	assert_string_equal(c.tmpfs, "60%");
	assert_string_equal(c.init, "/lib/systemd/systemd");

	/* iPXE's BOOTIF when there is no metalboot.mac=. */
	assert_int_equal(s1_cmdline_parse("BOOTIF=01-52-54-00-00-01-01", &c,
					  err, sizeof(err)),
			 0);
	assert_true(c.has_mac);
	assert_memory_equal(c.mac, mac1, MAC_LEN);
	assert_false(c.wipe);
	assert_string_equal(c.state, "");

	/* metalboot.wipe=0 and a bare word are not a wipe. */
	assert_int_equal(s1_cmdline_parse("metalboot.wipe=0 metalboot.wipe", &c,
					  err, sizeof(err)),
			 0);
	assert_false(c.wipe);
}

static void
test_cmdline_bad(void **state)
{
	struct s1_cmdline c;
	char err[128] = "";

	(void)state;
	assert_int_equal(s1_cmdline_parse("quiet metalboot.state=/dev/../etc "
					  "metalboot.mac=52:54:00:00:01:01",
					  &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "metalboot.state=/dev/../etc"));
	/* The rest is still read. */
	assert_true(c.has_mac);
	assert_string_equal(c.state, "");
	assert_int_equal(s1_cmdline_parse("metalboot.tmpfs=0 "
					  "metalboot.state=/dev/disk/by-id/x",
					  &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "metalboot.tmpfs=0"));
	assert_int_equal(s1_cmdline_parse("metalboot.mac=zz init=sbin/init", &c,
					  err, sizeof(err)),
			 -EINVAL);
	assert_false(c.has_mac);
	assert_string_equal(c.init, "");
}

static void
test_storage_rules(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(storage_device_valid("/dev/vda"));
	assert_true(storage_device_valid("/dev/nvme0n1"));
	assert_false(storage_device_valid("/dev/"));
	assert_false(storage_device_valid("vda"));
	assert_false(storage_device_valid("/dev/disk/by-id/ata-x"));
	assert_false(storage_device_valid("/dev/..x"));
	assert_int_equal(storage_tmpfs_check(""), 0);
	assert_int_equal(storage_tmpfs_check("100%"), 0);
	assert_int_equal(storage_tmpfs_check("2G"), 0);
	assert_int_equal(storage_tmpfs_check("101%"), -EINVAL);
	assert_int_equal(storage_tmpfs_check("0"), -EINVAL);
	assert_int_equal(storage_tmpfs_check("2GB"), -EINVAL);
	assert_int_equal(storage_tmpfs_absolute("3GiB"), 3ull << 30);
	assert_int_equal(storage_tmpfs_absolute("50%"), 0);
	/* Half of RAM by default; a share; an absolute size; the floor. */
	assert_int_equal(storage_tmpfs_bytes("", 4ull << 30, 0), 2ull << 30);
	assert_int_equal(storage_tmpfs_bytes("25%", 4ull << 30, 0), 1ull << 30);
	assert_int_equal(storage_tmpfs_bytes("512M", 4ull << 30, 0),
			 512ull << 20);
	assert_int_equal(storage_tmpfs_bytes("512M", 4ull << 30, 1ull << 30),
			 1ull << 30);
	assert_int_equal(num_parse_size("1048576", UINT64_MAX, &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(num_parse_size("2Ki", UINT64_MAX, &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(num_parse_size("16384T", UINT64_MAX, &v), 0);
	assert_int_equal(num_parse_size("16777216T", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(num_parse_size("G", UINT64_MAX, &v), -EINVAL);
	assert_int_equal(num_parse_size("1 G", UINT64_MAX, &v), -EINVAL);
}

static void
test_meminfo(void **state)
{
	(void)state;
	assert_int_equal(s1_meminfo_total("MemTotal:        2013952 kB\n"
					  "MemFree:  1 kB\n"),
			 2013952ull * 1024);
	assert_int_equal(s1_meminfo_total("MemFree: 1 kB\n"), 0);
	assert_int_equal(s1_meminfo_total("MemTotal: x kB\n"), 0);
}

static void
test_disk_decide(void **state)
{
	struct s1_probe p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.blank = true;
	assert_int_equal(s1_disk_decide(&p, false), S1_DISK_FORMAT);
	memset(&p, 0, sizeof(p));
	snprintf(p.type, sizeof(p.type), "ext4");
	snprintf(p.label, sizeof(p.label), "%s", S1_LABEL);
	assert_int_equal(s1_disk_decide(&p, false), S1_DISK_MOUNT);
	/* Ours is kept even with wipe: wipe is for foreign data, once. */
	assert_int_equal(s1_disk_decide(&p, true), S1_DISK_MOUNT);
	snprintf(p.label, sizeof(p.label), "%s", "data");
	assert_int_equal(s1_disk_decide(&p, false), S1_DISK_REFUSE);
	assert_int_equal(s1_disk_decide(&p, true), S1_DISK_FORMAT);
	memset(&p, 0, sizeof(p));
	snprintf(p.type, sizeof(p.type), "dos"); /* a partition table */
	assert_int_equal(s1_disk_decide(&p, false), S1_DISK_REFUSE);
}

/* A server's reply to what the client built. */
static size_t
reply(const uint8_t *req, size_t len, uint8_t type, uint8_t *out, size_t cap)
{
	struct dhcp_msg m, r;

	assert_int_equal(dhcp_decode(req, len, &m), 0);
	memset(&r, 0, sizeof(r));
	r.op = DHCP_OP_REPLY;
	r.htype = DHCP_HTYPE_ETHER;
	r.hlen = MAC_LEN;
	r.xid = m.xid;
	memcpy(r.chaddr, m.chaddr, sizeof(r.chaddr));
	r.yiaddr = 0xc0a8640b;
	r.type = type;
	r.has_server_id = r.has_netmask = r.has_router = true;
	r.server_id = 0xc0a86401;
	r.netmask = 0xffffff00;
	r.router = 0xc0a86401;
	r.dns[0] = 0xc0a86401;
	r.n_dns = 1;
	snprintf(r.hostname, sizeof(r.hostname), "cp1");
	return (size_t)dhcp_encode(&r, out, cap);
}

static void
test_dhcp(void **state)
{
	uint8_t pkt[DHCP_MSG_MAX], rep[DHCP_MSG_MAX];
	struct dhcp_msg m;
	struct s1_lease l;
	int len;
	size_t rl;

	(void)state;
	len = s1_dhcp_build(mac1, 0x1234, 0, 0, pkt, sizeof(pkt));
	assert_true(len >= DHCP_MIN_LEN);
	assert_int_equal(dhcp_decode(pkt, (size_t)len, &m), 0);
	assert_int_equal(m.type, DHCP_DISCOVER);
	assert_int_equal(m.flags, DHCP_FLAG_BCAST);
	assert_true(dhcp_requested(&m, DHCP_OPT_ROUTER));
	rl = reply(pkt, (size_t)len, DHCP_OFFER, rep, sizeof(rep));
	assert_int_equal(s1_dhcp_reply(rep, rl, mac1, 0x1234, DHCP_OFFER, &l),
			 0);
	assert_int_equal(l.addr, 0xc0a8640b);
	assert_int_equal(l.server, 0xc0a86401);
	assert_string_equal(l.hostname, "cp1");
	/* Not ours: another xid, another type, another MAC, garbage. */
	assert_int_equal(s1_dhcp_reply(rep, rl, mac1, 0x1235, DHCP_OFFER, &l),
			 -EAGAIN);
	assert_int_equal(s1_dhcp_reply(rep, rl, mac1, 0x1234, DHCP_ACK, &l),
			 -EAGAIN);
	assert_int_equal(s1_dhcp_reply(rep, 100, mac1, 0x1234, DHCP_ACK, &l),
			 -EBADMSG);
	len = s1_dhcp_build(mac1, 0x1234, l.server, l.addr, pkt, sizeof(pkt));
	assert_int_equal(dhcp_decode(pkt, (size_t)len, &m), 0);
	assert_int_equal(m.type, DHCP_REQUEST);
	assert_int_equal(m.requested_ip, 0xc0a8640b);
	assert_int_equal(m.server_id, 0xc0a86401);
	rl = reply(pkt, (size_t)len, DHCP_NAK, rep, sizeof(rep));
	assert_int_equal(s1_dhcp_reply(rep, rl, mac1, 0x1234, DHCP_ACK, &l),
			 -ECONNREFUSED);
	assert_int_equal(s1_prefix_len(0xffffff00), 24);
	assert_int_equal(s1_prefix_len(0), 0);
	assert_int_equal(s1_prefix_len(0xffffffff), 32);
	assert_int_equal(s1_prefix_len(0xff00ff00), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_cmdline_bad),
		cmocka_unit_test(test_storage_rules),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_disk_decide),
		cmocka_unit_test(test_dhcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
