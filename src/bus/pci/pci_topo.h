/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI topology generation: a counter that changes whenever what the
 * library knows of the devices may have changed: a scan (new device list,
 * every pointer invalid), dk_pci_device_refresh (capabilities re-read) and
 * every config write through dk_pci_config_write (ACS control, bus numbers).
 * Layers above (src/p2p) keep results computed from the topology and compare
 * the generation they were computed at; the PCI bus calls nobody up.
 *
 * Never 0 (a cache may use 0 for "empty"). Writes by other processes (setpci)
 * are not seen: dk_pci_device_refresh after them.
 * Thread-safety: lock-free (atomic); any thread.
 */
#ifndef DK_PCI_TOPO_H
#define DK_PCI_TOPO_H

#include <stdint.h>

/* The current generation. */
uint64_t dk__pci_topo_gen(void);
/* Start a new generation (pci_scan.c, pci_config.c). */
void dk__pci_topo_bump(void);

#endif
