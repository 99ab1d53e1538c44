/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Region information: VFIO_DEVICE_GET_REGION_INFO with the argsz-grow
 * retry, decoded through the capability parser (vfio_caps.c) into struct
 * dk_vfio_region_info with its list of mmappable areas.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "vfio/vfio_caps.h"
#include "vfio/vfio_internal.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

static int cmp_area(const void *a, const void *b)
{
	const struct dk_vfio_area *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int dk__vfio_region_decode(const void *buf, size_t len, struct dk_vfio_region_info *out,
			   size_t *err_off)
{
	struct vfio_region_info ri;
	size_t dummy;
	if (!err_off)
		err_off = &dummy;
	*err_off = 0;
	memset(out, 0, sizeof(*out));
	if (!buf || len < sizeof(ri))
		return -EINVAL;
	memcpy(&ri, buf, sizeof(ri));
	out->index = ri.index;
	out->size = ri.size;
	out->offset = ri.offset;
	if (ri.flags & VFIO_REGION_INFO_FLAG_READ)
		out->flags |= DK_VFIO_REGION_READ;
	if (ri.flags & VFIO_REGION_INFO_FLAG_WRITE)
		out->flags |= DK_VFIO_REGION_WRITE;
	if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP)
		out->flags |= DK_VFIO_REGION_MMAP;

	struct dk__vfio_region_caps caps = {0};
	if (ri.flags & VFIO_REGION_INFO_FLAG_CAPS) {
		int rc = dk__vfio_region_caps_parse(buf, len, sizeof(ri), ri.cap_offset, &caps,
						    err_off);
		if (rc < 0)
			return rc;
	}
	if (caps.flags & DK__VFIO_RCAP_TYPE) {
		out->flags |= DK_VFIO_REGION_TYPED;
		out->type = caps.type;
		out->subtype = caps.subtype;
	}
	if (caps.flags & DK__VFIO_RCAP_MSIX_MAPPABLE)
		out->flags |= DK_VFIO_REGION_MSIX_MAPPABLE;
	if (!(out->flags & DK_VFIO_REGION_MMAP) || ri.size == 0)
		return 0;

	uint32_t n = (caps.flags & DK__VFIO_RCAP_SPARSE) ? caps.nr_areas : 1;
	if (caps.flags & DK__VFIO_RCAP_SPARSE)
		out->flags |= DK_VFIO_REGION_SPARSE;
	if (n == 0)
		return 0; /* sparse with no area: nothing may be mapped */
	struct dk_vfio_area *a = calloc(n, sizeof(*a));
	if (!a)
		return -ENOMEM;
	uint32_t k = 0;
	if (!(caps.flags & DK__VFIO_RCAP_SPARSE)) {
		a[k].offset = 0;
		a[k++].size = ri.size;
	} else {
		for (uint32_t i = 0; i < n; i++) {
			uint64_t off = dk__vfio_get_u64(buf, caps.areas_off + 16 * (size_t)i);
			uint64_t sz = dk__vfio_get_u64(buf, caps.areas_off + 16 * (size_t)i + 8);
			if (sz == 0)
				continue;
			if (off > ri.size || sz > ri.size - off) {
				*err_off = i;
				free(a);
				return -EPROTO;
			}
			a[k].offset = off;
			a[k++].size = sz;
		}
		qsort(a, k, sizeof(*a), cmp_area);
		for (uint32_t i = 1; i < k; i++) {
			if (a[i].offset < a[i - 1].offset + a[i - 1].size) {
				*err_off = i;
				free(a);
				return -EPROTO;
			}
		}
	}
	if (k == 0) {
		free(a);
		return 0;
	}
	out->areas = a;
	out->nr_areas = k;
	return 0;
}

int dk_vfio_region_info(const struct dk_vfio_device *d, uint32_t index,
			struct dk_vfio_region_info *out)
{
	if (!d || !out) {
		DK_ERR("region info: NULL %s", d ? "output" : "device");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (index >= d->info.num_regions) {
		DK_ERR("%s: region index %u out of range: the device has regions 0..%u", d->name, index,
		       d->info.num_regions ? d->info.num_regions - 1 : 0);
		return -EINVAL;
	}
	struct vfio_region_info req = {.index = index};
	uint8_t *buf = NULL;
	size_t sz;
	char what[160];
	snprintf(what, sizeof(what), "%s: VFIO_DEVICE_GET_REGION_INFO(%u)", d->name, index);
	int rc = dk__vfio_ioctl_argsz(d->fd, VFIO_DEVICE_GET_REGION_INFO, &req, sizeof(req), what,
				      &buf, &sz);
	if (rc == -EINVAL) {
		/* vfio-pci refuses indexes it does not implement on this device
		 * (the VGA region without VGA): an empty region. */
		DK_DEBUG("%s: region %u: not implemented (EINVAL)", d->name, index);
		out->index = index;
		return 0;
	}
	if (rc < 0) {
		if (rc != -EPROTO && rc != -ENOMEM)
			DK_ERR("%s: %s", what, strerror(-rc));
		return rc;
	}
	size_t err_off;
	rc = dk__vfio_region_decode(buf, sz, out, &err_off);
	if (rc == -EPROTO)
		DK_ERR("%s: region %u: malformed capability chain or sparse area (at %zu): report this VFIO driver bug",
		       d->name, index, err_off);
	free(buf);
	return rc;
}

void dk_vfio_region_info_clear(struct dk_vfio_region_info *out)
{
	if (!out)
		return;
	free(out->areas);
	memset(out, 0, sizeof(*out));
}
