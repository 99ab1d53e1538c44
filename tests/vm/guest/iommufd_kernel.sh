#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guest test (busybox sh): what the suite's own kernel (run.sh --kernel iommufd,
# tests/vm/kernel/iommufd.config) gives the other tests: /dev/iommu, the VFIO device cdev
# of a device bound to vfio-pci (sysfs vfio-dev/ and /dev/vfio/devices/vfioN) beside its
# group node, the mtty sample built in, the NVMe CMB published as P2P memory, and
# dk_sparse loaded when the kernel has modules. On Debian's kernel (no IOMMUFD) every case
# is skipped. Prints TAP.
. /etc/dk/tap.sh

edu=0000:03:00.0
nvme=0000:04:00.0
echo "TAP version 13"
diag "kernel $(uname -r) (${DK_VM_KERNEL_KIND:-?})"
if [ "${DK_VM_KERNEL_KIND:-}" != iommufd ]; then
	skip "the iommufd kernel's devices" "booted with the ${DK_VM_KERNEL_KIND:-debian} kernel (run.sh --kernel iommufd)"
	echo "1..$n"
	exit 0
fi

check "/dev/iommu is a character device" test -c /dev/iommu
check "/dev/vfio/vfio is a character device (the container path is there too)" test -c /dev/vfio/vfio
check "vfio-pci is built in (/sys/bus/pci/drivers/vfio-pci)" test -d /sys/bus/pci/drivers/vfio-pci
check "no module was needed (/proc/modules lists none but ours)" \
	eval '[ -z "$(grep -v "^dk_sparse " /proc/modules 2>/dev/null)" ]'

# --- the device cdev -----------------------------------------------------------------------
dev=/sys/bus/pci/devices/$edu
old=$(driver_of "$edu")
[ -n "$old" ] && echo "$edu" >"$dev/driver/unbind"
echo vfio-pci >"$dev/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
check "drivers_probe bound edu to vfio-pci" eq "$(driver_of "$edu")" vfio-pci
node=$(ls "$dev/vfio-dev" 2>/dev/null | head -1)
check "edu has a sysfs vfio-dev/ entry (${node:-none})" eval 'case "$node" in vfio[0-9]*) true ;; *) false ;; esac'
check "/dev/vfio/devices/$node is a character device" test -c "/dev/vfio/devices/$node"
g=$(group_of "$edu")
check "the group node /dev/vfio/$g exists beside it" test -c "/dev/vfio/$g"
diag "  /dev/vfio: $(ls /dev/vfio | tr '\n' ' ') devices: $(ls /dev/vfio/devices 2>/dev/null | tr '\n' ' ')"
echo "$edu" >/sys/bus/pci/drivers/vfio-pci/unbind
echo >"$dev/driver_override"
i=0
while [ -e "/dev/vfio/devices/$node" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
check "unbinding edu removes /dev/vfio/devices/$node" test ! -e "/dev/vfio/devices/$node"

# --- mdev: mtty built in, dk_sparse ---------------------------------------------------------
check "mtty is built in (/sys/class/mdev_bus/mtty)" test -e /sys/class/mdev_bus/mtty
if grep -q '^dk_sparse ' /proc/modules 2>/dev/null; then
	ok "dk_sparse (built against this kernel) is loaded"
else
	skip "dk_sparse is loaded" "not in this boot (run.sh --no-kmod, or a kernel without modules)"
fi

# --- the kernel's P2P memory: the NVMe CMB -------------------------------------------------
p2p=/sys/bus/pci/devices/$nvme/p2pmem
check "the nvme driver bound the NVMe" eq "$(driver_of "$nvme")" nvme
check "the NVMe publishes P2P memory ($p2p)" test -d "$p2p"
check "p2pmem/size is the 16 MiB CMB" eq "$(cat "$p2p/size" 2>/dev/null)" 16777216
check "p2pmem/published is 1" eq "$(cat "$p2p/published" 2>/dev/null)" 1
diag "  p2pmem/available $(cat "$p2p/available" 2>/dev/null)"

echo "1..$n"
tap_status
