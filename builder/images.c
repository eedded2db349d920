/* images.c - per-role node images (being written; see images.h). */
#include "images.h"

#include <errno.h>

int
images_build(const struct images_req *req, struct diags *d)
{
	diags_add(d, DIAG_ERROR, req->base, 0, 0,
		  "node images cannot be built by this version yet");
	return -ENOSYS;
}
