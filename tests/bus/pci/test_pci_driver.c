/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/bus/pci/pci_driver.c: registration, matching, probe/remove, policy. */
#include <errno.h>

#include <dmakit/dmakit.h>

#include "fixture.h"
#include "tap.h"

static int g_probed, g_removed, g_probe_rc, g_remove_rc;
static struct dk_pci_device *g_last;

static int probe_cb(struct dk_pci_driver *drv, struct dk_pci_device *dev)
{
	(void)drv;
	if (g_probe_rc)
		return g_probe_rc;
	g_probed++;
	g_last = dev;
	return 0;
}

static int remove_cb(struct dk_pci_device *dev)
{
	(void)dev;
	if (g_remove_rc)
		return g_remove_rc;
	g_removed++;
	return 0;
}

static const struct dk_pci_id_match nvme_ids[] = { DK_PCI_DEVICE(0x1b36, 0x0010), { 0 } };
static const struct dk_pci_id_match edu_ids[] = { DK_PCI_DEVICE(0x1234, 0x11e8), { 0 } };

static struct dk_pci_driver g_nvme = {
	.driver = { .name = "test-nvme" }, .id_table = nvme_ids, .probe = probe_cb,
	.remove = remove_cb,
};
static struct dk_pci_driver g_vfio_only = {
	.driver = { .name = "test-edu" }, .id_table = edu_ids, .probe = probe_cb,
	.remove = remove_cb, .flags = DK_PCI_DRV_NEED_VFIO,
};

/* Two NVMe functions (one bound to nvme, one to vfio-pci) and an edu bound to nvme... */
static struct dk_fx *make_tree(void)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.driver = "nvme";
	dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	s.driver = "vfio-pci";
	dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	s.vendor = 0x1234;
	s.device = 0x11e8;
	s.class_code = 0x00ff00;
	s.driver = "uio_pci_generic";
	dk_fx_add(fx, "0000:00:04.0", NULL, &s);
	s.driver = "vfio-pci";
	dk_fx_add(fx, "0000:00:05.0", NULL, &s);
	return fx;
}

static int init_at(struct dk_fx *fx, const char *const *allow, const char *const *deny)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(fx);
	p.allow = allow;
	p.deny = deny;
	return dk_init(&p);
}

static void reset_counts(void)
{
	g_probed = g_removed = g_probe_rc = 0;
	g_last = NULL;
}

DK_TEST(register_rejects_incomplete_and_duplicate)
{
	struct dk_pci_driver no_probe = { .driver = { .name = "x" }, .id_table = nvme_ids };
	struct dk_pci_driver same_name = g_nvme;
	CHECK_INT_EQ(dk_pci_driver_register(NULL), -EINVAL);
	CHECK_INT_EQ(dk_pci_driver_register(&no_probe), -EINVAL);
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_nvme), 0);
	CHECK_INT_EQ(dk_pci_driver_register(&g_nvme), -EEXIST);
	CHECK_INT_EQ(dk_pci_driver_register(&same_name), -EEXIST);
	CHECK_INT_EQ(dk_pci_driver_unregister(&g_nvme), 0);
	CHECK_INT_EQ(dk_pci_driver_unregister(&g_nvme), -ENOENT);
}

DK_TEST(init_probes_matching_devices_and_cleanup_removes)
{
	struct dk_fx *fx = make_tree();
	reset_counts();
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_nvme), 0);
	REQUIRE_INT_EQ(init_at(fx, NULL, NULL), 0);
	CHECK_INT_EQ(g_probed, 2);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	CHECK(d->device.driver == &g_nvme.driver);
	CHECK(dk_pci_find("0000:00:04.0")->device.driver == NULL);
	CHECK_INT_EQ(dk_pci_probe_device(d), -EALREADY);
	CHECK_INT_EQ(dk_pci_remove_device(d), 0);
	CHECK_INT_EQ(g_removed, 1);
	CHECK_INT_EQ(dk_pci_remove_device(d), -ENODEV);
	CHECK_INT_EQ(dk_pci_probe_device(d), 0);
	CHECK_INT_EQ(g_probed, 3);
	dk_cleanup();
	CHECK_INT_EQ(g_removed, 3);
	dk_pci_driver_unregister(&g_nvme);
	dk_fx_free(fx);
}

DK_TEST(need_vfio_skips_devices_on_other_kernel_drivers)
{
	struct dk_fx *fx = make_tree();
	reset_counts();
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_vfio_only), 0);
	dk_test_log_capture_start();
	REQUIRE_INT_EQ(init_at(fx, NULL, NULL), 0);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "run `dmakit bind 0000:00:04.0`");
	/* 00:05.0 is on vfio-pci, so the probe opens it through VFIO first; the
	 * fixture has no IOMMU group (and no /dev/vfio), so the open fails, the
	 * driver's probe is never called and the device stays unprobed. The VM
	 * suite covers the successful open. */
	CHECK_INT_EQ(g_probed, 0);
	CHECK_STR_CONTAINS(dk_test_log_captured(),
			   "0000:00:05.0: cannot open it through VFIO for driver test-edu");
	CHECK(dk_pci_find("0000:00:05.0")->device.driver == NULL);
	CHECK(!dk_pci_vfio_is_open(dk_pci_find("0000:00:05.0")));
	dk_cleanup();
	dk_pci_driver_unregister(&g_vfio_only);
	dk_fx_free(fx);
}

DK_TEST(allow_list_limits_probe_and_passes_devargs)
{
	struct dk_fx *fx = make_tree();
	reset_counts();
	const char *allow[] = { "00:03.0,queues=4", NULL };
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_nvme), 0);
	REQUIRE_INT_EQ(init_at(fx, allow, NULL), 0);
	CHECK_INT_EQ(g_probed, 1);
	REQUIRE(g_last != NULL);
	CHECK_STR_EQ(g_last->device.name, "0000:00:03.0");
	uint64_t q = 0;
	REQUIRE(g_last->device.devargs != NULL);
	CHECK_INT_EQ(dk_devargs_get_u64(g_last->device.devargs, "queues", &q), 0);
	CHECK_INT_EQ(q, 4);
	CHECK_INT_EQ(dk_pci_probe_device(dk_pci_find("0000:00:02.0")), -EPERM);
	dk_cleanup();
	dk_pci_driver_unregister(&g_nvme);
	dk_fx_free(fx);
}

DK_TEST(deny_list_excludes)
{
	struct dk_fx *fx = make_tree();
	reset_counts();
	const char *deny[] = { "0000:00:02.0", NULL };
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_nvme), 0);
	REQUIRE_INT_EQ(init_at(fx, NULL, deny), 0);
	CHECK_INT_EQ(g_probed, 1);
	CHECK(dk_pci_find("0000:00:02.0")->device.driver == NULL);
	dk_cleanup();
	dk_pci_driver_unregister(&g_nvme);
	dk_fx_free(fx);
}

DK_TEST(failing_probe_leaves_device_unprobed)
{
	struct dk_fx *fx = make_tree();
	reset_counts();
	g_probe_rc = -EIO;
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_nvme), 0);
	dk_test_log_capture_start();
	REQUIRE_INT_EQ(init_at(fx, NULL, NULL), 0);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "probe by driver test-nvme failed");
	CHECK(dk_pci_find("0000:00:02.0")->device.driver == NULL);
	g_probe_rc = -ENODEV; /* declining is silent and tries the next driver */
	CHECK_INT_EQ(dk_pci_probe_device(dk_pci_find("0000:00:02.0")), -ENODEV);
	g_probe_rc = 0;
	CHECK_INT_EQ(dk_pci_probe_all(), 2);
	dk_cleanup();
	dk_pci_driver_unregister(&g_nvme);
	dk_fx_free(fx);
}

DK_TEST(unregister_removes_from_devices)
{
	struct dk_fx *fx = make_tree();
	reset_counts();
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_nvme), 0);
	REQUIRE_INT_EQ(init_at(fx, NULL, NULL), 0);
	CHECK_INT_EQ(dk_pci_driver_unregister(&g_nvme), 0);
	CHECK_INT_EQ(g_removed, 2);
	CHECK(dk_pci_find("0000:00:02.0")->device.driver == NULL);
	dk_cleanup();
	CHECK_INT_EQ(g_removed, 2);
	dk_fx_free(fx);
}

/* A remove that fails keeps the device with its driver (what the driver
 * holds stays valid): unregister and rescan refuse; once remove succeeds
 * both go on; dk_cleanup forgets a binding that still fails. */
DK_TEST(failing_remove_keeps_the_driver)
{
	struct dk_fx *fx = make_tree();
	reset_counts();
	REQUIRE_INT_EQ(dk_pci_driver_register(&g_nvme), 0);
	REQUIRE_INT_EQ(init_at(fx, NULL, NULL), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL && d->device.driver == &g_nvme.driver);
	g_remove_rc = -EBUSY;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_remove_device(d), -EBUSY);
	CHECK(d->device.driver == &g_nvme.driver);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "stays with the driver");
	CHECK_INT_EQ(dk_pci_driver_unregister(&g_nvme), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "stays registered");
	CHECK_INT_EQ(dk_pci_scan(), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "rescan refused");
	dk_test_log_capture_stop();
	CHECK(dk_pci_find("0000:00:02.0") == d); /* not rescanned: still valid */
	CHECK(d->device.driver == &g_nvme.driver);
	g_remove_rc = 0;
	CHECK_INT_EQ(dk_pci_remove_device(d), 0);
	CHECK(d->device.driver == NULL);
	CHECK(dk_pci_scan() > 0);
	/* dk_cleanup: the remove still fails, the binding is forgotten. */
	d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	if (!d->device.driver)
		REQUIRE_INT_EQ(dk_pci_probe_device(d), 0);
	g_remove_rc = -EIO;
	dk_test_log_capture_start();
	dk_cleanup();
	CHECK_STR_CONTAINS(dk_test_log_captured(), "forgetting driver");
	dk_test_log_capture_stop();
	g_remove_rc = 0;
	CHECK_INT_EQ(dk_pci_driver_unregister(&g_nvme), 0);
	dk_fx_free(fx);
}
