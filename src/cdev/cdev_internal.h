/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the cdev layer: the context's private part, the class registry
 * and the operations that touch VFIO, replaceable by tests.
 * Contracts of the public functions: dmakit/cdev.h.
 */
#ifndef DK_CDEV_CDEV_INTERNAL_H
#define DK_CDEV_CDEV_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <dmakit/cdev.h>

#include <dmakit/mr.h>

/*
 * What the common driver does to a device's VFIO side. The defaults:
 * dk_pci_vfio_open/close, dk_mr_cache_create/destroy, dk_dev_dma_map_auto and
 * dk_dev_dma_unmap_auto.
 * Tests replace them (dk__cdev_set_ops) to run probe and remove on fake
 * devices and to inject failures. Not thread-safe: set while nothing probes.
 */
struct dk__cdev_ops {
	int (*open)(struct dk_pci_device *dev);
	int (*close)(struct dk_pci_device *dev);
	struct dk_mr_cache *(*mr_create)(const struct dk_mr_ops *ops, void *ctx);
	void (*mr_destroy)(struct dk_mr_cache *c);
	int (*dma_map)(struct dk_device *dev, void *va, size_t len, uint64_t *iova);
	int (*dma_unmap)(struct dk_device *dev, void *va, uint64_t iova, size_t len);
};

/* Replace the operations (NULL: back to the defaults). */
void dk__cdev_set_ops(const struct dk__cdev_ops *ops);
/* The operations in force. */
const struct dk__cdev_ops *dk__cdev_ops(void);

/* A buffer the VFIO registration mapped itself (not heap memory). */
struct dk__cdev_map {
	void *va; /* page-aligned */
	size_t len;
	uint64_t iova; /* of va, picked by dma_map */
	uint32_t key;
};

/* The context: the public part first. */
struct dk__cdev {
	struct dk_cdev pub;
	struct dk__cdev *next;
	uint64_t classes; /* bit_ of each loaded class driver */
	struct dk_devargs config;
	void *priv[DK_CLASS_DRV_MAX];
	/* VFIO registrations: the key counter and the buffers mapped here. */
	pthread_mutex_t reg_lock;
	uint32_t next_key;
	struct dk__cdev_map *maps;
	unsigned int n_maps, cap_maps;
};

static inline struct dk__cdev *dk__cdev(const struct dk_cdev *c)
{
	return (struct dk__cdev *)(void *)(uintptr_t)c;
}

/* The registered class drivers, in registration order. */
struct dk_class_driver *dk__class_first(void);
/* The class driver of name, or NULL. */
struct dk_class_driver *dk__class_find(const char *name);
/* 1 when name is a known class name (registered or in the built-in list). */
int dk__class_known(const char *name);

/* Context lifetime (cdev_ctx.c): create (opened, attributes read, MR cache,
 * config copied, listed) or NULL + errno; release (unlisted, closed). */
struct dk__cdev *dk__cdev_create(struct dk_pci_device *dev, const struct dk_devargs *config);
void dk__cdev_release(struct dk__cdev *c);
/* The context of dev, listed or NULL. */
struct dk__cdev *dk__cdev_find(const struct dk_pci_device *dev);

/* The MR cache operations for a VFIO device (cdev_vfio.c); ctx is the
 * struct dk__cdev. Thread-safe: reg and dereg take the context's reg_lock,
 * then (dk_dev_dma_map_auto/unmap_auto) the DMA domains' and the container's locks.
 * Lock order: the MR cache's own lock (it calls reg/dereg), then reg_lock,
 * then the dma layer's (dmakit/dma.h); from a memory event, heap locks come
 * first. unmap_all: every mapping still made, at context release. */
extern const struct dk_mr_ops dk__cdev_vfio_mr_ops;
void dk__cdev_vfio_unmap_all(struct dk__cdev *c);

/* Probe / remove (cdev.c), used by the common PCI driver. */
int dk__cdev_probe(struct dk_pci_device *dev, const struct dk_devargs *da);
int dk__cdev_remove_all(struct dk__cdev *c);
/* dk_cleanup, after the buses removed their drivers: release every context
 * still listed (kept after a failed class remove), trying the classes'
 * remove once more; failures are logged and the context goes anyway. */
void dk__cdev_cleanup(void);

#endif
