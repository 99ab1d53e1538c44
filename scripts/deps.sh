#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian packages a dmakit job needs, or say what to install.
# Usage: scripts/deps.sh build|test|demo
set -euo pipefail

want=(meson ninja-build gcc pkg-config python3 pciutils)
case "${1:-build}" in
  build|demo) ;;
  test) want+=(clang libclang-rt-14-dev) ;;
  *) echo "usage: $0 build|test|demo" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "dmakit: missing packages: ${missing[*]}" >&2
  echo "dmakit: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "dmakit: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists once when they are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mtime -1 2>/dev/null | head -1)" ]; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
