/* SPDX-License-Identifier: BSD-3-Clause */
/* IOVA space allocator (src/mem/iova_alloc.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem/iova_alloc.h"
#include "tap.h"

#define GiB ((uint64_t)1 << 30)

DK_TEST(init_clips_joins_and_sorts)
{
	struct dk__iova_alloc a;
	/* QEMU's intel-iommu with aw-bits 39: everything but the MSI window. */
	struct dk__iova_span r[] = {{0xfef00000, 0x7fffffffff}, {0, 0xfedfffff}};
	REQUIRE_INT_EQ(dk__iova_alloc_init(&a, r, 2, 0x100000, UINT64_MAX), 0);
	CHECK_INT_EQ(a.n, 2);
	CHECK_INT_EQ(a.free[0].start, 0x100000);
	CHECK_INT_EQ(a.free[0].end, 0xfedfffff);
	CHECK_INT_EQ(a.free[1].start, 0xfef00000);
	CHECK_INT_EQ(dk__iova_alloc_free_bytes(&a),
		     (0xfedfffffull - 0x100000 + 1) + (0x7fffffffffull - 0xfef00000 + 1));
	/* Adjacent and overlapping ranges become one. */
	struct dk__iova_span r2[] = {{100, 199}, {200, 299}, {150, 250}, {400, 500}};
	REQUIRE_INT_EQ(dk__iova_alloc_init(&a, r2, 4, 0, 450), 0);
	CHECK_INT_EQ(a.n, 2);
	CHECK_INT_EQ(a.free[0].start, 100);
	CHECK_INT_EQ(a.free[0].end, 299);
	CHECK_INT_EQ(a.free[1].end, 450); /* clipped to the limit */
	/* Bad input. */
	struct dk__iova_span bad[] = {{10, 5}};
	CHECK_INT_EQ(dk__iova_alloc_init(&a, bad, 1, 0, UINT64_MAX), -EINVAL);
	CHECK_INT_EQ(dk__iova_alloc_init(&a, r2, 4, 600, UINT64_MAX), -EINVAL); /* nothing left */
	CHECK_INT_EQ(dk__iova_alloc_init(NULL, r2, 4, 0, UINT64_MAX), -EINVAL);
	CHECK_INT_EQ(dk__iova_alloc_init(&a, NULL, 1, 0, UINT64_MAX), -EINVAL);
	CHECK_INT_EQ(dk__iova_alloc_init(&a, r2, 4, 10, 5), -EINVAL);
}

DK_TEST(get_is_first_fit_aligned_and_skips_holes)
{
	struct dk__iova_alloc a;
	struct dk__iova_span r[] = {{0, 0xfedfffff}, {0xfef00000, 0x7fffffffff}};
	REQUIRE_INT_EQ(dk__iova_alloc_init(&a, r, 2, 0x100000, UINT64_MAX), 0);
	uint64_t v;
	REQUIRE_INT_EQ(dk__iova_alloc_get(&a, 64 * GiB, GiB, &v), 0);
	CHECK_INT_EQ(v, 4 * GiB); /* the first GiB-aligned 64 GiB without the hole */
	REQUIRE_INT_EQ(dk__iova_alloc_get(&a, 2 << 20, 2 << 20, &v), 0);
	CHECK_INT_EQ(v, 2 << 20); /* low space is used too */
	uint64_t w;
	REQUIRE_INT_EQ(dk__iova_alloc_get(&a, 64 * GiB, GiB, &w), 0);
	CHECK_INT_EQ(w, 68 * GiB);
	/* Fill to the end of 39 bits: 512 GiB. */
	int k = 0;
	while (dk__iova_alloc_get(&a, 64 * GiB, GiB, &w) == 0)
		k++;
	CHECK_INT_EQ(k, 5); /* 132..452 GiB: 5 more; 452+64 > 512 */
	CHECK_INT_EQ(dk__iova_alloc_get(&a, 64 * GiB, GiB, &w), -ENOSPC);
	CHECK_INT_EQ(dk__iova_alloc_get(&a, 0, 4096, &w), -EINVAL);
	CHECK_INT_EQ(dk__iova_alloc_get(&a, 4096, 3, &w), -EINVAL);
	/* Nothing handed out crosses the MSI window. */
	REQUIRE_INT_EQ(dk__iova_alloc_init(&a, r, 2, 0xfe000000, UINT64_MAX), 0);
	REQUIRE_INT_EQ(dk__iova_alloc_get(&a, 4 << 20, 4096, &v), 0);
	CHECK(v + (4 << 20) <= 0xfee00000 || v >= 0xfef00000);
	REQUIRE_INT_EQ(dk__iova_alloc_get(&a, 16 << 20, 4096, &v), 0);
	CHECK_INT_EQ(v, 0xfef00000); /* 16 MiB do not fit below the window */
}

DK_TEST(reserve_and_put_merge_back)
{
	struct dk__iova_alloc a;
	struct dk__iova_span r[] = {{0x1000, 0xffffff}};
	REQUIRE_INT_EQ(dk__iova_alloc_init(&a, r, 1, 0, UINT64_MAX), 0);
	CHECK_INT_EQ(dk__iova_alloc_reserve(&a, 0x100000, 0x1000), 0);
	CHECK_INT_EQ(a.n, 2);
	CHECK_INT_EQ(dk__iova_alloc_reserve(&a, 0x100000, 0x1000), -EEXIST);
	CHECK_INT_EQ(dk__iova_alloc_reserve(&a, 0xfff000, 0x2000), -EEXIST); /* beyond the end */
	CHECK_INT_EQ(dk__iova_alloc_reserve(&a, 0x1000, 0), -EINVAL);
	CHECK_INT_EQ(dk__iova_alloc_reserve(&a, UINT64_MAX - 10, 100), -EINVAL);
	CHECK_INT_EQ(dk__iova_alloc_put(&a, 0x200000, 0x1000), -EINVAL); /* free already */
	CHECK_INT_EQ(dk__iova_alloc_put(&a, 0x100000, 0x1000), 0);
	CHECK_INT_EQ(a.n, 1);
	CHECK_INT_EQ(a.free[0].start, 0x1000);
	CHECK_INT_EQ(a.free[0].end, 0xffffff);
	CHECK_INT_EQ(dk__iova_alloc_put(&a, 0x100000, 0x1000), -EINVAL); /* double free */
}

DK_TEST(interval_table_full_is_enospc_and_keeps_state)
{
	struct dk__iova_alloc a;
	struct dk__iova_span r[] = {{0, 0xfffffff}};
	REQUIRE_INT_EQ(dk__iova_alloc_init(&a, r, 1, 0, UINT64_MAX), 0);
	/* Punch holes until the table is full. */
	int i = 0;
	while (a.n < DK__IOVA_ALLOC_MAX)
		REQUIRE_INT_EQ(dk__iova_alloc_reserve(&a, 0x10000 + (uint64_t)i++ * 0x20000, 0x1000), 0);
	struct dk__iova_alloc before = a;
	CHECK_INT_EQ(dk__iova_alloc_reserve(&a, 0x8000000, 0x1000), -ENOSPC);
	CHECK(memcmp(&a, &before, sizeof(a)) == 0);
	/* A get that needs a split skips to an interval it can take whole or at an edge. */
	uint64_t v;
	CHECK_INT_EQ(dk__iova_alloc_get(&a, 0x1000, 0x1000, &v), 0);
	CHECK_INT_EQ(v, 0);
}

/* Random operations against a page bitmap model of a 4 MiB space. */
DK_TEST(random_against_a_model)
{
	enum { PAGES = 1024, PG = 4096 };
	static unsigned char used[PAGES];
	/* At most 40 live pieces: at most 41 intervals, so the table never
	 * fills and first fit is exact. */
	struct { uint64_t iova, len; } live[40];
	int nlive = 0;
	struct dk__iova_alloc a;
	struct dk__iova_span r[] = {{0, PAGES * PG - 1}};
	REQUIRE_INT_EQ(dk__iova_alloc_init(&a, r, 1, 0, UINT64_MAX), 0);
	memset(used, 0, sizeof(used));
	unsigned int seed = 12345;
	for (int step = 0; step < 100000; step++) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 2 && nlive < 40) {
			uint64_t len = (1 + (seed >> 20) % 16) * PG;
			uint64_t align = (uint64_t)PG << ((seed >> 8) % 4);
			uint64_t v;
			int rc = dk__iova_alloc_get(&a, len, align, &v);
			/* The model: first aligned fit. */
			long want = -1;
			for (uint64_t p = 0; p + len / PG <= PAGES && want < 0; p += align / PG) {
				int ok = 1;
				for (uint64_t q = p; q < p + len / PG && ok; q++)
					ok = !used[q];
				if (ok)
					want = (long)p;
			}
			if (want < 0) {
				REQUIRE_INT_EQ(rc, -ENOSPC);
				continue;
			}
			REQUIRE_INT_EQ(rc, 0);
			REQUIRE_INT_EQ(v, (uint64_t)want * PG);
			for (uint64_t q = v / PG; q < (v + len) / PG; q++)
				used[q] = 1;
			live[nlive].iova = v;
			live[nlive++].len = len;
		} else if (nlive) {
			int k = (int)((seed >> 4) % (unsigned int)nlive);
			REQUIRE_INT_EQ(dk__iova_alloc_put(&a, live[k].iova, live[k].len), 0);
			for (uint64_t q = live[k].iova / PG; q < (live[k].iova + live[k].len) / PG; q++)
				used[q] = 0;
			live[k] = live[--nlive];
		}
		/* Free bytes agree with the model. */
		uint64_t fb = 0;
		for (int q = 0; q < PAGES; q++)
			fb += used[q] ? 0 : PG;
		REQUIRE_INT_EQ(dk__iova_alloc_free_bytes(&a), fb);
	}
}
