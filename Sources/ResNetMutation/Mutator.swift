import ResNetIR

/// Seeded IR-level mutations of a model: hostile attribute values, dims and
/// integer constants, rewired or dropped edges and outputs, swapped operator
/// types. Each mutant is a well-formed IR (what a reader could hand over),
/// whose numbers and wiring attack the graph consumers above the reader.
public struct Mutator {
    /// splitmix64: small, fast, and the same sequence on every machine.
    public struct Random {
        var state: UInt64
        public init(seed: UInt64) { state = seed }
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        public mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
        public mutating func pick<T>(_ a: [T]) -> T? { a.isEmpty ? nil : a[below(a.count)] }
    }

    /// The values the issue names, and a few small ones that break arithmetic in quieter ways.
    public static let hostileInts: [Int64] = [0, -1, 1, 2, 3, 7, 1 << 31, -(1 << 31), 1 << 40, 1 << 62, -(1 << 62), .min, .max]

    /// Attributes worth attacking, with the op types that read them.
    static let attributeNames = ["strides", "pads", "dilations", "kernel_shape", "group", "axis", "axes", "perm", "keepdims",
                                 "allowzero", "ceil_mode", "transA", "transB", "starts", "ends", "split", "to", "start", "end",
                                 "count_include_pad", "storage_order", "noop_with_empty_axes", "training_mode", "num_outputs"]
    static let opTypes = ["Conv", "Relu", "Add", "Sum", "Concat", "Reshape", "Flatten", "Slice", "Pad", "Gather", "Squeeze",
                          "Unsqueeze", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul", "BatchNormalization",
                          "Transpose", "Expand", "Split", "ReduceMean", "Softmax", "Shape", "ConstantOfShape", "Cast", "Identity"]

    /// What one mutation changed, for reports and regression tests.
    public enum Kind: String, CaseIterable, Sendable {
        case attributeValue, attributeAdded, attributeRetyped, inputDims, integerConstant, rewiredInput, droppedInput,
             droppedOutput, duplicatedOutput, droppedNode, swappedOpType, extraInput
    }

    public init() {}

    /// Applies `count` random mutations; returns the mutant and what was done.
    public func mutate(_ model: Model, random: inout Random, count: Int = 1) -> (Model, [Kind]) {
        var m = model
        var kinds: [Kind] = []
        for _ in 0..<count {
            let kind = Kind.allCases[random.below(Kind.allCases.count)]
            if apply(kind, to: &m, random: &random) { kinds.append(kind) }
        }
        return (m, kinds)
    }

    func hostile(_ random: inout Random) -> Int64 { Self.hostileInts[random.below(Self.hostileInts.count)] }

    func apply(_ kind: Kind, to m: inout Model, random: inout Random) -> Bool {
        let g = m.graph
        guard !g.nodes.isEmpty else { return false }
        let i = random.below(g.nodes.count)
        var node = g.nodes[i]
        let values = g.nodes.flatMap(\.outputs) + g.inputs.map(\.name) + g.initializers.map(\.name)
        switch kind {
        case .attributeValue:
            guard let k = node.attributes.indices.filter({ node.attributes[$0].int != nil || node.attributes[$0].ints != nil }).randomElement(using: &random) else { return false }
            var a = node.attributes[k]
            if case var .ints(v) = a.value, !v.isEmpty { v[random.below(v.count)] = hostile(&random); a.value = .ints(v) } else { a.value = .int(hostile(&random)) }
            node.attributes[k] = a
        case .attributeAdded:
            let name = Self.attributeNames[random.below(Self.attributeNames.count)]
            node.attributes.removeAll { $0.name == name }
            let n = random.below(5)
            node.attributes.append(Attribute(name: name, value: n == 0 ? .int(hostile(&random)) : .ints((0..<n).map { _ in hostile(&random) })))
        case .attributeRetyped:
            guard let k = node.attributes.indices.randomElement(using: &random) else { return false }
            node.attributes[k].value = random.below(2) == 0 ? .string(Array("SAME_UPPER".utf8)) : .floats([.nan, 1e30])
        case .inputDims:
            guard let k = g.inputs.indices.randomElement(using: &random), case let .tensor(elem, dims?)? = g.inputs[k].type?.kind, !dims.isEmpty else { return false }
            var d = dims
            if random.below(4) == 0 { d.append(.known(hostile(&random))) } else { d[random.below(d.count)] = .known(hostile(&random)) }
            m.graph.inputs[k].type = TypeDescriptor(.tensor(elemType: elem, shape: d))
            return true
        case .integerConstant:
            let ints = g.initializers.indices.filter { g.initializers[$0].dataType == .int64 && (g.initializers[$0].elementCount ?? 0) > 0 }
            guard let k = ints.randomElement(using: &random), var v = g.initializers[k].integerValues else { return false }
            v[random.below(v.count)] = hostile(&random)
            let t = g.initializers[k]
            m.graph.initializers[k] = Tensor(name: t.name, dataType: .int64, dims: t.dims,
                                             data: TensorBytes(v.flatMap { x in withUnsafeBytes(of: x.littleEndian) { Array($0) } }))
            return true
        case .rewiredInput:
            guard !node.inputs.isEmpty, let v = random.pick(values) else { return false }
            node.inputs[random.below(node.inputs.count)] = v
        case .droppedInput:
            guard !node.inputs.isEmpty else { return false }
            if random.below(2) == 0 { node.inputs.remove(at: random.below(node.inputs.count)) } else { node.inputs[random.below(node.inputs.count)] = "" }
        case .droppedOutput:
            guard !node.outputs.isEmpty else { return false }
            if random.below(2) == 0 { node.outputs.removeAll() } else { node.outputs[random.below(node.outputs.count)] = "" }
        case .duplicatedOutput:
            guard !node.outputs.isEmpty, let v = random.pick(values) else { return false }
            node.outputs[random.below(node.outputs.count)] = v
        case .droppedNode:
            m.graph.nodes.remove(at: i)
            return true
        case .swappedOpType:
            node.opType = Self.opTypes[random.below(Self.opTypes.count)]
        case .extraInput:
            guard let v = random.pick(values) else { return false }
            node.inputs.append(v)
        }
        m.graph.nodes[i] = node
        return true
    }
}

extension Mutator.Random: RandomNumberGenerator {}
