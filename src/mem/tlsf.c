/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two-level segregated fit allocator (after Masmano, Ripoll, Crespo and Real,
 * "TLSF: a new dynamic memory allocator for real-time systems", ECRTS 2004),
 * written from the published idea for dmakit. Contract: tlsf.h.
 *
 * Region layout (mem and len 16-byte aligned, len >= DK__TLSF_MIN_REGION):
 *
 *   mem                                                         mem + len
 *   | region | hdr | payload ... | hdr | payload ... | ... | sentinel |
 *     16 B     16 B                16 B                        16 B
 *
 * - The region descriptor (next region, len) links every region into
 *   t->regions, so dk__tlsf_check can walk them and remove_region can tell
 *   a region start from anything else without reading caller memory.
 * - Block header, 16 bytes: the physically previous block (NULL for the first
 *   block of a region, whose descriptor therefore sits right before it) and
 *   the payload size with the flags in its 4 low bits (bit 0: free). Both
 *   words are always valid, so a live block costs exactly 16 bytes of
 *   metadata and payloads stay 16-byte aligned; payload sizes are multiples
 *   of 16, at least 16.
 * - A free block keeps its free-list links (next, prev) in its first 16
 *   payload bytes.
 * - The sentinel is a used block of size 0 (the only block with size 0): the
 *   last block's successor, so coalescing stops at the region end. A region is
 *   wholly free when its first block is free and its successor is the
 *   sentinel. Fixed cost per region: 48 bytes (descriptor, first header,
 *   sentinel).
 *
 * Size classes: payload sizes below 512 use 32 exact lists of 16-byte
 * granularity (first level 0). A size s >= 512 goes to first level
 * log2(s) - 8 and second level given by the next 5 bits below the top bit,
 * i.e. 32 linear subdivisions of [2^k, 2^(k+1)); below 1024 those are still
 * exact 16-byte steps. First-level and per-level second-level bitmaps say
 * which lists are non-empty; ctz/clz find one in O(1).
 *
 * Allocation ("good fit"): the request is rounded up to the next class
 * boundary, so any block in the first non-empty list at or above that class
 * fits, and the head of that list is taken without a walk. Only when that
 * finds nothing (no list at or above the rounded class has a block) does a
 * last resort walk one list: the highest non-empty one, holding the largest
 * free blocks, each block tried exactly. For a plain request that list is the
 * request's own class whenever that class has blocks (no lower class can hold
 * the request), so a plain request fails only when no free block fits it.
 * The walk is skipped when even that list's blocks are all smaller than the
 * request.
 *
 * Alignment > 16 or a bound: the good-fit search asks for size + align + 32
 * (32 = the smallest block), which leaves room for any leading gap; if the
 * block found cannot take the request without crossing the bound, a second
 * good-fit search asks for size + bound + 32, which always fits. In the
 * chosen block the payload goes to the first position that is aligned, does
 * not cross a multiple of the bound and leaves a leading gap of 0 or at least
 * one smallest block; the gap becomes a free block of its own (its physical
 * predecessor is used, so no coalescing is needed) and the tail beyond the
 * request is split off as usual. The last resort above also applies, so an
 * aligned request can still be placed in a block smaller than size + align +
 * 32 when its address happens to suit; it may fail while a block in a lower
 * non-empty list would have suited.
 *
 * Free coalesces with both physical neighbours; no two free blocks are ever
 * adjacent. Freeing a block that is already free (or the sentinel) is
 * ignored and returns 0; other bad pointers are not detected. Statistics:
 * used_bytes counts header + payload of live blocks (the 48 bytes per region
 * are in neither used_bytes nor any free block).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mem/tlsf.h"

#define SL_COUNT        (1u << DK__TLSF_SL_LOG2)
#define SMALL_LOG2      (DK__TLSF_SL_LOG2 + 4) /* sizes below 512 use 16-byte classes */
#define SMALL_MAX       ((size_t)1 << SMALL_LOG2)
#define FL_SHIFT        (SMALL_LOG2 - 1) /* first level of size s >= SMALL_MAX: log2(s) - FL_SHIFT */
#define HDR             ((size_t)DK__TLSF_HDR)
#define MIN_PAYLOAD     ((size_t)16)
#define MIN_BLOCK       (HDR + MIN_PAYLOAD)
#define REGION_DESC     ((size_t)16)
#define REGION_OVERHEAD (REGION_DESC + 2 * HDR)
/* Largest payload whose class exists: below 2^(FL_COUNT + FL_SHIFT). */
#define MAX_BLOCK (((size_t)1 << (DK__TLSF_FL_COUNT + FL_SHIFT)) - HDR)

#define F_FREE    DK__TLSF_F_FREE
#define F_FOREIGN DK__TLSF_F_FOREIGN
#define F_MASK    ((uint64_t)15)

_Static_assert(SL_COUNT <= 32, "second-level bitmap is 32 bits");
_Static_assert(DK__TLSF_FL_COUNT + FL_SHIFT < 64, "first level fits in 64-bit sizes");
_Static_assert(DK__TLSF_ALIGN == HDR, "header size keeps payloads aligned");
_Static_assert(SMALL_MAX >> DK__TLSF_SL_LOG2 == 16, "first level 1 steps by 16 bytes");

struct blk {
	struct blk *prev;      /* physically previous block, NULL for a region's first */
	uint64_t sf;           /* payload size | flags */
	struct blk *next_free; /* free blocks only: in the payload */
	struct blk *prev_free;
};

struct region {
	struct region *next;
	uint64_t len;
};

_Static_assert(offsetof(struct blk, next_free) == HDR, "header is 16 bytes");
_Static_assert(sizeof(struct region) == REGION_DESC, "descriptor keeps alignment");

static inline size_t bsize(const struct blk *b)
{
	return (size_t)(b->sf & ~F_MASK);
}

static inline bool bfree(const struct blk *b)
{
	return (b->sf & F_FREE) != 0;
}

static inline uintptr_t payload(const struct blk *b)
{
	return (uintptr_t)b + HDR;
}

static inline struct blk *next_phys(const struct blk *b)
{
	return (struct blk *)(payload(b) + bsize(b));
}

static inline size_t round16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static inline unsigned int log2_floor(size_t n)
{
	return 63u - (unsigned int)__builtin_clzll((unsigned long long)n);
}

/* The class holding blocks of payload size s (s <= MAX_BLOCK). */
static inline void mapping(size_t s, unsigned int *fl, unsigned int *sl)
{
	if (s < SMALL_MAX) {
		*fl = 0;
		*sl = (unsigned int)(s >> 4);
	} else {
		unsigned int k = log2_floor(s);
		*fl = k - FL_SHIFT;
		*sl = (unsigned int)(s >> (k - DK__TLSF_SL_LOG2)) - SL_COUNT;
	}
}

/* s rounded up so that every block of its class (or above) holds s. */
static inline size_t round_to_class(size_t s)
{
	if (s >= SMALL_MAX)
		s += ((size_t)1 << (log2_floor(s) - DK__TLSF_SL_LOG2)) - 1;
	return s;
}

/* Every block of class (fl, sl) is smaller than this. */
static inline size_t class_end(unsigned int fl, unsigned int sl)
{
	if (fl == 0)
		return ((size_t)sl + 1) << 4;
	return ((size_t)SL_COUNT + sl + 1) << (fl + FL_SHIFT - DK__TLSF_SL_LOG2);
}

static void list_insert(struct dk__tlsf *t, struct blk *b)
{
	unsigned int fl, sl;
	mapping(bsize(b), &fl, &sl);
	struct blk *head = t->free[fl][sl];
	b->next_free = head;
	b->prev_free = NULL;
	if (head)
		head->prev_free = b;
	t->free[fl][sl] = b;
	t->fl_bitmap |= (uint64_t)1 << fl;
	t->sl_bitmap[fl] |= 1u << sl;
}

static void list_remove(struct dk__tlsf *t, struct blk *b)
{
	unsigned int fl, sl;
	mapping(bsize(b), &fl, &sl);
	if (b->prev_free)
		b->prev_free->next_free = b->next_free;
	else
		t->free[fl][sl] = b->next_free;
	if (b->next_free)
		b->next_free->prev_free = b->prev_free;
	if (!t->free[fl][sl]) {
		t->sl_bitmap[fl] &= ~(1u << sl);
		if (!t->sl_bitmap[fl])
			t->fl_bitmap &= ~((uint64_t)1 << fl);
	}
}

/* Head of the first non-empty list at class (fl, sl) or above; NULL if none. */
static struct blk *find_at_or_above(const struct dk__tlsf *t, unsigned int fl, unsigned int sl)
{
	if (fl >= DK__TLSF_FL_COUNT)
		return NULL;
	uint32_t slm = t->sl_bitmap[fl] & (~0u << sl);
	if (!slm) {
		uint64_t flm = t->fl_bitmap & (~(uint64_t)0 << (fl + 1));
		if (!flm)
			return NULL;
		fl = (unsigned int)__builtin_ctzll(flm);
		slm = t->sl_bitmap[fl];
	}
	return t->free[fl][__builtin_ctz(slm)];
}

/* Good fit for a payload of n bytes: a block of size >= n, no list walk. */
static struct blk *good_fit(const struct dk__tlsf *t, size_t n)
{
	unsigned int fl, sl;
	size_t r = round_to_class(n);
	if (r > MAX_BLOCK)
		return NULL;
	mapping(r, &fl, &sl);
	return find_at_or_above(t, fl, sl);
}

static inline bool crosses(uintptr_t p, size_t n, size_t bound)
{
	return bound && ((p ^ (p + n - 1)) & ~(uintptr_t)(bound - 1)) != 0;
}

/*
 * Where a payload of n bytes aligned to align (>= 16) and not crossing a
 * multiple of bound (0 or > align) goes inside free block b, leaving a
 * leading gap of 0 or >= MIN_BLOCK; 0 when it does not fit.
 */
static uintptr_t place(const struct blk *b, size_t n, size_t align, size_t bound)
{
	uintptr_t start = payload(b), end = start + bsize(b);
	uintptr_t p = (start + align - 1) & ~(uintptr_t)(align - 1);
	if (p != start && p - start < MIN_BLOCK)
		p = (start + MIN_BLOCK + align - 1) & ~(uintptr_t)(align - 1);
	if (crosses(p, n, bound)) {
		/* a multiple of bound is aligned (bound > align) and n <= bound */
		p = (p + bound - 1) & ~(uintptr_t)(bound - 1);
		if (p - start < MIN_BLOCK)
			p += bound;
	}
	if (p < start || p > end || end - p < n)
		return 0;
	return p;
}

/*
 * Turn the free-list-detached block b into a used block of payload >= n:
 * split off a tail that can form a block. The tail's successor is used (b was
 * free), so the tail needs no coalescing.
 */
static void take(struct dk__tlsf *t, struct blk *b, size_t n, uint64_t *name)
{
	size_t s = bsize(b);
	if (s - n >= MIN_BLOCK) {
		struct blk *r = (struct blk *)(payload(b) + n);
		r->prev = b;
		r->sf = (uint64_t)(s - n - HDR) | F_FREE;
		next_phys(r)->prev = r;
		list_insert(t, r);
		s = n;
	}
	if (name)
		__atomic_store_n(name, (uint64_t)payload(b), __ATOMIC_RELEASE);
	__atomic_store_n(&b->sf, (uint64_t)s, __ATOMIC_RELEASE); /* after the name */
	t->used_bytes += HDR + s;
	t->used_count++;
}

void dk__tlsf_init(struct dk__tlsf *t)
{
	*t = (struct dk__tlsf){0};
}

int dk__tlsf_add_region(struct dk__tlsf *t, void *mem, size_t len)
{
	uintptr_t base = (uintptr_t)mem;
	if (!t || !mem || (base & 15) || (len & 15) || len < DK__TLSF_MIN_REGION ||
	    len - REGION_OVERHEAD > MAX_BLOCK || base + len < base)
		return -EINVAL;
	for (struct region *r = t->regions; r; r = r->next) {
		uintptr_t rb = (uintptr_t)r;
		if (base < rb + r->len && rb < base + len)
			return -EINVAL; /* overlaps a region already added */
	}
	struct region *reg = mem;
	reg->len = len;
	reg->next = t->regions;

	struct blk *b = (struct blk *)(base + REGION_DESC);
	struct blk *end = (struct blk *)(base + len - HDR);
	b->prev = NULL;
	b->sf = (uint64_t)(len - REGION_OVERHEAD) | F_FREE;
	end->prev = b;
	end->sf = 0;
	/* Published once its blocks are written: a rebuild (a process died
	 * here) never walks a region without them. */
	__atomic_store_n(&t->regions, (void *)reg, __ATOMIC_RELEASE);
	list_insert(t, b);
	t->region_bytes += len;
	t->region_count++;
	return 0;
}

int dk__tlsf_remove_region(struct dk__tlsf *t, void *mem, size_t len)
{
	if (!t || !mem)
		return -EINVAL;
	struct region **link = (struct region **)&t->regions;
	while (*link && *link != (struct region *)mem)
		link = &(*link)->next;
	struct region *reg = *link;
	if (!reg || reg->len != len)
		return -EINVAL;
	struct blk *b = (struct blk *)((uintptr_t)mem + REGION_DESC);
	if (!bfree(b) || bsize(next_phys(b)) != 0)
		return -EBUSY;
	list_remove(t, b);
	*link = reg->next;
	t->region_bytes -= len;
	t->region_count--;
	return 0;
}

void *dk__tlsf_alloc_named(struct dk__tlsf *t, size_t size, size_t align, size_t bound,
			   uint64_t *name)
{
	if (!t || size == 0 || (align & (align - 1)) ||
	    (bound && ((bound & (bound - 1)) || bound < size))) {
		errno = EINVAL;
		return NULL;
	}
	if (size > MAX_BLOCK) {
		errno = ENOMEM;
		return NULL;
	}
	size_t n = size < MIN_PAYLOAD ? MIN_PAYLOAD : round16(size);
	if (align < DK__TLSF_ALIGN)
		align = DK__TLSF_ALIGN;
	if (bound <= align)
		bound = 0; /* an aligned block of size <= bound cannot cross it */

	if (align > MAX_BLOCK || bound > MAX_BLOCK) {
		errno = ENOMEM;
		return NULL;
	}
	/* room for any leading gap: 0, or up to align + MIN_BLOCK - 16 */
	size_t need = align == DK__TLSF_ALIGN ? n : n + align + MIN_BLOCK;
	struct blk *b = good_fit(t, need);
	uintptr_t p = 0;
	if (b)
		p = place(b, n, align, bound); /* fails only by crossing the bound */
	if (!p && bound) {
		b = good_fit(t, n + bound + MIN_BLOCK);
		if (b)
			p = place(b, n, align, bound); /* always fits */
	}
	if (!p && t->fl_bitmap) {
		/*
		 * Last resort, reached only when no list at or above need's
		 * rounded class has a block: try each block of the one list
		 * holding the largest free blocks (for align 16 without a bound
		 * that is n's own class whenever it is non-empty, as no smaller
		 * class can hold n, so such a request fails only when nothing
		 * fits).
		 */
		unsigned int fl = log2_floor((size_t)t->fl_bitmap);
		unsigned int sl = 31u - (unsigned int)__builtin_clz(t->sl_bitmap[fl]);
		b = class_end(fl, sl) > n ? t->free[fl][sl] : NULL;
		for (; b; b = b->next_free) {
			p = place(b, n, align, bound);
			if (p)
				break;
		}
	}
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}

	list_remove(t, b);
	if (p != payload(b)) {
		/* leading gap (>= MIN_BLOCK) stays a free block */
		struct blk *a = (struct blk *)(p - HDR);
		size_t gap = p - payload(b);
		a->prev = b;
		/* Free until take() marks it used: a process that dies before
		 * leaves no used block that nobody was handed (rebuild). */
		a->sf = (uint64_t)(bsize(b) - gap) | F_FREE;
		next_phys(a)->prev = a;
		b->sf = (uint64_t)(gap - HDR) | F_FREE;
		list_insert(t, b);
		b = a;
	}
	take(t, b, n, name);
	return (void *)p;
}

void *dk__tlsf_alloc(struct dk__tlsf *t, size_t size, size_t align, size_t bound)
{
	return dk__tlsf_alloc_named(t, size, align, bound, NULL);
}

int dk__tlsf_free(struct dk__tlsf *t, void *p, void **region, size_t *region_len)
{
	if (!t || !p)
		return 0;
	struct blk *b = (struct blk *)((uintptr_t)p - HDR);
	if (bfree(b) || bsize(b) == 0 || (b->sf & F_FOREIGN))
		return 0; /* double free, not a block, or carved by a layer above: leave it */
	size_t s = bsize(b);
	t->used_bytes -= HDR + s;
	t->used_count--;

	struct blk *n = next_phys(b);
	if (b->prev && bfree(b->prev)) {
		struct blk *pv = b->prev;
		list_remove(t, pv);
		s += bsize(pv) + HDR;
		b = pv;
	}
	if (bfree(n)) {
		list_remove(t, n);
		s += bsize(n) + HDR;
	}
	b->sf = (uint64_t)s | F_FREE;
	n = next_phys(b);
	n->prev = b;
	list_insert(t, b);

	if (!b->prev && bsize(n) == 0) {
		struct region *reg = (struct region *)((uintptr_t)b - REGION_DESC);
		if (region)
			*region = reg;
		if (region_len)
			*region_len = (size_t)reg->len;
		return 1;
	}
	return 0;
}

void *dk__tlsf_resize_inplace(struct dk__tlsf *t, void *p, size_t size)
{
	if (!t || !p || size == 0 || size > MAX_BLOCK)
		return NULL;
	struct blk *b = (struct blk *)((uintptr_t)p - HDR);
	if (bfree(b) || bsize(b) == 0 || (b->sf & F_FOREIGN))
		return NULL;
	size_t n = size < MIN_PAYLOAD ? MIN_PAYLOAD : round16(size);
	size_t s = bsize(b);
	struct blk *nx = next_phys(b);

	if (n <= s) {
		if (n == s)
			return p;
		struct blk *r = (struct blk *)((uintptr_t)p + n);
		if (bfree(nx)) {
			/* hand the freed tail to the free successor: move its header down */
			size_t rs = bsize(nx) + (s - n);
			struct blk *after = next_phys(nx);
			list_remove(t, nx);
			r->prev = b;
			r->sf = (uint64_t)rs | F_FREE;
			after->prev = r;
			list_insert(t, r);
		} else if (s - n >= MIN_BLOCK) {
			r->prev = b;
			r->sf = (uint64_t)(s - n - HDR) | F_FREE;
			nx->prev = r;
			list_insert(t, r);
		} else {
			return p; /* tail too small to be a block: keep it */
		}
		b->sf = (uint64_t)n;
		t->used_bytes -= s - n;
		return p;
	}

	if (!bfree(nx) || s + HDR + bsize(nx) < n)
		return NULL;
	size_t total = s + HDR + bsize(nx);
	struct blk *after = next_phys(nx);
	list_remove(t, nx);
	if (total - n >= MIN_BLOCK) {
		struct blk *r = (struct blk *)((uintptr_t)p + n);
		r->prev = b;
		r->sf = (uint64_t)(total - n - HDR) | F_FREE;
		after->prev = r;
		list_insert(t, r);
		total = n;
	} else {
		after->prev = b;
	}
	b->sf = (uint64_t)total;
	t->used_bytes += total - s;
	return p;
}

size_t dk__tlsf_usable_size(const void *p)
{
	if (!p)
		return 0;
	return bsize((const struct blk *)((uintptr_t)p - HDR));
}

size_t dk__tlsf_largest_free(const struct dk__tlsf *t)
{
	if (!t || !t->fl_bitmap)
		return 0;
	unsigned int fl = log2_floor((size_t)t->fl_bitmap);
	unsigned int sl = 31u - (unsigned int)__builtin_clz(t->sl_bitmap[fl]);
	const struct blk *b = t->free[fl][sl];
	/* the head of the highest list: no other list holds a larger block */
	return b ? bsize(b) : 0;
}

size_t dk__tlsf_largest_free_class(const struct dk__tlsf *t)
{
	if (!t || !t->fl_bitmap)
		return 0;
	unsigned int fl = log2_floor((size_t)t->fl_bitmap);
	if (fl >= DK__TLSF_FL_COUNT || !t->sl_bitmap[fl])
		return 0;
	unsigned int sl = 31u - (unsigned int)__builtin_clz(t->sl_bitmap[fl]);
	if (fl == 0)
		return (size_t)sl << 4;
	return ((size_t)SL_COUNT + sl) << (fl + FL_SHIFT - DK__TLSF_SL_LOG2);
}

unsigned int dk__tlsf_regions(const struct dk__tlsf *t, void **mem, size_t *len,
			      unsigned int max)
{
	unsigned int k = 0;
	for (const struct region *r = t->regions; r && k < t->region_count; r = r->next, k++) {
		if (k < max) {
			mem[k] = (void *)r;
			len[k] = (size_t)r->len;
		}
	}
	return k;
}

/* Walk one region by block sizes: fix the prev links, merge free
 * neighbours, count live blocks. 0, or -EFAULT when the sizes do not chain
 * to the region's sentinel. */
static int rebuild_region(struct dk__tlsf *t, const struct region *r)
{
	uintptr_t base = (uintptr_t)r, last = base + (uintptr_t)r->len - HDR;
	if ((base & 15) || r->len < DK__TLSF_MIN_REGION || (r->len & 15))
		return -EFAULT;
	struct blk *b = (struct blk *)(base + REGION_DESC), *prev = NULL;
	while ((uintptr_t)b < last) {
		size_t size = bsize(b);
		if (size < MIN_PAYLOAD || (b->sf & F_FOREIGN) || payload(b) + size > last)
			return -EFAULT;
		struct blk *next = next_phys(b);
		b->prev = prev;
		if (bfree(b) && prev && bfree(prev)) {
			prev->sf = (uint64_t)(bsize(prev) + HDR + size) | F_FREE;
			b = prev;
		} else if (!bfree(b)) {
			t->used_bytes += HDR + size;
			t->used_count++;
		}
		prev = b;
		b = next;
	}
	if ((uintptr_t)b != last || bsize(b) != 0)
		return -EFAULT;
	b->prev = prev;
	return 0;
}

int dk__tlsf_is_live(const struct dk__tlsf *t, const void *p)
{
	uintptr_t a = (uintptr_t)p;
	uint64_t k = 0;
	for (const struct region *r = t->regions; r && k <= t->region_count; r = r->next, k++) {
		uintptr_t last = (uintptr_t)r + (uintptr_t)r->len - HDR;
		if (a < (uintptr_t)r || a >= last)
			continue;
		for (const struct blk *b = (const struct blk *)((uintptr_t)r + REGION_DESC);
		     (uintptr_t)b < last && payload(b) <= a && bsize(b); b = next_phys(b))
			if (payload(b) == a)
				return !bfree(b);
		return 0;
	}
	return 0;
}

int dk__tlsf_walk_live(const struct dk__tlsf *t, int (*fn)(void *p, size_t len, void *arg),
		       void *arg)
{
	for (const struct region *r = t->regions; r; r = r->next) {
		uintptr_t last = (uintptr_t)r + (uintptr_t)r->len - HDR;
		for (struct blk *b = (struct blk *)((uintptr_t)r + REGION_DESC); (uintptr_t)b < last;
		     b = next_phys(b)) {
			int rc = bfree(b) ? 0 : fn((void *)payload(b), bsize(b), arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int dk__tlsf_rebuild(struct dk__tlsf *t)
{
	uint64_t n = 0, bound = t->region_count + 1; /* one add or remove may be cut short */
	memset(t->sl_bitmap, 0, sizeof(t->sl_bitmap));
	memset(t->free, 0, sizeof(t->free));
	t->fl_bitmap = 0;
	t->used_bytes = t->used_count = t->region_bytes = 0;
	for (const struct region *r = t->regions; r; r = r->next) {
		if (n++ >= bound || rebuild_region(t, r) < 0)
			return -EFAULT;
		t->region_bytes += r->len;
	}
	t->region_count = n;
	for (const struct region *r = t->regions; r; r = r->next) {
		uintptr_t last = (uintptr_t)r + (uintptr_t)r->len - HDR;
		for (struct blk *b = (struct blk *)((uintptr_t)r + REGION_DESC); (uintptr_t)b < last;
		     b = next_phys(b))
			if (bfree(b))
				list_insert(t, b);
	}
	return dk__tlsf_check(t);
}

/* Whether a free block header at q (with its links) lies inside a region. */
static bool in_regions(const struct dk__tlsf *t, const void *q)
{
	uintptr_t a = (uintptr_t)q;
	uint64_t k = 0;
	if (a & 15)
		return false;
	for (const struct region *r = t->regions; r && k < t->region_count; r = r->next, k++) {
		uintptr_t base = (uintptr_t)r;
		if (a >= base + REGION_DESC && a + MIN_BLOCK + HDR <= base + r->len)
			return true;
	}
	return false;
}

#define BAD() return -EFAULT

int dk__tlsf_check(const struct dk__tlsf *t)
{
	if (!t)
		BAD();
	uint64_t nreg = 0, rbytes = 0, ubytes = 0, ucount = 0, nfree = 0;

	for (const struct region *r = t->regions; r; r = r->next) {
		if (++nreg > t->region_count)
			BAD(); /* also ends a cycle */
		uintptr_t base = (uintptr_t)r, end = base + r->len;
		if ((base & 15) || (r->len & 15) || r->len < DK__TLSF_MIN_REGION || end < base ||
		    r->len - REGION_OVERHEAD > MAX_BLOCK)
			BAD();
		rbytes += r->len;
		const struct blk *prev = NULL;
		bool prev_free = false;
		uintptr_t a = base + REGION_DESC;
		for (;;) {
			if (end - a < HDR)
				BAD();
			const struct blk *b = (const struct blk *)a;
			if (b->prev != prev || (b->sf & F_MASK & ~(F_FREE | DK__TLSF_F_TAG)) ||
			    (bfree(b) && (b->sf & DK__TLSF_F_TAG)))
				BAD();
			size_t s = bsize(b);
			if (s == 0) {
				if (b->sf != 0 || a != end - HDR || !prev)
					BAD();
				break;
			}
			if (s < MIN_PAYLOAD || end - a < 2 * HDR || s > end - a - 2 * HDR)
				BAD();
			if (bfree(b)) {
				unsigned int fl, sl;
				if (prev_free)
					BAD();
				nfree++;
				mapping(s, &fl, &sl);
				/* linked in the list of its class */
				if (!b->prev_free) {
					if (t->free[fl][sl] != b)
						BAD();
				} else if (!in_regions(t, b->prev_free) ||
					   b->prev_free->next_free != b) {
					BAD();
				}
				if (b->next_free &&
				    (!in_regions(t, b->next_free) || b->next_free->prev_free != b))
					BAD();
				prev_free = true;
			} else {
				ubytes += HDR + s;
				ucount++;
				prev_free = false;
			}
			prev = b;
			a += HDR + s;
		}
	}
	if (nreg != t->region_count || rbytes != t->region_bytes || ubytes != t->used_bytes ||
	    ucount != t->used_count)
		BAD();

	uint64_t listed = 0;
	if (t->fl_bitmap >> DK__TLSF_FL_COUNT)
		BAD();
	static const void *const no_lists[SL_COUNT];
	for (unsigned int fl = 0; fl < DK__TLSF_FL_COUNT; fl++) {
		uint32_t want = 0;
		if (!t->sl_bitmap[fl] && !memcmp(t->free[fl], no_lists, sizeof(no_lists))) {
			if (t->fl_bitmap & ((uint64_t)1 << fl))
				BAD();
			continue; /* the common case, quickly */
		}
		for (unsigned int sl = 0; sl < SL_COUNT; sl++) {
			const struct blk *pf = NULL;
			for (const struct blk *b = t->free[fl][sl]; b; pf = b, b = b->next_free) {
				unsigned int bfl, bsl;
				if (++listed > nfree || !in_regions(t, b))
					BAD();
				if (!bfree(b) || b->prev_free != pf)
					BAD();
				mapping(bsize(b), &bfl, &bsl);
				if (bfl != fl || bsl != sl)
					BAD();
				want |= 1u << sl;
			}
		}
		if (t->sl_bitmap[fl] != want || !(t->fl_bitmap & ((uint64_t)1 << fl)) != !want)
			BAD();
	}
	if (listed != nfree)
		BAD();
	return 0;
}
