import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// A pointwise conv's operand on a tile of byte groups (Int8Patches.unfold, no tap-major plan):
/// converted from the float-coded input, or interleaved straight from its byte image
/// (Int8Patches.readsByteImage: whole groups of 4 channels, the operand not zeroed first),
/// into an operand left dirty by an earlier conv, equals Int8Gemm.interleave's of the same bytes,
/// every element; 4-12 channels, planes not a multiple of the tile's 32 columns, 1-4 threads.
struct Int8PointwiseOperandTests {
    @Test(arguments: [4, 8, 12])
    func operandEqualsTheInterleavedBytes(channels: Int) {
        for tile in [Int8Tile.vnni, .avx2Bytes] where tile.isSupported {
            for (h, w) in [(5, 7), (1, 1), (8, 4)] {
                let g = ConvGeometry(channels: channels, height: h, width: w, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padTop: 0,
                                     padLeft: 0, dilationH: 1, dilationW: 1, outH: h, outW: w)
                #expect(Int8Patches.readsByteImage(g, tile: tile))
                let n = h * w, offset = 0
                let values = (0..<(channels * n)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
                let x = values.map(Float.init)
                let layout = Int8BLayout(k: channels, n: n, tile: tile)
                var expected = [UInt8](repeating: 0, count: layout.count), unused = [Int16](repeating: 0, count: layout.count)
                values.withUnsafeBufferPointer { b in expected.withUnsafeMutableBufferPointer { e in unused.withUnsafeMutableBufferPointer { u in
                    Int8Gemm.interleave(b.baseAddress!, ldb: n, layout: layout, bytes: e.baseAddress!, halves: u.baseAddress!)
                } } }
                for threads in 1...4 {
                    for fromImage in [false, true] {
                        var operand = [UInt8](repeating: 0xEE, count: layout.count), halves = [Int16](repeating: -1, count: layout.count)
                        var plane = [UInt8](repeating: 0, count: channels * n)
                        x.withUnsafeBufferPointer { xp in values.withUnsafeBufferPointer { image in
                            operand.withUnsafeMutableBufferPointer { o in halves.withUnsafeMutableBufferPointer { hv in plane.withUnsafeMutableBufferPointer { pl in
                                Int8Patches.unfold(xp.baseAddress!, g, offset: offset, pad: 0, layout: layout, plane: pl.baseAddress!, bytes: o.baseAddress!,
                                                   halves: hv.baseAddress!, threads: threads, byteImage: fromImage ? image.baseAddress! : nil)
                            } } }
                        } }
                        let differ = zip(operand, expected).filter { $0 != $1 }.count
                        #expect(differ == 0, "\(tile) \(channels) channels \(h)x\(w) threads \(threads) from image \(fromImage): \(differ) bytes differ")
                    }
                }
            }
        }
    }
}
