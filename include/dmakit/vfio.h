/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/vfio.h - VFIO primitives: containers, groups, devices, regions,
 * interrupts, reset, the type1 IOMMU and DMA mapping.
 *
 * Two backends reach the IOMMU (see "backends" below): the group/container
 * interface, and iommufd (the device's cdev bound to /dev/iommu, attached to
 * an IOAS). Both sit behind the same objects: a dk_vfio_container is either
 * a VFIO container or an IOAS, and everything above this layer (DMA
 * domains, dk_dev_dma_map) works on it the same way.
 *
 * Objects:
 *   - a container (/dev/vfio/vfio) holds an IOMMU context. The library
 *     keeps one default container (dk_vfio_container_default()); more can
 *     be created for devices that must not share a DMA address space.
 *     The IOMMU type is set once, when the first group joins: type1v2 when
 *     the kernel offers it, else type1.
 *   - a group (/dev/vfio/<N>) is opened once per process and joins one
 *     container. Groups are reference counted: every dk_vfio_group_open()
 *     and every device opened in the group takes a reference.
 *   - a device is opened by name inside its group: a PCI address
 *     ("0000:03:00.0") or an mdev UUID; the name is passed to the kernel
 *     as is, never parsed.
 *
 * Most users never call this layer directly: dk_pci_vfio_open() (pci.h)
 * opens a PCI device, maps its BARs and routes config space through VFIO.
 * This header serves drivers that need the raw handles (interrupts, reset,
 * DMA mapping) and the lead's DMA-mapping policy.
 *
 * Errors follow dmakit/common.h: negative errno (or NULL + errno), and a
 * log message naming the fix for every failure.
 *
 * Thread-safety: every function may be called from any thread. Each
 * container has a mutex that serializes group attach/detach, its cached
 * IOMMU information and DMA map/unmap; a global mutex guards the default
 * container and the table of open groups (lock order: global, then
 * container). Device functions (region/IRQ info, SET_IRQS, reset) take no
 * lock: they are single ioctls on the device fd. Closing an object while
 * another thread still uses it is the caller's bug.
 */
#ifndef DMAKIT_VFIO_H
#define DMAKIT_VFIO_H

#include <dmakit/common.h>

DK_BEGIN_DECLS

struct dk_vfio_container;
struct dk_vfio_group;
struct dk_vfio_device;

/* ---- backends ------------------------------------------------------------ */

/*
 * How a device reaches the IOMMU:
 *   CONTAINER  the group/container interface: /dev/vfio/<group> joins a
 *              container (/dev/vfio/vfio) with a type1 IOMMU.
 *   IOMMUFD    the device's cdev /dev/vfio/devices/vfioN (found from its
 *              sysfs vfio-dev/), bound to /dev/iommu (VFIO_DEVICE_BIND_IOMMUFD)
 *              and attached to the IOAS of a dk_vfio_container
 *              (VFIO_DEVICE_ATTACH_IOMMUFD_PT). Linux 6.6+ with IOMMUFD and
 *              VFIO_DEVICE_CDEV. No group is opened. A device is bound once
 *              per process: opening it again in the same IOAS returns the
 *              same handle with another reference.
 *   AUTO       iommufd where /dev/iommu and the device's cdev exist, the
 *              container otherwise.
 * The request is dk_init_params.vfio_backend, else DMAKIT_VFIO_BACKEND
 * (auto, container or iommufd) as dk_init found it (without dk_init: as it
 * is at each choice), else auto. It applies to devices opened
 * with a NULL container; a container made for one backend keeps it.
 * A NULL container given to dk_vfio_iommu_info, dk_vfio_dma_map and
 * dk_vfio_dma_unmap means the default IOAS while devices are attached to
 * it, else the default container (groups always join a container).
 */
enum dk_vfio_backend {
	DK_VFIO_BACKEND_AUTO = 0,
	DK_VFIO_BACKEND_CONTAINER = 1,
	DK_VFIO_BACKEND_IOMMUFD = 2,
};

/* "auto", "container" or "iommufd"; NULL for other values. */
DK_EXPORT const char *dk_vfio_backend_name(int backend);

/*
 * The backend dk_vfio_device_open(NULL, group, name) uses for device name
 * (a PCI address or an mdev UUID), by the request above; why (NULL: not
 * wanted) receives the reason, cut at len: "/dev/iommu and
 * /dev/vfio/devices/vfio0 exist", "no /dev/iommu: the kernel has no
 * IOMMUFD (CONFIG_IOMMUFD)", "requested (DMAKIT_VFIO_BACKEND)". Returns
 * DK_VFIO_BACKEND_CONTAINER or DK_VFIO_BACKEND_IOMMUFD, or:
 *   -ENOTSUP iommufd was requested and this kernel or device has none
 *            (message: what is missing, and the container backend)
 *   -EINVAL  name NULL, empty or not a device name, or DMAKIT_VFIO_BACKEND
 *            holds another word (message lists the words)
 */
DK_EXPORT int dk_vfio_backend_select(const char *name, char *why, size_t len);

/* The backend of c: DK_VFIO_BACKEND_CONTAINER or DK_VFIO_BACKEND_IOMMUFD; -EINVAL for NULL. */
DK_EXPORT int dk_vfio_container_backend(const struct dk_vfio_container *c);

/*
 * The library's default IOAS (backend iommufd), created on first use: opens
 * /dev/iommu and allocates an IOAS. Stays until dk_cleanup(). NULL with
 * errno:
 *   ENOTSUP no /dev/iommu (the kernel has no IOMMUFD; message: use the
 *           container backend)
 *   EACCES  no permission on /dev/iommu (message: run as root)
 *   ENOMEM, or the errno of IOMMU_IOAS_ALLOC
 */
DK_EXPORT struct dk_vfio_container *dk_vfio_iommufd_default(void);
/* A new, empty IOAS on its own /dev/iommu descriptor; same errors. Destroy
 * it with dk_vfio_container_destroy(). */
DK_EXPORT struct dk_vfio_container *dk_vfio_iommufd_create(void);

/* ---- containers ---------------------------------------------------------- */

/*
 * The default container, created on first use (opens /dev/vfio/vfio and
 * checks the API version). Stays until dk_cleanup(). NULL with errno:
 *   ENOENT  no /dev/vfio/vfio (message: modprobe vfio-pci)
 *   EACCES  no permission on /dev/vfio/vfio (message: run as root)
 *   EPROTO  the kernel speaks another VFIO API version
 */
DK_EXPORT struct dk_vfio_container *dk_vfio_container_default(void);
/* A new, empty container; same errors. Destroy it with dk_vfio_container_destroy(). */
DK_EXPORT struct dk_vfio_container *dk_vfio_container_create(void);
/*
 * Destroy a container made by dk_vfio_container_create(). 0, or:
 *   -EINVAL  NULL or the default container (the library owns it)
 *   -EBUSY   groups are still attached (close their devices and groups first)
 */
DK_EXPORT int dk_vfio_container_destroy(struct dk_vfio_container *c);
/* The container's file descriptor (owned by the library; /dev/iommu's for
 * an IOAS), or -EINVAL. */
DK_EXPORT int dk_vfio_container_fd(const struct dk_vfio_container *c);

/* ---- groups --------------------------------------------------------------- */

/*
 * Open IOMMU group number group in container c (NULL: the default
 * container), or take another reference when this process has it open in
 * c already. Opens /dev/vfio/<group>, checks viability with
 * VFIO_GROUP_GET_STATUS, attaches the group to the container and, for the
 * container's first group, sets the IOMMU type. NULL with errno:
 *   EINVAL  group < 0, or c is an IOAS (backend iommufd opens devices, not
 *           groups)
 *   ENOENT  no /dev/vfio/<group>: no member is bound to vfio-pci (message:
 *           dmakit bind <member>)
 *   EACCES  no permission on /dev/vfio/<group> (message: run as root or
 *           chown the node)
 *   EBUSY   the group is open in another container of this process, or in
 *           another process
 *   EPERM   the group is not viable; the message names each member that
 *           blocks it and its driver: "group 7 is not viable: unbind
 *           0000:04:00.1 from nvme or bind it to vfio-pci"
 *   ENOTSUP the kernel offers neither type1v2 nor type1 IOMMU (message:
 *           modprobe vfio_iommu_type1)
 *   ENOMEM, or the errno of a failing ioctl (logged with the ioctl's name)
 */
DK_EXPORT struct dk_vfio_group *dk_vfio_group_open(struct dk_vfio_container *c, int group);
/* Drop a reference; the last one detaches the group and closes it. NULL is a no-op. */
DK_EXPORT void dk_vfio_group_close(struct dk_vfio_group *g);
/* The group number, or -EINVAL for NULL. */
DK_EXPORT int dk_vfio_group_number(const struct dk_vfio_group *g);

/* ---- devices -------------------------------------------------------------- */

/* dk_vfio_device_info.flags (the kernel's VFIO_DEVICE_FLAGS_*) */
#define DK_VFIO_DEVICE_RESET (1u << 0)
#define DK_VFIO_DEVICE_PCI (1u << 1)

struct dk_vfio_device_info {
	uint32_t flags;       /* DK_VFIO_DEVICE_* and the other kernel bits as is */
	uint32_t num_regions; /* region indexes 0..num_regions-1 */
	uint32_t num_irqs;    /* IRQ indexes 0..num_irqs-1 */
};

/*
 * Open device name (a PCI address or an mdev UUID, as the kernel names it
 * in the group) of IOMMU group group, in container c (NULL: the backend
 * dk_vfio_backend_select() picks, and its default container or IOAS).
 *
 * Backend iommufd (c an IOAS, or chosen): opens the device's cdev, binds it
 * to c's /dev/iommu and attaches it to c's IOAS; the IOAS's usable IOVA
 * ranges are read again after the attach; group is not used. NULL with
 * errno:
 *   ENOTSUP iommufd asked for (by c or the request) and the kernel or the
 *           device has none (message: what is missing)
 *   EACCES  the cdev may not be opened (message: run as root or chown it)
 *   EBUSY   the device's group is open (the container path: close it), or
 *           the device is attached to another IOAS of this process
 *   EINVAL  the kernel refuses the bind: the device is open elsewhere
 *           (another process or iommufd; message: close it there)
 *   EPERM   the device's IOMMU group is not viable; the message names each
 *           member that blocks it, as for a group
 *   the ioctl's errno otherwise (logged with the ioctl's name)
 *
 * Backend container: opens the group as dk_vfio_group_open() does (same
 * errors), then:
 *   EINVAL  name NULL, empty or longer than 63 characters
 *   ENODEV  the group has no device of that name (message: check the
 *           group's members in /sys/kernel/iommu_groups/<group>/devices)
 *   EBUSY   the kernel refuses a second open of the device
 * NULL with errno on failure; nothing stays open.
 */
DK_EXPORT struct dk_vfio_device *dk_vfio_device_open(struct dk_vfio_container *c, int group,
						     const char *name);
/* Drop a reference (iommufd) or close the device fd and drop its group
 * reference (container); the last iommufd reference closes the cdev, which
 * detaches the device from its IOAS. NULL is a no-op. */
DK_EXPORT void dk_vfio_device_close(struct dk_vfio_device *d);
/* The device fd (owned by the library), or -EINVAL. */
DK_EXPORT int dk_vfio_device_fd(const struct dk_vfio_device *d);
/* The name the device was opened by, or NULL. */
DK_EXPORT const char *dk_vfio_device_name(const struct dk_vfio_device *d);
/* The container (or IOAS) the device is attached to, or NULL. */
DK_EXPORT struct dk_vfio_container *dk_vfio_device_container(const struct dk_vfio_device *d);
/* VFIO_DEVICE_GET_INFO, read at open. 0 or -EINVAL (NULL). */
DK_EXPORT int dk_vfio_device_info(const struct dk_vfio_device *d, struct dk_vfio_device_info *out);

/* ---- regions --------------------------------------------------------------- */

/* dk_vfio_region_info.flags */
#define DK_VFIO_REGION_READ (1u << 0)
#define DK_VFIO_REGION_WRITE (1u << 1)
#define DK_VFIO_REGION_MMAP (1u << 2)
#define DK_VFIO_REGION_SPARSE (1u << 8)        /* sparse-mmap capability: only areas[] map */
#define DK_VFIO_REGION_MSIX_MAPPABLE (1u << 9) /* the MSI-X table may be mmapped too */
#define DK_VFIO_REGION_TYPED (1u << 10)        /* type/subtype capability present */

struct dk_vfio_area {
	uint64_t offset; /* inside the region */
	uint64_t size;
};

struct dk_vfio_region_info {
	uint32_t index;
	uint32_t flags;  /* DK_VFIO_REGION_* */
	uint64_t size;   /* 0: the region is not implemented */
	uint64_t offset; /* of the region in the device fd: use it, never compute it */
	uint32_t type, subtype; /* with DK_VFIO_REGION_TYPED */
	/* mmappable areas: the sparse areas (DK_VFIO_REGION_SPARSE), or one area
	 * covering the region when it is mmappable without the capability;
	 * none when not mmappable. Allocated: free with dk_vfio_region_info_clear(). */
	uint32_t nr_areas;
	struct dk_vfio_area *areas;
};

/*
 * VFIO_DEVICE_GET_REGION_INFO for index, growing the buffer to the argsz
 * the kernel asks for, and parsing the capability chain (sparse mmap,
 * region type, MSI-X mappable; unknown capabilities are skipped). 0, or:
 *   -EINVAL  NULL argument, or index >= num_regions (message names the range)
 *   -EPROTO  a malformed capability chain or sparse area list (message
 *            names the offset; report it as a kernel/driver bug)
 *   -ENOMEM, or the ioctl's errno
 * An index the kernel refuses with EINVAL although it is below num_regions
 * (vfio-pci's VGA region on a device without VGA) is not implemented: 0,
 * with size 0. On failure *out holds no allocation.
 */
DK_EXPORT int dk_vfio_region_info(const struct dk_vfio_device *d, uint32_t index,
				  struct dk_vfio_region_info *out);
/* Free out->areas and zero the struct. NULL is a no-op. */
DK_EXPORT void dk_vfio_region_info_clear(struct dk_vfio_region_info *out);

/* ---- interrupts ----------------------------------------------------------- */

/* vfio-pci IRQ indexes */
#define DK_VFIO_IRQ_INTX 0
#define DK_VFIO_IRQ_MSI 1
#define DK_VFIO_IRQ_MSIX 2
#define DK_VFIO_IRQ_ERR 3
#define DK_VFIO_IRQ_REQ 4

/* dk_vfio_irq_info.flags (the kernel's VFIO_IRQ_INFO_*) */
#define DK_VFIO_IRQ_EVENTFD (1u << 0)
#define DK_VFIO_IRQ_MASKABLE (1u << 1)
#define DK_VFIO_IRQ_AUTOMASKED (1u << 2)
#define DK_VFIO_IRQ_NORESIZE (1u << 3)

struct dk_vfio_irq_info {
	uint32_t index;
	uint32_t flags; /* DK_VFIO_IRQ_* */
	uint32_t count; /* vectors; 0: not supported */
};

/* VFIO_DEVICE_GET_IRQ_INFO. 0, -EINVAL (NULL, index >= num_irqs), or the ioctl's errno. */
DK_EXPORT int dk_vfio_irq_info(const struct dk_vfio_device *d, uint32_t index,
			       struct dk_vfio_irq_info *out);
/*
 * Route vectors 0..n-1 of IRQ index to the eventfds efds[0..n-1] (an fd
 * of -1 leaves that vector unassigned). This enables INTx / MSI / MSI-X.
 * To change the vector count of MSI/MSI-X, disable first. 0, or:
 *   -EINVAL  NULL d or efds, n == 0, index >= num_irqs, n > the index's count
 *   -ENOTSUP the index does not signal through eventfds
 *   the ioctl's errno (e.g. -EINVAL when the device has MSI and INTx enabled
 *   at the same time: disable the other index first)
 */
DK_EXPORT int dk_vfio_irq_enable(const struct dk_vfio_device *d, uint32_t index, const int *efds,
				 uint32_t n);
/* Disable IRQ index (all vectors). 0, -EINVAL, or the ioctl's errno. */
DK_EXPORT int dk_vfio_irq_disable(const struct dk_vfio_device *d, uint32_t index);
/*
 * Unmask vector of IRQ index (INTx is masked by the kernel after each
 * interrupt: unmask once it is handled). 0, or:
 *   -EINVAL  NULL, index/vector out of range
 *   -ENOTSUP the index is not maskable
 *   the ioctl's errno
 */
DK_EXPORT int dk_vfio_irq_unmask(const struct dk_vfio_device *d, uint32_t index, uint32_t vector);
/* Make the kernel signal vector of index as if the device had (loopback test).
 * 0, -EINVAL (NULL, out of range), or the ioctl's errno (-EINVAL when the
 * index is not enabled). */
DK_EXPORT int dk_vfio_irq_trigger(const struct dk_vfio_device *d, uint32_t index, uint32_t vector);

/* ---- reset ---------------------------------------------------------------- */

/*
 * VFIO_DEVICE_RESET. 0, or:
 *   -EINVAL  NULL
 *   -ENOTSUP the device does not advertise reset (no FLR, PM or bus reset
 *            available to the kernel)
 *   -ENOTTY  the kernel's VFIO driver has no reset ioctl for this device
 *   the ioctl's errno otherwise
 */
DK_EXPORT int dk_vfio_device_reset(const struct dk_vfio_device *d);

/* ---- the type1 IOMMU --------------------------------------------------------- */

#define DK_VFIO_MAX_IOVA_RANGES 32

/* dk_vfio_iommu_info.flags */
#define DK_VFIO_IOMMU_PGSIZES (1u << 0)     /* iova_pgsizes is valid */
#define DK_VFIO_IOMMU_IOVA_RANGES (1u << 1) /* ranges[] came from the kernel */
#define DK_VFIO_IOMMU_DMA_AVAIL (1u << 2)   /* dma_avail is valid */
#define DK_VFIO_IOMMU_RANGES_TRUNCATED (1u << 3) /* more than DK_VFIO_MAX_IOVA_RANGES */

/* dk_vfio_iommu_info.iommu_type of an IOAS (backend iommufd) */
#define DK_VFIO_IOMMU_IOAS 0x100

struct dk_vfio_iova_range {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct dk_vfio_iommu_info {
	uint32_t flags;        /* DK_VFIO_IOMMU_* */
	uint32_t iommu_type;   /* 3: type1v2, 1: type1, DK_VFIO_IOMMU_IOAS: iommufd */
	/* bitmap of page sizes; lowest bit = the mapping granule. An IOAS
	 * reports its IOVA alignment only: one bit, the granule. */
	uint64_t iova_pgsizes;
	uint32_t dma_avail;    /* DMA mappings still available (kernel's dma_entry_limit) */
	uint32_t nr_ranges;    /* usable IOVA ranges, ascending */
	struct dk_vfio_iova_range ranges[DK_VFIO_MAX_IOVA_RANGES];
};

/*
 * Backend iommufd (c an IOAS): IOMMU_IOAS_IOVA_RANGES (ranges, and the IOVA
 * alignment as iova_pgsizes); no dma_avail. Same errors.
 *
 * VFIO_IOMMU_GET_INFO of container c (NULL: default), growing the buffer
 * to the argsz the kernel asks for and parsing its capabilities (IOVA
 * ranges, DMA available; others skipped). Without the IOVA-range
 * capability, ranges[] holds one range 0..UINT64_MAX. 0, or:
 *   -ENXIO   no group is attached yet, so there is no IOMMU (message:
 *            open a group first)
 *   -EPROTO  a malformed capability chain
 *   -ENOMEM, or the ioctl's errno
 */
DK_EXPORT int dk_vfio_iommu_info(struct dk_vfio_container *c, struct dk_vfio_iommu_info *out);

/* ---- DMA mapping ----------------------------------------------------------- */

/*
 * Map len bytes of process memory at va to IOVA iova in container c
 * (NULL: default), readable and writable by devices. Thin: no bookkeeping
 * beyond the kernel's. An IOAS maps with IOMMU_IOAS_MAP at that fixed IOVA
 * (iommufd pins user memory only: an mmapped BAR gives -EFAULT there). 0, or:
 *   -EINVAL  va NULL, len 0, va/iova/len not multiples of the smallest
 *            IOMMU page size, or iova + len wrapping (message names the
 *            page size)
 *   -ENXIO   no group attached to c yet
 *   -ERANGE  [iova, iova + len) is not inside one usable IOVA range (message
 *            lists the ranges; on a 39-bit IOMMU, user VAs do not fit)
 *   -EEXIST  overlaps an existing mapping (unmap it first)
 *   -ENOSPC  the kernel's limit of DMA mappings is reached (message: raise
 *            vfio_iommu_type1 dma_entry_limit, or map bigger chunks)
 *   -ENOMEM  pinning failed: RLIMIT_MEMLOCK too low (message: ulimit -l)
 *   -EFAULT  va is not mapped in this process
 *   the ioctl's errno otherwise
 */
DK_EXPORT int dk_vfio_dma_map(struct dk_vfio_container *c, const void *va, uint64_t iova,
			      uint64_t len);
/*
 * Unmap [iova, iova + len) from container c (NULL: default). Mappings must
 * be unmapped whole (type1v2 and an IOAS refuse to split one). 0, or:
 *   -EINVAL  len 0, misaligned, wrapping, or splitting a mapping
 *   -ENXIO   no group attached
 *   -ENOENT  nothing was mapped there (an IOAS says so for a range that
 *            splits a mapping too)
 *   the ioctl's errno otherwise
 */
DK_EXPORT int dk_vfio_dma_unmap(struct dk_vfio_container *c, uint64_t iova, uint64_t len);

/* DMA mapping of application memory for one device: dk_dev_dma_map in
 * dmakit/dma.h (the device-memory layer keeps every container's mappings). */

DK_END_DECLS

#endif
