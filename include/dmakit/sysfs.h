/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/sysfs.h - the sysfs root every dmakit path is read under.
 *
 * The root comes from, in order: dk_init_params.sysfs_root (dmakit/init.h),
 * the DMAKIT_SYSFS_ROOT environment variable, and "/sys". Tests point it at a
 * generated tree.
 *
 * Thread-safety: dk_sysfs_root may be called from any thread; the root
 * changes only in dk_init.
 */
#ifndef DMAKIT_SYSFS_H
#define DMAKIT_SYSFS_H

#include <dmakit/common.h>

DK_BEGIN_DECLS

/* The sysfs root in force (after dk_init), or the one dk_init would use. */
DK_EXPORT const char *dk_sysfs_root(void);

DK_END_DECLS

#endif
