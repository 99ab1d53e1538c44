/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: the edu device (1234:11e8) through VFIO. Binds it to vfio-pci,
 * opens it with dk_pci_vfio_open, checks BAR0's region information, reads
 * and writes its registers through the mapping and through pread/pwrite
 * (forced with the internal force_rw switch), computes a factorial, reads
 * config space through the VFIO config region, checks IRQ information, sees
 * an MSI raised by the device and an INTx loopback on eventfds, resets it,
 * and checks every bad input. The first test binds edu; each test opens it
 * (the harness's dk_cleanup after each test closes it again).
 */
#include <sys/eventfd.h>
#include <time.h>

#include "bus/pci/pci_internal.h"
#include "vm_common.h"

#define EDU_ID 0x00
#define EDU_LIVE 0x04
#define EDU_FACT 0x08
#define EDU_STATUS 0x20
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64

static struct dk_pci_device *edu(void)
{
	return vm_open(VM_EDU);
}

DK_TEST(bind_and_open_edu)
{
	struct dk_pci_device *d = vm_vfio_dev(VM_EDU);
	REQUIRE_INT_EQ(dk_pci_vfio_open(d), 0);
	CHECK(dk_pci_vfio_is_open(d));
	CHECK(dk_pci_vfio_device(d) != NULL);
	CHECK_STR_EQ(dk_vfio_device_name(dk_pci_vfio_device(d)), VM_EDU);
	CHECK(dk_pci_region_count(d) >= 9); /* BAR0-5, ROM, config, VGA */
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(d, DK_PCI_REGION_VGA, &r), 0);
	CHECK_INT_EQ(r.size, 0); /* no VGA: the kernel refuses the index */
}

DK_TEST(bar0_region_info)
{
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(edu(), 0, &r), 0);
	CHECK_INT_EQ(r.size, 1 << 20);
	CHECK_INT_EQ(r.flags & (DK_PCI_REGION_READ | DK_PCI_REGION_WRITE | DK_PCI_REGION_MMAP),
		     DK_PCI_REGION_READ | DK_PCI_REGION_WRITE | DK_PCI_REGION_MMAP);
	CHECK(!(r.flags & DK_PCI_REGION_SPARSE));
	CHECK_INT_EQ(r.mode, DK_PCI_MAP_WHOLE);
	CHECK(r.base != NULL);
	REQUIRE_INT_EQ(r.nr_areas, 1);
	CHECK_INT_EQ(r.areas[0].offset, 0);
	CHECK_INT_EQ(r.areas[0].len, 1 << 20);
	CHECK(r.areas[0].addr == r.base);
	/* the offsets come from the kernel; vfio-pci puts BAR0 at 0 */
	CHECK_INT_EQ(r.fd_offset, 0);
	REQUIRE_INT_EQ(dk_pci_region_info(edu(), DK_PCI_REGION_CONFIG, &r), 0);
	CHECK_INT_EQ(r.mode, DK_PCI_MAP_NONE);
	CHECK(r.size >= 256);
	CHECK(r.fd_offset != 0);
	REQUIRE_INT_EQ(dk_pci_region_info(edu(), 1, &r), 0);
	CHECK_INT_EQ(r.size, 0); /* edu has only BAR0 */
}

static void id_and_liveness(int force_rw)
{
	struct dk__pci_dev *d = dk__pci_dev(edu());
	d->vfio->force_rw = force_rw;
	uint32_t v = 0;
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, EDU_ID, &v), 0);
	CHECK_INT_EQ(v, 0x010000ed);
	uint32_t x = force_rw ? 0x12345678u : 0xa5a50f0fu;
	CHECK_INT_EQ(dk_pci_mmio_write32(edu(), 0, EDU_LIVE, x), 0);
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, EDU_LIVE, &v), 0);
	CHECK_INT_EQ(v, ~x);
	if (force_rw) {
		/* 8 bytes across ID and liveness: vfio-pci of 6.1 splits them into 4-byte
		 * reads; 6.12's makes one 8-byte read, which edu answers with all ones
		 * below 0x80 */
		uint32_t two[2] = {0};
		CHECK_INT_EQ(dk_pci_mmio_read(edu(), 0, two, sizeof(two), EDU_ID), 8);
		if (vm_kernel_at_least(6, 12)) {
			CHECK_INT_EQ(two[0], 0xffffffffu);
			CHECK_INT_EQ(two[1], 0xffffffffu);
		} else {
			CHECK_INT_EQ(two[0], 0x010000ed);
			CHECK_INT_EQ(two[1], ~x);
		}
	}
	if (!force_rw) {
		/* edu takes 8-byte accesses from 0x80 on (DMA source address): one
		 * natural 64-bit access through the mapping (pwrite would be split
		 * into 4-byte writes by vfio-pci, which edu takes as two registers) */
		uint64_t a = 0xabcd000ull, b = 0;
		CHECK_INT_EQ(dk_pci_mmio_write64(edu(), 0, 0x80, a), 0);
		CHECK_INT_EQ(dk_pci_mmio_read64(edu(), 0, 0x80, &b), 0);
		CHECK_INT_EQ(b, a);
	}
	d->vfio->force_rw = 0;
}

DK_TEST(id_and_liveness_through_the_mapping)
{
	id_and_liveness(0);
	/* the mapping is real: read the register straight from it */
	struct dk_pci_region r;
	REQUIRE_INT_EQ(dk_pci_region_info(edu(), 0, &r), 0);
	CHECK_INT_EQ(*(volatile uint32_t *)r.base, 0x010000ed);
}

DK_TEST(id_and_liveness_through_pread_pwrite)
{
	id_and_liveness(1);
}

static void factorial(int force_rw)
{
	struct dk__pci_dev *d = dk__pci_dev(edu());
	d->vfio->force_rw = force_rw;
	REQUIRE_INT_EQ(dk_pci_mmio_write32(edu(), 0, EDU_FACT, 10), 0);
	uint32_t st = 1;
	for (int i = 0; i < 2000 && (st & 1); i++) {
		CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, EDU_STATUS, &st), 0);
		if (st & 1)
			usleep(1000);
	}
	CHECK_INT_EQ(st & 1, 0);
	uint32_t v = 0;
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, EDU_FACT, &v), 0);
	CHECK_INT_EQ(v, 3628800);
	d->vfio->force_rw = 0;
}

DK_TEST(factorial_through_the_mapping)
{
	factorial(0);
}

DK_TEST(factorial_through_pread_pwrite)
{
	factorial(1);
}

DK_TEST(config_space_through_vfio)
{
	struct dk__pci_dev *d = dk__pci_dev(edu());
	REQUIRE(d->cfg_ops != NULL);
	CHECK_STR_EQ(d->cfg_ops->name, "vfio");
	uint32_t id = 0;
	CHECK_INT_EQ(dk_pci_config_read(edu(), &id, 4, 0), 4);
	CHECK_INT_EQ(id, 0x11e81234);
	uint8_t cls[3];
	CHECK_INT_EQ(dk_pci_config_read(edu(), cls, 3, 9), 3);
	CHECK_INT_EQ(cls[2], 0x00);
	CHECK_INT_EQ(cls[1], 0xff);
	/* VFIO virtualizes the BARs: BAR0 reads back as a memory BAR */
	uint32_t bar0 = 0;
	CHECK_INT_EQ(dk_pci_config_read(edu(), &bar0, 4, 0x10), 4);
	CHECK_INT_EQ(bar0 & 1, 0);
	CHECK_INT_EQ(dk_pci_config_read(edu(), &id, 4, 4094), -EINVAL);
}

DK_TEST(irq_info)
{
	struct dk_vfio_device *v = dk_pci_vfio_device(edu());
	struct dk_vfio_device_info di;
	REQUIRE_INT_EQ(dk_vfio_device_info(v, &di), 0);
	CHECK(di.flags & DK_VFIO_DEVICE_PCI);
	CHECK(di.num_irqs >= 3);
	struct dk_vfio_irq_info ii;
	REQUIRE_INT_EQ(dk_vfio_irq_info(v, DK_VFIO_IRQ_INTX, &ii), 0);
	CHECK_INT_EQ(ii.count, 1);
	CHECK(ii.flags & DK_VFIO_IRQ_EVENTFD);
	CHECK(ii.flags & DK_VFIO_IRQ_MASKABLE);
	CHECK(ii.flags & DK_VFIO_IRQ_AUTOMASKED);
	REQUIRE_INT_EQ(dk_vfio_irq_info(v, DK_VFIO_IRQ_MSI, &ii), 0);
	CHECK_INT_EQ(ii.count, 1);
	CHECK(ii.flags & DK_VFIO_IRQ_EVENTFD);
	REQUIRE_INT_EQ(dk_vfio_irq_info(v, DK_VFIO_IRQ_MSIX, &ii), 0);
	CHECK_INT_EQ(ii.count, 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_irq_info(v, di.num_irqs, &ii), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "out of range");
	dk_test_log_capture_stop();
}

DK_TEST(msi_raised_by_the_device_reaches_the_eventfd)
{
	struct dk_vfio_device *v = dk_pci_vfio_device(edu());
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	REQUIRE(efd >= 0);
	/* MSI is a memory write by the device: bus mastering on (config through VFIO) */
	uint16_t cmd = 0;
	REQUIRE_INT_EQ(dk_pci_config_read(edu(), &cmd, 2, 4), 2);
	cmd |= 0x4;
	REQUIRE_INT_EQ(dk_pci_config_write(edu(), &cmd, 2, 4), 2);
	REQUIRE_INT_EQ(dk_vfio_irq_enable(v, DK_VFIO_IRQ_MSI, &efd, 1), 0);
	CHECK_INT_EQ(vm_wait_eventfd(efd, 0), 0); /* nothing yet */
	CHECK_INT_EQ(dk_pci_mmio_write32(edu(), 0, EDU_IRQ_RAISE, 0x5), 0);
	CHECK(vm_wait_eventfd(efd, 3000) >= 1);
	uint32_t st = 0;
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, EDU_IRQ_STATUS, &st), 0);
	CHECK_INT_EQ(st, 0x5);
	CHECK_INT_EQ(dk_pci_mmio_write32(edu(), 0, EDU_IRQ_ACK, 0x5), 0);
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, EDU_IRQ_STATUS, &st), 0);
	CHECK_INT_EQ(st, 0);
	/* the loopback trigger works on MSI too */
	CHECK_INT_EQ(dk_vfio_irq_trigger(v, DK_VFIO_IRQ_MSI, 0), 0);
	CHECK(vm_wait_eventfd(efd, 1000) >= 1);
	/* more vectors than the device has */
	int two[2] = {efd, efd};
	CHECK_INT_EQ(dk_vfio_irq_enable(v, DK_VFIO_IRQ_MSI, two, 2), -EINVAL);
	CHECK_INT_EQ(dk_vfio_irq_disable(v, DK_VFIO_IRQ_MSI), 0);
	CHECK_INT_EQ(dk_vfio_irq_enable(v, DK_VFIO_IRQ_MSIX, &efd, 1), -EINVAL);
	close(efd);
}

DK_TEST(intx_trigger_and_unmask)
{
	struct dk_vfio_device *v = dk_pci_vfio_device(edu());
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	REQUIRE(efd >= 0);
	REQUIRE_INT_EQ(dk_vfio_irq_enable(v, DK_VFIO_IRQ_INTX, &efd, 1), 0);
	CHECK_INT_EQ(dk_vfio_irq_trigger(v, DK_VFIO_IRQ_INTX, 0), 0);
	CHECK(vm_wait_eventfd(efd, 1000) >= 1);
	CHECK_INT_EQ(dk_vfio_irq_unmask(v, DK_VFIO_IRQ_INTX, 0), 0);
	/* the device's own INTx (MSI is off now) */
	CHECK_INT_EQ(dk_pci_mmio_write32(edu(), 0, EDU_IRQ_RAISE, 0x1), 0);
	CHECK(vm_wait_eventfd(efd, 3000) >= 1);
	CHECK_INT_EQ(dk_pci_mmio_write32(edu(), 0, EDU_IRQ_ACK, 0x1), 0);
	CHECK_INT_EQ(dk_vfio_irq_unmask(v, DK_VFIO_IRQ_INTX, 0), 0);
	CHECK_INT_EQ(dk_vfio_irq_unmask(v, DK_VFIO_IRQ_INTX, 1), -EINVAL);
	CHECK_INT_EQ(dk_vfio_irq_disable(v, DK_VFIO_IRQ_INTX), 0);
	close(efd);
}

DK_TEST(reset)
{
	struct dk_vfio_device *v = dk_pci_vfio_device(edu());
	struct dk_vfio_device_info di;
	REQUIRE_INT_EQ(dk_vfio_device_info(v, &di), 0);
	dk_test_log_capture_start();
	int rc = dk_vfio_device_reset(v);
	if (di.flags & DK_VFIO_DEVICE_RESET) {
		CHECK_INT_EQ(rc, 0);
	} else {
		CHECK_INT_EQ(rc, -ENOTSUP);
		CHECK_STR_CONTAINS(dk_test_log_captured(), "does not support reset");
	}
	dk_test_log_capture_stop();
	printf("# reset: device flags 0x%x, rc %d\n", di.flags, rc);
	uint32_t id = 0;
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, EDU_ID, &id), 0);
	CHECK_INT_EQ(id, 0x010000ed);
}

DK_TEST(bad_inputs)
{
	struct dk_pci_region r;
	uint32_t v;
	uint8_t big[16];
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_region_info(edu(), 200, &r), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "region 200 out of range");
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, (1 << 20) - 2, &v), -ERANGE);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "beyond BAR0");
	CHECK_INT_EQ(dk_pci_mmio_read(edu(), 0, big, sizeof(big), UINT64_MAX - 4), -ERANGE);
	CHECK_INT_EQ(dk_pci_mmio_write32(edu(), 0, 1 << 20, 0), -ERANGE);
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 1, 0, &v), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "BAR1 is not implemented");
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), DK_PCI_REGION_CONFIG, 0, &v), -EINVAL);
	CHECK_INT_EQ(dk_pci_mmio_read32(edu(), 0, 0, NULL), -EINVAL);
	CHECK_INT_EQ(dk_pci_vfio_open_flags(edu(), DK_PCI_VFIO_SPARSE_SPLIT), -EBUSY);
	CHECK_INT_EQ(dk_pci_vfio_open_flags(edu(), 0x80), -EINVAL);
	/* the NVMe is on the kernel's nvme driver */
	struct dk_pci_device *nvme = dk_pci_find(VM_NVME);
	REQUIRE(nvme != NULL);
	CHECK_INT_EQ(dk_pci_vfio_open(nvme), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "bind it: dmakit bind " VM_NVME " vfio-pci");
	CHECK_INT_EQ(dk_pci_mmio_read32(nvme, 0, 0, &v), -ENODEV);
	CHECK_INT_EQ(dk_pci_region_info(nvme, 0, &r), -ENODEV);
	CHECK_INT_EQ(dk_pci_vfio_close(nvme), -ENODEV);
	/* its group has no /dev/vfio node while nothing in it is on vfio-pci */
	errno = 0;
	CHECK(dk_vfio_group_open(NULL, nvme->iommu_group) == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "bind a device of IOMMU group");
	/* a device name the group does not have (it has no cdev: the container path,
	 * whose group open is refused while edu is bound through its cdev) */
	errno = 0;
	CHECK(dk_vfio_device_open(NULL, edu()->iommu_group, "0000:09:00.0") == NULL);
	int e = errno;
	if (vm_backend(VM_EDU) == DK_VFIO_BACKEND_IOMMUFD)
		CHECK_INT_EQ(e, EBUSY);
	else
		CHECK_INT_EQ(e, ENODEV);
	/* edu's group is in the default container: not in another one */
	struct dk_vfio_container *c2 = dk_vfio_container_create();
	REQUIRE(c2 != NULL);
	errno = 0;
	CHECK(dk_vfio_group_open(c2, edu()->iommu_group) == NULL);
	CHECK_INT_EQ(errno, EBUSY);
	CHECK_INT_EQ(dk_vfio_container_destroy(c2), 0);
	CHECK_INT_EQ(dk_vfio_container_destroy(dk_vfio_container_default()), -EINVAL);
	dk_test_log_capture_stop();
}

DK_TEST(reopen_counts_and_close)
{
	struct dk_pci_device *d = edu();
	struct dk__pci_dev *in = dk__pci_dev(d);
	CHECK_STR_EQ(in->cfg_ops->name, "vfio");
	CHECK_INT_EQ(dk_pci_vfio_open(d), 0); /* second reference */
	CHECK_INT_EQ(dk_pci_vfio_close(d), 0);
	CHECK(dk_pci_vfio_is_open(d));
	CHECK_INT_EQ(dk_pci_vfio_close(d), 0);
	CHECK(!dk_pci_vfio_is_open(d));
	CHECK_STR_EQ(in->cfg_ops->name, "sysfs");
	uint32_t id = 0;
	CHECK_INT_EQ(dk_pci_config_read(d, &id, 4, 0), 4);
	CHECK_INT_EQ(id, 0x11e81234);
	CHECK_INT_EQ(dk_pci_vfio_close(d), -ENODEV);
	/* the group went back: it can join a new container now */
	struct dk_vfio_container *c2 = dk_vfio_container_create();
	REQUIRE(c2 != NULL);
	struct dk_vfio_group *g = dk_vfio_group_open(c2, d->iommu_group);
	CHECK(g != NULL);
	CHECK_INT_EQ(dk_vfio_container_destroy(c2), -EBUSY);
	dk_vfio_group_close(g);
	CHECK_INT_EQ(dk_vfio_container_destroy(c2), 0);
}
