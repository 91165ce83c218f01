import ResNetIR
import ResNetShapes

/// How a block's shortcut reaches the join (JSON: the raw value).
public enum ShortcutKind: String, Encodable, Sendable, CaseIterable {
    case identity, projection
    case resnetD = "resnet-d"
    case optionAPad = "option-a-pad"
    case optionAConcat = "option-a-concat"
    /// AvgPool 2x2 stride 2, optionally concatenated with itself: parameter-free and linear.
    case avgPool = "avg-pool"
    case maxPool = "max-pool"
    case other

    /// Option A: strided identity plus zero channels.
    public var isOptionA: Bool { self == .optionAPad || self == .optionAConcat }
    /// No weights on the shortcut where the shape changes (option A's family).
    public var isParameterFree: Bool { isOptionA || self == .avgPool }
}

/// One residual block: y = F(x) + shortcut(x), found at an Add/Sum whose
/// operands share an ancestor (the fork, x).
public struct ResidualBlock: Encodable, Sendable {
    public struct ConvInfo: Encodable, Sendable, Equatable {
        public let name: String
        public let kernel: [Int64]
        public let stride: [Int64]
        /// Groups and output channels (from the weight): ResNeXt and Wide ResNet tell themselves apart by these.
        public internal(set) var group: Int64 = 1
        public internal(set) var outChannels: Int64? = nil

        enum CodingKeys: String, CodingKey { case name, kernel, stride }
    }
    public internal(set) var name: String
    public var stage: Int
    public let join: String
    public let shortcut: ShortcutKind
    /// The main-branch conv carrying the stride (nil if the block keeps the resolution).
    public let strideOn: String?
    /// Which conv of the main branch that is, e.g. "conv2 (3x3)".
    public let stridePosition: String?
    public let mainConvs: [ConvInfo]
    public let shortcutConvs: [ConvInfo]
    /// Attention decorating the main branch (SE, ECA, SK); its convs are not in `mainConvs`.
    public var attention: [AttentionKind] = []
    /// The attention's nodes (their convs carry a bias of their own, not a folded BN).
    var attentionNodes: [Int] = []
    public let preActivation: Bool
    public let inputShape: SShape?
    public let outputShape: SShape?
    public let mainShape: SShape?
    public let shortcutShape: SShape?
    /// The value the block outputs (after its ReLU for post-activation blocks), for per-block parity.
    public let outputValue: String
    /// The join's two operands.
    let mainValue: String
    let shortcutValue: String
    /// The main branch's and the shortcut's nodes (for the int8 lints).
    var mainNodes: [Int] = []
    var shortcutNodes: [Int] = []
    /// Indices of the nodes in this block (main branch, shortcut and join), for per-stage sums.
    let nodeIndices: [Int]
    let joinIndex: Int

    enum CodingKeys: String, CodingKey {
        case name, stage, join, shortcut, attention
        case strideOn = "stride_on", stridePosition = "stride_position", mainConvs = "main_convs", shortcutConvs = "shortcut_convs"
        case preActivation = "pre_activation", inputShape = "input_shape", outputShape = "output_shape"
        case mainShape = "main_shape", shortcutShape = "shortcut_shape"
    }

    /// Every key is always present; `strideOn`/`stridePosition` are null for blocks without a stride.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(stage, forKey: .stage)
        try c.encode(join, forKey: .join)
        try c.encode(shortcut, forKey: .shortcut)
        try c.encode(strideOn, forKey: .strideOn)
        try c.encode(stridePosition, forKey: .stridePosition)
        try c.encode(mainConvs, forKey: .mainConvs)
        try c.encode(shortcutConvs, forKey: .shortcutConvs)
        try c.encode(preActivation, forKey: .preActivation)
        if !attention.isEmpty { try c.encode(attention, forKey: .attention) }
        try c.encode(describe(inputShape), forKey: .inputShape)
        try c.encode(describe(outputShape), forKey: .outputShape)
        try c.encode(describe(mainShape), forKey: .mainShape)
        try c.encode(describe(shortcutShape), forKey: .shortcutShape)
    }
}

/// Finds residual joins and describes each block; adds the residual diagnostics.
struct ResidualAnalysis {
    let graph: Graph
    let facts: [String: ValueFacts]
    private let producer: [String: Int]
    private let consumers: [String: [Int]]
    private let initializerNames: Set<String>
    private let graphInputs: Set<String>

    init(graph: Graph, facts: [String: ValueFacts], index: GraphIndex) {
        self.graph = graph
        self.facts = facts
        initializerNames = Set(graph.initializers.map(\.name))
        graphInputs = Set(graph.inputs.map(\.name))
        producer = index.producer
        consumers = index.consumers
    }

    private func isTensorValue(_ v: String) -> Bool {
        guard !initializerNames.contains(v), let f = facts[v] else { return false }
        // Element type 0: the output of an operator the shape library does not know. A join is a join
        // by topology alone; its unknown shapes become RN012, never a silently skipped block.
        // uint8/int8: a quantized activation (QuantizeLinear's output, a QLinear* operator's).
        return f.values == nil && !f.isConstant && [0, 1, 2, 3, 10, 11, 16].contains(f.elemType)
    }

    /// How far back a fork may lie from its join. A bottleneck block's fork is ~10
    /// producer hops away; the bounds keep hostile graphs (e.g. 20,000 chained
    /// Adds) linear instead of quadratic.
    static let maxHops = 64
    static let maxVisited = 2048

    /// Values `v` depends on (itself included) within `maxHops` producer hops.
    private func ancestors(of v: String) -> Set<String> {
        var seen: Set<String> = [v]
        var frontier = [v]
        for _ in 0..<Self.maxHops where !frontier.isEmpty && seen.count < Self.maxVisited {
            var next: [String] = []
            for x in frontier where seen.count < Self.maxVisited {
                guard let p = producer[x] else { continue }
                // The bound holds per insertion: one node with a million inputs must not blow through it.
                for i in graph.nodes[p].inputs where !i.isEmpty && !seen.contains(i) && seen.count < Self.maxVisited { seen.insert(i); next.append(i) }
            }
            frontier = next
        }
        return seen
    }

    /// The nearest value on `b`'s side that `a` also depends on.
    private func fork(_ a: String, _ b: String) -> String? {
        let ancestorsOfA = ancestors(of: a)
        var queue = [b]
        var seen: Set<String> = [b]
        var head = 0
        while head < queue.count && head < Self.maxVisited {
            let x = queue[head]; head += 1
            if ancestorsOfA.contains(x) && (isTensorValue(x) || graphInputs.contains(x)) { return x }
            guard let p = producer[x] else { continue }
            for i in graph.nodes[p].inputs where !i.isEmpty && !seen.contains(i) && queue.count < Self.maxVisited { seen.insert(i); queue.append(i) }
        }
        return nil
    }

    /// Nodes between `fork` and `value` (exclusive of the fork's producer), in graph order.
    private func branch(from fork: String, to value: String) -> [Int] {
        var nodes: Set<Int> = []
        var frontier = [value]
        var seen: Set<String> = [value]
        for _ in 0..<Self.maxHops where !frontier.isEmpty && nodes.count < Self.maxVisited {
            var next: [String] = []
            for x in frontier {
                guard x != fork, let p = producer[x] else { continue }
                // Only nodes that lie on a path from the fork (shape-arithmetic side chains included).
                if nodes.insert(p).inserted {
                    for i in graph.nodes[p].inputs where !i.isEmpty && !seen.contains(i) && seen.count < Self.maxVisited { seen.insert(i); next.append(i) }
                }
            }
            frontier = next
        }
        let forkAncestors = ancestors(of: fork)
        return nodes.filter { i in !graph.nodes[i].outputs.contains { forkAncestors.contains($0) } }.sorted()
    }

    func convInfo(_ i: Int) -> ResidualBlock.ConvInfo {
        let n = graph.nodes[i]
        let w = QuantizedOps.weight(n).flatMap { facts[$0]?.shape }
        let kernel = n.attribute("kernel_shape")?.ints ?? w?.dropFirst(2).map { $0.value ?? 0 } ?? []
        let stride = n.attribute("strides")?.ints ?? Array(repeating: 1, count: kernel.count)
        return .init(name: ShapeInference.label(n, i), kernel: kernel, stride: stride,
                     group: n.attribute("group")?.int ?? 1, outChannels: w?.first?.value)
    }

    func blocks() -> (blocks: [ResidualBlock], diagnostics: [Diagnostic]) {
        var blocks: [ResidualBlock] = []
        var candidates: [String?] = []
        var diagnostics: [Diagnostic] = []
        for (j, node) in graph.nodes.enumerated() {
            // Add/Sum of two, or QLinearAdd; through DequantizeLinear -> Add -> QuantizeLinear the Add is the join.
            guard let (a, b) = QuantizedOps.joinOperands(node) else { continue }
            guard let joinOutput = node.outputs.first, !joinOutput.isEmpty else { continue }  // RN011 from the arity check
            guard isTensorValue(a), isTensorValue(b), let x = fork(a, b) ?? fork(b, a) else { continue }
            let branchA = branch(from: x, to: a), branchB = branch(from: x, to: b)
            let convsA = branchA.filter { QuantizedOps.isConv(graph.nodes[$0]) }, convsB = branchB.filter { QuantizedOps.isConv(graph.nodes[$0]) }
            guard !convsA.isEmpty || !convsB.isEmpty else { continue }
            let aIsMain = convsA.count > convsB.count || (convsA.count == convsB.count && branchA.count >= branchB.count)
            let (main, short, mainValue, shortValue) = aIsMain ? (branchA, branchB, a, b) : (branchB, branchA, b, a)
            let attention = AttentionAnalysis(graph: graph, producer: producer, isTensor: isTensorValue, weightShape: { facts[$0]?.shape })
            let (core, attentionNodes, attentionKinds) = attention.split(main)
            let mainConvs = attention.convChain(core).map(convInfo)
            let shortConvs = short.filter { QuantizedOps.isConv(graph.nodes[$0]) }.map(convInfo)
            // The shortcut's kind is decided by its data path; constant arithmetic feeding it (pads) does not count.
            let kind = shortcutKind(short.filter { i in graph.nodes[i].outputs.contains { isTensorValue($0) } })
            let label = ShapeInference.label(node, j)
            let strided = mainConvs.enumerated().first { $0.element.stride.contains { $0 > 1 } }
            let position = strided.map { "conv\($0.offset + 1) (\($0.element.kernel.map(String.init).joined(separator: "x")))" }
            // The join's consumers, past a QuantizeLinear -> DequantizeLinear pair (quantizers fold a ReLU
            // after the join into the output's range: such a block has no ReLU node at all).
            var output = consumers[joinOutput] ?? [], requantized: [Int] = []
            while output.count == 1, QuantizedOps.isTransparent(graph.nodes[output[0]]), requantized.count < 4,
                  let next = graph.nodes[output[0]].outputs.first, !next.isEmpty {
                requantized.append(output[0])
                output = consumers[next] ?? []
            }
            let postActivation = output.count == 1 && QuantizedOps.twin(graph.nodes[output[0]]) == "Relu" && !graph.nodes[output[0]].outputs.isEmpty
            if !postActivation { output = [] }
            let firstMainOp = main.first { !QuantizedOps.isTransparent(graph.nodes[$0]) }.map { QuantizedOps.twin(graph.nodes[$0]) } ?? ""
            let forkOp = producerSkippingQuantization(x).map { QuantizedOps.twin(graph.nodes[$0]) } ?? ""
            // v2: the main branch starts with its activation (BN+ReLU, or ReLU alone once an exporter
            // folded that BN into the previous conv), and the sum is not followed by a ReLU.
            let preActivation = !postActivation && (["BatchNormalization", "Relu"].contains(firstMainOp) || forkOp == "Relu")
            let outValue = postActivation ? graph.nodes[output[0]].outputs[0] : joinOutput
            let block = ResidualBlock(
                name: label, stage: 0, join: label, shortcut: kind,
                strideOn: strided?.element.name, stridePosition: position, mainConvs: mainConvs, shortcutConvs: shortConvs,
                attention: attentionKinds, attentionNodes: attentionNodes,
                preActivation: preActivation, inputShape: facts[x]?.shape, outputShape: facts[outValue]?.shape,
                mainShape: facts[mainValue]?.shape, shortcutShape: facts[shortValue]?.shape,
                outputValue: outValue, mainValue: mainValue, shortcutValue: shortValue,
                nodeIndices: (main + short + [j] + (postActivation ? requantized + output : [])).sorted(), joinIndex: j)
            var described = block
            (described.mainNodes, described.shortcutNodes) = (main, short)
            blocks.append(described)
            // Names come from the data path: exporters hoist shared constants out of every scope (`Constant_142`).
            let dataPath = (main + short).filter { i in graph.nodes[i].outputs.contains { isTensorValue($0) } }
            candidates.append(BlockNaming.candidate(graph, nodes: dataPath, convs: main.filter { QuantizedOps.isConv(graph.nodes[$0]) }))
        }
        assignStages(&blocks)
        BlockNaming.assign(&blocks, candidates: candidates)
        for b in blocks { diagnostics += ResidualDiagnostics.check(b, main: facts[b.mainValue]?.shape, shortcut: facts[b.shortcutValue]?.shape) }
        return (blocks, diagnostics)
    }

    /// identity, projection (1x1 conv ± BN), resnet-d (AvgPool then 1x1), option-a-pad / option-a-concat
    /// (strided identity + zero channels), max-pool (MaxPool with a real window), other.
    /// Quantized nodes count as their float twins; QuantizeLinear/DequantizeLinear do not count.
    private func shortcutKind(_ nodes: [Int]) -> ShortcutKind {
        let ops = nodes.map { graph.nodes[$0] }.filter { !QuantizedOps.isTransparent($0) }
        if ops.isEmpty { return .identity }
        let types = Set(ops.map(QuantizedOps.twin))
        let realMaxPool = ops.contains { $0.opType == "MaxPool" && ($0.attribute("kernel_shape")?.ints ?? []).contains { $0 > 1 } }
        if realMaxPool { return .maxPool }
        let convs = ops.filter(QuantizedOps.isConv)
        let pointwise = convs.allSatisfy { n in
            let k = n.attribute("kernel_shape")?.ints ?? QuantizedOps.weight(n).flatMap { facts[$0]?.shape?.dropFirst(2).map { $0.value ?? 0 } } ?? []
            return k.allSatisfy { $0 == 1 }
        }
        if convs.count == 1 && pointwise {
            if types.contains("AveragePool") && types.isSubset(of: ["AveragePool", "Conv", "BatchNormalization"]) { return .resnetD }
            if types.isSubset(of: ["Conv", "BatchNormalization"]) { return .projection }
        }
        let optionA: Set<String> = ["Slice", "Pad", "Concat", "Shape", "Mul", "Add", "ConstantOfShape", "Gather", "Unsqueeze",
                                    "Identity", "AveragePool", "MaxPool", "Cast"]
        if convs.isEmpty && types.isSubset(of: optionA) {
            if types.contains("Pad") { return .optionAPad }
            // AvgPool alone, or concatenated with itself to double the channels: linear, parameter-free.
            if types.contains("AveragePool") && types.isSubset(of: ["AveragePool", "Concat", "Identity"]) { return .avgPool }
            if types.contains("Concat") { return .optionAConcat }
            if types.isSubset(of: ["Identity"]) { return .identity }
        }
        return .other
    }

    /// The node computing `v`, past QuantizeLinear/DequantizeLinear (a fork that is a DQ output is the compute before it).
    private func producerSkippingQuantization(_ v: String) -> Int? {
        var p = producer[v]
        for _ in 0..<4 {
            guard let i = p, QuantizedOps.isTransparent(graph.nodes[i]), let input = graph.nodes[i].inputs.first else { break }
            p = producer[input]
        }
        return p
    }

    /// A new stage starts where a block changes the spatial resolution.
    private func assignStages(_ blocks: inout [ResidualBlock]) {
        var stage = 1
        var previous: SShape??
        for i in blocks.indices {
            let spatial = spatialPart(blocks[i].inputShape) != spatialPart(blocks[i].outputShape)
            if i > 0 && (spatial || previous.map { spatialPart($0) != spatialPart(blocks[i].outputShape) } ?? false) { stage += 1 }
            blocks[i].stage = stage
            previous = blocks[i].outputShape
        }
    }

    /// The dims after [N, C] (the whole shape below rank 3; nil when unknown).
    private func spatialPart(_ shape: SShape?) -> SShape? {
        guard let shape else { return nil }
        return shape.count > 2 ? Array(shape.dropFirst(2)) : shape
    }
}
