import ResNetIR

/// Selection and joining: Slice, Gather, Concat, Pad, Split.
extension ShapeRules {
    /// One sliced axis of size `n`, ONNX clamping: starts and ends clamped to [0, n]
    /// for positive steps; for negative ones starts to [0, n-1] and ends to [-1, n-1].
    /// Returns the first index and the count; no arithmetic can overflow (Int64.min steps included).
    public static func sliceAxis(n: Int64, start: Int64, end: Int64, step: Int64) -> (begin: Int64, count: Int64) {
        guard n > 0 else { return (0, 0) }  // nothing to take from an empty axis, whichever the step
        func clamp(_ v: Int64, _ lo: Int64, _ hi: Int64) -> Int64 { max(lo, min(hi, v < 0 ? v &+ n : v)) }  // v < 0 <= n: no overflow
        let s = step > 0 ? clamp(start, 0, n) : clamp(start, 0, n - 1)
        let e = step > 0 ? clamp(end, 0, n) : clamp(end, -1, n - 1)
        let distance = step > 0 ? e - s : s - e  // both within [-1, n]
        guard distance > 0 else { return (s, 0) }
        let count = (UInt64(distance) - 1) / step.magnitude + 1
        return (s, Int64(count))
    }

    /// Slice's operands, checked: axes in range and distinct, steps non-zero, lengths equal.
    public struct SliceSpec: Sendable {
        public let axes: [Int]
        public let starts: [Int64]
        public let ends: [Int64]
        public let steps: [Int64]
    }

    public static func sliceSpec(_ c: NodeContext, rank: Int) throws -> SliceSpec? {
        let old = c.opset < 10
        let starts: [Int64]?, ends: [Int64]?, axes: [Int64]?, steps: [Int64]?
        if old {
            starts = try c.ints("starts"); ends = try c.ints("ends"); axes = try c.ints("axes"); steps = nil
            guard starts != nil, ends != nil else { throw ShapeError.invalid("starts and ends are required", attribute: "starts") }
        } else {
            starts = c.input(1)?.ints; ends = c.input(2)?.ints
            axes = c.has(3) ? c.input(3)?.ints : nil
            steps = c.has(4) ? c.input(4)?.ints : nil
            if (c.has(3) && axes == nil) || (c.has(4) && steps == nil) { return nil }
        }
        guard let starts, let ends else { return nil }
        let a = try normalizedAxes(axes ?? (0..<Int64(starts.count)).map { $0 }, rank: rank)
        let st = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, a.count == starts.count, st.count == starts.count else {
            throw ShapeError.invalid("starts, ends, axes and steps have different lengths", attribute: "starts",
                                     expected: "\(starts.count) each", actual: "ends \(ends.count), axes \(a.count), steps \(st.count)")
        }
        if let k = st.firstIndex(of: 0) { throw ShapeError.invalid("step 0 on axis \(a[k])", attribute: "steps", expected: "a non-zero step", actual: "0") }
        return SliceSpec(axes: a, starts: starts, ends: ends, steps: st)
    }

    static func slice(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        guard let spec = try sliceSpec(c, rank: x.count) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        var out = x
        var begin = [Int](repeating: 0, count: x.count), step = [Int](repeating: 1, count: x.count)
        for k in spec.axes.indices {
            let a = spec.axes[k]
            guard case let .known(n) = x[a] else { out[a] = .unknown; continue }
            let r = sliceAxis(n: n, start: spec.starts[k], end: spec.ends[k], step: spec.steps[k])
            out[a] = .known(r.count)
            begin[a] = Int(clamping: r.begin); step[a] = Int(clamping: spec.steps[k])
        }
        var values: [SDim]? = nil
        if let v = c.input(0)?.values, let s = Fold.small(x), let o = Fold.small(out) { values = Fold.slice(v, s, begin: begin, step: step, out: o) }
        return ValueFacts(elemType: c.elemType, shape: out, values: values)
    }

    static func gather(_ c: NodeContext) throws -> ValueFacts {
        guard let data = c.shape(0), let indices = c.shape(1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        let a = try normalizedAxis(try c.int("axis", 0), rank: data.count)
        let out = Array(data[..<a]) + indices + Array(data[(a + 1)...])
        if let idx = c.input(1)?.ints, case let .known(len) = data[a] {
            for i in idx where !(i >= -len && i < len) {
                throw ShapeError.invalid("index \(i) is out of range for a dim of \(len)", attribute: "input 1", expected: "\(-len)...\(len - 1)", actual: String(i))
            }
        }
        var values: [SDim]? = nil
        if let v = c.input(0)?.values, let s = Fold.small(data), let idx = c.input(1)?.ints { values = try Fold.gather(v, s, axis: a, indices: idx) }
        return ValueFacts(elemType: c.elemType, shape: out, values: values)
    }

    static func concat(_ c: NodeContext) throws -> ValueFacts {
        let axisValue = try c.int("axis", 0)
        let present = c.inputs.compactMap { $0 }
        let shapes = present.compactMap(\.shape)
        guard shapes.count == c.inputs.count, let first = shapes.first else { return ValueFacts(elemType: c.elemType, shape: nil) }
        for s in shapes where s.count != first.count {
            throw ShapeError.invalid("inputs have ranks \(shapes.map(\.count))", expected: "equal ranks", actual: shapes.map(describe).joined(separator: ", "))
        }
        let a = try normalizedAxis(axisValue, rank: first.count)
        var out = first
        var total: SDim = .known(0)
        for s in shapes {
            for i in 0..<s.count where i != a {
                if case let (.known(x), .known(y)) = (s[i], first[i]), x != y {
                    throw ShapeError.invalid("inputs differ in dim \(i) outside the concat axis \(a)", expected: describe(first), actual: describe(s))
                }
            }
            total = try SDim.plus(total, s[a])
            if case .symbol = s[a] { total = .unknown }
        }
        out[a] = total
        var values: [SDim]? = nil
        if Fold.small(out) != nil {
            let parts = present.compactMap { p -> ([SDim], [Int])? in
                guard let v = p.values, let s = Fold.small(p.shape) else { return nil }
                return (v, s)
            }
            if parts.count == present.count { values = Fold.concat(parts, axis: a) }
        }
        return ValueFacts(elemType: c.elemType, shape: out, values: values)
    }

    /// Pad's amounts resolved to every axis: [begin..., end...] of the input's rank.
    public static func resolvePads(_ pads: [Int64], axes given: [Int64]?, rank: Int) throws -> [Int64] {
        let axes = try given.map { try normalizedAxes($0, rank: rank) } ?? Array(0..<rank)
        guard pads.count == 2 * axes.count else {
            throw ShapeError.invalid("\(pads.count) pads for \(axes.count) axes", attribute: "pads", expected: "\(2 * axes.count) values", actual: "\(pads.count)")
        }
        var full = [Int64](repeating: 0, count: 2 * rank)
        for (k, a) in axes.enumerated() { full[a] = pads[k]; full[a + rank] = pads[k + axes.count] }
        return full
    }

    /// Pad: pads as attribute (opset < 11) or input 1; [begin..., end...]; negative pads crop.
    static func pad(_ c: NodeContext) throws -> ValueFacts {
        let mode = try c.string("mode") ?? "constant"
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else {
            throw ShapeError.invalid("mode '\(mode)' is not one of ONNX's", attribute: "mode", expected: "constant, reflect, edge or wrap", actual: mode)
        }
        guard let x = c.shape(0) else { return .unknown }
        guard let pads = try c.intsFromAttributeOrInput("pads", input: 1).values else { return ValueFacts(elemType: c.elemType, shape: nil) }
        var axes: [Int64]? = nil
        if c.has(3) {
            guard let given = c.input(3)?.ints else { return ValueFacts(elemType: c.elemType, shape: nil) }
            axes = given
        }
        let full = try resolvePads(pads, axes: axes, rank: x.count)
        var out = x
        for a in 0..<x.count {
            let grow = try Checked.add(full[a], full[a + x.count], "pads of axis \(a)")
            out[a] = try SDim.plus(x[a], .known(grow))
            if let v = out[a].value, v < 0 {
                throw ShapeError.invalid("pads \(full[a])+\(full[a + x.count]) crop axis \(a) of size \(x[a]) below zero", attribute: "pads",
                                         expected: "a result >= 0", actual: String(v))
            }
        }
        return ValueFacts(elemType: c.elemType, shape: out)
    }

    /// Split: sizes from `split` (attribute before opset 13, input after), else
    /// equal parts (num_outputs from opset 18: the last part may be smaller).
    static func split(_ c: NodeContext) throws -> [ValueFacts] {
        let parts = c.node.outputs.count
        guard let x = c.shape(0) else { return Array(repeating: .unknown, count: parts) }
        let a = try normalizedAxis(try c.int("axis", 0), rank: x.count)
        let sizes: [Int64]?
        switch try c.intsFromAttributeOrInput("split", input: 1) {
        case let .known(s): sizes = s
        case .unknown: return Array(repeating: ValueFacts(elemType: c.elemType, shape: nil), count: parts)
        case .absent: sizes = nil
        }
        if let n = c.node.attribute("num_outputs"), n.int != Int64(parts) {
            throw ShapeError.invalid("num_outputs is \(n.int.map(String.init) ?? "not an INT") for \(parts) outputs", attribute: "num_outputs",
                                     expected: String(parts), actual: n.int.map(String.init) ?? "?")
        }
        guard case let .known(len) = x[a] else { return Array(repeating: ValueFacts(elemType: c.elemType, shape: nil), count: parts) }
        let resolved: [Int64]
        if let sizes {
            guard sizes.count == parts, sizes.allSatisfy({ $0 >= 0 }) else {
                throw ShapeError.invalid("split \(sizes) for \(parts) outputs", attribute: "split", expected: "\(parts) sizes >= 0", actual: "\(sizes)")
            }
            let sum = try sizes.reduce(Int64(0)) { try Checked.add($0, $1, "split sizes") }
            guard sum == len else { throw ShapeError.invalid("split sizes add up to \(sum), not the axis' \(len)", attribute: "split", expected: String(len), actual: String(sum)) }
            resolved = sizes
        } else {
            let p = Int64(parts), chunk = len / p + (len % p == 0 ? 0 : 1)
            if c.opset < 18 && len % p != 0 {
                throw ShapeError.invalid("axis of \(len) does not split into \(parts) equal parts", expected: "a multiple of \(parts)", actual: String(len))
            }
            var remaining = len
            resolved = (0..<p).map { _ in let part = min(chunk, remaining); remaining -= part; return part }
        }
        return resolved.map { s in
            var shape = x
            shape[a] = .known(s)
            return ValueFacts(elemType: c.elemType, shape: shape)
        }
    }
}
