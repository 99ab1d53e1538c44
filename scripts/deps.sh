#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian packages a dmakit job needs, or say what to install.
# Usage: scripts/deps.sh build|test|bench|demo|vm
#
#   test, bench: also the allocators bench/malloc compares with and valgrind for its
#       instruction counts (bench/malloc_callgrind.sh): libmimalloc-dev, libjemalloc-dev,
#       valgrind. Installed when root; otherwise named, and the run goes on without them
#       (bench_malloc leaves those columns out).
#   vm: what the VM suite (tests/vm/run.sh, docs/vm.md) needs: QEMU, a kernel image with
#       its modules, busybox, libc6-dev (libc.a: the guest programs are static), mdevctl,
#       the headers of that same kernel to build the test mdev module, and the kernel
#       source of its series (linux-source-6.1) for the mtty sample, and what the suite's
#       own iommufd guest kernel is built from (tests/vm/kernel/build.sh: linux-source-6.12,
#       flex, bison, bc, libelf-dev; DK_VM_KSRC names another source package). The kernel version
#       is read from /lib/modules after the image is
#       installed (DK_VM_KVER overrides it), never hard-coded. Exit status 77 when
#       packages are missing and this is not root: the VM suite is then skipped.
set -euo pipefail

mode=${1:-build}
# pci.ids: the PCI ID database the names come from (tests/tools/test_lspci.sh compares
# them with lspci's; pciutils pulls it in through libpci3, named here all the same).
want=(meson ninja-build gcc pkg-config python3 pciutils pci.ids)
optional=()
case "$mode" in
  build|demo) ;;
  test) want+=(clang libclang-rt-14-dev)
        optional=(libmimalloc-dev libjemalloc-dev valgrind) ;;
  bench) optional=(libmimalloc-dev libjemalloc-dev valgrind) ;;
  vm) want=(qemu-system-x86 linux-image-amd64 busybox-static cpio gzip python3 make gcc libc6-dev mdevctl
           "${DK_VM_KSRC:-linux-source-6.12}" flex bison bc libelf-dev xz-utils) ;;
  *) echo "usage: $0 build|test|bench|demo|vm" >&2; exit 2 ;;
esac

missing_of() { # PACKAGE... -> those not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

# The kernel the VM boots: DK_VM_KVER, else the newest version in /lib/modules that has
# /boot/vmlinuz-<version> and a modules.dep (tests/vm/run.sh picks it the same way).
vm_kver() {
  local d
  if [ -n "${DK_VM_KVER:-}" ]; then echo "$DK_VM_KVER"; return 0; fi
  for d in $(ls -1 /lib/modules 2>/dev/null | sort -rV); do
    if [ -f "/boot/vmlinuz-$d" ] && [ -f "/lib/modules/$d/modules.dep" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

updated=0
apt_install() { # PACKAGE...
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists once per run, when they are missing or older than a day.
  if [ $updated -eq 0 ] &&
     [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mtime -1 2>/dev/null | head -1)" ]; then
    apt-get update -qq
  fi
  updated=1
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

not_root() { # CODE PACKAGE...
  local code=$1
  shift
  echo "dmakit: missing packages: $*" >&2
  echo "dmakit: install them with: sudo apt-get install -y --no-install-recommends $*" >&2
  exit "$code"
}

mapfile -t missing < <(missing_of "${want[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    [ "$mode" = vm ] && not_root 77 "${missing[@]}"
    not_root 1 "${missing[@]}"
  fi
  echo "dmakit: installing ${missing[*]}"
  apt_install "${missing[@]}"
fi
if [ ${#optional[@]} -gt 0 ]; then
  mapfile -t omissing < <(missing_of "${optional[@]}")
  if [ ${#omissing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      echo "dmakit: installing ${omissing[*]} (bench/malloc's columns and instruction counts)"
      apt_install "${omissing[@]}"
    else
      echo "dmakit: optional, for bench/malloc's mimalloc/jemalloc columns and instruction" \
           "counts: sudo apt-get install -y --no-install-recommends ${omissing[*]}" >&2
    fi
  fi
fi
[ "$mode" = vm ] || exit 0

# The VM suite also needs the headers of the kernel it boots (for tests/vm/kmod) and the
# source of its series (linux-source-<major.minor>: the mtty sample, tests/vm/kmod/build_mtty.sh).
kver=$(vm_kver) || {
  echo "dmakit: no kernel for the VM: no /lib/modules/<version> with /boot/vmlinuz-<version>;" \
       "install linux-image-amd64" >&2
  exit 1
}
src_pkg=linux-source-$(echo "$kver" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
kmissing=()
[ -f "/lib/modules/$kver/build/Makefile" ] || kmissing+=("linux-headers-$kver")
[ -f "/usr/src/$src_pkg.tar.xz" ] || kmissing+=("$src_pkg")
[ ${#kmissing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  not_root 77 "${kmissing[@]}"
fi
echo "dmakit: installing ${kmissing[*]} (for the test mdev modules of the VM suite)"
apt_install "${kmissing[@]}"
[ -f "/lib/modules/$kver/build/Makefile" ] || {
  echo "dmakit: linux-headers-$kver is installed but /lib/modules/$kver/build/Makefile is missing" >&2
  exit 1
}
[ -f "/usr/src/$src_pkg.tar.xz" ] || {
  echo "dmakit: $src_pkg is installed but /usr/src/$src_pkg.tar.xz is missing" >&2
  exit 1
}
