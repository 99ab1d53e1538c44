/* SPDX-License-Identifier: BSD-3-Clause */
/* VFIO info capability chains: see vfio_caps.h for the rules. */
#include <errno.h>
#include <string.h>

#include "vfio/vfio_caps.h"

static uint16_t get_u16(const uint8_t *b, size_t off)
{
	uint16_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *b, size_t off)
{
	uint32_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

uint64_t dk__vfio_get_u64(const void *buf, size_t off)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)buf + off, sizeof(v));
	return v;
}

int dk__vfio_caps_walk(const void *buf, size_t len, size_t fixed_len, uint32_t first,
		       dk__vfio_cap_fn cb, void *arg, size_t *err_off)
{
	const uint8_t *b = buf;
	size_t dummy;
	if (!err_off)
		err_off = &dummy;
	*err_off = 0;
	if ((!b && len) || fixed_len > len)
		return -EINVAL;
	if (first == 0)
		return 0;
	size_t off = first;
	int n = 0;
	if (off < fixed_len) {
		*err_off = off;
		return -EPROTO; /* inside the fixed struct */
	}
	for (;;) {
		/* header inside the buffer (written to avoid overflow: off <= len checked) */
		if (off > len || len - off < DK__VFIO_CAP_HDR_LEN) {
			*err_off = off;
			return -EPROTO;
		}
		uint16_t id = get_u16(b, off);
		uint16_t ver = get_u16(b, off + 2);
		uint32_t next = get_u32(b, off + 4);
		size_t end;
		if (next == 0) {
			end = len;
		} else {
			/* forward only, and not into our own header */
			if (next < off + DK__VFIO_CAP_HDR_LEN || next > len) {
				*err_off = off;
				return -EPROTO;
			}
			end = next;
		}
		n++;
		if (cb) {
			int rc = cb(arg, id, ver, off, end - off);
			if (rc < 0) {
				*err_off = off;
				return rc;
			}
		}
		if (next == 0)
			return n;
		off = next;
	}
}

/* ---- region info ------------------------------------------------------------- */

struct region_ctx {
	const uint8_t *b;
	struct dk__vfio_region_caps *out;
};

static int region_cap(void *arg, uint16_t id, uint16_t version, size_t off, size_t avail)
{
	struct region_ctx *ctx = arg;
	struct dk__vfio_region_caps *o = ctx->out;
	(void)version;
	o->ncaps++;
	switch (id) {
	case DK__VFIO_REGION_CAP_SPARSE_MMAP: {
		/* header, u32 nr_areas, u32 reserved, then {u64 offset, u64 size}[] */
		if (o->flags & DK__VFIO_RCAP_SPARSE || avail < DK__VFIO_CAP_HDR_LEN + 8)
			return -EPROTO;
		uint32_t nr = get_u32(ctx->b, off + DK__VFIO_CAP_HDR_LEN);
		size_t room = avail - DK__VFIO_CAP_HDR_LEN - 8;
		if (nr > room / 16)
			return -EPROTO;
		o->flags |= DK__VFIO_RCAP_SPARSE;
		o->nr_areas = nr;
		o->areas_off = off + DK__VFIO_CAP_HDR_LEN + 8;
		return 0;
	}
	case DK__VFIO_REGION_CAP_TYPE:
		if (o->flags & DK__VFIO_RCAP_TYPE || avail < DK__VFIO_CAP_HDR_LEN + 8)
			return -EPROTO;
		o->flags |= DK__VFIO_RCAP_TYPE;
		o->type = get_u32(ctx->b, off + DK__VFIO_CAP_HDR_LEN);
		o->subtype = get_u32(ctx->b, off + DK__VFIO_CAP_HDR_LEN + 4);
		return 0;
	case DK__VFIO_REGION_CAP_MSIX_MAPPABLE:
		/* header only */
		if (o->flags & DK__VFIO_RCAP_MSIX_MAPPABLE)
			return -EPROTO;
		o->flags |= DK__VFIO_RCAP_MSIX_MAPPABLE;
		return 0;
	default:
		return 0; /* unknown: skipped */
	}
}

int dk__vfio_region_caps_parse(const void *buf, size_t len, size_t fixed_len, uint32_t first,
			       struct dk__vfio_region_caps *out, size_t *err_off)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	struct region_ctx ctx = {.b = buf, .out = out};
	int rc = dk__vfio_caps_walk(buf, len, fixed_len, first, region_cap, &ctx, err_off);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return 0;
}

/* ---- type1 IOMMU info ------------------------------------------------------------ */

struct iommu_ctx {
	const uint8_t *b;
	struct dk__vfio_iommu_caps *out;
};

static int iommu_cap(void *arg, uint16_t id, uint16_t version, size_t off, size_t avail)
{
	struct iommu_ctx *ctx = arg;
	struct dk__vfio_iommu_caps *o = ctx->out;
	(void)version;
	o->ncaps++;
	switch (id) {
	case DK__VFIO_IOMMU_CAP_IOVA_RANGE: {
		/* header, u32 nr_iovas, u32 reserved, then {u64 start, u64 end}[] */
		if (o->flags & DK__VFIO_ICAP_IOVA_RANGE || avail < DK__VFIO_CAP_HDR_LEN + 8)
			return -EPROTO;
		uint32_t nr = get_u32(ctx->b, off + DK__VFIO_CAP_HDR_LEN);
		size_t room = avail - DK__VFIO_CAP_HDR_LEN - 8;
		if (nr > room / 16)
			return -EPROTO;
		size_t first = off + DK__VFIO_CAP_HDR_LEN + 8;
		for (uint32_t i = 0; i < nr; i++) {
			uint64_t s = dk__vfio_get_u64(ctx->b, first + 16 * (size_t)i);
			uint64_t e = dk__vfio_get_u64(ctx->b, first + 16 * (size_t)i + 8);
			if (s > e)
				return -EPROTO;
		}
		o->flags |= DK__VFIO_ICAP_IOVA_RANGE;
		o->nr_iovas = nr;
		o->iovas_off = first;
		return 0;
	}
	case DK__VFIO_IOMMU_CAP_MIGRATION:
		if (o->flags & DK__VFIO_ICAP_MIGRATION)
			return -EPROTO;
		o->flags |= DK__VFIO_ICAP_MIGRATION;
		return 0;
	case DK__VFIO_IOMMU_CAP_DMA_AVAIL:
		if (o->flags & DK__VFIO_ICAP_DMA_AVAIL || avail < DK__VFIO_CAP_HDR_LEN + 4)
			return -EPROTO;
		o->flags |= DK__VFIO_ICAP_DMA_AVAIL;
		o->dma_avail = get_u32(ctx->b, off + DK__VFIO_CAP_HDR_LEN);
		return 0;
	default:
		return 0;
	}
}

int dk__vfio_iommu_caps_parse(const void *buf, size_t len, size_t fixed_len, uint32_t first,
			      struct dk__vfio_iommu_caps *out, size_t *err_off)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	struct iommu_ctx ctx = {.b = buf, .out = out};
	int rc = dk__vfio_caps_walk(buf, len, fixed_len, first, iommu_cap, &ctx, err_off);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return 0;
}
