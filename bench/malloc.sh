#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run the allocator benchmark (bench/malloc.c): builds bench_malloc in a
# meson build directory, then times dk_malloc/dk_free against glibc
# malloc/free and DPDK rte_malloc/rte_free (when libdpdk-dev was found at
# `meson setup` time) in one run, and prints Markdown tables of ns per
# alloc+free pair, ratios, two-thread scaling and metadata per block.
#
# usage: bench/malloc.sh [BUILD_DIR] [bench_malloc options...]
#   BUILD_DIR defaults to ./build (created with `meson setup` if missing).
#   Options are passed on: --runs N (default 5), --quick, --huge, --no-dpdk.
#   For the DPDK column: apt-get install libdpdk-dev, then
#   `meson setup --reconfigure BUILD_DIR`.
set -eu

. "$(dirname "$0")/common.sh"
bench_setup "$@"
shift "$BENCH_SHIFT"
ninja -C "$build" bench/bench_malloc >/dev/null

exec "$build/bench/bench_malloc" "$@"
