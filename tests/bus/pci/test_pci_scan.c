/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/bus/pci/pci_scan.c through the public API: dk_init() on a
 * fixture sysfs tree (DK_INIT_NO_PROBE), then dk_pci_count / dk_pci_get /
 * dk_pci_find and the fields of struct dk_pci_device.
 *
 * Covered: IDs, class, revision, NUMA node, IOMMU group, kernel driver and
 * BARs; the upstream chain through a switch, host bridge and depth; VFs and
 * SR-IOV; ACS; several domains and the sort order; and bad input (garbage
 * or missing ID files, missing resource, truncated config, devices that
 * vanished, stray entries), where the scan must go on with the other
 * devices and name the path it stumbled on.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "fixture.h"
#include "tap.h"

/* ---- helpers --------------------------------------------------------------- */

/* dk_init on fx without probing; capture: record the log of the scan. */
static int init_at(struct dk_fx *fx, int capture)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(fx);
	p.flags = DK_INIT_NO_PROBE;
	/* An explicit level: the test environment sets DMAKIT_LOG_LEVEL=err. */
	p.log_level = capture ? DK_LOG_DEBUG : DK_LOG_ERR;
	if (capture)
		dk_test_log_capture_start();
	return dk_init(&p);
}

static void done(struct dk_fx *fx)
{
	dk_cleanup();
	dk_fx_free(fx);
}

/* "<root>/bus/pci/devices/<bdf>/<attr>" as the scan's messages name it. */
static const char *attr_path(const struct dk_fx *fx, const char *bdf, const char *attr)
{
	static char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/bus/pci/devices/%s%s%s", dk_fx_root(fx), bdf,
		 attr ? "/" : "", attr ? attr : "");
	return buf;
}

/* Root port 00:1c.0 -> switch upstream 01:00.0 -> downstream 02:01.0 -> endpoint 03:00.0. */
struct chain {
	struct dk_fx *fx;
	struct dk_fx_dev *rp, *up, *dn, *ep;
};

static void make_chain(struct chain *t, const struct dk_fx_spec *ep_spec)
{
	t->fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	s.iommu_group = 1;
	t->rp = dk_fx_add(t->fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_spec_bridge(DK_PCIE_TYPE_UPSTREAM);
	s.iommu_group = 2;
	t->up = dk_fx_add(t->fx, "0000:01:00.0", t->rp, &s);
	s = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	s.iommu_group = 3;
	t->dn = dk_fx_add(t->fx, "0000:02:01.0", t->up, &s);
	struct dk_fx_spec e = ep_spec ? *ep_spec : dk_fx_spec_endpoint();
	t->ep = dk_fx_add(t->fx, "0000:03:00.0", t->dn, &e);
}

/* ---- identification and resources ------------------------------------------ */

DK_TEST(ids_class_numa_group_driver_decoded)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.vendor = 0x8086;
	s.device = 0x1572;
	s.subsys_vendor = 0x8086;
	s.subsys_device = 0x0007;
	s.class_code = 0x020000;
	s.revision = 0x02;
	s.numa_node = 1;
	s.iommu_group = 17;
	s.driver = "i40e";
	dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	struct dk_fx_spec u = dk_fx_spec_endpoint(); /* unbound, no group, no node */
	dk_fx_add(fx, "0000:00:04.0", NULL, &u);
	REQUIRE_INT_EQ(init_at(fx, 0), 0);
	REQUIRE_INT_EQ(dk_pci_count(), 2);

	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	REQUIRE(d != NULL);
	CHECK_STR_EQ(d->device.name, "0000:00:03.0");
	CHECK_INT_EQ(d->kind, DK_PCI_KIND_FUNCTION);
	CHECK_INT_EQ(d->has_addr, 1);
	CHECK_INT_EQ(d->addr.domain, 0);
	CHECK_INT_EQ(d->addr.bus, 0);
	CHECK_INT_EQ(d->addr.dev, 3);
	CHECK_INT_EQ(d->addr.func, 0);
	CHECK_INT_EQ(d->id.vendor_id, 0x8086);
	CHECK_INT_EQ(d->id.device_id, 0x1572);
	CHECK_INT_EQ(d->id.subsystem_vendor_id, 0x8086);
	CHECK_INT_EQ(d->id.subsystem_device_id, 0x0007);
	CHECK_INT_EQ(d->id.class_id, 0x020000);
	CHECK_INT_EQ(d->revision, 0x02);
	CHECK_INT_EQ(d->device.numa_node, 1);
	CHECK_INT_EQ(d->iommu_group, 17);
	CHECK_STR_EQ(d->kernel_driver, "i40e");
	CHECK(d->upstream == NULL);
	CHECK_STR_EQ(d->host_bridge, "pci0000:00");
	CHECK(d->physfn == NULL);
	CHECK_INT_EQ(dk_pci_depth(d), 0);

	d = dk_pci_find("00:04.0"); /* short form: domain 0 */
	REQUIRE(d != NULL);
	CHECK_STR_EQ(d->kernel_driver, "");
	CHECK_INT_EQ(d->iommu_group, -1);
	CHECK_INT_EQ(d->device.numa_node, -1);
	CHECK_INT_EQ(d->id.class_id, 0x010802);
	CHECK_INT_EQ(d->id.subsystem_vendor_id, 0x1af4);
	done(fx);
}

DK_TEST(bars_decoded_from_resource)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	/* BAR0 64-bit prefetchable, BAR2 I/O, BAR3 32-bit memory, ROM. */
	s.bars[0] =
	    (struct dk_fx_bar){.start = 0x38000000000ull, .len = 0x800000, .flags = 0x14220c};
	s.bars[2] = (struct dk_fx_bar){.start = 0xe000, .len = 0x20, .flags = 0x40101};
	s.bars[3] = (struct dk_fx_bar){.start = 0xfd000000, .len = 0x4000, .flags = 0x40200};
	s.bars[6] = (struct dk_fx_bar){.start = 0xfeb80000, .len = 0x40000, .flags = 0x46200};
	dk_fx_add(fx, "0000:00:05.0", NULL, &s);
	REQUIRE_INT_EQ(init_at(fx, 0), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:05.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->bars[0].phys_addr, 0x38000000000ull);
	CHECK_INT_EQ(d->bars[0].len, 0x800000);
	CHECK_INT_EQ(d->bars[0].flags, DK_PCI_BAR_MEM | DK_PCI_BAR_MEM64 | DK_PCI_BAR_PREFETCH);
	CHECK_INT_EQ(d->bars[0].raw_flags, 0x14220c);
	CHECK_INT_EQ(d->bars[1].len, 0); /* upper half of BAR0 */
	CHECK_INT_EQ(d->bars[1].flags, 0);
	CHECK_INT_EQ(d->bars[2].phys_addr, 0xe000);
	CHECK_INT_EQ(d->bars[2].len, 0x20);
	CHECK_INT_EQ(d->bars[2].flags, DK_PCI_BAR_IO);
	CHECK_INT_EQ(d->bars[3].phys_addr, 0xfd000000);
	CHECK_INT_EQ(d->bars[3].flags, DK_PCI_BAR_MEM);
	CHECK_INT_EQ(d->bars[4].len, 0);
	CHECK_INT_EQ(d->bars[5].len, 0);
	CHECK_INT_EQ(d->bars[DK_PCI_ROM_INDEX].phys_addr, 0xfeb80000);
	CHECK_INT_EQ(d->bars[DK_PCI_ROM_INDEX].len, 0x40000);
	CHECK_INT_EQ(d->bars[DK_PCI_ROM_INDEX].flags, DK_PCI_BAR_MEM | DK_PCI_BAR_PREFETCH);
	done(fx);
}

DK_TEST(resource_of_7_lines_as_kernels_without_iov_write_it)
{
	/* Kernels built without CONFIG_PCI_IOV write 7 lines (this host does). */
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	struct dk_fx_dev *dev = dk_fx_add(fx, "0000:00:01.0", NULL, &s);
	char res[7 * 57 + 1] = "";
	for (int i = 0; i < 7; i++)
		strcat(res, i == 0 ? "0x0000004000000000 0x000000400007ffff 0x0000000000140204\n"
				   : "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	dk_fx_write_str(dev, "resource", res);
	REQUIRE_INT_EQ(init_at(fx, 0), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:01.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->bars[0].phys_addr, 0x4000000000ull);
	CHECK_INT_EQ(d->bars[0].len, 0x80000);
	CHECK_INT_EQ(d->bars[0].flags, DK_PCI_BAR_MEM | DK_PCI_BAR_MEM64);
	done(fx);
}

DK_TEST(capabilities_decoded_from_config)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.msi_vectors = 8;
	s.msix_vectors = 65;
	s.msix_bar = 4;
	s.link_speed = 4;
	s.link_width = 8;
	s.multifunction = 1;
	struct dk_fx_dev *dev = dk_fx_add(fx, "0000:00:06.0", NULL, &s);
	REQUIRE_INT_EQ(init_at(fx, 0), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:06.0");
	REQUIRE(d != NULL);
	const struct dk_pci_caps *c = &d->caps;
	CHECK_INT_EQ(c->config_len, 4096);
	CHECK_INT_EQ(c->header_type, 0);
	CHECK_INT_EQ(c->multifunction, 1);
	CHECK_INT_EQ(c->flags, 0);
	CHECK_INT_EQ(c->n, 3);
	CHECK_INT_EQ(c->pcie.offset, dk_fx_cap_offset(dev, DK_PCI_CAP_ID_EXP, 0));
	CHECK_INT_EQ(c->pcie.version, 2);
	CHECK_INT_EQ(c->pcie.port_type, DK_PCIE_TYPE_ENDPOINT);
	CHECK_INT_EQ(c->pcie.max_link_speed, 4);
	CHECK_INT_EQ(c->pcie.max_link_width, 8);
	CHECK_INT_EQ(c->pcie.link_speed, 4);
	CHECK_INT_EQ(c->pcie.link_width, 8);
	CHECK_INT_EQ(c->msi.offset, dk_fx_cap_offset(dev, DK_PCI_CAP_ID_MSI, 0));
	CHECK_INT_EQ(c->msi.max_vectors, 8);
	CHECK_INT_EQ(c->msi.is_64bit, 1);
	CHECK_INT_EQ(c->msix.offset, dk_fx_cap_offset(dev, DK_PCI_CAP_ID_MSIX, 0));
	CHECK_INT_EQ(c->msix.table_size, 65);
	CHECK_INT_EQ(c->msix.table_bar, 4);
	CHECK_INT_EQ(c->msix.table_offset, 0x2000);
	CHECK_INT_EQ(c->msix.pba_offset, 0x3000);
	CHECK_INT_EQ(c->acs.offset, 0);
	CHECK_INT_EQ(c->sriov.offset, 0);
	CHECK(!dk_pci_is_bridge(d));
	done(fx);
}

/* ---- topology ---------------------------------------------------------------- */

DK_TEST(switch_topology_upstream_chain_and_depth)
{
	struct chain t;
	make_chain(&t, NULL);
	REQUIRE_INT_EQ(init_at(t.fx, 0), 0);
	REQUIRE_INT_EQ(dk_pci_count(), 4);
	struct dk_pci_device *rp = dk_pci_find("0000:00:1c.0");
	struct dk_pci_device *up = dk_pci_find("0000:01:00.0");
	struct dk_pci_device *dn = dk_pci_find("0000:02:01.0");
	struct dk_pci_device *ep = dk_pci_find("0000:03:00.0");
	REQUIRE(rp && up && dn && ep);
	CHECK(ep->upstream == dn);
	CHECK(dn->upstream == up);
	CHECK(up->upstream == rp);
	CHECK(rp->upstream == NULL);
	CHECK_INT_EQ(dk_pci_depth(ep), 3);
	CHECK_INT_EQ(dk_pci_depth(dn), 2);
	CHECK_INT_EQ(dk_pci_depth(up), 1);
	CHECK_INT_EQ(dk_pci_depth(rp), 0);
	CHECK_INT_EQ(dk_pci_depth(NULL), 0);
	CHECK_STR_EQ(ep->host_bridge, "pci0000:00");
	CHECK_STR_EQ(dn->host_bridge, "pci0000:00");
	CHECK_STR_EQ(rp->host_bridge, "pci0000:00");
	CHECK(dk_pci_is_bridge(rp) && dk_pci_is_bridge(up) && dk_pci_is_bridge(dn));
	CHECK(!dk_pci_is_bridge(ep));
	CHECK_INT_EQ(rp->caps.pcie.port_type, DK_PCIE_TYPE_ROOT_PORT);
	CHECK_INT_EQ(up->caps.pcie.port_type, DK_PCIE_TYPE_UPSTREAM);
	CHECK_INT_EQ(dn->caps.pcie.port_type, DK_PCIE_TYPE_DOWNSTREAM);
	CHECK_INT_EQ(dn->caps.pcie.slot_implemented, 1);
	CHECK_STR_EQ(dn->kernel_driver, "pcieport");
	CHECK_INT_EQ(dn->id.class_id, 0x060400);
	CHECK_INT_EQ(dn->iommu_group, 3);
	/* Sorted by address. */
	CHECK(dk_pci_get(0) == rp);
	CHECK(dk_pci_get(1) == up);
	CHECK(dk_pci_get(2) == dn);
	CHECK(dk_pci_get(3) == ep);
	done(t.fx);
}

DK_TEST(several_domains_sorted_with_their_host_bridges)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	/* Added out of order: the scan sorts by domain, bus, device, function. */
	static const char *const order[] = {"0001:00:02.0", "10000:00:01.0", "0000:80:00.0",
					    "0000:00:1f.3", "0001:00:01.1",  "0000:00:1f.0",
					    "0001:00:01.0"};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		dk_fx_add(fx, order[i], NULL, &s);
	struct dk_fx_spec b = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *rp = dk_fx_add(fx, "0002:00:00.0", NULL, &b);
	dk_fx_add(fx, "0002:01:00.0", rp, &s);
	REQUIRE_INT_EQ(init_at(fx, 0), 0);
	static const char *const sorted[] = {"0000:00:1f.0", "0000:00:1f.3", "0000:80:00.0",
					     "0001:00:01.0", "0001:00:01.1", "0001:00:02.0",
					     "0002:00:00.0", "0002:01:00.0", "10000:00:01.0"};
	REQUIRE_INT_EQ(dk_pci_count(), 9);
	for (unsigned int i = 0; i < 9; i++) {
		struct dk_pci_device *d = dk_pci_get(i);
		REQUIRE(d != NULL);
		CHECK_STR_EQ(d->device.name, sorted[i]);
	}
	errno = 0;
	CHECK(dk_pci_get(9) == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	struct dk_pci_device *d = dk_pci_find("0000:80:00.0");
	REQUIRE(d != NULL);
	CHECK_STR_EQ(d->host_bridge, "pci0000:80");
	d = dk_pci_find("0002:01:00.0");
	REQUIRE(d != NULL);
	CHECK_STR_EQ(d->host_bridge, "pci0002:00");
	CHECK(d->upstream == dk_pci_find("0002:00:00.0"));
	CHECK_INT_EQ(d->addr.domain, 2);
	d = dk_pci_find("10000:00:01.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->addr.domain, 0x10000);
	CHECK_STR_EQ(d->host_bridge, "pci10000:00");
	/* 00:01.0 exists in domain 0001 only. */
	CHECK(dk_pci_find("0001:00:01.0") != NULL);
	CHECK(dk_pci_find("0000:00:01.0") == NULL);
	done(fx);
}

DK_TEST(unknown_addresses_are_enoent)
{
	struct chain t;
	make_chain(&t, NULL);
	REQUIRE_INT_EQ(init_at(t.fx, 0), 0);
	errno = 0;
	CHECK(dk_pci_find("0000:99:00.0") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	errno = 0;
	CHECK(dk_pci_find("0001:03:00.0") == NULL); /* right BDF, other domain */
	CHECK_INT_EQ(errno, ENOENT);
	errno = 0;
	CHECK(dk_pci_find("not-a-device") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	errno = 0;
	CHECK(dk_pci_find(NULL) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK(dk_pci_find("0000:03:00.0") != NULL);
	done(t.fx);
}

/* ---- SR-IOV and ACS ------------------------------------------------------------ */

DK_TEST(vfs_point_to_their_pf)
{
	struct chain t;
	make_chain(&t, NULL);
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.vendor = 0x8086;
	s.device = 0x1572;
	s.sriov_total_vfs = 8;
	s.sriov_num_vfs = 3;
	s.sriov_vf_device = 0x154c;
	s.msix_vectors = 129;
	s.driver = "i40e";
	struct dk_fx_dev *pf = dk_fx_add(t.fx, "0000:03:00.1", t.dn, &s);
	struct dk_fx_spec v = dk_fx_spec_endpoint();
	v.vendor = 0x8086;
	v.device = 0x154c;
	v.msix_vectors = 5;
	v.driver = "vfio-pci";
	v.iommu_group = 40;
	dk_fx_add_vf(t.fx, pf, 0, "0000:03:02.0", &v);
	v.iommu_group = 41;
	dk_fx_add_vf(t.fx, pf, 1, "0000:03:02.1", &v);
	v.iommu_group = 42;
	dk_fx_add_vf(t.fx, pf, 2, "0000:03:02.2", &v);
	REQUIRE_INT_EQ(init_at(t.fx, 0), 0);
	REQUIRE_INT_EQ(dk_pci_count(), 8);

	struct dk_pci_device *p = dk_pci_find("0000:03:00.1");
	REQUIRE(p != NULL);
	CHECK(p->physfn == NULL);
	CHECK_INT_EQ(p->sriov_totalvfs, 8);
	CHECK_INT_EQ(p->sriov_numvfs, 3);
	CHECK_INT_EQ(p->caps.sriov.offset, dk_fx_cap_offset(pf, DK_PCI_EXT_CAP_ID_SRIOV, 1));
	CHECK_INT_EQ(p->caps.sriov.total_vfs, 8);
	CHECK_INT_EQ(p->caps.sriov.initial_vfs, 8);
	CHECK_INT_EQ(p->caps.sriov.num_vfs, 3);
	CHECK_INT_EQ(p->caps.sriov.vf_device_id, 0x154c);
	/* 03:02.0 - 03:00.1 = 15, stride 1: the fixture keeps them true. */
	CHECK_INT_EQ(p->caps.sriov.first_vf_offset, 15);
	CHECK_INT_EQ(p->caps.sriov.vf_stride, 1);
	CHECK_INT_EQ(p->caps.sriov.ctrl & 1, 1);

	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "0000:03:02.%d", i);
		struct dk_pci_device *vf = dk_pci_find(name);
		REQUIRE(vf != NULL);
		CHECK(vf->physfn == p);
		/* IDs from sysfs: a VF's config reads 0xffff there. */
		CHECK_INT_EQ(vf->id.vendor_id, 0x8086);
		CHECK_INT_EQ(vf->id.device_id, 0x154c);
		CHECK_INT_EQ(vf->iommu_group, 40 + i);
		CHECK_STR_EQ(vf->kernel_driver, "vfio-pci");
		CHECK_INT_EQ(vf->caps.sriov.offset, 0);
		CHECK_INT_EQ(vf->sriov_totalvfs, 0);
		CHECK_INT_EQ(vf->caps.msix.table_size, 5);
		/* VFs sit beside the PF: same upstream bridge. */
		CHECK(vf->upstream == p->upstream);
		CHECK_INT_EQ(dk_pci_depth(vf), 3);
	}
	CHECK(p->upstream == dk_pci_find("0000:02:01.0"));
	done(t.fx);
}

DK_TEST(acs_capability_and_control_decoded)
{
	struct dk_fx_spec e = dk_fx_spec_endpoint();
	e.has_acs = 1;
	e.acs_cap = DK_PCI_ACS_SV | DK_PCI_ACS_TB | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF |
		    DK_PCI_ACS_DT;
	e.acs_ctrl = DK_PCI_ACS_RR | DK_PCI_ACS_CR;
	e.sriov_total_vfs = 4; /* ACS then SR-IOV in the extended chain */
	struct chain t;
	make_chain(&t, &e);
	/* A downstream port with ACS turned off. */
	struct dk_fx_spec off = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	off.acs_ctrl = 0;
	dk_fx_add(t.fx, "0000:02:02.0", t.up, &off);
	REQUIRE_INT_EQ(init_at(t.fx, 0), 0);

	struct dk_pci_device *ep = dk_pci_find("0000:03:00.0");
	REQUIRE(ep != NULL);
	CHECK_INT_EQ(ep->caps.acs.offset, 0x100);
	CHECK_INT_EQ(ep->caps.acs.cap, e.acs_cap);
	CHECK_INT_EQ(ep->caps.acs.ctrl, DK_PCI_ACS_RR | DK_PCI_ACS_CR);
	CHECK_INT_EQ(ep->caps.sriov.offset, dk_fx_cap_offset(t.ep, DK_PCI_EXT_CAP_ID_SRIOV, 1));
	CHECK(dk_pci_caps_find(&ep->caps, DK_PCI_EXT_CAP_ID_ACS, 1) != NULL);

	struct dk_pci_device *dn = dk_pci_find("0000:02:01.0");
	REQUIRE(dn != NULL);
	unsigned int want = DK_PCI_ACS_SV | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF;
	CHECK_INT_EQ(dn->caps.acs.offset, 0x100);
	CHECK_INT_EQ(dn->caps.acs.cap, want);
	CHECK_INT_EQ(dn->caps.acs.ctrl, want);
	struct dk_pci_device *dn2 = dk_pci_find("0000:02:02.0");
	REQUIRE(dn2 != NULL);
	CHECK_INT_EQ(dn2->caps.acs.cap, want);
	CHECK_INT_EQ(dn2->caps.acs.ctrl, 0);
	/* The switch's upstream port has no ACS. */
	struct dk_pci_device *up = dk_pci_find("0000:01:00.0");
	REQUIRE(up != NULL);
	CHECK_INT_EQ(up->caps.acs.offset, 0);
	done(t.fx);
}

DK_TEST(rescan_gives_the_same_devices)
{
	struct chain t;
	make_chain(&t, NULL);
	REQUIRE_INT_EQ(init_at(t.fx, 0), 0);
	CHECK_INT_EQ(dk_pci_scan(), 4);
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	dk_fx_add(t.fx, "0000:03:00.1", t.dn, &s); /* hot-plugged */
	CHECK_INT_EQ(dk_pci_scan(), 5);
	CHECK_INT_EQ(dk_pci_count(), 5);
	struct dk_pci_device *d = dk_pci_find("0000:03:00.1");
	REQUIRE(d != NULL);
	CHECK(d->upstream == dk_pci_find("0000:02:01.0"));
	done(t.fx);
}

/* ---- bad input ------------------------------------------------------------------ */

DK_TEST(garbage_vendor_taken_from_config_with_path_in_message)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	struct dk_fx_dev *bad = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	dk_fx_remove(bad, "uevent"); /* the ID files are read only without uevent */
	dk_fx_write_str(bad, "vendor", "garbage\n");
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	/* Documented: warning naming the path, the ID taken from config space. */
	CHECK_INT_EQ(dk_pci_count(), 2);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->id.vendor_id, 0x1b36);
	CHECK_INT_EQ(d->id.device_id, 0x0010);
	const char *log = dk_test_log_captured();
	CHECK_STR_CONTAINS(log, attr_path(fx, "0000:00:02.0", "vendor"));
	CHECK_STR_CONTAINS(log, "not a hex number");
	CHECK_STR_CONTAINS(log, "config space");
	CHECK(dk_pci_find("0000:00:03.0") != NULL);
	done(fx);
}

DK_TEST(uevent_gives_ids_class_and_driver)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.driver = "nvme";
	struct dk_fx_dev *a = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	/* uevent is the kernel's view and wins over the single files. */
	dk_fx_write_str(a, "uevent",
			"DRIVER=vfio-pci\nPCI_CLASS=10803\nPCI_ID=1B36:0011\n"
			"PCI_SUBSYS_ID=1AF4:1101\nPCI_SLOT_NAME=0000:00:02.0\n");
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->id.device_id, 0x0011);
	CHECK_INT_EQ(d->id.class_id, 0x010803);
	CHECK_INT_EQ(d->id.subsystem_device_id, 0x1101);
	CHECK_STR_EQ(d->kernel_driver, "vfio-pci");
	done(fx);
}

DK_TEST(malformed_uevent_falls_back_to_id_files)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.driver = "nvme";
	struct dk_fx_dev *a = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	struct dk_fx_dev *b = dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	dk_fx_write_str(a, "uevent", "PCI_CLASS=10802\nPCI_ID=1B36\n");
	dk_fx_write_str(b, "uevent", "no equals sign here\n");
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 2);
	for (int i = 0; i < 2; i++) {
		struct dk_pci_device *d = dk_pci_get((unsigned int)i);
		REQUIRE(d != NULL);
		CHECK_INT_EQ(d->id.vendor_id, 0x1b36);
		CHECK_INT_EQ(d->id.device_id, 0x0010);
		CHECK_INT_EQ(d->id.class_id, 0x010802);
		CHECK_STR_EQ(d->kernel_driver, "nvme");
	}
	CHECK_STR_CONTAINS(dk_test_log_captured(), attr_path(fx, "0000:00:02.0", "uevent"));
	CHECK_STR_CONTAINS(dk_test_log_captured(), attr_path(fx, "0000:00:03.0", "uevent"));
	CHECK_STR_CONTAINS(dk_test_log_captured(), "reading the ID files instead");
	done(fx);
}

DK_TEST(garbage_ids_without_config_skip_the_device)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	struct dk_fx_dev *bad = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	struct dk_fx_dev *cls = dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	dk_fx_add(fx, "0000:00:04.0", NULL, &s);
	dk_fx_write_str(bad, "uevent", "PCI_ID=zz\n"); /* malformed: ID files next */
	dk_fx_write_str(bad, "device", "0x12345\n"); /* out of range */
	dk_fx_truncate(bad, "config", 2);            /* vendor only */
	dk_fx_remove(cls, "uevent");
	dk_fx_remove(cls, "class");
	dk_fx_remove(cls, "config");
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 1);
	CHECK(dk_pci_find("0000:00:02.0") == NULL);
	CHECK(dk_pci_find("0000:00:03.0") == NULL);
	CHECK(dk_pci_find("0000:00:04.0") != NULL);
	const char *log = dk_test_log_captured();
	CHECK_STR_CONTAINS(log, attr_path(fx, "0000:00:02.0", "device"));
	CHECK_STR_CONTAINS(log, attr_path(fx, "0000:00:03.0", "class"));
	CHECK_STR_CONTAINS(log, "device skipped");
	done(fx);
}

DK_TEST(garbage_vendor_of_a_vf_is_not_taken_as_0xffff)
{
	/* A VF's config reads 0xffff for its IDs (and so does a device that
	 * is gone): config cannot supply the ID, so the documented fallback
	 * must not produce vendor 0xffff. */
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.sriov_total_vfs = 2;
	s.sriov_num_vfs = 1;
	struct dk_fx_dev *pf = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	struct dk_fx_dev *vf = dk_fx_add_vf(fx, pf, 0, "0000:00:02.1", &s);
	dk_fx_remove(vf, "uevent");
	dk_fx_write_str(vf, "vendor", "junk\n");
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	CHECK(dk_pci_find("0000:00:02.0") != NULL);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.1");
	CHECK(d == NULL || d->id.vendor_id != 0xffff);
	CHECK_STR_CONTAINS(dk_test_log_captured(), attr_path(fx, "0000:00:02.1", "vendor"));
	done(fx);
}

DK_TEST(missing_resource_leaves_bars_empty)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	struct dk_fx_dev *bad = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	struct dk_fx_dev *mal = dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	dk_fx_add(fx, "0000:00:04.0", NULL, &s);
	dk_fx_remove(bad, "resource");
	dk_fx_write_str(mal, "resource", "0x1000 0x0fff 0x200\n"); /* end before start */
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 3);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	for (int i = 0; i < DK_PCI_NUM_RESOURCES; i++)
		CHECK_INT_EQ(d->bars[i].len, 0);
	CHECK_INT_EQ(d->id.vendor_id, 0x1b36); /* the rest is still read */
	CHECK_INT_EQ(d->caps.pcie.port_type, DK_PCIE_TYPE_ENDPOINT);
	d = dk_pci_find("0000:00:03.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->bars[0].len, 0);
	const char *log = dk_test_log_captured();
	CHECK_STR_CONTAINS(log, attr_path(fx, "0000:00:02.0", "resource"));
	CHECK_STR_CONTAINS(log, attr_path(fx, "0000:00:03.0", "resource"));
	CHECK_STR_CONTAINS(log, "BARs unknown");
	d = dk_pci_find("0000:00:04.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->bars[0].len, 0x4000);
	done(fx);
}

DK_TEST(config_truncated_to_32_bytes)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.revision = 0x05;
	struct dk_fx_dev *bad = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	dk_fx_truncate(bad, "config", 32);
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 2);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->id.vendor_id, 0x1b36);
	CHECK_INT_EQ(d->id.subsystem_vendor_id, 0x1af4);
	CHECK_INT_EQ(d->revision, 0x05);
	CHECK_INT_EQ(d->caps.n, 0);
	CHECK_INT_EQ(d->caps.pcie.offset, 0);
	CHECK_INT_EQ(d->caps.config_len, 32);
	CHECK_INT_EQ(d->bars[0].len, 0x4000);
	const char *log = dk_test_log_captured();
	CHECK_STR_CONTAINS(log, attr_path(fx, "0000:00:02.0", "config"));
	CHECK_STR_CONTAINS(log, "32 bytes");
	d = dk_pci_find("0000:00:03.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->caps.pcie.port_type, DK_PCIE_TYPE_ENDPOINT);
	done(fx);
}

DK_TEST(config_truncated_to_100_bytes)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint(); /* PCIe capability only, at 0x40 */
	s.has_acs = 1;
	s.acs_cap = DK_PCI_ACS_RR;
	s.config_len = 100;
	struct dk_fx_dev *dev = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->caps.config_len, 100);
	CHECK(d->caps.flags & DK_PCI_CAPS_NO_EXTENDED);
	CHECK_INT_EQ(d->caps.flags & DK_PCI_CAPS_MALFORMED, 0);
	/* The PCIe registers the walker decodes lie below 100. */
	CHECK_INT_EQ(d->caps.pcie.offset, dk_fx_cap_offset(dev, DK_PCI_CAP_ID_EXP, 0));
	CHECK_INT_EQ(d->caps.pcie.port_type, DK_PCIE_TYPE_ENDPOINT);
	CHECK_INT_EQ(d->caps.acs.offset, 0);
	CHECK_INT_EQ(d->id.vendor_id, 0x1b36);
	done(fx);
}

DK_TEST(config_of_256_bytes_has_no_extended_caps)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.has_acs = 1;
	s.acs_cap = DK_PCI_ACS_RR;
	s.sriov_total_vfs = 4;
	s.msix_vectors = 16;
	s.config_len = 256;
	dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->caps.config_len, 256);
	CHECK(d->caps.flags & DK_PCI_CAPS_NO_EXTENDED);
	CHECK_INT_EQ(d->caps.flags & DK_PCI_CAPS_MALFORMED, 0);
	CHECK_INT_EQ(d->caps.n, 2); /* PCIe, MSI-X */
	CHECK_INT_EQ(d->caps.msix.table_size, 16);
	CHECK_INT_EQ(d->caps.acs.offset, 0);
	CHECK_INT_EQ(d->caps.sriov.offset, 0);
	CHECK(dk_pci_caps_find(&d->caps, DK_PCI_EXT_CAP_ID_ACS, 1) == NULL);
	CHECK(strstr(dk_test_log_captured(), "malformed") == NULL);
	done(fx);
}

DK_TEST(config_of_64_bytes_as_non_root_reads_it_is_not_malformed)
{
	/* Without CAP_SYS_ADMIN the kernel returns only the 64-byte header of
	 * sysfs config: every PCIe device then has a capability pointer (0x40)
	 * just past the end. That is a short read, not a malformed chain, and a
	 * non-root scan must not warn "malformed" about every device. */
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.config_len = 64;
	dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->caps.config_len, 64);
	CHECK_INT_EQ(d->caps.n, 0);
	CHECK_INT_EQ(d->id.vendor_id, 0x1b36);
	CHECK(strstr(dk_test_log_captured(), "malformed") == NULL);
	done(fx);
}

DK_TEST(vanished_device_dir_is_skipped_with_its_path)
{
	struct chain t;
	make_chain(&t, NULL);
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	dk_fx_add(t.fx, "0000:00:02.0", NULL, &s);
	struct dk_fx_dev *gone = dk_fx_add(t.fx, "0000:00:03.0", NULL, &s);
	dk_fx_remove_device_dir(gone); /* bus/pci/devices/0000:00:03.0 now dangles */
	REQUIRE_INT_EQ(init_at(t.fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 5);
	CHECK(dk_pci_find("0000:00:03.0") == NULL);
	CHECK(dk_pci_find("0000:00:02.0") != NULL);
	CHECK(dk_pci_find("0000:03:00.0") != NULL);
	const char *log = dk_test_log_captured();
	CHECK_STR_CONTAINS(log, attr_path(t.fx, "0000:00:03.0", NULL));
	CHECK_STR_CONTAINS(log, "skipped");
	done(t.fx);
}

DK_TEST(vanished_bridge_takes_its_subtree)
{
	struct chain t;
	make_chain(&t, NULL);
	dk_fx_remove_device_dir(t.dn); /* the downstream port and the endpoint below */
	REQUIRE_INT_EQ(init_at(t.fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 2);
	CHECK(dk_pci_find("0000:00:1c.0") != NULL);
	CHECK(dk_pci_find("0000:01:00.0") != NULL);
	CHECK(dk_pci_find("0000:02:01.0") == NULL);
	CHECK(dk_pci_find("0000:03:00.0") == NULL);
	const char *log = dk_test_log_captured();
	CHECK_STR_CONTAINS(log, attr_path(t.fx, "0000:02:01.0", NULL));
	CHECK_STR_CONTAINS(log, attr_path(t.fx, "0000:03:00.0", NULL));
	done(t.fx);
}

DK_TEST(removed_device_is_simply_absent)
{
	struct chain t;
	make_chain(&t, NULL);
	dk_fx_remove_device(t.ep);
	REQUIRE_INT_EQ(init_at(t.fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 3);
	CHECK(dk_pci_find("0000:03:00.0") == NULL);
	CHECK(strstr(dk_test_log_captured(), "0000:03:00.0") == NULL);
	done(t.fx);
}

DK_TEST(bad_numa_node_and_missing_optional_files)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.numa_node = 0;
	s.iommu_group = 5;
	s.driver = "nvme";
	struct dk_fx_dev *a = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	struct dk_fx_dev *b = dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	dk_fx_write_str(a, "numa_node", "node0\n");
	dk_fx_remove(b, "numa_node");
	dk_fx_remove(b, "iommu_group");
	dk_fx_remove(b, "driver");
	dk_fx_remove(b, "uevent"); /* so that the driver link and subsystem files count */
	dk_fx_remove(b, "subsystem_vendor");
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 2);
	struct dk_pci_device *d = dk_pci_find("0000:00:02.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->device.numa_node, -1);
	CHECK_INT_EQ(d->iommu_group, 5);
	CHECK_STR_CONTAINS(dk_test_log_captured(), attr_path(fx, "0000:00:02.0", "numa_node"));
	d = dk_pci_find("0000:00:03.0");
	REQUIRE(d != NULL);
	CHECK_INT_EQ(d->device.numa_node, -1);
	CHECK_INT_EQ(d->iommu_group, -1);
	CHECK_STR_EQ(d->kernel_driver, "");
	CHECK_INT_EQ(d->id.subsystem_vendor_id, 0x1af4); /* from config 0x2c */
	done(fx);
}

DK_TEST(stray_entries_in_the_devices_dir_are_ignored)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bus/pci/devices/not-a-device", dk_fx_root(fx));
	FILE *f = fopen(path, "w");
	REQUIRE(f != NULL);
	fclose(f);
	REQUIRE_INT_EQ(init_at(fx, 1), 0);
	CHECK_INT_EQ(dk_pci_count(), 1);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not-a-device");
	done(fx);
}

DK_TEST(empty_and_missing_bus_dirs)
{
	struct dk_fx *fx = dk_fx_new();
	REQUIRE_INT_EQ(init_at(fx, 0), 0);
	CHECK_INT_EQ(dk_pci_count(), 0);
	errno = 0;
	CHECK(dk_pci_get(0) == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	dk_cleanup();
	/* No bus/pci/devices at all is 0 devices, not an error. */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bus/pci/devices", dk_fx_root(fx));
	REQUIRE(rmdir(path) == 0);
	REQUIRE_INT_EQ(init_at(fx, 0), 0);
	CHECK_INT_EQ(dk_pci_count(), 0);
	CHECK_INT_EQ(dk_pci_scan(), 0);
	done(fx);
}
