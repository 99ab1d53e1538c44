/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memseg lists: the memory layout (see include/dmakit/memory.h).
 *
 * A list is one VA range [base, base+len) of pages of 2^page_shift bytes,
 * with per-page IOVAs (or one delta when the whole list is IOVA-contiguous:
 * iova = va + delta). Internal lists are VA reservations for a heap whose
 * pages are mapped on demand (pages not mapped have DK_BAD_IOVA); external
 * lists are memory the application brought.
 *
 * Lists live in a fixed table (DK__MAX_MEMSEG_LISTS) inside struct
 * dk__mem_layout, part of the memory layer's shared state (dk__mem_sh,
 * mem_config.h): process-private without dk_init or in memory, else in the
 * shared config file, mapped at the same VA in every process of an
 * instance. Per-page IOVA tables then live in the config file too, at a
 * fixed area per list slot (dk__mem_sh->iova_arena).
 *
 * Publication for dk_mem_virt2iova: each list owns a struct dk__iova_slot;
 * every 1 GiB window of the VA range points to it in dk__iova_l1, or to a
 * shared marker slot when two lists share a window (then the slow path
 * searches the table). Slots are written before they are published with a
 * release store, and cleared before a list goes away.
 *
 * Locking: one lock (the layout lock): a robust process-shared mutex, since
 * a shared rwlock cannot be robust; the "read" and "write" calls below take
 * the same mutex, and a thread may take it again while it holds it (a walk
 * callback that looks an address up). Create/destroy/set_iova take it as
 * writers; walks and slow lookups as readers; dk_mem_virt2iova takes none.
 * A process that finds its owner dead recounts the lists and bumps the
 * generation (memseg.c).
 */
#ifndef DK_MEM_MEMSEG_H
#define DK_MEM_MEMSEG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <dmakit/memory.h>

#define DK__MAX_MEMSEG_LISTS 256

struct dk__memseg_list {
	int in_use;
	uintptr_t base;
	size_t len;
	uint32_t page_shift;
	int socket_id;
	uint32_t flags;       /* DK_MEMSEG_* */
	int heap_idx;         /* owning heap, -1 for none */
	unsigned int n_pages; /* len >> page_shift */
	dk_iova_t *iova;      /* n_pages entries, or NULL: contiguous, iova = va + delta */
	int64_t delta;
	uint64_t serial;      /* unique per creation (the layout generation then);
				 "attached" is process-local (dk__memseg_list_attached) */
	/* Entries of iova[] that hold a value (the rest are not set up yet and
	 * read as DK_BAD_IOVA): large per-page tables without a given table (a
	 * 64 GiB reservation of 4 KiB pages needs 128 MiB) are filled in 1 GiB
	 * steps of VA as dk__memseg_set_iova reaches them, and slot.end covers
	 * only that part (the rest of the list takes the slow path). */
	unsigned int iova_init;
	/* Contiguous lists: the IOVA of base, a one-entry table for the slot
	 * (slot.iova = &base_iova, slot.page_shift = 47, so the inline lookup
	 * takes the same branch for every list: no misprediction when lookups
	 * alternate between table and delta lists). */
	dk_iova_t base_iova;
	struct dk__iova_slot slot;
};

struct dk__mem_layout {
	pthread_mutex_t lock; /* robust, process-shared when bound to the config file */
	enum dk_iova_mode iova_mode; /* AUTO (0, a zeroed layout) reads as VA */
	unsigned int n_lists;
	uint64_t generation; /* bumped by every create and destroy */
	struct dk__memseg_list lists[DK__MAX_MEMSEG_LISTS];
};

/* Initialise a layout for the shared config file (process-shared lock, no
 * lists, IOVA mode VA). */
void dk__memseg_layout_init(struct dk__mem_layout *ml);
/* Is l published in this process? */
int dk__memseg_list_attached(const struct dk__memseg_list *l);
/* Index of l in the table, and the list at an index (in use or not). */
unsigned int dk__memseg_list_index(const struct dk__memseg_list *l);
struct dk__memseg_list *dk__memseg_list_at(unsigned int i);
/* The layout generation (acquire). */
uint64_t dk__memseg_generation(void);
/* This process's publication epoch: changes whenever a list is published
 * here or dropped here. Generation and epoch unchanged: every
 * dk__memseg_list_attached() answer is unchanged. */
uint64_t dk__memseg_pub_epoch(void);
/*
 * Multi-process: hook called (without the layout lock) when a lookup misses
 * and the generation changed since the last sync: it attaches lists other
 * processes created (pages.c: internal lists). dk__memseg_sync runs the
 * drop of stale publications (lists destroyed elsewhere) and the hook, when
 * the generation moved. Returns 1 when it did something.
 */
void dk__memseg_set_sync_hook(int (*fn)(void));
int dk__memseg_sync(void);

/* What a new list is. */
struct dk__memseg_spec {
	uintptr_t base;
	size_t len;
	size_t page_sz;
	int socket_id;
	uint32_t flags;         /* DK_MEMSEG_* */
	int heap_idx;           /* owning heap, -1 for none */
	const dk_iova_t *iova;  /* len / page_sz entries (copied), or NULL: */
	int iova_contig;        /*   1: iova = va + delta; 0: every page DK_BAD_IOVA */
	int64_t delta;
};

/*
 * Create the list s describes and publish it; *out (may be NULL) is the
 * list. -EINVAL bad geometry (base/len not page aligned, len 0, page size
 * not a power of two in [4096, 1 GiB], more than UINT_MAX pages, the range
 * ends above 2^47 where dk_mem_virt2iova cannot reach), -EEXIST overlaps a
 * list (attached here or not; the message names it), -ENOSPC table full,
 * -ENOMEM. Every error is logged.
 */
int dk__memseg_list_create(const struct dk__memseg_spec *s, struct dk__memseg_list **out);
/* Unpublish and free a list. The caller has fired FREE already. */
void dk__memseg_list_destroy(struct dk__memseg_list *l);
/* Publish / unpublish in this process only (multi-process attach/detach).
 * attach: 0, -EEXIST already attached. Both take the layout lock. */
int dk__memseg_list_attach(struct dk__memseg_list *l);
void dk__memseg_list_detach(struct dk__memseg_list *l);

/* The list containing va (attached in this process), or NULL. O(1) common case. */
struct dk__memseg_list *dk__memseg_list_find(const void *va);

/* The shared slot of the radix (a window that several lists touch): its
 * lookups go to dk__memseg_list_find. */
extern const struct dk__iova_slot dk__memseg_shared_slot;

/* dk__memseg_list_find, its common case inline (the window's one list
 * holds va: two loads of the radix and the list's range). */
static inline struct dk__memseg_list *dk__memseg_list_find_inline(const void *va)
{
	uintptr_t a = (uintptr_t)va;
	const struct dk__iova_slot *s = dk__va_radix_slot(dk__iova_l1, a);
	if (__builtin_expect(s != NULL && s != &dk__memseg_shared_slot, 1)) {
		struct dk__memseg_list *l = (struct dk__memseg_list *)((uintptr_t)s -
			offsetof(struct dk__memseg_list, slot));
		if (__builtin_expect(a - l->base < l->len && a >= l->base, 1))
			return l;
	}
	return dk__memseg_list_find(va);
}
/* The list with exactly this range (attached or not), or NULL. */
struct dk__memseg_list *dk__memseg_list_find_exact(uintptr_t base, size_t len);

/* Set the IOVA of pages [first, first+n) (internal lists, after mapping them);
 * iova NULL means DK_BAD_IOVA. Needs the list to have a per-page table.
 * Takes the layout lock for writing itself.
 *
 * In a list without DK_MEMSEG_EXTERNAL a page whose IOVA is DK_BAD_IOVA is
 * not mapped: walks skip it and dk_mem_virt2memseg() does not know it. */
void dk__memseg_set_iova(struct dk__memseg_list *l, unsigned int first, unsigned int n,
			 const dk_iova_t *iova);

/* Layout lock. */
void dk__mem_layout_rdlock(void);
void dk__mem_layout_rdunlock(void);
void dk__mem_layout_wrlock(void);
void dk__mem_layout_wrunlock(void);

/* Set by dk__mem_pages_init (and back to VA by its cleanup): what
 * dk_iova_mode() reports. */
void dk__memseg_set_iova_mode(enum dk_iova_mode mode);

/* Drop every list (dk_cleanup). No events are fired. */
void dk__memseg_cleanup(void);
/* Unpublish every list in this process only (a secondary's dk_cleanup). */
void dk__memseg_detach_all(void);

#endif
