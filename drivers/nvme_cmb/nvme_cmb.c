/* SPDX-License-Identifier: BSD-3-Clause */
/* contract: include/dmakit/nvme_cmb.h */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DK_LOG_COMPONENT "nvme_cmb"
#include <dmakit/bus.h>
#include <dmakit/log.h>
#include <dmakit/nvme_cmb.h>
#include <dmakit/p2p.h>
#include <dmakit/pci.h>

#define CMBLOC_BIR(v) ((v) & 0x7u)
#define CMBLOC_OFST(v) ((v) >> 12)
#define CMBSZ_SZU(v) (((v) >> 8) & 0xfu)
#define CMBSZ_SZ(v) ((v) >> 12)
#define SZU_MAX 6 /* 64 GiB units; larger values are reserved */

/* ---- register access ------------------------------------------------------ */

struct io {
	const struct dk_pci_device *dev;
	const struct dk_nvme_cmb_regs *regs;
};

static int rd32(const struct io *io, uint32_t off, uint32_t *v)
{
	if (io->regs)
		return io->regs->read32(io->regs->ctx, off, v);
	return dk_pci_mmio_read32(io->dev, 0, off, v);
}

static int wr32(const struct io *io, uint32_t off, uint32_t v)
{
	if (io->regs)
		return io->regs->write32(io->regs->ctx, off, v);
	return dk_pci_mmio_write32(io->dev, 0, off, v);
}

static int rd64(const struct io *io, uint32_t off, uint64_t *v)
{
	uint32_t lo, hi;
	int rc = rd32(io, off, &lo);
	if (rc == 0)
		rc = rd32(io, off + 4, &hi);
	if (rc == 0)
		*v = (uint64_t)hi << 32 | lo;
	return rc;
}

/* High half first, then the low half (which holds CRE and CMSE). */
static int wr64_hi_lo(const struct io *io, uint32_t off, uint64_t v)
{
	int rc = wr32(io, off + 4, (uint32_t)(v >> 32));
	return rc < 0 ? rc : wr32(io, off, (uint32_t)v);
}

static int reg_fail(const struct dk_pci_device *dev, const char *what, int rc)
{
	DK_ERR("%s: NVMe %s: %s: open the controller through VFIO (dmakit bind %s vfio-pci) and check it is not being reset",
	       dev->device.name, what, strerror(-rc), dev->device.name);
	return rc;
}

/* ---- enabling --------------------------------------------------------------- */

/* CMBSZ/CMBLOC -> bar, offset, size (clamped); -EINVAL with the reason. */
static int decode(const struct dk_pci_device *dev, struct dk_nvme_cmb_layout *l)
{
	const char *n = dev->device.name;
	unsigned int szu = CMBSZ_SZU(l->cmbsz);
	if (szu > SZU_MAX || CMBSZ_SZ(l->cmbsz) == 0) {
		DK_ERR("%s: CMBSZ 0x%08x has %s: the controller reports no usable CMB; update its firmware",
		       n, l->cmbsz, szu > SZU_MAX ? "a reserved size unit" : "a size of 0 units");
		return -EINVAL;
	}
	uint64_t unit = 4096ull << (4 * szu);
	l->bar = CMBLOC_BIR(l->cmbloc);
	l->offset = unit * CMBLOC_OFST(l->cmbloc);
	l->reported = unit * CMBSZ_SZ(l->cmbsz);
	const struct dk_pci_bar *b = l->bar < DK_PCI_NUM_BARS ? &dev->bars[l->bar] : NULL;
	if (!b || !b->len || !(b->flags & DK_PCI_BAR_MEM)) {
		DK_ERR("%s: CMBLOC 0x%08x names BAR %u, which is no memory BAR of the device: the CMB cannot be used",
		       n, l->cmbloc, l->bar);
		return -EINVAL;
	}
	if (l->offset >= b->len) {
		DK_ERR("%s: the CMB starts at offset 0x%" PRIx64 ", beyond BAR %u (0x%" PRIx64 " bytes): the CMB cannot be used (the kernel refuses it too)",
		       n, l->offset, l->bar, b->len);
		return -EINVAL;
	}
	l->size = l->reported;
	if (l->size > b->len - l->offset) {
		DK_INFO("%s: CMB of 0x%" PRIx64 " bytes clamped to the 0x%" PRIx64 " bytes BAR %u holds after offset 0x%" PRIx64,
			n, l->reported, b->len - l->offset, l->bar, l->offset);
		l->size = b->len - l->offset;
	}
	return 0;
}

/* CAP.CMBS set: CRE before CMBSZ/CMBLOC can be read. */
static int read_cmb_regs(const struct io *io, struct dk_nvme_cmb_layout *l)
{
	int rc;
	if (l->cmbs && (rc = wr64_hi_lo(io, DK_NVME_REG_CMBMSC, DK_NVME_CMBMSC_CRE)) < 0)
		return reg_fail(io->dev, "CMBMSC write", rc);
	if ((rc = rd32(io, DK_NVME_REG_CMBSZ, &l->cmbsz)) < 0 ||
	    (rc = rd32(io, DK_NVME_REG_CMBLOC, &l->cmbloc)) < 0)
		return reg_fail(io->dev, "CMBSZ/CMBLOC read", rc);
	return 0;
}

int dk_nvme_cmb_enable(const struct dk_pci_device *dev, const struct dk_nvme_cmb_regs *regs,
		       struct dk_nvme_cmb_layout *out)
{
	if (!dev || !out || (regs && (!regs->read32 || !regs->write32))) {
		DK_ERR("dk_nvme_cmb_enable: NULL %s: pass the controller, the layout to fill and (optionally) both register functions",
		       !dev ? "device" : !out ? "layout" : "register function");
		return -EINVAL;
	}
	struct io io = {dev, regs};
	struct dk_nvme_cmb_layout l = {0};
	int rc = rd64(&io, DK_NVME_REG_CAP, &l.cap);
	if (rc < 0)
		return reg_fail(dev, "CAP read", rc);
	l.cmbs = (l.cap & DK_NVME_CAP_CMBS) != 0;
	if ((rc = read_cmb_regs(&io, &l)) < 0)
		return rc;
	if (l.cmbsz == 0) {
		DK_INFO("%s: no controller memory buffer (CMBSZ 0)", dev->device.name);
		return -ENODEV;
	}
	if ((rc = decode(dev, &l)) < 0)
		return rc;
	if (l.cmbs) {
		l.cba = dev->bars[l.bar].phys_addr + l.offset;
		rc = wr64_hi_lo(&io, DK_NVME_REG_CMBMSC,
				DK_NVME_CMBMSC_CRE | DK_NVME_CMBMSC_CMSE | (l.cba & ~0xfffull));
		if (rc < 0)
			return reg_fail(dev, "CMBMSC write", rc);
	}
	l.publish = (l.cmbsz & (DK_NVME_CMBSZ_RDS | DK_NVME_CMBSZ_WDS)) ==
		    (DK_NVME_CMBSZ_RDS | DK_NVME_CMBSZ_WDS);
	*out = l;
	return 0;
}

int dk_nvme_cmb_attach(struct dk_pci_device *dev, const struct dk_nvme_cmb_regs *regs,
		       struct dk_nvme_cmb_layout *out)
{
	struct dk_nvme_cmb_layout l;
	int rc = dk_nvme_cmb_enable(dev, regs, &l);
	if (rc < 0)
		return rc;
	if ((rc = dk_p2p_add_resource(dev, l.bar, l.size, l.offset)) < 0) {
		DK_ERR("%s: the CMB (BAR %u 0x%" PRIx64 "+0x%" PRIx64 ") cannot be a P2P resource: see the message above",
		       dev->device.name, l.bar, l.offset, l.size);
		return rc;
	}
	if (l.publish && (rc = dk_p2p_publish(dev, true)) < 0)
		goto err_remove;
	DK_INFO("%s: CMB of 0x%" PRIx64 " bytes at BAR %u offset 0x%" PRIx64 " added as P2P memory%s",
		dev->device.name, l.size, l.bar, l.offset,
		l.publish ? ", published" : ", not published (the controller does not support both reads and writes of data in it)");
	if (out)
		*out = l;
	return 0;

err_remove:
	dk_p2p_remove(dev);
	return rc;
}

/* ---- the PCI driver ------------------------------------------------------------ */

static int probe(struct dk_pci_driver *drv, struct dk_pci_device *dev)
{
	(void)drv;
	struct dk_nvme_cmb_layout *l = calloc(1, sizeof(*l));
	if (!l) {
		DK_ERR("%s: out of memory for the CMB driver's state", dev->device.name);
		return -ENOMEM;
	}
	int rc = dk_nvme_cmb_attach(dev, NULL, l);
	if (rc < 0) {
		free(l);
		return rc;
	}
	dev->device.driver_data = l;
	return 0;
}

static int remove_dev(struct dk_pci_device *dev)
{
	struct dk_nvme_cmb_layout *l = dev->device.driver_data;
	if (!l)
		return -ENODEV;
	int rc = dk_p2p_remove(dev);
	if (rc < 0)
		return rc;
	dev->device.driver_data = NULL;
	free(l);
	return 0;
}

static const struct dk_pci_id_match g_ids[] = {
	DK_PCI_CLASS(DK_NVME_CLASS, 0xffffffu),
	{.vendor_id = 0},
};

static struct dk_pci_driver g_drv = {
	.driver = {.name = "nvme_cmb"},
	.id_table = g_ids,
	.flags = DK_PCI_DRV_NEED_VFIO,
	.probe = probe,
	.remove = remove_dev,
};

int dk_nvme_cmb_driver_register(void)
{
	return dk_pci_driver_register(&g_drv);
}

int dk_nvme_cmb_driver_unregister(void)
{
	return dk_pci_driver_unregister(&g_drv);
}

int dk_nvme_cmb_get(const struct dk_pci_device *dev, struct dk_nvme_cmb_layout *out)
{
	if (!dev || !out) {
		DK_ERR("dk_nvme_cmb_get: NULL %s", !dev ? "device" : "layout");
		return -EINVAL;
	}
	if (dev->device.driver != &g_drv.driver || !dev->device.driver_data)
		return -ENODEV;
	*out = *(const struct dk_nvme_cmb_layout *)dev->device.driver_data;
	return 0;
}
