"""Real exports by torch's own exporters (fixtures/real, made by
scripts/make_real_fixtures.py with torch, torchvision and timm; CI needs no
torch): the checker names every block as the author did, finds the
architecture's residual blocks, family, variant and shortcut option, counts
MACs within 0.1% of torch's forward hooks, and the executor matches
onnxruntime's outputs on the .onnx and on its lossless .rnw (issue 9)."""
import json
import os
import subprocess

import jsonschema
import pytest

from conftest import FIXTURES, ROOT, tool

SCHEMA = json.load(open(os.path.join(ROOT, "schemas", "check-report.schema.json")))

REAL = os.path.join(FIXTURES, "real")
NAMES = sorted(d for d in os.listdir(REAL) if os.path.isfile(os.path.join(REAL, d, "meta.json")))


def truth(name):
    return json.load(open(os.path.join(REAL, name, "meta.json")))["truth"]


def shapes(name):
    r = subprocess.run([tool("resnet-check"), "shapes", os.path.join(REAL, name, "model.onnx"), "--format", "json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    jsonschema.validate(report, SCHEMA)
    return report


def test_every_export_is_here():
    assert len(NAMES) >= 11


@pytest.mark.parametrize("name", NAMES)
def test_blocks_names_and_architecture(name):
    t, r = truth(name), shapes(name)
    assert [b["name"] for b in r["blocks"]] == t["block_names"]
    assert len(r["blocks"]) == t["residual_blocks"]
    m = r["model"]
    assert m["family"] == t["family"].replace("-", "_")
    assert m["depth"] == t["depth"]
    assert m["variant"] == t["variant"]
    assert m["shortcut_option"] == t["shortcut_option"]
    assert not [d for d in r["diagnostics"] if d["severity"] != "info"], r["diagnostics"]


@pytest.mark.parametrize("name", NAMES)
def test_macs_match_torch_hooks(name):
    t, r = truth(name), shapes(name)
    assert abs(r["summary"]["macs"] / t["macs_per_sample"] - 1) <= 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_parity_onnx_and_rnw(name, tmp_path):
    folder = os.path.join(REAL, name)
    rnw = str(tmp_path / "model.rnw")
    subprocess.run([tool("resnet-convert"), os.path.join(folder, "model.onnx"), rnw], check=True, capture_output=True)
    for model in (os.path.join(folder, "model.onnx"), rnw):
        r = subprocess.run([tool("resnet-check"), "parity", model, "--reference", folder], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
