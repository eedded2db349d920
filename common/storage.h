/*
 * storage.h - the rules for a node's state disk and root tmpfs, shared by
 * the inventory (which checks them at load) and metalboot-init (which acts
 * on them at boot). Pure.
 */
#ifndef MB_STORAGE_H
#define MB_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A state device as the first stage can open it before udev runs:
 * /dev/NAME, NAME of letters, digits, '_', '.', '-' (vda, sdb, nvme0n1),
 * no "..". udev's /dev/disk/by-* links do not exist yet.
 */
bool storage_device_valid(const char *dev);

/* A tmpfs size: N% of RAM (1-100) or a size num_parse_size reads; "" is
 * the default. 0 or -EINVAL. */
int storage_tmpfs_check(const char *spec);

/* The size in bytes spec names alone (0 for "" and N%). */
uint64_t storage_tmpfs_absolute(const char *spec);

/*
 * The root tmpfs size in bytes for spec (checked) on a machine with
 * mem_bytes of RAM: N% of RAM, an absolute size, or by default half of
 * RAM, the kernel's own tmpfs default. Never less than min_bytes (what the
 * root holds), so that the copy fits.
 */
uint64_t storage_tmpfs_bytes(const char *spec, uint64_t mem_bytes,
			     uint64_t min_bytes);

#endif
