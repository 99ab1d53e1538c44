/* SPDX-License-Identifier: BSD-3-Clause */
/* edu as the "dma" and "compute" class drivers (contract: include/dmakit/edu.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DK_LOG_COMPONENT "edu"
#include <dmakit/bus.h>
#include <dmakit/cdev.h>
#include <dmakit/edu.h>
#include <dmakit/log.h>
#include <dmakit/mr.h>

#include "edu_internal.h"

/* The engine both classes of a context share; refs = classes holding it. */
struct edu_engine {
	struct dk_edu *edu;
	unsigned int refs;
};

/* What a class keeps in its context slot (dk_cdev_priv): the engine first. */
struct class_state {
	struct edu_engine *eng;
	struct dk_cdev *cdev;
};

struct dk_edu_dma {
	struct class_state cs;
	pthread_mutex_t lock; /* guards n_queues */
	unsigned int n_queues;
};

struct dk_edu_compute {
	struct class_state cs;
};

struct dk_edu_dmaq {
	struct dk_mr_ctrl mr; /* this queue's levels in front of the context's cache */
	struct dk_edu_dma *dma;
};

static struct dk_class_driver g_dma_drv, g_compute_drv;

static struct dk_device *devof(const struct class_state *cs)
{
	return &cs->cdev->pci->device;
}

/* ---- the shared engine --------------------------------------------------- */

/* The engine another class of cdev holds already, or NULL. */
static struct edu_engine *engine_find(struct dk_cdev *cdev, const struct dk_class_driver *self)
{
	const struct dk_class_driver *other = self == &g_dma_drv ? &g_compute_drv : &g_dma_drv;
	const struct class_state *cs = dk_cdev_priv(cdev, other);
	return cs ? cs->eng : NULL;
}

static int engine_get(struct dk_cdev *cdev, const struct dk_class_driver *self,
		      struct edu_engine **out)
{
	struct edu_engine *eng = engine_find(cdev, self);
	if (eng) {
		eng->refs++;
		*out = eng;
		return 0;
	}
	eng = calloc(1, sizeof(*eng));
	if (!eng) {
		DK_DEV_ERR(&cdev->pci->device, "no memory for the edu engine: free some memory");
		return -ENOMEM;
	}
	int rc = dk__edu_attach(cdev->pci, &eng->edu);
	if (rc < 0) {
		free(eng);
		return rc;
	}
	eng->refs = 1;
	*out = eng;
	return 0;
}

static void engine_put(struct edu_engine *eng)
{
	if (--eng->refs)
		return;
	dk__edu_detach(eng->edu);
	free(eng);
}

/* ---- the dma class ------------------------------------------------------- */

static int dma_probe(struct dk_cdev *cdev)
{
	struct dk_edu_dma *d = calloc(1, sizeof(*d));
	if (!d) {
		DK_DEV_ERR(&cdev->pci->device, "no memory for the dma class: free some memory");
		return -ENOMEM;
	}
	int rc = engine_get(cdev, &g_dma_drv, &d->cs.eng);
	if (rc < 0)
		goto fail_engine;
	if (!cdev->mr)
		DK_DEV_WARN(&cdev->pci->device,
			    "the context has no MR cache: dma queues cannot be created (build dmakit with src/mr)");
	d->cs.cdev = cdev;
	pthread_mutex_init(&d->lock, NULL);
	dk_cdev_set_priv(cdev, &g_dma_drv, d);
	DK_DEV_INFO(&cdev->pci->device, "class dma: copy engine ready (%s completion)",
		    dk_edu_uses_irq(d->cs.eng->edu) ? "MSI" : "polled");
	return 0;
fail_engine:
	free(d);
	return rc;
}

static int dma_remove(struct dk_cdev *cdev)
{
	struct dk_edu_dma *d = dk_cdev_priv(cdev, &g_dma_drv);
	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	unsigned int n = d->n_queues;
	pthread_mutex_unlock(&d->lock);
	if (n) {
		DK_DEV_ERR(&cdev->pci->device,
			   "class dma: %u queue(s) still exist: dk_edu_dmaq_destroy them, then remove again (dk_cdev_remove)",
			   n);
		return -EBUSY;
	}
	dk_cdev_set_priv(cdev, &g_dma_drv, NULL);
	engine_put(d->cs.eng);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return 0;
}

/* ---- the compute class --------------------------------------------------- */

static int compute_probe(struct dk_cdev *cdev)
{
	struct dk_edu_compute *c = calloc(1, sizeof(*c));
	if (!c) {
		DK_DEV_ERR(&cdev->pci->device, "no memory for the compute class: free some memory");
		return -ENOMEM;
	}
	int rc = engine_get(cdev, &g_compute_drv, &c->cs.eng);
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->cs.cdev = cdev;
	dk_cdev_set_priv(cdev, &g_compute_drv, c);
	DK_DEV_INFO(&cdev->pci->device, "class compute: factorial unit ready%s",
		    c->cs.eng->refs > 1 ? " (engine shared with class dma)" : "");
	return 0;
}

static int compute_remove(struct dk_cdev *cdev)
{
	struct dk_edu_compute *c = dk_cdev_priv(cdev, &g_compute_drv);
	if (!c)
		return 0;
	dk_cdev_set_priv(cdev, &g_compute_drv, NULL);
	engine_put(c->cs.eng);
	free(c);
	return 0;
}

/* ---- registration -------------------------------------------------------- */

static const struct dk_pci_id_match g_ids[] = {
	DK_PCI_DEVICE(DK_EDU_VENDOR, DK_EDU_DEVICE),
	{.vendor_id = 0},
};

static struct dk_class_driver g_dma_drv = {
	.name = "dma",
	.id_table = g_ids,
	.probe = dma_probe,
	.remove = dma_remove,
};

static struct dk_class_driver g_compute_drv = {
	.name = "compute",
	.id_table = g_ids,
	.probe = compute_probe,
	.remove = compute_remove,
};

int dk_edu_classes_register(void)
{
	int rc = dk_class_driver_register(&g_dma_drv);
	if (rc < 0)
		return rc;
	rc = dk_class_driver_register(&g_compute_drv);
	if (rc < 0)
		dk_class_driver_unregister(&g_dma_drv);
	return rc;
}

int dk_edu_classes_unregister(void)
{
	/* Reverse order of registration; both are tried. */
	int rc = dk_class_driver_unregister(&g_compute_drv);
	int rc2 = dk_class_driver_unregister(&g_dma_drv);
	return rc < 0 ? rc : rc2;
}

/* ---- accessors ----------------------------------------------------------- */

static void *class_of(const struct dk_cdev *cdev, const struct dk_class_driver *drv)
{
	if (!cdev) {
		errno = EINVAL;
		return NULL;
	}
	void *p = dk_cdev_priv(cdev, drv);
	if (!p)
		errno = ENOENT;
	return p;
}

struct dk_edu_dma *dk_edu_dma_of(const struct dk_cdev *cdev)
{
	return class_of(cdev, &g_dma_drv);
}

struct dk_edu_compute *dk_edu_compute_of(const struct dk_cdev *cdev)
{
	return class_of(cdev, &g_compute_drv);
}

struct dk_edu_dma *dk_edu_dma_get(const struct dk_pci_device *dev)
{
	struct dk_cdev *cdev = dev ? dk_cdev_of(dev) : NULL;
	if (!cdev) {
		errno = dev ? ENOENT : EINVAL;
		return NULL;
	}
	return dk_edu_dma_of(cdev);
}

struct dk_edu_compute *dk_edu_compute_get(const struct dk_pci_device *dev)
{
	struct dk_cdev *cdev = dev ? dk_cdev_of(dev) : NULL;
	if (!cdev) {
		errno = dev ? ENOENT : EINVAL;
		return NULL;
	}
	return dk_edu_compute_of(cdev);
}

struct dk_cdev *dk_edu_dma_cdev(const struct dk_edu_dma *d)
{
	return d ? d->cs.cdev : NULL;
}

struct dk_cdev *dk_edu_compute_cdev(const struct dk_edu_compute *c)
{
	return c ? c->cs.cdev : NULL;
}

struct dk_edu *dk_edu_dma_engine(const struct dk_edu_dma *d)
{
	return d ? d->cs.eng->edu : NULL;
}

struct dk_edu *dk_edu_compute_engine(const struct dk_edu_compute *c)
{
	return c ? c->cs.eng->edu : NULL;
}

/* ---- queues and operations ----------------------------------------------- */

struct dk_edu_dmaq *dk_edu_dmaq_create(struct dk_edu_dma *d)
{
	if (!d) {
		DK_ERR("dk_edu_dmaq_create: NULL dma class (get it with dk_edu_dma_of)");
		errno = EINVAL;
		return NULL;
	}
	if (!d->cs.cdev->mr) {
		DK_DEV_ERR(devof(&d->cs),
			   "class dma: the context has no MR cache, so no queue can translate buffers");
		errno = ENOTSUP;
		return NULL;
	}
	struct dk_edu_dmaq *q = calloc(1, sizeof(*q));
	if (!q) {
		DK_DEV_ERR(devof(&d->cs), "class dma: no memory for a queue: free some memory");
		errno = ENOMEM;
		return NULL;
	}
	int rc = dk_mr_ctrl_init(&q->mr, d->cs.cdev->mr);
	if (rc < 0) {
		free(q);
		errno = -rc;
		return NULL;
	}
	q->dma = d;
	pthread_mutex_lock(&d->lock);
	d->n_queues++;
	pthread_mutex_unlock(&d->lock);
	return q;
}

void dk_edu_dmaq_destroy(struct dk_edu_dmaq *q)
{
	if (!q)
		return;
	struct dk_edu_dma *d = q->dma;
	dk_mr_ctrl_fini(&q->mr);
	free(q);
	pthread_mutex_lock(&d->lock);
	d->n_queues--;
	pthread_mutex_unlock(&d->lock);
}

int dk_edu_dmaq_copy(struct dk_edu_dmaq *q, int to_device, const void *va, uint32_t off,
		     uint32_t len, int timeout_ms)
{
	if (!q || !va || !len) {
		DK_ERR("dk_edu_dmaq_copy: pass a queue, a buffer and a length (got %p, %p, %u)",
		       (void *)q, va, len);
		return -EINVAL;
	}
	uint32_t key;
	dk_iova_t iova;
	int rc = dk_mr_lookup(&q->mr, va, len, &key, &iova);
	if (rc < 0) {
		DK_DEV_ERR(devof(&q->dma->cs), "class dma: no translation for %p+%u: %s%s", va, len,
			   strerror(-rc),
			   rc == -ERANGE ? " (the buffer straddles two registrations: split the copy)"
					 : "");
		return rc;
	}
	return dk_edu_dma(q->dma->cs.eng->edu, to_device, iova, off, len, timeout_ms);
}

int dk_edu_compute_factorial(struct dk_edu_compute *c, uint32_t n, uint32_t *out,
			     int timeout_ms)
{
	if (!c || !out) {
		DK_ERR("dk_edu_compute_factorial: NULL %s", c ? "output" : "compute class");
		return -EINVAL;
	}
	return dk_edu_factorial(c->cs.eng->edu, n, out, timeout_ms);
}
