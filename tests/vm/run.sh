#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run guest test programs in a QEMU (TCG) VM with an Intel IOMMU, a PCIe switch, an edu
# device, an NVMe controller with a 16 MiB CMB, the dk_sparse test mdev parent (our own
# module, tests/vm/kmod), the kernel's sample mdev mtty and mdevctl; print one TAP stream.
# See docs/vm.md.
#
# Usage: tests/vm/run.sh [--kernel debian|iommufd] [--aw-bits 39|48] [--cpu MODEL]
#                        [--timeout S] [--test-timeout S] [--show-output] [--tool FILE]
#                        [-v] PROGRAM|DIR...
set -euo pipefail

usage() {
	cat <<'EOF'
usage: tests/vm/run.sh [options] PROGRAM|DIR...

Boots the dmakit test VM once and runs each PROGRAM (a static binary, a dynamic binary
whose libraries are copied along, or a busybox-sh script) inside it, in order, as root.
A DIR stands for the executable files in it, sorted by name. Prints TAP on stdout.

options:
  --kernel K         the guest kernel: debian (default: Debian's image and modules from
                     /boot and /lib/modules) or iommufd (the suite's own kernel, built
                     from linux-source-6.12 with tests/vm/kernel/iommufd.config by
                     tests/vm/kernel/build.sh, cached in OUT/kernel-iommufd: /dev/iommu,
                     the VFIO device cdev, vfio-pci, mdev, mtty and nvme built in, so
                     there are no stock modules to load; dk_sparse is built against it)
  --aw-bits N        IOMMU address width: 48 (default) or 39 (QEMU's default)
  --cpu MODEL        QEMU's -cpu (default max: AuthenticAMD family 15 under TCG; EPYC is
                     family 0x17, the CPU rule of P2P through the host bridge); the
                     guest programs see it as DK_VM_CPU; a model other than max boots
                     with mitigations=off (no SRSO warning in the kernel log)
  --timeout S        hard timeout for the whole VM, in seconds (default 300)
  --test-timeout S   timeout of each program in the guest (default 120)
  --append ARGS      extra kernel command-line arguments
  --module KO        an extra kernel module for the guest, loaded after the stock ones
                     (repeatable; its dependencies must be among the stock modules)
  --no-kmod          leave out dk_sparse, the test mdev module (tests/vm/kmod), which is
                     otherwise built for the guest kernel (cached in OUT/kmod-<kver>)
                     and loaded after vfio and mdev
  --no-mtty          leave out mtty, the kernel's sample mdev, which is otherwise built
                     from linux-source-<series> (cached in OUT/mtty-<kver>) and loaded
                     after dk_sparse
  --tool FILE        an executable copied to the guest's /usr/bin (a dynamic one with
                     its libraries) for the programs to call; not run itself (repeatable)
  --show-output      print every program's output in the TAP as '#' lines, also when
                     it passed (a failed program's output is always printed)
  --out DIR          cache and log directory (default build/vm under the source tree)
  -v, --verbose      copy the guest console to stderr while the VM runs
  -h, --help         this text

environment: DK_VM_KVER picks the Debian kernel version (default: the newest in
/lib/modules that has /boot/vmlinuz-<version>), DK_VM_QEMU the QEMU binary,
DK_VM_KSRC and DK_VM_KJOBS the source package and make -j of --kernel iommufd.
exit status: 0 all passed, 1 a case failed, 2 usage, 77 missing packages (not root).
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
aw_bits=48
kernel=debian
cpu=max
vm_timeout=300
test_timeout=120
append=""
out="$src/build/vm"
verbose=0
kmod=1
mtty=1
extra_mods=()
tools=()
show_output=()
progs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=${2:?}; shift 2 ;;
	--kernel=*) kernel=${1#*=}; shift ;;
	--aw-bits) aw_bits=${2:?}; shift 2 ;;
	--aw-bits=*) aw_bits=${1#*=}; shift ;;
	--cpu) cpu=${2:?}; shift 2 ;;
	--cpu=*) cpu=${1#*=}; shift ;;
	--timeout) vm_timeout=${2:?}; shift 2 ;;
	--timeout=*) vm_timeout=${1#*=}; shift ;;
	--test-timeout) test_timeout=${2:?}; shift 2 ;;
	--test-timeout=*) test_timeout=${1#*=}; shift ;;
	--append) append=${2:?}; shift 2 ;;
	--append=*) append=${1#*=}; shift ;;
	--out) out=${2:?}; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--module) extra_mods+=("${2:?}"); shift 2 ;;
	--module=*) extra_mods+=("${1#*=}"); shift ;;
	--no-kmod) kmod=0; shift ;;
	--no-mtty) mtty=0; shift ;;
	--tool) tools+=("${2:?}"); shift 2 ;;
	--tool=*) tools+=("${1#*=}"); shift ;;
	--show-output) show_output=(--show-output); shift ;;
	-v | --verbose) verbose=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; progs+=("$@"); break ;;
	-*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) progs+=("$1"); shift ;;
	esac
done
case "$aw_bits" in 39 | 48) ;; *) echo "run.sh: --aw-bits must be 39 or 48" >&2; exit 2 ;; esac
case "$kernel" in debian | iommufd) ;; *) echo "run.sh: --kernel must be debian or iommufd" >&2; exit 2 ;; esac
case "$cpu" in
"" | *[!A-Za-z0-9_.,=+-]*) echo "run.sh: --cpu takes a QEMU CPU model name such as max or EPYC" >&2; exit 2 ;;
esac
for n in "$vm_timeout" "$test_timeout"; do
	[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || { echo "run.sh: bad timeout '$n'" >&2; exit 2; }
done
[ ${#progs[@]} -gt 0 ] || { usage >&2; exit 2; }

log() { echo "run.sh: $*" >&2; }

# ---------------------------------------------------------------------------------------
# 1. Packages: scripts/deps.sh vm installs them when root (QEMU, the kernel image and its
#    headers, busybox-static, cpio, gzip, make, gcc) or names them and exits 77.
# ---------------------------------------------------------------------------------------
drc=0
"$src/scripts/deps.sh" vm >&2 || drc=$?
if [ $drc -eq 77 ]; then
	echo "1..0 # SKIP the VM suite needs packages (see the message above)"
	exit 77
elif [ $drc -ne 0 ]; then
	log "scripts/deps.sh vm failed (status $drc): the VM cannot be prepared"
	exit 1
fi

# ---------------------------------------------------------------------------------------
# 2. The kernel: Debian's, the newest version in /lib/modules that has an image in /boot;
#    or (--kernel iommufd) the suite's own, built once and cached (tests/vm/kernel/build.sh).
# ---------------------------------------------------------------------------------------
kbuild=""   # the build tree for our own modules (empty: Debian's headers)
if [ "$kernel" = iommufd ]; then
	kdir=$("$here/kernel/build.sh" iommufd "$out/kernel-iommufd") ||
		{ log "cannot build the iommufd guest kernel (see above)"; exit 1; }
	kimage=$kdir/bzImage
	kver=$(cat "$kdir/release")
	moddir=""
	if grep -qx 'CONFIG_MODULES=y' "$kdir/config"; then
		kbuild=$kdir/src
	elif [ $kmod -eq 1 ]; then
		log "note: kernel $kver has no module support: dk_sparse is left out of this boot (its tests skip)"
		kmod=0
	fi
	if [ $mtty -eq 1 ]; then
		grep -qx 'CONFIG_SAMPLE_VFIO_MDEV_MTTY=y' "$kdir/config" ||
			{ log "kernel $kver lacks CONFIG_SAMPLE_VFIO_MDEV_MTTY=y: fix tests/vm/kernel/iommufd.config (or --no-mtty)"; exit 1; }
		mtty=0   # built in: nothing to build or load
	fi
else
	kver=${DK_VM_KVER:-}
	if [ -z "$kver" ]; then
		for d in $(ls -1 /lib/modules 2>/dev/null | sort -rV); do
			if [ -f "/boot/vmlinuz-$d" ] && [ -f "/lib/modules/$d/modules.dep" ]; then
				kver=$d
				break
			fi
		done
	fi
	[ -n "$kver" ] || { log "no kernel: no /lib/modules/<v> with /boot/vmlinuz-<v> (install linux-image-amd64)"; exit 1; }
	kimage=/boot/vmlinuz-$kver
	moddir=/lib/modules/$kver
	if [ ! -r "$kimage" ]; then
		log "$kimage is not readable (Debian installs it mode 0600): run as root, or chmod a+r it"
		echo "1..0 # SKIP $kimage is not readable by this user"
		exit 77
	fi
fi

qemu=${DK_VM_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || { log "$qemu not found: apt-get install qemu-system-x86, or point DK_VM_QEMU at a QEMU binary"; exit 1; }
busybox=/bin/busybox
[ -x "$busybox" ] || { log "$busybox not found (apt-get install busybox-static)"; exit 1; }
if ! file -b "$busybox" 2>/dev/null | grep -q "statically linked" && ldd "$busybox" >/dev/null 2>&1; then
	log "$busybox is dynamically linked; its libraries are copied along (busybox-static is better)"
fi

# ---------------------------------------------------------------------------------------
# 3. Guest modules with their dependencies, from modules.dep, in load order.
#    name?  = optional (absent in some kernels, e.g. vfio_virqfd merged into vfio in 6.2).
# ---------------------------------------------------------------------------------------
want_mods=(irqbypass vfio vfio_virqfd? vfio_iommu_type1 vfio-pci-core vfio-pci mdev nvme?)
[ -n "$moddir" ] || want_mods=()   # --kernel iommufd: all built in
declare -A dep_of=() path_of=() loaded=()
if [ -n "$moddir" ]; then
	while IFS= read -r line; do
		m=${line%%:*}
		base=${m##*/}
		base=${base%%.ko*}
		base=${base//-/_}
		path_of[$base]=$m
		dep_of[$m]=${line#*:}
	done <"$moddir/modules.dep"
fi
order=()
add_mod() { # PATH: its deps (recursively) first, then itself
	local p=$1 d
	[ -z "${loaded[$p]:-}" ] || return 0
	loaded[$p]=1
	for d in ${dep_of[$p]:-}; do add_mod "$d"; done
	order+=("$p")
}
for w in "${want_mods[@]}"; do
	opt=0
	[[ "$w" == *\? ]] && { opt=1; w=${w%\?}; }
	key=${w//-/_}
	if [ -n "${path_of[$key]:-}" ]; then
		add_mod "${path_of[$key]}"
	elif grep -Eq "/${w}\.ko|/${key}\.ko" "$moddir/modules.builtin" 2>/dev/null; then
		:   # built into the kernel
	elif [ $opt -eq 1 ]; then
		log "note: module $w is not in $kver (optional, skipped)"
	else
		log "module $w is neither in $moddir/modules.dep nor built in"
		exit 1
	fi
done

# Our own modules: dk_sparse, built against this kernel's headers, then mtty (the
# kernel's sample, from linux-source-<series>), then any --module.
if [ $mtty -eq 1 ]; then
	ko=$("$here/kmod/build_mtty.sh" "$kver" "$out/mtty-$kver") || { log "cannot build mtty for $kver (see above; --no-mtty leaves it out)"; exit 1; }
	extra_mods=("$ko" "${extra_mods[@]}")
fi
if [ $kmod -eq 1 ]; then
	ko=$("$here/kmod/build.sh" "$kver" "$out/kmod-$kver" $kbuild) || { log "cannot build tests/vm/kmod for $kver (see above)"; exit 1; }
	extra_mods=("$ko" "${extra_mods[@]}")
fi
for ko in "${extra_mods[@]}"; do
	case "$ko" in *.ko) ;; *) log "--module $ko: expected a .ko file"; exit 2 ;; esac
	[ -f "$ko" ] || { log "--module $ko: no such file"; exit 2; }
done

# ---------------------------------------------------------------------------------------
# 4. The initramfs: staged in build/vm/stage, packed to build/vm/initramfs-<hash>.cpio.gz
#    and reused while the staged tree (busybox, modules, /init, the programs) is the same.
# ---------------------------------------------------------------------------------------
mkdir -p "$out/logs"
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc/dk,tests,lib/modules/"$kver"}
cp "$busybox" "$stage/bin/busybox"
# Every applet as a relative symlink to /bin/busybox (like busybox --install -s).
while IFS= read -r a; do
	case "$a" in bin/busybox | */*/*/* | "") continue ;; */*) ;; *) continue ;; esac  # linuxrc
	dir=${a%/*}
	case "$dir" in bin) rel=busybox ;; sbin) rel=../bin/busybox ;; *) rel=../../bin/busybox ;; esac
	[ -e "$stage/$a" ] || ln -s "$rel" "$stage/$a"
done < <("$busybox" --list-full)
[ -e "$stage/bin/sh" ] || ln -s busybox "$stage/bin/sh"
install -m 0755 "$here/init.sh" "$stage/init"
install -m 0644 "$here/guest/lib/tap.sh" "$stage/etc/dk/tap.sh" # sourced by the guest shell checks

copy_libs() { # FILE: copy the shared libraries of a dynamic ELF file to the same paths
	local f=$1 lib
	ldd "$f" >/dev/null 2>&1 || return 0
	for lib in $(ldd "$f" | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+ \(/ { print $1 }'); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}
copy_libs "$stage/bin/busybox"

: >"$stage/etc/dk/modules"
for p in "${order[@]}"; do
	dst=$stage/lib/modules/$kver/${p%.ko*}.ko
	mkdir -p "$(dirname "$dst")"
	case "$p" in
	*.ko) cp "$moddir/$p" "$dst" ;;
	*.ko.xz) xz -dc "$moddir/$p" >"$dst" ;;
	*.ko.zst) zstd -qdc "$moddir/$p" >"$dst" ;;
	*.ko.gz) gzip -dc "$moddir/$p" >"$dst" ;;
	*) log "unknown module format: $p"; exit 1 ;;
	esac
	echo "${p%.ko*}.ko" >>"$stage/etc/dk/modules"
done
mkdir -p "$stage/lib/modules/$kver/extra"
for ko in "${extra_mods[@]}"; do
	name=$(basename "$ko")
	[ -e "$stage/lib/modules/$kver/extra/$name" ] && { log "two modules named $name"; exit 2; }
	cp "$ko" "$stage/lib/modules/$kver/extra/$name"
	echo "extra/$name" >>"$stage/etc/dk/modules"
done

names=()
add_prog() { # FILE
	local f=$1 name
	name=$(basename "$f")
	[ -e "$stage/tests/$name" ] && { log "two programs named $name"; exit 2; }
	cp -L "$f" "$stage/tests/$name"
	chmod 0755 "$stage/tests/$name"
	copy_libs "$f"
	names+=("$name")
	echo "$name" >>"$stage/etc/dk/tests"
}
: >"$stage/etc/dk/tests"
for p in "${progs[@]}"; do
	if [ -d "$p" ]; then
		while IFS= read -r f; do
			[ -f "$f" ] && [ -x "$f" ] && add_prog "$f"
		done < <(find "$p" -maxdepth 1 -type f | sort)
	elif [ -f "$p" ]; then
		add_prog "$p"
	else
		log "no such program: $p"
		exit 2
	fi
done
[ ${#names[@]} -gt 0 ] || { log "no programs to run"; exit 2; }
for t in "${tools[@]}"; do
	[ -f "$t" ] && [ -x "$t" ] || { log "--tool $t: not an executable file"; exit 2; }
	[ -e "$stage/usr/bin/$(basename "$t")" ] && { log "--tool $t: /usr/bin/$(basename "$t") exists in the guest"; exit 2; }
	cp -L "$t" "$stage/usr/bin/$(basename "$t")"
	chmod 0755 "$stage/usr/bin/$(basename "$t")"
	copy_libs "$t"
done

# mdevctl (Debian package mdevctl; libc and libgcc_s only): the guest checks compare it
# with dmakit. It refuses to run without its callout and notifier directories.
mdevctl=$(command -v mdevctl 2>/dev/null || true)
if [ -n "$mdevctl" ]; then
	cp -L "$mdevctl" "$stage/usr/bin/mdevctl"
	ln -s mdevctl "$stage/usr/bin/lsmdev"
	copy_libs "$mdevctl"
	mkdir -p "$stage/etc/mdevctl.d/scripts.d/callouts" "$stage/etc/mdevctl.d/scripts.d/notifiers"
else
	log "note: mdevctl not found (apt-get install mdevctl; scripts/deps.sh vm does): the guest has none"
fi

hash=$(cd "$stage" && find . \( -type f -o -type l \) -printf '%p %m %l\n' | LC_ALL=C sort |
	{ cat; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
initrd=$out/initramfs-$hash.cpio.gz
if [ -f "$initrd" ]; then
	log "initramfs up to date: $initrd"
else
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 | gzip -6n) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	# Keep the newest few archives only.
	ls -1t "$out"/initramfs-*.cpio.gz | tail -n +5 | xargs -r rm -f
	log "initramfs built: $initrd ($(du -k "$initrd" | cut -f1) KiB, ${#order[@]} modules, ${#names[@]} programs)"
fi

# ---------------------------------------------------------------------------------------
# 5. Boot. KVM is not used on purpose: -enable-kvm hangs on these machines.
# ---------------------------------------------------------------------------------------
iommu="intel-iommu,caching-mode=on"
[ "$aw_bits" = 48 ] && iommu="$iommu,aw-bits=48"  # 39 is QEMU's default
cmdline="console=ttyS0 quiet panic=-1 intel_iommu=on dk.kernel=$kernel dk.aw_bits=$aw_bits dk.cpu=$cpu"
cmdline="$cmdline dk.test_timeout=$test_timeout"
# A CPU model other than max (EPYC: AMD family 0x17) has the SRSO bug and no microcode for
# it under TCG: the kernel warns ("Speculative Return Stack Overflow: WARNING: ...") unless
# mitigations are off, and the kernel-log check would count that warning.
[ "$cpu" = max ] || cmdline="$cmdline mitigations=off"
[ -z "$append" ] || cmdline="$cmdline $append"
qemu_args=(
	-M q35 -m 1024 -accel tcg -cpu "$cpu" -smp 2
	-device "$iommu"
	-device pcie-root-port,id=rp1,chassis=1,slot=1
	-device x3130-upstream,id=up1,bus=rp1
	-device xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=1
	-device xio3130-downstream,id=dn2,bus=up1,chassis=2,slot=2
	-device edu,bus=dn1,dma_mask=0xffffffffffffffff
	-device nvme,serial=dk0,cmb_size_mb=16,bus=dn2
	-device xio3130-downstream,id=dn3,bus=up1,chassis=2,slot=3
	-device nvme,serial=dk1,bus=dn3,addr=0.0,multifunction=on
	-device nvme,serial=dk2,bus=dn3,addr=0.1
	-device pcie-root-port,id=rp2,chassis=3,slot=1
	-device pci-testdev,bus=rp2,addr=0.0,multifunction=on
	-device pci-testdev,bus=rp2,addr=0.1
	-nic none
	-kernel "$kimage" -initrd "$initrd" -append "$cmdline"
	-nographic -no-reboot
)
stamp=$(date +%Y%m%d-%H%M%S)
console=$out/logs/console-$stamp.log
log "kernel $kver ($kernel), aw-bits $aw_bits, ${#order[@]}+${#extra_mods[@]} modules, ${#names[@]} program(s), timeout ${vm_timeout} s; console: $console"
log "kernel $kver, aw-bits $aw_bits, cpu $cpu, ${#order[@]}+${#extra_mods[@]} modules, ${#names[@]} program(s), timeout ${vm_timeout} s; console: $console"
printf '%q ' "$qemu" "${qemu_args[@]}" >"$out/qemu-cmdline.txt"
echo >>"$out/qemu-cmdline.txt"

t0=$(date +%s.%N)
qrc=0
if [ $verbose -eq 1 ]; then
	timeout -k 5 "$vm_timeout" "$qemu" "${qemu_args[@]}" </dev/null 2>&1 | tee "$console" >&2 || qrc=${PIPESTATUS[0]}
else
	timeout -k 5 "$vm_timeout" "$qemu" "${qemu_args[@]}" </dev/null >"$console" 2>&1 || qrc=$?
fi
t1=$(date +%s.%N)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
cp "$console" "$out/console.log"
ls -1t "$out"/logs/console-*.log | tail -n +21 | xargs -r rm -f
# QEMU may leave the terminal in raw mode when killed.
[ -t 0 ] && stty sane 2>/dev/null || true

set +e
python3 "$here/console2tap.py" --log "$console" --qemu-rc "$qrc" --timeout "$test_timeout" \
	--vm-timeout "$vm_timeout" --wall "$wall" "${show_output[@]}" "${names[@]}" | tee "$out/vm.tap"
rc=${PIPESTATUS[0]}
exit "$rc"
