/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory events across the processes of an instance. Internal pages are
 * shared: when one process maps or unmaps pages of a heap, every process's
 * event callbacks must hear it (a VFIO container of the primary must map
 * the pages a secondary just added before a block of them is handed out).
 *
 * A ring in the shared config (struct dk__xev) carries {seq, type, va, len,
 * origin pid}. Each process of an instance registers a listener slot and
 * runs one service thread that waits on a futex in the ring, delivers new
 * entries of other processes to its local callbacks (dk__mem_event_fire)
 * and acknowledges them. The publisher appends and waits until every other
 * live listener has acknowledged (5 s at most, then a warning naming the
 * process): ALLOC returns only when the other processes' callbacks ran,
 * FREE before the pages go.
 *
 * Before delivering an ALLOC, the service thread attaches the page lists
 * this process lacks: every listening process (the primary first) holds a
 * new list's backing file before the publisher goes on, so the list
 * outlives its creator. A listener that died is skipped (its slot freed) as
 * soon as a publisher sees it dead. Once a second the service thread also
 * gives the thread caches of dead processes back to their heaps
 * (dk__heap_reap_dead, heap.h).
 *
 * Publishers must not hold locks a listener's callbacks need: the page-list
 * lock is released before publishing (pages.c). Callbacks of events from
 * other processes run on the service thread ("dmakit-mem-ev"). The ring's
 * lock is robust: nothing is half-published when its owner dies (an entry
 * counts once head moves past it).
 */
#ifndef DK_MEM_MEM_XEV_H
#define DK_MEM_MEM_XEV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <dmakit/memory.h>

#define DK__XEV_RING 64
#define DK__XEV_PROCS 64

struct dk__xev_entry {
	uint64_t seq; /* 0: never written */
	uint32_t type;
	int32_t origin; /* pid of the publisher */
	uint64_t va, len;
};

struct dk__xev {
	uint32_t wake;        /* futex: bumped on every append */
	uint32_t ackwake;     /* futex: bumped on every acknowledgement */
	pthread_mutex_t lock; /* appends (process-shared) */
	uint64_t head;        /* next sequence number (from 1) */
	struct dk__xev_entry ring[DK__XEV_RING];
	struct {
		int32_t pid; /* 0: free slot */
		uint32_t pad;
		uint64_t acked; /* last sequence number delivered */
	} procs[DK__XEV_PROCS];
};

/* Initialise a ring for the shared config file (the primary). The ring in
 * use is dk__mem_sh->xev while the memory layer is bound to a config file
 * (mem_config.h); otherwise events stay in the process. */
void dk__mem_xev_init(struct dk__xev *x);
/* Take a listener slot and start the service thread. 0, or -ENOSPC (all
 * slots taken: warning, this process hears only its own events), -errno. */
int dk__mem_xev_start(void);
/* Stop the service thread and give the slot back. */
void dk__mem_xev_stop(void);
/* Hand an event of this process to the others and wait for them (see top).
 * A no-op when not bound or alone. */
void dk__mem_xev_publish(enum dk_mem_event ev, const void *va, size_t len);

#endif
