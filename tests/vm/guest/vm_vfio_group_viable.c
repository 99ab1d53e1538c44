/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: a group that is not viable. 05:00.0 and 05:00.1 are two functions
 * of one NVMe device without ACS, so they share an IOMMU group; both start on
 * the kernel's nvme driver. With 05:00.0 on vfio-pci and 05:00.1 still on
 * nvme, VFIO refuses the group: opening 05:00.0 must fail with -EPERM and a
 * message naming 05:00.1 and what to do; nothing stays open. Afterwards both
 * go back to nvme.
 */
#include "vm_common.h"

#define F0 "0000:05:00.0"
#define F1 "0000:05:00.1"

static void give_back(void)
{
	dk_pci_bind(F0, "nvme");
}

DK_TEST(group_with_a_function_on_nvme_is_not_viable)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	REQUIRE_INT_EQ(dk_pci_bind(F0, "vfio-pci"), 0);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_PROBE | DK_INIT_IN_MEMORY;
	dk_test_log_capture_start();
	int rc = dk_init(&p);
	if (rc < 0)
		give_back();
	REQUIRE_INT_EQ(rc, 0);
	struct dk_pci_device *d0 = dk_pci_find(F0), *d1 = dk_pci_find(F1);
	REQUIRE(d0 && d1);
	CHECK_INT_EQ(d0->iommu_group, d1->iommu_group);
	CHECK_STR_EQ(d1->kernel_driver, "nvme");
	CHECK_INT_EQ(dk_pci_vfio_open(d0), -EPERM);
	const char *log = dk_test_log_captured();
	CHECK_STR_CONTAINS(log, "not viable");
	CHECK_STR_CONTAINS(log, "unbind 0000:05:00.1 from nvme or bind it to vfio-pci");
	CHECK(!dk_pci_vfio_is_open(d0));
	/* The DMA API says the same thing differently: not open. */
	char buf[4096] __attribute__((aligned(4096)));
	CHECK_INT_EQ(dk_dev_dma_map(&d0->device, buf, 0x100000, sizeof(buf)), -ENODEV);
	dk_test_log_capture_stop();
	dk_cleanup();
	give_back();
}

DK_TEST(both_functions_on_vfio_pci_make_it_viable)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	REQUIRE_INT_EQ(dk_pci_bind(F0, "vfio-pci"), 0);
	REQUIRE_INT_EQ(dk_pci_bind(F1, "vfio-pci"), 0);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_PROBE | DK_INIT_IN_MEMORY;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	struct dk_pci_device *d0 = dk_pci_find(F0);
	REQUIRE(d0 != NULL);
	CHECK_INT_EQ(dk_pci_vfio_open(d0), 0);
	CHECK_INT_EQ(dk_pci_vfio_close(d0), 0);
	dk_cleanup();
	dk_pci_bind(F1, "nvme");
	give_back();
}
