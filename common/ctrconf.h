/*
 * ctrconf.h - what the node's container runtime and host read, rendered
 * as text: pure, no I/O. The agent (firstboot/steps_runtime.c,
 * steps_host.c) and the builder's cloud-init user-data (builder/render.c)
 * both write exactly these bytes, so the two paths cannot drift.
 */
#ifndef MB_CTRCONF_H
#define MB_CTRCONF_H
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Where hosts.toml files live; config_path in both config versions. */
#define CTRCONF_CERTS_D	   "/etc/containerd/certs.d"
/* The one hosts.toml written: docker.io's mirrors. */
#define CTRCONF_HOSTS_TOML CTRCONF_CERTS_D "/docker.io/hosts.toml"
/*
 * The first line of every file rendered here starts with this, so that
 * the agent can tell its own hosts.toml (removed when the mirrors go) from
 * one an administrator wrote (left alone).
 */
#define CTRCONF_MARK	   "# Written by metalboot"

struct ctrconf {
	bool systemd_cgroup;	   /* runc's SystemdCgroup */
	const char *sandbox_image; /* "REPO/pause:TAG"; NULL: containerd's */
};

/*
 * containerd's config.toml: "version = 2" for containerd 1.6 and 1.7,
 * "version = 3" for 2.x (version is 2 or 3; anything else -EINVAL). Both
 * set runc's SystemdCgroup, the sandbox (pause) image (its key left out
 * when sandbox_image is NULL), and config_path = CTRCONF_CERTS_D (registry
 * mirrors as hosts.toml, the one form both versions read). Strings are
 * TOML basic strings, escaped. Appended to out; returns 0, -EINVAL,
 * -ENOMEM or -E2BIG, and on failure out is as it was.
 */
int ctrconf_render(unsigned version, const struct ctrconf *c, struct buf *out);

/*
 * CTRCONF_HOSTS_TOML: docker.io pulls tried through each mirror in order
 * (capabilities pull and resolve, as the deprecated registry.mirrors
 * endpoints had), then docker.io itself (server registry-1.docker.io).
 * mirrors are http(s) URLs checked by the inventory; a '"' or '\\' in one
 * is escaped. Appended to out; 0, -EINVAL (a NULL mirror), -ENOMEM or
 * -E2BIG, and on failure out is as it was.
 */
int ctrconf_hosts_toml(const char *const *mirrors, size_t n, struct buf *out);

/*
 * The config version containerd reads, from what "containerd --version"
 * printed (len bytes of text, not NUL-terminated; untrusted): the first
 * line whose first word is "containerd", and in it the first word that
 * is an optional 'v' then MAJOR.MINOR ("containerd github.com/containerd/
 * containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u1", "containerd containerd.io
 * 1.7.27 05044ec...", "containerd github.com/containerd/containerd/v2
 * v2.0.0 207ad71..."). Other lines (warnings) are skipped. Returns 0 with
 * *version 3 for major 2 and later, 2 for 1.x; -EINVAL (*version
 * untouched) when no such line is found or the major is 0.
 */
int ctrconf_version_for(const char *text, size_t len, unsigned *version);

#endif
