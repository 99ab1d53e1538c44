#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_cli.sh DMAKIT MKFIXTURE - the dmakit CLI against a generated sysfs tree.
#
# MKFIXTURE (tests/tools/mkfixture.c) writes the tree and prints its root;
# its header comment draws the topology these checks expect. Every check is
# one TAP case; on failure the command's stdout/stderr follow as "#" lines.
# The bind/unbind checks change the tree, so they run last.
set -u

DMAKIT=${1:?usage: test_cli.sh DMAKIT MKFIXTURE}
MKFIXTURE=${2:?usage: test_cli.sh DMAKIT MKFIXTURE}

. "$(dirname "$0")/cli_lib.sh"
cli_setup cli "$MKFIXTURE"
unset DMAKIT_LOG_LEVEL DMAKIT_ALLOW DMAKIT_DENY
# No PCI ID database, whatever the machine has installed: numbers only, until
# the "names" checks write a small database of their own.
export DMAKIT_PCI_IDS=none
# file_is PATH TEXT: the whole file equals TEXT (trailing newlines ignored).
file_is() { [ "$(cat -- "$1")" = "$2" ]; }

# ---- global options ---------------------------------------------------------

run --version
check "--version prints the version" eval 'rc_is 0 && grep -qE "^dmakit [0-9]+\.[0-9]+\.[0-9]+$" "$tmp/out"'

run --help
check "--help lists every command" eval 'rc_is 0 && out_has "devices" && out_has "tree" &&
	out_has "show ADDR" && out_has "bind ADDR" && out_has "unbind ADDR" && out_has "regions ADDR" &&
	out_has "iommu" && out_has "--sysfs-root"'

run help
check "help is the same as --help" eval 'rc_is 0 && out_has "unbind ADDR"'

run show --help
check "show --help prints the command usage" eval 'rc_is 0 && out_has "usage: dmakit show ADDR"'

run frobnicate
check "unknown command: exit 2" eval 'rc_is 2 && err_has "dmakit: unknown command \"frobnicate\""'

run
check "no command: exit 2 with usage" eval 'rc_is 2 && err_has "usage: dmakit"'

run --frob devices
check "unknown global option: exit 2" eval 'rc_is 2 && err_has "unknown option --frob"'

run devices --frob
check "unknown command option: exit 2" eval 'rc_is 2 && err_has "unknown option --frob"'

run devices extra
check "unexpected argument: exit 2" eval 'rc_is 2 && err_has "unexpected argument"'

run --sysfs-root
check "--sysfs-root without a value: exit 2" eval 'rc_is 2 && err_has "--sysfs-root DIR"'

run --sysfs-root "$tmp/nonexistent" devices
check "missing sysfs root: exit 1, names the option" eval 'rc_is 1 && err_has "--sysfs-root"'

# ---- devices ------------------------------------------------------------------

run devices
cp "$tmp/out" "$tmp/devices.env"
check "devices: exit 0" rc_is 0
check "devices: header line" eval 'head -n1 "$tmp/out" | grep -qE "^ADDRESS +ID +SUBSYSTEM +CLASS +REV +DRIVER +GROUP +NUMA$"'
check "devices: one line per function" eval '[ "$(($(wc -l <"$tmp/out") - 1))" -eq 12 ]'
check "devices: NVMe row" eval '[ "$(awk "\$1 == \"0000:03:00.0\" { print \$2, \$3, \$4, \$5, \$6, \$7, \$8 }" "$tmp/out")" = "1b36:0010 1af4:1100 010802 02 nvme 5 0" ]'
check "devices: unbound VF row uses -" eval '[ "$(awk "\$1 == \"0000:04:02.1\" { print \$2, \$6, \$7, \$8 }" "$tmp/out")" = "8086:154c - 8 -" ]'

env -u DMAKIT_SYSFS_ROOT "$DMAKIT" --sysfs-root "$root" devices >"$tmp/out" 2>"$tmp/err"
rc=$?
check "--sysfs-root DIR replaces DMAKIT_SYSFS_ROOT" eval 'rc_is 0 && cmp -s "$tmp/out" "$tmp/devices.env"'

env -u DMAKIT_SYSFS_ROOT "$DMAKIT" devices -v --sysfs-root="$root" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "global options after the command, --sysfs-root=DIR" eval 'rc_is 0 && cmp -s "$tmp/out" "$tmp/devices.env"'

run devices --json
check "devices --json: valid JSON, version 1, 12 devices" pyjson '
assert d["version"] == 1, d["version"]
assert len(d["devices"]) == 12, len(d["devices"])
assert [x["address"] for x in d["devices"]] == sorted(x["address"] for x in d["devices"])'
check "devices --json: NVMe fields exact" pyjson '
nvme = [x for x in d["devices"] if x["address"] == "0000:03:00.0"][0]
want = {"address": "0000:03:00.0", "kind": "function", "vendor": "1b36", "device": "0010",
        "subsystem_vendor": "1af4", "subsystem_device": "1100", "class": "010802",
        "revision": "02", "driver": "nvme", "iommu_group": 5, "numa_node": 0,
        "upstream": "0000:02:00.0", "host_bridge": "pci0000:00", "physfn": None}
assert nvme == want, nvme'
check "devices --json: nulls, VF and root-bus fields" pyjson '
by = {x["address"]: x for x in d["devices"]}
vf = by["0000:04:02.1"]
assert vf["driver"] is None and vf["physfn"] == "0000:04:00.0", vf
assert vf["upstream"] == "0000:02:01.0" and vf["iommu_group"] == 8, vf
hb = by["0000:00:00.0"]
assert hb["upstream"] is None and hb["driver"] is None and hb["revision"] == "00", hb
assert hb["subsystem_vendor"] == "0000" and hb["numa_node"] == -1, hb
assert by["0000:00:02.0"]["revision"] == "a1" and by["0000:00:02.0"]["class"] == "030000"'

# ---- tree ---------------------------------------------------------------------

run tree
cat >"$tmp/tree.want" <<'EOF'
pci0000:00
+-0000:00:00.0  8086:29c0  -
+-0000:00:02.0  10de:1eb8  vfio-pci
+-0000:00:02.1  10de:10f8  snd_hda_intel
\-0000:00:1c.0  1b36:000c  pcieport
  \-0000:01:00.0  104c:8232  pcieport
    +-0000:02:00.0  104c:8233  pcieport
    | \-0000:03:00.0  1b36:0010  nvme
    \-0000:02:01.0  104c:8233  pcieport
      +-0000:04:00.0  8086:1572  i40e
      +-0000:04:00.1  8086:1572  i40e
      +-0000:04:02.0  8086:154c  iavf  [VF of 0000:04:00.0]
      \-0000:04:02.1  8086:154c  -  [VF of 0000:04:00.0]
EOF
check "tree: exact nesting and order" eval 'rc_is 0 && diff -u "$tmp/tree.want" "$tmp/out" >&2'

run tree --json
check "tree --json: nesting and order" pyjson '
assert d["version"] == 1
hbs = d["host_bridges"]
assert [h["name"] for h in hbs] == ["pci0000:00"], hbs
flat = []
def walk(nodes, depth):
    for x in nodes:
        flat.append((depth, x["address"]))
        walk(x["children"], depth + 1)
walk(hbs[0]["children"], 0)
want = [(0, "0000:00:00.0"), (0, "0000:00:02.0"), (0, "0000:00:02.1"), (0, "0000:00:1c.0"),
        (1, "0000:01:00.0"), (2, "0000:02:00.0"), (3, "0000:03:00.0"), (2, "0000:02:01.0"),
        (3, "0000:04:00.0"), (3, "0000:04:00.1"), (3, "0000:04:02.0"), (3, "0000:04:02.1")]
assert flat == want, flat'
check "tree --json: node fields" pyjson '
rp = d["host_bridges"][0]["children"][3]
sw = rp["children"][0]
vf = sw["children"][1]["children"][2]
assert vf["address"] == "0000:04:02.0" and vf["physfn"] == "0000:04:00.0", vf
assert vf["vendor"] == "8086" and vf["device"] == "154c" and vf["driver"] == "iavf", vf
assert rp["driver"] == "pcieport" and rp["class"] == "060400", rp'

# ---- show ---------------------------------------------------------------------

run show 0000:02:00.0
check "show: ACS capability bits by name" eval 'rc_is 0 && grep -qE "^  capability +SV TB RR CR UF " "$tmp/out"'
check "show: ACS control bits by name" eval 'grep -qE "^  control +SV RR CR UF " "$tmp/out"'
check "show: PCIe port type" eval 'grep -qE "^  port type +switch downstream port$" "$tmp/out"'

run show 03:00.0
check "show: short address, upstream chain to the host bridge" eval 'rc_is 0 &&
	grep -qE "^  upstream +0000:02:00.0 -> 0000:01:00.0 -> 0000:00:1c.0 -> pci0000:00$" "$tmp/out"'
check "show: BAR and MSI-X" eval 'grep -qE "^  BAR0 +0x00000000fe000000 +16 KiB +mem 64$" "$tmp/out" &&
	out_has "table size 32, table BAR0 + 0x2000"'

run show 0000:02:00.0 --json
check "show --json: ACS and upstream chain" pyjson '
x = d["device"]
assert d["version"] == 1
assert x["acs"]["cap"] == ["SV", "TB", "RR", "CR", "UF"], x["acs"]
assert x["acs"]["ctrl"] == ["SV", "RR", "CR", "UF"], x["acs"]
assert x["acs"]["cap_raw"] == 0x1f and x["acs"]["ctrl_raw"] == 0x1d, x["acs"]
assert x["upstream_chain"] == ["0000:01:00.0", "0000:00:1c.0"], x["upstream_chain"]
assert x["pcie"]["port_type"] == "switch downstream port", x["pcie"]
caps = [(c["name"], c["extended"]) for c in x["capabilities"]]
assert ("ACS", True) in caps and ("PCIe", False) in caps, caps
assert x["sriov"] is None and x["msix"] is None'

run show 0000:04:00.0 --json
check "show --json: SR-IOV, MSI-X and BARs" pyjson '
x = d["device"]
s = x["sriov"]
assert s["total_vfs"] == 4 and s["num_vfs"] == 2 and s["vf_device"] == "154c", s
assert s["vfs"] == ["0000:04:02.0", "0000:04:02.1"], s
m = x["msix"]
assert m["table_size"] == 129 and m["table_bar"] == 3 and m["table_offset"] == 0x2000, m
bars = {b["index"]: b for b in x["bars"]}
assert sorted(bars) == [0, 3], bars
assert bars[3]["phys_addr"] == "00000000fb000000" and bars[3]["size"] == 0x8000, bars[3]
assert bars[3]["flags"] == ["mem", "64", "prefetch"], bars[3]'

run show 0000:09:00.0
check "show: unknown address: exit 1 and message" eval 'rc_is 1 &&
	err_has "dmakit: no PCI device 0000:09:00.0 (see \`dmakit devices\`)"'

run show 0000:3:00
check "show: bad address syntax: exit 2, names DDDD:BB:DD.F" eval 'rc_is 2 && err_has "DDDD:BB:DD.F"'

run show
check "show: no address: exit 2" rc_is 2

# ---- heaps (the running primary itself is tested in tests/mem/test_mp.c) ---------
DMAKIT_RUNTIME_DIR="$tmp/runtime" run heaps
check "heaps: no primary: exit 1, says to start one" eval 'rc_is 1 && err_has "no primary process runs with prefix \"dmakit\"" && err_has "start one"'
DMAKIT_RUNTIME_DIR="$tmp/runtime" run heaps 'bad/prefix'
check "heaps: bad prefix: exit 1, names the allowed characters" eval 'rc_is 1 && err_has "A-Z a-z 0-9"'
run heaps a b
check "heaps: two prefixes: exit 2" rc_is 2
# ---- regions / iommu (VFIO: only the error paths run on a fixture) -------------

run regions 0000:03:00.0
check "regions: device on nvme: exit 1, says how to bind it" eval 'rc_is 1 &&
	err_has "0000:03:00.0 is bound to nvme, not to vfio-pci: bind it: dmakit bind 0000:03:00.0 vfio-pci" &&
	err_has "run \`dmakit bind 0000:03:00.0\` first"'

run regions 0000:04:02.1 --json
check "regions: unbound device: exit 1, no JSON on stdout" eval 'rc_is 1 && err_has "bound to no driver" && [ ! -s "$tmp/out" ]'

run regions 3:00
check "regions: bad address: exit 2 with usage" eval 'rc_is 2 && err_has "is not a PCI address" && err_has "usage: dmakit regions ADDR"'

run regions
check "regions: no address: exit 2" eval 'rc_is 2 && err_has "which device?"'

run regions 0000:09:00.0
check "regions: no such device: exit 1" eval 'rc_is 1 && err_has "no PCI device 0000:09:00.0"'

run iommu extra
check "iommu: unexpected argument: exit 2" eval 'rc_is 2 && err_has "unexpected argument"'

# 0000:00:02.0 is on vfio-pci in IOMMU group 9 of the fixture; the host has no
# /dev/vfio/9 for it (skipped where it has one).
if [ ! -e /dev/vfio/9 ]; then
	run regions 0000:00:02.0
	check "regions: vfio-pci device whose group node is missing: exit 1, names the node" eval 'rc_is 1 && err_has "/dev/vfio/"'
	run iommu
	check "iommu: group cannot be opened: exit 1, says so" eval 'rc_is 1 && err_has "skipping IOMMU group 9 of 0000:00:02.0" &&
		err_has "no vfio-pci device (or its IOMMU group) could be opened"'
else
	n=$((n + 1)); echo "ok $n - regions: vfio-pci device whose group node is missing # SKIP the host has /dev/vfio/9"
	n=$((n + 1)); echo "ok $n - iommu: group cannot be opened # SKIP the host has /dev/vfio/9"
fi

# ---- p2p (kernel p2pmem written into the tree here; candidates from the fixture) ---

run p2p
check "p2p: no p2pmem: the two functions with a prefetchable BAR as candidates" eval 'rc_is 0 &&
	head -n1 "$tmp/out" | grep -qE "^KIND +DEVICE +SIZE +AVAILABLE +PUBLISHED +BARS$" &&
	[ "$(wc -l <"$tmp/out")" -eq 3 ] &&
	grep -qE "^candidate +0000:00:02.0 +256 MiB +- +- +1$" "$tmp/out" &&
	grep -qE "^candidate +0000:04:00.0 +32 KiB +- +- +3$" "$tmp/out"'

p2pdir="$root/bus/pci/devices/0000:03:00.0/p2pmem"
mkdir -p "$p2pdir"
echo 16777216 >"$p2pdir/size"
echo 12582912 >"$p2pdir/available"
echo 1 >"$p2pdir/published"
: >"$p2pdir/allocate"

run p2p
check "p2p: kernel p2pmem listed first with its stats" eval 'rc_is 0 &&
	sed -n 2p "$tmp/out" | grep -qE "^kernel +0000:03:00.0 +16 MiB +12 MiB +yes +-$"'

run p2p list --json
check "p2p list --json: kernel and candidates, the documented keys" eval 'rc_is 0 && pyjson "
assert d[\"version\"] == 1, d
d = d[\"providers\"]
assert [(x[\"device\"], x[\"kind\"]) for x in d] == [(\"0000:03:00.0\", \"kernel\"),
    (\"0000:00:02.0\", \"candidate\"), (\"0000:04:00.0\", \"candidate\")], d
k = d[0]
assert (k[\"size\"], k[\"available\"], k[\"published\"], k[\"bars\"]) == (16777216, 12582912, True, []), k
c = d[1]
assert (c[\"size\"], c[\"available\"], c[\"published\"], c[\"bars\"]) == (268435456, None, None, [1]), c
"'

echo 0 >"$p2pdir/published"
run p2p --json
check "p2p --json: published read back from the file" eval 'rc_is 0 && pyjson "assert d[\"providers\"][0][\"published\"] is False, d"'
rm -rf -- "$p2pdir"

run p2p frob
check "p2p: unknown subcommand: exit 2" eval 'rc_is 2 && err_has "unknown subcommand \"frob\""'

run p2p --frob
check "p2p: unknown option: exit 2" eval 'rc_is 2 && err_has "unknown option --frob"'

# ---- bind / unbind (these change the tree) -------------------------------------

dev="$root/bus/pci/devices"

run bind 0000:03:00.0 dk_not_loaded
check "bind to a driver that is not loaded: exit 1, says to load it" eval 'rc_is 1 &&
	err_has "modprobe dk_not_loaded" && err_has "dmakit: cannot bind 0000:03:00.0 to dk_not_loaded: "'
check "bind to a driver that is not loaded: driver_override untouched" \
	file_is "$dev/0000:03:00.0/driver_override" "(null)"

# ---- names (a small PCI ID database of our own, DMAKIT_PCI_IDS) --------------------

# Known: Intel and its X710 with a subsystem; 1b36:0010 (the NVMe); 1af4 as a vendor
# only; classes 01/08/02 and 02/00; class 06 without subclass 04. Unknown: vendor 10de,
# class 03: lspci's forms "Vendor 10de", "Device 1eb8", "Class 0300", "Bridge [0604]".
printf '%s\n' '# test database' '8086  Intel Corporation' \
	'	1572  Ethernet Controller X710 for 10GbE SFP+' \
	'		8086 0001  Ethernet Converged Network Adapter X710-4' \
	'1b36  Red Hat, Inc.' '	0010  QEMU NVM Express Controller' '1af4  Red Hat, Inc.' \
	'C 01  Mass storage controller' '	08  Non-Volatile memory controller' \
	'		02  NVM Express' 'C 02  Network controller' '	00  Ethernet controller' \
	'C 06  Bridge' '	00  Host bridge' >"$tmp/pci.ids"

DMAKIT_PCI_IDS="$tmp/pci.ids" run devices --json
check "names: devices --json, known IDs" pyjson '
by = {x["address"]: x for x in d["devices"]}
nv = by["0000:03:00.0"]
want = {"vendor_name": "Red Hat, Inc.", "device_name": "QEMU NVM Express Controller",
        "subsystem_vendor_name": "Red Hat, Inc.", "subsystem_device_name": "Device 1100",
        "class_name": "Non-Volatile memory controller", "prog_if_name": "NVM Express"}
assert {k: nv[k] for k in want} == want, nv
pf = by["0000:04:00.0"]
assert pf["device_name"] == "Ethernet Controller X710 for 10GbE SFP+", pf
assert pf["subsystem_device_name"] == "Ethernet Converged Network Adapter X710-4", pf
assert pf["class_name"] == "Ethernet controller" and pf["prog_if_name"] is None, pf'
check "names: devices --json, lspci forms of unknown IDs" pyjson '
by = {x["address"]: x for x in d["devices"]}
gpu = by["0000:00:02.0"]
assert gpu["vendor_name"] == "Vendor 10de" and gpu["device_name"] == "Device 1eb8", gpu
assert gpu["subsystem_vendor_name"] == "Unknown vendor 10de", gpu
assert gpu["subsystem_device_name"] == "Device 0001" and gpu["class_name"] == "Class 0300", gpu
assert by["0000:00:1c.0"]["class_name"] == "Bridge [0604]", by["0000:00:1c.0"]
vf = by["0000:04:02.0"]
assert vf["vendor_name"] == "Intel Corporation" and vf["device_name"] == "Device 154c", vf
hb = by["0000:00:00.0"]
assert hb["class_name"] == "Host bridge", hb
assert hb["subsystem_vendor_name"] is None and hb["subsystem_device_name"] is None, hb'

DMAKIT_PCI_IDS="$tmp/pci.ids" run devices
check "names: devices table ends with lspci's line" eval 'rc_is 0 &&
	head -n1 "$tmp/out" | grep -qE "^ADDRESS +ID +SUBSYSTEM +CLASS +REV +DRIVER +GROUP +NUMA +NAME$" &&
	grep -qE "^0000:03:00.0 .* nvme +5 +0 +Non-Volatile memory controller: Red Hat, Inc. QEMU NVM Express Controller$" "$tmp/out" &&
	grep -qE "^0000:00:02.0 .*  Class 0300: Device 10de:1eb8$" "$tmp/out" &&
	grep -qE "^0000:04:02.1 .*  Ethernet controller: Intel Corporation Device 154c$" "$tmp/out"'
check "names: the numeric columns stay as they were" eval '
	[ "$(awk "\$1 == \"0000:03:00.0\" { print \$2, \$3, \$4, \$5, \$6, \$7, \$8 }" "$tmp/out")" = "1b36:0010 1af4:1100 010802 02 nvme 5 0" ]'

DMAKIT_PCI_IDS="$tmp/pci.ids" run devices -n
check "names: -n prints numbers only" eval 'rc_is 0 && cmp -s "$tmp/out" "$tmp/devices.env"'
DMAKIT_PCI_IDS="$tmp/pci.ids" run -n devices --json
check "names: -n leaves the name fields out of the JSON" pyjson '
assert not any(k.endswith("_name") for x in d["devices"] for k in x), d["devices"][0]'

DMAKIT_PCI_IDS="$tmp/pci.ids" run tree
check "names: tree shows vendor and device" eval 'rc_is 0 &&
	out_has "| \-0000:03:00.0  1b36:0010  nvme  Red Hat, Inc. QEMU NVM Express Controller" &&
	out_has "+-0000:04:02.0  8086:154c  iavf  Intel Corporation Device 154c  [VF of 0000:04:00.0]"'
DMAKIT_PCI_IDS="$tmp/pci.ids" run tree --json
check "names: tree --json node names" pyjson '
nv = d["host_bridges"][0]["children"][3]["children"][0]["children"][0]["children"][0]
assert nv["address"] == "0000:03:00.0", nv
assert (nv["vendor_name"], nv["device_name"], nv["class_name"]) == (
    "Red Hat, Inc.", "QEMU NVM Express Controller", "Non-Volatile memory controller"), nv'

DMAKIT_PCI_IDS="$tmp/pci.ids" run show 0000:03:00.0
check "names: show prints names after the numbers" eval 'rc_is 0 &&
	grep -qE "^  vendor:device +1b36:0010  Red Hat, Inc. QEMU NVM Express Controller$" "$tmp/out" &&
	grep -qE "^  subsystem +1af4:1100  Red Hat, Inc. Device 1100$" "$tmp/out" &&
	grep -qE "^  class +010802  Non-Volatile memory controller \(prog-if NVM Express\)$" "$tmp/out"'
DMAKIT_PCI_IDS="$tmp/pci.ids" run show 0000:03:00.0 --json
check "names: show --json has the name fields" pyjson '
assert d["device"]["prog_if_name"] == "NVM Express", d["device"]'

DMAKIT_PCI_IDS="$tmp/no-such-pci.ids" run devices
check "names: a database that cannot be read: numbers, exit 0, a warning naming it" eval 'rc_is 0 &&
	cmp -s "$tmp/out" "$tmp/devices.env" && err_has "no-such-pci.ids" && err_has "DMAKIT_PCI_IDS"'

run bind 3:00
check "bind: bad address syntax: exit 2" eval 'rc_is 2 && err_has "DDDD:BB:DD.F"'

run bind 0000:09:00.0
check "bind: unknown device: exit 1" eval 'rc_is 1 && err_has "0000:09:00.0"'

run bind 0000:00:02.0
check "bind: exit 0 when bound to vfio-pci" eval 'rc_is 0 && out_has "0000:00:02.0: bound to vfio-pci"'
check "bind: writes driver_override" file_is "$dev/0000:00:02.0/driver_override" "vfio-pci"
check "bind: names the group member that blocks VFIO" \
	err_has 'group 9 is not viable: 0000:00:02.1 is bound to snd_hda_intel; run `dmakit bind 0000:00:02.1`'

run bind 0000:03:00.0
check "bind: kernel did not bind (fixture): exit 1, strerror and library message" eval 'rc_is 1 &&
	err_has "dmakit: cannot bind 0000:03:00.0 to vfio-pci: " && err_has "dmesg"'

run unbind 0000:00:02.0
check "unbind: exit 0, reports the old driver" eval 'rc_is 0 && out_has "0000:00:02.0: unbound from vfio-pci"'
check "unbind: writes the address to the driver's unbind" \
	file_is "$root/bus/pci/drivers/vfio-pci/unbind" "0000:00:02.0"
check "unbind: clears driver_override" file_is "$dev/0000:00:02.0/driver_override" ""

run unbind 0000:09:00.0
check "unbind: unknown device: exit 1" rc_is 1

run unbind
check "unbind: no address: exit 2" rc_is 2

# ---- mdev (a tree of its own: mkfixture --mdev) --------------------------------

mroot=$("$MKFIXTURE" --keep --mdev) || { echo "Bail out! $MKFIXTURE --mdev failed"; exit 1; }
trap 'cli_cleanup; rm -rf -- "$mroot"' EXIT
mrun() { run --sysfs-root "$mroot" "$@"; }
U1=9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b10
U2=0a1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b11
U3=7e57a3b2-1c2d-4e5f-8a9b-0c1d2e3f4a5b

# The exact text mdevctl 1.2.0 prints (serde_json pretty, keys in insertion order).
cat >"$tmp/types.want" <<'JSON'
[
  {
    "ccw0": [
      {
        "vfio_ccw-io": {
          "available_instances": 1,
          "device_api": "vfio-ccw",
          "description": "I/O subchannel, (Non-QDIO)"
        }
      }
    ],
    "mtty": [
      {
        "mtty-1": {
          "available_instances": 24,
          "device_api": "vfio-pci",
          "name": "Single port serial"
        }
      },
      {
        "mtty-2": {
          "available_instances": 10,
          "device_api": "vfio-pci",
          "name": "Dual port serial"
        }
      }
    ]
  }
]
JSON
mrun mdev types --json
check "mdev types --json: exactly mdevctl's types --dumpjson" eval 'rc_is 0 && cmp -s "$tmp/out" "$tmp/types.want"'

mrun mdev types mtty --json
check "mdev types PARENT --json: that parent only" pyjson '
assert list(d[0].keys()) == ["mtty"], d
assert [list(t.keys())[0] for t in d[0]["mtty"]] == ["mtty-1", "mtty-2"], d'

mrun mdev types nope --json
check "mdev types of an unknown parent --json: [] as mdevctl" eval 'rc_is 0 && file_is "$tmp/out" "[]"'

mrun mdev types
check "mdev types: text, name and description only when present" eval 'rc_is 0 &&
	out_has "  mtty-2" && out_has "    Available instances: 10" && out_has "    Name: Dual port serial" &&
	out_has "    Description: I/O subchannel, (Non-QDIO)" && [ "$(grep -c "Name:" "$tmp/out")" -eq 2 ]'

mrun mdev types nope
check "mdev types of an unknown parent: exit 1" eval 'rc_is 1 && err_has "no mdev parent nope"'

cat >"$tmp/list.want" <<JSON
[
  {
    "ccw0": [
      {
        "$U3": {
          "mdev_type": "vfio_ccw-io",
          "start": "manual",
          "attrs": []
        }
      }
    ],
    "mtty": [
      {
        "$U2": {
          "mdev_type": "mtty-2",
          "start": "manual",
          "attrs": []
        }
      },
      {
        "$U1": {
          "mdev_type": "mtty-2",
          "start": "manual",
          "attrs": []
        }
      }
    ]
  }
]
JSON
mrun mdev list --json
check "mdev list --json: exactly mdevctl's list --dumpjson" eval 'rc_is 0 && cmp -s "$tmp/out" "$tmp/list.want"'

run mdev list --json
check "mdev list --json without mdevs: []" eval 'rc_is 0 && file_is "$tmp/out" "[]"'

mrun mdev list
check "mdev list: one line per instance" eval 'rc_is 0 && [ "$(wc -l <"$tmp/out")" -eq 3 ] &&
	out_has "$U1 mtty mtty-2 manual"'

mrun devices
check "devices: the mdev table" eval 'rc_is 0 && grep -qE "^MDEV +PARENT +TYPE +API +GROUP$" "$tmp/out" &&
	[ "$(awk "\$1 == \"$U3\" { print \$2, \$3, \$4, \$5 }" "$tmp/out")" = "ccw0 vfio_ccw-io vfio-ccw 13" ]'

mrun devices --json
check "devices --json: mdevs" pyjson '
assert d["devices"] == [], d
m = d["mdevs"]
assert [x["uuid"] for x in m] == ["'$U3'", "'$U2'", "'$U1'"], m
assert m[2] == {"uuid": "'$U1'", "parent": "mtty", "type": "mtty-2", "device_api": "vfio-pci",
                "iommu_group": 12}, m[2]'

run devices --json
check "devices --json: mdevs [] without mdevs" pyjson 'assert d["mdevs"] == [], d'

create_file="$mroot/devices/virtual/mtty/mtty/mdev_supported_types/mtty-2/create"
mrun mdev create mtty mtty-2
check "mdev create: writes a new lower-case UUID and prints it" eval 'rc_is 0 &&
	grep -qE "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$" "$tmp/out" &&
	file_is "$create_file" "$(cat "$tmp/out")"'

mrun mdev create mtty mtty-2 11111111-2222-4333-8444-55555555555A
check "mdev create with a UUID: written lower case" eval 'rc_is 0 &&
	file_is "$create_file" "11111111-2222-4333-8444-55555555555a" && out_has "11111111-2222-4333-8444-55555555555a"'

mrun mdev create mtty mtty-9
check "mdev create: unknown type: exit 1, lists the types" eval 'rc_is 1 && err_has "its types: "'

mrun mdev create mtty mtty-2 not-a-uuid
check "mdev create: malformed UUID: exit 2" eval 'rc_is 2 && err_has "is not a UUID"'

mrun mdev create mtty
check "mdev create: no type: exit 2" rc_is 2

mrun mdev remove "$U1"
check "mdev remove: writes 1 to remove" eval 'rc_is 0 && file_is "$mroot/bus/mdev/devices/$U1/remove" "1"'

mrun mdev remove 11111111-2222-4333-8444-555555555555
check "mdev remove: unknown: exit 1" eval 'rc_is 1 && err_has "nothing to remove"'

mrun mdev remove xyz
check "mdev remove: malformed UUID: exit 2" eval 'rc_is 2 && err_has "is not a UUID"'

mrun mdev frob
check "mdev: unknown subcommand: exit 2" eval 'rc_is 2 && err_has "unknown subcommand \"frob\""'

mrun mdev
check "mdev: no subcommand: exit 2" rc_is 2

mrun mdev list --frob
check "mdev list: unknown option: exit 2" eval 'rc_is 2 && err_has "unknown option --frob"'

cli_done
