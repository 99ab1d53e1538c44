/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Translation maps (src/dma/tmap.c): values per page, defaults, window
 * boundaries, bad ranges, the scan helper, following memory (creation
 * replay, events, a failing replay undone) and lookups racing with writers.
 * External memory (dk_extmem_register) stands for memory the layout gains
 * and loses: no dk_init needed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <dmakit/dma.h>
#include <dmakit/memory.h>

#include "dma/tmap.h"
#include "mem/mem_event.h"
#include "mem/memseg.h"
#include "tap.h"

#define PG ((uintptr_t)4096)
#define GIB ((uintptr_t)1 << 30)
#define DFLT 0xdeadbeefull

/* Address space of our own, never touched: the map only stores numbers. */
static uintptr_t area(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? 0 : (uintptr_t)p;
}

#define VA(a) ((const void *)(uintptr_t)(a))

DK_TEST(create_checks_page_shift)
{
	errno = 0;
	CHECK(dk_tmap_create(11, 0, NULL, NULL) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK(dk_tmap_create(31, 0, NULL, NULL) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	struct dk_tmap *m = dk_tmap_create(21, 0, NULL, NULL);
	REQUIRE(m != NULL);
	CHECK_INT_EQ(dk_tmap_page_shift(m), 21);
	dk_tmap_destroy(m);
	dk_tmap_destroy(NULL);
}

DK_TEST(values_per_page_and_default)
{
	struct dk_tmap *m = dk_tmap_create(12, DFLT, NULL, NULL);
	REQUIRE(m != NULL);
	uintptr_t a = area(64 * PG);
	REQUIRE(a != 0);
	CHECK(dk_tmap_get(m, VA(a)) == DFLT);
	REQUIRE_INT_EQ(dk_tmap_set(m, VA(a + PG), 3 * PG, 7), 0);
	CHECK(dk_tmap_get(m, VA(a)) == DFLT);
	CHECK(dk_tmap_get(m, VA(a + PG)) == 7);
	CHECK(dk_tmap_get(m, VA(a + 2 * PG + 123)) == 7); /* any byte of the page */
	CHECK(dk_tmap_get(m, VA(a + 4 * PG - 1)) == 7);
	CHECK(dk_tmap_get(m, VA(a + 4 * PG)) == DFLT);
	/* A value equal to the default, and zero, are values like any other. */
	REQUIRE_INT_EQ(dk_tmap_set(m, VA(a + 2 * PG), PG, 0), 0);
	CHECK(dk_tmap_get(m, VA(a + 2 * PG)) == 0);
	REQUIRE_INT_EQ(dk_tmap_set(m, VA(a + 2 * PG), PG, DFLT), 0);
	CHECK(dk_tmap_get(m, VA(a + 2 * PG)) == DFLT);
	REQUIRE_INT_EQ(dk_tmap_clear(m, VA(a + PG), PG), 0);
	CHECK(dk_tmap_get(m, VA(a + PG)) == DFLT);
	CHECK(dk_tmap_get(m, VA(a + 3 * PG)) == 7);
	/* Outside user space: always the default. */
	CHECK(dk_tmap_get(m, VA((uintptr_t)1 << 47)) == DFLT);
	CHECK(dk_tmap_get(m, VA(UINTPTR_MAX)) == DFLT);
	dk_tmap_destroy(m);
	munmap((void *)a, 64 * PG);
}

DK_TEST(ranges_across_windows)
{
	struct dk_tmap *m = dk_tmap_create(12, 0, NULL, NULL);
	REQUIRE(m != NULL);
	/* Three 1 GiB windows: the last page of one, all of the next, the
	 * first page of the one after. */
	uintptr_t w = 64 * GIB; /* a window of its own; the map does not care what is there */
	REQUIRE_INT_EQ(dk_tmap_set(m, VA(w - PG), GIB + 2 * PG, 42), 0);
	CHECK(dk_tmap_get(m, VA(w - 2 * PG)) == 0);
	CHECK(dk_tmap_get(m, VA(w - PG)) == 42);
	CHECK(dk_tmap_get(m, VA(w + GIB / 2)) == 42);
	CHECK(dk_tmap_get(m, VA(w + GIB)) == 42);
	CHECK(dk_tmap_get(m, VA(w + GIB + PG)) == 0);
	/* The scan helper: skips empty windows whole, finds the first set page. */
	CHECK(dk__tmap_next_set(m, 0, (uintptr_t)1 << 47) == w - PG);
	CHECK(dk__tmap_next_set(m, w + GIB + PG, w + 8 * GIB) == w + 8 * GIB);
	REQUIRE_INT_EQ(dk_tmap_clear(m, VA(w), GIB), 0);
	CHECK(dk__tmap_next_set(m, w, w + 4 * GIB) == w + GIB);
	/* The highest page of user space. */
	uintptr_t top = ((uintptr_t)1 << 47) - PG;
	REQUIRE_INT_EQ(dk_tmap_set(m, VA(top), PG, 9), 0);
	CHECK(dk_tmap_get(m, VA(top + PG - 1)) == 9);
	dk_tmap_destroy(m);
}

/* dk__tmap_set_step: page k gets value + k * step, across windows, with a
 * default (stored XORed with it) and a clear in between; dk__tmap_word: the
 * words of a window are consecutive, NULL where no window has a table. */
DK_TEST(values_growing_page_by_page)
{
	struct dk_tmap *m = dk_tmap_create(12, DFLT, NULL, NULL);
	REQUIRE(m != NULL);
	uintptr_t w = 96 * GIB;
	const uint64_t v = 0x1000001, step = (uint64_t)1 << 24;
	REQUIRE_INT_EQ(dk__tmap_set_step(m, VA(w - 2 * PG), GIB + 4 * PG, v, step), 0);
	CHECK(dk_tmap_get(m, VA(w - 3 * PG)) == DFLT);
	CHECK(dk_tmap_get(m, VA(w - 2 * PG)) == v);
	CHECK(dk_tmap_get(m, VA(w - PG + 5)) == v + step);
	CHECK(dk_tmap_get(m, VA(w)) == v + 2 * step);
	CHECK(dk_tmap_get(m, VA(w + GIB - PG)) == v + (GIB / PG + 1) * step);
	CHECK(dk_tmap_get(m, VA(w + GIB + PG)) == v + (GIB / PG + 3) * step);
	CHECK(dk_tmap_get(m, VA(w + GIB + 2 * PG)) == DFLT);
	/* The words: value ^ default, consecutive in a window. */
	const uint64_t *w0 = dk__tmap_word(m, VA(w));
	REQUIRE(w0 != NULL);
	CHECK(dk__tmap_word(m, VA(w + 7 * PG + 100)) == w0 + 7);
	CHECK((w0[7] ^ DFLT) == v + 9 * step);
	CHECK(dk__tmap_word(m, VA(200 * GIB)) == NULL);
	CHECK(dk__tmap_word(m, VA((uintptr_t)1 << 47)) == NULL);
	/* A clear, then a step over it with a wrapping value. */
	REQUIRE_INT_EQ(dk_tmap_clear(m, VA(w), 4 * PG), 0);
	CHECK(dk_tmap_get(m, VA(w + PG)) == DFLT);
	CHECK(dk_tmap_get(m, VA(w + 4 * PG)) == v + 6 * step);
	REQUIRE_INT_EQ(dk__tmap_set_step(m, VA(w), 2 * PG, UINT64_MAX, 2), 0);
	CHECK(dk_tmap_get(m, VA(w)) == UINT64_MAX);
	CHECK(dk_tmap_get(m, VA(w + PG)) == 1);
	CHECK_INT_EQ(dk__tmap_set_step(m, VA(w + 1), PG, v, step), -EINVAL);
	CHECK_INT_EQ(dk__tmap_set_step(NULL, VA(w), PG, v, step), -EINVAL);
	dk_tmap_destroy(m);
}

DK_TEST(bad_ranges_are_refused)
{
	struct dk_tmap *m = dk_tmap_create(21, 0, NULL, NULL);
	REQUIRE(m != NULL);
	uintptr_t huge = (uintptr_t)1 << 21;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_tmap_set(m, VA(huge), 0, 1), -EINVAL);
	CHECK_INT_EQ(dk_tmap_set(m, VA(huge + PG), huge, 1), -EINVAL); /* 4 KiB aligned only */
	CHECK_INT_EQ(dk_tmap_set(m, VA(huge), PG, 1), -EINVAL);
	CHECK_INT_EQ(dk_tmap_set(m, VA((uintptr_t)1 << 47), huge, 1), -EINVAL);
	CHECK_INT_EQ(dk_tmap_set(m, VA(((uintptr_t)1 << 47) - huge), 2 * huge, 1), -EINVAL);
	CHECK_INT_EQ(dk_tmap_set(NULL, VA(huge), huge, 1), -EINVAL);
	CHECK_INT_EQ(dk_tmap_clear(m, VA(huge + 1), huge), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "page aligned");
	dk_test_log_capture_stop();
	/* Nothing changed. */
	CHECK(dk__tmap_next_set(m, 0, (uintptr_t)1 << 47) == (uintptr_t)1 << 47);
	dk_tmap_destroy(m);
}

/* ---- following memory ---------------------------------------------------- */

struct follow {
	int allocs, frees;
	int fail_at; /* ALLOC number (1-based) that fails, 0: none */
	uintptr_t freed[8];
};

static int notify(void *ctx, struct dk_tmap *map, enum dk_mem_event ev, void *va, size_t len)
{
	struct follow *f = ctx;
	if (ev == DK_MEM_EVENT_ALLOC) {
		if (++f->allocs == f->fail_at)
			return -EIO;
		return dk_tmap_set(map, va, len, (uintptr_t)va);
	}
	if (f->frees < 8)
		f->freed[f->frees] = (uintptr_t)va;
	f->frees++;
	return dk_tmap_clear(map, va, len);
}

static void reset_layout(void)
{
	dk__memseg_cleanup();
	dk__mem_event_cleanup();
}

DK_TEST(follows_memory_from_creation_on)
{
	uintptr_t a = area(16 * PG), b = area(8 * PG);
	REQUIRE(a && b);
	REQUIRE_INT_EQ(dk_extmem_register((void *)a, 16 * PG, NULL, 0, PG), 0);
	struct follow f = {0};
	struct dk_tmap *m = dk_tmap_create(12, 0, notify, &f);
	REQUIRE(m != NULL);
	/* The replay saw what the layout held. */
	CHECK_INT_EQ(f.allocs, 1);
	CHECK(dk_tmap_get(m, VA(a + 5 * PG)) == a);
	/* Then events. */
	REQUIRE_INT_EQ(dk_extmem_register((void *)b, 8 * PG, NULL, 0, PG), 0);
	CHECK_INT_EQ(f.allocs, 2);
	CHECK(dk_tmap_get(m, VA(b + 7 * PG)) == b);
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)a, 16 * PG), 0);
	CHECK_INT_EQ(f.frees, 1);
	CHECK(dk_tmap_get(m, VA(a)) == 0);
	CHECK(dk_tmap_get(m, VA(b)) == b);
	/* After destroy nothing more arrives (and nothing breaks). */
	dk_tmap_destroy(m);
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)b, 8 * PG), 0);
	CHECK_INT_EQ(f.frees, 1);
	reset_layout();
	munmap((void *)a, 16 * PG);
	munmap((void *)b, 8 * PG);
}

DK_TEST(failing_replay_is_undone)
{
	uintptr_t a = area(4 * PG), b = area(4 * PG), c = area(4 * PG);
	REQUIRE(a && b && c);
	uintptr_t r[3] = {a, b, c};
	for (int i = 0; i < 3; i++)
		REQUIRE_INT_EQ(dk_extmem_register((void *)r[i], 4 * PG, NULL, 0, PG), 0);
	struct follow f = {.fail_at = 3};
	errno = 0;
	CHECK(dk_tmap_create(12, 0, notify, &f) == NULL);
	CHECK_INT_EQ(errno, EIO);
	/* Runs are replayed in VA order: the first two were notified, then
	 * freed in reverse; the failed one was not. */
	uintptr_t lo[3] = {a, b, c};
	for (int i = 0; i < 3; i++)
		for (int k = i + 1; k < 3; k++)
			if (lo[k] < lo[i]) {
				uintptr_t t = lo[i];
				lo[i] = lo[k];
				lo[k] = t;
			}
	CHECK_INT_EQ(f.frees, 2);
	CHECK(f.freed[0] == lo[1]);
	CHECK(f.freed[1] == lo[0]);
	/* No event reaches the dead map; a new one works. */
	struct follow g = {0};
	struct dk_tmap *m = dk_tmap_create(12, 0, notify, &g);
	REQUIRE(m != NULL);
	CHECK_INT_EQ(g.allocs, 3);
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)a, 4 * PG), 0);
	CHECK_INT_EQ(f.frees, 2);
	CHECK_INT_EQ(g.frees, 1);
	dk_tmap_destroy(m);
	reset_layout();
	for (int i = 0; i < 3; i++)
		munmap((void *)r[i], 4 * PG);
}

/* ---- lookups racing with writers ------------------------------------------ */

struct race {
	struct dk_tmap *m;
	uintptr_t base;
	int stop;
	int bad;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (uintptr_t i = 0; i < 256; i++) {
			uint64_t v = dk_tmap_get(r->m, VA(r->base + i * PG * 4096));
			if (v != DFLT && v != i)
				__atomic_store_n(&r->bad, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

DK_TEST(lookups_race_with_set_and_clear)
{
	struct race r = {.m = dk_tmap_create(12, DFLT, NULL, NULL), .base = 128 * GIB};
	REQUIRE(r.m != NULL);
	pthread_t t;
	REQUIRE_INT_EQ(pthread_create(&t, NULL, reader, &r), 0);
	/* Pages 16 MiB apart: new windows appear while the reader runs. */
	for (int round = 0; round < 20; round++) {
		for (uintptr_t i = 0; i < 256; i++)
			CHECK_INT_EQ(dk_tmap_set(r.m, VA(r.base + i * PG * 4096), PG, i), 0);
		for (uintptr_t i = 0; i < 256; i += 2)
			CHECK_INT_EQ(dk_tmap_clear(r.m, VA(r.base + i * PG * 4096), PG), 0);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK_INT_EQ(r.bad, 0);
	CHECK(dk_tmap_get(r.m, VA(r.base + 3 * PG * 4096)) == 3);
	CHECK(dk_tmap_get(r.m, VA(r.base + 4 * PG * 4096)) == DFLT);
	dk_tmap_destroy(r.m);
}
