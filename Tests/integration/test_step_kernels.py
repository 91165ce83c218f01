"""Every prepared kernel a plan step can run (the executor's StepWork cases, enumerated by
schemas/plan-listing.schema.json as a step's `work`) is run by some test model, and each small
model below, made for the kernels the fixtures never reach (general forms, quantized
activations and concats, a max pool on byte images), equals onnxruntime on every kernel set
this CPU runs. The plan listing names which kernel each step runs, so the coverage check reads
the plans of the fixtures and of these models."""
import glob
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper as h, numpy_helper

from conftest import FIXTURES, ROOT, tool

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import exact_int8  # noqa: E402  onnxruntime's int8 outputs, exact on every x86 CPU

SCHEMA = json.load(open(os.path.join(ROOT, "schemas", "plan-listing.schema.json")))
WORK = SCHEMA["properties"]["plan"]["properties"]["steps"]["items"]["properties"]["work"]["enum"]
KERNELS = ["avx512", "avx2", "reference"]
RNG = np.random.default_rng(33)


def check(*args):
    return subprocess.run([tool("resnet-check"), *args], capture_output=True, text=True, timeout=300)


def supported(kernels):
    return check("run", os.path.join(FIXTURES, "v1.5", "model.onnx"), "--kernels", kernels).returncode == 0


def const(name, values, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(values, dtype), name)


def model(nodes, inputs, outputs, inits, opset=17):
    graph = h.make_graph(nodes, "kernel", [h.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                         [h.make_tensor_value_info(n, t, s) for n, t, s in outputs], inits)
    return h.make_model(graph, opset_imports=[h.make_opsetid("", opset), h.make_opsetid("com.microsoft", 1)])


F = TensorProto.FLOAT


def quantized_chain(op, **attributes):
    """x -> QuantizeLinear -> a com.microsoft QLinear activation -> DequantizeLinear."""
    inits = [const("s", 0.05), const("z", 128, np.uint8), const("ys", 0.02), const("yz", 100, np.uint8)]
    nodes = [h.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             h.make_node(op, ["q", "s", "z", "ys", "yz"], ["r"], domain="com.microsoft", **attributes),
             h.make_node("DequantizeLinear", ["r", "ys", "yz"], ["y"])]
    return model(nodes, [("x", [1, 4, 5, 5])], [("y", F, [1, 4, 5, 5])], inits)


def qlinear_concat():
    """Two quantizations of x (other scales and zero points), concatenated on channels into y's."""
    inits = [const("s1", 0.04), const("z1", 120, np.uint8), const("s2", 0.07), const("z2", 3, np.uint8),
             const("ys", 0.05), const("yz", 128, np.uint8)]
    nodes = [h.make_node("QuantizeLinear", ["x", "s1", "z1"], ["a"]), h.make_node("QuantizeLinear", ["x", "s2", "z2"], ["b"]),
             h.make_node("QLinearConcat", ["ys", "yz", "a", "s1", "z1", "b", "s2", "z2"], ["c"], domain="com.microsoft", axis=1),
             h.make_node("DequantizeLinear", ["c", "ys", "yz"], ["y"])]
    return model(nodes, [("x", [1, 3, 4, 4])], [("y", F, [1, 6, 4, 4])], inits)


def max_pool_on_bytes():
    """A stem-like QLinearConv, a 3x3 stride-2 max pool on its uint8 output, a QLinearConv reading the pool:
    on the SIMD sets the pool reads the first conv's byte image and writes its own for the second."""
    w1 = RNG.integers(-60, 60, (16, 8, 3, 3), dtype=np.int8)
    w2 = RNG.integers(-60, 60, (16, 16, 3, 3), dtype=np.int8)
    inits = [const("xs", 0.02), const("xz", 128, np.uint8), const("w1", w1, np.int8), const("ws", 0.004), const("wz", 0, np.int8),
             const("b1", RNG.integers(-500, 500, 16), np.int32), const("s1", 0.03), const("z1", 10, np.uint8),
             const("w2", w2, np.int8), const("b2", RNG.integers(-500, 500, 16), np.int32), const("s2", 0.05), const("z2", 128, np.uint8)]
    nodes = [h.make_node("QuantizeLinear", ["x", "xs", "xz"], ["q"]),
             h.make_node("QLinearConv", ["q", "xs", "xz", "w1", "ws", "wz", "s1", "z1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             h.make_node("MaxPool", ["c1"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
             h.make_node("QLinearConv", ["p", "s1", "z1", "w2", "ws", "wz", "s2", "z2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
             h.make_node("DequantizeLinear", ["c2", "s2", "z2"], ["y"])]
    return model(nodes, [("x", [1, 8, 14, 14])], [("y", F, [1, 16, 7, 7])], inits)


def float_model(op, inputs, outputs, inits=(), opset=17, extra_nodes=(), **attributes):
    names = [n for n, _ in inputs] + [i.name for i in inits]
    nodes = list(extra_nodes) + [h.make_node(op, attributes.pop("node_inputs", names), [n for n, _, _ in outputs], **attributes)]
    return model(nodes, inputs, outputs, list(inits), opset)


# name -> (model, the work names its plan must list on a SIMD set; on the reference, those in `reference`)
CASES = {
    "gather": (lambda: float_model("Gather", [("x", [2, 5, 3])], [("y", F, [2, 3, 3])], [const("i", [4, 0, 2], np.int64)], axis=1), ["gather"]),
    "softmax": (lambda: float_model("Softmax", [("x", [2, 6])], [("y", F, [2, 6])]), ["softmax"]),
    "softmax_axis": (lambda: float_model("Softmax", [("x", [2, 3, 4])], [("y", F, [2, 3, 4])], axis=1), ["softmax_axis"]),
    "matmul": (lambda: float_model("MatMul", [("x", [3, 4])], [("y", F, [3, 5])], [const("w", RNG.standard_normal((4, 5)))]), ["matmul"]),
    "batched_matmul": (lambda: float_model("MatMul", [("x", [2, 3, 4])], [("y", F, [2, 3, 5])], [const("w", RNG.standard_normal((4, 5)))]),
                       ["batched_mat_mul"]),
    "dropout_mask": (lambda: float_model("Dropout", [("x", [2, 3])], [("y", F, [2, 3]), ("m", TensorProto.BOOL, [2, 3])]), ["ones"]),
    "mean": (lambda: float_model("Mean", [("x", [2, 3])], [("y", F, [2, 3])], [const("a", RNG.standard_normal((2, 3))), const("b", RNG.standard_normal((1, 3)))]),
             ["broadcast", "scale"]),
    "gemm_trans_a": (lambda: float_model("Gemm", [("x", [4, 3])], [("y", F, [3, 5])], [const("w", RNG.standard_normal((4, 5)))], transA=1),
                     ["transpose_matrix"]),
    "batchnorm_training": (lambda: float_model(
        "BatchNormalization", [("x", [2, 3, 4, 4])], [("y", F, [2, 3, 4, 4]), ("rm", F, [3]), ("rv", F, [3])],
        [const("g", [1.0, 0.5, 2.0]), const("b", [0.1, -0.2, 0.0]), const("m", [0.0, 0.3, -0.1]), const("v", [1.0, 2.0, 0.5])],
        opset=15, training_mode=1), ["batch_norm_training"]),
    "maxpool_indices": (lambda: float_model("MaxPool", [("x", [1, 2, 5, 5])], [("y", F, [1, 2, 2, 2]), ("i", TensorProto.INT64, [1, 2, 2, 2])],
                                            kernel_shape=[2, 2], strides=[2, 2]), ["pool.generic"]),
    "where": (lambda: float_model("Where", [("x", [2, 3])], [("y", F, [2, 3])], node_inputs=["c", "x", "o"],
                                  inits=[const("c", [[True, False, True]], np.bool_), const("o", RNG.standard_normal((2, 1)))]),
              ["where_select"]),
    "pad_3d": (lambda: float_model("Pad", [("x", [1, 2, 5])], [("y", F, [1, 3, 8])], [const("p", [0, 0, 1, 0, 1, 2], np.int64), const("v", 0.5)]),
               ["pad_any_rank"]),
    "qlinear_leaky_relu": (lambda: quantized_chain("QLinearLeakyRelu", alpha=0.1), ["qlinear_activation"]),
    "qlinear_sigmoid": (lambda: quantized_chain("QLinearSigmoid"), ["qlinear_activation"]),
    "qlinear_concat": (qlinear_concat, ["qlinear_concat"]),
    "max_pool_on_bytes": (max_pool_on_bytes, ["pool.max_on_bytes"]),
}
SIMD_ONLY = {"pool.max_on_bytes"}


def plan_works(path, kernels):
    r = check("plan", path, "--kernels", kernels, "--format", "json")
    if r.returncode != 0:
        return None
    return [s["work"] for s in json.loads(r.stdout)["plan"]["steps"]]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kernels")
    paths = {}
    for name, (make, _) in CASES.items():
        m = make()
        onnx.checker.check_model(m)
        paths[name] = str(folder / f"{name}.onnx")
        onnx.save(m, paths[name])
    return paths


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_equals_onnxruntime(name, kernels, saved, tmp_path):
    if not supported(kernels):
        pytest.skip(f"this CPU does not run {kernels}")
    path = saved[name]
    works = plan_works(path, kernels)
    assert works is not None, check("plan", path, "--kernels", kernels).stderr
    for work in CASES[name][1]:
        if kernels != "reference" or work not in SIMD_ONLY:
            assert work in works, (work, works)
    session = exact_int8.session(path)
    first = onnx.load(path).graph.input[0]
    x = np.random.default_rng(len(name)).uniform(-2, 2, [d.dim_value for d in first.type.tensor_type.shape.dim]).astype(np.float32)
    want = np.asarray(session.run(None, {first.name: x})[0], np.float32)
    np.save(str(tmp_path / "x.npy"), x)
    # (`run --output` writes the first output: a mask, indices or running statistics beside it are planned, not compared.)
    r = check("run", path, "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy"), "--kernels", kernels)
    assert r.returncode == 0, r.stderr
    got = np.load(str(tmp_path / "y.npy"))
    assert got.shape == want.shape, (got.shape, want.shape)
    # Float kernels to rounding; quantized ones exactly (onnxruntime's arithmetic, as test_int8_exec holds the fixtures to).
    quantized = name.startswith(("qlinear", "max_pool"))
    np.testing.assert_allclose(got, want, rtol=0 if quantized else 1e-5, atol=0 if quantized else 1e-5)


def test_every_prepared_kernel_is_run_by_some_test_model(saved):
    """The union of the work the fixtures' plans and these models' plans list, on this CPU's widest set and
    the reference, is every name the schema lists (a new StepWork case needs a model that runs it)."""
    simd = next((k for k in ["avx512", "avx2"] if supported(k)), None)
    if simd is None:
        pytest.skip("no SIMD kernel set on this CPU: the SIMD-only kernels cannot be planned")
    seen = set()
    models = sorted(glob.glob(os.path.join(FIXTURES, "**", "model.onnx"), recursive=True)) + sorted(saved.values())
    for path in models:
        for kernels in [simd, "reference"]:
            seen.update(plan_works(path, kernels) or [])
    assert sorted(set(WORK) - seen) == []
