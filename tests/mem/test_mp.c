/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Primary and secondary processes (src/mem/mem_mp.c and the shared tables
 * behind it). The test binary is the primary; secondaries are the same
 * binary exec'd with DK_MP_CHILD=<scenario> (a constructor runs the scenario
 * and exits before the TAP main). They talk through a memzone, "mp_box".
 * Child exit status: 0 passed, else the line number of the failed check
 * (modulo 256, and the line printed on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "child.h"
#include "hugepages.h"
#include "tap.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define BIG (2u << 20) /* above the thread-cache sizes: goes to the heap itself */
#define EXT_LEN ((size_t)4 << 20)

struct box {
	uint64_t magic;
	unsigned char *p; /* primary's block, freed by the child */
	dk_iova_t p_iova;
	unsigned char *q; /* child's block, freed by the primary */
	unsigned char *ext_va;
	int ext_fd;
	int ext_socket;
	unsigned char *ext_obj; /* child's block in the external heap */
	/* Written by the primary's event callback (on its event thread). */
	volatile uint64_t seen_alloc_va, seen_alloc_len, seen_free_va, seen_free_len;
	volatile int go;
	volatile int child_done;
	uint64_t child_errors;
};
#define BOX_MAGIC 0x786f62706d6b64ull

/* ---- the child side ------------------------------------------------------ */


static int child_init(void)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	return dk_init(&p);
}

static struct box *child_box(void)
{
	const struct dk_memzone *mz = dk_memzone_lookup("mp_box");
	C_CHECK(mz != NULL);
	struct box *b = mz->addr;
	C_CHECK(b->magic == BOX_MAGIC);
	return b;
}

static void pattern_fill(unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

static int pattern_ok(const unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 7 + seed))
			return 0;
	return 1;
}

/* Allocate and free random sizes, each block checked before it goes. */
static uint64_t hammer(unsigned int seed, int rounds)
{
	enum { SLOTS = 64 };
	unsigned char *slot[SLOTS] = {0};
	size_t len[SLOTS] = {0};
	uint64_t errors = 0;
	unsigned int r = seed;
	for (int i = 0; i < rounds; i++) {
		r = r * 1103515245u + 12345u;
		unsigned int k = (r >> 8) % SLOTS;
		if (slot[k]) {
			if (!pattern_ok(slot[k], len[k], seed + k))
				errors++;
			dk_free(slot[k]);
			slot[k] = NULL;
		} else {
			/* half small (thread caches and runs of small blocks),
			 * half up to 96 KiB (larger classes and TLSF) */
			len[k] = 16 + (r >> 12) % ((r & 0x10) ? 4096u : (96u << 10));
			slot[k] = dk_malloc(NULL, len[k], 0);
			if (!slot[k]) {
				errors++;
				continue;
			}
			pattern_fill(slot[k], len[k], seed + k);
		}
	}
	for (int k = 0; k < SLOTS; k++) {
		if (slot[k] && !pattern_ok(slot[k], len[k], seed + k))
			errors++;
		dk_free(slot[k]);
	}
	return errors;
}

static void child_main(const char *scen)
{
	dk_test_scen = scen;
	if (!strcmp(scen, "attach")) {
		C_CHECK(child_init() == 0);
		C_CHECK(dk_process_type() == DK_PROC_SECONDARY);
		struct box *b = child_box();
		C_CHECK(pattern_ok(b->p, BIG, 1));
		C_CHECK(dk_mem_virt2iova(b->p) == b->p_iova);
		/* Growth in the secondary: a block the primary has no pages for yet. */
		unsigned char *q = dk_malloc(NULL, 3 * BIG, 0);
		C_CHECK(q != NULL);
		C_CHECK(dk_mem_virt2iova(q) != DK_BAD_IOVA);
		pattern_fill(q, 3 * BIG, 2);
		b->q = q;
		dk_free(b->p); /* allocated by the primary */
		b->p = NULL;
		const struct dk_memzone *mz = dk_memzone_reserve("from_child", 4096, DK_SOCKET_ANY, 0, 0);
		C_CHECK(mz != NULL);
		memset(mz->addr, 0x77, 4096);
		dk_cleanup();
		C_CHECK(dk_process_type() == DK_PROC_AUTO);
	} else if (!strcmp(scen, "events")) {
		C_CHECK(child_init() == 0);
		struct box *b = child_box();
		/* Heap growth here: the primary's callback ran before dk_malloc returns. */
		unsigned char *q = dk_malloc(NULL, 40u << 20, 0);
		C_CHECK(q != NULL);
		uint64_t a = b->seen_alloc_va, l = b->seen_alloc_len;
		C_CHECK(a <= (uintptr_t)q && (uintptr_t)q + (40u << 20) <= a + l);
		b->q = q;
		/* Two big blocks in regions of their own: when the second is freed
		 * the first's free region is more than the heap keeps, so the
		 * second's region goes back: FREE reaches the primary too. */
		unsigned char *big1 = dk_malloc(NULL, 100u << 20, 0);
		unsigned char *big2 = dk_malloc(NULL, 100u << 20, 0);
		C_CHECK(big1 && big2);
		dk_free(big1);
		dk_free(big2);
		/* ... and before dk_free returned. */
		uint64_t fa = b->seen_free_va, fl = b->seen_free_len;
		C_CHECK(fa <= (uintptr_t)big2 && (uintptr_t)big2 + (100u << 20) <= fa + fl);
		b->p = big2;
		dk_free(q);
		dk_cleanup();
	} else if (!strcmp(scen, "auto")) {
		C_CHECK(child_init() == 0);
		C_CHECK(dk_process_type() == DK_PROC_SECONDARY);
		dk_cleanup();
	} else if (!strcmp(scen, "expect_error")) {
		/* DK_MP_WANT: the negative errno dk_init must return. */
		int want = atoi(getenv("DK_MP_WANT"));
		const char *at = getenv("DK_MP_TAKE");
		if (at) {
			/* Occupy the primary's address before dk_init. */
			void *a = (void *)strtoull(at, NULL, 0);
			void *m = mmap(a, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
				       -1, 0);
			C_CHECK(m == a);
		}
		int rc = child_init();
		if (rc != want)
			fprintf(stderr, "# child: dk_init returned %d, want %d\n", rc, want);
		C_CHECK(rc == want);
		C_CHECK(dk_initialized() == 0);
	} else if (!strcmp(scen, "ext")) {
		C_CHECK(child_init() == 0);
		struct box *b = child_box();
		int sock = dk_heap_get_socket("mp_ext");
		C_CHECK(sock == b->ext_socket);
		C_CHECK(dk_heap_socket_is_external(sock) == 1);
		/* Not attached here yet: allocating from it must fail, not crash. */
		errno = 0;
		C_CHECK(dk_malloc_socket(NULL, 1000, 0, sock) == NULL);
		C_CHECK(errno == ENXIO);
		void *m = mmap(b->ext_va, EXT_LEN, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED_NOREPLACE, b->ext_fd, 0);
		C_CHECK(m == b->ext_va);
		int rc = dk_heap_memory_attach("mp_ext", b->ext_va, EXT_LEN);
		C_CHECK(rc == 0 || rc == -EEXIST);
		C_CHECK(dk_heap_memory_attach("mp_ext", b->ext_va, EXT_LEN) == -EEXIST);
		unsigned char *x = dk_malloc_socket(NULL, 1000, 0, sock);
		C_CHECK(x != NULL);
		C_CHECK(x >= b->ext_va && x < b->ext_va + EXT_LEN);
		memset(x, 0xab, 1000);
		b->ext_obj = x;
		C_CHECK(dk_heap_memory_detach("mp_ext", b->ext_va, EXT_LEN) == 0);
		C_CHECK(dk_heap_memory_detach("mp_ext", b->ext_va, EXT_LEN) == -ENOENT);
		munmap(m, EXT_LEN);
		dk_cleanup();
	} else if (!strcmp(scen, "hammer")) {
		C_CHECK(child_init() == 0);
		struct box *b = child_box();
		while (!__atomic_load_n(&b->go, __ATOMIC_ACQUIRE))
			;
		b->child_errors = hammer(77, 20000);
		dk_malloc_thread_flush();
		__atomic_store_n(&b->child_done, 1, __ATOMIC_RELEASE);
		dk_cleanup();
	} else {
		fprintf(stderr, "# unknown scenario %s\n", scen);
		_exit(99);
	}
	_exit(0);
}

__attribute__((constructor)) static void maybe_child(void)
{
	const char *s = getenv("DK_MP_CHILD");
	if (s)
		child_main(s);
}

/* ---- the primary side ---------------------------------------------------- */

static int run_child(const char *scen, const char *const *env)
{
	return dk_test_wait(dk_test_spawn(scen, env));
}

static int start_primary_huge(int huge)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.proc_type = DK_PROC_PRIMARY;
	p.huge = huge;
	return dk_init(&p);
}

static int start_primary(void)
{
	return start_primary_huge(DK_HUGE_NEVER);
}

static struct box *make_box(void)
{
	const struct dk_memzone *mz = dk_memzone_reserve("mp_box", sizeof(struct box),
							 DK_SOCKET_ANY, 0, 0);
	if (!mz)
		return NULL;
	struct box *b = mz->addr;
	memset(b, 0, sizeof(*b));
	b->magic = BOX_MAGIC;
	b->ext_fd = -1;
	return b;
}

static void shares_layout(int huge)
{
	REQUIRE_INT_EQ(start_primary_huge(huge), 0);
	CHECK_INT_EQ(dk_process_type(), DK_PROC_PRIMARY);
	struct box *b = make_box();
	REQUIRE(b != NULL);
	struct dk_heap_stats before, after;
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &before), 0);
	b->p = dk_malloc(NULL, BIG, 0);
	REQUIRE(b->p != NULL);
	pattern_fill(b->p, BIG, 1);
	b->p_iova = dk_mem_virt2iova(b->p);

	CHECK_INT_EQ(run_child("attach", NULL), 0);

	/* What the secondary did is here: its free, its block, its memzone. */
	CHECK(b->p == NULL);
	REQUIRE(b->q != NULL);
	CHECK(pattern_ok(b->q, 3 * BIG, 2));
	CHECK(dk_mem_virt2iova(b->q) != DK_BAD_IOVA);
	const struct dk_memzone *mz = dk_memzone_lookup("from_child");
	REQUIRE(mz != NULL);
	CHECK(((unsigned char *)mz->addr)[4095] == 0x77);
	if (huge == DK_HUGE_ALWAYS) {
		/* The child's growth came from hugepages of the shared list. */
		struct dk_memseg ms;
		REQUIRE_INT_EQ(dk_mem_virt2memseg(b->q, &ms), 0);
		CHECK(ms.flags & DK_MEMSEG_HUGE);
		CHECK_INT_EQ(ms.len, 2u << 20);
	}
	dk_free(b->q);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	dk_malloc_thread_flush(); /* the memzone's block went to this thread's cache */
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &after), 0);
	CHECK_INT_EQ(after.alloc_count, before.alloc_count);
	CHECK_INT_EQ(after.alloc_bytes, before.alloc_bytes);
	dk_cleanup();
}

DK_TEST(secondary_shares_layout_heaps_and_memzones)
{
	shares_layout(DK_HUGE_NEVER);
}

/* The same on 2 MiB hugepages (hugetlb memfds opened through /proc). */
DK_TEST(secondary_shares_hugepage_memory_when_root)
{
	long old = dk_test_hugepages_reserve(24);
	if (old < 0)
		SKIP("needs root and 24 free 2 MiB hugepages (echo N > /proc/sys/vm/nr_hugepages)");
	shares_layout(DK_HUGE_ALWAYS);
	dk_test_hugepages_release(old);
}

static void record(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	struct box *b = arg;
	if (ev == DK_MEM_EVENT_ALLOC) {
		b->seen_alloc_va = (uintptr_t)va;
		b->seen_alloc_len = len;
	} else {
		b->seen_free_va = (uintptr_t)va;
		b->seen_free_len = len;
	}
}

/* Memory a secondary maps or unmaps reaches the primary's event callbacks
 * (its VFIO containers) before the secondary goes on. */
DK_TEST(memory_events_cross_processes)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	struct box *b = make_box();
	REQUIRE(b != NULL);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("mp_record", record, b), 0);
	CHECK_INT_EQ(run_child("events", NULL), 0);
	CHECK(b->q != NULL && b->p != NULL); /* the child got through both checks */
	CHECK_INT_EQ(dk_mem_event_callback_unregister("mp_record", b), 0);
	dk_cleanup();
}

DK_TEST(auto_joins_a_running_primary)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	REQUIRE(make_box() != NULL);
	const char *env[] = {"DMAKIT_PROC_TYPE", "auto", NULL};
	CHECK_INT_EQ(run_child("auto", env), 0);
	dk_cleanup();
}

DK_TEST(second_primary_and_orphan_secondary_are_refused)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	char want[16];
	snprintf(want, sizeof(want), "%d", -EBUSY);
	const char *env[] = {"DMAKIT_PROC_TYPE", "primary", "DK_MP_WANT", want, NULL};
	CHECK_INT_EQ(run_child("expect_error", env), 0);
	/* In-memory secondaries make no sense. */
	snprintf(want, sizeof(want), "%d", -EINVAL);
	const char *env2[] = {"DMAKIT_IN_MEMORY", "1", "DK_MP_WANT", want, NULL};
	CHECK_INT_EQ(run_child("expect_error", env2), 0);
	/* A second primary in memory is fine: it shares nothing. */
	dk_cleanup();

	snprintf(want, sizeof(want), "%d", -ENOENT);
	const char *env3[] = {"DK_MP_WANT", want, NULL};
	CHECK_INT_EQ(run_child("expect_error", env3), 0);
	/* And here too, in this process. */
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.proc_type = DK_PROC_SECONDARY;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_init(&p), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "start the primary first");
	dk_test_log_capture_stop();
}

DK_TEST(secondary_whose_va_is_taken_fails_cleanly)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	struct box *b = make_box();
	REQUIRE(b != NULL);
	void *p = dk_malloc(NULL, BIG, 0);
	REQUIRE(p != NULL);
	char want[16], at[32];
	snprintf(want, sizeof(want), "%d", -EADDRINUSE);
	snprintf(at, sizeof(at), "%#lx", (unsigned long)p & ~4095ul);
	const char *env[] = {"DK_MP_WANT", want, "DK_MP_TAKE", at, NULL};
	CHECK_INT_EQ(run_child("expect_error", env), 0);
	dk_free(p);
	dk_cleanup();
}

DK_TEST(external_memory_is_attached_per_process)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	struct box *b = make_box();
	REQUIRE(b != NULL);
	int fd = memfd_create("mp_ext", 0); /* inherited by the child */
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)EXT_LEN) == 0);
	unsigned char *va = mmap(NULL, EXT_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(va != MAP_FAILED);
	REQUIRE_INT_EQ(dk_heap_create("mp_ext"), 0);
	REQUIRE_INT_EQ(dk_heap_memory_add("mp_ext", va, EXT_LEN, NULL, EXT_LEN / 4096, 4096), 0);
	b->ext_va = va;
	b->ext_fd = fd;
	b->ext_socket = dk_heap_get_socket("mp_ext");
	CHECK_INT_EQ(run_child("ext", NULL), 0);
	REQUIRE(b->ext_obj != NULL);
	CHECK(b->ext_obj[0] == 0xab && b->ext_obj[999] == 0xab);
	/* Freed here, allocated there; then the chunk can go. */
	CHECK_INT_EQ(dk_heap_memory_remove("mp_ext", va, EXT_LEN), -EBUSY);
	dk_free(b->ext_obj);
	CHECK_INT_EQ(dk_heap_memory_remove("mp_ext", va, EXT_LEN), 0);
	CHECK_INT_EQ(dk_heap_destroy("mp_ext"), 0);
	munmap(va, EXT_LEN);
	close(fd);
	dk_cleanup();
}

DK_TEST(two_processes_hammer_one_heap)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	struct box *b = make_box();
	REQUIRE(b != NULL);
	struct dk_heap_stats before, after;
	dk_malloc_thread_flush();
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &before), 0);
	pid_t pid = dk_test_spawn("hammer", NULL);
	REQUIRE(pid > 0);
	__atomic_store_n(&b->go, 1, __ATOMIC_RELEASE);
	uint64_t errors = hammer(5, 20000);
	CHECK_INT_EQ(dk_test_wait(pid), 0);
	CHECK_INT_EQ(errors, 0);
	CHECK_INT_EQ(b->child_errors, 0);
	CHECK_INT_EQ(b->child_done, 1);
	dk_malloc_thread_flush();
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &after), 0);
	CHECK_INT_EQ(after.alloc_count, before.alloc_count);
	CHECK_INT_EQ(after.alloc_bytes, before.alloc_bytes);
	dk_cleanup();
}

DK_TEST(heap_stats_peek_reads_a_running_primary)
{
	struct dk_heap_stats st[DK_MAX_HEAPS];
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_stats_peek(NULL, NULL, st, DK_MAX_HEAPS), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no primary process runs with prefix");
	CHECK_INT_EQ(dk_heap_stats_peek(NULL, NULL, NULL, 1), -EINVAL);
	CHECK_INT_EQ(dk_heap_stats_peek("bad/prefix", NULL, st, 1), -EINVAL);
	dk_test_log_capture_stop();

	REQUIRE_INT_EQ(start_primary(), 0);
	void *p = dk_malloc(NULL, BIG, 0);
	REQUIRE(p != NULL);
	REQUIRE_INT_EQ(dk_heap_create("peeked"), 0);
	dk_malloc_thread_flush();
	struct dk_heap_stats mine;
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &mine), 0);
	int n = dk_heap_stats_peek(NULL, NULL, st, DK_MAX_HEAPS);
	REQUIRE(n >= 2);
	CHECK_STR_EQ(st[0].name, "socket_0");
	CHECK_INT_EQ(st[0].heap_bytes, mine.heap_bytes);
	CHECK_INT_EQ(st[0].alloc_bytes, mine.alloc_bytes);
	CHECK_INT_EQ(st[0].alloc_count, mine.alloc_count);
	CHECK(st[0].greatest_free <= mine.greatest_free);
	CHECK(st[0].greatest_free * 2 > mine.greatest_free);
	int found = 0;
	for (int i = 0; i < n; i++)
		found += !strcmp(st[i].name, "peeked") && st[i].socket_id >= DK_EXTERNAL_SOCKET_BASE;
	CHECK_INT_EQ(found, 1);
	CHECK_INT_EQ(dk_heap_stats_peek(NULL, NULL, st, 1), n); /* count beyond max */

	/* The CLI prints the same (when the build told us where it is). */
	const char *cli = getenv("DK_TEST_DMAKIT");
	if (cli) {
		char cmd[4096];
		snprintf(cmd, sizeof(cmd), "%s heaps --json", cli);
		FILE *f = popen(cmd, "r");
		REQUIRE(f != NULL);
		char out[8192];
		size_t len = fread(out, 1, sizeof(out) - 1, f);
		out[len] = 0;
		CHECK_INT_EQ(pclose(f), 0);
		CHECK_STR_CONTAINS(out, "\"name\": \"socket_0\"");
		CHECK_STR_CONTAINS(out, "\"name\": \"peeked\"");
		char want[64];
		snprintf(want, sizeof(want), "\"heap_bytes\": %llu", (unsigned long long)mine.heap_bytes);
		CHECK_STR_CONTAINS(out, want);
		/* The processes of the instance: this one, the primary. */
		snprintf(want, sizeof(want), "\"pid\": %d", (int)getpid());
		CHECK_STR_CONTAINS(out, want);
		CHECK_STR_CONTAINS(out, "\"primary\": true");
	}
	dk_free(p);
	CHECK_INT_EQ(dk_heap_destroy("peeked"), 0);
	dk_cleanup();
}
