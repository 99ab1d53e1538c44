/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memory layer's shared config file: <runtime dir>/<prefix>/config.
 *
 * The primary creates it (sparse), maps it MAP_SHARED wherever the kernel
 * puts it and writes that address into the header; every secondary maps the
 * whole file at the same address (MAP_FIXED_NOREPLACE), so the raw pointers
 * inside (TLSF free lists, IOVA table pointers, memzone addresses) are valid
 * in every process. ready is set last (release) by the primary.
 *
 *   [0, sizeof(struct dk__mem_config))  header, then struct dk__mem_shared:
 *                                 layout, page lists, heap table, memzone
 *                                 table, event ring
 *   table_off + i * table_area   per-page IOVA table of memseg list slot i
 *   bitmap_off + i * bitmap_area page bitmap of internal page list i
 *   tc_off + i * DK__TC_SLOT_BYTES thread cache slot i (heap.h)
 *
 * The areas are sparse: only pages of tables in use take memory, and a
 * destroyed list's area is punched out (MADV_REMOVE).
 */
#ifndef DK_MEM_MEM_CONFIG_H
#define DK_MEM_MEM_CONFIG_H

#include <stdint.h>

#include "mem/heap.h"
#include "mem/mem_init.h"
#include "mem/mem_xev.h"
#include "mem/memseg.h"
#include "mem/pages.h"

#define DK__MEMCFG_MAGIC   0x4746434d454d4b44ull /* "DKMEMCFG" */
/* 6: slab runs tagged in their TLSF header (DK__TLSF_F_TAG), thread-cache
 * bins count their refills. 7: the slab has medium classes (runs of blocks
 * above 4 KiB up to 64 KiB: struct dk__slab grew). 8: 64 listener slots in
 * the event ring (16 before), a run being made named in the slab (pending). */
#define DK__MEMCFG_VERSION 8u
#define DK__MEMCFG_TABLE_AREA  ((uint64_t)256 << 20) /* 32 Mi IOVAs per list */
#define DK__MEMCFG_BITMAP_AREA ((uint64_t)4 << 20)   /* 32 Mi pages per list */

/*
 * The memory layer's process-shared state, defined once. Each part keeps its
 * lock inside it, next to the data it guards; the owning module (in
 * brackets) is the only one that touches a part.
 *
 * Reached through dk__mem_sh only. It points at the process-private default
 * until dk__mem_mp_setup binds the copy in the config file (primary and
 * secondaries), and back at the default after dk__mem_mp_teardown; in memory
 * (DK_INIT_IN_MEMORY) and without dk_init it stays on the default. Never
 * NULL. It changes only in dk__mem_mp_setup / teardown, while no other
 * thread uses the memory layer.
 */
struct dk__mem_shared {
	int bound; /* 1: the copy in the config file (shared by processes) */
	struct dk__mem_layout layout;      /* memseg lists, IOVA mode (memseg.c) */
	struct dk__pages_shared pages;     /* internal page lists (pages.c) */
	struct dk__heap_table heaps;       /* heaps (malloc.c; others via heap.h) */
	struct dk__memzone_table memzones; /* memzones (memzone.c) */
	struct dk__xev xev;                /* events between processes (mem_xev.c) */
	/* Per list slot areas of the config file (NULL / 0 in the default):
	 * per-page IOVA tables (memseg.c) and page bitmaps (pages.c). The file
	 * is mapped at the same VA in every process. */
	char *iova_arena;
	uint64_t iova_area;
	char *bm_arena;
	uint64_t bm_area;
	/* DK__TC_SLOTS thread caches of DK__TC_SLOT_BYTES (malloc.c; NULL in
	 * the default: caches are process-private then). */
	char *tc_arena;
};

extern struct dk__mem_shared *dk__mem_sh;

/*
 * Test-only stop points: when set, called with a name at points inside the
 * critical sections of the shared state, so that a test can stop (and kill)
 * a process there: "pages_map" (pages mutex held, pages backed and in the
 * bitmap, dk__mem_pages_map), "heap_grow" (heap lock held, pages mapped and
 * not yet in the heap, malloc.c), "layout_set_iova" / "layout_clear_iova"
 * (layout lock held, IOVAs of pages written, memseg.c), "memzone_reserve"
 * (memzone table lock held, the block allocated, the slot not yet in use).
 * NULL in production; never set by the library.
 */
extern void (*dk__mem_test_point)(const char *where);
#define DK__MEM_TEST_POINT(where)                                                  \
	do {                                                                       \
		if (__builtin_expect(dk__mem_test_point != NULL, 0))                \
			dk__mem_test_point(where);                                 \
	} while (0)

struct dk__mem_config {
	uint64_t magic;
	uint32_t version;
	uint32_t ready;       /* 1 once the primary finished its set-up */
	uint64_t size;        /* file size */
	uint64_t addr;        /* the mapping's VA in every process */
	int32_t primary_pid;
	uint32_t hdr_size;    /* sizeof(struct dk__mem_config) */
	char prefix[64];
	uint64_t table_off, table_area;
	uint64_t bitmap_off, bitmap_area;
	uint64_t tc_off; /* thread-cache slots */
	struct dk__mem_shared sh;
};

/*
 * Multi-process set-up (mem_mp.c), called by dk__mem_attach before the page
 * backing and the heaps (runtime_dir, prefix: NULL for the environment or the
 * default; proc: DK_PROC_*):
 *   in_memory (DK_INIT_IN_MEMORY / DMAKIT_IN_MEMORY=1): nothing shared, no
 *     runtime files; dk__mem_sh stays on the process-private default.
 *     Returns 0.
 *   otherwise the runtime directory is resolved and created, primary.lock is
 *   tried: proc auto becomes the primary when the lock is free and a
 *   secondary otherwise.
 *   primary: holds the lock, creates <dir>/config, initialises the shared
 *     state in it and points dk__mem_sh there. Returns 0; the caller then
 *     sets up pages and heaps and calls dk__mem_mp_ready().
 *   secondary: maps the primary's config at the same VA, points dk__mem_sh
 *     at its shared state and maps
 *     every internal page list. Returns 1 (the caller sets up nothing else).
 * Errors (each logged with the fix): -EBUSY primary requested while another
 * primary of the prefix runs, or while processes of an instance whose
 * primary died still live (named; they still use its memory); -ENOENT secondary without a running primary;
 * -EADDRINUSE the config's or a page list's VA range is taken here;
 * -EPROTO the config file is of another version or damaged; -EINVAL bad
 * prefix; -ENAMETOOLONG; -errno of file operations.
 */
int dk__mem_mp_setup(const char *runtime_dir, const char *prefix, int proc, int in_memory);
/* The primary finished its set-up: secondaries may attach. */
void dk__mem_mp_ready(void);
/* 1 in a secondary process (between setup and teardown). */
int dk__mem_mp_is_secondary(void);
/* <instance dir>/<name> into out while bound to a config file (primary or
 * secondary). 0, -ENOENT not bound (in memory, no dk_init), -ENAMETOOLONG. */
int dk__mem_mp_path(const char *name, char *out, size_t n);
/* Point dk__mem_sh back at the default and unmap; the primary removes the
 * config file and releases the lock. Called after the memory layer's own
 * cleanup (primary) or instead of it (secondary: every shared table is left
 * as it is). */
void dk__mem_mp_teardown(void);

#endif
