/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI ID database index (pci.ids text, from pciutils/hwdata): pure, no
 * I/O, length-bounded (no NUL needed), fuzzed. dmakit/pci_ids.h wraps it
 * with the file, a lock and the public lookups.
 *
 * Format (the rules lspci's parser applies, pciutils 3.x):
 *   - a line ends at '\n'; its text ends at the first '\r' or '\n'; one
 *     trailing space or tab is dropped;
 *   - blank lines and lines whose first non-blank character is '#' are
 *     skipped anywhere;
 *   - the number of leading tabs is the nesting level:
 *       vvvv  vendor name          (4 hex digits, blank, name)
 *       \tdddd  device name
 *       \t\tssss dddd  subsystem name   (subvendor, subdevice)
 *       C cc  class name           (2 hex digits)
 *       \tss  subclass name
 *       \t\tpp  prog-if name
 *       S ssss                     generic subsystems of subvendor ssss:
 *       \tdddd  name               (subdevice)
 *       X ...                      any other "<capital> " block: skipped with
 *                                  its nested lines
 *   - hex digits in either case; after the ID, blanks, then a non-empty name.
 * Where lspci refuses the whole file (a malformed line, a duplicate, a line
 * of 1024 bytes or more), this index skips the malformed line (and the
 * nested lines of a malformed top-level line), keeps the first of
 * duplicates and reads names of any length; dk__pci_ids_malformed() counts
 * the lines skipped.
 *
 * Lookups return the name (not NUL-terminated: a pointer into data) and
 * its length, or -ENOENT. The index keeps pointers into data: data must
 * outlive it. Thread-safety: built by one thread; lookups only read it and
 * may run concurrently.
 */
#ifndef DK_PCI_IDS_H
#define DK_PCI_IDS_H

#include <stddef.h>
#include <stdint.h>

struct dk__pci_ids;

struct dk__pci_name {
	const char *s; /* not NUL-terminated */
	size_t len;
};

/* Index data[0..len). NULL with errno ENOMEM, or EFBIG (len >= 4 GiB). */
struct dk__pci_ids *dk__pci_ids_index(const char *data, size_t len);
void dk__pci_ids_free(struct dk__pci_ids *db);

/* Lines skipped as malformed; *first_line (when non-NULL) the 1-based number
 * of the first one, 0 when none. */
unsigned int dk__pci_ids_malformed(const struct dk__pci_ids *db, unsigned int *first_line);

/* 0 and *out, or -ENOENT when the database has no such entry. */
int dk__pci_ids_vendor(const struct dk__pci_ids *db, uint16_t vendor, struct dk__pci_name *out);
int dk__pci_ids_device(const struct dk__pci_ids *db, uint16_t vendor, uint16_t device,
		       struct dk__pci_name *out);
/* The device's own subsystem entry; else a generic one ("S" block); else,
 * when the subsystem IDs equal the device's, the device's name (lspci's rule). */
int dk__pci_ids_subsystem(const struct dk__pci_ids *db, uint16_t vendor, uint16_t device,
			  uint16_t subvendor, uint16_t subdevice, struct dk__pci_name *out);
int dk__pci_ids_class(const struct dk__pci_ids *db, uint8_t base, struct dk__pci_name *out);
int dk__pci_ids_subclass(const struct dk__pci_ids *db, uint8_t base, uint8_t sub,
			 struct dk__pci_name *out);
int dk__pci_ids_progif(const struct dk__pci_ids *db, uint8_t base, uint8_t sub, uint8_t progif,
		       struct dk__pci_name *out);

#endif
