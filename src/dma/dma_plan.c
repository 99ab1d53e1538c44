/* SPDX-License-Identifier: BSD-3-Clause */
/* The IOVA plan (contract: src/dma/dma_plan.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/pci.h>
#include <dmakit/vfio.h>

#include "dma/dma_plan.h"

#define DK_LOG_COMPONENT "dma"
#include "core/log_internal.h"

#define LOW_HOLES_END ((uint64_t)4 << 30)

/* Held from the plan to the end of dk_init, so that the IOMMU the plan read
 * stays: the group (container backend) or the device (iommufd backend: a
 * device is bound once, and the probe's open shares this one). */
static struct dk_vfio_group *g_plan_group;
static struct dk_vfio_device *g_plan_dev;

void dk__dma_plan_done(void)
{
	if (g_plan_group)
		dk_vfio_group_close(g_plan_group);
	if (g_plan_dev)
		dk_vfio_device_close(g_plan_dev);
	g_plan_group = NULL;
	g_plan_dev = NULL;
}

/* Read the IOMMU of device d through the backend it will use. */
static int plan_iommu_info(const struct dk_pci_device *d, struct dk_vfio_iommu_info *info)
{
	int b = dk_vfio_backend_select(d->device.name, NULL, 0);
	if (b < 0)
		return b;
	if (b == DK_VFIO_BACKEND_IOMMUFD) {
		struct dk_vfio_device *vd = dk_vfio_device_open(NULL, d->iommu_group, d->device.name);
		int rc = vd ? dk_vfio_iommu_info(dk_vfio_device_container(vd), info) : -errno;
		if (vd && rc < 0)
			dk_vfio_device_close(vd);
		else
			g_plan_dev = vd;
		return rc;
	}
	struct dk_vfio_group *g = dk_vfio_group_open(NULL, d->iommu_group);
	int rc = g ? dk_vfio_iommu_info(NULL, info) : -errno;
	if (g && rc < 0)
		dk_vfio_group_close(g);
	else
		g_plan_group = g;
	return rc;
}

int dk__dma_plan_va_fits(const struct dk__iova_span *ranges, unsigned int n, uint64_t limit,
			  uint64_t top)
{
	if (limit < top)
		return 0;
	/* Is [4 GiB, top] inside the union of the ranges? Extend a cursor. */
	uint64_t cur = LOW_HOLES_END;
	for (int progress = 1; progress && cur <= top;) {
		progress = 0;
		for (unsigned int i = 0; i < n; i++) {
			if (ranges[i].start <= cur && ranges[i].end >= cur) {
				if (ranges[i].end >= top)
					return 1;
				cur = ranges[i].end + 1;
				progress = 1;
			}
		}
	}
	return 0;
}

static const struct dk_pci_device *first_vfio_device(void)
{
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		const struct dk_pci_device *d = dk_pci_get(i);
		if (d && d->iommu_group >= 0 && strcmp(d->kernel_driver, "vfio-pci") == 0)
			return d;
	}
	return NULL;
}

int dk__dma_plan(enum dk_iova_mode requested, uint64_t dma_limit, struct dk__mem_iova_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->limit = dma_limit ? dma_limit : UINT64_MAX; /* 0: no limit */
	if (requested == DK_IOVA_MODE_VA || requested == DK_IOVA_MODE_PA) {
		out->mode = requested;
		return 0;
	}
	const struct dk_pci_device *d = first_vfio_device();
	if (!d) {
		if (requested == DK_IOVA_MODE_REMAP) {
			DK_ERR("IOVA mode remap needs the IOMMU's IOVA ranges, and no device is bound to vfio-pci: bind one first (dmakit bind <BDF>) or use DMAKIT_IOVA_MODE=va");
			return -ENODEV;
		}
		out->mode = DK_IOVA_MODE_VA;
		DK_DEBUG("IOVA mode va: no device is bound to vfio-pci");
		return 0;
	}
	dk__dma_plan_done();
	struct dk_vfio_iommu_info info;
	int rc = plan_iommu_info(d, &info);
	if (rc < 0) {
		if (requested == DK_IOVA_MODE_REMAP) {
			DK_ERR("IOVA mode remap: cannot read the IOMMU's IOVA ranges through group %d of %s (%s): fix the group or device (see above) or use DMAKIT_IOVA_MODE=va",
			       d->iommu_group, d->device.name, strerror(-rc));
			return rc;
		}
		DK_WARN("cannot ask the IOMMU through group %d of %s (%s): IOVA mode va; DMA may fail if the IOMMU is narrower than user addresses",
			d->iommu_group, d->device.name, strerror(-rc));
		out->mode = DK_IOVA_MODE_VA;
		return 0;
	}
	unsigned int n = info.nr_ranges;
	if (n > DK__IOVA_PLAN_MAX_RANGES)
		n = DK__IOVA_PLAN_MAX_RANGES;
	for (unsigned int i = 0; i < n; i++) {
		out->ranges[i].start = info.ranges[i].start;
		out->ranges[i].end = info.ranges[i].end;
	}
	out->n_ranges = n;
	uint64_t last = n ? info.ranges[n - 1].end : 0;
	if (requested == DK_IOVA_MODE_AUTO &&
	    dk__dma_plan_va_fits(out->ranges, n, out->limit, DK__USER_VA_TOP)) {
		out->mode = DK_IOVA_MODE_VA;
		DK_INFO("IOVA mode va: the IOMMU's IOVA ranges (up to %#" PRIx64 ") cover user addresses",
			last);
		return 0;
	}
	out->mode = DK_IOVA_MODE_REMAP;
	if (requested == DK_IOVA_MODE_AUTO)
		DK_INFO("IOVA mode remap: the IOMMU's IOVA ranges end at %#" PRIx64
			" (or the DMA limit is %#" PRIx64 "), below the user address space (%#" PRIx64
			"): dmakit assigns IOVAs",
			last, out->limit, DK__USER_VA_TOP);
	return 0;
}
