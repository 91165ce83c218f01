import ResNetKernelsReference

/// The SIMD8 twin of LayoutTranspose (tested against it at block edges): src [rows, columns] ->
/// dst [columns, rows] in 8 x 8 blocks held in registers, eight vector loads and eight vector
/// stores each (the scalar twin moves a float at a time), threads splitting the longer side.
/// Why: the layout copies around the channel-lane Winograd convs of resnet's 56x56 stage
/// (64 x 3136 floats each way) took 0.13-0.22 ms scalar, 0.05-0.09 ms so.
/// A block is transposed in three stages of two-source shuffles (SIMD8Block.transposed): built as
/// eight 8-source vectors, each column gathered from all eight rows at once, the copies ran
/// 5-10% slower (resnet50's layer1, ab-inproc 20 rounds: 0.046-0.057 -> 0.043-0.052 ms).
public enum LayoutTransposeSIMD {
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>, threads: Int) {
        // At least 64 blocks of eight a thread: a smaller copy is not worth waking the other.
        let rowBlocks = rows / 8, columnBlocks = columns / 8
        let splitRows = rowBlocks > columnBlocks
        let blocks = splitRows ? rowBlocks : columnBlocks
        let parts = max(1, min(threads, blocks / 64))
        DispatchFor.concurrent(parts) { t in
            let first = blocks * t / parts * 8, last = t == parts - 1 ? (splitRows ? rows : columns) : blocks * (t + 1) / parts * 8
            if splitRows {
                // Rows first ..< last of src are columns first ..< last of every dst row.
                transpose(src + first * columns, rows: last - first, columns: columns, columnRange: 0..<columns, into: dst + first, dstRows: rows)
            } else {
                transpose(src, rows: rows, columns: columns, columnRange: first..<last, into: dst, dstRows: rows)
            }
        }
    }

    /// Rows 0 ..< rows of src (`columns` floats apart), its columns `columnRange` only, into dst's rows of
    /// the same numbers (`dstRows` floats apart), as LayoutTranspose.transpose(_:rows:columns:columnRange:into:dstRows:).
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, columnRange: Range<Int>,
                                 into dst: UnsafeMutablePointer<Float>, dstRows: Int) {
        let fullRows = rows / 8 * 8, fullEnd = columnRange.lowerBound + (columnRange.count / 8) * 8
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        var c0 = columnRange.lowerBound
        while c0 < fullEnd {
            var r0 = 0
            while r0 < fullRows {
                // Sound: rows r0 ..< r0 + 8 and columns c0 ..< c0 + 8 lie within src [rows, columns], and
                // dst's rows c0 ..< c0 + 8, columns r0 ..< r0 + 8 within dst [columns, dstRows].
                let at = 4 * (r0 * columns + c0), ls = 4 * columns
                let v0 = s.loadUnaligned(fromByteOffset: at, as: SIMD8<Float>.self)
                let v1 = s.loadUnaligned(fromByteOffset: at + ls, as: SIMD8<Float>.self)
                let v2 = s.loadUnaligned(fromByteOffset: at + 2 * ls, as: SIMD8<Float>.self)
                let v3 = s.loadUnaligned(fromByteOffset: at + 3 * ls, as: SIMD8<Float>.self)
                let v4 = s.loadUnaligned(fromByteOffset: at + 4 * ls, as: SIMD8<Float>.self)
                let v5 = s.loadUnaligned(fromByteOffset: at + 5 * ls, as: SIMD8<Float>.self)
                let v6 = s.loadUnaligned(fromByteOffset: at + 6 * ls, as: SIMD8<Float>.self)
                let v7 = s.loadUnaligned(fromByteOffset: at + 7 * ls, as: SIMD8<Float>.self)
                let out = 4 * (c0 * dstRows + r0), ld = 4 * dstRows
                SIMD8Block.store(SIMD8Block.transposed(v0, v1, v2, v3, v4, v5, v6, v7), to: d, at: out, stride: ld)
                r0 += 8
            }
            c0 += 8
        }
        // The edges: rows past the last whole block of eight (all columns of the range), then columns past it.
        if fullRows < rows {
            LayoutTranspose.transpose(src + fullRows * columns, rows: rows - fullRows, columns: columns, columnRange: columnRange,
                                      into: dst + fullRows, dstRows: dstRows)
        }
        if fullEnd < columnRange.upperBound {
            LayoutTranspose.transpose(src, rows: fullRows, columns: columns, columnRange: fullEnd..<columnRange.upperBound, into: dst, dstRows: dstRows)
        }
    }
}
