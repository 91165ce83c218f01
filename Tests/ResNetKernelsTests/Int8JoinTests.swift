import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// A residual join finished in the VNNI tile (Int8Join, rt_requant_tile's join) against the unfused
/// steps: the product requantized to floats, then Int8Elementwise.qlinearAdd of those and the other
/// operand's bytes. Floats and bytes equal bit for bit at every tile edge (rows 1-9 and 17 of 8-row
/// panels, 1-70 columns across the 16-column half tile), one and several K slices, the conv as A and
/// as B, offsets 0 and 128 on either side, uint8 and int8 ranges, ratios that overflow to infinity
/// (NaN sums), 1 and 2 threads (the row split); nothing written between rows (ldo past N).
struct Int8JoinTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let convIsA: Bool, otherOffset: Int, outputOffset: Int, range: QuantizedRange, ratios: (a: Float, b: Float), zeroPoints: (a: Float, b: Float, c: Float)
        var testDescription: String { "conv \(convIsA ? "A" : "B") offsets \(otherOffset)/\(outputOffset) \(range) ratios \(ratios) zp \(zeroPoints)" }
    }
    static let cases: [Case] = [
        Case(convIsA: true, otherOffset: 0, outputOffset: 0, range: .uint8, ratios: (0.61, 0.83), zeroPoints: (5, 117, 3)),
        Case(convIsA: false, otherOffset: 0, outputOffset: 0, range: .uint8, ratios: (0.61, 0.83), zeroPoints: (117, 5, 3)),
        Case(convIsA: true, otherOffset: 128, outputOffset: 128, range: .int8, ratios: (1.7, 0.3), zeroPoints: (-3, 11, -7)),
        Case(convIsA: false, otherOffset: 128, outputOffset: 0, range: .int8, ratios: (0.5, 0.5), zeroPoints: (-3, -128, 0)),
        // Ratios past float's range: infinite and NaN sums, which both paths must clamp alike.
        Case(convIsA: true, otherOffset: 0, outputOffset: 0, range: .uint8, ratios: (3e38, -3e38), zeroPoints: (5, 117, 3)),
    ]

    @Test(arguments: cases)
    func equalsTheUnfusedJoin(_ c: Case) {
        guard Int8Tile.vnni.isSupported else { print("the VNNI tile's join not exercised: no AVX-512 VNNI on this CPU"); return }
        for m in [1, 7, 8, 9, 17] { for n in [1, 15, 16, 17, 33, 70] { for k in [3, 513] {
            let w = Int8GemmTests.values(m * k, seed: 41, as: Int8.self), x = Int8GemmTests.values(k * n, seed: 42, as: UInt8.self)
            let packed = w.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: m, k: k, tile: .vnni) }
            let layout = Int8BLayout(k: k, n: n, tile: .vnni), ldo = n + 3
            var operand = [UInt8](repeating: 0, count: layout.count), halves = [Int16](repeating: 0, count: 1)
            x.withUnsafeBufferPointer { b in operand.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
                Int8Gemm.interleave(b.baseAddress!, ldb: n, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!)
            } } }
            let convRange: QuantizedRange = c.convIsA ? (c.zeroPoints.a < 0 ? .int8 : .uint8) : (c.zeroPoints.b < 0 ? .int8 : .uint8)
            let r = Requantization(multiplier: (0..<m).map { 0.0002 + Float($0) * 0.0003 }, bias: (0..<m).map { Int32($0 * 97 - 300) },
                                   weightRowSums: packed.rowSums, weightZeroPoints: Array(repeating: 0, count: m), inputZeroPoint: 117,
                                   outputZeroPoint: c.convIsA ? c.zeroPoints.a : c.zeroPoints.b, range: convRange, k: k)
            let fused = Int8FusedRequantization(r)!
            // The other operand: bytes of its range (+ its offset), rows ldo apart.
            let otherRange: QuantizedRange = c.otherOffset == 128 ? .int8 : .uint8
            let other = Int8GemmTests.values(m * ldo, seed: 43, as: UInt8.self).map { v -> UInt8 in
                UInt8(Int(otherRange.lo) + Int(v) % (Int(otherRange.hi - otherRange.lo) + 1) + c.otherOffset)
            }
            let join = Int8Join(offset: c.otherOffset, convIsA: c.convIsA, zeroPoints: c.zeroPoints, ratios: c.ratios, range: c.range)
            func product(floats: UnsafeMutablePointer<Float>?, bytes: UnsafeMutablePointer<UInt8>?, join: Int8Join?, threads: Int) {
                var sums = [Int32](repeating: 0, count: m * n)
                operand.withUnsafeBufferPointer { b8 in halves.withUnsafeBufferPointer { b16 in sums.withUnsafeMutableBufferPointer { s in
                    other.withUnsafeBufferPointer { o in
                        Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: s.baseAddress!, ldc: n,
                                      workspace: Int8GemmWorkspace(threads: threads), requantize: (fused, output: floats, ldo: ldo),
                                      byteImage: bytes.map { ($0, offset: c.outputOffset) }, join: join.map { ($0, bytes: o.baseAddress!) })
                    }
                } } }
            }
            // Unfused: the conv's floats, then the join row by row.
            var convOut = [Float](repeating: 0, count: m * ldo)
            convOut.withUnsafeMutableBufferPointer { product(floats: $0.baseAddress!, bytes: nil, join: nil, threads: 1) }
            var expected = [Float](repeating: -99, count: m * ldo), expectedBytes = [UInt8](repeating: 0xAB, count: m * ldo)
            convOut.withUnsafeBufferPointer { q in other.withUnsafeBufferPointer { o in
                expected.withUnsafeMutableBufferPointer { e in expectedBytes.withUnsafeMutableBufferPointer { eb in
                    for row in 0..<m {
                        let conv = Int8Elementwise.AddOperand.floats(q.baseAddress! + row * ldo)
                        let shortcut = Int8Elementwise.AddOperand.bytes(o.baseAddress! + row * ldo, offset: c.otherOffset)
                        Int8Elementwise.qlinearAdd(c.convIsA ? conv : shortcut, c.convIsA ? shortcut : conv, bIsScalar: false, count: n,
                                                   zeroPoints: c.zeroPoints, ratios: c.ratios, range: c.range, into: e.baseAddress! + row * ldo,
                                                   byteImage: (eb.baseAddress! + row * ldo, offset: c.outputOffset))
                    }
                } }
            } }
            for (floats, bytes, threads) in [(true, true, 1), (false, true, 1), (true, false, 2), (false, true, 2)] {
                var got = [Float](repeating: -99, count: m * ldo), gotBytes = [UInt8](repeating: 0xAB, count: m * ldo)
                got.withUnsafeMutableBufferPointer { g in gotBytes.withUnsafeMutableBufferPointer { gb in
                    product(floats: floats ? g.baseAddress! : nil, bytes: bytes ? gb.baseAddress! : nil, join: join, threads: threads)
                } }
                let label = "\(c) \(m)x\(n)x\(k) floats \(floats) bytes \(bytes) threads \(threads)"
                if floats {
                    #expect(got.elementsEqual(expected) { $0.bitPattern == $1.bitPattern }, "\(label): floats differ")
                } else {
                    #expect(got.allSatisfy { $0 == -99 }, "\(label): floats written")
                }
                if bytes {
                    #expect(gotBytes == expectedBytes, "\(label): bytes differ")
                } else {
                    #expect(gotBytes.allSatisfy { $0 == 0xAB }, "\(label): bytes written")
                }
            }
        } } }
    }
}
