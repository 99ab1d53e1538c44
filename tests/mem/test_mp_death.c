/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Processes of an instance that exit or die (issue 13): what they leave
 * behind must stay usable by the others. Same pattern as test_mp.c: the test
 * binary is the primary; secondaries are the same binary exec'd with
 * DK_MP_CHILD=<scenario> (a constructor runs it and exits). They talk through
 * a memzone, "death_box". Child exit status: 0 passed, else the line number
 * of the failed check (modulo 250, printed on stderr).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "mem/heap.h"
#include "mem/mem_config.h"
#include "mem/pages.h"
#include "child.h"
#include "tap.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define BIG (2u << 20) /* above the thread-cache sizes: goes to the heap itself */
#define GROW (3 * BIG) /* more than a fresh heap has: the heap grows */

struct box {
	uint64_t magic;
	volatile int stopped; /* the victim reached its stop point */
	volatile int victim_pid;
};
#define BOX_MAGIC 0x68746165646b64ull

/* ---- the child side ------------------------------------------------------ */

static struct box *g_box;
static const char *g_stop_at;

static int child_init(void)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	return dk_init(&p);
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

/* The kill test (item 5): workers hammer the instance and record every
 * block and memzone they hold here, so that after a worker is killed the
 * survivor frees what it held (blocks an application allocated are the
 * application's, docs/memory.md). No allocator can close the window between
 * dk_malloc returning and the caller storing the pointer (or between the
 * caller forgetting a block and dk_free taking it): the worker marks each
 * such window (op), so the survivor knows which one block a kill inside it
 * may have lost, and of what size. */
#define KW 2       /* workers */
#define KW_SLOTS 64
enum { OP_NONE, OP_ALLOC, OP_FREE, OP_ZONE /* in a memzone call: for the messages */ };
struct kbox {
	uint64_t magic;
	volatile int stop;
	volatile int pause; /* the survivor counts: workers wait at a safe point */
	int ext_fd;
	unsigned char *ext_va;
	struct kworker {
		volatile int pid;
		volatile int ready;
		volatile int paused; /* at the safe point, thread cache flushed */
		/* The marked window: allocating into blk[op_slot] (op_len bytes),
		 * or freeing op_ptr, which blk[op_slot] held. */
		volatile int op;
		volatile int op_slot;
		volatile size_t op_len;
		void *volatile op_ptr;
		void *volatile blk[KW_SLOTS];
	} w[KW];
};
#define EXT_LEN ((size_t)4 << 20)
#define BIG_GROW ((size_t)24 << 20) /* a growth of its own; frees give regions back */

/* Wait while the survivor counts the books (no lock held, no window open,
 * nothing cached). */
static void kill_worker_pause(struct kbox *kb, struct kworker *w)
{
	dk_malloc_thread_flush();
	__atomic_store_n(&w->paused, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&kb->pause, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&kb->stop, __ATOMIC_ACQUIRE)) {
		struct timespec ts = {0, 100 * 1000};
		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&w->paused, 0, __ATOMIC_RELEASE);
}

static void kill_worker(int me)
{
	const struct dk_memzone *mz = dk_memzone_lookup("kill_box");
	C_CHECK(mz != NULL);
	struct kbox *kb = mz->addr;
	C_CHECK(kb->magic == BOX_MAGIC);
	struct kworker *w = &kb->w[me];
	void *m = mmap(kb->ext_va, EXT_LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED_NOREPLACE, kb->ext_fd, 0);
	C_CHECK(m == kb->ext_va);
	w->pid = getpid();
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	unsigned int r = (unsigned int)getpid() * 2654435761u;
	unsigned int zones = 0, bigs = 0;
	int attached = 0;
	while (!__atomic_load_n(&kb->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&kb->pause, __ATOMIC_ACQUIRE)) {
			kill_worker_pause(kb, w);
			continue;
		}
		r = r * 1103515245u + 12345u;
		unsigned int k = (r >> 8) % KW_SLOTS, op = (r >> 20) % 256;
		if (op == 0) { /* a memzone, named after this process */
			char name[32];
			snprintf(name, sizeof(name), "kz.%d.%u", (int)getpid(), zones++ % 4);
			w->op = OP_ZONE;
			const struct dk_memzone *z = dk_memzone_lookup(name);
			if (z)
				C_CHECK(dk_memzone_free(z) == 0);
			else
				C_CHECK(dk_memzone_reserve(name, 1000 + (r & 4095), DK_SOCKET_ANY, 0, 0));
			w->op = OP_NONE;
		} else if (op == 1) { /* external memory: attach / detach here */
			C_CHECK((attached ? dk_extmem_detach : dk_extmem_attach)(kb->ext_va, EXT_LEN) == 0);
			attached = !attached;
		} else if (w->blk[k]) {
			void *p = w->blk[k];
			if (dk_malloc_usable_size(p) >= BIG_GROW)
				bigs--;
			w->op_ptr = p;
			w->op_slot = (int)k;
			w->op = OP_FREE;
			w->blk[k] = NULL;
			dk_free(p);
			w->op = OP_NONE;
		} else {
			size_t len = 16 + (r >> 12) % ((r & 0x10) ? 2048u : (64u << 10));
			if (op == 2 && bigs < 2) {
				len = BIG_GROW;
				bigs++;
			}
			w->op_len = len;
			w->op_slot = (int)k;
			w->op = OP_ALLOC;
			unsigned char *p = dk_malloc(NULL, len, 0);
			w->blk[k] = p;
			w->op = OP_NONE;
			C_CHECK(p != NULL);
			p[0] = p[len - 1] = 0x5a;
		}
	}
	for (int i = 0; i < KW_SLOTS; i++) {
		void *p = w->blk[i];
		w->blk[i] = NULL;
		dk_free(p);
	}
	if (attached)
		C_CHECK(dk_extmem_detach(kb->ext_va, EXT_LEN) == 0);
	for (unsigned int i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "kz.%d.%u", (int)getpid(), i);
		const struct dk_memzone *z = dk_memzone_lookup(name);
		if (z)
			C_CHECK(dk_memzone_free(z) == 0);
	}
	dk_malloc_thread_flush();
}

/* The victim's stop point: tell the primary, then wait to be killed. */
static void stop_here(const char *where)
{
	if (strcmp(where, g_stop_at) != 0)
		return;
	g_box->victim_pid = getpid();
	__atomic_store_n(&g_box->stopped, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

/* Allocate, check and free blocks of every kind: what a survivor must still
 * be able to do. */
static void use_heap(void)
{
	unsigned char *q = dk_malloc(NULL, GROW, 0);
	C_CHECK(q != NULL);
	pattern_fill(q, GROW, 9);
	void *small[64];
	for (int i = 0; i < 64; i++)
		C_CHECK((small[i] = dk_malloc(NULL, 16 + (size_t)i * 40, 0)) != NULL);
	const struct dk_memzone *mz = dk_memzone_reserve("survivor", 8192, DK_SOCKET_ANY, 0, 0);
	C_CHECK(mz != NULL);
	C_CHECK(pattern_ok(q, GROW, 9));
	for (int i = 0; i < 64; i++)
		dk_free(small[i]);
	C_CHECK(dk_memzone_free(mz) == 0);
	dk_free(q);
	dk_malloc_thread_flush();
}

static void child_main(const char *scen)
{
	dk_test_scen = scen;
	C_CHECK(child_init() == 0);
	C_CHECK(dk_process_type() == DK_PROC_SECONDARY);
	if (!strcmp(scen, "grow_exit")) {
		/* The heap has no pages yet: this growth creates its page list here. */
		const struct dk_memzone *mz = dk_memzone_reserve("grown", 4096, DK_SOCKET_ANY, 0, 0);
		C_CHECK(mz != NULL);
		unsigned char *q = dk_malloc(NULL, GROW, 0);
		C_CHECK(q != NULL);
		pattern_fill(q, GROW, 3);
		*(unsigned char **)mz->addr = q; /* the primary checks and frees it */
		dk_malloc_thread_flush();
	} else if (!strcmp(scen, "stop_in")) {
		const struct dk_memzone *mz = dk_memzone_lookup("death_box");
		C_CHECK(mz != NULL);
		g_box = mz->addr;
		C_CHECK(g_box->magic == BOX_MAGIC);
		g_stop_at = getenv("DK_MP_STOP_AT");
		C_CHECK(g_stop_at != NULL);
		dk__mem_test_point = stop_here;
		if (!strcmp(g_stop_at, "memzone_reserve"))
			(void)dk_memzone_reserve("victim_mz", GROW, DK_SOCKET_ANY, 0, 0);
		else
			(void)dk_malloc(NULL, GROW, 0); /* stops inside */
		C_CHECK(!"the stop point was reached");
	} else if (!strcmp(scen, "survive")) {
		use_heap();
	} else if (!strncmp(scen, "kill_worker", 11)) {
		kill_worker(atoi(scen + 11));
	} else if (!strcmp(scen, "cache_and_stop")) {
		/* Blocks in this thread's cache (small and large classes), then
		 * wait to be killed. */
		const struct dk_memzone *mz = dk_memzone_lookup("death_box");
		C_CHECK(mz != NULL);
		g_box = mz->addr;
		void *b[200];
		for (int i = 0; i < 200; i++)
			C_CHECK((b[i] = dk_malloc(NULL, 16 + (size_t)(i % 20) * 48, 0)) != NULL);
		void *large = dk_malloc(NULL, 64u << 10, 0);
		C_CHECK(large != NULL);
		for (int i = 0; i < 200; i++)
			dk_free(b[i]);
		dk_free(large);
		g_box->victim_pid = getpid();
		__atomic_store_n(&g_box->stopped, 1, __ATOMIC_RELEASE);
		for (;;)
			pause();
	} else {
		fprintf(stderr, "# unknown scenario %s\n", scen);
		_exit(99);
	}
	dk_cleanup();
	_exit(0);
}

/* Scenarios of a process that is (or tries to be) the primary. */
static void child_primary(const char *scen)
{
	dk_test_scen = scen;
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.proc_type = DK_PROC_PRIMARY;
	p.huge = DK_HUGE_NEVER;
	if (!strcmp(scen, "primary_hold")) {
		/* A primary with memory in use, until it is killed. */
		C_CHECK(dk_init(&p) == 0);
		const struct dk_memzone *mz = dk_memzone_reserve("pbox", 4096, DK_SOCKET_ANY, 0, 0);
		C_CHECK(mz != NULL);
		unsigned char *q = dk_malloc(NULL, GROW, 0);
		C_CHECK(q != NULL);
		pattern_fill(q, GROW, 5);
		*(unsigned char **)mz->addr = q;
		for (;;)
			pause();
	} else if (!strcmp(scen, "primary_refused")) {
		/* Over an instance whose primary died and whose secondary (our
		 * parent) lives: refused, and the parent is named. */
		C_CHECK(dk_init(&p) == -EBUSY);
		int pids[16];
		int n = dk_instance_procs_peek(NULL, NULL, pids, 16);
		C_CHECK(n >= 1);
		int found = 0;
		for (int i = 0; i < n && i < 16; i++)
			found += pids[i] == (int)getppid();
		C_CHECK(found == 1);
	} else if (!strcmp(scen, "primary_ok")) {
		C_CHECK(dk_init(&p) == 0);
		C_CHECK(dk_process_type() == DK_PROC_PRIMARY);
		use_heap();
		dk_cleanup();
	} else {
		fprintf(stderr, "# unknown scenario %s\n", scen);
		_exit(99);
	}
	dk_cleanup();
	_exit(0);
}

__attribute__((constructor)) static void maybe_child(void)
{
	const char *s = getenv("DK_MP_CHILD");
	if (s && !strncmp(s, "primary_", 8))
		child_primary(s);
	else if (s)
		child_main(s);
}

/* ---- the primary side ---------------------------------------------------- */

static int start_primary(void)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.proc_type = DK_PROC_PRIMARY;
	p.huge = DK_HUGE_NEVER;
	return dk_init(&p);
}

/* use_heap's checks, on the test's side. */
static void use_heap_here(void)
{
	unsigned char *q = dk_malloc(NULL, GROW, 0);
	REQUIRE(q != NULL);
	pattern_fill(q, GROW, 9);
	void *small[64];
	for (int i = 0; i < 64; i++)
		REQUIRE((small[i] = dk_malloc(NULL, 16 + (size_t)i * 40, 0)) != NULL);
	const struct dk_memzone *mz = dk_memzone_reserve("survivor", 8192, DK_SOCKET_ANY, 0, 0);
	CHECK(mz != NULL);
	CHECK(pattern_ok(q, GROW, 9));
	for (int i = 0; i < 64; i++)
		dk_free(small[i]);
	if (mz)
		CHECK_INT_EQ(dk_memzone_free(mz), 0);
	dk_free(q);
	dk_malloc_thread_flush();
}

/* Bytes of the internal heaps' regions, and what is allocated in them. */
static void heap_totals(uint64_t *region, uint64_t *alloc, uint64_t *count)
{
	*region = *alloc = *count = 0;
	dk_malloc_thread_flush();
	struct dk_heap_stats st;
	for (int s = 0; dk_malloc_get_stats(s, &st) == 0; s++) {
		*region += st.heap_bytes;
		*alloc += st.alloc_bytes;
		*count += st.alloc_count;
	}
}

/* Why, case 1: a secondary grows a heap (its page list is created there)
 * and exits with dk_cleanup; the primary then uses that memory. */
DK_TEST(heap_grown_by_a_secondary_outlives_it)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	uint64_t region, alloc, count;
	heap_totals(&region, &alloc, &count);
	REQUIRE_INT_EQ(region, 0); /* no page list yet: the secondary creates it */
	CHECK_INT_EQ(dk_test_wait_for(dk_test_spawn("grow_exit", NULL), 30), 0);
	const struct dk_memzone *mz = dk_memzone_lookup("grown");
	REQUIRE(mz != NULL);
	/* The memzone lies in the secondary's list too. Known here (the event
	 * thread attached the list; the lookup takes the layout lock, which
	 * orders this thread after that attach for ThreadSanitizer). */
	void *start;
	size_t len;
	CHECK_INT_EQ(dk_mem_contig_chunk(mz->addr, &start, &len, NULL), 0);
	unsigned char *q = *(unsigned char **)mz->addr;
	REQUIRE(q != NULL);
	CHECK_INT_EQ(dk_mem_contig_chunk(q, &start, &len, NULL), 0);
	CHECK(pattern_ok(q, GROW, 3));
	/* Allocations from the heap the secondary grew, then everything back. */
	unsigned char *r = dk_malloc(NULL, BIG, 0);
	REQUIRE(r != NULL);
	pattern_fill(r, BIG, 4);
	CHECK(pattern_ok(r, BIG, 4));
	dk_free(r);
	dk_free(q);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	uint64_t region2, alloc2, count2;
	heap_totals(&region2, &alloc2, &count2);
	CHECK_INT_EQ(alloc2, 0);
	CHECK_INT_EQ(count2, 0);
	CHECK_INT_EQ(dk__mem_pages_mapped(), region2); /* every page is in a heap */
	dk_cleanup();
}

/* Why, case 2: a secondary SIGKILLed while it holds a shared lock (stopped
 * at a test point inside the critical section). Another secondary and the
 * primary must go on, and the heap books come back to where they were. */
static void killed_inside(const char *point)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	const struct dk_memzone *mz = dk_memzone_reserve("death_box", sizeof(struct box),
							 DK_SOCKET_ANY, 0, 0);
	REQUIRE(mz != NULL);
	struct box *b = mz->addr;
	memset(b, 0, sizeof(*b));
	b->magic = BOX_MAGIC;
	uint64_t region, alloc, count;
	heap_totals(&region, &alloc, &count);

	const char *env[] = {"DK_MP_STOP_AT", point, NULL};
	pid_t victim = dk_test_spawn("stop_in", env);
	REQUIRE(victim > 0);
	int reached = 0;
	for (int i = 0; i < 3000 && !reached; i++) {
		reached = __atomic_load_n(&b->stopped, __ATOMIC_ACQUIRE);
		struct timespec ts = {0, 10 * 1000 * 1000};
		if (!reached)
			nanosleep(&ts, NULL);
	}
	if (!reached) {
		kill(victim, SIGKILL);
		waitpid(victim, NULL, 0);
	}
	REQUIRE(reached);
	REQUIRE_INT_EQ(kill(victim, SIGKILL), 0);
	CHECK_INT_EQ(dk_test_wait_for(victim, 10), 128 + SIGKILL);

	/* A secondary started after the death allocates and frees. */
	int st = dk_test_wait_for(dk_test_spawn("survive", NULL), 30);
	CHECK_INT_EQ(st, 0);
	if (st < 0)
		return; /* the locks are not robust: the primary would block too */
	/* So does the primary, and its books are where they were. */
	unsigned char *q = dk_malloc(NULL, GROW, 0);
	CHECK(q != NULL);
	dk_free(q);
	uint64_t region2, alloc2, count2;
	heap_totals(&region2, &alloc2, &count2);
	CHECK_INT_EQ(alloc2, alloc);
	CHECK_INT_EQ(count2, count);
	CHECK_INT_EQ(dk__mem_pages_mapped(), region2); /* no page lost outside the heaps */
	CHECK_INT_EQ(dk__heap_check(0), 0);
	CHECK(dk_memzone_lookup("victim_mz") == NULL); /* a reservation cut short is undone */
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	dk_cleanup();
}

DK_TEST(secondary_killed_holding_the_page_list_lock)
{
	killed_inside("pages_map");
}

DK_TEST(secondary_killed_holding_a_heap_lock)
{
	killed_inside("heap_grow");
}

/* Inside dk__memseg_set_iova of a growth: the layout lock, the page-list
 * mutex and the heap lock are all held. */
DK_TEST(secondary_killed_holding_the_layout_lock)
{
	killed_inside("layout_set_iova");
}

/* Inside dk_memzone_reserve, its block allocated: the table lock held. */
DK_TEST(secondary_killed_holding_the_memzone_lock)
{
	killed_inside("memzone_reserve");
}

/* Issue 13, item 4: the primary dies. A secondary keeps working on the
 * instance's memory and never hangs; a new primary is refused while the
 * secondary lives and names it; once the secondary is gone it starts. */
DK_TEST(primary_dies_secondary_goes_on_new_primary_waits)
{
	pid_t prim = dk_test_spawn("primary_hold", (const char *const[]){"DMAKIT_PROC_TYPE", "primary", NULL});
	REQUIRE(prim > 0);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.proc_type = DK_PROC_SECONDARY;
	int rc = -1;
	const struct dk_memzone *mz = NULL;
	for (int i = 0; i < 1000 && !mz; i++) {
		dk_test_log_capture_start(); /* "start the primary first" while it starts */
		rc = dk_init(&p);
		dk_test_log_capture_stop();
		if (rc == 0 && !(mz = dk_memzone_lookup("pbox"))) {
			dk_cleanup(); /* set up, but its memzone is not there yet */
			rc = -1;
		}
		if (!mz) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	if (!mz)
		kill(prim, SIGKILL);
	REQUIRE(mz != NULL);
	/* The memzone lies in a list this process's event thread attached:
	 * the layout lock orders this thread after that (as in test 1). */
	void *chunk;
	size_t chunk_len;
	(void)dk_mem_contig_chunk(mz->addr, &chunk, &chunk_len, NULL);
	unsigned char *q = NULL;
	for (int i = 0; i < 1000 && !(q = *(unsigned char *volatile *)mz->addr); i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	REQUIRE(q != NULL);
	CHECK(pattern_ok(q, GROW, 5));
	REQUIRE_INT_EQ(kill(prim, SIGKILL), 0);
	CHECK_INT_EQ(dk_test_wait_for(prim, 10), 128 + SIGKILL);

	/* The memory stays; allocation, free and memzones go on. */
	CHECK(pattern_ok(q, GROW, 5));
	use_heap_here();
	dk_free(q);

	CHECK_INT_EQ(dk_test_wait_for(dk_test_spawn("primary_refused", NULL), 30), 0);
	dk_cleanup();
	CHECK_INT_EQ(dk_test_wait_for(dk_test_spawn("primary_ok", NULL), 30), 0);
}

/* Issue 13, item 3: the blocks in a dead process's thread caches go back to
 * their heaps (the event thread of a live process reaps them within a
 * second or two). */
DK_TEST(thread_cache_of_a_killed_secondary_comes_back)
{
	REQUIRE_INT_EQ(start_primary(), 0);
	const struct dk_memzone *mz = dk_memzone_reserve("death_box", sizeof(struct box),
							 DK_SOCKET_ANY, 0, 0);
	REQUIRE(mz != NULL);
	struct box *b = mz->addr;
	memset(b, 0, sizeof(*b));
	b->magic = BOX_MAGIC;
	uint64_t region, alloc, count;
	heap_totals(&region, &alloc, &count);
	pid_t victim = dk_test_spawn("cache_and_stop", NULL);
	REQUIRE(victim > 0);
	for (int i = 0; i < 3000 && !__atomic_load_n(&b->stopped, __ATOMIC_ACQUIRE); i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	int reached = __atomic_load_n(&b->stopped, __ATOMIC_ACQUIRE);
	uint64_t region2, alloc2, count2;
	heap_totals(&region2, &alloc2, &count2);
	CHECK(count2 > count); /* its cached blocks count as allocated */
	kill(victim, SIGKILL);
	CHECK_INT_EQ(dk_test_wait_for(victim, 10), 128 + SIGKILL);
	REQUIRE(reached);
	for (int i = 0; i < 500; i++) {
		heap_totals(&region2, &alloc2, &count2);
		if (count2 == count && alloc2 == alloc)
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	CHECK_INT_EQ(count2, count);
	CHECK_INT_EQ(alloc2, alloc);
	CHECK_INT_EQ(dk__heap_check(0), 0);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	dk_cleanup();
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int free_zones_of(const struct dk_memzone *z, void *arg)
{
	if (!strncmp(z->name, arg, strlen(arg)))
		dk_memzone_free(z);
	return 0;
}

/* Blocks and bytes as the heap books count them (a block's header is 16
 * bytes, tlsf.h and slab.h). */
struct kcount {
	uint64_t count, bytes;
};

static void kcount_add(struct kcount *c, const void *p)
{
	c->count++;
	c->bytes += dk_malloc_usable_size(p) + 16;
}

static int count_zones(const struct dk_memzone *z, void *arg)
{
	if (!strncmp(z->name, "kz.", 3))
		kcount_add(arg, z->addr);
	return 0;
}

/* What the workers' records and memzones hold. */
static void kill_held(struct kbox *kb, struct kcount *c)
{
	for (int i = 0; i < KW; i++)
		for (int k = 0; k < KW_SLOTS; k++)
			if (kb->w[i].blk[k])
				kcount_add(c, kb->w[i].blk[k]);
	dk_memzone_walk(count_zones, c);
}

/* Start worker i; kill_ready waits until it runs. */
static pid_t kill_spawn(struct kbox *kb, int i)
{
	char scen[32];
	snprintf(scen, sizeof(scen), "kill_worker%d", i);
	kb->w[i].ready = 0;
	kb->w[i].paused = 0;
	return dk_test_spawn(scen, NULL);
}

/* Wait (10 s at most) until worker i runs (and, paused: waits at its safe
 * point). */
static int kill_ready(struct kbox *kb, int i, int paused)
{
	for (int t = 0; t < 100000; t++) {
		if (__atomic_load_n(&kb->w[i].ready, __ATOMIC_ACQUIRE) &&
		    (!paused || __atomic_load_n(&kb->w[i].paused, __ATOMIC_ACQUIRE)))
			return 0;
		struct timespec ts = {0, 100 * 1000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "# worker %d did not %s within 10 s\n", i, paused ? "pause" : "start");
	return -1;
}

static pid_t kill_start(struct kbox *kb, int i)
{
	pid_t pid = kill_spawn(kb, i);
	return pid > 0 && kill_ready(kb, i, 0) == 0 ? pid : -1;
}

/* Reap the thread caches of dead process pid now (and wait for any other
 * process reaping one): 0, or -1 after 10 s. */
static int kill_reap(int pid)
{
	for (int t = 0; t < 10000; t++) {
		dk__heap_reap_dead(0);
		int left = 0;
		for (int s = 0; s < DK__TC_SLOTS; s++) {
			int32_t o = __atomic_load_n(&dk__mem_sh->heaps.tc_owner[s], __ATOMIC_ACQUIRE);
			left += o == pid || o < 0;
		}
		if (!left)
			return 0;
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "# the thread caches of process %d were not reaped within 10 s\n", pid);
	return -1;
}

/* After worker i died: the survivor (this process) frees what it held. */
static void kill_cleanup(struct kbox *kb, int i, int pid)
{
	for (int k = 0; k < KW_SLOTS; k++) {
		void *p = kb->w[i].blk[k];
		kb->w[i].blk[k] = NULL;
		dk_free(p);
	}
	kb->w[i].op = OP_NONE;
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "kz.%d.", pid);
	dk_memzone_walk(free_zones_of, prefix);
}

struct kill_books {
	struct kcount base;   /* before the workers started */
	struct kcount lost;   /* blocks of marked windows lost */
	unsigned int freed;   /* blocks of marked frees the survivor finished */
	unsigned int unknown; /* rounds whose books did not add up */
};

/*
 * Worker i (pid) died; every worker waits at its safe point and its dead
 * caches are reaped. The books must be the base, plus what the records and
 * memzones hold, plus the blocks lost so far; exactly, or one block more
 * when i died inside a marked window: an allocation (a block of op_len
 * bytes, rounded to its class) or a free (the block op_ptr, which the
 * survivor then frees: nobody else holds it). Anything else is a leak
 * (logged with the window, counted in unknown).
 */
static void kill_account(struct kbox *kb, int i, int round, struct kill_books *bk)
{
	struct kworker *w = &kb->w[i];
	int op = w->op, slot = w->op_slot;
	size_t len = w->op_len;
	void *ptr = w->op_ptr;
	int win = OP_NONE;
	if (op == OP_ALLOC && slot >= 0 && slot < KW_SLOTS && !w->blk[slot])
		win = OP_ALLOC; /* the pointer did not land in the record */
	else if (op == OP_FREE && slot >= 0 && slot < KW_SLOTS && w->blk[slot] != ptr)
		win = OP_FREE; /* forgotten: dk_free may not have taken it */
	/* Any repair first: a reservation the dead worker cut short is undone
	 * by the next process that takes the memzone table's lock. */
	struct kcount zones = {0, 0};
	dk_memzone_walk(count_zones, &zones);
	uint64_t region, bytes, count;
	heap_totals(&region, &bytes, &count);
	struct kcount exp = {bk->base.count + bk->lost.count, bk->base.bytes + bk->lost.bytes};
	kill_held(kb, &exp);
	int64_t dc = (int64_t)(count - exp.count), db = (int64_t)(bytes - exp.bytes);
	if (dc == 0 && db == 0)
		return;
	if (dc == 1 && win == OP_ALLOC && db >= (int64_t)len + 16 &&
	    db <= (int64_t)(len + len / 4 + 64)) {
		bk->lost.count++;
		bk->lost.bytes += (uint64_t)db;
		return;
	}
	if (dc == 1 && win == OP_FREE && !(dk__tlsf_block_flags(ptr) & DK__TLSF_F_FREE) &&
	    (int64_t)dk_malloc_usable_size(ptr) + 16 == db) {
		dk_free(ptr);
		bk->freed++;
		return;
	}
	fprintf(stderr, "# round %d: %lld blocks, %lld bytes more than the records hold; worker %d died %s (%zu bytes, %p)\n",
		round, (long long)dc, (long long)db, i,
		win == OP_ALLOC ? "allocating" : win == OP_FREE ? "freeing" : op == OP_ZONE ? "in a memzone call" : "outside a marked window",
		len, ptr);
	bk->unknown++;
	bk->lost.count += (uint64_t)dc; /* the next rounds count from here */
	bk->lost.bytes += (uint64_t)db;
}

/* One kill: worker i dies at a random instant; the survivor checks the
 * books, allocates and frees at once (its time in *ms), then counts (the
 * replacement starts meanwhile) and frees what the dead worker held. */
static int kill_round(struct kbox *kb, pid_t *pid, int i, int round, struct kill_books *bk,
		      uint64_t *ms)
{
	kill(pid[i], SIGKILL);
	int st = dk_test_wait_for(pid[i], 10);
	if (st != 128 + SIGKILL) {
		fprintf(stderr, "# round %d: worker %d ended with %d before the kill\n", round, i, st);
		return -1;
	}
	uint64_t t0 = now_ms();
	int hc = dk__heap_check(0);
	void *a = dk_malloc(NULL, 100, 0), *b = dk_malloc(NULL, 3u << 20, 0);
	dk_free(a);
	dk_free(b);
	*ms = now_ms() - t0;
	if (hc != 0 || !a || !b || *ms > 10000) {
		fprintf(stderr, "# round %d: heap check %d, alloc %p %p, %llu ms\n", round, hc, a, b,
			(unsigned long long)*ms);
		return -1;
	}
	int dead = pid[i];
	__atomic_store_n(&kb->pause, 1, __ATOMIC_RELEASE);
	pid[i] = kill_spawn(kb, i);
	int rc = pid[i] > 0 ? 0 : -1;
	for (int j = 0; j < KW && rc == 0; j++)
		rc = kill_ready(kb, j, 1);
	if (rc == 0)
		rc = kill_reap(dead);
	if (rc == 0)
		kill_account(kb, i, round, bk);
	kill_cleanup(kb, i, dead);
	__atomic_store_n(&kb->pause, 0, __ATOMIC_RELEASE);
	return rc;
}

/* The external memory, where every worker can map it too: far from where
 * the loader and mmap put things (they move with each process's ASLR; a
 * worker once found its libraries there under ThreadSanitizer). 256 GiB
 * lies in the application range of every ThreadSanitizer layout. */
static unsigned char *ext_map(int fd)
{
	for (uintptr_t a = (uintptr_t)256 << 30; a < ((uintptr_t)320 << 30); a += (uintptr_t)4 << 30) {
		void *m = mmap((void *)a, EXT_LEN, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
		if (m == (void *)a)
			return m;
		if (m != MAP_FAILED)
			munmap(m, EXT_LEN); /* an old kernel took the address as a hint */
	}
	return mmap(NULL, EXT_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

/* Default kills: a round costs the random wait (1..20 ms) plus a worker's
 * start (fork, exec, dk_init: about 10 ms, while the survivor checks):
 * about 30 ms, 35 under AddressSanitizer, 75 under ThreadSanitizer. Every
 * build counts the books exactly (KILL_EXACT 0 would report a round that
 * does not add up instead of failing it: for hunting a loss by hand).
 * ThreadSanitizer, where every access is a call, once lost about one block
 * in 1000 kills in a memzone call: the few instructions between the TLSF
 * allocator marking a block used and the heap's record naming it, closed
 * since by dk__tlsf_alloc_named. */
#if defined(__SANITIZE_THREAD__)
#define KILL_ROUNDS 100
#define KILL_EXACT 1
#elif defined(__SANITIZE_ADDRESS__)
#define KILL_ROUNDS 150
#define KILL_EXACT 1
#else
#define KILL_ROUNDS 250
#define KILL_EXACT 1
#endif

/*
 * Issue 13, item 5: workers hammering allocation, free, memzones, external
 * memory attach/detach and heap growth/shrink are SIGKILLed at random
 * instants (DK_KILL_ROUNDS, default KILL_ROUNDS). After each kill the
 * survivor checks the heap books (the repair of a lock the dead worker held
 * runs there), allocates and frees within a bounded time, counts the books
 * exactly (kill_account) and frees what the dead worker held. At the end
 * the books are where they started plus exactly the blocks lost in marked
 * windows (an allocation killed between dk_malloc and the record).
 */
DK_TEST(kill_test_workers_killed_at_random)
{
	const char *env_rounds = getenv("DK_KILL_ROUNDS");
	int rounds = env_rounds ? atoi(env_rounds) : KILL_ROUNDS;
	uint64_t t_start = now_ms();
	REQUIRE_INT_EQ(start_primary(), 0);
	const struct dk_memzone *mz = dk_memzone_reserve("kill_box", sizeof(struct kbox),
							 DK_SOCKET_ANY, 0, 0);
	REQUIRE(mz != NULL);
	struct kbox *kb = mz->addr;
	memset(kb, 0, sizeof(*kb));
	kb->magic = BOX_MAGIC;
	kb->ext_fd = memfd_create("kill_ext", 0); /* inherited by the workers */
	REQUIRE(kb->ext_fd >= 0);
	REQUIRE(ftruncate(kb->ext_fd, (off_t)EXT_LEN) == 0);
	kb->ext_va = ext_map(kb->ext_fd);
	REQUIRE(kb->ext_va != MAP_FAILED);
	REQUIRE_INT_EQ(dk_extmem_register(kb->ext_va, EXT_LEN, NULL, 0, 4096), 0);
	uint64_t region, alloc, count;
	heap_totals(&region, &alloc, &count);
	struct kill_books bk = {.base = {count, alloc}};

	pid_t pid[KW];
	for (int i = 0; i < KW; i++)
		REQUIRE((pid[i] = kill_start(kb, i)) > 0);
	unsigned int r = 12345;
	uint64_t worst_ms = 0;
	int failed = 0;
	for (int k = 0; k < rounds && !failed; k++) {
		r = r * 1103515245u + 12345u;
		struct timespec ts = {0, (long)(1 + (r >> 16) % 20) * 1000 * 1000};
		nanosleep(&ts, NULL);
		uint64_t ms = 0;
		failed = kill_round(kb, pid, (int)((r >> 8) % KW), k, &bk, &ms) < 0;
		worst_ms = ms > worst_ms ? ms : worst_ms;
	}
	CHECK_INT_EQ(failed, 0);
	__atomic_store_n(&kb->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < KW; i++)
		if (pid[i] > 0)
			CHECK_INT_EQ(dk_test_wait_for(pid[i], 30), 0);
	CHECK_INT_EQ(dk__heap_check(0), 0);
	uint64_t region2, alloc2, count2;
	heap_totals(&region2, &alloc2, &count2);
	fprintf(stderr, "# %d kills in %llu ms: %llu blocks (%llu bytes) lost in marked allocations, %u marked frees finished by the survivor, %u rounds unexplained; worst survivor round %llu ms\n",
		rounds, (unsigned long long)(now_ms() - t_start),
		(unsigned long long)bk.lost.count, (unsigned long long)bk.lost.bytes, bk.freed,
		bk.unknown, (unsigned long long)worst_ms);
	if (KILL_EXACT)
		CHECK_INT_EQ(bk.unknown, 0);
	CHECK(count2 <= count + 2u * (unsigned)rounds);
	CHECK_INT_EQ(count2, count + bk.lost.count); /* exactly */
	CHECK_INT_EQ(alloc2, alloc + bk.lost.bytes);
	CHECK_INT_EQ(dk__mem_pages_mapped(), region2); /* no page outside the heaps */
	CHECK_INT_EQ(dk_extmem_unregister(kb->ext_va, EXT_LEN), 0);
	munmap(kb->ext_va, EXT_LEN);
	close(kb->ext_fd);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	dk_cleanup();
}

/* dk_instance_procs_peek's errors; the caller is never listed. */
DK_TEST(instance_procs_peek_errors)
{
	int pids[4];
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_instance_procs_peek(NULL, NULL, pids, 4), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no instance with prefix");
	CHECK_INT_EQ(dk_instance_procs_peek(NULL, NULL, NULL, 1), -EINVAL);
	CHECK_INT_EQ(dk_instance_procs_peek("bad/prefix", NULL, pids, 4), -EINVAL);
	dk_test_log_capture_stop();
	REQUIRE_INT_EQ(start_primary(), 0);
	CHECK_INT_EQ(dk_instance_procs_peek(NULL, NULL, pids, 4), 0); /* only this process */
	dk_cleanup();
}
