/// Max and average pooling over [planes, H, W]. One body (`poolBody`) for every kernel set:
/// `pool` is it compiled here, for any x86-64 (the reference set's); the SIMD sets run it as
/// compiled for x86-64-v3 (PoolingAVX2, in the AVX2 module; the pool is memory-bound, so an
/// AVX-512 copy would add little). Built here, resnet's 3x3 s2 max pool on 64 x 112 x 112 ran
/// in SSE: 0.25 ms on a Zen 5 core. `tag` names the module compiling the body, so that each
/// module's specialisations (the loops and their closures) get symbols of their own: equal
/// ones are merged by the linker into one copy, perhaps of another instruction level.
public enum Pooling {
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func pool<T: ExecScalar>(_ x: UnsafePointer<T>, planes: Int, _ g: ConvGeometry, max isMax: Bool, countIncludePad: Bool,
                            into y: UnsafeMutablePointer<T>) {
        poolBody(x, planes: planes, g, max: isMax, countIncludePad: countIncludePad, into: y, tag: Pooling.self)
    }

    /// `pool`'s body, for a kernel-set module to specialise and compile at its instruction level.
    @inlinable @inline(__always)
    public static func poolBody<T: ExecScalar, Tag>(_ x: UnsafePointer<T>, planes: Int, _ g: ConvGeometry, max isMax: Bool, countIncludePad: Bool,
                                                    into y: UnsafeMutablePointer<T>, tag: Tag.Type) {
        // The window's valid rows (and columns) form one contiguous range (validRange): bounds
        // are found once per output row and column, so the inner loops read without checks.
        func paddedCells(_ origin: Int, _ kernel: Int, _ dilation: Int, _ size: Int, _ pad: Int) -> Int {
            // Cells of the padded input count for count_include_pad (not past the padding).
            var n = 0
            for k in 0..<kernel where origin + k * dilation < size + pad { n += 1 }
            return n
        }
        let columns = (0..<g.outW).map { ox -> (Range<Int>, Int) in
            let x0 = ox * g.strideW - g.padLeft
            return (validRange(x0, g.kernelW, g.dilationW, g.width), paddedCells(x0, g.kernelW, g.dilationW, g.width, g.padLeft))
        }
        if isMax {
            maxPool(x, planes: planes, g, columns: columns.map(\.0), into: y, tag: tag)
            return
        }
        for p in 0..<planes {
            let src = x + p * g.height * g.width
            let dst = y + p * g.outH * g.outW
            for oy in 0..<g.outH {
                let y0 = oy * g.strideH - g.padTop
                let rows = validRange(y0, g.kernelH, g.dilationH, g.height)
                let paddedRows = paddedCells(y0, g.kernelH, g.dilationH, g.height, g.padTop)
                for ox in 0..<g.outW {
                    let x0 = ox * g.strideW - g.padLeft
                    let (cols, paddedCols) = columns[ox]
                    var best = -T.infinity, sum: T = 0
                    for ky in rows {
                        let line = src + (y0 + ky * g.dilationH) * g.width + x0
                        for kx in cols {
                            let v = line[kx * g.dilationW]
                            best = Swift.max(best, v)
                            sum += v
                        }
                    }
                    let count = rows.count * cols.count
                    dst[oy * g.outW + ox] = isMax ? best : sum / T(countIncludePad ? Swift.max(paddedRows * paddedCols, 1) : Swift.max(count, 1))
                }
            }
        }
    }

    /// Max pooling, separably: per output row, the element-wise max of the window's valid
    /// input rows (contiguous, so it vectorizes), then each output column's max over its
    /// valid columns of that row. resnet18's 3x3 s2 max pool: 3.3 ms before on one core.
    @inlinable
    static func maxPool<T: ExecScalar, Tag>(_ x: UnsafePointer<T>, planes: Int, _ g: ConvGeometry, columns: [Range<Int>], into y: UnsafeMutablePointer<T>,
                                            tag: Tag.Type) {
        // The row holds g.width maxes, then 34 of slack (-inf) that the 16-wide stride-2 loads
        // below may read past the last window.
        var rowMax = [T](repeating: -T.infinity, count: Swift.max(g.width, 1) + 34)
        // Output columns whose whole window is valid (columns[ox] is every kx): a contiguous range.
        let full = g.kernelW == 3 && g.dilationW == 1 ? columns.indices.filter { columns[$0] == 0..<3 } : []
        let interior = full.first.map { $0..<(full[full.count - 1] + 1) } ?? 0..<0
        let edges = (0..<g.outW).filter { !interior.contains($0) }
        rowMax.withUnsafeMutableBufferPointer { buffer in
            // Sound: the buffer holds g.width + 34 elements; the scalar loops index below g.width,
            // the 16-wide loads below g.width + 34 (see there).
            let row = buffer.baseAddress!
            for p in 0..<planes {
                let src = x + p * g.height * g.width
                let dst = y + p * g.outH * g.outW
                for oy in 0..<g.outH {
                    let y0 = oy * g.strideH - g.padTop
                    var rows = 0..<g.kernelH
                    // The valid rows: a contiguous range of ky (as in `pool`).
                    while let k = rows.first, y0 + k * g.dilationH < 0 { rows = (k + 1)..<rows.upperBound }
                    while let k = rows.last, y0 + k * g.dilationH >= g.height { rows = rows.lowerBound..<k }
                    guard !rows.isEmpty else {
                        for ox in 0..<g.outW { dst[oy * g.outW + ox] = -T.infinity }
                        continue
                    }
                    // Folded from -inf with max (not copied from the first row), so a NaN is dropped
                    // the way `pool` drops it: max(best, NaN) keeps best.
                    @inline(__always) func line(_ ky: Int) -> UnsafePointer<T> { src + (y0 + ky * g.dilationH) * g.width }
                    if rows.count == 3 {
                        // A 3-row window (every ResNet's) in one pass, the same fold: each row max
                        // stored once instead of read and written back per window row. With the
                        // x86-64-v3 build, resnet18's pool (64 x 112 x 112) in the model, on a Zen 5
                        // core: 0.253 -> 0.158 ms.
                        let (l0, l1, l2) = (line(rows.lowerBound), line(rows.lowerBound + 1), line(rows.lowerBound + 2))
                        for i in 0..<g.width { row[i] = Swift.max(Swift.max(Swift.max(-T.infinity, l0[i]), l1[i]), l2[i]) }
                    } else {
                        row.update(repeating: -T.infinity, count: g.width)
                        for ky in rows {
                            let l = line(ky)
                            for i in 0..<g.width { row[i] = Swift.max(row[i], l[i]) }
                        }
                    }
                    let out = dst + oy * g.outW
                    if g.kernelW == 3 && g.dilationW == 1 {
                        // Every ResNet's 3x3 pool: the columns whose window lies wholly inside
                        // the row take three unrolled maxes (same order as the loop below, so
                        // NaNs drop alike); the measured 1.1 ms of resnet18's pool was mostly
                        // the range-per-column loop.
                        var ox = interior.lowerBound
                        if T.self == Float.self && g.strideW == 2 {
                            // Sixteen outputs at a time: the even and odd lanes of 32 row maxes
                            // are each window's first and second column, those of the 32 from
                            // two further its third.
                            let floats = UnsafeRawPointer(row), outFloats = UnsafeMutableRawPointer(out)
                            while ox + 16 <= interior.upperBound {
                                // Sound: the window columns of ox ..< ox + 16 start at index
                                // 2 ox - padLeft >= 0 and the loads end 34 floats later, within
                                // the row's width plus its slack.
                                let start = 4 * (ox * 2 - g.padLeft)
                                let a = floats.loadUnaligned(fromByteOffset: start, as: SIMD32<Float>.self)
                                let b = floats.loadUnaligned(fromByteOffset: start + 8, as: SIMD32<Float>.self)
                                // Folded as Swift.max folds the scalar tail: max(best, v) is v >= best ? v : best.
                                var best = SIMD16<Float>(repeating: -.infinity)
                                let (first, second, third) = (a.evenHalf, a.oddHalf, b.evenHalf)
                                best.replace(with: first, where: first .>= best)
                                best.replace(with: second, where: second .>= best)
                                best.replace(with: third, where: third .>= best)
                                outFloats.storeBytes(of: best, toByteOffset: 4 * ox, as: SIMD16<Float>.self)
                                ox += 16
                            }
                        }
                        for ox in ox..<interior.upperBound {
                            let r = row + ox * g.strideW - g.padLeft
                            out[ox] = Swift.max(Swift.max(Swift.max(-T.infinity, r[0]), r[1]), r[2])
                        }
                    }
                    for ox in edges {
                        let x0 = ox * g.strideW - g.padLeft
                        var best = -T.infinity
                        for kx in columns[ox] { best = Swift.max(best, row[x0 + kx * g.dilationW]) }
                        out[ox] = best
                    }
                }
            }
        }
    }

    /// Mean (or max) of each plane: [planes, size] -> [planes].
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func global<T: ExecScalar>(_ x: UnsafePointer<T>, planes: Int, size: Int, max isMax: Bool, into y: UnsafeMutablePointer<T>) {
        for p in 0..<planes {
            let src = x + p * size
            if isMax {
                var best = -T.infinity
                for i in 0..<size { best = Swift.max(best, src[i]) }
                y[p] = best
            } else {
                var sum: T = 0
                for i in 0..<size { sum += src[i] }
                y[p] = sum / T(size)
            }
        }
    }

    /// `global` over channels-last images x [images, size, channels] -> y [images, channels]: each
    /// channel's values in the same order and arithmetic as `global`, so the results are identical.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func globalChannelsLast<T: ExecScalar>(_ x: UnsafePointer<T>, images: Int, channels: Int, size: Int, max isMax: Bool,
                                                         into y: UnsafeMutablePointer<T>) {
        for n in 0..<images {
            let src = x + n * size * channels, dst = y + n * channels
            dst.update(repeating: isMax ? -T.infinity : 0, count: channels)
            for i in 0..<size {
                let row = src + i * channels
                if isMax {
                    for c in 0..<channels { dst[c] = Swift.max(dst[c], row[c]) }
                } else {
                    for c in 0..<channels { dst[c] += row[c] }
                }
            }
            if !isMax { for c in 0..<channels { dst[c] /= T(size) } }
        }
    }
}
