#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guest test (busybox sh): the VM is the machine docs/vm.md and DESIGN.md describe.
# IOMMU on with the requested address width, edu (1234:11e8) and NVMe (1b36:0010) behind
# the PCIe switch, one IOMMU group each, vfio modules loaded, the NVMe's 16 MiB CMB in
# BAR2, and edu binds to vfio-pci through driver_override. Prints TAP.
. /etc/dk/tap.sh
id_of() { echo "$(cat "$1/vendor" 2>/dev/null | sed 's/^0x//'):$(cat "$1/device" 2>/dev/null | sed 's/^0x//')"; }
find_dev() { # VENDOR:DEVICE -> first BDF with that ID
	for d in /sys/bus/pci/devices/*; do
		[ "$(id_of "$d")" = "$1" ] && { basename "$d"; return 0; }
	done
	return 1
}

echo "TAP version 13"
diag "kernel $(uname -r), aw-bits requested ${DK_VM_AW_BITS:-?}"
for d in /sys/bus/pci/devices/*; do
	diag "  $(basename "$d") $(id_of "$d") class $(cat "$d/class") driver $(driver_of "$(basename "$d")" || echo -) group $(group_of "$(basename "$d")" || echo -)"
done

# --- the IOMMU ------------------------------------------------------------------------
check "an Intel IOMMU is active (/sys/class/iommu/dmar0)" test -d /sys/class/iommu/dmar0
cap=$(cat /sys/class/iommu/dmar0/intel-iommu/cap 2>/dev/null)
if [ -n "$cap" ]; then
	mgaw=$(((0x$cap >> 16 & 0x3f) + 1))
	check "IOMMU MGAW is ${DK_VM_AW_BITS:-48} bits (cap $cap -> $mgaw)" eq "$mgaw" "${DK_VM_AW_BITS:-48}"
else
	not_ok "IOMMU capability register readable"
fi

# --- the devices and the switch --------------------------------------------------------
edu=$(find_dev 1234:11e8)
check "edu 1234:11e8 is in /sys/bus/pci/devices (${edu:-missing})" test -n "$edu"
nvme=$(find_dev 1b36:0010)
check "NVMe 1b36:0010 is in /sys/bus/pci/devices (${nvme:-missing})" test -n "$nvme"
check "edu is at 0000:03:00.0" eq "$edu" 0000:03:00.0
check "NVMe is at 0000:04:00.0" eq "$nvme" 0000:04:00.0

behind_switch() { # BDF: parent downstream port 104c:8233, upstream 104c:8232, root port 1b36:000c
	p=$(readlink -f "/sys/bus/pci/devices/$1")
	dn=$(dirname "$p")
	up=$(dirname "$dn")
	rp=$(dirname "$up")
	diag "  $1: $p"
	eq "$(id_of "$dn")" 104c:8233 && eq "$(id_of "$up")" 104c:8232 && eq "$(id_of "$rp")" 1b36:000c
}
for dev in edu nvme; do
	eval bdf=\$$dev
	if [ -n "$bdf" ]; then
		check "$dev sits behind root port -> x3130 upstream -> xio3130 downstream" behind_switch "$bdf"
	else
		skip "$dev sits behind the switch" "$dev not found"
	fi
done
if [ -n "$edu" ] && [ -n "$nvme" ]; then
	pe=$(dirname "$(readlink -f "/sys/bus/pci/devices/$edu")")
	pn=$(dirname "$(readlink -f "/sys/bus/pci/devices/$nvme")")
	check "edu and NVMe hang off different downstream ports of the same upstream port" \
		eval '[ "$pe" != "$pn" ] && [ "$(dirname "$pe")" = "$(dirname "$pn")" ]'
fi

# --- IOMMU groups ------------------------------------------------------------------------
for dev in edu nvme; do
	eval bdf=\$$dev
	[ -n "$bdf" ] || { skip "$dev has an IOMMU group" "$dev not found"; continue; }
	g=$(group_of "$bdf")
	check "$dev has an IOMMU group (${g:-none}) listing it in /sys/kernel/iommu_groups" \
		test -n "$g" -a -e "/sys/kernel/iommu_groups/$g/devices/$bdf"
	[ -n "$g" ] && diag "  group $g: $(ls /sys/kernel/iommu_groups/$g/devices | tr '\n' ' ')" &&
		diag "  reserved: $(tr '\n' ';' </sys/kernel/iommu_groups/$g/reserved_regions)"
	eval ${dev}_group=\$g
done
if [ -n "$edu" ]; then
	dn=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$edu")")")
	check "edu shares its IOMMU group with its downstream port $dn" eq "$(group_of "$dn")" "$edu_group"
fi
if [ -n "$edu_group" ] && [ -n "$nvme_group" ]; then
	check "edu and NVMe are in different IOMMU groups" eval '[ "$edu_group" != "$nvme_group" ]'
fi

# --- modules ---------------------------------------------------------------------------
if [ "${DK_VM_KERNEL_KIND:-debian}" = iommufd ]; then
	skip "the vfio and mdev modules are loaded" "built into the iommufd kernel (iommufd_kernel.sh checks its drivers)"
else
	for m in irqbypass vfio vfio_iommu_type1 vfio_pci_core vfio_pci mdev; do
		check "module $m is loaded (/sys/module/$m)" test -d "/sys/module/$m"
	done
fi
if [ -d /sys/module/nvme ] && [ -n "$nvme" ]; then
	check "the kernel nvme driver bound the NVMe (no drive attached)" eq "$(driver_of "$nvme")" nvme
fi

# --- the NVMe CMB in BAR2 ----------------------------------------------------------------
if [ -n "$nvme" ]; then
	bar2=$(sed -n 3p "/sys/bus/pci/devices/$nvme/resource")
	set -- $bar2
	size=$(($2 - $1 + 1))
	flags=$3
	diag "  NVMe resource line 2: $bar2"
	check "NVMe BAR2 is 16 MiB ($size bytes)" eq "$size" 16777216
	check "NVMe BAR2 is a memory BAR (flags $flags has IORESOURCE_MEM 0x200)" eval '[ $((flags & 0x200)) -ne 0 ]'
	check "NVMe BAR2 can be mmapped through sysfs (resource2 exists)" test -e "/sys/bus/pci/devices/$nvme/resource2"
else
	skip "NVMe BAR2 is 16 MiB" "NVMe not found"
fi

# --- bind edu to vfio-pci, then give it back ----------------------------------------------
if [ -n "$edu" ] && [ -d /sys/bus/pci/drivers/vfio-pci ]; then
	dev=/sys/bus/pci/devices/$edu
	old=$(driver_of "$edu")
	[ -n "$old" ] && echo "$edu" >"$dev/driver/unbind"
	echo vfio-pci >"$dev/driver_override"
	check "driver_override of edu reads vfio-pci" eq "$(cat "$dev/driver_override")" vfio-pci
	echo "$edu" >/sys/bus/pci/drivers_probe
	check "drivers_probe bound edu to vfio-pci" eq "$(driver_of "$edu")" vfio-pci
	check "/dev/vfio/vfio is a character device" test -c /dev/vfio/vfio
	check "/dev/vfio/$edu_group appeared and is a character device" test -c "/dev/vfio/$edu_group"
	diag "  /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
	echo "$edu" >/sys/bus/pci/drivers/vfio-pci/unbind
	echo >"$dev/driver_override"
	i=0
	while [ -e "/dev/vfio/$edu_group" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
	check "unbinding edu from vfio-pci removes /dev/vfio/$edu_group" test ! -e "/dev/vfio/$edu_group"
	check "edu has no driver and no override again" eval '[ -z "$(driver_of "$edu")" ] && [ "$(cat "$dev/driver_override")" = "(null)" ]'
else
	skip "bind edu to vfio-pci" "edu or the vfio-pci driver is missing"
fi

echo "1..$n"
tap_status
