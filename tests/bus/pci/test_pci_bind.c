/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/bus/pci/pci_bind.c on a fixture. The fixture has no kernel
 * behind it, so a bind cannot really happen: the tests check the writes
 * (driver_override, unbind, drivers_probe), the error paths, and that a bind
 * the kernel did not carry out is reported as -EIO with the override undone
 * only on the earlier failures. Real binding is exercised in the VM suite.
 */
#include <errno.h>
#include <string.h>

#include <dmakit/dmakit.h>

#include "core/sysfs.h"
#include "fixture.h"
#include "tap.h"

static struct dk_fx *g_fx;
static struct dk_fx_dev *g_nvme, *g_port, *g_nic;

static void setup(void)
{
	g_fx = dk_fx_new();
	struct dk_fx_spec port = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	port.iommu_group = 3;
	g_port = dk_fx_add(g_fx, "0000:00:1c.0", NULL, &port);
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.driver = "nvme";
	s.iommu_group = 3;
	g_nvme = dk_fx_add(g_fx, "0000:01:00.0", g_port, &s);
	s.driver = "ixgbe";
	s.vendor = 0x8086;
	s.class_code = 0x020000;
	g_nic = dk_fx_add(g_fx, "0000:01:00.1", g_port, &s);
	dk_fx_driver(g_fx, "vfio-pci");
	dk__sysfs_set_root(dk_fx_root(g_fx));
}

static void teardown(void)
{
	dk__sysfs_set_root(NULL);
	dk_fx_free(g_fx);
}

static const char *attr(struct dk_fx_dev *d, const char *name)
{
	static char buf[256];
	dk_fx_read(d, name, buf, sizeof(buf));
	return buf;
}

static char *root_file(const char *rel)
{
	static char buf[256];
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dk_fx_root(g_fx), rel);
	FILE *f = fopen(path, "r");
	buf[0] = '\0';
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

DK_TEST(bind_writes_override_unbind_and_probe)
{
	setup();
	dk_test_log_capture_start();
	/* The fixture's kernel never binds, so the result is -EIO, after all writes. */
	CHECK_INT_EQ(dk_pci_bind("01:00.0", NULL), -EIO);
	CHECK_STR_EQ(root_file("bus/pci/drivers/nvme/unbind"), "0000:01:00.0");
	CHECK_STR_EQ(root_file("bus/pci/drivers_probe"), "0000:01:00.0");
	/* Undone: override cleared. The fixture's driver link never went away,
	 * so there is nothing to give back to nvme. */
	CHECK_STR_EQ(attr(g_nvme, "driver_override"), "\n");
	CHECK_STR_EQ(root_file("bus/pci/drivers/nvme/bind"), "");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "did not bind it to vfio-pci");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dmesg");
	teardown();
}

DK_TEST(failed_bind_of_unbound_device_clears_override)
{
	setup();
	/* (Giving a device back to its old driver needs a kernel that really
	 * unbinds: the VM suite covers it.) */
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.driver = NULL;
	s.iommu_group = 3;
	struct dk_fx_dev *plain = dk_fx_add(g_fx, "0000:01:00.2", g_port, &s);
	CHECK_INT_EQ(dk_pci_bind("0000:01:00.2", "vfio-pci"), -EIO);
	/* It had no driver, so nothing is offered back. */
	CHECK_STR_EQ(root_file("bus/pci/drivers/nvme/bind"), "");
	CHECK_STR_EQ(attr(plain, "driver_override"), "\n");
	teardown();
}

DK_TEST(bind_to_driver_not_loaded)
{
	setup();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_bind("0000:01:00.0", "uio_pci_generic"), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "run `modprobe uio_pci_generic`");
	/* Nothing written. */
	CHECK_STR_EQ(attr(g_nvme, "driver_override"), "(null)\n");
	teardown();
}

DK_TEST(bind_bad_input)
{
	setup();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_bind("0000:09:00.0", NULL), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no PCI device 0000:09:00.0");
	CHECK_INT_EQ(dk_pci_bind("nonsense", NULL), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "use DDDD:BB:DD.F");
	CHECK_INT_EQ(dk_pci_bind(NULL, NULL), -EINVAL);
	CHECK_INT_EQ(dk_pci_bind("0000:01:00.0", "../evil"), -EINVAL);
	CHECK_INT_EQ(dk_pci_bind("0000:01:00.0", ""), -EINVAL);
	CHECK_INT_EQ(dk_pci_unbind("0000:09:00.0"), -ENOENT);
	teardown();
}

DK_TEST(bind_already_bound_is_success)
{
	setup();
	CHECK_INT_EQ(dk_pci_bind("0000:01:00.0", "nvme"), 0);
	CHECK_STR_EQ(attr(g_nvme, "driver_override"), "nvme");
	CHECK_STR_EQ(root_file("bus/pci/drivers/nvme/unbind"), "");
	teardown();
}

DK_TEST(unbind_writes_unbind_and_clears_override)
{
	setup();
	dk_fx_write_str(g_nvme, "driver_override", "vfio-pci\n");
	CHECK_INT_EQ(dk_pci_unbind("0000:01:00.0"), 0);
	CHECK_STR_EQ(root_file("bus/pci/drivers/nvme/unbind"), "0000:01:00.0");
	CHECK_STR_EQ(attr(g_nvme, "driver_override"), "\n");
	teardown();
}

struct blockers {
	int n;
	char names[4][32];
	char drivers[4][32];
};

static void collect(const char *member, const char *driver, void *arg)
{
	struct blockers *b = arg;
	if (b->n < 4) {
		snprintf(b->names[b->n], sizeof(b->names[0]), "%s", member);
		snprintf(b->drivers[b->n], sizeof(b->drivers[0]), "%s", driver);
	}
	b->n++;
}

DK_TEST(group_blockers_skip_bridges_and_vfio)
{
	setup();
	struct blockers b = { 0 };
	/* Group 3: root port (pcieport, a bridge: fine), nvme (blocks), ixgbe (blocks). */
	CHECK_INT_EQ(dk_pci_group_blockers("0000:01:00.0", collect, &b), 2);
	CHECK_INT_EQ(b.n, 2);
	int saw_nic = 0, saw_nvme = 0;
	for (int i = 0; i < 2; i++) {
		saw_nic |= strcmp(b.names[i], "0000:01:00.1") == 0 && strcmp(b.drivers[i], "ixgbe") == 0;
		saw_nvme |= strcmp(b.names[i], "0000:01:00.0") == 0 && strcmp(b.drivers[i], "nvme") == 0;
	}
	CHECK(saw_nic && saw_nvme);
	teardown();
}

DK_TEST(group_blockers_name_a_bridge_on_another_driver)
{
	setup();
	struct dk_fx_spec port = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	port.iommu_group = 3;
	port.driver = "switchtec";
	dk_fx_add(g_fx, "0000:00:1d.0", NULL, &port);
	struct blockers b = { 0 };
	/* Only pcieport exempts a bridge (vfio/vfio_viable.h); the listing is in name order. */
	CHECK_INT_EQ(dk_pci_group_blockers("0000:01:00.0", collect, &b), 3);
	CHECK_STR_EQ(b.names[0], "0000:00:1d.0");
	CHECK_STR_EQ(b.drivers[0], "switchtec");
	teardown();
}

DK_TEST(group_blockers_without_group)
{
	setup();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	dk_fx_add(g_fx, "0000:00:05.0", NULL, &s);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_group_blockers("0000:00:05.0", NULL, NULL), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "intel_iommu=on");
	teardown();
}
