/// Moves an image between channels-first and channels-last layouts: src [rows, columns] ->
/// dst [columns, rows] (channels last to first: rows = positions, columns = channels; and
/// the other way round). In 8 x 8 blocks, so both sides are read and written a cache line
/// at a time rather than one float per line. (The scalar twin of LayoutTransposeSIMD.)
public enum LayoutTranspose {
    @inlinable
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>) {
        transpose(src, rows: rows, columns: columns, columnRange: 0..<columns, into: dst, dstRows: rows)
    }

    /// Rows 0 ..< rows of src (`columns` floats apart), its columns `columnRange` only, into dst's
    /// rows of the same numbers (`dstRows` floats apart): a thread's share, or a SIMD copy's edges.
    @inlinable
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, columnRange: Range<Int>,
                                 into dst: UnsafeMutablePointer<Float>, dstRows: Int) {
        let block = 8
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + block)
            var c0 = columnRange.lowerBound
            while c0 < columnRange.upperBound {
                let c1 = min(columnRange.upperBound, c0 + block)
                for r in r0..<r1 {
                    let line = src + r * columns
                    for c in c0..<c1 { dst[c * dstRows + r] = line[c] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}
