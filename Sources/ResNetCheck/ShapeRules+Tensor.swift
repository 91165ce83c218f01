import ResNetIR

/// Tensor plumbing: Concat, Pad, Flatten, Reshape, Shape, Gather, Unsqueeze,
/// Squeeze, Slice, ConstantOfShape, Constant.
extension ShapeRules {
    static func concat(_ c: NodeContext) throws -> ValueFacts {
        let present = c.inputs.compactMap { $0 }
        let shapes = present.compactMap(\.shape)
        guard shapes.count == c.inputs.count, let first = shapes.first else { return ValueFacts(elemType: c.elemType, shape: nil) }
        let a = try axis(c.int("axis", 0), rank: first.count, "axis")
        var out = first
        var total: SDim = .known(0)
        for s in shapes {
            guard s.count == first.count else {
                throw RuleError.shape("inputs have ranks \(shapes.map(\.count))", expected: "equal ranks", actual: shapes.map(describe).joined(separator: ", "))
            }
            for i in 0..<s.count where i != a {
                if case let (.known(x), .known(y)) = (s[i], first[i]), x != y {
                    throw RuleError.shape("inputs differ in dim \(i) outside the concat axis \(a)",
                                          expected: describe(first), actual: describe(s))
                }
            }
            total = total + s[a]
            if case .symbol = s[a] { total = .unknown }
        }
        out[a] = total
        let values: [SDim]? = present.allSatisfy({ $0.values != nil }) && first.count == 1 ? present.flatMap { $0.values ?? [] } : nil
        return ValueFacts(elemType: c.elemType, shape: out, values: values)
    }

    /// Pad: pads as attribute (opset < 11) or input 1; [begin..., end...].
    static func pad(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        guard let pads = c.intsFromAttributeOrInput("pads", input: 1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        var axes = Array(0..<x.count)
        if let given = c.input(3)?.ints { axes = try given.map { try axis($0, rank: x.count, "axis") } }
        guard pads.count == 2 * axes.count else {
            throw RuleError.shape("\(pads.count) pads for \(axes.count) axes", expected: "\(2 * axes.count)", actual: "\(pads.count)")
        }
        var out = x
        for (k, a) in axes.enumerated() { out[a] = out[a] + .known(pads[k] + pads[k + axes.count]) }
        return ValueFacts(elemType: c.elemType, shape: out)
    }

    static func product(_ dims: ArraySlice<SDim>) -> SDim { dims.reduce(SDim.known(1), *) }

    static func flatten(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        let a = c.int("axis", 1)
        let k = a == Int64(x.count) ? x.count : try axis(a, rank: x.count, "axis")
        return ValueFacts(elemType: c.elemType, shape: [product(x[0..<k]), product(x[k...])])
    }

    /// Reshape: 0 copies the input dim (unless allowzero), -1 takes what is left.
    static func reshape(_ c: NodeContext) throws -> ValueFacts {
        guard let target = c.input(1)?.values else { return ValueFacts(elemType: c.elemType, shape: nil) }
        let x = c.shape(0)
        let allowZero = c.int("allowzero", 0) != 0
        var out: SShape = target.enumerated().map { i, d in
            if d == .known(0) && !allowZero { return x.flatMap { i < $0.count ? $0[i] : nil } ?? .unknown }
            return d
        }
        if let minus = out.firstIndex(of: .known(-1)) {
            out[minus] = .unknown
            let rest = product(out[...].enumerated().filter { $0.offset != minus }.map(\.element)[...])
            if let x, case let .known(total) = product(x[...]), case let .known(r) = rest, r > 0 {
                guard total % r == 0 else {
                    throw RuleError.shape("cannot reshape \(describe(x)) into \(describe(out))", expected: "a multiple of \(r)", actual: "\(total) elements")
                }
                out[minus] = .known(total / r)
            } else if let x, x.count >= 1, out.count == 2, minus == 1, out[0] == x[0] {
                // torch.flatten: [N, -1] keeps N; the rest is the product of the other dims.
                out[1] = product(x[1...])
            }
        }
        return ValueFacts(elemType: c.elemType, shape: out)
    }

    static func shapeOf(_ c: NodeContext) -> ValueFacts {
        guard let x = c.shape(0) else { return ValueFacts(elemType: 7, shape: [.unknown]) }
        let r = Int64(x.count)
        func clamp(_ v: Int64) -> Int { Int(max(0, min(r, v < 0 ? v + r : v))) }
        let start = clamp(c.int("start", 0)), end = clamp(c.int("end", r))
        let values = start < end ? Array(x[start..<end]) : []
        return ValueFacts(elemType: 7, shape: [.known(Int64(values.count))], values: values)
    }

    static func gather(_ c: NodeContext) throws -> ValueFacts {
        guard let data = c.shape(0), let indices = c.shape(1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        let a = try axis(c.int("axis", 0), rank: data.count, "axis")
        let out = Array(data[..<a]) + indices + Array(data[(a + 1)...])
        var values: [SDim]? = nil
        if data.count == 1, let v = c.input(0)?.values, let idx = c.input(1)?.ints {
            values = try idx.map { i in
                let k = i < 0 ? i + Int64(v.count) : i
                guard k >= 0 && k < Int64(v.count) else { throw RuleError.shape("index \(i) out of range for \(v.count) elements") }
                return v[Int(k)]
            }
        }
        return ValueFacts(elemType: c.elemType, shape: out, values: values)
    }

    static func unsqueeze(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0), let given = c.intsFromAttributeOrInput("axes", input: 1) else { return .unknown }
        let rank = x.count + given.count
        let axes = Set(try given.map { try axis($0, rank: rank, "axis") })
        var out: SShape = []
        var source = x.makeIterator()
        for i in 0..<rank { out.append(axes.contains(i) ? .known(1) : (source.next() ?? .unknown)) }
        return ValueFacts(elemType: c.elemType, shape: out, values: c.input(0)?.values)
    }

    static func squeeze(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        let out: SShape
        if let given = c.intsFromAttributeOrInput("axes", input: 1) {
            let axes = Set(try given.map { try axis($0, rank: x.count, "axis") })
            for a in axes where x[a].value != nil && x[a] != .known(1) {
                throw RuleError.shape("axis \(a) has size \(x[a]), only size-1 axes can be squeezed", actual: describe(x))
            }
            out = x.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        } else {
            guard !x.contains(where: { $0.value == nil }) else { return ValueFacts(elemType: c.elemType, shape: nil) }
            out = x.filter { $0 != .known(1) }
        }
        return ValueFacts(elemType: c.elemType, shape: out, values: c.input(0)?.values)
    }

    /// Slice: starts/ends/axes/steps as inputs (opset >= 10) or attributes (older).
    static func slice(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        let old = c.opset < 10
        guard let starts = old ? c.ints("starts") : c.input(1)?.ints,
              let ends = old ? c.ints("ends") : c.input(2)?.ints else { return ValueFacts(elemType: c.elemType, shape: nil) }
        let axes = (old ? c.ints("axes") : c.input(3)?.ints) ?? Array(0..<Int64(starts.count))
        let steps = (old ? nil : c.input(4)?.ints) ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw RuleError.shape("starts, ends, axes and steps have different lengths")
        }
        var out = x
        var values = c.input(0)?.values
        for k in 0..<starts.count {
            let a = try axis(axes[k], rank: x.count, "axis")
            guard steps[k] != 0 else { throw RuleError.shape("step 0 on axis \(a)") }
            guard case let .known(n) = x[a] else { out[a] = .unknown; values = nil; continue }
            let step = steps[k]
            func clampIndex(_ v: Int64, _ lo: Int64, _ hi: Int64) -> Int64 { max(lo, min(hi, v < 0 ? v &+ n : v)) }
            let (lo, hi): (Int64, Int64) = step > 0 ? (0, n) : (-1, n - 1)
            let s = clampIndex(starts[k], lo, hi), e = clampIndex(ends[k], lo, hi)
            let count = step > 0 ? max(0, (e - s + step - 1) / step) : max(0, (s - e + (-step) - 1) / (-step))
            out[a] = .known(count)
            if x.count == 1, let v = values, step > 0 { values = Array(stride(from: Int(s), to: Int(e), by: Int(step)).map { v[$0] }) } else { values = nil }
        }
        return ValueFacts(elemType: c.elemType, shape: out, values: values)
    }

    static func constantOfShape(_ c: NodeContext) -> ValueFacts {
        let elem = c.node.attribute("value")?.tensor?.dataType.rawValue ?? DataType.float.rawValue
        return ValueFacts(elemType: elem, shape: c.input(0)?.values)
    }

    static func constant(_ c: NodeContext) throws -> ValueFacts {
        if let t = c.node.attribute("value")?.tensor { return ValueFacts(tensor: t) }
        if c.node.attribute("value_float") != nil { return ValueFacts(elemType: 1, shape: [], isConstant: true) }
        if let v = c.node.attribute("value_int")?.int { return ValueFacts(elemType: 7, shape: [], values: [.known(v)], isConstant: true) }
        if let v = c.ints("value_ints") { return ValueFacts(elemType: 7, shape: [.known(Int64(v.count))], values: v.map { .known($0) }, isConstant: true) }
        if let v = c.node.attribute("value_floats")?.floats { return ValueFacts(elemType: 1, shape: [.known(Int64(v.count))], isConstant: true) }
        throw RuleError.unsupported("Constant without a tensor, int or float value")
    }

    /// Gemm: A [M, K] (transA), B [K, N] (transB) -> [M, N].
    static func gemm(_ c: NodeContext) throws -> ValueFacts {
        guard let a = c.shape(0), let b = c.shape(1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        guard a.count == 2, b.count == 2 else { throw RuleError.shape("needs rank-2 inputs", actual: "\(describe(a)) and \(describe(b))") }
        let (m, k1) = c.int("transA", 0) != 0 ? (a[1], a[0]) : (a[0], a[1])
        let (k2, n) = c.int("transB", 0) != 0 ? (b[1], b[0]) : (b[0], b[1])
        if case let (.known(p), .known(q)) = (k1, k2), p != q {
            throw RuleError.shape("A has \(p) columns but B has \(q) rows", expected: "K = \(q)", actual: "A \(describe(a)), B \(describe(b))")
        }
        return ValueFacts(elemType: c.elemType, shape: [m, n])
    }

    static func matmul(_ c: NodeContext) throws -> ValueFacts {
        guard var a = c.shape(0), var b = c.shape(1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        let aVector = a.count == 1, bVector = b.count == 1
        if aVector { a = [.known(1)] + a }
        if bVector { b = b + [.known(1)] }
        guard a.count >= 2, b.count >= 2 else { throw RuleError.shape("needs rank >= 1 inputs") }
        if case let (.known(p), .known(q)) = (a[a.count - 1], b[b.count - 2]), p != q {
            throw RuleError.shape("inner dims differ", expected: "\(q)", actual: "\(p) (\(describe(a)) x \(describe(b)))")
        }
        guard let batch = broadcast([Array(a.dropLast(2)), Array(b.dropLast(2))]) else {
            throw RuleError.shape("batch dims cannot be broadcast", actual: "\(describe(a)) x \(describe(b))")
        }
        var out = batch + [a[a.count - 2], b[b.count - 1]]
        if bVector { out.removeLast() }
        if aVector { out.remove(at: out.count - (bVector ? 1 : 2)) }
        return ValueFacts(elemType: c.elemType, shape: out)
    }
}
