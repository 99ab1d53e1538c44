# SPDX-License-Identifier: BSD-3-Clause
# TAP helpers of the guest shell checks (busybox sh), sourced as /etc/dk/tap.sh
# (tests/vm/run.sh installs it there). A check script prints "TAP version 13",
# then cases, then "1..$n", and exits with tap_status.
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
diag() { echo "# $*"; }
eq() { [ "$1" = "$2" ] || { diag "  got '$1', want '$2'"; return 1; }; }
has() { case "$1" in *"$2"*) return 0 ;; esac; diag "  '$2' not in: $1"; return 1; }
driver_of() { [ -e "/sys/bus/pci/devices/$1/driver" ] && basename "$(readlink "/sys/bus/pci/devices/$1/driver")"; }
group_of() { [ -e "/sys/bus/pci/devices/$1/iommu_group" ] && basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
tap_status() { [ "$fails" -eq 0 ]; }
