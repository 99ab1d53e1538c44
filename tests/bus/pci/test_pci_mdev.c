/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/bus/pci/pci_mdev.c on a fixture: the argument and sysfs
 * checks of dk_pci_mdev_open (UUID form, flags, missing mdev, device_api,
 * IOMMU group), that a failed open leaves nothing listed, dk_pci_mdev_close's
 * checks, and the device list around mdevs (found by UUID, sorted after the
 * functions, kept by a rescan, taken out by close), with a device made
 * through the internal list calls since the host has no dk_sparse to open.
 * Opening through VFIO for real is the VM suite's vm_sparse_mdev.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "bus/pci/pci_internal.h"
#include "fixture.h"
#include "tap.h"

#define UUID1 "9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b10"
#define UUID2 "0d2f8e55-11aa-4b7c-9e3d-6a5b4c3d2e1f"
#define UUID3 "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"

static struct dk_fx *g_fx;

static void setup(void)
{
	g_fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.iommu_group = 5;
	dk_fx_add(g_fx, "0000:00:03.0", NULL, &s);
	dk_fx_mdev_type(g_fx, "dk_sparse", "dk_sparse-1", "vfio-pci", 4);
	dk_fx_mdev_type(g_fx, "ccw0", "vfio_ccw-io", "vfio-ccw", 1);
	dk_fx_mdev(g_fx, "dk_sparse", "dk_sparse-1", UUID1, 12);
	dk_fx_mdev(g_fx, "dk_sparse", "dk_sparse-1", UUID2, -1);
	dk_fx_mdev(g_fx, "ccw0", "vfio_ccw-io", UUID3, 13);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(g_fx);
	p.flags = DK_INIT_NO_PROBE;
	REQUIRE_INT_EQ(dk_init(&p), 0);
}

static void teardown(void)
{
	dk_cleanup();
	dk_fx_free(g_fx);
}

DK_TEST(open_rejects_bad_arguments)
{
	setup();
	struct dk_pci_device *d = (void *)1;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_mdev_open(NULL, 0, &d), -EINVAL);
	CHECK(d == NULL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "give the mdev's UUID");
	CHECK_INT_EQ(dk_pci_mdev_open(UUID1, 0, NULL), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "NULL output pointer");
	CHECK_INT_EQ(dk_pci_mdev_open("0000:00:03.0", 0, &d), -EINVAL);
	CHECK_INT_EQ(dk_pci_mdev_open(UUID1 "0", 0, &d), -EINVAL);
	CHECK_INT_EQ(dk_pci_mdev_open("9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b1g", 0, &d), -EINVAL);
	CHECK_INT_EQ(dk_pci_mdev_open("9b1c6a3e_5f0d-4c2b-8a71-0e4f2d6c8b10", 0, &d), -EINVAL);
	CHECK_INT_EQ(dk_pci_mdev_open(UUID1, 0x40, &d), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "unknown open flags 0x40");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_pci_count(), 1);
	teardown();
}

DK_TEST(open_checks_sysfs)
{
	setup();
	struct dk_pci_device *d = NULL;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_mdev_open("11111111-2222-4333-8444-555555555555", 0, &d), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "create it first (dk_mdev_create");
	/* a vfio-ccw mdev is not a PCI device */
	CHECK_INT_EQ(dk_pci_mdev_open(UUID3, 0, &d), -ENOTSUP);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "device_api \"vfio-ccw\", not \"vfio-pci\"");
	/* no IOMMU group */
	CHECK_INT_EQ(dk_pci_mdev_open(UUID2, 0, &d), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "has no IOMMU group");
	/* an mdev of a parent that went away: no mdev_type */
	char path[4096];
	snprintf(path, sizeof(path), "%s/bus/mdev/devices/%s/mdev_type", dk_fx_root(g_fx), UUID1);
	REQUIRE_INT_EQ(unlink(path), 0);
	CHECK_INT_EQ(dk_pci_mdev_open(UUID1, 0, &d), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "mdev_type/device_api");
	dk_test_log_capture_stop();
	CHECK(d == NULL);
	CHECK_INT_EQ(dk_pci_count(), 1);
	teardown();
}

DK_TEST(open_fails_cleanly_without_vfio)
{
	setup();
	/* The sysfs checks pass; VFIO then fails on the host: no /dev/vfio/vfio,
	 * or no group 12 there. Nothing may stay listed or open. */
	struct dk_pci_device *d = NULL;
	dk_test_log_capture_start();
	int rc = dk_pci_mdev_open(UUID1, DK_PCI_VFIO_SPARSE_SPLIT, &d);
	dk_test_log_capture_stop();
	CHECK(rc < 0);
	CHECK(d == NULL);
	CHECK(dk_pci_find(UUID1) == NULL);
	CHECK_INT_EQ(dk_pci_count(), 1);
	teardown();
}

/* An mdev entry as dk_pci_mdev_open makes one, without VFIO behind it. */
static struct dk_pci_device *fake_mdev(const char *uuid)
{
	struct dk__pci_dev *d = calloc(1, sizeof(*d));
	REQUIRE(d != NULL);
	snprintf(d->name, sizeof(d->name), "%s", uuid);
	d->cfg_ops = &dk__pci_config_sysfs_ops;
	d->pub.device.name = d->name;
	d->pub.device.bus = &dk__pci_bus;
	d->pub.kind = DK_PCI_KIND_MDEV;
	d->pub.iommu_group = 12;
	d->pub.id.vendor_id = 0x1234;
	d->pub.id.device_id = 0xd5a1;
	REQUIRE_INT_EQ(dk__pci_list_add(d), 0);
	return &d->pub;
}

DK_TEST(mdevs_in_the_device_list)
{
	setup();
	struct dk_pci_device *m1 = fake_mdev(UUID1), *m2 = fake_mdev(UUID2);
	REQUIRE_INT_EQ(dk_pci_count(), 3);
	/* functions first, then mdevs by name */
	CHECK_STR_EQ(dk_pci_get(0)->device.name, "0000:00:03.0");
	CHECK(dk_pci_get(1) == m2);
	CHECK(dk_pci_get(2) == m1);
	CHECK(dk_pci_find(UUID1) == m1);
	CHECK(dk_pci_find("0000:00:03.0") != NULL);
	CHECK(dk_pci_find("00:03.0") != NULL);
	/* no config space without VFIO, and no sysfs directory to fall back on */
	uint32_t id;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_config_read(m1, &id, 4, 0), -ENODEV);
	/* opened already: not twice */
	struct dk_pci_device *again = NULL;
	CHECK_INT_EQ(dk_pci_mdev_open(UUID1, 0, &again), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is open already");
	dk_test_log_capture_stop();
	/* a rescan keeps them (the same pointers) */
	CHECK_INT_EQ(dk_pci_scan(), 3);
	CHECK(dk_pci_find(UUID1) == m1);
	CHECK(dk_pci_find(UUID2) == m2);
	CHECK(dk_pci_find("0000:00:03.0") != NULL);
	/* close takes one out */
	CHECK_INT_EQ(dk_pci_mdev_close(m1), 0);
	CHECK(dk_pci_find(UUID1) == NULL);
	CHECK_INT_EQ(dk_pci_count(), 2);
	CHECK(dk_pci_get(1) == m2);
	/* dk_cleanup frees the other (ASan checks) */
	teardown();
}

DK_TEST(close_rejects_bad_arguments)
{
	setup();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_mdev_close(NULL), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "NULL device");
	CHECK_INT_EQ(dk_pci_mdev_close(dk_pci_find("0000:00:03.0")), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "close PCI functions with dk_pci_vfio_close");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_pci_count(), 1);
	teardown();
}
