/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device-memory layer's bring-up and tear-down, for dk_init (the IOVA
 * plan is a step of its own: src/dma/dma_plan.h).
 *
 * dk__dma_init: from now on every VFIO container that gets an IOMMU gets a
 * DMA domain (src/dma/dma_domain.h). Call before anything opens a group.
 * dk__dma_cleanup: domains dropped, translation maps stop following memory
 * (src/dma/tmap.h). Call before the memory layer detaches.
 */
#ifndef DK_DMA_DMA_LAYER_H
#define DK_DMA_DMA_LAYER_H

void dk__dma_init(void);
void dk__dma_cleanup(void);

#endif
