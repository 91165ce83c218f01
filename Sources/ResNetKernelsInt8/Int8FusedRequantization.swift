import ResNetKernelsReference

/// A requantization the SIMD tiles apply as they finish (rt_requant_tile), so the int32 sums
/// never go to memory and back: a 1x1 conv at 56x56 wrote, read and wrote again 3.2 MB
/// apiece (sums, then float-coded outputs). Only where it needs no column sums (every
/// weight zero point 0: onnxruntime's default, symmetric int8 weights).
public struct Int8FusedRequantization: Sendable {
    /// Per row: Requantization.constant(row:), and its multiplier.
    public let constants: [Int32], multipliers: [Float]
    public let zeroPoint: Float, lo: Float, hi: Float

    public init?(_ r: Requantization) {
        guard !r.needsColumnSums else { return nil }
        constants = (0..<r.multiplier.count).map(r.constant(row:))
        multipliers = r.multiplier
        zeroPoint = r.outputZeroPoint; lo = r.range.lo; hi = r.range.hi
    }
}

/// A residual join (com.microsoft QLinearAdd of the conv's output and another tensor of its shape)
/// that the VNNI tile finishes with (rt_requant_tile's join): the conv's requantized values are never
/// stored, the join's results are, in the outputs the requantization names. The figures are those
/// rt_qlinear_add_avx2 computes with, so the results are the unfused join's, element for element.
public struct Int8Join: Sendable, Equatable {
    /// The other operand's byte offset (its bytes hold value + offset).
    public let offset: Float
    /// Whether the conv's output is the join's A (else its B).
    public let convIsA: Bool
    /// A's and B's scale over the output's; zc - (ra·za + rb·zb); the output's range.
    public let ratioA: Float, ratioB: Float, fixed: Float, lo: Float, hi: Float

    /// The join of Int8Elementwise.qlinearAdd's figures (zero points, ratios, range), the conv's output
    /// as its A or B, the other operand's bytes holding its values + `offset`.
    public init(offset: Int, convIsA: Bool, zeroPoints: (a: Float, b: Float, c: Float), ratios: (a: Float, b: Float), range: QuantizedRange) {
        self.offset = Float(offset); self.convIsA = convIsA; ratioA = ratios.a; ratioB = ratios.b
        // rt_qlinear_add_avx2's constant, in its order, each operation rounded (Swift contracts none into a fused multiply-add).
        fixed = zeroPoints.c - (ratios.a * zeroPoints.a + ratios.b * zeroPoints.b)
        lo = range.lo; hi = range.hi
    }
}
