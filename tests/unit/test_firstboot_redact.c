/*
 * test_firstboot_redact.c - the tail of a failed program's output that an
 * event carries: secrets out (tokens, certificate keys, private keys, also
 * when the cut falls inside one), the tail cut on a line and a character.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

static char *
tail(const char *in, size_t max, struct buf *b)
{
	buf_init(b, FB_REPORT_OUTPUT_MAX);
	assert_int_equal(fb_redact_tail(in, strlen(in), max, b), 0);
	return b->data ? b->data : "";
}

static void
test_secrets(void **state)
{
	struct buf b;

	(void)state;
	assert_string_equal(
		tail("kubeadm join 10.0.0.1:6443 --token "
		     "abcdef.0123456789abcdef "
		     "--discovery-token-ca-cert-hash sha256:"
		     "00112233445566778899aabbccddeeff00112233445566778899aabb"
		     "ccddeeff\n",
		     4096, &b),
		"kubeadm join 10.0.0.1:6443 --token [redacted] "
		"--discovery-token-ca-cert-hash sha256:[redacted]\n");
	buf_done(&b);
	assert_string_equal(
		tail("--certificate-key "
		     "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4"
		     "c3d2e1f0 done\n",
		     4096, &b),
		"--certificate-key [redacted] done\n");
	buf_done(&b);
	assert_string_equal(tail("a\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n"
				 "-----END EC PRIVATE KEY-----\nb\n",
				 4096, &b),
			    "a\n[redacted]\nb\n");
	buf_done(&b);
	/* A key cut short by the capture is still taken out. */
	assert_string_equal(
		tail("x\n-----BEGIN PRIVATE KEY-----\nMIIE\n", 4096, &b),
		"x\n[redacted]");
	buf_done(&b);
	/* Not secrets: a certificate, a longer word, 63 or 65 digits. */
	assert_string_equal(tail("-----BEGIN CERTIFICATE-----\nx\n", 4096, &b),
			    "-----BEGIN CERTIFICATE-----\nx\n");
	buf_done(&b);
	assert_string_equal(tail("xabcdef.0123456789abcdef", 4096, &b),
			    "xabcdef.0123456789abcdef");
	buf_done(&b);
	assert_string_equal(
		tail("0123456789012345678901234567890123456789012345678901234"
		     "56789012",
		     4096, &b),
		"0123456789012345678901234567890123456789012345678901234"
		"56789012");
	buf_done(&b);
}

static void
test_tail(void **state)
{
	struct buf b;

	(void)state;
	/* Cut after the first line break past the cut. */
	assert_string_equal(tail("first line\nsecond\nthird\n", 12, &b),
			    "third\n");
	buf_done(&b);
	/* A token across the cut is found before cutting. */
	assert_string_equal(tail("--token abcdef.0123456789abcdef", 12, &b),
			    "n [redacted]");
	buf_done(&b);
	/* Never inside a UTF-8 character (é is 2 bytes). */
	assert_string_equal(tail("\xc3\xa9\xc3\xa9", 3, &b), "\xc3\xa9");
	buf_done(&b);
	assert_string_equal(tail("", 10, &b), "");
	buf_done(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
