import Testing
@testable import ResNetKernelsInt8
import ResNetKernelsReference

/// AVX2 on bytes (Int8Tile.avx2Bytes): vpmaddubsw's int16 pair sums saturate, and the GEMM
/// must still return the exact sums. Three regimes, each against the naive twin, value for
/// value, at sizes around the tile's edges, 1 and 2 threads (2 threads with one column panel
/// split the rows), plain sums and the fused requantization: no pair large enough (nothing
/// flagged), a few pairs that do saturate (each corrected in C), and most pairs large (the
/// panel run as two exact halves); plus pairs of 129 against weights of -128, whose sum
/// (-33,024) saturates while the scan's bound (129 x 127 x 2 = 32,766) sits within the 510
/// margin below 32,767, and bounds that differ from group to group of k. Each case checks that
/// it reaches the regime it names and that its data would saturate, so a GEMM that skipped the
/// corrections would fail it.
struct Int8SaturationTests {
    enum Regime: String, CaseIterable, Sendable { case quiet, fewLarge, mostLarge, margin, varyingBounds }

    /// Activations [K, N] (row-major) for `regime`: small values; small values with pairs of 255
    /// (margin: 129) at every 37th (k, column) pair; or values in 200...255.
    static func activations(k: Int, n: Int, regime: Regime) -> [UInt8] {
        let base = Int8GemmTests.values(k * n, seed: 21, as: UInt8.self)
        return (0..<(k * n)).map { index in
            let (p, j) = index.quotientAndRemainder(dividingBy: n), marked = (p / 2 * 7 + j) % 37 == 3
            switch regime {
            case .quiet: return base[index] % 100
            case .fewLarge, .varyingBounds: return marked ? 255 : base[index] % 60
            case .margin: return marked ? 129 : base[index] % 60
            case .mostLarge: return 200 + base[index] % 56
            }
        }
    }

    /// Weights [M, K]: rows of 127, rows of -128 and mixed rows in turn, so a pair of 255s saturates in
    /// many rows, upwards and downwards (margin: every row -128). varyingBounds: every other group of 4 k
    /// within ±30 in every row, so the scan must read each group's own bounds.
    static func weights(m: Int, k: Int, regime: Regime) -> [Int8] {
        let mixed = Int8GemmTests.values(m * k, seed: 22, as: Int8.self)
        return (0..<(m * k)).map { index in
            if regime == .margin { return -128 }
            if regime == .varyingBounds && (index % k / 4) % 2 == 1 { return Int8(Int(mixed[index]) % 31) }
            switch (index / k) % 3 { case 0: return 127; case 1: return -128; default: return mixed[index] }
        }
    }

    /// Around the tile's edges; (7, 140, 64): two threads on separate column panels; (16, 17, 64): two
    /// threads splitting the rows, the second from row 6, reading the corrections' weights 6 rows past M
    /// (their slack); (13, 20_203, 64): 2^18 outputs and more, row panel first (Int8Gemm's rowsFirst).
    static let sizes: [(m: Int, n: Int, k: Int)] = [(7, 1, 64), (5, 3, 5), (13, 17, 64), (13, 33, 130), (40, 70, 1030), (6, 31, 8), (19, 9, 513),
                                                     (7, 140, 64), (16, 17, 64), (13, 20_203, 64)]

    @Test(arguments: Regime.allCases)
    func sumsStayExact(_ regime: Regime) {
        guard Int8Tile.avx2Bytes.isSupported else { print("AVX2 on bytes not exercised: no AVX2 on this CPU"); return }
        for s in Self.sizes {
            let x = Self.activations(k: s.k, n: s.n, regime: regime), w = Self.weights(m: s.m, k: s.k, regime: regime)
            var expected = [Int32](repeating: 0, count: s.m * s.n)
            w.withUnsafeBufferPointer { a in x.withUnsafeBufferPointer { b in expected.withUnsafeMutableBufferPointer { c in
                Int8GemmReference.gemm(m: s.m, n: s.n, k: s.k, a: a.baseAddress!, lda: s.k, b: b.baseAddress!, ldb: s.n,
                                       c: c.baseAddress!, ldc: s.n, accumulate: false)
            } } }
            // The data saturates where the regime says: some pair's exact sum leaves int16 (or none does).
            let saturating = (0..<s.m).contains { i in (0..<s.n).contains { j in stride(from: 0, to: s.k - 1, by: 2).contains { p in
                abs(Int(x[p * s.n + j]) * Int(w[i * s.k + p]) + Int(x[(p + 1) * s.n + j]) * Int(w[i * s.k + p + 1])) > 32767
            } } }
            // (The few large pairs miss a panel as small as 3 x 5, and fall only on small weights in 1 x 64 and 3 x 5 when those vary.)
            let sparse = [Regime.fewLarge, .margin, .varyingBounds].contains(regime)
            #expect(saturating == (regime != .quiet) || (sparse && s.n * s.k < 16) || (regime == .varyingBounds && s.n == 1),
                    "\(regime) \(s): data saturates \(saturating)")
            let packed = w.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: s.m, k: s.k, tile: .avx2Bytes) }
            let layout = Int8BLayout(k: s.k, n: s.n, tile: .avx2Bytes)
            var bytes = [UInt8](repeating: 0xEE, count: layout.count), halves = [Int16]()
            x.withUnsafeBufferPointer { b in bytes.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
                Int8Gemm.interleave(b.baseAddress!, ldb: s.n, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!)
            } } }
            // Which regime each column panel reached (the scan alone, C untouched but for `.corrected`).
            var c = [Int32](repeating: 0, count: s.m * s.n)
            let kinds: [Int8Gemm.Saturation] = bytes.withUnsafeBufferPointer { b8 in
                packed.saturationBounds.withUnsafeBufferPointer { bounds in packed.saturationPairs.withUnsafeBufferPointer { pairs in
                    c.withUnsafeMutableBufferPointer { cp in
                        var scan = [UInt32](repeating: 0, count: 5 * layout.paddedK / 4)
                        return stride(from: 0, to: s.n, by: 32).map { j0 in
                            Int8Gemm.correctSaturation(packed, pairs: pairs.baseAddress!, bounds: bounds.baseAddress!, b: b8.baseAddress! + 4 * j0,
                                                       groupStride: layout.paddedN * 4, groups: layout.paddedK / 4, columns: j0..<min(s.n, j0 + 32),
                                                       rows: 0..<s.m, c: cp.baseAddress!, ldc: s.n, scan: &scan)
                        }
                    }
                } }
            }
            switch regime {
            case .quiet: #expect(kinds.allSatisfy { $0 == .none }, "\(s): \(kinds)")
            case .fewLarge, .margin, .varyingBounds:
                #expect((kinds.contains(.corrected) || !saturating) && !kinds.contains(.tooMany), "\(regime) \(s): \(kinds)")
            // Most pairs flagged: a panel of 8 columns or more has more than K of them; a narrower one may be corrected instead.
            case .mostLarge: #expect(kinds.allSatisfy { $0 != .none } && (s.n < 8 || kinds.first == .tooMany), "\(s): \(kinds)")
            }
            for threads in [1, 2] {
                let ldc = s.n + 1
                var got = [Int32](repeating: 7_777_777, count: s.m * ldc)
                bytes.withUnsafeBufferPointer { b8 in halves.withUnsafeBufferPointer { b16 in got.withUnsafeMutableBufferPointer { c in
                    Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!, ldc: ldc,
                                  workspace: Int8GemmWorkspace(threads: threads))
                } } }
                let mismatches = (0..<s.m).flatMap { i in (0..<s.n).filter { j in got[i * ldc + j] != expected[i * s.n + j] } }
                #expect(mismatches.isEmpty, "\(regime) \(s) threads \(threads): \(mismatches.count) sums differ")
                #expect((0..<s.m).allSatisfy { got[$0 * ldc + s.n] == 7_777_777 }, "\(regime) \(s) wrote past column \(s.n)")
                // The tile's own requantization on top of the corrected sums, against the separate pass over the twin's.
                let r = Requantization(multiplier: (0..<s.m).map { 1e-5 * Float($0 + 1) }, bias: (0..<s.m).map { Int32($0 * 1_000 - 3_000) },
                                       weightRowSums: packed.rowSums, weightZeroPoints: Array(repeating: 0, count: s.m), inputZeroPoint: 0,
                                       outputZeroPoint: 3, range: .uint8, k: s.k)
                var want = [Float](repeating: .nan, count: s.m * s.n), fused = [Float](repeating: -99, count: s.m * ldc)
                var scratch = [Int32](repeating: 0, count: s.m * s.n)
                expected.withUnsafeBufferPointer { a in want.withUnsafeMutableBufferPointer { o in
                    r.apply(a.baseAddress!, ldc: s.n, rows: 0..<s.m, n: s.n, columnSums: nil, into: o.baseAddress!, ldo: s.n)
                } }
                bytes.withUnsafeBufferPointer { b8 in halves.withUnsafeBufferPointer { b16 in
                    scratch.withUnsafeMutableBufferPointer { c in fused.withUnsafeMutableBufferPointer { o in
                        Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!,
                                      ldc: s.n, workspace: Int8GemmWorkspace(threads: threads),
                                      requantize: (Int8FusedRequantization(r)!, output: o.baseAddress!, ldo: ldc))
                    } }
                } }
                let differ = (0..<s.m).flatMap { i in (0..<s.n).filter { j in fused[i * ldc + j] != want[i * s.n + j] } }
                #expect(differ.isEmpty, "\(regime) \(s) threads \(threads): \(differ.count) requantized outputs differ")
            }
        }
    }

    /// The bounds the scan multiplies by: each column's largest |weight|, 127 for -128, 0 past K.
    @Test func boundsAreEachColumnsLargestMagnitude() {
        let w: [Int8] = [3, -128, 0, 5, 7,
                         -9, 2, 0, -5, 1]
        #expect(PackedInt8Weights.saturationBounds(w, m: 2, k: 5) == [9, 127, 0, 5, 7, 0, 0, 0])
        // Pairs with each pair's rows together (8 per group, zeros past M and K), and 8 rows of slack.
        let pairs = PackedInt8Weights.saturationPairs(w, m: 2, k: 5)
        #expect(pairs.count == 2 * 4 * 8 + 16)
        #expect(Array(pairs[0..<4]) == [3, -128, -9, 2] && Array(pairs[16..<20]) == [0, 5, 0, -5] && Array(pairs[32..<36]) == [7, 0, 1, 0])
    }

    /// Centred activations (an image's input, int8 activations shifted by 128) take the widening tile.
    @Test func centredActivationsTakeTheWideningTile() {
        #expect(Int8Tile.avx2Bytes.forActivations(zeroPoint: 0) == .avx2Bytes)
        #expect(Int8Tile.avx2Bytes.forActivations(zeroPoint: 32) == .avx2Bytes)
        #expect(Int8Tile.avx2Bytes.forActivations(zeroPoint: 33) == .avx2)
        #expect(Int8Tile.avx2Bytes.forActivations(zeroPoint: 128) == .avx2)
        #expect(Int8Tile.vnni.forActivations(zeroPoint: 128) == .vnni && Int8Tile.avx2.forActivations(zeroPoint: 0) == .avx2)
        #expect(Int8Tile.forSet(.avx2) == .avx2Bytes)
    }
}
