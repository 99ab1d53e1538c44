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

#include <dmakit/cdev.h>
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

/* ---- edu as two class drivers on one device context ---------------------
 *
 * The alternative to the PCI driver above (register one or the other for a
 * device, not both): two class drivers (dmakit/cdev.h) on one common device
 * context, both probed on one edu with the devarg class=dma:compute (allow
 * list "0000:03:00.0,class=dma:compute", or dk_cdev_probe):
 *   "dma"      a copy engine: any number of software queues, each with its
 *              own dk_mr_ctrl in front of the context's MR cache
 *              (dmakit/mr.h), translating arbitrary buffers of known memory
 *              (heaps, external heaps, dk_extmem_register memory) to IOVAs
 *              and moving them to/from edu's 4 KiB buffer;
 *   "compute"  edu's factorial unit.
 * Without a class devarg the context gets "dma" (the first registered).
 *
 * The engine (edu's registers, its MSI eventfd, its lock) is one object per
 * device shared by both classes: the first class probed on a context creates
 * it and the other finds it through the first one's class state
 * (dk_cdev_priv); each class holding it counts one reference, and the last
 * class removed releases it (probe and remove follow the PCI rules, so the
 * count needs no lock). The engine serialises its users: queues of the dma
 * class and the compute class take turns on edu (one transfer or factorial
 * at a time).
 */
struct dk_edu_dma;     /* the dma class's state of one device */
struct dk_edu_compute; /* the compute class's state of one device */
struct dk_edu_dmaq;    /* a software queue of the dma class */

/* Register the "dma" then the "compute" class driver (edu's ID table, no
 * devargs keys). Before dk_init, or probe afterwards (dk_cdev_probe). 0, or
 * dk_class_driver_register's errors (-EEXIST: registered already; then
 * neither is registered by this call). */
DK_EXPORT int dk_edu_classes_register(void);
/* Remove both classes from every context and unregister them. 0, or the
 * first error of dk_class_driver_unregister (-ENOENT: not registered). The
 * dma class's remove fails with -EBUSY while a queue of it exists. */
DK_EXPORT int dk_edu_classes_unregister(void);

/* The dma / compute class's state on a context, or NULL (errno ENOENT: the
 * class is not loaded there; EINVAL: NULL). */
DK_EXPORT struct dk_edu_dma *dk_edu_dma_of(const struct dk_cdev *cdev);
DK_EXPORT struct dk_edu_compute *dk_edu_compute_of(const struct dk_cdev *cdev);
/* The same from the PCI device (through dk_cdev_of; errno ENOENT when the
 * device has no context or the class is not loaded). */
DK_EXPORT struct dk_edu_dma *dk_edu_dma_get(const struct dk_pci_device *dev);
DK_EXPORT struct dk_edu_compute *dk_edu_compute_get(const struct dk_pci_device *dev);
/* The context a class state belongs to (NULL for NULL). */
DK_EXPORT struct dk_cdev *dk_edu_dma_cdev(const struct dk_edu_dma *d);
DK_EXPORT struct dk_cdev *dk_edu_compute_cdev(const struct dk_edu_compute *c);
/* The shared engine (for dk_edu_uses_irq, dk_edu_irq_count...; not to be
 * closed); the same object from both classes of a context. */
DK_EXPORT struct dk_edu *dk_edu_dma_engine(const struct dk_edu_dma *d);
DK_EXPORT struct dk_edu *dk_edu_compute_engine(const struct dk_edu_compute *c);

/*
 * A dma queue: its own MR control (a dk_mr_ctrl) in front of the context's
 * MR cache. NULL with errno: EINVAL (NULL d), ENOTSUP (the context has no
 * MR cache), ENOMEM. Destroy it before the class is removed.
 */
DK_EXPORT struct dk_edu_dmaq *dk_edu_dmaq_create(struct dk_edu_dma *d);
/* NULL is ignored. */
DK_EXPORT void dk_edu_dmaq_destroy(struct dk_edu_dmaq *q);
/*
 * Copy len bytes between memory at va and the device buffer at offset off
 * (to_device 1: memory into the buffer; 0: the buffer into memory). va may
 * be any buffer of memory dmakit knows: the queue translates it through the
 * MR cache (registering its run of memory on a first use). 0, or:
 *   -EINVAL    NULL q or va, len 0, off + len beyond DK_EDU_DMA_MAX (logged)
 *   -ENOENT    memory dmakit does not know (register it: dk_extmem_register)
 *   -ERANGE    the buffer straddles two registrations (split the copy)
 *   the MR cache's registration errors; -ETIMEDOUT (dk_edu_dma)
 * Thread-safety: one thread per queue at a time; queues of one device may
 * copy from different threads (the engine serialises them).
 */
DK_EXPORT int dk_edu_dmaq_copy(struct dk_edu_dmaq *q, int to_device, const void *va,
			       uint32_t off, uint32_t len, int timeout_ms);

/* n! by the device through the compute class (dk_edu_factorial on the
 * shared engine). 0, -EINVAL (NULL argument), -ETIMEDOUT, the MMIO errors. */
DK_EXPORT int dk_edu_compute_factorial(struct dk_edu_compute *c, uint32_t n, uint32_t *out,
				       int timeout_ms);

DK_END_DECLS

#endif
