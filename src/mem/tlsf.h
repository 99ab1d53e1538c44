/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two-level segregated fit (TLSF) allocator over caller-supplied regions.
 *
 * Pure data structure: no locks, no syscalls, no globals, no allocation of
 * its own. All state is in struct dk__tlsf (the caller places it, e.g. in
 * memory shared between processes mapped at the same VA) and in block
 * headers inside the regions. Pointers are raw.
 *
 * Blocks: a header of at most 16 bytes before each block (size, flags, link to
 * the physically previous block); free blocks keep their free-list links in
 * their payload. Payloads are 16-byte aligned; the minimum payload is 16 bytes.
 * Coalescing with both physical neighbours on free; every region ends in a
 * used sentinel so coalescing never crosses regions.
 *
 * Complexity: alloc and free are O(1) (bitmap scans with ffs; no list walks).
 * Only when the good-fit search finds nothing (a full or fragmented heap)
 * does alloc walk one list, the one holding the largest free blocks, before
 * giving up; align > 16 or bound != 0 search one size class at most as well.
 *
 * Thread-safety: none; the caller serialises every call on one dk__tlsf.
 */
#ifndef DK_MEM_TLSF_H
#define DK_MEM_TLSF_H

#include <stddef.h>
#include <stdint.h>

#define DK__TLSF_SL_LOG2 5 /* 32 second-level lists per first level */
#define DK__TLSF_FL_COUNT 48
#define DK__TLSF_ALIGN 16u
#define DK__TLSF_MIN_REGION 256u /* smallest region add_region accepts */

struct dk__tlsf {
	uint64_t fl_bitmap;
	uint32_t sl_bitmap[DK__TLSF_FL_COUNT];
	void *free[DK__TLSF_FL_COUNT][1u << DK__TLSF_SL_LOG2];
	/* Statistics, kept exact by every call. */
	uint64_t region_bytes; /* sum of region lengths */
	uint64_t used_bytes;   /* live blocks, headers included */
	uint64_t used_count;   /* live blocks */
	uint64_t region_count;
	/* Singly linked list of region descriptors (one at the start of each region). */
	void *regions;
};

/* Empty allocator. */
void dk__tlsf_init(struct dk__tlsf *t);

/*
 * Add [mem, mem+len) as a region. mem must be 16-byte aligned, len a multiple
 * of 16 and >= DK__TLSF_MIN_REGION. 0 or -EINVAL.
 */
int dk__tlsf_add_region(struct dk__tlsf *t, void *mem, size_t len);

/*
 * Remove a region previously added with exactly (mem, len).
 * -EBUSY when any block in it is allocated; -EINVAL not a region start or
 * wrong len (checked from the region's own headers); 0 on success.
 */
int dk__tlsf_remove_region(struct dk__tlsf *t, void *mem, size_t len);

/*
 * Allocate size bytes (size > 0) aligned to align (0 or a power of two;
 * values below 16 mean 16), not crossing a multiple of bound (0, or a power
 * of two >= size). NULL when no free block fits (the caller grows the heap
 * and retries; errno ENOMEM) or the arguments are invalid (errno EINVAL).
 * With align > 16 or a bound, "fits" means: a block of at least size
 * (rounded up to 16) + max(align, bound) + 32 bytes, or a smaller one in the
 * list of the largest free blocks whose address happens to suit.
 */
void *dk__tlsf_alloc(struct dk__tlsf *t, size_t size, size_t align, size_t bound);
/*
 * dk__tlsf_alloc that also stores the block's address in *name (shared
 * memory: a repair's record) before the store that marks it used: a process
 * that dies in the call leaves either a free block or a used one that *name
 * names, never a used block nobody knows.
 */
void *dk__tlsf_alloc_named(struct dk__tlsf *t, size_t size, size_t align, size_t bound,
			   uint64_t *name);

/*
 * Free a block returned by dk__tlsf_alloc on this allocator. Returns 1 when,
 * after coalescing, the whole region containing the block is free (then
 * *region and *region_len, if non-NULL, give it, ready for remove_region),
 * else 0.
 */
int dk__tlsf_free(struct dk__tlsf *t, void *p, void **region, size_t *region_len);

/*
 * Grow or shrink a block in place (using a free physical successor when
 * growing). Returns p on success, NULL when it cannot be done in place (the
 * block is unchanged).
 */
void *dk__tlsf_resize_inplace(struct dk__tlsf *t, void *p, size_t size);

/* Bytes usable in a live block (>= the size asked for). */
size_t dk__tlsf_usable_size(const void *p);

/*
 * Block headers: 16 bytes before the payload, the second 8 bytes hold the
 * payload size (a multiple of 16) with flags in the low 4 bits. A layer
 * that carves blocks of its own inside a live block (src/mem/slab.c) writes
 * headers of the same shape with DK__TLSF_F_FOREIGN set, so that
 * dk__tlsf_usable_size works on them; dk__tlsf_free and
 * dk__tlsf_resize_inplace leave such blocks alone (free returns 0, resize
 * NULL). DK__TLSF_F_FREE marks a free block.
 */
#define DK__TLSF_HDR 16u
#define DK__TLSF_F_FREE ((uint64_t)1)
#define DK__TLSF_F_FOREIGN ((uint64_t)2)
/* A caller's mark on a live block (dk__tlsf_tag): kept until the block is
 * freed, so a repair can tell the caller's own blocks apart from the
 * header alone, without reading payloads other threads write. */
#define DK__TLSF_F_TAG ((uint64_t)4)

/* The header flags of block p (tells the foreign blocks apart). */
static inline uint64_t dk__tlsf_block_flags(const void *p)
{
	return ((const uint64_t *)p)[-1] & 15u;
}

/* Tag live block p with DK__TLSF_F_TAG (under the allocator's lock). */
static inline void dk__tlsf_tag(void *p)
{
	((uint64_t *)p)[-1] |= DK__TLSF_F_TAG;
}

/* The header word of block p: usable size | flags (a hot path reads it
 * once for both). */
static inline uint64_t dk__tlsf_block_word(const void *p)
{
	return ((const uint64_t *)p)[-1];
}

/* Size of the largest free block's payload (O(1) from the bitmaps, may round down a class). */
size_t dk__tlsf_largest_free(const struct dk__tlsf *t);
/* A lower bound of the largest free block from the bitmaps alone (the start
 * of the highest non-empty class): reads nothing inside the regions, so it
 * works on a copy of the struct whose regions are not mapped (dmakit heaps). */
size_t dk__tlsf_largest_free_class(const struct dk__tlsf *t);

/*
 * The regions (at most region_count of them, in list order): up to max into
 * mem[i], len[i]. Returns how many were visited (<= region_count).
 */
unsigned int dk__tlsf_regions(const struct dk__tlsf *t, void **mem, size_t *len,
			      unsigned int max);

/* Is p the payload of a live (allocated) block of t? Walks the blocks of
 * the region holding p: for repairs, not hot paths. */
int dk__tlsf_is_live(const struct dk__tlsf *t, const void *p);

/*
 * Rebuild the books from the block headers (a process died in the middle of
 * a call on a shared allocator): every region's blocks are walked by size,
 * their links fixed, free neighbours merged, the free lists, bitmaps and
 * statistics made again. Every call leaves the block sizes chained at every
 * store, so a call cut short loses at most the block it was handing out or
 * taking back. 0, or -EFAULT when a region's blocks do not chain (then the
 * allocator must not be used).
 */
int dk__tlsf_rebuild(struct dk__tlsf *t);

/*
 * Call fn(payload, usable bytes, arg) for every live block of t, in address
 * order within each region (fn must not change t; it may write inside the
 * block). Stops at fn's first non-zero answer and returns it; 0 after the
 * last block. For repairs (src/mem/slab.c finds its runs), not hot paths.
 */
int dk__tlsf_walk_live(const struct dk__tlsf *t, int (*fn)(void *p, size_t len, void *arg),
		       void *arg);
/*
 * Full consistency check (walks every region and free list): for tests and
 * fuzzing. 0, or -EFAULT naming nothing (tests print the state).
 */
int dk__tlsf_check(const struct dk__tlsf *t);

#endif
