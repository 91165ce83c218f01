/// Integer arithmetic of ONNX's quantized operators (issue 13), shared by every
/// kernel set: the naive twin of the int8 GEMM, and the quantize / requantize
/// steps, which every set runs exactly as written here.
///
/// Quantized tensors travel through the executor as float-coded integers (a
/// uint8 255 is the Float 255): every layout operator (Reshape, Flatten, Concat,
/// MaxPool) then works on them unchanged and exactly, since all 8- and 32-bit
/// values a quantized model carries between steps are below 2^24.
public enum Int8GemmReference {
    /// C[M,N] (+)= Σ_k A[m,k] · B[k,n]: int8 weights (row-major, lda) times uint8
    /// activations (row-major, ldb), exact int32 sums (|sum| <= K * 128 * 255 < 2^31 for K < 65,793).
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Int8>, lda: Int, b: UnsafePointer<UInt8>, ldb: Int,
                            c: UnsafeMutablePointer<Int32>, ldc: Int, accumulate: Bool) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Int32 = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k { sum &+= Int32(a[i * lda + p]) &* Int32(b[p * ldb + j]) }
                c[i * ldc + j] = sum
            }
        }
    }
}

/// The range a quantized type saturates to.
public struct QuantizedRange: Sendable, Equatable {
    public let lo: Float, hi: Float
    public static let uint8 = QuantizedRange(lo: 0, hi: 255)
    public static let int8 = QuantizedRange(lo: -128, hi: 127)
    public init(lo: Float, hi: Float) { self.lo = lo; self.hi = hi }

    /// ONNX QuantizeLinear / requantization: round half to even, add the zero point, saturate.
    @inlinable
    public func quantize(_ scaled: Float, zeroPoint: Float) -> Float {
        let q = scaled.rounded(.toNearestOrEven) + zeroPoint
        // NaN saturates to the low end rather than passing through as a non-integer.
        return q.isNaN ? lo : Swift.min(Swift.max(q, lo), hi)
    }
}

/// Requantization of an int32 accumulator block into float-coded 8-bit outputs:
/// y = saturate(round((acc - xzp·Σw - wzp·Σx + K·xzp·wzp + bias) · multiplier) + yzp),
/// with multiplier = x_scale · w_scale / y_scale per output channel, in float32 as
/// onnxruntime computes it.
public struct Requantization: Sendable {
    public let multiplier: [Float]     // [M]
    public let bias: [Int32]           // [M], 0 without a bias
    public let weightRowSums: [Int32]  // [M]: Σ_k w[m,k]
    public let weightZeroPoints: [Int32]  // [M]
    public let inputZeroPoint: Int32
    public let outputZeroPoint: Float
    public let range: QuantizedRange
    public let k: Int

    public init(multiplier: [Float], bias: [Int32], weightRowSums: [Int32], weightZeroPoints: [Int32], inputZeroPoint: Int32,
                outputZeroPoint: Float, range: QuantizedRange, k: Int) {
        self.multiplier = multiplier; self.bias = bias; self.weightRowSums = weightRowSums
        self.weightZeroPoints = weightZeroPoints; self.inputZeroPoint = inputZeroPoint
        self.outputZeroPoint = outputZeroPoint; self.range = range; self.k = k
    }

    /// Row i's integer terms besides Σ x·w: bias - xzp·Σw + K·xzp·wzp (wrapping, see apply).
    @inlinable
    public func constant(row i: Int) -> Int32 {
        bias[i] &- inputZeroPoint &* weightRowSums[i] &+ Int32(truncatingIfNeeded: k) &* inputZeroPoint &* weightZeroPoints[i]
    }

    /// Whether any weight zero point is non-zero (then Σx per column is needed).
    public var needsColumnSums: Bool { weightZeroPoints.contains { $0 != 0 } }

    /// Rows `rows` of acc [M, N] (leading dimension ldc) into out: row i, column j at
    /// out[i * ldo + j * columnStride] (columnStride 1: row-major; ldo 1 and columnStride M:
    /// written transposed). columnSums[j] = Σ_k x[k, j] when needsColumnSums, else ignored.
    /// Integer parts wrap (&-): they are exact for K·255·128 < 2^31, which the planner checks.
    @inlinable
    public func apply<T: ExecScalar>(_ acc: UnsafePointer<Int32>, ldc: Int, rows: Range<Int>, n: Int, columnSums: UnsafePointer<Int32>?,
                                     into out: UnsafeMutablePointer<T>, ldo: Int, columnStride: Int = 1) {
        for i in rows {
            let constant = self.constant(row: i)
            let scale = multiplier[i], wzp = weightZeroPoints[i]
            let src = acc + i * ldc, dst = out + i * ldo
            for j in 0..<n {
                var v = src[j] &+ constant
                if wzp != 0, let columnSums { v = v &- wzp &* columnSums[j] }
                dst[j * columnStride] = T(range.quantize(Float(v) * scale, zeroPoint: outputZeroPoint))
            }
        }
    }
}
