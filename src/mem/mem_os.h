/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memory layer's calls into the kernel, in one place: hugepage facts
 * (/proc/meminfo, /sys/kernel/mm/hugepages), physical addresses
 * (/proc/self/pagemap), backing files (memfd_create, fallocate, another
 * process's fd through /proc/<pid>/fd), address space (reservations, shared
 * file mappings, population, mlock) and NUMA placement (mbind).
 *
 * Every function is a thin wrapper: it returns 0 (or a value) or a negative
 * errno and logs nothing, except dk__os_pa_check, which logs what to do. The
 * callers (pages.c) log with their context. Thread-safe: no state.
 */
#ifndef DK_MEM_MEM_OS_H
#define DK_MEM_MEM_OS_H

#include <stddef.h>
#include <stdint.h>

/* ---- hugepages ---------------------------------------------------------- */

/* The default hugepage size (Hugepagesize in /proc/meminfo), or 2 MiB. */
size_t dk__os_default_huge_size(void);
/* A counter ("free_hugepages", "resv_hugepages", "nr_hugepages") of
 * hugepages of size sz from the real /sys (not the sysfs root tests
 * replace). -1 when the size does not exist here. */
long dk__os_huge_counter(size_t sz, const char *name);
/* Hugepages of size sz a new mapping can take now (free - reserved), or -1
 * when the size does not exist here. */
long dk__os_huge_available(size_t sz);

/* ---- physical addresses ------------------------------------------------- */

/* Open /proc/self/pagemap: an fd, or -errno. */
int dk__os_pagemap_open(void);
/* Physical address of va from a pagemap fd: 0, -ENOENT page not present,
 * -EPERM no access to PFNs (not CAP_SYS_ADMIN), -EIO. */
int dk__os_pagemap_pa(int fd, uintptr_t va, uint64_t *pa);
/* Can this process read physical addresses? Maps and touches one page.
 * 0; -ENOTSUP (logged: run as root or use va), -ENOMEM (logged). */
int dk__os_pa_check(void);

/* ---- backing files ------------------------------------------------------ */

/* A close-on-exec memfd of len bytes named name: tmpfs (huge 0) or hugetlbfs
 * with pages of page_sz. fd, or -errno; *sized is 0 when memfd_create
 * failed, 1 when sizing the file (ftruncate) failed. */
int dk__os_memfd(const char *name, size_t page_sz, int huge, size_t len, int *sized);
/* Device and inode of an open file. 0 or -errno. */
int dk__os_file_id(int fd, uint64_t *dev, uint64_t *ino);
/* Open, read-write, fd number fd of process pid when it is the file
 * (dev, ino). fd, or -ENOENT. */
int dk__os_open_peer_fd(int pid, int fd, uint64_t dev, uint64_t ino);
/* Allocate [off, off+len) of the file. 0, or -errno with the range punched
 * again (the kernel may have allocated part of it). */
int dk__os_file_alloc(int fd, size_t off, size_t len);
/* Give [off, off+len) of the file back to the system (the size stays).
 * 0 or -errno. */
int dk__os_file_punch(int fd, size_t off, size_t len);

/* ---- address space ------------------------------------------------------ */

/* Reserve (PROT_NONE, no swap reserved) len bytes exactly at a, never
 * replacing a mapping. a, or NULL with errno (EEXIST: something is there). */
void *dk__os_reserve_at(uintptr_t a, size_t len);
/* Reserve len bytes aligned to align (a power of two) anywhere. NULL with
 * errno on failure. */
void *dk__os_reserve_aligned(size_t len, size_t align);
/* Map the first len bytes of fd shared and read-write at base, over what is
 * there or (noreplace) only where nothing is. 0, -EEXIST (noreplace and
 * something is there), -errno. */
int dk__os_map_file(uintptr_t base, size_t len, int fd, int noreplace);
/* Fault [p, p+len) in for writing (MADV_POPULATE_WRITE); when the kernel
 * cannot and touch is set, write one byte per page_sz (the pages are fresh:
 * zero already). */
void dk__os_populate(void *p, size_t len, size_t page_sz, int touch);
/* Prefer NUMA node for [va, va+len) (a shared policy for file mappings).
 * 0, -EINVAL node out of [0, 1024), -errno of mbind. */
int dk__os_prefer_node(uintptr_t va, size_t len, int node);

#endif
