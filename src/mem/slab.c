/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs of equal-size blocks over the TLSF allocator: see slab.h.
 *
 * Run layout: [TLSF header][struct run (64 bytes)][hdr|block][hdr|block]...
 * The descriptor keeps the run's free list (carved blocks given back,
 * linked through their first payload word), the bump pointer (blocks
 * never carved yet) and the count of blocks handed out.
 */
#include <errno.h>
#include <string.h>

#include "mem/slab.h"

#define HDR       ((uintptr_t)DK__TLSF_HDR)
#define RUN_MAGIC 0x736c6162u /* "slab" */
#define RUN_MIN   ((size_t)16 << 10)
#define RUN_BLOCKS 32u         /* a run holds at least this many blocks */
#define PAGE      ((size_t)4096)

struct run {
	struct run *next; /* partial list */
	struct run *prev;
	void *free;       /* carved blocks given back */
	uintptr_t bump;   /* header address of the next block never carved */
	uintptr_t end;    /* end of the run's payload */
	uint64_t psize;   /* payload size of its blocks */
	uint32_t live;    /* blocks handed out */
	uint32_t cls;
	uint32_t on_partial;
	uint32_t magic;
};
_Static_assert(sizeof(struct run) == 64, "run descriptor keeps blocks aligned");

/* Largest TLSF payload of a run: 32 blocks of the largest class. */
#define RUN_MAX_BYTES (((sizeof(struct run) + RUN_BLOCKS * (DK__SLAB_MAX_PAYLOAD + HDR) + PAGE - 1) & ~(PAGE - 1)))
_Static_assert(RUN_MAX_BYTES <= DK__SLAB_RUN_MAX, "slab.h promises the largest run");

/* ---- block headers ----------------------------------------------------- */

static inline uint64_t *hdr_of(const void *p)
{
	return (uint64_t *)((uintptr_t)p - HDR);
}

static inline uintptr_t first_block(const struct run *r)
{
	return (uintptr_t)r + sizeof(*r);
}

/* ---- partial lists ------------------------------------------------------- */

static void partial_push(struct dk__slab *s, struct run *r)
{
	struct run *head = s->partial[r->cls];
	r->prev = NULL;
	r->next = head;
	if (head)
		head->prev = r;
	s->partial[r->cls] = r;
	r->on_partial = 1;
}

static void partial_remove(struct dk__slab *s, struct run *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		s->partial[r->cls] = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
	r->on_partial = 0;
}

/* ---- runs ---------------------------------------------------------------- */

static struct run *run_new(struct dk__slab *s, struct dk__tlsf *t, unsigned int cls, size_t psize)
{
	size_t want = sizeof(struct run) + RUN_BLOCKS * (psize + HDR);
	if (want < RUN_MIN)
		want = RUN_MIN;
	/* The TLSF block (header included) spans whole pages. */
	want = ((want + HDR + PAGE - 1) & ~(PAGE - 1)) - HDR;
	struct run *r = dk__tlsf_alloc(t, want, DK__TLSF_ALIGN, 0);
	if (!r)
		return NULL;
	size_t len = dk__tlsf_usable_size(r);
	memset(r, 0, sizeof(*r));
	r->bump = first_block(r);
	r->end = (uintptr_t)r + len;
	r->psize = psize;
	r->cls = cls;
	r->magic = RUN_MAGIC;
	s->runs++;
	s->free_bytes += HDR + len;
	partial_push(s, r);
	return r;
}

static inline int run_full(const struct run *r)
{
	return !r->free && r->bump + r->psize + HDR > r->end;
}

/* ---- API ------------------------------------------------------------------- */

void dk__slab_init(struct dk__slab *s)
{
	memset(s, 0, sizeof(*s));
}

/* A block handed out: counted at once, so that the books count every
 * block out[] names (the heap's repair frees the blocks of a refill that a
 * death left out of its bin: malloc.c). */
static inline void slab_count_out(struct dk__slab *s, size_t stride)
{
	s->live++;
	s->free_bytes -= stride;
}

unsigned int dk__slab_alloc(struct dk__slab *s, struct dk__tlsf *t, unsigned int cls,
			    size_t psize, void **out, unsigned int n)
{
	if (!s || !t || !out || cls >= DK__SLAB_CLASSES || psize < 16 ||
	    psize > DK__SLAB_MAX_PAYLOAD || (psize & 15))
		return 0;
	size_t stride = psize + HDR;
	unsigned int got = 0;
	while (got < n) {
		struct run *r = s->partial[cls];
		if (r && r->psize != psize)
			break; /* one payload size per class: the caller broke the contract */
		if (!r && !(r = run_new(s, t, cls, psize)))
			break;
		while (got < n && r->free) {
			void *p = r->free;
			r->free = *(void **)p;
			hdr_of(p)[1] = psize | DK__TLSF_F_FOREIGN;
			r->live++;
			slab_count_out(s, stride); /* before out names it: a death between loses it */
			out[got++] = p;
		}
		while (got < n && r->bump + stride <= r->end) {
			uint64_t *h = (uint64_t *)r->bump;
			h[0] = (uintptr_t)r;
			h[1] = psize | DK__TLSF_F_FOREIGN;
			r->bump += stride;
			r->live++;
			slab_count_out(s, stride);
			out[got++] = (void *)(r->bump - stride + HDR);
		}
		if (run_full(r))
			partial_remove(s, r);
	}
	return got;
}

int dk__slab_free(struct dk__slab *s, struct dk__tlsf *t, void *p, void **region,
		  size_t *region_len)
{
	if (!s || !t || !p)
		return 0;
	uint64_t *h = hdr_of(p);
	uint64_t sf = h[1];
	struct run *r = (struct run *)h[0];
	uintptr_t a = (uintptr_t)p;
	/* Cheap plausibility checks before r is read: a run lies before its
	 * blocks and is never larger than RUN_MAX_BYTES. */
	if ((sf & (DK__TLSF_F_FOREIGN | DK__TLSF_F_FREE)) != DK__TLSF_F_FOREIGN ||
	    a <= (uintptr_t)r + sizeof(*r) || a - (uintptr_t)r > RUN_MAX_BYTES ||
	    r->magic != RUN_MAGIC || (sf & ~(uint64_t)15) != r->psize || a >= r->bump)
		return 0;
	size_t stride = r->psize + HDR;
	h[1] = sf | DK__TLSF_F_FREE;
	*(void **)p = r->free;
	r->free = p;
	r->live--;
	s->live--;
	s->free_bytes += stride;
	if (r->live == 0) {
		if (r->on_partial)
			partial_remove(s, r);
		s->runs--;
		s->free_bytes -= HDR + (r->end - (uintptr_t)r);
		r->magic = 0;
		return dk__tlsf_free(t, r, region, region_len);
	}
	if (!r->on_partial)
		partial_push(s, r);
	return 0;
}

int dk__slab_check(const struct dk__slab *s)
{
	if (!s)
		return -EFAULT;
	uint64_t runs = 0;
	for (unsigned int c = 0; c < DK__SLAB_CLASSES; c++) {
		const struct run *prev = NULL;
		for (const struct run *r = s->partial[c]; r; prev = r, r = r->next) {
			if (r->magic != RUN_MAGIC || !r->on_partial || r->cls != c || r->prev != prev ||
			    r->psize < 16 || (r->psize & 15) || run_full(r) || r->live == 0 ||
			    r->bump < first_block(r) || r->bump > r->end)
				return -EFAULT;
			size_t stride = r->psize + HDR;
			if ((r->bump - first_block(r)) % stride)
				return -EFAULT;
			uint64_t carved = (r->bump - first_block(r)) / stride, nfree = 0;
			for (const void *p = r->free; p; p = *(void *const *)p) {
				const uint64_t *h = hdr_of(p);
				uintptr_t a = (uintptr_t)p - HDR;
				if (h[0] != (uintptr_t)r ||
				    h[1] != (r->psize | DK__TLSF_F_FOREIGN | DK__TLSF_F_FREE) ||
				    a < first_block(r) || a >= r->bump || (a - first_block(r)) % stride ||
				    ++nfree > carved)
					return -EFAULT;
			}
			if (nfree + r->live != carved)
				return -EFAULT;
			if (++runs > s->runs)
				return -EFAULT;
		}
	}
	return 0;
}
