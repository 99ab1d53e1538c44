/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI bus internals shared by the files of src/bus/pci (the per-device VFIO
 * state included: pci_vfio.c keeps it here) and by the composition root
 * (src/init.c: the bus object, the DMA limit). Drivers never see it.
 */
#ifndef DK_PCI_INTERNAL_H
#define DK_PCI_INTERNAL_H

#include <dmakit/pci.h>
#include <dmakit/vfio.h>
#include "core/sysfs.h"

struct dk__pci_dev;
struct dk__pci_vfio;

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
	struct dk__pci_vfio *vfio;    /* VFIO state while open (pci_vfio.c), else NULL */
};

/* One region of a device opened through VFIO (pci_region.c). */
struct dk__pci_region {
	struct dk_pci_region pub;       /* areas points at map_areas */
	struct dk_pci_map_area *map_areas;
	void *map_base;                 /* the whole mapping or the reservation */
	size_t map_len;
};

/* VFIO state of an open device (pci_vfio.c). */
struct dk__pci_vfio {
	struct dk_vfio_device *vdev;
	int fd;                  /* the device fd */
	unsigned int opens;
	uint32_t open_flags;     /* DK_PCI_VFIO_* */
	int by_probe;            /* opened by dk_pci_probe_device: closed at remove */
	int force_rw;            /* tests: every MMIO through pread/pwrite */
	uint32_t nr_regions;
	struct dk__pci_region *regions;
	const struct dk__pci_config_ops *saved_cfg_ops;
	void *saved_cfg_ctx;
};

/*
 * Map region r described by ri (from VFIO_DEVICE_GET_REGION_INFO) of
 * device fd fd, the way pci.h describes (whole / reserved / split). An
 * mmap failure is a warning: the area stays unmapped (addr NULL) and MMIO
 * goes through pread/pwrite. -ENOMEM when the reservation or the area list
 * cannot be allocated (nothing left mapped).
 */
int dk__pci_region_map(struct dk__pci_region *r, const struct dk_vfio_region_info *ri, int fd,
		       int split, const char *devname);
void dk__pci_region_unmap(struct dk__pci_region *r);

/* The area of r holding [off, off + len) completely, or NULL. */
const struct dk_pci_map_area *dk__pci_region_area(const struct dk__pci_region *r, uint64_t off,
						  uint64_t len);

/* Close VFIO completely (every reference): device free and rescans. */
void dk__pci_vfio_release(struct dk__pci_dev *d);

/*
 * Open d (not open yet) through VFIO by its name in IOMMU group group, read
 * every region, map the BARs as flags say and route config space through the
 * VFIO config region. Shared by dk_pci_vfio_open_flags (functions) and
 * dk_pci_mdev_open (mdevs, by UUID). 0 or negative errno (logged); on
 * failure nothing stays open.
 */
int dk__pci_vfio_attach(struct dk__pci_dev *d, int group, uint32_t flags);

static inline struct dk__pci_dev *dk__pci_dev(const struct dk_pci_device *d)
{
	return (struct dk__pci_dev *)(void *)(uintptr_t)d;
}

extern const struct dk__pci_config_ops dk__pci_config_sysfs_ops;

/* Scan state (pci_scan.c). A rescan keeps the mdevs of dk_pci_mdev_open
 * (they are not found by the sysfs scan); dk__pci_free_all frees them too. */
int dk__pci_scan(void);
/* Add a device made outside the scan (an mdev) to the list, sorted: -ENOMEM. */
int dk__pci_list_add(struct dk__pci_dev *d);
/* Take d out of the list and free it (VFIO released). */
void dk__pci_list_del(struct dk__pci_dev *d);
void dk__pci_free_all(void);
unsigned int dk__pci_ndev(void);
struct dk__pci_dev *dk__pci_dev_at(unsigned int i);

/* Read config (through cfg_ops) and parse capabilities into pub.caps. */
int dk__pci_read_caps(struct dk__pci_dev *d);

/* Driver list (pci_driver.c). Remove the driver of every device (last
 * first); returns how many kept theirs because remove failed, or with force
 * forgets those bindings (warning: what the driver holds leaks) and
 * returns 0. */
unsigned int dk__pci_remove_all(int force);
/* The dk_pci_vfio_open_flags flags (DK_PCI_VFIO_SPARSE_SPLIT or 0) of the first
 * registered driver with DK_PCI_DRV_NEED_VFIO whose ID table matches id: how a
 * device it will probe is to be opened (the mdev bus opens mdevs so). */
uint32_t dk__pci_driver_open_flags(const struct dk_pci_id *id);

/* The PCI bus object (pci_bus.c), registered by the library's init. */
extern struct dk_bus dk__pci_bus;

/* The highest IOVA the drivers that will probe the scanned vfio-pci devices
 * (allowed ones) can reach: the narrowest dma_addr_bits; UINT64_MAX when none
 * declares a limit. */
uint64_t dk__pci_dma_limit(void);

#endif
