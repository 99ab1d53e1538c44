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
#define RUN_BLOCKS 32u         /* a run of a small class holds at least this many blocks */
#define RUN_BLOCKS_MEDIUM 8u   /* a run of a medium class (above 4 KiB) holds this many */
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

/* Largest TLSF payload of a run: 32 blocks of the largest small class, or
 * 8 of the largest medium one. */
#define RUN_BYTES(n, psize) (((sizeof(struct run) + (n) * ((psize) + HDR) + PAGE - 1) & ~(PAGE - 1)))
#define RUN_MAX_BYTES RUN_BYTES(RUN_BLOCKS_MEDIUM, DK__SLAB_MAX_PAYLOAD)
_Static_assert(RUN_BYTES(RUN_BLOCKS, DK__SLAB_SMALL_MAX) <= RUN_MAX_BYTES, "largest run");
_Static_assert(RUN_MAX_BYTES <= DK__SLAB_RUN_MAX, "slab.h promises the largest run");

/* Is psize a valid payload size for class cls? */
static inline int class_psize_ok(unsigned int cls, size_t psize)
{
	if (cls >= DK__SLAB_CLASSES || psize < 16 || (psize & 15))
		return 0;
	return cls < DK__SLAB_SMALL_CLASSES ? psize <= DK__SLAB_SMALL_MAX
					    : psize > DK__SLAB_SMALL_MAX && psize <= DK__SLAB_MAX_PAYLOAD;
}

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
	size_t want = sizeof(struct run) + (cls < DK__SLAB_SMALL_CLASSES ? RUN_BLOCKS : RUN_BLOCKS_MEDIUM) *
						    (psize + HDR);
	if (want < RUN_MIN)
		want = RUN_MIN;
	/* The TLSF block (header included) spans whole pages. */
	want = ((want + HDR + PAGE - 1) & ~(PAGE - 1)) - HDR;
	struct run *r = dk__tlsf_alloc(t, want, DK__TLSF_ALIGN, 0);
	if (!r)
		return NULL;
	dk__tlsf_tag(r); /* a repair finds the runs by this flag */
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

/* Hand block p out: into out[i], or pushed on chain c (a list linked
 * through the first payload word, c->tag in the second). */
static inline void emit(void **out, const struct dk__slab_chain *c, unsigned int i, void *p)
{
	if (!c) {
		out[i] = p;
		return;
	}
	((void **)p)[0] = *c->head;
	((uintptr_t *)p)[1] = c->tag;
	__atomic_store_n(c->head, p, __ATOMIC_RELAXED); /* p is on the chain from here */
	(*c->count)++;
}

static unsigned int slab_take(struct dk__slab *s, struct dk__tlsf *t, unsigned int cls,
			      size_t psize, void **out, const struct dk__slab_chain *c,
			      unsigned int n)
{
	if (!s || !t || (!out && !c) || !class_psize_ok(cls, psize))
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
			emit(out, c, got++, p);
		}
		while (got < n && r->bump + stride <= r->end) {
			uint64_t *h = (uint64_t *)r->bump;
			h[0] = (uintptr_t)r;
			h[1] = psize | DK__TLSF_F_FOREIGN;
			r->bump += stride;
			r->live++;
			emit(out, c, got++, h + 2);
		}
		if (run_full(r))
			partial_remove(s, r);
	}
	s->live += got;
	s->free_bytes -= (uint64_t)got * stride;
	return got;
}

unsigned int dk__slab_alloc(struct dk__slab *s, struct dk__tlsf *t, unsigned int cls,
			    size_t psize, void **out, unsigned int n)
{
	return slab_take(s, t, cls, psize, out, NULL, n);
}

unsigned int dk__slab_alloc_chain(struct dk__slab *s, struct dk__tlsf *t, unsigned int cls,
				  size_t psize, const struct dk__slab_chain *c, unsigned int n)
{
	if (!c || !c->head || !c->count)
		return 0;
	return slab_take(s, t, cls, psize, NULL, c, n);
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

/* ---- rebuild --------------------------------------------------------------- */

struct rebuild {
	struct dk__slab *s;
	struct run *empty; /* runs with no block handed out, freed after the walk */
};

/* Is the live TLSF block at p (usable bytes) a run? Tagged by run_new (the
 * payloads of other blocks are not read: their owners may be writing them),
 * and its descriptor whole and agreeing with the block: magic, end, payload
 * size and class. */
static int looks_like_run(const void *p, size_t usable)
{
	const struct run *r = p;
	if (!(dk__tlsf_block_flags(p) & DK__TLSF_F_TAG) || usable < sizeof(*r) + HDR + 16 ||
	    r->magic != RUN_MAGIC ||
	    r->end != (uintptr_t)p + usable || !class_psize_ok(r->cls, r->psize) || r->bump < first_block(r) ||
	    r->bump > r->end)
		return 0;
	return (r->bump - first_block(r)) % (r->psize + HDR) == 0;
}

/* Count run r's free list, cut at its first entry that is not a carved
 * block of r (or past the carved count); every entry flagged free. */
static uint64_t free_list_recount(struct run *r)
{
	size_t stride = r->psize + HDR;
	uint64_t carved = (r->bump - first_block(r)) / stride, n = 0;
	void **link = &r->free;
	while (*link) {
		uintptr_t a = (uintptr_t)*link - HDR;
		if (n >= carved || a < first_block(r) || a >= r->bump || (a - first_block(r)) % stride ||
		    hdr_of(*link)[0] != (uintptr_t)r) {
			*link = NULL;
			break;
		}
		hdr_of(*link)[1] = r->psize | DK__TLSF_F_FOREIGN | DK__TLSF_F_FREE;
		n++;
		link = (void **)*link;
	}
	return n;
}

static void rebuild_one(void *p, size_t usable, void *arg)
{
	struct rebuild *rb = arg;
	struct dk__slab *s = rb->s;
	if (!looks_like_run(p, usable))
		return;
	struct run *r = p;
	size_t stride = r->psize + HDR;
	uint64_t carved = (r->bump - first_block(r)) / stride;
	r->live = (uint32_t)(carved - free_list_recount(r));
	r->next = r->prev = NULL;
	r->on_partial = 0;
	if (r->live == 0) {
		r->next = rb->empty;
		rb->empty = r;
		return;
	}
	s->runs++;
	s->live += r->live;
	s->free_bytes += HDR + (r->end - (uintptr_t)r) - (uint64_t)r->live * stride;
	if (!run_full(r))
		partial_push(s, r);
}

uint64_t dk__slab_rebuild(struct dk__slab *s, struct dk__tlsf *t)
{
	struct rebuild rb = {s, NULL};
	dk__slab_init(s);
	dk__tlsf_for_each_live(t, rebuild_one, &rb);
	while (rb.empty) {
		struct run *r = rb.empty;
		rb.empty = r->next;
		r->magic = 0;
		dk__tlsf_free(t, r, NULL, NULL);
	}
	return s->runs;
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
