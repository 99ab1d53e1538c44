#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite: unit + CLI tests (gcc), release and debugoptimized builds of
# the library, CLI, examples and benchmarks with gcc and clang (warnings are errors in
# every build here), the same unit tests under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer, every
# fuzz target for a bounded time (clang/libFuzzer), and the VM suite (guest programs
# in QEMU with an IOMMU, booted twice: IOMMU address width 48 and 39; docs/vm.md).
# Installs its packages when run as root. Last line: "N passed, N failed".
# Exit status non-zero on any failure.
#
# Environment: DK_FUZZ_SECONDS (default 30) per fuzz target;
#              DK_SKIP_BUILDS=1 / DK_SKIP_FUZZ=1 / DK_SKIP_ASAN=1 / DK_SKIP_TSAN=1 /
#              DK_SKIP_VM=1 to leave those parts out.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
. scripts/vm-static.sh   # vm_static_build: the static build of the VM's programs
out=build/test-results
mkdir -p "$out"
rm -f "$out"/*.tap "$out"/*.json

scripts/deps.sh test || exit 1

status=0
step() { echo "== $*"; }

# 1. Regular build, unit + CLI tests.
step "build (gcc)"
if [ ! -f build/gcc/build.ninja ]; then
  meson setup build/gcc --buildtype=debugoptimized -Dwerror=true >build/gcc-setup.log 2>&1 || { cat build/gcc-setup.log; exit 1; }
fi
ninja -C build/gcc || exit 1
step "unit and CLI tests"
meson test -C build/gcc --no-rebuild --print-errorlogs --num-processes 2 || status=1
cp build/gcc/meson-logs/testlog.json "$out/gcc.json"

# 2. The builds users run: gcc and clang, release and debugoptimized (build/gcc above is
# gcc debugoptimized), b_lto as by default, tests off to keep the time down (about a
# minute on two cores). One TAP case per build in builds.tap: a build that fails is a
# failed case with the end of its log.
if [ "${DK_SKIP_BUILDS:-0}" != 1 ]; then
  tap=$out/builds.tap
  echo "1..3" >"$tap"
  k=0
  for cfg in gcc:release clang:release clang:debugoptimized; do
    cc=${cfg%%:*} bt=${cfg#*:} k=$((k + 1))
    dir=build/$cc-$bt log=build/$cc-$bt.log
    step "build ($cc, $bt)"
    if { [ -f "$dir/build.ninja" ] || CC=$cc meson setup "$dir" --buildtype="$bt" -Dwerror=true \
           -Dtests=false; } >"$log" 2>&1 && ninja -C "$dir" >>"$log" 2>&1; then
      echo "ok $k - build: $cc $bt ($dir)" >>"$tap"
    else
      { echo "not ok $k - build: $cc $bt ($dir; log: $log)"; tail -25 "$log" | sed 's/^/#   /'; } >>"$tap"
      tail -25 "$log"
      status=1
    fi
  done
fi

# 3. Sanitizers.
if [ "${DK_SKIP_ASAN:-0}" != 1 ]; then
  step "build (ASan + UBSan)"
  if [ ! -f build/asan/build.ninja ]; then
    meson setup build/asan --buildtype=debug -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
      -Dbench=false >build/asan-setup.log 2>&1 || { cat build/asan-setup.log; exit 1; }
  fi
  ninja -C build/asan || exit 1
  step "unit tests under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build/asan --no-rebuild --print-errorlogs --suite unit --num-processes 2 || status=1
  cp build/asan/meson-logs/testlog.json "$out/asan.json"
fi

# 4. ThreadSanitizer: the unit tests again (threads hammer the allocator,
# lookups race with layout changes).
if [ "${DK_SKIP_TSAN:-0}" != 1 ]; then
  step "build (TSan)"
  if [ ! -f build/tsan/build.ninja ]; then
    meson setup build/tsan --buildtype=debugoptimized -Dwerror=true -Db_sanitize=thread -Db_lundef=false \
      -Db_lto=false -Dbench=false >build/tsan-setup.log 2>&1 || { cat build/tsan-setup.log; exit 1; }
  fi
  ninja -C build/tsan || exit 1
  step "unit tests under TSan"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    meson test -C build/tsan --no-rebuild --print-errorlogs --suite unit --num-processes 2 || status=1
  cp build/tsan/meson-logs/testlog.json "$out/tsan.json"
fi

# 5. Fuzzing.
if [ "${DK_SKIP_FUZZ:-0}" != 1 ]; then
  step "build (clang + libFuzzer)"
  if [ ! -f build/fuzz/build.ninja ]; then
    CC=clang meson setup build/fuzz --buildtype=debugoptimized -Dwerror=true -Dfuzz=true -Db_lto=false \
      -Db_sanitize=address,undefined -Db_lundef=false -Dtests=false -Dbench=false \
      >build/fuzz-setup.log 2>&1 || { cat build/fuzz-setup.log; exit 1; }
  fi
  ninja -C build/fuzz || exit 1
  step "fuzzing ${DK_FUZZ_SECONDS:-30} s per target"
  fuzz/run.sh build/fuzz "${DK_FUZZ_SECONDS:-30}" | tee "$out/fuzz.tap" || status=1
fi

# 6. The VM suite. The guest programs (tests/vm/meson.build) are linked statically in
# their own build; each boot runs all of them plus the shell checks in tests/vm/guest.
# A boot that fails or hangs is reported as failed cases with the guest output.
vm_fail() { # TAPFILE LOG MESSAGE: a failure that left no TAP of its own
  { echo "not ok 1 - $3"; sed 's/^/#   /' "$2" 2>/dev/null | tail -40; } >>"$1"
  cat "$1"
}
# vm_boot NAME TITLE RUN.SH-OPTIONS... -- PROGRAMS...: one boot, its TAP in
# $out/vm-NAME.tap, run.sh's messages in build/vm/run-NAME.log.
vm_boot() {
  local name=$1 title=$2 opts=() tap log t0 vrc=0
  shift 2
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  step "VM suite: $title ($# programs)"
  tap=$out/vm-$name.tap
  log=build/vm/run-$name.log
  t0=$SECONDS
  tests/vm/run.sh "${opts[@]}" --timeout 240 --tool build/vm-static/tools/dmakit/dmakit \
    "$@" >"$tap" 2>"$log" || vrc=$?
  grep -E '^run\.sh: (kernel|initramfs)' "$log" || true
  if [ $vrc -eq 77 ]; then
    cat "$log"
    echo "ok 1 - vm $name # SKIP packages missing (see above)" >"$tap"
  elif ! grep -qE '^(ok|not ok)\b' "$tap"; then
    vm_fail "$tap" "$log" "vm $name: tests/vm/run.sh failed (status $vrc) before the guest ran (its messages follow)"
    status=1
  else
    cat "$tap"
    [ $vrc -eq 0 ] || { status=1; cat "$log"; }
  fi
  echo "== VM suite $name: $((SECONDS - t0)) s"
}
if [ "${DK_SKIP_VM:-0}" != 1 ]; then
  step "VM suite: packages"
  drc=0
  scripts/deps.sh vm || drc=$?
  if [ $drc -eq 77 ]; then
    echo "ok 1 - vm suite # SKIP packages missing (see the apt-get line above)" >"$out/vm.tap"
  elif [ $drc -ne 0 ]; then
    echo "not ok 1 - vm suite: scripts/deps.sh vm failed (status $drc); see above" >"$out/vm.tap"
    status=1
  else
    step "build (static guest programs)"
    mkdir -p build/vm
    vm_static_build vm-guest || exit 1
    mapfile -t vm_progs < <(find build/vm-static/tests/vm -maxdepth 1 -type f -name 'vm_*' -perm -u+x | sort
                            find tests/vm/guest -maxdepth 1 -type f -name '*.sh' | sort)
    # Boots: Debian's kernel at both IOMMU widths; the suite's own iommufd kernel
    # (tests/vm/kernel/build.sh builds it once, cached under build/vm) at both widths;
    # one short boot with an AMD family 0x17 CPU for the P2P host-bridge rule.
    vm_boot aw48 "Debian kernel, IOMMU address width 48 bits" --aw-bits 48 -- "${vm_progs[@]}"
    vm_boot aw39 "Debian kernel, IOMMU address width 39 bits" --aw-bits 39 -- "${vm_progs[@]}"
    vm_boot iommufd-aw48 "iommufd kernel, 48 bits" --kernel iommufd --aw-bits 48 -- "${vm_progs[@]}"
    vm_boot iommufd-aw39 "iommufd kernel, 39 bits" --kernel iommufd --aw-bits 39 -- "${vm_progs[@]}"
    vm_boot epyc "-cpu EPYC (vm_p2p_acs)" --cpu EPYC -- build/vm-static/tests/vm/vm_p2p_acs
  fi
fi

python3 scripts/tap_summary.py "$out" || status=1
exit $status
