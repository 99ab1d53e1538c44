/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sysfs access. Every path is relative to the sysfs root in force
 * (dk_sysfs_root(): DMAKIT_SYSFS_ROOT or "/sys"); a path given here never
 * starts with '/'. Values are read whole with one read (sysfs semantics).
 *
 * Errors (negative errno; a failure is logged at DEBUG only, callers decide
 * how loud to be and name the path):
 *   -ENOENT missing; -EACCES/-EPERM denied; -EIO read error;
 *   -EINVAL malformed value; -ERANGE value out of range;
 *   -ENAMETOOLONG path too long; -EOVERFLOW value larger than the buffer.
 * Thread-safety: reentrant; the root is set by dk_init only.
 */
#ifndef DK_CORE_SYSFS_H
#define DK_CORE_SYSFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <dmakit/common.h>
#include <dmakit/sysfs.h>

#define DK__PATH_MAX 4096

/* Set the root (NULL: environment or "/sys"). -ENAMETOOLONG, -EINVAL (empty). */
int dk__sysfs_set_root(const char *root);

/* Absolute path of rel under the root into buf. 0 or -ENAMETOOLONG. */
int dk__sysfs_path(char *buf, size_t len, const char *rel);

/* Read a text value, trailing newline stripped. Returns its length. */
int dk__sysfs_read_str(const char *rel, char *buf, size_t len);
/* Integers: base 0 (auto), 10 or 16 (optional 0x). */
int dk__sysfs_read_u64(const char *rel, int base, uint64_t *out);
int dk__sysfs_read_i64(const char *rel, int64_t *out);
/* Target of a symlink, as stored (relative). Returns its length. */
int dk__sysfs_read_link(const char *rel, char *buf, size_t len);
/* Last component of a symlink's target ("vfio-pci" for driver -> ../vfio-pci). */
int dk__sysfs_read_link_name(const char *rel, char *buf, size_t len);
/* Binary read at offset; returns the bytes read (may be short at EOF). */
ssize_t dk__sysfs_read_bin(const char *rel, void *buf, size_t len, off_t off);
/* Binary write at offset; returns the bytes written. */
ssize_t dk__sysfs_write_bin(const char *rel, const void *buf, size_t len, off_t off);
/* Write a text value (one write). 0 or negative errno. */
int dk__sysfs_write_str(const char *rel, const char *val);
/* 1 if rel exists, 0 if not. */
int dk__sysfs_exists(const char *rel);

/* Same reads relative to an open directory fd (the fast path for scans). */
int dk__sysfs_read_str_at(int dirfd, const char *name, char *buf, size_t len);
int dk__sysfs_read_u64_at(int dirfd, const char *name, int base, uint64_t *out);
int dk__sysfs_read_link_name_at(int dirfd, const char *name, char *buf, size_t len);
ssize_t dk__sysfs_read_bin_at(int dirfd, const char *name, void *buf, size_t len, off_t off);

#endif
