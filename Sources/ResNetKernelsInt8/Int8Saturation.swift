import CInt8Tiles
import ResNetKernelsReference

/// AVX2 on bytes (Int8Tile.avx2Bytes): vpmaddubsw's int16 pair sums may saturate; the panels whose
/// activations could make them do are found and corrected here (split from Int8Gemm.swift).
extension Int8Gemm {
    /// What correctSaturation did with a panel.
    enum Saturation { case none, corrected, tooMany }

    /// AVX2 on bytes: finds the pairs of one 32-column panel of B whose int16 sums vpmaddubsw may
    /// have saturated (rt_int8_saturation_scan against w's saturationBounds) and, if any, writes C's
    /// `rows` x `columns` as zero plus, for each such pair, its exact sum minus the saturated one,
    /// per row (0 where it did not saturate): `.corrected`, and the panel's first K slice must then
    /// add to C. `.tooMany` where more pairs than K are flagged (C untouched): each costs about as
    /// much as K / 2 of the panel's products, so past that the caller runs the panel as two exact
    /// halves instead (rt_int8_split_bytes), about twice the tile's time at worst. `b` is the panel's
    /// first column of group 0; groups lie `groupStride` bytes apart, `groups` of them (the operand's
    /// padded K / 4); `scan` holds 5 x groups values.
    /// Why flag activations rather than bound the weights: in resnet50-qop 3% of the weight pairs
    /// could saturate with the largest activations, but the activation pairs that large are rare
    /// (a whole run on a standard-normal input flagged 1,617 groups of 4 k in 535 of its panels).
    static func correctSaturation(_ w: PackedInt8Weights, pairs: UnsafePointer<Int8>, bounds: UnsafePointer<Int8>, b: UnsafePointer<UInt8>,
                                  groupStride: Int, groups: Int, columns: Range<Int>, rows: Range<Int>,
                                  c: UnsafeMutablePointer<Int32>, ldc: Int, scan: UnsafeMutablePointer<UInt32>) -> Saturation {
        guard !rows.isEmpty, !columns.isEmpty else { return .none }
        // Sound: the scan reads `groups` groups of 128 bytes (the panel's 32 columns, whole in the layout) and
        // 4 bounds per group (paddedK of them); it writes at most `groups` indices and 4 masks each.
        let found = rt_int8_saturation_scan(b, groupStride, groups, bounds, scan, scan + groups)
        guard found > 0 else { return .none }
        var flagged = 0
        for f in 0..<(4 * found) { flagged += scan[groups + f].nonzeroBitCount }
        guard flagged <= 4 * groups else { return .tooMany }
        for i in rows { (c + i * ldc + columns.lowerBound).update(repeating: 0, count: columns.count) }
        for f in 0..<found {
            let g = Int(scan[f]), masks = scan + groups + 4 * f
            for quarter in 0..<4 {
                var bits = masks[quarter]
                while bits != 0 {
                    // Bit 2l of a quarter's mask: its int16 lane l, column 8 x quarter + l / 2, pair l % 2.
                    let lane = bits.trailingZeroBitCount / 2
                    bits &= bits - 1
                    let column = 8 * quarter + lane / 2, pairIndex = lane % 2, j = columns.lowerBound + column
                    // Columns past N hold zeros, which are never flagged.
                    guard j < columns.upperBound else { continue }
                    let x = b + g * groupStride + 4 * column + 2 * pairIndex, pair = 2 * g + pairIndex
                    // Sound: pair < paddedK / 2 and rows within M, so the reads stay in saturationPairs (whole groups of
                    // 8 rows, and 8 rows of slack after the last pair); the writes are C's rows `rows` at column j.
                    rt_int8_saturation_correct(pairs + 2 * (pair * w.pairRows + rows.lowerBound), rows.count, Int32(x[0]), Int32(x[1]),
                                               c + rows.lowerBound * ldc + j, ldc)
                }
            }
        }
        return .corrected
    }
}
