"""scripts/exact_int8.py, the int8 references' oracle: its twin keeps every weight's real value,
leaves no int8 weight for onnxruntime's saturating u8 x s8 kernels, and computes the exact sum
where the model as given does not (on CPUs without VNNI)."""
import os
import sys

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import exact_int8  # noqa: E402

QUANTIZED = os.path.join(FIXTURES, "quantized")
NAMES = sorted(d for d in os.listdir(QUANTIZED) if os.path.isfile(os.path.join(QUANTIZED, d, "model.onnx")))


def weights(model, dtype):
    """(node name, weight input name, weight, zero point) of the operators exact_int8 recodes, weights of `dtype`."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out = []
    for n in model.graph.node:
        where = exact_int8.PRODUCTS.get((n.op_type, n.domain), (None, 0, 2) if n.op_type == "DequantizeLinear" else None)
        where = where and where[1:]
        if where and len(n.input) > where[0] and n.input[where[0]] in inits and inits[n.input[where[0]]].dtype == dtype:
            zp = inits.get(n.input[where[1]]) if len(n.input) > where[1] and n.input[where[1]] else None
            out.append((n.name, n.input[where[0]], inits[n.input[where[0]]], zp))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_twin_keeps_every_weights_real_value(name):
    model = onnx.load(os.path.join(QUANTIZED, name, "model.onnx"))
    before, after = weights(model, np.int8), weights(exact_int8.twin(model), np.uint8)
    assert len(before) == len(after) > 0
    for (node, _, w, z), (node2, _, w2, z2) in zip(before, after):
        assert node == node2 and w2.dtype == np.uint8 and z2 is not None and z2.dtype == np.uint8, node
        zero = np.zeros_like(w, dtype=np.int32) if z is None else z.astype(np.int32)
        # Per-channel zero points broadcast along axis 0 (weights) or 1 (a QGemm's B): compare integer offsets from them.
        if zero.ndim == 1 and zero.size > 1:
            axis = 0 if w.shape[0] == zero.size else 1
            shape = [1] * w.ndim
            shape[axis] = zero.size
            zero, zero2 = zero.reshape(shape), z2.astype(np.int32).reshape(shape)
        else:
            zero2 = z2.astype(np.int32)
        assert np.array_equal(w.astype(np.int32) - zero, w2.astype(np.int32) - zero2), node
    # Nothing int8 left for a u8 x s8 kernel, and the originals are gone (onnxruntime warns of unused ones).
    twin = exact_int8.twin(model)
    names = {t.name for t in twin.graph.initializer}
    assert not any(n in names for _, n, _, _ in before)


def test_float_models_come_back_unchanged():
    model = onnx.load(os.path.join(FIXTURES, "v1.5", "model.onnx"))
    assert exact_int8.twin(model) == model


def test_twin_computes_the_exact_sum():
    """8 x 255 x 127 / 2000 = 129.5 -> 130 exactly; saturating pairs give 66. The twin gives 130 on every CPU;
    the model as given does where onnxruntime does not saturate (a VNNI CPU)."""
    import onnxruntime as ort
    x = {"x": np.full((1, 8, 2, 2), 255, np.uint8)}
    probe = exact_int8.probe_model()
    assert int(exact_int8.session(probe).run(None, x)[0].flat[0]) == 130
    own = int(ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, x)[0].flat[0])
    assert own == (66 if exact_int8.saturates() else 130)


@pytest.mark.parametrize("name", NAMES)
def test_every_fixtures_twin_is_valid_and_gives_its_reference(name):
    """The twin passes onnx's full check, leaves no uint8 x int8 product, and onnxruntime's output on it
    equals the stored reference; where onnxruntime does not saturate, the model as given agrees too."""
    import onnxruntime as ort
    folder = os.path.join(QUANTIZED, name)
    model = onnx.load(os.path.join(folder, "model.onnx"))
    twin = exact_int8.twin(model)
    onnx.checker.check_model(twin, full_check=True)
    assert exact_int8.recodes(model) and exact_int8.remaining(twin) == [] and not exact_int8.recodes(twin)
    x = numpy_helper.to_array(onnx.load_tensor(os.path.join(folder, "test_data_set_0", "input_0.pb")))
    reference = numpy_helper.to_array(onnx.load_tensor(os.path.join(folder, "test_data_set_0", "output_0.pb")))
    session = exact_int8.session(os.path.join(folder, "model.onnx"))
    assert np.array_equal(session.run(None, {session.get_inputs()[0].name: x})[0], reference)
    if not exact_int8.saturates():
        own = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        assert np.array_equal(own.run(None, {own.get_inputs()[0].name: x})[0], reference)


def qconv_model(activation=np.uint8, shared_zero_point=False, qdq_without_zero_point=False, weight_from_constant=False, ir3=False):
    """x -> QuantizeLinear -> two 1x1 convs (QLinearConv, or DQ -> Conv -> Q) -> Add of their dequantized outputs.
    Weights in [-8, 8]: no pair sum comes near int16's limit, so onnxruntime is exact on any CPU."""
    h, rng = onnx.helper, np.random.default_rng(7)
    init = numpy_helper.from_array
    zx = np.array(3 if activation == np.uint8 else -2, activation)
    inits = [init(np.array(0.05, np.float32), "xs"), init(zx, "xz"), init(np.array(0.1, np.float32), "ys"), init(np.array(zx), "yz")]
    nodes = [h.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"])]
    outs = []
    for i in range(2):
        w = rng.integers(-8, 9, (4, 8, 1, 1)).astype(np.int8)
        zw = "wz" if shared_zero_point else f"wz{i}"
        if zw not in {t.name for t in inits}:
            inits.append(init(np.array(0, np.int8), zw))
        if weight_from_constant and i == 0:
            nodes.append(h.make_node("Constant", [], [f"w{i}"], value=init(w, f"w{i}_value")))
        else:
            inits.append(init(w, f"w{i}"))
        inits.append(init(np.full(4, 0.02, np.float32), f"ws{i}"))
        if qdq_without_zero_point:
            nodes += [h.make_node("DequantizeLinear", ["xq", "xs", "xz"], [f"xd{i}"]),
                      h.make_node("DequantizeLinear", [f"w{i}", f"ws{i}"], [f"wd{i}"], axis=0),
                      h.make_node("Conv", [f"xd{i}", f"wd{i}"], [f"c{i}"]),
                      h.make_node("QuantizeLinear", [f"c{i}", "ys", "yz"], [f"q{i}"])]
        else:
            nodes.append(h.make_node("QLinearConv", ["xq", "xs", "xz", f"w{i}", f"ws{i}", zw, "ys", "yz"], [f"q{i}"], name=f"conv{i}"))
        nodes.append(h.make_node("DequantizeLinear", [f"q{i}", "ys", "yz"], [f"d{i}"]))
        outs.append(f"d{i}")
    nodes.append(h.make_node("Add", outs, ["y"]))
    graph_inputs = [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 8, 3, 3])]
    if ir3:
        graph_inputs += [h.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
    graph = h.make_graph(nodes, "q", graph_inputs, [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4, 3, 3])], inits)
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    if ir3:
        m.ir_version = 3
    return m


EDGE_CASES = {
    "a zero point shared by two weights": dict(shared_zero_point=True),
    "QDQ weights per axis without a zero point": dict(qdq_without_zero_point=True),
    "initializers listed as graph inputs (IR 3)": dict(ir3=True),
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_twin_edge_cases_stay_valid_and_equal(case):
    import onnxruntime as ort
    model = qconv_model(**EDGE_CASES[case])
    twin = exact_int8.twin(model)
    onnx.checker.check_model(twin, full_check=True)
    assert exact_int8.recodes(model) and exact_int8.remaining(twin) == []
    x = {"x": np.random.default_rng(1).uniform(0, 4, (1, 8, 3, 3)).astype(np.float32)}
    own = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, x)[0]
    assert np.array_equal(exact_int8.session(model).run(None, x)[0], own)


def test_int8_activations_are_left_alone():
    """int8 x int8 is not what saturates (nor would onnxruntime run int8 x uint8): nothing to recode."""
    model = qconv_model(activation=np.int8)
    assert not exact_int8.recodes(model) and exact_int8.twin(model) == model


def test_a_weight_that_is_not_an_initializer_is_refused():
    """A Constant node's weight cannot be recoded: session() says which product stays inexact."""
    model = qconv_model(weight_from_constant=True)
    assert exact_int8.remaining(exact_int8.twin(model)) == ["conv0"]
    with pytest.raises(ValueError, match="conv0"):
        exact_int8.session(model)
