#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_p2p_cli.sh DMAKIT MKFIXTURE - `dmakit p2p distance` and `dmakit topo`
# against the P2P fixture tree (mkfixture --p2p draws it): same switch, ACS
# redirect on a root port, two host bridges; the CPU rule from CPU files of
# our own (DMAKIT_CPUINFO). Expected values are worked out by hand from the
# rules in dmakit/p2p.h. Every check is one TAP case. The checks that cut
# config space short (what a non-root reader sees) change the tree: last.
set -u

DMAKIT=${1:?usage: test_p2p_cli.sh DMAKIT MKFIXTURE}
MKFIXTURE=${2:?usage: test_p2p_cli.sh DMAKIT MKFIXTURE}

. "$(dirname "$0")/cli_lib.sh"
cli_setup p2pcli "$MKFIXTURE" --p2p
unset DMAKIT_LOG_LEVEL DMAKIT_ALLOW DMAKIT_DENY
export DMAKIT_PCI_IDS=none
printf 'processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n\n' >"$tmp/intel"
printf 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n\n' >"$tmp/amd"
export DMAKIT_CPUINFO="$tmp/intel"
# row_is CLIENT DISTANCE MAP: the text row of CLIENT in `p2p distance`.
row_is() { grep -qE "^$1 +$2 +$3\$" "$tmp/out"; }

# ---- p2p distance: text ------------------------------------------------------

run p2p distance 03:00.0 04:00.0 81:00.0 05:00.1
check "distance: same switch is bus_addr 4, other host bridge and root port not_supported" eval '
	rc_is 0 && out_has "provider 0000:03:00.0" && row_is 0000:04:00.0 4 bus_addr &&
	row_is 0000:81:00.0 -1 not_supported && row_is 0000:05:00.1 -1 not_supported &&
	[ "$(grep -c "reason:" "$tmp/out")" -eq 2 ] && out_has "share no upstream bridge" &&
	out_has "8086:1237" && ! out_has "disable_acs_redir"'

run p2p distance 0000:05:00.0 0000:05:00.1
check "distance: ACS redirect on the root port: reason names the kernel parameter" eval '
	rc_is 0 && row_is 0000:05:00.1 -1 not_supported &&
	out_has "pci=disable_acs_redir=0000:00:02.0" && out_has "(1 device)"'

export DMAKIT_CPUINFO="$tmp/amd"
run p2p distance 05:00.0 05:00.1 81:00.0 03:00.0
check "distance, AMD Zen: through the host bridge, distances 2, 4 and 6" eval '
	rc_is 0 && row_is 0000:05:00.1 2 thru_host_bridge && row_is 0000:81:00.0 4 thru_host_bridge &&
	row_is 0000:03:00.0 6 thru_host_bridge && out_has "pci=disable_acs_redir=0000:00:02.0" &&
	out_has "the CPU (AMD"'

# ---- p2p distance: JSON ------------------------------------------------------

run p2p distance 05:00.0 05:00.1 04:00.0 --json
check "distance --json: a list with client, distance, map_type, reason, fix" eval '
	rc_is 0 && pyjson "
assert isinstance(d, list) and len(d) == 2, d
a, b = d
assert a[\"client\"] == \"0000:05:00.1\" and a[\"provider\"] == \"0000:05:00.0\"
assert a[\"distance\"] == 2 and a[\"hops\"] == 2 and a[\"map_type\"] == \"thru_host_bridge\"
assert \"disable_acs_redir\" in a[\"reason\"] and a[\"fix\"] == \"pci=disable_acs_redir=0000:00:02.0\"
assert a[\"acs_redirect\"] == [\"0000:00:02.0\"] and a[\"acs_unread\"] == []
assert b[\"client\"] == \"0000:04:00.0\" and b[\"distance\"] == 6 and b[\"fix\"] is None
assert b[\"map_type\"] == \"thru_host_bridge\" and \"share no upstream bridge\" in b[\"reason\"]
"'

run p2p distance 03:00.0 04:00.0 03:00.0 --json
check "distance --json: bus_addr has reason null; the provider itself is 0" eval '
	rc_is 0 && pyjson "
assert [x[\"distance\"] for x in d] == [4, 0], d
assert all(x[\"map_type\"] == \"bus_addr\" and x[\"reason\"] is None and x[\"fix\"] is None for x in d)
assert all(x[\"acs_redirect\"] == [] for x in d)
"'

export DMAKIT_CPUINFO="$tmp/intel"
run p2p distance 03:00.0 81:00.0 --json
check "distance --json: not_supported is distance -1 with the hops kept" eval '
	rc_is 0 && pyjson "
assert d[0][\"distance\"] == -1 and d[0][\"hops\"] == 6 and d[0][\"map_type\"] == \"not_supported\", d
"'

# ---- p2p distance: errors ----------------------------------------------------

run p2p distance 03:00.0
check "distance without clients: exit 2" eval 'rc_is 2 && err_has "at least one client"'

run p2p distance
check "distance without arguments: exit 2" eval 'rc_is 2 && err_has "at least one client"'

run p2p distance 03:00.0 zz
check "distance with a bad address: exit 2" eval 'rc_is 2 && err_has "\"zz\" is not a PCI address"'

run p2p distance 03:00.0 09:00.0 0a:00.0
check "distance to unknown devices: exit 1 naming each" eval '
	rc_is 1 && err_has "no PCI device 0000:09:00.0" && err_has "no PCI device 0000:0a:00.0" &&
	[ ! -s "$tmp/out" ]'

run p2p distance 09:00.0 03:00.0
check "distance from an unknown provider: exit 1" eval 'rc_is 1 && err_has "no PCI device 0000:09:00.0"'

run p2p distance 02:00.0 03:00.0
check "a bridge as the provider: exit 1" eval 'rc_is 1 && err_has "provider 0000:02:00.0 is a bridge"'

run p2p distance 05:00.1 05:00.0
check "a provider without a memory BAR: exit 1" eval '
	rc_is 1 && err_has "provider 0000:05:00.1 has no memory BAR"'

run p2p distance 03:00.0 04:00.0 --frob
check "distance with an unknown option: exit 2" eval 'rc_is 2 && err_has "unknown option --frob"'

run p2p
check "p2p without a subcommand lists the providers" eval 'rc_is 0 &&
	head -n1 "$tmp/out" | grep -qE "^KIND +DEVICE +SIZE +AVAILABLE +PUBLISHED +BARS$"'

run p2p frob
check "p2p with an unknown subcommand: exit 2" eval 'rc_is 2 && err_has "unknown subcommand \"frob\""'

run p2p --help
check "p2p --help: usage" eval 'rc_is 0 && out_has "usage: dmakit p2p" && out_has "distance PROVIDER" &&
	out_has "p2p [list] [--json]"'

# ---- topo ----------------------------------------------------------------------

run topo
check "topo: endpoints only, matrix cells and legend" eval '
	rc_is 0 && grep -qE "^ +0 0000:03:00.0 +SELF +BUS 4 +X +X +X$" "$tmp/out" &&
	grep -qE "^ +2 0000:05:00.0 +X +X +SELF +X\* +X$" "$tmp/out" &&
	grep -qE "^ +4 0000:81:00.0 +X +X +X +X +SELF$" "$tmp/out" &&
	! out_has "0000:00:00.0" && ! out_has "0000:02:00.0" && ! out_has "0000:80:01.0" &&
	out_has "Legend" && out_has "BUS n" && out_has "not_supported"'

export DMAKIT_CPUINFO="$tmp/amd"
run topo
check "topo, AMD Zen: HB cells" eval '
	rc_is 0 && grep -qE "^ +2 0000:05:00.0 +HB 6 +HB 6 +SELF +HB 2\* +HB 4$" "$tmp/out"'

run topo --json
check "topo --json: endpoints and the matrix" eval '
	rc_is 0 && pyjson "
names = [e[\"name\"] for e in d[\"endpoints\"]]
assert d[\"version\"] == 1
assert names == [\"0000:03:00.0\", \"0000:04:00.0\", \"0000:05:00.0\", \"0000:05:00.1\", \"0000:81:00.0\"], names
assert [e[\"index\"] for e in d[\"endpoints\"]] == list(range(5))
m = d[\"matrix\"]
assert len(m) == 5 and all(len(r) == 5 for r in m)
assert m[0][1][\"map_type\"] == \"bus_addr\" and m[0][1][\"distance\"] == 4 and m[0][1][\"reason\"] is None
assert m[2][3][\"map_type\"] == \"thru_host_bridge\" and m[2][3][\"reason\"] == \"acs_redirect\"
assert m[0][4][\"distance\"] == 6 and m[0][4][\"reason\"] == \"no_common_bridge\"
assert m[4][2][\"distance\"] == 4 and not any(c[\"acs_unread\"] for r in m for c in r)
"'
export DMAKIT_CPUINFO="$tmp/intel"

run topo --json
check "topo --json, Intel: not_supported is distance -1" eval '
	rc_is 0 && pyjson "
c = d[\"matrix\"][0][4]
assert c[\"map_type\"] == \"not_supported\" and c[\"distance\"] == -1 and c[\"hops\"] == 6, c
"'

run topo --frob
check "topo with an unknown option: exit 2" eval 'rc_is 2 && err_has "unknown option --frob"'

# ---- config space cut short (a non-root reader) --------------------------------

for dev in 0000:00:02.0 0000:02:01.0; do
	cfg=$(readlink -f "$root/bus/pci/devices/$dev")/config
	truncate -s 64 "$cfg" || { echo "Bail out! cannot truncate $cfg"; exit 1; }
done

run p2p distance 05:00.0 05:00.1 --json
check "ACS unreadable on the root port: bus_addr, acs_unread names it" eval '
	rc_is 0 && pyjson "
assert d[0][\"map_type\"] == \"bus_addr\" and d[0][\"acs_unread\"] == [\"0000:00:02.0\"], d
"'

run p2p distance 03:00.0 04:00.0
check "ACS unreadable: the text says so and to run as root" eval '
	rc_is 0 && row_is 0000:04:00.0 4 bus_addr && out_has "could not be read" &&
	out_has "0000:02:01.0" && out_has "run as root"'

run topo
check "topo marks the cells whose ACS bits were unreadable" eval '
	rc_is 0 && grep -qE "^ +0 0000:03:00.0 +SELF +BUS 4\? +X +X +X$" "$tmp/out" &&
	grep -qE "^ +2 0000:05:00.0 +X +X +SELF +BUS 2\? +X$" "$tmp/out" && out_has "marked ?"'

cli_done
