import CCPU

/// B of a convolution, x [C, H, W] -> B[C*kh*kw, Ho*Wo], read straight from the
/// image into the panels (implicit GEMM): row (c, ky, kx), column (oy, ox) holds
/// x[c, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw], or 0 in the padding.
public struct ConvPatchesB: PackedBSource {
    public let x: UnsafePointer<Float>, g: ConvGeometry
    @inlinable public init(x: UnsafePointer<Float>, g: ConvGeometry) { self.x = x; self.g = g }

    // Always inlined: a call would run this module's baseline x86-64 copy, not the kernel set's.
    @inlinable @inline(__always)
    public func pack(k0: Int, kb: Int, n0: Int, nb: Int, nr: Int, into out: UnsafeMutablePointer<Float>) {
        #if compiler(>=6.2) && os(Linux)
        if readsWithoutPadding && nr <= ConvPatchesB.tableColumns {
            packPointwise(k0: k0, kb: kb, n0: n0, nb: nb, nr: nr, into: out)
            return
        }
        #endif
        packWindows(k0: k0, kb: kb, n0: n0, nb: nb, nr: nr, into: out)
    }

    /// Columns whose offsets packPointwise's table holds: the drivers' blocks of nc = 512.
    public static let tableColumns = 512

    /// A 1x1 window that never reads padding (ResNet's strided downsamples): every column
    /// reads one value at the same offset in each channel's plane, below 2^31 (a plane of
    /// fewer floats). Written so that no product can overflow, whatever the geometry.
    @inlinable
    public var readsWithoutPadding: Bool {
        g.kernelH == 1 && g.kernelW == 1 && g.padTop == 0 && g.padLeft == 0 && g.height > 0 && g.width > 0
            && g.height <= Int(Int32.max) / g.width && g.outH > 0 && g.outW > 0 && g.strideH > 0 && g.strideW > 0
            && g.outH - 1 <= (g.height - 1) / g.strideH && g.outW - 1 <= (g.width - 1) / g.strideW
    }

    #if compiler(>=6.2) && os(Linux)
    /// `pack` for `readsWithoutPadding`: each column's offset in a plane, oy*sh*W + ox*sw, is
    /// worked out once per block of columns, then every row copies its panels lane by lane
    /// through that table. Why: packWindows splits each row into runs that end at an output
    /// row's or a panel's edge (28, 14 or 7 columns against 32-lane panels) and copies each run
    /// on its own. gemm-bench, resnet18's layer2 downsample (64 x 784 floats) on one Zen 4 core,
    /// AVX-512: the GEMM 76 -> 87 GFLOP/s. The table is an InlineArray (Swift 6.2; on Apple
    /// platforms a 2025 OS, so only Linux takes this path), not a temporary allocation: the
    /// closure that takes would be emitted once, for baseline x86-64, and shared by both kernel
    /// sets (perf: scalar SSE moves, the pack 21% of gemm-bench's profile against 4% inlined).
    @inlinable @inline(__always)
    public func packPointwise(k0: Int, kb: Int, n0: Int, nb: Int, nr: Int, into out: UnsafeMutablePointer<Float>) {
        guard nb > 0, kb > 0, nr > 0, nr <= ConvPatchesB.tableColumns else { return }
        let planeSize = g.height * g.width, panelStride = kb * nr
        // Blocks of whole panels whose offsets fit the table.
        var table = InlineArray<512, Int32>(repeating: 0)
        let block = table.count / nr * nr
        var offsets = table.mutableSpan
        var c0 = 0
        while c0 < nb {
            let cols = min(block, nb - c0), panels = cols / nr, tail = cols - panels * nr
            let firstRow = (n0 + c0) / g.outW, firstColumn = (n0 + c0) % g.outW
            var oy = firstRow, ox = firstColumn
            for j in 0..<cols {
                // Below 2^31: readsWithoutPadding bounds the plane so.
                offsets[unchecked: j] = Int32(truncatingIfNeeded: oy * g.strideH * g.width + ox * g.strideW)
                ox += 1
                if ox == g.outW { ox = 0; oy += 1 }
            }
            let blockOut = out + c0 / nr * panelStride
            for p in 0..<kb {
                // Sound: channel k0 + p < C (the caller keeps rows within K = C), and every offset
                // lies within a plane (readsWithoutPadding bounds the last row and column read).
                let channel = k0 + p, src = x + channel * planeSize
                // The lines this block reads of channel + 4 are prefetched into L2, output row by output
                // row (a stride skips the rows between). Why: a strided 1x1 reads every other row, a
                // pattern the hardware prefetcher does not follow across hundreds of planes; resnet50's
                // layer2 downsample (1 thread, two runs of 8 interleaved rounds on a Zen 4 core): 3.27 ->
                // 3.02 and 3.14 -> 2.94 ms. Only channels of this image: the hint stays in bounds.
                if channel + 4 < g.channels {
                    let ahead = UnsafeRawPointer(src + 4 * planeSize)
                    var row = firstRow, from = firstColumn, left = cols
                    while left > 0 {
                        let count = min(g.outW - from, left)
                        let start = row * g.strideH * g.width + from * g.strideW, last = start + (count - 1) * g.strideW
                        var line = (4 * start) & ~63
                        while line <= 4 * last { rt_prefetch_l2(ahead + line); line += 64 }
                        left -= count
                        row += 1
                        from = 0
                    }
                }
                var dst = blockOut + p * nr
                var j = 0
                for _ in 0..<panels {
                    for lane in 0..<nr { dst[lane] = src[Int(offsets[unchecked: j + lane])] }
                    dst += panelStride
                    j += nr
                }
                if tail > 0 {
                    for lane in 0..<tail { dst[lane] = src[Int(offsets[unchecked: j + lane])] }
                    (dst + tail).update(repeating: 0, count: nr - tail)
                }
            }
            c0 += cols
        }
    }
    #endif

    /// `pack` for any window: each row in runs of columns (one output row, split at panel
    /// edges), zeros where the window reads padding. The twin `packPointwise` is tested against.
    @inlinable @inline(__always)
    public func packWindows(k0: Int, kb: Int, n0: Int, nb: Int, nr: Int, into out: UnsafeMutablePointer<Float>) {
        let window = g.kernelH * g.kernelW
        let panelStride = kb * nr
        let padded = (nb + nr - 1) / nr * nr
        for p in 0..<kb {
            let row = k0 + p
            let c = row / window, ky = (row % window) / g.kernelW, kx = row % g.kernelW
            let src = x + c * g.height * g.width
            let shift = kx * g.dilationW - g.padLeft  // ix = ox * strideW + shift
            // Destination: column j of this row is at out + (j / nr) * panelStride + p * nr + j % nr.
            var panel = out + p * nr, lane = 0
            // `count` values from `from` at `stride`, in runs that end at a panel's edge. Stride 2
            // (the stem, downsampling convs) as a constant: the compiler turns it into whole-vector
            // loads and shuffles (gemm-bench's stem pack: 1,206 -> 611 us against a closure per value).
            @inline(__always) func copyStrided(_ count: Int, from: UnsafePointer<Float>, stride: Int) {
                var q = 0
                while q < count {
                    let run = min(count - q, nr - lane), dst = panel + lane, src = from + stride * q
                    if stride == 2 { for r in 0..<run { dst[r] = src[2 * r] } } else { for r in 0..<run { dst[r] = src[stride * r] } }
                    q += run
                    lane += run
                    if lane == nr { lane = 0; panel += panelStride }
                }
            }
            // `count` contiguous values from `from` (stride 1), or zeros when `from` is nil: bulk copies per run.
            @inline(__always) func copy(_ count: Int, from: UnsafePointer<Float>?) {
                var q = 0
                while q < count {
                    let run = min(count - q, nr - lane)
                    if let from { (panel + lane).update(from: from + q, count: run) } else { (panel + lane).update(repeating: 0, count: run) }
                    q += run
                    lane += run
                    if lane == nr { lane = 0; panel += panelStride }
                }
            }
            var oy = n0 / g.outW, ox = n0 % g.outW, col = 0
            while col < nb {
                let run = min(g.outW - ox, nb - col)
                let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                if iy < 0 || iy >= g.height {
                    copy(run, from: nil)
                } else {
                    let line = src + iy * g.width
                    // Valid ox: 0 <= ox * sw + shift < W, a contiguous range.
                    var lo = ox, hi = ox + run
                    while lo < hi && lo * g.strideW + shift < 0 { lo += 1 }
                    while hi > lo && (hi - 1) * g.strideW + shift >= g.width { hi -= 1 }
                    copy(lo - ox, from: nil)
                    // A pointwise conv's row p is channel p: the same span of channel p + 4 is
                    // prefetched into L2, as packPointwise does (why there); only channels of this
                    // image, so the hint stays in bounds.
                    if window == 1 && hi > lo && c + 4 < g.channels {
                        let ahead = UnsafeRawPointer(line + lo * g.strideW + shift + 4 * g.height * g.width)
                        var at = 0
                        let span = 4 * ((hi - lo - 1) * g.strideW + 1)
                        while at < span { rt_prefetch_l2(ahead + at); at += 64 }
                    }
                    if g.strideW == 1 {
                        copy(hi - lo, from: line + lo + shift)
                    } else {
                        copyStrided(hi - lo, from: line + lo * g.strideW + shift, stride: g.strideW)
                    }
                    copy(ox + run - hi, from: nil)
                }
                col += run
                ox = 0
                oy += 1
            }
            copy(padded - nb, from: nil)
        }
    }
}

