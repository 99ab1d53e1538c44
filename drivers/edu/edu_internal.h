/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the edu driver library (not exported): the engine of one edu device,
 * shared by the PCI driver (edu.c) and the class drivers (edu_class.c).
 */
#ifndef DK_EDU_EDU_INTERNAL_H
#define DK_EDU_EDU_INTERNAL_H

#include <dmakit/edu.h>

/*
 * Take the engine of dev, which is open through VFIO already: check the ID
 * register, turn bus mastering on, enable MSI (or poll). 0 and *out;
 * -ENOMEM, -EIO (wrong ID), the MMIO and config-space errors.
 */
int dk__edu_attach(struct dk_pci_device *dev, struct dk_edu **out);
/* Disable MSI and free the engine (the device stays open). */
void dk__edu_detach(struct dk_edu *e);

#endif
