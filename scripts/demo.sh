#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The main job: build dmakit and show what it sees.
#  1. the CLI on this host: devices, topology, details of each function;
#  2. the same on a generated sysfs tree with a PCIe switch, ACS and SR-IOV
#     (examples/fixture-tree), so the topology features show on any machine.
# The end-to-end VM testbed (QEMU with an IOMMU, edu and an NVMe CMB) joins
# this script with the VFIO layer (issue 3/6); until then it is not run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
[ -f build/gcc/build.ninja ] || meson setup build/gcc --buildtype=debugoptimized >/dev/null
ninja -C build/gcc >/dev/null
dk=build/gcc/tools/dmakit/dmakit

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "dmakit $($dk --version | tr -d '\n') on $(uname -n): PCI functions"
$dk devices
say "topology"
$dk tree
first=$($dk devices --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["devices"]; print(d[-1]["address"] if d else "")')
if [ -n "$first" ]; then
  say "details of $first"
  $dk show "$first"
fi

say "a generated tree: root port -> switch -> NVMe with ACS, a PF with VFs"
root=$(build/gcc/tests/tools/mkfixture --keep)
trap 'rm -rf "$root"' EXIT
$dk --sysfs-root "$root" tree
read -r dev port < <($dk --sysfs-root "$root" devices --json | python3 -c 'import json,sys; d=[d for d in json.load(sys.stdin)["devices"] if d["class"].startswith("0108")][0]; print(d["address"], d["upstream"])')
$dk --sysfs-root "$root" show "$dev"
say "the switch port above it: ACS control decides whether its peers may talk directly"
$dk --sysfs-root "$root" show "$port"
say "done"
