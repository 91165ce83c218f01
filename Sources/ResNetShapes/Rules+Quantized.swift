import ResNetIR

/// Quantization: QuantizeLinear/DequantizeLinear (ONNX opsets 10-21), QLinearConv, QLinearMatMul,
/// ConvInteger, MatMulInteger, and the com.microsoft operators onnxruntime's quantizer writes
/// (QLinearAdd/Mul, QLinearGlobalAveragePool, QLinearAveragePool, QGemm, QLinearConcat,
/// QLinearLeakyRelu, QLinearSigmoid). Each quantized operator's shapes are its float twin's: the
/// rule runs that twin's rule on the data operands, so the spatial arithmetic exists once. Scales and
/// zero points are checked (type, rank, per-channel length and axis) with their own fault tags.
extension ShapeRules {
    static let scaleTypes: Set<Int32> = [DataType.float.rawValue, DataType.float16.rawValue, DataType.bfloat16.rawValue]
    /// 8-bit zero points: what the QLinear* operators take.
    static let eightBit: Set<Int32> = [DataType.uint8.rawValue, DataType.int8.rawValue]
    /// What QuantizeLinear/DequantizeLinear take up to opset 21: 8- and 16-bit integers, the four FLOAT8 types
    /// (opset 19) and 4-bit (int4/uint4, opset 21).
    static let linearZeroPoints: Set<Int32> = eightBit.union([DataType.uint16.rawValue, DataType.int16.rawValue, 17, 18, 19, 20, 21, 22])

    /// How a scale applies: to the whole tensor, or one value per channel along `axis`.
    public enum QuantizationGranularity: Sendable, Equatable {
        case perTensor
        case perChannel(axis: Int, channels: Int64)
    }

    /// Checks a (scale, zero point) pair at inputs `scale` and `zeroPoint` (nil or absent: none) for the
    /// tensor `data` (its shape, when known). `axis`: the per-channel axis when a 1-D scale is allowed.
    /// `zeroPointTypes`: element types the zero point may have.
    @discardableResult
    static func checkQuantParams(_ c: NodeContext, scale: Int, zeroPoint: Int?, data: SShape?, axis: Int64?,
                                 zeroPointTypes: Set<Int32> = eightBit, what: String) throws -> QuantizationGranularity {
        let scaleName = "input \(scale) (\(what) scale)"
        var granularity = QuantizationGranularity.perTensor
        let s = c.input(scale)
        if let t = s?.elemType, t != 0, !scaleTypes.contains(t) {
            throw ShapeError.quantization(.scaleType, "the \(what) scale is \(typeName(t))", attribute: scaleName,
                                          expected: "FLOAT, FLOAT16 or BFLOAT16", actual: typeName(t))
        }
        if let shape = s?.shape {
            let scalar = shape.isEmpty || (shape.count == 1 && shape[0] == .known(1))
            if !scalar {
                guard shape.count == 1, let axis else {
                    throw ShapeError.quantization(.scaleShape, "the \(what) scale has shape \(describe(shape))", attribute: scaleName,
                                                  expected: axis == nil ? "a scalar (per-tensor)" : "a scalar or 1-D (per-channel)", actual: describe(shape))
                }
                if let data {
                    let r = Int64(data.count)
                    guard axis >= -r && axis < r else {
                        throw ShapeError.quantization(.axis, "per-channel axis \(axis) is out of range for the \(what) tensor \(describe(data))",
                                                      attribute: "axis", expected: "\(-r)...\(r - 1)", actual: String(axis))
                    }
                    let a = Int(axis < 0 ? axis + r : axis)
                    if case let (.known(n), .known(ch)) = (shape[0], data[a]), n != ch {
                        throw ShapeError.quantization(.scaleShape, "the \(what) scale has \(n) values for \(ch) channels on axis \(a)",
                                                      attribute: scaleName, expected: "[\(ch)] (or a scalar)", actual: describe(shape))
                    }
                    granularity = .perChannel(axis: a, channels: shape[0].value ?? 0)
                } else {
                    granularity = .perChannel(axis: Int(truncatingIfNeeded: axis), channels: shape[0].value ?? 0)
                }
            }
        }
        guard let zeroPoint, c.has(zeroPoint), let z = c.input(zeroPoint) else { return granularity }
        let zpName = "input \(zeroPoint) (\(what) zero point)"
        if z.elemType != 0, !zeroPointTypes.contains(z.elemType) {
            throw ShapeError.quantization(.zeroPointType, "the \(what) zero point is \(typeName(z.elemType))", attribute: zpName,
                                          expected: zeroPointTypes.sorted().map(typeName).joined(separator: ", "), actual: typeName(z.elemType))
        }
        if let zs = z.shape, let ss = s?.shape, zs != ss, !(isOneValue(zs) && isOneValue(ss)) {
            throw ShapeError.quantization(.zeroPointShape, "the \(what) zero point has shape \(describe(zs)) but its scale \(describe(ss))",
                                          attribute: zpName, expected: describe(ss), actual: describe(zs))
        }
        return granularity
    }

    static func isOneValue(_ s: SShape) -> Bool { s.isEmpty || (s.count == 1 && s[0] == .known(1)) }

    static func typeName(_ t: Int32) -> String { DataType(rawValue: t)?.description ?? "type \(t)" }

    /// The per-channel axis of QuantizeLinear/DequantizeLinear (opset 13+; block_size, opset 21, is refused).
    static func linearAxis(_ c: NodeContext) throws -> Int64? {
        if try c.int("block_size", 0) != 0 {
            throw ShapeError.unsupported("\(c.node.opType) with block_size (blocked quantization) is not supported")
        }
        return c.opset >= 13 || c.node.domain == "com.microsoft" ? try c.int("axis", 1) : nil
    }

    /// QuantizeLinear: y = saturate(round(x / scale) + zero_point); y has x's shape and the zero point's type
    /// (opset 21's output_dtype when there is none; uint8 by default).
    static func quantizeLinear(_ c: NodeContext) throws -> ValueFacts {
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: c.shape(0), axis: try linearAxis(c),
                             zeroPointTypes: linearZeroPoints, what: "output")
        var out = DataType.uint8.rawValue
        if c.has(2), let z = c.input(2)?.elemType, z != 0 { out = z }
        else if let given = try c.int("output_dtype", 0, in: 0...Int64(Int32.max)).nonZero { out = Int32(given) }
        return ValueFacts(elemType: out, shape: c.shape(0))
    }

    /// DequantizeLinear: y = (x - zero_point) * scale; y has x's shape and the scale's type (float).
    static func dequantizeLinear(_ c: NodeContext) throws -> ValueFacts {
        var zeroPoints = linearZeroPoints
        zeroPoints.insert(DataType.int32.rawValue)  // an int32 bias
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: c.shape(0), axis: try linearAxis(c),
                             zeroPointTypes: zeroPoints, what: "input")
        let scaleType = c.input(1)?.elemType ?? 0
        return ValueFacts(elemType: scaleType == 0 ? DataType.float.rawValue : scaleType, shape: c.shape(0))
    }

    /// QLinearConv (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B): Conv's shapes for (x, w, B);
    /// the weight's scale may be per output channel; y has y_zp's type.
    static func qlinearConv(_ c: NodeContext) throws -> ValueFacts {
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: nil, axis: nil, what: "input")
        try checkQuantParams(c, scale: 4, zeroPoint: 5, data: c.shape(3), axis: 0, what: "weight")
        try checkQuantParams(c, scale: 6, zeroPoint: 7, data: nil, axis: nil, what: "output")
        let facts = try conv(c.twin("Conv", inputs: [0, 3, 8]))
        return ValueFacts(elemType: outputType(c, zeroPoint: 7, fallback: c.elemType), shape: facts.shape)
    }

    /// ConvInteger (x, w, x_zp, w_zp): Conv's shapes; int32 out.
    static func convInteger(_ c: NodeContext) throws -> ValueFacts {
        let facts = try conv(c.twin("Conv", inputs: [0, 1]))
        return ValueFacts(elemType: DataType.int32.rawValue, shape: facts.shape)
    }

    /// QLinearMatMul (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp): MatMul's shapes.
    static func qlinearMatMul(_ c: NodeContext) throws -> ValueFacts {
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: c.shape(0).map { [$0.count > 1 ? $0[$0.count - 2] : .unknown] }, axis: 0, what: "A")
        try checkQuantParams(c, scale: 4, zeroPoint: 5, data: c.shape(3).map { [$0.last ?? .unknown] }, axis: 0, what: "B")
        try checkQuantParams(c, scale: 6, zeroPoint: 7, data: nil, axis: nil, what: "output")
        let facts = try matmul(c.twin("MatMul", inputs: [0, 3]))
        return ValueFacts(elemType: outputType(c, zeroPoint: 7, fallback: c.elemType), shape: facts.shape)
    }

    /// MatMulInteger (A, B, a_zp, b_zp): MatMul's shapes; int32 out.
    static func matMulInteger(_ c: NodeContext) throws -> ValueFacts {
        let facts = try matmul(c.twin("MatMul", inputs: [0, 1]))
        return ValueFacts(elemType: DataType.int32.rawValue, shape: facts.shape)
    }

    /// com.microsoft QGemm (A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp): Gemm's shapes for (A, B, C);
    /// without y_scale the output is float.
    static func qgemm(_ c: NodeContext) throws -> ValueFacts {
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: nil, axis: nil, what: "A")
        let transB = try c.bool("transB", false)
        try checkQuantParams(c, scale: 4, zeroPoint: 5, data: c.shape(3), axis: transB ? 0 : 1, what: "B")
        if c.has(7) { try checkQuantParams(c, scale: 7, zeroPoint: 8, data: nil, axis: nil, what: "output") }
        let facts = try gemm(c.twin("Gemm", inputs: [0, 3, 6]))
        let out = c.has(7) ? outputType(c, zeroPoint: 8, fallback: c.elemType) : DataType.float.rawValue
        return ValueFacts(elemType: out, shape: facts.shape)
    }

    /// com.microsoft QLinearAdd/QLinearMul (A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp): broadcast like Add.
    static func qlinearBinary(_ c: NodeContext) throws -> ValueFacts {
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: nil, axis: nil, what: "A")
        try checkQuantParams(c, scale: 4, zeroPoint: 5, data: nil, axis: nil, what: "B")
        try checkQuantParams(c, scale: 6, zeroPoint: 7, data: nil, axis: nil, what: "output")
        let facts = try elementwise(c.twin(c.node.opType == "QLinearAdd" ? "Add" : "Mul", inputs: [0, 3]))
        return ValueFacts(elemType: c.elemType, shape: facts.shape)
    }

    /// com.microsoft QLinearLeakyRelu/QLinearSigmoid (X, X_scale, X_zp, Y_scale, Y_zp): X's shape.
    static func qlinearUnary(_ c: NodeContext) throws -> ValueFacts {
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: nil, axis: nil, what: "input")
        try checkQuantParams(c, scale: 3, zeroPoint: 4, data: nil, axis: nil, what: "output")
        return ValueFacts(elemType: c.elemType, shape: c.shape(0))
    }

    /// com.microsoft QLinearGlobalAveragePool (X, x_scale, x_zp, y_scale, y_zp): GlobalAveragePool's
    /// shapes, in NHWC order when channels_last.
    static func qlinearGlobalAveragePool(_ c: NodeContext) throws -> ValueFacts {
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: nil, axis: nil, what: "input")
        try checkQuantParams(c, scale: 3, zeroPoint: 4, data: nil, axis: nil, what: "output")
        let channelsLast = try c.bool("channels_last", false)
        let twin = try c.twin("GlobalAveragePool", inputs: [0], channelsLast: channelsLast)
        return ValueFacts(elemType: c.elemType, shape: fromChannelsFirst(try globalPool(twin).shape, channelsLast))
    }

    /// com.microsoft QLinearAveragePool (X, x_scale, x_zp, y_scale, y_zp): AveragePool's shapes and attributes.
    static func qlinearAveragePool(_ c: NodeContext) throws -> ValueFacts {
        try checkQuantParams(c, scale: 1, zeroPoint: 2, data: nil, axis: nil, what: "input")
        try checkQuantParams(c, scale: 3, zeroPoint: 4, data: nil, axis: nil, what: "output")
        let channelsLast = try c.bool("channels_last", false)
        let twin = try c.twin("AveragePool", inputs: [0], channelsLast: channelsLast)
        return ValueFacts(elemType: c.elemType, shape: fromChannelsFirst(try pool(twin).first?.shape, channelsLast))
    }

    /// com.microsoft QLinearConcat (Y_scale, Y_zp, then (tensor, scale, zp) per input): Concat's shapes.
    static func qlinearConcat(_ c: NodeContext) throws -> ValueFacts {
        let n = c.node.inputs.count
        guard n >= 5, (n - 2) % 3 == 0 else {
            throw ShapeError.invalid("QLinearConcat takes the output scale and zero point, then (tensor, scale, zero point) triples",
                                     expected: "2 + 3k inputs", actual: "\(n) inputs")
        }
        try checkQuantParams(c, scale: 0, zeroPoint: 1, data: nil, axis: nil, what: "output")
        let tensors = Array(stride(from: 2, to: n, by: 3))
        for (k, t) in tensors.enumerated() {
            if c.node.inputs[t].isEmpty || c.node.inputs[t + 1].isEmpty {
                throw ShapeError.invalid("input \(k)'s tensor or scale is not given", attribute: "input \(t)", expected: "a value name", actual: "\"\"")
            }
            try checkQuantParams(c, scale: t + 1, zeroPoint: t + 2, data: nil, axis: nil, what: "input \(k)")
        }
        let facts = try concat(c.twin("Concat", inputs: tensors))
        return ValueFacts(elemType: c.input(2)?.elemType ?? 0, shape: facts.shape)
    }

    /// The zero point's type when it is given and known, else `fallback`.
    static func outputType(_ c: NodeContext, zeroPoint: Int, fallback: Int32) -> Int32 {
        if c.has(zeroPoint), let t = c.input(zeroPoint)?.elemType, t != 0 { return t }
        return fallback == 0 ? DataType.uint8.rawValue : fallback
    }

    /// [N, C, spatial...] back to [N, spatial..., C] when the operator works channels-last.
    static func fromChannelsFirst(_ s: SShape?, _ channelsLast: Bool) -> SShape? {
        guard channelsLast, let s, s.count >= 3 else { return s }
        return [s[0]] + Array(s.dropFirst(2)) + [s[1]]
    }
}

extension NodeContext {
    /// The float operator a quantized one computes, over its data operands `inputs` (indices into this
    /// node's inputs; absent ones stay absent), with the same attributes. Folded values are dropped:
    /// quantized integers are not the numbers they stand for. `channelsLast` moves an NHWC input's
    /// last dim to position 1, so the twin sees NCHW.
    func twin(_ opType: String, inputs indices: [Int], channelsLast: Bool = false) throws -> NodeContext {
        let names = indices.map { $0 < node.inputs.count ? node.inputs[$0] : "" }
        let facts: [ValueFacts?] = indices.map { i in
            guard var f = input(i), has(i) else { return nil }
            f.values = nil
            if channelsLast, let s = f.shape, s.count >= 3 { f.shape = [s[0], s[s.count - 1]] + Array(s[1..<(s.count - 1)]) }
            return f
        }
        let attributes = node.attributes.filter { $0.name != "channels_last" }
        let n = Node(name: node.name, opType: opType, inputs: names, outputs: node.outputs, attributes: attributes)
        return NodeContext(node: n, inputs: facts, opset: opset)
    }
}

extension Int64 {
    /// nil for 0 (an attribute left at its default).
    var nonZero: Int64? { self == 0 ? nil : self }
}
