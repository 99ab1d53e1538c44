/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VFIO group-viability rule, stated once: which members of an IOMMU group
 * keep VFIO from giving the group to user space. Used by the VFIO layer (the
 * message of a group that is not viable at open, vfio_group.c) and by the PCI
 * bus (dk_pci_group_blockers, which `dmakit bind` prints).
 *
 * What the kernel does (Linux 5.19 and later, so Debian 12's 6.1):
 * VFIO_GROUP_GET_STATUS reports a group without a container viable when no
 * member holds the group's DMA ownership for the kernel's DMA API
 * (iommu_group_dma_owner_claimed). A device takes that ownership when it binds
 * to a driver, unless the driver says it manages DMA itself
 * (driver_managed_dma). In 6.1 the PCI drivers that say so are vfio-pci and its
 * variant drivers (mlx5_vfio_pci, hisi_acc_vfio_pci), pci-stub, and pcieport
 * (the port services driver of PCIe root and switch ports). Bridges get no
 * other exemption: a bridge bound to any other driver blocks the group.
 * sysfs does not show driver_managed_dma, hence the rule by driver name.
 *
 * Kernels before 5.19 had an explicit list instead: unbound, a vfio driver,
 * pci-stub, or any bridge (header type other than 0) on any driver. There a
 * bridge on a driver other than pcieport passes, but is listed here.
 *
 * The rule: a member blocks when it is bound to a driver whose name neither
 * contains "vfio" nor is "pci-stub" or "pcieport". Unbound members never block.
 * Members are judged by driver alone (an mdev has an IOMMU group of its own).
 */
#ifndef DK_VFIO_VIABLE_H
#define DK_VFIO_VIABLE_H

/* 1 when a member bound to driver keeps its group from being viable, else 0
 * (NULL or "": unbound). Pure. */
int dk__vfio_driver_blocks(const char *driver);

typedef void (*dk__vfio_blocker_fn)(const char *member, const char *driver, void *arg);

/*
 * Apply the rule to every member of IOMMU group `group`, read from
 * <sysfs>/kernel/iommu_groups/<group>/devices in name order: cb(member,
 * driver, arg) for each member that blocks (cb may be NULL). Returns the number
 * of blockers, or a negative errno when the group cannot be listed (-ENOENT no
 * such group, -ENOMEM, or scandir's errno); not logged: the caller says what to
 * do. Reads sysfs only: thread-safe.
 */
int dk__vfio_group_foreach_blocker(int group, dk__vfio_blocker_fn cb, void *arg);

#endif
