/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/pci_ids.h - names of PCI vendors, devices, subsystems and classes
 * from the PCI ID database (pci.ids, the file lspci reads).
 *
 * The database is a text file, read by the library itself (no libpci):
 * $DMAKIT_PCI_IDS when set and not empty (that file only; "none" means no
 * database), else /usr/share/misc/pci.ids (Debian and Ubuntu: package
 * pci.ids, pulled in by pciutils), else /usr/share/hwdata/pci.ids (Fedora,
 * Arch: package hwdata). Compressed files (pci.ids.gz) are not read.
 *
 * None of this needs dk_init(): it works before, after and without it.
 * The first lookup loads the database: the file is read once into memory
 * and indexed (vendors, devices, subsystems, classes); every lookup after
 * that is a binary search in memory, no file access (a file changed later
 * is not seen until a reload). The copy stays until dk_pci_ids_unload()
 * (dk_cleanup() does not unload it). A load
 * that failed is remembered: lookups then return -ENODATA at once, until
 * dk_pci_ids_load() or dk_pci_ids_unload().
 *
 * A missing database is no error for applications: lookups return
 * -ENODATA and the caller shows numbers; dk_pci_ids_path() says why. The
 * default search logs its failure at info level (naming the paths and the
 * package to install); a $DMAKIT_PCI_IDS or path that cannot be read is
 * logged as a warning.
 *
 * Names are the database's text, as lspci prints them when it knows the
 * IDs; what lspci prints for unknown IDs ("Device 1234", "Class 0780", "Name
 * [0780]" for a known class with an unknown subclass) is the caller's
 * choice of display (the dmakit CLI does the same). Where the file has
 * lines lspci refuses (lspci then ignores the whole file), the library
 * skips those lines only, keeps the first of duplicate entries, and reads
 * names of any length (lspci cuts them at 255 bytes).
 *
 * Lookups copy the name into buf like snprintf (NUL-terminated, cut to
 * len - 1 bytes) and return the name's full length, or:
 *   -ENOENT  the database has no such entry
 *   -ENODATA there is no database (see dk_pci_ids_path for the reason)
 *   -EINVAL  buf is NULL and len is not 0
 * buf may be NULL with len 0 to learn the length.
 *
 * Thread-safety: every function may be called from any thread (one
 * library lock, taken by each call; no other lock is held under it).
 */
#ifndef DMAKIT_PCI_IDS_H
#define DMAKIT_PCI_IDS_H

#include <dmakit/common.h>

DK_BEGIN_DECLS

/*
 * (Re)load the database: from path, or with path NULL from the default
 * search above. A database loaded before is dropped first (names returned
 * before stay valid: they are copies). 0, or:
 *   -ENOENT  no such file (default search: none of the places has one;
 *            DMAKIT_PCI_IDS=none: no database wanted)
 *   -EACCES  the file cannot be read
 *   -EISDIR, -EINVAL  a directory, or not a regular file
 *   -EFBIG   larger than 4 GiB
 *   -ENOMEM, or the errno of open/fstat/mmap
 * The error is kept and reported by dk_pci_ids_path() and, as -ENODATA,
 * by every lookup.
 */
DK_EXPORT int dk_pci_ids_load(const char *path);
/* Drop the database; the next lookup loads it again (default search). */
DK_EXPORT void dk_pci_ids_unload(void);
/*
 * Load the database if not tried yet, then copy the path of the file in
 * use into buf (like the lookups) and return its length; or the negative
 * errno of the failed load (-ENOENT: no database). buf may be NULL with
 * len 0 (or -EINVAL).
 */
DK_EXPORT int dk_pci_ids_path(char *buf, size_t len);

/* Vendor name: "Intel Corporation". */
DK_EXPORT int dk_pci_vendor_name(uint16_t vendor, char *buf, size_t len);
/* Device name of a vendor's device. */
DK_EXPORT int dk_pci_device_name(uint16_t vendor, uint16_t device, char *buf, size_t len);
/*
 * Subsystem name (as lspci's "SDevice"): the device's own entry for
 * subvendor:subdevice; else a generic entry of subvendor (an "S" block);
 * else, when subvendor:subdevice equal vendor:device, the device's name.
 * The subsystem vendor's name is dk_pci_vendor_name(subvendor).
 */
DK_EXPORT int dk_pci_subsystem_name(uint16_t vendor, uint16_t device, uint16_t subvendor,
				    uint16_t subdevice, char *buf, size_t len);
/* Base class ("Mass storage controller"), subclass ("Non-Volatile memory
 * controller") and programming interface ("NVM Express") names. */
DK_EXPORT int dk_pci_class_name(uint8_t base, char *buf, size_t len);
DK_EXPORT int dk_pci_subclass_name(uint8_t base, uint8_t sub, char *buf, size_t len);
DK_EXPORT int dk_pci_progif_name(uint8_t base, uint8_t sub, uint8_t progif, char *buf,
				 size_t len);

DK_END_DECLS

#endif
