/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VA radix behind dk_mem_virt2iova, for every user of it: the memseg
 * lists (one radix per process, dk__iova_l1) and the translation maps of
 * the device-memory layer (one radix per map).
 *
 * A radix is an array of DK__VA_RADIX_WINDOWS slot pointers, one per 1 GiB
 * window of VA below 2^47; readers use dk__va_radix_slot (dmakit/memory.h)
 * and take no lock. A slot covers [base, end) with a table of one entry per
 * page of 2^page_shift bytes. Writers serialise among themselves (each user
 * has its lock) and publish with dk__va_radix_store; a slot and its table
 * must stay readable as long as a reader may still hold the pointer.
 *
 * Tables and radix arrays are anonymous NORESERVE mappings, zero-filled:
 * pages never written cost nothing.
 */
#ifndef DK_MEM_VA_RADIX_H
#define DK_MEM_VA_RADIX_H

#include <stddef.h>

#include <dmakit/memory.h>

#define DK__VA_RADIX_WINDOWS ((size_t)1 << DK__IOVA_L1_BITS)
#define DK__VA_WINDOW_SIZE ((uintptr_t)1 << DK__IOVA_L1_SHIFT)
#define DK__VA_LIMIT ((uintptr_t)1 << (DK__IOVA_L1_SHIFT + DK__IOVA_L1_BITS))

/* A zeroed radix (every window empty), or NULL with errno ENOMEM. */
const struct dk__iova_slot *volatile *dk__va_radix_new(void);
void dk__va_radix_free(const struct dk__iova_slot *volatile *l1);
/* Publish s (or NULL) for window w (release). */
void dk__va_radix_store(const struct dk__iova_slot *volatile *l1, size_t w,
			const struct dk__iova_slot *s);

/* A zeroed table of at least bytes (rounded up to 4 KiB), or NULL with
 * errno ENOMEM; freed with the same byte count. */
void *dk__va_table_new(size_t bytes);
void dk__va_table_free(void *t, size_t bytes);

#endif
