/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memseg lists and IOVA translation (src/mem/memseg.c). Lists are made up
 * directly with dk__memseg_list_create at addresses nothing maps: the layout
 * never touches the memory it describes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <dmakit/memory.h>

#include "mem/memseg.h"
#include "tap.h"

#define KiB4 ((size_t)4096)
#define MiB2 ((size_t)2 << 20)
#define GiB  ((uintptr_t)1 << 30)
/* 16 TiB: a 1 GiB-aligned area with nothing of ours in it. */
#define AREA ((uintptr_t)1 << 44)
#define BAD  DK_BAD_IOVA
/* A list of no heap, IOVA = VA. */
#define CONTIG(b, l, pg)                                                                       \
	(&(struct dk__memseg_spec){.base = (b), .len = (l), .page_sz = (pg), .heap_idx = -1,    \
				   .iova_contig = 1})

static void reset(void)
{
	dk__memseg_cleanup();
}

static struct dk__memseg_list *mk(uintptr_t base, size_t len, size_t pg, const dk_iova_t *iova,
				  int contig, int64_t delta, uint32_t flags)
{
	struct dk__memseg_list *l = NULL;
	struct dk__memseg_spec s = {.base = base, .len = len, .page_sz = pg, .flags = flags,
				    .heap_idx = -1, .iova = iova, .iova_contig = contig, .delta = delta};
	int rc = dk__memseg_list_create(&s, &l);
	return rc == 0 ? l : NULL;
}

static dk_iova_t v2i(uintptr_t a)
{
	return dk_mem_virt2iova((const void *)a);
}

static int is_shared(uintptr_t a)
{
	const struct dk__iova_slot *s = dk__iova_l1[a >> DK__IOVA_L1_SHIFT];
	return s && s->end == 0;
}

DK_TEST(create_geometry_errors)
{
	reset();
	struct dk__memseg_list *l;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA + 1, KiB4, KiB4), &l),
		     -EINVAL);
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA, 0, KiB4), &l), -EINVAL);
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA, KiB4 + 1, KiB4), &l),
		     -EINVAL);
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(0, KiB4, KiB4), &l), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "align the range");
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA, KiB4, 0), &l), -EINVAL);
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA, 3 * KiB4, 3 * KiB4), &l),
		     -EINVAL);
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA, 2048, 2048), &l), -EINVAL);
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA, 2 * GiB, 2 * GiB), &l),
		     -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "power of two");
	/* At and across 2^47, where the inline lookup cannot reach. */
	dk_test_log_capture_start();
	uintptr_t top = (uintptr_t)1 << 47;
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(top, KiB4, KiB4), &l), -EINVAL);
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(top - KiB4, 2 * KiB4, KiB4), &l),
		     -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "2^47");
	/* The last page below 2^47 is fine. */
	struct dk__memseg_spec last = *CONTIG(top - KiB4, KiB4, KiB4);
	last.delta = 5;
	CHECK_INT_EQ(dk__memseg_list_create(&last, &l), 0);
	CHECK(v2i(top - KiB4 + 7) == top - KiB4 + 12);
	CHECK(v2i(top) == BAD);
	reset();
}

DK_TEST(create_overlap_eexist)
{
	reset();
	REQUIRE(mk(AREA + 16 * KiB4, 8 * KiB4, KiB4, NULL, 1, 0, DK_MEMSEG_EXTERNAL));
	dk_test_log_capture_start();
	struct dk__memseg_list *l;
	CHECK_INT_EQ(
	    dk__memseg_list_create(CONTIG(AREA + 20 * KiB4, 8 * KiB4, KiB4), &l),
	    -EEXIST);
	CHECK_INT_EQ(
	    dk__memseg_list_create(CONTIG(AREA + 8 * KiB4, 9 * KiB4, KiB4), &l),
	    -EEXIST);
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA, MiB2, MiB2), &l), -EEXIST);
	/* The message names the range that is in the way. */
	CHECK_STR_CONTAINS(dk_test_log_captured(),
			   "overlaps external memory [0x100000010000, +0x8000)");
	/* Adjacent on both sides is fine. */
	CHECK(mk(AREA + 8 * KiB4, 8 * KiB4, KiB4, NULL, 1, 0, 0) != NULL);
	CHECK(mk(AREA + 24 * KiB4, 8 * KiB4, KiB4, NULL, 1, 0, 0) != NULL);
	reset();
}

DK_TEST(table_full_enospc)
{
	reset();
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		REQUIRE(mk(AREA + i * 2 * KiB4, KiB4, KiB4, NULL, 1, 0, 0) != NULL);
	dk_test_log_capture_start();
	struct dk__memseg_list *l;
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA + GiB, KiB4, KiB4), &l),
		     -ENOSPC);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "all 256 memseg lists are in use");
	/* 256 lists share one window: the slow path finds each. */
	CHECK(is_shared(AREA));
	CHECK(v2i(AREA + 200 * 2 * KiB4 + 9) == AREA + 200 * 2 * KiB4 + 9);
	CHECK(v2i(AREA + 200 * 2 * KiB4 + KiB4) == BAD);
	/* Freeing one makes room again. */
	dk__memseg_list_destroy(dk__memseg_list_find((void *)(AREA + 2 * KiB4)));
	CHECK(mk(AREA + GiB, KiB4, KiB4, NULL, 1, 0, 0) != NULL);
	reset();
}

DK_TEST(virt2iova_per_page_table)
{
	reset();
	dk_iova_t t[4] = {0x10000000, 0x50000000, BAD, 0x2000};
	uintptr_t b = AREA + 3 * GiB;
	struct dk__memseg_list *l = mk(b, 4 * KiB4, KiB4, t, 0, 0, DK_MEMSEG_EXTERNAL);
	REQUIRE(l);
	CHECK(l->iova != NULL && l->iova != t); /* copied */
	CHECK(v2i(b) == 0x10000000);
	CHECK(v2i(b + 0xfff) == 0x10000fff);
	CHECK(v2i(b + KiB4 + 0x123) == 0x50000123);
	CHECK(v2i(b + 2 * KiB4) == BAD);
	CHECK(v2i(b + 2 * KiB4 + 0xabc) == BAD);
	CHECK(v2i(b + 3 * KiB4 + 8) == 0x2008);
	CHECK(v2i(b + 4 * KiB4) == BAD);
	CHECK(v2i(b - 1) == BAD);
	/* Hugepage-sized pages: the offset inside a page carries over. */
	dk_iova_t h[2] = {0x40000000, 0x7fe00000};
	REQUIRE(mk(AREA + 5 * GiB, 2 * MiB2, MiB2, h, 0, 0, DK_MEMSEG_EXTERNAL));
	CHECK(v2i(AREA + 5 * GiB + MiB2 + 0x1fffff) == 0x7fffffff);
	reset();
}

DK_TEST(virt2iova_contig_delta)
{
	reset();
	uintptr_t b = AREA + 7 * GiB + 5 * MiB2;
	/* A 3 GiB list: every window it touches points to its slot. */
	struct dk__memseg_list *l =
	    mk(b, 3 * GiB, MiB2, NULL, 1, -(int64_t)AREA, DK_MEMSEG_EXTERNAL);
	REQUIRE(l);
	CHECK(l->iova == NULL);
	/* Published as a one-entry table covering the whole list. */
	CHECK(l->slot.iova == &l->base_iova && l->base_iova == b - AREA);
	CHECK_INT_EQ(l->slot.page_shift, 47);
	for (uintptr_t w = b; w < b + 3 * GiB; w += GiB)
		CHECK(dk__iova_l1[w >> 30] == &l->slot);
	CHECK(dk__iova_l1[(b + 3 * GiB - 1) >> 30] == &l->slot);
	CHECK(v2i(b) == b - AREA);
	CHECK(v2i(b + 3 * GiB - 1) == b + 3 * GiB - 1 - AREA);
	CHECK(v2i(b + 3 * GiB) == BAD);
	CHECK(v2i(b - 1) == BAD);
	/* IOVA = VA (delta 0), the VA mode case. */
	REQUIRE(mk(AREA + 12 * GiB, KiB4, KiB4, NULL, 1, 0, DK_MEMSEG_EXTERNAL));
	CHECK(v2i(AREA + 12 * GiB + 77) == AREA + 12 * GiB + 77);
	reset();
}

DK_TEST(virt2iova_unknown)
{
	reset();
	CHECK(dk_mem_virt2iova(NULL) == BAD);
	CHECK(v2i(AREA) == BAD);
	CHECK(v2i((uintptr_t)1 << 47) == BAD);
	CHECK(v2i(UINTPTR_MAX) == BAD);
	CHECK(v2i(((uintptr_t)1 << 47) + AREA) == BAD); /* would alias AREA's window */
	REQUIRE(mk(AREA, KiB4, KiB4, NULL, 1, 0, DK_MEMSEG_EXTERNAL));
	CHECK(v2i(AREA) == AREA);
	CHECK(v2i(((uintptr_t)1 << 47) + AREA) == BAD);
	CHECK(v2i(((uintptr_t)1 << 48) + AREA) == BAD);
	CHECK(v2i(AREA + KiB4) == BAD); /* same window, outside the list: slow path */
	CHECK(v2i(AREA + GiB - 1) == BAD);
	/* A list without a table and not contiguous: every page BAD. */
	REQUIRE(mk(AREA + GiB, 4 * KiB4, KiB4, NULL, 0, 0, DK_MEMSEG_EXTERNAL));
	CHECK(v2i(AREA + GiB + 5) == BAD);
	reset();
}

DK_TEST(two_lists_one_window_slow_then_fast)
{
	reset();
	uintptr_t w = AREA + 20 * GiB;
	dk_iova_t ta[2] = {0x1000, 0x3000};
	struct dk__memseg_list *a = mk(w + 16 * KiB4, 2 * KiB4, KiB4, ta, 0, 0, DK_MEMSEG_EXTERNAL);
	REQUIRE(a);
	CHECK(dk__iova_l1[w >> 30] == &a->slot);
	/* b spans the end of window w and the start of w + 1 GiB. */
	struct dk__memseg_list *b =
	    mk(w + GiB - MiB2, 2 * MiB2, MiB2, NULL, 1, 0x100000, DK_MEMSEG_EXTERNAL);
	REQUIRE(b);
	CHECK(is_shared(w));
	CHECK(dk__iova_l1[(w + GiB) >> 30] == &b->slot);
	CHECK(v2i(w + 16 * KiB4 + 1) == 0x1001);
	CHECK(v2i(w + 17 * KiB4 + 2) == 0x3002);
	CHECK(v2i(w + GiB - MiB2 + 3) == w + GiB - MiB2 + 3 + 0x100000);
	CHECK(v2i(w + GiB + 4) == w + GiB + 4 + 0x100000);
	CHECK(v2i(w) == BAD);
	CHECK(dk__memseg_list_find((void *)(w + 16 * KiB4)) == a);
	CHECK(dk__memseg_list_find((void *)(w + GiB - 1)) == b);
	CHECK(dk__memseg_list_find((void *)w) == NULL);
	/* A third list in the same window, then back down. */
	struct dk__memseg_list *c = mk(w + 64 * KiB4, KiB4, KiB4, NULL, 1, 0, DK_MEMSEG_EXTERNAL);
	REQUIRE(c);
	CHECK(is_shared(w));
	dk__memseg_list_destroy(c);
	CHECK(is_shared(w));
	dk__memseg_list_destroy(b);
	/* One list left: its own slot again, lookups on the fast path. */
	CHECK(dk__iova_l1[w >> 30] == &a->slot);
	CHECK(dk__iova_l1[(w + GiB) >> 30] == NULL);
	CHECK(v2i(w + 16 * KiB4 + 1) == 0x1001);
	CHECK(v2i(w + GiB - 1) == BAD);
	CHECK(v2i(w + GiB + 4) == BAD);
	dk__memseg_list_destroy(a);
	CHECK(dk__iova_l1[w >> 30] == NULL);
	CHECK(v2i(w + 16 * KiB4 + 1) == BAD);
	reset();
}

DK_TEST(find_and_find_exact)
{
	reset();
	struct dk__memseg_list *a = mk(AREA, 4 * KiB4, KiB4, NULL, 1, 0, DK_MEMSEG_EXTERNAL);
	REQUIRE(a);
	CHECK(dk__memseg_list_find((void *)(AREA + 3 * KiB4 + 100)) == a);
	CHECK(dk__memseg_list_find((void *)(AREA + 4 * KiB4)) == NULL);
	CHECK(dk__memseg_list_find((void *)((uintptr_t)1 << 47)) == NULL);
	CHECK(dk__memseg_list_find_exact(AREA, 4 * KiB4) == a);
	CHECK(dk__memseg_list_find_exact(AREA, 3 * KiB4) == NULL);
	CHECK(dk__memseg_list_find_exact(AREA + KiB4, 3 * KiB4) == NULL);
	reset();
}

DK_TEST(attach_detach)
{
	reset();
	dk_iova_t t[2] = {0x8000, 0x9000};
	struct dk__memseg_list *a = mk(AREA, 2 * KiB4, KiB4, t, 0, 0, DK_MEMSEG_EXTERNAL);
	REQUIRE(a);
	CHECK(dk__memseg_list_attached(a));
	CHECK_INT_EQ(dk__memseg_list_attach(a), -EEXIST);
	dk__memseg_list_detach(a);
	CHECK(!dk__memseg_list_attached(a));
	CHECK(v2i(AREA + 5) == BAD);
	CHECK(dk__memseg_list_find((void *)AREA) == NULL);
	CHECK(dk__memseg_list_find_exact(AREA, 2 * KiB4) == a);
	struct dk_memseg ms;
	CHECK_INT_EQ(dk_mem_virt2memseg((void *)AREA, &ms), -ENOENT);
	/* Still in the layout: overlapping it is refused. */
	struct dk__memseg_list *l;
	CHECK_INT_EQ(dk__memseg_list_create(CONTIG(AREA, KiB4, KiB4), &l), -EEXIST);
	CHECK_INT_EQ(dk__memseg_list_attach(a), 0);
	CHECK(v2i(AREA + KiB4 + 5) == 0x9005);
	reset();
}

DK_TEST(virt2memseg_fields)
{
	reset();
	dk_iova_t t[3] = {0x4000, BAD, 0x2000};
	struct dk__memseg_list *l = NULL;
	struct dk__memseg_spec s = {.base = AREA, .len = 3 * KiB4, .page_sz = KiB4, .socket_id = 300,
				    .flags = DK_MEMSEG_EXTERNAL | DK_MEMSEG_HEAP, .heap_idx = 4,
				    .iova = t};
	REQUIRE_INT_EQ(dk__memseg_list_create(&s, &l),
		       0);
	struct dk_memseg ms;
	REQUIRE_INT_EQ(dk_mem_virt2memseg((void *)(AREA + 2 * KiB4 + 9), &ms), 0);
	CHECK(ms.addr == (void *)(AREA + 2 * KiB4));
	CHECK(ms.iova == 0x2000);
	CHECK_INT_EQ(ms.len, KiB4);
	CHECK_INT_EQ(ms.socket_id, 300);
	CHECK_INT_EQ(ms.flags, DK_MEMSEG_EXTERNAL | DK_MEMSEG_HEAP);
	/* An external page without IOVA is still known memory. */
	REQUIRE_INT_EQ(dk_mem_virt2memseg((void *)(AREA + KiB4), &ms), 0);
	CHECK(ms.iova == BAD);
	CHECK_INT_EQ(dk_mem_virt2memseg((void *)(AREA + 3 * KiB4), &ms), -ENOENT);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mem_virt2memseg(NULL, &ms), -EINVAL);
	CHECK_INT_EQ(dk_mem_virt2memseg((void *)AREA, NULL), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_mem_virt2memseg: NULL");
	reset();
}

/* Internal lists: pages without IOVA are not mapped, so nothing knows them. */
DK_TEST(internal_list_pages_and_lazy_table)
{
	reset();
	/* 64 GiB of 4 KiB pages: the table is filled in 1 GiB steps. */
	uintptr_t b = AREA + 64 * GiB;
	struct dk__memseg_list *l = mk(b, 64 * GiB, KiB4, NULL, 0, 0, DK_MEMSEG_HEAP);
	REQUIRE(l);
	CHECK_INT_EQ(l->iova_init, 0);
	CHECK(l->slot.end == b);
	CHECK(v2i(b + 5 * GiB) == BAD);
	struct dk_memseg ms;
	CHECK_INT_EQ(dk_mem_virt2memseg((void *)(b + 5 * GiB), &ms), -ENOENT);
	unsigned int first = (unsigned int)((5 * GiB + 3 * KiB4) / KiB4);
	dk_iova_t io[2] = {0x777000, 0x999000};
	dk__memseg_set_iova(l, first, 2, io);
	CHECK_INT_EQ(l->iova_init, (6 * GiB) / KiB4);
	CHECK(l->slot.end == b + 6 * GiB);
	CHECK(v2i(b + 5 * GiB + 3 * KiB4 + 1) == 0x777001);
	CHECK(v2i(b + 5 * GiB + 4 * KiB4 + 2) == 0x999002);
	CHECK(v2i(b + 5 * GiB + 5 * KiB4) == BAD);
	CHECK(v2i(b) == BAD);
	CHECK(v2i(b + 6 * GiB) == BAD); /* past the filled part: slow path */
	CHECK(v2i(b + 63 * GiB) == BAD);
	CHECK_INT_EQ(dk_mem_virt2memseg((void *)(b + 5 * GiB + 3 * KiB4), &ms), 0);
	CHECK_INT_EQ(dk_mem_virt2memseg((void *)(b + 5 * GiB + 5 * KiB4), &ms), -ENOENT);
	/* Back to unmapped. */
	dk__memseg_set_iova(l, first, 2, NULL);
	CHECK(v2i(b + 5 * GiB + 3 * KiB4 + 1) == BAD);
	CHECK_INT_EQ(dk_mem_virt2memseg((void *)(b + 5 * GiB + 3 * KiB4), &ms), -ENOENT);
	/* A list that is all delta has no table to set. */
	struct dk__memseg_list *d = mk(AREA, KiB4, KiB4, NULL, 1, 0, 0);
	REQUIRE(d);
	dk_test_log_capture_start();
	dk__memseg_set_iova(d, 0, 1, io);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "without a page table");
	dk__memseg_set_iova(l, l->n_pages, 1, io);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "internal error");
	reset();
}

struct walk_rec {
	int n;
	uintptr_t addr[64];
	dk_iova_t iova[64];
	size_t len[64];
	int stop_at;
	int ret;
};

static int walk_cb(const struct dk_memseg *ms, void *arg)
{
	struct walk_rec *r = arg;
	if (r->n < 64) {
		r->addr[r->n] = (uintptr_t)ms->addr;
		r->iova[r->n] = ms->iova;
		r->len[r->n] = ms->len;
	}
	r->n++;
	return r->n == r->stop_at ? r->ret : 0;
}

static int contig_cb(const struct dk_memseg *first, size_t len, void *arg)
{
	struct walk_rec *r = arg;
	if (r->n < 64) {
		r->addr[r->n] = (uintptr_t)first->addr;
		r->iova[r->n] = first->iova;
		r->len[r->n] = len;
	}
	r->n++;
	return r->n == r->stop_at ? r->ret : 0;
}

DK_TEST(memseg_walk_order_and_stop)
{
	reset();
	/* Created out of VA order; walked in VA order. */
	dk_iova_t t[2] = {0x5000, BAD};
	REQUIRE(mk(AREA + 2 * GiB, 2 * KiB4, KiB4, t, 0, 0, DK_MEMSEG_EXTERNAL));
	REQUIRE(mk(AREA, 2 * MiB2, MiB2, NULL, 1, 0x1000, DK_MEMSEG_EXTERNAL));
	struct dk__memseg_list *in = mk(AREA + GiB, 4 * KiB4, KiB4, NULL, 0, 0, DK_MEMSEG_HEAP);
	REQUIRE(in);
	dk_iova_t io = 0xabc000;
	dk__memseg_set_iova(in, 2, 1, &io); /* one mapped page of four */

	struct walk_rec r = {0};
	CHECK_INT_EQ(dk_memseg_walk(walk_cb, &r), 0);
	REQUIRE_INT_EQ(r.n, 5);
	CHECK(r.addr[0] == AREA && r.iova[0] == AREA + 0x1000 && r.len[0] == MiB2);
	CHECK(r.addr[1] == AREA + MiB2);
	CHECK(r.addr[2] == AREA + GiB + 2 * KiB4 && r.iova[2] == 0xabc000);
	CHECK(r.addr[3] == AREA + 2 * GiB && r.iova[3] == 0x5000);
	CHECK(r.addr[4] == AREA + 2 * GiB + KiB4 && r.iova[4] == BAD);

	struct walk_rec s = {.stop_at = 2, .ret = 7};
	CHECK_INT_EQ(dk_memseg_walk(walk_cb, &s), 7);
	CHECK_INT_EQ(s.n, 2);
	struct walk_rec e = {.stop_at = 3, .ret = -EIO};
	CHECK_INT_EQ(dk_memseg_walk(walk_cb, &e), -EIO);
	CHECK_INT_EQ(e.n, 3);
	CHECK_INT_EQ(dk_memseg_walk(NULL, NULL), -EINVAL);
	CHECK_INT_EQ(dk_memseg_contig_walk(NULL, NULL), -EINVAL);
	reset();
	struct walk_rec z = {0};
	CHECK_INT_EQ(dk_memseg_walk(walk_cb, &z), 0);
	CHECK_INT_EQ(z.n, 0);
}

DK_TEST(contig_walk_splits_where_iova_jumps)
{
	reset();
	/* pages: 0x10000 0x11000 0x12000 | 0x40000 | BAD BAD | 0x41000 0x42000 */
	dk_iova_t t[8] = {0x10000, 0x11000, 0x12000, 0x40000, BAD, BAD, 0x41000, 0x42000};
	REQUIRE(mk(AREA, 8 * KiB4, KiB4, t, 0, 0, DK_MEMSEG_EXTERNAL));
	/* A VA-adjacent list continues in IOVA but is another list: new chunk. */
	REQUIRE(mk(AREA + 8 * KiB4, 4 * KiB4, KiB4, NULL, 1, 0x43000 - (int64_t)(AREA + 8 * KiB4),
		   DK_MEMSEG_EXTERNAL));
	/* Internal list: unmapped pages are not chunks. */
	struct dk__memseg_list *in = mk(AREA + GiB, 8 * KiB4, KiB4, NULL, 0, 0, DK_MEMSEG_HEAP);
	REQUIRE(in);
	dk_iova_t io[3] = {0x90000, 0x91000, 0x95000};
	dk__memseg_set_iova(in, 1, 3, io);

	struct walk_rec r = {0};
	CHECK_INT_EQ(dk_memseg_contig_walk(contig_cb, &r), 0);
	REQUIRE_INT_EQ(r.n, 7);
	CHECK(r.addr[0] == AREA && r.len[0] == 3 * KiB4 && r.iova[0] == 0x10000);
	CHECK(r.addr[1] == AREA + 3 * KiB4 && r.len[1] == KiB4 && r.iova[1] == 0x40000);
	CHECK(r.addr[2] == AREA + 4 * KiB4 && r.len[2] == 2 * KiB4 && r.iova[2] == BAD);
	CHECK(r.addr[3] == AREA + 6 * KiB4 && r.len[3] == 2 * KiB4 && r.iova[3] == 0x41000);
	CHECK(r.addr[4] == AREA + 8 * KiB4 && r.len[4] == 4 * KiB4 && r.iova[4] == 0x43000);
	CHECK(r.addr[5] == AREA + GiB + KiB4 && r.len[5] == 2 * KiB4 && r.iova[5] == 0x90000);
	CHECK(r.addr[6] == AREA + GiB + 3 * KiB4 && r.len[6] == KiB4 && r.iova[6] == 0x95000);
	struct walk_rec s = {.stop_at = 1, .ret = 1};
	CHECK_INT_EQ(dk_memseg_contig_walk(contig_cb, &s), 1);
	CHECK_INT_EQ(s.n, 1);
	reset();
}

DK_TEST(contig_chunk)
{
	reset();
	dk_iova_t t[8] = {0x10000, 0x11000, 0x12000, 0x40000, BAD, BAD, 0x41000, 0x42000};
	REQUIRE(mk(AREA, 8 * KiB4, KiB4, t, 0, 0, DK_MEMSEG_EXTERNAL));
	void *start;
	size_t len;
	dk_iova_t io;
	CHECK_INT_EQ(dk_mem_contig_chunk((void *)(AREA + KiB4 + 5), &start, &len, &io), 0);
	CHECK(start == (void *)AREA && len == 3 * KiB4 && io == 0x10000);
	CHECK_INT_EQ(dk_mem_contig_chunk((void *)(AREA + 3 * KiB4), &start, &len, &io), 0);
	CHECK(start == (void *)(AREA + 3 * KiB4) && len == KiB4 && io == 0x40000);
	CHECK_INT_EQ(dk_mem_contig_chunk((void *)(AREA + 7 * KiB4 + 1), &start, &len, &io), 0);
	CHECK(start == (void *)(AREA + 6 * KiB4) && len == 2 * KiB4 && io == 0x41000);
	CHECK_INT_EQ(dk_mem_contig_chunk((void *)(AREA + 4 * KiB4), &start, &len, &io), -ENOENT);
	CHECK_INT_EQ(dk_mem_contig_chunk((void *)(AREA + 8 * KiB4), &start, &len, &io), -ENOENT);
	CHECK_INT_EQ(dk_mem_contig_chunk(NULL, &start, &len, &io), -EINVAL);
	/* A delta list is one chunk; NULL outputs are allowed. */
	REQUIRE(mk(AREA + GiB, 3 * GiB, MiB2, NULL, 1, 0x1000, DK_MEMSEG_EXTERNAL));
	CHECK_INT_EQ(dk_mem_contig_chunk((void *)(AREA + 2 * GiB), &start, &len, &io), 0);
	CHECK(start == (void *)(AREA + GiB) && len == 3 * GiB && io == AREA + GiB + 0x1000);
	CHECK_INT_EQ(dk_mem_contig_chunk((void *)(AREA + 2 * GiB), NULL, NULL, NULL), 0);
	reset();
}

DK_TEST(iova_mode_default_va)
{
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_VA);
	dk__memseg_set_iova_mode(DK_IOVA_MODE_PA);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_PA);
	dk__memseg_set_iova_mode(DK_IOVA_MODE_VA);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_VA);
}

/*
 * Lookups of one list stay right while other lists come and go in the same
 * 1 GiB window (the window flips between the list's own slot and the
 * shared slot).
 */
struct churn {
	int stop; /* atomic */
	uintptr_t w;
	long lookups, wrong;
};

static void *lookup_thread(void *arg)
{
	struct churn *c = arg;
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		for (uintptr_t off = 0; off < 16 * KiB4; off += 4000) {
			if (v2i(c->w + off) != c->w + off + 0x1000)
				c->wrong++;
			c->lookups++;
		}
	}
	return NULL;
}

DK_TEST(lookups_during_layout_changes)
{
	reset();
	struct churn c = {.w = AREA + 40 * GiB};
	REQUIRE(mk(c.w, 16 * KiB4, KiB4, NULL, 1, 0x1000, DK_MEMSEG_EXTERNAL));
	pthread_t th;
	REQUIRE(pthread_create(&th, NULL, lookup_thread, &c) == 0);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rounds = 0;
	do {
		struct dk__memseg_list *o = mk(c.w + 64 * KiB4, KiB4, KiB4, NULL, 1, 0, 0);
		dk__memseg_list_destroy(o);
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 200000000L);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(rounds > 10);
	CHECK(c.lookups > 0);
	CHECK_INT_EQ(c.wrong, 0);
	reset();
}
