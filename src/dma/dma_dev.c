/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dk_dev_dma_map / dk_dev_dma_unmap (contract: dmakit/dma.h) for devices of
 * the PCI bus (functions and vfio-pci mdevs opened as PCI devices): the
 * device's container, then its DMA domain (src/dma/dma_domain.c); the
 * _auto pair picks the IOVA (remap mode: from the page layer's IOVA space).
 */
#include <errno.h>

#include <dmakit/bus.h>
#include <dmakit/dma.h>
#include <dmakit/pci.h>
#include <dmakit/vfio.h>

#include "dma/dma_domain.h"
#include "mem/pages.h"

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

int dk_dev_dma_map_auto(struct dk_device *dev, void *va, size_t len, uint64_t *iova)
{
	if (!iova) {
		DK_ERR("dk_dev_dma_map_auto: NULL iova: pass where to put the IOVA chosen");
		return -EINVAL;
	}
	enum dk_iova_mode mode = dk_iova_mode();
	if (mode == DK_IOVA_MODE_PA) {
		DK_ERR("dk_dev_dma_map_auto(%s): IOVA mode pa has no room for IOVAs dmakit picks: register %p+%zu with its IOVAs (dk_extmem_register with a table) or use DMAKIT_IOVA_MODE=va or remap",
		       dev ? dev->name : "NULL", va, len);
		return -ENOTSUP;
	}
	if (mode != DK_IOVA_MODE_REMAP) {
		int rc = dk_dev_dma_map(dev, va, (uint64_t)(uintptr_t)va, len);
		if (rc == 0)
			*iova = (uint64_t)(uintptr_t)va;
		return rc;
	}
	uint64_t io;
	int rc = dk__mem_pages_iova_take(len, 4096, &io);
	if (rc < 0)
		return rc == -EINVAL ? -EINVAL : -ENOSPC;
	rc = dk_dev_dma_map(dev, va, io, len);
	if (rc < 0) {
		dk__mem_pages_iova_give(io, len);
		return rc;
	}
	*iova = io;
	return 0;
}

int dk_dev_dma_unmap_auto(struct dk_device *dev, void *va, uint64_t iova, size_t len)
{
	int rc = dk_dev_dma_unmap(dev, va, iova, len);
	if (rc == 0 && dk_iova_mode() == DK_IOVA_MODE_REMAP)
		dk__mem_pages_iova_give(iova, len);
	return rc;
}

int dk_dev_dma_iova(struct dk_device *dev, const void *va, size_t len, uint64_t *iova)
{
	if (!iova) {
		DK_ERR("dk_dev_dma_iova: NULL iova: pass where to put the IOVA");
		return -EINVAL;
	}
	struct dk_vfio_container *c = container_of_dev(dev, "dk_dev_dma_iova");
	if (!c)
		return -errno;
	return dk__dma_domain_lookup(c, va, len ? len : 1, iova);
}
