/* SPDX-License-Identifier: BSD-3-Clause */
/* Driver for QEMU's edu device (contract: include/dmakit/edu.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define DK_LOG_COMPONENT "edu"
#include <dmakit/bus.h>
#include <dmakit/edu.h>
#include <dmakit/log.h>
#include <dmakit/memory.h>
#include <dmakit/vfio.h>

#include "edu_internal.h"

#define R_ID 0x00
#define R_LIVE 0x04
#define R_FACT 0x08
#define R_STATUS 0x20
#define R_IRQ_STATUS 0x24
#define R_IRQ_ACK 0x64
#define R_DMA_SRC 0x80
#define R_DMA_DST 0x88
#define R_DMA_CNT 0x90
#define R_DMA_CMD 0x98

#define ST_COMPUTING 0x01u
#define ST_IRQ_FACT 0x80u
#define CMD_START 0x1u
#define CMD_TO_RAM 0x2u
#define CMD_IRQ 0x4u

#define MSI_INDEX 1 /* VFIO_PCI_MSI_IRQ_INDEX */

struct dk_edu {
	struct dk_pci_device *dev;
	pthread_mutex_t lock;
	int efd;  /* -1: polling */
	uint64_t irqs;
};


static int rd(struct dk_edu *e, uint64_t off, uint32_t *v)
{
	return dk_pci_mmio_read32(e->dev, 0, off, v);
}

static int wr(struct dk_edu *e, uint64_t off, uint32_t v)
{
	return dk_pci_mmio_write32(e->dev, 0, off, v);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until (reg & mask) == 0. With MSI, sleep on the eventfd (the device
 * raises 0x001 after a factorial, 0x100 after a DMA) and acknowledge what
 * the IRQ status shows; the register decides in both modes, so a lost or
 * early interrupt cannot fool it.
 */
static int wait_clear(struct dk_edu *e, uint64_t reg, uint32_t mask, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		uint32_t v;
		int rc = rd(e, reg, &v);
		if (rc < 0)
			return rc;
		if (!(v & mask))
			return 0;
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			DK_DEV_ERR(&e->dev->device,
				   "the device did not finish within %d ms (register %#" PRIx64
				   " = %#x): check the device, or raise the timeout",
				   timeout_ms, reg, v);
			return -ETIMEDOUT;
		}
		if (e->efd >= 0) {
			struct pollfd pfd = {.fd = e->efd, .events = POLLIN};
			if (poll(&pfd, 1, (int)(left < 50 ? left : 50)) > 0) {
				uint64_t n;
				if (read(e->efd, &n, sizeof(n)) == sizeof(n))
					e->irqs += n;
				uint32_t st;
				if (rd(e, R_IRQ_STATUS, &st) == 0 && st)
					wr(e, R_IRQ_ACK, st);
			}
		} else {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	}
}

static int setup_irq(struct dk_edu *e)
{
	struct dk_vfio_device *vd = dk_pci_vfio_device(e->dev);
	struct dk_vfio_irq_info info;
	if (!vd || dk_vfio_irq_info(vd, MSI_INDEX, &info) < 0 || info.count < 1) {
		DK_DEV_INFO(&e->dev->device, "no MSI: completion by polling");
		return 0;
	}
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		DK_DEV_INFO(&e->dev->device, "no eventfd (%s): completion by polling",
			    strerror(errno));
		return 0;
	}
	int rc = dk_vfio_irq_enable(vd, MSI_INDEX, &fd, 1);
	if (rc < 0) {
		close(fd);
		DK_DEV_INFO(&e->dev->device, "MSI not enabled (%s): completion by polling",
			    strerror(-rc));
		return 0;
	}
	e->efd = fd;
	return 0;
}

static void irq_off(struct dk_edu *e)
{
	if (e->efd < 0)
		return;
	struct dk_vfio_device *vd = dk_pci_vfio_device(e->dev);
	if (vd)
		dk_vfio_irq_disable(vd, MSI_INDEX);
	close(e->efd);
	e->efd = -1;
}

int dk_edu_set_polling(struct dk_edu *e, int on)
{
	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	int rc = 0;
	if (on) {
		irq_off(e);
	} else if (e->efd < 0) {
		setup_irq(e);
		if (e->efd < 0)
			rc = -ENOTSUP;
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int dk__edu_attach(struct dk_pci_device *dev, struct dk_edu **out)
{
	struct dk_edu *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->dev = dev;
	e->efd = -1;
	pthread_mutex_init(&e->lock, NULL);
	uint32_t id = 0;
	int rc = rd(e, R_ID, &id);
	if (rc == 0 && id != DK_EDU_ID_VALUE) {
		DK_DEV_ERR(&dev->device,
			   "ID register reads %#x, not %#x: this is not a working edu device", id,
			   DK_EDU_ID_VALUE);
		rc = -EIO;
	}
	/* DMA and MSI (a DMA write) need bus mastering; vfio-pci leaves it off. */
	uint16_t cmd = 0;
	if (rc == 0)
		rc = dk_pci_config_read(dev, &cmd, sizeof(cmd), 0x04);
	if (rc >= 0 && !(cmd & 0x4)) {
		cmd |= 0x4;
		rc = dk_pci_config_write(dev, &cmd, sizeof(cmd), 0x04);
	}
	if (rc >= 0)
		rc = setup_irq(e);
	if (rc < 0) {
		pthread_mutex_destroy(&e->lock);
		free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void dk__edu_detach(struct dk_edu *e)
{
	irq_off(e);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

int dk_edu_open(struct dk_pci_device *dev, struct dk_edu **out)
{
	if (!dev || !out) {
		DK_ERR("dk_edu_open: NULL %s", dev ? "output" : "device");
		return -EINVAL;
	}
	if (dev->id.vendor_id != DK_EDU_VENDOR || dev->id.device_id != DK_EDU_DEVICE) {
		DK_ERR("%s is %04x:%04x, not an edu device (%04x:%04x)", dev->device.name,
		       dev->id.vendor_id, dev->id.device_id, DK_EDU_VENDOR, DK_EDU_DEVICE);
		return -ENODEV;
	}
	int rc = dk_pci_vfio_open(dev);
	if (rc < 0)
		return rc;
	rc = dk__edu_attach(dev, out);
	if (rc < 0)
		dk_pci_vfio_close(dev);
	return rc;
}

void dk_edu_close(struct dk_edu *e)
{
	if (!e)
		return;
	struct dk_pci_device *dev = e->dev;
	dk__edu_detach(e);
	dk_pci_vfio_close(dev);
}

int dk_edu_uses_irq(const struct dk_edu *e)
{
	return e && e->efd >= 0;
}

uint64_t dk_edu_irq_count(const struct dk_edu *e)
{
	return e ? e->irqs : 0;
}

int dk_edu_id(struct dk_edu *e, uint32_t *id)
{
	if (!e || !id)
		return -EINVAL;
	return rd(e, R_ID, id);
}

int dk_edu_liveness(struct dk_edu *e, uint32_t v, uint32_t *out)
{
	if (!e || !out)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	int rc = wr(e, R_LIVE, v);
	if (rc == 0)
		rc = rd(e, R_LIVE, out);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int dk_edu_factorial(struct dk_edu *e, uint32_t n, uint32_t *out, int timeout_ms)
{
	if (!e || !out)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	int rc = wr(e, R_STATUS, e->efd >= 0 ? ST_IRQ_FACT : 0);
	if (rc == 0)
		rc = wr(e, R_FACT, n);
	if (rc == 0)
		rc = wait_clear(e, R_STATUS, ST_COMPUTING, timeout_ms);
	if (rc == 0)
		rc = rd(e, R_FACT, out);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int dk_edu_dma(struct dk_edu *e, int to_device, uint64_t iova, uint32_t off, uint32_t len,
	       int timeout_ms)
{
	if (!e || !len || off > DK_EDU_DMA_MAX || len > DK_EDU_DMA_MAX - off) {
		if (e)
			DK_DEV_ERR(&e->dev->device,
				   "DMA of %u bytes at buffer offset %u: keep off + len within 1..%u (QEMU's edu aborts on a full-buffer transfer)",
				   len, off, DK_EDU_DMA_MAX);
		return -EINVAL;
	}
	uint64_t buf = DK_EDU_BUF_ADDR + off;
	pthread_mutex_lock(&e->lock);
	int rc = dk_pci_mmio_write64(e->dev, 0, R_DMA_SRC, to_device ? iova : buf);
	if (rc == 0)
		rc = dk_pci_mmio_write64(e->dev, 0, R_DMA_DST, to_device ? buf : iova);
	if (rc == 0)
		rc = dk_pci_mmio_write64(e->dev, 0, R_DMA_CNT, len);
	if (rc == 0)
		rc = wr(e, R_DMA_CMD,
			CMD_START | (to_device ? 0 : CMD_TO_RAM) | (e->efd >= 0 ? CMD_IRQ : 0));
	if (rc == 0)
		rc = wait_clear(e, R_DMA_CMD, CMD_START, timeout_ms);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int dk_edu_dma_va(struct dk_edu *e, int to_device, const void *va, uint32_t off, uint32_t len,
		  int timeout_ms)
{
	if (!e || !va || !len)
		return dk_edu_dma(e, to_device, 0, off, len, timeout_ms);
	void *start;
	size_t clen;
	dk_iova_t iova;
	if (dk_mem_contig_chunk(va, &start, &clen, &iova) < 0 ||
	    (const char *)va + len > (char *)start + clen) {
		DK_DEV_ERR(&e->dev->device,
			   "[%p, +%u) is not IOVA-contiguous dmakit memory with an IOVA: allocate it with dk_malloc (DK_MALLOC_IOVA_CONTIG for large buffers) or add it to a heap with IOVAs",
			   va, len);
		return -EFAULT;
	}
	return dk_edu_dma(e, to_device, iova + (uint64_t)((const char *)va - (char *)start), off,
			  len, timeout_ms);
}

/* ---- the PCI driver ------------------------------------------------------ */

static int probe(struct dk_pci_driver *drv, struct dk_pci_device *dev)
{
	(void)drv;
	struct dk_edu *e;
	int rc = dk__edu_attach(dev, &e);
	if (rc < 0)
		return rc;
	dev->device.driver_data = e;
	return 0;
}

static int remove_dev(struct dk_pci_device *dev)
{
	struct dk_edu *e = dev->device.driver_data;
	if (!e)
		return -ENODEV;
	dk__edu_detach(e);
	return 0;
}

static const struct dk_pci_id_match g_ids[] = {
	DK_PCI_DEVICE(DK_EDU_VENDOR, DK_EDU_DEVICE),
	{.vendor_id = 0},
};

static struct dk_pci_driver g_drv = {
	.driver = {.name = "edu"},
	.id_table = g_ids,
	.flags = DK_PCI_DRV_NEED_VFIO,
	.probe = probe,
	.remove = remove_dev,
};

int dk_edu_driver_register(void)
{
	return dk_pci_driver_register(&g_drv);
}

int dk_edu_driver_unregister(void)
{
	return dk_pci_driver_unregister(&g_drv);
}

struct dk_edu *dk_edu_get(const struct dk_pci_device *dev)
{
	return dev && dev->device.driver == &g_drv.driver ? dev->device.driver_data : NULL;
}
