/* SPDX-License-Identifier: BSD-3-Clause */
/* The PCI bus object: glue between the bus framework and the PCI files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus/bus_internal.h"
#include "bus/pci/pci_internal.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

static int pci_bus_scan(void)
{
	return dk__pci_scan();
}

static int pci_bus_probe(void)
{
	int n = dk_pci_probe_all();
	return n < 0 ? n : 0;
}

static struct dk_device *pci_device_at(unsigned int i)
{
	return &dk__pci_dev_at(i)->pub.device;
}

static struct dk_device *pci_bus_find(const struct dk_device *start, dk_dev_cmp_fn cmp,
				      const void *data)
{
	return dk__bus_find_indexed(dk__pci_ndev(), pci_device_at, start, cmp, data);
}

static int pci_bus_plug(struct dk_device *dev)
{
	return dk_pci_probe_device(dk_pci_from_device(dev));
}

static int pci_bus_unplug(struct dk_device *dev)
{
	return dk_pci_remove_device(dk_pci_from_device(dev));
}

static int pci_bus_parse_name(const char *name, char *out, size_t len)
{
	struct dk_pci_addr a;
	int rc = dk_pci_addr_parse(name, &a);
	if (rc < 0)
		return rc;
	if (out && dk_pci_addr_format(&a, out, len) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static void pci_bus_cleanup(void)
{
	dk__pci_remove_all(1);
	dk__pci_free_all();
}

struct dk_bus dk__pci_bus = {
	.name = "pci",
	.scan = pci_bus_scan,
	.probe = pci_bus_probe,
	.find = pci_bus_find,
	.plug = pci_bus_plug,
	.unplug = pci_bus_unplug,
	.parse_name = pci_bus_parse_name,
	.cleanup = pci_bus_cleanup,
};

int dk_pci_scan(void)
{
	unsigned int kept = dk__pci_remove_all(0);
	if (kept) {
		DK_ERR("rescan refused: %u device(s) kept their driver because its remove failed (see above): release what they hold and call dk_pci_remove_device, then rescan",
		       kept);
		return -EBUSY;
	}
	return dk__pci_scan();
}
