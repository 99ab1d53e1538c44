/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: the NVMe controller (1b36:0010, 16 MiB CMB in BAR2) through VFIO.
 * Binds it to vfio-pci and checks its region information: BAR0 carries the
 * MSI-X mappable capability and is mapped whole, BAR2 is the 16 MiB CMB,
 * mappable; registers read the same through the mapping and through
 * pread; the CMB is writable through the mapping. Opening with
 * DK_PCI_VFIO_SPARSE_SPLIT behaves the same for BARs that are not sparse.
 */
#include <sys/eventfd.h>

#include "bus/pci/pci_internal.h"
#include "vm_common.h"

static struct dk_pci_device *nvme(void)
{
	return vm_open(VM_NVME);
}

DK_TEST(bind_and_open_nvme)
{
	struct dk_pci_device *d = vm_vfio_dev(VM_NVME);
	REQUIRE_INT_EQ(dk_pci_vfio_open(d), 0);
}

DK_TEST(bar0_has_the_msix_mappable_capability)
{
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(nvme(), 0, &r), 0);
	printf("# BAR0: size 0x%" PRIx64 " flags 0x%x mode %d areas %u\n", r.size, r.flags, r.mode,
	       r.nr_areas);
	CHECK(r.flags & DK_PCI_REGION_MSIX_MAPPABLE);
	CHECK(r.flags & DK_PCI_REGION_MMAP);
	CHECK(!(r.flags & DK_PCI_REGION_SPARSE)); /* vfio-pci >= 4.16 maps MSI-X BARs whole */
	CHECK_INT_EQ(r.mode, DK_PCI_MAP_WHOLE);
	CHECK(r.base != NULL);
	CHECK(r.size >= 0x2000);
}

DK_TEST(bar2_is_the_16mib_cmb_mapped)
{
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(nvme(), 2, &r), 0);
	CHECK_INT_EQ(r.size, 16u << 20);
	CHECK(r.flags & DK_PCI_REGION_MMAP);
	CHECK_INT_EQ(r.mode, DK_PCI_MAP_WHOLE);
	REQUIRE(r.base != NULL);
	CHECK(r.fd_offset != 0); /* from the kernel, whatever its layout */
	/* write and read back through the mapping and through pread */
	uint64_t pat = 0x0123456789abcdefull, v = 0;
	CHECK_INT_EQ(dk_pci_mmio_write64(nvme(), 2, 0x1000, pat), 0);
	CHECK_INT_EQ(dk_pci_mmio_read64(nvme(), 2, 0x1000, &v), 0);
	CHECK_INT_EQ(v, pat);
	dk__pci_dev(nvme())->vfio->force_rw = 1;
	v = 0;
	uint8_t bytes[8];
	CHECK_INT_EQ(dk_pci_mmio_read(nvme(), 2, bytes, 8, 0x1000), 8);
	memcpy(&v, bytes, 8);
	CHECK_INT_EQ(v, pat);
	CHECK_INT_EQ(dk_pci_mmio_write32(nvme(), 2, (16u << 20) - 4, 0xfeedf00d), 0);
	dk__pci_dev(nvme())->vfio->force_rw = 0;
	uint32_t w = 0;
	CHECK_INT_EQ(dk_pci_mmio_read32(nvme(), 2, (16u << 20) - 4, &w), 0);
	CHECK_INT_EQ(w, 0xfeedf00d);
	CHECK_INT_EQ(dk_pci_mmio_read32(nvme(), 2, 16u << 20, &w), -ERANGE);
}

DK_TEST(registers_agree_between_mapping_and_pread)
{
	uint64_t cap_map = 0, cap_rw = 0;
	uint32_t vs_map = 0, vs_rw = 0;
	CHECK_INT_EQ(dk_pci_mmio_read64(nvme(), 0, 0, &cap_map), 0);
	CHECK_INT_EQ(dk_pci_mmio_read32(nvme(), 0, 8, &vs_map), 0);
	dk__pci_dev(nvme())->vfio->force_rw = 1;
	/* pread of 8 bytes: vfio-pci splits it into two 4-byte reads */
	CHECK_INT_EQ(dk_pci_mmio_read(nvme(), 0, &cap_rw, 8, 0), 8);
	CHECK_INT_EQ(dk_pci_mmio_read32(nvme(), 0, 8, &vs_rw), 0);
	dk__pci_dev(nvme())->vfio->force_rw = 0;
	CHECK(cap_map != 0);
	CHECK_INT_EQ(cap_map, cap_rw);
	CHECK_INT_EQ(vs_map, vs_rw);
	CHECK(vs_map >= 0x00010000); /* NVMe 1.x or later */
	printf("# CAP 0x%016" PRIx64 " VS 0x%08x\n", cap_map, vs_map);
}

DK_TEST(irq_info_msix)
{
	struct dk_vfio_irq_info ii;
	REQUIRE_INT_EQ(dk_vfio_irq_info(dk_pci_vfio_device(nvme()), DK_VFIO_IRQ_MSIX, &ii), 0);
	CHECK(ii.count >= 1);
	/* 6.12's vfio-pci resizes MSI-X (dynamic allocation, with the IOMMU's interrupt
	 * remapping): no NORESIZE; 6.1's cannot */
	if (vm_kernel_at_least(6, 12))
		CHECK(!(ii.flags & DK_VFIO_IRQ_NORESIZE));
	else
		CHECK(ii.flags & DK_VFIO_IRQ_NORESIZE);
	CHECK_INT_EQ(nvme()->caps.msix.table_size, ii.count);
}

/* MSI-X: three vectors on their own eventfds; a loopback trigger of vector
 * 2 signals only its eventfd; disable releases them. */
DK_TEST(msix_vectors_signal_their_eventfds)
{
	struct dk_vfio_device *vd = dk_pci_vfio_device(nvme());
	int efd[3];
	for (int i = 0; i < 3; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		REQUIRE(efd[i] >= 0);
	}
	REQUIRE_INT_EQ(dk_vfio_irq_enable(vd, DK_VFIO_IRQ_MSIX, efd, 3), 0);
	CHECK_INT_EQ(dk_vfio_irq_trigger(vd, DK_VFIO_IRQ_MSIX, 2), 0);
	CHECK_INT_EQ(vm_wait_eventfd(efd[2], 1000), 1);
	CHECK_INT_EQ(vm_wait_eventfd(efd[0], 10), 0);
	CHECK_INT_EQ(vm_wait_eventfd(efd[1], 10), 0);
	/* A vector beyond those enabled is refused. */
	CHECK(dk_vfio_irq_trigger(vd, DK_VFIO_IRQ_MSIX, 100000) < 0);
	CHECK_INT_EQ(dk_vfio_irq_disable(vd, DK_VFIO_IRQ_MSIX), 0);
	CHECK(dk_vfio_irq_trigger(vd, DK_VFIO_IRQ_MSIX, 2) < 0); /* not enabled any more */
	for (int i = 0; i < 3; i++)
		close(efd[i]);
}

DK_TEST(reopen_split_mode)
{
	uint32_t w = 0;
	CHECK_INT_EQ(dk_pci_mmio_write32(nvme(), 2, (16u << 20) - 4, 0xfeedf00d), 0);
	CHECK_INT_EQ(dk_pci_vfio_close(nvme()), 0);
	REQUIRE_INT_EQ(dk_pci_vfio_open_flags(dk_pci_find(VM_NVME), DK_PCI_VFIO_SPARSE_SPLIT), 0);
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(nvme(), 2, &r), 0);
	/* not sparse: split mode changes nothing */
	CHECK_INT_EQ(r.mode, DK_PCI_MAP_WHOLE);
	CHECK_INT_EQ(dk_pci_mmio_read32(nvme(), 2, (16u << 20) - 4, &w), 0);
	CHECK_INT_EQ(w, 0xfeedf00d);
	CHECK_INT_EQ(dk_pci_vfio_close(nvme()), 0);
	/* give it back to the kernel's nvme driver for the other tests */
	CHECK_INT_EQ(dk_pci_bind(VM_NVME, "nvme"), 0);
}
