/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MR cache (contract: dmakit/mr.h).
 *
 * The global level is a translation map (page shift 12) whose value for a
 * page names the record of the registration covering it, 0 for none:
 * packed (DK__MR_PACKED, dmakit/mr.h: record id and the page's IOVA, set
 * page by page with dk__tmap_set_step) when the record has an id and its
 * IOVAs fit, else the record's address. Records come from chunks that live
 * until the cache is destroyed; chunk k holds ids k * RECS_PER_CHUNK on
 * (the first MAX_ID_CHUNKS chunks; later records have no id). Each id has
 * an entry {start, end, iova, key} in hot, one array of 2^23 entries (256
 * MiB of NORESERVE address space: pages never written cost nothing), which
 * the inline lookup reads. Dropped records go to a free list and are
 * recycled. Every change of a record is framed by its sequence number
 * (rec_write), which also mirrors it into its entry; lookups copy a record
 * with rec_read and retry while it changes. A record's pages are cleared before it changes or is
 * dropped (rec_cut), and its entry is written before its pages are
 * published, which is what the inline level's value-entry-value reads rely
 * on.
 *
 * Locks: miss_lock serialises registrations (so a run is registered once
 * when several queues miss on it at once); it is held across ops.reg and
 * released around ops.dereg. lock (the state lock) guards the records, the
 * free list, the map's values, the generation and the statistics; the
 * map's notify (on_mem) takes it inside the translation maps' event
 * serialisation. dereg runs after lock is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dmakit/mr.h>

#include "dma/tmap.h"
#include "mem/memseg.h"
#include "mem/va_radix.h"
#include "mr/mr_cache.h"
#include "mr/mr_mp.h"

#define DK_LOG_COMPONENT "mr"
#include "core/log_internal.h"

#define PG_SHIFT 12
#define PG ((uintptr_t)1 << PG_SHIFT)
#define RECS_PER_CHUNK 1024u
#define MAX_ID_CHUNKS ((1u << DK__MR_ID_BITS) / RECS_PER_CHUNK)
#define NO_ID UINT32_MAX
#define HOT_BYTES (((size_t)1 << DK__MR_ID_BITS) * sizeof(struct dk__mr_entry))
#define IOVA_PACK_LIMIT ((dk_iova_t)1 << (64 - DK__MR_IOVA_SHIFT + PG_SHIFT))

struct rec {
	uint64_t seq; /* odd while the fields below change */
	uintptr_t start, end; /* end 0: not in use */
	dk_iova_t iova;
	uint32_t key;
	uint32_t id;                 /* NO_ID: published by address */
	struct dk__mr_entry *hot_at; /* the entry of id, or NULL */
	struct rec *next_free; /* state lock */
};

struct chunk {
	struct chunk *next;
	struct rec r[RECS_PER_CHUNK];
};

struct dk_mr_cache {
	uint64_t gen; /* first: queues read it on every lookup */
	struct dk_tmap *map;
	struct dk_mr_ops ops;
	void *ctx;
	pthread_mutex_t miss_lock;
	pthread_mutex_t lock;
	struct chunk *chunks;
	size_t n_chunks;
	struct chunk **chunk_tab;        /* MAX_ID_CHUNKS: chunk by id / RECS_PER_CHUNK */
	struct dk__mr_entry *hot;        /* HOT_BYTES: entry by id, read by lookups */
	struct rec *free_recs;
	struct dk_mr_stats st;
	/* Multi-process (mr_mp.c): the generation queues watch (&gen, or the
	 * shared one of an attached cache), the share or attachment (state
	 * lock; NULL: none) and, attached, the shared generation the copies
	 * belong to (state lock). */
	const uint64_t *genp;
	struct dk__mr_mp *mp;
	uint64_t mp_seen;
	/* Misses on unknown memory: when the last was logged, and how many
	 * were not since (miss lock). */
	uint64_t unknown_ns, unknown_quiet;
};

/* A piece of a registration to dereg once the state lock is dropped. */
struct piece {
	uintptr_t va;
	size_t len;
	uint32_t key;
};

struct pieces {
	struct piece *v;
	size_t n, cap;
};

/* ---- records (state lock held, except rec_read) --------------------------- */

static void rec_write(struct rec *r, uintptr_t start, uintptr_t end, dk_iova_t iova, uint32_t key)
{
	uint64_t s = r->seq;
	__atomic_store_n(&r->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&r->start, start, __ATOMIC_RELEASE);
	__atomic_store_n(&r->end, end, __ATOMIC_RELEASE);
	__atomic_store_n(&r->iova, iova, __ATOMIC_RELEASE);
	__atomic_store_n(&r->key, key, __ATOMIC_RELEASE);
	if (r->hot_at) {
		__atomic_store_n(&r->hot_at->start, start, __ATOMIC_RELEASE);
		__atomic_store_n(&r->hot_at->end, end, __ATOMIC_RELEASE);
		__atomic_store_n(&r->hot_at->iova, iova, __ATOMIC_RELEASE);
		__atomic_store_n(&r->hot_at->key, key, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&r->seq, s + 2, __ATOMIC_RELEASE);
}

/* A consistent copy of r: field loads are acquire so the second read of seq
 * cannot move before them; a writer's first field store is ordered after
 * its odd seq, so a copy that saw any new field sees a new seq. */
static void rec_read(const struct rec *r, struct dk__mr_entry *e)
{
	for (;;) {
		uint64_t s = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		e->start = __atomic_load_n(&r->start, __ATOMIC_ACQUIRE);
		e->end = __atomic_load_n(&r->end, __ATOMIC_ACQUIRE);
		e->iova = __atomic_load_n(&r->iova, __ATOMIC_ACQUIRE);
		e->key = __atomic_load_n(&r->key, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->seq, __ATOMIC_RELAXED) == s)
			return;
	}
}

static struct rec *rec_alloc(struct dk_mr_cache *c)
{
	if (!c->free_recs) {
		struct chunk *ch = calloc(1, sizeof(*ch));
		if (!ch) {
			DK_ERR("MR cache: no memory for registration records: free memory");
			return NULL;
		}
		size_t k = c->n_chunks++;
		ch->next = c->chunks;
		c->chunks = ch;
		if (k < MAX_ID_CHUNKS)
			__atomic_store_n(&c->chunk_tab[k], ch, __ATOMIC_RELEASE);
		for (size_t i = RECS_PER_CHUNK; i-- > 0;) {
			ch->r[i].id = k < MAX_ID_CHUNKS ? (uint32_t)(k * RECS_PER_CHUNK + i) : NO_ID;
			ch->r[i].hot_at = k < MAX_ID_CHUNKS ? &c->hot[ch->r[i].id] : NULL;
			ch->r[i].next_free = c->free_recs;
			c->free_recs = &ch->r[i];
		}
	}
	struct rec *r = c->free_recs;
	c->free_recs = r->next_free;
	return r;
}

static void rec_retire(struct dk_mr_cache *c, struct rec *r)
{
	rec_write(r, 0, 0, 0, 0);
	r->next_free = c->free_recs;
	c->free_recs = r;
}

/* Whether r's pages can carry packed values (dmakit/mr.h). */
static int rec_packs(const struct rec *r)
{
	return r->id != NO_ID && !(r->iova & (PG - 1)) && r->iova < IOVA_PACK_LIMIT &&
	       r->end - r->start <= IOVA_PACK_LIMIT - r->iova;
}

/* Publish r for the pages of [s, e): r's fields (and key) are written before. */
static int rec_publish(struct dk_mr_cache *c, struct rec *r, uintptr_t s, uintptr_t e)
{
	if (!rec_packs(r))
		return dk_tmap_set(c->map, (const void *)s, e - s, (uint64_t)(uintptr_t)r);
	uint64_t iopage = (r->iova + (s - r->start)) >> PG_SHIFT;
	uint64_t v = iopage << DK__MR_IOVA_SHIFT | (uint64_t)r->id << 1 | DK__MR_PACKED;
	return dk__tmap_set_step(c->map, (const void *)s, e - s, v,
				 (uint64_t)1 << DK__MR_IOVA_SHIFT);
}

static struct rec *rec_at(const struct dk_mr_cache *c, uintptr_t a)
{
	uint64_t v = dk_tmap_get(c->map, (const void *)a);
	if (!(v & DK__MR_PACKED))
		return (struct rec *)(uintptr_t)v;
	uint32_t id = (uint32_t)(v >> 1) & ((1u << DK__MR_ID_BITS) - 1);
	const struct chunk *ch =
		__atomic_load_n(&c->chunk_tab[id / RECS_PER_CHUNK], __ATOMIC_ACQUIRE);
	return (struct rec *)&ch->r[id % RECS_PER_CHUNK];
}

/* ---- invalidation -------------------------------------------------------- */

static void piece_add(struct pieces *p, uintptr_t va, size_t len, uint32_t key)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct piece *v = realloc(p->v, cap * sizeof(*v));
		if (!v) {
			DK_ERR("MR cache: no memory to note the release of [%#lx, +%#zx): the device keeps access to it until the cache is destroyed; free memory",
			       (unsigned long)va, len);
			return;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct piece){va, len, key};
}

/* Take [os, oe) out of r (state lock held); the piece goes to p. */
static void rec_cut(struct dk_mr_cache *c, struct rec *r, uintptr_t os, uintptr_t oe,
		    struct pieces *p)
{
	uintptr_t rs = r->start, re = r->end;
	dk_iova_t io = r->iova;
	uint32_t key = r->key;
	struct rec *split = os > rs && oe < re ? rec_alloc(c) : NULL;
	if (os > rs && oe < re && !split)
		oe = re; /* no record for the right part: drop it too (a miss re-registers it) */
	piece_add(p, os, oe - os, key);
	/* On a split the smaller part moves to the new record (same key), so
	 * only its pages are published again: cutting a run page by page costs
	 * O(pages cut), not O(pages left) each time. */
	int left_moves = split && os - rs < re - oe;
	if (split) {
		uintptr_t ss = left_moves ? rs : oe, se = left_moves ? os : re;
		rec_write(split, ss, se, io + (ss - rs), key);
		rec_publish(c, split, ss, se); /* its pages have tables: cannot fail */
		c->st.live++;
	}
	/* Cleared before r changes: a lookup that read a page's value before
	 * the clear and r's entry after it sees the value gone (dmakit/mr.h). */
	dk_tmap_clear(c->map, (const void *)os, oe - os);
	if (left_moves || (!split && os == rs && oe < re))
		rec_write(r, oe, re, io + (oe - rs), key);
	else if (split || os > rs)
		rec_write(r, rs, os, io, key);
	else
		rec_retire(c, r);
}

/* Drop the registered parts of [s, e) (state lock held). The count cut. */
static uint64_t drop_range(struct dk_mr_cache *c, uintptr_t s, uintptr_t e, struct pieces *p)
{
	uint64_t n = 0;
	for (uintptr_t a = dk__tmap_next_set(c->map, s, e); a < e;
	     a = dk__tmap_next_set(c->map, a, e)) {
		struct rec *r = rec_at(c, a);
		uintptr_t oe = r->end < e ? r->end : e;
		if (r->end == oe && r->start >= s)
			c->st.live--;
		rec_cut(c, r, r->start > s ? r->start : s, oe, p);
		a = oe;
		n++;
	}
	return n;
}

static void dereg_all(struct dk_mr_cache *c, struct pieces *p)
{
	for (size_t i = 0; i < p->n; i++)
		c->ops.dereg(c->ctx, (void *)p->v[i].va, p->v[i].len, p->v[i].key);
	free(p->v);
	*p = (struct pieces){0};
}

static int on_mem(void *ctx, struct dk_tmap *map, enum dk_mem_event ev, void *va, size_t len)
{
	(void)map;
	(void)ev; /* FREE: the memory goes; ALLOC: registrations there are stale */
	struct dk_mr_cache *c = ctx;
	struct pieces p = {0};
	uintptr_t s = (uintptr_t)va & ~(PG - 1);
	uintptr_t e = ((uintptr_t)va + len + PG - 1) & ~(PG - 1);
	pthread_mutex_lock(&c->lock);
	/* Nothing registered (always so during the creation replay, before
	 * c->map is set): nothing to drop. */
	uint64_t n = c->st.live ? drop_range(c, s, e, &p) : 0;
	if (n) {
		c->st.invalidations += n;
		__atomic_store_n(&c->gen, c->gen + 1, __ATOMIC_RELEASE);
		if (c->mp)
			dk__mr_mp_bump(c->mp);
	}
	pthread_mutex_unlock(&c->lock);
	dereg_all(c, &p);
	return 0;
}

void dk__mr_cache_event(struct dk_mr_cache *c, enum dk_mem_event ev, const void *va, size_t len)
{
	on_mem(c, c->map, ev, (void *)(uintptr_t)va, len);
}

/* ---- registration on a miss ---------------------------------------------- */

static int page_mapped(const struct dk__memseg_list *l, size_t p)
{
	return p < l->iova_init && __atomic_load_n(&l->iova[p], __ATOMIC_RELAXED) != DK_BAD_IOVA;
}

/* The VA-contiguous run of known memory around a: a whole external list,
 * or the mapped pages around a in an internal one. 0 or -ENOENT. */
static int known_run(uintptr_t a, uintptr_t *s, uintptr_t *e)
{
	struct dk__memseg_list *l = dk__memseg_list_find((const void *)a);
	if (!l)
		return -ENOENT;
	int rc = -ENOENT;
	dk__mem_layout_rdlock();
	if (l->in_use && a >= l->base && a - l->base < l->len) {
		if ((l->flags & DK_MEMSEG_EXTERNAL) || !l->iova) {
			*s = l->base;
			*e = l->base + l->len;
			rc = 0;
		} else {
			size_t p = (a - l->base) >> l->page_shift, first = p, last = p + 1;
			if (page_mapped(l, p)) {
				while (first > 0 && page_mapped(l, first - 1))
					first--;
				while (last < l->n_pages && page_mapped(l, last))
					last++;
				*s = l->base + (first << l->page_shift);
				*e = l->base + (last << l->page_shift);
				rc = 0;
			}
		}
	}
	dk__mem_layout_rdunlock();
	return rc;
}

/* The pages around a in [rs, re) no registration covers (state lock held). */
static void uncovered(const struct dk_mr_cache *c, uintptr_t a, uintptr_t rs, uintptr_t re,
		      uintptr_t *s, uintptr_t *e)
{
	uintptr_t p = a & ~(PG - 1);
	*s = p;
	while (*s > rs && !rec_at(c, *s - PG))
		*s -= PG;
	*e = dk__tmap_next_set(c->map, p + PG, re);
}

/* Record [s, e) registered as key/iova (state lock held). 0, -ENOMEM. */
static int insert(struct dk_mr_cache *c, uintptr_t s, uintptr_t e, uint32_t key, dk_iova_t io)
{
	struct rec *r = rec_alloc(c);
	if (!r)
		return -ENOMEM;
	rec_write(r, s, e, io, key);
	int rc = rec_publish(c, r, s, e);
	if (rc < 0) {
		dk_tmap_clear(c->map, (const void *)s, e - s);
		rec_retire(c, r);
		return rc;
	}
	c->st.registrations++;
	c->st.live++;
	return 0;
}

/* ---- attached caches (multi-process, mr_mp.c) ----------------------------- */

/* Drop every copy when the shared generation moved from the one the copies
 * belong to (a registration of the primary may be gone). */
static void mp_sync(struct dk_mr_cache *c)
{
	struct pieces p = {0};
	uint64_t gen = __atomic_load_n(c->genp, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&c->mp_seen, __ATOMIC_ACQUIRE) == gen)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->mp_seen != gen) {
		for (struct chunk *ch = c->chunks; ch && c->st.live; ch = ch->next)
			for (size_t i = 0; i < RECS_PER_CHUNK; i++)
				if (ch->r[i].end)
					drop_range(c, ch->r[i].start, ch->r[i].end, &p);
		__atomic_store_n(&c->mp_seen, gen, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
	dereg_all(c, &p); /* an attached cache's dereg does nothing */
}

static int attached(const struct dk_mr_cache *c)
{
	return c->genp != &c->gen;
}

/* Copy the primary's registration around a unless a copy covers it
 * (miss_lock held). */
static int miss_remote(struct dk_mr_cache *c, uintptr_t a)
{
	for (int tries = 0; tries < 4; tries++) {
		mp_sync(c);
		pthread_mutex_lock(&c->lock);
		uint64_t gen = c->mp_seen;
		int covered = rec_at(c, a) != NULL;
		if (!covered)
			c->st.misses++;
		pthread_mutex_unlock(&c->lock);
		if (covered)
			return 0;
		struct dk__mr_entry e;
		int rc = dk__mr_mp_ask(c->mp, a, &e);
		if (rc < 0)
			return rc;
		/* Valid if no invalidation happened since gen was read. */
		pthread_mutex_lock(&c->lock);
		int stale = gen != c->mp_seen || gen != __atomic_load_n(c->genp, __ATOMIC_ACQUIRE) ||
			    dk__tmap_next_set(c->map, e.start, e.end) != e.end;
		rc = stale ? 0 : insert(c, e.start, e.end, e.key, e.iova);
		pthread_mutex_unlock(&c->lock);
		if (!stale)
			return rc;
	}
	return 0; /* the caller finds no copy and retries or reports */
}

int dk__mr_unknown_log_now(struct dk_mr_cache *c, uint64_t *quiet)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (c->unknown_ns && now - c->unknown_ns < 1000000000u) {
		c->unknown_quiet++;
		return 0;
	}
	c->unknown_ns = now;
	*quiet = c->unknown_quiet;
	c->unknown_quiet = 0;
	return 1;
}

/* Register the run around a unless a is covered (miss_lock held). */
static int miss_locked(struct dk_mr_cache *c, uintptr_t a)
{
	if (attached(c))
		return miss_remote(c, a);
	for (;;) {
		uintptr_t rs, re, s, e;
		if (known_run(a, &rs, &re) < 0) {
			uint64_t quiet;
			if (dk__mr_unknown_log_now(c, &quiet))
				DK_ERR("MR cache: %p is memory dmakit does not know: allocate it from a dmakit heap, add it to an external heap or register it with dk_extmem_register (%" PRIu64
				       " more such lookups since the last message)",
				       (void *)a, quiet);
			return -ENOENT;
		}
		pthread_mutex_lock(&c->lock);
		uint64_t gen = c->gen;
		int covered = rec_at(c, a) != NULL;
		if (!covered) {
			c->st.misses++;
			uncovered(c, a, rs, re, &s, &e);
		}
		pthread_mutex_unlock(&c->lock);
		if (covered)
			return 0;
		uint32_t key = 0;
		dk_iova_t io = DK_BAD_IOVA;
		int rc = c->ops.reg(c->ctx, (void *)s, e - s, &key, &io);
		if (rc < 0) {
			DK_ERR("MR cache: registering [%p, +%#zx) failed (%d): see the device's message",
			       (void *)s, (size_t)(e - s), rc);
			return rc;
		}
		/* Re-check: no event since (it could have freed the run), and
		 * still nobody covers the pages. */
		pthread_mutex_lock(&c->lock);
		int stale = c->gen != gen || dk__tmap_next_set(c->map, s, e) != e;
		rc = stale ? 0 : insert(c, s, e, key, io);
		pthread_mutex_unlock(&c->lock);
		if (!stale && rc == 0)
			return 0;
		pthread_mutex_unlock(&c->miss_lock);
		c->ops.dereg(c->ctx, (void *)s, e - s, key);
		pthread_mutex_lock(&c->miss_lock);
		if (rc < 0)
			return rc;
	}
}

static int miss(struct dk_mr_cache *c, uintptr_t a)
{
	pthread_mutex_lock(&c->miss_lock);
	int rc = miss_locked(c, a);
	pthread_mutex_unlock(&c->miss_lock);
	return rc;
}

/* ---- lookups -------------------------------------------------------------- */

static int global_get(const struct dk_mr_cache *c, uintptr_t a, struct dk__mr_entry *e)
{
	const struct rec *r = rec_at(c, a);
	if (!r)
		return 0;
	rec_read(r, e);
	return a - e->start < e->end - e->start;
}

static void flush(struct dk_mr_ctrl *q)
{
	memset(&q->mru, 0, sizeof(q->mru));
}

int dk__mr_lookup_slow(struct dk_mr_ctrl *q, const void *va, size_t len, uint32_t *key,
		       dk_iova_t *iova)
{
	struct dk_mr_cache *c = q->cache;
	uintptr_t a = (uintptr_t)va;
	uint64_t gen = __atomic_load_n(q->gen_ptr, __ATOMIC_ACQUIRE);
	if (gen != q->gen) {
		flush(q);
		q->gen = gen;
	}
	if (attached(c))
		mp_sync(c); /* the copies belong to gen (or a later one) */
	for (int tries = 0; tries < 4; tries++) {
		struct dk__mr_entry e;
		if (global_get(c, a, &e)) {
			if (!dk__mr_entry_hit(&e, a, len, key, iova)) {
				DK_ERR("dk_mr_lookup(%p, %zu): the buffer goes past its registration [%#lx, %#lx): split it, one part per registration",
				       va, len, (unsigned long)e.start, (unsigned long)e.end);
				return -ERANGE;
			}
			q->mru = e;
			return 0;
		}
		int rc = miss(c, a);
		if (rc < 0)
			return rc;
	}
	DK_ERR("dk_mr_lookup(%p): the memory keeps being freed while it is registered: do not free memory in use",
	       va);
	return -ENOENT;
}

int dk__mr_cache_find(struct dk_mr_cache *c, uintptr_t a, struct dk__mr_entry *e)
{
	for (int tries = 0; tries < 4; tries++) {
		if (global_get(c, a, e))
			return 0;
		int rc = miss(c, a);
		if (rc < 0)
			return rc;
	}
	DK_ERR("MR cache: %p keeps being freed while it is registered: do not free memory in use",
	       (void *)a);
	return -ENOENT;
}

int dk__mr_cache_set_mp(struct dk_mr_cache *c, struct dk__mr_mp *m, const uint64_t *shared_gen)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	if (c->mp || attached(c))
		rc = -EALREADY;
	else
		c->mp = m;
	if (!rc && shared_gen) {
		c->genp = shared_gen;
		__atomic_store_n(&c->mp_seen, __atomic_load_n(shared_gen, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

struct dk__mr_mp *dk__mr_cache_mp(struct dk_mr_cache *c)
{
	pthread_mutex_lock(&c->lock);
	struct dk__mr_mp *m = c->mp;
	pthread_mutex_unlock(&c->lock);
	return m;
}

/* ---- API ------------------------------------------------------------------ */

int dk_mr_register(struct dk_mr_cache *c, const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va;
	if (!c || !va || !len || len > UINTPTR_MAX - a) {
		DK_ERR("dk_mr_register(%p, %p, %zu): give a cache and a non-empty range", (void *)c,
		       va, len);
		return -EINVAL;
	}
	uintptr_t end = ((a + len - 1) & ~(PG - 1)) + PG;
	a &= ~(PG - 1);
	if (attached(c))
		mp_sync(c);
	while (a < end) {
		struct dk__mr_entry e;
		if (global_get(c, a, &e) && e.end > a) {
			a = e.end;
			continue;
		}
		int rc = miss(c, a);
		if (rc < 0)
			return rc;
		if (!global_get(c, a, &e)) /* freed meanwhile: the caller's race */
			return -ENOENT;
		a = e.end;
	}
	return 0;
}

int dk_mr_cache_stats(struct dk_mr_cache *c, struct dk_mr_stats *st)
{
	if (!c || !st) {
		DK_ERR("dk_mr_cache_stats: NULL argument: pass a cache and a struct dk_mr_stats");
		return -EINVAL;
	}
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	st->generation = __atomic_load_n(c->genp, __ATOMIC_ACQUIRE); /* what queues watch */
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int dk_mr_ctrl_init(struct dk_mr_ctrl *q, struct dk_mr_cache *c)
{
	if (!q || !c) {
		DK_ERR("dk_mr_ctrl_init: NULL argument: pass the queue's control and its cache");
		return -EINVAL;
	}
	memset(q, 0, sizeof(*q));
	q->cache = c;
	q->map = c->map;
	q->hot = c->hot;
	q->win = UINTPTR_MAX;
	q->gen_ptr = c->genp;
	q->gen = __atomic_load_n(c->genp, __ATOMIC_ACQUIRE);
	return 0;
}

void dk_mr_ctrl_fini(struct dk_mr_ctrl *q)
{
	if (q)
		memset(q, 0, sizeof(*q));
}

struct dk_mr_cache *dk_mr_cache_create(const struct dk_mr_ops *ops, void *ctx)
{
	if (!ops || !ops->reg || !ops->dereg) {
		DK_ERR("dk_mr_cache_create: give register and deregister operations");
		errno = EINVAL;
		return NULL;
	}
	struct dk_mr_cache *c = calloc(1, sizeof(*c));
	if (!c) {
		DK_ERR("dk_mr_cache_create: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->ops = *ops;
	c->ctx = ctx;
	c->genp = &c->gen;
	int err = ENOMEM;
	c->chunk_tab = calloc(MAX_ID_CHUNKS, sizeof(*c->chunk_tab));
	c->hot = dk__va_table_new(HOT_BYTES);
	if (!c->chunk_tab || !c->hot) {
		DK_ERR("dk_mr_cache_create: out of memory (or address space) for the record tables: free memory");
		goto free_tabs;
	}
	pthread_mutex_init(&c->miss_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	c->map = dk_tmap_create(PG_SHIFT, 0, on_mem, c);
	if (!c->map) {
		err = errno;
		DK_ERR("dk_mr_cache_create: no translation map (%s)", strerror(err));
		goto destroy_locks;
	}
	return c;
destroy_locks:
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->miss_lock);
free_tabs:
	dk__va_table_free(c->hot, HOT_BYTES);
	free(c->chunk_tab);
	free(c);
	errno = err;
	return NULL;
}

void dk_mr_cache_destroy(struct dk_mr_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	struct dk__mr_mp *m = c->mp; /* no invalidation reaches it from now on */
	c->mp = NULL;
	pthread_mutex_unlock(&c->lock);
	dk__mr_mp_fini(m); /* stop serving secondaries, or detach */
	dk_tmap_destroy(c->map); /* no event after this */
	while (c->chunks) {
		struct chunk *ch = c->chunks;
		c->chunks = ch->next;
		for (size_t i = 0; i < RECS_PER_CHUNK; i++)
			if (ch->r[i].end)
				c->ops.dereg(c->ctx, (void *)ch->r[i].start,
					     ch->r[i].end - ch->r[i].start, ch->r[i].key);
		free(ch);
	}
	dk__va_table_free(c->hot, HOT_BYTES);
	free(c->chunk_tab);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->miss_lock);
	free(c);
}
