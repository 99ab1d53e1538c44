/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VFIO layer's interface for the layer above it (src/dma): what happens
 * to a container's IOMMU. VFIO knows nothing about memory; the
 * device-memory layer installs these hooks at dk_init and removes them at
 * dk_cleanup.
 *
 *   iommu_ready(c)  the first group joined c, which has an IOMMU now.
 *                   Called without VFIO locks held, before the group open
 *                   returns; a negative return is logged by the caller
 *                   (the group stays open).
 *   iommu_gone(c)   c lost its IOMMU (its last group left: the kernel
 *                   dropped every mapping) or is being freed. Called with
 *                   the global VFIO lock held (or none, for a container the
 *                   application destroys): must not call into VFIO
 *                   functions that take it.
 */
#ifndef DK_VFIO_VFIO_HOOKS_H
#define DK_VFIO_VFIO_HOOKS_H

struct dk_vfio_container;

struct dk__vfio_hooks {
	int (*iommu_ready)(struct dk_vfio_container *c);
	void (*iommu_gone)(struct dk_vfio_container *c);
};

/* Install h (NULL: none). Not concurrent with group opens or closes. */
void dk__vfio_set_hooks(const struct dk__vfio_hooks *h);

#endif
