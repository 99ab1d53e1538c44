/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mediated device instances (contract: include/dmakit/mdev.h): create one
 * by writing a UUID to a type's "create" file, remove one by writing 1 to
 * its "remove" file. The kernel creates and removes synchronously: when the
 * write returns, the instance exists (or is gone).
 *
 * The kernel's answers (Linux 6.1, drivers/vfio/mdev): create -EINVAL for a
 * malformed UUID, -EEXIST for a UUID in use, -EUSERS when the type has no
 * instance left, -ENODEV when the parent is being unregistered, else the
 * parent driver's probe error (mtty: -ENOSPC when out of ports); remove
 * -ENODEV when the instance is no longer listed or its parent is being
 * unregistered, -EAGAIN when it is not active (being created or removed).
 * A missing create/remove file opens with -ENOENT.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <dmakit/mdev.h>
#include <dmakit/pci.h>

#include "bus/mdev/mdev_internal.h"
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

/* uuid in lower case into out (the kernel names mdevs so); uuid is valid. */
static void lower_uuid(const char *uuid, char out[DK_MDEV_UUID_LEN])
{
	for (int i = 0; i < DK_MDEV_UUID_LEN; i++)
		out[i] = (char)(uuid[i] >= 'A' && uuid[i] <= 'F' ? uuid[i] - 'A' + 'a' : uuid[i]);
}

int dk__mdev_create_error(int err, const char *parent, const char *type, const char *uuid)
{
	switch (err) {
	case -EEXIST:
		DK_ERR("mdev %s exists already: pick another UUID, or remove it first (dmakit mdev "
		       "remove %s)",
		       uuid, uuid);
		return -EEXIST;
	case -EUSERS:
	case -ENOSPC: /* the core says EUSERS; a parent driver's own count may say ENOSPC */
		DK_ERR("mdev type %s of %s has no instance left: remove one of its instances "
		       "first (dmakit mdev list)",
		       type, parent);
		return -EUSERS;
	case -ENODEV:
		DK_ERR("mdev parent %s is going away (its driver is being unloaded or the device "
		       "removed): reload its driver, then create %s again",
		       parent, uuid);
		return -ENODEV;
	case -ENOENT:
		DK_ERR("mdev parent %s or its type %s vanished while creating %s: check "
		       "%s/class/mdev_bus and load the parent's driver",
		       parent, type, uuid, dk_sysfs_root());
		return -ENOENT;
	case -EINVAL:
		DK_ERR("the kernel refused \"%s\" as an mdev UUID: give one of the form "
		       "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
		       uuid);
		return -EINVAL;
	case -EACCES:
	case -EPERM:
		DK_ERR("cannot create an mdev of type %s of %s: %s: run as root", type, parent,
		       strerror(-err));
		return -EACCES;
	default:
		DK_ERR("creating mdev %s (type %s of %s) failed: %s (the parent's driver refused "
		       "it: see dmesg)",
		       uuid, type, parent, strerror(-err));
		return err;
	}
}

int dk__mdev_remove_error(int err, const char *uuid)
{
	switch (err) {
	case -EAGAIN:
		DK_ERR("mdev %s is inactive (being created or removed right now): try again", uuid);
		return -EAGAIN;
	case -ENODEV:
		DK_ERR("mdev %s vanished meanwhile, or its parent is going away: nothing to remove "
		       "(dmakit mdev list shows what is left)",
		       uuid);
		return -ENODEV;
	case -ENOENT:
		DK_ERR("no mdev %s in %s/bus/mdev/devices: nothing to remove", uuid,
		       dk_sysfs_root());
		return -ENOENT;
	case -EACCES:
	case -EPERM:
		DK_ERR("cannot remove mdev %s: %s: run as root", uuid, strerror(-err));
		return -EACCES;
	default:
		DK_ERR("removing mdev %s failed: %s (the kernel refused it: see dmesg)", uuid,
		       strerror(-err));
		return err;
	}
}

/* Parent and type exist, else -ENOENT with the lists; -EINVAL for bad names. */
static int check_type(const char *parent, const char *type)
{
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
	return 0;
}

/* The UUID to write: uuid in lower case, or a new one. */
static int pick_uuid(const char *uuid, char out[DK_MDEV_UUID_LEN])
{
	if (!uuid)
		return new_uuid(out);
	if (!dk_mdev_uuid_valid(uuid)) {
		DK_ERR("dk_mdev_create: \"%s\" is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx): "
		       "fix it, or pass NULL for a random one",
		       uuid);
		return -EINVAL;
	}
	lower_uuid(uuid, out);
	return 0;
}

int dk_mdev_create(const char *parent, const char *type, const char *uuid,
		   char uuid_out[DK_MDEV_UUID_LEN])
{
	if (uuid_out)
		uuid_out[0] = '\0';
	if (!uuid && !uuid_out) {
		DK_ERR("dk_mdev_create: NULL uuid_out: pass a buffer of DK_MDEV_UUID_LEN bytes to "
		       "receive the random UUID, or a UUID");
		return -EINVAL;
	}
	char u[DK_MDEV_UUID_LEN], rel[DK__PATH_MAX];
	int rc = check_type(parent, type);
	if (rc == 0)
		rc = pick_uuid(uuid, u);
	if (rc < 0)
		return rc;
	uint64_t avail; /* advisory: the kernel decides */
	snprintf(rel, sizeof(rel), "class/mdev_bus/%s/mdev_supported_types/%s/available_instances",
		 parent, type);
	if (dk__sysfs_read_u64(rel, 10, &avail) == 0 && avail == 0)
		DK_DEBUG("mdev type %s of %s reports no instance left: asking the kernel anyway",
			 type, parent);
	snprintf(rel, sizeof(rel), "class/mdev_bus/%s/mdev_supported_types/%s/create", parent,
		 type);
	rc = dk__sysfs_write_str(rel, u);
	if (rc < 0)
		return dk__mdev_create_error(rc, parent, type, u);
	if (uuid_out)
		memcpy(uuid_out, u, DK_MDEV_UUID_LEN);
	DK_INFO("mdev %s created (type %s of %s)", u, type, parent);
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
	char u[DK_MDEV_UUID_LEN], rel[DK__PATH_MAX];
	lower_uuid(uuid, u);
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s", u);
	if (!dk__sysfs_exists(rel))
		return dk__mdev_remove_error(-ENOENT, u);
	struct dk_mdev_device *m = dk_mdev_find(u);
	if (m && m->driver) /* probed on the mdev bus: its driver lets go first */
		dk__mdev_unplug(m);
	struct dk_pci_device *open_dev = dk_pci_find(u);
	if (open_dev && open_dev->kind == DK_PCI_KIND_MDEV) {
		DK_ERR("mdev %s is open in this process: close it first (dk_pci_mdev_close)", u);
		return -EBUSY;
	}
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/remove", u);
	int rc = dk__sysfs_write_str(rel, "1");
	if (rc < 0)
		return dk__mdev_remove_error(rc, u);
	DK_INFO("mdev %s removed", u);
	return 0;
}
