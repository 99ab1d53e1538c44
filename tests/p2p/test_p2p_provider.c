/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/p2p/p2p_provider.c on a sysfs fixture: the BAR files
 * resource<N> are regular files of the BAR's size, so dmakit's mapping of a
 * resource is a mapping of that file and what lands in P2P memory can be
 * read back from it. Each -EINVAL case of dk_p2p_add_resource with its
 * message, several resources, allocation and every refused free, publish
 * and stats, virt_to_bus from a BAR register that differs from the CPU
 * address, the sgl form, remove with allocations outstanding, the fence of
 * dk_cleanup, and a provider that outlives a rescan.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "bus/pci/pci_internal.h"
#include "core/sysfs.h"
#include "fixture_p2p.h"
#include "p2p/p2p_internal.h"
#include "tap.h"

#define IO 0x100ull
#define MEM 0x200ull
#define PREF 0x2000ull
#define MEM64 0x100000ull

#define BAR2_CPU 0x800000000ull
#define BAR2_LEN 0x100000ull /* 1 MiB */
#define PG 4096ull

static struct dk_fx *g_fx;
static struct dk_fx_dev *g_fdev;
static struct dk_pci_device *g_dev;

static void setup(void)
{
	REQUIRE(sysconf(_SC_PAGESIZE) == (long)PG);
	g_fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.bars[2] = (struct dk_fx_bar){BAR2_CPU, BAR2_LEN, MEM | MEM64 | PREF};
	s.bars[4] = (struct dk_fx_bar){0xe000, 0x100, IO};
	g_fdev = dk_fx_add(g_fx, "0000:01:00.0", NULL, &s);
	dk_fx_p2p_bar_file(g_fdev, 2, BAR2_LEN);
	/* BAR0 (16 KiB) has no resource0 file */
	dk__sysfs_set_root(dk_fx_root(g_fx));
	REQUIRE(dk_pci_scan() >= 1);
	g_dev = dk_pci_find("0000:01:00.0");
	REQUIRE(g_dev);
}

static void teardown(void)
{
	dk__p2p_cleanup();
	dk__pci_free_all();
	dk__sysfs_set_root(NULL);
	dk_fx_free(g_fx);
}

/* rc of f, with the captured log containing needle. */
#define CHECK_ERR_MSG(call, rc, needle)                                                    \
	do {                                                                               \
		dk_test_log_capture_start();                                               \
		CHECK_INT_EQ((call), (rc));                                                \
		CHECK_STR_CONTAINS(dk_test_log_captured(), (needle));                      \
		dk_test_log_capture_stop();                                                \
	} while (0)

static uint8_t file_byte(unsigned int bar, uint64_t off)
{
	char path[4096];
	uint8_t b = 0xee;
	snprintf(path, sizeof(path), "%s/resource%u", dk_fx_dev_path(g_fdev), bar);
	int fd = open(path, O_RDONLY);
	REQUIRE(fd >= 0);
	REQUIRE(pread(fd, &b, 1, (off_t)off) == 1);
	close(fd);
	return b;
}

DK_TEST(add_resource_rejects_each_bad_range)
{
	setup();
	CHECK_ERR_MSG(dk_p2p_add_resource(NULL, 2, 0, 0), -EINVAL, "NULL device");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 6, 0, 0), -EINVAL, "BARs are 0..5");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 1, 0, 0), -EINVAL, "not implemented");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 4, 0, 0), -EINVAL, "not a memory BAR");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 2, 0, BAR2_LEN), -EINVAL, "beyond BAR 2");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 2, PG, BAR2_LEN + PG), -EINVAL, "beyond BAR 2");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 2, BAR2_LEN, PG), -EINVAL, "end beyond BAR 2");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 2, UINT64_MAX - 10, PG), -EINVAL, "end beyond");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 2, PG, 100), -EINVAL, "page-aligned");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 2, 100, 0), -EINVAL, "page-aligned");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 0, 0, 0), -ENOENT, "resource0");
	/* nothing was created by the failures */
	struct dk_p2p_stats st;
	CHECK_ERR_MSG(dk_p2p_stats(g_dev, &st), -ENOENT, "dk_p2p_add_resource");
	teardown();
}

DK_TEST(several_resources_publish_and_stats)
{
	setup();
	CHECK_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0x40000, 0), 0);
	CHECK_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0, 0x80000), 0); /* the rest: 512 KiB */
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 2, PG, 0x3f000), -EBUSY, "overlaps");
	CHECK_ERR_MSG(dk_p2p_add_resource(g_dev, 2, 0, 0xff000), -EBUSY, "overlaps");
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK_INT_EQ(st.size, 0x40000 + 0x80000);
	CHECK_INT_EQ(st.available, st.size);
	CHECK_INT_EQ(st.nr_resources, 2);
	CHECK(!st.published);
	CHECK_INT_EQ(dk_p2p_publish(g_dev, true), 0);
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK(st.published);
	CHECK_INT_EQ(dk_p2p_publish(g_dev, false), 0);
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK(!st.published);
	/* 300 KiB fits only the second resource */
	uint8_t *a = dk_p2p_alloc(g_dev, 300 * 1024);
	REQUIRE(a);
	a[0] = 0x5a;
	a[300 * 1024 - 1] = 0xa5;
	CHECK_INT_EQ(file_byte(2, 0x80000), 0x5a); /* lands at its BAR offset */
	CHECK_INT_EQ(file_byte(2, 0x80000 + 300 * 1024 - 1), 0xa5);
	uint8_t *b = dk_p2p_alloc(g_dev, 1);
	REQUIRE(b);
	b[0] = 0x11;
	CHECK_INT_EQ(file_byte(2, 0), 0x11); /* first resource first */
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK_INT_EQ(st.available, 0xc0000 - 75 * PG - PG); /* 300 KiB is 75 pages */
	CHECK_INT_EQ(st.nr_allocs, 2);
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_p2p_alloc(g_dev, 0x80000) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "available");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_free(g_dev, a, 300 * 1024), 0);
	CHECK_INT_EQ(dk_p2p_free(g_dev, b, 1), 0);
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK_INT_EQ(st.available, st.size);
	CHECK_INT_EQ(st.nr_allocs, 0);
	teardown();
}

DK_TEST(bad_frees_are_refused_and_change_nothing)
{
	setup();
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0, 0), 0);
	uint8_t *a = dk_p2p_alloc(g_dev, 3 * PG);
	REQUIRE(a);
	CHECK((uintptr_t)a % PG == 0);
	int local;
	CHECK_ERR_MSG(dk_p2p_free(g_dev, &local, 4), -EINVAL, "not in its P2P memory");
	CHECK_ERR_MSG(dk_p2p_free(g_dev, a, PG), -EINVAL, "allocated with 3 pages");
	CHECK_ERR_MSG(dk_p2p_free(g_dev, a + PG, PG), -EINVAL, "no allocation starts there");
	CHECK_ERR_MSG(dk_p2p_free(g_dev, a + 1, 3 * PG), -EINVAL, "no allocation starts there");
	CHECK_ERR_MSG(dk_p2p_free(g_dev, a, 0), -EINVAL, "no allocation starts there");
	CHECK_ERR_MSG(dk_p2p_free(NULL, a, 3 * PG), -EINVAL, "NULL device");
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK_INT_EQ(st.nr_allocs, 1);
	CHECK_INT_EQ(st.available, BAR2_LEN - 3 * PG);
	CHECK_INT_EQ(dk_p2p_free(g_dev, a, 3 * PG - 5), 0); /* any size of the same pages */
	CHECK_ERR_MSG(dk_p2p_free(g_dev, a, 3 * PG), -EINVAL, "double free");
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK_INT_EQ(st.available, BAR2_LEN);
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_p2p_alloc(g_dev, 0) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	dk_test_log_capture_stop();
	teardown();
}

DK_TEST(not_a_provider)
{
	setup();
	struct dk_p2p_stats st;
	CHECK_ERR_MSG(dk_p2p_publish(g_dev, true), -ENOENT, "no P2P provider");
	CHECK_ERR_MSG(dk_p2p_remove(g_dev), -ENOENT, "no P2P provider");
	CHECK_ERR_MSG(dk_p2p_stats(g_dev, NULL), -EINVAL, "NULL out");
	CHECK_ERR_MSG(dk_p2p_stats(g_dev, &st), -ENOENT, "no P2P provider");
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_p2p_alloc(g_dev, PG) == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	errno = 0;
	CHECK_INT_EQ(dk_p2p_virt_to_bus(g_dev, &st), 0);
	CHECK_INT_EQ(errno, ENOENT);
	dk_test_log_capture_stop();
	teardown();
}

/* BAR2's register says 0x4_0000_0000 on the bus while the CPU sees 0x8_0000_0000. */
static void set_bar2_bus(uint64_t bus)
{
	uint8_t cfg[4096];
	size_t n = dk_fx_read(g_fdev, "config", (char *)cfg, sizeof(cfg));
	REQUIRE(n >= 0x20);
	uint32_t lo = (uint32_t)bus | 0xc, hi = (uint32_t)(bus >> 32);
	memcpy(cfg + 0x18, &lo, 4);
	memcpy(cfg + 0x1c, &hi, 4);
	dk_fx_write(g_fdev, "config", cfg, 4096);
}

DK_TEST(virt_to_bus_uses_the_bar_register)
{
	setup();
	set_bar2_bus(0x400000000ull);
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0x10000, 0x20000), 0);
	uint8_t *a = dk_p2p_alloc(g_dev, PG);
	REQUIRE(a);
	uint8_t *b = dk_p2p_alloc(g_dev, PG);
	REQUIRE(b);
	CHECK_INT_EQ(dk_p2p_virt_to_bus(g_dev, a), 0x400000000ull + 0x20000);
	CHECK_INT_EQ(dk_p2p_virt_to_bus(g_dev, b + 5), 0x400000000ull + 0x20000 + PG + 5);
	/* any address of the resource, allocated or not, like the kernel */
	CHECK_INT_EQ(dk_p2p_virt_to_bus(g_dev, a + 0xffff), 0x400000000ull + 0x2ffff);
	int local;
	dk_test_log_capture_start();
	errno = 0;
	CHECK_INT_EQ(dk_p2p_virt_to_bus(g_dev, &local), 0);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK_INT_EQ(dk_p2p_virt_to_bus(g_dev, a + 0x10000), 0); /* one past the end */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not in its P2P memory");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_free(g_dev, a, PG), 0);
	CHECK_INT_EQ(dk_p2p_free(g_dev, b, PG), 0);
	teardown();
}

DK_TEST(virt_to_bus_falls_back_to_the_cpu_address)
{
	setup();
	set_bar2_bus(0); /* a VF's BAR registers read 0 */
	dk_test_log_capture_start();
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0, 0), 0);
	dk_test_log_capture_stop();
	uint8_t *a = dk_p2p_alloc(g_dev, PG);
	REQUIRE(a);
	CHECK_INT_EQ(dk_p2p_virt_to_bus(g_dev, a), BAR2_CPU);
	CHECK_INT_EQ(dk_p2p_free(g_dev, a, PG), 0);
	teardown();
}

DK_TEST(sgl_is_one_entry_of_the_whole_length)
{
	setup();
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0, 0), 0);
	unsigned int n = 0;
	struct dk_p2p_sg *sg = dk_p2p_alloc_sgl(g_dev, 5 * PG + 1, &n);
	REQUIRE(sg);
	CHECK_INT_EQ(n, 1);
	CHECK_INT_EQ(sg[0].length, 5 * PG + 1);
	CHECK_INT_EQ(sg[0].bus_addr, dk_p2p_virt_to_bus(g_dev, sg[0].addr));
	CHECK_INT_EQ(sg[0].bus_addr, BAR2_CPU);
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK_INT_EQ(st.available, BAR2_LEN - 6 * PG);
	CHECK_INT_EQ(dk_p2p_free_sgl(g_dev, sg, n), 0);
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK_INT_EQ(st.available, BAR2_LEN);
	dk_test_log_capture_start();
	CHECK(dk_p2p_alloc_sgl(g_dev, PG, NULL) == NULL);
	CHECK(dk_p2p_alloc_sgl(g_dev, BAR2_LEN + 1, &n) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	CHECK_INT_EQ(dk_p2p_free_sgl(g_dev, NULL, 1), -EINVAL);
	dk_test_log_capture_stop();
	teardown();
}

DK_TEST(remove_refuses_while_allocated)
{
	setup();
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0, 0), 0);
	void *a = dk_p2p_alloc(g_dev, PG);
	REQUIRE(a);
	CHECK_ERR_MSG(dk_p2p_remove(g_dev), -EBUSY, "1 P2P allocations outstanding");
	struct dk_p2p_stats st;
	CHECK_INT_EQ(dk_p2p_stats(g_dev, &st), 0); /* still there */
	CHECK_INT_EQ(dk_p2p_free(g_dev, a, PG), 0);
	CHECK_INT_EQ(dk_p2p_remove(g_dev), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_stats(g_dev, &st), -ENOENT);
	dk_test_log_capture_stop();
	/* the BAR can be added again */
	CHECK_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0, 0), 0);
	teardown();
}

/* The protection of the mapping holding addr in /proc/self/maps ("rw-s", "---p"). */
static const char *prot_of(const void *addr)
{
	static char perms[8];
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	perms[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char p[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && (uintptr_t)addr >= lo &&
		    (uintptr_t)addr < hi)
			snprintf(perms, sizeof(perms), "%s", p);
	}
	if (f)
		fclose(f);
	return perms;
}

DK_TEST(cleanup_fences_outstanding_memory)
{
	setup();
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0, 0), 0);
	void *a = dk_p2p_alloc(g_dev, PG);
	REQUIRE(a);
	CHECK_STR_EQ(prot_of(a), "rw-s");
	dk_test_log_capture_start();
	dk__p2p_cleanup();
	CHECK_STR_CONTAINS(dk_test_log_captured(), "fenced");
	dk_test_log_capture_stop();
	CHECK_STR_EQ(prot_of(a), "---p"); /* still reserved, never reused, faults on access */
	struct dk_p2p_stats st;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_stats(g_dev, &st), -ENOENT);
	dk_test_log_capture_stop();
	teardown();
}

DK_TEST(provider_outlives_a_rescan)
{
	setup();
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0, 0), 0);
	uint8_t *a = dk_p2p_alloc(g_dev, PG);
	REQUIRE(a);
	REQUIRE(dk_pci_scan() >= 1);
	g_dev = dk_pci_find("0000:01:00.0");
	REQUIRE(g_dev);
	a[0] = 7; /* dmakit's own mapping: still there */
	CHECK_INT_EQ(file_byte(2, 0), 7);
	CHECK_INT_EQ(dk_p2p_free(g_dev, a, PG), 0);
	struct dk_p2p_info info[4];
	CHECK_INT_EQ(dk_p2p_list(DK_P2P_KIND_DMAKIT, info, 4), 1);
	CHECK(info[0].dev == g_dev);
	CHECK_INT_EQ(info[0].bars, 1u << 2);
	CHECK_INT_EQ(info[0].stats.size, BAR2_LEN);
	teardown();
}

/* Four threads allocate, stamp, check and free at once: a page handed to two
 * of them would show the other's stamp. */
static void *stamper(void *arg)
{
	uint8_t id = (uint8_t)(uintptr_t)arg;
	uint64_t seed = 0x1234567ull * (id + 1);
	uint8_t *held[8] = {0};
	size_t len[8] = {0};
	long bad = 0;
	for (int it = 0; it < 20000; it++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		int k = (int)(seed % 8);
		if (held[k]) {
			for (size_t i = 0; i < len[k]; i += PG)
				bad += held[k][i] != id;
			bad += dk_p2p_free(g_dev, held[k], len[k]) != 0;
			held[k] = NULL;
		} else {
			len[k] = (size_t)(1 + seed % 4) * PG;
			held[k] = dk_p2p_alloc(g_dev, len[k]);
			bad += held[k] == NULL;
			for (size_t i = 0; held[k] && i < len[k]; i += PG)
				held[k][i] = id;
		}
	}
	for (int k = 0; k < 8; k++)
		if (held[k])
			bad += dk_p2p_free(g_dev, held[k], len[k]) != 0;
	return (void *)bad;
}

DK_TEST(threads_never_share_a_page)
{
	setup();
	/* 128 pages: the most the threads hold at once (4 x 8 x 4), so no request fails */
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0x40000, 0), 0);
	REQUIRE_INT_EQ(dk_p2p_add_resource(g_dev, 2, 0x40000, 0x80000), 0);
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		REQUIRE(pthread_create(&t[i], NULL, stamper, (void *)(i + 1)) == 0);
	long bad = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	CHECK_INT_EQ(bad, 0);
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_stats(g_dev, &st), 0);
	CHECK_INT_EQ(st.available, st.size);
	CHECK_INT_EQ(st.nr_allocs, 0);
	teardown();
}
