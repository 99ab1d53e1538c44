/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Thin, checked DMA map/unmap on a container (VFIO_IOMMU_MAP_DMA /
 * VFIO_IOMMU_UNMAP_DMA), or on an IOAS (vfio_iommufd.c, after the same checks). The arguments are checked against the page size
 * and IOVA ranges the container cached at its last group attach, so each
 * bad input gets its own errno and a message naming the fix; the kernel's
 * own errors are translated the same way. No bookkeeping of mappings here:
 * the DMA-mapping policy (which memory, which IOVAs) lives above.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "vfio/vfio_internal.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

/* Common checks; called with c->lock held. */
static int check_range(const struct dk_vfio_container *c, const char *what, uint64_t va,
		       uint64_t iova, uint64_t len)
{
	if (!c->iommu_type) {
		DK_ERR("%s: the container has no IOMMU yet: open a group (or a device) in it first",
		       what);
		return -ENXIO;
	}
	uint64_t pg = c->min_pgsize ? c->min_pgsize : 4096;
	if (len == 0) {
		DK_ERR("%s of 0 bytes at IOVA 0x%" PRIx64 ": give a length (a multiple of %" PRIu64 ")",
		       what, iova, pg);
		return -EINVAL;
	}
	if ((va | iova | len) & (pg - 1)) {
		DK_ERR("%s: VA 0x%" PRIx64 ", IOVA 0x%" PRIx64 " and length 0x%" PRIx64
		       " must be multiples of the IOMMU page size 0x%" PRIx64
		       ": align the buffer (e.g. mmap or aligned_alloc) and round the length up",
		       what, va, iova, len, pg);
		return -EINVAL;
	}
	if (iova + len - 1 < iova || va + len - 1 < va) {
		DK_ERR("%s: IOVA 0x%" PRIx64 " (or VA 0x%" PRIx64 ") + length 0x%" PRIx64
		       " wraps around 2^64",
		       what, iova, va, len);
		return -EINVAL;
	}
	return 0;
}

static int in_ranges(const struct dk_vfio_iommu_info *info, uint64_t first, uint64_t last)
{
	for (uint32_t i = 0; i < info->nr_ranges; i++)
		if (first >= info->ranges[i].start && last <= info->ranges[i].end)
			return 1;
	return 0;
}

int dk__vfio_is_p2pmem(const void *va, uint64_t len, char *path, size_t pathlen)
{
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return 0;
	uint64_t a = (uintptr_t)va, end = a + len;
	char line[512];
	int hit = 0;
	while (!hit && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		int off = 0;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &off) != 2 || !off ||
		    hi <= a || lo >= end)
			continue;
		line[strcspn(line, "\n")] = '\0';
		const char *file = line + off;
		size_t n = strlen(file), sl = sizeof("/p2pmem/allocate") - 1;
		hit = n >= sl && strcmp(file + n - sl, "/p2pmem/allocate") == 0;
		if (hit)
			snprintf(path, pathlen, "%s", file);
	}
	fclose(f);
	return hit;
}

static void log_ranges(const struct dk_vfio_iommu_info *info, uint64_t iova, uint64_t len)
{
	char buf[512];
	size_t o = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < info->nr_ranges && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s0x%" PRIx64 "-0x%" PRIx64,
				      i ? ", " : "", info->ranges[i].start, info->ranges[i].end);
	DK_ERR("DMA map: IOVA 0x%" PRIx64 "-0x%" PRIx64
	       " is outside the IOMMU's usable ranges (%s): pick IOVAs inside them (a 39-bit IOMMU cannot take user VAs as IOVAs)",
	       iova, iova + len - 1, buf);
}

int dk_vfio_dma_map(struct dk_vfio_container *c, const void *va, uint64_t iova, uint64_t len)
{
	if (!va) {
		DK_ERR("DMA map: NULL VA: pass the buffer to map");
		return -EINVAL;
	}
	if (!(c = dk__vfio_resolve(c)))
		return -errno;
	pthread_mutex_lock(&c->lock);
	int rc = check_range(c, "DMA map", (uint64_t)(uintptr_t)va, iova, len);
	if (rc < 0)
		goto out;
	if (!in_ranges(&c->cached, iova, iova + len - 1)) {
		log_ranges(&c->cached, iova, len);
		rc = -ERANGE;
		goto out;
	}
	if (c->backend == DK_VFIO_BACKEND_IOMMUFD) {
		rc = dk__iommufd_map(c, va, iova, len);
		goto out;
	}
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)va,
		.iova = iova,
		.size = len,
	};
	if (ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &m) == 0) {
		rc = 0;
		goto out;
	}
	rc = -errno;
	char path[256];
	if ((rc == -EFAULT || rc == -EREMOTEIO) &&
	    dk__vfio_is_p2pmem(va, len, path, sizeof(path))) {
		DK_ERR(DK__VFIO_P2PMEM_REFUSED " (VFIO_IOMMU_MAP_DMA: %s)", va, len, path,
		       strerror(-rc));
		goto out;
	}
	switch (-rc) {
	case EEXIST:
		DK_ERR("DMA map: IOVA 0x%" PRIx64 "-0x%" PRIx64
		       " overlaps an existing mapping: unmap it first or choose another IOVA",
		       iova, iova + len - 1);
		break;
	case ENOSPC:
		DK_ERR("DMA map: the kernel's limit of DMA mappings per container is reached: map bigger chunks, or raise /sys/module/vfio_iommu_type1/parameters/dma_entry_limit");
		break;
	case ENOMEM:
		DK_ERR("DMA map of 0x%" PRIx64 " bytes: cannot pin the pages: raise the locked-memory limit (ulimit -l / RLIMIT_MEMLOCK) or run as root",
		       len);
		break;
	case EFAULT:
		DK_ERR("DMA map: VA %p (0x%" PRIx64 " bytes) is not mapped in this process", va,
		       len);
		break;
	default:
		DK_ERR("DMA map VA %p -> IOVA 0x%" PRIx64 " (0x%" PRIx64 " bytes): VFIO_IOMMU_MAP_DMA: %s",
		       va, iova, len, strerror(-rc));
	}
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int dk_vfio_dma_unmap(struct dk_vfio_container *c, uint64_t iova, uint64_t len)
{
	if (!(c = dk__vfio_resolve(c)))
		return -errno;
	pthread_mutex_lock(&c->lock);
	int rc = check_range(c, "DMA unmap", 0, iova, len);
	if (rc < 0)
		goto out;
	if (c->backend == DK_VFIO_BACKEND_IOMMUFD) {
		rc = dk__iommufd_unmap(c, iova, len);
		goto out;
	}
	struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof(u), .iova = iova, .size = len};
	if (ioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &u) < 0) {
		rc = -errno;
		if (errno == EINVAL)
			DK_ERR("DMA unmap IOVA 0x%" PRIx64 "-0x%" PRIx64
			       ": the range splits a mapping: unmap whole mappings (as mapped)",
			       iova, iova + len - 1);
		else
			DK_ERR("DMA unmap IOVA 0x%" PRIx64 " (0x%" PRIx64 " bytes): VFIO_IOMMU_UNMAP_DMA: %s",
			       iova, len, strerror(errno));
		goto out;
	}
	if (u.size == 0) {
		DK_ERR("DMA unmap: nothing is mapped at IOVA 0x%" PRIx64 "-0x%" PRIx64
		       ": check the IOVA and length of the mapping",
		       iova, iova + len - 1);
		rc = -ENOENT;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}
