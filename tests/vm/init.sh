#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# /init of the dmakit VM test initramfs (busybox sh). tests/vm/run.sh builds the
# initramfs around it; the guest/host protocol is described in docs/vm.md.
#
# Lines the host parses (each may follow partial program output on the same line):
#   @@DK-INIT kernel=<release> uptime=<s>
#   @@DK-MODFAIL <module path> rc=<n>
#   @@DK-READY modules=<n> failed=<n> uptime=<s>
#   @@DK-BEGIN <name>
#   @@DK-END <name> rc=<n> secs=<s> [timeout=1]
#   @@DK-KTROUBLE <kernel log line>   (a warning, BUG or oops the quiet console hid)
#   @@DK-DONE uptime=<s>
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root TERM=dumb

mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm /dev/hugepages /tmp /run /root
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t hugetlbfs hugetlbfs /dev/hugepages 2>/dev/null

uptime() { cut -d' ' -f1 /proc/uptime; }

# Settings from the kernel command line (set by run.sh).
timeout_s=120
export DK_VM=1 DK_VM_AW_BITS=48 DK_VM_KERNEL_KIND=debian DK_VM_CPU=max
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	dk.test_timeout=*) timeout_s=${arg#*=} ;;
	dk.aw_bits=*) DK_VM_AW_BITS=${arg#*=} ;;
	dk.kernel=*) DK_VM_KERNEL_KIND=${arg#*=} ;;
	dk.cpu=*) DK_VM_CPU=${arg#*=} ;;
	esac
done
kver=$(uname -r)
export DK_VM_KERNEL=$kver DK_VM_TEST_TIMEOUT=$timeout_s
echo "@@DK-INIT kernel=$kver uptime=$(uptime)"

# Modules, in dependency order (written by run.sh from modules.dep), then the test
# modules (extra/*.ko: dk_sparse and any run.sh --module).
nmod=0
nfail=0
while read -r path; do
	[ -n "$path" ] || continue
	nmod=$((nmod + 1))
	out=$(insmod "/lib/modules/$kver/$path" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		nfail=$((nfail + 1))
		echo "$out"
		echo "@@DK-MODFAIL $path rc=$rc"
	fi
done </etc/dk/modules
echo "@@DK-READY modules=$nmod failed=$nfail uptime=$(uptime)"

# Test programs, in the order given to run.sh, each in a scratch directory.
while read -r name; do
	[ -n "$name" ] || continue
	echo "@@DK-BEGIN $name"
	mkdir -p "/tmp/$name.d"
	t0=$(uptime)
	(cd "/tmp/$name.d" && exec timeout -s TERM -k 5 "$timeout_s" "/tests/$name" </dev/null 2>&1)
	rc=$?
	t1=$(uptime)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	extra=""
	if [ $rc -eq 143 ] || [ $rc -eq 137 ]; then
		awk -v s="$secs" -v t="$timeout_s" 'BEGIN { exit !(s + 0.5 >= t) }' && extra=" timeout=1"
	fi
	echo "@@DK-END $name rc=$rc secs=$secs$extra"
done </etc/dk/tests

# The console is quiet (loglevel 4), so kernel warnings from a module under test would
# go unseen: report them from the kernel log.
dmesg | grep -E 'WARNING:|BUG:|Oops|general protection fault|Call Trace|kernel BUG' |
	while IFS= read -r line; do echo "@@DK-KTROUBLE $line"; done

echo "@@DK-DONE uptime=$(uptime)"
sync
poweroff -f
# poweroff should not return; if it does, make the kernel stop the VM.
echo o >/proc/sysrq-trigger
sleep 5
