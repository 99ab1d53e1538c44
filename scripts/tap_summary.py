#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count TAP test cases in meson test logs (*.json) and plain TAP files (*.tap).

Prints every failing case, one line with the counts per file (gcc, builds, asan, tsan, fuzz,
vm-aw48, vm-aw39 ...), the skipped count when there are any, then the closing line
"N passed, N failed" (exactly that: CI reads it).
Exit status 1 when any case failed or a test binary failed without TAP output
(a crash counts as one failed case).
"""
import json
import os
import re
import sys

OK = re.compile(r"^(not ok|ok)\b\s*\d*\s*-?\s*(.*)$")


def count(text, label):
    passed = failed = skipped = 0
    failures = []
    for line in text.splitlines():
        m = OK.match(line.strip())
        if not m:
            continue
        rest = m.group(2)
        if m.group(1) == "not ok":
            if "# TODO" in rest:
                continue
            failed += 1
            failures.append(f"{label}: {rest}")
        elif "# SKIP" in rest.upper():
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, failures


def main(d):
    tp = tf = ts = 0
    fails = []
    parts = []
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        before = (tp, tf, ts)
        if name.endswith(".json"):
            with open(path) as f:
                for line in f:
                    if not line.strip():
                        continue
                    t = json.loads(line)
                    label = f"{name[:-5]}/{t['name']}"
                    p, fl, s, fs = count(t.get("stdout", "") or "", label)
                    if t.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and fl == 0:
                        fl, fs = 1, [f"{label}: {t.get('result')} (exit {t.get('returncode')})"]
                    tp, tf, ts = tp + p, tf + fl, ts + s
                    fails += fs
        elif name.endswith(".tap"):
            with open(path) as f:
                p, fl, s, fs = count(f.read(), name[:-4])
            tp, tf, ts = tp + p, tf + fl, ts + s
            fails += fs
        else:
            continue
        dp, df, ds = tp - before[0], tf - before[1], ts - before[2]
        parts.append(f"{name.rsplit('.', 1)[0]} {dp}" + (f"/{df} failed" if df else "") +
                     (f"/{ds} skipped" if ds else ""))
    for x in fails:
        print("FAILED:", x)
    if parts:
        print("passed per part: " + ", ".join(parts))
    if ts:
        print(f"{ts} skipped (counted neither as passed nor as failed)")
    print(f"{tp} passed, {tf} failed")
    return 1 if tf else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/test-results"))
