/*
 * payload.h - firstboot.yaml (docs/formats.md) parsed into a struct.
 *
 * The payload comes from the provisioning server or a seed ISO, so it is
 * untrusted input: every string that later becomes a path, a program
 * argument or a file name is checked here, once, and the executor relies
 * on those checks. Unknown keys are errors; only version 1 is accepted.
 * The parser does not log; it returns the first problem with its line and
 * column.
 *
 * The payload holds secrets (private keys, the bootstrap token inside the
 * kubeadm configuration): fb_payload_free() wipes them.
 */
#ifndef MB_FB_PAYLOAD_H
#define MB_FB_PAYLOAD_H

#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FB_PAYLOAD_MAX	      (16u << 20) /* bytes of firstboot.yaml */
#define FB_MAX_LIST	      1024	  /* items in any list */
#define FB_MAX_MODULE_LEN     64
#define FB_MAX_SYSCTL_LEN     200
#define FB_MAX_FILE_PATH      1024
#define FB_MAX_URL_LEN	      2048
#define FB_MAX_IMAGE_LEN      512	      /* bytes of an image reference */
#define FB_MAX_TIMEOUT	      (7 * 24 * 3600) /* seconds */
#define FB_DEFAULT_WAIT	      1800
#define FB_VIP_WAIT	      120 /* seconds init waits for the VIP */
#define FB_DEFAULT_READY      600
#define FB_DEFAULT_LOG_FILES  5
/* kubelet's CRI endpoint when container_runtime.cri_socket is absent. */
#define FB_CRI_SOCKET_DEFAULT "unix:///var/run/containerd/containerd.sock"

enum fb_role {
	FB_ROLE_CONTROL_PLANE,
	FB_ROLE_WORKER,
	FB_ROLE_ETCD,
};

enum fb_action {
	FB_ACTION_INIT,
	FB_ACTION_JOIN,
	FB_ACTION_JOIN_CONTROL_PLANE,
	FB_ACTION_ETCD,
};

enum fb_selinux {
	FB_SELINUX_KEEP,
	FB_SELINUX_PERMISSIVE,
	FB_SELINUX_DISABLED,
};

enum fb_runtime {
	FB_RUNTIME_CONTAINERD,
	FB_RUNTIME_DOCKER,
};

struct fb_host {
	char *ip;
	char **names;
	size_t nnames;
};

struct fb_sysctl {
	char *key; /* dotted, e.g. net.ipv4.ip_forward */
	char *value;
};

struct fb_port {
	uint16_t first, last; /* inclusive; first == last for one port */
	bool udp;	      /* false: tcp */
};

struct fb_file {
	char *path; /* absolute, no "." or ".." components */
	mode_t mode;
	char *content; /* secret: wiped on free */
	size_t len;
};

struct fb_payload {
	struct {
		char *name;
		enum fb_role role;
		uint8_t mac[MAC_LEN];
		char mac_str[MAC_STR_LEN]; /* lowercase, colons */
		char *ip;
	} node;
	struct {
		char *name;
		char *kubernetes_version; /* may be NULL */
		char *endpoint;		  /* may be NULL */
		char *pod_subnet;	  /* may be NULL */
		char *service_subnet;	  /* may be NULL */
		/*
		 * The cluster has a CNI manifest (inventory cluster.cni.
		 * manifest); without one no node gets Ready until someone
		 * applies a network add-on. Absent (older payloads): true.
		 */
		bool cni_configured;
	} cluster;
	bool has_server;
	char *server_url; /* https://host:port, no trailing slash */
	char *server_ca;  /* PEM */

	struct fb_host *hosts;
	size_t nhosts;
	char **modules;
	size_t nmodules;
	struct fb_sysctl *sysctls;
	size_t nsysctls;
	bool swap_off;
	enum fb_selinux selinux;
	struct fb_port *ports;
	size_t nports;
	struct {
		enum fb_runtime kind;
		char *cgroup_driver; /* systemd | cgroupfs */
		char *log_max_size;  /* e.g. 100m */
		unsigned log_max_files;
		char *storage_driver; /* e.g. overlay2 */
		char **mirrors;
		size_t nmirrors;
		/* unix:///PATH: printable, no space, quote or backslash */
		char *cri_socket;
		/*
		 * The pod sandbox (pause) image, "REGISTRY/pause:TAG": an image
		 * reference ([A-Za-z0-9._/:@-], FB_MAX_IMAGE_LEN bytes at
		 * most); NULL when absent (containerd's default).
		 */
		char *sandbox_image;
	} runtime;
	struct fb_file *files;
	size_t nfiles;
	struct {
		enum fb_action action;
		char *config; /* secret: holds the token and certificate key */
		size_t config_len;
		bool has_wait;
		char *wait_url; /* https URL of the API server's /readyz */
		char *wait_ca;	/* PEM of the cluster CA */
		unsigned wait_timeout;
		/*
		 * From the ClusterConfiguration in config, for init with an
		 * external etcd: the endpoints to wait for and the files
		 * (absolute, installed by the pki step) to reach them with.
		 */
		char **etcd_endpoints;
		size_t netcd;
		char *etcd_ca, *etcd_cert, *etcd_key;
	} kubeadm;
	/*
	 * control_plane_vip (control planes of a cluster with a VIP): the
	 * vip step writes "interface NAME" to interface_file (absolute),
	 * starts haproxy and keepalived, and for init waits for address:port.
	 */
	bool has_vip;
	struct {
		char *address; /* dotted IPv4 */
		uint32_t ip;   /* host order */
		unsigned port;
		char *interface_file;
	} vip;
	bool has_cni;
	struct {
		char *name;
		char *manifest; /* http(s) URL, or NULL */
		char *sha256;	/* 64 lowercase hex when manifest is set */
	} cni;
	unsigned ready_timeout;
};

/* Where a payload was refused; line 0 when there is no position. */
struct fb_perror {
	unsigned line, col;
	char msg[256];
};

/*
 * Parse len bytes of firstboot.yaml (file names it in messages). Returns 0
 * with *ret (owned; fb_payload_free), -EINVAL with *err filled, or
 * -ENOMEM.
 */
int fb_payload_parse(const char *file, const void *data, size_t len,
		     struct fb_payload **ret, struct fb_perror *err);

/* Wipe the secrets and free; NULL is a no-op. Returns NULL. */
struct fb_payload *fb_payload_free(struct fb_payload *p);

/* "control-plane", "worker", "etcd". */
const char *fb_role_name(enum fb_role role);

/* "init", "join", "join-control-plane", "etcd". */
const char *fb_action_name(enum fb_action action);

#endif
