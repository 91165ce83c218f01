import ResNetIR
import ResNetShapes
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Calls `body` with the constant's values as `T`, or nil.
func withOptionalValues<T: ExecScalar, R>(_ c: FloatConstant?, _ body: (UnsafePointer<T>?) -> R) -> R {
    guard let c else { return body(nil) }
    return c.withValues { body($0.baseAddress) }
}

/// A float32 plan's pointers seen as Float for the SIMD kernels. Sound only where T is Float:
/// every caller is inside `if simd`, which the planner sets only for float32 plans.
@inline(__always) func asF32<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
@inline(__always) func asF32<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

/// Planning of the float ops: Conv, BatchNormalization, activations, pools, elementwise, Gemm, MatMul, Softmax.
extension Planner {
    func plan(_ node: Node, index: Int) throws {
        let relu = fusedRelu[index] != nil
        // A fused ReLU's output name is the one later nodes read.
        let outputNode = fusedRelu[index].map { graph.nodes[$0] } ?? fusedResidual[index].map { graph.nodes[$0.add] } ?? node
        if try planConstant(node) { return }
        switch node.opType {
        case "Conv" where (try? value(node, 0).shape.count) != 4: try convND(node)
        case "Conv": try conv(node, relu: relu, output: outputNode, residual: fusedResidual[index].map { (graph.nodes[$0.add], $0.shortcut) },
                              channelsLastOutput: channelsLastConvs.contains(index) ? channelsLastOutputs.contains(index) : nil,
                              inputChannelsLast: wideWinogradConvs.contains(index))
        case "BatchNormalization" where (node.attribute("training_mode")?.int ?? 0) != 0: try batchNormTraining(node)
        case "BatchNormalization": try batchNorm(node, relu: relu, output: outputNode)
        case "Relu":
            let (x, shape) = try tensor(node, 0)
            let y = newTensor(shape)
            let count = shape.reduce(1, *), simd = self.simd
            emit(node, work: .relu(ReluStep(x: x, y: y, count: count, simd: simd)))
            set(node, .tensor(id: y, shape: shape))
        case "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Exp", "Sqrt", "Neg", "Reciprocal", "Abs":
            try activation(node)
        case "MaxPool", "AveragePool": try pool(node, channelsLastOutput: channelsLastPools.contains(index))
        case "GlobalAveragePool", "GlobalMaxPool", "ReduceMean": try globalPool(node)
        case "ReduceSum", "ReduceMax", "ReduceMin":
            let (x, xs) = try tensor(node, 0)
            let axes = try node.attribute("axes")?.ints ?? (optionalValue(node, 1) != nil ? ints(node, 1) : nil)
            try reduceGeneral(node, x: x, xs: xs, axes: axes)
        case "Sum", "Max", "Min", "Mean":
            if node.inputs.count == 2 && node.opType != "Mean" { try binary(node, relu: relu, output: outputNode) } else { try variadic(node) }
        case "Add", "Sub", "Mul", "Div", "Pow":
            try binary(node, relu: relu, output: outputNode, residual: fusedResidual[index].map { (graph.nodes[$0.add], $0.shortcut) })
        case "Split": try split(node)
        case "Expand": try expand(node)
        case "Transpose": try transpose(node)
        case "Where": try whereOp(node)
        case "Gather": try gather(node)
        case "Gemm": try gemm(node)
        case "MatMul": try matmul(node)
        case "Softmax": try softmax(node)
        case "QuantizeLinear": try quantizeLinear(node)
        case "DequantizeLinear": try dequantizeLinear(node)
        case "QLinearConv": try qlinearConv(node)
        case "QLinearMatMul", "QGemm": try qlinearMatMul(node)
        case "QLinearAdd", "QLinearMul": try qlinearBinary(node)
        case "QLinearLeakyRelu", "QLinearSigmoid": try qlinearActivation(node)
        case "QLinearGlobalAveragePool": try qlinearGlobalAveragePool(node)
        case "QLinearAveragePool": try qlinearAveragePool(node)
        case "QLinearConcat": try qlinearConcat(node)
        default: try planTensorOp(node)
        }
    }

    /// Whether a product whose `real` output columns take `columns` GEMM columns runs transposed
    /// (positions as the tile's rows, six per panel when this rule was measured, seven on AVX-512 since): where the real ones would fill under 95%
    /// of the tile-column panels. Transposed, 196 positions (14x14) fill 33 six-row panels 99%,
    /// against 196 of 224 columns (1x1) or of the 14 x 16 grid's 224 (3x3); the 3x3 stride-2
    /// convs' 28 x 29 grid fills 94%. resnet50, 4 interleaved rounds, sum of layer times:
    /// 50.0 -> 45.1 ms on 1 thread, 27.6 -> 24.2 ms on 2 (the 14x14 3x3s 6.92 -> 5.87 ms);
    /// resnet18 on 2: 12.2 -> 11.3 ms. The 56x56 3x3 (96%) and the stem (97%) stay plain:
    /// gemm-bench has them 3-5% faster so.
    func runsTransposed(real: Int, columns: Int) -> Bool {
        let padded = (columns + kernels.tileColumns - 1) / kernels.tileColumns * kernels.tileColumns
        return real * 20 < padded * 19
    }

    /// Charges Cᵀ [n, m] of a transposed product of `node` and grows the plan's reservation.
    func reserveTransposed(_ node: Node, m: Int, n: Int) throws {
        guard let floats = PackedGemmWorkspace.transposedFloats(m: m, n: n) else {
            throw ExecError.overBudget(what: "transposed output of '\(node.name)'", bytes: nil, budget: budget.bytes)
        }
        try budget.check(elements: floats, what: "transposed output of '\(node.name)' (\(n) x \(m))")
        maxTransposed = max(maxTransposed, floats)
    }

    /// The 2-D kernels' geometry: the shared window arithmetic (`window`, any rank) seen for one image of `channels`.
    func convGeometry(_ node: Node, input: [Int], kernel: [Int], channels: Int) throws -> ConvGeometry {
        guard input.count == 4, kernel.count == 2 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "\(input.count - 2)-D convolution (only 2-D)")
        }
        let (w, _) = try window(node, spatial: [input[2], input[3]], kernel: kernel)
        return ConvGeometry(channels: channels, height: input[2], width: input[3], kernelH: kernel[0], kernelW: kernel[1],
                            strideH: w.stride[0], strideW: w.stride[1], padTop: w.padBegin[0], padLeft: w.padBegin[1],
                            dilationH: w.dilation[0], dilationW: w.dilation[1], outH: w.output[0], outW: w.output[1])
    }

    /// Conv as GEMM per image and group: out[M/g, Ho*Wo] = W[M/g, C/g*kh*kw] · col[C/g*kh*kw, Ho*Wo].
    /// `channelsLastOutput` is set for a conv findChannelsLastConvs marked: it reads its input in
    /// the layout it is stored in (or channels last, copied if need be, with `inputChannelsLast`),
    /// and writes channels last when true.
    func conv(_ node: Node, relu: Bool, output: Node, residual: (add: Node, input: Int)? = nil, channelsLastOutput: Bool? = nil,
              inputChannelsLast: Bool = false) throws {
        let (x, xs, inputLayout): (Int, [Int], ActivationLayout)
        if channelsLastOutput != nil, inputChannelsLast {
            (x, xs) = try channelsLastTensor(node, 0)
            inputLayout = .channelsLast
        } else if channelsLastOutput != nil {
            (x, xs, inputLayout) = try activation(node, 0)
        } else {
            (x, xs) = try tensor(node, 0)
            inputLayout = .channelsFirst
        }
        let outputLayout: ActivationLayout = channelsLastOutput == true ? .channelsLast : .channelsFirst
        let (w, ws) = try floats(node, 1)
        let bias = try optionalValue(node, 2).map { _ in try floats(node, 2).0 }
        // Ranks, channels vs group, bias length and the window were checked by the shape library.
        let group = Int(node.attribute("group")?.int ?? 1)
        guard ws.count == 4, xs.count == 4, group >= 1, xs[1] % group == 0, ws[0] % group == 0, ws[1] * group == xs[1] else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "Conv of input \(xs) with weight \(ws) (only 2-D)")
        }
        if let bias, bias.count != ws[0] {
            throw ExecError.invalidModel(node: node.name, detail: "Conv bias has \(bias.count) values for \(ws[0]) output channels")
        }
        let g = try convGeometry(node, input: xs, kernel: [ws[2], ws[3]], channels: xs[1] / group)
        let (n, m) = (xs[0], ws[0])
        let outShape = try outputShape(node)
        let y = newTensor(outShape)
        if outputLayout == .channelsLast { channelsLastTensors.insert(y) }
        let plane = g.outH * g.outW, k = ws[1] * ws[2] * ws[3], mg = m / group
        maxGemmN = max(maxGemmN, plane)
        let simd = self.simd
        // SIMD plans never build im2col columns. Convs with a window read the padded input in
        // place (ShiftedRowsConv, below): nothing is packed, so threads split whichever side is
        // larger at no cost (resnet18 on 2 threads, 3 interleaved runs: p50 13.4-15.7 ms,
        // against 14.3-17.0 with the 14x14 and 7x7 convs packed transposed as before). 1x1
        // convs pack B: from the input as it stands (read in place, its rows are a plane apart:
        // measured 8% slower), or, strided, from its patches (ConvPatchesB). Where the last
        // column panel would be mostly padding (runsTransposed) and a group has a full tile of
        // channels (ResNeXt's narrow groups stay plain), a conv runs transposed instead: a
        // window's taps read in place at its stride from a padded copy (GatherConv), a 1x1
        // packs its positions (sgemmNarrow, or convGather when it writes channels last).
        let implicitGEMM = simd && !g.isPointwise
        if !g.isPointwise && !simd {
            let (columns, overflow) = k.multipliedReportingOverflow(by: plane)
            guard !overflow else { throw ExecError.overBudget(what: "im2col columns of '\(node.name)'", bytes: nil, budget: budget.bytes) }
            try budget.check(elements: columns, what: "im2col columns of '\(node.name)' (\(k) x \(plane))")
            maxColumns = max(maxColumns, columns)
        }
        // The fused residual Add's shortcut (findResidualFusions: same shape as y).
        let shortcut = try residual.map { outputLayout == .channelsLast ? try channelsLastTensor($0.add, $0.input).0 : try tensor($0.add, $0.input).0 }
        if group == 1, try convWinograd(node, x: x, xs: xs, w: w, bias: bias, g: g, m: m, y: y, relu: relu, shortcut: shortcut,
                                        inputLayout: inputLayout, outputLayout: outputLayout) {
            set(output, .tensor(id: y, shape: outShape))
            return
        }
        if simd {
            // Convs with a window read B's rows in place from the input, zero-padded and
            // split into stride phases once per image (ShiftedRowsConv), instead of packing kh*kw
            // copies of it per K slice. A strided 1x1 conv reads each value once, so it gains
            // nothing and its rows would lie a plane apart (on AVX2, resnet50's four: 10.3-10.4 ms
            // against 8.9-9.9 packed): it packs its patches from the image (ConvPatchesB), as do
            // an empty sum (K = 0) and a geometry the layout refuses (figures of 2^31 and more).
            // (Charged here, after Winograd declined the conv: what Winograd runs needs no planes.)
            var shifted = implicitGEMM && k > 0 && g.kernelH * g.kernelW > 1 ? ShiftedRowsConv(g) : nil
            // Transposed where the plain path's last column panel would be mostly padding: its
            // columns are the plane (1x1) or the shifted rows' grid (7x7: 49 of 64 real).
            // A 1x1 conv packs its rows (sgemmNarrow): read in place they lie a plane apart, and
            // resnet50's transposed 1x1s ran 5-9% slower so (8 interleaved rounds, 1 thread).
            // A conv between channels-last activations (findChannelsLastConvs) reads its input as
            // stored and writes `outputLayout`: with both channels first a 1x1 runs sgemmNarrow, else
            // convGather (which packs a 1x1's positions from a channels-first input, and from a
            // channels-last one where the kernel set opts in: packsChannelsLastPointwise).
            let windowed = g.kernelH * g.kernelW > 1
            let plainColumns = windowed ? shifted?.columns : plane
            let transposed = mg >= kernels.tileColumns && plainColumns.map({ runsTransposed(real: plane, columns: $0) }) == true
            let gather: GatherConv?, narrow: Bool
            if channelsLastOutput != nil {
                narrow = !windowed && inputLayout == .channelsFirst && outputLayout == .channelsFirst
                gather = narrow ? nil : GatherConv(g, input: inputLayout)
                // runsChannelsLast checked this geometry; a refusal here is a planner fault, reported, not run.
                guard narrow || gather != nil else {
                    throw ExecError.unsupportedAttribute(node: node.name, detail: "channels-last conv of geometry \(g) (planner inconsistency)")
                }
            } else {
                gather = transposed && windowed ? GatherConv(g, input: .channelsFirst) : nil
                narrow = transposed && !windowed
            }
            if narrow { try reserveTransposed(node, m: mg, n: plane) }
            if let gather {
                shifted = nil
                if outputLayout == .channelsFirst { try reserveTransposed(node, m: mg, n: plane) }
                try budget.check(elements: gather.paddedFloats, what: "padded input of '\(node.name)'")
                maxShiftedRows = max(maxShiftedRows, gather.paddedFloats)
                try chargeConstant(elements: k, elementSize: MemoryLayout<Int>.size, what: "row offsets of '\(node.name)'")
            } else if let shifted {
                guard let planes = shifted.planeFloats, let columns = shifted.columns else {
                    throw ExecError.overBudget(what: "input planes of '\(node.name)'", bytes: nil, budget: budget.bytes)
                }
                let (grid, o1) = shifted.gridIsOutput ? (0, false) : mg.multipliedReportingOverflow(by: columns)
                let (total, o2) = planes.addingReportingOverflow(grid)
                guard !o1, !o2 else { throw ExecError.overBudget(what: "input planes of '\(node.name)'", bytes: nil, budget: budget.bytes) }
                try budget.check(elements: total, what: "input planes and output grid of '\(node.name)'")
                maxShiftedRows = max(maxShiftedRows, total)
                try chargeConstant(elements: k, elementSize: MemoryLayout<Int>.size, what: "row offsets of '\(node.name)'")
            }
            // Prepare, then execute: the weights are packed for the kernel set's tile once, here.
            // Transposed convs hold their weights as the tile's B side (panels of tileColumns rows).
            let panelRows = gather != nil || narrow ? kernels.tileColumns : kernels.tileRows
            guard let floats = PackedA.floatCount(m: mg, k: k, mr: panelRows) else {
                throw ExecError.overBudget(what: "packed weights of '\(node.name)'", bytes: nil, budget: budget.bytes)
            }
            let kernels = self.kernels, workspace = packedWorkspace
            let macs = n &* m &* plane &* k  // each factor within the budget; a profile figure only
            let rowOffsets = gather?.rowOffsets() ?? shifted?.rowOffsets() ?? []
            // Channels last, a window's patch rows run tap-major (GatherConv.patchRows), and its weights so.
            let tapMajor = gather.map { $0.patchRows() != Array(0..<k) } ?? false
            let packed = try prepared.packed("conv \(node.outputs.first ?? node.name) \(panelRows)\(tapMajor ? " tap-major" : "")") {
                try chargeConstant(elements: floats, elementSize: 4 * group, what: "packed weights of '\(node.name)'")
                // The reordered copy lives only while it is packed, but is allocated all the same.
                if tapMajor { try budget.check(elements: floats, what: "reordered weights of '\(node.name)' before packing") }
            } make: {
                w.withValues { (wf: UnsafeBufferPointer<T>) in
                    (0..<group).map { gi in
                        let weights = asF32(base(wf)) + gi * mg * k
                        guard tapMajor, let gather else { return PackedA(a: weights, lda: k, m: mg, k: k, mr: panelRows) }
                        return gather.reorderedWeights(weights, m: mg).withUnsafeBufferPointer {
                            PackedA(a: $0.baseAddress!, lda: k, m: mg, k: k, mr: panelRows)
                        }
                    }
                }
            }
            // Batch >= threads: each thread runs whole images on its own single-threaded
            // workspace (no split GEMMs, no thread packing B that another also packs).
            let threads = workspace.threads, perImage = n >= threads && threads > 1
            // Many groups at batch 1 (ResNeXt's 32): threads claim whole groups, each on its own
            // single-threaded workspace. Split inside, each group's GEMM is a few microseconds' work
            // (4-32 output channels) with a wait for the other thread at its end, 32 waits a conv:
            // resnext50_32x4d's grouped 3x3s ran slower on 2 threads than on 1 (layer1's 0.69 ->
            // 1.11-1.17 ms). Few groups (group < 4 x threads) keep the split inside, which balances.
            let perGroup = !perImage && threads > 1 && group >= 4 * threads
            let imageWorkspaces = perImage || perGroup ? self.imageWorkspaces : []
            if perImage || perGroup { imageWorkspacesUsed = true }
            let algorithmName = gather != nil ? "gather, transposed" : narrow ? "packed, transposed" : shifted != nil ? "shifted rows" : g.isPointwise ? "packed" : "packed patches"
            let kernel = "\(kernels.rawValue) \(algorithmName)" + (outputLayout == .channelsLast ? ", channels last" : "")
                + (perImage ? ", an image a thread" : perGroup ? ", a group a thread" : "")
            let algorithm: PackedConv<T>.Algorithm
            if let gather {
                algorithm = .gather(gather, rowOffsets: rowOffsets, outputLayout: outputLayout)
            } else if let shifted {
                algorithm = .shiftedRows(shifted, rowOffsets: rowOffsets)
            } else {
                algorithm = narrow ? .narrow(patches: implicitGEMM) : .packed(patches: implicitGEMM)
            }
            let split: PackedConv<T>.Split = perImage ? .imageAThread(imageWorkspaces) : perGroup ? .groupAThread(imageWorkspaces) : .inside(workspace)
            emit(node, macs: macs, kernel: kernel, work: .conv(PackedConv(
                x: x, y: y, bias: bias, shortcut: shortcut, relu: relu, geometry: g, images: n, inputChannels: xs[1], outputChannels: m,
                groups: group, kernels: kernels, algorithm: algorithm, weights: packed, split: split)))
            set(output, .tensor(id: y, shape: outShape))
            return
        }
        emit(node, macs: n &* m &* plane &* k, kernel: "reference im2col", work: .referenceConv(ReferenceConv(
            x: x, y: y, weights: w, bias: bias, shortcut: shortcut, relu: relu, geometry: g, depth: k, images: n, inputChannels: xs[1],
            outputChannels: m, groups: group)))
        set(output, .tensor(id: y, shape: outShape))
    }

    /// Inference BatchNormalization as a per-channel affine: scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
    func batchNorm(_ node: Node, relu: Bool, output: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let params = try (1...4).map { try floats(node, $0).0.array }
        guard xs.count >= 2, params.allSatisfy({ $0.count == xs[1] }) else {
            throw ExecError.shapeMismatch(node: node.name, detail: "parameters do not have \(xs.count >= 2 ? xs[1] : 0) channels")
        }
        let eps = node.attribute("epsilon")?.float ?? 1e-5
        let scale = (0..<xs[1]).map { T(params[0][$0]) / (T(params[3][$0]) + T(eps)).squareRoot() }
        let shift = (0..<xs[1]).map { T(params[1][$0]) - T(params[2][$0]) * scale[$0] }
        let y = newTensor(xs)
        let channels = xs[1], planes = xs[0] * xs[1], size = xs.dropFirst(2).reduce(1, *), simd = self.simd
        emit(node, work: .affine(AffineStep(x: x, y: y, scale: scale, shift: shift, channels: channels, planes: planes, size: size,
            relu: relu, simd: simd)))
        set(output, .tensor(id: y, shape: xs))
    }

    func activation(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let kind: ElementwiseReference.Activation
        switch node.opType {
        case "LeakyRelu": kind = .leakyRelu(node.attribute("alpha")?.float ?? 0.01)
        case "Sigmoid": kind = .sigmoid
        case "HardSigmoid": kind = .hardSigmoid(alpha: node.attribute("alpha")?.float ?? 0.2, beta: node.attribute("beta")?.float ?? 0.5)
        case "HardSwish": kind = .hardSwish
        case "Tanh": kind = .tanh
        case "Exp": kind = .exp
        case "Sqrt": kind = .sqrt
        case "Neg": kind = .neg
        case "Reciprocal": kind = .reciprocal
        case "Abs": kind = .abs
        default:
            var lo = node.attribute("min")?.float ?? -.greatestFiniteMagnitude
            var hi = node.attribute("max")?.float ?? .greatestFiniteMagnitude
            if let v = optionalValue(node, 1), case let .floats(c, _) = v { lo = c.array.first ?? lo }
            if let v = optionalValue(node, 2), case let .floats(c, _) = v { hi = c.array.first ?? hi }
            kind = .clip(lo, hi)
        }
        let y = newTensor(xs)
        let count = xs.reduce(1, *)
        emit(node, work: .activation(ActivationStep(kind: kind, x: x, y: y, count: count)))
        set(node, .tensor(id: y, shape: xs))
    }

    /// `channelsLastOutput`: a max pool reading channels last writes so too (findChannelsLastConvs).
    func pool(_ node: Node, channelsLastOutput: Bool) throws {
        // A max pool findChannelsLastConvs left a channels-last input reads it as it stands.
        let (x, xs, layout): (Int, [Int], ActivationLayout)
        if maxPoolReadsChannelsLast(node) {
            (x, xs, layout) = try activation(node, 0)
        } else {
            (x, xs) = try tensor(node, 0)
            layout = .channelsFirst
        }
        guard let kernel = node.attribute("kernel_shape")?.ints?.map({ Int($0) }) else {
            throw ExecError.shapeMismatch(node: node.name, detail: "kernel_shape is required")
        }
        let includePad = (node.attribute("count_include_pad")?.int ?? 0) != 0
        if poolNeedsGeneric(node, rank: xs.count) {
            // maxPoolReadsChannelsLast took this pool's shape facts; a disagreement is a planner fault, reported, not run.
            guard layout == .channelsFirst else {
                throw ExecError.unsupportedAttribute(node: node.name, detail: "channels-last input to an N-D pool (planner inconsistency)")
            }
            try genericPool(node, x: x, xs: xs, kernel: kernel)
            return
        }
        let g = try convGeometry(node, input: xs, kernel: kernel, channels: xs[1])
        let isMax = node.opType == "MaxPool"
        let outShape = try outputShape(node)
        let y = newTensor(outShape)
        if layout == .channelsLast {
            try maxPoolChannelsLast(node, x: x, xs: xs, g: g, y: y, channelsLastOutput: channelsLastOutput)
            if channelsLastOutput { channelsLastTensors.insert(y) }
            set(node, .tensor(id: y, shape: outShape))
            return
        }
        let planes = xs[0] * xs[1]
        if isMax && maxPoolOnBytes(node, x: x, y: y, g: g, planes: planes) { return set(node, .tensor(id: y, shape: outShape)) }
        // Planes split over the plan's threads (each writes only its own output planes).
        let threads = min(packedWorkspace.threads, max(planes, 1))
        let simd = self.simd
        emit(node, work: .pool(.window(x: x, y: y, g: g, planes: planes, max: isMax, countIncludePad: includePad, threads: threads, simd: simd)))
        set(node, .tensor(id: y, shape: outShape))
    }

    /// Whether pool `node` on an input of `rank` runs the N-D kernel (GenericOps.pool), not the 2-D one:
    /// other ranks, an indices output, or count_include_pad where the 2-D kernel would divide wrongly
    /// (it divides by the window clipped at begin pads mirrored to the end; with unequal or automatic
    /// pads only the N-D kernel, which knows the end pads, is right).
    func poolNeedsGeneric(_ node: Node, rank: Int) -> Bool {
        let includePad = (node.attribute("count_include_pad")?.int ?? 0) != 0
        let pads = node.attribute("pads")?.ints ?? []
        let asymmetric = pads.count == 4 && (pads[0] != pads[2] || pads[1] != pads[3])
        return rank != 4 || (node.outputs.count > 1 && !node.outputs[1].isEmpty) || (includePad && asymmetric)
            || (includePad && (node.attribute("auto_pad")?.string ?? "NOTSET") != "NOTSET")
    }

    /// GlobalAveragePool, GlobalMaxPool, and ReduceMean over the trailing spatial axes.
    func globalPool(_ node: Node) throws {
        if node.opType != "ReduceMean", case let .tensor(id, shape) = try value(node, 0), channelsLastTensors.contains(id), shape.count == 4 {
            // A channels-last input pooled as it stands: y [N, C, 1, 1] is the same floats in either layout.
            use(id)
            let outShape = try outputShape(node)
            let y = newTensor(outShape)
            let (images, channels, size, isMax) = (shape[0], shape[1], shape[2] * shape[3], node.opType == "GlobalMaxPool")
            emit(node, work: .pool(.globalChannelsLast(x: id, y: y, images: images, channels: channels, size: size, max: isMax)))
            set(node, .tensor(id: y, shape: outShape))
            return
        }
        let (x, xs) = try tensor(node, 0)
        if node.opType == "ReduceMean" {
            // Axes were checked in range and distinct by the shape library.
            let axes = try node.attribute("axes")?.ints ?? (optionalValue(node, 1) != nil ? ints(node, 1) : nil)
            let normal = (axes ?? []).map { $0 < 0 ? Int($0) + xs.count : Int($0) }.sorted()
            guard xs.count >= 3, normal == Array(2..<xs.count) else {
                try reduceGeneral(node, x: x, xs: xs, axes: axes)
                return
            }
        }
        guard xs.count >= 3 else { throw ExecError.shapeMismatch(node: node.name, detail: "needs rank >= 3, got \(xs)") }
        let outShape = try outputShape(node)
        let y = newTensor(outShape)
        let planes = xs[0] * xs[1], size = xs.dropFirst(2).reduce(1, *), isMax = node.opType == "GlobalMaxPool"
        if simd && !isMax {
            // Averages on SIMD plans: vector sums, planes split over threads (PoolingAVX2.globalAverage).
            let parts = elementwiseParts(planes * size, rows: planes)
            emit(node, work: .pool(.globalAverage(x: x, y: y, planes: planes, size: size, parts: parts)))
            set(node, .tensor(id: y, shape: outShape))
            return
        }
        emit(node, work: .pool(.global(x: x, y: y, planes: planes, size: size, max: isMax)))
        set(node, .tensor(id: y, shape: outShape))
    }
}
