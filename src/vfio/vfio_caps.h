/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parser of VFIO info capability chains (struct vfio_info_cap_header:
 * u16 id, u16 version, u32 next), as returned by
 * VFIO_DEVICE_GET_REGION_INFO and VFIO_IOMMU_GET_INFO. Pure functions over
 * a byte buffer (no syscalls, no allocation, no logging): fuzzed by
 * fuzz/fuzz_vfio_caps.c.
 *
 * The buffer is the whole info struct as the kernel filled it: offsets
 * (first and every next) are relative to its start. Rules:
 *   - first == 0: no capabilities;
 *   - a capability starts at or after the fixed struct (fixed_len) and its
 *     8-byte header lies inside the buffer;
 *   - next == 0 ends the chain; otherwise next lies strictly after the
 *     current header (chains only move forward, so they cannot loop);
 *   - a capability's payload ends at next (or at the end of the buffer for
 *     the last one); gaps between capabilities (padding) are fine;
 *   - unknown ids are skipped; a known id must fit its payload, and a known
 *     id that appears twice is ambiguous.
 * Any violation returns -EPROTO and records where in *err_off (the offset
 * of the offending capability). Nothing is read outside [0, len).
 *
 * Multi-byte fields are in host byte order (the kernel's), read with
 * memcpy: the buffer needs no alignment.
 */
#ifndef DK_VFIO_CAPS_H
#define DK_VFIO_CAPS_H

#include <stddef.h>
#include <stdint.h>

#define DK__VFIO_CAP_HDR_LEN 8u

/* Region capability ids (linux/vfio.h) */
#define DK__VFIO_REGION_CAP_SPARSE_MMAP 1
#define DK__VFIO_REGION_CAP_TYPE 2
#define DK__VFIO_REGION_CAP_MSIX_MAPPABLE 3
/* type1 IOMMU capability ids */
#define DK__VFIO_IOMMU_CAP_IOVA_RANGE 1
#define DK__VFIO_IOMMU_CAP_MIGRATION 2
#define DK__VFIO_IOMMU_CAP_DMA_AVAIL 3

/* dk__vfio_region_caps.flags */
#define DK__VFIO_RCAP_SPARSE (1u << 0)
#define DK__VFIO_RCAP_TYPE (1u << 1)
#define DK__VFIO_RCAP_MSIX_MAPPABLE (1u << 2)

struct dk__vfio_region_caps {
	uint32_t flags;
	uint32_t nr_areas;  /* sparse: number of {u64 offset, u64 size} areas */
	size_t areas_off;   /* sparse: buffer offset of the first area (fits in len) */
	uint32_t type, subtype;
	unsigned int ncaps; /* capabilities walked, unknown ones included */
};

/* dk__vfio_iommu_caps.flags */
#define DK__VFIO_ICAP_IOVA_RANGE (1u << 0)
#define DK__VFIO_ICAP_DMA_AVAIL (1u << 1)
#define DK__VFIO_ICAP_MIGRATION (1u << 2)

struct dk__vfio_iommu_caps {
	uint32_t flags;
	uint32_t nr_iovas;  /* {u64 start, u64 end} ranges */
	size_t iovas_off;   /* buffer offset of the first range (fits in len) */
	uint32_t dma_avail;
	unsigned int ncaps;
};

/*
 * Walk the chain starting at first. cb (may be NULL) sees each capability:
 * its id, version, offset and the bytes available to it (header
 * included). A negative return from cb stops the walk and is returned.
 * Returns the number of capabilities, -EPROTO on a malformed chain, or
 * -EINVAL (buf NULL with len > 0, fixed_len > len).
 */
typedef int (*dk__vfio_cap_fn)(void *arg, uint16_t id, uint16_t version, size_t off,
			       size_t avail);
int dk__vfio_caps_walk(const void *buf, size_t len, size_t fixed_len, uint32_t first,
		       dk__vfio_cap_fn cb, void *arg, size_t *err_off);

/*
 * Region info chain: sparse mmap (id 1), type (id 2), MSI-X mappable (id 3).
 * 0, -EPROTO (malformed: header or payload truncated, nr_areas beyond the
 * capability, duplicate known id), or -EINVAL. *out is zeroed first.
 */
int dk__vfio_region_caps_parse(const void *buf, size_t len, size_t fixed_len, uint32_t first,
			       struct dk__vfio_region_caps *out, size_t *err_off);

/*
 * type1 IOMMU info chain: IOVA ranges (id 1, every range start <= end),
 * migration (id 2, noted only), DMA available (id 3). Same returns.
 */
int dk__vfio_iommu_caps_parse(const void *buf, size_t len, size_t fixed_len, uint32_t first,
			      struct dk__vfio_iommu_caps *out, size_t *err_off);

/* Read a u64 at off (caller checked bounds). */
uint64_t dk__vfio_get_u64(const void *buf, size_t off);

#endif
