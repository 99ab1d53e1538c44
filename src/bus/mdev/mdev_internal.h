/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mdev bus internals shared by the files of src/bus/mdev and the
 * composition root (src/init.c registers the bus and the vfio-pci driver).
 */
#ifndef DK_MDEV_INTERNAL_H
#define DK_MDEV_INTERNAL_H

#include <dmakit/mdev.h>

/* The mdev bus object (mdev_bus.c), registered by dk_init after the PCI bus. */
extern struct dk_bus dk__mdev_bus;

/* The driver for device_api "vfio-pci" (mdev_vfio_pci.c), registered by dk_init. */
extern struct dk_mdev_driver dk__mdev_vfio_pci_driver;

/* ---- scan state (mdev_scan.c) ---- */

/*
 * Read parents, types and instances again and merge the instances into the
 * list: gone ones are unplugged (mdev_bus.c's dk__mdev_unplug) and freed,
 * new ones appended (unprobed), kept ones updated. Returns the instance
 * count or -ENOMEM (nothing changed).
 */
int dk__mdev_scan(void);
/* Unplug and free every instance, free parents and types. */
void dk__mdev_free_all(void);

/* ---- bus (mdev_bus.c) ---- */

/* Probe one instance (policy, then the first driver for its device_api). 0,
 * -EALREADY, -EPERM (deny/allow list), -ENODEV (no driver took it), or the
 * driver's error. */
int dk__mdev_plug(struct dk_mdev_device *dev);
/* Remove its driver. 0, -ENODEV (none), or the driver's remove error. */
int dk__mdev_unplug(struct dk_mdev_device *dev);
/* 1 after the bus was probed (dk_init's probe step) until cleanup. */
int dk__mdev_bus_probed(void);

/* ---- lifecycle (mdev.c) ---- */

/*
 * The errno and message for a write to a type's create file that failed
 * with err (a negative errno), after the checks the library makes itself
 * (parent, type, UUID form) passed. Logs what to do; returns the mapped
 * negative errno (see dk_mdev_create in dmakit/mdev.h).
 */
int dk__mdev_create_error(int err, const char *parent, const char *type, const char *uuid);
/* Same for a write of 1 to an instance's remove file (see dk_mdev_remove). */
int dk__mdev_remove_error(int err, const char *uuid);

#endif
