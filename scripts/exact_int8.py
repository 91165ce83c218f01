"""onnxruntime's int8 outputs made exact on every x86 CPU, for use as references.

On x86 CPUs without VNNI (AVX2 only: Zen 3, Haswell to Skylake client parts) onnxruntime
multiplies uint8 activations by int8 weights with vpmaddubsw, which adds neighbouring
products into int16 and saturates there: a QLinearConv over eight channels with x = 255 and
w = 127 sums to 32767 per pair, 131 where the exact answer is 259 (`saturates()` runs that
probe). onnxruntime's quantization guide names the cause and suggests 7-bit weights
(reduce_range). Our executor computes QLinearConv as ONNX defines it, in exact int32, so on
such a CPU onnxruntime's own output for an ordinary int8 model is not a reference for it.

The fix keeps the model's real numbers and changes only their coding: an int8 weight w with
zero point z dequantizes to the same value as the uint8 weight w + 128 with zero point
z + 128, and with uint8 weights onnxruntime takes its u8u8 kernels (int16 vpmaddwd sums,
exact). `twin(model)` is that model; `session(path)` runs it. On a VNNI CPU both models give
identical outputs (both exact), so references made this way are the same on every machine.

    import exact_int8; y = exact_int8.session(path).run(None, {name: x})[0]
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

# (op type, domain) -> (weight input, weight zero point input): the operand onnxruntime feeds to
# its u8s8 kernels as the int8 side.
WEIGHT_INPUTS = {
    ("QLinearConv", ""): (3, 5),
    ("QLinearMatMul", ""): (3, 5),
    ("QGemm", "com.microsoft"): (3, 5),
    ("DequantizeLinear", ""): (0, 2),
}


def twin(model):
    """A copy of `model` with every int8 weight initializer of the operators above recoded as uint8
    (value + 128, zero point + 128): the same real numbers, computed exactly by onnxruntime.
    Models without such weights come back unchanged."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inits = {t.name: t for t in m.graph.initializer}
    recoded = {}  # (weight name, zero point name or "") -> (new weight name, new zero point name)

    def int8_initializer(name):
        t = inits.get(name)
        return t is not None and t.data_type == onnx.TensorProto.INT8

    for node in m.graph.node:
        where = WEIGHT_INPUTS.get((node.op_type, node.domain if node.domain != "ai.onnx" else ""))
        if where is None:
            continue
        wi, zi = where
        if len(node.input) <= wi or not int8_initializer(node.input[wi]):
            continue
        zp_name = node.input[zi] if len(node.input) > zi and node.input[zi] else ""
        if zp_name and not int8_initializer(zp_name):
            continue
        key = (node.input[wi], zp_name)
        if key not in recoded:
            w = numpy_helper.to_array(inits[node.input[wi]]).astype(np.int16) + 128
            z = (numpy_helper.to_array(inits[zp_name]).astype(np.int16) if zp_name else np.array(0, np.int16)) + 128
            names = (node.input[wi] + "_exact_u8", (zp_name or node.input[wi] + "_zero_point") + "_exact_u8")
            m.graph.initializer.extend([numpy_helper.from_array(w.astype(np.uint8), names[0]),
                                        numpy_helper.from_array(z.astype(np.uint8), names[1])])
            recoded[key] = names
        new_w, new_z = recoded[key]
        node.input[wi] = new_w
        while len(node.input) <= zi:
            node.input.append("")
        node.input[zi] = new_z
    # The int8 originals no node reads any more (onnxruntime would warn about each).
    replaced = {name for key in recoded for name in key if name}
    used = {i for n in m.graph.node for i in n.input} | {o.name for o in m.graph.output}
    kept = [t for t in m.graph.initializer if t.name not in replaced or t.name in used]
    del m.graph.initializer[:]
    m.graph.initializer.extend(kept)
    return m


def session(model_or_path, options=None):
    """An onnxruntime CPU session on the exact twin of a model (a path or a ModelProto)."""
    import onnxruntime as ort
    options = options or ort.SessionOptions()
    model = onnx.load(model_or_path) if isinstance(model_or_path, str) else model_or_path
    exact = twin(model)
    if exact == model and isinstance(model_or_path, str):
        # No int8 weights (a float model): the file itself, external data and all.
        return ort.InferenceSession(model_or_path, options, providers=["CPUExecutionProvider"])
    return ort.InferenceSession(exact.SerializeToString(), options, providers=["CPUExecutionProvider"])


def probe_model(c=8):
    """QLinearConv: c channels of uint8 x (scale 1) times one filter of int8 127s (scale 1), output scale 2000."""
    inits = [numpy_helper.from_array(np.array(1.0, np.float32), "xs"), numpy_helper.from_array(np.array(0, np.uint8), "xz"),
             numpy_helper.from_array(np.full((1, c, 1, 1), 127, np.int8), "w"),
             numpy_helper.from_array(np.array(1.0, np.float32), "ws"), numpy_helper.from_array(np.array(0, np.int8), "wz"),
             numpy_helper.from_array(np.array(2000.0, np.float32), "ys"), numpy_helper.from_array(np.array(0, np.uint8), "yz")]
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"])
    graph = helper.make_graph([node], "probe", [helper.make_tensor_value_info("x", onnx.TensorProto.UINT8, [1, c, 2, 2])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.UINT8, [1, 1, 2, 2])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def saturates():
    """Whether this CPU's onnxruntime saturates u8 x s8 sums: 8 x 255 x 127 / 2000 is 130 exactly, 66 saturated."""
    import onnxruntime as ort
    s = ort.InferenceSession(probe_model().SerializeToString(), providers=["CPUExecutionProvider"])
    y = s.run(None, {"x": np.full((1, 8, 2, 2), 255, np.uint8)})[0]
    return int(y.flat[0]) != 130
