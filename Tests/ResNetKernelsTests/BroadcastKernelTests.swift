import Testing
import ResNetKernels
import ResNetKernelsReference

/// The SIMD kernels of attention gates against their scalar twins: binary ops of one shape and
/// with a per-row operand bit for bit (every op, NaN, signed zeros, infinities, around the 8-lane
/// edge, a range that starts mid-vector), Expand's row fill against the strided copy, and the
/// vector global average within rounding of the scalar sum.
struct BroadcastKernelTests {
    static let ops: [ElementwiseReference.Binary] = [.add, .sub, .mul, .div, .pow, .max, .min]
    static let counts = [0, 1, 7, 8, 9, 15, 16, 17, 33, 100]
    /// Ordinary values with NaN, both zeros, both infinities and a large one mixed in.
    static func values(_ n: Int, _ seed: Int) -> [Float] {
        let special: [Float] = [.nan, 0, -0.0, .infinity, -.infinity, 3e38]
        return (0..<n).map { i in (i * 7 + seed) % 11 == 0 ? special[(i + seed) % special.count] : Float((i * 13 + seed) % 17) * 0.37 - 2.9 }
    }
    static func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

    @Test(arguments: counts)
    func binaryMatchesTheTwinBitForBit(_ n: Int) {
        let a = Self.values(n + 3, 1), b = Self.values(n + 3, 4)
        for op in Self.ops {
            for relu in [false, true] {
                // The range starts at 3: the vectors do not start on the buffer's first float.
                var fast = [Float](repeating: 9, count: n + 4), slow = fast
                a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in
                    fast.withUnsafeMutableBufferPointer { Elementwise.binary(op, a.baseAddress!, b.baseAddress!, $0.baseAddress!, range: 3..<(n + 3), relu: relu) }
                    slow.withUnsafeMutableBufferPointer { ElementwiseReference.binary(op, a.baseAddress!, b.baseAddress!, $0.baseAddress!, range: 3..<(n + 3), relu: relu) }
                } }
                #expect(Self.bits(fast) == Self.bits(slow), "\(op) n \(n) relu \(relu)")
                #expect(fast[..<3].allSatisfy { $0 == 9 } && fast[n + 3] == 9, "\(op) n \(n): wrote outside the range")
            }
        }
    }

    @Test(arguments: counts)
    func rowScalarMatchesTheTwinBitForBit(_ size: Int) {
        let rows = 6, x = Self.values(rows * size, 2), s = Self.values(rows, 5)
        for op in Self.ops {
            for (period, scalarFirst, relu, withResidual) in [(6, false, false, false), (3, true, false, true), (1, false, true, false), (2, true, true, true),
                                                              (6, false, true, true)] {
                let residual = Self.values(rows * size, 7)
                // Rows 1..<5 of 6: rows 0 and 5 stay untouched.
                var fast = [Float](repeating: 9, count: rows * size), slow = fast
                x.withUnsafeBufferPointer { x in s.withUnsafeBufferPointer { s in residual.withUnsafeBufferPointer { r in
                    let xp = x.baseAddress ?? .init(bitPattern: 4)!, rp = withResidual ? r.baseAddress ?? .init(bitPattern: 4)! : nil
                    fast.withUnsafeMutableBufferPointer {
                        Elementwise.rowScalar(op, xp, s.baseAddress!, $0.baseAddress ?? .init(bitPattern: 4)!, rows: 1..<5, size: size, period: period,
                                              scalarFirst: scalarFirst, residual: rp, relu: relu)
                    }
                    slow.withUnsafeMutableBufferPointer {
                        ElementwiseReference.rowScalar(op, xp, s.baseAddress!, $0.baseAddress ?? .init(bitPattern: 4)!, rows: 1..<5, size: size, period: period,
                                                       scalarFirst: scalarFirst, residual: rp, relu: relu)
                    }
                } } }
                #expect(Self.bits(fast) == Self.bits(slow), "\(op) size \(size) period \(period) scalar first \(scalarFirst) residual \(withResidual) relu \(relu)")
                #expect((fast[..<size] + fast[(5 * size)...]).allSatisfy { $0 == 9 }, "\(op) size \(size): wrote outside rows 1..<5")
                // And each value is op's on the row's scalar, in the right order (the twin against the definition).
                if size > 0, op == .sub {
                    let r = 2, i = r * size + size - 1, c = s[r % period]
                    let d = (scalarFirst ? c - x[i] : x[i] - c) + (withResidual ? residual[i] : 0)
                    #expect(slow[i].bitPattern == (relu ? max(d, 0) : d).bitPattern || (slow[i].isNaN && d.isNaN))
                }
            }
        }
    }

    @Test(arguments: counts)
    func fillRowsIsTheStridedCopy(_ size: Int) {
        // s [1, 3, 1] expanded to [2, 3, size]: rows 2 x 3, each row's value s[r % 3].
        let s: [Float] = [1.5, -2, .nan]
        var fast = [Float](repeating: 9, count: 6 * size), slow = fast
        s.withUnsafeBufferPointer { s in
            fast.withUnsafeMutableBufferPointer { Elementwise.fillRows(s.baseAddress!, $0.baseAddress ?? .init(bitPattern: 4)!, rows: 0..<6, size: size, period: 3) }
            slow.withUnsafeMutableBufferPointer { GenericOps.stridedCopy(s.baseAddress!, strides: [0, 1, 0], outShape: [2, 3, size], into: $0.baseAddress ?? .init(bitPattern: 4)!) }
        }
        #expect(Self.bits(fast) == Self.bits(slow), "size \(size)")
    }

    /// A contiguous run of axes reduced eight inner positions at a time, bit for bit the general
    /// reduction (x [outer, count, inner] over the run), for a share of inner that starts mid-vector.
    @Test(arguments: [1, 7, 8, 9, 16, 17, 33])
    func reduceRunIsTheGeneralReduction(_ inner: Int) {
        for (outer, count) in [(1, 2), (3, 1), (2, 5), (2, 0)] {
            let x = Self.values(outer * count * inner, inner + count)
            for kind in [GenericOps.Reduction.sum, .mean, .max, .min] {
                var fast = [Float](repeating: 9, count: outer * inner), slow = fast, whole = fast
                x.withUnsafeBufferPointer { x in
                    let xp = x.baseAddress ?? .init(bitPattern: 4)!
                    slow.withUnsafeMutableBufferPointer { GenericOps.reduce(kind, xp, shape: [outer, count, inner], axes: [1], into: $0.baseAddress!) }
                    whole.withUnsafeMutableBufferPointer { Elementwise.reduceRun(kind, xp, outer: outer, count: count, inner: inner, innerRange: 0..<inner, into: $0.baseAddress!) }
                    // Two shares, the first ending where the second starts (as threads split it).
                    let split = inner / 2
                    fast.withUnsafeMutableBufferPointer { y in
                        Elementwise.reduceRun(kind, xp, outer: outer, count: count, inner: inner, innerRange: 0..<split, into: y.baseAddress!)
                        Elementwise.reduceRun(kind, xp, outer: outer, count: count, inner: inner, innerRange: split..<inner, into: y.baseAddress!)
                    }
                }
                #expect(Self.bits(whole) == Self.bits(slow), "\(kind) outer \(outer) count \(count) inner \(inner)")
                #expect(Self.bits(fast) == Self.bits(slow), "\(kind) outer \(outer) count \(count) inner \(inner), in two shares")
            }
        }
    }

    /// ResNet-D's 2x2 s2 average pool, bit for bit the scalar body: widths around the 8-output edge,
    /// odd sizes (the last row and column unread), NaN, signed zeros and infinities in the windows.
    @Test(arguments: [(2, 2), (4, 16), (5, 17), (6, 18), (7, 33), (56, 56), (3, 35)])
    func averagePool2x2IsThePoolBody(_ size: (Int, Int)) {
        let (h, w) = size, planes = 3
        let g = ConvGeometry(channels: planes, height: h, width: w, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0,
                             dilationH: 1, dilationW: 1, outH: h / 2, outW: w / 2)
        #expect(PoolingAVX2.isAveragePool2x2(g))
        let x = Self.values(planes * h * w, h + w)
        var fast = [Float](repeating: 9, count: planes * g.outH * g.outW + 1), slow = fast
        x.withUnsafeBufferPointer { x in
            fast.withUnsafeMutableBufferPointer { PoolingAVX2.averagePool2x2(x.baseAddress!, planes: planes, g, into: $0.baseAddress!) }
            slow.withUnsafeMutableBufferPointer { Pooling.pool(x.baseAddress!, planes: planes, g, max: false, countIncludePad: false, into: $0.baseAddress!) }
        }
        #expect(Self.bits(fast) == Self.bits(slow), "\(h) x \(w)")
        #expect(fast.last == 9)
        // Padding, a 3x3 window, or an output needing a clipped window: not this kernel's.
        let geometry = { (pad: Int, kernel: Int, outW: Int) in
            ConvGeometry(channels: planes, height: h, width: w, kernelH: kernel, kernelW: kernel, strideH: 2, strideW: 2, padTop: pad, padLeft: pad,
                         dilationH: 1, dilationW: 1, outH: h / 2, outW: outW)
        }
        #expect(!PoolingAVX2.isAveragePool2x2(geometry(1, 2, w / 2)) && !PoolingAVX2.isAveragePool2x2(geometry(0, 3, w / 2)))
        #expect(!PoolingAVX2.isAveragePool2x2(geometry(0, 2, w / 2 + 1)))
    }

    @Test(arguments: [1, 7, 8, 9, 31, 32, 33, 49, 100, 3136])
    func globalAverageIsTheScalarMeanWithinRounding(_ size: Int) {
        let planes = 5, x = (0..<(planes * size)).map { Float(($0 * 29) % 37) * 0.71 - 11 }
        var fast = [Float](repeating: 9, count: planes), slow = fast
        x.withUnsafeBufferPointer { x in
            // Planes 1..<4 only: 0 and 4 stay as they were.
            fast.withUnsafeMutableBufferPointer { PoolingAVX2.globalAverage(x.baseAddress!, planes: 1..<4, size: size, into: $0.baseAddress!) }
            slow.withUnsafeMutableBufferPointer { Pooling.global(x.baseAddress! + size, planes: 3, size: size, max: false, into: $0.baseAddress! + 1) }
        }
        for p in 1..<4 {
            // Both within float summation's bound of the exact mean: (size + 1) ulps of the mean magnitude.
            let plane = x[(p * size)..<((p + 1) * size)]
            let exact = plane.reduce(0.0) { $0 + Double($1) } / Double(size), magnitude = plane.reduce(0.0) { $0 + Double(abs($1)) } / Double(size)
            let bound = Double(size + 1) * 1.2e-7 * magnitude
            #expect(abs(Double(fast[p]) - exact) <= bound && abs(Double(slow[p]) - exact) <= bound, "size \(size) plane \(p): \(fast[p]), \(slow[p]), \(exact)")
        }
        #expect(fast[0] == 9 && fast[4] == 9)
    }
}
