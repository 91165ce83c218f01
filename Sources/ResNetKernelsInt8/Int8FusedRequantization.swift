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
