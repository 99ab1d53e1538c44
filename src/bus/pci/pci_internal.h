/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI bus internals shared by the files of src/bus/pci and, later, by the
 * VFIO layer (which keeps its per-device state here). Drivers never see it.
 */
#ifndef DK_PCI_INTERNAL_H
#define DK_PCI_INTERNAL_H

#include <dmakit/pci.h>
#include "core/sysfs.h"

struct dk__pci_dev;

/* How config space is reached: sysfs "config" today, the VFIO config region
 * for devices opened through VFIO (and for mdevs, which have no sysfs config). */
struct dk__pci_config_ops {
	const char *name;
	int (*read)(struct dk__pci_dev *d, void *buf, size_t len, size_t off);
	int (*write)(struct dk__pci_dev *d, const void *buf, size_t len, size_t off);
};

struct dk__pci_dev {
	struct dk_pci_device pub; /* first: the public view */
	char name[40];            /* storage for pub.device.name */
	/* sysfs directory relative to the root ("bus/pci/devices/0000:03:00.0"),
	 * "" when the device has none (mdev). */
	char sysfs_rel[64];
	/* resolved location under devices/, for topology ("devices/pci0000:00/..."). */
	char *devpath;
	const struct dk__pci_config_ops *cfg_ops;
	void *cfg_ctx;
	struct dk_pci_driver *driver; /* dmakit driver probed on it */
	void *vfio;                   /* reserved for the VFIO layer */
};

static inline struct dk__pci_dev *dk__pci_dev(const struct dk_pci_device *d)
{
	return (struct dk__pci_dev *)(void *)(uintptr_t)d;
}

extern const struct dk__pci_config_ops dk__pci_config_sysfs_ops;

/* Scan state (pci_scan.c). */
int dk__pci_scan(void);
void dk__pci_free_all(void);
unsigned int dk__pci_ndev(void);
struct dk__pci_dev *dk__pci_dev_at(unsigned int i);

/* Read config (through cfg_ops) and parse capabilities into pub.caps. */
int dk__pci_read_caps(struct dk__pci_dev *d);

/* Driver list (pci_driver.c). */
void dk__pci_remove_all(void);

/* The PCI bus object (pci_bus.c), registered by the library's init. */
extern struct dk_bus dk__pci_bus;

#endif
