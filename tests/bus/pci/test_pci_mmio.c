/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/bus/pci/pci_region.c and pci_mmio.c without hardware: a
 * memfd plays the VFIO device fd (it supports mmap at offsets and
 * pread/pwrite like a device fd), regions are built from fake region
 * infos, and a device struct carries that VFIO state. Checks the three
 * mapping modes (whole, reserved sparse, split sparse), MMIO through the
 * mapping and through pread/pwrite (holes of a sparse BAR, forced
 * pread), and every bounds and permission error with its message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bus/pci/pci_internal.h"
#include "tap.h"

#define REGION_OFF 0x100000ull /* where the fake BAR lives in the fd */
#define BAR_SIZE 0x4000ull

static int make_fd(void)
{
	int fd = memfd_create("dk-fake-vfio", MFD_CLOEXEC);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)(REGION_OFF + BAR_SIZE)) == 0);
	/* byte i of the BAR holds (i / 4096) * 16 + (i % 7) */
	uint8_t page[BAR_SIZE];
	for (size_t i = 0; i < BAR_SIZE; i++)
		page[i] = (uint8_t)((i / 4096) * 16 + i % 7);
	REQUIRE(pwrite(fd, page, sizeof(page), (off_t)REGION_OFF) == (ssize_t)sizeof(page));
	return fd;
}

static struct dk_vfio_area g_sparse[2] = {{0, 0x1000}, {0x2000, 0x2000}}; /* hole at 0x1000 */
static struct dk_vfio_area g_whole[1] = {{0, BAR_SIZE}};

static struct dk_vfio_region_info info(int sparse, uint32_t flags)
{
	struct dk_vfio_region_info ri = {.index = 0, .size = BAR_SIZE, .offset = REGION_OFF,
					 .flags = flags};
	if (sparse) {
		ri.flags |= DK_VFIO_REGION_SPARSE;
		ri.nr_areas = 2;
		ri.areas = g_sparse;
	} else {
		ri.nr_areas = 1;
		ri.areas = g_whole;
	}
	return ri;
}

#define RWM (DK_VFIO_REGION_READ | DK_VFIO_REGION_WRITE | DK_VFIO_REGION_MMAP)

struct fake {
	struct dk__pci_dev d;
	struct dk__pci_vfio v;
	struct dk__pci_region regions[2]; /* BAR0 and an empty BAR1 */
};

static struct fake *fake_dev(int fd, int sparse, int split, uint32_t flags)
{
	struct fake *f = calloc(1, sizeof(*f));
	REQUIRE(f != NULL);
	snprintf(f->d.name, sizeof(f->d.name), "0000:03:00.0");
	f->d.pub.device.name = f->d.name;
	f->d.vfio = &f->v;
	f->v.fd = fd;
	f->v.nr_regions = 2;
	f->v.regions = f->regions;
	struct dk_vfio_region_info ri = info(sparse, flags);
	REQUIRE_INT_EQ(dk__pci_region_map(&f->regions[0], &ri, fd, split, f->d.name), 0);
	struct dk_vfio_region_info empty = {.index = 1};
	REQUIRE_INT_EQ(dk__pci_region_map(&f->regions[1], &empty, fd, split, f->d.name), 0);
	return f;
}

static void fake_free(struct fake *f)
{
	for (int i = 0; i < 2; i++)
		dk__pci_region_unmap(&f->regions[i]);
	free(f);
}

static uint8_t expect(uint64_t off)
{
	return (uint8_t)((off / 4096) * 16 + off % 7);
}

DK_TEST(whole_bar_mapped_at_base)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 0, 0, RWM);
	struct dk_pci_region *r = &f->regions[0].pub;
	CHECK_INT_EQ(r->mode, DK_PCI_MAP_WHOLE);
	REQUIRE(r->base != NULL);
	CHECK_INT_EQ(((uint8_t *)r->base)[0x2005], expect(0x2005));
	CHECK_INT_EQ(r->fd_offset, REGION_OFF);
	CHECK(r->areas[0].addr == r->base);
	CHECK_INT_EQ(f->regions[1].pub.mode, DK_PCI_MAP_NONE);
	fake_free(f);
	close(fd);
}

DK_TEST(sparse_reserved_base_plus_offset)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 1, 0, RWM);
	struct dk_pci_region *r = &f->regions[0].pub;
	CHECK_INT_EQ(r->mode, DK_PCI_MAP_RESERVED);
	REQUIRE(r->base != NULL);
	REQUIRE_INT_EQ(r->nr_areas, 2);
	CHECK(r->areas[0].addr == r->base);
	CHECK(r->areas[1].addr == (uint8_t *)r->base + 0x2000);
	CHECK_INT_EQ(((uint8_t *)r->base)[0x10], expect(0x10));
	CHECK_INT_EQ(((uint8_t *)r->base)[0x3ffe], expect(0x3ffe));
	/* the hole is reserved (PROT_NONE) and not backed by the fd: mincore
	 * still works on it, and the kernel reports it as part of our mapping */
	unsigned char vec;
	CHECK_INT_EQ(mincore((uint8_t *)r->base + 0x1000, 4096, &vec), 0);
	fake_free(f);
	close(fd);
}

DK_TEST(sparse_split_areas_on_their_own)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 1, 1, RWM);
	struct dk_pci_region *r = &f->regions[0].pub;
	CHECK_INT_EQ(r->mode, DK_PCI_MAP_SPLIT);
	CHECK(r->base == NULL);
	REQUIRE_INT_EQ(r->nr_areas, 2);
	REQUIRE(r->areas[0].addr && r->areas[1].addr);
	CHECK_INT_EQ(r->areas[1].offset, 0x2000);
	CHECK_INT_EQ(r->areas[1].len, 0x2000);
	CHECK_INT_EQ(((uint8_t *)r->areas[1].addr)[5], expect(0x2005));
	fake_free(f);
	close(fd);
}

DK_TEST(not_mappable_region_has_no_mapping)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 0, 0, DK_VFIO_REGION_READ | DK_VFIO_REGION_WRITE);
	/* a region without DK_VFIO_REGION_MMAP comes without areas from
	 * dk_vfio_region_info: rebuild it that way */
	dk__pci_region_unmap(&f->regions[0]);
	struct dk_vfio_region_info ri = {.size = BAR_SIZE, .offset = REGION_OFF,
					 .flags = DK_VFIO_REGION_READ | DK_VFIO_REGION_WRITE};
	REQUIRE_INT_EQ(dk__pci_region_map(&f->regions[0], &ri, fd, 0, "x"), 0);
	CHECK_INT_EQ(f->regions[0].pub.mode, DK_PCI_MAP_NONE);
	uint32_t v;
	CHECK_INT_EQ(dk_pci_mmio_read32(&f->d.pub, 0, 0x2004, &v), 0); /* pread */
	uint8_t b[4];
	memcpy(b, &v, 4);
	CHECK_INT_EQ(b[0], expect(0x2004));
	fake_free(f);
	close(fd);
}

static void rw_everywhere(struct fake *f)
{
	const struct dk_pci_device *dev = &f->d.pub;
	uint8_t b[64];
	/* inside the first area, across the hole, inside the second area, odd sizes */
	uint64_t offs[] = {0, 3, 0xff9, 0x1000, 0x1ffe, 0x2001, 0x3fc0};
	size_t lens[] = {1, 2, 3, 4, 7, 8, 13, 64};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			if (offs[i] + lens[k] > BAR_SIZE)
				continue;
			memset(b, 0, sizeof(b));
			CHECK_INT_EQ(dk_pci_mmio_read(dev, 0, b, lens[k], offs[i]), (int)lens[k]);
			for (size_t j = 0; j < lens[k]; j++)
				if (b[j] != expect(offs[i] + j))
					CHECK_INT_EQ(b[j], expect(offs[i] + j));
		}
	}
	/* writes land where reads find them */
	CHECK_INT_EQ(dk_pci_mmio_write32(dev, 0, 0x2010, 0xdeadbeef), 0);
	CHECK_INT_EQ(dk_pci_mmio_write64(dev, 0, 0x1008, 0x1122334455667788ull), 0); /* hole */
	CHECK_INT_EQ(dk_pci_mmio_write16(dev, 0, 0x0002, 0xabcd), 0);
	CHECK_INT_EQ(dk_pci_mmio_write8(dev, 0, 0x3fff, 0x5a), 0);
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	uint16_t v16 = 0;
	uint8_t v8 = 0;
	CHECK_INT_EQ(dk_pci_mmio_read32(dev, 0, 0x2010, &v32), 0);
	CHECK_INT_EQ(v32, 0xdeadbeef);
	CHECK_INT_EQ(dk_pci_mmio_read64(dev, 0, 0x1008, &v64), 0);
	CHECK_INT_EQ(v64, 0x1122334455667788ull);
	CHECK_INT_EQ(dk_pci_mmio_read16(dev, 0, 0x0002, &v16), 0);
	CHECK_INT_EQ(v16, 0xabcd);
	CHECK_INT_EQ(dk_pci_mmio_read8(dev, 0, 0x3fff, &v8), 0);
	CHECK_INT_EQ(v8, 0x5a);
	/* the fd saw every write (mapping is MAP_SHARED) */
	CHECK(pread(f->v.fd, &v32, 4, (off_t)(REGION_OFF + 0x2010)) == 4);
	CHECK_INT_EQ(v32, 0xdeadbeef);
}

DK_TEST(mmio_whole)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 0, 0, RWM);
	rw_everywhere(f);
	fake_free(f);
	close(fd);
}

DK_TEST(mmio_sparse_reserved_and_hole_by_pread)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 1, 0, RWM);
	rw_everywhere(f);
	fake_free(f);
	close(fd);
}

DK_TEST(mmio_sparse_split)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 1, 1, RWM);
	rw_everywhere(f);
	fake_free(f);
	close(fd);
}

DK_TEST(mmio_forced_pread)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 0, 0, RWM);
	f->v.force_rw = 1;
	rw_everywhere(f);
	/* proof that force_rw bypasses the mapping: with no fd, only the
	 * mapping can answer */
	int saved = f->v.fd;
	f->v.fd = -1;
	uint32_t v;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_mmio_read32(&f->d.pub, 0, 0, &v), -EBADF);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "through the device fd");
	f->v.force_rw = 0;
	CHECK_INT_EQ(dk_pci_mmio_read32(&f->d.pub, 0, 0, &v), 0); /* mapping: no fd needed */
	dk_test_log_capture_stop();
	f->v.fd = saved;
	fake_free(f);
	close(fd);
}

DK_TEST(bounds_and_permissions)
{
	int fd = make_fd();
	struct fake *f = fake_dev(fd, 0, 0, DK_VFIO_REGION_READ | DK_VFIO_REGION_MMAP);
	const struct dk_pci_device *dev = &f->d.pub;
	uint32_t v;
	uint8_t b[8];
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_mmio_read32(dev, 0, BAR_SIZE - 2, &v), -ERANGE);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "beyond BAR0 (0x4000 bytes)");
	CHECK_INT_EQ(dk_pci_mmio_read(dev, 0, b, 8, UINT64_MAX - 3), -ERANGE);
	CHECK_INT_EQ(dk_pci_mmio_read(dev, 0, b, 0, BAR_SIZE), 0);
	CHECK_INT_EQ(dk_pci_mmio_read(dev, 0, b, 0, BAR_SIZE + 1), -ERANGE);
	CHECK_INT_EQ(dk_pci_mmio_read32(dev, 1, 0, &v), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "BAR1 is not implemented");
	CHECK_INT_EQ(dk_pci_mmio_read32(dev, 2, 0, &v), -EINVAL); /* beyond the table */
	CHECK_INT_EQ(dk_pci_mmio_read32(dev, 7, 0, &v), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "use 0..5 (6 for the ROM)");
	CHECK_INT_EQ(dk_pci_mmio_write32(dev, 0, 0, 1), -EACCES);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "BAR0 is not writable");
	CHECK_INT_EQ(dk_pci_mmio_read(dev, 0, NULL, 4, 0), -EINVAL);
	CHECK_INT_EQ(dk_pci_mmio_read32(NULL, 0, 0, &v), -EINVAL);
	CHECK_INT_EQ(dk_pci_mmio_read32(dev, 0, 0, NULL), -EINVAL);
	CHECK_INT_EQ(dk_pci_mmio_read(dev, 0, b, (size_t)INT32_MAX + 1, 0), -EINVAL);
	f->d.vfio = NULL;
	CHECK_INT_EQ(dk_pci_mmio_read32(dev, 0, 0, &v), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "call dk_pci_vfio_open first");
	struct dk_pci_region r;
	CHECK_INT_EQ(dk_pci_region_info(dev, 0, &r), -ENODEV);
	CHECK_INT_EQ(dk_pci_region_count(dev), -ENODEV);
	f->d.vfio = &f->v;
	CHECK_INT_EQ(dk_pci_region_count(dev), 2);
	CHECK_INT_EQ(dk_pci_region_info(dev, 2, &r), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "region 2 out of range: the device has regions 0..1");
	CHECK_INT_EQ(dk_pci_region_info(dev, 0, &r), 0);
	CHECK_INT_EQ(r.size, BAR_SIZE);
	dk_test_log_capture_stop();
	fake_free(f);
	close(fd);
}

DK_TEST(unaligned_area_left_to_pread)
{
	int fd = make_fd();
	static struct dk_vfio_area odd[1] = {{0x800, 0x1000}};
	struct dk_vfio_region_info ri = {.size = BAR_SIZE, .offset = REGION_OFF,
					 .flags = RWM | DK_VFIO_REGION_SPARSE, .nr_areas = 1,
					 .areas = odd};
	struct dk__pci_region r;
	dk_test_log_capture_start();
	REQUIRE_INT_EQ(dk__pci_region_map(&r, &ri, fd, 0, "0000:03:00.0"), 0);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is not page-aligned: accessed by pread/pwrite");
	dk_test_log_capture_stop();
	CHECK(r.pub.areas[0].addr == NULL);
	CHECK(dk__pci_region_area(&r, 0x800, 4) == NULL);
	dk__pci_region_unmap(&r);
	close(fd);
}
