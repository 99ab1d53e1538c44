/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/p2p.h - peer-to-peer DMA through PCI BAR memory.
 *
 * A provider is a PCI function that lends memory on one of its BARs (an
 * NVMe controller memory buffer, an accelerator's buffer) to other devices,
 * its clients. Providers add resources (BAR ranges) to a page-granular pool
 * and publish it; a consumer that drives several clients asks which
 * published provider all of them reach best (dk_p2p_find_many), allocates
 * from it and hands the bus addresses (or, under an IOMMU, the IOVAs the
 * clients' containers map) to its devices.
 *
 * Reachability follows Linux's p2pdma rules, so dmakit and the kernel give
 * the same answers on the same topology: traffic between two functions
 * stays below their closest common upstream bridge unless a bridge on
 * either path redirects peer-to-peer requests or completions upstream (ACS
 * control bits RR, CR or EC), or the two have no common bridge at all; then
 * it goes through the host bridge, which only some root complexes route
 * (AMD CPUs of family 0x17 and later, and a list of host bridges).
 *
 * Layer: src/p2p (above dma, bus/pci, vfio, mem; see src/LAYERS).
 * Thread-safety: like the PCI device list: not concurrent with dk_pci_scan
 * or dk_cleanup; the functions below are safe to call from several threads
 * unless their comment says otherwise.
 */
#ifndef DMAKIT_P2P_H
#define DMAKIT_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dmakit/common.h>
#include <dmakit/pci.h>

DK_BEGIN_DECLS

/* ==== distance and map type ============================================== */

/* How a client reaches a provider's memory (the kernel's names). */
enum dk_p2p_map_type {
	DK_P2P_MAP_UNKNOWN = 0,
	DK_P2P_MAP_NOT_SUPPORTED,     /* not_supported */
	DK_P2P_MAP_BUS_ADDR,          /* bus_addr: below a common bridge, no redirect */
	DK_P2P_MAP_THRU_HOST_BRIDGE,  /* thru_host_bridge: routed by the root complex */
};


/* ==== providers, pool and allocation ===================================== */

/* ==== consumers: finding a provider, client sets ========================== */

DK_END_DECLS

#endif
