/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VFIO side of a context (contract: cdev/cdev_internal.h): the default
 * operations, and the MR cache's registration operation for a VFIO device.
 *
 * Registration of [va, va+len): heap memory with IOVAs is mapped in every
 * container by the DMA domains already, so its IOVA is returned as it is;
 * other memory is mapped in the device's container, page aligned, at an
 * IOVA the dma layer picks (dk_dev_dma_map_auto: the VA in IOVA mode va,
 * IOVA space of the layout's in mode remap), and unmapped by dereg. The key is a
 * per-context registration number (1, 2, ...; 0 is never handed out).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dma.h>
#include <dmakit/memory.h>

#include "cdev/cdev_internal.h"

#define DK_LOG_COMPONENT "cdev"
#include "core/log_internal.h"

static const struct dk__cdev_ops g_default_ops = {
	.open = dk_pci_vfio_open,
	.close = dk_pci_vfio_close,
	.mr_create = dk_mr_cache_create,
	.mr_destroy = dk_mr_cache_destroy,
	.dma_map = dk_dev_dma_map_auto,
	.dma_unmap = dk_dev_dma_unmap_auto,
};

static const struct dk__cdev_ops *g_ops = &g_default_ops;

void dk__cdev_set_ops(const struct dk__cdev_ops *ops)
{
	g_ops = ops ? ops : &g_default_ops;
}

const struct dk__cdev_ops *dk__cdev_ops(void)
{
	return g_ops;
}

/* IOVA of [va, va+len) when one IOVA-contiguous chunk of the layout holds it
 * (memory the DMA domains map already), else DK_BAD_IOVA. */
static dk_iova_t heap_iova(const void *va, size_t len)
{
	void *start;
	size_t clen;
	dk_iova_t iova;
	if (dk_mem_contig_chunk(va, &start, &clen, &iova) < 0)
		return DK_BAD_IOVA;
	size_t off = (size_t)((const char *)va - (const char *)start);
	return len <= clen - off ? iova + off : DK_BAD_IOVA;
}

static uint32_t new_key(struct dk__cdev *c)
{
	uint32_t k = ++c->next_key;
	if (k == 0)
		k = ++c->next_key;
	return k;
}

static int remember(struct dk__cdev *c, void *va, size_t len, uint64_t iova, uint32_t key)
{
	if (c->n_maps == c->cap_maps) {
		unsigned int cap = c->cap_maps ? c->cap_maps * 2 : 8;
		struct dk__cdev_map *m = realloc(c->maps, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		c->maps = m;
		c->cap_maps = cap;
	}
	c->maps[c->n_maps++] =
		(struct dk__cdev_map){ .va = va, .len = len, .iova = iova, .key = key };
	return 0;
}

/* Map [va, va+len) (page-aligned around it) at an IOVA the dma layer picks;
 * key and IOVA (of va) out. */
static int map_user(struct dk__cdev *c, void *va, size_t len, uint32_t *key, dk_iova_t *iova)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)va & ~(pg - 1);
	uintptr_t end = ((uintptr_t)va + len + pg - 1) & ~(pg - 1);
	struct dk_device *dev = &c->pub.pci->device;
	uint64_t io;
	int rc = g_ops->dma_map(dev, (void *)start, end - start, &io);
	if (rc < 0) {
		DK_ERR("%s: cannot map %p+%zu in the device's container: %s (heap memory and dk_extmem_register memory with IOVAs need no mapping)",
		       dev->name, va, len, strerror(-rc));
		return rc;
	}
	uint32_t k = new_key(c);
	rc = remember(c, (void *)start, end - start, io, k);
	if (rc < 0) {
		DK_ERR("%s: no memory to track the mapping of %p+%zu", dev->name, va, len);
		g_ops->dma_unmap(dev, (void *)start, io, end - start);
		return rc;
	}
	*key = k;
	*iova = io + ((uintptr_t)va - start);
	return 0;
}

static int vfio_reg(void *ctx, void *va, size_t len, uint32_t *key, dk_iova_t *iova)
{
	struct dk__cdev *c = ctx;
	if (!va || !len || !key || !iova) {
		DK_ERR("MR registration of %p+%zu: pass a buffer, its length and where to put the key and IOVA",
		       va, len);
		return -EINVAL;
	}
	pthread_mutex_lock(&c->reg_lock);
	int rc = 0;
	dk_iova_t h = heap_iova(va, len);
	if (h != DK_BAD_IOVA) {
		*key = new_key(c);
		*iova = h;
	} else {
		rc = map_user(c, va, len, key, iova);
	}
	pthread_mutex_unlock(&c->reg_lock);
	return rc;
}

static void unmap_at(struct dk__cdev *c, unsigned int i)
{
	struct dk__cdev_map m = c->maps[i];
	c->maps[i] = c->maps[--c->n_maps];
	int rc = g_ops->dma_unmap(&c->pub.pci->device, m.va, m.iova, m.len);
	if (rc < 0)
		DK_WARN("%s: unmapping %p+%zu from the device's container failed: %s",
			c->pub.pci->device.name, m.va, m.len, strerror(-rc));
}

static void vfio_dereg(void *ctx, void *va, size_t len, uint32_t key)
{
	struct dk__cdev *c = ctx;
	(void)va;
	(void)len;
	pthread_mutex_lock(&c->reg_lock);
	for (unsigned int i = 0; i < c->n_maps; i++) {
		if (c->maps[i].key == key) {
			unmap_at(c, i);
			break;
		}
	}
	pthread_mutex_unlock(&c->reg_lock);
}

const struct dk_mr_ops dk__cdev_vfio_mr_ops = { .reg = vfio_reg, .dereg = vfio_dereg };

void dk__cdev_vfio_unmap_all(struct dk__cdev *c)
{
	pthread_mutex_lock(&c->reg_lock);
	while (c->n_maps)
		unmap_at(c, c->n_maps - 1);
	free(c->maps);
	c->maps = NULL;
	c->cap_maps = 0;
	pthread_mutex_unlock(&c->reg_lock);
}
