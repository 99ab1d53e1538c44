/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memseg lists and IOVA translation (contracts: src/mem/memseg.h and
 * include/dmakit/memory.h).
 *
 * All list state is in one struct dk__mem_layout (the table, the IOVA mode,
 * the layout lock), part of the memory layer's shared state (dk__mem_sh,
 * mem_config.h). What is per process stays outside it: the radix table
 * dk__iova_l1 and its per-window counts (publication is what attach/detach
 * change), and the generation this process last synced to.
 *
 * Radix publication: dk__iova_l1[va >> 30] points to the slot of the only
 * attached list that touches that 1 GiB window, or to dk__memseg_shared_slot
 * (end 0: every address is "outside" it) when two or more lists touch it, so the
 * inline lookup falls to dk__mem_virt2iova_slow, which searches under the
 * read lock. g_win_users counts the lists per window; when it drops back to
 * one the remaining list's slot is published again.
 *
 * Slots of contiguous (delta) lists do not use the NULL-table form of the
 * inline: they point to a one-entry table (base_iova) with a page shift of
 * 47, so every lookup runs the same instructions and a mix of table and
 * delta lists costs no branch misprediction (bench/iova: 8.8 -> see
 * docs/performance.md).
 *
 * Per-page tables are anonymous NORESERVE mappings: pages of a table that is
 * never written cost nothing. Large tables of lists created without a given
 * table are filled in 1 GiB steps of VA (see iova_init in memseg.h).
 *
 * Locking: the layout lock, a robust process-shared mutex that a thread may
 * take again while holding it (writers: create, destroy, attach, detach,
 * set_iova, cleanup; readers: walks, slow lookups, find's slow part; the
 * read and write calls take the same mutex). No callback into user code
 * runs under the write side; walk callbacks run under the read side. dk_mem_virt2iova and find's fast part take no lock.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include <dmakit/memory.h>

#include "core/pshared.h"
#include "core/lock_assert.h"
#include "mem/mem_config.h"
#include "mem/memseg.h"
#include "mem/va_radix.h"

#define DK_LOG_COMPONENT "memseg"
#include "core/log_internal.h"

#define L1_SIZE        DK__VA_RADIX_WINDOWS
#define VA_LIMIT       DK__VA_LIMIT
#define WIN_SIZE       DK__VA_WINDOW_SIZE
#define MIN_PAGE_SHIFT 12
#define MAX_PAGE_SHIFT 30
/* Per-page tables up to this size are filled at creation; larger ones lazily. */
#define EAGER_TABLE_BYTES ((size_t)2 << 20)

/* The layout and, when bound to the config file, the per-list areas for
 * IOVA tables: parts of the memory layer's shared state (mem_config.h). */
static inline struct dk__mem_layout *layout(void)
{
	return &dk__mem_sh->layout;
}

static inline char *iova_arena(void)
{
	return dk__mem_sh->iova_arena;
}

static inline size_t iova_area(void)
{
	return (size_t)dk__mem_sh->iova_area;
}

/* Per process. */
DK_EXPORT const struct dk__iova_slot *volatile dk__iova_l1[1u << DK__IOVA_L1_BITS];
static uint16_t g_win_users[L1_SIZE];
const struct dk__iova_slot dk__memseg_shared_slot; /* base 0, end 0: always slow */
/* Publication in this process, per list slot: the serial of the list that
 * was published (0: none) and its range (kept to unpublish a list that
 * another process destroyed meanwhile). */
static struct {
	uint64_t serial;
	uintptr_t base;
	size_t len;
} g_pub[DK__MAX_MEMSEG_LISTS];
static uint64_t g_seen_gen;
/* Bumped (under the layout write lock) whenever this process publishes or
 * drops a list: with the generation it says when "attached here" may have
 * changed. */
static uint64_t g_pub_epoch;
static int (*g_sync_hook)(void);

/* ---- lock --------------------------------------------------------------- */

/* The layout lock is a robust process-shared mutex (a shared rwlock cannot
 * be robust): readers are serialised too, which costs only the slow paths.
 * A thread may take it again while it holds it (a walk callback that looks
 * an address up): the depth counts that. */
static __thread unsigned int t_layout_depth;

/* A process died holding the layout lock: what it may have left half-done
 * is a slot claimed but not committed (in_use still 0: free again), a list
 * destroyed but not counted, or a per-page table partly written (the page
 * lists' own repair rewrites their IOVAs). Recount, and bump the generation
 * so that every process syncs its publications. */
static void layout_repair(void)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		n += layout()->lists[i].in_use != 0;
	DK_WARN("a process died while changing the memory layout: repaired (%u lists in use)", n);
	layout()->n_lists = n;
	__atomic_add_fetch(&layout()->generation, 1, __ATOMIC_RELEASE);
}

static void layout_lock(void)
{
	if (t_layout_depth++ > 0)
		return;
	if (dk__pmutex_lock(&layout()->lock) == DK__PLOCK_REPAIR) {
		layout_repair();
		dk__pmutex_consistent(&layout()->lock);
	}
}

static void layout_unlock(void)
{
	if (--t_layout_depth == 0)
		pthread_mutex_unlock(&layout()->lock);
}

void dk__mem_layout_rdlock(void)
{
	layout_lock();
}

void dk__mem_layout_rdunlock(void)
{
	layout_unlock();
}

void dk__mem_layout_wrlock(void)
{
	layout_lock();
}

void dk__mem_layout_wrunlock(void)
{
	layout_unlock();
}

/* ---- IOVA mode ---------------------------------------------------------- */

enum dk_iova_mode dk_iova_mode(void)
{
	enum dk_iova_mode m = __atomic_load_n(&layout()->iova_mode, __ATOMIC_ACQUIRE);
	return m == DK_IOVA_MODE_AUTO ? DK_IOVA_MODE_VA : m; /* AUTO: never set */
}

void dk__memseg_set_iova_mode(enum dk_iova_mode mode)
{
	__atomic_store_n(&layout()->iova_mode, mode, __ATOMIC_RELEASE);
}

/* ---- binding (multi-process) ------------------------------------------- */

void dk__memseg_layout_init(struct dk__mem_layout *ml)
{
	memset(ml, 0, sizeof(*ml));
	dk__mutex_init_pshared(&ml->lock);
	ml->iova_mode = DK_IOVA_MODE_VA;
}

unsigned int dk__memseg_list_index(const struct dk__memseg_list *l)
{
	return (unsigned int)(l - layout()->lists);
}

struct dk__memseg_list *dk__memseg_list_at(unsigned int i)
{
	return i < DK__MAX_MEMSEG_LISTS ? &layout()->lists[i] : NULL;
}

int dk__memseg_list_attached(const struct dk__memseg_list *l)
{
	unsigned int i = dk__memseg_list_index(l);
	return i < DK__MAX_MEMSEG_LISTS && l->in_use && g_pub[i].serial == l->serial;
}

uint64_t dk__memseg_pub_epoch(void)
{
	return __atomic_load_n(&g_pub_epoch, __ATOMIC_ACQUIRE);
}

uint64_t dk__memseg_generation(void)
{
	return __atomic_load_n(&layout()->generation, __ATOMIC_ACQUIRE);
}

void dk__memseg_set_sync_hook(int (*fn)(void))
{
	g_sync_hook = fn;
}

/* ---- helpers ------------------------------------------------------------ */

static struct dk__memseg_list *slot_list(const struct dk__iova_slot *s)
{
	return (struct dk__memseg_list *)((uintptr_t)s - offsetof(struct dk__memseg_list, slot));
}

static int contains(const struct dk__memseg_list *l, uintptr_t a)
{
	return a >= l->base && a - l->base < l->len;
}

static size_t table_bytes(unsigned int n_pages)
{
	size_t b = (size_t)n_pages * sizeof(dk_iova_t);
	return (b + 4095) & ~(size_t)4095;
}

static dk_iova_t *table_alloc(unsigned int n_pages)
{
	if (iova_arena())
		return NULL; /* the slot's area, taken under the lock */
	return dk__va_table_new(table_bytes(n_pages));
}

static void table_free(dk_iova_t *t, unsigned int n_pages)
{
	if (!t)
		return;
	if (iova_arena() && (char *)t >= iova_arena()) {
		/* Give the area's pages back to the config file (every process). */
		madvise(t, table_bytes(n_pages), MADV_REMOVE);
		return;
	}
	dk__va_table_free(t, table_bytes(n_pages));
}

/* Fill a new table from iova (or with DK_BAD_IOVA when it is small enough
 * to do now); returns how many entries hold a value (the rest fill lazily). */
static unsigned int table_fill(dk_iova_t *table, const dk_iova_t *iova, unsigned int n_pages)
{
	if (iova) {
		memcpy(table, iova, (size_t)n_pages * sizeof(*table));
		return n_pages;
	}
	if ((size_t)n_pages * sizeof(*table) <= EAGER_TABLE_BYTES) {
		memset(table, 0xff, (size_t)n_pages * sizeof(*table));
		return n_pages;
	}
	return 0;
}

/* Entries per lazy fill step: 1 GiB of VA. */
static unsigned int fill_step(const struct dk__memseg_list *l)
{
	return (unsigned int)(WIN_SIZE >> l->page_shift);
}

/* IOVA of page i (lock held). */
static dk_iova_t page_iova(const struct dk__memseg_list *l, size_t i)
{
	if (!l->iova)
		return (dk_iova_t)(l->base + (i << l->page_shift)) + (dk_iova_t)l->delta;
	if (i >= l->iova_init)
		return DK_BAD_IOVA;
	return __atomic_load_n(&l->iova[i], __ATOMIC_RELAXED);
}

/* Pages a walk visits: internal lists end where their table is filled. */
static size_t walk_limit(const struct dk__memseg_list *l)
{
	if (l->iova && !(l->flags & DK_MEMSEG_EXTERNAL))
		return l->iova_init;
	return l->n_pages;
}

/* Is page i part of the layout (internal pages without IOVA are unmapped)? */
static int page_known(const struct dk__memseg_list *l, dk_iova_t io)
{
	return io != DK_BAD_IOVA || (l->flags & DK_MEMSEG_EXTERNAL);
}

/* ---- radix publication (write lock held) -------------------------------- */

static void l1_store(size_t w, const struct dk__iova_slot *s)
{
	dk__va_radix_store(dk__iova_l1, w, s);
}

static void publish(struct dk__memseg_list *l)
{
	DK__ASSERT_LOCKED(&layout()->lock);
	unsigned int i = dk__memseg_list_index(l);
	size_t w0 = l->base >> DK__IOVA_L1_SHIFT;
	size_t w1 = (l->base + l->len - 1) >> DK__IOVA_L1_SHIFT;
	g_pub[i].serial = l->serial;
	g_pub[i].base = l->base;
	g_pub[i].len = l->len;
	__atomic_add_fetch(&g_pub_epoch, 1, __ATOMIC_RELEASE);
	for (size_t w = w0; w <= w1; w++) {
		g_win_users[w]++;
		l1_store(w, g_win_users[w] == 1 ? &l->slot : &dk__memseg_shared_slot);
	}
}

/* The one list published here touching window w (its count is 1). */
static struct dk__memseg_list *window_owner(size_t w)
{
	uintptr_t lo = (uintptr_t)w << DK__IOVA_L1_SHIFT;
	uintptr_t hi = lo + WIN_SIZE;
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		if (g_pub[i].serial && g_pub[i].base < hi && g_pub[i].base + g_pub[i].len > lo)
			return &layout()->lists[i];
	return NULL;
}

/* Drop the publication of slot i (whatever list it was). */
static void unpublish_idx(unsigned int i)
{
	DK__ASSERT_LOCKED(&layout()->lock);
	if (!g_pub[i].serial)
		return;
	__atomic_add_fetch(&g_pub_epoch, 1, __ATOMIC_RELEASE);
	size_t w0 = g_pub[i].base >> DK__IOVA_L1_SHIFT;
	size_t w1 = (g_pub[i].base + g_pub[i].len - 1) >> DK__IOVA_L1_SHIFT;
	g_pub[i].serial = 0;
	for (size_t w = w0; w <= w1; w++) {
		g_win_users[w]--;
		if (g_win_users[w] == 0) {
			l1_store(w, NULL);
		} else if (g_win_users[w] == 1) {
			struct dk__memseg_list *o = window_owner(w);
			l1_store(w, o ? &o->slot : NULL);
		}
	}
}

static void unpublish(struct dk__memseg_list *l)
{
	unpublish_idx(dk__memseg_list_index(l));
}

int dk__memseg_sync(void)
{
	if (!iova_arena())
		return 0;
	uint64_t gen = dk__memseg_generation();
	if (gen == __atomic_load_n(&g_seen_gen, __ATOMIC_RELAXED))
		return 0;
	/* Publications of lists another process destroyed (or replaced). */
	dk__mem_layout_wrlock();
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__memseg_list *l = &layout()->lists[i];
		if (g_pub[i].serial && (!l->in_use || l->serial != g_pub[i].serial))
			unpublish_idx(i);
	}
	dk__mem_layout_wrunlock();
	if (g_sync_hook)
		g_sync_hook();
	__atomic_store_n(&g_seen_gen, gen, __ATOMIC_RELAXED);
	return 1;
}

/* ---- lookups ------------------------------------------------------------ */

/* The attached list containing a (lock held, or racing only with lists
 * that the caller does not use). */
static struct dk__memseg_list *find_locked(uintptr_t a)
{
	const struct dk__iova_slot *s = dk__va_radix_slot(dk__iova_l1, a);
	if (!s)
		return NULL;
	if (s != &dk__memseg_shared_slot) {
		struct dk__memseg_list *l = slot_list(s);
		return contains(l, a) ? l : NULL;
	}
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__memseg_list *l = &layout()->lists[i];
		if (l->in_use && dk__memseg_list_attached(l) && contains(l, a))
			return l;
	}
	return NULL;
}

dk_iova_t dk__mem_virt2iova_slow(const void *va)
{
	uintptr_t a = (uintptr_t)va;
	dk_iova_t io = DK_BAD_IOVA;
	dk__mem_layout_rdlock();
	struct dk__memseg_list *l = find_locked(a);
	if (l) {
		uintptr_t off = a - l->base;
		io = page_iova(l, off >> l->page_shift);
		if (io != DK_BAD_IOVA)
			io += off & (((uintptr_t)1 << l->page_shift) - 1);
	}
	dk__mem_layout_rdunlock();
	return io;
}

struct dk__memseg_list *dk__memseg_list_find(const void *va)
{
	uintptr_t a = (uintptr_t)va;
	if (a >= VA_LIMIT)
		return NULL;
	/* Fast part: a window with one list needs no lock. */
	const struct dk__iova_slot *s = dk__va_radix_slot(dk__iova_l1, a);
	if (s && s != &dk__memseg_shared_slot) {
		struct dk__memseg_list *l = slot_list(s);
		if (contains(l, a))
			return l;
	}
	struct dk__memseg_list *l = NULL;
	if (s) {
		dk__mem_layout_rdlock();
		l = find_locked(a);
		dk__mem_layout_rdunlock();
	}
	/* A miss: another process may have created the list (multi-process). */
	if (!l && iova_arena() && dk__memseg_sync()) {
		dk__mem_layout_rdlock();
		l = find_locked(a);
		dk__mem_layout_rdunlock();
	}
	return l;
}

struct dk__memseg_list *dk__memseg_list_find_exact(uintptr_t base, size_t len)
{
	struct dk__memseg_list *found = NULL;
	dk__mem_layout_rdlock();
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS && !found; i++) {
		struct dk__memseg_list *l = &layout()->lists[i];
		if (l->in_use && l->base == base && l->len == len)
			found = l;
	}
	dk__mem_layout_rdunlock();
	return found;
}

/* ---- create / destroy --------------------------------------------------- */

static int check_geometry(uintptr_t base, size_t len, size_t page_sz)
{
	if (page_sz < ((size_t)1 << MIN_PAGE_SHIFT) || page_sz > ((size_t)1 << MAX_PAGE_SHIFT) ||
	    (page_sz & (page_sz - 1))) {
		DK_ERR("memory [%#lx, +%#zx): page size %zu is not a power of two from 4096 to 1 GiB: give the size of the pages backing the range",
		    (unsigned long)base, len, page_sz);
		return -EINVAL;
	}
	if (!base || !len || (base & (page_sz - 1)) || (len & (page_sz - 1))) {
		DK_ERR("memory [%#lx, +%#zx): address and length must be nonzero multiples of the page size %zu: align the range to its pages",
		    (unsigned long)base, len, page_sz);
		return -EINVAL;
	}
	if (base >= VA_LIMIT || len > VA_LIMIT - base) {
		DK_ERR("memory [%#lx, +%#zx) ends above 2^47, beyond the IOVA lookup table: use memory below 0x%lx (no 5-level-paging hint to mmap)",
		    (unsigned long)base, len, (unsigned long)VA_LIMIT);
		return -EINVAL;
	}
	if ((len / page_sz) > UINT32_MAX) {
		DK_ERR("memory [%#lx, +%#zx) has more than 2^32 pages of %zu bytes: register it in smaller pieces or with larger pages",
		    (unsigned long)base, len, page_sz);
		return -EINVAL;
	}
	return 0;
}

/* Overlap or table full: the message and -EEXIST / -ENOSPC. Lock held. */
static int claim_slot(const struct dk__memseg_spec *s, struct dk__memseg_list **slot)
{
	DK__ASSERT_LOCKED(&layout()->lock);
	*slot = NULL;
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__memseg_list *l = &layout()->lists[i];
		if (!l->in_use) {
			if (!*slot)
				*slot = l;
			continue;
		}
		if (s->base < l->base + l->len && l->base < s->base + s->len) {
			DK_ERR("memory [%#lx, +%#zx) overlaps %s memory [%#lx, +%#zx) that dmakit knows already: unregister that range first or use another one",
			    (unsigned long)s->base, s->len,
			    (l->flags & DK_MEMSEG_EXTERNAL) ? "external" : "internal",
			    (unsigned long)l->base, l->len);
			return -EEXIST;
		}
	}
	if (!*slot) {
		DK_ERR("memory [%#lx, +%#zx): all %d memseg lists are in use: unregister memory first, or register larger ranges",
		    (unsigned long)s->base, s->len, DK__MAX_MEMSEG_LISTS);
		return -ENOSPC;
	}
	return 0;
}

/* Shared layout: the per-page table in the slot's own area of the config
 * file (NULL for a contiguous list). -ENOMEM when it does not fit. Lock held. */
static int arena_table(const struct dk__memseg_spec *s, const struct dk__memseg_list *slot,
		       unsigned int n_pages, dk_iova_t **table, unsigned int *init)
{
	if (table_bytes(n_pages) > iova_area()) {
		DK_ERR("memory [%#lx, +%#zx): a table of %u IOVAs is larger than the %zu bytes a list may have: register it in smaller pieces or with larger pages",
		    (unsigned long)s->base, s->len, n_pages, iova_area());
		return -ENOMEM;
	}
	if (s->iova || !s->iova_contig) {
		size_t i = (size_t)(slot - layout()->lists);
		*table = (dk_iova_t *)(iova_arena() + i * iova_area());
		*init = table_fill(*table, s->iova, n_pages);
	}
	return 0;
}

/* Fill a claimed slot for spec s with its IOVA table (NULL: contiguous). */
static void slot_fill(struct dk__memseg_list *l, const struct dk__memseg_spec *s,
		      dk_iova_t *table, unsigned int init)
{
	uint32_t shift = (uint32_t)__builtin_ctzll(s->page_sz);
	memset(l, 0, sizeof(*l));
	l->base = s->base;
	l->len = s->len;
	l->page_shift = shift;
	l->socket_id = s->socket_id;
	l->flags = s->flags;
	l->heap_idx = s->heap_idx;
	l->n_pages = (unsigned int)(s->len >> shift);
	l->iova = table;
	l->delta = table ? 0 : s->delta;
	l->iova_init = table ? init : l->n_pages;
	l->base_iova = (dk_iova_t)s->base + (dk_iova_t)l->delta; /* modulo 2^64 */
	l->slot.base = s->base;
	l->slot.end = table ? s->base + ((uintptr_t)init << shift) : s->base + s->len;
	l->slot.delta = l->delta;
	if (table) {
		l->slot.iova = table;
		l->slot.page_shift = shift;
	} else {
		/* One "page" covering the list: iova[0] + offset = va + delta. */
		l->slot.iova = &l->base_iova;
		l->slot.page_shift = DK__IOVA_L1_SHIFT + DK__IOVA_L1_BITS;
	}
}

/* Count the lists in use: n_lists must say the same. */
static __attribute__((unused)) unsigned int lists_in_use(void)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		n += layout()->lists[i].in_use != 0;
	return n;
}

/* Make a filled slot part of the layout and publish it here. Lock held. */
static void slot_commit(struct dk__memseg_list *l)
{
	layout()->generation++;
	l->serial = layout()->generation;
	__atomic_store_n(&l->in_use, 1, __ATOMIC_RELEASE);
	layout()->n_lists++;
	assert(layout()->n_lists == lists_in_use());
	__atomic_store_n(&layout()->generation, layout()->generation, __ATOMIC_RELEASE);
	publish(l);
}

int dk__memseg_list_create(const struct dk__memseg_spec *s, struct dk__memseg_list **out)
{
	int rc = check_geometry(s->base, s->len, s->page_sz);
	if (rc < 0)
		return rc;
	unsigned int n_pages = (unsigned int)(s->len / s->page_sz);
	dk_iova_t *table = NULL;
	unsigned int init = 0;

	if (!iova_arena() && (s->iova || !s->iova_contig)) {
		table = table_alloc(n_pages);
		if (!table) {
			DK_ERR("memory [%#lx, +%#zx): no memory for a table of %u IOVAs: free memory or use larger pages",
			    (unsigned long)s->base, s->len, n_pages);
			return -ENOMEM;
		}
		init = table_fill(table, s->iova, n_pages);
	}

	dk__mem_layout_wrlock();
	struct dk__memseg_list *slot;
	rc = claim_slot(s, &slot);
	if (rc == 0 && iova_arena())
		rc = arena_table(s, slot, n_pages, &table, &init);
	if (rc < 0) {
		dk__mem_layout_wrunlock();
		goto err_free_table;
	}
	slot_fill(slot, s, table, init);
	slot_commit(slot);
	dk__mem_layout_wrunlock();
	if (out)
		*out = slot;
	return 0;

err_free_table:
	table_free(table, n_pages);
	return rc;
}

void dk__memseg_list_destroy(struct dk__memseg_list *l)
{
	if (!l)
		return;
	dk__mem_layout_wrlock();
	if (!l->in_use) {
		dk__mem_layout_wrunlock();
		return;
	}
	if (dk__memseg_list_attached(l))
		unpublish(l);
	dk_iova_t *table = l->iova;
	unsigned int n = l->n_pages;
	/* A racing lookup that still holds the slot falls to the slow path. */
	__atomic_store_n(&l->slot.end, 0, __ATOMIC_RELEASE);
	l->in_use = 0;
	layout()->n_lists--;
	assert(layout()->n_lists == lists_in_use());
	__atomic_add_fetch(&layout()->generation, 1, __ATOMIC_RELEASE);
	dk__mem_layout_wrunlock();
	table_free(table, n);
}

int dk__memseg_list_attach(struct dk__memseg_list *l)
{
	dk__mem_layout_wrlock();
	int rc = dk__memseg_list_attached(l) ? -EEXIST : !l->in_use ? -ENOENT : 0;
	if (rc == 0)
		publish(l);
	dk__mem_layout_wrunlock();
	return rc;
}

void dk__memseg_list_detach(struct dk__memseg_list *l)
{
	dk__mem_layout_wrlock();
	if (dk__memseg_list_attached(l))
		unpublish(l);
	dk__mem_layout_wrunlock();
}

void dk__memseg_set_iova(struct dk__memseg_list *l, unsigned int first, unsigned int n,
			 const dk_iova_t *iova)
{
	dk__mem_layout_wrlock();
	if (!l->in_use || !l->iova || first > l->n_pages || n > l->n_pages - first) {
		dk__mem_layout_wrunlock();
		DK_ERR("internal error: set_iova pages [%u, +%u) of a list of %u pages%s", first, n,
		       l->n_pages, l->iova ? "" : " without a page table");
		return;
	}
	if (first + n > l->iova_init) {
		/* Grow the filled part in 1 GiB steps; slot.end follows. */
		unsigned int step = fill_step(l);
		uint64_t want = ((uint64_t)first + n + step - 1) / step * step;
		unsigned int upto = want > l->n_pages ? l->n_pages : (unsigned int)want;
		memset(l->iova + l->iova_init, 0xff,
		       (size_t)(upto - l->iova_init) * sizeof(dk_iova_t));
		l->iova_init = upto;
		__atomic_store_n(&l->slot.end, l->base + ((uintptr_t)upto << l->page_shift),
				 __ATOMIC_RELEASE);
	}
	for (unsigned int i = 0; i < n; i++)
		__atomic_store_n(&l->iova[first + i], iova ? iova[i] : DK_BAD_IOVA,
				 __ATOMIC_RELAXED);
	DK__MEM_TEST_POINT(iova ? "layout_set_iova" : "layout_clear_iova");
	dk__mem_layout_wrunlock();
}

void dk__memseg_cleanup(void)
{
	dk__mem_layout_wrlock();
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__memseg_list *l = &layout()->lists[i];
		unpublish_idx(i);
		if (!l->in_use)
			continue;
		__atomic_store_n(&l->slot.end, 0, __ATOMIC_RELEASE);
		table_free(l->iova, l->n_pages);
		l->in_use = 0;
	}
	layout()->n_lists = 0;
	__atomic_add_fetch(&layout()->generation, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&g_seen_gen, 0, __ATOMIC_RELAXED);
	dk__mem_layout_wrunlock();
}

void dk__memseg_detach_all(void)
{
	dk__mem_layout_wrlock();
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		unpublish_idx(i);
	__atomic_store_n(&g_seen_gen, 0, __ATOMIC_RELAXED);
	dk__mem_layout_wrunlock();
}

/* ---- public queries and walks ------------------------------------------- */

static void fill_seg(const struct dk__memseg_list *l, size_t i, dk_iova_t io, struct dk_memseg *ms)
{
	ms->addr = (void *)(l->base + (i << l->page_shift));
	ms->iova = io;
	ms->len = (size_t)1 << l->page_shift;
	ms->socket_id = l->socket_id;
	ms->flags = l->flags;
}

int dk_mem_virt2memseg(const void *va, struct dk_memseg *out)
{
	if (!va || !out) {
		DK_ERR("dk_mem_virt2memseg: NULL %s: pass an address and a struct dk_memseg to fill",
		       va ? "output" : "address");
		return -EINVAL;
	}
	int rc = -ENOENT;
	dk__mem_layout_rdlock();
	struct dk__memseg_list *l = find_locked((uintptr_t)va);
	if (l) {
		size_t i = ((uintptr_t)va - l->base) >> l->page_shift;
		dk_iova_t io = page_iova(l, i);
		if (page_known(l, io)) {
			fill_seg(l, i, io, out);
			rc = 0;
		}
	}
	dk__mem_layout_rdunlock();
	if (rc == -ENOENT)
		DK_DEBUG("dk_mem_virt2memseg(%p): not dmakit memory: allocate it with dk_malloc or register it with dk_extmem_register",
		         va);
	return rc;
}

/* Attached lists in VA order (lock held). */
static unsigned int sorted_lists(struct dk__memseg_list **v)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__memseg_list *l = &layout()->lists[i];
		if (!l->in_use || !dk__memseg_list_attached(l))
			continue;
		unsigned int j = n++;
		while (j > 0 && v[j - 1]->base > l->base) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = l;
	}
	return n;
}

int dk_memseg_walk(dk_memseg_walk_fn fn, void *arg)
{
	if (!fn) {
		DK_ERR("dk_memseg_walk: NULL callback: pass a function to call for each page");
		return -EINVAL;
	}
	struct dk__memseg_list *v[DK__MAX_MEMSEG_LISTS];
	int rc = 0;
	dk__mem_layout_rdlock();
	unsigned int n = sorted_lists(v);
	for (unsigned int k = 0; k < n && rc == 0; k++) {
		struct dk__memseg_list *l = v[k];
		size_t lim = walk_limit(l);
		for (size_t i = 0; i < lim && rc == 0; i++) {
			dk_iova_t io = page_iova(l, i);
			if (!page_known(l, io))
				continue;
			struct dk_memseg ms;
			fill_seg(l, i, io, &ms);
			rc = fn(&ms, arg);
		}
	}
	dk__mem_layout_rdunlock();
	return rc;
}

/* Does page j continue the run that starts at page i with IOVA io? */
static int continues(const struct dk__memseg_list *l, size_t i, dk_iova_t io, size_t j)
{
	dk_iova_t jo = page_iova(l, j);
	if (io == DK_BAD_IOVA)
		return jo == DK_BAD_IOVA && page_known(l, jo);
	return jo != DK_BAD_IOVA && jo == io + ((dk_iova_t)(j - i) << l->page_shift);
}

/* Is page j the IOVA successor of page j - 1 (both with an IOVA)? */
static int follows(const struct dk__memseg_list *l, size_t j)
{
	dk_iova_t a = page_iova(l, j - 1), b = page_iova(l, j);
	return a != DK_BAD_IOVA && b != DK_BAD_IOVA && b == a + ((dk_iova_t)1 << l->page_shift);
}

int dk_memseg_contig_walk(dk_memseg_contig_fn fn, void *arg)
{
	if (!fn) {
		DK_ERR("dk_memseg_contig_walk: NULL callback: pass a function to call for each chunk");
		return -EINVAL;
	}
	struct dk__memseg_list *v[DK__MAX_MEMSEG_LISTS];
	int rc = 0;
	dk__mem_layout_rdlock();
	unsigned int n = sorted_lists(v);
	for (unsigned int k = 0; k < n && rc == 0; k++) {
		struct dk__memseg_list *l = v[k];
		size_t lim = walk_limit(l);
		size_t i = 0;
		while (i < lim && rc == 0) {
			dk_iova_t io = page_iova(l, i);
			if (!page_known(l, io)) {
				i++;
				continue;
			}
			size_t j = l->iova ? i + 1 : lim; /* a delta list is one chunk */
			while (j < lim && continues(l, i, io, j))
				j++;
			struct dk_memseg ms;
			fill_seg(l, i, io, &ms);
			rc = fn(&ms, (j - i) << l->page_shift, arg);
			i = j;
		}
	}
	dk__mem_layout_rdunlock();
	return rc;
}

int dk_mem_contig_chunk(const void *va, void **start, size_t *len, dk_iova_t *iova)
{
	if (!va) {
		DK_ERR("dk_mem_contig_chunk: NULL address: pass an address inside dmakit memory");
		return -EINVAL;
	}
	int rc = -ENOENT;
	dk__mem_layout_rdlock();
	struct dk__memseg_list *l = find_locked((uintptr_t)va);
	if (l) {
		size_t p = ((uintptr_t)va - l->base) >> l->page_shift;
		dk_iova_t io = page_iova(l, p);
		if (io != DK_BAD_IOVA) {
			size_t first = 0, last = l->n_pages; /* [first, last) */
			if (l->iova) {
				first = p;
				while (first > 0 && follows(l, first))
					first--;
				last = p + 1;
				while (last < l->n_pages && follows(l, last))
					last++;
			}
			if (start)
				*start = (void *)(l->base + (first << l->page_shift));
			if (len)
				*len = (last - first) << l->page_shift;
			if (iova)
				*iova = page_iova(l, first);
			rc = 0;
		}
	}
	dk__mem_layout_rdunlock();
	if (rc == -ENOENT)
		DK_DEBUG("dk_mem_contig_chunk(%p): no IOVA for this address: allocate it with dk_malloc or register it with an IOVA table",
		         va);
	return rc;
}
