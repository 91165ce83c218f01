import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// The integer GEMM's tiles (VNNI, AVX2) against the naive twin, exactly (integer
/// sums have one right answer), at sizes around every edge: M around the 6-row (AVX2) and 8-row (VNNI) tiles,
/// N around the 16- and 32-column tiles, K around the 2- and 4-wide packing steps and
/// one, two and three slices (each tile's sliceDepth: AVX2's of at most 768, VNNI's of 4,608), and slice depths forced down to one
/// group; values at the int8/uint8 extremes; 1 and 2 threads. Plus the requantization
/// step against ONNX's formula written out longhand.
struct Int8GemmTests {
    struct Size: CustomTestStringConvertible, Sendable {
        let m: Int, n: Int, k: Int
        /// The K slice depth, where not the plan's (Int8Tile.sliceDepth).
        var kc: Int? = nil
        var testDescription: String { "\(m)x\(n)x\(k)" + (kc.map { " kc \($0)" } ?? "") }
    }

    static let sizes: [Size] = {
        var out: [Size] = []
        // K 1030: two slices of 516 and 514 on AVX2 (one on VNNI); 1600: three of 536, 536 and 528.
        for m in [1, 5, 6, 7, 8, 9, 13, 16, 17] { for n in [1, 8, 9, 15, 16, 17, 24, 25, 31, 32, 33, 40, 56, 57, 70] { for k in [1, 2, 3, 4, 5, 511, 512, 513, 1030, 1600] {
            out.append(Size(m: m, n: n, k: k))
        } } }
        // VNNI's deeper slices (Int8Tile.vnniSliceCap): K 4700 in two of 2352 and 2348, 9300 in three of 3100.
        out += [Size(m: 7, n: 33, k: 4700), Size(m: 13, n: 17, k: 9300), Size(m: 6, n: 70, k: 4608), Size(m: 13, n: 15, k: 4700)]
        // Several K slices summed through the last panel's quarter (8 columns) and half-plus-quarter (24).
        out += [Size(m: 13, n: 56, k: 9300), Size(m: 9, n: 40, k: 4700)]
        // Slices forced shallower than the plan's: one group, three, and a last slice of one group.
        out += [Size(m: 7, n: 33, k: 1030, kc: 4), Size(m: 13, n: 17, k: 101, kc: 12), Size(m: 6, n: 70, k: 516, kc: 512)]
        // Outputs of 2^18 values and more in one K slice run row panel first (Int8Gemm's rowsFirst),
        // with a partial last column panel; and one deeper than 768 (two AVX2 slices, one VNNI one), which does not.
        out += [Size(m: 13, n: 20_203, k: 5), Size(m: 7, n: 37_501, k: 512), Size(m: 7, n: 37_501, k: 769)]
        // 14x14-like outputs (6 column panels and 4 or 17 columns) with 6 VNNI row panels: on 2 threads
        // VNNI splits the rows (Int8Gemm.rowSplitBalancesBetter), the AVX2 tiles the columns.
        out += [Size(m: 48, n: 196, k: 513), Size(m: 48, n: 209, k: 64), Size(m: 48, n: 196, k: 1030)]
        return out
    }()

    /// Deterministic values including both ends of each range.
    static func values<T: FixedWidthInteger>(_ count: Int, seed: UInt64, as: T.Type) -> [T] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { i in
            if i % 11 == 0 { return T.min }
            if i % 13 == 0 { return T.max }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return T(truncatingIfNeeded: state >> 33)
        }
    }

    @Test("the integer tiles this CPU runs")
    func reportsTiles() {
        let tiles = Int8Tile.allCases.filter(\.isSupported).map(\.rawValue)
        print("int8 tiles exercised on this machine: \(tiles.joined(separator: ", "))")
        #expect(tiles.contains("reference"))
    }

    @Test(arguments: sizes)
    func matchesTwinExactly(_ s: Size) {
        let ldb = s.n + 3
        let w = Self.values(s.m * s.k, seed: 1, as: Int8.self), x = Self.values(s.k * ldb, seed: 2, as: UInt8.self)
        var expected = [Int32](repeating: 0, count: s.m * s.n)
        w.withUnsafeBufferPointer { a in x.withUnsafeBufferPointer { b in expected.withUnsafeMutableBufferPointer { c in
            Int8GemmReference.gemm(m: s.m, n: s.n, k: s.k, a: a.baseAddress!, lda: s.k, b: b.baseAddress!, ldb: ldb,
                                   c: c.baseAddress!, ldc: s.n, accumulate: false)
        } } }
        for tile in Int8Tile.allCases where tile.isSupported {
            let packed = w.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: s.m, k: s.k, tile: tile, kc: s.kc) }
            #expect(packed.rowSums == (0..<s.m).map { i in (0..<s.k).reduce(Int32(0)) { $0 + Int32(w[i * s.k + $1]) } })
            for threads in [1, 2] {
                // One spare column of sentinels on the right: nothing may be written there.
                let ldc = s.n + 1
                var got = [Int32](repeating: 7_777_777, count: s.m * ldc)
                let layout = Int8BLayout(k: s.k, n: s.n, tile: tile)
                var bytes = [UInt8](repeating: 0xEE, count: layout.count), halves = [Int16](repeating: -1, count: layout.count)
                x.withUnsafeBufferPointer { b in bytes.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
                    Int8Gemm.interleave(b.baseAddress!, ldb: ldb, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!)
                } } }
                bytes.withUnsafeBufferPointer { b8 in halves.withUnsafeBufferPointer { b16 in got.withUnsafeMutableBufferPointer { c in
                    Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!, ldc: ldc,
                                  workspace: Int8GemmWorkspace(threads: threads))
                } } }
                let mismatches = (0..<s.m).flatMap { i in (0..<s.n).filter { j in got[i * ldc + j] != expected[i * s.n + j] } }
                #expect(mismatches.isEmpty, "\(tile) \(s) threads \(threads): \(mismatches.count) sums differ")
                #expect((0..<s.m).allSatisfy { got[$0 * ldc + s.n] == 7_777_777 }, "\(tile) \(s) wrote past column \(s.n)")
            }
        }
    }

    /// The tiles' fused requantization (Int8FusedRequantization) against the separate pass over
    /// the sums, value for value, at the sizes around every edge (K of two and three slices: the
    /// earlier slices' sums come back from C), on both uint8 and int8 outputs, 1 and 2 threads;
    /// nothing written past the output's columns. Declined where column sums are needed.
    @Test func fusedRequantizationEqualsTheSeparatePass() {
        let sizes = Self.sizes.filter { [1, 5, 512, 513, 1030, 1600, 4700, 9300].contains($0.k) }
        for s in sizes {
            let ldb = s.n + 3
            let w = Self.values(s.m * s.k, seed: 7, as: Int8.self), x = Self.values(s.k * ldb, seed: 8, as: UInt8.self)
            for tile in [Int8Tile.vnni, .avx2, .avx2Bytes] where tile.isSupported {
                let packed = w.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: s.m, k: s.k, tile: tile, kc: s.kc) }
                let layout = Int8BLayout(k: s.k, n: s.n, tile: tile)
                var bytes = [UInt8](repeating: 0, count: layout.count), halves = [Int16](repeating: 0, count: layout.count)
                x.withUnsafeBufferPointer { b in bytes.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
                    Int8Gemm.interleave(b.baseAddress!, ldb: ldb, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!)
                } } }
                for (range, yzp) in [(QuantizedRange.uint8, Float(3)), (.int8, Float(-2))] {
                    let r = Requantization(multiplier: (0..<s.m).map { 1e-4 * Float($0 + 1) }, bias: (0..<s.m).map { Int32($0 * 1_000 - 3_000) },
                                           weightRowSums: packed.rowSums, weightZeroPoints: Array(repeating: 0, count: s.m), inputZeroPoint: 131,
                                           outputZeroPoint: yzp, range: range, k: s.k)
                    guard let fused = Int8FusedRequantization(r) else { Issue.record("declined with zero weight zero points"); return }
                    for threads in [1, 2] {
                        var acc = [Int32](repeating: 0, count: s.m * s.n), expected = [Float](repeating: .nan, count: s.m * s.n)
                        let ldo = s.n + 1
                        var got = [Float](repeating: -99, count: s.m * ldo), scratch = [Int32](repeating: 0, count: s.m * s.n)
                        bytes.withUnsafeBufferPointer { b8 in halves.withUnsafeBufferPointer { b16 in
                            acc.withUnsafeMutableBufferPointer { c in
                                Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!,
                                              ldc: s.n, workspace: Int8GemmWorkspace(threads: threads))
                            }
                            scratch.withUnsafeMutableBufferPointer { c in got.withUnsafeMutableBufferPointer { o in
                                Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!,
                                              ldc: s.n, workspace: Int8GemmWorkspace(threads: threads), requantize: (fused, output: o.baseAddress!, ldo: ldo))
                            } }
                        } }
                        acc.withUnsafeBufferPointer { a in expected.withUnsafeMutableBufferPointer { o in
                            r.apply(a.baseAddress!, ldc: s.n, rows: 0..<s.m, n: s.n, columnSums: nil, into: o.baseAddress!, ldo: s.n)
                        } }
                        let mismatches = (0..<s.m).flatMap { i in (0..<s.n).filter { j in got[i * ldo + j] != expected[i * s.n + j] } }
                        #expect(mismatches.isEmpty, "\(tile) \(s) \(range) threads \(threads): \(mismatches.count) outputs differ")
                        #expect((0..<s.m).allSatisfy { got[$0 * ldo + s.n] == -99 }, "\(tile) \(s) wrote past column \(s.n)")
                    }
                }
            }
        }
        let withZeroPoint = Requantization(multiplier: [1], bias: [0], weightRowSums: [0], weightZeroPoints: [2], inputZeroPoint: 0,
                                           outputZeroPoint: 0, range: .uint8, k: 1)
        #expect(Int8FusedRequantization(withZeroPoint) == nil)
    }

    /// K slices: the fewest of at most the cap (AVX2 768, VNNI 4,608), equal to within a group of
    /// 4 (whole groups each).
    @Test func sliceDepthTakesTheFewestEvenSlices() {
        let table: [(k: Int, kc: Int)] = [(1, 4), (4, 4), (64, 64), (512, 512), (576, 576), (767, 768), (768, 768), (769, 388),
                                          (1152, 576), (2304, 768), (2305, 580), (4608, 768), (33_025, 752)]
        for (k, kc) in table { #expect(Int8Tile.sliceDepth(k: k, cap: 768) == kc, "K \(k)") }
        for k in 1...5000 {
            let kc = Int8Tile.sliceDepth(k: k, cap: 768), slices = (k + kc - 1) / kc
            #expect(kc % 4 == 0 && kc <= 768 && slices == (k + 767) / 768 && k - (slices - 1) * kc > kc - 4 * slices, "K \(k): \(kc)")
        }
        // VNNI's cap, and the depth each tile's packed weights take.
        let vnni: [(k: Int, kc: Int)] = [(576, 576), (2304, 2304), (4608, 4608), (4609, 2308), (9300, 3100), (20_000, 4000)]
        for (k, kc) in vnni { #expect(Int8Tile.vnni.sliceDepth(k: k) == kc, "VNNI K \(k)") }
        for (k, kc) in table { #expect(Int8Tile.avx2.sliceDepth(k: k) == kc && Int8Tile.avx2Bytes.sliceDepth(k: k) == kc, "AVX2 K \(k)") }
        // Packing is plain Swift: every tile's, whether or not this CPU runs it.
        let w = [Int8](repeating: 1, count: 2304)
        for tile in [Int8Tile.vnni, .avx2, .avx2Bytes] {
            let packed = w.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: 1, k: 2304, tile: tile) }
            #expect(packed.kc == (tile == .vnni ? 2304 : 768), "\(tile)")
        }
    }

    /// The AVX2 DequantizeLinear against (x - zp) · scale in Swift, value for value (no fused multiply-add).
    @Test func dequantizeLinearMatchesTheTwin() {
        guard Int8Tile.avx2.isSupported else { return }
        let x: [Float] = (0..<259).map { Float($0 % 256) } + [.nan, .infinity, -128, 127]
        for (scale, zp) in [(Float(0.0123), Float(128)), (0.37, -3), (1e-7, 0)] {
            let twin = x.map { ($0 - zp) * scale }
            var fast = [Float](repeating: -7, count: x.count)
            x.withUnsafeBufferPointer { src in fast.withUnsafeMutableBufferPointer {
                Int8Elementwise.dequantizeLinear(src.baseAddress!, count: x.count, scale: scale, zeroPoint: zp, into: $0.baseAddress!)
            } }
            #expect(zip(fast, twin).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "scale \(scale) zp \(zp)")
        }
    }

    /// The fused requantization at the edges of its arithmetic: NaN, infinite, zero, huge and
    /// subnormal multipliers, and biases at both ends of int32 (wrapping adds), against the separate pass.
    @Test func fusedRequantizationAtTheEdges() {
        let (m, n, k) = (7, 33, 513)
        let w = Self.values(m * k, seed: 10, as: Int8.self), x = Self.values(k * n, seed: 11, as: UInt8.self)
        for tile in [Int8Tile.vnni, .avx2, .avx2Bytes] where tile.isSupported {
            let packed = w.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: m, k: k, tile: tile) }
            let layout = Int8BLayout(k: k, n: n, tile: tile)
            var bytes = [UInt8](repeating: 0, count: layout.count), halves = [Int16](repeating: 0, count: layout.count)
            x.withUnsafeBufferPointer { b in bytes.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
                Int8Gemm.interleave(b.baseAddress!, ldb: n, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!)
            } } }
            let r = Requantization(multiplier: [.nan, .infinity, -.infinity, 0, 1e30, Float.leastNonzeroMagnitude, 3e-3],
                                   bias: [Int32.max, Int32.min, 0, -1, Int32.max, 7, Int32.min], weightRowSums: packed.rowSums,
                                   weightZeroPoints: Array(repeating: 0, count: m), inputZeroPoint: 200, outputZeroPoint: -3, range: .int8, k: k)
            let fused = Int8FusedRequantization(r)!
            var acc = [Int32](repeating: 0, count: m * n), scratch = acc
            var expected = [Float](repeating: .nan, count: m * n), got = [Float](repeating: 99, count: m * n)
            bytes.withUnsafeBufferPointer { b8 in halves.withUnsafeBufferPointer { b16 in
                acc.withUnsafeMutableBufferPointer { c in
                    Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!, ldc: n,
                                  workspace: Int8GemmWorkspace(threads: 1))
                }
                scratch.withUnsafeMutableBufferPointer { c in got.withUnsafeMutableBufferPointer { o in
                    Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!, ldc: n,
                                  workspace: Int8GemmWorkspace(threads: 1), requantize: (fused, output: o.baseAddress!, ldo: n))
                } }
            } }
            acc.withUnsafeBufferPointer { a in expected.withUnsafeMutableBufferPointer { o in
                r.apply(a.baseAddress!, ldc: n, rows: 0..<m, n: n, columnSums: nil, into: o.baseAddress!, ldo: n)
            } }
            #expect(got == expected, "\(tile)")
        }
    }

    /// The AVX2 QuantizeLinear against QuantizedRange.quantize(x / scale), value for value: halves
    /// (round to even), both saturation ends, NaN and infinities, a tail past the 8-lane loop.
    @Test func quantizeLinearMatchesTheTwin() {
        guard Int8Tile.avx2.isSupported else { return }
        var x: [Float] = (0..<203).map { Float($0 - 101) * 0.37 }
        x += [0.5, 1.5, 2.5, -0.5, -2.5, 1e9, -1e9, .nan, .infinity, -.infinity, 0, -0.0, 127.49, 127.5]
        for (scale, zp, range) in [(Float(0.5), Float(128), QuantizedRange.uint8), (0.037, -3, .int8), (1, 0, .uint8), (0.0173, 0, .int8)] {
            // Values at and beside each rounding midpoint: x / scale and x · (1 / scale) round apart there.
            let x = x + (-150...150).flatMap { k -> [Float] in let v = (Float(k) + 0.5) * scale; return [v, v.nextUp, v.nextDown] }
            let twin = x.map { range.quantize($0 / scale, zeroPoint: zp) }
            var fast = [Float](repeating: -7, count: x.count)
            x.withUnsafeBufferPointer { src in fast.withUnsafeMutableBufferPointer {
                Int8Elementwise.quantizeLinear(src.baseAddress!, count: x.count, scale: scale, zeroPoint: zp, range: range, into: $0.baseAddress!)
            } }
            #expect(fast == twin, "scale \(scale) zp \(zp) \(range)")
        }
    }

    /// ONNX QLinearConv/QLinearMatMul: y = saturate(round(((x - xzp)·(w - wzp) + bias) · xs·ws/ys) + yzp),
    /// round half to even, here with non-zero weight zero points and both output types.
    @Test func requantizationMatchesTheFormula() {
        let m = 3, n = 5, k = 7
        let w = Self.values(m * k, seed: 3, as: Int8.self), x = Self.values(k * n, seed: 4, as: UInt8.self)
        let xzp: Int32 = 131, wzp: [Int32] = [0, -3, 5], bias: [Int32] = [100, -2_000, 0]
        let multiplier: [Float] = [0.0031, 0.5, 0.0007]
        var acc = [Int32](repeating: 0, count: m * n)
        w.withUnsafeBufferPointer { a in x.withUnsafeBufferPointer { b in acc.withUnsafeMutableBufferPointer { c in
            Int8GemmReference.gemm(m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n, accumulate: false)
        } } }
        let columnSums = (0..<n).map { j in (0..<k).reduce(Int32(0)) { $0 + Int32(x[$1 * n + j]) } }
        for (range, yzp) in [(QuantizedRange.uint8, Float(128)), (.int8, Float(-3))] {
            let r = Requantization(multiplier: multiplier, bias: bias, weightRowSums: (0..<m).map { i in (0..<k).reduce(Int32(0)) { $0 + Int32(w[i * k + $1]) } },
                                   weightZeroPoints: wzp, inputZeroPoint: xzp, outputZeroPoint: yzp, range: range, k: k)
            var out = [Float](repeating: .nan, count: m * n)
            acc.withUnsafeBufferPointer { a in columnSums.withUnsafeBufferPointer { cs in out.withUnsafeMutableBufferPointer { o in
                r.apply(a.baseAddress!, ldc: n, rows: 0..<m, n: n, columnSums: cs.baseAddress, into: o.baseAddress!, ldo: n)
            } } }
            for i in 0..<m { for j in 0..<n {
                var sum: Int32 = bias[i]
                for p in 0..<k { sum += (Int32(x[p * n + j]) - xzp) * (Int32(w[i * k + p]) - wzp[i]) }
                let expected = min(max((Float(sum) * multiplier[i]).rounded(.toNearestOrEven) + yzp, range.lo), range.hi)
                #expect(out[i * n + j] == expected, "\(range) [\(i), \(j)]")
            } }
        }
        // The AVX2 row kernel against the twin, on sums that cross every rounding case.
        if Int8Tile.avx2.isSupported {
            let n = 37
            let sums: [Int32] = (0..<n).map { Int32($0 * 977 - 18_000) } + [Int32.max, Int32.min, 0]
            let r = Requantization(multiplier: [0.0123, 0.5], bias: [7, -7], weightRowSums: [100, -3], weightZeroPoints: [0, 0],
                                   inputZeroPoint: 128, outputZeroPoint: 3, range: .int8, k: 9)
            for row in 0..<2 {
                var twin = [Float](repeating: .nan, count: sums.count), fast = twin
                sums.withUnsafeBufferPointer { s in
                    twin.withUnsafeMutableBufferPointer { r.apply(s.baseAddress!, ldc: 0, rows: row..<(row + 1), n: sums.count, columnSums: nil, into: $0.baseAddress! - row * 0, ldo: 0) }
                    fast.withUnsafeMutableBufferPointer {
                        Int8Requantize.apply(r, s.baseAddress!, ldc: 0, rows: row..<(row + 1), n: sums.count, columnSums: nil, into: $0.baseAddress!, ldo: 0, tile: .avx2)
                    }
                }
                #expect(twin == fast, "row \(row)")
            }
        }
        // Round half to even at exact halves, and saturation at both ends.
        #expect(QuantizedRange.uint8.quantize(2.5, zeroPoint: 0) == 2 && QuantizedRange.uint8.quantize(3.5, zeroPoint: 0) == 4)
        #expect(QuantizedRange.int8.quantize(-1000, zeroPoint: 0) == -128 && QuantizedRange.uint8.quantize(1e9, zeroPoint: 10) == 255)
        #expect(QuantizedRange.uint8.quantize(.nan, zeroPoint: 0) == 0)
    }
}

/// The integer scratch every int8 step's operand lives in starts each buffer on a 64-byte
/// boundary, at every size it grows to: the tiles read B a cache line per step, and the system
/// allocator's large blocks start 16 bytes past a page (every other AVX2 load split across two
/// lines: resnet50-qop's layers 7.6% slower on Zen 3).
struct Int8ScratchAlignmentTests {
    @Test(arguments: [1, 100, 4096, 300_000, 3_000_000])
    func buffersStartOnACacheLine(elements: Int) {
        for tile in [Int8Tile.avx2, .vnni, .avx2Bytes] {
            let scratch = Int8Scratch(threads: 2)
            scratch.reserve(plane: elements, operand: Int8BLayout(k: 2, n: elements / 2, tile: tile), accumulators: elements,
                            columnSums: elements, words: elements)
            let addresses = [Int(bitPattern: scratch.plane), Int(bitPattern: tile == .avx2 ? UnsafeMutableRawPointer(scratch.halves) : UnsafeMutableRawPointer(scratch.bytes)),
                             Int(bitPattern: scratch.accumulators), Int(bitPattern: scratch.columnSums), Int(bitPattern: scratch.words)]
            #expect(addresses.allSatisfy { $0 % 64 == 0 }, "\(tile), \(elements) elements: offsets \(addresses.map { $0 % 64 })")
        }
    }
}
