/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page backing for the internal heaps (contract: src/mem/pages.h).
 *
 * One internal memseg list per (heap, socket, page size), created when first
 * needed, more when one fills up: a PROT_NONE NORESERVE reservation of
 * va_per_list bytes aligned to 1 GiB, and a memfd of the same length (plain
 * tmpfs for 4 KiB pages, MFD_HUGETLB for hugepages). Page i of the list is
 * byte i * page_sz of the file, so another process can map the same file at
 * the same VA. A bitmap marks mapped pages; map takes the first free run.
 *
 * Mapping: fallocate the file range first (hugetlbfs fails it cleanly with
 * ENOSPC when hugepages are short, where a populating mmap would SIGBUS),
 * mmap it MAP_FIXED | MAP_SHARED | MAP_POPULATE over the reservation, set
 * the IOVAs (VA, or /proc/self/pagemap in PA mode), fire ALLOC. Unmapping:
 * fire FREE, clear the IOVAs, put PROT_NONE back over the range (the
 * reservation stays), punch the file range so the pages return to the
 * system.
 *
 * Locking: g_pg.lock serialises map/unmap/cleanup and is held while their
 * events fire (so ALLOC and FREE of one range can never be seen out of
 * order; callbacks must not map or unmap pages, which they cannot do anyway
 * since they must not allocate). The layout lock is taken by memseg.c inside
 * dk__memseg_set_iova and list create/destroy, never across an event.
 * Lock order: heap lock -> g_pg.lock -> layout lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dmakit/memory.h>

#include "core/pshared.h"
#include "mem/mem_event.h"
#include "mem/mem_xev.h"
#include "mem/memseg.h"
#include "mem/pages.h"

#define DK_LOG_COMPONENT "pages"
#include "core/log_internal.h"

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

#define GiB                 ((uint64_t)1 << 30)
#define MiB                 ((uint64_t)1 << 20)
#define SMALL_PAGE          ((size_t)4096)
#define DEFAULT_VA_PER_LIST (64 * GiB)
#define MAX_VA_PER_LIST     ((uint64_t)1 << 45)
/* Internal "hugepages are short" code: AUTO falls back, ALWAYS reports. */
#define HUGE_SHORT 1

#define plist dk__pages_list

/* Process-local state of a list: its fd and whether its VA is mapped here. */
struct plocal {
	int fd; /* -1 none */
	int mapped;
};

static struct dk__pages_shared g_local = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct dk__pages_shared *g_ps = &g_local;
#define g_pg (*g_ps)
static struct plocal g_loc[DK__MAX_MEMSEG_LISTS];
static int g_loc_init;
/* Bitmap areas in the shared config file (NULL: calloc). */
static char *g_bm_arena;
static size_t g_bm_area;

static void loc_init(void)
{
	if (g_loc_init)
		return;
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		g_loc[i].fd = -1;
	g_loc_init = 1;
}

static int pl_index(const struct plist *pl)
{
	return (int)(pl - g_ps->lists);
}

/* Remap mode keeps IOVA 0 and the first MiB out of use. */
#define REMAP_LOWEST ((uint64_t)1 << 20)

/* ---- system facts ------------------------------------------------------- */

/* The default hugepage size from /proc/meminfo, or 2 MiB. */
static size_t default_huge_size(void)
{
	size_t sz = 2 * MiB;
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return sz;
	char line[128];
	while (fgets(line, sizeof(line), f)) {
		unsigned long kb;
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1 && kb) {
			sz = (size_t)kb << 10;
			break;
		}
	}
	fclose(f);
	return sz;
}

/*
 * A counter of hugepages of size sz from the real /sys (hugepages are not
 * part of the sysfs tree dmakit scans, which tests replace). -1 if absent.
 */
static long huge_counter(size_t sz, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/%s", sz >> 10, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	long v = -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Hugepages of size sz that a new mapping can take now (free - reserved). */
static long huge_available(size_t sz)
{
	long fr = huge_counter(sz, "free_hugepages");
	long rs = huge_counter(sz, "resv_hugepages");
	if (fr < 0)
		return -1;
	if (rs > 0)
		fr -= rs;
	return fr < 0 ? 0 : fr;
}

/*
 * Physical address of va from a /proc/self/pagemap fd: 0, -ENOENT page not
 * present, -EPERM no access to PFNs (not CAP_SYS_ADMIN), -EIO.
 */
static int pagemap_pa(int fd, uintptr_t va, uint64_t *pa)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t e;
	if (pread(fd, &e, sizeof(e), (off_t)(va / psz * sizeof(e))) != (ssize_t)sizeof(e))
		return -EIO;
	if (!(e >> 63))
		return -ENOENT;
	uint64_t pfn = e & (((uint64_t)1 << 55) - 1);
	if (!pfn)
		return -EPERM;
	*pa = pfn * psz + (va & (psz - 1));
	return 0;
}

static int pagemap_open(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Can this process read physical addresses? Maps and touches one page. */
static int probe_pa(void)
{
	int fd = pagemap_open();
	if (fd < 0) {
		DK_ERR("IOVA mode pa: cannot open /proc/self/pagemap (%s): physical addresses need root: run as root or use DMAKIT_IOVA_MODE=va",
		       strerror(-fd));
		return -ENOTSUP;
	}
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	volatile char *p =
	    mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		close(fd);
		DK_ERR("IOVA mode pa: cannot map a probe page: %s", strerror(errno));
		return -ENOMEM;
	}
	p[0] = 1;
	uint64_t pa;
	int rc = pagemap_pa(fd, (uintptr_t)p, &pa);
	munmap((void *)p, psz);
	close(fd);
	if (rc < 0) {
		DK_ERR("IOVA mode pa: /proc/self/pagemap gives no physical address (%s): physical addresses need root: run as root or use DMAKIT_IOVA_MODE=va",
		       rc == -EPERM ? "PFN 0" : strerror(-rc));
		return -ENOTSUP;
	}
	return 0;
}

/* ---- configuration ------------------------------------------------------ */

int dk__mem_pages_init(const struct dk__pages_config *cfg)
{
	if (!cfg) {
		DK_ERR("page backing: NULL configuration");
		return -EINVAL;
	}
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
	uint64_t va_per = cfg->va_per_list ? cfg->va_per_list : DEFAULT_VA_PER_LIST;
	if (va_per % GiB || va_per > MAX_VA_PER_LIST) {
		DK_ERR("page backing: VA per list %" PRIu64
		       " must be a multiple of 1 GiB up to 32 TiB: pick e.g. 64 GiB",
		       va_per);
		return -EINVAL;
	}
	if (cfg->iova_mode == DK_IOVA_MODE_PA) {
		int rc = probe_pa();
		if (rc < 0)
			return rc;
	}
	loc_init();
	pthread_mutex_lock(&g_pg.lock);
	if (g_pg.ready) {
		pthread_mutex_unlock(&g_pg.lock);
		DK_ERR("page backing is set up already: clean it up (dk_cleanup) before setting it up again");
		return -EBUSY;
	}
	if (cfg->iova_mode == DK_IOVA_MODE_REMAP) {
		int rc = dk__iova_alloc_init(&g_pg.iova, cfg->iova_ranges, cfg->n_iova_ranges,
					     REMAP_LOWEST, cfg->iova_limit ? cfg->iova_limit : UINT64_MAX);
		if (rc < 0) {
			pthread_mutex_unlock(&g_pg.lock);
			DK_ERR("IOVA mode remap: the IOMMU reports no usable IOVA range above 1 MiB (%u ranges, DMA limit %#" PRIx64 "): check the IOMMU or use DMAKIT_IOVA_MODE=va",
			       cfg->n_iova_ranges, cfg->iova_limit);
			return -EINVAL;
		}
	}
	if (cfg->iova_mode == DK_IOVA_MODE_REMAP && !cfg->va_per_list) {
		/* Narrow IOVA space (a 32-bit DMA mask): lists small enough that
		 * at least four fit in the largest usable piece. */
		uint64_t big = 0;
		for (uint32_t i = 0; i < g_pg.iova.n; i++)
			if (g_pg.iova.free[i].end - g_pg.iova.free[i].start > big)
				big = g_pg.iova.free[i].end - g_pg.iova.free[i].start;
		while (va_per > GiB && va_per * 4 > big)
			va_per >>= 1;
	}
	g_pg.cfg = *cfg;
	g_pg.cfg.va_per_list = va_per;
	if (!g_pg.cfg.huge_page_sz)
		g_pg.cfg.huge_page_sz = default_huge_size();
	g_pg.mapped = 0;
	g_pg.fallback_logged = 0;
	g_pg.ready = 1;
	dk__memseg_set_iova_mode(cfg->iova_mode);
	pthread_mutex_unlock(&g_pg.lock);
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
	uintptr_t a = g_pg.next_va ? (uintptr_t)g_pg.next_va : DK__VA_HINT + DK__VA_HINT_CFG;
	for (int tries = 0; tries < 64 && a + len < DK__VA_HINT_END; tries++) {
		void *q = mmap((void *)a, len, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		if (q == (void *)a) {
			g_pg.next_va = a + len;
			return q;
		}
		if (q != MAP_FAILED)
			munmap(q, len); /* a kernel without NOREPLACE put it elsewhere */
		else if (errno != EEXIST)
			break;
		a += len;
	}
	size_t total = len + GiB;
	char *p = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + GiB - 1) & ~(uintptr_t)(GiB - 1);
	size_t head = a - (uintptr_t)p;
	if (head)
		munmap(p, head);
	if (total - head - len)
		munmap((char *)a + len, total - head - len);
	return (void *)a;
}

/*
 * Pages of the heap of NUMA node N come from node N when it has memory: a
 * preferred policy on the list's whole file range (a shared policy of the
 * memfd, so fallocate in any process follows it). Falls back to other nodes
 * rather than failing; errors (no NUMA in the kernel, a container's seccomp)
 * only lose the placement.
 */
static void prefer_node(const struct plist *pl)
{
	if (pl->socket < 0 || pl->socket >= 1024)
		return;
	unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
	mask[(unsigned int)pl->socket / (8 * sizeof(unsigned long))] |=
	    1ul << ((unsigned int)pl->socket % (8 * sizeof(unsigned long)));
	if (syscall(SYS_mbind, (void *)pl->base, pl->len, 1 /* MPOL_PREFERRED */, mask,
		    (unsigned long)1024, 0) < 0)
		DK_DEBUG("NUMA placement of the page list for node %d: mbind: %s", pl->socket,
			 strerror(errno));
}

/* Undo this process's part of a list (mapping, fd, holder entry). */
static void plist_unmap_local(struct plist *pl)
{
	int i = pl_index(pl);
	if (g_loc[i].mapped)
		munmap((void *)pl->base, pl->len);
	g_loc[i].mapped = 0;
	if (g_loc[i].fd >= 0)
		close(g_loc[i].fd);
	g_loc[i].fd = -1;
	for (int h = 0; h < DK__PAGES_HOLDERS; h++)
		if (pl->holders[h].pid == getpid())
			pl->holders[h].pid = 0;
}

/* Free a list (the whole instance's: only the primary or a single process). */
static void plist_free(struct plist *pl)
{
	if (pl->ml_idx >= 0)
		dk__memseg_list_destroy(dk__memseg_list_at((unsigned int)pl->ml_idx));
	plist_unmap_local(pl);
	if (pl->iova_held && dk__iova_alloc_put(&g_pg.iova, pl->iova_base, pl->len) < 0)
		DK_WARN("IOVA space [%#" PRIx64 ", +%zu) could not be given back (interval table full)",
			pl->iova_base, pl->len);
	if (!g_bm_arena)
		free(pl->bitmap);
	else if (pl->bitmap)
		madvise(pl->bitmap, g_bm_area, MADV_REMOVE);
	memset(pl, 0, sizeof(*pl));
}

static void holder_add(struct plist *pl, int fd)
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
static int plist_map_local(struct plist *pl, int fd, int noreplace)
{
	int flags = MAP_SHARED | MAP_NORESERVE | (noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED);
	void *p = mmap((void *)pl->base, pl->len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED || p != (void *)pl->base) {
		int e = p == MAP_FAILED ? errno : EEXIST;
		if (p != MAP_FAILED)
			munmap(p, pl->len);
		if (e == EEXIST) {
			DK_ERR("the VA range [%#lx, %#lx) of an internal page list is taken in this process: start the secondary before it maps other memory there, or restart the primary so that it picks other addresses",
			       (unsigned long)pl->base, (unsigned long)(pl->base + pl->len));
			return -EADDRINUSE;
		}
		DK_ERR("cannot map the page list [%#lx, +%zu) (%s): check ulimit -v and vm.max_map_count",
		       (unsigned long)pl->base, pl->len, strerror(e));
		return -ENOMEM;
	}
	int i = pl_index(pl);
	g_loc[i].fd = fd;
	g_loc[i].mapped = 1;
	holder_add(pl, fd);
	return 0;
}

/* Open the list's backing file through a process that holds it. */
static int plist_open(struct plist *pl)
{
	for (int h = 0; h < DK__PAGES_HOLDERS; h++) {
		if (!pl->holders[h].pid)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pl->holders[h].pid,
			 pl->holders[h].fd);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_ino == pl->ino && st.st_dev == pl->dev)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* Attach a list in this process: map + publish. Pages lock held. */
static int plist_attach(struct plist *pl)
{
	int i = pl_index(pl);
	if (g_loc[i].mapped)
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

/* New list for (heap, socket, page size). 0, -HUGE_SHORT (no hugetlb memfd
 * of this size), -ENOMEM, -ENOSPC. Lock held. */
static int plist_new(int heap_idx, int socket, size_t page_sz, int huge, struct plist **out)
{
	int slot = -1;
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS && slot < 0; i++)
		if (!g_pg.lists[i].in_use)
			slot = i;
	if (slot < 0) {
		DK_ERR("all %d internal page lists are in use: raise the VA per list or lower the memory use",
		       DK__MAX_MEMSEG_LISTS);
		return -ENOSPC;
	}
	struct plist *pl = &g_pg.lists[slot];
	memset(pl, 0, sizeof(*pl));
	pl->ml_idx = -1;
	pl->heap_idx = heap_idx;
	pl->socket = socket;
	pl->page_sz = page_sz;
	pl->huge = huge;
	pl->len = (size_t)g_pg.cfg.va_per_list;
	pl->n_pages = (unsigned int)(pl->len / page_sz);
	int rc = -ENOMEM, fd = -1;

	size_t bm_bytes = (pl->n_pages + 63) / 64 * sizeof(uint64_t);
	if (g_bm_arena) {
		if (bm_bytes > g_bm_area) {
			DK_ERR("a page list of %u pages is too large for the shared page bitmap (%zu pages at most): lower the VA per list or use hugepages",
			       pl->n_pages, g_bm_area * 8);
			goto err_free;
		}
		pl->bitmap = (uint64_t *)(g_bm_arena + (size_t)slot * g_bm_area);
	} else {
		pl->bitmap = calloc(1, bm_bytes);
	}
	if (!pl->bitmap) {
		DK_ERR("no memory for a page bitmap of %u pages", pl->n_pages);
		goto err_free;
	}
	char name[64];
	snprintf(name, sizeof(name), "dmakit-h%d-s%d-%zuk", heap_idx, socket, page_sz >> 10);
	unsigned int mfd = MFD_CLOEXEC;
	if (huge)
		mfd |= MFD_HUGETLB | ((unsigned int)__builtin_ctzll(page_sz) << MFD_HUGE_SHIFT);
	fd = memfd_create(name, mfd);
	if (fd < 0) {
		int e = errno;
		if (huge) {
			DK_INFO("memfd_create(MFD_HUGETLB, %zu kB pages): %s", page_sz >> 10,
				strerror(e));
			rc = -HUGE_SHORT;
		} else {
			DK_ERR("memfd_create for the page backing failed: %s: raise the open file limit (ulimit -n)",
			       strerror(e));
			rc = e == EMFILE || e == ENFILE ? -ENOSPC : -ENOMEM;
		}
		goto err_free;
	}
	if (ftruncate(fd, (off_t)pl->len) < 0) {
		int e = errno;
		if (huge) {
			DK_INFO("sizing a hugetlb memfd to %zu bytes: %s", pl->len, strerror(e));
			rc = -HUGE_SHORT;
		} else {
			DK_ERR("sizing the page backing file to %zu bytes: %s", pl->len,
			       strerror(e));
		}
		goto err_close;
	}
	struct stat st;
	if (fstat(fd, &st) == 0) {
		pl->dev = st.st_dev;
		pl->ino = st.st_ino;
	}
	void *base = reserve(pl->len);
	if (!base) {
		DK_ERR("cannot reserve %zu bytes of address space for pages (%s): lower the VA per list or raise ulimit -v",
		       pl->len, strerror(errno));
		goto err_close;
	}
	pl->base = (uintptr_t)base;
	if (g_pg.cfg.iova_mode == DK_IOVA_MODE_REMAP) {
		uint64_t align = page_sz > (2u << 20) ? page_sz : (2u << 20);
		rc = dk__iova_alloc_get(&g_pg.iova, pl->len, align, &pl->iova_base);
		if (rc < 0) {
			DK_ERR("IOVA mode remap: no room for another %zu GiB of IOVA space (%" PRIu64
			       " MiB free in the IOMMU's ranges): lower the VA per list, use fewer page sizes, or an IOMMU with 48-bit addresses",
			       pl->len >> 30, dk__iova_alloc_free_bytes(&g_pg.iova) >> 20);
			munmap(base, pl->len);
			pl->base = 0;
			rc = -ENOMEM;
			goto err_close;
		}
		pl->iova_held = 1;
	}
	/* The whole list maps the whole file: pages any process allocates in
	 * the file later are visible here without remapping. */
	rc = plist_map_local(pl, fd, 0);
	if (rc < 0) {
		munmap(base, pl->len);
		goto err_close;
	}
	fd = -1; /* owned by g_loc now */
	prefer_node(pl);
	uint32_t flags = DK_MEMSEG_HEAP | (huge ? DK_MEMSEG_HUGE : 0);
	struct dk__memseg_list *ml;
	rc = dk__memseg_list_create(pl->base, pl->len, page_sz, socket, flags, heap_idx, NULL, 0, 0,
				    &ml);
	if (rc < 0)
		goto err_free;
	pl->ml_idx = (int)dk__memseg_list_index(ml);
	pl->in_use = 1;
	*out = pl;
	return 0;

err_close:
	if (fd >= 0)
		close(fd);
err_free:
	plist_free(pl);
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
static long first_fit(const struct plist *pl, unsigned int n)
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

/* ---- map / unmap -------------------------------------------------------- */

/* Fill iova[0..n) for pages at va. 0 or -errno (logged). */
static int page_iovas(uintptr_t va, unsigned int n, size_t page_sz, dk_iova_t *iova)
{
	if (g_pg.cfg.iova_mode == DK_IOVA_MODE_VA) {
		for (unsigned int i = 0; i < n; i++)
			iova[i] = va + (uintptr_t)i * page_sz;
		return 0;
	}
	int fd = pagemap_open();
	if (fd < 0) {
		DK_ERR("cannot open /proc/self/pagemap (%s): physical addresses need root: run as root or use DMAKIT_IOVA_MODE=va",
		       strerror(-fd));
		return -ENOTSUP;
	}
	int rc = 0;
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		uint64_t pa;
		rc = pagemap_pa(fd, va + (uintptr_t)i * page_sz, &pa);
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

/* Undo the backing of pages [first, first+n) of pl (no layout change). */
static void unback(struct plist *pl, unsigned int first, unsigned int n)
{
	size_t off = (size_t)first * pl->page_sz, bytes = (size_t)n * pl->page_sz;
	/* The list stays mapped (the file is sparse again there): the pages
	 * leave every process's page tables. */
	if (fallocate(g_loc[pl_index(pl)].fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      (off_t)bytes) < 0)
		DK_WARN("cannot give pages back to the system (punch hole: %s)", strerror(errno));
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

/*
 * Map n pages of page_sz (hugepages when huge). Lock held. 0; -HUGE_SHORT
 * when hugepages are short (not logged as an error); -ENOMEM, -ENOSPC,
 * -ENOTSUP (logged).
 */
static int map_pages(int heap_idx, int socket, size_t len, int iova_contig, size_t page_sz,
		     int huge, void **va, size_t *mapped_len)
{
	char sz[32];
	if (len > SIZE_MAX - page_sz) {
		DK_ERR("cannot map %zu bytes: the length is too large", len);
		return -ENOMEM;
	}
	size_t bytes = (len + page_sz - 1) & ~(page_sz - 1);
	if (bytes > g_pg.cfg.va_per_list) {
		DK_ERR("cannot map %zu bytes: more than the %" PRIu64
		       " bytes of VA reserved per page list: map less at once",
		       len, g_pg.cfg.va_per_list);
		return -ENOMEM;
	}
	unsigned int n = (unsigned int)(bytes / page_sz);
	if (g_pg.cfg.mem_limit && (g_pg.mapped + bytes > g_pg.cfg.mem_limit)) {
		DK_ERR("memory limit reached: %" PRIu64 " of %" PRIu64
		       " bytes mapped, %zu more needed: raise DMAKIT_MEM_LIMIT (dk_init_params.mem_limit) or free memory",
		       g_pg.mapped, g_pg.cfg.mem_limit, bytes);
		return -ENOMEM;
	}
	if (huge) {
		long avail = huge_available(page_sz);
		if (avail >= 0 && (unsigned long)avail < n) {
			DK_DEBUG("%u hugepages of %s needed, %ld available", n,
				 size_name(page_sz, sz, sizeof(sz)), avail);
			return -HUGE_SHORT;
		}
	}

	struct plist *pl = NULL;
	long first = -1;
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS && first < 0; i++) {
		struct plist *c = &g_pg.lists[i];
		if (c->in_use && c->heap_idx == heap_idx && c->socket == socket && c->page_sz == page_sz) {
			first = first_fit(c, n);
			pl = c;
		}
	}
	if (first < 0) {
		int rc = plist_new(heap_idx, socket, page_sz, huge, &pl);
		if (rc < 0)
			return rc;
		first = 0;
	}

	size_t off = (size_t)first * page_sz;
	uintptr_t addr = pl->base + off;
	if (!g_loc[pl_index(pl)].mapped) {
		int rc = plist_attach(pl);
		if (rc < 0)
			return rc == -EADDRINUSE ? -ENOMEM : rc;
	}
	int fd = g_loc[pl_index(pl)].fd;
	if (fallocate(fd, 0, (off_t)off, (off_t)bytes) < 0) {
		int e = errno;
		/* fallocate may have allocated part of the range. */
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			  (off_t)bytes);
		if (huge) {
			DK_DEBUG("fallocate of %u hugepages of %s: %s", n,
				 size_name(page_sz, sz, sizeof(sz)), strerror(e));
			return -HUGE_SHORT;
		}
		DK_ERR("cannot get %zu bytes of memory for pages (%s): free memory or lower the memory use",
		       bytes, strerror(e));
		return -ENOMEM;
	}
	void *p = (void *)addr;
	/* Fault the pages in now (what MAP_POPULATE did): best effort. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
	if (madvise(p, bytes, MADV_POPULATE_WRITE) < 0 && g_pg.cfg.iova_mode == DK_IOVA_MODE_PA) {
		for (size_t o = 0; o < bytes; o += page_sz)
			((volatile char *)p)[o] = 0; /* fresh pages: zero already */
	}

	/* PA mode hands out physical addresses: 4 KiB tmpfs pages must not be
	 * swapped out and come back elsewhere (hugepages never swap). */
	if (!huge && g_pg.cfg.iova_mode == DK_IOVA_MODE_PA && mlock(p, bytes) < 0)
		DK_WARN("cannot lock %zu bytes of 4 KiB pages in memory (%s): their physical addresses may change if they are swapped: raise ulimit -l or use hugepages",
		        bytes, strerror(errno));
	dk_iova_t *iova = malloc((size_t)n * sizeof(*iova));
	int rc = iova ? 0 : -ENOMEM;
	if (rc == 0 && g_pg.cfg.iova_mode == DK_IOVA_MODE_REMAP) {
		for (unsigned int i = 0; i < n; i++)
			iova[i] = pl->iova_base + off + (dk_iova_t)i * page_sz;
	} else if (rc == 0) {
		rc = page_iovas(addr, n, page_sz, iova);
	}
	if (rc == 0 && iova_contig) {
		for (unsigned int i = 1; i < n && rc == 0; i++) {
			if (iova[i] != iova[0] + (dk_iova_t)i * page_sz) {
				const char *fix = huge ? "use larger hugepages (DMAKIT_HUGE_PAGE_SIZE=1G)"
						       : "use hugepages (reserve them, DMAKIT_HUGE=always)";
				DK_ERR("%zu bytes in %s pages are not IOVA-contiguous (physical pages are scattered): %s or DMAKIT_IOVA_MODE=va",
				       bytes, size_name(page_sz, sz, sizeof(sz)), fix);
				rc = -ENOMEM;
			}
		}
	}
	if (rc < 0) {
		free(iova);
		unback(pl, (unsigned int)first, n);
		return rc;
	}
	dk__memseg_set_iova(dk__memseg_list_at((unsigned int)pl->ml_idx), (unsigned int)first, n, iova);
	free(iova);
	bits_set(pl->bitmap, (unsigned int)first, n, 1);
	pl->n_mapped += n;
	__atomic_store_n(&g_pg.mapped, g_pg.mapped + bytes, __ATOMIC_RELAXED);
	*va = (void *)addr;
	*mapped_len = bytes;
	return 0;
}

static void log_no_hugepages(size_t page_sz, size_t len, int always)
{
	char sz[32];
	long fr = huge_counter(page_sz, "free_hugepages");
	long nr = huge_counter(page_sz, "nr_hugepages");
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
	pthread_mutex_lock(&g_pg.lock);
	if (!g_pg.ready) {
		pthread_mutex_unlock(&g_pg.lock);
		DK_ERR("memory is not set up: call dk_init first");
		return -EINVAL;
	}
	int rc;
	enum dk__huge_policy pol = g_pg.cfg.huge;
	if (pol == DK__HUGE_NEVER) {
		rc = map_pages(heap_idx, socket, len, iova_contig, SMALL_PAGE, 0, va, mapped_len);
	} else {
		size_t hsz = g_pg.cfg.huge_page_sz;
		rc = map_pages(heap_idx, socket, len, iova_contig, hsz, 1, va, mapped_len);
		if (rc == -HUGE_SHORT) {
			if (pol == DK__HUGE_ALWAYS) {
				log_no_hugepages(hsz, len, 1);
				rc = -ENOMEM;
			} else {
				if (!g_pg.fallback_logged)
					log_no_hugepages(hsz, len, 0);
				g_pg.fallback_logged = 1;
				rc = map_pages(heap_idx, socket, len, iova_contig, SMALL_PAGE, 0,
					       va, mapped_len);
			}
		}
	}
	if (rc == -HUGE_SHORT) /* cannot happen for 4 KiB pages; be safe */
		rc = -ENOMEM;
	pthread_mutex_unlock(&g_pg.lock);
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
	pthread_mutex_lock(&g_pg.lock);
	struct plist *pl = NULL;
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS && !pl; i++) {
		struct plist *c = &g_pg.lists[i];
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
	pthread_mutex_unlock(&g_pg.lock);
	dk__mem_event_fire(DK_MEM_EVENT_FREE, va, len);
	dk__mem_xev_publish(DK_MEM_EVENT_FREE, va, len);
	pthread_mutex_lock(&g_pg.lock);
	/* IOVAs go first: no lookup may hand out the IOVA of a freed page. */
	dk__memseg_set_iova(dk__memseg_list_at((unsigned int)pl->ml_idx), first, n, NULL);
	unback(pl, first, n);
	bits_set(pl->bitmap, first, n, 0);
	pl->n_mapped -= n;
	__atomic_store_n(&g_pg.mapped, g_pg.mapped - len, __ATOMIC_RELAXED);
	rc = 0;
out:
	pthread_mutex_unlock(&g_pg.lock);
	return rc;
}

size_t dk__mem_pages_size(int socket)
{
	(void)socket;
	pthread_mutex_lock(&g_pg.lock);
	size_t sz = 0;
	if (g_pg.ready) {
		if (g_pg.cfg.huge == DK__HUGE_NEVER)
			sz = SMALL_PAGE;
		else if (g_pg.cfg.huge == DK__HUGE_ALWAYS ||
			 huge_available(g_pg.cfg.huge_page_sz) > 0)
			sz = g_pg.cfg.huge_page_sz;
		else
			sz = SMALL_PAGE;
	}
	pthread_mutex_unlock(&g_pg.lock);
	return sz;
}

uint64_t dk__mem_pages_mapped(void)
{
	return __atomic_load_n(&g_pg.mapped, __ATOMIC_RELAXED);
}

void dk__mem_pages_cleanup(void)
{
	pthread_mutex_lock(&g_pg.lock);
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct plist *pl = &g_pg.lists[i];
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
			left -= q - p;
			p = q;
		}
		plist_free(pl);
	}
	g_pg.mapped = 0;
	g_pg.ready = 0;
	dk__memseg_set_iova_mode(DK_IOVA_MODE_VA);
	pthread_mutex_unlock(&g_pg.lock);
}

int dk__mem_pages_attach_all(void);

static void sync_hook(void)
{
	dk__mem_pages_attach_all();
}

void dk__mem_pages_bind(struct dk__pages_shared *ps, void *bm_arena, size_t bm_area, int init)
{
	loc_init();
	if (!ps)
		ps = &g_local;
	if (init && ps != &g_local) {
		memset(ps, 0, sizeof(*ps));
		dk__mutex_init_pshared(&ps->lock);
	}
	g_ps = ps;
	dk__memseg_set_sync_hook(ps == &g_local ? NULL : sync_hook);
	g_bm_arena = ps == &g_local ? NULL : bm_arena;
	g_bm_area = ps == &g_local ? 0 : bm_area;
}

int dk__mem_pages_attach_all(void)
{
	int rc = 0;
	pthread_mutex_lock(&g_pg.lock);
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++) {
		struct plist *pl = &g_pg.lists[i];
		if (!pl->in_use || g_loc[i].mapped)
			continue;
		int r = plist_attach(pl);
		if (r < 0 && rc == 0)
			rc = r;
	}
	pthread_mutex_unlock(&g_pg.lock);
	return rc;
}

void dk__mem_pages_detach(void)
{
	pthread_mutex_lock(&g_pg.lock);
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		if (g_loc[i].mapped || g_loc[i].fd >= 0)
			plist_unmap_local(&g_pg.lists[i]);
	pthread_mutex_unlock(&g_pg.lock);
}
