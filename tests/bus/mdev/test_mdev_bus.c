/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for the mdev bus (src/bus/mdev/mdev_scan.c, mdev_bus.c,
 * mdev_vfio_pci.c) on a fixture: parents, types (name or description
 * missing, no instance left), instances, a vfio-ccw type listed and not
 * probed, drivers by device_api, a vfio-pci instance whose VFIO open fails
 * (the host has no dk_sparse: nothing half-plugged in the PCI bus), an
 * instance that vanishes between scan and probe, a parent removed,
 * malformed UUIDs, the rescan, and the lifecycle's errno mapping (a
 * fixture's create file cannot answer like the kernel: the mapping
 * functions are called directly).
 */
#include <errno.h>
#include <string.h>

#include <dmakit/dmakit.h>

#include "bus/mdev/mdev_internal.h"
#include "core/sysfs.h"
#include "fixture.h"
#include "tap.h"

#define UUID1 "9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b10" /* dk_sparse-1, vfio-pci */
#define UUID2 "0a1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b11" /* dk_sparse-1, no group */
#define UUID3 "7e57a3b2-1c2d-4e5f-8a9b-0c1d2e3f4a5b" /* vfio_ccw-io, vfio-ccw */
#define UUID4 "11111111-2222-4333-8444-555555555555" /* added later */

static struct dk_fx *g_fx;

static void build(void)
{
	g_fx = dk_fx_new();
	dk_fx_mdev_type(g_fx, "dk_sparse", "dk_sparse-1", "vfio-pci", 4);
	dk_fx_mdev_type(g_fx, "dk_sparse", "dk_sparse-2", "vfio-pci", 0);
	dk_fx_mdev_type(g_fx, "ccw0", "vfio_ccw-io", "vfio-ccw", 1);
	dk_fx_write_rel(g_fx, dk_fx_mdev_type_file("dk_sparse", "dk_sparse-1", "description"),
			"sparse BAR\ntest device\n");
	dk_fx_remove_rel(g_fx, dk_fx_mdev_type_file("dk_sparse", "dk_sparse-2", "name"));
	dk_fx_mdev(g_fx, "dk_sparse", "dk_sparse-1", UUID1, 12);
	dk_fx_mdev(g_fx, "dk_sparse", "dk_sparse-1", UUID2, -1);
	dk_fx_mdev(g_fx, "ccw0", "vfio_ccw-io", UUID3, 13);
}

static void start(unsigned int flags)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(g_fx);
	p.flags = flags | DK_INIT_IN_MEMORY;
	p.iova_mode = DK_IOVA_MODE_VA;
	REQUIRE_INT_EQ(dk_init(&p), 0);
}

static void teardown(void)
{
	dk_cleanup();
	dk_fx_free(g_fx);
}

/* A driver for vfio-ccw instances that counts its calls. */
static int g_probes, g_removes, g_decline;

static int ccw_probe(struct dk_mdev_driver *drv, struct dk_mdev_device *dev)
{
	(void)drv;
	(void)dev;
	if (g_decline)
		return -ENODEV;
	g_probes++;
	return 0;
}

static int ccw_remove(struct dk_mdev_device *dev)
{
	(void)dev;
	g_removes++;
	return 0;
}

static struct dk_mdev_driver g_ccw = {
    .driver = {.name = "ccw_test"},
    .device_api = "vfio-ccw",
    .probe = ccw_probe,
    .remove = ccw_remove,
};

DK_TEST(scan_lists_parents_types_and_instances)
{
	build();
	start(DK_INIT_NO_PROBE);
	REQUIRE_INT_EQ(dk_mdev_parent_count(), 2);
	const struct dk_mdev_parent *ccw = dk_mdev_parent_get(0), *sp = dk_mdev_parent_get(1);
	CHECK_STR_EQ(ccw->name, "ccw0"); /* sorted by name */
	CHECK_STR_EQ(sp->name, "dk_sparse");
	CHECK(dk_mdev_parent_get(2) == NULL && errno == ENOENT);
	CHECK(dk_mdev_parent_find("dk_sparse") == sp);
	CHECK(dk_mdev_parent_find("nope") == NULL && errno == ENOENT);
	REQUIRE_INT_EQ(sp->ntypes, 2);
	const struct dk_mdev_type *t1 = &sp->types[0], *t2 = &sp->types[1];
	CHECK_STR_EQ(t1->id, "dk_sparse-1");
	CHECK_STR_EQ(t1->name, "fixture type");
	CHECK_INT_EQ(t1->has_name, 1);
	CHECK_STR_EQ(t1->description, "sparse BAR, test device"); /* as mdevctl shows it */
	CHECK_STR_EQ(t1->device_api, "vfio-pci");
	CHECK_INT_EQ(t1->available_instances, 4);
	CHECK_INT_EQ(t1->instances, 2);
	CHECK(t1->parent == sp);
	/* no name file: the directory name stands in; no description */
	CHECK_STR_EQ(t2->name, "dk_sparse-2");
	CHECK_INT_EQ(t2->has_name, 0);
	CHECK_STR_EQ(t2->description, "");
	CHECK_INT_EQ(t2->available_instances, 0);
	CHECK_INT_EQ(t2->instances, 0);
	CHECK(dk_mdev_type_find(sp, "dk_sparse-2") == t2);
	CHECK(dk_mdev_type_find(sp, "dk_sparse-9") == NULL && errno == ENOENT);
	CHECK(dk_mdev_type_find(NULL, "x") == NULL && errno == EINVAL);

	REQUIRE_INT_EQ(dk_mdev_count(), 3);
	struct dk_mdev_device *m3 = dk_mdev_get(0), *m2 = dk_mdev_get(1), *m1 = dk_mdev_get(2);
	CHECK_STR_EQ(m3->uuid, UUID3); /* by parent, then UUID */
	CHECK_STR_EQ(m2->uuid, UUID2);
	CHECK_STR_EQ(m1->uuid, UUID1);
	CHECK_STR_EQ(m1->device.name, UUID1);
	CHECK_STR_EQ(m1->device.bus->name, "mdev");
	CHECK_STR_EQ(m1->parent, "dk_sparse");
	CHECK_STR_EQ(m1->type_id, "dk_sparse-1");
	CHECK_STR_EQ(m1->device_api, "vfio-pci");
	CHECK(m1->type == t1);
	CHECK_INT_EQ(m1->iommu_group, 12);
	CHECK_INT_EQ(m2->iommu_group, -1);
	CHECK_STR_EQ(m3->device_api, "vfio-ccw");
	CHECK(m1->driver == NULL && m1->pci == NULL);
	CHECK(dk_mdev_find("9B1C6A3E-5F0D-4C2B-8A71-0E4F2D6C8B10") == m1);
	CHECK(dk_bus_find_device(NULL, dk_dev_cmp_name, UUID3) == &m3->device);
	teardown();
}

DK_TEST(vfio_ccw_is_listed_and_not_probed)
{
	build();
	dk_test_log_capture_start();
	start(0);
	CHECK_STR_CONTAINS(dk_test_log_captured(),
			   "device_api \"vfio-ccw\" has no dmakit driver: listed, not probed");
	dk_test_log_capture_stop();
	struct dk_mdev_device *m3 = dk_mdev_find(UUID3);
	REQUIRE(m3 != NULL);
	CHECK(m3->driver == NULL && m3->device.driver == NULL);
	teardown();
}

DK_TEST(a_driver_probes_by_device_api)
{
	build();
	g_probes = g_removes = g_decline = 0;
	REQUIRE_INT_EQ(dk_mdev_driver_register(&g_ccw), 0);
	CHECK_INT_EQ(dk_mdev_driver_register(&g_ccw), -EEXIST);
	struct dk_mdev_driver bad = {.driver = {.name = "bad"}, .probe = ccw_probe};
	CHECK_INT_EQ(dk_mdev_driver_register(&bad), -EINVAL); /* no device_api */
	start(0);
	CHECK_INT_EQ(g_probes, 1); /* the ccw instance only */
	struct dk_mdev_device *m3 = dk_mdev_find(UUID3);
	CHECK(m3->driver == &g_ccw);
	CHECK(m3->device.driver == &g_ccw.driver);
	CHECK(dk_mdev_find(UUID1)->driver == NULL);
	/* unregister removes it from the instance */
	CHECK_INT_EQ(dk_mdev_driver_unregister(&g_ccw), 0);
	CHECK_INT_EQ(g_removes, 1);
	CHECK(m3->driver == NULL);
	CHECK_INT_EQ(dk_mdev_driver_unregister(&g_ccw), -ENOENT);
	/* registered again: dk_cleanup removes it */
	REQUIRE_INT_EQ(dk_mdev_driver_register(&g_ccw), 0);
	CHECK_INT_EQ(dk_mdev_scan(), 3); /* the rescan probes the unprobed */
	CHECK_INT_EQ(g_probes, 2);
	teardown();
	CHECK_INT_EQ(g_removes, 2);
	CHECK_INT_EQ(dk_mdev_driver_unregister(&g_ccw), 0);
}

DK_TEST(vfio_pci_instance_whose_vfio_open_fails_stays_out_of_the_pci_bus)
{
	build();
	start(DK_INIT_NO_PROBE);
	unsigned int npci = dk_pci_count();
	struct dk_mdev_device *m1 = dk_mdev_find(UUID1);
	dk_test_log_capture_start();
	/* the host has no /dev/vfio/12: the open fails, nothing stays */
	CHECK(dk_bus_find_by_name("mdev")->plug(&m1->device) < 0);
	dk_test_log_capture_stop();
	CHECK(m1->driver == NULL && m1->pci == NULL);
	CHECK_INT_EQ(dk_pci_count(), npci);
	CHECK(dk_pci_find(UUID1) == NULL);
	/* no IOMMU group: refused before VFIO */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_bus_find_by_name("mdev")->plug(&dk_mdev_find(UUID2)->device), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "has no IOMMU group");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_pci_count(), npci);
	teardown();
}

DK_TEST(an_instance_that_vanishes_between_scan_and_probe)
{
	build();
	start(DK_INIT_NO_PROBE);
	struct dk_mdev_device *m1 = dk_mdev_find(UUID1);
	REQUIRE(m1 != NULL);
	dk_fx_mdev_remove(g_fx, "dk_sparse", "dk_sparse-1", UUID1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_bus_find_by_name("mdev")->plug(&m1->device), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "create it first");
	dk_test_log_capture_stop();
	CHECK(m1->driver == NULL);
	CHECK(dk_pci_find(UUID1) == NULL);
	/* the rescan drops it */
	CHECK_INT_EQ(dk_mdev_scan(), 2);
	CHECK(dk_mdev_find(UUID1) == NULL && errno == ENOENT);
	CHECK_INT_EQ(dk_mdev_parent_find("dk_sparse")->types[0].instances, 1);
	/* only its directory gone, the link dangling: skipped with a warning */
	dk_fx_mdev_vanish(g_fx, "dk_sparse", UUID2);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_scan(), 1);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "it vanished: skipped");
	dk_test_log_capture_stop();
	teardown();
}

DK_TEST(a_parent_removed)
{
	build();
	g_probes = g_removes = g_decline = 0;
	REQUIRE_INT_EQ(dk_mdev_driver_register(&g_ccw), 0);
	start(0);
	CHECK_INT_EQ(g_probes, 1);
	dk_fx_mdev_parent_remove(g_fx, "ccw0");
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_scan(), 2);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(g_removes, 1); /* its instance was unplugged */
	CHECK_INT_EQ(dk_mdev_parent_count(), 1);
	CHECK(dk_mdev_parent_find("ccw0") == NULL);
	CHECK(dk_mdev_find(UUID3) == NULL);
	/* creating on it now: -ENOENT naming the parents left */
	char u[DK_MDEV_UUID_LEN];
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_create("ccw0", "vfio_ccw-io", NULL, u), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "(parents: dk_sparse)");
	dk_test_log_capture_stop();
	teardown();
	CHECK_INT_EQ(dk_mdev_driver_unregister(&g_ccw), 0);
}

DK_TEST(malformed_uuids)
{
	build();
	dk_fx_remove_rel(g_fx, "bus/mdev/devices/" UUID2);
	dk_fx_write_rel(g_fx, "bus/mdev/devices/not-a-uuid", "");
	dk_test_log_capture_start();
	start(DK_INIT_NO_PROBE);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not-a-uuid: not a UUID: ignored");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_mdev_count(), 2);
	CHECK(dk_mdev_find("not-a-uuid") == NULL && errno == EINVAL);
	CHECK(dk_mdev_find(NULL) == NULL && errno == EINVAL);
	CHECK(dk_mdev_find(UUID1 "0") == NULL && errno == EINVAL);
	char out[DK_MDEV_UUID_LEN];
	struct dk_bus *b = dk_bus_find_by_name("mdev");
	CHECK_INT_EQ(b->parse_name("9B1C6A3E-5F0D-4C2B-8A71-0E4F2D6C8B10", out, sizeof(out)), 0);
	CHECK_STR_EQ(out, UUID1);
	CHECK_INT_EQ(b->parse_name("0000:03:00.0", out, sizeof(out)), -EINVAL);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_create("dk_sparse", "dk_sparse-1", "9b1c6a3e-5f0d", out), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is not a UUID");
	CHECK_STR_EQ(out, "");
	CHECK_INT_EQ(dk_mdev_remove("9b1c6a3e_5f0d-4c2b-8a71-0e4f2d6c8b10"), -EINVAL);
	dk_test_log_capture_stop();
	char buf[64];
	dk_fx_read_rel(g_fx, dk_fx_mdev_type_file("dk_sparse", "dk_sparse-1", "create"), buf,
		       sizeof(buf));
	CHECK_STR_EQ(buf, ""); /* nothing written */
	teardown();
}

DK_TEST(rescan_picks_up_created_and_removed_instances)
{
	build();
	g_probes = g_removes = g_decline = 0;
	REQUIRE_INT_EQ(dk_mdev_driver_register(&g_ccw), 0);
	start(0);
	struct dk_mdev_device *m1 = dk_mdev_find(UUID1), *m3 = dk_mdev_find(UUID3);
	CHECK_INT_EQ(g_probes, 1);
	dk_fx_mdev(g_fx, "ccw0", "vfio_ccw-io", UUID4, 14);
	CHECK_INT_EQ(dk_mdev_scan(), 4);
	CHECK_INT_EQ(g_probes, 2); /* the new one is probed */
	CHECK(dk_mdev_find(UUID1) == m1); /* kept instances stay where they are */
	CHECK(dk_mdev_find(UUID3) == m3 && m3->driver == &g_ccw);
	struct dk_mdev_device *m4 = dk_mdev_find(UUID4);
	REQUIRE(m4 != NULL);
	CHECK(m4->driver == &g_ccw);
	CHECK_INT_EQ(m4->iommu_group, 14);
	CHECK(m4->type == dk_mdev_type_find(dk_mdev_parent_find("ccw0"), "vfio_ccw-io"));
	CHECK(m3->type == m4->type); /* kept instances point into the new type table */
	dk_fx_mdev_remove(g_fx, "ccw0", "vfio_ccw-io", UUID3);
	CHECK_INT_EQ(dk_mdev_scan(), 3);
	CHECK_INT_EQ(g_removes, 1);
	CHECK(dk_mdev_find(UUID3) == NULL);
	teardown();
	CHECK_INT_EQ(g_removes, 2);
	CHECK_INT_EQ(dk_mdev_driver_unregister(&g_ccw), 0);
}

DK_TEST(no_instance_left_is_asked_of_the_kernel)
{
	build();
	start(DK_INIT_NO_PROBE);
	char u[DK_MDEV_UUID_LEN], buf[64];
	/* available_instances 0 is advisory: written anyway */
	REQUIRE_INT_EQ(dk_mdev_create("dk_sparse", "dk_sparse-2", NULL, u), 0);
	dk_fx_read_rel(g_fx, dk_fx_mdev_type_file("dk_sparse", "dk_sparse-2", "create"), buf,
		       sizeof(buf));
	CHECK_STR_EQ(buf, u);
	/* a given UUID is written lower case; uuid_out may be NULL then */
	REQUIRE_INT_EQ(dk_mdev_create("dk_sparse", "dk_sparse-2",
				      "7E57A3B2-1C2D-4E5F-8A9B-0C1D2E3F4A5B", NULL),
		       0);
	dk_fx_read_rel(g_fx, dk_fx_mdev_type_file("dk_sparse", "dk_sparse-2", "create"), buf,
		       sizeof(buf));
	CHECK_STR_EQ(buf, UUID3);
	REQUIRE_INT_EQ(dk_mdev_create("dk_sparse", "dk_sparse-2", UUID4, u), 0);
	CHECK_STR_EQ(u, UUID4);
	teardown();
}

DK_TEST(create_errors_are_mapped)
{
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mdev_create_error(-EEXIST, "mtty", "mtty-2", UUID1), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "exists already: pick another UUID");
	CHECK_INT_EQ(dk__mdev_create_error(-EUSERS, "mtty", "mtty-2", UUID1), -EUSERS);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "has no instance left: remove one");
	CHECK_INT_EQ(dk__mdev_create_error(-ENOSPC, "mtty", "mtty-2", UUID1), -EUSERS);
	CHECK_INT_EQ(dk__mdev_create_error(-ENODEV, "mtty", "mtty-2", UUID1), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is going away");
	CHECK_INT_EQ(dk__mdev_create_error(-ENOENT, "mtty", "mtty-2", UUID1), -ENOENT);
	CHECK_INT_EQ(dk__mdev_create_error(-EINVAL, "mtty", "mtty-2", UUID1), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "refused \"" UUID1 "\" as an mdev UUID");
	CHECK_INT_EQ(dk__mdev_create_error(-EPERM, "mtty", "mtty-2", UUID1), -EACCES);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "run as root");
	CHECK_INT_EQ(dk__mdev_create_error(-EIO, "mtty", "mtty-2", UUID1), -EIO);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "see dmesg");
	dk_test_log_capture_stop();
}

DK_TEST(remove_errors_are_mapped)
{
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mdev_remove_error(-EAGAIN, UUID1), -EAGAIN);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is inactive");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "try again");
	CHECK_INT_EQ(dk__mdev_remove_error(-ENODEV, UUID1), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "vanished meanwhile");
	CHECK_INT_EQ(dk__mdev_remove_error(-ENOENT, UUID1), -ENOENT);
	CHECK_INT_EQ(dk__mdev_remove_error(-EACCES, UUID1), -EACCES);
	CHECK_INT_EQ(dk__mdev_remove_error(-EIO, UUID1), -EIO);
	dk_test_log_capture_stop();
}

DK_TEST(remove_unplugs_a_probed_instance_first)
{
	build();
	g_probes = g_removes = g_decline = 0;
	REQUIRE_INT_EQ(dk_mdev_driver_register(&g_ccw), 0);
	start(0);
	REQUIRE(dk_mdev_find(UUID3)->driver == &g_ccw);
	REQUIRE_INT_EQ(dk_mdev_remove(UUID3), 0);
	CHECK_INT_EQ(g_removes, 1);
	CHECK(dk_mdev_find(UUID3)->driver == NULL);
	char buf[16];
	dk_fx_read_rel(g_fx, "bus/mdev/devices/" UUID3 "/remove", buf, sizeof(buf));
	CHECK_STR_EQ(buf, "1");
	teardown();
	CHECK_INT_EQ(g_removes, 1);
	CHECK_INT_EQ(dk_mdev_driver_unregister(&g_ccw), 0);
}
