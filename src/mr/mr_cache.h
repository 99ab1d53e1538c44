/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MR cache, the library's side (the contract is in dmakit/mr.h).
 */
#ifndef DK_MR_MR_CACHE_H
#define DK_MR_MR_CACHE_H

#include <dmakit/mr.h>

/* Handle a memory event for [va, va+len) as the cache's map delivers it
 * (drop or shrink the registrations there, bump the generation, dereg
 * after the lock). For tests: a heap shrinking part of a run. */
void dk__mr_cache_event(struct dk_mr_cache *c, enum dk_mem_event ev, const void *va, size_t len);

struct dk__mr_mp;

/* The registration covering a (a miss registers its run first), as a miss
 * of a queue would: 0 with *e, or the lookup's errors. For the primary's
 * server (mr_mp.c). */
int dk__mr_cache_find(struct dk_mr_cache *c, uintptr_t a, struct dk__mr_entry *e);
/* Tie m to c (mr_mp.c): shared_gen NULL for a cache the primary shares
 * (its invalidations then call dk__mr_mp_bump(m)); else c becomes an
 * attached cache whose queues watch *shared_gen and whose misses go to
 * dk__mr_mp_ask(m). 0, -EALREADY (c has one already). */
int dk__mr_cache_set_mp(struct dk_mr_cache *c, struct dk__mr_mp *m, const uint64_t *shared_gen);
/* Lookups of unknown memory fail every time but are logged at most once a
 * second per cache (a program retrying in a loop must not flood the log):
 * 1 when the caller logs now, with *quiet = the ones left out since the
 * last message; 0 otherwise. Miss lock held. */
int dk__mr_unknown_log_now(struct dk_mr_cache *c, uint64_t *quiet);
/* What dk__mr_cache_set_mp tied to c, or NULL. */
struct dk__mr_mp *dk__mr_cache_mp(struct dk_mr_cache *c);

#endif
