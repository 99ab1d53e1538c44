/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dk_p2p_add_resource through VFIO without hardware: a device struct with
 * VFIO state whose device fd is a memfd (it mmaps at offsets like a VFIO
 * device fd), BAR regions built by the PCI layer's own mapper from fake
 * region infos, and config space from a table. Checks that the resource
 * is dmakit's own mapping of the region at fd_offset + offset (it stays
 * after the PCI layer unmaps its BARs), that a range outside the region's
 * mmappable areas (a sparse hole, a region without MMAP) is refused with
 * the message, and the bus address from the 64-bit BAR register. Memory
 * decode is turned on in the command register when it is off, and the
 * resource is registered memory whose IOVA (mode va) is its VA.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dmakit/memory.h>

#include "bus/pci/pci_internal.h"
#include "p2p/p2p_internal.h"
#include "tap.h"
#include "vfio/vfio_internal.h"

#define PG 4096ull
#define REGION_OFF 0x100000ull
#define BAR_SIZE 0x10000ull

static struct dk_vfio_area g_sparse[2] = {{0, 0x4000}, {0x8000, 0x8000}}; /* hole 0x4000..0x8000 */
static struct dk_vfio_area g_whole[1] = {{0, BAR_SIZE}};

static uint8_t g_cfg[64];

static int cfg_read(struct dk__pci_dev *d, void *buf, size_t len, size_t off)
{
	(void)d;
	if (off + len > sizeof(g_cfg))
		return -EIO;
	memcpy(buf, g_cfg + off, len);
	return (int)len;
}

static int g_cfg_writes;

static int cfg_write(struct dk__pci_dev *d, const void *buf, size_t len, size_t off)
{
	(void)d;
	if (off + len > sizeof(g_cfg))
		return -EIO;
	memcpy(g_cfg + off, buf, len);
	g_cfg_writes++;
	return (int)len;
}

static const struct dk__pci_config_ops g_cfg_ops = {"fake", cfg_read, cfg_write};

struct fake {
	struct dk__pci_dev d;
	struct dk__pci_vfio v;
	struct dk_vfio_device vdev;
	struct dk__pci_region regions[3];
	int fd;
};

static struct fake *fake_dev(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	REQUIRE(f);
	f->fd = memfd_create("dk-fake-vfio", MFD_CLOEXEC);
	REQUIRE(f->fd >= 0);
	REQUIRE(ftruncate(f->fd, (off_t)(REGION_OFF * 3)) == 0);
	for (uint64_t i = 0; i < 3; i++) {
		uint8_t b = (uint8_t)(0x10 + i);
		REQUIRE(pwrite(f->fd, &b, 1, (off_t)(REGION_OFF * (i + 1) - 1)) == 1);
	}
	snprintf(f->d.name, sizeof(f->d.name), "0000:05:00.0");
	f->d.pub.device.name = f->d.name;
	f->d.pub.has_addr = 1;
	f->d.cfg_ops = &g_cfg_ops;
	f->d.vfio = &f->v;
	f->v.fd = f->fd;
	f->v.vdev = &f->vdev;
	f->vdev.fd = f->fd;
	f->v.nr_regions = 3;
	f->v.regions = f->regions;
	uint32_t rwm = DK_VFIO_REGION_READ | DK_VFIO_REGION_WRITE | DK_VFIO_REGION_MMAP;
	/* BAR0: whole, mmappable; BAR1: the upper half of BAR0 (absent); BAR2: sparse */
	struct dk_vfio_region_info ri[3] = {
		{.index = 0, .size = BAR_SIZE, .offset = REGION_OFF, .flags = rwm, .nr_areas = 1,
		 .areas = g_whole},
		{.index = 1},
		{.index = 2, .size = BAR_SIZE, .offset = REGION_OFF * 2,
		 .flags = rwm | DK_VFIO_REGION_SPARSE, .nr_areas = 2, .areas = g_sparse},
	};
	for (int i = 0; i < 3; i++)
		REQUIRE_INT_EQ(dk__pci_region_map(&f->regions[i], &ri[i], f->fd, 0, f->d.name), 0);
	for (int i = 0; i < 3; i += 2) {
		f->d.pub.bars[i] = (struct dk_pci_bar){.phys_addr = 0xf0000000ull + (uint64_t)i * BAR_SIZE,
						       .len = BAR_SIZE,
						       .flags = DK_PCI_BAR_MEM | DK_PCI_BAR_MEM64};
	}
	/* BAR0's register: 64-bit at bus 0x1_2340_0000 (the CPU sees 0xf0000000) */
	uint32_t lo = 0x23400000u | 0x4, hi = 0x1;
	memcpy(g_cfg + 0x10, &lo, 4);
	memcpy(g_cfg + 0x14, &hi, 4);
	g_cfg[0x04] = 0; /* command: memory decode off, as vfio-pci may leave it */
	g_cfg_writes = 0;
	return f;
}

static void fake_free(struct fake *f)
{
	for (int i = 0; i < 3; i++)
		dk__pci_region_unmap(&f->regions[i]);
	close(f->fd);
	free(f);
}

DK_TEST(resource_is_an_own_mapping_of_the_region)
{
	struct fake *f = fake_dev();
	struct dk_pci_device *dev = &f->d.pub;
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev, 0, 0x8000, 0x8000), 0);
	uint8_t *a = dk_p2p_alloc(dev, PG);
	REQUIRE(a);
	a[0] = 0x77;
	uint8_t b = 0;
	REQUIRE(pread(f->fd, &b, 1, (off_t)(REGION_OFF + 0x8000)) == 1);
	CHECK_INT_EQ(b, 0x77);
	CHECK(a != (uint8_t *)f->regions[0].pub.base + 0x8000); /* not the PCI layer's mapping */
	CHECK_INT_EQ(dk_p2p_virt_to_bus(dev, a + 3), 0x123400000ull + 0x8000 + 3);
	/* memory decode was turned on, once; the range is known memory with IOVAs */
	CHECK_INT_EQ(g_cfg[0x04] & 0x2, 0x2);
	CHECK_INT_EQ(g_cfg_writes, 1);
	CHECK_INT_EQ(dk_mem_virt2iova(a + 3), (uint64_t)(uintptr_t)(a + 3));
	/* the PCI layer closes the device: dmakit's mapping stays */
	dk__pci_region_unmap(&f->regions[0]);
	a[1] = 0x78;
	REQUIRE(pread(f->fd, &b, 1, (off_t)(REGION_OFF + 0x8001)) == 1);
	CHECK_INT_EQ(b, 0x78);
	CHECK_INT_EQ(dk_p2p_free(dev, a, PG), 0);
	CHECK_INT_EQ(dk_p2p_remove(dev), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(a), DK_BAD_IOVA);
	fake_free(f);
}

DK_TEST(range_outside_the_mmappable_areas_is_refused)
{
	struct fake *f = fake_dev();
	struct dk_pci_device *dev = &f->d.pub;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_add_resource(dev, 2, 0, 0), -EINVAL); /* spans the hole */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not mmappable through VFIO");
	CHECK_INT_EQ(dk_p2p_add_resource(dev, 2, 0x2000, 0x3000), -EINVAL);
	dk_test_log_capture_stop();
	/* inside one area: fine */
	CHECK_INT_EQ(dk_p2p_add_resource(dev, 2, 0x4000, 0x9000), 0);
	CHECK_INT_EQ(dk_p2p_add_resource(dev, 2, 0x4000, 0), 0);
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_stats(dev, &st), 0);
	CHECK_INT_EQ(st.size, 0x8000);
	CHECK_INT_EQ(st.nr_resources, 2);
	/* no MMAP flag on the region: refused too */
	f->regions[0].pub.flags &= ~(uint32_t)DK_PCI_REGION_MMAP;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_add_resource(dev, 0, 0, 0), -EINVAL);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_remove(dev), 0);
	fake_free(f);
}
