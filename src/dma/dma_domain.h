/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA domains: memory follows the containers. Every VFIO container with an
 * IOMMU has one domain, created when its first group joins (the VFIO hook
 * iommu_ready) and dropped when it loses its IOMMU (iommu_gone). The domain
 * maps all memory of the layout that has IOVAs (internal heap pages,
 * external heap chunks and registered external memory with IOVA tables) at
 * those IOVAs, and keeps doing so through memory events: ALLOC maps into
 * every domain, FREE unmaps while the IOVA still resolves. Memory an
 * application maps for one device only (dk_dev_dma_map, non-heap memory)
 * goes into the same domain, marked as the user's.
 *
 * A domain keeps its mappings {va, iova, len, user} as records and a
 * translation map (dmakit/dma.h, 4 KiB pages) from VA to the record that
 * covers it, fed by memory events: "is this VA mapped, by which mapping"
 * is one lookup. One event region becomes one mapping per IOVA-contiguous
 * run (4 KiB pages of one heap growth are one mapping, not one per page),
 * which keeps the kernel's mapping count (vfio_iommu_type1 dma_entry_limit)
 * low. Live mappings are never unmapped to merge them with a neighbour: a
 * DMA in flight would fault. The only re-map: a FREE that covers part of a
 * mapping made from a larger run (type1v2 cannot split a mapping): the
 * mapping is unmapped whole and its remaining parts mapped again.
 *
 * Locks: the translation maps' event lock (src/dma/tmap.c), then g_lock
 * here (every domain), then a container's lock (dk_vfio_dma_map). Events
 * fire under heap locks, so all of these come after heap locks and the
 * memory layout lock.
 */
#ifndef DK_DMA_DMA_DOMAIN_H
#define DK_DMA_DMA_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

struct dk_vfio_container;

/* Install / remove the VFIO hooks (dk_init / dk_cleanup). disable drops
 * every domain (the kernel drops the mappings with the container fd). */
void dk__dma_domains_enable(void);
void dk__dma_domains_disable(void);

/*
 * A user mapping of [va, va+len) at iova in container c: checked against
 * the domain (-ENXIO no domain: the container has no IOMMU yet; -EEXIST
 * overlapping a mapping of the domain, VA or IOVA side), then
 * dk_vfio_dma_map (its errors: -EINVAL alignment or zero length, -ERANGE
 * outside the IOVA ranges, -ENOSPC mapping limit, ...).
 */
int dk__dma_domain_user_map(struct dk_vfio_container *c, const void *va, uint64_t iova,
			    uint64_t len);
/* Remove a user mapping made with exactly (va, iova, len): -ENOENT none such. */
int dk__dma_domain_user_unmap(struct dk_vfio_container *c, const void *va, uint64_t iova,
			      uint64_t len);
/* The IOVA of va when one mapping of c's domain covers [va, va+len):
 * 0 and *iova, -ENXIO no domain, -ENOENT not covered by one mapping. */
int dk__dma_domain_lookup(struct dk_vfio_container *c, const void *va, uint64_t len,
			  uint64_t *iova);
/* Number of mappings in c's domain, 0 without one (tests, dmakit iommu). */
unsigned int dk__dma_domain_count(const struct dk_vfio_container *c);

#endif
