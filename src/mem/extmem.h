/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External memseg lists, shared by extmem.c (dk_extmem_*, memory that is in
 * no heap) and heap_ext.c (dk_heap_memory_*, chunks of external heaps).
 *
 * Neither function takes a heap lock; both fire memory events with no layout
 * lock held (the caller may hold its own locks: callbacks do not allocate).
 */
#ifndef DK_MEM_EXTMEM_H
#define DK_MEM_EXTMEM_H

#include <stddef.h>
#include <stdint.h>

#include <dmakit/memory.h>

#include "mem/memseg.h"

/*
 * Validate external memory arguments (dk_extmem_register rules): va not
 * NULL, len not 0, page_sz a power of two from 4096 to 1 GiB, va and len
 * multiples of page_sz, the range below 2^47, and with a table
 * n_pages == len / page_sz (without a table n_pages is ignored).
 * 0, or -EINVAL with a message that starts with `what` and names the fix.
 */
int dk__extmem_check_args(const char *what, void *va, size_t len, const dk_iova_t *iova,
			  unsigned int n_pages, size_t page_sz);

/*
 * Create and publish an external list for checked arguments, then fire
 * ALLOC. A table whose pages are IOVA-contiguous (page i at iova[0] + i *
 * page_sz) is stored as a delta; other tables are copied; no table means
 * DK_BAD_IOVA for every page. flags should include DK_MEMSEG_EXTERNAL.
 * 0 and *out; -EEXIST overlaps known memory (message names the range it
 * overlaps), -ENOSPC no list slot left, -ENOMEM, -EINVAL bad geometry.
 */
int dk__extmem_add_list(void *va, size_t len, const dk_iova_t *iova, unsigned int n_pages,
			size_t page_sz, int socket_id, uint32_t flags, int heap_idx,
			struct dk__memseg_list **out);

/* Fire FREE for the list's range (when attached in this process), then
 * destroy it. 0. */
int dk__extmem_remove_list(struct dk__memseg_list *l);

#endif
