/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/mr.h - memory-registration (MR) cache: VA -> {key, IOVA} for a
 * device, shared by every queue and driver class of a device context.
 *
 * A cache holds registrations {start, end, key, iova}: VA ranges a device
 * was given access to by the cache's register operation. A queue owns a
 * struct dk_mr_ctrl in front of the cache and translates buffers with
 * dk_mr_lookup(), whose hit path is inline and takes no lock:
 *   1. the queue's most recently used registration (MRU);
 *   2. the cache's global map: a translation map (dmakit/dma.h) from VA
 *      page to registration, O(1) at any number of registrations. Its
 *      common case is inline too: a page's value packs the page's IOVA
 *      with a small registration id, whose range and key are in a
 *      per-cache array of entries by id, so a hit reads the page's value
 *      and one entry, and touches no record; registrations the packing
 *      cannot hold (IOVA not 4 KiB aligned or at or past 2^52, records
 *      past the first 2^23) take the out-of-line path, which copies the
 *      record under its sequence number. (A per-queue L1 of 32 entries
 *      direct-mapped by page, between the MRU and this level, was removed:
 *      at 64 registrations and more its hit or miss is a coin toss the
 *      branch predictor loses, and it cost more than the map it saves,
 *      docs/performance.md);
 *   3. a miss: the whole VA-contiguous run of memory dmakit knows around
 *      the address (heap memory, external heaps, dk_extmem_register
 *      memory) is registered once (pages another registration covers are
 *      left out), then the lookup is answered.
 * The cache follows memory events: memory leaving the layout (FREE) drops
 * or shrinks the registrations covering it and bumps the cache's
 * generation; a queue compares the generation with its own before it
 * trusts its MRU, and flushes it when it changed. Memory coming
 * into the layout (ALLOC) drops any registration still covering it (a
 * registration left stale by a lookup that raced with the memory's
 * removal).
 *
 * Records: registrations live in records that are never freed before the
 * cache is destroyed; a dropped record is recycled, and every change to a
 * record is framed by its sequence number (odd while it changes), which a
 * lookup reads before and after copying the record and retries on a
 * change. The inline global level reads a page's value, then the entry of
 * the id it names, then the page's value again, and trusts the entry only
 * when the value did not change (a record's pages are cleared before the
 * record changes or is dropped, and its entry is written before its pages
 * are published); the entry's range may then be one the registration had
 * before a shrink running meanwhile (the shrink's generation bump flushes
 * it from the MRU), and the IOVA comes from the page's value. So a lookup
 * never reads freed memory, and never answers from a half-changed or
 * recycled record (except in the caller's race below, where the page's id
 * may be dropped and reused twice during the lookup).
 *
 * Cost of a hit (no lock, no atomic read-modify-write, no store to memory
 * shared with other queues; x86-64, gcc -O2: about 16 instructions for an
 * MRU hit, 60 for a map hit): MRU: two dependent loads (the generation) and
 * the range compare; global: the page's value (the queue keeps the map's
 * words of the 1 GiB window it used last; another window walks the radix),
 * the id's entry (32 bytes, one cache line), the page's value again (a hit
 * in the line just read) and 32 bytes copied into the MRU. A hit therefore
 * scales with the number of threads; its only loads that miss the CPU
 * caches at large counts are the page's value and the id's entry
 * (docs/performance.md, bench/mr).
 *
 * Operations (the device's side): reg makes [va, va+len) reachable by the
 * device and returns its key and the IOVA of va; dereg undoes the part
 * [va, va+len) of an earlier reg with that key (a registration shrunk by a
 * partial FREE keeps its key for what is left; dereg is called once per
 * piece removed, so a backend whose keys cannot shrink releases a key when
 * the last piece of it is gone). reg runs with only the cache's miss lock
 * held (no memory event takes it) and dereg with no lock of the cache held;
 * dereg may run inside a memory event (in the thread that frees memory),
 * so, like a translation map's notify, neither may allocate from dmakit
 * heaps, add or remove memory, or call into this cache.
 *
 * Lookups racing with the removal of the memory they translate are the
 * caller's race (as for dk_mem_virt2iova): they may return the old
 * translation or -ENOENT. Once the FREE event returns, lookups that start
 * afterwards never return a translation of the freed range.
 *
 * Lock order: the memory-event serialisation of translation maps, then the
 * cache's state lock, then its map's lock. The miss lock is taken before
 * the state lock and never inside a memory event.
 *
 * Multi-process: only the primary process opens devices, so only the
 * primary's caches register. The primary shares a cache under a name
 * (dk_mr_cache_share; a device context shares its cache under the device's
 * name); a secondary process attaches to it (dk_mr_cache_attach) and gets a
 * cache of its own whose registrations are copies of the primary's:
 *   - a lookup in the secondary reads its copies through the same levels
 *     (MRU, global map), without asking anyone;
 *   - a miss (and dk_mr_register) asks the primary over a unix socket in the
 *     instance's runtime directory (<dir>/<prefix>/mr.<hash>.sock, hash:
 *     16 hex digits of the name's FNV-1a), served by a thread of the
 *     primary ("dmakit-mr-srv") that registers the run around the address
 *     exactly as a miss of the primary would and answers with the
 *     registration, which the secondary copies;
 *   - the cache's generation is in shared memory (the memzone "mr.<hash>"):
 *     every invalidation in the primary (and in a secondary, of memory only
 *     it has attached) bumps it, the secondary's queues watch it, and a
 *     secondary drops all its copies when it moved. So once a FREE event
 *     returns (events reach every process, dmakit/memory.h), no process's
 *     lookup that starts afterwards returns a translation of the range.
 * A secondary never registers or deregisters (its dereg is a no-op: the
 * primary owns the registrations). The primary's server handles one
 * request at a time and gives a client at most 100 ms to send its request,
 * so a secondary that hangs or dies mid-request delays others by that much
 * at most and never blocks the server. The server takes the cache's miss
 * lock like a lookup of the primary; a secondary holds its own cache's miss
 * lock (only) while it waits for an answer, at most its timeout.
 */
#ifndef DMAKIT_MR_H
#define DMAKIT_MR_H

#include <dmakit/common.h>
#include <dmakit/dma.h>
#include <dmakit/memory.h>

DK_BEGIN_DECLS

struct dk_mr_ops {
	/* Register [va, va+len): 0 with *key and *iova (of va), or a negative
	 * errno (logged by the operation; the lookup returns it). */
	int (*reg)(void *ctx, void *va, size_t len, uint32_t *key, dk_iova_t *iova);
	/* Release [va, va+len) of a registration made with key. */
	void (*dereg)(void *ctx, void *va, size_t len, uint32_t key);
};

struct dk_mr_cache;

/*
 * Create a cache that registers through ops (copied; ctx is passed to
 * them). It starts empty and follows memory events until destroyed.
 * NULL with errno: EINVAL (NULL ops, reg or dereg), ENOMEM, ENOSPC (no
 * memory-event slot for translation maps). Thread-safe.
 */
DK_EXPORT struct dk_mr_cache *dk_mr_cache_create(const struct dk_mr_ops *ops, void *ctx);

/*
 * Stop following memory, dereg every registration (no lock held) and free
 * the cache. NULL is ignored. Lookups must be over and queues finished.
 */
DK_EXPORT void dk_mr_cache_destroy(struct dk_mr_cache *c);

/*
 * Register every page of [va, va+len) not registered yet, by whole runs of
 * known memory (a pool registered up front, so its data path never
 * misses). 0, or:
 *   -EINVAL   NULL c or va, len 0, wrapping
 *   -ENOENT   part of the range is memory dmakit does not know (the
 *             message names dk_extmem_register); runs before it stay
 *             registered
 *   -ENOMEM, or what reg returned
 * Thread-safe.
 */
DK_EXPORT int dk_mr_register(struct dk_mr_cache *c, const void *va, size_t len);

struct dk_mr_stats {
	uint64_t registrations; /* successful reg calls */
	uint64_t live;          /* registrations held now */
	uint64_t misses;        /* lookups that found no registration */
	uint64_t invalidations; /* registrations dropped or shrunk by events */
	uint64_t generation;    /* bumped by every invalidation */
};

/* Cache names for dk_mr_cache_share / attach: 1..DK_MR_NAME_MAX-1
 * characters of [A-Za-z0-9_.:-]. */
#define DK_MR_NAME_MAX 64
#define DK_MR_ATTACH_TIMEOUT_MS 1000 /* dk_mr_cache_attach's default */

/*
 * In the primary process of a multi-process instance: serve c to
 * secondaries under name (see Multi-process above) until c is destroyed
 * (dk_mr_cache_destroy stops the server and removes the socket; the shared
 * generation stays until the instance ends, so a cache destroyed and
 * shared again under its name reuses it). 0, or:
 *   -EINVAL   NULL c, bad name
 *   -EPERM    not the primary of a multi-process instance (in memory, a
 *             secondary, no dk_init): nothing to share with
 *   -EALREADY c is shared already, or is a secondary's attached cache
 *   -EEXIST   another cache of this primary is shared under name
 *   -ENAMETOOLONG the socket path does not fit a unix socket address
 *             (use a shorter DMAKIT_RUNTIME_DIR)
 *   -ENOMEM, -ENOSPC (no memzone), -errno of the socket or the thread
 * Every error is logged. Thread-safe. Destroy a shared cache before
 * dk_cleanup (its server registers memory of the layout).
 */
DK_EXPORT int dk_mr_cache_share(struct dk_mr_cache *c, const char *name);

/*
 * In a secondary process: a cache attached to the primary's cache shared
 * under name, asking the primary on a miss with a timeout of timeout_ms
 * (0: DK_MR_ATTACH_TIMEOUT_MS) per request. Queues use it like any cache;
 * dk_mr_cache_destroy detaches (nothing is deregistered). NULL with errno:
 *   EINVAL   bad name
 *   EPERM    not a secondary process
 *   ENOENT   the primary shares no cache under name (share it there:
 *            dk_mr_cache_share, or probe the device)
 *   ENOMEM, or what dk_mr_cache_create sets
 * Every error is logged. Thread-safe.
 * Lookups and dk_mr_register of an attached cache, on a miss, besides
 * their own errors:
 *   -ENOTCONN   no primary serves the cache (it exited, or destroyed the
 *               cache): restart the primary and attach again
 *   -ETIMEDOUT  the primary did not answer within timeout_ms
 *   -ENOENT     the primary does not know the memory (external memory
 *               attached only here): attach or register it in the primary
 *   -EPROTO     a malformed answer
 */
DK_EXPORT struct dk_mr_cache *dk_mr_cache_attach(const char *name, unsigned int timeout_ms);

/* Fill *st. 0, -EINVAL (NULL argument). Thread-safe. In an attached cache,
 * registrations and live count the copies of the primary's registrations,
 * misses the requests sent, and generation is the shared one. */
DK_EXPORT int dk_mr_cache_stats(struct dk_mr_cache *c, struct dk_mr_stats *st);

/* ---- per-queue control --------------------------------------------------- */

/* One cached registration; layout is not API. Empty: start = end = 0. */
struct dk__mr_entry {
	uintptr_t start, end;
	dk_iova_t iova; /* of start */
	uint32_t key;
};

/*
 * Per-queue control, allocated by the caller (in the queue's structure).
 * Used by one thread at a time (the queue's); any number of queues share
 * one cache. Fields are not API.
 */
struct dk_mr_ctrl {
	const uint64_t *gen_ptr; /* the cache's generation */
	uint64_t gen;            /* the generation the levels below belong to */
	struct dk__mr_entry mru;
	uintptr_t win;             /* VA >> DK__IOVA_L1_SHIFT of words, or UINTPTR_MAX */
	const uint64_t *words;     /* the global map's words of that 1 GiB window */
	const struct dk_tmap *map; /* the cache's global map */
	const struct dk__mr_entry *hot; /* the cache's entries by record id */
	struct dk_mr_cache *cache;
};

/* Attach q to c, with empty levels. 0, -EINVAL (NULL argument). */
DK_EXPORT int dk_mr_ctrl_init(struct dk_mr_ctrl *q, struct dk_mr_cache *c);
/* Detach q (its memory is the caller's again). NULL is ignored. */
DK_EXPORT void dk_mr_ctrl_fini(struct dk_mr_ctrl *q);

/*
 * Translate [va, va+len) (len 0 counts as 1) for q's device: 0 with *key
 * and *iova (of va), or:
 *   -ENOENT  memory dmakit does not know (logged, naming dk_extmem_register)
 *   -ERANGE  the buffer straddles two registrations or leaves known memory
 *            (split it: one key per part)
 *   -ENOMEM, or what the cache's reg returned, on a miss
 * The hit path (MRU, the global map's packed values) is inline and
 * takes no lock; the rest is dk__mr_lookup_slow (generation change, record
 * copy, registration on a miss, errors).
 */
static inline int dk_mr_lookup(struct dk_mr_ctrl *q, const void *va, size_t len, uint32_t *key,
			       dk_iova_t *iova);

/* ---- inline fast path (not API) ------------------------------------------ */

DK_EXPORT int dk__mr_lookup_slow(struct dk_mr_ctrl *q, const void *va, size_t len,
				 uint32_t *key, dk_iova_t *iova);

static inline int dk__mr_entry_hit(const struct dk__mr_entry *e, uintptr_t a, size_t len,
				   uint32_t *key, dk_iova_t *iova)
{
	uintptr_t off = a - e->start;
	if (off >= e->end - e->start || (len > 1 && len - 1 >= e->end - a))
		return 0;
	*key = e->key;
	*iova = e->iova + off;
	return 1;
}

/*
 * Global map values (0: no registration). Bit 0 set: packed, bits 1..23 the
 * record id, bits 24..63 the page's IOVA >> 12 (so consecutive pages of a
 * registration differ by 1 << 24). Bit 0 clear: the record's address.
 */
#define DK__MR_PACKED 1u
#define DK__MR_ID_BITS 23
#define DK__MR_IOVA_SHIFT 24

/*
 * The global level for [a, a+len), inline: 1 with the answer (the MRU gets
 * the registration), 0 when the slow path decides. The entry of the
 * page's id is trusted only when the page's value is the same after reading
 * it; its range may then be a state of the registration before a shrink,
 * which the generation flushes from the MRU; the IOVA comes from the
 * page's value, so it is right whatever range was read.
 */
static inline int dk__mr_map_hit(struct dk_mr_ctrl *q, uintptr_t a, size_t len, uint32_t *key,
				 dk_iova_t *iova)
{
	const uint64_t *w; /* the map's default is 0: words are values */
	uintptr_t pg = (a >> 12) & (((uintptr_t)1 << (DK__IOVA_L1_SHIFT - 12)) - 1);
	if (__builtin_expect(a >> DK__IOVA_L1_SHIFT == q->win, 1)) {
		w = q->words + pg;
	} else {
		w = dk__tmap_word(q->map, (const void *)a);
		if (!w)
			return 0;
		q->win = a >> DK__IOVA_L1_SHIFT;
		q->words = w - pg;
	}
	uint64_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
	if (!(v & DK__MR_PACKED))
		return 0;
	uint32_t id = (uint32_t)(v >> 1) & ((1u << DK__MR_ID_BITS) - 1);
	const struct dk__mr_entry *h = &q->hot[id];
	struct dk__mr_entry e;
	e.start = __atomic_load_n(&h->start, __ATOMIC_ACQUIRE);
	e.end = __atomic_load_n(&h->end, __ATOMIC_ACQUIRE);
	e.key = __atomic_load_n(&h->key, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(w, __ATOMIC_ACQUIRE) != v) /* changed meanwhile */
		return 0;
	dk_iova_t ia = ((v >> DK__MR_IOVA_SHIFT) << 12) | (a & 4095);
	e.iova = ia - (a - e.start);
	if (!dk__mr_entry_hit(&e, a, len, key, iova))
		return 0;
	q->mru = e;
	return 1;
}

static inline int dk_mr_lookup(struct dk_mr_ctrl *q, const void *va, size_t len, uint32_t *key,
			       dk_iova_t *iova)
{
	uintptr_t a = (uintptr_t)va;
	if (__builtin_expect(__atomic_load_n(q->gen_ptr, __ATOMIC_ACQUIRE) == q->gen, 1)) {
		if (__builtin_expect(dk__mr_entry_hit(&q->mru, a, len, key, iova), 1))
			return 0;
		if (dk__mr_map_hit(q, a, len, key, iova))
			return 0;
	}
	return dk__mr_lookup_slow(q, va, len, key, iova);
}

DK_END_DECLS

#endif
