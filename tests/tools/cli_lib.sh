# SPDX-License-Identifier: BSD-3-Clause
#
# Sourced by the CLI test scripts (test_cli.sh, test_p2p_cli.sh): TAP cases
# around runs of dmakit against a generated sysfs tree.
#
#   cli_setup NAME MKFIXTURE [ARGS...]   print the TAP header, make $tmp, run
#       MKFIXTURE --keep ARGS (it prints the tree's root), export it as
#       DMAKIT_SYSFS_ROOT; both are removed at exit. Bails out on failure.
#   run ARGS...        run $DMAKIT, keeping stdout, stderr and the exit code
#   check NAME CMD...  one TAP case, passing when CMD succeeds; on failure the
#                      last run's output follows as "#" lines
#   rc_is N, out_has TEXT, err_has TEXT, pyjson CODE (d = stdout's JSON)
#   cli_done           the plan line; the script's status
n=0
failed=0
rc=0
tmp=""
root=""

cli_cleanup() {
	[ -n "$root" ] && rm -rf -- "$root"
	[ -n "$tmp" ] && rm -rf -- "$tmp"
}

cli_setup() {
	local name=$1 mkfixture=$2
	shift 2
	echo "TAP version 13"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/dk-$name.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
	trap cli_cleanup EXIT
	root=$("$mkfixture" --keep "$@") || { echo "Bail out! $mkfixture failed"; exit 1; }
	if [ ! -d "$root/bus/pci/devices" ]; then
		echo "Bail out! $mkfixture printed \"$root\", not a fixture tree"
		exit 1
	fi
	export DMAKIT_SYSFS_ROOT="$root"
}

run() {
	"$DMAKIT" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

check() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		failed=$((failed + 1))
		echo "#   last exit code: $rc"
		sed 's/^/#   stdout: /' "$tmp/out" 2>/dev/null | head -40
		sed 's/^/#   stderr: /' "$tmp/err" 2>/dev/null | head -20
	fi
}

rc_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -qF -- "$1" "$tmp/out"; }
err_has() { grep -qF -- "$1" "$tmp/err"; }

pyjson() {
	python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
$1
" "$tmp/out"
}

cli_done() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
