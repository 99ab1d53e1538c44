/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/mdev.h - mediated device instances: create and remove them
 * through sysfs. A minimal start: the mdev bus (scanning parents and
 * types, drivers chosen by device_api) comes later. To use a vfio-pci mdev
 * as a PCI device, open it with dk_pci_mdev_open() (pci.h).
 *
 * Both functions work on sysfs directly (under dk_sysfs_root()); dk_init
 * is not needed. They need the right to write the sysfs files (root).
 * Thread-safety: reentrant (the kernel serializes the writes).
 */
#ifndef DMAKIT_MDEV_H
#define DMAKIT_MDEV_H

#include <dmakit/common.h>

DK_BEGIN_DECLS

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */
#define DK_MDEV_UUID_LEN 37

/*
 * Create an instance of mdev type type ("dk_sparse-1", "mtty-2") of parent
 * device parent (its name in <sysfs>/class/mdev_bus: "dk_sparse", a PCI
 * address ...): writes a new random UUID (version 4) to
 * <sysfs>/class/mdev_bus/<parent>/mdev_supported_types/<type>/create and
 * stores it, lower case, in uuid_out. The instance then appears as
 * <sysfs>/bus/mdev/devices/<uuid>. 0, or:
 *   -EINVAL  NULL or empty argument, a '/' or ".." in parent or type
 *   -ENOENT  no such parent (message: load its driver) or the parent has
 *            no such type (message lists the parent's types)
 *   -ENOSPC  the type's available_instances is 0
 *   -EACCES  not permitted (message: run as root)
 *   the errno of the write otherwise (the kernel's refusal; see dmesg)
 * On failure no instance was created and uuid_out holds "".
 */
DK_EXPORT int dk_mdev_create(const char *parent, const char *type,
			     char uuid_out[DK_MDEV_UUID_LEN]);

/*
 * Remove instance uuid: writes 1 to <sysfs>/bus/mdev/devices/<uuid>/remove.
 * 0, or:
 *   -EINVAL  NULL or malformed UUID
 *   -ENOENT  no such mdev
 *   -EBUSY   this process has it open (dk_pci_mdev_open): close it first
 *            (the kernel would wait for the release)
 *   -EACCES  not permitted (message: run as root)
 *   the errno of the write otherwise
 */
DK_EXPORT int dk_mdev_remove(const char *uuid);

/* 1 when s is a UUID in the 8-4-4-4-12 hex form (either case), else 0. */
DK_EXPORT int dk_mdev_uuid_valid(const char *s);

DK_END_DECLS

#endif
