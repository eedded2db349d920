/*
 * plan.h - the pure planner: a payload becomes the ordered list of steps
 * the agent runs, each with a human-readable account of its inputs.
 *
 * Nothing here touches files or runs programs; the executor (exec.h) acts
 * on each step and --dry-run prints the plan instead. Step names are the
 * event names of docs/formats.md.
 */
#ifndef MB_FB_PLAN_H
#define MB_FB_PLAN_H

#include "payload.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum fb_step_kind {
	FB_STEP_FETCH,
	FB_STEP_HOSTNAME,
	FB_STEP_HOSTS,
	FB_STEP_MODULES,
	FB_STEP_SYSCTLS,
	FB_STEP_SWAP,
	FB_STEP_SELINUX,
	FB_STEP_FIREWALL,
	FB_STEP_RUNTIME,
	FB_STEP_PKI,
	FB_STEP_VIP,
	FB_STEP_KUBELET,
	FB_STEP_WAIT_API,
	FB_STEP_KUBEADM,
	FB_STEP_KUBECONFIG,
	FB_STEP_CNI,
	FB_STEP_READY,
	FB_STEP_DONE,
	FB_STEP_COUNT,
};

struct fb_step {
	enum fb_step_kind kind;
	const char *name; /* static: "hostname", "wait-api", ... */
	char **details;	  /* what the step will do, one line each; owned */
	size_t ndetails;
};

struct fb_plan {
	struct fb_step *steps;
	size_t n;
};

/* Where the agent keeps its state, relative to --root. */
#define FB_STATE_DIR	 "/var/lib/metalboot"
#define FB_JOURNAL_FILE	 FB_STATE_DIR "/state.json"
#define FB_PAYLOAD_CACHE FB_STATE_DIR "/firstboot.yaml"
#define FB_KUBEADM_FILE	 FB_STATE_DIR "/kubeadm.yaml"
#define FB_CNI_FILE	 FB_STATE_DIR "/cni.yaml"
#define FB_DONE_FILE	 FB_STATE_DIR "/done"

/* Files the agent writes, relative to --root. */
#define FB_MODULES_CONF	   "/etc/modules-load.d/metalboot.conf"
#define FB_SYSCTL_CONF	   "/etc/sysctl.d/99-metalboot.conf"
#define FB_CONTAINERD_CONF "/etc/containerd/config.toml"
#define FB_DOCKER_CONF	   "/etc/docker/daemon.json"
#define FB_ADMIN_CONF	   "/etc/kubernetes/admin.conf"
#define FB_KUBELET_CONF	   "/etc/kubernetes/kubelet.conf"
#define FB_ETCD_MANIFEST   "/etc/kubernetes/manifests/etcd.yaml"
#define FB_ROOT_KUBECONFIG "/root/.kube/config"
#define FB_KUBELET_DROPIN  "/etc/systemd/system/kubelet.service.d"
#define FB_ETCD_KUBELET	   FB_KUBELET_DROPIN "/kubelet.conf"
#define FB_ETCD_DROPIN	   FB_KUBELET_DROPIN "/20-etcd-service-manager.conf"

/* The event name of a step kind. */
const char *fb_step_name(enum fb_step_kind kind);

/*
 * Build the plan for payload p (borrowed). root is the --root directory as
 * given ("/" or a path) and only shapes the printed commands; fetched says
 * the payload came from the server (a "fetch" step leads the plan).
 * Returns 0 with *ret (owned; fb_plan_free) or -ENOMEM.
 */
int fb_plan_build(const struct fb_payload *p, const char *root, bool fetched,
		  struct fb_plan **ret);

/* Find a step by kind; NULL when the plan does not hold it. */
const struct fb_step *fb_plan_find(const struct fb_plan *plan,
				   enum fb_step_kind kind);

/* Print the plan, one step per paragraph (no secrets are printed). */
void fb_plan_print(const struct fb_plan *plan, FILE *f);

/* Free; NULL is a no-op. Returns NULL. */
struct fb_plan *fb_plan_free(struct fb_plan *plan);

#endif
