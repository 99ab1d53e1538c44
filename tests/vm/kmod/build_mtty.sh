#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build mtty, the kernel's sample mediated device (samples/vfio-mdev/mtty.c), for one
# kernel version: the one file comes from Debian's linux-source-<series> tarball
# (/usr/src/linux-source-<series>.tar.xz; series = the first two numbers of the version)
# and is built out of tree against /lib/modules/<version>/build, like dk_sparse
# (build.sh). The module lives in OUTDIR and is reused while the kernel and the source
# package stay the same (extracting from the tarball takes a while; building, seconds).
#
# Usage: tests/vm/kmod/build_mtty.sh KVER OUTDIR     prints the path of mtty.ko on stdout
set -euo pipefail
kver=${1:?usage: build_mtty.sh KVER OUTDIR}
out=$(realpath -m "${2:?usage: build_mtty.sh KVER OUTDIR}")  # make M= needs an absolute path
kbuild=/lib/modules/$kver/build
err() { echo "kmod/build_mtty.sh: $*" >&2; exit 1; }

series=$(echo "$kver" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
[ -n "$series" ] || err "cannot read the kernel series from version '$kver'"
pkg=linux-source-$series
tarball=/usr/src/$pkg.tar.xz
member=$pkg/samples/vfio-mdev/mtty.c
[ -f "$kbuild/Makefile" ] ||
	err "no kernel build tree at $kbuild: install linux-headers-$kver (scripts/deps.sh vm does)"
[ -f "$tarball" ] || err "no $tarball: install $pkg (scripts/deps.sh vm does)"
command -v make >/dev/null || err "make not found: apt-get install make"

# Keyed by the kernel (version and build) and the source package's version.
srcver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || stat -c '%s %Y' "$tarball")
key=$( (echo "$kver"; cat "$kbuild/include/generated/utsrelease.h" 2>/dev/null
	echo "$pkg $srcver"; echo 'obj-m += mtty.o') | sha256sum | cut -c1-16)
mkdir -p "$out"
if [ -f "$out/mtty.ko" ] && [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then
	echo "$out/mtty.ko"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out/x"
echo "kmod/build_mtty.sh: extracting $member from $tarball (once per source version)" >&2
tar -xJf "$tarball" -C "$out/x" "$member" ||
	err "$tarball has no $member: is $pkg complete? (reinstall it)"
mv "$out/x/$member" "$out/mtty.c"
rm -rf "$out/x"
echo 'obj-m += mtty.o' >"$out/Kbuild"
if ! make -C "$kbuild" M="$out" modules >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	err "building mtty.ko against $kbuild failed (log above, also in $out/build.log)"
fi
[ -f "$out/mtty.ko" ] || err "make succeeded but $out/mtty.ko is missing; see $out/build.log"
echo "$key" >"$out/.key"
echo "$out/mtty.ko"
