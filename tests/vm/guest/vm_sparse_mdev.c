/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: the dk_sparse test mdev (tests/vm/kmod, docs/vm.md) through the
 * library. Creates an instance with dk_mdev_create, opens it by UUID with
 * dk_pci_mdev_open as a PCI device of kind mdev, first in the default sparse
 * mode (a: one PROT_NONE reservation with the 3 areas mapped at their
 * offsets), then in split mode (b: DK_PCI_VFIO_SPARSE_SPLIT, each area on its
 * own), and checks in each: BAR0's region information, where the mappings
 * and holes are (/proc/self/maps), that register accesses go through
 * pread/pwrite (the TRAPS counter moves) and area accesses through the
 * mapping (it does not), that both paths see the same memory
 * (WINDOW/WINDOW_DATA), 1/2/4/8-byte accesses, a range crossing from an
 * area into a hole, bad input, SCRATCH and reset, and config space. Then a
 * PCI driver with DK_PCI_DRV_SPARSE_SPLIT probes the mdev, then the same
 * driver, registered before dk_init, is probed on it through the mdev bus
 * (and on a second instance found by a rescan), and the instance is removed. The harness's dk_cleanup after each test closes the mdev:
 * each test opens it again in the mode of its phase.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "bus/pci/pci_internal.h"
#include "vm_common.h"

#include "../kmod/dk_sparse_regs.h"

static char g_uuid[DK_MDEV_UUID_LEN];

static const struct {
	uint64_t offset, len;
} g_areas[DKS_NR_AREAS] = {
    {DKS_AREA0_OFFSET, DKS_AREA0_SIZE},
    {DKS_AREA1_OFFSET, DKS_AREA1_SIZE},
    {DKS_AREA2_OFFSET, DKS_AREA2_SIZE},
};

/* The instance, opened (again) with flags. */
static struct dk_pci_device *sparse(uint32_t flags)
{
	vm_init();
	if (!g_uuid[0])
		SKIP("no dk_sparse instance (create_instance failed)");
	struct dk_pci_device *d = dk_pci_find(g_uuid);
	if (!d)
		REQUIRE_INT_EQ(dk_pci_mdev_open(g_uuid, flags, &d), 0);
	REQUIRE(d != NULL);
	return d;
}

static uint32_t reg(struct dk_pci_device *d, uint32_t off)
{
	uint32_t v = 0xdeadbeef;
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, off, &v), 0);
	return v;
}

static void set_reg(struct dk_pci_device *d, uint32_t off, uint32_t v)
{
	CHECK_INT_EQ(dk_pci_mmio_write32(d, 0, off, v), 0);
}

/* Protection of the mapping holding addr in /proc/self/maps ("rw-s"), or "" when none. */
static const char *prot_of(const void *addr)
{
	static char perms[8];
	perms[0] = '\0';
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return perms;
	char line[512];
	uintptr_t a = (uintptr_t)addr;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char p[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
			snprintf(perms, sizeof(perms), "%s", p);
			break;
		}
	}
	fclose(f);
	return perms;
}

/* Where area i of BAR0 is mapped. */
static volatile uint8_t *area_ptr(const struct dk_pci_region *r, unsigned int i)
{
	return (volatile uint8_t *)r->areas[i].addr;
}

DK_TEST(create_instance)
{
	vm_init();
	char type[256];
	snprintf(type, sizeof(type), "%s/class/mdev_bus/" DKS_PARENT_NAME, dk_sysfs_root());
	struct stat st;
	if (stat(type, &st) != 0)
		SKIP("no mdev parent " DKS_PARENT_NAME
		     " (dk_sparse.ko not loaded: run.sh --no-kmod?)");
	REQUIRE_INT_EQ(dk_mdev_create(DKS_PARENT_NAME, DKS_TYPE_NAME, NULL, g_uuid), 0);
	char dir[128];
	snprintf(dir, sizeof(dir), "/sys/bus/mdev/devices/%s", g_uuid);
	CHECK(stat(dir, &st) == 0);
	printf("# mdev %s\n", g_uuid);
}

DK_TEST(open_by_uuid_as_pci_device_of_kind_mdev)
{
	struct dk_pci_device *d = sparse(0);
	CHECK_INT_EQ(d->kind, DK_PCI_KIND_MDEV);
	CHECK_INT_EQ(d->has_addr, 0);
	CHECK_STR_EQ(d->device.name, g_uuid);
	CHECK(dk_pci_find(g_uuid) == d);
	CHECK(dk_pci_get(dk_pci_count() - 1) == d); /* mdevs come after functions */
	CHECK_INT_EQ(d->id.vendor_id, DKS_VENDOR_ID);
	CHECK_INT_EQ(d->id.device_id, DKS_DEVICE_ID);
	CHECK_INT_EQ(d->id.subsystem_vendor_id, DKS_SUBSYS_VENDOR_ID);
	CHECK_INT_EQ(d->id.subsystem_device_id, DKS_SUBSYS_ID);
	CHECK_INT_EQ(d->id.class_id, DKS_CLASS);
	CHECK_INT_EQ(d->revision, DKS_REVISION);
	CHECK(d->iommu_group >= 0);
	CHECK_INT_EQ(d->bars[0].len, DKS_BAR0_SIZE);
	CHECK_INT_EQ(d->bars[0].flags, DK_PCI_BAR_MEM);
	CHECK_INT_EQ(d->bars[1].len, 0);
	CHECK(d->upstream == NULL);
	CHECK(dk_pci_vfio_is_open(d));
	CHECK_STR_EQ(dk_vfio_device_name(dk_pci_vfio_device(d)), g_uuid);
	struct dk__pci_dev *in = dk__pci_dev(d);
	CHECK_STR_EQ(in->sysfs_rel, "");
	CHECK_STR_EQ(in->cfg_ops->name, "vfio");
	printf("# %s: %04x:%04x group %d driver %s\n", g_uuid, d->id.vendor_id, d->id.device_id,
	       d->iommu_group, d->kernel_driver);
	/* a second open is refused; the open device is found by name */
	struct dk_pci_device *again = NULL;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_mdev_open(g_uuid, 0, &again), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is open already");
	/* and it cannot be removed while open */
	CHECK_INT_EQ(dk_mdev_remove(g_uuid), -EBUSY);
	dk_test_log_capture_stop();
}

DK_TEST(config_space_through_vfio)
{
	struct dk_pci_device *d = sparse(0);
	uint32_t id = 0;
	CHECK_INT_EQ(dk_pci_config_read(d, &id, 4, 0), 4);
	CHECK_INT_EQ(id, DKS_DEVICE_ID << 16 | DKS_VENDOR_ID);
	uint8_t rev = 0;
	CHECK_INT_EQ(dk_pci_config_read(d, &rev, 1, 8), 1);
	CHECK_INT_EQ(rev, DKS_REVISION);
	/* BAR sizing through config writes */
	uint32_t all = 0xffffffffu, bar0 = 0, saved = 0;
	CHECK_INT_EQ(dk_pci_config_read(d, &saved, 4, 0x10), 4);
	CHECK_INT_EQ(dk_pci_config_write(d, &all, 4, 0x10), 4);
	CHECK_INT_EQ(dk_pci_config_read(d, &bar0, 4, 0x10), 4);
	CHECK_INT_EQ(bar0, 0xffff0000u);
	CHECK_INT_EQ(dk_pci_config_write(d, &saved, 4, 0x10), 4);
	/* 256 bytes of config: a read past them is a short transfer */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_config_read(d, &id, 4, DKS_CONFIG_SIZE), -EIO);
	dk_test_log_capture_stop();
}

/* ---- the checks of each sparse mode ------------------------------------------------------- */

static void region_info(uint32_t flags)
{
	struct dk_pci_device *d = sparse(flags);
	int split = !!(flags & DK_PCI_VFIO_SPARSE_SPLIT);
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(d, 0, &r), 0);
	CHECK_INT_EQ(r.size, DKS_BAR0_SIZE);
	CHECK(r.flags & DK_PCI_REGION_SPARSE);
	CHECK(r.flags & DK_PCI_REGION_MMAP);
	CHECK_INT_EQ(r.mode, split ? DK_PCI_MAP_SPLIT : DK_PCI_MAP_RESERVED);
	CHECK(split ? r.base == NULL : r.base != NULL);
	REQUIRE_INT_EQ(r.nr_areas, DKS_NR_AREAS);
	for (unsigned int i = 0; i < DKS_NR_AREAS; i++) {
		CHECK_INT_EQ(r.areas[i].offset, g_areas[i].offset);
		CHECK_INT_EQ(r.areas[i].len, g_areas[i].len);
		REQUIRE(r.areas[i].addr != NULL);
		if (!split)
			CHECK((uint8_t *)r.areas[i].addr == (uint8_t *)r.base + g_areas[i].offset);
		/* mapped shared, read/write: first and last byte */
		CHECK_STR_EQ(prot_of(r.areas[i].addr), "rw-s");
		CHECK_STR_EQ(prot_of((uint8_t *)r.areas[i].addr + g_areas[i].len - 1), "rw-s");
	}
	if (!split) {
		uint8_t *b = r.base;
		/* register page and holes: the PROT_NONE reservation (never touched) */
		CHECK_STR_EQ(prot_of(b), "---p");
		CHECK_STR_EQ(prot_of(b + 0x2000), "---p");
		CHECK_STR_EQ(prot_of(b + 0x3fff), "---p");
		CHECK_STR_EQ(prot_of(b + 0x8000), "---p");
		CHECK_STR_EQ(prot_of(b + 0xbfff), "---p");
		CHECK_STR_EQ(prot_of(b + 0xffff), "rw-s");
		/* base + offset works as a pointer */
		volatile uint32_t *p = (volatile uint32_t *)(b + 0x1000);
		*p = 0x11223344u;
		uint32_t v = 0;
		CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, 0x1000, &v), 0);
		CHECK_INT_EQ(v, 0x11223344u);
		*(volatile uint32_t *)(b + 0xfffc) = 0x55667788u;
		CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, 0xfffc, &v), 0);
		CHECK_INT_EQ(v, 0x55667788u);
	}
	/* the register page is not mapped: it is in no area */
	struct dk_pci_region cfg;
	REQUIRE_INT_EQ(dk_pci_region_info(d, DK_PCI_REGION_CONFIG, &cfg), 0);
	CHECK_INT_EQ(cfg.size, DKS_CONFIG_SIZE);
	CHECK_INT_EQ(cfg.mode, DK_PCI_MAP_NONE);
	for (unsigned int i = 1; i < DK_PCI_NUM_BARS; i++) {
		REQUIRE_INT_EQ(dk_pci_region_info(d, i, &r), 0);
		CHECK_INT_EQ(r.size, 0);
	}
}

static void trapped_and_mapped(uint32_t flags)
{
	struct dk_pci_device *d = sparse(flags);
	/* a register read goes through pread: TRAPS moves by it (and by the TRAPS read) */
	uint32_t t0 = reg(d, DKS_REG_TRAPS);
	CHECK_INT_EQ(reg(d, DKS_REG_ID), DKS_ID_VALUE);
	uint32_t t1 = reg(d, DKS_REG_TRAPS);
	CHECK_INT_EQ(t1, t0 + 2);
	CHECK_INT_EQ(reg(d, DKS_REG_VERSION), DKS_VERSION_VALUE);
	CHECK_INT_EQ(reg(d, DKS_REG_AREAS), DKS_NR_AREAS);
	/* reads and writes inside areas go through the mapping: TRAPS stays */
	t0 = reg(d, DKS_REG_TRAPS);
	uint32_t v;
	for (unsigned int i = 0; i < DKS_NR_AREAS; i++) {
		CHECK_INT_EQ(dk_pci_mmio_write32(d, 0, g_areas[i].offset + 4, 0xa0a0a0a0u + i), 0);
		CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, g_areas[i].offset + 4, &v), 0);
		CHECK_INT_EQ(v, 0xa0a0a0a0u + i);
	}
	t1 = reg(d, DKS_REG_TRAPS);
	CHECK_INT_EQ(t1, t0 + 1);
	/* the same word through the trapped path: WINDOW / WINDOW_DATA */
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(d, 0, &r), 0);
	set_reg(d, DKS_REG_WINDOW, DKS_AREA1_OFFSET + 0x100);
	*(volatile uint32_t *)(area_ptr(&r, 1) + 0x100) = 0x1234abcdu; /* mapping -> window */
	CHECK_INT_EQ(reg(d, DKS_REG_WINDOW_DATA), 0x1234abcdu);
	set_reg(d, DKS_REG_WINDOW_DATA, 0x0badf00du); /* window -> mapping */
	CHECK_INT_EQ(*(volatile uint32_t *)(area_ptr(&r, 1) + 0x100), 0x0badf00du);
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, DKS_AREA1_OFFSET + 0x100, &v), 0);
	CHECK_INT_EQ(v, 0x0badf00du);
	set_reg(d, DKS_REG_WINDOW, DKS_AREA2_OFFSET + 0x3ffc); /* last word of area 2 */
	CHECK_INT_EQ(dk_pci_mmio_write32(d, 0, DKS_AREA2_OFFSET + 0x3ffc, 0xfeedface), 0);
	CHECK_INT_EQ(reg(d, DKS_REG_WINDOW_DATA), 0xfeedface);
}

static void sizes(uint32_t flags)
{
	struct dk_pci_device *d = sparse(flags);
	struct dk__pci_dev *in = dk__pci_dev(d);
	const uint64_t off = DKS_AREA2_OFFSET + 0x40;
	for (int force_rw = 0; force_rw < 2; force_rw++) {
		in->vfio->force_rw = force_rw;
		uint32_t t0 = reg(d, DKS_REG_TRAPS);
		uint64_t x = force_rw ? 0x0102030405060708ull : 0x1122334455667788ull, y = 0;
		CHECK_INT_EQ(dk_pci_mmio_write64(d, 0, off, x), 0);
		CHECK_INT_EQ(dk_pci_mmio_read64(d, 0, off, &y), 0);
		CHECK_INT_EQ(y, x);
		uint32_t w = 0;
		uint16_t h = 0;
		uint8_t b = 0;
		CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, off + 4, &w), 0);
		CHECK_INT_EQ(w, (uint32_t)(x >> 32));
		CHECK_INT_EQ(dk_pci_mmio_read16(d, 0, off + 2, &h), 0);
		CHECK_INT_EQ(h, (uint16_t)(x >> 16));
		CHECK_INT_EQ(dk_pci_mmio_read8(d, 0, off + 7, &b), 0);
		CHECK_INT_EQ(b, (uint8_t)(x >> 56));
		CHECK_INT_EQ(dk_pci_mmio_write8(d, 0, off + 1, 0xee), 0);
		CHECK_INT_EQ(dk_pci_mmio_write16(d, 0, off + 2, 0xdddd), 0);
		CHECK_INT_EQ(dk_pci_mmio_write32(d, 0, off + 4, 0xcccccccc), 0);
		CHECK_INT_EQ(dk_pci_mmio_read64(d, 0, off, &y), 0);
		CHECK_INT_EQ(y, 0xccccccccddddee00ull | (x & 0xff));
		/* an unaligned 8-byte range and an odd length inside the area */
		uint8_t buf[11], back[11];
		for (unsigned int i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(0x30 + i + force_rw);
		CHECK_INT_EQ(dk_pci_mmio_write(d, 0, buf, sizeof(buf), off + 0x23),
			     (int)sizeof(buf));
		CHECK_INT_EQ(dk_pci_mmio_read(d, 0, back, sizeof(back), off + 0x23),
			     (int)sizeof(back));
		CHECK(memcmp(buf, back, sizeof(buf)) == 0);
		uint32_t t1 = reg(d, DKS_REG_TRAPS);
		/* mapped: only the t0 read; forced: that and 5 pwrites and 6 preads */
		CHECK_INT_EQ(t1 - t0, force_rw ? 1 + 11 : 1);
	}
	in->vfio->force_rw = 0;
	/* a hole reads 0 at every size, through pread */
	uint32_t t0 = reg(d, DKS_REG_TRAPS);
	uint8_t b = 1;
	uint16_t h = 1;
	uint32_t w = 1;
	uint64_t q = 1;
	CHECK_INT_EQ(dk_pci_mmio_read8(d, 0, 0x2001, &b), 0);
	CHECK_INT_EQ(dk_pci_mmio_read16(d, 0, 0x2002, &h), 0);
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, 0x8004, &w), 0);
	CHECK_INT_EQ(dk_pci_mmio_read64(d, 0, 0xbff8, &q), 0);
	CHECK_INT_EQ(b | h | w | q, 0);
	CHECK_INT_EQ(reg(d, DKS_REG_TRAPS), t0 + 5);
}

static void crossing(uint32_t flags)
{
	struct dk_pci_device *d = sparse(flags);
	/* area 0's last 8 bytes, then hole: one range, through pread/pwrite */
	const uint64_t off = DKS_AREA0_OFFSET + DKS_AREA0_SIZE - 8;
	uint8_t buf[16], back[16];
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0x80 + i);
	uint32_t t0 = reg(d, DKS_REG_TRAPS), ig0 = reg(d, DKS_REG_IGNORED);
	CHECK_INT_EQ(dk_pci_mmio_write(d, 0, buf, sizeof(buf), off), (int)sizeof(buf));
	CHECK_INT_EQ(reg(d, DKS_REG_IGNORED), ig0 + 1); /* the hole's part was ignored */
	memset(back, 0xff, sizeof(back));
	CHECK_INT_EQ(dk_pci_mmio_read(d, 0, back, sizeof(back), off), (int)sizeof(back));
	CHECK(memcmp(back, buf, 8) == 0);
	for (unsigned int i = 8; i < 16; i++)
		CHECK_INT_EQ(back[i], 0);
	/* TRAPS: the t0 read, 2 IGNORED reads, the write and the read */
	CHECK_INT_EQ(reg(d, DKS_REG_TRAPS), t0 + 5);
	/* the area part is in the mapping */
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(d, 0, &r), 0);
	uint64_t q;
	memcpy(&q, (const void *)(area_ptr(&r, 0) + DKS_AREA0_SIZE - 8), 8);
	CHECK(memcmp(&q, buf, 8) == 0);
	/* from a hole into area 1 */
	CHECK_INT_EQ(dk_pci_mmio_read(d, 0, back, sizeof(back), DKS_AREA1_OFFSET - 8),
		     (int)sizeof(back));
	/* the register page through the fd takes aligned 4-byte accesses only: the
	 * kernel's EINVAL comes back with a message */
	uint16_t h;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_mmio_read16(d, 0, DKS_REG_ID, &h), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "through the device fd");
	dk_test_log_capture_stop();
}

static void bad_input(uint32_t flags)
{
	struct dk_pci_device *d = sparse(flags);
	uint32_t v;
	uint8_t big[32];
	struct dk_pci_region r;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, DKS_BAR0_SIZE - 2, &v), -ERANGE);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "beyond BAR0 (0x10000 bytes)");
	CHECK_INT_EQ(dk_pci_mmio_read(d, 0, big, sizeof(big), DKS_BAR0_SIZE - 16), -ERANGE);
	CHECK_INT_EQ(dk_pci_mmio_write32(d, 0, DKS_BAR0_SIZE, 0), -ERANGE);
	CHECK_INT_EQ(dk_pci_mmio_read(d, 0, big, 8, UINT64_MAX - 3), -ERANGE);
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 9, 0, &v), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "BAR 9 out of range");
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 2, 0, &v), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "BAR2 is not implemented");
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, 0, NULL), -EINVAL);
	CHECK_INT_EQ(dk_pci_region_info(d, 100, &r), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "region 100 out of range");
	/* opened in one mode: not again in the other */
	CHECK_INT_EQ(dk_pci_vfio_open_flags(d, flags ^ DK_PCI_VFIO_SPARSE_SPLIT), -EBUSY);
	CHECK_INT_EQ(dk_pci_vfio_open_flags(d, 0x80), -EINVAL);
	CHECK_INT_EQ(dk_pci_mdev_close(NULL), -EINVAL);
	dk_test_log_capture_stop();
}

static void scratch_and_reset(uint32_t flags)
{
	struct dk_pci_device *d = sparse(flags);
	set_reg(d, DKS_REG_SCRATCH, 0xcafef00du);
	CHECK_INT_EQ(reg(d, DKS_REG_SCRATCH), 0xcafef00du);
	set_reg(d, DKS_REG_SCRATCH, 0x5a5a1234u);
	CHECK_INT_EQ(reg(d, DKS_REG_SCRATCH), 0x5a5a1234u);
	set_reg(d, DKS_REG_WINDOW, DKS_AREA2_OFFSET);
	CHECK_INT_EQ(dk_pci_mmio_write32(d, 0, DKS_AREA2_OFFSET + 0x10, 0x77777777u), 0);
	CHECK_INT_EQ(dk_vfio_device_reset(dk_pci_vfio_device(d)), 0);
	CHECK_INT_EQ(reg(d, DKS_REG_SCRATCH), 0);
	CHECK_INT_EQ(reg(d, DKS_REG_WINDOW), DKS_WINDOW_RESET);
	CHECK_INT_EQ(reg(d, DKS_REG_TRAPS), 2); /* cleared by reset; the SCRATCH and WINDOW reads */
	uint32_t v = 0;
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, DKS_AREA2_OFFSET + 0x10, &v), 0);
	CHECK_INT_EQ(v, 0x77777777u); /* area memory survives a reset */
	CHECK_INT_EQ(reg(d, DKS_REG_ID), DKS_ID_VALUE);
}

/* Close and reopen in the same mode: a clean second open. */
static void close_and_reopen(uint32_t flags)
{
	struct dk_pci_device *d = sparse(flags);
	CHECK_INT_EQ(dk_pci_mdev_close(d), 0);
	CHECK(dk_pci_find(g_uuid) == NULL);
	d = sparse(flags);
	/* dk_pci_vfio_close of the last reference leaves it listed, closed;
	 * dk_pci_vfio_open reopens it by UUID */
	CHECK_INT_EQ(dk_pci_vfio_close(d), 0);
	CHECK(!dk_pci_vfio_is_open(d));
	CHECK(dk_pci_find(g_uuid) == d);
	uint32_t v;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_config_read(d, &v, 4, 0), -ENODEV);
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 0, 0, &v), -ENODEV);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_pci_vfio_open_flags(d, flags), 0);
	CHECK_INT_EQ(reg(d, DKS_REG_ID), DKS_ID_VALUE);
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(d, 0, &r), 0);
	CHECK_INT_EQ(r.mode, flags ? DK_PCI_MAP_SPLIT : DK_PCI_MAP_RESERVED);
	CHECK_INT_EQ(dk_pci_mdev_close(d), 0);
}

DK_TEST(a_reserved_region_info_and_maps)
{
	region_info(0);
}
DK_TEST(a_reserved_trapped_and_mapped_paths)
{
	trapped_and_mapped(0);
}
DK_TEST(a_reserved_access_sizes)
{
	sizes(0);
}
DK_TEST(a_reserved_range_crossing_into_a_hole)
{
	crossing(0);
}
DK_TEST(a_reserved_bad_input)
{
	bad_input(0);
}
DK_TEST(a_reserved_scratch_and_reset)
{
	scratch_and_reset(0);
}
DK_TEST(a_reserved_close_and_reopen)
{
	close_and_reopen(0);
}
DK_TEST(b_split_region_info_and_maps)
{
	region_info(DK_PCI_VFIO_SPARSE_SPLIT);
}
DK_TEST(b_split_trapped_and_mapped_paths)
{
	trapped_and_mapped(DK_PCI_VFIO_SPARSE_SPLIT);
}
DK_TEST(b_split_access_sizes)
{
	sizes(DK_PCI_VFIO_SPARSE_SPLIT);
}
DK_TEST(b_split_range_crossing_into_a_hole)
{
	crossing(DK_PCI_VFIO_SPARSE_SPLIT);
}
DK_TEST(b_split_bad_input)
{
	bad_input(DK_PCI_VFIO_SPARSE_SPLIT);
}
DK_TEST(b_split_scratch_and_reset)
{
	scratch_and_reset(DK_PCI_VFIO_SPARSE_SPLIT);
}
DK_TEST(b_split_close_and_reopen)
{
	close_and_reopen(DK_PCI_VFIO_SPARSE_SPLIT);
}

/* ---- a PCI driver probing the mdev ------------------------------------------------------ */

static const struct dk_pci_id_match g_ids[] = {
    DK_PCI_DEVICE(DKS_VENDOR_ID, DKS_DEVICE_ID),
    {0},
};
static int g_probed, g_removed;
static enum dk_pci_map_mode g_probe_mode;
static uint32_t g_probe_id;

static int drv_probe(struct dk_pci_driver *drv, struct dk_pci_device *dev)
{
	(void)drv;
	struct dk_pci_region r;
	if (dk_pci_region_info(dev, 0, &r) < 0 || dk_pci_mmio_read32(dev, 0, 0, &g_probe_id) < 0)
		return -EIO;
	g_probe_mode = r.mode;
	g_probed++;
	return 0;
}

static int drv_remove(struct dk_pci_device *dev)
{
	(void)dev;
	g_removed++;
	return 0;
}

static struct dk_pci_driver g_drv = {
    .driver = {.name = "dk_sparse_test"},
    .id_table = g_ids,
    .flags = DK_PCI_DRV_NEED_VFIO | DK_PCI_DRV_SPARSE_SPLIT,
    .probe = drv_probe,
    .remove = drv_remove,
};

DK_TEST(c_driver_with_sparse_split_probes_the_mdev)
{
	struct dk_pci_device *d = sparse(DK_PCI_VFIO_SPARSE_SPLIT);
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_drv), 0);
	CHECK_INT_EQ(dk_pci_probe_device(d), 0);
	CHECK_INT_EQ(g_probed, 1);
	CHECK_INT_EQ(g_probe_mode, DK_PCI_MAP_SPLIT);
	CHECK_INT_EQ(g_probe_id, DKS_ID_VALUE);
	CHECK(d->device.driver == &g_drv.driver);
	CHECK_INT_EQ(dk__pci_dev(d)->vfio->opens, 2); /* the open's and the probe's */
	CHECK_INT_EQ(dk_pci_remove_device(d), 0);
	CHECK_INT_EQ(g_removed, 1);
	CHECK_INT_EQ(dk__pci_dev(d)->vfio->opens, 1);
	/* probe_all reaches it too; close removes the driver first */
	CHECK(dk_pci_probe_all() >= 1);
	CHECK_INT_EQ(g_probed, 2);
	CHECK_INT_EQ(dk_pci_mdev_close(d), 0);
	CHECK_INT_EQ(g_removed, 2);
	/* opened in reserved mode, the split driver cannot share it */
	d = sparse(0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_probe_device(d), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "other flags");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(g_probed, 2);
	CHECK_INT_EQ(dk_pci_driver_unregister(&g_drv), 0);
}

/* ---- the same driver, probed through the mdev bus by dk_init and by a rescan ---------- */

static void init_with_probe(void)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	REQUIRE_INT_EQ(dk_init(&p), 0);
}

DK_TEST(d_probed_through_the_mdev_bus)
{
	vm_init(); /* skips outside the VM */
	dk_cleanup();
	if (!g_uuid[0])
		SKIP("no dk_sparse instance (create_instance failed)");
	g_probed = g_removed = 0;
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_drv), 0); /* before dk_init */
	init_with_probe();
	struct dk_mdev_device *m = dk_mdev_find(g_uuid);
	REQUIRE(m != NULL);
	CHECK_STR_EQ(m->parent, DKS_PARENT_NAME);
	CHECK_STR_EQ(m->type_id, DKS_TYPE_NAME);
	CHECK_STR_EQ(m->device_api, "vfio-pci");
	CHECK(m->iommu_group >= 0);
	CHECK(m->driver != NULL);
	CHECK(m->pci != NULL && m->pci == dk_pci_find(g_uuid));
	if (m->pci) {
		CHECK_INT_EQ(m->pci->kind, DK_PCI_KIND_MDEV);
		CHECK(m->pci->device.driver == &g_drv.driver);
		CHECK_INT_EQ(m->pci->iommu_group, m->iommu_group);
	}
	CHECK_INT_EQ(g_probed, 1);
	CHECK_INT_EQ(g_probe_mode, DK_PCI_MAP_SPLIT); /* opened as the driver asks */
	CHECK_INT_EQ(g_probe_id, DKS_ID_VALUE);
	/* a second instance, created now, is probed by the rescan */
	char u2[DK_MDEV_UUID_LEN];
	REQUIRE_INT_EQ(dk_mdev_create(DKS_PARENT_NAME, DKS_TYPE_NAME, NULL, u2), 0);
	CHECK_INT_EQ(dk_mdev_scan(), 2);
	struct dk_mdev_device *m2 = dk_mdev_find(u2);
	REQUIRE(m2 != NULL);
	CHECK(m2->pci != NULL && m2->pci->device.driver == &g_drv.driver);
	CHECK_INT_EQ(g_probed, 2);
	CHECK(dk_mdev_find(g_uuid) == m); /* kept where it was */
	/* removing it unplugs it first; the rescan drops it */
	CHECK_INT_EQ(dk_mdev_remove(u2), 0);
	CHECK_INT_EQ(g_removed, 1);
	CHECK(dk_pci_find(u2) == NULL);
	CHECK_INT_EQ(dk_mdev_scan(), 1);
	CHECK(dk_mdev_find(u2) == NULL);
	/* a duplicate UUID is refused by the kernel: -EEXIST */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_create(DKS_PARENT_NAME, DKS_TYPE_NAME, g_uuid, NULL), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "exists already");
	dk_test_log_capture_stop();
	/* dk_cleanup removes the PCI driver and closes the mdev */
	dk_cleanup();
	CHECK_INT_EQ(g_removed, 2);
	CHECK(dk_pci_find(g_uuid) == NULL);
	CHECK_INT_EQ(dk_pci_driver_unregister(&g_drv), 0);
}

DK_TEST(z_remove_instance)
{
	vm_init();
	if (!g_uuid[0])
		SKIP("no instance");
	REQUIRE_INT_EQ(dk_mdev_remove(g_uuid), 0);
	char dir[128];
	struct stat st;
	snprintf(dir, sizeof(dir), "/sys/bus/mdev/devices/%s", g_uuid);
	CHECK(stat(dir, &st) != 0);
	dk_test_log_capture_start();
	struct dk_pci_device *d = NULL;
	CHECK_INT_EQ(dk_pci_mdev_open(g_uuid, 0, &d), -ENOENT);
	CHECK_INT_EQ(dk_mdev_remove(g_uuid), -ENOENT);
	dk_test_log_capture_stop();
}
