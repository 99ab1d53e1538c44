/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MMIO on the BARs of a device opened through VFIO: through the mapping
 * when the whole access lies inside one mapped area, else pread/pwrite on
 * the device fd at the region's offset. Bounds are checked either way.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "bus/pci/pci_internal.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

/* Copy with volatile accesses of the largest size the alignment allows. */
static void mmio_copy_in(uint8_t *dst, const volatile uint8_t *src, size_t len)
{
	while (len) {
		uintptr_t a = (uintptr_t)src;
		if (len >= 8 && !(a & 7)) {
			uint64_t v = *(const volatile uint64_t *)src;
			memcpy(dst, &v, 8);
			src += 8, dst += 8, len -= 8;
		} else if (len >= 4 && !(a & 3)) {
			uint32_t v = *(const volatile uint32_t *)src;
			memcpy(dst, &v, 4);
			src += 4, dst += 4, len -= 4;
		} else if (len >= 2 && !(a & 1)) {
			uint16_t v = *(const volatile uint16_t *)src;
			memcpy(dst, &v, 2);
			src += 2, dst += 2, len -= 2;
		} else {
			*dst++ = *src++;
			len--;
		}
	}
}

static void mmio_copy_out(volatile uint8_t *dst, const uint8_t *src, size_t len)
{
	while (len) {
		uintptr_t a = (uintptr_t)dst;
		if (len >= 8 && !(a & 7)) {
			uint64_t v;
			memcpy(&v, src, 8);
			*(volatile uint64_t *)dst = v;
			src += 8, dst += 8, len -= 8;
		} else if (len >= 4 && !(a & 3)) {
			uint32_t v;
			memcpy(&v, src, 4);
			*(volatile uint32_t *)dst = v;
			src += 4, dst += 4, len -= 4;
		} else if (len >= 2 && !(a & 1)) {
			uint16_t v;
			memcpy(&v, src, 2);
			*(volatile uint16_t *)dst = v;
			src += 2, dst += 2, len -= 2;
		} else {
			*dst++ = *src++;
			len--;
		}
	}
}

static int fd_rw(const struct dk__pci_dev *d, const struct dk__pci_region *r, void *buf,
		 size_t len, uint64_t off, int write)
{
	size_t done = 0;
	while (done < len) {
		off_t pos = (off_t)(r->pub.fd_offset + off + done);
		ssize_t n = write ? pwrite(d->vfio->fd, (const uint8_t *)buf + done, len - done, pos)
				  : pread(d->vfio->fd, (uint8_t *)buf + done, len - done, pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int rc = n < 0 ? -errno : -EIO;
			DK_ERR("%s: BAR%u %s of %zu bytes at 0x%" PRIx64 " through the device fd: %s",
			       d->name, r->pub.index, write ? "write" : "read", len, off,
			       n < 0 ? strerror(errno) : "short transfer");
			return rc;
		}
		done += (size_t)n;
	}
	return (int)len;
}

static int mmio_rw(const struct dk_pci_device *dev, unsigned int bar, void *buf, size_t len,
		   uint64_t off, int write)
{
	const char *what = write ? "write" : "read";
	if (!dev || (!buf && len)) {
		DK_ERR("MMIO %s: NULL %s", what, dev ? "buffer" : "device");
		return -EINVAL;
	}
	const struct dk__pci_dev *d = dk__pci_dev(dev);
	const struct dk__pci_vfio *v = d->vfio;
	if (!v) {
		DK_ERR("%s: MMIO %s: the device is not open through VFIO: call dk_pci_vfio_open first",
		       d->name, what);
		return -ENODEV;
	}
	if (bar > DK_PCI_ROM_INDEX || bar >= v->nr_regions) {
		DK_ERR("%s: MMIO %s: BAR %u out of range: use 0..5 (6 for the ROM)", d->name, what, bar);
		return -EINVAL;
	}
	const struct dk__pci_region *r = &v->regions[bar];
	if (r->pub.size == 0) {
		DK_ERR("%s: MMIO %s: BAR%u is not implemented (size 0)", d->name, what, bar);
		return -EINVAL;
	}
	if (len > INT_MAX) {
		DK_ERR("%s: MMIO %s of %zu bytes: at most INT_MAX bytes per call", d->name, what, len);
		return -EINVAL;
	}
	if (off > r->pub.size || len > r->pub.size - off) {
		DK_ERR("%s: MMIO %s of %zu bytes at 0x%" PRIx64 " is beyond BAR%u (0x%" PRIx64
		       " bytes): keep offset + length within the BAR",
		       d->name, what, len, off, bar, r->pub.size);
		return -ERANGE;
	}
	if (!(r->pub.flags & (write ? DK_PCI_REGION_WRITE : DK_PCI_REGION_READ))) {
		DK_ERR("%s: BAR%u is not %s", d->name, bar, write ? "writable" : "readable");
		return -EACCES;
	}
	if (len == 0)
		return 0;
	const struct dk_pci_map_area *m = v->force_rw ? NULL : dk__pci_region_area(r, off, len);
	if (!m)
		return fd_rw(d, r, buf, len, off, write);
	volatile uint8_t *p = (volatile uint8_t *)m->addr + (off - m->offset);
	uintptr_t a = (uintptr_t)p;
	if (write) {
		if (len == 4 && !(a & 3)) {
			uint32_t x;
			memcpy(&x, buf, 4);
			*(volatile uint32_t *)p = x;
		} else if (len == 8 && !(a & 7)) {
			uint64_t x;
			memcpy(&x, buf, 8);
			*(volatile uint64_t *)p = x;
		} else {
			mmio_copy_out(p, buf, len);
		}
	} else {
		if (len == 4 && !(a & 3)) {
			uint32_t x = *(volatile uint32_t *)p;
			memcpy(buf, &x, 4);
		} else if (len == 8 && !(a & 7)) {
			uint64_t x = *(volatile uint64_t *)p;
			memcpy(buf, &x, 8);
		} else {
			mmio_copy_in(buf, p, len);
		}
	}
	return (int)len;
}

int dk_pci_mmio_read(const struct dk_pci_device *dev, unsigned int bar, void *buf, size_t len,
		     uint64_t offset)
{
	return mmio_rw(dev, bar, buf, len, offset, 0);
}

int dk_pci_mmio_write(const struct dk_pci_device *dev, unsigned int bar, const void *buf,
		      size_t len, uint64_t offset)
{
	return mmio_rw(dev, bar, (void *)(uintptr_t)buf, len, offset, 1);
}

#define DK_MMIO_TYPED(bits)                                                                     \
	int dk_pci_mmio_read##bits(const struct dk_pci_device *dev, unsigned int bar,            \
				   uint64_t offset, uint##bits##_t *val)                         \
	{                                                                                        \
		if (!val) {                                                                      \
			DK_ERR("dk_pci_mmio_read" #bits ": NULL value pointer");                 \
			return -EINVAL;                                                          \
		}                                                                                \
		int rc = mmio_rw(dev, bar, val, sizeof(*val), offset, 0);                        \
		return rc < 0 ? rc : 0;                                                          \
	}                                                                                        \
	int dk_pci_mmio_write##bits(const struct dk_pci_device *dev, unsigned int bar,           \
				    uint64_t offset, uint##bits##_t val)                         \
	{                                                                                        \
		int rc = mmio_rw(dev, bar, &val, sizeof(val), offset, 1);                        \
		return rc < 0 ? rc : 0;                                                          \
	}

DK_MMIO_TYPED(8)
DK_MMIO_TYPED(16)
DK_MMIO_TYPED(32)
DK_MMIO_TYPED(64)
