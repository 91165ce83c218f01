import ResNetIR

/// QDQ models run as onnxruntime runs them (issue 13): a float operator between
/// DequantizeLinear inputs and one QuantizeLinear output is the quantized operator
/// it stands for, on the integer kernels:
///
///     DQ(x), DQ(w int8), DQ(bias int32) -> Conv -> Q      => QLinearConv
///     DQ(a), DQ(b) -> Add -> Q                            => QLinearAdd
///     DQ(x) -> GlobalAveragePool -> Q                     => QLinearGlobalAveragePool
///     DQ(a), DQ(w int8), DQ(bias int32) -> Gemm -> Q      => QGemm
///
/// Everything else (MaxPool, Flatten between DQ and Q) runs in float, where it is
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
        for (i, n) in graph.nodes.enumerated() where !absorbed.contains(i) && (n.domain.isEmpty || n.domain == "ai.onnx") {
            guard let out = n.outputs.first, !out.isEmpty, !outputs.contains(out), let c = consumers[out], c.count == 1,
                  graph.nodes[c[0]].opType == "QuantizeLinear", !absorbed.contains(c[0]) else { continue }
            let q = graph.nodes[c[0]]
            guard q.inputs.count >= 2, let qOut = q.outputs.first, !qOut.isEmpty else { continue }
            let y = [q.inputs[1], q.inputs.count > 2 ? q.inputs[2] : ""]
            var replacement: Node?
            switch n.opType {
            case "Conv":
                guard n.inputs.count >= 2, let x = triple(n.inputs[0]), let w = triple(n.inputs[1]), isConstant(w[0]), !isConstant(x[0]) else { break }
                var inputs = x + w + y
                if n.inputs.count > 2, !n.inputs[2].isEmpty {
                    guard let b = triple(n.inputs[2]), isConstant(b[0]) else { break }
                    inputs.append(b[0])
                }
                replacement = Node(name: n.name, opType: "QLinearConv", inputs: inputs, outputs: [qOut], attributes: n.attributes)
            case "Add":
                guard n.inputs.count == 2, let a = triple(n.inputs[0]), let b = triple(n.inputs[1]), !isConstant(a[0]), !isConstant(b[0]) else { break }
                replacement = Node(name: n.name, opType: "QLinearAdd", domain: "com.microsoft", inputs: a + b + y, outputs: [qOut])
            case "GlobalAveragePool":
                guard let x = triple(n.inputs.first ?? ""), !isConstant(x[0]) else { break }
                replacement = Node(name: n.name, opType: "QLinearGlobalAveragePool", domain: "com.microsoft", inputs: x + y, outputs: [qOut])
            case "Gemm":
                guard n.inputs.count >= 2, (n.attribute("beta")?.float ?? 1) == 1, let a = triple(n.inputs[0]), let w = triple(n.inputs[1]),
                      isConstant(w[0]), !isConstant(a[0]) else { break }
                var bias = ""
                if n.inputs.count > 2, !n.inputs[2].isEmpty {
                    guard let b = triple(n.inputs[2]), isConstant(b[0]) else { break }
                    bias = b[0]
                }
                replacement = Node(name: n.name, opType: "QGemm", domain: "com.microsoft", inputs: a + w + [bias] + y, outputs: [qOut],
                                   attributes: n.attributes.filter { $0.name != "beta" })
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
