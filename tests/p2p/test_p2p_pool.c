/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/p2p/p2p_pool.c: the page pool's properties under random
 * alloc/free checked against a page map kept here (no overlap, inside the
 * pool, free count exact, everything back after freeing: one run again),
 * splitting and merging on both sides, and the refused frees (interior
 * page, wrong length, double free, beyond the pool) changing nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_pool.h"
#include "tap.h"

DK_TEST(init_rejects_bad_sizes)
{
	struct dk__p2p_pool p;
	CHECK_INT_EQ(dk__p2p_pool_init(&p, 0), -EINVAL);
	CHECK_INT_EQ(dk__p2p_pool_init(&p, (1ull << 31) + 1), -EINVAL);
	REQUIRE_INT_EQ(dk__p2p_pool_init(&p, 1), 0);
	CHECK_INT_EQ(dk__p2p_pool_alloc(&p, 1), 0);
	CHECK_INT_EQ(dk__p2p_pool_alloc(&p, 1), -ENOMEM);
	CHECK_INT_EQ(dk__p2p_pool_alloc(&p, 2), -EINVAL);
	CHECK_INT_EQ(dk__p2p_pool_alloc(&p, 0), -EINVAL);
	CHECK_INT_EQ(dk__p2p_pool_free(&p, 0, 1, NULL), 0);
	CHECK_INT_EQ(p.free_pages, 1);
	dk__p2p_pool_fini(&p);
}

DK_TEST(split_and_merge_both_sides)
{
	struct dk__p2p_pool p;
	REQUIRE_INT_EQ(dk__p2p_pool_init(&p, 64), 0);
	int64_t a = dk__p2p_pool_alloc(&p, 8), b = dk__p2p_pool_alloc(&p, 8),
		c = dk__p2p_pool_alloc(&p, 8);
	CHECK_INT_EQ(a, 0);
	CHECK_INT_EQ(b, 8);
	CHECK_INT_EQ(c, 16);
	CHECK_INT_EQ(p.free_pages, 40);
	CHECK_INT_EQ(dk__p2p_pool_largest(&p), 40);
	CHECK_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)a, 8, NULL), 0);
	CHECK_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)c, 8, NULL), 0); /* merges with the tail */
	CHECK_INT_EQ(dk__p2p_pool_largest(&p), 48);
	CHECK_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)b, 8, NULL), 0); /* merges both sides */
	CHECK_INT_EQ(dk__p2p_pool_largest(&p), 64);
	CHECK_INT_EQ(p.free_pages, 64);
	CHECK_INT_EQ(p.nr_allocs, 0);
	/* a hole of 8 between two allocations takes an 8-page request */
	a = dk__p2p_pool_alloc(&p, 8);
	b = dk__p2p_pool_alloc(&p, 8);
	c = dk__p2p_pool_alloc(&p, 8);
	CHECK_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)b, 8, NULL), 0);
	CHECK_INT_EQ(dk__p2p_pool_alloc(&p, 5), b); /* first fit in its class */
	dk__p2p_pool_fini(&p);
}

DK_TEST(bad_frees_change_nothing)
{
	struct dk__p2p_pool p;
	REQUIRE_INT_EQ(dk__p2p_pool_init(&p, 32), 0);
	int64_t a = dk__p2p_pool_alloc(&p, 4);
	REQUIRE(a >= 0);
	uint64_t actual = 0;
	CHECK_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)a, 3, &actual), -ERANGE);
	CHECK_INT_EQ(actual, 4);
	CHECK_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)a + 1, 1, NULL), -EINVAL); /* interior */
	CHECK_INT_EQ(dk__p2p_pool_free(&p, 10, 1, NULL), -EINVAL);              /* free page */
	CHECK_INT_EQ(dk__p2p_pool_free(&p, 32, 1, NULL), -EINVAL);              /* beyond */
	CHECK_INT_EQ(p.free_pages, 28);
	CHECK_INT_EQ(p.nr_allocs, 1);
	CHECK_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)a, 4, NULL), 0);
	CHECK_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)a, 4, NULL), -EINVAL); /* double free */
	CHECK_INT_EQ(p.free_pages, 32);
	CHECK_INT_EQ(dk__p2p_pool_largest(&p), 32);
	dk__p2p_pool_fini(&p);
}

#define NPAGES 4096
#define SLOTS 512

struct slot {
	int64_t first;
	uint64_t n;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random sizes: mostly small, some large, a few powers of two. */
static uint64_t pick_size(uint64_t *s)
{
	uint64_t r = rnd(s) % 100;
	if (r < 70)
		return 1 + rnd(s) % 8;
	if (r < 90)
		return 1ull << (rnd(s) % 7);
	return 1 + rnd(s) % 300;
}

DK_TEST(random_alloc_free_keeps_every_property)
{
	static uint8_t owner[NPAGES]; /* 0 free, else slot + 1 */
	struct slot slots[SLOTS];
	struct dk__p2p_pool p;
	REQUIRE_INT_EQ(dk__p2p_pool_init(&p, NPAGES), 0);
	memset(owner, 0, sizeof(owner));
	for (int i = 0; i < SLOTS; i++)
		slots[i].first = -1;
	uint64_t seed = 0x9e3779b97f4a7c15ull, used = 0, ops = 0, fails = 0;
	for (int it = 0; it < 200000; it++) {
		int i = (int)(rnd(&seed) % SLOTS);
		struct slot *sl = &slots[i];
		if (sl->first < 0) {
			uint64_t n = pick_size(&seed);
			int64_t f = dk__p2p_pool_alloc(&p, n);
			if (f == -ENOMEM) {
				fails++;
				CHECK(dk__p2p_pool_largest(&p) < n);
				continue;
			}
			REQUIRE(f >= 0);
			REQUIRE((uint64_t)f + n <= NPAGES);
			for (uint64_t k = 0; k < n; k++) {
				REQUIRE(owner[f + (int64_t)k] == 0); /* no overlap */
				owner[f + (int64_t)k] = (uint8_t)(i % 255 + 1);
			}
			sl->first = f;
			sl->n = n;
			used += n;
		} else {
			REQUIRE_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)sl->first, sl->n, NULL), 0);
			memset(&owner[sl->first], 0, sl->n);
			used -= sl->n;
			sl->first = -1;
		}
		ops++;
		REQUIRE_INT_EQ(p.free_pages, NPAGES - used); /* accounting exact */
	}
	CHECK(fails > 0); /* the pool was full at times: the workload reached its edge */
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].first >= 0)
			REQUIRE_INT_EQ(dk__p2p_pool_free(&p, (uint64_t)slots[i].first, slots[i].n, NULL), 0);
	CHECK_INT_EQ(p.free_pages, NPAGES);
	CHECK_INT_EQ(p.nr_allocs, 0);
	CHECK_INT_EQ(dk__p2p_pool_largest(&p), NPAGES); /* merged back into one run */
	CHECK(ops > 100000);
	dk__p2p_pool_fini(&p);
}
