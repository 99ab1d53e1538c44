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

#endif
