/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Probe and remove of classes on a context (contract: dmakit/cdev.h):
 * which classes the devargs ask for, the checks, the probe in registration
 * order with its rollback, and remove in reverse order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cdev/cdev_internal.h"

#define DK_LOG_COMPONENT "cdev"
#include "core/log_internal.h"

#define BIT(d) ((uint64_t)1 << (d)->bit_)

/* Forbidden combinations: class a with class b; b NULL: with any other class. */
static const struct {
	const char *a, *b;
} g_forbidden[] = {
	{ "vdpa", NULL },
};

static const char *dev_name(const struct dk_pci_device *dev)
{
	return dev->device.name;
}

/* The default class: the first registered class driver matching dev. */
static int default_class(const struct dk_pci_device *dev, uint64_t *mask)
{
	for (struct dk_class_driver *d = dk__class_first(); d; d = d->next_) {
		if (dk_pci_id_match(d->id_table, &dev->id)) {
			*mask = BIT(d);
			return 0;
		}
	}
	DK_ERR("%s: no registered class driver matches the device (%04x:%04x)", dev_name(dev),
	       dev->id.vendor_id, dev->id.device_id);
	return -ENODEV;
}

static int add_class(const struct dk_pci_device *dev, const char *name, uint64_t *mask)
{
	if (!dk__class_known(name)) {
		DK_ERR("%s: unknown class \"%s\" in class=: known classes are eth, crypto, compress, regex, vdpa, dma, compute and those registered",
		       dev_name(dev), name);
		return -EINVAL;
	}
	struct dk_class_driver *d = dk__class_find(name);
	if (!d) {
		DK_ERR("%s: no driver of class %s is registered: register it (dk_class_driver_register) before probing",
		       dev_name(dev), name);
		return -ENODEV;
	}
	if (!dk_pci_id_match(d->id_table, &dev->id)) {
		DK_ERR("%s: the %s class driver does not support this device (%04x:%04x): drop %s from class=",
		       dev_name(dev), name, dev->id.vendor_id, dev->id.device_id, name);
		return -ENODEV;
	}
	if (*mask & BIT(d)) {
		DK_ERR("%s: class %s is named twice in class=", dev_name(dev), name);
		return -EINVAL;
	}
	*mask |= BIT(d);
	return 0;
}

/* The classes da asks for (class=a:b, or the default). */
static int requested_classes(const struct dk_pci_device *dev, const struct dk_devargs *da,
			     uint64_t *mask)
{
	char items[DK_CLASS_DRV_MAX][DK_DEVARGS_KEY_MAX];
	*mask = 0;
	if (!da || !dk_devargs_get(da, "class"))
		return default_class(dev, mask);
	int n = dk_devargs_get_list(da, "class", ':', items, DK_CLASS_DRV_MAX);
	if (n < 0) {
		DK_ERR("%s: bad class= value \"%s\": write class=a or class=a:b (at most %d classes)",
		       dev_name(dev), dk_devargs_get(da, "class"), DK_CLASS_DRV_MAX);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		int rc = add_class(dev, items[i], mask);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int class_declares(const struct dk_class_driver *d, const char *key)
{
	for (const char *const *k = d->devargs_keys; k && *k; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

/* Every key but "class" must be declared by a class of mask. */
static int check_keys(const struct dk_pci_device *dev, const struct dk_devargs *da,
		      uint64_t mask)
{
	for (unsigned int i = 0; da && i < da->n_kv; i++) {
		const char *key = da->kv[i].key;
		if (strcmp(key, "class") == 0)
			continue;
		int ok = 0;
		for (struct dk_class_driver *d = dk__class_first(); d && !ok; d = d->next_)
			ok = (mask & BIT(d)) && class_declares(d, key);
		if (!ok) {
			DK_ERR("%s: unknown devargs key \"%s\": no class probed on the device declares it (see the class drivers' devargs_keys)",
			       dev_name(dev), key);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct dk_class_driver *by_bit(uint64_t mask, const char *name)
{
	const struct dk_class_driver *d = dk__class_find(name);
	return d && (mask & BIT(d)) ? d : NULL;
}

static int check_combination(const struct dk_pci_device *dev, uint64_t mask)
{
	for (size_t i = 0; i < sizeof(g_forbidden) / sizeof(g_forbidden[0]); i++) {
		const struct dk_class_driver *a = by_bit(mask, g_forbidden[i].a);
		if (!a)
			continue;
		int bad = g_forbidden[i].b ? by_bit(mask, g_forbidden[i].b) != NULL : (mask & ~BIT(a)) != 0;
		if (bad) {
			DK_ERR("%s: class %s cannot share a device with %s: probe them on different devices",
			       dev_name(dev), g_forbidden[i].a,
			       g_forbidden[i].b ? g_forbidden[i].b : "any other class");
			return -EINVAL;
		}
	}
	return 0;
}

/* Probing again: the devargs must agree with the context's configuration. */
static int check_config(const struct dk__cdev *c, const struct dk_devargs *da)
{
	for (unsigned int i = 0; da && i < da->n_kv; i++) {
		const struct dk_devargs_kv *kv = &da->kv[i];
		if (strcmp(kv->key, "class") == 0)
			continue;
		const char *have = dk_devargs_get(&c->config, kv->key);
		if (!have || strcmp(have, kv->value) != 0) {
			DK_ERR("%s: %s=%s contradicts the device context (%s%s%s): remove the device (dk_cdev_remove) to change its configuration",
			       dev_name(c->pub.pci), kv->key, kv->value, have ? kv->key : "created without it",
			       have ? "=" : "", have ? have : "");
			return -EINVAL;
		}
	}
	return 0;
}

static int check_again(const struct dk_pci_device *dev, uint64_t again)
{
	for (struct dk_class_driver *d = dk__class_first(); d; d = d->next_) {
		if ((again & BIT(d)) && !(d->flags & DK_CLASS_DRV_PROBE_AGAIN)) {
			DK_ERR("%s: class %s is probed on the device already and cannot be probed again",
			       dev_name(dev), d->name);
			return -EEXIST;
		}
	}
	return 0;
}

static int check_request(const struct dk_pci_device *dev, const struct dk__cdev *c,
			 const struct dk_devargs *da, uint64_t *req)
{
	int rc = requested_classes(dev, da, req);
	if (rc < 0)
		return rc;
	uint64_t loaded = c ? c->classes : 0;
	rc = check_keys(dev, da, *req | loaded);
	if (rc == 0 && c)
		rc = check_config(c, da);
	if (rc == 0)
		rc = check_again(dev, *req & loaded);
	if (rc == 0)
		rc = check_combination(dev, *req | loaded);
	return rc;
}

static void update_dma_bits(struct dk__cdev *c)
{
	unsigned int bits = 64;
	for (struct dk_class_driver *d = dk__class_first(); d; d = d->next_)
		if ((c->classes & BIT(d)) && d->dma_addr_bits && d->dma_addr_bits < bits)
			bits = d->dma_addr_bits;
	c->pub.attr.dma_addr_bits = bits;
}

/* Remove the classes of mask in reverse registration order; the first error. */
static int remove_classes(struct dk__cdev *c, uint64_t mask)
{
	struct dk_class_driver *order[DK_CLASS_DRV_MAX];
	unsigned int n = 0;
	for (struct dk_class_driver *d = dk__class_first(); d; d = d->next_)
		if (mask & c->classes & BIT(d))
			order[n++] = d;
	int first = 0;
	while (n-- > 0) {
		struct dk_class_driver *d = order[n];
		int rc = d->remove ? d->remove(&c->pub) : 0;
		if (rc < 0) {
			DK_ERR("%s: remove by class %s failed: %s (the device context is kept: retry with dk_cdev_remove)",
			       dev_name(c->pub.pci), d->name, strerror(-rc));
			if (!first)
				first = rc;
			continue;
		}
		c->classes &= ~BIT(d);
		c->priv[d->bit_] = NULL;
	}
	update_dma_bits(c);
	return first;
}

static int probe_classes(struct dk__cdev *c, uint64_t req)
{
	uint64_t loaded_before = c->classes;
	for (struct dk_class_driver *d = dk__class_first(); d; d = d->next_) {
		if (!(req & BIT(d)))
			continue;
		int rc = d->probe(&c->pub);
		if (rc < 0) {
			DK_ERR("%s: probe by class %s failed: %s", dev_name(c->pub.pci), d->name,
			       strerror(-rc));
			remove_classes(c, c->classes & ~loaded_before);
			return rc;
		}
		c->classes |= BIT(d);
		DK_INFO("%s: class %s probed", dev_name(c->pub.pci), d->name);
	}
	update_dma_bits(c);
	return 0;
}

int dk__cdev_probe(struct dk_pci_device *dev, const struct dk_devargs *da)
{
	struct dk__cdev *c = dk__cdev_find(dev);
	uint64_t req;
	int rc = check_request(dev, c, da, &req);
	if (rc < 0)
		return rc;
	int created = 0;
	if (!c) {
		c = dk__cdev_create(dev, da);
		if (!c)
			return -errno;
		created = 1;
	}
	rc = probe_classes(c, req);
	if (rc < 0 && created && !c->classes)
		dk__cdev_release(c);
	return rc;
}

int dk__cdev_remove_all(struct dk__cdev *c)
{
	int rc = remove_classes(c, c->classes);
	if (rc == 0 && !c->classes)
		dk__cdev_release(c);
	return rc;
}

void dk__cdev_cleanup(void)
{
	struct dk_cdev *p;
	while ((p = dk_cdev_next(NULL)) != NULL) {
		struct dk__cdev *c = dk__cdev(p);
		if (remove_classes(c, c->classes) < 0)
			DK_WARN("%s: dk_cleanup releases the device context although a class failed to remove: what that class holds is leaked",
				dev_name(p->pci));
		dk__cdev_release(c);
	}
}
