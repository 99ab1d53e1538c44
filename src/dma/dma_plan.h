/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IOVA plan (dk_init, after the bus scan and before the memory layer
 * sets up its pages; primaries only: a secondary uses its primary's).
 *
 * auto:  va when no scanned device is bound to vfio-pci (nothing to ask),
 *        or when the IOMMU's usable IOVA ranges cover every user address
 *        from 4 GiB up to the top of the user address space (47 bits) and
 *        the DMA limit reaches it: gaps below 4 GiB (the x86 MSI window)
 *        are tolerated because the kernel never places mappings there for a
 *        64-bit process unless asked (memory that does land there fails to
 *        map with -ERANGE). Otherwise remap, with the ranges and the limit.
 * remap: the same ranges; -ENODEV when no device is bound to vfio-pci (the
 *        ranges are unknown).
 * va, pa: kept; nothing is asked.
 *
 * The IOMMU is asked by opening the IOMMU group of the first device bound
 * to vfio-pci in the default container and reading VFIO_IOMMU_GET_INFO.
 * The group stays open until dk__dma_plan_done (dk_init calls it once
 * drivers probed, and on its error paths), so the container keeps its IOMMU
 * and drivers opening devices of the group do not set it up a second time.
 * With the iommufd backend (dk_vfio_backend_select for that device), the
 * device itself is opened in the default IOAS instead and held the same way
 * (the probe's open of it takes another reference: a device is bound once),
 * and the ranges are the IOAS's.
 * A group (device) that cannot be opened (not viable, no permission) makes
 * auto fall back to va with a warning, and remap fail.
 */
#ifndef DK_DMA_DMA_PLAN_H
#define DK_DMA_DMA_PLAN_H

#include <stdint.h>

#include <dmakit/memory.h>

#include "mem/mem_init.h"

/* Highest user virtual address on x86-64 with 4-level paging (also what a
 * 5-level kernel gives a process that does not ask for more). */
#define DK__USER_VA_TOP (((uint64_t)1 << 47) - 1)

/* Turn the requested mode into a plan; dma_limit: the highest IOVA the
 * drivers' DMA masks reach (0 or UINT64_MAX: none). 0, or -ENODEV /
 * -errno (logged). */
int dk__dma_plan(enum dk_iova_mode requested, uint64_t dma_limit, struct dk__mem_iova_plan *out);

/* Close the group or device the plan opened (nothing when none). */
void dk__dma_plan_done(void);

/* Pure: do ranges (any order) and limit allow IOVA = VA for [4 GiB, top]? */
int dk__dma_plan_va_fits(const struct dk__iova_span *ranges, unsigned int n, uint64_t limit,
			 uint64_t top);

#endif
