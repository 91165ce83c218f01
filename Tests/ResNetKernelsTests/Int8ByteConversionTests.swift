import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// Float-coded values as bytes (rt_bytes_from_floats_avx2: 32, 8 and 1 at a time), QLinearAdd's
/// byte images (operands read from them, results written to them) and each SIMD tile's of its requantized outputs (Planner+ByteImages.swift),
/// against the scalar `Int8Patches.byte` (the joins also on AVX-512 where the CPU has it),
/// value for value: every length across the 8- and 32-value loops, NaN, infinities, values past
/// either end of the byte and of int32, fractions (truncated), offsets 0 and 128.
struct Int8ByteConversionTests {
    static let specials: [Float] = [.nan, -.nan, .infinity, -.infinity, -3.5, 300, 254.9, 1e10, -1e10, 0.5, 255, 255.5, -0.5,
                                    127.9, -128, -129, 0, 1, 2_147_483_648, -2_147_483_904, 65_536, 65_535.9, -65_536]
    static let lengths = Array(0..<100) + [1000, 1003]

    @Test func bytesMatchTheScalarByte() {
        guard Int8Tile.avx2.isSupported else { print("byte conversion not exercised: no AVX2 on this CPU"); return }
        let x = (0..<1003).map { i -> Float in i % 3 == 0 ? Self.specials[i % Self.specials.count] : Float((i &* 7919) % 700 - 300) + (i % 5 == 0 ? 0.25 : 0) }
        for offset in [0, 128] {
            for n in Self.lengths {
                var got = [UInt8](repeating: 0xAB, count: n + 8)
                x.withUnsafeBufferPointer { src in got.withUnsafeMutableBufferPointer {
                    Int8Patches.bytes(src.baseAddress!, count: n, offset: offset, tile: .vnni, into: $0.baseAddress!)
                } }
                let differing = (0..<n).filter { got[$0] != Int8Patches.byte(x[$0], offset: offset) }
                #expect(differing.isEmpty, "offset \(offset) length \(n): \(differing.prefix(4).map { "\(x[$0]) -> \(got[$0])" })")
                #expect(got[n...].allSatisfy { $0 == 0xAB }, "offset \(offset) length \(n) wrote past the end")
            }
        }
    }

    /// Each SIMD tile's requantization writing a byte image beside its floats, or instead of them
    /// (no float output): every tile edge (rows 1-6 of a panel, 1-32 columns, the 16-column half
    /// tiles), one and several K slices (AVX2 on bytes: these operands flag pairs, so corrected and
    /// split panels too); the floats unchanged or untouched, the bytes those of the floats, nothing
    /// written between rows (ldo past N).
    @Test(arguments: [Int8Tile.vnni, .avx2, .avx2Bytes])
    func requantizationWritesTheBytesOfItsOutput(_ tile: Int8Tile) {
        guard tile.isSupported else { print("the \(tile) tile's byte image not exercised: not on this CPU"); return }
        for m in [1, 5, 6, 7, 8, 9, 13, 17] { for n in [1, 8, 15, 16, 17, 24, 31, 32, 33, 40, 56, 70] { for k in [3, 513, 1030] {
            let w = Int8GemmTests.values(m * k, seed: 31, as: Int8.self), x = Int8GemmTests.values(k * n, seed: 32, as: UInt8.self)
            let packed = w.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: m, k: k, tile: tile) }
            let layout = Int8BLayout(k: k, n: n, tile: tile), ldo = n + 3
            var operand = [UInt8](repeating: 0, count: layout.count), halves = [Int16](repeating: 0, count: tile == .avx2 ? layout.count : 1)
            x.withUnsafeBufferPointer { b in operand.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
                Int8Gemm.interleave(b.baseAddress!, ldb: n, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!)
            } } }
            // extreme: rows whose multiplier is NaN, or so large the scaled sums pass Int32 both ways (the
            // VNNI tile's bytes-alone path converts after clamping; the twin clamps after rounding).
            let cases: [(range: QuantizedRange, zp: Float, offset: Int, extreme: Bool)] =
                [(.uint8, 5, 0, false), (.int8, -3, 128, false), (.int8, 2, 0, false), (.uint8, 250, 0, true), (.int8, -128, 128, true)]
            for (range, zp, offset, extreme) in cases {
                let multipliers: [Float] = (0..<m).map { i in
                    guard extreme else { return 0.0002 + Float(i) * 0.0003 }
                    return [Float.nan, 3e9, -3e9, 0.0007, .infinity][i % 5]
                }
                let biases: [Int32] = (0..<m).map { i in Int32(i * 97 - 300) }
                let r = Requantization(multiplier: multipliers, bias: biases, weightRowSums: packed.rowSums,
                                       weightZeroPoints: Array(repeating: 0, count: m), inputZeroPoint: 117, outputZeroPoint: zp, range: range, k: k)
                let fused = Int8FusedRequantization(r)!
                func run(image: UnsafeMutablePointer<UInt8>?, floats: Bool = true, threads: Int = 1) -> [Float] {
                    var sums = [Int32](repeating: 0, count: m * n), out = [Float](repeating: -99, count: m * ldo)
                    operand.withUnsafeBufferPointer { b8 in halves.withUnsafeBufferPointer { b16 in sums.withUnsafeMutableBufferPointer { c in
                        out.withUnsafeMutableBufferPointer { o in
                            Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!, ldc: n,
                                          workspace: Int8GemmWorkspace(threads: threads), requantize: (fused, output: floats ? o.baseAddress! : nil, ldo: ldo),
                                          byteImage: image.map { ($0, offset: offset) })
                        }
                    } } }
                    return out
                }
                let plain = run(image: nil)
                // Two threads: with few column panels they split the row panels (a thread's first panel past row 0).
                for (floats, threads) in [(true, 1), (false, 1), (false, 2)] {
                    var image = [UInt8](repeating: 0xAB, count: m * ldo)
                    let withBytes = image.withUnsafeMutableBufferPointer { run(image: $0.baseAddress!, floats: floats, threads: threads) }
                    let label = "\(tile) \(m)x\(n)x\(k) \(range) zp \(zp) offset \(offset) extreme \(extreme) floats \(floats) threads \(threads)"
                    if floats {
                        #expect(plain.elementsEqual(withBytes) { $0.bitPattern == $1.bitPattern }, "\(label): the floats changed")
                    } else {
                        #expect(withBytes.allSatisfy { $0 == -99 }, "\(label): floats written")
                    }
                    let wrong = (0..<(m * ldo)).filter { i in image[i] != (i % ldo < n ? Int8Patches.byte(plain[i], offset: offset) : 0xAB) }
                    #expect(wrong.isEmpty, "\(label): \(wrong.count) bytes wrong, first at \(wrong.first ?? -1)")
                }
            }
        } } }
    }

    /// QLinearAdd with each operand float-coded or a byte image (A's at offset 0, B's at 128, as
    /// uint8 and int8 producers write them), its result to floats, bytes or both: every combination
    /// equals the all-float call, value for value, and writes nothing past `count`.
    @Test func qlinearAddReadsAndWritesBytes() {
        guard Int8Tile.avx2.isSupported else { print("QLinearAdd's byte images not exercised: no AVX2 on this CPU"); return }
        let a: [Float] = (0..<1003).map { i in Float((i &* 7919) % 256) }
        let b: [Float] = (0..<1003).map { i in Float((i &* 104_729) % 256 - 128) }
        let aBytes = a.map { UInt8($0) }, bBytes = b.map { UInt8($0 + 128) }
        // The last two: ratios NaN, or so large the sums pass Int32 both ways.
        let cases: [(range: QuantizedRange, zc: Float, offset: Int, ratios: (a: Float, b: Float))] =
            [(.uint8, 121, 0, (0.61, 0.37)), (.int8, -7, 128, (0.61, 0.37)), (.uint8, 3, 128, (0.61, 0.37)), (.int8, 5, 0, (0.61, 0.37)),
             (.uint8, 9, 0, (.nan, 0.37)), (.int8, 0, 128, (3e9, -3e9))]
        // `wide`: the AVX-512 joins (bytes to bytes alone) where this CPU has them; they fall back to AVX2 where
        // their figures do not allow (the int8 range at offset 0).
        let wides = CPU.hasAVX512 ? [false, true] : [false]
        for (range, zc, offset, ratios) in cases {
            for scalarB in [false, true] {
                for n in Self.lengths {
                    /// The results as floats (nil unless `floats`) and bytes (nil unless `bytes`), each with 8 values of slack.
                    func add(aFromBytes: Bool, bFromBytes: Bool, floats: Bool, bytes: Bool, wide: Bool = false) -> ([Float]?, [UInt8]?) {
                        var out = [Float](repeating: -99, count: n + 8), image = [UInt8](repeating: 0xAB, count: n + 8)
                        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in aBytes.withUnsafeBufferPointer { ua in
                            bBytes.withUnsafeBufferPointer { ub in out.withUnsafeMutableBufferPointer { o in image.withUnsafeMutableBufferPointer { im in
                                let ao: Int8Elementwise.AddOperand = aFromBytes ? .bytes(ua.baseAddress!, offset: 0) : .floats(pa.baseAddress!)
                                let bo: Int8Elementwise.AddOperand = bFromBytes ? .bytes(ub.baseAddress!, offset: 128) : .floats(pb.baseAddress!)
                                Int8Elementwise.qlinearAdd(ao, bo, bIsScalar: scalarB, count: n, zeroPoints: (131, 7, zc), ratios: ratios,
                                                           range: range, into: floats ? o.baseAddress! : nil,
                                                           byteImage: bytes ? (im.baseAddress!, offset: offset) : nil, wide: wide)
                            } } }
                        } } }
                        #expect(floats || out.allSatisfy { $0 == -99 }, "floats written though not asked")
                        return (floats ? out : nil, bytes ? image : nil)
                    }
                    let (plain, _) = add(aFromBytes: false, bFromBytes: false, floats: true, bytes: false)
                    let expected = plain!
                    for aFromBytes in [false, true] {
                        for bFromBytes in scalarB ? [false] : [false, true] {
                            for (floats, bytes) in [(true, true), (false, true), (true, false)] { for wide in wides {
                                let (got, image) = add(aFromBytes: aFromBytes, bFromBytes: bFromBytes, floats: floats, bytes: bytes, wide: wide)
                                let label = "\(range) zc \(zc) offset \(offset) ratios \(ratios) scalar B \(scalarB) length \(n) A bytes \(aFromBytes) B bytes \(bFromBytes) floats \(floats) wide \(wide)"
                                if let got {
                                    #expect(got.elementsEqual(expected) { $0.bitPattern == $1.bitPattern }, "\(label): the floats differ")
                                }
                                if let image {
                                    #expect((0..<n).allSatisfy { image[$0] == Int8Patches.byte(expected[$0], offset: offset) }, "\(label): bytes differ")
                                    #expect(image[n...].allSatisfy { $0 == 0xAB }, "\(label): wrote past the end")
                                }
                            } }
                        }
                    }
                }
            }
        }
    }
}
