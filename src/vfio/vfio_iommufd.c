/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iommufd backend (contract: dmakit/vfio.h "backends"; internals in
 * vfio/vfio_internal.h): an IOAS on /dev/iommu per dk_vfio_container,
 * devices opened through their cdev, bound and attached to it, the usable
 * IOVA ranges read from the IOAS after every attach and detach, and fixed-IOVA
 * map/unmap. The kernel interface is vfio/iommufd_uapi.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/sysfs.h"
#include "vfio/iommufd_uapi.h"
#include "vfio/vfio_internal.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

static int open_iommu(void)
{
	char path[DK__PATH_MAX];
	snprintf(path, sizeof(path), "%s/iommu", dk__vfio_dev_root());
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e == ENOENT || e == ENODEV || e == ENXIO) {
		DK_ERR("no %s: the kernel has no IOMMUFD (CONFIG_IOMMUFD): use the container backend (DMAKIT_VFIO_BACKEND=auto or container)",
		       path);
		return -ENOTSUP;
	}
	if (e == EACCES || e == EPERM) {
		DK_ERR("cannot open %s: %s: run as root or give your user access to it", path,
		       strerror(e));
		return -EACCES;
	}
	DK_ERR("cannot open %s: %s", path, strerror(e));
	return -e;
}

struct dk_vfio_container *dk__iommufd_new(int is_default)
{
	int rc, fd = open_iommu();
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	struct dk__iommu_ioas_alloc a = {.size = sizeof(a)};
	if (ioctl(fd, DK__IOMMU_IOAS_ALLOC, &a) < 0) {
		rc = -errno;
		DK_ERR("IOMMU_IOAS_ALLOC on /dev/iommu: %s", strerror(errno));
		goto err_close;
	}
	struct dk_vfio_container *c = calloc(1, sizeof(*c));
	if (!c) {
		rc = -ENOMEM;
		goto err_close; /* closing the descriptor frees the IOAS */
	}
	c->fd = fd;
	c->is_default = is_default;
	c->backend = DK_VFIO_BACKEND_IOMMUFD;
	c->ioas_id = a.out_ioas_id;
	pthread_mutex_init(&c->lock, NULL);
	DK_DEBUG("iommufd: IOAS %u", c->ioas_id);
	return c;

err_close:
	close(fd);
	errno = -rc;
	return NULL;
}

/* ---- IOVA ranges ------------------------------------------------------------- */

int dk__iommufd_query(struct dk_vfio_container *c, struct dk_vfio_iommu_info *out)
{
	struct dk__iommu_iova_range r[DK_VFIO_MAX_IOVA_RANGES];
	struct dk__iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = c->ioas_id,
		.num_iovas = DK_VFIO_MAX_IOVA_RANGES,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};
	memset(out, 0, sizeof(*out));
	int truncated = 0;
	if (ioctl(c->fd, DK__IOMMU_IOAS_IOVA_RANGES, &q) < 0) {
		if (errno != EMSGSIZE) {
			int e = errno;
			DK_ERR("IOMMU_IOAS_IOVA_RANGES of IOAS %u: %s", c->ioas_id, strerror(e));
			return -e;
		}
		truncated = 1; /* r holds the first DK_VFIO_MAX_IOVA_RANGES */
	}
	uint32_t n = q.num_iovas;
	if (truncated || n > DK_VFIO_MAX_IOVA_RANGES) {
		out->flags |= DK_VFIO_IOMMU_RANGES_TRUNCATED;
		DK_WARN("the IOAS reports %u IOVA ranges: using the first %u", n,
			DK_VFIO_MAX_IOVA_RANGES);
		n = DK_VFIO_MAX_IOVA_RANGES;
	}
	for (uint32_t i = 0; i < n; i++) {
		out->ranges[i].start = r[i].start;
		out->ranges[i].end = r[i].last;
	}
	out->nr_ranges = n;
	out->flags |= DK_VFIO_IOMMU_IOVA_RANGES | DK_VFIO_IOMMU_PGSIZES;
	uint64_t align = q.out_iova_alignment;
	out->iova_pgsizes = align && !(align & (align - 1)) ? align : 4096;
	out->iommu_type = DK_VFIO_IOMMU_IOAS;
	return 0;
}

/* Read c's ranges into its cache (c->lock held); keep the kernel's checks
 * only when they cannot be read. */
static void refresh(struct dk_vfio_container *c)
{
	struct dk_vfio_iommu_info *info = &c->cached;
	if (dk__iommufd_query(c, info) == 0) {
		c->min_pgsize = info->iova_pgsizes;
		return;
	}
	memset(info, 0, sizeof(*info));
	info->nr_ranges = 1;
	info->ranges[0].end = UINT64_MAX;
	c->min_pgsize = 4096;
}

/* ---- attach / detach ------------------------------------------------------------ */

static int open_cdev(const char *name, char *path, size_t len)
{
	int rc = dk__vfio_cdev_path(name, path, len);
	if (rc < 0) {
		DK_ERR("%s has no VFIO cdev (no vfio-dev/ under %s/bus/*/devices/%s): bind it to vfio-pci (dmakit bind %s) on a kernel with VFIO_DEVICE_CDEV, or use the container backend (DMAKIT_VFIO_BACKEND=container)",
		       name, dk_sysfs_root(), name, name);
		return rc == -ENOENT ? -ENOTSUP : rc;
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e == EACCES || e == EPERM) {
		DK_ERR("cannot open %s (%s): %s: run as root or give your user access to it (chown the node)",
		       path, name, strerror(e));
		return -EACCES;
	}
	if (e == ENOENT)
		DK_ERR("no %s although sysfs lists it for %s: mount devtmpfs on %s", path, name,
		       dk__vfio_dev_root());
	else
		DK_ERR("cannot open %s (%s): %s", path, name, strerror(e));
	return -e;
}

/* The IOMMU group of device name from sysfs, or -1. */
static int group_of(const char *name)
{
	static const char *const buses[] = {"bus/pci/devices", "bus/mdev/devices"};
	char rel[256], g[32];
	for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++) {
		snprintf(rel, sizeof(rel), "%s/%s/iommu_group", buses[i], name);
		if (dk__sysfs_read_link_name(rel, g, sizeof(g)) > 0)
			return atoi(g);
	}
	return -1;
}

/* The bind's EPERM: the group is not viable; name what blocks it. */
static void log_not_viable(const char *name)
{
	char msg[1024];
	int group = group_of(name);
	int n = group >= 0 ? dk__vfio_group_blockers(group, msg, sizeof(msg)) : -ENOENT;
	if (n > 0)
		DK_ERR("%s: VFIO_DEVICE_BIND_IOMMUFD: group %d is not viable: %s", name, group, msg);
	else
		DK_ERR("%s: VFIO_DEVICE_BIND_IOMMUFD: its IOMMU group is not viable: bind every member of %s/kernel/iommu_groups/%d/devices to vfio-pci or unbind it",
		       name, dk_sysfs_root(), group);
}

static int bind_fd(int fd, const struct dk_vfio_container *c, const char *name, uint32_t *devid)
{
	struct dk__vfio_bind_iommufd b = {.argsz = sizeof(b), .iommufd = c->fd};
	if (ioctl(fd, DK__VFIO_DEVICE_BIND_IOMMUFD, &b) == 0) {
		*devid = b.out_devid;
		return 0;
	}
	int e = errno;
	if (e == EPERM)
		log_not_viable(name);
	else if (e == EBUSY)
		DK_ERR("%s: VFIO_DEVICE_BIND_IOMMUFD: its IOMMU group is open through /dev/vfio (the container backend, here or in another process): close the group, or open the device with the container backend",
		       name);
	else if (e == EINVAL)
		DK_ERR("%s: VFIO_DEVICE_BIND_IOMMUFD refused: the device is open already (bound to another iommufd, or by another process): close it there first",
		       name);
	else if (e == ENOTTY)
		DK_ERR("%s: VFIO_DEVICE_BIND_IOMMUFD is unknown to this kernel (older than 6.6): use the container backend",
		       name);
	else
		DK_ERR("%s: VFIO_DEVICE_BIND_IOMMUFD: %s", name, strerror(e));
	return -e;
}

static int attach_fd(int fd, const struct dk_vfio_container *c, const char *name)
{
	struct dk__vfio_attach_pt a = {.argsz = sizeof(a), .pt_id = c->ioas_id};
	if (ioctl(fd, DK__VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a) == 0)
		return 0;
	int e = errno;
	if (e == EBUSY)
		DK_ERR("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT(IOAS %u): the device is attached already: detach it first",
		       name, c->ioas_id);
	else if (e == EINVAL)
		DK_ERR("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT(IOAS %u): the IOAS's mappings do not fit this device's IOMMU (reserved regions or address width): unmap them, or use another IOAS",
		       name, c->ioas_id);
	else
		DK_ERR("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT(IOAS %u): %s", name, c->ioas_id,
		       strerror(e));
	return -e;
}

int dk__iommufd_attach(struct dk_vfio_container *c, struct dk_vfio_device *d)
{
	char path[DK__PATH_MAX];
	int rc, fd = open_cdev(d->name, path, sizeof(path));
	if (fd < 0)
		return fd;
	if ((rc = bind_fd(fd, c, d->name, &d->devid)) < 0)
		goto err_close;
	pthread_mutex_lock(&c->lock);
	rc = attach_fd(fd, c, d->name);
	if (rc == 0) {
		c->ngroups++;
		c->iommu_type = DK_VFIO_IOMMU_IOAS;
		refresh(c); /* this device may reserve IOVAs */
	}
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		goto err_close;
	d->fd = fd;
	DK_DEBUG("%s: %s bound (device id %u), attached to IOAS %u", d->name, path, d->devid,
		 c->ioas_id);
	return 0;

err_close:
	close(fd); /* unbinds */
	return rc;
}

int dk__iommufd_detach(struct dk_vfio_container *c, struct dk_vfio_device *d)
{
	close(d->fd); /* detaches and unbinds */
	d->fd = -1;
	pthread_mutex_lock(&c->lock);
	if (c->ngroups)
		c->ngroups--;
	int gone = c->ngroups == 0;
	if (gone) {
		/* Like a container losing its last group: nothing stays mapped. */
		struct dk__iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = c->ioas_id,
						 .iova = 0, .length = UINT64_MAX};
		if (ioctl(c->fd, DK__IOMMU_IOAS_UNMAP, &u) < 0)
			DK_WARN("emptying IOAS %u after its last device: %s", c->ioas_id,
				strerror(errno));
		c->iommu_type = 0;
		c->min_pgsize = 0;
	} else {
		refresh(c);
	}
	pthread_mutex_unlock(&c->lock);
	return gone;
}

/* ---- map / unmap ------------------------------------------------------------------- */

int dk__iommufd_map(struct dk_vfio_container *c, const void *va, uint64_t iova, uint64_t len)
{
	struct dk__iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = DK__IOAS_MAP_FIXED_IOVA | DK__IOAS_MAP_READABLE | DK__IOAS_MAP_WRITEABLE,
		.ioas_id = c->ioas_id,
		.user_va = (uint64_t)(uintptr_t)va,
		.length = len,
		.iova = iova,
	};
	if (ioctl(c->fd, DK__IOMMU_IOAS_MAP, &m) == 0)
		return 0;
	int e = errno;
	char path[256];
	if ((e == EFAULT || e == EREMOTEIO) && dk__vfio_is_p2pmem(va, len, path, sizeof(path))) {
		DK_ERR(DK__VFIO_P2PMEM_REFUSED " (IOMMU_IOAS_MAP: %s)", va, len, path, strerror(e));
		return -e;
	}
	switch (e) {
	case EEXIST:
		DK_ERR("DMA map: IOVA 0x%" PRIx64 "-0x%" PRIx64
		       " overlaps an existing mapping of IOAS %u: unmap it first or choose another IOVA",
		       iova, iova + len - 1, c->ioas_id);
		break;
	case ENOMEM:
		DK_ERR("DMA map of 0x%" PRIx64 " bytes: cannot pin the pages: raise the locked-memory limit (ulimit -l / RLIMIT_MEMLOCK) or run as root",
		       len);
		break;
	case EFAULT:
		DK_ERR("DMA map: VA %p (0x%" PRIx64 " bytes) is not mapped in this process, or is device memory (an mmapped BAR), which iommufd cannot pin: use the container backend for P2P BAR mappings",
		       va, len);
		break;
	default:
		DK_ERR("DMA map VA %p -> IOVA 0x%" PRIx64 " (0x%" PRIx64 " bytes): IOMMU_IOAS_MAP: %s",
		       va, iova, len, strerror(e));
	}
	return -e;
}

int dk__iommufd_unmap(struct dk_vfio_container *c, uint64_t iova, uint64_t len)
{
	struct dk__iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = c->ioas_id,
					 .iova = iova, .length = len};
	if (ioctl(c->fd, DK__IOMMU_IOAS_UNMAP, &u) < 0) {
		int e = errno;
		if (e == ENOENT) {
			/* The kernel's answer for both: nothing there, or a split mapping. */
			DK_ERR("DMA unmap IOVA 0x%" PRIx64 "-0x%" PRIx64
			       ": nothing is mapped there, or the range splits a mapping: unmap whole mappings, as mapped",
			       iova, iova + len - 1);
			return -ENOENT;
		}
		DK_ERR("DMA unmap IOVA 0x%" PRIx64 " (0x%" PRIx64 " bytes): IOMMU_IOAS_UNMAP: %s",
		       iova, len, strerror(e));
		return -e;
	}
	if (u.length == 0) {
		DK_ERR("DMA unmap: nothing is mapped at IOVA 0x%" PRIx64 "-0x%" PRIx64
		       ": check the IOVA and length of the mapping",
		       iova, iova + len - 1);
		return -ENOENT;
	}
	return 0;
}
