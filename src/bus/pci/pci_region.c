/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The region table of a device opened through VFIO: mapping each region's
 * mmappable areas from the device fd, at the offsets the kernel reported
 * (never computed from the index).
 *
 *   - not sparse: the whole region in one mmap (DK_PCI_MAP_WHOLE);
 *   - sparse, default: one PROT_NONE anonymous reservation the size of the
 *     region (rounded up to pages), each area mapped over it with
 *     MAP_FIXED, so base + offset works for every mapped part and faults in
 *     the holes (DK_PCI_MAP_RESERVED);
 *   - sparse, split: each area mapped on its own (DK_PCI_MAP_SPLIT).
 * Areas not page-aligned, or whose mmap fails, stay unmapped (warning):
 * MMIO reaches them with pread/pwrite.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bus/pci/pci_internal.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

static int map_prot(uint32_t flags)
{
	int prot = 0;
	if (flags & DK_VFIO_REGION_READ)
		prot |= PROT_READ;
	if (flags & DK_VFIO_REGION_WRITE)
		prot |= PROT_WRITE;
	return prot;
}

int dk__pci_region_map(struct dk__pci_region *r, const struct dk_vfio_region_info *ri, int fd,
		       int split, const char *devname)
{
	memset(r, 0, sizeof(*r));
	struct dk_pci_region *p = &r->pub;
	p->index = ri->index;
	p->flags = ri->flags;
	p->size = ri->size;
	p->fd_offset = ri->offset;
	p->type = ri->type;
	p->subtype = ri->subtype;
	p->mode = DK_PCI_MAP_NONE;
	if (ri->nr_areas == 0 || ri->size == 0)
		return 0;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int prot = map_prot(ri->flags);
	r->map_areas = calloc(ri->nr_areas, sizeof(*r->map_areas));
	if (!r->map_areas)
		return -ENOMEM;
	p->nr_areas = ri->nr_areas;
	p->areas = r->map_areas;
	for (uint32_t i = 0; i < ri->nr_areas; i++) {
		r->map_areas[i].offset = ri->areas[i].offset;
		r->map_areas[i].len = ri->areas[i].size;
	}
	if (ri->size > SIZE_MAX / 2 || (ri->offset & (page - 1))) {
		DK_WARN("%s: region %u: offset 0x%" PRIx64 " in the device fd is not page-aligned: not mapped, accessed by pread/pwrite",
			devname, ri->index, ri->offset);
		return 0;
	}

	if (!(ri->flags & DK_VFIO_REGION_SPARSE)) {
		void *a = mmap(NULL, ri->size, prot, MAP_SHARED, fd, (off_t)ri->offset);
		if (a == MAP_FAILED) {
			DK_WARN("%s: region %u: mmap of 0x%" PRIx64 " bytes: %s: accessed by pread/pwrite",
				devname, ri->index, ri->size, strerror(errno));
			return 0;
		}
		r->map_base = a;
		r->map_len = ri->size;
		r->map_areas[0].addr = a;
		p->base = a;
		p->mode = DK_PCI_MAP_WHOLE;
		return 0;
	}

	uint8_t *base = NULL;
	if (!split) {
		size_t len = (size_t)((ri->size + page - 1) & ~(page - 1));
		void *res = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				 -1, 0);
		if (res == MAP_FAILED) {
			DK_ERR("%s: region %u: cannot reserve 0x%zx bytes of address space: %s",
			       devname, ri->index, len, strerror(errno));
			free(r->map_areas);
			memset(r, 0, sizeof(*r));
			return -ENOMEM;
		}
		base = res;
		r->map_base = res;
		r->map_len = len;
		p->base = res;
		p->mode = DK_PCI_MAP_RESERVED;
	} else {
		p->mode = DK_PCI_MAP_SPLIT;
	}
	for (uint32_t i = 0; i < ri->nr_areas; i++) {
		struct dk_pci_map_area *m = &r->map_areas[i];
		if ((m->offset | m->len) & (page - 1)) {
			DK_WARN("%s: region %u: sparse area 0x%" PRIx64 "+0x%" PRIx64 " is not page-aligned: accessed by pread/pwrite",
				devname, ri->index, m->offset, m->len);
			continue;
		}
		void *a = mmap(base ? base + m->offset : NULL, m->len, prot,
			       MAP_SHARED | (base ? MAP_FIXED : 0), fd, (off_t)(ri->offset + m->offset));
		if (a == MAP_FAILED) {
			DK_WARN("%s: region %u: mmap of area 0x%" PRIx64 "+0x%" PRIx64 ": %s: accessed by pread/pwrite",
				devname, ri->index, m->offset, m->len, strerror(errno));
			if (base) /* MAP_FIXED may have replaced the reservation: put it back */
				mmap(base + m->offset, m->len, PROT_NONE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
			continue;
		}
		m->addr = a;
	}
	return 0;
}

void dk__pci_region_unmap(struct dk__pci_region *r)
{
	if (r->pub.mode == DK_PCI_MAP_SPLIT) {
		for (uint32_t i = 0; i < r->pub.nr_areas; i++)
			if (r->map_areas[i].addr)
				munmap(r->map_areas[i].addr, r->map_areas[i].len);
	} else if (r->map_base) {
		/* whole: one mapping; reserved: the areas lie inside the reservation */
		munmap(r->map_base, r->map_len);
	}
	free(r->map_areas);
	memset(r, 0, sizeof(*r));
}

const struct dk_pci_map_area *dk__pci_region_area(const struct dk__pci_region *r, uint64_t off,
						  uint64_t len)
{
	for (uint32_t i = 0; i < r->pub.nr_areas; i++) {
		const struct dk_pci_map_area *m = &r->map_areas[i];
		if (m->addr && off >= m->offset && off - m->offset <= m->len &&
		    len <= m->len - (off - m->offset))
			return m;
	}
	return NULL;
}
