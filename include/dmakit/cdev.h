/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/cdev.h - class drivers and the common device context.
 *
 * One device often serves several driver classes (a NIC that is also a
 * crypto engine). A class driver (struct dk_class_driver) drives one class
 * of one device family; the common driver of this layer is the single PCI
 * driver of those devices: it creates one context per device (struct
 * dk_cdev: the VFIO device, its container, cached attributes, one MR cache,
 * the configuration from devargs) and hands it to every class it probes.
 *
 * The common driver: a PCI driver named "cdev", registered with the PCI bus
 * by the first dk_class_driver_register() (so class drivers registered
 * before dk_init, like any PCI driver, are probed by dk_init). Its ID table
 * is the union of the class drivers' tables; its DMA mask the narrowest of
 * theirs. It probes only devices bound to a vfio driver (others: a notice
 * saying to bind them, and the next PCI driver is tried); it opens the
 * device through VFIO (dk_pci_vfio_open) for the context and closes it when
 * the context is released.
 *
 * Devargs (from the allow list, dk_device.devargs; or given to
 * dk_cdev_probe):
 *   class=a:b   the classes to probe, by class name. Absent: the first
 *               registered class driver whose ID table matches the device.
 *   other keys  must be declared by one of the classes taking part
 *               (dk_class_driver.devargs_keys of the requested classes and
 *               of those already loaded on the context); they become the
 *               context's configuration (dk_cdev_devargs).
 * A probe fails with a message (and the device stays as it was) on:
 *   -EINVAL  an unknown class name (neither in the known list: eth, crypto,
 *            compress, regex, vdpa, dma, compute; nor registered), a class
 *            named twice, an unknown key, a forbidden combination, or, when
 *            the context exists, a key whose value differs from the
 *            context's (or that the context was created without)
 *   -ENODEV  a requested class has no registered driver, or its driver's
 *            ID table does not match the device
 *   -EEXIST  a requested class is loaded on the context already and its
 *            driver lacks DK_CLASS_DRV_PROBE_AGAIN
 * Forbidden combinations (on the union of the classes loaded and
 * requested): vdpa with any other class. A vdpa class hands the device's
 * queues to a guest; mlx5 in DPDK forbids only eth with vdpa, we forbid
 * every class beside it since any other class would share those queues.
 *
 * Probe: the context is created (if the device has none) before any class
 * probes; the requested classes are probed in registration order. When one
 * fails, the classes this probe loaded are removed in reverse order, and a
 * context this probe created is released (unless a class's remove failed:
 * then the context stays, with that class loaded). Remove: every loaded
 * class is removed, in reverse registration order; the context is released
 * only when every remove succeeded, otherwise it stays listed (dk_cdev_of
 * finds it) with the classes whose remove failed, and dk_cdev_remove
 * retries. The PCI bus keeps the common driver on a device whose remove
 * failed (dk_pci_remove_device), so the device stays valid for the kept
 * context: dk_pci_scan refuses (-EBUSY) until dk_cdev_remove succeeds, and
 * dk_cleanup releases kept contexts anyway (warning: what the failing class
 * holds is leaked).
 *
 * Thread-safety: registration, probe and remove follow the PCI rules (not
 * concurrent with each other, dmakit/pci.h). dk_cdev_of, dk_cdev_next and
 * the accessors may run from any thread while no probe or remove runs on
 * the device concerned; the context list has its own lock.
 */
#ifndef DMAKIT_CDEV_H
#define DMAKIT_CDEV_H

#include <dmakit/common.h>
#include <dmakit/devargs.h>
#include <dmakit/pci.h>

DK_BEGIN_DECLS

struct dk_cdev;
struct dk_mr_cache;
struct dk_vfio_container;

/* dk_class_driver.flags */
#define DK_CLASS_DRV_PROBE_AGAIN (1u << 0) /* probe may run again on a device that has
					    * this class already (a later dk_cdev_probe
					    * adding ports, queues...) */

/* Most class drivers registered at once. */
#define DK_CLASS_DRV_MAX 64

struct dk_class_driver {
	const char *name; /* the class: "eth", "dma", ...; one driver per class */
	const struct dk_pci_id_match *id_table;
	uint32_t flags; /* DK_CLASS_DRV_* */
	/* Devargs keys the class reads (NULL-terminated; NULL: none). */
	const char *const *devargs_keys;
	/* The class's DMA mask in bits (dk_pci_driver.dma_addr_bits); 0: 64. */
	unsigned int dma_addr_bits;
	/* 0 when the class took the device; a negative errno otherwise (logged;
	 * the classes this probe loaded before are removed). */
	int (*probe)(struct dk_cdev *cdev);
	/* Release the class's state; 0 or a negative errno (the context is then
	 * kept, with this class loaded). May be NULL. */
	int (*remove)(struct dk_cdev *cdev);
	struct dk_class_driver *next_; /* library use */
	unsigned int bit_;             /* library use */
};

/*
 * Register a class driver; the first registration also registers the
 * common PCI driver. Drivers registered after dk_init are probed on the
 * next dk_pci_probe_all()/dk_pci_probe_device()/dk_cdev_probe(). 0, or:
 *   -EINVAL  NULL driver, name, id_table or probe; a name longer than
 *            DK_DEVARGS_KEY_MAX - 1 or holding ':' or ','
 *   -EEXIST  already registered, or a driver of that class is
 *   -ENOSPC  DK_CLASS_DRV_MAX drivers registered
 *   -ENOMEM, and dk_pci_driver_register's errors for the common driver
 */
DK_EXPORT int dk_class_driver_register(struct dk_class_driver *drv);
/* Remove the class from every context that has it (as dk_cdev_remove would:
 * a context left without classes is released), then unregister. 0, -ENOENT. */
DK_EXPORT int dk_class_driver_unregister(struct dk_class_driver *drv);

/* ---- the context --------------------------------------------------------- */

/* Device attributes, read once when the context is created. */
struct dk_cdev_attr {
	struct dk_pci_id id;
	uint8_t revision;
	int numa_node;                      /* -1 when unknown */
	int iommu_group;                    /* -1: none */
	uint64_t bar_len[DK_PCI_NUM_BARS];  /* 0: absent */
	unsigned int dma_addr_bits;         /* narrowest of the loaded classes'; 64 */
};

struct dk_cdev {
	struct dk_pci_device *pci;           /* the device, open through VFIO */
	struct dk_vfio_container *container; /* its container (DMA domain) */
	/* The MR cache all classes and queues share (dmakit/mr.h). NULL until
	 * the MR cache layer is built into the library. */
	struct dk_mr_cache *mr;
	struct dk_cdev_attr attr;
};

/* The context of a PCI device, or NULL (errno ENOENT). */
DK_EXPORT struct dk_cdev *dk_cdev_of(const struct dk_pci_device *dev);
/* Next context after prev (NULL: the first), in creation order, or NULL. */
DK_EXPORT struct dk_cdev *dk_cdev_next(const struct dk_cdev *prev);
/* The configuration: the devargs the context was created with, without
 * "class" (never NULL; n_kv 0 when none). */
DK_EXPORT const struct dk_devargs *dk_cdev_devargs(const struct dk_cdev *cdev);
/* 1 when the class is loaded on the context, 0 otherwise. */
DK_EXPORT int dk_cdev_has_class(const struct dk_cdev *cdev, const char *name);
/* A class's own state for this device: set by its probe, read anywhere. */
DK_EXPORT void dk_cdev_set_priv(struct dk_cdev *cdev, const struct dk_class_driver *drv,
				void *priv);
DK_EXPORT void *dk_cdev_priv(const struct dk_cdev *cdev, const struct dk_class_driver *drv);

/*
 * Probe classes on dev with devargs da (NULL: dev's own, dk_device.devargs).
 * On a device the common driver has (or a context kept after a failed
 * remove), this is "probing again": the requested classes are added to the
 * context. Otherwise the device is probed through the PCI bus
 * (dk_pci_probe_device) with da. 0, or the probe errors above, or:
 *   -EINVAL  NULL dev
 *   -EBUSY   another PCI driver has the device
 *   dk_pci_probe_device's errors (-EPERM: denied by the allow/deny lists)
 */
DK_EXPORT int dk_cdev_probe(struct dk_pci_device *dev, const struct dk_devargs *da);
/*
 * Remove every class from dev's context and release it: through the PCI bus
 * when the common driver has dev, directly for a context kept after a
 * failed remove. 0; -ENODEV no context; the first failing class remove's
 * errno (the context is kept).
 */
DK_EXPORT int dk_cdev_remove(struct dk_pci_device *dev);

DK_END_DECLS

#endif
