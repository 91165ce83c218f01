/// Add/Sum/Mul/Sub with numpy broadcasting, and value propagation for shape arithmetic.
extension ShapeRules {
    /// Broadcasts shapes right-aligned (ONNX multidirectional broadcasting).
    /// Returns nil where known dims conflict (neither equal nor 1).
    static func broadcast(_ shapes: [SShape]) -> SShape? {
        let rank = shapes.map(\.count).max() ?? 0
        var out: SShape = []
        for i in 0..<rank {
            var dim: SDim = .known(1)
            for s in shapes {
                let j = i - (rank - s.count)
                guard j >= 0 else { continue }
                let d = s[j]
                switch (dim, d) {
                case (.known(1), _): dim = d
                case (_, .known(1)): break
                case let (.known(a), .known(b)) where a != b: return nil
                case (.known, _): break
                case (_, .known): dim = d
                case let (.symbol(a), .symbol(b)) where a != b: dim = .unknown
                default: break
                }
            }
            out.append(dim)
        }
        return out
    }

    static func elementwise(_ c: NodeContext) throws -> ValueFacts {
        let present = c.inputs.compactMap { $0 }
        guard present.count == c.inputs.count, !present.isEmpty else { return ValueFacts(elemType: c.elemType, shape: nil) }
        let shapes = present.compactMap(\.shape)
        var shape: SShape? = nil
        if shapes.count == present.count {
            guard let b = broadcast(shapes) else {
                throw RuleError.shape("operands cannot be broadcast together: " + shapes.map(describe).joined(separator: " and "),
                                      expected: "equal dims, or 1", actual: shapes.map(describe).joined(separator: " vs "))
            }
            shape = b
        }
        // Shape arithmetic on 1-D integer values (e.g. Shape(x) * [1, 0, 1, 1] + [0, extra, 0, 0]).
        var values: [SDim]? = nil
        if present.count == 2, let a = present[0].values, let b = present[1].values, a.count == b.count || a.count == 1 || b.count == 1 {
            let n = max(a.count, b.count)
            values = (0..<n).map { i in
                let x = a[a.count == 1 ? 0 : i], y = b[b.count == 1 ? 0 : i]
                switch c.node.opType {
                case "Mul": return x * y
                case "Add", "Sum": return x + y
                case "Sub": if case let (.known(p), .known(q)) = (x, y) { return .known(p &- q) } else { return y == .known(0) ? x : .unknown }
                default: return .unknown
                }
            }
        }
        return ValueFacts(elemType: c.elemType, shape: shape, values: values)
    }
}
