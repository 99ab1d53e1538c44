/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: peer-to-peer DMA from edu (the client, 03:00.0 below switch port
 * 02:00.0) into the NVMe controller's 16 MiB CMB (04:00.0 below port
 * 02:01.0). Both bound to vfio-pci; dk_init probes edu with the edu driver
 * and the NVMe with drivers/nvme_cmb, which adds the CMB as a published
 * P2P resource (CAP.CMBS: CMBMSC.CRE first). dk_p2p_find_many({edu})
 * picks the NVMe at distance 4, bus_addr. CMB memory from dk_p2p_alloc is
 * mapped into the container (registered memory with IOVAs), so edu DMAs
 * host memory -> its buffer -> the CMB at the IOVA dk_p2p_dma_addr gives,
 * the data checked through the CMB mapping, and back CMB -> host memory;
 * edu's dk_edu_dma_va resolves CMB addresses like any other registered
 * memory; `available` goes down and back up. Runs in mode va (aw-bits 48)
 * and remap (39). edu moves less than 4096 bytes per transfer. At the end
 * the NVMe goes back to the kernel's nvme driver and edu to none.
 */
#include <dmakit/edu.h>
#include <dmakit/nvme_cmb.h>

#include "vm_common.h"

#define TMO 5000
#define LEN 3000u
#define CMB_SIZE (16ull << 20)

static struct dk_pci_device *g_edu_dev, *g_nvme_dev;
static struct dk_edu *g_edu;

/* Bind both, register both drivers, dk_init with probing. */
static void start(void)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	if (dk_initialized())
		return;
	REQUIRE_INT_EQ(dk_pci_bind(VM_EDU, "vfio-pci"), 0);
	REQUIRE_INT_EQ(dk_pci_bind(VM_NVME, "vfio-pci"), 0);
	static int registered; /* registrations outlive dk_cleanup */
	if (!registered) {
		REQUIRE_INT_EQ(dk_edu_driver_register(), 0);
		REQUIRE_INT_EQ(dk_nvme_cmb_driver_register(), 0);
		registered = 1;
	}
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_IN_MEMORY;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	g_edu_dev = dk_pci_find(VM_EDU);
	g_nvme_dev = dk_pci_find(VM_NVME);
	REQUIRE(g_edu_dev && g_nvme_dev);
	g_edu = dk_edu_get(g_edu_dev);
	REQUIRE(g_edu != NULL);
}

DK_TEST(nvme_cmb_driver_adds_and_publishes_the_cmb)
{
	start();
	struct dk_nvme_cmb_layout l;
	REQUIRE_INT_EQ(dk_nvme_cmb_get(g_nvme_dev, &l), 0);
	printf("# CAP 0x%016" PRIx64 " CMBSZ 0x%08x CMBLOC 0x%08x: BAR %u +0x%" PRIx64
	       " size 0x%" PRIx64 " CBA 0x%" PRIx64 "\n",
	       l.cap, l.cmbsz, l.cmbloc, l.bar, l.offset, l.size, l.cba);
	CHECK(l.cmbs); /* QEMU's nvme (7.2) sets CAP.CMBS */
	CHECK_INT_EQ(l.bar, 2);
	CHECK_INT_EQ(l.offset, 0);
	CHECK_INT_EQ(l.size, CMB_SIZE);
	CHECK(l.publish);
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_stats(g_nvme_dev, &st), 0);
	CHECK(st.published);
	CHECK_INT_EQ(st.size, CMB_SIZE);
	CHECK_INT_EQ(st.available, CMB_SIZE);
	/* memory decode is on: the CMB is reachable */
	uint16_t cmd = 0;
	CHECK_INT_EQ(dk_pci_config_read(g_nvme_dev, &cmd, 2, 4), 2);
	CHECK(cmd & 2);
}

DK_TEST(find_many_picks_the_nvme_at_distance_4)
{
	start();
	const struct dk_pci_device *cl[1] = {g_edu_dev};
	CHECK(dk_p2p_find_many(cl, 1) == g_nvme_dev);
	CHECK_INT_EQ(dk_p2p_distance(g_nvme_dev, g_edu_dev, true), 4);
	struct dk_p2p_path p;
	REQUIRE_INT_EQ(dk_p2p_path(g_nvme_dev, g_edu_dev, &p), 0);
	CHECK_INT_EQ(p.map_type, DK_P2P_MAP_BUS_ADDR);
	printf("# %s -> %s: %s, distance %d\n", VM_EDU, VM_NVME, dk_p2p_map_type_name(p.map_type),
	       p.distance);
}

static void fill(unsigned char *b, uint32_t len, unsigned int seed)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (unsigned char)(i * 13 + seed);
}

/* edu copies host memory into CMB memory and back, at the IOVA
 * dk_p2p_dma_addr gives; the data is checked through the CMB mapping. */
static void copy_round_trip(void)
{
	unsigned char *cmb = dk_p2p_alloc(g_nvme_dev, 2 * 4096);
	REQUIRE(cmb != NULL);
	struct dk_p2p_stats st;
	REQUIRE_INT_EQ(dk_p2p_stats(g_nvme_dev, &st), 0);
	CHECK_INT_EQ(st.available, CMB_SIZE - 2 * 4096);
	uint64_t dma = 0;
	CHECK_INT_EQ(dk_p2p_dma_addr(g_edu_dev, cmb + 4096, &dma), DK_P2P_DMA_IOVA);
	CHECK_INT_EQ(dma, dk_mem_virt2iova(cmb + 4096));
	printf("# CMB buffer %p: IOVA 0x%" PRIx64 " (mode %d), bus 0x%" PRIx64 "\n", (void *)cmb,
	       dma, (int)dk_iova_mode(), dk_p2p_virt_to_bus(g_nvme_dev, cmb + 4096));
	unsigned char *host = dk_malloc("p2p", LEN, 4096), *back = dk_malloc("p2p", LEN, 4096);
	REQUIRE(host && back);

	/* host -> edu buffer -> CMB (at the IOVA dk_p2p_dma_addr gave) */
	fill(host, LEN, 1);
	memset(cmb + 4096, 0, LEN);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 1, host, 0, LEN, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma(g_edu, 0, dma, 0, LEN, TMO), 0);
	CHECK(memcmp(cmb + 4096, host, LEN) == 0); /* read through the CMB mapping */

	/* CMB (written by the CPU) -> edu buffer -> host */
	fill(cmb + 4096, LEN, 7);
	memset(back, 0, LEN);
	CHECK_INT_EQ(dk_edu_dma(g_edu, 1, dma, 0, LEN, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 0, back, 0, LEN, TMO), 0);
	CHECK(memcmp(back, cmb + 4096, LEN) == 0);

	/* the CMB's VA resolves like any registered memory (dk_mem_contig_chunk) */
	fill(host, LEN, 99);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 1, host, 0, LEN, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 0, cmb, 0, LEN, TMO), 0);
	CHECK(memcmp(cmb, host, LEN) == 0);

	dk_free(host);
	dk_free(back);
	CHECK_INT_EQ(dk_p2p_free(g_nvme_dev, cmb, 2 * 4096), 0);
	REQUIRE_INT_EQ(dk_p2p_stats(g_nvme_dev, &st), 0);
	CHECK_INT_EQ(st.available, CMB_SIZE);
	CHECK_INT_EQ(st.nr_allocs, 0);
}

/* With the container backend (Debian's kernel, or asked for): the copy.
 * Through iommufd (the suite's 6.12 kernel): the IOAS cannot map device
 * memory, so dk_p2p_dma_addr refuses with the fix, and the copy runs again
 * with the container backend on the same kernel. */
DK_TEST(edu_copies_host_memory_into_the_cmb_and_back)
{
	start();
	if (vm_backend(VM_EDU) != DK_VFIO_BACKEND_IOMMUFD) {
		copy_round_trip();
		return;
	}
	unsigned char *cmb = dk_p2p_alloc(g_nvme_dev, 4096);
	REQUIRE(cmb != NULL);
	uint64_t dma = 0;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_dma_addr(g_edu_dev, cmb, &dma), -ENXIO);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_VFIO_BACKEND=container");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_free(g_nvme_dev, cmb, 4096), 0);
	dk_cleanup();
	setenv("DMAKIT_VFIO_BACKEND", "container", 1);
	start();
	CHECK_INT_EQ(vm_backend(VM_EDU), DK_VFIO_BACKEND_CONTAINER);
	copy_round_trip();
	unsetenv("DMAKIT_VFIO_BACKEND");
}

DK_TEST(removed_provider_leaves_the_container)
{
	start();
	unsigned char *cmb = dk_p2p_alloc(g_nvme_dev, 4096);
	REQUIRE(cmb != NULL);
	/* allocations outstanding: the driver's remove refuses */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_remove_device(g_nvme_dev), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "allocations outstanding");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_free(g_nvme_dev, cmb, 4096), 0);
	CHECK_INT_EQ(dk_pci_remove_device(g_nvme_dev), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(cmb), DK_BAD_IOVA);
	uint64_t dma = 0;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_dma_addr(g_edu_dev, cmb, &dma), -EINVAL);
	dk_test_log_capture_stop();
	const struct dk_pci_device *cl[1] = {g_edu_dev};
	CHECK(dk_p2p_find_many(cl, 1) == NULL);
	/* probed again: the CMB is back */
	CHECK_INT_EQ(dk_pci_probe_device(g_nvme_dev), 0);
	CHECK(dk_p2p_find_many(cl, 1) == g_nvme_dev);
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
