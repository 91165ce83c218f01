/// Row-major matrix views for the kernels: element (i, j) is at base[i * ld + j].
/// Kernels take buffer pointers that callers obtain inside `withUnsafe...` closures.
public struct MatrixShape: Sendable {
    public let rows: Int, cols: Int, ld: Int
    public init(rows: Int, cols: Int, ld: Int) { self.rows = rows; self.cols = cols; self.ld = ld }
}

/// What happens to C after the product: bias per row and/or ReLU.
public struct GemmEpilogue: Sendable {
    public var accumulate = false
    public var relu = false
    public init(accumulate: Bool = false, relu: Bool = false) { self.accumulate = accumulate; self.relu = relu }
}

/// The naive twin of `Sgemm`: C[M,N] = A[M,K] · B[K,N] (+ C) (+ bias[m]) (ReLU),
/// one multiply-add at a time in k order. Slow, obviously right; the SIMD kernel
/// is tested against it.
public enum GemmReference {
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func sgemm<T: ExecScalar>(m: Int, n: Int, k: Int,
                             a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                             c: UnsafeMutablePointer<T>, ldc: Int,
                             bias: UnsafePointer<T>?, epilogue: GemmEpilogue) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: T = epilogue.accumulate ? c[i * ldc + j] : 0
                for p in 0..<k { sum = (a[i * lda + p] * b[p * ldb + j]) + sum }
                if let bias { sum += bias[i] }
                c[i * ldc + j] = epilogue.relu ? max(sum, 0) : sum
            }
        }
    }
}
