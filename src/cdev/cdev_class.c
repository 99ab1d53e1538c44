/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Class drivers (contract: dmakit/cdev.h): the registry, in registration
 * order, and the common PCI driver whose ID table is the union of theirs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cdev/cdev_internal.h"

#define DK_LOG_COMPONENT "cdev"
#include "core/log_internal.h"

static const char *const g_known[] = { "eth", "crypto", "compress", "regex", "vdpa", "dma",
				       "compute", NULL };

static struct dk_class_driver *g_classes;
static uint64_t g_bits_used;
static struct dk_pci_id_match *g_ids; /* the union, ends with vendor_id 0 */

static int common_probe(struct dk_pci_driver *drv, struct dk_pci_device *dev);
static int common_remove(struct dk_pci_device *dev);

static struct dk_pci_driver g_common = {
	.driver = { .name = "cdev" },
	.probe = common_probe,
	.remove = common_remove,
};
static int g_common_registered;
/* dk_cdev_probe's devargs while it probes through the PCI bus. */
static const struct dk_devargs *g_probe_devargs;

struct dk_class_driver *dk__class_first(void)
{
	return g_classes;
}

struct dk_class_driver *dk__class_find(const char *name)
{
	struct dk_class_driver *d = g_classes;
	while (d && strcmp(d->name, name) != 0)
		d = d->next_;
	return d;
}

int dk__class_known(const char *name)
{
	for (unsigned int i = 0; g_known[i]; i++)
		if (strcmp(g_known[i], name) == 0)
			return 1;
	return dk__class_find(name) != NULL;
}

static size_t table_len(const struct dk_pci_id_match *t)
{
	size_t n = 0;
	while (t[n].vendor_id)
		n++;
	return n;
}

/* Rebuild the union of the ID tables and the narrowest DMA mask. */
static int rebuild_common(void)
{
	size_t n = 0;
	unsigned int bits = 0;
	for (struct dk_class_driver *d = g_classes; d; d = d->next_) {
		n += table_len(d->id_table);
		if (d->dma_addr_bits && (!bits || d->dma_addr_bits < bits))
			bits = d->dma_addr_bits;
	}
	struct dk_pci_id_match *ids = calloc(n + 1, sizeof(*ids));
	if (!ids) {
		DK_ERR("no memory for the common driver's ID table (%zu entries)", n + 1);
		return -ENOMEM;
	}
	size_t at = 0;
	for (struct dk_class_driver *d = g_classes; d; d = d->next_) {
		size_t k = table_len(d->id_table);
		memcpy(&ids[at], d->id_table, k * sizeof(*ids));
		at += k;
	}
	free(g_ids);
	g_ids = ids;
	g_common.id_table = ids;
	g_common.dma_addr_bits = bits;
	return 0;
}

static int check_name(const struct dk_class_driver *drv)
{
	if (!drv || !drv->name || !drv->id_table || !drv->probe) {
		DK_ERR("cannot register class driver %s: name, id_table and probe are required",
		       drv && drv->name ? drv->name : "(unnamed)");
		return -EINVAL;
	}
	if (!drv->name[0] || strlen(drv->name) >= DK_DEVARGS_KEY_MAX ||
	    strpbrk(drv->name, ":,=")) {
		DK_ERR("cannot register class driver \"%s\": a class name is 1..%d characters without ':', ',' or '='",
		       drv->name, DK_DEVARGS_KEY_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

static void unlink_class(struct dk_class_driver *drv)
{
	struct dk_class_driver **pp = &g_classes;
	while (*pp && *pp != drv)
		pp = &(*pp)->next_;
	if (*pp)
		*pp = drv->next_;
	drv->next_ = NULL;
	g_bits_used &= ~((uint64_t)1 << drv->bit_);
}

int dk_class_driver_register(struct dk_class_driver *drv)
{
	int rc = check_name(drv);
	if (rc < 0)
		return rc;
	struct dk_class_driver **pp = &g_classes;
	for (; *pp; pp = &(*pp)->next_) {
		if (*pp == drv || strcmp((*pp)->name, drv->name) == 0) {
			DK_ERR("class driver %s is already registered (one driver per class)", drv->name);
			return -EEXIST;
		}
	}
	if (g_bits_used == UINT64_MAX) {
		DK_ERR("cannot register class driver %s: %d class drivers are registered already",
		       drv->name, DK_CLASS_DRV_MAX);
		return -ENOSPC;
	}
	drv->bit_ = (unsigned int)__builtin_ctzll(~g_bits_used);
	g_bits_used |= (uint64_t)1 << drv->bit_;
	drv->next_ = NULL;
	*pp = drv;
	rc = rebuild_common();
	if (rc < 0)
		goto fail_unlink;
	if (!g_common_registered) {
		rc = dk_pci_driver_register(&g_common);
		if (rc < 0)
			goto fail_unlink;
		g_common_registered = 1;
	}
	return 0;

fail_unlink:
	unlink_class(drv);
	return rc;
}

/* Remove drv from every context that has it; release contexts left empty. */
static void remove_class_everywhere(struct dk_class_driver *drv)
{
	uint64_t bit = (uint64_t)1 << drv->bit_;
	struct dk_cdev *next;
	for (struct dk_cdev *p = dk_cdev_next(NULL); p; p = next) {
		next = dk_cdev_next(p);
		struct dk__cdev *c = dk__cdev(p);
		if (!(c->classes & bit))
			continue;
		int rc = drv->remove ? drv->remove(p) : 0;
		if (rc < 0)
			DK_WARN("%s: remove by class %s failed: %s (unregistering it anyway)",
				p->pci->device.name, drv->name, strerror(-rc));
		c->classes &= ~bit;
		c->priv[drv->bit_] = NULL;
		if (!c->classes) {
			struct dk_pci_device *dev = p->pci;
			if (dev->device.driver == &g_common.driver)
				dk_pci_remove_device(dev);
			else
				dk__cdev_release(c);
		}
	}
}

int dk_class_driver_unregister(struct dk_class_driver *drv)
{
	struct dk_class_driver *d = g_classes;
	while (d && d != drv)
		d = d->next_;
	if (!d)
		return -ENOENT;
	remove_class_everywhere(drv);
	unlink_class(drv);
	if (rebuild_common() < 0)
		DK_WARN("the common driver keeps the ID table of class %s (no memory to rebuild it)",
			drv->name);
	return 0;
}

static int is_vfio_driver(const struct dk_pci_device *dev)
{
	return dev->kind == DK_PCI_KIND_MDEV || strncmp(dev->kernel_driver, "vfio", 4) == 0;
}

static int common_probe(struct dk_pci_driver *drv, struct dk_pci_device *dev)
{
	(void)drv;
	if (!is_vfio_driver(dev)) {
		DK_NOTICE("%s matches the class drivers but is bound to %s: run `dmakit bind %s` to use it",
			  dev->device.name, dev->kernel_driver[0] ? dev->kernel_driver : "no driver",
			  dev->device.name);
		return -ENODEV;
	}
	const struct dk_devargs *da = g_probe_devargs ? g_probe_devargs : dev->device.devargs;
	int rc = dk__cdev_probe(dev, da);
	if (rc == 0)
		dev->device.driver_data = dk_cdev_of(dev);
	return rc;
}

static int common_remove(struct dk_pci_device *dev)
{
	struct dk__cdev *c = dk__cdev_find(dev);
	return c ? dk__cdev_remove_all(c) : 0;
}

int dk_cdev_probe(struct dk_pci_device *dev, const struct dk_devargs *da)
{
	if (!dev) {
		DK_ERR("dk_cdev_probe: NULL device: pass a PCI device (dk_pci_find)");
		return -EINVAL;
	}
	if (dk__cdev_find(dev))
		return dk__cdev_probe(dev, da ? da : dev->device.devargs);
	if (dev->device.driver) {
		DK_ERR("%s: PCI driver %s has the device: remove it first (dk_pci_remove_device)",
		       dev->device.name, dev->device.driver->name);
		return -EBUSY;
	}
	g_probe_devargs = da;
	int rc = dk_pci_probe_device(dev);
	g_probe_devargs = NULL;
	return rc;
}

int dk_cdev_remove(struct dk_pci_device *dev)
{
	struct dk__cdev *c = dev ? dk__cdev_find(dev) : NULL;
	if (!c) {
		DK_ERR("dk_cdev_remove(%s): the device has no context", dev ? dev->device.name : "NULL");
		return -ENODEV;
	}
	if (dev->device.driver == &g_common.driver)
		return dk_pci_remove_device(dev);
	return dk__cdev_remove_all(c);
}
