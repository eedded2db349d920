/*
 * secureboot.c - shim, GRUB and the kernel check (secureboot.h).
 */
#include "secureboot.h"

#include "buf.h"
#include "fsutil.h"
#include "pe.h"
#include "render.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool
sb_wanted(const struct inventory *inv)
{
	size_t i;

	for (i = 0; i < inv->nnodes; i++)
		if (inv->nodes[i].secure_boot)
			return true;
	return false;
}

/*
 * Read path and judge it: a signed x86-64 PE image. On success *ret and
 * *ret_len hold the file (free()). Else a message for "PATH: ...".
 */
static int
read_signed(const char *path, char **ret, size_t *ret_len, char *msg,
	    size_t msgsz)
{
	struct pe_info pe;
	const char *why;
	int r;

	r = read_file(path, SB_FILE_MAX, ret, ret_len);
	if (r < 0) {
		snprintf(msg, msgsz, "cannot read: %s", strerror(-r));
		return r;
	}
	if (pe_parse((const uint8_t *)*ret, *ret_len, &pe, &why) < 0)
		snprintf(msg, msgsz, "not a PE/EFI image: %s", why);
	else if (pe.machine != PE_MACHINE_X64)
		snprintf(msg, msgsz,
			 "a PE image for machine 0x%04x, not "
			 "x86-64 (0x8664)",
			 pe.machine);
	else if (pe.ncerts == 0)
		snprintf(msg, msgsz,
			 "carries no Authenticode signature (its "
			 "PE certificate table is empty)");
	else
		return 0;
	free(*ret);
	*ret = NULL;
	return -EINVAL;
}

static int
install_one(const char *src, const char *rel, const char *package,
	    struct tree *t, struct diags *d)
{
	char msg[160], *data = NULL;
	size_t len = 0;
	int r;

	r = read_signed(src, &data, &len, msg, sizeof(msg));
	if (r < 0) {
		diags_add(d, DIAG_ERROR, src, 0, 0,
			  "%s (Secure Boot needs Debian's %s package, or "
			  "name the file with --%s)",
			  msg, package, strstr(rel, "shim") ? "shim" : "grub");
		return r == -ENOMEM ? r : -EINVAL;
	}
	r = tree_write(t, rel, data, len, 0644, true);
	free(data);
	if (r < 0)
		diags_add(d, DIAG_ERROR, rel, 0, 0, "cannot write: %s",
			  strerror(-r));
	return r;
}

int
sb_install(const char *shim, const char *grub, struct tree *t, struct diags *d)
{
	struct buf b;
	int r;

	r = install_one(shim ? shim : SB_SHIM_DEFAULT, SB_OUT_SHIM,
			"shim-signed", t, d);
	if (r == 0)
		r = install_one(grub ? grub : SB_GRUB_DEFAULT, SB_OUT_GRUB,
				"grub-efi-amd64-signed", t, d);
	if (r < 0)
		return r;
	buf_init(&b, RENDER_MAX_PAYLOAD);
	r = render_grub_main(&b);
	if (r == 0)
		r = tree_write(t, SB_OUT_GRUBCFG, b.data, b.len, 0644, true);
	buf_done(&b);
	if (r < 0)
		diags_add(d, DIAG_ERROR, SB_OUT_GRUBCFG, 0, 0,
			  "cannot write: %s", strerror(-r));
	return r;
}

int
sb_check_kernel(const struct inventory *inv, const char *path,
		const char *shown, struct diags *d)
{
	const struct inv_node *first = NULL;
	char msg[160], *data = NULL;
	size_t i, len;
	int r;

	for (i = 0; i < inv->nnodes && first == NULL; i++)
		if (inv->nodes[i].secure_boot)
			first = &inv->nodes[i];
	if (first == NULL)
		return 0;
	r = read_signed(path, &data, &len, msg, sizeof(msg));
	free(data);
	if (r == 0)
		return 0;
	diags_add(d, DIAG_ERROR, inv->file, first->line, first->col,
		  "node %s has secure_boot: true, but the kernel %s %s: the "
		  "firmware's shim would refuse it (use a signed kernel, "
		  "such as Debian's linux-image-amd64)",
		  first->name, shown, msg);
	return r == -ENOMEM ? r : -EINVAL;
}
