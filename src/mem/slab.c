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
	/* Named pending before it is used, until its descriptor is complete. */
	_Static_assert(sizeof(s->pending) == sizeof(uint64_t), "pending is a record word");
	struct run *r = dk__tlsf_alloc_named(t, want, DK__TLSF_ALIGN, 0, (uint64_t *)&s->pending);
	if (!r)
		return NULL;
	dk__tlsf_tag(r); /* a repair finds the runs by this flag */
	size_t len = dk__tlsf_usable_size(r);
	memset(r, 0, sizeof(*r));
	r->bump = first_block(r);
	r->end = (uintptr_t)r + len;
	r->psize = psize;
	r->cls = cls;
	__atomic_store_n(&r->magic, RUN_MAGIC, __ATOMIC_RELEASE);
	s->runs++;
	s->free_bytes += HDR + len;
	partial_push(s, r);
	__atomic_store_n(&s->pending, NULL, __ATOMIC_RELEASE);
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

/* Name block p before it is handed out (its header, or the bump for a
 * block never carved, is what hands it out): in out[i], or in c->moving. A
 * death between here and the caller getting p then loses nothing: the
 * heap's repair frees a named block that is live and not the caller's
 * (malloc.c); dk__slab_rebuild makes everything else again from the
 * headers. */
static inline void name_next(void **out, const struct dk__slab_chain *c, unsigned int i, void *p)
{
	if (!c)
		out[i] = p;
	else if (c->moving)
		__atomic_store_n(c->moving, (uint64_t)(uintptr_t)p, __ATOMIC_RELEASE);
}

/* Block p of run r is handed out: counted at once, and pushed on chain c
 * when there is one (a list linked through the first payload word, c->tag
 * in the second). */
static inline void hand_out(struct dk__slab *s, struct run *r, size_t stride,
			    const struct dk__slab_chain *c, void *p)
{
	r->live++;
	s->live++;
	s->free_bytes -= stride;
	if (!c)
		return;
	((void **)p)[0] = *c->head;
	((uintptr_t *)p)[1] = c->tag;
	__atomic_store_n(c->head, p, __ATOMIC_RELEASE); /* p is on the chain from here */
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
			name_next(out, c, got, p);
			__atomic_store_n(&hdr_of(p)[1], psize | DK__TLSF_F_FOREIGN, __ATOMIC_RELEASE);
			hand_out(s, r, stride, c, p);
			got++;
		}
		while (got < n && r->bump + stride <= r->end) {
			uint64_t *h = (uint64_t *)r->bump;
			h[0] = (uintptr_t)r;
			name_next(out, c, got, h + 2);
			__atomic_store_n(&h[1], psize | DK__TLSF_F_FOREIGN, __ATOMIC_RELEASE);
			__atomic_store_n(&r->bump, r->bump + stride, __ATOMIC_RELEASE);
			hand_out(s, r, stride, c, h + 2);
			got++;
		}
		if (run_full(r))
			partial_remove(s, r);
	}
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
	__atomic_store_n(&h[1], sf | DK__TLSF_F_FREE, __ATOMIC_RELEASE); /* what frees it */
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
		__atomic_store_n(&s->pending, r, __ATOMIC_RELEASE);
		__atomic_store_n(&r->magic, 0, __ATOMIC_RELEASE);
		int whole = dk__tlsf_free(t, r, region, region_len);
		__atomic_store_n(&s->pending, NULL, __ATOMIC_RELEASE);
		return whole;
	}
	if (!r->on_partial)
		partial_push(s, r);
	return 0;
}

/* ---- repair ------------------------------------------------------------------ */

struct rebuild {
	struct dk__slab *s;
	struct run *empty; /* runs left empty, to give back after the walk */
	int pending_ok;    /* s->pending was found with a complete descriptor */
};

/* Is TLSF block r (len bytes) a run with a plausible descriptor? */
static int run_plausible(const struct run *r, size_t len)
{
	if (!(dk__tlsf_block_flags(r) & DK__TLSF_F_TAG) || len < sizeof(*r) + HDR + 16 ||
	    r->magic != RUN_MAGIC)
		return 0; /* untagged: a plain block, whose payload is not read */
	size_t stride = r->psize + HDR;
	return class_psize_ok(r->cls, r->psize) && r->end == (uintptr_t)r + len &&
	       r->bump >= first_block(r) && r->bump <= r->end &&
	       (r->bump - first_block(r)) % stride == 0;
}

/* Does every carved block of run r carry a header of r? */
static int run_headers_ok(const struct run *r)
{
	size_t stride = r->psize + HDR;
	for (uintptr_t a = first_block(r); a < r->bump; a += stride) {
		const uint64_t *h = (const uint64_t *)a;
		if (h[0] != (uintptr_t)r || (h[1] & ~(uint64_t)15) != r->psize ||
		    !(h[1] & DK__TLSF_F_FOREIGN))
			return 0;
	}
	return 1;
}

/* One live TLSF block: when it is a run, its free list and count again
 * from its headers; into the partial list, or the empty ones. */
static int rebuild_run(void *p, size_t len, void *arg)
{
	struct rebuild *x = arg;
	struct run *r = p;
	if (!run_plausible(r, len) || !run_headers_ok(r))
		return 0; /* a plain block (whatever its data), or the pending run (after) */
	x->pending_ok |= p == x->s->pending;
	size_t stride = r->psize + HDR;
	void *free_list = NULL;
	uint32_t live = 0;
	for (uintptr_t a = r->bump; a > first_block(r);) {
		a -= stride; /* top down: the free list starts at the lowest block */
		uint64_t *h = (uint64_t *)a;
		if (h[1] & DK__TLSF_F_FREE) {
			*(void **)(a + HDR) = free_list;
			free_list = (void *)(a + HDR);
		} else {
			live++;
		}
	}
	r->free = free_list;
	r->live = live;
	r->next = r->prev = NULL;
	r->on_partial = 0;
	if (live == 0) {
		r->next = x->empty;
		x->empty = r;
		return 0;
	}
	x->s->runs++;
	x->s->live += live;
	x->s->free_bytes += HDR + len - (uint64_t)live * stride;
	if (!run_full(r))
		partial_push(x->s, r);
	return 0;
}

uint64_t dk__slab_rebuild(struct dk__slab *s, struct dk__tlsf *t)
{
	struct rebuild x = {s, NULL, 0};
	memset(s->partial, 0, sizeof(s->partial));
	s->runs = s->live = s->free_bytes = 0;
	(void)dk__tlsf_walk_live(t, rebuild_run, &x); /* rebuild_run never stops it */
	struct run *pend = __atomic_load_n(&s->pending, __ATOMIC_ACQUIRE);
	if (pend && !x.pending_ok && dk__tlsf_is_live(t, pend))
		dk__tlsf_free(t, pend, NULL, NULL); /* its descriptor never was (or no more is) */
	s->pending = NULL;
	while (x.empty) {
		struct run *r = x.empty;
		x.empty = r->next;
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
