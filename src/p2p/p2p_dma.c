/* SPDX-License-Identifier: BSD-3-Clause */
/* contract: include/dmakit/p2p.h (DMA addresses for clients), p2p_internal.h */
#define DK_LOG_COMPONENT "p2p"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/dma.h>
#include <dmakit/log.h>
#include <dmakit/memory.h>
#include <dmakit/pci.h>

#include "mem/pages.h"
#include "p2p/p2p_internal.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2u

/* Memory decode must be on for peers (and the CPU) to reach the BAR. vfio-pci
 * may leave it off; through VFIO we turn it on, otherwise we only report. A
 * VF has no such bit (its PF's SR-IOV control decodes its BARs). */
static int memory_decode_on(struct dk_pci_device *dev)
{
	if (dev->physfn)
		return 0;
	uint16_t cmd = 0;
	int rc = dk_pci_config_read(dev, &cmd, sizeof(cmd), PCI_COMMAND);
	if (rc != (int)sizeof(cmd) || (cmd & PCI_COMMAND_MEMORY))
		return 0; /* unreadable (not root, fixture): nothing to change */
	if (!dk_pci_vfio_is_open(dev)) {
		DK_WARN("%s: memory decode is off in the command register: peers cannot reach its BARs until its driver enables the device",
			dev->device.name);
		return 0;
	}
	cmd |= PCI_COMMAND_MEMORY;
	rc = dk_pci_config_write(dev, &cmd, sizeof(cmd), PCI_COMMAND);
	if (rc != (int)sizeof(cmd)) {
		rc = rc < 0 ? rc : -EIO;
		DK_ERR("%s: cannot turn memory decode on through VFIO (%s): check the device is not being reset",
		       dev->device.name, strerror(-rc));
		return rc;
	}
	DK_INFO("%s: memory decode turned on for P2P", dev->device.name);
	return 0;
}

/* The IOVA the resource gets in every container: mode remap from the heaps'
 * IOVA space, mode pa its bus address (IOVA = physical), mode va its VA. */
static int pick_iova(const void *va, uint64_t size, uint64_t bus, uint64_t *iova, bool *taken)
{
	*taken = false;
	switch (dk_iova_mode()) {
	case DK_IOVA_MODE_REMAP: {
		int rc = dk__mem_pages_iova_take(size, dk__p2p_page(), iova);
		if (rc < 0)
			return rc;
		*taken = true;
		return 0;
	}
	case DK_IOVA_MODE_PA:
		*iova = bus;
		return 0;
	default:
		*iova = (uint64_t)(uintptr_t)va;
		return 0;
	}
}

static int register_range(void *va, uint64_t size, uint64_t iova)
{
	uint64_t pg = dk__p2p_page();
	unsigned int n = (unsigned int)(size / pg);
	dk_iova_t *tab = malloc((size_t)n * sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		tab[i] = iova + (uint64_t)i * pg;
	int rc = dk_extmem_register(va, (size_t)size, tab, n, (size_t)pg);
	free(tab);
	return rc;
}

int dk__p2p_dma_register(struct dk_pci_device *dev, void *va, uint64_t size, uint64_t bus,
			 uint64_t *iova)
{
	int rc = memory_decode_on(dev);
	if (rc < 0)
		return rc;
	bool taken;
	if ((rc = pick_iova(va, size, bus, iova, &taken)) < 0) {
		DK_ERR("%s: no IOVA space for 0x%" PRIx64 " bytes of P2P memory (%s): add a smaller range",
		       dev->device.name, size, strerror(-rc));
		return rc;
	}
	if ((rc = register_range(va, size, *iova)) < 0)
		goto err_give_iova;
	return 0;

err_give_iova:
	DK_ERR("%s: cannot make P2P memory %p+0x%" PRIx64 " known to the DMA domains (%s): see the message above",
	       dev->device.name, va, size, strerror(-rc));
	if (taken)
		dk__mem_pages_iova_give(*iova, size);
	return rc;
}

void dk__p2p_dma_unregister(void *va, uint64_t size, uint64_t iova)
{
	int rc = dk_extmem_unregister(va, (size_t)size);
	if (rc < 0)
		DK_ERR("P2P memory %p+0x%" PRIx64 " was not known to the memory layer (%s): dk_cleanup ran before the provider was removed?",
		       va, size, strerror(-rc));
	if (rc == 0 && dk_iova_mode() == DK_IOVA_MODE_REMAP)
		dk__mem_pages_iova_give(iova, size);
}

int dk_p2p_dma_addr(const struct dk_pci_device *client, const void *addr, uint64_t *dma)
{
	if (!client || !addr || !dma) {
		DK_ERR("dk_p2p_dma_addr: NULL %s: pass the client, a P2P address and where to put the DMA address",
		       !client ? "client" : !addr ? "address" : "output");
		return -EINVAL;
	}
	char name[40];
	uint64_t bus;
	if (dk__p2p_lookup(addr, name, sizeof(name), &bus) < 0) {
		DK_ERR("dk_p2p_dma_addr(%s): %p is in no P2P resource of this process: pass memory of dk_p2p_alloc",
		       client->device.name, addr);
		return -EINVAL;
	}
	const struct dk_pci_device *prov = dk_pci_find(name);
	if (!prov || dk_p2p_distance(prov, client, true) < 0) {
		DK_ERR("dk_p2p_dma_addr: %s cannot reach provider %s (see the reason above): use a provider it reaches (dk_p2p_find_many)",
		       client->device.name, name);
		return -EXDEV;
	}
	if (!dk_pci_vfio_is_open(client)) {
		*dma = bus;
		return DK_P2P_DMA_BUS;
	}
	dk_iova_t io = dk_mem_virt2iova(addr);
	if (io == DK_BAD_IOVA) {
		DK_ERR("dk_p2p_dma_addr(%s): %p has no IOVA: was the provider added before dk_init?",
		       client->device.name, addr);
		return -ENOENT;
	}
	uint64_t mapped;
	struct dk_device *cdev = (struct dk_device *)(uintptr_t)&client->device;
	if (dk_dev_dma_iova(cdev, addr, 1, &mapped) < 0 || mapped != io) {
		DK_ERR("dk_p2p_dma_addr(%s): provider %s's memory at %p is not mapped in the client's IOMMU domain (the mapping failed: see the message above; iommufd up to Linux 6.12 cannot map device memory: use the container backend, DMAKIT_VFIO_BACKEND=container, for P2P)",
		       client->device.name, name, addr);
		return -ENXIO;
	}
	*dma = io;
	return DK_P2P_DMA_IOVA;
}
