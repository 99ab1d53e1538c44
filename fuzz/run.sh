#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run every libFuzzer target of a fuzz build for a while and report TAP.
#
#   CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
#       -Db_lundef=false -Dtests=false -Dbench=false
#   ninja -C build-fuzz
#   fuzz/run.sh build-fuzz [SECONDS]
#
# Each target runs for SECONDS (default 30) over a scratch copy of its seed
# corpus fuzz/corpus/<name>/ (new inputs never land in the repository).
# A crash, sanitizer report, timeout or leak is "not ok" with the tail of
# the log as "# " lines; the crashing input is kept in the scratch
# directory, whose path is printed. Exit status: 0 when every target
# passed, 1 otherwise, 2 on bad usage.
set -u

usage() {
	echo "usage: $0 BUILD_DIR [SECONDS]" >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
build=$1
secs=${2:-30}
case $secs in
'' | *[!0-9]*) usage ;;
esac
[ -d "$build/fuzz" ] || {
	echo "$0: $build/fuzz not found: configure with -Dfuzz=true (see the header of $0)" >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
# Every target the build made (fuzz/meson.build lists them), so a new one runs
# without touching this script; its corpus is fuzz/corpus/<name without fuzz_>.
targets=()
for f in "$build"/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] && targets+=("$(basename "$f")")
done
[ ${#targets[@]} -gt 0 ] || { echo "$0: no fuzz targets in $build/fuzz" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/dmakit-fuzz.XXXXXX") || exit 1
keep=0
cleanup() {
	[ "$keep" = 1 ] || rm -rf "$scratch"
}
trap cleanup EXIT

export ASAN_OPTIONS=detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}

echo "TAP version 13"
echo "1..${#targets[@]}"
failed=0
n=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	name=${t#fuzz_}
	bin=$build/fuzz/$t
	work=$scratch/$name
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ -d "$here/corpus/$name" ]; then
		cp -R "$here/corpus/$name/." "$work/corpus/"
	fi
	log=$work/log
	if [ ! -x "$bin" ]; then
		echo "missing $bin: build it with ninja -C $build" >"$log"
		rc=127
	else
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$work/artifacts/" -print_final_stats=1 \
			"$work/corpus" >"$log" 2>&1
		rc=$?
	fi
	if [ $rc -eq 0 ]; then
		stats=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
		echo "ok $n - fuzz/$t"
		[ -n "$stats" ] && echo "# $t: $stats runs in ${secs}s"
	else
		failed=1
		keep=1
		echo "not ok $n - fuzz/$t"
		echo "# exit status $rc; log and crashing input: $work"
		# the cause first (sanitizer report, failed check), then the tail
		grep -E 'check failed|ERROR: |runtime error|SUMMARY' "$log" | head -n 5 | sed 's/^/# /'
		tail -n 12 "$log" | sed 's/^/# /'
	fi
done
exit $failed
