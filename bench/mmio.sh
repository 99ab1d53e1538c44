#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run the MMIO benchmark (bench/mmio.c) in the test VM: builds bench_mmio
# statically in its own build directory and boots it with tests/vm/run.sh
# (which also builds and loads dk_sparse.ko), then prints the program's
# result lines from the guest console.
#
# usage: bench/mmio.sh [BUILD_DIR] [run.sh options...]
#   BUILD_DIR defaults to build/bench-vm-static (configured with
#   -Dvm_static=true -Dbench=true -Db_lto=false if missing); the VM's files go
#   to BUILD_DIR-vm. Options are passed to run.sh, e.g. --aw-bits 39, -v.
# Exit status: run.sh's (0 passed, 1 failed, 77 VM packages missing).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=build/bench-vm-static
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	build=$1
	shift
fi
case $build in
/*) ;;
*) build=$here/$build ;;
esac
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$here" -Dvm_static=true -Dbench=true -Db_lto=false >/dev/null
fi
ninja -C "$build" bench/bench_mmio >/dev/null

out=$build-vm
rc=0
"$here/tests/vm/run.sh" --out "$out" "$@" "$build/bench/bench_mmio" || rc=$?
# The guest program's own lines (results are '# ' lines).
sed -n '/@@DK-BEGIN bench_mmio/,/@@DK-END bench_mmio/p' "$out/console.log" |
	tr -d '\r' | grep -E '^(ok|not ok|# )' || true
exit $rc
