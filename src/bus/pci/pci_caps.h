/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config-space capability walker. Pure: works on a byte buffer (the config
 * space as read from sysfs or VFIO), never reads past len.
 *
 * dk__pci_caps_parse() fills *caps from cfg[0..len):
 *  - len < 64: -EINVAL (no complete header); caps zeroed.
 *  - standard chain from 0x34 (only when the status register has the
 *    capability-list bit); pointers have their low two bits masked; a
 *    pointer below 0x40 or whose 2-byte header would not fit in the first
 *    256 bytes stops the walk with DK_PCI_CAPS_BAD_POINTER; a valid pointer
 *    whose header lies beyond len stops it with DK_PCI_CAPS_TRUNCATED (a
 *    short read, not a malformed chain); a revisited offset stops it with
 *    DK_PCI_CAPS_LOOP.
 *  - extended chain from 0x100 when len >= 4096 (else DK_PCI_CAPS_NO_EXTENDED):
 *    header 0 or 0xffffffff at 0x100 means none; next pointers below 0x100
 *    or beyond 4096 stop the walk (BAD_POINTER); loops as above.
 *  - for PCIe, ACS, SR-IOV, MSI and MSI-X the decoded fields are filled only
 *    when the whole structure lies within len (else the entry is listed but
 *    the decoded offset stays 0).
 *  - at most DK_PCI_MAX_CAPS entries are listed (DK_PCI_CAPS_TOO_MANY).
 *  Returns 0 (check caps->flags for what the walk met).
 * Thread-safety: reentrant.
 */
#ifndef DK_PCI_CAPS_H
#define DK_PCI_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include <dmakit/pci.h>

int dk__pci_caps_parse(const uint8_t *cfg, size_t len, struct dk_pci_caps *caps);

#endif
