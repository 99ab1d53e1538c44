#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run the allocator benchmark (bench/malloc.c): builds bench_malloc in a
# meson build directory, then times dk_malloc/dk_free against glibc
# malloc/free, mimalloc and jemalloc (each in a child process with LD_PRELOAD
# of the library meson found: libmimalloc-dev, libjemalloc-dev) and DPDK
# rte_malloc/rte_free (when libdpdk-dev was found at `meson setup` time) in
# one run, and prints Markdown tables of ns per alloc+free pair for every
# pattern and size, the ratios, thread scaling, metadata per block and the
# issue 14 goal table (docs/performance.md). About 1.5 minutes on 2 CPUs.
#
# usage: bench/malloc.sh [BUILD_DIR] [bench_malloc options...]
#   BUILD_DIR defaults to ./build (created with `meson setup` if missing).
#   Options are passed on: --runs N (default 5), --quick, --check, --huge,
#   --no-dpdk, --sizes S,S,..., --only tight,batch,xthread,threads,overhead.
#   Missing columns: scripts/deps.sh bench (as root), then
#   `meson setup --reconfigure BUILD_DIR`. Instruction counts:
#   bench/malloc_callgrind.sh.
set -eu

. "$(dirname "$0")/common.sh"
bench_setup "$@"
shift "$BENCH_SHIFT"
ninja -C "$build" bench/bench_malloc >/dev/null

exec "$build/bench/bench_malloc" "$@"
