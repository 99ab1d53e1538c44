#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn the serial console log of a dmakit VM run into one TAP stream.

Used by tests/vm/run.sh; the protocol (the @@DK-* lines that the guest /init prints)
is described in tests/vm/init.sh and docs/vm.md.

  console2tap.py --log FILE [--qemu-rc N] [--timeout S] [--wall S] [--show-output] NAME...

NAME... are the guest programs in the order /init runs them. Output (stdout):
  - "vm: booted ..."              one case: /init ran and every module loaded;
  - "NAME: <description>"         one case per TAP case the program printed;
  - "NAME: exit status 0"         one case per program (exit status, timeout, plan);
  - "vm: kernel log clean"        one case: no warning, BUG or oops in the kernel log;
  - "vm: guest finished ..."      one case: /init reached @@DK-DONE.
A failed program's whole output follows as "# " lines (every program's with
--show-output); a VM that never finished brings the tail of the console log. Exit status: 0 when every case passed, else 1.
"""
import argparse
import re
import sys

MARK = re.compile(r"@@DK-(INIT|MODFAIL|READY|BEGIN|END|KTROUBLE|DONE)(?:\s+(.*?))?\s*$")
TAP_CASE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
BAIL = re.compile(r"^Bail out!\s*(.*)$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc")
KERNEL_TROUBLE = re.compile(r"Kernel panic|BUG:|Oops|general protection fault|"
                            r"hardware error|Call Trace|watchdog: BUG")


def kv(text):
    """'a=1 b=2' -> {'a': '1', 'b': '2'}"""
    out = {}
    for tok in (text or "").split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


class Prog:
    def __init__(self, name):
        self.name = name
        self.begun = False
        self.ended = False
        self.rc = None
        self.secs = None
        self.timed_out = False
        self.output = []


def parse(lines, names):
    progs = {n: Prog(n) for n in names}
    vm = {"init": None, "ready": None, "done": None, "modfail": [], "ktrouble": [], "extra": []}
    cur = None
    for line in lines:
        m = MARK.search(line)
        if not m:
            if cur is not None:
                cur.output.append(line)
            continue
        prefix = line[:m.start()]
        if cur is not None and prefix.strip():
            cur.output.append(prefix)
        kind, arg = m.group(1), m.group(2) or ""
        if kind == "INIT":
            vm["init"] = kv(arg)
        elif kind == "MODFAIL":
            vm["modfail"].append(arg)
        elif kind == "READY":
            vm["ready"] = kv(arg)
        elif kind == "BEGIN":
            name = arg.split()[0] if arg.split() else ""
            cur = progs.get(name)
            if cur is None:  # a program run.sh did not announce: report it too
                cur = progs[name] = Prog(name)
                names.append(name)
            cur.begun = True
        elif kind == "END":
            parts = arg.split(None, 1)
            p = progs.get(parts[0]) if parts else None
            if p is not None:
                d = kv(parts[1] if len(parts) > 1 else "")
                p.ended = True
                p.rc = int(d.get("rc", "-1"))
                p.secs = d.get("secs")
                p.timed_out = d.get("timeout") == "1"
            cur = None
        elif kind == "KTROUBLE":
            vm["ktrouble"].append(arg)
        elif kind == "DONE":
            vm["done"] = kv(arg)
            cur = None
    return progs, vm


class Tap:
    def __init__(self, out):
        self.out = out
        self.n = 0
        self.passed = self.failed = self.skipped = 0

    def case(self, ok, desc, directive=None):
        self.n += 1
        line = f"{'ok' if ok else 'not ok'} {self.n} - {desc}"
        if directive:
            line += f" # {directive}"
        print(line, file=self.out)
        d = (directive or "").upper()
        if not ok and not d.startswith("TODO"):
            self.failed += 1
        elif ok and d.startswith("SKIP"):
            self.skipped += 1
        else:
            self.passed += 1

    def diag(self, lines):
        for line in lines:
            print(f"#   {line}".rstrip(), file=self.out)


def split_directive(desc):
    """'foo # SKIP no iommu' -> ('foo', 'SKIP no iommu'); other '#' stay in desc."""
    m = re.search(r"\s#\s*((?:SKIP|TODO)\b.*)$", desc, re.I)
    if m:
        return desc[:m.start()].rstrip(), m.group(1)
    return desc, None


def report_prog(tap, p, timeout, show_output=False):
    n_before_fail = tap.failed
    plan = None
    plan_skip = None
    cases = 0
    for raw in p.output:
        line = raw.rstrip()
        m = TAP_PLAN.match(line)
        if m:
            plan = int(m.group(1))
            if plan == 0:
                plan_skip = m.group(2) or "SKIP"
            continue
        m = BAIL.match(line)
        if m:
            tap.case(False, f"{p.name}: Bail out! {m.group(1)}".rstrip())
            continue
        m = TAP_CASE.match(line)
        if not m:
            continue
        cases += 1
        desc, directive = split_directive(m.group(3).strip())
        tap.case(m.group(1) == "ok", f"{p.name}: {desc}" if desc else p.name, directive)

    if not p.begun:
        tap.case(False, f"{p.name}: not run (the guest stopped before it)")
    elif not p.ended:
        tap.case(False, f"{p.name}: did not finish (the guest died or hung while it ran)")
    elif p.timed_out:
        tap.case(False, f"{p.name}: timed out after {timeout} s (rc={p.rc})")
    elif p.rc != 0:
        tap.case(False, f"{p.name}: exit status {p.rc}")
    elif plan_skip is not None and cases == 0:
        reason = re.sub(r"^SKIP\S*\s*", "", plan_skip, flags=re.I)
        tap.case(True, f"{p.name}: exit status 0", f"SKIP {reason}".rstrip())
    elif plan is not None and plan != cases:
        tap.case(False, f"{p.name}: planned {plan} cases, ran {cases}")
    else:
        secs = f" ({p.secs} s)" if p.secs else ""
        tap.case(True, f"{p.name}: exit status 0{secs}")

    if (tap.failed > n_before_fail or show_output) and p.begun:
        tap.diag([f"--- guest output of {p.name} ---"] + p.output + ["--- end ---"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--qemu-rc", type=int, default=0)
    ap.add_argument("--timeout", default="?", help="per-program timeout in the guest (s)")
    ap.add_argument("--vm-timeout", default="?", help="hard timeout of the whole VM (s)")
    ap.add_argument("--wall", default=None, help="host wall time of the QEMU run (s)")
    ap.add_argument("--tail", type=int, default=40)
    ap.add_argument("--show-output", action="store_true",
                    help="print every program's output as '#' lines, not only a failed one's")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()

    with open(a.log, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    lines = [ANSI.sub("", l).rstrip("\r") for l in text.replace("\r\n", "\n").split("\n")]
    names = list(a.names)
    progs, vm = parse(lines, names)
    tap = Tap(sys.stdout)
    tail = [l for l in lines if l.strip()][-a.tail:]
    trouble = [l for l in lines if KERNEL_TROUBLE.search(l)][:20]

    print("TAP version 13")
    # 1. boot and modules
    if vm["init"] is None:
        tap.case(False, "vm: booted to /init")
    elif vm["ready"] is None:
        tap.case(False, "vm: booted to /init and loaded the modules (stopped while loading)")
    elif vm["modfail"]:
        tap.case(False, f"vm: booted, {len(vm['modfail'])} of {vm['ready'].get('modules', '?')} "
                 "modules failed to load")
        tap.diag(vm["modfail"])
    else:
        tap.case(True, f"vm: booted kernel {vm['init'].get('kernel', '?')}, "
                 f"loaded {vm['ready'].get('modules', '?')} modules")

    # 2. programs
    for name in names:
        report_prog(tap, progs[name], a.timeout, a.show_output)

    # 3. the kernel log (init.sh reports it just before @@DK-DONE)
    if vm["done"] is not None:
        if vm["ktrouble"]:
            tap.case(False, f"vm: kernel log clean: no, {len(vm['ktrouble'])} warning/BUG/oops "
                     "lines in dmesg")
            tap.diag(vm["ktrouble"][:40])
        else:
            tap.case(True, "vm: kernel log clean (no warning, BUG or oops in dmesg)")

    # 4. the guest finished
    if vm["done"] is not None:
        tap.case(True, "vm: guest finished (@@DK-DONE) and powered off")
    else:
        why = "QEMU was killed by the host timeout" if a.qemu_rc in (124, 137) else \
              f"QEMU exited with status {a.qemu_rc}"
        tap.case(False, f"vm: guest finished (@@DK-DONE): no, {why} "
                 f"(hard timeout {a.vm_timeout} s)")
        if trouble:
            tap.diag(["--- kernel trouble in the console log ---"] + trouble)
        tap.diag([f"--- last {len(tail)} lines of the console log ({a.log}) ---"] + tail +
                 ["--- end ---"])

    init_t = vm["init"].get("uptime") if vm["init"] else None
    ready_t = vm["ready"].get("uptime") if vm["ready"] else None
    done_t = vm["done"].get("uptime") if vm["done"] else None
    print(f"# vm: guest uptime at /init {init_t or '-'} s, modules loaded {ready_t or '-'} s, "
          f"done {done_t or '-'} s; host wall time {a.wall or '-'} s")
    print(f"1..{tap.n}")
    print(f"# vm: {tap.passed} passed, {tap.failed} failed, {tap.skipped} skipped")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
