/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding PCI functions to kernel drivers through driver_override, and the
 * members that keep a function's IOMMU group from being viable (the rule:
 * vfio/vfio_viable.h). Works straight on sysfs (no scan needed).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bus/pci/pci_internal.h"
#include "core/parse.h"
#include "vfio/vfio_viable.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

#define DK_DEFAULT_BIND_DRIVER "vfio-pci"

static int valid_driver_name(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return n > 0 && n < 32;
}

/* Normalize name into bdf and check the device exists. */
static int lookup(const char *name, char *bdf, size_t len)
{
	struct dk_pci_addr a;
	if (!name || dk_pci_addr_parse(name, &a) < 0) {
		DK_ERR("\"%s\" is not a PCI address: use DDDD:BB:DD.F, e.g. 0000:03:00.0",
		       name ? name : "(null)");
		return -EINVAL;
	}
	dk_pci_addr_format(&a, bdf, len);
	char rel[DK__PATH_MAX];
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", bdf);
	if (!dk__sysfs_exists(rel)) {
		DK_ERR("no PCI device %s under %s/bus/pci/devices (see `dmakit devices`)", bdf,
		       dk_sysfs_root());
		return -ENOENT;
	}
	return 0;
}

static int current_driver(const char *bdf, char *buf, size_t len)
{
	char rel[DK__PATH_MAX];
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", bdf);
	int rc = dk__sysfs_read_link_name(rel, buf, len);
	if (rc < 0)
		buf[0] = '\0';
	return rc < 0 ? 0 : 1;
}

static int write_attr(const char *rel, const char *val, const char *bdf, const char *what)
{
	int rc = dk__sysfs_write_str(rel, val);
	if (rc == 0)
		return 0;
	if (rc == -EACCES || rc == -EPERM)
		DK_ERR("%s: cannot %s (%s/%s): %s: run as root", bdf, what, dk_sysfs_root(), rel,
		       strerror(-rc));
	else
		DK_ERR("%s: cannot %s (%s/%s): %s", bdf, what, dk_sysfs_root(), rel, strerror(-rc));
	return rc;
}

static int unbind_current(const char *bdf, const char *cur)
{
	char rel[DK__PATH_MAX];
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver/unbind", bdf);
	char what[96];
	snprintf(what, sizeof(what), "unbind from %s", cur);
	return write_attr(rel, bdf, bdf, what);
}

int dk_pci_bind(const char *name, const char *drv)
{
	char bdf[DK_PCI_ADDR_STR_LEN], orig[64], cur[64], rel[DK__PATH_MAX];
	if (!drv)
		drv = DK_DEFAULT_BIND_DRIVER;
	if (!valid_driver_name(drv)) {
		DK_ERR("\"%s\" is not a driver name (letters, digits, '_', '-', '.')", drv);
		return -EINVAL;
	}
	int rc = lookup(name, bdf, sizeof(bdf));
	if (rc < 0)
		return rc;
	snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", drv);
	if (!dk__sysfs_exists(rel)) {
		DK_ERR("driver %s is not loaded (no %s/%s): run `modprobe %s` first", drv,
		       dk_sysfs_root(), rel, drv);
		return -ENOENT;
	}
	int bound = current_driver(bdf, orig, sizeof(orig));
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", bdf);
	rc = write_attr(rel, drv, bdf, "set driver_override");
	if (rc < 0)
		return rc;
	if (bound && strcmp(orig, drv) == 0) {
		DK_INFO("%s is already bound to %s", bdf, drv);
		return 0;
	}
	if (bound) {
		rc = unbind_current(bdf, orig);
		if (rc < 0)
			goto err_clear_override;
	}
	rc = write_attr("bus/pci/drivers_probe", bdf, bdf, "trigger drivers_probe");
	if (rc < 0)
		goto err_rebind;
	current_driver(bdf, cur, sizeof(cur));
	if (strcmp(cur, drv) != 0) {
		DK_ERR("%s: the kernel did not bind it to %s (now: %s): see `dmesg` for the reason",
		       bdf, drv, cur[0] ? cur : "no driver");
		rc = -EIO;
		goto err_rebind;
	}
	DK_INFO("%s bound to %s", bdf, drv);
	return 0;

err_rebind:
	/* Give the device back to the driver it had, as far as the kernel lets us. */
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", bdf);
	dk__sysfs_write_str(rel, "\n");
	if (bound && !current_driver(bdf, cur, sizeof(cur))) {
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/bind", orig);
		if (dk__sysfs_write_str(rel, bdf) < 0)
			DK_WARN("%s: could not give it back to %s: run `dmakit bind %s %s`", bdf, orig,
				bdf, orig);
	}
	return rc;

err_clear_override:
	/* Leave no override behind that would surprise the next probe. */
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", bdf);
	dk__sysfs_write_str(rel, "\n");
	return rc;
}

int dk_pci_unbind(const char *name)
{
	char bdf[DK_PCI_ADDR_STR_LEN], cur[64], rel[DK__PATH_MAX];
	int rc = lookup(name, bdf, sizeof(bdf));
	if (rc < 0)
		return rc;
	if (current_driver(bdf, cur, sizeof(cur))) {
		rc = unbind_current(bdf, cur);
		if (rc < 0)
			return rc;
	}
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", bdf);
	if (dk__sysfs_exists(rel))
		return write_attr(rel, "\n", bdf, "clear driver_override");
	return 0;
}

int dk_pci_group_blockers(const char *name, dk_pci_blocker_fn cb, void *arg)
{
	char bdf[DK_PCI_ADDR_STR_LEN], grp[32], rel[DK__PATH_MAX];
	int rc = lookup(name, bdf, sizeof(bdf));
	if (rc < 0)
		return rc;
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", bdf);
	uint64_t group;
	if (dk__sysfs_read_link_name(rel, grp, sizeof(grp)) < 0 ||
	    dk__parse_u64(grp, strlen(grp), 10, &group) < 0 || group > INT_MAX) {
		DK_ERR("%s has no IOMMU group: enable the IOMMU (intel_iommu=on / amd_iommu=on) or use no-IOMMU mode",
		       bdf);
		return -ENOENT;
	}
	rc = dk__vfio_group_foreach_blocker((int)group, cb, arg);
	if (rc < 0)
		DK_ERR("cannot list IOMMU group %s (%s/kernel/iommu_groups/%s/devices): %s", grp,
		       dk_sysfs_root(), grp, strerror(-rc));
	return rc;
}
