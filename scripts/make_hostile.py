#!/usr/bin/env python3
"""Builds fixtures/hostile/: small, well-formed ONNX models whose graphs are
hostile (issue 8) — attributes at 0, -1, 2^31, 2^62 and Int64 min/max, axes far
out of range, shapes whose element counts overflow Int64 or ask for terabytes,
operators with the wrong number of inputs or outputs, mismatched parameter
lengths, unknown domains and operators — plus fixtures/hostile/index.json, one
row per case with its class, what it attacks and the outcome each tool must
give (checked by Tests/integration/test_hostile.py):

    scripts/setup && .venv/bin/python scripts/make_hostile.py

Every model is written with onnx.save directly: many of them are models the
onnx.checker would reject, which is the point. Weights come from a seeded
generator, so the output is byte-for-byte reproducible.

Expected outcomes (rows override them where the model is valid or the tools
may legitimately accept it; the row's "note" says why):

- `resnet-check shapes CASE`: exit 1 with one of the row's diagnostic codes
  on an error line, or exit 2 when the reader refuses the file.
- `resnet-check run CASE` (SIMD and --reference-kernels): exit 2, with an
  error naming the node, operator or input.
- `resnet-convert CASE out.rnw`: exit 0 with a complete .rnw (conversion is
  lossless and does not judge the graph), or a non-zero exit leaving nothing
  behind.
- Always: no signal, no hang, peak RSS under 1 GB.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "hostile")

I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
P31, P40, P62 = 2**31, 2**40, 2**62
# The values every int attribute is tried at (tag, value).
VALUES = [("0", 0), ("m1", -1), ("2p31", P31), ("2p62", P62), ("i64max", I64_MAX), ("i64min", I64_MIN)]
# Axes far out of range.
AXES = [("2p62", P62), ("m2p62", -P62), ("i64min", I64_MIN)]

# IR version each opset first shipped with (onnx's VERSION_TABLE).
IR_FOR_OPSET = {1: 3, 9: 4, 10: 5, 11: 6, 13: 7, 14: 7, 17: 8, 18: 8, 19: 9}

IN, OUTNAME = "hostile_in", "hostile_out"
X_SHAPE = [1, 3, 8, 8]

# Outcome sets (see the module docstring).
OP_RULE = {"exit": [1, 2], "codes": ["RN011"]}
STRUCTURE = {"exit": [1, 2], "codes": ["RN001", "RN002", "RN003", "RN004", "RN005", "RN011"]}
ARITY = {"exit": [1, 2], "codes": ["RN005", "RN011", "RN101", "RN102"]}
# The checker may accept a shape it can represent (an Int64 element count),
# however large: it allocates nothing. Exit 1 still needs a code.
REPRESENTABLE = {"exit": [0, 1, 2], "codes": ["RN011"]}
# An operator the checker may not know: RN010 (a warning, exit 0) is fine, as
# is an RN011 error once it knows the operator.
MAYBE_UNKNOWN = {"exit": [0, 1, 2], "codes": ["RN010", "RN011"], "exit0_needs_code": True}
# The same for a size the checker can represent: exit 0 needs no diagnostic.
MAYBE_UNKNOWN_REPRESENTABLE = {"exit": [0, 1, 2], "codes": ["RN010", "RN011"]}
VALID_SHAPES = {"exit": [0], "codes": []}
# What ONNX leaves open (onnxruntime accepts it): the checker may pass or flag it.
UNSPECIFIED_SHAPES = {"exit": [0, 1, 2], "codes": ["RN011"]}
REFUSE = {"exit": [2]}


class Table:
    def __init__(self, out):
        self.out = out
        self.rows = []
        self.rng = np.random.default_rng(8)
        self.names = set()

    def weights(self, *shape):
        return (self.rng.standard_normal(shape) * 0.1).astype(np.float32)

    def add(self, name, cls, attacks, nodes, inits=(), *, node, op, opset=13, inputs=None, outputs=None,
            extra_opsets=(), shapes=OP_RULE, run=REFUSE, mentions=None, note=None, verdict="invalid"):
        assert name not in self.names, name
        self.names.add(name)
        inputs = inputs if inputs is not None else [helper.make_tensor_value_info(IN, TensorProto.FLOAT, X_SHAPE)]
        outputs = outputs if outputs is not None else [helper.make_tensor_value_info(OUTNAME, TensorProto.FLOAT, None)]
        # The attacked node's outputs get names an error can be matched by
        # ('<node>_y'; renamed everywhere, so the graph's structure is kept):
        # a refusal that names the value it would produce names the node too.
        mentions = list(mentions if mentions is not None else [m for m in (node, op) if m])
        target = next((n for n in nodes if n.name == node), None)
        if target is not None:
            renames = {o: f"{node}_y" + (str(i) if i else "") for i, o in enumerate(target.output) if o and o != OUTNAME}
            for n in nodes:
                n.input[:] = [renames.get(v, v) for v in n.input]
                n.output[:] = [renames.get(v, v) for v in n.output]
            for v in outputs:
                v.name = renames.get(v.name, v.name)
            mentions += [v for v in list(renames.values()) + [OUTNAME] if v in target.output and v not in mentions]
        tensors = [numpy_helper.from_array(np.asarray(a), n) for n, a in inits]
        graph = helper.make_graph(nodes, "hostile_" + name, inputs, outputs, tensors)
        opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="make_hostile.py",
                                  ir_version=IR_FOR_OPSET[opset])
        path = os.path.join(self.out, name + ".onnx")
        onnx.save(model, path)  # no onnx.checker: many of these are invalid on purpose
        row = {
            "name": name, "file": name + ".onnx", "class": cls, "attacks": attacks, "opset": opset,
            "node": node, "op": op, "onnx_verdict": verdict,
            "mentions": mentions,
            "expect": {
                "shapes": shapes,
                "run": run,
                "convert": {"exit": [0, 2], "complete_or_absent": True},
            },
        }
        if note:
            row["note"] = note
        self.rows.append(row)


def i64(*v):
    return np.array(v, dtype=np.int64)


def relu(inp, out=OUTNAME, name="tail_relu"):
    return helper.make_node("Relu", [inp], [out], name=name)


def valid_run(shape, strict=False):
    """A model ONNX allows: the run either gives exactly this output shape or
    (unless strict) refuses cleanly with exit 2."""
    return {"exit": [0] if strict else [0, 2], "output_shape": shape}


def conv_cases(t):
    w, b = t.weights(4, 3, 3, 3), t.weights(4)
    base = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [1, 1], "dilations": [1, 1], "group": 1}

    def conv(name, cls, attacks, weight=w, bias=b, shapes=OP_RULE, run=REFUSE, note=None, verdict="invalid", **over):
        attrs = dict(base)
        attrs.update(over)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        ins = [IN, "w"] + (["b"] if bias is not None else [])
        inits = [("w", weight)] + ([("b", bias)] if bias is not None else [])
        n = helper.make_node("Conv", ins, ["conv_out"], name="hostile_conv", **attrs)
        t.add(name, cls, attacks, [n, relu("conv_out")], inits, node="hostile_conv", op="Conv",
              shapes=shapes, run=run, note=note, verdict=verdict)

    for attr in ("strides", "dilations", "pads"):
        for tag, v in VALUES:
            if attr == "pads" and v == 0:
                continue  # zero padding is ordinary
            vals = [v] * (4 if attr == "pads" else 2)
            kw = {attr: vals}
            if attr == "strides" and v > 0:
                conv(f"conv_{attr}_{tag}", "conv-attributes", f"Conv {attr} = {vals}: valid, output 1x1 "
                     "((8+2-3) // stride + 1); (x - k) / stride arithmetic must not overflow",
                     shapes=VALID_SHAPES, run=valid_run([1, 4, 1, 1]), verdict="valid",
                     note="ONNX allows any positive stride (onnxruntime gives [1,4,1,1]); the run may compute it or refuse", **kw)
            elif attr == "pads" and v == P31:
                conv(f"conv_{attr}_{tag}", "conv-attributes", f"Conv pads = {vals}: output [1,4,2^32+7,2^32+7] "
                     "has ~7.4e19 elements, past Int64", **kw)
            else:
                what = {0: "zero", -1: "negative", I64_MIN: "Int64.min"}.get(v, "overflowing")
                conv(f"conv_{attr}_{tag}", "conv-attributes", f"Conv {attr} = {vals} ({what}: "
                     + ("window arithmetic overflows Int64" if v in (P62, I64_MAX) or (attr == "dilations" and v == P31)
                        else "outside the operator's domain") + ")", **kw)
    conv("conv_strides_0_same_upper", "conv-attributes", "Conv strides [0,0] with auto_pad SAME_UPPER: output = ceil(8 / 0)",
         strides=[0, 0], pads=None, auto_pad="SAME_UPPER")
    conv("conv_auto_pad_unknown", "conv-attributes", "Conv auto_pad 'SAME_EVIL' (not NOTSET/SAME_UPPER/SAME_LOWER/VALID)",
         pads=None, auto_pad="SAME_EVIL")
    for tag, v in [("0", 0), ("m1", -1), ("2p62", P62)]:
        conv(f"conv_kernel_shape_{tag}", "conv-attributes", f"Conv kernel_shape [{v},{v}] against 3x3 weights", kernel_shape=[v, v])
    conv("conv_kernel_shape_wrong_length", "conv-attributes", "Conv kernel_shape [3] (one spatial dim) on a 2-D conv", kernel_shape=[3])
    conv("conv_kernel_shape_mismatch", "conv-attributes", "Conv kernel_shape [5,5] but the weight is 3x3", kernel_shape=[5, 5])
    for tag, v in [("0", 0), ("m1", -1), ("i64min", I64_MIN), ("2p62", P62)]:
        conv(f"conv_group_{tag}", "conv-attributes", f"Conv group = {v} (C / group divides by zero or goes negative)", group=v)
    conv("conv_group_not_dividing", "conv-attributes", "Conv group 2 with 3 input channels and 4 output channels", group=2)
    conv("conv_pads_length_2", "conv-attributes", "Conv pads [1,1] (2 values; 4 needed)", pads=[1, 1])
    conv("conv_pads_length_3", "conv-attributes", "Conv pads [1,1,1] (3 values; 4 needed)", pads=[1, 1, 1])
    conv("conv_strides_length_3", "conv-attributes", "Conv strides [1,1,1] on a 2-D conv", strides=[1, 1, 1])
    conv("conv_dilations_length_1", "conv-attributes", "Conv dilations [1] on a 2-D conv", dilations=[1])

    # Weight and bias shapes.
    conv("conv_bias_short", "conv-parameters", "Conv bias of 3 values for 4 output channels", bias=t.weights(3))
    conv("conv_bias_long", "conv-parameters", "Conv bias of 5 values for 4 output channels", bias=t.weights(5))
    conv("conv_bias_rank2", "conv-parameters", "Conv bias of shape [4,1] (must be 1-D [M])", bias=t.weights(4, 1))
    conv("conv_weight_rank3", "conv-parameters", "Conv weight [4,3,3] (rank 3: a 1-D conv) on a rank-4 input",
         weight=t.weights(4, 3, 3), kernel_shape=None, pads=None, strides=None, dilations=None)
    conv("conv_weight_1d_attrs", "conv-parameters", "1-D Conv (weight [4,3,3], kernel_shape [3], pads [1,1]) on a 4-D input",
         weight=t.weights(4, 3, 3), kernel_shape=[3], pads=[1, 1], strides=[1], dilations=[1])
    conv("conv_weight_rank5", "conv-parameters", "Conv weight [4,3,3,3,1] (rank 5: a 3-D conv) on a rank-4 input",
         weight=t.weights(4, 3, 3, 3, 1), kernel_shape=None, pads=None, strides=None, dilations=None)
    conv("conv_weight_rank1", "conv-parameters", "Conv weight [4] (rank 1)", weight=t.weights(4),
         kernel_shape=None, pads=None, strides=None, dilations=None)
    conv("conv_weight_channels", "conv-parameters", "Conv weight [4,5,3,3] on a 3-channel input", weight=t.weights(4, 5, 3, 3))


def pool_cases(t):
    def pool(op, name, cls, attacks, opset=13, shapes=OP_RULE, run=REFUSE, note=None, verdict="invalid", **over):
        attrs = {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0]}
        attrs.update(over)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        nn = "hostile_" + op.lower()
        n = helper.make_node(op, [IN], ["pool_out"], name=nn, **attrs)
        t.add(name, cls, attacks, [n, relu("pool_out")], node=nn, op=op, opset=opset,
              shapes=shapes, run=run, note=note, verdict=verdict)

    for op, short in (("MaxPool", "maxpool"), ("AveragePool", "avgpool")):
        attrs = ("strides", "pads", "dilations") if op == "MaxPool" else ("strides", "pads")
        for attr in attrs:
            for tag, v in VALUES:
                if attr == "pads" and v == 0:
                    continue
                vals = [v] * (4 if attr == "pads" else 2)
                kw = {attr: vals}
                name = f"{short}_{attr}_{tag}"
                if attr == "strides" and v > 0:
                    pool(op, name, "pool-attributes", f"{op} 2x2 strides = {vals}: valid, output 1x1", shapes=VALID_SHAPES,
                         run=valid_run([1, 3, 1, 1]), verdict="valid",
                         note="ONNX allows any positive stride (onnxruntime gives [1,3,1,1]); the run may compute it or refuse", **kw)
                else:
                    pool(op, name, "pool-attributes", f"{op} 2x2 {attr} = {vals}"
                         + (" (pads must be smaller than the kernel)" if attr == "pads" and v > 0 else ""), **kw)
        pool(op, f"{short}_ceil_mode_2p62", "pool-attributes", f"{op} ceil_mode = 2^62 (a flag: 0 or 1)", ceil_mode=P62,
             shapes=UNSPECIFIED_SHAPES, run=valid_run([1, 3, 4, 4]), verdict="unspecified",
             note="ONNX does not say what a flag of 2^62 means; onnxruntime treats it as 1 ([1,3,4,4]): refusing or running are both clean")
        pool(op, f"{short}_auto_pad_unknown", "pool-attributes", f"{op} auto_pad 'SAME_EVIL'", pads=None, auto_pad="SAME_EVIL")
        pool(op, f"{short}_strides_0_same_upper", "pool-attributes", f"{op} strides [0,0] with auto_pad SAME_UPPER: ceil(8 / 0)",
             pads=None, strides=[0, 0], auto_pad="SAME_UPPER")
        for tag, v in ([("0", 0), ("m1", -1), ("2p62", P62)] if op == "MaxPool" else [("0", 0), ("m1", -1)]):
            pool(op, f"{short}_kernel_shape_{tag}", "pool-attributes", f"{op} kernel_shape [{v},{v}]", kernel_shape=[v, v])
    pool("MaxPool", "maxpool_kernel_shape_wrong_length", "pool-attributes", "MaxPool kernel_shape [2] on a 4-D input", kernel_shape=[2],
         strides=None, pads=None)
    pool("MaxPool", "maxpool_kernel_shape_missing", "pool-attributes", "MaxPool without its required kernel_shape", kernel_shape=None)
    pool("AveragePool", "avgpool_count_include_pad_2p62", "pool-attributes", "AveragePool count_include_pad = 2^62 (a flag: 0 or 1)",
         count_include_pad=P62, pads=[1, 1, 1, 1], shapes=UNSPECIFIED_SHAPES, run=valid_run([1, 3, 5, 5]), verdict="unspecified",
         note="ONNX does not say what a flag of 2^62 means; onnxruntime treats it as 1 ([1,3,5,5]): refusing or running are both clean")
    for tag, v in [("0", 0), ("m1", -1), ("2p62", P62)]:
        pool("AveragePool", f"avgpool_dilations_{tag}_opset19", "pool-attributes", f"AveragePool (opset 19) dilations [{v},{v}]",
             opset=19, dilations=[v, v])


def slice_cases(t):
    def sl(name, attacks, starts, ends, axes=None, steps=None, shapes=OP_RULE, run=REFUSE, note=None, verdict="invalid"):
        inits = [("starts", i64(*starts)), ("ends", i64(*ends))]
        ins = [IN, "starts", "ends"]
        if axes is not None:
            inits.append(("axes", i64(*axes)))
            ins.append("axes")
        if steps is not None:
            if axes is None:
                ins.append("")
            inits.append(("steps", i64(*steps)))
            ins.append("steps")
        n = helper.make_node("Slice", ins, ["slice_out"], name="hostile_slice")
        t.add(name, "slice", attacks, [n, relu("slice_out")], inits, node="hostile_slice", op="Slice",
              shapes=shapes, run=run, note=note, verdict=verdict)

    sl("slice_step_0", "Slice step 0 on W", [0], [8], [3], [0])
    sl("slice_step_i64min", "Slice W from -1 to Int64.min with step Int64.min: exactly one element, "
       "but (end - start) and (end - start + step) overflow in naive arithmetic", [-1], [I64_MIN], [3], [I64_MIN],
       shapes=VALID_SHAPES, run=valid_run([1, 3, 8, 1]), verdict="valid",
       note="valid ONNX (onnxruntime gives [1,3,8,1]); the run may compute it or refuse")
    sl("slice_starts_i64min", "Slice W with start Int64.min (clamps to 0), end 8", [I64_MIN], [8], [3], [1],
       shapes=VALID_SHAPES, run=valid_run([1, 3, 8, 8], strict=True), verdict="valid",
       note="valid ONNX: starts clamp; must run, output [1,3,8,8]")
    sl("slice_ends_i64max", "Slice W from 0 to Int64.max (torch's 'to the end')", [0], [I64_MAX], [3], [1],
       shapes=VALID_SHAPES, run=valid_run([1, 3, 8, 8], strict=True), verdict="valid",
       note="valid ONNX (torch exports it): must run, output [1,3,8,8]")
    sl("slice_reverse_i64_bounds", "Slice W from Int64.max to Int64.min with step -1 (a full reverse): end - start overflows",
       [I64_MAX], [I64_MIN], [3], [-1],
       shapes=VALID_SHAPES, run=valid_run([1, 3, 8, 8], strict=True), verdict="valid",
       note="valid ONNX (a reverse): must run, output [1,3,8,8]")
    for tag, v in [("4", 4), ("m5", -5), ("2p62", P62), ("i64min", I64_MIN)]:
        sl(f"slice_axes_{tag}", f"Slice axes [{v}] on a rank-4 input", [0], [4], [v], [1])
    sl("slice_axes_duplicate", "Slice axes [3,3] (each axis at most once)", [0, 0], [4, 4], [3, 3], [1, 1])
    sl("slice_starts_ends_length_mismatch", "Slice with 2 starts and 1 end", [0, 0], [4], [2, 3])
    sl("slice_axes_length_mismatch", "Slice with 2 starts/ends and 1 axis", [0, 0], [4, 4], [2])
    sl("slice_steps_length_mismatch", "Slice with 2 starts/ends/axes and 1 step", [0, 0], [4, 4], [2, 3], [1])

    # Attribute form (opset < 10).
    for name, attacks, attrs in [
        ("slice_attr_opset9_axes_7", "Slice (opset 9, attributes) axes [7] on a rank-4 input",
         {"starts": [0], "ends": [4], "axes": [7]}),
        ("slice_attr_opset9_length_mismatch", "Slice (opset 9, attributes) with 2 starts and 1 end",
         {"starts": [0, 0], "ends": [4], "axes": [2, 3]}),
        ("slice_attr_opset9_axes_i64min", "Slice (opset 9, attributes) axes [Int64.min]",
         {"starts": [0], "ends": [4], "axes": [I64_MIN]}),
    ]:
        n = helper.make_node("Slice", [IN], ["slice_out"], name="hostile_slice", **attrs)
        t.add(name, "slice", attacks, [n, relu("slice_out")], node="hostile_slice", op="Slice", opset=9)


def axis_cases(t):
    rank4 = "on a rank-4 input"
    for tag, v in AXES:
        n = helper.make_node("Flatten", [IN], ["flat"], name="hostile_flatten", axis=v)
        t.add(f"flatten_axis_{tag}", "axis-range", f"Flatten axis {v} {rank4}", [n, relu("flat")], node="hostile_flatten", op="Flatten")
        n = helper.make_node("Concat", [IN, IN], ["cat"], name="hostile_concat", axis=v)
        t.add(f"concat_axis_{tag}", "axis-range", f"Concat axis {v} {rank4}", [n, relu("cat")], node="hostile_concat", op="Concat")
        n = helper.make_node("Softmax", [IN], [OUTNAME], name="hostile_softmax", axis=v)
        t.add(f"softmax_axis_{tag}", "axis-range", f"Softmax axis {v} {rank4}", [n], node="hostile_softmax", op="Softmax")
        n = helper.make_node("Gather", [IN, "idx"], ["g"], name="hostile_gather", axis=v)
        t.add(f"gather_axis_{tag}", "axis-range", f"Gather axis {v} {rank4}", [n, relu("g")], [("idx", i64(0))],
              node="hostile_gather", op="Gather")
        n = helper.make_node("ReduceMean", [IN], ["r"], name="hostile_reducemean", axes=[v], keepdims=1)
        t.add(f"reducemean_axes_{tag}", "axis-range", f"ReduceMean axes [{v}] {rank4}", [n, relu("r")],
              node="hostile_reducemean", op="ReduceMean")
        n = helper.make_node("Squeeze", [IN, "axes"], ["s"], name="hostile_squeeze")
        t.add(f"squeeze_axes_{tag}", "axis-range", f"Squeeze axes [{v}] {rank4}", [n, relu("s")], [("axes", i64(v))],
              node="hostile_squeeze", op="Squeeze")
        n = helper.make_node("Unsqueeze", [IN, "axes"], ["u"], name="hostile_unsqueeze")
        t.add(f"unsqueeze_axes_{tag}", "axis-range", f"Unsqueeze axes [{v}] {rank4}", [n, relu("u")], [("axes", i64(v))],
              node="hostile_unsqueeze", op="Unsqueeze")
    n = helper.make_node("ReduceMean", [IN, "axes"], ["r"], name="hostile_reducemean", keepdims=1)
    t.add("reducemean_axes_input_2p62_opset18", "axis-range", "ReduceMean (opset 18, axes as input) axes [2^62]",
          [n, relu("r")], [("axes", i64(P62))], node="hostile_reducemean", op="ReduceMean", opset=18)
    dup = "ONNX does not forbid a repeated axis here; onnxruntime reduces it once (%s): refusing or running are both clean"
    n = helper.make_node("ReduceMean", [IN], ["r"], name="hostile_reducemean", axes=[2, 2], keepdims=1)
    t.add("reducemean_axes_duplicate", "axis-range", "ReduceMean axes [2,2]", [n, relu("r")],
          node="hostile_reducemean", op="ReduceMean", shapes=UNSPECIFIED_SHAPES, run=valid_run([1, 3, 1, 8]),
          verdict="unspecified", note=dup % "[1,3,1,8]")
    n = helper.make_node("Squeeze", [IN, "axes"], ["s"], name="hostile_squeeze")
    t.add("squeeze_axes_duplicate", "axis-range", "Squeeze axes [0,0]", [n, relu("s")], [("axes", i64(0, 0))],
          node="hostile_squeeze", op="Squeeze", shapes=UNSPECIFIED_SHAPES, run=valid_run([3, 8, 8]),
          verdict="unspecified", note=dup % "[3,8,8]")
    n = helper.make_node("Squeeze", [IN, "axes"], ["s"], name="hostile_squeeze")
    t.add("squeeze_axis_not_one", "axis-range", "Squeeze axes [1] where that dim is 3, not 1", [n, relu("s")], [("axes", i64(1))],
          node="hostile_squeeze", op="Squeeze")
    n = helper.make_node("Unsqueeze", [IN, "axes"], ["u"], name="hostile_unsqueeze")
    t.add("unsqueeze_axes_duplicate", "axis-range", "Unsqueeze axes [0,0]", [n, relu("u")], [("axes", i64(0, 0))],
          node="hostile_unsqueeze", op="Unsqueeze")
    # Gather with indices far out of range: on a constant-folded Shape and on data.
    for tag, v in [("2p62", P62), ("i64min", I64_MIN)]:
        nodes = [helper.make_node("Shape", [IN], ["shape"], name="shape_of_input"),
                 helper.make_node("Gather", ["shape", "idx"], ["dim"], name="hostile_gather", axis=0),
                 helper.make_node("Unsqueeze", ["dim", "zero"], ["dim1"], name="to_1d"),
                 helper.make_node("Concat", ["minus1", "dim1"], ["newshape"], name="make_shape", axis=0),
                 helper.make_node("Reshape", [IN, "newshape"], ["reshaped"], name="reshape_by_gathered"),
                 relu("reshaped")]
        t.add(f"gather_shape_index_{tag}", "axis-range", f"Gather index {v} into Shape(x) (4 values), folded as a constant "
              "and used as a Reshape dim", nodes, [("idx", i64(v)), ("zero", i64(0)), ("minus1", i64(-1))],
              node="hostile_gather", op="Gather")
    n = helper.make_node("Gather", [IN, "idx"], ["g"], name="hostile_gather", axis=1)
    t.add("gather_data_index_2p62", "axis-range", "Gather index 2^62 along the 3 channels of the data", [n, relu("g")],
          [("idx", i64(P62))], node="hostile_gather", op="Gather", shapes=REPRESENTABLE,
          note="out-of-range indices are an error in ONNX, but they do not change the output's shape: the shape checker "
               "may pass it; the run must refuse before reading out of bounds")


def concat_cases(t):
    nodes = [helper.make_node("Flatten", [IN], ["flat"], name="flatten", axis=1),
             helper.make_node("Concat", [IN, "flat"], ["cat"], name="hostile_concat", axis=1), relu("cat")]
    t.add("concat_rank_mismatch", "concat", "Concat of [1,3,8,8] and [1,192] (ranks 4 and 2)", nodes,
          node="hostile_concat", op="Concat")
    nodes = [helper.make_node("MaxPool", [IN], ["pooled"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Concat", [IN, "pooled"], ["cat"], name="hostile_concat", axis=1), relu("cat")]
    t.add("concat_dim_mismatch", "concat", "Concat on axis 1 of [1,3,8,8] and [1,3,4,4] (H, W differ off the axis)", nodes,
          node="hostile_concat", op="Concat")
    nodes = [helper.make_node("Concat", [], ["cat"], name="hostile_concat", axis=1),
             helper.make_node("Add", [IN, "cat"], [OUTNAME], name="add_concat")]
    t.add("concat_zero_inputs", "concat", "Concat with no inputs (at least one required)", nodes, node="hostile_concat", op="Concat")


def reshape_cases(t):
    def rs(name, attacks, shape, opset=13, shapes=OP_RULE, note=None, **attrs):
        n = helper.make_node("Reshape", [IN, "shape"], ["reshaped"], name="hostile_reshape", **attrs)
        t.add(name, "reshape", attacks, [n, relu("reshaped")], [("shape", i64(*shape))], node="hostile_reshape", op="Reshape",
              opset=opset, shapes=shapes, note=note)

    rs("reshape_overflow_2p40", "Reshape 192 elements to [2^40, 2^40] (2^80 elements: the product overflows Int64)", [P40, P40])
    rs("reshape_overflow_2p62_minus1", "Reshape to [2^62, 2^62, -1]: the known dims' product overflows before -1 is inferred",
       [P62, P62, -1])
    rs("reshape_two_minus1", "Reshape to [-1, -1] (at most one -1)", [-1, -1])
    rs("reshape_zero_and_minus1_allowzero", "Reshape (opset 14, allowzero=1) to [0, -1]: -1 = 192 / 0", [0, -1], opset=14, allowzero=1)
    rs("reshape_zero_past_rank", "Reshape to [1,3,8,8,0]: the 0 copies input dim 4 of a rank-4 input", [1, 3, 8, 8, 0])
    rs("reshape_negative_dim", "Reshape to [-2, 96] (negative dims other than -1)", [-2, 96])
    rs("reshape_count_mismatch", "Reshape 192 elements to [5, 7]", [5, 7])
    rs("reshape_i64max_minus1", "Reshape to [Int64.max, -1]: 192 / Int64.max", [I64_MAX, -1])
    rs("reshape_i64min", "Reshape to [Int64.min, 1]", [I64_MIN, 1])


def constant_of_shape_cases(t):
    def cos(name, attacks, shape, shapes=OP_RULE, note=None, verdict="invalid"):
        nodes = [helper.make_node("ConstantOfShape", ["shape"], ["zeros"], name="hostile_constantofshape"),
                 relu(IN, OUTNAME)]
        outs = [helper.make_tensor_value_info(OUTNAME, TensorProto.FLOAT, None),
                helper.make_tensor_value_info("zeros", TensorProto.FLOAT, None)]
        t.add(name, "constant-of-shape", attacks, nodes, [("shape", i64(*shape))], outputs=outs,
              node="hostile_constantofshape", op="ConstantOfShape", shapes=shapes, note=note, verdict=verdict)

    cos("cos_2p40_2p40", "ConstantOfShape [2^40, 2^40]: 2^80 elements overflow Int64", [P40, P40])
    cos("cos_2p31_2p31", "ConstantOfShape [2^31, 2^31]: 2^62 elements, 2^64 bytes (the byte count overflows)", [P31, P31],
        shapes=REPRESENTABLE, note="the element count fits Int64; the checker may accept it", verdict="too-large")
    cos("cos_2p62", "ConstantOfShape [2^62]: 16 EiB of floats", [P62], shapes=REPRESENTABLE,
        note="the element count fits Int64; the checker may accept it", verdict="too-large")
    cos("cos_terabytes", "ConstantOfShape [2^40]: 4 TiB of floats (representable, over any budget)", [P40], shapes=REPRESENTABLE,
        note="the element count fits Int64; the checker may accept it", verdict="too-large")
    cos("cos_negative", "ConstantOfShape [-1, 4]", [-1, 4])

    # Shape arithmetic that wraps: Shape(x) * / + a constant feeding ConstantOfShape.
    for name, op, k, attacks in [
        ("shape_mul_wraps_to_zero", "Mul", [1, 1, 1, 2**61], "Shape(x) * [1,1,1,2^61] = [1,3,8,2^64]: wraps to 0 in 64-bit arithmetic"),
        ("shape_add_overflows", "Add", [0, 0, 0, I64_MAX], "Shape(x) + [0,0,0,Int64.max] overflows (wraps negative)"),
    ]:
        nodes = [helper.make_node("Shape", [IN], ["shape"], name="shape_of_input"),
                 helper.make_node(op, ["shape", "k"], ["big"], name="hostile_" + op.lower()),
                 helper.make_node("ConstantOfShape", ["big"], ["zeros"], name="zeros_of_shape"),
                 helper.make_node("Add", [IN, "zeros"], [OUTNAME], name="add_zeros")]
        t.add(name, "constant-of-shape", attacks, nodes, [("k", i64(*k))], node="hostile_" + op.lower(), op=op,
              mentions=["hostile_" + op.lower(), op, "zeros_of_shape", "ConstantOfShape"])


def pad_cases(t):
    def pad(name, attacks, pads, opset=13, shapes=OP_RULE, note=None, **attrs):
        n = helper.make_node("Pad", [IN, "pads"], ["padded"], name="hostile_pad", **attrs)
        t.add(name, "pad", attacks, [n, relu("padded")], [("pads", i64(*pads))], node="hostile_pad", op="Pad",
              opset=opset, shapes=shapes, note=note)

    pad("pad_2p62", "Pad H and W by 2^62 on each side: 8 + 2^63 overflows", [0, 0, P62, P62, 0, 0, P62, P62])
    pad("pad_2p31", "Pad H and W by 2^31 each side: [1,3,2^32+8,2^32+8] has ~5.5e19 elements, past Int64",
        [0, 0, P31, P31, 0, 0, P31, P31])
    pad("pad_i64min", "Pad H by Int64.min at the start", [0, 0, I64_MIN, 0, 0, 0, 0, 0])
    pad("pad_negative_beyond_dim", "Pad H by -9 (crops more than the 8 rows there are)", [0, 0, -9, 0, 0, 0, 0, 0])
    pad("pad_wrong_length", "Pad with 6 values for a rank-4 input (8 needed)", [0, 0, 1, 0, 0, 1])
    pad("pad_mode_unknown", "Pad mode 'evil'", [0, 0, 1, 1, 0, 0, 1, 1], mode="evil")
    n = helper.make_node("Pad", [IN, "pads", "", "axes"], ["padded"], name="hostile_pad")
    t.add("pad_axes_9_opset18", "pad", "Pad (opset 18) axes [9] on a rank-4 input", [n, relu("padded")],
          [("pads", i64(1, 1)), ("axes", i64(9))], node="hostile_pad", op="Pad", opset=18)
    for name, attacks, pads in [
        ("pad_attr_opset10_i64max", "Pad (opset 10, attribute) by Int64.max on H", [0, 0, I64_MAX, 0, 0, 0, 0, 0]),
        ("pad_attr_opset10_wrong_length", "Pad (opset 10, attribute) with 3 values", [0, 1, 1]),
    ]:
        n = helper.make_node("Pad", [IN], ["padded"], name="hostile_pad", pads=pads)
        t.add(name, "pad", attacks, [n, relu("padded")], node="hostile_pad", op="Pad", opset=10)


def expand_tile_cases(t):
    unknown = "%s may be unknown to the tools: RN010 from shapes and an unsupported-operator refusal from run"
    for name, attacks, shape, shapes in [
        ("expand_terabytes", "Expand to [2^40,3,8,8] (768 TiB of floats; representable)", [P40, 3, 8, 8],
         MAYBE_UNKNOWN_REPRESENTABLE),
        ("expand_overflow", "Expand to [2^62,2^62,8,8] (element count overflows Int64)", [P62, P62, 8, 8], MAYBE_UNKNOWN),
        ("expand_negative", "Expand to [-1,3,8,8]", [-1, 3, 8, 8], MAYBE_UNKNOWN),
        ("expand_incompatible", "Expand [1,3,8,8] to [1,5,8,8] (3 does not broadcast to 5)", [1, 5, 8, 8], MAYBE_UNKNOWN),
    ]:
        n = helper.make_node("Expand", [IN, "shape"], ["e"], name="hostile_expand")
        t.add(name, "expand-tile", attacks, [n, relu("e")], [("shape", i64(*shape))], node="hostile_expand", op="Expand",
              shapes=shapes, verdict="too-large" if "terabytes" in name else "invalid", note=unknown % "Expand")
    for name, attacks, reps, shapes in [
        ("tile_terabytes", "Tile repeats [2^40,1,1,1] (768 TiB of floats; representable)", [P40, 1, 1, 1],
         MAYBE_UNKNOWN_REPRESENTABLE),
        ("tile_overflow", "Tile repeats [2^62,2^62,1,1] (element count overflows Int64)", [P62, P62, 1, 1], MAYBE_UNKNOWN),
        ("tile_negative", "Tile repeats [-1,1,1,1]", [-1, 1, 1, 1], MAYBE_UNKNOWN),
        ("tile_wrong_length", "Tile repeats [2,2] for a rank-4 input", [2, 2], MAYBE_UNKNOWN),
    ]:
        n = helper.make_node("Tile", [IN, "repeats"], ["tiled"], name="hostile_tile")
        t.add(name, "expand-tile", attacks, [n, relu("tiled")], [("repeats", i64(*reps))], node="hostile_tile", op="Tile",
              shapes=shapes, verdict="too-large" if "terabytes" in name else "invalid", note=unknown % "Tile")


def input_cases(t):
    def inp(name, attacks, dims, elem=TensorProto.FLOAT, shapes=OP_RULE, run=REFUSE, note=None, nodes=None, verdict="invalid"):
        nodes = nodes or [helper.make_node("Relu", [IN], [OUTNAME], name="hostile_relu")]
        t.add(name, "graph-input", attacks, nodes, inputs=[helper.make_tensor_value_info(IN, elem, dims)],
              node="hostile_relu", op="Relu", shapes=shapes, run=run, note=note, mentions=[IN, "input"], verdict=verdict)

    inp("input_dims_overflow", "declared input [2^40,2^40,2^40]: 2^120 elements", [P40, P40, P40])
    inp("input_i64max_dim", "declared input [1,3,Int64.max,1]: 3 x Int64.max elements", [1, 3, I64_MAX, 1])
    inp("input_terabytes", "declared input [1,3,1000000,1000000]: 12 TB of floats for a generated input",
        [1, 3, 1000000, 1000000], shapes=REPRESENTABLE, verdict="too-large",
        note="the element count fits Int64; the checker may accept it; a run must not try to allocate it")
    inp("input_negative_dim", "declared input [1,3,-8,8]", [1, 3, -8, 8], run={"exit": [2, 64]},
        note="a negative dim is invalid ONNX (exit 2), but some exporters write -1 for a dynamic dim, so a run may "
             "treat it as symbolic and ask for --size (usage, 64)")
    w = t.weights(4, 3, 3, 3)
    conv = [helper.make_node("Conv", [IN, "w"], [OUTNAME], name="hostile_conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    for name, elem, what in [("input_dtype_int64", TensorProto.INT64, "INT64"), ("input_dtype_string", TensorProto.STRING, "STRING")]:
        t.add(name, "graph-input", f"declared input of type {what} [1,3,8,8] into a Conv (float only)", conv, [("w", w)],
              inputs=[helper.make_tensor_value_info(IN, elem, X_SHAPE)], node="hostile_conv", op="Conv",
              shapes=REPRESENTABLE, mentions=[IN, "input", "hostile_conv", "Conv"],
              note="the shape checker does not check element types; exit 0 is accepted from shapes")


def structure_cases(t):
    t.add("structure_undefined_input", "structure", "a Relu reads 'nowhere', which nothing produces",
          [helper.make_node("Add", [IN, "nowhere"], [OUTNAME], name="hostile_add")], node="hostile_add", op="Add",
          shapes=STRUCTURE, mentions=["hostile_add", "nowhere"])
    t.add("structure_cycle", "structure", "two nodes that read each other's outputs",
          [helper.make_node("Add", [IN, "b"], ["a"], name="hostile_add_a"),
           helper.make_node("Add", [IN, "a"], ["b"], name="hostile_add_b"),
           relu("b")], node="hostile_add_a", op="Add", shapes=STRUCTURE,
          mentions=["hostile_add_a", "hostile_add_b", "cycle"])
    t.add("structure_produced_twice", "structure", "two nodes produce the same value",
          [helper.make_node("Relu", [IN], ["h"], name="hostile_relu_a"),
           helper.make_node("Relu", [IN], ["h"], name="hostile_relu_b"),
           relu("h")], node="hostile_relu_b", op="Relu", shapes=STRUCTURE, mentions=["hostile_relu_a", "hostile_relu_b"])
    t.add("structure_output_undefined", "structure", "the graph output is produced by nothing",
          [helper.make_node("Relu", [IN], ["h"], name="hostile_relu")], node="hostile_relu", op="Relu", shapes=STRUCTURE,
          mentions=[OUTNAME])


def arity_cases(t):
    w = t.weights(3, 3, 3, 3)
    stem = [helper.make_node("Conv", [IN, "w"], ["c"], name="block_conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"], name="block_relu")]
    winit = [("w", w)]
    t.add("add_no_outputs", "arity", "a residual Add(conv(x), x) with no outputs; the graph output is its intended name",
          stem + [helper.make_node("Add", ["r", IN], [], name="hostile_add")], winit, node="hostile_add", op="Add",
          shapes=ARITY, mentions=["hostile_add", "Add", OUTNAME])
    t.add("add_no_outputs_dangling", "arity", "a residual Add(conv(x), x) with no outputs (Add has exactly one); the graph "
          "output is the block's Relu", stem + [helper.make_node("Add", ["r", IN], [], name="hostile_add"),
                                                 helper.make_node("Relu", ["r"], [OUTNAME], name="tail_relu")], winit,
          node="hostile_add", op="Add", shapes=ARITY)
    t.add("add_one_input", "arity", "Add with 1 input (exactly 2 required)",
          stem + [helper.make_node("Add", ["r"], [OUTNAME], name="hostile_add")], winit, node="hostile_add", op="Add", shapes=ARITY)
    t.add("add_three_inputs", "arity", "Add with 3 inputs (exactly 2; Sum is the variadic one)",
          stem + [helper.make_node("Add", ["r", IN, IN], [OUTNAME], name="hostile_add")], winit, node="hostile_add", op="Add",
          shapes=ARITY)
    t.add("add_empty_input", "arity", "Add(r, '') (an empty name where a value is required)",
          stem + [helper.make_node("Add", ["r", ""], [OUTNAME], name="hostile_add")], winit, node="hostile_add", op="Add",
          shapes=ARITY)
    t.add("relu_two_inputs", "arity", "Relu with 2 inputs",
          [helper.make_node("Relu", [IN, IN], [OUTNAME], name="hostile_relu")], node="hostile_relu", op="Relu", shapes=ARITY)
    t.add("relu_no_inputs", "arity", "Relu with no inputs",
          [helper.make_node("Relu", [], ["h"], name="hostile_relu"),
           helper.make_node("Add", [IN, "h"], [OUTNAME], name="add_relu")], node="hostile_relu", op="Relu", shapes=ARITY)
    t.add("relu_empty_input", "arity", "Relu('')",
          [helper.make_node("Relu", [""], ["h"], name="hostile_relu"),
           helper.make_node("Add", [IN, "h"], [OUTNAME], name="add_relu")], node="hostile_relu", op="Relu", shapes=ARITY)
    t.add("conv_one_input", "arity", "Conv with only its data input (no weight)",
          [helper.make_node("Conv", [IN], ["c"], name="hostile_conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]), relu("c")],
          node="hostile_conv", op="Conv", shapes=ARITY)
    t.add("conv_empty_weight", "arity", "Conv(x, '') (the weight's name is empty)",
          [helper.make_node("Conv", [IN, ""], ["c"], name="hostile_conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]), relu("c")],
          node="hostile_conv", op="Conv", shapes=ARITY)
    t.add("conv_four_inputs", "arity", "Conv with 4 inputs (at most 3)",
          [helper.make_node("Conv", [IN, "w", "b", "b"], ["c"], name="hostile_conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
           relu("c")], [("w", w), ("b", t.weights(3))], node="hostile_conv", op="Conv", shapes=ARITY)
    c3 = t.weights(3)
    t.add("batchnorm_empty_scale", "arity", "BatchNormalization(x, '', B, mean, var)",
          [helper.make_node("BatchNormalization", [IN, "", "bias", "mean", "var"], ["bn"], name="hostile_batchnormalization"),
           relu("bn")], [("bias", c3), ("mean", c3), ("var", np.ones(3, np.float32))],
          node="hostile_batchnormalization", op="BatchNormalization", shapes=ARITY)
    t.add("gemm_empty_b", "arity", "Gemm(flat, '')",
          [helper.make_node("Flatten", [IN], ["flat"], name="flatten"),
           helper.make_node("Gemm", ["flat", ""], [OUTNAME], name="hostile_gemm")], node="hostile_gemm", op="Gemm", shapes=ARITY)


def gemm_cases(t):
    flat = helper.make_node("Flatten", [IN], ["flat"], name="flatten", axis=1)  # [1, 192]

    def gemm(name, attacks, b, c=None, a="flat", **attrs):
        ins = [a, "b"] + (["c"] if c is not None else [])
        inits = [("b", b)] + ([("c", c)] if c is not None else [])
        n = helper.make_node("Gemm", ins, [OUTNAME], name="hostile_gemm", **attrs)
        t.add(name, "gemm-matmul", attacks, [flat, n], inits, node="hostile_gemm", op="Gemm")

    gemm("gemm_k_mismatch", "Gemm [1,192] x B [100,10]", t.weights(100, 10))
    gemm("gemm_transb_k_mismatch", "Gemm transB=1, [1,192] x B^T with B [10,100]", t.weights(10, 100), transB=1)
    gemm("gemm_b_rank3", "Gemm B of rank 3 [192,10,1]", t.weights(192, 10, 1))
    gemm("gemm_c_mismatch", "Gemm C [7] does not broadcast to [1,10]", t.weights(192, 10), c=t.weights(7))
    gemm("gemm_a_rank4", "Gemm A of rank 4 (the unflattened [1,3,8,8])", t.weights(8, 10), a=IN)
    for name, attacks, a, b in [("matmul_inner_mismatch", "MatMul [1,192] x [100,10]", "flat", t.weights(100, 10)),
                                ("matmul_batch_mismatch", "MatMul [1,3,8,8] x [2,8,4] (batch dims 3 and 2 do not broadcast)",
                                 IN, t.weights(2, 8, 4))]:
        n = helper.make_node("MatMul", [a, "b"], [OUTNAME], name="hostile_matmul")
        t.add(name, "gemm-matmul", attacks, [flat, n], [("b", b)], node="hostile_matmul", op="MatMul")


def batchnorm_cases(t):
    def bn(name, attacks, scale=3, bias=3, mean=3, var=3, epsilon=None, shapes=OP_RULE, run=REFUSE, note=None, verdict="invalid"):
        def p(n, v):
            return np.full(n, v, np.float32)
        attrs = {} if epsilon is None else {"epsilon": epsilon}
        n = helper.make_node("BatchNormalization", [IN, "scale", "bias", "mean", "var"], ["bn"], name="hostile_batchnormalization",
                             **attrs)
        t.add(name, "batchnorm", attacks, [n, relu("bn")],
              [("scale", p(scale, 1.0)), ("bias", p(bias, 0.1)), ("mean", p(mean, 0.0)), ("var", p(var, 0.5))],
              node="hostile_batchnormalization", op="BatchNormalization", shapes=shapes, run=run, note=note, verdict=verdict)

    bn("batchnorm_scale_short", "BatchNormalization scale of 2 for 3 channels", scale=2)
    bn("batchnorm_bias_long", "BatchNormalization bias of 4 for 3 channels", bias=4)
    bn("batchnorm_mean_one", "BatchNormalization mean of 1 for 3 channels", mean=1)
    bn("batchnorm_var_long", "BatchNormalization var of 5 for 3 channels", var=5)
    bn("batchnorm_scale_rank2", "BatchNormalization scale [3,1] (must be [C])", scale=(3, 1))
    bn("batchnorm_epsilon_negative", "BatchNormalization epsilon -1 with var 0.5: sqrt(var + eps) of a negative number",
       epsilon=-1.0, shapes=UNSPECIFIED_SHAPES, run=valid_run([1, 3, 8, 8]), verdict="unspecified",
       note="ONNX does not forbid a negative epsilon (onnxruntime runs it and gives NaN); refusing or running are both clean")


def domain_cases(t):
    n = helper.make_node("Relu", [IN], [OUTNAME], name="hostile_relu", domain="com.evil")
    t.add("relu_domain_evil", "domain", "Relu in domain 'com.evil' (imported at version 1): not ONNX's Relu", [n],
          node="hostile_relu", op="Relu", extra_opsets=[("com.evil", 1)], shapes=MAYBE_UNKNOWN,
          mentions=["hostile_relu", "com.evil"])
    n = helper.make_node("Relu", [IN], [OUTNAME], name="hostile_relu", domain="com.evil")
    t.add("relu_domain_evil_no_import", "domain", "Relu in domain 'com.evil', which the model does not import", [n],
          node="hostile_relu", op="Relu", shapes=MAYBE_UNKNOWN, mentions=["hostile_relu", "com.evil"])
    n = helper.make_node("EvilOp", [IN], [OUTNAME], name="hostile_evilop")
    t.add("unknown_op", "domain", "operator 'EvilOp' in the default domain", [n], node="hostile_evilop", op="EvilOp",
          shapes=MAYBE_UNKNOWN)
    n = helper.make_node("", [IN], [OUTNAME], name="hostile_empty_op")
    t.add("empty_op_type", "domain", "a node whose op_type is the empty string", [n], node="hostile_empty_op", op="",
          shapes=MAYBE_UNKNOWN, mentions=["hostile_empty_op"])


def unknown_op_cases(t):
    for name, attacks, split, axis in [
        ("split_sizes_not_summing", "Split channels (3) into [2,2]", [2, 2], 1),
        ("split_axis_2p62", "Split axis 2^62", [1, 2], P62),
    ]:
        n = helper.make_node("Split", [IN, "split"], ["s0", "s1"], name="hostile_split", axis=axis)
        t.add(name, "unknown-ops", attacks, [n, helper.make_node("Add", ["s0", "s1"], [OUTNAME], name="add_splits")],
              [("split", i64(*split))], node="hostile_split", op="Split", shapes=MAYBE_UNKNOWN)
    for name, attacks, perm in [
        ("transpose_perm_wrong_length", "Transpose perm [0,1,2] for a rank-4 input", [0, 1, 2]),
        ("transpose_perm_duplicate", "Transpose perm [0,1,1,3]", [0, 1, 1, 3]),
        ("transpose_perm_out_of_range", "Transpose perm [0,1,2,9]", [0, 1, 2, 9]),
        ("transpose_perm_i64min", "Transpose perm [0,1,2,Int64.min]", [0, 1, 2, I64_MIN]),
    ]:
        n = helper.make_node("Transpose", [IN], ["tr"], name="hostile_transpose", perm=perm)
        t.add(name, "unknown-ops", attacks, [n, relu("tr")], node="hostile_transpose", op="Transpose", shapes=MAYBE_UNKNOWN)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for f in os.listdir(args.out):  # regenerate from scratch: no stale cases
        if f.endswith(".onnx") or f == "index.json":
            os.remove(os.path.join(args.out, f))
    t = Table(args.out)
    for make in (conv_cases, pool_cases, slice_cases, axis_cases, concat_cases, reshape_cases, constant_of_shape_cases,
                 pad_cases, expand_tile_cases, input_cases, structure_cases, arity_cases, gemm_cases, batchnorm_cases,
                 domain_cases, unknown_op_cases):
        make(t)
    index = {
        "generator": "scripts/make_hostile.py",
        "onnx": onnx.__version__,
        "rules": {
            "always": "no signal, no hang (20 s), peak RSS < 1 GB; convert leaves a complete .rnw or nothing",
            "shapes": "exit in expect.shapes.exit; exit 1 needs an error line with one of expect.shapes.codes naming one "
                      "of 'mentions', exit 2 an error line naming one of them; with exit0_needs_code, exit 0 needs a "
                      "diagnostic with one of the codes",
            "run": "exit in expect.run.exit; exit 0 only where allowed, with expect.run.output_shape; "
                   "a refusal names one of 'mentions' on an error line",
            "onnx_verdict": "invalid: ONNX forbids it; valid: ONNX allows it and onnxruntime runs it; unspecified: "
                            "ONNX leaves it open and onnxruntime accepts it; too-large: allowed, but terabytes",
        },
        "cases": t.rows,
    }
    # One case per line: readable, and a changed case is a one-line diff.
    head = json.dumps({k: v for k, v in index.items() if k != "cases"}, indent=1)[:-2]
    with open(os.path.join(args.out, "index.json"), "w") as f:
        f.write(head + ',\n "cases": [\n' + ",\n".join("  " + json.dumps(r) for r in t.rows) + "\n ]\n}\n")
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    classes = sorted({r["class"] for r in t.rows})
    print(f"wrote {len(t.rows)} cases in {len(classes)} classes to {os.path.relpath(args.out, ROOT)} ({total} bytes)")
    if total > 1 << 20:
        sys.exit("fixtures/hostile is over 1 MiB")


if __name__ == "__main__":
    main()
