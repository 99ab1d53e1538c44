/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Contexts (contract: dmakit/cdev.h, cdev/cdev_internal.h): creation,
 * release, the list of contexts and the accessors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/vfio.h>

#include "cdev/cdev_internal.h"
#include "mr/mr_mp.h"

#define DK_LOG_COMPONENT "cdev"
#include "core/log_internal.h"

/* The contexts in creation order; g_lock guards the links (lookups may run
 * from any thread, changes come from probe and remove). */
static struct dk__cdev *g_list;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static void read_attr(struct dk_cdev_attr *a, const struct dk_pci_device *dev)
{
	a->id = dev->id;
	a->revision = dev->revision;
	a->numa_node = dev->device.numa_node;
	a->iommu_group = dev->iommu_group;
	for (unsigned int i = 0; i < DK_PCI_NUM_BARS; i++)
		a->bar_len[i] = dev->bars[i].len;
	a->dma_addr_bits = 64;
}

static void list_add(struct dk__cdev *c)
{
	pthread_mutex_lock(&g_lock);
	struct dk__cdev **pp = &g_list;
	while (*pp)
		pp = &(*pp)->next;
	*pp = c;
	pthread_mutex_unlock(&g_lock);
}

static void list_del(struct dk__cdev *c)
{
	pthread_mutex_lock(&g_lock);
	struct dk__cdev **pp = &g_list;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	pthread_mutex_unlock(&g_lock);
}

/* Copy da without "class". */
static void copy_config(struct dk_devargs *out, const struct dk_devargs *da,
			const struct dk_pci_device *dev)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", dev->device.name);
	for (unsigned int i = 0; da && i < da->n_kv; i++)
		if (strcmp(da->kv[i].key, "class") != 0)
			out->kv[out->n_kv++] = da->kv[i];
}

struct dk__cdev *dk__cdev_create(struct dk_pci_device *dev, const struct dk_devargs *config)
{
	const struct dk__cdev_ops *ops = dk__cdev_ops();
	struct dk__cdev *c = calloc(1, sizeof(*c));
	if (!c) {
		DK_ERR("%s: no memory for the device context", dev->device.name);
		errno = ENOMEM;
		return NULL;
	}
	int rc = ops->open(dev);
	if (rc < 0) {
		DK_ERR("%s: cannot open the device through VFIO for its context: %s", dev->device.name,
		       strerror(-rc));
		goto fail_free;
	}
	pthread_mutex_init(&c->reg_lock, NULL);
	c->pub.pci = dev;
	struct dk_vfio_device *vd = dk_pci_vfio_device(dev);
	c->pub.container = vd ? dk_vfio_device_container(vd) : NULL;
	read_attr(&c->pub.attr, dev);
	copy_config(&c->config, config, dev);
	errno = 0;
	c->pub.mr = ops->mr_create(&dk__cdev_vfio_mr_ops, c);
	if (!c->pub.mr && errno != ENOSYS) {
		rc = errno ? -errno : -EIO;
		DK_ERR("%s: cannot create the device's MR cache: %s", dev->device.name,
		       strerror(-rc));
		goto fail_close;
	}
	if (!c->pub.mr)
		DK_DEBUG("%s: no MR cache in this build: the context has none", dev->device.name);
	else if (dk__mr_mp_primary() && dk_mr_cache_share(c->pub.mr, dev->device.name) < 0)
		DK_WARN("%s: secondary processes cannot attach to the device's MR cache (the error above says why); the device works in this process",
			dev->device.name);
	list_add(c);
	return c;

fail_close:
	pthread_mutex_destroy(&c->reg_lock);
	ops->close(dev);
fail_free:
	free(c);
	errno = -rc;
	return NULL;
}

void dk__cdev_release(struct dk__cdev *c)
{
	const struct dk__cdev_ops *ops = dk__cdev_ops();
	list_del(c);
	if (c->pub.mr)
		ops->mr_destroy(c->pub.mr);
	dk__cdev_vfio_unmap_all(c);
	int rc = ops->close(c->pub.pci);
	if (rc < 0)
		DK_WARN("%s: closing the device's VFIO reference failed: %s", c->pub.pci->device.name,
			strerror(-rc));
	pthread_mutex_destroy(&c->reg_lock);
	free(c);
}

struct dk__cdev *dk__cdev_find(const struct dk_pci_device *dev)
{
	pthread_mutex_lock(&g_lock);
	struct dk__cdev *c = g_list;
	while (c && c->pub.pci != dev)
		c = c->next;
	pthread_mutex_unlock(&g_lock);
	return c;
}

struct dk_cdev *dk_cdev_of(const struct dk_pci_device *dev)
{
	struct dk__cdev *c = dev ? dk__cdev_find(dev) : NULL;
	if (!c) {
		errno = ENOENT;
		return NULL;
	}
	return &c->pub;
}

struct dk_cdev *dk_cdev_next(const struct dk_cdev *prev)
{
	pthread_mutex_lock(&g_lock);
	struct dk__cdev *c = prev ? dk__cdev(prev)->next : g_list;
	pthread_mutex_unlock(&g_lock);
	return c ? &c->pub : NULL;
}

const struct dk_devargs *dk_cdev_devargs(const struct dk_cdev *cdev)
{
	return &dk__cdev(cdev)->config;
}

int dk_cdev_has_class(const struct dk_cdev *cdev, const char *name)
{
	const struct dk_class_driver *drv = name ? dk__class_find(name) : NULL;
	return cdev && drv && (dk__cdev(cdev)->classes & ((uint64_t)1 << drv->bit_)) ? 1 : 0;
}

void dk_cdev_set_priv(struct dk_cdev *cdev, const struct dk_class_driver *drv, void *priv)
{
	if (cdev && drv)
		dk__cdev(cdev)->priv[drv->bit_] = priv;
}

void *dk_cdev_priv(const struct dk_cdev *cdev, const struct dk_class_driver *drv)
{
	return cdev && drv ? dk__cdev(cdev)->priv[drv->bit_] : NULL;
}
