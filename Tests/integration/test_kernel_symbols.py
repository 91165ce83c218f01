"""The SIMD kernel modules share no vector code with any other module.

Each kernel module (ResNetKernels, built for x86-64-v3; ResNetKernelsAVX512, x86-64-v4)
compiles the reference module's inlinable code at its own instruction level. A specialisation
whose symbol another module emits too (same generic arguments, or a closure that names no
generic parameter) is a weak definition: the linker keeps one copy for every caller, so an
AVX2 plan could run the AVX-512 copy (SIGILL on an AVX2-only CPU), or the reference set the
AVX2 copy on an older one. Found by review in this project: the shifted-rows compaction's
closure and the max pool's loops. This reads the object files of the build under test: every
weak code symbol a kernel module defines that another module of the build also defines must
hold no VEX or EVEX instruction (a mnemonic starting with "v"; baseline x86-64 code has none).
"""
import glob
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

KERNEL_MODULES = ["ResNetKernels", "ResNetKernelsAVX512"]
VECTOR = re.compile(r"^\s*[0-9a-f]+:\s+v[a-z0-9]+\s", re.MULTILINE)


def build_dir():
    return os.environ.get("RESNET_TOOLS_BIN") or subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def weak_code(objects):
    """{symbol: object file} of the weak definitions in text ('W') among `objects`."""
    out = subprocess.run(["nm", "--defined-only", "-A"] + objects, capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "W":
            found.setdefault(parts[2], parts[0].rsplit(":", 1)[0])
    return found


def test_kernel_modules_share_no_vector_code():
    if not (shutil.which("nm") and shutil.which("objdump")):
        pytest.fail("nm and objdump (binutils) are needed: scripts/setup installs them")
    bindir = build_dir()
    modules = {os.path.basename(d)[:-len(".build")]: sorted(glob.glob(os.path.join(d, "*.o")))
               for d in glob.glob(os.path.join(bindir, "*.build"))}
    if not all(modules.get(m) for m in KERNEL_MODULES):
        pytest.skip(f"no kernel-module objects under {bindir} (not an x86-64 build?)")
    # The check is not vacuous: the AVX-512 module's objects do hold AVX-512 code.
    avx512 = subprocess.run(["objdump", "-d", "--no-show-raw-insn"] + modules["ResNetKernelsAVX512"],
                            capture_output=True, text=True, check=True).stdout
    assert "zmm" in avx512
    weak = {name: weak_code(objects) for name, objects in modules.items() if objects}
    offending = []
    for kernel in KERNEL_MODULES:
        others = set().union(*(set(symbols) for name, symbols in weak.items() if name != kernel))
        for symbol in sorted(set(weak[kernel]) & others):
            code = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={symbol}", weak[kernel][symbol]],
                                  capture_output=True, text=True, check=True).stdout
            if VECTOR.search(code):
                name = subprocess.run(["swift", "demangle", "--compact", symbol], capture_output=True, text=True).stdout.strip() or symbol
                sharers = sorted(n for n, symbols in weak.items() if n != kernel and symbol in symbols)
                offending.append(f"{kernel}: {name[:160]} (also defined by {', '.join(sharers)})")
    assert not offending, "vector code under a symbol other modules define too:\n" + "\n".join(offending)
