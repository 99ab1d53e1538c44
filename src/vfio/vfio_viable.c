/* SPDX-License-Identifier: BSD-3-Clause */
/* The VFIO group-viability rule. Contract: vfio/vfio_viable.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sysfs.h"
#include "vfio/vfio_viable.h"

int dk__vfio_driver_blocks(const char *driver)
{
	if (!driver || !driver[0])
		return 0;
	if (strstr(driver, "vfio") || strcmp(driver, "pci-stub") == 0 ||
	    strcmp(driver, "pcieport") == 0)
		return 0;
	return 1;
}

static int not_dot(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* 1 when member of group blocks it; its driver in drv ("" when unbound). */
static int member_blocks(int group, const char *member, char *drv, size_t len)
{
	char rel[DK__PATH_MAX];
	drv[0] = '\0';
	if (snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices/%s/driver", group,
		     member) >= (int)sizeof(rel) ||
	    dk__sysfs_read_link_name(rel, drv, len) < 0)
		drv[0] = '\0'; /* no driver link: unbound */
	return dk__vfio_driver_blocks(drv);
}

int dk__vfio_group_foreach_blocker(int group, dk__vfio_blocker_fn cb, void *arg)
{
	char rel[64], path[DK__PATH_MAX];
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices", group);
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	struct dirent **list;
	int nn = scandir(path, &list, not_dot, by_name);
	if (nn < 0)
		return -errno;
	int n = 0;
	for (int i = 0; i < nn; i++) {
		char drv[64];
		if (member_blocks(group, list[i]->d_name, drv, sizeof(drv))) {
			n++;
			if (cb)
				cb(list[i]->d_name, drv, arg);
		}
		free(list[i]);
	}
	free(list);
	return n;
}
