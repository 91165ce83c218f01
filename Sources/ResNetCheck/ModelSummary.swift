import ResNetIR
import ResNetShapes

/// One row of the per-stage table: stem, stage 1..n, head.
public struct StageSummary: Encodable, Sendable {
    public let stage: String
    public let blocks: Int
    /// Output channels of the stage's blocks (the stem's conv for "stem").
    public let width: String
    public let outputShape: SShape?
    public let params: Int
    public let macs: Int

    enum CodingKeys: String, CodingKey { case stage, blocks, width, outputShape = "output_shape", params, macs }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stage, forKey: .stage)
        try c.encode(blocks, forKey: .blocks)
        try c.encode(width, forKey: .width)
        try c.encode(describe(outputShape), forKey: .outputShape)
        try c.encode(params, forKey: .params)
        try c.encode(macs, forKey: .macs)
    }
}

public struct Totals: Encodable, Sendable {
    /// Trainable parameters: float initializers, except BatchNorm running mean/var (buffers, as torchvision counts).
    public let params: Int
    /// Multiply-accumulates of Conv, Gemm and MatMul for one sample (batch dim excluded).
    public let macs: Int
    public let gmacs: Double
    public let nodes: Int
    public let initializers: Int
    /// Why `macs` is only a lower bound (operators whose shapes are unknown), if it is.
    public var incomplete: String? = nil
    /// An export with BatchNorm folded into its convs: the parameters as torchvision counts them
    /// (each folded BN's weight and bias instead of the conv's bias), and how many convs hold one.
    public var paramsWithBatchNorm: Int? = nil
    public var foldedBatchNorms: Int? = nil

    enum CodingKeys: String, CodingKey {
        case params, macs, gmacs, nodes, initializers, incomplete
        case paramsWithBatchNorm = "params_with_batchnorm", foldedBatchNorms = "folded_batchnorms"
    }
}

/// Parameters and MACs, per node and per stage.
struct ModelSummary {
    let graph: Graph
    let facts: [String: ValueFacts]

    /// Parameters each node owns (initializers it reads first, BN mean/var excluded).
    func paramsPerNode() -> [Int: Int] {
        var bnBuffers: Set<String> = []
        for n in graph.nodes where n.opType == "BatchNormalization" && n.inputs.count >= 5 {
            bnBuffers.insert(n.inputs[3]); bnBuffers.insert(n.inputs[4])
        }
        let floats = Dictionary(graph.initializers.filter { [.float, .float16, .bfloat16, .double].contains($0.dataType) }
            .map { ($0.name, $0.elementCount ?? 0) }, uniquingKeysWith: { a, _ in a })
        var owned: Set<String> = []
        var result: [Int: Int] = [:]
        let weighted: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization"]
        let counts = Dictionary(graph.initializers.map { ($0.name, $0.elementCount ?? 0) }, uniquingKeysWith: { a, _ in a })
        for (i, n) in graph.nodes.enumerated() {
            // Quantized weights and biases count as the parameters they stand for; scales and zero points do not.
            if let data = Self.quantizedData[n.opType] {
                for k in data where k < n.inputs.count && !owned.contains(n.inputs[k]) {
                    guard let count = counts[n.inputs[k]] else { continue }
                    owned.insert(n.inputs[k]); result[i, default: 0] += count
                }
                continue
            }
            for (k, x) in n.inputs.enumerated() where !bnBuffers.contains(x) && !owned.contains(x) {
                // A one-element float constant elsewhere (Pad's value, a Clip bound, a Div by 6) is not a parameter.
                if floats[x] == 1 && !(weighted.contains(n.opType) && k > 0) { continue }
                if let count = floats[x] { owned.insert(x); result[i, default: 0] += count }
            }
        }
        return result
    }

    /// Inputs of quantized operators that hold parameters (the rest are scales and zero points).
    static let quantizedData: [String: [Int]] = [
        "DequantizeLinear": [0], "QuantizeLinear": [], "QLinearConv": [3, 8], "QGemm": [3, 6], "QLinearMatMul": [0, 3],
        "ConvInteger": [0, 1], "MatMulInteger": [0, 1], "QLinearAdd": [0, 3], "QLinearMul": [0, 3],
    ]

    /// A model exported in eval mode has BN folded into its convs (bias, no BatchNormalization):
    /// torchvision counts each BN's weight and bias (2C) where the file holds the conv's bias (C).
    /// `attention`: nodes of SE/ECA/SK gates, whose convs have a bias of their own.
    func foldedBatchNorm(excluding attention: Set<Int>) -> (params: Int, convs: Int)? {
        guard !graph.nodes.contains(where: { $0.opType == "BatchNormalization" }) else { return nil }
        var extra = 0, convs = 0
        for (i, n) in graph.nodes.enumerated() where QuantizedOps.isConv(n) && !attention.contains(i) {
            // The bias: Conv's input 2 (an initializer, or a DequantizeLinear of an int32 one), QLinearConv's input 8.
            let k = n.opType == "QLinearConv" ? 8 : n.opType == "Conv" ? 2 : Int.max
            guard k < n.inputs.count, !n.inputs[k].isEmpty, let b = facts[n.inputs[k]]?.shape, b.count == 1,
                  let c = b[0].value.flatMap({ Int(exactly: $0) }) else { continue }
            extra = Saturating.sum([extra, c])
            convs += 1
        }
        return convs > 0 ? (extra, convs) : nil
    }

    /// Nodes whose operator the shape library does not know, by type (their MACs are not counted).
    static func unknownOperators(_ graph: Graph, findings: [ShapeFinding]) -> String? {
        let unknown = findings.filter { $0.error.kind == .unsupported && $0.nodeIndex != nil }
        guard !unknown.isEmpty else { return nil }
        var types: [String] = []
        for f in unknown where !types.contains(f.opType) { types.append(f.opType) }
        return "\(unknown.count) node(s) of operators the checker does not know: \(types.joined(separator: ", "))"
    }

    /// MACs of one node for one sample.
    func macs(_ i: Int) -> Int {
        let n = graph.nodes[i]
        guard !n.outputs.isEmpty, !n.inputs.isEmpty else { return 0 }
        /// Dims as numbers, the batch dim (first) allowed to be symbolic: MACs are per sample.
        func known(_ s: SShape?) -> [Int]? {
            guard let s, !s.isEmpty else { return nil }
            let rest = s.dropFirst().compactMap { $0.value.map(Int.init) }
            return rest.count == s.count - 1 ? [s[0].value.map(Int.init) ?? 1] + rest : nil
        }
        // Quantized operators count as their float twins (QLinearConv as Conv, QGemm as Gemm, ...).
        switch QuantizedOps.twin(n) {
        case "Conv":
            guard let out = known(facts[n.outputs[0]]?.shape), let w = known(QuantizedOps.weight(n).flatMap { facts[$0]?.shape }),
                  out.count >= 3, w.count >= 3 else { return 0 }
            // out [N, M, *spatial], w [M, C/group, *kernel]: each output element takes C/group * prod(kernel) MACs.
            return Saturating.product(Array(out.dropFirst()) + Array(w.dropFirst()))
        case "Gemm":
            // Per sample: the weight's shape gives K (A's rows are the batch).
            guard let out = known(facts[n.outputs[0]]?.shape), let b = QuantizedOps.weight(n).flatMap({ facts[$0]?.shape })?.compactMap(\.value),
                  out.count == 2, b.count == 2 else { return 0 }
            let k = Int((n.attribute("transB")?.int ?? 0) != 0 ? b[1] : b[0])
            return Saturating.product([out[1], k])
        case "MatMul":
            guard let out = known(facts[n.outputs[0]]?.shape), let a = known(facts[n.inputs[0]]?.shape), let k = a.last, !out.isEmpty else { return 0 }
            return Saturating.product(Array(out.dropFirst()) + [k])
        default:
            return 0
        }
    }
}

/// Totals over numbers from a file: a hostile shape saturates at Int.max instead of trapping.
enum Saturating {
    static func product(_ values: [Int]) -> Int {
        var p = 1
        for v in values {
            let (r, overflow) = p.multipliedReportingOverflow(by: max(v, 0))
            if overflow { return .max }
            p = r
        }
        return p
    }

    static func sum<S: Sequence>(_ values: S) -> Int where S.Element == Int {
        var s = 0
        for v in values {
            let (r, overflow) = s.addingReportingOverflow(v)
            if overflow { return .max }
            s = r
        }
        return s
    }
}
