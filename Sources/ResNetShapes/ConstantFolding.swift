/// Integer constant folding over row-major values (possibly symbolic), shared
/// by the checker and the executor: what one resolves, the other resolves the
/// same way. Every function is pure; arithmetic on numbers is checked.
public enum Fold {
    /// Row-major strides of a known shape.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// Visits every multi-index of `shape` in row-major order.
    static func forEachIndex(_ shape: [Int], _ body: ([Int]) throws -> Void) rethrows {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<count {
            try body(index)
            var d = shape.count - 1
            while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
        }
    }

    /// A fully known, small shape as Ints (values are only folded for small tensors).
    static func small(_ shape: SShape?) -> [Int]? {
        // Every dim known (an unknown one must not pass as 0 because another dim is 0).
        guard let shape, shape.allSatisfy({ $0.value != nil }), let n = knownCount(shape), n <= Int64(ValueFacts.maxFoldedElements) else { return nil }
        return shape.map { Int($0.value ?? 0) }
    }

    /// Elementwise integer arithmetic with numpy broadcasting over small known shapes.
    static func binary(_ op: String, _ a: [SDim], _ ashape: [Int], _ b: [SDim], _ bshape: [Int], out: [Int]) throws -> [SDim] {
        let sa = broadcastStrides(ashape, to: out), sb = broadcastStrides(bshape, to: out)
        var result: [SDim] = []
        try forEachIndex(out) { idx in
            var ia = 0, ib = 0
            for d in 0..<out.count { ia += idx[d] * sa[d]; ib += idx[d] * sb[d] }
            result.append(try apply(op, a[ia], b[ib]))
        }
        return result
    }

    /// numpy broadcasting of two known shapes, nil where they conflict.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a, pb = Array(repeating: 1, count: rank - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(x == 1 ? y : x)
        }
        return out
    }

    /// Row-major strides of `shape` aligned right to `out`, 0 where a dim is broadcast.
    public static func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: out.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[out.count - shape.count + i] = shape[i] == 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }

    /// One integer operation: checked on numbers, identities on symbols.
    static func apply(_ op: String, _ x: SDim, _ y: SDim) throws -> SDim {
        switch op {
        case "Mul": return try SDim.times(x, y)
        case "Add", "Sum": return try SDim.plus(x, y)
        case "Sub":
            if case let (.known(p), .known(q)) = (x, y) { return .known(try Checked.sub(p, q, "integer Sub")) }
            return y == .known(0) ? x : .unknown
        case "Div":
            if case let (.known(p), .known(q)) = (x, y) {
                guard q != 0 else { throw ShapeError.invalid("integer division by zero", expected: "a non-zero divisor", actual: "\(p) / 0") }
                guard !(p == .min && q == -1) else { throw ShapeError.invalid("integer division overflows", actual: "\(p) / -1") }
                return .known(p / q)
            }
            return y == .known(1) ? x : .unknown
        case "Max", "Min":
            if case let (.known(p), .known(q)) = (x, y) { return .known(op == "Max" ? max(p, q) : min(p, q)) }
            return x == y ? x : .unknown
        case "Equal":
            if case let (.known(p), .known(q)) = (x, y) { return .known(p == q ? 1 : 0) }
            return x == y && x != .unknown ? .known(1) : .unknown
        case "Less", "Greater":
            if case let (.known(p), .known(q)) = (x, y) { return .known((op == "Less" ? p < q : p > q) ? 1 : 0) }
            return .unknown
        default: return .unknown
        }
    }

    /// Gather along `axis` of a small known tensor by known indices.
    static func gather(_ data: [SDim], _ shape: [Int], axis: Int, indices: [Int64]) throws -> [SDim] {
        let outer = shape[..<axis].reduce(1, *), len = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        let idx = try indices.map { i -> Int in
            let k = i < 0 ? i + Int64(len) : i
            guard k >= 0 && k < Int64(len) else {
                throw ShapeError.invalid("index \(i) is out of range for a dim of \(len)", attribute: "input 1", expected: "\(-len)...\(len - 1)", actual: String(i))
            }
            return Int(k)
        }
        var out: [SDim] = []
        for o in 0..<outer { for k in idx { out += data[(o * len + k) * inner ..< (o * len + k + 1) * inner] } }
        return out
    }

    /// A strided N-D slice (begin, step, count per axis) of a small known tensor.
    static func slice(_ data: [SDim], _ shape: [Int], begin: [Int], step: [Int], out: [Int]) -> [SDim] {
        let s = strides(shape)
        var result: [SDim] = []
        forEachIndex(out) { idx in
            var offset = 0
            for d in 0..<out.count { offset += (begin[d] + idx[d] * step[d]) * s[d] }
            result.append(data[offset])
        }
        return result
    }

    static func transpose(_ data: [SDim], _ shape: [Int], perm: [Int]) -> [SDim] {
        let s = strides(shape), out = perm.map { shape[$0] }
        var result: [SDim] = []
        forEachIndex(out) { idx in
            var offset = 0
            for d in 0..<out.count { offset += idx[d] * s[perm[d]] }
            result.append(data[offset])
        }
        return result
    }

    /// Concatenation of small known tensors along `axis`.
    static func concat(_ parts: [([SDim], [Int])], axis: Int) -> [SDim] {
        guard let first = parts.first?.1 else { return [] }
        let outer = first[..<axis].reduce(1, *)
        var out: [SDim] = []
        for o in 0..<outer {
            for (v, s) in parts {
                let row = s[axis...].reduce(1, *)
                out += v[o * row ..< (o + 1) * row]
            }
        }
        return out
    }
}
