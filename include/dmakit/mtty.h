/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/mtty.h - driver for mtty, the Linux kernel's sample mediated device
 * (samples/vfio-mdev/mtty.c): a virtual PCI serial card (PCI 4348:3253,
 * class 0x070002, a 16550-compatible UART per port), drivers/mtty/mtty.c.
 *
 * Device facts (the Linux 6.1 sample):
 *   - types mtty-1 (one port) and mtty-2 (two ports); device_api vfio-pci.
 *     Port p is BAR p: an I/O BAR of 8 byte registers, read/write, never
 *     mmappable, so every access goes through pread/pwrite on the VFIO
 *     region (dk_pci_mmio_read8/write8). Only byte accesses are meaningful.
  *   - each port loops its transmitter back to its receiver through one
 *     FIFO of 16 slots (FIFO enabled in FCR; 1 byte otherwise). A byte
 *     written to a full FIFO is dropped and sets LSR.OE until the next byte
 *     is taken. LSR.DR is set while the FIFO holds data, THRE and TEMT
 *     while it is empty. The scratch register keeps what is written.
 *     The FIFO is a ring whose read and write indexes meet when it holds
 *     16 bytes: it then reads as empty and refuses every byte until FCR
 *     clears it. So the driver counts what it sent and has not received
 *     and keeps at most DK_MTTY_FIFO_MAX (15) bytes in it.
 *   - with IER.RDI set, the byte that brings the FIFO to the trigger level
 *     raises the interrupt; the sample uses level 1 whatever FCR asks, so
 *     the first byte into an empty FIFO does. Writing IER with THRI while
 *     the FIFO is empty raises it at once. IIR reports RDI (0x04) while
 *     data is waiting and RDI is enabled. Both ports share one interrupt:
 *     INTx, or one MSI vector, each signalled through an eventfd.
 *   - the sample's interrupt handling has flaws the driver works around:
 *     an MSI eventfd is taken once per instance (later enables are
 *     accepted and ignored), and disabling an interrupt releases the
 *     eventfd while the device keeps using it. So the driver never
 *     disables interrupts through VFIO: close quiesces the ports (IER 0)
 *     and closes its eventfd. An interrupt raised before any eventfd was
 *     given dereferences NULL in the kernel, so no interrupt source (IER)
 *     is enabled before. At open it tests the path (THRI with an empty
 *     FIFO): MSI first, INTx when MSI stays silent (a reopened instance),
 *     polling when neither signals.
 *
 * Open sets every port up: FIFO on and cleared, 8N1, DTR/RTS/OUT2, receive
 * interrupt enabled (IER.RDI) when there is an interrupt.
 *
 * The driver registers as a PCI driver (NEED_VFIO, ID table 4348:3253): it
 * probes mtty instances in the PCI device list (an mdev opened with
 * dk_pci_mdev_open, then dk_pci_probe_device/dk_pci_probe_all); or open
 * one explicitly with dk_mtty_open.
 *
 * Errors are negative errno values; every failure is logged with the fix.
 * Thread-safety: calls on one instance are serialized by a mutex inside;
 * different instances are independent.
 */
#ifndef DMAKIT_MTTY_H
#define DMAKIT_MTTY_H

#include <stddef.h>
#include <stdint.h>

#include <dmakit/pci.h>

DK_BEGIN_DECLS

#define DK_MTTY_VENDOR 0x4348
#define DK_MTTY_DEVICE 0x3253
#define DK_MTTY_MAX_PORTS 2
#define DK_MTTY_FIFO_MAX 15 /* bytes the driver keeps in a port's FIFO (see above) */

/* Line status register bits (dk_mtty_line_status) */
#define DK_MTTY_LSR_DR 0x01u   /* data ready: the receiver holds bytes */
#define DK_MTTY_LSR_OE 0x02u   /* overrun: a byte was dropped (FIFO full) */
#define DK_MTTY_LSR_THRE 0x20u /* transmitter holding register empty */
#define DK_MTTY_LSR_TEMT 0x40u /* transmitter empty */

/* How the device's interrupt reaches the driver (dk_mtty_irq_mode). */
enum dk_mtty_irq {
	DK_MTTY_IRQ_NONE = 0, /* no interrupt signalled: receive by polling LSR */
	DK_MTTY_IRQ_INTX = 1,
	DK_MTTY_IRQ_MSI = 2,
};

struct dk_mtty;

/*
 * Open an mtty device explicitly (an mdev opened with dk_pci_mdev_open):
 * takes a VFIO reference (dk_pci_vfio_open), checks its BARs, sets the
 * ports up and the interrupt (see above). 0 and *out, or:
 *   -EINVAL  NULL argument
 *   -ENODEV  not 4348:3253 (message names the IDs)
 *   -EIO     BAR0 is not an 8-byte read/write region (not a working mtty)
 *   the errors of dk_pci_vfio_open and of the MMIO calls
 * On failure the VFIO reference is dropped again.
 */
DK_EXPORT int dk_mtty_open(struct dk_pci_device *dev, struct dk_mtty **out);
/* Quiesce the ports (IER 0), close the eventfd and drop the reference of
 * dk_mtty_open. NULL is ignored. Not for a probed instance (dk_mtty_get):
 * dk_pci_remove_device releases that one. */
DK_EXPORT void dk_mtty_close(struct dk_mtty *m);

/* Register / unregister the mtty PCI driver. 0, or the errors of
 * dk_pci_driver_register / dk_pci_driver_unregister. */
DK_EXPORT int dk_mtty_driver_register(void);
DK_EXPORT int dk_mtty_driver_unregister(void);
/* The instance the driver probed on dev, or NULL (errno ENOENT). */
DK_EXPORT struct dk_mtty *dk_mtty_get(const struct dk_pci_device *dev);

/* Number of ports (1 or 2; from BAR1's size), or -EINVAL for NULL. */
DK_EXPORT int dk_mtty_port_count(const struct dk_mtty *m);
/* The interrupt path chosen at open (DK_MTTY_IRQ_NONE for NULL). */
DK_EXPORT enum dk_mtty_irq dk_mtty_irq_mode(const struct dk_mtty *m);
/* Interrupts received through the eventfd so far (the open's test included). */
DK_EXPORT uint64_t dk_mtty_irq_count(const struct dk_mtty *m);

/*
 * Write up to len bytes to port's transmitter, one by one, while the FIFO
 * holds fewer than DK_MTTY_FIFO_MAX bytes, checking after each that the
 * device took it (LSR.OE clear). Returns the number of bytes taken
 * (1..len; fewer than len when the FIFO filled up), or:
 *   -EINVAL  NULL m or buf, len 0, port out of range (message: 0..count-1)
 *   -ENOBUFS the FIFO was full: not even the first byte was taken
 *            (message: receive before sending more)
 *   the MMIO errors
 */
DK_EXPORT int dk_mtty_send(struct dk_mtty *m, unsigned int port, const void *buf, size_t len);

/*
 * Read up to len bytes from port's receiver while LSR.DR says data is
 * ready. When nothing is ready, wait up to timeout_ms for data (woken by
 * the receive interrupt, or polling LSR every millisecond without one).
 * Returns the number of bytes read (>= 1), or:
 *   -EINVAL    NULL m or buf, len 0, port out of range, timeout_ms < 0
 *   -ETIMEDOUT nothing arrived within timeout_ms (message: send first;
 *              the sample only returns what its transmitter was given)
 *   the MMIO errors
 * Emptying the receiver clears the port's pending receive interrupt.
 */
DK_EXPORT int dk_mtty_recv(struct dk_mtty *m, unsigned int port, void *buf, size_t len,
			   int timeout_ms);

/* Port's line status register (DK_MTTY_LSR_*) in *lsr. 0, -EINVAL (NULL,
 * port out of range), or the MMIO errors. */
DK_EXPORT int dk_mtty_line_status(struct dk_mtty *m, unsigned int port, uint8_t *lsr);

/*
 * Write patterns (0x55, 0xaa, 0x00, 0xff, the port number) to port's
 * scratch register and read each back; the old value is restored. 0, or:
 *   -EINVAL  NULL, port out of range
 *   -EIO     a value did not read back (message names both)
 *   the MMIO errors
 */
DK_EXPORT int dk_mtty_scratch_test(struct dk_mtty *m, unsigned int port);

/*
 * Wait up to timeout_ms for a receive interrupt of port: one signalled on
 * the eventfd while port's IIR reported received data (RDI). An interrupt
 * that came earlier and was not waited for yet counts (sending raises it
 * before send returns); waiting consumes it. 0, or:
 *   -EINVAL    NULL, port out of range, timeout_ms < 0
 *   -ENOTSUP   the device has no working interrupt (dk_mtty_irq_mode NONE)
 *   -ETIMEDOUT no receive interrupt within timeout_ms (message)
 *   the MMIO errors
 */
DK_EXPORT int dk_mtty_wait_rx(struct dk_mtty *m, unsigned int port, int timeout_ms);

DK_END_DECLS

#endif
