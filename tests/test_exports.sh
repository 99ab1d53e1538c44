#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The shared library exports exactly the functions the public headers declare
# with DK_EXPORT: nothing internal leaks, nothing declared is missing.
# Usage: test_exports.sh LIBDMAKIT_SO INCLUDE_DIR
set -uo pipefail
so=$1 inc=$2
echo "TAP version 13"
echo "1..2"
declared=$(grep -h -v '^#' "$inc"/dmakit/*.h | grep -o 'DK_EXPORT[^(]*(' | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sort -u)
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -z "$extra" ]; then echo "ok 1 - no undeclared exports"; else
  echo "not ok 1 - undeclared exports"; echo "$extra" | sed 's/^/# /'; fi
if [ -z "$missing" ]; then echo "ok 2 - every DK_EXPORT function is exported ($(echo "$declared" | wc -l))"; else
  echo "not ok 2 - declared but not exported"; echo "$missing" | sed 's/^/# /'; fi
[ -z "$extra$missing" ]
