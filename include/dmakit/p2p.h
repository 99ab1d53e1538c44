/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/p2p.h - peer-to-peer DMA through PCI BAR memory.
 *
 * A provider is a PCI function that lends memory on one of its BARs (an
 * NVMe controller memory buffer, an accelerator's buffer) to other devices,
 * its clients. Providers add resources (BAR ranges) to a page-granular pool
 * and publish it; a consumer that drives several clients asks which
 * published provider all of them reach best (dk_p2p_find_many), allocates
 * from it and hands the bus addresses (or, under an IOMMU, the IOVAs the
 * clients' containers map) to its devices.
 *
 * Reachability follows Linux's p2pdma rules, so dmakit and the kernel give
 * the same answers on the same topology: traffic between two functions
 * stays below their closest common upstream bridge unless a bridge on
 * either path redirects peer-to-peer requests or completions upstream (ACS
 * control bits RR, CR or EC), or the two have no common bridge at all; then
 * it goes through the host bridge, which only some root complexes route
 * (AMD CPUs of family 0x17 and later, and a list of host bridges).
 *
 * Layer: src/p2p (above dma, bus/pci, vfio, mem; see src/LAYERS).
 * Thread-safety: like the PCI device list: not concurrent with dk_pci_scan
 * or dk_cleanup; the functions below are safe to call from several threads
 * unless their comment says otherwise.
 */
#ifndef DMAKIT_P2P_H
#define DMAKIT_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dmakit/common.h>
#include <dmakit/pci.h>

DK_BEGIN_DECLS

/* ==== distance and map type ============================================== */

/* How a client reaches a provider's memory (the kernel's names). */
enum dk_p2p_map_type {
	DK_P2P_MAP_UNKNOWN = 0,
	DK_P2P_MAP_NOT_SUPPORTED,     /* not_supported */
	DK_P2P_MAP_BUS_ADDR,          /* bus_addr: below a common bridge, no redirect */
	DK_P2P_MAP_THRU_HOST_BRIDGE,  /* thru_host_bridge: routed by the root complex */
};

/*
 * The rules (Linux's calc_map_type_and_dist, same answers on the same
 * topology; docs/p2p.md has the details):
 *
 * - The upstream chain of a function is the function itself, then its
 *   upstream bridges up to the root bus. A VF's chain continues from its
 *   PF's upstream bridge (the kernel's pci_upstream_bridge). Walk the
 *   provider's chain; the first element that is also in the client's chain
 *   is the common upstream device. distance = hops from the provider up to
 *   it + hops from the client up to it: 0 for the same function, 2 for two
 *   functions of one device (or a PF and its VF), 4 for endpoints below two
 *   downstream ports of one switch.
 * - ACS: a device on the path whose ACS Control register has P2P Request
 *   Redirect, Completion Redirect or Egress Control set (DK_PCI_ACS_RR, CR,
 *   EC) sends the traffic up through the host bridge. The devices checked
 *   are the provider's chain from the provider up to and including the
 *   common device, and the client's chain from the client up to but
 *   excluding it; any device with an ACS capability counts, endpoints too.
 *   ACS Control is read from config space when a pair is computed (falling
 *   back to caps.acs.ctrl when the read fails), once per device per call:
 *   the pairs one call computes (dk_p2p_distance_many, dk_p2p_find_many
 *   over all providers) share each device's read and the CPU answer.
 * - No common upstream device (different root ports, host bridges or
 *   domains): through the host bridge, distance = the length of both chains
 *   (each counts the function itself).
 * - Through the host bridge (either case) is allowed when the CPU is AMD
 *   (vendor_id AuthenticAMD) of family 0x17 (Zen) or later, else when the
 *   host bridge device is on the kernel's whitelist: the first function of
 *   the root bus under the host bridge, taken only when it is 00.0 or a root
 *   port. Some entries (Intel Xeon E5 0x3c00/0x3c01, E5 v3 0x2f00/0x2f01,
 *   Zhaoxin 0x1003/0x1005-0x1007) allow only two devices under that same
 *   host bridge; across two host bridges both must be whitelisted without
 *   that restriction. Otherwise not_supported.
 *
 * The CPU is read from the first processor of /proc/cpuinfo ("vendor_id",
 * "cpu family"), or of the file named by the environment variable
 * DMAKIT_CPUINFO (tests, other machines' files). A file without them (not
 * x86) answers "no", as the kernel does off x86.
 *
 * Cache: every pair asked is kept, per (provider, client), without a limit
 * on their number (a few hundred bytes each; out of memory, a pair is
 * computed each time), until a config write through dk_pci_config_write,
 * dk_pci_device_refresh or a rescan (dk_pci_scan, dk_init) starts a new
 * topology generation, which empties it; dk_cleanup frees it. Changes made
 * outside dmakit (setpci, the kernel) are seen by pairs computed after them;
 * pairs kept see them after dk_pci_device_refresh of the device changed.
 *
 * Devices: PCI functions of the last scan (kind DK_PCI_KIND_FUNCTION);
 * mdevs have no place in the topology and are rejected (-EINVAL).
 *
 * Thread-safety: the functions below may be called from several threads
 * (the cache has its own lock, taken last, never held across a call out);
 * not concurrently with dk_pci_scan, dk_pci_device_refresh or dk_cleanup.
 */

/* The kernel's name of t: "not_supported", "bus_addr", "thru_host_bridge",
 * or "unknown" (DK_P2P_MAP_UNKNOWN and values out of range). Never NULL. */
DK_EXPORT const char *dk_p2p_map_type_name(enum dk_p2p_map_type t);

/* Why a path is not bus_addr. */
enum dk_p2p_reason {
	DK_P2P_REASON_NONE = 0,         /* bus_addr */
	DK_P2P_REASON_ACS_REDIRECT,     /* a common upstream device, but ACS redirects */
	DK_P2P_REASON_NO_COMMON_BRIDGE, /* no common upstream device */
};

/* How the host bridge rule decided (when the path goes through it). */
enum dk_p2p_host {
	DK_P2P_HOST_UNUSED = 0,       /* bus_addr: the host bridge is not on the path */
	DK_P2P_HOST_CPU,              /* allowed: AMD CPU of family 0x17 or later */
	DK_P2P_HOST_WHITELIST,        /* allowed: whitelisted host bridge(s) */
	DK_P2P_HOST_NO_DEVICE,        /* refused: no 00.0 or root port first on a root bus */
	DK_P2P_HOST_NOT_LISTED,       /* refused: host bridge device not on the whitelist */
	DK_P2P_HOST_SAME_BRIDGE_ONLY, /* refused: listed only for devices under one host bridge */
};

#define DK_P2P_ACS_LIST_LEN 256
#define DK_P2P_REASON_LEN 1024

/* Everything about one provider -> client path. */
struct dk_p2p_path {
	enum dk_p2p_map_type map_type; /* never DK_P2P_MAP_UNKNOWN after success */
	int distance;                  /* as computed also when not_supported */
	enum dk_p2p_reason reason;
	enum dk_p2p_host host;
	/* Refused host bridge: its name ("pci0000:00"), and the IDs of its
	 * device (0 when host == DK_P2P_HOST_NO_DEVICE). */
	char host_bridge[24];
	uint16_t host_vendor, host_device;
	/* DK_P2P_REASON_ACS_REDIRECT: the devices with redirect bits, provider
	 * side upwards first, then client side upwards, ';'-separated, as the
	 * kernel's pci=disable_acs_redir= wants them ("0000:00:01.0;0000:02:00.0").
	 * Whole names only: acs_count counts them all, acs_list holds those that
	 * fit. "" for the other reasons. */
	unsigned int acs_count;
	char acs_list[DK_P2P_ACS_LIST_LEN];
	/* "" for bus_addr; else one or two sentences: the reason and the fix. */
	char reason_text[DK_P2P_REASON_LEN];
};

/*
 * Map type, distance and reason of the path from client to provider's
 * memory (from the cache when valid). 0, or -EINVAL: NULL argument, or
 * provider/client not a PCI function of the last scan (an mdev): message.
 */
DK_EXPORT int dk_p2p_path(const struct dk_pci_device *provider,
			  const struct dk_pci_device *client, struct dk_p2p_path *out);

/*
 * The distance from client to provider's memory when they can do P2P
 * (bus_addr or thru_host_bridge), -1 when not (not_supported; the kernel's
 * value), -EINVAL on bad input as dk_p2p_path (message). Any negative
 * result means "cannot". verbose: log the reason and its fix at warning
 * level when the path has ACS redirects or is not supported.
 */
DK_EXPORT int dk_p2p_distance(const struct dk_pci_device *provider,
			      const struct dk_pci_device *client, bool verbose);

/*
 * Sum of the distances from every client to provider: -1 when n is 0 or
 * any client cannot reach the provider (without verbose it stops at the
 * first; with verbose every client's reason is logged), -EINVAL when
 * provider or clients is NULL or any client is NULL or not a PCI function
 * (message; checked before anything is computed).
 */
DK_EXPORT int dk_p2p_distance_many(const struct dk_pci_device *provider,
				   const struct dk_pci_device *const *clients, size_t n,
				   bool verbose);


/* ==== providers, pool and allocation ===================================== */

/*
 * A provider is named by its PCI function (dev->device.name): the state
 * below survives dk_pci_scan (look the device up again; the provider is
 * still there) and is dropped by dk_p2p_remove or dk_cleanup.
 *
 * Memory: each resource is mapped by dmakit itself, once, at
 * dk_p2p_add_resource: through the VFIO device fd when dev is open through
 * VFIO (the BAR must be mmappable over the whole range), else by mmap of
 * sysfs bus/pci/devices/<dev>/resource<N> (the kernel's userspace BAR
 * interface: root only). That mapping does not depend on dmakit's VFIO
 * references, so closing the device does not unmap it. The pool is
 * page-granular (allocations are page-aligned and rounded up to whole
 * pages) and keeps its bookkeeping in host memory, about 13 bytes per page
 * of resource: nothing is ever written into the BAR.
 *
 * Removal with allocations outstanding: dk_p2p_remove refuses (-EBUSY);
 * dk_cleanup fences: the provider's mappings are replaced by inaccessible
 * (PROT_NONE) reservations that are never released, so a late access
 * faults instead of reaching a device that may have been given to someone
 * else, and an error names the provider and the count. A driver that adds
 * resources frees its allocations and calls dk_p2p_remove in its remove.
 *
 * Lock order: the provider list's lock, then a provider's lock, then the
 * distance cache's lock (dk_p2p_find_many computes distances under the
 * list lock). Every function below is thread-safe.
 */

/* Resources per provider. */
#define DK_P2P_MAX_RESOURCES 16

struct dk_p2p_stats {
	uint64_t size;             /* bytes of all resources (kernel: p2pmem/size) */
	uint64_t available;        /* bytes not allocated (kernel: p2pmem/available) */
	bool published;            /* kernel: p2pmem/published */
	unsigned int nr_resources; /* dmakit providers; 0 for the kernel's */
	uint64_t nr_allocs;        /* allocations outstanding, by this process */
};

/*
 * Add bytes [offset, offset + size) of BAR bar of dev to dev's pool (dev
 * becomes a provider, unpublished, on its first resource). size 0 means
 * the rest of the BAR. The kernel's checks (pci_p2pdma_add_resource) and
 * dmakit's: -EINVAL for dev NULL or an mdev (no PCI memory peers reach),
 * bar > 5, an absent BAR, a BAR that is not memory, offset >= the BAR's
 * length, size + offset beyond it, offset or size not a multiple of the
 * page size, or (VFIO) a range the region cannot mmap. Also:
 *   -EBUSY   the range overlaps a resource of dev already added
 *   -ENOSPC  DK_P2P_MAX_RESOURCES resources already
 *   -EACCES / -EPERM  the mapping was refused (sysfs resource files: root)
 *   -ENOENT  no sysfs resource<N> file (and dev not open through VFIO)
 *   -ENOMEM, or mmap's errno
 * Each failure is logged with the fix; on failure nothing changed.
 */
DK_EXPORT int dk_p2p_add_resource(struct dk_pci_device *dev, unsigned int bar, uint64_t size,
				  uint64_t offset);

/* Publish (or withdraw) dev's pool for other consumers (dk_p2p_find_many
 * considers published providers only). 0, -EINVAL (NULL), -ENOENT (dev is
 * no provider: add a resource first). */
DK_EXPORT int dk_p2p_publish(struct dk_pci_device *dev, bool publish);

/* Statistics of dmakit provider dev. 0, -EINVAL (NULL), -ENOENT (no provider). */
DK_EXPORT int dk_p2p_stats(const struct dk_pci_device *dev, struct dk_p2p_stats *out);

/*
 * Drop provider dev: its resources are unmapped and its pool freed.
 * 0, -EINVAL (NULL), -ENOENT (no provider), -EBUSY (allocations
 * outstanding: the message gives the count; free them first; nothing is
 * changed).
 */
DK_EXPORT int dk_p2p_remove(struct dk_pci_device *dev);

/*
 * Allocate size bytes (rounded up to whole pages, page-aligned) from dev's
 * pool, first from its first resource that has room. Returns the CPU
 * address in dmakit's mapping, or NULL with errno EINVAL (NULL dev, size
 * 0), ENOENT (no provider), ENOMEM (no free run of that many pages in
 * any resource: the message gives the bytes available). Published or
 * not, the owner may allocate.
 */
DK_EXPORT void *dk_p2p_alloc(struct dk_pci_device *dev, size_t size);

/*
 * Free an allocation of dk_p2p_alloc: addr as returned, size as asked.
 * 0, or -EINVAL (NULL dev; addr in no resource of dev; addr not the start
 * of an allocation; size 0 or not rounding up to the allocation's page
 * count; double free), -ENOENT (no
 * provider). The error is logged and the pool is left as it was.
 */
DK_EXPORT int dk_p2p_free(struct dk_pci_device *dev, void *addr, size_t size);

/* One entry of a P2P scatter list. */
struct dk_p2p_sg {
	void *addr;        /* CPU address in dmakit's mapping */
	size_t length;     /* bytes */
	uint64_t bus_addr; /* dk_p2p_virt_to_bus(addr) */
};

/*
 * Like the kernel's pci_p2pmem_alloc_sgl: a list of one entry covering the
 * whole length, *nents set to 1. Free with dk_p2p_free_sgl. NULL with
 * errno as dk_p2p_alloc (EINVAL also for nents NULL).
 */
DK_EXPORT struct dk_p2p_sg *dk_p2p_alloc_sgl(struct dk_pci_device *dev, size_t length,
					    unsigned int *nents);
/* Free every entry's memory (dk_p2p_free) and the list. The first error of
 * dk_p2p_free is returned (the list is freed anyway once every entry was
 * tried); -EINVAL for NULL dev or sgl. */
DK_EXPORT int dk_p2p_free_sgl(struct dk_pci_device *dev, struct dk_p2p_sg *sgl,
			      unsigned int nents);

/*
 * Bus address of addr, any address inside a resource of dev (allocated or
 * not, like the kernel's pci_p2pmem_virt_to_bus): the BAR register's value
 * (what peers put on the bus) plus addr's offset in the BAR. The BAR
 * register is read at dk_p2p_add_resource from sysfs config (not through
 * VFIO, whose config region virtualizes BARs); when it
 * reads 0 (a VF, whose BARs are in the PF's SR-IOV capability) the CPU
 * physical address from sysfs "resource" is used (bus offset 0, true on
 * x86). 0 with errno EINVAL (NULL, or addr not in dev's resources: logged)
 * or ENOENT (no provider).
 */
DK_EXPORT uint64_t dk_p2p_virt_to_bus(const struct dk_pci_device *dev, const void *addr);

/* ---- DMA addresses for clients ----------------------------------------------
 * Each resource's CPU mapping is, from dk_p2p_add_resource to its removal,
 * registered memory with IOVAs (as dk_extmem_register with a table): the
 * DMA domains map it into every VFIO container through the memory events,
 * dk_mem_virt2iova answers for any of its addresses, and the MR cache
 * resolves P2P buffers like other registered memory. Its IOVAs are picked
 * as dk_dev_dma_map_auto picks them: the VA in IOVA mode va, IOVA space of
 * the layout's in mode remap; in mode pa, the bus address. When the
 * provider is open through VFIO, dk_p2p_add_resource turns memory decode
 * on in its command register first. Add resources after dk_init (the
 * memory layer must be up for the IOVAs to reach the containers).
 */

/* dk_p2p_dma_addr's answer: which address the client got */
#define DK_P2P_DMA_IOVA 1 /* the client is open through VFIO: the IOVA in its container */
#define DK_P2P_DMA_BUS 2  /* no VFIO container (no IOMMU in the way): the bus address */

/*
 * The address client puts on the bus to reach addr, any address of a
 * resource of a provider of this process: its IOVA when client is open
 * through VFIO (dk_pci_vfio_open), else the bus address
 * (dk_p2p_virt_to_bus). *dma set and DK_P2P_DMA_IOVA or DK_P2P_DMA_BUS
 * returned, or:
 *   -EINVAL  NULL argument, or addr in no resource of this process
 *   -EXDEV   client cannot reach the provider (not_supported: the reason
 *            is logged with its fix)
 *   -ENOENT  addr has no IOVA (the resource was added before dk_init)
 *   -ENXIO   the client's IOMMU domain does not map it (its mapping failed:
 *            iommufd up to Linux 6.12 cannot map device memory; the
 *            container backend can)
 * Every failure is logged. Thread-safe.
 */
DK_EXPORT int dk_p2p_dma_addr(const struct dk_pci_device *client, const void *addr,
			      uint64_t *dma);

/* ---- memory the kernel publishes (p2pmem) ---------------------------------
 * Kernels with CONFIG_PCI_P2PDMA list a provider's pool in
 * <sysfs>/bus/pci/devices/<dev>/p2pmem/ (size, available, published, and
 * since Linux 6.2 allocate, whose mmap allocates). These functions work on
 * sysfs alone (no dk_init needed besides the device list for dk_p2p_list).
 */

/* Read p2pmem/size, available and published of dev; nr_allocs counts this
 * process's live dk_p2p_kernel_alloc mappings. 0, -EINVAL (NULL or a
 * malformed file: message names it), -ENOENT (no p2pmem directory: the
 * kernel publishes nothing for dev), the read's errno. */
DK_EXPORT int dk_p2p_kernel_stats(const struct dk_pci_device *dev, struct dk_p2p_stats *out);

/*
 * Allocate size bytes (rounded up to pages) of dev's kernel p2pmem: mmap of
 * p2pmem/allocate, MAP_SHARED, offset 0 (the kernel allocates on mmap and
 * frees on munmap). NULL with errno EINVAL (NULL, size 0), ENOENT (no
 * p2pmem/allocate: a kernel older than 6.2, or no p2pmem), ENOMEM (the
 * kernel's pool is full, or no memory for bookkeeping), mmap's errno.
 */
DK_EXPORT void *dk_p2p_kernel_alloc(const struct dk_pci_device *dev, size_t size);
/* munmap an allocation of dk_p2p_kernel_alloc. 0, or -EINVAL (not an
 * allocation of this process, or size not the one asked: logged, nothing
 * unmapped). */
DK_EXPORT int dk_p2p_kernel_free(void *addr, size_t size);

/* ---- listing --------------------------------------------------------------- */

/* dk_p2p_info.kind, and the kinds mask of dk_p2p_list */
#define DK_P2P_KIND_DMAKIT (1u << 0)    /* this process's providers */
#define DK_P2P_KIND_KERNEL (1u << 1)    /* p2pmem the kernel publishes */
#define DK_P2P_KIND_CANDIDATE (1u << 2) /* could provide: a non-bridge function with a
					 * prefetchable memory BAR of a page or more */

struct dk_p2p_info {
	const struct dk_pci_device *dev;
	unsigned int kind;     /* one DK_P2P_KIND_* */
	struct dk_p2p_stats stats; /* CANDIDATE: size = its prefetchable memory BARs,
				    * available = size, published false */
	uint32_t bars;         /* DMAKIT: BARs with resources; CANDIDATE: the BARs counted */
};

/*
 * The providers of the kinds asked, in device order (dmakit's, then the
 * kernel's, then candidates; a device may appear under several kinds),
 * over the devices of the last scan. Fills up to max entries of out and
 * returns how many there are (may be more than max), or -EINVAL (kinds
 * 0 or unknown bits, out NULL with max > 0).
 */
DK_EXPORT int dk_p2p_list(unsigned int kinds, struct dk_p2p_info *out, unsigned int max);


/* ==== consumers: finding a provider, client sets ========================== */

/*
 * A consumer drives several clients and needs memory all of them reach.
 * Providers here are this process's (dk_p2p_add_resource) that are
 * published (dk_p2p_publish); the kernel's p2pmem is not considered.
 * Device pointers are those of the last scan: after dk_pci_scan, find
 * again and rebuild client sets.
 */

/*
 * Among published providers, the one with the smallest
 * dk_p2p_distance_many(provider, clients, n) (a provider none of the
 * clients can reach, or n 0, is skipped), a random one among ties (as the
 * kernel's pci_p2pmem_find_many: consumers spread over equal providers).
 * NULL with errno ENODEV (no published provider every client reaches:
 * logged at info level, as a normal answer) or EINVAL (clients NULL with
 * n > 0, or a client NULL or not a PCI function: logged).
 * Thread-safety: safe with the other functions of this header; the
 * providers' list lock is held while the distances are computed.
 */
DK_EXPORT struct dk_pci_device *dk_p2p_find_many(const struct dk_pci_device *const *clients,
						 size_t n);

/*
 * The kernel's enable-string (pci_p2pdma_enable_store, the nvmet "p2pmem"
 * attribute): a device name first: s equal to a PCI function's full name
 * ("0000:03:00.0", a trailing newline ignored) selects it (*provider, and
 * *use = true), which must be a published provider of this process, else
 * -ENODEV. Otherwise a boolean as the kernel's kstrtobool reads it, on
 * its first characters only: y, Y, 1 -> true; n, N, 0 -> false; o or O
 * then n/N -> true, then f/F -> false (*provider = NULL). "0" or "1"
 * followed by more characters (other than a control character such as the
 * newline) is an unknown device, so "0000:99:00.0" never reads as false.
 * Anything else, "" included: -ENODEV ("no such PCI device"). -EINVAL for
 * NULL arguments. Every failure is logged with the fix; on failure the
 * outputs are untouched.
 */
DK_EXPORT int dk_p2p_enable_parse(const char *s, struct dk_pci_device **provider, bool *use);

/*
 * A client set: devices that will DMA to one provider's memory (the
 * kernel's nvmet port with p2pmem enabled, a GPU group). Made without a
 * provider it takes any client; dk_p2p_clients_pick then chooses the
 * provider with dk_p2p_find_many over its clients. With a provider, each
 * client added must reach it.
 *
 * Thread-safety: a set is not shared between threads without the
 * caller's lock (it has none of its own).
 */
struct dk_p2p_clients;

/* A new set bound to provider (NULL: none yet). provider, when given,
 * must be a provider of this process (published or not). NULL with errno
 * ENOENT (no provider: logged), ENOMEM. */
DK_EXPORT struct dk_p2p_clients *dk_p2p_clients_new(struct dk_pci_device *provider);
/* Free the set (not the devices). NULL is a no-op. */
DK_EXPORT void dk_p2p_clients_free(struct dk_p2p_clients *set);

/*
 * Add client. 0, or:
 *   -EXDEV   the set's provider cannot reach client (not_supported): the
 *            message gives the reason and its fix (dk_p2p_path's text);
 *            the set is unchanged
 *   -EEXIST  client is in the set already
 *   -EINVAL  NULL, or client not a PCI function (an mdev)
 *   -ENOMEM
 */
DK_EXPORT int dk_p2p_clients_add(struct dk_p2p_clients *set, const struct dk_pci_device *client);
/* Remove client. 0, -ENOENT (not in the set), -EINVAL (NULL). */
DK_EXPORT int dk_p2p_clients_remove(struct dk_p2p_clients *set,
				    const struct dk_pci_device *client);
/* Number of clients (0 for NULL). */
DK_EXPORT size_t dk_p2p_clients_count(const struct dk_p2p_clients *set);
/* The set's provider, or NULL (none yet, or set NULL). */
DK_EXPORT struct dk_pci_device *dk_p2p_clients_provider(const struct dk_p2p_clients *set);
/*
 * Choose the provider of a set made without one: dk_p2p_find_many over its
 * clients. 0, -EALREADY (the set has a provider), -ENODEV (no published
 * provider reaches every client: logged), -EINVAL (NULL).
 */
DK_EXPORT int dk_p2p_clients_pick(struct dk_p2p_clients *set);

DK_END_DECLS

#endif
