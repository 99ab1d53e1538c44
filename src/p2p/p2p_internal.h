/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * P2P layer internals shared by its files and the composition root.
 */
#ifndef DK_P2P_INTERNAL_H
#define DK_P2P_INTERNAL_H

#include <stdint.h>

#include <dmakit/p2p.h>

/*
 * dk_cleanup (after the drivers are removed, before the buses free their
 * devices): drop every provider. One with allocations outstanding is
 * fenced (its mappings replaced by PROT_NONE reservations that stay) and
 * reported; see dmakit/p2p.h. Also forgets the kernel p2pmem allocations'
 * bookkeeping (their mappings stay: the application owns them).
 */
void dk__p2p_cleanup(void);

/* Forget the bookkeeping of dk_p2p_kernel_alloc (p2p_kernel.c; called by
 * dk__p2p_cleanup). */
void dk__p2p_kernel_forget(void);

/* Number of dmakit providers; fills out (up to max) with their DMAKIT
 * entries whose device is in the current scan. (p2p_provider.c) */
int dk__p2p_list_own(struct dk_p2p_info *out, unsigned int max);

/* Call fn(name, arg) for each published provider of this process, under
 * the providers' list lock (fn must not call back into the provider
 * functions). (p2p_provider.c) */
void dk__p2p_each_published(void (*fn)(const char *name, void *arg), void *arg);
/* 1 when name is a published provider, 0 when an unpublished one, -ENOENT
 * when no provider. (p2p_provider.c) */
int dk__p2p_published(const char *name);

/*
 * Make a resource's CPU mapping [va, va + size) known memory with IOVAs
 * (dk_extmem_register), so the DMA domains map it into every VFIO
 * container through the memory events and dk_mem_virt2iova answers for
 * it: the IOVAs are picked as dk_dev_dma_map_auto does (mode va: the VA,
 * remap: taken from the heaps' IOVA space) or, in mode pa, the bus
 * address bus. Turns memory decode on first when dev is open through
 * VFIO. 0 and *iova (of va), or a negative errno (logged; nothing left
 * registered or taken). (p2p_dma.c)
 */
int dk__p2p_dma_register(struct dk_pci_device *dev, void *va, uint64_t size, uint64_t bus,
			 uint64_t *iova);
/* Undo dk__p2p_dma_register (FREE fires: the domains unmap it). */
void dk__p2p_dma_unregister(void *va, uint64_t size, uint64_t iova);

/* The provider of this process whose resource holds addr: its name and the
 * bus address of addr. 0, or -ENOENT (no resource holds it; not logged).
 * (p2p_provider.c) */
int dk__p2p_lookup(const void *addr, char *name, size_t name_len, uint64_t *bus);

struct dk__p2p_memo; /* p2p/p2p_topo.h */

/* dk_p2p_distance_many without the argument checks (the caller made them:
 * provider and every client PCI functions of the last scan): every pair
 * cached is a lookup, all under one lock; the missing ones are computed
 * sharing memo (NULL: one for this call). (p2p_dist.c) */
int dk__p2p_distance_sum(const struct dk_pci_device *provider,
			 const struct dk_pci_device *const *clients, size_t n, bool verbose,
			 struct dk__p2p_memo *memo);

/* dk_cleanup: free the distance cache. (p2p_dist.c) */
void dk__p2p_dist_forget(void);

/* The system page size (a power of two). */
uint64_t dk__p2p_page(void);

#endif
