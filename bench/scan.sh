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

. "$(dirname "$0")/common.sh"
bench_setup "$@"
shift "$BENCH_SHIFT"
ninja -C "$build" bench/bench_scan tools/dmakit/dmakit >/dev/null

exec "$build/bench/bench_scan" --cli "$build/tools/dmakit/dmakit" "$@"
