/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/malloc.h - DMA-capable heaps.
 *
 * Heaps are indexed by heap id and named. Internal heaps, one per NUMA node
 * ("socket_0", "socket_1", ...; socket id = node), grow on demand from
 * hugepages or 4 KiB pages (dk_init_params.huge) by at least 2 MiB at a time,
 * and give a wholly free region back when the heap keeps at least
 * max(64 MiB, its allocated bytes) free besides. External heaps ("dk_heap_create") hold only memory the application
 * adds; their socket ids start at 256, increase, and are never reused.
 *
 * Allocator: two-level segregated fit (TLSF): allocation and free are O(1),
 * no list walks; 16 bytes of metadata per live block. Each thread keeps a
 * cache of freed blocks of the default alignment per internal heap (the
 * first 8 heaps): blocks up to 4 KiB, up to 64 KiB per size class (32 to
 * 1024 blocks), refilled and drained by half of that per lock; blocks up to
 * 1 MiB, at most 32 MiB per thread over all their classes (a free may go
 * over that by one refill, at most 1 MiB). Blocks up to 64 KiB come from
 * runs of equal blocks (a TLSF block per run). So the common malloc/free
 * pair takes no lock. Statistics count a thread's cached blocks as
 * allocated, the blocks of a run not handed out to a thread as free.
 * dk_malloc uses the heap of the calling thread's NUMA node as sampled at
 * the thread's first allocation. Every heap has its own lock (process-
 * shared, for multi-process use).
 *
 * "type" arguments are a free-form tag for statistics and debugging (may be
 * NULL); "align" is 0 (16 bytes) or a power of two.
 *
 * Errors: pointer functions return NULL and set errno: EINVAL (bad align,
 * size 0, bad flags, unknown socket), ENOMEM (heap cannot grow: limit,
 * no pages), ENODEV (dk_init not called).
 * Thread-safety: every function may be called from any thread after dk_init.
 */
#ifndef DMAKIT_MALLOC_H
#define DMAKIT_MALLOC_H

#include <dmakit/common.h>
#include <dmakit/memory.h>

DK_BEGIN_DECLS

#define DK_SOCKET_ANY (-1)
#define DK_EXTERNAL_SOCKET_BASE 256
#define DK_HEAP_NAME_MAX 32 /* names are 1..31 characters */
#define DK_MAX_HEAPS 64     /* internal (one per NUMA node) + external (>= 32) */

/* Flags for the *_flags variants. */
#define DK_MALLOC_IOVA_CONTIG (1u << 0) /* the block's IOVA range is contiguous */

/* Allocate from the heap of the calling thread's NUMA node (then any internal heap). */
DK_EXPORT void *dk_malloc(const char *type, size_t size, unsigned int align);
DK_EXPORT void *dk_zmalloc(const char *type, size_t size, unsigned int align);
DK_EXPORT void *dk_calloc(const char *type, size_t num, size_t size, unsigned int align);
/*
 * Resize; in place when possible. NULL ptr: like dk_malloc; size 0: frees
 * and returns NULL. The block stays on its heap. On failure the old block
 * is untouched.
 */
DK_EXPORT void *dk_realloc(void *ptr, size_t size, unsigned int align);
/*
 * From one socket's heap: a NUMA node (internal heap), an external heap's
 * socket id (never falls back to another heap), or DK_SOCKET_ANY.
 */
DK_EXPORT void *dk_malloc_socket(const char *type, size_t size, unsigned int align, int socket);
DK_EXPORT void *dk_zmalloc_socket(const char *type, size_t size, unsigned int align, int socket);
/*
 * Full control: flags DK_MALLOC_IOVA_CONTIG; bound: 0 or a power of two the
 * block must not cross (e.g. 4096 for a descriptor ring that must stay in one
 * page).
 */
DK_EXPORT void *dk_malloc_flags(const char *type, size_t size, unsigned int align, size_t bound,
				int socket, unsigned int flags);
/* Free a block from any dmakit heap; NULL is a no-op. */
DK_EXPORT void dk_free(void *ptr);
/* IOVA of a heap block's first byte, DK_BAD_IOVA for NULL or unknown. */
DK_EXPORT dk_iova_t dk_malloc_virt2iova(const void *ptr);
/* Usable size of a heap block (>= the requested size). 0 for NULL. */
DK_EXPORT size_t dk_malloc_usable_size(const void *ptr);

struct dk_heap_stats {
	char name[DK_HEAP_NAME_MAX];
	int socket_id;
	uint64_t heap_bytes;    /* memory the heap holds (pages or added chunks) */
	uint64_t alloc_bytes;   /* in live blocks, metadata included */
	uint64_t free_bytes;    /* free, heap_bytes - alloc_bytes */
	uint64_t greatest_free; /* largest single free block */
	uint64_t alloc_count;   /* live blocks (thread caches count as live) */
};

/* Statistics of the heap of socket (internal node or external socket id). 0, -ENOENT. */
DK_EXPORT int dk_malloc_get_stats(int socket, struct dk_heap_stats *out);
/*
 * Statistics of every heap of a running primary process, for tools
 * (`dmakit heaps`): prefix and runtime_dir as in dk_init_params (NULL:
 * DMAKIT_PREFIX / DMAKIT_RUNTIME_DIR, then the defaults). Reads the
 * primary's shared config file without locking, mapping or changing anything,
 * so the primary is not disturbed and the figures may be a moment old;
 * greatest_free is a lower bound (the size class of the largest free block).
 * The caller need not call dk_init. Fills up to max entries of out in heap
 * order and returns how many heaps there are (may be more than max).
 * Errors: -EINVAL out NULL with max > 0, or a bad prefix; -ENOENT no primary
 * of that prefix runs; -EPROTO the config is of another dmakit version;
 * -EACCES / other -errno reading the file. All are logged with the fix.
 */
DK_EXPORT int dk_heap_stats_peek(const char *prefix, const char *runtime_dir,
				 struct dk_heap_stats *out, unsigned int max);
/*
 * The live processes of an instance (prefix, runtime_dir as above), read
 * like dk_heap_stats_peek from its config file, which outlives a primary
 * that died: the primary first when it is alive, then the other processes
 * that registered for memory events (every process of the instance, up to
 * 16). Fills up to max pids and returns how many there are; the caller's
 * own pid is left out. -ENOENT no instance of that prefix; -EPROTO another
 * dmakit version; -EINVAL; -errno reading the file. Logged with the fix.
 */
DK_EXPORT int dk_instance_procs_peek(const char *prefix, const char *runtime_dir, int *pids,
				     unsigned int max);
/* Return thread-cached blocks of the calling thread to their heaps. */
DK_EXPORT void dk_malloc_thread_flush(void);

/* ---- external heaps ---------------------------------------------------- */
/*
 * Names are 1..31 characters. Errors common to all: -EINVAL NULL, empty or
 * too-long name; -ENOENT unknown heap; -EPERM the name is an internal heap.
 */

/* New empty heap; -EEXIST name taken; -ENOSPC out of heap slots. */
DK_EXPORT int dk_heap_create(const char *name);
/* -EBUSY while it holds memory or allocations. */
DK_EXPORT int dk_heap_destroy(const char *name);
/*
 * Add [va, va+len) (page_sz pages; iova[] of n_pages, or NULL for
 * DK_BAD_IOVA everywhere) to the heap. The memory is zeroed (the allocator
 * then keeps its own headers in it: blocks handed out are not zeroed unless
 * allocated with dk_zmalloc_socket). Fires ALLOC.
 * -EINVAL NULL va, len 0, page_sz 0 or not a power of two, va or len not
 * page aligned, n_pages != len / page_sz with a table; -EEXIST overlaps
 * known memory; -ENOSPC out of memseg list slots.
 */
DK_EXPORT int dk_heap_memory_add(const char *name, void *va, size_t len, const dk_iova_t iova[],
				 unsigned int n_pages, size_t page_sz);
/* Remove exactly an added chunk. Fires FREE. -ENOENT no such chunk; -EBUSY allocations in it. */
DK_EXPORT int dk_heap_memory_remove(const char *name, void *va, size_t len);
/* Multi-process: use / stop using in this process a chunk added by another. */
DK_EXPORT int dk_heap_memory_attach(const char *name, void *va, size_t len);
DK_EXPORT int dk_heap_memory_detach(const char *name, void *va, size_t len);
/* Socket id of a heap (>= 0), or -EINVAL / -ENOENT. */
DK_EXPORT int dk_heap_get_socket(const char *name);
/* 1 external, 0 internal, -ENOENT no heap with that socket id. */
DK_EXPORT int dk_heap_socket_is_external(int socket);

DK_END_DECLS

#endif
