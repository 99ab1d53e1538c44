/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config-space access: one entry point (dk_pci_config_read/write) over a
 * per-device strategy (struct dk__pci_config_ops). This file provides the
 * sysfs "config" strategy; the VFIO layer installs its own for devices it
 * opens (and for mdevs, which have no sysfs config).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus/pci/pci_internal.h"
#include "bus/pci/pci_topo.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

#define DK_PCI_CONFIG_MAX 4096u

/* contract: bus/pci/pci_topo.h */
static uint64_t g_topo_gen = 1;

uint64_t dk__pci_topo_gen(void)
{
	return __atomic_load_n(&g_topo_gen, __ATOMIC_ACQUIRE);
}

void dk__pci_topo_bump(void)
{
	__atomic_add_fetch(&g_topo_gen, 1, __ATOMIC_ACQ_REL);
}

static int sysfs_config_rw(struct dk__pci_dev *d, void *buf, size_t len, size_t off, int write)
{
	char rel[DK__PATH_MAX];
	if (!d->sysfs_rel[0])
		return -ENODEV;
	snprintf(rel, sizeof(rel), "%s/config", d->sysfs_rel);
	ssize_t n = write ? dk__sysfs_write_bin(rel, buf, len, (off_t)off)
			  : dk__sysfs_read_bin(rel, buf, len, (off_t)off);
	if (n == -ENOENT)
		return -ENODEV;
	return (int)n;
}

static int sysfs_config_read(struct dk__pci_dev *d, void *buf, size_t len, size_t off)
{
	return sysfs_config_rw(d, buf, len, off, 0);
}

static int sysfs_config_write(struct dk__pci_dev *d, const void *buf, size_t len, size_t off)
{
	return sysfs_config_rw(d, (void *)(uintptr_t)buf, len, off, 1);
}

const struct dk__pci_config_ops dk__pci_config_sysfs_ops = {
	.name = "sysfs",
	.read = sysfs_config_read,
	.write = sysfs_config_write,
};

static int check_args(const struct dk_pci_device *dev, const void *buf, size_t len, size_t off,
		      const char *what)
{
	if (!dev || (!buf && len))
		return -EINVAL;
	if (off > DK_PCI_CONFIG_MAX || len > DK_PCI_CONFIG_MAX - off) {
		DK_ERR("%s: config %s of %zu bytes at 0x%zx is beyond the 4096-byte config space",
		       dev->device.name, what, len, off);
		return -EINVAL;
	}
	return 0;
}

static int report(const struct dk__pci_dev *d, int rc, size_t len, size_t off, const char *what)
{
	if (rc >= 0 && (size_t)rc == len)
		return rc;
	if (rc >= 0) {
		DK_ERR("%s: config %s at 0x%zx: %d of %zu bytes transferred%s", d->name, what, off, rc,
		       len, off + len > 64 ? " (reading beyond 64 bytes needs root)" : "");
		return -EIO;
	}
	if (rc == -EACCES || rc == -EPERM)
		DK_ERR("%s: config %s via %s: %s: run as root", d->name, what, d->cfg_ops->name,
		       strerror(-rc));
	else
		DK_ERR("%s: config %s via %s: %s", d->name, what, d->cfg_ops->name, strerror(-rc));
	return rc;
}

int dk_pci_config_read(const struct dk_pci_device *dev, void *buf, size_t len, size_t offset)
{
	int rc = check_args(dev, buf, len, offset, "read");
	if (rc < 0 || len == 0)
		return rc;
	struct dk__pci_dev *d = dk__pci_dev(dev);
	return report(d, d->cfg_ops->read(d, buf, len, offset), len, offset, "read");
}

int dk_pci_config_write(const struct dk_pci_device *dev, const void *buf, size_t len,
			size_t offset)
{
	int rc = check_args(dev, buf, len, offset, "write");
	if (rc < 0 || len == 0)
		return rc;
	struct dk__pci_dev *d = dk__pci_dev(dev);
	rc = d->cfg_ops->write(d, buf, len, offset);
	/* Even a failed write may have changed part of the registers. */
	dk__pci_topo_bump();
	return report(d, rc, len, offset, "write");
}
