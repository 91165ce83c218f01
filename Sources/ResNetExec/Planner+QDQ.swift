import ResNetIR

/// QDQ models run as onnxruntime runs them (issue 13): a float operator between
/// DequantizeLinear inputs and one QuantizeLinear output is the quantized operator
/// it stands for, on the integer kernels:
///
///     DQ(x), DQ(w int8), DQ(bias int32) -> Conv -> Q      => QLinearConv
///     DQ(a), DQ(b) -> Add -> Q                            => QLinearAdd
///     DQ(x) -> GlobalAveragePool -> Q                     => QLinearGlobalAveragePool
///     DQ(a), DQ(w int8), DQ(bias int32) -> Gemm -> Q      => QGemm
///     DQ(x) -> MaxPool -> Q, Q's scale and zero point x's => MaxPool on x itself
///
/// (The max pool: DQ is increasing for a positive scale, so the largest dequantized value is
/// the largest value's, and Q gives that value back exactly: |v - zp| <= 255 survives the
/// multiplication and division by one normal scale within half a step. onnxruntime drops
/// such a pair too; here the pool then reads its producer's bytes: Planner+ByteImages.swift.)
/// Everything else (Flatten between DQ and Q, a pool whose Q rescales) runs in float, where it is
/// exact. `--exact` keeps the graph as written: every DQ/Q pair in float32, as ONNX's
/// QDQ semantics read literally (which rounds differently from onnxruntime).
extension Planner {
    func findQDQGroups() {
        let consumers = index.consumers, producer = index.producer
        let outputs = Set(graph.outputs.map(\.name))
        func dq(_ value: String) -> Node? {
            guard let i = producer[value], graph.nodes[i].opType == "DequantizeLinear", graph.nodes[i].inputs.count >= 2 else { return nil }
            return graph.nodes[i]
        }
        /// (quantized input, scale, zero point) of a DQ output, "" for an omitted zero point.
        func triple(_ value: String) -> [String]? {
            guard let d = dq(value) else { return nil }
            return [d.inputs[0], d.inputs[1], d.inputs.count > 2 ? d.inputs[2] : ""]
        }
        func isConstant(_ value: String) -> Bool { facts[value]?.isConstant == true }
        /// A constant float tensor's values (scales), nil otherwise.
        func floatValues(_ name: String) -> [Float]? {
            guard case let .floats(c, _)? = values[name] else { return nil }
            return c.array
        }
        /// Whether a DQ (or Q) scales per tensor: one scale value.
        func perTensor(_ t: [String]) -> Bool { floatValues(t[1])?.count == 1 }
        /// Whether a weight DQ is per tensor or per channel along `axis` (the output channels).
        func weightAxisIs(_ value: String, _ axis: Int) -> Bool {
            guard let d = dq(value), let scales = floatValues(d.inputs[1]) else { return false }
            if scales.count == 1 { return true }
            let rank = facts[d.inputs[0]]?.shape?.count ?? 0
            let a = Int(d.attribute("axis")?.int ?? 1)
            return (a < 0 ? a + rank : a) == axis
        }
        /// A bias DQ onnxruntime folds into the integer sum: int32, zero point 0, scale = x_scale · w_scale.
        func foldableBias(_ b: [String], x: [String], w: [String]) -> Bool {
            guard DataType(rawValue: facts[b[0]]?.elemType ?? 0) == .int32, let bs = floatValues(b[1]),
                  let xs = floatValues(x[1]), xs.count == 1, let ws = floatValues(w[1]) else { return false }
            if !b[2].isEmpty {
                guard case let .ints(zp, _)? = values[b[2]], zp.allSatisfy({ $0 == 0 }) else { return false }
            }
            let expected = ws.map { xs[0] * $0 }
            guard bs.count == expected.count || (bs.count == 1 && expected.count == 1) else { return false }
            return zip(bs, expected).allSatisfy { abs($0 - $1) <= 2 * $1.ulp }
        }
        /// Whether a DQ's (x) and a Q's (y: scale, zero point) zero points are one value of one type ("" for an
        /// omitted one: 0 of uint8).
        func sameZeroPoint(_ x: [String], _ y: [String]) -> Bool {
            func typed(_ name: String, quantized: String?) -> (DataType?, [Int64])? {
                if name.isEmpty { return (quantized.flatMap { DataType(rawValue: facts[$0]?.elemType ?? 0) } ?? .uint8, [0]) }
                guard case let .ints(v, _)? = values[name] else { return nil }
                return (DataType(rawValue: facts[name]?.elemType ?? 0), v)
            }
            guard let (tx, vx) = typed(x[2], quantized: x[0]), let (ty, vy) = typed(y[1], quantized: nil) else { return false }
            return tx != nil && tx == ty && vx.count == 1 && vx == vy
        }
        for (i, n) in graph.nodes.enumerated() where !absorbed.contains(i) && (n.domain.isEmpty || n.domain == "ai.onnx") {
            guard let out = n.outputs.first, !out.isEmpty, !outputs.contains(out), let c = consumers[out], c.count == 1,
                  graph.nodes[c[0]].opType == "QuantizeLinear", !absorbed.contains(c[0]) else { continue }
            let q = graph.nodes[c[0]]
            guard q.inputs.count >= 2, let qOut = q.outputs.first, !qOut.isEmpty, floatValues(q.inputs[1])?.count == 1,
                  q.attribute("output_dtype") == nil else { continue }
            let y = [q.inputs[1], q.inputs.count > 2 ? q.inputs[2] : ""]
            var replacement: Node?
            switch n.opType {
            case "Conv":
                guard n.inputs.count >= 2, let x = triple(n.inputs[0]), let w = triple(n.inputs[1]), isConstant(w[0]), !isConstant(x[0]),
                      perTensor(x), weightAxisIs(n.inputs[1], 0) else { break }
                var inputs = x + w + y
                if n.inputs.count > 2, !n.inputs[2].isEmpty {
                    guard let b = triple(n.inputs[2]), isConstant(b[0]), foldableBias(b, x: x, w: w) else { break }
                    inputs.append(b[0])
                }
                replacement = Node(name: n.name, opType: "QLinearConv", inputs: inputs, outputs: [qOut], attributes: n.attributes)
            case "Add":
                guard n.inputs.count == 2, let a = triple(n.inputs[0]), let b = triple(n.inputs[1]), !isConstant(a[0]), !isConstant(b[0]),
                      perTensor(a), perTensor(b), let sa = facts[a[0]]?.shape, sa == facts[b[0]]?.shape else { break }
                replacement = Node(name: n.name, opType: "QLinearAdd", domain: "com.microsoft", inputs: a + b + y, outputs: [qOut])
            case "GlobalAveragePool":
                guard let x = triple(n.inputs.first ?? ""), !isConstant(x[0]), perTensor(x) else { break }
                replacement = Node(name: n.name, opType: "QLinearGlobalAveragePool", domain: "com.microsoft", inputs: x + y, outputs: [qOut])
            case "Gemm":
                let transB = (n.attribute("transB")?.int ?? 0) != 0
                guard n.inputs.count >= 2, (n.attribute("beta")?.float ?? 1) == 1, (n.attribute("alpha")?.float ?? 1) == 1,
                      (n.attribute("transA")?.int ?? 0) == 0, let a = triple(n.inputs[0]), let w = triple(n.inputs[1]),
                      isConstant(w[0]), !isConstant(a[0]), perTensor(a), weightAxisIs(n.inputs[1], transB ? 0 : 1) else { break }
                var bias = ""
                if n.inputs.count > 2, !n.inputs[2].isEmpty {
                    // The bias must be one int32 per output (not broadcast from [1]).
                    let outputs = facts[w[0]]?.shape.flatMap { $0.count == 2 ? $0[transB ? 0 : 1].value : nil }
                    guard let b = triple(n.inputs[2]), isConstant(b[0]), foldableBias(b, x: a, w: w),
                          let count = facts[b[0]]?.shape?.first?.value, facts[b[0]]?.shape?.count == 1, count == outputs else { break }
                    bias = b[0]
                }
                replacement = Node(name: n.name, opType: "QGemm", domain: "com.microsoft", inputs: a + w + [bias] + y, outputs: [qOut],
                                   attributes: n.attributes.filter { $0.name != "beta" })
            case "MaxPool":
                guard let x = triple(n.inputs.first ?? ""), !isConstant(x[0]), perTensor(x), n.outputs.count == 1 || n.outputs[1].isEmpty,
                      let sx = floatValues(x[1])?.first, let sy = floatValues(y[0])?.first, sx == sy, sx.isNormal, sx > 0,
                      (sx * 256).isFinite, sameZeroPoint(x, y) else { break }
                replacement = Node(name: n.name, opType: "MaxPool", inputs: [x[0]], outputs: [qOut], attributes: n.attributes)
            default: break
            }
            guard let replacement else { continue }
            qdqReplacement[i] = replacement
            absorbed.insert(c[0])
        }
        // A runtime DequantizeLinear whose every consumer now reads its quantized input directly has nothing to do.
        let replaced = Set(qdqReplacement.keys)
        for (i, n) in graph.nodes.enumerated() where n.opType == "DequantizeLinear" {
            guard let out = n.outputs.first, !outputs.contains(out), let c = consumers[out], !c.isEmpty,
                  c.allSatisfy(replaced.contains) else { continue }
            absorbed.insert(i)
        }
    }
}
