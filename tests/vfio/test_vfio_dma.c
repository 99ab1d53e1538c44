/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for the argument checks of src/vfio/vfio_dma.c on a fake container
 * (no fd: every case here must be refused before the ioctl). The kernel's
 * own answers (-EEXIST, -ENOENT, -EFAULT) are checked in the VM suite.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "vfio/vfio_internal.h"

static struct dk_vfio_container fake(int with_iommu)
{
	struct dk_vfio_container c;
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	pthread_mutex_init(&c.lock, NULL);
	if (with_iommu) {
		c.iommu_type = 3;
		c.min_pgsize = 4096;
		c.ngroups = 1;
		c.cached.nr_ranges = 2;
		c.cached.ranges[0].start = 0;
		c.cached.ranges[0].end = 0xfedfffff;
		c.cached.ranges[1].start = 0xfef00000;
		c.cached.ranges[1].end = 0x7fffffffffull;
	}
	return c;
}

static char g_buf[3 * 4096] __attribute__((aligned(4096)));

DK_TEST(no_iommu_yet)
{
	struct dk_vfio_container c = fake(0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0x1000, 4096), -ENXIO);
	CHECK_INT_EQ(dk_vfio_dma_unmap(&c, 0x1000, 4096), -ENXIO);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "open a group (or a device) in it first");
	dk_test_log_capture_stop();
}

DK_TEST(zero_length_and_null)
{
	struct dk_vfio_container c = fake(1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0x1000, 0), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMA map of 0 bytes at IOVA 0x1000");
	CHECK_INT_EQ(dk_vfio_dma_unmap(&c, 0x1000, 0), -EINVAL);
	CHECK_INT_EQ(dk_vfio_dma_map(&c, NULL, 0x1000, 4096), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "NULL VA");
	dk_test_log_capture_stop();
}

DK_TEST(misaligned)
{
	struct dk_vfio_container c = fake(1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf + 1, 0x1000, 4096), -EINVAL);
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0x1001, 4096), -EINVAL);
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0x1000, 4095), -EINVAL);
	CHECK_INT_EQ(dk_vfio_dma_unmap(&c, 0x800, 4096), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "multiples of the IOMMU page size 0x1000");
	/* a bigger smallest page */
	c.min_pgsize = 2u << 20;
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0x200000, 4096), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "page size 0x200000");
	dk_test_log_capture_stop();
}

DK_TEST(wrapping)
{
	struct dk_vfio_container c = fake(1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0xfffffffffffff000ull, 0x2000), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "wraps around");
	dk_test_log_capture_stop();
}

DK_TEST(outside_the_iova_ranges)
{
	struct dk_vfio_container c = fake(1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0xfee00000ull, 4096), -ERANGE);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "outside the IOMMU's usable ranges (0x0-0xfedfffff, 0xfef00000-0x7fffffffff)");
	/* straddling the hole */
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0xfedff000ull, 0x2000), -ERANGE);
	/* past the 39-bit end: a user VA as IOVA */
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0x7ffff7a00000ull, 4096), -ERANGE);
	CHECK_INT_EQ(dk_vfio_dma_map(&c, g_buf, 0x7ffffff000ull, 0x2000), -ERANGE);
	dk_test_log_capture_stop();
}
