"""resnet-convert x.onnx y.onnx must give a file that onnx.checker accepts
(full_check) and onnxruntime runs with outputs bit-identical to the original's,
with the graph, names, attributes, metadata and tensor bytes unchanged."""
import glob
import os
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, fixture_names, large_model, tool


def run_ort(path, inputs):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, inputs)


def reference_inputs(folder, model_path):
    sets = sorted(glob.glob(os.path.join(folder, "test_data_set_*")))
    assert sets, f"no test data in {folder}"
    name = onnx.load(model_path, load_external_data=False).graph.input[0].name
    for s in sets:
        t = onnx.TensorProto()
        with open(os.path.join(s, "input_0.pb"), "rb") as f:
            t.ParseFromString(f.read())
        yield {name: numpy_helper.to_array(t)}


DATA_FIELDS = ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data",
               "string_data", "external_data", "data_location")


def all_tensors(graph):
    """Every TensorProto in a graph: initializers and tensor attributes, subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for a in node.attribute:
            if a.HasField("t"):
                yield a.t
            yield from a.tensors
            if a.HasField("g"):
                yield from all_tensors(a.g)
            for g in a.graphs:
                yield from all_tensors(g)


def strip_data(model):
    """The model with tensor payloads cleared: everything else must survive unchanged.
    Payload encodings may change (typed fields become raw_data); values may not."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for t in all_tensors(m.graph):
        for field in DATA_FIELDS:
            t.ClearField(field)
    return m


def assert_same_model(original_path, converted_path):
    a = onnx.load(original_path)
    b = onnx.load(converted_path)
    assert strip_data(a) == strip_data(b), "graph, names, attributes or metadata changed"
    for ta, tb in zip(all_tensors(a.graph), all_tensors(b.graph)):
        xa, xb = numpy_helper.to_array(ta), numpy_helper.to_array(tb)
        assert xa.dtype == xb.dtype and xa.shape == xb.shape, ta.name
        if xa.dtype == object:
            assert list(xa.flat) == list(xb.flat), ta.name
        else:
            assert xa.tobytes() == xb.tobytes(), f"tensor bytes differ: {ta.name}"


def assert_roundtrip(src, tmp_path, external):
    folder = os.path.dirname(src)
    out = str(tmp_path / "converted.onnx")
    cmd = [tool("resnet-convert"), src, out, "--quiet"] + (["--external-data"] if external else [])
    subprocess.run(cmd, check=True)
    assert os.path.exists(out + ".data") == external
    onnx.checker.check_model(out, full_check=True)
    assert_same_model(src, out)
    for inputs in reference_inputs(folder, src):
        for ya, yb in zip(run_ort(src, inputs), run_ort(out, inputs)):
            assert ya.shape == yb.shape
            assert ya.tobytes() == yb.tobytes(), "outputs are not bit-identical"
    leftovers = [p for p in os.listdir(tmp_path) if ".tmp-" in p]
    assert not leftovers, f"temporary files left behind: {leftovers}"


@pytest.mark.parametrize("name", fixture_names())
@pytest.mark.parametrize("external", [False, True], ids=["inline", "external-data"])
def test_fixture_roundtrip(name, external, tmp_path):
    assert_roundtrip(os.path.join(FIXTURES, name, "model.onnx"), tmp_path, external)


@pytest.mark.parametrize("fused", [False, True], ids=["unfused", "fused"])
@pytest.mark.parametrize("external", [False, True], ids=["inline", "external-data"])
def test_resnet50_roundtrip(fused, external, tmp_path):
    assert_roundtrip(large_model("resnet50", fused), tmp_path, external)


def test_stored_references_match_onnxruntime():
    """The committed reference outputs are what onnxruntime computes today."""
    for name in fixture_names():
        folder = os.path.join(FIXTURES, name)
        model = os.path.join(folder, "model.onnx")
        for s, inputs in zip(sorted(glob.glob(os.path.join(folder, "test_data_set_*"))), reference_inputs(folder, model)):
            t = onnx.TensorProto()
            with open(os.path.join(s, "output_0.pb"), "rb") as f:
                t.ParseFromString(f.read())
            np.testing.assert_allclose(run_ort(model, inputs)[0], numpy_helper.to_array(t), rtol=1e-5, atol=1e-6, equal_nan=False)
