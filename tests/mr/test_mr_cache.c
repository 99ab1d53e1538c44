/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MR cache (src/mr/mr_cache.c) with fake operations that count their calls:
 * hit levels, a miss registering its whole run once, bulk registration,
 * growth past 65536 registrations, invalidation (part or all of a
 * registration) with the generation and dereg after the locks, unknown
 * memory, 64 GiB in one pass, and invalidation racing lookups (run it under
 * TSan). External memory (dk_extmem_register) stands for memory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <dmakit/memory.h>
#include <dmakit/mr.h>

#include "mr/mr_cache.h"
#include "tap.h"

#define PG ((uintptr_t)4096)
#define IOVA_OFF 0x100000000000ull

struct fake {
	pthread_mutex_t lock;
	struct dk_mr_cache *c; /* to check that dereg runs without its lock */
	unsigned int regs, deregs, next_key;
	uintptr_t last_va;
	size_t last_len, dereg_bytes;
	uint32_t last_dereg_key;
	int fail;
	dk_iova_t iova_add; /* added to the IOVAs reg returns */
};

static int fake_reg(void *ctx, void *va, size_t len, uint32_t *key, dk_iova_t *iova)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	int rc = f->fail;
	if (!rc) {
		f->regs++;
		*key = ++f->next_key;
		f->last_va = (uintptr_t)va;
		f->last_len = len;
	}
	pthread_mutex_unlock(&f->lock);
	*iova = (dk_iova_t)(uintptr_t)va + IOVA_OFF + f->iova_add;
	return rc;
}

static void fake_dereg(void *ctx, void *va, size_t len, uint32_t key)
{
	(void)va;
	struct fake *f = ctx;
	/* The cache's state lock is not held: stats (which takes it) returns. */
	struct dk_mr_stats st;
	if (f->c)
		dk_mr_cache_stats(f->c, &st);
	pthread_mutex_lock(&f->lock);
	f->deregs++;
	f->dereg_bytes += len;
	f->last_dereg_key = key;
	pthread_mutex_unlock(&f->lock);
}

static const struct dk_mr_ops fake_ops = {fake_reg, fake_dereg};

static uintptr_t area(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? 0 : (uintptr_t)p;
}

#define VA(a) ((const void *)(uintptr_t)(a))

static struct dk_mr_cache *cache(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->c = dk_mr_cache_create(&fake_ops, f);
	return f->c;
}

DK_TEST(create_checks_ops)
{
	struct dk_mr_ops bad = {fake_reg, NULL};
	errno = 0;
	CHECK(dk_mr_cache_create(&bad, NULL) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK(dk_mr_cache_create(NULL, NULL) == NULL);
	dk_mr_cache_destroy(NULL);
	struct dk_mr_ctrl q;
	CHECK_INT_EQ(dk_mr_ctrl_init(&q, NULL), -EINVAL);
	CHECK_INT_EQ(dk_mr_register(NULL, VA(PG), PG), -EINVAL);
}

DK_TEST(miss_registers_whole_run_once_then_hits)
{
	struct fake f;
	struct dk_mr_cache *c = cache(&f);
	REQUIRE(c != NULL);
	uintptr_t a = area(64 * PG);
	REQUIRE(a != 0);
	REQUIRE_INT_EQ(dk_extmem_register((void *)a, 64 * PG, NULL, 0, PG), 0);
	struct dk_mr_ctrl q;
	REQUIRE_INT_EQ(dk_mr_ctrl_init(&q, c), 0);
	uint32_t key = 0;
	dk_iova_t io = 0;
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 5 * PG + 7), 100, &key, &io), 0);
	CHECK_INT_EQ(f.regs, 1);
	CHECK(f.last_va == a && f.last_len == 64 * PG); /* the whole run */
	CHECK_INT_EQ(key, 1);
	CHECK(io == a + 5 * PG + 7 + IOVA_OFF);
	/* MRU hit, then the global map (MRU forgotten), then the global map
	 * from a second queue: no more registrations. */
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 5 * PG + 9), 1, &key, &io), 0);
	CHECK(q.mru.start == a);
	memset(&q.mru, 0, sizeof(q.mru)); /* forget the MRU: the global map answers */
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 5 * PG), 8, &key, &io), 0);
	CHECK(q.mru.start == a); /* copied back to the MRU */
	struct dk_mr_ctrl q2;
	REQUIRE_INT_EQ(dk_mr_ctrl_init(&q2, c), 0);
	CHECK_INT_EQ(dk_mr_lookup(&q2, VA(a + 63 * PG), PG, &key, &io), 0);
	CHECK(io == a + 63 * PG + IOVA_OFF);
	CHECK_INT_EQ(f.regs, 1);
	/* Past the end of the run: two registrations' worth, refused. */
	CHECK_INT_EQ(dk_mr_lookup(&q2, VA(a + 63 * PG), PG + 1, &key, &io), -ERANGE);
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(c, &st), 0);
	CHECK_INT_EQ(st.registrations, 1);
	CHECK_INT_EQ(st.live, 1);
	CHECK_INT_EQ(st.misses, 1);
	/* Removal: the registration goes, dereg once, the generation moves,
	 * and the queues flush before their next lookup. */
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)a, 64 * PG), 0);
	CHECK_INT_EQ(f.deregs, 1);
	CHECK(f.dereg_bytes == 64 * PG);
	REQUIRE_INT_EQ(dk_mr_cache_stats(c, &st), 0);
	CHECK_INT_EQ(st.live, 0);
	CHECK_INT_EQ(st.invalidations, 1);
	CHECK_INT_EQ(st.generation, 1);
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 5 * PG), 8, &key, &io), -ENOENT);
	CHECK(q.mru.end == 0);
	dk_mr_ctrl_fini(&q);
	dk_mr_ctrl_fini(&q2);
	dk_mr_cache_destroy(c);
	CHECK_INT_EQ(f.deregs, 1); /* nothing left to release */
	munmap((void *)a, 64 * PG);
}

DK_TEST(unknown_memory_is_enoent)
{
	struct fake f;
	struct dk_mr_cache *c = cache(&f);
	REQUIRE(c != NULL);
	uintptr_t a = area(4 * PG);
	REQUIRE(a != 0);
	struct dk_mr_ctrl q;
	REQUIRE_INT_EQ(dk_mr_ctrl_init(&q, c), 0);
	uint32_t key;
	dk_iova_t io;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a), 8, &key, &io), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_extmem_register");
	CHECK_INT_EQ(dk_mr_register(c, VA(a), PG), -ENOENT);
	/* A program retrying in a loop gets -ENOENT every time, and one message
	 * a second (the next one counts those left out). */
	for (int i = 0; i < 1000; i++)
		CHECK_INT_EQ(dk_mr_lookup(&q, VA(a), 8, &key, &io), -ENOENT);
	const char *log = dk_test_log_captured();
	int msgs = 0;
	for (const char *p = log; (p = strstr(p, "does not know")) != NULL; p++)
		msgs++;
	CHECK(msgs >= 1 && msgs <= 3);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(f.regs, 0);
	/* A failing reg is returned and nothing is kept. */
	REQUIRE_INT_EQ(dk_extmem_register((void *)a, 4 * PG, NULL, 0, PG), 0);
	f.fail = -EIO;
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a), 8, &key, &io), -EIO);
	f.fail = 0;
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a), 8, &key, &io), 0);
	CHECK_INT_EQ(f.regs, 1);
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)a, 4 * PG), 0);
	dk_mr_cache_destroy(c);
	munmap((void *)a, 4 * PG);
}

DK_TEST(partial_invalidation_shrinks_and_splits)
{
	struct fake f;
	struct dk_mr_cache *c = cache(&f);
	REQUIRE(c != NULL);
	uintptr_t a = area(16 * PG);
	REQUIRE(a != 0);
	REQUIRE_INT_EQ(dk_extmem_register((void *)a, 16 * PG, NULL, 0, PG), 0);
	REQUIRE_INT_EQ(dk_mr_register(c, VA(a), 16 * PG), 0);
	CHECK_INT_EQ(f.regs, 1);
	struct dk_mr_ctrl q;
	REQUIRE_INT_EQ(dk_mr_ctrl_init(&q, c), 0);
	uint32_t key;
	dk_iova_t io;
	REQUIRE_INT_EQ(dk_mr_lookup(&q, VA(a + 6 * PG), 8, &key, &io), 0);
	/* The middle goes: a split, same key on both sides, dereg of the middle. */
	dk__mr_cache_event(c, DK_MEM_EVENT_FREE, VA(a + 4 * PG), 4 * PG);
	CHECK_INT_EQ(f.deregs, 1);
	CHECK(f.dereg_bytes == 4 * PG);
	CHECK_INT_EQ(f.last_dereg_key, 1);
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(c, &st), 0);
	CHECK_INT_EQ(st.generation, 1);
	CHECK_INT_EQ(st.live, 2);
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 3 * PG), 8, &key, &io), 0);
	CHECK_INT_EQ(key, 1);
	CHECK(q.mru.start == a && q.mru.end == a + 4 * PG);
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 9 * PG), 8, &key, &io), 0);
	CHECK_INT_EQ(key, 1);
	CHECK(io == a + 9 * PG + IOVA_OFF);
	CHECK(q.mru.start == a + 8 * PG && q.mru.end == a + 16 * PG);
	/* The head of the right part goes: it shrinks. */
	dk__mr_cache_event(c, DK_MEM_EVENT_FREE, VA(a + 8 * PG), PG);
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 9 * PG), 8, &key, &io), 0);
	CHECK(q.mru.start == a + 9 * PG && io == a + 9 * PG + IOVA_OFF);
	CHECK_INT_EQ(f.regs, 1);
	/* The freed middle is still in the layout (a fake event): a lookup
	 * there registers just the uncovered pages. */
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 5 * PG), 8, &key, &io), 0);
	CHECK_INT_EQ(f.regs, 2);
	CHECK(f.last_va == a + 4 * PG && f.last_len == 5 * PG);
	/* All of it goes with the memory. */
	f.dereg_bytes = 0;
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)a, 16 * PG), 0);
	CHECK(f.dereg_bytes == 16 * PG);
	REQUIRE_INT_EQ(dk_mr_cache_stats(c, &st), 0);
	CHECK_INT_EQ(st.live, 0);
	dk_mr_cache_destroy(c);
	munmap((void *)a, 16 * PG);
}

/* The inline global level: translate [v, v+len) through a queue whose MRU
 * is empty, and check the answer and that the MRU got [s, e). */
static int global_hit(struct dk_mr_ctrl *q, uintptr_t v, size_t len, dk_iova_t add, uintptr_t s,
		      uintptr_t e)
{
	uint32_t key = 0;
	dk_iova_t io = 0;
	memset(&q->mru, 0, sizeof(q->mru));
	return dk_mr_lookup(q, VA(v), len, &key, &io) == 0 && key == 1 &&
	       io == v + IOVA_OFF + add && q->mru.start == s && q->mru.end == e &&
	       q->mru.iova == s + IOVA_OFF + add;
}

/* Global map values: packed (the page's IOVA and a record id) when the
 * IOVAs are 4 KiB aligned and below 2^52, the record's address otherwise;
 * both answer the same, across pages and 1 GiB windows, and refuse a
 * buffer that leaves the registration. */
DK_TEST(global_map_values_packed_or_by_record)
{
	const size_t len = (size_t)2 << 30; /* two 1 GiB windows at least */
	static const dk_iova_t adds[] = {0, 0x10, (dk_iova_t)1 << 52};
	for (size_t i = 0; i < DK_ARRAY_SIZE(adds); i++) {
		struct fake f;
		struct dk_mr_cache *c = cache(&f);
		REQUIRE(c != NULL);
		f.iova_add = adds[i];
		uintptr_t a = area(len);
		REQUIRE(a != 0);
		REQUIRE_INT_EQ(dk_extmem_register((void *)a, len, NULL, 0, PG), 0);
		REQUIRE_INT_EQ(dk_mr_register(c, VA(a), len), 0);
		struct dk_mr_ctrl q;
		REQUIRE_INT_EQ(dk_mr_ctrl_init(&q, c), 0);
		uint64_t v0 = dk_tmap_get(q.map, VA(a)), v1 = dk_tmap_get(q.map, VA(a + PG));
		if (adds[i] == 0) { /* packed: IOVA page, id, flag; +1 IOVA page per page */
			CHECK(v0 & DK__MR_PACKED);
			CHECK((v0 >> DK__MR_IOVA_SHIFT) << 12 == a + IOVA_OFF);
			CHECK(v1 - v0 == (uint64_t)1 << DK__MR_IOVA_SHIFT);
		} else { /* the record's address, the same for every page */
			CHECK(!(v0 & DK__MR_PACKED) && v0 != 0);
			CHECK(v1 == v0);
		}
		uintptr_t far = a + len - 5 * PG; /* another 1 GiB window */
		int bad = 0;
		for (int k = 0; k < 4; k++) { /* windows alternate: the queue's words change */
			bad += !global_hit(&q, a + 3 * PG + 100, 200, adds[i], a, a + len);
			bad += !global_hit(&q, a + 4 * PG - 8, 16, adds[i], a, a + len);
			bad += !global_hit(&q, far + 7, 3 * PG, adds[i], a, a + len);
			bad += !global_hit(&q, a + len - 1, 0, adds[i], a, a + len);
		}
		CHECK_INT_EQ(bad, 0);
		uint32_t key;
		dk_iova_t io;
		memset(&q.mru, 0, sizeof(q.mru));
		CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + len - 8), 9, &key, &io), -ERANGE);
		/* A split: the smaller side gets a new record (a new id), both
		 * keep the key and their IOVAs. */
		dk__mr_cache_event(c, DK_MEM_EVENT_FREE, VA(a + 8 * PG), PG);
		CHECK(global_hit(&q, a + 2 * PG, 64, adds[i], a, a + 8 * PG));
		CHECK(global_hit(&q, a + 9 * PG, 64, adds[i], a + 9 * PG, a + len));
		if (adds[i] == 0)
			CHECK((dk_tmap_get(q.map, VA(a)) ^ v0) & ~(~(uint64_t)0 << DK__MR_IOVA_SHIFT));
		memset(&q.mru, 0, sizeof(q.mru));
		CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 7 * PG), 2 * PG, &key, &io), -ERANGE);
		CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 8 * PG), 8, &key, &io), 0); /* a new miss */
		CHECK_INT_EQ(f.regs, 2);
		REQUIRE_INT_EQ(dk_extmem_unregister((void *)a, len), 0);
		CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + 2 * PG), 8, &key, &io), -ENOENT);
		CHECK(dk_tmap_get(q.map, VA(a + 2 * PG)) == 0);
		dk_mr_ctrl_fini(&q);
		dk_mr_cache_destroy(c);
		munmap((void *)a, len);
	}
}

/* 70000 one-page runs (two pages apart): more than 65536 registrations. */
DK_TEST(grows_past_65536_registrations)
{
	enum { N = 70000 };
	struct fake f;
	struct dk_mr_cache *c = cache(&f);
	REQUIRE(c != NULL);
	uintptr_t a = area(2 * N * PG);
	REQUIRE(a != 0);
	REQUIRE_INT_EQ(dk_extmem_register((void *)a, 2 * N * PG, NULL, 0, PG), 0);
	/* One run: split it into N registrations with fake FREEs of every
	 * other page. */
	REQUIRE_INT_EQ(dk_mr_register(c, VA(a), 2 * N * PG), 0);
	for (size_t i = 0; i < N; i++)
		dk__mr_cache_event(c, DK_MEM_EVENT_FREE, VA(a + (2 * i + 1) * PG), PG);
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(c, &st), 0);
	CHECK_INT_EQ(st.live, N);
	struct dk_mr_ctrl q;
	REQUIRE_INT_EQ(dk_mr_ctrl_init(&q, c), 0);
	int bad = 0;
	for (size_t i = 0; i < N; i++) {
		uint32_t key;
		dk_iova_t io;
		uintptr_t v = a + 2 * i * PG + 64;
		if (dk_mr_lookup(&q, VA(v), 64, &key, &io) != 0 || io != v + IOVA_OFF || key != 1)
			bad++;
	}
	CHECK_INT_EQ(bad, 0);
	CHECK_INT_EQ(f.regs, 1);
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)a, 2 * N * PG), 0);
	REQUIRE_INT_EQ(dk_mr_cache_stats(c, &st), 0);
	CHECK_INT_EQ(st.live, 0);
	dk_mr_cache_destroy(c);
	munmap((void *)a, 2 * N * PG);
}

/* 64 GiB of external memory in 4 KiB pages: one reg, one pass. */
DK_TEST(registers_64_gib_in_one_pass)
{
	const size_t len = (size_t)64 << 30;
	struct fake f;
	struct dk_mr_cache *c = cache(&f);
	REQUIRE(c != NULL);
	uintptr_t a = area(len);
	REQUIRE(a != 0);
	REQUIRE_INT_EQ(dk_extmem_register((void *)a, len, NULL, 0, PG), 0);
	REQUIRE_INT_EQ(dk_mr_register(c, VA(a), len), 0);
	CHECK_INT_EQ(f.regs, 1);
	CHECK(f.last_len == len);
	struct dk_mr_ctrl q;
	REQUIRE_INT_EQ(dk_mr_ctrl_init(&q, c), 0);
	uint32_t key;
	dk_iova_t io;
	CHECK_INT_EQ(dk_mr_lookup(&q, VA(a + len - 8), 8, &key, &io), 0);
	CHECK(io == a + len - 8 + IOVA_OFF);
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)a, len), 0);
	CHECK_INT_EQ(f.deregs, 1);
	dk_mr_cache_destroy(c);
	munmap((void *)a, len);
}

/* Lookups from several threads while the main thread frees and re-adds
 * memory: stable memory always translates right; churned memory translates
 * right or is -ENOENT; TSan sees no race. */
struct racer {
	struct dk_mr_cache *c;
	uintptr_t stable, churn;
	volatile int stop;
	int bad;
};

static void *race_lookups(void *arg)
{
	struct racer *r = arg;
	struct dk_mr_ctrl q;
	dk_mr_ctrl_init(&q, r->c);
	for (unsigned int i = 0; !__atomic_load_n(&r->stop, __ATOMIC_RELAXED); i++) {
		uint32_t key;
		dk_iova_t io;
		uintptr_t v = r->stable + (i % 8) * PG;
		if (dk_mr_lookup(&q, VA(v), 16, &key, &io) != 0 || io != v + IOVA_OFF)
			r->bad++;
		v = r->churn + (i % 8) * PG;
		int rc = dk_mr_lookup(&q, VA(v), 16, &key, &io);
		if ((rc != 0 && rc != -ENOENT) || (rc == 0 && io != v + IOVA_OFF))
			r->bad++;
	}
	dk_mr_ctrl_fini(&q);
	return NULL;
}

DK_TEST(invalidation_races_lookups)
{
	struct fake f;
	struct dk_mr_cache *c = cache(&f);
	REQUIRE(c != NULL);
	struct racer r = {.c = c, .stable = area(8 * PG), .churn = area(8 * PG)};
	REQUIRE(r.stable && r.churn);
	REQUIRE_INT_EQ(dk_extmem_register((void *)r.stable, 8 * PG, NULL, 0, PG), 0);
	REQUIRE_INT_EQ(dk_mr_register(c, VA(r.stable), 8 * PG), 0);
	pthread_t t[3];
	int bad[3] = {0};
	struct racer rs[3];
	for (int i = 0; i < 3; i++) {
		rs[i] = r;
		REQUIRE_INT_EQ(pthread_create(&t[i], NULL, race_lookups, &rs[i]), 0);
	}
	for (int k = 0; k < 1000; k++) {
		if (dk_extmem_register((void *)r.churn, 8 * PG, NULL, 0, PG) == 0)
			dk_extmem_unregister((void *)r.churn, 8 * PG);
		if (k % 50 == 0) { /* split the stable one: its pages stay */
			dk__mr_cache_event(c, DK_MEM_EVENT_FREE, VA(r.stable + 3 * PG), PG);
			dk_mr_register(c, VA(r.stable), 8 * PG);
		}
	}
	for (int i = 0; i < 3; i++) {
		__atomic_store_n(&rs[i].stop, 1, __ATOMIC_RELAXED);
		pthread_join(t[i], NULL);
		bad[i] = rs[i].bad;
	}
	CHECK_INT_EQ(bad[0] + bad[1] + bad[2], 0);
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(c, &st), 0);
	CHECK(st.generation > 0);
	REQUIRE_INT_EQ(dk_extmem_unregister((void *)r.stable, 8 * PG), 0);
	dk_mr_cache_destroy(c);
	munmap((void *)r.stable, 8 * PG);
	munmap((void *)r.churn, 8 * PG);
}
