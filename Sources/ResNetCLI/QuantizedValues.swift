import ResNetIR

/// Where a value of a quantized model sits on an integer grid (issue 13): for
/// `parity --atol-steps` (how many quantization steps an output is off by) and
/// `parity --per-block` (a block output that is a quantized tensor is dequantized
/// before it is compared with the float model's).
struct QuantizedValues {
    /// How a value relates to its quantization.
    enum Grid: Equatable {
        /// A float value that is a multiple of `step` (a DequantizeLinear output, or one passed through layout ops).
        case dequantized(step: Double)
        /// A quantized tensor (float-coded integers): real value = (q - zeroPoint) x scale.
        case quantized(scale: Double, zeroPoint: Double)
    }

    /// Operators that move or select values without changing their grid.
    static let passThrough: Set<String> = ["MaxPool", "Reshape", "Flatten", "Identity", "Squeeze", "Unsqueeze", "Transpose", "Relu"]

    /// (scale input, zero point input) of each operator whose output is quantized.
    static let outputQuantization: [String: (Int, Int)] = [
        "QuantizeLinear": (1, 2), "QLinearConv": (6, 7), "QLinearMatMul": (6, 7), "QLinearAdd": (6, 7), "QLinearMul": (6, 7),
        "QLinearGlobalAveragePool": (3, 4), "QLinearAveragePool": (3, 4), "QLinearLeakyRelu": (3, 4), "QLinearSigmoid": (3, 4),
        "QLinearConcat": (0, 1), "QGemm": (7, 8),
    ]

    let graph: Graph
    /// The shared graph index (producers, consumers) and the initializers by name, built once per model.
    let index: GraphIndex
    let initializers: [String: Tensor]

    init(_ model: Model) {
        graph = model.graph
        index = GraphIndex(model.graph)
        initializers = Dictionary(model.graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// A one-element initializer's value, nil otherwise.
    func scalar(_ name: String?, integer: Bool) -> Double? {
        guard let name, !name.isEmpty, let t = initializers[name], t.elementCount == 1 else { return nil }
        if integer { return t.integerValues?.first.map(Double.init) }
        return t.floatValues?.first.map(Double.init)
    }

    /// The grid of `value`, if a per-tensor quantization defines one; nil for plain float values.
    func grid(of value: String) -> Grid? {
        var current = value
        // Bounded by the node count: each step moves to an earlier producer.
        for _ in 0...graph.nodes.count {
            guard let i = index.producer[current] else { return nil }
            let n = graph.nodes[i]
            if n.opType == "DequantizeLinear" {
                return scalar(n.inputs.count > 1 ? n.inputs[1] : nil, integer: false).map { .dequantized(step: $0) }
            }
            if let (s, z) = Self.outputQuantization[n.opType] {
                guard let scale = scalar(s < n.inputs.count ? n.inputs[s] : nil, integer: false) else { return nil }
                let zp = z < n.inputs.count && !n.inputs[z].isEmpty ? scalar(n.inputs[z], integer: true) : 0
                return zp.map { .quantized(scale: scale, zeroPoint: $0) }
            }
            guard Self.passThrough.contains(n.opType), let input = n.inputs.first, !input.isEmpty else { return nil }
            current = input
        }
        return nil
    }

    /// `value`, or the output of the one QuantizeLinear that consumes it (where a QDQ model's
    /// float value is quantized, and where a plan that runs the group on integers has it).
    func observable(_ value: String) -> String {
        guard let c = index.consumers[value], c.count == 1, graph.nodes[c[0]].opType == "QuantizeLinear",
              let out = graph.nodes[c[0]].outputs.first, !out.isEmpty else { return value }
        return out
    }

    /// Real values of a value on `grid` (a quantized tensor dequantized; other values as they are).
    static func real(_ values: [Float], on grid: Grid?) -> [Float] {
        guard case let .quantized(scale, zp)? = grid else { return values }
        return values.map { Float((Double($0) - zp) * scale) }
    }
}

/// How far an output of a quantized model is from its reference, counted in quantization steps.
struct StepAgreement: Encodable {
    let output: String
    let step: Double
    let elements: Int
    /// Elements within half a step (the same grid point), one step apart, and further.
    let exact: Int
    let oneStep: Int
    let moreSteps: Int
    let maxSteps: Int
    var withinOneStep: Double { elements == 0 ? 1 : Double(exact + oneStep) / Double(elements) }

    enum CodingKeys: String, CodingKey {
        case output, step, elements, exact, oneStep = "one_step", moreSteps = "more_steps", maxSteps = "max_steps", withinOneStep = "within_one_step"
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(output, forKey: .output); try c.encode(step, forKey: .step); try c.encode(elements, forKey: .elements)
        try c.encode(exact, forKey: .exact); try c.encode(oneStep, forKey: .oneStep); try c.encode(moreSteps, forKey: .moreSteps)
        try c.encode(maxSteps, forKey: .maxSteps); try c.encode(withinOneStep, forKey: .withinOneStep)
    }

    /// Non-finite pairs count as further than any step.
    init(output: String, step: Double, actual: [Float], expected: [Float]) {
        self.output = output; self.step = step
        elements = min(actual.count, expected.count)
        var exact = 0, one = 0, more = 0, worst = 0
        for (a, b) in zip(actual, expected) {
            let d = abs(Double(a) - Double(b)) / step
            guard d.isFinite else { more += 1; worst = Int.max; continue }
            let steps = Int(min(d.rounded(), 1e9))
            switch steps { case 0: exact += 1; case 1: one += 1; default: more += 1 }
            worst = max(worst, steps)
        }
        self.exact = exact; oneStep = one; moreSteps = more; maxSteps = worst
    }
}
