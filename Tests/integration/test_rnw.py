"""The .rnw container through the real tools: lossless onnx -> rnw -> onnx,
--fold-bn and --fp16 within tolerance, headers valid against the published
schema, verify's exit codes, and no partial file after SIGKILL."""
import json
import os
import signal
import struct
import subprocess
import time

import jsonschema
import numpy as np
import onnx
import pytest

from conftest import FIXTURES, ROOT, fixture_names, large_model, tool
from test_roundtrip import assert_same_model, reference_inputs, run_ort

SCHEMA = json.load(open(os.path.join(ROOT, "schemas", "rnw-header.schema.json")))


def convert(src, dst, *flags):
    subprocess.run([tool("resnet-convert"), src, dst, "--quiet", *flags], check=True)


def rnw_header(path):
    with open(path, "rb") as f:
        pre = f.read(64)
        assert pre[:8] == b"\x89RNW\r\n\x1a\n"
        (length,) = struct.unpack_from("<Q", pre, 16)
        return json.loads(f.read(length))


def assert_outputs(a, b, folder, exact, atol=0.0, rtol=0.0):
    for inputs in reference_inputs(folder, a):
        for ya, yb in zip(run_ort(a, inputs), run_ort(b, inputs)):
            if exact:
                assert ya.tobytes() == yb.tobytes(), "outputs are not bit-identical"
            else:
                # equal_nan defaults to True: NaN where the source has NaN would pass unnoticed.
                np.testing.assert_allclose(yb, ya, atol=atol, rtol=rtol, equal_nan=False)
                assert (np.argsort(-ya, axis=1)[:, :5] == np.argsort(-yb, axis=1)[:, :5]).all(), "top-5 changed"


def lossless(src, tmp_path):
    rnw, back = str(tmp_path / "m.rnw"), str(tmp_path / "back.onnx")
    convert(src, rnw)
    jsonschema.validate(rnw_header(rnw), SCHEMA)
    subprocess.run([tool("resnet-check"), "verify", rnw], check=True, capture_output=True)
    convert(rnw, back)
    onnx.checker.check_model(back, full_check=True)
    assert_same_model(src, back)
    assert_outputs(src, back, os.path.dirname(src), exact=True)
    rnw2 = str(tmp_path / "again.rnw")
    convert(rnw, rnw2)  # rnw -> rnw keeps every tensor's entry and bytes (offsets move with the header)
    a, b = rnw_header(rnw), rnw_header(rnw2)
    strip = lambda ts: [{k: v for k, v in t.items() if k != "offset"} for t in ts]
    assert strip(a["tensors"]) == strip(b["tensors"]) and a["model"] == b["model"]
    assert b["source"]["format"] == "rnw" and len(b["source"]["sha256"]) == 64
    da, db = open(rnw, "rb").read(), open(rnw2, "rb").read()
    for ta, tb in zip(a["tensors"], b["tensors"]):
        assert da[ta["offset"]:ta["offset"] + ta["length"]] == db[tb["offset"]:tb["offset"] + tb["length"]]


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_lossless(name, tmp_path):
    lossless(os.path.join(FIXTURES, name, "model.onnx"), tmp_path)


@pytest.mark.parametrize("fused", [False, True], ids=["unfused", "fused"])
def test_resnet50_lossless(fused, tmp_path):
    lossless(large_model("resnet50", fused), tmp_path)


@pytest.mark.parametrize("name", [n for n in fixture_names() if n not in ("encodings",)])
def test_fold_bn_within_tolerance(name, tmp_path):
    src = os.path.join(FIXTURES, name, "model.onnx")
    rnw, back = str(tmp_path / "f.rnw"), str(tmp_path / "f.onnx")
    out = subprocess.run([tool("resnet-convert"), src, rnw, "--fold-bn"], check=True, capture_output=True, text=True).stdout
    assert "folded" in out
    convert(rnw, back)
    onnx.checker.check_model(back, full_check=True)
    model = onnx.load(back)
    if "fused" not in name and name not in ("v2",):
        assert not any(n.op_type == "BatchNormalization" for n in model.graph.node), "a BN after a conv was left"
    assert "fold-bn" in rnw_header(rnw)["transforms"] or "folded 0" in out
    assert_outputs(src, back, os.path.dirname(src), exact=False, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("value", [1, 2])
@pytest.mark.parametrize("out", ["f.rnw", "f.onnx"])
def test_fold_bn_refuses_training_mode(value, out, tmp_path):
    """A BatchNormalization in training mode normalizes with batch statistics, which
    no Conv can absorb: --fold-bn names it and exits 2, leaving no output file."""
    m = onnx.load(os.path.join(FIXTURES, "v1.5", "model.onnx"))
    bn = next(n for n in m.graph.node if n.name == "layer1.0.bn2")
    bn.attribute.append(onnx.helper.make_attribute("training_mode", value))
    src = str(tmp_path / "train.onnx")
    onnx.save(m, src)
    r = subprocess.run([tool("resnet-convert"), src, str(tmp_path / out), "--fold-bn"], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    for part in ["'layer1.0.bn2'", "training_mode", "expected 0", f"actual {value}"]:
        assert part in r.stderr, r.stderr
    assert sorted(os.listdir(tmp_path)) == ["train.onnx"], "an output or temporary file was left"
    # Without --fold-bn the same model converts: the refusal is fold-bn's alone.
    convert(src, str(tmp_path / out))


@pytest.mark.parametrize("name", ["v1.5", "v2", "optA-concat"])
def test_fp16_within_tolerance(name, tmp_path):
    src = os.path.join(FIXTURES, name, "model.onnx")
    rnw, back = str(tmp_path / "h.rnw"), str(tmp_path / "h.onnx")
    convert(src, rnw, "--fp16", "--align", "4096")
    header = rnw_header(rnw)
    jsonschema.validate(header, SCHEMA)
    assert header["transforms"] == ["fp16"]
    assert all(t["offset"] % 4096 == 0 for t in header["tensors"])
    assert any(t.get("storage") == "FLOAT16" for t in header["tensors"])
    convert(rnw, back)
    assert_outputs(src, back, os.path.dirname(src), exact=False, atol=2e-2, rtol=2e-2)


def test_verify_exit_codes(tmp_path):
    src = os.path.join(FIXTURES, "v1", "model.onnx")
    rnw = str(tmp_path / "v.rnw")
    convert(src, rnw)
    check = lambda p: subprocess.run([tool("resnet-check"), "verify", p], capture_output=True, text=True)
    assert check(rnw).returncode == 0
    header = rnw_header(rnw)
    victim = header["tensors"][5]
    data = bytearray(open(rnw, "rb").read())
    data[victim["offset"] + 3] ^= 0xFF
    bad = str(tmp_path / "bad.rnw")
    open(bad, "wb").write(data)
    r = check(bad)
    assert r.returncode == 1 and f"'{victim['name']}'" in r.stdout and str(victim["offset"]) in r.stdout
    assert check(str(tmp_path / "missing.rnw")).returncode == 2
    open(str(tmp_path / "text.rnw"), "w").write("not a model")
    assert check(str(tmp_path / "text.rnw")).returncode == 2
    # Not a model file at all: 2 (unreadable), not 1 (a damaged model), whatever the extension.
    for name, content in [("empty.onnx", ""), ("empty.rnw", ""), ("text.onnx", "not a model\n"),
                          ("notes.onnx", "2024-01-01: notes on the model, long enough to hold a 48-byte field\n")]:
        open(str(tmp_path / name), "w").write(content)
        r = check(str(tmp_path / name))
        assert r.returncode == 2 and "FAILED" not in r.stdout, (name, r.stdout, r.stderr)
    truncated = str(tmp_path / "truncated.onnx")
    open(truncated, "wb").write(open(src, "rb").read()[:5000])
    assert check(truncated).returncode == 1, "a truncated model is damaged, not foreign"
    for name in fixture_names():
        assert check(os.path.join(FIXTURES, name, "model.onnx")).returncode == 0, name


def test_sigkill_mid_write_leaves_no_destination(tmp_path):
    """Kill resnet-convert while it writes a ~100 MB .rnw: the destination must not exist."""
    src = large_model("resnet50", False)
    dst = tmp_path / "killed.rnw"
    killed_while_writing = 0
    for attempt in range(5):
        p = subprocess.Popen([tool("resnet-convert"), src, str(dst), "--quiet"])
        deadline = time.time() + 30
        while time.time() < deadline and not any(".tmp-" in n for n in os.listdir(tmp_path)):
            time.sleep(0.0005)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert not dst.exists(), "a partial destination file was left"
        if any(".tmp-" in n for n in os.listdir(tmp_path)):
            killed_while_writing += 1
        for n in os.listdir(tmp_path):
            os.remove(tmp_path / n)
    assert killed_while_writing > 0, "never caught the writer mid-write"
