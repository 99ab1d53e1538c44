/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/vfio/vfio_viable.c, the group-viability rule, on a fixture's
 * /sys/kernel/iommu_groups: unbound, vfio-pci, pci-stub and pcieport members
 * pass; an endpoint on nvme and a bridge on another driver block; a group that
 * cannot be listed is an error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <dmakit/pci.h>

#include "core/sysfs.h"
#include "fixture.h"
#include "tap.h"
#include "vfio/vfio_viable.h"

static struct dk_fx *g_fx;

/* Group 10: root port on pcieport above four endpoints that pass.
 * Group 11: a bridge on a driver other than pcieport, and its endpoint on vfio-pci.
 * Group 12: endpoints on nvme and ixgbe (added in reverse name order).
 * Group 13: devices is a file (cannot be listed). */
static void setup(void)
{
	g_fx = dk_fx_new();
	struct dk_fx_spec port = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	port.iommu_group = 10;
	struct dk_fx_dev *rp = dk_fx_add(g_fx, "0000:00:1c.0", NULL, &port);
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.iommu_group = 10;
	s.driver = NULL;
	dk_fx_add(g_fx, "0000:01:00.0", rp, &s);
	s.driver = "vfio-pci";
	dk_fx_add(g_fx, "0000:01:00.1", rp, &s);
	s.driver = "pci-stub";
	dk_fx_add(g_fx, "0000:01:00.2", rp, &s);
	s.driver = "mlx5_vfio_pci";
	dk_fx_add(g_fx, "0000:01:00.3", rp, &s);

	port = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	port.iommu_group = 11;
	port.driver = "switchtec";
	struct dk_fx_dev *dp = dk_fx_add(g_fx, "0000:00:1d.0", NULL, &port);
	s.iommu_group = 11;
	s.driver = "vfio-pci";
	dk_fx_add(g_fx, "0000:02:00.0", dp, &s);

	s.iommu_group = 12;
	s.driver = "nvme";
	dk_fx_add(g_fx, "0000:03:00.1", NULL, &s);
	s.driver = "ixgbe";
	dk_fx_add(g_fx, "0000:03:00.0", NULL, &s);

	char path[4096];
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/13", dk_fx_root(g_fx));
	REQUIRE(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/13/devices", dk_fx_root(g_fx));
	FILE *f = fopen(path, "w");
	REQUIRE(f != NULL);
	fclose(f);
	dk__sysfs_set_root(dk_fx_root(g_fx));
}

static void teardown(void)
{
	dk__sysfs_set_root(NULL);
	dk_fx_free(g_fx);
}

struct seen {
	int n;
	char text[256];
};

static void collect(const char *member, const char *driver, void *arg)
{
	struct seen *s = arg;
	size_t o = strlen(s->text);
	snprintf(s->text + o, sizeof(s->text) - o, "%s%s=%s", s->n ? " " : "", member, driver);
	s->n++;
}

DK_TEST(driver_rule)
{
	CHECK_INT_EQ(dk__vfio_driver_blocks(NULL), 0);
	CHECK_INT_EQ(dk__vfio_driver_blocks(""), 0);
	CHECK_INT_EQ(dk__vfio_driver_blocks("vfio-pci"), 0);
	CHECK_INT_EQ(dk__vfio_driver_blocks("mlx5_vfio_pci"), 0);
	CHECK_INT_EQ(dk__vfio_driver_blocks("hisi_acc_vfio_pci"), 0);
	CHECK_INT_EQ(dk__vfio_driver_blocks("pci-stub"), 0);
	CHECK_INT_EQ(dk__vfio_driver_blocks("pcieport"), 0);
	CHECK_INT_EQ(dk__vfio_driver_blocks("nvme"), 1);
	CHECK_INT_EQ(dk__vfio_driver_blocks("shpchp"), 1);
	CHECK_INT_EQ(dk__vfio_driver_blocks("pci_stub"), 1);
	CHECK_INT_EQ(dk__vfio_driver_blocks("pcieport2"), 1);
}

DK_TEST(unbound_vfio_stub_and_pcieport_members_pass)
{
	setup();
	struct seen s = {0};
	CHECK_INT_EQ(dk__vfio_group_foreach_blocker(10, collect, &s), 0);
	CHECK_INT_EQ(s.n, 0);
	teardown();
}

DK_TEST(bridge_on_another_driver_blocks)
{
	setup();
	struct seen s = {0};
	CHECK_INT_EQ(dk__vfio_group_foreach_blocker(11, collect, &s), 1);
	CHECK_STR_EQ(s.text, "0000:00:1d.0=switchtec");
	teardown();
}

DK_TEST(endpoints_on_other_drivers_block_in_name_order)
{
	setup();
	struct seen s = {0};
	CHECK_INT_EQ(dk__vfio_group_foreach_blocker(12, collect, &s), 2);
	CHECK_STR_EQ(s.text, "0000:03:00.0=ixgbe 0000:03:00.1=nvme");
	CHECK_INT_EQ(dk__vfio_group_foreach_blocker(12, NULL, NULL), 2);
	teardown();
}

DK_TEST(group_that_cannot_be_listed)
{
	setup();
	struct seen s = {0};
	CHECK_INT_EQ(dk__vfio_group_foreach_blocker(99, collect, &s), -ENOENT);
	CHECK_INT_EQ(dk__vfio_group_foreach_blocker(13, collect, &s), -ENOTDIR);
	CHECK_INT_EQ(s.n, 0);
	teardown();
}
