/// Reductions and Softmax.
extension ShapeRules {
    /// Reduce*: axes as attribute (before opset 18; ReduceSum before 13) or input; keepdims default 1.
    static func reduce(_ c: NodeContext) throws -> ValueFacts {
        let keep = try c.bool("keepdims", true)
        let noop = try c.bool("noop_with_empty_axes", false)
        guard let x = c.shape(0) else { return .unknown }
        let axes: [Int]
        switch try c.intsFromAttributeOrInput("axes", input: 1) {
        case .unknown: return ValueFacts(elemType: c.elemType, shape: nil)
        case let .known(given) where !given.isEmpty: axes = try normalizedAxes(given, rank: x.count)
        default:
            if noop { return ValueFacts(elemType: c.elemType, shape: x) }
            axes = Array(0..<x.count)
        }
        let set = Set(axes)
        let out: SShape = x.enumerated().compactMap { i, d in set.contains(i) ? (keep ? .known(1) : nil) : d }
        return ValueFacts(elemType: c.elemType, shape: out)
    }

    static func softmax(_ c: NodeContext) throws -> ValueFacts {
        let axis = try c.int("axis", c.opset >= 13 ? -1 : 1)
        guard let x = c.shape(0) else { return .unknown }
        // Before opset 13 axis may equal the rank (everything is one row).
        if !(c.opset < 13 && axis == Int64(x.count)) { _ = try normalizedAxis(axis, rank: x.count) }
        return ValueFacts(elemType: c.elemType, shape: x)
    }
}
