/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Heaps shared by malloc.c (allocation API, internal heaps, thread caches),
 * heap_ext.c (external heaps) and memzone.c.
 *
 * The heap table is one struct (struct dk__heap_table) so that it can move
 * into memory shared by primary and secondary processes; heap locks are
 * process-shared mutexes for the same reason.
 *
 * Lock order: heap table lock -> one heap's lock -> layout lock (memseg.h).
 * Memory events are fired with a heap lock held (growth happens under it):
 * event callbacks must not allocate from dmakit heaps (memory.h says so).
 */
#ifndef DK_MEM_HEAP_H
#define DK_MEM_HEAP_H

#include <pthread.h>

#include <dmakit/malloc.h>

#include "mem/slab.h"
#include "mem/tlsf.h"

struct dk__heap {
	int in_use;
	int external;
	int socket_id;
	char name[DK_HEAP_NAME_MAX];
	pthread_mutex_t lock;
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

struct dk__heap_table {
	pthread_mutex_t lock; /* create/destroy and name lookups */
	int next_ext_socket;  /* starts at DK_EXTERNAL_SOCKET_BASE, never reused */
	int n_internal;       /* internal heaps are indexes 0..n_internal-1, socket = index */
	struct dk__heap heaps[DK_MAX_HEAPS];
};

extern struct dk__heap_table *dk__heaps;

/* Set up internal heaps for n_nodes NUMA nodes. 0 or -ENOMEM/-EINVAL. */
int dk__heap_init(int n_nodes);
void dk__heap_cleanup(void);
/* Build the table of the next dk__heap_init in t (NULL: process-private). */
void dk__heap_bind(struct dk__heap_table *t);
/* A secondary: use another process's live table t (NULL: detach). */
void dk__heap_attach(struct dk__heap_table *t);

/* Heap index for a socket id (node or external), -ENOENT. */
int dk__heap_by_socket(int socket);
/* Heap index for a name; -EINVAL bad name (message), -ENOENT unknown. */
int dk__heap_by_name(const char *name, const char *what);

/* Initialise one heap slot's lock and allocator. */
int dk__heap_slot_init(struct dk__heap *h, const char *name, int socket, int external);
void dk__heap_slot_fini(struct dk__heap *h);

/* Drop the calling thread's cached blocks (all heaps). */
void dk__heap_thread_flush(void);

#endif
