import ResNetIR
import ResNetKernelsInt8
import ResNetKernelsReference
import ResNetShapes

/// QLinearConv, QLinearMatMul and com.microsoft QGemm on the integer GEMM (issue 13):
/// int8 weights packed once for the plan's integer tile (VNNI, AVX2 or the twin),
/// uint8 activations per call, exact int32 sums, then requantization as ONNX
/// specifies (Requantization). int8 activations and uint8 weights are shifted by 128
/// into the kernels' uint8 x int8 form; (x - zp) and (w - zp) are unchanged by it.
extension Planner {
    /// Weights as int8 rows [M, K] with their per-row zero points, shifted if they were uint8.
    struct Int8Weights {
        let values: [Int8]
        let zeroPoints: [Int32]
    }

    /// Largest K whose centred sums Σ (x - xzp)(w - wzp), up to 255 · 255 · K, stay within int32:
    /// beyond it onnxruntime's int32 arithmetic wraps; this executor refuses instead.
    static var int8MaxK: Int { 33_025 }

    /// `values` (a constant integer tensor of `type`) as int8 rows of `k`, zero points per row.
    func int8Weights(_ node: Node, _ values: [Int64], rows: Int, k: Int, quantization q: Quantization, weight: String) throws -> Int8Weights {
        // The weight tensor's own type decides (a DQ without a zero point says nothing about it).
        let type = DataType(rawValue: facts[weight]?.elemType ?? 0) ?? q.elementType
        let shift: Int64 = type == .uint8 ? -128 : 0
        guard type == .uint8 || type == .int8 else {
            throw ExecError.unsupportedDataType(node: node.name, value: weight, dataType: type.description)
        }
        guard values.count == rows * k else {
            throw ExecError.shapeMismatch(node: node.name, detail: "weights hold \(values.count) values for \(rows) x \(k)")
        }
        var out = [Int8](repeating: 0, count: values.count)
        for (i, v) in values.enumerated() {
            guard let b = Int8(exactly: v + shift) else {
                throw ExecError.invalidModel(node: node.name, detail: "weight \(v) outside \(type)")
            }
            out[i] = b
        }
        let zeroPoints = (0..<rows).map { Int32(q.at($0).zeroPoint) + Int32(shift) }
        return Int8Weights(values: out, zeroPoints: zeroPoints)
    }

    /// An int32 bias of `count` values (QLinearConv's B, QGemm's C), or zeros.
    func int32Bias(_ node: Node, _ i: Int, count: Int) throws -> [Int32] {
        guard optionalValue(node, i) != nil else { return Array(repeating: 0, count: count) }
        let values = try ints(node, i)
        guard values.count == count else { throw ExecError.shapeMismatch(node: node.name, detail: "bias has \(values.count) values for \(count) outputs") }
        return try values.map { v in
            guard let b = Int32(exactly: v) else { throw ExecError.invalidModel(node: node.name, detail: "bias \(v) outside int32") }
            return b
        }
    }

    /// The activation side: shift into uint8 and the effective zero point.
    func int8Activation(_ node: Node, _ q: Quantization) throws -> (offset: Int, zeroPoint: Int32) {
        guard q.isPerTensor else { throw ExecError.unsupportedAttribute(node: node.name, detail: "per-channel activation scale") }
        switch q.elementType {
        case .uint8: return (0, Int32(q.at(0).zeroPoint))
        case .int8: return (128, Int32(q.at(0).zeroPoint) + 128)
        default: throw ExecError.unsupportedDataType(node: node.name, value: "activation zero point", dataType: q.elementType.description)
        }
    }

    /// Reserves the shared integer scratch after charging it to the budget.
    /// `operandElements` replaces layout.count where B is held otherwise (the chunked convs' per-thread operands).
    func reserveInt8Scratch(_ node: Node, plane: Int, layout: Int8BLayout, accumulators: Int, words: Int = 0, operandElements: Int? = nil) throws {
        let operand = operandElements ?? layout.count
        try budget.check(elements: plane, elementSize: 1, what: "uint8 image of '\(node.name)'")
        try budget.check(elements: operand, elementSize: layout.tile == .avx2 ? 2 : 1, what: "integer patches of '\(node.name)'")
        try budget.check(elements: accumulators, elementSize: 4, what: "int32 sums of '\(node.name)'")
        try budget.check(elements: words, elementSize: 4, what: "interleaved image of '\(node.name)'")
        // The plan's total (checkBudget) counts what the shared scratch holds once grown for this step too:
        // each buffer at its largest request so far (not this step's sum alone), checked before allocating.
        guard let held = int8Scratch.bytesAfterReserving(plane: plane, operand: layout, accumulators: accumulators, columnSums: layout.n,
                                                         words: words, operandElements: operand) else {
            throw ExecError.overBudget(what: "integer scratch of '\(node.name)'", bytes: nil, budget: budget.bytes)
        }
        try budget.check(elements: held, elementSize: 1, what: "integer scratch with '\(node.name)'")
        maxInt8ScratchBytes = max(maxInt8ScratchBytes, held)
        int8Scratch.reserve(plane: plane, operand: layout, accumulators: accumulators, columnSums: layout.n, words: words, operandElements: operand)
    }

    func qlinearConv(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        guard case let .ints(wValues, ws) = try value(node, 3) else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "QLinearConv weights computed at run time")
        }
        let group = Int(node.attribute("group")?.int ?? 1)
        guard ws.count == 4, xs.count == 4, group >= 1, xs[1] % group == 0, ws[0] % group == 0, ws[1] * group == xs[1] else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "QLinearConv of input \(xs) with weight \(ws) (only 2-D)")
        }
        let m = ws[0], mg = m / group, k = ws[1] * ws[2] * ws[3]
        guard k <= Self.int8MaxK else { throw ExecError.unsupportedAttribute(node: node.name, detail: "K = \(k) past \(Self.int8MaxK)") }
        let g = try convGeometry(node, input: xs, kernel: [ws[2], ws[3]], channels: xs[1] / group)
        let qx = try quantization(node, scale: 1, zeroPoint: 2)
        let qw = try quantization(node, scale: 4, zeroPoint: 5, channels: m)
        let qy = try quantization(node, scale: 6, zeroPoint: 7)
        guard qy.isPerTensor, qy.range == .uint8 || qy.range == .int8 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "output quantization (per-tensor uint8/int8 only)")
        }
        let (offset, xzp) = try int8Activation(node, qx)
        let weights = try int8Weights(node, wValues, rows: m, k: k, quantization: qw, weight: node.inputs[3])
        let bias = try int32Bias(node, 8, count: m)
        let outShape = try outputShape(node)
        let plane = g.outH * g.outW
        guard outShape == [xs[0], m, g.outH, g.outW] else { throw ExecError.shapeMismatch(node: node.name, detail: "output \(outShape)") }
        let tile = Int8Tile.forSet(kernels).forActivations(zeroPoint: xzp)
        // B built tap-major where the tile allows (Int8TapMajor), the weights packed to match; its K
        // counts any padding channels (operandK: the layout's, the packing's and the requantization's).
        let tapMajor = Int8TapMajor(g, tile: tile), operandK = tapMajor?.k ?? k
        guard operandK <= Self.int8MaxK else { throw ExecError.unsupportedAttribute(node: node.name, detail: "K = \(operandK) past \(Self.int8MaxK)") }
        let layout = Int8BLayout(k: operandK, n: plane, tile: tile)
        // Narrow outputs run transposed on the VNNI tile (Int8Gemm.gemmTransposed), Cᵀ beside C.
        let transposed = tile == .vnni && mg >= PackedInt8ChannelWeights.panelChannels && Self.int8RunsTransposed(plane: plane, m: mg, k: operandK)
        let (sums, sumsOverflow) = mg.multipliedReportingOverflow(by: plane)
        guard !sumsOverflow, !(transposed && sums.multipliedReportingOverflow(by: 2).overflow) else {
            throw ExecError.overBudget(what: "int32 sums of '\(node.name)'", bytes: nil, budget: budget.bytes)
        }
        // Float32 plans on SIMD tiles requantize in the tile where no column sums are needed (every
        // weight zero point 0: Int8FusedRequantization); not an empty sum (K = 0), which the GEMM only zeroes.
        let fusable = T.self == Float.self && tile != .reference && k > 0 && weights.zeroPoints.allSatisfy { $0 == 0 }
        // Tap-major convs whose operand would outgrow L2 then run chunk by chunk (Int8ChunkedConv), each
        // thread holding one chunk of B; pointwise convs on byte groups (B the interleaved image) likewise
        // (Int8ChunkedPointwise). Both need the tile's requantization (`fusable`).
        let threads = int8Scratch.workspace.threads, operandBytes = layout.count * (tile == .avx2 ? 2 : 1)
        let chunked = tapMajor.flatMap { t in
            !transposed && fusable && Self.int8RunsChunked(operandBytes: operandBytes) ? Int8ChunkedConv(t, threads: threads) : nil
        }
        let pointwise = tile.readsByteGroups && g.isPointwise && tapMajor == nil && !transposed && fusable
            && Self.int8PointwiseChunked(channels: g.channels, positions: plane, tile: tile)
            ? Int8ChunkedPointwise(channels: g.channels, positions: plane, threads: threads, tile: tile) : nil
        // A chunked conv reading B in place from its image needs no operand of its own.
        let chunkOperand = chunked.map { $0.readsInPlace ? 0 : $0.chunkLayout.count } ?? pointwise?.chunkLayout.count ?? 0
        let (chunkOperands, o3) = chunkOperand.multipliedReportingOverflow(by: threads)
        let (chunkPlanes, o4) = (pointwise?.chunkPlaneBytes ?? 0).multipliedReportingOverflow(by: threads)
        guard !o3, !o4 else { throw ExecError.overBudget(what: "integer patches of '\(node.name)'", bytes: nil, budget: budget.bytes) }
        try reserveInt8Scratch(node, plane: pointwise != nil ? chunkPlanes : tapMajor?.planeBytes ?? g.channels * g.height * g.width, layout: layout,
                               accumulators: transposed ? 2 * sums : sums, words: tapMajor?.wordCount ?? 0,
                               operandElements: chunked == nil && pointwise == nil ? nil : chunkOperands)
        if tapMajor != nil { try budget.check(elements: mg * operandK, elementSize: 1, what: "reordered int8 weights of '\(node.name)' before packing") }
        // Per group: 8-row (VNNI) or 6-row panels over K padded to 4, int16 on the widening AVX2 tile, plus ~16 bytes per row of
        // requantization; AVX2 on bytes also keeps its corrections' weights (K pairs of rows padded to 8, and 16
        // bytes) and a bound per k (PackedInt8Weights.saturationPairs, saturationBounds).
        let channelPanel = PackedInt8ChannelWeights.panelChannels
        let panelRows = transposed ? (mg + channelPanel - 1) / channelPanel * channelPanel : PackedInt8Weights.panels(m: mg, tile: tile) * tile.rows, paddedK = (operandK + 3) / 4 * 4
        let (panelBytes, o1) = panelRows.multipliedReportingOverflow(by: paddedK * (tile == .avx2 ? 2 : 1) + 16)
        let (pairBytes, o5) = tile == .avx2Bytes ? ((mg + 7) / 8 * 8 + 1).multipliedReportingOverflow(by: paddedK) : (0, false)
        let (perGroupBytes, o6) = panelBytes.addingReportingOverflow(pairBytes &+ 16)
        let (packedBytes, o2) = perGroupBytes.multipliedReportingOverflow(by: group)
        guard !o1, !o2, !o5, !o6 else { throw ExecError.overBudget(what: "packed int8 weights of '\(node.name)'", bytes: nil, budget: budget.bytes) }
        let sx = qx.at(0).scale, sy = qy.at(0).scale
        // Shared with the Executor's other plans (a batch's per-thread plans): the key names all the
        // packing depends on besides the node's constants (tile, product, operand depth and order).
        let key = "qlinearconv \(node.outputs.first ?? node.name) \(tile) \(transposed ? "channels" : "rows") \(tapMajor != nil ? "tap-major" : "") \(operandK)"
        let perGroup: [(Int8ProductWeights, Requantization)] = try prepared.shared(key, charge: {
            try chargeConstant(elements: packedBytes, elementSize: 1, what: "packed int8 weights of '\(node.name)'")
        }) { (0..<group).map { gi in
            let rows = (gi * mg)..<((gi + 1) * mg)
            let packed = weights.values.withUnsafeBufferPointer { w in
                // Sound: rows x k values of group gi are within the m x k weights.
                let rowsOfGroup = w.baseAddress! + gi * mg * k
                func pack(_ w: UnsafePointer<Int8>, k: Int) -> Int8ProductWeights {
                    transposed ? .channels(PackedInt8ChannelWeights(weights: w, m: mg, k: k)) : .rows(PackedInt8Weights(weights: w, m: mg, k: k, tile: tile))
                }
                guard let tapMajor else { return pack(rowsOfGroup, k: k) }
                return tapMajor.reorderedWeights(rowsOfGroup, m: mg).withUnsafeBufferPointer { pack($0.baseAddress!, k: operandK) }
            }
            let r = Requantization(multiplier: rows.map { sx * qw.at($0).scale / sy }, bias: Array(bias[rows]),
                                   weightRowSums: packed.rowSums, weightZeroPoints: Array(weights.zeroPoints[rows]),
                                   inputZeroPoint: xzp, outputZeroPoint: qy.at(0).zeroPoint, range: qy.range, k: operandK)
            return (packed, r)
        } }
        let fused: [Int8FusedRequantization?] = perGroup.map { fusable ? Int8FusedRequantization($0.1) : nil }
        // A pointwise conv on byte groups (chunked or whole) or a tap-major conv interleaves its input's
        // byte image where the input's producer writes one (whole groups of channels, so the image is
        // never written). Whole: resnet50's layer1 1x1s out of 64 channels, whose producers (the 3x3s,
        // the max pool) then need not write their floats as well.
        let readsImage = tapMajor.map { _ in g.channels % tile.kStep == 0 } ?? Int8Patches.readsByteImage(g, tile: tile)
        let xBytes = readsImage ? byteImage(of: x, offset: offset) : nil
        let y = newTensor(outShape), scratch = int8Scratch
        // And writes its own output's byte image where a reader planned later asks (the tile's requantization),
        // and its floats only where some reader still reads those (Planner+ByteImages.swift). (On AVX2, the byte
        // image beside the floats had measured even: resnet50-qop, 1 thread, 10 rounds, summed 60.36 -> 60.33 ms.)
        let yBytes = fusable && !transposed ? offerByteImage(of: y, values: qy.range, floatsOptional: true) : nil
        let mode = transposed ? "transposed" : pointwise != nil ? "pointwise, chunked" : chunked != nil ? "tap-major, chunked"
            : tapMajor != nil ? "tap-major" : g.isPointwise ? "pointwise" : "patches"
        let kernel = "int8 \(tile.rawValue) \(mode)" + (tapMajor?.phased == true ? ", stride-2 phases" : "") + (fusable ? "" : ", requantized apart")
        emit(node, macs: xs[0] &* m &* plane &* k, integer: true, kernel: kernel, work: .qlinearConv(QLinearConvStep(
            x: x, y: y, xs: xs, g: g, m: m, mg: mg, group: group, perGroup: perGroup, fused: fused, tile: tile, layout: layout,
            tapMajor: tapMajor, chunked: chunked, pointwise: pointwise, offset: offset, xzp: xzp, xBytes: xBytes, yBytes: yBytes, scratch: scratch)))
        set(node, .tensor(id: y, shape: outShape))
    }

    /// QLinearMatMul (a [rows, K] · b [K, M]) and com.microsoft QGemm (transA 0; B [K, M]
    /// or, with transB, [M, K]; optional int32 bias C; float output without y_scale).
    func qlinearMatMul(_ node: Node) throws {
        let isGemm = node.opType == "QGemm"
        let (a, aShape) = try tensor(node, 0)
        guard case let .ints(bValues, bShape) = try value(node, 3) else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "\(node.opType) with B computed at run time")
        }
        guard aShape.count == 2, bShape.count == 2, (node.attribute("transA")?.int ?? 0) == 0 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "\(node.opType) of \(aShape) and \(bShape) (2-D, transA 0 only)")
        }
        let transB = isGemm && (node.attribute("transB")?.int ?? 0) != 0
        let (k, m) = transB ? (bShape[1], bShape[0]) : (bShape[0], bShape[1])
        let rows = aShape[0]
        guard aShape[1] == k, k <= Self.int8MaxK else { throw ExecError.shapeMismatch(node: node.name, detail: "A \(aShape) with B \(bShape)") }
        let qa = try quantization(node, scale: 1, zeroPoint: 2)
        let qb = try quantization(node, scale: 4, zeroPoint: 5, channels: m)
        let yScale = isGemm ? 7 : 6
        let floatOutput = isGemm && optionalValue(node, yScale) == nil
        let qy = floatOutput ? nil : try quantization(node, scale: yScale, zeroPoint: node.inputs.count > yScale + 1 ? yScale + 1 : nil)
        if let qy, !qy.isPerTensor || !(qy.range == .uint8 || qy.range == .int8) {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "output quantization (per-tensor uint8/int8 only)")
        }
        let (offset, azp) = try int8Activation(node, qa)
        // Weights as rows of the output: W[M, K] = B (transB) or Bᵀ.
        let rowsFirst = transB ? bValues : (0..<(m * k)).map { bValues[($0 % k) * m + $0 / k] }
        let weights = try int8Weights(node, rowsFirst, rows: m, k: k, quantization: qb, weight: node.inputs[3])
        let bias = isGemm ? try int32Bias(node, 6, count: m) : Array(repeating: 0, count: m)
        let alpha = isGemm ? node.attribute("alpha")?.float ?? 1 : 1
        // The multiplier carries alpha; a bias must not be scaled by it, so that case is refused rather than wrong.
        if alpha != 1, bias.contains(where: { $0 != 0 }) {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "QGemm with alpha \(alpha) and a bias")
        }
        let outShape = try outputShape(node)
        guard outShape == [rows, m] else { throw ExecError.shapeMismatch(node: node.name, detail: "output \(outShape)") }
        let tile = Int8Tile.forSet(kernels).forActivations(zeroPoint: azp)
        // One row (a classifier at batch 1, as every image's plan of a batch run image by image has it) on
        // AVX2: a GEMV over the weights as they stand (Int8Gemv), not tiles with one column of 16 real.
        let gemv = rows == 1 && (tile == .avx2 || tile == .avx2Bytes)
        let layout = Int8BLayout(k: k, n: rows, tile: tile)
        // A classifier at batch 1 (one row) runs transposed on VNNI: 1 of 6 rows of each tile real, not 1 of 32 columns.
        let transposed = tile == .vnni && m >= PackedInt8ChannelWeights.panelChannels && Self.int8RunsTransposed(plane: rows, m: m, k: k)
        let (sums, sumsOverflow) = m.multipliedReportingOverflow(by: rows)
        guard !sumsOverflow, !(transposed && sums.multipliedReportingOverflow(by: 2).overflow) else {
            throw ExecError.overBudget(what: "int32 sums of '\(node.name)'", bytes: nil, budget: budget.bytes)
        }
        try reserveInt8Scratch(node, plane: k * rows, layout: layout, accumulators: transposed ? 2 * sums : sums)
        let weightBytes = gemv ? m * k : ((m + 31) / 32 * 32) * ((k + 3) / 4 * 4 * 2 + 16)
        try chargeConstant(elements: weightBytes, elementSize: 1, what: "\(gemv ? "" : "packed ")int8 weights of '\(node.name)'")
        // The GEMV reads the weights' rows as they stand; the tiles, packed.
        let values = gemv ? weights.values : []
        let packed: Int8ProductWeights? = gemv ? nil : weights.values.withUnsafeBufferPointer {
            transposed ? .channels(PackedInt8ChannelWeights(weights: $0.baseAddress!, m: m, k: k))
                : .rows(PackedInt8Weights(weights: $0.baseAddress!, m: m, k: k, tile: tile))
        }
        let rowSums = packed?.rowSums ?? (0..<m).map { j in (0..<k).reduce(Int32(0)) { $0 &+ Int32(values[j * k + $1]) } }
        let sa = qa.at(0).scale
        // Float output: the requantization's arithmetic with y_scale 1 and no rounding, done below.
        let requantize = Requantization(multiplier: (0..<m).map { alpha * sa * qb.at($0).scale / (qy?.at(0).scale ?? 1) }, bias: bias,
                                        weightRowSums: rowSums, weightZeroPoints: weights.zeroPoints, inputZeroPoint: azp,
                                        outputZeroPoint: qy?.at(0).zeroPoint ?? 0, range: qy?.range ?? .uint8, k: k)
        let y = newTensor(outShape), scratch = int8Scratch
        emit(node, macs: rows &* m &* k, integer: true,
            kernel: "int8 \(tile.rawValue) " + (gemv ? "gemv" : transposed ? "transposed" : "gemm"), work: .qlinearMatMul(QLinearMatMulStep(
            a: a, y: y, rows: rows, k: k, m: m, offset: offset, azp: azp, layout: layout, packed: packed, values: values,
            requantize: requantize, floatOutput: floatOutput, scratch: scratch)))
        set(node, .tensor(id: y, shape: outShape))
    }
}

extension Planner {
    /// Whether a tap-major conv runs chunk by chunk: where its whole operand B would outgrow this
    /// Zen 5's 1 MB L2 (resnet50's stem, 2.4 MB; layer1's 3x3s, 1.8 MB). resnet50-qop, 8 interleaved
    /// rounds against the whole operand: the stem 1.27 -> 0.83 ms on 1 thread and 0.76 -> 0.50 on 2,
    /// layer1's 3x3s 0.50-0.55 -> 0.46-0.48 and 0.42-0.43 -> 0.28-0.29. At 0.9 MB (layer2's 3x3s) the
    /// minima were 2-15% worse on 1 thread; at 0.45 MB (layer3's, two chunks of 8 and 6 of 14 rows)
    /// 5-15% slower on 2 threads.
    static func int8RunsChunked(operandBytes: Int) -> Bool { operandBytes > 4 * Int8ChunkedConv.chunkBytes }

    /// Whether a pointwise conv on VNNI runs chunk by chunk: unless it has 64 input channels or fewer
    /// (its operand is small, and with 2^18 outputs and more the whole operand's row-panel-first
    /// order writes them in order). resnet50-qop, 8 interleaved rounds against the whole operand,
    /// medians: layer4's 512>2048 1x1s 0.28-0.29 -> 0.19-0.21 ms on 1 thread and 0.15-0.17 -> 0.10
    /// on 2; layer3's 256>1024 0.18-0.24 -> 0.17-0.21 and 0.10-0.13 -> 0.09-0.11; layer2's first
    /// (256>128 at 56x56) 0.50 -> 0.44 and 0.24 -> 0.21; layer1's first 64>256 0.42 -> 0.59 on 1
    /// thread and 0.23 -> 0.31 on 2, hence the limit.
    /// AVX2 on bytes (Zen 3's 512 KB L2) only where the whole operand would pass 256 KiB as well:
    /// resnet50-qop, 1 thread, 8 rounds against the whole operand, medians: layer1's 256>64 1x1s
    /// (800 KB) 0.91-0.94 -> 0.78 ms chunked, but layer2's 128>512 (100 KB) 0.75-0.86 -> 0.96-1.10.
    static func int8PointwiseChunked(channels: Int, positions: Int, tile: Int8Tile) -> Bool {
        let (operandBytes, overflow) = channels.multipliedReportingOverflow(by: positions)
        return channels > 64 && (tile != .avx2Bytes || overflow || operandBytes > 1 << 18)
    }

    /// Whether a conv of `plane` output positions, M output channels and depth K runs transposed
    /// on the VNNI tile (Int8Gemm.gemmTransposed): where 32-column panels fill less than 80% of
    /// the plain tile (resnet50's layer4: 49 positions, 77%; transposed 91%) and K is at least
    /// twice M. resnet50-qop, interleaved rounds, 1 thread: layer4's 3x3s (K 4608, M 512)
    /// 0.65-0.70 -> 0.55-0.57 ms, its 2048>512 1x1s 0.28 -> 0.25; but its 512>2048 1x1s and
    /// downsample (M 2048) 0.29 -> 0.42 and 0.63 -> 0.70 (written back a channel at a time; sixteen
    /// at a time, 6 rounds, minima: 0.311-0.313 -> 0.330-0.359 and 0.608 -> 0.646, still slower), and
    /// at 196 positions (88% filled) layer3's 1x1s 0.195 -> 0.22 with its 3x3s within noise; again
    /// with the seven-row tile (28 full panels) and the blocked write-back (8 rounds, minima): its
    /// 3x3s 0.551 -> 0.565 ms, its 1024>256 1x1s 0.247 -> 0.268, layer3.0.conv2 0.567 -> 0.608.
    static func int8RunsTransposed(plane: Int, m: Int, k: Int) -> Bool {
        guard plane > 0 else { return false }
        let columns = (plane + 31) / 32 * 32
        return plane * 5 < columns * 4 && k / 2 >= m
    }
}
