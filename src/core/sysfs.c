/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sysfs access relative to a configurable root. The root is a plain string
 * set once by dk_init (or lazily from the environment); readers do not lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/sysfs.h>

#include "core/parse.h"
#include "core/sysfs.h"

#define DK_LOG_COMPONENT "sysfs"
#include "core/log_internal.h"

static char g_root[DK__PATH_MAX];

int dk__sysfs_set_root(const char *root)
{
	if (root && !*root) {
		DK_ERR("the sysfs root is an empty string: give a directory, or NULL for the default");
		return -EINVAL;
	}
	if (!root)
		root = getenv("DMAKIT_SYSFS_ROOT");
	if (!root || !*root)
		root = "/sys";
	size_t len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	if (len >= sizeof(g_root) - 256) {
		DK_ERR("sysfs root \"%.64s...\" is too long: use a path shorter than %zu bytes", root,
		       sizeof(g_root) - 256);
		return -ENAMETOOLONG;
	}
	memcpy(g_root, root, len);
	g_root[len] = '\0';
	return 0;
}

const char *dk_sysfs_root(void)
{
	if (!g_root[0])
		dk__sysfs_set_root(NULL);
	return g_root;
}

int dk__sysfs_path(char *buf, size_t len, const char *rel)
{
	int n = snprintf(buf, len, "%s/%s", dk_sysfs_root(), rel);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Read a whole small file (one read) from dirfd/name; NUL-terminates. */
static int read_small(int dirfd, const char *name, char *buf, size_t len)
{
	if (len == 0)
		return -EINVAL;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len);
	int err = errno;
	if (n == (ssize_t)len) {
		/* Filled the buffer: is there more? */
		char extra;
		ssize_t m = read(fd, &extra, 1);
		close(fd);
		if (m > 0)
			return -EOVERFLOW;
		buf[len - 1] = '\0';
		return -EOVERFLOW;
	}
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return (int)n;
}

static int read_str_at(int dirfd, const char *name, char *buf, size_t len)
{
	int n = read_small(dirfd, name, buf, len);
	if (n < 0)
		return n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return n;
}

int dk__sysfs_read_str_at(int dirfd, const char *name, char *buf, size_t len)
{
	return read_str_at(dirfd, name, buf, len);
}

int dk__sysfs_read_u64_at(int dirfd, const char *name, int base, uint64_t *out)
{
	char buf[64];
	int n = read_small(dirfd, name, buf, sizeof(buf));
	if (n < 0)
		return n == -EOVERFLOW ? -EINVAL : n;
	return dk__parse_u64(buf, (size_t)n, base, out);
}

static int link_name(const char *target, int n, char *buf, size_t len)
{
	const char *slash = memrchr(target, '/', (size_t)n);
	const char *base = slash ? slash + 1 : target;
	size_t bl = (size_t)(target + n - base);
	if (bl == 0)
		return -EINVAL;
	if (bl >= len)
		return -EOVERFLOW;
	memcpy(buf, base, bl);
	buf[bl] = '\0';
	return (int)bl;
}

int dk__sysfs_read_link_name_at(int dirfd, const char *name, char *buf, size_t len)
{
	char target[DK__PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	return link_name(target, (int)n, buf, len);
}

int dk__sysfs_read_str(const char *rel, char *buf, size_t len)
{
	char path[DK__PATH_MAX];
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	rc = read_str_at(AT_FDCWD, path, buf, len);
	if (rc < 0)
		DK_DEBUG("read %s: %s", path, strerror(-rc));
	return rc;
}

int dk__sysfs_read_u64(const char *rel, int base, uint64_t *out)
{
	char path[DK__PATH_MAX];
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	rc = dk__sysfs_read_u64_at(AT_FDCWD, path, base, out);
	if (rc < 0)
		DK_DEBUG("read number %s: %s", path, strerror(-rc));
	return rc;
}

int dk__sysfs_read_i64(const char *rel, int64_t *out)
{
	char path[DK__PATH_MAX], buf[64];
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	int n = read_small(AT_FDCWD, path, buf, sizeof(buf));
	if (n < 0)
		return n == -EOVERFLOW ? -EINVAL : n;
	return dk__parse_i64(buf, (size_t)n, out);
}

int dk__sysfs_read_link(const char *rel, char *buf, size_t len)
{
	char path[DK__PATH_MAX];
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	if (len == 0)
		return -EINVAL;
	ssize_t n = readlink(path, buf, len);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len)
		return -EOVERFLOW;
	buf[n] = '\0';
	return (int)n;
}

int dk__sysfs_read_link_name(const char *rel, char *buf, size_t len)
{
	char path[DK__PATH_MAX];
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	return dk__sysfs_read_link_name_at(AT_FDCWD, path, buf, len);
}

/* Whole-buffer pread/pwrite loop on dirfd/name; short only at EOF. */
static ssize_t rw_bin_at(int dirfd, const char *name, void *buf, size_t len, off_t off, int wr)
{
	int fd = openat(dirfd, name, (wr ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t done = 0;
	while (done < len) {
		ssize_t n = wr ? pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done)
			       : pread(fd, (char *)buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	return (ssize_t)done;
}

ssize_t dk__sysfs_read_bin_at(int dirfd, const char *name, void *buf, size_t len, off_t off)
{
	return rw_bin_at(dirfd, name, buf, len, off, 0);
}

ssize_t dk__sysfs_read_bin(const char *rel, void *buf, size_t len, off_t off)
{
	char path[DK__PATH_MAX];
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	return rw_bin_at(AT_FDCWD, path, buf, len, off, 0);
}

ssize_t dk__sysfs_write_bin(const char *rel, const void *buf, size_t len, off_t off)
{
	char path[DK__PATH_MAX];
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	return rw_bin_at(AT_FDCWD, path, (void *)(uintptr_t)buf, len, off, 1);
}

int dk__sysfs_write_str(const char *rel, const char *val)
{
	char path[DK__PATH_MAX];
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	/* O_TRUNC as a shell's "echo x > attr" does: sysfs ignores it, plain files need it. */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(val);
	ssize_t n = write(fd, val, len);
	int err = errno;
	if (close(fd) < 0 && n >= 0)
		return -errno;
	if (n < 0)
		return -err;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

int dk__sysfs_exists(const char *rel)
{
	char path[DK__PATH_MAX];
	if (dk__sysfs_path(path, sizeof(path), rel) < 0)
		return 0;
	return faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}
