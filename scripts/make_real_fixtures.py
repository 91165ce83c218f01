#!/usr/bin/env python3
"""Writes fixtures/real/: small ResNets exported by torch's own ONNX exporters
(legacy TorchScript and dynamo), from torchvision's and timm's classes, so the
checker and executor are tested on what real users ship, not only on graphs
written with onnx.helper.

Developer-only: CI never runs this (the outputs are committed) and torch is
not in scripts/requirements.txt. It needs a separate venv:

    python3 -m venv .venv-torch
    .venv-torch/bin/pip install --no-deps torch==2.13.0+cpu      # CPU wheel from $PIP_FIND_LINKS
    .venv-torch/bin/pip install typing-extensions filelock sympy networkx jinja2 fsspec \\
        "setuptools>=77.0.3" numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0 onnxscript pillow
    .venv-torch/bin/pip install --no-deps torchvision==0.28.0 timm==1.0.31
    .venv-torch/bin/pip install pyyaml huggingface_hub safetensors
    .venv-torch/bin/python scripts/make_real_fixtures.py            # all models
    .venv-torch/bin/python scripts/make_real_fixtures.py --only cifar-resnet20-optA-legacy

Weights are random and seeded (torch.manual_seed; nothing is downloaded),
BatchNorm statistics are calibrated on a seeded batch so activations stay in
range through the depth, every model is in eval mode. Each folder gets
model.onnx, test_data_set_0/{input_0,output_0}.pb (batch 1, seeded normal
input, output from onnxruntime, not torch) and meta.json with the ground truth
counted in torch (blocks, parameters, MACs by forward hooks) and what the
exporter did (BN folded or not). See fixtures/README.md, "Real exports".

    python3 scripts/make_real_fixtures.py --compare BIN_DIR [--out report.md]

needs no torch: it runs resnet-check/resnet-convert from BIN_DIR on every
fixture and prints the tools' findings next to meta.json's truth.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "real")
SEED = 0
INPUT_SEED = 1
BLOCK_CLASSES = ("BasicBlock", "Bottleneck", "SelectiveKernelBasic", "SelectiveKernelBottleneck")


# --------------------------------------------------------------------------- torch side

def import_torch():
    """torch, then torchvision with its C++ ops replaced: the wheel's _C.so does not
    load against this torch, and torchvision's fake-kernel registrations then fail
    on 'operator torchvision::nms does not exist'. Declaring the two schemas first
    lets the Python side import; no model here uses those ops."""
    import warnings
    warnings.filterwarnings("ignore")
    import torch
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import_torch.keep = lib  # the library object must outlive the import
    import torchvision
    import timm
    return torch, torchvision, timm


def cifar_resnet20(torch):
    """akamaster/pytorch_resnet_cifar10's resnet20: 3 stages x 3 basic blocks,
    16/32/64, option A shortcut by F.pad of a strided slice."""
    nn, F = torch.nn, torch.nn.functional

    class LambdaLayer(nn.Module):
        def __init__(self, lambd):
            super().__init__()
            self.lambd = lambd

        def forward(self, x):
            return self.lambd(x)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != planes:
                self.shortcut = LambdaLayer(lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4),
                                                            "constant", 0))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            return F.relu(out)

    class ResNet(nn.Module):
        def __init__(self, num_blocks, num_classes=10):
            super().__init__()
            self.in_planes = 16
            self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.layer1 = self._make_layer(16, num_blocks[0], 1)
            self.layer2 = self._make_layer(32, num_blocks[1], 2)
            self.layer3 = self._make_layer(64, num_blocks[2], 2)
            self.linear = nn.Linear(64, num_classes)
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Conv2d)):
                    nn.init.kaiming_normal_(m.weight)

        def _make_layer(self, planes, n, stride):
            layers = []
            for s in [stride] + [1] * (n - 1):
                layers.append(BasicBlock(self.in_planes, planes, s))
                self.in_planes = planes
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer3(self.layer2(self.layer1(out)))
            out = F.avg_pool2d(out, out.size()[3])
            out = out.view(out.size(0), -1)
            return self.linear(out)

    return ResNet([3, 3, 3])


def torchvision_narrow(torch, torchvision, block, layers, widths, stem, num_classes=10, **kw):
    """torchvision.models.resnet.ResNet with its stem and stage widths reduced:
    the stages are rebuilt by torchvision's own _make_layer (same block classes,
    same downsample Sequential(conv1x1, BN), same stride placement), then
    torchvision's initialisation is re-applied."""
    nn = torch.nn
    from torchvision.models.resnet import ResNet
    m = ResNet(block, [1, 1, 1, 1], num_classes=num_classes, **kw)
    m.inplanes = stem
    m.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(stem)
    for i, (w, n) in enumerate(zip(widths, layers)):
        setattr(m, f"layer{i + 1}", m._make_layer(block, w, n, stride=1 if i == 0 else 2))
    m.fc = nn.Linear(widths[-1] * block.expansion, num_classes)
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
    return m


def model_table(torch, torchvision, timm):
    """name -> (builder, input size, exporter options, description, expected)."""
    from torchvision.models.resnet import BasicBlock, Bottleneck
    tv = lambda *a, **k: (lambda: torchvision_narrow(torch, torchvision, *a, **k))
    w8, w16 = (8, 16, 32, 64), (16, 32, 64, 128)
    cifar_desc = ("CIFAR ResNet-20 (He et al. 2015, akamaster/pytorch_resnet_cifar10): 3x3 stem to 16, "
                  "3 stages x 3 basic blocks (16/32/64, stride 2 on the first 3x3 of stages 2-3), option A "
                  "shortcut F.pad(x[:, :, ::2, ::2], (0,0,0,0,planes//4,planes//4)), avg_pool2d + view + Linear to 10")
    cifar_exp = dict(family="resnet20", checker_family="custom", depth=20, weight_layers=20, variant="v1", shortcut_option="A",
                     block_type="basic", stage_blocks=[3, 3, 3],
                     human="ResNet-20 for CIFAR, v1 (basic blocks: v1 = v1.5), option A (zero-padded identity)")
    r18_desc = ("torchvision.models.resnet.ResNet(BasicBlock, [2,2,2,2]) with stem 16 and stage widths "
                "16/32/64/128 (resnet18 at 1/4 width): 7x7 s2 stem, MaxPool 3x3 s2, option B projections "
                "(1x1 conv + BN) where the shape changes, AdaptiveAvgPool + flatten + Linear to 10")
    r18_exp = dict(family="resnet18", checker_family="resnet18", depth=18, weight_layers=18, variant="v1", shortcut_option="B",
                   block_type="basic", stage_blocks=[2, 2, 2, 2],
                   human="torchvision resnet18 at 1/4 width, v1.5 as torchvision calls it (= v1 for basic "
                         "blocks: the stride is on the first 3x3 either way), option B")
    t = {
        "cifar-resnet20-optA-legacy": (lambda: cifar_resnet20(torch), 32, dict(dynamo=False, opset=13),
                                       cifar_desc, cifar_exp),
        "cifar-resnet20-optA-dynamo": (lambda: cifar_resnet20(torch), 32, dict(dynamo=True, external_data=False),
                                       cifar_desc, cifar_exp),
        "torchvision-resnet18-w16-legacy": (tv(BasicBlock, [2, 2, 2, 2], w16, 16), 64,
                                            dict(dynamo=False, opset=17), r18_desc, r18_exp),
        "torchvision-resnet18-w16-dynamo": (tv(BasicBlock, [2, 2, 2, 2], w16, 16), 64,
                                            dict(dynamo=True, external_data=True), r18_desc + "; saved with "
                                            "the dynamo exporter's default external data (model.onnx.data)", r18_exp),
        "torchvision-resnet50-w8-legacy": (
            tv(Bottleneck, [3, 4, 6, 3], w8, 8), 64, dict(dynamo=False, opset=17),
            "torchvision.models.resnet.ResNet(Bottleneck, [3,4,6,3]) with stem 8 and planes 8/16/32/64 "
            "(x4 out: 32/64/128/256; resnet50 at 1/8 width), stride on the 3x3 (v1.5), option B",
            dict(family="resnet50", checker_family="resnet50", depth=50, weight_layers=50, variant="v1.5", shortcut_option="B",
                 block_type="bottleneck", stage_blocks=[3, 4, 6, 3],
                 human="torchvision resnet50 at 1/8 width, v1.5, option B")),
        "resnext-8x4d-legacy": (
            tv(Bottleneck, [1, 1, 1, 1], w8, 8, groups=8, width_per_group=32), 64, dict(dynamo=False, opset=17),
            "torchvision ResNeXt: ResNet(Bottleneck, [1,1,1,1], groups=8, width_per_group=32) with stem 8 and "
            "planes 8/16/32/64: the grouped 3x3 is 8 groups x 4 channels in stage 1 (32 wide; 8x8, 8x16, 8x32 "
            "in stages 2-4, doubling as resnext50_32x4d does), outputs 32/64/128/256, v1.5, option B",
            dict(family="resnext14-8x4d", checker_family="custom", depth=14, weight_layers=14, variant="v1.5", shortcut_option="B",
                 block_type="bottleneck", stage_blocks=[1, 1, 1, 1],
                 human="ResNeXt-14 (8x4d), v1.5, option B; grouped 3x3 convs (group=8)")),
        "wide-resnet-2-legacy": (
            tv(Bottleneck, [1, 1, 1, 1], (4, 8, 16, 32), 8, width_per_group=128), 64, dict(dynamo=False, opset=17),
            "torchvision Wide ResNet-2: ResNet(Bottleneck, [1,1,1,1], width_per_group=128) with stem 8 and "
            "planes 4/8/16/32: bottleneck 1x1-3x3 twice as wide as a ResNet's (8/16/32/64), outputs "
            "16/32/64/128, v1.5, option B",
            dict(family="wide_resnet14_2", checker_family="custom", depth=14, weight_layers=14, variant="v1.5", shortcut_option="B",
                 block_type="bottleneck", stage_blocks=[1, 1, 1, 1],
                 human="Wide ResNet-14-2 (wide_resnet50_2's block at depth 14), v1.5, option B")),
        "wide-resnet-2-dynamo-noopt": (
            tv(Bottleneck, [1, 1, 1, 1], (4, 8, 16, 32), 8, width_per_group=128), 64,
            dict(dynamo=True, external_data=False, optimize=False),
            "torchvision Wide ResNet-2: ResNet(Bottleneck, [1,1,1,1], width_per_group=128) with stem 8 and "
            "planes 4/8/16/32: bottleneck 1x1-3x3 twice as wide as a ResNet's (8/16/32/64), outputs "
            "16/32/64/128, v1.5, option B; dynamo exporter with optimize=False: BatchNormalization kept, "
            "CastLike/Expand/Shape left in the graph",
            dict(family="wide_resnet14_2", checker_family="custom", depth=14, weight_layers=14, variant="v1.5", shortcut_option="B",
                 block_type="bottleneck", stage_blocks=[1, 1, 1, 1],
                 human="Wide ResNet-14-2 (wide_resnet50_2's block at depth 14), v1.5, option B")),
        "timm-seresnet18-w8-legacy": (
            lambda: timm.create_model("seresnet18", pretrained=False, num_classes=10, channels=w8), 64,
            dict(dynamo=False, opset=17),
            "timm seresnet18 (BasicBlock + SEModule: GAP, 1x1 conv reduce to 8, ReLU, 1x1 conv, Sigmoid, Mul) "
            "with channels 8/16/32/64; timm's plain stem is always 64 wide, so layer1.0 gets a 1x1 projection "
            "64->8 at stride 1; option B",
            dict(family="seresnet18", checker_family="resnet18", depth=18, weight_layers=18, variant="v1", shortcut_option="B",
                 block_type="basic", stage_blocks=[2, 2, 2, 2],
                 human="SE-ResNet-18 (1/8 width), v1, option B; the SE gate (2 1x1 convs with bias) is "
                       "attention, not a main-branch layer")),
        "timm-ecaresnet26t-w8-legacy": (
            lambda: timm.create_model("ecaresnet26t", pretrained=False, num_classes=10, channels=w8,
                                      stem_width=8), 64, dict(dynamo=False, opset=17),
            "timm ecaresnet26t (Bottleneck [2,2,2,2], deep tiered stem 6/8/16 of three 3x3 convs, ResNet-D "
            "avg-pool downsample, ECA attention: GAP, Conv1d k=3 over channels, Sigmoid, Mul) with planes "
            "8/16/32/64 (x4 out)",
            dict(family="ecaresnet26t", checker_family="custom", depth=26, weight_layers=28, variant="v1d", shortcut_option="B",
                 block_type="bottleneck", stage_blocks=[2, 2, 2, 2],
                 human="ECA-ResNet-26-T: ResNet-26 with a deep tiered stem (28 weight layers), v1d (avg-pool "
                       "downsample), option B (ResNet-D projections); ECA is a Conv1d gate")),
        "timm-skresnet18-w8-legacy": (
            lambda: timm.create_model("skresnet18", pretrained=False, num_classes=10, channels=w8), 64,
            dict(dynamo=False, opset=17),
            "timm skresnet18 (SelectiveKernelBasic: conv1 is a SelectiveKernel of a 3x3 and a dilated 3x3 "
            "path on split input channels, fused by a softmax attention over the paths; conv2 3x3) with "
            "channels 8/16/32/64; 64-wide plain stem, so layer1.0 has a 1x1 projection; option B",
            dict(family="skresnet18", checker_family="resnet18", depth=18, weight_layers=18, variant="v1", shortcut_option="B",
                 block_type="basic", stage_blocks=[2, 2, 2, 2],
                 human="SK-ResNet-18 (1/8 width), v1, option B; the first conv of each block is a 2-path "
                       "selective kernel (3x3 + dilated 3x3, Split/Concat/Softmax/Mul/ReduceSum)")),
        "timm-resnet18d-w8-legacy": (
            lambda: timm.create_model("resnet18d", pretrained=False, num_classes=10, channels=w8, stem_width=4),
            64, dict(dynamo=False, opset=17),
            "timm resnet18d (BasicBlock [2,2,2,2], deep stem 4/4/8 of three 3x3 convs, ResNet-D downsample: "
            "AvgPool 2x2 s2 ceil_mode count_include_pad=False then 1x1 conv + BN) with channels 8/16/32/64",
            dict(family="resnet18d", checker_family="resnet18", depth=18, weight_layers=20, variant="v1d", shortcut_option="B",
                 block_type="basic", stage_blocks=[2, 2, 2, 2],
                 human="ResNet-18-D (deep stem: 20 weight layers), v1d, option B (ResNet-D projections)")),
    }
    return t


def seeded_init(torch, model, seed):
    """BN affine randomised (gamma 0.5-1.5, beta N(0, 0.1)), then running stats
    set from a seeded batch (cumulative average), so BN is not an identity."""
    nn = torch.nn
    g = torch.Generator().manual_seed(seed + 1)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.rand(bn.num_features, generator=g) + 0.5)
            bn.bias.copy_(torch.randn(bn.num_features, generator=g) * 0.1)
    return bns


def calibrate(torch, model, bns, size, seed):
    g = torch.Generator().manual_seed(seed + 2)
    x = torch.randn(16, 3, size, size, generator=g)
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        model(x)
    for bn in bns:
        bn.momentum = 0.1
    model.eval()


def count_macs(torch, model, x):
    """MACs per sample from forward hooks: conv = output elements x in/groups x kernel
    elements; Linear = output elements x in_features."""
    nn = torch.nn
    total, hooks = [0], []

    def conv_hook(m, inp, out):
        k = 1
        for s in m.kernel_size:
            k *= s
        total[0] += (out.numel() // out.shape[0]) * (m.in_channels // m.groups) * k

    def linear_hook(m, inp, out):
        total[0] += (out.numel() // out.shape[0]) * m.in_features

    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0]


def export(torch, model, x2, path, opts):
    kw = dict(input_names=["input"], output_names=["output"],
              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    if opts["dynamo"]:
        torch.onnx.export(model, (x2,), path, dynamo=True, external_data=opts.get("external_data", True),
                          optimize=opts.get("optimize", True), **kw)
    else:
        torch.onnx.export(model, (x2,), path, dynamo=False, opset_version=opts["opset"],
                          do_constant_folding=True, **kw)


def onnx_stats(path):
    import onnx
    m = onnx.load(path)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    with_bias = sum(1 for n in convs if len(n.input) > 2 and n.input[2])
    bn = ops.get("BatchNormalization", 0)
    opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), None)
    return dict(producer=f"{m.producer_name} {m.producer_version}".strip(), ir_version=m.ir_version,
                opset=opset, nodes=len(m.graph.node), initializers=len(m.graph.initializer),
                input_shape=[d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim],
                conv_nodes=len(convs), conv_with_bias=with_bias, batchnorm_nodes=bn,
                bn_folded=(bn == 0 and with_bias > 0), op_counts=dict(sorted(ops.items())))


def make(name, entry, torch, versions):
    import numpy as np
    import onnxruntime as ort
    from onnx import numpy_helper
    build, size, opts, desc, expected = entry
    torch.manual_seed(SEED)
    model = build()
    bns = seeded_init(torch, model, SEED)
    calibrate(torch, model, bns, size, SEED)
    folder = os.path.join(OUT, name)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(os.path.join(folder, "test_data_set_0"))
    path = os.path.join(folder, "model.onnx")
    x2 = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(SEED + 3))
    export(torch, model, x2, path, opts)

    x = np.random.default_rng(INPUT_SEED).standard_normal((1, 3, size, size)).astype(np.float32)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        yt = model(torch.from_numpy(x)).numpy()
    with open(os.path.join(folder, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, sess.get_inputs()[0].name).SerializeToString())
    with open(os.path.join(folder, "test_data_set_0", "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y, sess.get_outputs()[0].name).SerializeToString())

    blocks = [(n, type(m).__name__) for n, m in model.named_modules() if type(m).__name__ in BLOCK_CLASSES]
    params = sum(p.numel() for p in model.parameters())
    bn_params = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
                    for p in m.parameters())
    files = sorted(f for f in os.listdir(folder) if f.startswith("model.onnx"))
    meta = dict(
        name=name,
        exporter="dynamo" if opts["dynamo"] else "legacy",
        export_call=("torch.onnx.export(model, (x,), path, dynamo=True, external_data=%s, optimize=%s, "
                     "input_names=['input'], output_names=['output'], dynamic_axes={batch})"
                     % (opts.get("external_data", True), opts.get("optimize", True)))
        if opts["dynamo"] else
        ("torch.onnx.export(model, (x,), path, dynamo=False, opset_version=%d, do_constant_folding=True, "
         "input_names=['input'], output_names=['output'], dynamic_axes={batch})" % opts["opset"]),
        versions=versions,
        architecture=desc,
        input_shape=[1, 3, size, size],
        input_seed=f"numpy.random.default_rng({INPUT_SEED}).standard_normal, float32",
        weights=f"random: torch.manual_seed({SEED}), BN gamma U(0.5,1.5) beta N(0,0.1), running stats from a "
                f"seeded batch of 16",
        files=files,
        # depth: the name's depth; weight_layers: stem convs + main-branch convs + fc as one counts
        # conv layers in order (a deep stem counts 3; SE/ECA/SK attention convs are not layers)
        truth=dict(
            expected,
            residual_blocks=len(blocks),
            block_names=[n for n, _ in blocks],
            block_classes=sorted(set(c for _, c in blocks)),
            params=params,
            params_without_bn=params - bn_params,
            bn_params=bn_params,
            # what a parameter count of the file can reach when the exporter folded BN into bias-free convs:
            # each BN channel leaves one conv bias instead of gamma and beta
            params_bn_folded=params - bn_params // 2,
            macs_per_sample=count_macs(torch, model, torch.from_numpy(x)),
            macs_counted="torch forward hooks on Conv1d/Conv2d (output elements x in/groups x kernel) and "
                         "Linear (output elements x in_features); batch 1",
        ),
        onnx=onnx_stats(path),
        torch_vs_onnxruntime_max_abs=float(np.max(np.abs(yt - y))),
        reference="test_data_set_0/output_0.pb is onnxruntime %s's output on input_0.pb" % ort.__version__,
    )
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    sz = sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    print(f"{name}: {sz / 1e6:.2f} MB, {len(blocks)} blocks, {params} params, "
          f"{meta['truth']['macs_per_sample']} MACs, BN nodes {meta['onnx']['batchnorm_nodes']}, "
          f"max |torch-ort| {meta['torch_vs_onnxruntime_max_abs']:.2e}")


def generate(only):
    torch, torchvision, timm = import_torch()
    import onnx
    import onnxruntime
    versions = dict(torch=torch.__version__, torchvision=torchvision.__version__, timm=timm.__version__,
                    onnx=onnx.__version__, onnxruntime=onnxruntime.__version__)
    try:
        import onnxscript
        versions["onnxscript"] = onnxscript.__version__
    except ImportError:
        pass
    table = model_table(torch, torchvision, timm)
    for name in (only or table):
        make(name, table[name], torch, versions)


# --------------------------------------------------------------------------- tools side (no torch)

def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def first_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[0][:300] if lines else ""


def compare(bindir, names):
    """Runs the tools on each fixture and returns one record per model."""
    check, convert = os.path.join(bindir, "resnet-check"), os.path.join(bindir, "resnet-convert")
    rows = []
    for name in names:
        folder = os.path.join(OUT, name)
        meta = json.load(open(os.path.join(folder, "meta.json")))
        model = os.path.join(folder, "model.onnx")
        t = meta["truth"]
        r = dict(name=name, truth=t, exporter=meta["exporter"], bn_folded=meta["onnx"]["bn_folded"])
        rc, out, err = run([check, "shapes", model, "--format", "json"])
        r["shapes_rc"] = rc
        try:
            rep = json.loads(out)
            r["model"] = rep["model"]
            r["blocks"] = [dict(name=b["name"], stage=b["stage"], shortcut=b["shortcut"],
                                main_convs=len(b["main_convs"]), stride_position=b["stride_position"])
                           for b in rep["blocks"]]
            r["params"], r["macs"] = rep["summary"]["params"], rep["summary"]["macs"]
            diags = {}
            for d in rep["diagnostics"]:
                diags[d["code"]] = diags.get(d["code"], 0) + 1
            r["diagnostics"] = diags
            r["diag_examples"] = [f'{d["code"]} {d["node"]}: {d["message"][:200]}' for d in rep["diagnostics"]
                                  if d["severity"] != "info"][:4]
        except (ValueError, KeyError):
            r["shapes_error"] = first_line(err or out)
        rc, out, err = run([check, "parity", model, "--reference", folder])
        r["parity_rc"], r["parity_msg"] = rc, first_line(err) if rc else first_line(out)
        if rc == 1:
            r["parity_msg"] = " | ".join(l.strip() for l in out.strip().splitlines()[:6])[:400]
        rc, out, err = run([check, "verify", model])
        r["verify_rc"], r["verify_msg"] = rc, first_line(out + err)
        with tempfile.TemporaryDirectory() as tmp:
            rnw = os.path.join(tmp, "x.rnw")
            rc, out, err = run([convert, model, rnw])
            r["convert_rc"], r["convert_msg"] = rc, first_line(err or out)
            if rc == 0:
                rc2, out2, err2 = run([check, "parity", rnw, "--reference", folder])
                r["rnw_parity_rc"], r["rnw_parity_msg"] = rc2, first_line(err2) if rc2 else first_line(out2)
        rows.append(r)
    return rows


def render(rows):
    out = ["| model | exporter (BN) | blocks tool / torch | block names | tool: family depth, variant, option, block type "
           "| truth | params tool / torch (BN folded) | MACs tool / torch | parity .onnx | parity .rnw | verify, convert |",
           "|---" * 11 + "|"]
    for r in rows:
        t = r["truth"]
        truth = (f'{t["checker_family"]} {t["depth"]} ({t["weight_layers"]} layers), {t["variant"]}, '
                 f'{t["shortcut_option"]}, {t["block_type"]} {t["stage_blocks"]}')
        if "model" in r:
            m = r["model"]
            tool = f'{m["family"]} {m["depth"]}, {m["variant"]}, {m["shortcut_option"]}, {m["block_type"]} {m["stage_blocks"]}'
            found = [b["name"] for b in r["blocks"]]
            blocks = f'{len(found)} / {t["residual_blocks"]}'
            names = "same" if found == t["block_names"] else f'{found[0]}, ... (torch: {t["block_names"][0]}, ...)'
            ref = t["params_bn_folded"] if r["bn_folded"] else t["params"]
            params = f'{r["params"]:,} / {ref:,} ({r["params"] - ref:+d})'
            macs = f'{r["macs"]:,} / {t["macs_per_sample"]:,} ({r["macs"] / t["macs_per_sample"]:.4f})'
        else:
            tool = "shapes exit %d: %s" % (r["shapes_rc"], r.get("shapes_error", ""))
            blocks = names = params = macs = "-"
        verdict = lambda rc, msg: ("pass" if rc == 0 else f"exit {rc}: {msg}").replace("|", "/")
        rnw = verdict(r["rnw_parity_rc"], r["rnw_parity_msg"]) if "rnw_parity_rc" in r else "-"
        out.append(f'| {r["name"]} | {r["exporter"]} ({"folded" if r["bn_folded"] else "kept"}) | {blocks} | {names} | '
                   f'{tool} | {truth} | {params} | {macs} | {verdict(r["parity_rc"], r["parity_msg"])} | {rnw} | '
                   f'{r["verify_rc"]}, {r["convert_rc"]} |')
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="fixture names (default: all)")
    ap.add_argument("--compare", metavar="BIN_DIR", help="run the tools from BIN_DIR on fixtures/real instead")
    ap.add_argument("--json", metavar="FILE", help="with --compare: write the records as JSON too")
    a = ap.parse_args()
    if a.compare:
        names = a.only or sorted(d for d in os.listdir(OUT) if os.path.isfile(os.path.join(OUT, d, "meta.json")))
        rows = compare(a.compare, names)
        print(render(rows))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(rows, f, indent=1)
        return 0
    generate(a.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
