/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mediated device instances (dmakit/mdev.h): create one by writing a new
 * UUID to a type's "create" file, remove one by writing 1 to its "remove"
 * file. The kernel creates and removes synchronously: when the write
 * returns, the instance exists (or is gone).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <dmakit/mdev.h>
#include <dmakit/pci.h>

#include "core/parse.h"
#include "core/sysfs.h"

#define DK_LOG_COMPONENT "mdev"
#include "core/log_internal.h"

_Static_assert(DK_MDEV_UUID_LEN == DK__UUID_LEN, "an mdev's name is a UUID");

int dk_mdev_uuid_valid(const char *s)
{
	return dk__uuid_valid(s);
}

/* A random version-4 UUID, lower case. */
static int new_uuid(char out[DK_MDEV_UUID_LEN])
{
	uint8_t b[16];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			DK_ERR("cannot make a UUID: getrandom: %s", strerror(e));
			return -e;
		}
		got += (size_t)n;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, DK_MDEV_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

/* A sysfs name component: not empty, no '/', not "." or "..". */
static int bad_component(const char *s)
{
	return !s || !s[0] || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	       strlen(s) > 255;
}

/* "a, b, c" of the entries of directory rel (for messages). */
static void list_dir(const char *rel, char *buf, size_t len)
{
	char path[DK__PATH_MAX];
	buf[0] = '\0';
	if (dk__sysfs_path(path, sizeof(path), rel) < 0)
		return;
	DIR *dir = opendir(path);
	if (!dir)
		return;
	size_t o = 0;
	struct dirent *de;
	while ((de = readdir(dir)) && o < len) {
		if (de->d_name[0] == '.')
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", de->d_name);
	}
	closedir(dir);
}

static int write_error(const char *what, const char *path, int rc)
{
	if (rc == -EACCES || rc == -EPERM) {
		DK_ERR("%s: cannot write %s/%s: %s: run as root", what, dk_sysfs_root(), path,
		       strerror(-rc));
		return -EACCES;
	}
	DK_ERR("%s: writing %s/%s failed: %s (the kernel refused it: see dmesg)", what,
	       dk_sysfs_root(), path, strerror(-rc));
	return rc;
}

int dk_mdev_create(const char *parent, const char *type, char uuid_out[DK_MDEV_UUID_LEN])
{
	if (!uuid_out) {
		DK_ERR("dk_mdev_create: NULL uuid_out: pass a buffer of DK_MDEV_UUID_LEN bytes");
		return -EINVAL;
	}
	uuid_out[0] = '\0';
	if (bad_component(parent) || bad_component(type)) {
		DK_ERR("dk_mdev_create: parent \"%s\" / type \"%s\": give the parent's name in "
		       "%s/class/mdev_bus and a type name of its mdev_supported_types (no '/')",
		       parent ? parent : "(null)", type ? type : "(null)", dk_sysfs_root());
		return -EINVAL;
	}
	char rel[DK__PATH_MAX], list[512];
	snprintf(rel, sizeof(rel), "class/mdev_bus/%s", parent);
	if (!dk__sysfs_exists(rel)) {
		list_dir("class/mdev_bus", list, sizeof(list));
		DK_ERR("no mdev parent %s in %s/class/mdev_bus (parents: %s): load the parent's "
		       "driver",
		       parent, dk_sysfs_root(), list[0] ? list : "none");
		return -ENOENT;
	}
	snprintf(rel, sizeof(rel), "class/mdev_bus/%s/mdev_supported_types/%s", parent, type);
	if (!dk__sysfs_exists(rel)) {
		snprintf(rel, sizeof(rel), "class/mdev_bus/%s/mdev_supported_types", parent);
		list_dir(rel, list, sizeof(list));
		DK_ERR("mdev parent %s has no type %s (its types: %s)", parent, type,
		       list[0] ? list : "none");
		return -ENOENT;
	}
	uint64_t avail;
	snprintf(rel, sizeof(rel), "class/mdev_bus/%s/mdev_supported_types/%s/available_instances",
		 parent, type);
	if (dk__sysfs_read_u64(rel, 10, &avail) == 0 && avail == 0) {
		DK_ERR("mdev type %s of %s has no instance left (available_instances 0): remove "
		       "one first",
		       type, parent);
		return -ENOSPC;
	}
	char uuid[DK_MDEV_UUID_LEN];
	int rc = new_uuid(uuid);
	if (rc < 0)
		return rc;
	snprintf(rel, sizeof(rel), "class/mdev_bus/%s/mdev_supported_types/%s/create", parent,
		 type);
	rc = dk__sysfs_write_str(rel, uuid);
	if (rc < 0)
		return write_error("dk_mdev_create", rel, rc);
	memcpy(uuid_out, uuid, DK_MDEV_UUID_LEN);
	DK_INFO("mdev %s created (type %s of %s)", uuid, type, parent);
	return 0;
}

int dk_mdev_remove(const char *uuid)
{
	if (!dk_mdev_uuid_valid(uuid)) {
		DK_ERR(
		    "dk_mdev_remove: \"%s\" is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
		    uuid ? uuid : "(null)");
		return -EINVAL;
	}
	char lower[DK_MDEV_UUID_LEN], rel[DK__PATH_MAX];
	for (int i = 0; i < DK_MDEV_UUID_LEN; i++) /* the kernel names mdevs in lower case */
		lower[i] = (char)(uuid[i] >= 'A' && uuid[i] <= 'F' ? uuid[i] - 'A' + 'a' : uuid[i]);
	uuid = lower;
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s", uuid);
	if (!dk__sysfs_exists(rel)) {
		DK_ERR("no mdev %s in %s/bus/mdev/devices: nothing to remove", uuid,
		       dk_sysfs_root());
		return -ENOENT;
	}
	struct dk_pci_device *open_dev = dk_pci_find(uuid);
	if (open_dev && open_dev->kind == DK_PCI_KIND_MDEV) {
		DK_ERR("mdev %s is open in this process: close it first (dk_pci_mdev_close)", uuid);
		return -EBUSY;
	}
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/remove", uuid);
	int rc = dk__sysfs_write_str(rel, "1");
	if (rc < 0)
		return write_error("dk_mdev_remove", rel, rc);
	DK_INFO("mdev %s removed", uuid);
	return 0;
}
