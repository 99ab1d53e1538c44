/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for dk__vfio_region_decode (src/vfio/vfio_region.c): fake
 * VFIO_DEVICE_GET_REGION_INFO replies decoded into dk_vfio_region_info,
 * mmappable areas included. The ioctl side is exercised in the VM suite.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "tap.h"
#include "vfio/vfio_internal.h"

struct reply {
	uint8_t b[512];
	size_t len;
};

static void put(struct reply *r, size_t off, const void *v, size_t n)
{
	memcpy(r->b + off, v, n);
}

/* A reply: fixed part, then optionally a sparse cap with n areas and an MSI-X cap. */
static void make(struct reply *r, uint32_t flags, uint64_t size, uint64_t off, uint32_t n,
		 const uint64_t (*areas)[2], int msix)
{
	memset(r, 0, sizeof(*r));
	struct vfio_region_info ri = {.argsz = sizeof(ri), .flags = flags, .index = 2,
				      .size = size, .offset = off};
	size_t o = sizeof(ri);
	if (areas || msix) {
		ri.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		ri.cap_offset = (uint32_t)o;
	}
	if (areas) {
		size_t next = msix ? o + 16 + 16 * n : 0;
		struct vfio_region_info_cap_sparse_mmap sp = {
			.header = {.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1,
				   .next = (uint32_t)next},
			.nr_areas = n};
		put(r, o, &sp, sizeof(sp));
		for (uint32_t i = 0; i < n; i++) {
			struct vfio_region_sparse_mmap_area a = {.offset = areas[i][0],
								 .size = areas[i][1]};
			put(r, o + sizeof(sp) + i * sizeof(a), &a, sizeof(a));
		}
		o += sizeof(sp) + 16 * n;
	}
	if (msix) {
		struct vfio_info_cap_header h = {.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, .version = 1};
		put(r, o, &h, sizeof(h));
		o += sizeof(h);
	}
	ri.argsz = (uint32_t)o;
	put(r, 0, &ri, sizeof(ri));
	r->len = o;
}

#define RWM (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP)

DK_TEST(whole_mappable_region_is_one_area)
{
	struct reply r;
	make(&r, RWM, 1 << 20, 0, 0, NULL, 0);
	struct dk_vfio_region_info out;
	REQUIRE_INT_EQ(dk__vfio_region_decode(r.b, r.len, &out, NULL), 0);
	CHECK_INT_EQ(out.index, 2);
	CHECK_INT_EQ(out.size, 1 << 20);
	CHECK_INT_EQ(out.flags, DK_VFIO_REGION_READ | DK_VFIO_REGION_WRITE | DK_VFIO_REGION_MMAP);
	REQUIRE_INT_EQ(out.nr_areas, 1);
	CHECK_INT_EQ(out.areas[0].offset, 0);
	CHECK_INT_EQ(out.areas[0].size, 1 << 20);
	dk_vfio_region_info_clear(&out);
	CHECK(out.areas == NULL && out.nr_areas == 0);
}

DK_TEST(offset_comes_from_the_reply)
{
	struct reply r;
	make(&r, VFIO_REGION_INFO_FLAG_READ, 256, 0x70000000000ull, 0, NULL, 0);
	struct dk_vfio_region_info out;
	REQUIRE_INT_EQ(dk__vfio_region_decode(r.b, r.len, &out, NULL), 0);
	CHECK_INT_EQ(out.offset, 0x70000000000ull);
	CHECK_INT_EQ(out.flags, DK_VFIO_REGION_READ);
	CHECK_INT_EQ(out.nr_areas, 0); /* not mmappable */
	dk_vfio_region_info_clear(&out);
}

DK_TEST(sparse_areas_sorted_and_empty_ones_dropped)
{
	static const uint64_t a[3][2] = {{0x3000, 0x1000}, {0x1000, 0}, {0, 0x2000}};
	struct reply r;
	make(&r, RWM, 0x4000, 0, 3, a, 1);
	struct dk_vfio_region_info out;
	REQUIRE_INT_EQ(dk__vfio_region_decode(r.b, r.len, &out, NULL), 0);
	CHECK(out.flags & DK_VFIO_REGION_SPARSE);
	CHECK(out.flags & DK_VFIO_REGION_MSIX_MAPPABLE);
	REQUIRE_INT_EQ(out.nr_areas, 2);
	CHECK_INT_EQ(out.areas[0].offset, 0);
	CHECK_INT_EQ(out.areas[0].size, 0x2000);
	CHECK_INT_EQ(out.areas[1].offset, 0x3000);
	CHECK_INT_EQ(out.areas[1].size, 0x1000);
	dk_vfio_region_info_clear(&out);
}

DK_TEST(sparse_with_no_area_maps_nothing)
{
	struct reply r;
	make(&r, RWM, 0x4000, 0, 0, (const uint64_t(*)[2]) "", 0);
	struct dk_vfio_region_info out;
	REQUIRE_INT_EQ(dk__vfio_region_decode(r.b, r.len, &out, NULL), 0);
	CHECK(out.flags & DK_VFIO_REGION_SPARSE);
	CHECK_INT_EQ(out.nr_areas, 0);
	CHECK(out.areas == NULL);
}

DK_TEST(area_beyond_region_rejected)
{
	static const uint64_t a[2][2] = {{0, 0x1000}, {0x3000, 0x2000}};
	struct reply r;
	make(&r, RWM, 0x4000, 0, 2, a, 0);
	struct dk_vfio_region_info out;
	size_t err = 0;
	CHECK_INT_EQ(dk__vfio_region_decode(r.b, r.len, &out, &err), -EPROTO);
	CHECK_INT_EQ(err, 1);
	CHECK(out.areas == NULL && out.nr_areas == 0);
	static const uint64_t w[1][2] = {{0x1000, UINT64_MAX}}; /* offset + size wraps */
	make(&r, RWM, 0x4000, 0, 1, w, 0);
	CHECK_INT_EQ(dk__vfio_region_decode(r.b, r.len, &out, &err), -EPROTO);
}

DK_TEST(overlapping_areas_rejected)
{
	static const uint64_t a[2][2] = {{0x2000, 0x2000}, {0, 0x3000}};
	struct reply r;
	make(&r, RWM, 0x4000, 0, 2, a, 0);
	struct dk_vfio_region_info out;
	CHECK_INT_EQ(dk__vfio_region_decode(r.b, r.len, &out, NULL), -EPROTO);
	CHECK(out.areas == NULL);
}

DK_TEST(malformed_chain_rejected)
{
	static const uint64_t a[1][2] = {{0, 0x1000}};
	struct reply r;
	make(&r, RWM, 0x4000, 0, 1, a, 0);
	struct dk_vfio_region_info out;
	CHECK_INT_EQ(dk__vfio_region_decode(r.b, r.len - 1, &out, NULL), -EPROTO);
	CHECK_INT_EQ(dk__vfio_region_decode(r.b, 8, &out, NULL), -EINVAL);
	CHECK_INT_EQ(dk__vfio_region_decode(NULL, 64, &out, NULL), -EINVAL);
}

DK_TEST(public_functions_reject_null)
{
	struct dk_vfio_region_info out;
	struct dk_vfio_irq_info ii;
	struct dk_vfio_device_info di;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_region_info(NULL, 0, &out), -EINVAL);
	CHECK_INT_EQ(dk_vfio_irq_info(NULL, 0, &ii), -EINVAL);
	CHECK_INT_EQ(dk_vfio_irq_enable(NULL, 0, NULL, 0), -EINVAL);
	CHECK_INT_EQ(dk_vfio_irq_disable(NULL, 0), -EINVAL);
	CHECK_INT_EQ(dk_vfio_irq_unmask(NULL, 0, 0), -EINVAL);
	CHECK_INT_EQ(dk_vfio_irq_trigger(NULL, 0, 0), -EINVAL);
	CHECK_INT_EQ(dk_vfio_device_reset(NULL), -EINVAL);
	CHECK_INT_EQ(dk_vfio_device_info(NULL, &di), -EINVAL);
	CHECK_INT_EQ(dk_vfio_device_fd(NULL), -EINVAL);
	CHECK(dk_vfio_device_name(NULL) == NULL);
	CHECK_INT_EQ(dk_vfio_container_fd(NULL), -EINVAL);
	CHECK_INT_EQ(dk_vfio_group_number(NULL), -EINVAL);
	CHECK_INT_EQ(dk_vfio_container_destroy(NULL), -EINVAL);
	dk_vfio_region_info_clear(NULL);
	dk_vfio_group_close(NULL);
	dk_vfio_device_close(NULL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "NULL device");
	dk_test_log_capture_stop();
}

/* A device struct with fake info (no fd): the index checks come before any ioctl. */
DK_TEST(index_out_of_range_named)
{
	struct dk_vfio_device d = {.fd = -1, .name = "0000:03:00.0",
				   .info = {.num_regions = 9, .num_irqs = 5}};
	struct dk_vfio_region_info out;
	struct dk_vfio_irq_info ii;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_region_info(&d, 9, &out), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "region index 9 out of range: the device has regions 0..8");
	CHECK_INT_EQ(dk_vfio_irq_info(&d, 5, &ii), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "IRQ index 5 out of range: the device has IRQ indexes 0..4");
	CHECK_INT_EQ(dk_vfio_device_reset(&d), -ENOTSUP);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "does not support reset");
	dk_test_log_capture_stop();
}
