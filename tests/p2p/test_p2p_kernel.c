/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/p2p/p2p_kernel.c on a sysfs fixture: a device whose
 * p2pmem/ directory the kernel would publish (size, available, published,
 * and a regular file standing for allocate), its stats, allocation by mmap
 * of allocate and the refused frees, the errors of a device without
 * p2pmem and of malformed files, and dk_p2p_list over the three kinds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "bus/pci/pci_internal.h"
#include "core/sysfs.h"
#include "fixture_p2p.h"
#include "p2p/p2p_internal.h"
#include "tap.h"

#define PG 4096ull

static struct dk_fx *g_fx;
static struct dk_fx_dev *g_nvme, *g_gpu, *g_plain;

static void p2pmem_file(struct dk_fx_dev *d, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/p2pmem", dk_fx_dev_path(d));
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/p2pmem/%s", dk_fx_dev_path(d), name);
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	g_fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint(); /* BAR0 16 KiB, not prefetchable */
	s.bars[2] = (struct dk_fx_bar){0x800000000ull, 0x1000000, 0x200 | 0x2000 | 0x100000};
	g_nvme = dk_fx_add(g_fx, "0000:01:00.0", NULL, &s);
	p2pmem_file(g_nvme, "size", "16777216\n");
	p2pmem_file(g_nvme, "available", "12582912\n");
	p2pmem_file(g_nvme, "published", "1\n");
	p2pmem_file(g_nvme, "allocate", "");
	s.bars[2].start = 0x900000000ull;
	s.class_code = 0x030200;
	g_gpu = dk_fx_add(g_fx, "0000:02:00.0", NULL, &s); /* a candidate, no p2pmem */
	s = dk_fx_spec_endpoint();
	g_plain = dk_fx_add(g_fx, "0000:03:00.0", NULL, &s); /* no prefetchable BAR */
	dk__sysfs_set_root(dk_fx_root(g_fx));
	REQUIRE(dk_pci_scan() == 3);
}

static void teardown(void)
{
	dk__p2p_cleanup();
	dk__pci_free_all();
	dk__sysfs_set_root(NULL);
	dk_fx_free(g_fx);
}

DK_TEST(stats_from_the_files)
{
	setup();
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(dk_pci_find("01:00.0"), &st), 0);
	CHECK_INT_EQ(st.size, 16777216);
	CHECK_INT_EQ(st.available, 12582912);
	CHECK(st.published);
	CHECK_INT_EQ(st.nr_allocs, 0);
	p2pmem_file(g_nvme, "published", "0\n");
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(dk_pci_find("01:00.0"), &st), 0);
	CHECK(!st.published);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_kernel_stats(dk_pci_find("02:00.0"), &st), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "CONFIG_PCI_P2PDMA");
	CHECK_INT_EQ(dk_p2p_kernel_stats(NULL, &st), -EINVAL);
	p2pmem_file(g_nvme, "available", "lots\n");
	CHECK_INT_EQ(dk_p2p_kernel_stats(dk_pci_find("01:00.0"), &st), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "p2pmem/available: not a decimal number");
	dk_test_log_capture_stop();
	teardown();
}

DK_TEST(alloc_maps_allocate_and_free_checks)
{
	setup();
	const struct dk_pci_device *d = dk_pci_find("01:00.0");
	char path[4096];
	snprintf(path, sizeof(path), "%s/p2pmem/allocate", dk_fx_dev_path(g_nvme));
	REQUIRE(truncate(path, 2 * PG) == 0); /* so the mapping can be touched */
	uint8_t *a = dk_p2p_kernel_alloc(d, 100);
	REQUIRE(a);
	a[0] = 0x42; /* MAP_SHARED at offset 0: lands in the file */
	int fd = open(path, O_RDONLY);
	uint8_t b = 0;
	REQUIRE(fd >= 0);
	CHECK(pread(fd, &b, 1, 0) == 1);
	close(fd);
	CHECK_INT_EQ(b, 0x42);
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(d, &st), 0);
	CHECK_INT_EQ(st.nr_allocs, 1);
	int local;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_kernel_free(&local, PG), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not a live allocation");
	CHECK_INT_EQ(dk_p2p_kernel_free(a, 2 * PG), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "but 4096 were mapped");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_kernel_free(a, 100), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_kernel_free(a, 100), -EINVAL); /* double free */
	errno = 0;
	CHECK(dk_p2p_kernel_alloc(dk_pci_find("02:00.0"), PG) == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "older than 6.2");
	CHECK(dk_p2p_kernel_alloc(d, 0) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	dk_test_log_capture_stop();
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(d, &st), 0);
	CHECK_INT_EQ(st.nr_allocs, 0);
	teardown();
}

DK_TEST(list_by_kind)
{
	setup();
	struct dk_p2p_info info[8];
	CHECK_INT_EQ(dk_p2p_list(DK_P2P_KIND_KERNEL, info, 8), 1);
	CHECK_STR_EQ(info[0].dev->device.name, "0000:01:00.0");
	CHECK_INT_EQ(info[0].kind, DK_P2P_KIND_KERNEL);
	CHECK_INT_EQ(info[0].stats.size, 16777216);
	CHECK_INT_EQ(dk_p2p_list(DK_P2P_KIND_CANDIDATE, info, 8), 2);
	CHECK_STR_EQ(info[0].dev->device.name, "0000:01:00.0");
	CHECK_STR_EQ(info[1].dev->device.name, "0000:02:00.0");
	CHECK_INT_EQ(info[1].bars, 1u << 2);
	CHECK_INT_EQ(info[1].stats.size, 0x1000000);
	/* a provider of our own first, then the kernel's, then candidates */
	dk_fx_p2p_bar_file(g_gpu, 2, 0x1000000);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dk_pci_find("02:00.0"), 2, 0x100000, 0), 0);
	unsigned int all = DK_P2P_KIND_DMAKIT | DK_P2P_KIND_KERNEL | DK_P2P_KIND_CANDIDATE;
	CHECK_INT_EQ(dk_p2p_list(all, info, 8), 4);
	CHECK_INT_EQ(info[0].kind, DK_P2P_KIND_DMAKIT);
	CHECK_STR_EQ(info[0].dev->device.name, "0000:02:00.0");
	CHECK_INT_EQ(info[0].stats.size, 0x100000);
	CHECK_INT_EQ(info[1].kind, DK_P2P_KIND_KERNEL);
	CHECK_INT_EQ(info[3].kind, DK_P2P_KIND_CANDIDATE);
	CHECK_INT_EQ(dk_p2p_list(all, info, 2), 4); /* the count, even past max */
	CHECK_INT_EQ(dk_p2p_list(all, NULL, 0), 4);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_list(0, info, 8), -EINVAL);
	CHECK_INT_EQ(dk_p2p_list(1u << 7, info, 8), -EINVAL);
	CHECK_INT_EQ(dk_p2p_list(all, NULL, 8), -EINVAL);
	dk_test_log_capture_stop();
	teardown();
}
