#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the VM suite's own guest kernel: Debian's linux-source-<series> tarball
# (/usr/src/linux-source-<series>.tar.xz, package linux-source-<series>; scripts/deps.sh
# vm installs it), `make tinyconfig`, the fragment tests/vm/kernel/NAME.config merged over
# it with scripts/kconfig/merge_config.sh, `make olddefconfig`, then `make bzImage
# modules` (modules: no .ko of its own, but Module.symvers, so that tests/vm/kmod can be
# built against the tree). About 3 minutes on two cores, once: the result is cached in
# OUTDIR and reused while the source package's version, the fragment, this script and
# the compiler stay the same.
#
# Usage: tests/vm/kernel/build.sh NAME OUTDIR
#   prints OUTDIR on stdout; OUTDIR then holds bzImage, release (the kernel release,
#   what uname -r says in the guest), config (the final .config) and src/ (the built
#   tree, the KBUILD directory for out-of-tree modules).
# environment: DK_VM_KSRC the source package (default linux-source-6.12),
#   DK_VM_KJOBS make's -j (default 2).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=${1:?usage: build.sh NAME OUTDIR}
out=$(realpath -m "${2:?usage: build.sh NAME OUTDIR}")
err() { echo "kernel/build.sh: $*" >&2; exit 1; }

frag=$here/$name.config
[ -f "$frag" ] || err "no fragment $frag (the kernels are the *.config files in $here)"
pkg=${DK_VM_KSRC:-linux-source-6.12}
tarball=/usr/src/$pkg.tar.xz
jobs=${DK_VM_KJOBS:-2}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || err "DK_VM_KJOBS must be a positive number, not '$jobs'"
[ -f "$tarball" ] || err "no $tarball: install $pkg (scripts/deps.sh vm does, as root)"
for t in make gcc flex bison bc; do
	command -v "$t" >/dev/null || err "$t not found: apt-get install $t (scripts/deps.sh vm does)"
done
[ -f /usr/include/libelf.h ] || err "no libelf.h (objtool needs it): apt-get install libelf-dev"

srcver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || stat -c '%s %Y' "$tarball")
key=$( (echo "$pkg $srcver"; sha256sum <"$frag"; sha256sum <"${BASH_SOURCE[0]}"
	gcc --version | head -1) | sha256sum | cut -c1-16)
if [ -f "$out/bzImage" ] && [ -f "$out/src/Module.symvers" ] &&
	[ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then
	echo "$out"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out"
echo "kernel/build.sh: extracting $tarball for kernel '$name' (once per source version and fragment)" >&2
tar -xJf "$tarball" -C "$out" || err "cannot extract $tarball (disk full? reinstall $pkg)"
mv "$out/$pkg" "$out/src" 2>/dev/null || err "$tarball has no top directory $pkg/"
log=$out/build.log
echo "kernel/build.sh: configuring (tinyconfig + $name.config) and building with -j$jobs; log: $log" >&2
t0=$(date +%s)
(
	set -e
	cd "$out/src"
	make tinyconfig
	KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m .config "$frag"
	make olddefconfig
) >"$log" 2>&1 || { tail -30 "$log" >&2; err "configuring failed (log above, also in $log)"; }

# Every option of the fragment must have survived olddefconfig with its value (a missing
# dependency silently drops one): name the ones that did not.
lost=()
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	grep -qxF "$line" "$out/src/.config" || lost+=("$line")
done <"$frag"
[ ${#lost[@]} -eq 0 ] ||
	err "olddefconfig dropped ${lost[*]} from $name.config (a dependency is missing: add it to $frag)"

make -C "$out/src" -j"$jobs" bzImage modules >>"$log" 2>&1 ||
	{ tail -40 "$log" >&2; err "building the kernel failed (log above, also in $log)"; }
cp "$out/src/arch/x86/boot/bzImage" "$out/bzImage"
cp "$out/src/include/config/kernel.release" "$out/release"
cp "$out/src/.config" "$out/config"
echo "$key" >"$out/.key"
echo "kernel/build.sh: kernel $(cat "$out/release") built in $(($(date +%s) - t0)) s: $out/bzImage" >&2
echo "$out"
