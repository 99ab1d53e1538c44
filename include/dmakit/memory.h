/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/memory.h - the memory layout: memseg lists, IOVA translation,
 * memory events, and registered (non-heap) external memory.
 *
 * Every piece of memory dmakit knows is in a memseg list: one VA range split
 * into pages of one size, each page with an IOVA (DK_BAD_IOVA when unknown).
 * Internal lists back the heaps (dmakit/malloc.h); external lists hold memory
 * the application brought (dk_heap_memory_add, dk_extmem_register).
 *
 * IOVA mode (dk_init_params.iova_mode / DMAKIT_IOVA_MODE):
 *   va   the IOVA of a page is its virtual address;
 *   pa   the physical address, looked up once per page in /proc/self/pagemap
 *        (needs CAP_SYS_ADMIN; never on a hot path);
 *   remap IOVAs handed out by dmakit inside the IOMMU's usable IOVA ranges
 *        and below the devices' DMA limit; each memseg list of internal
 *        memory gets one IOVA range, so its IOVAs stay contiguous;
 *   auto va when no device is bound to vfio-pci or when the IOMMU's usable
 *        ranges and the DMA limit cover every user VA; remap otherwise
 *        (e.g. an Intel IOMMU with a 39-bit address width).
 *
 * dk_mem_virt2iova() is O(1): a radix table indexed by VA bits 46..30 gives
 * the memseg list, whose page table (or IOVA delta, for IOVA-contiguous
 * lists) gives the IOVA. No syscall, no lock.
 *
 * Thread-safety: lookups may run concurrently with each other and with
 * additions of other memory; looking up memory while it is being removed is
 * the caller's race. Walks hold the layout lock (read side): their callbacks
 * must not add or remove memory.
 */
#ifndef DMAKIT_MEMORY_H
#define DMAKIT_MEMORY_H

#include <dmakit/common.h>

DK_BEGIN_DECLS

typedef uint64_t dk_iova_t;
#define DK_BAD_IOVA ((dk_iova_t)UINT64_MAX)

enum dk_iova_mode {
	DK_IOVA_MODE_AUTO = 0,
	DK_IOVA_MODE_VA = 1,
	DK_IOVA_MODE_PA = 2,
	DK_IOVA_MODE_REMAP = 3,
};

/* Page backing of the internal heaps (dk_init_params.huge, DMAKIT_HUGE). */
#define DK_HUGE_AUTO 0   /* hugepages when free ones exist, else 4 KiB pages */
#define DK_HUGE_NEVER 1  /* 4 KiB pages */
#define DK_HUGE_ALWAYS 2 /* hugepages or fail */

/* Processes sharing one layout (dk_init_params.proc_type, DMAKIT_PROC_TYPE,
 * dk_process_type()). */
#define DK_PROC_AUTO 0
#define DK_PROC_PRIMARY 1
#define DK_PROC_SECONDARY 2

/* The mode in force after dk_init (never AUTO then). */
DK_EXPORT enum dk_iova_mode dk_iova_mode(void);

/* dk_memseg.flags / dk_memseg_list_info.flags */
#define DK_MEMSEG_EXTERNAL (1u << 0) /* brought by the application */
#define DK_MEMSEG_HEAP (1u << 1)     /* allocatable through a heap */
#define DK_MEMSEG_HUGE (1u << 2)     /* hugepage-backed (internal lists) */

/* One page of a memseg list. */
struct dk_memseg {
	void *addr;      /* page start */
	dk_iova_t iova;  /* DK_BAD_IOVA when unknown */
	size_t len;      /* page size */
	int socket_id;   /* NUMA node, or the external heap's socket id (>= 256) */
	uint32_t flags;  /* DK_MEMSEG_* */
};

/*
 * The page containing va. 0, or -ENOENT when dmakit does not know va,
 * -EINVAL for a NULL argument.
 */
DK_EXPORT int dk_mem_virt2memseg(const void *va, struct dk_memseg *out);

/*
 * IOVA of va, or DK_BAD_IOVA (unknown memory, or a page without IOVA).
 * Defined inline below; O(1).
 */
static inline dk_iova_t dk_mem_virt2iova(const void *va);

/*
 * Walk every page (dk_memseg_walk) or every IOVA-contiguous run of pages in
 * VA order (dk_memseg_contig_walk: "chunk" = maximal run of pages adjacent in
 * VA and IOVA within one list). The callback returns 0 to go on, > 0 to stop
 * (the walk returns that value), < 0 to stop with that error.
 * Both return -EINVAL for a NULL fn. Pages without IOVA of external memory
 * are walked too (ms->iova DK_BAD_IOVA; the contig walk reports a run of
 * them as one chunk whose first->iova is DK_BAD_IOVA); pages of internal
 * lists that are not mapped are not part of the layout and are skipped.
 */
typedef int (*dk_memseg_walk_fn)(const struct dk_memseg *ms, void *arg);
typedef int (*dk_memseg_contig_fn)(const struct dk_memseg *first, size_t len, void *arg);
DK_EXPORT int dk_memseg_walk(dk_memseg_walk_fn fn, void *arg);
DK_EXPORT int dk_memseg_contig_walk(dk_memseg_contig_fn fn, void *arg);

/*
 * The IOVA-contiguous chunk containing va: *start, *len (and *iova of start).
 * 0, -ENOENT unknown va or a page without IOVA, -EINVAL NULL va (start,
 * len and iova may be NULL). For mapping memory into a device by whole
 * chunks, one mapping per chunk instead of per page (the VFIO container
 * mappings do; drivers may).
 */
DK_EXPORT int dk_mem_contig_chunk(const void *va, void **start, size_t *len, dk_iova_t *iova);

/* ---- memory events ------------------------------------------------------ */

enum dk_mem_event {
	DK_MEM_EVENT_ALLOC = 0, /* [va, va+len) is now in the layout, IOVA resolvable */
	DK_MEM_EVENT_FREE = 1,  /* [va, va+len) is about to leave the layout; its IOVA
				 * still resolves during the callback */
};

/*
 * Callbacks run in the thread that changed the layout, in registration
 * order, without the layout lock held (they may look up IOVAs and walk), one
 * call per contiguous VA range. They must not allocate from dmakit heaps.
 */
typedef void (*dk_mem_event_fn)(enum dk_mem_event ev, const void *va, size_t len, void *arg);

/*
 * Register a callback under a unique name (1..31 chars).
 * -EINVAL NULL/empty/too-long name or NULL fn; -EEXIST name taken;
 * -ENOSPC more than 64 callbacks.
 */
DK_EXPORT int dk_mem_event_callback_register(const char *name, dk_mem_event_fn fn, void *arg);
/* -ENOENT when no callback of that name (and arg) is registered. */
DK_EXPORT int dk_mem_event_callback_unregister(const char *name, void *arg);

/* ---- registered external memory (not allocatable) ----------------------- */

/*
 * Make [va, va+len) known to dmakit (IOVA lookups, DMA mapping through
 * events) without putting it in a heap. iova[] has n_pages entries (one per
 * page of page_sz), or is NULL (every page DK_BAD_IOVA). The memory is not
 * touched. Fires ALLOC.
 * Errors: -EINVAL NULL va, len 0, page_sz 0 or not a power of two, va or len
 * not page aligned, n_pages != len / page_sz with a table; -EEXIST overlaps
 * memory already known; -ENOSPC out of memseg list slots; -ENOMEM.
 */
DK_EXPORT int dk_extmem_register(void *va, size_t len, const dk_iova_t iova[],
				 unsigned int n_pages, size_t page_sz);
/* Remove exactly a registered range. Fires FREE. -EINVAL, -ENOENT. */
DK_EXPORT int dk_extmem_unregister(void *va, size_t len);
/* Multi-process: use / stop using in this process a range registered by
 * another one (mapped at the same VA here). -EINVAL, -ENOENT, -EEXIST
 * (already attached here). */
DK_EXPORT int dk_extmem_attach(void *va, size_t len);
DK_EXPORT int dk_extmem_detach(void *va, size_t len);

/* ---- inline fast path (layout below is not API) ------------------------- */

struct dk__iova_slot {
	uintptr_t base;        /* first VA covered by this entry */
	uintptr_t end;         /* one past the last VA; 0 for a shared (slow) slot */
	const dk_iova_t *iova; /* per page, or NULL: iova = va + delta */
	int64_t delta;
	uint32_t page_shift;
};

#define DK__IOVA_L1_SHIFT 30
#define DK__IOVA_L1_BITS 17 /* VA bits 46..30 */
DK_EXPORT extern const struct dk__iova_slot *volatile dk__iova_l1[1u << DK__IOVA_L1_BITS];
DK_EXPORT dk_iova_t dk__mem_virt2iova_slow(const void *va);

/*
 * The radix over VA bits 46..30 (1 GiB windows), shared by dk_mem_virt2iova
 * and the translation maps of dmakit/dma.h: the slot published for the
 * window holding a in l1, or NULL (none, or a at or above 2^47). Acquire
 * pairs with the release store that publishes a slot; the atomic loads are
 * plain moves on x86 and keep ThreadSanitizer exact.
 */
static inline const struct dk__iova_slot *
dk__va_radix_slot(const struct dk__iova_slot *const volatile *l1, uintptr_t a)
{
	if (a >> (DK__IOVA_L1_SHIFT + DK__IOVA_L1_BITS))
		return NULL;
	return __atomic_load_n(&l1[a >> DK__IOVA_L1_SHIFT], __ATOMIC_ACQUIRE);
}

static inline dk_iova_t dk_mem_virt2iova(const void *va)
{
	uintptr_t a = (uintptr_t)va;
	const struct dk__iova_slot *s = dk__va_radix_slot(dk__iova_l1, a);
	if (!s)
		return DK_BAD_IOVA;
	if (__builtin_expect(a < s->base || a >= __atomic_load_n(&s->end, __ATOMIC_ACQUIRE), 0))
		return dk__mem_virt2iova_slow(va);
	if (!s->iova)
		return (dk_iova_t)((int64_t)a + s->delta);
	uintptr_t off = a - s->base;
	dk_iova_t io = __atomic_load_n(&s->iova[off >> s->page_shift], __ATOMIC_RELAXED);
	if (io == DK_BAD_IOVA)
		return DK_BAD_IOVA;
	return io + (off & (((uintptr_t)1 << s->page_shift) - 1));
}

DK_END_DECLS

#endif
