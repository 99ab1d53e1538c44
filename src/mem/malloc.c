/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The allocation API (dmakit/malloc.h): heap table, internal heaps that
 * grow from pages.c and give whole free regions back, and per-thread caches.
 *
 * Thread cache: for internal heaps 0..DK__TC_HEAPS-1, blocks up to
 * DK__TC_MAX_SIZE freed go to a per-thread, per-heap, per-class LIFO list and
 * are handed out again without taking the heap lock. Classes are 16 bytes
 * wide up to 1 KiB, 256 bytes wide up to 4 KiB, then four per power of two
 * up to 1 MiB. A hit is inline in dk_malloc_flags and dk_free: the cache
 * pointer in TLS, its generation, the bin. Cached blocks stay allocated in
 * the heap's books (statistics count them as live).
 *
 * Depth of a bin, so that a batch of a few hundred blocks allocated then
 * freed stays off the heap lock once warm:
 *  - small classes (up to 4 KiB, served by the heap's runs, slab.c): up to
 *    DK__TC_BIN_BYTES of blocks, at least DK__TC_DEPTH and at most
 *    DK__TC_DEPTH_MAX blocks (64 B: 1024 blocks; 4 KiB: 32). An empty bin
 *    is refilled with half its depth (at most DK__TC_REFILL_MAX) in one
 *    heap-lock round trip, a full one gives half back (at most
 *    DK__TC_SPILL_MAX) in one. Bound: per thread and heap, about 4 MiB in
 *    the 1 KiB-wide classes plus 32 blocks of each of the 12 classes above.
 *  - large classes (4 KiB .. 1 MiB; up to 64 KiB blocks of the slab's
 *    medium runs, 8 blocks a run, above that TLSF blocks of the class size): at most
 *    DK__TC_LARGE_BUDGET bytes per thread over all of them (and at most
 *    DK__TC_DEPTH_MAX blocks per bin), plus one refill's worth on free
 *    (DK__TC_LARGE_SLACK: a batch of the budget's size comes back whole);
 *    an empty bin takes min(16, 1 MiB / class size) blocks per heap-lock
 *    round trip, a bin over the budget gives half its blocks back in one.
 *  - the first refills of a bin (after a give-back too) take 1, 2, 4, ...
 *    blocks: a thread that allocates one block of a class holds no batch.
 * Blocks a refill takes go into the bin (in the thread's slot of the shared
 * config) before the heap lock is released, and every block moving between
 * bin and heap (refill or spill) is named in the heap's HP_BIN_MOVE record
 * first: the repair after a death frees the one left between the two
 * (repair_bin_move), so nothing is lost.
 * dk_cleanup bumps a generation so caches of other threads are dropped, not
 * returned, the next time those threads use them.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dmakit/malloc.h>

#include "core/pshared.h"
#include "mem/heap.h"
#include "core/lock_assert.h"
#include "mem/mem_config.h"
#include "mem/memseg.h"
#include "mem/pages.h"

#define DK_LOG_COMPONENT "malloc"
#include "core/log_internal.h"

#define DK__TC_HEAPS 8
#define DK__TC_FINE 64     /* classes 0..63: 16-byte steps, sizes 1..1024 */
#define DK__TC_SMALL 76    /* classes 64..75: 256-byte steps, sizes 1025..4096 */
#define DK__TC_CLASSES 108 /* classes 76..107: 4 per power of two, sizes 4097..1 MiB */
#define DK__TC_SMALL_MAX 4096u
#define DK__TC_MAX_SIZE (1u << 20)
#define DK__TC_DEPTH 32          /* least depth of a small bin */
#define DK__TC_DEPTH_MAX 1024    /* most blocks in any bin */
#define DK__TC_BIN_BYTES (64u << 10) /* a small bin's depth in bytes (above the least) */
#define DK__TC_REFILL_MAX 128u   /* small blocks taken per heap-lock round trip */
#define DK__TC_SPILL_MAX 256u    /* small blocks given back per heap-lock round trip */
#define DK__TC_LARGE_BATCH 16u   /* large blocks taken per round trip, at most */
#define DK__TC_LARGE_BUDGET (32u << 20) /* bytes in a thread's large bins */
#define DK__TC_LARGE_SLACK DK__TC_MAX_SIZE /* a free may go over it by one refill (<= 1 MiB) */
/* A wholly free region goes back to the system only when the heap keeps at
 * least max(DK__RETAIN_MIN, its allocated bytes) free besides: small
 * alloc/free cycles do not map and unmap pages every time, and an idle heap
 * shrinks to twice what it uses (or DK__RETAIN_MIN).
 * Hysteresis: a heap that has to grow within DK__RETAIN_DECAY_NS of giving
 * memory back is cycling (batches of big blocks allocated and freed over
 * and over); it then keeps the size it grew to, until DK__RETAIN_DECAY_NS
 * pass without such a growth. A heap used once still shrinks at the frees
 * that follow. */
#define DK__RETAIN_MIN (64ull << 20)
#define DK__RETAIN_DECAY_NS 1000000000ull
#define DK__GROW_MIN (2u << 20) /* grow internal heaps by at least 2 MiB */
#define DK__DEFAULT_ALIGN 16u
_Static_assert(DK__TC_SMALL == DK__SLAB_SMALL_CLASSES, "small classes are the slab's small classes");
_Static_assert(DK__TC_SMALL_MAX == DK__SLAB_SMALL_MAX, "largest small class");
/* Large classes DK__TC_SMALL .. DK__SLAB_CLASSES-1 (above 4 KiB up to 64 KiB:
 * 4 per power of two, the last one 2^15 + 4 * 2^13) come from the slab's
 * medium runs; the classes above, from TLSF blocks. */
_Static_assert(DK__SLAB_CLASSES - DK__TC_SMALL == 16 && DK__SLAB_MAX_PAYLOAD == 65536u,
	       "medium runs serve the large classes up to 64 KiB");

static unsigned int g_generation = 1;

/* The heap table: part of the memory layer's shared state (mem_config.h).
 * n_internal is 0 until dk__heap_init and after dk__heap_cleanup: the heaps
 * are not set up. */
static inline struct dk__heap_table *heaps(void)
{
	return &dk__mem_sh->heaps;
}

static inline int heaps_ready(void)
{
	return heaps()->n_internal > 0;
}

static inline struct dk__heap *heap_at(int idx)
{
	return &heaps()->heaps[idx];
}

struct dk__heap *dk__heap_at(int idx)
{
	return heap_at(idx);
}

/* ---- heap table ----------------------------------------------------------- */

static int heap_slot_init(struct dk__heap *h, const char *name, int socket, int external)
{
	memset(h, 0, sizeof(*h));
	int rc = dk__mutex_init_pshared(&h->lock);
	if (rc < 0)
		return rc;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->socket_id = socket;
	h->external = external;
	dk__tlsf_init(&h->tlsf);
	h->in_use = 1;
	return 0;
}

static void heap_slot_fini(struct dk__heap *h)
{
	pthread_mutex_destroy(&h->lock);
	memset(h, 0, sizeof(*h));
}

int dk__heap_init(int n_nodes)
{
	struct dk__heap_table *t = heaps();
	if (n_nodes < 1 || n_nodes > DK_MAX_HEAPS / 2)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	int rc = dk__mutex_init_pshared(&t->lock);
	if (rc < 0)
		return rc;
	t->next_ext_socket = DK_EXTERNAL_SOCKET_BASE;
	for (int i = 0; i < n_nodes; i++) {
		char name[DK_HEAP_NAME_MAX];
		snprintf(name, sizeof(name), "socket_%d", i);
		rc = heap_slot_init(&t->heaps[i], name, i, 0);
		if (rc < 0) {
			while (i-- > 0)
				heap_slot_fini(&t->heaps[i]);
			return rc;
		}
	}
	__atomic_add_fetch(&g_generation, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&t->n_internal, n_nodes, __ATOMIC_RELEASE);
	return 0;
}

static void heap_cleanup_locked(void);

/* Serialises reaping (dk__heap_reap_dead, on the event thread too) with
 * this process tearing its heaps down or detaching from them. Process-
 * private; taken before any heap lock. */
static pthread_mutex_t g_reap_lock = PTHREAD_MUTEX_INITIALIZER;

void dk__heap_cleanup(void)
{
	pthread_mutex_lock(&g_reap_lock);
	heap_cleanup_locked();
	pthread_mutex_unlock(&g_reap_lock);
}

static void heap_cleanup_locked(void)
{
	struct dk__heap_table *t = heaps();
	if (!heaps_ready())
		return;
	/* Pages themselves go with dk__mem_pages_cleanup; external chunks with
	 * the memseg cleanup. Only the books are dropped here. */
	__atomic_add_fetch(&g_generation, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < DK_MAX_HEAPS; i++)
		if (t->heaps[i].in_use)
			heap_slot_fini(&t->heaps[i]);
	pthread_mutex_destroy(&t->lock);
	__atomic_store_n(&t->n_internal, 0, __ATOMIC_RELEASE);
}


/* Lock the heap table. A dead owner leaves nothing half-made that matters
 * (a slot is in use only once its set-up is complete, and free once its
 * mutex is gone) but possibly the external socket counter behind a slot it
 * just took: that is put past every socket in use. */
static void table_lock(struct dk__heap_table *t)
{
	if (dk__pmutex_lock(&t->lock) != DK__PLOCK_REPAIR)
		return;
	for (int i = t->n_internal; i < DK_MAX_HEAPS; i++)
		if (t->heaps[i].in_use && t->heaps[i].socket_id >= t->next_ext_socket)
			t->next_ext_socket = t->heaps[i].socket_id + 1;
	DK_WARN("a process died while changing the heap table: repaired");
	dk__pmutex_consistent(&t->lock);
}

/* Is a heap named name in the table? Table lock held. */
static int name_taken(const char *name)
{
	DK__ASSERT_LOCKED(&heaps()->lock);
	for (int i = 0; i < DK_MAX_HEAPS; i++)
		if (heap_at(i)->in_use && strcmp(heap_at(i)->name, name) == 0)
			return 1;
	return 0;
}

int dk__heap_ext_new(const char *name)
{
	struct dk__heap_table *t = heaps();
	table_lock(t);
	if (name_taken(name)) {
		pthread_mutex_unlock(&t->lock);
		DK_ERR("dk_heap_create: a heap named \"%s\" exists: pick another name", name);
		return -EEXIST;
	}
	int rc = -ENOSPC;
	for (int i = t->n_internal; i < DK_MAX_HEAPS; i++) {
		struct dk__heap *h = &t->heaps[i];
		if (h->in_use)
			continue;
		rc = heap_slot_init(h, name, t->next_ext_socket, 1);
		if (rc == 0)
			t->next_ext_socket++;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	if (rc == -ENOSPC)
		DK_ERR("dk_heap_create(\"%s\"): all %d heap slots are taken: destroy a heap first",
		       name, DK_MAX_HEAPS);
	return rc;
}

int dk__heap_ext_free(int idx, const char *name)
{
	struct dk__heap_table *t = heaps();
	struct dk__heap *h = heap_at(idx);
	table_lock(t);
	int busy = 1;
	if (dk__heap_lock(h) == 0) {
		busy = h->n_chunks > 0 || dk__heap_alloc_count(h) > 0;
		dk__heap_unlock(h);
	} else {
		busy = 0; /* fenced: its books are lost, the slot can go */
	}
	if (busy) {
		pthread_mutex_unlock(&t->lock);
		DK_ERR("dk_heap_destroy(\"%s\"): it still holds %u chunk(s) and %llu allocation(s): free them and remove its memory first",
		       name, h->n_chunks, (unsigned long long)dk__heap_alloc_count(h));
		return -EBUSY;
	}
	heap_slot_fini(h);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* ---- heap locks, repair, check --------------------------------------------- */

static void heap_free_locked(struct dk__heap *h, void *p);

/* The heap's regions, sorted by start, in a malloc'd array (*out; NULL when
 * there is none). Count, or -ENOMEM. Heap lock held. */
static int heap_spans(const struct dk__heap *h, struct dk__va_span **out)
{
	*out = NULL;
	unsigned int n = (unsigned int)h->tlsf.region_count;
	if (n == 0)
		return 0;
	void **mem = calloc(n, sizeof(*mem));
	size_t *len = calloc(n, sizeof(*len));
	struct dk__va_span *v = calloc(n, sizeof(*v));
	int rc = mem && len && v ? 0 : -ENOMEM;
	if (rc == 0) {
		n = dk__tlsf_regions(&h->tlsf, mem, len, n);
		for (unsigned int i = 0; i < n; i++) { /* insertion sort: regions are few */
			unsigned int j = i;
			while (j > 0 && v[j - 1].start > (uintptr_t)mem[i]) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = (struct dk__va_span){(uintptr_t)mem[i], len[i]};
		}
		*out = v;
		rc = (int)n;
	} else {
		free(v);
	}
	free(mem);
	free(len);
	return rc;
}

/* Check heap h's books: 0, or -EFAULT (logged, naming what failed). Heap
 * lock held. With release (a repair), the TLSF books are rebuilt from the
 * block headers first, then the runs of small blocks from the TLSF blocks,
 * and pages of an internal heap outside its regions go
 * back to the system. */
static int heap_books_check(struct dk__heap *h, int release)
{
	int idx = (int)(h - heap_at(0));
	if (release && dk__tlsf_rebuild(&h->tlsf) < 0) {
		DK_ERR("heap \"%s\": its blocks do not chain any more: its books cannot be rebuilt",
		       h->name);
		return -EFAULT;
	}
	if (release && !h->external)
		dk__slab_rebuild(&h->slab, &h->tlsf); /* runs found among the live blocks */
	if (dk__tlsf_check(&h->tlsf) < 0 || dk__slab_check(&h->slab) < 0) {
		DK_ERR("heap \"%s\": its %s books are inconsistent", h->name,
		       dk__tlsf_check(&h->tlsf) < 0 ? "TLSF" : "small-block");
		return -EFAULT;
	}
	if (h->external)
		return 0;
	struct dk__va_span *v;
	int n = heap_spans(h, &v);
	if (n < 0)
		return 0; /* no memory to check with: not an inconsistency */
	uint64_t outside = 0, missing = 0;
	dk__mem_pages_heap_diff(idx, v, (unsigned int)n, release, &outside, &missing);
	free(v);
	if (missing || (outside && !release)) {
		DK_ERR("heap \"%s\": %llu bytes of its regions have no pages, %llu bytes of its pages are in no region",
		       h->name, (unsigned long long)missing, (unsigned long long)outside);
		return -EFAULT;
	}
	return 0;
}

/* Intent records of a heap lock: the lock is held (books may change), a
 * block taken for a caller that has not got it yet (a: block; c: where
 * dk__malloc_to stores it, or 0), a block being freed (a: block, b: the
 * freeing thread's cache slot + 1, or 0; c: what dk__free_from clears),
 * blocks moving between the heap and cache slot a's bin b (a refill or a
 * spill; c: the block under way, named before it leaves the heap's books or
 * the bin). */
enum { HP_HELD = 1, HP_ALLOC = 2, HP_FREE = 3, HP_BIN_MOVE = 4 };

static void tc_slot_forget_freeing(int slot, const void *p);
static void repair_bin_move(struct dk__heap *h, uint64_t slot, uint64_t bin);

/* A block the dead owner was handing out or taking back: freed when it is
 * still live (a handout nobody got, a free cut short). Small blocks of runs
 * are left alone (their liveness is not known here). */
static void repair_inflight(struct dk__heap *h)
{
	uint32_t op = __atomic_load_n(&h->intent.op, __ATOMIC_ACQUIRE);
	void *p = (void *)(uintptr_t)h->intent.a;
	if (op == HP_BIN_MOVE)
		repair_bin_move(h, h->intent.a, h->intent.b);
	if ((op != HP_ALLOC && op != HP_FREE) || !p)
		return;
	if (!dk__slab_owns(p) && dk__tlsf_is_live(&h->tlsf, p)) {
		DK_INFO("heap \"%s\": block %p that process %d was %s goes back to the heap", h->name,
			p, (int)h->intent.pid, op == HP_ALLOC ? "handing out" : "freeing");
		heap_free_locked(h, p);
	}
	void **where = (void **)(uintptr_t)h->intent.c; /* dk__malloc_to, dk__free_from */
	if (where && *where == p)
		__atomic_store_n(where, NULL, __ATOMIC_RELEASE);
	if (op == HP_FREE && h->intent.b)
		tc_slot_forget_freeing((int)h->intent.b - 1, p);
}

/* The previous owner of h's lock died (EOWNERDEAD): repair or fence. */
static void heap_repair(struct dk__heap *h)
{
	DK_WARN("heap \"%s\": process %d died while changing it: checking and repairing its books",
		h->name, (int)h->intent.pid);
	dk__memseg_sync(); /* the regions it added may be in lists not mapped here */
	if (h->external)
		h->n_chunks = (unsigned int)h->tlsf.region_count; /* one region per chunk */
	if (heap_books_check(h, 1) < 0) {
		h->fenced = 1;
		DK_ERR("heap \"%s\" is fenced off: every call on it fails with ENOTRECOVERABLE; restart the instance (primary and secondaries) to use it again",
		       h->name);
	} else {
		repair_inflight(h);
	}
	dk__intent_end(&h->intent);
}

/* dk__heap_lock, or with nowait -EBUSY when another thread holds it. */
static int heap_lock_mode(struct dk__heap *h, int nowait)
{
	int rc = nowait ? dk__pmutex_trylock(&h->lock) : dk__pmutex_lock(&h->lock);
	if (rc == -EBUSY && nowait)
		return -EBUSY;
	if (rc == DK__PLOCK_REPAIR) {
		heap_repair(h);
		dk__pmutex_consistent(&h->lock);
	} else if (rc < 0) {
		return -ENOTRECOVERABLE;
	}
	if (h->fenced) {
		pthread_mutex_unlock(&h->lock);
		DK_ERR("heap \"%s\" is fenced off (a process died while changing it and its books could not be repaired): restart the instance",
		       h->name);
		return -ENOTRECOVERABLE;
	}
	/* Any holder may change the books: a repair checks them. */
	dk__intent_begin(&h->intent, HP_HELD, 0, 0, 0);
	return 0;
}

int dk__heap_lock(struct dk__heap *h)
{
	return heap_lock_mode(h, 0);
}

void dk__heap_unlock(struct dk__heap *h)
{
	dk__intent_end(&h->intent);
	pthread_mutex_unlock(&h->lock);
}

int dk__heap_check(int idx)
{
	if (idx < 0 || idx >= DK_MAX_HEAPS || !heaps_ready() || !heap_at(idx)->in_use)
		return -ENOENT;
	struct dk__heap *h = heap_at(idx);
	int rc = dk__heap_lock(h);
	if (rc < 0)
		return rc;
	dk__memseg_sync();
	rc = heap_books_check(h, 0);
	dk__heap_unlock(h);
	return rc;
}

/* Lock a heap; in a multi-process instance, first map what other processes
 * added to the layout (a region of this heap may be in a list this process
 * has not mapped yet). 0 or -ENOTRECOVERABLE (fenced, logged). */
static int heap_lock(struct dk__heap *h)
{
	int rc = dk__heap_lock(h);
	if (rc == 0)
		dk__memseg_sync();
	return rc;
}

/* Are all chunks of external heap idx attached in this process? The scan of
 * the list table runs only when the layout or this process's publications
 * changed since the last answer (every allocation from an external heap
 * asks). Called with the heap's lock held, which guards its cache entry. */
static struct {
	uint64_t gen, epoch;
	int ok; /* 1: all attached at (gen, epoch); 0: ask again */
} g_ext_here[DK_MAX_HEAPS];

static int ext_chunks_here(int idx)
{
	uint64_t gen = dk__memseg_generation(), epoch = dk__memseg_pub_epoch();
	if (g_ext_here[idx].ok > 0 && g_ext_here[idx].gen == gen && g_ext_here[idx].epoch == epoch)
		return 1;
	int ok = 1;
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS && ok; i++) {
		struct dk__memseg_list *l = dk__memseg_list_at(i);
		if (l->in_use && l->heap_idx == idx && !dk__memseg_list_attached(l))
			ok = 0;
	}
	g_ext_here[idx].gen = gen;
	g_ext_here[idx].epoch = epoch;
	g_ext_here[idx].ok = ok;
	return ok;
}

int dk__heap_by_socket(int socket)
{
	struct dk__heap_table *t = heaps();
	if (!heaps_ready())
		return -ENODEV;
	if (socket >= 0 && socket < t->n_internal)
		return socket;
	if (socket < DK_EXTERNAL_SOCKET_BASE)
		return -ENOENT;
	for (int i = t->n_internal; i < DK_MAX_HEAPS; i++) {
		const struct dk__heap *h = &t->heaps[i];
		if (h->in_use && h->socket_id == socket)
			return i;
	}
	return -ENOENT;
}

int dk__heap_by_name(const char *name, const char *what)
{
	size_t len = name ? strnlen(name, DK_HEAP_NAME_MAX) : 0;
	if (len == 0 || len >= DK_HEAP_NAME_MAX) {
		DK_ERR("%s: heap name %s: use 1..%d characters", what,
		       !name ? "is NULL" : len ? "is too long" : "is empty", DK_HEAP_NAME_MAX - 1);
		return -EINVAL;
	}
	if (!heaps_ready()) {
		DK_ERR("%s: dmakit is not initialised: call dk_init first", what);
		return -ENODEV;
	}
	for (int i = 0; i < DK_MAX_HEAPS; i++) {
		const struct dk__heap *h = heap_at(i);
		if (h->in_use && strcmp(h->name, name) == 0)
			return i;
	}
	return -ENOENT;
}

static uint64_t now_coarse_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 1;
}

/* ---- thread cache ----------------------------------------------------------- */

struct tc_bin {
	void *head;
	unsigned int count;
	unsigned int refills; /* refills since the bin was last emptied by a give-back */
};

/* Everything the fast paths read sits in the first cache line. */
struct tcache {
	unsigned int generation;
	unsigned int home;    /* heap index for DK_SOCKET_ANY: the thread's node, or 0 */
	unsigned int n_heaps; /* heaps 0..n_heaps-1 are cached: min(n_internal, DK__TC_HEAPS) */
	size_t large_bytes;   /* bytes cached in large classes */
	struct tc_bin bins[DK__TC_HEAPS][DK__TC_CLASSES];
	/* A block this thread is freeing to its heap (set before it waits for
	 * the heap lock, cleared under it): a reaper of a dead process's slot
	 * frees it if the process never got that far. */
	void *freeing;
};

_Static_assert(sizeof(struct tcache) <= DK__TC_SLOT_BYTES, "a thread cache fits its slot");

struct tcache_tls {
	struct tcache *cache;
	int node;         /* NUMA node of the thread, sampled at its first allocation; -1 unknown */
	unsigned int gen; /* the generation cache is valid for (0: none) */
	int slot;         /* its slot in the shared config, -1: process-private (calloc) */
};
static __thread struct tcache_tls t_tls __attribute__((tls_model("initial-exec"))) = {
	NULL, -1, 0, -1};

static inline unsigned int log2_floor(size_t x)
{
	return (unsigned int)(63 - __builtin_clzll((unsigned long long)x));
}

/* Class serving a request of size bytes (1..DK__TC_MAX_SIZE). */
static inline unsigned int tc_class_of_request(size_t size)
{
	if (size <= 1024)
		return (unsigned int)((size - 1) >> 4);
	if (size <= DK__TC_SMALL_MAX)
		return DK__TC_FINE + (unsigned int)((size - 1025) >> 8);
	/* size in (2^k, 2^(k+1)]: quarter steps of 2^(k-2) above 2^k. */
	unsigned int k = log2_floor(size - 1);
	size_t q = (size_t)1 << (k - 2);
	unsigned int sub = (unsigned int)((size - ((size_t)1 << k) + q - 1) / q); /* 1..4 */
	return DK__TC_SMALL + (k - 12) * 4 + sub - 1;
}

/* Largest request a class serves. */
static inline size_t tc_class_size(unsigned int c)
{
	if (c < DK__TC_FINE)
		return 16u * (c + 1);
	if (c < DK__TC_SMALL)
		return 1024u + 256u * (c - DK__TC_FINE + 1);
	unsigned int k = 12 + (c - DK__TC_SMALL) / 4, sub = (c - DK__TC_SMALL) % 4 + 1;
	return ((size_t)1 << k) + sub * ((size_t)1 << (k - 2));
}

/* Largest class whose every request fits in usable bytes (usable >= 16),
 * or -1 when the block is not worth caching (between classes, or too big). */
static inline int tc_class_of_block(size_t usable)
{
	if (usable < 1280)
		return (int)(((usable < 1024 ? usable : 1024) >> 4) - 1);
	if (usable < 5120)
		return usable < DK__TC_SMALL_MAX + 256 ? DK__TC_FINE - 1 + (int)((usable - 1024) >> 8)
						       : DK__TC_SMALL - 1;
	if (usable > DK__TC_MAX_SIZE + (DK__TC_MAX_SIZE >> 2))
		return -1;
	unsigned int k = log2_floor(usable);
	size_t q = (size_t)1 << (k - 2);
	unsigned int sub = (unsigned int)((usable - ((size_t)1 << k)) / q); /* 0..3 */
	int c = sub ? (int)(DK__TC_SMALL + (k - 12) * 4 + sub - 1) : (int)(DK__TC_SMALL + (k - 13) * 4 + 3);
	return c < DK__TC_CLASSES ? c : DK__TC_CLASSES - 1;
}
static pthread_key_t g_tc_key;
static pthread_once_t g_tc_once = PTHREAD_ONCE_INIT;


static inline uintptr_t tc_mark(const struct tcache *tc);
static inline uintptr_t *tc_mark_word(void *p);

/* Is p a block that cache tc may hold for internal heap h? (Blocks of a
 * dead process's cache are checked before they go back: its last push or
 * pop may have been cut short.) Heap h's lock held. */
static int tc_block_ok(const struct tcache *tc, int h, void *p)
{
	if (!p || ((uintptr_t)p & 15))
		return 0;
	const struct dk__memseg_list *l = dk__memseg_list_find(p);
	return l && l->heap_idx == h && !(dk__tlsf_block_flags(p) & DK__TLSF_F_FREE) &&
	       *tc_mark_word(p) == tc_mark(tc);
}

/* Give every block of cache tc back to its heap and empty it; validate:
 * check each block first, and drop the rest of a bin at the first that
 * fails. nowait: a heap lock another thread holds is not waited for:
 * -EBUSY with the bins not given back yet left as they are (call again).
 * The heaps must be the ones tc was filled from. 0 or -EBUSY. */
static int tc_give_back(struct tcache *tc, int validate, int nowait)
{
	for (int h = 0; h < DK__TC_HEAPS && h < heaps()->n_internal; h++) {
		struct dk__heap *heap = heap_at(h);
		int locked = 0;
		for (int c = 0; c < DK__TC_CLASSES; c++) {
			struct tc_bin *b = &tc->bins[h][c];
			if (!b->head)
				continue;
			if (!locked) {
				int rc = heap_lock_mode(heap, nowait);
				if (rc == -EBUSY)
					return rc;
				if (rc < 0)
					break; /* fenced: its blocks stay lost */
				dk__memseg_sync();
				locked = 1;
			}
			/* Each block leaves the bin before it goes back, with the
			 * heap's record naming it: a death here loses nothing and
			 * frees nothing twice. */
			for (int k = 0; b->head && k <= DK__TC_DEPTH_MAX; k++) {
				void *p = b->head;
				if (validate && !tc_block_ok(tc, h, p))
					break;
				b->head = *(void **)p;
				b->count--;
				if (!dk__slab_owns(p)) /* see tc_spill */
					dk__intent_begin(&heap->intent, HP_FREE, (uintptr_t)p, 0, 0);
				heap_free_locked(heap, p);
			}
			b->head = NULL;
			b->count = 0;
		}
		if (locked)
			dk__heap_unlock(heap);
		memset(tc->bins[h], 0, sizeof(tc->bins[h]));
	}
	memset(tc->bins, 0, sizeof(tc->bins));
	tc->large_bytes = 0;
	return 0;
}

/* Does the calling thread's cache belong to the current heaps? */
static int tc_current(void)
{
	return t_tls.cache && t_tls.gen == __atomic_load_n(&g_generation, __ATOMIC_ACQUIRE) &&
	       heaps_ready();
}

static struct tcache *tc_slot_at(int i)
{
	return (struct tcache *)(dk__mem_sh->tc_arena + (size_t)i * DK__TC_SLOT_BYTES);
}

/* Atomic: a reaper of the dead slot reads it without the heap lock. */
static void tc_slot_forget_freeing(int slot, const void *p)
{
	void *expect = (void *)(uintptr_t)p;
	if (dk__mem_sh->tc_arena && slot >= 0 && slot < DK__TC_SLOTS)
		__atomic_compare_exchange_n(&tc_slot_at(slot)->freeing, &expect, NULL, 0,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* A dead process's thread was freeing tc->freeing and never took the heap
 * lock (else the free completed, or the lock's repair finished it): free
 * it now. 0 or -EBUSY (nowait: its heap is busy; call again). */
static int tc_finish_free(struct tcache *tc, int nowait)
{
	void *p = __atomic_load_n(&tc->freeing, __ATOMIC_ACQUIRE); /* a repair may clear it */
	if (!p)
		return 0;
	const struct dk__memseg_list *l = dk__memseg_list_find(p);
	if (!l || l->heap_idx < 0 || l->heap_idx >= DK_MAX_HEAPS || !heap_at(l->heap_idx)->in_use) {
		__atomic_store_n(&tc->freeing, NULL, __ATOMIC_RELEASE);
		return 0;
	}
	struct dk__heap *h = heap_at(l->heap_idx);
	int rc = heap_lock_mode(h, nowait);
	if (rc == -EBUSY)
		return rc;
	if (rc == 0) {
		if (__atomic_load_n(&tc->freeing, __ATOMIC_ACQUIRE) == p) /* no repair finished it */
			heap_free_locked(h, p);
		dk__heap_unlock(h);
	}
	__atomic_store_n(&tc->freeing, NULL, __ATOMIC_RELEASE);
	return 0;
}

/* A dead owner was moving blocks between the heap and bin number bin of
 * cache slot slot (a refill or a spill): the block under way (the record's
 * c), when live and not on top of the bin, goes back (a refill took it and
 * never pushed it, a spill took it off and never freed it). Heap h's lock
 * held (its repair, after the books are rebuilt). */
static void repair_bin_move(struct dk__heap *h, uint64_t slot, uint64_t bin)
{
	void *p = (void *)(uintptr_t)__atomic_load_n(&h->intent.c, __ATOMIC_ACQUIRE);
	if (!p || !dk__mem_sh->tc_arena || slot >= DK__TC_SLOTS ||
	    bin >= DK__TC_HEAPS * DK__TC_CLASSES)
		return;
	struct tcache *tc = tc_slot_at((int)slot);
	int32_t owner = __atomic_load_n(&heaps()->tc_owner[slot], __ATOMIC_ACQUIRE);
	if (owner != h->intent.pid && owner >= 0)
		return; /* reaped already: the slot was cleared */
	const struct tc_bin *b = &tc->bins[0][0] + bin;
	/* A TLSF block of its own first (found by walking the region, whatever
	 * p's old header says after a merge), else a block of a run. */
	int live = dk__tlsf_is_live(&h->tlsf, p) ||
		   (dk__slab_owns(p) && !(dk__tlsf_block_flags(p) & DK__TLSF_F_FREE));
	if (!live || __atomic_load_n(&b->head, __ATOMIC_ACQUIRE) == p)
		return;
	DK_INFO("heap \"%s\": block %p, between a thread cache and the heap when process %d died, goes back to the heap",
		h->name, p, (int)h->intent.pid);
	heap_free_locked(h, p);
}

/* Slot i's owner died moving blocks between a heap and a bin: lock that
 * heap, so that its repair frees the block under way before the slot is
 * cleared. 0 or -EBUSY (nowait: the heap is busy; call again). */
static int tc_finish_bin_move(int i, int nowait)
{
	for (int h = 0; h < DK__TC_HEAPS && h < heaps()->n_internal; h++) {
		struct dk__heap *heap = heap_at(h);
		if (__atomic_load_n(&heap->intent.op, __ATOMIC_ACQUIRE) != HP_BIN_MOVE ||
		    __atomic_load_n(&heap->intent.a, __ATOMIC_ACQUIRE) != (uint64_t)i)
			continue;
		int rc = heap_lock_mode(heap, nowait);
		if (rc == -EBUSY)
			return rc;
		if (rc == 0)
			dk__heap_unlock(heap);
	}
	return 0;
}

static void tc_slot_release(int i)
{
	memset(tc_slot_at(i), 0, sizeof(struct tcache));
	__atomic_store_n(&heaps()->tc_owner[i], 0, __ATOMIC_RELEASE);
}

/* A free thread-cache slot of the shared config, taken for this process
 * (reaping dead processes' slots when none is free), or -1. */
static int tc_slot_take(void)
{
	if (!dk__mem_sh->tc_arena)
		return -1;
	int32_t me = (int32_t)getpid();
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < DK__TC_SLOTS; i++) {
			int32_t z = 0;
			if (__atomic_compare_exchange_n(&heaps()->tc_owner[i], &z, me, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
				memset(tc_slot_at(i), 0, sizeof(struct tcache));
				return i;
			}
		}
		if (dk__heap_reap_dead(0) == 0)
			break;
	}
	return -1;
}

static int reap_locked(int nowait);

static int pid_alive(int pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

int dk__heap_reap_dead(int nowait)
{
	if (nowait ? pthread_mutex_trylock(&g_reap_lock) != 0
		   : pthread_mutex_lock(&g_reap_lock) != 0)
		return 0;
	int n = 0;
	if (dk__mem_sh->tc_arena && heaps_ready())
		n = reap_locked(nowait);
	pthread_mutex_unlock(&g_reap_lock);
	if (n)
		DK_INFO("gave the blocks of %d thread cache(s) of processes that are gone back to their heaps",
			n);
	return n;
}

static int reap_locked(int nowait)
{
	int n = 0;
	int32_t me = (int32_t)getpid();
	for (int i = 0; i < DK__TC_SLOTS; i++) {
		/* owner > 0: the process using it; < 0: the process reaping it
		 * (a reaper that dies midway leaves it to the next one: the
		 * bins lose each block before it goes back). */
		int32_t pid = __atomic_load_n(&heaps()->tc_owner[i], __ATOMIC_ACQUIRE);
		if (pid == 0 || pid == -me || pid_alive(pid > 0 ? pid : -pid))
			continue;
		if (!__atomic_compare_exchange_n(&heaps()->tc_owner[i], &pid, -me, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue; /* another process reaps it */
		if (tc_finish_bin_move(i, nowait) < 0 || tc_finish_free(tc_slot_at(i), nowait) < 0 ||
		    tc_give_back(tc_slot_at(i), 1, nowait) < 0) {
			/* a heap is busy: the next round finishes it */
			__atomic_store_n(&heaps()->tc_owner[i], pid, __ATOMIC_RELEASE);
			continue;
		}
		tc_slot_release(i);
		n++;
	}
	return n;
}

void dk__heap_detach(void)
{
	/* This process's cache slots: their blocks go back (every thread's;
	 * no other thread uses the heaps during dk_cleanup). */
	int32_t me = (int32_t)getpid();
	pthread_mutex_lock(&g_reap_lock);
	for (int i = 0; dk__mem_sh->tc_arena && heaps_ready() && i < DK__TC_SLOTS; i++) {
		int32_t pid = me;
		if (!__atomic_compare_exchange_n(&heaps()->tc_owner[i], &pid, -me, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		tc_give_back(tc_slot_at(i), 1, 0);
		tc_slot_release(i);
	}
	__atomic_add_fetch(&g_generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_reap_lock);
}

static void tc_destroy(void *arg)
{
	struct tcache *tc = arg;
	if (!tc || tc != t_tls.cache)
		return;
	if (tc_current())
		tc_give_back(tc, 0, 0);
	if (t_tls.slot < 0)
		free(tc);
	else if (tc_current())
		tc_slot_release(t_tls.slot);
	/* else: a slot of heaps that are gone (dk__heap_detach reaped it) */
	t_tls.cache = NULL;
	t_tls.slot = -1;
	t_tls.gen = 0;
}

/* Per class: most blocks in a bin, blocks taken per refill (see the top);
 * large classes: most blocks in a bin after a free (limit + one refill, at
 * most DK__TC_DEPTH_MAX). */
static unsigned int g_tc_limit[DK__TC_CLASSES];
static unsigned int g_tc_refill[DK__TC_CLASSES];
static unsigned int g_tc_cap[DK__TC_CLASSES];

static unsigned int clamp_u(size_t v, unsigned int lo, unsigned int hi)
{
	return v < lo ? lo : v > hi ? hi : (unsigned int)v;
}

static void tc_key_init(void)
{
	for (unsigned int c = 0; c < DK__TC_CLASSES; c++) {
		size_t size = tc_class_size(c);
		if (c < DK__TC_SMALL) {
			g_tc_limit[c] = clamp_u(DK__TC_BIN_BYTES / size, DK__TC_DEPTH, DK__TC_DEPTH_MAX);
			g_tc_refill[c] = clamp_u(g_tc_limit[c] / 2, 1, DK__TC_REFILL_MAX);
		} else {
			g_tc_limit[c] = clamp_u(DK__TC_LARGE_BUDGET / size, 1, DK__TC_DEPTH_MAX);
			g_tc_refill[c] = clamp_u(DK__TC_MAX_SIZE / size, 1, DK__TC_LARGE_BATCH);
			g_tc_cap[c] = clamp_u((size_t)g_tc_limit[c] + g_tc_refill[c], 1, DK__TC_DEPTH_MAX);
		}
	}
	pthread_key_create(&g_tc_key, tc_destroy);
}

/* Blocks in a thread cache carry their cache's mark in their second word
 * (every block has at least 16 bytes): a dk_free that finds it there scans
 * that one bin (at most DK__TC_DEPTH_MAX blocks) before calling it a double
 * free, so user data that happens to hold the mark costs a scan, never an
 * error. The word is cleared when the block is handed out. The mark is the
 * cache's address + 1: no load to get it, odd so never a block pointer. */
static inline uintptr_t tc_mark(const struct tcache *tc)
{
	return (uintptr_t)tc + 1;
}

static inline uintptr_t *tc_mark_word(void *p)
{
	return (uintptr_t *)p + 1;
}

/* Take the head block of a non-empty bin. */
static inline void *tc_pop(struct tc_bin *b)
{
	void *p = b->head;
	b->head = *(void **)p;
	b->count--;
	*tc_mark_word(p) = 0;
	return p;
}

/* Put block p on bin b, marked as cached by tc. */
static inline void tc_push(struct tcache *tc, struct tc_bin *b, void *p)
{
	*(void **)p = b->head;
	*tc_mark_word(p) = tc_mark(tc);
	__atomic_store_n(&b->head, p, __ATOMIC_RELEASE); /* linked before the bin names it */
	b->count++;
}

/* Is p in bin b already? (A free found the mark: a double free, or data.) */
static __attribute__((noinline)) int tc_holds(const struct tc_bin *b, const void *p)
{
	for (const void *q = b->head; q; q = *(void *const *)q)
		if (q == p)
			return 1;
	return 0;
}

static int current_node(void)
{
	if (__builtin_expect(t_tls.node >= 0, 1))
		return t_tls.node;
	unsigned int cpu, node;
	t_tls.node = getcpu(&cpu, &node) == 0 ? (int)node : 0;
	return t_tls.node;
}

/* The calling thread's cache when it exists and is valid for the current
 * generation (then the heaps are initialised), else NULL. Inline: this is
 * all the fast paths pay for finding it. */
static inline struct tcache *tc_valid(void)
{
	struct tcache *tc = t_tls.cache;
	if (__builtin_expect(tc != NULL, 1) &&
	    __builtin_expect(t_tls.gen == __atomic_load_n(&g_generation, __ATOMIC_ACQUIRE), 1))
		return tc;
	return NULL;
}

/* Create the calling thread's cache, or reset it for a new generation:
 * a slot of the shared config when bound and one is free (the blocks come
 * back if the process dies), else process-private memory. A stale cache in
 * a slot belongs to heaps that are gone: it is left alone. The heaps must
 * be set up. NULL when out of memory. */
static __attribute__((noinline)) struct tcache *tc_setup(void)
{
	struct tcache *old = t_tls.cache, *tc = NULL;
	unsigned int gen = __atomic_load_n(&g_generation, __ATOMIC_ACQUIRE);
	int old_private = old && t_tls.slot < 0;
	int slot = tc_slot_take();
	if (slot >= 0) {
		tc = tc_slot_at(slot);
		if (old_private)
			free(old);
	} else if (old_private) {
		tc = old;
		memset(tc->bins, 0, sizeof(tc->bins)); /* stale: the heaps were rebuilt */
		tc->large_bytes = 0;
	} else if (!(tc = calloc(1, sizeof(*tc)))) {
		t_tls.cache = NULL;
		return NULL;
	}
	pthread_once(&g_tc_once, tc_key_init);
	t_tls.cache = tc;
	t_tls.slot = slot;
	pthread_setspecific(g_tc_key, tc);
	int n = heaps()->n_internal;
	tc->n_heaps = (unsigned int)(n < DK__TC_HEAPS ? n : DK__TC_HEAPS);
	int node = current_node();
	tc->home = node >= 0 && node < n ? (unsigned int)node : 0;
	tc->generation = gen;
	t_tls.gen = gen;
	return tc;
}

/* The calling thread's cache, valid for the current generation, or NULL. */
static inline struct tcache *tc_get(void)
{
	struct tcache *tc = tc_valid();
	return tc ? tc : tc_setup();
}

void dk__heap_thread_flush(void)
{
	if (tc_current())
		tc_give_back(t_tls.cache, 0, 0);
	else if (t_tls.cache && t_tls.slot < 0)
		memset(t_tls.cache->bins, 0, sizeof(t_tls.cache->bins)); /* heaps are gone: drop */
}

void dk_malloc_thread_flush(void)
{
	dk__heap_thread_flush();
}

/* ---- allocation ------------------------------------------------------------- */

static int valid_align(unsigned int align)
{
	return (align & (align - 1)) == 0;
}

/* Is [p, p+size) IOVA-contiguous (every page present)? */
static int iova_contig(const void *p, size_t size)
{
	dk_iova_t first = dk_mem_virt2iova(p);
	if (first == DK_BAD_IOVA)
		return 0;
	struct dk_memseg ms;
	if (dk_mem_virt2memseg(p, &ms) < 0)
		return 0;
	uintptr_t a = (uintptr_t)ms.addr + ms.len;
	uintptr_t end = (uintptr_t)p + size;
	for (; a < end; a += ms.len)
		if (dk_mem_virt2iova((void *)a) != first + (a - (uintptr_t)p))
			return 0;
	return 1;
}

/* After a growth (the region is added): one soon after a give-back makes
 * the heap hold its present size. */
static void heap_note_growth(struct dk__heap *h)
{
	if (!h->giveback_ns)
		return;
	uint64_t now = now_coarse_ns();
	if (now - h->giveback_ns >= DK__RETAIN_DECAY_NS && now >= h->hold_until_ns)
		return;
	if (now >= h->hold_until_ns)
		h->hold_bytes = 0;
	if (h->hold_bytes < h->tlsf.region_bytes)
		h->hold_bytes = h->tlsf.region_bytes;
	h->hold_until_ns = now + DK__RETAIN_DECAY_NS;
}

/* Grow an internal heap by enough pages for size/align/bound. Heap lock held. */
static int heap_grow(int idx, struct dk__heap *h, size_t size, size_t align, size_t bound,
		     int contig)
{
	DK__ASSERT_LOCKED(&h->lock);
	/* A bounded block may need up to bound bytes of room to avoid a crossing. */
	size_t need = size + (bound > align ? bound : align) + 2 * DK__TLSF_MIN_REGION;
	size_t pg = dk__mem_pages_size(h->socket_id);
	if (pg == 0)
		return -ENOMEM;
	size_t want = need < DK__GROW_MIN ? DK__GROW_MIN : need;
	want = (want + pg - 1) & ~(pg - 1);
	void *va;
	size_t mapped;
	int rc = dk__mem_pages_map(idx, h->socket_id, want, contig, &va, &mapped);
	if (rc < 0)
		return rc;
	DK__MEM_TEST_POINT("heap_grow");
	rc = dk__tlsf_add_region(&h->tlsf, va, mapped);
	if (rc < 0) {
		dk__mem_pages_unmap(va, mapped);
		return rc;
	}
	heap_note_growth(h);
	return 0;
}

/* Allocate from one heap (lock taken here). NULL + errno. */
static void *heap_alloc(int idx, size_t size, size_t align, size_t bound, unsigned int flags,
			void **dst)
{
	struct dk__heap *h = heap_at(idx);
	/* VA and remap modes make internal memory IOVA-contiguous (a heap region
	 * lies in one memseg list, and a list's IOVAs follow its VAs); external
	 * chunks carry their own IOVAs and are always checked. */
	enum dk_iova_mode mode = dk_iova_mode();
	int contig = (flags & DK_MALLOC_IOVA_CONTIG) &&
		     (h->external || (mode != DK_IOVA_MODE_VA && mode != DK_IOVA_MODE_REMAP));
	/* A block inside one page is IOVA-contiguous by construction: ask for
	 * that (still verified below: older regions may use other page sizes). */
	size_t pg = h->external ? 0 : dk__mem_pages_size(h->socket_id);
	if (contig && pg && size <= pg && (!bound || bound > pg))
		bound = pg;
	void *held[16];
	int n_held = 0, grown = 0;
	void *p;

	int lrc = heap_lock(h);
	if (lrc < 0) {
		errno = -lrc;
		return NULL;
	}
	if (h->external && !ext_chunks_here(idx)) {
		dk__heap_unlock(h);
		DK_ERR("heap \"%s\": a chunk of it is not attached in this process (another process added it): map it at the same address and call dk_heap_memory_attach first",
		       h->name);
		errno = ENXIO;
		return NULL;
	}
	/* Announced before the block exists, named before the store that
	 * makes it used (dk__tlsf_alloc_named): a death leaves no used block
	 * that the record does not name. */
	dk__intent_begin(&h->intent, HP_ALLOC, 0, 0, (uintptr_t)dst);
	for (;;) {
		p = dk__tlsf_alloc_named(&h->tlsf, size, align, bound, &h->intent.a);
		__atomic_store_n(&h->intent.a, (uintptr_t)p, __ATOMIC_RELEASE); /* NULL too */
		if (p && contig && !iova_contig(p, size)) {
			/* Keep it aside so the next try finds another block. */
			if (n_held < (int)DK_ARRAY_SIZE(held)) {
				held[n_held++] = p;
				continue;
			}
			dk__tlsf_free(&h->tlsf, p, NULL, NULL);
			p = NULL;
		}
		if (p || h->external || grown)
			break;
		int rc = heap_grow(idx, h, size, align, bound, contig);
		if (rc < 0) {
			errno = -rc;
			break;
		}
		grown = 1;
	}
	while (n_held > 0)
		dk__tlsf_free(&h->tlsf, held[--n_held], NULL, NULL);
	__atomic_store_n(&h->intent.a, (uintptr_t)p, __ATOMIC_RELEASE);
	if (p && dst) /* the record names p until the caller has it (the unlock clears it) */
		__atomic_store_n(dst, p, __ATOMIC_RELEASE);
	dk__heap_unlock(h);
	if (!p && errno != EINVAL)
		errno = ENOMEM;
	return p;
}

/* Free one block; give its region back if the retention rule allows. Lock held. */
static void heap_free_locked(struct dk__heap *h, void *p)
{
	void *region;
	size_t region_len;
	int whole = dk__slab_owns(p) ? dk__slab_free(&h->slab, &h->tlsf, p, &region, &region_len)
				     : dk__tlsf_free(&h->tlsf, p, &region, &region_len);
	if (!whole || h->external || h->tlsf.region_count <= 1)
		return;
	uint64_t free_after = h->tlsf.region_bytes - h->tlsf.used_bytes - region_len;
	uint64_t used = dk__heap_alloc_bytes(h);
	uint64_t keep = used > DK__RETAIN_MIN ? used : DK__RETAIN_MIN;
	if (free_after < keep)
		return;
	uint64_t now = now_coarse_ns();
	if (now < h->hold_until_ns && h->tlsf.region_bytes - region_len < h->hold_bytes)
		return;
	if (dk__tlsf_remove_region(&h->tlsf, region, region_len) == 0) {
		dk__mem_pages_unmap(region, region_len);
		h->giveback_ns = now;
	}
}

/* Blocks the next refill of bin b (class c) takes: 1, 2, 4, ... up to
 * g_tc_refill[c], so that a thread allocating one block of a class does not
 * take a batch of them (the statistics count cached blocks as allocated). */
static unsigned int tc_refill_count(struct tc_bin *b, unsigned int c)
{
	unsigned int n = b->refills < 16 ? 1u << b->refills : g_tc_refill[c];
	if (b->refills < 16)
		b->refills++;
	return n < g_tc_refill[c] ? n : g_tc_refill[c];
}

/* Fill an empty small-class bin (class c) with tc_refill_count blocks from
 * the heap's runs, growing the heap when no run has room; each block enters
 * the bin as it leaves its run. How many; 0 when the heap cannot grow (the
 * caller's slow path reports it). */
static int tc_refill(int idx, struct tc_bin *b, unsigned int c)
{
	struct dk__heap *h = heap_at(idx);
	struct tcache *tc = t_tls.cache;
	/* In a slot of the shared config the heap's record names the slot, the
	 * bin and the block on its way into the bin (chain.moving): a death in
	 * between loses nothing (repair_bin_move). */
	int shared = t_tls.slot >= 0 && tc == tc_slot_at(t_tls.slot);
	struct dk__slab_chain chain = {&b->head, &b->count, tc_mark(tc),
				       shared ? &h->intent.c : NULL};
	size_t csize = tc_class_size(c);
	unsigned int want = tc_refill_count(b, c);
	if (heap_lock(h) < 0)
		return 0;
	if (shared)
		dk__intent_begin(&h->intent, HP_BIN_MOVE, (uint64_t)t_tls.slot,
				 (uint64_t)(b - &tc->bins[0][0]), 0);
	unsigned int n = dk__slab_alloc_chain(&h->slab, &h->tlsf, c, csize, &chain, want);
	if (n == 0 && heap_grow(idx, h, DK__SLAB_RUN_MAX, DK__DEFAULT_ALIGN, 0, 0) == 0)
		n = dk__slab_alloc_chain(&h->slab, &h->tlsf, c, csize, &chain, want);
	dk__heap_unlock(h);
	return (int)n;
}

/* Fill an empty large-class bin (class c) with up to tc_refill_count blocks
 * of the class size, as the budget allows (at least one), growing the heap
 * when none fits: from the slab's medium runs up to 64 KiB (each block
 * enters the bin as it leaves its run), else TLSF blocks. How many; 0 when
 * the heap cannot grow. */
static int tc_refill_large(int idx, struct tcache *tc, struct tc_bin *b, unsigned int c)
{
	struct dk__heap *h = heap_at(idx);
	size_t csize = tc_class_size(c);
	unsigned int want = tc_refill_count(b, c), n = 0;
	int grown = 0;
	/* In a slot of the shared config, the heap's record names the block on
	 * its way into the bin (repair_bin_move). */
	int shared = t_tls.slot >= 0 && tc == tc_slot_at(t_tls.slot);
	if (heap_lock(h) < 0)
		return 0;
	if (shared)
		dk__intent_begin(&h->intent, HP_BIN_MOVE, (uint64_t)t_tls.slot,
				 (uint64_t)(b - &tc->bins[0][0]), 0);
	if (c < DK__SLAB_CLASSES) {
		size_t room = tc->large_bytes < DK__TC_LARGE_BUDGET
				      ? (DK__TC_LARGE_BUDGET - tc->large_bytes) / csize
				      : 0;
		if (want > room)
			want = room > 0 ? (unsigned int)room : 1;
		struct dk__slab_chain chain = {&b->head, &b->count, tc_mark(tc),
					       shared ? &h->intent.c : NULL};
		unsigned int before = b->count;
		n = dk__slab_alloc_chain(&h->slab, &h->tlsf, c, csize, &chain, want);
		if (n == 0 && heap_grow(idx, h, DK__SLAB_RUN_MAX, DK__DEFAULT_ALIGN, 0, 0) == 0)
			n = dk__slab_alloc_chain(&h->slab, &h->tlsf, c, csize, &chain, want);
		tc->large_bytes += (size_t)(b->count - before) * csize;
		dk__heap_unlock(h);
		return (int)n;
	}
	while (n < want && (n == 0 || tc->large_bytes + csize <= DK__TC_LARGE_BUDGET)) {
		void *p = dk__tlsf_alloc_named(&h->tlsf, csize, DK__DEFAULT_ALIGN, 0,
					       shared ? &h->intent.c : NULL);
		if (shared)
			__atomic_store_n(&h->intent.c, (uint64_t)(uintptr_t)p, __ATOMIC_RELEASE);
		if (p) {
			tc_push(tc, b, p);
			tc->large_bytes += dk__tlsf_usable_size(p);
			n++;
			continue;
		}
		if (n > 0 || grown || heap_grow(idx, h, csize, DK__DEFAULT_ALIGN, 0, 0) < 0)
			break;
		grown = 1;
	}
	dk__heap_unlock(h);
	return (int)n;
}

/* Give up to n blocks of bin b back to heap h in one lock round trip; each
 * leaves the bin before it goes back (a TLSF block with the heap's record
 * naming it). Large bins: their bytes leave tc->large_bytes. */
static void tc_spill(struct tcache *tc, struct dk__heap *h, struct tc_bin *b, unsigned int n,
		     int large)
{
	if (dk__heap_lock(h) < 0)
		return; /* fenced: the bin grows past its depth, nothing is lost more */
	/* In a slot of the shared config, the heap's record names the block
	 * on its way out of the bin before it leaves (repair_bin_move). */
	int shared = t_tls.slot >= 0 && tc == tc_slot_at(t_tls.slot);
	if (shared)
		dk__intent_begin(&h->intent, HP_BIN_MOVE, (uint64_t)t_tls.slot,
				 (uint64_t)(b - &tc->bins[0][0]), 0);
	for (unsigned int i = 0; i < n && b->head; i++) {
		void *p = b->head;
		if (shared)
			__atomic_store_n(&h->intent.c, (uint64_t)(uintptr_t)p, __ATOMIC_RELEASE);
		__atomic_store_n(&b->head, *(void **)p, __ATOMIC_RELEASE);
		b->count--;
		if (large)
			tc->large_bytes -= dk__tlsf_usable_size(p);
		heap_free_locked(h, p);
	}
	dk__heap_unlock(h);
}

/* Everything but a thread-cache hit. */
static __attribute__((noinline)) void *malloc_slow(size_t size, unsigned int align, size_t bound,
						     int socket, unsigned int flags, void **dst)
{
	if (!heaps_ready()) {
		errno = ENODEV;
		return NULL;
	}
	if (size == 0 || !valid_align(align) || (flags & ~DK_MALLOC_IOVA_CONTIG) ||
	    (bound && ((bound & (bound - 1)) || bound < size)) || size > (SIZE_MAX >> 2)) {
		errno = EINVAL;
		return NULL;
	}
	if (align < DK__DEFAULT_ALIGN)
		align = DK__DEFAULT_ALIGN;

	int any = socket == DK_SOCKET_ANY;
	int idx = dk__heap_by_socket(any ? current_node() : socket);
	if (idx < 0 && any)
		idx = 0;
	if (idx < 0) {
		DK_ERR("no heap for socket %d: use a NUMA node below %d, an external heap's socket id, or DK_SOCKET_ANY",
		       socket, heaps()->n_internal);
		errno = EINVAL;
		return NULL;
	}

	/* Thread cache: a miss (refill small classes) or a cache to create. */
	if (align == DK__DEFAULT_ALIGN && !bound && !flags && size <= DK__TC_MAX_SIZE && !dst) {
		struct tcache *tc = tc_get();
		if (tc && (unsigned int)idx < tc->n_heaps) {
			unsigned int c = tc_class_of_request(size);
			struct tc_bin *b = &tc->bins[idx][c];
			void *p = b->head;
			if (c >= DK__TC_SMALL) {
				/* Large classes: no refill; the slow path below allocates
				 * the class size, so the block comes back to this class. */
				if (p || tc_refill_large(idx, tc, b, c) > 0) {
					tc->large_bytes -= dk__tlsf_usable_size(b->head);
					return tc_pop(b);
				}
				size = tc_class_size(c);
			} else if (p || tc_refill(idx, b, c) > 0) {
				return tc_pop(b);
			}
		}
	}

	void *p = heap_alloc(idx, size, align, bound, flags, dst);
	if (p || !any || heap_at(idx)->external)
		return p;
	/* Any socket: try the other internal heaps. */
	for (int i = 0; i < heaps()->n_internal && !p; i++)
		if (i != idx)
			p = heap_alloc(i, size, align, bound, flags, dst);
	return p;
}

/* Fast path: a hit in the calling thread's cache, or the slow path. What it
 * checks is what the slow path decides the same way (size 0 wraps and goes
 * there; so do invalid alignments, sockets and flags). Inlined in each
 * entry point, so that constant arguments fold away. */
static inline __attribute__((always_inline)) void *
malloc_fast(size_t size, unsigned int align, size_t bound, int socket, unsigned int flags)
{
	struct tcache *tc = tc_valid();
	if (__builtin_expect(tc != NULL, 1) && size - 1 < DK__TC_MAX_SIZE &&
	    align <= DK__DEFAULT_ALIGN && (align & (align - 1)) == 0 && !bound && !flags) {
		unsigned int idx = socket == DK_SOCKET_ANY ? tc->home : (unsigned int)socket;
		if (__builtin_expect(idx < tc->n_heaps, 1)) {
			unsigned int c = tc_class_of_request(size);
			struct tc_bin *b = &tc->bins[idx][c];
			void *p = b->head;
			if (__builtin_expect(p != NULL, 1)) {
				if (c >= DK__TC_SMALL)
					tc->large_bytes -= dk__tlsf_block_word(p) & ~(uint64_t)15;
				return tc_pop(b);
			}
		}
	}
	return malloc_slow(size, align, bound, socket, flags, NULL);
}

void *dk__malloc_to(void **dst, size_t size, unsigned int align, int socket, unsigned int flags)
{
	return malloc_slow(size, align, 0, socket, flags, dst);
}

void *dk_malloc_flags(const char *type, size_t size, unsigned int align, size_t bound,
		      int socket, unsigned int flags)
{
	(void)type;
	return malloc_fast(size, align, bound, socket, flags);
}

void *dk_malloc_socket(const char *type, size_t size, unsigned int align, int socket)
{
	(void)type;
	return malloc_fast(size, align, 0, socket, 0);
}

void *dk_malloc(const char *type, size_t size, unsigned int align)
{
	(void)type;
	return malloc_fast(size, align, 0, DK_SOCKET_ANY, 0);
}

void *dk_zmalloc_socket(const char *type, size_t size, unsigned int align, int socket)
{
	void *p = dk_malloc_flags(type, size, align, 0, socket, 0);
	if (p)
		memset(p, 0, size);
	return p;
}

void *dk_zmalloc(const char *type, size_t size, unsigned int align)
{
	return dk_zmalloc_socket(type, size, align, DK_SOCKET_ANY);
}

void *dk_calloc(const char *type, size_t num, size_t size, unsigned int align)
{
	size_t total;
	if (__builtin_mul_overflow(num, size, &total)) {
		errno = EINVAL;
		return NULL;
	}
	return dk_zmalloc(type, total, align);
}

/* Heap index of a block, or -1 (logged) when p is not a dmakit heap block. */
static int block_heap(const void *p, const char *what)
{
	struct dk__memseg_list *l = dk__memseg_list_find(p);
	if (!l || l->heap_idx < 0 || !heap_at(l->heap_idx)->in_use) {
		DK_ERR("%s(%p): not a block of a dmakit heap (freed twice, or from another allocator?)",
		       what, p);
		return -1;
	}
	return l->heap_idx;
}

/* Push live block p (header word w) of internal heap idx < tc->n_heaps on
 * the calling thread's cache, or free it to its heap when it is not worth
 * caching or the large budget is spent; a double free is refused. */
static __attribute__((noinline)) void free_cached_heap(struct tcache *tc, int idx, void *p,
						       uint64_t w);

static void free_to_heap(struct tcache *tc, struct dk__heap *h, void *p);

/* Everything dk_free does but the common case: p is not in a list that this
 * thread's cache covers (another heap, no cache yet, not a dmakit block). */
static __attribute__((noinline)) void free_slow(void *p)
{
	int idx = block_heap(p, "dk_free");
	if (idx < 0)
		return;
	uint64_t w = dk__tlsf_block_word(p);
	if (__builtin_expect(w & DK__TLSF_F_FREE, 0)) {
		DK_ERR("dk_free(%p): freed twice (the block is free in its heap already): free each block once",
		       p);
		return;
	}
	struct tcache *tc = tc_get();
	if (tc && (unsigned int)idx < tc->n_heaps) {
		free_cached_heap(tc, idx, p, w);
		return;
	}
	free_to_heap(tc, heap_at(idx), p);
}

/* Free p to heap h under its lock. In a cache slot of the shared config:
 * if this process dies before the free is done, the block is not lost
 * (tc_finish_free, the heap's repair). */
static void free_to_heap(struct tcache *tc, struct dk__heap *h, void *p)
{
	int slot = tc && t_tls.slot >= 0 && tc == t_tls.cache ? t_tls.slot : -1;
	if (slot >= 0) {
		__atomic_store_n(&tc->freeing, p, __ATOMIC_RELEASE);
		dk__store_fence();
	}
	if (dk__heap_lock(h) < 0) {
		if (slot >= 0)
			tc->freeing = NULL;
		return;
	}
	dk__intent_begin(&h->intent, HP_FREE, (uintptr_t)p, (uint64_t)(slot + 1), 0);
	heap_free_locked(h, p);
	if (slot >= 0)
		__atomic_store_n(&tc->freeing, NULL, __ATOMIC_RELEASE);
	dk__heap_unlock(h);
}

static void free_cached_heap(struct tcache *tc, int idx, void *p, uint64_t w)
{
	size_t usable = (size_t)(w & ~(uint64_t)15);
	if (__builtin_expect(w & DK__TLSF_F_FREE, 0)) {
		DK_ERR("dk_free(%p): freed twice (the block is free in its heap already): free each block once",
		       p);
		return;
	}
	int c = tc_class_of_block(usable);
	if (c >= 0) {
		struct tc_bin *b = &tc->bins[idx][c];
		if (__builtin_expect(*tc_mark_word(p) == tc_mark(tc), 0) && tc_holds(b, p)) {
			DK_ERR("dk_free(%p): freed twice (the block is free already, in this thread's cache): free each block once",
			       p);
			return;
		}
		unsigned int limit = g_tc_limit[c];
		if (c < DK__TC_SMALL) {
			if (__builtin_expect(b->count >= limit, 0))
				tc_spill(tc, heap_at(idx), b,
					 limit / 2 < DK__TC_SPILL_MAX ? limit / 2 : DK__TC_SPILL_MAX, 0);
			tc_push(tc, b, p);
			return;
		}
		/* One refill's worth of slack over the depth and the budget: the
		 * blocks a batch's last refill took beyond the batch do not make
		 * the batch spill when it comes back. */
		unsigned int cap = g_tc_cap[c];
		const size_t budget = DK__TC_LARGE_BUDGET + DK__TC_LARGE_SLACK;
		if (__builtin_expect(b->count >= cap || tc->large_bytes + usable > budget, 0) &&
		    b->count > 0)
			tc_spill(tc, heap_at(idx), b, (b->count + 1) / 2, 1);
		if (b->count < cap && tc->large_bytes + usable <= budget) {
			tc_push(tc, b, p);
			tc->large_bytes += usable;
			return;
		}
	}
	free_to_heap(tc, heap_at(idx), p);
}

void dk_free(void *p)
{
	if (!p)
		return;
	/* Fast path: p lies in a list of a heap this thread caches (internal,
	 * so in use while the cache's generation holds), its header says live,
	 * a small class whose bin has room and no cache mark in the block. */
	const struct dk__memseg_list *l = dk__memseg_list_find_inline(p);
	struct tcache *tc = tc_valid();
	if (__builtin_expect(l == NULL || tc == NULL, 0) ||
	    __builtin_expect((unsigned int)l->heap_idx >= tc->n_heaps, 0)) {
		free_slow(p);
		return;
	}
	uint64_t w = dk__tlsf_block_word(p);
	size_t usable = (size_t)(w & ~(uint64_t)15);
	if (__builtin_expect(!(w & DK__TLSF_F_FREE) && usable - 16 <= DK__TC_SMALL_MAX - 16 &&
			     *tc_mark_word(p) != tc_mark(tc), 1)) {
		unsigned int c = (unsigned int)tc_class_of_block(usable);
		struct tc_bin *b = &tc->bins[l->heap_idx][c];
		if (__builtin_expect(b->count < g_tc_limit[c], 1)) {
			tc_push(tc, b, p);
			return;
		}
	}
	free_cached_heap(tc, l->heap_idx, p, w);
}

void dk__free_from(void **src, const char *what)
{
	void *p = __atomic_load_n(src, __ATOMIC_ACQUIRE);
	int idx = p ? block_heap(p, what) : -1;
	if (idx < 0)
		return;
	struct dk__heap *h = heap_at(idx);
	if (dk__heap_lock(h) < 0)
		return;
	p = __atomic_load_n(src, __ATOMIC_ACQUIRE); /* the lock's repair may have freed it */
	if (p) {
		dk__intent_begin(&h->intent, HP_FREE, (uintptr_t)p, 0, (uintptr_t)src);
		heap_free_locked(h, p);
		__atomic_store_n(src, NULL, __ATOMIC_RELEASE);
	}
	dk__heap_unlock(h);
}

size_t dk_malloc_usable_size(const void *p)
{
	if (!p || block_heap(p, "dk_malloc_usable_size") < 0)
		return 0;
	return dk__tlsf_usable_size(p);
}

void *dk_realloc(void *p, size_t size, unsigned int align)
{
	if (!p)
		return dk_malloc(NULL, size, align);
	if (size == 0) {
		dk_free(p);
		return NULL;
	}
	if (!valid_align(align)) {
		errno = EINVAL;
		return NULL;
	}
	int idx = block_heap(p, "dk_realloc");
	if (idx < 0) {
		errno = EINVAL;
		return NULL;
	}
	struct dk__heap *h = heap_at(idx);
	size_t old = dk__tlsf_usable_size(p);
	if (((uintptr_t)p & ((align ? align : 1) - 1)) == 0) {
		if (size <= old && size > old / 2)
			return p;
		if (dk__heap_lock(h) < 0) {
			errno = ENOTRECOVERABLE;
			return NULL;
		}
		void *q = dk__tlsf_resize_inplace(&h->tlsf, p, size);
		dk__heap_unlock(h);
		if (q)
			return q;
	}
	void *n = dk_malloc_flags(NULL, size, align, 0, h->socket_id, 0);
	if (!n)
		return NULL;
	memcpy(n, p, old < size ? old : size);
	dk_free(p);
	return n;
}

dk_iova_t dk_malloc_virt2iova(const void *p)
{
	return p ? dk_mem_virt2iova(p) : DK_BAD_IOVA;
}

int dk_malloc_get_stats(int socket, struct dk_heap_stats *out)
{
	if (!out)
		return -EINVAL;
	int idx = dk__heap_by_socket(socket);
	if (idx < 0)
		return idx == -ENODEV ? -ENODEV : -ENOENT;
	struct dk__heap *h = heap_at(idx);
	memset(out, 0, sizeof(*out));
	int rc = dk__heap_lock(h);
	if (rc < 0)
		return rc;
	snprintf(out->name, sizeof(out->name), "%s", h->name);
	out->socket_id = h->socket_id;
	out->heap_bytes = h->tlsf.region_bytes;
	out->alloc_bytes = dk__heap_alloc_bytes(h);
	out->free_bytes = h->tlsf.region_bytes - out->alloc_bytes;
	out->greatest_free = dk__tlsf_largest_free(&h->tlsf);
	out->alloc_count = dk__heap_alloc_count(h);
	dk__heap_unlock(h);
	return 0;
}
