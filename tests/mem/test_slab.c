/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for runs of small blocks over the TLSF allocator (src/mem/slab.h).
 * Regions come from aligned_alloc; every test checks both layers'
 * consistency (dk__slab_check, dk__tlsf_check) and the books: the TLSF
 * allocator counts a run as one live block, the slab's free_bytes is what
 * of the runs is not handed out, so used_bytes - free_bytes is exactly the
 * blocks handed out, headers included.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/slab.h"
#include "mem/tlsf.h"
#include "rng.h"
#include "tap.h"

#define HDR 16u

struct arena {
	struct dk__tlsf t;
	struct dk__slab s;
	void *mem;
	size_t len;
};

static void arena_init(struct arena *a, size_t len)
{
	dk__tlsf_init(&a->t);
	dk__slab_init(&a->s);
	a->len = len;
	a->mem = aligned_alloc(4096, len);
	if (a->mem)
		memset(a->mem, 0xa5, len);
	if (!a->mem || dk__tlsf_add_region(&a->t, a->mem, len) != 0) {
		free(a->mem);
		a->mem = NULL;
	}
}

static bool consistent(const struct arena *a, uint64_t handed_out_bytes)
{
	return dk__slab_check(&a->s) == 0 && dk__tlsf_check(&a->t) == 0 &&
	       a->t.used_bytes - a->s.free_bytes == handed_out_bytes;
}

static uint8_t pat(uintptr_t tag, size_t i)
{
	return (uint8_t)(tag * 131u + i * 7u);
}

static void fill(void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = pat((uintptr_t)p >> 4, i);
}

static bool verify(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((const uint8_t *)p)[i] != pat((uintptr_t)p >> 4, i))
			return false;
	return true;
}

DK_TEST(blocks_are_carved_with_tlsf_shaped_headers_and_the_run_goes_back_when_empty)
{
	struct arena a;
	arena_init(&a, 4u << 20);
	REQUIRE(a.mem != NULL);
	void *p[40];
	const size_t psize = 64;
	CHECK_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, psize, p, 40), 40);
	CHECK_INT_EQ(a.s.live, 40);
	CHECK(consistent(&a, 40 * (psize + HDR)));
	for (int i = 0; i < 40; i++) {
		CHECK(dk__slab_owns(p[i]));
		CHECK_INT_EQ(dk__tlsf_usable_size(p[i]), psize);
		CHECK(((uintptr_t)p[i] & 15) == 0);
		CHECK((uintptr_t)p[i] > (uintptr_t)a.mem &&
		      (uintptr_t)p[i] + psize <= (uintptr_t)a.mem + a.len);
		fill(p[i], psize);
	}
	for (int i = 0; i < 40; i++)
		CHECK(verify(p[i], psize)); /* no two blocks overlap */
	/* The TLSF layer refuses them: nothing changes. */
	uint64_t used = a.t.used_bytes;
	CHECK_INT_EQ(dk__tlsf_free(&a.t, p[0], NULL, NULL), 0);
	CHECK(dk__tlsf_resize_inplace(&a.t, p[0], 32) == NULL);
	CHECK_INT_EQ(a.t.used_bytes, used);
	CHECK(consistent(&a, 40 * (psize + HDR)));
	/* Give all back: the run returns to TLSF, the region is whole again. */
	void *region = NULL;
	size_t region_len = 0;
	int whole = 0;
	for (int i = 0; i < 40; i++)
		whole = dk__slab_free(&a.s, &a.t, p[i], &region, &region_len);
	CHECK_INT_EQ(whole, 1);
	CHECK(region == a.mem && region_len == a.len);
	CHECK_INT_EQ(a.s.runs, 0);
	CHECK_INT_EQ(a.s.live, 0);
	CHECK_INT_EQ(a.s.free_bytes, 0);
	CHECK_INT_EQ(a.t.used_count, 0);
	CHECK(consistent(&a, 0));
	free(a.mem);
}

DK_TEST(a_full_run_leaves_its_partial_list_and_comes_back_on_free)
{
	struct arena a;
	arena_init(&a, 4u << 20);
	REQUIRE(a.mem != NULL);
	const size_t psize = 4096, stride = psize + HDR;
	void *p[80];
	/* Carve one at a time until a second run appears: the first is full. */
	unsigned int n = 0;
	while (n < 80 && a.s.runs <= 1) {
		REQUIRE_INT_EQ(dk__slab_alloc(&a.s, &a.t, 75, psize, &p[n], 1), 1);
		n++;
	}
	REQUIRE(a.s.runs == 2);
	unsigned int per_run = n - 1;
	CHECK(per_run >= 32); /* a run holds at least 32 blocks */
	CHECK(consistent(&a, (uint64_t)n * stride));
	/* Free one block of the full run: it is on the partial list again and
	 * hands that very block out next, before carving the second run. */
	void *freed = p[5];
	CHECK_INT_EQ(dk__slab_free(&a.s, &a.t, freed, NULL, NULL), 0);
	CHECK(consistent(&a, (uint64_t)(n - 1) * stride));
	void *q = NULL;
	REQUIRE_INT_EQ(dk__slab_alloc(&a.s, &a.t, 75, psize, &q, 1), 1);
	CHECK(q == freed);
	CHECK(consistent(&a, (uint64_t)n * stride));
	for (unsigned int i = 0; i < n; i++)
		dk__slab_free(&a.s, &a.t, p[i], NULL, NULL);
	CHECK_INT_EQ(a.s.runs, 0);
	CHECK(consistent(&a, 0));
	free(a.mem);
}

DK_TEST(double_free_and_foreign_pointers_leave_the_books_alone)
{
	struct arena a;
	arena_init(&a, 1u << 20);
	REQUIRE(a.mem != NULL);
	void *p[2];
	REQUIRE_INT_EQ(dk__slab_alloc(&a.s, &a.t, 1, 32, p, 2), 2);
	CHECK_INT_EQ(dk__slab_free(&a.s, &a.t, p[0], NULL, NULL), 0);
	CHECK(consistent(&a, 48));
	CHECK_INT_EQ(dk__slab_free(&a.s, &a.t, p[0], NULL, NULL), 0); /* again */
	CHECK_INT_EQ(a.s.live, 1);
	CHECK(consistent(&a, 48));
	/* A plain TLSF block is not the slab's. */
	void *plain = dk__tlsf_alloc(&a.t, 64, 16, 0);
	REQUIRE(plain != NULL);
	CHECK(!dk__slab_owns(plain));
	CHECK_INT_EQ(dk__slab_free(&a.s, &a.t, plain, NULL, NULL), 0);
	CHECK_INT_EQ(a.s.live, 1);
	CHECK(consistent(&a, 48 + HDR + dk__tlsf_usable_size(plain)));
	dk__tlsf_free(&a.t, plain, NULL, NULL);
	dk__slab_free(&a.s, &a.t, p[1], NULL, NULL);
	CHECK(consistent(&a, 0));
	free(a.mem);
}

DK_TEST(no_room_for_a_run_and_bad_arguments_hand_out_nothing)
{
	struct arena a;
	arena_init(&a, 8192); /* smaller than a run */
	REQUIRE(a.mem != NULL);
	void *p[4] = { NULL, NULL, NULL, NULL };
	CHECK_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, 64, p, 4), 0);
	CHECK(p[0] == NULL);
	CHECK(consistent(&a, 0));
	free(a.mem);

	arena_init(&a, 1u << 20);
	REQUIRE(a.mem != NULL);
	CHECK_INT_EQ(dk__slab_alloc(&a.s, &a.t, DK__SLAB_CLASSES, 64, p, 1), 0);
	CHECK_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, 0, p, 1), 0);
	CHECK_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, 72, p, 1), 0); /* not a multiple of 16 */
	CHECK_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, 8192, p, 1), 0);
	CHECK_INT_EQ(dk__slab_alloc(NULL, &a.t, 3, 64, p, 1), 0);
	CHECK_INT_EQ(dk__slab_free(&a.s, &a.t, NULL, NULL, NULL), 0);
	/* One payload size per class: a second size on a live class is refused. */
	REQUIRE_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, 64, p, 1), 1);
	CHECK_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, 80, &p[1], 1), 0);
	CHECK(consistent(&a, 80));
	dk__slab_free(&a.s, &a.t, p[0], NULL, NULL);
	CHECK(consistent(&a, 0));
	free(a.mem);
}

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	return dk_test_rng(&g_rng);
}

/* Random batches over several classes mixed with plain TLSF blocks; the
 * books and both layers' structures are checked after every step. */
DK_TEST(random_batches_over_classes_keep_both_layers_consistent)
{
	struct arena a;
	arena_init(&a, 16u << 20);
	REQUIRE(a.mem != NULL);
	enum { N = 3000 };
	static void *live[N];
	static size_t sz[N];
	unsigned int n = 0;
	uint64_t handed = 0;
	int bad = 0;
	static const size_t psizes[] = { 16, 48, 128, 1024, 1280, 4096 };
	for (int step = 0; step < 400 && !bad; step++) {
		if (n < N / 2 || (rnd() & 1)) {
			unsigned int cls = (unsigned int)(rnd() % 6);
			size_t psize = psizes[cls];
			unsigned int want = 1 + (unsigned int)(rnd() % 16);
			if (want > N - n)
				want = N - n;
			unsigned int got = dk__slab_alloc(&a.s, &a.t, cls, psize, &live[n], want);
			if (got != want)
				bad = 1;
			for (unsigned int i = 0; i < got; i++) {
				sz[n + i] = psize;
				fill(live[n + i], psize);
				handed += psize + HDR;
			}
			n += got;
		} else {
			unsigned int k = 1 + (unsigned int)(rnd() % 24);
			for (; k > 0 && n > 0; k--) {
				unsigned int i = (unsigned int)(rnd() % n);
				if (!verify(live[i], sz[i]))
					bad = 1;
				dk__slab_free(&a.s, &a.t, live[i], NULL, NULL);
				handed -= sz[i] + HDR;
				live[i] = live[--n];
				sz[i] = sz[n];
			}
		}
		if (!consistent(&a, handed))
			bad = 1;
	}
	CHECK_INT_EQ(bad, 0);
	while (n > 0) {
		n--;
		CHECK(verify(live[n], sz[n]));
		dk__slab_free(&a.s, &a.t, live[n], NULL, NULL);
	}
	CHECK_INT_EQ(a.s.runs, 0);
	CHECK_INT_EQ(a.t.used_count, 0);
	CHECK(consistent(&a, 0));
	free(a.mem);
}

/* A process died in the middle of a call (issue 13): the slab's own books
 * (lists, totals) are lost or stale, a free was cut short after its first
 * store. dk__slab_rebuild finds the runs among the TLSF blocks and makes
 * books that pass the check and count every block whose header is not free
 * as handed out; everything freed afterwards goes back, runs included. */
DK_TEST(rebuild_recovers_the_runs_after_a_call_cut_short)
{
	struct arena a;
	arena_init(&a, 4u << 20);
	REQUIRE(a.mem != NULL);
	void *big = dk__tlsf_alloc(&a.t, 20000, 16, 0); /* a plain block: not a run */
	REQUIRE(big != NULL);
	memset(big, 0, 20000);
	const size_t psize = 64, stride = psize + HDR;
	void *p[600];
	REQUIRE_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, psize, p, 600), 600);
	void *q[40];
	REQUIRE_INT_EQ(dk__slab_alloc(&a.s, &a.t, 75, 4096, q, 40), 40);
	for (unsigned int i = 0; i < 600; i += 2)
		dk__slab_free(&a.s, &a.t, p[i], NULL, NULL);
	uint64_t runs = a.s.runs, plain = 20000 + HDR;
	REQUIRE(runs >= 3);
	CHECK(consistent(&a, plain + 300 * stride + 40 * (4096 + HDR)));
	/* Lists and totals lost. */
	memset(a.s.partial, 0, sizeof(a.s.partial));
	a.s.live = 12345;
	a.s.free_bytes = 1;
	CHECK_INT_EQ(dk__slab_rebuild(&a.s, &a.t), runs);
	CHECK_INT_EQ(a.s.live, 300 + 40);
	CHECK(consistent(&a, plain + 300 * stride + 40 * (4096 + HDR)));
	/* The free lists work again: the freed 64 B blocks are handed out. */
	void *r[300];
	CHECK_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, psize, r, 300), 300);
	CHECK(consistent(&a, plain + 600 * stride + 40 * (4096 + HDR)));
	for (unsigned int i = 0; i < 300; i++)
		dk__slab_free(&a.s, &a.t, r[i], NULL, NULL);
	for (unsigned int i = 1; i < 600; i += 2)
		dk__slab_free(&a.s, &a.t, p[i], NULL, NULL);
	for (unsigned int i = 0; i < 40; i++)
		dk__slab_free(&a.s, &a.t, q[i], NULL, NULL);
	CHECK_INT_EQ(a.s.live, 0);
	CHECK_INT_EQ(a.s.runs, 0);
	CHECK(consistent(&a, plain));
	dk__tlsf_free(&a.t, big, NULL, NULL);
	CHECK_INT_EQ(dk__slab_rebuild(&a.s, &a.t), 0);
	CHECK_INT_EQ(a.t.used_count, 0);
	CHECK(consistent(&a, 0));
	free(a.mem);
}

/* A process dies in the middle of a slab call (issue 13): dk__slab_rebuild
 * makes the books again from the runs' headers. Cut-short states made by
 * hand: a free whose header says free but whose run still counts the block
 * and has it on no list; counters and a partial list scrambled; a run being
 * made whose descriptor was never written (s->pending). */
DK_TEST(rebuild_after_calls_cut_short)
{
	struct arena a;
	arena_init(&a, 1u << 20);
	REQUIRE(a.mem != NULL);
	void *b[40];
	REQUIRE_INT_EQ(dk__slab_alloc(&a.s, &a.t, 3, 64, b, 40), 40); /* two runs */
	void *c[5];
	REQUIRE_INT_EQ(dk__slab_alloc(&a.s, &a.t, 7, 128, c, 5), 5);
	uint64_t runs = a.s.runs;
	REQUIRE(runs == 2 || runs == 3);
	/* b[0]: freed as far as its header (the store that frees it). */
	((uint64_t *)b[0])[-1] |= 1u; /* DK__TLSF_F_FREE */
	/* The books: scrambled. */
	a.s.live = 12345;
	a.s.free_bytes = 1;
	a.s.runs = 0;
	memset(a.s.partial, 0, sizeof(a.s.partial));
	/* A run being made: a TLSF block with no descriptor yet. */
	uint64_t used_count = a.t.used_count;
	void *pend = dk__tlsf_alloc(&a.t, 16384, 16, 0);
	REQUIRE(pend != NULL);
	memset(pend, 0, 64);
	a.s.pending = pend;
	dk__slab_rebuild(&a.s, &a.t);
	CHECK_INT_EQ(a.s.runs, runs);
	CHECK_INT_EQ(a.s.live, 44); /* 40 + 5 - b[0] */
	CHECK_INT_EQ(a.t.used_count, used_count); /* the pending block went back */
	CHECK(a.s.pending == NULL);
	CHECK(consistent(&a, 39 * (64 + HDR) + 5 * (128 + HDR)));
	/* b[0] is free again: the next allocation of its class may return it,
	 * and every other block frees normally. */
	for (int i = 1; i < 40; i++)
		dk__slab_free(&a.s, &a.t, b[i], NULL, NULL);
	for (int i = 0; i < 5; i++)
		dk__slab_free(&a.s, &a.t, c[i], NULL, NULL);
	CHECK_INT_EQ(a.s.live, 0);
	CHECK_INT_EQ(a.s.runs, 0);
	CHECK_INT_EQ(a.t.used_count, 0);
	CHECK(consistent(&a, 0));
	free(a.mem);
}

/* dk__slab_alloc_chain: blocks pushed on a caller's list (link, tag), the
 * last handed out on top, counted; the same books as dk__slab_alloc. */
DK_TEST(alloc_chain_pushes_each_block_on_the_list)
{
	struct arena a;
	arena_init(&a, 4u << 20);
	REQUIRE(a.mem != NULL);
	void *head = NULL;
	unsigned int count = 0;
	const uintptr_t tag = 0x1234567u;
	uint64_t moving = 0;
	struct dk__slab_chain c = {&head, &count, tag, &moving};
	CHECK_INT_EQ(dk__slab_alloc_chain(&a.s, &a.t, 3, 64, &c, 100), 100);
	CHECK_INT_EQ(count, 100);
	CHECK(moving == (uintptr_t)head); /* each block named before it left: the last is on top */
	CHECK(consistent(&a, 100 * (64 + HDR)));
	unsigned int n = 0;
	uintptr_t prev = UINTPTR_MAX;
	int ordered = 1, tagged = 1;
	for (void *p = head; p; p = *(void **)p, n++) {
		tagged &= ((uintptr_t *)p)[1] == tag;
		ordered &= (uintptr_t)p < prev; /* carved upwards: the highest on top */
		prev = (uintptr_t)p;
	}
	CHECK_INT_EQ(n, 100);
	CHECK(tagged);
	CHECK(ordered);
	struct dk__slab_chain bad = {NULL, &count, tag, NULL};
	CHECK_INT_EQ(dk__slab_alloc_chain(&a.s, &a.t, 3, 64, &bad, 1), 0);
	CHECK_INT_EQ(dk__slab_alloc_chain(&a.s, &a.t, 3, 64, NULL, 1), 0);
	while (head) {
		void *p = head;
		head = *(void **)p;
		dk__slab_free(&a.s, &a.t, p, NULL, NULL);
	}
	CHECK_INT_EQ(a.s.runs, 0);
	CHECK(consistent(&a, 0));
	free(a.mem);
}

/* A block whose data looks like a run descriptor (the magic alone) is left
 * alone by the rebuild. */
DK_TEST(rebuild_leaves_plain_blocks_alone)
{
	struct arena a;
	arena_init(&a, 1u << 20);
	REQUIRE(a.mem != NULL);
	uint32_t *p = dk__tlsf_alloc(&a.t, 8192, 16, 0);
	REQUIRE(p != NULL);
	memset(p, 0, 8192);
	p[15] = 0x736c6162u; /* "slab" where a descriptor keeps its magic */
	dk__slab_rebuild(&a.s, &a.t);
	CHECK_INT_EQ(a.s.runs, 0);
	CHECK_INT_EQ(a.t.used_count, 1);
	CHECK(p[15] == 0x736c6162u);
	CHECK(consistent(&a, 8192 + HDR));
	free(a.mem);
}
