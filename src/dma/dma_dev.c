/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dk_dev_dma_map / dk_dev_dma_unmap (contract: dmakit/dma.h) for devices of
 * the PCI bus (functions and vfio-pci mdevs opened as PCI devices): the
 * device's container, then its DMA domain (src/dma/dma_domain.c).
 */
#include <errno.h>

#include <dmakit/bus.h>
#include <dmakit/dma.h>
#include <dmakit/pci.h>
#include <dmakit/vfio.h>

#include "dma/dma_domain.h"

#define DK_LOG_COMPONENT "dma"
#include "core/log_internal.h"

static struct dk_vfio_container *container_of_dev(struct dk_device *dev, const char *what)
{
	if (!dev) {
		DK_ERR("%s: NULL device: pass the dk_device of a PCI device", what);
		errno = EINVAL;
		return NULL;
	}
	if (!dev->bus || dev->bus != dk_bus_find_by_name("pci")) {
		DK_ERR("%s(%s): not a PCI device: only VFIO devices of the PCI bus do DMA", what,
		       dev->name);
		errno = ENODEV;
		return NULL;
	}
	struct dk_vfio_device *vd = dk_pci_vfio_device(dk_pci_from_device(dev));
	if (!vd) {
		DK_ERR("%s(%s): the device is not open through VFIO: call dk_pci_vfio_open first (bind it to vfio-pci: dmakit bind %s)",
		       what, dev->name, dev->name);
		errno = ENODEV;
		return NULL;
	}
	return dk_vfio_device_container(vd);
}

int dk_dev_dma_map(struct dk_device *dev, void *va, uint64_t iova, size_t len)
{
	struct dk_vfio_container *c = container_of_dev(dev, "dk_dev_dma_map");
	if (!c)
		return -errno;
	if (!va || !len) {
		DK_ERR("dk_dev_dma_map(%s): %s: pass the buffer and its length (a multiple of the IOMMU page size)",
		       dev->name, va ? "length 0" : "NULL address");
		return -EINVAL;
	}
	return dk__dma_domain_user_map(c, va, iova, len);
}

int dk_dev_dma_unmap(struct dk_device *dev, void *va, uint64_t iova, size_t len)
{
	struct dk_vfio_container *c = container_of_dev(dev, "dk_dev_dma_unmap");
	if (!c)
		return -errno;
	if (!va || !len) {
		DK_ERR("dk_dev_dma_unmap(%s): %s: pass what dk_dev_dma_map got", dev->name,
		       va ? "length 0" : "NULL address");
		return -EINVAL;
	}
	return dk__dma_domain_user_unmap(c, va, iova, len);
}
