/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/edu.h - driver for QEMU's "edu" teaching device (PCI 1234:11e8),
 * the VM suite's DMA engine (drivers/edu/edu.c).
 *
 * Device facts (QEMU docs/specs/edu.rst): BAR0 is 1 MiB of registers:
 *   0x00 ID (0x010000ed), 0x04 liveness (reads back ~value), 0x08 factorial,
 *   0x20 status (bit 0 computing, bit 7 raise an IRQ when the factorial is
 *   done), 0x24 IRQ status, 0x60 raise IRQ, 0x64 acknowledge IRQ,
 *   0x80 DMA source, 0x88 DMA destination, 0x90 DMA count, 0x98 DMA command
 *   (bit 0 start/busy, bit 1 direction: 1 = device to RAM, bit 2 raise IRQ
 *   0x100 when done). The device has a 4096-byte buffer at device address
 *   0x40000. QEMU 7.2 aborts on a transfer covering the whole buffer, so
 *   transfers are limited to DK_EDU_DMA_MAX bytes.
 *
 * The driver registers itself as a PCI driver (NEED_VFIO: it probes edu
 * devices bound to vfio-pci at dk_init) and can also open a device
 * explicitly. Completion waits on MSI through an eventfd, or polls the
 * status registers when MSI cannot be enabled (dk_edu_uses_irq says which).
 * DMA addresses are IOVAs of dmakit memory (dk_malloc, external heaps with
 * IOVAs): the library maps them into the device's container.
 *
 * Thread-safety: one thread per device at a time (a mutex inside makes
 * concurrent calls wait their turn).
 */
#ifndef DMAKIT_EDU_H
#define DMAKIT_EDU_H

#include <dmakit/pci.h>

DK_BEGIN_DECLS

#define DK_EDU_VENDOR 0x1234
#define DK_EDU_DEVICE 0x11e8
#define DK_EDU_ID_VALUE 0x010000edu
#define DK_EDU_BUF_ADDR 0x40000u /* the device's buffer, as the DMA engine sees it */
#define DK_EDU_BUF_SIZE 4096u
#define DK_EDU_DMA_MAX (DK_EDU_BUF_SIZE - 8u)

struct dk_edu;

/*
 * Open an edu device (bound to vfio-pci) explicitly: opens it through VFIO,
 * checks the ID register, enables MSI with an eventfd (falls back to
 * polling with a log line when it cannot). 0 and *out, or:
 *   -EINVAL  NULL arguments; -ENODEV not an edu device / not bound to
 *   vfio-pci (message says how to bind it); -EIO the ID register is wrong;
 *   the errors of dk_pci_vfio_open.
 */
DK_EXPORT int dk_edu_open(struct dk_pci_device *dev, struct dk_edu **out);
DK_EXPORT void dk_edu_close(struct dk_edu *e);
/* Register the edu PCI driver (before dk_init, or probe afterwards with
 * dk_pci_probe_all). 0, or the errors of dk_pci_driver_register. */
DK_EXPORT int dk_edu_driver_register(void);
DK_EXPORT int dk_edu_driver_unregister(void);
/* The instance the driver probed on dev, or NULL. */
DK_EXPORT struct dk_edu *dk_edu_get(const struct dk_pci_device *dev);
/* 1: completion by MSI through an eventfd; 0: polling. */
DK_EXPORT int dk_edu_uses_irq(const struct dk_edu *e);
/* Switch completion to polling (on = 1: MSI is disabled and its eventfd
 * closed) or back to MSI (on = 0: -ENOTSUP when MSI cannot be enabled).
 * 0 or a negative errno. */
DK_EXPORT int dk_edu_set_polling(struct dk_edu *e, int on);
/* Number of interrupts received so far (MSI). */
DK_EXPORT uint64_t dk_edu_irq_count(const struct dk_edu *e);

/* ID register. 0, or the MMIO errors. */
DK_EXPORT int dk_edu_id(struct dk_edu *e, uint32_t *id);
/* Write v to the liveness register and read back (~v when alive). */
DK_EXPORT int dk_edu_liveness(struct dk_edu *e, uint32_t v, uint32_t *out);
/* n! computed by the device (32-bit, wraps). -ETIMEDOUT after timeout_ms. */
DK_EXPORT int dk_edu_factorial(struct dk_edu *e, uint32_t n, uint32_t *out, int timeout_ms);

/*
 * DMA between dmakit memory at iova and the device buffer at offset off:
 * to_device 1 copies memory into the buffer, 0 copies the buffer into
 * memory. 0, or:
 *   -EINVAL  NULL e, len 0, off + len beyond DK_EDU_DMA_MAX
 *   -ETIMEDOUT the transfer did not complete within timeout_ms
 */
DK_EXPORT int dk_edu_dma(struct dk_edu *e, int to_device, uint64_t iova, uint32_t off,
			 uint32_t len, int timeout_ms);
/* The same with a VA of dmakit memory: its IOVA from dk_mem_virt2iova
 * (-EFAULT when va is not dmakit memory with an IOVA, or the range is not
 * IOVA-contiguous). */
DK_EXPORT int dk_edu_dma_va(struct dk_edu *e, int to_device, const void *va, uint32_t off,
			    uint32_t len, int timeout_ms);

DK_END_DECLS

#endif
