/// Max pooling that reads a channels-last image and writes either layout (issue 11).
///
/// Why: a ResNet's stem conv (7x7 s2, 3 -> 64, 112x112 out) runs fastest transposed, where
/// its tile holds positions x channels and writes channels last (gemm-bench, one Zen 4 core:
/// 92% of the tile's peak, against 87% for the shifted-rows GEMM that writes channels first
/// plus a pass compacting its grid). A channels-first copy of that 3.2 MB output cost what
/// the faster conv saved (resnet50, 1 thread: conv 2.55 -> 2.22 ms, copy 0.27 ms); the pool
/// after it reads it as it stands instead and writes its 4x smaller output channels first,
/// which resnet50's layer1 1x1s read, or channels last, which resnet18's layer1 Winograd convs
/// and residual read (a channels-first output cost them a copy: 0.04-0.10 ms on one core).
///
/// The folds are `maxPool`'s: per output row, the window's valid input rows folded from -inf
/// by Swift.max in window order (here a whole input row of W x C floats at once, contiguous
/// channels last), then per output column its valid columns in order, so every result,
/// NaN and signed zero included, is the one pooling a channels-first copy gives.
extension Pooling {
    /// Floats of scratch a call needs: one input row of row maxes and one output row, channels last.
    public static func channelsLastScratchFloats(_ g: ConvGeometry) -> Int? {
        let (w, o1) = g.width.addingReportingOverflow(g.outW)
        let (n, o2) = w.multipliedReportingOverflow(by: g.channels)
        return o1 || o2 ? nil : n
    }

    /// x [H, W, C] (one image, C = g.channels) -> y [C, outH, outW], or y [outH, outW, C] when
    /// `channelsLastOutput`, output rows `rows` only (disjoint ranges may run at once), scratch of
    /// channelsLastScratchFloats(g) floats. The reference set's copy; PoolingAVX2 compiles the same
    /// body at x86-64-v3.
    public static func maxPoolChannelsLast(_ x: UnsafePointer<Float>, _ g: ConvGeometry, rows: Range<Int>, into y: UnsafeMutablePointer<Float>,
                                           channelsLastOutput: Bool = false, scratch: UnsafeMutablePointer<Float>) {
        maxPoolChannelsLastBody(x, g, rows: rows, into: y, channelsLastOutput: channelsLastOutput, scratch: scratch,
                                tag: Pooling.self) { src, rows, columns, dst, dstRows in
            LayoutTranspose.transpose(src, rows: rows, columns: columns, columnRange: 0..<columns, into: dst, dstRows: dstRows)
        }
    }

    /// `maxPoolChannelsLast`'s body, for a kernel-set module to compile at its instruction level;
    /// `transpose(src, rows, columns, dst, dstRows)` writes src [rows, columns] as dst's rows
    /// 0 ..< columns (dstRows floats apart), columns 0 ..< rows.
    @inlinable @inline(__always)
    public static func maxPoolChannelsLastBody<Tag>(_ x: UnsafePointer<Float>, _ g: ConvGeometry, rows: Range<Int>, into y: UnsafeMutablePointer<Float>,
                                                    channelsLastOutput: Bool, scratch: UnsafeMutablePointer<Float>, tag: Tag.Type,
                                                    transpose: (UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void) {
        let c = g.channels, rowFloats = g.width * c, outPlane = g.outH * g.outW
        let rowMax = scratch  // [W, C]
        // Each output column's valid window columns (contiguous, as in `poolBody`).
        let columns = (0..<g.outW).map { validRange($0 * g.strideW - g.padLeft, g.kernelW, g.dilationW, g.width) }
        for oy in rows {
            let y0 = oy * g.strideH - g.padTop
            let windowRows = validRange(y0, g.kernelH, g.dilationH, g.height)
            // Sound: every index below is within x's H x W x C (valid rows and columns only), the
            // scratch's W x C + outW x C, or y's C x outH x outW (transpose: columns ox, rows c) or outH x outW x C.
            // The folded row is [outW, C] either way: channels last it is y's row oy as it stands, so the
            // columns fold straight into it; channels first into the scratch's second row (unused, though
            // charged, channels last), then transposed into y's planes.
            @inline(__always) func line(_ ky: Int) -> UnsafePointer<Float> { x + (y0 + ky * g.dilationH) * rowFloats }
            foldMax(into: rowMax, count: rowFloats, taps: windowRows, line)
            let outRow = channelsLastOutput ? y + oy * g.outW * c : scratch + rowFloats  // [outW, C]
            for ox in 0..<g.outW {
                let x0 = ox * g.strideW - g.padLeft
                foldMax(into: outRow + ox * c, count: c, taps: columns[ox]) { UnsafePointer(rowMax + (x0 + $0 * g.dilationW) * c) }
            }
            if !channelsLastOutput { transpose(UnsafePointer(outRow), g.outW, c, y + oy * g.outW, outPlane) }
        }
    }

    /// out[i] = the max of at(t)[i] over the taps t in order, folded from -inf by Swift.max (as
    /// `maxPool` folds, so NaNs drop and signed zeros come out alike); three taps in one pass.
    @inlinable @inline(__always)
    static func foldMax(into out: UnsafeMutablePointer<Float>, count n: Int, taps: Range<Int>, _ at: (Int) -> UnsafePointer<Float>) {
        if taps.count == 3 {
            let (a, b, d) = (at(taps.lowerBound), at(taps.lowerBound + 1), at(taps.lowerBound + 2))
            for i in 0..<n { out[i] = Swift.max(Swift.max(Swift.max(-Float.infinity, a[i]), b[i]), d[i]) }
        } else {
            out.update(repeating: -.infinity, count: n)
            for t in taps {
                let v = at(t)
                for i in 0..<n { out[i] = Swift.max(out[i], v[i]) }
            }
        }
    }

    /// The kernel taps k whose input origin + k * dilation lies in 0 ..< size: a contiguous range
    /// (the index grows with k), empty when none does.
    @inlinable
    static func validRange(_ origin: Int, _ kernel: Int, _ dilation: Int, _ size: Int) -> Range<Int> {
        var lo = kernel, hi = 0
        for k in 0..<kernel where origin + k * dilation >= 0 && origin + k * dilation < size { lo = Swift.min(lo, k); hi = k + 1 }
        return lo < hi ? lo..<hi : 0..<0
    }
}
