/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO devices: open by name inside a group (VFIO_GROUP_GET_DEVICE_FD), or
 * through the device's cdev bound to an IOAS (backend iommufd: the table of
 * bound devices is here, the ioctls in vfio_iommufd.c), VFIO_DEVICE_GET_INFO
 * at open, reset. Names are passed to the kernel as
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

/* VFIO_DEVICE_GET_INFO into d->info. */
static int read_info(struct dk_vfio_device *d)
{
	struct vfio_device_info info = {.argsz = sizeof(info)};
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info) < 0) {
		int e = errno;
		DK_ERR("%s: VFIO_DEVICE_GET_INFO: %s", d->name, strerror(e));
		return -e;
	}
	d->info.flags = info.flags;
	d->info.num_regions = info.num_regions;
	d->info.num_irqs = info.num_irqs;
	return 0;
}

/* The container backend: the device fd from its group. */
static int open_in_group(struct dk_vfio_device *d, struct dk_vfio_container *c, int group)
{
	int rc;
	d->group = dk_vfio_group_open(c, group);
	if (!d->group)
		return -errno;
	d->c = d->group->c;
	d->fd = ioctl(d->group->fd, VFIO_GROUP_GET_DEVICE_FD, d->name);
	if (d->fd < 0) {
		rc = -errno;
		if (errno == ENODEV || errno == EINVAL)
			DK_ERR("group %d has no device %s: check its members in %s/kernel/iommu_groups/%d/devices",
			       group, d->name, dk_sysfs_root(), group);
		else if (errno == EBUSY)
			DK_ERR("%s: VFIO_GROUP_GET_DEVICE_FD: device busy (already open elsewhere?)", d->name);
		else
			DK_ERR("%s: VFIO_GROUP_GET_DEVICE_FD: %s", d->name, strerror(errno));
		if (rc == -EINVAL)
			rc = -ENODEV;
		goto err_group;
	}
	if ((rc = read_info(d)) < 0)
		goto err_close;
	DK_DEBUG("%s: open (group %d, %u regions, %u irqs, flags 0x%x)", d->name, group,
		 d->info.num_regions, d->info.num_irqs, d->info.flags);
	return 0;

err_close:
	close(d->fd);
err_group:
	dk_vfio_group_close(d->group);
	return rc;
}

static struct dk_vfio_device *g_bound; /* iommufd devices of this process; dk__vfio_lock */

/* The iommufd backend: bound once per process, shared by reference. */
static struct dk_vfio_device *open_in_ioas(struct dk_vfio_device *d, struct dk_vfio_container *c)
{
	int rc;
	if (!c && !(c = dk_vfio_iommufd_default()))
		return NULL;
	pthread_mutex_lock(&dk__vfio_lock);
	for (struct dk_vfio_device *b = g_bound; b; b = b->next) {
		if (strcmp(b->name, d->name) != 0)
			continue;
		if (b->c != c) {
			DK_ERR("%s is attached to another IOAS of this process already (IOAS %u): use that one (dk_vfio_device_container), a device is bound once",
			       d->name, b->c->ioas_id);
			rc = -EBUSY;
			goto err_unlock;
		}
		b->refs++;
		pthread_mutex_unlock(&dk__vfio_lock);
		return b;
	}
	int first = c->ngroups == 0; /* attaches are serialised by dk__vfio_lock */
	d->c = c;
	if ((rc = dk__iommufd_attach(c, d)) < 0)
		goto err_unlock;
	if ((rc = read_info(d)) < 0)
		goto err_detach;
	d->refs = 1;
	d->next = g_bound;
	g_bound = d;
	pthread_mutex_unlock(&dk__vfio_lock);
	DK_DEBUG("%s: open through iommufd (IOAS %u, %u regions, %u irqs, flags 0x%x)", d->name,
		 c->ioas_id, d->info.num_regions, d->info.num_irqs, d->info.flags);
	/* The IOAS has an IOMMU behind it now: DMA memory goes into it. */
	if (first && dk__vfio_iommu_ready(c) < 0)
		DK_ERR("%s: not all DMA memory could be mapped into its IOAS (see above): the device may fault on it",
		       d->name);
	return d;

err_detach:
	if (dk__iommufd_detach(c, d))
		dk__vfio_iommu_gone(c);
err_unlock:
	pthread_mutex_unlock(&dk__vfio_lock);
	free(d);
	errno = -rc;
	return NULL;
}

struct dk_vfio_device *dk_vfio_device_open(struct dk_vfio_container *c, int group,
					   const char *name)
{
	if (!name || !name[0] || strlen(name) >= sizeof(((struct dk_vfio_device *)0)->name)) {
		DK_ERR("VFIO device name \"%s\": give the PCI address or mdev UUID (at most 63 characters)",
		       name ? name : "(null)");
		errno = EINVAL;
		return NULL;
	}
	int backend = c ? c->backend : dk_vfio_backend_select(name, NULL, 0);
	if (backend < 0) {
		errno = -backend;
		return NULL;
	}
	struct dk_vfio_device *d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (backend == DK_VFIO_BACKEND_IOMMUFD)
		return open_in_ioas(d, c); /* frees d on failure */
	int rc = open_in_group(d, c, group);
	if (rc < 0) {
		free(d);
		errno = -rc;
		return NULL;
	}
	return d;
}

void dk_vfio_device_close(struct dk_vfio_device *d)
{
	if (!d)
		return;
	if (d->group) {
		close(d->fd);
		dk_vfio_group_close(d->group);
		free(d);
		return;
	}
	pthread_mutex_lock(&dk__vfio_lock);
	if (--d->refs > 0) {
		pthread_mutex_unlock(&dk__vfio_lock);
		return;
	}
	struct dk_vfio_device **pp = &g_bound;
	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (*pp)
		*pp = d->next;
	if (dk__iommufd_detach(d->c, d))
		dk__vfio_iommu_gone(d->c);
	pthread_mutex_unlock(&dk__vfio_lock);
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
	return d ? d->c : NULL;
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
