/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bring-up and tear-down of the memory layer, in the steps dk_init takes:
 *
 *   dk__mem_options  parameters + DMAKIT_* environment -> options (pure but
 *                    for getenv; -EINVAL with a message on a bad value)
 *   dk__mem_attach   the instance: process-private (in memory), a new primary,
 *                    or a secondary bound to the primary's shared layout
 *   dk__mem_start    primary only: page backing with the IOVA plan, internal
 *                    heaps (one per NUMA node); then secondaries may attach
 *   dk__mem_stop     undoes start (a secondary only flushes its caches)
 *   dk__mem_detach   undoes attach
 *
 * The memory layer never asks the layers above it: the IOVA plan comes from
 * the device-memory layer through dk_init (src/init.c).
 */
#ifndef DK_MEM_MEM_INIT_H
#define DK_MEM_MEM_INIT_H

#include <stddef.h>
#include <stdint.h>

#include <dmakit/memory.h>

#include "mem/iova_alloc.h"

/* The memory fields of dk_init_params (0 / NULL: unset, the environment or
 * the default applies). */
struct dk__mem_params {
	int huge;              /* DK_HUGE_* */
	size_t huge_page_size; /* 0, 2 MiB or 1 GiB */
	int iova_mode;         /* enum dk_iova_mode */
	int proc_type;         /* DK_PROC_* */
	int in_memory;         /* DK_INIT_IN_MEMORY */
	const char *prefix;
	const char *runtime_dir;
	uint64_t mem_limit;
};

struct dk__mem_options {
	int huge;                      /* DK_HUGE_* */
	size_t huge_page_size;         /* 0: the system's default */
	enum dk_iova_mode iova_request; /* may be AUTO: the plan resolves it */
	int proc_type;                 /* DK_PROC_* (AUTO: decided by attach) */
	int in_memory;
	const char *prefix;            /* NULL: DMAKIT_PREFIX or the default */
	const char *runtime_dir;       /* NULL: DMAKIT_RUNTIME_DIR or the default */
	uint64_t mem_limit;            /* 0: none */
};

#define DK__IOVA_PLAN_MAX_RANGES 32

/* How IOVAs are given to memory (made by src/dma/dma_plan.c for a primary). */
struct dk__mem_iova_plan {
	enum dk_iova_mode mode; /* va, pa or remap: never auto */
	unsigned int n_ranges;  /* remap: the IOMMU's usable IOVA ranges */
	struct dk__iova_span ranges[DK__IOVA_PLAN_MAX_RANGES];
	uint64_t limit;         /* highest IOVA devices reach; UINT64_MAX: none */
};

int dk__mem_options(const struct dk__mem_params *p, struct dk__mem_options *o);
/* 0: this process sets up the memory (in memory, or the primary): call
 * dk__mem_start next. 1: a secondary, bound to the primary's layout (start
 * is not needed). Errors: those of dk__mem_mp_setup (mem_config.h). */
int dk__mem_attach(const struct dk__mem_options *o);
/* 0, -ENOTSUP (pa without physical addresses), -ENOMEM, errors of the page
 * backing; each logged. Undo with dk__mem_stop. */
int dk__mem_start(const struct dk__mem_options *o, const struct dk__mem_iova_plan *plan);
void dk__mem_stop(void);
void dk__mem_detach(void);

#include <pthread.h>

#include "core/pshared.h"

#include <dmakit/memzone.h>

/* The memzone table (part of the memory layer's shared state, mem_config.h). */
struct dk__memzone_table {
	pthread_mutex_t lock;     /* robust, process-shared when bound */
	struct dk__intent intent; /* what the lock's owner is changing (memzone.c) */
	unsigned int n;
	struct dk_memzone zones[DK_MAX_MEMZONES];
	unsigned char used[DK_MAX_MEMZONES];
};

/* Pieces (each file's own cleanup). */
void dk__memzone_cleanup(void);
/* Initialise a table for the shared config file (process-shared lock). */
void dk__memzone_table_init(struct dk__memzone_table *t);

#endif
