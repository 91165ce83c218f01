import ResNetIR

/// Layout: Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Expand, Shape.
extension ShapeRules {
    static func product(_ dims: ArraySlice<SDim>) throws -> SDim { try elementCount(Array(dims)) }

    static func flatten(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        let a = try c.int("axis", 1)
        let k = a == Int64(x.count) ? x.count : try normalizedAxis(a, rank: x.count)
        return ValueFacts(elemType: c.elemType, shape: [try product(x[0..<k]), try product(x[k...])], values: c.input(0)?.values)
    }

    /// Reshape's target resolved against the input: 0 copies the input dim
    /// (unless allowzero), one -1 takes what is left, other negatives are errors.
    public static func reshapeTarget(_ x: SShape?, _ target: [SDim], allowZero: Bool) throws -> SShape {
        let minusOnes = target.filter { $0 == .known(-1) }.count
        guard minusOnes <= 1 else { throw ShapeError.invalid("shape has \(minusOnes) dims of -1", attribute: "input 1", expected: "at most one -1", actual: describe(target)) }
        if let bad = target.first(where: { ($0.value ?? 0) < -1 }) {
            throw ShapeError.invalid("shape has a negative dim \(bad)", attribute: "input 1", expected: "dims >= -1", actual: describe(target))
        }
        if allowZero && minusOnes == 1 && target.contains(.known(0)) {
            throw ShapeError.invalid("allowzero with both 0 and -1 in the shape is ambiguous", attribute: "allowzero", actual: describe(target))
        }
        var out: SShape = try target.enumerated().map { i, d in
            guard d == .known(0) && !allowZero else { return d }
            guard let x else { return .unknown }
            guard i < x.count else {
                throw ShapeError.invalid("dim \(i) is 0 (copy the input's) but the input has rank \(x.count)", attribute: "input 1", actual: describe(target))
            }
            return x[i]
        }
        let total = try x.map { try elementCount($0) }
        if let minus = out.firstIndex(of: .known(-1)) {
            out[minus] = .unknown
            let rest = try product(ArraySlice(out.enumerated().filter { $0.offset != minus }.map(\.element)))
            if case let .known(t)? = total, case let .known(r) = rest {
                guard r > 0 ? t % r == 0 : t == 0 else {
                    throw ShapeError.invalid("cannot reshape \(describe(x)) into \(describe(target))", expected: "a multiple of \(r) elements", actual: "\(t) elements")
                }
                out[minus] = .known(r > 0 ? t / r : 0)
            } else if let x {
                // Symbols cancel: [N, C, 1, 1] -> [N, 1, -1] gives -1 = C (torch's view(N, 1, -1); flatten's [N, -1]).
                var rest = x
                var others: [SDim] = []
                for (i, d) in out.enumerated() where i != minus {
                    // Only a named symbol cancels itself; two unknown dims need not be equal.
                    if case .symbol = d, let k = rest.firstIndex(of: d) { rest.remove(at: k) } else { others.append(d) }
                }
                if case let .known(r) = try elementCount(others), r > 0 {
                    let left = try elementCount(rest)
                    if case let .known(t) = left {
                        guard t % r == 0 else {
                            throw ShapeError.invalid("cannot reshape \(describe(x)) into \(describe(target))", expected: "a multiple of \(r) elements", actual: "\(t) elements")
                        }
                        out[minus] = .known(t / r)
                    } else if r == 1 {
                        out[minus] = left
                    }
                }
            }
        } else if case let .known(t)? = total, case let .known(o) = try elementCount(out), t != o {
            throw ShapeError.invalid("cannot reshape \(describe(x)) (\(t) elements) into \(describe(out)) (\(o) elements)",
                                     expected: "\(t) elements", actual: "\(o) elements")
        }
        return out
    }

    static func reshape(_ c: NodeContext) throws -> ValueFacts {
        let allowZero = try c.bool("allowzero", false)
        let target: [SDim]?
        if c.opset < 5 { target = try c.ints("shape")?.map { .known($0) } } else {
            if let s = c.shape(1), s.count != 1 { throw ShapeError.invalid("shape must be 1-D", attribute: "input 1", expected: "rank 1", actual: describe(s)) }
            target = c.input(1)?.values
        }
        guard let target else { return ValueFacts(elemType: c.elemType, shape: nil) }
        return ValueFacts(elemType: c.elemType, shape: try reshapeTarget(c.shape(0), target, allowZero: allowZero), values: c.input(0)?.values)
    }

    static func transpose(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        let perm = try c.ints("perm").map { try normalizedAxes($0, rank: x.count, "perm") } ?? Array((0..<x.count).reversed())
        guard perm.count == x.count else {
            throw ShapeError.invalid("perm has \(perm.count) axes for rank \(x.count)", attribute: "perm", expected: "\(x.count) axes", actual: "\(perm)")
        }
        var values: [SDim]? = nil
        if let v = c.input(0)?.values, let s = Fold.small(x) { values = Fold.transpose(v, s, perm: perm) }
        return ValueFacts(elemType: c.elemType, shape: perm.map { x[$0] }, values: values)
    }

    static func unsqueeze(_ c: NodeContext) throws -> ValueFacts {
        guard let given = try c.intsFromAttributeOrInput("axes", input: 1).values else {
            if c.opset >= 13 && !c.has(1) { throw ShapeError.invalid("axes are required", attribute: "axes", actual: "none") }
            return .unknown
        }
        guard let x = c.shape(0) else { return .unknown }
        let rank = x.count + given.count
        let axes = Set(try normalizedAxes(given, rank: rank))
        var out: SShape = []
        var source = x.makeIterator()
        for i in 0..<rank { out.append(axes.contains(i) ? .known(1) : (source.next() ?? .unknown)) }
        return ValueFacts(elemType: c.elemType, shape: out, values: c.input(0)?.values)
    }

    static func squeeze(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        let out: SShape
        switch try c.intsFromAttributeOrInput("axes", input: 1) {
        case let .known(given) where !given.isEmpty:
            let axes = Set(try normalizedAxes(given, rank: x.count))
            for a in axes.sorted() where x[a].value != nil && x[a] != .known(1) {
                throw ShapeError.invalid("axis \(a) has size \(x[a]); only size-1 axes can be squeezed", attribute: "axes", actual: describe(x))
            }
            out = x.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        case .unknown:
            return ValueFacts(elemType: c.elemType, shape: nil)
        default:
            guard !x.contains(where: { $0.value == nil }) else { return ValueFacts(elemType: c.elemType, shape: nil) }
            out = x.filter { $0 != .known(1) }
        }
        return ValueFacts(elemType: c.elemType, shape: out, values: c.input(0)?.values)
    }

    /// Expand: the input broadcast with the given shape (either may be larger in a dim).
    static func expand(_ c: NodeContext) throws -> ValueFacts {
        if let s = c.shape(1), s.count != 1 { throw ShapeError.invalid("shape must be 1-D", attribute: "input 1", expected: "rank 1", actual: describe(s)) }
        guard let x = c.shape(0), let target = c.input(1)?.values else { return ValueFacts(elemType: c.elemType, shape: nil) }
        if let bad = target.first(where: { ($0.value ?? 0) < 0 }) {
            throw ShapeError.invalid("shape has a negative dim \(bad)", attribute: "input 1", expected: "dims >= 0", actual: describe(target))
        }
        let out = try broadcastOrThrow([x, target])
        _ = try elementCount(out)
        var values: [SDim]? = nil
        if let v = c.input(0)?.values, let xs = Fold.small(x), let os = Fold.small(out) {
            let strides = Fold.broadcastStrides(xs, to: os)
            var result: [SDim] = []
            Fold.forEachIndex(os) { idx in result.append(v[zip(idx, strides).reduce(0) { $0 + $1.0 * $1.1 }]) }
            values = result
        }
        return ValueFacts(elemType: c.elemType, shape: out, values: values)
    }

    /// Shape: the input's dims (start/end clamped as ONNX says), possibly symbolic.
    static func shapeOf(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return ValueFacts(elemType: 7, shape: [.unknown]) }
        let r = Int64(x.count)
        func clamp(_ v: Int64) -> Int { Int(max(0, min(r, v < 0 ? v &+ r : v))) }  // v < 0: v + r cannot overflow
        let start = clamp(try c.int("start", 0)), end = clamp(try c.int("end", r))
        let values = start < end ? Array(x[start..<end]) : []
        return ValueFacts(elemType: DataType.int64.rawValue, shape: [.known(Int64(values.count))], values: values)
    }
}
