/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA memory follows the containers: every container with an IOMMU maps all
 * memory of the layout that has IOVAs (internal heap pages, external heap
 * chunks and registered external memory with IOVA tables) at those IOVAs,
 * and keeps doing so through memory events (ALLOC maps into every
 * container, FREE unmaps while the IOVA still resolves). Memory an
 * application maps for one device only (dk_dev_dma_map, non-heap memory)
 * goes through the same per-container table, marked as the user's.
 *
 * Per container a table of mappings {va, iova, len} sorted by IOVA. One
 * event region becomes one mapping per IOVA-contiguous run (4 KiB pages of
 * one heap growth are one mapping, not one per page), which keeps the
 * kernel's mapping count (vfio_iommu_type1 dma_entry_limit) low. Live
 * mappings are never unmapped to merge them with a neighbour: a DMA in
 * flight would fault. The only re-map: a FREE that covers part of a mapping
 * made by the initial walk (type1v2 cannot split a mapping): the mapping is
 * unmapped whole and its remaining parts mapped again.
 *
 * Locks: g_lock here (tables) is taken after heap locks and the layout lock
 * (events fire under a heap lock; the initial walk runs under the layout
 * read lock) and before a container's lock (dk_vfio_dma_map).
 */
#ifndef DK_VFIO_VFIO_MEM_H
#define DK_VFIO_VFIO_MEM_H

#include <stddef.h>
#include <stdint.h>

struct dk_vfio_container;

/*
 * The container's IOMMU is set (first group joined): map all memory with
 * IOVAs into it and follow memory events from now on. Call without VFIO
 * locks held. 0, or the first mapping error (what was mapped stays mapped
 * and is tracked; the error is logged).
 */
int dk__vfio_mem_container_ready(struct dk_vfio_container *c);
/* The container goes away: forget its table (the kernel drops the
 * mappings with the container fd). */
void dk__vfio_mem_container_gone(struct dk_vfio_container *c);
/* dk_cleanup: unregister the event callback, drop every table. */
void dk__vfio_mem_cleanup(void);

/*
 * A user mapping of [va, va+len) at iova in container c: checked against
 * the table (-EEXIST overlapping a mapping of the container, VA or IOVA
 * side), then dk_vfio_dma_map (its errors: -EINVAL alignment or zero
 * length, -ERANGE outside the IOVA ranges, -ENOSPC mapping limit, ...).
 */
int dk__vfio_mem_user_map(struct dk_vfio_container *c, const void *va, uint64_t iova,
			  uint64_t len);
/* Remove a user mapping made with exactly (va, iova, len): -ENOENT none such. */
int dk__vfio_mem_user_unmap(struct dk_vfio_container *c, const void *va, uint64_t iova,
			    uint64_t len);
/* Number of mappings in c's table (tests, dmakit iommu). */
unsigned int dk__vfio_mem_count(const struct dk_vfio_container *c);

#endif
