/*
 * images.h - per-role node images: kernel + layered initramfs.
 *
 * Called by "metalboot-build build" when a base root filesystem is given.
 */
#ifndef MB_IMAGES_H
#define MB_IMAGES_H

#include "diag.h"
#include "inventory.h"

struct images_req {
	const struct inventory *inv;
	const char *base;	/* rootfs directory or tarball */
	const char *kernel;	/* NULL: the newest boot/vmlinuz-* in base */
	const char *out_public; /* writes images/ROLE/{vmlinuz,initrd.img} */
	const char *ca_pem;	/* provisioning CA file baked into images */
	const char *agent;	/* metalboot-firstboot binary to include */
	const char *init; /* metalboot-init (absolute), for systemd bases */
	int jobs;
};

/*
 * Build images/ROLE/{vmlinuz,initrd.img} under req->out_public for every
 * role present in the inventory. Problems go to d (naming the file).
 * Returns 0, -EINVAL (d holds the reason), or a negative errno.
 */
int images_build(const struct images_req *req, struct diags *d);

#endif
