/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/mem/malloc.c: the allocation API, growth, thread caches. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "core/log_internal.h"
#include "hugepages.h"
#include "tap.h"

static int start(int huge, int iova_mode)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.huge = huge;
	p.iova_mode = iova_mode;
	return dk_init(&p);
}

static uint64_t live_blocks(void)
{
	struct dk_heap_stats st;
	if (dk_malloc_get_stats(0, &st) < 0)
		return UINT64_MAX;
	return st.alloc_count;
}

DK_TEST(before_init_is_enodev)
{
	errno = 0;
	CHECK(dk_malloc(NULL, 64, 0) == NULL);
	CHECK_INT_EQ(errno, ENODEV);
	struct dk_heap_stats st;
	CHECK(dk_malloc_get_stats(0, &st) < 0);
}

DK_TEST(basic_alloc_is_usable_aligned_and_has_iova)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_VA);
	for (size_t size = 1; size <= 5000; size += 37) {
		unsigned char *p = dk_malloc("t", size, 0);
		REQUIRE(p != NULL);
		CHECK_INT_EQ((uintptr_t)p % 16, 0);
		CHECK(dk_malloc_usable_size(p) >= size);
		memset(p, 0x5a, size);
		CHECK_INT_EQ(dk_malloc_virt2iova(p), (uintptr_t)p);
		CHECK_INT_EQ(dk_mem_virt2iova(p + size - 1), (uintptr_t)p + size - 1);
		dk_free(p);
	}
	dk_cleanup();
}

DK_TEST(alignment_and_boundary)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	for (unsigned int align = 16; align <= 65536; align <<= 1) {
		void *p = dk_malloc(NULL, 100, align);
		REQUIRE(p != NULL);
		CHECK_INT_EQ((uintptr_t)p % align, 0);
		dk_free(p);
	}
	for (size_t size = 64; size <= 4096; size += 448) {
		void *keep[32];
		for (int i = 0; i < 32; i++) {
			keep[i] = dk_malloc_flags(NULL, size, 0, 4096, DK_SOCKET_ANY, 0);
			REQUIRE(keep[i] != NULL);
			uintptr_t a = (uintptr_t)keep[i];
			CHECK_INT_EQ(a / 4096, (a + size - 1) / 4096);
		}
		for (int i = 0; i < 32; i++)
			dk_free(keep[i]);
	}
	dk_cleanup();
}

DK_TEST(bad_arguments_are_einval)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	errno = 0;
	CHECK(dk_malloc(NULL, 0, 0) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	errno = 0;
	CHECK(dk_malloc(NULL, 64, 48) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	errno = 0;
	CHECK(dk_malloc_socket(NULL, 64, 0, 99) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	errno = 0;
	CHECK(dk_malloc_flags(NULL, 64, 0, 32, DK_SOCKET_ANY, 0) == NULL); /* bound < size */
	CHECK_INT_EQ(errno, EINVAL);
	errno = 0;
	CHECK(dk_malloc_flags(NULL, 64, 0, 0, DK_SOCKET_ANY, 0x80) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	errno = 0;
	CHECK(dk_calloc(NULL, SIZE_MAX / 2, 4, 0) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	dk_free(NULL);
	dk_cleanup();
}

DK_TEST(zmalloc_and_calloc_zero_reused_memory)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	for (int round = 0; round < 3; round++) {
		unsigned char *p = dk_malloc(NULL, 3000, 0);
		REQUIRE(p != NULL);
		memset(p, 0xff, 3000);
		dk_free(p);
		unsigned char *z = round == 2 ? dk_calloc(NULL, 1000, 3, 0) : dk_zmalloc(NULL, 3000, 0);
		REQUIRE(z != NULL);
		int nonzero = 0;
		for (int i = 0; i < 3000; i++)
			nonzero |= z[i];
		CHECK_INT_EQ(nonzero, 0);
		dk_free(z);
	}
	dk_cleanup();
}

DK_TEST(realloc_keeps_contents)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	unsigned char *p = dk_realloc(NULL, 100, 0);
	REQUIRE(p != NULL);
	for (int i = 0; i < 100; i++)
		p[i] = (unsigned char)i;
	size_t sizes[] = { 5000, 200000, 50, 3 << 20, 64 };
	for (size_t k = 0; k < DK_ARRAY_SIZE(sizes); k++) {
		p = dk_realloc(p, sizes[k], 0);
		REQUIRE(p != NULL);
		size_t check = sizes[k] < 50 ? sizes[k] : 50;
		for (size_t i = 0; i < check; i++)
			if (p[i] != (unsigned char)i) {
				dk_test_fail(__FILE__, __LINE__, "byte %zu lost after realloc to %zu", i,
					     sizes[k]);
				break;
			}
	}
	unsigned char *q = dk_realloc(p, 256, 4096);
	REQUIRE(q != NULL);
	CHECK_INT_EQ((uintptr_t)q % 4096, 0);
	CHECK_INT_EQ(q[49], 49);
	CHECK(dk_realloc(q, 0, 0) == NULL); /* frees */
	dk_malloc_thread_flush();
	CHECK_INT_EQ(live_blocks(), 0);
	dk_cleanup();
}

static int g_ev_alloc, g_ev_free;
static size_t g_ev_bytes;
static void count_events(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	(void)va;
	(void)arg;
	if (ev == DK_MEM_EVENT_ALLOC) {
		g_ev_alloc++;
		g_ev_bytes += len;
	} else {
		g_ev_free++;
	}
}

DK_TEST(large_blocks_grow_the_heap_and_give_pages_back)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	g_ev_alloc = g_ev_free = 0;
	g_ev_bytes = 0;
	REQUIRE_INT_EQ(dk_mem_event_callback_register("test", count_events, NULL), 0);
	void *small = dk_malloc(NULL, 64, 0); /* keeps the first region */
	REQUIRE(small != NULL);
	struct dk_heap_stats before, during, mid, after;
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &before), 0);
	const size_t big = 96u << 20;
	unsigned char *a = dk_malloc(NULL, big, 0);
	unsigned char *b = dk_malloc(NULL, big, 0);
	REQUIRE(a != NULL && b != NULL);
	a[0] = b[0] = 1;
	a[big - 1] = b[big - 1] = 2;
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &during), 0);
	CHECK(during.heap_bytes >= before.heap_bytes + 2 * big);
	CHECK(g_ev_alloc >= 3);
	CHECK(g_ev_bytes >= 2 * big);
	/* The first free is kept: the heap's free memory would be below what it uses. */
	dk_free(a);
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &mid), 0);
	CHECK_INT_EQ(mid.heap_bytes, during.heap_bytes);
	CHECK_INT_EQ(g_ev_free, 0);
	/* The second would leave 96 MiB free over almost nothing used: given back. */
	dk_free(b);
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &after), 0);
	CHECK(after.heap_bytes <= during.heap_bytes - big);
	CHECK(g_ev_free >= 1);
	CHECK(dk_mem_virt2iova(a) == DK_BAD_IOVA || dk_mem_virt2iova(b) == DK_BAD_IOVA);
	CHECK(after.free_bytes <= big + (4u << 20));
	dk_free(small);
	dk_mem_event_callback_unregister("test", NULL);
	dk_cleanup();
}

/* Give-back hysteresis: a heap that grows again right after giving memory
 * back keeps its size (no map/unmap per batch); once the hold has passed
 * without growth, the next free that leaves a region empty gives it back. */
DK_TEST(heap_cycling_big_batches_holds_its_size_then_shrinks)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	void *small = dk_malloc(NULL, 64, 0);
	REQUIRE(small != NULL);
	const size_t big = 96u << 20;
	struct dk_heap_stats grown, after, held, shrunk;
	/* First cycle: no hold yet, the second free gives a region back. */
	void *a = dk_malloc(NULL, big, 0), *b = dk_malloc(NULL, big, 0);
	REQUIRE(a != NULL && b != NULL);
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &grown), 0);
	dk_free(a);
	dk_free(b);
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &after), 0);
	CHECK(after.heap_bytes <= grown.heap_bytes - big);
	/* Second cycle right away: the growth makes the heap hold its size. */
	a = dk_malloc(NULL, big, 0);
	b = dk_malloc(NULL, big, 0);
	REQUIRE(a != NULL && b != NULL);
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &grown), 0);
	dk_free(a);
	dk_free(b);
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &held), 0);
	CHECK_INT_EQ(held.heap_bytes, grown.heap_bytes);
	CHECK(held.alloc_bytes < (1u << 20));
	/* The hold lasts a second from the last growth; then a block placed in
	 * a held region (no growth) and freed takes the region back out. */
	struct timespec ts = { 1, 200 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	void *c = dk_malloc(NULL, big, 0);
	REQUIRE(c != NULL);
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &after), 0);
	CHECK_INT_EQ(after.heap_bytes, held.heap_bytes); /* no growth */
	dk_free(c);
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &shrunk), 0);
	CHECK(shrunk.heap_bytes <= held.heap_bytes - big);
	dk_free(small);
	dk_cleanup();
}

DK_TEST(freeing_foreign_memory_is_refused_with_a_message)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	int on_stack;
	void *libc = malloc(32);
	dk_test_log_capture_start();
	dk_free(&on_stack);
	dk_free(libc);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not a block of a dmakit heap");
	CHECK_INT_EQ(dk_malloc_usable_size(libc), 0);
	free(libc);
	dk_cleanup();
}

/* A second dk_free of a block is reported and changes nothing: caught in
 * the thread cache (the block is in the bin) and in the heap (its header
 * says free), small and large classes. */
DK_TEST(double_free_is_reported_and_harmless)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	static const size_t sizes[] = { 64, 4096, 100000 };
	for (size_t i = 0; i < DK_ARRAY_SIZE(sizes); i++) {
		void *p = dk_malloc(NULL, sizes[i], 0);
		REQUIRE(p != NULL);
		dk_free(p);
		dk_test_log_capture_start();
		dk_free(p);
		CHECK_STR_CONTAINS(dk_test_log_captured(), "freed twice");
		dk_test_log_capture_stop();
		void *a = dk_malloc(NULL, sizes[i], 0), *b = dk_malloc(NULL, sizes[i], 0);
		CHECK(a != NULL && b != NULL && a != b);
		dk_free(a);
		dk_free(b);
	}
	/* Through to the heap: a full bin spills, then the block is freed again. */
	enum { N = 100 };
	void *blk[N];
	for (int i = 0; i < N; i++)
		REQUIRE((blk[i] = dk_malloc(NULL, 48, 0)) != NULL);
	for (int i = 0; i < N; i++)
		dk_free(blk[i]);
	dk_malloc_thread_flush(); /* every one of them is free in the heap now */
	dk_test_log_capture_start();
	dk_free(blk[0]);
	dk_free(blk[N - 1]);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "freed twice");
	dk_test_log_capture_stop();
	/* User data that holds whatever a cached block carries is no error. */
	uint64_t *d = dk_malloc(NULL, 64, 0);
	REQUIRE(d != NULL);
	void *other = dk_malloc(NULL, 64, 0);
	REQUIRE(other != NULL);
	dk_free(other); /* now other carries the cache's mark in its second word */
	d[1] = ((uint64_t *)other)[1];
	dk_test_log_capture_start();
	dk_free(d);
	CHECK(strstr(dk_test_log_captured(), "freed twice") == NULL);
	dk_test_log_capture_stop();
	void *x = dk_malloc(NULL, 64, 0), *y = dk_malloc(NULL, 64, 0);
	CHECK(x == d && y == other); /* both cached, last in first out */
	dk_free(x);
	dk_free(y);
	dk_malloc_thread_flush();
	CHECK_INT_EQ(live_blocks(), 0);
	dk_cleanup();
}

DK_TEST(thread_cache_reuses_and_flushes)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	void *a = dk_malloc(NULL, 200, 0);
	REQUIRE(a != NULL);
	uint64_t live = live_blocks();
	dk_free(a);
	CHECK_INT_EQ(live_blocks(), live); /* cached: still live in the heap's books */
	void *b = dk_malloc(NULL, 200, 0);
	CHECK(b == a);
	dk_free(b);
	CHECK_INT_EQ(live_blocks(), live);
	dk_malloc_thread_flush(); /* every cached block goes back: nothing else is live */
	CHECK_INT_EQ(live_blocks(), 0);
	dk_cleanup();
}

DK_TEST(thread_cache_hits_for_every_size_class)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	int misses = 0;
	for (size_t size = 1; size <= (1u << 20); size = size < 64 ? size + 1 : size * 9 / 8 + 3) {
		unsigned char *a = dk_malloc(NULL, size, 0);
		REQUIRE(a != NULL);
		CHECK(dk_malloc_usable_size(a) >= size);
		a[size - 1] = 1;
		dk_free(a);
		unsigned char *b = dk_malloc(NULL, size, 0);
		REQUIRE(b != NULL);
		if (b != a) {
			misses++;
			dk_test_fail(__FILE__, __LINE__, "size %zu: freed block not reused", size);
		}
		dk_free(b);
	}
	CHECK_INT_EQ(misses, 0);
	/* Above 1 MiB nothing is cached: the block goes straight back. */
	void *big = dk_malloc(NULL, 3u << 20, 0);
	REQUIRE(big != NULL);
	uint64_t live = live_blocks();
	dk_free(big);
	CHECK_INT_EQ(live_blocks(), live - 1);
	dk_malloc_thread_flush();
	CHECK_INT_EQ(live_blocks(), 0);
	dk_cleanup();
}

/* Batches: 512 blocks of 64 B and of 64 KiB, allocated and freed in
 * reverse twice; the second batch gets the first one's blocks back from the
 * cache (the bins hold a batch that size), a first allocation of a class
 * takes one block, not a batch, and everything goes back on a flush. */
DK_TEST(thread_cache_holds_a_batch_of_512_and_starts_with_one_block)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	static void *first[512], *second[512];
	const size_t sizes[] = {64, 64u << 10};
	for (unsigned int s = 0; s < 2; s++) {
		uint64_t live0 = live_blocks();
		void *one = dk_malloc(NULL, sizes[s], 0);
		REQUIRE(one != NULL);
		CHECK_INT_EQ(live_blocks(), live0 + 1); /* one block, not a batch */
		dk_free(one);
		for (int i = 0; i < 512; i++)
			REQUIRE((first[i] = dk_malloc(NULL, sizes[s], 0)) != NULL);
		for (int i = 512; i-- > 0;)
			dk_free(first[i]);
		uint64_t live = live_blocks();
		for (int i = 0; i < 512; i++)
			REQUIRE((second[i] = dk_malloc(NULL, sizes[s], 0)) != NULL);
		CHECK_INT_EQ(live_blocks(), live); /* all from the cache */
		int same = 1;
		for (int i = 0; i < 512; i++)
			same &= second[i] == first[i]; /* LIFO: the same order again */
		CHECK(same);
		for (int i = 512; i-- > 0;)
			dk_free(second[i]);
	}
	dk_malloc_thread_flush();
	CHECK_INT_EQ(live_blocks(), 0);
	dk_cleanup();
}

struct hammer_arg {
	unsigned int seed;
	int errors;
};

static void *hammer(void *argp)
{
	struct hammer_arg *arg = argp;
	enum { SLOTS = 256 };
	unsigned char *slot[SLOTS] = { 0 };
	size_t len[SLOTS] = { 0 };
	for (int i = 0; i < 200000; i++) {
		unsigned int r = rand_r(&arg->seed);
		int k = (int)(r % SLOTS);
		if (slot[k]) {
			unsigned char tag = (unsigned char)k;
			if (slot[k][0] != tag || slot[k][len[k] - 1] != tag)
				arg->errors++;
			dk_free(slot[k]);
			slot[k] = NULL;
		} else {
			len[k] = 1 + (r >> 8) % ((r & 1) ? 200 : 6000);
			slot[k] = dk_malloc(NULL, len[k], 0);
			if (!slot[k]) {
				arg->errors++;
				continue;
			}
			slot[k][0] = (unsigned char)k;
			slot[k][len[k] - 1] = (unsigned char)k;
		}
	}
	for (int k = 0; k < SLOTS; k++)
		dk_free(slot[k]);
	return NULL; /* the thread cache goes back to the heap at exit */
}

DK_TEST(threads_hammering_alloc_free)
{
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, 0), 0);
	pthread_t t[4];
	struct hammer_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i].seed = 1234u + (unsigned int)i;
		args[i].errors = 0;
		REQUIRE(pthread_create(&t[i], NULL, hammer, &args[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT_EQ(args[i].errors, 0);
	}
	CHECK_INT_EQ(live_blocks(), 0);
	dk_cleanup();
}

DK_TEST(hugepage_heap_when_root)
{
	long old = dk_test_hugepages_reserve(16);
	if (old < 0)
		SKIP("needs root and 16 free 2 MiB hugepages (echo N > /proc/sys/vm/nr_hugepages)");
	int rc = start(DK_HUGE_ALWAYS, 0);
	if (rc == 0) {
		unsigned char *p = dk_malloc(NULL, 1 << 20, 0);
		CHECK(p != NULL);
		struct dk_memseg ms;
		if (p) {
			p[0] = 1;
			CHECK_INT_EQ(dk_mem_virt2memseg(p, &ms), 0);
			CHECK_INT_EQ(ms.len, 2u << 20);
			CHECK(ms.flags & DK_MEMSEG_HUGE);
			dk_free(p);
		}
		dk_cleanup();
	}
	CHECK_INT_EQ(rc, 0);
	dk_test_hugepages_release(old);
}

static uint64_t pagemap_pa(const void *va)
{
	FILE *f = fopen("/proc/self/pagemap", "rb");
	uint64_t e = 0;
	long pg = sysconf(_SC_PAGESIZE);
	if (!f)
		return 0;
	if (fseek(f, (long)((uintptr_t)va / (uintptr_t)pg * 8), SEEK_SET) == 0 &&
	    fread(&e, 8, 1, f) != 1)
		e = 0;
	fclose(f);
	if (!(e >> 63))
		return 0;
	return (e & ((1ull << 55) - 1)) * (uint64_t)pg + (uintptr_t)va % (uintptr_t)pg;
}

DK_TEST(pa_mode_when_root)
{
	if (geteuid() != 0)
		SKIP("physical addresses need root (CAP_SYS_ADMIN for /proc/self/pagemap)");
	REQUIRE_INT_EQ(start(DK_HUGE_NEVER, DK_IOVA_MODE_PA), 0);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_PA);
	unsigned char *p = dk_malloc(NULL, 10000, 0);
	REQUIRE(p != NULL);
	for (int off = 0; off < 10000; off += 2500) {
		dk_iova_t io = dk_malloc_virt2iova(p + off);
		CHECK(io != DK_BAD_IOVA);
		CHECK(io != (uintptr_t)(p + off));
		CHECK_INT_EQ(io, pagemap_pa(p + off));
	}
	/* Within one 4 KiB page an IOVA-contiguous block always exists... */
	void *c = dk_malloc_flags(NULL, 3000, 0, 0, DK_SOCKET_ANY, DK_MALLOC_IOVA_CONTIG);
	REQUIRE(c != NULL);
	CHECK_INT_EQ(dk_mem_virt2iova((char *)c + 2999), dk_mem_virt2iova(c) + 2999);
	dk_free(c);
	/* ...across pages only if the kernel happened to give contiguous frames:
	 * either a verified block or a clean ENOMEM. */
	errno = 0;
	c = dk_malloc_flags(NULL, 3 * 4096, 0, 0, DK_SOCKET_ANY, DK_MALLOC_IOVA_CONTIG);
	if (c) {
		for (int off = 0; off < 3 * 4096; off += 4096)
			CHECK_INT_EQ(dk_mem_virt2iova((char *)c + off),
				     dk_mem_virt2iova(c) + (dk_iova_t)off);
		dk_free(c);
	} else {
		CHECK_INT_EQ(errno, ENOMEM);
	}
	dk_free(p);
	dk_cleanup();
}

DK_TEST(mem_limit_caps_growth)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.huge = DK_HUGE_NEVER;
	p.mem_limit = 8u << 20;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	errno = 0;
	CHECK(dk_malloc(NULL, 16u << 20, 0) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	void *q = dk_malloc(NULL, 1u << 20, 0);
	CHECK(q != NULL);
	dk_free(q);
	dk_cleanup();
}

DK_TEST(memory_options_from_environment)
{
	setenv("DMAKIT_HUGE", "sometimes", 1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(start(0, 0), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_HUGE=\"sometimes\" is not valid: use auto|never|always");
	setenv("DMAKIT_HUGE", "never", 1);
	setenv("DMAKIT_MEM_LIMIT", "12x", 1);
	CHECK_INT_EQ(start(0, 0), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_MEM_LIMIT");
	setenv("DMAKIT_MEM_LIMIT", "4M", 1);
	REQUIRE_INT_EQ(start(0, 0), 0);
	errno = 0;
	CHECK(dk_malloc(NULL, 6u << 20, 0) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	dk_cleanup();
	/* No primary of this instance runs: a secondary is refused, and says why. */
	setenv("DMAKIT_PROC_TYPE", "secondary", 1);
	CHECK_INT_EQ(start(0, 0), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "start the primary first");
	setenv("DMAKIT_PROC_TYPE", "bogus", 1);
	CHECK_INT_EQ(start(0, 0), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_PROC_TYPE=\"bogus\" is not valid");
	unsetenv("DMAKIT_PROC_TYPE");
	unsetenv("DMAKIT_MEM_LIMIT");
	unsetenv("DMAKIT_HUGE");
}
