# SPDX-License-Identifier: BSD-3-Clause
# Sourced (from the source root) by scripts/test.sh and scripts/demo.sh: the static
# build of the programs that run inside the VM testbed (docs/vm.md), in build/vm-static.
# The initramfs has busybox and no C library, so the guest programs, examples/demo and
# the CLI are linked statically there (-Dvm_static=true).
#
#   vm_static_build TARGET...   set up build/vm-static once, then build TARGET...
#                               (vm-guest: the VM suite; vm-demo: the demo and the CLI)
#
# DK_NINJA_JOBS: ninja's -j (default: ninja's own choice).
# vm_static_werror: -Dwerror of the setup; true (the project's own builds) unless the
# caller sets it (scripts/demo.sh, a user's command, sets false).
vm_static_dir=build/vm-static

vm_static_build() {
	if [ ! -f "$vm_static_dir/build.ninja" ]; then
		mkdir -p build
		meson setup "$vm_static_dir" --buildtype=debugoptimized -Dvm_static=true -Db_lto=false \
			-Dbench=false -Dwerror="${vm_static_werror:-true}" >build/vm-static-setup.log 2>&1 || {
			cat build/vm-static-setup.log
			return 1
		}
	fi
	ninja -C "$vm_static_dir" ${DK_NINJA_JOBS:+-j "$DK_NINJA_JOBS"} "$@"
}
