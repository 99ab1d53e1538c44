# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the bench/*.sh runners. `bench_setup "$@"` reads an optional
# BUILD_DIR first argument (default ./build; configured with
# `meson setup -Dbench=true` if missing) and sets $here (the repository),
# $build (absolute build dir) and $BENCH_SHIFT (arguments it consumed: the
# caller shifts them off before passing the rest to the benchmark).
bench_setup() {
	here=$(cd "$(dirname "$0")/.." && pwd)
	build=build
	BENCH_SHIFT=0
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		build=$1
		BENCH_SHIFT=1
	fi
	case $build in
	/*) ;;
	*) build=$here/$build ;;
	esac
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" "$here" -Dbench=true
	fi
}
