/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO devices: open by name inside a group (VFIO_GROUP_GET_DEVICE_FD),
 * VFIO_DEVICE_GET_INFO at open, reset. Names are passed to the kernel as
 * given: PCI addresses and mdev UUIDs alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include <dmakit/sysfs.h>

#include "vfio/vfio_internal.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

struct dk_vfio_device *dk_vfio_device_open(struct dk_vfio_container *c, int group,
					   const char *name)
{
	int rc;
	if (!name || !name[0] || strlen(name) >= sizeof(((struct dk_vfio_device *)0)->name)) {
		DK_ERR("VFIO device name \"%s\": give the PCI address or mdev UUID (at most 63 characters)",
		       name ? name : "(null)");
		errno = EINVAL;
		return NULL;
	}
	struct dk_vfio_device *d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->group = dk_vfio_group_open(c, group);
	if (!d->group) {
		rc = -errno;
		goto err_free;
	}
	d->fd = ioctl(d->group->fd, VFIO_GROUP_GET_DEVICE_FD, d->name);
	if (d->fd < 0) {
		rc = -errno;
		if (errno == ENODEV || errno == EINVAL)
			DK_ERR("group %d has no device %s: check its members in %s/kernel/iommu_groups/%d/devices",
			       group, name, dk_sysfs_root(), group);
		else if (errno == EBUSY)
			DK_ERR("%s: VFIO_GROUP_GET_DEVICE_FD: device busy (already open elsewhere?)", name);
		else
			DK_ERR("%s: VFIO_GROUP_GET_DEVICE_FD: %s", name, strerror(errno));
		if (rc == -EINVAL)
			rc = -ENODEV;
		goto err_group;
	}
	struct vfio_device_info info = {.argsz = sizeof(info)};
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info) < 0) {
		rc = -errno;
		DK_ERR("%s: VFIO_DEVICE_GET_INFO: %s", name, strerror(errno));
		goto err_close;
	}
	d->info.flags = info.flags;
	d->info.num_regions = info.num_regions;
	d->info.num_irqs = info.num_irqs;
	DK_DEBUG("%s: open (group %d, %u regions, %u irqs, flags 0x%x)", name, group,
		 info.num_regions, info.num_irqs, info.flags);
	return d;

err_close:
	close(d->fd);
err_group:
	dk_vfio_group_close(d->group);
err_free:
	free(d);
	errno = -rc;
	return NULL;
}

void dk_vfio_device_close(struct dk_vfio_device *d)
{
	if (!d)
		return;
	close(d->fd);
	dk_vfio_group_close(d->group);
	free(d);
}

int dk_vfio_device_fd(const struct dk_vfio_device *d)
{
	return d ? d->fd : -EINVAL;
}

const char *dk_vfio_device_name(const struct dk_vfio_device *d)
{
	return d ? d->name : NULL;
}

struct dk_vfio_container *dk_vfio_device_container(const struct dk_vfio_device *d)
{
	return d ? d->group->c : NULL;
}

int dk_vfio_device_info(const struct dk_vfio_device *d, struct dk_vfio_device_info *out)
{
	if (!d || !out)
		return -EINVAL;
	*out = d->info;
	return 0;
}

int dk_vfio_device_reset(const struct dk_vfio_device *d)
{
	if (!d) {
		DK_ERR("device reset: NULL device");
		return -EINVAL;
	}
	if (!(d->info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		DK_ERR("%s: the device does not support reset (VFIO reports no FLR, PM or bus reset for it)",
		       d->name);
		return -ENOTSUP;
	}
	if (ioctl(d->fd, VFIO_DEVICE_RESET) == 0)
		return 0;
	int e = errno;
	if (e == ENOTTY)
		DK_ERR("%s: the kernel's VFIO driver has no reset for this device (ENOTTY)", d->name);
	else
		DK_ERR("%s: VFIO_DEVICE_RESET: %s", d->name, strerror(e));
	return -e;
}

int dk__vfio_ioctl_argsz(int fd, unsigned long req, const void *hdr, size_t hdr_len,
			 const char *what, uint8_t **bufp, size_t *lenp)
{
	size_t sz = hdr_len;
	uint8_t *buf = NULL;
	for (int tries = 0;; tries++) {
		uint8_t *nb = realloc(buf, sz);
		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		memset(buf, 0, sz);
		memcpy(buf, hdr, hdr_len);
		uint32_t argsz = (uint32_t)sz;
		memcpy(buf, &argsz, sizeof(argsz));
		if (ioctl(fd, req, buf) < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		memcpy(&argsz, buf, sizeof(argsz));
		if (argsz <= sz) {
			*bufp = buf;
			*lenp = argsz < hdr_len ? hdr_len : argsz;
			return 0;
		}
		if (argsz > DK__VFIO_INFO_MAX || tries >= 3) {
			DK_ERR("%s keeps asking for more room (%u bytes): a kernel or VFIO driver bug",
			       what, argsz);
			free(buf);
			return -EPROTO;
		}
		sz = argsz;
	}
}
