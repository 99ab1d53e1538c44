/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening PCI devices through VFIO (dk_pci_vfio_open/close): the device
 * must be bound to a vfio driver; its IOMMU group joins the default
 * container; every region's information is read and the BARs mapped
 * (pci_region.c); config access switches to the VFIO config region.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/pci/pci_internal.h"
#include "core/parse.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

/* ---- config space through the VFIO config region ----------------------------- */

static int vfio_config_rw(struct dk__pci_dev *d, void *buf, size_t len, size_t off, int write)
{
	const struct dk__pci_vfio *v = d->vfio;
	if (!v || v->nr_regions <= DK_PCI_REGION_CONFIG)
		return -ENODEV;
	const struct dk_pci_region *cfg = &v->regions[DK_PCI_REGION_CONFIG].pub;
	if (off >= cfg->size)
		return 0; /* nothing transferred: reported as a short transfer */
	if (len > cfg->size - off)
		len = (size_t)(cfg->size - off); /* short: the caps walk takes what there is */
	size_t done = 0;
	while (done < len) {
		ssize_t n = write ? pwrite(v->fd, (const uint8_t *)buf + done, len - done,
					   (off_t)(cfg->fd_offset + off + done))
				  : pread(v->fd, (uint8_t *)buf + done, len - done,
					  (off_t)(cfg->fd_offset + off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done ? (int)done : -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (int)done;
}

static int vfio_config_read(struct dk__pci_dev *d, void *buf, size_t len, size_t off)
{
	return vfio_config_rw(d, buf, len, off, 0);
}

static int vfio_config_write(struct dk__pci_dev *d, const void *buf, size_t len, size_t off)
{
	return vfio_config_rw(d, (void *)(uintptr_t)buf, len, off, 1);
}

static const struct dk__pci_config_ops vfio_config_ops = {
	.name = "vfio",
	.read = vfio_config_read,
	.write = vfio_config_write,
};

/* ---- open / close --------------------------------------------------------------- */

static void free_state(struct dk__pci_vfio *v)
{
	for (uint32_t i = 0; i < v->nr_regions; i++)
		dk__pci_region_unmap(&v->regions[i]);
	free(v->regions);
	dk_vfio_device_close(v->vdev);
	free(v);
}

/* The kernel driver bound now and the IOMMU group, read fresh from sysfs. */
static int check_bound(struct dk__pci_dev *d, int *group)
{
	char rel[DK__PATH_MAX], drv[sizeof(d->pub.kernel_driver)], buf[32];
	if (!d->sysfs_rel[0]) {
		DK_ERR("%s has no sysfs directory: cannot open it through VFIO", d->name);
		return -ENODEV;
	}
	snprintf(rel, sizeof(rel), "%s/driver", d->sysfs_rel);
	if (dk__sysfs_read_link_name(rel, drv, sizeof(drv)) < 0)
		drv[0] = '\0';
	snprintf(d->pub.kernel_driver, sizeof(d->pub.kernel_driver), "%s", drv);
	if (strncmp(drv, "vfio", 4) != 0) {
		DK_ERR("%s is bound to %s, not to vfio-pci: bind it: dmakit bind %s vfio-pci", d->name,
		       drv[0] ? drv : "no driver", d->name);
		return -ENODEV;
	}
	snprintf(rel, sizeof(rel), "%s/iommu_group", d->sysfs_rel);
	uint64_t g;
	if (dk__sysfs_read_link_name(rel, buf, sizeof(buf)) < 0 ||
	    dk__parse_u64(buf, strlen(buf), 10, &g) < 0 || g > INT32_MAX) {
		DK_ERR("%s has no IOMMU group: enable the IOMMU (intel_iommu=on / amd_iommu=on)",
		       d->name);
		return -ENODEV;
	}
	*group = (int)g;
	d->pub.iommu_group = (int)g;
	return 0;
}

int dk__pci_vfio_attach(struct dk__pci_dev *d, int group, uint32_t flags)
{
	int rc;
	struct dk__pci_vfio *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->open_flags = flags;
	v->opens = 1;
	v->vdev = dk_vfio_device_open(NULL, group, d->name);
	if (!v->vdev) {
		rc = -errno;
		free(v);
		return rc;
	}
	v->fd = dk_vfio_device_fd(v->vdev);
	struct dk_vfio_device_info info;
	dk_vfio_device_info(v->vdev, &info);
	v->regions = calloc(info.num_regions ? info.num_regions : 1, sizeof(*v->regions));
	if (!v->regions) {
		rc = -ENOMEM;
		goto err_free;
	}
	for (uint32_t i = 0; i < info.num_regions; i++) {
		struct dk_vfio_region_info ri;
		rc = dk_vfio_region_info(v->vdev, i, &ri);
		if (rc < 0)
			goto err_free;
		/* Only BARs are mapped; ROM, config and the rest are read with pread. */
		if (i >= DK_PCI_NUM_BARS) {
			ri.nr_areas = 0;
		}
		rc = dk__pci_region_map(&v->regions[i], &ri, v->fd,
					!!(flags & DK_PCI_VFIO_SPARSE_SPLIT), d->name);
		dk_vfio_region_info_clear(&ri);
		if (rc < 0)
			goto err_free;
		v->nr_regions = i + 1;
	}
	v->saved_cfg_ops = d->cfg_ops;
	v->saved_cfg_ctx = d->cfg_ctx;
	d->vfio = v;
	if (v->nr_regions > DK_PCI_REGION_CONFIG && v->regions[DK_PCI_REGION_CONFIG].pub.size) {
		d->cfg_ops = &vfio_config_ops;
		d->cfg_ctx = v;
	}
	DK_DEBUG("%s: open through VFIO (group %d, %u regions)", d->name, group, v->nr_regions);
	return 0;

err_free:
	free_state(v);
	return rc;
}

int dk_pci_vfio_open_flags(struct dk_pci_device *dev, uint32_t flags)
{
	if (!dev) {
		DK_ERR("dk_pci_vfio_open: NULL device");
		return -EINVAL;
	}
	struct dk__pci_dev *d = dk__pci_dev(dev);
	if (flags & ~DK_PCI_VFIO_SPARSE_SPLIT) {
		DK_ERR("%s: unknown VFIO open flags 0x%x (known: DK_PCI_VFIO_SPARSE_SPLIT)", d->name,
		       flags & ~DK_PCI_VFIO_SPARSE_SPLIT);
		return -EINVAL;
	}
	if (d->vfio) {
		if (d->vfio->open_flags != flags) {
			DK_ERR("%s is already open through VFIO with other flags (0x%x): close it first",
			       d->name, d->vfio->open_flags);
			return -EBUSY;
		}
		d->vfio->opens++;
		return 0;
	}
	int group = dev->iommu_group;
	/* An mdev's group was read when dk_pci_mdev_open found it; it has no
	 * kernel driver of the vfio family to check (its parent's driver serves it). */
	if (dev->kind != DK_PCI_KIND_MDEV) {
		int rc = check_bound(d, &group);
		if (rc < 0)
			return rc;
	}
	return dk__pci_vfio_attach(d, group, flags);
}

int dk_pci_vfio_open(struct dk_pci_device *dev)
{
	return dk_pci_vfio_open_flags(dev, 0);
}

void dk__pci_vfio_release(struct dk__pci_dev *d)
{
	struct dk__pci_vfio *v = d->vfio;
	if (!v)
		return;
	d->cfg_ops = v->saved_cfg_ops;
	d->cfg_ctx = v->saved_cfg_ctx;
	d->vfio = NULL;
	free_state(v);
}

int dk_pci_vfio_close(struct dk_pci_device *dev)
{
	if (!dev) {
		DK_ERR("dk_pci_vfio_close: NULL device");
		return -EINVAL;
	}
	struct dk__pci_dev *d = dk__pci_dev(dev);
	if (!d->vfio) {
		DK_ERR("%s is not open through VFIO: nothing to close", d->name);
		return -ENODEV;
	}
	if (--d->vfio->opens == 0)
		dk__pci_vfio_release(d);
	return 0;
}

int dk_pci_vfio_is_open(const struct dk_pci_device *dev)
{
	return dev && dk__pci_dev(dev)->vfio != NULL;
}

struct dk_vfio_device *dk_pci_vfio_device(const struct dk_pci_device *dev)
{
	return dev && dk__pci_dev(dev)->vfio ? dk__pci_dev(dev)->vfio->vdev : NULL;
}

int dk_pci_region_count(const struct dk_pci_device *dev)
{
	if (!dev || !dk__pci_dev(dev)->vfio)
		return -ENODEV;
	return (int)dk__pci_dev(dev)->vfio->nr_regions;
}

int dk_pci_region_info(const struct dk_pci_device *dev, unsigned int index,
		       struct dk_pci_region *out)
{
	if (!dev || !out) {
		DK_ERR("dk_pci_region_info: NULL %s", dev ? "output" : "device");
		return -EINVAL;
	}
	const struct dk__pci_dev *d = dk__pci_dev(dev);
	if (!d->vfio) {
		DK_ERR("%s is not open through VFIO: call dk_pci_vfio_open first", d->name);
		return -ENODEV;
	}
	if (index >= d->vfio->nr_regions) {
		DK_ERR("%s: region %u out of range: the device has regions 0..%u", d->name, index,
		       d->vfio->nr_regions ? d->vfio->nr_regions - 1 : 0);
		return -EINVAL;
	}
	*out = d->vfio->regions[index].pub;
	return 0;
}
