/*
 * build.h - "metalboot-build build" and "metalboot-build iso": the whole
 * OUT tree (../shared/DESIGN.md, docs/formats.md) from an inventory.
 *
 * The tree is built in a temporary directory beside OUT (.BASE.tmpXXXXXX)
 * and swapped in at the end, so that a failed build leaves the previous
 * OUT as it was. The previous OUT's pki/ and secrets/ are reused (unless
 * rotate), its unchanged files are hard-linked rather than rewritten, and
 * its state/ (metalboot-netboot's leases and node states) is carried
 * over. The replaced tree becomes .BASE.old-XXXXXX and is removed by a
 * detached process, so that its removal does not hold the build up.
 */
#ifndef MB_BUILD_H
#define MB_BUILD_H

#include "diag.h"

#include <stdbool.h>
#include <time.h>

#define BUILD_MAX_JOBS	 64
#define BUILD_IPXE_DIR	 "/usr/lib/ipxe" /* Debian's ipxe package */
#define BUILD_AGENT_NAME "metalboot-firstboot"
#define BUILD_INIT_NAME	 "metalboot-init"

struct build_opts {
	const char *inventory;
	const char *profiles; /* NULL: inventory_profiles_dir() */
	const char *out;
	const char *base;     /* NULL: boot.base, else no images */
	const char *kernel;   /* NULL: from the inventory or the base */
	const char *ipxe_dir; /* NULL: BUILD_IPXE_DIR */
	const char *agent;    /* NULL: build_find_agent() */
	const char *apt_repo; /* NULL: pkgs.k8s.io (render.h) */
	const char *rpm_repo; /* NULL: pkgs.k8s.io (render.h) */
	const char *shim;     /* NULL: SB_SHIM_DEFAULT (secureboot.h) */
	const char *grub;     /* NULL: SB_GRUB_DEFAULT */
	int jobs;	      /* 0: one per CPU */
	bool rotate;
	bool new_token; /* a new bootstrap token (secrets/bootstrap-token) */
	time_t epoch;	/* recorded in ISOs: SOURCE_DATE_EPOCH */
	bool epoch_set; /* false: the cluster CA's creation time */
};

/*
 * Build OUT. Problems in the user's input go to d and return -EINVAL;
 * any other negative errno is an internal or I/O failure (d names it).
 */
int build_run(const struct build_opts *o, struct diags *d);

/*
 * Write the NoCloud seed ISO of one node to iso_path. The PKI and secrets
 * come from from_dir (a previous build's OUT) when given, else they are
 * generated for this ISO alone (*ret_fresh is set). Same returns as
 * build_run.
 */
int build_iso(const char *inventory, const char *profiles, const char *node,
	      const char *from_dir, const char *iso_path, const time_t *epoch,
	      const char *apt_repo, const char *rpm_repo, bool *ret_fresh,
	      struct diags *d);

/*
 * The metalboot-firstboot binary to bake into images: $METALBOOT_AGENT,
 * else EXEDIR/../firstboot/metalboot-firstboot (the build tree), else
 * EXEDIR/metalboot-firstboot (installed side by side), where EXEDIR is the
 * directory of /proc/self/exe. Writes the path into buf (sz bytes).
 * Returns 0 or -ENOENT.
 */
int build_find_agent(char *buf, size_t sz);

/*
 * The first stage baked into images of systemd bases: $METALBOOT_INIT,
 * else EXEDIR/../stage1/metalboot-init (the build tree), else
 * EXEDIR/../lib/metalboot/metalboot-init (installed). Same returns.
 */
int build_find_init(char *buf, size_t sz);

/*
 * SOURCE_DATE_EPOCH from the environment: 1 and *ret when set, 0 when not
 * (callers then use a time fixed by the PKI, so that rebuilds stay
 * identical), -EINVAL when malformed.
 */
int build_epoch(time_t *ret);

#endif
