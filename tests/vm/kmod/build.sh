#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the dk_sparse test mdev module (tests/vm/kmod) for one kernel version, out of
# tree against /lib/modules/<version>/build (package linux-headers-<version>), or against
# KBUILD, a built kernel tree (the suite's own kernel: tests/vm/kernel/build.sh).
# The build lives in OUTDIR and is reused while the sources and the kernel stay the same.
#
# Usage: tests/vm/kmod/build.sh KVER OUTDIR [KBUILD]   prints the path of dk_sparse.ko
set -euo pipefail
kver=${1:?usage: build.sh KVER OUTDIR}
out=$(realpath -m "${2:?usage: build.sh KVER OUTDIR}")  # make M= needs an absolute path
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kbuild=${3:-/lib/modules/$kver/build}
err() { echo "kmod/build.sh: $*" >&2; exit 1; }

[ -f "$kbuild/Makefile" ] ||
	err "no kernel build tree at $kbuild: install linux-headers-$kver (scripts/deps.sh vm does), or build the kernel tree given"
command -v make >/dev/null || err "make not found: apt-get install make"

srcs=(Kbuild dk_sparse.c dk_sparse_regs.h)
key=$( (echo "$kver $kbuild"; cat "$kbuild/include/generated/utsrelease.h" "$kbuild/Module.symvers" 2>/dev/null
	cd "$here" && sha256sum "${srcs[@]}") | sha256sum | cut -c1-16)
mkdir -p "$out"
if [ -f "$out/dk_sparse.ko" ] && [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then
	echo "$out/dk_sparse.ko"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out"
for f in "${srcs[@]}"; do cp "$here/$f" "$out/$f"; done
if ! make -C "$kbuild" M="$out" modules >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	err "building dk_sparse.ko against $kbuild failed (log above, also in $out/build.log)"
fi
[ -f "$out/dk_sparse.ko" ] || err "make succeeded but $out/dk_sparse.ko is missing; see $out/build.log"
echo "$key" >"$out/.key"
echo "$out/dk_sparse.ko"
