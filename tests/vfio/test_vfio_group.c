/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/vfio/vfio_group.c that need no /dev/vfio: the viability
 * message built from a fixture's /sys/kernel/iommu_groups (members bound to
 * other drivers are named with the fix; vfio, pci-stub, unbound and pcieport
 * members are not), and the argument checks of group and device open.
 * Opening real groups is covered by the VM suite.
 */
#include <errno.h>
#include <string.h>

#include <dmakit/dmakit.h>

#include "core/sysfs.h"
#include "fixture.h"
#include "tap.h"
#include "vfio/vfio_internal.h"

static struct dk_fx *g_fx;

static void setup(void)
{
	g_fx = dk_fx_new();
	struct dk_fx_spec port = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	port.iommu_group = 7;
	struct dk_fx_dev *p = dk_fx_add(g_fx, "0000:00:1c.0", NULL, &port);
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.iommu_group = 7;
	s.driver = "vfio-pci";
	dk_fx_add(g_fx, "0000:04:00.0", p, &s);
	s.driver = "nvme";
	dk_fx_add(g_fx, "0000:04:00.1", p, &s);
	s.driver = "pci-stub";
	dk_fx_add(g_fx, "0000:04:00.2", p, &s);
	s.driver = NULL;
	dk_fx_add(g_fx, "0000:04:00.3", p, &s);
	s.driver = "ixgbe";
	dk_fx_add(g_fx, "0000:04:00.4", p, &s);
	s.driver = "vfio-pci";
	s.iommu_group = 8;
	dk_fx_add(g_fx, "0000:05:00.0", NULL, &s);
	dk__sysfs_set_root(dk_fx_root(g_fx));
}

static void teardown(void)
{
	dk__sysfs_set_root(NULL);
	dk_fx_free(g_fx);
}

DK_TEST(blockers_named_with_the_fix)
{
	setup();
	char msg[1024];
	int n = dk__vfio_group_blockers(7, msg, sizeof(msg));
	CHECK_INT_EQ(n, 2);
	CHECK_STR_EQ(msg, "unbind 0000:04:00.1 from nvme or bind it to vfio-pci (dmakit bind 0000:04:00.1); "
			  "unbind 0000:04:00.4 from ixgbe or bind it to vfio-pci (dmakit bind 0000:04:00.4)");
	teardown();
}

DK_TEST(bridge_on_another_driver_is_named)
{
	setup();
	struct dk_fx_spec port = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	port.iommu_group = 8;
	port.driver = "switchtec";
	dk_fx_add(g_fx, "0000:00:1d.0", NULL, &port);
	char msg[256];
	CHECK_INT_EQ(dk__vfio_group_blockers(8, msg, sizeof(msg)), 1);
	CHECK_STR_EQ(msg, "unbind 0000:00:1d.0 from switchtec or bind it to vfio-pci (dmakit bind 0000:00:1d.0)");
	teardown();
}

DK_TEST(viable_group_has_no_blockers)
{
	setup();
	char msg[64] = "x";
	CHECK_INT_EQ(dk__vfio_group_blockers(8, msg, sizeof(msg)), 0);
	CHECK_STR_EQ(msg, "");
	CHECK_INT_EQ(dk__vfio_group_blockers(99, msg, sizeof(msg)), -ENOENT);
	/* the count stays right when the buffer is too small */
	CHECK_INT_EQ(dk__vfio_group_blockers(7, msg, 10), 2);
	CHECK_INT_EQ(dk__vfio_group_blockers(7, NULL, 0), 2);
	teardown();
}

DK_TEST(bad_arguments)
{
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_vfio_group_open(NULL, -1) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no IOMMU group");
	errno = 0;
	CHECK(dk_vfio_device_open(NULL, 3, NULL) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	errno = 0;
	CHECK(dk_vfio_device_open(NULL, 3, "") == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	char longname[80];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	errno = 0;
	CHECK(dk_vfio_device_open(NULL, 3, longname) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "give the PCI address or mdev UUID");
	dk_test_log_capture_stop();
}

DK_TEST(pci_open_refuses_devices_not_on_vfio)
{
	setup();
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(g_fx);
	p.flags = DK_INIT_NO_PROBE;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	struct dk_pci_device *d = dk_pci_find("0000:04:00.1");
	REQUIRE(d != NULL);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_vfio_open(d), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(),
			   "0000:04:00.1 is bound to nvme, not to vfio-pci: bind it: dmakit bind 0000:04:00.1 vfio-pci");
	CHECK_INT_EQ(dk_pci_vfio_open(dk_pci_find("0000:04:00.3")), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "bound to no driver");
	CHECK(!dk_pci_vfio_is_open(d));
	CHECK(dk_pci_vfio_device(d) == NULL);
	CHECK_INT_EQ(dk_pci_vfio_close(d), -ENODEV);
	CHECK_INT_EQ(dk_pci_vfio_open(NULL), -EINVAL);
	CHECK_INT_EQ(dk_pci_vfio_open_flags(d, 0x100), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "unknown VFIO open flags 0x100");
	dk_test_log_capture_stop();
	/* config access still goes through sysfs */
	uint16_t vendor = 0;
	CHECK_INT_EQ(dk_pci_config_read(d, &vendor, 2, 0), 2);
	CHECK_INT_EQ(vendor, 0x1b36);
	dk_cleanup();
	teardown();
}
