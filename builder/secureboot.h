/*
 * secureboot.h - the UEFI Secure Boot chain in OUT (docs/netboot.md,
 * "Secure Boot"): Microsoft-signed shim and Debian-signed GRUB, copied
 * from Debian's shim-signed and grub-efi-amd64-signed packages into
 * public/secureboot/, GRUB's common configuration in public/grub/, and
 * the check that the kernel offered to a Secure Boot machine is signed.
 * Only done when some node has secure_boot: true.
 */
#ifndef MB_BUILDER_SECUREBOOT_H
#define MB_BUILDER_SECUREBOOT_H

#include "diag.h"
#include "inventory.h"
#include "tree.h"

#include <stdbool.h>

#define SB_SHIM_DEFAULT "/usr/lib/shim/shimx64.efi.signed"
#define SB_GRUB_DEFAULT "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"
#define SB_FILE_MAX	(64u << 20) /* an EFI program or a kernel */
/* Where they go: shim loads grubx64.efi from its own directory. */
#define SB_OUT_SHIM	"public/secureboot/shimx64.efi"
#define SB_OUT_GRUB	"public/secureboot/grubx64.efi"
#define SB_OUT_GRUBCFG	"public/grub/grub.cfg"

/* Some node of inv has secure_boot. */
bool sb_wanted(const struct inventory *inv);

/*
 * Copy shim (NULL: SB_SHIM_DEFAULT) and GRUB (NULL: SB_GRUB_DEFAULT) into
 * t, each checked to be a signed x86-64 PE image, and write GRUB's
 * common configuration. Problems go to d naming the file; returns 0,
 * -EINVAL (reported) or another negative errno.
 */
int sb_install(const char *shim, const char *grub, struct tree *t,
	       struct diags *d);

/*
 * The kernel at path (named shown in messages), about to be offered to inv's
 * Secure Boot nodes: an error at the first such node's inventory line unless it
 * is an x86-64 PE image with an Authenticode signature. Returns 0 or -EINVAL.
 */
int sb_check_kernel(const struct inventory *inv, const char *path,
		    const char *shown, struct diags *d);

#endif
