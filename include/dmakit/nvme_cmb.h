/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/nvme_cmb.h - an NVMe controller's memory buffer (CMB) as a P2P
 * provider (dmakit/p2p.h), drivers/nvme_cmb: a library of its own
 * (libdmakit-nvme-cmb) over the public API.
 *
 * Device facts (NVMe base specification; what Linux's nvme driver does in
 * nvme_map_cmb):
 *   CAP    0x00 (64-bit)  bit 57 CMBS: the controller has CMBMSC; CMBLOC and
 *                         CMBSZ read 0 until CMBMSC.CRE is set
 *   CMBLOC 0x38  BIR bits 2:0 (the BAR), OFST bits 31:12 (offset in SZU units)
 *   CMBSZ  0x3c  SQS bit 0, CQS 1, LISTS 2, RDS 3 (read data), WDS 4 (write
 *                data), SZU bits 11:8 (unit 4 KiB << 4*SZU), SZ bits 31:12
 *                (size in units); 0: no CMB
 *   CMBMSC 0x50 (64-bit)  CRE bit 0 (capability registers enabled), CMSE
 *                bit 1 (controller memory space enabled), CBA bits 63:12
 *                (the address the controller sees the CMB at)
 *
 * Enabling (dk_nvme_cmb_enable), in the kernel's order: with CAP.CMBS set,
 * write CMBMSC.CRE first; read CMBSZ (0: no CMB) and CMBLOC; refuse an
 * offset beyond the BAR; clamp the size to what the BAR holds after the
 * offset (a controller may report more than its BAR, behind a bridge);
 * with CAP.CMBS, write CMBMSC = CRE | CMSE | CBA, CBA the bus address of
 * the CMB (BAR address + offset; the CPU address from sysfs "resource",
 * which is the bus address on x86). 64-bit registers are written high
 * half first, as the kernel does.
 *
 * Attaching (dk_nvme_cmb_attach, the driver's probe) then adds the CMB as
 * a P2P resource (dk_p2p_add_resource) and publishes it only when the
 * controller supports both reads and writes of data in it (RDS and WDS).
 *
 * The PCI driver (dk_nvme_cmb_driver_register) takes NVMe controllers
 * (class 01:08:02) bound to vfio-pci (DK_PCI_DRV_NEED_VFIO); it does not
 * drive the controller's queues. Its remove calls dk_p2p_remove, which
 * refuses (-EBUSY) while CMB memory is allocated: free it first.
 *
 * Errors are negative errno values, each failure logged with the fix.
 * Thread-safety: dk_nvme_cmb_enable/attach on one device are not
 * concurrent with each other or with the device's probe/remove; distinct
 * devices are independent.
 */
#ifndef DMAKIT_NVME_CMB_H
#define DMAKIT_NVME_CMB_H

#include <stdbool.h>
#include <stdint.h>

#include <dmakit/pci.h>

DK_BEGIN_DECLS

#define DK_NVME_CLASS 0x010802u /* mass storage, NVM, NVMe */

#define DK_NVME_REG_CAP 0x00
#define DK_NVME_REG_CMBLOC 0x38
#define DK_NVME_REG_CMBSZ 0x3c
#define DK_NVME_REG_CMBMSC 0x50

#define DK_NVME_CAP_CMBS (1ull << 57)
#define DK_NVME_CMBSZ_SQS (1u << 0)
#define DK_NVME_CMBSZ_CQS (1u << 1)
#define DK_NVME_CMBSZ_LISTS (1u << 2)
#define DK_NVME_CMBSZ_RDS (1u << 3)
#define DK_NVME_CMBSZ_WDS (1u << 4)
#define DK_NVME_CMBMSC_CRE (1ull << 0)
#define DK_NVME_CMBMSC_CMSE (1ull << 1)

/* Register access to the controller's BAR0. NULL in the calls below: MMIO
 * through VFIO (dk_pci_mmio_read32/write32; the device must be open). A
 * function returns 0 or a negative errno. */
struct dk_nvme_cmb_regs {
	int (*read32)(void *ctx, uint32_t off, uint32_t *val);
	int (*write32)(void *ctx, uint32_t off, uint32_t val);
	void *ctx;
};

/* What dk_nvme_cmb_enable found. */
struct dk_nvme_cmb_layout {
	uint64_t cap;       /* CAP */
	uint32_t cmbsz;     /* CMBSZ, CMBLOC as read after CRE */
	uint32_t cmbloc;
	bool cmbs;          /* CAP.CMBS: CMBMSC was written */
	unsigned int bar;   /* CMBLOC.BIR */
	uint64_t offset;    /* in the BAR, bytes */
	uint64_t size;      /* bytes, clamped to the BAR */
	uint64_t reported;  /* bytes CMBSZ reports (before the clamp) */
	uint64_t cba;       /* CMBMSC.CBA written (0 without CMBS) */
	bool publish;       /* RDS and WDS both set */
};

/*
 * Enable and read the CMB of NVMe controller dev (see above); no P2P
 * resource is added. regs NULL: MMIO through VFIO. 0 and *out, or:
 *   -EINVAL  NULL dev or out; CMBLOC.BIR names a BAR that is absent or
 *            not memory; the offset is beyond the BAR; a size of 0 units
 *   -ENODEV  CMBSZ reads 0: the controller has no CMB (not an error of
 *            the device; logged at info level)
 *   the register access's errno (-ENODEV: not open through VFIO)
 * The others are logged with the fix.
 */
DK_EXPORT int dk_nvme_cmb_enable(const struct dk_pci_device *dev,
				 const struct dk_nvme_cmb_regs *regs,
				 struct dk_nvme_cmb_layout *out);

/*
 * dk_nvme_cmb_enable, then dk_p2p_add_resource(dev, bar, size, offset)
 * and, when RDS and WDS are set, dk_p2p_publish(dev, true). out may be
 * NULL. 0, or dk_nvme_cmb_enable's and dk_p2p_add_resource's errors (the
 * offset and size must be page multiples: -EINVAL otherwise).
 */
DK_EXPORT int dk_nvme_cmb_attach(struct dk_pci_device *dev, const struct dk_nvme_cmb_regs *regs,
				 struct dk_nvme_cmb_layout *out);

/* Register / unregister the PCI driver "nvme_cmb" (class 01:08:02,
 * vfio-pci only). dk_pci_driver_register's and _unregister's errors. */
DK_EXPORT int dk_nvme_cmb_driver_register(void);
DK_EXPORT int dk_nvme_cmb_driver_unregister(void);

/* The layout of a device the driver probed: 0 and *out, -EINVAL (NULL),
 * -ENODEV (not driven by nvme_cmb). */
DK_EXPORT int dk_nvme_cmb_get(const struct dk_pci_device *dev, struct dk_nvme_cmb_layout *out);

DK_END_DECLS

#endif
