/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sysfs fixture builder for tests and benchmarks.
 *
 * Builds, in a fresh temporary directory, a tree shaped like the kernel's
 * /sys for PCI: host bridges under devices/pciDDDD:BB, functions nested
 * under their upstream bridges, bus/pci/devices/<bdf> symlinks into
 * devices/, bus/pci/drivers/<name>/{bind,unbind,new_id}, bus/pci/drivers_probe,
 * kernel/iommu_groups/<n>/devices/<bdf> links, and per function the files
 * vendor, device, subsystem_vendor, subsystem_device, class, revision,
 * numa_node, resource, config (built from the spec: header, standard
 * capability chain, extended capabilities), driver_override, and the links
 * driver, iommu_group, physfn / virtfnN, plus sriov_totalvfs / sriov_numvfs
 * for PFs. All symlinks are relative, as in the kernel.
 *
 * Point the library at it with DMAKIT_SYSFS_ROOT=dk_fx_root(fx) or
 * dk_init_params.sysfs_root.
 *
 * Every function aborts the test binary with a message on an I/O failure
 * (fixtures are test scaffolding, not the code under test).
 */
#ifndef DK_TESTS_FIXTURE_H
#define DK_TESTS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

struct dk_fx;
struct dk_fx_dev;

struct dk_fx_bar {
	uint64_t start; /* 0 with len 0: unused */
	uint64_t len;
	uint64_t flags; /* kernel IORESOURCE_* bits, e.g. 0x40200 (MEM), 0x140204 (MEM|MEM64|PREFETCH...) */
};

struct dk_fx_spec {
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint32_t class_code; /* 24 bits */
	uint8_t revision;
	uint8_t header_type;  /* 0 endpoint, 1 PCI-PCI bridge */
	uint8_t multifunction;
	int pcie_type;        /* enum dk_pcie_port_type, or -1: no PCIe capability */
	int has_acs;
	uint16_t acs_cap, acs_ctrl;
	uint16_t sriov_total_vfs; /* > 0: SR-IOV capability with this TotalVFs */
	uint16_t sriov_num_vfs;
	uint16_t sriov_vf_device;
	int msi_vectors;   /* > 0: MSI capability (1..32, power of two) */
	int msix_vectors;  /* > 0: MSI-X capability, table in BAR msix_bar */
	uint8_t msix_bar;
	int numa_node;     /* written as is; use -1 for "none" */
	int iommu_group;   /* -1: no iommu_group link */
	const char *driver; /* NULL: unbound; the driver directory is created */
	struct dk_fx_bar bars[7];
	unsigned int config_len; /* bytes of config written: 0 means 4096 */
	/* PCIe Link Capabilities / Status (speed encoded 1 = 2.5 GT/s .. 6 = 64
	 * GT/s; width in lanes). 0: a default for the port type (root and
	 * upstream ports 16 GT/s x16, downstream ports 16 GT/s x4, endpoints
	 * 8 GT/s x4, root-complex integrated endpoints no link). */
	uint8_t link_speed, link_width;
};

/* A spec with sane defaults: endpoint, vendor 0x1b36 device 0x0010, class
 * 0x010802, PCIe endpoint, no ACS, numa -1, group -1, unbound, BAR0 16 KiB MEM64. */
struct dk_fx_spec dk_fx_spec_endpoint(void);
/* A PCIe bridge port spec (header type 1, class 0x060400) of the given type
 * (DK_PCIE_TYPE_ROOT_PORT, _UPSTREAM, _DOWNSTREAM), bound to "pcieport". */
/* (IDs of QEMU's pcie-root-port / TI XIO3130 switch ports, 1 MSI vector;
 * root and downstream ports have ACS with SV|RR|CR|UF supported and
 * enabled, as the kernel leaves them with an IOMMU on: clear has_acs or
 * acs_ctrl for a port without it.) */
struct dk_fx_spec dk_fx_spec_bridge(int pcie_type);

/* New empty tree in a temp dir (under $TMPDIR or /tmp). */
struct dk_fx *dk_fx_new(void);
/* Root directory of the tree. */
const char *dk_fx_root(const struct dk_fx *fx);
/* Remove the tree and free fx. NULL is a no-op. */
void dk_fx_free(struct dk_fx *fx);

/* Create host bridge devices/pciDDDD:BB (idempotent). */
void dk_fx_host_bridge(struct dk_fx *fx, uint32_t domain, uint8_t bus);

/*
 * Add function bdf ("0000:03:00.0") below parent (a bridge added earlier),
 * or directly on the host bridge of bdf's domain/bus when parent is NULL
 * (the host bridge is created if needed). Returns a handle owned by fx.
 */
struct dk_fx_dev *dk_fx_add(struct dk_fx *fx, const char *bdf, const struct dk_fx_dev *parent,
			    const struct dk_fx_spec *spec);

/* Add VF number index (0-based) of pf at bdf: virtfn<index> and physfn links, same parent as pf. */
struct dk_fx_dev *dk_fx_add_vf(struct dk_fx *fx, struct dk_fx_dev *pf, unsigned int index,
			       const char *bdf, const struct dk_fx_spec *spec);

/* Absolute path of the function's directory under devices/. */
const char *dk_fx_dev_path(const struct dk_fx_dev *dev);

/* Bad-input helpers: overwrite, remove, or truncate one attribute file. */
void dk_fx_write(struct dk_fx_dev *dev, const char *attr, const void *data, size_t len);
void dk_fx_write_str(struct dk_fx_dev *dev, const char *attr, const char *text);
void dk_fx_remove(struct dk_fx_dev *dev, const char *attr);
void dk_fx_truncate(struct dk_fx_dev *dev, const char *attr, size_t len);
/* Remove the device's bus/pci/devices link and directory (vanished device). */
void dk_fx_remove_device(struct dk_fx_dev *dev);
/* Read back an attribute file (NUL-terminated, into buf). Returns length. */
size_t dk_fx_read(const struct dk_fx_dev *dev, const char *attr, char *buf, size_t len);
/* Register a driver directory bus/pci/drivers/<name> without binding anything. */
void dk_fx_driver(struct dk_fx *fx, const char *name);

/*
 * Remove only the device's directory (and everything below it), leaving
 * bus/pci/devices/<bdf> and the other links to it dangling: a device that
 * vanished between readdir and open.
 */
void dk_fx_remove_device_dir(struct dk_fx_dev *dev);

/* "DDDD:BB:DD.F" of the function. */
const char *dk_fx_dev_bdf(const struct dk_fx_dev *dev);

/*
 * Offset where the builder put capability id (standard when extended == 0,
 * else extended) in dev's config, or 0 when it wrote none. The layout:
 * standard capabilities from 0x40 in the order PCIe (0x3c bytes, version 2),
 * MSI (64-bit, per-vector masking), MSI-X (table at 0x2000 of BAR msix_bar,
 * PBA after it on the next 4 KiB), and, for a bridge with non-zero
 * subsystem IDs, Subsystem ID (0x0d); each starts on a 16-byte boundary.
 * Extended capabilities from 0x100: ACS, then SR-IOV. With none, the dword
 * at 0x100 is 0.
 *
 * Config notes: a VF's config reads 0xffff for vendor and device and 0 for
 * its BARs, as on hardware (the sysfs files carry the real values). A
 * bridge's bus numbers (0x18..0x1a, and the files secondary_bus_number /
 * subordinate_bus_number) and a PF's First VF Offset / VF Stride
 * (and sriov_offset / sriov_stride) are patched in place as children and
 * VFs are added: build the whole tree before damaging files.
 */
unsigned int dk_fx_cap_offset(const struct dk_fx_dev *dev, unsigned int id, int extended);

/*
 * Mediated devices. dk_fx_mdev_type adds parent device
 * devices/virtual/<parent>/<parent> (linked from class/mdev_bus/<parent>,
 * idempotent) with mdev_supported_types/<type>/{create, name, device_api,
 * available_instances, devices/}. dk_fx_mdev adds instance <uuid> of that
 * type below the parent: files remove, links mdev_type and (group >= 0)
 * iommu_group, plus bus/mdev/devices/<uuid>, the type's devices/<uuid> and
 * kernel/iommu_groups/<group>/devices/<uuid>. Writes to create/remove
 * just land in the files (read them back with dk_fx_read_rel).
 */
void dk_fx_mdev_type(struct dk_fx *fx, const char *parent, const char *type,
		     const char *device_api, int available);
void dk_fx_mdev(struct dk_fx *fx, const char *parent, const char *type, const char *uuid,
		int iommu_group);
/*
 * Mediated-device bad input. dk_fx_write_rel / dk_fx_remove_rel overwrite or
 * remove (a file, a link, or a whole directory) root/rel: a type's optional
 * files ("devices/virtual/<parent>/<parent>/mdev_supported_types/<type>/name").
 * dk_fx_mdev_type_file gives that rel for one file of a type.
 * dk_fx_mdev_remove removes instance uuid as the kernel does (its directory
 * and every link to it). dk_fx_mdev_vanish removes only its directory: the
 * bus/mdev/devices link dangles (gone between readdir and open).
 * dk_fx_mdev_parent_remove removes a parent (class/mdev_bus link and its
 * directory with every instance below it; their links dangle).
 */
void dk_fx_write_rel(struct dk_fx *fx, const char *rel, const char *text);
void dk_fx_remove_rel(struct dk_fx *fx, const char *rel);
const char *dk_fx_mdev_type_file(const char *parent, const char *type, const char *file);
void dk_fx_mdev_remove(struct dk_fx *fx, const char *parent, const char *type, const char *uuid);
void dk_fx_mdev_vanish(struct dk_fx *fx, const char *parent, const char *uuid);
void dk_fx_mdev_parent_remove(struct dk_fx *fx, const char *parent);
/* Read root/rel (NUL-terminated, into buf). Returns length. */
size_t dk_fx_read_rel(const struct dk_fx *fx, const char *rel, char *buf, size_t len);

#endif
