#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The dmakit CLI inside the VM testbed (busybox sh): scripts/demo.sh runs it after
# examples/demo, with the CLI staged as /usr/bin/dmakit (tests/vm/run.sh --tool).
# Shows the topology, binds NVMe and edu to vfio-pci, lists NVMe's VFIO regions
# (BAR2: the CMB) and the IOMMU, then gives both devices back.
nvme=0000:04:00.0
edu=0000:03:00.0
status=0
run() { # COMMAND...: echo it, run it, remember a failure
	echo "\$ $*"
	"$@" || { echo "(exit status $?)"; status=1; }
}
run dmakit tree
nvme_drv=$(basename "$(readlink "/sys/bus/pci/devices/$nvme/driver" 2>/dev/null)" 2>/dev/null)
run dmakit bind $nvme
run dmakit bind $edu
run dmakit regions $nvme
run dmakit iommu
run dmakit unbind $edu
if [ -n "$nvme_drv" ] && [ "$nvme_drv" != vfio-pci ]; then
	run dmakit bind $nvme "$nvme_drv"
else
	run dmakit unbind $nvme
fi
exit $status
