/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page backing for the internal heaps (contract: src/mem/pages.h). The
 * kernel calls are in mem_os.c.
 *
 * One internal memseg list per (heap, socket, page size), created when first
 * needed, more when one fills up: a memfd of va_per_list bytes (plain tmpfs
 * for 4 KiB pages, MFD_HUGETLB for hugepages) mapped whole, MAP_SHARED and
 * read-write, over a reservation aligned to 1 GiB. Page i of the list is
 * byte i * page_sz of the file, so another process maps the same file at the
 * same VA and sees every page any process backs later. A bitmap marks backed
 * pages; map takes the first free run.
 *
 * Mapping: fallocate the file range (hugetlbfs fails it cleanly with ENOSPC
 * when hugepages are short, where a first touch would SIGBUS), fault the
 * range in (MADV_POPULATE_WRITE; PA mode touches each page when the kernel
 * cannot, and mlocks 4 KiB pages), set the IOVAs (VA; PA: /proc/self/pagemap;
 * remap: the list's IOVA window), mark the bitmap, then fire ALLOC.
 * Unmapping: fire FREE, clear the IOVAs, punch the file range so the pages
 * return to the system. The list stays mapped read-write; only
 * dk__mem_pages_cleanup unmaps lists.
 *
 * Locking: the pages mutex (struct dk__pages_shared.lock) serialises map,
 * unmap, attach and cleanup. Map and unmap fire their events (local
 * callbacks and other processes, mem_xev.h) with it released: another
 * process's callbacks may need it to attach the list. ALLOC and FREE of one
 * range still cannot be seen out of order: ALLOC fires before map returns
 * the range to its caller, FREE only when that owner unmaps it. Cleanup fires
 * FREE with the mutex held. The layout lock is taken by memseg.c inside
 * dk__memseg_set_iova and list create/destroy, never across an event.
 * Lock order: heap lock -> pages mutex -> layout lock.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dmakit/memory.h>

#include "core/pshared.h"
#include "core/lock_assert.h"
#include "mem/mem_config.h"
#include "mem/mem_event.h"
#include "mem/mem_os.h"
#include "mem/mem_xev.h"
#include "mem/memseg.h"
#include "mem/pages.h"

#define DK_LOG_COMPONENT "pages"
#include "core/log_internal.h"

#define GiB                 ((uint64_t)1 << 30)
#define MiB                 ((uint64_t)1 << 20)
#define SMALL_PAGE          ((size_t)4096)
#define DEFAULT_VA_PER_LIST (64 * GiB)
#define MAX_VA_PER_LIST     ((uint64_t)1 << 45)
/* Internal "hugepages are short" code: AUTO falls back, ALWAYS reports. */
#define HUGE_SHORT 1
/* Remap mode keeps IOVA 0 and the first MiB out of use. */
#define REMAP_LOWEST ((uint64_t)1 << 20)

/* Process-local state of a list: its fd and whether its VA is mapped here. */
struct plocal {
	int fd; /* -1 none */
	int mapped;
};

static struct plocal g_loc[DK__MAX_MEMSEG_LISTS];
static int g_loc_init;

/* The page lists and, when bound to the config file, the per-list bitmap
 * areas (NULL: calloc): parts of the memory layer's shared state
 * (mem_config.h). */
static inline struct dk__pages_shared *pg(void)
{
	return &dk__mem_sh->pages;
}

static inline char *bm_arena(void)
{
	return dk__mem_sh->bm_arena;
}

static inline size_t bm_area(void)
{
	return (size_t)dk__mem_sh->bm_area;
}

/* What one map asks for, at one page size. */
struct map_req {
	int heap_idx;
	int socket;
	size_t len;      /* bytes asked for */
	int iova_contig; /* the pages' IOVAs must be contiguous */
	size_t page_sz;
	int huge;        /* hugetlbfs pages */
};

static void loc_init(void)
{
	if (g_loc_init)
		return;
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		g_loc[i].fd = -1;
	g_loc_init = 1;
}

static int pl_index(const struct dk__pages_list *pl)
{
	return (int)(pl - pg()->lists);
}

static struct plocal *pl_local(const struct dk__pages_list *pl)
{
	return &g_loc[pl_index(pl)];
}

static const char *size_name(size_t sz, char *buf, size_t n)
{
	if (sz >= GiB)
		snprintf(buf, n, "%zu GiB", sz >> 30);
	else if (sz >= MiB)
		snprintf(buf, n, "%zu MiB", sz >> 20);
	else
		snprintf(buf, n, "%zu KiB", sz >> 10);
	return buf;
}

/* ---- the pages mutex and its repair ------------------------------------- */

/* Intent records of the pages mutex (struct dk__pages_shared.intent): a
 * list slot being made (a: slot), pages being mapped or unmapped (a: slot,
 * b: first page, c: page count). */
enum { PG_NEW = 1, PG_MAP = 2, PG_UNMAP = 3 };

static void plist_free(struct dk__pages_list *pl);
static int plist_open(const struct dk__pages_list *pl);
static int bit_get(const uint64_t *bm, unsigned int i);
static void bits_set(uint64_t *bm, unsigned int first, unsigned int n, int on);

/* Take pages [first, first+n) of pl out of use whatever was done of a map
 * or an unmap: IOVAs cleared, file range punched, bits cleared. */
static void repair_pages_off(struct dk__pages_list *pl, unsigned int first, unsigned int n)
{
	if (!pl->in_use || !pl->bitmap || first > pl->n_pages || n > pl->n_pages - first)
		return;
	if (pl->ml_idx >= 0)
		dk__memseg_set_iova(dk__memseg_list_at((unsigned int)pl->ml_idx), first, n, NULL);
	int fd = pl_local(pl)->fd >= 0 ? pl_local(pl)->fd : plist_open(pl);
	if (fd >= 0) {
		dk__os_file_punch(fd, (size_t)first * pl->page_sz, (size_t)n * pl->page_sz);
		if (fd != pl_local(pl)->fd)
			close(fd);
	}
	bits_set(pl->bitmap, first, n, 0);
}

/* Does a live process hold pl's backing file? */
static int plist_held(const struct dk__pages_list *pl)
{
	int fd = pl_local(pl)->fd >= 0 ? pl_local(pl)->fd : plist_open(pl);
	if (fd >= 0 && fd != pl_local(pl)->fd)
		close(fd);
	return fd >= 0;
}

/* Counters from the bitmaps; lists nobody holds any more freed (their
 * creator died before another process attached them). */
static void repair_recount(void)
{
	uint64_t mapped = 0;
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__pages_list *pl = &pg()->lists[i];
		if (!pl->in_use || !pl->bitmap)
			continue;
		unsigned int n = 0;
		for (unsigned int k = 0; k < pl->n_pages; k += 64) {
			uint64_t w = pl->bitmap[k / 64];
			n += w ? (unsigned int)__builtin_popcountll(w) : 0;
		}
		pl->n_mapped = n;
		if (!plist_held(pl)) {
			if (n)
				DK_ERR("page list [%#lx, +%zu): no live process holds its backing file: its %u pages are lost to the instance (restart it to get them back)",
				       (unsigned long)pl->base, pl->len, n);
			else
				plist_free(pl);
			continue;
		}
		mapped += (uint64_t)n * pl->page_sz;
	}
	__atomic_store_n(&pg()->mapped, mapped, __ATOMIC_RELAXED);
}

/*
 * The previous owner of the pages mutex died. A list it was making is freed
 * (in_use is set last); pages it was mapping (the map did not return: the
 * record is cleared once the caller has the range) or unmapping go out of
 * use; the counters are rebuilt from the bitmaps.
 */
static void pages_repair(void)
{
	struct dk__intent *in = &pg()->intent;
	uint32_t op = __atomic_load_n(&in->op, __ATOMIC_ACQUIRE);
	struct dk__pages_list *pl = in->a < DK__MAX_MEMSEG_LISTS ? &pg()->lists[in->a] : NULL;
	DK_WARN("process %d died while changing the page lists (%s): repairing them", (int)in->pid,
		op == PG_NEW ? "making a list" : op == PG_MAP ? "mapping pages"
		: op == PG_UNMAP ? "unmapping pages" : "nothing in flight");
	loc_init();
	if (op == PG_NEW && pl && !pl->in_use)
		plist_free(pl);
	else if ((op == PG_MAP || op == PG_UNMAP) && pl)
		repair_pages_off(pl, (unsigned int)in->b, (unsigned int)in->c);
	dk__intent_end(in);
	repair_recount();
}

static void pages_lock(void)
{
	if (dk__pmutex_lock(&pg()->lock) == DK__PLOCK_REPAIR) {
		pages_repair();
		dk__pmutex_consistent(&pg()->lock);
	}
}

/* ---- configuration ------------------------------------------------------ */

/* Check a configuration's values. 0 or -EINVAL (logged). */
static int config_check(const struct dk__pages_config *cfg, uint64_t va_per)
{
	if (cfg->huge > DK__HUGE_ALWAYS) {
		DK_ERR("page backing: hugepage policy %d is not valid: use auto, never or always",
		       (int)cfg->huge);
		return -EINVAL;
	}
	if (cfg->huge_page_sz && cfg->huge_page_sz != 2 * MiB && cfg->huge_page_sz != GiB) {
		DK_ERR("page backing: hugepage size %zu is not supported: use 2M or 1G",
		       cfg->huge_page_sz);
		return -EINVAL;
	}
	if (cfg->iova_mode != DK_IOVA_MODE_VA && cfg->iova_mode != DK_IOVA_MODE_PA &&
	    cfg->iova_mode != DK_IOVA_MODE_REMAP) {
		DK_ERR("page backing: IOVA mode %d is not valid here: resolve auto to va or pa first",
		       (int)cfg->iova_mode);
		return -EINVAL;
	}
	if (va_per % GiB || va_per > MAX_VA_PER_LIST) {
		DK_ERR("page backing: VA per list %" PRIu64
		       " must be a multiple of 1 GiB up to 32 TiB: pick e.g. 64 GiB",
		       va_per);
		return -EINVAL;
	}
	return 0;
}

/* Remap mode: the IOVA space, and (va_per_list not given) lists small
 * enough that at least four fit in the largest usable piece of a narrow
 * IOVA space (a 32-bit DMA mask). Pages mutex held. */
static int remap_setup(const struct dk__pages_config *cfg, uint64_t *va_per)
{
	struct dk__iova_alloc *ia = &pg()->iova;
	int rc = dk__iova_alloc_init(ia, cfg->iova_ranges, cfg->n_iova_ranges, REMAP_LOWEST,
				     cfg->iova_limit ? cfg->iova_limit : UINT64_MAX);
	if (rc < 0) {
		DK_ERR("IOVA mode remap: the IOMMU reports no usable IOVA range above 1 MiB (%u ranges, DMA limit %#" PRIx64 "): check the IOMMU or use DMAKIT_IOVA_MODE=va",
		       cfg->n_iova_ranges, cfg->iova_limit);
		return -EINVAL;
	}
	if (cfg->va_per_list)
		return 0;
	uint64_t big = 0;
	for (uint32_t i = 0; i < ia->n; i++)
		if (ia->free[i].end - ia->free[i].start > big)
			big = ia->free[i].end - ia->free[i].start;
	while (*va_per > GiB && *va_per * 4 > big)
		*va_per >>= 1;
	return 0;
}

static int remap_ready_locked(const char *what)
{
	DK__ASSERT_LOCKED(&pg()->lock);
	if (pg()->ready && pg()->cfg.iova_mode == DK_IOVA_MODE_REMAP)
		return 0;
	DK_DEBUG("%s: IOVA mode is not remap: no IOVA space to hand out", what);
	return -ENOTSUP;
}

int dk__mem_pages_iova_take(uint64_t len, uint64_t align, uint64_t *iova)
{
	pages_lock();
	int rc = remap_ready_locked("IOVA space");
	if (rc == 0 && (rc = dk__iova_alloc_get(&pg()->iova, len, align, iova)) == -ENOSPC)
		DK_ERR("IOVA mode remap: no room for %" PRIu64 " KiB more IOVA space (%" PRIu64
		       " MiB free in the IOMMU's ranges): unmap buffers you no longer need, or use an IOMMU with 48-bit addresses",
		       len >> 10, dk__iova_alloc_free_bytes(&pg()->iova) >> 20);
	pthread_mutex_unlock(&pg()->lock);
	return rc;
}

int dk__mem_pages_iova_give(uint64_t iova, uint64_t len)
{
	pages_lock();
	int rc = remap_ready_locked("IOVA space");
	if (rc == 0 && (rc = dk__iova_alloc_put(&pg()->iova, iova, len)) < 0)
		DK_ERR("IOVA space %#" PRIx64 "+%#" PRIx64 " given back but %s", iova, len,
		       rc == -EINVAL ? "part of it is free already (given back twice?)"
				     : "the allocator has no interval left: it stays taken");
	pthread_mutex_unlock(&pg()->lock);
	return rc;
}

int dk__mem_pages_init(const struct dk__pages_config *cfg)
{
	if (!cfg) {
		DK_ERR("page backing: NULL configuration");
		return -EINVAL;
	}
	uint64_t va_per = cfg->va_per_list ? cfg->va_per_list : DEFAULT_VA_PER_LIST;
	int rc = config_check(cfg, va_per);
	if (rc == 0 && cfg->iova_mode == DK_IOVA_MODE_PA)
		rc = dk__os_pa_check();
	if (rc < 0)
		return rc;
	loc_init();
	pages_lock();
	if (pg()->ready) {
		pthread_mutex_unlock(&pg()->lock);
		DK_ERR("page backing is set up already: clean it up (dk_cleanup) before setting it up again");
		return -EBUSY;
	}
	if (cfg->iova_mode == DK_IOVA_MODE_REMAP && (rc = remap_setup(cfg, &va_per)) < 0) {
		pthread_mutex_unlock(&pg()->lock);
		return rc;
	}
	pg()->cfg = *cfg;
	pg()->cfg.va_per_list = va_per;
	if (!pg()->cfg.huge_page_sz)
		pg()->cfg.huge_page_sz = dk__os_default_huge_size();
	pg()->mapped = 0;
	pg()->fallback_logged = 0;
	pg()->ready = 1;
	dk__memseg_set_iova_mode(cfg->iova_mode);
	pthread_mutex_unlock(&pg()->lock);
	return 0;
}

/* ---- lists -------------------------------------------------------------- */

/* VA reservation of len bytes aligned to 1 GiB, or NULL. */
static void *reserve(size_t len)
{
	/* First in the quiet part of the address space (pages.h, DK__VA_HINT),
	 * where other processes of the instance are unlikely to have mapped
	 * anything; the cursor is shared, so processes do not pick the same
	 * range twice. When the range is taken (or unusable): anywhere. */
	uintptr_t a = pg()->next_va ? (uintptr_t)pg()->next_va : DK__VA_HINT + DK__VA_HINT_CFG;
	for (int tries = 0; tries < 64 && a + len < DK__VA_HINT_END; tries++) {
		void *q = dk__os_reserve_at(a, len);
		if (q) {
			pg()->next_va = a + len;
			return q;
		}
		if (errno != EEXIST)
			break;
		a += len;
	}
	return dk__os_reserve_aligned(len, GiB);
}

/*
 * Pages of the heap of NUMA node N come from node N when it has memory: a
 * preferred policy on the list's whole file range (a shared policy of the
 * memfd, so fallocate in any process follows it). Falls back to other nodes
 * rather than failing; errors (no NUMA in the kernel, a container's seccomp)
 * only lose the placement.
 */
static void prefer_node(const struct dk__pages_list *pl)
{
	int rc = dk__os_prefer_node(pl->base, pl->len, pl->socket);
	if (rc < 0 && rc != -EINVAL)
		DK_DEBUG("NUMA placement of the page list for node %d: mbind: %s", pl->socket,
			 strerror(-rc));
}

/* Undo this process's part of a list (mapping, fd, holder entry). */
static void plist_unmap_local(struct dk__pages_list *pl)
{
	struct plocal *lo = pl_local(pl);
	if (lo->mapped)
		munmap((void *)pl->base, pl->len);
	lo->mapped = 0;
	if (lo->fd >= 0)
		close(lo->fd);
	lo->fd = -1;
	for (int h = 0; h < DK__PAGES_HOLDERS; h++)
		if (pl->holders[h].pid == getpid())
			pl->holders[h].pid = 0;
}

/* Free a list (the whole instance's: only the primary or a single process). */
static void plist_free(struct dk__pages_list *pl)
{
	if (pl->ml_idx >= 0)
		dk__memseg_list_destroy(dk__memseg_list_at((unsigned int)pl->ml_idx));
	plist_unmap_local(pl);
	if (pl->iova_held && dk__iova_alloc_put(&pg()->iova, pl->iova_base, pl->len) < 0)
		DK_WARN("IOVA space [%#" PRIx64 ", +%zu) could not be given back (interval table full)",
			pl->iova_base, pl->len);
	if (!bm_arena())
		free(pl->bitmap);
	else if (pl->bitmap)
		madvise(pl->bitmap, bm_area(), MADV_REMOVE);
	memset(pl, 0, sizeof(*pl));
}

static void holder_add(struct dk__pages_list *pl, int fd)
{
	for (int h = 0; h < DK__PAGES_HOLDERS; h++) {
		if (pl->holders[h].pid == 0 || kill(pl->holders[h].pid, 0) < 0) {
			pl->holders[h].pid = getpid();
			pl->holders[h].fd = fd;
			return;
		}
	}
}

/* Map the whole list from fd at pl->base in this process (noreplace: fail
 * when something is there). 0, -EADDRINUSE, -ENOMEM (logged). */
static int plist_map_local(struct dk__pages_list *pl, int fd, int noreplace)
{
	int rc = dk__os_map_file(pl->base, pl->len, fd, noreplace);
	if (rc == -EEXIST) {
		DK_ERR("the VA range [%#lx, %#lx) of an internal page list is taken in this process: start the secondary before it maps other memory there, or restart the primary so that it picks other addresses",
		       (unsigned long)pl->base, (unsigned long)(pl->base + pl->len));
		return -EADDRINUSE;
	}
	if (rc < 0) {
		DK_ERR("cannot map the page list [%#lx, +%zu) (%s): check ulimit -v and vm.max_map_count",
		       (unsigned long)pl->base, pl->len, strerror(-rc));
		return -ENOMEM;
	}
	pl_local(pl)->fd = fd;
	pl_local(pl)->mapped = 1;
	holder_add(pl, fd);
	return 0;
}

/* Open the list's backing file through a process that holds it. */
static int plist_open(const struct dk__pages_list *pl)
{
	for (int h = 0; h < DK__PAGES_HOLDERS; h++) {
		if (!pl->holders[h].pid)
			continue;
		int fd = dk__os_open_peer_fd(pl->holders[h].pid, pl->holders[h].fd, pl->dev, pl->ino);
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

/* Attach a list in this process: map + publish. Pages mutex held. */
static int plist_attach(struct dk__pages_list *pl)
{
	DK__ASSERT_LOCKED(&pg()->lock);
	if (pl_local(pl)->mapped)
		return 0;
	int fd = plist_open(pl);
	if (fd < 0) {
		DK_ERR("cannot open the backing file of page list [%#lx, +%zu): every process that held it is gone: restart the instance (primary and secondaries)",
		       (unsigned long)pl->base, pl->len);
		return -ENOENT;
	}
	int rc = plist_map_local(pl, fd, 1);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	struct dk__memseg_list *ml = dk__memseg_list_at((unsigned int)pl->ml_idx);
	if (!dk__memseg_list_attached(ml))
		dk__memseg_list_attach(ml);
	return 0;
}

/* ---- a new list, step by step (pages mutex held) ------------------------- */

/* A free slot, emptied and filled with the geometry of rq. -ENOSPC. */
static int plist_slot(const struct map_req *rq, struct dk__pages_list **out)
{
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__pages_list *pl = &pg()->lists[i];
		if (pl->in_use)
			continue;
		memset(pl, 0, sizeof(*pl));
		pl->ml_idx = -1;
		pl->heap_idx = rq->heap_idx;
		pl->socket = rq->socket;
		pl->page_sz = rq->page_sz;
		pl->huge = rq->huge;
		pl->len = (size_t)pg()->cfg.va_per_list;
		pl->n_pages = (unsigned int)(pl->len / rq->page_sz);
		*out = pl;
		return 0;
	}
	DK_ERR("all %d internal page lists are in use: raise the VA per list or lower the memory use",
	       DK__MAX_MEMSEG_LISTS);
	return -ENOSPC;
}

/* The page bitmap: the slot's area of the shared config, or calloc. -ENOMEM. */
static int plist_bitmap(struct dk__pages_list *pl)
{
	size_t bm_bytes = (pl->n_pages + 63) / 64 * sizeof(uint64_t);
	if (bm_arena() && bm_bytes > bm_area()) {
		DK_ERR("a page list of %u pages is too large for the shared page bitmap (%zu pages at most): lower the VA per list or use hugepages",
		       pl->n_pages, bm_area() * 8);
		return -ENOMEM;
	}
	if (bm_arena())
		pl->bitmap = (uint64_t *)(bm_arena() + (size_t)pl_index(pl) * bm_area());
	else
		pl->bitmap = calloc(1, bm_bytes);
	if (!pl->bitmap) {
		DK_ERR("no memory for a page bitmap of %u pages", pl->n_pages);
		return -ENOMEM;
	}
	return 0;
}

/* The backing memfd, sized to the list. fd; -HUGE_SHORT (no hugetlb memfd of
 * this size, not an error), -ENOSPC out of fds, -ENOMEM. */
static int plist_backing(struct dk__pages_list *pl)
{
	char name[64];
	snprintf(name, sizeof(name), "dmakit-h%d-s%d-%zuk", pl->heap_idx, pl->socket,
		 pl->page_sz >> 10);
	int sized;
	int fd = dk__os_memfd(name, pl->page_sz, pl->huge, pl->len, &sized);
	if (fd >= 0) {
		if (dk__os_file_id(fd, &pl->dev, &pl->ino) < 0)
			pl->dev = pl->ino = 0;
		return fd;
	}
	if (pl->huge && !sized) {
		DK_INFO("memfd_create(MFD_HUGETLB, %zu kB pages): %s", pl->page_sz >> 10,
			strerror(-fd));
		return -HUGE_SHORT;
	}
	if (pl->huge) {
		DK_INFO("sizing a hugetlb memfd to %zu bytes: %s", pl->len, strerror(-fd));
		return -HUGE_SHORT;
	}
	if (!sized) {
		DK_ERR("memfd_create for the page backing failed: %s: raise the open file limit (ulimit -n)",
		       strerror(-fd));
		return fd == -EMFILE || fd == -ENFILE ? -ENOSPC : -ENOMEM;
	}
	DK_ERR("sizing the page backing file to %zu bytes: %s", pl->len, strerror(-fd));
	return -ENOMEM;
}

/* Remap mode: the list's window of IOVA space. -ENOMEM. */
static int plist_iova_window(struct dk__pages_list *pl)
{
	uint64_t align = pl->page_sz > (2u << 20) ? pl->page_sz : (2u << 20);
	if (dk__iova_alloc_get(&pg()->iova, pl->len, align, &pl->iova_base) < 0) {
		DK_ERR("IOVA mode remap: no room for another %zu GiB of IOVA space (%" PRIu64
		       " MiB free in the IOMMU's ranges): lower the VA per list, use fewer page sizes, or an IOMMU with 48-bit addresses",
		       pl->len >> 30, dk__iova_alloc_free_bytes(&pg()->iova) >> 20);
		return -ENOMEM;
	}
	pl->iova_held = 1;
	return 0;
}

/* Reserve the list's VA (and in remap mode its IOVA window), then map the
 * whole file there: pages any process backs later are visible here without
 * remapping. On success fd belongs to the list. -ENOMEM. */
static int plist_place(struct dk__pages_list *pl, int fd)
{
	void *base = reserve(pl->len);
	if (!base) {
		DK_ERR("cannot reserve %zu bytes of address space for pages (%s): lower the VA per list or raise ulimit -v",
		       pl->len, strerror(errno));
		return -ENOMEM;
	}
	pl->base = (uintptr_t)base;
	int rc = 0;
	if (pg()->cfg.iova_mode == DK_IOVA_MODE_REMAP)
		rc = plist_iova_window(pl);
	if (rc == 0)
		rc = plist_map_local(pl, fd, 0);
	if (rc < 0) {
		munmap(base, pl->len);
		pl->base = 0;
	}
	return rc;
}

/* The list's memseg list (per-page table, every page DK_BAD_IOVA). */
static int plist_memseg(struct dk__pages_list *pl)
{
	struct dk__memseg_spec s = {
	    .base = pl->base,
	    .len = pl->len,
	    .page_sz = pl->page_sz,
	    .socket_id = pl->socket,
	    .flags = DK_MEMSEG_HEAP | (pl->huge ? DK_MEMSEG_HUGE : 0),
	    .heap_idx = pl->heap_idx,
	};
	struct dk__memseg_list *ml;
	int rc = dk__memseg_list_create(&s, &ml);
	if (rc == 0)
		pl->ml_idx = (int)dk__memseg_list_index(ml);
	return rc;
}

/* New list for rq's (heap, socket, page size). 0, -HUGE_SHORT (no hugetlb
 * memfd of this size), -ENOMEM, -ENOSPC, or an error of the memseg list. */
static int plist_new(const struct map_req *rq, struct dk__pages_list **out)
{
	DK__ASSERT_LOCKED(&pg()->lock);
	struct dk__pages_list *pl;
	int rc = plist_slot(rq, &pl);
	if (rc < 0)
		return rc;
	dk__intent_begin(&pg()->intent, PG_NEW, (uint64_t)pl_index(pl), 0, 0);
	rc = plist_bitmap(pl);
	if (rc < 0)
		goto err_free;
	int fd = plist_backing(pl);
	if (fd < 0) {
		rc = fd;
		goto err_free;
	}
	rc = plist_place(pl, fd);
	if (rc < 0)
		goto err_close;
	prefer_node(pl);
	rc = plist_memseg(pl);
	if (rc < 0)
		goto err_free; /* the fd is the list's now */
	pl->in_use = 1;
	dk__intent_end(&pg()->intent);
	*out = pl;
	return 0;

err_close:
	close(fd);
err_free:
	plist_free(pl);
	dk__intent_end(&pg()->intent);
	return rc;
}

static int bit_get(const uint64_t *bm, unsigned int i)
{
	return (int)((bm[i / 64] >> (i % 64)) & 1);
}

static void bits_set(uint64_t *bm, unsigned int first, unsigned int n, int on)
{
	for (unsigned int i = first; i < first + n; i++) {
		if (on)
			bm[i / 64] |= (uint64_t)1 << (i % 64);
		else
			bm[i / 64] &= ~((uint64_t)1 << (i % 64));
	}
}

/* First run of n free pages in pl, or -1. */
static long first_fit(const struct dk__pages_list *pl, unsigned int n)
{
	if (pl->n_pages - pl->n_mapped < n)
		return -1;
	unsigned int run = 0, start = 0, i = 0;
	while (i < pl->n_pages) {
		uint64_t w = pl->bitmap[i / 64];
		if (i % 64 == 0 && i + 64 <= pl->n_pages && (w == 0 || w == UINT64_MAX)) {
			if (w == UINT64_MAX) {
				run = 0;
			} else {
				if (run == 0)
					start = i;
				run += 64;
			}
			i += 64;
		} else {
			if (bit_get(pl->bitmap, i)) {
				run = 0;
			} else {
				if (run == 0)
					start = i;
				run++;
			}
			i++;
		}
		if (run >= n)
			return start;
	}
	return -1;
}

/* ---- map / unmap, step by step (pages mutex held) ------------------------ */

/* Can bytes more be mapped at rq's page size? 0; -ENOMEM (logged);
 * -HUGE_SHORT when too few hugepages are free (not an error). */
static int map_check(const struct map_req *rq, size_t bytes)
{
	char sz[32];
	if (bytes > pg()->cfg.va_per_list) {
		DK_ERR("cannot map %zu bytes: more than the %" PRIu64
		       " bytes of VA reserved per page list: map less at once",
		       rq->len, pg()->cfg.va_per_list);
		return -ENOMEM;
	}
	if (pg()->cfg.mem_limit && (pg()->mapped + bytes > pg()->cfg.mem_limit)) {
		DK_ERR("memory limit reached: %" PRIu64 " of %" PRIu64
		       " bytes mapped, %zu more needed: raise DMAKIT_MEM_LIMIT (dk_init_params.mem_limit) or free memory",
		       pg()->mapped, pg()->cfg.mem_limit, bytes);
		return -ENOMEM;
	}
	unsigned int n = (unsigned int)(bytes / rq->page_sz);
	long avail = rq->huge ? dk__os_huge_available(rq->page_sz) : -1;
	if (avail >= 0 && (unsigned long)avail < n) {
		DK_DEBUG("%u hugepages of %s needed, %ld available", n,
			 size_name(rq->page_sz, sz, sizeof(sz)), avail);
		return -HUGE_SHORT;
	}
	return 0;
}

/* A list of rq's kind with n free pages in a row (a new list when none has
 * them), attached here: *pl and the first page *first. */
static int find_room(const struct map_req *rq, unsigned int n, struct dk__pages_list **pl,
		     unsigned int *first)
{
	long at = -1;
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS && at < 0; i++) {
		struct dk__pages_list *c = &pg()->lists[i];
		if (c->in_use && c->heap_idx == rq->heap_idx && c->socket == rq->socket &&
		    c->page_sz == rq->page_sz) {
			at = first_fit(c, n);
			*pl = c;
		}
	}
	if (at < 0) {
		int rc = plist_new(rq, pl);
		if (rc < 0)
			return rc;
		at = 0;
	}
	*first = (unsigned int)at;
	if (!pl_local(*pl)->mapped) {
		int rc = plist_attach(*pl);
		if (rc < 0)
			return rc == -EADDRINUSE ? -ENOMEM : rc;
	}
	return 0;
}

/* Give the file range behind [off, off+bytes) memory and fault it in.
 * 0; -HUGE_SHORT (hugepages short, not an error); -ENOMEM (logged). */
static int back_range(struct dk__pages_list *pl, size_t off, size_t bytes)
{
	char sz[32];
	int pa = pg()->cfg.iova_mode == DK_IOVA_MODE_PA;
	int rc = dk__os_file_alloc(pl_local(pl)->fd, off, bytes);
	if (rc < 0 && pl->huge) {
		DK_DEBUG("fallocate of %zu hugepages of %s: %s", bytes / pl->page_sz,
			 size_name(pl->page_sz, sz, sizeof(sz)), strerror(-rc));
		return -HUGE_SHORT;
	}
	if (rc < 0) {
		DK_ERR("cannot get %zu bytes of memory for pages (%s): free memory or lower the memory use",
		       bytes, strerror(-rc));
		return -ENOMEM;
	}
	void *p = (void *)(pl->base + off);
	dk__os_populate(p, bytes, pl->page_sz, pa);
	/* PA mode hands out physical addresses: 4 KiB tmpfs pages must not be
	 * swapped out and come back elsewhere (hugepages never swap). */
	if (!pl->huge && pa && mlock(p, bytes) < 0)
		DK_WARN("cannot lock %zu bytes of 4 KiB pages in memory (%s): their physical addresses may change if they are swapped: raise ulimit -l or use hugepages",
		        bytes, strerror(errno));
	return 0;
}

/* Undo the backing of pages [first, first+n) of pl (no layout change). */
static void unback(struct dk__pages_list *pl, unsigned int first, unsigned int n)
{
	/* The list stays mapped (the file is sparse again there): the pages
	 * leave every process's page tables. */
	int rc = dk__os_file_punch(pl_local(pl)->fd, (size_t)first * pl->page_sz,
				   (size_t)n * pl->page_sz);
	if (rc < 0)
		DK_WARN("cannot give pages back to the system (punch hole: %s)", strerror(-rc));
}

/* PA mode: iova[0..n) from /proc/self/pagemap for pages at va. 0 or -errno
 * (logged). */
static int pa_iovas(uintptr_t va, unsigned int n, size_t page_sz, dk_iova_t *iova)
{
	int fd = dk__os_pagemap_open();
	if (fd < 0) {
		DK_ERR("cannot open /proc/self/pagemap (%s): physical addresses need root: run as root or use DMAKIT_IOVA_MODE=va",
		       strerror(-fd));
		return -ENOTSUP;
	}
	int rc = 0;
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		uint64_t pa;
		rc = dk__os_pagemap_pa(fd, va + (uintptr_t)i * page_sz, &pa);
		if (rc == -EPERM) {
			DK_ERR("/proc/self/pagemap gives PFN 0: physical addresses need root: run as root or use DMAKIT_IOVA_MODE=va");
			rc = -ENOTSUP;
		} else if (rc < 0) {
			DK_ERR("no physical address for a just mapped page at %#lx (%s)",
			       (unsigned long)(va + i * page_sz), strerror(-rc));
			rc = -ENOMEM;
		} else {
			iova[i] = pa;
		}
	}
	close(fd);
	return rc;
}

/* iova[0..n) of pages [first, first+n) of pl in the configured mode. */
static int page_iovas(const struct dk__pages_list *pl, unsigned int first, unsigned int n,
		      dk_iova_t *iova)
{
	size_t off = (size_t)first * pl->page_sz;
	switch (pg()->cfg.iova_mode) {
	case DK_IOVA_MODE_REMAP:
		for (unsigned int i = 0; i < n; i++)
			iova[i] = pl->iova_base + off + (dk_iova_t)i * pl->page_sz;
		return 0;
	case DK_IOVA_MODE_PA:
		return pa_iovas(pl->base + off, n, pl->page_sz, iova);
	default:
		for (unsigned int i = 0; i < n; i++)
			iova[i] = pl->base + off + (uintptr_t)i * pl->page_sz;
		return 0;
	}
}

/* Are iova[0..n) contiguous? -ENOMEM (logged, with the fix) when not. */
static int check_contig(const struct map_req *rq, const dk_iova_t *iova, unsigned int n)
{
	char sz[32];
	for (unsigned int i = 1; i < n; i++) {
		if (iova[i] == iova[0] + (dk_iova_t)i * rq->page_sz)
			continue;
		const char *fix = rq->huge ? "use larger hugepages (DMAKIT_HUGE_PAGE_SIZE=1G)"
					   : "use hugepages (reserve them, DMAKIT_HUGE=always)";
		DK_ERR("%zu bytes in %s pages are not IOVA-contiguous (physical pages are scattered): %s or DMAKIT_IOVA_MODE=va",
		       (size_t)n * rq->page_sz, size_name(rq->page_sz, sz, sizeof(sz)), fix);
		return -ENOMEM;
	}
	return 0;
}

/* Set the IOVAs of backed pages [first, first+n) of pl. 0 or -errno. */
static int set_iovas(const struct map_req *rq, struct dk__pages_list *pl, unsigned int first,
		     unsigned int n)
{
	dk_iova_t *iova = malloc((size_t)n * sizeof(*iova));
	if (!iova)
		return -ENOMEM;
	int rc = page_iovas(pl, first, n, iova);
	if (rc == 0 && rq->iova_contig)
		rc = check_contig(rq, iova, n);
	if (rc == 0)
		dk__memseg_set_iova(dk__memseg_list_at((unsigned int)pl->ml_idx), first, n, iova);
	free(iova);
	return rc;
}

/*
 * Map rq->len bytes rounded up to rq->page_sz. 0; -HUGE_SHORT when
 * hugepages are short (not logged as an error); -ENOMEM, -ENOSPC, -ENOTSUP
 * (logged).
 */
static int map_pages(const struct map_req *rq, void **va, size_t *mapped_len)
{
	DK__ASSERT_LOCKED(&pg()->lock);
	if (rq->len > SIZE_MAX - rq->page_sz) {
		DK_ERR("cannot map %zu bytes: the length is too large", rq->len);
		return -ENOMEM;
	}
	size_t bytes = (rq->len + rq->page_sz - 1) & ~(rq->page_sz - 1);
	unsigned int n = (unsigned int)(bytes / rq->page_sz), first;
	struct dk__pages_list *pl = NULL;
	int rc = map_check(rq, bytes);
	if (rc == 0)
		rc = find_room(rq, n, &pl, &first);
	if (rc < 0)
		return rc;
	/* Until the caller has the range, a repair takes these pages back. */
	dk__intent_begin(&pg()->intent, PG_MAP, (uint64_t)pl_index(pl), first, n);
	rc = back_range(pl, (size_t)first * rq->page_sz, bytes);
	if (rc == 0 && (rc = set_iovas(rq, pl, first, n)) < 0)
		unback(pl, first, n);
	if (rc < 0) {
		dk__intent_end(&pg()->intent);
		return rc;
	}
	bits_set(pl->bitmap, first, n, 1);
	pl->n_mapped += n;
	__atomic_store_n(&pg()->mapped, pg()->mapped + bytes, __ATOMIC_RELAXED);
	DK__MEM_TEST_POINT("pages_map");
	*va = (void *)(pl->base + (size_t)first * rq->page_sz);
	*mapped_len = bytes;
	dk__intent_end(&pg()->intent);
	return 0;
}

static void log_no_hugepages(size_t page_sz, size_t len, int always)
{
	char sz[32];
	long fr = dk__os_huge_counter(page_sz, "free_hugepages");
	long nr = dk__os_huge_counter(page_sz, "nr_hugepages");
	size_t need = (len + page_sz - 1) / page_sz;
	if (nr < 0) {
		if (always)
			DK_ERR("no hugepages of %s on this system (no /sys/kernel/mm/hugepages/hugepages-%zukB): use DMAKIT_HUGE_PAGE_SIZE=2M or DMAKIT_HUGE=auto",
			       size_name(page_sz, sz, sizeof(sz)), page_sz >> 10);
		else
			DK_INFO("no hugepages of %s on this system: using 4 KiB pages",
				size_name(page_sz, sz, sizeof(sz)));
		return;
	}
	if (always)
		DK_ERR("not enough free hugepages of %s for %zu bytes: %zu needed, %ld of the %ld reserved are free: reserve more with `echo %ld > /sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages` (or `echo N > /proc/sys/vm/nr_hugepages` for the default size), or use DMAKIT_HUGE=auto",
		       size_name(page_sz, sz, sizeof(sz)), len, need, fr, nr, nr + (long)need,
		       page_sz >> 10);
	else
		DK_INFO("not enough free hugepages of %s (%ld free, %zu needed): using 4 KiB pages; reserve hugepages with `echo N > /sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages` for fewer TLB misses",
		        size_name(page_sz, sz, sizeof(sz)), fr, need, page_sz >> 10);
}

int dk__mem_pages_map(int heap_idx, int socket, size_t len, int iova_contig, void **va,
		      size_t *mapped_len)
{
	if (!len || !va || !mapped_len) {
		DK_ERR("dk__mem_pages_map: %s", !len ? "zero length" : "NULL output");
		return -EINVAL;
	}
	pages_lock();
	if (!pg()->ready) {
		pthread_mutex_unlock(&pg()->lock);
		DK_ERR("memory is not set up: call dk_init first");
		return -EINVAL;
	}
	struct map_req rq = {.heap_idx = heap_idx, .socket = socket, .len = len,
			     .iova_contig = iova_contig, .page_sz = SMALL_PAGE, .huge = 0};
	struct map_req hrq = rq;
	hrq.page_sz = pg()->cfg.huge_page_sz;
	hrq.huge = 1;
	enum dk__huge_policy pol = pg()->cfg.huge;
	int rc = map_pages(pol == DK__HUGE_NEVER ? &rq : &hrq, va, mapped_len);
	if (rc == -HUGE_SHORT && pol == DK__HUGE_ALWAYS) {
		log_no_hugepages(hrq.page_sz, len, 1);
		rc = -ENOMEM;
	} else if (rc == -HUGE_SHORT && pol != DK__HUGE_NEVER) {
		if (!pg()->fallback_logged)
			log_no_hugepages(hrq.page_sz, len, 0);
		pg()->fallback_logged = 1;
		rc = map_pages(&rq, va, mapped_len);
	}
	if (rc == -HUGE_SHORT) /* cannot happen for 4 KiB pages; be safe */
		rc = -ENOMEM;
	pthread_mutex_unlock(&pg()->lock);
	/* Without the page-list lock: other processes' callbacks may need it to
	 * attach this list. Nobody else knows these pages yet. */
	if (rc == 0) {
		dk__mem_event_fire(DK_MEM_EVENT_ALLOC, *va, *mapped_len);
		dk__mem_xev_publish(DK_MEM_EVENT_ALLOC, *va, *mapped_len);
	}
	return rc;
}

int dk__mem_pages_unmap(void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va;
	if (!va || !len) {
		DK_ERR("dk__mem_pages_unmap: %s", !va ? "NULL address" : "zero length");
		return -EINVAL;
	}
	pages_lock();
	struct dk__pages_list *pl = NULL;
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS && !pl; i++) {
		struct dk__pages_list *c = &pg()->lists[i];
		if (c->in_use && a >= c->base && a - c->base < c->len)
			pl = c;
	}
	int rc = -EINVAL;
	if (!pl) {
		DK_ERR("dk__mem_pages_unmap(%p, %zu): not internal page memory", va, len);
		goto out;
	}
	if ((a & (pl->page_sz - 1)) || (len & (pl->page_sz - 1)) || len > pl->base + pl->len - a) {
		DK_ERR("dk__mem_pages_unmap(%p, %zu): not whole pages of %zu bytes inside one list",
		       va, len, pl->page_sz);
		goto out;
	}
	unsigned int first = (unsigned int)((a - pl->base) / pl->page_sz);
	unsigned int n = (unsigned int)(len / pl->page_sz);
	for (unsigned int i = first; i < first + n; i++) {
		if (!bit_get(pl->bitmap, i)) {
			DK_ERR("dk__mem_pages_unmap(%p, %zu): page %p is not mapped", va, len,
			       (void *)(pl->base + (uintptr_t)i * pl->page_sz));
			goto out;
		}
	}
	/* FREE while the pages are still there, without the page-list lock (see
	 * dk__mem_pages_map); the caller owns these pages, nobody else unmaps
	 * them meanwhile. */
	pthread_mutex_unlock(&pg()->lock);
	dk__mem_event_fire(DK_MEM_EVENT_FREE, va, len);
	dk__mem_xev_publish(DK_MEM_EVENT_FREE, va, len);
	pages_lock();
	dk__intent_begin(&pg()->intent, PG_UNMAP, (uint64_t)pl_index(pl), first, n);
	/* IOVAs go first: no lookup may hand out the IOVA of a freed page. */
	dk__memseg_set_iova(dk__memseg_list_at((unsigned int)pl->ml_idx), first, n, NULL);
	unback(pl, first, n);
	bits_set(pl->bitmap, first, n, 0);
	pl->n_mapped -= n;
	__atomic_store_n(&pg()->mapped, pg()->mapped - len, __ATOMIC_RELAXED);
	dk__intent_end(&pg()->intent);
	rc = 0;
out:
	pthread_mutex_unlock(&pg()->lock);
	return rc;
}

/* Is [a, a + 1) inside one of keep[0..n) (sorted)? */
static int span_covers(const struct dk__va_span *keep, unsigned int n, uintptr_t a)
{
	unsigned int lo = 0, hi = n;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (a < keep[mid].start)
			hi = mid;
		else if (a - keep[mid].start >= keep[mid].len)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

#define DIFF_RUNS 32

/* Mapped runs of heap_idx's lists outside keep: up to DIFF_RUNS of them in
 * run[] (*n_runs), their bytes added to *outside. Pages mutex held. */
static void diff_outside(int heap_idx, const struct dk__va_span *keep, unsigned int n,
			 struct dk__va_span *run, unsigned int *n_runs, uint64_t *outside)
{
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		const struct dk__pages_list *pl = &pg()->lists[i];
		if (!pl->in_use || pl->heap_idx != heap_idx || !pl->bitmap)
			continue;
		unsigned int first_run = *n_runs; /* runs never span two lists */
		for (unsigned int p = 0; p < pl->n_pages; p++) {
			if (p % 64 == 0 && pl->bitmap[p / 64] == 0) {
				p += 63;
				continue;
			}
			uintptr_t a = pl->base + (uintptr_t)p * pl->page_sz;
			if (!bit_get(pl->bitmap, p) || span_covers(keep, n, a))
				continue;
			*outside += pl->page_sz;
			struct dk__va_span *last = *n_runs > first_run ? &run[*n_runs - 1] : NULL;
			if (last && last->start + last->len == a)
				last->len += pl->page_sz;
			else if (*n_runs < DIFF_RUNS)
				run[(*n_runs)++] = (struct dk__va_span){a, pl->page_sz};
		}
	}
}

/* Bytes of keep[0..n) whose pages are not mapped. Pages mutex held. */
static uint64_t diff_missing(const struct dk__va_span *keep, unsigned int n)
{
	uint64_t miss = 0;
	for (unsigned int k = 0; k < n; k++) {
		const struct dk__pages_list *pl = NULL;
		for (int i = 0; i < DK__MAX_MEMSEG_LISTS && !pl; i++) {
			const struct dk__pages_list *c = &pg()->lists[i];
			if (c->in_use && keep[k].start >= c->base && keep[k].start - c->base < c->len)
				pl = c;
		}
		if (!pl) {
			miss += keep[k].len;
			continue;
		}
		for (uintptr_t a = keep[k].start; a < keep[k].start + keep[k].len; a += pl->page_sz)
			if (a - pl->base >= pl->len ||
			    !bit_get(pl->bitmap, (unsigned int)((a - pl->base) / pl->page_sz)))
				miss += pl->page_sz;
	}
	return miss;
}

int dk__mem_pages_heap_diff(int heap_idx, const struct dk__va_span *keep, unsigned int n,
			    int release, uint64_t *outside, uint64_t *missing)
{
	struct dk__va_span run[DIFF_RUNS];
	uint64_t out = 0;
	for (int round = 0; round < 64; round++) {
		unsigned int n_runs = 0;
		uint64_t bytes = 0;
		pages_lock();
		diff_outside(heap_idx, keep, n, run, &n_runs, &bytes);
		if (round == 0 && missing)
			*missing = diff_missing(keep, n);
		pthread_mutex_unlock(&pg()->lock);
		if (round == 0)
			out = bytes;
		if (!release || n_runs == 0)
			break;
		for (unsigned int r = 0; r < n_runs; r++) {
			DK_WARN("heap %d: pages [%#lx, +%zu) are in no region of the heap (a growth or give-back was cut short): giving them back",
				heap_idx, (unsigned long)run[r].start, run[r].len);
			dk__mem_pages_unmap((void *)run[r].start, run[r].len);
		}
	}
	if (outside)
		*outside = out;
	return 0;
}

size_t dk__mem_pages_size(int socket)
{
	(void)socket;
	pages_lock();
	size_t sz = 0;
	if (pg()->ready) {
		if (pg()->cfg.huge == DK__HUGE_NEVER)
			sz = SMALL_PAGE;
		else if (pg()->cfg.huge == DK__HUGE_ALWAYS ||
			 dk__os_huge_available(pg()->cfg.huge_page_sz) > 0)
			sz = pg()->cfg.huge_page_sz;
		else
			sz = SMALL_PAGE;
	}
	pthread_mutex_unlock(&pg()->lock);
	return sz;
}

uint64_t dk__mem_pages_mapped(void)
{
	return __atomic_load_n(&pg()->mapped, __ATOMIC_RELAXED);
}

void dk__mem_pages_cleanup(void)
{
	pages_lock();
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__pages_list *pl = &pg()->lists[i];
		if (!pl->in_use)
			continue;
		/* One FREE per run of mapped pages. */
		unsigned int p = 0, left = pl->n_mapped;
		while (left && p < pl->n_pages) {
			if (!bit_get(pl->bitmap, p)) {
				p++;
				continue;
			}
			unsigned int q = p;
			while (q < pl->n_pages && bit_get(pl->bitmap, q))
				q++;
			dk__mem_event_fire(DK_MEM_EVENT_FREE,
					   (void *)(pl->base + (uintptr_t)p * pl->page_sz),
					   (size_t)(q - p) * pl->page_sz);
			assert(q - p <= left);
			left -= q - p;
			p = q;
		}
		assert(left == 0); /* n_mapped counts the bits set */
		plist_free(pl);
	}
	pg()->mapped = 0;
	pg()->ready = 0;
	dk__memseg_set_iova_mode(DK_IOVA_MODE_VA);
	pthread_mutex_unlock(&pg()->lock);
}

void dk__mem_pages_shared_init(struct dk__pages_shared *ps)
{
	memset(ps, 0, sizeof(*ps));
	dk__mutex_init_pshared(&ps->lock);
}

int dk__mem_pages_attach_all(void)
{
	int rc = 0;
	loc_init();
	pages_lock();
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct dk__pages_list *pl = &pg()->lists[i];
		if (!pl->in_use || g_loc[i].mapped)
			continue;
		int r = plist_attach(pl);
		if (r < 0 && rc == 0)
			rc = r;
	}
	pthread_mutex_unlock(&pg()->lock);
	return rc;
}

void dk__mem_pages_detach(void)
{
	loc_init();
	pages_lock();
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		if (g_loc[i].mapped || g_loc[i].fd >= 0)
			plist_unmap_local(&pg()->lists[i]);
	pthread_mutex_unlock(&pg()->lock);
}
