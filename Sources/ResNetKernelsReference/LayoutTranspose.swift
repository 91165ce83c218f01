/// Moves an image between channels-first and channels-last layouts: src [rows, columns] ->
/// dst [columns, rows] (channels last to first: rows = positions, columns = channels; and
/// the other way round). In 8 x 8 blocks, so both sides are read and written a cache line
/// at a time rather than one float per line.
public enum LayoutTranspose {
    @inlinable
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>) {
        let block = 8
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + block)
            var c0 = 0
            while c0 < columns {
                let c1 = min(columns, c0 + block)
                for r in r0..<r1 {
                    let line = src + r * columns
                    for c in c0..<c1 { dst[c * rows + r] = line[c] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}
