/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/nvme_cmb with a fake register file: CAP, CMBLOC, CMBSZ and CMBMSC
 * of a controller that, with CAP.CMBS, reads CMBLOC/CMBSZ as 0 until
 * CMBMSC.CRE is written (as the NVMe specification and QEMU's nvme do).
 * The writes are recorded in order. The device is a sysfs fixture under
 * dk_init (BAR2: 256 KiB of memory whose resource2 is a file, BAR4: I/O),
 * so dk_nvme_cmb_attach adds a real P2P resource.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dmakit.h>
#include <dmakit/nvme_cmb.h>

#include "fixture.h"
#include "tap.h"

#define DEV "0000:01:00.0"
#define BAR2_CPU 0x800000000ull
#define BAR2_LEN 0x40000ull

struct fake {
	uint64_t cap;
	uint32_t cmbsz, cmbloc;
	uint64_t cmbmsc;
	int fail_read; /* register offset whose read fails, or -1 */
	int nw;
	uint32_t w_off[8], w_val[8];
};

static int f_read(void *ctx, uint32_t off, uint32_t *v)
{
	struct fake *f = ctx;
	if ((int)off == f->fail_read)
		return -EIO;
	bool hidden = (f->cap & DK_NVME_CAP_CMBS) && !(f->cmbmsc & DK_NVME_CMBMSC_CRE);
	switch (off) {
	case DK_NVME_REG_CAP: *v = (uint32_t)f->cap; return 0;
	case DK_NVME_REG_CAP + 4: *v = (uint32_t)(f->cap >> 32); return 0;
	case DK_NVME_REG_CMBLOC: *v = hidden ? 0 : f->cmbloc; return 0;
	case DK_NVME_REG_CMBSZ: *v = hidden ? 0 : f->cmbsz; return 0;
	default: *v = 0; return 0;
	}
}

static int f_write(void *ctx, uint32_t off, uint32_t v)
{
	struct fake *f = ctx;
	if (f->nw < 8) {
		f->w_off[f->nw] = off;
		f->w_val[f->nw] = v;
	}
	f->nw++;
	if (off == DK_NVME_REG_CMBMSC)
		f->cmbmsc = (f->cmbmsc & ~0xffffffffull) | v;
	else if (off == DK_NVME_REG_CMBMSC + 4)
		f->cmbmsc = (f->cmbmsc & 0xffffffffull) | (uint64_t)v << 32;
	return 0;
}

#define SZ(units, szu, flags) (((uint32_t)(units) << 12) | ((uint32_t)(szu) << 8) | (flags))
#define RW (DK_NVME_CMBSZ_RDS | DK_NVME_CMBSZ_WDS)

static struct dk_fx *g_fx;

static struct dk_pci_device *setup(void)
{
	g_fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.class_code = DK_NVME_CLASS;
	s.bars[2] = (struct dk_fx_bar){BAR2_CPU, BAR2_LEN, 0x200 | 0x100000};
	s.bars[4] = (struct dk_fx_bar){0xe000, 0x100, 0x100};
	struct dk_fx_dev *d = dk_fx_add(g_fx, DEV, NULL, &s);
	char path[4096];
	snprintf(path, sizeof(path), "%s/resource2", dk_fx_dev_path(d));
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)BAR2_LEN) == 0);
	close(fd);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(g_fx);
	p.flags = DK_INIT_NO_PROBE;
	p.log_level = DK_LOG_ERR;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	struct dk_pci_device *dev = dk_pci_find(DEV);
	REQUIRE(dev);
	return dev;
}

static void teardown(void)
{
	dk_cleanup();
	dk_fx_free(g_fx);
}

static struct fake fake(uint64_t cap, uint32_t cmbsz, uint32_t cmbloc)
{
	return (struct fake){.cap = cap, .cmbsz = cmbsz, .cmbloc = cmbloc, .fail_read = -1};
}

DK_TEST(cmbs_enables_cre_first_then_the_controller_base)
{
	struct dk_pci_device *dev = setup();
	/* 4 KiB units: 16 of them (64 KiB) at offset 2 units of BAR2 */
	struct fake f = fake(DK_NVME_CAP_CMBS, SZ(16, 0, RW | DK_NVME_CMBSZ_SQS), (2u << 12) | 2);
	struct dk_nvme_cmb_regs r = {f_read, f_write, &f};
	struct dk_nvme_cmb_layout l;
	REQUIRE_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), 0);
	CHECK(l.cmbs);
	CHECK_INT_EQ(l.bar, 2);
	CHECK_INT_EQ(l.offset, 0x2000);
	CHECK_INT_EQ(l.size, 0x10000);
	CHECK_INT_EQ(l.reported, 0x10000);
	CHECK(l.publish);
	CHECK_INT_EQ(l.cba, BAR2_CPU + 0x2000);
	/* CRE (high half first), then CRE | CMSE | CBA (high half first) */
	REQUIRE_INT_EQ(f.nw, 4);
	CHECK_INT_EQ(f.w_off[0], DK_NVME_REG_CMBMSC + 4);
	CHECK_INT_EQ(f.w_val[0], 0);
	CHECK_INT_EQ(f.w_off[1], DK_NVME_REG_CMBMSC);
	CHECK_INT_EQ(f.w_val[1], 1);
	CHECK_INT_EQ(f.w_off[2], DK_NVME_REG_CMBMSC + 4);
	CHECK_INT_EQ(f.w_val[2], (uint32_t)((BAR2_CPU + 0x2000) >> 32));
	CHECK_INT_EQ(f.w_off[3], DK_NVME_REG_CMBMSC);
	CHECK_INT_EQ(f.w_val[3], (uint32_t)(BAR2_CPU + 0x2000) | 3);
	teardown();
}

DK_TEST(without_cmbs_nothing_is_written)
{
	struct dk_pci_device *dev = setup();
	struct fake f = fake(0, SZ(1, 1, RW), 2); /* one 64 KiB unit at offset 0 */
	struct dk_nvme_cmb_regs r = {f_read, f_write, &f};
	struct dk_nvme_cmb_layout l;
	REQUIRE_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), 0);
	CHECK(!l.cmbs);
	CHECK_INT_EQ(f.nw, 0);
	CHECK_INT_EQ(l.size, 0x10000);
	CHECK_INT_EQ(l.cba, 0);
	teardown();
}

DK_TEST(size_is_clamped_to_the_bar)
{
	struct dk_pci_device *dev = setup();
	/* 1 MiB reported (16 units of 64 KiB) at offset 64 KiB: BAR2 holds 192 KiB after it */
	struct fake f = fake(DK_NVME_CAP_CMBS, SZ(16, 1, RW), (1u << 12) | 2);
	struct dk_nvme_cmb_regs r = {f_read, f_write, &f};
	struct dk_nvme_cmb_layout l;
	REQUIRE_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), 0);
	CHECK_INT_EQ(l.offset, 0x10000);
	CHECK_INT_EQ(l.reported, 0x100000);
	CHECK_INT_EQ(l.size, BAR2_LEN - 0x10000);
	teardown();
}

DK_TEST(bad_layouts_are_refused)
{
	struct dk_pci_device *dev = setup();
	struct dk_nvme_cmb_layout l = {.size = 77};
	struct dk_nvme_cmb_regs r;
	struct fake f;
	dk_test_log_capture_start();
	/* offset beyond BAR2: 4 units of 64 KiB = 256 KiB = its length */
	f = fake(DK_NVME_CAP_CMBS, SZ(1, 1, RW), (4u << 12) | 2);
	r = (struct dk_nvme_cmb_regs){f_read, f_write, &f};
	CHECK_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "beyond BAR 2");
	CHECK_INT_EQ(f.nw, 2); /* CRE only: CMSE and CBA are not written */
	/* BIR names an absent BAR, an I/O BAR, a BIR beyond 5 */
	const uint32_t birs[] = {1, 4, 7};
	for (unsigned int i = 0; i < 3; i++) {
		f = fake(0, SZ(1, 0, RW), birs[i]);
		r.ctx = &f;
		CHECK_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), -EINVAL);
	}
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no memory BAR");
	/* a reserved size unit, 0 units */
	f = fake(0, SZ(1, 7, RW), 2);
	r.ctx = &f;
	CHECK_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "reserved size unit");
	f = fake(0, SZ(0, 0, RW), 2);
	r.ctx = &f;
	CHECK_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), -EINVAL);
	/* a register read fails */
	f = fake(DK_NVME_CAP_CMBS, SZ(1, 0, RW), 2);
	f.fail_read = DK_NVME_REG_CMBSZ;
	r.ctx = &f;
	CHECK_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), -EIO);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "CMBSZ/CMBLOC read");
	/* NULLs */
	CHECK_INT_EQ(dk_nvme_cmb_enable(NULL, &r, &l), -EINVAL);
	CHECK_INT_EQ(dk_nvme_cmb_enable(dev, &r, NULL), -EINVAL);
	struct dk_nvme_cmb_regs half = {f_read, NULL, &f};
	CHECK_INT_EQ(dk_nvme_cmb_enable(dev, &half, &l), -EINVAL);
	dk_test_log_capture_stop();
	/* no CMB: CMBSZ 0 */
	f = fake(DK_NVME_CAP_CMBS, 0, 0);
	r.ctx = &f;
	CHECK_INT_EQ(dk_nvme_cmb_enable(dev, &r, &l), -ENODEV);
	CHECK_INT_EQ(l.size, 77); /* untouched by every failure */
	/* not open through VFIO: MMIO refused */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_nvme_cmb_enable(dev, NULL, &l), -ENODEV);
	dk_test_log_capture_stop();
	teardown();
}

DK_TEST(attach_publishes_only_with_reads_and_writes)
{
	struct dk_pci_device *dev = setup();
	struct dk_p2p_stats st;
	/* writes only: a resource, not published */
	struct fake f = fake(DK_NVME_CAP_CMBS, SZ(16, 0, DK_NVME_CMBSZ_WDS), 2);
	struct dk_nvme_cmb_regs r = {f_read, f_write, &f};
	struct dk_nvme_cmb_layout l;
	REQUIRE_INT_EQ(dk_nvme_cmb_attach(dev, &r, &l), 0);
	CHECK(!l.publish);
	REQUIRE_INT_EQ(dk_p2p_stats(dev, &st), 0);
	CHECK_INT_EQ(st.size, 0x10000);
	CHECK(!st.published);
	CHECK_INT_EQ(dk_p2p_remove(dev), 0);
	/* reads only: not published either */
	f = fake(0, SZ(16, 0, DK_NVME_CMBSZ_RDS), 2);
	REQUIRE_INT_EQ(dk_nvme_cmb_attach(dev, &r, NULL), 0);
	REQUIRE_INT_EQ(dk_p2p_stats(dev, &st), 0);
	CHECK(!st.published);
	CHECK_INT_EQ(dk_p2p_remove(dev), 0);
	/* both: published, and the CMB is allocatable P2P memory */
	f = fake(DK_NVME_CAP_CMBS, SZ(16, 0, RW), (4u << 12) | 2);
	REQUIRE_INT_EQ(dk_nvme_cmb_attach(dev, &r, &l), 0);
	REQUIRE_INT_EQ(dk_p2p_stats(dev, &st), 0);
	CHECK(st.published);
	CHECK_INT_EQ(st.size, 0x10000);
	void *buf = dk_p2p_alloc(dev, 4096);
	REQUIRE(buf);
	CHECK_INT_EQ(dk_p2p_virt_to_bus(dev, buf) & ~0xfffffull, BAR2_CPU);
	CHECK_INT_EQ(dk_p2p_free(dev, buf, 4096), 0);
	/* a second attach: the range is a resource already */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_nvme_cmb_attach(dev, &r, &l), -EBUSY);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_remove(dev), 0);
	teardown();
}

DK_TEST(get_of_a_device_the_driver_does_not_drive)
{
	struct dk_pci_device *dev = setup();
	struct dk_nvme_cmb_layout l;
	CHECK_INT_EQ(dk_nvme_cmb_get(dev, &l), -ENODEV);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_nvme_cmb_get(NULL, &l), -EINVAL);
	dk_test_log_capture_stop();
	REQUIRE_INT_EQ(dk_nvme_cmb_driver_register(), 0);
	CHECK_INT_EQ(dk_nvme_cmb_driver_register(), -EEXIST);
	CHECK_INT_EQ(dk_nvme_cmb_driver_unregister(), 0);
	teardown();
}
