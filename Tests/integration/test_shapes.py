"""resnet-check shapes on every fixture (JSON validated against the published
schema), on the defect fixtures, on .rnw input, and against torchvision's
published parameter and MAC counts."""
import json
import os
import subprocess

import jsonschema
import pytest

from conftest import FIXTURES, ROOT, large_model, quantized_large_model, tool

SCHEMA = json.load(open(os.path.join(ROOT, "schemas", "check-report.schema.json")))

# fixture: (variant, shortcut option, block type)
EXPECTED = {
    "v1.5": ("v1.5", "B", "bottleneck"), "v1.5-fused": ("v1.5", "B", "bottleneck"),
    "v1": ("v1", "B", "bottleneck"), "v1-fused": ("v1", "B", "bottleneck"),
    "v1d": ("v1d", "B", "bottleneck"), "v1d-fused": ("v1d", "B", "bottleneck"),
    "basic-B": ("v1", "B", "basic"), "basic-B-opset7": ("v1", "B", "basic"), "external-data": ("v1", "B", "basic"),
    "optA-pad": ("v1", "A", "basic"), "optA-concat": ("v1", "A", "basic"),
    "optC": ("v1", "C", "basic"), "optC-fused": ("v1", "C", "basic"),
    "v2": ("v2", "B", "basic"), "v2-fused": ("v2", "B", "basic"),
}


def shapes(path, *flags):
    r = subprocess.run([tool("resnet-check"), "shapes", path, "--format", "json", *flags], capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    report = json.loads(r.stdout)
    jsonschema.validate(report, SCHEMA)
    return r.returncode, report


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_classified(name):
    code, r = shapes(os.path.join(FIXTURES, name, "model.onnx"))
    assert code == 0
    m = r["model"]
    assert (m["variant"], m["shortcut_option"], m["block_type"]) == EXPECTED[name]
    assert m["family"] == "custom" and m["stage_blocks"] == [2, 2, 2]
    assert m["depth"] == (20 if m["block_type"] == "bottleneck" else 14)
    assert len(r["blocks"]) == 6 and [b["stage"] for b in r["blocks"]] == [1, 1, 2, 2, 3, 3]
    assert not [d for d in r["diagnostics"] if d["severity"] == "error"]
    downsampling = [b for b in r["blocks"] if b["stride_on"]]
    assert len(downsampling) == 2
    # Bottlenecks: v1 strides the first 1x1, v1.5 and v1d the 3x3; basic blocks stride their first 3x3.
    expected_position = {"v1": "conv1 (1x1)", "v1.5": "conv2 (3x3)", "v1d": "conv2 (3x3)"}[m["variant"]] \
        if m["block_type"] == "bottleneck" else "conv1 (3x3)"
    assert all(b["stride_position"] == expected_position for b in downsampling)
    assert all(b["pre_activation"] == (m["variant"] == "v2") for b in r["blocks"])


@pytest.mark.parametrize("name", ["v1.5", "optA-concat", "v2-fused"])
def test_rnw_input_gives_the_same_report(name, tmp_path):
    src = os.path.join(FIXTURES, name, "model.onnx")
    rnw = str(tmp_path / "m.rnw")
    subprocess.run([tool("resnet-convert"), src, rnw, "-q"], check=True)
    a, b = shapes(src)[1], shapes(rnw)[1]
    a.pop("file"), b.pop("file")
    assert a == b


DEFECTS = {
    # fixture: (exit code, codes that must appear)
    "broken-channels": (1, {"RN101"}),
    "broken-spatial": (1, {"RN101"}),
    "broken-broadcast": (1, {"RN102"}),
    "warn-single-conv": (0, {"RN103"}),
    "warn-maxpool-shortcut": (0, {"RN104"}),
    "broken-odd-sizes": (0, set()),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_defects(name):
    code, r = shapes(os.path.join(FIXTURES, "defects", name, "model.onnx"))
    want_code, want = DEFECTS[name]
    assert code == want_code
    assert want <= {d["code"] for d in r["diagnostics"]}
    for d in r["diagnostics"]:
        if d["code"] in ("RN101", "RN102"):
            block = r["blocks"][0]
            assert block["main_shape"] in d["message"] and block["shortcut_shape"] in d["message"], "both shapes named"
            assert len(d.get("fixes", [])) >= 2


def test_sweep_finds_odd_sizes():
    code, r = shapes(os.path.join(FIXTURES, "defects", "broken-odd-sizes", "model.onnx"), "--sweep", "16:40:1")
    assert code == 1
    assert r["sweep"] == {"checked": 25, "failing_sizes": 12, "failing_ranges": ["17..39 step 2"]}
    code, r = shapes(os.path.join(FIXTURES, "v1d", "model.onnx"), "--sweep", "32:96:1")
    assert code == 0 and r["sweep"]["failing_sizes"] == 0


def test_fail_on_warning():
    path = os.path.join(FIXTURES, "defects", "warn-single-conv", "model.onnx")
    assert shapes(path)[0] == 0
    assert shapes(path, "--fail-on", "warning")[0] == 1


PUBLISHED = {  # torchvision: parameters, GFLOPS (multiply-adds) at 224x224
    "resnet18": (11_689_512, 1.814), "resnet34": (21_797_672, 3.664), "resnet50": (25_557_032, 4.089),
    "resnet101": (44_549_160, 7.801), "resnet152": (60_192_808, 11.514),
}


@pytest.mark.parametrize("arch", sorted(PUBLISHED))
def test_torchvision_figures(arch):
    code, r = shapes(large_model(arch, False, reference=False))
    params, gmacs = PUBLISHED[arch]
    assert code == 0
    assert r["model"]["family"] == arch and r["model"]["variant"] == ("v1" if arch in ("resnet18", "resnet34") else "v1.5")
    assert r["model"]["shortcut_option"] == "B"
    assert r["summary"]["params"] == params
    assert abs(r["summary"]["gmacs"] / gmacs - 1) < 0.005, r["summary"]["gmacs"]
    assert sum(s["params"] for s in r["stages"]) == params


QUANTIZED = sorted(d for d in os.listdir(os.path.join(FIXTURES, "quantized"))
                   if os.path.isfile(os.path.join(FIXTURES, "quantized", d, "model.onnx")))


@pytest.mark.parametrize("name", QUANTIZED)
def test_quantized_fixture_reads_as_its_float_original(name):
    """onnxruntime's int8 versions (issue 13): the float model's classification and blocks, all MACs in int8."""
    source, fmt = name.rsplit("-", 1)
    _, f = shapes(os.path.join(FIXTURES, source, "model.onnx"))
    code, q = shapes(os.path.join(FIXTURES, "quantized", name, "model.onnx"))
    assert code == 0
    assert q["model"] == f["model"]
    assert [(b["name"], b["shortcut"], b["stride_on"] is None) for b in q["blocks"]] == \
        [(b["name"], b["shortcut"], b["stride_on"] is None) for b in f["blocks"]]
    assert q["quantization"]["format"] == {"qdq": "qdq", "qop": "qoperator"}[fmt]
    assert q["quantization"]["int8_share"] == 1 and q["quantization"]["activation_types"] == ["UINT8"]
    assert "quantization" not in f


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
@pytest.mark.parametrize("fmt", ["qdq", "qop"])
def test_quantized_torchvision(arch, fmt):
    """resnet18/50 quantized with onnxruntime's quantize_static (per-channel int8 weights, uint8 activations):
    the float model's family, variant, option and blocks; its MACs; its parameters once BN is counted back."""
    _, f = shapes(large_model(arch, False, reference=False))
    code, q = shapes(quantized_large_model(arch, fmt))
    assert code == 0
    assert q["model"] == f["model"]
    assert [b["name"] for b in q["blocks"]] == [b["name"] for b in f["blocks"]]
    assert [b["shortcut"] for b in q["blocks"]] == [b["shortcut"] for b in f["blocks"]]
    assert q["summary"]["macs"] == f["summary"]["macs"]
    assert q["summary"]["params_with_batchnorm"] == f["summary"]["params"] == PUBLISHED[arch][0]
    quant = q["quantization"]
    assert quant["format"] == {"qdq": "qdq", "qop": "qoperator"}[fmt]
    assert quant["weights_per_tensor"] == 0 and quant["weights_per_channel"] == {"resnet18": 21, "resnet50": 54}[arch]
    assert quant["int8_macs"] == q["summary"]["macs"]
    assert not [d for d in q["diagnostics"] if d["severity"] != "info"], q["diagnostics"]
