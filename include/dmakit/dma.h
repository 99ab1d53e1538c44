/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/dma.h - device memory: making memory reachable by devices.
 *
 * The device-memory layer sits above the memory layout (dmakit/memory.h),
 * VFIO (dmakit/vfio.h) and the buses. It owns:
 *   - the IOVA plan that dk_init hands to the memory layer (va, pa or remap,
 *     from what the IOMMU reaches and the drivers' DMA masks);
 *   - one DMA domain per VFIO container: every piece of memory with an IOVA
 *     is mapped into every container, following memory events;
 *   - dk_dev_dma_map / dk_dev_dma_unmap for memory outside the heaps;
 *   - translation maps: sparse VA -> value maps with lookups that take no
 *     lock, optionally fed by memory events. The DMA domains keep their
 *     mappings in one; the MR caches and P2P windows use the same primitive.
 */
#ifndef DMAKIT_DMA_H
#define DMAKIT_DMA_H

#include <dmakit/common.h>
#include <dmakit/memory.h>

DK_BEGIN_DECLS

/* ---- DMA mapping of application memory for one device ------------------- */

struct dk_device;

/*
 * Heap memory (internal heaps, and external heaps or dk_extmem_register
 * memory added with IOVA tables) is mapped into every container by the
 * library, through memory events: nothing to do. dk_dev_dma_map is for
 * other memory a device must reach (registered external memory without
 * IOVAs, a buffer of the application's own): map [va, va+len) at iova in the
 * container of dev (a PCI device open through VFIO). 0, or:
 *   -EINVAL  NULL dev or va, len 0, va/iova/len not multiples of the IOMMU
 *            page size, wrapping
 *   -ENODEV  dev is not open through VFIO (dk_pci_vfio_open, or a driver
 *            with DK_PCI_DRV_NEED_VFIO)
 *   -EEXIST  overlaps (in VA or IOVA) a mapping of the container: heap
 *            memory is mapped already; unmap the other mapping first
 *   -ERANGE  [iova, iova+len) is outside the IOMMU's usable IOVA ranges
 *   -ENOSPC  the kernel's limit of DMA mappings is reached
 *   -ENXIO   the container has no IOMMU yet (no group attached)
 *   -ENOMEM, -EFAULT and the ioctl's errno as dk_vfio_dma_map
 * Every error is logged with the fix; nothing stays half-mapped.
 * Thread-safe.
 */
DK_EXPORT int dk_dev_dma_map(struct dk_device *dev, void *va, uint64_t iova, size_t len);
/* Undo a dk_dev_dma_map with the same arguments. 0, -EINVAL, -ENODEV, -ENOENT. */
DK_EXPORT int dk_dev_dma_unmap(struct dk_device *dev, void *va, uint64_t iova, size_t len);

/*
 * dk_dev_dma_map at an IOVA dmakit picks, *iova out: the VA itself in IOVA
 * mode va; in mode remap, IOVA space taken from the space the heaps get
 * theirs from (inside the IOMMU's usable ranges, below the DMA limit, never
 * colliding with heap memory), which dk_dev_dma_unmap_auto gives back. The
 * same argument rules and errors as dk_dev_dma_map, and:
 *   -EINVAL  NULL iova
 *   -ENOTSUP IOVA mode pa (a VA could collide with a physical address used
 *            as IOVA: register the memory with its IOVAs instead)
 *   -ENOSPC  mode remap: no IOVA space left (logged)
 * Thread-safe.
 */
DK_EXPORT int dk_dev_dma_map_auto(struct dk_device *dev, void *va, size_t len, uint64_t *iova);
/* Undo a dk_dev_dma_map_auto with its arguments and IOVA. 0, -EINVAL,
 * -ENODEV, -ENOENT (nothing given back then). */
DK_EXPORT int dk_dev_dma_unmap_auto(struct dk_device *dev, void *va, uint64_t iova, size_t len);

/*
 * Whether dev's container maps [va, va+len) (len 0 counts as 1) now, by one
 * mapping (heap memory, registered memory with IOVAs, P2P resources,
 * dk_dev_dma_map buffers): 0 and *iova (of va), or:
 *   -EINVAL  NULL iova, or the errors of dk_dev_dma_map for dev
 *   -ENODEV  dev is not open through VFIO
 *   -ENXIO   the container has no IOMMU yet
 *   -ENOENT  not mapped there (for memory with IOVAs: its mapping failed,
 *            and the message of that failure says why)
 * Not logged: a query. Thread-safe; a lookup, no system call.
 */
DK_EXPORT int dk_dev_dma_iova(struct dk_device *dev, const void *va, size_t len,
			      uint64_t *iova);

/* ---- translation maps ---------------------------------------------------- */

/*
 * A translation map holds one 64-bit value per page of virtual address
 * space (pages of 2^page_shift bytes, 4 KiB to 1 GiB), for user addresses
 * below 2^47. Pages never set read as the map's default value.
 *
 * Cost: the radix behind dk_mem_virt2iova (1 GiB windows of VA); a window
 * gets a table of 8 bytes per page the first time one of its pages is set
 * (2 MiB of reserved address space for 4 KiB pages; only the parts written
 * take memory). Tables live until the map is destroyed, so a lookup racing
 * with a clear reads the old value or the default, never freed memory.
 *
 * Following memory: a map created with a notify function sees the memory
 * layout through it. At creation, notify(ALLOC) runs for every
 * IOVA-contiguous run of memory dmakit knows; afterwards for every memory
 * event (dmakit/memory.h), in the order they happen. Calls for all maps are
 * serialised (one at a time, in map creation order) and run in the thread
 * that changed the memory, so notify must not allocate from dmakit heaps,
 * add or remove memory, or create or destroy maps; it may set and clear
 * values of any map. A notify that fails during creation makes the creation
 * fail: the runs already notified get notify(FREE) in reverse order first.
 * What notify returns for later events is ignored (it logs its own errors).
 *
 * Thread-safety: dk_tmap_get takes no lock and may run concurrently with
 * anything but the destruction of its map. dk_tmap_set and dk_tmap_clear
 * of one map are serialised by the map's lock; their results become
 * visible to lookups page by page. A value is stored with release and
 * read with acquire semantics (plain moves on x86): a value that points to
 * data written before the set may be followed by the reader.
 */
struct dk_tmap;

typedef int (*dk_tmap_notify_fn)(void *ctx, struct dk_tmap *map, enum dk_mem_event ev,
				 void *va, size_t len);

/*
 * Create a map. page_shift 12..30; default_value is what unset pages read
 * as; notify NULL: a map that only its owner fills. NULL with errno:
 *   EINVAL   page_shift out of range
 *   ENOMEM   no memory for the map
 *   ENOSPC   no memory-event callback slot left (maps that follow memory
 *            share one)
 *   the first error notify returned during creation (as a positive errno)
 */
DK_EXPORT struct dk_tmap *dk_tmap_create(unsigned int page_shift, uint64_t default_value,
					 dk_tmap_notify_fn notify, void *ctx);
/* Stop following memory (no notify after this returns) and free the map.
 * NULL is ignored. Lookups must be over. */
DK_EXPORT void dk_tmap_destroy(struct dk_tmap *map);

/*
 * Give every page of [va, va+len) the value. va and len must be multiples
 * of the map's page size. 0, or -EINVAL (NULL map, len 0, misaligned,
 * beyond 2^47, wrapping), -ENOMEM (no table for a window; pages before the
 * failing window keep the new value).
 */
DK_EXPORT int dk_tmap_set(struct dk_tmap *map, const void *va, size_t len, uint64_t value);
/* Give every page of [va, va+len) the default value again. 0, -EINVAL. */
DK_EXPORT int dk_tmap_clear(struct dk_tmap *map, const void *va, size_t len);
/* The map's page shift (0 for NULL). */
DK_EXPORT unsigned int dk_tmap_page_shift(const struct dk_tmap *map);

/*
 * The value of the page holding va, or the default. Inline, O(1): two
 * dependent loads and a compare, no lock (the radix of dk_mem_virt2iova).
 */
static inline uint64_t dk_tmap_get(const struct dk_tmap *map, const void *va);

/* ---- inline fast path (layout below is not API) ------------------------- */

struct dk__tmap_head {
	/* Radix over VA bits 46..30; a window's slot covers the whole window
	 * and its table holds value ^ dflt per page (zero-filled = default). */
	const struct dk__iova_slot *volatile *l1;
	uint64_t dflt;
};

/* The word holding the value of va's page (value ^ default; read it with
 * acquire), or NULL when no page of its window was ever set (the value is
 * the default). The word stays valid until the map is destroyed, and the
 * words of one 1 GiB window (2^DK__IOVA_L1_SHIFT bytes) are consecutive, in
 * page order: for a caller that reads a value twice, or keeps a window's
 * words to skip the radix. */
static inline const uint64_t *dk__tmap_word(const struct dk_tmap *map, const void *va)
{
	const struct dk__tmap_head *h = (const struct dk__tmap_head *)(const void *)map;
	uintptr_t a = (uintptr_t)va;
	const struct dk__iova_slot *s = dk__va_radix_slot(h->l1, a);
	return s ? &s->iova[(a - s->base) >> s->page_shift] : NULL;
}

static inline uint64_t dk_tmap_get(const struct dk_tmap *map, const void *va)
{
	const struct dk__tmap_head *h = (const struct dk__tmap_head *)(const void *)map;
	const uint64_t *w = dk__tmap_word(map, va);
	return w ? __atomic_load_n(w, __ATOMIC_ACQUIRE) ^ h->dflt : h->dflt;
}

DK_END_DECLS

#endif
