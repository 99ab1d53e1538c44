/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Register map of dk_sparse, the test mdev of the dmakit VM suite (docs/vm.md).
 * Shared by the kernel module (dk_sparse.c) and the guest tests; no includes so
 * both sides can use it.
 */
#ifndef DK_SPARSE_REGS_H
#define DK_SPARSE_REGS_H

/* PCI identity (config space). 0x1234 is the vendor ID QEMU uses for its own test
 * devices (edu is 1234:11e8); 0xd5a1 ("dk sparse") is not a real product. */
#define DKS_VENDOR_ID 0x1234u
#define DKS_DEVICE_ID 0xd5a1u
#define DKS_SUBSYS_VENDOR_ID 0x1234u
#define DKS_SUBSYS_ID 0x0001u
#define DKS_REVISION 0x01u
#define DKS_CLASS 0xff0000u /* base class 0xff: "device does not fit any class" */

/* The mdev type, as it appears under mdev_supported_types of the parent. */
#define DKS_PARENT_NAME "dk_sparse"
#define DKS_TYPE_NAME "dk_sparse-1"
#define DKS_MAX_INSTANCES 4

/* BAR0: 64 KiB, 32-bit memory BAR; BAR1..BAR5 and the ROM have size 0. */
#define DKS_BAR0_SIZE 0x10000u
#define DKS_CONFIG_SIZE 256u

/* The three mmappable areas of BAR0 (the SPARSE_MMAP capability lists them in this
 * order), backed by zeroed kernel pages of the instance. Everything else in BAR0 is
 * trapped: only pread/pwrite on the device fd reach it, and mmap of it fails. */
#define DKS_AREA0_OFFSET 0x1000u
#define DKS_AREA0_SIZE 0x1000u
#define DKS_AREA1_OFFSET 0x4000u
#define DKS_AREA1_SIZE 0x4000u
#define DKS_AREA2_OFFSET 0xc000u
#define DKS_AREA2_SIZE 0x4000u
#define DKS_NR_AREAS 3u

/* Trapped register page, BAR0 0x0000-0x0fff: 32-bit registers, 4-byte aligned
 * accesses of 4 bytes only (other sizes fail with EINVAL). Holes 0x2000-0x3fff and
 * 0x8000-0xbfff are trapped too: they read as zero and ignore writes. */
#define DKS_REG_ID 0x000          /* RO  DKS_ID_VALUE */
#define DKS_REG_VERSION 0x004     /* RO  DKS_VERSION_VALUE */
#define DKS_REG_SCRATCH 0x008     /* RW  any value; 0 after reset */
#define DKS_REG_TRAPS 0x00c       /* RO  BAR0 read/write calls completed before this one;
                                     a write clears it (and is not counted) */
#define DKS_REG_IGNORED 0x010     /* RO  writes the device ignored: to RO registers,
                                     reserved registers, holes, or a bad WINDOW */
#define DKS_REG_WINDOW 0x014      /* RW  BAR0 offset of a word in an area, 4-aligned;
                                     other values are ignored (and counted) */
#define DKS_REG_WINDOW_DATA 0x018 /* RW  the 32-bit word of area memory at WINDOW */
#define DKS_REG_AREAS 0x01c       /* RO  DKS_NR_AREAS */
/* 0x020-0xffc: reserved, read 0, writes ignored (and counted). */

#define DKS_ID_VALUE 0x50536b64u  /* the bytes "dkSP" in little-endian order */
#define DKS_VERSION_VALUE 1u
#define DKS_WINDOW_RESET DKS_AREA0_OFFSET

#endif
