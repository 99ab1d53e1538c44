#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guest test (busybox sh): `dmakit p2p distance` (run.sh --tool puts the CLI in /usr/bin)
# between the NVMe (04:00.0, the CMB provider) and edu (03:00.0) on two downstream ports
# of the QEMU switch: distance 4, bus_addr, in text and JSON; the same answer both ways.
# Prints TAP.
. /etc/dk/tap.sh

echo "TAP version 13"
if ! command -v dmakit >/dev/null 2>&1; then
	echo "1..0 # SKIP no dmakit CLI in the guest (run.sh --tool build/vm-static/tools/dmakit/dmakit)"
	exit 0
fi
NVME=0000:04:00.0
EDU=0000:03:00.0
out=$(dmakit p2p distance $NVME $EDU 2>&1)
rc=$?
diag "$out"
check "dmakit p2p distance exits 0" test "$rc" -eq 0
check "text: distance 4" has "$out" "4"
check "text: bus_addr" has "$out" "bus_addr"
json=$(dmakit p2p distance $NVME $EDU --json 2>&1)
diag "$json"
check "json: the client" has "$json" "\"client\": \"$EDU\""
check "json: distance 4" has "$json" "\"distance\": 4"
check "json: bus_addr" has "$json" "\"map_type\": \"bus_addr\""
back=$(dmakit p2p distance $EDU $NVME --json 2>&1)
check "the other way: distance 4, bus_addr" has "$back" "\"distance\": 4"
echo "1..$n"
tap_status
