/* SPDX-License-Identifier: BSD-3-Clause */
/* The PCI ID database: file, lazy load, lock, lookups. Contract: dmakit/pci_ids.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dmakit/log.h>
#include <dmakit/pci_ids.h>

#include "bus/pci/pci_ids.h"

#define DK_LOG_COMPONENT "pci"

static const char *const g_default_paths[] = {
    "/usr/share/misc/pci.ids",   /* Debian, Ubuntu: package pci.ids */
    "/usr/share/hwdata/pci.ids", /* Fedora, Arch: package hwdata */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int tried; /* a load was attempted */
	int err;   /* its negative errno; 0 when db is loaded */
	struct dk__pci_ids *db;
	char *data; /* the file's contents */
	size_t data_len;
	char path[PATH_MAX];
} g;

static void unload_locked(void)
{
	dk__pci_ids_free(g.db);
	free(g.data);
	memset(&g, 0, sizeof(g));
}

/* Read the whole file into g.data: one copy, so a file replaced or cut short
 * later cannot hurt the names handed out (a mapping would fault). */
static int read_file(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if ((uint64_t)st.st_size >= UINT32_MAX)
		return -EFBIG;
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;
			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap)
			break; /* the file grew since fstat: take what fits */
	}
	g.data = buf;
	g.data_len = n;
	return 0;
}

/* Read and index path. 0 or a negative errno; logs only the index's complaints. */
static int load_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = read_file(fd);
	close(fd);
	if (rc < 0)
		return rc;
	g.db = dk__pci_ids_index(g.data, g.data_len);
	if (!g.db) {
		rc = -errno;
		goto fail_index;
	}
	snprintf(g.path, sizeof(g.path), "%s", path);
	unsigned int first, bad = dk__pci_ids_malformed(g.db, &first);
	if (bad)
		DK_INFO("PCI ID database %s: %u malformed line%s skipped (the first: line %u); "
			"the file may be damaged: reinstall it",
			path, bad, bad == 1 ? "" : "s", first);
	return 0;

fail_index:
	free(g.data);
	g.data = NULL;
	g.data_len = 0;
	return rc;
}

static int load_default(void)
{
	int rc = -ENOENT;
	for (size_t i = 0; i < DK_ARRAY_SIZE(g_default_paths) && rc == -ENOENT; i++)
		rc = load_file(g_default_paths[i]);
	if (rc == -ENOENT)
		DK_INFO("no PCI ID database (looked for %s and %s): names are not shown; install "
			"it (Debian: apt-get install pci.ids; Fedora: dnf install hwdata) or set "
			"DMAKIT_PCI_IDS=FILE",
			g_default_paths[0], g_default_paths[1]);
	else if (rc < 0)
		DK_WARN("cannot read the PCI ID database: %s: names are not shown; fix its "
			"permissions or set DMAKIT_PCI_IDS=FILE",
			strerror(-rc));
	return rc;
}

static int load_locked(const char *path)
{
	unload_locked();
	g.tried = 1;
	const char *env = path ? NULL : getenv("DMAKIT_PCI_IDS");
	int rc;
	if (env && strcmp(env, "none") == 0) {
		DK_DEBUG("DMAKIT_PCI_IDS=none: no PCI ID database, names are not shown");
		rc = -ENOENT;
	} else if (path || (env && env[0])) {
		const char *file = path ? path : env;
		rc = load_file(file);
		if (rc < 0)
			DK_WARN("cannot read the PCI ID database %s: %s: names are not shown; %s", file,
				strerror(-rc),
				path ? "pass a readable pci.ids"
				     : "point DMAKIT_PCI_IDS at a readable pci.ids, or unset it");
	} else {
		rc = load_default();
	}
	g.err = rc;
	return rc;
}

int dk_pci_ids_load(const char *path)
{
	pthread_mutex_lock(&g_lock);
	int rc = load_locked(path);
	pthread_mutex_unlock(&g_lock);
	return rc;
}

void dk_pci_ids_unload(void)
{
	pthread_mutex_lock(&g_lock);
	unload_locked();
	pthread_mutex_unlock(&g_lock);
}

/* snprintf-like copy; the full length, or -EOVERFLOW past INT_MAX. */
static int copy_out(const char *s, size_t n, char *buf, size_t len)
{
	if (n > INT_MAX)
		return -EOVERFLOW;
	if (len) {
		size_t k = n < len - 1 ? n : len - 1;
		memcpy(buf, s, k);
		buf[k] = '\0';
	}
	return (int)n;
}

int dk_pci_ids_path(char *buf, size_t len)
{
	if (!buf && len)
		return -EINVAL;
	pthread_mutex_lock(&g_lock);
	if (!g.tried)
		load_locked(NULL);
	int rc = g.db ? copy_out(g.path, strlen(g.path), buf, len) : g.err;
	pthread_mutex_unlock(&g_lock);
	return rc;
}

enum what { W_VENDOR, W_DEVICE, W_SUBSYS, W_CLASS, W_SUBCLASS, W_PROGIF };

static int find(enum what w, const uint16_t id[4], struct dk__pci_name *n)
{
	switch (w) {
	case W_VENDOR:
		return dk__pci_ids_vendor(g.db, id[0], n);
	case W_DEVICE:
		return dk__pci_ids_device(g.db, id[0], id[1], n);
	case W_SUBSYS:
		return dk__pci_ids_subsystem(g.db, id[0], id[1], id[2], id[3], n);
	case W_CLASS:
		return dk__pci_ids_class(g.db, (uint8_t)id[0], n);
	case W_SUBCLASS:
		return dk__pci_ids_subclass(g.db, (uint8_t)id[0], (uint8_t)id[1], n);
	case W_PROGIF:
	default:
		return dk__pci_ids_progif(g.db, (uint8_t)id[0], (uint8_t)id[1], (uint8_t)id[2],
					  n);
	}
}

static int lookup(enum what w, const uint16_t id[4], char *buf, size_t len)
{
	if (!buf && len)
		return -EINVAL;
	pthread_mutex_lock(&g_lock);
	if (!g.tried)
		load_locked(NULL);
	struct dk__pci_name n;
	int rc = !g.db ? -ENODATA : find(w, id, &n);
	if (rc == 0)
		rc = copy_out(n.s, n.len, buf, len);
	pthread_mutex_unlock(&g_lock);
	return rc;
}

int dk_pci_vendor_name(uint16_t vendor, char *buf, size_t len)
{
	const uint16_t id[4] = {vendor, 0, 0, 0};
	return lookup(W_VENDOR, id, buf, len);
}

int dk_pci_device_name(uint16_t vendor, uint16_t device, char *buf, size_t len)
{
	const uint16_t id[4] = {vendor, device, 0, 0};
	return lookup(W_DEVICE, id, buf, len);
}

int dk_pci_subsystem_name(uint16_t vendor, uint16_t device, uint16_t subvendor,
			  uint16_t subdevice, char *buf, size_t len)
{
	const uint16_t id[4] = {vendor, device, subvendor, subdevice};
	return lookup(W_SUBSYS, id, buf, len);
}

int dk_pci_class_name(uint8_t base, char *buf, size_t len)
{
	const uint16_t id[4] = {base, 0, 0, 0};
	return lookup(W_CLASS, id, buf, len);
}

int dk_pci_subclass_name(uint8_t base, uint8_t sub, char *buf, size_t len)
{
	const uint16_t id[4] = {base, sub, 0, 0};
	return lookup(W_SUBCLASS, id, buf, len);
}

int dk_pci_progif_name(uint8_t base, uint8_t sub, uint8_t progif, char *buf, size_t len)
{
	const uint16_t id[4] = {base, sub, progif, 0};
	return lookup(W_PROGIF, id, buf, len);
}
