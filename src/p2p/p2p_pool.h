/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The page pool of one P2P resource: pages [0, npages) of a BAR range,
 * allocated in runs of whole pages. All bookkeeping lives in host memory
 * (arrays indexed by page, about 13 bytes per page); the pool never touches
 * the memory it manages, so it serves BAR memory that must not hold
 * metadata.
 *
 * Free runs sit in segregated lists by size class (class c: 2^c .. 2^(c+1)-1
 * pages) with a bitmap of non-empty classes; a request of n pages takes the
 * head of the first non-empty class whose every run fits (at or above
 * ceil(log2 n)), after a short first-fit look in class floor(log2 n), and
 * splits off the rest; only when no larger class holds a run is class
 * floor(log2 n) searched whole, so a request fails only when no free run
 * of n pages exists. A free merges with free neighbours through boundary
 * tags (length at the first and last page of each free run). Alloc and free
 * are O(1) in the number of runs, apart from the bounded look (and the
 * whole-class search when the pool is nearly full).
 *
 * Every allocation is remembered by its first page and length, so a free of
 * a page that starts no allocation, with another length, or twice is
 * refused and changes nothing.
 *
 * Not thread-safe: the caller serialises (p2p_provider.c holds the
 * provider's lock).
 */
#ifndef DK_P2P_POOL_H
#define DK_P2P_POOL_H

#include <stdint.h>

#define DK__P2P_POOL_CLASSES 32

struct dk__p2p_pool {
	uint32_t npages;
	uint32_t free_pages;
	uint32_t nr_allocs;
	uint32_t *len;   /* first and last page of a free run, first page of a used run */
	uint32_t *next;  /* free-list links, at a free run's first page */
	uint32_t *prev;
	uint8_t *state;  /* DK__P2P_PG_* bits per page */
	uint32_t heads[DK__P2P_POOL_CLASSES];
	uint32_t nonempty; /* bit c: heads[c] holds a run */
};

/* Pool of npages (1 .. 2^31) pages, all free. 0 or -ENOMEM (-EINVAL for 0
 * pages or more than 2^31). */
int dk__p2p_pool_init(struct dk__p2p_pool *p, uint64_t npages);
void dk__p2p_pool_fini(struct dk__p2p_pool *p);

/* First page of a run of n free pages (now allocated), or -ENOMEM (no free
 * run of n pages exists), -EINVAL (n 0 or above npages). */
int64_t dk__p2p_pool_alloc(struct dk__p2p_pool *p, uint64_t n);

/* Free the allocation starting at page first of n pages. 0, or:
 *   -EINVAL  first beyond the pool, or no allocation starts at first
 *            (interior page, or a free page: double free)
 *   -ERANGE  an allocation starts there but of another length (*actual
 *            gets its length when actual is not NULL)
 * Nothing changes on error. */
int dk__p2p_pool_free(struct dk__p2p_pool *p, uint64_t first, uint64_t n, uint64_t *actual);

/* Largest free run, in pages (O(pages) walk, for messages and tests). */
uint64_t dk__p2p_pool_largest(const struct dk__p2p_pool *p);

#endif
