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
        where = exact_int8.WEIGHT_INPUTS.get((n.op_type, n.domain))
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
