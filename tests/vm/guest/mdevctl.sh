#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guest check (busybox sh): mdevctl (Debian's 1.2.0, staged by run.sh) runs in the VM.
# `mdevctl types --dumpjson` lists the mtty and dk_sparse types; with an mtty-2 instance
# started by mdevctl, `mdevctl list --dumpjson` lists it. Both outputs are printed as TAP
# diagnostics and kept in /tmp/mdevctl/ (types.json, list.json) for a comparison with
# dmakit's own output by a later program of the same boot. The instance is stopped again.
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
diag_file() { sed 's/^/#   /' "$1"; }

echo "TAP version 13"
if ! command -v mdevctl >/dev/null 2>&1; then
	echo "1..0 # SKIP no mdevctl in the guest (apt-get install mdevctl on the host)"
	exit 0
fi
if [ ! -d /sys/class/mdev_bus/mtty ]; then
	echo "1..0 # SKIP no mdev parent mtty (mtty.ko not loaded: run.sh --no-mtty?)"
	exit 0
fi
out=/tmp/mdevctl
mkdir -p "$out"

check "mdevctl --version runs" sh -c 'mdevctl --version >/tmp/mdevctl/version 2>&1'
echo "# $(cat "$out/version")"

check "mdevctl types --dumpjson exits 0" sh -c 'mdevctl types --dumpjson >/tmp/mdevctl/types.json 2>&1'
echo "# mdevctl types --dumpjson:"
diag_file "$out/types.json"
check "types list mtty-2 under parent mtty" grep -q '"mtty-2"' "$out/types.json"
check "types give mtty-2's device_api vfio-pci" grep -q '"vfio-pci"' "$out/types.json"
check "types give mtty-2's name (Dual port serial)" grep -q 'Dual port serial' "$out/types.json"
if [ -d /sys/class/mdev_bus/dk_sparse ]; then
	check "types list dk_sparse-1" grep -q '"dk_sparse-1"' "$out/types.json"
fi

uuid=$(cat /proc/sys/kernel/random/uuid)
check "mdevctl start -p mtty -t mtty-2 -u $uuid" sh -c "mdevctl start -p mtty -t mtty-2 -u $uuid >$out/start.log 2>&1"
diag_file "$out/start.log"
check "the instance is in /sys/bus/mdev/devices" test -d "/sys/bus/mdev/devices/$uuid"
check "mdevctl list --dumpjson exits 0" sh -c 'mdevctl list --dumpjson >/tmp/mdevctl/list.json 2>&1'
echo "# mdevctl list --dumpjson:"
diag_file "$out/list.json"
check "list shows the instance" grep -q "\"$uuid\"" "$out/list.json"
check "list gives its mdev_type mtty-2" grep -q '"mdev_type": *"mtty-2"' "$out/list.json"
check "mdevctl stop -u $uuid" sh -c "mdevctl stop -u $uuid >$out/stop.log 2>&1"
diag_file "$out/stop.log"
check "the instance is gone" test ! -e "/sys/bus/mdev/devices/$uuid"

echo "1..$n"
[ $fails -eq 0 ]
