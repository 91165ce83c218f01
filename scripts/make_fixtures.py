#!/usr/bin/env python3
"""Builds resnet-tools' test models with onnx.helper + numpy (seeded), and
their onnxruntime reference outputs in the ONNX backend-test layout
(test_data_set_K/input_0.pb, output_0.pb).

    python scripts/make_fixtures.py                  # small fixtures -> fixtures/
    python scripts/make_fixtures.py --large resnet50 --fused --out .cache/models
                                                     # torchvision-shaped, 224x224
    python scripts/make_fixtures.py --large resnet18 --quantized
                                                     # and its int8 QDQ/QOperator versions

Small fixtures are CIFAR-style tiny ResNets (3x32x32 input, 10 classes) in
every variant the checker must recognise; see fixtures/README.md. Large models
follow torchvision's architecture exactly (same parameter count) with random
He-initialised weights and realistic BatchNorm statistics; they are not
committed (resnet50 is ~100 MB).
Real torch exports (fixtures/real/) come from scripts/make_real_fixtures.py.
"""
import argparse
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# IR version each opset first appeared with (onnx's VERSION_TABLE), so the
# files are as old exporters wrote them and onnxruntime accepts them.
IR_FOR_OPSET = {7: 3, 9: 4, 10: 5, 11: 6, 13: 7, 17: 8, 21: 10}
BN_EPS = 1e-5


def np_conv(x, w, b, stride, pad):
    """NCHW convolution in numpy (for BN calibration): x [N,C,H,W], w [M,C,k,k]."""
    n, c, h, wd = x.shape
    m, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]
    y = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    return (y + b[None, :, None, None]) if b is not None else y


class Builder:
    """Accumulates nodes and initializers; folds BN into the conv it follows when fused.

    With `calibrate` (an input batch), it also runs each op in numpy as it is
    added and sets every BatchNorm's running mean/var from the activations that
    BN really sees, as a trained network's statistics are: activations then stay
    normalised through any depth instead of growing layer by layer."""

    def __init__(self, rng, opset, fused, calibrate=None):
        self.rng, self.opset, self.fused = rng, opset, fused
        self.nodes, self.inits = [], []
        self.last_conv = None  # (output name, node, weight name, bias name or None)
        self.act = {} if calibrate is None else {"input": calibrate.astype(np.float64)}

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def node(self, op, inputs, name, n_out=1, **attrs):
        outs = [name if n_out == 1 else f"{name}_out{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        self.last_conv = None
        return outs[0] if n_out == 1 else outs

    def conv(self, x, cin, cout, k, stride, name, pad=None, bias=False):
        pad = k // 2 if pad is None else pad
        fan_in = cin * k * k
        w = self.rng.standard_normal((cout, cin, k, k)).astype(np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        inputs = [x, self.init(f"{name}.weight", w)]
        if bias:
            inputs.append(self.init(f"{name}.bias", (self.rng.standard_normal(cout) * 0.01).astype(np.float32)))
        out = self.node("Conv", inputs, name, kernel_shape=[k, k], strides=[stride, stride],
                        pads=[pad] * 4, dilations=[1, 1], group=1)
        if x in self.act:
            bias = numpy_helper.to_array(self.inits[-1]).astype(np.float64) if bias else None
            self.act[out] = np_conv(self.act[x], w.astype(np.float64), bias, stride, pad)
        self.last_conv = (out, self.nodes[-1], f"{name}.weight", f"{name}.bias" if bias else None)
        return out

    def bn(self, x, c, name):
        gamma = self.rng.uniform(0.5, 1.5, c)
        beta = self.rng.normal(0.0, 0.1, c)
        mean = self.rng.normal(0.0, 0.2, c)
        var = self.rng.uniform(0.5, 2.0, c)
        if x in self.act:  # calibrated: the statistics of what this BN really sees
            a = self.act[x]
            mean, var = a.mean(axis=(0, 2, 3)), a.var(axis=(0, 2, 3)) + 1e-3
            scale = gamma / np.sqrt(var + BN_EPS)
            self.act[f"bn:{name}"] = (a - mean[None, :, None, None]) * scale[None, :, None, None] + beta[None, :, None, None]
        calibrated = self.act.pop(f"bn:{name}", None)
        if self.fused and self.last_conv and self.last_conv[0] == x:
            out = self._fold(gamma, beta, mean, var)
        else:
            f32 = lambda a: a.astype(np.float32)
            ins = [x] + [self.init(f"{name}.{p}", f32(v)) for p, v in
                         (("weight", gamma), ("bias", beta), ("running_mean", mean), ("running_var", var))]
            out = self.node("BatchNormalization", ins, name, epsilon=BN_EPS, momentum=0.9)
        if calibrated is not None:
            self.act[out] = calibrated
        return out

    def _fold(self, gamma, beta, mean, var):
        """Folds BN into the preceding conv in float64, as exporters do."""
        out, node, wname, bname = self.last_conv
        winit = next(t for t in self.inits if t.name == wname)
        w = numpy_helper.to_array(winit).astype(np.float64)
        b = numpy_helper.to_array(next(t for t in self.inits if t.name == bname)).astype(np.float64) \
            if bname else np.zeros(w.shape[0])
        scale = gamma / np.sqrt(var + BN_EPS)
        winit.CopyFrom(numpy_helper.from_array((w * scale[:, None, None, None]).astype(np.float32), wname))
        new_b = ((b - mean) * scale + beta).astype(np.float32)
        bias_name = wname.replace(".weight", ".bias")
        if bname:
            next(t for t in self.inits if t.name == bname).CopyFrom(numpy_helper.from_array(new_b, bname))
        else:
            self.init(bias_name, new_b)
            node.input.append(bias_name)
        self.last_conv = None
        return out

    def relu(self, x, name):
        out = self.node("Relu", [x], name)
        if x in self.act:
            self.act[out] = np.maximum(self.act[x], 0)
        return out

    def conv_bn(self, x, cin, cout, k, stride, name, relu=True, pad=None):
        y = self.bn(self.conv(x, cin, cout, k, stride, name, pad=pad), cout, name.replace("conv", "bn"))
        return self.relu(y, name.replace("conv", "relu")) if relu else y

    def ints(self, name, values):
        return self.init(name, np.array(values, dtype=np.int64))

    # --- shortcuts ---------------------------------------------------------

    def strided_identity(self, x, stride, name):
        if stride == 1:
            return x
        ins = [x, self.ints(f"{name}.starts", [0, 0]), self.ints(f"{name}.ends", [2**62, 2**62]),
               self.ints(f"{name}.axes", [2, 3]), self.ints(f"{name}.steps", [stride, stride])]
        return self.node("Slice", ins, f"{name}.slice")

    def shortcut(self, x, cin, cout, stride, kind, name):
        changes = stride != 1 or cin != cout
        if kind == "C" or (kind == "B" and changes):
            return self.conv_bn(x, cin, cout, 1, stride, f"{name}.downsample.conv", relu=False, pad=0)
        if not changes:
            return x
        if kind == "D":
            if stride != 1:
                x = self.node("AveragePool", [x], f"{name}.downsample.pool", kernel_shape=[2, 2],
                              strides=[2, 2], ceil_mode=1, count_include_pad=0)
            return self.conv_bn(x, cin, cout, 1, 1, f"{name}.downsample.conv", relu=False, pad=0)
        xs = self.strided_identity(x, stride, f"{name}.downsample")
        extra = cout - cin
        if kind == "A-pad":  # zero channels split before and after, as in He et al.'s CIFAR code
            before, after = extra // 2, extra - extra // 2
            pads = [0, before, 0, 0, 0, after, 0, 0]
            if self.opset < 11:
                return self.node("Pad", [xs], f"{name}.downsample.pad", pads=pads, mode="constant", value=0.0)
            return self.node("Pad", [xs, self.ints(f"{name}.downsample.pads", pads)], f"{name}.downsample.pad",
                             mode="constant")
        if kind == "A-concat":  # zeros of shape [N, extra, H, W] from the input's own shape
            shape = self.node("Shape", [xs], f"{name}.downsample.shape")
            keep = self.node("Mul", [shape, self.ints(f"{name}.downsample.keep", [1, 0, 1, 1])], f"{name}.downsample.mul")
            zshape = self.node("Add", [keep, self.ints(f"{name}.downsample.extra", [0, extra, 0, 0])],
                               f"{name}.downsample.add")
            zeros = self.node("ConstantOfShape", [zshape], f"{name}.downsample.zeros",
                              value=helper.make_tensor("value", TensorProto.FLOAT, [1], [0.0]))
            return self.node("Concat", [xs, zeros], f"{name}.downsample.concat", axis=1)
        raise ValueError(kind)

    # --- blocks ------------------------------------------------------------

    def basic_block(self, x, cin, cout, stride, shortcut, name):
        y = self.conv_bn(x, cin, cout, 3, stride, f"{name}.conv1")
        y = self.conv_bn(y, cout, cout, 3, 1, f"{name}.conv2", relu=False)
        s = self.shortcut(x, cin, cout, stride, shortcut, name)
        return self.relu(self.add(y, s, f"{name}.add"), f"{name}.relu")

    def add(self, a, b, name):
        out = self.node("Add", [a, b], name)
        if a in self.act and b in self.act:
            self.act[out] = self.act[a] + self.act[b]
        return out

    def bottleneck(self, x, cin, width, stride, shortcut, stride_on, name):
        cout = width * 4
        s1, s2 = (stride, 1) if stride_on == "conv1" else (1, stride)
        y = self.conv_bn(x, cin, width, 1, s1, f"{name}.conv1", pad=0)
        y = self.conv_bn(y, width, width, 3, s2, f"{name}.conv2")
        y = self.conv_bn(y, width, cout, 1, 1, f"{name}.conv3", relu=False, pad=0)
        s = self.shortcut(x, cin, cout, stride, shortcut, name)
        return self.relu(self.add(y, s, f"{name}.add"), f"{name}.relu")

    def preact_block(self, x, cin, cout, stride, shortcut, name):
        """ResNet v2: BN+ReLU before each conv; projections read the pre-activated input."""
        a = self.relu(self.bn(x, cin, f"{name}.bn1"), f"{name}.relu1")
        y = self.conv(a, cin, cout, 3, stride, f"{name}.conv1")
        y = self.relu(self.bn(y, cout, f"{name}.bn2"), f"{name}.relu2")
        y = self.conv(y, cout, cout, 3, 1, f"{name}.conv2")
        changes = stride != 1 or cin != cout
        s = self.shortcut(a, cin, cout, stride, shortcut, name) if changes else x
        return self.node("Add", [y, s], f"{name}.add")

    def flatten(self, x, style, name):
        if style == "flatten":
            return self.node("Flatten", [x], name, axis=1)
        # torch.flatten as older torch.onnx wrote it: Shape->Gather->Unsqueeze->Concat->Reshape
        shape = self.node("Shape", [x], f"{name}.shape")
        n = self.node("Gather", [shape, self.init(f"{name}.zero", np.array(0, dtype=np.int64))], f"{name}.gather", axis=0)
        if self.opset >= 13:
            n1 = self.node("Unsqueeze", [n, self.ints(f"{name}.axes", [0])], f"{name}.unsqueeze")
        else:
            n1 = self.node("Unsqueeze", [n], f"{name}.unsqueeze", axes=[0])
        target = self.node("Concat", [n1, self.ints(f"{name}.minus_one", [-1])], f"{name}.concat", axis=0)
        return self.node("Reshape", [x, target], name)

    def head(self, x, c, classes, flatten):
        x = self.node("GlobalAveragePool", [x], "avgpool")
        x = self.flatten(x, flatten, "flatten")
        w = (self.rng.standard_normal((classes, c)) * np.sqrt(1.0 / c)).astype(np.float32)
        b = (self.rng.standard_normal(classes) * 0.01).astype(np.float32)
        return self.node("Gemm", [x, self.init("fc.weight", w), self.init("fc.bias", b)], "fc",
                         alpha=1.0, beta=1.0, transB=1)


def finish(b, name, x_out, in_shape, classes, doc):
    graph = helper.make_graph(
        b.nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N"] + list(in_shape))],
        [helper.make_tensor_value_info(x_out, TensorProto.FLOAT, ["N", classes])],
        b.inits)
    model = helper.make_model(graph, producer_name="resnet-tools make_fixtures.py", producer_version="1",
                              opset_imports=[helper.make_opsetid("", b.opset)], doc_string=doc)
    model.ir_version = IR_FOR_OPSET[b.opset]
    if model.ir_version < 4:  # IR < 4: every initializer is also a graph input, as old exporters wrote
        model.graph.input.extend(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in b.inits)
    model.metadata_props.add(key="variant", value=name)
    return model


def tiny_resnet(name, block, shortcut, stride_on="conv2", fused=False, flatten="flatten", opset=17, seed=0):
    """CIFAR-style: 3x3 stem, three stages of two blocks, widths 4/8/16 (x4 for bottlenecks)."""
    b = Builder(np.random.default_rng(seed), opset, fused)
    widths, c = [4, 8, 16], (8 if block == "bottleneck" else 4)
    # v2's stem is a bare conv: the first block's BN+ReLU activates it.
    x = b.conv("input", 3, c, 3, 1, "conv1") if block == "preact" else b.conv_bn("input", 3, c, 3, 1, "conv1")
    for si, w in enumerate(widths):
        for bi in range(2):
            stride = 2 if (si > 0 and bi == 0) else 1
            nm = f"layer{si + 1}.{bi}"
            if block == "basic":
                x = b.basic_block(x, c, w, stride, shortcut, nm); c = w
            elif block == "bottleneck":
                x = b.bottleneck(x, c, w, stride, shortcut, stride_on, nm); c = w * 4
            else:
                x = b.preact_block(x, c, w, stride, shortcut, nm); c = w
    if block == "preact":
        x = b.relu(b.bn(x, c, "bn_final"), "relu_final")
    out = b.head(x, c, 10, flatten)
    return finish(b, name, out, (3, 32, 32), 10, f"tiny ResNet: {block} blocks, shortcut {shortcut}")


TORCHVISION = {"resnet18": ("basic", [2, 2, 2, 2]), "resnet34": ("basic", [3, 4, 6, 3]),
               "resnet50": ("bottleneck", [3, 4, 6, 3]), "resnet101": ("bottleneck", [3, 4, 23, 3]),
               "resnet152": ("bottleneck", [3, 8, 36, 3])}


def torchvision_resnet(arch, fused=False, seed=0, opset=17, calibrate=True):
    """torchvision's ResNet (v1.5: stride on the 3x3, projection shortcuts) at 224x224,
    with BatchNorm statistics calibrated on a seeded batch (see Builder)."""
    block, layers = TORCHVISION[arch]
    rng = np.random.default_rng(seed)
    batch = rng.standard_normal((2, 3, 224, 224)) if calibrate else None
    b = Builder(rng, opset, fused, calibrate=batch)
    x = b.conv_bn("input", 3, 64, 7, 2, "conv1", pad=3)
    x0 = x
    x = b.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    if x0 in b.act:
        a = np.pad(b.act[x0], ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
        win = np.lib.stride_tricks.sliding_window_view(a, (3, 3), axis=(2, 3))[:, :, ::2, ::2]
        b.act[x] = win.max(axis=(4, 5))
    c = 64
    for si, (w, n) in enumerate(zip([64, 128, 256, 512], layers)):
        for bi in range(n):
            stride = 2 if (si > 0 and bi == 0) else 1
            nm = f"layer{si + 1}.{bi}"
            if block == "basic":
                x = b.basic_block(x, c, w, stride, "B", nm); c = w
            else:
                x = b.bottleneck(x, c, w, stride, "B", "conv2", nm); c = w * 4
    b.act.clear()  # the head needs no statistics
    out = b.head(x, c, 1000, "flatten")
    return finish(b, arch, out, (3, 224, 224), 1000, f"torchvision {arch} architecture, random weights, calibrated BN")


def encodings_model():
    """Every TensorProto encoding exporters use, each feeding one Add so onnxruntime
    checks the decoded values: raw_data, float_data, double_data, int64_data,
    uint64_data, int32_data holding INT32/INT8/FLOAT16/BFLOAT16, plus a STRING tensor."""
    rng = np.random.default_rng(7)
    vals = rng.standard_normal(6).astype(np.float32)
    inits, nodes, acc = [], [], "input"
    def add(t, name):
        nonlocal acc
        inits.append(t)
        if t.data_type != TensorProto.FLOAT:
            nodes.append(helper.make_node("Cast", [t.name], [name + "_f"], name=name + "_cast", to=TensorProto.FLOAT))
            src = name + "_f"
        else:
            src = t.name
        nodes.append(helper.make_node("Add", [acc, src], [name + "_sum"], name=name + "_add"))
        acc = name + "_sum"
    add(numpy_helper.from_array(vals, "raw_f32"), "raw")
    add(helper.make_tensor("float_data", TensorProto.FLOAT, [6], vals.tolist()), "fd")
    add(helper.make_tensor("double_data", TensorProto.DOUBLE, [6], vals.astype(np.float64).tolist()), "dd")
    add(helper.make_tensor("int64_data", TensorProto.INT64, [6], [-3, -2, -1, 1, 2, 2**40]), "i64")
    add(helper.make_tensor("uint64_data", TensorProto.UINT64, [6], [0, 1, 2, 3, 4, 2**40]), "u64")
    add(helper.make_tensor("uint32_data", TensorProto.UINT32, [6], [0, 1, 2, 3, 4, 2**31]), "u32")
    add(helper.make_tensor("int32_data", TensorProto.INT32, [6], [-7, 0, 7, 1, 2, 2**30]), "i32")
    add(helper.make_tensor("int8_data", TensorProto.INT8, [6], [-128, -1, 0, 1, 2, 127]), "i8")
    add(helper.make_tensor("f16_data", TensorProto.FLOAT16, [6], vals.astype(np.float16).tolist()), "f16")
    add(helper.make_tensor("bf16_data", TensorProto.BFLOAT16, [6], vals.tolist()), "bf16")
    add(helper.make_tensor("bool_data", TensorProto.BOOL, [6], [True, False, True, True, False, False]), "bool")
    inits.append(helper.make_tensor("labels", TensorProto.STRING, [2], [b"cat", "d\u00f6g".encode()]))
    graph = helper.make_graph(nodes, "encodings",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 6])],
                              [helper.make_tensor_value_info(acc, TensorProto.FLOAT, ["N", 6])], inits)
    model = helper.make_model(graph, producer_name="resnet-tools make_fixtures.py",
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


REFERENCE_STAMP = "reference_source.txt"


def write_reference(model_path, folder, batches, seed):
    """Runs onnxruntime on seeded inputs and stores input/output protobufs. int8 models run as their
    exact twin (scripts/exact_int8.py): onnxruntime's u8 x s8 kernels saturate on CPUs without VNNI."""
    import exact_int8
    sess = exact_int8.session(model_path)
    # Which onnxruntime made these outputs, and how: references older than the exact twin (made by
    # a saturating u8 x s8 kernel) have no such file, and the tests remake them.
    with open(os.path.join(folder, REFERENCE_STAMP), "w") as f:
        f.write(f"onnxruntime {exact_int8.onnxruntime_version()} via exact_int8 (int8 weights recoded as uint8)\n")
    inp = sess.get_inputs()[0]
    rng = np.random.default_rng(seed)
    for k, batch in enumerate(batches):
        shape = [batch] + [d for d in inp.shape[1:]]
        x = rng.standard_normal(shape).astype(np.float32)
        y = sess.run(None, {inp.name: x})
        d = os.path.join(folder, f"test_data_set_{k}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x, inp.name).SerializeToString())
        for i, (o, out) in enumerate(zip(sess.get_outputs(), y)):
            with open(os.path.join(d, f"output_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(out, o.name).SerializeToString())


def save(model, folder, batches=(1, 2), seed=1, external=False):
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    onnx.checker.check_model(model, full_check=True)
    if external:
        onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                  location="weights.bin", size_threshold=256)
    else:
        onnx.save(model, path)
    write_reference(path, folder, batches, seed)
    return path


def defect_model(kind, seed=50):
    """Small models with one defect each, for the shape checker (fixtures/defects/).
    A 3x3 stem to 8 channels at 16x16, one block, then pool + Gemm."""
    b = Builder(np.random.default_rng(seed), 17, False)
    x = b.conv_bn("input", 3, 8, 3, 1, "conv1")
    nm = "layer1.0"
    if kind == "broken-channels":  # 8 -> 16 channels, identity shortcut
        y = b.conv_bn(x, 8, 16, 3, 1, f"{nm}.conv1")
        y = b.conv_bn(y, 16, 16, 3, 1, f"{nm}.conv2", relu=False)
        out, c = b.relu(b.node("Add", [y, x], f"{nm}.add"), f"{nm}.relu"), 16
    elif kind == "broken-spatial":  # stride 2 in the main branch, identity shortcut
        y = b.conv_bn(x, 8, 8, 3, 2, f"{nm}.conv1")
        y = b.conv_bn(y, 8, 8, 3, 1, f"{nm}.conv2", relu=False)
        out, c = b.relu(b.node("Add", [y, x], f"{nm}.add"), f"{nm}.relu"), 8
    elif kind == "broken-broadcast":  # shortcut is a pooled [N, C, 1, 1] tensor
        y = b.conv_bn(x, 8, 8, 3, 1, f"{nm}.conv1")
        y = b.conv_bn(y, 8, 8, 3, 1, f"{nm}.conv2", relu=False)
        s = b.node("GlobalAveragePool", [x], f"{nm}.shortcut.pool")
        out, c = b.relu(b.node("Add", [y, s], f"{nm}.add"), f"{nm}.relu"), 8
    elif kind == "warn-single-conv":  # y = BN(conv(x)) + x
        y = b.conv_bn(x, 8, 8, 3, 1, f"{nm}.conv1", relu=False)
        out, c = b.relu(b.node("Add", [y, x], f"{nm}.add"), f"{nm}.relu"), 8
    elif kind == "warn-maxpool-shortcut":  # shortcut: MaxPool 3x3 s2 then 1x1 projection
        y = b.conv_bn(x, 8, 16, 3, 2, f"{nm}.conv1")
        y = b.conv_bn(y, 16, 16, 3, 1, f"{nm}.conv2", relu=False)
        s = b.node("MaxPool", [x], f"{nm}.downsample.pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        s = b.conv_bn(s, 8, 16, 1, 1, f"{nm}.downsample.conv", relu=False, pad=0)
        out, c = b.relu(b.node("Add", [y, s], f"{nm}.add"), f"{nm}.relu"), 16
    elif kind == "broken-odd-sizes":  # ResNet-D shortcut without ceil_mode: fine at even sizes, broken at odd
        y = b.conv_bn(x, 8, 16, 3, 2, f"{nm}.conv1")
        y = b.conv_bn(y, 16, 16, 3, 1, f"{nm}.conv2", relu=False)
        s = b.node("AveragePool", [x], f"{nm}.downsample.pool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=0)
        s = b.conv_bn(s, 8, 16, 1, 1, f"{nm}.downsample.conv", relu=False, pad=0)
        out, c = b.relu(b.node("Add", [y, s], f"{nm}.add"), f"{nm}.relu"), 16
    else:
        raise ValueError(kind)
    head = b.head(out, c, 10, "flatten")
    graph = helper.make_graph(b.nodes, kind, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 16, 16])],
                              [helper.make_tensor_value_info(head, TensorProto.FLOAT, ["N", 10])], b.inits)
    model = helper.make_model(graph, producer_name="resnet-tools make_fixtures.py", producer_version="1",
                              opset_imports=[helper.make_opsetid("", 17)], doc_string=f"defect fixture: {kind}")
    model.ir_version = 8
    return model


DEFECTS = ["broken-channels", "broken-spatial", "broken-broadcast", "warn-single-conv", "warn-maxpool-shortcut",
           "broken-odd-sizes"]


SMALL = {
    # name: (block, shortcut, stride_on, fused, flatten, opset)
    "v1.5": ("bottleneck", "B", "conv2", False, "torch", 13),
    "v1.5-fused": ("bottleneck", "B", "conv2", True, "torch", 13),
    "v1": ("bottleneck", "B", "conv1", False, "flatten", 11),
    "v1-fused": ("bottleneck", "B", "conv1", True, "flatten", 11),
    "v1d": ("bottleneck", "D", "conv2", False, "flatten", 17),
    "v1d-fused": ("bottleneck", "D", "conv2", True, "flatten", 17),
    "basic-B": ("basic", "B", "conv1", False, "flatten", 17),
    "optA-pad": ("basic", "A-pad", "conv1", False, "flatten", 10),
    "optA-concat": ("basic", "A-concat", "conv1", False, "flatten", 17),
    "optC": ("basic", "C", "conv1", False, "torch", 21),
    "optC-fused": ("basic", "C", "conv1", True, "torch", 21),
    "v2": ("preact", "B", "conv1", False, "flatten", 17),
    "v2-fused": ("preact", "B", "conv1", True, "flatten", 17),
    "basic-B-opset7": ("basic", "B", "conv1", False, "flatten", 7),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help="output folder (default: fixtures/, or .cache/models with --large)")
    ap.add_argument("--large", choices=sorted(TORCHVISION), help="generate one torchvision-shaped model")
    ap.add_argument("--fused", action="store_true", help="with --large: fold BN into conv")
    ap.add_argument("--no-reference", action="store_true", help="with --large: skip onnxruntime outputs")
    ap.add_argument("--quantized", action="store_true",
                    help="with --large: also <arch>-qdq and <arch>-qop (scripts/make_quantized_fixtures.py)")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.large and args.quantized:
        import make_quantized_fixtures
        out = args.out or os.path.join(root, ".cache", "models")
        for p in make_quantized_fixtures.large(args.large, out, reference=not args.no_reference):
            print(p)
        return
    if args.large:
        out = args.out or os.path.join(root, ".cache", "models")
        name = args.large + ("-fused" if args.fused else "")
        folder = os.path.join(out, name)
        model = torchvision_resnet(args.large, fused=args.fused)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.makedirs(folder)
        path = os.path.join(folder, "model.onnx")
        onnx.save(model, path)
        if not args.no_reference:
            write_reference(path, folder, (1,), seed=1)
        print(path)
        return
    out = args.out or os.path.join(root, "fixtures")
    for i, (name, (block, shortcut, stride_on, fused, flatten, opset)) in enumerate(SMALL.items()):
        model = tiny_resnet(name, block, shortcut, stride_on, fused, flatten, opset, seed=i)
        save(model, os.path.join(out, name))
    save(encodings_model(), os.path.join(out, "encodings"))
    save(tiny_resnet("external-data", "basic", "B", seed=99), os.path.join(out, "external-data"), external=True)
    for kind in DEFECTS:  # structurally valid protobuf; some cannot run, so no reference outputs
        folder = os.path.join(out, "defects", kind)
        os.makedirs(folder, exist_ok=True)
        onnx.save(defect_model(kind), os.path.join(folder, "model.onnx"))
    import make_quantized_fixtures  # int8 versions of some of the above (fixtures/quantized/)
    make_quantized_fixtures.small(out)
    print(f"wrote {len(SMALL) + 2} fixtures and {len(DEFECTS)} defect models to {out}")


if __name__ == "__main__":
    sys.exit(main())
