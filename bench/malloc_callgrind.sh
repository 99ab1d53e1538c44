#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Instructions per alloc+free pair on the allocators' hot paths, counted by
# callgrind (no timing noise: the same build gives the same counts run after
# run). Builds bench_malloc, then for every hot path below runs
# `bench_malloc --cg ALLOC PATTERN SIZE` under `valgrind --tool=callgrind
# --collect-atstart=no`: the program turns collection on around the measured
# loop only (CALLGRIND_TOGGLE_COLLECT) and calls the allocator through a
# function pointer. The same loop with the "null" allocator (a static block,
# no allocation) is counted too and subtracted, so a figure is the
# allocator's own instructions per pair (with its call and return).
#
# Columns: dmakit (dk_malloc/dk_free), glibc (malloc/free), mimalloc and
# jemalloc (malloc/free with LD_PRELOAD of the library meson found; left out
# when missing). xthread: one thread allocates 256 blocks, then another frees
# them, in lock-step (deterministic); the count covers both sides.
#
# usage: bench/malloc_callgrind.sh [BUILD_DIR] [--no-jemalloc] [--repeat]
#   --repeat counts every cell twice and fails when the two counts differ
#   (jemalloc excepted: its purging runs on the clock; a cell whose two
#   counts differ shows their mean marked "~").
set -eu

. "$(dirname "$0")/common.sh"
bench_setup "$@"
shift "$BENCH_SHIFT"
use_je=1
repeat=0
for a in "$@"; do
	case $a in
	--no-jemalloc) use_je=0 ;;
	--repeat) repeat=1 ;;
	*) echo "usage: $0 [BUILD_DIR] [--no-jemalloc] [--repeat]" >&2; exit 2 ;;
	esac
done
command -v valgrind >/dev/null || {
	echo "malloc_callgrind: valgrind not installed: apt-get install valgrind" >&2
	exit 1
}
ninja -C "$build" bench/bench_malloc >/dev/null
bm=$build/bench/bench_malloc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Columns: "name:preload" (preload empty: in the process itself).
cols="dmakit: glibc:"
for lib in mimalloc jemalloc; do
	[ "$lib" = jemalloc ] && [ $use_je -eq 0 ] && continue
	if so=$("$bm" --preload "$lib" 2>"$tmp/err") && [ -r "$so" ]; then
		cols="$cols $lib:$so"
	else
		echo "$lib: not found ($(cat "$tmp/err")): column left out"
	fi
done

# Address-space randomization off (setarch -R) where it can be: glibc's heap
# trimming depends on where the heap starts.
norand=
setarch "$(uname -m)" -R true 2>/dev/null && norand="setarch $(uname -m) -R"

# count PRELOAD ALLOC PATTERN SIZE: prints "IR PAIRS" (instructions collected).
count1() {
	out=$tmp/cg.out
	rm -f "$out"
	if ! env ${1:+LD_PRELOAD=$1} $norand valgrind --tool=callgrind --collect-atstart=no \
		--callgrind-out-file="$out" "$bm" --cg "$2" "$3" "$4" >"$tmp/stdout" 2>"$tmp/stderr"; then
		echo "malloc_callgrind: bench_malloc --cg $2 $3 $4 failed:" >&2
		cat "$tmp/stderr" >&2
		exit 1
	fi
	ir=$(sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -1)
	pairs=$(sed -n 's/^pairs //p' "$tmp/stdout")
	[ -n "$ir" ] && [ -n "$pairs" ] || {
		echo "malloc_callgrind: no count in $out for $2 $3 $4" >&2
		exit 1
	}
	echo "$ir $pairs"
}

# count NAME PRELOAD ALLOC PATTERN SIZE: "IR PAIRS" (with --repeat: the same
# twice, or exit 1; jemalloc, whose purging runs on the clock, may differ:
# its mean then, marked "~").
count() {
	name=$1
	shift
	c=$(count1 "$@") || exit 1
	if [ $repeat -eq 1 ]; then
		c2=$(count1 "$@") || exit 1
		if [ "$c" != "$c2" ]; then
			if [ "$name" != jemalloc ]; then
				echo "malloc_callgrind: $name $3 $4 not deterministic: $c then $c2" >&2
				exit 1
			fi
			echo "malloc_callgrind: $name $3 $4 varies: $c then $c2 (clock-driven purging)" >&2
			set -- $c $c2
			echo "$(( ($1 + $3) / 2 )) $2 ~"
			return 0
		fi
	fi
	echo "$c"
}

header="| hot path | size"
sep="|---|---"
for c in $cols; do
	header="$header | ${c%%:*}"
	sep="$sep|---"
done
echo "## Instructions per alloc+free pair (callgrind, the null loop subtracted)"
echo
echo "$header |"
echo "$sep|"
for row in tight:64 tight:4096 tight:65536 batch512-lifo:64 batch512-fifo:64 \
	batch512-rand:64 batch512-lifo:65536 xthread:64 xthread:65536; do
	pat=${row%%:*}
	size=${row#*:}
	c=$(count null "" null "$pat" "$size") || exit 1
	set -- $c
	null_ir=$1
	line="| $pat | $size"
	for c in $cols; do
		name=${c%%:*}
		so=${c#*:}
		alloc=malloc
		[ "$name" = dmakit ] && alloc=dk
		c=$(count "$name" "$so" "$alloc" "$pat" "$size") || exit 1
		set -- $c
		line="$line | ${3:-}$(awk -v ir="$1" -v n="$null_ir" -v p="$2" 'BEGIN { printf "%.1f", (ir - n) / p }')"
	done
	echo "$line |"
done
