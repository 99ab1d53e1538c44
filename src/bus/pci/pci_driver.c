/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI drivers: registration (a singly linked list in registration order)
 * and probe/remove of scanned devices. A device is probed by the first
 * driver whose ID table matches and whose probe accepts it; a probe that
 * fails leaves the device unprobed (nothing to roll back in the bus: a
 * driver undoes its own partial work before returning an error). A remove
 * that fails leaves the device with its driver (and the probe's VFIO
 * references), so whatever the driver still holds keeps a valid device;
 * only dk_cleanup forgets such a binding (dk__pci_remove_all with force).
 */
#include <errno.h>
#include <string.h>

#include "bus/pci/pci_internal.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

static struct dk_pci_driver *g_drivers;

int dk_pci_driver_register(struct dk_pci_driver *drv)
{
	if (!drv || !drv->driver.name || !drv->id_table || !drv->probe) {
		DK_ERR("cannot register PCI driver %s: name, id_table and probe are required",
		       drv && drv->driver.name ? drv->driver.name : "(unnamed)");
		return -EINVAL;
	}
	struct dk_pci_driver **pp = &g_drivers;
	for (; *pp; pp = &(*pp)->next_) {
		if (*pp == drv || strcmp((*pp)->driver.name, drv->driver.name) == 0) {
			DK_ERR("PCI driver %s is already registered", drv->driver.name);
			return -EEXIST;
		}
	}
	drv->next_ = NULL;
	*pp = drv;
	return 0;
}

int dk_pci_driver_unregister(struct dk_pci_driver *drv)
{
	struct dk_pci_driver **pp = &g_drivers;
	while (*pp && *pp != drv)
		pp = &(*pp)->next_;
	if (!*pp)
		return -ENOENT;
	int rc = 0;
	for (unsigned int i = 0; i < dk__pci_ndev(); i++) {
		struct dk__pci_dev *d = dk__pci_dev_at(i);
		if (d->driver == drv && dk_pci_remove_device(&d->pub) < 0)
			rc = -EBUSY;
	}
	if (rc < 0) {
		DK_ERR("PCI driver %s stays registered: it failed to remove a device it drives (see above); release what holds it and unregister again",
		       drv->driver.name);
		return rc;
	}
	*pp = drv->next_;
	drv->next_ = NULL;
	return 0;
}

static int is_vfio_driver(const char *kdrv)
{
	return strncmp(kdrv, "vfio", 4) == 0;
}

uint64_t dk__pci_dma_limit(void)
{
	uint64_t limit = UINT64_MAX;
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		struct dk_pci_device *dev = dk_pci_get(i);
		if (!dev || !is_vfio_driver(dev->kernel_driver) ||
		    dk_bus_device_policy(dev->device.name, NULL) == DK_DEV_POLICY_SKIP)
			continue;
		for (struct dk_pci_driver *drv = g_drivers; drv; drv = drv->next_) {
			if (!dk_pci_id_match(drv->id_table, &dev->id))
				continue;
			unsigned int bits = drv->dma_addr_bits;
			if (bits && bits < 64) {
				uint64_t l = ((uint64_t)1 << bits) - 1;
				if (l < limit) {
					DK_DEBUG("%s: driver %s reaches %u address bits", dev->device.name,
						 drv->driver.name, bits);
					limit = l;
				}
			}
			break; /* the first matching driver is the one that probes */
		}
	}
	return limit;
}

uint32_t dk__pci_driver_open_flags(const struct dk_pci_id *id)
{
	for (struct dk_pci_driver *drv = g_drivers; drv; drv = drv->next_)
		if ((drv->flags & DK_PCI_DRV_NEED_VFIO) && dk_pci_id_match(drv->id_table, id))
			return (drv->flags & DK_PCI_DRV_SPARSE_SPLIT) ? DK_PCI_VFIO_SPARSE_SPLIT : 0;
	return 0;
}

int dk_pci_probe_device(struct dk_pci_device *dev)
{
	if (!dev)
		return -EINVAL;
	struct dk__pci_dev *d = dk__pci_dev(dev);
	if (d->driver)
		return -EALREADY;
	const struct dk_devargs *da;
	if (dk_bus_device_policy(d->name, &da) == DK_DEV_POLICY_SKIP) {
		DK_DEBUG("%s: not probed (allow/deny list)", d->name);
		return -EPERM;
	}
	dev->device.devargs = da;
	for (struct dk_pci_driver *drv = g_drivers; drv; drv = drv->next_) {
		if (!dk_pci_id_match(drv->id_table, &dev->id))
			continue;
		/* An mdev is served by its parent's driver and is open through VFIO already. */
		if ((drv->flags & DK_PCI_DRV_NEED_VFIO) && dev->kind != DK_PCI_KIND_MDEV &&
		    !is_vfio_driver(dev->kernel_driver)) {
			DK_NOTICE("%s matches driver %s but is bound to %s: run `dmakit bind %s` to use it",
				  d->name, drv->driver.name,
				  dev->kernel_driver[0] ? dev->kernel_driver : "no driver", d->name);
			continue;
		}
		int opened = 0;
		if (drv->flags & DK_PCI_DRV_NEED_VFIO) {
			uint32_t of = (drv->flags & DK_PCI_DRV_SPARSE_SPLIT) ? DK_PCI_VFIO_SPARSE_SPLIT : 0;
			int rc = dk_pci_vfio_open_flags(dev, of);
			if (rc < 0) {
				DK_ERR("%s: cannot open it through VFIO for driver %s: %s", d->name,
				       drv->driver.name, strerror(-rc));
				return rc;
			}
			opened = 1;
		}
		int rc = drv->probe(drv, dev);
		if (rc < 0 && opened)
			dk_pci_vfio_close(dev);
		if (rc == -ENODEV)
			continue;
		if (rc < 0) {
			DK_ERR("%s: probe by driver %s failed: %s", d->name, drv->driver.name,
			       strerror(-rc));
			return rc;
		}
		if (opened)
			d->vfio->by_probe++;
		d->driver = drv;
		dev->device.driver = &drv->driver;
		DK_INFO("%s: probed by %s", d->name, drv->driver.name);
		return 0;
	}
	return -ENODEV;
}

/* The device no longer has its driver: the probe's VFIO references go. */
static void unbind_driver(struct dk__pci_dev *d)
{
	while (d->vfio && d->vfio->by_probe > 0) {
		d->vfio->by_probe--;
		dk_pci_vfio_close(&d->pub);
	}
	d->driver = NULL;
	d->pub.device.driver = NULL;
	d->pub.device.driver_data = NULL;
}

int dk_pci_remove_device(struct dk_pci_device *dev)
{
	if (!dev)
		return -EINVAL;
	struct dk__pci_dev *d = dk__pci_dev(dev);
	if (!d->driver)
		return -ENODEV;
	int rc = d->driver->remove ? d->driver->remove(dev) : 0;
	if (rc < 0) {
		DK_WARN("%s: remove by driver %s failed: %s; the device stays with the driver: release what it holds and remove again",
			d->name, d->driver->driver.name, strerror(-rc));
		return rc;
	}
	/* The references the probe took (a driver may have closed them itself). */
	unbind_driver(d);
	return 0;
}

int dk_pci_probe_all(void)
{
	int n = 0;
	for (unsigned int i = 0; i < dk__pci_ndev(); i++) {
		struct dk__pci_dev *d = dk__pci_dev_at(i);
		if (d->driver)
			continue;
		if (dk_pci_probe_device(&d->pub) == 0)
			n++;
	}
	return n;
}

unsigned int dk__pci_remove_all(int force)
{
	unsigned int kept = 0;
	for (unsigned int i = dk__pci_ndev(); i-- > 0;) {
		struct dk__pci_dev *d = dk__pci_dev_at(i);
		if (!d->driver || dk_pci_remove_device(&d->pub) == 0)
			continue;
		if (!force) {
			kept++;
			continue;
		}
		DK_WARN("%s: forgetting driver %s, whose remove failed: what it still holds is leaked",
			d->name, d->driver->driver.name);
		unbind_driver(d);
	}
	return kept;
}
