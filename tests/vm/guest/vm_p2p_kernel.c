/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: the P2P memory the kernel itself publishes. On the suite's 6.12
 * kernel (run.sh --kernel iommufd) the kernel's nvme driver publishes
 * QEMU's 16 MiB CMB of the NVMe (04:00.0) under p2pmem/; Debian's kernel
 * publishes none (no CONFIG_PCI_P2PDMA): the tests skip there.
 *
 * Checked: dk_p2p_kernel_stats (size, available, published) and the kernel
 * kind of dk_p2p_list; dk_p2p_kernel_alloc (mmap of p2pmem/allocate) with
 * `available` going down and back up after dk_p2p_kernel_free; CPU writes
 * and reads through the mapping. Then edu (03:00.0, on vfio-pci) and that
 * memory: the kernel refuses to pin p2pmem pages for an IOMMU mapping
 * (VFIO type1 and iommufd pin long-term for writing, which mm/gup.c refuses
 * for a shared sysfs file mapping with EFAULT before it looks at the pages;
 * P2PDMA pages would also need FOLL_PCI_P2PDMA, refused with FOLL_LONGTERM),
 * so dk_dev_dma_map_auto gives -EFAULT with the reason, through iommufd
 * and through the container backend, leaves nothing mapped, and edu still
 * copies host memory afterwards. What works: the same CMB page through the
 * NVMe's sysfs resource2 mapping (VM_PFNMAP, mapped by type1 by PFN), into
 * which edu copies host memory and back, checked through the p2pmem
 * mapping; iommufd refuses that mapping too. docs/p2p.md has the kernel's
 * source lines.
 * The kernel's nvme driver keeps part of the CMB for its own submission
 * queues, so `available` starts below `size`: the tests compare with the
 * value read first. The NVMe stays on the kernel's nvme driver.
 */
#include <dmakit/edu.h>
#include <dmakit/p2p.h>

#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>

#include "vm_common.h"

#define TMO 5000
#define LEN 3000u
#define CMB_SIZE (16ull << 20)
#define P2PMEM "/sys/bus/pci/devices/" VM_NVME "/p2pmem"

/* The NVMe on the kernel's nvme driver, which maps its CMB while it resets
 * the controller (after probe): wait up to 10 s for p2pmem/published. */
static void need_p2pmem(void)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	static int state; /* 0 not looked yet, 1 there, -1 absent (waited once) */
	if (state == 0) {
		REQUIRE_INT_EQ(dk_pci_bind(VM_NVME, "nvme"), 0);
		for (int i = 0; i < 100 && access(P2PMEM "/published", R_OK) != 0; i++)
			usleep(100 * 1000);
		state = access(P2PMEM "/published", R_OK) == 0 ? 1 : -1;
	}
	if (state < 0)
		SKIP("no " P2PMEM ": this kernel publishes no P2P memory for the NVMe's CMB (needs CONFIG_PCI_P2PDMA: boot with run.sh --kernel iommufd)");
}

static struct dk_pci_device *g_edu_dev, *g_nvme;
static struct dk_edu *g_edu;
static uint64_t g_avail; /* p2pmem/available before this program allocated */

static void start(void)
{
	need_p2pmem();
	vm_start_edu(&g_edu_dev, &g_edu);
	g_nvme = dk_pci_find(VM_NVME);
	REQUIRE(g_nvme != NULL);
	if (!g_avail) {
		struct dk_p2p_stats st;
		REQUIRE_INT_EQ(dk_p2p_kernel_stats(g_nvme, &st), 0);
		g_avail = st.available;
	}
}

DK_TEST(stats_read_back)
{
	start();
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(g_nvme, &st), 0);
	printf("# %s p2pmem: size %" PRIu64 " available %" PRIu64 " published %d\n", VM_NVME,
	       st.size, st.available, (int)st.published);
	CHECK_INT_EQ(st.size, CMB_SIZE);
	/* nothing of ours allocated; the nvme driver's queues take a little */
	CHECK(st.available <= CMB_SIZE && st.available >= CMB_SIZE / 2);
	CHECK(st.published);
	CHECK_INT_EQ(st.nr_allocs, 0);
	CHECK_INT_EQ(st.nr_resources, 0);
	/* the kernel kind lists it, with the same numbers */
	struct dk_p2p_info info[8];
	int n = dk_p2p_list(DK_P2P_KIND_KERNEL, info, 8);
	REQUIRE(n >= 1 && n <= 8);
	int found = 0;
	for (int i = 0; i < n; i++) {
		if (info[i].dev != g_nvme)
			continue;
		found++;
		CHECK_INT_EQ(info[i].kind, DK_P2P_KIND_KERNEL);
		CHECK_INT_EQ(info[i].stats.size, CMB_SIZE);
		CHECK(info[i].stats.published);
	}
	CHECK_INT_EQ(found, 1);
	/* edu publishes nothing */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_kernel_stats(g_edu_dev, &st), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "CONFIG_PCI_P2PDMA");
	dk_test_log_capture_stop();
}

DK_TEST(alloc_by_mmap_available_down_and_back_up)
{
	start();
	struct dk_p2p_stats st;
	unsigned char *a = dk_p2p_kernel_alloc(g_nvme, 2 * 4096);
	REQUIRE(a != NULL);
	unsigned char *b = dk_p2p_kernel_alloc(g_nvme, 100); /* rounded up to a page */
	REQUIRE(b != NULL);
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(g_nvme, &st), 0);
	CHECK_INT_EQ(st.available, g_avail - 3 * 4096);
	CHECK_INT_EQ(st.nr_allocs, 2);
	/* CPU writes and reads through the mapping (the CMB, BAR 2) */
	for (unsigned int i = 0; i < 2 * 4096; i++)
		a[i] = (unsigned char)(i * 7 + 3);
	memset(b, 0x5a, 4096);
	unsigned int bad = 0;
	for (unsigned int i = 0; i < 2 * 4096; i++)
		bad += a[i] != (unsigned char)(i * 7 + 3);
	for (unsigned int i = 0; i < 4096; i++)
		bad += b[i] != 0x5a;
	CHECK_INT_EQ(bad, 0);
	CHECK_INT_EQ(dk_p2p_kernel_free(b, 100), 0);
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(g_nvme, &st), 0);
	CHECK_INT_EQ(st.available, g_avail - 2 * 4096);
	/* a wrong size is refused and frees nothing */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_kernel_free(a, 4096), -EINVAL);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_kernel_free(a, 2 * 4096), 0);
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(g_nvme, &st), 0);
	CHECK_INT_EQ(st.available, g_avail);
	CHECK_INT_EQ(st.nr_allocs, 0);
}

static void fill(unsigned char *p, uint32_t len, unsigned int seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 13 + seed);
}

/* edu copies host memory through its buffer and back: heap DMA works. */
static void host_round_trip(void)
{
	unsigned char *src = dk_malloc("kp2p", LEN, 4096), *dst = dk_malloc("kp2p", LEN, 4096);
	REQUIRE(src && dst);
	fill(src, LEN, 5);
	memset(dst, 0, LEN);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 1, src, 0, LEN, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 0, dst, 0, LEN, TMO), 0);
	CHECK(memcmp(src, dst, LEN) == 0);
	dk_free(src);
	dk_free(dst);
}

/* Map p2pmem into edu's container/IOAS: the kernel refuses, dmakit says
 * why; nothing stays mapped, the memory stays usable, heap DMA works. */
static void map_is_refused(void)
{
	unsigned char *p = dk_p2p_kernel_alloc(g_nvme, 4096);
	REQUIRE(p != NULL);
	uint64_t iova = 0;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_dev_dma_map_auto(&g_edu_dev->device, p, 4096, &iova), -EFAULT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "p2pmem/allocate");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "FOLL_PCI_P2PDMA");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_p2p_alloc");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "resource<N>");
	char msg[1024];
	snprintf(msg, sizeof(msg), "%s", dk_test_log_captured());
	for (char *c = msg; (c = strchr(c, '\n')) != NULL;)
		*c = ' ';
	printf("# %s\n", msg);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_dev_dma_iova(&g_edu_dev->device, p, 4096, &iova), -ENOENT);
	fill(p, 4096, 9);
	unsigned int bad = 0;
	for (unsigned int i = 0; i < 4096; i++)
		bad += p[i] != (unsigned char)(i * 13 + 9);
	CHECK_INT_EQ(bad, 0);
	CHECK_INT_EQ(dk_p2p_kernel_free(p, 4096), 0);
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(g_nvme, &st), 0);
	CHECK_INT_EQ(st.available, g_avail);
	host_round_trip();
}

DK_TEST(edu_dma_into_p2pmem_is_refused_by_iommufd_and_type1)
{
	start();
	int be = vm_backend(VM_EDU);
	printf("# backend %s\n", be == DK_VFIO_BACKEND_IOMMUFD ? "iommufd" : "container");
	map_is_refused();
	if (be != DK_VFIO_BACKEND_IOMMUFD)
		return;
	/* and through VFIO type1 on the same kernel */
	dk_cleanup();
	setenv("DMAKIT_VFIO_BACKEND", "container", 1);
	start();
	CHECK_INT_EQ(vm_backend(VM_EDU), DK_VFIO_BACKEND_CONTAINER);
	map_is_refused();
	unsetenv("DMAKIT_VFIO_BACKEND");
}

/* The PFN behind va (root reads PFNs in /proc/self/pagemap), 0 if none. */
static uint64_t pfn_of(const void *va)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	off_t at = (off_t)((uintptr_t)va / 4096 * sizeof(e));
	if (pread(fd, &e, sizeof(e), at) != (ssize_t)sizeof(e))
		e = 0;
	close(fd);
	return (e >> 63) ? (e & ((1ull << 55) - 1)) : 0;
}

/*
 * The same CMB page through a second mapping: the NVMe's BAR 2 by sysfs
 * resource2 (a VM_PFNMAP mapping, which VFIO type1 maps by PFN without
 * pinning), at the allocation's offset in the BAR. edu copies host memory
 * into it and back; the data is checked through the p2pmem mapping.
 * iommufd (6.12) maps no VM_PFNMAP memory: refused there.
 */
static void alias_round_trip(int expect_rc)
{
	unsigned char *p = dk_p2p_kernel_alloc(g_nvme, 4096);
	REQUIRE(p != NULL);
	memset(p, 0, 4096);
	uint64_t pfn = pfn_of(p), bar = g_nvme->bars[2].phys_addr;
	printf("# p2pmem %p: PFN 0x%" PRIx64 ", BAR 2 at 0x%" PRIx64 "\n", (void *)p, pfn, bar);
	REQUIRE(pfn != 0 && pfn * 4096 >= bar && pfn * 4096 < bar + CMB_SIZE);
	int fd = open("/sys/bus/pci/devices/" VM_NVME "/resource2", O_RDWR | O_CLOEXEC);
	REQUIRE(fd >= 0);
	unsigned char *alias = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				    (off_t)(pfn * 4096 - bar));
	close(fd);
	REQUIRE(alias != MAP_FAILED);
	p[17] = 0xa5;
	CHECK_INT_EQ(alias[17], 0xa5); /* the same memory */
	uint64_t iova = 0;
	dk_test_log_capture_start();
	int rc = dk_dev_dma_map_auto(&g_edu_dev->device, alias, 4096, &iova);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(rc, expect_rc);
	if (rc == 0) {
		unsigned char *host = dk_malloc("kp2p", LEN, 4096), *back = dk_malloc("kp2p", LEN, 4096);
		REQUIRE(host && back);
		fill(host, LEN, 3); /* host -> edu -> the CMB page, read through p2pmem */
		CHECK_INT_EQ(dk_edu_dma_va(g_edu, 1, host, 0, LEN, TMO), 0);
		CHECK_INT_EQ(dk_edu_dma(g_edu, 0, iova, 0, LEN, TMO), 0);
		CHECK(memcmp(p, host, LEN) == 0);
		fill(p, LEN, 11); /* written through p2pmem -> edu -> host */
		memset(back, 0, LEN);
		CHECK_INT_EQ(dk_edu_dma(g_edu, 1, iova, 0, LEN, TMO), 0);
		CHECK_INT_EQ(dk_edu_dma_va(g_edu, 0, back, 0, LEN, TMO), 0);
		CHECK(memcmp(back, p, LEN) == 0);
		CHECK_INT_EQ(dk_dev_dma_unmap_auto(&g_edu_dev->device, alias, iova, 4096), 0);
		dk_free(host);
		dk_free(back);
	}
	munmap(alias, 4096);
	CHECK_INT_EQ(dk_p2p_kernel_free(p, 4096), 0);
}

DK_TEST(edu_dma_into_p2pmem_through_a_bar_alias_with_type1)
{
	start();
	if (vm_backend(VM_EDU) == DK_VFIO_BACKEND_IOMMUFD) {
		alias_round_trip(-EFAULT);
		dk_cleanup();
		setenv("DMAKIT_VFIO_BACKEND", "container", 1);
		start();
	}
	alias_round_trip(0);
	unsetenv("DMAKIT_VFIO_BACKEND");
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_kernel_stats(g_nvme, &st), 0);
	CHECK_INT_EQ(st.available, g_avail);
}

/* Later programs expect the NVMe on the kernel's nvme driver and edu on none. */
DK_TEST(give_the_devices_back)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	if (dk_initialized())
		dk_cleanup();
	CHECK_INT_EQ(dk_pci_bind(VM_NVME, "nvme"), 0);
	CHECK_INT_EQ(dk_pci_unbind(VM_EDU), 0);
}
