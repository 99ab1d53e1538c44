/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/vfio/vfio_caps.c: the capability-chain walker and the
 * region / type1 IOMMU decoders, on hand-built buffers laid out like the
 * kernel's replies (struct vfio_region_info or vfio_iommu_type1_info, then
 * the chain), and on malformed chains: each must be rejected with -EPROTO
 * and never read outside the buffer (the ASan build checks the latter; the
 * buffers here are heap copies of exactly len bytes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "tap.h"
#include "vfio/vfio_caps.h"

#define RFIX sizeof(struct vfio_region_info)       /* 32 */
#define IFIX sizeof(struct vfio_iommu_type1_info)  /* 24 */

struct buf {
	uint8_t b[1024];
	size_t len;
};

static void put16(struct buf *b, size_t off, uint16_t v)
{
	memcpy(b->b + off, &v, 2);
}
static void put32(struct buf *b, size_t off, uint32_t v)
{
	memcpy(b->b + off, &v, 4);
}
static void put64(struct buf *b, size_t off, uint64_t v)
{
	memcpy(b->b + off, &v, 8);
}
static void hdr(struct buf *b, size_t off, uint16_t id, uint16_t ver, uint32_t next)
{
	put16(b, off, id);
	put16(b, off + 2, ver);
	put32(b, off + 4, next);
}

/* A sparse-mmap capability at off with n areas; returns its end. */
static size_t sparse(struct buf *b, size_t off, uint32_t next, uint32_t n,
		     const uint64_t (*areas)[2])
{
	hdr(b, off, DK__VFIO_REGION_CAP_SPARSE_MMAP, 1, next);
	put32(b, off + 8, n);
	put32(b, off + 12, 0);
	for (uint32_t i = 0; i < n; i++) {
		put64(b, off + 16 + 16 * i, areas[i][0]);
		put64(b, off + 24 + 16 * i, areas[i][1]);
	}
	return off + 16 + 16 * (size_t)n;
}

/* Parse a heap copy of exactly len bytes, so ASan sees any overread. */
static int region(const struct buf *b, uint32_t first, struct dk__vfio_region_caps *out,
		  size_t *err)
{
	uint8_t *copy = malloc(b->len ? b->len : 1);
	memcpy(copy, b->b, b->len);
	int rc = dk__vfio_region_caps_parse(copy, b->len, RFIX, first, out, err);
	free(copy);
	return rc;
}

static int iommu(const struct buf *b, uint32_t first, struct dk__vfio_iommu_caps *out,
		 size_t *err)
{
	uint8_t *copy = malloc(b->len ? b->len : 1);
	memcpy(copy, b->b, b->len);
	int rc = dk__vfio_iommu_caps_parse(copy, b->len, IFIX, first, out, err);
	free(copy);
	return rc;
}

static const uint64_t two_areas[2][2] = {{0, 0x2000}, {0x3000, 0x1000}};

DK_TEST(no_caps_is_empty)
{
	struct buf b = {.len = RFIX};
	struct dk__vfio_region_caps c;
	CHECK_INT_EQ(region(&b, 0, &c, NULL), 0);
	CHECK_INT_EQ(c.flags, 0);
	CHECK_INT_EQ(c.ncaps, 0);
}

DK_TEST(sparse_type_and_msix)
{
	struct buf b = {0};
	size_t o = RFIX;
	size_t e = sparse(&b, o, 0, 2, two_areas);
	/* patch next of the sparse cap to the type cap */
	put32(&b, o + 4, (uint32_t)e);
	hdr(&b, e, DK__VFIO_REGION_CAP_TYPE, 1, (uint32_t)(e + 16));
	put32(&b, e + 8, 0x80008086u);
	put32(&b, e + 12, 3);
	hdr(&b, e + 16, DK__VFIO_REGION_CAP_MSIX_MAPPABLE, 1, 0);
	b.len = e + 24;
	struct dk__vfio_region_caps c;
	size_t err = 99;
	REQUIRE_INT_EQ(region(&b, (uint32_t)o, &c, &err), 0);
	CHECK_INT_EQ(c.ncaps, 3);
	CHECK_INT_EQ(c.flags, DK__VFIO_RCAP_SPARSE | DK__VFIO_RCAP_TYPE | DK__VFIO_RCAP_MSIX_MAPPABLE);
	CHECK_INT_EQ(c.nr_areas, 2);
	CHECK_INT_EQ(c.areas_off, o + 16);
	CHECK_INT_EQ(dk__vfio_get_u64(b.b, c.areas_off + 16), 0x3000);
	CHECK_INT_EQ(c.type, 0x80008086u);
	CHECK_INT_EQ(c.subtype, 3);
	CHECK_INT_EQ(err, 0);
}

DK_TEST(unknown_ids_skipped_and_padding_tolerated)
{
	struct buf b = {0};
	/* unknown id 0x77 with a payload, 8 bytes of padding, then MSI-X mappable,
	 * then an unknown id 4 (NVLink, deprecated) at the end with a payload */
	hdr(&b, RFIX, 0x77, 9, RFIX + 40);
	memset(b.b + RFIX + 8, 0xee, 24);
	hdr(&b, RFIX + 40, DK__VFIO_REGION_CAP_MSIX_MAPPABLE, 1, RFIX + 56);
	hdr(&b, RFIX + 56, 4, 1, 0);
	b.len = RFIX + 80;
	struct dk__vfio_region_caps c;
	REQUIRE_INT_EQ(region(&b, RFIX, &c, NULL), 0);
	CHECK_INT_EQ(c.ncaps, 3);
	CHECK_INT_EQ(c.flags, DK__VFIO_RCAP_MSIX_MAPPABLE);
}

DK_TEST(unaligned_offsets_are_read_safely)
{
	struct buf b = {0};
	hdr(&b, RFIX + 3, DK__VFIO_REGION_CAP_TYPE, 1, 0);
	put32(&b, RFIX + 11, 1);
	put32(&b, RFIX + 15, 2);
	b.len = RFIX + 19;
	struct dk__vfio_region_caps c;
	REQUIRE_INT_EQ(region(&b, RFIX + 3, &c, NULL), 0);
	CHECK_INT_EQ(c.type, 1);
	CHECK_INT_EQ(c.subtype, 2);
}

DK_TEST(sparse_with_zero_areas)
{
	struct buf b = {0};
	b.len = sparse(&b, RFIX, 0, 0, NULL);
	struct dk__vfio_region_caps c;
	REQUIRE_INT_EQ(region(&b, RFIX, &c, NULL), 0);
	CHECK_INT_EQ(c.flags, DK__VFIO_RCAP_SPARSE);
	CHECK_INT_EQ(c.nr_areas, 0);
}

DK_TEST(first_offset_inside_fixed_struct)
{
	struct buf b = {0};
	hdr(&b, 16, DK__VFIO_REGION_CAP_MSIX_MAPPABLE, 1, 0);
	b.len = RFIX + 8;
	struct dk__vfio_region_caps c;
	size_t err = 0;
	CHECK_INT_EQ(region(&b, 16, &c, &err), -EPROTO);
	CHECK_INT_EQ(err, 16);
	CHECK_INT_EQ(c.flags, 0);
}

DK_TEST(first_offset_beyond_buffer)
{
	struct buf b = {.len = RFIX};
	struct dk__vfio_region_caps c;
	size_t err = 0;
	CHECK_INT_EQ(region(&b, RFIX, &c, &err), -EPROTO);  /* header would start at len */
	CHECK_INT_EQ(region(&b, 0xfffffff0u, &c, &err), -EPROTO);
	CHECK_INT_EQ(err, 0xfffffff0u);
}

DK_TEST(header_truncated)
{
	struct buf b = {0};
	hdr(&b, RFIX, DK__VFIO_REGION_CAP_MSIX_MAPPABLE, 1, 0);
	struct dk__vfio_region_caps c;
	for (size_t cut = 1; cut < 8; cut++) {
		b.len = RFIX + 8 - cut;
		CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
	}
	b.len = RFIX + 8;
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), 0);
}

DK_TEST(next_backwards_or_to_itself)
{
	struct buf b = {0};
	hdr(&b, RFIX, 0x55, 1, RFIX + 16);
	hdr(&b, RFIX + 16, 0x56, 1, RFIX); /* back to the first: a loop */
	b.len = RFIX + 32;
	struct dk__vfio_region_caps c;
	size_t err = 0;
	CHECK_INT_EQ(region(&b, RFIX, &c, &err), -EPROTO);
	CHECK_INT_EQ(err, RFIX + 16);
	hdr(&b, RFIX + 16, 0x56, 1, RFIX + 16); /* to itself */
	CHECK_INT_EQ(region(&b, RFIX, &c, &err), -EPROTO);
	hdr(&b, RFIX + 16, 0x56, 1, RFIX + 20); /* into its own header */
	CHECK_INT_EQ(region(&b, RFIX, &c, &err), -EPROTO);
	hdr(&b, RFIX + 16, 0x56, 1, RFIX + 24); /* right after its header: fine if in bounds */
	hdr(&b, RFIX + 24, 0x57, 1, 0);
	CHECK_INT_EQ(region(&b, RFIX, &c, &err), 0);
	CHECK_INT_EQ(c.ncaps, 3);
}

DK_TEST(next_outside_buffer)
{
	struct buf b = {0};
	hdr(&b, RFIX, 0x55, 1, RFIX + 200);
	b.len = RFIX + 16;
	struct dk__vfio_region_caps c;
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
	hdr(&b, RFIX, 0x55, 1, 0xffffffffu);
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
	/* next == len: its header cannot fit */
	hdr(&b, RFIX, 0x55, 1, RFIX + 16);
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
}

DK_TEST(sparse_payload_truncated)
{
	struct buf b = {0};
	size_t end = sparse(&b, RFIX, 0, 2, two_areas);
	struct dk__vfio_region_caps c;
	b.len = end;
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), 0);
	for (size_t cut = 1; cut <= 16 + 2 * 16 - 8; cut++) {
		b.len = end - cut;
		if (b.len < RFIX + 8)
			break;
		CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
	}
	/* the area list must also stop before the next capability */
	b.len = end + 8;
	put32(&b, RFIX + 4, (uint32_t)(end - 8));
	hdr(&b, end - 8, DK__VFIO_REGION_CAP_MSIX_MAPPABLE, 1, 0);
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
}

DK_TEST(sparse_nr_areas_overflow)
{
	struct buf b = {0};
	sparse(&b, RFIX, 0, 1, two_areas);
	b.len = RFIX + 32;
	struct dk__vfio_region_caps c;
	uint32_t bad[] = {2, 0x10000000u, 0x80000000u, 0xffffffffu};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put32(&b, RFIX + 8, bad[i]);
		CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
	}
}

DK_TEST(type_cap_truncated)
{
	struct buf b = {0};
	hdr(&b, RFIX, DK__VFIO_REGION_CAP_TYPE, 1, 0);
	struct dk__vfio_region_caps c;
	b.len = RFIX + 15;
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
	b.len = RFIX + 16;
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), 0);
}

DK_TEST(duplicate_known_id_rejected)
{
	struct buf b = {0};
	hdr(&b, RFIX, DK__VFIO_REGION_CAP_MSIX_MAPPABLE, 1, RFIX + 8);
	hdr(&b, RFIX + 8, DK__VFIO_REGION_CAP_MSIX_MAPPABLE, 1, 0);
	b.len = RFIX + 16;
	struct dk__vfio_region_caps c;
	CHECK_INT_EQ(region(&b, RFIX, &c, NULL), -EPROTO);
}

DK_TEST(bad_arguments)
{
	struct dk__vfio_region_caps c;
	uint8_t x[64] = {0};
	CHECK_INT_EQ(dk__vfio_region_caps_parse(NULL, 8, 0, 0, &c, NULL), -EINVAL);
	CHECK_INT_EQ(dk__vfio_region_caps_parse(x, 16, 32, 0, &c, NULL), -EINVAL);
	CHECK_INT_EQ(dk__vfio_region_caps_parse(x, 64, 32, 0, NULL, NULL), -EINVAL);
	CHECK_INT_EQ(dk__vfio_caps_walk(NULL, 0, 0, 0, NULL, NULL, NULL), 0);
}

static int stop_at_second(void *arg, uint16_t id, uint16_t version, size_t off, size_t avail)
{
	int *n = arg;
	(void)id, (void)version, (void)off, (void)avail;
	return ++*n == 2 ? -ECANCELED : 0;
}

DK_TEST(walk_callback_can_stop)
{
	struct buf b = {0};
	hdr(&b, RFIX, 0x40, 1, RFIX + 8);
	hdr(&b, RFIX + 8, 0x41, 1, RFIX + 16);
	hdr(&b, RFIX + 16, 0x42, 1, 0);
	b.len = RFIX + 24;
	int n = 0;
	size_t err = 0;
	CHECK_INT_EQ(dk__vfio_caps_walk(b.b, b.len, RFIX, RFIX, stop_at_second, &n, &err),
		     -ECANCELED);
	CHECK_INT_EQ(n, 2);
	CHECK_INT_EQ(err, RFIX + 8);
	CHECK_INT_EQ(dk__vfio_caps_walk(b.b, b.len, RFIX, RFIX, NULL, NULL, NULL), 3);
}

/* ---- type1 IOMMU ---------------------------------------------------------------- */

DK_TEST(iommu_ranges_and_dma_avail)
{
	struct buf b = {0};
	hdr(&b, IFIX, DK__VFIO_IOMMU_CAP_IOVA_RANGE, 1, IFIX + 48);
	put32(&b, IFIX + 8, 2);
	put64(&b, IFIX + 16, 0);
	put64(&b, IFIX + 24, 0xfedfffff);
	put64(&b, IFIX + 32, 0xfef00000);
	put64(&b, IFIX + 40, 0x7fffffffffull);
	hdr(&b, IFIX + 48, DK__VFIO_IOMMU_CAP_MIGRATION, 1, IFIX + 80);
	hdr(&b, IFIX + 80, DK__VFIO_IOMMU_CAP_DMA_AVAIL, 1, 0);
	put32(&b, IFIX + 88, 65535);
	b.len = IFIX + 96;
	struct dk__vfio_iommu_caps c;
	REQUIRE_INT_EQ(iommu(&b, IFIX, &c, NULL), 0);
	CHECK_INT_EQ(c.flags, DK__VFIO_ICAP_IOVA_RANGE | DK__VFIO_ICAP_DMA_AVAIL | DK__VFIO_ICAP_MIGRATION);
	CHECK_INT_EQ(c.nr_iovas, 2);
	CHECK_INT_EQ(dk__vfio_get_u64(b.b, c.iovas_off + 24), 0x7fffffffffull);
	CHECK_INT_EQ(c.dma_avail, 65535);
	CHECK_INT_EQ(c.ncaps, 3);
}

DK_TEST(iommu_range_start_after_end)
{
	struct buf b = {0};
	hdr(&b, IFIX, DK__VFIO_IOMMU_CAP_IOVA_RANGE, 1, 0);
	put32(&b, IFIX + 8, 1);
	put64(&b, IFIX + 16, 0x2000);
	put64(&b, IFIX + 24, 0x1fff);
	b.len = IFIX + 32;
	struct dk__vfio_iommu_caps c;
	CHECK_INT_EQ(iommu(&b, IFIX, &c, NULL), -EPROTO);
	CHECK_INT_EQ(c.flags, 0);
	put64(&b, IFIX + 24, 0x2000); /* a one-byte range is fine */
	CHECK_INT_EQ(iommu(&b, IFIX, &c, NULL), 0);
}

DK_TEST(iommu_truncations)
{
	struct buf b = {0};
	hdr(&b, IFIX, DK__VFIO_IOMMU_CAP_IOVA_RANGE, 1, 0);
	put32(&b, IFIX + 8, 3);
	b.len = IFIX + 16 + 2 * 16; /* room for two of three ranges */
	struct dk__vfio_iommu_caps c;
	CHECK_INT_EQ(iommu(&b, IFIX, &c, NULL), -EPROTO);
	put32(&b, IFIX + 8, 0xffffffffu);
	CHECK_INT_EQ(iommu(&b, IFIX, &c, NULL), -EPROTO);
	hdr(&b, IFIX, DK__VFIO_IOMMU_CAP_DMA_AVAIL, 1, 0);
	b.len = IFIX + 11;
	CHECK_INT_EQ(iommu(&b, IFIX, &c, NULL), -EPROTO);
	b.len = IFIX + 12;
	CHECK_INT_EQ(iommu(&b, IFIX, &c, NULL), 0);
	CHECK_INT_EQ(c.flags, DK__VFIO_ICAP_DMA_AVAIL);
}
