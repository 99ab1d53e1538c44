/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mkfixture - build the sysfs tree the CLI tests (test_cli.sh) run against
 * and print its root directory on stdout.
 *
 *   mkfixture [--keep] [--mdev | --p2p]
 *
 * With --keep the tree stays for the caller (who removes it: rm -rf ROOT);
 * without, it is removed again before exit (a self-check of the builder).
 *
 * The tree (domain 0000), with IOMMU groups in brackets:
 *
 *   pci0000:00
 *   +-00:00.0 host bridge 8086:29c0                                  [0]
 *   +-00:02.0 GPU 10de:1eb8, vfio-pci                                [9]
 *   +-00:02.1 its HD audio function 10de:10f8, snd_hda_intel          [9]
 *   \-00:1c.0 root port (pcieport)                                   [1]
 *     \-01:00.0 switch upstream port (pcieport)                      [2]
 *       +-02:00.0 downstream port, ACS cap SV TB RR CR UF, ctrl SV RR CR UF [3]
 *       | \-03:00.0 NVMe 1b36:0010, nvme, NUMA 0, MSI-X 32 in BAR0     [5]
 *       \-02:01.0 downstream port, default ACS (SV RR CR UF)         [4]
 *         +-04:00.0 PF 8086:1572, i40e, SR-IOV 4 total / 2 VFs (154c) [6]
 *         +-04:00.1 second PF function 8086:1572, i40e               [6]
 *         +-04:02.0 VF0 8086:154c, iavf                              [7]
 *         \-04:02.1 VF1 8086:154c, unbound                           [8]
 *
 * With --mdev the tree holds mediated devices instead (no PCI functions):
 *
 *   parent ccw0:  vfio_ccw-io (vfio-ccw, 1 left, no name file,
 *                 description "I/O subchannel (Non-QDIO)" on two lines)
 *                   7e57a3b2-1c2d-4e5f-8a9b-0c1d2e3f4a5b              [13]
 *   parent mtty:  mtty-1 (vfio-pci, 24 left, name "Single port serial")
 *                 mtty-2 (vfio-pci, 10 left, name "Dual port serial")
 *                   9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b10              [12]
 *                   0a1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b11              [14]
 *
 * With --p2p a tree for the peer-to-peer commands (test_p2p_cli.sh): two
 * host bridges 8086:1237 (not on the kernel's P2P whitelist), no IOMMU groups:
 *
 *   pci0000:00
 *   +-00:00.0 host bridge 8086:1237
 *   +-00:01.0 root port, ACS ctrl 0
 *   | \-01:00.0 switch upstream port
 *   |   +-02:00.0 downstream port, ACS ctrl 0
 *   |   | \-03:00.0 NVMe 1b36:0010, BAR0 16 KiB MEM64 (the provider)
 *   |   \-02:01.0 downstream port, ACS ctrl 0
 *   |     \-04:00.0 endpoint 1b36:0010
 *   \-00:02.0 root port, ACS ctrl SV RR CR UF (the default)
 *     +-05:00.0 endpoint 1b36:0010, multi-function
 *     \-05:00.1 endpoint 1b36:0010, no BAR
 *   pci0000:80
 *   +-80:00.0 host bridge 8086:1237
 *   \-80:01.0 root port, ACS ctrl 0
 *     \-81:00.0 endpoint 1b36:0010
 *
 * test_cli.sh depends on these values: change both together.
 */
#include <stdio.h>
#include <string.h>

#include <dmakit/pci.h>

#include "fixture.h"

#define MEM      (0x200ull)    /* IORESOURCE_MEM */
#define MEM64    (0x100000ull) /* IORESOURCE_MEM_64 */
#define PREFETCH (0x2000ull)   /* IORESOURCE_PREFETCH */

static struct dk_fx_spec endpoint(uint16_t vendor, uint16_t device, uint32_t class_code, int group,
				  const char *driver)
{
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.vendor = vendor;
	s.device = device;
	s.subsys_vendor = vendor;
	s.subsys_device = 0x0001;
	s.class_code = class_code;
	s.revision = 0x01;
	s.iommu_group = group;
	s.driver = driver;
	return s;
}

static void build(struct dk_fx *fx)
{
	/* Root bus. */
	struct dk_fx_spec hb = endpoint(0x8086, 0x29c0, 0x060000, 0, NULL);
	hb.pcie_type = -1;
	hb.subsys_vendor = 0;
	hb.subsys_device = 0;
	hb.revision = 0;
	memset(hb.bars, 0, sizeof(hb.bars));
	hb.config_len = 256;
	dk_fx_add(fx, "0000:00:00.0", NULL, &hb);

	struct dk_fx_spec gpu = endpoint(0x10de, 0x1eb8, 0x030000, 9, "vfio-pci");
	gpu.multifunction = 1;
	gpu.revision = 0xa1;
	gpu.bars[0].start = 0xfd000000ull;
	gpu.bars[0].len = 0x1000000;
	gpu.bars[0].flags = MEM;
	gpu.bars[1].start = 0x3800000000ull;
	gpu.bars[1].len = 0x10000000;
	gpu.bars[1].flags = MEM | MEM64 | PREFETCH;
	gpu.msi_vectors = 1;
	dk_fx_add(fx, "0000:00:02.0", NULL, &gpu);
	struct dk_fx_spec audio = endpoint(0x10de, 0x10f8, 0x040300, 9, "snd_hda_intel");
	audio.revision = 0xa1;
	audio.bars[0].start = 0xfe080000ull;
	audio.bars[0].len = 0x4000;
	audio.bars[0].flags = MEM;
	dk_fx_add(fx, "0000:00:02.1", NULL, &audio);

	/* Root port -> switch. */
	struct dk_fx_spec rp = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	rp.iommu_group = 1;
	struct dk_fx_dev *rpd = dk_fx_add(fx, "0000:00:1c.0", NULL, &rp);
	struct dk_fx_spec up = dk_fx_spec_bridge(DK_PCIE_TYPE_UPSTREAM);
	up.iommu_group = 2;
	struct dk_fx_dev *upd = dk_fx_add(fx, "0000:01:00.0", rpd, &up);

	struct dk_fx_spec dn1 = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	dn1.iommu_group = 3;
	dn1.has_acs = 1;
	dn1.acs_cap = DK_PCI_ACS_SV | DK_PCI_ACS_TB | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF;
	dn1.acs_ctrl = DK_PCI_ACS_SV | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF;
	struct dk_fx_dev *dn1d = dk_fx_add(fx, "0000:02:00.0", upd, &dn1);
	struct dk_fx_spec dn2 = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	dn2.iommu_group = 4;
	struct dk_fx_dev *dn2d = dk_fx_add(fx, "0000:02:01.0", upd, &dn2);

	/* NVMe below the first downstream port. */
	struct dk_fx_spec nvme = dk_fx_spec_endpoint();
	nvme.iommu_group = 5;
	nvme.driver = "nvme";
	nvme.numa_node = 0;
	nvme.msix_vectors = 32;
	nvme.msix_bar = 0;
	dk_fx_add(fx, "0000:03:00.0", dn1d, &nvme);

	/* SR-IOV NIC below the second one. */
	struct dk_fx_spec pf = endpoint(0x8086, 0x1572, 0x020000, 6, "i40e");
	pf.multifunction = 1;
	pf.sriov_total_vfs = 4;
	pf.sriov_num_vfs = 2;
	pf.sriov_vf_device = 0x154c;
	pf.msix_vectors = 129;
	pf.msix_bar = 3;
	pf.bars[3].start = 0xfb000000ull;
	pf.bars[3].len = 0x8000;
	pf.bars[3].flags = MEM | MEM64 | PREFETCH;
	pf.bars[0].start = 0xfc000000ull;
	struct dk_fx_dev *pfd = dk_fx_add(fx, "0000:04:00.0", dn2d, &pf);
	struct dk_fx_spec pf1 = endpoint(0x8086, 0x1572, 0x020000, 6, "i40e");
	pf1.bars[0].start = 0xfc800000ull;
	dk_fx_add(fx, "0000:04:00.1", dn2d, &pf1);

	struct dk_fx_spec vf = endpoint(0x8086, 0x154c, 0x020000, 7, "iavf");
	vf.msix_vectors = 5;
	vf.bars[0].start = 0xfb100000ull;
	dk_fx_add_vf(fx, pfd, 0, "0000:04:02.0", &vf);
	vf.bars[0].start = 0xfb104000ull;
	vf.iommu_group = 8;
	vf.driver = NULL;
	dk_fx_add_vf(fx, pfd, 1, "0000:04:02.1", &vf);
}

static void build_mdev(struct dk_fx *fx)
{
	dk_fx_mdev_type(fx, "mtty", "mtty-1", "vfio-pci", 24);
	dk_fx_mdev_type(fx, "mtty", "mtty-2", "vfio-pci", 10);
	dk_fx_write_rel(fx, dk_fx_mdev_type_file("mtty", "mtty-1", "name"), "Single port serial\n");
	dk_fx_write_rel(fx, dk_fx_mdev_type_file("mtty", "mtty-2", "name"), "Dual port serial\n");
	dk_fx_mdev_type(fx, "ccw0", "vfio_ccw-io", "vfio-ccw", 1);
	dk_fx_remove_rel(fx, dk_fx_mdev_type_file("ccw0", "vfio_ccw-io", "name"));
	dk_fx_write_rel(fx, dk_fx_mdev_type_file("ccw0", "vfio_ccw-io", "description"),
			"I/O subchannel\n(Non-QDIO)\n");
	dk_fx_mdev(fx, "mtty", "mtty-2", "9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b10", 12);
	dk_fx_mdev(fx, "mtty", "mtty-2", "0a1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b11", 14);
	dk_fx_mdev(fx, "ccw0", "vfio_ccw-io", "7e57a3b2-1c2d-4e5f-8a9b-0c1d2e3f4a5b", 13);
}

static struct dk_fx_spec p2p_port(int type)
{
	struct dk_fx_spec s = dk_fx_spec_bridge(type);
	s.acs_ctrl = 0;
	return s;
}

static void p2p_host(struct dk_fx *fx, const char *bdf)
{
	struct dk_fx_spec hb = endpoint(0x8086, 0x1237, 0x060000, -1, NULL);
	hb.pcie_type = -1;
	memset(hb.bars, 0, sizeof(hb.bars));
	hb.config_len = 256;
	dk_fx_add(fx, bdf, NULL, &hb);
}

static void build_p2p(struct dk_fx *fx)
{
	struct dk_fx_spec ep = dk_fx_spec_endpoint();
	p2p_host(fx, "0000:00:00.0");
	struct dk_fx_spec rp1 = p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *rp1d = dk_fx_add(fx, "0000:00:01.0", NULL, &rp1);
	struct dk_fx_spec up = p2p_port(DK_PCIE_TYPE_UPSTREAM);
	struct dk_fx_dev *upd = dk_fx_add(fx, "0000:01:00.0", rp1d, &up);
	struct dk_fx_spec dn = p2p_port(DK_PCIE_TYPE_DOWNSTREAM);
	struct dk_fx_dev *dn1d = dk_fx_add(fx, "0000:02:00.0", upd, &dn);
	struct dk_fx_dev *dn2d = dk_fx_add(fx, "0000:02:01.0", upd, &dn);
	dk_fx_add(fx, "0000:03:00.0", dn1d, &ep);
	dk_fx_add(fx, "0000:04:00.0", dn2d, &ep);

	struct dk_fx_spec rp2 = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *rp2d = dk_fx_add(fx, "0000:00:02.0", NULL, &rp2);
	struct dk_fx_spec mf = ep;
	mf.multifunction = 1;
	dk_fx_add(fx, "0000:05:00.0", rp2d, &mf);
	struct dk_fx_spec nobar = ep;
	memset(nobar.bars, 0, sizeof(nobar.bars));
	dk_fx_add(fx, "0000:05:00.1", rp2d, &nobar);

	p2p_host(fx, "0000:80:00.0");
	struct dk_fx_spec rp3 = p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *rp3d = dk_fx_add(fx, "0000:80:01.0", NULL, &rp3);
	dk_fx_add(fx, "0000:81:00.0", rp3d, &ep);
}

/* Kept reachable so that leak checkers accept the tree handle --keep leaves. */
static struct dk_fx *g_fx;

int main(int argc, char **argv)
{
	int keep = 0, mdev = 0, p2p = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep") == 0) {
			keep = 1;
		} else if (strcmp(argv[i], "--mdev") == 0) {
			mdev = 1;
		} else if (strcmp(argv[i], "--p2p") == 0) {
			p2p = 1;
		} else {
			fprintf(stderr, "usage: mkfixture [--keep] [--mdev | --p2p]\n");
			return 2;
		}
	}
	struct dk_fx *fx = dk_fx_new();
	g_fx = fx;
	if (mdev)
		build_mdev(fx);
	else if (p2p)
		build_p2p(fx);
	else
		build(fx);
	printf("%s\n", dk_fx_root(fx));
	if (fflush(stdout) != 0)
		return 1;
	/* With --keep the handle is left to the process exit: the fixture API
	 * frees only together with removing the tree. */
	if (!keep) {
		dk_fx_free(fx);
		g_fx = NULL;
	}
	return 0;
}
