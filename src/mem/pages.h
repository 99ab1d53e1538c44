/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal page backing for the heaps: VA reservations per (socket, page
 * size), pages mapped into them on demand from a backing memfd (4 KiB pages,
 * or MFD_HUGETLB with 2 MiB / 1 GiB pages), their IOVAs set (VA mode: the VA;
 * PA mode: /proc/self/pagemap, once per page), published in the memseg list
 * and announced with an ALLOC event; unmapped again with a FREE event first.
 *
 * Configuration comes from dk__mem_pages_init (dk_init): huge policy, IOVA
 * mode, memory limit.
 *
 * Thread-safety: map/unmap serialise on an internal mutex and take the layout
 * lock for writing around layout changes; events are fired after the lock is
 * released. The mutex is robust and process-shared: its owner writes an
 * intent record (a list being made, pages being mapped until the caller has
 * them, pages being unmapped) that the next owner uses to repair the lists
 * when the previous one died (pages.c: pages_repair).
 */
#ifndef DK_MEM_PAGES_H
#define DK_MEM_PAGES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <dmakit/memory.h>

#include "core/pshared.h"
#include "mem/iova_alloc.h"
#include "mem/memseg.h"

/*
 * Internal memory is placed from DK__VA_HINT up (32 TiB): below the usual
 * mmap area (near 128 TiB) and above the program and its brk heap, so a
 * secondary, whose libraries land elsewhere, finds the same range free. The
 * shared config (mem_config.h) takes the first DK__VA_HINT_CFG bytes.
 */
#if defined(__SANITIZE_THREAD__)
#define DK__VA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DK__VA_TSAN 1
#endif
#endif
#ifdef DK__VA_TSAN
/* ThreadSanitizer keeps its shadow at 32 TiB and aborts on mappings outside
 * its application ranges: use the bottom of its high application range
 * (from 0x7e8000000000), which lies more than the kernel's 1 TiB of mmap
 * randomisation below the usual mmap area. */
#define DK__VA_HINT     ((uintptr_t)0x7e9000000000)
#define DK__VA_HINT_END ((uintptr_t)0x7ee000000000)
#define DK__VA_HINT_CFG ((uintptr_t)128 << 30)
#else
#define DK__VA_HINT     ((uintptr_t)0x200000000000)
#define DK__VA_HINT_END ((uintptr_t)0x600000000000)
#define DK__VA_HINT_CFG ((uintptr_t)1 << 40)
#endif

enum dk__huge_policy { DK__HUGE_AUTO = 0, DK__HUGE_NEVER = 1, DK__HUGE_ALWAYS = 2 };

struct dk__pages_config {
	enum dk__huge_policy huge;
	size_t huge_page_sz;       /* 0: the system default hugepage size */
	enum dk_iova_mode iova_mode; /* VA, PA or REMAP (AUTO resolved by the caller) */
	uint64_t mem_limit;        /* bytes of internal pages at most; 0 unlimited */
	uint64_t va_per_list;      /* VA reserved per internal list; 0: 64 GiB */
	/* IOVA mode remap: the usable IOVA ranges and the highest IOVA devices
	 * can reach (0: no limit but the ranges). */
	unsigned int n_iova_ranges;
	struct dk__iova_span iova_ranges[32];
	uint64_t iova_limit;
};

/*
 * State shared by the processes of an instance: part of the memory layer's
 * shared state (dk__mem_sh->pages, mem_config.h). A list's backing memfd is
 * opened by other processes through /proc/<pid>/fd/<fd> of a process that
 * holds it (holders), checked by device and inode.
 */
#define DK__PAGES_HOLDERS 8
struct dk__pages_list {
	int in_use;
	int ml_idx; /* memseg list index, -1 none */
	uintptr_t base;
	size_t len;
	int heap_idx;
	int socket;
	size_t page_sz;
	int huge;
	unsigned int n_pages;
	unsigned int n_mapped;
	uint64_t *bitmap; /* 1 = mapped (shared area or calloc) */
	uint64_t dev, ino;
	uint64_t iova_base; /* remap mode: the IOVA of base */
	int iova_held;      /* iova_base came from the IOVA allocator */
	struct {
		int pid;
		int fd;
	} holders[DK__PAGES_HOLDERS];
};

struct dk__pages_shared {
	pthread_mutex_t lock; /* robust, process-shared when bound */
	struct dk__intent intent; /* what the lock's owner is changing (pages.c) */
	int ready;
	struct dk__pages_config cfg; /* huge_page_sz and va_per_list resolved */
	uint64_t mapped;
	uint64_t next_va; /* where the next list's reservation is tried (0: the hint) */
	struct dk__iova_alloc iova; /* remap mode: the IOVA space left */
	int fallback_logged;
	struct dk__pages_list lists[DK__MAX_MEMSEG_LISTS];
};

/* Initialise page-list state for the shared config file (process-shared
 * lock, not ready). */
void dk__mem_pages_shared_init(struct dk__pages_shared *ps);
/* Map and publish, in this process, every internal list not attached here.
 * 0 or the first error (-EADDRINUSE VA taken, -ENOENT backing gone; logged). */
int dk__mem_pages_attach_all(void);
/* A secondary's cleanup: unmap and unpublish everything in this process
 * only; the shared state is left as it is. */
void dk__mem_pages_detach(void);

/*
 * Apply the configuration. -EINVAL bad values (huge_page_sz other than 0,
 * 2 MiB, 1 GiB; va_per_list not a multiple of 1 GiB); -ENOTSUP PA mode
 * without access to physical addresses (message: run as root, or use va);
 * -EBUSY set up already (cleanup first). Sets what dk_iova_mode() reports;
 * cleanup puts it back to VA.
 */
int dk__mem_pages_init(const struct dk__pages_config *cfg);
/* Fire FREE for every mapped run, unmap everything, destroy the lists. */
void dk__mem_pages_cleanup(void);

/*
 * Map at least len bytes (rounded up to the page size) of new pages for heap
 * heap_idx on socket (a NUMA node; -1 = any), contiguous in VA. Fires ALLOC.
 * With iova_contig, the pages' IOVAs are contiguous too (always true in VA
 * mode; in PA mode retried/failed: -ENOMEM).
 * Returns 0 and *va, *mapped_len; -ENOMEM (limit reached, no hugepages under
 * DK__HUGE_ALWAYS, VA reservation full), -EINVAL.
 */
int dk__mem_pages_map(int heap_idx, int socket, size_t len, int iova_contig, void **va,
		      size_t *mapped_len);
/* Fire FREE, then unmap [va, va+len) (exactly a range map returned, or whole
 * pages inside one): the IOVAs are cleared first, then the pages go back to
 * the system (the range stays mapped, with no memory behind it). -EINVAL.
 * Map and unmap fire their events with neither the pages mutex nor the
 * layout lock held (the caller's heap lock may be held): callbacks must not
 * map or unmap pages. */
int dk__mem_pages_unmap(void *va, size_t len);
/* A VA range. */
struct dk__va_span {
	uintptr_t start;
	size_t len;
};

/*
 * The mapped pages of heap heap_idx's lists against keep[0..n) (that heap's
 * regions, sorted by start, each whole pages of one list): *outside gets the
 * bytes mapped outside keep, *missing the bytes of keep not mapped (either
 * may be NULL). With release, the pages outside keep are unmapped (FREE
 * fired; nobody else owns them: the caller holds the heap's lock, under
 * which every growth and give-back of that heap happens). 0 or -ENOMEM.
 */
int dk__mem_pages_heap_diff(int heap_idx, const struct dk__va_span *keep, unsigned int n,
			    int release, uint64_t *outside, uint64_t *missing);

/* Page size the next map for this socket will use (AUTO: the hugepage size
 * while free hugepages exist); 0 before dk__mem_pages_init. */
size_t dk__mem_pages_size(int socket);
/* Bytes of internal pages mapped now. */
uint64_t dk__mem_pages_mapped(void);

/*
 * IOVA mode remap: take len bytes (a multiple of 4 KiB) of IOVA space,
 * aligned to align (a power of two), from the space internal lists get
 * theirs from, so the two never collide; give them back with
 * dk__mem_pages_iova_give. For memory the layer does not map itself (a
 * device mapping of memory without IOVAs). Process-shared with the
 * instance. 0 with *iova, or -EINVAL (len 0, align not a power of two, a
 * give of space not taken), -ENOTSUP (IOVA mode is not remap, or not set
 * up), -ENOSPC (no room; logged).
 */
int dk__mem_pages_iova_take(uint64_t len, uint64_t align, uint64_t *iova);
int dk__mem_pages_iova_give(uint64_t iova, uint64_t len);

#endif
