#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run the PCI scan benchmark (bench/scan.c): builds bench_scan and the dmakit
# CLI in a meson build directory, then times dk_pci_scan(), lspci and
# `dmakit devices` on a generated 4096-function sysfs tree.
#
# usage: bench/scan.sh [BUILD_DIR] [bench_scan options...]
#   BUILD_DIR defaults to ./build (created with `meson setup` if missing).
#   Options are passed on, e.g. --runs 20, --keep, --tmpdir /tmp, --lspci PATH.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	build=$1
	shift
fi
case $build in
/*) ;;
*) build=$here/$build ;;
esac

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$here" -Dbench=true
fi
ninja -C "$build" bench/bench_scan tools/dmakit/dmakit >/dev/null

exec "$build/bench/bench_scan" --cli "$build/tools/dmakit/dmakit" "$@"
