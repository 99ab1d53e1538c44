/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: the type1 IOMMU of the default container (edu's group attached)
 * and the DMA map/unmap primitives. Page sizes and IOVA ranges: with
 * --aw-bits 48 the last range ends at 0xffffffffffff, with 39 at
 * 0x7fffffffff (run.sh passes the width as DK_VM_AW_BITS). Maps an mmapped
 * buffer, unmaps it, and checks every bad input. On a kernel with iommufd the
 * container backend is requested (DMAKIT_VFIO_BACKEND=container): vm_iommufd tests
 * the IOAS the same way.
 */
#include <sys/mman.h>

#include "vm_common.h"

static struct dk_vfio_iommu_info g_info;

/* Open edu (its group joins the default container) and read the IOMMU info. */
static void setup(void)
{
	setenv("DMAKIT_VFIO_BACKEND", "container", 1); /* read by dk_init */
	vm_open(VM_EDU);
	REQUIRE_INT_EQ(dk_vfio_iommu_info(NULL, &g_info), 0);
	REQUIRE(g_info.nr_ranges >= 1);
}

#define BUF_LEN (64u << 10)
#define IOVA 0x10000000ull

DK_TEST(open_edu_and_read_iommu_info)
{
	setenv("DMAKIT_VFIO_BACKEND", "container", 1);
	vm_vfio_dev(VM_EDU);
	setup();
	CHECK(g_info.flags & DK_VFIO_IOMMU_PGSIZES);
	CHECK(g_info.iova_pgsizes & 4096);
	CHECK_INT_EQ(g_info.iova_pgsizes & 4095, 0);
	CHECK_INT_EQ(g_info.iommu_type, 3); /* type1v2 */
	CHECK(g_info.flags & DK_VFIO_IOMMU_IOVA_RANGES);
	CHECK(g_info.flags & DK_VFIO_IOMMU_DMA_AVAIL);
	CHECK(g_info.dma_avail > 0);
	REQUIRE(g_info.nr_ranges >= 1);
	for (uint32_t i = 0; i < g_info.nr_ranges; i++)
		printf("# IOVA range %u: 0x%" PRIx64 "-0x%" PRIx64 "\n", i, g_info.ranges[i].start,
		       g_info.ranges[i].end);
	printf("# pgsizes 0x%" PRIx64 " dma_avail %u\n", g_info.iova_pgsizes, g_info.dma_avail);
}

DK_TEST(iova_ranges_follow_the_address_width)
{
	setup();
	const char *aw = getenv("DK_VM_AW_BITS");
	REQUIRE(aw != NULL);
	REQUIRE(g_info.nr_ranges >= 1);
	uint64_t end = g_info.ranges[g_info.nr_ranges - 1].end;
	if (strcmp(aw, "48") == 0)
		CHECK_INT_EQ(end, 0xffffffffffffull);
	else
		CHECK_INT_EQ(end, 0x7fffffffffull);
	/* the MSI window is never usable */
	for (uint32_t i = 0; i < g_info.nr_ranges; i++)
		CHECK(!(g_info.ranges[i].start <= 0xfee00000ull && 0xfee00000ull <= g_info.ranges[i].end));
}

DK_TEST(map_and_unmap)
{
	setup();
	void *buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(buf != MAP_FAILED);
	memset(buf, 0x5a, BUF_LEN);
	REQUIRE_INT_EQ(dk_vfio_dma_map(NULL, buf, IOVA, BUF_LEN), 0);
	struct dk_vfio_iommu_info after;
	REQUIRE_INT_EQ(dk_vfio_iommu_info(NULL, &after), 0);
	CHECK_INT_EQ(after.dma_avail, g_info.dma_avail - 1);
	dk_test_log_capture_start();
	/* overlapping: same range, and one page inside it */
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, IOVA, BUF_LEN), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "overlaps an existing mapping");
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, IOVA + 4096, 4096), -EEXIST);
	/* unmapping part of a mapping splits it: refused */
	CHECK_INT_EQ(dk_vfio_dma_unmap(NULL, IOVA + 4096, 4096), -EINVAL);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_vfio_dma_unmap(NULL, IOVA, BUF_LEN), 0);
	REQUIRE_INT_EQ(dk_vfio_iommu_info(NULL, &after), 0);
	CHECK_INT_EQ(after.dma_avail, g_info.dma_avail);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_unmap(NULL, IOVA, BUF_LEN), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "nothing is mapped");
	dk_test_log_capture_stop();
	munmap(buf, BUF_LEN);
}

DK_TEST(va_as_iova_depends_on_the_width)
{
	setup();
	void *buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(buf != MAP_FAILED);
	uint64_t va = (uint64_t)(uintptr_t)buf;
	REQUIRE(g_info.nr_ranges >= 1);
	uint64_t end = g_info.ranges[g_info.nr_ranges - 1].end;
	dk_test_log_capture_start();
	int rc = dk_vfio_dma_map(NULL, buf, va, BUF_LEN);
	if (va + BUF_LEN - 1 <= end) {
		CHECK_INT_EQ(rc, 0);
		CHECK_INT_EQ(dk_vfio_dma_unmap(NULL, va, BUF_LEN), 0);
	} else {
		CHECK_INT_EQ(rc, -ERANGE);
		CHECK_STR_CONTAINS(dk_test_log_captured(), "outside the IOMMU's usable ranges");
	}
	dk_test_log_capture_stop();
	printf("# VA 0x%" PRIx64 " as IOVA: %d\n", va, rc);
	munmap(buf, BUF_LEN);
}

DK_TEST(bad_inputs)
{
	setup();
	void *buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(buf != MAP_FAILED);
	REQUIRE(g_info.nr_ranges >= 1);
	uint64_t end = g_info.ranges[g_info.nr_ranges - 1].end;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, IOVA, 0), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "of 0 bytes");
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, IOVA + 1, 4096), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "multiples of the IOMMU page size 0x1000");
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, (char *)buf + 8, IOVA, 4096), -EINVAL);
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, IOVA, 100), -EINVAL);
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, NULL, IOVA, 4096), -EINVAL);
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, end + 1, 4096), -ERANGE);
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, end - 4095, 8192), -ERANGE);
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, 0xfee00000ull, 4096), -ERANGE);
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, 0xfffffffffffff000ull, 0x2000), -EINVAL); /* wraps */
	CHECK_INT_EQ(dk_vfio_dma_unmap(NULL, IOVA, 0), -EINVAL);
	CHECK_INT_EQ(dk_vfio_dma_unmap(NULL, IOVA + 1, 4096), -EINVAL);
	/* a VA that is not mapped in this process */
	munmap(buf, BUF_LEN);
	CHECK_INT_EQ(dk_vfio_dma_map(NULL, buf, IOVA, 4096), -EFAULT);
	/* a container without groups has no IOMMU */
	struct dk_vfio_container *c2 = dk_vfio_container_create();
	REQUIRE(c2 != NULL);
	struct dk_vfio_iommu_info info;
	CHECK_INT_EQ(dk_vfio_iommu_info(c2, &info), -ENXIO);
	CHECK_INT_EQ(dk_vfio_dma_map(c2, &info, IOVA, 4096), -ENXIO);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "open a group");
	CHECK_INT_EQ(dk_vfio_container_destroy(c2), 0);
	dk_test_log_capture_stop();
}

DK_TEST(close_and_no_iommu_left)
{
	setup();
	CHECK_INT_EQ(dk_pci_vfio_close(dk_pci_find(VM_EDU)), 0);
	/* the default container lost its last group, and with it the IOMMU */
	struct dk_vfio_iommu_info info;
	CHECK_INT_EQ(dk_vfio_iommu_info(NULL, &info), -ENXIO);
}
