/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VFIO backend choice (contract: dmakit/vfio.h "backends", internals in
 * vfio/vfio_internal.h): the request (dk_init parameter, else
 * DMAKIT_VFIO_BACKEND, else auto), the device's cdev found from sysfs
 * vfio-dev/, and the reason for what was chosen or refused.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sysfs.h"
#include "vfio/vfio_internal.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

static int g_request;             /* set by dk_init; 0: the environment decides */
static int g_request_env;         /* g_request came from DMAKIT_VFIO_BACKEND */
static const char *g_dev_root;    /* tests; NULL: "/dev" */

static const char *const g_names[] = {"auto", "container", "iommufd"};

const char *dk_vfio_backend_name(int backend)
{
	if (backend < 0 || backend > DK_VFIO_BACKEND_IOMMUFD)
		return NULL;
	return g_names[backend];
}

int dk__vfio_backend_parse(const char *s)
{
	for (int b = 0; b <= DK_VFIO_BACKEND_IOMMUFD; b++)
		if (s && strcmp(s, g_names[b]) == 0)
			return b;
	return -EINVAL;
}

int dk__vfio_set_backend(int backend)
{
	if (backend < 0 || backend > DK_VFIO_BACKEND_IOMMUFD) {
		DK_ERR("VFIO backend %d: use DK_VFIO_BACKEND_AUTO, _CONTAINER or _IOMMUFD", backend);
		return -EINVAL;
	}
	__atomic_store_n(&g_request_env, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g_request, backend, __ATOMIC_RELAXED);
	return 0;
}

int dk__vfio_backend_capture(void)
{
	__atomic_store_n(&g_request, 0, __ATOMIC_RELAXED);
	int b = dk__vfio_backend_request();
	if (b < 0)
		return b;
	__atomic_store_n(&g_request_env, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&g_request, b, __ATOMIC_RELAXED);
	return 0;
}

int dk__vfio_backend_request(void)
{
	int b = __atomic_load_n(&g_request, __ATOMIC_RELAXED);
	if (b)
		return b;
	const char *env = getenv("DMAKIT_VFIO_BACKEND");
	if (!env || !*env)
		return DK_VFIO_BACKEND_AUTO;
	b = dk__vfio_backend_parse(env);
	if (b < 0)
		DK_ERR("DMAKIT_VFIO_BACKEND=%s: use auto, container or iommufd", env);
	return b;
}

void dk__vfio_set_dev_root(const char *root)
{
	g_dev_root = root;
}

const char *dk__vfio_dev_root(void)
{
	return g_dev_root ? g_dev_root : "/dev";
}

/* The vfioN entry of <sysfs>/<dir>/vfio-dev/ into out. 0, -ENOENT. */
static int vfio_dev_entry(const char *dir, char *out, size_t len)
{
	char rel[DK__PATH_MAX], path[DK__PATH_MAX];
	snprintf(rel, sizeof(rel), "%s/vfio-dev", dir);
	if (dk__sysfs_path(path, sizeof(path), rel) < 0)
		return -ENAMETOOLONG;
	DIR *dp = opendir(path);
	if (!dp)
		return -ENOENT;
	int rc = -ENOENT;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (strncmp(e->d_name, "vfio", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9') {
			snprintf(out, len, "%s", e->d_name);
			rc = 0;
			break;
		}
	}
	closedir(dp);
	return rc;
}

int dk__vfio_cdev_path(const char *name, char *path, size_t len)
{
	static const char *const buses[] = {"bus/pci/devices", "bus/mdev/devices"};
	char dir[256], node[256];
	if (!name || !*name || strchr(name, '/') || strlen(name) > 64)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", buses[i], name);
		if (vfio_dev_entry(dir, node, sizeof(node)) == 0) {
			int n = snprintf(path, len, "%s/vfio/devices/%s", dk__vfio_dev_root(), node);
			return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
		}
	}
	return -ENOENT;
}

/* Why iommufd cannot serve name (0: it can), in why. */
static int iommufd_missing(const char *name, char *why, size_t len)
{
	char iommu[DK__PATH_MAX], cdev[DK__PATH_MAX];
	snprintf(iommu, sizeof(iommu), "%s/iommu", dk__vfio_dev_root());
	if (access(iommu, F_OK) != 0) {
		snprintf(why, len, "no %s: the kernel has no IOMMUFD (CONFIG_IOMMUFD)", iommu);
		return -ENOTSUP;
	}
	int rc = dk__vfio_cdev_path(name, cdev, sizeof(cdev));
	if (rc == -EINVAL) {
		snprintf(why, len, "\"%s\" is not a device name (a PCI address or an mdev UUID)", name);
		return rc;
	}
	if (rc < 0) {
		snprintf(why, len,
			 "%s has no vfio-dev/ in sysfs: bind it to vfio-pci (dmakit bind %s), on a kernel with VFIO_DEVICE_CDEV",
			 name, name);
		return -ENOTSUP;
	}
	if (access(cdev, F_OK) != 0) {
		snprintf(why, len, "no %s although sysfs lists it: is devtmpfs mounted on %s?", cdev,
			 dk__vfio_dev_root());
		return -ENOTSUP;
	}
	snprintf(why, len, "%s and %s exist", iommu, cdev);
	return 0;
}

int dk_vfio_backend_select(const char *name, char *why, size_t len)
{
	char buf[512];
	if (!why || !len) {
		why = buf;
		len = sizeof(buf);
	}
	why[0] = '\0';
	if (!name || !*name) {
		DK_ERR("dk_vfio_backend_select: give a device name (a PCI address or an mdev UUID)");
		snprintf(why, len, "no device name");
		return -EINVAL;
	}
	int req = dk__vfio_backend_request();
	if (req < 0) {
		snprintf(why, len, "DMAKIT_VFIO_BACKEND holds an unknown word");
		return req;
	}
	if (req == DK_VFIO_BACKEND_CONTAINER) {
		int by_param = __atomic_load_n(&g_request, __ATOMIC_RELAXED) &&
			       !__atomic_load_n(&g_request_env, __ATOMIC_RELAXED);
		snprintf(why, len, "requested (%s)",
			 by_param ? "dk_init parameter" : "DMAKIT_VFIO_BACKEND");
		return DK_VFIO_BACKEND_CONTAINER;
	}
	int rc = iommufd_missing(name, why, len);
	if (rc == -EINVAL) {
		DK_ERR("VFIO backend for %s: %s", name, why);
		return rc;
	}
	if (rc == 0)
		return DK_VFIO_BACKEND_IOMMUFD;
	if (req == DK_VFIO_BACKEND_IOMMUFD) {
		DK_ERR("VFIO backend iommufd for %s refused: %s; or use the container backend (DMAKIT_VFIO_BACKEND=auto or container)",
		       name, why);
		return rc;
	}
	DK_DEBUG("VFIO backend container for %s: %s", name, why);
	return DK_VFIO_BACKEND_CONTAINER;
}
