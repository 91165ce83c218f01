import ResNetKernelsInt8
import ResNetIR
import ResNetKernelsReference
import ResNetShapes

/// Quantized operators (issue 13), QDQ and QOperator formats. Quantized tensors are
/// float-coded integers (Int8Reference.swift says why), so layout operators need
/// nothing new; these steps quantize, dequantize and requantize exactly as ONNX
/// specifies (round half to even, saturate), in float32 as onnxruntime does.
/// QLinearConv, QLinearMatMul and QGemm are in Planner+QLinearConv.swift.
extension Planner {
    /// The com.microsoft operators onnxruntime's quantizer writes that the executor runs.
    static var microsoftOps: Set<String> {
        ["QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool", "QLinearAveragePool", "QGemm", "QLinearConcat",
         "QLinearLeakyRelu", "QLinearSigmoid"]
    }

    /// A scale and zero point pair, per tensor (one value) or per channel along `axis`.
    struct Quantization {
        let scales: [Float]
        let zeroPoints: [Float]
        let range: QuantizedRange
        /// The 8-bit element type the zero point names (uint8 without one, as ONNX defaults).
        let elementType: DataType

        var isPerTensor: Bool { scales.count == 1 }
        /// Channel c's (scale, zero point); per-tensor values for every c.
        func at(_ c: Int) -> (scale: Float, zeroPoint: Float) { isPerTensor ? (scales[0], zeroPoints[0]) : (scales[c], zeroPoints[c]) }
    }

    /// Reads inputs `scale` and `zeroPoint` of `node`: the scale a positive finite float
    /// constant, scalar or 1-D; the zero point (optional) an int8/uint8 constant of the
    /// scale's length; `channels` (when given) the axis length a 1-D scale must match.
    func quantization(_ node: Node, scale s: Int, zeroPoint z: Int?, channels: Int? = nil, defaultType: DataType = .uint8) throws -> Quantization {
        let (sc, shape) = try floats(node, s)
        let scales = sc.array
        guard shape.count <= 1, !scales.isEmpty else {
            throw ExecError.invalidModel(node: node.name, detail: "\(node.opType) scale '\(node.inputs[s])' has shape \(shape); expected a scalar or 1-D")
        }
        if let bad = scales.first(where: { !($0.isFinite && $0 > 0) }) {
            throw ExecError.invalidModel(node: node.name, detail: "\(node.opType) scale '\(node.inputs[s])' holds \(bad); expected positive finite values")
        }
        if scales.count > 1, let channels, scales.count != channels {
            throw ExecError.invalidModel(node: node.name, detail: "\(node.opType) scale '\(node.inputs[s])' has \(scales.count) values for \(channels) channels")
        }
        guard let z, optionalValue(node, z) != nil else {
            // No zero point: 0 of the default type (uint8, or what output_dtype / the quantized input says).
            let range: QuantizedRange
            switch defaultType {
            case .uint8: range = .uint8
            case .int8: range = .int8
            case .int32: range = QuantizedRange(lo: -2_147_483_648, hi: 2_147_483_647)
            default: throw ExecError.unsupportedDataType(node: node.name, value: node.outputs.first ?? "", dataType: defaultType.description)
            }
            return Quantization(scales: scales, zeroPoints: Array(repeating: 0, count: scales.count), range: range, elementType: defaultType)
        }
        guard case let .ints(values, _) = try value(node, z) else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "zero point '\(node.inputs[z])' is not a constant integer tensor")
        }
        let type = DataType(rawValue: facts[node.inputs[z]]?.elemType ?? 0)
        let range: QuantizedRange
        switch type {
        case .uint8?: range = .uint8
        case .int8?: range = .int8
        case .int32?: range = QuantizedRange(lo: -2_147_483_648, hi: 2_147_483_647)
        default:
            throw ExecError.unsupportedDataType(node: node.name, value: node.inputs[z], dataType: type?.description ?? "an unknown type")
        }
        guard values.count == scales.count else {
            throw ExecError.invalidModel(node: node.name, detail: "\(node.opType) zero point '\(node.inputs[z])' has \(values.count) values, its scale \(scales.count)")
        }
        if let bad = values.first(where: { Float($0) < range.lo || Float($0) > range.hi }) {
            throw ExecError.invalidModel(node: node.name, detail: "zero point \(bad) outside \(type?.description ?? "")")
        }
        return Quantization(scales: scales, zeroPoints: values.map { Float($0) }, range: range, elementType: type ?? .uint8)
    }

    /// The axis QuantizeLinear/DequantizeLinear apply a 1-D scale along, resolved against the
    /// rank; a single scale (per tensor) ignores `axis`, as ONNX says, and gets 0.
    func quantizationAxis(_ node: Node, rank: Int) throws -> Int {
        if (try? value(node, 1).shape.reduce(1, *)) ?? 1 <= 1 { return 0 }
        let axis = Int(node.attribute("axis")?.int ?? 1)
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0, resolved < max(rank, 1) else {
            throw ExecError.invalidModel(node: node.name, detail: "axis \(axis) outside rank \(rank)")
        }
        return resolved
    }

    /// (outer, channels, inner) of `shape` around `axis`: channel c's elements are
    /// o * channels * inner + c * inner + i.
    func split(_ shape: [Int], axis: Int) -> (outer: Int, channels: Int, inner: Int) {
        guard !shape.isEmpty else { return (1, 1, 1) }
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    func quantizeLinear(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let axis = try quantizationAxis(node, rank: xs.count)
        let (outer, channels, inner) = split(xs, axis: axis)
        // Without a zero point the output type is output_dtype's (opset 21), else uint8.
        let declared = node.attribute("output_dtype")?.int.flatMap { Int32(exactly: $0) }.flatMap(DataType.init(rawValue:))
        let q = try quantization(node, scale: 1, zeroPoint: node.inputs.count > 2 ? 2 : nil, channels: channels,
                                 defaultType: declared ?? .uint8)
        if let declared, declared != q.elementType {
            throw ExecError.invalidModel(node: node.name, detail: "output_dtype \(declared) differs from the zero point's \(q.elementType)")
        }
        if node.attribute("block_size")?.int ?? 0 != 0 {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "blocked quantization (block_size)")
        }
        let y = newTensor(xs)
        // Float32 plans on SIMD kernels quantize 8 at a time (the same arithmetic: Int8Elementwise).
        let vector = T.self == Float.self && simd
        emit(node, work: .quantizeLinear(QuantizeLinearStep(x: x, y: y, outer: outer, channels: channels, inner: inner, q: q, vector: vector)))
        set(node, .tensor(id: y, shape: xs))
    }

    func dequantizeLinear(_ node: Node) throws {
        let shape = try value(node, 0).shape
        let axis = try quantizationAxis(node, rank: shape.count)
        let (outer, channels, inner) = split(shape, axis: axis)
        let inputType = DataType(rawValue: facts[node.inputs[0]]?.elemType ?? 0) ?? .uint8
        let q = try quantization(node, scale: 1, zeroPoint: node.inputs.count > 2 ? 2 : nil, channels: channels,
                                 defaultType: [.int8, .int32].contains(inputType) ? inputType : .uint8)
        // Constant input (weights, biases): dequantized once, here. (x - zp) is exact in Int64; one rounding by the scale.
        if case let .ints(values, _) = try value(node, 0) {
            var out = [Float](repeating: 0, count: values.count)
            for o in 0..<outer { for c in 0..<channels {
                let (scale, zp) = q.at(c), base = (o * channels + c) * inner
                for i in 0..<inner { out[base + i] = Float(values[base + i] - Int64(zp)) * scale }
            } }
            set(node, .floats(FloatConstant(values: out), shape: shape))
            return
        }
        let (x, xs) = try tensor(node, 0)
        let y = newTensor(xs)
        // Float32 plans on SIMD kernels dequantize 8 at a time (the same arithmetic: Int8Elementwise).
        let vector = T.self == Float.self && simd
        emit(node, work: .dequantizeLinear(DequantizeLinearStep(x: x, y: y, outer: outer, channels: channels, inner: inner, q: q, vector: vector)))
        set(node, .tensor(id: y, shape: xs))
    }

    /// com.microsoft QLinearAdd / QLinearMul: C = saturate(round(f(dq(A), dq(B)) / c_scale) + c_zp),
    /// per-tensor parameters; B the same shape as A or a single value.
    func qlinearBinary(_ node: Node) throws {
        let (a, shape) = try tensor(node, 0)
        let (b, bs) = try tensor(node, 3)
        let qa = try quantization(node, scale: 1, zeroPoint: 2), qb = try quantization(node, scale: 4, zeroPoint: 5)
        let qc = try quantization(node, scale: 6, zeroPoint: node.inputs.count > 7 ? 7 : nil)
        guard [qa, qb, qc].allSatisfy(\.isPerTensor) else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "per-channel scales on \(node.opType)")
        }
        let count = shape.reduce(1, *), bCount = bs.reduce(1, *)
        guard bs == shape || bCount == 1 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "\(node.opType) of \(shape) and \(bs) (only equal shapes or a scalar B)")
        }
        let outShape = try outputShape(node)
        guard outShape == shape else { throw ExecError.shapeMismatch(node: node.name, detail: "output \(outShape) for inputs \(shape)") }
        let y = newTensor(shape), isAdd = node.opType == "QLinearAdd"
        let (sa, za) = qa.at(0), (sb, zb) = qb.at(0), (sc, zc) = qc.at(0)
        // onnxruntime's arithmetic (MLAS), so results round alike. Add: the zero points folded into one
        // constant, two fused multiply-adds on the raw values (B's first), one rounding:
        // round(fma(a, sa/sc, fma(b, sb/sc, zc - (sa/sc·za + sb/sc·zb)))). The centred form
        // ((a - za)·ra + (b - zb)·rb + zc) rounds otherwise near halves (resnet18 QOperator layer3.1's
        // join; this order matched onnxruntime on every join of 4 seeded batches of 8, the others did not).
        // Mul: (a - za)·(b - zb)·(sa·sb/sc).
        let ratioA = sa / sc, ratioB = sb / sc, ratioMul = sa * sb / sc
        let fixed = zc - (ratioA * za + ratioB * zb)
        let vector = isAdd && simd && T.self == Float.self
        let threads = max(1, min(packedWorkspace.threads, count / 4096))
        // The AVX2 kernel reads an operand's byte image where its producer offers one (another join's
        // result, or a conv's), at the offset an int8 conv reads that type with (uint8 0, int8
        // 128), and writes its results as bytes too where a reader planned later asks for them; where
        // every reader takes those (floatReads), only them. resnet's joins read 4 bytes a value of each
        // operand and wrote 4 + 1 (layer1's, 800K values, 0.32-0.35 ms on one Zen 3 core).
        func byteOperand(_ tensor: Int, _ q: Quantization) -> (id: Int, offset: Int)? {
            guard vector, let offset = try? int8Activation(node, q).offset else { return nil }
            return byteImage(of: tensor, offset: offset, exact: true).map { ($0, offset) }
        }
        // (A B of one value is read as the scalar it then is: float-coded.)
        let aBytes = byteOperand(a, qa), bBytes = bCount == count && bCount != 1 ? byteOperand(b, qb) : nil
        let image = vector ? offerByteImage(of: y, values: qc.range, floatsOptional: true) : nil
        // An AVX-512 plan (whose CPU has AVX-512 BW) runs the byte-to-byte joins 64 values a step.
        let wide = kernels == .avx512
        emit(node, work: .qlinearBinary(QLinearBinaryStep(a: a, b: b, y: y, count: count, bCount: bCount, threads: threads, isAdd: isAdd,
            vector: vector, wide: wide, aBytes: aBytes, bBytes: bBytes, image: image, za: za, zb: zb, zc: zc, ratioA: ratioA, ratioB: ratioB,
            ratioMul: ratioMul, fixed: fixed, qc: qc)))
        set(node, .tensor(id: y, shape: shape))
    }

    /// com.microsoft QLinearLeakyRelu / QLinearSigmoid: y = q(f(dq(x))), per-tensor.
    func qlinearActivation(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let qx = try quantization(node, scale: 1, zeroPoint: 2), qy = try quantization(node, scale: 3, zeroPoint: node.inputs.count > 4 ? 4 : nil)
        guard qx.isPerTensor, qy.isPerTensor, qx.range == .uint8 || qx.range == .int8 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "\(node.opType) of per-channel or non-8-bit input")
        }
        let alpha = node.attribute("alpha")?.float ?? 0.01, sigmoid = node.opType == "QLinearSigmoid"
        let (sx, zx) = qx.at(0), (sy, zy) = qy.at(0)
        // 256 possible inputs: a lookup table, built at plan time.
        let table: [Float] = (0..<256).map { i in
            let v = (Float(Int(qx.range.lo) + i) - zx) * sx
            let f = sigmoid ? 1 / (1 + Float.expOf(-v)) : (v < 0 ? alpha * v : v)
            return qy.range.quantize(f / sy, zeroPoint: zy)
        }
        let y = newTensor(xs), count = xs.reduce(1, *), lo = Int(qx.range.lo)
        emit(node, work: .qlinearActivation(QLinearActivationStep(x: x, y: y, count: count, lo: lo, table: table)))
        set(node, .tensor(id: y, shape: xs))
    }

    /// com.microsoft QLinearGlobalAveragePool (NCHW): the mean of (x - zp) per plane, requantized.
    func qlinearGlobalAveragePool(_ node: Node) throws {
        if node.attribute("channels_last")?.int ?? 0 != 0 {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "channels_last QLinearGlobalAveragePool")
        }
        let (x, xs) = try tensor(node, 0)
        let qx = try quantization(node, scale: 1, zeroPoint: 2), qy = try quantization(node, scale: 3, zeroPoint: node.inputs.count > 4 ? 4 : nil)
        guard xs.count >= 3, qx.isPerTensor, qy.isPerTensor else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "QLinearGlobalAveragePool of \(xs) (per-tensor, rank >= 3)")
        }
        let planes = xs[0] * xs[1], size = xs[2...].reduce(1, *)
        let outShape = try outputShape(node)
        let y = newTensor(outShape)
        let (sx, zx) = qx.at(0), (sy, zy) = qy.at(0)
        emit(node, work: .qlinearGlobalAveragePool(QLinearGlobalAveragePoolStep(x: x, y: y, planes: planes, size: size, sx: sx, zx: zx,
            sy: sy, zy: zy, qy: qy)))
        set(node, .tensor(id: y, shape: outShape))
    }

    /// com.microsoft QLinearAveragePool (NCHW): dequantize a plane, average-pool it with the
    /// float kernel, quantize; per-tensor parameters. Plane buffers are allocated here, once.
    func qlinearAveragePool(_ node: Node) throws {
        if node.attribute("channels_last")?.int ?? 0 != 0 {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "channels_last QLinearAveragePool")
        }
        let (x, xs) = try tensor(node, 0)
        let qx = try quantization(node, scale: 1, zeroPoint: 2), qy = try quantization(node, scale: 3, zeroPoint: node.inputs.count > 4 ? 4 : nil)
        guard xs.count == 4, qx.isPerTensor, qy.isPerTensor, let kernel = node.attribute("kernel_shape")?.ints?.map({ Int($0) }), kernel.count == 2 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "QLinearAveragePool of \(xs) (2-D, per-tensor)")
        }
        let includePad = (node.attribute("count_include_pad")?.int ?? 0) != 0
        let pads = node.attribute("pads")?.ints ?? []
        if includePad && pads.count == 4 && (pads[0] != pads[2] || pads[1] != pads[3]) {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "count_include_pad with unequal pads")
        }
        let g = try convGeometry(node, input: xs, kernel: kernel, channels: xs[1])
        let outShape = try outputShape(node)
        guard outShape == [xs[0], xs[1], g.outH, g.outW] else { throw ExecError.shapeMismatch(node: node.name, detail: "output \(outShape)") }
        let inPlane = g.height * g.width, outPlane = g.outH * g.outW, planes = xs[0] * xs[1]
        try budget.check(elements: inPlane + outPlane, what: "plane buffers of '\(node.name)'")
        planeBufferBytes += 4 * (inPlane + outPlane)
        let y = newTensor(outShape)
        let (sx, zx) = qx.at(0), (sy, zy) = qy.at(0)
        let buffers = PlaneBuffers(input: inPlane, output: outPlane)
        emit(node, work: .qlinearAveragePool(QLinearAveragePoolStep(x: x, y: y, planes: planes, inPlane: inPlane, outPlane: outPlane, g: g,
            includePad: includePad, sx: sx, zx: zx, sy: sy, zy: zy, qy: qy, buffers: buffers)))
        set(node, .tensor(id: y, shape: outShape))
    }

    /// com.microsoft QLinearConcat: Y_scale, Y_zp, then (X, X_scale, X_zp) per input; each input requantized to Y's parameters.
    func qlinearConcat(_ node: Node) throws {
        let qy = try quantization(node, scale: 0, zeroPoint: 1)
        let inputs = (node.inputs.count - 2) / 3
        guard inputs >= 1, node.inputs.count == 2 + 3 * inputs, qy.isPerTensor else {
            throw ExecError.invalidModel(node: node.name, detail: "QLinearConcat has \(node.inputs.count) inputs; expected 2 + 3k")
        }
        let outShape = try outputShape(node)
        let axis = Int(node.attribute("axis")?.int ?? 0)
        let a = axis < 0 ? axis + outShape.count : axis
        guard a >= 0, a < outShape.count else { throw ExecError.invalidModel(node: node.name, detail: "axis \(axis) outside rank \(outShape.count)") }
        var parts: [(id: Int, width: Int, q: Quantization)] = []
        for k in 0..<inputs {
            let (x, xs) = try tensor(node, 2 + 3 * k)
            let q = try quantization(node, scale: 3 + 3 * k, zeroPoint: 4 + 3 * k)
            guard q.isPerTensor, xs.count == outShape.count else { throw ExecError.shapeMismatch(node: node.name, detail: "input \(k) \(xs)") }
            parts.append((x, xs[a], q))
        }
        let outer = outShape[..<a].reduce(1, *), inner = outShape[(a + 1)...].reduce(1, *), total = outShape[a]
        let y = newTensor(outShape)
        let (sy, zy) = qy.at(0)
        emit(node, work: .qlinearConcat(QLinearConcatStep(y: y, parts: parts, outer: outer, inner: inner, total: total, sy: sy, zy: zy, qy: qy)))
        set(node, .tensor(id: y, shape: outShape))
    }
}

/// One plane's float buffers for a quantized pool step, owned by the step.
final class PlaneBuffers: @unchecked Sendable {
    // @unchecked: used by one step, which runs on one thread at a time.
    let input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    init(input: Int, output: Int) {
        self.input = .allocate(capacity: max(input, 1))
        self.output = .allocate(capacity: max(output, 1))
    }
    deinit { input.deallocate(); output.deallocate() }
}
