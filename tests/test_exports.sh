#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A shared library exports exactly the functions its public headers declare with
# DK_EXPORT: nothing internal leaks, nothing declared is missing.
# Usage: test_exports.sh LIB_SO INCLUDE_DIR [--only|--except HEADER...]
#   the headers are INCLUDE_DIR/dmakit/*.h, only the HEADERs named, or all but them
#   (libdmakit: all but the drivers' headers; a driver's library: its own).
set -uo pipefail
so=$1 inc=$2
shift 2
mode=${1:-}
[ $# -gt 0 ] && shift
headers=()
for h in "$inc"/dmakit/*.h; do
  named=0
  for n in "$@"; do [ "$(basename "$h")" = "$n" ] && named=1; done
  case $mode in
    --only) [ $named = 1 ] && headers+=("$h") ;;
    --except) [ $named = 0 ] && headers+=("$h") ;;
    *) headers+=("$h") ;;
  esac
done
echo "TAP version 13"
echo "1..2"
declared=$(grep -h -v '^#' "${headers[@]}" | grep -o 'DK_EXPORT[^(]*(' | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sort -u)
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
lib=$(basename "$so")
if [ -z "$extra" ]; then echo "ok 1 - $lib: no undeclared exports"; else
  echo "not ok 1 - $lib: undeclared exports"; echo "$extra" | sed 's/^/# /'; fi
if [ -z "$missing" ]; then echo "ok 2 - $lib: every DK_EXPORT function is exported ($(echo "$declared" | wc -l))"; else
  echo "not ok 2 - $lib: declared but not exported"; echo "$missing" | sed 's/^/# /'; fi
[ -z "$extra$missing" ]
