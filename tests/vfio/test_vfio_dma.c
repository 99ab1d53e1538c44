/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for the argument checks of src/vfio/vfio_dma.c on a fake container
 * (no fd: every case here must be refused before the ioctl). The kernel's
 * own answers (-EEXIST, -ENOENT, -EFAULT) are checked in the VM suite. Also
 * the detection of the kernel's p2pmem mappings that explains their -EFAULT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* A DMA map that fails with EFAULT or EREMOTEIO on a mapping of a file named
 * p2pmem/allocate (the kernel's P2P memory) is explained as such: the
 * detection reads /proc/self/maps. A regular file stands for the sysfs one. */
DK_TEST(p2pmem_mapping_is_recognised)
{
	char dir[] = "/tmp/dk-p2pmem-XXXXXX", sub[64], file[96], other[96];
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/p2pmem", dir);
	snprintf(file, sizeof(file), "%s/allocate", sub);
	snprintf(other, sizeof(other), "%s/allocate", dir);
	REQUIRE_INT_EQ(mkdir(sub, 0700), 0);
	int fd = open(file, O_RDWR | O_CREAT, 0600), fd2 = open(other, O_RDWR | O_CREAT, 0600);
	REQUIRE(fd >= 0 && fd2 >= 0);
	REQUIRE_INT_EQ(ftruncate(fd, 8192), 0);
	REQUIRE_INT_EQ(ftruncate(fd2, 4096), 0);
	unsigned char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned char *o = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	REQUIRE(m != MAP_FAILED && o != MAP_FAILED);
	char path[256] = "";
	CHECK_INT_EQ(dk__vfio_is_p2pmem(m + 4096, 4096, path, sizeof(path)), 1);
	CHECK_STR_EQ(path, file);
	/* another file named allocate, anonymous memory: no */
	CHECK_INT_EQ(dk__vfio_is_p2pmem(o, 4096, path, sizeof(path)), 0);
	unsigned char *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				   -1, 0);
	REQUIRE(anon != MAP_FAILED);
	CHECK_INT_EQ(dk__vfio_is_p2pmem(anon, 4096, path, sizeof(path)), 0);
	munmap(anon, 4096);
	munmap(m, 8192);
	munmap(o, 4096);
	/* unmapped now: no */
	CHECK_INT_EQ(dk__vfio_is_p2pmem(m, 8192, path, sizeof(path)), 0);
	close(fd);
	close(fd2);
	unlink(file);
	unlink(other);
	rmdir(sub);
	rmdir(dir);
}
