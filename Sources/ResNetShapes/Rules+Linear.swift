/// Gemm and MatMul.
extension ShapeRules {
    /// Gemm: A [M, K] (transA), B [K, N] (transB), C broadcastable to [M, N] -> [M, N].
    static func gemm(_ c: NodeContext) throws -> ValueFacts {
        let transA = try c.bool("transA", false), transB = try c.bool("transB", false)
        guard let a = c.shape(0), let b = c.shape(1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        guard a.count == 2, b.count == 2 else { throw ShapeError.invalid("needs rank-2 A and B", expected: "[M, K] and [K, N]", actual: "\(describe(a)) and \(describe(b))") }
        let (m, k1) = transA ? (a[1], a[0]) : (a[0], a[1])
        let (k2, n) = transB ? (b[1], b[0]) : (b[0], b[1])
        if case let (.known(p), .known(q)) = (k1, k2), p != q {
            throw ShapeError.invalid("A has \(p) columns but B has \(q) rows", expected: "K = \(q)", actual: "A \(describe(a)), B \(describe(b))")
        }
        if c.has(2), let cs = c.shape(2) {
            guard cs.count <= 2, let joined = broadcast([cs, [m, n]]), joined.count == 2,
                  zip(joined, [m, n]).allSatisfy({ $0 == $1 || $0.value == nil || $1.value == nil }) else {
                throw ShapeError.invalid("C \(describe(cs)) does not broadcast to [\(m), \(n)]", attribute: "input 2", expected: "[\(m), \(n)] or broadcastable", actual: describe(cs))
            }
        }
        return ValueFacts(elemType: c.elemType, shape: [m, n])
    }

    static func matmul(_ c: NodeContext) throws -> ValueFacts {
        guard var a = c.shape(0), var b = c.shape(1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        guard !a.isEmpty, !b.isEmpty else { throw ShapeError.invalid("MatMul needs rank >= 1 operands", actual: "\(describe(a)) x \(describe(b))") }
        let aVector = a.count == 1, bVector = b.count == 1
        if aVector { a = [.known(1)] + a }
        if bVector { b = b + [.known(1)] }
        if case let (.known(p), .known(q)) = (a[a.count - 1], b[b.count - 2]), p != q {
            throw ShapeError.invalid("inner dims differ", expected: "\(q)", actual: "\(p) (\(describe(a)) x \(describe(b)))")
        }
        guard let batch = broadcast([Array(a.dropLast(2)), Array(b.dropLast(2))]) else {
            throw ShapeError.invalid("batch dims cannot be broadcast", actual: "\(describe(a)) x \(describe(b))")
        }
        var out = batch + [a[a.count - 2], b[b.count - 1]]
        if bVector { out.removeLast() }
        if aVector { out.remove(at: out.count - (bVector ? 1 : 2)) }
        return ValueFacts(elemType: c.elemType, shape: out)
    }
}
