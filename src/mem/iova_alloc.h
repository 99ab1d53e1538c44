/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IOVA space allocator for IOVA mode "remap": when the IOMMU cannot take
 * user virtual addresses as IOVAs (a 39-bit IOMMU, reserved holes, narrow
 * device DMA masks), dmakit hands out IOVAs itself, inside the usable
 * ranges the IOMMU reports and below the DMA limit.
 *
 * Pure data structure: a sorted array of disjoint free intervals in a
 * fixed-size struct (no pointers), so that it can live in the shared
 * memory config of a multi-process instance. No locks, no syscalls: the
 * caller serialises calls on one allocator.
 *
 * Allocation is first fit from the lowest address with the requested
 * alignment; freeing merges with neighbours. Callers allocate a few large
 * pieces (one per memseg list), so a linear scan of at most
 * DK__IOVA_ALLOC_MAX intervals is fine.
 */
#ifndef DK_MEM_IOVA_ALLOC_H
#define DK_MEM_IOVA_ALLOC_H

#include <stdint.h>

#define DK__IOVA_ALLOC_MAX 64

struct dk__iova_span {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct dk__iova_alloc {
	uint32_t n;
	uint32_t pad;
	struct dk__iova_span free[DK__IOVA_ALLOC_MAX]; /* sorted, disjoint, not adjacent */
};

/*
 * Start with the usable ranges (any order; overlapping or adjacent ones are
 * joined), clipped to [lowest, limit]. lowest keeps IOVA 0 and the first
 * pages out (a device writing to IOVA 0 is usually a bug). 0, or -EINVAL
 * (NULL, a range with end < start, nothing usable left), -ENOSPC (more than
 * DK__IOVA_ALLOC_MAX disjoint ranges).
 */
int dk__iova_alloc_init(struct dk__iova_alloc *a, const struct dk__iova_span *ranges,
			unsigned int n, uint64_t lowest, uint64_t limit);

/*
 * len bytes (> 0) aligned to align (a power of two, >= 1): *out = IOVA.
 * 0, -EINVAL (len 0, align not a power of two), -ENOSPC (no free interval
 * holds it).
 */
int dk__iova_alloc_get(struct dk__iova_alloc *a, uint64_t len, uint64_t align, uint64_t *out);

/*
 * Take [iova, iova+len) out of the free space (memory that comes with its
 * own IOVAs). 0, -EINVAL (len 0, wrapping), -EEXIST (not entirely free),
 * -ENOSPC (the split needs one more interval than fits).
 */
int dk__iova_alloc_reserve(struct dk__iova_alloc *a, uint64_t iova, uint64_t len);

/*
 * Give [iova, iova+len) back. 0, -EINVAL (len 0, wrapping, or any part of
 * it is free already: a double free), -ENOSPC (no interval slot left: the
 * space stays allocated).
 */
int dk__iova_alloc_put(struct dk__iova_alloc *a, uint64_t iova, uint64_t len);

/* Free bytes in total (saturating at UINT64_MAX). */
uint64_t dk__iova_alloc_free_bytes(const struct dk__iova_alloc *a);

#endif
