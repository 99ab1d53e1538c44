/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel interface of the iommufd backend (vfio_iommufd.c): the
 * /dev/iommu commands (linux/iommufd.h, Linux 6.2+) and the VFIO device
 * cdev's iommufd ioctls (linux/vfio.h, Linux 6.6+). The build host's
 * headers may lack both (Debian 12 ships 6.1's), so the layouts and numbers
 * the backend uses are defined here, under dmakit's own names, once; they
 * are the guest kernel's (6.12) ABI, which the kernel keeps stable.
 */
#ifndef DK_VFIO_IOMMUFD_UAPI_H
#define DK_VFIO_IOMMUFD_UAPI_H

#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/vfio.h>

/* /dev/iommu: ioctl type ';', commands from 0x80. */
#define DK__IOMMUFD_TYPE ';'
#define DK__IOMMU_DESTROY _IO(DK__IOMMUFD_TYPE, 0x80)
#define DK__IOMMU_IOAS_ALLOC _IO(DK__IOMMUFD_TYPE, 0x81)
#define DK__IOMMU_IOAS_IOVA_RANGES _IO(DK__IOMMUFD_TYPE, 0x84)
#define DK__IOMMU_IOAS_MAP _IO(DK__IOMMUFD_TYPE, 0x85)
#define DK__IOMMU_IOAS_UNMAP _IO(DK__IOMMUFD_TYPE, 0x86)

/* IOMMU_IOAS_MAP flags */
#define DK__IOAS_MAP_FIXED_IOVA (1u << 0)
#define DK__IOAS_MAP_WRITEABLE (1u << 1)
#define DK__IOAS_MAP_READABLE (1u << 2)

struct dk__iommu_destroy {
	uint32_t size;
	uint32_t id;
};

struct dk__iommu_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

struct dk__iommu_iova_range {
	uint64_t start;
	uint64_t last; /* inclusive */
};

/* num_iovas in: room in allowed_iovas; out: the number of ranges (EMSGSIZE
 * when there was not room for all of them). */
struct dk__iommu_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	uint64_t allowed_iovas; /* user pointer to struct dk__iommu_iova_range[] */
	uint64_t out_iova_alignment;
};

struct dk__iommu_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	uint64_t user_va;
	uint64_t length;
	uint64_t iova;
};

/* length out: the bytes unmapped. */
struct dk__iommu_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	uint64_t iova;
	uint64_t length;
};

/* The VFIO device cdev (/dev/vfio/devices/vfioN). */
#define DK__VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#define DK__VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#define DK__VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)

struct dk__vfio_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
};

/* pt_id in: the IOAS (or HWPT); out: the HWPT the device is attached to. */
struct dk__vfio_attach_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pt_id;
};

struct dk__vfio_detach_pt {
	uint32_t argsz;
	uint32_t flags;
};

#endif
