/* SPDX-License-Identifier: BSD-3-Clause */
/* The device-memory layer's bring-up and tear-down (contract: src/dma/dma_layer.h). */
#include "dma/dma_domain.h"
#include "dma/dma_layer.h"
#include "dma/tmap.h"

void dk__dma_init(void)
{
	dk__dma_domains_enable();
}

void dk__dma_cleanup(void)
{
	dk__dma_domains_disable();
	dk__tmap_cleanup();
}
