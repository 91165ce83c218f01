"""`resnet-check plan` (issue 11, item 4): the executor's plan as data. Its JSON holds to
schemas/plan-listing.schema.json on every kernel set this CPU runs, for float, real and int8
models, batched and image by image; the listing agrees with itself (reads, writes, buffers) and
with `bench` (the same steps); bad arguments are usage errors (exit 64), an unusable model exits 2."""
import json
import os
import subprocess

import jsonschema
import pytest

from conftest import FIXTURES, ROOT, tool

SCHEMA = json.load(open(os.path.join(ROOT, "schemas", "plan-listing.schema.json")))
MODELS = ["v1.5", "optA-pad", "real/timm-seresnet18-w8-legacy", "real/timm-ecaresnet26t-w8-legacy", "quantized/v1.5-qop", "quantized/v1d-qdq"]


def plan(*args):
    return subprocess.run([tool("resnet-check"), "plan", *args], capture_output=True, text=True, timeout=300)


def supported(kernels):
    return subprocess.run([tool("resnet-check"), "run", os.path.join(FIXTURES, "v1.5", "model.onnx"), "--kernels", kernels],
                          capture_output=True).returncode == 0


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("kernels", ["avx512", "avx2", "reference"])
@pytest.mark.parametrize("name", MODELS)
def test_listing(name, kernels, batch):
    if not supported(kernels):
        pytest.skip(f"this CPU does not run {kernels}")
    path = os.path.join(FIXTURES, name, "model.onnx")
    r = plan(path, "--kernels", kernels, "--threads", "2", "--batch", str(batch), "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    jsonschema.validate(out, SCHEMA)
    assert out["violations"] == []
    p = out["plan"]
    assert p["kernels"] == kernels
    # A batch of 4 on 2 threads runs image by image on one plan a thread where the graph allows.
    if batch == 4 and "images" in p:
        assert p["images"] == 4 and p["image_plans"] == 2 and p["input_shape"][0] == 1 and p["threads"] == 1
    tensors = p["tensors"]
    assert [t["id"] for t in tensors] == list(range(len(tensors)))
    written = set()
    for s in p["steps"]:
        # Every read is of storage written before (or the input, or a constant); writes are new.
        for t in s["reads"]:
            root = tensors[t]["root"]
            assert root in written or tensors[root]["storage"] in ("input", "constant"), (s, t)
        assert s["writes"] and not written & set(s["writes"])
        written |= set(s["writes"])
        for t in s["reads"] + s["writes"]:
            assert tensors[t]["bytes"] <= p["buffers"][tensors[t]["buffer"]]
    # Every step names the prepared kernel it runs; a Conv runs a convolution kernel.
    for s in p["steps"]:
        if s["op"] == "Conv":
            assert s["work"] in ("conv", "reference_conv", "winograd", "winograd_channel_lanes", "direct_conv"), s
        if s["op"] == "QLinearConv":
            assert s["work"] == "qlinear_conv", s
    # The text form lists the same steps and says the check passed.
    text = plan(path, "--kernels", kernels, "--threads", "2", "--batch", str(batch))
    assert text.returncode == 0 and text.stdout.rstrip().endswith("every tensor within its buffer)")
    assert f"{len(p['steps'])} steps, {len(tensors)} tensors in {len(p['buffers'])} buffers" in text.stdout


def test_same_steps_as_bench():
    """bench profiles the steps plan lists: the same count, the same nodes with the same kernels."""
    path = os.path.join(FIXTURES, "quantized", "v1.5-qop", "model.onnx")
    p = json.loads(plan(path, "--threads", "1", "--format", "json").stdout)["plan"]
    r = subprocess.run([tool("resnet-check"), "bench", path, "--threads", "1", "--runs", "1", "--warmup", "0", "--profile-runs", "1",
                        "--top", "1000", "--format", "json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    layers = json.loads(r.stdout)["layers"]
    assert len(layers) == len(p["steps"])
    listed = sorted((s["node"], s["op"], s.get("kernel", "")) for s in p["steps"])
    assert sorted((l["node"], l["op"], l.get("kernel", "")) for l in layers) == listed


@pytest.mark.parametrize("args", [["--batch", "0"], ["--threads", "0"], ["--format", "yaml"]])
def test_usage_errors(args):
    r = plan(os.path.join(FIXTURES, "v1.5", "model.onnx"), *args)
    assert r.returncode == 64, r.stderr


def test_unusable_models(tmp_path):
    assert plan(str(tmp_path / "missing.onnx")).returncode == 2
    assert plan(str(tmp_path / "model.txt")).returncode == 64
    r = plan(os.path.join(FIXTURES, "defects", "broken-channels", "model.onnx"))
    assert r.returncode == 2 and "RN101" in r.stderr and "not planned" in r.stderr
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(open(os.path.join(FIXTURES, "v1.5", "model.onnx"), "rb").read()[:1000])
    r = plan(str(truncated))
    assert r.returncode == 2 and r.stderr.startswith("resnet-check plan: error:")


def test_work_names_are_the_executors_kernels():
    """The schema's work names are exactly StepWork's cases (snake_case; a pool with each PoolStep kind)."""
    import re
    source = open(os.path.join(ROOT, "Sources", "ResNetExec", "StepWork.swift")).read()
    kinds = re.findall(r"^    case (\w+)\(", open(os.path.join(ROOT, "Sources", "ResNetExec", "Steps+Pooling.swift")).read(), re.M)
    snake = lambda n: re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), n)
    names = []
    for case in re.findall(r"^    case (\w+)\(", source, re.M):
        names += ["pool." + snake(k) for k in kinds] if case == "pool" else [snake(case)]
    work = SCHEMA["properties"]["plan"]["properties"]["steps"]["items"]["properties"]["work"]["enum"]
    assert sorted(work) == sorted(names)
