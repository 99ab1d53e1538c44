#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guest check (busybox sh): mdevctl (Debian's 1.2.0, staged by run.sh) runs in the VM,
# and dmakit's CLI (staged as /usr/bin/dmakit by scripts/test.sh) says the same.
# `mdevctl types --dumpjson` lists the mtty and dk_sparse types, and `dmakit mdev types
# --json` prints the same bytes; with an mtty-2 instance started by mdevctl and another
# created by `dmakit mdev create`, `mdevctl list --dumpjson` lists both and so does
# `dmakit mdev list --json`, byte for byte; `dmakit devices` lists them too. Outputs are
# printed as TAP diagnostics and kept in /tmp/mdevctl/. Both instances are removed again,
# each by the other tool.
. /etc/dk/tap.sh
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
have_dmakit=0
command -v dmakit >/dev/null 2>&1 && have_dmakit=1
same() { # DESCRIPTION DMAKIT-FILE MDEVCTL-FILE: byte for byte, a diff as diagnostics
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   dmakit:"
		diag_file "$2"
	fi
}
if [ $have_dmakit = 1 ]; then
	dmakit mdev types --json >"$out/dk_types.json" 2>&1
	same "dmakit mdev types --json is mdevctl types --dumpjson, byte for byte" "$out/dk_types.json" "$out/types.json"
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
if [ $have_dmakit = 1 ]; then
	uuid2=$(cat /proc/sys/kernel/random/uuid | tr a-f A-F)
	low2=$(echo "$uuid2" | tr A-F a-f)
	check "dmakit mdev create mtty mtty-2 $uuid2" sh -c "dmakit mdev create mtty mtty-2 $uuid2 >$out/create.log 2>&1"
	diag_file "$out/create.log"
	check "the instance is in /sys/bus/mdev/devices, lower case" test -d "/sys/bus/mdev/devices/$low2"
	mdevctl list --dumpjson >"$out/list2.json" 2>&1
	dmakit mdev list --json >"$out/dk_list2.json" 2>&1
	echo "# mdevctl list --dumpjson with both instances:"
	diag_file "$out/list2.json"
	same "dmakit mdev list --json is mdevctl list --dumpjson, byte for byte" "$out/dk_list2.json" "$out/list2.json"
	mdevctl types --dumpjson >"$out/types2.json" 2>&1
	dmakit mdev types --json >"$out/dk_types2.json" 2>&1
	same "types agree with two instances taken (available_instances)" "$out/dk_types2.json" "$out/types2.json"
	dmakit devices >"$out/devices.txt" 2>&1
	check "dmakit devices lists both instances" sh -c "grep -q $uuid $out/devices.txt && grep -q $low2 $out/devices.txt"
	check "dmakit mdev remove $uuid (started by mdevctl)" sh -c "dmakit mdev remove $uuid >$out/rm.log 2>&1"
	diag_file "$out/rm.log"
	check "mdevctl stop -u $low2 (created by dmakit)" sh -c "mdevctl stop -u $low2 >$out/stop.log 2>&1"
	diag_file "$out/stop.log"
	check "both instances are gone" sh -c "test ! -e /sys/bus/mdev/devices/$uuid && test ! -e /sys/bus/mdev/devices/$low2"
	mdevctl list --dumpjson >"$out/list3.json" 2>&1
	dmakit mdev list --json >"$out/dk_list3.json" 2>&1
	same "no instance: dmakit mdev list --json is mdevctl's again" "$out/dk_list3.json" "$out/list3.json"
else
	echo "# no dmakit CLI in the guest (tests/vm/run.sh --tool build/vm-static/tools/dmakit/dmakit): no comparison"
	check "mdevctl stop -u $uuid" sh -c "mdevctl stop -u $uuid >$out/stop.log 2>&1"
	diag_file "$out/stop.log"
	check "the instance is gone" test ! -e "/sys/bus/mdev/devices/$uuid"
fi

echo "1..$n"
tap_status
