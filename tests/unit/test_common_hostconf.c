/*
 * test_common_hostconf.c - the boot-time firewall script (its port lists
 * as each manager spells them, the checks before every add, the port
 * validation that keeps anything but digits and '-' out of it), its
 * systemd unit byte for byte, and the zram units to mask. Running the
 * script for real is tests/interop/firewall_persist.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "hostconf.h"

static const struct hostconf_port ports[] = {
	{ "6443", false },
	{ "30000-32767", false },
	{ "8472", true },
	{ "1-65535", true },
};

static void
test_script_lists(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(hostconf_fw_script(ports, 4, &b), 0);
	assert_int_equal(strncmp(b.data, "#!/bin/sh\n" HOSTCONF_MARK, 32), 0);
	assert_non_null(strstr(b.data, "\nFIREWALLD_PORTS=\"6443/tcp "
				       "30000-32767/tcp 8472/udp "
				       "1-65535/udp\"\n"));
	assert_non_null(strstr(b.data, "\nUFW_PORTS=\"6443/tcp 30000:32767/tcp "
				       "8472/udp 1:65535/udp\"\n"));
	assert_non_null(strstr(b.data, "\nIPTABLES_PORTS=\"tcp:6443 "
				       "tcp:30000:32767 udp:8472 "
				       "udp:1:65535\"\n"));
	assert_int_equal(strcmp(b.data + b.len - 9, "exit $rc\n"), 0);
	buf_done(&b);
}

/*
 * Idempotent by construction: every add is behind a check of the same
 * rule; the managers are tried only when present; FORWARD is set after
 * whichever ran.
 */
static void
test_script_checks_first(void **state)
{
	struct buf b;
	const char *c, *a, *f;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(hostconf_fw_script(ports, 1, &b), 0);
	c = strstr(b.data, "iptables -C INPUT -p \"$proto\" --dport \"$port\" "
			   "-j ACCEPT 2>/dev/null ||\n");
	a = strstr(b.data, "iptables -A INPUT -p \"$proto\" --dport \"$port\" "
			   "-j ACCEPT || rc=1\n");
	assert_non_null(c);
	assert_non_null(a);
	assert_true(c < a);
	c = strstr(b.data, "firewall-cmd --permanent --query-port=\"$p\"");
	a = strstr(b.data, "firewall-cmd --permanent --add-port=\"$p\"");
	assert_non_null(c);
	assert_non_null(a);
	assert_true(c < a);
	assert_non_null(strstr(b.data, "firewall-cmd --reload"));
	assert_non_null(strstr(b.data, "have firewall-cmd && firewall-cmd "
				       "--state"));
	assert_non_null(strstr(b.data, "have ufw && ufw status"));
	assert_non_null(
		strstr(b.data, "want='DEFAULT_FORWARD_POLICY=\"ACCEPT\"'\n"));
	f = strstr(b.data, "iptables -P FORWARD ACCEPT");
	assert_non_null(f);
	assert_true(f > a);
	/* POSIX sh only: no bash arrays, [[ ]], local or $'...'. */
	assert_null(strstr(b.data, "[["));
	assert_null(strstr(b.data, "local "));
	assert_null(strstr(b.data, "$'"));
	assert_null(strstr(b.data, "set -e"));
	buf_done(&b);
}

/* No ports: empty lists, still a script that sets FORWARD. */
static void
test_script_no_ports(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(hostconf_fw_script(NULL, 0, &b), 0);
	assert_non_null(strstr(b.data, "\nFIREWALLD_PORTS=\"\"\n"));
	assert_non_null(strstr(b.data, "\nIPTABLES_PORTS=\"\"\n"));
	assert_non_null(strstr(b.data, "iptables -P FORWARD ACCEPT"));
	buf_done(&b);
}

/* Both sides of each bound, and anything that is not a port. */
static void
test_script_port_validation(void **state)
{
	static const char *const good[] = { "1", "65535", "1-65535", "80-80",
					    "30000-32767" };
	static const char *const bad[] = {
		"",	    "0",	 "65536",
		"-1",	    "1-",	 "-",
		"2-1",	    "1-2-3",	 "0-10",
		"10-65536", "6443a",	 " 6443",
		"6443 ",    "6443/tcp",	 "+6443",
		"1;reboot", "$(reboot)", "`reboot`",
		"64\n43",   "0x10",	 "99999999999999999999",
	};
	struct hostconf_port p[2] = { { "6443", false }, { NULL, false } };
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1 << 16);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		p[1].port = good[i];
		assert_int_equal(hostconf_fw_script(p, 2, &b), 0);
		buf_done(&b);
	}
	assert_int_equal(buf_puts(&b, "X"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p[1].port = bad[i];
		if (hostconf_fw_script(p, 2, &b) != -EINVAL)
			fail_msg("port '%s' accepted", bad[i]);
		assert_string_equal(b.data, "X");
	}
	p[1].port = NULL;
	assert_int_equal(hostconf_fw_script(p, 2, &b), -EINVAL);
	assert_string_equal(b.data, "X");
	buf_done(&b);
}

/* The cap: -E2BIG, out as it was. */
static void
test_script_e2big(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 300);
	assert_int_equal(buf_puts(&b, "X"), 0);
	assert_int_equal(hostconf_fw_script(ports, 4, &b), -E2BIG);
	assert_string_equal(b.data, "X");
	assert_int_equal(b.len, 1);
	buf_done(&b);
}

static void
test_unit(void **state)
{
	static const char want[] =
		"# Written by metalboot: re-applies this node's firewall "
		"rules at every boot.\n"
		"[Unit]\n"
		"Description=metalboot: open this node's Kubernetes ports\n"
		"After=firewalld.service ufw.service docker.service "
		"containerd.service\n"
		"Before=kubelet.service\n"
		"\n"
		"[Service]\n"
		"Type=oneshot\n"
		"RemainAfterExit=yes\n"
		"ExecStart=/bin/sh /etc/metalboot/firewall.sh\n"
		"\n"
		"[Install]\n"
		"WantedBy=multi-user.target\n";
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(hostconf_fw_unit(&b), 0);
	assert_string_equal(b.data, want);
	assert_string_equal(HOSTCONF_FW_UNIT,
			    "/etc/systemd/system/metalboot-firewall.service");
	buf_done(&b);
}

/* Unit names systemctl takes: a known suffix, no blank or slash. */
static void
test_zram_units(void **state)
{
	bool debian = false, fedora = false;
	size_t i;

	(void)state;
	for (i = 0; hostconf_zram_units[i] != NULL; i++) {
		const char *u = hostconf_zram_units[i];
		size_t n = strlen(u);

		assert_true(n > 5);
		assert_true(strcmp(u + n - 8, ".service") == 0 ||
			    strcmp(u + n - 5, ".swap") == 0);
		assert_null(strpbrk(u, " \t\n/"));
		debian |= strcmp(u, "zramswap.service") == 0;
		fedora |= strcmp(u, "dev-zram0.swap") == 0;
	}
	assert_true(i >= 2);
	assert_true(debian);
	assert_true(fedora);
	assert_string_equal(HOSTCONF_ZRAM_GENERATOR_CONF,
			    "/etc/systemd/zram-generator.conf");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_lists),
		cmocka_unit_test(test_script_checks_first),
		cmocka_unit_test(test_script_no_ports),
		cmocka_unit_test(test_script_port_validation),
		cmocka_unit_test(test_script_e2big),
		cmocka_unit_test(test_unit),
		cmocka_unit_test(test_zram_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
