import ResNetKernels
import ResNetKernelsInt8
import ResNetKernelsReference

/// A QLinearConv prepared for an integer tile (Planner.qlinearConv): x [N, C, H, W] and y
/// [N, M, Ho, Wo] float-coded (each 8-bit value in an element of T, `offset` making it a byte),
/// weights packed per group at plan time with their requantization, the operand built per
/// image (patches, tap-major words, or chunk by chunk), the tile requantizing in registers
/// where it can (`fused`), and byte images read and written where the planner arranged them.
struct QLinearConvStep<T: ExecScalar> {
    let x: Int, y: Int
    /// x's shape [N, C, H, W].
    let xs: [Int]
    let g: ConvGeometry
    /// Output channels, and a group's.
    let m: Int, mg: Int, group: Int
    /// Per group: the packed weights and the requantization of its rows.
    let perGroup: [(Int8ProductWeights, Requantization)]
    /// Per group: the tile's own requantization, where every weight zero point is 0 (float32 plans).
    let fused: [Int8FusedRequantization?]
    let tile: Int8Tile
    let layout: Int8BLayout
    let tapMajor: Int8TapMajor?
    let chunked: Int8ChunkedConv?
    let pointwise: Int8ChunkedPointwise?
    /// What makes x's values bytes, and x's zero point as a byte (the padding).
    let offset: Int, xzp: Int32
    /// A byte image of x to read instead of its floats, and the offer of y's the step writes.
    let xBytes: Int?, yBytes: ByteImageOffer?
    let scratch: Int8Scratch

    var plane: Int { g.outH * g.outW }

    func perform(on p: ExecutionPlanOf<T>) {
        let plane = self.plane
        for img in 0..<xs[0] {
            for gi in 0..<group {
                let (packed, requantize) = perGroup[gi]
                let image = UnsafePointer(p.pointer(x) + (img * xs[1] + gi * g.channels) * g.height * g.width)
                let outputOffset = (img * m + gi * mg) * plane
                // Byte images have their tensors' layouts, a byte per value: this image's group at the same offsets.
                let imageBytes = xBytes.map { UnsafePointer(p.bytes($0)) + (img * xs[1] + gi * g.channels) * g.height * g.width }
                let outputBytes = yBytes.flatMap { offer in offer.tensor.map { (p.bytes($0) + outputOffset, offset: offer.offset) } }
                let outputFloats = yBytes?.floatsWritten == false ? nil : p.f32(y) + outputOffset
                if pointwise != nil || chunked != nil {
                    // The scratch was reserved for chunks only: these convs never take the whole-operand path.
                    guard case let .rows(weights) = packed, let f = fused[gi] else { preconditionFailure("a chunked conv without the tile's requantization") }
                    if let pointwise {
                        pointwise.run(image, offset: offset, weights: weights, requantize: f, output: outputFloats, plane: scratch.plane,
                                      operand: scratch.bytes, halves: scratch.halves, sums: scratch.accumulators, threads: scratch.workspace.threads,
                                      byteImage: imageBytes, outputBytes: outputBytes)
                    } else if let chunked {
                        chunked.run(image, offset: offset, pad: UInt8(xzp), weights: weights, requantize: f, output: outputFloats,
                                    plane: scratch.plane, words: scratch.words, bytes: scratch.bytes, halves: scratch.halves,
                                    sums: scratch.accumulators, threads: scratch.workspace.threads, byteImage: imageBytes, outputBytes: outputBytes)
                    }
                    continue
                }
                Int8Patches.unfold(image, g, offset: offset, pad: UInt8(xzp), layout: layout, plane: scratch.plane,
                                   bytes: scratch.bytes, halves: scratch.halves, tapMajor: tapMajor, words: scratch.words,
                                   threads: scratch.workspace.threads, byteImage: imageBytes)
                // (The accumulators hold 2 x mg x plane sums for the channels packing: reserved above for `transposed`.)
                packed.gemm(layout: layout, bytes: scratch.bytes, halves: scratch.halves, c: scratch.accumulators, ldc: plane,
                            workspace: scratch.workspace, requantize: fused[gi].map { ($0, output: outputFloats, ldo: plane) },
                            byteImage: outputBytes)
                if fused[gi] != nil { continue }
                if requantize.needsColumnSums {
                    Int8Patches.columnSums(layout: layout, bytes: scratch.bytes, halves: scratch.halves, into: scratch.columnSums)
                }
                // Output channels split over the threads: each requantizes its own rows.
                let threads = max(1, min(scratch.workspace.threads, mg)), out = p.pointer(y) + outputOffset
                let rowsOf = { (t: Int) in (mg * t / threads)..<(mg * (t + 1) / threads) }
                let work = { (t: Int) in
                    Int8Requantize.apply(requantize, scratch.accumulators, ldc: plane, rows: rowsOf(t), n: plane,
                                         columnSums: scratch.columnSums, into: out, ldo: plane, tile: tile)
                }
                if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
            }
        }
    }
}

/// A QLinearMatMul or QGemm prepared for an integer tile (Planner.qlinearMatMul): a [rows, K]
/// float-coded, B the weights as W [M, K] packed at plan time (or as they stand, for the AVX2
/// GEMV at one row), y [rows, M] requantized (or float, for a QGemm without y_scale).
struct QLinearMatMulStep<T: ExecScalar> {
    let a: Int, y: Int
    let rows: Int, k: Int, m: Int
    /// What makes a's values bytes, and its zero point as a byte.
    let offset: Int, azp: Int32
    let layout: Int8BLayout
    /// The tiles' packed weights; nil for the GEMV, which reads `values` [M, K].
    let packed: Int8ProductWeights?
    let values: [Int8]
    let requantize: Requantization
    let floatOutput: Bool
    let scratch: Int8Scratch

    func perform(on p: ExecutionPlanOf<T>) {
        // The B operand: aᵀ [K, rows] as bytes, then (for the tiles) interleaved.
        let src = p.pointer(a)
        for r in 0..<rows { for q in 0..<k { scratch.plane[q * rows + r] = Int8Patches.byte(src[r * k + q], offset: offset) } }
        if let packed {
            Int8Gemm.interleave(scratch.plane, ldb: rows, layout: layout, bytes: scratch.bytes, halves: scratch.halves)
            // (The accumulators hold 2 x m x rows sums for the channels packing: reserved above for `transposed`.)
            packed.gemm(layout: layout, bytes: scratch.bytes, halves: scratch.halves, c: scratch.accumulators, ldc: rows, workspace: scratch.workspace)
            if requantize.needsColumnSums {
                Int8Patches.columnSums(layout: layout, bytes: scratch.bytes, halves: scratch.halves, into: scratch.columnSums)
            }
        } else {
            values.withUnsafeBufferPointer { w in
                Int8Gemv.run(weights: w.baseAddress!, ldw: k, m: m, k: k, x: scratch.plane, into: scratch.accumulators,
                             threads: scratch.workspace.threads)
            }
            // The one column's sum, where weight zero points need it (as Int8Patches.columnSums).
            if requantize.needsColumnSums { scratch.columnSums[0] = (0..<k).reduce(Int32(0)) { $0 &+ Int32(scratch.plane[$1]) } }
        }
        let out = p.pointer(y), acc = scratch.accumulators
        if floatOutput {
            let kazp = Int32(truncatingIfNeeded: k) &* azp
            for j in 0..<m {
                let constant = requantize.bias[j] &- azp &* requantize.weightRowSums[j] &+ kazp &* requantize.weightZeroPoints[j]
                for r in 0..<rows {
                    var v = acc[j * rows + r] &+ constant
                    if requantize.needsColumnSums { v = v &- requantize.weightZeroPoints[j] &* scratch.columnSums[r] }
                    out[r * m + j] = T(Float(v) * requantize.multiplier[j])
                }
            }
        } else {
            // acc [M, rows] requantized into y [rows, M]: written transposed.
            requantize.apply(acc, ldc: rows, rows: 0..<m, n: rows, columnSums: scratch.columnSums, into: out, ldo: 1, columnStride: m)
        }
    }
}
