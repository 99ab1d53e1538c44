/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/mdev.h - the mdev bus: mediated device parents, their types and
 * instances, drivers chosen by device_api, and the instances' lifecycle
 * (create, remove).
 *
 * Discovery (every path under dk_sysfs_root()):
 *   - parents: the entries of <sysfs>/class/mdev_bus; a parent's types are
 *     the directories of class/mdev_bus/<parent>/mdev_supported_types,
 *     named "<driver>-<name>" ("mtty-2"), with the files name (optional:
 *     the directory name stands in), description (optional),
 *     device_api, available_instances, and devices/ (one entry per instance);
 *   - instances: <sysfs>/bus/mdev/devices/<uuid>; the link mdev_type names
 *     the type, the directory the link resolves to sits below its parent's
 *     device directory (the parent is that directory's name), iommu_group
 *     gives the IOMMU group.
 * Missing optional files are normal (older kernels); an instance whose
 * directory vanished or that has no mdev_type is skipped with a warning.
 *
 * dk_init scans the mdev bus with the other buses and probes it after the
 * PCI bus; dk_cleanup removes its drivers before the PCI bus's and frees
 * everything. Drivers register by device_api before dk_init (or before a
 * dk_mdev_scan). The library registers one itself: "vfio-pci", which opens
 * the instance through VFIO by UUID (dk_pci_mdev_open), plugs it into the
 * PCI bus as a device of kind DK_PCI_KIND_MDEV and lets the PCI drivers
 * probe it by their ID tables (their DK_PCI_DRV_SPARSE_SPLIT decides how
 * its BARs are mapped). When no PCI driver takes it, it is closed again and
 * left unprobed (open it by hand with dk_pci_mdev_open). Instances of other
 * device_api values (vfio-ccw, vfio-ap, vfio-platform, ...) without a
 * registered driver are listed and left unprobed, with an info message.
 *
 * Pointers from the lookups below (parents, types) stay valid until the
 * next scan (dk_mdev_scan, dk_init) or dk_cleanup; device pointers stay
 * valid while the instance is listed (a rescan keeps the instances that
 * still exist).
 *
 * Thread-safety: scans, probe/remove, driver registration and the lookups
 * are single-threaded with dk_init/dk_cleanup (like the PCI bus).
 * dk_mdev_create/dk_mdev_remove are reentrant (the kernel serializes the
 * writes) but dk_mdev_remove unplugs a probed instance: not concurrently
 * with a scan.
 */
#ifndef DMAKIT_MDEV_H
#define DMAKIT_MDEV_H

#include <dmakit/bus.h>
#include <dmakit/common.h>
#include <dmakit/pci.h>

DK_BEGIN_DECLS

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */
#define DK_MDEV_UUID_LEN 37

struct dk_mdev_parent;

/* One mdev type of a parent (class/mdev_bus/<parent>/mdev_supported_types/<id>). */
struct dk_mdev_type {
	const char *id;          /* directory name, "<driver>-<name>": "mtty-2" */
	const char *name;        /* the name file (trimmed), else id */
	int has_name;            /* 1 when the name file exists and is not empty */
	const char *description; /* trimmed, inner newlines as ", "; "" when absent */
	const char *device_api;  /* "vfio-pci", "vfio-ccw", ...; "" when unreadable */
	int available_instances; /* as the kernel reports it (advisory); -1 unreadable */
	unsigned int instances;  /* entries of its devices/ directory */
	const struct dk_mdev_parent *parent;
};

/* A device that can host mdevs (an entry of class/mdev_bus). */
struct dk_mdev_parent {
	const char *name;                 /* "mtty", "0000:03:00.0", ... */
	unsigned int ntypes;
	const struct dk_mdev_type *types; /* sorted by id */
};

struct dk_mdev_driver;

/* One instance (bus/mdev/devices/<uuid>). */
struct dk_mdev_device {
	struct dk_device device;  /* device.name: uuid; device.bus: the mdev bus */
	char uuid[DK_MDEV_UUID_LEN]; /* lower case */
	char parent[256];         /* parent's name (its device directory) */
	char type_id[256];        /* type directory name ("mtty-2") */
	char device_api[32];      /* from the type; "" when unreadable */
	const struct dk_mdev_type *type; /* in the parent's list, or NULL (parent gone) */
	int iommu_group;          /* -1: none */
	struct dk_mdev_driver *driver; /* mdev driver probed on it, or NULL */
	/* vfio-pci, probed: the PCI device (kind DK_PCI_KIND_MDEV) it is plugged
	 * in as; NULL otherwise. */
	struct dk_pci_device *pci;
};

/* Container from the generic device. */
static inline struct dk_mdev_device *dk_mdev_from_device(struct dk_device *d)
{
	return (struct dk_mdev_device *)(void *)d;
}

/* ---- lookups (state of the last scan) ----------------------------------- */

/* Parents, sorted by name. get: NULL (errno ENOENT) past the end. */
DK_EXPORT unsigned int dk_mdev_parent_count(void);
DK_EXPORT const struct dk_mdev_parent *dk_mdev_parent_get(unsigned int index);
/* Parent by name; NULL, errno ENOENT (EINVAL for NULL). */
DK_EXPORT const struct dk_mdev_parent *dk_mdev_parent_find(const char *name);
/* Type id ("mtty-2") of parent; NULL, errno ENOENT (EINVAL for NULL). */
DK_EXPORT const struct dk_mdev_type *dk_mdev_type_find(const struct dk_mdev_parent *parent,
						       const char *id);

/* Instances, sorted by parent name, then UUID. get: NULL (errno ENOENT) past the end. */
DK_EXPORT unsigned int dk_mdev_count(void);
DK_EXPORT struct dk_mdev_device *dk_mdev_get(unsigned int index);
/* Instance by UUID (either case); NULL, errno ENOENT (EINVAL: not a UUID). */
DK_EXPORT struct dk_mdev_device *dk_mdev_find(const char *uuid);

/*
 * Rescan: parents and types are read again (earlier parent and type
 * pointers become invalid); instances that are gone are unplugged (their
 * driver removed: a vfio-pci one leaves the PCI bus) and freed; new ones
 * are added, and probed when the bus has been probed (dk_init without
 * DK_INIT_NO_PROBE). Unprobed instances get another probe then too.
 * Returns the instance count or a negative errno: -ENOMEM (nothing
 * changed). A missing <sysfs>/class/mdev_bus or bus/mdev/devices is no
 * error (no parents, no instances).
 */
DK_EXPORT int dk_mdev_scan(void);

/* ---- drivers ------------------------------------------------------------ */

struct dk_mdev_driver {
	struct dk_driver driver;
	const char *device_api; /* the instances it probes: "vfio-pci", "vfio-ccw", ... */
	/* 0 when the driver took the instance; -ENODEV to decline; another
	 * negative errno for a failure (logged, instance left unprobed). The
	 * driver undoes its partial work before returning an error. */
	int (*probe)(struct dk_mdev_driver *drv, struct dk_mdev_device *dev);
	/* Release the instance; 0 or negative errno (logged). May be NULL. */
	int (*remove)(struct dk_mdev_device *dev);
	struct dk_mdev_driver *next_; /* bus use */
};

/*
 * Register a driver: instances with its device_api are offered to it (the
 * first registered first). -EINVAL when drv, its name, device_api or probe
 * is NULL; -EEXIST when a driver of that name is registered.
 */
DK_EXPORT int dk_mdev_driver_register(struct dk_mdev_driver *drv);
/* Remove it from every instance it probed, then unregister; -ENOENT when
 * not registered. */
DK_EXPORT int dk_mdev_driver_unregister(struct dk_mdev_driver *drv);

/* ---- lifecycle ---------------------------------------------------------- */

/*
 * Create an instance of type type ("dk_sparse-1", "mtty-2") of parent
 * parent (its name in <sysfs>/class/mdev_bus): writes the UUID to
 * <sysfs>/class/mdev_bus/<parent>/mdev_supported_types/<type>/create.
 * uuid: the instance's UUID (either case; written lower case), or NULL for
 * a new random one (version 4). uuid_out (NULL allowed when uuid is given)
 * receives the UUID written, lower case. The instance then appears as
 * <sysfs>/bus/mdev/devices/<uuid> (dk_mdev_scan lists and probes it).
 * available_instances is advisory: the write is made anyway and the
 * kernel's answer decides. 0, or:
 *   -EINVAL  NULL or empty parent or type, a '/' or ".." in them, a
 *            malformed UUID (also the kernel's answer to one), uuid and
 *            uuid_out both NULL
 *   -ENOENT  no such parent (message: load its driver) or the parent has
 *            no such type (message lists its types)
 *   -EEXIST  an mdev with that UUID exists (message: pick another one)
 *   -EUSERS  the type has no instance left (message: remove one first)
 *   -ENODEV  the parent is going away (its driver is being unloaded)
 *   -EACCES  not permitted (message: run as root)
 *   the errno of the write otherwise (the kernel's refusal; message: dmesg)
 * On failure no instance was created and uuid_out holds "".
 */
DK_EXPORT int dk_mdev_create(const char *parent, const char *type, const char *uuid,
			     char uuid_out[DK_MDEV_UUID_LEN]);

/*
 * Remove instance uuid: an instance probed on the mdev bus is unplugged
 * first (its driver removed), then 1 is written to
 * <sysfs>/bus/mdev/devices/<uuid>/remove. The bus lists it until the next
 * dk_mdev_scan. 0, or:
 *   -EINVAL  NULL or malformed UUID
 *   -ENOENT  no such mdev
 *   -EBUSY   this process opened it with dk_pci_mdev_open: close it first
 *            (the kernel would wait for the release)
 *   -EAGAIN  the instance is inactive (being created or removed): retry
 *   -ENODEV  it vanished meanwhile, or its parent is going away
 *   -EACCES  not permitted (message: run as root)
 *   the errno of the write otherwise
 */
DK_EXPORT int dk_mdev_remove(const char *uuid);

/* 1 when s is a UUID in the 8-4-4-4-12 hex form (either case), else 0. */
DK_EXPORT int dk_mdev_uuid_valid(const char *s);

DK_END_DECLS

#endif
