"""Shared helpers: where the built tools and the fixtures are."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "fixtures")
CACHE = os.path.join(ROOT, ".cache", "models")


def tool(name):
    """Path of a built executable (scripts/test builds them before pytest runs)."""
    bindir = os.environ.get("RESNET_TOOLS_BIN") or subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    path = os.path.join(bindir, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: run 'swift build' first")
    return path


def fixture_names():
    return sorted(d for d in os.listdir(FIXTURES) if os.path.isfile(os.path.join(FIXTURES, d, "model.onnx")))


def large_model(arch, fused, reference=True):
    """Generates a torchvision-shaped model into .cache on first use (with
    onnxruntime reference outputs unless reference=False)."""
    name = arch + ("-fused" if fused else "")
    path = os.path.join(CACHE, name, "model.onnx")
    ready = os.path.exists(os.path.join(CACHE, name, "test_data_set_0", "output_0.pb")) if reference else os.path.exists(path)
    if not ready:
        cmd = [sys.executable, os.path.join(ROOT, "scripts", "make_fixtures.py"), "--large", arch]
        subprocess.run(cmd + (["--fused"] if fused else []) + ([] if reference else ["--no-reference"]), check=True)
    return path


def quantized_large_model(arch, fmt):
    """resnet18/50 quantized by onnxruntime (QDQ or QOperator, "qdq"/"qop"), generated into .cache on first use
    (the float model first when absent); no reference outputs."""
    path = os.path.join(CACHE, f"{arch}-{fmt}", "model.onnx")
    if not os.path.exists(path):
        cmd = [sys.executable, os.path.join(ROOT, "scripts", "make_fixtures.py"), "--large", arch, "--quantized", "--no-reference"]
        subprocess.run(cmd, check=True)
    return path
