/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO layer internals shared by the files of src/vfio (and the tests). The public
 * contract is include/dmakit/vfio.h.
 *
 * Lock order: g_vfio_lock (default containers, open-group table, iommufd
 * device table), then a container's lock. No callbacks into user code run
 * under either.
 */
#ifndef DK_VFIO_INTERNAL_H
#define DK_VFIO_INTERNAL_H

#include <pthread.h>

#include <dmakit/vfio.h>

struct dk_vfio_group {
	int fd;
	int number;
	unsigned int refs;             /* opens + devices; under g_vfio_lock */
	struct dk_vfio_container *c;
	struct dk_vfio_group *next;    /* in the global table */
};

struct dk_vfio_container {
	int fd;               /* /dev/vfio/vfio, or /dev/iommu for an IOAS */
	int is_default;
	int backend;          /* DK_VFIO_BACKEND_CONTAINER or _IOMMUFD */
	uint32_t ioas_id;     /* iommufd: the IOAS */
	pthread_mutex_t lock;
	uint32_t iommu_type;  /* 0 until the first group (device) joins */
	unsigned int ngroups; /* attached groups; iommufd: attached devices */
	uint64_t min_pgsize;  /* smallest IOMMU page, read when the first group joins */
	/* IOMMU info read after every attach/detach: IOVA ranges and page sizes
	 * for dk_vfio_dma_map()'s checks. Under lock. */
	struct dk_vfio_iommu_info cached;
};

struct dk_vfio_device {
	int fd;
	struct dk_vfio_group *group;   /* container backend; NULL for iommufd */
	struct dk_vfio_container *c;   /* the container or IOAS it is attached to */
	char name[64];
	struct dk_vfio_device_info info;
	/* iommufd: the process-wide table of bound devices (under dk__vfio_lock) */
	unsigned int refs;
	uint32_t devid;
	struct dk_vfio_device *next;
};

/* The global lock (default container and open groups). */
extern pthread_mutex_t dk__vfio_lock;

/* Close the default container and IOAS (dk_cleanup): groups or devices
 * still open keep them. */
void dk__vfio_cleanup(void);

/* ---- backends (vfio_backend.c) ----------------------------------------------- */

/* The request from dk_init (DK_VFIO_BACKEND_*; 0: the environment decides;
 * dk_cleanup sets 0). -EINVAL (logged) for another value. */
int dk__vfio_set_backend(int backend);
/* dk_init without a parameter: take DMAKIT_VFIO_BACKEND as the request now (later
 * changes of the environment do not count until dk_cleanup). 0, or -EINVAL
 * (logged) for a bad word, which leaves no request. */
int dk__vfio_backend_capture(void);
/* "auto", "container", "iommufd" -> DK_VFIO_BACKEND_*, else -EINVAL (not logged). */
int dk__vfio_backend_parse(const char *s);
/* The request in force: dk_init's (its parameter or the environment it
 * captured), else DMAKIT_VFIO_BACKEND now, else AUTO;
 * -EINVAL (logged, naming the words) for a bad DMAKIT_VFIO_BACKEND. */
int dk__vfio_backend_request(void);
/* Where the device nodes are (tests point it at a fixture; NULL: "/dev"). */
void dk__vfio_set_dev_root(const char *root);
const char *dk__vfio_dev_root(void);
/* The cdev of device name: <dev>/vfio/devices/vfioN from the vfioN entry of
 * <sysfs>/bus/{pci,mdev}/devices/<name>/vfio-dev/. 0, -ENOENT (no vfio-dev/:
 * not bound to a VFIO driver, or no VFIO_DEVICE_CDEV), -EINVAL (not a device
 * name), -ENAMETOOLONG. Not logged. */
int dk__vfio_cdev_path(const char *name, char *path, size_t len);

/* ---- the iommufd backend (vfio_iommufd.c) -------------------------------------- */

/* A new IOAS on a new /dev/iommu descriptor (NULL + errno, logged). */
struct dk_vfio_container *dk__iommufd_new(int is_default);
/* Open d's cdev (d->name), bind it to c and attach it to c's IOAS; c's
 * cached ranges are read again. Called with dk__vfio_lock held. Negative
 * errno (logged); on failure the cdev is closed. */
int dk__iommufd_attach(struct dk_vfio_container *c, struct dk_vfio_device *d);
/* Close d's cdev (the kernel detaches it) and forget it in c: the last
 * device empties the IOAS. Called with dk__vfio_lock held; returns 1 when
 * c lost its last device (the caller runs the iommu_gone hook). */
int dk__iommufd_detach(struct dk_vfio_container *c, struct dk_vfio_device *d);
/* IOMMU_IOAS_IOVA_RANGES into out; with c->lock held. */
int dk__iommufd_query(struct dk_vfio_container *c, struct dk_vfio_iommu_info *out);
/* IOMMU_IOAS_MAP at the fixed IOVA / IOMMU_IOAS_UNMAP, with c->lock held and
 * the arguments checked; -errno of the ioctl, logged with the fix. */
int dk__iommufd_map(struct dk_vfio_container *c, const void *va, uint64_t iova, uint64_t len);
/* Whether [va, va+len) touches a mapping of a sysfs p2pmem/allocate file
 * (the kernel's P2P memory), from /proc/self/maps; its path into path.
 * For messages only: 0 when not, or when the maps cannot be read. */
int dk__vfio_is_p2pmem(const void *va, uint64_t len, char *path, size_t pathlen);
/* Why a DMA map of such memory fails (EFAULT or EREMOTEIO, both backends);
 * printf arguments: the VA, the length, the file's path. */
#define DK__VFIO_P2PMEM_REFUSED                                                                    \
	"DMA map: VA %p (0x%" PRIx64 " bytes) is the kernel's PCI P2P memory (a mmap of %s: "    \
	"ZONE_DEVICE P2PDMA pages), which the kernel lets no VFIO backend pin: type1 and iommufd " \
	"pin long-term for writing, refused for a shared sysfs file mapping (EFAULT: mm/gup.c "   \
	"check_vma_flags, writable_file_mapping_allowed), and P2PDMA pages also need "           \
	"FOLL_PCI_P2PDMA, which neither passes and gup refuses together with FOLL_LONGTERM "      \
	"(EREMOTEIO; Linux 6.2 to at least 6.12). Map the same pages through the provider's "     \
	"sysfs resource<N> mmap at their offset in the BAR instead (container backend: type1 "   \
	"maps such VM_PFNMAP memory by PFN; iommufd does not), or use dmakit's own P2P memory "    \
	"(provider bound to vfio-pci, dk_p2p_alloc)"
int dk__iommufd_unmap(struct dk_vfio_container *c, uint64_t iova, uint64_t len);
/* What a NULL container means for the IOMMU info and DMA map/unmap: c
 * itself when given; else the default IOAS while it has devices, else the
 * default container (NULL + errno when that cannot be created). */
struct dk_vfio_container *dk__vfio_resolve(struct dk_vfio_container *c);
/* Run the iommu_gone hook for c (vfio_container.c). */
void dk__vfio_iommu_gone(struct dk_vfio_container *c);

/* Container side of a group attach/detach (vfio_container.c): called with
 * dk__vfio_lock held. attach sets the IOMMU type for the first group. */
int dk__vfio_container_attach(struct dk_vfio_container *c, struct dk_vfio_group *g);
void dk__vfio_container_detach(struct dk_vfio_container *c, struct dk_vfio_group *g);
/* Run the iommu_ready hook (vfio_hooks.h) for c; 0 without hooks. Called
 * without VFIO locks held. */
int dk__vfio_iommu_ready(struct dk_vfio_container *c);

/*
 * Write "unbind 0000:04:00.1 from nvme or bind it to vfio-pci (dmakit bind
 * 0000:04:00.1); ..." for the members of IOMMU group `group` that keep it from
 * being viable (the rule: vfio/vfio_viable.h), in name order; the message is
 * cut at len. Returns the number of blockers (buf holds "" when 0), or a
 * negative errno when the group cannot be listed (not logged).
 */
int dk__vfio_group_blockers(int group, char *buf, size_t len);

/*
 * Decode a VFIO_DEVICE_GET_REGION_INFO reply (struct vfio_region_info and
 * its capability chain, len bytes) into out: flags, size, offset, type and
 * the mmappable areas (allocated). Sparse areas of size 0 are dropped; an
 * area reaching beyond the region, areas that overlap, or a malformed chain
 * give -EPROTO with *err_off set (the chain offset, or the area's index).
 * -ENOMEM. Pure apart from the allocation: unit-tested with fake replies.
 */
int dk__vfio_region_decode(const void *buf, size_t len, struct dk_vfio_region_info *out,
			   size_t *err_off);

/* Shared by the GET_INFO callers: the kernel asks for at most this much. */
#define DK__VFIO_INFO_MAX (1u << 20)

/*
 * A GET_INFO-style ioctl whose argument starts with a u32 argsz that the
 * kernel raises when it needs more room: hdr (hdr_len bytes; its argsz is set
 * here) goes at the front of a zeroed buffer, which grows to what the kernel
 * asks (3 times at most, DK__VFIO_INFO_MAX bytes at most). 0 with *buf
 * (malloc'd, the caller frees it) and *len (the bytes the kernel filled);
 * -errno of the ioctl (not logged: the caller words it), -ENOMEM, or -EPROTO
 * when the kernel keeps asking for more (logged with what).
 */
int dk__vfio_ioctl_argsz(int fd, unsigned long req, const void *hdr, size_t hdr_len,
			 const char *what, uint8_t **buf, size_t *len);

#endif
