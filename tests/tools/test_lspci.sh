#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_lspci.sh DMAKIT - `dmakit devices --json` on this machine's real /sys
# against lspci (pciutils): the same set of addresses, and per device the
# same vendor/device/subsystem IDs, class (with prog-if), revision and
# kernel driver. One TAP case for the set, one per device.
#
# lspci quirks handled: `-mm` prints the class as "CCSS" with the prog-if as
# "-pPP" (absent means 00), omits "-rRR" when the revision is 0, and prints
# "" for subsystem IDs that are absent (dmakit then reports 0000 or ffff);
# drivers come from the "Kernel driver in use:" lines of `lspci -Dk`.
#
# Names: per device one more case compares the name fields of `dmakit devices
# --json` (PCI ID database, default search) with `lspci -Dmm`: class, vendor,
# device, subsystem vendor and device, as lspci prints them (unknown IDs
# included: "Device 1234", "Class 0780"). Without a database these cases are
# skipped with the package to install (apt-get install pci.ids), except under
# CI. lspci also asks udev's hwdb for IDs its pci.ids lacks; a name only the
# hwdb knows would show up here as a difference.
#
# Without lspci the test is skipped, except under CI (CI set and not
# "false"/"0"), where pciutils must be installed and its absence fails.
set -u

DMAKIT=${1:?usage: test_lspci.sh DMAKIT}

echo "TAP version 13"

if ! command -v lspci >/dev/null 2>&1; then
	case "${CI:-}" in
	"" | false | 0)
		echo "1..0 # SKIP lspci not found: install pciutils (apt-get install pciutils)"
		exit 0
		;;
	*)
		echo "1..1"
		echo "not ok 1 - lspci is installed (CI=$CI: install pciutils in the CI image)"
		exit 1
		;;
	esac
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dk-lspci.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -rf -- "$tmp"' EXIT

if ! env -u DMAKIT_ALLOW -u DMAKIT_DENY -u DMAKIT_PCI_IDS "$DMAKIT" --sysfs-root /sys devices --json \
	>"$tmp/dmakit.json" 2>"$tmp/dmakit.err"; then
	echo "1..1"
	echo "not ok 1 - dmakit devices --json on /sys"
	sed 's/^/#   /' "$tmp/dmakit.err"
	exit 1
fi
# lspci may warn on stderr (e.g. "Unable to load libkmod resources"): ignore it.
if ! lspci -Dnmm >"$tmp/lspci_mm.txt" 2>"$tmp/lspci.err" ||
	! lspci -Dk >"$tmp/lspci_k.txt" 2>>"$tmp/lspci.err" ||
	! lspci -Dmm >"$tmp/lspci_names.txt" 2>>"$tmp/lspci.err"; then
	echo "1..1"
	echo "not ok 1 - lspci runs"
	sed 's/^/#   /' "$tmp/lspci.err"
	exit 1
fi

CI=${CI:-} python3 - "$tmp/dmakit.json" "$tmp/lspci_mm.txt" "$tmp/lspci_k.txt" \
	"$tmp/lspci_names.txt" <<'EOF'
import json
import os
import re
import shlex
import sys

dk_path, mm_path, k_path, names_path = sys.argv[1:5]
in_ci = os.environ.get("CI", "") not in ("", "false", "0")

with open(dk_path) as f:
    doc = json.load(f)
dk = {d["address"]: d for d in doc["devices"] if d.get("kind", "function") == "function"}

# lspci -Dnmm: SLOT "CCSS" "VVVV" "DDDD" [-rRR] [-pPP] "SV" "SD"
lspci = {}
with open(mm_path) as f:
    for line in f:
        if not line.strip():
            continue
        words = shlex.split(line)
        opts = [w for w in words if re.fullmatch(r"-[rp][0-9a-fA-F]{2}", w)]
        pos = [w for w in words if w not in opts]
        rev = next((w[2:] for w in opts if w.startswith("-r")), "00")
        progif = next((w[2:] for w in opts if w.startswith("-p")), "00")
        pos += [""] * (6 - len(pos))
        slot, cls, ven, dev, sv, sd = pos[:6]
        lspci[slot.lower()] = {
            "vendor": ven.lower(), "device": dev.lower(), "subsystem_vendor": sv.lower(),
            "subsystem_device": sd.lower(), "class": (cls + progif).lower(),
            "revision": rev.lower(), "driver": None,
        }

# lspci -Dk: a device line, then tab-indented lines incl. "Kernel driver in use: X".
with open(k_path) as f:
    cur = None
    for line in f:
        if line and not line[0].isspace():
            cur = line.split()[0].lower() if line.split() else None
        elif cur in lspci:
            m = re.match(r"\s+Kernel driver in use:\s*(\S+)", line)
            if m:
                lspci[cur]["driver"] = m.group(1)

# lspci -Dmm: SLOT "Class" "Vendor" "Device" [-rRR] [-pPP] "SVendor" "SDevice"
names = {}
with open(names_path) as f:
    for line in f:
        if not line.strip():
            continue
        words = [w for w in shlex.split(line) if not re.fullmatch(r"-[rp][0-9a-fA-F]{2}", w)]
        words += [""] * (6 - len(words))
        slot, cls, ven, dev, sv, sd = words[:6]
        names[slot.lower()] = {"class_name": cls, "vendor_name": ven, "device_name": dev,
                               "subsystem_vendor_name": sv or None,
                               "subsystem_device_name": sd or None}

n = 0
failed = 0

def case(ok, name, diag=(), skip=None):
    global n, failed
    n += 1
    if skip:
        print("ok %d - %s # SKIP %s" % (n, name, skip))
        return
    print(("ok" if ok else "not ok") + " %d - %s" % (n, name))
    if not ok:
        failed += 1
        for d in diag:
            print("#   " + d)

have_names = any("vendor_name" in d for d in dk.values())
no_db = None
if not have_names:
    no_db = "dmakit found no PCI ID database: apt-get install pci.ids"
    if in_ci:
        no_db = None  # under CI the database must be there: the cases fail

print("1..%d" % (1 + 2 * len(set(dk) | set(lspci))))
only_dk = sorted(set(dk) - set(lspci))
only_lspci = sorted(set(lspci) - set(dk))
case(not only_dk and not only_lspci, "same %d addresses as lspci" % len(lspci),
     ["only in dmakit: " + " ".join(only_dk), "only in lspci: " + " ".join(only_lspci)])

for addr in sorted(set(dk) | set(lspci)):
    if addr not in dk or addr not in lspci:
        case(False, addr + " listed by both", ["missing from " + ("dmakit" if addr not in dk else "lspci")])
        continue
    want, got = lspci[addr], dk[addr]
    diffs = []
    for key in ("vendor", "device", "class", "revision", "driver"):
        if want[key] != got[key]:
            diffs.append("%s: lspci %r, dmakit %r" % (key, want[key], got[key]))
    for key in ("subsystem_vendor", "subsystem_device"):
        if want[key] == "":
            ok = got[key] in ("0000", "ffff")
        else:
            ok = want[key] == got[key]
        if not ok:
            diffs.append("%s: lspci %r, dmakit %r" % (key, want[key], got[key]))
    case(not diffs, "%s %s:%s matches lspci" % (addr, got["vendor"], got["device"]), diffs)

for addr in sorted(set(dk) | set(lspci)):
    want, got = names.get(addr), dk.get(addr)
    diffs = []
    if want is None or got is None:
        diffs.append("missing from " + ("lspci -Dmm" if want is None else "dmakit"))
    else:
        for key in ("class_name", "vendor_name", "device_name", "subsystem_vendor_name",
                    "subsystem_device_name"):
            if want[key] != got.get(key, "(no field)"):
                diffs.append("%s: lspci %r, dmakit %r" % (key, want[key], got.get(key, "(no field)")))
    case(not diffs, "%s names match lspci -Dmm" % addr, diffs, skip=no_db)

sys.exit(1 if failed else 0)
EOF
