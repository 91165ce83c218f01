import ResNetIR
import ResNetShapes

/// How a model is quantized (JSON `quantization`; absent for a float model).
public struct QuantizationSummary: Encodable, Sendable, Equatable {
    /// "qdq" (QuantizeLinear/DequantizeLinear around float operators), "qoperator" (QLinearConv,
    /// QLinearAdd... computing on integers), or "mixed".
    public let format: String
    /// Quantized weight tensors with one scale, and with one per output channel.
    public let weightsPerTensor: Int
    public let weightsPerChannel: Int
    /// Element types activations are quantized to ("UINT8").
    public let activationTypes: [String]
    /// MACs whose operands are both quantized (QLinearConv, QGemm, ConvInteger..., or a float Conv/Gemm/MatMul
    /// whose input and weight are DequantizeLinear outputs), and their share of all MACs.
    public let int8MACs: Int
    public let int8Share: Double

    enum CodingKeys: String, CodingKey {
        case format, weightsPerTensor = "weights_per_tensor", weightsPerChannel = "weights_per_channel"
        case activationTypes = "activation_types", int8MACs = "int8_macs", int8Share = "int8_share"
    }
}

/// The quantization summary, and the lints of int8 residual joins (RN120, RN121).
struct QuantizationAnalysis {
    let graph: Graph
    let facts: [String: ValueFacts]
    let producer: [String: Int]
    let constants: [String: Tensor]

    init(graph: Graph, facts: [String: ValueFacts], index: GraphIndex) {
        self.graph = graph
        self.facts = facts
        producer = index.producer
        constants = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Whether `v` is a DequantizeLinear's output.
    func dequantized(_ v: String) -> Bool { producer[v].map { graph.nodes[$0].opType == "DequantizeLinear" } ?? false }

    /// A compute node whose operands are both quantized: an integer operator, or a float
    /// Conv/Gemm/MatMul reading its input and its weight from DequantizeLinear.
    func runsInInt8(_ n: Node) -> Bool {
        if QuantizedOps.isInteger(n) { return true }
        guard ["Conv", "Gemm", "MatMul"].contains(n.opType), let x = n.inputs.first, let w = QuantizedOps.weight(n) else { return false }
        return dequantized(x) && dequantized(w)
    }

    func summary(macs: [Int]) -> QuantizationSummary? {
        let nodes = graph.nodes
        let integer = nodes.contains(where: QuantizedOps.isInteger)
        let qdq = nodes.contains { !QuantizedOps.isInteger($0) && ["Conv", "Gemm", "MatMul"].contains($0.opType) && runsInInt8($0) }
        guard integer || qdq || nodes.contains(where: QuantizedOps.isTransparent) else { return nil }
        let format = integer && qdq ? "mixed" : integer ? "qoperator" : "qdq"
        var perTensor = 0, perChannel = 0
        func count(scale: String?) {
            let channels = scale.flatMap { facts[$0]?.shape }.map { s in s.count == 1 && (s[0].value ?? 2) > 1 } ?? false
            if channels { perChannel += 1 } else { perTensor += 1 }
        }
        var activations: [Int32] = []
        let weightTypes: Set<Int32> = [DataType.int8.rawValue, DataType.uint8.rawValue, DataType.int16.rawValue, DataType.uint16.rawValue, 21, 22]
        for n in nodes {
            switch n.opType {
            case "DequantizeLinear":
                // A weight: a constant integer tensor (int32 ones are biases).
                if let x = n.inputs.first, let f = facts[x], f.isConstant, weightTypes.contains(f.elemType) { count(scale: n.inputs.count > 1 ? n.inputs[1] : nil) }
            case "QuantizeLinear":
                if let x = n.inputs.first, facts[x]?.isConstant != true, let y = n.outputs.first, let t = facts[y]?.elemType { activations.append(t) }
            case "QLinearConv", "QLinearMatMul", "QGemm":
                if let w = QuantizedOps.weight(n), facts[w]?.isConstant == true { count(scale: n.inputs.count > 4 ? n.inputs[4] : nil) }
            case "ConvInteger", "MatMulInteger":
                count(scale: n.inputs.count > 3 ? n.inputs[3] : nil)  // the weight's zero point tells per-channel
            default: break
            }
            if QuantizedOps.isInteger(n), let y = n.outputs.first, let t = facts[y]?.elemType, [2, 3].contains(t) { activations.append(t) }
        }
        let int8 = Saturating.sum(nodes.indices.filter { runsInInt8(nodes[$0]) }.map { $0 < macs.count ? macs[$0] : 0 })
        let total = Saturating.sum(macs)
        var types: [String] = []
        for t in activations { let name = DataType(rawValue: t)?.description ?? "type \(t)"; if !types.contains(name) { types.append(name) } }
        return QuantizationSummary(format: format, weightsPerTensor: perTensor, weightsPerChannel: perChannel, activationTypes: types,
                                   int8MACs: int8, int8Share: total > 0 ? Double(int8) / Double(total) : 0)
    }

    /// The scale an operand of `join` was quantized with (QLinearAdd's, or its DequantizeLinear's), if one scalar.
    func operandScale(_ join: Node, _ value: String) -> (name: String, value: Float)? {
        guard let (a, _) = QuantizedOps.joinOperands(join) else { return nil }
        let k = value == a ? 0 : 1
        guard let name = QuantizedOps.operandScale(join, operand: k, producer: producer[value].map { graph.nodes[$0] }),
              let t = constants[name], t.elementCount == 1, let v = t.floatValues, v.count == 1 else { return nil }
        return (name, v[0])
    }

    /// Scales further apart than this at a join warn (RN120).
    static let scaleRatioLimit: Float = 4

    func lints(_ blocks: [ResidualBlock]) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for b in blocks where b.joinIndex < graph.nodes.count {
            let join = graph.nodes[b.joinIndex]
            let main = operandScale(join, b.mainValue), short = operandScale(join, b.shortcutValue)
            if let m = main, let s = short, m.value > 0, s.value > 0, m.value.isFinite, s.value.isFinite {
                let ratio = max(m.value, s.value) / min(m.value, s.value)
                if ratio > Self.scaleRatioLimit {
                    let finer = m.value < s.value ? "main branch" : "shortcut"
                    out.append(Diagnostic(.quantJoinScales, node: b.join,
                        "block '\(b.name)': the residual join adds operands quantized with scales \(m.value) (main branch, '\(m.name)') and \(s.value) (shortcut, '\(s.name)'), \(Self.rounded(ratio))x apart: the \(finer)'s finer steps are requantized at the join's coarser output scale",
                        expected: "scales within \(Int(Self.scaleRatioLimit))x", actual: "\(Self.rounded(ratio))x",
                        fixes: ["calibrate on more representative inputs (or with percentile/entropy calibration)",
                                "keep this join in float (quantize_static's nodes_to_exclude)"]))
                }
            }
            let mainInt8 = branchQuantized(b.mainNodes, operand: main != nil), shortInt8 = branchQuantized(b.shortcutNodes, operand: short != nil)
            if mainInt8 != shortInt8 {
                func side(_ q: Bool, _ scale: (name: String, value: Float)?) -> String {
                    q ? "quantized (scale \(scale.map { String($0.value) } ?? "?"))" : scale.map { "float convs, operand requantized (scale \($0.value))" } ?? "float"
                }
                let what = shortInt8 ? "the shortcut is quantized but the main branch is not" : "the main branch is quantized but the shortcut is not"
                out.append(Diagnostic(.quantBranchMismatch, node: b.join,
                    "block '\(b.name)': \(what): main branch \(side(mainInt8, main)), shortcut \(side(shortInt8, short)); the join mixes an int8 path with a float one",
                    expected: "both operands of the join quantized alike", actual: "main \(mainInt8 ? "int8" : "float"), shortcut \(shortInt8 ? "int8" : "float")",
                    fixes: ["quantize both branches (remove the float one's nodes from nodes_to_exclude)", "exclude the whole block from quantization"]))
            }
        }
        return out
    }

    /// A branch is quantized when its operand reaches the join quantized and its convs run in int8.
    func branchQuantized(_ nodes: [Int], operand: Bool) -> Bool {
        operand && nodes.allSatisfy { i in i >= graph.nodes.count || !QuantizedOps.isConv(graph.nodes[i]) || runsInInt8(graph.nodes[i]) }
    }

    /// One decimal ("7.6"); a ratio past a million (a scale near zero) as it is.
    static func rounded(_ x: Float) -> String {
        guard x.isFinite, x < 1e6 else { return String(x) }
        return String(Float(Int((x * 10).rounded())) / 10)
    }
}
