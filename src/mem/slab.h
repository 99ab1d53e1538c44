/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs of equal-size blocks for the small classes of the thread caches
 * (malloc.c), carved out of a heap's TLSF allocator.
 *
 * A run is one live TLSF block of a few pages, tagged DK__TLSF_F_TAG in its
 * TLSF header so that a repair finds it, holding blocks of one payload size:
 * for the small classes (below DK__SLAB_SMALL_CLASSES, payloads up to 4 KiB)
 * 16 KiB, or 32 blocks when that is more; for the medium classes (payloads
 * above 4 KiB, up to 64 KiB) 8 blocks (64 KiB: a run of 528 KiB). Every
 * carved block has a 16-byte header of the TLSF shape: the run's address,
 * then payload size | DK__TLSF_F_FOREIGN (| DK__TLSF_F_FREE while free), so
 * dk__tlsf_usable_size works on it, dk__tlsf_free refuses it, and the
 * metadata per live block stays 16 bytes. Blocks are carved lazily (a bump
 * pointer: a new run touches only its first page) and come back to the
 * run's free list; runs with room sit on their class's partial list; a run
 * whose last block comes back is freed to the TLSF allocator at once, so
 * the heap's give-back of whole free regions works as for plain blocks.
 *
 * Why: a batch of 1000 small blocks freed at random costs one TLSF split
 * and one coalescing free per block without it; with it, a pointer pop and
 * push per block and a TLSF call per run (for 64 KiB blocks, a TLSF call per
 * 8 blocks).
 *
 * State: struct dk__slab (inside struct dk__heap: shared between processes
 * like the TLSF state) and the run descriptors (inside the runs, in heap
 * memory). Raw pointers: every process maps heap memory at the same VA.
 *
 * Thread-safety: none; the heap lock serialises every call on one heap.
 */
#ifndef DK_MEM_SLAB_H
#define DK_MEM_SLAB_H

#include <stddef.h>
#include <stdint.h>

#include "mem/tlsf.h"

#define DK__SLAB_SMALL_CLASSES 76 /* classes 0..75: payloads 16 B .. 4 KiB, 32+ per run */
#define DK__SLAB_SMALL_MAX 4096u
#define DK__SLAB_CLASSES 92 /* classes 76..91: payloads above 4 KiB .. 64 KiB, 8 per run */
#define DK__SLAB_MAX_PAYLOAD (64u << 10)
#define DK__SLAB_RUN_MAX (1u << 20) /* no run is larger: grow a heap by this to make room */

struct dk__slab {
	void *partial[DK__SLAB_CLASSES]; /* runs with free or uncarved blocks */
	uint64_t runs;       /* runs (each one live TLSF block) */
	uint64_t live;       /* blocks handed out */
	uint64_t free_bytes; /* bytes of runs not handed out: counted live by the TLSF books */
	void *pending;       /* a run being made or given back (a live TLSF block without
				a valid descriptor until that is done): for dk__slab_rebuild */
};

/* Empty state. */
void dk__slab_init(struct dk__slab *s);

/*
 * Hand out up to n blocks of payload size psize (a multiple of 16: 16 ..
 * DK__SLAB_SMALL_MAX for a small class, above it up to DK__SLAB_MAX_PAYLOAD
 * for the others) for class cls (< DK__SLAB_CLASSES; one payload size per
 * class) into out[]. Returns how many; fewer than n only when
 * t has no room for another run (the caller grows the heap and asks again).
 * 0 with out untouched for invalid arguments.
 */
unsigned int dk__slab_alloc(struct dk__slab *s, struct dk__tlsf *t, unsigned int cls,
			    size_t psize, void **out, unsigned int n);

/*
 * dk__slab_alloc, each block pushed on a chain as soon as it leaves its run
 * (a process that dies in the call loses at most one block from every
 * book): its first payload word links to *head, its second holds tag, then
 * *head points to it and *count grows by one. The last block handed out is
 * on top. With c->moving, each block is named there before it leaves its
 * run (a repair finds the one a death caught in between). 0 for invalid
 * arguments (c, c->head or c->count NULL).
 */
struct dk__slab_chain {
	void **head;
	unsigned int *count;
	uintptr_t tag;
	uint64_t *moving; /* or NULL: each block is named here before it is handed out */
};
unsigned int dk__slab_alloc_chain(struct dk__slab *s, struct dk__tlsf *t, unsigned int cls,
				  size_t psize, const struct dk__slab_chain *c, unsigned int n);

/* Is p (a live block of the heap) a block carved by this layer? */
static inline int dk__slab_owns(const void *p)
{
	return (dk__tlsf_block_flags(p) & DK__TLSF_F_FOREIGN) != 0;
}

/*
 * Take back block p (dk__slab_owns(p)). When that empties its run, the run
 * is freed to t and dk__tlsf_free's answer is returned (1: the whole region
 * is now free, given in *region / *region_len); else 0. A block already
 * free is left alone (0): a double free does not corrupt the run.
 */
int dk__slab_free(struct dk__slab *s, struct dk__tlsf *t, void *p, void **region,
		  size_t *region_len);

/*
 * Rebuild the books of s after a process died in the middle of a call (the
 * heap's repair, after dk__tlsf_rebuild): every run is found among t's live
 * blocks by its descriptor; its free list and count are made again from the
 * block headers (a block whose header says free is free), the partial lists
 * and the totals from the runs; a run left empty goes back to t, and so
 * does s->pending when its descriptor was not complete. A block whose
 * descriptor or headers are implausible is taken for a plain block (user
 * data that looks like a run is left alone; dk__slab_check runs after).
 * Returns the number of runs kept.
 */
uint64_t dk__slab_rebuild(struct dk__slab *s, struct dk__tlsf *t);
/*
 * Consistency check of every run on the partial lists (descriptors, free
 * lists, counts): for tests. 0, or -EFAULT.
 */
int dk__slab_check(const struct dk__slab *s);

#endif
