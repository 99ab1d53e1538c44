/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO containers: the default one and those made on request, the IOMMU
 * type (type1v2, else type1) set when the first group joins, the type1
 * IOMMU information (VFIO_IOMMU_GET_INFO with its capability chain) and
 * the thin DMA map/unmap primitives.
 *
 * Each container caches the IOVA ranges and the smallest page size after
 * every group attach/detach (the ranges shrink as groups with reserved
 * regions join), so dk_vfio_dma_map() checks its arguments without an
 * extra ioctl. dk_vfio_iommu_info() always asks the kernel (dma_avail
 * changes with every mapping). The default IOAS of the iommufd backend is
 * kept here too; its operations are in vfio_iommufd.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio/vfio_caps.h"
#include "vfio/vfio_internal.h"
#include "vfio/vfio_hooks.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

#define VFIO_CONTAINER_PATH "/dev/vfio/vfio"

pthread_mutex_t dk__vfio_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dk_vfio_container *g_default;
static struct dk_vfio_container *g_default_ioas; /* backend iommufd */

static struct dk_vfio_container *container_new(int is_default)
{
	int fd = open(VFIO_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENODEV)
			DK_ERR("no %s: load VFIO with `modprobe vfio-pci` (and check the kernel has VFIO)",
			       VFIO_CONTAINER_PATH);
		else if (e == EACCES || e == EPERM)
			DK_ERR("cannot open %s: %s: run as root or give your user access to it",
			       VFIO_CONTAINER_PATH, strerror(e));
		else
			DK_ERR("cannot open %s: %s", VFIO_CONTAINER_PATH, strerror(e));
		errno = (e == ENODEV) ? ENOENT : (e == EPERM ? EACCES : e);
		return NULL;
	}
	int v = ioctl(fd, VFIO_GET_API_VERSION);
	if (v != VFIO_API_VERSION) {
		DK_ERR("%s speaks VFIO API version %d, dmakit needs %d: use a matching kernel",
		       VFIO_CONTAINER_PATH, v, VFIO_API_VERSION);
		close(fd);
		errno = EPROTO;
		return NULL;
	}
	struct dk_vfio_container *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->is_default = is_default;
	c->backend = DK_VFIO_BACKEND_CONTAINER;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static const struct dk__vfio_hooks *g_hooks;

void dk__vfio_set_hooks(const struct dk__vfio_hooks *h)
{
	__atomic_store_n(&g_hooks, h, __ATOMIC_RELEASE);
}

int dk__vfio_iommu_ready(struct dk_vfio_container *c)
{
	const struct dk__vfio_hooks *h = __atomic_load_n(&g_hooks, __ATOMIC_ACQUIRE);
	return h ? h->iommu_ready(c) : 0;
}

void dk__vfio_iommu_gone(struct dk_vfio_container *c)
{
	const struct dk__vfio_hooks *h = __atomic_load_n(&g_hooks, __ATOMIC_ACQUIRE);
	if (h)
		h->iommu_gone(c);
}

static void container_free(struct dk_vfio_container *c)
{
	dk__vfio_iommu_gone(c);
	close(c->fd); /* an IOAS goes with its /dev/iommu descriptor */
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct dk_vfio_container *dk_vfio_container_default(void)
{
	pthread_mutex_lock(&dk__vfio_lock);
	if (!g_default)
		g_default = container_new(1);
	struct dk_vfio_container *c = g_default;
	int e = errno;
	pthread_mutex_unlock(&dk__vfio_lock);
	errno = e;
	return c;
}

struct dk_vfio_container *dk_vfio_container_create(void)
{
	return container_new(0);
}

struct dk_vfio_container *dk_vfio_iommufd_default(void)
{
	pthread_mutex_lock(&dk__vfio_lock);
	if (!g_default_ioas)
		g_default_ioas = dk__iommufd_new(1);
	struct dk_vfio_container *c = g_default_ioas;
	int e = errno;
	pthread_mutex_unlock(&dk__vfio_lock);
	errno = e;
	return c;
}

struct dk_vfio_container *dk_vfio_iommufd_create(void)
{
	return dk__iommufd_new(0);
}

int dk_vfio_container_backend(const struct dk_vfio_container *c)
{
	return c ? c->backend : -EINVAL;
}

int dk_vfio_container_destroy(struct dk_vfio_container *c)
{
	if (!c || c->is_default) {
		DK_ERR("dk_vfio_container_destroy: %s", c ? "the default container belongs to the library (dk_cleanup releases it)"
						       : "NULL container");
		return -EINVAL;
	}
	pthread_mutex_lock(&c->lock);
	unsigned int n = c->ngroups;
	pthread_mutex_unlock(&c->lock);
	if (n) {
		DK_ERR("%s still has %u %s attached: close them first",
		       c->backend == DK_VFIO_BACKEND_IOMMUFD ? "the IOAS" : "the container", n,
		       c->backend == DK_VFIO_BACKEND_IOMMUFD ? "device(s)" : "group(s) (and their devices)");
		return -EBUSY;
	}
	container_free(c);
	return 0;
}

int dk_vfio_container_fd(const struct dk_vfio_container *c)
{
	return c ? c->fd : -EINVAL;
}

/* Free *pc unless members are attached (then warn and keep it). */
static void default_release(struct dk_vfio_container **pc, const char *what)
{
	struct dk_vfio_container *c = *pc;
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	unsigned int n = c->ngroups;
	pthread_mutex_unlock(&c->lock);
	if (n == 0) {
		container_free(c);
		*pc = NULL;
	} else {
		DK_WARN("%u %s still open at cleanup: close them before dk_cleanup", n, what);
	}
}

void dk__vfio_cleanup(void)
{
	pthread_mutex_lock(&dk__vfio_lock);
	default_release(&g_default, "VFIO group(s)");
	default_release(&g_default_ioas, "iommufd device(s)");
	pthread_mutex_unlock(&dk__vfio_lock);
}

/* ---- IOMMU information ------------------------------------------------------- */

/* VFIO_IOMMU_GET_INFO into out; called with c->lock held. */
static int query_info(struct dk_vfio_container *c, struct dk_vfio_iommu_info *out)
{
	memset(out, 0, sizeof(*out));
	struct vfio_iommu_type1_info req = {.argsz = 0};
	uint8_t *buf = NULL;
	size_t sz;
	int rc = dk__vfio_ioctl_argsz(c->fd, VFIO_IOMMU_GET_INFO, &req, sizeof(req),
				      "VFIO_IOMMU_GET_INFO", &buf, &sz);
	if (rc < 0) {
		if (rc != -EPROTO && rc != -ENOMEM)
			DK_ERR("VFIO_IOMMU_GET_INFO: %s", strerror(-rc));
		return rc;
	}
	struct vfio_iommu_type1_info hdr;
	memcpy(&hdr, buf, sizeof(hdr));
	out->iommu_type = c->iommu_type;
	if (hdr.flags & VFIO_IOMMU_INFO_PGSIZES) {
		out->flags |= DK_VFIO_IOMMU_PGSIZES;
		out->iova_pgsizes = hdr.iova_pgsizes;
	}
	struct dk__vfio_iommu_caps caps = {0};
	if (hdr.flags & VFIO_IOMMU_INFO_CAPS) {
		size_t err_off;
		size_t len = hdr.argsz < sz ? hdr.argsz : sz;
		rc = dk__vfio_iommu_caps_parse(buf, len, sizeof(hdr), hdr.cap_offset, &caps, &err_off);
		if (rc < 0) {
			DK_ERR("VFIO_IOMMU_GET_INFO: malformed capability chain at offset %zu of %zu bytes: report this kernel bug",
			       err_off, len);
			goto out;
		}
	}
	if (caps.flags & DK__VFIO_ICAP_IOVA_RANGE) {
		out->flags |= DK_VFIO_IOMMU_IOVA_RANGES;
		uint32_t n = caps.nr_iovas;
		if (n > DK_VFIO_MAX_IOVA_RANGES) {
			out->flags |= DK_VFIO_IOMMU_RANGES_TRUNCATED;
			DK_WARN("the IOMMU reports %u IOVA ranges: using the first %u", n,
				DK_VFIO_MAX_IOVA_RANGES);
			n = DK_VFIO_MAX_IOVA_RANGES;
		}
		for (uint32_t i = 0; i < n; i++) {
			out->ranges[i].start = dk__vfio_get_u64(buf, caps.iovas_off + 16 * (size_t)i);
			out->ranges[i].end = dk__vfio_get_u64(buf, caps.iovas_off + 16 * (size_t)i + 8);
		}
		out->nr_ranges = n;
	} else {
		out->nr_ranges = 1;
		out->ranges[0].start = 0;
		out->ranges[0].end = UINT64_MAX;
	}
	if (caps.flags & DK__VFIO_ICAP_DMA_AVAIL) {
		out->flags |= DK_VFIO_IOMMU_DMA_AVAIL;
		out->dma_avail = caps.dma_avail;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

struct dk_vfio_container *dk__vfio_resolve(struct dk_vfio_container *c)
{
	if (c)
		return c;
	pthread_mutex_lock(&dk__vfio_lock);
	struct dk_vfio_container *ioas = g_default_ioas;
	unsigned int n = 0;
	if (ioas) {
		pthread_mutex_lock(&ioas->lock);
		n = ioas->ngroups;
		pthread_mutex_unlock(&ioas->lock);
	}
	pthread_mutex_unlock(&dk__vfio_lock);
	return n ? ioas : dk_vfio_container_default();
}

int dk_vfio_iommu_info(struct dk_vfio_container *c, struct dk_vfio_iommu_info *out)
{
	if (!out) {
		DK_ERR("dk_vfio_iommu_info: NULL output");
		return -EINVAL;
	}
	if (!(c = dk__vfio_resolve(c)))
		return -errno;
	pthread_mutex_lock(&c->lock);
	int rc;
	if (!c->iommu_type) {
		DK_ERR("the %s has no IOMMU yet: open a %s in it first",
		       c->backend == DK_VFIO_BACKEND_IOMMUFD ? "IOAS" : "container",
		       c->backend == DK_VFIO_BACKEND_IOMMUFD ? "device" : "group (or a device)");
		rc = -ENXIO;
	} else if (c->backend == DK_VFIO_BACKEND_IOMMUFD) {
		rc = dk__iommufd_query(c, out);
	} else {
		rc = query_info(c, out);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- attach / detach -------------------------------------------------------------- */

int dk__vfio_container_attach(struct dk_vfio_container *c, struct dk_vfio_group *g)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	if (ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &c->fd) < 0) {
		rc = -errno;
		DK_ERR("group %d: VFIO_GROUP_SET_CONTAINER: %s%s", g->number, strerror(errno),
		       errno == EPERM ? " (the group is not viable: see `dmakit bind`)" : "");
		goto out;
	}
	if (!c->iommu_type) {
		uint32_t type = 0;
		if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
			type = VFIO_TYPE1v2_IOMMU;
		else if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
			type = VFIO_TYPE1_IOMMU;
		if (!type) {
			DK_ERR("the kernel offers no type1 IOMMU for VFIO: run `modprobe vfio_iommu_type1` (and boot with intel_iommu=on or amd_iommu=on)");
			rc = -ENOTSUP;
			goto err_unset;
		}
		if (ioctl(c->fd, VFIO_SET_IOMMU, (unsigned long)type) < 0) {
			rc = -errno;
			DK_ERR("VFIO_SET_IOMMU(%s): %s", type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1",
			       strerror(errno));
			goto err_unset;
		}
		c->iommu_type = type;
		DK_DEBUG("container: IOMMU %s", type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1");
	}
	c->ngroups++;
	/* Refresh the cached ranges and page size: this group may have reserved regions. */
	struct dk_vfio_iommu_info *info = &c->cached;
	if (query_info(c, info) == 0) {
		c->min_pgsize = info->iova_pgsizes ? info->iova_pgsizes & -info->iova_pgsizes : 4096;
	} else {
		/* No information: keep the kernel's checks only. */
		memset(info, 0, sizeof(*info));
		info->nr_ranges = 1;
		info->ranges[0].end = UINT64_MAX;
		c->min_pgsize = 4096;
	}
	goto out;

err_unset:
	ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void dk__vfio_container_detach(struct dk_vfio_container *c, struct dk_vfio_group *g)
{
	pthread_mutex_lock(&c->lock);
	if (ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER) < 0)
		DK_WARN("group %d: VFIO_GROUP_UNSET_CONTAINER: %s", g->number, strerror(errno));
	if (c->ngroups)
		c->ngroups--;
	int gone = c->ngroups == 0;
	if (gone) {
		/* The kernel dropped the IOMMU, and every mapping, with the last group. */
		c->iommu_type = 0;
		c->min_pgsize = 0;
	} else if (query_info(c, &c->cached) < 0) {
		DK_WARN("could not refresh the IOMMU information after detaching group %d", g->number);
	}
	pthread_mutex_unlock(&c->lock);
	if (gone)
		dk__vfio_iommu_gone(c);
}
