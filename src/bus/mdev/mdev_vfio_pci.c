/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mdev driver for device_api "vfio-pci" (contract: include/dmakit/mdev.h,
 * src/bus/mdev/mdev_internal.h). It lives on the mdev side of the layering
 * rule (src/LAYERS: bus/mdev may include bus/pci, not the reverse), uses the
 * PCI bus's API, and dk_init registers it on the mdev bus.
 *
 * Probe: open the instance through VFIO by UUID (dk_pci_mdev_open: IDs from
 * the VFIO config region, added to the PCI list as kind mdev) with the
 * open flags of the PCI driver its IDs match, then let the PCI drivers
 * probe it (dk_pci_probe_device). When none takes it, or anything fails,
 * it is closed again: the PCI bus never keeps a half-plugged mdev, and no
 * VFIO fd stays open. Remove: dk_pci_mdev_close (the PCI driver's remove
 * first, every VFIO reference closed, out of the PCI list).
 */
#include <errno.h>
#include <string.h>

#include "bus/mdev/mdev_internal.h"
#include "bus/pci/pci_internal.h"

#define DK_LOG_COMPONENT "mdev"
#include "core/log_internal.h"

/* Open m through VFIO with the flags its PCI driver wants; 0 or negative errno. */
static int open_for_driver(struct dk_mdev_device *m, struct dk_pci_device **out)
{
	struct dk_pci_device *p;
	int rc = dk_pci_mdev_open(m->uuid, 0, &p);
	if (rc < 0)
		return rc;
	uint32_t want = dk__pci_driver_open_flags(&p->id);
	if (want != 0) { /* the BARs are mapped as the driver asks: open it that way */
		dk_pci_mdev_close(p);
		rc = dk_pci_mdev_open(m->uuid, want, &p);
		if (rc < 0)
			return rc;
	}
	*out = p;
	return 0;
}

static int vfio_pci_probe(struct dk_mdev_driver *drv, struct dk_mdev_device *m)
{
	(void)drv;
	if (dk_pci_find(m->uuid)) {
		DK_INFO("mdev %s: the application opened it with dk_pci_mdev_open: left to it",
			m->uuid);
		return -ENODEV;
	}
	struct dk_pci_device *p;
	int rc = open_for_driver(m, &p);
	if (rc < 0)
		return rc;
	rc = dk_pci_probe_device(p);
	if (rc < 0) {
		if (rc == -ENODEV)
			DK_INFO("mdev %s: %04x:%04x: no PCI driver matches it: closed again (open it "
				"with dk_pci_mdev_open to use it by hand)",
				m->uuid, p->id.vendor_id, p->id.device_id);
		dk_pci_mdev_close(p);
		return rc;
	}
	m->pci = p;
	return 0;
}

static int vfio_pci_remove(struct dk_mdev_device *m)
{
	int rc = 0;
	if (m->pci)
		rc = dk_pci_mdev_close(m->pci);
	m->pci = NULL;
	return rc;
}

struct dk_mdev_driver dk__mdev_vfio_pci_driver = {
    .driver = {.name = "vfio-pci-mdev"},
    .device_api = "vfio-pci",
    .probe = vfio_pci_probe,
    .remove = vfio_pci_remove,
};
