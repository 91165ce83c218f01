import ResNetKernelsReference

/// SIMD8 twins of ElementwiseReference.add/relu/affine (tested against them at tile edges).
public enum Elementwise {
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, relu: Bool) {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), ry = UnsafeMutableRawPointer(y)
        var i = 0
        while i + 8 <= count {
            // Sound: i + 8 <= count, all three buffers hold count floats.
            var v = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            if relu { v = v.replacing(with: 0, where: v .< 0) }
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        if i < count { ElementwiseReference.add(a + i, b + i, y + i, count: count - i, relu: relu) }
    }

    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        var i = 0
        while i + 8 <= count {
            let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: v.replacing(with: 0, where: v .< 0), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        if i < count { ElementwiseReference.relu(x + i, y + i, count: count - i) }
    }

    /// ElementwiseReference.binary on SIMD8: the same value in every element (IEEE +, -, *, / per
    /// lane; max and min NaN where either operand is; ReLU as Swift.max(v, 0): +0 for -0, NaN kept).
    public static func binary(_ op: ElementwiseReference.Binary, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                              range: Range<Int>, relu: Bool) {
        guard op != .pow else { return ElementwiseReference.binary(op, a, b, y, range: range, relu: relu) }
        var i = range.lowerBound
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), ry = UnsafeMutableRawPointer(y)
        while i + 8 <= range.upperBound {
            // Sound: i + 8 <= range.upperBound, within each operand's count (the caller's range).
            let v = apply8(op, ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            ry.storeBytes(of: relu ? v.replacing(with: 0, where: v .<= 0) : v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        ElementwiseReference.binary(op, a, b, y, range: i..<range.upperBound, relu: relu)
    }

    /// ElementwiseReference.rowScalar on SIMD8 (the same values: the product rounded, then the
    /// residual added, no FMA).
    public static func rowScalar(_ op: ElementwiseReference.Binary, _ x: UnsafePointer<Float>, _ s: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 rows: Range<Int>, size: Int, period: Int, scalarFirst: Bool, residual: UnsafePointer<Float>? = nil, relu: Bool) {
        guard op != .pow else {
            return ElementwiseReference.rowScalar(op, x, s, y, rows: rows, size: size, period: period, scalarFirst: scalarFirst, residual: residual,
                                                  relu: relu)
        }
        let rr = residual.map(UnsafeRawPointer.init)
        for r in rows {
            let c = SIMD8<Float>(repeating: s[r % period])
            let start = r * size, end = start + size
            let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
            var i = start
            while i + 8 <= end {
                // Sound: i + 8 <= end, within row r of x, y and the residual (rows x size floats each).
                let u = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                var v = scalarFirst ? apply8(op, c, u) : apply8(op, u, c)
                if let rr { v += rr.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) }
                ry.storeBytes(of: relu ? v.replacing(with: 0, where: v .<= 0) : v, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            for j in i..<end {
                var v = scalarFirst ? ElementwiseReference.apply(op, c[0], x[j]) : ElementwiseReference.apply(op, x[j], c[0])
                if let residual { v += residual[j] }
                y[j] = relu ? max(v, 0) : v
            }
        }
    }

    /// y[r, i] = s[r % period] for rows r in `rows` of `size` values: Expand of a per-row value
    /// (what GenericOps.stridedCopy writes for that pattern).
    public static func fillRows(_ s: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, size: Int, period: Int) {
        for r in rows { (y + r * size).update(repeating: s[r % period], count: size) }
    }

    /// GenericOps.reduceRun on SIMD8 across `inner` (eight inner positions at a time, each summed
    /// over the run in the same order: the same values): the ReduceSums of selective-kernel blocks
    /// (x [N, 2, C, H, W] over axis 1; timm's skresnet34 spent 290 ms a run in them, index by index).
    public static func reduceRun(_ kind: GenericOps.Reduction, _ x: UnsafePointer<Float>, outer: Int, count: Int, inner: Int, innerRange: Range<Int>,
                                 into y: UnsafeMutablePointer<Float>) {
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        let start = SIMD8<Float>(repeating: kind == .max ? -.infinity : kind == .min ? .infinity : 0)
        var first = innerRange.lowerBound
        while first + 8 <= innerRange.upperBound {
            for o in 0..<outer {
                var acc = start
                for r in 0..<count {
                    // Sound: first + 8 <= innerRange.upperBound <= inner, so the eight floats lie in row (o, r) of x.
                    let v = rx.loadUnaligned(fromByteOffset: ((o * count + r) * inner + first) * 4, as: SIMD8<Float>.self)
                    switch kind {
                    case .mean, .sum: acc += v
                    // As Swift.max(acc, v) (v where v >= acc) and Swift.min(acc, v) (v where v < acc), NaN where either is.
                    case .max: acc = acc.replacing(with: v, where: v .>= acc).replacing(with: .nan, where: (v .!= v) .| (acc .!= acc))
                    case .min: acc = acc.replacing(with: v, where: v .< acc).replacing(with: .nan, where: (v .!= v) .| (acc .!= acc))
                    }
                }
                if kind == .mean { acc /= SIMD8(repeating: Swift.max(Float(count), 1)) }
                ry.storeBytes(of: acc, toByteOffset: (o * inner + first) * 4, as: SIMD8<Float>.self)
            }
            first += 8
        }
        GenericOps.reduceRun(kind, x, outer: outer, count: count, inner: inner, innerRange: first..<innerRange.upperBound, into: y)
    }

    @inline(__always)
    static func apply8(_ op: ElementwiseReference.Binary, _ u: SIMD8<Float>, _ v: SIMD8<Float>) -> SIMD8<Float> {
        switch op {
        case .add: return u + v
        case .sub: return u - v
        case .mul: return u * v
        case .div: return u / v
        // As Swift.max(u, v) (v where v >= u, so +0 for max(-0, +0)) and Swift.min(u, v) (v where v < u), then NaN where either is.
        case .max: return v.replacing(with: u, where: v .< u).replacing(with: .nan, where: (u .!= u) .| (v .!= v))
        case .min: return u.replacing(with: v, where: v .< u).replacing(with: .nan, where: (u .!= u) .| (v .!= v))
        case .pow: preconditionFailure("pow has no SIMD form (the callers take the reference path)")
        }
    }

    public static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, channels: Int, size: Int,
                              scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, relu: Bool) {
        for p in 0..<planes {
            let c = p % channels
            let s = SIMD8<Float>(repeating: scale[c]), t = SIMD8<Float>(repeating: shift[c])
            let rx = UnsafeRawPointer(x + p * size), ry = UnsafeMutableRawPointer(y + p * size)
            var i = 0
            while i + 8 <= size {
                // One FMA: x * scale + shift.
                var v = t.addingProduct(rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), s)
                if relu { v = v.replacing(with: 0, where: v .< 0) }
                ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            for j in i..<size {
                let v = x[p * size + j] * scale[c] + shift[c]
                y[p * size + j] = relu ? max(v, 0) : v
            }
        }
    }
}

/// Pooling compiled for x86-64-v3 (the shared body, specialised here under this module's tag),
/// which both SIMD sets run.
public enum PoolingAVX2 {
    public static func pool(_ x: UnsafePointer<Float>, planes: Int, _ g: ConvGeometry, max isMax: Bool, countIncludePad: Bool,
                            into y: UnsafeMutablePointer<Float>) {
        Pooling.poolBody(x, planes: planes, g, max: isMax, countIncludePad: countIncludePad, into: y, tag: PoolingAVX2.self)
    }

    /// Pooling.global's average over planes p in `planes` (x [planes, size] -> y [planes]), summed in
    /// four SIMD8 lanes sets and then across: another order than the scalar twin's, so results differ
    /// from it by rounding (tested within 1e-6 relative). SE and ECA gates average 802,816 values at
    /// resnet50's 56x56 (timm seresnet50: 16 ReduceMeans, 4.6 ms a run with the scalar sum).
    public static func globalAverage(_ x: UnsafePointer<Float>, planes: Range<Int>, size: Int, into y: UnsafeMutablePointer<Float>) {
        for p in planes {
            let src = UnsafeRawPointer(x + p * size)
            var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
            var i = 0
            while i + 32 <= size {
                // Sound: i + 32 <= size, within plane p.
                s0 += src.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                s1 += src.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
                s2 += src.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self)
                s3 += src.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self)
                i += 32
            }
            while i + 8 <= size { s0 += src.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
            var sum = ((s0 + s1) + (s2 + s3)).sum()
            while i < size { sum += x[p * size + i]; i += 1 }
            y[p] = sum / Float(size)
        }
    }

    /// Whether `averagePool2x2` computes a pool of geometry `g`: 2x2 windows at stride 2, no padding
    /// or dilation, every window inside the image (ResNet-D's shortcut pool at even sizes).
    public static func isAveragePool2x2(_ g: ConvGeometry) -> Bool {
        g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.padTop == 0 && g.padLeft == 0
            && g.dilationH == 1 && g.dilationW == 1 && 2 * g.outH <= g.height && 2 * g.outW <= g.width
    }

    /// Pooling.pool's average for isAveragePool2x2 geometries, eight outputs at a time: each window
    /// summed as the scalar body sums it (0, then row 0's two values, then row 1's), then divided
    /// by 4, so the results are identical. timm's resnet50d spent 2.65 ms a run (1 thread) in its
    /// three shortcut pools, 1.49 in layer2's (256 x 56 x 56), computing a max beside every sum.
    public static func averagePool2x2(_ x: UnsafePointer<Float>, planes: Int, _ g: ConvGeometry, into y: UnsafeMutablePointer<Float>) {
        let quarter = SIMD8<Float>(repeating: 4)
        for p in 0..<planes {
            let src = x + p * g.height * g.width, dst = y + p * g.outH * g.outW
            for oy in 0..<g.outH {
                let top = UnsafeRawPointer(src + 2 * oy * g.width), bottom = top + 4 * g.width, out = UnsafeMutableRawPointer(dst + oy * g.outW)
                var ox = 0
                while ox + 8 <= g.outW {
                    // Sound: 2 * (ox + 8) <= 2 * g.outW <= g.width, so the sixteen floats lie in rows 2 oy and 2 oy + 1.
                    let t = top.loadUnaligned(fromByteOffset: 8 * ox, as: SIMD16<Float>.self)
                    let b = bottom.loadUnaligned(fromByteOffset: 8 * ox, as: SIMD16<Float>.self)
                    let sum = (((SIMD8<Float>() + t.evenHalf) + t.oddHalf) + b.evenHalf) + b.oddHalf
                    out.storeBytes(of: sum / quarter, toByteOffset: 4 * ox, as: SIMD8<Float>.self)
                    ox += 8
                }
                let t = src + 2 * oy * g.width, b = t + g.width
                for o in ox..<g.outW {
                    var sum: Float = 0
                    sum += t[2 * o]; sum += t[2 * o + 1]; sum += b[2 * o]; sum += b[2 * o + 1]
                    dst[oy * g.outW + o] = sum / 4
                }
            }
        }
    }

    /// Pooling.maxPoolChannelsLast at x86-64-v3, its channels-first writes by LayoutTransposeSIMD.
    public static func maxPoolChannelsLast(_ x: UnsafePointer<Float>, _ g: ConvGeometry, rows: Range<Int>, into y: UnsafeMutablePointer<Float>,
                                           channelsLastOutput: Bool = false, scratch: UnsafeMutablePointer<Float>) {
        Pooling.maxPoolChannelsLastBody(x, g, rows: rows, into: y, channelsLastOutput: channelsLastOutput, scratch: scratch,
                                        tag: PoolingAVX2.self) { src, rows, columns, dst, dstRows in
            LayoutTransposeSIMD.transpose(src, rows: rows, columns: columns, columnRange: 0..<columns, into: dst, dstRows: dstRows)
        }
    }
}
