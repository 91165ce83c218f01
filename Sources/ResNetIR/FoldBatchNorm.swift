/// What `BatchNormFolding.fold` did.
public struct BatchNormFoldReport: Sendable {
    public var folded = 0
    /// BatchNormalization nodes left alone, with the reason (not after a Conv, shared weights, ...).
    public var skipped: [(node: String, reason: String)] = []
    /// Largest |w' - w| / |w| over all folded conv weights, and the conv it occurred in.
    public var largestRelativeChange = 0.0
    public var largestChangeAt = ""
}

/// Why `BatchNormFolding.fold` refused a model (it then changes nothing).
public enum BatchNormFoldError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A BatchNormalization whose training_mode is not 0: `actual` is its value as written.
    case trainingMode(node: String, actual: String)

    public var description: String {
        switch self {
        case let .trainingMode(node, actual):
            return "node '\(node)': BatchNormalization attribute training_mode: expected 0 (inference), actual \(actual); "
                + "in training mode it normalizes with each batch's own statistics, which no Conv weight can absorb, so it cannot be folded"
        }
    }
}

/// Folds inference-mode BatchNormalization into the Conv that feeds it:
///   y = gamma * (conv(x, W) + b - mean) / sqrt(var + eps) + beta
///     = conv(x, W * s) + (b - mean) * s + beta,   s = gamma / sqrt(var + eps)  (per output channel)
/// computed in float64 and rounded once to float32. A BN is folded only when
/// the Conv's output feeds nothing else and W (and b) are float32 initializers
/// used by that Conv alone; otherwise it is skipped with a reason. A BN in
/// training mode is refused outright: folding it (or silently skipping it)
/// would hand back a model that computes something else than asked for.
public enum BatchNormFolding {
    public static func fold(_ input: Model) throws -> (Model, BatchNormFoldReport) {
        try refuseTrainingMode(input.graph)
        var model = input
        var g = model.graph
        var report = BatchNormFoldReport()
        var initializerIndex: [String: Int] = [:]
        for (i, t) in g.initializers.enumerated() { initializerIndex[t.name] = i }
        var producer: [String: Int] = [:]
        var uses: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { producer[o] = i }
            for x in n.inputs where !x.isEmpty { uses[x, default: 0] += 1 }
        }
        for o in g.outputs { uses[o.name, default: 0] += 1 }
        var removed = Set<Int>()
        // Before IR version 4 every initializer must also be listed as a graph input.
        let initializersAreInputs = (model.irVersion ?? Int64.max) < 4
        var usedNames = Set(g.initializers.map(\.name)).union(producer.keys).union(g.inputs.map(\.name))

        for (bi, bn) in g.nodes.enumerated() where bn.opType == "BatchNormalization" && (bn.domain.isEmpty || bn.domain == "ai.onnx") {
            let label = bn.name.isEmpty ? bn.outputs.first ?? "?" : bn.name
            func skip(_ why: String) { report.skipped.append((label, why)) }
            guard bn.inputs.count == 5, bn.outputs.filter({ !$0.isEmpty }).count == 1 else { skip("not inference mode"); continue }
            let x = bn.inputs[0]
            guard let ci = producer[x], g.nodes[ci].opType == "Conv", !removed.contains(ci) else { skip("input is not a Conv output"); continue }
            var conv = g.nodes[ci]
            guard uses[x] == 1 else { skip("the Conv output has other consumers"); continue }
            guard conv.inputs.count >= 2, let wi = initializerIndex[conv.inputs[1]], uses[conv.inputs[1]] == 1 else {
                skip("Conv weight is not an initializer of its own"); continue
            }
            let hasBias = conv.inputs.count >= 3 && !conv.inputs[2].isEmpty
            let bIndex = hasBias ? initializerIndex[conv.inputs[2]] : nil
            if hasBias && (bIndex == nil || uses[conv.inputs[2]] != 1) { skip("Conv bias is not an initializer of its own"); continue }
            let params = bn.inputs[1...4].map { initializerIndex[$0] }
            guard params.allSatisfy({ $0 != nil }) else { skip("BN parameters are not initializers"); continue }
            let w = g.initializers[wi]
            guard w.dataType == .float, w.dims.count >= 3, let channels = Int(exactly: w.dims[0]), channels > 0,
                  let wValues = floats(w), !wValues.isEmpty else { skip("Conv weight is not float32"); continue }
            let p = params.compactMap { $0 }.map { floats(g.initializers[$0]) }
            guard let gamma = p[0], let beta = p[1], let mean = p[2], let variance = p[3],
                  [gamma, beta, mean, variance].allSatisfy({ $0.count == channels }) else {
                skip("BN parameters are not float32 of the Conv's channel count"); continue
            }
            let bias = bIndex.flatMap { floats(g.initializers[$0]) } ?? [Float](repeating: 0, count: channels)
            guard bias.count == channels else { skip("Conv bias size does not match its channels"); continue }
            let eps = Double(bn.attribute("epsilon")?.float ?? 1e-5)

            let perChannel = wValues.count / channels
            var newW = [Float](repeating: 0, count: wValues.count)
            var newB = [Float](repeating: 0, count: channels)
            for c in 0..<channels {
                let s = Double(gamma[c]) / (Double(variance[c]) + eps).squareRoot()
                newB[c] = Float((Double(bias[c]) - Double(mean[c])) * s + Double(beta[c]))
                for k in (c * perChannel)..<((c + 1) * perChannel) {
                    newW[k] = Float(Double(wValues[k]) * s)
                    if wValues[k] != 0 {
                        let change = abs(Double(newW[k]) - Double(wValues[k])) / abs(Double(wValues[k]))
                        if change > report.largestRelativeChange {
                            report.largestRelativeChange = change
                            report.largestChangeAt = conv.name.isEmpty ? w.name : conv.name
                        }
                    }
                }
            }
            g.initializers[wi].data = TensorBytes(bytes(newW))
            if let bIndex {
                g.initializers[bIndex].data = TensorBytes(bytes(newB))
            } else {
                var name = w.name + ".folded_bias"
                while usedNames.contains(name) { name += "_" }
                usedNames.insert(name)
                g.initializers.append(Tensor(name: name, dataType: .float, dims: [Int64(channels)], data: TensorBytes(bytes(newB))))
                initializerIndex[name] = g.initializers.count - 1
                if initializersAreInputs {
                    g.inputs.append(ValueInfo(name: name, type: TypeDescriptor(.tensor(elemType: DataType.float.rawValue,
                                                                                      shape: [.known(Int64(channels))]))))
                }
                if conv.inputs.count < 3 { conv.inputs.append(name) } else { conv.inputs[2] = name }
            }
            conv.outputs[0] = bn.outputs.first { !$0.isEmpty } ?? conv.outputs[0]
            g.nodes[ci] = conv
            removed.insert(bi)
            for name in bn.inputs[1...4] { uses[name, default: 1] -= 1 }
            report.folded += 1
        }

        // Drop the folded BNs, then BN parameters and value infos nothing uses any more.
        g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        var stillUsed = Set(g.outputs.map(\.name))
        for n in g.nodes { stillUsed.formUnion(n.inputs) }
        let dropped = Set(g.initializers.map(\.name).filter { !stillUsed.contains($0) && (uses[$0] ?? 1) == 0 })
        g.initializers.removeAll { dropped.contains($0.name) }
        g.inputs.removeAll { dropped.contains($0.name) }
        let produced = Set(g.nodes.flatMap(\.outputs))
        g.valueInfos.removeAll { !produced.contains($0.name) && !stillUsed.contains($0.name) }
        model.graph = g
        return (model, report)
    }

    /// Checked for every BN before anything is folded, so the refusal does not depend on node order.
    static func refuseTrainingMode(_ g: Graph) throws {
        for bn in g.nodes where bn.opType == "BatchNormalization" && (bn.domain.isEmpty || bn.domain == "ai.onnx") {
            guard let attribute = bn.attribute("training_mode") else { continue }  // absent: 0, inference
            let label = bn.name.isEmpty ? bn.outputs.first ?? "?" : bn.name
            switch attribute.value {
            case .int(0): continue
            case let .int(v): throw BatchNormFoldError.trainingMode(node: label, actual: String(v))
            case let .float(v): throw BatchNormFoldError.trainingMode(node: label, actual: "\(v) (a FLOAT, not an INT)")
            default: throw BatchNormFoldError.trainingMode(node: label, actual: "a value that is not an INT")
            }
        }
    }

    /// Little-endian float32 tensor data as [Float]; nil for other types.
    static func floats(_ t: Tensor) -> [Float]? {
        guard t.dataType == .float, t.data.count % 4 == 0 else { return nil }
        return t.data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    static func bytes(_ values: [Float]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(values.count * 4)
        for v in values { Swift.withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }
}
