"""onnxruntime's int8 outputs made exact on every x86 CPU, for use as references.

On x86 CPUs without VNNI (AVX2 only: Zen 3, Haswell to Skylake client parts) onnxruntime
multiplies uint8 activations by int8 weights with vpmaddubsw, which adds neighbouring
products into int16 and saturates there: a QLinearConv over eight channels with x = 255 and
w = 127 sums to 32767 per pair, 131,068 in all where the exact sum is 259,080 (`saturates()` runs
that probe). onnxruntime's quantization guide names the cause and suggests 7-bit weights
(reduce_range) or uint8 weights. Our executor computes QLinearConv as ONNX defines it, in exact int32, so on
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

# (op type, domain) -> (activation zero point input, weight input, weight zero point input): the
# operators whose int8 weights onnxruntime multiplies by uint8 activations in its u8 x s8 kernels.
PRODUCTS = {
    ("QLinearConv", ""): (2, 3, 5),
    ("QLinearMatMul", ""): (2, 3, 5),
    ("QGemm", "com.microsoft"): (2, 3, 5),
    ("ConvInteger", ""): (2, 1, 3),
    ("MatMulInteger", ""): (2, 1, 3),
}
# The float operators a QDQ model's DequantizeLinear pairs feed: (activation input, weight input).
QDQ_PRODUCTS = {"Conv": (0, 1), "MatMul": (0, 1), "Gemm": (0, 1)}


def _domain(node):
    return "" if node.domain in ("", "ai.onnx") else node.domain


def _element_types(m):
    """Every value's element type that the model or onnx's type inference states."""
    types = {t.name: t.data_type for t in m.graph.initializer}
    try:
        inferred = onnx.shape_inference.infer_shapes(m)
    except Exception:  # a model onnx cannot type (it still has its initializers' and declared types)
        inferred = m
    for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        if v.type.HasField("tensor_type") and v.type.tensor_type.elem_type:
            types.setdefault(v.name, v.type.tensor_type.elem_type)
    return types


def _saturating_operands(m):
    """(node, weight input index, activation type, weight type) of each product that would still run
    uint8 x int8: a PRODUCTS node with those types, or a QDQ_PRODUCTS node whose activation and
    weight come from DequantizeLinear of uint8 and of int8."""
    types, producer = _element_types(m), {o: n for n in m.graph.node for o in n.output}
    u8, s8 = onnx.TensorProto.UINT8, onnx.TensorProto.INT8
    found = []
    for n in m.graph.node:
        if (n.op_type, _domain(n)) in PRODUCTS:
            xz, wi, _ = PRODUCTS[(n.op_type, _domain(n))]
            # The activation's type from its zero point where there is one (onnx cannot type what
            # com.microsoft operators produce, such as the classifier's input in a QOperator model).
            x_type = types.get(n.input[xz]) if len(n.input) > xz and n.input[xz] else types.get(n.input[0])
            if len(n.input) > wi and x_type == u8 and types.get(n.input[wi]) == s8:
                found.append((n, wi))
        elif n.op_type in QDQ_PRODUCTS and _domain(n) == "":
            xi, wi = QDQ_PRODUCTS[n.op_type]
            dx, dw = (producer.get(n.input[i]) if len(n.input) > i else None for i in (xi, wi))
            if (dx is not None and dw is not None and dx.op_type == dw.op_type == "DequantizeLinear"
                    and types.get(dx.input[0]) == u8 and types.get(dw.input[0]) == s8):
                found.append((n, wi))
    return found


def twin(model):
    """A copy of `model` in which each int8 weight that onnxruntime would multiply by uint8
    activations (PRODUCTS' weight inputs, and the DequantizeLinear feeding a QDQ Conv/MatMul/Gemm
    its weight) is recoded as uint8 w + 128 with zero point z + 128: the same real numbers, computed
    exactly by onnxruntime's u8 x u8 kernels. Only initializers are recoded; `remaining(twin)` lists
    what could not be (weights from Constant nodes or computed ones, zero points that are not
    initializers). Models with nothing to recode come back equal to `model`."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inits = {t.name: t for t in m.graph.initializer}
    taken = set(inits) | {i for n in m.graph.node for i in list(n.input) + list(n.output)} | {v.name for v in m.graph.input}
    producer = {o: n for n in m.graph.node for o in n.output}
    converted = {}  # original initializer name -> recoded uint8 initializer's name

    def fresh(base):
        name, k = base + "_exact_u8", 1
        while name in taken:
            name, k = f"{base}_exact_u8_{k}", k + 1
        taken.add(name)
        return name

    def recode(name, values):
        """The uint8 twin of initializer `name` (int8 `values`), made once per name."""
        if name not in converted:
            converted[name] = fresh(name)
            m.graph.initializer.append(numpy_helper.from_array((values.astype(np.int16) + 128).astype(np.uint8), converted[name]))
        return converted[name]

    def recode_pair(node, wi, zi, zero_shape):
        """Recodes node's int8 weight initializer (input wi) and its zero point (input zi: an int8
        initializer, or absent: 0 of `zero_shape`). False, changing nothing, when either is not so."""
        w = inits.get(node.input[wi]) if len(node.input) > wi else None
        z_name = node.input[zi] if len(node.input) > zi else ""
        z = inits.get(z_name) if z_name else None
        if w is None or w.data_type != onnx.TensorProto.INT8 or (z_name and (z is None or z.data_type != onnx.TensorProto.INT8)):
            return False
        new_w = recode(w.name, numpy_helper.to_array(w))
        if z is not None:
            new_z = recode(z.name, numpy_helper.to_array(z))
        else:
            new_z = fresh(w.name + "_zero_point")
            m.graph.initializer.append(numpy_helper.from_array(np.full(zero_shape, 128, np.uint8), new_z))
        while len(node.input) <= zi:
            node.input.append("")
        node.input[wi], node.input[zi] = new_w, new_z
        return True

    for n, wi in _saturating_operands(m):
        if (n.op_type, _domain(n)) in PRODUCTS:
            _, wi, zi = PRODUCTS[(n.op_type, _domain(n))]
            recode_pair(n, wi, zi, ())
        else:
            dq = producer[n.input[wi]]
            scale = inits.get(dq.input[1])
            # A missing zero point is 0 in the scale's shape (per tensor, per axis or per block).
            recode_pair(dq, 0, 2, tuple(scale.dims) if scale is not None else ())
    # The int8 originals nothing reads any more: out of the initializers, the graph's inputs (IR < 4
    # lists initializers there) and value_info (onnxruntime would warn of them, or ask for them).
    used = {i for n in m.graph.node for i in n.input} | {o.name for o in m.graph.output} | _subgraph_reads(m.graph)
    gone = {name for name in converted if name not in used}
    for field in (m.graph.initializer, m.graph.input, m.graph.value_info):
        kept = [t for t in field if t.name not in gone]
        del field[:]
        field.extend(kept)
    if m.ir_version < 4:
        # Before IR 4 every initializer is also a graph input.
        listed = {v.name for v in m.graph.input}
        m.graph.input.extend(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                             for t in m.graph.initializer if t.name not in listed)
    return m


def _subgraph_reads(graph):
    """Names read by nodes of If/Loop/Scan bodies anywhere below `graph`."""
    names = set()
    for n in graph.node:
        for a in n.attribute:
            for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)):
                names |= {i for sub in g.node for i in sub.input} | _subgraph_reads(g)
    return names


def remaining(model):
    """Names of the nodes that still multiply uint8 activations by int8 weights (empty for a twin
    whose every such weight was an initializer)."""
    return [n.name or n.op_type for n, _ in _saturating_operands(model)]


def recodes(model):
    """Whether `twin(model)` differs from `model` (it has int8 weights onnxruntime would saturate)."""
    return bool(_saturating_operands(model))


def session(model_or_path, options=None):
    """An onnxruntime CPU session on the exact twin of a model (a path or a ModelProto). Raises
    ValueError when some uint8 x int8 product could not be recoded (its output would not be exact
    on a CPU without VNNI)."""
    import onnxruntime as ort
    options = options or ort.SessionOptions()
    model = onnx.load(model_or_path) if isinstance(model_or_path, str) else model_or_path
    if not recodes(model):
        # Nothing to recode (a float model): the file itself, external data and all.
        source = model_or_path if isinstance(model_or_path, str) else model.SerializeToString()
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    exact = twin(model)
    left = remaining(exact)
    if left:
        raise ValueError(f"uint8 x int8 products left that onnxruntime may saturate: {', '.join(left[:5])}")
    return ort.InferenceSession(exact.SerializeToString(), options, providers=["CPUExecutionProvider"])


def onnxruntime_version():
    import onnxruntime as ort
    return ort.__version__


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


if __name__ == "__main__":
    # scripts/exact_int8.py IN.onnx OUT.onnx: writes the exact twin (e.g. for scripts/layer_compare.py).
    import sys
    if len(sys.argv) != 3:
        sys.exit("usage: exact_int8.py IN.onnx OUT.onnx")
    source = onnx.load(sys.argv[1])
    result = twin(source)
    onnx.checker.check_model(result)
    onnx.save(result, sys.argv[2])
    print(f"{sys.argv[2]}: {'recoded' if recodes(source) else 'nothing to recode'}; left: {remaining(result) or 'none'}")
