import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// The transposed VNNI product (Int8Gemm.gemmTransposed: positions as the tile's rows,
/// channels as its columns) against the naive twin, exactly, at sizes around its edges: M
/// around the 32-channel panel, N around the 6- and 7-position panels (and resnet's 49), K around the
/// 4-wide group and the 512 slice; 1, 2 and 3 threads (channel and position splits). Its fused
/// requantization against the separate pass. Only where the CPU has VNNI.
struct Int8TransposedTests {
    typealias Size = Int8GemmTests.Size

    static let sizes: [Size] = {
        var out: [Size] = []
        for m in [1, 31, 32, 33, 70] { for n in [1, 5, 6, 7, 8, 12, 13, 14, 15, 19, 21, 25, 31, 37, 48, 49, 50, 65] { for k in [1, 3, 4, 5, 512, 513, 1030] {
            out.append(Size(m: m, n: n, k: k))
        } } }
        return out
    }()

    /// B [K, n + 3] as uint8 and its VNNI operand.
    static func operand(_ s: Size, seed: UInt64) -> (layout: Int8BLayout, bytes: [UInt8], x: [UInt8], ldb: Int) {
        let ldb = s.n + 3
        let x = Int8GemmTests.values(s.k * ldb, seed: seed, as: UInt8.self)
        let layout = Int8BLayout(k: s.k, n: s.n, tile: .vnni)
        var bytes = [UInt8](repeating: 0xEE, count: layout.count), halves = [Int16]()
        x.withUnsafeBufferPointer { b in bytes.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
            Int8Gemm.interleave(b.baseAddress!, ldb: ldb, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!)
        } } }
        return (layout, bytes, x, ldb)
    }

    /// W · B by the naive twin: the expected sums, M x N.
    static func twinSums(_ w: [Int8], _ x: [UInt8], _ s: Size, ldb: Int) -> [Int32] {
        var sums = [Int32](repeating: 0, count: s.m * s.n)
        w.withUnsafeBufferPointer { a in x.withUnsafeBufferPointer { b in sums.withUnsafeMutableBufferPointer { c in
            Int8GemmReference.gemm(m: s.m, n: s.n, k: s.k, a: a.baseAddress!, lda: s.k, b: b.baseAddress!, ldb: ldb,
                                   c: c.baseAddress!, ldc: s.n, accumulate: false)
        } } }
        return sums
    }

    /// The panel height: whichever of 6 and 7 computes fewer rows, 7 on a tie.
    @Test(arguments: [(1, 6), (5, 6), (6, 6), (7, 7), (8, 6), (12, 6), (13, 7), (14, 7), (15, 6), (18, 6), (19, 7), (21, 7), (25, 7), (31, 7),
                      (37, 7), (48, 6),
                      (49, 7), (50, 6), (196, 7), (198, 6)])
    func panelRows(n: Int, rows: Int) {
        #expect(Int8Gemm.transposedPanelRows(n: n) == rows)
    }

    @Test func matchesTwinExactly() {
        guard Int8Tile.vnni.isSupported else { print("transposed int8 product not exercised: no VNNI on this CPU"); return }
        var failures = 0
        for s in Self.sizes {
            let w = Int8GemmTests.values(s.m * s.k, seed: 11, as: Int8.self)
            let (layout, bytes, x, ldb) = Self.operand(s, seed: 12)
            let expected = Self.twinSums(w, x, s, ldb: ldb)
            let packed = w.withUnsafeBufferPointer { PackedInt8ChannelWeights(weights: $0.baseAddress!, m: s.m, k: s.k) }
            #expect(packed.rowSums == (0..<s.m).map { i in (0..<s.k).reduce(Int32(0)) { $0 + Int32(w[i * s.k + $1]) } })
            for threads in [1, 2, 3] {
                // One spare column of sentinels on the right: nothing may be written there.
                let ldc = s.n + 1
                // Cᵀ with a guard of 64 sentinels past its M x N: nothing may be written there.
                var got = [Int32](repeating: 7_777_777, count: s.m * ldc), transposed = [Int32](repeating: -5, count: s.m * s.n + 64)
                bytes.withUnsafeBufferPointer { b8 in got.withUnsafeMutableBufferPointer { c in transposed.withUnsafeMutableBufferPointer { ct in
                    Int8Gemm.gemmTransposed(weights: packed, layout: layout, bytes: b8.baseAddress!, c: c.baseAddress!, ldc: ldc,
                                            transposed: ct.baseAddress!, workspace: Int8GemmWorkspace(threads: threads))
                } } }
                let mismatches = (0..<s.m).flatMap { i in (0..<s.n).filter { j in got[i * ldc + j] != expected[i * s.n + j] } }
                #expect(mismatches.isEmpty, "\(s) threads \(threads): \(mismatches.count) sums differ")
                #expect((0..<s.m).allSatisfy { got[$0 * ldc + s.n] == 7_777_777 }, "\(s) wrote past column \(s.n)")
                #expect(transposed[(s.m * s.n)...].allSatisfy { $0 == -5 }, "\(s) threads \(threads) wrote past Cᵀ")
                failures += mismatches.count
            }
        }
        #expect(failures == 0)
    }

    /// The fused requantization (each row requantized as it is transposed) against the separate
    /// pass over the twin's sums, value for value, uint8 and int8 outputs, 1-3 threads; nothing
    /// written past the output's columns.
    @Test func fusedRequantizationEqualsTheSeparatePass() {
        guard Int8Tile.vnni.isSupported else { print("transposed int8 requantization not exercised: no VNNI on this CPU"); return }
        for s in Self.sizes where [1, 5, 513, 1030].contains(s.k) {
            let w = Int8GemmTests.values(s.m * s.k, seed: 21, as: Int8.self)
            let (layout, bytes, x, ldb) = Self.operand(s, seed: 22)
            let sums = Self.twinSums(w, x, s, ldb: ldb)
            let packed = w.withUnsafeBufferPointer { PackedInt8ChannelWeights(weights: $0.baseAddress!, m: s.m, k: s.k) }
            for (range, yzp) in [(QuantizedRange.uint8, Float(3)), (.int8, Float(-2))] {
                let r = Requantization(multiplier: (0..<s.m).map { 1e-4 * Float($0 + 1) }, bias: (0..<s.m).map { Int32($0 * 1_000 - 3_000) },
                                       weightRowSums: packed.rowSums, weightZeroPoints: Array(repeating: 0, count: s.m), inputZeroPoint: 131,
                                       outputZeroPoint: yzp, range: range, k: s.k)
                guard let fused = Int8FusedRequantization(r) else { Issue.record("declined with zero weight zero points"); return }
                var expected = [Float](repeating: .nan, count: s.m * s.n)
                sums.withUnsafeBufferPointer { a in expected.withUnsafeMutableBufferPointer { o in
                    r.apply(a.baseAddress!, ldc: s.n, rows: 0..<s.m, n: s.n, columnSums: nil, into: o.baseAddress!, ldo: s.n)
                } }
                for threads in [1, 2, 3] {
                    let ldo = s.n + 1
                    var got = [Float](repeating: -99, count: s.m * ldo)
                    var c = [Int32](repeating: 0, count: s.m * s.n), transposed = [Int32](repeating: 0, count: s.m * s.n)
                    bytes.withUnsafeBufferPointer { b8 in c.withUnsafeMutableBufferPointer { c in transposed.withUnsafeMutableBufferPointer { ct in
                        got.withUnsafeMutableBufferPointer { o in
                            Int8Gemm.gemmTransposed(weights: packed, layout: layout, bytes: b8.baseAddress!, c: c.baseAddress!, ldc: s.n,
                                                    transposed: ct.baseAddress!, workspace: Int8GemmWorkspace(threads: threads),
                                                    requantize: (fused, output: o.baseAddress!, ldo: ldo))
                        }
                    } } }
                    let mismatches = (0..<s.m).flatMap { i in (0..<s.n).filter { j in got[i * ldo + j] != expected[i * s.n + j] } }
                    #expect(mismatches.isEmpty, "\(s) \(range) threads \(threads): \(mismatches.count) outputs differ")
                    #expect((0..<s.m).allSatisfy { got[$0 * ldo + s.n] == -99 }, "\(s) wrote past column \(s.n)")
                }
            }
        }
    }
}
