/*
 * test_netboot_nodes.c - the node state store: state transitions, the
 * payload lock and re-arm, the lease hook, persistence across a restart
 * (a fresh store reloads what the old one acknowledged), corrupt state
 * files, the /v1/nodes document and the metrics text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"
#include "metrics.h"
#include "nodes.h"

static const uint8_t mac1[MAC_LEN] = { 0x52, 0x54, 0, 0, 1, 1 };
static const uint8_t mac2[MAC_LEN] = { 0x52, 0x54, 0, 0, 2, 1 };
static char dir[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_nodes.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct nodes *
fleet(const char *state_dir)
{
	struct nodes *ns = nodes_new(state_dir);

	assert_non_null(ns);
	assert_int_equal(
		nodes_add(ns, "cp1", mac1, 0x7f000001, "control-plane"), 0);
	assert_int_equal(nodes_add(ns, "w1", mac2, 0x7f000002, "worker"), 0);
	return ns;
}

static struct node_event
ev(const char *step, enum event_status st, const char *msg)
{
	struct node_event e;

	memset(&e, 0, sizeof(e));
	snprintf(e.step, sizeof(e.step), "%s", step);
	e.status = st;
	snprintf(e.message, sizeof(e.message), "%s", msg);
	return e;
}

static void
test_transitions(void **state)
{
	struct nodes *ns = fleet(NULL);
	struct node *nd = nodes_find(ns, mac1);
	struct node_event e;
	bool repeat = true;

	(void)state;
	assert_non_null(nd);
	assert_int_equal(nodes_add(ns, "dup", mac1, 0, "worker"), -EEXIST);
	assert_int_equal(nd->state, NODE_PENDING);
	assert_int_equal(nodes_mark(ns, nd, "dhcp", 100), 0);
	assert_int_equal(nd->state, NODE_BOOTING);
	assert_int_equal(nodes_mark_mac(ns, mac1, "kernel", 101), 0);
	assert_int_equal(nodes_mark_mac(ns, (uint8_t[6]){ 1 }, "x", 1),
			 -ENOENT);
	assert_int_equal(
		nodes_payload_fetch(nd, NODE_PAYLOAD_FIRSTBOOT, &repeat), 0);
	assert_false(repeat);
	assert_int_equal(
		nodes_payload_fetch(nd, NODE_PAYLOAD_FIRSTBOOT, &repeat), 0);
	assert_true(repeat);
	e = ev("fetch", EVENT_RUNNING, "");
	assert_int_equal(nodes_event(ns, nd, &e, 102), 0);
	assert_int_equal(nd->state, NODE_PROVISIONING);
	e = ev("kubeadm", EVENT_FAILED, "exit 1");
	assert_int_equal(nodes_event(ns, nd, &e, 103), 0);
	assert_int_equal(nd->state, NODE_FAILED);
	e = ev("kubeadm", EVENT_OK, "");
	assert_int_equal(nodes_event(ns, nd, &e, 104), 0);
	assert_int_equal(nd->state, NODE_PROVISIONING);
	assert_false(nd->locked);
	e = ev("done", EVENT_RUNNING, "");
	assert_int_equal(nodes_event(ns, nd, &e, 105), 0);
	assert_false(nd->locked);
	e = ev("done", EVENT_OK, "");
	assert_int_equal(nodes_event(ns, nd, &e, 106), 0);
	assert_int_equal(nd->state, NODE_DONE);
	assert_true(nd->locked);
	assert_int_equal(
		nodes_payload_fetch(nd, NODE_PAYLOAD_USER_DATA, &repeat),
		-ESTALE);
	assert_int_equal(nodes_rearm(ns, nd, 107), 0);
	assert_false(nd->locked);
	assert_int_equal(
		nodes_payload_fetch(nd, NODE_PAYLOAD_FIRSTBOOT, &repeat), 0);
	assert_false(repeat);
	assert_int_equal(nd->ntimeline, 8);
	assert_string_equal(nd->timeline[0].event, "dhcp");
	assert_string_equal(nd->timeline[3].event, "kubeadm:failed");
	assert_string_equal(nd->timeline[7].event, "rearm");
	assert_int_equal(nd->timeline[7].time, 107);
	nodes_free(ns);
	assert_null(nodes_free(NULL));
}

static void
test_timeline_cap(void **state)
{
	struct nodes *ns = fleet(NULL);
	struct node *nd = nodes_find(ns, mac2);
	char name[16];
	int i;

	(void)state;
	/* Milestones spaced so that the rate limit lets each one in. */
	for (i = 0; i < NODES_TIMELINE_MAX + 5; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		assert_int_equal(nodes_mark(ns, nd, name,
					    (int64_t)i * NODES_MARK_REFILL_MS),
				 0);
	}
	assert_int_equal(nd->ntimeline, NODES_TIMELINE_MAX);
	assert_string_equal(nd->timeline[0].event, "m5");
	/* Agent events push the oldest entry out as well. */
	for (i = 0; i < 3; i++) {
		struct node_event e = ev("step", EVENT_OK, "");

		assert_int_equal(nodes_event(ns, nd, &e, INT64_C(1) << 40), 0);
	}
	assert_int_equal(nd->ntimeline, NODES_TIMELINE_MAX);
	assert_string_equal(nd->timeline[0].event, "m8");
	assert_int_equal(ns->marks_dropped, 0);
	nodes_free(ns);
}

/*
 * Milestones come from unauthenticated requests (DHCP, TFTP, boot
 * scripts, refused secrets): a flood gets a burst in, then one a minute,
 * and never pushes the agent's events out of the timeline.
 */
static void
test_mark_flood(void **state)
{
	struct nodes *ns = fleet(NULL);
	struct node *nd = nodes_find(ns, mac1);
	struct node_event e = ev("kubeadm", EVENT_OK, "");
	int64_t t = 1000;
	int i;

	(void)state;
	assert_int_equal(nodes_event(ns, nd, &e, t), 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(nodes_mark(ns, nd, "dhcp", t), 0);
	assert_int_equal(nd->ntimeline, 1 + NODES_MARK_BURST);
	assert_int_equal(ns->marks_dropped, 10000 - NODES_MARK_BURST);
	/* One more per refill interval, and no more. */
	t += NODES_MARK_REFILL_MS;
	assert_int_equal(nodes_mark(ns, nd, "dhcp", t), 0);
	assert_int_equal(nodes_mark(ns, nd, "dhcp", t), 0);
	assert_int_equal(nd->ntimeline, 2 + NODES_MARK_BURST);
	assert_int_equal(nodes_secret_refused(ns, nd, t), 0);
	assert_int_equal(nd->ntimeline, 2 + NODES_MARK_BURST);
	/* The other node has a bucket of its own. */
	assert_int_equal(nodes_secret_refused(ns, nodes_find(ns, mac2), t), 0);
	assert_string_equal(nodes_find(ns, mac2)->timeline[0].event,
			    "secret-refused");
	assert_int_equal(nodes_find(ns, mac2)->state, NODE_PENDING);

	/* 100 agent events, then a week of flooding, a mark every 10 s. */
	for (i = 0; i < 100; i++) {
		snprintf(e.step, sizeof(e.step), "step%d", i);
		assert_int_equal(nodes_event(ns, nd, &e, ++t), 0);
	}
	for (i = 0; i < 7 * 24 * 360; i++) {
		t += 10000;
		assert_int_equal(nodes_mark(ns, nd, "boot-script", t), 0);
	}
	assert_int_equal(nd->ntimeline, NODES_TIMELINE_MAX);
	for (i = 0; i < 100; i++) {
		char want[NODES_EVENT_NAME_MAX];

		snprintf(want, sizeof(want), "step%d:ok", i);
		assert_string_equal(nd->timeline[i].event, want);
	}
	assert_string_equal(nd->timeline[NODES_TIMELINE_MAX - 1].event,
			    "boot-script");
	nodes_free(ns);
}

/*
 * Persistence is batched: events mark the node dirty and cost no write
 * until nodes_flush(), which writes each dirty node once; the lock at
 * "done" and the secret window are written at once.
 */
static void
test_flush_batched(void **state)
{
	struct nodes *ns = fleet(dir), *again;
	struct node *nd = nodes_find(ns, mac1);
	struct node_event e = ev("kubeadm", EVENT_RUNNING, "");
	char path[512], bad[MAC_STR_LEN];
	struct stat st;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/nodes/52-54-00-00-01-01.json", dir);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(nodes_event(ns, nd, &e, 100 + i), 0);
		assert_int_equal(
			nodes_mark(ns, nodes_find(ns, mac2), "dhcp", 100 + i),
			0);
	}
	assert_int_equal(ns->writes, 0);
	assert_int_equal(stat(path, &st), -1);
	/* One tick writes at most its share, round-robin. */
	assert_int_equal(nodes_flush_some(ns, 1), 0);
	assert_int_equal(ns->writes, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(nodes_flush_some(ns, 1), 0);
	assert_int_equal(ns->writes, 2);
	assert_int_equal(nodes_flush_some(ns, 1), 0);
	assert_int_equal(ns->writes, 2);
	nd->dirty = nodes_find(ns, mac2)->dirty = true;
	assert_int_equal(nodes_flush(ns), 0);
	assert_int_equal(ns->writes, 4);
	assert_int_equal(nodes_flush(ns), 0);
	assert_int_equal(ns->writes, 4);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(nodes_secret_served(ns, nd, 5000), 0);
	assert_int_equal(ns->writes, 5);
	assert_int_equal(nodes_secret_served(ns, nd, 6000), 0);
	assert_int_equal(ns->writes, 5);
	e = ev("done", EVENT_OK, "");
	assert_int_equal(nodes_event(ns, nd, &e, 7000), 0);
	assert_int_equal(ns->writes, 6);
	/* What was written is what a restart reads. */
	again = fleet(dir);
	assert_int_equal(nodes_load(again, bad), 0);
	assert_int_equal(nodes_find(again, mac1)->state, NODE_DONE);
	assert_int_equal(nodes_find(again, mac1)->secrets_since, 5000);
	assert_int_equal(nodes_find(again, mac1)->ntimeline,
			 NODES_TIMELINE_MAX);
	assert_int_equal(nodes_find(again, mac2)->ntimeline, NODES_MARK_BURST);
	assert_true(nodes_find(again, mac2)->timeline[0].milestone);
	nodes_free(again);
	nodes_free(ns);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nodes/52-54-00-00-02-01.json", dir);
	unlink(path);
}

/*
 * With the writer thread the timer's writes leave the loop: a flush hands
 * a batch over, the next flush (or a wait) collects it; a write that must
 * be on disk at once waits for the batch in flight first, so the newer
 * state is what stays on disk.
 */
static void
test_flush_writer(void **state)
{
	struct nodes *ns = fleet(dir), *again;
	struct node *nd = nodes_find(ns, mac1);
	struct node_event e = ev("kubeadm", EVENT_RUNNING, "");
	char path[512], bad[MAC_STR_LEN];
	struct stat st;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/nodes/52-54-00-00-01-01.json", dir);
	assert_int_equal(nodes_writer_start(ns), 0);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(nodes_event(ns, nd, &e, 100 + i), 0);
		assert_int_equal(
			nodes_mark(ns, nodes_find(ns, mac2), "dhcp", 100 + i),
			0);
	}
	assert_int_equal(nodes_flush_some(ns, NODES_FLUSH_MAX), 0);
	assert_false(nd->dirty);
	assert_int_equal(nodes_writer_wait(ns), 0);
	assert_int_equal(ns->writes, 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Nothing dirty: nothing handed over. */
	assert_int_equal(nodes_flush_some(ns, NODES_FLUSH_MAX), 0);
	assert_int_equal(nodes_writer_wait(ns), 0);
	assert_int_equal(ns->writes, 2);
	/* A batch in flight with nd's older state, then the window. */
	assert_int_equal(nodes_event(ns, nd, &e, 2000), 0);
	assert_int_equal(nodes_flush_some(ns, NODES_FLUSH_MAX), 0);
	assert_int_equal(nodes_secret_served(ns, nd, 5000), 0);
	assert_int_equal(ns->writes, 4);
	again = fleet(dir);
	assert_int_equal(nodes_load(again, bad), 0);
	assert_int_equal(nodes_find(again, mac1)->secrets_since, 5000);
	nodes_free(again);
	/* Freed with a batch in flight: it is written, then the thread ends. */
	assert_int_equal(nodes_event(ns, nd, &e, 6000), 0);
	assert_int_equal(nodes_flush_some(ns, NODES_FLUSH_MAX), 0);
	nodes_free(ns);
	again = fleet(dir);
	assert_int_equal(nodes_load(again, bad), 0);
	assert_int_equal(nodes_find(again, mac1)->last_time, 6000);
	nodes_free(again);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nodes/52-54-00-00-02-01.json", dir);
	unlink(path);
}

/*
 * Secrets are served once: from the first fetch, for the window; never
 * after "done"; again after a re-arm. The window survives a restart.
 */
static void
test_secret_window(void **state)
{
	struct nodes *ns = fleet(dir), *again;
	struct node *nd = nodes_find(ns, mac1);
	struct node_event e = ev("done", EVENT_OK, "");
	char path[512], bad[MAC_STR_LEN];

	(void)state;
	nodes_set_secret_window(ns, 60000);
	assert_int_equal(nodes_secret_check(ns, nd, 1000), 0);
	assert_int_equal(nodes_secret_served(ns, nd, 1000), 0);
	assert_string_equal(nd->timeline[0].event, "secrets");
	assert_int_equal(nodes_secret_check(ns, nd, 60999), 0);
	assert_int_equal(nodes_secret_check(ns, nd, 61000), -ESTALE);
	again = fleet(dir);
	nodes_set_secret_window(again, 60000);
	assert_int_equal(nodes_load(again, bad), 0);
	assert_int_equal(
		nodes_secret_check(again, nodes_find(again, mac1), 61000),
		-ESTALE);
	assert_int_equal(
		nodes_secret_check(again, nodes_find(again, mac2), 61000), 0);
	nodes_free(again);
	assert_int_equal(nodes_rearm(ns, nd, 70000), 0);
	assert_int_equal(nd->secrets_since, 0);
	assert_int_equal(nodes_secret_check(ns, nd, 70000), 0);
	assert_int_equal(nodes_event(ns, nd, &e, 71000), 0);
	assert_int_equal(nodes_secret_check(ns, nd, 71000), -ESTALE);
	nodes_free(ns);
	snprintf(path, sizeof(path), "%s/nodes/52-54-00-00-01-01.json", dir);
	unlink(path);
}

static int
lease(void *ctx, const uint8_t mac[MAC_LEN], uint32_t *ret_ip)
{
	(void)ctx;
	if (memcmp(mac, mac2, MAC_LEN) != 0)
		return -ENOENT;
	*ret_ip = 0x0a000005;
	return 0;
}

static void
test_addresses(void **state)
{
	struct nodes *ns = fleet(NULL);
	struct node *n1 = nodes_find(ns, mac1), *n2 = nodes_find(ns, mac2);

	(void)state;
	assert_true(nodes_addr_allowed(ns, n1, 0x7f000001));
	assert_false(nodes_addr_allowed(ns, n1, 0x7f000002));
	assert_false(nodes_addr_allowed(ns, n2, 0x0a000005));
	assert_false(nodes_addr_allowed(ns, n1, 0));
	nodes_set_lookup(ns, lease, NULL);
	assert_true(nodes_addr_allowed(ns, n2, 0x0a000005));
	assert_true(nodes_addr_allowed(ns, n2, 0x7f000002));
	assert_false(nodes_addr_allowed(ns, n1, 0x0a000005));
	assert_ptr_equal(nodes_find_ip(ns, 0x0a000005), n2);
	assert_ptr_equal(nodes_find_ip(ns, 0x7f000001), n1);
	assert_null(nodes_find_ip(ns, 0x7f000003));
	nodes_free(ns);
}

/* A failed step's output: kept, rendered in /v1/nodes, persisted. */
static void
test_output(void **state)
{
	struct nodes *ns = fleet(dir), *again;
	struct node *nd = nodes_find(ns, mac1);
	struct node_event e = ev("kubeadm", EVENT_FAILED, "exit 1");
	char bad[MAC_STR_LEN];
	struct buf b;

	(void)state;
	snprintf(e.output, sizeof(e.output), "error: port 6443 in use\n");
	assert_int_equal(nodes_event(ns, nd, &e, 60), 0);
	buf_init(&b, 1 << 20);
	assert_int_equal(nodes_render_json(ns, &b), 0);
	assert_non_null(strstr(b.data, "\"output\""));
	assert_non_null(strstr(b.data, "error: port 6443 in use\\n"));
	buf_done(&b);
	assert_int_equal(nodes_flush(ns), 0);
	nodes_free(ns);
	again = fleet(dir);
	assert_int_equal(nodes_load(again, bad), 0);
	nd = nodes_find(again, mac1);
	assert_int_equal(nd->state, NODE_FAILED);
	assert_string_equal(nd->last_event.output, "error: port 6443 in use\n");
	/* The next event of the step replaces it. */
	e = ev("kubeadm", EVENT_RUNNING, "");
	assert_int_equal(nodes_event(again, nd, &e, 70), 0);
	assert_string_equal(nd->last_event.output, "");
	nodes_free(again);
}

static void
test_persist(void **state)
{
	struct nodes *ns = fleet(dir), *again;
	struct node *nd = nodes_find(ns, mac1);
	struct node_event e = ev("done", EVENT_OK, "fine \"quoted\"");
	char path[512], bad[MAC_STR_LEN];
	struct stat st;

	(void)state;
	assert_int_equal(nodes_mark(ns, nd, "boot-script", 50), 0);
	assert_int_equal(nodes_event(ns, nd, &e, 60), 0);
	snprintf(path, sizeof(path), "%s/nodes/52-54-00-00-01-01.json", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	nodes_free(ns);

	again = fleet(dir);
	assert_int_equal(nodes_load(again, bad), 0);
	nd = nodes_find(again, mac1);
	assert_int_equal(nd->state, NODE_DONE);
	assert_true(nd->locked);
	assert_true(nd->has_event);
	assert_string_equal(nd->last_event.step, "done");
	assert_string_equal(nd->last_event.message, "fine \"quoted\"");
	assert_int_equal(nd->last_time, 60);
	assert_int_equal(nd->ntimeline, 2);
	assert_string_equal(nd->timeline[1].event, "done:ok");
	assert_int_equal(nodes_find(again, mac2)->state, NODE_PENDING);
	nodes_free(again);

	/* A version 1 file kept seconds: read as milliseconds. */
	{
		static const char v1[] =
			"{\"version\":1,\"mac\":\"52:54:00:00:01:01\","
			"\"state\":\"booting\",\"locked\":false,"
			"\"last_event\":{\"step\":\"fetch\",\"status\":"
			"\"ok\",\"message\":\"\",\"time\":1763800060},"
			"\"timeline\":[{\"event\":\"dhcp\",\"time\":"
			"1763800000}]}";

		assert_int_equal(atomic_write(path, v1, sizeof(v1) - 1, 0600),
				 0);
		again = fleet(dir);
		assert_int_equal(nodes_load(again, bad), 0);
		nd = nodes_find(again, mac1);
		assert_int_equal(nd->last_time, 1763800060000);
		assert_int_equal(nd->timeline[0].time, 1763800000000);
		nodes_free(again);
	}

	/* A corrupt file is reported, naming the node. */
	assert_int_equal(atomic_write(path, "{\"version\":1,", 13, 0600), 0);
	again = fleet(dir);
	assert_int_equal(nodes_load(again, bad), -EBADMSG);
	assert_string_equal(bad, "52:54:00:00:01:01");
	nodes_free(again);
	assert_int_equal(atomic_write(path,
				      "{\"version\":1,\"mac\":\"x\",\"state\":"
				      "\"bogus\",\"locked\":false,"
				      "\"timeline\":[]}",
				      68, 0600),
			 0);
	again = fleet(dir);
	assert_int_equal(nodes_load(again, NULL), -EBADMSG);
	nodes_free(again);
	unlink(path);
}

static void
test_persist_failure(void **state)
{
	struct nodes *ns;
	struct node *nd;
	struct node_event e = ev("done", EVENT_OK, "");
	char file[300];

	(void)state;
	/* A state dir whose nodes/ cannot be made: a file is in the way. */
	snprintf(file, sizeof(file), "%s/blocked", dir);
	assert_int_equal(mkdir(file, 0700), 0);
	snprintf(file, sizeof(file), "%s/blocked/nodes", dir);
	assert_int_equal(atomic_write(file, "x", 1, 0600), 0);
	snprintf(file, sizeof(file), "%s/blocked", dir);
	ns = fleet(file);
	nd = nodes_find(ns, mac1);
	assert_true(nodes_event(ns, nd, &e, 1) < 0);
	/* Not acknowledged, not applied. */
	assert_int_equal(nd->state, NODE_PENDING);
	assert_false(nd->locked);
	assert_int_equal(nd->ntimeline, 0);
	/* A milestone is kept in memory; its write fails at the flush,
	 * and the node stays dirty for the next one. */
	assert_int_equal(nodes_mark(ns, nd, "dhcp", 1), 0);
	assert_int_equal(nd->state, NODE_BOOTING);
	assert_true(nodes_flush(ns) < 0);
	assert_true(nd->dirty);
	assert_int_equal(ns->writes, 0);
	/* Opening the secret window must be written before serving. */
	assert_true(nodes_secret_served(ns, nd, 2) < 0);
	assert_int_equal(nd->secrets_since, 0);
	nodes_free(ns);
}

static void
test_time_format(void **state)
{
	char b[NODES_TIME_STR_LEN];
	int64_t now = nodes_now_ms();

	(void)state;
	nodes_time_format(0, b);
	assert_string_equal(b, "1970-01-01T00:00:00.000Z");
	nodes_time_format(1763800060250, b);
	assert_string_equal(b, "2025-11-22T08:27:40.250Z");
	nodes_time_format(INT64_C(253402300799999), b);
	assert_string_equal(b, "9999-12-31T23:59:59.999Z");
	/* Out of RFC 3339's range: the epoch, never garbage. */
	nodes_time_format(INT64_C(253402300800000), b);
	assert_string_equal(b, "1970-01-01T00:00:00.000Z");
	nodes_time_format(-1, b);
	assert_string_equal(b, "1970-01-01T00:00:00.000Z");
	nodes_time_format(INT64_MIN, b);
	assert_string_equal(b, "1970-01-01T00:00:00.000Z");
	/* The clock is in milliseconds: after 2020, before 2100. */
	assert_true(now > INT64_C(1577836800000));
	assert_true(now < INT64_C(4102444800000));
}

static void
test_render(void **state)
{
	struct nodes *ns = fleet(NULL);
	struct node_event e = ev("fetch", EVENT_OK, "a\"b");
	size_t counts[NODE_STATE_COUNT];
	struct http_metrics m;
	struct metric_sample extra = { "tftp_requests_total", "TFTP RRQs.",
				       false, 7 };
	struct buf b;

	(void)state;
	assert_int_equal(
		nodes_mark(ns, nodes_find(ns, mac1), "dhcp", 1763800000007), 0);
	assert_int_equal(
		nodes_event(ns, nodes_find(ns, mac1), &e, 1763800060250), 0);
	buf_init(&b, NODES_JSON_MAX);
	assert_int_equal(nodes_render_json(ns, &b), 0);
	assert_string_equal(
		b.data,
		"{\"nodes\":[{\"name\":\"cp1\",\"mac\":\"52:54:00:00:01:01\","
		"\"ip\":\"127.0.0.1\",\"role\":\"control-plane\",\"state\":"
		"\"provisioning\",\"last_event\":{\"step\":\"fetch\","
		"\"status\":\"ok\",\"message\":\"a\\\"b\",\"time\":"
		"\"2025-11-22T08:27:40.250Z\"},\"timeline\":[{\"event\":"
		"\"dhcp\",\"time\":\"2025-11-22T08:26:40.007Z\"},{\"event\":"
		"\"fetch:ok\",\"time\":\"2025-11-22T08:27:40.250Z\"}]},"
		"{\"name\":\"w1\","
		"\"mac\":\"52:54:00:00:02:01\",\"ip\":\"127.0.0.2\",\"role\":"
		"\"worker\",\"state\":\"pending\",\"last_event\":null,"
		"\"timeline\":[]}]}\n");
	buf_done(&b);

	nodes_count_states(ns, counts);
	assert_int_equal(counts[NODE_PENDING], 1);
	assert_int_equal(counts[NODE_PROVISIONING], 1);
	memset(&m, 0, sizeof(m));
	metrics_count(&m, 200);
	metrics_count(&m, 200);
	metrics_count(&m, 416);
	metrics_count(&m, 418);
	m.body_bytes = 12345;
	buf_init(&b, METRICS_TEXT_MAX);
	assert_int_equal(metrics_render(&b, &m, counts, &extra, 1), 0);
	assert_non_null(strstr(b.data, "\nmetalboot_http_requests_total{code="
				       "\"200\"} 2\n"));
	assert_non_null(strstr(b.data, "\nmetalboot_http_requests_total{code="
				       "\"416\"} 1\n"));
	assert_non_null(strstr(b.data, "\nmetalboot_http_requests_total{code="
				       "\"other\"} 1\n"));
	assert_non_null(strstr(
		b.data, "\nmetalboot_http_response_body_bytes_total 12345\n"));
	assert_non_null(
		strstr(b.data, "\nmetalboot_nodes{state=\"pending\"} 1\n"));
	assert_non_null(strstr(b.data, "# TYPE metalboot_tftp_requests_total "
				       "counter\nmetalboot_tftp_requests_"
				       "total 7\n"));
	buf_done(&b);
	nodes_free(ns);
}

/*
 * The shared store's records: one server's record applied on another
 * (a node it does not list is added), the latest change wins, remote
 * changes are not marked for etcd again, and bad records change nothing.
 */
static void
test_records(void **state)
{
	static const uint8_t mac3[MAC_LEN] = { 0x52, 0x54, 0, 0, 3, 1 };
	struct nodes *a = fleet(NULL), *b = nodes_new(NULL);
	struct node_event e = ev("kubeadm", EVENT_RUNNING, "");
	struct node *nd;
	char *text = NULL, *old = NULL;

	(void)state;
	assert_non_null(b);
	a->remote = true;
	assert_int_equal(nodes_add(b, "w1", mac2, 0x7f000002, "worker"), 0);
	nd = nodes_find(a, mac1);
	assert_int_equal(nodes_mark(a, nd, "dhcp", 1000), 0);
	assert_true(nd->remote_dirty);
	assert_int_equal(nodes_latest(nd), 1000);
	assert_int_equal(nodes_record(nd, &old), 0);
	assert_int_equal(nodes_event(a, nd, &e, 2000), 0);
	assert_int_equal(nodes_latest(nd), 2000);
	assert_int_equal(nodes_record(nd, &text), 0);
	assert_non_null(strstr(text, "\"name\":\"cp1\""));
	assert_non_null(strstr(text, "\"ip\":\"127.0.0.1\""));
	/* b does not list cp1: added with the record's identity. */
	assert_int_equal(
		nodes_apply_record(b, mac1, text, strlen(text), true, &nd), 0);
	assert_int_equal(b->n, 2);
	assert_string_equal(nd->name, "cp1");
	assert_string_equal(nd->role, "control-plane");
	assert_int_equal(nd->state, NODE_PROVISIONING);
	assert_false(nd->remote_dirty);
	/* Not newer: -EALREADY, nothing changed. */
	assert_int_equal(
		nodes_apply_record(b, mac1, old, strlen(old), true, NULL),
		-EALREADY);
	assert_int_equal(nd->state, NODE_PROVISIONING);
	assert_int_equal(
		nodes_apply_record(b, mac1, old, strlen(old), false, NULL), 0);
	assert_int_equal(nd->state, NODE_BOOTING);
	/* Bad records: nothing added. */
	assert_int_equal(nodes_apply_record(b, mac3, "{", 1, false, NULL),
			 -EBADMSG);
	free(text);
	text = strdup(old);
	memcpy(strstr(text, "\"role\":\"control-plane\"") + 8, "X", 1);
	assert_int_equal(
		nodes_apply_record(b, mac3, text, strlen(text), false, NULL),
		-EBADMSG);
	/* Another MAC with cp1's name: refused. */
	assert_int_equal(
		nodes_apply_record(b, mac3, old, strlen(old), false, NULL),
		-EEXIST);
	assert_int_equal(b->n, 2);
	free(text);
	free(old);
	nodes_free(a);
	nodes_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_timeline_cap),
		cmocka_unit_test(test_mark_flood),
		cmocka_unit_test(test_flush_batched),
		cmocka_unit_test(test_flush_writer),
		cmocka_unit_test(test_secret_window),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_persist),
		cmocka_unit_test(test_persist_failure),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
