/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/bus.h - bus framework: buses, generic devices and drivers.
 *
 * A bus (PCI, mdev: dmakit/mdev.h) owns its devices and drivers. dk_init()
 * calls scan() on every registered bus, then probe(); dk_cleanup() (and a
 * failed dk_init) removes the drivers of every device through unplug(),
 * then calls cleanup(). plug()/unplug() probe or remove a single device
 * later.
 *
 * Allow/deny lists (dk_init_params.allow/deny) are applied by the
 * framework: dk_bus_device_policy() tells a bus whether a device may be
 * probed and which devargs apply to it.
 *
 * Lock order: none inside the framework. The library registers its own
 * buses in dk_init (never from constructors: a static link would drop
 * them); an application registers its buses before dk_init, never
 * concurrently with it.
 */
#ifndef DMAKIT_BUS_H
#define DMAKIT_BUS_H

#include <dmakit/common.h>
#include <dmakit/devargs.h>
#include <dmakit/log.h>

DK_BEGIN_DECLS

struct dk_bus;
struct dk_driver;

/* Generic part of every device; embedded first in bus device structs. */
struct dk_device {
	const char *name;                 /* "0000:03:00.0", an mdev UUID, ... */
	struct dk_bus *bus;               /* owning bus */
	const struct dk_driver *driver;   /* dmakit driver probed on it, or NULL */
	/* The probed driver's state for this device: its probe sets it, the bus
	 * clears it after the driver's remove. NULL while no driver has it. */
	void *driver_data;
	const struct dk_devargs *devargs; /* from the allow list, or NULL */
	int numa_node;                    /* -1 when unknown */
};

/* Generic part of every driver; embedded first in bus driver structs. */
struct dk_driver {
	const char *name;
};

/* Return 0 when dev matches data (like a strcmp). */
typedef int (*dk_dev_cmp_fn)(const struct dk_device *dev, const void *data);

struct dk_bus {
	const char *name;
	/* Discover devices. Returns the device count or a negative errno. A
	 * device that cannot be read is logged and skipped, not fatal. */
	int (*scan)(void);
	/* Probe drivers on every scanned device. 0 or negative errno. */
	int (*probe)(void);
	/* Next device after start (NULL: first) with cmp(dev, data) == 0. */
	struct dk_device *(*find)(const struct dk_device *start, dk_dev_cmp_fn cmp,
				  const void *data);
	/* Probe / remove drivers on one device. 0 or negative errno. */
	int (*plug)(struct dk_device *dev);
	int (*unplug)(struct dk_device *dev);
	/* 0 when name is a device name of this bus (normalized into out,
	 * out_len bytes), negative errno otherwise. */
	int (*parse_name)(const char *name, char *out, size_t out_len);
	/* Free every device (drivers removed first). */
	void (*cleanup)(void);
	struct dk_bus *next_; /* framework use */
};

/*
 * Register a bus. -EINVAL when bus, its name, scan, probe, find or
 * parse_name is NULL; -EEXIST when a bus of that name is registered.
 */
DK_EXPORT int dk_bus_register(struct dk_bus *bus);
/* Remove a registered bus; -ENOENT when it is not registered. */
DK_EXPORT int dk_bus_unregister(struct dk_bus *bus);

/* Bus by name, or NULL (errno ENOENT). */
DK_EXPORT struct dk_bus *dk_bus_find_by_name(const char *name);

/* First device after start (NULL: the very first) on any bus with
 * cmp(dev, data) == 0, or NULL. Order: by bus registration, then bus order. */
DK_EXPORT struct dk_device *dk_bus_find_device(const struct dk_device *start,
					       dk_dev_cmp_fn cmp, const void *data);

/* A dk_dev_cmp_fn comparing dev->name with data (a const char *). */
DK_EXPORT int dk_dev_cmp_name(const struct dk_device *dev, const void *data);

enum dk_dev_policy {
	DK_DEV_POLICY_PROBE = 0, /* no list given, or on the allow list */
	DK_DEV_POLICY_SKIP = 1,  /* on the deny list, or not on a given allow list */
};

/*
 * Policy for a device named name (normalized by its bus). When the device
 * is on the allow list, *devargs (if non-NULL) receives its devargs.
 */
DK_EXPORT enum dk_dev_policy dk_bus_device_policy(const char *name,
						  const struct dk_devargs **devargs);

/*
 * Log a message about dev, for drivers and buses: "<dev->name>: <message>" under
 * component (NULL: the name of the driver probed on dev, else of its bus, else
 * "dmakit"); dev NULL: the message alone. Otherwise as dk_log (dmakit/log.h):
 * dropped when level is above the threshold, safe from any thread (dev is only
 * read). The shortcuts take DK_LOG_COMPONENT: DK_DEV_ERR(dev, fmt, ...).
 */
DK_EXPORT void dk_dev_log(enum dk_log_level level, const char *component,
			  const struct dk_device *dev, const char *fmt, ...) DK_PRINTF(4, 5);
#define DK_DEV_ERR(dev, ...) dk_dev_log(DK_LOG_ERR, DK_LOG_COMPONENT, dev, __VA_ARGS__)
#define DK_DEV_WARN(dev, ...) dk_dev_log(DK_LOG_WARNING, DK_LOG_COMPONENT, dev, __VA_ARGS__)
#define DK_DEV_NOTICE(dev, ...) dk_dev_log(DK_LOG_NOTICE, DK_LOG_COMPONENT, dev, __VA_ARGS__)
#define DK_DEV_INFO(dev, ...) dk_dev_log(DK_LOG_INFO, DK_LOG_COMPONENT, dev, __VA_ARGS__)
#define DK_DEV_DEBUG(dev, ...) dk_dev_log(DK_LOG_DEBUG, DK_LOG_COMPONENT, dev, __VA_ARGS__)

DK_END_DECLS

#endif
