/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Translation maps, the library's side (the contract is in dmakit/dma.h).
 */
#ifndef DK_DMA_TMAP_H
#define DK_DMA_TMAP_H

#include <stdint.h>

#include <dmakit/dma.h>

/*
 * The first page address in [a, end) whose value is not the default, or
 * end. Windows without a table are skipped whole, so a scan over empty
 * address space costs one load per 1 GiB. a and end page aligned. No lock:
 * callers serialise with the writers of the map themselves.
 */
uintptr_t dk__tmap_next_set(const struct dk_tmap *m, uintptr_t a, uintptr_t end);

/*
 * dk_tmap_set with a value growing page by page: the k-th page of
 * [va, va+len) gets value + k * step (wrapping modulo 2^64), so a page's
 * value can carry what differs per page (the MR cache packs the page's IOVA
 * into it). Arguments, errors and visibility as dk_tmap_set.
 */
int dk__tmap_set_step(struct dk_tmap *m, const void *va, size_t len, uint64_t value,
		      uint64_t step);

/* dk_cleanup: stop delivering memory events to maps still following
 * memory (each is warned about) and drop the event callback. */
void dk__tmap_cleanup(void);

#endif
