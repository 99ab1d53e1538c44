/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bring-up and tear-down of the memory layer, for the library's init.
 * dk__mem_init applies the memory options of dk_init_params (already merged
 * with the DMAKIT_* environment) and creates the internal heaps;
 * dk__mem_cleanup undoes all of it.
 */
#ifndef DK_MEM_MEM_INIT_H
#define DK_MEM_MEM_INIT_H

#include <dmakit/init.h>

int dk__mem_init(const struct dk_init_params *p);
void dk__mem_cleanup(void);

#include <pthread.h>

#include <dmakit/memzone.h>

/* The memzone table (part of the memory layer's shared state, mem_config.h). */
struct dk__memzone_table {
	pthread_mutex_t lock;
	unsigned int n;
	struct dk_memzone zones[DK_MAX_MEMZONES];
	unsigned char used[DK_MAX_MEMZONES];
};

/* Pieces (each file's own cleanup). */
void dk__memzone_cleanup(void);
/* Initialise a table for the shared config file (process-shared lock). */
void dk__memzone_table_init(struct dk__memzone_table *t);

#endif
