/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for tests/lib/fixture.c: the shape of the sysfs tree it builds
 * (directories, relative links and where they resolve, attribute values)
 * and the bytes of the config space it writes, checked against the PCI
 * and PCIe specifications.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dmakit/pci.h>

#include "fixture.h"
#include "tap.h"

/* ---- helpers --------------------------------------------------------------- */

static char *root_path(const struct dk_fx *fx, const char *rel)
{
	static char buf[4][PATH_MAX];
	static int k;
	char *p = buf[k++ & 3];
	snprintf(p, PATH_MAX, "%s/%s", dk_fx_root(fx), rel);
	return p;
}

/* Target of the link at root/rel, as stored. */
static const char *link_of(const struct dk_fx *fx, const char *rel)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink(root_path(fx, rel), buf, sizeof(buf) - 1);
	if (n < 0)
		return "(no link)";
	buf[n] = '\0';
	return buf;
}

static const char *link_in(const struct dk_fx_dev *d, const char *name)
{
	static char buf[PATH_MAX];
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dk_fx_dev_path(d), name);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return "(no link)";
	buf[n] = '\0';
	return buf;
}

/* 1 when a and b resolve to the same existing file. */
static int same_place(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	if (!realpath(a, ra) || !realpath(b, rb))
		return 0;
	return strcmp(ra, rb) == 0;
}

static int is_regular(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists_l(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static const char *attr(const struct dk_fx_dev *d, const char *name)
{
	static char buf[4096];
	dk_fx_read(d, name, buf, sizeof(buf));
	return buf;
}

struct cfg {
	uint8_t b[4097];
	size_t len;
};

static void read_cfg(const struct dk_fx_dev *d, struct cfg *c)
{
	c->len = dk_fx_read(d, "config", (char *)c->b, sizeof(c->b));
}

static unsigned int c8(const struct cfg *c, unsigned int off)
{
	return off < c->len ? c->b[off] : 0xdead;
}

static unsigned int c16(const struct cfg *c, unsigned int off)
{
	return off + 2 <= c->len ? (unsigned int)(c->b[off] | c->b[off + 1] << 8) : 0xdead;
}

static uint32_t c32(const struct cfg *c, unsigned int off)
{
	return off + 4 <= c->len ? (uint32_t)c16(c, off) | (uint32_t)c16(c, off + 2) << 16
				 : 0xdeadbeefu;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Root port 00:1c.0 -> upstream 01:00.0 -> downstream 02:01.0 -> endpoint 03:00.0. */
struct chain {
	struct dk_fx *fx;
	struct dk_fx_dev *rp, *up, *dn, *ep;
};

static void make_chain(struct chain *t)
{
	t->fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	t->rp = dk_fx_add(t->fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_spec_bridge(DK_PCIE_TYPE_UPSTREAM);
	t->up = dk_fx_add(t->fx, "0000:01:00.0", t->rp, &s);
	s = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	t->dn = dk_fx_add(t->fx, "0000:02:01.0", t->up, &s);
	s = dk_fx_spec_endpoint();
	s.driver = "nvme";
	s.iommu_group = 7;
	s.numa_node = 1;
	t->ep = dk_fx_add(t->fx, "0000:03:00.0", t->dn, &s);
}

/* ---- tree skeleton ---------------------------------------------------------- */

DK_TEST(new_tree_has_bus_and_kernel_dirs)
{
	struct dk_fx *fx = dk_fx_new();
	CHECK(is_dir(dk_fx_root(fx)));
	CHECK(is_dir(root_path(fx, "devices")));
	CHECK(is_dir(root_path(fx, "bus/pci/devices")));
	CHECK(is_dir(root_path(fx, "bus/pci/drivers")));
	CHECK(is_dir(root_path(fx, "kernel/iommu_groups")));
	CHECK(is_regular(root_path(fx, "bus/pci/drivers_probe")));
	CHECK(is_regular(root_path(fx, "bus/pci/rescan")));
	dk_fx_free(fx);
}

DK_TEST(free_removes_the_whole_tree)
{
	struct chain t;
	make_chain(&t);
	char root[PATH_MAX];
	snprintf(root, sizeof(root), "%s", dk_fx_root(t.fx));
	CHECK(is_dir(root));
	dk_fx_free(t.fx);
	CHECK(!exists_l(root));
	dk_fx_free(NULL); /* no-op */
}

DK_TEST(host_bridge_is_idempotent_and_per_domain)
{
	struct dk_fx *fx = dk_fx_new();
	dk_fx_host_bridge(fx, 0, 0);
	dk_fx_host_bridge(fx, 0, 0);
	dk_fx_host_bridge(fx, 0x10000, 0x80);
	CHECK(is_dir(root_path(fx, "devices/pci0000:00")));
	CHECK(is_dir(root_path(fx, "devices/pci0000:00/pci_bus/0000:00")));
	CHECK(is_dir(root_path(fx, "devices/pci10000:80")));
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	struct dk_fx_dev *d = dk_fx_add(fx, "0001:40:00.0", NULL, &s);
	CHECK_STR_EQ(link_of(fx, "bus/pci/devices/0001:40:00.0"),
		     "../../../devices/pci0001:40/0001:40:00.0");
	CHECK_STR_EQ(dk_fx_dev_bdf(d), "0001:40:00.0");
	dk_fx_free(fx);
}

/* ---- links ------------------------------------------------------------------ */

DK_TEST(root_bus_device_links_like_the_kernel)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.driver = "virtio-pci";
	struct dk_fx_dev *d = dk_fx_add(fx, "0000:00:01.0", NULL, &s);
	CHECK_STR_EQ(dk_fx_dev_path(d), root_path(fx, "devices/pci0000:00/0000:00:01.0"));
	/* Exactly what /sys shows for a root-bus function. */
	CHECK_STR_EQ(link_of(fx, "bus/pci/devices/0000:00:01.0"),
		     "../../../devices/pci0000:00/0000:00:01.0");
	CHECK_STR_EQ(link_in(d, "driver"), "../../../bus/pci/drivers/virtio-pci");
	CHECK_STR_EQ(link_in(d, "subsystem"), "../../../bus/pci");
	CHECK_STR_EQ(link_of(fx, "bus/pci/drivers/virtio-pci/0000:00:01.0"),
		     "../../../../devices/pci0000:00/0000:00:01.0");
	CHECK(same_place(root_path(fx, "bus/pci/devices/0000:00:01.0"), dk_fx_dev_path(d)));
	CHECK(!exists_l(root_path(fx, "devices/pci0000:00/0000:00:01.0/iommu_group")));
	CHECK(!exists_l(root_path(fx, "devices/pci0000:00/0000:00:01.0/physfn")));
	dk_fx_free(fx);
}

DK_TEST(nested_functions_live_below_their_bridges)
{
	struct chain t;
	make_chain(&t);
	CHECK_STR_EQ(dk_fx_dev_path(t.ep),
		     root_path(t.fx, "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:01.0/"
				     "0000:03:00.0"));
	CHECK_STR_EQ(link_of(t.fx, "bus/pci/devices/0000:03:00.0"),
		     "../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:01.0/"
		     "0000:03:00.0");
	CHECK(same_place(root_path(t.fx, "bus/pci/devices/0000:03:00.0"), dk_fx_dev_path(t.ep)));
	CHECK(same_place(root_path(t.fx, "bus/pci/devices/0000:02:01.0"), dk_fx_dev_path(t.dn)));
	CHECK(same_place(root_path(t.fx, "bus/pci/devices/0000:00:1c.0"), dk_fx_dev_path(t.rp)));
	/* Six components deep: six "../" to the root. */
	CHECK_STR_EQ(link_in(t.ep, "driver"), "../../../../../../bus/pci/drivers/nvme");
	CHECK_STR_EQ(link_in(t.ep, "iommu_group"), "../../../../../../kernel/iommu_groups/7");
	CHECK_STR_EQ(link_in(t.dn, "driver"), "../../../../../bus/pci/drivers/pcieport");
	dk_fx_free(t.fx);
}

DK_TEST(driver_dir_and_links_resolve)
{
	struct chain t;
	make_chain(&t);
	char epdrv[PATH_MAX];
	snprintf(epdrv, sizeof(epdrv), "%s/driver", dk_fx_dev_path(t.ep));
	CHECK(same_place(epdrv, root_path(t.fx, "bus/pci/drivers/nvme")));
	CHECK(
	    same_place(root_path(t.fx, "bus/pci/drivers/nvme/0000:03:00.0"), dk_fx_dev_path(t.ep)));
	CHECK(same_place(root_path(t.fx, "bus/pci/drivers/pcieport/0000:01:00.0"),
			 dk_fx_dev_path(t.up)));
	static const char *const files[] = {"bind", "unbind", "new_id", "remove_id"};
	for (int i = 0; i < 4; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "bus/pci/drivers/nvme/%s", files[i]);
		CHECK(is_regular(root_path(t.fx, rel)));
	}
	/* Registered without devices. */
	dk_fx_driver(t.fx, "vfio-pci");
	dk_fx_driver(t.fx, "vfio-pci");
	CHECK(is_regular(root_path(t.fx, "bus/pci/drivers/vfio-pci/bind")));
	CHECK_STR_EQ(attr(t.ep, "enable"), "1\n");
	dk_fx_free(t.fx);
}

DK_TEST(iommu_group_links_both_ways)
{
	struct chain t;
	make_chain(&t);
	char grp[PATH_MAX];
	snprintf(grp, sizeof(grp), "%s/iommu_group", dk_fx_dev_path(t.ep));
	CHECK(same_place(grp, root_path(t.fx, "kernel/iommu_groups/7")));
	CHECK_STR_EQ(link_of(t.fx, "kernel/iommu_groups/7/devices/0000:03:00.0"),
		     "../../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:01.0/"
		     "0000:03:00.0");
	CHECK(same_place(root_path(t.fx, "kernel/iommu_groups/7/devices/0000:03:00.0"),
			 dk_fx_dev_path(t.ep)));
	CHECK(!exists_l(root_path(t.fx, "kernel/iommu_groups/7/devices/0000:02:01.0")));
	dk_fx_free(t.fx);
}

/* ---- attributes ------------------------------------------------------------- */

DK_TEST(attributes_use_kernel_formats)
{
	struct chain t;
	make_chain(&t);
	CHECK_STR_EQ(attr(t.ep, "vendor"), "0x1b36\n");
	CHECK_STR_EQ(attr(t.ep, "device"), "0x0010\n");
	CHECK_STR_EQ(attr(t.ep, "subsystem_vendor"), "0x1af4\n");
	CHECK_STR_EQ(attr(t.ep, "subsystem_device"), "0x1100\n");
	CHECK_STR_EQ(attr(t.ep, "class"), "0x010802\n");
	CHECK_STR_EQ(attr(t.ep, "revision"), "0x02\n");
	CHECK_STR_EQ(attr(t.ep, "numa_node"), "1\n");
	CHECK_STR_EQ(attr(t.rp, "numa_node"), "-1\n");
	CHECK_STR_EQ(attr(t.ep, "driver_override"), "(null)\n");
	CHECK_STR_EQ(attr(t.rp, "class"), "0x060400\n");
	CHECK_STR_EQ(attr(t.ep, "modalias"),
		     "pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02\n");
	CHECK_STR_CONTAINS(attr(t.ep, "uevent"), "DRIVER=nvme\n");
	CHECK_STR_CONTAINS(attr(t.ep, "uevent"), "PCI_SLOT_NAME=0000:03:00.0\n");
	/* Bus numbers of the bridges, as the kernel's attributes. */
	CHECK_STR_EQ(attr(t.rp, "secondary_bus_number"), "1\n");
	CHECK_STR_EQ(attr(t.rp, "subordinate_bus_number"), "3\n");
	CHECK_STR_EQ(attr(t.dn, "secondary_bus_number"), "3\n");
	dk_fx_free(t.fx);
}

DK_TEST(resource_lines_match_bars)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.bars[2] = (struct dk_fx_bar){.start = 0xc000, .len = 0x20, .flags = 0x40101};
	s.bars[6] = (struct dk_fx_bar){.start = 0xfeb80000, .len = 0x40000, .flags = 0x46200};
	struct dk_fx_dev *d = dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	const char *r = attr(d, "resource");
	CHECK_INT_EQ(count_lines(r), 13);
	CHECK(strncmp(r,
		      "0x00000000fe000000 0x00000000fe003fff 0x0000000000140204\n"
		      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		      "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n",
		      57 * 3) == 0);
	CHECK_STR_CONTAINS(r, "0x00000000feb80000 0x00000000febbffff 0x0000000000046200\n");
	struct dk_fx_spec b = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *rp = dk_fx_add(fx, "0000:00:1c.0", NULL, &b);
	CHECK_INT_EQ(count_lines(attr(rp, "resource")), 17);
	dk_fx_free(fx);
}

/* ---- config space -------------------------------------------------------------- */

DK_TEST(config_header_ids_and_bars)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.vendor = 0x8086;
	s.device = 0x10fb;
	s.subsys_vendor = 0x8086;
	s.subsys_device = 0x000c;
	s.class_code = 0x020000;
	s.revision = 0x01;
	s.multifunction = 1;
	s.bars[0] =
	    (struct dk_fx_bar){.start = 0x38000000000ull, .len = 0x80000, .flags = 0x14220c};
	s.bars[2] = (struct dk_fx_bar){.start = 0xe000, .len = 0x20, .flags = 0x40101};
	s.bars[3] = (struct dk_fx_bar){.start = 0xfd000000, .len = 0x4000, .flags = 0x40200};
	s.bars[6] = (struct dk_fx_bar){.start = 0xfeb80000, .len = 0x40000, .flags = 0x46200};
	struct dk_fx_dev *d = dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	struct cfg c;
	read_cfg(d, &c);
	CHECK_INT_EQ(c.len, 4096);
	CHECK_INT_EQ(c16(&c, 0x00), 0x8086);
	CHECK_INT_EQ(c16(&c, 0x02), 0x10fb);
	CHECK_INT_EQ(c16(&c, 0x04) & 0x6, 0x6); /* memory space, bus master */
	CHECK_INT_EQ(c16(&c, 0x04) & 0x1, 0x1); /* an I/O BAR: I/O space on */
	CHECK_INT_EQ(c16(&c, 0x06) & 0x10, 0x10);
	CHECK_INT_EQ(c8(&c, 0x08), 0x01);
	CHECK_INT_EQ(c8(&c, 0x09), 0x00);
	CHECK_INT_EQ(c8(&c, 0x0a), 0x00);
	CHECK_INT_EQ(c8(&c, 0x0b), 0x02);
	CHECK_INT_EQ(c8(&c, 0x0e), 0x80);
	/* BAR0: 64-bit prefetchable memory, upper half in BAR1. */
	CHECK_INT_EQ(c32(&c, 0x10), 0x0000000cu);
	CHECK_INT_EQ(c32(&c, 0x14), 0x380u);
	CHECK_INT_EQ(c32(&c, 0x18), 0xe001u);     /* BAR2: I/O */
	CHECK_INT_EQ(c32(&c, 0x1c), 0xfd000000u); /* BAR3: 32-bit memory */
	CHECK_INT_EQ(c32(&c, 0x20), 0);
	CHECK_INT_EQ(c32(&c, 0x30), 0xfeb80000u); /* ROM, disabled */
	CHECK_INT_EQ(c16(&c, 0x2c), 0x8086);
	CHECK_INT_EQ(c16(&c, 0x2e), 0x000c);
	CHECK_INT_EQ(c8(&c, 0x3d), 1);
	dk_fx_free(fx);
}

DK_TEST(config_standard_capability_chain)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.msi_vectors = 8;
	s.msix_vectors = 65;
	s.msix_bar = 0;
	struct dk_fx_dev *d = dk_fx_add(fx, "0000:00:04.0", NULL, &s);
	struct cfg c;
	read_cfg(d, &c);
	CHECK_INT_EQ(c8(&c, 0x34), 0x40);
	/* PCIe at 0x40: id, version 2, endpoint, link 8 GT/s x4. */
	CHECK_INT_EQ(c8(&c, 0x40), 0x10);
	CHECK_INT_EQ(c8(&c, 0x41), 0x80);
	CHECK_INT_EQ(c16(&c, 0x42) & 0xf, 2);
	CHECK_INT_EQ((c16(&c, 0x42) >> 4) & 0xf, DK_PCIE_TYPE_ENDPOINT);
	CHECK_INT_EQ(c32(&c, 0x40 + 0x0c) & 0xf, 3);
	CHECK_INT_EQ((c32(&c, 0x40 + 0x0c) >> 4) & 0x3f, 4);
	CHECK_INT_EQ(c16(&c, 0x40 + 0x12) & 0xf, 3);
	CHECK_INT_EQ((c16(&c, 0x40 + 0x12) >> 4) & 0x3f, 4);
	/* MSI at 0x80: 8 vectors (MMC 3), 64-bit, per-vector mask. */
	CHECK_INT_EQ(c8(&c, 0x80), 0x05);
	CHECK_INT_EQ(c8(&c, 0x81), 0xa0);
	CHECK_INT_EQ(c16(&c, 0x82), 3 << 1 | 1 << 7 | 1 << 8);
	/* MSI-X at 0xa0: 65 vectors, table at 0x2000 of BAR0, PBA at 0x3000. */
	CHECK_INT_EQ(c8(&c, 0xa0), 0x11);
	CHECK_INT_EQ(c8(&c, 0xa1), 0x00);
	CHECK_INT_EQ(c16(&c, 0xa2) & 0x7ff, 64);
	CHECK_INT_EQ(c32(&c, 0xa4), 0x2000);
	CHECK_INT_EQ(c32(&c, 0xa8), 0x3000);
	CHECK_INT_EQ(dk_fx_cap_offset(d, DK_PCI_CAP_ID_EXP, 0), 0x40);
	CHECK_INT_EQ(dk_fx_cap_offset(d, DK_PCI_CAP_ID_MSI, 0), 0x80);
	CHECK_INT_EQ(dk_fx_cap_offset(d, DK_PCI_CAP_ID_MSIX, 0), 0xa0);
	CHECK_INT_EQ(dk_fx_cap_offset(d, DK_PCI_EXT_CAP_ID_ACS, 1), 0);
	/* No extended capabilities: a zero header at 0x100. */
	CHECK_INT_EQ(c32(&c, 0x100), 0);
	dk_fx_free(fx);
}

DK_TEST(config_without_capabilities)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.pcie_type = -1;
	s.config_len = 256;
	struct dk_fx_dev *d = dk_fx_add(fx, "0000:00:05.0", NULL, &s);
	struct cfg c;
	read_cfg(d, &c);
	CHECK_INT_EQ(c.len, 256);
	CHECK_INT_EQ(c16(&c, 0x06) & 0x10, 0);
	CHECK_INT_EQ(c8(&c, 0x34), 0);
	CHECK_INT_EQ(dk_fx_cap_offset(d, DK_PCI_CAP_ID_EXP, 0), 0);
	dk_fx_free(fx);
}

DK_TEST(config_bridge_ports_and_bus_numbers)
{
	struct chain t;
	make_chain(&t);
	struct cfg c;
	read_cfg(t.rp, &c);
	CHECK_INT_EQ(c8(&c, 0x0e), 0x01);
	CHECK_INT_EQ(c16(&c, 0x00), 0x1b36);
	CHECK_INT_EQ(c8(&c, 0x18), 0x00);
	CHECK_INT_EQ(c8(&c, 0x19), 0x01);
	CHECK_INT_EQ(c8(&c, 0x1a), 0x03);
	CHECK_INT_EQ((c16(&c, 0x42) >> 4) & 0xf, DK_PCIE_TYPE_ROOT_PORT);
	CHECK_INT_EQ(c16(&c, 0x42) & 0x100, 0x100); /* slot implemented */
	/* Root port: PCIe 0x40, MSI 0x80; ACS at 0x100. */
	CHECK_INT_EQ(c8(&c, 0x41), 0x80);
	CHECK_INT_EQ(c8(&c, 0x80), 0x05);
	CHECK_INT_EQ(c8(&c, 0x81), 0x00);
	CHECK_INT_EQ(c32(&c, 0x100), 0x000d | 1u << 16);
	CHECK_INT_EQ(c16(&c, 0x104), DK_PCI_ACS_SV | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF);
	CHECK_INT_EQ(c16(&c, 0x106), DK_PCI_ACS_SV | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF);
	read_cfg(t.up, &c);
	CHECK_INT_EQ((c16(&c, 0x42) >> 4) & 0xf, DK_PCIE_TYPE_UPSTREAM);
	CHECK_INT_EQ(c8(&c, 0x18), 0x01);
	CHECK_INT_EQ(c8(&c, 0x19), 0x02);
	CHECK_INT_EQ(c8(&c, 0x1a), 0x03);
	CHECK_INT_EQ(c32(&c, 0x100), 0); /* upstream ports: no ACS by default */
	read_cfg(t.dn, &c);
	CHECK_INT_EQ((c16(&c, 0x42) >> 4) & 0xf, DK_PCIE_TYPE_DOWNSTREAM);
	CHECK_INT_EQ(c8(&c, 0x18), 0x02);
	CHECK_INT_EQ(c8(&c, 0x19), 0x03);
	CHECK_INT_EQ(c8(&c, 0x1a), 0x03);
	CHECK_INT_EQ(c16(&c, 0x00), 0x104c);
	CHECK_INT_EQ(c16(&c, 0x02), 0x8233);
	dk_fx_free(t.fx);
}

DK_TEST(config_extended_acs_then_sriov)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.has_acs = 1;
	s.acs_cap = DK_PCI_ACS_SV | DK_PCI_ACS_RR;
	s.acs_ctrl = DK_PCI_ACS_RR;
	s.sriov_total_vfs = 8;
	s.sriov_num_vfs = 2;
	s.sriov_vf_device = 0x10ed;
	struct dk_fx_dev *pf = dk_fx_add(fx, "0000:00:06.0", NULL, &s);
	struct cfg c;
	read_cfg(pf, &c);
	CHECK_INT_EQ(c32(&c, 0x100), 0x000d | 1u << 16 | 0x110u << 20);
	CHECK_INT_EQ(c16(&c, 0x104), DK_PCI_ACS_SV | DK_PCI_ACS_RR);
	CHECK_INT_EQ(c16(&c, 0x106), DK_PCI_ACS_RR);
	CHECK_INT_EQ(c32(&c, 0x110), 0x0010 | 1u << 16);
	CHECK_INT_EQ(c16(&c, 0x110 + 0x0c), 8); /* InitialVFs */
	CHECK_INT_EQ(c16(&c, 0x110 + 0x0e), 8);
	CHECK_INT_EQ(c16(&c, 0x110 + 0x10), 2);
	CHECK_INT_EQ(c16(&c, 0x110 + 0x16), 1);
	CHECK_INT_EQ(c16(&c, 0x110 + 0x1a), 0x10ed);
	CHECK_INT_EQ(c16(&c, 0x110 + 0x08) & 1, 1); /* VF enable */
	CHECK_INT_EQ(dk_fx_cap_offset(pf, DK_PCI_EXT_CAP_ID_ACS, 1), 0x100);
	CHECK_INT_EQ(dk_fx_cap_offset(pf, DK_PCI_EXT_CAP_ID_SRIOV, 1), 0x110);
	CHECK_STR_EQ(attr(pf, "sriov_totalvfs"), "8\n");
	CHECK_STR_EQ(attr(pf, "sriov_numvfs"), "2\n");
	dk_fx_free(fx);
}

DK_TEST(config_truncated_to_config_len)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.config_len = 64;
	struct dk_fx_dev *d = dk_fx_add(fx, "0000:00:07.0", NULL, &s);
	struct cfg c;
	read_cfg(d, &c);
	CHECK_INT_EQ(c.len, 64);
	CHECK_INT_EQ(c16(&c, 0), 0x1b36);
	CHECK_INT_EQ(c8(&c, 0x34), 0x40); /* pointer kept, target cut off */
	dk_fx_free(fx);
}

/* ---- VFs ----------------------------------------------------------------------- */

DK_TEST(vfs_link_both_ways_beside_the_pf)
{
	struct chain t;
	make_chain(&t);
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.vendor = 0x8086;
	s.device = 0x1572;
	s.sriov_total_vfs = 4;
	s.sriov_num_vfs = 2;
	s.sriov_vf_device = 0x154c;
	s.iommu_group = 9;
	struct dk_fx_dev *pf = dk_fx_add(t.fx, "0000:03:00.1", t.dn, &s);
	struct dk_fx_spec v = s;
	v.device = 0x154c;
	v.iommu_group = 10;
	struct dk_fx_dev *vf0 = dk_fx_add_vf(t.fx, pf, 0, "0000:03:02.0", &v);
	v.iommu_group = 11;
	struct dk_fx_dev *vf1 = dk_fx_add_vf(t.fx, pf, 1, "0000:03:02.1", &v);

	CHECK_STR_EQ(link_in(pf, "virtfn0"), "../0000:03:02.0");
	CHECK_STR_EQ(link_in(pf, "virtfn1"), "../0000:03:02.1");
	CHECK_STR_EQ(link_in(vf0, "physfn"), "../0000:03:00.1");
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/virtfn1", dk_fx_dev_path(pf));
	CHECK(same_place(p, dk_fx_dev_path(vf1)));
	snprintf(p, sizeof(p), "%s/physfn", dk_fx_dev_path(vf1));
	CHECK(same_place(p, dk_fx_dev_path(pf)));
	/* Same parent directory as the PF. */
	CHECK_STR_EQ(dk_fx_dev_path(vf0),
		     root_path(t.fx, "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:01.0/"
				     "0000:03:02.0"));
	CHECK(same_place(root_path(t.fx, "bus/pci/devices/0000:03:02.1"), dk_fx_dev_path(vf1)));
	CHECK(same_place(root_path(t.fx, "kernel/iommu_groups/11/devices/0000:03:02.1"),
			 dk_fx_dev_path(vf1)));
	/* A VF has no SR-IOV capability of its own, reads 0xffff IDs in config,
	 * and its sysfs files carry the real ones. */
	CHECK(!exists_l(root_path(t.fx, "bus/pci/devices/0000:03:02.0/sriov_totalvfs")));
	CHECK_INT_EQ(dk_fx_cap_offset(vf0, DK_PCI_EXT_CAP_ID_SRIOV, 1), 0);
	struct cfg c;
	read_cfg(vf0, &c);
	CHECK_INT_EQ(c16(&c, 0), 0xffff);
	CHECK_INT_EQ(c16(&c, 2), 0xffff);
	CHECK_INT_EQ(c32(&c, 0x10), 0);
	CHECK_STR_EQ(attr(vf0, "device"), "0x154c\n");
	/* The PF's First VF Offset and Stride follow the VFs given:
	 * 03:02.0 - 03:00.1 = 0x310 - 0x301 = 15; 03:02.1 - 03:02.0 = 1. */
	read_cfg(pf, &c);
	unsigned int so = dk_fx_cap_offset(pf, DK_PCI_EXT_CAP_ID_SRIOV, 1);
	REQUIRE(so >= 0x100);
	CHECK_INT_EQ(c16(&c, so + 0x14), 15);
	CHECK_INT_EQ(c16(&c, so + 0x16), 1);
	CHECK_STR_EQ(attr(pf, "sriov_offset"), "15\n");
	dk_fx_free(t.fx);
}

/* ---- bad-input helpers ------------------------------------------------------------ */

DK_TEST(write_truncate_remove_read_back)
{
	struct chain t;
	make_chain(&t);
	dk_fx_write_str(t.ep, "vendor", "garbage\n");
	CHECK_STR_EQ(attr(t.ep, "vendor"), "garbage\n");
	char buf[64];
	CHECK_INT_EQ(dk_fx_read(t.ep, "vendor", buf, 4), 3);
	CHECK_STR_EQ(buf, "gar");
	uint8_t raw[3] = {0x00, 0xff, 0x10};
	dk_fx_write(t.ep, "class", raw, sizeof(raw));
	CHECK_INT_EQ(dk_fx_read(t.ep, "class", buf, sizeof(buf)), 3);
	dk_fx_truncate(t.ep, "config", 32);
	struct cfg c;
	read_cfg(t.ep, &c);
	CHECK_INT_EQ(c.len, 32);
	CHECK_INT_EQ(c16(&c, 0), 0x1b36);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/resource", dk_fx_dev_path(t.ep));
	CHECK(exists_l(p));
	dk_fx_remove(t.ep, "resource");
	CHECK(!exists_l(p));
	snprintf(p, sizeof(p), "%s/driver", dk_fx_dev_path(t.ep));
	dk_fx_remove(t.ep, "driver");
	CHECK(!exists_l(p));
	dk_fx_free(t.fx);
}

DK_TEST(remove_device_drops_links_and_subtree)
{
	struct chain t;
	make_chain(&t);
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", dk_fx_dev_path(t.dn));
	dk_fx_remove_device(t.dn);
	CHECK(!exists_l(dir));
	CHECK(!exists_l(root_path(t.fx, "bus/pci/devices/0000:02:01.0")));
	CHECK(!exists_l(root_path(t.fx, "bus/pci/devices/0000:03:00.0")));
	CHECK(!exists_l(root_path(t.fx, "bus/pci/drivers/nvme/0000:03:00.0")));
	CHECK(!exists_l(root_path(t.fx, "bus/pci/drivers/pcieport/0000:02:01.0")));
	CHECK(!exists_l(root_path(t.fx, "kernel/iommu_groups/7/devices/0000:03:00.0")));
	/* The rest stays. */
	CHECK(same_place(root_path(t.fx, "bus/pci/devices/0000:01:00.0"), dk_fx_dev_path(t.up)));
	CHECK(is_dir(root_path(t.fx, "bus/pci/drivers/nvme")));
	dk_fx_free(t.fx);
}

DK_TEST(remove_vf_drops_virtfn_link)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.sriov_total_vfs = 2;
	s.sriov_num_vfs = 2;
	struct dk_fx_dev *pf = dk_fx_add(fx, "0000:00:08.0", NULL, &s);
	struct dk_fx_dev *vf0 = dk_fx_add_vf(fx, pf, 0, "0000:00:08.1", &s);
	dk_fx_add_vf(fx, pf, 1, "0000:00:08.2", &s);
	dk_fx_remove_device(vf0);
	CHECK(!exists_l(root_path(fx, "bus/pci/devices/0000:00:08.1")));
	CHECK(!exists_l(root_path(fx, "devices/pci0000:00/0000:00:08.0/virtfn0")));
	CHECK_STR_EQ(link_of(fx, "devices/pci0000:00/0000:00:08.0/virtfn1"), "../0000:00:08.2");
	/* Removing the PF takes its VFs along, as the kernel does. */
	dk_fx_remove_device(pf);
	CHECK(!exists_l(root_path(fx, "bus/pci/devices/0000:00:08.2")));
	CHECK(!exists_l(root_path(fx, "devices/pci0000:00/0000:00:08.2")));
	dk_fx_free(fx);
}

DK_TEST(remove_device_dir_leaves_links_dangling)
{
	struct chain t;
	make_chain(&t);
	char link[PATH_MAX];
	snprintf(link, sizeof(link), "%s", root_path(t.fx, "bus/pci/devices/0000:03:00.0"));
	dk_fx_remove_device_dir(t.ep);
	struct stat st;
	CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
	errno = 0;
	CHECK(stat(link, &st) < 0 && errno == ENOENT);
	CHECK(!exists_l(dk_fx_dev_path(t.ep)));
	CHECK(exists_l(root_path(t.fx, "bus/pci/drivers/nvme/0000:03:00.0")));
	dk_fx_free(t.fx);
}

/* Run fn in a child; return what it wrote on stderr and whether it aborted. */
static int child_aborts(void (*fn)(struct dk_fx *), struct dk_fx *fx, char *msg, size_t len)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		signal(SIGABRT, SIG_DFL);
		fn(fx);
		_exit(0);
	}
	close(pfd[1]);
	size_t n = 0;
	ssize_t r;
	while (n < len - 1 && (r = read(pfd[0], msg + n, len - 1 - n)) > 0)
		n += (size_t)r;
	msg[n] = '\0';
	close(pfd[0]);
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void add_twice(struct dk_fx *fx)
{
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	dk_fx_add(fx, "0000:00:09.0", NULL, &s);
}

static void add_bad_address(struct dk_fx *fx)
{
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	dk_fx_add(fx, "0000:00:20.0", NULL, &s); /* device 0x20 > 31 */
}

static struct dk_fx_dev *g_victim;

static void read_missing(struct dk_fx *fx)
{
	(void)fx;
	char buf[8];
	dk_fx_read(g_victim, "no_such_attribute", buf, sizeof(buf));
}

static void read_removed(struct dk_fx *fx)
{
	(void)fx;
	char buf[8];
	dk_fx_remove_device_dir(g_victim);
	dk_fx_read(g_victim, "vendor", buf, sizeof(buf));
}

DK_TEST(misuse_and_io_errors_abort_with_a_message)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	g_victim = dk_fx_add(fx, "0000:00:09.0", NULL, &s);
	char msg[1024];
	CHECK_INT_EQ(child_aborts(add_twice, fx, msg, sizeof(msg)), 1);
	CHECK_STR_CONTAINS(msg, "fixture: 0000:00:09.0 added twice");
	CHECK_INT_EQ(child_aborts(add_bad_address, fx, msg, sizeof(msg)), 1);
	CHECK_STR_CONTAINS(msg, "\"0000:00:20.0\" is not a PCI address");
	CHECK_INT_EQ(child_aborts(read_missing, fx, msg, sizeof(msg)), 1);
	CHECK_STR_CONTAINS(msg, "0000:00:09.0/no_such_attribute: No such file or directory");
	/* The child removed the directory of the shared tree before failing. */
	CHECK_INT_EQ(child_aborts(read_removed, fx, msg, sizeof(msg)), 1);
	CHECK_STR_CONTAINS(msg, "dk_fx_read 0000:00:09.0/vendor: the device was removed");
	dk_fx_free(fx);
}
