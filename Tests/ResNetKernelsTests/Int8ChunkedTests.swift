import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// The tap-major conv run chunk by chunk (Int8ChunkedConv) against the naive twin's channel-major
/// operand with the separate requantization: outputs equal exactly, on every SIMD tile this CPU
/// runs, at 1 to 4 threads (each its own chunks, claimed), over Int8TapMajorTests' geometries and
/// larger ones with many chunks, K past one slice and a last chunk shorter than the others, and
/// from a byte image (the floats all NaN) where the channels fill whole words. Nothing is
/// written past the output.
struct Int8ChunkedTests {
    typealias Case = Int8TapMajorTests.Case

    static let cases: [Case] = Int8TapMajorTests.cases + [
        Case(c: 64, h: 23, w: 56, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1),
        Case(c: 3, h: 45, w: 60, kh: 7, kw: 7, sh: 2, sw: 2, pad: 3, dilation: 1),
        Case(c: 16, h: 30, w: 30, kh: 3, kw: 3, sh: 2, sw: 2, pad: 1, dilation: 1),
        // Pointwise at stride 1: on AVX2, B read in place from the image (readsInPlace), with many
        // chunks, K in two slices (800), an odd channel count (a padding channel), and a width that
        // keeps the copy (7: rows of 7 words start off the 32-byte grid).
        Case(c: 64, h: 40, w: 56, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1),
        Case(c: 800, h: 12, w: 16, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1),
        Case(c: 5, h: 8, w: 12, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1),
        Case(c: 48, h: 9, w: 7, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1),
    ]

    /// Which chunked convs read B in place: AVX2 pointwise stride-1 unpadded convs whose rows and
    /// chunks start on 8-word boundaries; every other one copies its chunks.
    @Test func readsInPlaceOnlyWhereTheImageIsB() {
        func chunked(_ c: Case, _ tile: Int8Tile = .avx2) -> Int8ChunkedConv? { Int8TapMajor(c.geometry, tile: tile).map { Int8ChunkedConv($0, threads: 2) } }
        let pointwise = Case(c: 256, h: 56, w: 56, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1)
        #expect(chunked(pointwise)?.readsInPlace == true)
        #expect(chunked(Case(c: 48, h: 9, w: 7, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1))?.readsInPlace == false)
        #expect(chunked(Case(c: 256, h: 56, w: 56, kh: 1, kw: 1, sh: 2, sw: 2, pad: 0, dilation: 1))?.readsInPlace == false)
        #expect(chunked(Case(c: 256, h: 56, w: 56, kh: 1, kw: 1, sh: 1, sw: 1, pad: 1, dilation: 1))?.readsInPlace == false)
        #expect(chunked(Case(c: 64, h: 56, w: 56, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1))?.readsInPlace == false)
        // VNNI copies (6 channels: a pointwise conv with a VNNI tap-major plan).
        let vnni = Case(c: 6, h: 56, w: 56, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1)
        #expect(chunked(vnni, .vnni)?.readsInPlace == false && chunked(vnni)?.readsInPlace == true)
        // Chunks whose positions are not a multiple of 8 (28 wide, 7 rows on 4 threads) copy; 16 rows (1 thread) do not.
        let narrow = Int8TapMajor(Case(c: 256, h: 28, w: 28, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1).geometry, tile: .avx2)!
        let odd = Int8ChunkedConv(narrow, threads: 4), even = Int8ChunkedConv(narrow, threads: 1)
        #expect(odd.rows == 7 && !odd.readsInPlace, "\(odd.rows) rows")
        #expect(even.rows % 2 == 0 && even.readsInPlace, "\(even.rows) rows")
    }

    @Test(arguments: cases)
    func equalsTheWholeOperand(_ c: Case) {
        let g = c.geometry, k = g.channels * g.kernelH * g.kernelW, n = g.outH * g.outW
        let image = Int8GemmTests.values(g.channels * g.height * g.width, seed: 15, as: UInt8.self).enumerated().map { i, v -> Float in
            i % 17 == 5 ? .nan : i % 19 == 7 ? -3.5 : i % 23 == 9 ? 300 : i % 29 == 11 ? 254.9 : Float(v)
        }
        for m in [7, 40] {
            let weights = Int8GemmTests.values(m * k, seed: 16, as: Int8.self), wzp = [Int32](repeating: 0, count: m)
            let expected = Int8TapMajorTests.run(g, image: image, weights: weights, m: m, tile: .reference, tapMajor: nil, wzp: wzp, threads: 1).1
            for tile in [Int8Tile.vnni, .avx2, .avx2Bytes] where tile.isSupported {
                guard let tapMajor = Int8TapMajor(g, tile: tile) else { continue }
                let ordered = weights.withUnsafeBufferPointer { tapMajor.reorderedWeights($0.baseAddress!, m: m) }
                let packed = ordered.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: m, k: tapMajor.k, tile: tile) }
                let r = Requantization(multiplier: (0..<m).map { 0.0007 + Float($0) * 0.0003 }, bias: (0..<m).map { Int32($0 * 37 - 100) },
                                       weightRowSums: packed.rowSums, weightZeroPoints: wzp, inputZeroPoint: 117, outputZeroPoint: 5,
                                       range: .uint8, k: tapMajor.k)
                guard let fused = Int8FusedRequantization(r) else { Issue.record("declined with zero weight zero points"); return }
                for threads in 1...4 {
                    let chunked = Int8ChunkedConv(tapMajor, threads: threads)
                    #expect(chunked.rows >= 1 && chunked.rows <= g.outH)
                    #expect(chunked.chunkLayout.count * (tile == .avx2 ? 2 : 1) <= Int8ChunkedConv.chunkBytes || chunked.rows == 1)
                    // Every buffer with a guard of `guardCount` sentinels past what the chunks may use.
                    let operand = chunked.chunkLayout.count * threads, guardCount = 64
                    var plane = [UInt8](repeating: 0x5A, count: tapMajor.planeBytes + guardCount)
                    var words = [UInt32](repeating: 0xDEAD_BEEF, count: tapMajor.wordCount + guardCount)
                    var bytes = [UInt8](repeating: 0xEE, count: operand + guardCount), halves = [Int16](repeating: -1, count: operand + guardCount)
                    var sums = [Int32](repeating: 0, count: m * n), got = [Float](repeating: -99, count: m * n + 1)
                    image.withUnsafeBufferPointer { x in plane.withUnsafeMutableBufferPointer { p in words.withUnsafeMutableBufferPointer { wd in
                        bytes.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
                            sums.withUnsafeMutableBufferPointer { s in got.withUnsafeMutableBufferPointer { o in
                                chunked.run(x.baseAddress!, offset: 0, pad: 117, weights: packed, requantize: fused, output: o.baseAddress!,
                                            plane: p.baseAddress!, words: wd.baseAddress!, bytes: b8.baseAddress!, halves: b16.baseAddress!,
                                            sums: s.baseAddress!, threads: threads)
                            } }
                        } }
                    } } }
                    let differing = (0..<(m * n)).filter { got[$0] != expected[$0] }.count
                    #expect(differing == 0, "\(tile) \(c) M \(m) threads \(threads) (\(chunked.rows) rows a chunk): \(differing) outputs differ")
                    #expect(got[m * n] == -99, "\(tile) \(c) wrote past the output")
                    let guarded = plane[tapMajor.planeBytes...].allSatisfy { $0 == 0x5A } && words[tapMajor.wordCount...].allSatisfy { $0 == 0xDEAD_BEEF }
                        && bytes[operand...].allSatisfy { $0 == 0xEE } && halves[operand...].allSatisfy { $0 == -1 }
                    #expect(guarded, "\(tile) \(c) threads \(threads) wrote past a scratch buffer")
                    // From a byte image (whole groups of channels), the floats all NaN so never read.
                    guard g.channels % tile.kStep == 0 else { continue }
                    var byteImage = [UInt8](repeating: 0, count: image.count), fromBytes = [Float](repeating: -99, count: m * n)
                    let poisoned = [Float](repeating: .nan, count: image.count)
                    image.withUnsafeBufferPointer { x in byteImage.withUnsafeMutableBufferPointer {
                        Int8Patches.bytes(x.baseAddress!, count: image.count, offset: 0, tile: .reference, into: $0.baseAddress!)
                    } }
                    poisoned.withUnsafeBufferPointer { x in plane.withUnsafeMutableBufferPointer { p in words.withUnsafeMutableBufferPointer { wd in
                        bytes.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in
                            sums.withUnsafeMutableBufferPointer { s in fromBytes.withUnsafeMutableBufferPointer { o in byteImage.withUnsafeBufferPointer { bi in
                                chunked.run(x.baseAddress!, offset: 0, pad: 117, weights: packed, requantize: fused, output: o.baseAddress!,
                                            plane: p.baseAddress!, words: wd.baseAddress!, bytes: b8.baseAddress!, halves: b16.baseAddress!,
                                            sums: s.baseAddress!, threads: threads, byteImage: bi.baseAddress!)
                            } } }
                        } }
                    } } }
                    #expect(fromBytes == expected, "\(tile) \(c) threads \(threads) from a byte image: outputs differ")
                }
            }
        }
    }

    /// The chunking chosen for resnet50's int8 convs on this project's machine (VNNI, 2 threads).
    @Test func chunksResnetShapes() {
        func rows(c: Int, hw: Int, k: Int, stride: Int, threads: Int) -> Int? {
            let pad = k / 2, out = (hw + 2 * pad - k) / stride + 1
            let g = ConvGeometry(channels: c, height: hw, width: hw, kernelH: k, kernelW: k, strideH: stride, strideW: stride,
                                 padTop: pad, padLeft: pad, dilationH: 1, dilationW: 1, outH: out, outW: out)
            return Int8TapMajor(g, tile: .vnni).map { Int8ChunkedConv($0, threads: threads).rows }
        }
        // layer1's 3x3: 4 rows of 56 (224 positions, 7 full panels; 14 chunks, 7 per thread).
        #expect(rows(c: 64, hw: 56, k: 3, stride: 1, threads: 2) == 4)
        // layer2's on 1 thread: 8 rows of 28 (7 full panels; chunks of 8, 8, 8 and 4 rows), not 7 (88% filled).
        #expect(rows(c: 128, hw: 28, k: 3, stride: 1, threads: 1) == 8)
        // The stem on 2 threads: 8 rows of 112 (28 full panels; 14 chunks, 7 per thread).
        #expect(rows(c: 3, hw: 224, k: 7, stride: 2, threads: 2) == 8)
    }

    /// The pointwise conv run chunk by chunk (Int8ChunkedPointwise, VNNI and AVX2 on bytes) against the twin: positions
    /// around the 32-column tile and several chunks with a short last one, channels around one word
    /// and past one 512 slice, 1-4 threads; nothing written past the output. And the same from the
    /// image's bytes (a byte image, Planner+ByteImages.swift) with x all NaN, so never read.
    @Test func pointwiseEqualsTheTwin() {
        for tile in [Int8Tile.vnni, .avx2Bytes] {
            guard tile.isSupported else { print("chunked pointwise int8 conv not exercised on \(tile): not on this CPU"); continue }
            for (channels, h, w) in [(4, 1, 1), (8, 1, 31), (68, 4, 8), (68, 3, 11), (256, 7, 33), (516, 5, 20), (96, 56, 56)] {
                let g = ConvGeometry(channels: channels, height: h, width: w, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1,
                                     padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: h, outW: w)
                let n = h * w
                let image = Int8GemmTests.values(channels * n, seed: 25, as: UInt8.self).enumerated().map { i, v -> Float in
                    i % 17 == 5 ? .nan : i % 19 == 7 ? -3.5 : i % 23 == 9 ? 300 : Float(v)
                }
                for m in [7, 40] {
                    let weights = Int8GemmTests.values(m * channels, seed: 26, as: Int8.self), wzp = [Int32](repeating: 0, count: m)
                    let expected = Int8TapMajorTests.run(g, image: image, weights: weights, m: m, tile: .reference, tapMajor: nil, wzp: wzp, threads: 1).1
                    let packed = weights.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: m, k: channels, tile: tile) }
                    let r = Requantization(multiplier: (0..<m).map { 0.0007 + Float($0) * 0.0003 }, bias: (0..<m).map { Int32($0 * 37 - 100) },
                                           weightRowSums: packed.rowSums, weightZeroPoints: wzp, inputZeroPoint: 117, outputZeroPoint: 5,
                                           range: .uint8, k: channels)
                    guard let fused = Int8FusedRequantization(r) else { Issue.record("declined with zero weight zero points"); return }
                    for threads in 1...4 {
                        guard let chunked = Int8ChunkedPointwise(channels: channels, positions: n, threads: threads, tile: tile) else {
                            Issue.record("declined \(channels) channels"); continue
                        }
                        #expect(chunked.columns % 32 == 0 && chunked.columns >= 32)
                        let planeBytes = chunked.chunkPlaneBytes * threads, operandBytes = chunked.chunkLayout.count * threads
                        var plane = [UInt8](repeating: 0xAB, count: planeBytes + 64)
                        var operand = [UInt8](repeating: 0xEE, count: operandBytes + 64), halves = [Int16](repeating: 0, count: 1)
                        var sums = [Int32](repeating: 0, count: m * n), got = [Float](repeating: -99, count: m * n + 1)
                        image.withUnsafeBufferPointer { x in plane.withUnsafeMutableBufferPointer { p in operand.withUnsafeMutableBufferPointer { b in
                            halves.withUnsafeMutableBufferPointer { h in sums.withUnsafeMutableBufferPointer { s in got.withUnsafeMutableBufferPointer { o in
                                chunked.run(x.baseAddress!, offset: 0, weights: packed, requantize: fused, output: o.baseAddress!, plane: p.baseAddress!,
                                            operand: b.baseAddress!, halves: h.baseAddress!, sums: s.baseAddress!, threads: threads)
                            } } }
                        } } }
                        let differing = (0..<(m * n)).filter { got[$0] != expected[$0] }.count
                        #expect(differing == 0, "C \(channels) N \(n) M \(m) threads \(threads) (\(chunked.columns) a chunk): \(differing) outputs differ")
                        #expect(got[m * n] == -99, "C \(channels) N \(n) wrote past the output")
                        #expect(plane[planeBytes...].allSatisfy { $0 == 0xAB } && operand[operandBytes...].allSatisfy { $0 == 0xEE },
                                "C \(channels) N \(n) threads \(threads) wrote past a scratch buffer")
                        // From the image's bytes (its producer's byte image) instead: x is never read (all NaN here).
                        var byteImage = [UInt8](repeating: 0, count: channels * n)
                        image.withUnsafeBufferPointer { x in byteImage.withUnsafeMutableBufferPointer {
                            Int8Patches.bytes(x.baseAddress!, count: channels * n, offset: 0, tile: .reference, into: $0.baseAddress!)
                        } }
                        let poisoned = [Float](repeating: .nan, count: channels * n)
                        var fromBytes = [Float](repeating: -99, count: m * n + 1)
                        poisoned.withUnsafeBufferPointer { x in plane.withUnsafeMutableBufferPointer { p in operand.withUnsafeMutableBufferPointer { b in
                            halves.withUnsafeMutableBufferPointer { h in sums.withUnsafeMutableBufferPointer { s in fromBytes.withUnsafeMutableBufferPointer { o in
                                byteImage.withUnsafeBufferPointer { bi in
                                    chunked.run(x.baseAddress!, offset: 0, weights: packed, requantize: fused, output: o.baseAddress!, plane: p.baseAddress!,
                                                operand: b.baseAddress!, halves: h.baseAddress!, sums: s.baseAddress!, threads: threads, byteImage: bi.baseAddress!)
                                }
                            } } }
                        } } }
                        let differingFromBytes = (0..<(m * n)).filter { fromBytes[$0] != expected[$0] }.count
                        #expect(differingFromBytes == 0 && fromBytes[m * n] == -99,
                                "C \(channels) N \(n) M \(m) threads \(threads) from a byte image: \(differingFromBytes) outputs differ")
                    }
                }
            }
        }
        #expect(Int8ChunkedPointwise(channels: 6, positions: 10, threads: 1) == nil)
        #expect(Int8ChunkedPointwise(channels: 8, positions: 10, threads: 1, tile: .avx2) == nil)
    }
}
