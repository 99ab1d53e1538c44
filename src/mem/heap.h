/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Heaps shared by malloc.c (allocation API, internal heaps, thread caches),
 * heap_ext.c (external heaps) and memzone.c.
 *
 * The heap table is one struct (struct dk__heap_table), part of the memory
 * layer's shared state (mem_config.h) so that primary and secondary
 * processes share it; heap locks are process-shared mutexes for the same
 * reason. Only malloc.c touches the table itself; the others use the
 * functions below.
 *
 * Lock order: heap table lock -> one heap's lock -> layout lock (memseg.h).
 * Memory events are fired with a heap lock held (growth happens under it):
 * event callbacks must not allocate from dmakit heaps (memory.h says so).
 */
#ifndef DK_MEM_HEAP_H
#define DK_MEM_HEAP_H

#include <pthread.h>

#include <dmakit/malloc.h>

#include "core/pshared.h"
#include "mem/slab.h"
#include "mem/tlsf.h"

struct dk__heap {
	int in_use;
	int external;
	int socket_id;
	char name[DK_HEAP_NAME_MAX];
	pthread_mutex_t lock;     /* robust, process-shared when bound */
	struct dk__intent intent; /* what the lock's owner is changing (malloc.c) */
	int fenced;               /* a dead owner's change could not be repaired */
	struct dk__tlsf tlsf;
	struct dk__slab slab;  /* internal heaps: runs of small blocks for the thread caches */
	unsigned int n_chunks; /* external: chunks added */
	/* Give-back hysteresis (malloc.c): when the heap grows again soon after
	 * giving memory back, it keeps hold_bytes of regions until hold_until_ns. */
	uint64_t giveback_ns;   /* CLOCK_MONOTONIC of the last give-back, 0: none */
	uint64_t hold_until_ns;
	uint64_t hold_bytes;
};

/* Bytes and blocks handed out (the TLSF books count a run of small blocks
 * as one live block; its blocks not handed out are free memory). Saturated
 * at 0: dk_heap_stats_peek reads a copy taken without the lock. */
static inline uint64_t dk__heap_alloc_bytes(const struct dk__heap *h)
{
	uint64_t used = h->tlsf.used_bytes, spare = h->slab.free_bytes;
	return used > spare ? used - spare : 0;
}

static inline uint64_t dk__heap_alloc_count(const struct dk__heap *h)
{
	uint64_t used = h->tlsf.used_count, runs = h->slab.runs;
	return (used > runs ? used - runs : 0) + h->slab.live;
}

/*
 * Thread caches of a bound instance live in slots of the shared config
 * (dk__mem_sh->tc_arena), owned by a pid (tc_owner: 0 free, -pid being
 * reclaimed by pid), so that the blocks a dead process cached go back to their
 * heaps (dk__heap_reap_dead). Without free slots, or unbound, a cache is
 * process-private.
 */
#define DK__TC_SLOTS 256
#define DK__TC_SLOT_BYTES ((uint64_t)16 << 10)

struct dk__heap_table {
	int32_t tc_owner[DK__TC_SLOTS];
	pthread_mutex_t lock; /* create/destroy and name lookups */
	int next_ext_socket;  /* starts at DK_EXTERNAL_SOCKET_BASE, never reused */
	int n_internal;       /* internal heaps are indexes 0..n_internal-1, socket = index */
	struct dk__heap heaps[DK_MAX_HEAPS];
};

/* Set up internal heaps for n_nodes NUMA nodes in the heap table of the
 * memory layer's shared state (dk__mem_sh->heaps, mem_config.h). 0 or
 * -ENOMEM/-EINVAL. */
int dk__heap_init(int n_nodes);
/* Drop the books of every heap (the primary or a single process). */
void dk__heap_cleanup(void);
/* A secondary stops using the primary's table: the blocks in this
 * process's thread-cache slots go back to their heaps and the slots are
 * freed (no other thread may use the heaps meanwhile); a private cache of
 * another thread is dropped the next time that thread uses it. */
void dk__heap_detach(void);

/* Heap index for a socket id (node or external), -ENOENT. */
int dk__heap_by_socket(int socket);
/* Heap index for a name; -EINVAL bad name (message), -ENOENT unknown. */
int dk__heap_by_name(const char *name, const char *what);

/* The heap at index idx (an index dk__heap_by_socket/by_name returned). */
struct dk__heap *dk__heap_at(int idx);
/* A new external heap: 0; -EEXIST a heap of that name exists, -ENOSPC all
 * slots taken (both logged), -errno of the lock set-up. Takes the table
 * lock. */
int dk__heap_ext_new(const char *name);
/* Free external heap idx (named name, for messages) unless it holds chunks
 * or allocations: 0, -EBUSY (logged). Takes the table lock, then the
 * heap's. */
int dk__heap_ext_free(int idx, const char *name);

/*
 * Lock heap h (an in-use slot). 0: locked. -ENOTRECOVERABLE: the heap is
 * fenced (a process died while changing it and its books failed the
 * consistency check); not locked; logged with what to do. When the previous
 * owner died, the heap is repaired first: its TLSF and small-block books are
 * checked (fenced when they fail), and pages of an internal heap that no
 * region covers (a growth or give-back cut short) go back to the system.
 * dk__heap_unlock releases it.
 */
int dk__heap_lock(struct dk__heap *h);
void dk__heap_unlock(struct dk__heap *h);

/*
 * Consistency check of heap idx (debugging, the kill tests): takes its lock,
 * checks the TLSF and small-block books, and for an internal heap that
 * every mapped page of its lists lies in one of its regions and the other
 * way round. 0; -EFAULT inconsistent (logged, naming what); -ENOTRECOVERABLE
 * fenced; -ENOENT no such heap.
 */
int dk__heap_check(int idx);

/*
 * Give the blocks cached by processes that are gone back to their heaps and
 * free their thread-cache slots (any process may call it; a slot is reaped
 * once). Returns the number of slots reaped. Takes heap locks; nowait: never
 * waits for a lock (a slot whose heap is busy is finished by a later call),
 * for the event thread, whose acknowledgements a publisher holding a heap
 * lock waits for.
 */
int dk__heap_reap_dead(int nowait);

/*
 * For a caller that keeps a block's address in shared memory (memzone.c):
 * dk__malloc_to allocates like dk_malloc_flags (no bound), from the heap
 * itself, never a thread cache, and stores the block in *dst before the
 * heap lock is released; dk__free_from frees the block *src names (none:
 * nothing to do) and clears *src under the heap lock (what: the caller,
 * for the message on a pointer that is no block). A process that dies
 * inside either leaves the heap and *dst / *src agreeing, once the heap's
 * lock is repaired: the block is freed and the pointer cleared, or the
 * pointer holds the block; never lost, never freed twice. So a repair
 * finishes a free cut short by calling dk__free_from again. dst / src must
 * lie at the same address in every process (the shared config).
 * dk__malloc_to: the block, or NULL + errno as dk_malloc_flags.
 * Thread-safe; takes the heap lock (after the caller's: memzone table lock
 * -> heap lock).
 */
void *dk__malloc_to(void **dst, size_t size, unsigned int align, int socket, unsigned int flags);
void dk__free_from(void **src, const char *what);

/* Drop the calling thread's cached blocks (all heaps). */
void dk__heap_thread_flush(void);

#endif
