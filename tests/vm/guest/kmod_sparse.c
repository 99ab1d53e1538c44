/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest test (VM suite): the dk_sparse test mdev (tests/vm/kmod) through raw VFIO
 * ioctls, without the library. Creates an instance through sysfs, opens it through a
 * type1 container, checks the device and region info (the SPARSE_MMAP capability of
 * BAR0), mmaps each area, uses the trapped registers with pread/pwrite, checks that
 * mmap outside the areas fails, resets the device and removes the instance; then
 * fills every instance slot, and unloads and reloads the module.
 * The tests run in order and share the state in g.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "tap.h"

#include "../kmod/dk_sparse_regs.h"

#define TYPE_DIR     "/sys/class/mdev_bus/" DKS_PARENT_NAME "/mdev_supported_types/" DKS_TYPE_NAME
#define MDEV_DEVICES "/sys/bus/mdev/devices"

static struct {
	char uuid[40];
	char devdir[128];
	int group_id;
	int available_before;
	int container, group, device;
	uint64_t cfg_off, bar0_off;
	int have_bar0; /* bar0_off is known (it is 0 for vfio-pci: index 0 << 40) */
	void *map[DKS_NR_AREAS];
} g = {.group_id = -1, .container = -1, .group = -1, .device = -1};

static const struct {
	uint32_t offset, size;
} areas[DKS_NR_AREAS] = {
    {DKS_AREA0_OFFSET, DKS_AREA0_SIZE},
    {DKS_AREA1_OFFSET, DKS_AREA1_SIZE},
    {DKS_AREA2_OFFSET, DKS_AREA2_SIZE},
};

/* ---- small helpers ------------------------------------------------------------------ */

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

static int read_int(const char *path)
{
	char buf[64];
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	return atoi(buf);
}

static void need_device(void)
{
	if (g.device < 0)
		SKIP("no open device fd (an earlier test failed)");
}

static void need_bar0(void)
{
	need_device();
	if (!g.have_bar0)
		SKIP("no BAR0 region info (an earlier test failed)");
}

static uint32_t reg_read(uint32_t reg)
{
	uint32_t v = 0xdeadbeef;
	ssize_t n = pread(g.device, &v, 4, (off_t)(g.bar0_off + reg));
	if (n != 4)
		dk_test_fail(__FILE__, __LINE__, "pread of BAR0 register 0x%03x: %zd (%s)", reg, n,
			     strerror(errno));
	return v;
}

static void reg_write(uint32_t reg, uint32_t v)
{
	ssize_t n = pwrite(g.device, &v, 4, (off_t)(g.bar0_off + reg));
	if (n != 4)
		dk_test_fail(__FILE__, __LINE__, "pwrite of BAR0 register 0x%03x: %zd (%s)", reg, n,
			     strerror(errno));
}

static uint32_t cfg_read32(uint32_t off)
{
	uint32_t v = 0;
	if (pread(g.device, &v, 4, (off_t)(g.cfg_off + off)) != 4)
		dk_test_fail(__FILE__, __LINE__, "pread of config 0x%02x: %s", off,
			     strerror(errno));
	return v;
}

static void cfg_write32(uint32_t off, uint32_t v)
{
	if (pwrite(g.device, &v, 4, (off_t)(g.cfg_off + off)) != 4)
		dk_test_fail(__FILE__, __LINE__, "pwrite of config 0x%02x: %s", off,
			     strerror(errno));
}

/* Region info with the argsz retry; the caller frees. NULL and errno on failure. */
static struct vfio_region_info *region_info(uint32_t index, uint32_t *first_argsz)
{
	struct vfio_region_info probe = {.argsz = sizeof(probe), .index = index};
	if (ioctl(g.device, VFIO_DEVICE_GET_REGION_INFO, &probe) < 0)
		return NULL;
	if (first_argsz)
		*first_argsz = probe.argsz;
	size_t sz = probe.argsz > sizeof(probe) ? probe.argsz : sizeof(probe);
	struct vfio_region_info *info = calloc(1, sz);
	if (!info)
		return NULL;
	info->argsz = (uint32_t)sz;
	info->index = index;
	if (ioctl(g.device, VFIO_DEVICE_GET_REGION_INFO, info) < 0) {
		int e = errno;
		free(info);
		errno = e;
		return NULL;
	}
	return info;
}

/* The capability @id in the chain of @info, or NULL. Checks the chain stays inside. */
static struct vfio_info_cap_header *find_cap(struct vfio_region_info *info, uint16_t id)
{
	if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return NULL;
	uint32_t off = info->cap_offset;
	for (int hops = 0; off && hops < 16; hops++) {
		if (off < sizeof(*info) || off + sizeof(struct vfio_info_cap_header) > info->argsz)
			return NULL;
		struct vfio_info_cap_header *h = (void *)((char *)info + off);
		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

/* ---- the tests, in order -------------------------------------------------------------- */

DK_TEST(parent_and_type_exist)
{
	char buf[256];
	struct stat st;
	if (stat("/sys/module/dk_sparse", &st) != 0)
		SKIP("module dk_sparse is not loaded (tests/vm/run.sh --no-kmod?)");
	REQUIRE(stat(TYPE_DIR, &st) == 0);
	REQUIRE(read_text(TYPE_DIR "/device_api", buf, sizeof(buf)) == 0);
	CHECK_STR_EQ(buf, "vfio-pci");
	REQUIRE(read_text(TYPE_DIR "/name", buf, sizeof(buf)) == 0);
	CHECK_STR_EQ(buf, "dmakit sparse BAR test device");
	g.available_before = read_int(TYPE_DIR "/available_instances");
	CHECK_INT_EQ(g.available_before, DKS_MAX_INSTANCES);
}

DK_TEST(create_instance)
{
	char buf[PATH_MAX], link[PATH_MAX];
	struct stat st;
	if (stat(TYPE_DIR, &st) != 0)
		SKIP("no dk_sparse type directory");
	REQUIRE(read_text("/proc/sys/kernel/random/uuid", g.uuid, sizeof(g.uuid)) == 0);
	REQUIRE_INT_EQ(write_text(TYPE_DIR "/create", g.uuid), 0);
	snprintf(g.devdir, sizeof(g.devdir), MDEV_DEVICES "/%s", g.uuid);
	REQUIRE(stat(g.devdir, &st) == 0);
	CHECK_INT_EQ(read_int(TYPE_DIR "/available_instances"), g.available_before - 1);

	snprintf(buf, sizeof(buf), "%s/mdev_type", g.devdir);
	ssize_t n = readlink(buf, link, sizeof(link) - 1);
	REQUIRE(n > 0);
	link[n] = 0;
	CHECK_STR_CONTAINS(link, "/" DKS_TYPE_NAME);

	snprintf(buf, sizeof(buf), "%s/iommu_group", g.devdir);
	n = readlink(buf, link, sizeof(link) - 1);
	REQUIRE(n > 0);
	link[n] = 0;
	const char *slash = strrchr(link, '/');
	REQUIRE(slash);
	g.group_id = atoi(slash + 1);
	printf("# mdev %s in IOMMU group %d\n", g.uuid, g.group_id);
}

DK_TEST(open_container_group_device)
{
	char path[64];
	if (g.group_id < 0)
		SKIP("no instance");
	g.container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	REQUIRE(g.container >= 0);
	CHECK_INT_EQ(ioctl(g.container, VFIO_GET_API_VERSION), VFIO_API_VERSION);
	REQUIRE(ioctl(g.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1);

	snprintf(path, sizeof(path), "/dev/vfio/%d", g.group_id);
	g.group = open(path, O_RDWR | O_CLOEXEC);
	REQUIRE(g.group >= 0);
	struct vfio_group_status status = {.argsz = sizeof(status)};
	REQUIRE(ioctl(g.group, VFIO_GROUP_GET_STATUS, &status) == 0);
	REQUIRE(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	REQUIRE(ioctl(g.group, VFIO_GROUP_SET_CONTAINER, &g.container) == 0);
	REQUIRE(ioctl(g.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);

	/* A name that is not in the group fails; the UUID opens the device. */
	CHECK(ioctl(g.group, VFIO_GROUP_GET_DEVICE_FD, "00000000-0000-0000-0000-000000000000") < 0);
	g.device = ioctl(g.group, VFIO_GROUP_GET_DEVICE_FD, g.uuid);
	REQUIRE(g.device >= 0);
}

DK_TEST(device_info)
{
	need_device();
	struct vfio_device_info info = {.argsz = sizeof(info)};
	REQUIRE(ioctl(g.device, VFIO_DEVICE_GET_INFO, &info) == 0);
	CHECK(info.flags & VFIO_DEVICE_FLAGS_PCI);
	CHECK(info.flags & VFIO_DEVICE_FLAGS_RESET);
	CHECK_INT_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_INT_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);

	struct vfio_irq_info irq = {.argsz = sizeof(irq), .index = VFIO_PCI_INTX_IRQ_INDEX};
	REQUIRE(ioctl(g.device, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0);
	CHECK_INT_EQ(irq.count, 0);
	irq.index = VFIO_PCI_NUM_IRQS;
	CHECK(ioctl(g.device, VFIO_DEVICE_GET_IRQ_INFO, &irq) < 0 && errno == EINVAL);
}

DK_TEST(config_region_and_bar_sizing)
{
	need_device();
	struct vfio_region_info *info = region_info(VFIO_PCI_CONFIG_REGION_INDEX, NULL);
	REQUIRE(info);
	CHECK_INT_EQ(info->size, DKS_CONFIG_SIZE);
	CHECK(info->flags & VFIO_REGION_INFO_FLAG_READ);
	CHECK(info->flags & VFIO_REGION_INFO_FLAG_WRITE);
	CHECK(!(info->flags & VFIO_REGION_INFO_FLAG_MMAP));
	g.cfg_off = info->offset;
	free(info);

	CHECK_INT_EQ(cfg_read32(0x00), DKS_VENDOR_ID | (DKS_DEVICE_ID << 16));
	CHECK_INT_EQ(cfg_read32(0x08), (DKS_CLASS << 8) | DKS_REVISION);
	CHECK_INT_EQ(cfg_read32(0x2c), DKS_SUBSYS_VENDOR_ID | (DKS_SUBSYS_ID << 16));
	/* Sizing: all ones into BAR0 reads back the size mask; BAR1 stays 0 (size 0). */
	uint32_t old = cfg_read32(0x10);
	cfg_write32(0x10, 0xffffffff);
	CHECK_INT_EQ(cfg_read32(0x10), (uint32_t) ~(DKS_BAR0_SIZE - 1));
	cfg_write32(0x10, old);
	CHECK_INT_EQ(cfg_read32(0x10), old);
	cfg_write32(0x14, 0xffffffff);
	CHECK_INT_EQ(cfg_read32(0x14), 0);
	/* The vendor ID is read-only. */
	cfg_write32(0x00, 0);
	CHECK_INT_EQ(cfg_read32(0x00) & 0xffff, DKS_VENDOR_ID);
	/* Past the 256 bytes: EINVAL. */
	uint32_t v;
	CHECK(pread(g.device, &v, 4, (off_t)(g.cfg_off + DKS_CONFIG_SIZE)) < 0 && errno == EINVAL);
}

DK_TEST(bar0_region_info_has_sparse_mmap)
{
	need_device();
	uint32_t first_argsz = 0;
	struct vfio_region_info *info = region_info(VFIO_PCI_BAR0_REGION_INDEX, &first_argsz);
	REQUIRE(info);
	/* The first call was too small for the capability: the kernel asked for more. */
	CHECK(first_argsz > sizeof(struct vfio_region_info));
	CHECK_INT_EQ(info->size, DKS_BAR0_SIZE);
	CHECK(info->flags & VFIO_REGION_INFO_FLAG_MMAP);
	CHECK(info->flags & VFIO_REGION_INFO_FLAG_CAPS);
	CHECK_INT_EQ(info->cap_offset, sizeof(struct vfio_region_info));
	g.bar0_off = info->offset;
	g.have_bar0 = 1;
	CHECK_INT_EQ(g.bar0_off, (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40);

	struct vfio_info_cap_header *h = find_cap(info, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	if (!h) {
		free(info);
		REQUIRE(!"BAR0 region info carries a SPARSE_MMAP capability");
	}
	struct vfio_region_info_cap_sparse_mmap *sp = (void *)h;
	CHECK_INT_EQ(h->version, 1);
	CHECK_INT_EQ(sp->nr_areas, DKS_NR_AREAS);
	CHECK((char *)&sp->areas[sp->nr_areas] <= (char *)info + info->argsz);
	for (uint32_t i = 0; i < sp->nr_areas && i < DKS_NR_AREAS; i++) {
		printf("# area %u: offset 0x%llx size 0x%llx\n", i,
		       (unsigned long long)sp->areas[i].offset,
		       (unsigned long long)sp->areas[i].size);
		CHECK_INT_EQ(sp->areas[i].offset, areas[i].offset);
		CHECK_INT_EQ(sp->areas[i].size, areas[i].size);
	}
	free(info);
}

DK_TEST(other_regions_are_empty)
{
	need_device();
	for (uint32_t i = VFIO_PCI_BAR1_REGION_INDEX; i <= VFIO_PCI_ROM_REGION_INDEX; i++) {
		struct vfio_region_info *info = region_info(i, NULL);
		REQUIRE(info);
		CHECK_INT_EQ(info->size, 0);
		free(info);
	}
	struct vfio_region_info bad = {.argsz = sizeof(bad), .index = VFIO_PCI_NUM_REGIONS};
	CHECK(ioctl(g.device, VFIO_DEVICE_GET_REGION_INFO, &bad) < 0 && errno == EINVAL);
}

DK_TEST(trapped_registers)
{
	need_bar0();
	CHECK_INT_EQ(reg_read(DKS_REG_ID), DKS_ID_VALUE);
	CHECK_INT_EQ(reg_read(DKS_REG_VERSION), DKS_VERSION_VALUE);
	CHECK_INT_EQ(reg_read(DKS_REG_AREAS), DKS_NR_AREAS);
	CHECK_INT_EQ(reg_read(DKS_REG_WINDOW), DKS_WINDOW_RESET);

	reg_write(DKS_REG_SCRATCH, 0xa5a5f00d);
	CHECK_INT_EQ(reg_read(DKS_REG_SCRATCH), 0xa5a5f00d);
	reg_write(DKS_REG_SCRATCH, 0x12345678);
	CHECK_INT_EQ(reg_read(DKS_REG_SCRATCH), 0x12345678);

	/* A write to the read-only ID is ignored and counted. */
	uint32_t ignored = reg_read(DKS_REG_IGNORED);
	reg_write(DKS_REG_ID, 0);
	CHECK_INT_EQ(reg_read(DKS_REG_ID), DKS_ID_VALUE);
	CHECK_INT_EQ(reg_read(DKS_REG_IGNORED), ignored + 1);
	/* Reserved registers read 0. */
	CHECK_INT_EQ(reg_read(0x100), 0);

	/* TRAPS counts read/write calls: clear, then each access adds one. */
	reg_write(DKS_REG_TRAPS, 0);
	CHECK_INT_EQ(reg_read(DKS_REG_TRAPS), 0);
	reg_read(DKS_REG_SCRATCH);
	CHECK_INT_EQ(reg_read(DKS_REG_TRAPS), 2);

	/* Registers take aligned 32-bit accesses only. */
	uint16_t half;
	CHECK(pread(g.device, &half, 2, (off_t)(g.bar0_off + DKS_REG_ID)) < 0 && errno == EINVAL);
	uint32_t v;
	CHECK(pread(g.device, &v, 4, (off_t)(g.bar0_off + 2)) < 0 && errno == EINVAL);
	/* Past the end of BAR0. */
	CHECK(pread(g.device, &v, 4, (off_t)(g.bar0_off + DKS_BAR0_SIZE)) < 0 && errno == EINVAL);
	/* Holes read zero and ignore writes. */
	v = 0xffffffff;
	CHECK(pwrite(g.device, &v, 4, (off_t)(g.bar0_off + 0x2000)) == 4);
	v = 1;
	CHECK(pread(g.device, &v, 4, (off_t)(g.bar0_off + 0x2000)) == 4);
	CHECK_INT_EQ(v, 0);
}

DK_TEST(mmap_each_area)
{
	need_bar0();
	for (unsigned i = 0; i < DKS_NR_AREAS; i++) {
		void *p = mmap(NULL, areas[i].size, PROT_READ | PROT_WRITE, MAP_SHARED, g.device,
			       (off_t)(g.bar0_off + areas[i].offset));
		if (p == MAP_FAILED) {
			dk_test_fail(__FILE__, __LINE__, "mmap of area %u (0x%x+0x%x): %s", i,
				     areas[i].offset, areas[i].size, strerror(errno));
			continue;
		}
		g.map[i] = p;
		volatile uint32_t *w = p;
		size_t n = areas[i].size / 4;
		CHECK_INT_EQ(w[0], 0); /* zeroed pages */
		CHECK_INT_EQ(w[n - 1], 0);
		for (size_t k = 0; k < n; k++)
			w[k] = (uint32_t)(0x5a000000u | (i << 20) | k);
		int bad = 0;
		for (size_t k = 0; k < n; k++)
			bad += w[k] != (uint32_t)(0x5a000000u | (i << 20) | k);
		CHECK_INT_EQ(bad, 0);
	}
}

DK_TEST(mapping_and_pread_see_the_same_memory)
{
	need_bar0();
	for (unsigned i = 0; i < DKS_NR_AREAS; i++) {
		if (!g.map[i])
			SKIP("area %u is not mapped", i);
		volatile uint32_t *w = g.map[i];
		size_t n = areas[i].size / 4;
		uint32_t *buf = malloc(areas[i].size);
		REQUIRE(buf);
		/* The whole area through read(): what the mapping wrote. */
		ssize_t got =
		    pread(g.device, buf, areas[i].size, (off_t)(g.bar0_off + areas[i].offset));
		CHECK_INT_EQ(got, areas[i].size);
		int bad = 0;
		for (size_t k = 0; k < n; k++)
			bad += buf[k] != (uint32_t)(0x5a000000u | (i << 20) | k);
		CHECK_INT_EQ(bad, 0);
		/* A write() lands in the mapping. */
		uint32_t v = 0xc0ffee00 | i;
		CHECK(pwrite(g.device, &v, 4, (off_t)(g.bar0_off + areas[i].offset + 8)) == 4);
		CHECK_INT_EQ(w[2], 0xc0ffee00 | i);
		free(buf);
	}
}

DK_TEST(mapped_accesses_are_not_trapped)
{
	need_bar0();
	if (!g.map[1])
		SKIP("area 1 is not mapped");
	volatile uint32_t *w = g.map[1];
	reg_write(DKS_REG_TRAPS, 0);
	for (int k = 0; k < 1000; k++)
		w[k] = w[k] + 1;
	CHECK_INT_EQ(reg_read(DKS_REG_TRAPS), 0);
	uint32_t v;
	CHECK(pread(g.device, &v, 4, (off_t)(g.bar0_off + DKS_AREA1_OFFSET)) == 4);
	CHECK_INT_EQ(reg_read(DKS_REG_TRAPS), 2);
}

DK_TEST(window_register_reads_area_memory)
{
	need_bar0();
	if (!g.map[2])
		SKIP("area 2 is not mapped");
	volatile uint32_t *w = g.map[2];
	uint32_t off = DKS_AREA2_OFFSET + 0x2468;
	reg_write(DKS_REG_WINDOW, off);
	CHECK_INT_EQ(reg_read(DKS_REG_WINDOW), off);
	w[0x2468 / 4] = 0xfeedface;
	CHECK_INT_EQ(reg_read(DKS_REG_WINDOW_DATA), 0xfeedface);
	reg_write(DKS_REG_WINDOW_DATA, 0x0badf00d);
	CHECK_INT_EQ(w[0x2468 / 4], 0x0badf00d);
	/* A window outside the areas (a hole) or unaligned is ignored and counted. */
	uint32_t ignored = reg_read(DKS_REG_IGNORED);
	reg_write(DKS_REG_WINDOW, 0x2000);
	reg_write(DKS_REG_WINDOW, DKS_AREA0_OFFSET + 2);
	CHECK_INT_EQ(reg_read(DKS_REG_WINDOW), off);
	CHECK_INT_EQ(reg_read(DKS_REG_IGNORED), ignored + 2);
}

DK_TEST(mmap_outside_an_area_fails)
{
	need_bar0();
	static const struct {
		uint64_t off, len;
		const char *what;
	} bad[] = {
	    {0x0000, 0x1000, "the register page"},
	    {0x2000, 0x1000, "a hole"},
	    {0x8000, 0x4000, "the hole before area 2"},
	    {0x1000, 0x2000, "area 0 and the hole after it"},
	    {0x0000, DKS_BAR0_SIZE, "all of BAR0"},
	    {0xc000, 0x8000, "past the end of BAR0"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *p = mmap(NULL, bad[i].len, PROT_READ | PROT_WRITE, MAP_SHARED, g.device,
			       (off_t)(g.bar0_off + bad[i].off));
		if (p != MAP_FAILED) {
			dk_test_fail(__FILE__, __LINE__, "mmap of %s succeeded", bad[i].what);
			munmap(p, bad[i].len);
		} else if (errno != EINVAL) {
			dk_test_fail(__FILE__, __LINE__, "mmap of %s: %s, want EINVAL", bad[i].what,
				     strerror(errno));
		}
	}
	/* A private mapping of an area and a mapping of config space fail too. */
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, g.device,
		       (off_t)(g.bar0_off + DKS_AREA0_OFFSET));
	CHECK(p == MAP_FAILED);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, g.device, (off_t)g.cfg_off);
	CHECK(p == MAP_FAILED);
	/* A part of an area maps. */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, g.device,
		 (off_t)(g.bar0_off + DKS_AREA1_OFFSET + 0x1000));
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		CHECK_INT_EQ(*(volatile uint32_t *)p, 0x5a000000u | (1u << 20) | 0x400);
		munmap(p, 4096);
	}
}

DK_TEST(reset_clears_registers_keeps_memory)
{
	need_bar0();
	reg_write(DKS_REG_SCRATCH, 0x1111);
	reg_write(DKS_REG_ID, 1); /* counted as ignored */
	CHECK(reg_read(DKS_REG_IGNORED) > 0);
	REQUIRE(ioctl(g.device, VFIO_DEVICE_RESET) == 0);
	CHECK_INT_EQ(reg_read(DKS_REG_SCRATCH), 0);
	CHECK_INT_EQ(reg_read(DKS_REG_IGNORED), 0);
	CHECK_INT_EQ(reg_read(DKS_REG_WINDOW), DKS_WINDOW_RESET);
	CHECK_INT_EQ(reg_read(DKS_REG_TRAPS), 3); /* the three reads above */
	if (g.map[0])
		CHECK_INT_EQ(((volatile uint32_t *)g.map[0])[2], 0xc0ffee00);
}

DK_TEST(remove_instance)
{
	char path[PATH_MAX];
	struct stat st;
	if (!g.uuid[0] || stat(g.devdir, &st) != 0)
		SKIP("no instance");
	for (unsigned i = 0; i < DKS_NR_AREAS; i++)
		if (g.map[i])
			munmap(g.map[i], areas[i].size);
	if (g.device >= 0)
		close(g.device);
	if (g.group >= 0)
		close(g.group);
	if (g.container >= 0)
		close(g.container);
	g.device = g.group = g.container = -1;
	snprintf(path, sizeof(path), "%s/remove", g.devdir);
	REQUIRE_INT_EQ(write_text(path, "1"), 0);
	CHECK(stat(g.devdir, &st) != 0 && errno == ENOENT);
	CHECK_INT_EQ(read_int(TYPE_DIR "/available_instances"), DKS_MAX_INSTANCES);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g.group_id);
	CHECK(stat(path, &st) != 0);
}

static int create_uuid(char *uuid, size_t len)
{
	int rc = read_text("/proc/sys/kernel/random/uuid", uuid, len);
	return rc ? rc : write_text(TYPE_DIR "/create", uuid);
}

static int remove_uuid(const char *uuid)
{
	char path[256];
	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/remove", uuid);
	return write_text(path, "1");
}

DK_TEST(instance_limit)
{
	char uuids[DKS_MAX_INSTANCES][40];
	struct stat st;
	if (stat(TYPE_DIR, &st) != 0)
		SKIP("no dk_sparse type directory");
	int made = 0;
	for (; made < DKS_MAX_INSTANCES; made++)
		if (create_uuid(uuids[made], sizeof(uuids[made])) != 0)
			break;
	CHECK_INT_EQ(made, DKS_MAX_INSTANCES);
	CHECK_INT_EQ(read_int(TYPE_DIR "/available_instances"), 0);
	char extra[40];
	int rc = create_uuid(extra, sizeof(extra));
	CHECK(rc < 0);
	if (rc == 0)
		remove_uuid(extra);
	else
		printf("# instance %d: %s\n", DKS_MAX_INSTANCES + 1, strerror(-rc));
	for (int i = 0; i < made; i++)
		CHECK_INT_EQ(remove_uuid(uuids[i]), 0);
	CHECK_INT_EQ(read_int(TYPE_DIR "/available_instances"), DKS_MAX_INSTANCES);
}

/* The module's exit path runs nowhere else: unload it, then load it again for the
 * programs after this one. */
DK_TEST(module_unloads_and_reloads)
{
	char path[256];
	struct stat st;
	struct utsname u;
	if (stat("/sys/module/dk_sparse", &st) != 0)
		SKIP("module dk_sparse is not loaded");
	REQUIRE(uname(&u) == 0);
	snprintf(path, sizeof(path), "/lib/modules/%s/extra/dk_sparse.ko", u.release);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	if (syscall(SYS_delete_module, "dk_sparse", O_NONBLOCK) != 0) {
		dk_test_fail(__FILE__, __LINE__, "delete_module(dk_sparse): %s", strerror(errno));
		close(fd);
		dk_test_end();
	}
	CHECK(stat("/sys/module/dk_sparse", &st) != 0);
	CHECK(stat("/sys/class/mdev_bus/" DKS_PARENT_NAME, &st) != 0);
	long rc = syscall(SYS_finit_module, fd, "", 0);
	int e = errno;
	close(fd);
	if (rc != 0)
		dk_test_fail(__FILE__, __LINE__, "finit_module(%s): %s", path, strerror(e));
	REQUIRE(rc == 0);
	CHECK(stat(TYPE_DIR, &st) == 0);
	CHECK_INT_EQ(read_int(TYPE_DIR "/available_instances"), DKS_MAX_INSTANCES);
}
