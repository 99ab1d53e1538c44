/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parser for a PCI function's sysfs "uevent" file, the kernel's one-read
 * summary of a device:
 *   DRIVER=nvme            (only when bound)
 *   PCI_CLASS=10802        (hex, no padding)
 *   PCI_ID=1B36:0010
 *   PCI_SUBSYS_ID=1AF4:1100
 *   PCI_SLOT_NAME=0000:03:00.0
 *   MODALIAS=pci:v...
 * Pure (no I/O, length-bounded, no NUL needed): fuzzed.
 *
 * Returns 0 and sets the DK__UEV_* bits of the fields found; unknown keys
 * are ignored. -EINVAL when a line has no '=', or a known field is
 * malformed (bad hex, out of range, driver name too long or empty).
 * Thread-safety: reentrant.
 */
#ifndef DK_PCI_UEVENT_H
#define DK_PCI_UEVENT_H

#include <stddef.h>
#include <stdint.h>

#define DK__UEV_DRIVER (1u << 0)
#define DK__UEV_CLASS (1u << 1)
#define DK__UEV_ID (1u << 2)
#define DK__UEV_SUBSYS (1u << 3)
#define DK__UEV_SLOT (1u << 4)

struct dk__pci_uevent {
	unsigned int have; /* DK__UEV_* */
	uint32_t class_id;
	uint16_t vendor_id, device_id;
	uint16_t subsystem_vendor_id, subsystem_device_id;
	char driver[32];
	char slot[24];
};

int dk__pci_parse_uevent(const char *s, size_t len, struct dk__pci_uevent *out);

#endif
