/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/pci.h - the PCI bus: devices from sysfs, drivers, config space,
 * binding to kernel drivers.
 *
 * Devices are discovered by dk_init() (or dk_pci_scan()) from
 * <sysfs root>/bus/pci/devices. Each struct dk_pci_device stays valid until
 * dk_cleanup() or the next dk_pci_scan(). Fields are only ever appended
 * in later versions; the library allocates every device (never embed or
 * copy one to keep).
 *
 * Not every device has a PCI address or a sysfs directory of its own:
 * mediated devices (kind DK_PCI_KIND_MDEV) are named by UUID. Use
 * dk_pci_config_read() for config space; it picks the right access path.
 *
 * Thread-safety: the device list and every device's fields are read-only
 * between scans and may be read from any thread. dk_pci_scan(),
 * dk_pci_device_refresh(), driver (un)registration, probe/remove, bind
 * and unbind must not run concurrently with each other or with readers of
 * the affected device.
 */
#ifndef DMAKIT_PCI_H
#define DMAKIT_PCI_H

#include <dmakit/common.h>
#include <dmakit/bus.h>

DK_BEGIN_DECLS

/* ---- addresses ---------------------------------------------------------- */

struct dk_pci_addr {
	uint32_t domain;
	uint8_t bus;
	uint8_t dev;  /* 0..31 */
	uint8_t func; /* 0..7 */
};

#define DK_PCI_ADDR_STR_LEN 16 /* "0000:03:00.0" + NUL, with room for 8-digit domains */

/*
 * Parse "DDDD:BB:DD.F" (domain up to 8 hex digits) or "BB:DD.F" (domain 0).
 * Returns 0 or -EINVAL (NULL, bad syntax, dev > 31, func > 7, trailing text).
 */
DK_EXPORT int dk_pci_addr_parse(const char *s, struct dk_pci_addr *out);
/* Format as "%04x:%02x:%02x.%x"; returns snprintf's result. */
DK_EXPORT int dk_pci_addr_format(const struct dk_pci_addr *a, char *buf, size_t len);
/* <0, 0, >0 ordering by domain, bus, dev, func. */
DK_EXPORT int dk_pci_addr_cmp(const struct dk_pci_addr *a, const struct dk_pci_addr *b);

/* ---- identification ----------------------------------------------------- */

struct dk_pci_id {
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_device_id;
	uint32_t class_id; /* 24 bits: base class, subclass, prog-if */
};

#define DK_PCI_ANY_ID 0xffffu

/* One entry of a driver's ID table; the table ends with vendor_id == 0. */
struct dk_pci_id_match {
	uint16_t vendor_id; /* DK_PCI_ANY_ID matches any */
	uint16_t device_id;
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_device_id;
	uint32_t class_id;   /* compared under class_mask */
	uint32_t class_mask; /* 0: class ignored */
};

#define DK_PCI_DEVICE(v, d) \
	{ .vendor_id = (v), .device_id = (d), .subsystem_vendor_id = DK_PCI_ANY_ID, \
	  .subsystem_device_id = DK_PCI_ANY_ID, .class_id = 0, .class_mask = 0 }
#define DK_PCI_CLASS(cls, mask) \
	{ .vendor_id = DK_PCI_ANY_ID, .device_id = DK_PCI_ANY_ID, \
	  .subsystem_vendor_id = DK_PCI_ANY_ID, .subsystem_device_id = DK_PCI_ANY_ID, \
	  .class_id = (cls), .class_mask = (mask) }

/* First table entry matching id, or NULL. */
DK_EXPORT const struct dk_pci_id_match *dk_pci_id_match(const struct dk_pci_id_match *table,
							const struct dk_pci_id *id);

/* ---- resources ---------------------------------------------------------- */

#define DK_PCI_NUM_BARS 6
#define DK_PCI_ROM_INDEX 6
#define DK_PCI_NUM_RESOURCES 7 /* BAR0..5 and the expansion ROM */

/* dk_pci_bar.flags */
#define DK_PCI_BAR_IO (1u << 0)
#define DK_PCI_BAR_MEM (1u << 1)
#define DK_PCI_BAR_PREFETCH (1u << 2)
#define DK_PCI_BAR_MEM64 (1u << 3)

struct dk_pci_bar {
	uint64_t phys_addr; /* 0 when not assigned */
	uint64_t len;       /* 0 when absent */
	uint32_t flags;     /* DK_PCI_BAR_* */
	uint64_t raw_flags; /* the kernel's IORESOURCE_* flags from "resource" */
};

/* ---- capabilities ------------------------------------------------------- */

/* Capability IDs (PCI Local Bus / PCIe Base specification). */
#define DK_PCI_CAP_ID_PM 0x01
#define DK_PCI_CAP_ID_MSI 0x05
#define DK_PCI_CAP_ID_VNDR 0x09
#define DK_PCI_CAP_ID_EXP 0x10
#define DK_PCI_CAP_ID_MSIX 0x11
#define DK_PCI_EXT_CAP_ID_AER 0x0001
#define DK_PCI_EXT_CAP_ID_ACS 0x000d
#define DK_PCI_EXT_CAP_ID_ARI 0x000e
#define DK_PCI_EXT_CAP_ID_SRIOV 0x0010

/* PCIe device/port type (PCIe capability register bits 7:4). */
enum dk_pcie_port_type {
	DK_PCIE_TYPE_ENDPOINT = 0x0,
	DK_PCIE_TYPE_LEGACY_ENDPOINT = 0x1,
	DK_PCIE_TYPE_ROOT_PORT = 0x4,
	DK_PCIE_TYPE_UPSTREAM = 0x5,
	DK_PCIE_TYPE_DOWNSTREAM = 0x6,
	DK_PCIE_TYPE_PCIE_TO_PCI = 0x7,
	DK_PCIE_TYPE_PCI_TO_PCIE = 0x8,
	DK_PCIE_TYPE_RC_INTEGRATED = 0x9,
	DK_PCIE_TYPE_RC_EVENT_COLLECTOR = 0xa,
};

/* ACS capability and control bits (same layout in both registers). */
#define DK_PCI_ACS_SV (1u << 0) /* source validation */
#define DK_PCI_ACS_TB (1u << 1) /* translation blocking */
#define DK_PCI_ACS_RR (1u << 2) /* P2P request redirect */
#define DK_PCI_ACS_CR (1u << 3) /* P2P completion redirect */
#define DK_PCI_ACS_UF (1u << 4) /* upstream forwarding */
#define DK_PCI_ACS_EC (1u << 5) /* P2P egress control */
#define DK_PCI_ACS_DT (1u << 6) /* direct translated P2P */

/* dk_pci_caps.flags: what the walker met. */
#define DK_PCI_CAPS_NO_EXTENDED (1u << 0) /* config shorter than 4096 bytes: no ext caps */
#define DK_PCI_CAPS_LOOP (1u << 1)        /* a chain pointed back: walk stopped */
#define DK_PCI_CAPS_BAD_POINTER (1u << 2) /* a pointer out of range: walk stopped */
#define DK_PCI_CAPS_TOO_MANY (1u << 3)    /* more than DK_PCI_MAX_CAPS entries */
#define DK_PCI_CAPS_TRUNCATED (1u << 4)   /* a valid pointer past the bytes read: walk stopped
					    * (non-root reads of sysfs config see 64 bytes) */
#define DK_PCI_CAPS_MALFORMED (DK_PCI_CAPS_LOOP | DK_PCI_CAPS_BAD_POINTER)

#define DK_PCI_MAX_CAPS 48

struct dk_pci_cap_entry {
	uint16_t id;
	uint16_t offset;
	uint8_t extended; /* 1 for extended (offset >= 0x100) capabilities */
	uint8_t version;  /* extended capabilities only */
};

struct dk_pci_caps {
	uint32_t flags;      /* DK_PCI_CAPS_* */
	uint32_t config_len; /* bytes of config space the walk saw */
	uint8_t header_type; /* bits 6:0 of the header type register */
	uint8_t multifunction;
	uint16_t n;
	struct dk_pci_cap_entry list[DK_PCI_MAX_CAPS]; /* in chain order */

	struct {
		uint16_t offset; /* 0: absent */
		uint8_t version;
		uint8_t port_type; /* enum dk_pcie_port_type */
		uint8_t slot_implemented;
		uint32_t dev_cap;
		uint32_t link_cap;
		uint16_t link_status;
		uint8_t max_link_speed; /* encoded: 1 = 2.5 GT/s, 2 = 5, 3 = 8, 4 = 16, 5 = 32, 6 = 64 */
		uint8_t max_link_width;
		uint8_t link_speed;
		uint8_t link_width;
	} pcie;
	struct {
		uint16_t offset; /* 0: absent */
		uint16_t cap;    /* DK_PCI_ACS_* supported */
		uint16_t ctrl;   /* DK_PCI_ACS_* enabled */
	} acs;
	struct {
		uint16_t offset; /* 0: absent */
		uint16_t ctrl;
		uint16_t initial_vfs;
		uint16_t total_vfs;
		uint16_t num_vfs;
		uint16_t first_vf_offset;
		uint16_t vf_stride;
		uint16_t vf_device_id;
	} sriov;
	struct {
		uint16_t offset; /* 0: absent */
		uint16_t ctrl;
		uint8_t enabled;
		uint8_t is_64bit;
		uint8_t per_vector_mask;
		uint8_t max_vectors; /* 1..32 */
	} msi;
	struct {
		uint16_t offset; /* 0: absent */
		uint16_t ctrl;
		uint8_t enabled;
		uint16_t table_size; /* vectors, 1..2048 */
		uint8_t table_bar;
		uint32_t table_offset;
		uint8_t pba_bar;
		uint32_t pba_offset;
	} msix;
};

/* Entry for capability id (standard when extended == 0), or NULL. */
DK_EXPORT const struct dk_pci_cap_entry *dk_pci_caps_find(const struct dk_pci_caps *caps,
							  uint16_t id, int extended);

/* Short names, e.g. "MSI-X", "ACS", or NULL when unknown. */
DK_EXPORT const char *dk_pci_cap_name(uint16_t id, int extended);

/* ---- devices ------------------------------------------------------------ */

enum dk_pci_kind {
	DK_PCI_KIND_FUNCTION = 0, /* a PCI function with an address */
	DK_PCI_KIND_MDEV = 1,     /* a vfio-pci mediated device: no address */
};

struct dk_pci_device {
	struct dk_device device; /* device.name: address or UUID */
	enum dk_pci_kind kind;
	int has_addr; /* 1 for functions */
	struct dk_pci_addr addr;
	struct dk_pci_id id;
	uint8_t revision;
	int iommu_group;       /* -1: none */
	char kernel_driver[32]; /* kernel driver bound now, "" for none */
	struct dk_pci_bar bars[DK_PCI_NUM_RESOURCES];
	/* Topology: the bridge directly upstream (NULL on a root bus), and the
	 * host bridge ("pci0000:00"). Follow upstream for the whole chain. */
	const struct dk_pci_device *upstream;
	char host_bridge[24];
	/* SR-IOV: the PF of a VF (NULL otherwise); sysfs VF counts of a PF. */
	const struct dk_pci_device *physfn;
	uint16_t sriov_numvfs;
	uint16_t sriov_totalvfs;
	struct dk_pci_caps caps;
};

/* Container from the generic device. */
static inline struct dk_pci_device *dk_pci_from_device(struct dk_device *d)
{
	return (struct dk_pci_device *)(void *)d;
}

/* 1 when the device is a bridge (header type 1 or 2). */
static inline int dk_pci_is_bridge(const struct dk_pci_device *dev)
{
	return dev->caps.header_type == 1 || dev->caps.header_type == 2;
}

/* Number of devices of the last scan. */
DK_EXPORT unsigned int dk_pci_count(void);
/* Device by index 0..count-1 (sorted by domain, bus, dev, func; mdevs after). */
DK_EXPORT struct dk_pci_device *dk_pci_get(unsigned int index);
/* Device by name ("0000:03:00.0", "03:00.0", or UUID); NULL, errno ENOENT. */
DK_EXPORT struct dk_pci_device *dk_pci_find(const char *name);

/*
 * (Re)scan sysfs. Called by dk_init; call again to pick up hot-plugged
 * devices (drivers are removed from every device first, and every device
 * pointer becomes invalid, except those of mdevs opened with
 * dk_pci_mdev_open(): they stay listed). Returns the device count or:
 *   -EBUSY   a driver's remove failed (see dk_pci_remove_device): nothing
 *            rescanned, every pointer stays valid
 *   -ENOENT  <sysfs>/bus/pci/devices missing is NOT an error (0 devices);
 *            -ENOENT only when the sysfs root itself is missing
 *   -ENOMEM
 */
DK_EXPORT int dk_pci_scan(void);

/*
 * Read/write config space of dev. Return the byte count or:
 *   -EINVAL  NULL, or offset + len beyond 4096
 *   -EACCES / -EPERM  not allowed (non-root reads only 64 bytes of sysfs config)
 *   -EIO     short transfer
 *   -ENODEV  the device is gone
 */
DK_EXPORT int dk_pci_config_read(const struct dk_pci_device *dev, void *buf, size_t len,
				 size_t offset);
DK_EXPORT int dk_pci_config_write(const struct dk_pci_device *dev, const void *buf, size_t len,
				  size_t offset);

/* Re-read config space and the bound kernel driver; re-parse capabilities. */
DK_EXPORT int dk_pci_device_refresh(struct dk_pci_device *dev);

/* Upstream bridge chain: number of bridges between dev and its host bridge. */
DK_EXPORT unsigned int dk_pci_depth(const struct dk_pci_device *dev);

/* ---- drivers ------------------------------------------------------------ */

/* dk_pci_driver.flags */
#define DK_PCI_DRV_NEED_VFIO (1u << 0) /* probe only devices bound to vfio-pci; the
					* device is opened through VFIO (dk_pci_vfio_open)
					* before probe and closed after remove: that
					* reference is the library's, the driver must not
					* close it (opens of its own need their closes) */
#define DK_PCI_DRV_SPARSE_SPLIT (1u << 1) /* with NEED_VFIO: map sparse BARs area by
					   * area (DK_PCI_VFIO_SPARSE_SPLIT) */
/* An mdev (kind DK_PCI_KIND_MDEV) is probed while dk_pci_mdev_open has it open:
 * NEED_VFIO takes another reference, and the open's flags must match the
 * driver's (SPARSE_SPLIT), else the probe fails with -EBUSY. */

struct dk_pci_driver {
	struct dk_driver driver;
	const struct dk_pci_id_match *id_table;
	uint32_t flags;
	/* 0 when the driver took the device; -ENODEV to decline; other
	 * negative errno for a failure (logged, device left unprobed). */
	int (*probe)(struct dk_pci_driver *drv, struct dk_pci_device *dev);
	/* Release the device; 0 or negative errno (logged). May be NULL. */
	int (*remove)(struct dk_pci_device *dev);
	/* Address bits the device can drive in DMA (its DMA mask: 32 for a
	 * device limited to 4 GiB); 0 means 64. dk_init keeps IOVAs below the
	 * narrowest mask of the drivers that will probe vfio-pci devices: IOVA
	 * mode va only when user addresses fit, remap below the limit otherwise. */
	unsigned int dma_addr_bits;
	struct dk_pci_driver *next_; /* library use */
};

/*
 * Register a driver. Drivers registered after dk_init are probed on the
 * next dk_pci_probe_all()/dk_pci_probe_device().
 * -EINVAL NULL driver, name, id_table or probe; -EEXIST already registered
 * or a driver of that name exists.
 */
DK_EXPORT int dk_pci_driver_register(struct dk_pci_driver *drv);
/* Remove from every device it drives, then unregister; -ENOENT unknown,
 * -EBUSY a remove failed (the driver stays registered, keeping those
 * devices: see dk_pci_remove_device). */
DK_EXPORT int dk_pci_driver_unregister(struct dk_pci_driver *drv);

/* Probe every unprobed allowed device; returns the number probed now. */
DK_EXPORT int dk_pci_probe_all(void);
/*
 * Probe one device: the first matching driver that accepts it.
 * 0 on success; -EALREADY already driven; -EPERM denied by allow/deny;
 * -ENODEV no driver accepted it; a driver's error otherwise.
 */
DK_EXPORT int dk_pci_probe_device(struct dk_pci_device *dev);
/*
 * Remove the driver from dev: 0, -EINVAL (NULL), -ENODEV (no driver), or
 * the driver's remove error: then dev stays with its driver (and the VFIO
 * references its probe took), so what the driver holds stays valid; remove
 * again once it can succeed. dk_pci_scan refuses (-EBUSY) while such a
 * device exists; dk_cleanup forgets the binding with a warning.
 */
DK_EXPORT int dk_pci_remove_device(struct dk_pci_device *dev);

/* ---- kernel driver binding ---------------------------------------------- */

/*
 * Bind the device named name to kernel driver drv (NULL: "vfio-pci") via
 * driver_override: unbind from its current driver, set the override,
 * trigger drivers_probe, and check the result.
 *   -ENOENT  no such device, or driver drv not loaded (message: modprobe it)
 *   -EACCES  not permitted (run as root)
 *   -EIO     the kernel did not bind (message: see dmesg); the override is
 *            cleared and the device offered back to the driver it had
 *   -EINVAL  bad name or driver name
 * Works on sysfs directly; dk_init is not needed.
 */
DK_EXPORT int dk_pci_bind(const char *name, const char *drv);
/* Unbind from the current driver and clear driver_override. -ENOENT, -EACCES. */
DK_EXPORT int dk_pci_unbind(const char *name);

/*
 * Devices in the IOMMU group of name that keep the group from being viable
 * for VFIO: those bound to a driver other than a vfio driver, pci-stub or
 * pcieport (the rule of Linux 5.19 and later; a bridge on another driver
 * blocks too). Calls cb(member, bound_driver, arg) for each blocker, in name
 * order, and returns the number of blockers; -ENOENT no such device or group,
 * or the errno of listing the group (logged).
 */
typedef void (*dk_pci_blocker_fn)(const char *member, const char *driver, void *arg);
DK_EXPORT int dk_pci_group_blockers(const char *name, dk_pci_blocker_fn cb, void *arg);

/* ---- VFIO access: regions, MMIO ---------------------------------------------- */

struct dk_vfio_device;

/* dk_pci_vfio_open_flags() flags */
#define DK_PCI_VFIO_SPARSE_SPLIT (1u << 0) /* map each sparse area on its own */

/* Region indexes of a vfio-pci device: BAR0..5 are 0..5, then: */
#define DK_PCI_REGION_ROM 6
#define DK_PCI_REGION_CONFIG 7
#define DK_PCI_REGION_VGA 8

/* dk_pci_region.flags (same values as DK_VFIO_REGION_*) */
#define DK_PCI_REGION_READ (1u << 0)
#define DK_PCI_REGION_WRITE (1u << 1)
#define DK_PCI_REGION_MMAP (1u << 2)
#define DK_PCI_REGION_SPARSE (1u << 8)
#define DK_PCI_REGION_MSIX_MAPPABLE (1u << 9)
#define DK_PCI_REGION_TYPED (1u << 10)

enum dk_pci_map_mode {
	DK_PCI_MAP_NONE = 0,     /* not mapped: MMIO goes through pread/pwrite */
	DK_PCI_MAP_WHOLE = 1,    /* the whole region mapped at base */
	DK_PCI_MAP_RESERVED = 2, /* sparse: one PROT_NONE reservation at base, the size of
				  * the region, with each area mapped at base + offset */
	DK_PCI_MAP_SPLIT = 3,    /* sparse: each area mapped on its own (areas[].addr) */
};

struct dk_pci_map_area {
	uint64_t offset; /* inside the region */
	uint64_t len;
	void *addr; /* where it is mapped; NULL when it could not be (accessed by pread) */
};

struct dk_pci_region {
	uint32_t index;
	uint32_t flags;      /* DK_PCI_REGION_* */
	uint64_t size;       /* 0: not implemented */
	uint64_t fd_offset;  /* offset of the region in the VFIO device fd (from the kernel) */
	enum dk_pci_map_mode mode;
	void *base;          /* WHOLE and RESERVED modes; NULL otherwise */
	uint32_t type, subtype; /* DK_PCI_REGION_TYPED */
	uint32_t nr_areas;   /* mmappable areas (one covering the region when not sparse) */
	const struct dk_pci_map_area *areas; /* owned by the library, valid while open */
};

/*
 * Open dev through VFIO: opens its IOMMU group in the default container
 * (attaching it, setting the IOMMU type), gets the device fd, reads every
 * region's information and maps the BARs that can be mapped: whole BARs
 * normally; sparse BARs as one PROT_NONE reservation with each area
 * mapped at its offset (default) or area by area (flags
 * DK_PCI_VFIO_SPARSE_SPLIT). Config space then goes through the VFIO
 * config region (dk_pci_config_read/write). A BAR that cannot be mmapped
 * (or an area whose mmap fails: warning) is reached through pread/pwrite.
 * Opening an open device again takes another reference (flags must
 * match). An mdev (kind DK_PCI_KIND_MDEV, see dk_pci_mdev_open) is reopened
 * by UUID in the IOMMU group it was found in, with no kernel-driver check.
 * 0, or:
 *   -EINVAL  NULL, or unknown flags
 *   -ENODEV  not bound to a vfio driver (message: dmakit bind <BDF> vfio-pci),
 *            or no IOMMU group
 *   -EBUSY   already open with other flags
 *   -EACCES  no permission on /dev/vfio (message: run as root)
 *   -EPERM   the IOMMU group is not viable (message names the blockers)
 *   -EPROTO  the kernel reported a malformed region
 *   the errors of dk_vfio_device_open() and -ENOMEM otherwise
 * On failure nothing stays open or mapped.
 */
DK_EXPORT int dk_pci_vfio_open(struct dk_pci_device *dev);
DK_EXPORT int dk_pci_vfio_open_flags(struct dk_pci_device *dev, uint32_t flags);
/*
 * Drop a reference; the last one unmaps every BAR, puts config access back
 * on sysfs and closes the VFIO device (and the group and container
 * references). An mdev stays listed (closed: no config access) until
 * dk_pci_mdev_close. 0, -EINVAL (NULL), -ENODEV (not open).
 */
DK_EXPORT int dk_pci_vfio_close(struct dk_pci_device *dev);
/*
 * Mediated devices whose device_api is "vfio-pci" are PCI devices of kind
 * DK_PCI_KIND_MDEV: named by their UUID, no PCI address, no sysfs
 * directory of their own (config space only through VFIO). They are not
 * found by the sysfs scan: the mdev bus opens them at probe (dmakit/mdev.h)
 * when a PCI driver matches; dk_pci_mdev_open() opens one by UUID and adds
 * it to the PCI device list (dk_pci_find(uuid), dk_pci_get, PCI drivers
 * through dk_pci_probe_device/dk_pci_probe_all); dk_pci_mdev_close() or
 * dk_cleanup() takes it out again. A rescan (dk_pci_scan) keeps it.
 *
 * dk_pci_mdev_open checks <sysfs>/bus/mdev/devices/<uuid>, that its
 * mdev_type/device_api is "vfio-pci" and that it has an iommu_group, opens
 * it through VFIO by UUID (group in the default container), reads vendor,
 * device, subsystem, class and revision from the VFIO config region,
 * parses capabilities, and builds the region table and maps the BARs as
 * dk_pci_vfio_open_flags() does (flags: DK_PCI_VFIO_SPARSE_SPLIT or 0).
 * bars[].len holds each BAR region's size (phys_addr 0: not known to
 * userspace); kernel_driver is the mdev's driver (the parent's mdev
 * driver). The open holds one VFIO reference; dk_pci_vfio_open_flags with
 * the same flags (a PCI driver with DK_PCI_DRV_NEED_VFIO) takes more.
 * *out is set on success. 0, or:
 *   -EINVAL  NULL uuid or out, uuid not of the form
 *            xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, unknown flags
 *   -ENOENT  no such mdev (message: create it, dk_mdev_create)
 *   -ENOTSUP its device_api is not "vfio-pci" (message names it)
 *   -ENODEV  no mdev_type/device_api or no iommu_group (message)
 *   -EBUSY   the library has it open already (use dk_pci_find(uuid))
 *   -EIO     the config region gave no valid vendor ID
 *   the errors of dk_pci_vfio_open_flags() (-EACCES, -EPERM, -EPROTO,
 *   dk_vfio_device_open()'s) and -ENOMEM
 * On failure nothing stays open, mapped or listed.
 * Thread-safety: like dk_pci_scan (not concurrent with other PCI list changes).
 */
DK_EXPORT int dk_pci_mdev_open(const char *uuid, uint32_t flags, struct dk_pci_device **out);
/*
 * Remove the PCI driver from an mdev opened by dk_pci_mdev_open (if one
 * probed it), close every VFIO reference, take it out of the list and
 * free it: dev is invalid afterwards. 0, or -EINVAL (NULL, or not an mdev:
 * message says to use dk_pci_vfio_close), -EBUSY (its driver's remove
 * failed: the mdev stays open, listed and driven).
 */
DK_EXPORT int dk_pci_mdev_close(struct dk_pci_device *dev);
/* 1 when open through VFIO, 0 otherwise. */
DK_EXPORT int dk_pci_vfio_is_open(const struct dk_pci_device *dev);
/* The VFIO device of an open dev (for IRQs, reset; see dmakit/vfio.h), or NULL. */
DK_EXPORT struct dk_vfio_device *dk_pci_vfio_device(const struct dk_pci_device *dev);
/* Number of regions of an open dev (BARs, ROM, config, VGA, device-specific), or -ENODEV. */
DK_EXPORT int dk_pci_region_count(const struct dk_pci_device *dev);
/*
 * Region index of an open dev: size, flags, mapping mode, base and areas
 * (pointers valid until the device is closed). 0, or -EINVAL (NULL, index
 * out of range: message), -ENODEV (not open: message).
 */
DK_EXPORT int dk_pci_region_info(const struct dk_pci_device *dev, unsigned int index,
				 struct dk_pci_region *out);

/*
 * Read/write len bytes at offset of BAR bar (0..5; ROM 6, read only) of an
 * open dev. When [offset, offset + len) lies inside one mapped area, the
 * access goes through the mapping: one volatile access of the natural size
 * for len 1/2/4/8 at an aligned offset, else a loop of the largest aligned
 * accesses. Otherwise it goes through pread/pwrite on the device fd. The
 * bounds are always checked. Returns len, or:
 *   -EINVAL  NULL, bar out of range or not implemented, len > INT_MAX
 *   -ERANGE  offset + len beyond the BAR (message names the BAR's size)
 *   -EACCES  the region is not readable / writable
 *   -ENODEV  dev is not open through VFIO (message: dk_pci_vfio_open)
 *   -EIO     pread/pwrite transferred less than asked (or its errno)
 * Thread-safety: like the device's registers; no library lock.
 */
DK_EXPORT int dk_pci_mmio_read(const struct dk_pci_device *dev, unsigned int bar, void *buf,
			       size_t len, uint64_t offset);
DK_EXPORT int dk_pci_mmio_write(const struct dk_pci_device *dev, unsigned int bar,
				const void *buf, size_t len, uint64_t offset);
/* Typed accesses: 0 or the negative errno of dk_pci_mmio_read/write. */
DK_EXPORT int dk_pci_mmio_read8(const struct dk_pci_device *dev, unsigned int bar,
				uint64_t offset, uint8_t *val);
DK_EXPORT int dk_pci_mmio_read16(const struct dk_pci_device *dev, unsigned int bar,
				 uint64_t offset, uint16_t *val);
DK_EXPORT int dk_pci_mmio_read32(const struct dk_pci_device *dev, unsigned int bar,
				 uint64_t offset, uint32_t *val);
DK_EXPORT int dk_pci_mmio_read64(const struct dk_pci_device *dev, unsigned int bar,
				 uint64_t offset, uint64_t *val);
DK_EXPORT int dk_pci_mmio_write8(const struct dk_pci_device *dev, unsigned int bar,
				 uint64_t offset, uint8_t val);
DK_EXPORT int dk_pci_mmio_write16(const struct dk_pci_device *dev, unsigned int bar,
				  uint64_t offset, uint16_t val);
DK_EXPORT int dk_pci_mmio_write32(const struct dk_pci_device *dev, unsigned int bar,
				  uint64_t offset, uint32_t val);
DK_EXPORT int dk_pci_mmio_write64(const struct dk_pci_device *dev, unsigned int bar,
				  uint64_t offset, uint64_t val);

DK_END_DECLS

#endif
