#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The main job: build dmakit and show what it does, in two parts.
#  Host:  the CLI on this machine (devices, topology, details of one function), then on a
#         generated sysfs tree with a PCIe switch, ACS and SR-IOV (examples/fixture-tree),
#         so the topology features show on any machine.
#  VM:    the VM testbed (QEMU with an Intel IOMMU, a PCIe switch, edu and an NVMe CMB;
#         docs/vm.md) runs examples/demo, which narrates dmakit end to end (scan, bind to
#         vfio-pci, IOVA mode, the NVMe CMB, the edu driver, DMA from internal and external
#         heaps, heap statistics, clean-up), then the CLI inside the VM
#         (examples/demo-cli.sh). Needs root and the VM packages (scripts/deps.sh vm
#         installs them as root); otherwise the VM part is skipped with the apt-get line.
#
# Environment: DK_SKIP_VM=1 leaves the VM part out; DK_DEMO_AW_BITS=39 boots the VM with
# QEMU's default 39-bit IOMMU (IOVA mode remap) instead of 48 bits (IOVA mode va);
# DK_NINJA_JOBS (default: the number of CPUs) for the builds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/vm-static.sh
# A user's command: warnings do not stop it (scripts/test.sh builds with -Dwerror=true).
vm_static_werror=false
export DK_NINJA_JOBS=${DK_NINJA_JOBS:-$(nproc)}
scripts/deps.sh demo

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
quiet() { # LOG COMMAND...: run it, show its output only when it fails
	local log=$1
	shift
	"$@" >"$log" 2>&1 || { cat "$log"; echo "demo.sh: failed: $* (log: $log)" >&2; return 1; }
}

mkdir -p build
[ -f build/gcc/build.ninja ] || quiet build/gcc-setup.log meson setup build/gcc --buildtype=debugoptimized
quiet build/gcc-build.log ninja -C build/gcc -j "$DK_NINJA_JOBS"
dk=build/gcc/tools/dmakit/dmakit

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

# ---- the VM testbed ----------------------------------------------------------------
if [ "${DK_SKIP_VM:-0}" = 1 ]; then
  say "done (VM part left out: DK_SKIP_VM=1)"
  exit 0
fi
aw=${DK_DEMO_AW_BITS:-48}
say "the VM testbed: packages (QEMU, a kernel, busybox; scripts/deps.sh vm)"
drc=0
scripts/deps.sh vm || drc=$?
if [ $drc -eq 77 ]; then
  echo "demo.sh: skipping the VM part: install the packages named above (as root), then run scripts/demo.sh again"
  say "done (host part only)"
  exit 0
elif [ $drc -ne 0 ]; then
  echo "demo.sh: scripts/deps.sh vm failed (status $drc), see above" >&2
  exit 1
fi
echo "packages present"

say "build the programs the VM runs, statically (build/vm-static: examples/demo and the CLI)"
quiet build/vm-static-build.log vm_static_build vm-demo
echo "build/vm-static/examples/demo, build/vm-static/tools/dmakit/dmakit"

say "boot the VM (IOMMU address width $aw bits) and run examples/demo, then the CLI, in it"
mkdir -p build/vm
tap=build/vm/demo.tap
log=build/vm/demo-run.log
vrc=0
tests/vm/run.sh --aw-bits "$aw" --no-kmod --show-output --timeout 240 \
  --tool build/vm-static/tools/dmakit/dmakit \
  build/vm-static/examples/demo examples/demo-cli.sh >"$tap" 2>"$log" || vrc=$?
grep -E '^run\.sh: (kernel|initramfs)' "$log" || true
if [ $vrc -eq 77 ]; then
  cat "$log"
  echo "demo.sh: skipping the VM part: tests/vm/run.sh cannot run here (see above; it needs root)"
  say "done (host part only)"
  exit 0
fi

# run.sh prints TAP; each program's output is in it as '#   ' lines between
# '--- guest output of NAME ---' and '--- end ---'. Show those as plain text, then the
# result lines.
results=()
inside=0
while IFS= read -r line; do
  case "$line" in
    '#   --- guest output of '*' ---')
      name=${line#'#   --- guest output of '}
      say "inside the VM: ${name% ---}"
      inside=1 ;;
    '#   --- end ---') inside=0 ;;
    '#') [ $inside = 1 ] && echo ;;
    'TAP version'* | 1..*) ;;
    *)
      if [ $inside = 1 ]; then
        printf '%s\n' "${line#'#   '}"
      else
        results+=("$line")
      fi ;;
  esac
done <"$tap"
say "VM run: tests/vm/run.sh's TAP ($tap; console: build/vm/console.log)"
printf '%s\n' "${results[@]}"
if [ $vrc -ne 0 ]; then
  cat "$log"
  echo "demo.sh: the VM part failed (status $vrc): see the output above and build/vm/console.log" >&2
  exit 1
fi
say "done"
