#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The layering test: every #include under src/, drivers/, tools/, examples/ and
include/dmakit/ follows the matrix in src/LAYERS (its header says how to read it).

Usage: test_layers.py ROOT          check the tree at ROOT (TAP, one case per folder)
       test_layers.py --self-test   check the checker on small trees made in a temp dir

Quoted includes are resolved like the compiler does: the including file's folder, then
include/, then src/. Angle includes are resolved in include/ and src/; those found in
neither are system headers and not checked. Exit status 1 when a case fails.
"""
import os
import re
import subprocess
import sys
import tempfile

CHECKED = ('src', 'drivers', 'tools', 'examples', 'include/dmakit')
SOURCE = ('.c', '.h')
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PUBLIC = 'public'  # "may include" keyword: every public header


class Matrix:
    """src/LAYERS: layers (name, folder, allowed) and the layer of each public header."""

    def __init__(self, root):
        self.root = root
        self.path = os.path.join(root, 'src', 'LAYERS')
        self.errors = []
        self.layers = {}    # name -> set of allowed layer names (and maybe PUBLIC)
        self.folders = {}   # folder (relative to root) -> layer name
        self.patterns = []  # (parent folder, pattern layer name) for "x/*"
        self.headers = {}   # public header file name -> layer name
        self._allowed_lines = []  # (where, name, allowed as written), in file order
        self._read()

    def _read(self):
        try:
            with open(self.path, encoding='utf-8') as f:
                lines = f.readlines()
        except OSError as e:
            self.errors.append(f'{self.path}: {e.strerror}: the layering matrix is missing')
            return
        header_lines = []
        for no, line in enumerate(lines, 1):
            words = line.split('#', 1)[0].split()
            if not words:
                continue
            where = f'src/LAYERS:{no}'
            if words[0] == 'layer' and len(words) >= 3:
                self._add_layer(where, words[1], words[2], words[3:])
            elif words[0] == 'header' and len(words) >= 3:
                header_lines.append((where, words[1], words[2:]))
            else:
                self.errors.append(f'{where}: expected "layer NAME FOLDER [LAYER...]" or '
                                   f'"header LAYER HEADER..."')
        for where, name, allowed in self._allowed_lines:
            for a in allowed:
                if a != PUBLIC and not self._known(a):
                    self.errors.append(f'{where}: layer {name} may include "{a}", '
                                       'which is no layer')
        for where, layer, names in header_lines:
            if not self._known(layer):
                self.errors.append(f'{where}: "{layer}" is no layer')
            for h in names:
                if h in self.headers:
                    self.errors.append(f'{where}: {h} is already in layer {self.headers[h]}')
                self.headers[h] = layer

    def _add_layer(self, where, name, folder, allowed):
        if name in self.layers:
            self.errors.append(f'{where}: layer {name} is defined twice')
        self.layers[name] = set(allowed)
        self._allowed_lines.append((where, name, allowed))
        folder = folder.rstrip('/')
        if folder.endswith('/*'):
            if name != folder:
                self.errors.append(f'{where}: a "/*" layer is named after its folder: '
                                   f'layer {folder} {folder}')
            self.patterns.append((folder[:-2], name))
        elif folder in self.folders:
            self.errors.append(f'{where}: folder {folder} is already layer '
                               f'{self.folders[folder]}')
        else:
            self.folders[folder] = name

    def _known(self, name):
        return name in self.layers or self._pattern_of(name) is not None

    def _pattern_of(self, name):
        """The "x/*" layer that name ("x/y") is an instance of, or None."""
        parent = os.path.dirname(name)
        for folder, pattern in self.patterns:
            if parent == folder and os.path.basename(name):
                return pattern
        return None

    def allowed(self, name):
        if name in self.layers:
            return self.layers[name]
        pattern = self._pattern_of(name)
        return self.layers[pattern] if pattern else set()

    def layer_of(self, rel):
        """Layer of a file (path relative to the root), or None."""
        folder = os.path.dirname(rel)
        if folder == 'include/dmakit':
            return self.headers.get(os.path.basename(rel))
        if folder in self.folders:
            return self.folders[folder]
        if self._pattern_of(folder):
            return folder
        return None

    def may_include(self, layer, target_layer, target_public):
        if target_layer is None:
            return False
        allowed = self.allowed(layer)
        if target_public and PUBLIC in allowed:
            return True
        return target_layer == layer or target_layer in allowed

    def describe_allowed(self, layer):
        allowed = self.allowed(layer)
        names = [layer] + [a for a in self._ordered(layer) if a != PUBLIC]
        if PUBLIC in allowed:
            names.append('public headers')
        return ', '.join(names)

    def _ordered(self, layer):
        key = layer if layer in self.layers else self._pattern_of(layer)
        for _, name, allowed in self._allowed_lines:
            if name == key:
                return allowed
        return []


def sources(root):
    """Every .c/.h under the checked folders, relative to root, sorted."""
    out = []
    for top in CHECKED:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for f in filenames:
                if f.endswith(SOURCE):
                    out.append(os.path.relpath(os.path.join(dirpath, f), root))
    return sorted(set(out))


def resolve(root, rel, delim, name):
    """Path (relative to root) of the file an include names, '' outside the tree, or None."""
    dirs = [os.path.dirname(rel)] if delim == '"' else []
    for d in dirs + ['include', 'src']:
        path = os.path.normpath(os.path.join(root, d, name))
        if os.path.isfile(path):
            rp = os.path.relpath(path, root)
            return '' if rp.startswith('..') else rp
    return None


def includes(root, rel):
    with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
        for no, line in enumerate(f, 1):
            m = INCLUDE_RE.match(line)
            if m:
                yield no, m.group(1), m.group(2)


def check_file(mx, root, rel):
    """Forbidden includes of one file: a list of messages."""
    layer = mx.layer_of(rel)
    public_src = rel.startswith('include/dmakit/')
    bad = []
    for no, delim, name in includes(root, rel):
        spelled = f'"{name}"' if delim == '"' else f'<{name}>'
        target = resolve(root, rel, delim, name)
        if target is None:
            if delim == '"':
                bad.append(f'{rel}:{no}: {spelled} is not in the tree (looked in '
                           f'{os.path.dirname(rel) or "."}/, include/, src/)')
            continue
        if target == '':
            bad.append(f'{rel}:{no}: {spelled} is outside the source tree')
            continue
        t_public = target.startswith('include/dmakit/')
        t_layer = mx.layer_of(target)
        if public_src and not t_public:
            bad.append(f'{rel}:{no}: a public header may include only public headers, '
                       f'not {spelled} ({t_layer or "no layer"})')
        elif not mx.may_include(layer, t_layer, t_public):
            bad.append(f'{rel}:{no}: {layer} may not include {spelled} '
                       f'({t_layer or "no layer: add its folder to src/LAYERS"}); '
                       f'allowed: {mx.describe_allowed(layer)}')
    return bad


class Tap:
    def __init__(self):
        self.cases = []

    def case(self, ok, name, diag=()):
        self.cases.append((ok, name, list(diag)))

    def emit(self, out):
        print('TAP version 13', file=out)
        print(f'1..{len(self.cases)}', file=out)
        for i, (ok, name, diag) in enumerate(self.cases, 1):
            print(f'{"ok" if ok else "not ok"} {i} - {name}', file=out)
            for d in diag:
                print(f'# {d}', file=out)
        return all(ok for ok, _, _ in self.cases)


def check_tree(root, out=sys.stdout):
    """Check the tree at root; print TAP to out; True when every case passes."""
    tap = Tap()
    mx = Matrix(root)
    tap.case(not mx.errors, 'src/LAYERS is a well-formed matrix', mx.errors)
    if mx.errors:
        return tap.emit(out)

    by_folder = {}
    for rel in sources(root):
        by_folder.setdefault(os.path.dirname(rel), []).append(rel)

    stray = []
    for folder, files in sorted(by_folder.items()):
        if folder == 'include/dmakit':
            continue
        if mx.layer_of(files[0]) is None:
            stray.append(f'{folder}/ ({len(files)} source files) is in no layer: '
                         'add it to src/LAYERS')
    tap.case(not stray, 'every folder with sources is a layer', stray)

    headers = [os.path.basename(r) for r in by_folder.get('include/dmakit', [])]
    diag = [f'include/dmakit/{h} is in no layer: add it to a "header" line of src/LAYERS'
            for h in headers if h not in mx.headers]
    diag += [f'src/LAYERS names {h} (layer {mx.headers[h]}), which is not in '
             'include/dmakit: remove it or add the header'
             for h in sorted(mx.headers) if h not in headers]
    tap.case(not diag, 'every public header is in exactly one layer', diag)

    for folder, files in sorted(by_folder.items()):
        layer = 'public headers' if folder == 'include/dmakit' else mx.layer_of(files[0])
        if layer is None:
            continue
        bad = [m for rel in files for m in check_file(mx, root, rel)]
        n = sum(1 for rel in files for _ in includes(root, rel))
        tap.case(not bad, f'{folder}/ ({layer}): {len(files)} files, {n} includes'
                 + (f', {len(bad)} not allowed' if bad else ''), bad)
    return tap.emit(out)


# ---- self-test: the checker on synthetic trees ------------------------------

SELF_LAYERS = """\
layer core      src/core
layer mem       src/mem       core
layer root      src           mem core
layer drivers/* drivers/*     public
header core     common.h
header mem      memory.h
"""

SELF_FILES = {
    'src/LAYERS': SELF_LAYERS,
    'include/dmakit/common.h': '#include <stdint.h>\n',
    'include/dmakit/memory.h': '#include <dmakit/common.h>\n',
    'src/core/core.h': '#include <dmakit/common.h>\n',
    'src/core/core.c': '/* core */\n#include "core.h"\n#include <string.h>\n',
    'src/mem/mem.h': '#include "core/core.h"\n',
    # allowed: mem -> core (line 2); forbidden: core -> mem (line 3 of core/bad.c)
    'src/mem/mem.c': '#include "mem/mem.h"\n#include "core/core.h"\n#include <dmakit/memory.h>\n',
    'src/init.c': '#include "mem/mem.h"\n#include "core/core.h"\n',
    'drivers/d/d.c': '#include <dmakit/memory.h>\n#include "d.h"\n',
    'drivers/d/d.h': '#include <dmakit/common.h>\n',
}
SELF_FORBIDDEN = {'src/core/bad.c': '#include "core.h"\n\n#include "mem/mem.h"\n'}
SELF_STRAY = {'src/stray/x.c': '#include "core/core.h"\n'}


def make_tree(base, files):
    for rel, text in files.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)


def run_checker(root):
    p = subprocess.run([sys.executable, os.path.abspath(__file__), root],
                       capture_output=True, text=True, check=False)
    return p.returncode, p.stdout + p.stderr


def self_test():
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix='dk-layers-') as tmp:
        clean = os.path.join(tmp, 'clean')
        make_tree(clean, SELF_FILES)
        rc, out = run_checker(clean)
        tap.case(rc == 0 and 'not ok' not in out,
                 'a tree whose includes all follow the matrix passes',
                 [] if rc == 0 else out.splitlines())

        dirty = os.path.join(tmp, 'dirty')
        make_tree(dirty, {**SELF_FILES, **SELF_FORBIDDEN, **SELF_STRAY})
        rc, out = run_checker(dirty)
        tap.case(rc == 1, f'one forbidden edge and one stray folder: exit status 1 (got {rc})',
                 out.splitlines() if rc != 1 else [])
        edges = [ln for ln in out.splitlines() if 'may not include' in ln]
        want = ('# src/core/bad.c:3: core may not include "mem/mem.h" (mem); '
                'allowed: core')
        tap.case(edges == [want], 'exactly the forbidden edge is reported, with file, line '
                 'and rule', [] if edges == [want] else
                 [f'got: {e}' for e in edges] + [f'want: {want}'])
        stray = [ln for ln in out.splitlines() if 'src/stray/' in ln]
        tap.case(len(stray) == 1 and 'add it to src/LAYERS' in stray[0],
                 'a source folder in no layer is reported with "add it to src/LAYERS"',
                 [] if len(stray) == 1 else out.splitlines())

        leak = os.path.join(tmp, 'leak')
        make_tree(leak, {**SELF_FILES,
                         'drivers/d/d.c': '#include <dmakit/memory.h>\n#include <core/core.h>\n',
                         'include/dmakit/memory.h': '#include "../../src/core/core.h"\n'})
        rc, out = run_checker(leak)
        bad = sorted(ln for ln in out.splitlines() if ln.startswith('# ') and ':' in ln)
        tap.case(rc == 1 and len(bad) == 2
                 and any(b.startswith('# drivers/d/d.c:2: drivers/d may not include '
                                      '<core/core.h> (core); allowed: drivers/d, public '
                                      'headers') for b in bad)
                 and any(b.startswith('# include/dmakit/memory.h:1: a public header may '
                                      'include only public headers') for b in bad),
                 'a driver reaching into src/ and a public header including a private one '
                 'both fail', out.splitlines() if rc != 1 or len(bad) != 2 else [])
    return tap.emit(sys.stdout)


def main(argv):
    if argv[1:] == ['--self-test']:
        return 0 if self_test() else 1
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    return 0 if check_tree(os.path.abspath(argv[1])) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
