/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfio-pci mediated devices as PCI devices (dk_pci_mdev_open/close): the
 * mdev is checked in sysfs (<root>/bus/mdev/devices/<uuid>: device_api,
 * iommu_group), opened through VFIO by UUID with the code that opens PCI
 * functions (dk__pci_vfio_attach), its identity read from the VFIO config
 * region, and added to the PCI device list as kind DK_PCI_KIND_MDEV. The
 * device keeps no sysfs directory (sysfs_rel ""): config space goes through
 * VFIO only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci/pci_internal.h"
#include "core/parse.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The sysfs side: device_api, iommu_group and driver of bus/mdev/devices/<uuid>. */
static int check_sysfs(struct dk__pci_dev *d)
{
	const char *uuid = d->name;
	char rel[DK__PATH_MAX], buf[64];
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s", uuid);
	if (!dk__sysfs_exists(rel)) {
		DK_ERR("no mdev %s in %s/bus/mdev/devices: create it first (dk_mdev_create, or "
		       "write the UUID to <parent>/mdev_supported_types/<type>/create)",
		       uuid, dk_sysfs_root());
		return -ENOENT;
	}
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/mdev_type/device_api", uuid);
	int rc = dk__sysfs_read_str(rel, buf, sizeof(buf));
	if (rc < 0) {
		DK_ERR("mdev %s: cannot read %s/%s: %s: is it an mdev of a loaded parent driver?",
		       uuid, dk_sysfs_root(), rel, strerror(-rc));
		return -ENODEV;
	}
	if (strcmp(buf, "vfio-pci") != 0) {
		DK_ERR("mdev %s has device_api \"%s\", not \"vfio-pci\": it is not a PCI device "
		       "(an mdev driver for %s is needed)",
		       uuid, buf, buf);
		return -ENOTSUP;
	}
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/iommu_group", uuid);
	uint64_t g;
	if (dk__sysfs_read_link_name(rel, buf, sizeof(buf)) < 0 ||
	    dk__parse_u64(buf, strlen(buf), 10, &g) < 0 || g > INT32_MAX) {
		DK_ERR("mdev %s has no IOMMU group (%s/%s): load vfio and its parent's driver, or "
		       "the parent did not register it with VFIO",
		       uuid, dk_sysfs_root(), rel);
		return -ENODEV;
	}
	d->pub.iommu_group = (int)g;
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/driver", uuid);
	if (dk__sysfs_read_link_name(rel, d->pub.kernel_driver, sizeof(d->pub.kernel_driver)) < 0)
		d->pub.kernel_driver[0] = '\0';
	return 0;
}

/* Identity, BARs and capabilities from the VFIO config region and region table. */
static int read_identity(struct dk__pci_dev *d)
{
	struct dk_pci_device *p = &d->pub;
	uint8_t cfg[64];
	int n = d->cfg_ops->read(d, cfg, sizeof(cfg), 0);
	if (n < (int)sizeof(cfg) || le16(cfg) == 0xffff || le16(cfg) == 0) {
		DK_ERR("mdev %s: the VFIO config region gave %s: the parent driver's config "
		       "emulation is broken",
		       d->name,
		       n < (int)sizeof(cfg) ? "less than a 64-byte header" : "no vendor ID");
		return -EIO;
	}
	p->id.vendor_id = le16(cfg);
	p->id.device_id = le16(cfg + 2);
	p->revision = cfg[8];
	p->id.class_id = (uint32_t)cfg[9] | (uint32_t)cfg[10] << 8 | (uint32_t)cfg[11] << 16;
	if ((cfg[0x0e] & 0x7f) == 0) {
		p->id.subsystem_vendor_id = le16(cfg + 0x2c);
		p->id.subsystem_device_id = le16(cfg + 0x2e);
	}
	const struct dk__pci_vfio *v = d->vfio;
	for (unsigned int i = 0; i < DK_PCI_NUM_RESOURCES && i < v->nr_regions; i++) {
		struct dk_pci_bar *b = &p->bars[i];
		b->len = v->regions[i].pub.size;
		if (!b->len || i == DK_PCI_ROM_INDEX) {
			b->flags = b->len ? DK_PCI_BAR_MEM : 0;
			continue;
		}
		uint32_t bar;
		memcpy(&bar, cfg + 0x10 + 4 * i, 4);
		if (bar & 1) {
			b->flags = DK_PCI_BAR_IO;
			continue;
		}
		b->flags = DK_PCI_BAR_MEM;
		if (bar & 8)
			b->flags |= DK_PCI_BAR_PREFETCH;
		if (((bar >> 1) & 3) == 2)
			b->flags |= DK_PCI_BAR_MEM64;
	}
	int rc = dk__pci_read_caps(d);
	if (rc < 0)
		DK_WARN("mdev %s: capabilities not read: %s", d->name, strerror(-rc));
	return 0;
}

int dk_pci_mdev_open(const char *uuid, uint32_t flags, struct dk_pci_device **out)
{
	if (out)
		*out = NULL;
	if (!out || !dk__uuid_valid(uuid)) {
		DK_ERR("dk_pci_mdev_open: %s: give the mdev's UUID "
		       "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) and an output pointer",
		       !out   ? "NULL output pointer"
		       : uuid ? uuid
			      : "NULL UUID");
		return -EINVAL;
	}
	if (flags & ~DK_PCI_VFIO_SPARSE_SPLIT) {
		DK_ERR("mdev %s: unknown open flags 0x%x (known: DK_PCI_VFIO_SPARSE_SPLIT)", uuid,
		       flags & ~DK_PCI_VFIO_SPARSE_SPLIT);
		return -EINVAL;
	}
	char name[DK__UUID_LEN];
	for (int i = 0; i < DK__UUID_LEN; i++) /* the kernel names mdevs in lower case */
		name[i] = (char)(uuid[i] >= 'A' && uuid[i] <= 'F' ? uuid[i] - 'A' + 'a' : uuid[i]);
	if (dk_pci_find(name)) {
		DK_ERR("mdev %s is open already: use dk_pci_find(\"%s\"), or dk_pci_mdev_close it "
		       "first",
		       name, name);
		return -EBUSY;
	}
	struct dk__pci_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->sysfs_rel[0] = '\0'; /* no sysfs directory of its own: config through VFIO only */
	d->cfg_ops = &dk__pci_config_sysfs_ops; /* -ENODEV while not open through VFIO */
	struct dk_pci_device *p = &d->pub;
	p->device.name = d->name;
	p->device.bus = &dk__pci_bus;
	p->device.numa_node = -1;
	p->kind = DK_PCI_KIND_MDEV;
	p->has_addr = 0;
	p->iommu_group = -1;

	int rc = check_sysfs(d);
	if (rc < 0)
		goto err_free;
	rc = dk__pci_vfio_attach(d, p->iommu_group, flags);
	if (rc < 0)
		goto err_free;
	rc = read_identity(d);
	if (rc < 0)
		goto err_release;
	rc = dk__pci_list_add(d);
	if (rc < 0)
		goto err_release;
	DK_INFO("mdev %s: %04x:%04x open through VFIO (group %d)", d->name, p->id.vendor_id,
		p->id.device_id, p->iommu_group);
	*out = p;
	return 0;

err_release:
	dk__pci_vfio_release(d);
err_free:
	free(d);
	return rc;
}

int dk_pci_mdev_close(struct dk_pci_device *dev)
{
	if (!dev || dev->kind != DK_PCI_KIND_MDEV) {
		DK_ERR("dk_pci_mdev_close: %s",
		       dev ? "not an mdev: close PCI functions with dk_pci_vfio_close"
			   : "NULL device");
		return -EINVAL;
	}
	struct dk__pci_dev *d = dk__pci_dev(dev);
	int rc = d->driver ? dk_pci_remove_device(dev) : 0;
	if (rc < 0) {
		DK_ERR("mdev %s stays open: its driver's remove failed (see above); release what the driver holds and close again",
		       d->name);
		return -EBUSY;
	}
	DK_DEBUG("mdev %s closed", d->name);
	dk__pci_list_del(d); /* releases VFIO (every reference) and frees */
	return 0;
}
